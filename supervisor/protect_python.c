/* SPDX-License-Identifier: MIT */
/*
 * The standard modules Python imports from a project's top: a `python3`
 * started there (interactive, `-m venv`, `-m pip`, a hook's `python3 -m
 * tool`) looks in the working directory before its own library, for every
 * module its tools import after start-up (argparse, inspect, logging, json,
 * ...: an outside review ran an `inspect.py` made at the top at the host's
 * next `python3 -i` there).  The names are pymodules.c's, ~330 of them in
 * several forms each: a rule by pattern, not more built-in names (which
 * cost an lstat() or a watch target apiece).
 *
 * Where: the tops the built-in names are looked for at (each write grant,
 * each repository the walk at start found, the home when a grant holds it).
 * What: a standard module made there during the run, in any form Python
 * imports (pymodules.c), a link named after one (Python follows it into a
 * package), and an __init__ made in a directory named after one (which
 * makes a namespace directory a package that wins over the real one).  A
 * module of that name the project had at the start is its own, and left to
 * it: the host's python already imports it, and the sandbox may write the
 * project's files.  But for a built-in name's (readline.py, pip/...,
 * protect_names.c), which the sandbox may not change: of those only the
 * entries there at the start are kept (a readline.TAG.so made beside a
 * held readline.py comes before it in Python's search).  Judged as absent built-in names are
 * (protect.c): the file gate refuses the name where it keeps the top (no namespaces), the watch
 * moves it aside as it is made (protwatch.c), the check at exit once more, and a crash journal has
 * the next start make that check.
 *
 * The same rule holds a second pattern at the tops: VS Code's workspace
 * files, NAME.code-workspace, whose `tasks` run at folder open and whose
 * `settings` name the interpreters and shells the editor starts, as
 * .vscode/ does (a built-in name); VS Code offers to open one it finds at
 * a folder's top.  One there at the start is held as a built-in file is
 * (protect_python_cands()) and kept as a held module's entry is; one made
 * during the run is moved aside.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitobj.h"
#include "protect_internal.h"

void protect_python_top(struct sandbox *sb, const char *top)
{
	if (!strv_has(sb->py_tops, sb->n_py_tops, top))
		strv_add(&sb->py_tops, &sb->n_py_tops, top);
}

void protect_python_clear(struct sandbox *sb)
{
	strv_clear(&sb->py_tops, &sb->n_py_tops);
	strv_clear(&sb->py_present, &sb->n_py_present);
	strv_clear(&sb->py_kept, &sb->n_py_kept);
	strv_clear(&sb->py_pkgdirs, &sb->n_py_pkgdirs);
	strv_clear(&sb->py_links, &sb->n_py_links);
	strv_clear(&sb->py_linkdirs, &sb->n_py_linkdirs);
}

bool protect_workspace_name(const char *name)
{
	static const char suffix[] = ".code-workspace";
	size_t n = strlen(name), s = sizeof(suffix) - 1;

	return n > s && strcasecmp(name + n - s, suffix) == 0;
}

void protect_python_cands(struct sandbox *sb, struct listings *ls, struct cands *cand)
{
	char path[PATH_MAX];

	for (size_t t = 0; t < sb->n_py_tops; t++) {
		const char *top = sb->py_tops[t];
		const struct listing *l = listing_get(ls, top, strlen(top));
		for (size_t i = 0; l->ok && i < l->n; i++)
			if (protect_workspace_name(l->names[i]) &&
			    (size_t)snprintf(path, sizeof(path), "%s/%s", top, l->names[i]) <
				sizeof(path))
				cand_add_in(cand, path, PROT_FILE, strlen(top));
	}
}

/* Whether STEM is a built-in name's module (STEM.py in protect_names.c). */
static bool held_stem(const char *stem)
{
	size_t n, l = strlen(stem);
	const struct prot_builtin *t = protect_builtins(false, &n);

	for (size_t i = 0; i < n; i++)
		if (strncmp(t[i].path, stem, l) == 0 && strcmp(t[i].path + l, ".py") == 0)
			return true;
	return false;
}

/* Whether the N paths of V hold DIR/NAME. */
static bool holds_path(char *const *v, size_t n, const char *dir, const char *name)
{
	size_t dl = strlen(dir);

	for (size_t i = 0; i < n; i++)
		if (strncmp(v[i], dir, dl) == 0 && v[i][dl] == '/' &&
		    strcmp(v[i] + dl + 1, name) == 0)
			return true;
	return false;
}

static bool is_present(const struct sandbox *sb, const char *top, const char *stem)
{
	return holds_path(sb->py_present, sb->n_py_present, top, stem);
}

/* Whether the directory NAME in DIR holds a package's __init__; each one
 * put in KEPT as TOP/NAME/__init__..., when KEPT. */
static bool holds_init(int dir, const char *top, const char *name, char ***kept, size_t *nkept)
{
	_cleanup_(closedirp) DIR *d = dir_stream_at(dir, name, O_NOFOLLOW);
	struct dirent *de;
	char path[PATH_MAX];
	bool any = false;

	while (d && (de = readdir(d)))
		if (py_init_name(de->d_name)) {
			any = true;
			if (kept && (size_t)snprintf(path, sizeof(path), "%s/%s/%s", top, name,
						     de->d_name) < sizeof(path))
				strv_add(kept, nkept, path);
		}
	return any;
}

/*
 * A link TOP/STEM there at the start: the project's own package when it
 * leads to a directory holding an __init__ (true); else (a link to a
 * built docs/_build/html, to nothing yet) it stays, and what it leads to
 * is judged as a directory STEM there would be: an __init__ made there
 * (an outside review: a link counted as the project's own left its
 * directory to the sandbox, and `python3 -m http.server` imported html
 * from it).
 */
static bool link_at_start(struct sandbox *sb, const char *path)
{
	_cleanup_free_ char *real = realpath(path, NULL);
	struct stat st;

	if (real && stat(real, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (holds_init(AT_FDCWD, NULL, real, NULL, NULL))
			return false;
		if (!strv_has(sb->py_linkdirs, sb->n_py_linkdirs, real))
			strv_add(&sb->py_linkdirs, &sb->n_py_linkdirs, real);
	}
	strv_add(&sb->py_links, &sb->n_py_links, path);
	return true;
}

void protect_python_plan(struct sandbox *sb, struct listings *ls)
{
	char stem[NAME_MAX + 1], path[PATH_MAX];

	strv_clear(&sb->py_present, &sb->n_py_present);
	strv_clear(&sb->py_kept, &sb->n_py_kept);
	strv_clear(&sb->py_pkgdirs, &sb->n_py_pkgdirs);
	strv_clear(&sb->py_links, &sb->n_py_links);
	strv_clear(&sb->py_linkdirs, &sb->n_py_linkdirs);
	for (size_t t = 0; t < sb->n_py_tops; t++) {
		const char *top = sb->py_tops[t];
		const struct listing *l = listing_get(ls, top, strlen(top));
		if (!l->ok)
			continue;
		_cleanup_close_ int dir = -1;
		for (size_t i = 0; i < l->n; i++) {
			enum py_form f = py_std_form(l->names[i], stem, sizeof(stem));
			struct stat st;
			if (protect_workspace_name(l->names[i]) &&
			    (size_t)snprintf(path, sizeof(path), "%s/%s", top, l->names[i]) <
				sizeof(path))
				strv_add(&sb->py_kept, &sb->n_py_kept, path);
			if (f == PY_NONE || is_present(sb, top, stem) ||
			    (size_t)snprintf(path, sizeof(path), "%s/%s", top, stem) >=
				sizeof(path))
				continue;
			bool held = held_stem(stem);
			if (f == PY_PACKAGE) {
				if (dir < 0)
					dir = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC);
				if (dir < 0 || fstatat(dir, stem, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
				    !(S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode)))
					continue;
				if (S_ISLNK(st.st_mode) && !held && link_at_start(sb, path))
					continue;
				if (S_ISDIR(st.st_mode) &&
				    (held ? (holds_init(dir, top, stem, &sb->py_kept,
							&sb->n_py_kept),
					     true)
					  : !holds_init(dir, top, stem, NULL, NULL))) {
					/* a namespace directory (html/, email/), or
					 * a held package's: an __init__ made in it
					 * is what counts */
					strv_add(&sb->py_pkgdirs, &sb->n_py_pkgdirs, path);
					continue;
				}
			}
			if (held) {
				/* this entry only: the form of it there */
				if ((size_t)snprintf(path, sizeof(path), "%s/%s", top,
						     l->names[i]) < sizeof(path))
					strv_add(&sb->py_kept, &sb->n_py_kept, path);
				continue;
			}
			strv_add(&sb->py_present, &sb->n_py_present, path);
		}
	}
}

/* Whether DIR/NAME is a held module's entry there at the start. */
static bool is_kept(const struct sandbox *sb, const char *dir, const char *name)
{
	return holds_path(sb->py_kept, sb->n_py_kept, dir, name);
}

enum py_made protect_python_made(const struct sandbox *sb, const char *dir, const char *name)
{
	char stem[NAME_MAX + 1], top[PATH_MAX];

	if (!sb->n_py_tops)
		return PYM_NONE;
	if (protect_workspace_name(name) && strv_has(sb->py_tops, sb->n_py_tops, dir))
		return is_kept(sb, dir, name) ? PYM_NONE : PYM_MOVE;
	enum py_form f = py_std_form(name, stem, sizeof(stem));
	if (f != PY_NONE && strv_has(sb->py_tops, sb->n_py_tops, dir))
		return is_present(sb, dir, stem) || is_kept(sb, dir, name) ? PYM_NONE
		       : f == PY_MODULE					   ? PYM_MOVE
									   : PYM_PACKAGE;
	/* an __init__ where a link there at the start leads */
	if (py_init_name(name) && strv_has(sb->py_linkdirs, sb->n_py_linkdirs, dir))
		return is_kept(sb, dir, name) ? PYM_NONE : PYM_MOVE;
	/* an __init__ in TOP/STEM */
	const char *slash = strrchr(dir, '/');
	if (!py_init_name(name) || !slash || !py_std_name(slash + 1) ||
	    (size_t)snprintf(top, sizeof(top), "%.*s", (int)(slash - dir), dir) >= sizeof(top))
		return PYM_NONE;
	if (!top[0])
		snprintf(top, sizeof(top), "/");
	return strv_has(sb->py_tops, sb->n_py_tops, top) && !is_present(sb, top, slash + 1) &&
		       !is_kept(sb, dir, name)
		   ? PYM_MOVE
		   : PYM_NONE;
}

/* Whether DIR's NAME changed at or after SINCE (every one, when NULL). */
static bool made_since(int dir, const char *name, const struct timespec *since)
{
	struct stat st;

	if (!since)
		return true;
	return fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && gitobj_newer(&st, since);
}

/* What TOP's directory STEM (DIR's entry) holds that makes it a package
 * (made at or after SINCE, when not NULL), into OUT. */
static void finish_package(const struct sandbox *sb, int dir, const char *name, const char *pkg,
			   const struct timespec *since, char ***out, size_t *nout)
{
	_cleanup_(closedirp) DIR *d = dir_stream_at(dir, name, O_NOFOLLOW);
	struct dirent *de;
	char path[PATH_MAX];

	while (d && (de = readdir(d)))
		if (py_init_name(de->d_name) && made_since(dirfd(d), de->d_name, since) &&
		    !is_kept(sb, pkg, de->d_name) &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", pkg, de->d_name) < sizeof(path))
			strv_add(out, nout, path);
}

void protect_python_check(struct sandbox *sb, const struct timespec *since)
{
	char stem[NAME_MAX + 1], path[PATH_MAX];
	char **out = NULL;
	size_t nout = 0;

	for (size_t t = 0; t < sb->n_py_tops; t++) {
		const char *top = sb->py_tops[t];
		/* reached as the host's python will reach it, no link followed */
		_cleanup_close_ int o = protect_open_dir_nofollow(top);
		_cleanup_(closedirp) DIR *d = o >= 0 ? dir_stream_at(o, ".", 0) : NULL;
		struct dirent *de;
		while (d && (de = readdir(d))) {
			/* (a workspace file: a module's rule, kept or made) */
			bool ws = protect_workspace_name(de->d_name);
			enum py_form f =
			    ws ? PY_MODULE : py_std_form(de->d_name, stem, sizeof(stem));
			struct stat st;
			if (f == PY_NONE || (!ws && is_present(sb, top, stem)) ||
			    is_kept(sb, top, de->d_name) ||
			    (size_t)snprintf(path, sizeof(path), "%s/%s", top, de->d_name) >=
				sizeof(path))
				continue;
			bool fresh = made_since(dirfd(d), de->d_name, since);
			if (f == PY_PACKAGE) {
				if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
					continue;
				if (S_ISDIR(st.st_mode)) {
					/* renamed in (its ctime), or given an __init__ */
					finish_package(sb, dirfd(d), de->d_name, path,
						       fresh ? NULL : since, &out, &nout);
					continue;
				}
				if (!S_ISLNK(st.st_mode))
					continue; /* no module: a file without a suffix */
				/* the project's link, unless made again since the
				 * start (pointed elsewhere: a review), where it
				 * leads now */
				if (strv_has(sb->py_links, sb->n_py_links, path) &&
				    !made_since(dirfd(d), de->d_name,
						since ? since : &sb->started_at)) {
					_cleanup_free_ char *real = realpath(path, NULL);
					struct stat rs;
					if (real && stat(real, &rs) == 0 && S_ISDIR(rs.st_mode))
						finish_package(sb, AT_FDCWD, real, real, since,
							       &out, &nout);
					continue;
				}
			}
			if (fresh)
				strv_add(&out, &nout, path);
		}
	}
	for (size_t i = 0; i < nout; i++)
		(void)protect_move_aside(sb, out[i], "protect.created", MOVE_AT_EXIT);
	strv_clear(&out, &nout);
}

void protect_python_finish(struct sandbox *sb)
{
	protect_python_check(sb, NULL);
}

char *protect_python_stems(const struct sandbox *sb, const char *top)
{
	size_t tl = strlen(top), n = 0;
	char *s = calloc(1, 1);

	size_t np = sb->n_py_present, nk = sb->n_py_kept;
	for (size_t i = 0; s && i < np + nk + sb->n_py_links; i++) {
		const char *p = i < np	      ? sb->py_present[i]
				: i < np + nk ? sb->py_kept[i - np]
					      : sb->py_links[i - np - nk];
		bool link = i >= np + nk;	    /* written STEM@ */
		bool kept = i >= np && i < np + nk; /* =ENTRY */
		/* TOP's own (a top within it has records of its own) */
		if (strncmp(p, top, tl) != 0 || p[tl] != '/' ||
		    ((i < np || link) && strchr(p + tl + 1, '/')))
			continue;
		/* (each byte of the record's marks, %XX: a workspace file's
		 * name may hold a blank, an outside review) */
		const char *e = p + tl + 1;
		size_t l = strlen(e);
		char *t = realloc(s, n + 3 * l + 4);
		if (!t) {
			free(s);
			return NULL;
		}
		s = t;
		if (kept)
			s[n++] = '=';
		for (size_t k = 0; k < l; k++)
			if (strchr(" %=@", e[k]))
				n += (size_t)sprintf(s + n, "%%%02X", (unsigned char)e[k]);
			else
				s[n++] = e[k];
		if (link)
			s[n++] = '@';
		s[n++] = ' ';
		s[n] = '\0';
	}
	return s;
}

void protect_python_recover(struct sandbox *tmp, const char *top, const char *stems)
{
	char path[PATH_MAX];

	protect_python_top(tmp, top);
	for (const char *s = stems; *s;) {
		size_t l = strcspn(s, " "), w = 0;
		/* a stem, a link there at the start (STEM@), or a held
		 * module's entry (=ENTRY: a link named readline too, a review
		 * found one read back as a stem of the project's own), its
		 * marks' bytes written %XX */
		bool link = l && s[l - 1] == '@', entry = l && s[0] == '=';
		char e[NAME_MAX * 2 + 2];
		size_t end = l - link;
		for (size_t k = entry; k < end && w + 1 < sizeof(e); k++) {
			int h = s[k] == '%' && k + 2 < end ? hex_value(s[k + 1]) : -1,
			    o = h >= 0 ? hex_value(s[k + 2]) : -1;
			e[w++] = o >= 0 ? (char)(h << 4 | o) : s[k];
			k += o >= 0 ? 2 : 0;
		}
		e[w] = '\0';
		/* (no way out of TOP: an entry is a name, or STEM/__init__) */
		if (w && strlen(e) == w && (entry || py_std_name_n(e, w)) && strcmp(e, "..") != 0 &&
		    strncmp(e, "../", 3) != 0 && !strstr(e, "/..") &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", top, e) < sizeof(path)) {
			if (link)
				strv_add(&tmp->py_links, &tmp->n_py_links, path);
			else if (entry)
				strv_add(&tmp->py_kept, &tmp->n_py_kept, path);
			else
				strv_add(&tmp->py_present, &tmp->n_py_present, path);
		}
		s += l + (s[l] == ' ');
	}
	protect_python_check(tmp, &tmp->started_at);
	protect_python_clear(tmp);
}
