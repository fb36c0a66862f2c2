/* SPDX-License-Identifier: MIT */
/*
 * supervisor/learn_internal.h — what the files of `ringfence learn` share:
 * learn.c (a learning run: what the command used), learn_write.c (the
 * policy learned, written) and learn_from.c (the proposals from a run's
 * audit log).  Not for others: supervisor.h has the interface.
 */
#ifndef RINGFENCE_SUPERVISOR_LEARN_INTERNAL_H
#define RINGFENCE_SUPERVISOR_LEARN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "supervisor.h"

#define LEARN_DIRS_MAX	 4096 /* directories recorded; the rest counted */
#define LEARN_SLOTS	 (LEARN_DIRS_MAX * 2)
#define LEARN_HOSTS_MAX	 256
#define LEARN_NOTES_MAX	 64
#define LEARN_CANDS_MAX	 16
#define LEARN_CAND_HOSTS 4

struct learn_dir {
	char *path;
	unsigned rights;
	unsigned long count;
	char *why;
	/* every access so far a listing of the directory (LL_FS_READ_DIR):
	 * its names were used, and a read grant would give every file
	 * beneath it (learn_write.c does not propose it) */
	bool listed_only;
};

struct learn_host {
	char host[256];
	uint16_t port;
	unsigned long count;
};

/* An environment variable that looks like an API key, and where its value
 * was seen going. */
struct learn_cand {
	char *name;
	char *value; /* the secret: wiped when freed */
	struct learn_host hosts[LEARN_CAND_HOSTS];
	size_t n_hosts;
	bool more_hosts, plain;
};

struct learn_rec {
	/* BASE's grants, canonical: read, write, exec */
	char **cover[3];
	size_t n_cover[3];
	char **never; /* the home directories: never granted, nor above */
	size_t n_never;
	char **deny; /* every deny path of the run: never granted */
	size_t n_deny;
	char **roots; /* the widening's own write grants (home, cwd) */
	size_t n_roots;
	bool tmp_private; /* a private /tmp and /dev/shm (namespaces) */
	char *tmpdir;	  /* the private TMPDIR (no namespaces) */

	struct learn_dir *dirs;
	size_t n_dirs;
	unsigned long dropped;
	uint32_t slots[LEARN_SLOTS]; /* index + 1 into dirs; 0: empty */

	struct learn_host hosts[LEARN_HOSTS_MAX];
	size_t n_hosts;
	char *notes[LEARN_NOTES_MAX];
	size_t n_notes;
	unsigned long more_notes;
	struct learn_cand cands[LEARN_CANDS_MAX];
	size_t n_cands;
};

/* S made fit for one comment line (control bytes made '?'), in place. */
char *learn_one_line(char *s);
/* Whether S begins with a control a terminal obeys: C0, DEL, or C1 in
 * UTF-8 (U+0080..U+009F); its length, else 0 (learn_from.c). */
size_t learn_control_at(const char *s);
/* VALUE written as one item of KEY in SECTION ("filesystem", "network" or
 * "sandbox"'s include) into OUT (SIZE), quoted when it holds a blank or a
 * comma; false when no policy line can hold it.  The line is read back by
 * the policy parser, which must find VALUE alone: a name the sandbox
 * chose (a file it made, a request's path) never adds a second item
 * (learn_write.c). */
bool learn_value(const char *section, const char *key, const char *value, char *out, size_t size);
/* The learned policy R into F (BASE_ABS, BASE: the policy it widened). */
void learn_write(struct learn_rec *r, FILE *f, const struct cli *cli, const char *base_abs,
		 const struct policy *base);
/* FD, written in DIRFD, put in place as NAME (replacing a file only when
 * FORCE; SHOWN in messages). */
void learn_publish(int dirfd, int fd, const char *name, bool force, const char *shown);

#endif
