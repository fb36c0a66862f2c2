/* SPDX-License-Identifier: MIT */
/*
 * Everything decided before fork: who the command runs as, which namespaces,
 * the Landlock plan and ruleset, mount masks, the seccomp programs, the
 * environment.  Any problem ends here with one line and exit 125, so the
 * command never starts on a half-made sandbox.  The filesystem layer's
 * plan is layers_fs.c's.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../netproxy/netproxy.h"
#include "supervisor.h"

static void start_time(struct sandbox *sb);

const char *origin_file(const struct policy_origin *o)
{
	return o->file ? o->file : "command line";
}

void sandbox_add_mask(struct sandbox *sb, const char *path, bool is_dir, enum mask_kind kind)
{
	for (size_t i = 0; i < sb->n_masks; i++)
		if (strcmp(sb->masks[i].path, path) == 0) {
			/* deny wins over protect, read-only over a pin */
			if (kind == MASK_DENY)
				sb->masks[i].read_only_bind = sb->masks[i].pin = false;
			else if (kind == MASK_READ_ONLY)
				sb->masks[i].pin = false;
			return;
		}
	struct mount_mask *m = realloc(sb->masks, (sb->n_masks + 1) * sizeof(*m));
	if (!m)
		die("out of memory");
	sb->masks = m;
	m[sb->n_masks].path = strdup(path);
	if (!m[sb->n_masks].path)
		die("out of memory");
	m[sb->n_masks].is_dir = is_dir;
	m[sb->n_masks].read_only_bind = kind != MASK_DENY;
	m[sb->n_masks].pin = kind == MASK_PIN;
	sb->n_masks++;
}

struct passwd *run_as_user_or_die(const struct policy *p)
{
	const char *run_as = p->process.run_as;
	char *end;
	unsigned long id = strtoul(run_as, &end, 10);
	struct passwd *pw = *end == '\0' ? getpwuid((uid_t)id) : getpwnam(run_as);

	if (!pw)
		die("%s:%u: process.run_as: unknown user '%s'",
		    origin_file(&p->process.run_as_origin), p->process.run_as_origin.line, run_as);
	return pw;
}

/* Identity: who the command runs as. */
static void prepare_identity(struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	const char *run_as = p->process.run_as;

	sb->outer_uid = getuid();
	sb->outer_gid = getgid();
	sb->started_as_root = geteuid() == 0;
	sb->uid = sb->outer_uid;
	sb->gid = sb->outer_gid;

	if (run_as) {
		struct passwd *pw = run_as_user_or_die(p);
		if (!sb->started_as_root) {
			if (pw->pw_uid != sb->outer_uid)
				die("%s:%u: process.run_as: switching to '%s' needs ringfence to "
				    "be "
				    "started as root",
				    origin_file(&p->process.run_as_origin),
				    p->process.run_as_origin.line, run_as);
		} else if (pw->pw_uid != 0) {
			int ng = 64;
			sb->drop_to_user = true;
			sb->uid = pw->pw_uid;
			sb->gid = pw->pw_gid;
			sb->groups = malloc((size_t)ng * sizeof(gid_t));
			if (!sb->groups)
				die("out of memory");
			if (getgrouplist(pw->pw_name, pw->pw_gid, sb->groups, &ng) < 0) {
				gid_t *g = realloc(sb->groups, (size_t)ng * sizeof(gid_t));
				if (!g)
					die("out of memory");
				sb->groups = g;
				if (getgrouplist(pw->pw_name, pw->pw_gid, sb->groups, &ng) < 0)
					die("cannot list the groups of '%s'", run_as);
			}
			sb->n_groups = ng;
		} else {
			sb->uid = 0;
			sb->gid = 0;
		}
	}
}

static void prepare_landlock_caps(struct sandbox *sb)
{
	int abi = landlock_probe_abi();
	uint64_t miss_fs, miss_scopes;
	uint64_t want_fs;

	if (abi < 0)
		die("cannot probe Landlock: %s", strerror(-abi));
	landlock_caps_for_abi(abi, &sb->ll);
	if (abi == 0) {
		if (!sb->best_effort)
			die("this kernel has no Landlock (needs Linux 5.13+ with landlock in the "
			    "lsm= "
			    "list): the filesystem cannot be restricted; set [sandbox] enforcement "
			    "= "
			    "best-effort to run without it");
		/* (nor its scopes and its ptrace rule: an outside review ran
		 * a command that, without a PID namespace, wrote another
		 * process's memory through /proc/PID/mem; the supervisor and
		 * init are not dumpable, so theirs stay closed) */
		warn("best-effort: this kernel has no Landlock: the filesystem is NOT restricted, "
		     "nor signals and abstract Unix sockets; without a PID namespace the command "
		     "may signal every process of its user and read and write their memory "
		     "(/proc/PID/mem)");
		return;
	}
	want_fs = LANDLOCK_WRITE | LL_FS_EXECUTE | LL_FS_MAKE_CHAR | LL_FS_MAKE_BLOCK;
	landlock_missing(&sb->ll, want_fs, LANDLOCK_ALL_SCOPES, &miss_fs, &miss_scopes);
	if (miss_fs || miss_scopes) {
		char what[512] = "", names[256];
		landlock_fs_rights_format(miss_fs, names, sizeof(names));
		if (miss_fs)
			snprintf(what, sizeof(what), "rights %s", names);
		if (miss_scopes)
			snprintf(what + strlen(what), sizeof(what) - strlen(what),
				 "%sscopes for abstract Unix sockets and signals (ABI 6)",
				 miss_fs ? " and " : "");
		if (!sb->best_effort)
			die("Landlock ABI %d lacks %s: set [sandbox] enforcement = best-effort to "
			    "run "
			    "without them",
			    abi, what);
		warn("best-effort: Landlock ABI %d lacks %s: those are NOT restricted", abi, what);
	}
}

/*
 * Pathname Unix sockets: Landlock (up to ABI 8) does not check a Unix
 * connect, so with unix_sockets = allow every connect(2) goes to the
 * supervisor, which connects only to sockets [network] unix_connect names
 * (and the sandbox's own, in its private temporary directory).  Without
 * seccomp user notifications, Unix sockets are refused rather than left
 * unmediated.
 */
static void prepare_unix(struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	const struct policy_list *l = &p->net.unix_connect;
	struct seccomp_notif_sizes sz;

	for (size_t i = 0; i < sb->n_unix_connect; i++)
		free(sb->unix_connect[i]);
	free(sb->unix_connect);
	sb->unix_connect = NULL;
	sb->n_unix_connect = 0;
	sb->unix_mediated = false;
	if (!p->syscalls.unix_sockets)
		return;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0) {
		if (!sb->best_effort)
			die("unix_sockets = allow needs seccomp user notifications (Linux 5.0+) to "
			    "mediate connect(2); set [syscalls] unix_sockets = deny");
		warn("best-effort: no seccomp user notifications: Unix sockets are refused");
		return;
	}
	sb->unix_mediated = true;
	sb->unix_connect = calloc(l->n + 1, sizeof(*sb->unix_connect));
	if (!sb->unix_connect)
		die("out of memory");
	for (size_t i = 0; i < l->n; i++) {
		int r = unixsock_canonical_pattern(l->items[i].value, &sb->unix_connect[i]);
		if (r < 0)
			die("%s:%u: network.unix_connect: '%s': %s",
			    origin_file(&l->items[i].origin), l->items[i].origin.line,
			    l->items[i].value, strerror(-r));
		sb->n_unix_connect++;
	}
	if (sb->handoff[0] < 0 &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sb->handoff) < 0)
		die("socketpair: %s", strerror(errno));
	/* without Landlock's abstract scope, abstract sockets are refused */
	if (!sb->new_net_ns && (sb->ll.scopes & LL_SCOPE_ABSTRACT_UNIX_SOCKET) &&
	    sb->abstract_relay[0] < 0 &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sb->abstract_relay) < 0)
		die("socketpair: %s", strerror(errno));
}

static void prepare_seccomp(struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	struct seccomp_opts o = {
	    /* inet sockets: in a private network namespace they reach nothing;
	     * without one, mode = none refuses them */
	    .allow_inet =
		p->net.mode == POLICY_NET_HOST || sb->new_net_ns || sb->iso == NET_ISO_BROKER,
	    .broker = sb->iso == NET_ISO_BROKER,
	    .allow_unix = sb->unix_mediated,
	    .kill = p->syscalls.action == POLICY_SYSCALL_KILL,
	    .extra_allow = &p->syscalls.allow,
	    .extra_deny = &p->syscalls.deny,
	    .allow_dangerous = p->syscalls.allow_dangerous,
	    /* without a PID namespace (NS_NONE, or no fresh /proc could
	     * be mounted) pid-taking calls reach the caller only */
	    .no_pid_ipc_ns = !sb->new_pid_ns,
	};
	const struct policy_item *bad;
	const char *why;
	int r;

	seccomp_prog_free(&sb->seccomp_deny);
	seccomp_prog_free(&sb->seccomp_allow);
	r = seccomp_build(&o, &sb->seccomp_deny, &sb->seccomp_allow, &bad, &why);
	if (r < 0 && bad)
		die("%s:%u: syscalls: '%s' %s", origin_file(&bad->origin), bad->origin.line,
		    bad->value, why);
	if (r == 0)
		r = seccomp_prefix_own_group(&sb->seccomp_deny, sb->gid, o.kill, o.extra_deny);
	if (r < 0)
		die("cannot build the seccomp filter: %s", strerror(-r));
}

/*
 * mode = proxy: the sandbox reaches the network only through the proxy.
 * A private network namespace when there is one (the listener is made in
 * it by init); else the connect broker, which needs seccomp user
 * notifications with ADDFD (Linux 5.9) and Landlock's TCP rules (ABI 4),
 * so that no connect(2) of the sandbox's own ever succeeds.
 */
static void prepare_network(struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	const char *why;

	sb->iso = NET_ISO_NONE;
	sb->new_net_ns = sb->ns == NS_FULL && p->net.mode == POLICY_NET_NONE;
	if (p->net.mode != POLICY_NET_PROXY)
		return;
	if (p->net.isolation == POLICY_ISOLATION_NAMESPACE && sb->ns == NS_NONE) {
		if (!sb->best_effort)
			die("[network] isolation = namespace: %s; use isolation = auto or broker",
			    p->namespaces == POLICY_NS_OFF ? "[sandbox] namespaces = off"
							   : "namespaces are not available here");
		warn(
		    "best-effort: [network] isolation = namespace is not available here: using the "
		    "connect broker");
	}
	sb->capture = !p->net.no_capture;
	if (sb->ns == NS_FULL && p->net.isolation != POLICY_ISOLATION_BROKER) {
		sb->iso = NET_ISO_NAMESPACE;
		sb->new_net_ns = true;
		sb->proxy_port = NETPROXY_NS_PORT;
		if (sb->capture) {
			/* a TCP connect out stops in the broker (and no Unix
			 * socket is mediated unless the policy says so) */
			struct seccomp_notif_sizes sz;
			if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0) {
				if (!sb->best_effort)
					die("[network] capture = on needs seccomp user "
					    "notifications "
					    "(Linux 5.0+); set capture = off");
				warn("best-effort: no seccomp user notifications: only clients "
				     "that use the proxy reach the network");
				sb->capture = false;
			}
		}
	} else {
		why = broker_unavailable(&sb->ll);
		if (why) {
			if (!sb->best_effort)
				die("[network] mode = proxy needs a network namespace or the "
				    "connect "
				    "broker, and %s; set enforcement = best-effort to run without "
				    "network",
				    why);
			warn("best-effort: %s: the sandbox gets NO network ([network] mode = none)",
			     why);
			sb->deny_tcp = true;
			sb->capture = false; /* nothing to capture to */
			return;
		}
		sb->iso = NET_ISO_BROKER;
		if (sb->broker_listen_fd < 0) {
			int fd = netproxy_listen_socket(0, &sb->proxy_port);
			if (fd < 0)
				die("cannot listen on 127.0.0.1 for the proxy: %s", strerror(-fd));
			sb->broker_listen_fd = fd;
		}
		if (sb->capture && sb->dns_listen_fd < 0) {
			int fd = netproxy_listen_socket(0, &sb->dns_port);
			if (fd < 0)
				die("cannot listen on 127.0.0.1 for the sandbox's DNS: %s",
				    strerror(-fd));
			sb->dns_listen_fd = fd;
		}
	}
	if (sb->handoff[0] < 0 &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sb->handoff) < 0)
		die("socketpair: %s", strerror(errno));
}

/*
 * Without a PID namespace init finds what the command leaves running (a
 * setsid daemon, a double fork) through /proc/PID/task/TID/children, which
 * needs CONFIG_PROC_CHILDREN and a /proc: without the file the tree was
 * not ended at exit, and nothing said so (an outside review).  Refused
 * under strict, said under best-effort.
 */
static void check_children_file(const struct sandbox *sb)
{
	if ((sb->ns == NS_FULL && sb->new_pid_ns) ||
	    access("/proc/thread-self/children", R_OK) == 0)
		return;
	int e = errno;
	if (!sb->best_effort)
		die("/proc/thread-self/children: %s: without a PID namespace what the command "
		    "leaves running is found there, and would outlive the run; mount /proc (a "
		    "kernel with CONFIG_PROC_CHILDREN), or set [sandbox] enforcement = "
		    "best-effort to run without ending it",
		    strerror(e));
	warn("best-effort: /proc/thread-self/children: %s: what the command leaves running "
	     "(a daemon, a double fork) outlives the run",
	     strerror(e));
}

void sandbox_prepare(struct sandbox *sb, const struct policy *p, char **argv, const char *home)
{
	/* (found before: runloop.c's terminal_find()) */
	bool tty_detach = sb->tty_detach;
	int tty_fd = sb->tty_fd;

	*sb = (struct sandbox){.policy = p,
			       .tty_detach = tty_detach,
			       .tty_fd = tty_fd,
			       .audit_fd = -1,
			       .argv = argv,
			       .broker_listen_fd = -1,
			       .dns_listen_fd = -1,
			       .handoff = {-1, -1},
			       .secret_fd = -1,
			       .self_stat = -1,
			       .abstract_relay = {-1, -1}};
	if (home) {
		sb->home = strdup(home);
		if (!sb->home)
			die("out of memory");
	}
	sb->best_effort = p->enforcement == POLICY_ENFORCE_BEST_EFFORT;
	start_time(sb);

	if (!getcwd(sb->cwd, sizeof(sb->cwd)))
		die("cannot read the working directory: %s", strerror(errno));

	prepare_identity(sb);
	/* before any grant is planned: what `create` makes is then there */
	state_prepare(sb);
	prepare_landlock_caps(sb);
	sb->ns = p->namespaces == POLICY_NS_OFF ? NS_NONE : NS_FULL;
	/* root tries plain namespaces first, then (run.c) with a user
	 * namespace: in a container without CAP_SYS_ADMIN only that works */
	sb->new_user_ns = sb->ns == NS_FULL && !sb->started_as_root;
	sb->new_pid_ns = sb->ns == NS_FULL;
	prepare_network(sb);
	prepare_unix(sb);
	prepare_seccomp(sb);
	/* the secrets and the CA bundle, which the filesystem rules grant */
	check_children_file(sb);
	creds_prepare(sb);
	layers_prepare_fs(sb);
}

/* After clone() with namespaces failed: re-plan for no namespaces. */
void sandbox_fallback_no_ns(struct sandbox *sb)
{
	landlock_plan_free(&sb->plan);
	for (size_t i = 0; i < sb->n_masks; i++)
		free(sb->masks[i].path);
	free(sb->masks);
	sb->masks = NULL;
	sb->n_masks = 0;
	sb->ns = NS_NONE;
	sb->replanning = true;
	/* nothing can be mounted over them now */
	protect_remove_placeholders(sb);
	state_remove_placeholders(sb);
	sb->new_user_ns = false;
	sb->new_pid_ns = false;
	sb->new_net_ns = false;
	prepare_network(sb);
	prepare_unix(sb);
	prepare_seccomp(sb);
	check_children_file(sb);
	layers_prepare_fs(sb);
}

/*
 * A fresh /proc was refused (a container runtime's masks over /proc are
 * locked mounts in a user namespace of ours, and the kernel refuses a proc
 * mount that would reveal what they cover).  Binding the outer /proc into a
 * new PID namespace would show processes the command cannot otherwise
 * name, so the PID namespace goes instead: /proc then shows exactly the
 * processes the command shares a namespace with, pid-taking calls are
 * limited to the caller by seccomp (as without namespaces) and Landlock's
 * scopes keep signals inside the sandbox.  Mount, network, IPC and user
 * namespaces stay.
 */
void sandbox_fallback_no_pid_ns(struct sandbox *sb)
{
	sb->new_pid_ns = false;
	prepare_seccomp(sb);
	check_children_file(sb);
}

/*
 * What a run leaves on the host must go before the supervisor exits: the
 * placeholders it made, the credentials' bundle, a private /tmp of an init
 * killed first; the secrets are wiped; the exit handlers told the run has
 * ended (its SB is a stack frame that learn -o outlives).  The memory and
 * descriptors the exit gives back are left to it (run_end(), without a
 * sanitizer).
 */
void sandbox_leave(struct sandbox *sb)
{
	protect_leave(sb);
	state_leave(sb);
	creds_leave(sb);
	if (sb->private_tmp_dir)
		(void)rm_rf(sb->private_tmp_dir);
}

void sandbox_release(struct sandbox *sb)
{
	if (sb->self_stat >= 0)
		close(sb->self_stat);
	sb->self_stat = -1;
	for (size_t i = 0; sb->deny_canon && i < sb->policy->fs.deny.n; i++)
		free(sb->deny_canon[i]);
	free(sb->deny_canon);
	sb->deny_canon = NULL;
	free(sb->deny_ids);
	sb->deny_ids = NULL;
	landlock_plan_free(&sb->plan);
	fsgate_free(sb);
	for (size_t i = 0; i < sb->n_masks; i++)
		free(sb->masks[i].path);
	free(sb->masks);
	strv_clear(&sb->deny_lost, &sb->n_deny_lost);
	seccomp_prog_free(&sb->seccomp_deny);
	seccomp_prog_free(&sb->seccomp_allow);
	seccomp_prog_free(&sb->seccomp_notify);
	env_free(sb->envp);
	creds_release(sb);
	for (size_t i = 0; i < sb->n_unix_connect; i++)
		free(sb->unix_connect[i]);
	free(sb->unix_connect);
	if (sb->broker_listen_fd >= 0)
		close(sb->broker_listen_fd);
	if (sb->dns_listen_fd >= 0)
		close(sb->dns_listen_fd);
	for (int i = 0; i < 2; i++) {
		if (sb->handoff[i] >= 0)
			close(sb->handoff[i]);
		if (sb->abstract_relay[i] >= 0)
			close(sb->abstract_relay[i]);
	}
	protect_remove_placeholders(sb);
	protect_release(sb);
	state_release(sb);
	free(sb->groups);
	free(sb->git_held);
	free(sb->home);
	if (sb->private_tmp_dir) {
		/* init removes it; this is for an init that was killed first
		 * (rm_rf(): by descriptors, a link in its place removed, never
		 * followed) */
		(void)rm_rf(sb->private_tmp_dir);
		free(sb->private_tmp_dir);
	}
	*sb = (struct sandbox){.audit_fd = -1,
			       .broker_listen_fd = -1,
			       .dns_listen_fd = -1,
			       .handoff = {-1, -1},
			       .secret_fd = -1,
			       .self_stat = -1,
			       .abstract_relay = {-1, -1}};
}

/*
 * The start as file times go (started_born; started_at is the coarse
 * clock's, inclusive).  Those are the coarse clock's (a 4 ms tick
 * here), or finer under multigrain timestamps (Linux 6.13: a change to a
 * file whose times were just read is stamped with the fine clock, and no
 * later coarse stamp on any such file system is earlier than the last fine
 * one).  A file of our own (a memfd: tmpfs) read and touched gives such a
 * fine stamp: everything made before has an earlier time, everything made
 * after one no earlier, without waiting.  A kernel without them stamps it
 * coarse: the start is then the fine clock's, and the command is exec'd
 * once the coarse clock has passed it (child.c; at most a tick).
 */
static void start_time(struct sandbox *sb)
{
	struct timespec coarse;
	struct stat st;
	/* the tests take the other way on a kernel that has multigrain stamps */
	const char *coarse_only = getenv("RINGFENCE_TEST_COARSE_START");
	int fd = coarse_only ? -1 : (int)syscall(SYS_memfd_create, "ringfence-start", MFD_CLOEXEC);

	if (coarse_only && strcmp(coarse_only, "1") != 0)
		die("RINGFENCE_TEST_COARSE_START: '%s' is not 1", coarse_only);
	clock_gettime(CLOCK_REALTIME_COARSE, &coarse);
	sb->started_at = coarse;
	if (fd >= 0 && fstat(fd, &st) == 0 && futimens(fd, NULL) == 0 && fstat(fd, &st) == 0 &&
	    (st.st_ctim.tv_sec > coarse.tv_sec ||
	     (st.st_ctim.tv_sec == coarse.tv_sec && st.st_ctim.tv_nsec > coarse.tv_nsec))) {
		sb->started_born = st.st_ctim;
		sb->start_wait = false;
	} else {
		clock_gettime(CLOCK_REALTIME, &sb->started_born);
		sb->start_wait = true;
	}
	if (fd >= 0)
		close(fd);
}

/* Whether we have a controlling terminal (its job control then looks for
 * the command in our process group: init.c). */
static bool has_terminal(void)
{
	int fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* fds 0-2 reach the command; one open on a directory is a way into the
 * host's mount tree beneath it, past the namespace's masks and read-only
 * mounts (openat on it): a deny path there would read */
static void refuse_directory_fds(const struct sandbox *sb)
{
	for (int fd = 0; fd <= 2 && sb->ns == NS_FULL; fd++) {
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
			die("fd %d is a directory: the command would reach the host's files "
			    "beneath "
			    "it past the sandbox's mounts (deny masks, the read-only tree); give "
			    "it "
			    "a file, a pipe or a terminal",
			    fd);
	}
}

void sandbox_plan_make(struct sandbox *sb, struct sandbox_plan *ret)
{
	bool net = sandbox_notify_net(sb);
	int r;

	refuse_directory_fds(sb);

	/* with namespaces, where the end checks a repository's objects: a
	 * mode making one of them writable is the supervisor's to refuse
	 * (attrgate.c).  Asked for nothing else, the listener is optional:
	 * where the kernel refuses it (one above, as under WSL2) the end
	 * reads the time of every object instead (gitobj_end()) */
	bool needed = net || sb->trace || sb->fsgate || sb->attrgate;
	/* on the operator's terminal (started in its foreground): the
	 * foreground the sandbox gives is judged (broker.c, broker_tty()) */
	bool tty = sb->tty_fd >= 0 && !sb->tty_detach;
	sb->modegate = sb->ns == NS_FULL && sb->n_githeads > 0;
	sb->objgate_live = false;
	if ((sb->modegate || tty) && sb->handoff[0] < 0 &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sb->handoff) < 0)
		die("socketpair: %s", strerror(errno));
	seccomp_prog_free(&sb->seccomp_notify);
	if (needed || sb->modegate || tty) {
		r = seccomp_notify_build(net, sb->trace, sb->fsgate != NULL, sb->attrgate,
					 sb->modegate, tty, &sb->seccomp_notify);
		if (r < 0)
			die("the notification filter: %s", strerror(-r));
	}
	*ret = (struct sandbox_plan){
	    .started_as_root = sb->started_as_root,
	    .drop_to_user = sb->drop_to_user,
	    .uid = sb->uid,
	    .gid = sb->gid,
	    .groups = sb->groups,
	    .n_groups = sb->n_groups,
	    .outer_uid = sb->outer_uid,
	    .outer_gid = sb->outer_gid,
	    .ns = sb->ns,
	    .new_user_ns = sb->new_user_ns,
	    .new_pid_ns = sb->new_pid_ns,
	    .new_net_ns = sb->new_net_ns,
	    /* a PID namespace's init dies with the caller's group, and the
	     * kernel ends the namespace with it (init.c) */
	    .caller_pgrp = sb->ns == NS_FULL && sb->new_pid_ns ? 0 : getpgrp(),
	    .cmd_rejoins = !sb->tty_detach && has_terminal(),
	    .tty_detach = sb->tty_detach,
	    .ll = sb->ll,
	    .fs = &sb->plan,
	    .deny_tcp = sb->deny_tcp,
	    .masks = sb->masks,
	    .n_masks = sb->n_masks,
	    .private_tmp = sb->policy->fs.private_tmp,
	    .private_tmp_dir = sb->private_tmp_dir,
	    .home = sb->home,
	    .standins = sb->privates,
	    .n_standins = sb->n_privates,
	    .gitview_paths = sb->gitview_paths,
	    .n_gitview_paths = sb->n_gitview_paths,
	    .unix_connect = sb->unix_connect,
	    .n_unix_connect = sb->n_unix_connect,
	    .cwd = sb->cwd,
	    .iso = sb->iso,
	    .proxy_port = sb->proxy_port,
	    .capture = sb->capture,
	    .seccomp_notify = sb->seccomp_notify,
	    .notify_what = net		  ? "connect broker's"
			   : sb->trace	  ? "--trace"
			   : sb->fsgate	  ? "file gate's"
			   : sb->attrgate ? "attribute gate's"
					  : "mode gate's",
	    .notify_optional = !needed,
	    .best_effort = sb->best_effort,
	    .seccomp_deny = sb->seccomp_deny,
	    .seccomp_allow = sb->seccomp_allow,
	    .envp = sb->envp,
	    .argv = sb->argv,
	    .started_at = sb->started_born,
	    .start_wait = sb->start_wait,
	    .bundle_wait = sb->ca_bundle != NULL,
	};
	memcpy(ret->rlimits, sb->policy->process.rlimits, sizeof(ret->rlimits));
}
