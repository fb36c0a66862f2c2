/* SPDX-License-Identifier: MIT */
/*
 * The calls the supervisor makes itself for the command, on its own copy
 * of the caller's socket and as the command: listen(2) (refused on an
 * inet socket where connects are brokered, and on an abstract name
 * without a network namespace), and connect(2) on anything but the
 * broker's inet sockets: pathname Unix sockets judged against [network]
 * unix_connect, abstract ones, netlink to the kernel, and inet ones where
 * the sandbox has a network of its own (transparent capture there) or the
 * host's.  broker.c answers the broker's inet connects.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "../netproxy/netproxy.h"
#include "broker_internal.h"

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

static void refuse_unix(int nfd, const struct seccomp_notif *req, const struct sandbox *sb,
			struct broker_stats *st, const char *what, const char *reason);

/* What a Unix socket is bound to: its address is set once, and never
 * changes after. */
enum unix_bound { UNIX_UNBOUND, UNIX_PATH, UNIX_ABSTRACT };

static enum unix_bound unix_bound(int sock)
{
	struct sockaddr_un sa = {0};
	socklen_t len = sizeof(sa);

	if (getsockname(sock, (struct sockaddr *)&sa, &len) < 0)
		return UNIX_ABSTRACT; /* cannot tell: treated as the riskier kind */
	if (len <= offsetof(struct sockaddr_un, sun_path))
		return UNIX_UNBOUND;
	return sa.sun_path[0] == '\0' ? UNIX_ABSTRACT : UNIX_PATH;
}

void bk_handle_listen(int nfd, const struct seccomp_notif *req, const struct sandbox *sb,
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
	 * that a host client expects).  So such a listener is refused.  One
	 * not bound yet is refused as the kernel refuses it (EINVAL), here:
	 * let through, another thread of the caller could bind it to an
	 * abstract name between this look and the listen below (an outside
	 * review won that race in a few tries); a bound one stays as it is. */
	enum unix_bound b = domain == AF_UNIX && !sb->new_net_ns ? unix_bound(sock) : UNIX_PATH;
	if (b == UNIX_UNBOUND) {
		broker_respond(nfd, req->id, -EINVAL, 0);
		return;
	}
	if (b == UNIX_ABSTRACT) {
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
static int connect_now(int sock, const struct sockaddr *sa, socklen_t len)
{
	int fl = fcntl(sock, F_GETFL), r;

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
	return r;
}

static int connect_as_command(const struct sandbox *sb, int sock, const struct sockaddr *sa,
			      socklen_t len)
{
	int r = broker_as_command(sb, true);

	if (r < 0)
		return r;
	r = connect_now(sock, sa, len);
	(void)broker_as_command(sb, false);
	return r;
}

/* A TCP or UDP connect inside the sandbox's own network namespace is made
 * with the supervisor's ids and capabilities as they are: neither is
 * looked at by a connect of an inet socket (a port is bound without
 * privilege; the options that need one were set, or refused, when the
 * command set them; the socket's owner is the one who made it), and the
 * namespace holds only its loopback.  The switch to the command's ids
 * and back cost two to eight system calls a connect (bench/proxy.sh,
 * section 2b). */
static int connect_inet_in_namespace(int sock, const struct sockaddr *sa, socklen_t len)
{
	return connect_now(sock, sa, len);
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

/* An abstract name: with a network namespace of its own, connected as
 * the command; without one, by init inside Landlock's scope. */
static void connect_abstract(int nfd, const struct seccomp_notif *req, const struct sandbox *sb,
			     int sock, const struct sockaddr_un *sa, size_t alen,
			     struct broker_stats *st)
{
	int r;

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
			refuse_unix(nfd, req, sb, st, "an abstract socket outside the sandbox",
				    "Landlock's scope");
	}
	if (r != -EPERM || sb->new_net_ns)
		broker_respond(nfd, req->id, r, 0);
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
		connect_abstract(nfd, req, sb, sock, sa, alen, st);
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
	r = connect_inet_in_namespace(sock, (struct sockaddr *)&to, tl);
	if ((r == 0 || r == -EINPROGRESS) && getsockname(sock, (struct sockaddr *)&me, &ml) == 0) {
		netproxy_expect_capture(np, (struct sockaddr *)&me, ml, &cap);
		netproxy_accept_now(np, sb->proxy_port);
	}
	broker_respond(nfd, req->id, r, 0);
}

void bk_connect_mediated(int nfd, const struct seccomp_notif *req, const struct sandbox *sb,
			 struct netproxy *np, int sock, int domain, int type, uint64_t uaddr,
			 size_t alen, struct broker_stats *st)
{
	struct sockaddr_storage ss = {0};
	int r = broker_read_addr(req->pid, uaddr, &alen, &ss);

	if (r < 0) {
		broker_respond(nfd, req->id, r, 0);
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
	if ((domain == AF_INET || domain == AF_INET6) && sb->iso == NET_ISO_NAMESPACE)
		r = connect_inet_in_namespace(sock, (struct sockaddr *)&ss, (socklen_t)alen);
	else
		r = connect_as_command(sb, sock, (struct sockaddr *)&ss, (socklen_t)alen);
	/* the sandbox's own proxy (in its namespace): taken at once, as
	 * the broker's connections are (a connect to another listener on
	 * that port finds nothing to take); a non-blocking caller's too, in
	 * progress as connect() says but on loopback done by now: taken
	 * from the listener's event it cost a wake-up and a poll, and a
	 * caller's second connect, to learn the outcome, a call that found
	 * nothing (a handshake not done yet finds nothing here, and is taken
	 * from the event, as before) */
	if (np && (r == 0 || r == -EINPROGRESS) && type == SOCK_STREAM &&
	    sb->iso == NET_ISO_NAMESPACE && is_loopback(&ss, alen) &&
	    port_of(&ss) == sb->proxy_port)
		netproxy_accept_now(np, sb->proxy_port);
	broker_respond(nfd, req->id, r, 0);
}
