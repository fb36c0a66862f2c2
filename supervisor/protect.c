/* SPDX-License-Identifier: MIT */
/*
 * `protect`: files beneath a write grant that the host later reads as
 * commands (hooks, shell start-up files, agent settings and MCP server lists,
 * editor tasks) or that switch the sandbox off (the policy, the binary, the
 * audit log).  The sandbox must not write, replace, rename or remove them,
 * shadow them by moving a directory on the way to them, or create them when
 * they are absent.
 *
 * With a mount namespace:
 *   - the project's .git (directly in a write grant, the command's user's)
 *     gets a copy-on-write view instead (gitview.c): nothing beneath it is
 *     masked or checked at exit here;
 *   - an existing path is bound onto itself read-only;
 *   - every directory between the outermost write grant and it is bound
 *     onto itself ("pinned"): a mount point cannot be renamed, removed or
 *     renamed over (EBUSY), so no directory on the way can be moved aside
 *     and rebuilt with a planted file where the host looks;
 *   - an absent .git (or .git/hooks in a repository without one) gets an
 *     empty placeholder directory, mounted over read-only and removed at
 *     exit (git skips an empty .git and keeps searching upwards, and an
 *     empty hooks directory runs nothing, so the host sees what it saw;
 *     placeholder.c makes, shares between runs and removes them).
 * Without one every existing protected path is a Landlock carve-out (see
 * landlock/plan.c): the directories on the way keep only read rights, so
 * nothing on the way can be renamed, removed or created.
 *
 * Absent paths, both modes:
 *   - a path the policy names: without namespaces a Landlock carve-out even
 *     when absent: its nearest directory, and every directory on the way
 *     to it, get no new entries (Landlock rights are inherited down the
 *     tree, so a directory can only lose the right to make entries if all
 *     above it lose it too); with them its nearest directory is bound
 *     read-only, or, when that is a write grant, a carve-out;
 *   - a built-in name (.mcp.json, .envrc, .claude, .git/commondir, ...) is
 *     moved aside (renamed to NAME.ringfence-blocked, with a warning and an
 *     audit event) as soon as it is created, by the supervisor's watch
 *     (protwatch.c), and checked once more when the sandbox has ended; a
 *     crash journal (journal.c) has the next start make that check when
 *     the supervisor was killed.  A carve-out would cost every project the
 *     right to new files at its top, and a placeholder per name would leave
 *     files the host's tools read (an empty .mcp.json is a parse error, an
 *     empty .envrc a direnv prompt) or cost ~50 us of start-up each.  The
 *     limit: the moment between its creation and the watch's move; README
 *     says so.
 *
 * Other repositories in a write grant where projects are (discover_in())
 * get the built-in names of a project, without a view.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "protect_internal.h"

static bool beneath_any(char **v, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (landlock_path_beneath(path, v[i]))
			return true;
	return false;
}

/* The outermost write root holding PATH, or NULL. */
static const char *outer_root(char **roots, size_t n, const char *path)
{
	const char *best = NULL;

	for (size_t i = 0; i < n; i++)
		if (landlock_path_beneath(path, roots[i]) &&
		    (!best || strlen(roots[i]) < strlen(best)))
			best = roots[i];
	return best;
}

/* The nearest existing ancestor of absent PATH, canonical, in BUF, and in
 * *LEN the length of PATH's part that names it; false when it is not a
 * directory.  One of ROOTS (canonical already) is not resolved again. */
static bool nearest_dir(const char *path, char *buf, size_t size, size_t *len, char **roots,
			size_t nroots)
{
	char tmp[PATH_MAX];
	struct stat st;
	char *slash;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s", path) >= sizeof(tmp))
		return false;
	for (;;) {
		slash = strrchr(tmp, '/');
		if (!slash)
			return false;
		*len = (size_t)(slash - tmp);
		if (slash == tmp) {
			snprintf(buf, size, "/");
			return true;
		}
		*slash = '\0';
		if (stat(tmp, &st) == 0)
			break;
		if (errno != ENOENT)
			return false;
	}
	if (!S_ISDIR(st.st_mode))
		return false;
	if (strv_has(roots, nroots, tmp)) {
		snprintf(buf, size, "%s", tmp);
		return true;
	}
	char *c = realpath(tmp, NULL);
	if (!c)
		return false;
	snprintf(buf, size, "%s", c);
	free(c);
	return true;
}

/* Canonical paths of existing write grants: directories (where protected
 * entries are looked up) and all (a protected file granted by name). */
static void write_roots(const struct policy *p, char ***dirs, size_t *nd, char ***all, size_t *na)
{
	for (size_t i = 0; i < p->fs.write.n; i++) {
		struct stat st;
		char *c;
		if (lstat(p->fs.write.items[i].value, &st) < 0 || S_ISLNK(st.st_mode))
			continue;
		c = realpath(p->fs.write.items[i].value, NULL);
		if (!c)
			continue;
		if (S_ISDIR(st.st_mode))
			strv_add(dirs, nd, c);
		strv_add(all, na, c);
		free(c);
	}
}

/*
 * Walks PATH as the kernel resolves it, from CUR (canonical, "" for "/"; an
 * absolute PATH starts over from "/"), leaving in CUR the canonical path and
 * adding to LINKS each symbolic link met beneath a write root (ROOTS), a
 * link in the chain of another included.  False when a component is
 * absent (CUR then ends at the last that exists) or the walk is too deep.
 */
/* Directories a walk found to be no link, for the next deny path's walk
 * (the default's share /etc and the home: ~20 lstat() calls a start). */
struct plain_dirs {
	char **v;
	size_t n;
};

static bool walk_way(const char *path, char *cur, size_t size, char **roots, size_t nroots,
		     char ***links, size_t *nlinks, struct plain_dirs *plain, int depth)
{
	char buf[PATH_MAX], *save = NULL;

	if (depth > 40 || (size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return false;
	if (path[0] == '/')
		cur[0] = '\0';
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		size_t len = strlen(cur);
		char target[PATH_MAX];
		struct stat st;
		ssize_t n;

		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) { /* CUR is canonical: its parent is lexical */
			char *s = strrchr(cur, '/');
			if (s)
				*s = '\0';
			continue;
		}
		if ((size_t)snprintf(cur + len, size - len, "/%s", c) >= size - len) {
			cur[len] = '\0';
			return false;
		}
		if (strv_has(plain->v, plain->n, cur))
			continue;
		if (lstat(cur, &st) < 0) {
			cur[len] = '\0';
			return false;
		}
		if (S_ISDIR(st.st_mode))
			strv_add(&plain->v, &plain->n, cur);
		if (!S_ISLNK(st.st_mode))
			continue;
		n = readlink(cur, target, sizeof(target) - 1);
		if (n < 0) {
			cur[len] = '\0';
			return false;
		}
		target[n] = '\0';
		if (beneath_any(roots, nroots, cur) && !strv_has(*links, *nlinks, cur))
			strv_add(links, nlinks, cur);
		cur[len] = '\0'; /* a relative target starts in the link's directory */
		if (!walk_way(target, cur, size, roots, nroots, links, nlinks, plain, depth + 1))
			return false;
	}
	return true;
}

/*
 * The way to each deny path beneath a write grant, held as the way to a
 * protected path is.  The host's tools write by name (`aws configure`, `gh
 * auth login`): were the command to rename a directory on the way out of it
 * (a mask moves with the directory it is mounted in), or replace a symbolic
 * link on it (the deny covers the link's target, not the link), and make the
 * path again as its own directory, what the host writes there next is the
 * command's to read, and the host's own directory is left renamed or
 * unlinked.  So:
 *   - LINKS gets each symbolic link met on the way, the deny path's own and
 *     those in the chain of another included, that lies beneath a write
 *     grant: with a mount namespace it is pinned (a mount point cannot be
 *     removed, renamed or renamed over), without one it is a carve-out
 *     (NOFOLLOW, read-only: the directories on the way keep only read
 *     rights, and the file gate refuses its name);
 *   - WAY gets each resolved deny path there, and each such link, whose
 *     directories on the way are pinned with a mount namespace.  Without
 *     one the deny's own carve-out already leaves them no right to remove
 *     or rename, and the file gate refuses their names.
 * A deny path that resolves to itself has no link on the way: only a path
 * that does not (or is absent) is walked, a component at a time.
 */
static void deny_ways(struct sandbox *sb, char **roots, size_t nroots, char ***links,
		      size_t *nlinks, char ***way, size_t *nway)
{
	char *const *canon = sandbox_deny_canon(sb);
	const struct policy_list *d = &sb->policy->fs.deny;
	struct plain_dirs plain = {0};

	for (size_t i = 0; nroots && i < d->n; i++) {
		char cur[PATH_MAX] = "";
		size_t before = *nlinks;
		const char *c = canon[i];
		if (!c || strcmp(c, d->items[i].value) != 0)
			(void)walk_way(d->items[i].value, cur, sizeof(cur), roots, nroots, links,
				       nlinks, &plain, 0);
		if (c && beneath_any(roots, nroots, c) && !strv_has(*way, *nway, c))
			strv_add(way, nway, c);
		for (size_t k = before; k < *nlinks; k++)
			if (!strv_has(*way, *nway, (*links)[k]))
				strv_add(way, nway, (*links)[k]);
	}
	strv_clear(&plain.v, &plain.n);
}

/*
 * The same for each hook that is a link (hook_scripts()): the links met
 * on the way to the script it runs, and the way to each, are held as a
 * deny path's (a review: `.git/hooks/pre-commit -> ../../lnk/x` with
 * `lnk -> tools`, the command replaced `lnk` by a directory of its own;
 * a chain's next link retargeted; the host's commit ran what they led
 * to).  Those inside a .git are the git directory's, held with it.
 */
static void hook_ways(struct sandbox *sb, char **roots, size_t nroots, char ***links,
		      size_t *nlinks, char ***way, size_t *nway)
{
	struct plain_dirs plain = {0};

	for (size_t i = 0; nroots && i < sb->n_hook_links; i++) {
		char cur[PATH_MAX] = "";
		char **found = NULL;
		size_t nfound = 0;
		(void)walk_way(sb->hook_links[i], cur, sizeof(cur), roots, nroots, &found, &nfound,
			       &plain, 0);
		for (size_t k = 0; k < nfound; k++) {
			size_t fl = strlen(found[k]);
			if (strstr(found[k], "/.git/") ||
			    (fl >= 5 && strcmp(found[k] + fl - 5, "/.git") == 0))
				continue;
			if (!strv_has(*links, *nlinks, found[k]))
				strv_add(links, nlinks, found[k]);
			if (!strv_has(*way, *nway, found[k]))
				strv_add(way, nway, found[k]);
		}
		strv_clear(&found, &nfound);
	}
	strv_clear(&plain.v, &plain.n);
}

/*
 * A deny path written as a directory (a trailing '/': the default's
 * ~/.aws/, ~/.docker/, ...) that is absent at start, beneath a grant, with a
 * mount namespace: the host may make it while the command runs (a first
 * `aws configure`), and what it writes there would be read through the
 * grant above.  An empty directory is made there now (0700, its parent's
 * owner's), masked like any deny path (layers.c) and pinned on the way to it
 * (deny_ways), and removed at exit when still empty, as protect's own
 * placeholders are (shared between runs by a lock): the host's `mkdir -p`
 * finds it and writes into it, out of the sandbox's sight.  An empty
 * directory already there is taken as such a placeholder (another run's).
 * Not held: a file (a placeholder file would be replaced by the host's
 * rename, which takes the mask with it), a path whose parent is absent too,
 * and without a mount namespace (SECURITY.md).
 */
void protect_deny_placeholders(struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	char *const *canon = sandbox_deny_canon(sb);
	const struct policy_list *grants[] = {&p->fs.read, &p->fs.exec, &p->fs.write};

	if (sb->ns != NS_FULL || sb->replanning)
		return;
	for (size_t i = 0; i < p->fs.deny.n; i++) {
		const struct policy_item *it = &p->fs.deny.items[i];
		char name[NAME_MAX + 1];
		struct stat st, up;
		bool granted = false;
		int fd;

		if (!it->is_dir ||
		    (canon[i] && !(lstat(canon[i], &st) == 0 && S_ISDIR(st.st_mode) &&
				   protect_dir_is_empty(canon[i]))))
			continue;
		for (size_t g = 0; g < ARRAY_SIZE(grants) && !granted; g++)
			for (size_t k = 0; k < grants[g]->n && !granted; k++)
				granted =
				    landlock_path_beneath(it->value, grants[g]->items[k].value) &&
				    strcmp(it->value, grants[g]->items[k].value) != 0;
		if (!granted)
			continue;
		_cleanup_close_ int dir = protect_split_parent(it->value, name, sizeof(name));
		if (dir < 0 || fstat(dir, &up) < 0) {
			note("%s: the directory above it does not exist (or is reached through a "
			     "symbolic link): what the host makes there during the run is not "
			     "hidden",
			     it->value);
			continue;
		}
		if (!canon[i]) {
			if (mkdirat(dir, name, 0700) < 0) {
				if (errno == EEXIST)
					continue; /* made meanwhile: the host's */
				note(
				    "%s: no placeholder (%s): what the host makes there during the "
				    "run is not hidden",
				    it->value, strerror(errno));
				continue;
			}
			if (geteuid() == 0 && (up.st_uid != 0 || up.st_gid != 0) &&
			    fchownat(dir, name, up.st_uid, up.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
				die("cannot hand the placeholder %s to its directory's owner: %s",
				    it->value, strerror(errno));
		}
		fd = placeholder_take(it->value, &st);
		if (fd < 0) {
			if (fd != -ESTALE)
				die("cannot hold the placeholder %s: %s", it->value, strerror(-fd));
			continue; /* not empty, or replaced: the host's */
		}
		placeholder_add(sb, it->value, &st, fd);
		if (!canon[i]) {
			sb->deny_canon[i] = realpath(it->value, NULL);
			if (!sb->deny_canon[i])
				die("%s: %s", it->value, strerror(errno));
		}
	}
}

/* What protect_prepare() sorts the candidates into. */
struct prep {
	struct sandbox *sb;
	bool ns;	     /* with a mount namespace */
	char **roots, **all; /* write grants, canonical: directories; all */
	size_t nroots, nall;
	char **ro; /* existing: read-only */
	size_t nro;
	char **absent, **anear; /* absent: canonical, and its nearest directory */
	size_t nabsent, nnear;
	enum prot_kind *akind; /* ... and its kind */
	/* the absent paths again, hashed: each candidate asks whether one
	 * holds it, and a grant holding many repositories has thousands of
	 * candidates (every built-in name in each): a scan of the list for
	 * each was quadratic (absent_holds()) */
	const char **aset;
	size_t aset_cap;
	struct listings ls; /* the directories the candidates are in */
	/* the __pycache__ beside each built-in Python name there (once) */
	char **pyc;
	size_t npyc;
};

static uint64_t hash_of(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

/* Whether the absent set holds the N first bytes of S. */
static bool aset_has(const struct prep *pp, const char *s, size_t n)
{
	if (!pp->aset_cap)
		return false;
	for (size_t i = hash_of(s, n) & (pp->aset_cap - 1);; i = (i + 1) & (pp->aset_cap - 1)) {
		const char *e = pp->aset[i];
		if (!e)
			return false;
		if (strlen(e) == n && memcmp(e, s, n) == 0)
			return true;
	}
}

static void aset_put(struct prep *pp, const char *s)
{
	/* at most half full */
	if ((pp->nabsent + 1) * 2 > pp->aset_cap) {
		size_t cap = pp->aset_cap ? pp->aset_cap * 2 : 64;
		const char **t = calloc(cap, sizeof(*t));
		if (!t)
			die("out of memory");
		for (size_t i = 0; i < pp->aset_cap; i++)
			for (size_t j = pp->aset[i]
					    ? hash_of(pp->aset[i], strlen(pp->aset[i])) & (cap - 1)
					    : 0;
			     pp->aset[i]; j = (j + 1) & (cap - 1))
				if (!t[j]) {
					t[j] = pp->aset[i];
					break;
				}
		free(pp->aset);
		pp->aset = t;
		pp->aset_cap = cap;
	}
	for (size_t i = hash_of(s, strlen(s)) & (pp->aset_cap - 1);;
	     i = (i + 1) & (pp->aset_cap - 1))
		if (!pp->aset[i]) {
			pp->aset[i] = s;
			return;
		}
}

/* Whether an absent path is PATH or holds it (landlock_path_beneath() of
 * PATH and each), by looking each of PATH's ancestors up. */
static bool absent_holds(const struct prep *pp, const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 1; i <= n; i++)
		if ((i == n || path[i] == '/') && aset_has(pp, path, i))
			return true;
	return false;
}

/* An empty directory where a .git or a held directory is (another run's
 * placeholder, or one git passes over as well): shared as a placeholder.
 * False, and *THERE false, when it went meanwhile (made again later). */
static bool share_placeholder(struct prep *pp, const char *path, bool *there)
{
	struct stat st;
	int fd = placeholder_take(path, &st);

	if (fd >= 0) {
		placeholder_add(pp->sb, path, &st, fd);
		strv_add(&pp->ro, &pp->nro, path);
		return true;
	}
	if (fd != -ESTALE)
		die("cannot hold the placeholder %s: %s", path, strerror(-fd));
	*there = false;
	return false;
}

/* C exists (ST): read-only where a write grant reaches it, but for a .git
 * directory, which is guarded by its entries (git must keep writing
 * objects, refs and the index). */
static void sort_absent(struct prep *pp, const struct cand *c);

static void sort_existing(struct prep *pp, const struct cand *c, const struct stat *st)
{
	struct sandbox *sb = pp->sb;
	char *canon;

	if ((c->kind == PROT_GITDIR || c->kind == PROT_SUBGIT) && S_ISDIR(st->st_mode) &&
	    !placeholder_is(sb, c->path)) {
		protect_guard_gitdir(sb, st); /* its entries are candidates */
		/* the project's own: a copy-on-write view (gitview.c) */
		char top[PATH_MAX];
		snprintf(top, sizeof(top), "%.*s", (int)c->prefix, c->path);
		if (pp->ns && c->kind == PROT_GITDIR && c->prefix &&
		    strv_has(pp->roots, pp->nroots, top) &&
		    gitview_wanted(sb->started_as_root, sb->uid, sb->outer_uid, st) &&
		    !strv_has(sb->gitview_paths, sb->n_gitview_paths, c->path))
			strv_add(&sb->gitview_paths, &sb->n_gitview_paths, c->path);
		return;
	}
	/* one name in a canonical directory, not a link: the path is
	 * canonical already */
	if (c->prefix && !strchr(c->path + c->prefix + 1, '/') && !S_ISLNK(st->st_mode))
		canon = strdup(c->path);
	else
		canon = realpath(c->path, NULL);
	if (S_ISLNK(st->st_mode)) {
		/* a link by a protected name (`.vscode -> conf/vsc`): the link
		 * itself held as a hook's links are (hook_ways(): bound onto
		 * itself, a carve-out without namespaces), not only where it
		 * leads; leading nowhere yet, that path held absent (an
		 * outside review: the sandbox put a directory of its own in
		 * the link's place, or made where it led) */
		char absent[PATH_MAX], top[PATH_MAX];
		if (!strv_has(sb->hook_links, sb->n_hook_links, c->path))
			strv_add(&sb->hook_links, &sb->n_hook_links, c->path);
		snprintf(top, sizeof(top), "%.*s", (int)c->prefix, c->path);
		if (!canon && c->prefix &&
		    protect_dangling_target(top, c->path, absent, sizeof(absent)) &&
		    beneath_any(pp->roots, pp->nroots, absent) && !absent_holds(pp, absent))
			sort_absent(pp, &(struct cand){absent, c->kind, 0});
	}
	if (!canon)
		return;
	if (beneath_any(pp->all, pp->nall, canon) && !strv_has(pp->ro, pp->nro, canon))
		strv_add(&pp->ro, &pp->nro, canon);
	free(canon);
}

/* C is absent beneath a write grant: kept in canonical form, unless
 * something above it is already protected (or absent and guarded). */
static void sort_absent(struct prep *pp, const struct cand *c)
{
	const char *path = c->path, *tail = strrchr(path, '/');
	char canon[PATH_MAX], near[PATH_MAX];

	snprintf(near, sizeof(near), "%.*s", (int)(tail - path), path);
	if (!strv_has(pp->roots, pp->nroots, near)) {
		/* not directly in a grant: find what exists */
		size_t len;
		/* a built-in name whose first component the listing of its
		 * (canonical) directory lacks: that directory is the nearest
		 * (no stat of what is known absent) */
		if (c->prefix && c->prefix < sizeof(near) &&
		    !listing_may_exist(&pp->ls, path, c->prefix)) {
			memcpy(near, path, c->prefix);
			near[c->prefix] = '\0';
			len = c->prefix;
			if (!beneath_any(pp->roots, pp->nroots, near))
				return;
		} else if (!nearest_dir(path, near, sizeof(near), &len, pp->roots, pp->nroots) ||
			   !beneath_any(pp->roots, pp->nroots, near))
			return; /* nothing can be made there */
		/* the missing tail starts where the nearest directory ends */
		tail = path + len;
	}
	if ((size_t)snprintf(canon, sizeof(canon), "%s%s", strcmp(near, "/") ? near : "", tail) >=
	    sizeof(canon))
		return;
	if (beneath_any(pp->ro, pp->nro, canon) || absent_holds(pp, canon))
		return;
	pp->akind = grow_for(pp->akind, pp->nabsent, sizeof(*pp->akind));
	pp->akind[pp->nabsent] = c->kind;
	strv_add(&pp->anear, &pp->nnear, near);
	strv_add(&pp->absent, &pp->nabsent, canon);
	aset_put(pp, pp->absent[pp->nabsent - 1]);
}

/*
 * A built-in Python name that exists (readline.py, pip/__init__.py):
 * Python reads its compiled form from __pycache__ beside it, checking only
 * the source's time and size, which the sandbox can read and copy into a
 * .pyc of its own making; so that directory is held too (absent: moved
 * aside when made).  A project with such a module at its top is rare, and
 * its python then only writes no cache there.
 */
static void sort_candidate(struct prep *pp, const struct cand *c);

static void held_python(struct prep *pp, const struct cand *c)
{
	size_t n = strlen(c->path);
	const char *slash = strrchr(c->path, '/');
	char dir[PATH_MAX];

	if (!c->prefix || c->kind != PROT_FILE || n < 3 || strcmp(c->path + n - 3, ".py") != 0 ||
	    (size_t)snprintf(dir, sizeof(dir), "%.*s/__pycache__", (int)(slash - c->path),
			     c->path) >= sizeof(dir) ||
	    strv_has(pp->pyc, pp->npyc, dir))
		return;
	strv_add(&pp->pyc, &pp->npyc, dir);
	/* a directory's candidate: no further one of its own */
	sort_candidate(pp, &(struct cand){dir, PROT_DIR, c->prefix});
}

static void sort_candidate(struct prep *pp, const struct cand *c)
{
	struct sandbox *sb = pp->sb;
	struct stat st;
	bool there = listing_may_exist(&pp->ls, c->path, c->prefix);
	int err = ENOENT;

	/* the view hides the real .git whole: nothing beneath it needs a
	 * mount or a check at exit */
	if (pp->ns && beneath_any(sb->gitview_paths, sb->n_gitview_paths, c->path))
		return;
	/* a private stand-in is the sandbox's own: the host's file is out of
	 * its reach, behind the bind (state.c) */
	if (pp->ns && state_is_private(sb, c->path))
		return;
	if (there && pp->ns && (c->kind == PROT_GITDIR || c->kind == PROT_DIR_HOLD) &&
	    !placeholder_is(sb, c->path) && lstat(c->path, &st) == 0 && S_ISDIR(st.st_mode) &&
	    protect_dir_is_empty(c->path) && share_placeholder(pp, c->path, &there))
		return;
	if (there) {
		if (lstat(c->path, &st) == 0) {
			sort_existing(pp, c, &st);
			held_python(pp, c);
			return;
		}
		err = errno;
	}
	/* the string test first: most candidates are absent, and most of
	 * those lie outside every write grant */
	if (c->kind == PROT_PRESENT || err != ENOENT ||
	    !beneath_any(pp->roots, pp->nroots, c->path) || absent_holds(pp, c->path))
		return;
	sort_absent(pp, c);
}

/*
 * The placeholder at PATH, found absent: made, empty, and removed at exit.
 * Found made before ours could be (EEXIST): another run's placeholder,
 * made by a start beside ours in the same directory (1,000 sandboxes
 * started at once in one directory: one refused to start), shared as if
 * found at start (share_placeholder(): an empty directory, held shared by
 * flock), or, gone again meanwhile (its run ended and removed it), made
 * again; a few times.  Anything else there (not an empty directory: a
 * repository made meanwhile) is not taken for one.  False, errno set,
 * when none could be had: the caller decides.
 */
static bool make_placeholder(struct prep *pp, const char *path)
{
	for (int tries = 0; tries < 8; tries++) {
		bool there = true;
		if (mkdir(path, 0755) == 0) {
			struct stat st;
			int fd = placeholder_take(path, &st);
			if (fd < 0)
				die("cannot hold the placeholder %s: %s", path,
				    strerror(fd == -ESTALE ? EBUSY : -fd));
			placeholder_add(pp->sb, path, &st, fd);
			strv_add(&pp->ro, &pp->nro, path);
			return true;
		}
		if (errno != EEXIST)
			return false;
		if (share_placeholder(pp, path, &there))
			return true;
	}
	errno = EEXIST;
	return false;
}

/* Each absent path: a placeholder (a .git or a held directory directly in
 * an existing directory, with namespaces), a check at exit (a built-in
 * name), its nearest directory read-only, or a carve-out into CO. */
static void plan_absent(struct prep *pp, struct landlock_carveout *co, size_t *nco)
{
	struct sandbox *sb = pp->sb;

	for (size_t i = 0; i < pp->nabsent; i++) {
		const char *path = pp->absent[i], *near = pp->anear[i];
		const char *slash = strrchr(path, '/');
		/* the parent exists: PATH is one name in it */
		bool direct = strlen(near) == (size_t)(slash - path) ||
			      (strcmp(near, "/") == 0 && slash == path);

		if (pp->ns && direct &&
		    (pp->akind[i] == PROT_GITDIR || pp->akind[i] == PROT_DIR_HOLD)) {
			/* empty, and removed at exit: a tool looking there
			 * finds nothing, as before */
			if (make_placeholder(pp, path))
				continue;
			if (errno == EACCES || errno == EROFS || errno == EPERM)
				continue; /* we cannot, and the sandbox (same user) cannot */
			die("cannot make the placeholder %s: %s", path, strerror(errno));
		}
		if (pp->akind[i] != PROT_POLICY) {
			/* a carve-out would take from every directory on the
			 * way to it the right to get new entries (Landlock
			 * rights are inherited), the top of the project first:
			 * checked when the sandbox has ended instead */
			strv_add(&sb->watch, &sb->n_watch, path);
			continue;
		}
		/* With a mount namespace the nearest directory is made read-only
		 * instead: a carve-out would take new entries from every
		 * directory up to the grant, and beneath a private /tmp (one
		 * write grant in the namespace, inherited by everything carried
		 * into it) it would not hold at all.  Only an absent path
		 * directly in a grant outside the private /tmp is a carve-out,
		 * so that the grant itself is not made read-only. */
		bool in_tmp =
		    sb->policy->fs.private_tmp && (landlock_path_beneath(near, "/tmp") ||
						   landlock_path_beneath(near, "/dev/shm"));
		if (pp->ns && (!strv_has(pp->roots, pp->nroots, near) || in_tmp)) {
			note("%s does not exist: %s is read-only so that it cannot be created",
			     path, near);
			if (!strv_has(pp->ro, pp->nro, near))
				strv_add(&pp->ro, &pp->nro, near);
			continue;
		}
		co[(*nco)++] = (struct landlock_carveout){path, LANDLOCK_READ_ONLY, true, false};
	}
}

/* With a mount namespace: every directory on the way from the outermost
 * write grant to each read-only path and to each deny path's way (WAY) is
 * pinned, outermost first (each resolves through the last); then the
 * links on the way to deny paths (LINKS); then the read-only paths. */
static void pin_ways(struct prep *pp, char **way, size_t nway, char **links, size_t nlinks)
{
	char **pins = NULL;
	size_t npins = 0;

	for (size_t i = 0; i < pp->nro + nway; i++) {
		const char *path = i < pp->nro ? pp->ro[i] : way[i - pp->nro];
		const char *root = outer_root(pp->roots, pp->nroots, path);
		char dir[PATH_MAX];
		if (!root || strcmp(root, path) == 0)
			continue;
		snprintf(dir, sizeof(dir), "%s", path);
		for (char *s = dir + strlen(root) + 1; (s = strchr(s, '/')); s++) {
			*s = '\0';
			if (!strv_has(pins, npins, dir))
				strv_add(&pins, &npins, dir);
			*s = '/';
		}
	}
	for (size_t i = 1; i < npins; i++)
		for (size_t j = i; j > 0 && strlen(pins[j]) < strlen(pins[j - 1]); j--) {
			char *t = pins[j];
			pins[j] = pins[j - 1];
			pins[j - 1] = t;
		}
	for (size_t i = 0; i < npins; i++)
		sandbox_add_mask(pp->sb, pins[i], true, MASK_PIN);
	strv_clear(&pins, &npins);
	/* the links on the way to deny paths, after the directories they are
	 * in (bind_self() does not follow them) */
	for (size_t i = 0; i < nlinks; i++)
		sandbox_add_mask(pp->sb, links[i], false, MASK_PIN);
	for (size_t i = 0; i < pp->nro; i++) {
		struct stat st;
		if (stat(pp->ro[i], &st) == 0)
			sandbox_add_mask(pp->sb, pp->ro[i], S_ISDIR(st.st_mode), MASK_READ_ONLY);
	}
}

/* The carve-outs point into the read-only, absent and link lists: SB
 * keeps their strings until protect_plan_done(); the rest is freed. */
static void keep_strings(struct prep *pp, char **links, size_t nlinks)
{
	struct sandbox *sb = pp->sb;
	size_t more = pp->nro + pp->nabsent + nlinks;

	if (more) {
		char **v = realloc(sb->prot_strings, (sb->n_prot_strings + more) * sizeof(char *));
		if (!v)
			die("out of memory");
		sb->prot_strings = v;
	}
	for (size_t i = 0; i < pp->nro; i++)
		sb->prot_strings[sb->n_prot_strings++] = pp->ro[i];
	for (size_t i = 0; i < pp->nabsent; i++)
		sb->prot_strings[sb->n_prot_strings++] = pp->absent[i];
	for (size_t i = 0; i < nlinks; i++)
		sb->prot_strings[sb->n_prot_strings++] = links[i];
	free(links);
	free(pp->ro);
	free(pp->absent);
	free(pp->aset);
	free(pp->akind);
	strv_clear(&pp->anear, &pp->nnear);
	/* the watcher starts the chain to each absent name at its grant */
	sb->prot_roots = pp->roots;
	sb->n_prot_roots = pp->nroots;
	strv_clear(&pp->all, &pp->nall);
	listings_free(&pp->ls);
}

void protect_prepare(struct sandbox *sb, struct landlock_carveout **ret_co, size_t *ret_nco)
{
	struct prep pp = {.sb = sb, .ns = sb->ns == NS_FULL};
	struct cands cand = {0};
	struct landlock_carveout *co;
	char **dlinks = NULL, **dway = NULL;
	size_t nco = 0, ndlinks = 0, ndway = 0;

	strv_clear(&sb->watch, &sb->n_watch);
	free(sb->git_guarded);
	sb->git_guarded = NULL;
	sb->n_git_guarded = 0;
	/* planned again without namespaces (namespaces = auto): no views */
	strv_clear(&sb->gitview_paths, &sb->n_gitview_paths);
	strv_clear(&sb->hook_links, &sb->n_hook_links);
	strv_clear(&sb->hook_files, &sb->n_hook_files);
	strv_clear(&sb->hook_globs, &sb->n_hook_globs);
	strv_clear(&sb->hook_glob_seen, &sb->n_hook_glob_seen);

	protect_free_watch_lists(sb);
	protect_python_clear(sb);
	write_roots(sb->policy, &pp.roots, &pp.nroots, &pp.all, &pp.nall);
	gitconfig_host_read(sb);
	if (pp.nall > 0)
		protect_gather(sb, pp.roots, pp.nroots, &cand, &pp.ls);
	protect_python_cands(sb, &pp.ls, &cand);
	cands_sort(&cand);
	for (size_t i = 0; i < cand.n; i++)
		sort_candidate(&pp, &cand.v[i]);
	cands_free(&cand);
	strv_clear(&pp.pyc, &pp.npyc);
	protect_python_plan(sb, &pp.ls);

	deny_ways(sb, pp.roots, pp.nroots, &dlinks, &ndlinks, &dway, &ndway);
	hook_ways(sb, pp.roots, pp.nroots, &dlinks, &ndlinks, &dway, &ndway);
	co = calloc(pp.nro + pp.nabsent + ndlinks + 1, sizeof(*co));
	if (!co)
		die("out of memory");
	plan_absent(&pp, co, &nco);
	if (pp.ns) {
		pin_ways(&pp, dway, ndway, dlinks, ndlinks);
	} else {
		for (size_t i = 0; i < pp.nro; i++)
			co[nco++] =
			    (struct landlock_carveout){pp.ro[i], LANDLOCK_READ_ONLY, false, false};
		for (size_t i = 0; i < ndlinks; i++)
			co[nco++] =
			    (struct landlock_carveout){dlinks[i], LANDLOCK_READ_ONLY, false, true};
	}
	strv_clear(&dway, &ndway);
	keep_strings(&pp, dlinks, ndlinks);
	*ret_co = co;
	*ret_nco = nco;
}

/* A directory by a walk from "/" that follows no symlink; -errno. */
int protect_open_dir_nofollow(const char *path)
{
	_cleanup_close_ int dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	char buf[PATH_MAX];
	char *save = NULL;

	if (dir < 0)
		return -errno;
	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int d = openat(dir, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (d < 0)
			return -errno;
		close(dir);
		dir = d;
	}
	return steal_fd(&dir);
}

void protect_finish(struct sandbox *sb)
{
	struct listings ls = {0};

	for (size_t i = 0; i < sb->n_watch; i++) {
		const char *path = sb->watch[i];
		struct stat st;
		/* most are still absent: a listing of their directory (or an
		 * lstat()) says so, resolving the way the host's tools will;
		 * what exists is then reached by a walk that follows no symlink */
		const char *slash = strrchr(path, '/');
		if (slash && slash > path && !listing_may_exist(&ls, path, (size_t)(slash - path)))
			continue;
		if (lstat(path, &st) < 0 && errno == ENOENT)
			continue;
		(void)protect_move_aside(sb, path, "protect.created", MOVE_AT_EXIT);
	}
	listings_free(&ls);
	/* a file lefthook's globbed extends matches now and did not at the
	 * start: a configuration the run made, which the host's next commit
	 * would read */
	for (size_t i = 0; i < sb->n_hook_globs; i++) {
		glob_t g;
		if (glob(sb->hook_globs[i], GLOB_NOSORT, NULL, &g) != 0)
			continue;
		for (size_t j = 0; j < g.gl_pathc; j++)
			if (!strv_has(sb->hook_glob_seen, sb->n_hook_glob_seen, g.gl_pathv[j]))
				(void)protect_move_aside(sb, g.gl_pathv[j], "protect.created",
							 MOVE_AT_EXIT);
		globfree(&g);
	}
	protect_python_finish(sb);
	placeholders_finish(sb);
}

void protect_plan_done(struct sandbox *sb)
{
	strv_clear(&sb->prot_strings, &sb->n_prot_strings);
}

void protect_free_watch_lists(struct sandbox *sb)
{
	strv_clear(&sb->prot_roots, &sb->n_prot_roots);
	strv_clear(&sb->prot_trees, &sb->n_prot_trees);
	strv_clear(&sb->nested_repos, &sb->n_nested_repos);
}

void protect_leave(struct sandbox *sb)
{
	protect_remove_placeholders(sb);
	placeholders_release(sb);
}

void protect_release(struct sandbox *sb)
{
	placeholders_release(sb);
	protect_free_watch_lists(sb);
	free(sb->git_guarded);
	sb->git_guarded = NULL;
	sb->n_git_guarded = 0;
	strv_clear(&sb->gitview_paths, &sb->n_gitview_paths);
	strv_clear(&sb->hook_links, &sb->n_hook_links);
	strv_clear(&sb->hook_files, &sb->n_hook_files);
	strv_clear(&sb->hook_globs, &sb->n_hook_globs);
	strv_clear(&sb->hook_glob_seen, &sb->n_hook_glob_seen);
	strv_clear(&sb->watch, &sb->n_watch);
	protect_python_clear(sb);
	protect_plan_done(sb);
}
