/* SPDX-License-Identifier: MIT */
/*
 * Pathname Unix sockets.  Arguments:
 *   host=PATH      a host service's socket the policy does not name (its
 *                  server greets with "HOST")
 *   hostdg=PATH    a host datagram socket (syslog-like)
 *   allowed=PATH   a socket the policy names in unix_connect (greets "OK")
 *   races=1        also race the checks (below)
 * Attacks: connect to the host socket directly, through a symlink in a
 * writable directory, by a relative path, and (races=1) with two races
 * against the check (a symlink swapped between the allowed and the host
 * socket, the address in memory swapped; with abstract_listen=refused, a
 * socket bound to an abstract name by another thread between the
 * supervisor's look at it and its listen); a datagram to the host.
 * Controls: the allowed socket, and a listener of the sandbox's own in the
 * working directory and in /tmp.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"

/* Connects to PATH; 0 only when the peer greets with "HOST" (reached the
 * host's service), else -1. */
static long reach(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char buf[8] = "";
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	ssize_t n = read(fd, buf, 4);
	close(fd);
	if (n == 4 && memcmp(buf, "HOST", 4) == 0)
		return 0;
	errno = EACCES;
	return -1;
}

/* A name of this run's own for its abstract sockets: without a network
 * namespace the names are the host's, shared with every other sandbox, and
 * in a PID namespace getpid() is the same small number in each of them. */
static const char *own_tag(void)
{
	static char tag[40];
	unsigned long r = 0;

	if (!tag[0]) {
		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			r = (unsigned long)time(NULL);
		snprintf(tag, sizeof(tag), "%d-%lx", getpid(), r);
	}
	return tag;
}

static atomic_int stop;
static const char *race_allowed, *race_host;

/* The link the race swaps, in the temporary directory: in the working
 * directory its flood of events kept the supervisor's watch of the project
 * rescanning (inotify's queue overflowing), which under ASan starved the
 * connects the race makes.  What is raced is the same. */
static char race_link[256], race_tmp[264];

static void *swap_link(void *unused)
{
	(void)unused;
	while (!atomic_load(&stop)) {
		(void)symlink(race_allowed, race_tmp);
		(void)rename(race_tmp, race_link);
		(void)symlink(race_host, race_tmp);
		(void)rename(race_tmp, race_link);
	}
	return NULL;
}

static struct sockaddr_un race_addr;
static void *swap_memory(void *unused)
{
	(void)unused;
	while (!atomic_load(&stop)) {
		snprintf(race_addr.sun_path, sizeof(race_addr.sun_path), "%s", race_allowed);
		snprintf(race_addr.sun_path, sizeof(race_addr.sun_path), "%s", race_host);
	}
	return NULL;
}

/* The abstract listen race: the socket LISTEN_FD, bound by this thread
 * LISTEN_DELAY iterations after the main one calls listen(). */
static int listen_fd;
static atomic_int listen_go;
static int listen_delay;
static struct sockaddr_un listen_addr;
static socklen_t listen_len;

static void *bind_late(void *unused)
{
	(void)unused;
	while (!atomic_load(&listen_go))
		;
	for (volatile int i = 0; i < listen_delay; i++)
		;
	(void)bind(listen_fd, (struct sockaddr *)&listen_addr, listen_len);
	return NULL;
}

/* 0 when a listen() ended with the socket listening on an abstract name
 * (the host could connect in), else -1. */
static long race_abstract_listen(void)
{
	listen_addr.sun_family = AF_UNIX;
	listen_len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			(size_t)snprintf(listen_addr.sun_path + 1, sizeof(listen_addr.sun_path) - 1,
					 "rf-race-%s", own_tag()));
	for (int i = 0; i < 1500; i++) {
		pthread_t t;
		listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (listen_fd < 0)
			return -1;
		atomic_store(&listen_go, 0);
		listen_delay = (i * 37) % 4000;
		if (pthread_create(&t, NULL, bind_late, NULL) != 0)
			return -1;
		atomic_store(&listen_go, 1);
		int r = listen(listen_fd, 4);
		pthread_join(t, NULL);
		struct sockaddr_un got = {0};
		socklen_t gl = sizeof(got);
		bool won = r == 0 && getsockname(listen_fd, (struct sockaddr *)&got, &gl) == 0 &&
			   gl > offsetof(struct sockaddr_un, sun_path) && got.sun_path[0] == '\0';
		close(listen_fd);
		if (won)
			return 0;
	}
	errno = EACCES;
	return -1;
}

static long race(void *(*fn)(void *), bool by_link)
{
	pthread_t t;
	long won = -1;

	atomic_store(&stop, 0);
	const char *tmp = getenv("TMPDIR");
	snprintf(race_link, sizeof(race_link), "%s/rf-race-l", tmp && tmp[0] == '/' ? tmp : "/tmp");
	snprintf(race_tmp, sizeof(race_tmp), "%s.tmp", race_link);
	race_addr.sun_family = AF_UNIX;
	snprintf(race_addr.sun_path, sizeof(race_addr.sun_path), "%s", race_allowed);
	if (pthread_create(&t, NULL, fn, NULL) != 0)
		return -1;
	for (int i = 0; i < 2000 && won < 0; i++) {
		if (by_link) {
			won = reach(race_link);
			continue;
		}
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		char buf[4];
		if (fd < 0)
			break;
		if (connect(fd, (struct sockaddr *)&race_addr, sizeof(race_addr)) == 0 &&
		    read(fd, buf, 4) == 4 && memcmp(buf, "HOST", 4) == 0)
			won = 0;
		close(fd);
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	unlink(race_link);
	unlink(race_tmp);
	errno = EACCES;
	return won;
}

static long send_datagram(const struct sockaddr_un *a)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	return sendto(fd, "HOST", 4, 0, (const struct sockaddr *)a, sizeof(*a));
}

static int own_listener(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r = -1;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	if (s >= 0 && c >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    listen(s, 4) == 0 && connect(c, (struct sockaddr *)&a, sizeof(a)) == 0)
		r = 0;
	unlink(path);
	close(s);
	close(c);
	return r;
}

int main(int argc, char **argv)
{
	const char *host = arg(argc, argv, "host");
	const char *hostdg = arg(argc, argv, "hostdg");
	const char *allowed = arg(argc, argv, "allowed");

	if (host) {
		ATTACK("connecting to a host service's socket", reach(host));
		(void)unlink("rf-link");
		if (symlink(host, "rf-link") == 0) {
			ATTACK("connecting through a symlink in the working directory",
			       reach("rf-link"));
			unlink("rf-link");
		}
		char rel[200] = "";
		char cwd[4096];
		if (getcwd(cwd, sizeof(cwd))) {
			/* ../../../host/path from the working directory */
			for (char *p = cwd; *p; p++)
				if (*p == '/' && strlen(rel) + 3 < sizeof(rel))
					strcat(rel, "../");
			if (strlen(rel) + strlen(host) < sizeof(rel)) {
				strcat(rel, host + 1);
				ATTACK("connecting by a relative path", reach(rel));
			}
		}
	}
	if (host && allowed && arg(argc, argv, "races")) {
		race_allowed = allowed;
		race_host = host;
		ATTACK("a symlink swapped between the check and the connect",
		       race(swap_link, true));
		ATTACK("the address swapped in memory during connect", race(swap_memory, false));
	}
	/* the supervisor reads the address: an oversized one, all path bytes,
	 * must be refused as the kernel would (EINVAL), not overrun anything */
	{
		char big[128];
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		memset(big, 'a', sizeof(big));
		((struct sockaddr_un *)(void *)big)->sun_family = AF_UNIX;
		ATTACK("an oversized address", fd < 0 ? -1 : connect(fd, (void *)big, sizeof(big)));
		if (fd >= 0)
			close(fd);
	}
	if (hostdg) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", hostdg);
		ATTACK("a datagram to a host socket", send_datagram(&a));
		/* one end of a datagram pair sends wherever sendto says */
		int pair[2];
		long r = socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair);
		if (r == 0) {
			r = sendto(pair[0], "HOST", 4, 0, (struct sockaddr *)&a, sizeof(a));
			close(pair[0]);
			close(pair[1]);
		}
		ATTACK("a datagram from a socketpair to a host socket", r < 0 ? -1 : 0);
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
			printf("ESCAPED: control failed: a stream socketpair (%s)\n",
			       strerror(errno));
			escapes++;
		} else {
			printf("ok: a stream socketpair\n");
			close(pair[0]);
			close(pair[1]);
		}
	}

	if (allowed) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		char buf[4] = "";
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", allowed);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    read(fd, buf, 2) != 2 || memcmp(buf, "OK", 2) != 0) {
			printf("ESCAPED: control failed: the allowed socket (%s)\n",
			       strerror(errno));
			escapes++;
		} else {
			printf("ok: the socket the policy names\n");
		}
	}
	/* abstract: with a network namespace of its own (abstract_listen=own)
	 * its own listener works; without one (abstract_listen=refused) the
	 * name would be the host's, reachable from outside: refused */
	const char *abs_listen = arg(argc, argv, "abstract_listen");
	if (abs_listen && strcmp(abs_listen, "refused") == 0) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		socklen_t al = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
					   (size_t)snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1,
							    "rf-own-%s", own_tag()));
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0 || bind(s, (struct sockaddr *)&a, al) < 0) {
			printf("ESCAPED: control failed: binding an abstract name (%s)\n",
			       strerror(errno));
			escapes++;
		} else {
			ATTACK("listening on an abstract name the host can reach", listen(s, 4));
		}
		if (s >= 0)
			close(s);
		if (arg(argc, argv, "races"))
			ATTACK("an abstract name bound between the check and the listen",
			       race_abstract_listen());
	} else {
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		socklen_t al = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
					   (size_t)snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1,
							    "rf-own-%s", own_tag()));
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0 || c < 0 || bind(s, (struct sockaddr *)&a, al) < 0 || listen(s, 4) < 0 ||
		    connect(c, (struct sockaddr *)&a, al) < 0) {
			printf("ESCAPED: control failed: an abstract listener of its own (%s)\n",
			       strerror(errno));
			escapes++;
		} else {
			printf("ok: an abstract listener of its own\n");
		}
		close(s);
		close(c);
	}
	const char *abs_name = arg(argc, argv, "abstract");
	if (abs_name) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		socklen_t al = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
					   (size_t)snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1,
							    "%s", abs_name));
		int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ATTACK("connecting to the host's abstract socket",
		       c < 0 ? -1 : connect(c, (struct sockaddr *)&a, al));
	}
	char tmp[200];
	snprintf(tmp, sizeof(tmp), "%s/rf-own.sock", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (own_listener("rf-own.sock") < 0 || own_listener(tmp) < 0) {
		printf("ESCAPED: control failed: a listener of its own (%s)\n", strerror(errno));
		escapes++;
	} else {
		printf("ok: listeners of its own in the working directory and the temporary "
		       "directory\n");
	}
	ESCAPE_DONE();
}
