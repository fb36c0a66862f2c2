/* SPDX-License-Identifier: MIT */
/*
 * Network escapes under [network] mode = none and mode = proxy.  Arguments:
 *   tcp=PORT       a TCP server on the host's 127.0.0.1
 *   tcp6=1         the same port on the host's ::1 too
 *   udp=PORT       a UDP server on the host's 127.0.0.1 that answers
 *   abstract=NAME  an abstract Unix socket server of the host
 *   icmp=ADDR      a host address outside the sandbox to ping
 *   proxy=1        mode = proxy: also every other way out a socket offers
 *                  (raw, ICMP, packet, SCTP, MPTCP, vsock, fast open by
 *                  sendmsg and by socket option, and a race that swaps the
 *                  fd under a brokered connect)
 *   broker=1       no network namespace: also listening for inbound
 *                  connections on the host (listen without bind binds
 *                  0.0.0.0), with and without a race swapping the fd, and a
 *                  Unix listener of its own that must keep working
 * Reaching any of them is an escape.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/vm_sockets.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "escape.h"

static long tcp_proto(int family, const char *addr, int port, int flags, int proto)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int fd = socket(family, SOCK_STREAM, proto);
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

static long tcp(int family, const char *addr, int port, int flags)
{
	return tcp_proto(family, addr, port, flags, 0);
}

static long udp(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
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
	struct pollfd p = {fd, POLLIN, 0};
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
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	size_t n = strlen(name);
	memcpy(a.sun_path + 1, name, n);
	long r = connect(fd, (struct sockaddr *)&a,
			 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n));
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

static struct sockaddr_in host_addr(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	return a;
}

/* Creating the socket is the escape for families that reach past the
 * sandbox's network by themselves. */
static long sock_only(int family, int type, int proto)
{
	int fd = socket(family, type, proto);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static long tcp_sendmsg_fastopen(int port)
{
	struct sockaddr_in a = host_addr(port);
	struct iovec iov = {.iov_base = "x", .iov_len = 1};
	struct msghdr m = {
	    .msg_name = &a, .msg_namelen = sizeof(a), .msg_iov = &iov, .msg_iovlen = 1};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	long r = sendmsg(fd, &m, MSG_FASTOPEN);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

static long tcp_fastopen_connect(int port)
{
	struct sockaddr_in a = host_addr(port);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof(one));
	long r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	if (r == 0)
		r = write(fd, "x", 1) == 1 ? 0 : -1;
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

/* An ICMP echo to an address of the host, through a ping socket or a raw one:
 * a reply means the packet got out. */
static long icmp_echo(int type, const char *addr)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, addr, &a.sin_addr);
	unsigned char pkt[16] = {8, 0, 0xf7, 0xff}, buf[128];
	int fd = socket(AF_INET, type, IPPROTO_ICMP);
	if (fd < 0)
		return -1;
	if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	struct pollfd p = {fd, POLLIN, 0};
	long r = poll(&p, 1, 500) > 0 && recv(fd, buf, sizeof(buf), 0) > 0 ? 0 : -1;
	close(fd);
	errno = r ? ETIMEDOUT : 0;
	return r;
}

/* The broker lets the kernel finish a connect on a Unix socket.  Swap the
 * fd for an inet socket between the broker's look and the kernel's: an inet
 * connection that completes is an escape. */
static atomic_int race_stop;
static int race_fd, race_unix, race_inet;

static void *swapper(void *unused)
{
	(void)unused;
	while (!atomic_load(&race_stop)) {
		dup2(race_unix, race_fd);
		dup2(race_inet, race_fd);
	}
	return NULL;
}

static long fd_swap_race(int port)
{
	struct sockaddr_in a = host_addr(port);
	pthread_t t;
	long won = -1;

	race_unix = socket(AF_UNIX, SOCK_STREAM, 0);
	race_inet = socket(AF_INET, SOCK_STREAM, 0);
	race_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (race_unix < 0 || race_inet < 0 || race_fd < 0)
		return -1;
	if (pthread_create(&t, NULL, swapper, NULL) != 0)
		return -1;
	for (int i = 0; i < 3000 && won < 0; i++) {
		if (connect(race_fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			won = 0;
		/* a connected inet socket under the number: fresh ones for the next round */
		struct sockaddr_in peer;
		socklen_t pl = sizeof(peer);
		if (getpeername(race_inet, (struct sockaddr *)&peer, &pl) == 0)
			won = 0;
	}
	atomic_store(&race_stop, 1);
	pthread_join(t, NULL);
	errno = EACCES;
	return won;
}

/* listen() on a socket never bound: the kernel picks a port on 0.0.0.0
 * (or ::) of the namespace it is in, the host's under the broker */
static long listen_unbound(int family)
{
	int fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	long r = listen(fd, 1);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

/* The broker checks the socket under the number listen() names: swap a
 * Unix socket for an inet one meanwhile.  An inet socket left listening is
 * an escape. */
static long listen_swap_race(void)
{
	pthread_t t;
	long won = -1;
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	atomic_store(&race_stop, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "rf-listen-race-%d", getpid());
	race_unix = socket(AF_UNIX, SOCK_STREAM, 0);
	race_inet = socket(AF_INET, SOCK_STREAM, 0);
	race_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (race_unix < 0 || race_inet < 0 || race_fd < 0 ||
	    bind(race_unix, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	unlink(a.sun_path);
	if (pthread_create(&t, NULL, swapper, NULL) != 0)
		return -1;
	for (int i = 0; i < 3000 && won < 0; i++) {
		int on = 0;
		socklen_t ol = sizeof(on);
		(void)listen(race_fd, 1);
		if (getsockopt(race_inet, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol) == 0 && on)
			won = 0;
	}
	atomic_store(&race_stop, 1);
	pthread_join(t, NULL);
	errno = EACCES;
	return won;
}

/* Positive control: a Unix listener of the sandbox's own works, and its
 * peer credentials are the command's. */
static int own_unix_listener(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	int s = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "rf-own-%d", getpid());
	if (s < 0 || c < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0 ||
	    connect(c, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0) {
		unlink(a.sun_path);
		return -1;
	}
	unlink(a.sun_path);
	if (cr.uid != getuid() || cr.gid != getgid()) {
		printf("ESCAPED: our listener shows uid %u gid %u, not ours\n", cr.uid, cr.gid);
		escapes++;
	}
	close(s);
	close(c);
	return 0;
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
		ATTACK("TCP to ::ffff:127.0.0.1",
		       tcp(AF_INET6, "::ffff:127.0.0.1", atoi(tcp_port), 0));
	}
	if (udp_port)
		ATTACK("UDP to the host's 127.0.0.1", udp(atoi(udp_port)));
	if (abs_name)
		ATTACK("abstract Unix socket of the host", abstract_unix(abs_name));
	if (arg(argc, argv, "proxy") && tcp_port) {
		int port = atoi(tcp_port);
		if (arg(argc, argv, "tcp6"))
			ATTACK("TCP to the host's ::1", tcp(AF_INET6, "::1", port, 0));
		ATTACK("TCP fast open by sendmsg", tcp_sendmsg_fastopen(port));
		ATTACK("TCP_FASTOPEN_CONNECT then connect", tcp_fastopen_connect(port));
		if (arg(argc, argv, "icmp")) {
			ATTACK("ICMP echo through a ping socket",
			       icmp_echo(SOCK_DGRAM, arg(argc, argv, "icmp")));
			ATTACK("ICMP echo through a raw socket",
			       icmp_echo(SOCK_RAW, arg(argc, argv, "icmp")));
		}
		ATTACK("a packet socket", sock_only(AF_PACKET, SOCK_RAW, 0));
		ATTACK("SCTP to the host's 127.0.0.1",
		       tcp_proto(AF_INET, "127.0.0.1", port, 0, 132 /* IPPROTO_SCTP */));
		ATTACK("MPTCP to the host's 127.0.0.1 (falls back to TCP)",
		       tcp_proto(AF_INET, "127.0.0.1", port, 0, 262 /* IPPROTO_MPTCP */));
		ATTACK("a vsock socket (the hypervisor)", sock_only(AF_VSOCK, SOCK_STREAM, 0));
		ATTACK("swapping the fd under a brokered connect", fd_swap_race(port));
	}
	if (arg(argc, argv, "broker")) {
		ATTACK_SECCOMP("a UDP socket", sock_only(AF_INET, SOCK_DGRAM, 0));
		ATTACK_SECCOMP("a UDP socket (IPv6)", sock_only(AF_INET6, SOCK_DGRAM, 0));
		ATTACK_SECCOMP("an ICMP ping socket", sock_only(AF_INET, SOCK_DGRAM, IPPROTO_ICMP));
		ATTACK_SECCOMP("a raw socket", sock_only(AF_INET, SOCK_RAW, IPPROTO_TCP));
		ATTACK_SECCOMP("an SCTP socket", sock_only(AF_INET, SOCK_STREAM, 132));
		ATTACK_SECCOMP("an SCTP socket (one-to-many)",
			       sock_only(AF_INET, SOCK_SEQPACKET, 132));
		ATTACK_SECCOMP("an MPTCP socket", sock_only(AF_INET6, SOCK_STREAM, 262));
		ATTACK_SECCOMP("a DCCP socket", sock_only(AF_INET, SOCK_DCCP, 33));
		ATTACK("listening on the host's 0.0.0.0 without bind", listen_unbound(AF_INET));
		ATTACK("listening on the host's :: without bind", listen_unbound(AF_INET6));
		ATTACK("swapping the fd under listen()", listen_swap_race());
		if (own_unix_listener() < 0) {
			printf("ESCAPED: control failed: no Unix listener of its own (%s)\n",
			       strerror(errno));
			escapes++;
		} else {
			printf("ok: a Unix listener of its own, with its own credentials\n");
		}
	}
	ESCAPE_DONE();
}
