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
 * hook.  gitobj_end() closes that, after the run:
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
#include "supervisor.h"

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

bool gitobj_newer(const struct stat *st, const struct timespec *since)
{
	return st->st_ctim.tv_sec > since->tv_sec ||
	       (st->st_ctim.tv_sec == since->tv_sec && st->st_ctim.tv_nsec >= since->tv_nsec);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* An object id in hex at S (40 or 64 digits, then no more hex) to BIN;
 * its length in bytes, 0 for none. */
size_t gitobj_parse_oid(const char *s, size_t n, unsigned char *bin)
{
	size_t len = 0;

	while (len < n && len <= 64 && hexval(s[len]) >= 0)
		len++;
	if (len != 40 && len != 64)
		return 0;
	for (size_t i = 0; i < len / 2; i++)
		bin[i] = (unsigned char)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
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
static void *map_stat(int dir, const char *name, size_t *ret_size, struct stat *ret_st)
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
	return map_stat(dir, name, ret_size, NULL);
}

/* The path of NAME in the objects directory, for what is said and for
 * protect_move_aside() (which reaches it following no link). */
static void object_path(const struct gitobj *r, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/.git/objects/%s", r->top, name);
}

/* NAME in the objects directory, not git's to read any longer: moved
 * aside, said (WHY) and logged. */
static bool put_aside(const struct gitobj *r, const char *name, const char *why)
{
	char path[PATH_MAX];

	object_path(r, name, path, sizeof(path));
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
static void read_packs(struct gitobj *r)
{
	struct dirent *de;

	r->packs_read = true;
	int p = openat(r->objects, "pack", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (p < 0 && r->end && (errno == ELOOP || errno == ENOTDIR))
		put_aside(r, "pack", "is not a directory: git would read packs the sandbox named");
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
				put_aside(r, rel,
					  "is a pack made during the run past the number read");
			continue;
		}
		unsigned char *idx = map_stat(dirfd(d), de->d_name, &is, &ist);
		snprintf(name, sizeof(name), "%.*s.pack", (int)(l - 4), de->d_name);
		unsigned char *data = idx ? map_stat(dirfd(d), name, &ds, &pst) : NULL;
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
			continue;
		}
		r->packs = v;
		v[r->n_packs] = (struct gitobj_pack){
		    .idx = idx,
		    .data = data,
		    .idx_size = is,
		    .data_size = ds,
		    .changed =
			r->since && (gitobj_newer(&ist, r->since) || gitobj_newer(&pst, r->since)),
		};
		snprintf(v[r->n_packs].name, sizeof(v[r->n_packs].name), "%s", de->d_name);
		r->n_packs++;
	}
}

/* The number of objects P's index names, and where its tables start;
 * false when they do not fit in it. */
static bool idx_tables(const struct gitobj *r, const struct gitobj_pack *p, uint32_t *total,
		       size_t *names, size_t *offs)
{
	*total = be32(p->idx + 8 + 4 * 255);
	*names = 8 + 1024;
	*offs = *names + (size_t)*total * (r->sz + 4);
	return *offs + (size_t)*total * 4 <= p->idx_size;
}

/* The offset of the object at position I of P's index. */
static bool idx_offset(const struct gitobj *r, const struct gitobj_pack *p, uint32_t i,
		       uint64_t *ret)
{
	uint32_t total;
	size_t names, offs;

	if (!idx_tables(r, p, &total, &names, &offs) || i >= total)
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
static bool pack_pos(const struct gitobj *r, const struct gitobj_pack *p, const unsigned char *oid,
		     uint32_t *ret)
{
	const unsigned char *m = p->idx;
	uint32_t lo = oid[0] ? be32(m + 8 + 4 * (oid[0] - 1)) : 0, hi = be32(m + 8 + 4 * oid[0]);
	uint32_t total;
	size_t names, offs;

	if (!idx_tables(r, p, &total, &names, &offs) || lo > hi || hi > total)
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

	return pack_pos(r, p, oid, &i) && idx_offset(r, p, i, ret);
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
static int pack_read(struct gitobj *r, const struct gitobj_pack *p, uint64_t off,
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
		e = pack_read(r, p, off - back, type, &base, &bn, depth + 1);
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
static __attribute__((noinline)) int read_loose(struct gitobj *r, const unsigned char *oid,
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
		if (st.st_size > (off_t)OBJ_MAX || !gitobj_spend(r, (uint64_t)st.st_size))
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
	int e = read_loose(r, oid, type, ret, ret_len, NULL);
	if (e != -ENOENT && (e < 0 || !r->end))
		return e;
	bool have = e == 0;
	if (!r->packs_read)
		read_packs(r);
	for (size_t i = 0; i < r->n_packs; i++) {
		struct gitobj_pack *p = &r->packs[i];
		enum obj_type t;
		unsigned char *buf;
		size_t n;
		uint64_t off;
		if (p->gone || !pack_find(r, p, oid, &off))
			continue;
		if (!have) {
			e = pack_read(r, p, off, type, ret, ret_len, depth);
			if (e < 0 || !r->end)
				return e;
			have = true;
			continue;
		}
		e = pack_read(r, p, off, &t, &buf, &n, depth);
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
	free(o->seen);
	o->seen = NULL;
	o->n_seen = 0;
	if (o->objects >= 0)
		close(o->objects);
	o->objects = -1;
}

/* Whether BUF (LEN bytes, of TYPE) is the object OID: git's name for it
 * is the hash of "TYPE LEN\0" and the content. */
static bool named(const struct gitobj *r, const unsigned char *oid, enum obj_type type,
		  const unsigned char *buf, size_t len)
{
	static const char *const names[] = {
	    [OBJ_COMMIT] = "commit", [OBJ_TREE] = "tree", [OBJ_BLOB] = "blob", [OBJ_TAG] = "tag"};
	char hdr[32];
	unsigned char md[32];

	if ((size_t)type >= ARRAY_SIZE(names) || !names[type])
		return false;
	int hn = snprintf(hdr, sizeof(hdr), "%s %zu", names[type], len);
	struct iovec iov[2] = {{hdr, (size_t)hn + 1}, {(void *)buf, len}};
	return netproxy_digest(r->sz == 32, iov, 2, md) == 0 && memcmp(md, oid, r->sz) == 0;
}

/* The loose copy of OID, when one was made or changed during the run:
 * it hashes to its name, or it is moved aside.  1 for a forged one. */
static size_t check_loose(struct gitobj *r, const unsigned char *oid, uint32_t *links_seen)
{
	char hex[2 * 32 + 2], rel[2 * 32 + 4];
	struct stat st;
	enum obj_type t;
	unsigned char *buf;
	size_t n;

	gitobj_oid_hex(oid, r->sz, hex);
	snprintf(rel, sizeof(rel), "%.2s", hex);
	/* objects/xx a link, which git follows: every object of the 256th it
	 * names is the sandbox's choice */
	unsigned xx = (unsigned)(hexval(hex[0]) << 4 | hexval(hex[1]));
	if (!(links_seen[xx / 32] & (1u << (xx % 32)))) {
		links_seen[xx / 32] |= 1u << (xx % 32);
		if (fstatat(r->objects, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
			return put_aside(r, rel,
					 "is not a directory: git would read objects there");
	}
	snprintf(rel, sizeof(rel), "%.2s/%s", hex, hex + 2);
	if (fstatat(r->objects, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (S_ISREG(st.st_mode) && !gitobj_newer(&st, r->since)))
		return 0; /* none, or the host's from before the run */
	int e = S_ISREG(st.st_mode) ? read_loose(r, oid, &t, &buf, &n, NULL) : -EINVAL;
	bool ok = e == 0 && named(r, oid, t, buf, n);
	if (e == 0)
		free(buf);
	if (ok)
		return 0;
	put_aside(r, rel, "is a copy of an object the host has, with other content");
	return 1;
}

/* Whether E, a read's failure, is the budget's (or an object too large to
 * read whole): said, then not counted as forged (a `git gc` inside makes a
 * pack of the host's whole history; taking out what could not be read
 * would take that history away).  Said once per repository. */
static bool unchecked(struct gitobj *r, int e)
{
	if (e != -E2BIG && r->work < WORK_MAX)
		return false;
	if (!r->unchecked)
		warn("%s: objects the run wrote could not all be checked against their names "
		     "(past %llu MiB, or one larger than %u MiB): run git fsck there before "
		     "checking anything out",
		     r->top, WORK_MAX >> 20, OBJ_MAX >> 20);
	r->unchecked = true;
	return true;
}

/* Position I of the pack P's index to be taken out: its copy is not its
 * name's. */
static void mark_drop(struct gitobj *r, struct gitobj_pack *p, uint32_t i)
{
	char rel[NAME_MAX + 8];

	for (size_t k = 0; k < p->n_drop; k++)
		if (p->drop[k] == i)
			return;
	uint32_t *v = p->gone ? NULL : realloc(p->drop, (p->n_drop + 1) * sizeof(*v));
	if (!v) {
		/* the whole index goes instead */
		snprintf(rel, sizeof(rel), "pack/%s", p->name);
		if (!p->gone)
			put_aside(r, rel,
				  "indexes a copy of an object whose content is not its name's");
		p->gone = true;
		return;
	}
	p->drop = v;
	v[p->n_drop++] = i;
}

/* The copy at position I of P: its name's, or marked to be taken out.
 * 1 for a forged one. */
static size_t check_entry(struct gitobj *r, struct gitobj_pack *p, uint32_t i)
{
	enum obj_type t;
	unsigned char *buf, oid[32];
	size_t len;
	uint64_t off;

	memcpy(oid, p->idx + 8 + 1024 + (size_t)i * r->sz, r->sz);
	int e = idx_offset(r, p, i, &off) ? pack_read(r, p, off, &t, &buf, &len, 0) : -EINVAL;
	bool ok = e == 0 && named(r, oid, t, buf, len);
	if (e == 0)
		free(buf);
	if (ok)
		return 0;
	if (unchecked(r, e))
		return 0;
	mark_drop(r, p, i);
	return 1;
}

/* NAME (SZ bytes) plus D (+1 or -1), as one big-endian number; false
 * when that leaves its first byte (the index's fan-out). */
static bool name_step(unsigned char *name, size_t sz, int d)
{
	unsigned char first = name[0];

	for (size_t i = sz; i-- > 0;) {
		unsigned v = name[i];
		name[i] = (unsigned char)(v + (unsigned)d);
		if ((d > 0 && v != 0xff) || (d < 0 && v != 0))
			break;
	}
	return name[0] == first;
}

/*
 * P's index written again with each position of P->drop renamed: one
 * step above or below its name, still between its neighbours (the order
 * and the count git checks against the pack's stay), a name no content
 * has that anyone could find.  The copy stays in the pack, nameless to
 * git.  Then mapped afresh; the whole index moved aside when that cannot
 * be.  The rest of the pack stays git's to read: one forged copy in a pack
 * that also holds the host's history (a `git gc` inside, the loose copies
 * pruned) must not take that history with it.
 */
static void drop_entries(struct gitobj *r, struct gitobj_pack *p)
{
	char rel[NAME_MAX + 8], tmp[NAME_MAX + 24];
	uint32_t total;
	size_t names, offs, sz = r->sz;
	struct stat st;
	bool ok = false;

	snprintf(rel, sizeof(rel), "pack/%s", p->name);
	snprintf(tmp, sizeof(tmp), "%s.ringfence-tmp", p->name);
	_cleanup_close_ int dir =
	    openat(r->objects, "pack", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int old = dir >= 0 ? gitobj_open_file(dir, p->name) : -1;
	_cleanup_free_ unsigned char *out = malloc(p->idx_size);
	if (out && old >= 0 && fstat(old, &st) == 0 && idx_tables(r, p, &total, &names, &offs) &&
	    p->idx_size >= 8 + 1024 + 2 * sz) {
		memcpy(out, p->idx, p->idx_size);
		ok = true;
		for (size_t k = 0; ok && k < p->n_drop; k++) {
			uint32_t i = p->drop[k];
			unsigned char *name = out + names + (size_t)i * sz;
			const unsigned char *prev = i > 0 ? name - sz : NULL;
			const unsigned char *next = i + 1 < total ? name + sz : NULL;
			unsigned char try[32];
			memcpy(try, name, sz);
			if (name_step(try, sz, -1) && (!prev || memcmp(try, prev, sz) > 0)) {
				memcpy(name, try, sz);
				continue;
			}
			memcpy(try, name, sz);
			ok = name_step(try, sz, +1) && (!next || memcmp(try, next, sz) < 0);
			if (ok)
				memcpy(name, try, sz);
		}
		struct iovec iov = {out, p->idx_size - sz};
		ok = ok && netproxy_digest(sz == 32, &iov, 1, out + p->idx_size - sz) == 0;
		(void)unlinkat(dir, tmp, 0);
		_cleanup_close_ int fd =
		    ok ? openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				0444)
		       : -1;
		ok = fd >= 0 && (geteuid() != 0 || fchown(fd, st.st_uid, st.st_gid) == 0) &&
		     fchmod(fd, st.st_mode & 0777) == 0 &&
		     write(fd, out, p->idx_size) == (ssize_t)p->idx_size &&
		     renameat(dir, tmp, dir, p->name) == 0;
		if (!ok && dir >= 0)
			(void)unlinkat(dir, tmp, 0);
	}
	if (ok) {
		char path[PATH_MAX];
		object_path(r, rel, path, sizeof(path));
		warn("%s: %s indexed %zu copies of objects whose content is not their name's: "
		     "their names there changed to none git asks for (git fsck says what is "
		     "missing)",
		     r->top, path, p->n_drop);
		size_t is;
		unsigned char *m = map_stat(dir, p->name, &is, NULL);
		if (m) {
			munmap(p->idx, p->idx_size);
			p->idx = m;
			p->idx_size = is;
		} else {
			p->gone = true;
		}
	} else {
		put_aside(r, rel,
			  "indexes copies of objects whose content is not their name's, and could "
			  "not be written without them (its .pack is left: without its .idx git "
			  "does not read it)");
		p->gone = true;
	}
	free(p->drop);
	p->drop = NULL;
	p->n_drop = 0;
}

/* Every loose object made during the run (its directory changed then, and
 * it): each hashes to its name, or it is moved aside.  One that names
 * content the host makes later would be kept by git for it (git does not
 * write an object it has). */
static size_t scan_loose(struct gitobj *r)
{
	struct dirent *de, *fe;
	struct stat st;
	size_t forged = 0;
	int d0 = openat(r->objects, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_(closedirp) DIR *d = d0 >= 0 ? fdopendir(d0) : NULL;

	if (!d) {
		if (d0 >= 0)
			close(d0);
		return 0;
	}
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != 2 || hexval(de->d_name[0]) < 0 ||
		    hexval(de->d_name[1]) < 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !gitobj_newer(&st, r->since))
			continue;
		if (!S_ISDIR(st.st_mode)) {
			forged += put_aside(r, de->d_name,
					    "is not a directory: git would read objects there");
			continue;
		}
		int f0 =
		    openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_(closedirp) DIR *f = f0 >= 0 ? fdopendir(f0) : NULL;
		if (!f) {
			if (f0 >= 0)
				close(f0);
			continue;
		}
		while ((fe = readdir(f))) {
			char hex[2 * 32 + 2], rel[2 * 32 + 4];
			unsigned char oid[32];
			size_t l = strlen(fe->d_name);
			if (l != 2 * r->sz - 2 ||
			    fstatat(dirfd(f), fe->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !gitobj_newer(&st, r->since))
				continue;
			/* 2 + 38 (or 62) hex digits: the lengths are checked */
			memcpy(hex, de->d_name, 2);
			memcpy(hex + 2, fe->d_name, l + 1);
			memcpy(rel, de->d_name, 2);
			rel[2] = '/';
			memcpy(rel + 3, fe->d_name, l + 1);
			if (gitobj_parse_oid(hex, 2 * r->sz, oid) != r->sz)
				continue; /* no object's name: git does not read it */
			enum obj_type t;
			unsigned char *buf;
			size_t n;
			int e =
			    S_ISREG(st.st_mode) ? read_loose(r, oid, &t, &buf, &n, NULL) : -EINVAL;
			bool ok = e == 0 && named(r, oid, t, buf, n);
			if (e == 0)
				free(buf);
			if (!ok && !unchecked(r, e)) {
				put_aside(r, rel, "is an object whose content is not its name's");
				forged++;
			}
		}
	}
	return forged;
}

/* Which copies the end checks (gitobj.h). */
size_t gitobj_end(struct gitobj *o, const unsigned char (*ids)[32], size_t n)
{
	uint32_t links_seen[256 / 32] = {0};
	size_t forged = 0;
	bool changed = false;
	struct stat st;

	/* the packs as they are now, each marked made or changed */
	gitobj_forget_packs(o);
	o->recording = false;
	o->end = true;
	read_packs(o);
	for (size_t j = 0; j < o->n_packs; j++)
		changed |= o->packs[j].changed;
	/* a multi-pack-index names offsets in packs: a copy of every object
	 * of its own, which git reads first (the incremental one of newer
	 * git, a directory, too) */
	static const char *const midx[] = {"pack/multi-pack-index", "pack/multi-pack-index.d"};
	for (size_t i = 0; i < ARRAY_SIZE(midx); i++)
		if (fstatat(o->objects, midx[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (changed || gitobj_newer(&st, o->since)))
			put_aside(o, midx[i],
				  "was made or changed during the run, or a pack it names was "
				  "(git rebuilds it: git multi-pack-index write)");
	/* what the host's git reads at the protected paths: its copies made
	 * or changed during the run (a pack's data rewritten in place too) */
	for (size_t i = 0; i < n; i++) {
		forged += check_loose(o, ids[i], links_seen);
		for (size_t j = 0; j < o->n_packs; j++) {
			struct gitobj_pack *p = &o->packs[j];
			uint32_t pos;
			if (p->changed && !p->listed && !p->gone && pack_pos(o, p, ids[i], &pos))
				forged += check_entry(o, p, pos);
		}
	}
	/* every object the run wrote: loose, and the packs whose index it
	 * made or changed, whole */
	forged += scan_loose(o);
	for (size_t j = 0; j < o->n_packs; j++) {
		struct gitobj_pack *p = &o->packs[j];
		uint32_t total;
		size_t names, offs;
		if (!p->listed || p->gone || !idx_tables(o, p, &total, &names, &offs)) {
			if (p->listed && !p->gone) {
				char rel[NAME_MAX + 8];
				snprintf(rel, sizeof(rel), "pack/%s", p->name);
				put_aside(o, rel, "does not read as a pack index");
				p->gone = true;
			}
			continue;
		}
		for (uint32_t i = 0; i < total; i++)
			forged += check_entry(o, p, i);
	}
	for (size_t j = 0; j < o->n_packs; j++)
		if (o->packs[j].n_drop && !o->packs[j].gone)
			drop_entries(o, &o->packs[j]);
	return forged;
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
		read_packs(o);
	/* a pack's .idx, not its .pack: git freshens a pack's objects by
	 * touching the .pack (its ctime), and adding one changes the .idx */
	for (size_t j = 0; j < o->n_packs; j++)
		if (o->packs[j].listed && !o->packs[j].gone &&
		    pack_find(o, &o->packs[j], oid, &off))
			return true;
	return false;
}
