/* SPDX-License-Identifier: MIT */
/*
 * The grant planner: turns the policy's grants and carve-outs into Landlock
 * rules.  Pure logic apart from stat/realpath/readdir, so it is unit-tested
 * on temporary trees without privilege.
 *
 * Carve-outs without a mount namespace.  Landlock only adds rights, and a
 * rule on a directory covers everything beneath it, so "write ~ but not
 * ~/.ssh" cannot be one rule.  Instead the grant on ~ is replaced by:
 *   - a rule on ~ itself holding only what every carve-out beneath it still
 *     allows (nothing for a deny, read-only rights for a protect);
 *   - the full grant on each entry of ~ except the one leading to the
 *     carve-out, recursively down to it.
 * The cost: a directory on the way to a carve-out keeps only the reduced
 * rights for entries created after start-up (for a deny, new files there
 * cannot be created or read), and the rule count grows with the number of
 * entries beside the path.  With a mount namespace the supervisor masks
 * carve-outs with mounts instead and has no such cost.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/macros.h"
#include "landlock.h"

struct canon_carveout {
	char *path;
	uint64_t max_access;
};

struct plan_ctx {
	struct landlock_plan *plan;
	struct canon_carveout *co;
	size_t n_co;
};

/* "/a/b" is beneath "/a"; every path is beneath "/". */
bool landlock_path_beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static bool strictly_beneath(const char *path, const char *dir)
{
	return landlock_path_beneath(path, dir) && strcmp(path, dir) != 0;
}

/* SIBLING: an entry listed while splitting a grant around a carve-out,
 * which may vanish before the rules are opened (landlock_build). */
static int emit_as(struct landlock_plan *plan, const char *path, uint64_t access, bool sibling)
{
	if (!access)
		return 0;
	for (size_t i = 0; i < plan->n; i++)
		if (strcmp(plan->rules[i].path, path) == 0) {
			plan->rules[i].access |= access;
			plan->rules[i].sibling &= sibling;
			return 0;
		}
	if (plan->n == plan->cap) {
		size_t cap = plan->cap ? plan->cap * 2 : 32;
		struct landlock_rule *r = realloc(plan->rules, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		plan->rules = r;
		plan->cap = cap;
	}
	plan->rules[plan->n].path = strdup(path);
	if (!plan->rules[plan->n].path)
		return -ENOMEM;
	plan->rules[plan->n].access = access;
	plan->rules[plan->n].sibling = sibling;
	plan->n++;
	return 0;
}

static int emit(struct landlock_plan *plan, const char *path, uint64_t access)
{
	return emit_as(plan, path, access, false);
}

static int split(struct plan_ctx *c, const char *path, uint64_t rights, bool is_dir, int depth)
{
	uint64_t base = rights;
	bool any_beneath = false;
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int r;

	if (depth > 64)
		return -ELOOP;
	/* a carve-out at this very path caps what it and its subtree get */
	for (size_t i = 0; i < c->n_co; i++)
		if (strcmp(c->co[i].path, path) == 0)
			rights &= c->co[i].max_access;
	if (!is_dir)
		return emit(c->plan, path, rights & LANDLOCK_FILE_RIGHTS);
	base = rights;
	for (size_t i = 0; i < c->n_co; i++)
		if (strictly_beneath(c->co[i].path, path)) {
			any_beneath = true;
			base &= c->co[i].max_access;
		}
	if (!any_beneath || rights == base)
		return emit(c->plan, path, rights);
	r = emit(c->plan, path, base);
	if (r < 0)
		return r;
	struct landlock_split *sp = realloc(c->plan->splits, (c->plan->n_splits + 1) * sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	c->plan->splits = sp;
	sp[c->plan->n_splits].path = strdup(path);
	if (!sp[c->plan->n_splits].path)
		return -ENOMEM;
	sp[c->plan->n_splits++].rights = rights;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char child[PATH_MAX];
		struct stat st;
		bool on_way = false, child_dir, child_link;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(child, sizeof(child), "%s%s%s", path,
				     strcmp(path, "/") == 0 ? "" : "/",
				     de->d_name) >= sizeof(child))
			return -ENAMETOOLONG;
		/* the entry's type as the directory gives it (an lstat each,
		 * ~150 under /etc, was most of the plan's time without
		 * namespaces); a change of type before the rules are opened
		 * is landlock_build's to refuse, as with lstat */
		if (de->d_type != DT_UNKNOWN) {
			child_dir = de->d_type == DT_DIR;
			child_link = de->d_type == DT_LNK;
		} else if (lstat(child, &st) == 0) {
			child_dir = S_ISDIR(st.st_mode);
			child_link = S_ISLNK(st.st_mode);
		} else {
			continue; /* vanished */
		}
		/* A symlink's target keeps whatever rules cover the target. */
		if (child_link)
			continue;
		for (size_t i = 0; i < c->n_co; i++)
			if (landlock_path_beneath(c->co[i].path, child))
				on_way = true;
		if (on_way)
			r = split(c, child, rights, child_dir, depth + 1);
		else
			r = emit_as(c->plan, child,
				    (child_dir ? rights : rights & LANDLOCK_FILE_RIGHTS) & ~base,
				    true);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * The canonical form of an absent PATH: its nearest existing ancestor
 * resolved, the missing components appended.  NULL when that ancestor is not
 * a directory (nothing can be created beneath a file).
 */
static char *canon_absent(const char *path)
{
	char buf[PATH_MAX], *slash, *base, *out;
	struct stat st;

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf) || buf[0] != '/')
		return NULL;
	for (;;) {
		slash = strrchr(buf, '/');
		if (!slash)
			return NULL;
		if (slash == buf) {
			base = strdup("/");
		} else {
			*slash = '\0';
			/* an ancestor may be a link (the tail is what is absent) */
			if (stat(buf, &st) < 0) {
				if (errno != ENOENT)
					return NULL;
				continue;
			}
			if (!S_ISDIR(st.st_mode))
				return NULL;
			base = realpath(buf, NULL);
		}
		break;
	}
	if (!base)
		return NULL;
	/* the missing tail, from the original string */
	const char *tail = path + (slash - buf);
	if (asprintf(&out, "%s%s", strcmp(base, "/") == 0 ? "" : base, tail) < 0)
		out = NULL;
	free(base);
	return out;
}

/* The canonical form of PATH, a symbolic link, not followed: its directory
 * resolved, its name appended; NULL when it is no link (any more). */
static char *canon_link(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX], *base, *out = NULL;
	struct stat st;

	if (!slash || slash[1] == '\0' || lstat(path, &st) < 0 || !S_ISLNK(st.st_mode) ||
	    (size_t)snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) >= sizeof(dir))
		return NULL;
	base = realpath(dir[0] ? dir : "/", NULL);
	if (base && asprintf(&out, "%s%s", strcmp(base, "/") == 0 ? "" : base, slash) < 0)
		out = NULL;
	free(base);
	return out;
}

/* The carve-outs canonical, into C; one that does not exist is noted and
 * left out.  Carve-outs follow symlinks: denying a link denies what it
 * points to (the link itself is one more carve-out, NOFOLLOW). */
static void canon_carveouts(struct plan_ctx *c, const struct landlock_carveout *carveouts,
			    size_t n_carveouts, landlock_note_fn note, void *ud)
{
	for (size_t i = 0; i < n_carveouts; i++) {
		char *canon = carveouts[i].nofollow ? canon_link(carveouts[i].path)
						    : realpath(carveouts[i].path, NULL);
		if (!canon && errno == ENOENT && carveouts[i].absent_too)
			canon = canon_absent(carveouts[i].path);
		if (!canon) {
			if (note)
				note(ud, carveouts[i].path, "does not exist: nothing to carve out");
			continue;
		}
		c->co[c->n_co].path = canon;
		c->co[c->n_co].max_access = carveouts[i].max_access;
		c->n_co++;
	}
}

/* One grant into the plan, split around the carve-outs.  A grant that does
 * not exist or is a link is noted and skipped, or fails when required (its
 * path in RET_FAILED_PATH, as on any failure). */
static int plan_grant(struct plan_ctx *c, const struct landlock_grant *g, landlock_note_fn note,
		      void *ud, const char **ret_failed_path)
{
	struct stat st;
	char *canon;
	uint64_t rights = g->access;
	int r;

	/* A final symlink is never followed: one planted inside a writable
	 * tree could otherwise widen a grant to anywhere. */
	if (lstat(g->path, &st) < 0) {
		if (g->required) {
			*ret_failed_path = g->path;
			return -errno;
		}
		if (note)
			note(ud, g->path, "does not exist: skipped");
		return 0;
	}
	if (S_ISLNK(st.st_mode)) {
		if (g->required) {
			*ret_failed_path = g->path;
			return -ELOOP;
		}
		if (note)
			note(ud, g->path, "is a symbolic link: skipped (grant its target instead)");
		return 0;
	}
	canon = realpath(g->path, NULL);
	if (!canon) {
		*ret_failed_path = g->path;
		return -errno;
	}
	/* a grant inside a carve-out gets no more than the carve-out allows */
	for (size_t j = 0; j < c->n_co; j++)
		if (landlock_path_beneath(canon, c->co[j].path))
			rights &= c->co[j].max_access;
	r = split(c, canon, rights, S_ISDIR(st.st_mode), 0);
	if (r < 0)
		*ret_failed_path = g->path;
	free(canon);
	return r;
}

int landlock_plan(const struct landlock_grant *grants, size_t n_grants,
		  const struct landlock_carveout *carveouts, size_t n_carveouts,
		  landlock_note_fn note, void *ud, struct landlock_plan *ret,
		  const char **ret_failed_path)
{
	struct landlock_plan plan = {0};
	struct plan_ctx c = {.plan = &plan};
	int r = 0;

	*ret_failed_path = NULL;
	c.co = calloc(n_carveouts ? n_carveouts : 1, sizeof(*c.co));
	if (!c.co)
		return -ENOMEM;
	canon_carveouts(&c, carveouts, n_carveouts, note, ud);
	for (size_t i = 0; i < n_grants; i++) {
		r = plan_grant(&c, &grants[i], note, ud, ret_failed_path);
		if (r < 0)
			goto out;
	}
out:
	plan.carveouts = calloc(c.n_co ? c.n_co : 1, sizeof(*plan.carveouts));
	if (!plan.carveouts && r == 0)
		r = -ENOMEM;
	for (size_t i = 0; i < c.n_co; i++) {
		if (plan.carveouts) {
			plan.carveouts[i] = (struct landlock_carveout){
			    c.co[i].path, c.co[i].max_access, false, false};
			plan.n_carveouts++;
		} else {
			free(c.co[i].path);
		}
	}
	free(c.co);
	if (r < 0) {
		landlock_plan_free(&plan);
		return r;
	}
	*ret = plan;
	return 0;
}

int landlock_plan_add(struct landlock_plan *plan, const char *path, uint64_t access)
{
	return emit(plan, path, access);
}

void landlock_plan_free(struct landlock_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++)
		free(plan->rules[i].path);
	free(plan->rules);
	for (size_t i = 0; i < plan->n_splits; i++)
		free(plan->splits[i].path);
	free(plan->splits);
	for (size_t i = 0; i < plan->n_carveouts; i++)
		free((char *)plan->carveouts[i].path);
	free(plan->carveouts);
	*plan = (struct landlock_plan){0};
}

bool landlock_plan_allows(const struct landlock_plan *plan, const char *path, uint64_t access)
{
	uint64_t have = 0;

	for (size_t i = 0; i < plan->n; i++)
		if (landlock_path_beneath(path, plan->rules[i].path))
			have |= plan->rules[i].access;
	return (have & access) == access;
}
