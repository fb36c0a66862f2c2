/* SPDX-License-Identifier: MIT */
/*
 * The end of a run's checks of a repository's object store (gitobj.c's
 * header says what and why): every copy git could read of what matters
 * hashed against its name, forged ones taken away.  Everything here was
 * written, or could have been, by the sandbox.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "../netproxy/netproxy.h"
#include "gitobj.h"
#include "gitobj_internal.h"
#include "supervisor.h"

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
	if (netproxy_digest(r->sz == 32, iov, 2, md) < 0) {
		/* no hash to be had (OpenSSL could not be loaded): every copy
		 * to check counts as forged, fail closed, and why is said */
		static bool said;
		if (!said)
			warn(
			    "%s: OpenSSL could not be loaded to check objects against their names: "
			    "each one to check is taken as forged",
			    r->top);
		said = true;
		return false;
	}
	return memcmp(md, oid, r->sz) == 0;
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
	unsigned xx = (unsigned)(hex_value(hex[0]) << 4 | hex_value(hex[1]));
	if (!(links_seen[xx / 32] & (1u << (xx % 32)))) {
		links_seen[xx / 32] |= 1u << (xx % 32);
		if (fstatat(r->objects, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
			return gitobj_put_aside(r, rel,
						"is not a directory: git would read objects there");
	}
	snprintf(rel, sizeof(rel), "%.2s/%s", hex, hex + 2);
	if (fstatat(r->objects, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (S_ISREG(st.st_mode) && !gitobj_newer(&st, r->since)))
		return 0; /* none, or the host's from before the run */
	int e = S_ISREG(st.st_mode) ? gitobj_read_loose(r, oid, &t, &buf, &n, NULL) : -EINVAL;
	bool ok = e == 0 && named(r, oid, t, buf, n);
	if (e == 0)
		free(buf);
	if (ok)
		return 0;
	gitobj_put_aside(r, rel, "is a copy of an object the host has, with other content");
	return 1;
}

/* Whether E, a read's failure, is the budget's (or an object too large to
 * read whole): said, then not counted as forged (a `git gc` inside makes a
 * pack of the host's whole history; taking out what could not be read
 * would take that history away).  Said once per repository. */
static bool unchecked(struct gitobj *r, int e)
{
	if (e != -E2BIG && e != -EFBIG && r->work < WORK_MAX)
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
			gitobj_put_aside(
			    r, rel, "indexes a copy of an object whose content is not its name's");
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
	int e = gitobj_idx_offset(r, p, i, &off) ? gitobj_pack_read(r, p, off, &t, &buf, &len, 0)
						 : -EINVAL;
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

/* Whether no object of the repository has the name OID: loose, or in a
 * pack.  A forged entry the sandbox put one step from the name of an
 * object of the host's must not be renamed to that name. */
static bool name_free(struct gitobj *r, const unsigned char *oid)
{
	char hex[2 * 32 + 2], rel[2 * 32 + 4];
	struct stat st;
	uint32_t pos;

	gitobj_oid_hex(oid, r->sz, hex);
	snprintf(rel, sizeof(rel), "%.2s/%s", hex, hex + 2);
	if (fstatat(r->objects, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return false;
	for (size_t j = 0; j < r->n_packs; j++)
		if (gitobj_pack_pos(r, &r->packs[j], oid, &pos))
			return false;
	return true;
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
	if (dir >= 0)
		(void)owner_unlock(r->sb, dir); /* git's own: it leaves none unwritable */
	_cleanup_free_ unsigned char *out = malloc(p->idx_size);
	if (out && old >= 0 && fstat(old, &st) == 0 &&
	    gitobj_idx_tables(r, p, &total, &names, &offs) && p->idx_size >= 8 + 1024 + 2 * sz) {
		memcpy(out, p->idx, p->idx_size);
		ok = true;
		for (size_t k = 0; ok && k < p->n_drop; k++) {
			uint32_t i = p->drop[k];
			unsigned char *name = out + names + (size_t)i * sz;
			const unsigned char *prev = i > 0 ? name - sz : NULL;
			const unsigned char *next = i + 1 < total ? name + sz : NULL;
			unsigned char try[32];
			memcpy(try, name, sz);
			if (name_step(try, sz, -1) && (!prev || memcmp(try, prev, sz) > 0) &&
			    name_free(r, try)) {
				memcpy(name, try, sz);
				continue;
			}
			memcpy(try, name, sz);
			ok = name_step(try, sz, +1) && (!next || memcmp(try, next, sz) < 0) &&
			     name_free(r, try);
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
		gitobj_object_path(r, rel, path, sizeof(path));
		warn("%s: %s indexed %zu copies of objects whose content is not their name's: "
		     "their names there changed to none git asks for (git fsck says what is "
		     "missing)",
		     r->top, path, p->n_drop);
		size_t is;
		unsigned char *m = gitobj_map_stat(dir, p->name, &is, NULL);
		if (m) {
			munmap(p->idx, p->idx_size);
			p->idx = m;
			p->idx_size = is;
		} else {
			p->gone = true;
		}
	} else {
		gitobj_put_aside(
		    r, rel,
		    "indexes copies of objects whose content is not their name's, and could "
		    "not be written without them (its .pack is left: without its .idx git "
		    "does not read it)");
		p->gone = true;
	}
	free(p->drop);
	p->drop = NULL;
	p->n_drop = 0;
}

/* NAME beneath DIR, a file of the store the run made (ST, its status) that
 * passed: left without write, as git makes every one.  One the sandbox
 * made writable would take a write in its own inode in a later run, with
 * no mode to give (the gates judge modes: attrgate.c), its directory's
 * time unmoved. */
static void read_only(int dir, const char *name, const struct stat *st)
{
	char p[64];

	if (!(st->st_mode & 0222) || !S_ISREG(st->st_mode))
		return;
	_cleanup_close_ int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat now;
	if (fd < 0 || fstat(fd, &now) < 0 || now.st_ino != st->st_ino || now.st_dev != st->st_dev)
		return;
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	(void)chmod(p, now.st_mode & 07555);
}

/* Every loose object made during the run (its directory changed then, and
 * it): each hashes to its name, or it is moved aside.  One that names
 * content the host makes later would be kept by git for it (git does not
 * write an object it has).  ALL: every directory is read, for a file of
 * the host's changed in its own inode (no gate kept its mode). */
static size_t scan_loose(struct gitobj *r, bool all)
{
	struct dirent *de, *fe;
	struct stat st;
	size_t forged = 0;
	_cleanup_(closedirp) DIR *d = dir_stream_at(r->objects, ".", 0);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != 2 || hex_value(de->d_name[0]) < 0 ||
		    hex_value(de->d_name[1]) < 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (!all && !gitobj_newer(&st, r->since)))
			continue;
		if (!S_ISDIR(st.st_mode) && !gitobj_newer(&st, r->since))
			continue; /* the host's own, as it was */
		if (!S_ISDIR(st.st_mode)) {
			forged += gitobj_put_aside(
			    r, de->d_name, "is not a directory: git would read objects there");
			continue;
		}
		_cleanup_(closedirp) DIR *f = dir_stream_at(dirfd(d), de->d_name, O_NOFOLLOW);
		if (!f)
			continue;
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
			int e = S_ISREG(st.st_mode) ? gitobj_read_loose(r, oid, &t, &buf, &n, NULL)
						    : -EINVAL;
			bool ok = e == 0 && named(r, oid, t, buf, n);
			if (e == 0)
				free(buf);
			/* one too large to read whole is moved aside, not said
			 * only: new, it is the run's own (the budget spent on
			 * others leaves the rest said) */
			if (!ok && (e == -EFBIG || !unchecked(r, e))) {
				gitobj_put_aside(r, rel,
						 "is an object whose content is not its name's");
				forged++;
			} else if (ok) {
				read_only(dirfd(f), fe->d_name, &st);
			}
		}
	}
	return forged;
}

/* Which copies the end checks (gitobj.h). */
/* The end's first look at the store, before any copy is checked (ALL:
 * gitobj_end()'s, every change looked for). */
static void packs_at_end(struct gitobj *o, bool all)
{
	bool changed = false;
	struct stat st;

	/* the packs as they are now, each marked made or changed */
	gitobj_forget_packs(o);
	o->recording = false;
	o->end = true;
	gitobj_read_packs(o);
	for (size_t j = 0; j < o->n_packs; j++) {
		changed |= o->packs[j].changed;
		o->packs[j].listed |= all && o->packs[j].changed;
	}
	/* a multi-pack-index names offsets in packs: a copy of every object
	 * of its own, which git reads first (the incremental one of newer
	 * git, a directory, too) */
	static const char *const midx[] = {"pack/multi-pack-index", "pack/multi-pack-index.d"};
	for (size_t i = 0; i < ARRAY_SIZE(midx); i++)
		if (fstatat(o->objects, midx[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (changed || gitobj_newer(&st, o->since)))
			gitobj_put_aside(
			    o, midx[i],
			    "was made or changed during the run, or a pack it names was "
			    "(git rebuilds it: git multi-pack-index write)");
}

/* The pack P, when the run made or changed its index: every object in it
 * checked, then it and its index left without write; one whose index
 * does not read moved aside.  How many copies were forged. */
static size_t check_listed(struct gitobj *o, struct gitobj_pack *p)
{
	size_t forged = 0;
	struct stat st;
	uint32_t total;
	size_t names, offs;

	if (!p->listed || p->gone || !gitobj_idx_tables(o, p, &total, &names, &offs)) {
		if (p->listed && !p->gone) {
			char rel[NAME_MAX + 8];
			snprintf(rel, sizeof(rel), "pack/%s", p->name);
			gitobj_put_aside(o, rel, "does not read as a pack index");
			p->gone = true;
		}
		return 0;
	}
	for (uint32_t i = 0; i < total; i++)
		forged += check_entry(o, p, i);
	/* the pack and its index, left without write */
	char data[NAME_MAX + 2];
	size_t l = strlen(p->name);
	_cleanup_close_ int pd =
	    openat(o->objects, "pack", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	snprintf(data, sizeof(data), "%.*s.pack", (int)(l > 4 ? l - 4 : 0), p->name);
	const char *const files[] = {p->name, data};
	for (size_t k = 0; pd >= 0 && k < ARRAY_SIZE(files); k++)
		if (fstatat(pd, files[k], &st, AT_SYMLINK_NOFOLLOW) == 0)
			read_only(pd, files[k], &st);
	return forged;
}

size_t gitobj_end(struct gitobj *o, const unsigned char (*ids)[32], size_t n)
{
	uint32_t links_seen[256 / 32] = {0};
	size_t forged = 0;

	/* Without the gate on modes (no listener: one above, as under WSL2;
	 * best-effort without notifications) the command could give a file
	 * of the store write and change it in its own inode, its directory
	 * untouched: every loose object's time is read, and a pack's data
	 * changed counts as a pack made (each of its objects hashed). */
	bool all = !o->sb || !o->sb->objgate_live;
	/* with namespaces the gate is optional (layers.c): its absence is
	 * said, as what it costs and what it leaves (best-effort without
	 * namespaces says so at the start) */
	if (all && o->sb && o->sb->modegate)
		warn("%s: no seccomp notification listener could be had for the mode gate (one "
		     "is installed above ringfence): while the sandbox ran, a file of its object "
		     "store could be made writable; every object it changed is checked now",
		     o->top);

	packs_at_end(o, all);
	/* what the host's git reads at the protected paths: its copies made
	 * or changed during the run (a pack's data rewritten in place too) */
	for (size_t i = 0; i < n; i++) {
		forged += check_loose(o, ids[i], links_seen);
		for (size_t j = 0; j < o->n_packs; j++) {
			struct gitobj_pack *p = &o->packs[j];
			uint32_t pos;
			if (p->changed && !p->listed && !p->gone &&
			    gitobj_pack_pos(o, p, ids[i], &pos))
				forged += check_entry(o, p, pos);
		}
	}
	/* every object the run wrote: loose, and the packs whose index it
	 * made or changed, whole */
	forged += scan_loose(o, all);
	for (size_t j = 0; j < o->n_packs; j++)
		forged += check_listed(o, &o->packs[j]);
	for (size_t j = 0; j < o->n_packs; j++)
		if (o->packs[j].n_drop && !o->packs[j].gone)
			drop_entries(o, &o->packs[j]);
	return forged;
}

/* What the start of a file says it is to git's object reader: a pack (its
 * version 2 or 3), a pack index (version 2 or 3), a multi-pack-index
 * (version 1 or 2, a hash version 1 or 2), or zlib.  A file with another
 * "PACK" (a game's archive) is none of them. */
static bool stored_magic(const unsigned char *buf, size_t n, bool *zlib)
{
	*zlib = n >= 2 && (buf[0] & 0x0f) == 8 && (buf[0] >> 4) <= 7 &&
		((unsigned)buf[0] << 8 | buf[1]) % 31 == 0 && !(buf[1] & 0x20);
	if (n < 8)
		return false;
	uint32_t v =
	    (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
	return ((memcmp(buf, "PACK", 4) == 0 || memcmp(buf, "\377tOc", 4) == 0) &&
		(v == 2 || v == 3)) ||
	       (memcmp(buf, "MIDX", 4) == 0 && (buf[4] == 1 || buf[4] == 2) &&
		(buf[5] == 1 || buf[5] == 2));
}

/* Whether the file FD is one git reads objects from (gitobj.h).  A loose
 * object is read as git reads it, to its first bytes out: the sandbox can
 * put any number of empty blocks before them.  Past OBJ_MAX of input with
 * nothing out it is taken for one (a host's loose object is never that
 * large: the end moves a new one aside). */
int gitobj_file_stored(int fd)
{
	static const char *const types[] = {"blob ", "tree ", "commit ", "tag "};
	unsigned char in[16384], out[16];
	z_stream z = {.next_out = out, .avail_out = sizeof(out)};
	uint64_t off = 0;
	bool zlib;
	int e = Z_OK;

	ssize_t n = pread(fd, in, sizeof(in), 0);
	if (n < 0)
		return -errno;
	if (stored_magic(in, (size_t)n, &zlib))
		return 1;
	if (!zlib || inflateInit(&z) != Z_OK)
		return 0;
	while (n > 0 && z.avail_out && e == Z_OK) {
		z.next_in = in;
		z.avail_in = (unsigned)n;
		e = inflate(&z, Z_SYNC_FLUSH);
		if (e == Z_BUF_ERROR)
			e = Z_OK; /* more input wanted */
		off += (uint64_t)n;
		if (z.avail_out && e == Z_OK) {
			if (off >= OBJ_MAX) {
				inflateEnd(&z);
				return 1;
			}
			n = pread(fd, in, sizeof(in), (off_t)off);
			if (n < 0) {
				int err = errno;
				inflateEnd(&z);
				return -err;
			}
		}
	}
	size_t got = sizeof(out) - z.avail_out;
	inflateEnd(&z);
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		size_t l = strlen(types[i]);
		if (got > l && memcmp(out, types[i], l) == 0 && out[l] >= '0' && out[l] <= '9')
			return 1;
	}
	return 0;
}
