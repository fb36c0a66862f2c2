/* SPDX-License-Identifier: MIT */
/*
 * A repository's objects, read as git reads them: loose (zlib) or from a
 * pack (version 2 index, deltas applied).  Everything read here was
 * written, or could have been, by the sandbox, and is read by the
 * supervisor: nothing is trusted (sizes, offsets, delta chains, names in
 * the object directory), and what reading costs has a budget (WORK_MAX).
 * git is not run: on a repository the sandbox could write, its
 * configuration alone runs commands (gitlinks.c).
 *
 * One name, one content.  git does not check that an object's content
 * hashes to its name when it reads it, and it takes the first copy it
 * finds (packs before loose objects, the newest pack first, a
 * multi-pack-index before the packs' own indexes).  So the sandbox could
 * give an object the host already has (the blob of a protected hook, the
 * tree above it, HEAD's commit) a second copy, or rewrite the only one,
 * with other content: the ids the end's checks compare stay the host's,
 * and the host's next `git checkout -- .husky` writes the sandbox's
 * hook.  gitobj_end() closes that, after the run (gitcheck.c):
 *   - every copy of each object the host's git reads at a protected path
 *     (the start's reads and the baseline's entries) that was made or
 *     changed during the run (its ctime: a loose object's file, a pack's
 *     .idx or .pack) must hash to its name (SHA-1 or SHA-256, OpenSSL's,
 *     loaded only then); one that does not is moved aside (a loose file,
 *     or the pack's .idx: git then does not see that pack);
 *   - a multi-pack-index made or changed during the run, or beside a pack
 *     that was, is moved aside: it maps names to offsets in the packs, a
 *     copy of its own (git rebuilds it: `git multi-pack-index write`);
 *   - from then on every object read has all its copies read: two that
 *     differ make it unreadable, which the checks count as changed.
 * A copy older than the run is the host's as it was at the start.  Not
 * found: an object planted in an earlier run under the name of content
 * the host had not made yet (git keeps the first object of a name and
 * only freshens it): SECURITY.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "../netproxy/netproxy.h"
#include "gitobj.h"
#include "gitobj_internal.h"
#include "supervisor.h"

bool gitobj_newer(const struct stat *st, const struct timespec *since)
{
	return st->st_ctim.tv_sec > since->tv_sec ||
	       (st->st_ctim.tv_sec == since->tv_sec && st->st_ctim.tv_nsec >= since->tv_nsec);
}

/* A hex digit's value: git takes capitals too, in refs, reflogs and
 * packed-refs (get_oid_hex). */
int gitobj_hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* An object id in hex at S (40 or 64 digits, then no more hex) to BIN;
 * its length in bytes, 0 for none. */
size_t gitobj_parse_oid(const char *s, size_t n, unsigned char *bin)
{
	size_t len = 0;

	while (len < n && len <= 64 && gitobj_hexval(s[len]) >= 0)
		len++;
	if (len != 40 && len != 64)
		return 0;
	for (size_t i = 0; i < len / 2; i++)
		bin[i] =
		    (unsigned char)(gitobj_hexval(s[2 * i]) << 4 | gitobj_hexval(s[2 * i + 1]));
	return len / 2;
}

void gitobj_oid_hex(const unsigned char *bin, size_t sz, char *hex)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < sz; i++) {
		hex[2 * i] = digits[bin[i] >> 4];
		hex[2 * i + 1] = digits[bin[i] & 15];
	}
	hex[2 * sz] = '\0';
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* N more of WORK_MAX spent; false (said once) when that is past it. */
bool gitobj_spend(struct gitobj *r, uint64_t n)
{
	if (r->work < WORK_MAX && n <= WORK_MAX - r->work) {
		r->work += n;
		return true;
	}
	if (r->work < WORK_MAX)
		warn("%s: reading its objects took more than %llu MiB: the rest count as changed",
		     r->top, WORK_MAX >> 20);
	r->work = WORK_MAX;
	return false;
}

/* The regular file NAME beneath DIR, opened to read: no symbolic link in
 * any of its components (the sandbox could point one, or a ref's name,
 * at any file of the host, a device among them), not a FIFO (opening one
 * would wait for a writer for ever) nor a device (opened with effects);
 * -1 else. */
int gitobj_open_file(int dir, const char *name)
{
	struct open_how how = {.flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
			       .resolve =
				   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	struct stat st;
	int fd = (int)syscall(SYS_openat2, dir, name, &how, sizeof(how));

	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* NAME beneath DIR mapped whole (gitobj_open_file()'s rules); its
 * status in *RET_ST when not NULL. */
void *gitobj_map_stat(int dir, const char *name, size_t *ret_size, struct stat *ret_st)
{
	struct stat st;
	_cleanup_close_ int fd = gitobj_open_file(dir, name);

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0)
		return NULL;
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return NULL;
	*ret_size = (size_t)st.st_size;
	if (ret_st)
		*ret_st = st;
	return m;
}

void *gitobj_map_file(int dir, const char *name, size_t *ret_size)
{
	return gitobj_map_stat(dir, name, ret_size, NULL);
}

/* The path of NAME in the objects directory, for what is said and for
 * protect_move_aside() (which reaches it following no link). */
void gitobj_object_path(const struct gitobj *r, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/objects/%s", r->gitdir, name);
}

/* NAME in the objects directory, not git's to read any longer: moved
 * aside, said (WHY) and logged. */
bool gitobj_put_aside(const struct gitobj *r, const char *name, const char *why)
{
	char path[PATH_MAX];

	gitobj_object_path(r, name, path, sizeof(path));
	bool moved = protect_move_aside(r->sb, path, "protect.git_object", MOVE_LIVE_QUIET) > 0;
	warn("%s: %s %s: %s", r->top, path, why,
	     moved ? "moved aside (*.ringfence-blocked); git fsck says what it held"
		   : "it could NOT be moved aside; do not check out from this repository before "
		     "review");
	return moved;
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
static bool pack_find(const struct gitobj *r, const struct gitobj_pack *p, const unsigned char *oid,
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

static int read_object(struct gitobj *r, const unsigned char *oid, enum obj_type *type,
		       unsigned char **ret, size_t *ret_len, int depth);

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
		e = read_object(r, boid, type, &base, &bn, depth + 1);
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

/* The loose object OID: 0, -ENOENT when there is none, or -errno.  Out of
 * read_object(), which a chain of deltas recurses through: its buffers
 * are not on the stack at each step. */
__attribute__((noinline)) int gitobj_read_loose(struct gitobj *r, const unsigned char *oid,
						enum obj_type *type, unsigned char **ret,
						size_t *ret_len, struct stat *ret_st)
{
	char hex[2 * 32 + 2], rel[2 * 32 + 4];
	struct stat st;

	gitobj_oid_hex(oid, r->sz, hex);
	snprintf(rel, sizeof(rel), "%.2s/%s", hex, hex + 2);
	_cleanup_close_ int fd = gitobj_open_file(r->objects, rel);
	/* a link on the way (objects/xx, or the file), a FIFO, ...: git
	 * would follow or open it; it does not read as no object */
	if (fd < 0 && errno != ENOENT)
		return -EINVAL;
	if (fd >= 0) {
		z_stream z = {0};
		unsigned char hdr[64];
		if (fstat(fd, &st) < 0)
			return -EINVAL;
		if (st.st_size > (off_t)OBJ_MAX)
			return -EFBIG;
		if (!gitobj_spend(r, (uint64_t)st.st_size))
			return -E2BIG;
		if (ret_st)
			*ret_st = st;
		size_t n = (size_t)st.st_size;
		_cleanup_free_ unsigned char *in = malloc(n ? n : 1);
		if (!in || read(fd, in, n) != (ssize_t)n || inflateInit(&z) != Z_OK)
			return -EINVAL;
		/* the header first: "TYPE SIZE\0" */
		z.next_in = in;
		z.avail_in = (uInt)n;
		z.next_out = hdr;
		z.avail_out = sizeof(hdr);
		int zr = inflate(&z, Z_SYNC_FLUSH);
		unsigned char *nul = memchr(hdr, 0, sizeof(hdr) - z.avail_out);
		char *sp = nul ? memchr(hdr, ' ', (size_t)(nul - hdr)) : NULL;
		if ((zr != Z_OK && zr != Z_STREAM_END) || !nul || !sp) {
			inflateEnd(&z);
			return -EINVAL;
		}
		size_t len = strtoul(sp + 1, NULL, 10), have = sizeof(hdr) - z.avail_out;
		size_t got = have - (size_t)(nul + 1 - hdr);
		*type = strncmp((char *)hdr, "commit ", 7) == 0 ? OBJ_COMMIT
			: strncmp((char *)hdr, "tree ", 5) == 0 ? OBJ_TREE
			: strncmp((char *)hdr, "blob ", 5) == 0 ? OBJ_BLOB
			: strncmp((char *)hdr, "tag ", 4) == 0	? OBJ_TAG
								: 0;
		if (len > OBJ_MAX) {
			inflateEnd(&z);
			return -EFBIG;
		}
		unsigned char *out = *type && len <= OBJ_MAX && got <= len && gitobj_spend(r, len)
					 ? malloc(len + 1)
					 : NULL;
		if (!out) {
			inflateEnd(&z);
			return -EINVAL;
		}
		memcpy(out, nul + 1, got);
		z.next_out = out + got;
		z.avail_out = (uInt)(len - got + 1);
		if (zr != Z_STREAM_END)
			zr = inflate(&z, Z_FINISH);
		inflateEnd(&z);
		if (zr != Z_STREAM_END || z.avail_out != 1) {
			free(out);
			return -EINVAL;
		}
		*ret = out;
		*ret_len = len;
		return 0;
	}
	return -ENOENT;
}

static void record(struct gitobj *r, const unsigned char *oid)
{
	if (!r->recording || r->n_seen >= SEEN_MAX)
		return;
	for (size_t i = 0; i < r->n_seen; i++)
		if (memcmp(r->seen[i], oid, r->sz) == 0)
			return;
	unsigned char(*v)[32] = realloc(r->seen, (r->n_seen + 1) * sizeof(*v));
	if (!v)
		return;
	r->seen = v;
	memcpy(v[r->n_seen++], oid, r->sz);
}

/* The object OID as git reads it: loose, or from the packs.  At the end,
 * every copy: one that differs from another makes it unreadable (git
 * takes one the reader here would not). */
static int read_object(struct gitobj *r, const unsigned char *oid, enum obj_type *type,
		       unsigned char **ret, size_t *ret_len, int depth)
{
	if (!gitobj_spend(r, 4096))
		return -E2BIG;
	record(r, oid);
	int e = gitobj_read_loose(r, oid, type, ret, ret_len, NULL);
	if (e != -ENOENT && (e < 0 || !r->end))
		return e;
	bool have = e == 0;
	if (!r->packs_read)
		gitobj_read_packs(r);
	for (size_t i = 0; i < r->n_packs; i++) {
		struct gitobj_pack *p = &r->packs[i];
		enum obj_type t;
		unsigned char *buf;
		size_t n;
		uint64_t off;
		if (p->gone || !pack_find(r, p, oid, &off))
			continue;
		if (!have) {
			e = gitobj_pack_read(r, p, off, type, ret, ret_len, depth);
			if (e < 0 || !r->end)
				return e;
			have = true;
			continue;
		}
		e = gitobj_pack_read(r, p, off, &t, &buf, &n, depth);
		bool same = e == 0 && t == *type && n == *ret_len && memcmp(buf, *ret, n) == 0;
		if (e == 0)
			free(buf);
		if (!same) {
			free(*ret);
			return -EINVAL;
		}
	}
	return have ? 0 : -ENOENT;
}

int gitobj_read(struct gitobj *o, const unsigned char *oid, enum obj_type *type,
		unsigned char **ret, size_t *ret_len)
{
	return read_object(o, oid, type, ret, ret_len, 0);
}

/* The object OID when it is of type WANT; its buffer freed when not. */
int gitobj_read_typed(struct gitobj *r, const unsigned char *oid, enum obj_type want,
		      unsigned char **ret, size_t *ret_len)
{
	enum obj_type t;
	unsigned char *buf;
	size_t n;
	int e = read_object(r, oid, &t, &buf, &n, 0);

	if (e < 0)
		return e;
	if (t != want) {
		free(buf);
		return -EINVAL;
	}
	*ret = buf;
	*ret_len = n;
	return 0;
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

void gitobj_free(struct gitobj *o)
{
	gitobj_forget_packs(o);
	free(o->start_data);
	o->start_data = NULL;
	o->n_start_data = 0;
	free(o->seen);
	o->seen = NULL;
	o->n_seen = 0;
	if (o->objects >= 0)
		close(o->objects);
	o->objects = -1;
}

bool gitobj_is_new(struct gitobj *o, const unsigned char *oid)
{
	char hex[2 * 32 + 2], rel[2 * 32 + 4];
	struct stat st;
	uint64_t off;

	gitobj_oid_hex(oid, o->sz, hex);
	snprintf(rel, sizeof(rel), "%.2s/%s", hex, hex + 2);
	if (fstatat(o->objects, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && gitobj_newer(&st, o->since))
		return true;
	if (!o->packs_read)
		gitobj_read_packs(o);
	/* a pack's .idx, not its .pack: git freshens a pack's objects by
	 * touching the .pack (its ctime), and adding one changes the .idx */
	for (size_t j = 0; j < o->n_packs; j++)
		if (o->packs[j].listed && !o->packs[j].gone &&
		    pack_find(o, &o->packs[j], oid, &off))
			return true;
	return false;
}
