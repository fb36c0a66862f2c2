/* SPDX-License-Identifier: MIT */
/*
 * supervisor/gitobj.h — a repository's objects read as git reads them,
 * and, once the sandbox has ended, their copies checked: one name, one
 * content, whichever copy the host's git takes (gitobj.c).
 */
#ifndef RINGFENCE_SUPERVISOR_GITOBJ_H
#define RINGFENCE_SUPERVISOR_GITOBJ_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

struct sandbox;

enum obj_type {
	OBJ_COMMIT = 1,
	OBJ_TREE = 2,
	OBJ_BLOB = 3,
	OBJ_TAG = 4,
	OBJ_OFS_DELTA = 6,
	OBJ_REF_DELTA = 7,
};

struct gitobj_pack {
	unsigned char *idx, *data;
	size_t idx_size, data_size;
	bool changed;	/* its .idx or .pack made or changed during the run */
	bool listed;	/* its .idx made or changed: it may name new objects */
	bool gone;	/* moved aside: no longer git's to read */
	uint32_t *drop; /* positions in its index to take out (forged) */
	size_t n_drop;
	char name[NAME_MAX + 1]; /* its .idx */
};

struct gitobj {
	const struct sandbox *sb;
	const char *top;    /* the repository, for what is said */
	const char *gitdir; /* its git directory (TOP/.git, or TOP when bare) */
	int objects;	    /* its objects/ */
	size_t sz;	    /* object id size: 20 or 32 */
	uint64_t work;	    /* spent of the budget */
	struct gitobj_pack *packs;
	size_t n_packs;
	bool packs_read;
	/* the packs' data files read at the start: one at the end that is
	 * none of them was put in place during the run (gitobj_read_packs()) */
	struct gitobj_file {
		dev_t dev;
		ino_t ino;
	} * start_data;
	size_t n_start_data;
	/* after the run (gitobj_end()): every copy of an object read must be
	 * the same content, else it does not read */
	bool end;
	const struct timespec *since; /* the run's start */
	/* the ids read while recording (the start's reads), for the end */
	unsigned char (*seen)[32];
	size_t n_seen;
	bool recording;
	bool unchecked; /* said: objects past the budget */
};

int gitobj_read(struct gitobj *o, const unsigned char *oid, enum obj_type *type,
		unsigned char **ret, size_t *ret_len);
int gitobj_read_typed(struct gitobj *o, const unsigned char *oid, enum obj_type want,
		      unsigned char **ret, size_t *ret_len);
bool gitobj_spend(struct gitobj *o, uint64_t n);
void gitobj_forget_packs(struct gitobj *o);
void gitobj_free(struct gitobj *o);
/* The end of the run: the copies of the objects IDS (N of them: what the
 * host's git reads at protected paths) checked, a forged one moved aside;
 * then reads take every copy (gitobj.c).  How many copies were forged. */
size_t gitobj_end(struct gitobj *o, const unsigned char (*ids)[32], size_t n);

/* Whether a copy of OID was made during the run (at the end): a loose
 * file made or changed, or a pack's index made or changed that names it.
 * A pack's data rewritten in place under an index of the host's is not
 * seen so (SECURITY.md). */
bool gitobj_is_new(struct gitobj *o, const unsigned char *oid);

/* Whether the regular file FD (open to read) is one git reads objects
 * from: a pack, its index, a multi-pack-index or a loose object (1), or
 * not (0), or -errno when it could not be read (gitcheck.c). */
int gitobj_file_stored(int fd);

int gitobj_open_file(int dir, const char *name);
void *gitobj_map_file(int dir, const char *name, size_t *ret_size);
size_t gitobj_parse_oid(const char *s, size_t n, unsigned char *bin);
void gitobj_oid_hex(const unsigned char *bin, size_t sz, char *hex);
/* Whether ST's inode changed (was made, written, linked or renamed) at or
 * after SINCE: its ctime, which no one can set back. */
static inline bool gitobj_newer(const struct stat *st, const struct timespec *since)
{
	return st->st_ctim.tv_sec > since->tv_sec ||
	       (st->st_ctim.tv_sec == since->tv_sec && st->st_ctim.tv_nsec >= since->tv_nsec);
}
/* Whether NAME in DIR is the link git init makes to see whether links
 * work there (tXXXXXX -> testing, removed at once): what is written
 * through it stays in the .git. */
bool git_probe_link(int dir, const char *name);
/* Whether a walk for the links a host git would write through enters REL
 * (a directory's path in a git directory): all but objects/'s loose
 * objects' directories, whose files git writes by a rename or an exclusive
 * create (objects itself, and its pack/ and info/, are entered: a link
 * there has git write packs, loose objects, commit-graphs elsewhere, and
 * git gc prune another repository's objects: an outside review). */
bool git_links_enter(const char *rel);

/* One walk of a git directory for the links a host git would write
 * through, for each of the three that look (a held .git at exit:
 * gitrefs.c; one found at exit: gitscan_gitdir.c; one made while the run
 * lasts: protwatch_config.c).  Each entry counts against BUDGET; a link
 * (git's probe excepted) is given to LINK with its lstat and its path in
 * the .git; a directory git_links_enter() takes that cannot be opened
 * (ERR its errno; ENOENT, gone, is passed over) or lies more than
 * MAX_DEPTH levels down (ERR 0) is given to UNCHECKED, with its path.  Either returns false to end
 * the walk. With SKIP_REFS_LOGS refs/ and logs/ at the top are passed over (judged as refs and
 * reflogs).  False when a callback ended it or the budget ran out (BUDGET is then 0), else true. */
struct git_links_walk {
	void *ctx;
	bool (*link)(void *ctx, int dir, const char *name, const char *rel, const struct stat *st);
	bool (*unchecked)(void *ctx, const char *rel, int err);
	int max_depth;
	bool skip_refs_logs;
	size_t budget;
	char rel[PATH_MAX]; /* (the walk's own: the path being looked at) */
};
bool git_links_walk(int git, struct git_links_walk *w);
#define GIT_LINKS_DEPTH	 32
#define GIT_LINKS_BUDGET (1 << 17)

#endif
