/* SPDX-License-Identifier: MIT */
/*
 * supervisor/fsgate_internal.h — what the files of the file gate share
 * (fsgate.c has the picture): fsgate.c (the directories the gate keeps,
 * the judgement of a name in them, what the rest of the supervisor asks
 * of the gate) and fsgate_call.c (one call through the gate: the path in
 * the caller's view, the call made as the command).  Not for others:
 * supervisor.h has the interface.
 */
#ifndef RINGFENCE_SUPERVISOR_FSGATE_INTERNAL_H
#define RINGFENCE_SUPERVISOR_FSGATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "supervisor.h"

struct gate_dir {
	int fd; /* O_PATH, held: the inode is not reused while we judge by it */
	dev_t dev;
	ino_t ino;
	uint64_t rights; /* what the grant above gives entries made here */
	char *path;	 /* canonical, for a directory on the way; NULL for one made */
	bool git;	 /* a repository directory (.git, or NAME.git) */
};

struct fsgate {
	struct gate_dir *dirs;
	size_t n, cap, made;
	/* git state directories absent at start, in .git directories */
	char **state;
	size_t n_state;
	unsigned long refused; /* protected names refused, said at exit */
	/* and by name and kind, for --trace's summary (the first GATE_GROUPS) */
	struct gate_refusal {
		char *path;
		enum fs_access access;
		unsigned long count;
	} * refusals;
	size_t n_refusals;
	size_t made_max; /* directories made and held, at most */
	bool said_full;
};

/* Refusals said as they happen; the rest counted at exit. */
#define GATE_WARN_MAX 3
/* Names kept for --trace's summary (which shows the first few) */
#define GATE_GROUPS 32

/* Keeps the directory FD (the gate's from then on), with the RIGHTS the
 * grant above gives entries made in it; PATH for a directory on the way,
 * NULL for one the gate made.  NULL when FD is no directory, or out of
 * memory. */
struct gate_dir *gate_add(struct fsgate *g, int fd, uint64_t rights, const char *path);
/* The kept directory that is ST, or NULL. */
struct gate_dir *gate_find(const struct fsgate *g, const struct stat *st);
/* Lets go of the directory ST the gate made (removed, or renamed over). */
void gate_drop(struct fsgate *g, const struct stat *st);
/* Why NAME in D may not be changed through the gate; NULL when it may. */
const char *gate_judge(const struct sandbox *sb, const struct gate_dir *d, const char *name);

#endif
