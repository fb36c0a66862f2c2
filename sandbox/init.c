/* SPDX-License-Identifier: MIT */
/*
 * init: the process between the supervisor and the command.
 *
 * With namespaces it is PID 1 of the sandbox's PID namespace: the command is
 * never PID 1 (PID 1 ignores signals it has no handler for), orphans are
 * reaped here, and when init ends the kernel kills whatever is left in the
 * namespace.  Without namespaces it is a child subreaper that ends the
 * command's whole tree itself (TERM, a grace period, then KILL).
 *
 * It watches a lifeline pipe whose only write end the supervisor holds: EOF
 * means the supervisor is gone (even by SIGKILL), and the tree is ended.
 * Without a PID namespace that only holds if init outlives the supervisor:
 * a shell's `kill -9 %1`, or a harness's killpg() on a timeout, signals the
 * caller's whole process group at once, and a subreaper dying with it would
 * leave a daemon the command started in a session of its own to the host's
 * init.  So init leaves that group for one of its own before it forks
 * anything, and the command joins the caller's group again before exec
 * (child.c), where the terminal's job control (Ctrl-C, Ctrl-Z, reading the
 * terminal in the foreground) finds it as it would a plain child.  Only
 * with a controlling terminal: a member of a group whose parent is in
 * another group of the session (the command, a child of init) keeps that
 * group from being orphaned, and its exit orphans it again; the kernel
 * then sends SIGHUP and SIGCONT to the whole group if one of its members
 * is stopped, which a plain child's exit never does.  A caller in a
 * group that was orphaned already (a daemon, a CI runner's session) lost
 * its stopped processes' stop and was hung up.  Without a terminal no job
 * control looks for the command, and it stays in init's group: a harness's
 * killpg() ends the supervisor, and init ends the tree (the lifeline).
 * Signals the supervisor forwards arrive here and go on to the command once;
 * signals the kernel sent itself (a Ctrl-C from the terminal reaches every
 * process of the foreground group) are not passed on a second time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"

#define GRACE_MS 2000

const int forwarded_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
const size_t forwarded_signals_n = ARRAY_SIZE(forwarded_signals);

#define FAIL(err, ...) msg_fail_exit(fds->report, (err), EXIT_RINGFENCE, __VA_ARGS__)

static int write_id_maps(uid_t uid, gid_t gid)
{
	char buf[64];
	int r;

	/* setgroups must be denied before an unprivileged gid_map is written */
	r = write_file("/proc/self/setgroups", "deny");
	if (r < 0)
		return r;
	snprintf(buf, sizeof(buf), "%u %u 1\n", uid, uid);
	r = write_file("/proc/self/uid_map", buf);
	if (r < 0)
		return r;
	snprintf(buf, sizeof(buf), "%u %u 1\n", gid, gid);
	return write_file("/proc/self/gid_map", buf);
}

/* Sends SIG to every descendant (found through /proc/PID/task/TID/children),
 * a parent before its children; returns how many were signalled, or -1
 * when its list could not be had.  Not by recursion: a chain the command
 * makes may be any depth (an outside review went past the 256 levels a
 * recursion held, and what was deeper ran on through a job's stop); the
 * pids still to walk are kept in a mapping of their own, grown as needed. */
/* The state letter of thread TID of PID (/proc/PID/task/TID/stat: R, S,
 * D, T, Z, ...), or 0. */
static char task_state(pid_t pid, const char *tid)
{
	char path[96], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", pid, tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* Whether a thread of PID runs still, or may: running or sleeping
 * interruptibly (it acts on a stop sent to it only when it next leaves
 * the kernel; one in an uninterruptible wait, D, takes it before it runs
 * a user instruction again, and meanwhile sends no signal: a vfork's
 * parent waits so for a child that was stopped before its exec). */
static bool runs(pid_t pid)
{
	char path[64];
	struct dirent *de;
	bool any = false;

	/* each thread: a leader that has exited shows Z while the others
	 * run on */
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	_cleanup_(closedirp) DIR *d = opendir(path);
	while (d && !any && (de = readdir(d))) {
		char c = de->d_name[0] == '.' ? 0 : task_state(pid, de->d_name);
		any = c == 'R' || c == 'S';
	}
	return any;
}

/*
 * While the job is stopped (police_stopped_job()): how often each process
 * of the sandbox had been put on a CPU at the last look (summed over its
 * threads, /proc/PID/task/TID/schedstat's third field), and at how many
 * looks that had grown.  A state is what a look sees at its moment: a
 * process a timer of its own continued for a burst shorter than the 10 ms
 * between looks, which stopped itself again, showed T at every look and
 * read what the operator typed meanwhile (an outside review); what it ran
 * shows in the count.  Open addressing by pid in a mapping of its own
 * (init makes no heap block after the fork), made at a stop's first look
 * and dropped when the job goes on; full, it counts nothing more.
 */
#define RAN_SLOTS 8192
struct ran {
	pid_t pid;
	unsigned looks;
	unsigned long long slices;
};
static struct ran *ran_table;
static int ran_killed; /* killed for it at this look */

static unsigned long long slices_of(pid_t pid)
{
	char path[64];
	struct dirent *de;
	unsigned long long sum = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	_cleanup_(closedirp) DIR *d = opendir(path);
	while (d && (de = readdir(d))) {
		char spath[320], buf[128];
		unsigned long long run, wait, slices;
		if (de->d_name[0] == '.')
			continue;
		snprintf(spath, sizeof(spath), "/proc/%d/task/%s/schedstat", pid, de->d_name);
		int fd = open(spath, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (sscanf(buf, "%llu %llu %llu", &run, &wait, &slices) == 3)
			sum += slices;
	}
	return sum;
}

/* At how many looks PID had run more than at the one before (0 at its
 * first). */
static unsigned ran_more(pid_t pid)
{
	unsigned long long now = slices_of(pid);

	for (size_t i = (size_t)pid * 2654435761u % RAN_SLOTS, k = 0; k < RAN_SLOTS;
	     i = (i + 1) % RAN_SLOTS, k++) {
		struct ran *r = &ran_table[i];
		if (r->pid == 0) {
			*r = (struct ran){.pid = pid, .slices = now};
			return 0;
		}
		if (r->pid == pid) {
			r->looks += now != r->slices;
			r->slices = now;
			return r->looks;
		}
	}
	return 0;
}

/* Whether PID runs still (runs()), or, while the job is stopped, ran
 * since the last look; sent KILL_RUNNING when either, and SIGKILL when
 * it has run at two looks of this stop. */
static bool looked_at(pid_t pid, int kill_running)
{
	bool r = runs(pid);
	unsigned looks = ran_table ? ran_more(pid) : 0;

	if (looks >= 2) {
		(void)kill(pid, SIGKILL);
		ran_killed++;
	} else if ((r || looks) && kill_running) {
		(void)kill(pid, kill_running);
	}
	return r || looks > 0;
}

static int walk_tree(pid_t root, int sig, int *running, int kill_running);

static int signal_tree(pid_t root, int sig)
{
	return walk_tree(root, sig, NULL, 0);
}

/* signal_tree(), and in *RUNNING (when given) how many of them ran still
 * (SIG 0: only that looked at), each sent KILL_RUNNING (when not 0). */
static int walk_tree(pid_t root, int sig, int *running, int kill_running)
{
	size_t cap = 1024, n = 0;
	pid_t *todo = mmap(NULL, cap * sizeof(pid_t), PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int count = 0;

	if (todo == MAP_FAILED)
		return -1;
	todo[n++] = root;
	while (n && count >= 0) {
		pid_t pid = todo[--n];
		char path[64];
		struct dirent *de;
		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		DIR *d = opendir(path);
		while (d && count >= 0 && (de = readdir(d))) {
			char cpath[320];
			int child;
			if (de->d_name[0] == '.')
				continue;
			snprintf(cpath, sizeof(cpath), "/proc/%d/task/%s/children", pid,
				 de->d_name);
			FILE *f = fopen(cpath, "re");
			while (f && fscanf(f, "%d", &child) == 1) {
				if (kill(child, sig) == 0)
					count++;
				if (running && looked_at(child, kill_running))
					(*running)++;
				if (n == cap) {
					pid_t *more =
					    mremap(todo, cap * sizeof(pid_t),
						   2 * cap * sizeof(pid_t), MREMAP_MAYMOVE);
					if (more == MAP_FAILED) {
						count = -1;
						break;
					}
					todo = more;
					cap *= 2;
				}
				todo[n++] = child;
			}
			if (f)
				fclose(f);
		}
		if (d)
			closedir(d);
	}
	munmap(todo, cap * sizeof(pid_t));
	return count;
}

/* How many processes of the PID namespace but init run still (its /proc
 * is the namespace's own), each sent KILL_RUNNING (when not 0); -1 when it
 * cannot be read. */
static int running_in_ns(int kill_running)
{
	_cleanup_(closedirp) DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end == '\0' && pid > 1 && looked_at((pid_t)pid, kill_running))
			n++;
	}
	return n;
}

/* Job control: SIG_JOB_STOP from the supervisor stops every process of
 * the sandbox, then says so (the supervisor stops only then: runloop.c);
 * SIG_JOB_CONT continues them.  Only the supervisor's: with a PID namespace it
 * is outside (pid 0 here), without one it is our parent.  Stopped is what
 * each process's state says, not that the signal was sent: the sandbox's
 * processes may signal each other, and one not stopped yet continued one
 * that was (an outside review: a SIGCONT loop ran on through the job's
 * stop).  So the stop is sent again, and the states looked at, until none
 * runs: once none does, none can continue another. */
static int job_control(const struct sandbox_plan *plan, const struct sandbox_fds *fds,
		       const struct signalfd_siginfo *si)
{
	bool ns = plan->ns == NS_FULL && plan->new_pid_ns;

	if (si->ssi_code != SI_USER || (pid_t)si->ssi_pid != (ns ? 0 : getppid()))
		return -1;
	int sig = (int)si->ssi_signo == SIG_JOB_STOP ? SIGSTOP : SIGCONT;
	/* (a tree that does not hold still, or whose list cannot be had, is
	 * not said stopped: the job then does not stop) */
	bool held = sig == SIGCONT;
	for (int pass = 0; pass < 200 && !held; pass++) {
		int running = 0;
		if (ns ? kill(-1, sig) < 0 && errno != ESRCH : signal_tree(getpid(), sig) < 0)
			break;
		/* (a moment for the stops to be taken) */
		if (pass)
			usleep(1000);
		running = ns ? running_in_ns(0) : 0;
		if (!ns && walk_tree(getpid(), 0, &running, 0) < 0)
			break;
		held = running == 0;
	}
	/* not held: what was stopped goes on, and the job with it (said) */
	if ((sig == SIGCONT || !held) && ns)
		(void)kill(-1, SIGCONT);
	else if (sig == SIGCONT || !held)
		(void)signal_tree(getpid(), SIGCONT);
	if (sig == SIGSTOP) {
		union msg_any m = {.report = {.h.kind = MSG_STOPPED, .err = held ? 0 : EAGAIN}};
		(void)msg_send(fds->report, &m, -1);
		return held ? 1 : -1;
	}
	return 0;
}

/*
 * While the job is stopped: a process of the sandbox found running is
 * killed.  Once none runs none can continue another, but the kernel can:
 * a timer of its own whose signal is SIGCONT (timer_create), F_SETSIG, a
 * parent-death signal (an outside review: a POSIX timer continued the
 * command 100 ms after the stop, and it ran on while the shell held the
 * job stopped).  Looked at every 10 ms; how many were killed is said (the
 * supervisor reads it once continued).
 */
#define JOB_WATCH_MS 10

/* The supervisor stopped still: the shell has not continued the job (its
 * `fg` continues the command too, at once, and the supervisor then asks
 * for the rest). */
static bool supervisor_stopped(int sup_stat)
{
	char buf[512];
	ssize_t n = sup_stat >= 0 ? pread(sup_stat, buf, sizeof(buf) - 1, 0) : -1;

	if (n <= 0)
		return false;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'T';
}

/* The counts of a stop dropped (the job goes on, or the supervisor was
 * seen running). */
static void police_end(void)
{
	if (ran_table)
		munmap(ran_table, RAN_SLOTS * sizeof(*ran_table));
	ran_table = NULL;
}

static int police_stopped_job(const struct sandbox_plan *plan, const struct sandbox_fds *fds,
			      bool *seen)
{
	int n = 0;
	bool ns = plan->ns == NS_FULL && plan->new_pid_ns;

	/* seen running at two looks in a row, the supervisor stopped at both
	 * (at one, a `fg` of the shell's may be continuing them together);
	 * or seen to have run since the last look at two looks (ran_more()),
	 * the supervisor stopped at each and at the one before: a look with
	 * it running starts the counts again */
	if (!supervisor_stopped(fds->sup_stat)) {
		*seen = false;
		police_end();
		return 0;
	}
	if (!ran_table) {
		void *m = mmap(NULL, RAN_SLOTS * sizeof(*ran_table), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ran_table = m == MAP_FAILED ? NULL : m;
	}
	ran_killed = 0;
	if (ns)
		n = running_in_ns(*seen ? SIGKILL : 0);
	else
		(void)walk_tree(getpid(), 0, &n, *seen ? SIGKILL : 0);
	*seen = n > 0 && !*seen;
	return *seen ? ran_killed : n > 0 ? n : ran_killed;
}

static void reap_all(pid_t cmd, int *cmd_status, bool *cmd_done)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		if (pid == cmd) {
			*cmd_status = st;
			*cmd_done = true;
		}
}

/* Ends everything left in the sandbox: TERM, up to GRACE_MS, then KILL.
 * True when something may be left for init's exit to end (the PID
 * namespace's kernel kill, after a process outlived the grace period). */
static bool end_tree(const struct sandbox_plan *plan, int sfd)
{
	/* kill(-1) only inside a PID namespace of our own: elsewhere it
	 * reaches every process the user may signal */
	bool ns = plan->ns == NS_FULL && plan->new_pid_ns;
	int ignored_status;
	bool ignored_done;
	long deadline;

	if (ns) {
		if (kill(-1, SIGTERM) < 0 && errno == ESRCH)
			return false;
	} else if (signal_tree(getpid(), SIGTERM) == 0) {
		reap_all(-1, &ignored_status, &ignored_done);
		return false;
	}
	deadline = monotonic_ms() + GRACE_MS;
	for (;;) {
		struct pollfd pfd = {.fd = sfd, .events = POLLIN};
		struct signalfd_siginfo si;
		long left = deadline - monotonic_ms();

		reap_all(-1, &ignored_status, &ignored_done);
		if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			return false;
		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) > 0)
			(void)!read(sfd, &si, sizeof(si));
	}
	/* In a PID namespace, init's exit kills the rest.  Without one, kill
	 * until nothing is left (a process may fork while we look). */
	if (ns)
		return true;
	for (int tries = 0; tries < 1000; tries++) {
		int n = signal_tree(getpid(), SIGKILL);
		reap_all(-1, &ignored_status, &ignored_done);
		if (n == 0 && waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			return false;
		usleep(1000);
	}
	return true;
}

/* Without namespaces init made the private temporary directory: it goes
 * once nothing of the sandbox is left to use it. */
/* Init's namespace set-up failed at STEP: the supervisor may start over
 * with a weaker configuration (namespaces = auto), or refuses to run. */
_noreturn_ static void ns_fail(int report_fd, enum ns_step step, int err, const char *fmt, ...)
    _printf_(4, 5);
static void ns_fail(int report_fd, enum ns_step step, int err, const char *fmt, ...)
{
	union msg_any m = {.report = {.h.kind = MSG_NS_FAIL,
				      .err = err,
				      .exit = EXIT_RINGFENCE,
				      .status = (int32_t)step}};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m.report.text, sizeof(m.report.text), fmt, ap);
	va_end(ap);
	(void)msg_send(report_fd, &m, -1);
	_exit(EXIT_RINGFENCE);
}

static void remove_private_tmp(const struct sandbox_plan *plan)
{
	int r;

	if (plan->ns != NS_NONE || !plan->private_tmp_dir)
		return;
	r = rm_rf(plan->private_tmp_dir);
	if (r < 0 && r != -ENOENT)
		warn("cannot remove %s: %s", plan->private_tmp_dir, strerror(-r));
}

/* A socket on 127.0.0.1:PORT of the sandbox's network namespace: UDP, or a
 * TCP listener (STREAM; the proxy's is made as netproxy_listen_socket()
 * makes its own). */
static int loopback_socket(uint16_t port, bool stream)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd =
	    socket(AF_INET, (stream ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (stream && port != 53)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    (stream && listen(fd, port == 53 ? 64 : 1024) < 0)) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* A process group of our own (see the top), first: nothing of the sandbox
 * runs before it.  Init is in a background group then, where writing to
 * the terminal under `stty tostop` (a warning on stderr) would stop it for
 * good with SIGTTOU: blocked, the write goes through (SIGTTIN: a read
 * fails).  The command gets the caller's mask back before exec. */
static void leave_callers_group(const struct sandbox_fds *fds)
{
	sigset_t tty;

	sigemptyset(&tty);
	sigaddset(&tty, SIGTTOU);
	sigaddset(&tty, SIGTTIN);
	if (sigprocmask(SIG_BLOCK, &tty, NULL) < 0)
		FAIL(errno, "sigprocmask: %s", strerror(errno));
	if (setpgid(0, 0) < 0)
		FAIL(errno, "a process group for the sandbox's init: %s", strerror(errno));
}

/* The proxy listens inside the sandbox's namespace; the supervisor accepts
 * on it and dials from its own.  The sandbox's nameserver likewise:
 * resolv.conf names 127.0.0.1 (mounts.c); port 53 is ours to bind in this
 * namespace. */
static void hand_over_listeners(const struct sandbox_plan *plan, const struct sandbox_fds *fds)
{
	int lfd = loopback_socket(plan->proxy_port, true);
	int r;

	if (lfd < 0)
		FAIL(-lfd, "listening on 127.0.0.1:%u for the proxy: %s", plan->proxy_port,
		     strerror(-lfd));
	r = msg_send(fds->handoff, &(union msg_any){.h.kind = MSG_PROXY_LISTENER}, lfd);
	if (r < 0)
		FAIL(-r, "handing the proxy's socket over: %s", strerror(-r));
	close(lfd);
	for (int stream = 0; plan->capture && stream < 2; stream++) {
		int dfd = loopback_socket(53, stream);
		if (dfd < 0)
			FAIL(-dfd, "listening on 127.0.0.1:53 for the sandbox's DNS: %s",
			     strerror(-dfd));
		r = msg_send(fds->handoff,
			     &(union msg_any){.h.kind = stream ? MSG_DNS_TCP : MSG_DNS_UDP}, dfd);
		if (r < 0)
			FAIL(-r, "handing the DNS socket over: %s", strerror(-r));
		close(dfd);
	}
}

/* In the new namespaces: the id maps, the mounts (VIEWS: the .git views
 * made), the loopback, the listeners handed over; then MSG_NS_READY.  A
 * step refused is an ns_fail() the supervisor may fall back from. */
static void set_up_namespaces(const struct sandbox_plan *plan, const struct sandbox_fds *fds,
			      struct gitviews *views, int *masks)
{
	const char *step, *path;
	int r;

	/* the supervisor's death kills PID 1, and with it the namespace.
	 * Without a PID namespace (the fallback where no fresh /proc can be
	 * mounted) it would end the subreaper before it ends the tree: the
	 * lifeline says it instead, as without namespaces. */
	if (plan->new_pid_ns && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		FAIL(errno, "PR_SET_PDEATHSIG: %s", strerror(errno));
	if (!plan->new_pid_ns && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		FAIL(errno, "PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	if (plan->new_user_ns && plan->started_as_root) {
		/* root's maps (which may name the run_as user) are written by
		 * the supervisor, which holds CAP_SETUID where they are
		 * checked: one byte says done */
		char c;
		if (read(fds->lifeline, &c, 1) != 1)
			_exit(EXIT_RINGFENCE);
	} else if (plan->new_user_ns) {
		/* non-dumpable (inherited from the supervisor) makes the id
		 * map files root's; nothing else runs in the namespace yet,
		 * and init is made non-dumpable later */
		if (prctl(PR_SET_DUMPABLE, 1) < 0)
			FAIL(errno, "PR_SET_DUMPABLE: %s", strerror(errno));
		r = write_id_maps(plan->outer_uid, plan->outer_gid);
		if (r < 0)
			ns_fail(fds->report, NS_STEP_OTHER, -r,
				"writing the user namespace's id maps: %s", strerror(-r));
	}
	r = mounts_setup(plan, views, masks, &step, &path);
	if (r < 0)
		ns_fail(fds->report, step == mounts_step_proc ? NS_STEP_PROC : NS_STEP_OTHER, -r,
			"%s%s%s: %s", step, path ? " " : "", path ? path : "", strerror(-r));
	if (plan->new_net_ns) {
		r = net_loopback_up();
		if (r < 0)
			ns_fail(fds->report, NS_STEP_OTHER, -r,
				"bringing up the loopback interface: %s", strerror(-r));
	}
	if (plan->iso == NET_ISO_NAMESPACE)
		hand_over_listeners(plan, fds);
	if (msg_send(fds->report, &(union msg_any){.h.kind = MSG_NS_READY}, -1) < 0)
		_exit(EXIT_RINGFENCE);
}

/* Without namespaces: a subreaper, and the private temporary directory
 * made (mkdir, not reuse: a path planted in advance is refused) and added
 * to FS, init's copy of the Landlock rules. */
static void set_up_without(const struct sandbox_plan *plan, const struct sandbox_fds *fds,
			   struct landlock_plan *fs)
{
	int r;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		FAIL(errno, "PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	if (!plan->private_tmp_dir)
		return;
	if (mkdir(plan->private_tmp_dir, 0700) < 0)
		FAIL(errno, "creating the private temporary directory %s: %s",
		     plan->private_tmp_dir, strerror(errno));
	if (plan->drop_to_user && chown(plan->private_tmp_dir, plan->uid, plan->gid) < 0) {
		r = -errno;
		rmdir(plan->private_tmp_dir);
		FAIL(-r, "handing %s to uid %u: %s", plan->private_tmp_dir, plan->uid,
		     strerror(-r));
	}
	/* init's copy of the rules, the private /tmp's added, in memory
	 * mapped for it: a heap block made here (landlock_plan_add()) wrote
	 * into pages init shares with the supervisor (sandbox/README.md).
	 * Init ends with the sandbox: the mapping is never unmapped. */
	struct landlock_rule *rules = scratch_map((fs->n + 1) * sizeof(*rules));
	if (!rules) {
		rmdir(plan->private_tmp_dir);
		FAIL(ENOMEM, "out of memory");
	}
	if (fs->n)
		memcpy(rules, fs->rules, fs->n * sizeof(*rules));
	size_t i = 0;
	while (i < fs->n && strcmp(rules[i].path, plan->private_tmp_dir) != 0)
		i++;
	if (i == fs->n)
		rules[fs->n++] = (struct landlock_rule){.path = (char *)plan->private_tmp_dir};
	rules[i].access |= LANDLOCK_WRITE;
	rules[i].sibling = false;
	fs->rules = rules;
	fs->cap = fs->n;
}

/* The Landlock scopes init takes (confine_init() says why), or 0. */
static uint64_t init_scopes(const struct sandbox_plan *plan, int relay)
{
	bool no_pid_ns = plan->ns != NS_FULL || !plan->new_pid_ns;

	return (relay >= 0 ? LL_SCOPE_ABSTRACT_UNIX_SOCKET : 0) |
	       (no_pid_ns && (plan->ll.scopes & LL_SCOPE_SIGNAL) ? LL_SCOPE_SIGNAL : 0);
}

/* The Landlock ruleset from FS (opened here, after the mounts, so that its
 * rules attach to what the command will see; a path swapped for a symlink
 * since planning is refused, never followed), or -1 without Landlock;
 * init's own abstract-socket scope when it relays (RELAY); init made
 * non-dumpable. */
static int confine_init(const struct sandbox_plan *plan, const struct sandbox_fds *fds,
			const struct landlock_plan *fs, int relay)
{
	int ruleset_fd = -1, r;

	if (plan->ll.abi > 0) {
		const char *failed;
		ruleset_fd = landlock_build(fs, &plan->ll, plan->deny_tcp, &failed);
		if (ruleset_fd < 0)
			FAIL(-ruleset_fd, "Landlock: cannot add a rule for '%s': %s",
			     failed ? failed : "?", strerror(-ruleset_fd));
	}
	/* Abstract Unix connects without a network namespace are made here
	 * (relay.c): in a domain that scopes abstract sockets, which the
	 * command's own domain will nest in, so only the sandbox's own
	 * sockets are reachable from it.  Without a PID namespace init finds
	 * the sandbox's processes by their pids in /proc and signals them
	 * (the end of the run, job control): a pid read there may be freed
	 * and taken by a host process before the signal, of any user's when
	 * init is root (an outside review got a host process's child killed
	 * so).  Signals are scoped too: init reaches its own domain's
	 * processes and those nested in it (the command's), nothing else. */
	uint64_t scopes = init_scopes(plan, relay);
	if (scopes) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			FAIL(errno, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		r = landlock_scope_self(&plan->ll, scopes);
		if (r < 0)
			FAIL(-r, "Landlock scope for init's signals and abstract sockets: %s",
			     strerror(-r));
	}
	/* nobody in the sandbox may read our memory or environment */
	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		FAIL(errno, "PR_SET_DUMPABLE: %s", strerror(errno));
	return ruleset_fd;
}

/* A test hook (doc/design.md): RINGFENCE_TEST_INIT_SIGNAL=PID has init,
 * confined, ask the kernel whether it may signal PID (kill(PID, 0), which
 * sends nothing) and say the answer on stderr. */
static void probe_signal(const struct sandbox_fds *fds)
{
	const char *v = getenv("RINGFENCE_TEST_INIT_SIGNAL");
	char *end;

	if (!v)
		return;
	long pid = strtol(v, &end, 10);
	if (*v == '\0' || *end || pid < 1 || pid > 4194304)
		FAIL(EINVAL, "RINGFENCE_TEST_INIT_SIGNAL: '%s' is not a pid", v);
	int r = kill((pid_t)pid, 0);
	dprintf(2, "ringfence-test: init may signal %ld: %s\n", pid,
		r == 0 ? "yes" : strerror(errno));
}

/* What init holds while the command runs. */
struct init {
	const struct sandbox_plan *plan;
	const struct sandbox_fds *fds;
	int relay;	  /* relay.c's, or -1 */
	int exec_pipe[2]; /* the command's one record, or end of file at exec */
	bool exec_open;
	pid_t cmd;
	int sfd; /* SIGCHLD and the forwarded signals */
	int cmd_status;
	bool cmd_done;
	long trim_due;	  /* memory_trim_later() */
	bool job_stopped; /* job_control() stopped the sandbox */
	int masks;	  /* the mask source, where a denied file is masked: mounts_remask() */
	/* where init takes a Landlock domain (which refuses every mount to
	 * it), the child of its own that masks again for it: start_remasker() */
	pid_t remasker;
	int remask_fd;
	bool seen_running; /* police_stopped_job()'s last look found one running */
};

/* The command forked (child.c), once the CA bundle its variables name is
 * whole (the supervisor writes it meanwhile, creds.c; end of file: it gave
 * up). */
struct command_start {
	struct init *in;
	int ruleset_fd;
	const sigset_t *saved_mask;
};

/* In a process init forks (the command's, the re-masker): init's own
 * descriptors to the supervisor (lifeline, report, audit) and the relay's
 * closed. */
static void close_inits_own(const struct init *in)
{
	close(in->fds->lifeline);
	close(in->fds->report);
	if (in->fds->audit >= 0)
		close(in->fds->audit);
	if (in->relay >= 0)
		close(in->relay);
}

/* In the command's process: init's descriptors closed, then child.c. */
static int command_main(void *arg)
{
	const struct command_start *cs = arg;
	const struct init *in = cs->in;
	const struct sandbox_fds *fds = in->fds;

	close(in->exec_pipe[0]);
	close_inits_own(in);
	if (in->masks >= 0)
		close(in->masks);
	if (in->remasker > 0) {
		close(in->remask_fd);
	}
	child_exec(in->plan, cs->ruleset_fd, fds->handoff, in->exec_pipe[1], cs->saved_mask);
	return 0; /* never: child_exec() execs or exits */
}

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define SPAWN_SHARED 1
#define SPAWN_STACK  (256 * 1024)
#define SPAWN_GUARD  (64 * 1024)
/*
 * The command's process made as posix_spawn() makes one: clone(2) with
 * CLONE_VM | CLONE_VFORK, on a stack of its own, init stopped until the exec
 * (or the _exit() of a failure).  A fork() copied init's page tables and
 * left every page the command's set-up wrote to be copied, ~0.5-1 ms of a
 * start on the virtual machines measured.  What the set-up does is its own
 * task's: credentials, rlimits, no_new_privs, Landlock, seccomp, the signal
 * mask, its copy of the descriptors (no CLONE_FILES); of init's memory it
 * writes only its stack, errno and libcap-ng's state (init reads neither
 * after), and environ, which execvp() searches PATH in and init puts back.
 * - The stack holds what execvp() puts there: for a file without a #! line
 *   it copies the argument list onto the stack to run it through /bin/sh,
 *   in one step no probe checks (glibc is not built with stack-clash
 *   protection), so the stack is sized for it, with 64 KiB of guard below.
 * - The uid drop makes the memory's dumpable flag the kernel's
 *   suid_dumpable: the memory is init's, which put its flag back after.
 * - Not under AddressSanitizer, whose shadow of the stack the child would
 *   leave poisoned: a fork there.
 */
static pid_t spawn_shared(struct command_start *cs)
{
	char **env = environ;
	size_t argc = 0, size;
	const struct sandbox_fds *fds = cs->in->fds;
	int dumpable = prctl(PR_GET_DUMPABLE), e;
	char *map;
	pid_t pid;

	while (cs->in->plan->argv[argc])
		argc++;
	size = SPAWN_GUARD + SPAWN_STACK + ((argc + 2) * sizeof(char *) + 4095) / 4096 * 4096;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1,
		   0);
	if (map == MAP_FAILED)
		return -1;
	if (mprotect(map, SPAWN_GUARD, PROT_NONE) < 0) {
		e = errno;
		munmap(map, size);
		errno = e;
		return -1;
	}
	pid = clone(command_main, map + size, CLONE_VM | CLONE_VFORK | SIGCHLD, cs);
	e = errno;
	environ = env;
	munmap(map, size);
	if (dumpable >= 0 && prctl(PR_GET_DUMPABLE) != dumpable &&
	    prctl(PR_SET_DUMPABLE, dumpable) < 0)
		FAIL(errno, "PR_SET_DUMPABLE: %s", strerror(errno));
	errno = e;
	return pid;
}
#endif

static void start_command(struct init *in, int ruleset_fd, const sigset_t *saved_mask)
{
	const struct sandbox_plan *plan = in->plan;
	const struct sandbox_fds *fds = in->fds;

	if (plan->bundle_wait) {
		char c;
		if (RETRY_EINTR(read(fds->lifeline, &c, 1)) != 1) {
			remove_private_tmp(plan);
			_exit(EXIT_RINGFENCE);
		}
	}
	/* O_DIRECT: packet mode, one record per read */
	if (pipe2(in->exec_pipe, O_CLOEXEC | O_DIRECT) < 0)
		FAIL(errno, "pipe2: %s", strerror(errno));
	in->exec_open = true;
	struct command_start cs = {in, ruleset_fd, saved_mask};
#ifdef SPAWN_SHARED
	in->cmd = spawn_shared(&cs);
#else
	in->cmd = fork();
	if (in->cmd == 0)
		command_main(&cs);
#endif
	if (in->cmd < 0)
		FAIL(errno, "fork: %s", strerror(errno));
	close(in->exec_pipe[1]);
	if (fds->handoff >= 0)
		close(fds->handoff); /* the command's copy is the broker's */
	if (ruleset_fd >= 0)
		close(ruleset_fd);
}

/* The command's one record (a failure before exec), or end of file: exec
 * closed the pipe. */
static void on_exec_pipe(struct init *in)
{
	union msg_any m;
	int r = msg_recv(in->exec_pipe[0], MSG_BIT(MSG_FAIL), &m, NULL);

	if (r == 0) {
		(void)msg_send(in->fds->report, &m, -1);
	} else if (r == -EPIPE) {
		m = (union msg_any){.report = {.h.kind = MSG_EXEC, .status = in->cmd}};
		(void)msg_send(in->fds->report, &m, -1);
	}
	if (r != -EBADMSG && r != -EINTR && r != -EAGAIN) {
		in->exec_open = false;
		close(in->exec_pipe[0]);
		/* the command runs: init only waits from now (and gives its
		 * start's memory back in a second: serve) */
		memory_trim_later(&in->trim_due);
	}
}

/* Until the command has ended and its pipe is read: signals (reaped, or
 * passed on once), the relay, the supervisor's lifeline (gone: nothing
 * may outlive it, and its private temporary directory is ours to
 * remove). */
/*
 * A Landlock domain refuses mount and move_mount to its threads, whatever
 * it handles, and init takes one without a network namespace (the relay's
 * abstract-socket scope) or a PID namespace (the signal scope): a review
 * found a host's save of a denied file then ended the sandbox instead of
 * being masked again.  So there, before confine_init(), init forks a child
 * that stays outside the domain (holding nothing but the mask source and
 * two pipes, waiting on one) and masks again when asked.  It dies with
 * init, and ends when init closes its pipe.
 */
static void start_remasker(struct init *in, int relay)
{
	const struct sandbox_fds *fds = in->fds;
	int sv[2];

	if (in->masks < 0 || !init_scopes(in->plan, relay))
		return;
	/* (a socket, not pipes: a send to a helper gone is EPIPE with
	 * MSG_NOSIGNAL, where a pipe's SIGPIPE would end init, whose
	 * dispositions the command inherits and so are never changed) */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		FAIL(errno, "socketpair: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		FAIL(errno, "fork (the denied files' re-masker): %s", strerror(errno));
	if (pid == 0) {
		char c;
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || prctl(PR_SET_DUMPABLE, 0) < 0)
			_exit(EXIT_RINGFENCE);
		/* nothing of init's but the mask source and its socket */
		close(sv[0]);
		close_inits_own(in);
		while (recv(sv[1], &c, 1, 0) == 1) {
			const char *path = NULL;
			int r = mounts_remask(in->plan, in->masks, &path);
			if (send(sv[1], &r, sizeof(r), MSG_NOSIGNAL) != sizeof(r))
				break;
		}
		_exit(0);
	}
	close(sv[1]);
	in->remasker = pid;
	in->remask_fd = sv[0];
}

static void stop_remasker(struct init *in)
{
	if (in->remasker <= 0)
		return;
	close(in->remask_fd);
	in->remasker = 0;
}

/* The supervisor saw a denied file's name made again (SIG_REMASK): each
 * one there unmasked is masked again; where that fails the sandbox ends
 * (fail closed: from then on the file would be readable). */
static void remask(struct init *in)
{
	const char *path = NULL;
	int r;

	if (in->masks < 0)
		return;
	if (in->remasker > 0) {
		r = -EPIPE;
		if (send(in->remask_fd, "", 1, MSG_NOSIGNAL) == 1 &&
		    recv(in->remask_fd, &r, sizeof(r), 0) != sizeof(r))
			r = -EPIPE;
	} else {
		r = mounts_remask(in->plan, in->masks, &path);
	}
	if (r >= 0)
		return;
	kill(in->cmd, SIGKILL);
	end_tree(in->plan, in->sfd);
	remove_private_tmp(in->plan);
	msg_fail_exit(in->fds->report, -r, EXIT_RINGFENCE,
		      "masking the denied file %s again, after the host replaced it: %s; the "
		      "sandbox was ended",
		      path ? path : "(one of them)", strerror(-r));
}

static void serve(struct init *in)
{
	const struct sandbox_fds *fds = in->fds;
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	/* (blocked since the supervisor's fork: its own mask) */
	sigaddset(&mask, SIG_JOB_STOP);
	sigaddset(&mask, SIG_JOB_CONT);
	sigaddset(&mask, SIG_REMASK);
	for (size_t i = 0; i < forwarded_signals_n; i++)
		sigaddset(&mask, forwarded_signals[i]);
	in->sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (in->sfd < 0)
		FAIL(errno, "signalfd: %s", strerror(errno));

	while (!in->cmd_done || in->exec_open) {
		struct pollfd pfd[4] = {
		    {.fd = in->sfd, .events = POLLIN},
		    {.fd = fds->lifeline, .events = POLLIN},
		    {.fd = in->exec_open ? in->exec_pipe[0] : -1, .events = POLLIN},
		    {.fd = in->relay, .events = POLLIN},
		};

		int ready =
		    poll(pfd, 4,
			 in->job_stopped ? JOB_WATCH_MS : memory_trim_timeout(&in->trim_due, -1));
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			FAIL(errno, "poll: %s", strerror(errno));
		}
		/* (said at once: the command killed, init leaves this loop; the
		 * supervisor reads it once continued) */
		int killed =
		    in->job_stopped ? police_stopped_job(in->plan, fds, &in->seen_running) : 0;
		if (killed > 0) {
			union msg_any m = {.report = {.h.kind = MSG_KILLED, .status = killed}};
			(void)msg_send(fds->report, &m, -1);
		}
		memory_trim_woken(&in->trim_due, ready);
		if (pfd[1].revents) {
			kill(in->cmd, SIGKILL);
			end_tree(in->plan, in->sfd);
			remove_private_tmp(in->plan);
			_exit(EXIT_RINGFENCE);
		}
		if (pfd[3].revents && relay_serve_one(in->relay) < 0) {
			close(in->relay);
			in->relay = -1;
		}
		/* (with the command gone, the pipe's last writer is gone: it
		 * is drained before leaving) */
		if (pfd[2].revents)
			on_exec_pipe(in);
		if (pfd[0].revents) {
			struct signalfd_siginfo si;
			if (read(in->sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGCHLD)
				reap_all(in->cmd, &in->cmd_status, &in->cmd_done);
			else if ((int)si.ssi_signo == SIG_REMASK)
				remask(in);
			else if ((int)si.ssi_signo == SIG_JOB_STOP ||
				 (int)si.ssi_signo == SIG_JOB_CONT) {
				/* (a stop's passes count no runs: what the
				 * shell's SIGCONT ran is stopped, not killed) */
				police_end();
				int r = job_control(in->plan, fds, &si);
				if (r == 1)
					in->job_stopped = true;
				if (r == 0) {
					in->job_stopped = false;
					in->seen_running = false;
					police_end();
				}
			} else if (si.ssi_code != SI_KERNEL && !in->cmd_done)
				kill(in->cmd, (int)si.ssi_signo);
		}
	}
}

void init_main(const struct sandbox_plan *plan, const struct sandbox_fds *fds,
	       const sigset_t *saved_mask)
{
	/* init's own: the Landlock rules with the private /tmp it makes
	 * (a copy of the plan's: the array may grow here, in this process's
	 * memory only), the views */
	struct landlock_plan fs = *plan->fs;
	struct gitviews views = {0};
	struct init in = {.plan = plan, .fds = fds, .relay = fds->relay, .masks = -1};

	if (plan->caller_pgrp > 0)
		leave_callers_group(fds);
	if (plan->ns == NS_FULL)
		set_up_namespaces(plan, fds, &views, &in.masks);
	else
		set_up_without(plan, fds, &fs);
	start_remasker(&in, in.relay);
	int ruleset_fd = confine_init(plan, fds, &fs, in.relay);
	probe_signal(fds);
	start_command(&in, ruleset_fd, saved_mask);
	serve(&in);
	stop_remasker(&in);

	bool left = end_tree(plan, in.sfd);
	if (views.n) {
		/* nothing of the sandbox may change its view of .git while it
		 * is carried back: what ignored SIGTERM goes now */
		if (plan->new_pid_ns)
			kill(-1, SIGKILL);
		else
			for (int tries = 0; tries < 1000 && signal_tree(getpid(), SIGKILL) > 0;
			     tries++) {
				reap_all(-1, &(int){0}, &(bool){false});
				usleep(1000);
			}
		while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
			;
		left = false;
		gitview_carry_back(&views, fds->audit);
	}
	remove_private_tmp(plan);
	/* EBUSY: something outlived the grace period, and only our exit
	 * ends it; else nothing of the sandbox runs any more (runloop.c) */
	union msg_any done = {
	    .report = {.h.kind = MSG_EXIT, .status = in.cmd_status, .err = left ? EBUSY : 0}};
	(void)msg_send(fds->report, &done, -1);
	_exit(0);
}
