/* SPDX-License-Identifier: MIT */
/*
 * Helpers for every side (common/util.c): messages on stderr, EINTR-safe
 * I/O, small file helpers.  None ends the process: only supervisor/ does,
 * through die().
 */
#ifndef RINGFENCE_COMMON_UTIL_H
#define RINGFENCE_COMMON_UTIL_H

#include <stdbool.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#include "macros.h"

extern int verbosity;
/*
 * Messages on stderr: "ringfence: " and one line.  A path or a name in one
 * may be the sandbox's to choose (a file it made, a host it asked for):
 * its control bytes, C0, DEL and C1 (raw, or in UTF-8), are written as
 * \xNN, so that no escape sequence of the sandbox's reaches the
 * operator's terminal.  Valid UTF-8 is kept.
 */
_printf_(1, 2) void warn(const char *fmt, ...);
_printf_(1, 2) void note(const char *fmt, ...); /* only at -v */
void say_line(const char *fmt, va_list ap);
/* Messages (and --log -'s events) go to stderr; between
 * say_nonblocking(true) and (false) they never wait for it (util.c says
 * why): what cannot be written at once is queued, past 64 KiB dropped and
 * counted; (false) writes the queue and says how many were dropped. */
void say_nonblocking(bool on);
/* In a child of the supervisor's: its lines sent to FD, as records the
 * supervisor says (a byte 1, the line, NUL). */
void say_relay_to(int fd);
/* stderr when lines are queued for it (to poll for POLLOUT), else -1. */
int say_pending_fd(void);
/* Writes what of the queue stderr takes now. */
void say_flush(void);
/* Writes the whole of BUF (a message's line) where messages go. */
void say_write(const char *buf, size_t n);
/* IN with its control bytes written as \xNN, into OUT (SIZE bytes, ended
 * by NUL, what does not fit left out): the length written. */
size_t text_escape(const char *in, char *out, size_t size);
int write_all(int fd, const void *buf, size_t n);
int read_all(int fd, void *buf, size_t n); /* 0, or -errno; -EPIPE on early EOF */
/* Up to N bytes of FD into BUF, until N, the end of file or an error: how
 * many.  Inline: the proxy's files are built alone, for the fuzzers. */
static inline size_t read_upto(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}
int write_file(const char *path, const char *text);
int mkdir_p(const char *path, mode_t mode);
int rm_rf(const char *path);
/* CLOCK_MONOTONIC in milliseconds. */
long monotonic_ms(void);
/* Once the start is done: free heap and unused stack pages given back. */
void memory_trim(void);
/* Memory mapped for one step and unmapped after (zeroed; NULL when it
 * cannot be had), not a heap block: for init, which writes nothing in the
 * heap it shares with the supervisor since the fork, where each page
 * written becomes a copy of its own, per sandbox (sandbox/README.md). */
void *scratch_map(size_t n);
void scratch_unmap(void *p, size_t n);
/* A structure of the supervisor's own that it writes while the sandbox
 * idles (zeroed; NULL when it cannot be had), mapped apart from the heap
 * and unmapped in init at its fork (own_forget()); own_unmap() frees it. */
void *own_map(size_t n);
void own_unmap(void *p);
void own_forget(void);
/* memory_trim() a second from now, *DUE its deadline (0: none); a
 * process's loop calls the two below: the poll timeout, the sooner of
 * TIMEOUT (-1: none) and the trim's; then, with what poll returned, the
 * trim once it is due (the first, work or not); once the first is done,
 * work makes another due a quiet second after it. */
void memory_trim_later(long *due);
int memory_trim_timeout(const long *due, int timeout);
void memory_trim_woken(long *due, int ready);
/* REL opened beneath DIR, no symlink followed in any component: -errno. */
int open_beneath_nofollow(int dir, const char *rel, int flags);
/* A stream over DIR's NAME ("." for DIR itself, an O_PATH descriptor or
 * not), opened with FLAGS added (O_NOFOLLOW); NULL, errno set. */
DIR *dir_stream_at(int dir, const char *name, int flags);
/* PATH relative to DIR ("" when equal), or NULL when not beneath it. */
const char *path_beneath(const char *path, const char *dir);
/* SipHash-2-4 of the N bytes at DATA under the 16-byte KEY. */
uint64_t siphash24(const unsigned char key[16], const void *data, size_t n);

#endif
