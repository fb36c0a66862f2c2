/* SPDX-License-Identifier: MIT */
/*
 * The host's history: whether a commit older than the run is reachable
 * from the refs the host had at the start (gh_host_has()).
 *
 * Why.  The end walks down from each ref the run changed, through every
 * commit the run made, to the first older commit on each way
 * (gh_history_ok()).  Older is not the host's: an earlier run may have
 * made a commit with its hook and a harmless one above it, left
 * unreferenced, and this run commits on top of the harmless one; `git
 * reset --hard HEAD~2` after the run checks the hook out.  So the walk
 * goes on below an older commit until it reaches the host's history.
 *
 * The host's refs at the start: HEAD's commit, the packed-refs held open
 * since the start (peeled lines too), and every loose ref beneath .git/refs
 * not changed during the run (a loose ref the run changed had a value at
 * the start that is lost: a commit reachable from it alone counts as not
 * the host's, which only makes the walk check more).  From them (HEAD's
 * commit alone first, the other refs when that is not enough), commits
 * are read newest first (committer dates, as git's own walks go), up to a
 * day past the commit asked about, and what was seen is kept for the next
 * question.  Every read is charged to the repository's budget (gitobj.c);
 * past it, or past REACH_MAX commits, a commit not yet seen counts as not
 * the host's: the walk below it goes on, and fails closed at its own
 * limits.  A date the sandbox chose only moves where this walk stops: too
 * new, the answer is "not the host's" early; too old, the walk reads the
 * host's history up to the budget.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "githeads_internal.h"

#define REACH_MAX  (1u << 20)
#define REACH_SLOP (24 * 3600)
#define TIPS_MAX   100000

/* A commit waiting to be read, newest first. */
struct node {
	int64_t date;
	unsigned char oid[32];
};

struct reach {
	bool ready, dead;
	bool all_tips; /* every ref queued, not HEAD's commit alone */
	/* the commits seen (queued or read): a set, open addressing */
	unsigned char (*set)[32];
	bool *used;
	size_t cap, n;
	/* the commits to read, a max-heap by date */
	struct node *heap;
	size_t n_heap, cap_heap;
};

static size_t slot(const struct reach *w, const unsigned char *oid, size_t sz)
{
	uint64_t h;
	memcpy(&h, oid, sizeof(h));
	size_t i = (size_t)h & (w->cap - 1);
	while (w->used[i] && memcmp(w->set[i], oid, sz) != 0)
		i = (i + 1) & (w->cap - 1);
	return i;
}

static bool seen(const struct reach *w, const unsigned char *oid, size_t sz)
{
	return w->cap && w->used[slot(w, oid, sz)];
}

/* OID added to the set; false when it was there, or past REACH_MAX. */
static bool add(struct reach *w, const unsigned char *oid, size_t sz)
{
	if (w->n >= REACH_MAX) {
		w->dead = true;
		return false;
	}
	if (2 * (w->n + 1) > w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 1024;
		struct reach old = *w;
		w->set = calloc(cap, sizeof(*w->set));
		w->used = calloc(cap, sizeof(*w->used));
		if (!w->set || !w->used) {
			free(w->set);
			free(w->used);
			*w = old;
			w->dead = true;
			return false;
		}
		w->cap = cap;
		for (size_t i = 0; i < old.cap; i++)
			if (old.used[i]) {
				size_t j = slot(w, old.set[i], sz);
				w->used[j] = true;
				memcpy(w->set[j], old.set[i], sz);
			}
		free(old.set);
		free(old.used);
	}
	size_t i = slot(w, oid, sz);
	if (w->used[i])
		return false;
	w->used[i] = true;
	memcpy(w->set[i], oid, sz);
	w->n++;
	return true;
}

static void push(struct reach *w, const struct node *x)
{
	if (w->n_heap == w->cap_heap) {
		size_t cap = w->cap_heap ? 2 * w->cap_heap : 256;
		struct node *v = realloc(w->heap, cap * sizeof(*v));
		if (!v) {
			w->dead = true;
			return;
		}
		w->heap = v;
		w->cap_heap = cap;
	}
	size_t i = w->n_heap++;
	while (i > 0 && w->heap[(i - 1) / 2].date < x->date) {
		w->heap[i] = w->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	w->heap[i] = *x;
}

static struct node pop(struct reach *w)
{
	struct node top = w->heap[0], last = w->heap[--w->n_heap];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= w->n_heap)
			break;
		if (c + 1 < w->n_heap && w->heap[c + 1].date > w->heap[c].date)
			c++;
		if (w->heap[c].date <= last.date)
			break;
		w->heap[i] = w->heap[c];
		i = c;
	}
	if (w->n_heap)
		w->heap[i] = last;
	return top;
}

/* The value of the header line KEY ("object ", "committer ") of the
 * object BUF (N bytes), up to the line's end: NULL when it has none. */
static const char *header(const unsigned char *buf, size_t n, const char *key, size_t *ret_len)
{
	size_t kl = strlen(key);

	for (const char *l = (const char *)buf; l && l < (const char *)buf + n;) {
		const char *end = (const char *)buf + n;
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		if (l == nl)
			return NULL; /* the message follows */
		if ((size_t)(end - l) > kl && memcmp(l, key, kl) == 0) {
			*ret_len = (size_t)((nl ? nl : end) - l) - kl;
			return l + kl;
		}
		l = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* The committer's time of the commit BUF: the number before the zone at
 * the line's end ("Name <mail> 1700000000 +0000"); 0 when none reads. */
static int64_t commit_date(const unsigned char *buf, size_t n)
{
	size_t len;
	const char *v = header(buf, n, "committer ", &len);
	const char *gt = v ? memrchr(v, '>', len) : NULL;
	int64_t t = 0;

	if (!gt)
		return 0;
	for (const char *p = gt + 1; p < v + len && *p == ' '; p++)
		if (p + 1 < v + len && p[1] >= '0' && p[1] <= '9') {
			for (p++; p < v + len && *p >= '0' && *p <= '9' && t < INT64_MAX / 10; p++)
				t = t * 10 + (*p - '0');
			break;
		}
	return t;
}

/* OID queued, when not seen: what it is read now (a tag is followed to
 * what it names), its date the heap's key. */
static void queue(struct githead *r, struct reach *w, const unsigned char *oid)
{
	unsigned char cur[32];
	size_t sz = r->o.sz;

	memcpy(cur, oid, sz);
	for (int depth = 0; depth < 8 && !w->dead; depth++) {
		enum obj_type t;
		unsigned char *buf;
		size_t n, len;
		if (!add(w, cur, sz))
			return;
		if (gitobj_read(&r->o, cur, &t, &buf, &n) < 0) {
			/* past the budget: what is not seen yet never will be */
			w->dead = w->dead || !gitobj_spend(&r->o, 0);
			return;
		}
		if (t == OBJ_COMMIT) {
			struct node x = {.date = commit_date(buf, n)};
			memcpy(x.oid, cur, sz);
			free(buf);
			push(w, &x);
			return;
		}
		const char *v = t == OBJ_TAG ? header(buf, n, "object ", &len) : NULL;
		bool next = v && gitobj_parse_oid(v, len, cur) == sz;
		free(buf);
		if (!next)
			return;
	}
}

/* The commit X read: its parents queued. */
static void expand(struct githead *r, struct reach *w, const struct node *x)
{
	enum obj_type t;
	unsigned char *buf, par[32];
	size_t n;

	if (gitobj_read(&r->o, x->oid, &t, &buf, &n) < 0) {
		w->dead = w->dead || !gitobj_spend(&r->o, 0);
		return;
	}
	for (const char *l = (const char *)buf;
	     t == OBJ_COMMIT && l && l < (const char *)buf + n;) {
		const char *end = (const char *)buf + n;
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		if (l == nl)
			break;
		if ((size_t)(end - l) > 7 && memcmp(l, "parent ", 7) == 0 &&
		    gitobj_parse_oid(l + 7, (size_t)(end - l - 7), par) == r->o.sz)
			queue(r, w, par);
		l = nl ? nl + 1 : NULL;
	}
	free(buf);
}

/* Every loose ref beneath DIR not changed during the run, queued. */
static void loose_tips(struct githead *r, struct reach *w, int dir, int depth, size_t *tips)
{
	_cleanup_(closedirp) DIR *d = fdopendir(dir);
	struct dirent *de;

	if (!d) {
		close(dir);
		return;
	}
	while ((de = readdir(d)) && *tips < TIPS_MAX && !w->dead) {
		struct stat st;
		unsigned char oid[32];
		char target[PATH_MAX];
		size_t sz = 0;
		if (de->d_name[0] == '.' ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    gitobj_newer(&st, r->o.since))
			continue;
		if (S_ISDIR(st.st_mode) && depth < REFS_DEPTH) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				loose_tips(r, w, sub, depth + 1, tips);
		} else if (S_ISREG(st.st_mode) &&
			   gh_read_ref(dirfd(d), de->d_name, oid, &sz, target, sizeof(target)) &&
			   sz == r->o.sz) {
			queue(r, w, oid);
			(*tips)++;
		}
	}
}

/* The packed-refs of the start (copied), each line's id and each peeled
 * one ("^id") queued. */
static void packed_tips(struct githead *r, struct reach *w, size_t *tips)
{
	unsigned char oid[32];

	if (r->packed_state != PACKED_COPIED)
		return;
	size_t n = r->packed_len;
	const char *m = r->packed;
	for (const char *l = m; l < m + n && *tips < TIPS_MAX && !w->dead;) {
		const char *nl = memchr(l, '\n', (size_t)(m + n - l));
		const char *end = nl ? nl : m + n;
		const char *id = *l == '^' ? l + 1 : l;
		if (*l != '#' && gitobj_parse_oid(id, (size_t)(end - id), oid) == r->o.sz) {
			queue(r, w, oid);
			(*tips)++;
		}
		l = end + 1;
	}
}

/* The walk, from HEAD's commit at the start; the other refs are queued
 * when that is not enough (every_tip()). */
static struct reach *reach_ready(struct githead *r)
{
	struct reach *w = r->reach;

	if (!w) {
		w = r->reach = calloc(1, sizeof(*w));
		if (!w)
			return NULL;
	}
	if (!w->ready) {
		w->ready = true;
		if (r->head_sz)
			queue(r, w, r->head_oid);
	}
	return w;
}

/* Every ref of the start queued: what `git reset --hard HEAD~3` asks
 * is answered before (a repository's thousands of tags are read only for
 * a commit HEAD's history does not hold). */
static void every_tip(struct githead *r, struct reach *w)
{
	size_t tips = 0;

	w->all_tips = true;
	packed_tips(r, w, &tips);
	int refs = openat(r->git, "refs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (refs >= 0)
		loose_tips(r, w, refs, 0, &tips);
}

bool gh_host_has(struct githead *r, const unsigned char *oid)
{
	enum obj_type t;
	unsigned char *buf;
	size_t n;

	/* what a commit on top of the start's HEAD asks: no walk */
	if (r->head_sz && memcmp(oid, r->head_oid, r->o.sz) == 0)
		return true;
	struct reach *w = reach_ready(r);
	if (!w)
		return false;
	if (seen(w, oid, r->o.sz))
		return true;
	if (w->dead || gitobj_read(&r->o, oid, &t, &buf, &n) < 0)
		return false;
	int64_t date = t == OBJ_COMMIT ? commit_date(buf, n) : 0;
	free(buf);
	if (t != OBJ_COMMIT)
		return false;
	for (;;) {
		while (w->n_heap && !w->dead && w->heap[0].date >= date - REACH_SLOP) {
			struct node x = pop(w);
			expand(r, w, &x);
			if (seen(w, oid, r->o.sz))
				return true;
		}
		if (w->all_tips || w->dead)
			return seen(w, oid, r->o.sz);
		every_tip(r, w);
		if (seen(w, oid, r->o.sz))
			return true;
	}
}

void gh_reach_free(struct githead *r)
{
	if (!r->reach)
		return;
	free(r->reach->set);
	free(r->reach->used);
	free(r->reach->heap);
	free(r->reach);
	r->reach = NULL;
}
