/* SPDX-License-Identifier: MIT */
/*
 * Every repository beneath a write grant, checked when the sandbox has ended.
 *
 * protect.c keeps read-only the hooks and configuration of the repositories
 * its walk at start finds (the project's, those two levels down, bare ones
 * named NAME.git), and protwatch.c moves aside, while the sandbox runs, a
 * repository made in a directory it watches.  The rest stays writable: a
 * repository deeper down, a bare one named otherwise, one in a grant that
 * is no project, one made during the run in a directory that existed at
 * start below the watched ones.  A host git run there later obeys what the
 * sandbox wrote: a hook (`git commit`, `git checkout`; a `git push` into a
 * bare one runs pre-receive and post-receive), core.fsmonitor
 * (`git status`), core.hooksPath, an include, an alias, ...
 *
 * So every write grant is walked while the sandbox runs (by a child of the
 * supervisor's, which hands each git directory it finds to protwatch.c to
 * watch: gitscan_all() with a pipe) and when it has ended (a crash journal
 * has the next start do it when the supervisor was killed), and in
 * every git directory found (a `.git` directory, or a directory holding
 * HEAD with objects and refs, or HEAD with commondir: git's own test, so a
 * bare repository by any name; and the submodules' and worktrees' git
 * directories within them) what the host's git reads as commands and was
 * made or changed since the start (its ctime, which cannot be set back from
 * inside) is moved aside to NAME.ringfence-blocked, with a warning and an
 * audit event:
 *   - config and config.worktree, unless they set only the keys `git init`
 *     and `git clone` write (protwatch_config_ok(): an allow-list, since
 *     the keys that run a command are many and grow);
 *   - a hook: any entry of hooks/ but a template's *.sample file; hooks/
 *     itself when it is no directory;
 *   - commondir (a worktree's "../.." excepted), which sends git to another
 *     repository's config and hooks;
 *   - a `.git` that is a file or a symbolic link (a pointer elsewhere);
 *   - at exit only, an unfinished rebase's or pick's state (rebase-merge,
 *     rebase-apply, sequencer: a todo's `exec` lines run at the host's
 *     `git rebase --continue`);
 *   - in every repository, the guarded ones too: what its config points at
 *     in a write grant (a hook in the core.hooksPath directory; an
 *     include.path or includeIf.*.path file setting more than the
 *     allow-list).
 * A change's author cannot be told from the inode: one the host made there
 * during the run is moved aside as well, and said.  The git directories
 * protect.c guarded (read-only or behind a view) are passed over: the
 * sandbox could not write what they hold.
 *
 * The walk follows no symbolic link and does not enter a git directory but
 * for its modules and worktrees; package and build trees (node_modules,
 * ...) come last, and past GITSCAN_MAX_DIRS directories per grant it stops
 * and says what it did not look at (README).
 *
 * Each directory the walk of a grant enters (scan_open_mode()) that is writable
 * by every user and was made during the run (mkdir after umask(0): seccomp
 * refuses a chmod giving others write, not a creation mode) loses write for
 * others, by the descriptor the walk holds: else another local user could
 * drop there, after the run, a .git with a hook, an .envrc, a
 * .vscode/tasks.json that the host's tools run as the user.  Said once per
 * grant, with a protect.mode event; so does a file made so (scan_open_mode_file()).
 * What another user made there during the run is moved aside at exit
 * (theirs to write, at a name the host's tools would look for).  Still not
 * done: group write (a user private group is the user's own), a git
 * directory's objects, refs and logs (not entered: data), a sticky
 * directory on a file system without birth times (taken as the host's
 * shared one), what lies past the walk's limits.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitscan_internal.h"

/* ~10 us a directory on the 2-core machine (bench/gitscan.sh): a second
 * at most */
#define GITSCAN_MAX_DIRS  100000
#define GITSCAN_MAX_DEPTH 128

bool scan_guarded(const struct sandbox *sb, const struct stat *st)
{
	for (size_t i = 0; i < sb->n_git_guarded; i++)
		if (sb->git_guarded[i].dev == st->st_dev && sb->git_guarded[i].ino == st->st_ino)
			return true;
	/* an empty .git of ours mounted over read-only while the sandbox runs
	 * (protect.c): no repository, and nothing in it is the sandbox's */
	for (size_t i = 0; i < sb->n_placeholders; i++)
		if (sb->placeholders[i].dev == st->st_dev && sb->placeholders[i].ino == st->st_ino)
			return true;
	return false;
}

/* DIR/NAME moved aside, said once with WHY. */
void scan_quarantine(struct scan *s, const char *dir, const char *name, const char *why)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "", name) >=
	    sizeof(path))
		return;
	/* its own line on failure; ours on success */
	if (protect_move_aside(s->sb, path, "protect.created", MOVE_LIVE_QUIET) > 0)
		warn("the sandbox wrote %s (%s), which the host's tools would follow: renamed "
		     "to *.ringfence-blocked; review it",
		     path, why);
}

int scan_list_dir(int fd, struct listing *ret)
{
	size_t cap = 32768, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (cap - len < 4096) {
			char *nb = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = getdents64(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret = (struct listing){buf, len};
	return 0;
}

static bool bulk_name(const char *name)
{
	static const char *const bulk[] = {"node_modules", "target", "__pycache__", ".venv"};

	for (size_t i = 0; i < ARRAY_SIZE(bulk); i++)
		if (strcmp(name, bulk[i]) == 0)
			return true;
	return false;
}

/* DIR: one git can enter.  git tests objects and refs with access(X_OK),
 * which a link to a directory passes, and so does a regular file with an
 * execute bit (`objects` and `refs` made files are still a repository
 * whose config git obeys): any of them taken as one without a look. */
static bool has_entry(const struct listing *l, const char *name, bool dir)
{
	for_each_entry(l, de) if (strcmp(de->d_name, name) == 0) return !dir ||
	    de->d_type == DT_DIR || de->d_type == DT_UNKNOWN || de->d_type == DT_LNK ||
	    de->d_type == DT_REG;
	return false;
}

static void later_add(struct scan *s, const char *path)
{
	char **v = realloc(s->later, (s->n_later + 1) * sizeof(*v));

	if (!v || !(v[s->n_later] = strdup(path))) {
		s->later = v ? v : s->later;
		s->cut = true; /* out of memory: said as not looked at */
		return;
	}
	s->later = v;
	s->n_later++;
}

/*
 * A project's other names (protect.c's built-in tree but git's own: agents'
 * settings and MCP lists, editors' tasks, direnv, hook managers) in the
 * worktree TOP, open at TFD, of a repository the start did not guard: a host
 * agent, editor or shell started there trusts them as it trusts git's hooks.
 * What was made or changed since the start is moved aside: a file, a link
 * on the way (the host follows it), and in a directory of them (.vscode,
 * .claude, ...) each entry, NAMES_DEPTH levels down at most.
 */
#define NAMES_DEPTH 8

/*
 * A denied file the sandbox could not have written: the very file that was
 * there at the start (its inode: another, renamed in, may be one the
 * sandbox made or held open, a review showed), with one name, masked the
 * whole run (its name never removed meanwhile: sb->deny_lost) or, without
 * namespaces, carved out.  What it holds is the host's: an in-place save
 * of a denied .env (an outside review: it was moved aside as the
 * sandbox's).  Not when checking a crashed run's journal: nothing says
 * what happened to the masks then.
 */
static bool denied_held(const struct scan *s, const char *at, const char *name,
			const struct stat *st)
{
	const struct sandbox *sb = s->sb;
	char path[PATH_MAX];

	/* (a second name, a hard link, could have been written) */
	if (!sb || sb->recovering || !sb->policy || !sb->deny_canon || !sb->deny_ids ||
	    st->st_nlink != 1 ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", at, name) >= sizeof(path))
		return false;
	for (size_t i = 0; i < sb->policy->fs.deny.n; i++) {
		if (!sb->deny_canon[i] || strcmp(sb->deny_canon[i], path) != 0)
			continue;
		if (!sb->deny_ids[i].ino || sb->deny_ids[i].dev != st->st_dev ||
		    sb->deny_ids[i].ino != st->st_ino)
			return false;
		if (sb->ns != NS_FULL)
			return true;
		for (size_t m = 0; m < sb->n_masks; m++)
			if (!sb->masks[m].read_only_bind && !sb->masks[m].is_dir &&
			    strcmp(sb->masks[m].path, path) == 0)
				return !strv_has(sb->deny_lost, sb->n_deny_lost, path);
		return false;
	}
	return false;
}

static void check_tree(struct scan *s, int dir, const char *at, const char *name, int depth)
{
	char sub[PATH_MAX];
	struct listing l;

	if (depth > NAMES_DEPTH ||
	    (size_t)snprintf(sub, sizeof(sub), "%s/%s", at, name) >= sizeof(sub)) {
		s->skipped++;
		return;
	}
	_cleanup_close_ int o = scan_open_listable(s, dir, name, sub);
	if (o < 0 || scan_list_dir(o, &l) < 0)
		return;
	for_each_entry(&l, de)
	{
		struct stat st;
		if (de->d_name[0] == '.' && (!de->d_name[1] || strcmp(de->d_name, "..") == 0))
			continue;
		if (strstr(de->d_name, ".ringfence-blocked") ||
		    fstatat(o, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			check_tree(s, o, sub, de->d_name, depth + 1);
		else if (gitobj_newer(&st, s->since) && !denied_held(s, sub, de->d_name, &st))
			scan_quarantine(s, sub, de->d_name,
					"a project file the host's tools trust");
	}
	free(l.buf);
}

static void check_name(struct scan *s, int tfd, const char *top, const char *rel)
{
	char at[PATH_MAX], comp[NAME_MAX + 1];
	_cleanup_close_ int owned = -1;
	int dir = tfd;

	snprintf(at, sizeof(at), "%s", top);
	for (const char *p = rel; *p;) {
		const char *slash = strchr(p, '/');
		size_t l = slash ? (size_t)(slash - p) : strlen(p);
		struct stat st;
		if (l >= sizeof(comp))
			return;
		memcpy(comp, p, l);
		comp[l] = '\0';
		if (fstatat(dir, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return;
		if (S_ISLNK(st.st_mode)) {
			if (gitobj_newer(&st, s->since))
				scan_quarantine(s, at, comp, "a link where the host's tools look");
			return;
		}
		if (!slash) {
			if (S_ISDIR(st.st_mode))
				check_tree(s, dir, at, comp, 0);
			else if (gitobj_newer(&st, s->since) && !denied_held(s, at, comp, &st))
				scan_quarantine(s, at, comp,
						"a project file the host's tools trust");
			return;
		}
		if (!S_ISDIR(st.st_mode))
			return;
		int nd = openat(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		size_t al = strlen(at);
		if (nd < 0 || al + 1 + l >= sizeof(at)) {
			if (nd >= 0)
				close(nd);
			return;
		}
		if (owned >= 0)
			close(owned);
		dir = owned = nd;
		snprintf(at + al, sizeof(at) - al, "/%s", comp);
		p = slash + 1;
	}
}

static void check_names(struct scan *s, int tfd, const char *top)
{
	const char **names;
	size_t n = protect_builtin_names(false, &names);
	bool modes = s->modes;

	/* the directories entered here are the walk's own, judged (and
	 * counted) once, when it enters them */
	s->modes = false;

	for (size_t i = 0; i < n; i++) {
		const char *nm = names[i];
		/* git's own: scan_check_gitdir()'s */
		if (strncmp(nm, ".git", 4) == 0 && (!nm[4] || nm[4] == '/'))
			continue;
		check_name(s, tfd, top, nm);
	}
	/* and its VS Code workspace files (an outside review: one made at
	 * the top of a repository made during the run stayed) */
	_cleanup_(closedirp) DIR *d = dir_stream_at(tfd, ".", 0);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (protect_workspace_name(de->d_name))
			check_name(s, tfd, top, de->d_name);
	s->modes = modes;
}

/*
 * The same names below a grant's top, in every directory the walk enters
 * (outside review): cargo reads .cargo/config.toml in every directory up
 * from where it runs, Gemini CLI the nearest .env upwards, an editor the
 * .vscode of the folder it opens, python the readline.py of where it
 * starts.  So an entry of the listing of PATH (open at FD) that is the
 * first component of a built-in name is checked as at a project's top:
 * made or changed since the start, moved aside.  Not in package and build
 * trees, whose packages ship such files (site-packages' pip/, a vendored
 * crate's rust-toolchain.toml, whose checksums list it): the walk's bulk
 * trees (s->names_off) and the directories names_off_below() names.
 */
static bool names_off_below(const char *name)
{
	static const char *const off[] = {"site-packages", "dist-packages", "vendor"};

	for (size_t i = 0; i < ARRAY_SIZE(off); i++)
		if (strcmp(name, off[i]) == 0)
			return true;
	/* an interpreter's own library in the project (a conda or pixi
	 * environment, a --prefix build): lib/python3.12's venv/, readline;
	 * by its exact name (python3.x-compat is a project's folder) */
	if (strncmp(name, "python2.", 8) != 0 && strncmp(name, "python3.", 8) != 0)
		return false;
	size_t d = strspn(name + 8, "0123456789");
	return d > 0 && name[8 + d] == '\0';
}

static bool first_component_is(const char *nm, const char *entry)
{
	size_t l = strlen(entry);

	return strncmp(nm, entry, l) == 0 && (nm[l] == '\0' || nm[l] == '/');
}

static void check_entry_names(struct scan *s, int fd, const char *path, const char *entry)
{
	const char **names;
	size_t n = protect_builtin_names(false, &names);
	bool modes = s->modes;

	if (strcmp(entry, ".git") == 0)
		return;	  /* git's own: walk_dotgit()'s */
	s->modes = false; /* as check_names() */
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (!first_component_is(names[i], entry))
			continue;
		/* a file's name given to a directory (a venv called .env) is
		 * not what the tool reads */
		if (!strchr(names[i], '/') && !protect_builtin_dir(names[i]) &&
		    fstatat(fd, entry, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
			continue;
		check_name(s, fd, path, names[i]);
	}
	s->modes = modes;
}

/* A link made during the run, at NAME in the directory open at FD (PATH),
 * to a directory: a host tool started through it (`cd crates/a`, or a
 * directory below it) reads the names where it leads, which may be a
 * package tree the walk does not look in (a review of the check above:
 * crates/a made a link to crates/vendor/a).  So the tree it leads to is
 * walked as this one is, from its canonical path, the names looked for
 * in it (the walk's own limits bound it; a link to an ancestor only walks
 * what the walk would anyway). */
static void walk(struct scan *s, int fd, const char *path, int depth);

static void check_linked_names(struct scan *s, int fd, const char *path, const char *name,
			       int depth)
{
	char sub[PATH_MAX];
	struct stat st;

	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !gitobj_newer(&st, s->since) ||
	    (size_t)snprintf(sub, sizeof(sub), "%s/%s", path, name) >= sizeof(sub))
		return;
	_cleanup_free_ char *real = realpath(sub, NULL);
	_cleanup_close_ int t =
	    real ? open(real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
	/* once each, 64 at most a walk, never an ancestor: links cannot make
	 * the walk spend its budget going round (and cut it short) */
	struct stat ts;
	if (t < 0 || !landlock_path_beneath(real, s->root) || landlock_path_beneath(path, real) ||
	    fstat(t, &ts) < 0)
		return;
	if (s->n_linked >= ARRAY_SIZE(s->linked)) {
		s->skipped++; /* said with the walk's other subtrees not looked at */
		return;
	}
	for (size_t i = 0; i < s->n_linked; i++)
		if (s->linked[i].dev == ts.st_dev && s->linked[i].ino == ts.st_ino)
			return;
	s->linked[s->n_linked].dev = ts.st_dev;
	s->linked[s->n_linked++].ino = ts.st_ino;
	unsigned off = s->names_off;
	s->names_off = 0;
	walk(s, t, real, depth + 1);
	s->names_off = off;
}

/* The git directory open at G (PATH) found by the walk while the sandbox
 * runs: protwatch.c watches it from now on.  A write of at most PIPE_BUF
 * bytes to a pipe is whole or not at all, so the reader never gets half a
 * path; the walk waits while the reader is behind. */
static void found(struct scan *s, int g, const char *path)
{
	struct stat st;
	size_t n = strlen(path) + 1;

	if (s->found_fd < 0 || n > PIPE_BUF || fstat(g, &st) < 0 || scan_guarded(s->sb, &st))
		return;
	while (write(s->found_fd, path, n) < 0 && errno == EINTR)
		;
}

/* In the walk's process while the sandbox runs: the read end of a pipe
 * the supervisor closes to end the walk (protwatch_stop()). */
static int stop_fd = -1;

void gitscan_stop_on(int fd)
{
	stop_fd = fd;
}

/* Whether the walk goes into one more directory, DEPTH levels down: not
 * once it is cut, nor past GITSCAN_MAX_DEPTH (that subtree said skipped)
 * or GITSCAN_MAX_DIRS (the walk cut); counted. */
static bool walk_on(struct scan *s, int depth)
{
	if (s->cut)
		return false;
	/* the walk while the sandbox runs: the supervisor, ending, closed the
	 * stop pipe (and reads what is said until this walk ends), or is gone;
	 * stopped here, between two directories, so that nothing moved aside
	 * goes unsaid */
	if (s->found_fd >= 0) {
		struct pollfd pf[2] = {{.fd = s->found_fd}, {.fd = stop_fd, .events = POLLIN}};
		if (poll(pf, 2, 0) > 0 &&
		    ((pf[0].revents & (POLLERR | POLLHUP)) || pf[1].revents)) {
			s->cut = true;
			return false;
		}
	}
	/* too deep: this subtree only, so that a chain of directories made
	 * to be walked first cannot end the walk */
	if (depth > GITSCAN_MAX_DEPTH) {
		s->skipped++;
		return false;
	}
	if (++s->dirs > GITSCAN_MAX_DIRS) {
		s->cut = true;
		return false;
	}
	return true;
}

/* The .git NAME in the directory open at FD (PATH; SUB is PATH/NAME): a
 * pointer to a repository (`gitdir:` or a link), its worktree's top a
 * project whose config is checked, or a git directory, checked and handed
 * to the watch.  What a .git holds is the repository's: not walked. */
static void walk_dotgit(struct scan *s, int fd, const char *path, const char *name, const char *sub)
{
	struct stat st;

	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		/* `gitdir:` or a link: a pointer to a repository */
		if (gitobj_newer(&st, s->since) && !scan_guarded(s->sb, &st))
			scan_quarantine(s, path, name, "a pointer to a repository");
		/* a worktree's or a submodule's top: a project,
		 * where what its config runs is run from */
		if (!scan_guarded(s->sb, &st)) {
			char cfg[2][PATH_MAX];
			check_names(s, fd, path);
			for (size_t i = 0, n = gitconfig_worktree_files(path, cfg); i < n; i++) {
				char wt[PATH_MAX], gd[PATH_MAX];
				snprintf(gd, sizeof(gd), "%.*s",
					 (int)(strrchr(cfg[i], '/') - cfg[i]), cfg[i]);
				/* (a submodule's: a linked
				 * worktree's is its own top) */
				scan_check_config_file(
				    s, cfg[i],
				    n == 1 && gitconfig_core_worktree(cfg[i], gd, wt) ? wt : path,
				    0, true);
			}
		}
		return;
	}
	/* by name, as git enters it: no listing needed (but
	 * its files read: one the run made unsearchable to
	 * us gets its owner's rights back) */
	(void)scan_give_back_read(s, fd, name, sub);
	_cleanup_close_ int g = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (g >= 0) {
		scan_open_mode_path(s, fd, g, sub);
		scan_check_gitdir(s, g, sub, false, 0);
		found(s, g, sub);
		/* the start kept a guarded one's names read-only */
		if (!scan_guarded(s->sb, &st))
			check_names(s, fd, path);
	}
}

/* The directory open at FD (PATH, reached following no symlink). */
static void walk(struct scan *s, int fd, const char *path, int depth)
{
	struct listing l = {0};
	bool gitdir;

	if (!walk_on(s, depth))
		return;
	int r = scan_list_dir(fd, &l);
	if (r == -ENOMEM)
		s->cut = true; /* said as not looked at */
	if (r < 0)
		return;
	/* git's own test of a git directory (is_git_directory()): a bare
	 * repository by any name, or the git directory of a worktree */
	/* a file made during the run (or renamed or linked here) changed its
	 * directory then: the files of one unchanged since the start are
	 * passed over without a look (most of a large tree's) */
	struct stat dst;
	bool files_changed = s->modes && fstat(fd, &dst) == 0 && changed_since(&dst, s->since);
	gitdir = has_entry(&l, "HEAD", false) &&
		 ((has_entry(&l, "objects", true) && has_entry(&l, "refs", true)) ||
		  has_entry(&l, "commondir", false));
	if (gitdir) {
		scan_check_gitdir(s, fd, path, false, 0);
		found(s, fd, path);
	}
	/* a grant's top is the start's (bound, watched); a worktree's top,
	 * walk_dotgit()'s; a git directory is no place a tool starts in */
	/* (a directory that passes git's test, HEAD, objects and refs, is
	 * looked in all the same: empty files of those names made one pass
	 * for a git directory, a review found) */
	bool names = depth > 0 && !s->names_off && !has_entry(&l, ".git", false);
	for_each_entry(&l, de)
	{
		const char *name = de->d_name;
		bool git = strcmp(name, ".git") == 0;
		char sub[PATH_MAX];
		if (s->cut)
			break;
		if (names && !git && protect_builtin_first(name))
			check_entry_names(s, fd, path, name);
		/* a VS Code workspace file, as .vscode/ (protect_python.c
		 * holds those at the tops) */
		if (names && !git && protect_workspace_name(name))
			check_name(s, fd, path, name);
		if (names && de->d_type == DT_LNK)
			check_linked_names(s, fd, path, name, depth);
		/* most entries are files: passed over before any other test
		 * but their mode's */
		if (!git && de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) {
			if (files_changed)
				scan_open_mode_file(s, fd, name, path);
			continue;
		}
		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		/* a git directory's objects (thousands of directories, none
		 * of them a repository) and what scan_check_gitdir() looked at.
		 * Not entered, so not judged by scan_open_mode() either: objects,
		 * refs and logs writable by every user let another user change
		 * what the repository holds, never what git runs; hooks/,
		 * modules/ and worktrees/ scan_check_gitdir() enters, and judges */
		if (gitdir && (strcmp(name, "objects") == 0 || strcmp(name, "refs") == 0 ||
			       strcmp(name, "logs") == 0 || strcmp(name, "hooks") == 0 ||
			       strcmp(name, "modules") == 0 || strcmp(name, "worktrees") == 0))
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", strcmp(path, "/") ? path : "",
				     name) >= sizeof(sub)) {
			s->skipped++;
			continue;
		}
		if (git) {
			walk_dotgit(s, fd, path, name, sub);
			continue; /* what a .git holds is the repository's */
		}
		if (s->skip && strcmp(sub, s->skip) == 0)
			continue;
		if (bulk_name(name)) {
			/* judged here, where its directory is at hand: another
			 * user's node_modules or .venv in one of the command's */
			if (scan_foreign_here(s, fd, name, sub))
				continue;
			later_add(s, sub);
			continue;
		}
		_cleanup_close_ int c = scan_open_listable(s, fd, name, sub);
		bool off = names_off_below(name);
		s->names_off += off;
		if (c >= 0)
			walk(s, c, sub, depth + 1);
		s->names_off -= off;
	}
	free(l.buf);
}

static int by_length(const void *a, const void *b)
{
	size_t x = strlen(*(char *const *)a), y = strlen(*(char *const *)b);

	return x < y ? -1 : x > y;
}

/* The package and build trees the walk put off (bulk_name()), walked
 * last. */
static void walk_later(struct scan *s)
{
	for (size_t i = 0; i < s->n_later; i++) {
		/* from its parent: one made unreadable during the run gets
		 * its read back, else it is said (its mode judged as before,
		 * as a tree's top with no parent at hand) */
		char parent[PATH_MAX];
		const char *slash = strrchr(s->later[i], '/');
		snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - s->later[i]) : 0,
			 s->later[i]);
		_cleanup_close_ int c =
		    slash ? protect_open_dir_nofollow(parent[0] ? parent : "/") : -1;
		if (c >= 0 && !s->cut) {
			int o =
			    openat(c, slash + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (o < 0 && errno == EACCES &&
			    scan_give_back_read(s, c, slash + 1, s->later[i]))
				o = openat(c, slash + 1,
					   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (o < 0 && errno == EACCES)
				s->skipped++; /* said: not looked at */
			if (o >= 0) {
				scan_open_mode(s, -1, o, s->later[i]);
				s->names_off++;
				walk(s, o, s->later[i], 1);
				s->names_off--;
				close(o);
			}
		}
		free(s->later[i]);
	}
	free(s->later);
}

/* another user's entries in what the run made: the outermost first
 * (one inside another is gone with it) */
static void move_foreign(const struct sandbox *sb, struct scan *s)
{
	if (s->n_foreign_paths)
		qsort(s->foreign_paths, s->n_foreign_paths, sizeof(*s->foreign_paths), by_length);
	for (size_t i = 0; i < s->n_foreign_paths; i++) {
		/* its own line when it could not be moved; gone already: moved
		 * with one above it */
		int r =
		    protect_move_aside(sb, s->foreign_paths[i], "protect.foreign", MOVE_LIVE_QUIET);
		if (r > 0 || r == -ENOENT)
			s->foreign_moved++;
		free(s->foreign_paths[i]);
	}
	free(s->foreign_paths);
}

/* What the walk of the grant ROOT did not look at, said and logged. */
static void say_unchecked(const struct sandbox *sb, const struct scan *s, const char *root)
{
	char js[PATH_MAX + 64];
	if (s->cut)
		warn("%s holds more than %d directories: the repositories past them were "
		     "NOT "
		     "checked for hooks and configuration the sandbox wrote; review before "
		     "running git there",
		     root, GITSCAN_MAX_DIRS);
	if (s->skipped)
		warn("%s: %lu director%s deeper than %d levels, with paths longer than %d "
		     "bytes, or that cannot be read were NOT checked for repositories the "
		     "sandbox wrote; review before running git there",
		     root, s->skipped, s->skipped == 1 ? "y" : "ies", GITSCAN_MAX_DEPTH, PATH_MAX);
	json_string(js, sizeof(js), root);
	audit_event(sb->audit_fd, "protect.unchecked",
		    "\"path\":%s,\"dirs\":%lu,\"cut\":%s,\"skipped\":%lu", js, s->dirs,
		    s->cut ? "true" : "false", s->skipped);
}

static void scan_grant(const struct sandbox *sb, const char *grant, int found_fd)
{
	_cleanup_free_ char *root = realpath(grant, NULL);
	/* ringfence's own state (the stand-ins, seeded at start): out of the
	 * sandbox's reach, and no project (a review: claude-code.ini started
	 * in the home had its seeded ~/.claude moved aside as a project's) */
	_cleanup_free_ char *state = sb->state_root ? realpath(sb->state_root, NULL) : NULL;
	struct scan_firsts firsts;
	struct scan s = {.sb = sb,
			 .root = root,
			 .since = &sb->started_at,
			 .found_fd = found_fd,
			 .modes = true,
			 .firsts = &firsts,
			 .at_exit = found_fd < 0,
			 .skip = state};

	/* device and kernel file systems hold no repository */
	if (!root || landlock_path_beneath(root, "/dev") || landlock_path_beneath(root, "/proc") ||
	    landlock_path_beneath(root, "/sys"))
		return;
	/* with namespaces and private_tmp the sandbox's /tmp was not this one */
	if (sb->ns == NS_FULL && sb->policy && sb->policy->fs.private_tmp &&
	    (strcmp(root, "/tmp") == 0 || strcmp(root, "/dev/shm") == 0))
		return;
	_cleanup_close_ int fd = protect_open_dir_nofollow(root);
	if (fd < 0)
		return; /* no directory (a file granted by name), or gone */
	/* O_PATH cannot be listed: the same directory, opened to read */
	_cleanup_close_ int top = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0)
		return;
	scan_open_mode(&s, -1, top, root);
	/* the grant itself may be a git directory (a bare repository granted) */
	walk(&s, top, root, 0);
	walk_later(&s);
	move_foreign(sb, &s);
	scan_say_modes(&s);
	/* what was not looked at is said by the walk at exit */
	if (found_fd < 0 && (s.cut || s.skipped))
		say_unchecked(sb, &s, root);
}

void gitscan_grant(const struct sandbox *sb, const char *grant)
{
	scan_grant(sb, grant, -1);
}

void gitscan_all(const struct sandbox *sb, int found_fd)
{
	const struct policy *p = sb->policy;
	char **canon = calloc(p->fs.write.n + 1, sizeof(*canon));

	if (!canon)
		die("out of memory");
	for (size_t i = 0; i < p->fs.write.n; i++)
		canon[i] = realpath(p->fs.write.items[i].value, NULL);
	for (size_t i = 0; i < p->fs.write.n; i++) {
		bool inner = !canon[i];
		/* a grant within another is walked with it, once */
		for (size_t j = 0; j < p->fs.write.n && !inner; j++)
			inner = j != i && canon[j] && landlock_path_beneath(canon[i], canon[j]) &&
				(strcmp(canon[i], canon[j]) != 0 || j < i);
		if (!inner)
			scan_grant(sb, p->fs.write.items[i].value, found_fd);
	}
	for (size_t i = 0; i < p->fs.write.n; i++)
		free(canon[i]);
	free(canon);
}

/* The git directories in modules/ (a name may hold '/') below DIR (at
 * PATH), as check_modules() finds them. */
static void nested_modules(int dir, const char *path, int depth,
			   void (*fn)(void *ud, const char *path, bool worktree), void *ud)
{
	struct listing l;

	if (depth > GITSCAN_MODULES_DEPTH || scan_list_dir(dir, &l) < 0)
		return;
	for_each_entry(&l, de)
	{
		char sub[PATH_MAX];
		struct stat st;
		if (de->d_name[0] == '.' && (!de->d_name[1] || strcmp(de->d_name, "..") == 0))
			continue;
		if ((de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) ||
		    (size_t)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= sizeof(sub))
			continue;
		_cleanup_close_ int c =
		    openat(dir, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (c < 0)
			continue;
		if (fstatat(c, "HEAD", &st, AT_SYMLINK_NOFOLLOW) == 0)
			fn(ud, sub, false);
		else
			nested_modules(c, sub, depth + 1, fn, ud);
	}
	free(l.buf);
}

void gitscan_nested(const char *path, void (*fn)(void *ud, const char *path, bool worktree),
		    void *ud)
{
	char sub[PATH_MAX];
	struct listing l;
	_cleanup_close_ int g = protect_open_dir_nofollow(path);

	if (g < 0)
		return;
	if ((size_t)snprintf(sub, sizeof(sub), "%s/modules", path) < sizeof(sub)) {
		_cleanup_close_ int m =
		    openat(g, "modules", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (m >= 0)
			nested_modules(m, sub, 0, fn, ud);
	}
	_cleanup_close_ int w =
	    openat(g, "worktrees", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (w < 0 || scan_list_dir(w, &l) < 0)
		return;
	for_each_entry(&l, de)
	{
		struct stat st;
		if (de->d_name[0] == '.' ||
		    (size_t)snprintf(sub, sizeof(sub), "%s/worktrees/%s", path, de->d_name) >=
			sizeof(sub) ||
		    fstatat(w, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		fn(ud, sub, true);
	}
	free(l.buf);
}

void gitscan_names(const struct sandbox *sb, const char *top)
{
	struct scan s = {.sb = sb, .root = top, .since = &sb->started_at, .found_fd = -1};
	_cleanup_close_ int t = protect_open_dir_nofollow(top);

	if (t >= 0)
		check_names(&s, t, top);
}
