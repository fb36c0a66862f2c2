/* SPDX-License-Identifier: MIT */
/*
 * The floor of a proxy for small exchanges on this machine, for
 * bench/proxy.sh sections 2 and 3: a process that takes each connection,
 * connects it to one fixed origin and moves bytes both ways, many
 * connections at once on one epoll loop, with the fewest calls a relay can
 * make (a blocking connect on loopback, one read and one write per chunk,
 * level-triggered events).  A connection that starts with "CONNECT " gets
 * its head swallowed and "200" answered first, so that CONNECT clients can
 * measure it too; anything else (an absolute-URI GET) goes to the origin as
 * it is, which nginx answers.  It parses nothing else and judges nothing:
 * what a third process on the path costs, and no more.
 *
 *   relay_floor LISTEN_PORT TARGET_PORT     (both on 127.0.0.1)
 *
 * Prints nothing; runs until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD 65536

/* per descriptor: the other side, and (client side) whether its first
 * bytes are still to be looked at */
static int peer[MAX_FD];
static unsigned char first[MAX_FD];

static void drop(int ep, int fd)
{
	int p = peer[fd];

	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	if (p >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, p, NULL);
		close(p);
		peer[p] = -1;
	}
	peer[fd] = -1;
}

/* A CONNECT head at the start of BUF (N bytes, one read): swallowed and
 * answered; -1 when it is not whole in this read (not expected of the
 * bench's clients, who send it in one write). */
static ssize_t connect_head(int fd, const char *buf, ssize_t n)
{
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	const char *end = memmem(buf, (size_t)n, "\r\n\r\n", 4);

	if (!end || write(fd, ok, sizeof(ok) - 1) != (ssize_t)sizeof(ok) - 1)
		return -1;
	return end + 4 - buf;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct epoll_event ev = {.events = EPOLLIN}, evs[64];
	static char buf[65536];
	int one = 1, ls, ep;
	unsigned short target;

	if (argc != 3)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	target = (unsigned short)atoi(argv[2]);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = ls;
	if (bind(ls, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(ls, 4096) < 0 || ep < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) < 0) {
		perror("relay_floor");
		return 1;
	}
	sin.sin_port = htons(target);
	memset(peer, -1, sizeof(peer));
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ls) {
				int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC), u;
				if (c < 0)
					continue;
				u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
				if (c >= MAX_FD || u < 0 || u >= MAX_FD ||
				    connect(u, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
					close(c);
					if (u >= 0)
						close(u);
					continue;
				}
				setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				peer[c] = u;
				peer[u] = c;
				first[c] = 1;
				first[u] = 0;
				ev.data.fd = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				ev.data.fd = u;
				epoll_ctl(ep, EPOLL_CTL_ADD, u, &ev);
				continue;
			}
			if (peer[fd] < 0)
				continue; /* closed earlier in this batch */
			/* the sockets are blocking: a read follows readiness, a
			 * write of a small chunk fits the peer's buffer */
			ssize_t r = read(fd, buf, sizeof(buf)), off = 0;
			if (r <= 0) {
				drop(ep, fd);
				continue;
			}
			if (first[fd]) {
				first[fd] = 0;
				if (r >= 8 && memcmp(buf, "CONNECT ", 8) == 0 &&
				    (off = connect_head(fd, buf, r)) < 0) {
					drop(ep, fd);
					continue;
				}
			}
			if (r > off && write(peer[fd], buf + off, (size_t)(r - off)) != r - off)
				drop(ep, fd);
		}
	}
}
