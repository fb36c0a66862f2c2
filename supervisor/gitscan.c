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
 * Each directory the walk of a grant enters (open_mode()) that is writable
 * by every user and was made during the run (mkdir after umask(0): seccomp
 * refuses a chmod giving others write, not a creation mode) loses write for
 * others, by the descriptor the walk holds: else another local user could
 * drop there, after the run, a .git with a hook, an .envrc, a
 * .vscode/tasks.json that the host's tools run as the user.  Said once per
 * grant, with a protect.mode event; so does a file made so (open_mode_file()).
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

#include "supervisor.h"

/* ~10 us a directory on the 2-core machine (bench/gitscan.sh): a second
 * at most */
#define GITSCAN_MAX_DIRS  100000
#define GITSCAN_MAX_DEPTH 128
/* modules/ nests as deep as submodules do, and a name may hold '/' */
#define GITSCAN_MODULES_DEPTH 16

struct scan {
	const struct sandbox *sb;
	const char *root; /* the grant walked, canonical */
	const struct timespec *since;
	unsigned long dirs;
	bool cut;	       /* GITSCAN_MAX_DIRS reached: the walk stops */
	unsigned long skipped; /* subtrees too deep, or past PATH_MAX */
	char **later;	       /* package and build trees, walked last */
	size_t n_later;
	/* the walk while the sandbox runs (gitscan_live()): each git
	 * directory found, but those kept read-only since the start, is
	 * written here NUL-terminated for protwatch.c to watch; else -1 */
	int found_fd;
	/* while the sandbox runs (gitscan_gitdir()): each file or directory
	 * a config points at in a write grant, for protwatch.c to watch */
	void (*pointed)(void *ud, const char *path);
	void *pointed_ud;
	/* the walk of a grant (scan_grant()): the directories it enters that
	 * the run made writable by every user lose that right (open_mode()) */
	bool modes;
	unsigned long opened;  /* made writable by every user, found */
	unsigned long unfixed; /* of them, still so (a refused fchmod) */
	unsigned long foreign; /* another user's, made in what the run made */
	uid_t foreign_uid;     /* the first other user's */
	char first[PATH_MAX], first_unfixed[PATH_MAX], first_foreign[PATH_MAX];
	unsigned long files; /* files made writable by every user, changed */
	char first_file[PATH_MAX];
	char **foreign_paths; /* another user's entries made in what the run made */
	size_t n_foreign_paths;
	unsigned long foreign_moved; /* of them, moved aside at exit */
	/* the walk when the sandbox has ended (or a crash journal's): an
	 * unfinished sequence's state (check_state()) is judged then only,
	 * so that a rebase the command runs meanwhile keeps its own */
	bool at_exit;
};

static bool not_before(long long sec, long nsec, const struct timespec *since)
{
	return sec > since->tv_sec || (sec == since->tv_sec && nsec >= since->tv_nsec);
}

static bool newer(const struct stat *st, const struct timespec *since)
{
	return not_before(st->st_ctim.tv_sec, st->st_ctim.tv_nsec, since);
}

/* newer(), where a file system keeps whole seconds only (ext4 with 128-byte
 * inodes): a ctime of no nanoseconds is taken as the whole second it falls
 * in, the start's second included */
static bool changed_since(const struct stat *st, const struct timespec *since)
{
	return newer(st, since) ||
	       (st->st_ctim.tv_nsec == 0 && st->st_ctim.tv_sec == since->tv_sec);
}

/* The birth time of NAME in DIR ("": DIR itself), no earlier than SINCE;
 * false also where the file system keeps none (*RET_KNOWN false). */
static bool born_not_before(int dir, const char *name, const struct timespec *since,
			    bool *ret_known)
{
	struct statx sx;

	*ret_known =
	    statx(dir, name, (name[0] ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH) | AT_STATX_DONT_SYNC,
		  STATX_BTIME, &sx) == 0 &&
	    (sx.stx_mask & STATX_BTIME);
	return *ret_known && not_before(sx.stx_btime.tv_sec, (long)sx.stx_btime.tv_nsec, since);
}

static bool guarded(const struct sandbox *sb, const struct stat *st)
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
static void quarantine(struct scan *s, const char *dir, const char *name, const char *why)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "", name) >=
	    sizeof(path))
		return;
	/* its own line on failure; ours on success */
	if (protect_move_aside(s->sb, path, "protect.created", MOVE_LIVE_QUIET) > 0)
		warn("the sandbox wrote %s (%s), which the host's git would run: renamed to "
		     "*.ringfence-blocked; review it",
		     path, why);
}

/* Whether the file NAME in G is a configuration setting only the keys a
 * clone or an init writes; false for anything that cannot be read as one. */
static bool config_ok(int g, const char *name)
{
	char buf[65536];
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

/* Whether the directory open at FD (ST its fstat()) was made since SINCE:
 * its birth time, which nothing can set, where the file system keeps one.
 * Else its ctime, which an entry made or removed in it moves as well (so a
 * host's directory the sandbox wrote in counts as made: on the safe side,
 * and said): a sticky directory (a host's shared drop directory, /tmp's
 * kind) is then taken as the host's. */
static bool born_since(int fd, const struct stat *st, const struct timespec *since)
{
	bool known;
	bool born = born_not_before(fd, "", since, &known);

	if (known)
		return born;
	return !(st->st_mode & S_ISVTX) && changed_since(st, since);
}

/* Whether NAME in DIR ("": DIR itself) was made after the start, by its
 * birth time alone (a file system without one: its ctime is not enough to
 * move a thing aside), no earlier than SINCE (started_born: what the host
 * made before has an earlier time, what the run made has not).  Stricter
 * than born_since(): what this says is moved aside. */
static bool born_after(int dir, const char *name, const struct timespec *since)
{
	bool known;

	return born_not_before(dir, name, since, &known);
}

/* A sticky directory of root's: a host service's shared one, or a command
 * run as root's, which cannot be told apart; left as made, contents too. */
static bool parent_host_like(int parent)
{
	struct stat st;

	return fstat(parent, &st) == 0 && (st.st_mode & S_ISVTX) && st.st_uid == 0;
}

/* Whether ST, an entry of the directory open at PARENT, is another user's
 * in a directory made after the start (so the command's: it was made in
 * the run, and only the command could make it there, in a grant): whatever
 * its own birth, which a rename or a hard link brings along from
 * elsewhere, and whatever it is (a symlink too); root's as well (another
 * user may hard-link a root-owned file it may write).  The command's own
 * user is never another. */
static bool foreign_in(int parent, const struct stat *st, const struct sandbox *sb)
{
	struct stat pst;

	if (sb->uid == (uid_t)-1 || st->st_uid == sb->uid)
		return false;
	/* the command's own directory: what ringfence made at start as root
	 * (its state directory in a granted home) is no such thing */
	return fstat(parent, &pst) == 0 && pst.st_uid == sb->uid &&
	       born_after(parent, "", &sb->started_born);
}

/* Another user's entry PATH (UID), made during the run in a directory the
 * run made: moved aside when the walk at exit ends (by then the walk no
 * longer needs the name; the outermost first). */
static void foreign_add(struct scan *s, const char *path, uid_t uid, bool move)
{
	char **v;

	if (s->foreign++ == 0) {
		s->foreign_uid = uid;
		snprintf(s->first_foreign, sizeof(s->first_foreign), "%s", path);
	}
	if (!move || !(v = realloc(s->foreign_paths, (s->n_foreign_paths + 1) * sizeof(*v))))
		return; /* said, not moved */
	s->foreign_paths = v;
	if ((v[s->n_foreign_paths] = strdup(path)))
		s->n_foreign_paths++;
}

/*
 * The directory open at FD (PATH), entered by the walk of a grant from
 * the directory open at PARENT (-1: none at hand): made during the run and
 * writable by every user (mkdir after umask(0): seccomp refuses a chmod
 * that gives others write, not a creation mode), it loses write for
 * others, by the descriptor the walk holds (no path: no link followed, no
 * rename raced).  Else another local user could, after the run, make there
 * a .git with a hook, an .envrc, a .vscode/tasks.json that the host's tools
 * run as the user (README).  The other bits are kept; group write is left,
 * which with a user private group is the user's own.  One fstat() a
 * directory; the birth time is asked of the rare one writable by every user
 * or another user's only.
 *
 * Another user's directory in one of the command's made during the run
 * (theirs, made, renamed or linked into one the sandbox left open to them)
 * is moved aside by the walk at exit, whatever its mode, and changed as
 * well when writable by every user and we may (root); another user's in a
 * directory of the host's (a shared /tmp granted) is their own business,
 * left unsaid.
 */
static void open_mode(struct scan *s, int parent, int fd, const char *path)
{
	struct stat st, pst;
	bool fixed = true;
	int err = 0;

	if (!s->modes || fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	/* the command's user is unknown when a crash journal is recovered:
	 * then any may be another user's, and none is said so but on EPERM */
	bool known = s->sb->uid != (uid_t)-1, other = !known || st.st_uid != s->sb->uid;
	/* a sticky one of a command run as root cannot be told from a host
	 * service's shared directory made meanwhile (/tmp/.X11-unix's kind):
	 * left as made, with what it holds */
	bool host_like = (st.st_mode & S_ISVTX) && st.st_uid == 0;
	bool ww = (st.st_mode & S_IWOTH) && !host_like;
	/* another user's, made in a directory the run made: moved aside at
	 * exit (never the grant or a tree walked last: no parent at hand) */
	bool said_other = s->found_fd < 0 && parent >= 0 && !parent_host_like(parent) &&
			  foreign_in(parent, &st, s->sb);
	/* another user's is judged by its directory's birth, not its own: a
	 * rename brings an older one in */
	if ((!ww && !said_other) || guarded(s->sb, &st) ||
	    (!said_other && !born_since(fd, &st, &s->sb->started_born)))
		return;
	/* another user's in a host's directory (a shared /tmp granted): theirs;
	 * and where the directory above is not at hand (a tree walked last) */
	if (other && !said_other && known &&
	    (parent < 0 || fstat(parent, &pst) < 0 ||
	     !born_since(parent, &pst, &s->sb->started_born)))
		return;
	if (ww) {
		fixed =
		    !s->sb->recovering && fchmod(fd, (st.st_mode & 07777) & ~(mode_t)S_IWOTH) == 0;
		err = fixed ? 0 : errno;
		/* what could not be changed stays so: said once, by the walk
		 * at exit, not at each walk while the sandbox runs */
		if (!fixed && s->found_fd >= 0)
			return;
		if (fixed && s->opened - s->unfixed == 0)
			snprintf(s->first, sizeof(s->first), "%s", path);
		if (!fixed && s->unfixed++ == 0)
			snprintf(s->first_unfixed, sizeof(s->first_unfixed), "%s", path);
		s->opened++;
	}
	if (said_other || (s->found_fd < 0 && err == EPERM))
		foreign_add(s, path, st.st_uid, said_other && !s->sb->recovering);
}

/* The directory NAME (at PATH) in the one open at DIR, another user's in a
 * directory of the command's made during the run: to be moved aside at
 * exit (open_mode()'s judgement, for what the walk takes up later). */
static bool foreign_here(struct scan *s, int dir, const char *name, const char *path)
{
	struct stat st;

	if (!s->modes || s->found_fd >= 0 || fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    guarded(s->sb, &st) || parent_host_like(dir) || !foreign_in(dir, &st, s->sb))
		return false;
	foreign_add(s, path, st.st_uid, !s->sb->recovering);
	return true;
}

/*
 * The entry NAME (no directory) in the directory open at DIR (PATH beneath
 * it), as open_mode() judges directories: a file made during the run and
 * writable by every user (open(O_CREAT, 0666) after umask(0), a script or
 * a Makefile replaced so) loses write for others, else another user edits,
 * after the run, what the user runs there; another user's, made during the
 * run in a directory the run made, is moved aside at exit.  A symlink is
 * passed over (its mode is nothing).  Changed through the object opened
 * here and checked again (O_PATH, no link followed; its /proc/self/fd
 * name, which the kernel follows to that object only): a rename in between
 * changes nothing else.  One fstatat() a file; the birth time is asked of
 * the rare one writable by every user or another user's only.
 */
static void open_mode_file(struct scan *s, int dir, const char *name, const char *path)
{
	struct stat st, ost;
	char self[64], sub[PATH_MAX];

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode) ||
	    guarded(s->sb, &st))
		return;
	bool other = st.st_uid != s->sb->uid;
	bool ww = (st.st_mode & S_IWOTH) && !other && !S_ISLNK(st.st_mode);
	if (!ww && !(other && s->found_fd < 0))
		return;
	if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", strcmp(path, "/") ? path : "", name) >=
	    sizeof(sub))
		return;
	if (other) {
		/* in a host's directory (a shared /tmp granted): their own */
		if (!parent_host_like(dir) && foreign_in(dir, &st, s->sb))
			foreign_add(s, sub, st.st_uid, !s->sb->recovering);
		return;
	}
	/* the command's, changed during the run (made, or renamed or linked
	 * here: an old file writable by every user renamed to a script the
	 * user runs is as much another user's to edit) */
	const struct timespec *born = &s->sb->started_born;
	if (!changed_since(&st, born))
		return;
	_cleanup_close_ int o = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (o < 0 || fstat(o, &ost) < 0 || ost.st_ino != st.st_ino || ost.st_dev != st.st_dev ||
	    !(ost.st_mode & S_IWOTH) || S_ISLNK(ost.st_mode))
		return;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", o);
	if (s->sb->recovering) {
		/* said, not changed: see open_mode() */
		if (s->unfixed++ == 0)
			snprintf(s->first_unfixed, sizeof(s->first_unfixed), "%s", sub);
		s->opened++;
		return;
	}
	if (chmod(self, (ost.st_mode & 07777) & ~(mode_t)S_IWOTH) < 0)
		return; /* the walk at exit says it, when it still is so */
	if (s->files++ == 0)
		snprintf(s->first_file, sizeof(s->first_file), "%s", sub);
}

/* The directory open at O_PATH descriptor FD (PATH), which git enters by
 * name (a .git, a worktree's git directory), as open_mode() judges it:
 * opened to be changed only when it is writable by every user. */
static void open_mode_path(struct scan *s, int parent, int fd, const char *path)
{
	struct stat st;

	if (!s->modes || fstat(fd, &st) < 0 || !(st.st_mode & S_IWOTH))
		return;
	_cleanup_close_ int o = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o >= 0)
		open_mode(s, parent, o, path);
}

/*
 * The directory NAME in DIR (at PATH) opened to be listed.  git enters a
 * directory it cannot list (mode 0311) by name, this walk cannot: one the
 * sandbox made so during the run (owned by us, its ctime since the start)
 * gets its owner's read right back, said; any other stays unlisted, and
 * counted as not looked at.  -1 also for what is no directory.
 */
/* DIR's directory NAME (PATH), ours and made unreadable or unsearchable
 * during the run, given its owner's read and search back, and said. */
static bool give_back_read(struct scan *s, int dir, const char *name, const char *path)
{
	struct stat st;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || !newer(&st, s->since) ||
	    (st.st_mode & (S_IRUSR | S_IXUSR)) == (S_IRUSR | S_IXUSR) ||
	    fchmodat(dir, name, (st.st_mode & 07777) | S_IRUSR | S_IXUSR, 0) < 0)
		return false;
	warn("the sandbox made %s unreadable: its owner's read right is given back, so that "
	     "the repositories in it are checked",
	     path);
	return true;
}

static int open_listable(struct scan *s, int dir, const char *name, const char *path)
{
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0)
		open_mode(s, dir, fd, path);
	if (fd >= 0 || errno != EACCES)
		return fd;
	if (give_back_read(s, dir, name, path)) {
		fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			open_mode(s, dir, fd, path);
			return fd;
		}
	}
	s->skipped++;
	return -1;
}

static void check_gitdir(struct scan *s, int g, const char *path, bool worktree, int depth);

/* Each entry of hooks/ made or changed during the run, but a *.sample. */
static void check_hooks(struct scan *s, int g, const char *path)
{
	char hooks[PATH_MAX];
	struct stat st;
	struct dirent *de;

	if (fstatat(g, "hooks", &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		if (newer(&st, s->since))
			quarantine(s, path, "hooks", "no directory");
		return;
	}
	if ((size_t)snprintf(hooks, sizeof(hooks), "%s/hooks", path) >= sizeof(hooks))
		return;
	int h = open_listable(s, g, "hooks", hooks);
	_cleanup_(closedirp) DIR *d = h >= 0 ? fdopendir(h) : NULL;
	if (!d) {
		if (h >= 0)
			close(h);
		/* git runs hooks from it by name; what they are is unknown */
		quarantine(s, path, "hooks", "cannot be read");
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
		    !newer(&st, s->since))
			continue;
		/* git runs hooks/NAME, never a template's NAME.sample */
		if (S_ISREG(st.st_mode) && l > 7 && strcmp(de->d_name + l - 7, ".sample") == 0)
			continue;
		quarantine(s, hooks, de->d_name, "a hook");
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
		_cleanup_close_ int c = open_listable(s, dirfd(d), de->d_name, sub);
		if (c < 0)
			continue;
		if (fstatat(c, "HEAD", &st, AT_SYMLINK_NOFOLLOW) == 0)
			check_gitdir(s, c, sub, false, depth + 1);
		else
			check_modules(s, c, sub, depth + 1);
	}
}

/*
 * A directory's entries, read whole with getdents64() into one buffer:
 * the walk's cost is its system calls (an open, two reads and a close per
 * directory), and a DIR stream would add a dup, an fcntl and a copy of
 * every name.
 */
struct listing {
	char *buf;
	size_t len;
};

static int list_dir(int fd, struct listing *ret)
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

#define for_each_entry(l, de)                                                                      \
	for (struct dirent64 *de = (struct dirent64 *)(l)->buf; (char *)de < (l)->buf + (l)->len;  \
	     de = (struct dirent64 *)((char *)de + de->d_reclen))

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

	if (newer(st, s->since) || !S_ISDIR(st->st_mode))
		return newer(st, s->since);
	_cleanup_close_ int d = openat(g, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	/* unreadable: what git would read there is unknown */
	if (d < 0 || list_dir(d, &l) < 0)
		return true;
	for_each_entry(&l, de)
	{
		struct stat est;
		if (de->d_name[0] == '.' && (!de->d_name[1] || strcmp(de->d_name, "..") == 0))
			continue;
		if (fstatat(d, de->d_name, &est, AT_SYMLINK_NOFOLLOW) < 0 ||
		    newer(&est, s->since)) {
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
			quarantine(s, path, git_state[i],
				   "an unfinished rebase's or pick's state, which names commands");
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

static void check_config_file(struct scan *s, const char *path, const char *top, int depth,
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
			if (newer(&st, pt->s->since) && !guarded(pt->s->sb, &st))
				quarantine(pt->s, dir[0] ? dir : "/", name,
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
	    (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) && newer(&st, pt->s->since) &&
	    !guarded(pt->s->sb, &st))
		quarantine(pt->s, dir[0] ? dir : "/", slash + 1,
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
		check_config_file(pt->s, c, pt->top, pt->depth + 1, false);
		return;
	}
	if (!c || !in_a_grant(pt->s, c))
		return;
	if (pt->s->pointed)
		pt->s->pointed(pt->s->pointed_ud, c);
	if (kind == PTR_INCLUDE) {
		check_config_file(pt->s, c, pt->top, pt->depth + 1, true);
		return;
	}
	_cleanup_close_ int d = protect_open_dir_nofollow(c);
	_cleanup_close_ int r = d >= 0 ? openat(d, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	struct listing l;
	struct stat st;
	/* read-only since the start (protect.c): what changed there is the
	 * host's */
	if (r < 0 || (fstat(r, &st) == 0 && guarded(pt->s->sb, &st)))
		return;
	if (list_dir(r, &l) < 0) {
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
		    !newer(&st, pt->s->since))
			continue;
		if (S_ISREG(st.st_mode) && n > 7 && strcmp(de->d_name + n - 7, ".sample") == 0)
			continue;
		quarantine(pt->s, c, de->d_name, "a hook, in core.hooksPath");
	}
	free(l.buf);
}

/* The configuration file PATH (canonical), and what it points at; itself
 * moved aside when it changed and sets more than the allow-list, if
 * JUDGED (not one outside the write grants: read only). */
static void check_config_file(struct scan *s, const char *path, const char *top, int depth,
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
	bool changed = judged && depth > 0 && newer(&st, s->since) && !guarded(s->sb, &st);
	_cleanup_free_ char *buf = gitconfig_read(fd, &st, &got);
	if (!buf) {
		/* one changed during the run that cannot be read is not one
		 * that passes */
		if (changed)
			quarantine(s, dir, slash + 1,
				   "a configuration file a repository's config includes, which "
				   "could not be read");
		else
			gitconfig_say_unread(path, st.st_size, errno, "checked");
		return;
	}
	if (changed && !protwatch_config_ok(buf, got)) {
		quarantine(s, dir, slash + 1,
			   "a configuration file a repository's config includes");
		return;
	}
	struct pointed pt = {s, dir, top, depth};
	gitconfig_pointers(buf, got, on_pointer, &pt);
}

/* The git directory open at G, at PATH.  WORKTREE: one in worktrees/, whose
 * commondir is its way to the main one. */
/* The files of the git directory open at G (ST, at PATH), which the walk
 * does not list, judged as open_mode_file() judges a worktree's when the
 * run changed the directory: a config made 0666 (git init after umask 0)
 * would be another user's to add core.fsmonitor to once the run's checks
 * are done. */
static void gitdir_files(struct scan *s, int g, const struct stat *st, const char *path)
{
	struct dirent *de;

	if (!s->modes || !changed_since(st, s->since))
		return;
	int o = openat(g, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_(closedirp) DIR *d = o >= 0 ? fdopendir(o) : NULL;
	if (!d) {
		if (o >= 0)
			close(o);
		return;
	}
	while ((de = readdir(d)))
		if (de->d_type != DT_DIR && strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			open_mode_file(s, dirfd(d), de->d_name, path);
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
		if (newer(&st, since)) {
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
static void unheld_changes(struct scan *s, int g, const char *path)
{
	struct stat st;
	char changed[PATH_MAX] = "";
	unsigned budget = 10000;

	/* (one the run made holds nothing of the host's) */
	if (!s->at_exit || !s->sb->git_held_known || fstat(g, &st) < 0 ||
	    born_after(g, "", s->since))
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
			if (newer(&st, s->since))
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

static void check_gitdir(struct scan *s, int g, const char *path, bool worktree, int depth)
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
		check_config_file(s, cfg, top[0] ? top : "/", 0, true);
		/* the host's own configuration's hooks paths: a relative one
		 * names a directory in this worktree too */
		struct pointed pt = {s, top[0] ? top : "/", top[0] ? top : "/", 0};
		for (size_t i = 0; i < s->sb->n_git_global_hooks; i++)
			on_pointer(&pt, PTR_HOOKS, s->sb->git_global_hooks[i]);
		for (size_t i = 0; i < s->sb->n_git_global_programs; i++)
			on_pointer(&pt, PTR_PROGRAM, s->sb->git_global_programs[i]);
	}
	if (!worktree && depth == 0)
		unheld_changes(s, g, path);
	if (fstat(g, &st) < 0 || guarded(s->sb, &st))
		return;
	gitdir_files(s, g, &st, path);
	for (const char *const *n = (const char *const[]){"config", "config.worktree", NULL}; *n;
	     n++)
		if (fstatat(g, *n, &st, AT_SYMLINK_NOFOLLOW) == 0 && newer(&st, s->since)) {
			if (!config_ok(g, *n))
				quarantine(s, path, *n,
					   "a configuration that sets what a host git runs");
			/* a second name elsewhere changes it with no event
			 * where it is watched (git writes it by a rename, with
			 * one link) */
			else if (st.st_nlink > 1)
				quarantine(s, path, *n, "a configuration with a second name");
		}
	if (fstatat(g, "commondir", &st, AT_SYMLINK_NOFOLLOW) == 0 && newer(&st, s->since) &&
	    !(worktree && S_ISREG(st.st_mode) && commondir_is_parent(g)))
		quarantine(s, path, "commondir", "a pointer to another repository");
	check_state(s, g, path);
	if (worktree)
		return; /* hooks and modules are the main git directory's */
	check_hooks(s, g, path);
	for (const char *const *n = (const char *const[]){"modules", "worktrees", NULL}; *n; n++) {
		char sub[PATH_MAX];
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, *n) >= sizeof(sub))
			continue;
		_cleanup_close_ int c = open_listable(s, g, *n, sub);
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
				open_mode_path(s, c, w, wt);
				check_gitdir(s, w, wt, true, depth);
			}
		}
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

static void check_tree(struct scan *s, int dir, const char *at, const char *name, int depth)
{
	char sub[PATH_MAX];
	struct listing l;

	if (depth > NAMES_DEPTH ||
	    (size_t)snprintf(sub, sizeof(sub), "%s/%s", at, name) >= sizeof(sub)) {
		s->skipped++;
		return;
	}
	_cleanup_close_ int o = open_listable(s, dir, name, sub);
	if (o < 0 || list_dir(o, &l) < 0)
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
		else if (newer(&st, s->since))
			quarantine(s, sub, de->d_name, "a project file the host's tools trust");
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
			if (newer(&st, s->since))
				quarantine(s, at, comp, "a link where the host's tools look");
			return;
		}
		if (!slash) {
			if (S_ISDIR(st.st_mode))
				check_tree(s, dir, at, comp, 0);
			else if (newer(&st, s->since))
				quarantine(s, at, comp, "a project file the host's tools trust");
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
		/* git's own: check_gitdir()'s */
		if (strncmp(nm, ".git", 4) == 0 && (!nm[4] || nm[4] == '/'))
			continue;
		check_name(s, tfd, top, nm);
	}
	s->modes = modes;
}

/* The git directory open at G (PATH) found by the walk while the sandbox
 * runs: protwatch.c watches it from now on.  A write of at most PIPE_BUF
 * bytes to a pipe is whole or not at all, so the reader never gets half a
 * path; the walk waits while the reader is behind. */
static void found(struct scan *s, int g, const char *path)
{
	struct stat st;
	size_t n = strlen(path) + 1;

	if (s->found_fd < 0 || n > PIPE_BUF || fstat(g, &st) < 0 || guarded(s->sb, &st))
		return;
	while (write(s->found_fd, path, n) < 0 && errno == EINTR)
		;
}

/* The directory open at FD (PATH, reached following no symlink). */
static void walk(struct scan *s, int fd, const char *path, int depth)
{
	struct listing l = {0};
	bool gitdir;

	if (s->cut)
		return;
	/* the walk while the sandbox runs: the supervisor, ending, closed the
	 * pipe; stopped here, between two directories, so that nothing moved
	 * aside goes unsaid */
	if (s->found_fd >= 0) {
		struct pollfd pf = {.fd = s->found_fd, .events = 0};
		if (poll(&pf, 1, 0) > 0 && (pf.revents & (POLLERR | POLLHUP))) {
			s->cut = true;
			return;
		}
	}
	/* too deep: this subtree only, so that a chain of directories made
	 * to be walked first cannot end the walk */
	if (depth > GITSCAN_MAX_DEPTH) {
		s->skipped++;
		return;
	}
	if (++s->dirs > GITSCAN_MAX_DIRS) {
		s->cut = true;
		return;
	}
	int r = list_dir(fd, &l);
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
		check_gitdir(s, fd, path, false, 0);
		found(s, fd, path);
	}
	for_each_entry(&l, de)
	{
		const char *name = de->d_name;
		bool git = strcmp(name, ".git") == 0;
		char sub[PATH_MAX];
		struct stat st;
		if (s->cut)
			break;
		/* most entries are files: passed over before any other test
		 * but their mode's */
		if (!git && de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) {
			if (files_changed)
				open_mode_file(s, fd, name, path);
			continue;
		}
		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		/* a git directory's objects (thousands of directories, none
		 * of them a repository) and what check_gitdir() looked at.
		 * Not entered, so not judged by open_mode() either: objects,
		 * refs and logs writable by every user let another user change
		 * what the repository holds, never what git runs; hooks/,
		 * modules/ and worktrees/ check_gitdir() enters, and judges */
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
			if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			if (!S_ISDIR(st.st_mode)) {
				/* `gitdir:` or a link: a pointer to a repository */
				if (newer(&st, s->since) && !guarded(s->sb, &st))
					quarantine(s, path, name, "a pointer to a repository");
				/* a worktree's or a submodule's top: a project,
				 * where what its config runs is run from */
				if (!guarded(s->sb, &st)) {
					char cfg[2][PATH_MAX];
					check_names(s, fd, path);
					for (size_t i = 0, n = gitconfig_worktree_files(path, cfg);
					     i < n; i++) {
						char wt[PATH_MAX], gd[PATH_MAX];
						snprintf(gd, sizeof(gd), "%.*s",
							 (int)(strrchr(cfg[i], '/') - cfg[i]),
							 cfg[i]);
						/* (a submodule's: a linked
						 * worktree's is its own top) */
						check_config_file(s, cfg[i],
								  n == 1 && gitconfig_core_worktree(
										cfg[i], gd, wt)
								      ? wt
								      : path,
								  0, true);
					}
				}
				continue;
			}
			/* by name, as git enters it: no listing needed (but
			 * its files read: one the run made unsearchable to
			 * us gets its owner's rights back) */
			(void)give_back_read(s, fd, name, sub);
			_cleanup_close_ int g =
			    openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (g >= 0) {
				open_mode_path(s, fd, g, sub);
				check_gitdir(s, g, sub, false, 0);
				found(s, g, sub);
				/* the start kept a guarded one's names read-only */
				if (!guarded(s->sb, &st))
					check_names(s, fd, path);
			}
			continue; /* what a .git holds is the repository's */
		}
		if (bulk_name(name)) {
			/* judged here, where its directory is at hand: another
			 * user's node_modules or .venv in one of the command's */
			if (foreign_here(s, fd, name, sub))
				continue;
			later_add(s, sub);
			continue;
		}
		_cleanup_close_ int c = open_listable(s, fd, name, sub);
		if (c >= 0)
			walk(s, c, sub, depth + 1);
	}
	free(l.buf);
}

/* What open_mode() found in the grant S walked: a line or three, and one
 * audit event.  By the walk while the sandbox runs as well, for what it
 * changed (which the walk at exit no longer finds), so that each directory
 * is said once; another user's, and what could not be changed, at exit. */
static void say_modes(const struct scan *s)
{
	char js[PATH_MAX + 64], jf[PATH_MAX + 64], ju[PATH_MAX + 64], jo[PATH_MAX + 64];

	if (!s->opened && !s->foreign && !s->files)
		return;
	if (s->files)
		warn("%lu file%s the sandbox made writable by every user in %s (the first: %s): "
		     "write for others removed, so that no other local user can change what the "
		     "user runs there",
		     s->files, s->files == 1 ? "" : "s", s->root, s->first_file);
	if (s->opened > s->unfixed)
		warn("%lu director%s the sandbox made writable by every user in %s (the first: "
		     "%s): write for others removed, so that no other local user can put there "
		     "what the host's tools would run",
		     s->opened - s->unfixed, s->opened - s->unfixed == 1 ? "y" : "ies", s->root,
		     s->first);
	if (s->unfixed && s->sb->recovering)
		warn("%lu entr%s writable by every user made since that run started in %s (the "
		     "first: %s): left as they are, since what the host made after its supervisor "
		     "was killed cannot be told apart; review before running tools there",
		     s->unfixed, s->unfixed == 1 ? "y" : "ies", s->root, s->first_unfixed);
	else if (s->unfixed)
		warn("%lu director%s writable by every user made during the run in %s could NOT "
		     "be changed (the first: %s); review before running tools there",
		     s->unfixed, s->unfixed == 1 ? "y" : "ies", s->root, s->first_unfixed);
	if (s->foreign)
		warn("%lu entr%s made by another user (uid %u) during the run in %s, in "
		     "directories the sandbox made (the first: %s): %s",
		     s->foreign, s->foreign == 1 ? "y" : "ies", (unsigned)s->foreign_uid, s->root,
		     s->first_foreign,
		     s->foreign_moved == s->foreign
			 ? "moved aside to *.ringfence-blocked; review before running tools there"
			 : "NOT all moved aside; review before running tools there");
	json_string(js, sizeof(js), s->root);
	json_string(jf, sizeof(jf), s->opened > s->unfixed ? s->first : "");
	json_string(ju, sizeof(ju), s->unfixed ? s->first_unfixed : "");
	json_string(jo, sizeof(jo), s->foreign ? s->first_foreign : "");
	audit_event(
	    s->sb->audit_fd, "protect.mode",
	    "\"path\":%s,\"dirs\":%lu,\"first\":%s,\"unchanged\":%lu,"
	    "\"first_unchanged\":%s,\"foreign\":%lu,\"foreign_uid\":%d,\"first_foreign\":%s,"
	    "\"files\":%lu",
	    js, s->opened, jf, s->unfixed, ju, s->foreign, s->foreign ? (int)s->foreign_uid : -1,
	    jo, s->files);
}

static int by_length(const void *a, const void *b)
{
	size_t x = strlen(*(char *const *)a), y = strlen(*(char *const *)b);

	return x < y ? -1 : x > y;
}

static void scan_grant(const struct sandbox *sb, const char *grant, int found_fd)
{
	_cleanup_free_ char *root = realpath(grant, NULL);
	struct scan s = {.sb = sb,
			 .root = root,
			 .since = &sb->started_at,
			 .found_fd = found_fd,
			 .modes = true,
			 .at_exit = found_fd < 0};

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
	open_mode(&s, -1, top, root);
	/* the grant itself may be a git directory (a bare repository granted) */
	walk(&s, top, root, 0);
	for (size_t i = 0; i < s.n_later; i++) {
		/* from its parent: one made unreadable during the run gets
		 * its read back, else it is said (its mode judged as before,
		 * as a tree's top with no parent at hand) */
		char parent[PATH_MAX];
		const char *slash = strrchr(s.later[i], '/');
		snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - s.later[i]) : 0,
			 s.later[i]);
		_cleanup_close_ int c =
		    slash ? protect_open_dir_nofollow(parent[0] ? parent : "/") : -1;
		if (c >= 0 && !s.cut) {
			int o =
			    openat(c, slash + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (o < 0 && errno == EACCES &&
			    give_back_read(&s, c, slash + 1, s.later[i]))
				o = openat(c, slash + 1,
					   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (o < 0 && errno == EACCES)
				s.skipped++; /* said: not looked at */
			if (o >= 0) {
				open_mode(&s, -1, o, s.later[i]);
				walk(&s, o, s.later[i], 1);
				close(o);
			}
		}
		free(s.later[i]);
	}
	free(s.later);
	/* another user's entries in what the run made: the outermost first
	 * (one inside another is gone with it) */
	if (s.n_foreign_paths)
		qsort(s.foreign_paths, s.n_foreign_paths, sizeof(*s.foreign_paths), by_length);
	for (size_t i = 0; i < s.n_foreign_paths; i++) {
		/* its own line when it could not be moved; gone already: moved
		 * with one above it */
		int r =
		    protect_move_aside(sb, s.foreign_paths[i], "protect.foreign", MOVE_LIVE_QUIET);
		if (r > 0 || r == -ENOENT)
			s.foreign_moved++;
		free(s.foreign_paths[i]);
	}
	free(s.foreign_paths);
	say_modes(&s);
	/* what was not looked at is said by the walk at exit */
	if (found_fd < 0 && (s.cut || s.skipped)) {
		char js[PATH_MAX + 64];
		if (s.cut)
			warn("%s holds more than %d directories: the repositories past them were "
			     "NOT "
			     "checked for hooks and configuration the sandbox wrote; review before "
			     "running git there",
			     root, GITSCAN_MAX_DIRS);
		if (s.skipped)
			warn("%s: %lu director%s deeper than %d levels, with paths longer than %d "
			     "bytes, or that cannot be read were NOT checked for repositories the "
			     "sandbox wrote; review before running git there",
			     root, s.skipped, s.skipped == 1 ? "y" : "ies", GITSCAN_MAX_DEPTH,
			     PATH_MAX);
		json_string(js, sizeof(js), root);
		audit_event(sb->audit_fd, "protect.unchecked",
			    "\"path\":%s,\"dirs\":%lu,\"cut\":%s,\"skipped\":%lu", js, s.dirs,
			    s.cut ? "true" : "false", s.skipped);
	}
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
		check_gitdir(&s, g, path, worktree, 0);
}

/* The git directories in modules/ (a name may hold '/') below DIR (at
 * PATH), as check_modules() finds them. */
static void nested_modules(int dir, const char *path, int depth,
			   void (*fn)(void *ud, const char *path, bool worktree), void *ud)
{
	struct listing l;

	if (depth > GITSCAN_MODULES_DEPTH || list_dir(dir, &l) < 0)
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
	if (w < 0 || list_dir(w, &l) < 0)
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
	    !S_ISDIR(st.st_mode) && newer(&st, s.since) && !guarded(sb, &st))
		quarantine(&s, dir[0] ? dir : "/", slash + 1, "a pointer to a repository");
}

void gitscan_names(const struct sandbox *sb, const char *top)
{
	struct scan s = {.sb = sb, .root = top, .since = &sb->started_at, .found_fd = -1};
	_cleanup_close_ int t = protect_open_dir_nofollow(top);

	if (t >= 0)
		check_names(&s, t, top);
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
				check_config_file(&s, c, "/", 1, true);
				break;
			}
		}
	}
}
