/* SPDX-License-Identifier: MIT */
/*
 * The mounts the write grants decide (steps 5 and 5b of mounts.c, which has
 * the picture): write grants that are not exec grants bound onto themselves
 * noexec, and every other mount made read-only, the write grants put back
 * over it as they were.  Both are planned from the same list of grants: the
 * Landlock rules and the directories split around a carve-out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "mounts_internal.h"

/*
 * Write grants that are not exec grants, bound onto themselves noexec: a file
 * the command wrote must not run, and Landlock's execute right covers only
 * execve, not `ld.so ./file` or mmap(PROT_EXEC) of it; noexec covers all
 * three.  Recursive, so mounts beneath (the carried parts of a private /tmp)
 * are covered too.  Exec grants beneath such a grant (a build directory in
 * the project, the test's binaries under /tmp) are bound again with exec
 * given back, unless the host itself mounted them noexec.  Device nodes are
 * skipped: mapping one executable gives nothing a file could.
 */
static bool exec_granted(const struct sandbox_plan *plan, const char *path)
{
	return landlock_plan_allows(plan->fs, path, LL_FS_EXECUTE);
}

static int set_noexec(const char *path, bool on)
{
	struct mount_attr attr = {.attr_set = on ? MOUNT_ATTR_NOEXEC : 0,
				  .attr_clr = on ? 0 : MOUNT_ATTR_NOEXEC};
	_cleanup_close_ int tree = -1;
	struct statx stx;

	/* a mount of our own already (the private /tmp, a carried grant),
	 * or the root (a clone moved onto / is seen by no path lookup: a
	 * process's root is the mount beneath it): change it in place */
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, 0, &stx) == 0 &&
	    (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	    (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
		if (mount_setattr(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | AT_RECURSIVE, &attr,
				  sizeof(attr)) < 0)
			return -errno;
		return 0;
	}
	tree = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		return -errno;
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return -errno;
	if (move_mount(tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/* What the write-related mounts are planned from: each Landlock rule, and
 * each directory split around a carve-out with the rights its grant had
 * (its entries' rules follow from those: one mount for the directory
 * covers them, where one each cost a descriptor and a mount apiece, and
 * a project of thousands of entries ran out of both). */
struct grant {
	const char *path;
	uint64_t access;
};

static size_t plan_grants(const struct sandbox_plan *plan, struct grant *g)
{
	const struct landlock_plan *pl = plan->fs;
	size_t n = 0;

	for (size_t i = 0; i < pl->n; i++)
		g[n++] = (struct grant){pl->rules[i].path, pl->rules[i].access};
	for (size_t i = 0; i < pl->n_splits; i++)
		g[n++] = (struct grant){pl->splits[i].path, pl->splits[i].rights};
	return n;
}

int mount_writes_noexec(const struct sandbox_plan *plan, const char **ret_path)
{
	const struct landlock_plan *pl = plan->fs;
	size_t g_size = (pl->n + pl->n_splits + 1) * sizeof(struct grant);
	struct grant *g = scratch_map(g_size);
	size_t n, flags_size;
	bool *host_noexec;
	int r = 0;

	if (!g)
		return -ENOMEM;
	n = plan_grants(plan, g);
	/* two flags a grant: [0] the host has it noexec already (left as it
	 * is), [1] it writes and executes nothing (a noexec candidate); once
	 * each, not in the pairwise loop below (landlock_plan_allows walks
	 * every rule: a project split into 1,100 entries took 10 s) */
	flags_size = (2 * n + 1) * sizeof(*host_noexec);
	host_noexec = scratch_map(flags_size);
	if (!host_noexec) {
		scratch_unmap(g, g_size);
		return -ENOMEM;
	}
	bool *noexec_cand = host_noexec + n;
	for (size_t i = 0; i < n; i++) {
		struct statvfs vfs;
		host_noexec[i] = statvfs(g[i].path, &vfs) == 0 && (vfs.f_flag & ST_NOEXEC);
		noexec_cand[i] = (g[i].access & LL_FS_WRITE_FILE) &&
				 !(g[i].access & LL_FS_EXECUTE) && !exec_granted(plan, g[i].path);
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		const char *path = g[i].path;
		struct stat st;
		bool done = false;
		if (!noexec_cand[i] || host_noexec[i])
			continue;
		for (size_t j = 0; j < n && !done; j++)
			done = j != i && noexec_cand[j] && landlock_path_beneath(path, g[j].path) &&
			       (strcmp(g[j].path, path) != 0 || j < i);
		if (done || lstat(path, &st) < 0 || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)))
			continue; /* covered by a grant above it; gone; a device */
		*ret_path = path;
		r = set_noexec(path, true);
	}
	for (size_t i = 0; i < pl->n && r == 0; i++) {
		const char *path = pl->rules[i].path;
		struct statvfs vfs;
		if (!(pl->rules[i].access & LL_FS_EXECUTE) || host_noexec[i] ||
		    statvfs(path, &vfs) < 0 || !(vfs.f_flag & ST_NOEXEC))
			continue;
		*ret_path = path;
		r = set_noexec(path, false);
	}
	scratch_unmap(host_noexec, flags_size);
	scratch_unmap(g, g_size);
	return r;
}

/* What makes, changes or removes an entry: a grant holding any of these
 * needs a writable mount beneath it. */
#define MODIFY_RIGHTS (LANDLOCK_WRITE & ~(LANDLOCK_READ | LL_FS_IOCTL_DEV))

/* Whether grant I of G[N] writes and no other writing one holds it. */
static bool outermost_write(const struct grant *g, size_t n, size_t i)
{
	if (!(g[i].access & MODIFY_RIGHTS))
		return false;
	for (size_t j = 0; j < n; j++) {
		if (j == i || !(g[j].access & MODIFY_RIGHTS) ||
		    !landlock_path_beneath(g[i].path, g[j].path))
			continue;
		/* the same path twice: the first one counts */
		if (strcmp(g[i].path, g[j].path) != 0 || j < i)
			return false;
	}
	return true;
}

/*
 * Every mount read-only but the write grants.  Landlock has no right for a
 * file's mode, owner, times or extended attributes: chmod, chown,
 * utimensat and setxattr need only that the caller own the file (root
 * owns the host's), so without this a command could make the host's files
 * world-writable or change their times wherever it can see them.  A
 * read-only mount refuses all of them (EROFS), as it refuses writes.
 *
 * How: each write grant that no other one holds (a directory or a regular
 * file: writes to devices, FIFOs and sockets do not care) is cloned as it
 * is, with whatever is mounted beneath it and each mount's own flags; then
 * the whole tree is made read-only at once; then the clones are put back
 * over their paths.  Nothing is ever made writable that was not: a mount
 * the host has read-only stays so inside a grant, and the flags a user
 * namespace locks are never cleared.  After this, every mount made beneath
 * a grant (protect's binds, the views of .git, the masks) is made on the
 * clone.  A directory split around a carve-out is one grant here, as the
 * policy wrote it: Landlock keeps the carve-out.
 */
int mount_rest_readonly(const struct sandbox_plan *plan, const char **ret_path)
{
	const struct landlock_plan *pl = plan->fs;
	size_t g_size = (pl->n + pl->n_splits + 1) * sizeof(struct grant), trees_size;
	struct grant *g = scratch_map(g_size);
	struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
	size_t n;
	int *trees, r = 0;

	if (!g)
		return -ENOMEM;
	n = plan_grants(plan, g);
	trees_size = (n + 1) * sizeof(*trees);
	trees = scratch_map(trees_size);
	if (!trees) {
		scratch_unmap(g, g_size);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		trees[i] = -1;
	for (size_t i = 0; i < n; i++) {
		const char *path = g[i].path;
		struct stat st;

		if (r < 0 || !outermost_write(g, n, i))
			continue;
		/* a grant of the whole tree leaves nothing to make read-only
		 * (and a clone moved onto / is seen by no path lookup: a
		 * process's root is the mount beneath it) */
		if (strcmp(path, "/") == 0) {
			r = 1;
			break;
		}
		*ret_path = path;
		if (lstat(path, &st) < 0) {
			if (errno != ENOENT)
				r = -errno;
			continue; /* gone since it was planned: Landlock has no rule either */
		}
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
			continue;
		trees[i] = open_tree(AT_FDCWD, path,
				     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
					 AT_SYMLINK_NOFOLLOW);
		if (trees[i] < 0)
			r = -errno;
	}
	if (r == 0) {
		*ret_path = "/";
		if (mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof(ro)) < 0)
			r = -errno;
	}
	if (r > 0) {
		for (size_t i = 0; i < n; i++)
			if (trees[i] >= 0)
				close(trees[i]);
		scratch_unmap(trees, trees_size);
		scratch_unmap(g, g_size);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (trees[i] < 0)
			continue;
		if (r == 0) {
			*ret_path = g[i].path;
			if (move_mount(trees[i], "", AT_FDCWD, g[i].path, MOVE_MOUNT_F_EMPTY_PATH) <
			    0)
				r = -errno;
		}
		close(trees[i]);
	}
	scratch_unmap(trees, trees_size);
	scratch_unmap(g, g_size);
	return r;
}
