/* SPDX-License-Identifier: MIT */
/*
 * Written by hand, as BPF: the notification filter (the connect broker,
 * the file trace, the file and attribute gates) and the run's own-group
 * prefix put in front of the cached deny program.  libseccomp cannot add a
 * listener's filter beside ours, nor prefix a program it made at build
 * time.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "seccomp_internal.h"

/*
 * The notification filter, the one per filter chain the kernel allows a
 * listener on (a second NEW_LISTENER filter fails with EBUSY), so the
 * connect broker and the file trace share it:
 *  - NET: connect(2) and listen(2), answered by the supervisor (broker.c);
 *  - FS (--trace): the calls that take a path Landlock judges, and ioctl,
 *    answered CONTINUE once the supervisor has judged them (fstrace.c).
 *    Landlock stays the enforcement: the trace only observes.
 * Written out rather than generated: libseccomp would cost a millisecond
 * per start for a few compares.  Another architecture is killed by the
 * allow-list filter already; here it just falls through to ALLOW.
 */
/* The calls --trace shows the supervisor (fstrace.c judges them). */
const int fstrace_calls[] = {
    __NR_open,	    __NR_openat,   __NR_openat2,   __NR_creat,	__NR_truncate, __NR_mkdir,
    __NR_mkdirat,   __NR_mknod,	   __NR_mknodat,   __NR_unlink, __NR_unlinkat, __NR_rmdir,
    __NR_rename,    __NR_renameat, __NR_renameat2, __NR_link,	__NR_linkat,   __NR_symlink,
    __NR_symlinkat, __NR_execve,   __NR_execveat,  __NR_ioctl,
};
const size_t fstrace_calls_n = ARRAY_SIZE(fstrace_calls);
_Static_assert(ARRAY_SIZE(fstrace_calls) <= FSTRACE_CALLS_MAX, "FSTRACE_CALLS_MAX");

bool fstrace_is_traced(int nr)
{
	for (size_t i = 0; i < fstrace_calls_n; i++)
		if (fstrace_calls[i] == nr)
			return true;
	return false;
}

/* The attribute gate's (attrgate.c), without namespaces. */
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif
const int attrgate_calls[] = {
    __NR_chmod,	      __NR_fchmod,	 __NR_fchmodat,	    __NR_fchmodat2, __NR_chown,
    __NR_lchown,      __NR_fchown,	 __NR_fchownat,	    __NR_utime,	    __NR_utimes,
    __NR_futimesat,   __NR_utimensat,	 __NR_setxattr,	    __NR_lsetxattr, __NR_fsetxattr,
    __NR_removexattr, __NR_lremovexattr, __NR_fremovexattr,
};
const size_t attrgate_calls_n = ARRAY_SIZE(attrgate_calls);
_Static_assert(ARRAY_SIZE(attrgate_calls) <= ATTRGATE_CALLS_MAX, "ATTRGATE_CALLS_MAX");
static const int notify_net_calls[] = {__NR_connect, __NR_listen};
/* The file gate's (fsgate.c), with open and openat apart: only when they
 * may write or create (a read-only open never stops). */
static const int notify_gate_calls[] = {
    __NR_creat,	    __NR_mkdir,	   __NR_mkdirat,   __NR_rmdir,	  __NR_unlink,	__NR_unlinkat,
    __NR_rename,    __NR_renameat, __NR_renameat2, __NR_link,	  __NR_linkat,	__NR_symlink,
    __NR_symlinkat, __NR_mknod,	   __NR_mknodat,   __NR_truncate, __NR_openat2,
};

/*
 * NET: connect and listen; TRACE: every traced file call (fstrace.c); GATE:
 * the file gate's calls, and open/openat with a write mode, O_CREAT or
 * O_TRUNC (the traced calls include them all); ATTRS: the calls that change
 * modes, owners, times and extended attributes (attrgate.c); MODES (with
 * namespaces, where ATTRS is not): the chmod calls whose mode gives a
 * write bit or takes the owner's read away, and the extended attributes'
 * (an access ACL), the ones that could make a file of a repository's
 * object store writable (attrgate.c).  The common `chmod 0444` or `0555`
 * never stops.  TTY: ioctl(TIOCSPGRP), the terminal's foreground given
 * to a group, which the supervisor allows only while the job holds the
 * terminal (broker.c, broker_tty()).
 *
 * Long: the program is laid out in one pass, and every jump counts its
 * target from the blocks' sizes worked out at the top; cut apart, the
 * offsets would be made in one function and trusted in another.
 */
int seccomp_notify_build(bool net, bool trace, bool gate, bool attrs, bool modes, bool tty,
			 struct seccomp_prog *ret)
{
	/* the chmod calls and where their mode is */
	static const struct {
		int nr;
		unsigned arg;
	} chmods[] = {{__NR_chmod, 1}, {__NR_fchmod, 1}, {__NR_fchmodat, 2}, {__NR_fchmodat2, 2}};
	struct sock_filter f[100];
	size_t n = 0, nc = 0;
	int calls[ARRAY_SIZE(notify_net_calls) + FSTRACE_CALLS_MAX + ARRAY_SIZE(notify_gate_calls) +
		  ATTRGATE_CALLS_MAX];
	bool opens = gate && !trace;
	const uint32_t wr = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC;

	if (net)
		for (size_t i = 0; i < ARRAY_SIZE(notify_net_calls); i++)
			calls[nc++] = notify_net_calls[i];
	for (size_t i = 0; trace && i < fstrace_calls_n; i++)
		calls[nc++] = fstrace_calls[i];
	for (size_t i = 0; opens && i < ARRAY_SIZE(notify_gate_calls); i++)
		calls[nc++] = notify_gate_calls[i];
	for (size_t i = 0; attrs && i < attrgate_calls_n; i++)
		calls[nc++] = attrgate_calls[i];
	/* with MODES, the extended attributes too (an access ACL is a
	 * mode): the deny program refuses them first unless the policy
	 * allows them (its ERRNO outranks USER_NOTIF) */
	static const int xattrs[] = {__NR_setxattr,    __NR_lsetxattr,	  __NR_fsetxattr,
				     __NR_removexattr, __NR_lremovexattr, __NR_fremovexattr};
	for (size_t i = 0; modes && !attrs && i < ARRAY_SIZE(xattrs); i++)
		calls[nc++] = xattrs[i];
	size_t k = opens ? 6 : 0;				 /* the open-flags block */
	size_t m = modes && !attrs ? 4 * ARRAY_SIZE(chmods) : 0; /* the modes block */
	size_t t = tty && !trace ? 3 : 0; /* the terminal's block (traced: every ioctl) */
	if (nc + k + m + t == 0 || nc + k + m + t + 5 > ARRAY_SIZE(f))
		return -EINVAL;
	/* indices: 0 arch, 1 its check, 2 nr, 3.. compares, then the
	 * terminal's block, then the modes block, then the open block, then
	 * ALLOW, then NOTIFY */
	const size_t allow = 3 + nc + t + m + k, notify = allow + 1;
#define TO(target) ((unsigned char)((target) - (n + 1)))
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0,
					    TO(allow));
	n++;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < nc; i++, n++)
		f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)calls[i],
						    TO(notify), 0);
	if (t) {
		/* not ioctl: on (the accumulator still holds nr); ioctl: its
		 * request (low word, as the kernel reads it) decides */
		f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 2);
		n++;
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						      offsetof(struct seccomp_data, args[1]));
		f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSPGRP,
						    TO(notify), TO(allow));
		n++;
	}
	for (size_t i = 0; m && i < ARRAY_SIZE(chmods); i++) {
		/* not this call: on (the accumulator still holds nr); this
		 * one: its mode (low word) decides, and nothing after */
		f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						    (unsigned)chmods[i].nr, 0, 3);
		n++;
		f[n++] = (struct sock_filter)BPF_STMT(
		    BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[chmods[i].arg]));
		f[n] =
		    (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0222, TO(notify), 0);
		n++;
		f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0400, TO(allow),
						    TO(notify));
		n++;
	}
	if (opens) {
		/* openat: flags in args[2]; open: in args[1] (low word) */
		f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 0, 2);
		n++;
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						      offsetof(struct seccomp_data, args[2]));
		f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, wr, TO(notify),
						    TO(allow));
		n++;
		f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_open, 0,
						    TO(allow));
		n++;
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						      offsetof(struct seccomp_data, args[1]));
		f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, wr, TO(notify),
						    TO(allow));
		n++;
	}
#undef TO
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
	ret->filter = malloc(n * sizeof(*f));
	if (!ret->filter)
		return -ENOMEM;
	memcpy(ret->filter, f, n * sizeof(*f));
	ret->len = (unsigned short)n;
	return 0;
}

/*
 * The group a chown-family call may give: the command's own (GID) or none
 * (-1, unchanged).  A supplementary group the command shares with another
 * local user would otherwise let it chgrp what its grants hold to that
 * group and add group write (which is not refused: with user private
 * groups a file's group is its owner's own), and the other user then plant
 * a hook where the host's git runs it.  The group is the run's, so this
 * is no part of the programs cached at build time: a few instructions put
 * in front of the deny program (its own jumps are relative, and a call
 * this block passes goes on into it unchanged).  Only x86_64's numbers are
 * looked at; the deny program kills every other ABI.  The kernel reads the
 * gid in 32 bits: so does this.  A call the policy's [syscalls] deny names
 * is refused whole; one its allow names keeps this rule (these calls are
 * allowed already: naming them asks no consent, so it lifts nothing).
 */
int seccomp_prefix_own_group(struct seccomp_prog *deny, gid_t gid, bool kill,
			     const struct policy_list *extra_deny)
{
	static const struct {
		const char *name;
		int nr;
		unsigned arg; /* the gid */
	} calls[] = {
	    {"chown", __NR_chown, 2},
	    {"fchown", __NR_fchown, 2},
	    {"lchown", __NR_lchown, 2},
	    {"fchownat", __NR_fchownat, 3},
	};
	struct sock_filter pre[32];
	unsigned n = 0, checked = 0, jumps_at[ARRAY_SIZE(calls)];
	const uint32_t refuse =
	    kill ? SECCOMP_RET_KILL_PROCESS : SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
	struct sock_filter *f;

#define GID_ARG(i) ((uint32_t)(offsetof(struct seccomp_data, args) + 8 * (i)))
	/* 0: the ABI; anything but x86_64 goes on (to be killed there) */
	pre[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						offsetof(struct seccomp_data, arch));
	pre[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	pre[n++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 0); /* to "on", set below */
	unsigned to_on_arch = n - 1;
	pre[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < ARRAY_SIZE(calls); i++) {
		if (seccomp_in_list(extra_deny, calls[i].name))
			continue;
		/* jt: to this call's check, set below */
		jumps_at[checked++] = n;
		pre[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
							(uint32_t)calls[i].nr, 0, 0);
	}
	if (checked == 0)
		return 0;
	pre[n++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 0); /* to "on" */
	unsigned to_on_nr = n - 1;
	/* each checked call: load its gid, then the common test */
	unsigned test_at_guess = n + 2 * checked;
	for (unsigned c = 0, k = 0; c < ARRAY_SIZE(calls); c++) {
		if (seccomp_in_list(extra_deny, calls[c].name))
			continue;
		pre[jumps_at[k]].jt = (uint8_t)(n - jumps_at[k] - 1);
		pre[n++] =
		    (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, GID_ARG(calls[c].arg));
		pre[n] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, test_at_guess - n - 1);
		n++;
		k++;
	}
	/* the test: -1 or GID go on, anything else is refused */
	pre[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 2, 0);
	pre[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)gid, 1, 0);
	pre[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, refuse);
	/* "on": the deny program's first instruction */
	pre[to_on_arch].k = n - to_on_arch - 1;
	pre[to_on_nr].k = n - to_on_nr - 1;
#undef GID_ARG
	if ((size_t)deny->len + n > BPF_MAXINSNS)
		return -E2BIG;
	f = malloc(((size_t)deny->len + n) * sizeof(*f));
	if (!f)
		return -ENOMEM;
	memcpy(f, pre, n * sizeof(*f));
	memcpy(f + n, deny->filter, deny->len * sizeof(*f));
	free(deny->filter);
	deny->filter = f;
	deny->len = (unsigned short)(deny->len + n);
	return 0;
}
