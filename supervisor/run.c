/* SPDX-License-Identifier: MIT */
/*
 * The supervisor's side: load and check the policy, and start init (in new
 * namespaces when the kernel allows, with the fallbacks when a step is
 * refused).  runloop.c runs the rest: the signals passed on, the loop that
 * serves the sandbox, the reaping and the command's status.  Nothing here
 * is ever sandboxed.
 */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/rawsys.h"
#include "../netproxy/netproxy.h"
#include "run_internal.h"

static const char *env_lookup(const char *name)
{
	return getenv(name);
}

/* The home directory `~` means: the run_as user's when we switch to another
 * user, else $HOME as the caller has it. */
static char *resolve_home(const struct policy *p)
{
	const char *h;

	if (p->process.run_as && geteuid() == 0) {
		struct passwd *pw = run_as_user_or_die(p);
		if (pw->pw_uid != getuid())
			return strdup(pw->pw_dir);
	}
	h = getenv("HOME");
	if (h && h[0] == '/')
		return strdup(h);
	struct passwd *pw = getpwuid(getuid());
	return pw ? strdup(pw->pw_dir) : NULL;
}

void die_policy(const struct policy_error *err)
{
	char buf[6000];

	policy_error_format(err, buf, sizeof(buf));
	die("%s", buf);
}

/* [syscalls] names are checked with the policy, before anything is done:
 * a bad one is the one line a bad policy gets. */
static int check_syscall_names(const struct policy *p, const char *path, struct policy_error *err)
{
	struct seccomp_opts o = {.extra_allow = &p->syscalls.allow,
				 .extra_deny = &p->syscalls.deny,
				 .allow_dangerous = p->syscalls.allow_dangerous};
	const struct policy_item *it;
	const char *why;

	if (seccomp_check_names(&o, &it, &why) == 0 || !it)
		return 0;
	snprintf(err->file, sizeof(err->file), "%s", it->origin.file ? it->origin.file : path);
	err->line = it->origin.line;
	snprintf(err->key, sizeof(err->key), "syscalls");
	snprintf(err->msg, sizeof(err->msg), "'%s' %s", it->value, why);
	return -EINVAL;
}

struct policy *supervisor_load_policy(const struct cli *cli, char **ret_home)
{
	struct policy *p = NULL;
	struct policy_error err = {0};
	char cwd[4096];
	char *home;
	int r;

	if (cli->policy_path)
		r = policy_load_file(cli->policy_path, &p, &err);
	else
		r = policy_load_default(&p, &err);
	if (r < 0)
		die_policy(&err);
	for (size_t i = 0; i < cli->n_overrides; i++) {
		struct policy_origin was = p->net.mode_origin.origin;
		r = policy_override(p, cli->overrides[i].what, cli->overrides[i].value, &err);
		if (r < 0)
			die_policy(&err);
		if (r > 0) {
			/* the grant widens what the policy said: never silently */
			if (was.file && strcmp(was.file, POLICY_DEFAULT_NAME) != 0)
				warn("%s: [network] mode = none (%s:%u) becomes mode = proxy, "
				     "allowing only the command line's hosts",
				     cli->overrides[i].what == POLICY_OVERRIDE_CIDR
					 ? "--allow-cidr"
					 : "--allow-domain",
				     was.file, was.line);
			else
				warn("%s: [network] mode = none becomes mode = proxy, allowing "
				     "only the command line's hosts",
				     cli->overrides[i].what == POLICY_OVERRIDE_CIDR
					 ? "--allow-cidr"
					 : "--allow-domain");
		}
	}
	if (!getcwd(cwd, sizeof(cwd)))
		die("cannot read the working directory: %s", strerror(errno));
	home = resolve_home(p);
	struct policy_vars vars = {.cwd = cwd, .home = home, .getenv = env_lookup};
	r = policy_expand(p, &vars, &err);
	if (r == 0)
		r = check_syscall_names(
		    p, cli->policy_path ? cli->policy_path : POLICY_DEFAULT_NAME, &err);
	if (r < 0)
		die_policy(&err);
	/* (an outside review: a token written in ~/.gitconfig, which the
	 * default reads, was the sandbox's to read) */
	gitconfig_deny_credentials(p, home);
	*ret_home = home;
	return p;
}

int supervisor_check(const struct cli *cli)
{
	int bad = 0;
	char cwd[4096];

	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/");
	for (int i = 0; i < cli->argc; i++) {
		struct policy *p = NULL;
		struct policy_error err = {0};
		char buf[6000];
		int r = policy_load_file(cli->argv[i], &p, &err);

		if (r == 0) {
			char *home = resolve_home(p);
			struct policy_vars vars = {.cwd = cwd, .home = home, .getenv = env_lookup};
			r = policy_expand(p, &vars, &err);
			free(home);
		}
		if (r == 0) {
			/* system call names are checked against libseccomp */
			r = check_syscall_names(p, cli->argv[i], &err);
		}
		if (r < 0) {
			policy_error_format(&err, buf, sizeof(buf));
			fprintf(stderr, "%s\n", buf);
			bad++;
		} else {
			printf("%s: ok\n", cli->argv[i]);
		}
		policy_free(p);
	}
	return bad ? EXIT_RINGFENCE : 0;
}

/*
 * The sandbox's network namespace, made beforehand.  A fresh one costs
 * ~0.4 ms inside clone(2) (copy_net_ns: sysctl tables, the loopback
 * device) and bringing its loopback up ~0.1 ms more, on the start-up's
 * critical path.  So, when the policy asks for one and ringfence runs as
 * root (no user namespace: root's netns is joined with setns(2), which an
 * unprivileged user's could not be, its owner being init's user
 * namespace), a child made first thing unshares one and brings its
 * loopback up on the other core while the rest is prepared; init joins it
 * right after clone(2) and the child ends.  It is as fresh as one made by
 * clone(2): made by our own child for this run only, held by nothing else
 * (its /proc/PID/ns/net is root's to open, as init's is).  The child
 * shares the supervisor's memory (netns_child below; a fork where there
 * are no direct system calls, before any secret is read), non-dumpable as
 * the supervisor's is, for the ~1 ms until init has joined; it runs
 * nothing but its own system calls.  When it could not be made (EPERM in a
 * container without CAP_SYS_ADMIN), or the plan ends up without a network
 * namespace or with a user namespace, it is dropped and clone(2) makes
 * one as before, with its fallbacks.
 */
#define NETNS_STACK 16384
static struct {
	pid_t pid;
	int ready;   /* read end: the child's errno, 0 once made */
	int release; /* write end: EOF ends the child */
	char *stack; /* its stack, where it shares our memory */
} netns_pre = {-1, -1, -1, NULL};

void netns_pre_drop(void)
{
	/* called again after init's fork (run.c's caller): dropped already,
	 * nothing is written to the page of .data init shares since */
	if (netns_pre.ready < 0 && netns_pre.release < 0 && !netns_pre.stack)
		return;
	if (netns_pre.ready >= 0)
		close(netns_pre.ready);
	if (netns_pre.release >= 0)
		close(netns_pre.release); /* the child ends on the end of file */
	netns_pre.ready = netns_pre.release = -1;
#if defined(RAWSYS) && !defined(__SANITIZE_ADDRESS__)
	/* where it shares our memory it is reaped here (the main loop never
	 * sees it) and its stack unmapped once it has ended; a fork is
	 * reaped by the main loop */
	if (netns_pre.stack && netns_pre.pid > 0 &&
	    RETRY_EINTR(waitpid(netns_pre.pid, NULL, 0)) == netns_pre.pid)
		munmap(netns_pre.stack, NETNS_STACK);
	netns_pre.stack = NULL;
	netns_pre.pid = -1;
#endif
}

#if defined(RAWSYS) && !defined(__SANITIZE_ADDRESS__)
/*
 * The child shares the supervisor's memory (CLONE_VM): a fork() copied its
 * page tables (1-3 ms here, on the critical path) and left every page it
 * wrote afterwards to be copied on write while the child lived.  It makes
 * its system calls directly (common/rawsys.h), on a stack mapped for it
 * (a static one moved the hot variables after it in .bss onto a page of
 * their own), its arguments at the top; reaped and the stack unmapped
 * before init is forked (netns_pre_drop).  Its memory being the
 * supervisor's, it is as non-dumpable, and what it could read there it
 * never reads.
 */
struct netns_child_fds {
	int ready_r, ready_w, release_r, release_w;
	pid_t parent;
};

static int netns_child(void *arg)
{
	const struct netns_child_fds *f = arg;
	long err = 0;
	char c;

	rawsys3(SYS_close, f->ready_r, 0, 0);
	rawsys3(SYS_close, f->release_w, 0, 0);
	if (rawsys3(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0) == 0 &&
	    rawsys3(SYS_getppid, 0, 0, 0) == f->parent) {
		err = rawsys3(SYS_unshare, CLONE_NEWNET, 0, 0);
		if (err == 0)
			err = net_loopback_up();
		int e = (int)-err;
		rawsys3(SYS_write, f->ready_w, (long)&e, sizeof(e));
		while (rawsys3(SYS_read, f->release_r, (long)&c, 1) == -EINTR)
			;
	}
	for (;;)
		rawsys3(SYS_exit, 0, 0, 0);
	return 0;
}
#endif

void netns_pre_start(const struct policy *p)
{
	int ready[2], release[2];
	pid_t parent = getpid();

	cpu_set_t cpus;

	if (geteuid() != 0 || p->namespaces == POLICY_NS_OFF ||
	    !(p->net.mode == POLICY_NET_NONE ||
	      (p->net.mode == POLICY_NET_PROXY && p->net.isolation != POLICY_ISOLATION_BROKER)))
		return;
	/* on one CPU nothing runs beside: the fork would only add to it */
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) < 2)
		return;
	if (pipe2(ready, O_CLOEXEC) < 0)
		return;
	if (pipe2(release, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return;
	}
#if defined(RAWSYS) && !defined(__SANITIZE_ADDRESS__)
	netns_pre.stack = mmap(NULL, NETNS_STACK, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (netns_pre.stack == MAP_FAILED) {
		netns_pre.stack = NULL;
		netns_pre.pid = -1;
	} else {
		struct netns_child_fds *args =
		    (struct netns_child_fds *)(netns_pre.stack + NETNS_STACK - 64);
		*args =
		    (struct netns_child_fds){ready[0], ready[1], release[0], release[1], parent};
		netns_pre.pid = clone(netns_child, args, CLONE_VM | SIGCHLD, args);
		if (netns_pre.pid < 0) {
			munmap(netns_pre.stack, NETNS_STACK);
			netns_pre.stack = NULL;
		}
	}
#else
	fflush(NULL);
	netns_pre.pid = fork();
	if (netns_pre.pid == 0) {
		int err = 0;
		char c;
		close(ready[0]);
		close(release[1]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(0);
		if (unshare(CLONE_NEWNET) < 0)
			err = errno;
		else
			err = -net_loopback_up();
		(void)!write(ready[1], &err, sizeof(err));
		while (read(release[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
#endif
	close(ready[1]);
	close(release[0]);
	if (netns_pre.pid < 0) {
		close(ready[0]);
		close(release[1]);
		return;
	}
	netns_pre.ready = ready[0];
	netns_pre.release = release[1];
}

/* The namespace made beforehand, open (and the child told to end), or -1. */
static int netns_pre_take(void)
{
	char path[64];
	int err = -1, fd = -1;

	if (netns_pre.ready < 0)
		return -1;
	if (RETRY_EINTR(read(netns_pre.ready, &err, sizeof(err))) == (ssize_t)sizeof(err) &&
	    err == 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)netns_pre.pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	netns_pre_drop();
	return fd;
}

static pid_t clone_init(unsigned long flags)
{
	/* fork-like raw clone(2): the child continues here on a copy of the stack */
	return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
}

static void close_pipes(int lifeline[2], int rep_pipe[2])
{
	for (int i = 0; i < 2; i++) {
		if (lifeline[i] >= 0)
			close(lifeline[i]);
		if (rep_pipe[i] >= 0)
			close(rep_pipe[i]);
		lifeline[i] = rep_pipe[i] = -1;
	}
}

/*
 * Root's id maps for init's user namespace (root in a container without
 * CAP_SYS_ADMIN: plain namespaces are refused, a user namespace is not).
 * Written from here, where CAP_SETUID/CAP_SETGID count: root stays root
 * (its files stay its own) and the run_as user and groups are mapped so
 * the privilege drop can happen inside.  Without those capabilities only
 * root's own one-line map can be written, which is enough when the
 * command stays root.
 */
static int write_root_maps(const struct sandbox *sb, pid_t pid)
{
	char path[64], buf[8192];
	size_t off = 0;
	int r;

	off += (size_t)snprintf(buf + off, sizeof(buf) - off, "0 0 1\n");
	if (sb->drop_to_user && sb->uid != 0)
		off +=
		    (size_t)snprintf(buf + off, sizeof(buf) - off, "%u %u 1\n", sb->uid, sb->uid);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	r = write_file(path, buf);
	if (r < 0)
		return r;

	off = (size_t)snprintf(buf, sizeof(buf), "0 0 1\n");
	gid_t seen[342] = {0};
	size_t n_seen = 1;
	for (int i = -1; sb->drop_to_user && i < sb->n_groups; i++) {
		gid_t g = i < 0 ? sb->gid : sb->groups[i];
		bool dup = false;
		for (size_t j = 0; j < n_seen; j++)
			dup |= seen[j] == g;
		if (dup)
			continue;
		if (n_seen == ARRAY_SIZE(seen))
			return -E2BIG; /* more than a gid_map holds */
		seen[n_seen++] = g;
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%u %u 1\n", g, g);
	}
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	r = write_file(path, buf);
	if (r == -EPERM && !sb->drop_to_user) {
		/* without CAP_SETGID: root's own group, setgroups refused */
		char sg[64];
		snprintf(sg, sizeof(sg), "/proc/%d/setgroups", pid);
		r = write_file(sg, "deny");
		if (r == 0)
			r = write_file(path, buf);
	}
	return r;
}

/*
 * Starts init: in new namespaces when planned, retrying with a user
 * namespace as root, then (namespaces = auto) with the next-strongest
 * complete configuration when a step of the set-up is refused: without a
 * PID namespace when no fresh /proc can be mounted, then without
 * namespaces (the connect broker for the network).  Each fallback is one
 * line on stderr; namespaces = on refuses instead.  An early report other
 * than the namespace set-up's is left in *EARLY for the main loop.
 */
/* The plan changed: what is watched and journaled follows it. */
static void replanned(struct sandbox *sb)
{
	githeads_start(sb);
	start_protwatch(sb);
	journal_begin(sb);
}

/*
 * The CA and the bundle's contents, made here while init sets the sandbox
 * up on another CPU (creds.c), then the byte that lets init start the
 * command.  A failure ends the supervisor: init reads end of file and the
 * command never starts.  Init gone already: the main loop says why.
 */
static void bundle_go(struct sandbox *sb, int lifeline)
{
	if (!sb->ca_bundle)
		return;
	creds_finish(sb);
	/* init may have ended meanwhile (a step refused: the fallback is
	 * next); SIGPIPE's default would end the supervisor instead, and it is
	 * ignored for good only once the last init is forked */
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	(void)write_all(lifeline, "", 1);
	signal(SIGPIPE, old);
}

/* In init, just forked: the fds it keeps, the network namespace made
 * beforehand (NETNS_FD) joined first, as if clone(2) had made it, and
 * everything of the supervisor's own forgotten; then init_main(). */
_noreturn_ static void in_init(struct sandbox *sb, const struct sandbox_plan *plan, int lifeline[2],
			       int rep_pipe[2], int sfd, int netns_fd, const sigset_t *saved)
{
	struct sandbox_fds fds = {.report = rep_pipe[1],
				  .lifeline = lifeline[0],
				  .handoff = sb->handoff[1],
				  .relay = sb->abstract_relay[1],
				  .audit = sb->audit_fd,
				  .sup_stat = sb->self_stat};

	close(lifeline[1]);
	close(rep_pipe[0]);
	close(sfd);
	if (netns_fd >= 0) {
		if (setns(netns_fd, CLONE_NEWNET) < 0)
			msg_fail_exit(rep_pipe[1], errno, EXIT_RINGFENCE,
				      "joining the sandbox's network namespace: %s",
				      strerror(errno));
		close(netns_fd);
	}
	protwatch_forget(sb);
	/* the secrets, the CA's key and the secret helper stay with the
	 * supervisor: init is given the plan only */
	creds_forget(sb);
	/* the proxy's and the watch's structures: the supervisor's alone */
	own_forget();
	if (sb->handoff[0] >= 0)
		close(sb->handoff[0]);
	if (sb->abstract_relay[0] >= 0)
		close(sb->abstract_relay[0]);
	if (sb->broker_listen_fd >= 0)
		close(sb->broker_listen_fd);
	if (sb->dns_listen_fd >= 0)
		close(sb->dns_listen_fd);
	/* init logs what it does not carry back from a view of .git
	 * (gitview_carry.c); the command never holds the log */
	if (sb->audit_fd >= 0 && !sb->n_gitview_paths) {
		close(sb->audit_fd);
		fds.audit = -1;
	}
	init_main(plan, &fds, saved);
}

/* Whether a kind of namespace is turned off here (user.max_*_namespaces
 * 0, a hardened host's or a runtime's choice: ENOSPC then says so), not
 * merely used up for the moment by the user's other processes (a review:
 * that is a passing want, as EAGAIN is).  Unreadable: taken as off. */
static bool userns_disabled(void)
{
	STRING_TABLE_BEGIN
	static const char kinds[][8] = {"user", "net", "mnt", "ipc", "pid", "uts", "cgroup"};
	STRING_TABLE_END

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		char path[96], b[32] = "";
		snprintf(path, sizeof(path), "/proc/sys/user/max_%s_namespaces", kinds[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, b, sizeof(b) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n <= 0 || strtol(b, NULL, 10) == 0)
			return true;
	}
	return false;
}

/* clone(2) with the planned namespaces (the network namespace made
 * beforehand joined instead, *NETNS_FD); -1 and *RETRY when SB was planned
 * again (a user namespace of its own, or none at all). */
static pid_t clone_in_namespaces(struct sandbox *sb, const struct policy *p, int lifeline[2],
				 int rep_pipe[2], int *netns_fd, bool *retry)
{
	unsigned long flags = CLONE_NEWNS | CLONE_NEWIPC;
	pid_t pid;

	if (sb->new_pid_ns)
		flags |= CLONE_NEWPID;
	if (sb->new_user_ns)
		flags |= CLONE_NEWUSER;
	if (sb->new_net_ns && !sb->new_user_ns)
		*netns_fd = netns_pre_take();
	if (sb->new_net_ns && *netns_fd < 0)
		flags |= CLONE_NEWNET;
	pid = clone_init(flags);
	if (pid != 0 && *netns_fd >= 0)
		close(*netns_fd); /* init's now */
	if (pid >= 0)
		return pid;
	int e = errno;
	close_pipes(lifeline, rep_pipe);
	*retry = true;
	if (!sb->new_user_ns && e == EPERM) {
		/* root without CAP_SYS_ADMIN (a container): a user namespace
		 * of its own gives the rest */
		sb->new_user_ns = true;
		return -1;
	}
	if (p->namespaces == POLICY_NS_ON)
		die("cannot create namespaces (%s) and [sandbox] namespaces = on", strerror(e));
	/* the environment refusing them is a reason to fall back; a passing
	 * want of processes or memory is not (an outside review: another
	 * process of the user filling its process budget for a moment would
	 * have pushed the run into the weaker mode) */
	if (e != EPERM && e != EACCES && e != ENOSYS && e != EOPNOTSUPP && e != EINVAL &&
	    !((e == ENOSPC || e == EUSERS) && userns_disabled()))
		die("cannot create namespaces (%s)", strerror(e));
	/* planned first: a policy that cannot run without them ends with its
	 * one line */
	sandbox_fallback_no_ns(sb);
	replanned(sb);
	warn("namespaces unavailable (%s): running without them%s", strerror(e),
	     sb->iso == NET_ISO_BROKER ? ", the connect broker for the network" : "");
	return -1;
}

/* Init in its namespaces: root's id maps written, then its first report.
 * True when it is ready (or gone: the main loop says so), an early report
 * other than the namespaces' in *EARLY; else the step that failed, its
 * errno and WHY. */
static bool namespaces_ready(struct sandbox *sb, pid_t init_pid, int lifeline[2], int rep_pipe[2],
			     struct msg_report *early, bool *have_early, enum ns_step *step,
			     int *err, char *why, size_t size)
{
	union msg_any m;
	struct msg_report *r = &m.report;
	int e = 0, rr;

	if (sb->new_user_ns && sb->started_as_root) {
		e = write_root_maps(sb, init_pid);
		if (e == 0 && write_all(lifeline[1], "", 1) < 0)
			e = -errno;
		if (e == 0)
			bundle_go(sb, lifeline[1]);
		if (e < 0) {
			*err = -e == E2BIG ? EPERM : -e;
			snprintf(why, size, "writing the user namespace's id maps: %s%s",
				 strerror(-e),
				 e == -EPERM ? " (mapping root needs CAP_SETFCAP, mapping another "
					       "user CAP_SETUID)"
					     : "");
			kill(init_pid, SIGKILL);
			return false;
		}
	} else {
		bundle_go(sb, lifeline[1]);
	}
	do
		rr = msg_recv(rep_pipe[0],
			      MSG_BIT(MSG_NS_READY) | MSG_BIT(MSG_NS_FAIL) | MSG_BIT(MSG_FAIL), &m,
			      NULL);
	while (rr == -EINTR);
	if (rr < 0)
		return true; /* init is gone: the main loop says so */
	if (r->h.kind != MSG_NS_FAIL) {
		if (r->h.kind != MSG_NS_READY) {
			*early = *r;
			*have_early = true;
		}
		return true;
	}
	*step = (enum ns_step)r->status;
	*err = r->err;
	snprintf(why, size, "%s", r->text);
	return false;
}

enum start_result start_init(struct sandbox *sb, const struct policy *p, int lifeline[2],
			     int rep_pipe[2], int sfd, const sigset_t *saved, pid_t *ret_pid,
			     struct msg_report *early, bool *have_early)
{
	pid_t init_pid;
	struct sandbox_plan plan;
	int netns_fd = -1;
	bool retry = false;

	/* made again at each start: a fallback changes the plan */
	sandbox_plan_make(sb, &plan);
	/* the supervisor's own state, for init to read while the job is
	 * stopped (init.c, police_stopped_job()): opened here, it names this
	 * process from any PID namespace */
	if (sb->self_stat < 0)
		sb->self_stat = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (pipe2(lifeline, O_CLOEXEC) < 0 || pipe2(rep_pipe, O_CLOEXEC | O_DIRECT) < 0)
		die("pipe2: %s", strerror(errno));
	fflush(NULL);
	/* the heap trimmed before the fork: each trim after it, the
	 * supervisor's and init's a second after the command started,
	 * consolidated the same free blocks, writing the same pages, each a
	 * copy of its own kept per sandbox (3 of them in a thousand idle
	 * sandboxes, sandbox/README.md); trimmed here, the two inherit the
	 * blocks consolidated and the free pages given back, and theirs
	 * find nothing to write.  (~0.05 ms a start, in the noise of
	 * bench/startup_ab.sh.) */
	malloc_trim(0);
	if (sb->ns == NS_FULL) {
		init_pid = clone_in_namespaces(sb, p, lifeline, rep_pipe, &netns_fd, &retry);
		if (retry)
			return START_RETRY;
	} else {
		init_pid = fork();
		if (init_pid < 0)
			die("fork: %s", strerror(errno));
	}
	if (init_pid == 0)
		in_init(sb, &plan, lifeline, rep_pipe, sfd, netns_fd, saved);
	sb->init_forked = true;
	close(lifeline[0]);
	close(rep_pipe[1]);
	lifeline[0] = rep_pipe[1] = -1;
	*ret_pid = init_pid;
	if (sb->ns != NS_FULL) {
		bundle_go(sb, lifeline[1]);
		return START_READY;
	}

	enum ns_step step = NS_STEP_OTHER;
	char why[sizeof(early->text)];
	int err = 0;
	if (namespaces_ready(sb, init_pid, lifeline, rep_pipe, early, have_early, &step, &err, why,
			     sizeof(why)))
		return START_READY;
	/* init ends on its own after a failed step */
	(void)RETRY_EINTR(waitpid(init_pid, NULL, 0));
	close_pipes(lifeline, rep_pipe);
	if (p->namespaces == POLICY_NS_ON)
		die("%s, and [sandbox] namespaces = on", why);
	/* the environment refusing a step is a reason to fall back (a
	 * read-only /proc refuses the id maps with EROFS: probe says the
	 * same); the policy asking for what cannot be done (too many paths,
	 * a path that is gone) is not, and fails as it would anywhere */
	if (err != EPERM && err != EACCES && err != ENOSYS && err != EOPNOTSUPP && err != EROFS)
		die("%s", why);
	if (step == NS_STEP_PROC && sb->new_pid_ns) {
		warn("no PID namespace: %s (parts of /proc are covered, as container runtimes "
		     "leave it); /proc shows the processes around the sandbox, which it may not "
		     "signal or trace",
		     why);
		sandbox_fallback_no_pid_ns(sb);
		replanned(sb);
	} else {
		sandbox_fallback_no_ns(sb);
		replanned(sb);
		warn("namespaces unavailable: %s: running without them%s", why,
		     sb->iso == NET_ISO_BROKER ? ", the connect broker for the network" : "");
	}
	return START_RETRY;
}

void start_protwatch(struct sandbox *sb)
{
	int r = protwatch_start(sb);

	if (r >= 0)
		return;
	if (!sb->best_effort)
		die("cannot watch for protected names made, or denied files replaced, while the "
		    "sandbox runs (inotify: %s); enforcement = best-effort checks the names only "
		    "when it has ended",
		    strerror(-r));
	warn("cannot watch for protected names made, or denied files replaced, while the sandbox "
	     "runs (inotify: %s): the names are checked only when it has ended, and a denied "
	     "file the host replaces meanwhile is readable from then on",
	     strerror(-r));
}
