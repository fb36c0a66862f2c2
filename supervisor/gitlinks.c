/* SPDX-License-Identifier: MIT */
/*
 * Repositories nested in the project, checked when the sandbox has ended.
 *
 * The host's `git status` recurses into every gitlink (mode 160000) of the
 * index whose directory holds a .git, and runs that repository's
 * core.fsmonitor, reads its hooks path, and so on.  The sandbox may write
 * the index (it must, to commit) and make directories anywhere in the
 * project, so it can make a nested repository with a planted configuration
 * and record it as a gitlink; or change the configuration or hooks of a
 * nested repository that was there.  Which names it creates cannot be
 * restricted by Landlock or by mounts without taking new files from the
 * whole project, so the index is read once the sandbox has ended, and a
 * gitlink's .git that was created or changed while it ran (a `.git` file's
 * ctime, or that of the config, commondir, config.worktree, hooks or any
 * hook of a `.git` directory, is not older than the start) is renamed to .git.ringfence-blocked,
 * with a warning and an audit event.  ctime cannot be set back from inside.
 *
 * The index (and, for a split index, every .git/sharedindex.*, which
 * `git update-index --split-index` makes without any configuration) is
 * parsed here (versions 2 to 4, SHA-1 and SHA-256 names, as
 * gitformat-index(5) describes): no library reads it, and running git on a
 * repository the sandbox could write is the very thing to avoid.
 *
 * A nested repository that is not a gitlink is found by protect.c's walk at
 * start (two levels down) or by the watch while the sandbox runs
 * (protwatch.c); deeper ones by gitscan.c's walk at exit (README).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor.h"

#define GITLINK_MODE 0160000u

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool gitobj_newer(const struct stat *st, const struct timespec *since)
{
	return st->st_ctim.tv_sec > since->tv_sec ||
	       (st->st_ctim.tv_sec == since->tv_sec && st->st_ctim.tv_nsec >= since->tv_nsec);
}

/* Whether the .git at PARENT/NAME (a file or a directory) was made or
 * changed since SINCE, in any part git reads as commands. */
static bool git_changed(int parent, const char *name, const struct timespec *since)
{
	static const char *const parts[] = {"config", "commondir", "config.worktree", "hooks"};
	struct stat st;
	int g;
	bool changed = false;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	/* a `gitdir:` file (or a link) names where git goes: any change */
	if (!S_ISDIR(st.st_mode))
		return gitobj_newer(&st, since) || S_ISLNK(st.st_mode);
	/* a directory changes with every index write: only what holds
	 * commands counts (a repository made since has a new config) */
	g = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (g < 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(parts) && !changed; i++)
		if (fstatat(g, parts[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && gitobj_newer(&st, since))
			changed = true;
	if (!changed) {
		DIR *d = dir_stream_at(g, "hooks", O_NOFOLLOW);
		struct dirent *de;
		while (d && !changed && (de = readdir(d)))
			if (de->d_name[0] != '.' &&
			    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    gitobj_newer(&st, since))
				changed = true;
		if (d)
			closedir(d);
	}
	close(g);
	return changed;
}

/* The directory REL inside ROOT_FD, walked with no symlink followed. */
static int open_beneath(int root_fd, const char *rel)
{
	char buf[PATH_MAX], *save = NULL;
	int dir = dup(root_fd);

	if (dir < 0)
		return -errno;
	if ((size_t)snprintf(buf, sizeof(buf), "%s", rel) >= sizeof(buf)) {
		close(dir);
		return -ENAMETOOLONG;
	}
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int d;
		if (strcmp(c, "..") == 0 || strcmp(c, ".") == 0) {
			close(dir);
			return -EINVAL;
		}
		d = openat(dir, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dir);
		if (d < 0)
			return -errno;
		dir = d;
	}
	return dir;
}

static void check_gitlink(const struct sandbox *sb, int root_fd, const char *root, const char *rel,
			  const struct timespec *since)
{
	int dir = open_beneath(root_fd, rel);
	struct stat st;
	char js[PATH_MAX + 64], path[PATH_MAX];

	if (dir < 0) {
		/* not checked out; or reached through a symlink, which the
		 * host's git may follow: say so rather than pass over it */
		if (dir != -ENOENT &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s/.git", root, rel) < sizeof(path) &&
		    lstat(path, &st) == 0)
			warn(
			    "%s is reached through a symbolic link made in the project and was NOT "
			    "checked; review it before running git in %s",
			    path, root);
		return;
	}
	if (fstatat(dir, ".git", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    git_changed(dir, ".git", since)) {
		bool ok = owner_renameat(sb, dir, ".git", dir, ".git.ringfence-blocked",
					 RENAME_NOREPLACE) == 0;
		snprintf(path, sizeof(path), "%s/%s/.git", root, rel);
		warn("the sandbox made or changed %s, a repository the host's git enters from %s: "
		     "%s",
		     path, root,
		     ok ? "renamed to .git.ringfence-blocked; review it"
			: "it could NOT be moved aside; review it before running git here");
		json_string(js, sizeof(js), path);
		audit_event(sb->audit_fd, "protect.created", "\"path\":%s,\"moved\":%s", js,
			    ok ? "true" : "false");
	}
	close(dir);
}

struct gitlink_ud {
	void (*fn)(void *ud, const char *path);
	void *ud;
};

static void on_index_entry(void *ud, const char *path, uint32_t mode, const unsigned char *oid,
			   size_t sz)
{
	const struct gitlink_ud *g = ud;

	(void)oid;
	(void)sz;
	if ((mode & 0170000u) == GITLINK_MODE)
		g->fn(g->ud, path);
}

int gitlinks_parse(const unsigned char *p, size_t n, void (*fn)(void *ud, const char *path),
		   void *ud)
{
	struct gitlink_ud g = {fn, ud};

	return gitindex_parse(p, n, on_index_entry, &g);
}

/*
 * The cache tree (the TREE extension) of an index whose entries end at
 * OFF: each node that is valid (its entry count not -1), FN with its path
 * ("" for the top) and tree id.  git writes its next commit's trees from
 * these, not from the entries, wherever they are valid.  Nodes come
 * parent first, each with the number of subtrees that follow it.
 */
static int cache_tree(const unsigned char *p, size_t off, size_t end, size_t hashsz,
		      gitindex_tree_fn *fn, void *ud)
{
	struct {
		size_t len;
		long left;
	} up[64];
	char path[PATH_MAX] = "";
	int depth = 0;
	bool top = true;

	while (off < end) {
		const unsigned char *nul = memchr(p + off, 0, end - off);
		if (!nul)
			return -EINVAL;
		size_t nlen = (size_t)(nul - (p + off));
		const char *name = (const char *)p + off;
		char *e;
		off += nlen + 1;
		const unsigned char *lf = memchr(p + off, '\n', end - off);
		if (!lf || lf - (p + off) > 40)
			return -EINVAL;
		char nums[48];
		memcpy(nums, p + off, (size_t)(lf - (p + off)));
		nums[lf - (p + off)] = '\0';
		long entries = strtol(nums, &e, 10), subtrees;
		if (*e != ' ' || (subtrees = strtol(e + 1, &e, 10), *e) || subtrees < 0 ||
		    entries < -1)
			return -EINVAL;
		off = (size_t)(lf - p) + 1;
		size_t base = depth ? up[depth - 1].len : 0;
		if (top) {
			if (nlen)
				return -EINVAL;
			top = false;
		} else if (!depth || base + 1 + nlen >= sizeof(path)) {
			return -EINVAL; /* a node past the top's subtrees */
		} else {
			up[depth - 1].left--;
			if (base)
				path[base++] = '/';
			memcpy(path + base, name, nlen);
			base += nlen;
		}
		path[base] = '\0';
		if (entries >= 0) {
			if (end - off < hashsz)
				return -EINVAL;
			fn(ud, path, p + off, hashsz);
			off += hashsz;
		}
		if (subtrees) {
			if (depth >= (int)(sizeof(up) / sizeof(up[0])))
				return -EINVAL;
			up[depth].len = base;
			up[depth].left = subtrees;
			depth++;
		}
		while (depth && up[depth - 1].left == 0)
			depth--;
		if (!depth)
			break;
	}
	return depth ? -EINVAL : 0;
}

/*
 * The resolve-undo extension (REUC) of an index: each path with the
 * versions of a conflict resolved since, which `git checkout -m PATH`
 * puts back.  FN with each (stage 1 to 3, its mode not 0).
 */
static int resolve_undo(const unsigned char *p, size_t off, size_t end, size_t hashsz,
			gitindex_entry_fn *fn, void *ud)
{
	while (off < end) {
		const unsigned char *nul = memchr(p + off, 0, end - off);
		if (!nul || (size_t)(nul - (p + off)) >= PATH_MAX)
			return -EINVAL;
		const char *path = (const char *)p + off;
		uint32_t modes[3];
		off = (size_t)(nul - p) + 1;
		for (int i = 0; i < 3; i++) {
			const unsigned char *z = memchr(p + off, 0, end - off);
			char *e;
			if (!z || z - (p + off) > 8)
				return -EINVAL;
			modes[i] = (uint32_t)strtoul((const char *)p + off, &e, 8);
			if ((const unsigned char *)e != z)
				return -EINVAL;
			off = (size_t)(z - p) + 1;
		}
		for (int i = 0; i < 3; i++) {
			if (!modes[i])
				continue;
			if (end - off < hashsz)
				return -EINVAL;
			fn(ud, path, modes[i], p + off, hashsz);
			off += hashsz;
		}
	}
	return 0;
}

static int index_parse(const unsigned char *p, size_t n, size_t want_sz, gitindex_entry_fn *fn,
		       gitindex_tree_fn *tree_fn, void *ud);

/* The IEOT extension (D, SIZE bytes: a version, then per block the offset
 * of its first entry and how many it holds): each block where STARTS has
 * an entry, all COUNT of them. */
static bool blocks_ok(const unsigned char *d, size_t size, const size_t *starts, uint32_t count)
{
	uint64_t at = 0;

	if (size < 4 || be32(d) != 1 || (size - 4) % 8)
		return false;
	for (size_t b = 4; b < size; b += 8) {
		uint32_t off = be32(d + b), nr = be32(d + b + 4);
		if (at >= count || nr > count - at || starts[at] != off)
			return false;
		at += nr;
	}
	return at == count;
}

int gitindex_parse(const unsigned char *p, size_t n, gitindex_entry_fn *fn, void *ud)
{
	return index_parse(p, n, 0, fn, NULL, ud);
}

int gitindex_parse_all(const unsigned char *p, size_t n, size_t hashsz, gitindex_entry_fn *fn,
		       gitindex_tree_fn *tree_fn, void *ud)
{
	return index_parse(p, n, hashsz, fn, tree_fn, ud);
}

/* The path of the entry that began at START, its name at *AT of P (N
 * bytes), into NAME (PATH_MAX) and *RET_LEN: version 4's with the leading
 * part of the entry before's (PREV, PREV_LEN) it keeps, the others' padded;
 * *AT then past it.  False when it does not fit in the index or PATH_MAX. */
static bool entry_name(const unsigned char *p, size_t n, uint32_t version, size_t start, size_t *at,
		       const char *prev, size_t prev_len, char *name, size_t *ret_len)
{
	size_t o = *at;
	const unsigned char *nul;
	size_t len;

	if (version == 4) {
		size_t strip = 0;
		unsigned char c;
		if (o >= n)
			return false;
		c = p[o++];
		strip = c & 127;
		while (c & 128) {
			if (o >= n || strip > PATH_MAX)
				return false;
			c = p[o++];
			strip = ((strip + 1) << 7) + (c & 127);
		}
		if (strip > prev_len)
			return false;
		nul = memchr(p + o, 0, n - o);
		if (!nul || prev_len - strip + (size_t)(nul - (p + o)) >= PATH_MAX)
			return false;
		len = prev_len - strip;
		memcpy(name, prev, len);
		memcpy(name + len, p + o, (size_t)(nul - (p + o)));
		len += (size_t)(nul - (p + o));
		o = (size_t)(nul - p) + 1;
	} else {
		nul = memchr(p + o, 0, n - o);
		if (!nul || (size_t)(nul - (p + o)) >= PATH_MAX)
			return false;
		len = (size_t)(nul - (p + o));
		memcpy(name, p + o, len);
		/* padded with 1 to 8 NULs to a multiple of 8 */
		o = start + ((o - start + len + 8) & ~(size_t)7);
	}
	*at = o;
	*ret_len = len;
	return true;
}

/* The extensions of P (N bytes), from O, where the entries end, up to the
 * checksum: the cache tree's nodes to TREE_FN, the resolve-undo's
 * versions to FN; where git's threads start reading checked against
 * STARTS (COUNT entries).  0, or -EINVAL. */
static int extensions(const unsigned char *p, size_t n, size_t o, int hashsz, const size_t *starts,
		      uint32_t count, gitindex_entry_fn *fn, gitindex_tree_fn *tree_fn, void *ud)
{
	/* the extensions, up to the checksum: the cache tree's nodes */
	size_t entries_end = o;
	while (tree_fn && o + 8 <= n - (size_t)hashsz && n >= (size_t)hashsz) {
		uint32_t size = be32(p + o + 4);
		if (size > n - (size_t)hashsz - o - 8)
			return -EINVAL;
		/* where git's threads start reading: the end of the
		 * entries (EOIE), each block of entries (IEOT), which
		 * must be where this reading found them, else git
		 * reads other entries, or other extensions, than these */
		if (memcmp(p + o, "EOIE", 4) == 0 && (size < 4 || be32(p + o + 8) != entries_end))
			return -EINVAL;
		if (memcmp(p + o, "IEOT", 4) == 0 && !blocks_ok(p + o + 8, size, starts, count))
			return -EINVAL;
		if (memcmp(p + o, "TREE", 4) == 0 &&
		    cache_tree(p, o + 8, o + 8 + size, (size_t)hashsz, tree_fn, ud) < 0)
			return -EINVAL;
		if (memcmp(p + o, "REUC", 4) == 0 &&
		    resolve_undo(p, o + 8, o + 8 + size, (size_t)hashsz, fn, ud) < 0)
			return -EINVAL;
		o += 8 + size;
	}
	return 0;
}

static int index_parse(const unsigned char *p, size_t n, size_t want_sz, gitindex_entry_fn *fn,
		       gitindex_tree_fn *tree_fn, void *ud)
{
	uint32_t version, count;
	size_t off = 12;
	char prev[PATH_MAX] = "";
	size_t prev_len = 0;

	if (n < 12 || memcmp(p, "DIRC", 4) != 0)
		return -EINVAL;
	version = be32(p + 4);
	count = be32(p + 8);
	if (version < 2 || version > 4)
		return -EINVAL;
	/* each entry's offset, for the IEOT extension's check (an entry
	 * takes at least 62 bytes: a count past that is no index) */
	_cleanup_free_ size_t *starts = NULL;
	if (tree_fn) {
		if (count > n / 62)
			return -EINVAL;
		starts = malloc(((size_t)count + 1) * sizeof(*starts));
		if (!starts)
			return -ENOMEM;
	}
	/* the repository's object id size, when known: an index of SHA-256
	 * entries can be made to read as one of SHA-1 entries as well */
	for (int hashsz = 20; hashsz <= 32; hashsz += 12) {
		bool ok = true;
		if (want_sz && (size_t)hashsz != want_sz)
			continue;
		size_t o = off;
		prev_len = 0;
		prev[0] = '\0';
		/* a first pass only checks; the second (same hash size) reports */
		for (int pass = 0; pass < 2 && ok; pass++) {
			o = off;
			prev_len = 0;
			for (uint32_t i = 0; i < count && ok; i++) {
				size_t start = o, fixed = 40 + (size_t)hashsz + 2;
				if (starts && pass == 1)
					starts[i] = start;
				if (o + fixed > n) {
					ok = false;
					break;
				}
				uint32_t mode = be32(p + o + 24);
				unsigned flags =
				    (unsigned)p[o + 40 + hashsz] << 8 | p[o + 41 + hashsz];
				o += fixed;
				if (flags & 0x4000) {
					/* the extended flags: within the file too */
					if (version < 3 || o + 2 > n) {
						ok = false;
						break;
					}
					o += 2;
				}
				char name[PATH_MAX];
				size_t len;
				if (!entry_name(p, n, version, start, &o, prev, prev_len, name,
						&len)) {
					ok = false;
					break;
				}
				name[len] = '\0';
				if ((flags & 0xfff) != 0xfff && (flags & 0xfff) != len) {
					ok = false;
					break;
				}
				memcpy(prev, name, len + 1);
				prev_len = len;
				if (pass == 1)
					fn(ud, name, mode, p + start + 40, (size_t)hashsz);
			}
		}
		if (!ok)
			continue;
		return extensions(p, n, o, hashsz, starts, count, fn, tree_fn, ud);
	}
	return -EINVAL;
}

struct check_ctx {
	const struct sandbox *sb;
	int root_fd;
	const char *root;
};

static void on_gitlink(void *ud, const char *path)
{
	struct check_ctx *c = ud;

	check_gitlink(c->sb, c->root_fd, c->root, path, &c->sb->started_at);
}

static void check_index(int git, const char *name, const char *root, struct check_ctx *c)
{
	int fd = openat(git, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	void *map;

	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 12) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED) {
			if (gitlinks_parse(map, (size_t)st.st_size, on_gitlink, c) < 0)
				warn("%s/.git/%s could not be read: repositories nested in it were "
				     "not checked",
				     root, name);
			munmap(map, (size_t)st.st_size);
		}
	}
	close(fd);
}

void gitlinks_check_grant(const struct sandbox *sb, const char *w)
{
	char probe[PATH_MAX];
	char *root;
	int root_fd, git;

	/* most grants hold no repository: one access() says so (the walk
	 * below, which follows no symlink, is for those that do) */
	if ((size_t)snprintf(probe, sizeof(probe), "%s/.git/index", w) >= sizeof(probe) ||
	    access(probe, F_OK) < 0)
		return;
	root = realpath(w, NULL);
	if (!root)
		return;
	root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd >= 0) {
		int r = open_beneath(root_fd, root + 1);
		close(root_fd);
		root_fd = r;
	}
	if (root_fd < 0) {
		free(root);
		return;
	}
	git = openat(root_fd, ".git", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (git >= 0) {
		struct check_ctx c = {sb, root_fd, root};
		check_index(git, "index", root, &c);
		/* a split index keeps most entries in sharedindex.<hash>
		 * (`git update-index --split-index` needs no config) */
		int dfd = dup(git);
		DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
		struct dirent *de;
		if (dfd >= 0 && !d)
			close(dfd);
		while (d && (de = readdir(d)))
			if (strncmp(de->d_name, "sharedindex.", 12) == 0)
				check_index(git, de->d_name, root, &c);
		if (d)
			closedir(d);
	}
	if (git >= 0)
		close(git);
	close(root_fd);
	free(root);
}

void gitlinks_finish(const struct sandbox *sb)
{
	const struct policy *p = sb->policy;

	gitscan_all(sb, -1);
	gitscan_global_includes(sb);
	for (size_t i = 0; i < p->fs.write.n; i++)
		gitlinks_check_grant(sb, p->fs.write.items[i].value);
}
