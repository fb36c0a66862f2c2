/* SPDX-License-Identifier: MIT */
/*
 * A copy-on-write view of the project's .git (with a mount namespace).
 *
 * git writes lock files in .git and renames them into place, so the
 * directory must stay writable for a commit, and then any absent name in it
 * can be created: commondir, config.worktree, objects/info/alternates,
 * rebase-merge/git-rebase-todo with `exec` lines, sequencer/todo.  A host
 * git run while the sandbox runs (an editor's `git status`) would follow
 * them.  So init mounts a private tmpfs directory over .git, in its own
 * mount namespace:
 *   - objects/, refs/ and logs/ are bound writable onto the real ones (what
 *     git writes there is content-addressed objects, object ids and ref
 *     logs: nothing the host runs), objects/info read-only (alternates;
 *     made first when absent, as git itself does);
 *   - every other directory (hooks, info, modules, worktrees, ...) is bound
 *     read-only, or copied when small and flat (see dir_kind());
 *   - config is bound read-only: what git inside runs stays the host's
 *     (and `protect` keeps its promise that the file cannot be written);
 *   - every other regular file (index, HEAD, packed-refs, ...) is copied
 *     into the tmpfs, owner and mode kept.
 * Whatever the sandbox creates or changes in the root of .git is seen by
 * nobody but the sandbox.  When the command has ended (and everything left
 * in its PID namespace is killed, so nothing races), init carries back an
 * allow-list of root files (index, HEAD, packed-refs, the *_HEAD files,
 * messages, split-index shares), each checked for its format, read through
 * descriptors that follow no symlink, and put in place in the real .git by a
 * temporary file and a rename.  A file the host itself changed during the
 * run is left as the host's, and said.  Everything else written there is
 * dropped, with one warning and an audit event per name.
 *
 * Limits: when the supervisor is killed (SIGKILL) nothing is carried back:
 * objects and refs written inside stay, the index and HEAD do not (the
 * host sees the run's commits as staged changes undone); a rebase or merge
 * left unfinished loses its state directory; what git keeps in other
 * directories (rr-cache, lfs, worktrees) and objects/info (commit-graph,
 * the pack list gc writes) is read-only inside.  Only a
 * .git directory the command's user owns (or any, when it runs as root) is
 * viewed: another's keeps protect.c's masks and exit checks.
 *
 * This file makes the view; gitview_carry.c carries it back, and
 * gitview_format.c says which files are carried and in what format.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gitview_internal.h"

/* Directories bound writable onto the real ones. */
static const char *const shared_dirs[] = {"objects", "refs", "logs"};

int gv_copy_fd(int in, int out, off_t size)
{
	off_t off = 0;

	while (off < size) {
		ssize_t n = sendfile(out, in, &off, (size_t)(size - off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
	}
	return 0;
}

static int add_bound(struct gitview *v, const char *name)
{
	char **b = realloc(v->bound, (v->n_bound + 1) * sizeof(*b));

	if (b)
		v->bound = b;
	if (!b || !(b[v->n_bound] = strdup(name)))
		return -ENOMEM;
	v->n_bound++;
	return 0;
}

/* NAME (in the real .git) bound onto the same name in the tmpfs. */
static int bind_in(struct gitview *v, const char *name, bool is_dir, bool readonly)
{
	_cleanup_close_ int tree =
	    open_tree(v->real_fd, name,
		      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};

	if (tree < 0)
		return -errno;
	if (readonly &&
	    mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return -errno;
	if (is_dir ? mkdirat(v->priv_fd, name, 0755) < 0 && errno != EEXIST
		   : mknodat(v->priv_fd, name, S_IFREG | 0600, 0) < 0)
		return -errno;
	if (move_mount(tree, "", v->priv_fd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return -errno;
	return add_bound(v, name);
}

/* What was made at start, to tell at the end what the sandbox changed. */
static int record_made(struct gitview *v, const char *name, const struct stat *host)
{
	struct gv_file *f = realloc(v->files, (v->n_files + 1) * sizeof(*f));

	if (!f)
		return -ENOMEM;
	v->files = f;
	f = &v->files[v->n_files];
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->host = *host;
	f->seen = false;
	if (fstatat(v->priv_fd, name, &f->copy, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	v->n_files++;
	return 0;
}

/* NAME (regular, ST) copied from directory IN_DIR into OUT_DIR, owner and
 * mode kept. */
static int copy_file(const struct gitview *v, int in_dir, int out_dir, const char *name,
		     const struct stat *st)
{
	_cleanup_close_ int in = -1, out = -1;

	in = openat(in_dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = openat(out_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     st->st_mode & 0777);
	if (out < 0)
		return -errno;
	if (v->chown && (st->st_uid != 0 || st->st_gid != 0) &&
	    fchown(out, st->st_uid, st->st_gid) < 0)
		return -errno;
	return gv_copy_fd(in, out, st->st_size);
}

static int copy_in(struct gitview *v, const char *name, const struct stat *st)
{
	int r = copy_file(v, v->real_fd, v->priv_fd, name, st);

	return r < 0 ? r : record_made(v, name, st);
}

/*
 * objects/info holds alternates, which lend the host's git another
 * repository's objects: bound read-only (a mount point, so it cannot be
 * renamed aside either), made first when absent, as git itself would.
 * commit-graph and packs (gc) are then not written inside.
 */
static int pin_objects_info(struct gitview *v)
{
	_cleanup_close_ int objects = -1, tree = -1;
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};

	objects = openat(v->real_fd, "objects", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (objects < 0)
		return errno == ENOENT ? 0 : -errno; /* not a repository git uses */
	if (mkdirat(objects, "info", 0755) == 0) {
		if (v->chown && fchownat(objects, "info", v->uid, v->gid, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	} else if (errno != EEXIST) {
		return -errno;
	}
	tree =
	    open_tree(objects, "info", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
	if (tree < 0)
		return -errno;
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return -errno;
	if (move_mount(tree, "", v->priv_fd, "objects/info", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/*
 * A directory other than objects, refs and logs is bound read-only, unless
 * it is small enough to copy: a mount costs ~30 us to make and tear down,
 * and what the sandbox changes in its copy is never carried back.  hooks is
 * always bound (a hook copied into the noexec tmpfs would not run inside
 * where an exec grant let it), unless it holds only git's *.sample files,
 * which never run: then it is made empty.
 */
enum gv_dir {
	GV_DIR_BIND = 1,
	GV_DIR_EMPTY,
	GV_DIR_COPY,
};

#define GV_COPY_FILES 8
#define GV_COPY_BYTES (64 << 10)

static enum gv_dir dir_kind(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_(closedirp) DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	bool hooks = strcmp(name, "hooks") == 0, samples_only = true;
	size_t files = 0;
	off_t bytes = 0;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return GV_DIR_BIND;
	}
	while ((de = readdir(d))) {
		struct stat st;
		size_t len = strlen(de->d_name);
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			return GV_DIR_BIND;
		samples_only &= len > 7 && strcmp(de->d_name + len - 7, ".sample") == 0;
		files++;
		bytes += st.st_size;
	}
	if (files == 0 || (hooks && samples_only))
		return GV_DIR_EMPTY;
	return !hooks && files <= GV_COPY_FILES && bytes <= GV_COPY_BYTES ? GV_DIR_COPY
									  : GV_DIR_BIND;
}

static int copy_dir(struct gitview *v, const char *name, const struct stat *st, bool empty)
{
	_cleanup_close_ int in = -1, out = -1;
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int r, fd;

	if (mkdirat(v->priv_fd, name, 0700) < 0)
		return -errno;
	out = openat(v->priv_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (out < 0)
		return -errno;
	if (fchmod(out, st->st_mode & 07777) < 0 ||
	    (v->chown && fchown(out, st->st_uid, st->st_gid) < 0))
		return -errno;
	if (!empty) {
		fd = openat(v->real_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		d = fd >= 0 ? fdopendir(fd) : NULL;
		if (!d) {
			if (fd >= 0)
				close(fd);
			return -errno;
		}
		while ((de = readdir(d))) {
			struct stat fst;
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if (fstatat(dirfd(d), de->d_name, &fst, AT_SYMLINK_NOFOLLOW) < 0)
				return -errno;
			if (!S_ISREG(fst.st_mode))
				continue; /* replaced since dir_kind(): not copied */
			r = copy_file(v, dirfd(d), out, de->d_name, &fst);
			if (r < 0)
				return r;
		}
	}
	return record_made(v, name, st);
}

static bool shared_dir(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(shared_dirs); i++)
		if (strcmp(shared_dirs[i], name) == 0)
			return true;
	return false;
}

static int view_one(struct gitview *v, int src_fd, size_t index, const char **ret_path)
{
	_cleanup_close_ int mnt = -1;
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	struct stat st;
	char opt[32];
	int r, lfd;

	*ret_path = v->path;
	if (fstat(v->real_fd, &st) < 0)
		return -errno;
	v->uid = st.st_uid;
	v->gid = st.st_gid;
	/* a directory of the tmpfs the masks come from, cloned: a tmpfs of
	 * its own would cost a superblock (~0.2 ms to make and tear down) */
	snprintf(opt, sizeof(opt), "g%zu", index);
	if (mkdirat(src_fd, opt, 0700) < 0 || fchmodat(src_fd, opt, st.st_mode & 07777, 0) < 0)
		return -errno;
	if (v->chown && fchownat(src_fd, opt, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	mnt = open_tree(src_fd, opt, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (mnt < 0)
		return -errno;
	v->priv_fd = steal_fd(&mnt);
	/* attached first: mounts are moved onto paths in our namespace only;
	 * nothing runs in it yet, and real_fd still reaches the real .git */
	if (move_mount(v->priv_fd, "", AT_FDCWD, v->path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return -errno;

	lfd = openat(v->real_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lfd < 0)
		return -errno;
	d = fdopendir(lfd);
	if (!d) {
		close(lfd);
		return -errno;
	}
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (fstatat(v->real_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone since */
		*ret_path = name;
		if (S_ISDIR(st.st_mode) && shared_dir(name))
			r = bind_in(v, name, true, false);
		else if (S_ISDIR(st.st_mode))
			switch (dir_kind(v->real_fd, name)) {
			case GV_DIR_EMPTY:
				r = copy_dir(v, name, &st, true);
				break;
			case GV_DIR_COPY:
				r = copy_dir(v, name, &st, false);
				break;
			case GV_DIR_BIND:
			default:
				r = bind_in(v, name, true, true);
				break;
			}
		else if (S_ISREG(st.st_mode) && strcmp(name, "config") == 0)
			r = bind_in(v, name, false, true);
		else if (S_ISREG(st.st_mode))
			r = copy_in(v, name, &st);
		else
			r = 0; /* a symlink, a socket (fsmonitor's): not for the sandbox */
		if (r < 0)
			return r;
	}
	*ret_path = "objects/info";
	r = pin_objects_info(v);
	if (r < 0)
		return r;
	*ret_path = v->path;
	return 0;
}

bool gitview_wanted(bool started_as_root, uid_t uid, uid_t outer_uid, const struct stat *st)
{
	/* the command could not write another's .git before either, and
	 * copies made by root must not give it the right */
	return started_as_root ? uid == 0 || st->st_uid == uid : st->st_uid == outer_uid;
}

int gitview_setup(const struct sandbox_plan *plan, int src_fd, struct gitviews *views,
		  const char **ret_path)
{
	for (size_t i = 0; i < plan->n_gitview_paths; i++) {
		struct gitview *v;
		int r, fd = open(plan->gitview_paths[i],
				 O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		/* gone or replaced since planning: nothing beneath it has a
		 * mask, so it is refused rather than left open */
		*ret_path = plan->gitview_paths[i];
		if (fd < 0)
			return -errno;
		v = realloc(views->v, (views->n + 1) * sizeof(*v));
		if (!v) {
			close(fd);
			return -ENOMEM;
		}
		views->v = v;
		v = &v[views->n++];
		*v = (struct gitview){.path = plan->gitview_paths[i],
				      .real_fd = fd,
				      .priv_fd = -1,
				      .chown = plan->started_as_root};
		r = view_one(v, src_fd, i, ret_path);
		if (r < 0)
			return r;
	}
	return 0;
}
