/* SPDX-License-Identifier: MIT */
/*
 * The supervisor's side: load the policy, prepare every layer, start init
 * (in new namespaces when the kernel allows), pass signals on, reap, and
 * exit with the command's status.  Nothing here is ever sandboxed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../netproxy/netproxy.h"
#include "supervisor.h"

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
 * (its /proc/PID/ns/net is root's to open, as init's is).  The child is
 * forked before any secret is read or the environment scrubbed: it holds
 * only what the supervisor held then (a secret the caller put in the
 * environment), non-dumpable as the supervisor is, for the ~1 ms until
 * init has joined.  When it could not be made (EPERM in a
 * container without CAP_SYS_ADMIN), or the plan ends up without a network
 * namespace or with a user namespace, it is dropped and clone(2) makes
 * one as before, with its fallbacks.
 */
static struct {
	pid_t pid;
	int ready;   /* read end: the child's errno, 0 once made */
	int release; /* write end: EOF ends the child */
} netns_pre = {-1, -1, -1};

static void netns_pre_drop(void)
{
	if (netns_pre.ready >= 0)
		close(netns_pre.ready);
	if (netns_pre.release >= 0)
		close(netns_pre.release); /* the child ends; the main loop reaps it */
	netns_pre.ready = netns_pre.release = -1;
}

static void netns_pre_start(const struct policy *p)
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

/* What a started init reported first. */
enum start_result {
	START_READY = 1, /* running (namespaces set up, or none asked for) */
	START_RETRY,	 /* SB was planned again: start once more */
};

/*
 * Starts init: in new namespaces when planned, retrying with a user
 * namespace as root, then (namespaces = auto) with the next-strongest
 * complete configuration when a step of the set-up is refused: without a
 * PID namespace when no fresh /proc can be mounted, then without
 * namespaces (the connect broker for the network).  Each fallback is one
 * line on stderr; namespaces = on refuses instead.  An early report other
 * than the namespace set-up's is left in *EARLY for the main loop.
 */
static void start_protwatch(struct sandbox *sb);

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

static enum start_result start_init(struct sandbox *sb, const struct policy *p, int lifeline[2],
				    int rep_pipe[2], int sfd, const sigset_t *saved, pid_t *ret_pid,
				    struct msg_report *early, bool *have_early)
{
	pid_t init_pid = -1;
	union msg_any m;
	struct msg_report *r = &m.report;
	struct sandbox_plan plan_mem;
	const struct sandbox_plan *plan = &plan_mem;

	/* made again at each start: a fallback changes the plan */
	sandbox_plan_make(sb, &plan_mem);
	if (pipe2(lifeline, O_CLOEXEC) < 0 || pipe2(rep_pipe, O_CLOEXEC | O_DIRECT) < 0)
		die("pipe2: %s", strerror(errno));
	fflush(NULL);
	int netns_fd = -1;
	if (sb->ns == NS_FULL) {
		unsigned long flags = CLONE_NEWNS | CLONE_NEWIPC;
		if (sb->new_pid_ns)
			flags |= CLONE_NEWPID;
		if (sb->new_user_ns)
			flags |= CLONE_NEWUSER;
		if (sb->new_net_ns && !sb->new_user_ns)
			netns_fd = netns_pre_take();
		if (sb->new_net_ns && netns_fd < 0)
			flags |= CLONE_NEWNET;
		init_pid = clone_init(flags);
		if (init_pid != 0 && netns_fd >= 0)
			close(netns_fd); /* init's now */
		if (init_pid < 0) {
			int e = errno;
			close_pipes(lifeline, rep_pipe);
			if (!sb->new_user_ns && e == EPERM) {
				/* root without CAP_SYS_ADMIN (a container): a user
				 * namespace of its own gives the rest */
				sb->new_user_ns = true;
				return START_RETRY;
			}
			if (p->namespaces == POLICY_NS_ON)
				die("cannot create namespaces (%s) and [sandbox] namespaces = on",
				    strerror(e));
			/* planned first: a policy that cannot run without them
			 * ends with its one line */
			sandbox_fallback_no_ns(sb);
			replanned(sb);
			warn("namespaces unavailable (%s): running without them%s", strerror(e),
			     sb->iso == NET_ISO_BROKER ? ", the connect broker for the network"
						       : "");
			return START_RETRY;
		}
	} else {
		init_pid = fork();
		if (init_pid < 0)
			die("fork: %s", strerror(errno));
	}
	if (init_pid == 0) {
		struct sandbox_fds fds = {.report = rep_pipe[1],
					  .lifeline = lifeline[0],
					  .handoff = sb->handoff[1],
					  .relay = sb->abstract_relay[1],
					  .audit = sb->audit_fd};
		close(lifeline[1]);
		close(rep_pipe[0]);
		close(sfd);
		/* the network namespace made beforehand: before anything else,
		 * as if clone(2) had made it */
		if (netns_fd >= 0) {
			if (setns(netns_fd, CLONE_NEWNET) < 0)
				msg_fail_exit(rep_pipe[1], errno, EXIT_RINGFENCE,
					      "joining the sandbox's network namespace: %s",
					      strerror(errno));
			close(netns_fd);
		}
		protwatch_forget(sb);
		/* the secrets, the CA's key and the secret helper stay with
		 * the supervisor: init is given the plan only */
		creds_forget(sb);
		if (sb->handoff[0] >= 0)
			close(sb->handoff[0]);
		if (sb->abstract_relay[0] >= 0)
			close(sb->abstract_relay[0]);
		if (sb->broker_listen_fd >= 0)
			close(sb->broker_listen_fd);
		if (sb->dns_listen_fd >= 0)
			close(sb->dns_listen_fd);
		/* init logs what it does not carry back from a view of .git
		 * (gitview.c); the command never holds the log */
		if (sb->audit_fd >= 0 && !sb->n_gitview_paths) {
			close(sb->audit_fd);
			fds.audit = -1;
		}
		init_main(plan, &fds, saved);
	}
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
	char why[sizeof(r->text)];
	int e = 0, err = 0;
	if (sb->new_user_ns && sb->started_as_root) {
		e = write_root_maps(sb, init_pid);
		if (e == 0 && write_all(lifeline[1], "", 1) < 0)
			e = -errno;
		if (e == 0)
			bundle_go(sb, lifeline[1]);
		if (e < 0) {
			err = -e == E2BIG ? EPERM : -e;
			snprintf(why, sizeof(why), "writing the user namespace's id maps: %s%s",
				 strerror(-e),
				 e == -EPERM ? " (mapping root needs CAP_SETFCAP, mapping another "
					       "user CAP_SETUID)"
					     : "");
			kill(init_pid, SIGKILL);
		}
	} else
		bundle_go(sb, lifeline[1]);
	if (e == 0) {
		int rr;
		do
			rr = msg_recv(rep_pipe[0],
				      MSG_BIT(MSG_NS_READY) | MSG_BIT(MSG_NS_FAIL) |
					  MSG_BIT(MSG_FAIL),
				      &m, NULL);
		while (rr == -EINTR);
		if (rr < 0)
			return START_READY; /* init is gone: the main loop says so */
		if (r->h.kind != MSG_NS_FAIL) {
			if (r->h.kind != MSG_NS_READY) {
				*early = *r;
				*have_early = true;
			}
			return START_READY;
		}
		step = (enum ns_step)r->status;
		err = r->err;
		snprintf(why, sizeof(why), "%s", r->text);
	}
	/* init ends on its own after a failed step */
	(void)RETRY_EINTR(waitpid(init_pid, NULL, 0));
	close_pipes(lifeline, rep_pipe);
	if (p->namespaces == POLICY_NS_ON)
		die("%s, and [sandbox] namespaces = on", why);
	/* the environment refusing a step is a reason to fall back; the
	 * policy asking for what cannot be done (too many paths, a path
	 * that is gone) is not, and fails as it would anywhere */
	if (err != EPERM && err != EACCES && err != ENOSYS && err != EOPNOTSUPP)
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

static int exit_code_for(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_RINGFENCE;
}

/* learn: a request head seen in the clear */
static void proxy_head(void *ud, const char *host, uint16_t port, bool in_tls, const char *head,
		       size_t len)
{
	const struct sandbox *sb = ud;

	if (sb->learn)
		learn_note_head(sb->learn, host, port, in_tls, head, len);
}

/* The proxy's decisions, as audit lines (and, learning, recorded). */
static void proxy_event(void *ud, const struct netproxy_event *ev)
{
	const struct sandbox *sb = ud;
	char host[600], reason[1024], addr[96], rule[4200], method[64], path[3200];

	if (sb->learn)
		learn_note_net(sb->learn, ev);

	if (!audit_rate_ok(sb->audit_fd))
		return;
	json_string(host, sizeof(host), ev->host ? ev->host : "");
	json_string(reason, sizeof(reason), ev->reason ? ev->reason : "");
	json_string(addr, sizeof(addr), ev->addr ? ev->addr : "");
	json_string(method, sizeof(method), ev->method ? ev->method : "");
	json_string(path, sizeof(path), ev->path ? ev->path : "");
	if (ev->rule && ev->rule->origin.file) {
		char file[4100];
		json_string(file, sizeof(file), ev->rule->origin.file);
		snprintf(rule, sizeof(rule), ",\"rule\":{\"file\":%s,\"line\":%u}", file,
			 ev->rule->origin.line);
	} else if (ev->rule) {
		snprintf(rule, sizeof(rule), ",\"rule\":{\"file\":\"command line\"}");
	} else {
		rule[0] = '\0';
	}
	if (ev->credential) {
		char cred[300];
		json_string(cred, sizeof(cred), ev->credential);
		audit_event(
		    sb->audit_fd, ev->event,
		    "\"credential\":%s,\"proto\":\"%s\",\"host\":%s,\"port\":%u,\"where\":\"%s\""
		    "%s%s%s%s",
		    cred, ev->proto, host, ev->port, ev->where ? ev->where : "",
		    ev->method ? ",\"method\":" : "", ev->method ? method : "",
		    ev->reason ? ",\"reason\":" : "", ev->reason ? reason : "");
		return;
	}
	if (strcmp(ev->event, "net.close") == 0) {
		audit_event(
		    sb->audit_fd, ev->event,
		    "\"proto\":\"%s\",\"host\":%s,\"port\":%u,\"addr\":%s,\"bytes_up\":%llu,"
		    "\"bytes_down\":%llu",
		    ev->proto, host, ev->port, addr, (unsigned long long)ev->bytes_up,
		    (unsigned long long)ev->bytes_down);
		return;
	}
	audit_event(sb->audit_fd, ev->event,
		    "\"proto\":\"%s\",\"host\":%s,\"port\":%u%s%s%s%s%s%s,\"reason\":%s%s",
		    ev->proto, host, ev->port, ev->addr ? ",\"addr\":" : "", ev->addr ? addr : "",
		    ev->method ? ",\"method\":" : "", ev->method ? method : "",
		    ev->path ? ",\"path\":" : "", ev->path ? path : "", reason, rule);
}

/* Protected names made while the sandbox runs are moved aside at once;
 * without the watch they are only at exit: said, and refused when strict. */
static void start_protwatch(struct sandbox *sb)
{
	int r = protwatch_start(sb);

	if (r >= 0)
		return;
	if (!sb->best_effort)
		die("cannot watch for protected names made while the sandbox runs (inotify: %s); "
		    "enforcement = best-effort checks them only when it has ended",
		    strerror(-r));
	warn("cannot watch for protected names made while the sandbox runs (inotify: %s): "
	     "they are checked only when it has ended",
	     strerror(-r));
}

/*
 * Whether a command that failed without --trace gets the one line that
 * suggests it.  A Landlock refusal leaves no trace an unprivileged
 * supervisor can read cheaply: the kernel records it only in the audit
 * subsystem, and the seccomp filter sees a call before its result, never
 * the EACCES.  So every failure of the command itself gets the line, when
 * Landlock restricted its files: not a failure of ringfence's own start
 * (it said why), not a death by a signal a person sends (Ctrl-C, kill).
 */
static bool trace_hint_wanted(const struct sandbox *sb, bool start_failed, int status)
{
	if (start_failed || status < 0 || sb->ll.abi <= 0)
		return false;
	if (WIFEXITED(status))
		return WEXITSTATUS(status) != 0;
	return WIFSIGNALED(status) && WTERMSIG(status) != SIGINT && WTERMSIG(status) != SIGTERM &&
	       WTERMSIG(status) != SIGHUP && WTERMSIG(status) != SIGKILL &&
	       WTERMSIG(status) != SIGPIPE && WTERMSIG(status) != SIGQUIT;
}

/*
 * Without a PID namespace init ends what the command left running
 * (init.c); init itself SIGKILLed (by the host's user) would leave it to
 * the host's init.  The supervisor is a child subreaper then, so that it
 * comes here instead, and is ended here once init is gone.  The sandbox's
 * processes are told from the supervisor's other children (its helpers,
 * and what they start and leave, a secret command's agent) by their
 * seccomp filters: every process of the sandbox is under ringfence's on
 * top of the supervisor's own, which nothing in it can remove.
 */
static int seccomp_filters(pid_t pid)
{
	char path[64], line[256];
	int n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp_filters: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* Kills the sandbox's processes among our children, and theirs as they
 * come to us, until none is left; returns how many were killed. */
static int end_orphans(void)
{
	int own = seccomp_filters(getpid()), total = 0;

	/* Seccomp_filters is Linux 5.9's: older kernels are not told apart */
	if (own < 0)
		return 0;
	for (int tries = 0; tries < 1000; tries++) {
		pid_t killed[256];
		int n = 0;
		DIR *d = opendir("/proc/self/task");
		struct dirent *de;

		if (!d)
			return total;
		while ((de = readdir(d)) && n < (int)ARRAY_SIZE(killed)) {
			char path[320];
			FILE *f;
			int child;
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/self/task/%s/children", de->d_name);
			f = fopen(path, "re");
			if (!f)
				continue;
			while (n < (int)ARRAY_SIZE(killed) && fscanf(f, "%d", &child) == 1)
				if (seccomp_filters(child) > own && kill(child, SIGKILL) == 0)
					killed[n++] = child;
			fclose(f);
		}
		closedir(d);
		/* reaped here: what each leaves comes to us for the next pass */
		for (int i = 0; i < n; i++)
			(void)RETRY_EINTR(waitpid(killed[i], NULL, 0));
		total += n;
		if (n == 0)
			break;
	}
	return total;
}

int supervisor_run(const struct cli *cli)
{
	char *home = NULL;
	struct policy *p = supervisor_load_policy(cli, &home);

	return supervisor_run_policy(cli, p, home, NULL);
}

int supervisor_run_policy(const struct cli *cli, struct policy *p_in, char *home_in,
			  struct learn_rec *learn)
{
	_cleanup_(policy_freep) struct policy *p = p_in;
	_cleanup_free_ char *home = home_in;
	struct sandbox sb;
	int lifeline[2] = {-1, -1}, rep_pipe[2] = {-1, -1};
	sigset_t block, saved;
	pid_t init_pid = -1;
	int sfd;
	struct msg_report fail = {0}, done = {0};
	bool have_fail = false, have_done = false, init_exited = false;
	int init_status = 0;

	struct netproxy *np = NULL;
	int notify_fd = -1;
	struct broker_stats bstats = {0};

	/* Secrets are read while preparing, and this process keeps them in
	 * memory only: neither its memory nor its environment may be read
	 * through /proc from here on. */
	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		die("PR_SET_DUMPABLE: %s", strerror(errno));
	/* before any secret is read (creds_prepare): it is forked */
	netns_pre_start(p);
	/* the log first: it exists by the time the protect list is made */
	if (p->log.file) {
		int fd = audit_open(p->log.file);
		if (fd < 0)
			die("%s: cannot open the audit log: %s%s", p->log.file, strerror(-fd),
			    fd == -ELOOP ? " (a symbolic link in its path is never followed)" : "");
		/* before the plan: an earlier run's placeholders are gone */
		journal_recover(fd);
		sandbox_prepare(&sb, p, cli->argv, home);
		sb.audit_fd = fd;
	} else {
		journal_recover(-1);
		sandbox_prepare(&sb, p, cli->argv, home);
	}

	if (learn) {
		/* learning sees every file call, as --trace does */
		learn_begin(learn, &sb);
		sb.learn = learn;
	}
	if (cli->log_live)
		audit_set_live(isatty(STDERR_FILENO));
	/* --trace: the file calls are shown to the supervisor through the
	 * notification fd, which comes over the handoff pair as the broker's */
	if (cli->trace || learn) {
		struct seccomp_notif_sizes sz;
		if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
			die("%s needs seccomp user notifications (Linux 5.0+)",
			    learn ? "learn" : "--trace");
		if (sb.ll.abi <= 0 && !learn)
			warn(
			    "--trace: without Landlock no file access is refused: nothing to show");
		sb.trace = true;
		if (sb.handoff[0] < 0 &&
		    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sb.handoff) < 0)
			die("socketpair: %s", strerror(errno));
	}

	/* Forwarded signals are taken through a signalfd, here and in init;
	 * the command gets a clean mask back before exec. */
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	for (size_t i = 0; i < forwarded_signals_n; i++)
		sigaddset(&block, forwarded_signals[i]);
	if (sigprocmask(SIG_BLOCK, &block, &saved) < 0)
		die("sigprocmask: %s", strerror(errno));
	sfd = signalfd(-1, &block, SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd: %s", strerror(errno));
	if (p->net.mode == POLICY_NET_PROXY) {
		struct netproxy_hooks hooks = {
		    .event = proxy_event, .head = learn ? proxy_head : NULL, .ud = &sb};
		int r = netproxy_new(p, &hooks, &np);
		if (r < 0)
			die("cannot start the network proxy: %s", strerror(-r));
	}

	githeads_start(&sb);
	start_protwatch(&sb);
	journal_begin(&sb);
	/* before init is forked: what the command leaves comes to us if init
	 * is killed (end_orphans()), not to the host's init */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	while (start_init(&sb, p, lifeline, rep_pipe, sfd, &saved, &init_pid, &fail, &have_fail) ==
	       START_RETRY)
		;
	netns_pre_drop(); /* not used: the plan had no network namespace */
	/* what init's own death ends: with a PID namespace everything in it;
	 * without, nothing, and end_orphans() does */
	bool reaper = sb.ns != NS_FULL || !sb.new_pid_ns;
	sandbox_note_layers(&sb);
	/* The secrets reach the proxy only now that init is forked: the
	 * copies it makes of them (the needles it scans replies for, their
	 * encodings) were never in the memory init and the command were
	 * forked from.  Their own mapping is wiped on fork (creds.c), the
	 * CA's key freed in init (creds_forget()).  Nothing is served before
	 * the loop below. */
	if (np) {
		int r = netproxy_set_credentials(np, sb.creds, sb.n_creds, sb.tls);
		if (r < 0)
			die("cannot start the network proxy: %s", strerror(-r));
		if (sb.secret_fd >= 0) {
			/* the proxy's now; init closed its copy (creds_forget()) */
			r = netproxy_set_secret_source(np, sb.secret_fd, sb.secrets_fetched_ms);
			if (r < 0)
				die("cannot start the network proxy: %s", strerror(-r));
		}
	}
	/* the repositories the walk at start did not reach, watched from
	 * when a walk of ours finds them */
	protwatch_find(&sb);
	/* a peer that hangs up must not end the supervisor: the proxy's TLS
	 * writes cannot pass MSG_NOSIGNAL (set here, after fork: the command
	 * starts with the default) */
	signal(SIGPIPE, SIG_IGN);
	if (sb.handoff[1] >= 0) {
		close(sb.handoff[1]);
		sb.handoff[1] = -1;
	}
	if (sb.abstract_relay[1] >= 0) {
		close(sb.abstract_relay[1]);
		sb.abstract_relay[1] = -1;
	}
	if (np && sb.iso == NET_ISO_BROKER) {
		int r = netproxy_add_listener(np, sb.broker_listen_fd, true);
		if (r < 0)
			die("the network proxy: %s", strerror(-r));
		sb.broker_listen_fd = -1;
		if (sb.dns_listen_fd >= 0) {
			r = netproxy_add_nameserver(np, sb.dns_listen_fd, true, true);
			sb.dns_listen_fd = -1;
			if (r < 0)
				die("the sandbox's DNS: %s", strerror(-r));
		}
	}

	audit_event(sb.audit_fd, "start",
		    "\"init_pid\":%d,\"namespaces\":%s,\"landlock_abi\":%d,\"network\":\"%s\"",
		    init_pid, sb.ns == NS_FULL ? "true" : "false", sb.ll.abi,
		    sb.iso == NET_ISO_NAMESPACE ? "proxy (namespace)"
		    : sb.iso == NET_ISO_BROKER	? "proxy (broker)"
						: policy_net_mode_name(p->net.mode));

	/* Until init has exited, or said that nothing of the sandbox runs
	 * any more (its REPORT_EXIT without EBUSY): its own exit (the
	 * namespaces' teardown, ~0.2 ms) then goes on beside the clean-up
	 * below, and is waited for at the end. */
	bool rep_open = true;
	while ((!init_exited || rep_open) && !(have_done && done.err == 0)) {
		struct pollfd pfd[8] = {
		    {.fd = sfd, .events = POLLIN},
		    {.fd = rep_open ? rep_pipe[0] : -1, .events = POLLIN},
		    {.fd = np ? netproxy_fd(np) : -1, .events = POLLIN},
		    {.fd = sb.handoff[0], .events = POLLIN},
		    {.fd = notify_fd, .events = POLLIN},
		    {.fd = protwatch_fd(&sb), .events = POLLIN},
		    {.fd = protwatch_timer_fd(&sb), .events = POLLIN},
		    {.fd = protwatch_find_fd(&sb), .events = POLLIN},
		};
		if (poll(pfd, ARRAY_SIZE(pfd), np ? netproxy_timeout(np) : -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		/* the proxy's events only when its fd says so: a wake-up for
		 * the broker costs no empty epoll_wait */
		if (np && pfd[2].revents)
			netproxy_dispatch(np);
		else if (np)
			netproxy_dispatch_timers(np);
		if (pfd[5].revents)
			protwatch_dispatch(&sb);
		if (pfd[6].revents)
			protwatch_tick(&sb);
		if (pfd[7].revents)
			protwatch_find_read(&sb);
		if (pfd[3].revents) {
			/* init's listener (namespace) and nameserver sockets,
			 * or the command's notification fd */
			union msg_any m;
			int fd = -1;
			int r = msg_recv(sb.handoff[0],
					 MSG_BIT(MSG_PROXY_LISTENER) | MSG_BIT(MSG_DNS_UDP) |
					     MSG_BIT(MSG_DNS_TCP) | MSG_BIT(MSG_NOTIFY),
					 &m, &fd);
			struct stat fst;
			bool is_sock = r == 0 && fstat(fd, &fst) == 0 && S_ISSOCK(fst.st_mode);
			enum msg_kind kind = r == 0 ? (enum msg_kind)m.h.kind : _MSG_MAX;
			if (is_sock && sb.iso == NET_ISO_NAMESPACE && np &&
			    (kind == MSG_DNS_UDP || kind == MSG_DNS_TCP)) {
				r = netproxy_add_nameserver(np, fd, kind == MSG_DNS_TCP, false);
				if (r < 0)
					warn("the sandbox's DNS cannot serve: %s", strerror(-r));
			} else if (is_sock && sb.iso == NET_ISO_NAMESPACE && np &&
				   kind == MSG_PROXY_LISTENER) {
				r = netproxy_add_listener(np, fd, false);
				if (r < 0) {
					close(fd);
					warn("the network proxy cannot serve: %s", strerror(-r));
				}
			} else if (r == 0 && !is_sock && kind == MSG_NOTIFY && notify_fd < 0) {
				notify_fd = fd;
				sb.objgate_live = sb.attrgate || sb.modegate;
				broker_sync_wake(notify_fd);
			} else if (r == 0) {
				close(fd);
			} else if (r != -EAGAIN && r != -EINTR) {
				close(sb.handoff[0]);
				sb.handoff[0] = -1;
			}
		}
		if (pfd[4].revents & POLLIN) {
			int r = broker_handle(notify_fd, &sb, np, &bstats);
			if (r < 0 && r != -EAGAIN) {
				/* without a listener the kernel fails every later
				 * connect with ENOSYS: closed, but say why */
				warn("the connect broker stopped: %s; the sandbox's connections "
				     "now fail",
				     strerror(-r));
				close(notify_fd);
				notify_fd = -1;
			}
		} else if (pfd[4].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			/* nothing with the filter is left */
			close(notify_fd);
			notify_fd = -1;
		}
		if (pfd[1].revents) {
			union msg_any m;
			struct msg_report *r = &m.report;
			int rr =
			    msg_recv(rep_pipe[0],
				     MSG_BIT(MSG_FAIL) | MSG_BIT(MSG_EXEC) | MSG_BIT(MSG_EXIT) |
					 MSG_BIT(MSG_NS_READY) | MSG_BIT(MSG_NS_FAIL),
				     &m, NULL);
			if (rr < 0 && rr != -EBADMSG) {
				rep_open = false;
			} else if (rr == 0) {
				switch ((enum msg_kind)r->h.kind) {
				case MSG_FAIL:
					if (!have_fail)
						fail = *r;
					have_fail = true;
					break;
				case MSG_EXEC:
					/* every line has "pid" (the supervisor's): the
					 * command's own gets a name of its own */
					audit_event(sb.audit_fd, "exec", "\"command_pid\":%d",
						    r->status);
					/* the start is done: what it used is given back */
					memory_trim();
					/* only once the command runs: a failure gets one line */
					if (sb.started_as_root && !p->process.run_as)
						warn(
						    "running as root with every capability "
						    "dropped; "
						    "set [process] run_as = USER to run as another "
						    "user, or run_as = root to silence this");
					break;
				case MSG_EXIT:
					done = *r;
					have_done = true;
					break;
				case MSG_NS_READY:
				case MSG_NS_FAIL: /* start_init() read them */
				case MSG_PROXY_LISTENER:
				case MSG_DNS_UDP:
				case MSG_DNS_TCP:
				case MSG_NOTIFY:
				case MSG_RELAY_CONNECT:
				case MSG_RELAY_ANSWER: /* not on this pipe: refused */
				case _MSG_MAX:
				default:
					break;
				}
			}
		}
		if (pfd[0].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGCHLD) {
				int st;
				pid_t pid;
				/* as PID 1 of a container we reap whatever is reparented to us */
				while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
					if (pid == init_pid) {
						init_exited = true;
						init_status = st;
					}
			} else if (si.ssi_code != SI_KERNEL && !init_exited) {
				/* sent by a process (kill, timeout, docker stop): pass it on
				 * once; the terminal's own signals reach the command directly */
				kill(init_pid, (int)si.ssi_signo);
			}
		}
	}

	if (reaper && init_exited && !have_done) {
		/* init was killed: it ended nothing (the count takes in the
		 * dead not yet reaped: said without it) */
		if (end_orphans() > 0)
			warn("the sandbox's init was killed: what the command left was ended "
			     "here");
	}

	int code;
	if (have_fail) {
		fprintf(stderr, "ringfence: %s\n", fail.text);
		code = fail.exit;
	} else if (have_done) {
		code = exit_code_for(done.status);
	} else {
		fprintf(stderr, "ringfence: the sandbox's init ended unexpectedly (%s %d)\n",
			WIFSIGNALED(init_status) ? "signal" : "status",
			WIFSIGNALED(init_status) ? WTERMSIG(init_status)
						 : WEXITSTATUS(init_status));
		code = EXIT_RINGFENCE;
	}
	if (np || bstats.refused) {
		char line[2048];
		size_t off = 0;
		line[0] = '\0';
		if (np && netproxy_summary(np, line, sizeof(line)))
			off = strlen(line);
		if (bstats.refused && off < sizeof(line))
			snprintf(
			    line + off, sizeof(line) - off,
			    "%s%lu direct connection%s refused (last: %s): the sandbox reaches "
			    "the network only through the proxy",
			    off ? "; " : "", bstats.refused, bstats.refused == 1 ? "" : "s",
			    bstats.last);
		if (line[0])
			fprintf(stderr, "ringfence: %s\n", line);
	}
	/* the file gate's refusals are file refusals too (said as they
	 * happened, and as protect.blocked events) */
	if (sb.trace)
		fsgate_count_refusals(&sb, &bstats);
	if (bstats.fs_refused) {
		char line[4096];
		fstrace_summary(&bstats, sb.home, line, sizeof(line));
		fprintf(stderr, "ringfence: %s\n", line);
	} else if (!sb.trace && trace_hint_wanted(&sb, have_fail, have_done ? done.status : -1)) {
		fprintf(stderr,
			"ringfence: the command failed (exit %d); if a file access was "
			"refused, run again with --trace to see which\n",
			code);
	}
	fstrace_stats_free(&bstats);
	/* the listener the command sent before exec, unread when it ended at
	 * once: the mode gate held all the same (a chmod would have waited
	 * on us), and the end need not read every object's time */
	for (int i = 0; i < 8 && sb.modegate && notify_fd < 0 && sb.handoff[0] >= 0; i++) {
		union msg_any m;
		int fd = -1;
		if (msg_recv(sb.handoff[0],
			     MSG_BIT(MSG_PROXY_LISTENER) | MSG_BIT(MSG_DNS_UDP) |
				 MSG_BIT(MSG_DNS_TCP) | MSG_BIT(MSG_NOTIFY),
			     &m, &fd) < 0)
			break;
		sb.objgate_live |= (enum msg_kind)m.h.kind == MSG_NOTIFY && fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	if (notify_fd >= 0)
		close(notify_fd);
	netproxy_free(np);
	audit_flush_suppressed(sb.audit_fd);
	protwatch_dispatch(&sb); /* the last events */
	/* the placeholders' removal (a child) first: a run started right
	 * after ours must not find them */
	protect_finish(&sb);
	fsgate_finish(&sb);
	protwatch_stop(&sb);
	/* what the refs and the index record at protected paths first: the
	 * walks of gitlinks_finish() judge the files git reads */
	githeads_finish(&sb);
	gitlinks_finish(&sb);
	state_remove_placeholders(&sb);
	journal_end(&sb);
	journal_sweep(&sb);
	if (!init_exited)
		(void)RETRY_EINTR(waitpid(init_pid, NULL, 0));
	audit_event(sb.audit_fd, "exit", "\"status\":%d", code);
	if (sb.audit_fd >= 0)
		close(sb.audit_fd);
	sandbox_release(&sb);
	return code;
}
