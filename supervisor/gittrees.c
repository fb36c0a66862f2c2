/* SPDX-License-Identifier: MIT */
/*
 * What a tree, a commit and the history below a ref hold at a
 * repository's protected paths, against the baseline the start noted
 * (githeads.c says why).  Every object is read through gitobj.c, whose
 * reads the sandbox may have shaped.
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

#include "githeads_internal.h"

/* The entry NAME (LEN bytes) of the tree BUF: its mode and object id. */
static bool tree_find(const struct githead *r, const unsigned char *buf, size_t n, const char *name,
		      size_t len, uint32_t *mode, unsigned char *oid)
{
	bool found = false;

	for (size_t at = 0; at < n;) {
		const unsigned char *nul = memchr(buf + at, 0, n - at);
		const unsigned char *sp =
		    nul ? memchr(buf + at, ' ', (size_t)(nul - (buf + at))) : NULL;
		if (!nul || !sp || (size_t)(nul + 1 - buf) + r->o.sz > n)
			break;
		if ((size_t)(nul - sp - 1) == len && memcmp(sp + 1, name, len) == 0) {
			/* a name twice (git mktree keeps both): git's checkout
			 * takes another than the first; what this returns
			 * then is a mode no baseline holds */
			*mode =
			    found ? 0170000u : (uint32_t)strtoul((const char *)buf + at, NULL, 8);
			memcpy(oid, nul + 1, r->o.sz);
			found = true;
		}
		at = (size_t)(nul + 1 - buf) + r->o.sz;
	}
	return found;
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
bool gh_in_base(struct githead *r, const char *path, uint32_t mode, const unsigned char *oid)
{
	if (base_has(r, path, mode, oid))
		return true;
	if (r->base_indexed)
		return false;
	gh_base_ready(r);
	return base_has(r, path, mode, oid);
}

void gh_base_add(struct githead *r, const char *path, uint32_t mode, const unsigned char *oid)
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
		gh_base_add(r, path, mode, oid);
	else if (gh_in_base(r, path, mode, oid))
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
bool gh_commit_tree(struct githead *r, const unsigned char *oid, unsigned char *tree,
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
bool gh_tree_paths_below(struct githead *r, const unsigned char *tree, const char *prefix, bool add)
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
			if ((mode & 0170000u) == 0160000u)
				break; /* another repository's: its own check */
			if ((mode & 0170000u) != 0040000u) {
				/* a file or link on the way: checked out, it
				 * takes the directory's place (a link leads the
				 * protected path elsewhere), so it is judged as
				 * the path would be */
				char way[PATH_MAX];
				snprintf(way, sizeof(way), "%.*s", (int)(p + l - r->protected[i]),
					 r->protected[i]);
				if (add)
					gh_base_add(r, way, mode, oid);
				else if (!gh_in_base(r, way, mode, oid))
					ok = false;
				break;
			}
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
bool gh_tree_paths(struct githead *r, const unsigned char *tree, bool add)
{
	return gh_tree_paths_below(r, tree, "", add);
}

/* The commit OID: its tree at every protected path in the baseline; for a
 * stash its other parents' too (the index and the untracked files `git
 * stash pop --index` and `-u` put back). */
static bool commit_ok(struct githead *r, const unsigned char *oid, bool stash)
{
	unsigned char tree[32], bin[32];
	unsigned char *buf = NULL;
	size_t n = 0;

	if (!gh_commit_tree(r, oid, tree, stash ? &buf : NULL, &n))
		return false;
	bool ok = gh_tree_paths(r, tree, false);
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
 * read as a commit or has more than MAX (but for MAX 1: the first).  An
 * annotated tag's one is what it names (`git tag -a` inside, the host's
 * tag moved into packed-refs: judged through its commit). */
static int parents(struct githead *r, const unsigned char *oid, unsigned char (*v)[32], int max)
{
	enum obj_type t;
	unsigned char *buf;
	size_t n;
	int k = 0;

	if (gitobj_read(&r->o, oid, &t, &buf, &n) < 0)
		return -1;
	if (t == OBJ_TAG && max > 0 && n > 7 && memcmp(buf, "object ", 7) == 0 &&
	    gitobj_parse_oid((char *)buf + 7, n - 7, v[0]) == r->o.sz) {
		free(buf);
		return 1;
	}
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

/* Whether the walk down a history stops at the commit OID: the host's
 * own, from before the run and reachable from its refs then.  A commit
 * older than the run that is not (an earlier run's, left unreferenced) has
 * a history below it to check like one the run made (gitreach.c). */
static bool hosts(struct githead *r, const unsigned char *oid)
{
	return !gitobj_is_new(&r->o, oid) && gh_host_has(r, oid);
}

/*
 * The commit OID (a ref's tip; a stash's with its other parents) and the
 * history the run made below it: every commit made during the run, or
 * older but not the host's (an earlier run's), reached through any
 * parent, and the first one of the host's on each way down.  A tip that
 * passes is not enough: `git reset --hard HEAD~1`, `git checkout HEAD~2`,
 * a rebase or a bisect after the run checks out a commit below it, the
 * sandbox's hook in one and taken out again in the next.  More than
 * PARENTS_MAX commits below one tip count as failing (each is read).
 */
bool gh_history_ok(struct githead *r, const unsigned char *oid, bool stash)
{
	if (!commit_ok(r, oid, stash))
		return false;
	if (hosts(r, oid))
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
		if (hosts(r, c))
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

/* The first first-parent ancestor of OID of the host's that passes, in
 * *RET (one the run made, or an earlier run, has a history of its own to
 * check). */
bool gh_good_ancestor(struct githead *r, const unsigned char *oid, unsigned char *ret)
{
	unsigned char cur[32], par[1][32];

	memcpy(cur, oid, r->o.sz);
	for (int i = 0; i < PARENTS_MAX; i++) {
		if (parents(r, cur, par, 1) < 1)
			return false;
		memcpy(cur, par[0], r->o.sz);
		if (hosts(r, cur) && commit_ok(r, cur, false)) {
			memcpy(ret, cur, r->o.sz);
			return true;
		}
	}
	return false;
}
