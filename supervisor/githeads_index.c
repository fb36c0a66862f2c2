/* SPDX-License-Identifier: MIT */
/*
 * The index, at the end of a run (githeads.c has the picture): what it
 * stages at or below a protected path must be in the baseline (the host's
 * commits and the index held since the start), the index held since the
 * start must still hold the host's entries there, and a shared index it
 * names must be the one it named.  gh_base_ready() completes the baseline.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "../netproxy/netproxy.h"
#include "githeads_internal.h"

/* Index entries at or below a protected path: each in the baseline. */
struct index_walk {
	struct githead *r;
	bool add, bad;
	char first[PATH_MAX];
};

static bool is_protected(const struct githead *r, const char *path)
{
	unsigned char c = (unsigned char)path[0];

	/* most of a large index: no protected path starts so */
	if (!(r->first[c >> 6] & (1ull << (c & 63))))
		return false;
	for (size_t i = 0; i < r->n_protected; i++) {
		size_t l = strlen(r->protected[i]);
		if (strncmp(path, r->protected[i], l) == 0 && (!path[l] || path[l] == '/'))
			return true;
	}
	return false;
}

/* Whether PATH has a component git refuses in a path it writes: empty,
 * ".", "..", or .git in any case. */
static bool bad_name(const char *path)
{
	for (const char *c = path;;) {
		const char *slash = strchr(c, '/');
		size_t l = slash ? (size_t)(slash - c) : strlen(c);
		if (!l || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.') ||
		    (l == 4 && strncasecmp(c, ".git", 4) == 0))
			return true;
		if (!slash)
			return false;
		c = slash + 1;
	}
}

/* Whether PATH is a directory on the way to a protected path: a file or
 * link checked out there takes its place (a gitlink is another
 * repository's, checked as such). */
static bool is_above_protected(const struct githead *r, const char *path)
{
	unsigned char c = (unsigned char)path[0];
	size_t l = strlen(path);

	if (!(r->first[c >> 6] & (1ull << (c & 63))))
		return false;
	for (size_t i = 0; i < r->n_protected; i++)
		if (strncmp(r->protected[i], path, l) == 0 && r->protected[i][l] == '/')
			return true;
	return false;
}

static void on_entry(void *ud, const char *path, uint32_t mode, const unsigned char *oid, size_t sz)
{
	struct index_walk *c = ud;
	bool on_the_way = (mode & 0170000u) != 0040000u && (mode & 0170000u) != 0160000u &&
			  path[0] && !is_protected(c->r, path) && is_above_protected(c->r, path);

	if (sz != c->r->o.sz || (mode & 0170000u) == 0160000u)
		return;
	/* a split index's entry that replaces one of its shared index: no
	 * name of its own here (git takes the shared entry's); which path it
	 * gives new content is not read here, so it counts as changed */
	if (!path[0]) {
		if (!c->add && !c->bad) {
			c->bad = true;
			snprintf(c->first, sizeof(c->first), "an entry of a split index");
		}
		return;
	}
	/* a sparse directory entry (a sparse index: "DIR/", a tree git
	 * expands on checkout) above, at or beneath a protected path */
	if ((mode & 0170000u) == 0040000u) {
		char dir[PATH_MAX];
		size_t l = strlen(path);
		snprintf(dir, sizeof(dir), "%.*s", (int)(l && path[l - 1] == '/' ? l - 1 : l),
			 path);
		if (!c->add && !c->bad && !gh_tree_paths_below(c->r, oid, dir, false)) {
			c->bad = true;
			snprintf(c->first, sizeof(c->first), "%s", path);
		}
		return;
	}
	/* a name git's own writers refuse (`x/../.husky/pre-commit`, a
	 * .git component): the index is the sandbox's file, and git's
	 * checkout writes where the name leads */
	if (!c->add && !c->bad && bad_name(path)) {
		c->bad = true;
		snprintf(c->first, sizeof(c->first), "%s", path);
		return;
	}
	if (!on_the_way && !is_protected(c->r, path))
		return;
	if (c->add)
		gh_base_add(c->r, path, mode, oid);
	else if (!c->bad && !gh_in_base(c->r, path, mode, oid)) {
		c->bad = true;
		snprintf(c->first, sizeof(c->first), "%s", path);
	}
}

/* A node of the index's cache tree: git's next commit takes its tree as
 * it is, the entries beneath unread. */
static void on_tree(void *ud, const char *path, const unsigned char *oid, size_t sz)
{
	struct index_walk *c = ud;

	if (c->add || c->bad || sz != c->r->o.sz)
		return;
	if (!gh_tree_paths_below(c->r, oid, path, false)) {
		c->bad = true;
		snprintf(c->first, sizeof(c->first), "%s/ (its cache tree)", path[0] ? path : ".");
	}
}

static int index_walk(int fd, struct index_walk *c)
{
	struct stat st;

	/* a sparse file of the sandbox's, its size as large as it likes,
	 * would be read through, twice for each object id size: one larger
	 * than git makes counts as changed */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 12 ||
	    st.st_size > (off_t)INDEX_MAX)
		return -EINVAL;
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	/* the cache tree, in an index the run wrote: the start's is the
	 * host's, its entries all that is added to the baseline */
	int ret =
	    c->add ? gitindex_parse(map, (size_t)st.st_size, on_entry, c)
		   : gitindex_parse_all(map, (size_t)st.st_size, c->r->o.sz, on_entry, on_tree, c);
	munmap(map, (size_t)st.st_size);
	return ret;
}

/* Whether the index file NAME, changed during the run, holds other
 * content at a protected path than the baseline (or cannot be read). */
static bool index_bad(struct githead *r, const char *name, char *first, size_t first_size)
{
	struct stat st;
	struct index_walk c = {.r = r};

	_cleanup_close_ int fd = gitobj_open_file(r->git, name);
	/* a link (git follows it to an index of the sandbox's), a FIFO, ...:
	 * bad, whatever it names */
	if (fd < 0 && errno != ENOENT) {
		snprintf(first, first_size, "%s, no file", name);
		return true;
	}
	if (fd < 0 || fstat(fd, &st) < 0 || !gitobj_newer(&st, &r->sb->started_born))
		return false;
	int ret = index_walk(fd, &c);
	snprintf(first, first_size, "%s", c.bad ? c.first : name);
	return ret < 0 || c.bad;
}

/* Whether the index held since the start (H's index_fd) still has the
 * host's content: unchanged since (its ctime), or replaced by a rename (no
 * name left: its ctime moved with its link count) with the content it had
 * (written in place first, it would pass for the host's): its size, and
 * its checksum, which its content hashes to, or the copy of one without. */
bool gh_held_index_ok(struct githead *h)
{
	struct stat st;

	if (h->index_held)
		return h->index_held > 0;
	h->index_held = -1;
	if (h->index_fd < 0 || fstat(h->index_fd, &st) < 0 || st.st_size != h->index_size)
		return false;
	if (!gitobj_newer(&st, &h->sb->started_born)) {
		h->index_held = 1;
		return true;
	}
	size_t n = (size_t)st.st_size, sz = h->o.sz;
	if (st.st_nlink != 0 || n <= sz)
		return false;
	unsigned char *m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, h->index_fd, 0);
	if (m == MAP_FAILED)
		return false;
	unsigned char md[32];
	struct iovec iov = {m, n - sz};
	bool ok = memcmp(m + n - sz, h->index_tail, sz) == 0 &&
		  (h->index_copy ? memcmp(m, h->index_copy, n) == 0
				 : netproxy_digest(sz == 32, &iov, 1, md) == 0 &&
				       memcmp(md, h->index_tail, sz) == 0);
	munmap(m, n);
	h->index_held = ok ? 1 : -1;
	return ok;
}

/* The baseline complete: the index held since the start added (unless
 * rewritten in place), once, when something changed is to be judged. */
void gh_base_ready(struct githead *r)
{
	struct index_walk iw = {.r = r, .add = true};

	if (r->base_indexed)
		return;
	r->base_indexed = true;
	if (r->index_fd >= 0 && (!gh_held_index_ok(r) || index_walk(r->index_fd, &iw) < 0))
		r->base_cut = true;
	if (r->base_cut)
		warn("%s: what the host had at protected paths at the start could not all be read: "
		     "the index and refs the sandbox changed are checked against what could",
		     r->top);
}

/* Whether the shared index NAME (sharedindex.<hex>, in DIR) is unchanged
 * since the start, or hashes to its name (its content but the trailer,
 * which is that name too). */
static bool shared_index_named(struct githead *r, int dir, const char *name)
{
	struct stat st;
	unsigned char want[32], md[32];
	size_t sz = r->o.sz, n;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !gitobj_newer(&st, &r->sb->started_born))
		return true;
	if (gitobj_parse_oid(name + 12, strlen(name + 12), want) != sz || !S_ISREG(st.st_mode))
		return false;
	unsigned char *m = gitobj_map_file(dir, name, &n);
	if (!m)
		return false;
	struct iovec iov = {m, n > sz ? n - sz : 0};
	bool ok = n > sz && memcmp(m + n - sz, want, sz) == 0 &&
		  netproxy_digest(sz == 32, &iov, 1, md) == 0 && memcmp(md, want, sz) == 0;
	munmap(m, n);
	return ok;
}

void gh_check_index(struct githead *r)
{
	char first[PATH_MAX] = "", what[PATH_MAX + 16];
	struct dirent *de;
	struct githead *h = r;
	bool bad = index_bad(r, "index", first, sizeof(first));

	/* a split index keeps entries in sharedindex.<hash>: one changed
	 * during the run must still hash to its name (git reads it by that
	 * name, without hashing it, and the host's index put back names it
	 * too), else it goes */
	_cleanup_(closedirp) DIR *d = dir_stream_at(r->git, ".", 0);
	bool forged = false;
	while (d && (de = readdir(d)))
		if (strncmp(de->d_name, "sharedindex.", 12) == 0 &&
		    !shared_index_named(r, dirfd(d), de->d_name)) {
			if (!forged)
				snprintf(first, sizeof(first), "%s", de->d_name);
			forged = bad = true;
			char path[PATH_MAX + NAME_MAX + 2];
			snprintf(path, sizeof(path), "%s/%s", r->gitdir, de->d_name);
			gh_say(
			    r, de->d_name, "a shared index that is not what its name says",
			    protect_move_aside(r->sb, path, "protect.git_content", MOVE_AT_EXIT) > 0
				? "moved aside (git sees no index there)"
				: "it could NOT be moved aside");
		}
	if (d)
		rewinddir(d);
	while (!bad && d && (de = readdir(d)))
		if (strncmp(de->d_name, "sharedindex.", 12) == 0)
			bad = index_bad(r, de->d_name, first, sizeof(first));
	if (!bad)
		return;
	snprintf(what, sizeof(what), "the index (%s)", first);
	/* the host's, from the start: unless it was rewritten in place, or
	 * links to a shared index that was (then git sees none: `git reset`
	 * makes one again) */
	if (!forged && gh_held_index_ok(h)) {
		unlinkat(r->git, "index.ringfence-tmp", 0);
		_cleanup_close_ int out =
		    openat(r->git, "index.ringfence-tmp",
			   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		char buf[65536];
		ssize_t n = 0;
		struct stat ist;
		bool ok = out >= 0 && lseek(h->index_fd, 0, SEEK_SET) == 0;
		/* the host's owner and mode, as it was */
		ok = ok && fstat(h->index_fd, &ist) == 0 &&
		     (geteuid() != 0 || fchown(out, ist.st_uid, ist.st_gid) == 0) &&
		     fchmod(out, ist.st_mode & 0777) == 0;
		while (ok && (n = read(h->index_fd, buf, sizeof(buf))) > 0)
			ok = write(out, buf, (size_t)n) == n;
		if (ok && n == 0 && renameat(r->git, "index.ringfence-tmp", r->git, "index") == 0) {
			gh_say(r, what, "a staged file",
			       "the host's index from the start is put back");
			return;
		}
		unlinkat(r->git, "index.ringfence-tmp", 0);
	}
	if (protect_move_aside(r->sb, h->index_path, "protect.git_content", MOVE_AT_EXIT) > 0)
		gh_say(r, what, "a staged file", "moved aside (git sees no index)");
	else
		gh_say(r, what, "a staged file", "it could NOT be moved aside");
}
