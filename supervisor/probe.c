/* SPDX-License-Identifier: MIT */
/* `ringfence probe`: what this machine supports, tried for real. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/seccomp.h>

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
		       abi, abi > LANDLOCK_ABI_KNOWN ? " (newer than this build knows: used as 7)" : "",
		       rights, caps.net_tcp ? "yes" : "no (ABI 4)",
		       caps.scopes ? "abstract-unix-socket signal" : "none (ABI 6)");
	else
		printf("landlock: unavailable\n");

	int sc = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
	long act = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0,
			   &(unsigned int){ SECCOMP_RET_KILL_PROCESS });
	printf("seccomp: %s%s\n", sc >= 0 ? "available" : "unavailable",
	       sc == 2 ? " (this process is already filtered)" : "");
	printf("  kill-process action: %s\n", act == 0 ? "yes" : "no");
	long notif = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0,
			     &(unsigned int){ SECCOMP_RET_USER_NOTIF });
	printf("  user notification: %s\n", notif == 0 ? "yes" : "no");

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
	printf("no_new_privs: %s\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) >= 0 ? "yes" : "no");
	printf("running as: %s (uid %u)\n", root ? "root" : "unprivileged user", getuid());
	return 0;
}
