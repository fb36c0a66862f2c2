/* SPDX-License-Identifier: MIT */
/*
 * supervisor/protect_internal.h — what protect.c and placeholder.c (the
 * empty directories put where a protected one is absent) share.  Not for
 * others: supervisor.h has the interface.
 */
#ifndef RINGFENCE_SUPERVISOR_PROTECT_INTERNAL_H
#define RINGFENCE_SUPERVISOR_PROTECT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "supervisor.h"

/* Whether PATH (no symlink followed) is a directory holding nothing. */
bool protect_dir_is_empty(const char *path);
/* The directory of PATH opened following no symlink, its last component
 * in NAME (SIZE); -errno. */
int protect_split_parent(const char *path, char *name, size_t size);
/* The placeholder at PATH held by a shared lock: its locked descriptor
 * (its fstat() in *RET_ST), -ESTALE when PATH no longer names an empty
 * directory, or -errno. */
int placeholder_take(const char *path, struct stat *ret_st);
/* PATH (ST; FD from placeholder_take(), or -1) is SB's placeholder, to
 * remove at exit. */
void placeholder_add(struct sandbox *sb, const char *path, const struct stat *st, int fd);
bool placeholder_is(const struct sandbox *sb, const char *path);
/* When the sandbox has ended: SB's placeholders no other run holds are
 * renamed out of the way and removed (by a child, when we are not PID 1). */
void placeholders_finish(struct sandbox *sb);
/* SB is going: die()'s exit handler forgets it. */
void placeholders_release(const struct sandbox *sb);

#endif
