/* SPDX-License-Identifier: MIT */
/* Kernel-surface escapes: namespaces, mounts, tracing, kernel code, clocks,
 * keyrings, io_uring, terminal injection, handles, raw sockets. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <netinet/in.h>

#include "escape.h"

static long try_clone_newuser(void)
{
	pid_t p = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
	if (p == 0)
		_exit(0);
	if (p > 0)
		waitpid(p, NULL, 0);
	return p;
}

/* Runs FN in a child: the filter must kill it with SIGSYS. */
static void i386_getpid(void);

static long killed_by_filter(void (*fn)(void))
{
	pid_t p = fork();
	int st;
	if (p == 0) {
		fn();
		_exit(0);
	}
	waitpid(p, &st, 0);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) {
		errno = EPERM;
		return -1;
	}
	/* a kernel built without that entry point (no IA32 emulation: int
	 * 0x80 faults): the call never reached it, filter or not */
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV && fn == i386_getpid) {
		errno = ENOSYS;
		return -1;
	}
	return 0;
}

/* getpid through the x32 ABI */
static void x32_getpid(void)
{
	syscall(0x40000000 | 39);
}

/* getpid through the i386 entry point: another architecture */
static void i386_getpid(void)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(20) : "memory");
}

/* A file of the caller's own, open for reading: what a lease needs (the
 * owner's alone, or CAP_LEASE).  In the working directory, else in the
 * temporary one; -1 when neither takes a file (then the lease attack
 * reaches the kernel with a bad fd, and is counted as an escape). */
static int own_file(void)
{
	const char *dirs[] = {".", getenv("TMPDIR"), "/tmp"};
	char path[4096];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (!dirs[i])
			continue;
		snprintf(path, sizeof(path), "%s/rf-lease-%d", dirs[i], (int)getpid());
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			continue;
		close(fd);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		unlink(path);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

int main(void)
{
	char buf[16];
	struct iovec local = {buf, sizeof(buf)}, remote = {(void *)&local, sizeof(buf)};
	struct perf_event_attr pa = {.type = PERF_TYPE_SOFTWARE,
				     .size = sizeof(pa),
				     .config = PERF_COUNT_SW_CPU_CLOCK,
				     .disabled = 1};
	union bpf_attr ba = {
	    .map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1};
	struct io_uring_params up = {0};
	struct timespec ts;
	pid_t parent = getppid();

	ATTACK_SECCOMP("unshare(CLONE_NEWUSER)", unshare(CLONE_NEWUSER));
	ATTACK_SECCOMP("unshare(CLONE_NEWNS)", unshare(CLONE_NEWNS));
	ATTACK_SECCOMP("unshare(CLONE_NEWNET)", unshare(CLONE_NEWNET));
	ATTACK_SECCOMP("unshare(NEWUSER | high bits)",
		       syscall(SYS_unshare, CLONE_NEWUSER | (1UL << 33)));
	ATTACK_SECCOMP("clone(CLONE_NEWUSER)", try_clone_newuser());
	ATTACK_SECCOMP("clone3 (flags unfilterable)", syscall(SYS_clone3, NULL, 0));
	ATTACK_SECCOMP("setns", setns(open("/proc/self/ns/mnt", O_RDONLY), 0));
	ATTACK_SECCOMP("mount tmpfs", mount("none", "/tmp", "tmpfs", 0, NULL));
	ATTACK_SECCOMP("umount /proc", umount2("/proc", MNT_DETACH));
	ATTACK_SECCOMP("chroot", chroot("/tmp"));
	ATTACK_SECCOMP("pivot_root", syscall(SYS_pivot_root, "/tmp", "/tmp"));
	ATTACK_SECCOMP("fsopen", syscall(SYS_fsopen, "tmpfs", 0));
	ATTACK_SECCOMP("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* CLONE */));
	ATTACK_SECCOMP("ptrace(ATTACH, parent)", ptrace(PTRACE_ATTACH, parent, 0, 0));
	ATTACK_SECCOMP("process_vm_readv(parent)",
		       process_vm_readv(parent, &local, 1, &remote, 1, 0));
	ATTACK_SECCOMP("pidfd_getfd(parent, 0)",
		       syscall(SYS_pidfd_getfd, syscall(SYS_pidfd_open, parent, 0), 0, 0));
	ATTACK_SECCOMP("bpf(MAP_CREATE)", syscall(SYS_bpf, BPF_MAP_CREATE, &ba, sizeof(ba)));
	ATTACK_SECCOMP("perf_event_open", syscall(SYS_perf_event_open, &pa, 0, -1, -1, 0));
	ATTACK_SECCOMP("userfaultfd", syscall(SYS_userfaultfd, 0));
	ATTACK_SECCOMP("io_uring_setup", syscall(SYS_io_uring_setup, 4, &up));
	ATTACK_SECCOMP("add_key",
		       syscall(SYS_add_key, "user", "rf", "x", 1, KEY_SPEC_PROCESS_KEYRING));
	ATTACK_SECCOMP("keyctl(JOIN)", syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL));
	ATTACK_SECCOMP("init_module", syscall(SYS_init_module, buf, sizeof(buf), ""));
	ATTACK_SECCOMP("finit_module", syscall(SYS_finit_module, 0, "", 0));
	ATTACK_SECCOMP("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
	clock_gettime(CLOCK_REALTIME, &ts);
	ATTACK_SECCOMP("clock_settime", clock_settime(CLOCK_REALTIME, &ts));
	ATTACK_SECCOMP("settimeofday", settimeofday(&(struct timeval){ts.tv_sec, 0}, NULL));
	ATTACK_SECCOMP("swapon", syscall(SYS_swapon, "/nonexistent", 0));
	ATTACK_SECCOMP("acct", syscall(SYS_acct, NULL));
	ATTACK_SECCOMP("open_by_handle_at",
		       syscall(SYS_open_by_handle_at, AT_FDCWD, buf, O_RDONLY));
	ATTACK_SECCOMP("ioctl(TIOCSTI) on stdin", ioctl(0, TIOCSTI, "x"));
	ATTACK_SECCOMP("ioctl(TIOCSTI | 1<<32) on stdin",
		       syscall(SYS_ioctl, 0, (unsigned long)TIOCSTI | (1UL << 32), "x"));
	ATTACK_SECCOMP("ioctl(TIOCLINUX)", ioctl(0, TIOCLINUX, buf));
	{
		/* a line discipline on a terminal of its own: N_NULL here, a
		 * module loaded on demand elsewhere */
		int pt = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC), ld = 27 /* N_NULL */;
		ATTACK_SECCOMP("ioctl(TIOCSETD) on a new terminal", ioctl(pt, TIOCSETD, &ld));
		if (pt >= 0)
			close(pt);
	}
	{
		/* a lease stalls every other open of the file, the host's too */
		int lf = own_file();
		ATTACK_SECCOMP("fcntl(F_SETLEASE, F_WRLCK) on a file of its own",
			       fcntl(lf, F_SETLEASE, F_WRLCK));
		ATTACK_SECCOMP("fcntl(F_SETLEASE, F_RDLCK) on a file of its own",
			       fcntl(lf, F_SETLEASE, F_RDLCK));
		if (lf >= 0)
			close(lf);
	}
	ATTACK_SECCOMP("personality(ADDR_NO_RANDOMIZE)", personality(ADDR_NO_RANDOMIZE));
	ATTACK_SECCOMP("x32 system call", killed_by_filter(x32_getpid));
	ATTACK_SECCOMP("i386 system call (int 0x80)", killed_by_filter(i386_getpid));
	ATTACK("socket(AF_PACKET, SOCK_RAW)", socket(AF_PACKET, SOCK_RAW, 0));
	ATTACK("socket(AF_INET, SOCK_RAW)", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
	ATTACK("socket(AF_NETLINK, NETLINK_AUDIT)", socket(AF_NETLINK, SOCK_RAW, 9));
	ATTACK("socket(AF_VSOCK)", socket(40, SOCK_STREAM, 0));
	ATTACK("setuid(0) regain", getuid() != 0 ? setuid(0) : -1);
	ESCAPE_DONE();
}
