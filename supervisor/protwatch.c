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
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "protwatch_internal.h"

static long again_ms(void);

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

int pw_record(struct protwatch *pw, int wd, const char *path, enum pw_kind kind, bool had_git)
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
	/* (IN_MASK_ADD: a denied file's directory may be watched for it
	 * already, with events of its own: watch_denied()) */
	int wd = inotify_add_watch(pw->fd, path, PW_MASK | IN_DONT_FOLLOW | IN_MASK_ADD);
	if (wd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == EACCES ? 0 : -errno;
	snprintf(git, sizeof(git), "%s/.git", path);
	return pw_record(pw, wd, path, tree ? PW_TREE : PW_PLAIN, tree && lstat(git, &st) == 0);
}

static void handle(struct sandbox *sb, const struct pw_dir *dir, const char *name, int type,
		   int depth, bool again);
static void move(struct sandbox *sb, const char *path);

/* The tick (PW_AGAIN_MS) from FIRST ms on. */
void pw_arm_at(struct protwatch *pw, long first)
{
	struct itimerspec it = {
	    .it_interval = {0, again_ms() * 1000000L},
	    .it_value = {0, first * 1000000L},
	};

	if (!pw->armed && pw->timer >= 0)
		pw->armed = timerfd_settime(pw->timer, 0, &it, NULL) == 0;
}

void pw_arm(struct protwatch *pw)
{
	pw_arm_at(pw, again_ms());
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
	wd = inotify_add_watch(pw->fd, proc, mask | IN_MASK_ADD);
	if (wd < 0 && errno == ENOENT) /* no /proc: by name */
		wd = inotify_add_watch(pw->fd, path, mask | IN_DONT_FOLLOW | IN_MASK_ADD);
	if (wd < 0) {
		pw->full = true;
		return false;
	}
	pw->n_new++;
	if (pw_record(pw, wd, path, kind, false) < 0)
		return false;
	if (kind == PW_REPO)
		pw_arm(pw);
	struct pw_dir self = pw->by_wd[wd];
	self.path = strdup(path); /* by_wd may move while we recurse */
	if (!self.path)
		return false;
	DIR *d = dir_stream_at(o, ".", 0);
	struct dirent *de;
	if (!d) {
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

/* The same name made again and again within PW_REPEAT_MS: racing the
 * watch (PW_REPEAT_MAX). */
static void count_repeat(struct protwatch *pw, const char *path)
{
	long now = pw_now_ms();
	struct pw_repeat *e = NULL, *old = &pw->repeats[0];

	for (size_t i = 0; i < PW_REPEAT_SLOTS && !e; i++) {
		struct pw_repeat *x = &pw->repeats[i];
		if (x->path && strcmp(x->path, path) == 0)
			e = x;
		else if (!x->path || (old->path && x->since < old->since))
			old = x;
	}
	if (!e) {
		/* the slot least recently begun, or a free one */
		char *c = strdup(path);
		if (!c)
			return;
		free(old->path);
		*old = (struct pw_repeat){c, 0, now};
		e = old;
	}
	if (now - e->since > PW_REPEAT_MS) {
		e->n = 0;
		e->since = now;
	}
	if (++e->n > PW_REPEAT_MAX && !pw->racing) {
		pw->racing = true;
		warn("the sandbox made %s again %d times in %d s as it was moved aside: it is "
		     "racing the watch for a host tool to read it; the run is ended",
		     path, PW_REPEAT_MAX, PW_REPEAT_MS / 1000);
	}
}

static void move(struct sandbox *sb, const char *path)
{
	struct protwatch *pw = sb->protwatch;
	/* past PW_WARN_MAX: a count at exit; the audit log has each one */
	int r = protect_move_aside(sb, path, "protect.blocked",
				   pw->moved >= PW_WARN_MAX ? MOVE_LIVE_QUIET : MOVE_LIVE);

	if (r > 0)
		pw->moved++; /* (one not moved is said on its own line) */
	if (r > 0)
		count_repeat(pw, path);
}

bool protwatch_racing(const struct sandbox *sb)
{
	return sb->protwatch && sb->protwatch->racing;
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

	if (!pw_repo_ok(git, why, sizeof(why))) {
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
	/* a standard module of Python's at a project's top (protect_python.c) */
	switch (dir->kind == PW_PLAIN || dir->kind == PW_TREE
		    ? protect_python_made(sb, dir->path, name)
		    : PYM_NONE) {
	case PYM_MOVE:
		move(sb, path);
		return;
	case PYM_PACKAGE:
		/* a link Python follows; a directory where an __init__ made
		 * makes it the package (its entries now, then as they come) */
		if (lstat(path, &st) < 0)
			return;
		/* (one that cannot be watched, or looked through: aside whole,
		 * as a repository that cannot be followed; a review made them
		 * so by using the watches up, or a directory unreadable) */
		if (S_ISLNK(st.st_mode) ||
		    (S_ISDIR(st.st_mode) && !watch_new(sb, path, dir->kind, depth, again)))
			move(sb, path);
		return;
	case PYM_NONE:
		break;
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

/*
 * The directories of the denied files masked at start (N of them): the
 * kernel takes a mask away when the host renames a new file over it or
 * removes it (an editor's save, passwd's), and the new file would be
 * readable through the grant above.  A name of theirs made again there
 * (created, renamed in) is told to the main loop, which has init mask it
 * again (SIG_REMASK; sandbox/mounts.c).  A watch added to any of ours on
 * the same directory (IN_MASK_ADD): both see its events.
 */
static int watch_denied(struct sandbox *sb, struct protwatch *pw, size_t n)
{
	pw->deny = calloc(n, sizeof(*pw->deny));
	if (!pw->deny)
		return -ENOMEM;
	for (size_t i = 0; i < sb->n_masks; i++) {
		const struct mount_mask *m = &sb->masks[i];
		char *slash = strrchr(m->path, '/');
		if (m->read_only_bind || m->is_dir || !slash)
			continue;
		struct pw_deny *d = &pw->deny[pw->n_deny];
		d->path = strdup(m->path);
		if (!d->path)
			return -ENOMEM;
		pw->n_deny++;
		slash = d->path + (slash - m->path);
		*slash = '\0';
		d->wd = inotify_add_watch(pw->fd, slash == d->path ? "/" : d->path,
					  IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM |
					      IN_ONLYDIR | IN_DONT_FOLLOW | IN_MASK_ADD);
		*slash = '/';
		d->name = slash + 1;
		/* gone since the plan: as absent at start, not masked */
		if (d->wd < 0 && errno != ENOENT && errno != ENOTDIR)
			return -errno;
	}
	return 0;
}

int protwatch_start(struct sandbox *sb)
{
	struct protwatch *pw;
	int r = 0;

	(void)again_ms();
	protwatch_stop(sb);
	size_t n_deny = 0;
	for (size_t i = 0; i < sb->n_masks && sb->ns == NS_FULL; i++)
		n_deny += !sb->masks[i].read_only_bind && !sb->masks[i].is_dir;
	if (!sb->n_watch && !sb->n_prot_trees && !sb->n_py_tops && !n_deny)
		return 0;
	/* (written while idle: apart from the heap init shares) */
	pw = own_map(sizeof(*pw));
	if (!pw)
		return -ENOMEM;
	sb->protwatch = pw;
	pw->timer = -1;
	pw->finder_fd = pw->finder_pidfd = pw->finder_stop = -1;
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
	if (r >= 0 && n_deny)
		r = watch_denied(sb, pw, n_deny);
	/* the tops Python imports from, and their directories named after a
	 * standard package that hold no __init__ yet */
	for (size_t i = 0; i < sb->n_py_tops && r >= 0; i++)
		r = watch_path(pw, sb->py_tops[i], false);
	for (size_t i = 0; i < sb->n_py_pkgdirs && r >= 0; i++)
		r = watch_path(pw, sb->py_pkgdirs[i], false);
	for (size_t i = 0; i < sb->n_py_linkdirs && r >= 0; i++)
		r = watch_path(pw, sb->py_linkdirs[i], false);
	/* each absent name: the directories from its grant to the nearest
	 * one that exists (one found absent is not looked at again: many
	 * names share .config, .github, ...; kept as the first LEN bytes of
	 * watch[I], on the stack: the heap is init's too, one copy until
	 * either writes it) */
	struct {
		size_t i, len;
	} gone[32];
	size_t ngone = 0;
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
			size_t len = (size_t)(s - buf);
			bool known = false;
			for (size_t g = 0; g < ngone && !known; g++)
				known = gone[g].len == len &&
					strncmp(sb->watch[gone[g].i], buf, len) == 0;
			bool there =
			    s == buf + strlen(root) ||
			    (!known && lstat(buf[0] ? buf : "/", &st) == 0 && S_ISDIR(st.st_mode));
			if (there)
				r = watch_path(pw, buf[0] ? buf : "/", false);
			else if (!known && ngone < ARRAY_SIZE(gone))
				gone[ngone].i = i, gone[ngone++].len = len;
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
	    (pw->find_next_ms && pw->finder_pidfd < 0 && pw_now_ms() >= pw->find_next_ms))
		pw_start_finder(sb);
	check_repos(sb);
	/* the git directories the walk found, a few in turn */
	for (size_t k = 0; k < PW_FOUND_PER_TICK && k < pw->n_found; k++)
		pw_found_check(sb, pw->next_found++ % pw->n_found);
}

/* The mask of denied file D went with its name: what is there at the end
 * may be the sandbox's (sb->deny_lost). */
static void deny_lost(struct sandbox *sb, const char *path)
{
	if (!strv_has(sb->deny_lost, sb->n_deny_lost, path))
		strv_add(&sb->deny_lost, &sb->n_deny_lost, path);
}

/* A denied file's name made again in its directory (EV): said, the first
 * PW_WARN_MAX times, and in the audit log; removed or renamed away: its
 * mask is gone, and the name may be the sandbox's to make until then. */
static bool denied_made_again(struct sandbox *sb, const struct inotify_event *ev)
{
	struct protwatch *pw = sb->protwatch;
	bool any = false;

	for (size_t i = 0; i < pw->n_deny; i++) {
		const struct pw_deny *d = &pw->deny[i];
		if (d->wd != ev->wd || !ev->len || strcmp(d->name, ev->name) != 0)
			continue;
		if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
			deny_lost(sb, d->path);
		if (!(ev->mask & (IN_CREATE | IN_MOVED_TO)))
			continue;
		any = true;
		if (++pw->remasked <= PW_WARN_MAX)
			warn("the denied file %s was replaced or made again in its directory: "
			     "masked again (a process of the sandbox opening it at that moment "
			     "could read it)",
			     d->path);
		char js[PATH_MAX + 64];
		json_string(js, sizeof(js), d->path);
		audit_event(sb->audit_fd, "deny.replaced", "\"path\":%s", js);
	}
	return any;
}

bool protwatch_dispatch(struct sandbox *sb)
{
	struct protwatch *pw = sb->protwatch;
	bool remask = false;
	/* static, not in the frame: events come while the sandbox idles (the
	 * other sandboxes' files in a shared directory), and 16 KB of frame
	 * was 4 pages of stack zeroed at each (-ftrivial-auto-var-init),
	 * after the trim had given them back; here only what a read fills */
	static char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	if (!pw)
		return false;
	while ((n = read(pw->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			p += sizeof(*ev) + ev->len;
			/* (lost events: every denied file looked at again, and
			 * each may have lost its mask) */
			if (ev->mask & IN_Q_OVERFLOW) {
				remask = pw->n_deny > 0;
				for (size_t i = 0; i < pw->n_deny; i++)
					deny_lost(sb, pw->deny[i].path);
			} else if (pw->n_deny && denied_made_again(sb, ev))
				remask = true;
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
				pw_found_event(pw, d, ev);
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
				/* (copied: the list may grow meanwhile; in the
				 * frame, not zeroed at each call, and given back
				 * with the stack a quiet second after the
				 * events, where a heap block made and freed at
				 * each wrote pages the heap shares with init) */
				char dir[PATH_MAX] __attribute__((uninitialized));
				struct pw_dir copy = *d;
				size_t len = strlen(d->path);
				if (len >= sizeof(dir)) {
					/* (paths are kept shorter: cannot be) */
					pw->deep = true;
					continue;
				}
				memcpy(dir, d->path, len + 1);
				copy.path = dir;
				handle(sb, &copy, ev->name, ev->mask & IN_ISDIR ? DT_DIR : DT_REG,
				       0, false);
			}
		}
	}
	pw_found_flush(sb);
	return remask;
}

/* The watch's descriptors closed (init's copy is not the last: at once). */
static void pw_close(struct sandbox *sb, bool late)
{
	if (!late || protect_close_later(sb->protwatch->fd) < 0)
		close(sb->protwatch->fd);
	if (sb->protwatch->timer >= 0)
		close(sb->protwatch->timer);
	if (sb->protwatch->finder_fd >= 0)
		close(sb->protwatch->finder_fd);
	if (sb->protwatch->finder_pidfd >= 0)
		close(sb->protwatch->finder_pidfd);
	if (sb->protwatch->finder_stop >= 0)
		close(sb->protwatch->finder_stop);
}

static void pw_free(struct sandbox *sb, bool late)
{
	if (!sb->protwatch)
		return;
	pw_close(sb, late);
	for (size_t i = 0; i < sb->protwatch->n_found; i++)
		free(sb->protwatch->found[i].path);
	free(sb->protwatch->found);
	for (size_t i = 0; i < sb->protwatch->cap; i++)
		free(sb->protwatch->by_wd[i].path);
	for (size_t i = 0; i < PW_REPEAT_SLOTS; i++)
		free(sb->protwatch->repeats[i].path);
	for (size_t i = 0; i < sb->protwatch->n_deny; i++)
		free(sb->protwatch->deny[i].path);
	free(sb->protwatch->deny);
	free(sb->protwatch->by_wd);
	own_unmap(sb->protwatch);
	sb->protwatch = NULL;
}

/*
 * In init: the descriptors closed, the memory left as it is.  Freeing its
 * ~70 blocks (a path for each directory watched) wrote free-list links
 * into pages init shares with the supervisor since the fork, and each
 * page written became a copy of its own: ~16 KB more per idle sandbox.
 * Init holds no pointer to it after this and ends with the sandbox (the
 * structure itself is unmapped with the proxy's: own_forget()).
 */
void protwatch_forget(struct sandbox *sb)
{
	if (!sb->protwatch)
		return;
	pw_close(sb, false);
	sb->protwatch = NULL;
}

void protwatch_stop(struct sandbox *sb)
{
	struct protwatch *pw = sb->protwatch;

	if (!pw)
		return;
	/* the walk at exit comes after: the one while it ran ends here, at
	 * its next directory, and what it says until then is said (a line
	 * for what it moves aside); killed if it does not end */
	if (pw->finder_pidfd >= 0)
		pw_end_finder(sb, PW_FIND_STOP_MS);
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
