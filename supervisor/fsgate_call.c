/* SPDX-License-Identifier: MIT */
/*
 * One call through the file gate (fsgate.c has the picture and keeps the
 * directories): which calls stop here and where their paths are
 * (decode()), each path read once from the caller's memory and its
 * directory resolved in the caller's view, the last name judged, and the
 * call made as the command on the directory judged (act()); a rename or
 * link judged on both names (handle_two()).  What is not the gate's goes
 * on in the kernel, under Landlock.
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
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fsgate_internal.h"

/* act(): not the gate's to make after all (the kernel's, under Landlock) */
#define GATE_CONTINUE (-ECANCELED)

/* ---- the caller's view ------------------------------------------------------ */

/* The directory DIRFD (or cwd, or root for an absolute PATH) of TID. */
static int open_base(pid_t tid, int dirfd, const char *path)
{
	char p[64];

	if (path[0] == '/')
		snprintf(p, sizeof(p), "/proc/%d/root", tid);
	else if (dirfd == AT_FDCWD)
		snprintf(p, sizeof(p), "/proc/%d/cwd", tid);
	else if (dirfd >= 0)
		snprintf(p, sizeof(p), "/proc/%d/fd/%d", tid, dirfd);
	else
		return -EBADF;
	int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* One path argument, resolved: its directory (held) and last name. */
struct target {
	int base, dir;
	char path[PATH_MAX];
	const char *name;
	struct gate_dir *gate;
	bool slash_end; /* the path ended in '/': a directory, or the kernel's error */
};

static void target_close(struct target *t)
{
	if (t->base >= 0)
		close(t->base);
	if (t->dir >= 0)
		close(t->dir);
	t->base = t->dir = -1;
}

/* Reads and opens; the directory part is resolved by target_resolve once
 * the notification is known alive.  -errno: answer CONTINUE (the kernel
 * gives the call's own error). */
static int target_read(struct target *t, pid_t tid, int dirfd, uint64_t addr,
		       const struct fsgate *g)
{
	int r;

	t->base = t->dir = -1;
	t->gate = NULL;
	r = broker_read_string(tid, addr, t->path, sizeof(t->path));
	if (r < 0)
		return r;
	if (!t->path[0])
		return -ENOENT;
	/* most calls are elsewhere: an absolute path beneath no directory on
	 * the way (the gate's own ones all lie beneath those) is left to the
	 * kernel without opening anything; through a symlink it would reach
	 * a gate directory only to be refused there, by Landlock */
	if (g && t->path[0] == '/') {
		bool near = false;
		for (size_t i = 0; i < g->n && !near; i++)
			near = g->dirs[i].path && landlock_path_beneath(t->path, g->dirs[i].path);
		if (!near)
			return -ENOENT;
	}
	t->base = open_base(tid, dirfd, t->path);
	return t->base < 0 ? t->base : 0;
}

static int target_resolve(struct target *t, struct fsgate *g)
{
	char *slash;
	size_t l = strlen(t->path);
	struct stat st;

	/* trailing slashes name the same entry (mkdir d/), as a directory */
	t->slash_end = l > 1 && t->path[l - 1] == '/';
	while (l > 1 && t->path[l - 1] == '/')
		t->path[--l] = '\0';
	slash = strrchr(t->path, '/');
	t->name = slash ? slash + 1 : t->path;
	if (!t->name[0] || strcmp(t->name, ".") == 0 || strcmp(t->name, "..") == 0)
		return -EINVAL;
	if (!slash || slash == t->path) {
		t->dir = dup(t->base); /* in the cwd or dirfd; "/name": in the root */
	} else {
		*slash = '\0';
		struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				       .resolve = RESOLVE_NO_MAGICLINKS |
						  (t->path[0] == '/' ? RESOLVE_IN_ROOT : 0)};
		t->dir = (int)syscall(SYS_openat2, t->base, t->path, &how, sizeof(how));
	}
	if (t->dir < 0 || fstat(t->dir, &st) < 0)
		return -errno;
	t->gate = gate_find(g, &st);
	return 0;
}

/* ---- acting ---------------------------------------------------------------- */

static void answer(int nfd, uint64_t id, int error, bool cont)
{
	broker_respond(nfd, id, cont ? 0 : error, cont ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0);
}

/* The caller's umask (022 when unknown). */
static mode_t caller_umask(pid_t tid)
{
	long m = broker_status_field(tid, "Umask:", 8);

	return m < 0 ? 022 : (mode_t)m & 0777;
}

static void refused(const struct sandbox *sb, const struct target *t, enum fs_access access)
{
	char js[PATH_MAX + 64], full[PATH_MAX + NAME_MAX + 2];
	struct fsgate *g = sb->fsgate;

	snprintf(full, sizeof(full), "%s/%s", t->gate->path ? t->gate->path : "?", t->name);
	for (size_t i = 0; i <= g->n_refusals; i++) {
		if (i == g->n_refusals) {
			struct gate_refusal *v =
			    i < GATE_GROUPS ? realloc(g->refusals, (i + 1) * sizeof(*v)) : NULL;
			if (v) {
				g->refusals = v;
				v[i] = (struct gate_refusal){strdup(full), access, 1};
				if (v[i].path)
					g->n_refusals++;
			}
			break;
		}
		if (g->refusals[i].access == access && strcmp(g->refusals[i].path, full) == 0) {
			g->refusals[i].count++;
			break;
		}
	}
	if (sb->fsgate->refused++ < GATE_WARN_MAX)
		warn("%s is protected: the sandbox may not make, replace, rename or remove it "
		     "(refused)",
		     full);
	if (audit_rate_ok(sb->audit_fd)) {
		json_string(js, sizeof(js), full);
		audit_event(sb->audit_fd, "protect.blocked", "\"path\":%s,\"moved\":false", js);
	}
}

enum op {
	OP_OPEN,
	OP_MKDIR,
	OP_UNLINK,
	OP_RMDIR,
	OP_SYMLINK,
	OP_MKNOD,
	OP_TRUNCATE,
};

/* Whether the gate handles NR; its path arguments' positions in ARGS.
 * Long: a table as a switch, one case for each call the gate takes. */
static bool decode(const struct seccomp_notif *req, enum op *op, int *dirfd, uint64_t *addr,
		   bool *two, int *dirfd2, uint64_t *addr2, uint64_t *flags, mode_t *mode)
{
	const __u64 *a = req->data.args;

	*two = false;
	*flags = 0;
	*mode = 0;
	*dirfd = AT_FDCWD;
	switch (req->data.nr) {
	case __NR_open:
		*op = OP_OPEN, *addr = a[0], *flags = a[1], *mode = (mode_t)a[2];
		return true;
	case __NR_creat:
		*op = OP_OPEN, *addr = a[0], *flags = O_CREAT | O_WRONLY | O_TRUNC;
		*mode = (mode_t)a[1];
		return true;
	case __NR_openat:
		*op = OP_OPEN, *dirfd = (int)a[0], *addr = a[1], *flags = a[2];
		*mode = (mode_t)a[3];
		return true;
	case __NR_openat2: {
		/* struct open_how, read once; any RESOLVE_* restriction is the
		 * kernel's to apply (the gate does not: Landlock refuses) */
		struct open_how how = {0};
		struct iovec l = {&how, sizeof(how)};
		struct iovec r = {(void *)(uintptr_t)a[2], sizeof(how)};
		if (a[3] < sizeof(how) ||
		    process_vm_readv(req->pid, &l, 1, &r, 1, 0) != (ssize_t)sizeof(how) ||
		    how.resolve)
			return false;
		*op = OP_OPEN, *dirfd = (int)a[0], *addr = a[1], *flags = how.flags;
		*mode = (mode_t)how.mode;
		return true;
	}
	case __NR_mkdir:
		*op = OP_MKDIR, *addr = a[0], *mode = (mode_t)a[1];
		return true;
	case __NR_mkdirat:
		*op = OP_MKDIR, *dirfd = (int)a[0], *addr = a[1], *mode = (mode_t)a[2];
		return true;
	case __NR_rmdir:
		*op = OP_RMDIR, *addr = a[0];
		return true;
	case __NR_unlink:
		*op = OP_UNLINK, *addr = a[0];
		return true;
	case __NR_unlinkat:
		*op = (a[2] & AT_REMOVEDIR) ? OP_RMDIR : OP_UNLINK;
		*dirfd = (int)a[0], *addr = a[1];
		return true;
	case __NR_symlink:
		*op = OP_SYMLINK, *addr2 = a[0], *addr = a[1];
		return true;
	case __NR_symlinkat:
		*op = OP_SYMLINK, *addr2 = a[0], *dirfd = (int)a[1], *addr = a[2];
		return true;
	case __NR_mknod:
		*op = OP_MKNOD, *addr = a[0], *mode = (mode_t)a[1];
		return true;
	case __NR_mknodat:
		*op = OP_MKNOD, *dirfd = (int)a[0], *addr = a[1], *mode = (mode_t)a[2];
		return true;
	case __NR_truncate:
		*op = OP_TRUNCATE, *addr = a[0], *flags = a[1];
		return true;
	case __NR_rename:
		*two = true, *dirfd2 = AT_FDCWD, *addr = a[0], *addr2 = a[1];
		return true;
	case __NR_renameat:
		*two = true, *dirfd = (int)a[0], *addr = a[1], *dirfd2 = (int)a[2];
		*addr2 = a[3];
		return true;
	case __NR_renameat2:
		*two = true, *dirfd = (int)a[0], *addr = a[1], *dirfd2 = (int)a[2];
		*addr2 = a[3], *flags = a[4];
		return true;
	case __NR_link:
		*two = true, *dirfd2 = AT_FDCWD, *addr = a[0], *addr2 = a[1];
		*flags = 1ull << 63; /* a link, not a rename */
		return true;
	case __NR_linkat:
		*two = true, *dirfd = (int)a[0], *addr = a[1], *dirfd2 = (int)a[2];
		*addr2 = a[3], *flags = (1ull << 63) | (a[4] & 0xffffffffu);
		return true;
	default:
		return false;
	}
}

/* The right OP needs in the directory (or on the file). */
static uint64_t needs(enum op op, uint64_t flags, mode_t mode)
{
	switch (op) {
	case OP_OPEN:
		return (flags & O_CREAT ? LL_FS_MAKE_REG : 0) |
		       ((flags & O_ACCMODE) != O_RDONLY ? LL_FS_WRITE_FILE : 0) |
		       (flags & O_TRUNC ? LL_FS_TRUNCATE : 0);
	case OP_MKDIR:
		return LL_FS_MAKE_DIR;
	case OP_UNLINK:
		return LL_FS_REMOVE_FILE;
	case OP_RMDIR:
		return LL_FS_REMOVE_DIR;
	case OP_SYMLINK:
		return LL_FS_MAKE_SYM;
	case OP_MKNOD:
		return S_ISFIFO(mode) ? LL_FS_MAKE_FIFO : LL_FS_MAKE_REG;
	case OP_TRUNCATE:
		return LL_FS_WRITE_FILE | LL_FS_TRUNCATE;
	}
	return ~0ull;
}

/*
 * openat(2) of T with FLAGS, telling whether it made the file: an O_CREAT
 * open is tried with O_EXCL first, then, when the name exists, without
 * O_CREAT (what a plain O_CREAT open does, in two steps).  A name removed
 * between the two is opened as asked, and counted as not made.
 */
static int gate_open(const struct target *t, int flags, mode_t mode, bool *ret_created)
{
	int fd;

	*ret_created = false;
	if (!(flags & O_CREAT)) /* O_TMPFILE never comes here */
		return openat(t->dir, t->name, flags, mode);
	fd = openat(t->dir, t->name, flags | O_EXCL, mode);
	if (fd >= 0) {
		*ret_created = true;
		return fd;
	}
	if (errno != EEXIST || (flags & O_EXCL))
		return -1;
	fd = openat(t->dir, t->name, flags & ~O_CREAT, mode);
	if (fd < 0 && errno == ENOENT)
		fd = openat(t->dir, t->name, flags, mode);
	return fd;
}

/* What OP asked, in the trace's words. */
static enum fs_access gate_access(enum op op, uint64_t flags)
{
	switch (op) {
	case OP_OPEN:
		return flags & O_CREAT ? FS_CREATE : FS_WRITE;
	case OP_MKDIR:
	case OP_SYMLINK:
	case OP_MKNOD:
		return FS_CREATE;
	case OP_UNLINK:
	case OP_RMDIR:
		return FS_REMOVE;
	case OP_TRUNCATE:
		return FS_TRUNCATE;
	}
	return FS_WRITE;
}

/* OP_OPEN of T, as act() makes it: the file opened with FLAGS and handed
 * over with ADDFD (*SENT: it was, and is the answer). */
static int act_open(int nfd, const struct seccomp_notif *req, const struct target *t,
		    uint64_t flags, mode_t mode, bool *sent)
{
	struct stat st;
	bool created = false;
	int r, fd;

	/* a final symlink is the kernel's to follow, under Landlock; and
	 * never a blocking open here, where every other call waits: a
	 * FIFO without its other end, or a file under a lease, would
	 * hold the supervisor (found by an outside review).  What is no
	 * regular file, or would block, goes on in the kernel, which
	 * blocks only the caller (under Landlock, which gives what the
	 * gate made no rule) */
	fd = gate_open(t, (int)(flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK), mode, &created);
	r = fd < 0 ? -errno : 0;
	if (r == -EWOULDBLOCK || r == -ENXIO)
		r = GATE_CONTINUE;
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
			(!(flags & O_NONBLOCK) &&
			 fcntl(fd, F_SETFL, (int)(flags & ~(uint64_t)O_NONBLOCK)) < 0))) {
		close(fd);
		fd = -1;
		r = GATE_CONTINUE;
	}
	if (fd >= 0) {
		struct seccomp_notif_addfd add = {
		    .id = req->id,
		    .flags = SECCOMP_ADDFD_FLAG_SEND,
		    .srcfd = (uint32_t)fd,
		    .newfd_flags = (uint32_t)(flags & O_CLOEXEC),
		};
		r = ioctl(nfd, SECCOMP_IOCTL_NOTIF_ADDFD, &add) < 0 ? -errno : 0;
		*sent = r == 0;
		/* not handed over (the caller is out of descriptors, or
		 * gone): the kernel would have made nothing either, as
		 * it takes the descriptor first; only the file we made,
		 * never what replaced it */
		struct stat now;
		if (r < 0 && created && fstat(fd, &st) == 0 &&
		    fstatat(t->dir, t->name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
		    now.st_dev == st.st_dev && now.st_ino == st.st_ino)
			(void)unlinkat(t->dir, t->name, 0);
		close(fd);
	}
	return r;
}

/* OP_MKDIR of T, as act() makes it: the directory made is held. */
static int act_mkdir(struct fsgate *g, const struct target *t, mode_t mode)
{
	int r, fd;

	/* each directory made is held (an fd): past the cap, refused
	 * rather than the supervisor's descriptors spent */
	if (g->made >= g->made_max) {
		if (!g->said_full) {
			g->said_full = true;
			warn("the file gate made %zu directories: no more are made in the "
			     "directories on the way to protected paths (EDQUOT)",
			     g->made);
		}
		return -EDQUOT;
	}
	r = mkdirat(t->dir, t->name, mode & 07777) < 0 ? -errno : 0;
	if (r == 0) {
		fd = openat(t->dir, t->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && gate_add(g, fd, t->gate->rights, NULL))
			g->made++;
		else if (fd >= 0)
			close(fd);
	}
	return r;
}

/* OP on T (in a gate directory), as the command; the result for the caller
 * (a new fd's number for OP_OPEN, sent with ADDFD). */
static int act(int nfd, const struct seccomp_notif *req, const struct sandbox *sb, struct fsgate *g,
	       struct target *t, enum op op, uint64_t flags, mode_t mode, const char *link_target,
	       bool *sent)
{
	/* the umask matters only to what is made (a /proc read per call) */
	bool makes = (op == OP_OPEN && (flags & O_CREAT)) || op == OP_MKDIR || op == OP_MKNOD;
	mode_t um = makes ? caller_umask(req->pid) : 022, old;
	struct stat st;
	int r, fd;

	*sent = false;
	r = broker_as_command(sb, true);
	if (r < 0)
		return r;
	old = umask(um);
	switch (op) {
	case OP_OPEN:
		r = act_open(nfd, req, t, flags, mode, sent);
		break;
	case OP_MKDIR:
		r = act_mkdir(g, t, mode);
		break;
	case OP_RMDIR:
		if (fstatat(t->dir, t->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			break;
		}
		r = unlinkat(t->dir, t->name, AT_REMOVEDIR) < 0 ? -errno : 0;
		if (r == 0)
			gate_drop(g, &st);
		break;
	case OP_UNLINK:
		r = unlinkat(t->dir, t->name, 0) < 0 ? -errno : 0;
		break;
	case OP_SYMLINK:
		r = symlinkat(link_target, t->dir, t->name) < 0 ? -errno : 0;
		break;
	case OP_MKNOD:
		r = mknodat(t->dir, t->name, mode, 0) < 0 ? -errno : 0;
		break;
	case OP_TRUNCATE:
		fd = openat(t->dir, t->name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		r = fd < 0 ? -errno : 0;
		if (r == -EWOULDBLOCK || r == -ENXIO ||
		    (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))))
			r = GATE_CONTINUE;
		else if (fd >= 0)
			r = ftruncate(fd, (off_t)flags) < 0 ? -errno : 0;
		if (fd >= 0)
			close(fd);
		break;
	}
	umask(old);
	(void)broker_as_command(sb, false);
	return r;
}

/* The link or rename of A to B (with FLAGS) that handle_two() judged, as
 * the command. */
static int act_two(const struct sandbox *sb, const struct target *a, const struct target *b,
		   bool link, uint64_t flags)
{
	int r = broker_as_command(sb, true);

	if (r == 0) {
		if (link)
			r = linkat(a->dir, a->name, b->dir, b->name, 0) < 0 ? -errno : 0;
		else
			r = (int)syscall(SYS_renameat2, a->dir, a->name, b->dir, b->name,
					 (unsigned)flags) < 0
				? -errno
				: 0;
		(void)broker_as_command(sb, false);
	}
	return r;
}

static bool handle_two(int nfd, const struct seccomp_notif *req, const struct sandbox *sb,
		       struct fsgate *g, int dirfd, uint64_t addr, int dirfd2, uint64_t addr2,
		       uint64_t flags)
{
	struct target a, b;
	bool link = flags & (1ull << 63);
	const char *why;
	struct stat st;
	bool answered = true;
	int r;

	if (target_read(&a, req->pid, dirfd, addr, NULL) < 0) {
		target_close(&a);
		return false;
	}
	if (target_read(&b, req->pid, dirfd2, addr2, NULL) < 0) {
		target_close(&a);
		target_close(&b);
		return false;
	}
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		goto out; /* the caller is gone; the pid may be another's now */
	/* a trailing slash asks for a directory: the kernel's to check */
	if (target_resolve(&a, g) < 0 || target_resolve(&b, g) < 0 || (!a.gate && !b.gate) ||
	    a.slash_end || b.slash_end) {
		answered = false; /* Landlock's */
		goto out;
	}
	/* across the boundary; or a link that follows a symlink or names an
	 * fd (AT_SYMLINK_FOLLOW, AT_EMPTY_PATH): the gate links what it
	 * judged, a name in a directory it keeps, never what a link points
	 * to (a protected file, a denied one) */
	if (!a.gate || !b.gate || (link && (flags & ~(1ull << 63)))) {
		answer(nfd, req->id, -EXDEV, false);
		goto out;
	}
	/* both in the gate: each name judged, and each right the grants give */
	uint64_t need_a = link ? 0 : LL_FS_REMOVE_FILE, need_b = LL_FS_MAKE_REG;
	if (fstatat(a.dir, a.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
		need_a = LL_FS_REMOVE_DIR;
		need_b = LL_FS_MAKE_DIR;
	}
	if ((why = gate_judge(sb, a.gate, a.name)) || (why = gate_judge(sb, b.gate, b.name))) {
		refused(sb, gate_judge(sb, a.gate, a.name) ? &a : &b, FS_RENAME);
		answer(nfd, req->id, -EACCES, false);
		goto out;
	}
	/* the rights Landlock would want of the grants: making at the
	 * target; removing at the source (not for a link), and at the target
	 * what is replaced; an exchange makes and removes on both sides */
	struct stat over;
	bool had_over = fstatat(b.dir, b.name, &over, AT_SYMLINK_NOFOLLOW) == 0;
	uint64_t need_at_b = need_b;
	if (had_over)
		need_at_b |= S_ISDIR(over.st_mode) ? LL_FS_REMOVE_DIR : LL_FS_REMOVE_FILE;
	if (!link && (flags & RENAME_EXCHANGE)) {
		need_a |= had_over && S_ISDIR(over.st_mode) ? LL_FS_MAKE_DIR : LL_FS_MAKE_REG;
		need_at_b |= need_b == LL_FS_MAKE_DIR ? LL_FS_REMOVE_DIR : LL_FS_REMOVE_FILE;
	}
	if ((a.gate->rights & need_a) != need_a || (b.gate->rights & need_at_b) != need_at_b) {
		answer(nfd, req->id, -EACCES, false);
		goto out;
	}
	r = act_two(sb, &a, &b, link, flags);
	if (r == 0 && !link && had_over && S_ISDIR(over.st_mode) && !(flags & RENAME_EXCHANGE))
		gate_drop(g, &over); /* an empty directory renamed over is gone */
	answer(nfd, req->id, r, false);
out:
	target_close(&a);
	target_close(&b);
	return answered;
}

void fsgate_continue(int nfd, const struct seccomp_notif *req)
{
	answer(nfd, req->id, 0, true);
}

bool fsgate_handle(int nfd, const struct seccomp_notif *req, const struct sandbox *sb)
{
	struct fsgate *g = sb->fsgate;
	struct target t;
	enum op op;
	int dirfd, dirfd2 = AT_FDCWD;
	uint64_t addr, addr2 = 0, flags;
	mode_t mode;
	bool two, sent;
	char link_target[PATH_MAX];
	const char *why;
	int r;

	if (!g || !decode(req, &op, &dirfd, &addr, &two, &dirfd2, &addr2, &flags, &mode))
		return false;
	if (two) {
		return handle_two(nfd, req, sb, g, dirfd, addr, dirfd2, addr2, flags);
	}
	if (op == OP_OPEN && !(flags & (O_CREAT | O_TRUNC)) && (flags & O_ACCMODE) == O_RDONLY) {
		return false; /* a read: Landlock's */
	}
	if (op == OP_MKNOD && !S_ISFIFO(mode) && !S_ISREG(mode) && (mode & S_IFMT)) {
		return false; /* devices and sockets: Landlock's */
	}
	if (op == OP_SYMLINK &&
	    broker_read_string(req->pid, addr2, link_target, sizeof(link_target)) < 0)
		return false;
	if (target_read(&t, req->pid, dirfd, addr, g) < 0) {
		target_close(&t);
		return false;
	}
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0) {
		target_close(&t);
		return true;
	}
	/* O_TMPFILE names the directory itself: the kernel's, under Landlock
	 * (which gives a directory on the way no make_reg) */
	if (target_resolve(&t, g) < 0 || !t.gate || (op == OP_OPEN && (flags & __O_TMPFILE)) ||
	    (t.slash_end && op != OP_MKDIR && op != OP_RMDIR)) {
		target_close(&t);
		return false;
	}
	if ((why = gate_judge(sb, t.gate, t.name))) {
		refused(sb, &t, gate_access(op, flags));
		target_close(&t);
		answer(nfd, req->id, -EACCES, false);
		return true;
	}
	uint64_t need = needs(op, flags, mode);
	if ((t.gate->rights & need) != need) {
		target_close(&t);
		return false; /* Landlock refuses it as the grant does */
	}
	r = act(nfd, req, sb, g, &t, op, flags, mode, link_target, &sent);
	if (r == GATE_CONTINUE || (op == OP_OPEN && r == -ELOOP && !(flags & O_NOFOLLOW))) {
		/* a symlink: followed by the kernel, judged by Landlock */
		target_close(&t);
		return false;
	}
	if (sb->learn && r >= 0 && t.gate->path) {
		/* learning: the gate made it, so the trace never saw it (a
		 * file new in the home) */
		char full[PATH_MAX * 2];
		snprintf(full, sizeof(full), "%s%s%s", t.gate->path,
			 strcmp(t.gate->path, "/") ? "/" : "", t.name);
		learn_note_use(sb->learn, req->pid,
			       op == OP_UNLINK || op == OP_RMDIR     ? FS_REMOVE
			       : op == OP_OPEN && !(flags & O_CREAT) ? FS_WRITE
								     : FS_CREATE,
			       full, t.gate->path, LL_FS_MAKE_REG);
	}
	target_close(&t);
	if (!sent)
		answer(nfd, req->id, r, false);
	return true;
}
