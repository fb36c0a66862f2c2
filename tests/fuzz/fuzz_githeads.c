/* SPDX-License-Identifier: MIT */
/* libFuzzer: githeads.c's readers of what the sandbox writes in a
 * repository (loose objects, packs and their deltas, the index,
 * packed-refs) on arbitrary bytes.  githeads.c is included whole so its
 * static readers are reached as the supervisor calls them; files are
 * written to a temporary .git where the reader opens them.  Each reader
 * must answer (a refusal is an answer) without reading out of bounds,
 * looping, or allocating without a bound.
 *
 * The first byte chooses the reader (and, its top bit, 32-byte object
 * ids); the rest is its input:
 *   0  a loose object, then the commit it would be (tree, protected paths)
 *   1  a pack: 2 bytes, the index's length; the index (after its magic and
 *      version); the pack (after "PACK"); each object the index names read
 *   2  a delta: 2 bytes, the base's length; the base; the delta
 *   3  an index: its entries at protected paths put in a baseline, checked
 *   4  packed-refs, a ref resolved through it
 * Its bit 0x40: read as at the end of a run (every copy of an object). */
#include "../../supervisor/gitobj.c"
#include "../../supervisor/gitobj_pack.c"
#include "../../supervisor/gitcheck.c"
#include "../../supervisor/githeads.c"
#include "../../supervisor/githeads_index.c"
#include "../../supervisor/gittrees.c"
#include "../../supervisor/gitreach.c"
#include "../../supervisor/gitrefs.c"
#include "../../supervisor/gitlogs.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* what githeads.c calls outside the readers: nothing of it is fuzzed */
int netproxy_digest(bool sha256, const struct iovec *iov, size_t n, unsigned char *out)
{
	(void)sha256, (void)iov, (void)n, (void)out;
	return -ENOENT;
}
void warn(const char *fmt, ...)
{
	(void)fmt;
}
void die(const char *fmt, ...)
{
	(void)fmt;
	abort();
}
void audit_event(int fd, const char *event, const char *fmt, ...)
{
	(void)fd, (void)event, (void)fmt;
}
void json_string(char *buf, size_t size, const char *s)
{
	snprintf(buf, size, "\"%s\"", s);
}
int protect_move_aside(const struct sandbox *sb, const char *path, const char *event,
		       enum move_when when)
{
	(void)sb, (void)path, (void)event, (void)when;
	return -EPERM;
}
int owner_unlock(const struct sandbox *sb, int dir)
{
	(void)sb, (void)dir;
	return -1;
}
void owner_relock(int dir, int was)
{
	(void)dir, (void)was;
}
int owner_unlinkat(const struct sandbox *sb, int dir, const char *name, int flags)
{
	(void)sb;
	return unlinkat(dir, name, flags);
}
int owner_renameat(const struct sandbox *sb, int from, const char *old, int to, const char *new,
		   unsigned flags)
{
	(void)sb;
	return renameat2(from, old, to, new, flags);
}
size_t protect_builtin_names(bool home, const char ***ret)
{
	static const char *names[] = {".envrc", ".husky", ".vscode/tasks.json"};

	(void)home;
	*ret = names;
	return 3;
}
int protect_open_dir_nofollow(const char *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}
void gitconfig_pointers(const char *buf, size_t n,
			void (*fn)(void *ud, enum git_pointer kind, const char *value), void *ud)
{
	(void)buf, (void)n, (void)fn, (void)ud;
}
void gitconfig_file(int fd, void (*fn)(void *ud, enum git_pointer kind, const char *value),
		    void *ud, bool say)
{
	if (fd >= 0)
		close(fd);
	(void)fn, (void)ud, (void)say;
}
bool gitconfig_program_file(const char *path, enum git_pointer kind)
{
	(void)path, (void)kind;
	return false;
}
/* common/util.c's, as it is there */
DIR *dir_stream_at(int dir, const char *name, int flags)
{
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d && fd >= 0)
		close(fd);
	return d;
}
/* gitlinks.c, linked for gitindex_parse */
void gitscan_all(const struct sandbox *sb, int found_fd)
{
	(void)sb, (void)found_fd;
}
void gitscan_global_includes(const struct sandbox *sb)
{
	(void)sb;
}

static int git_fd = -1, objects_fd = -1;
static struct sandbox sb = {.audit_fd = -1};

static char dir[] = "/tmp/fuzz_githeads.XXXXXX";

static void cleanup(void)
{
	char p[sizeof(dir) + 32];

	snprintf(p, sizeof(p), "%s/.git/objects/aa", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/.git/objects", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/.git", dir);
	rmdir(p);
	rmdir(dir);
}

static void setup(void)
{
	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	int top = open(dir, O_RDONLY | O_DIRECTORY);
	if (top < 0 || mkdirat(top, ".git", 0700) < 0)
		abort();
	git_fd = openat(top, ".git", O_RDONLY | O_DIRECTORY);
	if (git_fd < 0 || mkdirat(git_fd, "objects", 0700) < 0)
		abort();
	objects_fd = openat(git_fd, "objects", O_RDONLY | O_DIRECTORY);
	if (objects_fd < 0 || mkdirat(objects_fd, "aa", 0700) < 0)
		abort();
	close(top);
}

static void put(int dir, const char *name, const uint8_t *p, size_t n)
{
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n))
		abort();
	close(fd);
}

/* a copy of exactly N bytes, so ASan sees any read past it */
static unsigned char *copy(const void *p, size_t n)
{
	unsigned char *c = malloc(n ? n : 1);

	if (!c)
		abort();
	memcpy(c, p, n);
	return c;
}

static void init_repo(struct githead *r, size_t sz, bool end)
{
	static const struct pointers none = {.sb = &sb};
	*r = (struct githead){.sb = &sb,
			      .index_fd = -1,
			      .git = git_fd,
			      .o = {.sb = &sb, .objects = objects_fd, .end = end}};
	r->o.sz = sz;
	gather_protected(r, &none);
	r->o.packs_read = true; /* none but those set here */
}

static void fini_repo(struct githead *r)
{
	for (size_t j = 0; j < r->n_owned; j++)
		free(r->owned[j]);
	for (size_t j = 0; j < r->n_base; j++)
		free(r->base[j].path);
	free(r->base);
}

static void loose(struct githead *r, const uint8_t *p, size_t n)
{
	unsigned char oid[32], *buf = NULL, tree[32];
	char name[64];
	enum obj_type t;
	size_t len;

	memset(oid, 0xaa, sizeof(oid));
	snprintf(name, sizeof(name), "%.*s", (int)(2 * r->o.sz - 2),
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	int aa = openat(objects_fd, "aa", O_RDONLY | O_DIRECTORY);
	put(aa, name, p, n);
	if (gitobj_read_object(&r->o, oid, &t, &buf, &len, 0) == 0)
		free(buf);
	(void)gh_commit_tree(r, oid, tree, NULL, NULL);
	(void)commit_ok(r, oid, true);
	(void)gh_tree_paths(r, oid, true);
	(void)gh_tree_paths(r, oid, false);
	unlinkat(aa, name, 0);
	close(aa);
}

static void pack(struct githead *r, const uint8_t *p, size_t n)
{
	static const unsigned char idx_magic[8] = {0xff, 't', 'O', 'c', 0, 0, 0, 2};
	size_t il = n >= 2 ? (size_t)(p[0] << 8 | p[1]) : 0;

	if (n < 2 || il > n - 2)
		return;
	p += 2, n -= 2;
	struct gitobj_pack pk = {.idx_size = 8 + il, .data_size = 4 + (n - il)};
	pk.idx = malloc(pk.idx_size);
	pk.data = malloc(pk.data_size);
	if (!pk.idx || !pk.data)
		abort();
	memcpy(pk.idx, idx_magic, 8);
	memcpy(pk.idx + 8, p, il);
	memcpy(pk.data, "PACK", 4);
	memcpy(pk.data + 4, p + il, n - il);
	/* as gitobj_read_packs() takes it */
	if (pk.idx_size >= 8 + 1024 && pk.data_size >= 12) {
		r->o.packs = &pk;
		r->o.n_packs = 1;
		uint32_t total = be32(pk.idx + 8 + 4 * 255);
		for (uint32_t i = 0; i < total && i < 4; i++) {
			size_t at = 8 + 1024 + (size_t)i * r->o.sz;
			unsigned char oid[32], *buf = NULL;
			enum obj_type t;
			size_t len;
			if (at + r->o.sz > pk.idx_size)
				break;
			memcpy(oid, pk.idx + at, r->o.sz);
			if (gitobj_read_object(&r->o, oid, &t, &buf, &len, 0) == 0)
				free(buf);
			(void)commit_ok(r, oid, true);
		}
		unsigned char *buf = NULL;
		enum obj_type t;
		size_t len;
		if (gitobj_pack_read(&r->o, &pk, 12, &t, &buf, &len, 0) == 0)
			free(buf);
		r->o.packs = NULL;
		r->o.n_packs = 0;
	}
	free(pk.idx);
	free(pk.data);
}

static void delta(const uint8_t *p, size_t n)
{
	size_t bl = n >= 2 ? (size_t)(p[0] << 8 | p[1]) : 0, len;

	if (n < 2 || bl > n - 2)
		return;
	unsigned char *base = copy(p + 2, bl), *d = copy(p + 2 + bl, n - 2 - bl);
	free(apply_delta(base, bl, d, n - 2 - bl, &len));
	free(base);
	free(d);
}

static void index_file(struct githead *r, const uint8_t *p, size_t n)
{
	struct index_walk add = {.r = r, .add = true}, check = {.r = r};
	unsigned char *c = copy(p, n);

	r->base_indexed = true; /* no held index to read */
	if (gitindex_parse(c, n, on_entry, &add) == 0)
		(void)gitindex_parse_all(c, n, r->o.sz, on_entry, on_tree, &check);
	free(c);
}

static void packed_refs(struct githead *r, const uint8_t *p, size_t n)
{
	unsigned char oid[32];
	size_t sz;

	put(git_fd, "packed-refs", p, n);
	(void)gh_resolve(r, "refs/heads/main", oid, &sz, 0);
	(void)gh_resolve(r, "refs/tags/v1", oid, &sz, 0);
	unlinkat(git_fd, "packed-refs", 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct githead r;

	if (git_fd < 0)
		setup();
	if (size < 1)
		return 0;
	init_repo(&r, data[0] & 0x80 ? 32 : 20, data[0] & 0x40);
	switch ((data[0] & 0x3f) % 5) {
	case 0:
		loose(&r, data + 1, size - 1);
		break;
	case 1:
		pack(&r, data + 1, size - 1);
		break;
	case 2:
		delta(data + 1, size - 1);
		break;
	case 3:
		index_file(&r, data + 1, size - 1);
		break;
	case 4:
		packed_refs(&r, data + 1, size - 1);
		break;
	}
	fini_repo(&r);
	return 0;
}
