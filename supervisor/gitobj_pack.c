/* SPDX-License-Identifier: MIT */
/*
 * A repository's packs, read as git reads them (gitobj.c has the picture):
 * each .idx of version 2 and its .pack found and mapped, once per
 * repository, and at the end marked made or changed during the run (one
 * that does not read here, or a link, moved aside); an object's place
 * found in an index; the object at a place inflated, its deltas applied
 * (a base named by id is read through gitobj_read_object(), as any object
 * is).  Nothing in a pack is trusted: sizes, offsets and delta chains are
 * checked, and what reading costs is charged to the budget.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zlib.h>

#include "gitobj.h"
#include "gitobj_internal.h"
#include "supervisor.h"

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Every pack (objects/pack/NAME.idx of version 2 and NAME.pack), mapped
 * once per repository.  At the end: whether each was made or changed
 * during the run; a pack directory that is a link (git follows it) moved
 * aside; past PACKS_MAX, what was made during the run moved aside unread. */
/* At the end, a pack that did not read here (IDX, its .pack DATA): git may
 * read it all the same (an index of version 1, a link to the sandbox's
 * file elsewhere), so what the run made or changed so, and any link, is
 * moved aside.  An index of the host's from before the run that this
 * reader does not take stays (an old git's version 1). */
static void unread_pack(struct gitobj *r, int dir, const char *idx, const char *data)
{
	static const char why[] = "does not read as a pack here, and git may read it";
	char rel[NAME_MAX + 8];
	struct stat ist, pst;

	if (fstatat(dir, idx, &ist, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	bool has_data = fstatat(dir, data, &pst, AT_SYMLINK_NOFOLLOW) == 0;
	if (has_data && S_ISLNK(pst.st_mode)) {
		snprintf(rel, sizeof(rel), "pack/%s", data);
		gitobj_put_aside(r, rel, why);
	}
	if (S_ISLNK(ist.st_mode) || (has_data && S_ISLNK(pst.st_mode)) ||
	    gitobj_newer(&ist, r->since) || (has_data && gitobj_newer(&pst, r->since))) {
		snprintf(rel, sizeof(rel), "pack/%s", idx);
		gitobj_put_aside(r, rel, why);
	}
}

void gitobj_read_packs(struct gitobj *r)
{
	struct dirent *de;

	r->packs_read = true;
	int p = openat(r->objects, "pack", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (p < 0 && r->end && (errno == ELOOP || errno == ENOTDIR))
		gitobj_put_aside(r, "pack",
				 "is not a directory: git would read packs the sandbox named");
	_cleanup_(closedirp) DIR *d = p >= 0 ? fdopendir(p) : NULL;
	if (!d) {
		if (p >= 0)
			close(p);
		return;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name), is, ds;
		char name[NAME_MAX + 2], rel[NAME_MAX + 8];
		struct stat ist, pst;
		if (l <= 4 || strcmp(de->d_name + l - 4, ".idx") != 0)
			continue;
		/* git repacks long before: more are the sandbox's, and each
		 * would be searched for every object read */
		if (r->n_packs >= PACKS_MAX) {
			snprintf(rel, sizeof(rel), "pack/%s", de->d_name);
			if (r->end &&
			    fstatat(dirfd(d), de->d_name, &ist, AT_SYMLINK_NOFOLLOW) == 0 &&
			    gitobj_newer(&ist, r->since))
				gitobj_put_aside(
				    r, rel, "is a pack made during the run past the number read");
			continue;
		}
		unsigned char *idx = gitobj_map_stat(dirfd(d), de->d_name, &is, &ist);
		snprintf(name, sizeof(name), "%.*s.pack", (int)(l - 4), de->d_name);
		unsigned char *data = idx ? gitobj_map_stat(dirfd(d), name, &ds, &pst) : NULL;
		struct gitobj_pack *v =
		    data ? realloc(r->packs, (r->n_packs + 1) * sizeof(*v)) : NULL;
		if (!v || is < 8 + 1024 || memcmp(idx, "\377tOc", 4) != 0 || be32(idx + 4) != 2 ||
		    ds < 12 || memcmp(data, "PACK", 4) != 0) {
			if (idx)
				munmap(idx, is);
			if (data)
				munmap(data, ds);
			if (v)
				r->packs = v;
			if (r->end)
				unread_pack(r, dirfd(d), de->d_name, name);
			continue;
		}
		r->packs = v;
		bool had = false;
		for (size_t k = 0; k < r->n_start_data && !had; k++)
			had = r->start_data[k].dev == pst.st_dev &&
			      r->start_data[k].ino == pst.st_ino;
		struct gitobj_file *sd =
		    r->end || had ? NULL
				  : realloc(r->start_data, (r->n_start_data + 1) * sizeof(*sd));
		if (sd) {
			r->start_data = sd;
			sd[r->n_start_data++] = (struct gitobj_file){pst.st_dev, pst.st_ino};
		}
		v[r->n_packs] = (struct gitobj_pack){
		    .idx = idx,
		    .data = data,
		    .idx_size = is,
		    .data_size = ds,
		    .changed =
			r->since && (gitobj_newer(&ist, r->since) || gitobj_newer(&pst, r->since)),
		    /* an index made or changed, or data put in place (another
		     * inode than the start's: a new name for each object the
		     * host's index lists; one changed in its own inode needs a
		     * mode the gates refuse, attrgate.c) */
		    .listed = r->since && (gitobj_newer(&ist, r->since) ||
					   (r->end && !had && gitobj_newer(&pst, r->since))),
		};
		snprintf(v[r->n_packs].name, sizeof(v[r->n_packs].name), "%s", de->d_name);
		r->n_packs++;
	}
}

/* The number of objects P's index names, and where its tables start;
 * false when they do not fit in it. */
bool gitobj_idx_tables(const struct gitobj *r, const struct gitobj_pack *p, uint32_t *total,
		       size_t *names, size_t *offs)
{
	*total = be32(p->idx + 8 + 4 * 255);
	*names = 8 + 1024;
	*offs = *names + (size_t)*total * (r->sz + 4);
	return *offs + (size_t)*total * 4 <= p->idx_size;
}

/* The offset of the object at position I of P's index. */
bool gitobj_idx_offset(const struct gitobj *r, const struct gitobj_pack *p, uint32_t i,
		       uint64_t *ret)
{
	uint32_t total;
	size_t names, offs;

	if (!gitobj_idx_tables(r, p, &total, &names, &offs) || i >= total)
		return false;
	uint32_t o = be32(p->idx + offs + (size_t)i * 4);
	if (!(o & 0x80000000u)) {
		*ret = o;
		return true;
	}
	size_t big = offs + (size_t)total * 4 + (size_t)(o & 0x7fffffffu) * 8;
	if (big + 8 > p->idx_size)
		return false;
	*ret = (uint64_t)be32(p->idx + big) << 32 | be32(p->idx + big + 4);
	return true;
}

/* OID's position in the pack P's index; false when it has none. */
bool gitobj_pack_pos(const struct gitobj *r, const struct gitobj_pack *p, const unsigned char *oid,
		     uint32_t *ret)
{
	const unsigned char *m = p->idx;
	uint32_t lo = oid[0] ? be32(m + 8 + 4 * (oid[0] - 1)) : 0, hi = be32(m + 8 + 4 * oid[0]);
	uint32_t total;
	size_t names, offs;

	if (!gitobj_idx_tables(r, p, &total, &names, &offs) || lo > hi || hi > total)
		return false;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(m + names + (size_t)mid * r->sz, oid, r->sz);
		if (c < 0) {
			lo = mid + 1;
		} else if (c > 0) {
			hi = mid;
		} else {
			*ret = mid;
			return true;
		}
	}
	return false;
}

/* OID's offset in the pack P; false when it has none. */
bool gitobj_pack_find(const struct gitobj *r, const struct gitobj_pack *p, const unsigned char *oid,
		      uint64_t *ret)
{
	uint32_t i;

	return gitobj_pack_pos(r, p, oid, &i) && gitobj_idx_offset(r, p, i, ret);
}

/* SIZE bytes inflated from IN (at most AVAIL), malloc'd; NULL on error. */
static unsigned char *inflate_exact(struct gitobj *r, const unsigned char *in, size_t avail,
				    size_t size)
{
	z_stream z = {0};
	unsigned char *out =
	    size <= OBJ_MAX && gitobj_spend(r, size) ? malloc(size ? size : 1) : NULL;

	if (!out || inflateInit(&z) != Z_OK) {
		free(out);
		return NULL;
	}
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)(avail > UINT32_MAX ? UINT32_MAX : avail);
	z.next_out = out;
	z.avail_out = (uInt)size;
	int zr = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	/* what it read too: empty stored blocks read on without output */
	if (zr != Z_STREAM_END || z.total_out != size || !gitobj_spend(r, z.total_in)) {
		free(out);
		return NULL;
	}
	return out;
}

static bool varint(const unsigned char **p, const unsigned char *end, size_t *ret)
{
	size_t v = 0;
	int shift = 0;
	unsigned char c;

	do {
		if (*p >= end || shift > 56)
			return false;
		c = *(*p)++;
		v |= (size_t)(c & 0x7f) << shift;
		shift += 7;
	} while (c & 0x80);
	*ret = v;
	return true;
}

/* BASE (BN bytes) with the delta D (DN bytes) applied, malloc'd. */
static unsigned char *apply_delta(const unsigned char *base, size_t bn, const unsigned char *d,
				  size_t dn, size_t *ret_len)
{
	const unsigned char *p = d, *end = d + dn;
	size_t src, dst, at = 0;

	if (!varint(&p, end, &src) || !varint(&p, end, &dst) || src != bn || dst > OBJ_MAX)
		return NULL;
	unsigned char *out = malloc(dst ? dst : 1);
	if (!out)
		return NULL;
	while (p < end) {
		unsigned char c = *p++;
		if (c & 0x80) {
			size_t off = 0, len = 0;
			for (int i = 0; i < 4; i++)
				if (c & (1u << i)) {
					if (p >= end)
						goto bad;
					off |= (size_t)*p++ << (8 * i);
				}
			for (int i = 0; i < 3; i++)
				if (c & (0x10u << i)) {
					if (p >= end)
						goto bad;
					len |= (size_t)*p++ << (8 * i);
				}
			if (!len)
				len = 0x10000;
			if (off > bn || len > bn - off || len > dst - at)
				goto bad;
			memcpy(out + at, base + off, len);
			at += len;
		} else if (c) {
			if (c > (size_t)(end - p) || c > dst - at)
				goto bad;
			memcpy(out + at, p, c);
			p += c;
			at += c;
		} else {
			goto bad;
		}
	}
	if (at != dst)
		goto bad;
	*ret_len = dst;
	return out;
bad:
	free(out);
	return NULL;
}

/* The object at OFF in the pack P, deltas applied. */
int gitobj_pack_read(struct gitobj *r, const struct gitobj_pack *p, uint64_t off,
		     enum obj_type *type, unsigned char **ret, size_t *ret_len, int depth)
{
	const unsigned char *s, *end = p->data + p->data_size;
	size_t size = 0;
	int shift = 4;

	if (depth > DELTA_DEPTH || off < 12 || off >= p->data_size)
		return -EINVAL;
	s = p->data + off;
	unsigned char c = *s++;
	enum obj_type t = (enum obj_type)((c >> 4) & 7);
	size = c & 15;
	while (c & 0x80) {
		if (s >= end || shift > 56)
			return -EINVAL;
		c = *s++;
		size |= (size_t)(c & 0x7f) << shift;
		shift += 7;
	}
	if (size > OBJ_MAX)
		return -EFBIG; /* whole or a delta: too large to read here */
	if (t == OBJ_COMMIT || t == OBJ_TREE || t == OBJ_BLOB || t == OBJ_TAG) {
		*ret = inflate_exact(r, s, (size_t)(end - s), size);
		*type = t;
		*ret_len = size;
		return *ret ? 0 : -EINVAL;
	}
	unsigned char *base = NULL;
	size_t bn = 0;
	int e;
	if (t == OBJ_OFS_DELTA) {
		if (s >= end)
			return -EINVAL;
		c = *s++;
		uint64_t back = c & 0x7f;
		while (c & 0x80) {
			if (s >= end || back > (UINT64_MAX >> 8))
				return -EINVAL;
			c = *s++;
			back = ((back + 1) << 7) | (c & 0x7f);
		}
		if (back == 0 || back > off)
			return -EINVAL;
		e = gitobj_pack_read(r, p, off - back, type, &base, &bn, depth + 1);
	} else if (t == OBJ_REF_DELTA) {
		if ((size_t)(end - s) < r->sz)
			return -EINVAL;
		unsigned char boid[32];
		memcpy(boid, s, r->sz);
		s += r->sz;
		e = gitobj_read_object(r, boid, type, &base, &bn, depth + 1);
	} else {
		return -EINVAL;
	}
	if (e < 0)
		return e;
	unsigned char *delta = inflate_exact(r, s, (size_t)(end - s), size);
	*ret = delta && gitobj_spend(r, bn) ? apply_delta(base, bn, delta, size, ret_len) : NULL;
	free(delta);
	free(base);
	return *ret ? 0 : -EINVAL;
}

void gitobj_forget_packs(struct gitobj *o)
{
	for (size_t j = 0; j < o->n_packs; j++) {
		munmap(o->packs[j].idx, o->packs[j].idx_size);
		munmap(o->packs[j].data, o->packs[j].data_size);
		free(o->packs[j].drop);
	}
	free(o->packs);
	o->packs = NULL;
	o->n_packs = 0;
	o->packs_read = false;
}
