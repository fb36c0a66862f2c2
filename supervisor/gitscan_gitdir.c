/* SPDX-License-Identifier: MIT */
/*
 * One git directory, checked (gitscan.c has the picture): its config,
 * hooks, commondir, an unfinished sequence's state, its modules and
 * worktrees; what its config points git at in a write grant (a hooks path,
 * an included file, the files its commands run); and the changes beneath
 * it no check above holds (unheld_changes()).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitobj.h"
#include "gitscan_internal.h"

/* Whether the file NAME in G is a configuration setting only the keys a
 * clone or an init writes; false for anything that cannot be read as one. */
static bool config_ok(int g, const char *name)
{
	/* static, as pw_repo_ok()'s: the checks of the git directories found
	 * while a sandbox idles come here at every tick */
	static char buf[65536];
	struct stat st;
	ssize_t got;
	int fd = openat(g, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size >= (off_t)sizeof(buf)) {
		close(fd);
		return false;
	}
	got = read(fd, buf, sizeof(buf));
	close(fd);
	return got >= 0 && got < (ssize_t)sizeof(buf) && protwatch_config_ok(buf, (size_t)got);
}

/* A worktree's commondir as `git worktree add` writes it. */
static bool commondir_is_parent(int g)
{
	char buf[16];
	int fd = openat(g, "commondir", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;

	if (fd >= 0)
		close(fd);
	return (n == 5 && memcmp(buf, "../..", 5) == 0) ||
	       (n == 6 && memcmp(buf, "../..\n", 6) == 0);
}

/* Each entry of hooks/ made or changed during the run, but a *.sample. */
static void check_hooks(struct scan *s, int g, const char *path)
{
	char hooks[PATH_MAX];
	struct stat st;
	struct dirent *de;

	if (fstatat(g, "hooks", &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		if (gitobj_newer(&st, s->since))
			scan_quarantine(s, path, "hooks", "no directory");
		return;
	}
	if ((size_t)snprintf(hooks, sizeof(hooks), "%s/hooks", path) >= sizeof(hooks))
		return;
	int h = scan_open_listable(s, g, "hooks", hooks);
	_cleanup_(closedirp) DIR *d = h >= 0 ? fdopendir(h) : NULL;
	if (!d) {
		if (h >= 0)
			close(h);
		/* git runs hooks from it by name; what they are is unknown */
		scan_quarantine(s, path, "hooks", "cannot be read");
		return;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* moved aside already (git runs no hook by such a name) */
		if (strstr(de->d_name, ".ringfence-blocked"))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !gitobj_newer(&st, s->since))
			continue;
		/* git runs hooks/NAME, never a template's NAME.sample */
		if (S_ISREG(st.st_mode) && l > 7 && strcmp(de->d_name + l - 7, ".sample") == 0)
			continue;
		scan_quarantine(s, hooks, de->d_name, "a hook");
	}
}

/* The git directories in modules/ (a submodule's name may hold '/'). */
static void check_modules(struct scan *s, int dirfd_, const char *path, int depth)
{
	struct dirent *de;

	if (depth > GITSCAN_MODULES_DEPTH)
		return;
	_cleanup_(closedirp) DIR *d = dir_stream_at(dirfd_, ".", 0);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char sub[PATH_MAX];
		struct stat st;
		if (de->d_name[0] == '.' && (!de->d_name[1] || strcmp(de->d_name, "..") == 0))
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= sizeof(sub))
			continue;
		_cleanup_close_ int c = scan_open_listable(s, dirfd(d), de->d_name, sub);
		if (c < 0)
			continue;
		if (fstatat(c, "HEAD", &st, AT_SYMLINK_NOFOLLOW) == 0)
			scan_check_gitdir(s, c, sub, false, depth + 1);
		else
			check_modules(s, c, sub, depth + 1);
	}
}

/*
 * What an unfinished sequence keeps in a git directory (a worktree's too):
 * rebase-merge/git-rebase-todo and sequencer/todo name commands (`exec`
 * lines) that the host's `git rebase --continue` (or `cherry-pick`,
 * `revert --continue`) runs, and their options a strategy and more; am's
 * rebase-apply is moved with them, as the file gate and the view treat all
 * three.  Made or changed during the run (the directory's ctime, or any of
 * its entries': a todo rewritten in place changes no directory): moved
 * aside whole, at exit only (the walk while the sandbox runs would take a
 * rebase's state from under the command doing it).
 */
static const char *const git_state[] = {"rebase-merge", "rebase-apply", "sequencer"};

static bool state_changed(struct scan *s, int g, const char *name, const struct stat *st)
{
	struct listing l;
	bool changed = false;

	if (gitobj_newer(st, s->since) || !S_ISDIR(st->st_mode))
		return gitobj_newer(st, s->since);
	_cleanup_close_ int d = openat(g, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	/* unreadable: what git would read there is unknown */
	if (d < 0 || scan_list_dir(d, &l) < 0)
		return true;
	for_each_entry(&l, de)
	{
		struct stat est;
		if (de->d_name[0] == '.' && (!de->d_name[1] || strcmp(de->d_name, "..") == 0))
			continue;
		if (fstatat(d, de->d_name, &est, AT_SYMLINK_NOFOLLOW) < 0 ||
		    gitobj_newer(&est, s->since)) {
			changed = true;
			break;
		}
	}
	free(l.buf);
	return changed;
}

static void check_state(struct scan *s, int g, const char *path)
{
	struct stat st;

	if (!s->at_exit)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(git_state); i++)
		if (fstatat(g, git_state[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    state_changed(s, g, git_state[i], &st))
			scan_quarantine(
			    s, path, git_state[i],
			    "an unfinished rebase's or pick's state, which names commands");
}

/*
 * Links made during the run in a git directory the start did not hold
 * (the ones it held are githeads'), but in the loose objects' directories
 * (git_links_enter()): git writes
 * COMMIT_EDITMSG, MERGE_MSG, SQUASH_MSG, the reflogs, a sequence's state
 * by opening the name, following a final link into a file no grant gave.
 * A repository made in a directory the watch does not enter (node_modules,
 * target, .venv: an outside review) is looked at here, at exit; each link
 * is moved aside (git's own probe for whether links work excepted).
 */
struct found_links {
	struct scan *s;
	const char *path;
};

static bool found_link(void *ctx, int dir, const char *name, const char *rel, const struct stat *st)
{
	struct found_links *f = ctx;

	(void)dir, (void)name;
	if (gitobj_newer(st, f->s->since))
		scan_quarantine(f->s, f->path, rel,
				"a symbolic link in a git directory, which the host's git would "
				"write through");
	return true;
}

/* (one that cannot be opened, but gone, is said: never passed over in
 * silence) */
static bool found_unchecked(void *ctx, const char *rel, int err)
{
	struct found_links *f = ctx;

	if (err != ENOTDIR)
		warn("%s%s%s could not be looked through (%s): symbolic links in it are NOT "
		     "looked for",
		     f->path, *rel ? "/" : "", rel,
		     err ? strerror(err) : "deeper than the look for links goes");
	return true;
}

static void check_links(struct scan *s, int g, const char *path)
{
	struct found_links f = {s, path};
	struct git_links_walk w = {.ctx = &f,
				   .link = found_link,
				   .unchecked = found_unchecked,
				   .max_depth = GIT_LINKS_DEPTH,
				   .budget = GIT_LINKS_BUDGET};

	if (s->at_exit && !git_links_walk(g, &w))
		warn("%s: more than %d entries beside objects/: symbolic links past them are not "
		     "looked for",
		     path, GIT_LINKS_BUDGET);
}

struct pointed {
	struct scan *s;
	const char *base; /* what a relative path is relative to */
	const char *top;  /* the worktree (or bare repository): hooksPath's base */
	int depth;
};

static bool in_a_grant(const struct scan *s, const char *canon)
{
	const struct policy *p = s->sb->policy;

	if (landlock_path_beneath(canon, s->root))
		return true;
	for (size_t i = 0; p && i < p->fs.write.n; i++) {
		_cleanup_free_ char *w = realpath(p->fs.write.items[i].value, NULL);
		if (w && landlock_path_beneath(canon, w))
			return true;
	}
	return false;
}

void scan_check_config_file(struct scan *s, const char *path, const char *top, int depth,
			    bool judged);

/* Each component of FULL below the worktree's top that is a link made or
 * changed during the run, moved aside. */
static void links_on_the_way(struct pointed *pt, const char *full)
{
	size_t tl = strlen(pt->top);
	char dir[PATH_MAX];

	if (strncmp(full, pt->top, tl) != 0 || full[tl] != '/')
		return;
	for (const char *c = full + tl + 1, *e; (e = strchr(c, '/')); c = e + 1) {
		struct stat st;
		snprintf(dir, sizeof(dir), "%.*s", (int)(c - full - 1), full);
		_cleanup_close_ int d = protect_open_dir_nofollow(dir[0] ? dir : "/");
		char name[NAME_MAX + 1];
		if (d < 0 || (size_t)(e - c) > NAME_MAX)
			return;
		snprintf(name, sizeof(name), "%.*s", (int)(e - c), c);
		if (fstatat(d, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return;
		if (S_ISLNK(st.st_mode)) {
			if (gitobj_newer(&st, pt->s->since) && !scan_guarded(pt->s->sb, &st))
				scan_quarantine(pt->s, dir[0] ? dir : "/", name,
						"a link on the way to a file a command in a "
						"repository's config runs");
			return;
		}
	}
}

/* The file PATH a command in a config names, reached following no link,
 * in a grant: moved aside when made or changed during the run (read-only
 * since the start, protect.c, unless it was absent or no mechanism held
 * it).  A directory or a device a command names is no program. */
static void judge_program(struct pointed *pt, const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	struct stat st;

	/* (named through "..": judged where it resolves to only) */
	if (!slash || strstr(path, "/../") || strstr(path, "/./"))
		return;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	_cleanup_close_ int d = protect_open_dir_nofollow(dir[0] ? dir : "/");
	if (d >= 0 && in_a_grant(pt->s, dir[0] ? dir : "/") &&
	    fstatat(d, slash + 1, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) && gitobj_newer(&st, pt->s->since) &&
	    !scan_guarded(pt->s->sb, &st))
		scan_quarantine(pt->s, dir[0] ? dir : "/", slash + 1,
				"a file a command in a repository's config runs");
}

static void on_pointer(void *ud, enum git_pointer kind, const char *value)
{
	struct pointed *pt = ud;
	char full[PATH_MAX];
	const char *home = getenv("HOME");
	bool program = kind == PTR_PROGRAM || kind == PTR_PROGRAM_ARG,
	     top = kind == PTR_HOOKS || program;

	if (kind == PTR_TEMPLATE || kind == PTR_WORKTREE)
		return; /* the host's own configuration's; read before */
	if (strncmp(value, "~/", 2) == 0) {
		if (!home ||
		    (size_t)snprintf(full, sizeof(full), "%s/%s", home, value + 2) >= sizeof(full))
			return;
	} else if ((size_t)snprintf(full, sizeof(full), "%s%s%s",
				    value[0] == '/' ? "" : (top ? pt->top : pt->base),
				    value[0] == '/' ? "" : "/", value) >= sizeof(full)) {
		return;
	}
	/* a link on the way the run made (a tracked `scripts -> tools`
	 * made a directory, or a link to a shell): moved aside, whatever it
	 * leads to */
	if (program && value[0] != '/' && value[0] != '~')
		links_on_the_way(pt, full);
	/* resolved as git resolves it (the host's links followed: the
	 * sandbox has ended), then reached by a walk that follows none */
	_cleanup_free_ char *c = realpath(full, NULL);
	if (program) {
		/* as named (a link there the run made: a program whatever it
		 * leads to), and where links lead, when that is in a grant */
		judge_program(pt, full);
		if (c && strcmp(c, full) != 0 && in_a_grant(pt->s, c))
			judge_program(pt, c);
		return;
	}
	if (c && kind == PTR_INCLUDE && !in_a_grant(pt->s, c)) {
		/* not the sandbox's to write, but what it names may be */
		scan_check_config_file(pt->s, c, pt->top, pt->depth + 1, false);
		return;
	}
	if (!c || !in_a_grant(pt->s, c))
		return;
	if (pt->s->pointed)
		pt->s->pointed(pt->s->pointed_ud, c);
	if (kind == PTR_INCLUDE) {
		scan_check_config_file(pt->s, c, pt->top, pt->depth + 1, true);
		return;
	}
	_cleanup_close_ int d = protect_open_dir_nofollow(c);
	_cleanup_close_ int r = d >= 0 ? openat(d, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	struct listing l;
	struct stat st;
	/* read-only since the start (protect.c): what changed there is the
	 * host's */
	if (r < 0 || (fstat(r, &st) == 0 && scan_guarded(pt->s->sb, &st)))
		return;
	if (scan_list_dir(r, &l) < 0) {
		pt->s->skipped++; /* said: not looked at */
		return;
	}
	for_each_entry(&l, de)
	{
		size_t n = strlen(de->d_name);
		if (de->d_name[0] == '.' && (!de->d_name[1] || strcmp(de->d_name, "..") == 0))
			continue;
		if (strstr(de->d_name, ".ringfence-blocked") ||
		    fstatat(r, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !gitobj_newer(&st, pt->s->since))
			continue;
		if (S_ISREG(st.st_mode) && n > 7 && strcmp(de->d_name + n - 7, ".sample") == 0)
			continue;
		scan_quarantine(pt->s, c, de->d_name, "a hook, in core.hooksPath");
	}
	free(l.buf);
}

/* The configuration file PATH (canonical), and what it points at; itself
 * moved aside when it changed and sets more than the allow-list, if
 * JUDGED (not one outside the write grants: read only). */
void scan_check_config_file(struct scan *s, const char *path, const char *top, int depth,
			    bool judged)
{
	char dir[PATH_MAX];
	struct stat st;
	size_t got;
	const char *slash = strrchr(path, '/');

	/* git stops at ten levels of includes */
	if (depth > 10 || !slash)
		return;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	_cleanup_close_ int d = protect_open_dir_nofollow(dir[0] ? dir : "/");
	_cleanup_close_ int fd =
	    d >= 0 ? openat(d, slash + 1, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) : -1;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	bool changed =
	    judged && depth > 0 && gitobj_newer(&st, s->since) && !scan_guarded(s->sb, &st);
	_cleanup_free_ char *buf = gitconfig_read(fd, &st, &got);
	if (!buf) {
		/* one changed during the run that cannot be read is not one
		 * that passes */
		if (changed)
			scan_quarantine(
			    s, dir, slash + 1,
			    "a configuration file a repository's config includes, which "
			    "could not be read");
		else
			gitconfig_say_unread(path, st.st_size, errno, "checked");
		return;
	}
	if (changed && !protwatch_config_ok(buf, got)) {
		scan_quarantine(s, dir, slash + 1,
				"a configuration file a repository's config includes");
		return;
	}
	struct pointed pt = {s, dir, top, depth};
	gitconfig_pointers(buf, got, on_pointer, &pt);
}

/* The git directory open at G, at PATH.  WORKTREE: one in worktrees/, whose
 * commondir is its way to the main one. */
/* The files of the git directory open at G (ST, at PATH), which the walk
 * does not list, judged as scan_open_mode_file() judges a worktree's when the
 * run changed the directory: a config made 0666 (git init after umask 0)
 * would be another user's to add core.fsmonitor to once the run's checks
 * are done. */
static void gitdir_files(struct scan *s, int g, const struct stat *st, const char *path)
{
	struct dirent *de;

	if (!s->modes || !changed_since(st, s->since))
		return;
	_cleanup_(closedirp) DIR *d = dir_stream_at(g, ".", 0);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_type != DT_DIR && strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			scan_open_mode_file(s, dirfd(d), de->d_name, path);
}

/* The first entry beneath DIR (NAME, beneath the git directory) made or
 * changed since SINCE, in CHANGED; within *BUDGET entries. */
static bool changed_beneath(int dir, const char *name, const struct timespec *since, int depth,
			    unsigned *budget, char *changed, size_t size)
{
	struct dirent *de;
	_cleanup_(closedirp) DIR *d = dir_stream_at(dir, ".", 0);

	while (d && (de = readdir(d)) && *budget > 0) {
		struct stat st;
		char sub[PATH_MAX];
		if (de->d_name[0] == '.' && (!de->d_name[1] || strcmp(de->d_name, "..") == 0))
			continue;
		(*budget)--;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (size_t)snprintf(sub, sizeof(sub), "%s/%s", name, de->d_name) >= sizeof(sub))
			continue;
		if (gitobj_newer(&st, since)) {
			snprintf(changed, size, "%s", sub);
			return true;
		}
		if (S_ISDIR(st.st_mode) && depth < 128) {
			_cleanup_close_ int c = openat(
			    dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (c >= 0 &&
			    changed_beneath(c, sub, since, depth + 1, budget, changed, size))
				return true;
		}
	}
	return false;
}

/*
 * A repository whose index, HEAD or refs the run changed, but which the
 * start did not hold (githeads.c: one deeper than the walk at start looks,
 * in a directory it passes over, past its budget): what the sandbox staged
 * or committed there at protected paths is not checked, and that is said,
 * with an event (protect.unchecked), so that the host reviews it before a
 * git checkout there.  Every file at the git directory's top but config
 * and hooks (judged on their own), and everything beneath refs and logs,
 * by its ctime, up to 10,000 entries (past that: said as changed).
 */
static __attribute__((noinline)) void unheld_changes(struct scan *s, int g, const char *path)
{
	struct stat st;
	char changed[PATH_MAX] = "";
	unsigned budget = 10000;

	/* (one the run made holds nothing of the host's) */
	if (!s->at_exit || !s->sb->git_held_known || fstat(g, &st) < 0 ||
	    scan_born_after(g, "", s->since))
		return;
	for (size_t i = 0; i < s->sb->n_git_held; i++)
		if (s->sb->git_held[i].dev == st.st_dev && s->sb->git_held[i].ino == st.st_ino)
			return;
	struct dirent *de;
	_cleanup_(closedirp) DIR *d = dir_stream_at(g, ".", 0);
	while (d && !changed[0] && (de = readdir(d))) {
		const char *n = de->d_name;
		if (n[0] == '.' || strcmp(n, "objects") == 0 || strcmp(n, "config") == 0 ||
		    strcmp(n, "hooks") == 0 || strcmp(n, "description") == 0 ||
		    fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISDIR(st.st_mode) || strcmp(n, "refs") == 0 || strcmp(n, "logs") == 0) {
			if (gitobj_newer(&st, s->since))
				snprintf(changed, sizeof(changed), "%s", n);
		}
		if (!changed[0] && S_ISDIR(st.st_mode) &&
		    (strcmp(n, "refs") == 0 || strcmp(n, "logs") == 0)) {
			_cleanup_close_ int c =
			    openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (c >= 0)
				(void)changed_beneath(c, n, s->since, 1, &budget, changed,
						      sizeof(changed));
			if (!budget && !changed[0])
				snprintf(changed, sizeof(changed), "%s (too many to look at)", n);
		}
	}
	if (!changed[0])
		return;
	char js[2 * PATH_MAX], jc[2 * PATH_MAX];
	warn("%s: the sandbox changed its %s, in a repository the start did not find (past "
	     "where its walk looks): what it staged or committed there is not checked; "
	     "review `git status`, `git diff --cached` and `git log --all` there before a "
	     "git checkout, reset, stash or pull",
	     path, changed);
	json_string(js, sizeof(js), path);
	json_string(jc, sizeof(jc), changed);
	audit_event(s->sb->audit_fd, "protect.unchecked", "\"path\":%s,\"changed\":%s", js, jc);
}

void scan_check_gitdir(struct scan *s, int g, const char *path, bool worktree, int depth)
{
	struct stat st;
	char cfg[PATH_MAX], top[PATH_MAX];

	/* what the config points at outside the git directory (a hooks path,
	 * an included file) may be the sandbox's, guarded directory or not */
	if (!worktree && depth == 0 &&
	    (size_t)snprintf(cfg, sizeof(cfg), "%s/config", path) < sizeof(cfg)) {
		const char *slash = strrchr(path, '/');
		bool dotgit = slash && strcmp(slash, "/.git") == 0;
		snprintf(top, sizeof(top), "%.*s", dotgit ? (int)(slash - path) : (int)strlen(path),
			 path);
		/* (core.worktree: where git runs what the config names) */
		(void)gitconfig_core_worktree(cfg, path, top);
		scan_check_config_file(s, cfg, top[0] ? top : "/", 0, true);
		/* the host's own configuration's hooks paths: a relative one
		 * names a directory in this worktree too */
		struct pointed pt = {s, top[0] ? top : "/", top[0] ? top : "/", 0};
		for (size_t i = 0; i < s->sb->n_git_global_hooks; i++)
			on_pointer(&pt, PTR_HOOKS, s->sb->git_global_hooks[i]);
		for (size_t i = 0; i < s->sb->n_git_global_programs; i++)
			on_pointer(&pt, PTR_PROGRAM, s->sb->git_global_programs[i]);
	}
	/* at exit only: its 20 KB of frame, probed on every call, stays off
	 * the checks repeated while the sandbox idles */
	if (!worktree && depth == 0 && s->at_exit)
		unheld_changes(s, g, path);
	if (fstat(g, &st) < 0 || scan_guarded(s->sb, &st))
		return;
	gitdir_files(s, g, &st, path);
	for (const char *const *n = (const char *const[]){"config", "config.worktree", NULL}; *n;
	     n++)
		if (fstatat(g, *n, &st, AT_SYMLINK_NOFOLLOW) == 0 && gitobj_newer(&st, s->since)) {
			if (!config_ok(g, *n))
				scan_quarantine(s, path, *n,
						"a configuration that sets what a host git runs");
			/* a second name elsewhere changes it with no event
			 * where it is watched (git writes it by a rename, with
			 * one link) */
			else if (st.st_nlink > 1)
				scan_quarantine(s, path, *n, "a configuration with a second name");
		}
	if (fstatat(g, "commondir", &st, AT_SYMLINK_NOFOLLOW) == 0 && gitobj_newer(&st, s->since) &&
	    !(worktree && S_ISREG(st.st_mode) && commondir_is_parent(g)))
		scan_quarantine(s, path, "commondir", "a pointer to another repository");
	check_state(s, g, path);
	check_links(s, g, path);
	if (worktree)
		return; /* hooks and modules are the main git directory's */
	check_hooks(s, g, path);
	for (const char *const *n = (const char *const[]){"modules", "worktrees", NULL}; *n; n++) {
		char sub[PATH_MAX];
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, *n) >= sizeof(sub))
			continue;
		_cleanup_close_ int c = scan_open_listable(s, g, *n, sub);
		if (c < 0)
			continue;
		if (strcmp(*n, "modules") == 0) {
			check_modules(s, c, sub, depth);
			continue;
		}
		int r = dup(c);
		_cleanup_(closedirp) DIR *d = r >= 0 ? fdopendir(r) : NULL;
		struct dirent *de;
		if (!d && r >= 0)
			close(r);
		while (d && (de = readdir(d))) {
			char wt[PATH_MAX];
			if (de->d_name[0] == '.' || (size_t)snprintf(wt, sizeof(wt), "%s/%s", sub,
								     de->d_name) >= sizeof(wt))
				continue;
			/* entered by name: what git reads there needs no listing */
			_cleanup_close_ int w =
			    openat(c, de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (w >= 0) {
				scan_open_mode_path(s, c, w, wt);
				scan_check_gitdir(s, w, wt, true, depth);
			}
		}
	}
}

void gitscan_gitdir(const struct sandbox *sb, const char *path, bool worktree,
		    void (*pointed)(void *ud, const char *path), void *ud)
{
	struct scan s = {.sb = sb,
			 .root = path,
			 .since = &sb->started_at,
			 .found_fd = -1,
			 .pointed = pointed,
			 .pointed_ud = ud};
	_cleanup_close_ int g = protect_open_dir_nofollow(path);

	if (g >= 0)
		scan_check_gitdir(&s, g, path, worktree, 0);
}

void gitscan_pointer(const struct sandbox *sb, const char *path)
{
	struct scan s = {.sb = sb, .root = path, .since = &sb->started_at, .found_fd = -1};
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (!slash || (size_t)(slash - path) >= sizeof(dir))
		return;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	_cleanup_close_ int d = protect_open_dir_nofollow(dir[0] ? dir : "/");
	if (d >= 0 && fstatat(d, slash + 1, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISDIR(st.st_mode) && gitobj_newer(&st, s.since) && !scan_guarded(sb, &st))
		scan_quarantine(&s, dir[0] ? dir : "/", slash + 1, "a pointer to a repository");
}

void gitscan_global_includes(const struct sandbox *sb)
{
	const struct policy *p = sb->policy;

	for (size_t i = 0; p && i < sb->n_git_global_includes; i++) {
		/* resolved as git resolves it, then reached following no link */
		_cleanup_free_ char *c = realpath(sb->git_global_includes[i], NULL);
		for (size_t j = 0; c && j < p->fs.write.n; j++) {
			_cleanup_free_ char *w = realpath(p->fs.write.items[j].value, NULL);
			if (w && landlock_path_beneath(c, w)) {
				struct scan s = {
				    .sb = sb, .root = w, .since = &sb->started_at, .found_fd = -1};
				scan_check_config_file(&s, c, "/", 1, true);
				break;
			}
		}
	}
}
