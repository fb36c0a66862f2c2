/* SPDX-License-Identifier: MIT */
/*
 * sandbox/mounts_internal.h — what the files of the mount namespace share
 * (mounts.c has the picture): mounts.c (the steps, in their order) and
 * mounts_grants.c (the mounts the write grants decide).  Not for others:
 * sandbox.h has the interface.
 */
#ifndef RINGFENCE_SANDBOX_MOUNTS_INTERNAL_H
#define RINGFENCE_SANDBOX_MOUNTS_INTERNAL_H

#include "sandbox.h"

/* ---- mounts_grants.c ------------------------------------------------------- */

/* Step 5: each write grant that is not an exec grant bound onto itself
 * noexec, exec grants beneath one given exec back; 0 or -errno, naming the
 * path in *RET_PATH. */
int mount_writes_noexec(const struct sandbox_plan *plan, const char **ret_path);
/* Step 5b: every mount read-only but the write grants; 0 or -errno, naming
 * the path in *RET_PATH. */
int mount_rest_readonly(const struct sandbox_plan *plan, const char **ret_path);

#endif
