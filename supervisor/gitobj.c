/* SPDX-License-Identifier: MIT */
/*
 * A repository's objects, read as git reads them: loose (zlib) or from a
 * pack (version 2 index, deltas applied: gitobj_pack.c).  Everything read
 * here was written, or could have been, by the sandbox, and is read by the
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

bool git_probe_link(int dir, const char *name)
{
	char to[8];

	return readlinkat(dir, name, to, sizeof(to)) == 7 && memcmp(to, "testing", 7) == 0;
}

bool git_links_enter(const char *rel)
{
	return strncmp(rel, "objects/", 8) != 0 || strcmp(rel, "objects/pack") == 0 ||
	       strcmp(rel, "objects/info") == 0 || strncmp(rel, "objects/info/", 13) == 0;
}

/* (git_links_walk()'s own, below the directory DIR whose path in the
 * .git is w->rel[0..LEN)) */
static bool links_below(int dir, size_t len, int depth, struct git_links_walk *w)
{
	_cleanup_(closedirp) DIR *d = dir_stream_at(dir, ".", 0);
	struct dirent *de;

	if (!d)
		return errno == ENOENT || w->unchecked(w->ctx, w->rel, errno);
	while ((de = readdir(d))) {
		struct stat st;
		unsigned char type = de->d_type;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (!w->budget)
			return false;
		w->budget--;
		if (depth == 0 && w->skip_refs_logs &&
		    (strcmp(de->d_name, "refs") == 0 || strcmp(de->d_name, "logs") == 0))
			continue;
		/* (the type from the listing: a file, most of them, costs no
		 * stat; a link's is taken for its time) */
		if (type == DT_UNKNOWN || type == DT_LNK) {
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue; /* gone */
			type = S_ISLNK(st.st_mode) ? DT_LNK : S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
		}
		if (type != DT_LNK && type != DT_DIR)
			continue;
		size_t n = strlen(de->d_name), sub = len + (len > 0) + n;
		if (sub >= sizeof(w->rel)) {
			if (!w->unchecked(w->ctx, w->rel, ENAMETOOLONG))
				return false;
			continue;
		}
		if (len)
			w->rel[len] = '/';
		memcpy(w->rel + sub - n, de->d_name, n + 1);
		bool go = true;
		if (type == DT_LNK) {
			struct stat now;
			/* (a link no longer there, or no longer a link, when
			 * read: git init's probe, removed at once, met between
			 * its listing and its reading moved a new repository
			 * aside; what is made there next is an event of its
			 * own, and the exit's walk looks again) */
			if (!git_probe_link(dirfd(d), de->d_name) &&
			    fstatat(dirfd(d), de->d_name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(now.st_mode))
				go = w->link(w->ctx, dirfd(d), de->d_name, w->rel, &now);
		} else if (git_links_enter(w->rel)) {
			_cleanup_close_ int c = -1;
			if (depth + 1 > w->max_depth)
				go = w->unchecked(w->ctx, w->rel, 0);
			else if ((c = openat(dirfd(d), de->d_name,
					     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
				go = links_below(c, sub, depth + 1, w);
			else if (errno != ENOENT)
				go = w->unchecked(w->ctx, w->rel, errno);
		}
		w->rel[len] = '\0';
		if (!go)
			return false;
	}
	return true;
}

bool git_links_walk(int git, struct git_links_walk *w)
{
	w->rel[0] = '\0';
	return links_below(git, 0, 0, w);
}

/* An object id in hex at S (40 or 64 digits, then no more hex) to BIN;
 * its length in bytes, 0 for none. */
size_t gitobj_parse_oid(const char *s, size_t n, unsigned char *bin)
{
	size_t len = 0;

	while (len < n && len <= 64 && hex_value(s[len]) >= 0)
		len++;
	if (len != 40 && len != 64)
		return 0;
	for (size_t i = 0; i < len / 2; i++)
		bin[i] = (unsigned char)(hex_value(s[2 * i]) << 4 | hex_value(s[2 * i + 1]));
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

/* The loose object OID: 0, -ENOENT when there is none, or -errno.  Out of
 * gitobj_read_object(), which a chain of deltas recurses through: its
 * buffers are not on the stack at each step. */
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
int gitobj_read_object(struct gitobj *r, const unsigned char *oid, enum obj_type *type,
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
		if (p->gone || !gitobj_pack_find(r, p, oid, &off))
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
	return gitobj_read_object(o, oid, type, ret, ret_len, 0);
}

/* The object OID when it is of type WANT; its buffer freed when not. */
int gitobj_read_typed(struct gitobj *r, const unsigned char *oid, enum obj_type want,
		      unsigned char **ret, size_t *ret_len)
{
	enum obj_type t;
	unsigned char *buf;
	size_t n;
	int e = gitobj_read_object(r, oid, &t, &buf, &n, 0);

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
		    gitobj_pack_find(o, &o->packs[j], oid, &off))
			return true;
	return false;
}
