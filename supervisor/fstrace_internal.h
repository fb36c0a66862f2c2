/* SPDX-License-Identifier: MIT */
/*
 * supervisor/fstrace_internal.h — what the files of the file trace share
 * (fstrace.c has the picture): fstrace.c (the judgement, and the rights
 * each stopped call needs), fstrace_view.c (a path argument resolved as
 * the command sees it), fstrace_report.c (a refusal logged and counted,
 * the summary at exit).  Not for others: supervisor.h has the interface.
 */
#ifndef RINGFENCE_SUPERVISOR_FSTRACE_INTERNAL_H
#define RINGFENCE_SUPERVISOR_FSTRACE_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "supervisor.h"

/* ---- fstrace_view.c: the caller's view ----------------------------------- */

/* One path argument, resolved. */
struct fs_path {
	char path[PATH_MAX];   /* the target (the final symlink followed when asked) */
	char parent[PATH_MAX]; /* the directory it is (or would be) an entry of */
	bool exists;
	mode_t mode;
	/* on a read-only mount in the caller's view: the target (when it
	 * exists), its directory; the kernel says EROFS before Landlock looks */
	bool ro, parent_ro;
};

/* The name of FD as the command sees it; 0 or -errno. */
int ft_fd_name(int fd, char *buf, size_t size);
/* The path argument at ADDR of the caller PID, relative to DIRFD_BASE,
 * resolved in its view (ROOT: its root); 0 or -errno. */
int ft_resolve(pid_t pid, int root, int dirfd_base, uint64_t addr, bool follow,
	       struct fs_path *ret);
/* The base directory for a *at() call's DIRFD (AT_FDCWD: the cwd); an
 * O_PATH fd or -errno. */
int ft_open_base(pid_t pid, int dirfd);

/* ---- fstrace_report.c: the refusal, logged and counted ------------------- */

struct seccomp_notif;
/* The refusal of ACCESS to PATH (V says why), counted in ST and logged. */
void ft_refused(const struct sandbox *sb, const struct seccomp_notif *req, struct broker_stats *st,
		enum fs_access access, const char *path, const struct fs_verdict *v);

#endif
