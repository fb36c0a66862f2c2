/* SPDX-License-Identifier: MIT */
/*
 * The seccomp table is data: check it, then check the kernel's answers in a
 * forked child with sentinel probes (bubblewrap's try-syscall idea).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
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
		assert_non_null(seccomp_table[i].why);
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
		"setns", "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount",
		"move_mount", "open_tree", "mount_setattr", "init_module", "finit_module",
		"delete_module", "kexec_load", "kexec_file_load", "bpf", "perf_event_open",
		"userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "add_key",
		"request_key", "keyctl", "ptrace", "process_vm_readv", "process_vm_writev",
		"pidfd_getfd", "clock_settime", "settimeofday", "adjtimex", "reboot", "swapon",
		"swapoff", "acct", "quotactl", "open_by_handle_at",
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
	static const char *const newer[] = { "fchmodat2", "map_shadow_stack", "futex_waitv",
					     "quotactl_fd", "memfd_secret", "process_madvise",
					     "epoll_pwait2", "mount_setattr", "close_range",
					     "faccessat2", "pidfd_getfd", "openat2" };
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

/* Runs probes under the filter in a child; returns the child's status. */
static int run_probes(const struct seccomp_opts *o, const struct probe *pr, size_t n)
{
	struct seccomp_prog d = { 0 }, a = { 0 };
	const struct policy_item *bad;
	const char *why;
	assert_int_equal(seccomp_build(o, &d, &a, &bad, &why), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		if (seccomp_install(&d, &a) < 0)
			_exit(100);
		for (size_t i = 0; i < n; i++) {
			unsigned long a1 = pr[i].a1;
			/* a0 == -2 stands for an fd on /dev/null */
			long r = syscall(pr[i].nr, pr[i].a0 == (unsigned long)-2 ? (unsigned long)devnull : pr[i].a0,
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
	seccomp_prog_free(&d);
	seccomp_prog_free(&a);
	return st;
}

static void test_kernel_answers(void **state)
{
	(void)state;
	const struct probe pr[] = {
		{ "getppid", SYS_getppid, 0, 0, 0, 0 },
		{ "ptrace", SYS_ptrace, 0, 0, 0, EPERM },
		{ "bpf", SYS_bpf, 0, 0, 0, EPERM },
		{ "mount", SYS_mount, 0, 0, 0, EPERM },
		{ "unknown syscall 1000", 1000, 0, 0, 0, ENOSYS },
		{ "clone3", SYS_clone3, 0, 0, 0, ENOSYS },
		{ "unshare(NEWUSER)", SYS_unshare, CLONE_NEWUSER, 0, 0, EPERM },
		{ "unshare(NEWUSER|high bits)", SYS_unshare, CLONE_NEWUSER | (1UL << 40), 0, 0, EPERM },
		{ "unshare(NEWNET)", SYS_unshare, CLONE_NEWNET, 0, 0, EPERM },
		{ "clone(NEWUSER)", SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, EPERM },
		{ "ioctl(TIOCSTI)", SYS_ioctl, (unsigned long)-2, TIOCSTI, 0, EPERM },
		{ "ioctl(TIOCSTI|high bits)", SYS_ioctl, (unsigned long)-2, TIOCSTI | (1UL << 32), 0, EPERM },
		{ "ioctl(TIOCLINUX)", SYS_ioctl, (unsigned long)-2, TIOCLINUX, 0, EPERM },
		{ "ioctl(TIOCGWINSZ)", SYS_ioctl, (unsigned long)-2, TIOCGWINSZ, 0, 0 },
		{ "personality(ADDR_NO_RANDOMIZE)", SYS_personality, ADDR_NO_RANDOMIZE, 0, 0, ENOSYS },
		{ "personality(query)", SYS_personality, 0xffffffff, 0, 0, 0 },
		{ "socket(AF_PACKET)", SYS_socket, AF_PACKET, SOCK_RAW, 0, ENOSYS },
		{ "socket(AF_UNIX) refused", SYS_socket, AF_UNIX, SOCK_STREAM, 0, EPERM },
		{ "socket(AF_INET) refused", SYS_socket, AF_INET, SOCK_STREAM, 0, ENOSYS },
		{ "socketpair", SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, 0 },
		{ "io_uring_setup", SYS_io_uring_setup, 1, 0, 0, EPERM },
		{ "userfaultfd", SYS_userfaultfd, 0, 0, 0, EPERM },
		{ "open_by_handle_at", SYS_open_by_handle_at, 0, 0, 0, EPERM },
	};
	struct seccomp_opts o = { .allow_inet = false, .allow_unix = false };
	int st = run_probes(&o, pr, sizeof(pr) / sizeof(pr[0]));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		print_error("probe %d failed\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
		fail();
	}
}

static void test_policy_allow_and_deny_and_kill(void **state)
{
	(void)state;
	struct policy_list deny = { 0 }, allow = { 0 };
	struct policy_origin o0 = { 0 };
	policy_list_add(&deny, "getppid", false, o0);
	policy_list_add(&allow, "ptrace", false, o0);
	struct seccomp_opts o = { .allow_unix = true, .extra_deny = &deny, .extra_allow = &allow };
	struct seccomp_prog d, a;
	const struct policy_item *bad;
	const char *why;
	/* a refused call needs allow_dangerous */
	assert_int_equal(seccomp_build(&o, &d, &a, &bad, &why), -EPERM);
	assert_string_equal(bad->value, "ptrace");
	o.allow_dangerous = true;
	const struct probe pr[] = {
		{ "getppid denied", SYS_getppid, 0, 0, 0, EPERM },
		/* PTRACE_TRACEME: reaches the kernel, which says yes */
		{ "ptrace allowed", SYS_ptrace, 0, 0, 0, 0 },
	};
	int st0 = run_probes(&o, pr, 2);
	assert_true(WIFEXITED(st0));
	assert_int_equal(WEXITSTATUS(st0), 0);
	o.kill = true;
	const struct probe kp[] = { { "getppid killed", SYS_getppid, 0, 0, 0, EPERM } };
	int st = run_probes(&o, kp, 1);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	/* unknown names are refused with their origin */
	struct policy_list junk = { 0 };
	policy_list_add(&junk, "not_a_syscall", false, o0);
	o.extra_deny = &junk;
	assert_int_equal(seccomp_build(&o, &d, &a, &bad, &why), -EINVAL);
	assert_string_equal(bad->value, "not_a_syscall");
	policy_list_free(&deny);
	policy_list_free(&allow);
	policy_list_free(&junk);
}

static void test_x32_is_killed(void **state)
{
	(void)state;
	const struct probe pr[] = { { "x32 getpid", 0x40000000 | 39, 0, 0, 0, ENOSYS } };
	struct seccomp_opts o = { .allow_unix = true };
	int st = run_probes(&o, pr, 1);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

/* The programs embedded at build time are exactly what libseccomp makes now. */
static void test_build_time_cache_matches_libseccomp(void **state)
{
	(void)state;
	assert_int_equal(seccomp_cache_n, 16);
	for (unsigned key = 0; key < 16; key++) {
		struct seccomp_opts o = { .allow_inet = key & 1, .allow_unix = key & 2, .kill = key & 4,
					  .broker = key & 8 };
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
		cmocka_unit_test(test_policy_allow_and_deny_and_kill),
		cmocka_unit_test(test_x32_is_killed),
		cmocka_unit_test(test_build_time_cache_matches_libseccomp),
	};
	return cmocka_run_group_tests_name("seccomp", tests, NULL, NULL);
}
