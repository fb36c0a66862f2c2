/* SPDX-License-Identifier: MIT */
/*
 * The reflogs git takes earlier commits from (the stash list, HEAD's,
 * every branch's, tag's and remote's), and the files beside the refs that name
 * commits (FETCH_HEAD, a merge's, pick's, rebase's or bisect's state): at
 * the end of a run, what the run wrote there must pass as a ref does
 * (gittrees.c), names resolved as git resolves them (githeads.c says why).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "githeads_internal.h"

/* A reflog git wrote in years of use is some MiB; one past this changed
 * during the run is the sandbox's doing. */
#define REFLOG_MAX (64 << 20)

/*
 * Every reflog is read at the start, as git takes NAME@{N} from any (`git
 * reset --hard topic@{1}`), not only the stash's, HEAD's and its branch's:
 * up to LOGS_MAX of them, each up to LOG_COPY_MAX and LOGS_COPY in all
 * copied, those three first.  One past that, like one made during the
 * run, has every line judged when it changed.
 */
#define LOGS_MAX     4096
#define LOG_COPY_MAX (1 << 20)
#define LOGS_COPY    (16 << 20)
#define LOGS_DEPTH   REFS_DEPTH /* as deep as refs are read (gitrefs.c) */

static int reflog_cmp(const void *a, const void *b)
{
	return strcmp(((const struct reflog *)a)->name, ((const struct reflog *)b)->name);
}

/* The reflog NAME (beneath the .git) open at FD (taken), copied. */
static void read_reflog(struct githead *h, int fd_, const char *name)
{
	_cleanup_close_ int fd = fd_;
	struct stat st;

	if (h->n_logs >= LOGS_MAX)
		return;
	if (h->n_logs % 16 == 0) {
		struct reflog *v = realloc(h->logs, (h->n_logs + 16) * sizeof(*v));
		if (!v)
			return;
		h->logs = v;
	}
	struct reflog *l = &h->logs[h->n_logs];
	*l = (struct reflog){.name = strdup(name), .stash = strcmp(name, "logs/refs/stash") == 0};
	if (!l->name)
		return;
	h->n_logs++;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > LOG_COPY_MAX || h->logs_copied + (size_t)st.st_size > LOGS_COPY)
		return;
	l->copy = malloc((size_t)st.st_size);
	ssize_t n = l->copy ? read(fd, l->copy, (size_t)st.st_size) : -1;
	if (n != st.st_size) {
		free(l->copy);
		l->copy = NULL;
		return;
	}
	l->len = (size_t)n;
	h->logs_copied += l->len;
}

/* The reflogs beneath DIR (PREFIX, beneath the .git), but SKIP's two. */
static void read_reflog_dir(struct githead *h, int dir, const char *prefix, int depth,
			    const char *const skip[2])
{
	struct dirent *de;
	_cleanup_(closedirp) DIR *d = dir_stream_at(dir, ".", 0);

	if (!d)
		return;
	while ((de = readdir(d)) && h->n_logs < LOGS_MAX) {
		char name[PATH_MAX];
		struct stat st;
		/* (no ref git makes has a name of a leading dot) */
		if (de->d_name[0] == '.' || (size_t)snprintf(name, sizeof(name), "%s/%s", prefix,
							     de->d_name) >= sizeof(name))
			continue;
		if (de->d_type == DT_UNKNOWN) {
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			de->d_type = S_ISDIR(st.st_mode)   ? DT_DIR
				     : S_ISREG(st.st_mode) ? DT_REG
							   : 0;
		}
		if (de->d_type == DT_DIR && depth < LOGS_DEPTH) {
			_cleanup_close_ int c = openat(
			    dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (c >= 0)
				read_reflog_dir(h, c, name, depth + 1, skip);
		} else if (de->d_type == DT_REG && strcmp(name, skip[0]) != 0 &&
			   strcmp(name, skip[1]) != 0) {
			/* a file of the host's, before the sandbox runs: one
			 * open (no link followed), one stat, one read each */
			read_reflog(
			    h,
			    openat(dirfd(d), de->d_name,
				   O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC),
			    name);
		}
	}
}

void gh_read_reflogs(struct githead *h)
{
	char branch[PATH_MAX] = "";

	read_reflog(h, gitobj_open_file(h->git, "logs/HEAD"), "logs/HEAD");
	read_reflog(h, gitobj_open_file(h->git, "logs/refs/stash"), "logs/refs/stash");
	/* the branch HEAD is on: @{1}, `git reset --hard @{1}` */
	if (h->head_ref[0] &&
	    (size_t)snprintf(branch, sizeof(branch), "logs/%s", h->head_ref) < sizeof(branch))
		read_reflog(h, gitobj_open_file(h->git, branch), branch);
	else
		branch[0] = '\0';
	const char *const skip[2] = {"logs/refs/stash", branch};
	_cleanup_close_ int logs =
	    openat(h->git, "logs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int refs =
	    logs >= 0 ? openat(logs, "refs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
	if (refs >= 0)
		read_reflog_dir(h, refs, "logs/refs", 1, skip);
	if (h->n_logs > 1)
		qsort(h->logs, h->n_logs, sizeof(*h->logs), reflog_cmp);
}

/* Whether X (XL bytes), which git will check out as a revision, is a
 * commit that passes (its whole id) or a branch's name (judged as a ref),
 * not a revision git would resolve some other way: an abbreviated id, ~,
 * ^, @{...}, :path. */
static bool rev_ok(struct githead *r, const char *x, size_t xl)
{
	unsigned char oid[32];
	char name[PATH_MAX];
	struct stat st;

	if (gitobj_parse_oid(x, xl, oid) == r->o.sz && xl == 2 * r->o.sz)
		return gh_history_ok(r, oid, false);
	bool hex = xl > 0;
	for (size_t i = 0; i < xl; i++) {
		if (strchr("~^@:{}", x[i]) || x[i] == ' ' || x[i] == '\t' || !x[i])
			return false;
		hex = hex && hex_value(x[i]) >= 0;
	}
	if (!xl || hex || xl >= sizeof(name))
		return false;
	/* git resolves a name as .git/NAME first, then refs/NAME, before the
	 * branches: a file of the sandbox's there (under logs/, say), or
	 * the commits ringfence keeps blocked, would be what it takes */
	memcpy(name, x, xl);
	name[xl] = '\0';
	return !strstr(name, "ringfence-blocked") && strcmp(name, "HEAD") != 0 &&
	       fstatat(r->git, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
}

/* Whether the message of a HEAD reflog entry (after the tab) names, as
 * what `git checkout -` goes back to ("checkout: moving from X to Y"),
 * only a branch (judged as a ref) or a commit that passes. */
static bool checkout_from_ok(struct githead *r, const char *msg, size_t len)
{
	static const char from[] = "checkout: moving from ";

	if (len < sizeof(from) - 1 || memcmp(msg, from, sizeof(from) - 1) != 0)
		return true;
	const char *x = msg + sizeof(from) - 1, *end = msg + len;
	const char *to = memmem(x, (size_t)(end - x), " to ", 4);
	return rev_ok(r, x, (size_t)((to ? to : end) - x));
}

/* Where git's reflog reader takes an entry's message to start: past the
 * first '>' after the ids (the e-mail's end), a space, the time, a space,
 * a zone of a sign and four digits, and a tab if there is one; NULL for
 * an entry git takes as corrupt.  P is past "OLD NEW ", END the line's. */
static const char *reflog_message(const char *p, const char *end)
{
	const char *gt = memchr(p, '>', (size_t)(end - p));

	if (!gt || end - gt < 2 || gt[1] != ' ')
		return NULL;
	const char *t = gt + 2;
	while (t < end && isdigit((unsigned char)*t))
		t++;
	if (t == gt + 2 || end - t < 6 || t[0] != ' ' || (t[1] != '+' && t[1] != '-') ||
	    !isdigit((unsigned char)t[2]) || !isdigit((unsigned char)t[3]) ||
	    !isdigit((unsigned char)t[4]) || !isdigit((unsigned char)t[5]))
		return NULL;
	t += 6;
	return t < end && *t == '\t' ? t + 1 : t;
}

/* The commits a reflog's lines name that passed, remembered: a long one
 * names the same commits again and again (a reflog git never expired: tens
 * of thousands of lines), each a read of the budget to judge once more.
 * Open addressing on the id's first bytes; full, nothing more is kept. */
#define PASSED_SLOTS 8192

struct passed {
	unsigned char (*v)[32];
	bool *used;
	size_t n;
};

static bool passed_has(const struct passed *p, const unsigned char *oid, size_t sz)
{
	size_t h;

	if (!p->v)
		return false;
	memcpy(&h, oid, sizeof(h));
	for (size_t i = 0; i < PASSED_SLOTS; i++) {
		size_t at = (h + i) % PASSED_SLOTS;
		if (!p->used[at])
			return false;
		if (memcmp(p->v[at], oid, sz) == 0)
			return true;
	}
	return false;
}

static void passed_add(struct passed *p, const unsigned char *oid, size_t sz)
{
	size_t h;

	if (!p->v || p->n >= PASSED_SLOTS / 2)
		return;
	memcpy(&h, oid, sizeof(h));
	for (size_t i = 0; i < PASSED_SLOTS; i++) {
		size_t at = (h + i) % PASSED_SLOTS;
		if (!p->used[at]) {
			memcpy(p->v[at], oid, sz);
			p->used[at] = true;
			p->n++;
			return;
		}
	}
}

/* Whether the commit OID passes as a reflog's entry (gh_history_ok()). */
static bool entry_ok(struct githead *r, struct passed *p, const unsigned char *oid, bool stash)
{
	if (passed_has(p, oid, r->o.sz))
		return true;
	if (!gh_history_ok(r, oid, stash))
		return false;
	passed_add(p, oid, r->o.sz);
	return true;
}

/*
 * A reflog when it changed: each entry is a commit git takes in turn
 * (`git stash pop` a stash entry after another, HEAD@{1}, `git checkout
 * -`), so a line the start's copy did not have must pass as its ref does;
 * one that does not is taken out of it.  git resolves NAME@{N} through
 * the OLD field of the entry above it as well: a new entry's, and the one
 * after a line taken out, is made its predecessor's NEW, as git writes it
 * (all zeros for the first), unless it is that already or passes too (the
 * host's first line after `git reflog expire`).  Something else than a
 * file there (a link git would follow) is removed.
 */
static void check_reflog(struct githead *r, const struct reflog *log)
{
	struct stat st;
	size_t n, n_lines = 0, dropped = 0, sz = r->o.sz;
	_cleanup_free_ struct line *lines = NULL;
	_cleanup_close_ int fd = gitobj_open_file(r->git, log->name);

	if (fd < 0 && errno != ENOENT) {
		gh_say(r, log->name, "a reflog that is no file",
		       gh_remove_file(r, log->name) == 0 ? "removed" : "it could NOT be removed");
		return;
	}
	if (fd < 0 || fstat(fd, &st) < 0 || !gitobj_newer(&st, &r->sb->started_born))
		return;
	char *m = st.st_size <= REFLOG_MAX ? gitobj_map_file(r->git, log->name, &n) : NULL;
	/* each line kept with its newline (the last maybe one it lacked), a NUL */
	_cleanup_free_ char *kept = m ? malloc(n + 2) : NULL;
	size_t kn = 0;
	if (!kept) {
		if (m)
			munmap(m, n);
		/* too large to judge (git reads its last entries all the same):
		 * it goes, fail closed */
		gh_say(r, log->name, "a reflog too large to judge",
		       gh_remove_file(r, log->name) == 0 ? "removed" : "it could NOT be removed");
		return;
	}
	if (log->copy)
		lines = gh_index_lines(log->copy, log->len, &n_lines);
	char prev_new[2 * 32 + 1];
	memset(prev_new, '0', sizeof(prev_new));
	_cleanup_free_ unsigned char(*pv)[32] = calloc(PASSED_SLOTS, 32);
	_cleanup_free_ bool *pu = calloc(PASSED_SLOTS, 1);
	struct passed pass = {.v = pu ? pv : NULL, .used = pu};
	bool rewritten = false, after_drop = false;
	for (char *l = m; l && l < m + n;) {
		char *nl = memchr(l, '\n', (size_t)(m + n - l));
		size_t len = nl ? (size_t)(nl - l) : (size_t)(m + n - l);
		unsigned char oid[32], prev[32];
		/* "OLD NEW name <email> time zone\tmessage" */
		bool parsed = len > 4 * sz + 2 && gitobj_parse_oid(l, len, prev) == sz &&
			      l[2 * sz] == ' ' &&
			      gitobj_parse_oid(l + 2 * sz + 1, len - 2 * sz - 1, oid) == sz;
		bool had = gh_had_line(lines, n_lines, l, len);
		const char *msg = parsed ? reflog_message(l + 4 * sz + 2, l + len) : NULL;
		bool zero = parsed && strspn(l + 2 * sz + 1, "0") >= 2 * sz;
		bool keep =
		    had ||
		    (parsed && (zero || entry_ok(r, &pass, oid, log->stash)) &&
		     (log->stash || !msg || checkout_from_ok(r, msg, (size_t)(l + len - msg))));
		if (keep) {
			memcpy(kept + kn, l, len);
			if (parsed && (!had || after_drop) && memcmp(l, prev_new, 2 * sz) != 0 &&
			    (strspn(l, "0") >= 2 * sz || !entry_ok(r, &pass, prev, log->stash))) {
				rewritten |= memcmp(kept + kn, prev_new, 2 * sz) != 0;
				memcpy(kept + kn, prev_new, 2 * sz);
			}
			if (parsed)
				memcpy(prev_new, l + 2 * sz + 1, 2 * sz);
			kn += len;
			kept[kn++] = '\n';
			after_drop = false;
		} else {
			dropped++;
			after_drop = true;
		}
		l = nl ? nl + 1 : NULL;
	}
	munmap(m, n);
	if (!dropped && !rewritten)
		return;
	kept[kn] = '\0';
	int e = gh_put_file(r, log->name, kept);
	gh_say(r, log->name, "a commit in a reflog",
	       e < 0	 ? "it could NOT be taken out of it"
	       : dropped ? "taken out of it"
			 : "the entries' previous ids set back as git writes them");
}

/* The reflog NAME as the start had it: its copy, or none. */
static void check_named(struct githead *r, const char *name)
{
	struct reflog key = {.name = (char *)name};
	const struct reflog *l =
	    r->n_logs ? bsearch(&key, r->logs, r->n_logs, sizeof(*r->logs), reflog_cmp) : NULL;

	key.stash = strcmp(name, "logs/refs/stash") == 0;
	check_reflog(r, l ? l : &key);
}

/* What the run made or changed beneath the directory NAME of the .git
 * that is no directory (git follows a link there): removed. */
static bool gone_if_not_dir(struct githead *r, int dir, const char *leaf, const char *name)
{
	struct stat st;

	if (fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode) ||
	    !gitobj_newer(&st, &r->sb->started_born))
		return false;
	gh_say(r, name, "reflogs' directory that is no directory",
	       gh_remove_file(r, name) == 0 ? "removed" : "it could NOT be removed");
	return true;
}

/* Each reflog beneath DIR (PREFIX) made or changed during the run. */
static void check_reflog_dir(struct githead *r, int dir, const char *prefix, int depth)
{
	struct dirent *de;
	_cleanup_(closedirp) DIR *d = dir_stream_at(dir, ".", 0);

	if (!d)
		return;
	while ((de = readdir(d))) {
		char name[PATH_MAX];
		struct stat st;
		if (de->d_name[0] == '.' ||
		    (size_t)snprintf(name, sizeof(name), "%s/%s", prefix, de->d_name) >=
			sizeof(name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			/* deeper: a ref of that depth is moved aside
			 * (gh_walk_refs()), and git reads no reflog without it */
			_cleanup_close_ int c =
			    depth < LOGS_DEPTH
				? openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
				: -1;
			if (c >= 0)
				check_reflog_dir(r, c, name, depth + 1);
		} else if (gitobj_newer(&st, &r->sb->started_born)) {
			/* a file judged, anything else removed (check_reflog()) */
			check_named(r, name);
		}
	}
}

void gh_check_reflogs(struct githead *r)
{
	check_named(r, "logs/HEAD");
	/* every other reflog the run wrote (HEAD on another branch now, `git
	 * checkout -b`, `git branch -m`: there is no copy of it from the
	 * start, and every entry is judged) */
	if (gone_if_not_dir(r, r->git, "logs", "logs"))
		return;
	_cleanup_close_ int logs =
	    openat(r->git, "logs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (logs < 0 || gone_if_not_dir(r, logs, "refs", "logs/refs"))
		return;
	_cleanup_close_ int refs =
	    openat(logs, "refs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (refs >= 0)
		check_reflog_dir(r, refs, "logs/refs", 1);
}

/*
 * The names git reads beside the refs (FETCH_HEAD for `git merge
 * FETCH_HEAD`, the state of a merge, pick, revert, rebase or bisect left
 * for `--continue`, `--abort` or `bisect reset`), made or changed during
 * the run: each object id at a line's start must pass as a ref does, else
 * the file goes.  Something else than a file there goes too.
 */
const char *const gh_pseudo_refs[] = {
    "FETCH_HEAD",
    "MERGE_HEAD",
    "CHERRY_PICK_HEAD",
    "REVERT_HEAD",
    "REBASE_HEAD",
    "AUTO_MERGE",
    "BISECT_HEAD",
    "BISECT_START",
    "BISECT_EXPECTED_REV",
    /* a stash `git merge --abort` applies */
    "MERGE_AUTOSTASH",
};
const size_t gh_n_pseudo_refs = ARRAY_SIZE(gh_pseudo_refs);

void gh_check_pseudo(struct githead *r)
{
	const char *const *names = gh_pseudo_refs;

	for (size_t i = 0; i < gh_n_pseudo_refs; i++) {
		struct stat st;
		size_t n;
		bool ok = true;
		if (fstatat(r->git, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !gitobj_newer(&st, &r->sb->started_born))
			continue;
		/* a few lines each (FETCH_HEAD a line a fetched branch): one
		 * larger is the sandbox's, and goes */
		char *m = S_ISREG(st.st_mode) && st.st_size <= (16 << 20)
			      ? gitobj_map_file(r->git, names[i], &n)
			      : NULL;
		if (S_ISREG(st.st_mode) && st.st_size == 0)
			continue;
		ok = m != NULL;
		for (char *l = m; ok && l && l < m + n;) {
			char *nl = memchr(l, '\n', (size_t)(m + n - l));
			size_t len = nl ? (size_t)(nl - l) : (size_t)(m + n - l);
			unsigned char oid[32];
			/* AUTO_MERGE names the tree of a merge git left
			 * (`git cherry-pick`, `git stash pop`): judged as a
			 * tree, `git checkout AUTO_MERGE -- .` writes it */
			if (gitobj_parse_oid(l, len, oid) == r->o.sz)
				ok = strcmp(names[i], "AUTO_MERGE") == 0
					 ? gh_tree_paths(r, oid, false)
					 : gh_history_ok(r, oid,
							 strcmp(names[i], "MERGE_AUTOSTASH") == 0);
			/* where `git bisect reset` goes back to: a name or an id */
			else if (l == m && strcmp(names[i], "BISECT_START") == 0)
				ok = rev_ok(r, l, len);
			l = nl ? nl + 1 : NULL;
		}
		if (m)
			munmap(m, n);
		if (!ok)
			gh_say(r, names[i], "a commit",
			       owner_unlinkat(r->sb, r->git, names[i], 0) == 0
				   ? "removed"
				   : "it could NOT be removed");
	}
}
