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
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../netproxy/netproxy.h"
#include "supervisor.h"

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

/* When the caller's fd flags cannot be read (broker_fd_flags): O_CLOEXEC
 * (the safer guess for a descriptor the command may pass on) and the
 * status flags of SOCK, the caller's open file. */
static int fd_flags_guessed(int sock)
{
	int fl = fcntl(sock, F_GETFL);

	return (fl < 0 ? 0 : fl) | O_CLOEXEC;
}

int broker_fd_flags(pid_t pid, int fd)
{
	char path[64], text[256];
	const char *f;
	ssize_t n;
	int dfd;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	dfd = open(path, O_RDONLY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	n = read(dfd, text, sizeof(text) - 1);
	close(dfd);
	if (n <= 0)
		return -EIO;
	text[n] = '\0';
	f = strstr(text, "\nflags:");
	return f ? (int)strtoul(f + 7, NULL, 8) : -EIO;
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

/* An address of the sandbox's own loopback (namespace): 127.0.0.0/8, ::1,
 * and 127.0.0.0/8 as a v6 socket names it; and the any address (0.0.0.0,
 * ::), which connect(2) takes for this machine, here the namespace. */
static bool is_loopback(const struct sockaddr_storage *ss, size_t len)
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};

	if (ss->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const void *)ss;
		uint32_t a = ntohl(s->sin_addr.s_addr);
		return (a >> 24) == 127 || a == INADDR_ANY;
	}
	if (ss->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const void *)ss;
		const uint8_t *b = s->sin6_addr.s6_addr;
		return IN6_IS_ADDR_LOOPBACK(&s->sin6_addr) ||
		       IN6_IS_ADDR_UNSPECIFIED(&s->sin6_addr) ||
		       (memcmp(b, mapped, 12) == 0 &&
			(b[12] == 127 || (b[12] | b[13] | b[14] | b[15]) == 0));
	}
	return false;
}

/* The port of an inet address (ALEN checked by the caller). */
static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)ss)->sin6_port)
					 : ntohs(((const struct sockaddr_in *)ss)->sin_port);
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

/* The number after FIELD ("Tgid:") in /proc/TID/status, in BASE; -errno. */
long broker_status_field(pid_t tid, const char *field, int base)
{
	char path[64], line[128];
	size_t n = strlen(field);
	long v = -ESRCH;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0) {
			v = strtol(line + n, NULL, base);
			break;
		}
	fclose(f);
	return v;
}

/* The thread group a thread id belongs to, from /proc/TID/status. */
pid_t broker_thread_group(pid_t tid)
{
	long tgid = broker_status_field(tid, "Tgid:", 10);

	return tgid > 0 ? (pid_t)tgid : tgid < 0 ? (pid_t)tgid : -ESRCH;
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

/*
 * The caller's socket FD, taken with pidfd_getfd: -errno on failure
 * (-EBADF: no such fd).  Pidfds naming one thread (PIDFD_THREAD) are kept
 * while their thread lives, so that a command that connects again and
 * again does not cost an open and a close each time.  A kept pidfd names
 * the very thread it was opened for, never its number: once that thread
 * has ended, pidfd_getfd fails with ESRCH whatever now has the number,
 * and a new pidfd is opened; the notification is checked to be alive
 * after the caller's memory is read, as with a new one.  Group pidfds
 * (kernels before 6.9) are never kept: one found through a thread's
 * number may outlive that thread while its group goes on.
 */
#define PIDFD_KEPT 16
static struct {
	pid_t tid;
	int fd;
} kept[PIDFD_KEPT];
static unsigned kept_next;

static void kept_drop(size_t i)
{
	if (kept[i].tid > 0)
		close(kept[i].fd);
	kept[i].tid = 0;
	kept[i].fd = -1;
}

static int broker_caller_getfd(pid_t tid, int fd)
{
	int pidfd, sock;

	for (size_t i = 0; i < PIDFD_KEPT; i++) {
		if (kept[i].tid != tid || tid <= 0)
			continue;
		sock = (int)syscall(SYS_pidfd_getfd, kept[i].fd, fd, 0);
		if (sock >= 0 || errno != ESRCH)
			return sock >= 0 ? sock : -errno;
		kept_drop(i); /* that thread has ended: the number is another's */
		break;
	}
	pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (pidfd >= 0) {
		size_t i = kept_next++ % PIDFD_KEPT;
		kept_drop(i);
		kept[i].tid = tid;
		kept[i].fd = pidfd;
		sock = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
		return sock >= 0 ? sock : -errno;
	}
	pidfd = broker_caller_pidfd(tid);
	if (pidfd < 0)
		return pidfd == -EBADF ? -EACCES : pidfd;
	sock = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	sock = sock >= 0 ? sock : -errno;
	close(pidfd);
	return sock;
}

/* A NUL-terminated string from the caller's memory, page by page (a
 * string that ends just before an unmapped page must still be read). */
int broker_read_string(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	size_t off = 0;

	if (!addr)
		return -EFAULT;
	while (off < size - 1) {
		size_t chunk = 4096 - ((addr + off) & 4095);
		if (chunk > size - 1 - off)
			chunk = size - 1 - off;
		struct iovec l = {.iov_base = buf + off, .iov_len = chunk};
		struct iovec r = {.iov_base = (void *)(uintptr_t)(addr + off), .iov_len = chunk};
		ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);
		if (n <= 0)
			return -EFAULT;
		if (memchr(buf + off, '\0', (size_t)n))
			return 0;
		off += (size_t)n;
	}
	return -ENAMETOOLONG;
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

/* Lowers (ENTER) or restores this thread's effective capabilities: the
 * command holds none (privdrop.c), so what the supervisor does for it as
 * its own user must not either.  Found by an outside review: as root with
 * run_as = root the file gate wrote a 0444 file and another user's file
 * with CAP_DAC_OVERRIDE the command had dropped. */
static int caps_effective(bool lower)
{
	/* read once: the supervisor never changes its own capabilities
	 * after start (only the command's are dropped, in privdrop.c), and
	 * every connect of the command comes through here */
	static struct __user_cap_data_struct saved[_LINUX_CAPABILITY_U32S_3];
	static bool have_saved;
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (lower) {
		if (!have_saved && syscall(SYS_capget, &h, saved) < 0)
			return -errno;
		have_saved = true;
		memcpy(d, saved, sizeof(d));
		for (size_t i = 0; i < ARRAY_SIZE(d); i++)
			d[i].effective = 0;
		return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
	}
	if (syscall(SYS_capset, &h, saved) < 0)
		die("cannot restore the supervisor's capabilities: %s", strerror(errno));
	return 0;
}

/* Switches this thread's effective ids to the command's (raw system calls:
 * glibc's wrappers would change every thread's), and back; where the
 * command runs as our own user, only the effective capabilities go. */
int broker_as_command(const struct sandbox *sb, bool enter)
{
	static gid_t saved_groups[NGROUPS_MAX];
	static int n_saved = -1;

	if (!sb->drop_to_user)
		return caps_effective(enter);
	if (enter) {
		n_saved = getgroups(NGROUPS_MAX, saved_groups);
		if (n_saved < 0 || syscall(SYS_setgroups, (size_t)sb->n_groups, sb->groups) < 0 ||
		    syscall(SYS_setresgid, -1, sb->gid, -1) < 0 ||
		    syscall(SYS_setresuid, -1, sb->uid, -1) < 0) {
			int e = errno;
			(void)broker_as_command(sb, false);
			return -e;
		}
		return 0;
	}
	/* the real and saved ids stayed ours: going back is always allowed */
	if (syscall(SYS_setresuid, -1, getuid(), -1) < 0 ||
	    syscall(SYS_setresgid, -1, getgid(), -1) < 0 ||
	    (n_saved >= 0 && syscall(SYS_setgroups, (size_t)n_saved, saved_groups) < 0))
		die("cannot return to the supervisor's own ids: %s", strerror(errno));
	return 0;
}

static void refuse_unix(int nfd, const struct seccomp_notif *req, const struct sandbox *sb,
			struct broker_stats *st, const char *what, const char *reason);

/* A Unix socket bound to an abstract name (sun_path[0] == '\0'). */
static bool abstract_bound(int sock)
{
	struct sockaddr_un sa = {0};
	socklen_t len = sizeof(sa);

	if (getsockname(sock, (struct sockaddr *)&sa, &len) < 0)
		return true; /* cannot tell: treated as the riskier kind */
	return len > offsetof(struct sockaddr_un, sun_path) && sa.sun_path[0] == '\0';
}

static void handle_listen(int nfd, const struct seccomp_notif *req, const struct sandbox *sb,
			  struct broker_stats *st)
{
	_cleanup_close_ int sock = -1;
	int domain = 0, r;
	socklen_t ol = sizeof(domain);

	/* any thread may listen (Go listens from whichever thread runs the
	 * goroutine): the same lookup as connect's */
	sock = broker_caller_getfd(req->pid, (int)req->data.args[0]);
	if (sock < 0) {
		broker_respond(nfd, req->id, sock == -EBADF ? -EBADF : -EACCES, 0);
		return;
	}
	if (getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &ol) < 0) {
		broker_respond(nfd, req->id, -ENOTSOCK, 0);
		return;
	}
	if ((domain == AF_INET || domain == AF_INET6) && sb->iso == NET_ISO_BROKER) {
		st->refused++;
		snprintf(st->last, sizeof(st->last), "listening on an inet socket");
		if (audit_rate_ok(sb->audit_fd))
			audit_event(sb->audit_fd, "net.deny",
				    "\"proto\":\"listen\",\"caller\":%u,\"reason\":"
				    "\"inbound connections are refused\"",
				    req->pid);
		broker_respond(nfd, req->id, -EACCES, 0);
		return;
	}
	/* Without a network namespace of its own, an abstract name is in the
	 * host's namespace: Landlock's scope keeps the sandbox from connecting
	 * out to one, but not the host from connecting in to a listener the
	 * sandbox binds there (a channel past the proxy, or a name squatted
	 * that a host client expects).  So such a listener is refused. */
	if (domain == AF_UNIX && !sb->new_net_ns && abstract_bound(sock)) {
		refuse_unix(nfd, req, sb, st, "listening on an abstract socket",
			    "inbound connections are refused: abstract names are the "
			    "host's without a network namespace");
		return;
	}
	/* the caller may be gone and its pid reused: act only for a live call */
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return;
	r = broker_as_command(sb, true);
	if (r == 0) {
		r = listen(sock, (int)req->data.args[1]) < 0 ? -errno : 0;
		(void)broker_as_command(sb, false);
	}
	broker_respond(nfd, req->id, r, 0);
}

/*
 * connect(2) on anything but the broker's inet sockets, made by the
 * supervisor itself: never answered CONTINUE, since the kernel would then
 * read the fd number and the address again, and a thread of the caller
 * could have swapped either for one that was never checked.
 *
 * Pathname Unix sockets, and why no swap gets through:
 *  - the address is read once from the caller's memory; only our copy is
 *    used afterwards;
 *  - the socket is the caller's open file, taken with pidfd_getfd before
 *    anything else: that socket is the one connected, whatever the number
 *    names by then;
 *  - the path is resolved once, in the caller's view (absolute: from
 *    /proc/PID/root with RESOLVE_IN_ROOT, so its mount namespace and masks
 *    apply; relative: from /proc/PID/cwd with symlinks refused), to an
 *    O_PATH fd.  The decision is made on that inode (its kernel name
 *    against unix_connect, or its filesystem being the private /tmp), and
 *    the connect goes through /proc/self/fd/N to that same inode: renaming
 *    or replacing any component, or planting a symlink, after the check
 *    reaches nothing else;
 *  - the caller's root and cwd are opened before the notification is
 *    checked to be alive, and only those fds are used after, so a reused
 *    pid cannot lend its view;
 *  - the connect is made with the command's user, group and groups, so the
 *    socket's permissions and the server's SO_PEERCRED see the command.
 * What is left: a second name (hard link) for a host socket inside a
 * directory the policy names would pass; Landlock refuses making such links
 * from outside the grants (the refer right).
 *
 * Abstract sockets: with a network namespace of its own every abstract name
 * the sandbox can reach is its own (the socket's namespace decides);
 * without one, init makes the connect inside Landlock's scope (relay.c),
 * and without that scope they are refused.
 */
static int connect_as_command(const struct sandbox *sb, int sock, const struct sockaddr *sa,
			      socklen_t len)
{
	int fl = fcntl(sock, F_GETFL), r;

	r = broker_as_command(sb, true);
	if (r < 0)
		return r;
	/* Never wait in the supervisor: its loop serves the proxy, the DNS
	 * and every other call, and a connect the sandbox can keep in
	 * progress (a full queue of its own listener, a TCP-MD5 key that
	 * drops the handshake) would hold all of them.  The connect is made
	 * non-blocking; on loopback its outcome is usually known as it
	 * returns (the peer's SYN-ACK or RST is handled before connect()
	 * does), and then a blocking caller gets it.  One still in progress
	 * is answered 0: the caller's own next send or receive waits for it,
	 * and fails if it fails. */
	if (fl >= 0 && !(fl & O_NONBLOCK))
		(void)fcntl(sock, F_SETFL, fl | O_NONBLOCK);
	r = connect(sock, sa, len) < 0 ? -errno : 0;
	if (r == -EINPROGRESS && fl >= 0 && !(fl & O_NONBLOCK)) {
		/* failed already (a refused loopback connect is), or 0:
		 * connected or still under way, both answered 0 */
		int err = 0;
		socklen_t el = sizeof(err);
		r = getsockopt(sock, SOL_SOCKET, SO_ERROR, &err, &el) < 0 ? -errno : -err;
	}
	if (fl >= 0 && !(fl & O_NONBLOCK))
		(void)fcntl(sock, F_SETFL, fl);
	(void)broker_as_command(sb, false);
	return r;
}

static void refuse_unix(int nfd, const struct seccomp_notif *req, const struct sandbox *sb,
			struct broker_stats *st, const char *what, const char *reason)
{
	char js[300];

	st->refused++;
	snprintf(st->last, sizeof(st->last), "%s", what);
	if (audit_rate_ok(sb->audit_fd)) {
		json_string(js, sizeof(js), what);
		audit_event(sb->audit_fd, "net.deny",
			    "\"proto\":\"unix\",\"caller\":%u,\"path\":%s,\"reason\":\"%s\"",
			    req->pid, js, reason);
	}
	broker_respond(nfd, req->id, -EACCES, 0);
}

/* The socket file is on the sandbox's private /tmp or /dev/shm (ROOT: the
 * caller's root directory, opened while the caller was known alive). */
static bool in_private_tmp(const struct sandbox *sb, int root, const struct stat *sock_st,
			   const char *name)
{
	if (!sb->policy->fs.private_tmp)
		return false;
	if (sb->ns == NS_NONE)
		return sb->private_tmp_dir && landlock_path_beneath(name, sb->private_tmp_dir);
	static const char *const dirs[] = {"tmp", "dev/shm"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		struct stat st;
		if (fstatat(root, dirs[i], &st, 0) == 0 && st.st_dev == sock_st->st_dev)
			return true;
	}
	return false;
}

static void connect_unix(int nfd, const struct seccomp_notif *req, const struct sandbox *sb,
			 int sock, const struct sockaddr_un *sa, size_t alen,
			 struct broker_stats *st)
{
	_cleanup_close_ int root = -1, dir = -1, target = -1;
	size_t n = alen - offsetof(struct sockaddr_un, sun_path);
	char path[sizeof(sa->sun_path) + 1], dirp[64], self[64], name[PATH_MAX];
	struct stat sst;
	ssize_t nl;
	int r;

	/* the kernel's own bounds (unix_validate_addr) */
	if (alen <= offsetof(struct sockaddr_un, sun_path) || alen > sizeof(*sa)) {
		broker_respond(nfd, req->id, -EINVAL, 0);
		return;
	}
	if (sa->sun_path[0] == '\0') {
		if (!sb->new_net_ns && sb->abstract_relay[0] < 0) {
			refuse_unix(nfd, req, sb, st, "an abstract socket",
				    "abstract sockets are refused without a network namespace "
				    "or Landlock's scope");
			return;
		}
		if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
			return;
		if (sb->new_net_ns) {
			r = connect_as_command(sb, sock, (const void *)sa, (socklen_t)alen);
		} else {
			/* made by init, inside Landlock's scope (relay.c) */
			int fl = fcntl(sock, F_GETFL);
			if (fl >= 0 && !(fl & O_NONBLOCK))
				(void)fcntl(sock, F_SETFL, fl | O_NONBLOCK);
			r = relay_connect(sb->abstract_relay[0], sock, sa, (socklen_t)alen);
			if (fl >= 0 && !(fl & O_NONBLOCK))
				(void)fcntl(sock, F_SETFL, fl);
			if (r == -EPERM)
				refuse_unix(nfd, req, sb, st,
					    "an abstract socket outside the sandbox",
					    "Landlock's scope");
		}
		if (r != -EPERM || sb->new_net_ns)
			broker_respond(nfd, req->id, r, 0);
		return;
	}
	memcpy(path, sa->sun_path, n);
	path[n] = '\0';
	snprintf(dirp, sizeof(dirp), "/proc/%d/root", req->pid);
	root = open(dirp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(dirp, sizeof(dirp), "/proc/%d/cwd", req->pid);
	dir = path[0] == '/' ? -1 : open(dirp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return; /* gone: the pid may be another's now */
	if (root < 0 || (path[0] != '/' && dir < 0)) {
		broker_respond(nfd, req->id, -EACCES, 0);
		return;
	}
	struct open_how how = {
	    .flags = O_PATH | O_CLOEXEC,
	    .resolve =
		RESOLVE_NO_MAGICLINKS | (path[0] == '/' ? RESOLVE_IN_ROOT : RESOLVE_NO_SYMLINKS),
	};
	target = (int)syscall(SYS_openat2, path[0] == '/' ? root : dir,
			      path[0] == '/' ? path + 1 : path, &how, sizeof(how));
	if (target < 0) {
		broker_respond(nfd, req->id, -errno, 0);
		return;
	}
	if (fstat(target, &sst) < 0 || !S_ISSOCK(sst.st_mode)) {
		broker_respond(nfd, req->id, -ECONNREFUSED, 0);
		return;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", target);
	nl = readlink(self, name, sizeof(name) - 1);
	if (nl <= 0) {
		broker_respond(nfd, req->id, -EACCES, 0);
		return;
	}
	name[nl] = '\0';
	/* a glob (unix_connect = ~/ and all beneath) does not reach into what the policy
	 * denies: ~/.gnupg's agent, ~/.docker's daemon */
	if (path_denied(sb, name)) {
		refuse_unix(nfd, req, sb, st, name, "beneath a [filesystem] deny path");
		return;
	}
	if (!unixsock_match(sb->unix_connect, sb->n_unix_connect, name) &&
	    !in_private_tmp(sb, root, &sst, name)) {
		refuse_unix(nfd, req, sb, st, name, "not named in [network] unix_connect");
		return;
	}
	struct sockaddr_un to = {.sun_family = AF_UNIX};
	snprintf(to.sun_path, sizeof(to.sun_path), "%s", self);
	r = connect_as_command(sb, sock, (struct sockaddr *)&to, sizeof(to));
	broker_respond(nfd, req->id, r, 0);
}

/*
 * Transparent capture with a network namespace: a TCP connect to anything
 * but the sandbox's own loopback has no route out, so the policy is asked
 * (netproxy_capture_judge: the name behind a synthetic address the
 * sandbox's DNS gave, or the address itself), and when it allows the
 * target the supervisor connects the caller's own socket (its copy of the
 * open file) to the proxy's listener inside the namespace and leaves a
 * ticket for the port it came from.  The caller's socket keeps its
 * options; only its peer is the proxy, which dials the target.
 */
static void capture_in_namespace(int nfd, const struct seccomp_notif *req, const struct sandbox *sb,
				 struct netproxy *np, int sock, const struct sockaddr_storage *ss,
				 size_t alen)
{
	struct netproxy_capture cap;
	struct sockaddr_storage to = {0}, me;
	socklen_t tl, ml = sizeof(me);
	int r;

	if (!np || netproxy_capture_judge(np, (const struct sockaddr *)ss, alen, &cap) < 0) {
		broker_respond(nfd, req->id, -EACCES, 0);
		return;
	}
	if (ss->ss_family == AF_INET6) {
		struct sockaddr_in6 *s = (void *)&to;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons(sb->proxy_port);
		s->sin6_addr.s6_addr[10] = s->sin6_addr.s6_addr[11] = 0xff;
		s->sin6_addr.s6_addr[12] = 127;
		s->sin6_addr.s6_addr[15] = 1;
		tl = sizeof(*s);
	} else {
		struct sockaddr_in *s = (void *)&to;
		s->sin_family = AF_INET;
		s->sin_port = htons(sb->proxy_port);
		s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		tl = sizeof(*s);
	}
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return;
	r = connect_as_command(sb, sock, (struct sockaddr *)&to, tl);
	if ((r == 0 || r == -EINPROGRESS) && getsockname(sock, (struct sockaddr *)&me, &ml) == 0) {
		netproxy_expect_capture(np, (struct sockaddr *)&me, ml, &cap);
		netproxy_accept_now(np, sb->proxy_port);
	}
	broker_respond(nfd, req->id, r, 0);
}

static void connect_mediated(int nfd, const struct seccomp_notif *req, const struct sandbox *sb,
			     struct netproxy *np, int sock, int domain, int type, uint64_t uaddr,
			     size_t alen, struct broker_stats *st)
{
	struct sockaddr_storage ss = {0};

	if (alen > sizeof(ss))
		alen = sizeof(ss);
	struct iovec local = {.iov_base = &ss, .iov_len = alen};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)uaddr, .iov_len = alen};
	if (alen < sizeof(sa_family_t) ||
	    process_vm_readv(req->pid, &local, 1, &remote, 1, 0) != (ssize_t)alen) {
		broker_respond(nfd, req->id, alen < sizeof(sa_family_t) ? -EINVAL : -EFAULT, 0);
		return;
	}
	if (ss.ss_family == AF_UNSPEC && domain != AF_UNIX) {
		/* dissolving an association: reaches nothing */
		if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0)
			broker_respond(
			    nfd, req->id,
			    connect(sock, (struct sockaddr *)&ss, (socklen_t)alen) < 0 ? -errno : 0,
			    0);
		return;
	}
	if (ss.ss_family != domain) {
		broker_respond(nfd, req->id, -EAFNOSUPPORT, 0);
		return;
	}
	switch (domain) {
	case AF_UNIX:
		connect_unix(nfd, req, sb, sock, (const struct sockaddr_un *)&ss, alen, st);
		return;
	case AF_NETLINK: {
		/* to the kernel only: a multicast group would be joined with the
		 * supervisor's capabilities */
		const struct sockaddr_nl *nl = (const void *)&ss;
		if (alen < sizeof(*nl) || nl->nl_pid != 0 || nl->nl_groups != 0) {
			broker_respond(nfd, req->id, -EACCES, 0);
			return;
		}
		break;
	}
	case AF_INET:
	case AF_INET6:
		if (sb->capture && sb->iso == NET_ISO_NAMESPACE && type == SOCK_STREAM &&
		    !is_loopback(&ss, alen)) {
			capture_in_namespace(nfd, req, sb, np, sock, &ss, alen);
			return;
		}
		break;
	default:
		broker_respond(nfd, req->id, -EAFNOSUPPORT, 0);
		return;
	}
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return;
	int r = connect_as_command(sb, sock, (struct sockaddr *)&ss, (socklen_t)alen);
	/* the sandbox's own proxy (in its namespace): taken at once, as
	 * the broker's connections are (a connect to another listener on
	 * that port finds nothing to take) */
	if (np && r == 0 && type == SOCK_STREAM && sb->iso == NET_ISO_NAMESPACE &&
	    is_loopback(&ss, alen) && port_of(&ss) == sb->proxy_port)
		netproxy_accept_now(np, sb->proxy_port);
	broker_respond(nfd, req->id, r, 0);
}

int broker_handle(int nfd, const struct sandbox *sb, struct netproxy *np, struct broker_stats *st)
{
	static struct seccomp_notif_sizes sizes;
	_cleanup_free_ struct seccomp_notif *req = NULL;
	_cleanup_close_ int sock = -1, ours = -1;
	struct sockaddr_storage ss = {0};
	int domain = 0, type = 0, fl;
	socklen_t ol = sizeof(int);
	size_t alen;
	char what[96];

	if (!sizes.seccomp_notif && syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		return -errno;
	req = calloc(1, sizes.seccomp_notif > sizeof(*req) ? sizes.seccomp_notif : sizeof(*req));
	if (!req)
		return -ENOMEM;
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
		return errno == EINTR || errno == ENOENT ? 0 : -errno;
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
		handle_listen(nfd, req, sb, st);
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
		connect_mediated(nfd, req, sb, np, sock, domain, type, uaddr, alen, st);
		return 0;
	}

	/* the address, read once */
	if (alen > sizeof(ss))
		alen = sizeof(ss);
	struct iovec local = {.iov_base = &ss, .iov_len = alen};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)uaddr, .iov_len = alen};
	if (alen < sizeof(sa_family_t) ||
	    process_vm_readv(req->pid, &local, 1, &remote, 1, 0) != (ssize_t)alen) {
		broker_respond(nfd, req->id, alen < sizeof(sa_family_t) ? -EINVAL : -EFAULT, 0);
		return 0;
	}
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return 0; /* the caller is gone; the pid may be another's now */

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
			return 0;
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
		return 0;
	}
	fl = fd_flags(req->pid, fd, sock);
	ours = connect_to_proxy(np, to_port, fl, captured ? &cap : NULL);
	if (ours < 0) {
		broker_respond(nfd, req->id, -ECONNREFUSED, 0);
		return 0;
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
		return 0;
	}
	broker_respond(nfd, req->id, 0, 0);
	return 0;
}
