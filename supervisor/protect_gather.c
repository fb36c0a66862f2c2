/* SPDX-License-Identifier: MIT */
/*
 * What protect_prepare() (protect.c) holds: the candidates.  The policy's
 * `protect` paths; the built-in names (protect_names.c) beneath each write
 * grant, in each repository found in one and in the home; what the
 * repositories' git configurations point git at (hooks paths, included
 * files, the programs their commands name) and their submodules; the
 * host's own git configuration's; the policy files, the binary and the
 * audit log.  Candidates are paths as written, absent or not: protect.c
 * sorts them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protect_internal.h"

void cand_add(struct cands *c, const char *path, enum prot_kind kind)
{
	cand_add_in(c, path, kind, 0);
}

void cand_add_in(struct cands *c, const char *path, enum prot_kind kind, size_t prefix)
{
	struct cand *v = grow_for(c->v, c->n, sizeof(*v));

	c->v = v;
	v[c->n].path = strdup(path);
	if (!v[c->n].path)
		die("out of memory");
	v[c->n].kind = kind;
	v[c->n].prefix = prefix;
	c->n++;
}

static int cand_cmp_len(const void *a, const void *b)
{
	size_t la = strlen(((const struct cand *)a)->path),
	       lb = strlen(((const struct cand *)b)->path);

	return la < lb ? -1 : la > lb;
}

void cands_free(struct cands *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
	*c = (struct cands){0};
}

void cands_sort(struct cands *c)
{
	if (c->n > 1) /* none: no array at all, and qsort wants one */
		qsort(c->v, c->n, sizeof(*c->v), cand_cmp_len);
}

/* (a directory's names, read once: protect_internal.h) */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

const struct listing *listing_get(struct listings *ls, const char *dir, size_t len)
{
	for (size_t i = 0; i < ls->n; i++)
		if (strlen(ls->v[i].dir) == len && strncmp(ls->v[i].dir, dir, len) == 0)
			return &ls->v[i];
	struct listing *v = realloc(ls->v, (ls->n + 1) * sizeof(*v));
	if (!v)
		die("out of memory");
	ls->v = v;
	struct listing *l = &v[ls->n++];
	*l = (struct listing){.dir = strndup(dir, len)};
	if (!l->dir)
		die("out of memory");
	_cleanup_(closedirp) DIR *d = opendir(l->dir);
	struct dirent *de;
	if (!d) {
		/* not ok: every name is looked up on its own, but in a
		 * directory that is not there (.config, .github) */
		l->gone = errno == ENOENT || errno == ENOTDIR;
		return l;
	}
	while ((de = readdir(d)))
		strv_add(&l->names, &l->n, de->d_name);
	qsort(l->names, l->n, sizeof(char *), cmp_str);
	l->ok = true;
	return l;
}

bool listing_may_exist(struct listings *ls, const char *path, size_t prefix)
{
	char first[NAME_MAX + 1];
	const char *rel = path + prefix + 1, *slash = strchr(rel, '/');
	size_t n = slash ? (size_t)(slash - rel) : strlen(rel);
	const char *key = first;

	if (!prefix || n > NAME_MAX)
		return true;
	const struct listing *l = listing_get(ls, path, prefix);
	if (!l->ok)
		return !l->gone;
	memcpy(first, rel, n);
	first[n] = '\0';
	return bsearch(&key, l->names, l->n, sizeof(char *), cmp_str) != NULL;
}

void listings_free(struct listings *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		strv_clear(&ls->v[i].names, &ls->v[i].n);
		free(ls->v[i].dir);
	}
	free(ls->v);
	*ls = (struct listings){0};
}

void protect_guard_gitdir(struct sandbox *sb, const struct stat *st)
{
	struct git_guarded *v;

	for (size_t i = 0; i < sb->n_git_guarded; i++)
		if (sb->git_guarded[i].dev == st->st_dev && sb->git_guarded[i].ino == st->st_ino)
			return;
	v = realloc(sb->git_guarded, (sb->n_git_guarded + 1) * sizeof(*v));
	if (!v)
		die("out of memory");
	sb->git_guarded = v;
	v[sb->n_git_guarded++] = (struct git_guarded){st->st_dev, st->st_ino};
}

/* The built-in names of a project (of a repository directory, the ".git/"
 * entries, when BARE) beneath TOP, canonical. */
static void add_names(struct cands *cand, const char *top, bool bare)
{
	size_t n;
	const struct prot_builtin *t = protect_builtins(false, &n);
	char c[PATH_MAX];
	bool too_deep = false;

	for (size_t j = 0; j < n; j++) {
		const char *name = t[j].path;
		if (bare && strncmp(name, ".git/", 5) != 0)
			continue;
		if ((size_t)snprintf(c, sizeof(c), "%s/%s", top, bare ? name + 5 : name) <
		    sizeof(c))
			cand_add_in(cand, c, t[j].kind, strlen(top));
		else
			too_deep = true;
	}
	/* said, not passed over in silence: what lies there is unprotected */
	if (too_deep)
		warn("%s is too deep for all of protect's built-in names to fit in a path "
		     "(PATH_MAX): the longest are not protected there",
		     top);
}

/*
 * The submodules ROOT/.gitmodules names: each one's .git (a `gitdir:` file
 * the host's git follows when it recurses), and its config and hooks when
 * it is a directory.  Only `path = X` lines are read, X relative and
 * without "..": nothing else in the file matters here, and git itself is
 * not run on a tree the sandbox may have written.
 */
static void gather_submodules(const char *root, struct cands *cand)
{
	static const struct prot_builtin parts[] = {
	    {".git", PROT_SUBGIT},
	    {".git/config", PROT_FILE},
	    {".git/hooks", PROT_DIR},
	};
	char path[PATH_MAX], line[1024];
	FILE *f;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/.gitmodules", root) >= sizeof(path))
		return;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return;
	}
	for (int lines = 0; lines < 4096 && fgets(line, sizeof(line), f); lines++) {
		char *k = line + strspn(line, " \t"), *v, *end;
		if (strncmp(k, "path", 4) != 0)
			continue;
		v = k + 4 + strspn(k + 4, " \t");
		if (*v != '=')
			continue;
		v += 1 + strspn(v + 1, " \t");
		end = v + strcspn(v, "\r\n;#");
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end - v >= 2 && *v == '"' && end[-1] == '"') {
			v++;
			end--;
		}
		*end = '\0';
		while (end > v && end[-1] == '/')
			*--end = '\0';
		if (!*v || *v == '/' || strstr(v, "..") || strchr(v, '"') || strchr(v, '\\'))
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
			if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", root, v,
					     parts[i].path) < sizeof(path))
				cand_add(cand, path, parts[i].kind);
	}
	fclose(f);
}

/*
 * What the config of the git directory GITDIR points git at outside it:
 * the core.hooksPath directory (relative to TOP, the worktree or the bare
 * repository) and included files (relative to GITDIR), protected as its
 * hooks and config are.  Projects keep them in the worktree (`.githooks`,
 * a shared config file), where the grant reaches.  A value naming ".."
 * anywhere but at its start (`../file`, from the .git) is not followed:
 * gitscan.c checks what it names at exit.
 */
struct pointers {
	struct sandbox *sb;
	struct cands *cand;
	const char *gitdir, *top;
	int depth;		 /* of includes */
	bool hook;		 /* what a hook's script names (hook_scripts()) */
	enum hookconf_kind conf; /* whose configuration names it, read as which */
};

/* (a helper of on_git_pointer(), apart: each PATH_MAX buffer is a page
 * touched at every start otherwise, and a fault is dear on some virtual
 * machines) */
static void on_git_pointer(void *ud, enum git_pointer kind, const char *value);

/* PATH, named by a hook's script or a hook manager's configuration, kept
 * for githeads.c too */
static void hook_file(struct sandbox *sb, const char *path)
{
	if (!strv_has(sb->hook_files, sb->n_hook_files, path))
		strv_add(&sb->hook_files, &sb->n_hook_files, path);
	/* and where a link on the way leads (a review: `scripts -> tools`
	 * and `sh scripts/x`: the index's tools/x was left unchecked), as
	 * githeads.c's reading of a configuration's pointers does */
	_cleanup_free_ char *real = realpath(path, NULL);
	if (real && strcmp(real, path) != 0 && !strv_has(sb->hook_files, sb->n_hook_files, real))
		strv_add(&sb->hook_files, &sb->n_hook_files, real);
	/* and the links on the way, held as a hook's are (protect.c's
	 * hook_ways()): an outside review replaced `l` of a `.mcp.json`'s
	 * ./l/srv with a link to a directory of its own making, and nothing
	 * judged that at exit */
	if (real && strcmp(real, path) != 0 && !strv_has(sb->hook_links, sb->n_hook_links, path))
		strv_add(&sb->hook_links, &sb->n_hook_links, path);
}

static bool in_package_tree(const char *path);

/* A Python script a hook runs (NAMED, *.py, a program: an interpreter's
 * script or a command, not an argument) imports from its own directory
 * first: a json.py made beside it ran at the host's commit (a review), as
 * would a crafted __pycache__.  That directory is protected whole, where
 * it lies below the top (the top itself is the project: there a module
 * made beside the script is not caught, SECURITY.md). */
static void python_dir(const struct pointers *pp, const char *named)
{
	/* where the link it may be leads: Python takes that directory (a
	 * review: tools/x.py -> ../lib/x.py imports lib/json.py) */
	_cleanup_free_ char *real = realpath(named, NULL);
	const char *path = real ? real : named;
	size_t n = strlen(path), tl = strlen(pp->top);
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];

	if (n < 4 || strcmp(path + n - 3, ".py") != 0 || !slash || (size_t)(slash - path) <= tl ||
	    strncmp(path, pp->top, tl) != 0 || path[tl] != '/' ||
	    (size_t)snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) >= sizeof(dir) ||
	    in_package_tree(dir + tl))
		return;
	struct stat st;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	cand_add(pp->cand, dir, PROT_DIR);
	hook_file(pp->sb, dir);
}

static void read_included(const struct pointers *pp, const char *path)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(path, '/') - path), path);
	struct pointers in = {pp->sb,	     pp->cand, dir[0] ? dir : "/", pp->top,
			      pp->depth + 1, false,    HOOKCONF_LEFTHOOK};
	gitconfig_file(open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), on_git_pointer, &in, true);
}

/*
 * The hooks in DIR (a git directory's hooks/, core.hooksPath's, husky's):
 * what each one's script names, as a config's commands (outside review: a
 * protected .husky/pre-commit that runs `sh scripts/precommit.sh` left the
 * script writable, and the host's next commit ran what the sandbox wrote
 * there).  Git's *.sample files run nothing; at most HOOKS_MAX hooks of
 * HOOK_MAX bytes each are read; a file in a package tree (node_modules/.bin)
 * is the package manager's to rewrite, and is not protected for this.
 */
#define HOOKS_MAX 64
#define HOOK_MAX  (64 << 10)

static bool in_package_tree(const char *path)
{
	static const char *const trees[] = {"node_modules", ".venv",  "venv",
					    "target",	    "vendor", "site-packages"};

	for (const char *c = path; c; c = strchr(c, '/'), c = c ? c + 1 : NULL)
		for (size_t i = 0; i < ARRAY_SIZE(trees); i++) {
			size_t l = strlen(trees[i]);
			if (strncmp(c, trees[i], l) == 0 && (c[l] == '/' || !c[l]))
				return true;
		}
	return false;
}

static void hookconf_read(const struct pointers *pp, const char *path, enum hookconf_kind kind);
static bool hookconf_path(const struct pointers *pp, const char *value, char *out, size_t size);

/* A hook pre-commit installed names its configuration (`pre-commit
 * install -c tools/pc.yaml` writes --config=tools/pc.yaml into it, a word
 * the reader of commands passes over): that file, protected and read as
 * .pre-commit-config.yaml is (a review). */
static void pre_commit_config(const struct pointers *pp, const char *buf, size_t n)
{
	static const char opt[] = "--config=";

	for (const char *p = memmem(buf, n, opt, sizeof(opt) - 1); p;
	     p = memmem(p + 1, n - (size_t)(p + 1 - buf), opt, sizeof(opt) - 1)) {
		const char *v = p + sizeof(opt) - 1, *e = v;
		char rel[PATH_MAX], path[PATH_MAX];
		while (e < buf + n && !strchr(" \t\n\"')", *e))
			e++;
		if (e == v || (size_t)(e - v) >= sizeof(rel))
			continue;
		snprintf(rel, sizeof(rel), "%.*s", (int)(e - v), v);
		if (strcmp(rel, ".pre-commit-config.yaml") == 0 || strchr(rel, '$') ||
		    !hookconf_path(pp, rel, path, sizeof(path)))
			continue;
		cand_add(pp->cand, path, PROT_FILE);
		hook_file(pp->sb, path);
		struct pointers hp = *pp;
		hp.hook = true;
		hookconf_read(&hp, path, HOOKCONF_PRE_COMMIT);
	}
}

static void hook_scripts(const struct pointers *pp, const char *dir)
{
	DIR *d = dir_stream_at(AT_FDCWD, dir, O_NOFOLLOW);
	struct pointers hp = *pp;
	struct dirent *de;
	size_t tl = strlen(pp->top);
	int n = 0;

	if (!d)
		return;
	int dfd = dirfd(d);
	hp.hook = true;
	/* $(dirname "$0"): the hooks' directory, from the top where it lies
	 * beneath it (a relative path is what the reader takes from the top) */
	const char *self = strncmp(dir, pp->top, tl) == 0 && dir[tl] == '/' ? dir + tl + 1 : dir;
	while ((de = readdir(d)) && n < HOOKS_MAX) {
		size_t l = strlen(de->d_name);
		struct stat st;
		if (de->d_name[0] == '.' || (l > 7 && strcmp(de->d_name + l - 7, ".sample") == 0))
			continue;
		int fd = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 && errno == ELOOP) {
			/* a hook that is a link to a script of the project's
			 * (`.git/hooks/pre-commit -> ../../scripts/pre-commit.sh`):
			 * the script is the hook, protected as one and read */
			char link[PATH_MAX];
			if ((size_t)snprintf(link, sizeof(link), "%s/%s", dir, de->d_name) >=
			    sizeof(link))
				continue;
			_cleanup_free_ char *real = realpath(link, NULL);
			char absent[PATH_MAX];
			/* (one leading nowhere yet, `-> ../../tools/hook.sh`
			 * made by the sandbox: where it leads is held absent, an
			 * outside review) */
			if (!real && protect_dangling_target(pp->top, link, absent, sizeof(absent)))
				on_git_pointer(&hp, PTR_PROGRAM, absent);
			if (!real)
				continue;
			on_git_pointer(&hp, PTR_PROGRAM, real);
			/* and the links on the way to it, held (protect.c's
			 * hook_ways()) */
			if (!strv_has(pp->sb->hook_links, pp->sb->n_hook_links, link))
				strv_add(&pp->sb->hook_links, &pp->sb->n_hook_links, link);
			fd = open(real, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		}
		_cleanup_close_ int owned = fd;
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > HOOK_MAX)
			continue;
		n++;
		size_t len;
		_cleanup_free_ char *buf = gitconfig_read(fd, &st, &len);
		if (buf) {
			gitconfig_script_pointers(buf, len, self, on_git_pointer, &hp);
			pre_commit_config(pp, buf, len);
		}
	}
	closedir(d);
}

/* VALUE, a path relative to the top that a hook names through its own
 * directory (.git/hooks/../../scripts/x), with its "." and ".." taken
 * away into OUT; false when it climbs past the top. */
static bool lexical(const char *value, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = value; *p;) {
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == 2 && p[0] == '.' && p[1] == '.') {
			if (!o)
				return false;
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o)
				o--; /* the slash before it */
		} else if (l && !(l == 1 && p[0] == '.')) {
			if (o + (o ? 1 : 0) + l + 1 > size)
				return false;
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, l);
			o += l;
		}
		p += l + (e ? 1 : 0);
	}
	out[o] = '\0';
	return o > 0;
}

/* Whether the absent PATH a link leads to is one to hold: below TOP (the
 * project whose name the link is), not in its .git (git's own files come
 * and go: a clone's `.mcp.json -> .git/index.lock` had the host's lock
 * moved aside, a review), nor in a package tree (a shared configuration
 * package's file, `.npmrc -> node_modules/@org/cfg/.npmrc`). */
static bool dangling_held(const char *top, const char *path)
{
	size_t tl = strlen(top);

	return strncmp(path, top, tl) == 0 && path[tl] == '/' && !strstr(path + tl, "/.git/") &&
	       !in_package_tree(path + tl);
}

bool protect_dangling_target(const char *top, const char *path, char *out, size_t size)
{
	char cur[PATH_MAX], to[PATH_MAX], joined[2 * PATH_MAX + 2];

	if ((size_t)snprintf(cur, sizeof(cur), "%s", path) >= sizeof(cur))
		return false;
	/* (the kernel follows 40) */
	for (int hop = 0; hop < 40; hop++) {
		struct stat st;
		/* nothing there, or a file where a directory would be (the
		 * sandbox may put one in its place: a review) */
		if (lstat(cur, &st) < 0)
			return (errno == ENOENT || errno == ENOTDIR) && hop > 0 &&
			       dangling_held(top, cur) &&
			       (size_t)snprintf(out, size, "%s", cur) < size;
		if (!S_ISLNK(st.st_mode))
			return false;
		ssize_t n = readlink(cur, to, sizeof(to) - 1);
		if (n <= 0)
			return false;
		to[n] = '\0';
		/* from the link's directory as the kernel has it (its
		 * links taken), the rest as written: nothing of it exists */
		char *slash = strrchr(cur, '/');
		*slash = '\0';
		_cleanup_free_ char *dir = realpath(cur[0] ? cur : "/", NULL);
		if (!dir)
			return false;
		if (to[0] == '/')
			snprintf(joined, sizeof(joined), "%s", to);
		else
			snprintf(joined, sizeof(joined), "%s/%s", strcmp(dir, "/") ? dir : "", to);
		/* what of it exists as the kernel resolves it (its links, a
		 * `sub/..` through a link: a review), the rest as written, with
		 * no ".." in it (through what the sandbox may make: not held) */
		size_t cut = strlen(joined);
		_cleanup_free_ char *real = NULL;
		while (cut > 1) {
			char keep = joined[cut];
			joined[cut] = '\0';
			real = realpath(joined, NULL);
			joined[cut] = keep;
			if (real)
				break;
			while (cut > 1 && joined[cut - 1] != '/')
				cut--;
			cut -= cut > 1;
		}
		if (!real) {
			cut = 0; /* (nothing of it but the root) */
			if (!(real = strdup("/")))
				return false;
		}
		const char *rest = joined + cut;
		if (strstr(rest, "/../") ||
		    (strlen(rest) >= 3 && !strcmp(rest + strlen(rest) - 3, "/..")) ||
		    (size_t)snprintf(to, sizeof(to), "%s%s", strcmp(real, "/") ? real : "", rest) >=
			sizeof(to))
			return false;
		cur[0] = '/';
		if (!lexical(to + 1, cur + 1, sizeof(cur) - 1))
			return false;
	}
	return false;
}

static void on_git_pointer(void *ud, enum git_pointer kind, const char *value)
{
	const struct pointers *pp = ud;
	const char *home = getenv("HOME"),
		   *base = kind == PTR_HOOKS || kind == PTR_PROGRAM || kind == PTR_PROGRAM_ARG
			       ? pp->top
			       : pp->gitdir;
	char path[PATH_MAX];

	if (kind == PTR_TEMPLATE || kind == PTR_WORKTREE)
		return; /* the host's own configuration's; read before */
	size_t tl = strlen(pp->top);
	if (kind == PTR_INCLUDE && strncmp(value, "../", 3) == 0 && strlen(pp->gitdir) > tl &&
	    strncmp(pp->gitdir, pp->top, tl) == 0 && strcmp(pp->gitdir + tl, "/.git") == 0) {
		base = pp->top;
		value += 3;
	}
	/* a hook's path through its own directory, taken as the shell does */
	char flat[PATH_MAX];
	if (pp->hook && value[0] != '/' && value[0] != '~' &&
	    (strstr(value, "/../") || strstr(value, "/./")) && lexical(value, flat, sizeof(flat)))
		value = flat;
	/* "." would make the worktree itself read-only: left to the exit */
	if (!value[0] || strcmp(value, ".") == 0 || strcmp(value, "./") == 0 ||
	    strstr(value, "/../") || strncmp(value, "../", 3) == 0 || strstr(value, "/./") ||
	    (strlen(value) >= 3 && strcmp(value + strlen(value) - 3, "/..") == 0) ||
	    strcmp(value, "..") == 0)
		return;
	int n = strncmp(value, "~/", 2) == 0
		    ? (home ? snprintf(path, sizeof(path), "%s/%s", home, value + 2) : -1)
		: value[0] == '/' ? snprintf(path, sizeof(path), "%s", value)
				  : snprintf(path, sizeof(path), "%s/%s", base, value);
	if (n < 0 || (size_t)n >= sizeof(path))
		return;
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	if ((kind == PTR_PROGRAM || kind == PTR_PROGRAM_ARG) &&
	    (!gitconfig_program_file(path, kind) ||
	     (pp->hook && in_package_tree(path + (strncmp(path, pp->top, tl) == 0 ? tl : 0)))))
		return;
	/* (a link on the way, a tracked `scripts -> tools`, is protected
	 * where it leads; one the run replaces is judged at exit, gitscan.c) */
	cand_add(pp->cand, path, kind == PTR_HOOKS ? PROT_DIR : PROT_FILE);
	if (pp->hook) {
		hook_file(pp->sb, path);
		if (kind == PTR_PROGRAM)
			python_dir(pp, path);
	}
	/* what an included file names: read too (git stops at ten levels),
	 * wherever it is (one outside the grants names files in them) */
	if (kind == PTR_INCLUDE && pp->depth < 10)
		read_included(pp, path);
	/* and what the hooks there run */
	if (kind == PTR_HOOKS && !pp->hook)
		hook_scripts(pp, path);
	/* kept from the sandbox from now on: what changes there during the
	 * run is the host's, and the walk at exit leaves it */
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISLNK(st.st_mode))
		protect_guard_gitdir(pp->sb, &st);
}

/*
 * The hook managers' configurations at a repository's top: what their
 * commands run, as a hook's script's (hookconf.c).  lefthook's names (and
 * its -local ones, merged), pre-commit's; and the other tools'
 * configurations that have the host run a script of the project: agents'
 * MCP servers and hooks, editors' tasks, dev containers' commands, yarn's
 * release, direnv's .envrc.  The files themselves are built-in names.  A
 * name ending in '/' is a directory whose every *.json is one (Copilot's
 * hooks).
 */
STRING_TABLE_BEGIN
static const struct {
	char name[36];
	enum hookconf_kind kind;
} hookconf_names[] = {
    {"lefthook.yml", HOOKCONF_LEFTHOOK},
    {".lefthook.yml", HOOKCONF_LEFTHOOK},
    {"lefthook.yaml", HOOKCONF_LEFTHOOK},
    {".lefthook.yaml", HOOKCONF_LEFTHOOK},
    {"lefthook.toml", HOOKCONF_LEFTHOOK},
    {".lefthook.toml", HOOKCONF_LEFTHOOK},
    {"lefthook.json", HOOKCONF_LEFTHOOK},
    {".lefthook.json", HOOKCONF_LEFTHOOK},
    {"lefthook.jsonc", HOOKCONF_LEFTHOOK},
    {".lefthook.jsonc", HOOKCONF_LEFTHOOK},
    {".config/lefthook.yml", HOOKCONF_LEFTHOOK},
    {".config/lefthook.yaml", HOOKCONF_LEFTHOOK},
    {".config/lefthook.toml", HOOKCONF_LEFTHOOK},
    {".config/lefthook.json", HOOKCONF_LEFTHOOK},
    {".config/lefthook.jsonc", HOOKCONF_LEFTHOOK},
    {"lefthook-local.yml", HOOKCONF_LEFTHOOK},
    {".lefthook-local.yml", HOOKCONF_LEFTHOOK},
    {"lefthook-local.yaml", HOOKCONF_LEFTHOOK},
    {".lefthook-local.yaml", HOOKCONF_LEFTHOOK},
    {"lefthook-local.toml", HOOKCONF_LEFTHOOK},
    {".lefthook-local.toml", HOOKCONF_LEFTHOOK},
    {"lefthook-local.json", HOOKCONF_LEFTHOOK},
    {".lefthook-local.json", HOOKCONF_LEFTHOOK},
    {"lefthook-local.jsonc", HOOKCONF_LEFTHOOK},
    {".lefthook-local.jsonc", HOOKCONF_LEFTHOOK},
    {".config/lefthook-local.yml", HOOKCONF_LEFTHOOK},
    {".config/lefthook-local.yaml", HOOKCONF_LEFTHOOK},
    {".config/lefthook-local.toml", HOOKCONF_LEFTHOOK},
    {".config/lefthook-local.json", HOOKCONF_LEFTHOOK},
    {".config/lefthook-local.jsonc", HOOKCONF_LEFTHOOK},
    {".pre-commit-config.yaml", HOOKCONF_PRE_COMMIT},
    {".pre-commit-config.yml", HOOKCONF_PRE_COMMIT},
    {".mcp.json", HOOKCONF_TOOL},
    {".claude/settings.json", HOOKCONF_TOOL},
    {".claude/settings.local.json", HOOKCONF_TOOL},
    {".cursor/mcp.json", HOOKCONF_TOOL},
    {".cursor/hooks.json", HOOKCONF_TOOL},
    {".gemini/settings.json", HOOKCONF_TOOL},
    {".qwen/settings.json", HOOKCONF_TOOL},
    {".codex/config.toml", HOOKCONF_TOOL},
    {"opencode.json", HOOKCONF_TOOL},
    {"opencode.jsonc", HOOKCONF_TOOL},
    {".opencode/opencode.json", HOOKCONF_TOOL},
    {".opencode/opencode.jsonc", HOOKCONF_TOOL},
    {"crush.json", HOOKCONF_TOOL},
    {".crush.json", HOOKCONF_TOOL},
    {".roo/mcp.json", HOOKCONF_TOOL},
    {".kiro/settings/mcp.json", HOOKCONF_TOOL},
    {".amazonq/mcp.json", HOOKCONF_TOOL},
    {".github/hooks/", HOOKCONF_TOOL},
    {".github/mcp.json", HOOKCONF_TOOL},
    {".github/lsp.json", HOOKCONF_TOOL},
    {".vscode/mcp.json", HOOKCONF_TOOL},
    {".vscode/tasks.json", HOOKCONF_TASKS},
    {".devcontainer/devcontainer.json", HOOKCONF_TOOL},
    {".devcontainer.json", HOOKCONF_TOOL},
    {".yarnrc.yml", HOOKCONF_YARN},
    {".yarnrc", HOOKCONF_YARN},
    {".envrc", HOOKCONF_ENVRC},
};
STRING_TABLE_END

/* (the directories lefthook's scripts are in: one for each hook) */
#define HOOKCONF_DEPTH 10

/* PATH (relative to the top, or "~/", or absolute) made absolute into
 * OUT, its "." and ".." taken as written: false past the root. */
static bool hookconf_path(const struct pointers *pp, const char *value, char *out, size_t size)
{
	const char *home = getenv("HOME");
	char joined[PATH_MAX];
	int n = strncmp(value, "~/", 2) == 0
		    ? (home ? snprintf(joined, sizeof(joined), "%s/%s", home, value + 2) : -1)
		: value[0] == '/' ? snprintf(joined, sizeof(joined), "%s", value)
				  : snprintf(joined, sizeof(joined), "%s/%s", pp->top, value);
	if (n < 0 || (size_t)n >= sizeof(joined) || size < 2)
		return false;
	out[0] = '/';
	return lexical(joined + 1, out + 1, size - 1);
}

/* A directory an .envrc puts on the host's search path (PATH_add bin):
 * every program there runs by its bare name, so it is held whole, where it
 * lies below the top and is a directory or nothing yet (the top itself
 * would be the whole project: README says it is not held); a link, and
 * where it leads (DEPTH: links followed so far). */
static void path_dir(const struct pointers *pp, const char *path, int depth)
{
	size_t tl = strlen(pp->top);
	struct stat st;

	if (strncmp(path, pp->top, tl) != 0 || path[tl] != '/' || in_package_tree(path + tl))
		return;
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		/* a link (`bin -> tools`): held, and the directory it leads
		 * to, which is what the shell looks in */
		_cleanup_free_ char *real = realpath(path, NULL);
		cand_add(pp->cand, path, PROT_FILE);
		hook_file(pp->sb, path);
		if (real && depth < 4)
			path_dir(pp, real, depth + 1);
		return;
	}
	if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode))
		return;
	cand_add(pp->cand, path, PROT_DIR);
	hook_file(pp->sb, path);
}

static void on_hookconf_pointer(void *ud, enum git_pointer kind, const char *value)
{
	const struct pointers *pp = ud;
	char path[PATH_MAX];
	struct stat st;

	if (kind == PTR_PROGRAM || kind == PTR_PROGRAM_ARG) {
		on_git_pointer(ud, kind, value);
		return;
	}
	if ((kind != PTR_INCLUDE && kind != PTR_HOOKS && kind != PTR_PATH_DIR) ||
	    !hookconf_path(pp, value, path, sizeof(path)))
		return;
	if (kind == PTR_PATH_DIR) {
		path_dir(pp, path, 0);
		return;
	}
	/* an .envrc's source_env DIR sources DIR/.envrc */
	if (pp->conf == HOOKCONF_ENVRC && kind == PTR_INCLUDE && stat(path, &st) == 0 &&
	    S_ISDIR(st.st_mode) && strlen(path) + 8 < sizeof(path))
		strcat(path, "/.envrc");
	/* lefthook's extends takes a glob (`packages/ * /hooks.yml`, without
	 * the blanks; a review): each file it matches now is read, and the
	 * pattern kept: a match made during the run is moved aside at exit
	 * (protect_finish()) */
	if (kind == PTR_INCLUDE && strpbrk(path, "*?[")) {
		glob_t g;
		if (!strv_has(pp->sb->hook_globs, pp->sb->n_hook_globs, path))
			strv_add(&pp->sb->hook_globs, &pp->sb->n_hook_globs, path);
		if (glob(path, GLOB_NOSORT, NULL, &g) != 0)
			return;
		/* every match is the host's (the end moves aside only what
		 * was not: a review found the 65th of 70 moved); each read */
		for (size_t i = 0; i < g.gl_pathc; i++) {
			strv_add(&pp->sb->hook_glob_seen, &pp->sb->n_hook_glob_seen, g.gl_pathv[i]);
			if (!strpbrk(g.gl_pathv[i], "*?["))
				on_hookconf_pointer(ud, kind, g.gl_pathv[i]);
		}
		globfree(&g);
		return;
	}
	cand_add(pp->cand, path, kind == PTR_HOOKS ? PROT_DIR : PROT_FILE);
	hook_file(pp->sb, path);
	if (kind == PTR_INCLUDE) {
		if (pp->depth < HOOKCONF_DEPTH)
			hookconf_read(pp, path,
				      pp->conf == HOOKCONF_ENVRC ? HOOKCONF_ENVRC
								 : HOOKCONF_LEFTHOOK);
		return;
	}
	/* lefthook's scripts: SOURCE_DIR/<hook>/<script>, each read as a
	 * hook is */
	DIR *d = dir_stream_at(AT_FDCWD, path, O_NOFOLLOW);
	struct dirent *de;
	int n = 0;
	if (!d)
		return;
	while ((de = readdir(d)) && n < HOOKS_MAX) {
		char sub[PATH_MAX];
		if (de->d_name[0] == '.' || de->d_type != DT_DIR ||
		    (size_t)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= sizeof(sub))
			continue;
		n++;
		hook_scripts(pp, sub);
	}
	closedir(d);
}

/* The configurations read by this gathering (device and inode, for the
 * top and as the kind they were read from: what one names is resolved from
 * there, and a file shared through a link by two repositories names
 * different files in each, a review): each is read once so, wherever it is
 * named from (an outside review: an .envrc of four lines of `source_env
 * .envrc` was read 4^10 times, a minute of start; lefthook's extends took
 * the same way). */
static struct {
	dev_t dev;
	ino_t ino;
	char *top;
	enum hookconf_kind kind;
} * hc_read;
static size_t n_hc_read;

static void hc_read_forget(void)
{
	for (size_t i = 0; i < n_hc_read; i++)
		free(hc_read[i].top);
	free(hc_read);
	hc_read = NULL;
	n_hc_read = 0;
}

static bool hc_read_before(const struct stat *st, const char *top, enum hookconf_kind kind)
{
	for (size_t i = 0; i < n_hc_read; i++)
		if (hc_read[i].dev == st->st_dev && hc_read[i].ino == st->st_ino &&
		    hc_read[i].kind == kind && strcmp(hc_read[i].top, top) == 0)
			return true;
	void *v = realloc(hc_read, (n_hc_read + 1) * sizeof(*hc_read));
	if (!v)
		die("out of memory");
	hc_read = v;
	hc_read[n_hc_read].dev = st->st_dev;
	hc_read[n_hc_read].ino = st->st_ino;
	if (!(hc_read[n_hc_read].top = strdup(top)))
		die("out of memory");
	hc_read[n_hc_read++].kind = kind;
	return false;
}

static void hookconf_read(const struct pointers *pp, const char *path, enum hookconf_kind kind)
{
	struct pointers hp = *pp;
	struct stat st;
	size_t len;

	/* through a link, as the host's tool reads it (a review: a
	 * `.mcp.json -> config/mcp.json` went unread); a file only (no
	 * device opened; this runs before the command, nothing races) */
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	_cleanup_close_ int owned = fd;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    hc_read_before(&st, pp->top, kind))
		return;
	/* read to git's configurations' size, and said past it (a review:
	 * 64 KiB of comments hid a configuration in silence) */
	_cleanup_free_ char *buf = gitconfig_read(fd, &st, &len);
	if (!buf) {
		warn("%s: a hook manager's configuration that could not be read (%s): what it has "
		     "the hooks run is not protected",
		     path, errno == EFBIG ? "past 4 MiB" : strerror(errno));
		return;
	}
	hp.hook = true;
	hp.depth++;
	hp.conf = kind;
	/* (its directory from the top, for what it names from there) */
	size_t tl = strlen(pp->top);
	const char *slash = strrchr(path, '/');
	char self_dir[PATH_MAX] = "";
	if (strncmp(path, pp->top, tl) == 0 && path[tl] == '/' && slash > path + tl)
		snprintf(self_dir, sizeof(self_dir), "%.*s", (int)(slash - path - tl - 1),
			 path + tl + 1);
	if (!hookconf_pointers(buf, len, kind, self_dir, on_hookconf_pointer, &hp))
		warn("%s: a configuration that asks more work than a start gives (thousands of "
		     "YAML aliases, or of commands under lefthook's roots): what the rest runs is "
		     "not protected",
		     path);
}

/* Each *.json in DIR read as a KIND configuration (Copilot CLI's
 * .github/hooks/), HOOKS_MAX of them at most. */
static void hookconf_dir(const struct pointers *pp, const char *dir, enum hookconf_kind kind)
{
	DIR *d = dir_stream_at(AT_FDCWD, dir, O_NOFOLLOW);
	struct dirent *de;
	int n = 0;

	if (!d)
		return;
	while ((de = readdir(d)) && n < HOOKS_MAX) {
		char path[PATH_MAX];
		size_t l = strlen(de->d_name);
		if (l <= 5 || strcmp(de->d_name + l - 5, ".json") != 0 ||
		    (size_t)snprintf(path, sizeof(path), "%s%s", dir, de->d_name) >= sizeof(path))
			continue;
		n++;
		hookconf_read(pp, path, kind);
	}
	closedir(d);
}

/* A VS Code workspace file at PATH: its tasks read as .vscode/tasks.json's
 * are (an outside review: the file held, the script its folder-open task
 * runs not), from the top and from each of its `folders` (a task runs in
 * the first, `${workspaceFolder}` is that one: another review), 4 at most:
 * each `"path": "..."` in its `folders` list that names a directory. */
#define WORKSPACE_FOLDERS 4

static void workspace_read(const struct pointers *pp, const char *path)
{
	struct stat st;
	size_t len, nf = 0;

	hookconf_read(pp, path, HOOKCONF_TASKS);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	_cleanup_free_ char *buf = gitconfig_read(fd, &st, &len);
	/* (from its "folders" to the list's end: a "path" elsewhere, in its
	 * settings, is none of them) */
	const char *from = buf ? memmem(buf, len, "\"folders\"", 9) : NULL;
	const char *list_end = from ? memchr(from, ']', len - (size_t)(from - buf)) : NULL;
	if (list_end)
		len = (size_t)(list_end - buf);
	for (const char *p = from ? memmem(from, len - (size_t)(from - buf), "\"path\"", 6) : NULL;
	     p && nf < WORKSPACE_FOLDERS;
	     p = memmem(p + 6, len - (size_t)(p + 6 - buf), "\"path\"", 6)) {
		const char *v = p + 6, *end = buf + len;
		char rel[PATH_MAX], folder[2 * PATH_MAX + 2];
		while (v < end && strchr(" \t\r\n:", *v))
			v++;
		const char *q =
		    v < end && *v == '"' ? memchr(v + 1, '"', (size_t)(end - v - 1)) : NULL;
		if (!q || (size_t)(q - v - 1) >= sizeof(rel) ||
		    memchr(v + 1, '\\', (size_t)(q - v - 1)))
			continue;
		snprintf(rel, sizeof(rel), "%.*s", (int)(q - v - 1), v + 1);
		snprintf(folder, sizeof(folder), "%s%s%s", rel[0] == '/' ? "" : pp->top,
			 rel[0] == '/' ? "" : "/", rel);
		_cleanup_free_ char *top = realpath(folder, NULL);
		if (!top || stat(top, &st) < 0 || !S_ISDIR(st.st_mode) || strcmp(top, pp->top) == 0)
			continue;
		struct pointers fp = *pp;
		fp.top = top;
		nf++;
		hookconf_read(&fp, path, HOOKCONF_TASKS);
	}
}

/* (workspace files read at one top: past them, said) */
#define WORKSPACES_MAX 4

/* Those at PP's top, found in one listing of it (most tops have none:
 * a lookup of each name would be some thirty system calls a start). */
static void hookconf_at_top(const struct pointers *pp)
{
	_cleanup_(closedirp) DIR *d = opendir(pp->top);
	char path[PATH_MAX];
	struct dirent *de;
	int workspaces = 0;

	while (d && (de = readdir(d))) {
		size_t l = strlen(de->d_name);
		/* (a hostile clone's hundred of them took minutes of start:
		 * a review) */
		if (protect_workspace_name(de->d_name) &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", pp->top, de->d_name) <
			sizeof(path) &&
		    workspaces++ < WORKSPACES_MAX)
			workspace_read(pp, path);
		else if (protect_workspace_name(de->d_name) && workspaces == WORKSPACES_MAX + 1)
			warn("%s: more than %d VS Code workspace files: what the tasks of the "
			     "others "
			     "run is not protected",
			     pp->top, WORKSPACES_MAX);
		for (size_t i = 0; i < ARRAY_SIZE(hookconf_names); i++) {
			const char *name = hookconf_names[i].name;
			/* the name, or one in the directory the entry is */
			if (strncmp(name, de->d_name, l) != 0 || (name[l] && name[l] != '/') ||
			    (size_t)snprintf(path, sizeof(path), "%s/%s", pp->top, name) >=
				sizeof(path))
				continue;
			if (name[strlen(name) - 1] == '/')
				hookconf_dir(pp, path, hookconf_names[i].kind);
			else
				hookconf_read(pp, path, hookconf_names[i].kind);
		}
	}
}

/* The configs the .git file of the worktree TOP names, read for what
 * they point at from TOP: whether there were any. */
static bool worktree_pointers(struct sandbox *sb, const char *top, struct cands *cand)
{
	char cfg[2][PATH_MAX], dir[PATH_MAX], wt[PATH_MAX];
	size_t n = gitconfig_worktree_files(top, cfg);

	for (size_t i = 0; i < n; i++) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(cfg[i], '/') - cfg[i]), cfg[i]);
		struct pointers wp = {sb,
				      cand,
				      dir,
				      n == 1 && gitconfig_core_worktree(cfg[i], dir, wt) ? wt : top,
				      0,
				      false,
				      HOOKCONF_LEFTHOOK};
		gitconfig_file(open(cfg[i], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC),
			       on_git_pointer, &wp, true);
	}
	return n > 0;
}

static void gather_pointers(struct sandbox *sb, const char *gitdir, const char *top,
			    struct cands *cand)
{
	char path[PATH_MAX], wt[PATH_MAX];
	struct stat st;

	/* core.worktree: where git runs the config's commands and hooks
	 * from (`app.git` with `worktree = ../app`, a deploy's) */
	if ((size_t)snprintf(path, sizeof(path), "%s/config", gitdir) < sizeof(path) &&
	    gitconfig_core_worktree(path, gitdir, wt))
		top = wt;
	struct pointers pp = {sb, cand, gitdir, top, 0, false, HOOKCONF_LEFTHOOK};

	/* what its own hooks run, and husky's (core.hooksPath = .husky/_,
	 * whose scripts run .husky's by a name made at run time) */
	if ((size_t)snprintf(path, sizeof(path), "%s/hooks", gitdir) < sizeof(path))
		hook_scripts(&pp, path);
	if ((size_t)snprintf(path, sizeof(path), "%s/.husky", top) < sizeof(path))
		hook_scripts(&pp, path);
	/* and what the hook managers' configurations have them run */
	hookconf_at_top(&pp);

	/* the host's own configuration's hooks paths (a relative one names
	 * a directory in each worktree) and the files its commands name,
	 * for a repository only */
	if (lstat(gitdir, &st) == 0) {
		for (size_t i = 0; i < sb->n_git_global_hooks; i++)
			on_git_pointer(&pp, PTR_HOOKS, sb->git_global_hooks[i]);
		for (size_t i = 0; i < sb->n_git_global_programs; i++)
			if (sb->git_global_programs[i][0] != '/')
				on_git_pointer(&pp, PTR_PROGRAM, sb->git_global_programs[i]);
	}
	/* a .git file (a submodule, a linked worktree): the configs it
	 * names, what they run run from this top */
	if (lstat(gitdir, &st) == 0 && S_ISREG(st.st_mode) && worktree_pointers(sb, top, cand))
		return;
	if ((size_t)snprintf(path, sizeof(path), "%s/config", gitdir) >= sizeof(path))
		return;
	gitconfig_file(open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), on_git_pointer,
		       &pp, true);
}

/*
 * Other repositories in a write grant (a grant on ~/src holds many; a
 * project holds vendored ones): the host's git, agents and editors run in
 * them as in the project, so each one found gets the built-in names of a
 * project.  Found by a walk three levels down (and into the top of each
 * one found, for one nested in it), entries starting with '.' and
 * node_modules skipped, within a budget of listings and probes: a grant on
 * a huge tree must not cost every start more than a few milliseconds; and
 * on the way from a grant to the working directory, whatever its depth.
 * What lies deeper, or past the budget, is found by the walk of
 * gitscan.c made while the sandbox runs (protwatch_find()) and watched from
 * then, and checked again when it has ended; README says so.  The directories listed are watched
 * while the sandbox runs (protwatch.c): a repository made in one is moved aside at once.
 */
#define DISCOVER_LISTINGS 48
#define DISCOVER_PROBES	  512
#define DISCOVER_DEPTH	  3

struct discover {
	unsigned listings, probes;
	bool cut;
};

static bool is_repo(int dir, const char *name, struct discover *d, struct stat *st)
{
	char rel[NAME_MAX + 8];

	if (d->probes++ >= DISCOVER_PROBES) {
		d->cut = true;
		return false;
	}
	snprintf(rel, sizeof(rel), "%s/.git", name);
	return fstatat(dir, rel, st, AT_SYMLINK_NOFOLLOW) == 0;
}

/*
 * A bare repository by git's naming (`git init --bare NAME.git`, `git clone
 * --bare`): a host `git push` into it runs its hooks (pre-receive, update,
 * post-receive), and a host git run inside it reads its config.  Only names
 * ending in .git are probed, so the walk's budget goes to the rest.
 */
static bool is_bare_repo(int dir, const char *name, struct discover *d)
{
	char rel[NAME_MAX + 16];
	size_t l = strlen(name);
	struct stat st;

	if (l <= 4 || strcmp(name + l - 4, ".git") != 0)
		return false;
	if (d->probes++ >= DISCOVER_PROBES) {
		d->cut = true;
		return false;
	}
	snprintf(rel, sizeof(rel), "%s/HEAD", name);
	if (fstatat(dir, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return false;
	snprintf(rel, sizeof(rel), "%s/objects", name);
	return fstatat(dir, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static bool skipped_name(const char *n)
{
	return n[0] == '.' || strcmp(n, "node_modules") == 0;
}

/* The repository at TOP (its .git there): the built-in names of a
 * project, what its config points git at, its index and refs checked at
 * the end as a grant's (githeads.c; a .git file, a submodule's or a linked
 * worktree's, names a git directory githeads.c takes when it is none of
 * those), its top watched. */
static void found_repo(struct sandbox *sb, const char *top, struct cands *cand)
{
	char git[PATH_MAX + 8];

	if (!strv_has(sb->nested_repos, sb->n_nested_repos, top))
		strv_add(&sb->nested_repos, &sb->n_nested_repos, top);
	add_names(cand, top, false);
	protect_python_top(sb, top);
	gather_submodules(top, cand);
	snprintf(git, sizeof(git), "%s/.git", top);
	gather_pointers(sb, git, top, cand);
	if (!strv_has(sb->prot_trees, sb->n_prot_trees, top))
		strv_add(&sb->prot_trees, &sb->n_prot_trees, top);
}

/* A bare repository at PATH (DIR's NAME). */
static void found_bare(struct sandbox *sb, int dir, const char *name, const char *path,
		       struct cands *cand)
{
	struct stat st;

	/* its branches checked at the end (githeads.c) */
	if (!strv_has(sb->nested_repos, sb->n_nested_repos, path))
		strv_add(&sb->nested_repos, &sb->n_nested_repos, path);
	/* the entries git reads in a repository directory, as for a .git
	 * (the built-in ".git/..." names) */
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		protect_guard_gitdir(sb, &st);
	gather_pointers(sb, path, path, cand);
	add_names(cand, path, true);
}

/* A directory the walk lists: its depth below the grant, and whether it
 * is a repository found (whose top alone is listed, for one nested in
 * it: a vendored checkout). */
struct queued {
	char *path;
	int depth;
	bool repo;
};

/*
 * The walk from ROOT, breadth first (what is nearer the grant is found
 * before the budget is spent), DISCOVER_DEPTH levels down: HOST/ORG/REPO
 * as ghq and Go lay projects out.
 */
static void discover_in(struct sandbox *sb, const char *root, struct cands *cand,
			struct discover *d)
{
	struct queued *q = calloc(DISCOVER_LISTINGS + 1, sizeof(*q));
	size_t head = 0, tail = 0;

	if (!q)
		die("out of memory");
	q[tail++] = (struct queued){strdup(root), 1, false};
	for (; head < tail && !d->cut; head++) {
		struct queued at = q[head];
		char buf[PATH_MAX];
		struct dirent *de;
		if (!at.path)
			continue;
		if (d->listings++ >= DISCOVER_LISTINGS) {
			d->cut = true;
			break;
		}
		_cleanup_(closedirp) DIR *dir = dir_stream_at(AT_FDCWD, at.path, O_NOFOLLOW);
		int dfd = dir ? dirfd(dir) : -1;
		/* d_type: a flat directory of many files costs no stat() */
		while (dir && (de = readdir(dir))) {
			const char *n = de->d_name;
			struct stat st;
			if (skipped_name(n) || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
				continue;
			if (de->d_type == DT_UNKNOWN) {
				if (d->probes++ >= DISCOVER_PROBES) {
					d->cut = true;
					break;
				}
				if (fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
				    !S_ISDIR(st.st_mode))
					continue;
			}
			if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", at.path, n) >= sizeof(buf))
				continue;
			bool repo = is_repo(dfd, n, d, &st);
			if (repo)
				found_repo(sb, buf, cand);
			else if (!at.repo && is_bare_repo(dfd, n, d))
				found_bare(sb, dfd, n, buf, cand);
			else if (at.repo || d->cut)
				continue; /* a repository's own directories are its own */
			if (at.depth >= DISCOVER_DEPTH || tail > DISCOVER_LISTINGS)
				continue;
			if (!repo && !strv_has(sb->prot_trees, sb->n_prot_trees, buf))
				strv_add(&sb->prot_trees, &sb->n_prot_trees, buf);
			q[tail++] = (struct queued){strdup(buf), at.depth + 1, repo};
		}
	}
	for (size_t i = 0; i < tail; i++)
		free(q[i].path);
	free(q);
}

/* The repositories on the way from the write grant ROOT down to the
 * working directory (a grant on ~/src, the command started in
 * ~/src/HOST/ORG/REPO): found whatever the walk's depth and budget. */
static void discover_cwd(struct sandbox *sb, const char *root, struct cands *cand)
{
	char dir[PATH_MAX], git[PATH_MAX + 8];
	struct stat st;
	size_t rl = strlen(root);

	if (!sb->cwd[0] || !landlock_path_beneath(sb->cwd, root) ||
	    (size_t)snprintf(dir, sizeof(dir), "%s", sb->cwd) >= sizeof(dir))
		return;
	while (strlen(dir) > rl) {
		if ((size_t)snprintf(git, sizeof(git), "%s/.git", dir) < sizeof(git) &&
		    lstat(git, &st) == 0)
			found_repo(sb, dir, cand);
		char *slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			break;
		*slash = '\0';
	}
}

/*
 * The repository a grant lies in (the command started in a package of a
 * monorepo, the grant its directory): its hooks, hook managers' and other
 * tools' configurations at its top are outside the grant, but what they
 * name in it is the sandbox's to write, and the host's `git commit` or
 * `claude` at that top runs it (an outside review).  Read as a found
 * repository's pointers are; its top's built-in names lie outside the
 * grants and need nothing.  The nearest `.git` above ROOT, an lstat() per
 * directory up to "/".
 */
static void enclosing_repo(struct sandbox *sb, const char *root, struct cands *cand)
{
	char dir[PATH_MAX], git[PATH_MAX + 8];
	struct stat st;

	if ((size_t)snprintf(dir, sizeof(dir), "%s", root) >= sizeof(dir) ||
	    (snprintf(git, sizeof(git), "%s/.git", dir), lstat(git, &st) == 0))
		return; /* a repository itself: read already */
	for (char *slash; (slash = strrchr(dir, '/')) && slash > dir;) {
		*slash = '\0';
		snprintf(git, sizeof(git), "%s/.git", dir);
		if (lstat(git, &st) == 0) {
			gather_pointers(sb, git, dir, cand);
			return;
		}
	}
}

/* A write grant holds PATH, or lies within it (a protected path granted by
 * name stays read-only): else the sandbox cannot touch it, and the home's
 * ~100 names cost no lstat() each (the home is rarely a write grant). */
static bool write_reaches(char **roots, size_t nroots, const char *path)
{
	for (size_t r = 0; r < nroots; r++)
		if (landlock_path_beneath(path, roots[r]) || landlock_path_beneath(roots[r], path))
			return true;
	return false;
}

/* The built-in names in the home (HOME resolved) that a write grant reaches */
static void gather_home(struct cands *cand, const char *home, char **roots, size_t nroots)
{
	char buf[PATH_MAX];
	size_t nt, nh;
	const struct prot_builtin *tree = protect_builtins(false, &nt),
				  *hm = protect_builtins(true, &nh);
	for (size_t i = 0; i < nt + nh; i++) {
		const struct prot_builtin *b = i < nt ? &tree[i] : &hm[i - nt];
		/* ~/.claude and the like are agents' state there */
		if (i < nt && !strchr(b->path, '/') && b->kind == PROT_DIR)
			continue;
		if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", home, b->path) < sizeof(buf) &&
		    write_reaches(roots, nroots, buf))
			cand_add_in(cand, buf, b->kind, strlen(home));
	}
}

void protect_gather(struct sandbox *sb, char **roots, size_t nroots, struct cands *cand,
		    struct listings *ls)
{
	const struct policy *p = sb->policy;
	_cleanup_free_ char *home = sb->home ? realpath(sb->home, NULL) : NULL;
	char buf[PATH_MAX];
	struct discover disc = {0};
	ssize_t n;

	hc_read_forget();
	for (size_t i = 0; i < p->fs.protect.n; i++) {
		const struct policy_item *it = &p->fs.protect.items[i];
		if (access(it->value, F_OK) < 0) {
			if (it->required)
				die("%s:%u: filesystem.protect: '%s': %s", origin_file(&it->origin),
				    it->origin.line, it->value, strerror(errno));
			note("%s does not exist: it may not be created either", it->value);
		}
		cand_add(cand, it->value, PROT_POLICY);
	}
	for (size_t r = 0; r < nroots; r++) {
		/* device and kernel file systems hold no project */
		if (landlock_path_beneath(roots[r], "/dev") ||
		    landlock_path_beneath(roots[r], "/proc") ||
		    landlock_path_beneath(roots[r], "/sys"))
			continue;
		add_names(cand, roots[r], false);
		protect_python_top(sb, roots[r]);
		gather_submodules(roots[r], cand);
		snprintf(buf, sizeof(buf), "%s/.git", roots[r]);
		gather_pointers(sb, buf, roots[r], cand);
		/* where projects are: the grant holding the working directory,
		 * those within it, and repositories; not agents' state and
		 * caches (where tools clone on their own) */
		snprintf(buf, sizeof(buf), "%s/.git", roots[r]);
		if (landlock_path_beneath(sb->cwd, roots[r]) ||
		    landlock_path_beneath(roots[r], sb->cwd) ||
		    listing_may_exist(ls, buf, strlen(roots[r]))) {
			if (!strv_has(sb->prot_trees, sb->n_prot_trees, roots[r]))
				strv_add(&sb->prot_trees, &sb->n_prot_trees, roots[r]);
			discover_in(sb, roots[r], cand, &disc);
			discover_cwd(sb, roots[r], cand);
			enclosing_repo(sb, roots[r], cand);
		}
	}
	if (disc.cut)
		note("the write grants hold more than a walk at start looks at: repositories "
		     "deeper down are checked only when the sandbox has ended");
	if (home) {
		gather_home(cand, home, roots, nroots);
		for (size_t r = 0; r < nroots; r++)
			if (landlock_path_beneath(home, roots[r]))
				protect_python_top(sb, home);
	}
	/* the files the host's own git configuration includes: every host
	 * git reads them as its configuration (core.fsmonitor, aliases) */
	for (size_t i = 0; i < sb->n_git_global_includes; i++)
		cand_add(cand, sb->git_global_includes[i], PROT_FILE);
	/* what its commands run (`diff.external = ~/bin/difftool`), and the
	 * template directory copied into every repository it makes (a hook
	 * there runs at the end of the host's next clone) */
	for (size_t i = 0; i < sb->n_git_global_programs; i++)
		if (sb->git_global_programs[i][0] == '/' &&
		    gitconfig_program_file(sb->git_global_programs[i], PTR_PROGRAM))
			cand_add(cand, sb->git_global_programs[i], PROT_FILE);
	for (size_t i = 0; i < sb->n_git_global_templates; i++)
		cand_add(cand, sb->git_global_templates[i], PROT_DIR);
	/* the policy files (a relative -p is relative to where we started) */
	for (size_t i = 0; i < p->n_files; i++) {
		if (p->files[i][0] == '/')
			cand_add(cand, p->files[i], PROT_FILE);
		else if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", sb->cwd, p->files[i]) <
			 sizeof(buf))
			cand_add(cand, buf, PROT_FILE);
	}
	n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		cand_add(cand, buf, PROT_FILE);
	}
	if (p->log.file)
		cand_add(cand, p->log.file, PROT_FILE);
	hc_read_forget();
}
