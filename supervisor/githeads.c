/* SPDX-License-Identifier: MIT */
/*
 * What the sandbox records in a project's index and refs at protected
 * paths, checked when it has ended.
 *
 * A protected path's file (.husky/pre-commit under core.hooksPath = .husky,
 * .envrc, .vscode/tasks.json, ...) stays read-only in the worktree, but its
 * tracked content is the sandbox's to change: objects and refs are written
 * in place, and the index and HEAD are carried back (gitview.c; the file
 * gate without namespaces).  The host then sees that file "modified" in its
 * worktree, and discarding the change as git suggests (`git checkout -- .`,
 * `git stash`, `git reset --hard`, `git reset --hard ORIG_HEAD`), or
 * checking out a branch the sandbox made, writes the sandbox's version: a
 * hook the next commit runs.
 *
 * So each write grant that is a repository (its .git a directory) has, at
 * the start, its HEAD noted (the file, the commit it names, and what that
 * commit's tree holds at the protected paths: read before the sandbox can
 * write an object of one of those names) and its index and packed-refs
 * held open (git and the view replace them by a rename: the host's stay
 * readable).  Once the sandbox has ended, what git
 * would check out at a protected path must be what the host had there at
 * the start, in its HEAD commit's tree or its index (the baseline, same
 * path, mode and object), or nothing:
 *   - every entry of the index at or beneath a protected path;
 *   - the tree of the commit each ref made or changed during the run
 *     points to (a loose ref's ctime; a packed-refs line the start's file
 *     did not have), a stash's index and untracked commits too, a detached
 *     HEAD, ORIG_HEAD, and the commit HEAD resolves to; and below each,
 *     every commit the run made, through every parent, down to the first
 *     older one on each way (history_ok());
 *   - each entry the stash's reflog did not have at the start (`git stash
 *     pop` takes them in turn).
 * Objects are read by their names as git reads them (gitobj.c); what
 * cannot be read counts as changed.  No object's age is trusted: one the
 * sandbox wrote in an earlier run, or left unreferenced, is no older for
 * that.  The same names could hold other content: before these checks,
 * the copies of what the host's git reads at the protected paths are
 * checked against their names, and from then on an object whose copies
 * differ does not read (gitobj_end()).
 *
 * What differs is undone, said on stderr and in the audit log
 * (protect.git_content):
 *   - the index: the host's from the start put back, or, when there was
 *     none or it was rewritten in place, moved aside;
 *   - a ref: its commit kept as refs/ringfence-blocked/REF (which no host
 *     git checks out unasked), and the ref set back: the branch HEAD was on
 *     to HEAD's commit at the start, another to its first first-parent
 *     ancestor from before the run that passes (within PARENTS_MAX), or
 *     removed (refs/stash
 *     always: a stash's parent is no stash; a stash list's entry is taken
 *     out of it); ORIG_HEAD and
 *     a detached HEAD to the start's HEAD commit; HEAD itself, when what
 *     it names still fails, to the start's HEAD file.
 * Protected paths: protect.c's built-in names of a project (but git's own
 * .git/...), the policy's protect entries in the repository, and the
 * core.hooksPath directories its config and the host's own configuration
 * name.  Limits (SECURITY.md): only write grants that are repositories (not
 * those nested in them); reflog entries but the stash's (HEAD@{1}), and
 * commits older than the run below a tip (but the first on each way) are
 * not looked at; a linked worktree's index and HEAD neither.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#include "gitobj.h"
#include "supervisor.h"

#define REFS_DEPTH    16
#define PARENTS_MAX   1000
#define PROTECTED_MAX 512
#define BASELINE_MAX  65536
#define INDEX_MAX     (2ull << 30)

struct entry {
	char *path;
	uint32_t mode;
	unsigned char oid[32];
};

/* A repository of a write grant: what the start noted, and the object
 * reader's state. */
struct githead {
	const struct sandbox *sb;
	char *top;
	char index_path[PATH_MAX];
	int index_fd;	/* the host's index at the start, held, or -1 */
	int packed_fd;	/* its packed-refs, or -1 */
	char *stashlog; /* its logs/refs/stash at the start (git appends to
			   it in place: a copy, not the file held) */
	size_t stashlog_len;
	char head_file[PATH_MAX];
	unsigned char head_oid[32]; /* the commit HEAD named at the start */
	size_t head_sz;		    /* 0: none */
	char head_ref[PATH_MAX];    /* the branch it was on, or "" */
	int git;		    /* the .git directory */
	struct gitobj o;	    /* its objects */
	const char *protected[PROTECTED_MAX];
	size_t n_protected;
	char *owned[PROTECTED_MAX]; /* the strings of protected[] made here */
	size_t n_owned;
	struct entry *base; /* the baseline: what the host had at the start */
	size_t n_base;
	bool base_cut;	   /* not all of it could be read */
	bool base_indexed; /* the held index added to it (base_ready()) */
	uint64_t first[4]; /* the first bytes of the protected paths, a set */
};
static void base_ready(struct githead *r);

/* The entry NAME (LEN bytes) of the tree BUF: its mode and object id. */
static bool tree_find(const struct githead *r, const unsigned char *buf, size_t n, const char *name,
		      size_t len, uint32_t *mode, unsigned char *oid)
{
	for (size_t at = 0; at < n;) {
		const unsigned char *nul = memchr(buf + at, 0, n - at);
		const unsigned char *sp =
		    nul ? memchr(buf + at, ' ', (size_t)(nul - (buf + at))) : NULL;
		if (!nul || !sp || (size_t)(nul + 1 - buf) + r->o.sz > n)
			return false;
		if ((size_t)(nul - sp - 1) == len && memcmp(sp + 1, name, len) == 0) {
			*mode = (uint32_t)strtoul((const char *)buf + at, NULL, 8);
			memcpy(oid, nul + 1, r->o.sz);
			return true;
		}
		at = (size_t)(nul + 1 - buf) + r->o.sz;
	}
	return false;
}

/* Trees are stored with modes like 40000; the index says 040000 too. */
static uint32_t norm_mode(uint32_t m)
{
	if ((m & 0170000u) == 0040000u)
		return 0040000u;
	if ((m & 0170000u) == 0100000u)
		return (m & 0111) ? 0100755u : 0100644u;
	return m & 0170000u;
}

static bool base_has(const struct githead *r, const char *path, uint32_t mode,
		     const unsigned char *oid)
{
	for (size_t i = 0; i < r->n_base; i++)
		if (r->base[i].mode == norm_mode(mode) &&
		    memcmp(r->base[i].oid, oid, r->o.sz) == 0 && strcmp(r->base[i].path, path) == 0)
			return true;
	return false;
}

/* Whether the baseline has the entry; the start's index is read into it at
 * the first miss only (most runs find what they look for in HEAD's tree,
 * and a large index costs milliseconds to read). */
static bool in_base(struct githead *r, const char *path, uint32_t mode, const unsigned char *oid)
{
	if (base_has(r, path, mode, oid))
		return true;
	if (r->base_indexed)
		return false;
	base_ready(r);
	return base_has(r, path, mode, oid);
}

static void base_add(struct githead *r, const char *path, uint32_t mode, const unsigned char *oid)
{
	if (base_has(r, path, mode, oid))
		return;
	if (r->n_base >= BASELINE_MAX) {
		r->base_cut = true;
		return;
	}
	struct entry *v = realloc(r->base, (r->n_base + 1) * sizeof(*v));
	char *p = v ? strdup(path) : NULL;
	if (!p) {
		r->base = v ? v : r->base;
		r->base_cut = true;
		return;
	}
	r->base = v;
	v[r->n_base] = (struct entry){.path = p, .mode = norm_mode(mode)};
	memcpy(v[r->n_base].oid, oid, r->o.sz);
	r->n_base++;
}

/*
 * The entry at PATH (MODE, OID), and below it when a tree: with ADD, put
 * in the baseline; else whether each is in it (a tree that is, whole).
 * A gitlink names another repository's commit: its own checks are
 * gitlinks.c's.
 */
static bool walk_entry(struct githead *r, const char *path, uint32_t mode, const unsigned char *oid,
		       bool add, int depth)
{
	unsigned char *buf;
	size_t n;
	bool ok = true;

	if ((mode & 0170000u) == 0160000u)
		return true;
	if (add)
		base_add(r, path, mode, oid);
	else if (in_base(r, path, mode, oid))
		return true;
	if ((mode & 0170000u) != 0040000u)
		return add;
	if (depth > 64 || gitobj_read_typed(&r->o, oid, OBJ_TREE, &buf, &n) < 0) {
		if (add)
			r->base_cut = true;
		return false;
	}
	for (size_t at = 0; at < n && (ok || add);) {
		unsigned char *nul = memchr(buf + at, 0, n - at);
		unsigned char *sp = nul ? memchr(buf + at, ' ', (size_t)(nul - (buf + at))) : NULL;
		char sub[PATH_MAX];
		if (!nul || !sp || (size_t)(nul + 1 - buf) + r->o.sz > n ||
		    (size_t)snprintf(sub, sizeof(sub), "%s/%.*s", path, (int)(nul - sp - 1),
				     (char *)sp + 1) >= sizeof(sub)) {
			ok = false;
			break;
		}
		uint32_t m = (uint32_t)strtoul((char *)buf + at, NULL, 8);
		if (!walk_entry(r, sub, m, nul + 1, add, depth + 1))
			ok = false;
		at = (size_t)(nul + 1 - buf) + r->o.sz;
	}
	free(buf);
	return ok;
}

/* The commit (or what the tag names) OID's tree, in *TREE. */
static bool commit_tree(struct githead *r, const unsigned char *oid, unsigned char *tree,
			unsigned char **ret_buf, size_t *ret_len)
{
	enum obj_type t;
	unsigned char cur[32];

	memcpy(cur, oid, r->o.sz);
	for (int i = 0; i < 8; i++) {
		unsigned char *buf;
		size_t n;
		if (gitobj_read(&r->o, cur, &t, &buf, &n) < 0)
			return false;
		if (t == OBJ_TAG && n > 7 && memcmp(buf, "object ", 7) == 0 &&
		    gitobj_parse_oid((char *)buf + 7, n - 7, cur) == r->o.sz) {
			free(buf);
			continue;
		}
		bool ok = t == OBJ_COMMIT && n > 5 && memcmp(buf, "tree ", 5) == 0 &&
			  gitobj_parse_oid((char *)buf + 5, n - 5, tree) == r->o.sz;
		if (ok && ret_buf) {
			*ret_buf = buf;
			*ret_len = n;
		} else {
			free(buf);
		}
		return ok;
	}
	return false;
}

/* Every protected path beneath the tree TREE found at PREFIX ("" for a
 * commit's): in the baseline (ADD), or checked against it. */
static bool tree_paths_below(struct githead *r, const unsigned char *tree, const char *prefix,
			     bool add)
{
	unsigned char *root;
	size_t rn, pl = strlen(prefix);
	bool ok = true;

	/* a tree at or beneath a protected path: all of it is */
	for (size_t i = 0; pl && i < r->n_protected; i++) {
		size_t l = strlen(r->protected[i]);
		if (strncmp(prefix, r->protected[i], l) == 0 && (!prefix[l] || prefix[l] == '/'))
			return walk_entry(r, prefix, 0040000u, tree, add, 0);
	}
	if (gitobj_read_typed(&r->o, tree, OBJ_TREE, &root, &rn) < 0)
		return false;
	for (size_t i = 0; i < r->n_protected && (ok || add); i++) {
		const char *p = r->protected[i];
		unsigned char *buf = root, oid[32];
		size_t n = rn;
		if (pl && (strncmp(p, prefix, pl) != 0 || p[pl] != '/'))
			continue; /* not beneath this tree */
		p += pl ? pl + 1 : 0;
		for (;;) {
			const char *slash = strchr(p, '/');
			size_t l = slash ? (size_t)(slash - p) : strlen(p);
			uint32_t mode = 0;
			bool found = tree_find(r, buf, n, p, l, &mode, oid);
			if (buf != root)
				free(buf);
			if (!found)
				break; /* nothing at the path */
			if (!slash) {
				if (!walk_entry(r, r->protected[i], mode, oid, add, 0))
					ok = false;
				break;
			}
			if ((mode & 0170000u) != 0040000u)
				break; /* a file on the way: nothing at the path */
			if (gitobj_read_typed(&r->o, oid, OBJ_TREE, &buf, &n) < 0) {
				ok = false;
				break;
			}
			p = slash + 1;
		}
	}
	free(root);
	return ok;
}

/* Every protected path of the tree TREE (a commit's): in the baseline
 * (ADD), or checked against it. */
static bool tree_paths(struct githead *r, const unsigned char *tree, bool add)
{
	return tree_paths_below(r, tree, "", add);
}

/* The commit OID: its tree at every protected path in the baseline; for a
 * stash its other parents' too (the index and the untracked files `git
 * stash pop --index` and `-u` put back). */
static bool commit_ok(struct githead *r, const unsigned char *oid, bool stash)
{
	unsigned char tree[32], bin[32];
	unsigned char *buf = NULL;
	size_t n = 0;

	if (!commit_tree(r, oid, tree, stash ? &buf : NULL, &n))
		return false;
	bool ok = tree_paths(r, tree, false);
	for (char *l = (char *)buf; stash && ok && l && l < (char *)buf + n;) {
		char *nl = memchr(l, '\n', (size_t)((char *)buf + n - l));
		if (l == nl)
			break; /* the message follows */
		if ((size_t)((char *)buf + n - l) > 7 && memcmp(l, "parent ", 7) == 0 &&
		    gitobj_parse_oid(l + 7, (size_t)((char *)buf + n - l - 7), bin) == r->o.sz)
			ok = commit_ok(r, bin, false);
		l = nl ? nl + 1 : NULL;
	}
	free(buf);
	return ok;
}

/* The parents of the commit OID in V: how many, or -1 when it does not
 * read as a commit or has more than MAX (but for MAX 1: the first). */
static int parents(struct githead *r, const unsigned char *oid, unsigned char (*v)[32], int max)
{
	enum obj_type t;
	unsigned char *buf;
	size_t n;
	int k = 0;

	if (gitobj_read(&r->o, oid, &t, &buf, &n) < 0)
		return -1;
	if (t != OBJ_COMMIT) {
		free(buf);
		return -1;
	}
	for (char *l = (char *)buf; l && l < (char *)buf + n;) {
		char *nl = memchr(l, '\n', (size_t)((char *)buf + n - l));
		if (l == nl)
			break; /* the message follows */
		if ((size_t)((char *)buf + n - l) > 7 && memcmp(l, "parent ", 7) == 0) {
			if (k >= max && max == 1)
				break;
			if (k >= max || gitobj_parse_oid(l + 7, (size_t)((char *)buf + n - l - 7),
							 v[k]) != r->o.sz) {
				free(buf);
				return -1;
			}
			k++;
		}
		l = nl ? nl + 1 : NULL;
	}
	free(buf);
	return k;
}

/*
 * The commit OID (a ref's tip; a stash's with its other parents) and the
 * history the run made below it: every commit made during the run reached
 * through any parent, and the first one older than the run on each way
 * down (the host's own, or an earlier run's).  A tip that passes is not
 * enough: `git reset --hard HEAD~1`, `git checkout HEAD~2`, a rebase or a
 * bisect after the run checks out a commit below it, the sandbox's hook in
 * one and taken out again in the next.  More than PARENTS_MAX commits made
 * during the run below one tip count as failing (each is read).
 */
static bool history_ok(struct githead *r, const unsigned char *oid, bool stash)
{
	if (!commit_ok(r, oid, stash))
		return false;
	if (!gitobj_is_new(&r->o, oid))
		return true;
	_cleanup_free_ unsigned char(*seen)[32] = malloc((PARENTS_MAX + 1) * sizeof(*seen));
	size_t n_seen = 0, next = 0;
	if (!seen)
		return false;
	memcpy(seen[n_seen++], oid, r->o.sz);
	/* seen[next..] are made during the run, their parents still to see */
	while (next < n_seen) {
		unsigned char par[64][32];
		const unsigned char *c = seen[next++];
		if (!gitobj_is_new(&r->o, c))
			continue;
		int k = parents(r, c, par, 64);
		if (k < 0)
			return false;
		for (int i = 0; i < k; i++) {
			bool dup = false;
			for (size_t j = 0; j < n_seen && !dup; j++)
				dup = memcmp(seen[j], par[i], r->o.sz) == 0;
			if (dup)
				continue;
			if (n_seen > PARENTS_MAX || !commit_ok(r, par[i], false))
				return false;
			memcpy(seen[n_seen++], par[i], r->o.sz);
		}
	}
	return true;
}

/* The first first-parent ancestor of OID from before the run that passes,
 * in *RET (one the run made has a history of its own to check). */
static bool good_ancestor(struct githead *r, const unsigned char *oid, unsigned char *ret)
{
	unsigned char cur[32], par[1][32];

	memcpy(cur, oid, r->o.sz);
	for (int i = 0; i < PARENTS_MAX; i++) {
		if (parents(r, cur, par, 1) < 1)
			return false;
		memcpy(cur, par[0], r->o.sz);
		if (!gitobj_is_new(&r->o, cur) && commit_ok(r, cur, false)) {
			memcpy(ret, cur, r->o.sz);
			return true;
		}
	}
	return false;
}

/* Files and directories made here are the repository's owner's, as the
 * view's carried-back files are (the supervisor may run as root); -errno. */
static int own(const struct githead *r, int dir, const char *name, int fd)
{
	struct stat st;

	if (geteuid() != 0)
		return 0;
	if (fstat(r->git, &st) < 0)
		return -errno;
	if (fd >= 0
		? fchown(fd, st.st_uid, st.st_gid) < 0
		: fchownat(dir, name ? name : "", st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

/* The directory holding NAME (relative to the .git), reached one component
 * at a time following no symbolic link (the sandbox could plant one in
 * refs/ to send a write of ours elsewhere), made when MAKE; its last
 * component in *LEAF.  -errno. */
static int open_parent(struct githead *r, const char *name, bool make, const char **leaf)
{
	char comp[NAME_MAX + 1];
	const char *p = name, *slash;
	int cur = openat(r->git, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	while (cur >= 0 && (slash = strchr(p, '/'))) {
		size_t l = (size_t)(slash - p);
		if (l == 0 || l > NAME_MAX) {
			close(cur);
			return -EINVAL;
		}
		memcpy(comp, p, l);
		comp[l] = '\0';
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			close(cur);
			return -EINVAL;
		}
		/* one left root's still reads; the ref in it is ours */
		if (make && mkdirat(cur, comp, 0755) == 0 && own(r, cur, comp, -1) < 0)
			warn("%s/.git: %s could not be given to the repository's owner: %s", r->top,
			     comp, strerror(errno));
		int next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(cur);
		cur = next;
		p = slash + 1;
	}
	if (cur < 0)
		return -errno;
	if (!*p || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
		close(cur);
		return -EINVAL;
	}
	*leaf = p;
	return cur;
}

/* NAME (relative to the .git) written as CONTENT by a temporary file and
 * a rename; its directories made. */
static int put_file(struct githead *r, const char *name, const char *content)
{
	char tmp[NAME_MAX + 32];
	const char *leaf;
	_cleanup_close_ int dir = open_parent(r, name, true, &leaf);

	if (dir < 0)
		return dir;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.ringfence-tmp", leaf) >= sizeof(tmp))
		return -ENAMETOOLONG;
	unlinkat(dir, tmp, 0);
	_cleanup_close_ int fd =
	    openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t len = strlen(content);
	/* an empty directory of its name (git reads past one) goes first */
	(void)unlinkat(dir, leaf, AT_REMOVEDIR);
	if (own(r, -1, NULL, fd) < 0 || write(fd, content, len) != (ssize_t)len ||
	    renameat(dir, tmp, dir, leaf) < 0) {
		int e = errno ? errno : EIO;
		unlinkat(dir, tmp, 0);
		return -e;
	}
	return 0;
}

static int remove_file(struct githead *r, const char *name)
{
	const char *leaf;
	_cleanup_close_ int dir = open_parent(r, name, false, &leaf);

	if (dir < 0)
		return dir;
	return unlinkat(dir, leaf, 0) < 0 ? -errno : 0;
}

/* The ref NAME's line (and the peeled line after it) taken out of
 * packed-refs; -ENOENT when it has none. */
static int remove_packed(struct githead *r, const char *name)
{
	size_t n, tl = strlen(name), kn = 0;
	char *m = gitobj_map_file(r->git, "packed-refs", &n);
	_cleanup_free_ char *kept = m ? malloc(n + 1) : NULL;
	bool found = false, drop_peeled = false;

	if (!kept) {
		if (m)
			munmap(m, n);
		return m ? -ENOMEM : -ENOENT;
	}
	for (char *l = m; l && l < m + n;) {
		char *nl = memchr(l, '\n', (size_t)(m + n - l));
		size_t len = nl ? (size_t)(nl - l) : (size_t)(m + n - l);
		unsigned char oid[32];
		size_t sz = gitobj_parse_oid(l, len, oid);
		bool drop = (sz && len == 2 * sz + 1 + tl && l[2 * sz] == ' ' &&
			     memcmp(l + 2 * sz + 1, name, tl) == 0) ||
			    (drop_peeled && len && l[0] == '^');
		drop_peeled = drop && l[0] != '^';
		found |= drop;
		if (!drop) {
			memcpy(kept + kn, l, len);
			kn += len;
			kept[kn++] = '\n';
		}
		l = nl ? nl + 1 : NULL;
	}
	munmap(m, n);
	kept[kn] = '\0';
	return found ? put_file(r, "packed-refs", kept) : -ENOENT;
}

static void say(struct githead *r, const char *what, const char *why, const char *done)
{
	char jt[PATH_MAX + 64], jw[PATH_MAX + 64], jd[2 * PATH_MAX + 64];

	warn("the sandbox recorded, in %s of %s, content at a protected path other than the "
	     "host's at the start (%s): %s; review it before checking it out",
	     what, r->top, why, done);
	json_string(jt, sizeof(jt), r->top);
	json_string(jw, sizeof(jw), what);
	json_string(jd, sizeof(jd), done);
	audit_event(r->sb->audit_fd, "protect.git_content", "\"path\":%s,\"what\":%s,\"done\":%s",
		    jt, jw, jd);
}

/* The ref NAME (relative to the .git: "refs/heads/x", "HEAD", ...) naming
 * OID: checked, and set back when it fails. */
static void check_ref(struct githead *r, const char *name, const unsigned char *oid)
{
	char hex[2 * 32 + 2], line[2 * 32 + 8], kept[PATH_MAX], done[PATH_MAX + 256];
	unsigned char back[32];
	bool head = strcmp(name, "HEAD") == 0 || strcmp(name, "ORIG_HEAD") == 0;

	if (strncmp(name, "refs/ringfence-blocked/", 23) == 0 ||
	    history_ok(r, oid, strcmp(name, "refs/stash") == 0))
		return;
	gitobj_oid_hex(oid, r->o.sz, hex);
	snprintf(line, sizeof(line), "%s\n", hex);
	/* kept for review; set back whether or not it could be (a link or a
	 * directory planted in refs/ringfence-blocked must not keep it) */
	bool kept_ok =
	    (size_t)snprintf(kept, sizeof(kept), "refs/ringfence-blocked/%s",
			     strncmp(name, "refs/", 5) == 0 ? name + 5 : name) < sizeof(kept) &&
	    put_file(r, kept, line) == 0;
	char was[PATH_MAX + 64];
	snprintf(was, sizeof(was),
		 kept_ok ? "the commit is kept as %s" : "the commit (%s) is kept nowhere",
		 kept_ok ? kept : hex);
	/* the branch HEAD was on, HEAD and ORIG_HEAD: back to the start's
	 * HEAD commit; another branch: to an ancestor that passes */
	bool start =
	    r->head_sz == r->o.sz && (head || (r->head_ref[0] && strcmp(r->head_ref, name) == 0));
	/* a stash's parent is no stash: refs/stash goes */
	bool stash = strcmp(name, "refs/stash") == 0;
	if (start)
		memcpy(back, r->head_oid, r->o.sz);
	if (start || (!head && !stash && good_ancestor(r, oid, back))) {
		char to[2 * 32 + 8];
		gitobj_oid_hex(back, r->o.sz, hex);
		snprintf(to, sizeof(to), "%s\n", hex);
		if (put_file(r, name, to) == 0) {
			snprintf(
			    done, sizeof(done), "%s; %s",
			    start ? "set back to HEAD's commit at the start"
				  : "set back to its first ancestor from before the run that has "
				    "the host's content there",
			    was);
			say(r, name, "a commit", done);
			return;
		}
	} else if (!head && remove_file(r, name) == 0) {
		snprintf(done, sizeof(done), "removed; %s", was);
		say(r, name, "a commit", done);
		/* a line of its name in packed-refs is what git reads next */
		(void)remove_packed(r, name);
		return;
	}
	/* in packed-refs only (or behind a directory of its name): its line
	 * goes, and git finds no such ref */
	if (!head && remove_packed(r, name) == 0) {
		snprintf(done, sizeof(done), "removed from packed-refs; %s", was);
		say(r, name, "a commit", done);
		return;
	}
	snprintf(done, sizeof(done), "it could NOT be set back; %s", was);
	say(r, name, "a commit", done);
}

/* Reads the ref file FILE in DIR: an object id in *OID (true), or a
 * symbolic ref's target in TARGET. */
static bool read_ref(int dir, const char *file, unsigned char *oid, size_t *sz, char *target,
		     size_t target_size)
{
	char buf[PATH_MAX];
	_cleanup_close_ int fd = gitobj_open_file(dir, file);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	target[0] = '\0';
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* as git reads it: "ref:", any white space, the name */
	if (strncmp(buf, "ref:", 4) == 0) {
		char *t = buf + 4;
		while (*t == ' ' || *t == '\t')
			t++;
		t[strcspn(t, " \t\r\n")] = '\0';
		snprintf(target, target_size, "%s", t);
		return false;
	}
	return (*sz = gitobj_parse_oid(buf, (size_t)n, oid)) != 0;
}

/* The object id the ref NAME resolves to (a loose file, else packed-refs),
 * following symbolic refs. */
static bool resolve(struct githead *r, const char *name, unsigned char *oid, size_t *sz, int depth)
{
	char target[PATH_MAX];
	size_t tl, max;

	if (depth > 5 || strstr(name, ".."))
		return false;
	if (read_ref(r->git, name, oid, sz, target, sizeof(target)))
		return true;
	if (target[0])
		return resolve(r, target, oid, sz, depth + 1);
	void *m = gitobj_map_file(r->git, "packed-refs", &max);
	if (!m)
		return false;
	tl = strlen(name);
	bool found = false;
	for (char *l = m; l && l < (char *)m + max && !found;) {
		char *nl = memchr(l, '\n', (size_t)((char *)m + max - l));
		size_t len = nl ? (size_t)(nl - l) : (size_t)((char *)m + max - l);
		size_t s = gitobj_parse_oid(l, len, oid);
		if (s && len == 2 * s + 1 + tl && l[2 * s] == ' ' &&
		    memcmp(l + 2 * s + 1, name, tl) == 0) {
			*sz = s;
			found = true;
		}
		l = nl ? nl + 1 : NULL;
	}
	munmap(m, max);
	return found;
}

/* The branch HEAD was on at the start, NAME, removed: written again with
 * HEAD's commit at the start (else HEAD names no commit). */
static bool restore_head_ref(struct githead *r, const char *name)
{
	char hex[2 * 32 + 2], line[2 * 32 + 8];

	if (r->head_sz != r->o.sz || strcmp(r->head_ref, name) != 0)
		return false;
	gitobj_oid_hex(r->head_oid, r->o.sz, hex);
	snprintf(line, sizeof(line), "%s\n", hex);
	return put_file(r, name, line) == 0;
}

/* A loose ref (or HEAD, ORIG_HEAD) changed during the run. */
static void check_ref_file(struct githead *r, int dir, const char *file, const char *name)
{
	unsigned char oid[32];
	char target[PATH_MAX];
	struct stat st;
	size_t sz;

	if (fstatat(dir, file, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !gitobj_newer(&st, &r->sb->started_born))
		return;
	/* a link (git follows one to any file holding an id), a FIFO, ...:
	 * git's to read, not ours: it goes */
	if (!S_ISREG(st.st_mode)) {
		say(r, name, "a ref that is no file",
		    unlinkat(dir, file, 0) < 0	? "it could NOT be removed"
		    : restore_head_ref(r, name) ? "set back to HEAD's commit at the start"
						: "removed");
		return;
	}
	if (read_ref(dir, file, oid, &sz, target, sizeof(target))) {
		if (sz == r->o.sz)
			check_ref(r, name, oid);
		return;
	}
	/* a symbolic one made during the run: what it names passes, or it
	 * goes (HEAD is judged last, on its own) */
	if (target[0] && strcmp(name, "HEAD") != 0 &&
	    (strncmp(target, "refs/ringfence-blocked/", 23) == 0 ||
	     (resolve(r, target, oid, &sz, 0) && sz == r->o.sz && !history_ok(r, oid, false))) &&
	    unlinkat(dir, file, 0) == 0)
		say(r, name, "a symbolic ref",
		    restore_head_ref(r, name) ? "set back to HEAD's commit at the start"
					      : "removed");
}

static void walk_refs(struct githead *r, int dir, const char *prefix, int depth)
{
	struct dirent *de;

	if (depth > REFS_DEPTH)
		return;
	int d0 = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_(closedirp) DIR *d = d0 >= 0 ? fdopendir(d0) : NULL;
	if (!d) {
		if (d0 >= 0)
			close(d0);
		return;
	}
	while ((de = readdir(d))) {
		char name[PATH_MAX];
		struct stat st;
		if (de->d_name[0] == '.' ||
		    (size_t)snprintf(name, sizeof(name), "%s/%s", prefix, de->d_name) >=
			sizeof(name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		/* ours (a later host command may look there); every other
		 * name is a ref to git, ".ringfence-" in it or not */
		if (strcmp(name, "refs/ringfence-blocked") == 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int c = openat(
			    dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (c >= 0)
				walk_refs(r, c, name, depth + 1);
		} else {
			check_ref_file(r, dirfd(d), de->d_name, name);
		}
	}
}

/* The lines of the packed-refs held since the start, by a hash of each:
 * the sandbox's file may have millions of lines, each looked up. */
struct line {
	uint64_t hash;
	const char *at;
	size_t len;
};

static uint64_t line_hash(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h;
}

static int line_cmp(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* The lines of M (N bytes), sorted by hash, malloc'd; NULL when none. */
static struct line *index_lines(const char *m, size_t n, size_t *ret_n)
{
	size_t count = 0, i = 0;

	for (const char *l = m; l < m + n; count++) {
		const char *nl = memchr(l, '\n', (size_t)(m + n - l));
		l = nl ? nl + 1 : m + n;
	}
	struct line *v = count ? calloc(count, sizeof(*v)) : NULL;
	for (const char *l = m; v && l < m + n; i++) {
		const char *nl = memchr(l, '\n', (size_t)(m + n - l));
		size_t ll = nl ? (size_t)(nl - l) : (size_t)(m + n - l);
		v[i] = (struct line){line_hash(l, ll), l, ll};
		l = nl ? nl + 1 : m + n;
	}
	if (v)
		qsort(v, count, sizeof(*v), line_cmp);
	*ret_n = v ? count : 0;
	return v;
}

/* Whether the lines V (N of them) have LINE. */
static bool had_line(const struct line *v, size_t n, const char *line, size_t len)
{
	struct line key = {.hash = line_hash(line, len)};
	const struct line *hit = n ? bsearch(&key, v, n, sizeof(*v), line_cmp) : NULL;

	if (!hit)
		return false;
	while (hit > v && hit[-1].hash == key.hash)
		hit--;
	for (; hit < v + n && hit->hash == key.hash; hit++)
		if (hit->len == len && memcmp(hit->at, line, len) == 0)
			return true;
	return false;
}

/* packed-refs, when it changed: each line the start's file did not have
 * and no loose ref of its name overrides. */
static void check_packed(struct githead *r)
{
	struct stat st;
	size_t n, on = 0, n_lines = 0;
	void *old = NULL;
	_cleanup_free_ struct line *lines = NULL;

	if (fstatat(r->git, "packed-refs", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !gitobj_newer(&st, &r->sb->started_born))
		return;
	char *m = gitobj_map_file(r->git, "packed-refs", &n);
	if (!m)
		return;
	if (r->packed_fd >= 0 && fstat(r->packed_fd, &st) == 0 && st.st_size > 0) {
		old = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, r->packed_fd, 0);
		on = old == MAP_FAILED ? 0 : (size_t)st.st_size;
		if (old == MAP_FAILED)
			old = NULL;
		/* none when it cannot be: every line is judged then */
		lines = old ? index_lines(old, on, &n_lines) : NULL;
	}
	for (char *l = m; l && l < m + n;) {
		char *nl = memchr(l, '\n', (size_t)(m + n - l));
		size_t len = nl ? (size_t)(nl - l) : (size_t)(m + n - l);
		unsigned char oid[32];
		char name[PATH_MAX];
		size_t sz = gitobj_parse_oid(l, len, oid);
		struct stat lst;
		if (sz == r->o.sz && len > 2 * sz + 1 && l[2 * sz] == ' ' &&
		    len - 2 * sz - 1 < sizeof(name) && !had_line(lines, n_lines, l, len)) {
			snprintf(name, sizeof(name), "%.*s", (int)(len - 2 * sz - 1),
				 l + 2 * sz + 1);
			/* a loose one of that name is what git reads (a file,
			 * or a link: judged as loose refs); a directory is
			 * none, and git reads this line */
			if (strncmp(name, "refs/", 5) == 0 && !strstr(name, "..") &&
			    (fstatat(r->git, name, &lst, AT_SYMLINK_NOFOLLOW) < 0 ||
			     S_ISDIR(lst.st_mode)))
				check_ref(r, name, oid);
		}
		l = nl ? nl + 1 : NULL;
	}
	if (old)
		munmap(old, on);
	munmap(m, n);
}

/* The stash's reflog at the start, copied: up to 1 MiB (past that, every
 * line is judged at the end). */
static void read_stash_log(struct githead *h)
{
	struct stat st;
	_cleanup_close_ int fd = gitobj_open_file(h->git, "logs/refs/stash");

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > (1 << 20))
		return;
	h->stashlog = malloc((size_t)st.st_size);
	ssize_t n = h->stashlog ? read(fd, h->stashlog, (size_t)st.st_size) : -1;
	if (n != st.st_size) {
		free(h->stashlog);
		h->stashlog = NULL;
		return;
	}
	h->stashlog_len = (size_t)n;
}

/*
 * The stash's reflog, when it changed: each entry is a stash `git stash
 * pop` takes in its turn (dropping stash@{0} makes stash@{1} refs/stash),
 * so a line the start's file did not have must pass as refs/stash does;
 * one that does not is taken out of the log (said).  Something else than
 * a file there (a link git would follow) is removed.
 */
static void check_stash_log(struct githead *r)
{
	static const char log[] = "logs/refs/stash";
	struct stat st;
	size_t n, n_lines = 0, dropped = 0;
	_cleanup_free_ struct line *lines = NULL;
	_cleanup_close_ int fd = gitobj_open_file(r->git, log);

	if (fd < 0 && errno != ENOENT) {
		say(r, log, "a stash list that is no file",
		    remove_file(r, log) == 0 ? "removed" : "it could NOT be removed");
		return;
	}
	if (fd < 0 || fstat(fd, &st) < 0 || !gitobj_newer(&st, &r->sb->started_born))
		return;
	char *m = gitobj_map_file(r->git, log, &n);
	_cleanup_free_ char *kept = m ? malloc(n + 1) : NULL;
	size_t kn = 0;
	if (!kept) {
		if (m)
			munmap(m, n);
		return;
	}
	if (r->stashlog)
		lines = index_lines(r->stashlog, r->stashlog_len, &n_lines);
	/* git takes stash@{N} from the OLD field of the entry above it as
	 * well: each kept entry's is made its predecessor's NEW, as git
	 * writes it (all zeros for the first) */
	char prev_new[2 * 32 + 1];
	memset(prev_new, '0', sizeof(prev_new));
	bool rewritten = false;
	for (char *l = m; l && l < m + n;) {
		char *nl = memchr(l, '\n', (size_t)(m + n - l));
		size_t len = nl ? (size_t)(nl - l) : (size_t)(m + n - l);
		unsigned char oid[32], prev[32];
		size_t sz = r->o.sz;
		/* "OLD NEW name <email> time zone\tmessage" */
		bool parsed = len > 4 * sz + 2 && gitobj_parse_oid(l, len, prev) == sz &&
			      l[2 * sz] == ' ' &&
			      gitobj_parse_oid(l + 2 * sz + 1, len - 2 * sz - 1, oid) == sz;
		if (had_line(lines, n_lines, l, len) || (parsed && history_ok(r, oid, true))) {
			memcpy(kept + kn, l, len);
			if (parsed) {
				rewritten |= memcmp(kept + kn, prev_new, 2 * sz) != 0;
				memcpy(kept + kn, prev_new, 2 * sz);
				memcpy(prev_new, l + 2 * sz + 1, 2 * sz);
			}
			kn += len;
			kept[kn++] = '\n';
		} else {
			dropped++;
		}
		l = nl ? nl + 1 : NULL;
	}
	munmap(m, n);
	if (!dropped && !rewritten)
		return;
	kept[kn] = '\0';
	int e = put_file(r, log, kept);
	say(r, log, "a stash",
	    e < 0     ? "it could NOT be taken out of the stash list"
	    : dropped ? "taken out of the stash list"
		      : "the entries' previous ids set back as git writes them");
}

/* Index entries at or below a protected path: each in the baseline. */
struct index_walk {
	struct githead *r;
	bool add, bad;
	char first[PATH_MAX];
};

static bool is_protected(const struct githead *r, const char *path)
{
	unsigned char c = (unsigned char)path[0];

	/* most of a large index: no protected path starts so */
	if (!(r->first[c >> 6] & (1ull << (c & 63))))
		return false;
	for (size_t i = 0; i < r->n_protected; i++) {
		size_t l = strlen(r->protected[i]);
		if (strncmp(path, r->protected[i], l) == 0 && (!path[l] || path[l] == '/'))
			return true;
	}
	return false;
}

static void on_entry(void *ud, const char *path, uint32_t mode, const unsigned char *oid, size_t sz)
{
	struct index_walk *c = ud;

	if (sz != c->r->o.sz || (mode & 0170000u) == 0160000u || !is_protected(c->r, path))
		return;
	if (c->add)
		base_add(c->r, path, mode, oid);
	else if (!c->bad && !in_base(c->r, path, mode, oid)) {
		c->bad = true;
		snprintf(c->first, sizeof(c->first), "%s", path);
	}
}

/* A node of the index's cache tree: git's next commit takes its tree as
 * it is, the entries beneath unread. */
static void on_tree(void *ud, const char *path, const unsigned char *oid, size_t sz)
{
	struct index_walk *c = ud;

	if (c->add || c->bad || sz != c->r->o.sz)
		return;
	if (!tree_paths_below(c->r, oid, path, false)) {
		c->bad = true;
		snprintf(c->first, sizeof(c->first), "%s/ (its cache tree)", path[0] ? path : ".");
	}
}

static int index_walk(int fd, struct index_walk *c)
{
	struct stat st;

	/* a sparse file of the sandbox's, its size as large as it likes,
	 * would be read through, twice for each object id size: one larger
	 * than git makes counts as changed */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 12 ||
	    st.st_size > (off_t)INDEX_MAX)
		return -EINVAL;
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	/* the cache tree, in an index the run wrote: the start's is the
	 * host's, its entries all that is added to the baseline */
	int ret = c->add ? gitindex_parse(map, (size_t)st.st_size, on_entry, c)
			 : gitindex_parse_trees(map, (size_t)st.st_size, on_entry, on_tree, c);
	munmap(map, (size_t)st.st_size);
	return ret;
}

/* Whether the index file NAME, changed during the run, holds other
 * content at a protected path than the baseline (or cannot be read). */
static bool index_bad(struct githead *r, const char *name, char *first, size_t first_size)
{
	struct stat st;
	struct index_walk c = {.r = r};

	_cleanup_close_ int fd = gitobj_open_file(r->git, name);
	if (fd < 0 || fstat(fd, &st) < 0 || !gitobj_newer(&st, &r->sb->started_born))
		return false;
	int ret = index_walk(fd, &c);
	snprintf(first, first_size, "%s", c.bad ? c.first : name);
	return ret < 0 || c.bad;
}

/* Whether the index held since the start (H's index_fd) still has the
 * host's content: replaced by a rename (no name left: its ctime moved with
 * its link count), or unchanged. */
static bool held_index_ok(const struct githead *h)
{
	struct stat st;

	return h->index_fd >= 0 && fstat(h->index_fd, &st) == 0 &&
	       (st.st_nlink == 0 || !gitobj_newer(&st, &h->sb->started_born));
}

/* The baseline complete: the index held since the start added (unless
 * rewritten in place), once, when something changed is to be judged. */
static void base_ready(struct githead *r)
{
	struct index_walk iw = {.r = r, .add = true};

	if (r->base_indexed)
		return;
	r->base_indexed = true;
	if (r->index_fd >= 0 && (!held_index_ok(r) || index_walk(r->index_fd, &iw) < 0))
		r->base_cut = true;
	if (r->base_cut)
		warn("%s: what the host had at protected paths at the start could not all be read: "
		     "the index and refs the sandbox changed are checked against what could",
		     r->top);
}

static void check_index(struct githead *r)
{
	char first[PATH_MAX] = "", what[PATH_MAX + 16];
	struct dirent *de;
	struct githead *h = r;
	bool bad = index_bad(r, "index", first, sizeof(first));

	/* a split index keeps entries in sharedindex.<hash> */
	int d0 = openat(r->git, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_(closedirp) DIR *d = d0 >= 0 ? fdopendir(d0) : NULL;
	if (!d && d0 >= 0)
		close(d0);
	while (!bad && d && (de = readdir(d)))
		if (strncmp(de->d_name, "sharedindex.", 12) == 0)
			bad = index_bad(r, de->d_name, first, sizeof(first));
	if (!bad)
		return;
	snprintf(what, sizeof(what), "the index (%s)", first);
	/* the host's, from the start: unless it was rewritten in place */
	if (held_index_ok(h)) {
		unlinkat(r->git, "index.ringfence-tmp", 0);
		_cleanup_close_ int out =
		    openat(r->git, "index.ringfence-tmp",
			   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		char buf[65536];
		ssize_t n = 0;
		struct stat ist;
		bool ok = out >= 0 && lseek(h->index_fd, 0, SEEK_SET) == 0;
		/* the host's owner and mode, as it was */
		ok = ok && fstat(h->index_fd, &ist) == 0 &&
		     (geteuid() != 0 || fchown(out, ist.st_uid, ist.st_gid) == 0) &&
		     fchmod(out, ist.st_mode & 0777) == 0;
		while (ok && (n = read(h->index_fd, buf, sizeof(buf))) > 0)
			ok = write(out, buf, (size_t)n) == n;
		if (ok && n == 0 && renameat(r->git, "index.ringfence-tmp", r->git, "index") == 0) {
			say(r, what, "a staged file",
			    "the host's index from the start is put back");
			return;
		}
		unlinkat(r->git, "index.ringfence-tmp", 0);
	}
	if (protect_move_aside(r->sb, h->index_path, "protect.git_content", MOVE_AT_EXIT) > 0)
		say(r, what, "a staged file", "moved aside (git sees no index)");
	else
		say(r, what, "a staged file", "it could NOT be moved aside");
}

/* HEAD, last: what it names now passes, or it is the start's again. */
static void check_head(struct githead *r)
{
	unsigned char oid[32];
	char target[PATH_MAX];
	struct stat st;
	size_t sz;

	if (fstatat(r->git, "HEAD", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !gitobj_newer(&st, &r->sb->started_born) || !r->head_file[0])
		return;
	bool detached = read_ref(r->git, "HEAD", oid, &sz, target, sizeof(target));
	if (detached) {
		if (sz == r->o.sz)
			check_ref(r, "HEAD", oid);
		return;
	}
	/* git takes only a name in refs/ for it */
	if (strncmp(target, "refs/", 5) != 0 ||
	    strncmp(target, "refs/ringfence-blocked/", 23) == 0 ||
	    (resolve(r, target, oid, &sz, 0) && sz == r->o.sz && !history_ok(r, oid, false))) {
		if (put_file(r, "HEAD", r->head_file) == 0)
			say(r, "HEAD", "a symbolic ref", "set back to the start's");
		else
			say(r, "HEAD", "a symbolic ref", "it could NOT be set back");
	}
}

/* Protected paths of the repository, relative to its top. */
static void add_protected(struct githead *r, const char *rel, bool copy)
{
	if (!rel[0] || r->n_protected >= PROTECTED_MAX)
		return;
	for (size_t i = 0; i < r->n_protected; i++)
		if (strcmp(r->protected[i], rel) == 0)
			return;
	if (copy) {
		char *s = strdup(rel);
		size_t l = s ? strlen(s) : 0;
		if (!s || r->n_owned >= PROTECTED_MAX) {
			free(s);
			return;
		}
		while (l > 1 && s[l - 1] == '/')
			s[--l] = '\0';
		r->owned[r->n_owned++] = s;
		rel = s;
	}
	r->protected[r->n_protected++] = rel;
	r->first[(unsigned char)rel[0] >> 6] |= 1ull << ((unsigned char)rel[0] & 63);
}

static void add_pointer(struct githead *r, const char *value)
{
	const char *top = r->top;
	size_t tl = strlen(top);

	if (value[0] != '/' && strncmp(value, "~/", 2) != 0) {
		while (strncmp(value, "./", 2) == 0)
			value += 2;
		if (!strstr(value, ".."))
			add_protected(r, value, true);
	} else if (value[0] == '/' && strncmp(value, top, tl) == 0 && value[tl] == '/') {
		add_protected(r, value + tl + 1, true);
	}
}

static void on_config(void *ud, enum git_pointer kind, const char *value)
{
	if (kind == PTR_HOOKS)
		add_pointer(ud, value);
}

static void gather_protected(struct githead *r)
{
	const char **names;
	size_t n = protect_builtin_names(false, &names);
	const struct policy *p = r->sb->policy;
	char buf[65536];

	for (size_t i = 0; i < n; i++)
		if (!(strncmp(names[i], ".git", 4) == 0 && (!names[i][4] || names[i][4] == '/')))
			add_protected(r, names[i], false);
	for (size_t i = 0; p && i < p->fs.protect.n; i++)
		add_pointer(r, p->fs.protect.items[i].value);
	for (size_t i = 0; i < r->sb->n_git_global_hooks; i++)
		add_pointer(r, r->sb->git_global_hooks[i]);
	_cleanup_close_ int fd = gitobj_open_file(r->git, "config");
	ssize_t got = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	if (got > 0)
		gitscan_config_pointers(buf, (size_t)got, on_config, r);
}

/* The objects the host's git reads at the protected paths: the start's
 * reads and the baseline's entries, their copies checked (gitobj.c); from
 * then on every object is read in all its copies. */
static void check_objects(struct githead *r)
{
	_cleanup_free_ unsigned char(*ids)[32] = calloc(r->o.n_seen + r->n_base + 1, 32);
	size_t n = 0;

	/* objects/ itself a link now: every object is the sandbox's to name */
	int fd = openat(r->git, "objects", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/.git/objects", r->top);
		warn("%s is not the objects directory it was: %s", path,
		     protect_move_aside(r->sb, path, "protect.git_object", MOVE_LIVE_QUIET) > 0
			 ? "moved aside (*.ringfence-blocked)"
			 : "it could NOT be moved aside; review it before checking out");
		r->o.end = true; /* nothing reads: every change counts */
		return;
	}
	close(r->o.objects);
	r->o.objects = fd;
	if (!ids) {
		r->o.end = true;
		return;
	}
	for (size_t i = 0; i < r->o.n_seen; i++)
		memcpy(ids[n++], r->o.seen[i], r->o.sz);
	for (size_t i = 0; i < r->n_base; i++)
		if ((r->base[i].mode & 0170000u) != 0160000u)
			memcpy(ids[n++], r->base[i].oid, r->o.sz);
	/* each copy moved aside is said, and logged (protect.git_object) */
	(void)gitobj_end(&r->o, (const unsigned char(*)[32])ids, n);
}

static void githead_free(struct githead *h)
{
	gitobj_free(&h->o);
	for (size_t j = 0; j < h->n_owned; j++)
		free(h->owned[j]);
	for (size_t j = 0; j < h->n_base; j++)
		free(h->base[j].path);
	free(h->base);
	free(h->top);
	if (h->index_fd >= 0)
		close(h->index_fd);
	if (h->packed_fd >= 0)
		close(h->packed_fd);
	free(h->stashlog);
	if (h->git >= 0)
		close(h->git);
	free(h);
}

/* The repository at TOP (canonical), its .git a directory: what the host
 * has at its protected paths, from HEAD's commit, read now, before the
 * sandbox may write an object of that commit's name. */
static struct githead *githead_open(const struct sandbox *sb, char *top)
{
	char target[PATH_MAX];
	unsigned char tree[32];
	size_t sz = 0;
	struct githead *h = calloc(1, sizeof(*h));

	if (!h) {
		free(top);
		return NULL;
	}
	*h = (struct githead){
	    .sb = sb,
	    .top = top,
	    .index_fd = -1,
	    .packed_fd = -1,
	    .git = -1,
	    .o = {.sb = sb, .top = top, .objects = -1, .since = &sb->started_born}};
	_cleanup_close_ int t = protect_open_dir_nofollow(top);
	h->git = t >= 0 ? openat(t, ".git", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
	h->o.objects =
	    h->git >= 0 ? openat(h->git, "objects", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
			: -1;
	if (h->o.objects < 0 || (size_t)snprintf(h->index_path, sizeof(h->index_path),
						 "%s/.git/index", top) >= sizeof(h->index_path)) {
		githead_free(h);
		return NULL;
	}
	/* held: git and the view replace them by a rename, so these stay
	 * the host's as they were, whatever the run writes */
	h->index_fd = gitobj_open_file(h->git, "index");
	h->packed_fd = gitobj_open_file(h->git, "packed-refs");
	read_stash_log(h);
	int fd = gitobj_open_file(h->git, "HEAD");
	ssize_t n = fd >= 0 ? read(fd, h->head_file, sizeof(h->head_file) - 1) : -1;
	if (fd >= 0)
		close(fd);
	h->head_file[n > 0 ? n : 0] = '\0';
	if (read_ref(h->git, "HEAD", h->head_oid, &sz, target, sizeof(target)) ||
	    (target[0] && resolve(h, target, h->head_oid, &sz, 0)))
		h->head_sz = sz;
	snprintf(h->head_ref, sizeof(h->head_ref), "%s", target);
	/* a repository with no commit yet: SHA-1 object ids, unless its
	 * first commit says otherwise (then nothing reads as one) */
	h->o.sz = h->head_sz ? h->head_sz : 20;
	gather_protected(h);
	/* what is read now is what the host's git reads at the protected
	 * paths: the end checks its copies (gitobj_end()) */
	h->o.recording = true;
	if (h->head_sz &&
	    !(commit_tree(h, h->head_oid, tree, NULL, NULL) && tree_paths(h, tree, true)))
		h->base_cut = true;
	h->o.recording = false;
	gitobj_forget_packs(&h->o);
	return h;
}

void githeads_start(struct sandbox *sb)
{
	const struct policy *p = sb->policy;

	/* planned again (namespaces = auto): taken afresh */
	for (size_t i = 0; i < sb->n_githeads; i++)
		githead_free(sb->githeads[i]);
	free(sb->githeads);
	sb->githeads = NULL;
	sb->n_githeads = 0;
	for (size_t i = 0; p && i < p->fs.write.n; i++) {
		char path[PATH_MAX];
		struct stat st;
		/* most grants are no repository: one lstat() says so */
		if ((size_t)snprintf(path, sizeof(path), "%s/.git", p->fs.write.items[i].value) >=
			sizeof(path) ||
		    lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		char *top = realpath(p->fs.write.items[i].value, NULL);
		bool dup = false;
		for (size_t j = 0; top && j < sb->n_githeads && !dup; j++)
			dup = strcmp(sb->githeads[j]->top, top) == 0;
		if (!top || dup ||
		    (size_t)snprintf(path, sizeof(path), "%s/.git", top) >= sizeof(path) ||
		    lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
			free(top);
			continue;
		}
		struct githead **v = realloc(sb->githeads, (sb->n_githeads + 1) * sizeof(*v));
		if (!v) {
			free(top);
			continue;
		}
		sb->githeads = v;
		struct githead *h = githead_open(sb, top);
		if (h)
			v[sb->n_githeads++] = h;
	}
}

void githeads_finish(struct sandbox *sb)
{
	for (size_t i = 0; i < sb->n_githeads; i++) {
		struct githead *h = sb->githeads[i];
		h->o.work = 0; /* the end's checks have their own */
		check_objects(h);
		check_index(h);
		int refs = openat(h->git, "refs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (refs >= 0) {
			walk_refs(h, refs, "refs", 0);
			close(refs);
		}
		check_packed(h);
		check_stash_log(h);
		check_ref_file(h, h->git, "ORIG_HEAD", "ORIG_HEAD");
		check_head(h);
		githead_free(h);
	}
	free(sb->githeads);
	sb->githeads = NULL;
	sb->n_githeads = 0;
}
