/* SPDX-License-Identifier: MIT */
/*
 * What the broker and the gates read of the caller of a notification and
 * do as it: its fd flags and /proc status, a pidfd for it (kept while its
 * thread lives) and its socket taken through that pidfd, a string from its
 * memory, and this thread's ids and capabilities made the command's for a
 * call the supervisor makes in its stead (broker_as_command()).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "broker_internal.h"

int broker_fd_flags(pid_t pid, int fd)
{
	char path[64], text[256];
	const char *f;
	ssize_t n;
	int dfd;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	dfd = open(path, O_RDONLY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	n = read(dfd, text, sizeof(text) - 1);
	close(dfd);
	if (n <= 0)
		return -EIO;
	text[n] = '\0';
	f = strstr(text, "\nflags:");
	return f ? (int)strtoul(f + 7, NULL, 8) : -EIO;
}

/* Linux 6.9's flag (O_EXCL) for a pidfd naming one thread; Debian 12's
 * headers predate it.  Drop this when they have it. */
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* The number after FIELD ("Tgid:") in /proc/TID/status, in BASE; -errno. */
long broker_status_field(pid_t tid, const char *field, int base)
{
	char path[64], line[128];
	size_t n = strlen(field);
	long v = -ESRCH;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0) {
			v = strtol(line + n, NULL, base);
			break;
		}
	fclose(f);
	return v;
}

/* The thread group a thread id belongs to, from /proc/TID/status. */
pid_t broker_thread_group(pid_t tid)
{
	long tgid = broker_status_field(tid, "Tgid:", 10);

	return tgid > 0 ? (pid_t)tgid : tgid < 0 ? (pid_t)tgid : -ESRCH;
}

/*
 * A pidfd for the caller.  A notification names the calling thread, and
 * pidfd_open() refuses any thread id but a thread group leader's unless
 * PIDFD_THREAD asks for that very thread (its fd table is the one the fd
 * number means).  Kernels before 6.9 lack the flag: there the thread group
 * is looked up, whose fd table every thread shares unless it was cloned
 * without CLONE_FILES; for such a thread the socket judged may be another,
 * which gains nothing: the one it really holds is connected by the kernel
 * only after the checks below, and Landlock refuses every TCP connect.
 * The notification is checked to be alive after the lookup (see below), so
 * the thread id was not reused meanwhile.  -errno on failure.
 */
int broker_caller_pidfd(pid_t tid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	pid_t tgid;

	if (pidfd >= 0)
		return pidfd;
	if (errno != EINVAL)
		return -errno;
	tgid = broker_thread_group(tid);
	if (tgid < 0)
		return (int)tgid;
	pidfd = (int)syscall(SYS_pidfd_open, tgid, 0);
	return pidfd >= 0 ? pidfd : -errno;
}

/*
 * The caller's socket FD, taken with pidfd_getfd: -errno on failure
 * (-EBADF: no such fd).  Pidfds naming one thread (PIDFD_THREAD) are kept
 * while their thread lives, so that a command that connects again and
 * again does not cost an open and a close each time.  A kept pidfd names
 * the very thread it was opened for, never its number: once that thread
 * has ended, pidfd_getfd fails with ESRCH whatever now has the number,
 * and a new pidfd is opened; the notification is checked to be alive
 * after the caller's memory is read, as with a new one.  Group pidfds
 * (kernels before 6.9) are never kept: one found through a thread's
 * number may outlive that thread while its group goes on.
 */
#define PIDFD_KEPT 16
static struct {
	pid_t tid;
	int fd;
} kept[PIDFD_KEPT];
static unsigned kept_next;

static void kept_drop(size_t i)
{
	if (kept[i].tid > 0)
		close(kept[i].fd);
	kept[i].tid = 0;
	kept[i].fd = -1;
}

int broker_caller_getfd(pid_t tid, int fd)
{
	int pidfd, sock;

	for (size_t i = 0; i < PIDFD_KEPT; i++) {
		if (kept[i].tid != tid || tid <= 0)
			continue;
		sock = (int)syscall(SYS_pidfd_getfd, kept[i].fd, fd, 0);
		if (sock >= 0 || errno != ESRCH)
			return sock >= 0 ? sock : -errno;
		kept_drop(i); /* that thread has ended: the number is another's */
		break;
	}
	pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (pidfd >= 0) {
		size_t i = kept_next++ % PIDFD_KEPT;
		kept_drop(i);
		kept[i].tid = tid;
		kept[i].fd = pidfd;
		sock = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
		return sock >= 0 ? sock : -errno;
	}
	pidfd = broker_caller_pidfd(tid);
	if (pidfd < 0)
		return pidfd == -EBADF ? -EACCES : pidfd;
	sock = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	sock = sock >= 0 ? sock : -errno;
	close(pidfd);
	return sock;
}

/* A NUL-terminated string from the caller's memory, page by page (a
 * string that ends just before an unmapped page must still be read). */
int broker_read_string(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	size_t off = 0;

	if (!addr)
		return -EFAULT;
	while (off < size - 1) {
		size_t chunk = 4096 - ((addr + off) & 4095);
		if (chunk > size - 1 - off)
			chunk = size - 1 - off;
		struct iovec l = {.iov_base = buf + off, .iov_len = chunk};
		struct iovec r = {.iov_base = (void *)(uintptr_t)(addr + off), .iov_len = chunk};
		ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);
		if (n <= 0)
			return -EFAULT;
		if (memchr(buf + off, '\0', (size_t)n))
			return 0;
		off += (size_t)n;
	}
	return -ENAMETOOLONG;
}

/* Lowers (ENTER) or restores this thread's effective capabilities: the
 * command holds none (privdrop.c), so what the supervisor does for it as
 * its own user must not either.  Found by an outside review: as root with
 * run_as = root the file gate wrote a 0444 file and another user's file
 * with CAP_DAC_OVERRIDE the command had dropped. */
static int caps_effective(bool lower)
{
	/* read once: the supervisor never changes its own capabilities
	 * after start (only the command's are dropped, in privdrop.c), and
	 * every connect of the command comes through here */
	static struct __user_cap_data_struct saved[_LINUX_CAPABILITY_U32S_3];
	static bool have_saved;
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (lower) {
		if (!have_saved && syscall(SYS_capget, &h, saved) < 0)
			return -errno;
		have_saved = true;
		memcpy(d, saved, sizeof(d));
		for (size_t i = 0; i < ARRAY_SIZE(d); i++)
			d[i].effective = 0;
		return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
	}
	if (syscall(SYS_capset, &h, saved) < 0)
		die("cannot restore the supervisor's capabilities: %s", strerror(errno));
	return 0;
}

/* Switches this thread's effective ids to the command's (raw system calls:
 * glibc's wrappers would change every thread's), and back; where the
 * command runs as our own user, only the effective capabilities go. */
int broker_as_command(const struct sandbox *sb, bool enter)
{
	static gid_t saved_groups[NGROUPS_MAX];
	static int n_saved = -1;

	if (!sb->drop_to_user)
		return caps_effective(enter);
	if (enter) {
		n_saved = getgroups(NGROUPS_MAX, saved_groups);
		if (n_saved < 0 || syscall(SYS_setgroups, (size_t)sb->n_groups, sb->groups) < 0 ||
		    syscall(SYS_setresgid, -1, sb->gid, -1) < 0 ||
		    syscall(SYS_setresuid, -1, sb->uid, -1) < 0) {
			int e = errno;
			(void)broker_as_command(sb, false);
			return -e;
		}
		return 0;
	}
	/* the real and saved ids stayed ours: going back is always allowed */
	if (syscall(SYS_setresuid, -1, getuid(), -1) < 0 ||
	    syscall(SYS_setresgid, -1, getgid(), -1) < 0 ||
	    (n_saved >= 0 && syscall(SYS_setgroups, (size_t)n_saved, saved_groups) < 0))
		die("cannot return to the supervisor's own ids: %s", strerror(errno));
	return 0;
}

int broker_read_addr(pid_t pid, uint64_t uaddr, size_t *alen, struct sockaddr_storage *ss)
{
	if (*alen > sizeof(*ss))
		*alen = sizeof(*ss);
	struct iovec local = {.iov_base = ss, .iov_len = *alen};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)uaddr, .iov_len = *alen};
	if (*alen < sizeof(sa_family_t))
		return -EINVAL;
	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)*alen)
		return -EFAULT;
	return 0;
}
