/* SPDX-License-Identifier: MIT */
/*
 * The caller's view, for the file trace (fstrace.c has the picture): a
 * path argument of a stopped call resolved as the command sees it, from
 * its root and its cwd or the dirfd it passed (through /proc/PID), and
 * whether the target and its directory are on a read-only mount.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fstrace_internal.h"

/* The name of FD as the command sees it (its mount namespace's paths). */
int ft_fd_name(int fd, char *buf, size_t size)
{
	char self[64];
	ssize_t n;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	n = readlink(self, buf, size - 1);
	if (n <= 0)
		return -errno;
	buf[n] = '\0';
	return buf[0] == '/' ? 0 : -ENOENT;
}

static bool on_ro_mount(int fd)
{
	struct statvfs sv;

	return fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

/* A read-only mount refuses writes to regular files, directories and
 * symbolic links; a device, FIFO or socket on one is written as ever (the
 * kernel's special_file()): /dev/null on the sandbox's read-only tree. */
static void special_files_writable(struct fs_path *p)
{
	if (p->exists && !S_ISREG(p->mode) && !S_ISDIR(p->mode) && !S_ISLNK(p->mode))
		p->ro = false;
}

/* The path argument at ADDR made absolute in FULL: as written, or after
 * the name of the base directory DIRFD_BASE. */
static int absolute_arg(pid_t pid, int dirfd_base, uint64_t addr, char *full, size_t size)
{
	char arg[PATH_MAX], base[PATH_MAX];
	int r;

	r = broker_read_string(pid, addr, arg, sizeof(arg));
	if (r < 0)
		return r;
	if (!arg[0])
		return -ENOENT;
	if (arg[0] == '/') {
		snprintf(full, size, "%s", arg);
	} else {
		r = ft_fd_name(dirfd_base, base, sizeof(base));
		if (r < 0)
			return r;
		snprintf(full, size, "%s/%s", strcmp(base, "/") ? base : "", arg);
	}
	/* trailing slashes name the directory itself */
	for (size_t n = strlen(full); n > 1 && full[n - 1] == '/'; n--)
		full[n - 1] = '\0';
	return 0;
}

/* FULL names a directory itself (cut at SLASH before LAST: "", "." or ".."). */
static int resolve_dir_itself(int root, char *full, char *slash, const char *last,
			      const struct open_how *how, struct fs_path *ret)
{
	_cleanup_close_ int t = -1;
	struct stat st;

	/* the directory itself: "/", "a/.", "a/.." (walked from the
	 * root again: from DIR as a root, ".." would stay in it) */
	if (last[0])
		*slash = '/';
	t = (int)syscall(SYS_openat2, root, full[0] && full[1] ? full + 1 : ".", how, sizeof(*how));
	if (t < 0 || ft_fd_name(t, ret->path, sizeof(ret->path)) < 0 || fstat(t, &st) < 0)
		return -ENOENT;
	snprintf(ret->parent, sizeof(ret->parent), "%s", ret->path);
	ret->exists = true;
	ret->mode = st.st_mode;
	ret->ro = ret->parent_ro = on_ro_mount(t);
	special_files_writable(ret);
	return 0;
}

/* LAST, an entry of the directory open at DIR (FULL cut at SLASH before
 * it); with FOLLOW, a symlink there followed in ROOT. */
static int resolve_entry(int root, int dir, char *full, char *slash, const char *last, bool follow,
			 struct open_how *how, struct fs_path *ret)
{
	_cleanup_close_ int t = -1;
	struct stat st;
	int r;

	r = ft_fd_name(dir, ret->parent, sizeof(ret->parent));
	if (r < 0)
		return r;
	r = snprintf(ret->path, sizeof(ret->path), "%s%s%s", ret->parent,
		     strcmp(ret->parent, "/") ? "/" : "", last);
	if (r < 0 || (size_t)r >= sizeof(ret->path))
		return -ENAMETOOLONG;
	ret->exists = fstatat(dir, last, &st, AT_SYMLINK_NOFOLLOW) == 0;
	ret->mode = ret->exists ? st.st_mode : 0;
	ret->ro = ret->parent_ro = on_ro_mount(dir);
	if (ret->exists && !S_ISLNK(st.st_mode)) {
		/* a file or directory bound over itself is a mount of its own */
		_cleanup_close_ int e = openat(dir, last, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		ret->ro = e >= 0 ? on_ro_mount(e) : ret->ro;
	}
	if (ret->exists && follow && S_ISLNK(st.st_mode)) {
		/* the final symlink, followed in the caller's root */
		*slash = '/';
		how->flags = O_PATH | O_CLOEXEC;
		t = (int)syscall(SYS_openat2, root, full + 1, how, sizeof(*how));
		if (t < 0) {
			ret->exists = false; /* dangling: a create through it */
			return 0;
		}
		if (ft_fd_name(t, ret->path, sizeof(ret->path)) < 0 || fstat(t, &st) < 0)
			return -ENOENT;
		ret->mode = st.st_mode;
		ret->ro = on_ro_mount(t);
		snprintf(ret->parent, sizeof(ret->parent), "%s", ret->path);
		char *s = strrchr(ret->parent, '/');
		if (s == ret->parent)
			s[1] = '\0';
		else if (s)
			*s = '\0';
	}
	special_files_writable(ret);
	return 0;
}

/*
 * Resolves the path argument at ADDR, relative to DIRFD (AT_FDCWD: the cwd),
 * in the view of the caller PID: the absolute path is made from the name of
 * the base directory and walked from the caller's root with RESOLVE_IN_ROOT,
 * so its symlinks mean what they mean to the caller.  Magic links are not
 * followed (they would be resolved in our /proc).
 */
int ft_resolve(pid_t pid, int root, int dirfd_base, uint64_t addr, bool follow, struct fs_path *ret)
{
	_cleanup_close_ int dir = -1;
	char full[PATH_MAX * 2];
	char *slash, *last;
	int r;

	ret->path[0] = '\0';
	r = absolute_arg(pid, dirfd_base, addr, full, sizeof(full));
	if (r < 0)
		return r;
	slash = strrchr(full, '/');
	last = slash + 1;
	*slash = '\0';
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	dir = (int)syscall(SYS_openat2, root, full[0] ? full + 1 : ".", &how, sizeof(how));
	if (dir < 0) {
		r = -errno;
		/* not there: the path as written, for hidden() */
		*slash = '/';
		if (r == -ENOENT && strlen(full) < sizeof(ret->path))
			memcpy(ret->path, full, strlen(full) + 1);
		return r;
	}
	if (!last[0] || strcmp(last, ".") == 0 || strcmp(last, "..") == 0)
		return resolve_dir_itself(root, full, slash, last, &how, ret);
	return resolve_entry(root, dir, full, slash, last, follow, &how, ret);
}

/* The base directory for a *at() call's DIRFD (AT_FDCWD: the cwd). */
int ft_open_base(pid_t pid, int dirfd)
{
	char p[64];

	if (dirfd == AT_FDCWD)
		snprintf(p, sizeof(p), "/proc/%d/cwd", pid);
	else
		snprintf(p, sizeof(p), "/proc/%d/fd/%d", pid, dirfd);
	int fd = open(p, O_PATH | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}
