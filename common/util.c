/* SPDX-License-Identifier: MIT */
/* warn/note, EINTR-safe I/O, small file helpers, for every side (die() is
 * supervisor/util.c: only supervisor/ ends the process). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <dirent.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "utf8.h"
#include "util.h"

int verbosity;

/* The length of the UTF-8 sequence at S (N bytes left) a terminal shows
 * as a character: 0 for a byte that is no such sequence's start, or one
 * that decodes to a control (C1, U+0080..U+009F, which terminals obey as
 * ESC and a letter), a bidirectional formatting character, an overlong
 * form or a surrogate. */
static size_t utf8_shown(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xf0 && s[0] <= 0xf4   ? 4
		     : s[0] >= 0xe0 && s[0] <= 0xef ? 3
		     : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
						    : 0;
	unsigned cp;

	if (!len || len > n)
		return 0;
	cp = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < 0xa0 || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || utf8_reorders(s, len))
		return 0;
	return len;
}

size_t text_escape(const char *in, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = strlen(in), o = 0;

	for (size_t i = 0; i < n && size;) {
		size_t k = s[i] >= 0x80 ? utf8_shown(s + i, n - i) : (s[i] >= 0x20 && s[i] != 0x7f);
		if (k) {
			if (o + k >= size)
				break;
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		if (o + 4 >= size)
			break;
		o += (size_t)snprintf(out + o, size - o, "\\x%02x", s[i++]);
	}
	if (size)
		out[o < size ? o : size - 1] = '\0';
	return o;
}

/*
 * While the sandbox runs, the supervisor must never wait on its own
 * messages: the command shares the operator's terminal, and may remap
 * its stop character (VSTOP, with IXON) to one the operator types, whose
 * output then stops and every write to it waits (an outside review: the
 * supervisor's next warning froze it, the live protection, the proxy and
 * the notifications with it); a pipe to a pager that is not read waits
 * the same.  So a line is written only when poll() says it can be, the
 * write cut short by a timer should that change meanwhile (a terminal's
 * write waits interruptibly); what cannot be written at once is queued
 * (64 KiB), written as the file takes it (say_flush(), from the run's
 * loop), and past that dropped and counted.  (O_NONBLOCK on stderr would
 * be set for the operator's shell too, which shares the description; a
 * description of its own cannot always be opened: the terminal may be
 * another user's.)  A file never waits.
 */
static bool say_guard;
static pid_t say_owner; /* the process the guard is for */
static int say_relay = -1;
static unsigned long say_lost;
static char say_q[65536];
static size_t say_qn;

static void say_alarm(int sig)
{
	(void)sig; /* only to cut a write short */
}

/* What of BUF (N bytes) stderr takes now, without waiting: how much (N
 * when it takes nothing any more: closed, or an error). */
static size_t say_now(const char *buf, size_t n)
{
	struct pollfd p = {.fd = STDERR_FILENO, .events = POLLOUT};

	int r = poll(&p, 1, 0);
	if (r == 1 && (p.revents & (POLLERR | POLLHUP | POLLNVAL))) {
		say_lost += n != 0;
		return n;
	}
	if (r != 1 || !(p.revents & POLLOUT))
		return 0;
	struct itimerval t = {.it_value = {.tv_usec = 100000}}, off = {0};
	(void)setitimer(ITIMER_REAL, &t, NULL);
	ssize_t w = write(STDERR_FILENO, buf, n);
	(void)setitimer(ITIMER_REAL, &off, NULL);
	return w > 0 ? (size_t)w : 0;
}

void say_write(const char *buf, size_t n)
{
	/* a child of the supervisor's (the walk's process): its lines go to
	 * the supervisor, which says them as its own (one record, a byte 1
	 * first, ended by NUL, written whole: at most PIPE_BUF) */
	if (say_relay >= 0) {
		char rec[PIPE_BUF];
		size_t k = n < sizeof(rec) - 2 ? n : sizeof(rec) - 2;
		rec[0] = '\1';
		memcpy(rec + 1, buf, k);
		rec[k + 1] = '\0';
		(void)write_all(say_relay, rec, k + 2);
		return;
	}
	/* (another child: as before the guard, it waits) */
	if (!say_guard || getpid() != say_owner) {
		(void)write_all(STDERR_FILENO, buf, n);
		return;
	}
	size_t done = say_qn ? 0 : say_now(buf, n);
	if (n - done > sizeof(say_q) - say_qn) {
		say_lost++;
		return;
	}
	memcpy(say_q + say_qn, buf + done, n - done);
	say_qn += n - done;
}

void say_relay_to(int fd)
{
	say_relay = fd;
}

int say_pending_fd(void)
{
	return say_qn ? STDERR_FILENO : -1;
}

void say_flush(void)
{
	size_t w = say_qn ? say_now(say_q, say_qn) : 0;

	memmove(say_q, say_q + w, say_qn - w);
	say_qn -= w;
}

void say_nonblocking(bool on)
{
	struct sigaction sa = {.sa_handler = on ? say_alarm : SIG_DFL};
	struct stat st;

	if (!on && say_guard) {
		say_guard = false;
		(void)sigaction(SIGALRM, &sa, NULL);
		(void)write_all(STDERR_FILENO, say_q, say_qn);
		say_qn = 0;
		if (say_lost)
			warn("%lu lines could not be written to stderr while the sandbox ran (its "
			     "output stopped, or not read); an audit log ([log] file, --log) keeps "
			     "every event",
			     say_lost);
		say_lost = 0;
	} else if (on && fstat(STDERR_FILENO, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* (no SA_RESTART: the write ends with what it wrote) */
		sigemptyset(&sa.sa_mask);
		say_guard = sigaction(SIGALRM, &sa, NULL) == 0;
		say_owner = getpid();
	}
}

void say_line(const char *fmt, va_list ap)
{
	char *text = NULL;
	int n = vasprintf(&text, fmt, ap);
	/* one write for the line: "ringfence: ", each byte at most four
	 * (\xNN), the newline */
	size_t size = n >= 0 ? (size_t)n * 4 + 16 : 64;
	char *out = malloc(size);

	if (!out) {
		static const char oom[] = "ringfence: (a message: out of memory)\n";
		say_write(oom, sizeof(oom) - 1);
	} else {
		memcpy(out, "ringfence: ", 11);
		size_t len = 11 + (n >= 0 ? text_escape(text, out + 11, size - 12) : 0);
		out[len++] = '\n';
		say_write(out, len);
	}
	free(out);
	free(text);
}

void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say_line(fmt, ap);
	va_end(ap);
}

void note(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	say_line(fmt, ap);
	va_end(ap);
}

int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int read_all(int fd, void *buf, size_t n)
{
	char *p = buf;

	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EPIPE;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int write_file(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	return write_all(fd, text, strlen(text));
}

int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * DIR's entry NAME removed with what it holds, every step relative to a
 * descriptor of the directory at hand, no link followed, never past the
 * file system DEV.  nftw() was used, whose callback removes by the whole
 * path: a directory on the way that its owner (the command's user, who owns
 * a private /tmp) swapped for a link meanwhile led root's removals to any
 * directory (outside review).  Here a swap moves only what is removed
 * from the directory opened to another name of the same owner's.
 */
#define RM_DEPTH_MAX 256

static int rm_at(int dir, const char *name, dev_t dev, int depth)
{
	struct stat st;
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno != ENOTDIR && errno != ELOOP)
			return -errno;
		return unlinkat(dir, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	}
	if (fstat(fd, &st) < 0 || st.st_dev != dev || depth > RM_DEPTH_MAX) {
		close(fd);
		return -EXDEV; /* a mount point, or too deep: left */
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	int r = 0;
	struct dirent *de;
	/* one pass, each entry once: a second pass into what could not be
	 * removed made a chain of N directories 2^N walks (outside review) */
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int e = rm_at(dirfd(d), de->d_name, dev, depth + 1);
		if (e < 0 && !r)
			r = e;
	}
	closedir(d);
	if (unlinkat(dir, name, AT_REMOVEDIR) < 0 && errno != ENOENT && !r)
		r = -errno;
	return r;
}

int rm_rf(const char *path)
{
	const char *slash = strrchr(path, '/');
	char parent[PATH_MAX];
	struct stat st;

	if (!slash || !slash[1] ||
	    (size_t)snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path) >=
		sizeof(parent))
		return -EINVAL;
	_cleanup_close_ int dir = open(parent[0] ? parent : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	if (fstatat(dir, slash + 1, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	return rm_at(dir, slash + 1, st.st_dev, 0);
}

/* The lowest address of the mapping that holds ADDR (/proc/self/maps), or 0. */
static uintptr_t mapping_start(uintptr_t addr)
{
	char buf[8192];
	uintptr_t lo = 0;
	_cleanup_close_ int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	size_t have = 0;
	ssize_t n;

	if (fd < 0)
		return 0;
	/* line by line, a buffer at a time: a line is short */
	while ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		char *line = buf, *nl;
		have += (size_t)n;
		buf[have] = '\0';
		while ((nl = strchr(line, '\n'))) {
			unsigned long a, b;
			*nl = '\0';
			if (sscanf(line, "%lx-%lx", &a, &b) == 2 && addr >= a && addr < b)
				lo = a;
			line = nl + 1;
		}
		have = (size_t)(buf + have - line);
		memmove(buf, line, have);
		if (lo)
			break;
	}
	return lo;
}

/*
 * Once a process's start is done (the supervisor's, init's), the pages it
 * will not touch again are given back: free heap (malloc_trim) and the
 * stack below what is in use.  The start touches far more of both (64 KiB
 * buffers reading git configs, PATH_MAX paths in recursive walks, the
 * plan) than the waiting loop needs, and a machine running a thousand idle
 * sandboxes keeps a supervisor and an init each (bench/scale.sh
 * sandboxes).  No library gives stack pages back: MADV_DONTNEED below the
 * stack pointer, less a margin for the calls made from here, is safe in a
 * single-threaded process (nothing else runs on this stack; a signal
 * handler would only find zeroed pages, which it does not read before
 * writing).
 */
void memory_trim(void)
{
	/* this frame's own address: always on the thread's stack, where a
	 * local's may not be (a sanitizer's fake stack for use after return
	 * is a heap mapping, which this must never touch) */
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo, hi;

	/* the heap first: malloc_trim()'s frames, and mapping_start()'s
	 * buffer, are below this one, in pages given back next */
	malloc_trim(0);
	lo = mapping_start(sp);
	/* what is below this frame, less a margin for the rest of it and the
	 * call itself: syscall(2), with no frame of its own, where a
	 * sanitizer's interceptor of madvise() would have one, on pages the
	 * call gives back */
	hi = (sp - 512) & ~(page - 1);
	if (lo && hi > lo)
		(void)syscall(SYS_madvise, lo, hi - lo, MADV_DONTNEED);
}

void *scratch_map(size_t n)
{
	void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void scratch_unmap(void *p, size_t n)
{
	if (p)
		munmap(p, n ? n : 1);
}

/*
 * Init is a fork of the supervisor, and a page of memory either writes
 * after the fork is then kept twice, the copy and the original the other
 * still holds, for as long as the sandbox lives.  The structures the
 * supervisor writes while the sandbox idles (the proxy's, its sweep's
 * clock and the tags of its sockets; the protected-names watch's, its
 * walk's process and deadlines) were heap blocks on pages init shares and
 * never reads: two of the three heap pages kept twice per idle sandbox
 * (bench/scale.sh sandboxes, 4 MB for 1,000 a page).  Mapped apart
 * instead, and unmapped in init at its fork, their pages are the
 * supervisor's alone and its writes copy nothing.  The list is written
 * before the fork and only read in init.
 */
#define OWN_MAX 4
static struct {
	void *p;
	size_t n;
} own[OWN_MAX];

void *own_map(size_t n)
{
	for (size_t i = 0; i < OWN_MAX; i++)
		if (!own[i].p) {
			void *p = scratch_map(n);
			if (p)
				own[i].p = p, own[i].n = n;
			return p;
		}
	return NULL;
}

void own_unmap(void *p)
{
	for (size_t i = 0; p && i < OWN_MAX; i++)
		if (own[i].p == p) {
			scratch_unmap(p, own[i].n);
			own[i].p = NULL;
			return;
		}
}

void own_forget(void)
{
	for (size_t i = 0; i < OWN_MAX; i++)
		if (own[i].p)
			(void)munmap(own[i].p, own[i].n);
}

/*
 * The trim is put off until the process has waited TRIM_AFTER_MS: it costs
 * 0.3-1 ms a process on the machines measured here (reading
 * /proc/self/maps, malloc_trim()'s walk, the madvise() and its TLB
 * flush), and a command that ends sooner than that (a tool run, a check in
 * a script) would pay it twice, for pages its exit frees anyway.  A
 * sandbox that lives on (an agent, an idle one of a thousand) gives them
 * back a second after its command started.  The deadline is the caller's
 * (DUE, 0 for none), in memory its loop writes anyway: a static one here
 * was a page of .bss written after init's fork, kept twice per sandbox.
 */
#define TRIM_AFTER_MS 1000
/* A deadline of its own: the trim done, another owed after work; a trim
 * owed after work is due at minus its deadline. */
#define TRIM_DONE (-1L)

long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void memory_trim_later(long *due)
{
	*due = monotonic_ms() + TRIM_AFTER_MS;
}

int memory_trim_timeout(const long *due, int timeout)
{
	long left;

	if (!*due || *due == TRIM_DONE)
		return timeout;
	left = (*due < 0 ? -*due : *due) - monotonic_ms();
	if (left <= 0)
		return 0;
	return timeout >= 0 && timeout < left ? timeout : (int)left;
}

/*
 * What runs while a process idles writes its stack and heap again: an
 * event of the protected-names watch (a file made in a write grant) takes
 * 12-24 KB of frames, a burst of proxied requests its buffers and more, and
 * a thousand sandboxes in one directory, each seeing the others' files,
 * kept 28 KB of supervisor stack each where the trim had left 12-16.  So
 * once the first trim is done (a second after the command started, work
 * or not: the start's pages are many, and a command busy without pause
 * must not keep them), each wake with work (READY > 0) makes another due
 * a quiet second later, put off again by more work: a process busy
 * without pause (a repository's ticks every 250 ms, a download) pays no
 * more, one that worked and went quiet pays one per quiet spell.  A wake
 * by the timeout alone is no work.
 */
void memory_trim_woken(long *due, int ready)
{
	if (!*due)
		return; /* the start not done */
	if (ready > 0 && *due < 0) {
		*due = -(monotonic_ms() + TRIM_AFTER_MS);
		return;
	}
	if (*due == TRIM_DONE || monotonic_ms() < (*due < 0 ? -*due : *due))
		return;
	*due = TRIM_DONE;
	memory_trim();
}

/* REL opened beneath DIR, no symlink followed in any component (openat2,
 * RESOLVE_BENEATH): -errno, -ELOOP for a link. */
int open_beneath_nofollow(int dir, const char *rel, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
	};
	int fd = (int)syscall(SYS_openat2, dir, rel, &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

const char *path_beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return path + 1;
	if (strncmp(path, dir, n) != 0 || (path[n] != '/' && path[n] != '\0'))
		return NULL;
	return path[n] == '/' ? path + n + 1 : path + n;
}

DIR *dir_stream_at(int dir, const char *name, int flags)
{
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d && fd >= 0) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

/*
 * SipHash-2-4 (Aumasson and Bernstein, 2012), a keyed hash made to be a
 * MAC for short inputs.  Written here: the crash journal's witness needs a
 * keyed hash at every start (supervisor/journal.c), the only library the
 * binary links that has one (OpenSSL) is loaded only when needed, its load
 * costing milliseconds (doc/design.md), and the kernel's (AF_ALG) is not
 * built into every kernel.  Checked against the reference vectors
 * (tests/unit/test_util.c).
 */
#define SIP_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIP_ROUND(v0, v1, v2, v3)                                                                  \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = SIP_ROTL(v1, 13);                                                             \
		v1 ^= v0;                                                                          \
		v0 = SIP_ROTL(v0, 32);                                                             \
		v2 += v3;                                                                          \
		v3 = SIP_ROTL(v3, 16);                                                             \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = SIP_ROTL(v3, 21);                                                             \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = SIP_ROTL(v1, 17);                                                             \
		v1 ^= v2;                                                                          \
		v2 = SIP_ROTL(v2, 32);                                                             \
	} while (0)

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint64_t siphash24(const unsigned char key[16], const void *data, size_t n)
{
	const unsigned char *m = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w = le64(m + i);
		v3 ^= w;
		SIP_ROUND(v0, v1, v2, v3);
		SIP_ROUND(v0, v1, v2, v3);
		v0 ^= w;
	}
	uint64_t b = (uint64_t)n << 56;
	for (size_t j = 0; i + j < n; j++)
		b |= (uint64_t)m[i + j] << (8 * j);
	v3 ^= b;
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (int r = 0; r < 4; r++)
		SIP_ROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}
