/* SPDX-License-Identifier: MIT */
/*
 * The command's process, between its clone from init (init.c: sharing
 * init's memory, init stopped until the exec) and exec.  Every failure
 * here is reported once over REPORT_FD and ends the process with _exit():
 * nothing returns into shared code.  Namespaces, mounts and the loopback
 * interface are already set up by init; the numbered steps below are the
 * rest of DESIGN.md's sequence, each placed where its constraint puts it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static const int rlimit_resource[_POLICY_RLIMIT_MAX] = {
    [POLICY_RLIMIT_NOFILE] = RLIMIT_NOFILE, [POLICY_RLIMIT_NPROC] = RLIMIT_NPROC,
    [POLICY_RLIMIT_CORE] = RLIMIT_CORE,	    [POLICY_RLIMIT_FSIZE] = RLIMIT_FSIZE,
    [POLICY_RLIMIT_AS] = RLIMIT_AS,	    [POLICY_RLIMIT_CPU] = RLIMIT_CPU,
};

/* Until CLOCK_REALTIME_COARSE is later than T (one clock tick at most). */
/*
 * With namespaces, a memory device the caller handed over on fds 0-2
 * (/dev/null: a service's or a CI job's stdin) is the host's node on the
 * host's mount, where the read-only tree does not reach: a command that
 * owns it (root's, run as root) could chmod it through /proc/self/fd/0,
 * and an outside review made the host's /dev/null 0600 so.  Each is
 * opened again by its name in the sandbox's view (the same device, with
 * the same access), where such calls meet a read-only mount.  Other files
 * and devices stay the caller's (README, Known limits).
 */
static int reopen_std_devices(void)
{
	static const char names[][13] = {[3] = "/dev/null",
					 [5] = "/dev/zero",
					 [7] = "/dev/full",
					 [8] = "/dev/random",
					 [9] = "/dev/urandom"};
	for (int fd = 0; fd < 3; fd++) {
		struct stat st, again;
		if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 ||
		    minor(st.st_rdev) >= sizeof(names) / sizeof(names[0]) ||
		    !names[minor(st.st_rdev)][0])
			continue;
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0)
			return -errno;
		int nfd = open(names[minor(st.st_rdev)],
			       (fl & (O_ACCMODE | O_APPEND | O_NONBLOCK)) | O_NOCTTY | O_CLOEXEC);
		if (nfd < 0)
			return -errno;
		if (fstat(nfd, &again) < 0 || again.st_rdev != st.st_rdev || dup2(nfd, fd) < 0) {
			close(nfd);
			return -EIO;
		}
		close(nfd);
	}
	return 0;
}

static void wait_past(const struct timespec *t)
{
	struct timespec c;

	for (int i = 0; i < 1000; i++) {
		clock_gettime(CLOCK_REALTIME_COARSE, &c);
		if (c.tv_sec > t->tv_sec || (c.tv_sec == t->tv_sec && c.tv_nsec > t->tv_nsec))
			return;
		nanosleep(&(struct timespec){.tv_nsec = 200000}, NULL);
	}
}

#define FAIL(err, ...) msg_fail_exit(report_fd, (err), EXIT_RINGFENCE, __VA_ARGS__)

/* Long: the command's pre-exec sequence in numbered steps (STYLE.md rule 4):
 * one function, so that the order its comments justify reads top to bottom. */
void child_exec(const struct sandbox_plan *plan, int ruleset_fd, int handoff, int report_fd,
		const sigset_t *caller_mask)
{
	pid_t parent = getppid();
	const char *step;
	int r;

	/* 1. Die with init: the command must never outlive the sandbox. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		FAIL(errno, "PR_SET_PDEATHSIG: %s", strerror(errno));

	/* 1b. Back in the caller's process group, which init left (init.c):
	 *     the terminal's signals and the foreground reach the command as
	 *     they reach a plain child.  Only with a terminal (init.c says
	 *     why).  Before anything of the command's runs; EPERM: the group
	 *     is gone, the supervisor with it. */
	if (plan->caller_pgrp > 0 && plan->cmd_rejoins && setpgid(0, plan->caller_pgrp) < 0)
		FAIL(errno, "joining the caller's process group: %s", strerror(errno));

	/* 1c. Started in the background of the operator's terminal: a
	 *     session of its own, without a controlling terminal, so that it
	 *     can neither make itself the terminal's foreground nor join the
	 *     shell's group (the supervisor says why: runloop.c,
	 *     terminal_save()).  Never a group's leader here (init's child, in
	 *     init's group or the caller's), so setsid() cannot fail but for a
	 *     kernel that refuses it. */
	if (plan->tty_detach && setsid() < 0)
		FAIL(errno, "a session of its own: %s", strerror(errno));

	/* 2. Resource limits, while we may still raise a hard limit. */
	for (int i = 0; i < _POLICY_RLIMIT_MAX; i++) {
		const struct policy_rlimit_value *rl = &plan->rlimits[i];
		struct rlimit lim;
		if (!rl->set)
			continue;
		lim.rlim_cur = lim.rlim_max =
		    rl->value == POLICY_RLIM_INFINITY ? RLIM_INFINITY : (rlim_t)rl->value;
		if (setrlimit(rlimit_resource[i], &lim) < 0) {
			int e = errno;
			struct rlimit cur;
			char want[32];
			if (rl->value == POLICY_RLIM_INFINITY)
				snprintf(want, sizeof(want), "unlimited");
			else
				snprintf(want, sizeof(want), "%llu", (unsigned long long)rl->value);
			getrlimit(rlimit_resource[i], &cur);
			if (e == EPERM && cur.rlim_max != RLIM_INFINITY)
				FAIL(e,
				     "%s = %s: above the hard limit %llu, which only "
				     "CAP_SYS_RESOURCE may raise",
				     policy_rlimit_key((enum policy_rlimit)i), want,
				     (unsigned long long)cur.rlim_max);
			FAIL(e, "%s = %s: %s", policy_rlimit_key((enum policy_rlimit)i), want,
			     strerror(e));
		}
	}

	/* 2b. With namespaces, the memory devices on fds 0-2 opened again in
	 *     the sandbox's view (reopen_std_devices() says why). */
	if (plan->ns == NS_FULL && (r = reopen_std_devices()) < 0)
		FAIL(-r, "opening the device on fds 0-2 again in the sandbox: %s", strerror(-r));

	/* 3. Privilege drop: needs our capabilities, so before no_new_privs
	 *    and Landlock (which would not stop it, but nothing may run
	 *    privileged after the sandbox is in place). */
	r = privdrop_apply(plan, &step);
	if (r < 0)
		FAIL(-r, "privilege drop failed while %s: %s", step, strerror(-r));

	/* 4. A change of credentials clears the parent-death signal: set it
	 *    again, then make sure init did not die in between. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		FAIL(errno, "PR_SET_PDEATHSIG: %s", strerror(errno));
	if (getppid() != parent)
		_exit(EXIT_RINGFENCE);

	/* 5. no_new_privs: Landlock requires it once capabilities are gone, and
	 *    it stops setuid binaries and file capabilities from granting
	 *    anything. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		FAIL(errno, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));

	/* 6. Landlock: filesystem rules, TCP rules (mode = none without a
	 *    network namespace) and scopes. */
	if (plan->ll.abi > 0) {
		/* init builds the ruleset whenever the kernel has Landlock:
		 * without one here, refuse rather than run unconfined */
		if (ruleset_fd < 0)
			FAIL(EBADF, "internal error: no Landlock ruleset to enforce");
		r = landlock_restrict(ruleset_fd, &plan->ll);
		if (r < 0)
			FAIL(-r, "landlock_restrict_self: %s", strerror(-r));
		close(ruleset_fd);
	}

	/* 7. Only fds 0, 1 and 2 reach the command; the report pipe is already
	 *    close-on-exec, and must stay open until exec. */
	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		FAIL(errno, "close_range: %s", strerror(errno));

	/* 8. Signals as the caller left them, as a plain exec would: its mask
	 *    (we blocked the forwarded ones for signalfd) and its dispositions,
	 *    which ringfence never changes, so `nohup ringfence -- cmd` keeps
	 *    SIGHUP ignored. */
	if (sigprocmask(SIG_SETMASK, caller_mask, NULL) < 0)
		FAIL(errno, "sigprocmask: %s", strerror(errno));

	/* 8b. Without multigrain file times (layers.c start_time()), not
	 *     before the coarse clock file times are taken from has passed the
	 *     supervisor's start: what the command makes then has a later time
	 *     than anything the host made before (the exit walk tells them
	 *     apart so).  One tick at most. */
	if (plan->start_wait)
		wait_past(&plan->started_at);

	/* 9. seccomp last: everything above uses calls the filter refuses.
	 *    Under the connect broker, and wherever Unix sockets are allowed
	 *    (their connects are mediated), connect(2) and listen(2) are handed
	 *    to the supervisor, with --trace the file calls are shown to it
	 *    (fstrace.c; Landlock still decides them), and without namespaces
	 *    the file gate's calls go to it (fsgate.c): that one filter (the
	 *    plan's, built by the supervisor) is installed and its
	 *    notification fd goes to it before the others are installed (they
	 *    refuse nothing sendmsg needs, but order costs nothing).  From here
	 *    the notified calls wait for the supervisor: nothing below but exec. */
	int nfd = plan->seccomp_notify.len ? seccomp_install_listener(&plan->seccomp_notify) : -1;
	if (plan->seccomp_notify.len && nfd < 0 && !plan->notify_optional)
		FAIL(-nfd, "installing the %s filter: %s%s%s", plan->notify_what, strerror(-nfd),
		     nfd == -EBUSY ? " (another listener is installed above, as under "
				     "WSL2: use namespaces, unix_sockets = deny, no "
				     "--trace, capture = off"
				   : "",
		     nfd != -EBUSY	 ? ""
		     : plan->best_effort ? ")"
					 : "; or enforcement = best-effort)");
	if (nfd >= 0) {
		r = msg_send(handoff, &(union msg_any){.h.kind = MSG_NOTIFY}, nfd);
		if (r < 0)
			FAIL(-r, "handing the notification fd over: %s", strerror(-r));
		close(nfd);
		close(handoff);
	}
	r = seccomp_install(&plan->seccomp_deny, &plan->seccomp_allow);
	if (r < 0)
		FAIL(-r, "installing the seccomp filter: %s", strerror(-r));

	/* 10. exec, searching the command's own PATH. */
	environ = (char **)plan->envp;
	execvp(plan->argv[0], plan->argv);
	r = errno;
	if (r == ENOENT)
		msg_fail_exit(report_fd, r, EXIT_NOTFOUND, "%s: command not found", plan->argv[0]);
	msg_fail_exit(report_fd, r, EXIT_NOEXEC, "%s: cannot execute: %s", plan->argv[0],
		      strerror(r));
}
