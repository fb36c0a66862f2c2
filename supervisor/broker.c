/* SPDX-License-Identifier: MIT */
/*
 * The connect broker: where the sandbox has no network namespace of its own,
 * every connect(2) of the command's tree stops in the kernel and comes here
 * as a seccomp user notification.
 *
 *  - An inet socket connecting to the proxy's address: the supervisor
 *    connects a socket of its own to the proxy, tells the proxy to expect
 *    it, and installs it over the caller's fd (ADDFD with SETFD, keeping the
 *    caller's O_NONBLOCK and close-on-exec), then answers 0 separately: with
 *    ADDFD_FLAG_SEND connect() would return the fd number.
 *  - Any other inet address: EACCES, logged.
 *  - Other families (Unix, netlink): the kernel goes on with the call
 *    (CONTINUE).  The caller could swap the fd for an inet socket in
 *    between; Landlock refuses every TCP connect of the sandbox (the socket
 *    the broker installs was connected by the supervisor), and seccomp allows
 *    no inet socket but TCP, so the swap gains nothing.
 *
 * The caller's memory is read once, and the notification is checked to be
 * still alive after the read, so the pid read from was the caller's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../netproxy/netproxy.h"
#include "supervisor.h"

const char *broker_unavailable(const struct landlock_caps *ll)
{
	struct seccomp_notif_sizes sz;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
		return "this kernel has no seccomp user notifications (Linux 5.0+)";
	if (ll->abi < 4)
		return "the connect broker needs Landlock's TCP rules (ABI 4, Linux 6.7+)";
	return NULL;
}

static void respond(int nfd, uint64_t id, int error, uint32_t flags)
{
	struct seccomp_notif_resp resp = { .id = id, .error = error, .flags = flags };

	/* ENOENT: the caller is gone (killed, or the call interrupted) */
	(void)ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

/* The caller's fd flags (O_CLOEXEC is per descriptor: only fdinfo says). */
static bool fd_cloexec(pid_t pid, int fd)
{
	char path[64], line[128];
	FILE *f;
	bool cloexec = false;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	f = fopen(path, "re");
	if (!f)
		return true;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "flags:", 6) == 0)
			cloexec = strtoul(line + 6, NULL, 8) & O_CLOEXEC;
	fclose(f);
	return cloexec;
}

static bool is_proxy(const struct sockaddr_storage *ss, size_t len, uint16_t port)
{
	if (ss->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const void *)ss;
		return s->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && ntohs(s->sin_port) == port;
	}
	if (ss->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const void *)ss;
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		return memcmp(s->sin6_addr.s6_addr, mapped, 12) == 0 &&
		       memcmp(s->sin6_addr.s6_addr + 12, "\x7f\0\0\x01", 4) == 0 &&
		       ntohs(s->sin6_port) == port;
	}
	return false;
}

static void describe(const struct sockaddr_storage *ss, size_t len, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const void *)ss;
		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, ntohs(s->sin_port));
	} else if (ss->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const void *)ss;
		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(buf, size, "[%s]:%u", a, ntohs(s->sin6_port));
	} else {
		snprintf(buf, size, "an address of family %u", ss->ss_family);
	}
}

/* Linux 6.9's flag (O_EXCL) for a pidfd naming one thread; Debian 12's
 * headers predate it.  Drop this when they have it. */
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* The thread group a thread id belongs to, from /proc/TID/status. */
pid_t broker_thread_group(pid_t tid)
{
	char path[64], line[128];
	pid_t tgid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Tgid:", 5) == 0) {
			tgid = (pid_t)strtol(line + 5, NULL, 10);
			break;
		}
	fclose(f);
	return tgid > 0 ? tgid : -ESRCH;
}

/*
 * A pidfd for the caller.  A notification names the calling thread, and
 * pidfd_open() refuses any thread id but a thread group leader's unless
 * PIDFD_THREAD asks for that very thread (its fd table is the one the fd
 * number means).  Kernels before 6.9 lack the flag: there the thread group
 * is looked up, whose fd table every thread shares unless it was cloned
 * without CLONE_FILES; for such a thread the socket judged may be another,
 * which gains nothing: the one it really holds is connected by the kernel
 * only after the checks below, and Landlock refuses every TCP connect.
 * The notification is checked to be alive after the lookup (see below), so
 * the thread id was not reused meanwhile.  -errno on failure.
 */
int broker_caller_pidfd(pid_t tid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	pid_t tgid;

	if (pidfd >= 0)
		return pidfd;
	if (errno != EINVAL)
		return -errno;
	tgid = broker_thread_group(tid);
	if (tgid < 0)
		return (int)tgid;
	pidfd = (int)syscall(SYS_pidfd_open, tgid, 0);
	return pidfd >= 0 ? pidfd : -errno;
}

/* Our own connection to the proxy, announced to it. */
static int connect_to_proxy(const struct sandbox *sb, struct netproxy *np, int flags)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(sb->proxy_port) };
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	int fd, e;

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* loopback: the handshake is done, or done before the caller's first
	 * write needs it; answering 0 now is what a blocking connect says */
	if ((connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINPROGRESS) ||
	    getsockname(fd, (struct sockaddr *)&me, &ml) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	netproxy_expect(np, ntohs(me.sin_port));
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, 0) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int broker_handle(int nfd, const struct sandbox *sb, struct netproxy *np,
		  struct broker_stats *st)
{
	static struct seccomp_notif_sizes sizes;
	_cleanup_free_ struct seccomp_notif *req = NULL;
	_cleanup_close_ int pidfd = -1, sock = -1, ours = -1;
	struct sockaddr_storage ss = { 0 };
	int domain = 0, type = 0, fl;
	socklen_t ol = sizeof(int);
	size_t alen;
	char what[96];

	if (!sizes.seccomp_notif &&
	    syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		return -errno;
	req = calloc(1, sizes.seccomp_notif > sizeof(*req) ? sizes.seccomp_notif : sizeof(*req));
	if (!req)
		return -ENOMEM;
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
		return errno == EINTR || errno == ENOENT ? 0 : -errno;
	if (req->data.nr != __NR_connect) {
		respond(nfd, req->id, -ENOSYS, 0);
		return 0;
	}
	int fd = (int)req->data.args[0];
	uint64_t uaddr = req->data.args[1];
	alen = (size_t)(uint32_t)req->data.args[2];

	pidfd = broker_caller_pidfd(req->pid);
	if (pidfd >= 0)
		sock = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (sock < 0) {
		int e = pidfd >= 0 ? errno : -pidfd;
		respond(nfd, req->id, e == EBADF ? -EBADF : -EACCES, 0);
		return 0;
	}
	if (getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &ol) < 0) {
		respond(nfd, req->id, -ENOTSOCK, 0);
		return 0;
	}
	ol = sizeof(int);
	(void)getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &ol);
	if (domain != AF_INET && domain != AF_INET6) {
		/* checked again by the kernel, with Landlock behind it */
		if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0)
			respond(nfd, req->id, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
		return 0;
	}

	/* the address, read once */
	if (alen > sizeof(ss))
		alen = sizeof(ss);
	struct iovec local = { .iov_base = &ss, .iov_len = alen };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)uaddr, .iov_len = alen };
	if (alen < sizeof(sa_family_t) ||
	    process_vm_readv(req->pid, &local, 1, &remote, 1, 0) != (ssize_t)alen) {
		respond(nfd, req->id, alen < sizeof(sa_family_t) ? -EINVAL : -EFAULT, 0);
		return 0;
	}
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return 0; /* the caller is gone; the pid may be another's now */

	if (type != SOCK_STREAM || !is_proxy(&ss, alen, sb->proxy_port)) {
		describe(&ss, alen, what, sizeof(what));
		st->refused++;
		snprintf(st->last, sizeof(st->last), "%s", what);
		if (audit_rate_ok(sb->audit_fd)) {
			char host[96];
			json_string(host, sizeof(host), what);
			audit_event(sb->audit_fd, "net.deny",
				    "\"proto\":\"direct\",\"caller\":%u,\"addr\":%s,\"reason\":"
				    "\"direct connections are refused: use the proxy\"",
				    req->pid, host);
		}
		respond(nfd, req->id, -EACCES, 0);
		return 0;
	}
	fl = fcntl(sock, F_GETFL);
	ours = connect_to_proxy(sb, np, fl < 0 ? 0 : fl);
	if (ours < 0) {
		respond(nfd, req->id, -ECONNREFUSED, 0);
		return 0;
	}
	struct seccomp_notif_addfd add = {
		.id = req->id,
		.flags = SECCOMP_ADDFD_FLAG_SETFD,
		.srcfd = (uint32_t)ours,
		.newfd = (uint32_t)fd,
		.newfd_flags = fd_cloexec(req->pid, fd) ? O_CLOEXEC : 0,
	};
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ADDFD, &add) < 0) {
		respond(nfd, req->id, -EACCES, 0);
		return 0;
	}
	respond(nfd, req->id, 0, 0);
	return 0;
}
