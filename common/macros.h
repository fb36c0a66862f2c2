/* SPDX-License-Identifier: MIT */
/*
 * Header-only helpers shared by every folder: cleanup attributes, ownership
 * hand-off and small utilities.  Nothing here makes a syscall of its own
 * except close(), so policy/ may include it too.
 */
#ifndef RINGFENCE_COMMON_MACROS_H
#define RINGFENCE_COMMON_MACROS_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Around a constant table whose strings are char arrays rather than
 * pointers (supervisor.h's struct sc_entry says why): a string that fills
 * its array exactly leaves no room for its NUL, which C allows without a
 * word; gcc's warning for C++ compatibility is the one that says so, made
 * an error here (clang 14 takes the pragma but does not warn: ringfence is
 * built with gcc, and only the fuzzers with clang). */
#define STRING_TABLE_BEGIN                                                                         \
	_Pragma("GCC diagnostic push") _Pragma("GCC diagnostic error \"-Wc++-compat\"")
#define STRING_TABLE_END _Pragma("GCC diagnostic pop")

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(const int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

#define _cleanup_(f) __attribute__((cleanup(f)))

#include <dirent.h>
static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
#define _cleanup_free_	_cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _noreturn_	__attribute__((noreturn))
#define _printf_(a, b)	__attribute__((format(printf, a, b)))
#define _unused_	__attribute__((unused))

/* Hand ownership of a cleanup-managed pointer or fd to the caller. */
static inline void *steal_ptr_impl(void **p)
{
	void *v = *p;
	*p = NULL;
	return v;
}
#define steal_ptr(p) steal_ptr_impl((void **)(p))

static inline int steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

/* Retry a libc call interrupted by a signal. */
#define RETRY_EINTR(expr)                                                                          \
	({                                                                                         \
		__typeof__(expr) _r;                                                               \
		do                                                                                 \
			_r = (expr);                                                               \
		while (_r == -1 && errno == EINTR);                                                \
		_r;                                                                                \
	})

/* A hex digit's value (capitals too: git's refs, JSON's and TOML's
 * escapes, percent-encoding, chunk sizes), or -1. */
static inline int hex_value(int c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

#endif
