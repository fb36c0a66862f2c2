/* SPDX-License-Identifier: MIT */
/*
 * supervisor/state_internal.h — what the files of the command's own state
 * share (state.c has the picture): state.c (the directories made, the
 * state directory, the stand-ins found or made and planned) and
 * state_seed.c (a stand-in made where there was none, empty or seeded),
 * seed_json.c (a seeded settings file's "env" scrubbed of secrets).
 * Not for others: supervisor.h has the interface.
 */
#ifndef RINGFENCE_SUPERVISOR_STATE_INTERNAL_H
#define RINGFENCE_SUPERVISOR_STATE_INTERNAL_H

#include <stdbool.h>

#include "supervisor.h"

/* ---- state.c ------------------------------------------------------------- */

/* Gives FD (made by us) to the command's user when we switch to one;
 * 0 or -errno. */
int state_give(const struct sandbox *sb, int fd);

/* ---- state_seed.c --------------------------------------------------------- */

/* Makes PS's stand-in NAME in DIR, seeded from the host's beneath HOME_FD
 * when SEED and the host has it, else empty; 0 or -errno. */
int state_make_standin(struct sandbox *sb, const struct private_standin *ps, int dir,
		       const char *name, int home_fd, bool seed);

/* ---- seed_json.c ---------------------------------------------------------- */

/* How deep a seeded settings file may nest (deeper: not copied). */
#define SEED_JSON_DEPTH 64

/* Blanks with spaces, in the JSON text BUF (LEN bytes), each member of a
 * top-level "env" object whose name or value may hold a secret, with one
 * comma beside it: the text stays valid JSON, every other byte where it
 * was.  NAMES (SIZE bytes, may be NULL) gets the names blanked, separated
 * by a space, control characters as '?', cut with " ..." when full.  The
 * number of members blanked; -EINVAL when BUF is not strict JSON (as
 * JSON.parse reads it), -ELOOP when it nests deeper than SEED_JSON_DEPTH,
 * -ENOMEM, each with BUF half scrubbed, not to be used. */
int seed_json_scrub(char *buf, size_t len, char *names, size_t size);

#endif
