/* SPDX-License-Identifier: MIT */
/*
 * `ringfence probe`: what this machine supports, tried for real, and what
 * `namespaces = auto` will choose here; and, at -v, the layers a run put
 * in force.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/seccomp.h>

#include "../netproxy/netproxy.h"
#include "supervisor.h"

/* Tries unshare(FLAGS) in a throw-away child; 0 or the errno it failed with. */
static int try_unshare(int flags)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return errno;
	if (pid == 0)
		_exit(unshare(flags) < 0 ? errno & 0x7f : 0);
	if (waitpid(pid, &st, 0) < 0)
		return errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : EIO;
}

/* The namespaces in SB, as "user, pid, mount, ipc, net". */
static void ns_names(const struct sandbox *sb, char *buf, size_t size)
{
	snprintf(buf, size, "%s%smount, ipc%s", sb->new_user_ns ? "user, " : "",
		 sb->new_pid_ns ? "pid, " : "", sb->new_net_ns ? ", net" : "");
}

/* Whether this process holds CAP_SETPCAP, which the sandbox's privilege
 * drop needs to lock the securebits and empty the bounding set (inside a
 * user namespace of its own it holds every capability). */
static bool holds_setpcap(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	return syscall(SYS_capget, &h, d) == 0 &&
	       (d[CAP_TO_INDEX(CAP_SETPCAP)].effective & CAP_TO_MASK(CAP_SETPCAP));
}

void sandbox_note_layers(const struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	char buf[256];

	if (verbosity < 1)
		return;
	if (sb->ns == NS_FULL) {
		ns_names(sb, buf, sizeof(buf));
		note("namespaces: %s%s", buf,
		     sb->new_pid_ns ? "" : " (no PID namespace: no fresh /proc could be mounted)");
	} else {
		note(
		    "namespaces: none (init is a subreaper; denied paths are Landlock carve-outs)");
	}
	if (sb->ll.abi > 0) {
		bool relay = sb->abstract_relay[0] >= 0 || sb->abstract_relay[1] >= 0;
		note("landlock: ABI %d, filesystem rules%s, scopes: %s%s", sb->ll.abi,
		     sb->deny_tcp && sb->ll.net_tcp ? ", TCP bind/connect refused" : "",
		     sb->ll.scopes == LANDLOCK_ALL_SCOPES ? "abstract-unix-socket, signal"
		     : sb->ll.scopes			  ? "partial"
							  : "none",
		     relay ? " (abstract connects made by init)" : "");
	} else {
		note("landlock: none (best-effort: the filesystem is NOT restricted)");
	}
	bool notify = sandbox_notify_net(sb) || sb->trace || sb->fsgate;
	note("seccomp: %d filters: deny list (%u instructions), allow list (%u)%s%s%s",
	     notify ? 3 : 2, sb->seccomp_deny.len, sb->seccomp_allow.len,
	     sb->iso == NET_ISO_BROKER ? ", connect broker (every connect and listen answered "
					 "by the supervisor)"
	     : sb->capture ? ", transparent capture (connect and listen answered by the supervisor)"
	     : sb->unix_mediated ? ", Unix connect mediation (connect and listen answered "
				   "by the supervisor)"
				 : "",
	     sb->trace ? ", file calls shown to the supervisor (--trace)" : "",
	     sb->fsgate ? ", the file gate (new names on the way to protected paths made by "
			  "the supervisor)"
			: "");
	if (sb->started_as_root && !sb->drop_to_user && (sb->new_user_ns || holds_setpcap()))
		note("capabilities: none, no_new_privs, securebits locked; runs as root%s",
		     sb->new_user_ns ? " of a user namespace" : "");
	else if (sb->started_as_root && !sb->drop_to_user)
		/* (an outside review: this said "securebits locked") */
		note("capabilities: none, no_new_privs; securebits not set and the bounding set "
		     "kept (started without CAP_SETPCAP): no_new_privs alone keeps an exec from "
		     "regaining any; runs as root");
	else
		note("capabilities: none, no_new_privs; runs as uid %u%s", sb->uid,
		     sb->new_user_ns ? " (in a user namespace)" : "");
	switch (sb->iso) {
	case NET_ISO_NAMESPACE:
	case NET_ISO_BROKER:
		note("network isolation: %s, proxy on 127.0.0.1:%u",
		     sb->iso == NET_ISO_NAMESPACE ? "private network namespace" : "connect broker",
		     sb->proxy_port);
		break;
	case NET_ISO_NONE:
	case _NET_ISO_MAX:
	default:
		note("network: %s", p->net.mode == POLICY_NET_HOST ? "the host's (mode = host)"
				    : sb->new_net_ns ? "none (an empty network namespace)"
				    : sb->ll.abi ? "none (sockets refused by seccomp and Landlock)"
						 : "none (sockets refused by seccomp)");
		break;
	}
}

/* What init's set-up needs, tried in a throw-away child made the way
 * run.c makes init: 0, or the errno of the step that failed (*RET_PROC:
 * it was the fresh /proc). */
static int trial_namespaces(bool user, bool pid, bool *ret_proc, bool *ret_clone)
{
	int pfd[2], res[2] = {0, 0}, st;
	unsigned long flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET;
	pid_t child;
	uid_t uid = getuid();
	gid_t gid = getgid();

	*ret_proc = *ret_clone = false;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return errno;
	flags |= (user ? CLONE_NEWUSER : 0) | (pid ? CLONE_NEWPID : 0);
	fflush(NULL);
	child = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
	if (child < 0) {
		int e = errno;
		close(pfd[0]);
		close(pfd[1]);
		*ret_clone = true;
		return e;
	}
	if (child == 0) {
		char map[64];
		int r[2] = {0, 0};
		close(pfd[0]);
		/* one line, the caller's own ids: what needs no privilege */
		if (user && (write_file("/proc/self/setgroups", "deny") < 0 ||
			     (snprintf(map, sizeof(map), "%u %u 1\n", uid, uid),
			      write_file("/proc/self/uid_map", map) < 0) ||
			     (snprintf(map, sizeof(map), "%u %u 1\n", gid, gid),
			      write_file("/proc/self/gid_map", map) < 0)))
			r[1] = EPERM;
		else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			r[1] = errno;
		else if (pid && mount("proc", "/proc", "proc",
				      MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) < 0)
			r[0] = 1, r[1] = errno;
		else if (access("/dev/pts", F_OK) == 0 &&
			 mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
			       "newinstance,ptmxmode=0666,mode=0620") < 0)
			r[1] = errno;
		else if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
			r[1] = errno;
		else if (net_loopback_up() < 0)
			r[1] = errno;
		(void)!write(pfd[1], r, sizeof(r));
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], res, sizeof(res)) != (ssize_t)sizeof(res))
		res[1] = EIO;
	close(pfd[0]);
	(void)RETRY_EINTR(waitpid(child, &st, 0));
	*ret_proc = res[0] != 0;
	return res[1];
}

/* The choice run.c makes under namespaces = auto, predicted by trying its
 * steps: plain namespaces (root), a user namespace, then without a PID
 * namespace when the fresh /proc is refused, else none. */
static void predict_auto(const struct landlock_caps *caps)
{
	bool root = geteuid() == 0, proc = false, clone_failed = true;
	int e = EPERM;
	const char *why_broker = broker_unavailable(caps);

	/* as run.c: root asks for a user namespace only when plain ones
	 * cannot be made at all */
	if (root)
		e = trial_namespaces(false, true, &proc, &clone_failed);
	bool user = e == EPERM && clone_failed;
	if (user)
		e = trial_namespaces(true, true, &proc, &clone_failed);
	if (e == 0) {
		printf("namespaces = auto: %spid, mount, ipc, net\n", user ? "user, " : "");
		return;
	}
	if (proc && trial_namespaces(user, false, &proc, &clone_failed) == 0) {
		printf("namespaces = auto: %smount, ipc, net (no PID namespace: a fresh /proc is "
		       "refused here: %s)\n",
		       user ? "user, " : "", strerror(e));
		return;
	}
	printf("namespaces = auto: none (%s); network isolation: %s%s\n", strerror(e),
	       why_broker ? "unavailable: " : "connect broker", why_broker ? why_broker : "");
}

int supervisor_probe(void)
{
	int abi = landlock_probe_abi();
	struct landlock_caps caps;
	char rights[512];
	bool root = geteuid() == 0;
	int e;

	landlock_caps_for_abi(abi > 0 ? abi : 0, &caps);
	landlock_fs_rights_format(caps.fs, rights, sizeof(rights));
	if (abi > 0)
		printf("landlock: ABI %d%s\n  filesystem rights: %s\n  tcp rules: %s\n"
		       "  scopes: %s\n",
		       abi,
		       abi > LANDLOCK_ABI_KNOWN ? " (newer than this build knows: used as 7)" : "",
		       rights, caps.net_tcp ? "yes" : "no (ABI 4)",
		       caps.scopes ? "abstract-unix-socket signal" : "none (ABI 6)");
	else
		printf("landlock: unavailable\n");

	int sc = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
	long act = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0,
			   &(unsigned int){SECCOMP_RET_KILL_PROCESS});
	printf("seccomp: %s%s\n", sc >= 0 ? "available" : "unavailable",
	       sc == 2 ? " (this process is already filtered)" : "");
	printf("  kill-process action: %s\n", act == 0 ? "yes" : "no");
	long notif = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0,
			     &(unsigned int){SECCOMP_RET_USER_NOTIF});
	int busy = notif == 0 ? seccomp_notify_trial() : 0;
	printf("  user notification: %s\n",
	       notif != 0      ? "no"
	       : busy == EBUSY ? "no: a listener is already installed above this process (as "
				 "under WSL2): no connect broker, Unix sockets only with "
				 "unix_sockets = deny"
			       : "yes");

	if (!root) {
		e = try_unshare(CLONE_NEWUSER);
		printf("user namespaces (unprivileged): %s%s\n", e ? "no: " : "yes",
		       e ? strerror(e) : "");
		e = try_unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC |
				CLONE_NEWNET);
	} else {
		e = try_unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET);
	}
	printf("pid+mount+ipc+net namespaces%s: %s%s\n", root ? "" : " (in a user namespace)",
	       e ? "no: " : "yes", e ? strerror(e) : "");
	{
		const char *why = broker_unavailable(&caps);
		printf("connect broker (network isolation without namespaces): %s%s\n",
		       why ? "no: " : "yes", why ? why : "");
	}
	predict_auto(&caps);
	printf("no_new_privs: %s\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) >= 0 ? "yes" : "no");
	printf("running as: %s (uid %u)\n", root ? "root" : "unprivileged user", getuid());
	return 0;
}
