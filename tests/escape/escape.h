/* SPDX-License-Identifier: MIT */
/*
 * Shared by the escape programs.  Each attack is made for real, with valid
 * arguments: success means the sandbox was escaped.  A program prints one
 * line per attack and exits 0 only when every attack failed.
 */
#ifndef RINGFENCE_ESCAPE_H
#define RINGFENCE_ESCAPE_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int escapes;

/* The value of KEY=VALUE among the arguments, or NULL. */
static inline const char *arg(int argc, char **argv, const char *key)
{
	size_t n = strlen(key);
	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=')
			return argv[i] + n + 1;
	return NULL;
}

#define ATTACK(name, expr)                                                                         \
	do {                                                                                       \
		errno = 0;                                                                         \
		long _r = (long)(expr);                                                            \
		if (_r >= 0) {                                                                     \
			printf("ESCAPED: %s\n", name);                                             \
			escapes++;                                                                 \
		} else {                                                                           \
			printf("blocked: %s (%s)\n", name, strerror(errno));                       \
		}                                                                                  \
	} while (0)

/* For calls the seccomp filter must answer itself: EPERM, or ENOSYS. */
#define ATTACK_SECCOMP(name, expr)                                                                 \
	do {                                                                                       \
		errno = 0;                                                                         \
		long _r = (long)(expr);                                                            \
		if (_r >= 0 || (errno != EPERM && errno != ENOSYS)) {                              \
			printf("ESCAPED: %s reached the kernel (%ld, %s)\n", name, _r,             \
			       strerror(errno));                                                   \
			escapes++;                                                                 \
		} else {                                                                           \
			printf("blocked: %s (%s)\n", name, strerror(errno));                       \
		}                                                                                  \
	} while (0)

#define ESCAPE_DONE()                                                                              \
	do {                                                                                       \
		printf("%d escape(s)\n", escapes);                                                 \
		return escapes ? 1 : 0;                                                            \
	} while (0)

#endif
