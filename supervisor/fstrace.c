/* SPDX-License-Identifier: MIT */
/*
 * File refusals made visible (--trace).
 *
 * Landlock refuses a file access with EACCES and says nothing to anyone but
 * the kernel's audit subsystem (ABI 7 records), which only a reader with
 * CAP_AUDIT_READ in the initial user namespace may follow: an unprivileged
 * run, or root in a container, never sees them.  So the supervisor watches
 * instead: with --trace, the notification filter (seccomp.c) also stops the
 * calls that take a path Landlock judges, and ioctl(2); each comes here,
 * the supervisor resolves the path in the command's view (its root, cwd or
 * dirfd through /proc/PID), judges it against the planned rules exactly as
 * Landlock will (landlock_plan_allows: the union of the rules on the path
 * and above, deny paths and masks first), logs what would be refused, and
 * answers CONTINUE: the kernel then makes the call as if nothing had
 * stopped it.
 *
 * CONTINUE is never the enforcement.  Landlock (and the masks) refuse
 * whatever they refuse whether or not the supervisor looked; the answer
 * here is the same for every call.  A thread of the command can change the
 * path, its parent directories or its dirfd between our look and the
 * kernel's (TOCTOU): that only makes the report wrong (a refusal missed, or
 * one reported that did not happen), never an access allowed.
 *
 * What the judgement does not see, so the report may miss: paths through
 * magic links (/proc/self/fd/N, /proc/self/root: resolved in the command's
 * /proc, not ours), refusals by file permissions (the path is resolved with
 * the supervisor's ids), ftruncate(2) and fd-relative calls whose rights
 * were fixed when the file was opened, the interpreter a script names, and,
 * unprivileged, the command's first exec (not yet dumpable, as the
 * supervisor it was forked from: its /proc entries are closed to us; the
 * child's own "cannot execute" line says that one).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
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

#include "fstrace_internal.h"

static const char *const access_names[_FS_ACCESS_MAX] = {
    [FS_READ] = "read", [FS_WRITE] = "write",	[FS_CREATE] = "create",	    [FS_REMOVE] = "remove",
    [FS_EXEC] = "exec", [FS_RENAME] = "rename", [FS_TRUNCATE] = "truncate", [FS_IOCTL] = "ioctl",
};

const char *fstrace_access_name(enum fs_access a)
{
	return a > 0 && a < _FS_ACCESS_MAX ? access_names[a] : "?";
}

/* Rights that only a write grant gives. */
#define WRITE_RIGHTS (LANDLOCK_WRITE & ~(LANDLOCK_READ | LL_FS_EXECUTE))

/* ---- judging: pure but for realpath() of the policy's grants ---------- */

bool fstrace_judge(const struct sandbox *sb, const char *target, const char *check_path,
		   uint64_t need, bool ro_mount, struct fs_verdict *ret)
{
	const struct policy *p = sb->policy;
	const char *key;

	/* rights this kernel does not handle are never refused */
	need &= sb->ll.fs;
	if (sb->ll.abi <= 0 || !need)
		return false;
	/* without namespaces the private TMPDIR is granted by init, after
	 * our copy of the plan was made */
	if (sb->private_tmp_dir && landlock_path_beneath(check_path, sb->private_tmp_dir) &&
	    !(need & ~(uint64_t)LANDLOCK_WRITE))
		return false;
	/* deny wins: no grant would let it through, so none is suggested */
	for (size_t i = 0; sb->deny_canon && i < p->fs.deny.n; i++) {
		const char *c = sb->deny_canon[i];
		if (c && landlock_path_beneath(target, c)) {
			ret->why = FS_WHY_DENIED;
			ret->key = "deny";
			snprintf(ret->value, sizeof(ret->value), "%s", p->fs.deny.items[i].value);
			return true;
		}
	}
	/* a read-only mount refuses what writes (EROFS), whatever Landlock
	 * allows: read grants carried into a private /tmp, protect's binds */
	if (landlock_plan_allows(&sb->plan, check_path, need) &&
	    !(ro_mount && (need & WRITE_RIGHTS))) {
		/* with namespaces, what protect keeps read-only is a read-only
		 * mount (EROFS), and other masks are empty (EACCES) */
		for (size_t i = 0; i < sb->n_masks; i++) {
			const struct mount_mask *m = &sb->masks[i];
			if (m->pin || !landlock_path_beneath(target, m->path))
				continue;
			if (m->read_only_bind && !(need & WRITE_RIGHTS))
				continue;
			ret->why = FS_WHY_KEPT;
			ret->key = NULL;
			ret->value[0] = '\0';
			return true;
		}
		return false;
	}
	key = need & WRITE_RIGHTS ? "write" : need & LL_FS_EXECUTE ? "exec" : "read";
	/* a grant that already covers it was split around a carve-out
	 * (protect, the private state, the journal): no key helps */
	if ((strcmp(key, "write") == 0 && grants_cover(&p->fs.write, check_path)) ||
	    (strcmp(key, "exec") == 0 && grants_cover(&p->fs.exec, check_path)) ||
	    (strcmp(key, "read") == 0 &&
	     (grants_cover(&p->fs.read, check_path) || grants_cover(&p->fs.exec, check_path) ||
	      grants_cover(&p->fs.write, check_path)))) {
		ret->why = FS_WHY_KEPT;
		ret->key = NULL;
		ret->value[0] = '\0';
		return true;
	}
	ret->why = FS_WHY_NOT_GRANTED;
	ret->key = key;
	snprintf(ret->value, sizeof(ret->value), "%s", check_path);
	return true;
}

/* ---- what each call needs ------------------------------------------------ */

static uint64_t make_right(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFDIR:
		return LL_FS_MAKE_DIR;
	case S_IFLNK:
		return LL_FS_MAKE_SYM;
	case S_IFIFO:
		return LL_FS_MAKE_FIFO;
	case S_IFSOCK:
		return LL_FS_MAKE_SOCK;
	case S_IFCHR:
		return LL_FS_MAKE_CHAR;
	case S_IFBLK:
		return LL_FS_MAKE_BLOCK;
	default:
		return LL_FS_MAKE_REG;
	}
}

static uint64_t remove_right(mode_t m)
{
	return S_ISDIR(m) ? LL_FS_REMOVE_DIR : LL_FS_REMOVE_FILE;
}

/*
 * The ioctl requests Landlock allows on any device whatever the rights
 * (is_masked_device_ioctl() in security/landlock/fs.c, Linux 6.10): they
 * act on the open file, not the device.
 */
static bool ioctl_always_allowed(unsigned long cmd)
{
	static const unsigned long allowed[] = {
	    FIOCLEX,	   FIONCLEX, FIONBIO, FIOASYNC,	    FIFREEZE,	   FITHAW,
	    FS_IOC_FIEMAP, FIGETBSZ, FICLONE, FICLONERANGE, FIDEDUPERANGE,
	};
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
		if ((unsigned int)cmd == (unsigned int)allowed[i])
			return true;
	return false;
}

/* The files ringfence's own stdin, stdout and stderr are: the command
 * inherits them opened before Landlock, which then never checks their
 * ioctls (the rights of an open file are fixed when it is opened). */
static bool inherited_file(const struct stat *st)
{
	static struct stat own[3];
	static bool have[3], looked;

	if (!looked) {
		for (int i = 0; i < 3; i++)
			have[i] = fstat(i, &own[i]) == 0;
		looked = true;
	}
	for (int i = 0; i < 3; i++)
		if (have[i] && own[i].st_dev == st->st_dev && own[i].st_ino == st->st_ino)
			return true;
	return false;
}

/* Judges one right after another, reporting the first refused. */
struct need {
	enum fs_access access;
	const char *target;
	const char *check;
	uint64_t right;
	bool ro; /* CHECK is on a read-only mount */
};

static void judge_all(const struct sandbox *sb, const struct seccomp_notif *req,
		      struct broker_stats *st, const struct need *needs, size_t n)
{
	struct fs_verdict v;

	for (size_t i = 0; i < n; i++) {
		if (!needs[i].right)
			continue;
		if (fstrace_judge(sb, needs[i].target, needs[i].check, needs[i].right, needs[i].ro,
				  &v)) {
			ft_refused(sb, req, st, needs[i].access, needs[i].target, &v);
			if (sb->learn)
				learn_note_refused(sb->learn, needs[i].access, needs[i].target, &v);
			return;
		}
		/* learning: each right the widened policy lets through, one
		 * at a time (an open for reading and writing is both) */
		for (uint64_t b = 1; sb->learn && b && b <= needs[i].right; b <<= 1)
			if (needs[i].right & b)
				learn_note_use(sb->learn, req->pid, needs[i].access,
					       needs[i].target, needs[i].check, b);
	}
}

/*
 * With namespaces and private_tmp, /tmp and /dev/shm are fresh: of the
 * host's only what a grant names is carried in, so the rest is not
 * refused but absent (ENOENT).  An open of such a path that the host has
 * is reported as the refusal it is.
 */
static void hidden(const struct sandbox *sb, const struct seccomp_notif *req,
		   struct broker_stats *st, const char *path, enum fs_access access)
{
	struct fs_verdict v = {.why = FS_WHY_NOT_GRANTED,
			       .key = access == FS_READ ? "read" : "write"};
	struct stat s;
	char *slash;

	/* a create: its directory is what the host has, and what to grant */
	snprintf(v.value, sizeof(v.value), "%s", path);
	slash = strrchr(v.value, '/');
	if (access == FS_CREATE && slash && slash != v.value)
		*slash = '\0';
	if (sb->ns != NS_FULL || !sb->policy->fs.private_tmp ||
	    !(landlock_path_beneath(path, "/tmp") || landlock_path_beneath(path, "/dev/shm")))
		return;
	/* looked up with the command's ids: what the host's permissions keep
	 * from its user is never said to exist */
	if (broker_as_command(sb, true) < 0)
		return;
	int r = lstat(v.value, &s);
	(void)broker_as_command(sb, false);
	if (r < 0)
		return;
	for (size_t i = 0; sb->deny_canon && i < sb->policy->fs.deny.n; i++)
		if (sb->deny_canon[i] && landlock_path_beneath(path, sb->deny_canon[i])) {
			v.why = FS_WHY_DENIED;
			v.key = "deny";
			snprintf(v.value, sizeof(v.value), "%s",
				 sb->policy->fs.deny.items[i].value);
			ft_refused(sb, req, st, access, path, &v);
			return;
		}
	ft_refused(sb, req, st, access, path, &v);
}

static void judge_open(const struct sandbox *sb, const struct seccomp_notif *req,
		       struct broker_stats *st, int root, int base, uint64_t addr, uint64_t flags)
{
	struct fs_path fp;
	int acc = (int)(flags & O_ACCMODE);

	if (flags & O_PATH)
		return; /* Landlock checks nothing for O_PATH */
	int r = ft_resolve(
	    req->pid, root, base, addr,
	    !(flags & O_NOFOLLOW) && (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL), &fp);
	if (r == -ENOENT && fp.path[0])
		hidden(sb, req, st, fp.path,
		       flags & O_CREAT	 ? FS_CREATE
		       : acc == O_RDONLY ? FS_READ
					 : FS_WRITE);
	if (r < 0)
		return;
	if (!fp.exists && !(flags & O_CREAT)) {
		hidden(sb, req, st, fp.path, acc == O_RDONLY ? FS_READ : FS_WRITE);
		return;
	}
	if (!fp.exists) {
		struct need n = {FS_CREATE, fp.path, fp.parent, LL_FS_MAKE_REG, fp.parent_ro};
		judge_all(sb, req, st, &n, 1);
		return;
	}
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		return; /* EEXIST before Landlock looks */
	if (S_ISDIR(fp.mode)) {
		struct need n = {FS_READ, fp.path, fp.path, LL_FS_READ_DIR, fp.ro};
		judge_all(sb, req, st, &n, 1);
		return;
	}
	bool w = acc == O_WRONLY || acc == O_RDWR;
	struct need n[] = {
	    {FS_WRITE, fp.path, fp.path, w ? LL_FS_WRITE_FILE : 0, fp.ro},
	    {FS_TRUNCATE, fp.path, fp.path, (flags & O_TRUNC) && w ? LL_FS_TRUNCATE : 0, fp.ro},
	    {FS_READ, fp.path, fp.path, acc != O_WRONLY ? LL_FS_READ_FILE : 0, fp.ro},
	};
	judge_all(sb, req, st, n, ARRAY_SIZE(n));
}

static void judge_ioctl(const struct sandbox *sb, const struct seccomp_notif *req,
			struct broker_stats *st)
{
	_cleanup_close_ int f = -1;
	char p[64], name[PATH_MAX];
	struct stat s;

	if (ioctl_always_allowed((unsigned long)req->data.args[1]))
		return;
	snprintf(p, sizeof(p), "/proc/%d/fd/%d", req->pid, (int)req->data.args[0]);
	f = open(p, O_PATH | O_CLOEXEC);
	if (f < 0 || fstat(f, &s) < 0 || !(S_ISCHR(s.st_mode) || S_ISBLK(s.st_mode)) ||
	    inherited_file(&s) || ft_fd_name(f, name, sizeof(name)) < 0)
		return;
	struct need n = {FS_IOCTL, name, name, LL_FS_IOCTL_DEV, false};
	judge_all(sb, req, st, &n, 1);
}

static void judge_rename(const struct sandbox *sb, const struct seccomp_notif *req,
			 struct broker_stats *st, int root, int ob, uint64_t oa, int nb,
			 uint64_t na, unsigned flags)
{
	struct fs_path o, n;

	if (ft_resolve(req->pid, root, ob, oa, false, &o) < 0 || !o.exists ||
	    ft_resolve(req->pid, root, nb, na, false, &n) < 0)
		return;
	if ((flags & RENAME_NOREPLACE) && n.exists)
		return;
	bool cross = strcmp(o.parent, n.parent) != 0;
	bool exchange = flags & RENAME_EXCHANGE;
	struct need needs[] = {
	    {FS_RENAME, o.path, o.parent, remove_right(o.mode), o.parent_ro},
	    {FS_RENAME, n.path, n.parent, make_right(o.mode), n.parent_ro},
	    {FS_RENAME, n.path, n.parent, n.exists ? remove_right(n.mode) : 0, n.parent_ro},
	    {FS_RENAME, o.path, o.parent, exchange && n.exists ? make_right(n.mode) : 0,
	     o.parent_ro},
	    {FS_RENAME, o.path, o.parent, cross ? LL_FS_REFER : 0, o.parent_ro},
	    {FS_RENAME, n.path, n.parent, cross ? LL_FS_REFER : 0, n.parent_ro},
	};
	judge_all(sb, req, st, needs, ARRAY_SIZE(needs));
}

static void judge_link(const struct sandbox *sb, const struct seccomp_notif *req,
		       struct broker_stats *st, int root, int ob, uint64_t oa, int nb, uint64_t na,
		       bool follow)
{
	struct fs_path o, n;

	if (ft_resolve(req->pid, root, ob, oa, follow, &o) < 0 || !o.exists ||
	    ft_resolve(req->pid, root, nb, na, false, &n) < 0 || n.exists)
		return;
	struct need needs[] = {
	    {FS_CREATE, n.path, n.parent, make_right(o.mode), n.parent_ro},
	    {FS_CREATE, n.path, n.parent, strcmp(o.parent, n.parent) ? LL_FS_REFER : 0,
	     n.parent_ro},
	};
	judge_all(sb, req, st, needs, ARRAY_SIZE(needs));
}

/* A call with one path (relative to BASE) needing RIGHT at it or its parent. */
static void judge_one(const struct sandbox *sb, const struct seccomp_notif *req,
		      struct broker_stats *st, int root, int base, uint64_t addr, int nr,
		      unsigned long arg)
{
	struct fs_path fp;
	bool follow = nr == __NR_truncate || nr == __NR_execve ||
		      (nr == __NR_execveat && !(arg & AT_SYMLINK_NOFOLLOW));

	if (ft_resolve(req->pid, root, base, addr, follow, &fp) < 0)
		return;
	struct need n = {0, fp.path, fp.parent, 0, fp.parent_ro};
	switch (nr) {
	case __NR_truncate:
		n = (struct need){FS_TRUNCATE, fp.path, fp.path,
				  fp.exists && S_ISREG(fp.mode) ? LL_FS_TRUNCATE : 0, fp.ro};
		break;
	case __NR_execve:
	case __NR_execveat:
		n = (struct need){FS_EXEC, fp.path, fp.path,
				  fp.exists && S_ISREG(fp.mode) ? LL_FS_EXECUTE : 0, fp.ro};
		break;
	case __NR_mkdir:
	case __NR_mkdirat:
		n.access = FS_CREATE;
		n.right = fp.exists ? 0 : LL_FS_MAKE_DIR;
		break;
	case __NR_mknod:
	case __NR_mknodat:
		n.access = FS_CREATE;
		n.right = fp.exists ? 0 : make_right((mode_t)arg);
		break;
	case __NR_symlink:
	case __NR_symlinkat:
		n.access = FS_CREATE;
		n.right = fp.exists ? 0 : LL_FS_MAKE_SYM;
		break;
	case __NR_unlink:
	case __NR_rmdir:
	case __NR_unlinkat:
		n.access = FS_REMOVE;
		/* rmdir of a file, unlink of a directory: ENOTDIR, EISDIR first */
		if (fp.exists && S_ISDIR(fp.mode) == (nr == __NR_rmdir || (arg & AT_REMOVEDIR)))
			n.right = remove_right(fp.mode);
		break;
	default:
		return;
	}
	judge_all(sb, req, st, &n, 1);
}

/* Judges the call REQ, its paths resolved in the caller's ROOT from the
 * base directories B1 and B2 opened for it. */
static void judge_call(const struct sandbox *sb, const struct seccomp_notif *req,
		       struct broker_stats *st, int root, int b1, int b2)
{
	const __u64 *a = req->data.args;
	int nr = req->data.nr;

	switch (nr) {
	case __NR_open:
		judge_open(sb, req, st, root, b1, a[0], a[1]);
		break;
	case __NR_creat:
		judge_open(sb, req, st, root, b1, a[0], O_CREAT | O_WRONLY | O_TRUNC);
		break;
	case __NR_openat:
		judge_open(sb, req, st, root, b1, a[1], a[2]);
		break;
	case __NR_openat2: {
		struct open_how how = {0};
		struct iovec l = {.iov_base = &how, .iov_len = sizeof(how.flags)};
		struct iovec r = {.iov_base = (void *)(uintptr_t)a[2],
				  .iov_len = sizeof(how.flags)};
		if (a[3] >= sizeof(how.flags) &&
		    process_vm_readv(req->pid, &l, 1, &r, 1, 0) == (ssize_t)sizeof(how.flags))
			judge_open(sb, req, st, root, b1, a[1], how.flags);
		break;
	}
	case __NR_truncate:
	case __NR_mkdir:
	case __NR_unlink:
	case __NR_rmdir:
	case __NR_execve:
		judge_one(sb, req, st, root, b1, a[0], nr, 0);
		break;
	case __NR_mknod:
		judge_one(sb, req, st, root, b1, a[0], nr, a[1]);
		break;
	case __NR_mkdirat:
	case __NR_execveat:
		judge_one(sb, req, st, root, b1, a[1], nr, nr == __NR_execveat ? a[4] : 0);
		break;
	case __NR_mknodat:
		judge_one(sb, req, st, root, b1, a[1], nr, a[2]);
		break;
	case __NR_unlinkat:
		judge_one(sb, req, st, root, b1, a[1], nr, a[2]);
		break;
	case __NR_symlink:
		judge_one(sb, req, st, root, b1, a[1], __NR_symlink, 0);
		break;
	case __NR_symlinkat:
		judge_one(sb, req, st, root, b1, a[2], __NR_symlinkat, 0);
		break;
	case __NR_rename:
		judge_rename(sb, req, st, root, b1, a[0], b2, a[1], 0);
		break;
	case __NR_renameat:
		judge_rename(sb, req, st, root, b1, a[1], b2, a[3], 0);
		break;
	case __NR_renameat2:
		judge_rename(sb, req, st, root, b1, a[1], b2, a[3], (unsigned)a[4]);
		break;
	case __NR_link:
		judge_link(sb, req, st, root, b1, a[0], b2, a[1], false);
		break;
	case __NR_linkat:
		judge_link(sb, req, st, root, b1, a[1], b2, a[3], a[4] & AT_SYMLINK_FOLLOW);
		break;
	default:
		break;
	}
}

void fstrace_observe(int nfd, const struct seccomp_notif *req, const struct sandbox *sb,
		     struct broker_stats *st)
{
	_cleanup_close_ int root = -1, b1 = -1, b2 = -1;
	const __u64 *a = req->data.args;
	char p[64];
	int nr = req->data.nr;

	if (nr == __NR_ioctl) {
		judge_ioctl(sb, req, st);
		return;
	}
	snprintf(p, sizeof(p), "/proc/%d/root", req->pid);
	root = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* the base directories: the cwd, or the dirfd arguments */
	switch (nr) {
	case __NR_openat:
	case __NR_openat2:
	case __NR_mkdirat:
	case __NR_mknodat:
	case __NR_unlinkat:
	case __NR_execveat:
		b1 = ft_open_base(req->pid, (int)a[0]);
		break;
	case __NR_renameat:
	case __NR_renameat2:
	case __NR_linkat:
		b1 = ft_open_base(req->pid, (int)a[0]);
		b2 = ft_open_base(req->pid, (int)a[2]);
		break;
	case __NR_symlinkat:
		b1 = ft_open_base(req->pid, (int)a[1]);
		break;
	default:
		b1 = ft_open_base(req->pid, AT_FDCWD);
		b2 = nr == __NR_rename || nr == __NR_link ? ft_open_base(req->pid, AT_FDCWD) : -1;
		break;
	}
	/* the pid may have been reused once the call is gone: judge only
	 * with what was opened while it was alive */
	if (root < 0 || ioctl(nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return;
	judge_call(sb, req, st, root, b1, b2);
}

void fstrace_handle(int nfd, const struct seccomp_notif *req, const struct sandbox *sb,
		    struct broker_stats *st)
{
	fstrace_observe(nfd, req, sb, st);
	broker_respond(nfd, req->id, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}
