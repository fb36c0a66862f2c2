/* SPDX-License-Identifier: MIT */
/*
 * landlock/ — the whole interface of the Landlock folder.
 *
 * The supervisor plans the rules before fork (landlock_plan: pure apart from
 * reading directories), builds a ruleset fd from the plan (landlock_build),
 * and the child enforces it (landlock_restrict).  Knows nothing of INI.
 */
#ifndef RINGFENCE_LANDLOCK_H
#define RINGFENCE_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uapi.h"

/* The newest ABI whose rights this build knows by name.  ABIs above it are
 * used as this one: everything we ask for is still enforced. */
#define LANDLOCK_ABI_KNOWN 7

/* Rights granted by each kind of policy grant. */
#define LANDLOCK_READ (LL_FS_READ_FILE | LL_FS_READ_DIR)
#define LANDLOCK_EXEC (LANDLOCK_READ | LL_FS_EXECUTE)
#define LANDLOCK_WRITE                                                                             \
	(LANDLOCK_READ | LL_FS_WRITE_FILE | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE |                 \
	 LL_FS_MAKE_DIR | LL_FS_MAKE_REG | LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO | LL_FS_MAKE_SYM |    \
	 LL_FS_REFER | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)
/* Rights that mean something on a file (a rule on a file may hold only these). */
#define LANDLOCK_FILE_RIGHTS                                                                       \
	(LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)
/* Everything a carve-out marked read-only keeps. */
#define LANDLOCK_READ_ONLY  (LANDLOCK_READ | LL_FS_EXECUTE)
#define LANDLOCK_ALL_SCOPES (LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL)

/* What an ABI handles. */
struct landlock_caps {
	int abi;	 /* 0: no Landlock */
	uint64_t fs;	 /* filesystem rights the kernel can restrict */
	bool net_tcp;	 /* ABI 4 */
	uint64_t scopes; /* ABI 6 */
};

/* ABI from the kernel (0 when Landlock is absent or disabled), or -errno. */
int landlock_probe_abi(void);

/* Fills CAPS for ABI, following the kernel sample's fall-through. */
void landlock_caps_for_abi(int abi, struct landlock_caps *caps);

/* Which of WANTED_FS / WANTED_SCOPES the ABI cannot enforce.  REFER is never
 * "missing": ABI 1 refuses every cross-directory link/rename, which is
 * stricter than any grant. */
void landlock_missing(const struct landlock_caps *caps, uint64_t wanted_fs, uint64_t wanted_scopes,
		      uint64_t *ret_fs, uint64_t *ret_scopes);

/* Formats the set of rights as "read_file,read_dir,..." into buf. */
void landlock_fs_rights_format(uint64_t rights, char *buf, size_t size);

/* ---- planning ---------------------------------------------------------- */

struct landlock_grant {
	const char *path;
	uint64_t access;
	bool required; /* a missing path is an error, not a note */
};

/* At most MAX_ACCESS is allowed at PATH and beneath, whatever a broader grant
 * says: 0 for `deny`, LANDLOCK_READ_ONLY for `protect`. */
struct landlock_carveout {
	const char *path;
	uint64_t max_access;
	/* PATH may not exist yet and must not be created: its nearest existing
	 * ancestor is split like a directory on the way to it, so nothing new
	 * can be made there (a deny path that is absent needs no carve-out) */
	bool absent_too;
	/* PATH itself, a symbolic link, not what it points to: its directory
	 * is resolved and the last name kept, so the directories on the way
	 * keep only MAX_ACCESS and the link cannot be removed or replaced (one
	 * on the way to a deny path: a link or directory of the command's own
	 * there would send the host's tools, which write by name, to it) */
	bool nofollow;
};

struct landlock_rule {
	char *path; /* canonical, owned */
	uint64_t access;
	/* listed while splitting a grant around a carve-out (an entry of a
	 * directory on the way): gone by the time the rules are opened, it
	 * is skipped, as an entry gone while listing is */
	bool sibling;
};

/* A directory on the way to a carve-out: its rule holds less than the grant
 * above it (RIGHTS), so entries made in it after start-up get less too. */
struct landlock_split {
	char *path; /* canonical, owned */
	uint64_t rights;
};

struct landlock_plan {
	struct landlock_rule *rules;
	size_t n, cap;
	struct landlock_split *splits;
	size_t n_splits;
	/* the carve-outs, canonical (absent ones: their missing tail appended) */
	struct landlock_carveout *carveouts; /* paths owned */
	size_t n_carveouts;
};

/*
 * Plans rules for GRANTS.  CARVEOUTS are honoured inside Landlock alone, for
 * when no mount namespace can mask them: Landlock has no deny rule and a rule
 * covers its whole subtree, so a grant above a carve-out is replaced by
 * grants on each entry beside the path to it (see plan.c for the cost).
 * NOTE is called for each path skipped (missing, symlink); an error is
 * returned for a required path that is missing.
 */
typedef void (*landlock_note_fn)(void *ud, const char *path, const char *why);
int landlock_plan(const struct landlock_grant *grants, size_t n_grants,
		  const struct landlock_carveout *carveouts, size_t n_carveouts,
		  landlock_note_fn note, void *ud, struct landlock_plan *ret,
		  const char **ret_failed_path);
void landlock_plan_free(struct landlock_plan *plan);

/* Adds a rule for PATH (canonical), e.g. for a directory made after planning. */
int landlock_plan_add(struct landlock_plan *plan, const char *path, uint64_t access);

/* True when PATH is DIR or beneath it, by whole components ("/" covers all). */
bool landlock_path_beneath(const char *path, const char *dir);

/* True when PATH (canonical) is covered by a rule of PLAN granting ACCESS. */
bool landlock_plan_allows(const struct landlock_plan *plan, const char *path, uint64_t access);

/* ---- enforcing --------------------------------------------------------- */

/*
 * Creates a ruleset handling everything CAPS knows, adds PLAN's rules
 * (opening each path O_PATH|O_NOFOLLOW: a symlink planted since planning is
 * refused, never followed), and, when DENY_TCP, handles TCP bind/connect with
 * no rule so neither is possible.  Returns the fd (close-on-exec) or -errno;
 * *ret_failed_path names a path that could not be added.
 */
int landlock_build(const struct landlock_plan *plan, const struct landlock_caps *caps,
		   bool deny_tcp, const char **ret_failed_path);

/* In the child, after no_new_privs: enforces RULESET_FD on this thread. */
int landlock_restrict(int ruleset_fd, const struct landlock_caps *caps);
/* A domain that scopes SCOPES (LL_SCOPE_ABSTRACT_UNIX_SOCKET,
 * LL_SCOPE_SIGNAL) and nothing else, on the calling thread: its
 * descendants' sockets and processes stay reachable from it, the rest of
 * the host's are not.  Needs no_new_privs or CAP_SYS_ADMIN; -EOPNOTSUPP
 * where the kernel has not every one. */
int landlock_scope_self(const struct landlock_caps *caps, uint64_t scopes);

#endif
