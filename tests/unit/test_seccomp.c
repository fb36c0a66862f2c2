/* SPDX-License-Identifier: MIT */
/*
 * The seccomp table is data: check it, then check the kernel's answers in a
 * forked child with sentinel probes (bubblewrap's try-syscall idea).
 */
#include <errno.h>
#include <fcntl.h>
#include <termios.h>
#include <linux/fscrypt.h>
#include <linux/fsverity.h>
#include <sched.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../supervisor/supervisor.h"

static void test_table_entries_are_unique_and_explained(void **state)
{
	(void)state;
	for (size_t i = 0; i < seccomp_table_n; i++) {
		assert_true(strlen(seccomp_table[i].why) > 2);
		for (size_t j = i + 1; j < seccomp_table_n; j++)
			if (strcmp(seccomp_table[i].name, seccomp_table[j].name) == 0) {
				print_error("duplicate: %s\n", seccomp_table[i].name);
				fail();
			}
	}
}

/* What the issue requires refused must be in the table as refused. */
static void test_required_refusals_are_listed(void **state)
{
	(void)state;
	static const char *const must[] = {
	    "setns",
	    "mount",
	    "umount2",
	    "pivot_root",
	    "chroot",
	    "fsopen",
	    "fsmount",
	    "move_mount",
	    "open_tree",
	    "mount_setattr",
	    "init_module",
	    "finit_module",
	    "delete_module",
	    "kexec_load",
	    "kexec_file_load",
	    "bpf",
	    "perf_event_open",
	    "userfaultfd",
	    "io_uring_setup",
	    "io_uring_enter",
	    "io_uring_register",
	    "add_key",
	    "request_key",
	    "keyctl",
	    "ptrace",
	    "process_vm_readv",
	    "process_vm_writev",
	    "pidfd_getfd",
	    "clock_settime",
	    "settimeofday",
	    "adjtimex",
	    "reboot",
	    "swapon",
	    "swapoff",
	    "acct",
	    "quotactl",
	    "open_by_handle_at",
	};
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		bool found = false;
		for (size_t j = 0; j < seccomp_table_n; j++)
			if (strcmp(seccomp_table[j].name, must[i]) == 0) {
				found = true;
				assert_int_equal(seccomp_table[j].verdict, SC_DENY);
			}
		if (!found) {
			print_error("not refused: %s\n", must[i]);
			fail();
		}
	}
}

/* Every name the table allows is known to libseccomp on this architecture,
 * except a few newer than libseccomp 2.5.4 (they stay ENOSYS: fail closed). */
static void test_allowed_names_resolve(void **state)
{
	(void)state;
	static const char *const newer[] = {"fchmodat2",    "map_shadow_stack", "futex_waitv",
					    "quotactl_fd",  "memfd_secret",	"process_madvise",
					    "epoll_pwait2", "mount_setattr",	"close_range",
					    "faccessat2",   "pidfd_getfd",	"openat2"};
	for (size_t i = 0; i < seccomp_table_n; i++) {
		if (seccomp_syscall_resolve_name(seccomp_table[i].name) != __NR_SCMP_ERROR)
			continue;
		bool ok = false;
		for (size_t j = 0; j < sizeof(newer) / sizeof(newer[0]); j++)
			ok |= strcmp(newer[j], seccomp_table[i].name) == 0;
		if (!ok) {
			print_error("unknown to libseccomp: %s\n", seccomp_table[i].name);
			fail();
		}
	}
}

struct probe {
	const char *name;
	long nr;
	unsigned long a0, a1, a2;
	int want; /* 0: allowed (any result but the sentinel errnos), else errno */
};

static int run_probes_under(struct seccomp_prog *d, struct seccomp_prog *a, const struct probe *pr,
			    size_t n);

/* Runs probes under the filter in a child; returns the child's status. */
static int run_probes(const struct seccomp_opts *o, const struct probe *pr, size_t n)
{
	struct seccomp_prog d = {0}, a = {0};
	const struct policy_item *bad;
	const char *why;
	assert_int_equal(seccomp_build(o, &d, &a, &bad, &why), 0);
	return run_probes_under(&d, &a, pr, n);
}

/* The same under programs D and A, which it frees. */
static int run_probes_under(struct seccomp_prog *d, struct seccomp_prog *a, const struct probe *pr,
			    size_t n)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		if (seccomp_install(d, a) < 0)
			_exit(100);
		for (size_t i = 0; i < n; i++) {
			unsigned long a1 = pr[i].a1;
			/* a0 == -2 stands for an fd on /dev/null */
			long r = syscall(pr[i].nr,
					 pr[i].a0 == (unsigned long)-2 ? (unsigned long)devnull
								       : pr[i].a0,
					 a1, pr[i].a2, 0, 0, 0);
			int e = r < 0 ? errno : 0;
			if (pr[i].want ? e != pr[i].want : (e == ENOSYS || e == EPERM)) {
				dprintf(2, "probe %s: got %s\n", pr[i].name, strerror(e));
				_exit((int)i + 1);
			}
		}
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	seccomp_prog_free(d);
	seccomp_prog_free(a);
	return st;
}

static void test_kernel_answers(void **state)
{
	(void)state;
	const struct probe pr[] = {
	    {"getppid", SYS_getppid, 0, 0, 0, 0},
	    {"ptrace", SYS_ptrace, 0, 0, 0, EPERM},
	    {"bpf", SYS_bpf, 0, 0, 0, EPERM},
	    {"mount", SYS_mount, 0, 0, 0, EPERM},
	    {"unknown syscall 1000", 1000, 0, 0, 0, ENOSYS},
	    {"clone3", SYS_clone3, 0, 0, 0, ENOSYS},
	    {"unshare(NEWUSER)", SYS_unshare, CLONE_NEWUSER, 0, 0, EPERM},
	    {"unshare(NEWUSER|high bits)", SYS_unshare, CLONE_NEWUSER | (1UL << 40), 0, 0, EPERM},
	    {"unshare(NEWNET)", SYS_unshare, CLONE_NEWNET, 0, 0, EPERM},
	    {"clone(NEWUSER)", SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, EPERM},
	    {"ioctl(TIOCSTI)", SYS_ioctl, (unsigned long)-2, TIOCSTI, 0, EPERM},
	    {"ioctl(TIOCSTI|high bits)", SYS_ioctl, (unsigned long)-2, TIOCSTI | (1UL << 32), 0,
	     EPERM},
	    {"ioctl(TIOCLINUX)", SYS_ioctl, (unsigned long)-2, TIOCLINUX, 0, EPERM},
	    {"ioctl(TIOCSETD)", SYS_ioctl, (unsigned long)-2, TIOCSETD, 0, EPERM},
	    {"ioctl(TIOCSETD|high bits)", SYS_ioctl, (unsigned long)-2, TIOCSETD | (1UL << 32), 0,
	     EPERM},
	    {"ioctl(TIOCGETD)", SYS_ioctl, (unsigned long)-2, TIOCGETD, 0, 0},
	    {"ioctl(TCXONC)", SYS_ioctl, (unsigned long)-2, TCXONC, TCOOFF, EPERM},
	    {"ioctl(TIOCEXCL)", SYS_ioctl, (unsigned long)-2, TIOCEXCL, 0, EPERM},
	    {"ioctl(TIOCNXCL)", SYS_ioctl, (unsigned long)-2, TIOCNXCL, 0, 0},
	    {"fcntl(F_SETLEASE, F_RDLCK)", SYS_fcntl, (unsigned long)-2, F_SETLEASE, F_RDLCK,
	     EPERM},
	    {"fcntl(F_SETLEASE|high bits)", SYS_fcntl, (unsigned long)-2, F_SETLEASE | (1UL << 32),
	     F_WRLCK, EPERM},
	    {"fcntl(F_SETLEASE, F_UNLCK)", SYS_fcntl, (unsigned long)-2, F_SETLEASE, F_UNLCK,
	     EPERM},
	    {"fcntl(F_GETLEASE)", SYS_fcntl, (unsigned long)-2, F_GETLEASE, 0, 0},
	    {"fcntl(F_GETFL)", SYS_fcntl, (unsigned long)-2, F_GETFL, 0, 0},
	    {"ioctl(FS_IOC_SETVERSION)", SYS_ioctl, (unsigned long)-2, FS_IOC_SETVERSION, 0, EPERM},
	    {"ioctl(EXT4_IOC_SETVERSION)", SYS_ioctl, (unsigned long)-2, _IOW('f', 4, long), 0,
	     EPERM},
	    {"ioctl(FS_IOC_GETVERSION)", SYS_ioctl, (unsigned long)-2, FS_IOC_GETVERSION, 0, 0},
	    {"ioctl(FS_IOC_SET_ENCRYPTION_POLICY)", SYS_ioctl, (unsigned long)-2,
	     FS_IOC_SET_ENCRYPTION_POLICY, 0, EPERM},
	    {"ioctl(FS_IOC_ADD_ENCRYPTION_KEY)", SYS_ioctl, (unsigned long)-2,
	     FS_IOC_ADD_ENCRYPTION_KEY, 0, EPERM},
	    {"ioctl(FS_IOC_REMOVE_ENCRYPTION_KEY)", SYS_ioctl, (unsigned long)-2,
	     FS_IOC_REMOVE_ENCRYPTION_KEY, 0, EPERM},
	    {"ioctl(FS_IOC_REMOVE_ENCRYPTION_KEY_ALL_USERS)", SYS_ioctl, (unsigned long)-2,
	     FS_IOC_REMOVE_ENCRYPTION_KEY_ALL_USERS, 0, EPERM},
	    {"ioctl(FS_IOC_ENABLE_VERITY)", SYS_ioctl, (unsigned long)-2, FS_IOC_ENABLE_VERITY, 0,
	     EPERM},
	    {"ioctl(FS_IOC_GET_ENCRYPTION_POLICY_EX)", SYS_ioctl, (unsigned long)-2,
	     FS_IOC_GET_ENCRYPTION_POLICY_EX, 0, 0},
	    {"ioctl(TIOCGWINSZ)", SYS_ioctl, (unsigned long)-2, TIOCGWINSZ, 0, 0},
	    {"personality(ADDR_NO_RANDOMIZE)", SYS_personality, ADDR_NO_RANDOMIZE, 0, 0, ENOSYS},
	    {"personality(query)", SYS_personality, 0xffffffff, 0, 0, 0},
	    {"socket(AF_PACKET)", SYS_socket, AF_PACKET, SOCK_RAW, 0, ENOSYS},
	    {"socket(AF_UNIX) refused", SYS_socket, AF_UNIX, SOCK_STREAM, 0, EPERM},
	    {"socket(AF_INET) refused", SYS_socket, AF_INET, SOCK_STREAM, 0, ENOSYS},
	    {"socketpair", SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, 0},
	    {"io_uring_setup", SYS_io_uring_setup, 1, 0, 0, EPERM},
	    {"userfaultfd", SYS_userfaultfd, 0, 0, 0, EPERM},
	    {"open_by_handle_at", SYS_open_by_handle_at, 0, 0, 0, EPERM},
	    /* a mode giving other users write (and set-user-ID), refused
	     * before the kernel looks at the path; other bits reach it */
	    {"chmod(o+w)", SYS_chmod, (unsigned long)"/nonexistent-rf", 0757, 0, EPERM},
	    {"chmod(1777)", SYS_chmod, (unsigned long)"/nonexistent-rf", 01777, 0, EPERM},
	    {"chmod(4755)", SYS_chmod, (unsigned long)"/nonexistent-rf", 04755, 0, EPERM},
	    {"chmod(0775)", SYS_chmod, (unsigned long)"/nonexistent-rf", 0775, 0, ENOENT},
	    {"fchmod(0666) on /dev/null", SYS_fchmod, (unsigned long)-2, 0666, 0, EPERM},
	    {"fchmodat(0646)", SYS_fchmodat, (unsigned long)AT_FDCWD,
	     (unsigned long)"/nonexistent-rf", 0646, EPERM},
	    {"fchmodat(0644)", SYS_fchmodat, (unsigned long)AT_FDCWD,
	     (unsigned long)"/nonexistent-rf", 0644, ENOENT},
	    /* extended attributes, ACLs among them: as a file system without */
	    {"setxattr", SYS_setxattr, (unsigned long)"/nonexistent-rf", (unsigned long)"user.rf",
	     0, EOPNOTSUPP},
	    {"fsetxattr", SYS_fsetxattr, (unsigned long)-2, (unsigned long)"user.rf", 0,
	     EOPNOTSUPP},
	    {"lsetxattr", SYS_lsetxattr, (unsigned long)"/nonexistent-rf",
	     (unsigned long)"system.posix_acl_access", 0, EOPNOTSUPP},
	    {"getxattr", SYS_getxattr, (unsigned long)"/nonexistent-rf", (unsigned long)"user.rf",
	     0, ENOENT},
	    {"removexattr", SYS_removexattr, (unsigned long)"/nonexistent-rf",
	     (unsigned long)"user.rf", 0, ENOENT},
	};
	struct seccomp_opts o = {.allow_inet = false, .allow_unix = false};
	int st = run_probes(&o, pr, sizeof(pr) / sizeof(pr[0]));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		print_error("probe %d failed\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
		fail();
	}
}

/* chown's group: the command's own or none (seccomp_prefix_own_group, put
 * in front of the deny program at run time). */
static void test_chown_group_is_the_commands_own(void **state)
{
	(void)state;
	const unsigned long own = getgid(), other = getgid() + 4243, none = (unsigned long)-1;
	const unsigned long nx = (unsigned long)"/nonexistent-rf";
	struct seccomp_opts o = {.allow_unix = true};
	struct seccomp_prog d = {0}, a = {0};
	const struct policy_item *bad;
	const char *why;
	assert_int_equal(seccomp_build(&o, &d, &a, &bad, &why), 0);
	unsigned short before = d.len;
	assert_int_equal(seccomp_prefix_own_group(&d, (gid_t)own, false, NULL), 0);
	assert_true(d.len > before);
	/* fchownat's group, its fourth argument, in test_other_user_attacks.py
	 * (coreutils' chgrp) */
	const struct probe pr[] = {
	    {"chown to another group", SYS_chown, nx, none, other, EPERM},
	    {"lchown to another group", SYS_lchown, nx, none, other, EPERM},
	    {"fchown to another group", SYS_fchown, 0, none, other, EPERM},
	    {"chown, group unchanged", SYS_chown, nx, none, none, ENOENT},
	    {"chown to the own group", SYS_chown, nx, none, own, ENOENT},
	    /* the kernel reads 32 bits: high ones change nothing */
	    {"chown, own group with high bits", SYS_chown, nx, none, own | 1UL << 40, ENOENT},
	    {"getppid passes on", SYS_getppid, 0, 0, 0, 0},
	    {"the deny program still runs", SYS_ptrace, 0, 0, 0, EPERM},
	};
	int st = run_probes_under(&d, &a, pr, ARRAY_SIZE(pr));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	/* [syscalls] allow = chown lifts nothing (no consent is asked for an
	 * allowed call); action = kill ends the caller */
	struct policy_list allow = {0};
	struct policy_origin o0 = {0};
	policy_list_add(&allow, "chown", false, o0);
	o.extra_allow = &allow;
	o.kill = true;
	assert_int_equal(seccomp_build(&o, &d, &a, &bad, &why), 0);
	assert_int_equal(seccomp_prefix_own_group(&d, (gid_t)own, true, NULL), 0);
	const struct probe own_ok[] = {
	    {"chown to the own group", SYS_chown, nx, none, own, ENOENT}};
	st = run_probes_under(&d, &a, own_ok, 1);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(seccomp_build(&o, &d, &a, &bad, &why), 0);
	assert_int_equal(seccomp_prefix_own_group(&d, (gid_t)own, true, NULL), 0);
	const struct probe killed[] = {
	    {"chown to another group", SYS_chown, nx, none, other, EPERM}};
	st = run_probes_under(&d, &a, killed, 1);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	policy_list_free(&allow);
}

static void test_policy_allow_and_deny_and_kill(void **state)
{
	(void)state;
	struct policy_list deny = {0}, allow = {0};
	struct policy_origin o0 = {0};
	policy_list_add(&deny, "getppid", false, o0);
	policy_list_add(&allow, "ptrace", false, o0);
	struct seccomp_opts o = {.allow_unix = true, .extra_deny = &deny, .extra_allow = &allow};
	struct seccomp_prog d, a;
	const struct policy_item *bad;
	const char *why;
	/* a refused call needs allow_dangerous */
	assert_int_equal(seccomp_build(&o, &d, &a, &bad, &why), -EPERM);
	assert_string_equal(bad->value, "ptrace");
	o.allow_dangerous = true;
	const struct probe pr[] = {
	    {"getppid denied", SYS_getppid, 0, 0, 0, EPERM},
	    /* PTRACE_TRACEME: reaches the kernel, which says yes */
	    {"ptrace allowed", SYS_ptrace, 0, 0, 0, 0},
	};
	int st0 = run_probes(&o, pr, 2);
	assert_true(WIFEXITED(st0));
	assert_int_equal(WEXITSTATUS(st0), 0);
	o.kill = true;
	const struct probe kp[] = {{"getppid killed", SYS_getppid, 0, 0, 0, EPERM}};
	int st = run_probes(&o, kp, 1);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	/* unknown names are refused with their origin */
	struct policy_list junk = {0};
	policy_list_add(&junk, "not_a_syscall", false, o0);
	o.extra_deny = &junk;
	assert_int_equal(seccomp_build(&o, &d, &a, &bad, &why), -EINVAL);
	assert_string_equal(bad->value, "not_a_syscall");
	policy_list_free(&deny);
	policy_list_free(&allow);
	policy_list_free(&junk);
}

/*
 * Every system call that takes a pid, tid, pidfd, process group, user (for
 * "every process of"), IPC key or id (the audit behind the table's last
 * column): refused, or allowed with a confinement that says what keeps it
 * on the sandbox's own processes and objects.  A call added to the table
 * later must be added here if it takes one.
 */
static void test_pid_and_ipc_calls_are_confined(void **state)
{
	(void)state;
	static const char *const takes_pid_or_ipc[] = {
	    "kill",
	    "tkill",
	    "tgkill",
	    "rt_sigqueueinfo",
	    "rt_tgsigqueueinfo",
	    "pidfd_open",
	    "pidfd_send_signal",
	    "pidfd_getfd",
	    "process_mrelease",
	    "wait4",
	    "waitid",
	    "setpgid",
	    "getpgid",
	    "getsid",
	    "capget",
	    "capset",
	    "getpriority",
	    "setpriority",
	    "ioprio_get",
	    "ioprio_set",
	    "prlimit64",
	    "get_robust_list",
	    "sched_getaffinity",
	    "sched_setaffinity",
	    "sched_getparam",
	    "sched_setparam",
	    "sched_getscheduler",
	    "sched_setscheduler",
	    "sched_getattr",
	    "sched_setattr",
	    "sched_rr_get_interval",
	    "ptrace",
	    "process_vm_readv",
	    "process_vm_writev",
	    "process_madvise",
	    "kcmp",
	    "migrate_pages",
	    "move_pages",
	    "perf_event_open",
	    "fcntl",
	    "ioctl",
	    "setns",
	    "shmget",
	    "shmat",
	    "shmdt",
	    "shmctl",
	    "semget",
	    "semop",
	    "semtimedop",
	    "semctl",
	    "msgget",
	    "msgsnd",
	    "msgrcv",
	    "msgctl",
	    "mq_open",
	    "mq_unlink",
	    "mq_timedsend",
	    "mq_timedreceive",
	    "mq_notify",
	    "mq_getsetattr",
	};
	for (size_t i = 0; i < sizeof(takes_pid_or_ipc) / sizeof(takes_pid_or_ipc[0]); i++) {
		const struct sc_entry *e = NULL;
		for (size_t j = 0; j < seccomp_table_n; j++)
			if (strcmp(seccomp_table[j].name, takes_pid_or_ipc[i]) == 0)
				e = &seccomp_table[j];
		if (!e)
			continue; /* not in the table: ENOSYS */
		if ((e->verdict == SC_ALLOW || e->verdict == SC_ARGS) &&
		    e->confine == SC_CONF_NONE) {
			print_error("allowed without a confinement: %s\n", e->name);
			fail();
		}
	}
	/* and a confinement is never claimed for a refused call, and has a name */
	for (size_t j = 0; j < seccomp_table_n; j++) {
		const struct sc_entry *e = &seccomp_table[j];
		assert_non_null(seccomp_confine_name(e->confine));
		if (e->confine != SC_CONF_NONE)
			assert_true(e->verdict == SC_ALLOW || e->verdict == SC_ARGS);
	}
}

/* Without PID and IPC namespaces: the caller only, and no System V or POSIX
 * IPC; with them, the same calls are untouched. */
static void test_no_pid_ipc_namespace_confinement(void **state)
{
	(void)state;
	const unsigned long parent = (unsigned long)getpid(); /* the child's parent */
	const struct probe confined[] = {
	    {"prlimit64(self)", SYS_prlimit64, 0, RLIMIT_NOFILE, 0, 0},
	    {"prlimit64(parent)", SYS_prlimit64, parent, RLIMIT_NOFILE, 0, EPERM},
	    {"prlimit64(high bits, 0)", SYS_prlimit64, 1UL << 32, RLIMIT_NOFILE, 0, EPERM},
	    {"sched_setaffinity(parent)", SYS_sched_setaffinity, parent, 0, 0, EPERM},
	    {"sched_getparam(parent)", SYS_sched_getparam, parent, 0, 0, EPERM},
	    {"get_robust_list(parent)", SYS_get_robust_list, parent, 0, 0, EPERM},
	    {"getpriority(self)", SYS_getpriority, PRIO_PROCESS, 0, 0, 0},
	    {"setpriority(PRIO_USER)", SYS_setpriority, PRIO_USER, 4242424, 19, EPERM},
	    {"setpriority(PRIO_PGRP)", SYS_setpriority, PRIO_PGRP, 0, 19, EPERM},
	    {"setpriority(parent)", SYS_setpriority, PRIO_PROCESS, parent, 19, EPERM},
	    {"ioprio_set(parent)", SYS_ioprio_set, 1, parent, 0, EPERM},
	    {"ioprio_set(user)", SYS_ioprio_set, 3, 0, 0, EPERM},
	    /* a key nobody made, without IPC_CREAT: ENOENT when it reaches the
	     * kernel, and nothing is left behind */
	    {"shmget", SYS_shmget, 0x52460001, 4096, 0, EPERM},
	    {"semget", SYS_semget, 0x52460001, 1, 0, EPERM},
	    {"msgget", SYS_msgget, 0x52460001, 0, 0, EPERM},
	    {"mq_open", SYS_mq_open, (unsigned long)"x", 0, 0, EPERM},
	};
	struct seccomp_opts o = {.allow_unix = true, .no_pid_ipc_ns = true};
	int st = run_probes(&o, confined, sizeof(confined) / sizeof(confined[0]));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		print_error("probe %d failed\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
		fail();
	}
	/* positive control: namespaces bound them, and the filter lets them by */
	const struct probe open_[] = {
	    {"sched_getparam(parent)", SYS_sched_getparam, parent, 0, 0, 0},
	    {"shmget", SYS_shmget, 0x52460001, 4096, 0, 0},
	};
	o.no_pid_ipc_ns = false;
	st = run_probes(&o, open_, 2);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_x32_is_killed(void **state)
{
	(void)state;
	const struct probe pr[] = {{"x32 getpid", 0x40000000 | 39, 0, 0, 0, ENOSYS}};
	struct seccomp_opts o = {.allow_unix = true};
	int st = run_probes(&o, pr, 1);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

/* The programs embedded at build time are exactly what libseccomp makes now. */
static void test_build_time_cache_matches_libseccomp(void **state)
{
	(void)state;
	assert_int_equal(seccomp_cache_n, SECCOMP_CACHE_VARIANTS);
	for (unsigned key = 0; key < SECCOMP_CACHE_VARIANTS; key++) {
		struct seccomp_opts o = {.allow_inet = key & 1,
					 .allow_unix = key & 2,
					 .kill = key & 4,
					 .broker = key & 8,
					 .no_pid_ipc_ns = key & 16};
		struct seccomp_prog d1, a1, d2, a2;
		const struct policy_item *bad;
		const char *why;
		assert_int_equal(seccomp_build(&o, &d1, &a1, &bad, &why), 0);
		assert_int_equal(seccomp_generate(&o, &d2, &a2, &bad, &why), 0);
		assert_int_equal(d1.len, d2.len);
		assert_int_equal(a1.len, a2.len);
		assert_memory_equal(d1.filter, d2.filter, d1.len * sizeof(d1.filter[0]));
		assert_memory_equal(a1.filter, a2.filter, a1.len * sizeof(a1.filter[0]));
		seccomp_prog_free(&d1);
		seccomp_prog_free(&a1);
		seccomp_prog_free(&d2);
		seccomp_prog_free(&a2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_entries_are_unique_and_explained),
	    cmocka_unit_test(test_required_refusals_are_listed),
	    cmocka_unit_test(test_allowed_names_resolve),
	    cmocka_unit_test(test_kernel_answers),
	    cmocka_unit_test(test_chown_group_is_the_commands_own),
	    cmocka_unit_test(test_policy_allow_and_deny_and_kill),
	    cmocka_unit_test(test_x32_is_killed),
	    cmocka_unit_test(test_pid_and_ipc_calls_are_confined),
	    cmocka_unit_test(test_no_pid_ipc_namespace_confinement),
	    cmocka_unit_test(test_build_time_cache_matches_libseccomp),
	};
	return cmocka_run_group_tests_name("seccomp", tests, NULL, NULL);
}
