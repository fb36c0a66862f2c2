/* SPDX-License-Identifier: MIT */
/*
 * Network escapes under [network] mode = none.  Arguments:
 *   tcp=PORT       a TCP server on the host's 127.0.0.1
 *   udp=PORT       a UDP server on the host's 127.0.0.1 that answers
 *   abstract=NAME  an abstract Unix socket server of the host
 * Reaching any of them is an escape.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "escape.h"

static long tcp(int family, const char *addr, int port, int flags)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (family == AF_INET) {
		struct sockaddr_in *a = (void *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &a->sin6_addr);
		len = sizeof(*a);
	}
	long r;
	if (flags)
		/* TCP fast open: connects without connect(2) */
		r = sendto(fd, "x", 1, MSG_FASTOPEN, (struct sockaddr *)&ss, len);
	else
		r = connect(fd, (struct sockaddr *)&ss, len);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

static long udp(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char buf[8];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (sendto(fd, "ping", 4, 0, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	/* the host server answers: an answer means we reached it */
	struct pollfd p = { fd, POLLIN, 0 };
	if (poll(&p, 1, 500) <= 0 || recv(fd, buf, sizeof(buf), 0) <= 0) {
		close(fd);
		errno = ETIMEDOUT;
		return -1;
	}
	close(fd);
	return 0;
}

static long abstract_unix(const char *name)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	size_t n = strlen(name);
	memcpy(a.sun_path + 1, name, n);
	long r = connect(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n));
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

int main(int argc, char **argv)
{
	const char *tcp_port = arg(argc, argv, "tcp");
	const char *udp_port = arg(argc, argv, "udp");
	const char *abs_name = arg(argc, argv, "abstract");

	if (tcp_port) {
		ATTACK("TCP to the host's 127.0.0.1", tcp(AF_INET, "127.0.0.1", atoi(tcp_port), 0));
		ATTACK("TCP fast open to the host's 127.0.0.1",
		       tcp(AF_INET, "127.0.0.1", atoi(tcp_port), 1));
		ATTACK("TCP to ::ffff:127.0.0.1", tcp(AF_INET6, "::ffff:127.0.0.1", atoi(tcp_port), 0));
	}
	if (udp_port)
		ATTACK("UDP to the host's 127.0.0.1", udp(atoi(udp_port)));
	if (abs_name)
		ATTACK("abstract Unix socket of the host", abstract_unix(abs_name));
	ESCAPE_DONE();
}
