/* SPDX-License-Identifier: MIT */
/*
 * supervisor/seccomp_internal.h — what the files of the seccomp profile
 * share: seccomp_table.c (the profile as data), seccomp.c (the two
 * programs made from it by libseccomp) and seccomp_notify.c (the
 * notification filter and the run's own-group prefix, by hand).  Not for
 * others: supervisor.h has the interface.
 */
#ifndef RINGFENCE_SUPERVISOR_SECCOMP_INTERNAL_H
#define RINGFENCE_SUPERVISOR_SECCOMP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor.h"

/* Refused by argument in the deny filter: (arg & mask) == value. */
struct sc_masked {
	char name[24]; /* an array: sc_entry says why */
	unsigned arg;
	uint64_t mask, value;
};
extern const struct sc_masked seccomp_masked[];
extern const size_t seccomp_masked_n;

/* A file made set-id by open/openat: (flags & create) == create and
 * (mode & bit) == bit. */
struct sc_setid {
	char name[24]; /* an array: sc_entry says why */
	unsigned flags_arg, mode_arg;
	uint64_t create, bit;
};
extern const struct sc_setid seccomp_created_setid[];
extern const size_t seccomp_created_setid_n;

/* Held to the caller itself without a PID namespace: ARG is VALUE. */
struct sc_own {
	char name[24]; /* an array: sc_entry says why */
	unsigned arg;
	uint32_t value;
};
extern const struct sc_own seccomp_own_only[];
extern const size_t seccomp_own_only_n;
bool seccomp_own_only_listed(const char *name);

/* personality(2)'s allowed values. */
extern const unsigned long seccomp_personality_allowed[];
extern const size_t seccomp_personality_allowed_n;

/* NAME's entry in the table. */
bool seccomp_table_lookup(const char *name, const struct sc_entry **ret);
/* Whether the policy's list L names NAME. */
bool seccomp_in_list(const struct policy_list *l, const char *name);

#endif
