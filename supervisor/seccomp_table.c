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
#include <linux/fscrypt.h>
#include <linux/fsverity.h>
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

#include "seccomp_internal.h"

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

STRING_TABLE_BEGIN
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
    P("fcntl", "io", "fd flags and locks; leases refused (they stall others' opens)",
      SC_CONF_SCOPE),
    A("flock", "io", "advisory locks"),
    {"ioctl", SC_ARGS, "io",
     "terminals and devices; refused: TIOCSTI, TIOCLINUX (typing), TIOCSETD, TCXONC, "
     "TIOCEXCL (a terminal left dead), chattr, fscrypt, fs-verity settings",
     SC_CONF_SCOPE},
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
STRING_TABLE_END
const size_t seccomp_table_n = ARRAY_SIZE(seccomp_table);

/*
 * Refused by argument, in the deny filter: the call is otherwise allowed.
 * Each rule is (arg & mask) == value, with the mask no wider than the
 * kernel's view of the argument: clone's and unshare's flags and ioctl's
 * request are 32-bit there, so high bits set by a caller change nothing.
 */
STRING_TABLE_BEGIN
const struct sc_masked seccomp_masked[] = {
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
    /* a terminal's line discipline: where the kernel loads them on
     * demand (dev.tty.ldisc_autoload, modules), any of them, each a
     * body of kernel code no terminal of the sandbox needs; and N_NULL
     * on a terminal passed in leaves it dead for the host after the run */
    {"ioctl", 1, 0xffffffffULL, TIOCSETD},
    /* a terminal's output stopped (tcflow TCOOFF, with IXON cleared so
     * that no ^Q starts it), or made exclusive (every later open of it
     * fails but root's): the operator's terminal left dead after the run
     * (an outside review).  No TUI needs either */
    {"ioctl", 1, 0xffffffffULL, TCXONC},
    {"ioctl", 1, 0xffffffffULL, TIOCEXCL},
    /* a file lease: the owner of a file (root owns the host's, run as
     * root without run_as) holding one makes every other open of it, a
     * read too, wait up to lease-break-time (45 s) for the holder, who
     * can take it again after each break: the host's own programs
     * stalled on /etc/ld.so.cache or ~/.gitconfig.  Without one to set,
     * none needs releasing: F_SETLEASE is refused whatever its argument
     * (fcntl's command is 32-bit in the kernel) */
    {"fcntl", 1, 0xffffffffULL, F_SETLEASE},
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
    /* a file system's encryption and integrity, taken on the owner's
     * word alone on a file or an empty directory it may only read
     * (Landlock has no right for them, and without a mount namespace
     * nothing else refuses them outside the write grants): a directory of
     * the host's given a policy takes no new file without its key (an
     * empty .git/refs/tags: the host's `git tag` then fails, "Required
     * key not available"); a file given fs-verity is read-only for good;
     * the host's own keys removed lock its encrypted directories.  No
     * command of the sandbox needs to set up fscrypt or fs-verity */
    {"ioctl", 1, 0xffffffffULL, FS_IOC_SET_ENCRYPTION_POLICY},
    {"ioctl", 1, 0xffffffffULL, FS_IOC_ADD_ENCRYPTION_KEY},
    {"ioctl", 1, 0xffffffffULL, FS_IOC_REMOVE_ENCRYPTION_KEY},
    {"ioctl", 1, 0xffffffffULL, FS_IOC_REMOVE_ENCRYPTION_KEY_ALL_USERS},
    {"ioctl", 1, 0xffffffffULL, FS_IOC_ENABLE_VERITY},
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
STRING_TABLE_END
const size_t seccomp_masked_n = ARRAY_SIZE(seccomp_masked);

/* The same for a file made by open and openat with O_CREAT or O_TMPFILE:
 * refused when (flags & create) == create and (mode & bit) == bit. */
STRING_TABLE_BEGIN
const struct sc_setid seccomp_created_setid[] = {
    {"open", 1, 2, O_CREAT, S_ISUID},	    {"open", 1, 2, O_CREAT, S_ISGID},
    {"open", 1, 2, __O_TMPFILE, S_ISUID},   {"open", 1, 2, __O_TMPFILE, S_ISGID},
    {"openat", 2, 3, O_CREAT, S_ISUID},	    {"openat", 2, 3, O_CREAT, S_ISGID},
    {"openat", 2, 3, __O_TMPFILE, S_ISUID}, {"openat", 2, 3, __O_TMPFILE, S_ISGID},
};
STRING_TABLE_END
const size_t seccomp_created_setid_n = ARRAY_SIZE(seccomp_created_setid);
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
STRING_TABLE_BEGIN
const struct sc_own seccomp_own_only[] = {
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
STRING_TABLE_END
const size_t seccomp_own_only_n = ARRAY_SIZE(seccomp_own_only);

bool seccomp_own_only_listed(const char *name)
{
	for (size_t i = 0; i < seccomp_own_only_n; i++)
		if (strcmp(seccomp_own_only[i].name, name) == 0)
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
const unsigned long seccomp_personality_allowed[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};
const size_t seccomp_personality_allowed_n = ARRAY_SIZE(seccomp_personality_allowed);

bool seccomp_table_lookup(const char *name, const struct sc_entry **ret)
{
	for (size_t i = 0; i < seccomp_table_n; i++)
		if (strcmp(seccomp_table[i].name, name) == 0) {
			*ret = &seccomp_table[i];
			return true;
		}
	return false;
}
