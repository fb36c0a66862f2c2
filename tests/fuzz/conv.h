/* SPDX-License-Identifier: MIT */
/*
 * Whole conversations through the proxy's machines, in one process: the
 * client is one end of a socketpair(2) handed to the proxy as an accepted
 * connection (nx_conn_adopt), the upstream a loopback listener of this
 * process that the proxy dials (the policy's hosts = sends up.test there).
 * Used by tests/unit/test_machines.c and tests/fuzz/fuzz_conv.c.
 */
#ifndef RINGFENCE_TESTS_CONV_H
#define RINGFENCE_TESTS_CONV_H

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../netproxy/netproxy.h"
#include "../../netproxy/netproxy_internal.h"

struct conv {
	struct policy *p;
	struct netproxy *np;
	int client; /* our end of the client's socketpair; -1 once closed */
	int listen; /* the upstream's listening socket */
	uint16_t port;
	int up;		   /* the upstream's side of the dialled connection: -1 before,
			    * -2 once the test closed it */
	char events[8192]; /* "EVENT REASON\n" for each audit event */
	size_t events_len;
};

static void conv_event(void *ud, const struct netproxy_event *ev)
{
	struct conv *cv = ud;
	int n = snprintf(cv->events + cv->events_len, sizeof(cv->events) - cv->events_len,
			 "%s %s\n", ev->event, ev->reason ? ev->reason : "-");

	if (n > 0 && (size_t)n < sizeof(cv->events) - cv->events_len)
		cv->events_len += (size_t)n;
}

static long conv_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A proxy under the policy "allow = up.test:PORT" (PORT: the upstream's)
 * plus EXTRA, and one client on it.  0, or -errno. */
static int conv_open(struct conv *cv, const char *extra)
{
	struct netproxy_hooks hooks = {.event = conv_event, .ud = cv};
	struct policy_error err = {0};
	char text[1024];
	int sv[2], r;

	memset(cv, 0, sizeof(*cv));
	cv->client = cv->up = -1;
	cv->listen = netproxy_listen_socket(0, &cv->port);
	if (cv->listen < 0)
		return cv->listen;
	snprintf(text, sizeof(text),
		 "[network]\nmode = proxy\nallow = up.test:%u\nallow_cidr = 127.0.0.1/32\n"
		 "hosts = up.test=127.0.0.1\n%s",
		 cv->port, extra ? extra : "");
	if (policy_load_string("conv.ini", text, NULL, &cv->p, &err) < 0) {
		fprintf(stderr, "conv: %s\n", err.msg);
		return -EINVAL;
	}
	r = netproxy_new(cv->p, &hooks, &cv->np);
	if (r < 0)
		return r;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	cv->client = sv[0];
	return nx_conn_adopt(cv->np, sv[1]);
}

static void conv_close(struct conv *cv)
{
	if (cv->client >= 0)
		close(cv->client);
	if (cv->up >= 0)
		close(cv->up);
	netproxy_free(cv->np); /* after the client: its end is read as closed */
	if (cv->listen >= 0)
		close(cv->listen);
	policy_free(cv->p);
	memset(cv, 0, sizeof(*cv));
	cv->client = cv->up = cv->listen = -1;
}

/* Runs the proxy's loop for MS milliseconds at most, taking the upstream's
 * connection when the proxy dials it; returns early once FD (>= 0) is
 * readable. */
static void conv_run(struct conv *cv, int ms, int fd)
{
	long end = conv_now() + ms;

	do {
		struct pollfd pf[2] = {{netproxy_fd(cv->np), POLLIN, 0}, {fd, POLLIN, 0}};
		netproxy_dispatch(cv->np);
		if (cv->up == -1)
			cv->up = accept4(cv->listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0 && poll(&pf[1], 1, 0) > 0)
			return;
		(void)poll(pf, 1, 2);
	} while (conv_now() < end);
}

/* Waits (up to MS) for the proxy to dial the upstream: its fd, or -1. */
static int conv_upstream(struct conv *cv, int ms)
{
	long end = conv_now() + ms;

	while (cv->up == -1 && conv_now() < end)
		conv_run(cv, 5, -1);
	return cv->up;
}

/* Writes N bytes to FD as the proxy takes them: how many were written. */
static size_t conv_send(struct conv *cv, int fd, const void *data, size_t n, int ms)
{
	size_t off = 0;
	long end = conv_now() + ms;

	while (off < n && conv_now() < end) {
		ssize_t w = send(fd, (const char *)data + off, n - off, MSG_NOSIGNAL);
		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EAGAIN)
			break;
		conv_run(cv, 1, -1);
	}
	return off;
}

/* Reads from FD until WANT bytes (or CAP), its end, or MS: how many were
 * read into BUF (NUL-terminated); *eof when FD ended. */
static size_t conv_recv(struct conv *cv, int fd, char *buf, size_t cap, size_t want, int ms,
			bool *eof)
{
	size_t off = 0;
	long end = conv_now() + ms;

	*eof = false;
	while (off < want && off + 1 < cap && conv_now() < end) {
		ssize_t r = recv(fd, buf + off, cap - 1 - off, MSG_DONTWAIT);
		if (r > 0) {
			off += (size_t)r;
			continue;
		}
		if (r == 0 || (r < 0 && errno != EAGAIN)) {
			*eof = true;
			break;
		}
		conv_run(cv, 20, fd);
	}
	buf[off] = '\0';
	return off;
}

#endif
