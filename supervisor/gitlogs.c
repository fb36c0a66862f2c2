/* SPDX-License-Identifier: MIT */
/*
 * The reflogs git takes earlier commits from (the stash list, HEAD's,
 * the branch HEAD is on), and the files beside the refs that name
 * commits (FETCH_HEAD, a merge's, pick's, rebase's or bisect's state): at
 * the end of a run, what the run wrote there must pass as a ref does
 * (gittrees.c), names resolved as git resolves them (githeads.c says why).
 */
#include <ctype.h>
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

/* A reflog at the start, copied: up to 1 MiB (past that, every line is
 * judged at the end). */
static void read_reflog(struct githead *h, const char *name, bool stash)
{
	struct stat st;
	struct reflog *l = &h->logs[h->n_logs];

	if (h->n_logs >= ARRAY_SIZE(h->logs) ||
	    (size_t)snprintf(l->name, sizeof(l->name), "%s", name) >= sizeof(l->name))
		return;
	l->stash = stash;
	h->n_logs++;
	_cleanup_close_ int fd = gitobj_open_file(h->git, name);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > (1 << 20))
		return;
	l->copy = malloc((size_t)st.st_size);
	ssize_t n = l->copy ? read(fd, l->copy, (size_t)st.st_size) : -1;
	if (n != st.st_size) {
		free(l->copy);
		l->copy = NULL;
		return;
	}
	l->len = (size_t)n;
}

void gh_read_reflogs(struct githead *h)
{
	char name[PATH_MAX];

	read_reflog(h, "logs/refs/stash", true);
	read_reflog(h, "logs/HEAD", false);
	/* the branch HEAD is on: @{1}, `git reset --hard @{1}` */
	if (h->head_ref[0] &&
	    (size_t)snprintf(name, sizeof(name), "logs/%s", h->head_ref) < sizeof(name))
		read_reflog(h, name, false);
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
		hex = hex && gitobj_hexval(x[i]) >= 0;
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

/*
 * A reflog when it changed: each entry is a commit git takes in turn
 * (`git stash pop` a stash entry after another, HEAD@{1}, `git checkout
 * -`), so a line the start's copy did not have must pass as its ref does;
 * one that does not is taken out of it.  git resolves NAME@{N} through
 * the OLD field of the entry above it as well: a new entry's, and the one
 * after a line taken out, is made its predecessor's NEW, as git writes it
 * (all zeros for the first).  Something else than a file there (a link
 * git would follow) is removed.
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
		    (parsed && (zero || gh_history_ok(r, oid, log->stash)) &&
		     (log->stash || !msg || checkout_from_ok(r, msg, (size_t)(l + len - msg))));
		if (keep) {
			memcpy(kept + kn, l, len);
			if (parsed && (!had || after_drop)) {
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

void gh_check_reflogs(struct githead *r)
{
	unsigned char oid[32];
	char target[PATH_MAX];
	size_t sz;

	for (size_t i = 0; i < r->n_logs; i++)
		check_reflog(r, &r->logs[i]);
	/* HEAD on another branch now (`git checkout -b`, `git branch -m`):
	 * its reflog is what @{1} reads; there is no copy of it from the
	 * start, so every entry is judged */
	/* a name git takes for a branch: not one that leads elsewhere in the
	 * .git (refs/../index would be rewritten as a reflog) */
	if (!gh_read_ref(r->git, "HEAD", oid, &sz, target, sizeof(target)) &&
	    strncmp(target, "refs/heads/", 11) == 0 && !strstr(target, "..") &&
	    !strstr(target, "/.") && !strstr(target, "//") && strcmp(target, r->head_ref) != 0) {
		struct reflog *now = calloc(1, sizeof(*now));
		if (now && (size_t)snprintf(now->name, sizeof(now->name), "logs/%s", target) <
			       sizeof(now->name))
			check_reflog(r, now);
		free(now);
	}
}

/*
 * The names git reads beside the refs (FETCH_HEAD for `git merge
 * FETCH_HEAD`, the state of a merge, pick, revert, rebase or bisect left
 * for `--continue`, `--abort` or `bisect reset`), made or changed during
 * the run: each object id at a line's start must pass as a ref does, else
 * the file goes.  Something else than a file there goes too.
 */
void gh_check_pseudo(struct githead *r)
{
	static const char *const names[] = {
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

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
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
			if (gitobj_parse_oid(l, len, oid) == r->o.sz)
				ok =
				    gh_history_ok(r, oid, strcmp(names[i], "MERGE_AUTOSTASH") == 0);
			/* where `git bisect reset` goes back to: a name or an id */
			else if (l == m && strcmp(names[i], "BISECT_START") == 0)
				ok = rev_ok(r, l, len);
			l = nl ? nl + 1 : NULL;
		}
		if (m)
			munmap(m, n);
		if (!ok)
			gh_say(r, names[i], "a commit",
			       unlinkat(r->git, names[i], 0) == 0 ? "removed"
								  : "it could NOT be removed");
	}
}
