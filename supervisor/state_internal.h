/* SPDX-License-Identifier: MIT */
/*
 * supervisor/state_internal.h — what the files of the command's own state
 * share (state.c has the picture): state.c (the directories made, the
 * state directory, the stand-ins found or made and planned) and
 * state_seed.c (a stand-in made where there was none, empty or seeded).
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

#endif
