/* SPDX-License-Identifier: MIT */
/*
 * supervisor/gitscan_internal.h — what the files of the walk of the write
 * grants share (gitscan.c has the picture): gitscan.c (the walk),
 * gitscan_modes.c (what the run left writable by every user, and another
 * user's entries), gitscan_gitdir.c (one git directory, and what its
 * config points at).  Not for others: supervisor.h has the interface.
 */
#ifndef RINGFENCE_SUPERVISOR_GITSCAN_INTERNAL_H
#define RINGFENCE_SUPERVISOR_GITSCAN_INTERNAL_H

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "gitobj.h"
#include "supervisor.h"

/* modules/ nests as deep as submodules do, and a name may hold '/' */
#define GITSCAN_MODULES_DEPTH 16

/* The first path of each kind the walk of a grant changed or found
 * (scan_say_modes() names them).  Apart from struct scan, in scan_grant()'s
 * frame only: the checks a supervisor repeats while the sandbox idles
 * (gitscan_gitdir(), gitscan_pointer(), ...) make a struct scan each, and
 * 16 KB of these in it were 4 pages of stack zeroed at each
 * (-ftrivial-auto-var-init), kept for the sandbox's life. */
struct scan_firsts {
	char dir[PATH_MAX], unfixed[PATH_MAX], foreign[PATH_MAX], file[PATH_MAX];
};

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
	 * the run made writable by every user lose that right (scan_open_mode()) */
	bool modes;
	unsigned long opened;	    /* made writable by every user, found */
	unsigned long unfixed;	    /* of them, still so (a refused fchmod) */
	unsigned long foreign;	    /* another user's, made in what the run made */
	uid_t foreign_uid;	    /* the first other user's */
	unsigned long files;	    /* files made writable by every user, changed */
	struct scan_firsts *firsts; /* the first of each, said (scan_grant()'s) */
	char **foreign_paths;	    /* another user's entries made in what the run made */
	size_t n_foreign_paths;
	unsigned long foreign_moved; /* of them, moved aside at exit */
	/* the walk when the sandbox has ended (or a crash journal's): an
	 * unfinished sequence's state (check_state()) is judged then only,
	 * so that a rebase the command runs meanwhile keeps its own */
	bool at_exit;
	/* inside a package or build tree: the protected names of a project
	 * are not looked for there (gitscan.c's walk()) */
	unsigned names_off;
	const char *skip; /* a directory not entered (ringfence's state), or NULL */
	/* the directories new links led the walk to (check_linked_names()) */
	struct {
		dev_t dev;
		ino_t ino;
	} linked[64];
	size_t n_linked;
};

static inline bool not_before(long long sec, long nsec, const struct timespec *since)
{
	return sec > since->tv_sec || (sec == since->tv_sec && nsec >= since->tv_nsec);
}

/* gitobj_newer(), where a file system keeps whole seconds only (ext4 with
 * 128-byte inodes): a ctime of no nanoseconds is taken as the whole second
 * it falls in, the start's second included */
static inline bool changed_since(const struct stat *st, const struct timespec *since)
{
	return gitobj_newer(st, since) ||
	       (st->st_ctim.tv_nsec == 0 && st->st_ctim.tv_sec == since->tv_sec);
}

/* The birth time of NAME in DIR ("": DIR itself), no earlier than SINCE;
 * false also where the file system keeps none (*RET_KNOWN false). */
static inline bool born_not_before(int dir, const char *name, const struct timespec *since,
				   bool *ret_known)
{
	struct statx sx;

	*ret_known =
	    statx(dir, name, (name[0] ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH) | AT_STATX_DONT_SYNC,
		  STATX_BTIME, &sx) == 0 &&
	    (sx.stx_mask & STATX_BTIME);
	return *ret_known && not_before(sx.stx_btime.tv_sec, (long)sx.stx_btime.tv_nsec, since);
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

#define for_each_entry(l, de)                                                                      \
	for (struct dirent64 *de = (struct dirent64 *)(l)->buf; (char *)de < (l)->buf + (l)->len;  \
	     de = (struct dirent64 *)((char *)de + de->d_reclen))

/* ---- gitscan.c: the walk ------------------------------------------------- */

/* Whether protect.c kept ST from the sandbox (read-only, behind a view, or
 * an empty placeholder of ours): what it holds is not the sandbox's. */
bool scan_guarded(const struct sandbox *sb, const struct stat *st);
/* DIR/NAME moved aside, said once with WHY. */
void scan_quarantine(struct scan *s, const char *dir, const char *name, const char *why);
/* The entries of the directory open at FD, read whole; 0 or -errno (the
 * caller frees RET->buf). */
int scan_list_dir(int fd, struct listing *ret);

/* ---- gitscan_modes.c: what the run left writable by every user ------------ */

void scan_open_mode(struct scan *s, int parent, int fd, const char *path);
void scan_open_mode_file(struct scan *s, int dir, const char *name, const char *path);
void scan_open_mode_path(struct scan *s, int parent, int fd, const char *path);
bool scan_foreign_here(struct scan *s, int dir, const char *name, const char *path);
bool scan_give_back_read(struct scan *s, int dir, const char *name, const char *path);
int scan_open_listable(struct scan *s, int dir, const char *name, const char *path);
void scan_say_modes(const struct scan *s);
bool scan_born_after(int dir, const char *name, const struct timespec *since);

/* ---- gitscan_gitdir.c: one git directory, and what its config points at --- */

void scan_check_gitdir(struct scan *s, int g, const char *path, bool worktree, int depth);
void scan_check_config_file(struct scan *s, const char *path, const char *top, int depth,
			    bool judged);

#endif
