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
 *
 * listen(2) comes here too: on an inet socket that was never bound (and
 * Landlock refuses the sandbox every TCP bind) the kernel would bind it to
 * a free port on the host's 0.0.0.0, and a host peer could connect in
 * without the proxy.  Inet sockets get EACCES.  On any other socket the
 * supervisor makes the call itself, on its own copy of the very socket it
 * checked (pidfd_getfd shares the open file): a thread that swaps the fd
 * for an inet socket after the check gains nothing, since that socket is
 * never the one listened on.  The call is made with the command's user,
 * group and groups (on this thread only) so that SO_PEERCRED of the
 * listener shows the command, never the supervisor.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../netproxy/netproxy.h"
#include "broker_internal.h"

int seccomp_notify_trial(void)
{
	struct sock_filter f[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	struct sock_fprog prog = {.len = ARRAY_SIZE(f), .filter = f};
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			    &prog) < 0)
			_exit(errno & 0x7f);
		_exit(0);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : EIO;
}

const char *broker_unavailable(const struct landlock_caps *ll)
{
	struct seccomp_notif_sizes sz;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
		return "this kernel has no seccomp user notifications (Linux 5.0+)";
	if (ll->abi < 4)
		return "the connect broker needs Landlock's TCP rules (ABI 4, Linux 6.7+)";
	/* one notification listener per filter chain: where something above
	 * us holds one (WSL2's init does), ours is refused with EBUSY */
	if (seccomp_notify_trial() == EBUSY)
		return "a seccomp notification listener is already installed above ringfence "
		       "(as under WSL2), so the connect broker's is refused (EBUSY)";
	return NULL;
}

/* Linux 6.6's; Debian 12's headers predate it.  Drop these when they have
 * it. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* Every notification is a round trip: the caller stops, the supervisor
 * wakes and answers, the caller wakes.  With this flag each wake-up is
 * made on the CPU of the one that made it, which is about to wait anyway,
 * rather than on another the scheduler must first reach: the round trip
 * of every connect of the sandbox is shorter.  Only the scheduling
 * changes: what is checked and answered is the same. */
void broker_sync_wake(int nfd)
{
	(void)ioctl(nfd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
}

void broker_respond(int nfd, uint64_t id, int error, uint32_t flags)
{
	struct seccomp_notif_resp resp = {.id = id, .error = error, .flags = flags};

	/* ENOENT: the caller is gone (killed, or the call interrupted) */
	(void)ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

/* Whether process group PGRP is the sandbox's: its leader, or (gone) a
 * member found in /proc, under more seccomp filters than we are. */
static bool group_of_the_sandbox(pid_t pgrp)
{
	int own = seccomp_filters(getpid());
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;

	if (seccomp_filters(pgrp) > own)
		return true;
	if (kill(pgrp, 0) == 0 || errno != ESRCH || !(d = opendir("/proc")))
		return false;
	while ((de = readdir(d))) {
		char path[64], buf[512];
		long pid = strtol(de->d_name, NULL, 10);
		int pg = 0;
		_cleanup_close_ int fd = -1;
		ssize_t n;
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		const char *p = strrchr(buf, ')');
		if (p && sscanf(p + 1, " %*c %*d %d", &pg) == 1 && pg == pgrp)
			return seccomp_filters((pid_t)pid) > own;
	}
	return false;
}

/*
 * ioctl(TIOCSPGRP), the terminal's foreground given to a group: allowed
 * while the job holds the operator's terminal (its own group has the
 * foreground, or one of the sandbox's does), refused (EPERM) otherwise and
 * while it is held stopped in the background (runloop.c, job_held()).  An
 * outside review: a process of the sandbox continued by the shell's `bg`
 * (in the job's group, with the supervisor) or by a timer of its own made
 * its group the foreground before the supervisor could hold the job, which
 * then took that for its own, and read what was typed at the prompt.  The
 * call waits here until the supervisor has judged the job (the hold is
 * decided before the loop answers any notification).  Judged by the job's
 * state only, whatever terminal the call names: which one an fd is could
 * change (another thread's dup2()) between a look here and the kernel's
 * going on; a terminal of the sandbox's own takes no foreground from it
 * while the job holds the operator's, and none while it does not.
 */
static bool broker_tty(int nfd, const struct seccomp_notif *req, struct sandbox *sb)
{
	if (req->data.nr != __NR_ioctl || (uint32_t)req->data.args[1] != TIOCSPGRP)
		return false;
	if (sb->tty_fd < 0) {
		fsgate_continue(nfd, req);
		return true;
	}
	/* the foreground's group gone (a job of an inner shell ended): the
	 * job's still if the last one judged was */
	pid_t fg = tcgetpgrp(sb->tty_fd);
	bool gone = fg <= 0 || (kill(-fg, 0) < 0 && errno == ESRCH);
	bool ours = fg == getpgrp() || (gone ? sb->tty_ours : group_of_the_sandbox(fg));
	bool held = sb->tty_held || !ours;
	sb->tty_ours = !held;
	if (held)
		broker_respond(nfd, req->id, -EPERM, 0);
	else
		fsgate_continue(nfd, req);
	return true;
}

/* When the caller's fd flags cannot be read (broker_fd_flags): O_CLOEXEC
 * (the safer guess for a descriptor the command may pass on) and the
 * status flags of SOCK, the caller's open file. */
static int fd_flags_guessed(int sock)
{
	int fl = fcntl(sock, F_GETFL);

	return (fl < 0 ? 0 : fl) | O_CLOEXEC;
}

static int fd_flags(pid_t pid, int fd, int sock)
{
	int fl = broker_fd_flags(pid, fd);

	return fl >= 0 ? fl : fd_flags_guessed(sock);
}

static bool is_proxy(const struct sockaddr_storage *ss, size_t len, uint16_t port)
{
	if (ss->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const void *)ss;
		return s->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && ntohs(s->sin_port) == port;
	}
	if (ss->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const void *)ss;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
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

/* Our own connection to the proxy's listener on PORT, announced to it (as
 * a captured connect to CAP's target when CAP is given). */
static int connect_to_proxy(struct netproxy *np, uint16_t port, int flags,
			    const struct netproxy_capture *cap)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
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
	if (cap)
		netproxy_expect_capture(np, (struct sockaddr *)&me, ml, cap);
	else
		netproxy_expect(np, ntohs(me.sin_port), port);
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, 0) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	/* on loopback the handshake is done by now: the proxy takes the
	 * connection at once, checked as its listener's event would */
	netproxy_accept_now(np, port);
	return fd;
}

/* connect(2) of an inet socket where connects are brokered: the address
 * at UADDR read once; the proxy's address (with capture, also the
 * sandbox's nameserver or a target the policy allows) gets a socket of
 * our own connected to the proxy, installed over the caller's FD (SOCK is
 * its open file, of TYPE); any other address is refused. */
static void connect_brokered(int nfd, const struct seccomp_notif *req, const struct sandbox *sb,
			     struct netproxy *np, int sock, int fd, int type, uint64_t uaddr,
			     size_t alen, struct broker_stats *st)
{
	_cleanup_close_ int ours = -1;
	struct sockaddr_storage ss = {0};
	int fl, r;
	char what[96];

	/* the address, read once */
	r = broker_read_addr(req->pid, uaddr, &alen, &ss);
	if (r < 0) {
		broker_respond(nfd, req->id, r, 0);
		return;
	}
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return; /* the caller is gone; the pid may be another's now */

	/* transparent capture: the sandbox's nameserver (resolv.conf names
	 * 127.0.0.1, TCP), or a target the policy allows, taken to the proxy */
	struct netproxy_capture cap;
	bool captured = false;
	uint16_t to_port = sb->proxy_port;
	if (type == SOCK_STREAM && sb->capture && !is_proxy(&ss, alen, sb->proxy_port)) {
		if (is_proxy(&ss, alen, 53) && sb->dns_port) {
			to_port = sb->dns_port;
		} else if (netproxy_capture_judge(np, (struct sockaddr *)&ss, alen, &cap) == 0) {
			captured = true;
		} else {
			broker_respond(nfd, req->id, -EACCES, 0); /* logged by the proxy */
			return;
		}
	} else if (type != SOCK_STREAM || !is_proxy(&ss, alen, sb->proxy_port)) {
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
		broker_respond(nfd, req->id, -EACCES, 0);
		return;
	}
	fl = fd_flags(req->pid, fd, sock);
	ours = connect_to_proxy(np, to_port, fl, captured ? &cap : NULL);
	if (ours < 0) {
		broker_respond(nfd, req->id, -ECONNREFUSED, 0);
		return;
	}
	struct seccomp_notif_addfd add = {
	    .id = req->id,
	    .flags = SECCOMP_ADDFD_FLAG_SETFD,
	    .srcfd = (uint32_t)ours,
	    .newfd = (uint32_t)fd,
	    .newfd_flags = fl & O_CLOEXEC,
	};
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ADDFD, &add) < 0) {
		broker_respond(nfd, req->id, -EACCES, 0);
		return;
	}
	broker_respond(nfd, req->id, 0, 0);
}

int broker_handle(int nfd, struct sandbox *sb, struct netproxy *np, struct broker_stats *st)
{
	static struct seccomp_notif_sizes sizes;
	/* the request in this frame where the kernel's fits (it always has,
	 * 80 bytes): a heap block a call, made while the sandbox runs, was a
	 * page shared with init since the fork written (sandbox/README.md) */
	union {
		struct seccomp_notif n;
		char bytes[512];
	} here;
	_cleanup_free_ struct seccomp_notif *big = NULL;
	struct seccomp_notif *req = &here.n;
	_cleanup_close_ int sock = -1;
	int domain = 0, type = 0;
	socklen_t ol = sizeof(int);
	size_t alen;

	if (!sizes.seccomp_notif && syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		return -errno;
	if (sizes.seccomp_notif > sizeof(here)) {
		big = req = calloc(1, sizes.seccomp_notif);
		if (!req)
			return -ENOMEM;
	} else {
		memset(&here, 0, sizeof(here));
	}
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
		return errno == EINTR || errno == ENOENT ? 0 : -errno;
	if (broker_tty(nfd, req, sb))
		return 0; /* the terminal's foreground: given or refused */
	if (attrgate_handle(nfd, req, sb))
		return 0; /* a mode, owner, time or attribute: made or refused */
	if (fsgate_handle(nfd, req, sb))
		return 0; /* the file gate made the call */
	if (sb->trace && fstrace_is_traced(req->data.nr)) {
		fstrace_handle(nfd, req, sb, st);
		return 0;
	}
	if (sb->fsgate && req->data.nr != __NR_connect && req->data.nr != __NR_listen) {
		fsgate_continue(nfd, req);
		return 0;
	}
	if (req->data.nr == __NR_listen) {
		bk_handle_listen(nfd, req, sb, st);
		return 0;
	}
	if (req->data.nr != __NR_connect) {
		broker_respond(nfd, req->id, -ENOSYS, 0);
		return 0;
	}
	int fd = (int)req->data.args[0];
	uint64_t uaddr = req->data.args[1];
	alen = (size_t)(uint32_t)req->data.args[2];

	sock = broker_caller_getfd(req->pid, fd);
	if (sock < 0) {
		broker_respond(nfd, req->id, sock == -EBADF ? -EBADF : -EACCES, 0);
		return 0;
	}
	if (getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &ol) < 0) {
		broker_respond(nfd, req->id, -ENOTSOCK, 0);
		return 0;
	}
	ol = sizeof(int);
	if (domain == AF_INET || domain == AF_INET6)
		(void)getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &ol);
	if ((domain != AF_INET && domain != AF_INET6) || sb->iso != NET_ISO_BROKER) {
		/* Unix and netlink sockets, and inet ones where the sandbox has
		 * a network of its own (namespace) or the host's (mode = host) */
		bk_connect_mediated(nfd, req, sb, np, sock, domain, type, uaddr, alen, st);
		return 0;
	}
	connect_brokered(nfd, req, sb, np, sock, fd, type, uaddr, alen, st);
	return 0;
}
