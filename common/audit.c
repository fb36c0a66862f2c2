/* SPDX-License-Identifier: MIT */
/* The audit log: JSON lines, one event per decision, appended with one write. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "utf8.h"
#include "util.h"

/*
 * The log is opened by the supervisor, often as root, in a directory the
 * sandbox may have been able to write in an earlier run: a symlink planted in
 * any component (not only the last) would redirect it, and mkdir -p would
 * create directories through it.  So the path is walked one component at a
 * time from "/" with O_NOFOLLOW, each missing directory made with mkdirat()
 * in the directory fd already held; a symlink anywhere refuses (ELOOP).
 */
int audit_open(const char *path)
{
	_cleanup_close_ int dir = -1;
	char buf[4096];
	char *comp, *next;
	struct stat st;
	int fd;

	if (path[0] != '/')
		return -EINVAL;
	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return -ENAMETOOLONG;
	dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	comp = buf + 1;
	while ((next = strchr(comp, '/'))) {
		int d;
		*next = '\0';
		if (strcmp(comp, "..") == 0)
			return -EINVAL;
		if (comp[0] && strcmp(comp, ".") != 0) {
			if (mkdirat(dir, comp, 0700) < 0 && errno != EEXIST)
				return -errno;
			d = openat(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (d < 0) {
				int e = errno;
				if (e == ENOTDIR &&
				    fstatat(dir, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				    S_ISLNK(st.st_mode))
					e = ELOOP;
				return -e;
			}
			close(dir);
			dir = d;
		}
		comp = next + 1;
	}
	if (!comp[0] || strcmp(comp, "..") == 0 || strcmp(comp, ".") == 0)
		return -EINVAL;
	/* O_NONBLOCK: a FIFO planted there would block the open (ENXIO
	 * without a reader); it is refused below */
	fd = openat(dir, comp,
		    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK,
		    0600);
	if (fd < 0)
		return errno == ENXIO ? -ENXIO : -errno;
	int e = 0;
	if (fstat(fd, &st) < 0)
		e = errno;
	/* a FIFO or a socket: another process at its other end */
	else if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
		e = ENXIO;
	/* a hard link to another file would have it appended to */
	else if (S_ISREG(st.st_mode) && st.st_nlink > 1)
		e = EMLINK;
	/* one another user made beforehand (in a shared directory), or that
	 * every user may write: they would read the events, or add their own
	 * for `learn --from` to propose */
	else if (S_ISREG(st.st_mode) && (st.st_uid != geteuid() || (st.st_mode & S_IWOTH)))
		e = EPERM;
	else if (fcntl(fd, F_SETFL, O_APPEND) < 0)
		e = errno;
	if (e) {
		close(fd);
		return -e;
	}
	return fd;
}

/* The length of the well-formed UTF-8 sequence at S (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t len;
	unsigned lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* A path is bytes, JSON is Unicode text: a byte that is not part of
 * well-formed UTF-8 is written as U+FFFD, so that every line parses. */
void json_string(char *buf, size_t size, const char *s)
{
	size_t n = 0;

	if (size < 3) {
		if (size)
			buf[0] = '\0';
		return;
	}
	buf[n++] = '"';
	for (; *s && n + 8 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			n += (size_t)snprintf(buf + n, size - n, "\\u%04x", c);
		} else if (c >= 0x80) {
			size_t len = utf8_len((const unsigned char *)s);
			if (!len) {
				n += (size_t)snprintf(buf + n, size - n, "\\ufffd");
			} else if (len == 2 && c == 0xc2 && (unsigned char)s[1] < 0xa0) {
				/* C1 (U+0080..U+009F): a terminal's CSI and OSC, for
				 * whoever reads the log as it grows (tail -f, --log -) */
				n += (size_t)snprintf(buf + n, size - n, "\\u%04x",
						      (unsigned)(unsigned char)s[1]);
				s++;
			} else if (utf8_reorders((const unsigned char *)s, len)) {
				/* a bidirectional control: the line shown reordered */
				const unsigned char *u = (const unsigned char *)s;
				unsigned cp = len == 2 ? (u[0] & 0x1fu) << 6 | (u[1] & 0x3fu)
						       : (u[0] & 0x0fu) << 12 |
							     (u[1] & 0x3fu) << 6 | (u[2] & 0x3fu);
				n += (size_t)snprintf(buf + n, size - n, "\\u%04x", cp);
				s += len - 1;
			} else {
				memcpy(buf + n, s, len);
				n += len;
				s += len - 1;
			}
		} else {
			buf[n++] = (char)c;
		}
	}
	buf[n++] = '"';
	buf[n] = '\0';
}

/* --log -: stderr, and whether in the compact form (a terminal). */
static int live_fd = -1;
static bool live_human;

void audit_set_live(bool human)
{
	live_fd = STDERR_FILENO;
	live_human = human;
}

bool audit_live(void)
{
	return live_fd >= 0;
}

/*
 * One event for a person: "ringfence: 12:00:01 fs.deny access=write
 * path=/x ...".  FIELDS is the event's JSON (our own, so well-formed):
 * keys lose their quotes, strings are unescaped but for \uXXXX, which
 * stays as written, so no control character from a path reaches the
 * terminal.
 */
static void live_write(const struct tm *tm, const char *event, const char *fields)
{
	char out[4600];
	size_t n;
	int depth = 0;
	bool str = false;

	n = (size_t)snprintf(out, sizeof(out), "ringfence: %02d:%02d:%02d %s%s", tm->tm_hour,
			     tm->tm_min, tm->tm_sec, event, fields[0] ? " " : "");
	for (const char *c = fields; *c && n + 3 < sizeof(out); c++) {
		if (str) {
			if (*c == '\\' && c[1] && c[1] != 'u')
				out[n++] = *++c;
			else if (*c == '"')
				str = false;
			else
				out[n++] = *c;
			continue;
		}
		if (*c == '"')
			str = true;
		else if (*c == ':' && depth == 0)
			out[n++] = '=';
		else if (*c == ',' && depth == 0)
			out[n++] = ' ';
		else {
			depth += *c == '{' ? 1 : *c == '}' ? -1 : 0;
			out[n++] = *c;
		}
	}
	out[n++] = '\n';
	say_write(out, n);
}

void audit_event(int fd, const char *event, const char *fmt, ...)
{
	char line[4096];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, r;
	static bool warned;

	if (fd < 0 && live_fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
		     "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"event\":\"%s\",\"pid\":%d",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     ts.tv_nsec / 1000000, event, getpid());
	if (fmt && fmt[0] && n > 0 && (size_t)n < sizeof(line) - 2) {
		line[n++] = ',';
		va_start(ap, fmt);
		int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 2, fmt, ap);
		va_end(ap);
		/* cut anywhere, the line would not be JSON: a reader that
		 * parses each line must never meet half a field */
		if (m >= (int)(sizeof(line) - (size_t)n - 2))
			m = snprintf(line + n, sizeof(line) - (size_t)n - 2, "\"truncated\":true");
		if (m > 0)
			n += m;
		else
			n--; /* no fields: drop the comma */
	}
	line[n++] = '}';
	line[n++] = '\n';
	if (live_fd >= 0) {
		if (live_human) {
			/* the fields alone: after the pid's comma, before the brace */
			char *f = strstr(line, ",\"pid\":");
			f = f ? strchr(f + 1, ',') : NULL;
			line[n - 2] = '\0';
			live_write(&tm, event, f ? f + 1 : "");
			line[n - 2] = '}';
		} else {
			say_write(line, (size_t)n);
		}
	}
	if (fd < 0)
		return;
	r = write_all(fd, line, (size_t)n);
	if (r < 0 && !warned) {
		/* the command keeps running, but the gap must not go unnoticed */
		warn("the audit log cannot be written (%s): events from here on are lost",
		     strerror(-r));
		warned = true;
	}
}

/*
 * Network and file decisions are made at the sandbox's pace: a loop of refused
 * connects would otherwise grow the log without bound on the host's disk.
 * A token bucket lets bursts of AUDIT_BURST through and AUDIT_RATE a second
 * after that; what it holds back is counted, and written as one
 * "audit.suppressed" line when logging resumes or at exit.  The exit
 * summary counts every refusal regardless.
 */
#define AUDIT_BURST 1000
#define AUDIT_RATE  200

static struct {
	double tokens;
	long last_ms;
	bool started;
	unsigned long suppressed;
} bucket;

void audit_flush_suppressed(int fd)
{
	if (bucket.suppressed) {
		audit_event(fd, "audit.suppressed",
			    "\"events\":%lu,\"reason\":\"more than %d network "
			    "or file events a second\"",
			    bucket.suppressed, AUDIT_RATE);
		bucket.suppressed = 0;
	}
}

bool audit_rate_ok(int fd)
{
	struct timespec ts;
	long now;

	if (fd < 0 && live_fd < 0)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (!bucket.started) {
		bucket.tokens = AUDIT_BURST;
		bucket.started = true;
	} else {
		bucket.tokens += (double)(now - bucket.last_ms) * AUDIT_RATE / 1000.0;
		if (bucket.tokens > AUDIT_BURST)
			bucket.tokens = AUDIT_BURST;
	}
	bucket.last_ms = now;
	if (bucket.tokens < 1) {
		bucket.suppressed++;
		return false;
	}
	bucket.tokens -= 1;
	audit_flush_suppressed(fd);
	return true;
}
