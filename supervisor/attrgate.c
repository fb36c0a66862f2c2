/* SPDX-License-Identifier: MIT */
/*
 * The attribute gate: without a mount namespace, the calls that change a
 * file's mode, owner, times or extended attributes are made by the
 * supervisor, and only on what the write grants cover; with one, the
 * modes that would make a repository's object writable are refused.
 *
 * Why.  Landlock has no right for them: chmod, chown, utimensat and setxattr
 * need only that the caller own the file (or, for times, may write it), and
 * a command started as root owns the host's root-owned files.  Unchecked, a
 * command could make /etc/passwd world-writable for the host's other users,
 * or a user's ~/.bashrc writable by others.  With a mount namespace every
 * mount but the write grants is read-only (sandbox/mounts_grants.c) and refuses
 * them (EROFS); these calls then never stop here.  Without one they stop in
 * the supervisor (seccomp user notifications, on the listener the connect
 * broker and the file gate use), and:
 *
 *  - the target is opened once, O_PATH, in the caller's view (its root,
 *    cwd or dirfd through /proc/PID, the path beneath resolved with the
 *    command's ids and no magic link followed: ELOOP), or, for the
 *    fd-taking calls, through /proc/PID/fd/N, while the notification is
 *    known alive (so PID and its fds were the caller's);
 *  - its name, as the kernel gives it for that open file and looked up
 *    again to the same object on the same mount, is judged: a file
 *    Landlock would let the command write (landlock_plan_allows, carve-outs
 *    first: protect's paths are refused), a directory it may make entries
 *    in, an entry the file gate keeps and would make (fsgate.c), a FIFO or
 *    socket in a directory the command may make entries in; a file removed
 *    by the name it had; never a device node (the host's own: /dev/null
 *    and the terminal are write grants); a pipe or socket with no name
 *    passes.  Anything else: EROFS, as the read-only mount answers with
 *    namespaces;
 *  - what passes is made by the supervisor on that very fd (never CONTINUE:
 *    the kernel would read the path or the fd number again, and a thread
 *    of the caller could have swapped either), with the command's user,
 *    groups and no capability (broker_as_command).  A set-user-ID or
 *    set-group-ID mode, or one giving other users write, never gets here:
 *    seccomp refuses it first; so are extended attributes set (an ACL could
 *    name another user), unless the policy's [syscalls] allow names those
 *    calls: then they are judged here as the others;
 *  - a mode making a file of a repository's object store writable is
 *    refused: it would let the command rewrite the host's object in
 *    place, under its name (makes_object_writable()).
 *
 * With namespaces (sb->modegate, where a write grant is a repository or
 * holds one the walk at start found)
 * only that last rule is needed, the read-only mounts doing the rest: the
 * notification filter stops only the chmod calls whose mode gives a write
 * bit or takes the owner's read (seccomp.c), and what passes is made on
 * the fd opened in the command's view, on the sandbox's own mount of the
 * file (a read-only one answers EROFS itself).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include "gitobj.h"
#include "supervisor.h"

#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif

enum attr_op {
	ATTR_MODE,
	ATTR_OWNER,
	ATTR_TIMES,
	ATTR_SETXATTR,
	ATTR_REMOVEXATTR,
};

/* One call's shape: which argument is what. */
struct attr_call {
	int nr;
	enum attr_op op;
	signed char fd;	   /* the fd argument (fchmod ...), or -1 */
	signed char dir;   /* the dirfd argument, or -1 (AT_FDCWD) */
	signed char path;  /* the path argument, or -1 */
	signed char flags; /* the AT_* flags argument, or -1 */
	bool nofollow;	   /* lchown, lsetxattr, lremovexattr */
	signed char arg;   /* mode, uid, times or xattr name */
};

static const struct attr_call attr_calls[] = {
    {__NR_chmod, ATTR_MODE, -1, -1, 0, -1, false, 1},
    {__NR_fchmod, ATTR_MODE, 0, -1, -1, -1, false, 1},
    {__NR_fchmodat, ATTR_MODE, -1, 0, 1, -1, false, 2},
    {__NR_fchmodat2, ATTR_MODE, -1, 0, 1, 3, false, 2},
    {__NR_chown, ATTR_OWNER, -1, -1, 0, -1, false, 1},
    {__NR_lchown, ATTR_OWNER, -1, -1, 0, -1, true, 1},
    {__NR_fchown, ATTR_OWNER, 0, -1, -1, -1, false, 1},
    {__NR_fchownat, ATTR_OWNER, -1, 0, 1, 4, false, 2},
    {__NR_utime, ATTR_TIMES, -1, -1, 0, -1, false, 1},
    {__NR_utimes, ATTR_TIMES, -1, -1, 0, -1, false, 1},
    {__NR_futimesat, ATTR_TIMES, -1, 0, 1, -1, false, 2},
    {__NR_utimensat, ATTR_TIMES, -1, 0, 1, 3, false, 2},
    {__NR_setxattr, ATTR_SETXATTR, -1, -1, 0, -1, false, 1},
    {__NR_lsetxattr, ATTR_SETXATTR, -1, -1, 0, -1, true, 1},
    {__NR_fsetxattr, ATTR_SETXATTR, 0, -1, -1, -1, false, 1},
    {__NR_removexattr, ATTR_REMOVEXATTR, -1, -1, 0, -1, false, 1},
    {__NR_lremovexattr, ATTR_REMOVEXATTR, -1, -1, 0, -1, true, 1},
    {__NR_fremovexattr, ATTR_REMOVEXATTR, 0, -1, -1, -1, false, 1},
};

/* The three utime calls' time arguments, read from the caller as the
 * timespec pair utimensat takes; *RET_NULL: none given (now). */
static int read_times(pid_t pid, int nr, uint64_t addr, struct timespec ts[2], bool *ret_null)
{
	union {
		struct utimbuf ub;
		struct timeval tv[2];
		struct timespec ts[2];
	} u;
	size_t len = nr == __NR_utime	    ? sizeof(u.ub)
		     : nr == __NR_utimensat ? sizeof(u.ts)
					    : sizeof(u.tv);
	struct iovec local = {.iov_base = &u, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};

	*ret_null = addr == 0;
	if (!addr)
		return 0;
	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
		return -EFAULT;
	if (nr == __NR_utime) {
		ts[0] = (struct timespec){.tv_sec = u.ub.actime};
		ts[1] = (struct timespec){.tv_sec = u.ub.modtime};
	} else if (nr == __NR_utimensat) {
		ts[0] = u.ts[0];
		ts[1] = u.ts[1];
	} else {
		for (int i = 0; i < 2; i++) {
			if (u.tv[i].tv_usec < 0 || u.tv[i].tv_usec >= 1000000)
				return -EINVAL;
			ts[i] = (struct timespec){.tv_sec = u.tv[i].tv_sec,
						  .tv_nsec = u.tv[i].tv_usec * 1000};
		}
	}
	return 0;
}

/* N when PATH is "/proc/self/fd/N" or "/proc/thread-self/fd/N" as the
 * kernel reads a fd's name there (digits, no leading zero), else -1. */
static int own_fd_path(const char *path)
{
	static const char *const dirs[] = {"/proc/self/fd/", "/proc/thread-self/fd/"};
	const char *d = NULL;
	long n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(dirs) && !d; i++)
		if (strncmp(path, dirs[i], strlen(dirs[i])) == 0)
			d = path + strlen(dirs[i]);
	if (!d || !*d || (d[0] == '0' && d[1]) || strlen(d) > 9)
		return -1;
	for (; *d; d++) {
		if (*d < '0' || *d > '9')
			return -1;
		n = n * 10 + (*d - '0');
	}
	return (int)n;
}

/* The relative PATH (PATH_MAX bytes) made absolute from the name its
 * directory (DIRFD, or the cwd) of PID has in the command's root; 0 or
 * -errno. */
static int absolute_in_root(pid_t pid, int dirfd, char *path)
{
	static const char deleted[] = " (deleted)";
	char p[64], dir[PATH_MAX], full[PATH_MAX];

	if (dirfd == AT_FDCWD)
		snprintf(p, sizeof(p), "/proc/%d/cwd", pid);
	else
		snprintf(p, sizeof(p), "/proc/%d/fd/%d", pid, dirfd);
	ssize_t n = readlink(p, dir, sizeof(dir) - 1);
	if (n <= 0)
		return n < 0 && errno != ENOENT ? -errno : -EBADF;
	dir[n] = '\0';
	if (dir[0] != '/' || ((size_t)n >= sizeof(deleted) - 1 &&
			      strcmp(dir + n - (sizeof(deleted) - 1), deleted) == 0))
		return -ENOENT;
	if ((size_t)snprintf(full, sizeof(full), "%s/%s", dir, path) >= sizeof(full))
		return -ENAMETOOLONG;
	memcpy(path, full, sizeof(full));
	return 0;
}

/* PATH opened O_PATH beneath the caller's root (absolute), its cwd or
 * its DIRFD, with the command's ids; FOLLOW: a final symlink is
 * followed.  The fd, or -errno. */
static int open_beneath(const struct sandbox *sb, pid_t pid, int dirfd, const char *path,
			bool follow)
{
	char p[64];
	int base, fd, r;

	if (path[0] == '/')
		snprintf(p, sizeof(p), "/proc/%d/root", pid);
	else if (dirfd == AT_FDCWD)
		snprintf(p, sizeof(p), "/proc/%d/cwd", pid);
	else
		snprintf(p, sizeof(p), "/proc/%d/fd/%d", pid, dirfd);
	base = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (base < 0)
		return errno == ENOENT ? -EBADF : -errno;
	/* No magic link is followed: resolved here, /proc/self, /dev/fd and
	 * /dev/stdout would be the supervisor's, and /proc/PID/fd or root of
	 * another process would open, with our rights, what the command's
	 * Landlock domain keeps it from (ptrace access).  The caller's root is
	 * ours (no mount namespace; chroot is refused): an absolute path is
	 * resolved from / as given; another root, in it. */
	struct stat rs, ours;
	bool same_root = sb->ns == NS_NONE &&
			 (path[0] != '/' || (fstat(base, &rs) == 0 && stat("/", &ours) == 0 &&
					     rs.st_dev == ours.st_dev && rs.st_ino == ours.st_ino));
	struct open_how how = {.flags = O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW),
			       .resolve =
				   RESOLVE_NO_MAGICLINKS | (same_root ? 0 : RESOLVE_IN_ROOT)};
	r = broker_as_command(sb, true);
	if (r < 0) {
		close(base);
		return r;
	}
	fd = (int)syscall(SYS_openat2, base, path, &how, sizeof(how));
	r = fd < 0 ? -errno : fd;
	(void)broker_as_command(sb, false);
	close(base);
	return r;
}

/* The object the call names, opened O_PATH in the caller's view; -errno
 * is the call's own answer (the kernel's would be the same, but for a
 * path through a magic link: ELOOP).  Its fds, cwd and root are the
 * caller's, opened through /proc/PID; the path beneath them is resolved
 * with the command's ids (SB): a directory it may not search stays shut. */
static int open_target(const struct sandbox *sb, const struct seccomp_notif *req,
		       const struct attr_call *c)
{
	pid_t pid = req->pid;
	char p[64], path[PATH_MAX];
	int flags = c->flags >= 0 ? (int)req->data.args[c->flags] : 0;
	int dirfd = c->dir >= 0 ? (int)req->data.args[c->dir] : AT_FDCWD;
	bool follow = !c->nofollow && !(flags & AT_SYMLINK_NOFOLLOW);
	int fd, r;

	bool by_fd = c->fd >= 0 || (c->path >= 0 && c->dir >= 0 && req->data.args[c->path] == 0 &&
				    (c->nr == __NR_utimensat || c->nr == __NR_futimesat));

	/* the flags the kernel takes, and no other (it answers EINVAL) */
	if (c->flags >= 0 &&
	    (req->data.args[c->flags] & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) ||
	     (by_fd && req->data.args[c->flags])))
		return -EINVAL;
	if (by_fd) {
		/* an fd (utimensat and futimesat with no path: their dirfd):
		 * the open file's own object; one opened O_PATH is no file to
		 * change through (the kernel answers EBADF) */
		int n = c->fd >= 0 ? (int)req->data.args[c->fd] : dirfd;
		int fl = n < 0 ? -EBADF : broker_fd_flags(pid, n);
		if (n < 0 || (fl > 0 && (fl & O_PATH)))
			return -EBADF;
		snprintf(p, sizeof(p), "/proc/%d/fd/%d", pid, n);
		fd = open(p, O_PATH | O_CLOEXEC);
		return fd < 0 ? (errno == ENOENT ? -EBADF : -errno) : fd;
	}
	r = broker_read_string(pid, req->data.args[c->path], path, sizeof(path));
	if (r < 0)
		return r;
	/* glibc's fchmodat(AT_SYMLINK_NOFOLLOW) (lchmod, `chmod -h`, tar as
	 * root) opens the file O_PATH and changes it through
	 * /proc/self/fd/N: that spelling, exactly, names the caller's own fd
	 * N, opened as for the fd-taking calls (an O_PATH one too: the
	 * kernel follows the link to the object).  Any other way through a
	 * magic link stays ELOOP below. */
	int self = follow ? own_fd_path(path) : -1;
	if (self >= 0) {
		snprintf(p, sizeof(p), "/proc/%d/fd/%d", pid, self);
		fd = open(p, O_PATH | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	if (!path[0]) {
		if (!(flags & AT_EMPTY_PATH))
			return -ENOENT;
		if (dirfd == AT_FDCWD)
			snprintf(p, sizeof(p), "/proc/%d/cwd", pid);
		else
			snprintf(p, sizeof(p), "/proc/%d/fd/%d", pid, dirfd);
		fd = open(p, O_PATH | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	/* With namespaces every path is resolved in the command's root
	 * (RESOLVE_IN_ROOT below), a relative one from its directory's name
	 * there: the kernel gives a name from the root of the mount
	 * namespace it is in.  openat2 would resolve an absolute link met on
	 * the way from the supervisor's root, in the host's view, past the
	 * sandbox's mounts (its root may be the host's own inode).  A
	 * directory renamed meanwhile makes this another name the command
	 * could have given. */
	if (sb->ns != NS_NONE && path[0] != '/') {
		r = absolute_in_root(pid, dirfd, path);
		if (r < 0)
			return r;
	}
	return open_beneath(sb, pid, dirfd, path, follow);
}

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x1000U
#endif

/* Whether the name NAME, looked up again here, is the object FD (ST, on
 * the mount MNT): a name from another mount namespace (a process's
 * /proc/PID/root) or one renamed meanwhile is not the object's. */
static bool name_is(const char *name, const struct stat *st, uint64_t mnt)
{
	struct statx sx;

	return statx(AT_FDCWD, name, AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_MNT_ID, &sx) == 0 &&
	       (sx.stx_mask & STATX_MNT_ID) && sx.stx_mnt_id == mnt && sx.stx_ino == st->st_ino &&
	       makedev(sx.stx_dev_major, sx.stx_dev_minor) == st->st_dev;
}

/* Whether the command may change the object FD names: a file it may write,
 * a directory it may make entries in, an entry the file gate would make,
 * a FIFO or socket in a directory it may make entries in.  Never a device
 * (the host's own nodes: /dev/null and the terminal are write grants).
 * PATH gets the name (for the refusal). */
static bool may_change(const struct sandbox *sb, int fd, char *path, size_t size)
{
	static const char deleted[] = " (deleted)";
	char self[64], parent[PATH_MAX];
	struct stat st, pst;
	struct statx sx;
	ssize_t n;
	size_t l;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	n = readlink(self, path, size - 1);
	if (n <= 0 || fstat(fd, &st) < 0 || statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0 ||
	    !(sx.stx_mask & STATX_MNT_ID)) {
		snprintf(path, size, "(a name too long to judge)");
		return false;
	}
	path[n] = '\0';
	/* a pipe, a socket, an anonymous inode: on no filesystem the host
	 * sees */
	if (path[0] != '/')
		return !S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode);
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
		return false;
	/* a file removed (or made with O_TMPFILE): judged by the name it had,
	 * and its directory must still be where that name says */
	l = strlen(path);
	bool gone = st.st_nlink == 0 && l > sizeof(deleted) - 1 &&
		    strcmp(path + l - (sizeof(deleted) - 1), deleted) == 0;
	if (gone)
		path[l - (sizeof(deleted) - 1)] = '\0';
	char *slash = strrchr(path, '/');
	if (!slash || !slash[1])
		return S_ISDIR(st.st_mode) && !gone && name_is(path, &st, sx.stx_mnt_id) &&
		       landlock_plan_allows(&sb->plan, path, LL_FS_MAKE_REG);
	snprintf(parent, sizeof(parent), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (stat(parent, &pst) < 0)
		return false;
	if (gone) {
		struct statx px;
		if (statx(AT_FDCWD, parent, 0, STATX_MNT_ID, &px) < 0 ||
		    px.stx_mnt_id != sx.stx_mnt_id)
			return false;
	} else if (!name_is(path, &st, sx.stx_mnt_id)) {
		return false;
	}
	/* the private temporary directory (init makes it and its rule) */
	if (sb->private_tmp_dir && landlock_path_beneath(path, sb->private_tmp_dir))
		return true;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
		/* a FIFO or socket granted alone: a host daemon's, maybe */
		return landlock_plan_allows(&sb->plan, parent, LL_FS_MAKE_REG) ||
		       fsgate_dir_may_change(sb, &pst);
	if (landlock_plan_allows(&sb->plan, path,
				 S_ISDIR(st.st_mode) ? LL_FS_MAKE_REG : LL_FS_WRITE_FILE) ||
	    (S_ISDIR(st.st_mode) && fsgate_dir_may_change(sb, &st)))
		return true;
	/* an entry of a directory the file gate keeps (a new file at the top
	 * of a project), judged as the gate judges its names */
	return fsgate_may_change(sb, &pst, slash + 1);
}

static void refused(const struct sandbox *sb, const struct attr_call *c, const char *path,
		    pid_t pid, const char *why)
{
	static unsigned said;
	static const char *const what[][2] = {
	    [ATTR_MODE] = {"mode", "mode"},
	    [ATTR_OWNER] = {"owner", "owner"},
	    [ATTR_TIMES] = {"times", "times"},
	    [ATTR_SETXATTR] = {"extended attributes", "xattr"},
	    [ATTR_REMOVEXATTR] = {"extended attributes", "xattr"},
	};
	char js[PATH_MAX + 64];

	if (said++ < 8)
		warn("refused changing the %s of %s: %s", what[c->op][0], path, why);
	if (audit_rate_ok(sb->audit_fd)) {
		json_string(js, sizeof(js), path);
		audit_event(sb->audit_fd, "fs.deny",
			    "\"access\":\"%s\",\"path\":%s,\"caller\":%u,\"key\":null,"
			    "\"value\":null,\"reason\":\"%s\"",
			    what[c->op][1], js, pid, why);
	}
}

/* What the call gives besides its target, read from the caller's memory
 * once, before the notification is checked alive (after, the pid could be
 * another process's, whose memory would go into a file's times or xattr). */
struct attr_args {
	char name[XATTR_NAME_MAX + 1];
	void *value;
	size_t size;
	struct timespec ts[2];
	bool now;
};

static int read_args(const struct seccomp_notif *req, const struct attr_call *c,
		     struct attr_args *x)
{
	const __u64 *a = req->data.args;
	int r = 0;

	switch (c->op) {
	case ATTR_MODE:
	case ATTR_OWNER:
		break;
	case ATTR_TIMES:
		r = read_times(req->pid, c->nr, a[c->arg], x->ts, &x->now);
		break;
	case ATTR_SETXATTR:
	case ATTR_REMOVEXATTR:
		r = broker_read_string(req->pid, a[c->arg], x->name, sizeof(x->name));
		if (r == -ENAMETOOLONG)
			r = -ERANGE;
		if (r < 0 || c->op == ATTR_REMOVEXATTR)
			break;
		x->size = (size_t)a[c->arg + 2];
		if (x->size > XATTR_SIZE_MAX)
			return -E2BIG;
		x->value = malloc(x->size ? x->size : 1);
		if (!x->value)
			return -ENOMEM;
		struct iovec local = {.iov_base = x->value, .iov_len = x->size};
		struct iovec remote = {.iov_base = (void *)(uintptr_t)a[c->arg + 1],
				       .iov_len = x->size};
		if (x->size &&
		    process_vm_readv(req->pid, &local, 1, &remote, 1, 0) != (ssize_t)x->size)
			r = -EFAULT;
		break;
	}
	return r < 0 ? r : 0;
}

/* The call made on FD, as the command. */
static int act(const struct sandbox *sb, const struct seccomp_notif *req, const struct attr_call *c,
	       int fd, const struct attr_args *x)
{
	const __u64 *a = req->data.args;
	char p[64];
	int r = broker_as_command(sb, true);

	if (r < 0)
		return r;
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	switch (c->op) {
	case ATTR_MODE:
		if (a[c->arg] & (S_ISUID | S_ISGID))
			r = -EPERM; /* seccomp's already; never ours to make */
		else
			r = syscall(__NR_fchmodat2, fd, "", (mode_t)a[c->arg] & 07777,
				    AT_EMPTY_PATH) < 0
				? -errno
				: 0;
		break;
	case ATTR_OWNER:
		r = fchownat(fd, "", (uid_t)a[c->arg], (gid_t)a[c->arg + 1], AT_EMPTY_PATH) < 0
			? -errno
			: 0;
		break;
	case ATTR_TIMES:
		r = utimensat(fd, "", x->now ? NULL : x->ts, AT_EMPTY_PATH) < 0 ? -errno : 0;
		break;
	case ATTR_SETXATTR:
		/* through the magic link: it names the object itself (a
		 * symlink's own xattrs, l*, are refused for user.* anyway) */
		r = setxattr(p, x->name, x->value, x->size, (int)a[c->arg + 3]) < 0 ? -errno : 0;
		break;
	case ATTR_REMOVEXATTR:
		r = removexattr(p, x->name) < 0 ? -errno : 0;
		break;
	}
	(void)broker_as_command(sb, false);
	return r;
}

/*
 * Whether the call makes a file of a repository's object store writable:
 * gives a write bit it lacks, takes its owner's read away (from there,
 * the next mode could not be judged: a file that cannot be read cannot be
 * told apart), or sets or removes its access ACL (which is its mode).
 * git makes every object and pack read-only and never gives one write
 * back; a command that does means to rewrite the host's object in its own
 * inode, under its name, which the end of the run does not see (gitobj.c:
 * it hashes what was made or renamed, and what it read at the start).
 * Without a write bit the owner cannot open it to write (the command has
 * no capability).  The file is told by its content (gitobj_file_stored()),
 * read through FD: a hard link gives it any name (`ln
 * .git/objects/ab/cd... .git/refs/x`), and any directory.  One that cannot
 * be read counts as one (a write lease the command took answers
 * EWOULDBLOCK), but for one its owner may not read: no git reads it as an
 * object (the supervisor runs as that owner, or as root).
 */
static bool makes_object_writable(const struct seccomp_notif *req, const struct attr_call *c,
				  int fd, const struct attr_args *x)
{
	char p[64];
	struct stat st;
	mode_t mode = (mode_t)req->data.args[c->arg];

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	switch (c->op) {
	case ATTR_MODE:
		if (!((mode & 0222 & ~st.st_mode) || ((st.st_mode & 0400) && !(mode & 0400))))
			return false;
		break;
	case ATTR_SETXATTR:
	case ATTR_REMOVEXATTR:
		if (strcmp(x->name, "system.posix_acl_access") != 0)
			return false;
		break;
	case ATTR_OWNER:
	case ATTR_TIMES:
		return false;
	}
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	_cleanup_close_ int rd = open(p, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (rd < 0)
		return errno != EACCES;
	int r = gitobj_file_stored(rd);
	return r != 0 && r != -EACCES;
}

/* The name the kernel gives the object FD, for what is said. */
static void name_of(int fd, char *path, size_t size)
{
	char self[64];
	ssize_t n;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	n = readlink(self, path, size - 1);
	if (n <= 0)
		snprintf(path, size, "(a name too long to say)");
	else
		path[n] = '\0';
}

bool attrgate_handle(int nfd, const struct seccomp_notif *req, const struct sandbox *sb)
{
	const struct attr_call *c = NULL;
	struct attr_args x = {0};
	char path[PATH_MAX];
	int fd, r;

	if (!sb->attrgate && !sb->modegate)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(attr_calls) && !c; i++)
		if (attr_calls[i].nr == req->data.nr)
			c = &attr_calls[i];
	/* with namespaces only modes and extended attributes come here
	 * (sb->modegate) */
	if (!c || (!sb->attrgate && c->op != ATTR_MODE && c->op != ATTR_SETXATTR &&
		   c->op != ATTR_REMOVEXATTR))
		return false;
	fd = open_target(sb, req, c);
	r = fd < 0 ? fd : read_args(req, c, &x);
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0) {
		if (fd >= 0)
			close(fd);
		free(x.value);
		return true; /* gone: the pid may be another process's now */
	}
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		free(x.value);
		broker_respond(nfd, req->id, r, 0);
		return true;
	}
	/* with namespaces the mounts judge the rest: the call is made on
	 * FD, on the sandbox's own mount of the file (EROFS when read-only) */
	if (sb->attrgate && !may_change(sb, fd, path, sizeof(path))) {
		refused(sb, c, path, req->pid, "outside the write grants");
		r = -EROFS;
	} else if (makes_object_writable(req, c, fd, &x)) {
		name_of(fd, path, sizeof(path));
		refused(sb, c, path, req->pid, "a file of a repository's object store");
		r = -EROFS;
	} else {
		r = act(sb, req, c, fd, &x);
	}
	close(fd);
	free(x.value);
	broker_respond(nfd, req->id, r, 0);
	return true;
}
