/* SPDX-License-Identifier: MIT */
/*
 * The seccomp profile, as data.
 *
 * Shape: an allow-list in the spirit of the container runtimes' default
 * profiles (moby's default.json, systemd's @system-service groups, OpenSSH's
 * sandbox-seccomp-filter.c).  A call not in the table fails with ENOSYS, so
 * calls added to future kernels are refused and libc falls back to the older
 * call it knows (clone3 -> clone, faccessat2 -> faccessat, ...).  Calls that
 * escape a sandbox are refused with EPERM (or kill the process with
 * `action = kill`).
 *
 * Two stacked filters.  libseccomp resolves overlapping rules for one call in
 * favour of the more permissive one (an unconditional allow of ioctl swallows
 * a masked deny of TIOCSTI), so:
 *   1. the deny filter, default ALLOW, holds only argument-masked refusals
 *      (TIOCSTI with any high bits, namespace flags of clone/unshare);
 *   2. the allow-list filter, default ENOSYS, holds everything else.
 * The kernel runs both and the stricter answer wins (ERRNO over ALLOW), so
 * the order they are installed in does not matter for safety.
 *
 * Argument widths: ioctl's request and clone's flags are 32-bit in the kernel,
 * so their comparisons are masked to 32 bits; an argument with high bits set
 * must not slip past a 64-bit equality test.  Allow rules with exact values
 * (socket families, personality) compare all 64 bits, which fails closed.
 * Non-native architectures and the x32 ABI are killed (libseccomp's bad-arch
 * action covers both on x86_64).
 */
#include <errno.h>
#include <linux/fs.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sched.h>
#include <stddef.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "supervisor.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define A(n, g, w)                                                                                 \
	{                                                                                          \
		n, SC_ALLOW, g, w, SC_CONF_NONE                                                    \
	}
#define R(n, g, w)                                                                                 \
	{                                                                                          \
		n, SC_ARGS, g, w, SC_CONF_NONE                                                     \
	}
#define D(n, g, w)                                                                                 \
	{                                                                                          \
		n, SC_DENY, g, w, SC_CONF_NONE                                                     \
	}
#define E(n, g, w)                                                                                 \
	{                                                                                          \
		n, SC_ENOSYS, g, w, SC_CONF_NONE                                                   \
	}
#define X(n, g, w)                                                                                 \
	{                                                                                          \
		n, SC_ENOTSUP, g, w, SC_CONF_NONE                                                  \
	}
/* Allowed, and takes a pid, pidfd, process group, IPC key or id: the last
 * column says what keeps it on the sandbox's own processes and objects. */
#define P(n, g, w, c)                                                                              \
	{                                                                                          \
		n, SC_ALLOW, g, w, c                                                               \
	}

const struct sc_entry seccomp_table[] = {
    /* ---- file descriptors and I/O ---- */
    A("read", "io", "basic I/O"),
    A("write", "io", "basic I/O"),
    A("readv", "io", "basic I/O"),
    A("writev", "io", "basic I/O"),
    A("pread64", "io", "basic I/O"),
    A("pwrite64", "io", "basic I/O"),
    A("preadv", "io", "basic I/O"),
    A("pwritev", "io", "basic I/O"),
    A("preadv2", "io", "basic I/O"),
    A("pwritev2", "io", "basic I/O"),
    A("lseek", "io", "basic I/O"),
    A("close", "io", "basic I/O"),
    A("close_range", "io", "closing inherited fds"),
    A("dup", "io", "fd handling"),
    A("dup2", "io", "fd handling"),
    A("dup3", "io", "fd handling"),
    P("fcntl", "io", "fd flags and locks", SC_CONF_SCOPE),
    A("flock", "io", "advisory locks"),
    {"ioctl", SC_ARGS, "io",
     "terminals and devices; TIOCSTI and TIOCLINUX refused (input injection)", SC_CONF_SCOPE},
    A("sendfile", "io", "copying"),
    A("splice", "io", "copying"),
    A("tee", "io", "copying"),
    A("vmsplice", "io", "copying"),
    A("copy_file_range", "io", "copying"),
    A("fsync", "io", "durability"),
    A("fdatasync", "io", "durability"),
    A("sync", "io", "durability"),
    A("syncfs", "io", "durability"),
    A("sync_file_range", "io", "durability"),
    A("fallocate", "io", "preallocation"),
    A("fadvise64", "io", "readahead hints"),
    A("readahead", "io", "readahead hints"),
    A("ftruncate", "io", "Landlock's truncate right governs it"),
    A("truncate", "io", "Landlock's truncate right governs it"),
    A("pipe", "io", "pipes"),
    A("pipe2", "io", "pipes"),
    A("select", "io", "polling"),
    A("pselect6", "io", "polling"),
    A("poll", "io", "polling"),
    A("ppoll", "io", "polling"),
    A("epoll_create", "io", "polling"),
    A("epoll_create1", "io", "polling"),
    A("epoll_ctl", "io", "polling"),
    A("epoll_wait", "io", "polling"),
    A("epoll_pwait", "io", "polling"),
    A("epoll_pwait2", "io", "polling"),
    A("eventfd", "io", "event fds"),
    A("eventfd2", "io", "event fds"),
    A("signalfd", "io", "signal fds"),
    A("signalfd4", "io", "signal fds"),
    A("timerfd_create", "io", "timers"),
    A("timerfd_settime", "io", "timers"),
    A("timerfd_gettime", "io", "timers"),
    A("inotify_init", "io", "file watching (build tools, editors)"),
    A("inotify_init1", "io", "file watching"),
    A("inotify_add_watch", "io", "file watching"),
    A("inotify_rm_watch", "io", "file watching"),

    /* ---- files; Landlock decides which paths ---- */
    A("open", "fs", "Landlock checks the path"),
    A("openat", "fs", "Landlock checks the path"),
    E("openat2", "fs",
      "its flags and mode live in memory seccomp cannot read (a set-user-ID file made "
      "at once): ENOSYS makes callers use openat"),
    A("creat", "fs", "Landlock checks the path"),
    A("stat", "fs", "metadata"),
    A("fstat", "fs", "metadata"),
    A("lstat", "fs", "metadata"),
    A("newfstatat", "fs", "metadata"),
    A("statx", "fs", "metadata"),
    A("statfs", "fs", "metadata"),
    A("fstatfs", "fs", "metadata"),
    A("access", "fs", "metadata"),
    A("faccessat", "fs", "metadata"),
    A("faccessat2", "fs", "metadata"),
    A("readlink", "fs", "metadata"),
    A("readlinkat", "fs", "metadata"),
    A("getdents", "fs", "listing"),
    A("getdents64", "fs", "listing"),
    A("getcwd", "fs", "cwd"),
    A("chdir", "fs", "cwd"),
    A("fchdir", "fs", "cwd"),
    A("mkdir", "fs", "Landlock checks"),
    A("mkdirat", "fs", "Landlock checks"),
    A("rmdir", "fs", "Landlock checks"),
    A("unlink", "fs", "Landlock checks"),
    A("unlinkat", "fs", "Landlock checks"),
    A("rename", "fs", "Landlock checks"),
    A("renameat", "fs", "Landlock checks"),
    A("renameat2", "fs", "Landlock checks"),
    A("link", "fs", "Landlock checks"),
    A("linkat", "fs", "Landlock checks"),
    A("symlink", "fs", "Landlock checks"),
    A("symlinkat", "fs", "Landlock checks"),
    R("mknod", "fs", "FIFOs; devices need CAP_MKNOD; set-user-ID and set-group-ID refused"),
    R("mknodat", "fs", "FIFOs; devices need CAP_MKNOD; set-user-ID and set-group-ID refused"),
    R("chmod", "fs", "own files; set-user-ID, set-group-ID and write for others refused"),
    R("fchmod", "fs", "own files; set-user-ID, set-group-ID and write for others refused"),
    R("fchmodat", "fs", "own files; set-user-ID, set-group-ID and write for others refused"),
    R("fchmodat2", "fs", "own files; set-user-ID, set-group-ID and write for others refused"),
    A("chown", "fs", "other owners need CAP_CHOWN; the group: the command's own or none"),
    A("fchown", "fs", "other owners need CAP_CHOWN; the group: the command's own or none"),
    A("lchown", "fs", "other owners need CAP_CHOWN; the group: the command's own or none"),
    A("fchownat", "fs", "other owners need CAP_CHOWN; the group: the command's own or none"),
    A("umask", "fs", "file modes"),
    A("utime", "fs", "timestamps"),
    A("utimes", "fs", "timestamps"),
    A("utimensat", "fs", "timestamps"),
    A("futimesat", "fs", "timestamps"),
    A("getxattr", "fs", "xattrs"),
    A("lgetxattr", "fs", "xattrs"),
    A("fgetxattr", "fs", "xattrs"),
    A("listxattr", "fs", "xattrs"),
    A("llistxattr", "fs", "xattrs"),
    A("flistxattr", "fs", "xattrs"),
    X("setxattr", "fs", "an ACL would give other users write"),
    X("lsetxattr", "fs", "an ACL would give other users write"),
    X("fsetxattr", "fs", "an ACL would give other users write"),
    A("removexattr", "fs", "xattrs"),
    A("lremovexattr", "fs", "xattrs"),
    A("fremovexattr", "fs", "xattrs"),
    E("memfd_create", "fs",
      "a file on a mount Landlock does not govern: ld.so runs it through /proc/self/fd, "
      "sealed or not; ENOSYS makes libraries fall back to a file in /tmp"),

    /* ---- memory ---- */
    A("brk", "mem", "heap"),
    A("mmap", "mem", "mappings"),
    A("munmap", "mem", "mappings"),
    A("mremap", "mem", "mappings"),
    A("mprotect", "mem", "JITs need it"),
    A("madvise", "mem", "allocators"),
    A("msync", "mem", "mappings"),
    A("mincore", "mem", "allocators"),
    A("mlock", "mem", "bounded by RLIMIT_MEMLOCK"),
    A("mlock2", "mem", "bounded by RLIMIT_MEMLOCK"),
    A("munlock", "mem", "locking"),
    A("mlockall", "mem", "bounded by RLIMIT_MEMLOCK"),
    A("munlockall", "mem", "locking"),
    A("membarrier", "mem", "runtimes (.NET, JVM)"),
    A("pkey_alloc", "mem", "memory keys"),
    A("pkey_free", "mem", "memory keys"),
    A("pkey_mprotect", "mem", "memory keys"),
    A("get_mempolicy", "mem", "NUMA"),
    A("set_mempolicy", "mem", "NUMA, own process"),
    A("mbind", "mem", "NUMA, own mappings"),
    A("remap_file_pages", "mem", "legacy mappings"),
    A("map_shadow_stack", "mem", "CET shadow stacks"),

    /* ---- processes, threads, signals ---- */
    A("fork", "proc", "processes"),
    A("vfork", "proc", "processes"),
    R("clone", "proc", "threads and processes; namespace flags refused"),
    E("clone3", "proc",
      "its flags live in memory seccomp cannot read: ENOSYS makes libc use clone"),
    A("execve", "proc", "Landlock's execute right governs it"),
    A("execveat", "proc", "Landlock's execute right governs it"),
    A("exit", "proc", "exit"),
    A("exit_group", "proc", "exit"),
    P("wait4", "proc", "reaping", SC_CONF_KERNEL),
    P("waitid", "proc", "reaping", SC_CONF_KERNEL),
    P("kill", "proc", "Landlock scopes signals to the sandbox", SC_CONF_SCOPE),
    P("tkill", "proc", "signals", SC_CONF_SCOPE),
    P("tgkill", "proc", "signals", SC_CONF_SCOPE),
    A("rt_sigaction", "proc", "signals"),
    A("rt_sigprocmask", "proc", "signals"),
    A("rt_sigreturn", "proc", "signals"),
    A("rt_sigpending", "proc", "signals"),
    A("rt_sigtimedwait", "proc", "signals"),
    P("rt_sigqueueinfo", "proc", "signals", SC_CONF_SCOPE),
    P("rt_tgsigqueueinfo", "proc", "signals", SC_CONF_SCOPE),
    A("rt_sigsuspend", "proc", "signals"),
    A("sigaltstack", "proc", "signals"),
    A("pause", "proc", "signals"),
    P("pidfd_open", "proc", "process handles", SC_CONF_HANDLE),
    P("pidfd_send_signal", "proc", "Landlock scopes signals to the sandbox", SC_CONF_SCOPE),
    A("getpid", "proc", "ids"),
    A("getppid", "proc", "ids"),
    A("gettid", "proc", "ids"),
    A("getuid", "proc", "ids"),
    A("geteuid", "proc", "ids"),
    A("getgid", "proc", "ids"),
    A("getegid", "proc", "ids"),
    A("getresuid", "proc", "ids"),
    A("getresgid", "proc", "ids"),
    A("getgroups", "proc", "ids"),
    A("setuid", "proc", "no capabilities are left: only to ids already held"),
    A("setgid", "proc", "same"),
    A("setreuid", "proc", "same"),
    A("setregid", "proc", "same"),
    A("setresuid", "proc", "same"),
    A("setresgid", "proc", "same"),
    A("setgroups", "proc", "needs CAP_SETGID"),
    A("setfsuid", "proc", "same"),
    A("setfsgid", "proc", "same"),
    P("getpgid", "proc", "job control", SC_CONF_READ),
    P("setpgid", "proc", "job control", SC_CONF_KERNEL),
    A("getpgrp", "proc", "job control"),
    A("setsid", "proc", "job control"),
    P("getsid", "proc", "job control", SC_CONF_READ),
    P("getpriority", "proc", "scheduling", SC_CONF_READ),
    P("setpriority", "proc", "scheduling", SC_CONF_SELF),
    A("sched_yield", "proc", "scheduling"),
    P("sched_getaffinity", "proc", "scheduling", SC_CONF_SELF),
    P("sched_setaffinity", "proc", "scheduling", SC_CONF_SELF),
    P("sched_getparam", "proc", "scheduling", SC_CONF_SELF),
    P("sched_setparam", "proc", "scheduling", SC_CONF_SELF),
    P("sched_getscheduler", "proc", "scheduling", SC_CONF_SELF),
    P("sched_setscheduler", "proc", "scheduling", SC_CONF_SELF),
    P("sched_getattr", "proc", "scheduling", SC_CONF_SELF),
    P("sched_setattr", "proc", "scheduling", SC_CONF_SELF),
    A("sched_get_priority_max", "proc", "scheduling"),
    A("sched_get_priority_min", "proc", "scheduling"),
    P("sched_rr_get_interval", "proc", "scheduling", SC_CONF_SELF),
    P("ioprio_get", "proc", "scheduling", SC_CONF_READ),
    P("ioprio_set", "proc", "scheduling", SC_CONF_SELF),
    A("prctl", "proc", "no_new_privs is locked; the rest is per-process"),
    A("arch_prctl", "proc", "TLS setup"),
    A("set_tid_address", "proc", "threads"),
    A("set_robust_list", "proc", "threads"),
    P("get_robust_list", "proc", "threads", SC_CONF_SELF),
    A("futex", "proc", "threads"),
    A("futex_waitv", "proc", "threads (Wine, games)"),
    A("rseq", "proc", "glibc"),
    A("restart_syscall", "proc", "signals"),
    P("capget", "proc", "reading capabilities", SC_CONF_READ),
    P("capset", "proc", "can only lower what is already empty", SC_CONF_KERNEL),
    A("getrlimit", "proc", "limits"),
    A("setrlimit", "proc", "limits can only go down"),
    P("prlimit64", "proc", "limits can only go down without CAP_SYS_RESOURCE", SC_CONF_SELF),
    A("getrusage", "proc", "accounting"),
    A("times", "proc", "accounting"),
    A("uname", "proc", "system info"),
    A("sysinfo", "proc", "system info"),
    A("getcpu", "proc", "system info"),
    R("personality", "proc", "only the values container runtimes allow (no ADDR_NO_RANDOMIZE)"),
    A("seccomp", "proc", "more filters can only restrict"),
    A("landlock_create_ruleset", "proc", "nested Landlock can only restrict"),
    A("landlock_add_rule", "proc", "nested Landlock can only restrict"),
    A("landlock_restrict_self", "proc", "nested Landlock can only restrict"),

    /* ---- time ---- */
    A("nanosleep", "time", "sleeping"),
    A("clock_nanosleep", "time", "sleeping"),
    A("clock_gettime", "time", "reading clocks"),
    A("clock_getres", "time", "reading clocks"),
    A("gettimeofday", "time", "reading clocks"),
    A("time", "time", "reading clocks"),
    A("alarm", "time", "timers"),
    A("getitimer", "time", "timers"),
    A("setitimer", "time", "timers"),
    A("timer_create", "time", "timers"),
    A("timer_settime", "time", "timers"),
    A("timer_gettime", "time", "timers"),
    A("timer_getoverrun", "time", "timers"),
    A("timer_delete", "time", "timers"),
    A("getrandom", "time", "randomness"),

    /* ---- System V and POSIX IPC: the sandbox's own IPC namespace, or none ---- */
    P("shmget", "ipc", "shared memory", SC_CONF_IPC_NS),
    P("shmat", "ipc", "shared memory", SC_CONF_IPC_NS),
    P("shmdt", "ipc", "shared memory", SC_CONF_IPC_NS),
    P("shmctl", "ipc", "shared memory", SC_CONF_IPC_NS),
    P("semget", "ipc", "semaphores", SC_CONF_IPC_NS),
    P("semop", "ipc", "semaphores", SC_CONF_IPC_NS),
    P("semtimedop", "ipc", "semaphores", SC_CONF_IPC_NS),
    P("semctl", "ipc", "semaphores", SC_CONF_IPC_NS),
    P("msgget", "ipc", "message queues", SC_CONF_IPC_NS),
    P("msgsnd", "ipc", "message queues", SC_CONF_IPC_NS),
    P("msgrcv", "ipc", "message queues", SC_CONF_IPC_NS),
    P("msgctl", "ipc", "message queues", SC_CONF_IPC_NS),
    P("mq_open", "ipc", "message queues", SC_CONF_IPC_NS),
    P("mq_unlink", "ipc", "message queues", SC_CONF_IPC_NS),
    P("mq_timedsend", "ipc", "message queues", SC_CONF_IPC_NS),
    P("mq_timedreceive", "ipc", "message queues", SC_CONF_IPC_NS),
    P("mq_notify", "ipc", "message queues", SC_CONF_IPC_NS),
    P("mq_getsetattr", "ipc", "message queues", SC_CONF_IPC_NS),

    /* ---- sockets; families per policy ---- */
    R("socket", "net", "families per [network] mode and unix_sockets; no Unix datagrams"),
    R("socketpair", "net",
      "anonymous Unix pairs, stream and seqpacket only: a datagram one sends to any address"),
    A("bind", "net", "network namespace or no inet socket"),
    A("listen", "net", "same"),
    A("accept", "net", "same"),
    A("accept4", "net", "same"),
    A("connect", "net", "made by the supervisor where Unix sockets are allowed or brokered"),
    A("getsockname", "net", "same"),
    A("getpeername", "net", "same"),
    A("sendto", "net", "same"),
    A("recvfrom", "net", "same"),
    A("sendmsg", "net", "same"),
    A("recvmsg", "net", "same"),
    A("sendmmsg", "net", "same"),
    A("recvmmsg", "net", "same"),
    A("shutdown", "net", "same"),
    A("setsockopt", "net", "same"),
    A("getsockopt", "net", "same"),

    /* ---- refused: each is a known way out of a sandbox ---- */
    R("unshare", "namespaces",
      "new namespaces would undo the sandbox's view: namespace flags refused"),
    D("setns", "namespaces", "joining another namespace"),
    D("mount", "mount", "changes what paths mean"),
    D("umount", "mount", "reveals masked paths"),
    D("umount2", "mount", "reveals masked paths"),
    D("pivot_root", "mount", "changes the root"),
    D("chroot", "mount", "changes the root"),
    D("fsopen", "mount", "new mount API"),
    D("fsconfig", "mount", "new mount API"),
    D("fsmount", "mount", "new mount API"),
    D("fspick", "mount", "new mount API"),
    D("move_mount", "mount", "new mount API"),
    D("open_tree", "mount", "new mount API"),
    D("mount_setattr", "mount", "new mount API"),
    D("init_module", "kernel", "loading kernel code"),
    D("finit_module", "kernel", "loading kernel code"),
    D("delete_module", "kernel", "unloading kernel code"),
    D("kexec_load", "kernel", "replacing the kernel"),
    D("kexec_file_load", "kernel", "replacing the kernel"),
    D("bpf", "kernel", "kernel programs and maps"),
    D("perf_event_open", "kernel", "side channels and a large attack surface"),
    D("userfaultfd", "kernel", "widens kernel race windows"),
    D("io_uring_setup", "kernel", "bypasses seccomp for the I/O it performs"),
    D("io_uring_enter", "kernel", "bypasses seccomp"),
    D("io_uring_register", "kernel", "bypasses seccomp"),
    D("add_key", "keys", "kernel keyrings are not namespaced"),
    D("request_key", "keys", "kernel keyrings are not namespaced"),
    D("keyctl", "keys", "kernel keyrings are not namespaced"),
    D("ptrace", "debug", "reads and writes other processes"),
    D("process_vm_readv", "debug", "reads other processes' memory"),
    D("process_vm_writev", "debug", "writes other processes' memory"),
    D("pidfd_getfd", "debug", "steals other processes' fds"),
    D("kcmp", "debug", "compares other processes' kernel objects"),
    D("process_madvise", "debug", "acts on other processes' memory"),
    D("lookup_dcookie", "debug", "kernel profiling"),
    D("clock_settime", "time", "changes the system clock"),
    D("clock_adjtime", "time", "changes the system clock"),
    D("adjtimex", "time", "changes the system clock"),
    D("settimeofday", "time", "changes the system clock"),
    D("reboot", "system", "reboots"),
    D("swapon", "system", "swap"),
    D("swapoff", "system", "swap"),
    D("acct", "system", "process accounting"),
    D("quotactl", "system", "quotas"),
    D("quotactl_fd", "system", "quotas"),
    D("open_by_handle_at", "system", "opens files bypassing paths (the shocker escape)"),
    D("name_to_handle_at", "system", "file handles (pairs with open_by_handle_at)"),
    D("iopl", "system", "raw I/O ports"),
    D("ioperm", "system", "raw I/O ports"),
    D("syslog", "system", "kernel log"),
    D("vhangup", "system", "hangs up terminals"),
    D("sethostname", "system", "host identity"),
    D("setdomainname", "system", "host identity"),
    D("uselib", "system", "obsolete loader"),
    D("nfsservctl", "system", "obsolete"),
    D("fanotify_init", "system", "filesystem-wide monitoring"),
    D("fanotify_mark", "system", "filesystem-wide monitoring"),
    D("memfd_secret", "system", "memory hidden from the kernel"),
    D("move_pages", "system", "moves other processes' pages"),
    D("migrate_pages", "system", "moves other processes' pages"),
};
const size_t seccomp_table_n = ARRAY_SIZE(seccomp_table);

/*
 * Refused by argument, in the deny filter: the call is otherwise allowed.
 * Each rule is (arg & mask) == value, with the mask no wider than the
 * kernel's view of the argument: clone's and unshare's flags and ioctl's
 * request are 32-bit there, so high bits set by a caller change nothing.
 */
static const struct {
	const char *name;
	unsigned arg;
	uint64_t mask, value;
} masked_refusals[] = {
#define NS_FLAG(call, f)                                                                           \
	{                                                                                          \
		call, 0, f, f                                                                      \
	}
    NS_FLAG("unshare", CLONE_NEWNS),
    NS_FLAG("unshare", CLONE_NEWCGROUP),
    NS_FLAG("unshare", CLONE_NEWUTS),
    NS_FLAG("unshare", CLONE_NEWIPC),
    NS_FLAG("unshare", CLONE_NEWUSER),
    NS_FLAG("unshare", CLONE_NEWPID),
    NS_FLAG("unshare", CLONE_NEWNET),
    NS_FLAG("unshare", CLONE_NEWTIME),
    /* clone has no CLONE_NEWTIME: 0x80 is part of its exit-signal byte */
    NS_FLAG("clone", CLONE_NEWNS),
    NS_FLAG("clone", CLONE_NEWCGROUP),
    NS_FLAG("clone", CLONE_NEWUTS),
    NS_FLAG("clone", CLONE_NEWIPC),
    NS_FLAG("clone", CLONE_NEWUSER),
    NS_FLAG("clone", CLONE_NEWPID),
    NS_FLAG("clone", CLONE_NEWNET),
#undef NS_FLAG
    /* terminal input injection */
    {"ioctl", 1, 0xffffffffULL, TIOCSTI},
    {"ioctl", 1, 0xffffffffULL, TIOCLINUX},
    /* a file's attributes (chattr: nodump, noatime, the project id, the
     * NFS generation): Landlock has no right for them, and without a
     * mount namespace nothing else refuses them outside the write grants
     * (immutable and append-only need a capability anyway) */
    {"ioctl", 1, 0xffffffffULL, FS_IOC_SETFLAGS},
    {"ioctl", 1, 0xffffffffULL, FS_IOC_FSSETXATTR},
    {"ioctl", 1, 0xffffffffULL, FS_IOC_SETVERSION},
    /* ext4's own number for the same change (fs/ext4/ext4.h: not in the
     * uapi headers), taken on the owner's word alone */
    {"ioctl", 1, 0xffffffffULL, _IOW('f', 4, long)},
/* a set-user-ID or set-group-ID file: the host runs it as its owner
 * (as root, when the command ran as root: Landlock has no right for
 * modes, and root owns the host's files) */
#define SETID(call, a)                                                                             \
	{call, a, S_ISUID, S_ISUID},                                                               \
	{                                                                                          \
		call, a, S_ISGID, S_ISGID                                                          \
	}
/* write for others: another local user could then plant in what the
 * grants hold what the host's tools run (a hook in a project made
 * world-writable).  A mode made so at creation (umask 0) is the exit walk's
 * (gitscan.c): 0666 and 0777 are the usual creation modes, the umask
 * applies after */
#define WIDENING(call, a)                                                                          \
	SETID(call, a),                                                                            \
	{                                                                                          \
		call, a, S_IWOTH, S_IWOTH                                                          \
	}
    WIDENING("chmod", 1),
    WIDENING("fchmod", 1),
    WIDENING("fchmodat", 2),
    WIDENING("fchmodat2", 2),
#undef WIDENING
    SETID("mknod", 1),
    SETID("mknodat", 2),
    SETID("creat", 1),
#undef SETID
};

/* The same for a file made by open and openat with O_CREAT or O_TMPFILE:
 * refused when (flags & create) == create and (mode & bit) == bit. */
static const struct {
	const char *name;
	unsigned flags_arg, mode_arg;
	uint64_t create, bit;
} created_setid[] = {
    {"open", 1, 2, O_CREAT, S_ISUID},	    {"open", 1, 2, O_CREAT, S_ISGID},
    {"open", 1, 2, __O_TMPFILE, S_ISUID},   {"open", 1, 2, __O_TMPFILE, S_ISGID},
    {"openat", 2, 3, O_CREAT, S_ISUID},	    {"openat", 2, 3, O_CREAT, S_ISGID},
    {"openat", 2, 3, __O_TMPFILE, S_ISUID}, {"openat", 2, 3, __O_TMPFILE, S_ISGID},
};
/*
 * Without a PID namespace the pids the sandbox can name include the host's
 * processes of the same user, which the kernel lets these calls act on
 * (prlimit64 with RLIMIT_CPU = 0 kills one).  Landlock's scopes cover
 * signals only, so these calls are held to the caller itself: each rule
 * refuses the call when the argument, in the kernel's 32-bit width, is not
 * VALUE (pid 0, which the kernel reads as "the caller"; glibc's wrappers
 * pass 0).  Threads naming each other by tid, and `prlimit -p`, `taskset -p`
 * or `renice` on another process, are refused too: a tid cannot be told
 * from a host pid here.
 */
static const struct {
	const char *name;
	unsigned arg;
	uint32_t value;
} own_only[] = {
    {"prlimit64", 0, 0},
    {"get_robust_list", 0, 0},
    {"sched_getaffinity", 0, 0},
    {"sched_setaffinity", 0, 0},
    {"sched_getparam", 0, 0},
    {"sched_setparam", 0, 0},
    {"sched_getscheduler", 0, 0},
    {"sched_setscheduler", 0, 0},
    {"sched_getattr", 0, 0},
    {"sched_setattr", 0, 0},
    {"sched_rr_get_interval", 0, 0},
    /* which = PRIO_PROCESS (not a process group, not every process of a user) */
    {"setpriority", 0, 0},
    {"setpriority", 1, 0},
    /* which = IOPRIO_WHO_PROCESS */
    {"ioprio_set", 0, 1},
    {"ioprio_set", 1, 0},
};

static bool own_only_listed(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(own_only); i++)
		if (strcmp(own_only[i].name, name) == 0)
			return true;
	return false;
}

const char *seccomp_confine_name(enum sc_confine c)
{
	switch (c) {
	case SC_CONF_NONE:
		return "-";
	case SC_CONF_SELF:
		return "caller only without a PID namespace";
	case SC_CONF_SCOPE:
		return "Landlock signal scope";
	case SC_CONF_KERNEL:
		return "the kernel: caller or its children";
	case SC_CONF_READ:
		return "read-only, as /proc";
	case SC_CONF_HANDLE:
		return "pidfd uses confined";
	case SC_CONF_IPC_NS:
		return "IPC namespace, else refused";
	case _SC_CONF_MAX:
	default:
		return NULL;
	}
}

/* moby's default profile: Linux, 32-bit Linux, UNAME26, both, and the query */
static const unsigned long personality_allowed[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

static bool table_lookup(const char *name, const struct sc_entry **ret)
{
	for (size_t i = 0; i < seccomp_table_n; i++)
		if (strcmp(seccomp_table[i].name, name) == 0) {
			*ret = &seccomp_table[i];
			return true;
		}
	return false;
}

static bool in_list(const struct policy_list *l, const char *name)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (strcmp(l->items[i].value, name) == 0)
			return true;
	return false;
}

static int export_prog(scmp_filter_ctx ctx, struct seccomp_prog *ret)
{
	_cleanup_close_ int fd = memfd_create("ringfence-bpf", MFD_CLOEXEC);
	off_t size;
	int r;

	if (fd < 0)
		return -errno;
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return r;
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) ||
	    size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return -E2BIG;
	ret->filter = malloc((size_t)size);
	if (!ret->filter)
		return -ENOMEM;
	if (pread(fd, ret->filter, (size_t)size, 0) != size) {
		free(ret->filter);
		ret->filter = NULL;
		return -EIO;
	}
	ret->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	return 0;
}

static void ctx_release(scmp_filter_ctx *c)
{
	if (*c)
		seccomp_release(*c);
}

static int common_attrs(scmp_filter_ctx ctx)
{
	int r;

	/* other architectures (i386 via int 0x80) and x32 die */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		return r;
	/* A binary tree over the call numbers instead of one comparison
	 * after another: the same rules, and the kernel's check of the
	 * allow-list at install (it runs the program for every call number
	 * to find those always allowed) takes half the time: 160 us instead
	 * of 340 us of every start.  Calls outside that cache are found in
	 * ~9 comparisons instead of up to ~370.  A libseccomp older than
	 * 2.5 has no such option: its linear program is as strict. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0 && r != -EINVAL && r != -EOPNOTSUPP)
		return r;
	/* no_new_privs is set by us, explicitly, before Landlock */
	return seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
}

static unsigned cache_key(const struct seccomp_opts *o)
{
	return (o->allow_inet ? 1u : 0u) | (o->allow_unix ? 2u : 0u) | (o->kill ? 4u : 0u) |
	       (o->broker ? 8u : 0u) | (o->no_pid_ipc_ns ? 16u : 0u);
}

static int copy_prog(const struct sock_filter *f, unsigned short len, struct seccomp_prog *ret)
{
	ret->filter = malloc(len * sizeof(*f));
	if (!ret->filter)
		return -ENOMEM;
	memcpy(ret->filter, f, len * sizeof(*f));
	ret->len = len;
	return 0;
}

/*
 * Generating BPF with libseccomp costs about a millisecond, most of start-up.
 * The programs that do not depend on [syscalls] lists are generated at build
 * time by this same code (seccomp_gen) and embedded; a unit test checks that
 * they equal what seccomp_generate() makes now.
 */
int seccomp_build(const struct seccomp_opts *o, struct seccomp_prog *ret_deny,
		  struct seccomp_prog *ret_allow, const struct policy_item **ret_bad,
		  const char **ret_why)
{
	*ret_bad = NULL;
	*ret_why = NULL;
	if ((!o->extra_allow || o->extra_allow->n == 0) &&
	    (!o->extra_deny || o->extra_deny->n == 0)) {
		for (size_t i = 0; i < seccomp_cache_n; i++) {
			const struct seccomp_cached *c = &seccomp_cache[i];
			if (c->key != cache_key(o))
				continue;
			int r = copy_prog(c->deny, c->deny_len, ret_deny);
			if (r == 0)
				r = copy_prog(c->allow, c->allow_len, ret_allow);
			if (r < 0)
				seccomp_prog_free(ret_deny);
			return r;
		}
	}
	return seccomp_generate(o, ret_deny, ret_allow, ret_bad, ret_why);
}

/* The policy's [syscalls] names are real calls, and dangerous ones have
 * consent (allow_dangerous); the offending item in *RET_BAD otherwise. */
int seccomp_check_names(const struct seccomp_opts *o, const struct policy_item **ret_bad,
			const char **ret_why)
{
	*ret_bad = NULL;
	*ret_why = NULL;
	for (size_t i = 0; o->extra_allow && i < o->extra_allow->n; i++) {
		const struct policy_item *it = &o->extra_allow->items[i];
		const struct sc_entry *e;
		if (seccomp_syscall_resolve_name(it->value) == __NR_SCMP_ERROR) {
			*ret_bad = it;
			*ret_why = "is not a system call known on this architecture";
			return -EINVAL;
		}
		if (table_lookup(it->value, &e) &&
		    (e->verdict == SC_DENY || e->verdict == SC_ARGS || e->verdict == SC_ENOSYS ||
		     e->verdict == SC_ENOTSUP) &&
		    !o->allow_dangerous && strcmp(it->value, "personality") != 0) {
			*ret_bad = it;
			*ret_why = "is refused by the built-in profile for a reason; allowing it "
				   "also needs "
				   "allow_dangerous = yes";
			return -EPERM;
		}
	}
	for (size_t i = 0; o->extra_deny && i < o->extra_deny->n; i++)
		if (seccomp_syscall_resolve_name(o->extra_deny->items[i].value) ==
		    __NR_SCMP_ERROR) {
			*ret_bad = &o->extra_deny->items[i];
			*ret_why = "is not a system call known on this architecture";
			return -EINVAL;
		}

	return 0;
}

int seccomp_generate(const struct seccomp_opts *o, struct seccomp_prog *ret_deny,
		     struct seccomp_prog *ret_allow, const struct policy_item **ret_bad,
		     const char **ret_why)
{
	_cleanup_(ctx_release) scmp_filter_ctx deny = NULL, allow = NULL;
	const uint32_t refuse = o->kill ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ERRNO(EPERM);
	int r;

	*ret_bad = NULL;
	*ret_why = NULL;
	r = seccomp_check_names(o, ret_bad, ret_why);
	if (r < 0)
		return r;

	deny = seccomp_init(SCMP_ACT_ALLOW);
	allow = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
	if (!deny || !allow)
		return -ENOMEM;
	r = common_attrs(deny);
	if (r == 0)
		r = common_attrs(allow);
	if (r < 0)
		return r;

	for (size_t i = 0; i < seccomp_table_n; i++) {
		const struct sc_entry *e = &seccomp_table[i];
		int nr = seccomp_syscall_resolve_name(e->name);
		bool extra_allow = in_list(o->extra_allow, e->name);
		bool extra_deny = in_list(o->extra_deny, e->name);

		if (nr == __NR_SCMP_ERROR || nr < 0)
			continue; /* not on this architecture (or unknown to this libseccomp) */
		if (e->confine == SC_CONF_SELF && !own_only_listed(e->name))
			return -EINVAL; /* a confinement the table claims must exist */
		if (extra_deny) {
			r = seccomp_rule_add(allow, refuse, nr, 0);
		} else if (extra_allow) {
			r = seccomp_rule_add(allow, SCMP_ACT_ALLOW, nr, 0);
		} else if (e->confine == SC_CONF_IPC_NS && o->no_pid_ipc_ns) {
			/* the host's IPC namespace: its keys and ids are the host's */
			r = seccomp_rule_add(allow, refuse, nr, 0);
		} else {
			switch (e->verdict) {
			case SC_ALLOW:
				r = seccomp_rule_add(allow, SCMP_ACT_ALLOW, nr, 0);
				break;
			case SC_DENY:
				r = seccomp_rule_add(allow, refuse, nr, 0);
				break;
			case SC_ENOTSUP:
				/* as a file system without them answers: tools
				 * that copy attributes go on without */
				r = seccomp_rule_add(allow, SCMP_ACT_ERRNO(EOPNOTSUPP), nr, 0);
				break;
			case SC_ENOSYS:
				/* the allow-list's default already answers ENOSYS (and
				 * libseccomp refuses a rule equal to the default) */
				r = 0;
				break;
			case SC_ARGS:
				r = 0; /* below */
				break;
			case _SC_MAX:
			default:
				return -EINVAL;
			}
		}
		if (r < 0)
			return r;
	}

	/* unshare (CLONE_FILES, CLONE_FS, ...), clone and ioctl: allowed but for
	 * the masked refusals, unless the policy names the call itself */
	for (size_t i = 0; i < ARRAY_SIZE(masked_refusals); i++) {
		const char *name = masked_refusals[i].name;
		int nr = seccomp_syscall_resolve_name(name);
		if (in_list(o->extra_deny, name) || in_list(o->extra_allow, name))
			continue;
		if (i == 0 || strcmp(masked_refusals[i - 1].name, name) != 0) {
			r = seccomp_rule_add(allow, SCMP_ACT_ALLOW, nr, 0);
			if (r < 0)
				return r;
		}
		r = seccomp_rule_add(deny, refuse, nr, 1,
				     SCMP_CMP(masked_refusals[i].arg, SCMP_CMP_MASKED_EQ,
					      masked_refusals[i].mask, masked_refusals[i].value));
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(created_setid); i++) {
		const char *name = created_setid[i].name;
		if (in_list(o->extra_deny, name) || in_list(o->extra_allow, name))
			continue;
		r = seccomp_rule_add(deny, refuse, seccomp_syscall_resolve_name(name), 2,
				     SCMP_CMP(created_setid[i].flags_arg, SCMP_CMP_MASKED_EQ,
					      created_setid[i].create, created_setid[i].create),
				     SCMP_CMP(created_setid[i].mode_arg, SCMP_CMP_MASKED_EQ,
					      created_setid[i].bit, created_setid[i].bit));
		if (r < 0)
			return r;
	}
	for (size_t i = 0; o->no_pid_ipc_ns && i < ARRAY_SIZE(own_only); i++) {
		const char *name = own_only[i].name;
		if (in_list(o->extra_deny, name) || in_list(o->extra_allow, name))
			continue;
		/* all 64 bits: a value the kernel would truncate to VALUE is
		 * refused as well (fails closed) */
		r = seccomp_rule_add(deny, refuse, seccomp_syscall_resolve_name(name), 1,
				     SCMP_CMP(own_only[i].arg, SCMP_CMP_NE, own_only[i].value));
		if (r < 0)
			return r;
	}
	if (!in_list(o->extra_deny, "personality") && !in_list(o->extra_allow, "personality")) {
		for (size_t i = 0; i < ARRAY_SIZE(personality_allowed); i++) {
			r = seccomp_rule_add(allow, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
					     SCMP_A0_64(SCMP_CMP_EQ, personality_allowed[i]));
			if (r < 0)
				return r;
		}
	}
	/* A memfd is on an internal mount Landlock does not govern, and its
	 * mount is not ours to make noexec: sealed non-executable
	 * (MFD_NOEXEC_SEAL, vm.memfd_noexec = 2) it still maps PROT_EXEC, so
	 * `ld.so /proc/self/fd/N` runs any binary written into it.  So
	 * memfd_create is not in the allow-list at all (the table says ENOSYS),
	 * unless the policy's [syscalls] allow names it. */
	/* Unix pairs: a datagram socket sends to whatever address sendto or
	 * sendmsg names, which neither the broker nor Landlock sees; stream and
	 * seqpacket pairs are connected to each other and ignore an address. */
	if (!in_list(o->extra_deny, "socketpair") && !in_list(o->extra_allow, "socketpair")) {
		static const int pair_types[] = {SOCK_STREAM, SOCK_SEQPACKET};
		for (size_t i = 0; i < ARRAY_SIZE(pair_types); i++) {
			r = seccomp_rule_add(
			    allow, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 2,
			    SCMP_A0_64(SCMP_CMP_EQ, AF_UNIX),
			    SCMP_A1_32(SCMP_CMP_MASKED_EQ, 0xf, (uint32_t)pair_types[i]));
			if (r < 0)
				return r;
		}
	}
	if (!in_list(o->extra_deny, "socket") && !in_list(o->extra_allow, "socket")) {
		if (o->allow_unix)
			r = seccomp_rule_add(allow, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
					     SCMP_A0_64(SCMP_CMP_EQ, AF_UNIX));
		else
			r = seccomp_rule_add(allow, refuse, SCMP_SYS(socket), 1,
					     SCMP_A0_64(SCMP_CMP_EQ, AF_UNIX));
		/* Unix datagrams are addressed per sendto/sendmsg, which the
		 * broker does not see: only connected types (socketpair is
		 * another call and reaches nothing).  SOCK_RAW is a datagram
		 * socket to the kernel. */
		for (int t = 0; r == 0 && o->allow_unix && t < 2; t++)
			r = seccomp_rule_add(
			    deny, refuse, SCMP_SYS(socket), 2, SCMP_A0_64(SCMP_CMP_EQ, AF_UNIX),
			    SCMP_A1_32(SCMP_CMP_MASKED_EQ, 0xf, t ? SOCK_RAW : SOCK_DGRAM));
		if (r == 0 && o->allow_inet && !o->broker)
			r = seccomp_rule_add(allow, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
					     SCMP_A0_64(SCMP_CMP_EQ, AF_INET));
		if (r == 0 && o->allow_inet && !o->broker)
			r = seccomp_rule_add(allow, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
					     SCMP_A0_64(SCMP_CMP_EQ, AF_INET6));
		/* the connect broker: TCP stream sockets only (no UDP, raw, SCTP,
		 * MPTCP, ...), whose connect() the supervisor answers */
		for (int fam = 0; r == 0 && o->broker && fam < 2; fam++)
			for (int proto = 0; r == 0 && proto < 2; proto++)
				r = seccomp_rule_add(
				    allow, SCMP_ACT_ALLOW, SCMP_SYS(socket), 3,
				    SCMP_A0_64(SCMP_CMP_EQ, fam ? AF_INET6 : AF_INET),
				    SCMP_A1_32(SCMP_CMP_MASKED_EQ,
					       ~(uint32_t)(SOCK_NONBLOCK | SOCK_CLOEXEC),
					       SOCK_STREAM),
				    SCMP_A2_64(SCMP_CMP_EQ, proto ? IPPROTO_TCP : 0));
		/* interface listing for getaddrinfo(AI_ADDRCONFIG); read-only without
		 * CAP_NET_ADMIN */
		if (r == 0)
			r = seccomp_rule_add(allow, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
					     SCMP_A0_64(SCMP_CMP_EQ, AF_NETLINK),
					     SCMP_A2_64(SCMP_CMP_EQ, NETLINK_ROUTE));
		if (r < 0)
			return r;
	}
	/* TCP fast open connects from sendto/sendmsg, without connect(2): the
	 * broker would never see it (Landlock neither) */
	if (o->broker) {
		static const struct {
			const char *name;
			unsigned arg;
		} fastopen[] = {{"sendto", 3}, {"sendmsg", 2}, {"sendmmsg", 3}};
		for (size_t i = 0; i < ARRAY_SIZE(fastopen); i++) {
			r = seccomp_rule_add(
			    deny, refuse, seccomp_syscall_resolve_name(fastopen[i].name), 1,
			    SCMP_CMP(fastopen[i].arg, SCMP_CMP_MASKED_EQ, (uint32_t)MSG_FASTOPEN,
				     (uint32_t)MSG_FASTOPEN));
			if (r < 0)
				return r;
		}
	}
	/* names outside the table that the policy allows or denies */
	for (size_t i = 0; o->extra_allow && i < o->extra_allow->n; i++) {
		const struct sc_entry *e;
		if (table_lookup(o->extra_allow->items[i].value, &e))
			continue;
		r = seccomp_rule_add(allow, SCMP_ACT_ALLOW,
				     seccomp_syscall_resolve_name(o->extra_allow->items[i].value),
				     0);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; o->extra_deny && i < o->extra_deny->n; i++) {
		const struct sc_entry *e;
		if (table_lookup(o->extra_deny->items[i].value, &e))
			continue;
		r = seccomp_rule_add(
		    allow, refuse, seccomp_syscall_resolve_name(o->extra_deny->items[i].value), 0);
		if (r < 0)
			return r;
	}

	r = export_prog(deny, ret_deny);
	if (r < 0)
		return r;
	r = export_prog(allow, ret_allow);
	if (r < 0) {
		seccomp_prog_free(ret_deny);
		return r;
	}
	return 0;
}

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
 * never stops.
 */
int seccomp_notify_build(bool net, bool trace, bool gate, bool attrs, bool modes,
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
	if (nc + k + m == 0 || nc + k + m + 5 > ARRAY_SIZE(f))
		return -EINVAL;
	/* indices: 0 arch, 1 its check, 2 nr, 3.. compares, then the modes
	 * block, then the open block, then ALLOW, then NOTIFY */
	const size_t allow = 3 + nc + m + k, notify = allow + 1;
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
		if (in_list(extra_deny, calls[i].name))
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
		if (in_list(extra_deny, calls[c].name))
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

void seccomp_prog_free(struct seccomp_prog *p)
{
	free(p->filter);
	p->filter = NULL;
	p->len = 0;
}
