/* SPDX-License-Identifier: MIT */
/*
 * Installing the seccomp programs the supervisor built (supervisor/
 * seccomp.c holds the tables and makes the programs before the fork): the
 * command only loads them, last before exec.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

int seccomp_install(const struct seccomp_prog *deny, const struct seccomp_prog *allow)
{
	struct sock_fprog d = {.len = deny->len, .filter = deny->filter};
	struct sock_fprog a = {.len = allow->len, .filter = allow->filter};

	/* the deny filter first: the allow-list answers ENOSYS to nothing we
	 * need after it, but there is no reason to depend on that */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &d) < 0)
		return -errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &a) < 0)
		return -errno;
	return 0;
}

int seccomp_install_listener(const struct seccomp_prog *prog)
{
	struct sock_fprog p = {.len = prog->len, .filter = prog->filter};
	long fd =
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &p);

	return fd < 0 ? -errno : (int)fd;
}
