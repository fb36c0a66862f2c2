/* SPDX-License-Identifier: MIT */
/*
 * sandbox/gitview_internal.h — what the files of the views of .git share
 * (gitview.c has the picture): gitview.c (the view, set up by init) and
 * gitview_carry.c (what is carried back once the sandbox is empty).  Not
 * for others: sandbox.h has the interface.
 */
#ifndef RINGFENCE_SANDBOX_GITVIEW_INTERNAL_H
#define RINGFENCE_SANDBOX_GITVIEW_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "sandbox.h"

struct gv_file {
	char name[NAME_MAX + 1];
	struct stat host; /* the real file at start */
	struct stat copy; /* our copy, as written */
	bool seen;	  /* still there at the end */
};

struct gitview {
	const char *path; /* the plan's */
	int real_fd;	  /* O_PATH: the real .git beneath our tmpfs */
	int priv_fd;	  /* O_PATH: the tmpfs */
	bool chown;	  /* init is root: new files get the owner of what they replace */
	uid_t uid;	  /* the real .git's owner */
	gid_t gid;
	struct gv_file *files; /* copied at start */
	size_t n_files;
	char **bound; /* names that are mount points in the tmpfs */
	size_t n_bound;
};

/* ---- gitview.c ------------------------------------------------------------- */

/* SIZE bytes of IN, from its start, written to OUT (fewer when IN is
 * shorter); 0 or -errno. */
int gv_copy_fd(int in, int out, off_t size);

#endif
