/* SPDX-License-Identifier: MIT */
/*
 * One run, in its steps (supervisor_run_policy()): the plan, the signals,
 * the start (the proxy, the watches, init, the secrets handed to the
 * proxy), the loop that serves the sandbox until it has ended (the proxy,
 * the broker and the gates, init's reports, signals), the verdict and the
 * lines that sum the run up, and the end's checks of what it left.
 * run.c loads the policy and starts init.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#include <termios.h>
#include <unistd.h>

#include "../netproxy/netproxy.h"
#include "run_internal.h"

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
 * seccomp filters (seccomp_filters()).  Kills the sandbox's processes
 * among our children, and theirs as they come to us, until none is left;
 * returns how many were killed.
 */
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

/* What one run holds from its start to its end. */
struct run {
	const struct cli *cli;
	struct policy *p;
	struct learn_rec *learn;
	struct sandbox sb;
	struct netproxy *np;
	int lifeline[2], rep_pipe[2];
	sigset_t saved; /* the mask before ours: the command gets it back */
	bool stopping;	/* SIG_JOB_STOP sent to init, its MSG_STOPPED awaited */
	bool stopped;	/* the job stopped once: the shell may have taken the terminal */
	bool held;	/* continued in the terminal's background: stopped again */
	int held_end;	/* the signal that ended a held job (on_report()) */
	int sfd;	/* the forwarded signals and SIGCHLD */
	pid_t init_pid;
	bool reaper; /* what init's death ends is ours to end (end_orphans()) */
	bool racing; /* the command raced the watch: its run was ended */
	struct msg_report fail, done;
	bool have_fail, have_done, init_exited, rep_open;
	int init_status;
	int notify_fd; /* the command's notification fd: the broker's */
	struct broker_stats bstats;
	long trim_due; /* memory_trim_later() */
	struct {       /* the operator's terminal as the run found it */
		int fd;
		bool have;
		struct termios tio;
	} tty;
};

/* Where fds 0-2 are a terminal: stdin from /dev/null, the output the same
 * terminal opened again, write-only (a new open file: its flags are not
 * the shell's).  One that cannot be opened again goes to /dev/null. */
static void terminal_write_only(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		char path[32];
		int nfd;
		if (!isatty(fd))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		nfd = fd == 0 ? open("/dev/null", O_RDONLY | O_CLOEXEC)
			      : open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (nfd < 0 && fd > 0) {
			warn("started in the terminal's background: fd %d cannot be opened again "
			     "write-only (%s): it goes to /dev/null",
			     fd, strerror(errno));
			nfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		}
		if (nfd < 0 || dup2(nfd, fd) < 0)
			die("started in the terminal's background: fd %d: %s", fd, strerror(errno));
		close(nfd);
	}
}

/*
 * The operator's terminal as the run finds it.  In its foreground, its
 * settings are kept (terminal_restore()).  In its background (`ringfence
 * ... &`), the command gets nothing of it to read: an outside review found
 * a background job's command taking what the operator typed at the
 * shell's prompt (a password for sudo among it), by making a group of its
 * own the terminal's foreground (SIGTTOU ignored), by joining the shell's
 * group (without a PID namespace), or by leaving for a session of its own,
 * where a terminal that is not the controlling one is read with no job
 * control at all, through fds 0-2 (a terminal's are open for reading and
 * writing).  So the command makes a session of its own (child.c: no
 * controlling terminal, another session's groups out of reach), its stdin
 * is /dev/null where it was the terminal, and its output the terminal
 * opened again write-only (terminal_write_only(); ours too: nothing here
 * reads them from now on).  A job started in the foreground and continued
 * in the background is held stopped instead (job_held()).
 */
static void terminal_save(struct run *r)
{
	if (r->sb.tty_detach) {
		terminal_write_only();
		return;
	}
	for (int fd = 0; fd <= 2 && !r->tty.have; fd++)
		if (isatty(fd) && tcgetpgrp(fd) == getpgrp() && tcgetattr(fd, &r->tty.tio) == 0) {
			r->tty.fd = fd;
			r->tty.have = true;
		}
}

/* Whether the run starts in the background of its controlling terminal
 * (terminal_save() says what follows), known before the plan: without a
 * mount namespace the command's own terminal is then no grant
 * (layers_fs.c).  The terminal is kept open in R (job_held()). */
static void terminal_find(struct run *r)
{
	r->sb.tty_fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (r->sb.tty_fd >= 0) {
		pid_t fg = tcgetpgrp(r->sb.tty_fd);
		r->sb.tty_detach = fg > 0 && fg != getpgrp();
	}
}

/*
 * Whether the job, just continued, must stay stopped: its sandbox holds
 * the controlling terminal (the run started in its foreground) and
 * another's group has it now, as after the shell's `bg`.  There the
 * sandbox could read what is typed at the prompt, as from a job started
 * in the background (terminal_save()); a descriptor it holds cannot be
 * taken back, so it runs only in the foreground, as the kernel stops a
 * background job that reads its terminal.  The foreground a group of the
 * sandbox holds (its leader under our filters: seccomp_filters()) is its
 * own.  A terminal no longer ours (the shell gone: the session left
 * without it) is not told apart from another's: held, and the hangup
 * the kernel sends then ends the job (end_held()).
 */
static bool job_held(const struct run *r)
{
	if (r->sb.tty_fd < 0 || r->sb.tty_detach || r->init_exited || r->have_done)
		return false;
	pid_t fg = tcgetpgrp(r->sb.tty_fd);
	return fg != getpgrp() && !(fg > 0 && seccomp_filters(fg) > seccomp_filters(getpid()));
}

/*
 * The terminal set back when the sandbox has ended: the command shares it,
 * and what it changed there stayed for the shell after it (an outside
 * review: its stop character made Enter, with ^Q's undone, left the
 * terminal's output stopped for good).  Its settings as the run found
 * them, its output started, its foreground given back to the job.  While
 * the job has not stopped, the shell waits for it, and whatever holds the
 * terminal's foreground was put there by the sandbox (its own group, or
 * the shell's, handed it by the command: a second review): set back.  Once
 * it has stopped, the shell may have taken the terminal back (`bg`) for
 * another program, which keeps its own settings: set back only where the
 * job holds it, or the group that does is gone.
 */
static void terminal_restore(struct run *r)
{
	struct termios now;

	if (!r->tty.have)
		return;
	pid_t fg = tcgetpgrp(r->tty.fd);
	if (r->stopped && fg != getpgrp() && !(fg > 0 && kill(-fg, 0) < 0 && errno == ESRCH))
		return;
	if (tcgetattr(r->tty.fd, &now) == 0 && memcmp(&now, &r->tty.tio, sizeof(now)) != 0 &&
	    tcsetattr(r->tty.fd, TCSANOW, &r->tty.tio) == 0)
		note("the terminal's settings, changed in the sandbox, were set back");
	(void)tcflow(r->tty.fd, TCOON);
	if (fg != getpgrp())
		(void)tcsetpgrp(r->tty.fd, getpgrp());
}

/* The plan: the audit log (first: it exists by the time the protect list
 * is made), the sandbox prepared, a learning run's record, --trace. */
static void run_prepare(struct run *r, char *home)
{
	struct sandbox *sb = &r->sb;
	const struct policy *p = r->p;

	/* Secrets are read while preparing, and this process keeps them in
	 * memory only: neither its memory nor its environment may be read
	 * through /proc from here on. */
	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		die("PR_SET_DUMPABLE: %s", strerror(errno));
	/* before any secret is read (creds_prepare): it is forked */
	netns_pre_start(p);
	if (p->log.file) {
		int fd = audit_open(p->log.file);
		if (fd < 0)
			die("%s: cannot open the audit log: %s%s", p->log.file, strerror(-fd),
			    fd == -ELOOP   ? " (a symbolic link in its path is never followed)"
			    : fd == -ENXIO ? " (a FIFO or a socket: a log is a file)"
			    : fd == -EPERM ? " (an existing log must be the caller's, and not "
					     "writable by every user)"
					   : "");
		/* before the plan: an earlier run's placeholders are gone */
		journal_recover(fd);
		sandbox_prepare(sb, r->p, r->cli->argv, home);
		sb->audit_fd = fd;
	} else {
		journal_recover(-1);
		sandbox_prepare(sb, r->p, r->cli->argv, home);
	}

	if (r->learn) {
		/* learning sees every file call, as --trace does */
		learn_begin(r->learn, sb);
		sb->learn = r->learn;
	}
	if (r->cli->log_live)
		audit_set_live(isatty(STDERR_FILENO));
	/* --trace: the file calls are shown to the supervisor through the
	 * notification fd, which comes over the handoff pair as the broker's */
	if (r->cli->trace || r->learn) {
		struct seccomp_notif_sizes sz;
		if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
			die("%s needs seccomp user notifications (Linux 5.0+)",
			    r->learn ? "learn" : "--trace");
		if (sb->ll.abi <= 0 && !r->learn)
			warn(
			    "--trace: without Landlock no file access is refused: nothing to show");
		sb->trace = true;
		if (sb->handoff[0] < 0 &&
		    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sb->handoff) < 0)
			die("socketpair: %s", strerror(errno));
	}
}

/* Forwarded signals are taken through a signalfd, here and in init; the
 * command gets a clean mask back before exec.
 *
 * Job control: the supervisor is never stopped while a process of the
 * sandbox runs, or the sandbox would run unwatched (the live protection,
 * the proxy and the lifeline frozen) while the operator's shell, told the
 * job stopped, takes the terminal back, where a command that ignored the
 * stop could take it again and read what is typed at the prompt (an
 * outside review).  SIGTTOU and SIGTTIN stay blocked: the command, in a
 * group of its own made the terminal's foreground under `stty tostop`,
 * stopped the supervisor by making it write a warning; blocked, the write
 * goes through.  SIGTSTP (Ctrl-Z, a `kill -TSTP`) is read here: init stops
 * every process of the sandbox first (MSG_STOPPED), then the supervisor
 * stops itself, and continued, it has init continue them (on_report). */
static void run_signals(struct run *r)
{
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTSTP);
	for (size_t i = 0; i < forwarded_signals_n; i++)
		sigaddset(&block, forwarded_signals[i]);
	sigset_t tty = block;
	sigaddset(&tty, SIGTTOU);
	sigaddset(&tty, SIGTTIN);
	/* init's, blocked before its fork: queued until it reads them */
	sigaddset(&tty, SIG_JOB_STOP);
	sigaddset(&tty, SIG_JOB_CONT);
	sigaddset(&tty, SIG_REMASK);
	if (sigprocmask(SIG_BLOCK, &tty, &r->saved) < 0)
		die("sigprocmask: %s", strerror(errno));
	r->sfd = signalfd(-1, &block, SFD_CLOEXEC);
	if (r->sfd < 0)
		die("signalfd: %s", strerror(errno));
}

/* The proxy, the watches, init; then what init's fork let through: the
 * secrets to the proxy, the listeners of the broker. */
static void run_start(struct run *r)
{
	struct sandbox *sb = &r->sb;
	const struct policy *p = r->p;

	if (p->net.mode == POLICY_NET_PROXY) {
		struct netproxy_hooks hooks = {
		    .event = proxy_event, .head = r->learn ? proxy_head : NULL, .ud = sb};
		int e = netproxy_new(p, &hooks, &r->np);
		if (e < 0)
			die("cannot start the network proxy: %s", strerror(-e));
	}

	githeads_start(sb);
	start_protwatch(sb);
	journal_begin(sb);
	terminal_save(r);
	/* before init is forked: what the command leaves comes to us if init
	 * is killed (end_orphans()), not to the host's init */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	while (start_init(sb, p, r->lifeline, r->rep_pipe, r->sfd, &r->saved, &r->init_pid,
			  &r->fail, &r->have_fail) == START_RETRY)
		;
	netns_pre_drop(); /* not used: the plan had no network namespace */
	/* what init's own death ends: with a PID namespace everything in it;
	 * without, nothing, and end_orphans() does */
	r->reaper = sb->ns != NS_FULL || !sb->new_pid_ns;
	sandbox_note_layers(sb);
	/* from here the sandbox runs: no message waits on its terminal */
	say_nonblocking(true);
	/* The secrets reach the proxy only now that init is forked: the
	 * copies it makes of them (the needles it scans replies for, their
	 * encodings) were never in the memory init and the command were
	 * forked from.  Their own mapping is wiped on fork (creds.c), the
	 * CA's key freed in init (creds_forget()).  Nothing is served before
	 * the loop. */
	if (r->np) {
		int e = netproxy_set_credentials(r->np, sb->creds, sb->n_creds, sb->tls);
		if (e < 0)
			die("cannot start the network proxy: %s", strerror(-e));
		if (sb->secret_fd >= 0) {
			/* the proxy's now; init closed its copy (creds_forget()) */
			e = netproxy_set_secret_source(r->np, sb->secret_fd,
						       sb->secrets_fetched_ms);
			if (e < 0)
				die("cannot start the network proxy: %s", strerror(-e));
		}
	}
	/* the repositories the walk at start did not reach, watched from
	 * when a walk of ours finds them */
	protwatch_find(sb);
	/* a peer that hangs up must not end the supervisor: the proxy's TLS
	 * writes cannot pass MSG_NOSIGNAL (set here, after fork: the command
	 * starts with the default) */
	signal(SIGPIPE, SIG_IGN);
	if (sb->handoff[1] >= 0) {
		close(sb->handoff[1]);
		sb->handoff[1] = -1;
	}
	if (sb->abstract_relay[1] >= 0) {
		close(sb->abstract_relay[1]);
		sb->abstract_relay[1] = -1;
	}
	if (r->np && sb->iso == NET_ISO_BROKER) {
		int e = netproxy_add_listener(r->np, sb->broker_listen_fd, true);
		if (e < 0)
			die("the network proxy: %s", strerror(-e));
		sb->broker_listen_fd = -1;
		if (sb->dns_listen_fd >= 0) {
			e = netproxy_add_nameserver(r->np, sb->dns_listen_fd, true, true);
			sb->dns_listen_fd = -1;
			if (e < 0)
				die("the sandbox's DNS: %s", strerror(-e));
		}
	}

	audit_event(sb->audit_fd, "start",
		    "\"init_pid\":%d,\"namespaces\":%s,\"landlock_abi\":%d,\"network\":\"%s\"",
		    r->init_pid, sb->ns == NS_FULL ? "true" : "false", sb->ll.abi,
		    sb->iso == NET_ISO_NAMESPACE ? "proxy (namespace)"
		    : sb->iso == NET_ISO_BROKER	 ? "proxy (broker)"
						 : policy_net_mode_name(p->net.mode));
}

/* On the handoff pair: init's listener (namespace) and nameserver
 * sockets, or the command's notification fd. */
static void on_handoff(struct run *r)
{
	struct sandbox *sb = &r->sb;
	union msg_any m;
	int fd = -1;
	int e = msg_recv(sb->handoff[0],
			 MSG_BIT(MSG_PROXY_LISTENER) | MSG_BIT(MSG_DNS_UDP) | MSG_BIT(MSG_DNS_TCP) |
			     MSG_BIT(MSG_NOTIFY),
			 &m, &fd);
	struct stat fst;
	bool is_sock = e == 0 && fstat(fd, &fst) == 0 && S_ISSOCK(fst.st_mode);
	enum msg_kind kind = e == 0 ? (enum msg_kind)m.h.kind : _MSG_MAX;

	if (is_sock && sb->iso == NET_ISO_NAMESPACE && r->np &&
	    (kind == MSG_DNS_UDP || kind == MSG_DNS_TCP)) {
		e = netproxy_add_nameserver(r->np, fd, kind == MSG_DNS_TCP, false);
		if (e < 0)
			warn("the sandbox's DNS cannot serve: %s", strerror(-e));
	} else if (is_sock && sb->iso == NET_ISO_NAMESPACE && r->np && kind == MSG_PROXY_LISTENER) {
		e = netproxy_add_listener(r->np, fd, false);
		if (e < 0) {
			close(fd);
			warn("the network proxy cannot serve: %s", strerror(-e));
		}
	} else if (e == 0 && !is_sock && kind == MSG_NOTIFY && r->notify_fd < 0) {
		r->notify_fd = fd;
		sb->objgate_live = sb->attrgate || sb->modegate;
		broker_sync_wake(r->notify_fd);
	} else if (e == 0) {
		close(fd);
	} else if (e != -EAGAIN && e != -EINTR) {
		close(sb->handoff[0]);
		sb->handoff[0] = -1;
	}
}

/* The command's notification fd (REVENTS): a call for the broker or the
 * gates, or nothing with the filter is left. */
static void on_notify(struct run *r, short revents)
{
	if (revents & POLLIN) {
		int e = broker_handle(r->notify_fd, &r->sb, r->np, &r->bstats);
		if (e < 0 && e != -EAGAIN) {
			/* without a listener the kernel fails every later
			 * connect with ENOSYS: closed, but say why */
			warn("the connect broker stopped: %s; the sandbox's connections now fail",
			     strerror(-e));
			close(r->notify_fd);
			r->notify_fd = -1;
		}
	} else if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
		close(r->notify_fd);
		r->notify_fd = -1;
	}
}

/* init's report: a failure, the command's exec, its exit. */
/* Stopped by SIGTSTP, as the terminal's Ctrl-Z stops a plain job, until
 * continued: raised while blocked, taken by its default action as it is
 * unblocked.  HELD: by SIGSTOP, which the kernel does not drop in an
 * orphaned group (SIGTSTP it does: held, the job would be continued at
 * once, again and again). */
static void stop_as_a_job(bool held)
{
	sigset_t tstp;

	sigemptyset(&tstp);
	sigaddset(&tstp, SIGTSTP);
	(void)raise(held ? SIGSTOP : SIGTSTP);
	(void)sigprocmask(SIG_UNBLOCK, &tstp, NULL);
	(void)sigprocmask(SIG_BLOCK, &tstp, NULL);
}

/*
 * A kill of a held job (the shell's `kill %1`: the signal, then SIGCONT,
 * whose order the supervisor may see either way) ends the sandbox:
 * continued to take the signal, a command that ignored it would run on in
 * the background, holding the terminal.  Returns whether SIG was one.
 */
static const int held_ends[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};

static bool end_held(struct run *r, int sig)
{
	bool ends = false;

	for (size_t i = 0; i < ARRAY_SIZE(held_ends); i++)
		ends |= held_ends[i] == sig;
	if (!r->held || !ends || r->held_end || r->init_exited)
		return false;
	r->held_end = sig;
	warn("%s while held stopped in the terminal's background: the sandbox is ended",
	     strsignal(sig));
	(void)kill(r->init_pid, SIGKILL);
	return true;
}

static void on_report(struct run *r)
{
	union msg_any m;
	struct msg_report *rep = &m.report;
	int e = msg_recv(r->rep_pipe[0],
			 MSG_BIT(MSG_FAIL) | MSG_BIT(MSG_EXEC) | MSG_BIT(MSG_EXIT) |
			     MSG_BIT(MSG_NS_READY) | MSG_BIT(MSG_NS_FAIL) | MSG_BIT(MSG_STOPPED) |
			     MSG_BIT(MSG_KILLED),
			 &m, NULL);

	if (e < 0 && e != -EBADMSG) {
		r->rep_open = false;
		return;
	}
	if (e < 0)
		return;
	switch ((enum msg_kind)rep->h.kind) {
	case MSG_FAIL:
		if (!r->have_fail)
			r->fail = *rep;
		r->have_fail = true;
		break;
	case MSG_EXEC:
		/* every line has "pid" (the supervisor's): the command's own
		 * gets a name of its own */
		audit_event(r->sb.audit_fd, "exec", "\"command_pid\":%d", rep->status);
		/* the start is done: what it used is given back (in a
		 * second: run_loop) */
		memory_trim_later(&r->trim_due);
		/* only once the command runs: a failure gets one line */
		if (r->sb.started_as_root && !r->p->process.run_as)
			warn("running as root with every capability dropped; set [process] "
			     "run_as = USER to run as another user, or run_as = root to "
			     "silence this");
		break;
	case MSG_EXIT:
		r->done = *rep;
		r->have_done = true;
		break;
	case MSG_STOPPED:
		r->stopping = false;
		if (rep->err && r->held) {
			/* held, it may not run on in the background */
			warn("the job could not be held stopped in the terminal's background (the "
			     "sandbox's processes did not all hold still): the sandbox is ended");
			r->held_end = SIGKILL;
			(void)kill(r->init_pid, SIGKILL);
			break;
		}
		if (rep->err) {
			warn("the job was not stopped: the sandbox's processes did not all hold "
			     "still (or could not be listed)");
			break;
		}
		/* nothing of the sandbox runs: the job may stop (the shell
		 * sees it stopped when we are, by SIGTSTP as a plain child
		 * would be); continued, so is the sandbox.  (In an orphaned
		 * group the kernel drops the stop: continued at once.) */
		r->stopped = true;
		/* (the shell may take the terminal while the job is stopped) */
		r->sb.tty_ours = false;
		stop_as_a_job(r->held);
		/* continued in the background: stopped again, the sandbox
		 * first (its processes in the job's group were continued with
		 * us) */
		if (r->held) {
			/* a kill of the held job, whatever holds the terminal
			 * now (the sandbox's processes in the job's group ran
			 * with the shell's SIGCONT) */
			sigset_t pending;
			sigemptyset(&pending);
			(void)sigpending(&pending);
			for (size_t i = 0; i < ARRAY_SIZE(held_ends); i++)
				if (sigismember(&pending, held_ends[i]) &&
				    end_held(r, held_ends[i]))
					break;
			if (r->held_end)
				break;
		}
		if (job_held(r)) {
			if (!r->held)
				warn(
				    "continued in the terminal's background: the job stays stopped "
				    "until `fg` (the sandbox shares the terminal, and could read "
				    "what is typed at the prompt)");
			/* (the listener is optional where only this asks for it:
			 * one above ours, as under WSL2, leaves the foreground
			 * the sandbox gives unjudged; said, not hidden) */
			if (!r->held && r->notify_fd < 0)
				warn(
				    "the terminal's foreground is not judged (no notification "
				    "listener): a process of the sandbox may take it while the job "
				    "is held");
			r->held = r->sb.tty_held = true;
			r->stopping = kill(r->init_pid, SIG_JOB_STOP) == 0;
			if (r->stopping)
				break;
		}
		r->held = r->sb.tty_held = false;
		if (!r->init_exited)
			kill(r->init_pid, SIG_JOB_CONT);
		break;
	case MSG_KILLED:
		warn("%d processes of the sandbox ran on while its job was stopped (continued by a "
		     "signal the kernel sent them: a timer's, F_SETSIG's): killed",
		     rep->status);
		audit_event(r->sb.audit_fd, "proc.killed",
			    "\"count\":%d,\"reason\":\"ran while the job was stopped\"",
			    rep->status);
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

/* SIGCHLD: reaped (as PID 1 of a container, whatever is reparented to
 * us); a signal a process sent (kill, timeout, docker stop): passed on to
 * init once; the terminal's own signals reach the command directly. */
static void on_signal(struct run *r)
{
	struct signalfd_siginfo si;

	if (read(r->sfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGCHLD) {
		int st;
		pid_t pid;
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
			if (pid == r->init_pid) {
				r->init_exited = true;
				r->init_status = st;
			}
	} else if (si.ssi_signo == SIGTSTP) {
		/* init stops the sandbox, then says so (on_report); with
		 * nothing of it left, the job stops at once */
		if (r->init_exited || r->have_done)
			stop_as_a_job(false);
		else if (!r->stopping)
			r->stopping = kill(r->init_pid, SIG_JOB_STOP) == 0;
	} else if (si.ssi_code != SI_KERNEL && !r->init_exited && !end_held(r, (int)si.ssi_signo)) {
		kill(r->init_pid, (int)si.ssi_signo);
	}
}

/* Serves the sandbox until init has exited, or said that nothing of it
 * runs any more (its REPORT_EXIT without EBUSY): its own exit (the
 * namespaces' teardown, ~0.2 ms) then goes on beside the clean-up, and is
 * waited for at the end. */
static void run_loop(struct run *r)
{
	struct sandbox *sb = &r->sb;

	r->rep_open = true;
	while ((!r->init_exited || r->rep_open) && !(r->have_done && r->done.err == 0)) {
		struct pollfd pfd[9] = {
		    {.fd = r->sfd, .events = POLLIN},
		    {.fd = r->rep_open ? r->rep_pipe[0] : -1, .events = POLLIN},
		    {.fd = r->np ? netproxy_fd(r->np) : -1, .events = POLLIN},
		    {.fd = sb->handoff[0], .events = POLLIN},
		    {.fd = r->notify_fd, .events = POLLIN},
		    {.fd = protwatch_fd(sb), .events = POLLIN},
		    {.fd = protwatch_timer_fd(sb), .events = POLLIN},
		    {.fd = protwatch_find_fd(sb), .events = POLLIN},
		    {.fd = say_pending_fd(), .events = POLLOUT},
		};
		int ready =
		    poll(pfd, ARRAY_SIZE(pfd),
			 memory_trim_timeout(&r->trim_due, r->np ? netproxy_timeout(r->np) : -1));
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		/* the watch's tick, its walk's end and the walk's SIGCHLD come
		 * every 250 ms and 2 s whatever the command does: no work that
		 * puts the trim off (else it would be due, and paid, after
		 * every walk); a signal is none either */
		memory_trim_woken(&r->trim_due,
				  ready - !!pfd[0].revents - !!pfd[6].revents - !!pfd[7].revents);
		/* the proxy's events only when its fd says so: a wake-up for
		 * the broker costs no empty epoll_wait */
		if (r->np && pfd[2].revents)
			netproxy_dispatch(r->np);
		else if (r->np)
			netproxy_dispatch_timers(r->np);
		/* a denied file's name made again: init masks it again */
		if (pfd[5].revents && protwatch_dispatch(sb))
			(void)kill(r->init_pid, SIG_REMASK);
		if (pfd[6].revents)
			protwatch_tick(sb);
		/* a name made again and again as it is moved aside (by the
		 * events or the tick's checks): the lifeline's end has init end
		 * the whole tree (TERM, its grace, KILL), as when the
		 * supervisor is gone */
		if (protwatch_racing(sb) && !r->racing && r->lifeline[1] >= 0) {
			r->racing = true;
			close(r->lifeline[1]);
			r->lifeline[1] = -1;
		}
		if (pfd[7].revents)
			protwatch_find_read(sb);
		if (pfd[3].revents)
			on_handoff(r);
		if (pfd[4].revents)
			on_notify(r, pfd[4].revents);
		if (pfd[1].revents)
			on_report(r);
		if (pfd[0].revents)
			on_signal(r);
		if (pfd[8].revents)
			say_flush();
	}
}

/* The exit code, and the lines that sum the run up: a failure of the
 * start, the proxy's and the broker's refusals, the file refusals (or the
 * hint to look for them). */
static int run_verdict(struct run *r)
{
	struct sandbox *sb = &r->sb;
	int code;

	if (r->reaper && r->init_exited && !r->have_done) {
		/* init was killed: it ended nothing (the count takes in the
		 * dead not yet reaped: said without it) */
		if (end_orphans() > 0)
			warn("the sandbox's init was killed: what the command left was ended "
			     "here");
	} else if (r->reaper && r->init_exited && r->have_done && r->done.err == EBUSY) {
		/* init gave up on a tree that kept forking (its 1,000 passes,
		 * end_tree()): what was left came to us at its exit, and goes
		 * before the end's checks, which nothing of the sandbox may
		 * outlive (found by an outside review, not reproduced here) */
		if (end_orphans() > 0)
			warn("what the command left outlived init's end: ended here");
	}
	if (r->have_fail) {
		warn("%s", r->fail.text);
		code = r->fail.exit;
	} else if (r->have_done) {
		code = r->racing ? EXIT_RINGFENCE : exit_code_for(r->done.status);
	} else if (r->racing) {
		code = EXIT_RINGFENCE; /* (said when the run was ended) */
	} else if (r->held_end) {
		code = 128 + r->held_end; /* (said when the run was ended) */
	} else {
		fprintf(stderr, "ringfence: the sandbox's init ended unexpectedly (%s %d)\n",
			WIFSIGNALED(r->init_status) ? "signal" : "status",
			WIFSIGNALED(r->init_status) ? WTERMSIG(r->init_status)
						    : WEXITSTATUS(r->init_status));
		code = EXIT_RINGFENCE;
	}
	if (r->np || r->bstats.refused) {
		char line[2048];
		size_t off = 0;
		line[0] = '\0';
		if (r->np && netproxy_summary(r->np, line, sizeof(line)))
			off = strlen(line);
		if (r->bstats.refused && off < sizeof(line))
			snprintf(
			    line + off, sizeof(line) - off,
			    "%s%lu direct connection%s refused (last: %s): the sandbox reaches "
			    "the network only through the proxy",
			    off ? "; " : "", r->bstats.refused, r->bstats.refused == 1 ? "" : "s",
			    r->bstats.last);
		if (line[0])
			warn("%s", line);
	}
	/* the file gate's refusals are file refusals too (said as they
	 * happened, and as protect.blocked events) */
	if (sb->trace)
		fsgate_count_refusals(sb, &r->bstats);
	if (r->bstats.fs_refused) {
		char line[4096];
		fstrace_summary(&r->bstats, sb->home, line, sizeof(line));
		warn("%s", line);
	} else if (!sb->trace &&
		   trace_hint_wanted(sb, r->have_fail, r->have_done ? r->done.status : -1)) {
		fprintf(stderr,
			"ringfence: the command failed (exit %d); if a file access was "
			"refused, run again with --trace to see which\n",
			code);
	}
	fstrace_stats_free(&r->bstats);
	return code;
}

/* A sanitizer's build that checks leaks at exit (the integration suite's
 * does not: supervisor/main.c) */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RINGFENCE_ASAN 1
#endif
#endif
#if (defined(__SANITIZE_ADDRESS__) || defined(RINGFENCE_ASAN)) && !defined(RINGFENCE_NO_LEAK_CHECK)
#define FREE_AT_EXIT true
#else
#define FREE_AT_EXIT false
#endif

/* When the sandbox has ended: the checks of what it left (protect, the
 * file gate, git's refs, index and links, the state), the journal, init
 * waited for, the last audit event. */
static void run_end(struct run *r, int code)
{
	struct sandbox *sb = &r->sb;

	/* the listener the command sent before exec, unread when it ended at
	 * once: the mode gate held all the same (a chmod would have waited
	 * on us), and the end need not read every object's time */
	for (int i = 0; i < 8 && sb->modegate && r->notify_fd < 0 && sb->handoff[0] >= 0; i++) {
		union msg_any m;
		int fd = -1;
		if (msg_recv(sb->handoff[0],
			     MSG_BIT(MSG_PROXY_LISTENER) | MSG_BIT(MSG_DNS_UDP) |
				 MSG_BIT(MSG_DNS_TCP) | MSG_BIT(MSG_NOTIFY),
			     &m, &fd) < 0)
			break;
		sb->objgate_live |= (enum msg_kind)m.h.kind == MSG_NOTIFY && fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	if (r->notify_fd >= 0)
		close(r->notify_fd);
	netproxy_free(r->np);
	/* the terminal first: a line the checks say then reaches it; and
	 * from here, with nothing of the sandbox running, the lines wait for
	 * it again (a review: the checks' own lines were dropped) */
	terminal_restore(r);
	say_nonblocking(false);
	/* the directories the gate made, held while the command ran, given
	 * back before the checks at exit open theirs (an outside review: the
	 * command made thousands, and the refs' check could open nothing) */
	fsgate_close_dirs(sb);
	audit_flush_suppressed(sb->audit_fd);
	protwatch_dispatch(sb); /* the last events */
	/* the placeholders' removal (a child) first: a run started right
	 * after ours must not find them */
	protect_finish(sb);
	fsgate_finish(sb);
	protwatch_stop(sb);
	/* what the refs and the index record at protected paths first: the
	 * walks of gitlinks_finish() judge the files git reads */
	githeads_finish(sb);
	gitlinks_finish(sb);
	state_remove_placeholders(sb);
	journal_end(sb);
	journal_sweep(sb);
	if (!r->init_exited)
		(void)RETRY_EINTR(waitpid(r->init_pid, NULL, 0));
	audit_event(sb->audit_fd, "exit", "\"status\":%d", code);
	if (sb->audit_fd >= 0)
		close(sb->audit_fd);
	/* Freeing what the exit gives back costs a start a page fault for
	 * each heap page it writes: init's fork shares them, copied on write
	 * (~25 faults, ~0.5 ms here: bench/startup_ab.sh).  A build that
	 * checks leaks at exit frees all. */
	if (FREE_AT_EXIT)
		sandbox_release(sb);
	else
		sandbox_leave(sb);
}

int supervisor_run_policy(const struct cli *cli, struct policy *p_in, char *home_in,
			  struct learn_rec *learn)
{
	_cleanup_(policy_freep) struct policy *p = p_in;
	_cleanup_free_ char *home = home_in;
	struct run r = {.cli = cli,
			.p = p,
			.learn = learn,
			.lifeline = {-1, -1},
			.rep_pipe = {-1, -1},
			.init_pid = -1,
			.notify_fd = -1};
	int code;

	terminal_find(&r);
	run_prepare(&r, home);
	run_signals(&r);
	run_start(&r);
	run_loop(&r);
	code = run_verdict(&r);
	run_end(&r, code);
	return code;
}
