/* SPDX-License-Identifier: MIT */
/*
 * supervisor/protwatch_internal.h — what the files of the watch while the
 * sandbox runs share (protwatch.c has the picture): protwatch.c (the
 * watches, their events, the repositories made during the run),
 * protwatch_found.c (the git directories the walk while the sandbox runs
 * finds, handed over and watched), protwatch_config.c (what a
 * repository's config may set, and whether a repository made during the
 * run holds anything a host git would run).  Not for others: supervisor.h
 * has the interface.
 */
#ifndef RINGFENCE_SUPERVISOR_PROTWATCH_INTERNAL_H
#define RINGFENCE_SUPERVISOR_PROTWATCH_INTERNAL_H

#include <stdbool.h>
#include <sys/inotify.h>
#include <sys/types.h>

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
/* Lines on stderr for names moved while the command runs: a loop that
 * makes one name again and again gets a count at exit instead. */
#define PW_WARN_MAX 16
/* How often one name may be made again, and moved aside again, within
 * PW_REPEAT_MS while the command runs (the last PW_REPEAT_SLOTS names
 * moved, by their paths): past it the command is racing the watch, making
 * the name as fast as it goes so that a host tool started meanwhile reads
 * it (an outside review: a loop renaming logging.py back 264,551 times in
 * 12 s had 45 of 100 host imports run it), and the run is ended.  An agent
 * that tries a protected name a few times, or a tool that makes many
 * names, stays far below (a review of the first form, a hash of the path
 * without a window, found a test suite making repositories could reach
 * it). */
#define PW_REPEAT_MAX	32
#define PW_REPEAT_MS	2000
#define PW_REPEAT_SLOTS 64

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
	struct pw_repeat {
		char *path; /* NULL: a free slot */
		unsigned n; /* moves since SINCE */
		long since; /* ms, CLOCK_MONOTONIC */
	} repeats[PW_REPEAT_SLOTS];
	bool racing; /* one past PW_REPEAT_MAX: the run ends */
	bool full;   /* PW_MAX_DIRS reached */
	bool lost;   /* the kernel's queue overflowed */
	bool deep;   /* a directory past 64 levels or PATH_MAX: not watched */
	int timer;   /* timerfd: repositories made during the run looked at
			again (again_ms()); armed with the first, or -1 */
	bool armed;
	/* the walk while the sandbox runs: its process, the pipe it hands
	 * git directories over on (a path may arrive in pieces), and what
	 * was handed over */
	pid_t finder;
	int finder_pidfd; /* its pidfd: signalled and waited for without a
			     race with the main loop's reaping */
	int finder_fd;
	int finder_stop; /* closed to end it: a pipe's write end */
	size_t flen;
	struct pw_found *found;
	size_t n_found, next_found;
	bool any_dirty;
	bool find_pending;	  /* started at the first tick */
	long find_started_ms;	  /* CLOCK_MONOTONIC */
	long find_next_ms;	  /* the next walk, once one has ended; 0: none */
	bool find_here_said;	  /* a walk was made in the supervisor (find_here()) */
	unsigned long found_over; /* past PW_MAX_FOUND or unwatchable */
	/* the denied files masked at start, by their directory's watch and
	 * their name: one made again there is masked again (init's
	 * mounts_remask()) */
	struct pw_deny {
		int wd;
		char *path, *name; /* NAME: in PATH */
	} * deny;
	size_t n_deny;
	unsigned long remasked; /* names made again, said (PW_WARN_MAX) */
	/* last: the fields above, written at every walk's start and end
	 * while the sandbox idles, stay on one page, not two around this
	 * buffer (the pages the supervisor writes while idle, fewer) */
	char fbuf[PATH_MAX];
};

/* ---- protwatch.c ------------------------------------------------------- */

/* The watch descriptor WD is PATH's (KIND; HAD_GIT: a .git was there at
 * start); 0 or -ENOMEM. */
int pw_record(struct protwatch *pw, int wd, const char *path, enum pw_kind kind, bool had_git);
/* The timer that looks at the repositories again: armed, first in FIRST
 * ms (pw_arm(): in again_ms()). */
void pw_arm_at(struct protwatch *pw, long first);
void pw_arm(struct protwatch *pw);

/* ---- protwatch_found.c: the git directories found while the sandbox runs */

/* The I-th found git directory checked now (gitscan_gitdir()). */
void pw_found_check(struct sandbox *sb, size_t i);
/* An event EV on the watch D of a found git directory: marked dirty. */
void pw_found_event(struct protwatch *pw, const struct pw_dir *d, const struct inotify_event *ev);
/* The dirty ones checked, after a batch of events. */
void pw_found_flush(struct sandbox *sb);
/* CLOCK_MONOTONIC in ms. */
long pw_now_ms(void);
/* The walk of the write grants started again (a child of ours). */
void pw_start_finder(struct sandbox *sb);
/* The walk's process told to end, what it says meanwhile said, for at
 * most MS ms; then killed, and waited for. */
void pw_end_finder(struct sandbox *sb, int ms);

/* ---- protwatch_config.c ------------------------------------------------- */

/* Whether the repository made during the run at GIT (a directory) holds
 * nothing a host git would run or follow; else a reason in WHY. */
bool pw_repo_ok(const char *git, char *why, size_t size);

#endif
