/* SPDX-License-Identifier: MIT */
/*
 * While the sandbox runs: an absent built-in name it creates (.mcp.json,
 * .envrc, .claude/settings.json, .git/commondir, ...) is moved aside at
 * once, not only when the sandbox has ended, so that a host tool started
 * meanwhile in the same project (the user's own agent, git, editor) does
 * not read it; and so is a repository made in the project (`git init sub`,
 * a `.git` renamed into a directory), whose config a host git entering it
 * would obey.
 *
 * inotify, because it needs no privilege and sees the host's directories
 * the same with or without namespaces (a mount namespace shares the
 * inodes).  Watched, from before the command starts (nothing can be made
 * before the watch is there):
 *   - every directory from a write grant down to the nearest existing
 *     directory of each absent built-in name, so that a directory on the
 *     way made, moved in or replaced during the run is watched in turn
 *     (and its entries looked at once the watch is there: whatever was
 *     made before it is found then);
 *   - the write grants where projects are and the directories protect.c's
 *     walk at start listed ("trees"): each directory made in one during the
 *     run is watched the same way, up to PW_MAX_DIRS.  A `.git` appearing
 *     in any of them is a repository made during the run (`git init`,
 *     `git clone`): a file or a link (a pointer elsewhere) is moved aside
 *     at once; a directory is watched, with its hooks, and moved aside as
 *     soon as it holds what a host git would run or follow: a config
 *     setting anything but the keys a clone or an init writes (remotes,
 *     branches, the repository format), a hook that is not a template's
 *     *.sample, a commondir or a config.worktree.
 *   - every other git directory beneath the write grants (deeper than the
 *     walk at start looks, a bare one by any name, one in a grant that is
 *     no project): a child of ours walks the grants as the walk at exit
 *     does (gitscan.c, at a lower priority) PW_FIND_AFTER_MS after the
 *     command starts (and again, PW_FIND_AGAIN_MS), checks what it finds,
 *     and hands each git directory over to be watched, with its hooks and the directory holding its
 * .git; what changes there is checked the same way at once (gitscan_gitdir()), and a few of them
 * again at each tick (PW_FOUND_PER_TICK) for a write through a mapping.  What the sandbox wrote
 * there before the walk reached it is moved aside when it is reached. Every name is resolved as the
 * host will resolve it, by a walk from "/" that follows no symlink; a symlink made on the way to a
 * protected name is moved aside itself.  A hard link or a prepared file renamed into place is an
 * IN_CREATE or IN_MOVED_TO like any other.
 *
 * The window: between the sandbox's creating a name and the supervisor's
 * moving it (the time to be scheduled and read one event: milliseconds on
 * a loaded machine, bench/window.sh).  A host tool that opens the name in
 * that window reads it; one woken by the same event races us for it.
 * Closing it would take refusing the creation, which only the file gate's
 * seccomp notifications can do name by name, at a cost on every
 * file-making call (fsgate.c; without namespaces, where Landlock leaves no
 * other way).  README says so, and what the exit check and the crash
 * journal (journal.c) add.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor.h"

#define PW_MASK                                                                                    \
	(IN_CREATE | IN_MOVED_TO | IN_MOVE_SELF | IN_DELETE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)
/* Directories made during the run that get a watch of their own (each is
 * ~1 KiB of kernel memory); past this a repository made deeper is left to
 * the checks at exit, and said at exit. */
#define PW_MAX_DIRS 8192
/* A write through a shared mapping (mmap) of a repository's config makes no
 * inotify event: the repositories made during the run are read again this
 * often while it runs, so that such a write is obeyed by a host git for at
 * most this long (and a scheduling delay), not until the sandbox ends. */
#define PW_AGAIN_MS 250
/* The git directories the walk while the sandbox runs hands over that are
 * watched (three watches each at most); past it the rest are checked at
 * exit only, and said. */
#define PW_MAX_FOUND 4096
/* The walk starts this long after the command: a command that has ended
 * by then needs none (the walk at exit looks at everything), and the fork
 * stays off the start-up of short commands (+0.4 ms measured) */
#define PW_FIND_AFTER_MS 50
/* ... and again this long after it ended, or twenty times as long as it
 * took, whichever is longer (at most about 5% of a CPU, at a lower
 * priority): a repository made during the run where nothing is watched is
 * found by the next walk */
#define PW_FIND_AGAIN_MS 2000
/* How long the walk has to stop at exit before it is killed */
#define PW_FIND_STOP_MS 2000
/* Of those, how many are checked again at each tick, in turn: a write
 * through a mapping makes no event (about 30 system calls each) */
#define PW_FOUND_PER_TICK 16
/* A test hook (doc/design.md): RINGFENCE_TEST_REREAD_MS, from this to
 * PW_AGAIN_MS, reads them again more often, so that a test waits a
 * fraction of the 250 ms; it can make the watch look more often, never
 * less. */
#define PW_AGAIN_MIN_MS 10
static long again_ms(void);
/* Lines on stderr for names moved while the command runs: a loop that
 * makes one name again and again gets a count at exit instead. */
#define PW_WARN_MAX 16

enum pw_kind {
	PW_PLAIN = 1, /* on the way to absent built-in names */
	PW_TREE,      /* also: new directories are watched, a new .git checked */
	PW_REPO,      /* a .git made during the run */
	PW_HOOKS,     /* its hooks */
	_PW_MAX,
};

/* What a watch is for a git directory found while the sandbox runs (one
 * watch may also have a kind above) */
enum pw_role {
	PW_NO_ROLE = 0,
	PW_FOUND_GIT, /* the git directory */
	PW_FOUND_ANY, /* its hooks, modules/, worktrees/, what its config
			 points at: every event there */
	PW_FOUND_TOP, /* the directory holding it as .git */
	_PW_ROLE_MAX,
};

struct pw_dir {
	char *path;	   /* canonical; NULL: no watch with this descriptor */
	enum pw_kind kind; /* 0: a role only */
	bool had_git;	   /* a .git was here at start (the project's, or one found at
			      start): protect.c keeps it in place, it is no new one */
	enum pw_role role;
	size_t found; /* with a role: its index in found[] */
};

struct pw_found {
	char *path;    /* the git directory, canonical */
	bool worktree; /* a linked worktree's (in a repository's worktrees/) */
	dev_t dev;     /* the directory watched there */
	ino_t ino;
	bool dirty; /* an event: checked after this batch */
};

struct protwatch {
	int fd;
	struct pw_dir *by_wd; /* indexed by watch descriptor (small, increasing) */
	size_t cap;
	size_t n_new;	     /* watches added during the run */
	unsigned long moved; /* names moved aside during the run */
	bool full;	     /* PW_MAX_DIRS reached */
	bool lost;	     /* the kernel's queue overflowed */
	bool deep;	     /* a directory past 64 levels or PATH_MAX: not watched */
	int timer;	     /* timerfd: repositories made during the run looked at
				again (again_ms()); armed with the first, or -1 */
	bool armed;
	/* the walk while the sandbox runs: its process, the pipe it hands
	 * git directories over on (a path may arrive in pieces), and what
	 * was handed over */
	pid_t finder;
	int finder_pidfd; /* its pidfd: signalled and waited for without a
			     race with the main loop's reaping */
	int finder_fd;
	char fbuf[PATH_MAX];
	size_t flen;
	struct pw_found *found;
	size_t n_found, next_found;
	bool any_dirty;
	bool find_pending;	  /* started at the first tick */
	long find_started_ms;	  /* CLOCK_MONOTONIC */
	long find_next_ms;	  /* the next walk, once one has ended; 0: none */
	unsigned long found_over; /* past PW_MAX_FOUND or unwatchable */
};

static bool is_target(const struct sandbox *sb, const char *path)
{
	for (size_t i = 0; i < sb->n_watch; i++)
		if (strcmp(sb->watch[i], path) == 0)
			return true;
	return false;
}

/* Whether PATH is a directory on the way to an absent built-in name. */
static bool on_the_way(const struct sandbox *sb, const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < sb->n_watch; i++)
		if (strncmp(sb->watch[i], path, n) == 0 && sb->watch[i][n] == '/')
			return true;
	return false;
}

static int record(struct protwatch *pw, int wd, const char *path, enum pw_kind kind, bool had_git)
{
	if ((size_t)wd >= pw->cap) {
		size_t cap = pw->cap ? pw->cap : 64;
		while (cap <= (size_t)wd)
			cap *= 2;
		struct pw_dir *v = realloc(pw->by_wd, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memset(v + pw->cap, 0, (cap - pw->cap) * sizeof(*v));
		pw->by_wd = v;
		pw->cap = cap;
	}
	struct pw_dir *d = &pw->by_wd[wd];
	if (!d->path || strcmp(d->path, path) != 0) {
		/* a watch follows its directory: one found again under another
		 * name (moved, by the sandbox or by us aside) is judged by where
		 * it is now, never by what it was (a repository moved aside
		 * is a plain directory; kept as one, it was checked, moved
		 * again, and again, until its name grew too long) */
		char *c = strdup(path);
		if (!c)
			return -ENOMEM;
		free(d->path);
		d->path = c;
		d->kind = kind;
		d->had_git = had_git;
		d->role = PW_NO_ROLE;
		return 0;
	}
	if (!d->kind || (d->kind == PW_PLAIN && kind == PW_TREE))
		d->kind = kind;
	d->had_git = d->had_git || had_git;
	return 0;
}

/* Before the command starts: nothing races, the paths are canonical. */
static int watch_path(struct protwatch *pw, const char *path, bool tree)
{
	char git[PATH_MAX];
	struct stat st;

	/* most absent names lie in the same few directories: watched once
	 * (trees come first, so a directory seen here has its kind) */
	for (size_t i = 0; i < pw->cap; i++)
		if (pw->by_wd[i].path && strcmp(pw->by_wd[i].path, path) == 0)
			return 0;
	int wd = inotify_add_watch(pw->fd, path, PW_MASK | IN_DONT_FOLLOW);
	if (wd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == EACCES ? 0 : -errno;
	snprintf(git, sizeof(git), "%s/.git", path);
	return record(pw, wd, path, tree ? PW_TREE : PW_PLAIN, tree && lstat(git, &st) == 0);
}

static void handle(struct sandbox *sb, const struct pw_dir *dir, const char *name, int type,
		   int depth, bool again);
static void move(struct sandbox *sb, const char *path);

/* The tick (PW_AGAIN_MS) from FIRST ms on. */
static void arm_at(struct protwatch *pw, long first)
{
	struct itimerspec it = {
	    .it_interval = {0, again_ms() * 1000000L},
	    .it_value = {0, first * 1000000L},
	};

	if (!pw->armed && pw->timer >= 0)
		pw->armed = timerfd_settime(pw->timer, 0, &it, NULL) == 0;
}

static void arm(struct protwatch *pw)
{
	arm_at(pw, again_ms());
}

/* During the run: the directory PATH just made (or moved in), reached
 * following no symlink, watched, then looked through for what was made in
 * it before the watch was there.  AGAIN: a directory watched already, looked
 * through again after events were lost.  False when it could not be watched
 * (no more watches): the caller decides what is safe. */
static bool watch_new(struct sandbox *sb, const char *path, enum pw_kind kind, int depth,
		      bool again)
{
	struct protwatch *pw = sb->protwatch;
	char proc[64];
	int wd;

	if (pw->n_new >= PW_MAX_DIRS) {
		pw->full = true;
		return false;
	}
	_cleanup_close_ int o = protect_open_dir_nofollow(path);
	if (o < 0)
		return true; /* gone (or replaced by a link: an event of its own) */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o);
	/* in a repository made during the run, files changed in place too */
	uint32_t mask =
	    PW_MASK |
	    (kind == PW_REPO || kind == PW_HOOKS ? IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB : 0);
	wd = inotify_add_watch(pw->fd, proc, mask);
	if (wd < 0 && errno == ENOENT) /* no /proc: by name */
		wd = inotify_add_watch(pw->fd, path, mask | IN_DONT_FOLLOW);
	if (wd < 0) {
		pw->full = true;
		return false;
	}
	pw->n_new++;
	if (record(pw, wd, path, kind, false) < 0)
		return false;
	if (kind == PW_REPO)
		arm(pw);
	struct pw_dir self = pw->by_wd[wd];
	self.path = strdup(path); /* by_wd may move while we recurse */
	if (!self.path)
		return false;
	int r = openat(o, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = r >= 0 ? fdopendir(r) : NULL;
	struct dirent *de;
	if (!d) {
		if (r >= 0)
			close(r);
		free(self.path);
		return false;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			handle(sb, &self, de->d_name, de->d_type, depth + 1, again);
	closedir(d);
	free(self.path);
	return true;
}

static void move(struct sandbox *sb, const char *path)
{
	struct protwatch *pw = sb->protwatch;
	/* past PW_WARN_MAX: a count at exit; the audit log has each one */
	int r = protect_move_aside(sb, path, "protect.blocked",
				   pw->moved >= PW_WARN_MAX ? MOVE_LIVE_QUIET : MOVE_LIVE);

	if (r > 0)
		pw->moved++; /* (one not moved is said on its own line) */
}

/*
 * What a host git obeys in a configuration: only the keys `git init` and
 * `git clone` write (and a few that change no command) may be set in a
 * repository made during the run.  An allow-list, because the keys that run
 * a command are many and grow (core.fsmonitor, core.hooksPath,
 * core.sshCommand, alias.*, filter.*, diff.*.textconv, include.path, ...).
 */
static const struct {
	const char *section;
	bool sub; /* [section "sub"] */
	const char *key;
} cfg_allowed[] = {
    {"core", false, "repositoryformatversion"},
    {"core", false, "filemode"},
    {"core", false, "bare"},
    {"core", false, "logallrefupdates"},
    {"core", false, "symlinks"},
    {"core", false, "ignorecase"},
    {"core", false, "precomposeunicode"},
    {"core", false, "autocrlf"},
    {"core", false, "sparsecheckout"},
    {"core", false, "sparsecheckoutcone"},
    {"remote", true, "url"},
    {"remote", true, "pushurl"},
    {"remote", true, "fetch"},
    {"remote", true, "push"},
    {"remote", true, "tagopt"},
    {"remote", true, "promisor"},
    {"remote", true, "partialclonefilter"},
    {"remote", true, "mirror"},
    {"branch", true, "remote"},
    {"branch", true, "merge"},
    {"branch", true, "rebase"},
    {"extensions", false, "objectformat"},
    {"extensions", false, "refstorage"},
    {"extensions", false, "partialclone"},
    {"submodule", true, "url"},
    {"submodule", true, "active"},
    {"user", false, "name"},
    {"user", false, "email"},
    {"init", false, "defaultbranch"},
    {"pull", false, "rebase"},
    {"lfs", false, "repositoryformatversion"},
    {"index", false, "version"},
};

static bool cfg_key_ok(const char *sec, size_t seclen, bool sub, const char *key, size_t keylen)
{
	for (size_t i = 0; i < ARRAY_SIZE(cfg_allowed); i++)
		if (cfg_allowed[i].sub == sub && strlen(cfg_allowed[i].section) == seclen &&
		    strncasecmp(cfg_allowed[i].section, sec, seclen) == 0 &&
		    strlen(cfg_allowed[i].key) == keylen &&
		    strncasecmp(cfg_allowed[i].key, key, keylen) == 0)
			return true;
	return false;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

/*
 * Whether the configuration BUF sets only allowed keys.  Stricter than git
 * (gitconfig(5)): a backslash or a double quote in a value, a key after a
 * section header on its line, or anything unclear refuses the file, so that
 * no continuation line or quoting can hide a key from this reading.
 */
bool protwatch_config_ok(const char *buf, size_t n)
{
	const char *sec = NULL;
	size_t seclen = 0;
	bool sub = false;

	const char *l;
	size_t len;

	if (memchr(buf, '\0', n))
		return false;
	for (size_t at = 0; gitconfig_line(buf, n, &at, &l, &len);) {
		if (*l == '[') {
			const char *end = memchr(l, ']', len);
			size_t i = 1;
			if (!end || (size_t)(end - l) + 1 != len)
				return false; /* something after the header */
			sec = l + 1;
			while (l + i < end && (name_char(l[i]) || l[i] == '.'))
				i++;
			seclen = i - 1;
			sub = false;
			if (l + i < end) {
				/* [section "sub"]: nothing but a plain subsection */
				if (l[i] != ' ' || l + i + 2 > end || l[i + 1] != '"' ||
				    end[-1] != '"' || end - 1 <= l + i + 1)
					return false;
				for (const char *c = l + i + 2; c < end - 1; c++)
					if (*c == '"' || *c == '\\')
						return false;
				sub = true;
			} else if (memchr(sec, '.', seclen)) {
				/* the old [section.sub] */
				seclen = (size_t)((const char *)memchr(sec, '.', seclen) - sec);
				sub = true;
			}
			if (!seclen)
				return false;
			continue;
		}
		size_t k = 0;
		while (k < len && name_char(l[k]))
			k++;
		if (!k || !sec || (k < len && l[k] != ' ' && l[k] != '\t' && l[k] != '='))
			return false;
		if (memchr(l, '\\', len) || memchr(l, '"', len))
			return false;
		if (!cfg_key_ok(sec, seclen, sub, l, k))
			return false;
	}
	return true;
}

/* Whether the repository made during the run at GIT (a directory) holds
 * nothing a host git would run or follow; else a reason in WHY. */
static bool repo_ok(const char *git, char *why, size_t size)
{
	_cleanup_close_ int g = protect_open_dir_nofollow(git);
	struct stat st;
	char buf[65536];

	if (g < 0)
		return true; /* gone: what replaced it is an event of its own */
	for (const char *const *n = (const char *const[]){"commondir", "config.worktree", NULL}; *n;
	     n++)
		if (fstatat(g, *n, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			snprintf(why, size, "%s", *n);
			return false;
		}
	int c = openat(g, "config", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (c < 0 && errno != ENOENT) {
		snprintf(why, size, "config (%s)", strerror(errno));
		return false;
	}
	if (c >= 0) {
		ssize_t got = -1;
		bool ok_st = fstat(c, &st) == 0 && S_ISREG(st.st_mode);
		/* one link only: a second name elsewhere could change it unseen
		 * (git writes its config by a rename, with one link) */
		if (ok_st && st.st_nlink == 1 && st.st_size < (off_t)sizeof(buf))
			got = read(c, buf, sizeof(buf));
		/* replaced since we opened it, before or while we read (git
		 * renames config.lock over it): the new one's own event checks
		 * it.  One fstat() for the decision, and one after the read:
		 * two before it let a rename in between read as a bad config */
		if (ok_st && (st.st_nlink == 0 || (fstat(c, &st) == 0 && st.st_nlink == 0))) {
			close(c);
			goto hooks;
		}
		close(c);
		if (got < 0 || got == (ssize_t)sizeof(buf) ||
		    !protwatch_config_ok(buf, (size_t)got)) {
			snprintf(why, size, "config sets what a host git would run");
			return false;
		}
	}
hooks:
	if (fstatat(g, "hooks", &st, AT_SYMLINK_NOFOLLOW) < 0)
		return true;
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, size, "hooks is no directory");
		return false;
	}
	int h = openat(g, "hooks", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = h >= 0 ? fdopendir(h) : NULL;
	struct dirent *de;
	bool ok = d != NULL;
	if (!d && h >= 0)
		close(h);
	while (d && ok && (de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* git runs hooks/NAME, never a template's NAME.sample */
		if (l < 7 || strcmp(de->d_name + l - 7, ".sample") != 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode)) {
			snprintf(why, size, "hooks/%s", de->d_name);
			ok = false;
		}
	}
	if (d)
		closedir(d);
	return ok;
}

/* A repository made during the run that cannot be watched (the watch
 * limits, or inotify's own): moved aside, as what cannot be checked. */
static void unfollowed(struct sandbox *sb, const char *git)
{
	if (sb->protwatch->moved < PW_WARN_MAX)
		warn("%s: a repository made during the run that cannot be watched (%s)", git,
		     sb->protwatch->full ? "the watch limits were reached" : "inotify refused");
	move(sb, git);
}

static void check_repo(struct sandbox *sb, const char *git)
{
	char why[NAME_MAX + 64];

	if (!repo_ok(git, why, sizeof(why))) {
		if (sb->protwatch->moved < PW_WARN_MAX)
			warn("%s: %s", git, why); /* the line after says what is done */
		move(sb, git);
	}
}

static bool bulk_name(const char *name)
{
	static const char *const bulk[] = {"node_modules", "target", "__pycache__", ".venv"};

	for (size_t i = 0; i < ARRAY_SIZE(bulk); i++)
		if (strcmp(name, bulk[i]) == 0)
			return true;
	return false;
}

/* NAME appeared (or changed, in a repository) in the watched directory DIR.
 * AGAIN: it may have been there before (events were lost): only what can be
 * told new is handled. */
static void handle(struct sandbox *sb, const struct pw_dir *dir, const char *name, int type,
		   int depth, bool again)
{
	char path[PATH_MAX];
	struct stat st;

	if (depth > 64 ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", strcmp(dir->path, "/") ? dir->path : "",
			     name) >= sizeof(path)) {
		sb->protwatch->deep = true; /* said at exit */
		return;
	}
	if (is_target(sb, path)) {
		move(sb, path);
		return;
	}
	switch (dir->kind) {
	case PW_REPO:
		if (strcmp(name, "hooks") == 0 && lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
		    !watch_new(sb, path, PW_HOOKS, depth, again)) {
			unfollowed(sb, dir->path); /* a repository we cannot follow */
			return;
		}
		if (strcmp(name, "config") == 0 || strcmp(name, "hooks") == 0 ||
		    strcmp(name, "commondir") == 0 || strcmp(name, "config.worktree") == 0)
			check_repo(sb, dir->path);
		return;
	case PW_HOOKS: {
		char git[PATH_MAX];
		const char *slash = strrchr(dir->path, '/');
		snprintf(git, sizeof(git), "%.*s", (int)(slash - dir->path), dir->path);
		check_repo(sb, git);
		return;
	}
	case PW_TREE:
		if (strcmp(name, ".git") != 0 || dir->had_git)
			break;
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (watch_new(sb, path, PW_REPO, depth, again))
				check_repo(sb, path);
			else
				unfollowed(sb, path); /* a repository we cannot follow */
		} else {
			move(sb, path); /* a pointer to a repository elsewhere */
		}
		return;
	case PW_PLAIN:
		break;
	case _PW_MAX:
	default:
		return;
	}
	bool way = on_the_way(sb, path);
	bool tree = dir->kind == PW_TREE;
	/* most of what is made in a tree is files: no lstat() for them */
	if (!way && (!tree || again || (type != DT_DIR && type != DT_UNKNOWN)))
		return;
	if (lstat(path, &st) < 0)
		return;
	if (S_ISLNK(st.st_mode) && way) {
		/* made during the run, on the way to a protected name: the
		 * host would follow it */
		move(sb, path);
		return;
	}
	/* package and build trees: thousands of directories, where no host
	 * tool is started (README) */
	if (S_ISDIR(st.st_mode) && (way || !bulk_name(name)) &&
	    !watch_new(sb, path, tree && strcmp(name, ".git") != 0 ? PW_TREE : PW_PLAIN, depth,
		       false) &&
	    way)
		move(sb, path); /* on the way to a protected name, and unwatched */
}

/* ---- the git directories found while the sandbox runs -------------------- */

#define PW_FOUND_MASK                                                                              \
	(IN_CREATE | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVE_SELF |         \
	 IN_DELETE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)

/* A watch with ROLE on the directory PATH for found[IDX], added to any a
 * watch there has already; false when it could not be placed. */
static bool watch_role(struct protwatch *pw, const char *path, enum pw_role role, size_t idx,
		       uint32_t mask)
{
	_cleanup_close_ int o = protect_open_dir_nofollow(path);
	char proc[64];
	int wd;

	if (o < 0)
		return errno == ENOENT || errno == ENOTDIR; /* nothing to watch */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o);
	wd = inotify_add_watch(pw->fd, proc, mask | IN_MASK_ADD);
	if (wd < 0 && errno == ENOENT) /* no /proc: by name */
		wd = inotify_add_watch(pw->fd, path, mask | IN_MASK_ADD | IN_DONT_FOLLOW);
	if (wd < 0 || record(pw, wd, path, 0, false) < 0)
		return false;
	pw->by_wd[wd].role = role;
	pw->by_wd[wd].found = idx;
	return true;
}

/* The regular file NAME in the directory DIR (canonical), watched with
 * ROLE for found[IDX]: a write through another name of it (a hard link
 * elsewhere) is an event only where the file itself is watched. */
static bool watch_file_role(struct protwatch *pw, const char *dir, const char *name,
			    enum pw_role role, size_t idx)
{
	char path[PATH_MAX], proc[64];
	struct stat st;
	int wd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return false;
	_cleanup_close_ int d = protect_open_dir_nofollow(dir);
	_cleanup_close_ int o = d >= 0 ? openat(d, name, O_PATH | O_NOFOLLOW | O_CLOEXEC) : -1;
	if (o < 0 || fstat(o, &st) < 0 || !S_ISREG(st.st_mode))
		return true; /* nothing to watch (a link is the walk's) */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o);
	wd = inotify_add_watch(pw->fd, proc, (PW_FOUND_MASK & ~(uint32_t)IN_ONLYDIR) | IN_MASK_ADD);
	if (wd < 0 || record(pw, wd, path, 0, false) < 0)
		return false;
	pw->by_wd[wd].role = role;
	pw->by_wd[wd].found = idx;
	return true;
}

/* found[I]'s watches: its git directory, hooks, and the directory holding
 * it as .git; placed again when what is there is another directory. */
static void found_watch(struct protwatch *pw, size_t i)
{
	struct pw_found *f = &pw->found[i];
	char sub[PATH_MAX];
	struct stat st;
	size_t n = strlen(f->path);
	_cleanup_close_ int g = protect_open_dir_nofollow(f->path);
	bool ok = true;

	if (g < 0 || fstat(g, &st) < 0)
		return; /* gone: what takes its place is looked for at each check */
	if (st.st_dev != f->dev || st.st_ino != f->ino) {
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		ok = watch_role(pw, f->path, PW_FOUND_GIT, i, PW_FOUND_MASK);
		if (n > 5 && strcmp(f->path + n - 5, "/.git") == 0) {
			snprintf(sub, sizeof(sub), "%.*s", (int)(n - 5), f->path);
			ok = watch_role(pw, sub[0] ? sub : "/", PW_FOUND_TOP, i, PW_MASK) && ok;
		}
	}
	/* hooks may be made, or replaced, at any time; so may the git
	 * directories of submodules and linked worktrees */
	for (const char *const *d = (const char *const[]){"hooks", "modules", "worktrees", NULL};
	     *d; d++)
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", f->path, *d) < sizeof(sub))
			ok = watch_role(pw, sub, PW_FOUND_ANY, i, PW_FOUND_MASK) && ok;
	/* and the files git reads as commands, each itself (each check: git
	 * replaces them by a rename) */
	for (const char *const *fn =
		 (const char *const[]){"config", "config.worktree", "commondir", NULL};
	     *fn; fn++)
		ok = watch_file_role(pw, f->path, *fn, PW_FOUND_ANY, i) && ok;
	if ((size_t)snprintf(sub, sizeof(sub), "%s/hooks", f->path) < sizeof(sub)) {
		_cleanup_close_ int h = protect_open_dir_nofollow(sub);
		int r = h >= 0 ? openat(h, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		DIR *dd = r >= 0 ? fdopendir(r) : NULL;
		struct dirent *de;
		if (!dd && r >= 0)
			close(r);
		while (dd && (de = readdir(dd))) {
			size_t l = strlen(de->d_name);
			if (de->d_type == DT_REG &&
			    !(l > 7 && strcmp(de->d_name + l - 7, ".sample") == 0))
				ok = watch_file_role(pw, sub, de->d_name, PW_FOUND_ANY, i) && ok;
		}
		if (dd)
			closedir(dd);
	}
	if (!ok)
		pw->found_over++;
}

struct pointed_ctx {
	struct protwatch *pw;
	size_t i;
};

/* What found[I]'s config points at in a write grant (a hooks path, an
 * included file): watched, a file by its directory. */
static void on_pointed(void *ud, const char *path)
{
	struct pointed_ctx *c = ud;
	char dir[PATH_MAX];
	struct stat st;
	const char *slash = strrchr(path, '/');

	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(dir, sizeof(dir), "%s", path);
	} else if (slash) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	} else {
		return;
	}
	if (!watch_role(c->pw, dir[0] ? dir : "/", PW_FOUND_ANY, c->i, PW_FOUND_MASK))
		c->pw->found_over++;
}

static void found_add(struct sandbox *sb, const char *path, bool worktree);

static void on_nested(void *ud, const char *path, bool worktree)
{
	found_add(ud, path, worktree);
}

/* found[I] checked now, as the walk at exit checks it. */
static void found_check(struct sandbox *sb, size_t i)
{
	struct protwatch *pw = sb->protwatch;
	char path[PATH_MAX];
	size_t n = strlen(pw->found[i].path);

	pw->found[i].dirty = false;
	snprintf(path, sizeof(path), "%s", pw->found[i].path);
	/* a .git replaced by a file or a link: a pointer elsewhere */
	if (n > 5 && strcmp(path + n - 5, "/.git") == 0)
		gitscan_pointer(sb, path);
	bool worktree = pw->found[i].worktree;
	struct pointed_ctx pc = {pw, i};
	found_watch(pw, i);
	gitscan_gitdir(sb, path, worktree, on_pointed, &pc);
	/* submodules' and linked worktrees' git directories: found too */
	if (!worktree)
		gitscan_nested(path, on_nested, sb);
	/* and the project's other names (.mcp.json, .vscode, ...) */
	if (n > 5 && strcmp(path + n - 5, "/.git") == 0) {
		path[n - 5] = '\0';
		gitscan_names(sb, path[0] ? path : "/");
	}
}

/* An event on a watch with a role: its repository is checked after the
 * batch (a commit makes many events; one check). */
static void found_event(struct protwatch *pw, const struct pw_dir *d,
			const struct inotify_event *ev)
{
	static const char *const git_names[] = {"config", "config.worktree", "commondir",
						"hooks",  "modules",	     "worktrees"};
	bool hit =
	    (ev->mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_Q_OVERFLOW)) || d->role == PW_FOUND_ANY;

	for (size_t i = 0; !hit && ev->len && d->role == PW_FOUND_GIT && i < ARRAY_SIZE(git_names);
	     i++)
		hit = strcmp(ev->name, git_names[i]) == 0;
	if (!hit && ev->len && d->role == PW_FOUND_TOP) {
		/* .git, or the first name of a project's built-in one */
		const char **names;
		size_t n = protect_builtin_names(false, &names), l = strlen(ev->name);
		for (size_t i = 0; !hit && i < n; i++)
			hit = strncmp(names[i], ev->name, l) == 0 &&
			      (names[i][l] == '\0' || names[i][l] == '/');
	}
	if (hit && d->found < pw->n_found)
		pw->found[d->found].dirty = pw->any_dirty = true;
}

static void found_flush(struct sandbox *sb)
{
	struct protwatch *pw = sb->protwatch;

	if (!pw->any_dirty)
		return;
	pw->any_dirty = false;
	for (size_t i = 0; i < pw->n_found; i++)
		if (pw->found[i].dirty)
			found_check(sb, i);
}

static void found_add(struct sandbox *sb, const char *path, bool worktree)
{
	struct protwatch *pw = sb->protwatch;

	for (size_t i = 0; i < pw->n_found; i++)
		if (strcmp(pw->found[i].path, path) == 0)
			return;
	if (pw->n_found >= PW_MAX_FOUND) {
		pw->found_over++;
		return;
	}
	struct pw_found *v = realloc(pw->found, (pw->n_found + 1) * sizeof(*v));
	if (!v) {
		pw->found_over++;
		return;
	}
	pw->found = v;
	v[pw->n_found] = (struct pw_found){.path = strdup(path), .worktree = worktree};
	if (!v[pw->n_found].path) {
		pw->found_over++;
		return;
	}
	pw->n_found++;
	arm(pw);
	/* checked once more with the watches there: the walk's check came
	 * before them */
	found_check(sb, pw->n_found - 1);
}

/* In the walk's process: every descriptor closed but the standard ones,
 * the pipe to us and the audit log (what it moves aside is logged). */
static void close_all_but(int a, int b)
{
	int keep[2] = {a < b ? a : b, a < b ? b : a};
	unsigned lo = 3;

	for (size_t i = 0; i < 2; i++) {
		if (keep[i] < (int)lo)
			continue;
		if ((unsigned)keep[i] > lo)
			syscall(SYS_close_range, lo, (unsigned)keep[i] - 1, 0);
		lo = (unsigned)keep[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0U, 0);
}

void protwatch_find(struct sandbox *sb)
{
	struct protwatch *pw = sb->protwatch;

	if (!pw || pw->fd < 0 || pw->finder_pidfd >= 0 || !sb->policy->fs.write.n)
		return;
	pw->find_pending = true;
	arm_at(pw, PW_FIND_AFTER_MS);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The walk's process, from the first tick, and again (PW_FIND_AGAIN_MS). */
static void start_finder(struct sandbox *sb)
{
	struct protwatch *pw = sb->protwatch;
	pid_t parent = getpid();
	int p[2];

	pw->find_pending = false;
	if (pipe2(p, O_CLOEXEC) < 0) {
		warn("the repositories in the write grants are not watched while the sandbox runs "
		     "(pipe2: %s): they are checked when it has ended",
		     strerror(errno));
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(0);
		/* less of the command's time; not SCHED_IDLE, which a command
		 * keeping every CPU busy would starve the walk with */
		(void)!setpriority(PRIO_PROCESS, 0, 10);
		close_all_but(p[1], sb->audit_fd);
		gitscan_all(sb, p[1]);
		_exit(0);
	}
	close(p[1]);
	int pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	if (pidfd < 0) {
		warn("the repositories in the write grants are not watched while the sandbox runs "
		     "(%s: %s): they are checked when it has ended",
		     pid < 0 ? "fork" : "pidfd_open", strerror(errno));
		if (pid > 0)
			kill(pid, SIGKILL); /* not reaped yet: the pid is still its */
		close(p[0]);
		return;
	}
	(void)!fcntl(p[0], F_SETFL, O_NONBLOCK);
	pw->find_started_ms = now_ms();
	pw->finder = pid;
	pw->finder_pidfd = pidfd;
	pw->finder_fd = p[0];
}

int protwatch_find_fd(const struct sandbox *sb)
{
	return sb->protwatch ? sb->protwatch->finder_fd : -1;
}

void protwatch_find_read(struct sandbox *sb)
{
	struct protwatch *pw = sb->protwatch;
	ssize_t n;

	if (!pw || pw->finder_fd < 0)
		return;
	n = read(pw->finder_fd, pw->fbuf + pw->flen, sizeof(pw->fbuf) - pw->flen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* done (reaped by the main loop) */
		long now = now_ms(), took = now - pw->find_started_ms;
		close(pw->finder_fd);
		close(pw->finder_pidfd);
		pw->finder_fd = pw->finder_pidfd = -1;
		pw->flen = 0;
		pw->find_next_ms =
		    now + (took * 20 > PW_FIND_AGAIN_MS ? took * 20 : PW_FIND_AGAIN_MS);
		return;
	}
	pw->flen += (size_t)n;
	size_t start = 0;
	for (size_t i = 0; i < pw->flen; i++)
		if (pw->fbuf[i] == '\0') {
			found_add(sb, pw->fbuf + start, false);
			start = i + 1;
		}
	/* each path is written whole (< PIPE_BUF): a buffer full without one
	 * cannot be, but is not kept */
	if (start == 0 && pw->flen == sizeof(pw->fbuf))
		start = pw->flen;
	memmove(pw->fbuf, pw->fbuf + start, pw->flen - start);
	pw->flen -= start;
}

/* PW_AGAIN_MS, or RINGFENCE_TEST_REREAD_MS: read once, at the first start
 * (before the command starts); a bad value ends the run as bad input does. */
static long again_ms(void)
{
	static long ms;
	const char *v;
	char *end;
	long n;

	if (ms)
		return ms;
	ms = PW_AGAIN_MS;
	v = getenv("RINGFENCE_TEST_REREAD_MS");
	if (!v)
		return ms;
	errno = 0;
	n = strtol(v, &end, 10);
	if (*v < '0' || *v > '9' || *end || errno || n < PW_AGAIN_MIN_MS || n > PW_AGAIN_MS)
		die("RINGFENCE_TEST_REREAD_MS: '%s' is not a number of milliseconds from %d to %d",
		    v, PW_AGAIN_MIN_MS, PW_AGAIN_MS);
	return ms = n;
}

int protwatch_start(struct sandbox *sb)
{
	struct protwatch *pw;
	int r = 0;

	(void)again_ms();
	protwatch_stop(sb);
	if (!sb->n_watch && !sb->n_prot_trees)
		return 0;
	pw = calloc(1, sizeof(*pw));
	if (!pw)
		return -ENOMEM;
	sb->protwatch = pw;
	pw->timer = -1;
	pw->finder_fd = pw->finder_pidfd = -1;
	pw->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (pw->fd >= 0) {
		pw->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (pw->timer < 0) {
			r = -errno;
			protwatch_stop(sb);
			return r;
		}
	}
	if (pw->fd < 0) {
		r = -errno;
		protwatch_stop(sb);
		return r;
	}
	for (size_t i = 0; i < sb->n_prot_trees && r >= 0; i++)
		r = watch_path(pw, sb->prot_trees[i], true);
	/* each absent name: the directories from its grant to the nearest
	 * one that exists */
	for (size_t i = 0; i < sb->n_watch && r >= 0; i++) {
		const char *t = sb->watch[i], *root = NULL;
		char buf[PATH_MAX];
		for (size_t j = 0; j < sb->n_prot_roots; j++)
			if (landlock_path_beneath(t, sb->prot_roots[j]) &&
			    (!root || strlen(sb->prot_roots[j]) < strlen(root)))
				root = sb->prot_roots[j];
		if (!root || strlen(t) >= sizeof(buf))
			continue;
		snprintf(buf, sizeof(buf), "%s", t);
		for (char *s = buf + strlen(root); s && r >= 0; s = strchr(s + 1, '/')) {
			struct stat st;
			char c = *s;
			*s = '\0';
			/* the grant itself was found a directory when planned */
			bool there = s == buf + strlen(root) ||
				     (lstat(buf[0] ? buf : "/", &st) == 0 && S_ISDIR(st.st_mode));
			if (there)
				r = watch_path(pw, buf[0] ? buf : "/", false);
			*s = c;
			if (!there)
				break;
		}
	}
	if (r < 0)
		protwatch_stop(sb);
	return r;
}

int protwatch_fd(const struct sandbox *sb)
{
	return sb->protwatch ? sb->protwatch->fd : -1;
}

int protwatch_timer_fd(const struct sandbox *sb)
{
	return sb->protwatch && sb->protwatch->armed ? sb->protwatch->timer : -1;
}

/* The repositories made during the run, read again (see PW_AGAIN_MS). */
static void check_repos(struct sandbox *sb)
{
	struct protwatch *pw = sb->protwatch;

	for (size_t wd = 0; wd < pw->cap; wd++)
		if (pw->by_wd[wd].path && pw->by_wd[wd].kind == PW_REPO) {
			char *path = strdup(pw->by_wd[wd].path);
			if (path)
				check_repo(sb, path);
			free(path);
		}
}

void protwatch_tick(struct sandbox *sb)
{
	uint64_t n;

	if (!sb->protwatch || sb->protwatch->timer < 0)
		return;
	while (read(sb->protwatch->timer, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	struct protwatch *pw = sb->protwatch;
	if (pw->find_pending ||
	    (pw->find_next_ms && pw->finder_pidfd < 0 && now_ms() >= pw->find_next_ms))
		start_finder(sb);
	check_repos(sb);
	/* the git directories the walk found, a few in turn */
	for (size_t k = 0; k < PW_FOUND_PER_TICK && k < pw->n_found; k++)
		found_check(sb, pw->next_found++ % pw->n_found);
}

void protwatch_dispatch(struct sandbox *sb)
{
	struct protwatch *pw = sb->protwatch;
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	if (!pw)
		return;
	while ((n = read(pw->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* events were lost: look again at every watched
				 * directory for protected names; a directory made
				 * meanwhile cannot be told from an old one, and is
				 * said at exit */
				pw->lost = true;
				for (size_t i = 0; i < pw->n_found; i++)
					pw->found[i].dirty = pw->any_dirty = true;
				for (size_t wd = 0; wd < pw->cap; wd++)
					if (pw->by_wd[wd].path && pw->by_wd[wd].kind) {
						char *path = strdup(pw->by_wd[wd].path);
						enum pw_kind kind = pw->by_wd[wd].kind;
						if (path)
							watch_new(sb, path, kind, 0, true);
						free(path);
					}
				continue;
			}
			if (ev->wd < 0 || (size_t)ev->wd >= pw->cap || !pw->by_wd[ev->wd].path)
				continue;
			struct pw_dir *d = &pw->by_wd[ev->wd];
			if (d->role)
				found_event(pw, d, ev);
			/* a watch of a found repository's gone (its directory
			 * moved, even away and back): placed again at its check */
			if (d->role && d->found < pw->n_found &&
			    (ev->mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_IGNORED)))
				pw->found[d->found].dev = pw->found[d->found].ino = 0;
			if (ev->mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_IGNORED)) {
				/* no longer where the host looks: what takes its
				 * place is an event in its parent */
				if (!(ev->mask & IN_IGNORED))
					inotify_rm_watch(pw->fd, ev->wd);
				free(d->path);
				d->path = NULL;
				d->kind = 0;
				d->had_git = false;
				d->role = PW_NO_ROLE;
				continue;
			}
			if (!d->kind)
				continue; /* a role only */
			if (ev->len && ev->mask & (IN_CREATE | IN_MOVED_TO | IN_MODIFY |
						   IN_CLOSE_WRITE | IN_ATTRIB)) {
				struct pw_dir copy = *d;
				copy.path = strdup(d->path);
				if (copy.path)
					handle(sb, &copy, ev->name,
					       ev->mask & IN_ISDIR ? DT_DIR : DT_REG, 0, false);
				free(copy.path);
			}
		}
	}
	found_flush(sb);
}

static void pw_free(struct sandbox *sb, bool late)
{
	if (!sb->protwatch)
		return;
	/* init's copy is not the last: closed at once */
	if (!late || protect_close_later(sb->protwatch->fd) < 0)
		close(sb->protwatch->fd);
	if (sb->protwatch->timer >= 0)
		close(sb->protwatch->timer);
	if (sb->protwatch->finder_fd >= 0)
		close(sb->protwatch->finder_fd);
	if (sb->protwatch->finder_pidfd >= 0)
		close(sb->protwatch->finder_pidfd);
	for (size_t i = 0; i < sb->protwatch->n_found; i++)
		free(sb->protwatch->found[i].path);
	free(sb->protwatch->found);
	for (size_t i = 0; i < sb->protwatch->cap; i++)
		free(sb->protwatch->by_wd[i].path);
	free(sb->protwatch->by_wd);
	free(sb->protwatch);
	sb->protwatch = NULL;
}

void protwatch_forget(struct sandbox *sb)
{
	pw_free(sb, false);
}

void protwatch_stop(struct sandbox *sb)
{
	struct protwatch *pw = sb->protwatch;

	if (!pw)
		return;
	/* the walk at exit comes after: the one while it ran ends here, at
	 * its next directory (its pipe closed: gitscan.c looks), so that
	 * nothing it moves aside goes unsaid; killed if it does not */
	if (pw->finder_pidfd >= 0) {
		struct pollfd pf = {.fd = pw->finder_pidfd, .events = POLLIN};
		siginfo_t si;
		if (pw->finder_fd >= 0) {
			close(pw->finder_fd);
			pw->finder_fd = -1;
		}
		if (poll(&pf, 1, PW_FIND_STOP_MS) <= 0)
			syscall(SYS_pidfd_send_signal, pw->finder_pidfd, SIGKILL, NULL, 0);
		while (waitid((idtype_t)P_PIDFD, (id_t)pw->finder_pidfd, &si, WEXITED) < 0 &&
		       errno == EINTR)
			;
	}
	/* the repositories made during the run once more: a write through a
	 * shared mapping makes no event */
	check_repos(sb); /* the found ones: by the walk at exit */
	if (pw->moved > PW_WARN_MAX)
		warn("%lu names the host would trust were made and moved aside while the sandbox "
		     "ran (the audit log has each one)",
		     pw->moved);
	if (pw->lost)
		warn("the sandbox made changes faster than they could be watched: a repository it "
		     "made while it ran may have been missed; review before running git in "
		     "directories it made");
	if (pw->full)
		warn("the sandbox made more directories than could be watched (at most %d, and "
		     "the kernel's inotify limits): a repository made in the rest while it ran was "
		     "not moved aside; review before running git there",
		     PW_MAX_DIRS);
	if (pw->deep)
		warn("the sandbox made directories deeper than are watched (64 levels below a "
		     "watched one, or a path past %d bytes): a repository made there while it ran "
		     "was not moved aside; review before running git there",
		     PATH_MAX);
	if (pw->found_over)
		warn("%lu repositories in the write grants could not be watched while the sandbox "
		     "ran (more than %d, or the watch limits): what it wrote there is checked "
		     "only now",
		     pw->found_over, PW_MAX_FOUND);
	pw_free(sb, true);
}
