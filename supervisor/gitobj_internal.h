/* SPDX-License-Identifier: MIT */
/*
 * supervisor/gitobj_internal.h — the object reader's own parts, shared by
 * gitobj.c (reading), gitobj_pack.c (the packs) and gitcheck.c (the end's
 * checks of the store).  Not for others: gitobj.h is the interface.
 */
#ifndef RINGFENCE_SUPERVISOR_GITOBJ_INTERNAL_H
#define RINGFENCE_SUPERVISOR_GITOBJ_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "gitobj.h"

/* an object read whole; larger ones count as changed */
#define OBJ_MAX	    (64u << 20)
#define DELTA_DEPTH 4096
#define PACKS_MAX   1024
#define SEEN_MAX    65536
/* What reading objects may cost a repository, at the start and again at
 * the end: bytes read and inflated, and 4 KiB for each object looked up.
 * All of it is the sandbox's to shape (a chain of deltas over large
 * objects, trees naming one subtree many times over at each level, a
 * million refs, each with a thousand ancestors): past this, objects do
 * not read, and count as changed, where the supervisor would otherwise be
 * kept busy for hours. */
#ifndef WORK_MAX
#define WORK_MAX (256ull << 20)
#endif

/* NAME beneath DIR mapped whole (gitobj_open_file()'s rules); its status
 * in *RET_ST when not NULL. */
void *gitobj_map_stat(int dir, const char *name, size_t *ret_size, struct stat *ret_st);
/* The path of NAME in the objects directory. */
void gitobj_object_path(const struct gitobj *r, const char *name, char *buf, size_t size);
/* NAME in the objects directory moved aside, said (WHY) and logged. */
bool gitobj_put_aside(const struct gitobj *r, const char *name, const char *why);
void gitobj_read_packs(struct gitobj *r);
/* A pack index's tables: its object count, where names and offsets start. */
bool gitobj_idx_tables(const struct gitobj *r, const struct gitobj_pack *p, uint32_t *total,
		       size_t *names, size_t *offs);
/* The offset of the object at position I of P's index. */
bool gitobj_idx_offset(const struct gitobj *r, const struct gitobj_pack *p, uint32_t i,
		       uint64_t *ret);
/* OID's position in P's index. */
bool gitobj_pack_pos(const struct gitobj *r, const struct gitobj_pack *p, const unsigned char *oid,
		     uint32_t *ret);
/* OID's offset in the pack P; false when it has none. */
bool gitobj_pack_find(const struct gitobj *r, const struct gitobj_pack *p, const unsigned char *oid,
		      uint64_t *ret);
/* The object at OFF in the pack P, deltas applied. */
int gitobj_pack_read(struct gitobj *r, const struct gitobj_pack *p, uint64_t off,
		     enum obj_type *type, unsigned char **ret, size_t *ret_len, int depth);
/* The loose object OID: 0, -ENOENT when there is none, -E2BIG past the
 * budget, -EFBIG past OBJ_MAX (its file or what it inflates to), or
 * -errno. */
int gitobj_read_loose(struct gitobj *r, const unsigned char *oid, enum obj_type *type,
		      unsigned char **ret, size_t *ret_len, struct stat *ret_st);
/* The object OID as git reads it, DEPTH deltas down (gitobj_read()). */
int gitobj_read_object(struct gitobj *r, const unsigned char *oid, enum obj_type *type,
		       unsigned char **ret, size_t *ret_len, int depth);

#endif
