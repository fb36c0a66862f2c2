/* SPDX-License-Identifier: MIT */
/*
 * The floor of a relay on this machine, for bench/proxy.sh: what a process
 * that only moves bytes between two TCP connections gives, with the same
 * mechanism as ringfence's tunnels and forwarded bodies (splice(2) through
 * a 1 MiB pipe, non-blocking, on readiness).  It judges nothing and parses
 * nothing: a third process on the path, and nothing else.
 *
 *   splice_relay LISTEN_PORT TARGET_PORT     (both on 127.0.0.1)
 *
 * One connection at a time, each to 127.0.0.1:TARGET_PORT; prints nothing.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct dir {
	int from, to, p[2];
	size_t in;
	int eof;
};

/* Moves what it can; -1 on an error, else whether anything moved. */
static int pump(struct dir *d)
{
	int moved = 0;
	ssize_t n;

	for (;;) {
		int any = 0;
		if (d->in > 0) {
			n = splice(d->p[0], NULL, d->to, NULL, d->in,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->in -= (size_t)n;
				any = 1;
			} else if (n < 0 && errno != EAGAIN) {
				return -1;
			}
		}
		if (!d->eof && d->in < 1024 * 1024) {
			n = splice(d->from, NULL, d->p[1], NULL, 1024 * 1024 - d->in,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->in += (size_t)n;
				any = 1;
			} else if (n == 0) {
				d->eof = 1;
				any = 1;
			} else if (errno != EAGAIN) {
				return -1;
			}
		}
		if (d->eof && d->in == 0) {
			shutdown(d->to, SHUT_WR);
			return 1;
		}
		if (!any)
			return moved;
		moved = 1;
	}
}

static void relay(int a, int b)
{
	struct dir d[2] = {{.from = a, .to = b}, {.from = b, .to = a}};

	for (int i = 0; i < 2; i++) {
		if (pipe2(d[i].p, O_NONBLOCK | O_CLOEXEC) < 0)
			return;
		(void)fcntl(d[i].p[0], F_SETPIPE_SZ, 1024 * 1024);
	}
	while (!(d[0].eof && d[0].in == 0 && d[1].eof && d[1].in == 0)) {
		struct pollfd pf[2] = {{.fd = a}, {.fd = b}};
		pf[0].events = (d[0].eof ? 0 : POLLIN) | (d[1].in ? POLLOUT : 0);
		pf[1].events = (d[1].eof ? 0 : POLLIN) | (d[0].in ? POLLOUT : 0);
		if (poll(pf, 2, 30000) <= 0)
			break;
		if (pump(&d[0]) < 0 || pump(&d[1]) < 0)
			break;
	}
	for (int i = 0; i < 2; i++) {
		close(d[i].p[0]);
		close(d[i].p[1]);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1, ls;

	if (argc != 3)
		return 2;
	/* a client gone mid-body is an error of its splice, not our end */
	signal(SIGPIPE, SIG_IGN);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	if (bind(ls, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(ls, 64) < 0) {
		perror("splice_relay");
		return 1;
	}
	for (;;) {
		int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), u;
		if (c < 0)
			continue;
		u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sin.sin_port = htons((unsigned short)atoi(argv[2]));
		setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(u, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
		    fcntl(u, F_SETFL, O_NONBLOCK) == 0)
			relay(c, u);
		close(u);
		close(c);
	}
}
