/* SPDX-License-Identifier: MIT */
/*
 * Runs a command under a seccomp filter that already has a notification
 * listener, as WSL2's init leaves every process: the kernel allows one
 * listener per filter chain, so a second one fails with EBUSY.  The filter
 * notifies nothing the command uses (uselib); the listener fd is held, as
 * WSL2's init holds it, by another process (a child that lives as long as
 * the command), so nothing the command closes detaches it.
 *   notify_busy COMMAND [ARG]...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_uselib, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
	long fd;

	if (argc < 2) {
		fprintf(stderr, "usage: notify_busy COMMAND [ARG]...\n");
		return 2;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		perror("PR_SET_NO_NEW_PRIVS");
		return 1;
	}
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd < 0) {
		perror("seccomp");
		return 1;
	}
	pid_t holder = fork();
	if (holder < 0) {
		perror("fork");
		return 1;
	}
	if (holder == 0) {
		/* ends with the command (the exec'd parent) */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(0);
		for (;;)
			pause();
	}
	close((int)fd);
	execvp(argv[1], argv + 1);
	fprintf(stderr, "notify_busy: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
