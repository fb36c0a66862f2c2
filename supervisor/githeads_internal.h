/* SPDX-License-Identifier: MIT */
/*
 * supervisor/githeads_internal.h — a write grant's repository as the end
 * of a run checks it (githeads.c says what and why), shared by its
 * rooms: githeads.c (start and end), githeads_index.c (the index), gittrees.c (what a tree and a
 * history hold at protected paths), gitrefs.c (refs, and writing them
 * back), gitlogs.c (reflogs, the files beside the refs) and gitreach.c
 * (what the host's refs reached at the start).  Not for
 * others: supervisor.h has the interface.
 */
#ifndef RINGFENCE_SUPERVISOR_GITHEADS_INTERNAL_H
#define RINGFENCE_SUPERVISOR_GITHEADS_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gitobj.h"
#include "supervisor.h"

#define REFS_DEPTH    128
#define PARENTS_MAX   1000
#define PROTECTED_MAX 512
#define BASELINE_MAX  65536
#define INDEX_MAX     (2ull << 30)
/* an index without a checksum (index.skipHash) copied at the start, and
 * packed-refs, up to these sizes: past them, what they held at the start
 * is unknown (the baseline cut, every packed line judged) */
#define INDEX_COPY_MAX	(64u << 20)
#define PACKED_COPY_MAX (32u << 20)

struct entry {
	char *path;
	uint32_t mode;
	unsigned char oid[32];
};

/* A repository of a write grant: what the start noted, and the object
 * reader's state. */
struct githead {
	const struct sandbox *sb;
	char *top;
	char gitdir[PATH_MAX]; /* TOP/.git, or TOP for a bare repository */
	char index_path[PATH_MAX];
	int index_fd; /* the host's index at the start, held, or -1 */
	/* what the held index must still hold to be the host's (it could be
	 * written in place, then replaced by a rename as git replaces it):
	 * its size and checksum at the start (its last bytes, the hash of
	 * the rest), or, where it has none (index.skipHash), a copy */
	off_t index_size;
	unsigned char index_tail[32];
	char *index_copy;
	int index_held; /* held_index_ok(): 0 not asked yet, 1, -1 */
	/* its packed-refs at the start: a copy (a rename replaces it; the
	 * sandbox could write a held one in place), or none */
	char *packed;
	size_t packed_len;
	enum packed_state {
		PACKED_NONE,   /* there was none */
		PACKED_COPIED, /* packed and packed_len */
		PACKED_UNREAD, /* too large to copy, or unreadable */
	} packed_state;
	/* the reflogs git takes earlier commits from (stash@{1}, HEAD@{1},
	 * `git checkout -`, @{1}, topic@{1}) as they were at the start:
	 * copies (git appends to them in place), NULL when there was none or
	 * it was too large; sorted by name but the first (logs/HEAD) */
	struct reflog {
		char *name;
		char *copy;
		size_t len;
		bool stash;
	} * logs;
	size_t n_logs;
	size_t logs_copied; /* the copies' bytes */
	char head_file[PATH_MAX];
	unsigned char head_oid[32]; /* the commit HEAD named at the start */
	size_t head_sz;		    /* 0: none */
	char head_ref[PATH_MAX];    /* the branch it was on, or "" */
	int git;		    /* the .git directory */
	struct gitobj o;	    /* its objects */
	const char *protected[PROTECTED_MAX];
	size_t n_protected;
	char *owned[PROTECTED_MAX]; /* the strings of protected[] made here */
	size_t n_owned;
	struct entry *base; /* the baseline: what the host had at the start */
	size_t n_base;
	bool base_cut;	     /* not all of it could be read */
	bool base_indexed;   /* the held index added to it (base_ready()) */
	uint64_t first[4];   /* the first bytes of the protected paths, a set */
	struct reach *reach; /* gitreach.c: the host's history, as far as read */
};

/* Whether the baseline has the entry (the start's index read in at the
 * first miss). */
bool gh_in_base(struct githead *r, const char *path, uint32_t mode, const unsigned char *oid);
/* The entry put in the baseline. */
void gh_base_add(struct githead *r, const char *path, uint32_t mode, const unsigned char *oid);
/* The commit (or what the tag names) OID's tree, in *TREE; its buffer in
 * *RET_BUF when not NULL. */
bool gh_commit_tree(struct githead *r, const unsigned char *oid, unsigned char *tree,
		    unsigned char **ret_buf, size_t *ret_len);
/* Every protected path beneath the tree TREE found at PREFIX ("" for a
 * commit's): in the baseline (ADD), or checked against it. */
bool gh_tree_paths_below(struct githead *r, const unsigned char *tree, const char *prefix,
			 bool add);
/* The same for a commit's tree. */
bool gh_tree_paths(struct githead *r, const unsigned char *tree, bool add);
/* The commit OID, and the history the run made below it (gittrees.c). */
bool gh_history_ok(struct githead *r, const unsigned char *oid, bool stash);
/* Whether the commit OID is reachable from the refs the host had at the
 * start (gitreach.c). */
bool gh_host_has(struct githead *r, const unsigned char *oid);
void gh_reach_free(struct githead *r);
/* The first first-parent ancestor of OID from before the run that passes. */
bool gh_good_ancestor(struct githead *r, const unsigned char *oid, unsigned char *ret);
/* NAME (relative to the .git) written as CONTENT (a temporary file and a
 * rename; its directories made, no link followed); -errno. */
int gh_put_file(struct githead *r, const char *name, const char *content);
/* What differed and what was done: a line and a protect.git_content event. */
void gh_say(struct githead *r, const char *what, const char *why, const char *done);
/* WHAT (a directory of the .git) could not be opened (errno): said. */
void gh_unchecked(struct githead *r, const char *what);
/* the same, WHY said for it */
void gh_unchecked_as(struct githead *r, const char *what, const char *why);
/* The ref NAME naming OID: checked, and set back when it fails. */
void gh_check_ref(struct githead *r, const char *name, const unsigned char *oid);
/* The ref file FILE in DIR: an object id in *OID (true), or a symbolic
 * ref's target in TARGET. */
bool gh_read_ref(int dir, const char *file, unsigned char *oid, size_t *sz, char *target,
		 size_t target_size);
/* The object id the ref NAME resolves to (loose, else packed-refs). */
bool gh_resolve(struct githead *r, const char *name, unsigned char *oid, size_t *sz, int depth);
/* A loose ref (or HEAD, ORIG_HEAD) changed during the run. */
void gh_check_ref_file(struct githead *r, int dir, const char *file, const char *name);
/* Every loose ref beneath DIR (PREFIX its name). */
void gh_walk_refs(struct githead *r, int dir, const char *prefix, int depth);
/* What the run made at the .git's top that git resolves as a ref, before
 * refs/ (gitrefs.c): removed. */
void gh_check_beside(struct githead *r);
/* Links the run made in the .git, which the host's git writes through:
 * removed. */
void gh_check_links(struct githead *r);
/* packed-refs, when it changed: each line the start's did not have. */
void gh_check_packed(struct githead *r);
/* The reflogs at the start, copied. */
void gh_read_reflogs(struct githead *h);
/* The reflogs, when they changed: their new entries. */
void gh_check_reflogs(struct githead *r);
/* The held index of the start added to the baseline (once). */
void gh_base_ready(struct githead *r);

/* The lines of a file (packed-refs, a reflog) as it was at the start, by
 * a hash of each: the sandbox's may have millions of lines, each looked
 * up. */
struct line {
	uint64_t hash;
	const char *at;
	size_t len;
};
/* The lines of M (N bytes), sorted by hash, malloc'd; NULL when none. */
struct line *gh_index_lines(const char *m, size_t n, size_t *ret_n);
/* Whether the lines V (N of them) have LINE. */
bool gh_had_line(const struct line *v, size_t n, const char *line, size_t len);
/* NAME (relative to the .git) removed, reached following no link. */
int gh_remove_file(struct githead *r, const char *name);

/* FETCH_HEAD and the other names git reads beside the refs. */
void gh_check_pseudo(struct githead *r);
/* The names gh_check_pseudo() judges (FETCH_HEAD, MERGE_HEAD, ...). */
extern const char *const gh_pseudo_refs[];
extern const size_t gh_n_pseudo_refs;
/* refs/ made something else than a directory: moved aside, made again. */
bool gh_check_refs_dir(struct githead *r);

/* githeads_index.c: the index at the end (what it stages at protected
 * paths, the held index, a shared index); whether the index held since
 * the start still has the host's entries at protected paths. */
void gh_check_index(struct githead *r);
bool gh_held_index_ok(struct githead *h);

#endif
