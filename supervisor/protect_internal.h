/* SPDX-License-Identifier: MIT */
/*
 * supervisor/protect_internal.h — what the files of `protect` share:
 * protect.c (the plan: mounts, carve-outs, what is checked at exit),
 * protect_gather.c (the candidates), protect_names.c (the built-in names),
 * placeholder.c (the empty directories put where a protected one is
 * absent).  Not for others: supervisor.h has the interface.
 */
#ifndef RINGFENCE_SUPERVISOR_PROTECT_INTERNAL_H
#define RINGFENCE_SUPERVISOR_PROTECT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "supervisor.h"

/* ---- candidates (protect_gather.c) --------------------------------------- */

/* Where the link at PATH leads when nothing is there (a dangling link, or
 * a chain of them, 40 at most): that absent path, absolute, from the last
 * link's canonical directory with its "." and ".." taken as written, into
 * OUT (SIZE), when it lies below TOP outside its .git and package trees;
 * false for a link that leads to something, no link, a loop, elsewhere. */
bool protect_dangling_target(const char *top, const char *path, char *out, size_t size);

enum prot_kind {
	PROT_FILE = 1, /* absent: checked at exit */
	PROT_DIR,      /* a directory; absent: checked at exit */
	PROT_GITDIR,   /* .git: a directory is handled by its entries below;
			  a `gitdir:` file is protected; absent: placeholder */
	PROT_POLICY,   /* named by the policy: absent, a carve-out */
	PROT_DIR_HOLD, /* a directory; absent: a placeholder, as for .git */
	PROT_SUBGIT,   /* a submodule's .git: a `gitdir:` file is protected, a
			  directory by its entries; absent: checked at exit */
	PROT_PRESENT,  /* protected when present; absent: may be made (git's
			  state of a rebase the host left: its todo's `exec`
			  lines run at the host's `git rebase --continue`) */
	_PROT_MAX,
};

struct prot_builtin {
	char path[40]; /* an array: supervisor.h's sc_entry says why */
	enum prot_kind kind;
};

/* The built-in names beneath every write grant, or (HOME) in the home
 * directory only (protect_names.c); their number in *N. */
const struct prot_builtin *protect_builtins(bool home, size_t *n);

struct cand {
	char *path;
	enum prot_kind kind;
	size_t prefix; /* a built-in name: length of the canonical directory it
			  is looked up in, else 0 */
};

struct cands {
	struct cand *v;
	size_t n;
};

void cand_add(struct cands *c, const char *path, enum prot_kind kind);
void cand_add_in(struct cands *c, const char *path, enum prot_kind kind, size_t prefix);
/* Shortest first: a parent comes before what it holds. */
void cands_sort(struct cands *c);
void cands_free(struct cands *c);

/*
 * The names in a directory, read once: most built-in names are absent, and
 * one getdents() over a project's or a home's top level answers for all of
 * them where an lstat() each cost ~1 us apiece at every start.
 */
struct listing {
	char *dir;
	char **names; /* sorted */
	size_t n;
	bool ok;
	bool gone; /* the directory itself is absent (or no directory) */
};

struct listings {
	struct listing *v;
	size_t n;
};

/* False only when the listing of PATH's first PREFIX bytes shows the next
 * component is absent, or that directory is. */
bool listing_may_exist(struct listings *ls, const char *path, size_t prefix);
/* The listing of PATH's first LEN bytes, read now if not yet. */
const struct listing *listing_get(struct listings *ls, const char *dir, size_t len);
void listings_free(struct listings *ls);

/* A git directory (ST) whose hooks and configuration are kept from the
 * sandbox, or a hooks directory or included file its config points at
 * (gitscan.c passes over them at exit). */
void protect_guard_gitdir(struct sandbox *sb, const struct stat *st);

/* Every candidate beneath the write grants ROOTS (canonical directories)
 * into CAND; found repositories, trees and the like into SB; LS lists the
 * directories looked in. */
void protect_gather(struct sandbox *sb, char **roots, size_t nroots, struct cands *cand,
		    struct listings *ls);

/* ---- Python's standard modules at a project's top (protect_python.c) ------ */

/* TOP (canonical) is where the built-in names are looked for. */
void protect_python_top(struct sandbox *sb, const char *top);
/* The modules each top holds now, listed in LS: the project's own. */
void protect_python_plan(struct sandbox *sb, struct listings *ls);
/* The workspace files each top holds now, listed in LS, into CAND: held. */
void protect_python_cands(struct sandbox *sb, struct listings *ls, struct cands *cand);
void protect_python_clear(struct sandbox *sb);

/* ---- placeholders (placeholder.c) ---------------------------------------- */

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
