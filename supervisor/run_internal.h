/* SPDX-License-Identifier: MIT */
/*
 * supervisor/run_internal.h — what run.c (the policy, the start of init and
 * its fallbacks) and runloop.c (one run: its steps, the loop that serves
 * the sandbox, the end) share.  Not for others: supervisor.h has the
 * interface.
 */
#ifndef RINGFENCE_SUPERVISOR_RUN_INTERNAL_H
#define RINGFENCE_SUPERVISOR_RUN_INTERNAL_H

#include <signal.h>
#include <stdbool.h>

#include "supervisor.h"

/* A network namespace made before any secret is read, by a small child
 * (run.c says why); dropped when the plan has none. */
void netns_pre_start(const struct policy *p);
void netns_pre_drop(void);

/* What a started init reported first. */
enum start_result {
	START_READY = 1, /* running (namespaces set up, or none asked for) */
	START_RETRY,	 /* SB was planned again: start once more */
};

/* Starts init (run.c has the fallbacks); an early report other than the
 * namespace set-up's is left in *EARLY for the main loop. */
enum start_result start_init(struct sandbox *sb, const struct policy *p, int lifeline[2],
			     int rep_pipe[2], int sfd, const sigset_t *saved, pid_t *ret_pid,
			     struct msg_report *early, bool *have_early);

/* Protected names made while the sandbox runs are moved aside at once;
 * without the watch they are only at exit: said, and refused when strict. */
void start_protwatch(struct sandbox *sb);

#endif
