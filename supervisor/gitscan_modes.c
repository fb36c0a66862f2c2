/* SPDX-License-Identifier: MIT */
/*
 * The walk's modes (gitscan.c has the picture): a directory the run made
 * writable by every user loses that right by the descriptor the walk holds
 * (scan_open_mode(), a file so made too), another user's entry made in
 * what the run made is moved aside at exit, and a directory the command
 * made unreadable to its owner gets read and search back, so that the walk
 * sees what it holds.  Said once per grant (scan_say_modes()).
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

#include "gitscan_internal.h"

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
bool scan_born_after(int dir, const char *name, const struct timespec *since)
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
	       scan_born_after(parent, "", &sb->started_born);
}

/* Another user's entry PATH (UID), made during the run in a directory the
 * run made: moved aside when the walk at exit ends (by then the walk no
 * longer needs the name; the outermost first). */
static void foreign_add(struct scan *s, const char *path, uid_t uid, bool move)
{
	char **v;

	if (s->foreign++ == 0) {
		s->foreign_uid = uid;
		snprintf(s->firsts->foreign, sizeof(s->firsts->foreign), "%s", path);
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
void scan_open_mode(struct scan *s, int parent, int fd, const char *path)
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
	if ((!ww && !said_other) || scan_guarded(s->sb, &st) ||
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
			snprintf(s->firsts->dir, sizeof(s->firsts->dir), "%s", path);
		if (!fixed && s->unfixed++ == 0)
			snprintf(s->firsts->unfixed, sizeof(s->firsts->unfixed), "%s", path);
		s->opened++;
	}
	if (said_other || (s->found_fd < 0 && err == EPERM))
		foreign_add(s, path, st.st_uid, said_other && !s->sb->recovering);
}

/* The directory NAME (at PATH) in the one open at DIR, another user's in a
 * directory of the command's made during the run: to be moved aside at
 * exit (scan_open_mode()'s judgement, for what the walk takes up later). */
bool scan_foreign_here(struct scan *s, int dir, const char *name, const char *path)
{
	struct stat st;

	if (!s->modes || s->found_fd >= 0 || fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    scan_guarded(s->sb, &st) || parent_host_like(dir) || !foreign_in(dir, &st, s->sb))
		return false;
	foreign_add(s, path, st.st_uid, !s->sb->recovering);
	return true;
}

/*
 * The entry NAME (no directory) in the directory open at DIR (PATH beneath
 * it), as scan_open_mode() judges directories: a file made during the run and
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
void scan_open_mode_file(struct scan *s, int dir, const char *name, const char *path)
{
	struct stat st, ost;
	char self[64], sub[PATH_MAX];

	if (!s->modes || fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode) ||
	    scan_guarded(s->sb, &st))
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
		/* said, not changed: see scan_open_mode() */
		if (s->unfixed++ == 0)
			snprintf(s->firsts->unfixed, sizeof(s->firsts->unfixed), "%s", sub);
		s->opened++;
		return;
	}
	if (chmod(self, (ost.st_mode & 07777) & ~(mode_t)S_IWOTH) < 0)
		return; /* the walk at exit says it, when it still is so */
	if (s->files++ == 0)
		snprintf(s->firsts->file, sizeof(s->firsts->file), "%s", sub);
}

/* The directory open at O_PATH descriptor FD (PATH), which git enters by
 * name (a .git, a worktree's git directory), as scan_open_mode() judges it:
 * opened to be changed only when it is writable by every user. */
void scan_open_mode_path(struct scan *s, int parent, int fd, const char *path)
{
	struct stat st;

	if (!s->modes || fstat(fd, &st) < 0 || !(st.st_mode & S_IWOTH))
		return;
	_cleanup_close_ int o = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o >= 0)
		scan_open_mode(s, parent, o, path);
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
bool scan_give_back_read(struct scan *s, int dir, const char *name, const char *path)
{
	struct stat st;
	char self[64];
	/* the directory held, checked and changed through its descriptor:
	 * the sandbox runs while the live walk does, and NAME checked, then
	 * changed by name, could be a link by then, which fchmodat()
	 * follows (to a file of the user's anywhere) */
	_cleanup_close_ int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    !gitobj_newer(&st, s->since) ||
	    (st.st_mode & (S_IRUSR | S_IXUSR)) == (S_IRUSR | S_IXUSR))
		return false;
	/* fchmod() refuses an O_PATH descriptor; its /proc link does not */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (chmod(self, (st.st_mode & 07777) | S_IRUSR | S_IXUSR) < 0)
		return false;
	warn("the sandbox made %s unreadable: its owner's read right is given back, so that "
	     "the repositories in it are checked",
	     path);
	return true;
}

int scan_open_listable(struct scan *s, int dir, const char *name, const char *path)
{
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0)
		scan_open_mode(s, dir, fd, path);
	if (fd >= 0 || errno != EACCES)
		return fd;
	if (scan_give_back_read(s, dir, name, path)) {
		fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			scan_open_mode(s, dir, fd, path);
			return fd;
		}
	}
	s->skipped++;
	return -1;
}

/* What scan_open_mode() found in the grant S walked: a line or three, and one
 * audit event.  By the walk while the sandbox runs as well, for what it
 * changed (which the walk at exit no longer finds), so that each directory
 * is said once; another user's, and what could not be changed, at exit. */
void scan_say_modes(const struct scan *s)
{
	char js[PATH_MAX + 64], jf[PATH_MAX + 64], ju[PATH_MAX + 64], jo[PATH_MAX + 64];

	if (!s->opened && !s->foreign && !s->files)
		return;
	if (s->files)
		warn("%lu file%s the sandbox made writable by every user in %s (the first: %s): "
		     "write for others removed, so that no other local user can change what the "
		     "user runs there",
		     s->files, s->files == 1 ? "" : "s", s->root, s->firsts->file);
	if (s->opened > s->unfixed)
		warn("%lu director%s the sandbox made writable by every user in %s (the first: "
		     "%s): write for others removed, so that no other local user can put there "
		     "what the host's tools would run",
		     s->opened - s->unfixed, s->opened - s->unfixed == 1 ? "y" : "ies", s->root,
		     s->firsts->dir);
	if (s->unfixed && s->sb->recovering)
		warn("%lu entr%s writable by every user made since that run started in %s (the "
		     "first: %s): left as they are, since what the host made after its supervisor "
		     "was killed cannot be told apart; review before running tools there",
		     s->unfixed, s->unfixed == 1 ? "y" : "ies", s->root, s->firsts->unfixed);
	else if (s->unfixed)
		warn("%lu director%s writable by every user made during the run in %s could NOT "
		     "be changed (the first: %s); review before running tools there",
		     s->unfixed, s->unfixed == 1 ? "y" : "ies", s->root, s->firsts->unfixed);
	if (s->foreign)
		warn("%lu entr%s made by another user (uid %u) during the run in %s, in "
		     "directories the sandbox made (the first: %s): %s",
		     s->foreign, s->foreign == 1 ? "y" : "ies", (unsigned)s->foreign_uid, s->root,
		     s->firsts->foreign,
		     s->foreign_moved == s->foreign
			 ? "moved aside to *.ringfence-blocked; review before running tools there"
			 : "NOT all moved aside; review before running tools there");
	json_string(js, sizeof(js), s->root);
	json_string(jf, sizeof(jf), s->opened > s->unfixed ? s->firsts->dir : "");
	json_string(ju, sizeof(ju), s->unfixed ? s->firsts->unfixed : "");
	json_string(jo, sizeof(jo), s->foreign ? s->firsts->foreign : "");
	audit_event(
	    s->sb->audit_fd, "protect.mode",
	    "\"path\":%s,\"dirs\":%lu,\"first\":%s,\"unchanged\":%lu,"
	    "\"first_unchanged\":%s,\"foreign\":%lu,\"foreign_uid\":%d,\"first_foreign\":%s,"
	    "\"files\":%lu",
	    js, s->opened, jf, s->unfixed, ju, s->foreign, s->foreign ? (int)s->foreign_uid : -1,
	    jo, s->files);
}
