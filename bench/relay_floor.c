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
 *
 *   relay_floor LISTEN_PORT TARGET_PORT COMMAND [ARG...]
 *
 * The same relay, and COMMAND run under a seccomp filter that hands each of
 * its connect(2) calls to the relay's loop as a user notification, which
 * the relay answers as the least a mediator that confines connects must
 * do (the sandbox's broker does this and judges too): the caller's socket
 * taken with pidfd_getfd, its family asked, the address read once from
 * the caller's memory, the notification checked alive, the connect made
 * by the relay on that socket (non-blocking, as a mediator serving others
 * must), a connection to its own listener taken at once, the answer sent.
 * A relay's floor for clients whose connects are mediated, as every agent
 * policy's are (bench/connect.sh says why); runs until COMMAND ends and
 * exits with its status.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

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

/* COMMAND, forked under a filter that notifies each connect(2); the
 * listener's fd comes back over a socket pair.  -1 on failure. */
static int spawn_notified(char **argv, pid_t *pid)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_connect, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
	char cbuf[CMSG_SPACE(sizeof(int))] = {0}, byte = 0;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	int sp[2], nfd;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -1;
	*pid = fork();
	if (*pid < 0)
		return -1;
	if (*pid == 0) {
		nfd = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0
			  ? -1
			  : (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
					 SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
		if (nfd < 0)
			_exit(126);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &nfd, sizeof(int));
		if (sendmsg(sp[1], &m, 0) != 1)
			_exit(126);
		close(nfd);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(sp[1]);
	nfd = -1;
	if (recvmsg(sp[0], &m, 0) == 1 && CMSG_FIRSTHDR(&m))
		memcpy(&nfd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
	close(sp[0]);
	if (nfd >= 0)
		(void)ioctl(nfd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
	return nfd;
}

static void add_pair(int ep, int c, const struct sockaddr_in *target);

/* One notified connect, answered (see the head of this file).  The pidfd
 * of the last caller is kept, as the broker keeps its callers'. */
static void mediate(int ep, int nfd, int ls, unsigned short port, const struct sockaddr_in *target)
{
	static pid_t last_pid;
	static int last_pidfd = -1;
	struct seccomp_notif req = {0};
	struct seccomp_notif_resp resp = {0};
	struct sockaddr_storage ss;
	int sock, domain = 0, r;
	socklen_t dl = sizeof(domain);

	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return;
	resp.id = req.id;
	if ((pid_t)req.pid != last_pid) {
		if (last_pidfd >= 0)
			close(last_pidfd);
		last_pidfd = (int)syscall(SYS_pidfd_open, req.pid, 0);
		last_pid = (pid_t)req.pid;
	}
	sock = (int)syscall(SYS_pidfd_getfd, last_pidfd, (int)req.data.args[0], 0);
	size_t len = req.data.args[2] < sizeof(ss) ? (size_t)req.data.args[2] : sizeof(ss);
	struct iovec li = {.iov_base = &ss, .iov_len = len};
	struct iovec ri = {.iov_base = (void *)(uintptr_t)req.data.args[1], .iov_len = len};
	if (sock < 0 || getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &dl) < 0 ||
	    domain != AF_INET ||
	    process_vm_readv((pid_t)req.pid, &li, 1, &ri, 1, 0) != (ssize_t)len ||
	    ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req.id) < 0) {
		resp.error = -EACCES;
	} else {
		int fl = fcntl(sock, F_GETFL);
		(void)fcntl(sock, F_SETFL, fl | O_NONBLOCK);
		r = connect(sock, (struct sockaddr *)&ss, (socklen_t)len) < 0 ? -errno : 0;
		if (r == -EINPROGRESS && !(fl & O_NONBLOCK)) {
			int err = 0;
			socklen_t el = sizeof(err);
			r = getsockopt(sock, SOL_SOCKET, SO_ERROR, &err, &el) < 0 ? -errno : -err;
		}
		(void)fcntl(sock, F_SETFL, fl);
		resp.error = r;
		if ((r == 0 || r == -EINPROGRESS) &&
		    ((struct sockaddr_in *)&ss)->sin_port == htons(port)) {
			int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0)
				add_pair(ep, c, target);
		}
	}
	if (sock >= 0)
		close(sock);
	(void)ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

/* A client's connection C, paired with a new one to the origin. */
static void add_pair(int ep, int c, const struct sockaddr_in *target)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int one = 1, u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (c >= MAX_FD || u < 0 || u >= MAX_FD ||
	    connect(u, (const struct sockaddr *)target, sizeof(*target)) < 0) {
		close(c);
		if (u >= 0)
			close(u);
		return;
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
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct epoll_event ev = {.events = EPOLLIN}, evs[64];
	static char buf[65536];
	int one = 1, ls, ep;
	unsigned short target;

	int nfd = -1, st;
	pid_t child = -1;
	unsigned short port;

	if (argc < 3)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	target = (unsigned short)atoi(argv[2]);
	port = (unsigned short)atoi(argv[1]);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin.sin_port = htons(port);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = ls;
	if (bind(ls, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(ls, 4096) < 0 || ep < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) < 0) {
		perror("relay_floor");
		return 1;
	}
	sin.sin_port = htons(target);
	memset(peer, -1, sizeof(peer));
	if (argc > 3) {
		nfd = spawn_notified(argv + 3, &child);
		ev.data.fd = nfd;
		if (nfd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, nfd, &ev) < 0) {
			perror("relay_floor: seccomp notification");
			return 1;
		}
	}
	for (;;) {
		int n = epoll_wait(ep, evs, 64, child > 0 ? 100 : -1);
		if (child > 0 && waitpid(child, &st, WNOHANG) == child)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == nfd) {
				mediate(ep, nfd, ls, port, &sin);
				continue;
			}
			if (fd == ls) {
				int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
				if (c >= 0)
					add_pair(ep, c, &sin);
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
