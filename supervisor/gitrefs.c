/* SPDX-License-Identifier: MIT */
/*
 * A repository's refs at the end of a run, read as git reads them (loose
 * files, links, packed-refs, symbolic refs, the stash's reflog), each
 * changed one judged (gittrees.c) and set back when it fails; and the
 * writing back itself, beneath the .git, following no link the sandbox
 * could have planted (githeads.c says why).
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

/* packed-refs of a million refs is ~100 MiB: one past this changed during
 * the run is the sandbox's doing */
#define PACKED_MAX (256 << 20)
/* Files and directories made here are the repository's owner's, as the
 * view's carried-back files are (the supervisor may run as root); -errno. */
static int own(const struct githead *r, int dir, const char *name, int fd)
{
	struct stat st;

	if (geteuid() != 0)
		return 0;
	if (fstat(r->git, &st) < 0)
		return -errno;
	if (fd >= 0
		? fchown(fd, st.st_uid, st.st_gid) < 0
		: fchownat(dir, name ? name : "", st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

/* The directory holding NAME (relative to the .git), reached one component
 * at a time following no symbolic link (the sandbox could plant one in
 * refs/ to send a write of ours elsewhere), made when MAKE; its last
 * component in *LEAF.  -errno. */
static int open_parent(struct githead *r, const char *name, bool make, const char **leaf)
{
	char comp[NAME_MAX + 1];
	const char *p = name, *slash;
	int cur = openat(r->git, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	while (cur >= 0 && (slash = strchr(p, '/'))) {
		size_t l = (size_t)(slash - p);
		if (l == 0 || l > NAME_MAX) {
			close(cur);
			return -EINVAL;
		}
		memcpy(comp, p, l);
		comp[l] = '\0';
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			close(cur);
			return -EINVAL;
		}
		/* one left root's still reads; the ref in it is ours */
		if (make && mkdirat(cur, comp, 0755) == 0 && own(r, cur, comp, -1) < 0)
			warn("%s: %s could not be given to the repository's owner: %s", r->gitdir,
			     comp, strerror(errno));
		int next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(cur);
		cur = next;
		p = slash + 1;
	}
	if (cur < 0)
		return -errno;
	if (!*p || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
		close(cur);
		return -EINVAL;
	}
	*leaf = p;
	(void)owner_unlock(r->sb, cur); /* git's own: it leaves none unwritable */
	return cur;
}

/* NAME (relative to the .git) written as CONTENT by a temporary file and
 * a rename; its directories made. */
int gh_put_file(struct githead *r, const char *name, const char *content)
{
	char tmp[NAME_MAX + 32];
	const char *leaf;
	_cleanup_close_ int dir = open_parent(r, name, true, &leaf);

	if (dir < 0)
		return dir;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.ringfence-tmp", leaf) >= sizeof(tmp))
		return -ENAMETOOLONG;
	unlinkat(dir, tmp, 0);
	_cleanup_close_ int fd =
	    openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t len = strlen(content);
	/* an empty directory of its name (git reads past one) goes first */
	(void)unlinkat(dir, leaf, AT_REMOVEDIR);
	if (own(r, -1, NULL, fd) < 0 || write(fd, content, len) != (ssize_t)len ||
	    renameat(dir, tmp, dir, leaf) < 0) {
		int e = errno ? errno : EIO;
		unlinkat(dir, tmp, 0);
		return -e;
	}
	return 0;
}

int gh_remove_file(struct githead *r, const char *name)
{
	const char *leaf;
	_cleanup_close_ int dir = open_parent(r, name, false, &leaf);

	if (dir < 0)
		return dir;
	return unlinkat(dir, leaf, 0) < 0 ? -errno : 0;
}

/* The ref NAME's line (and the peeled line after it) taken out of
 * packed-refs; -ENOENT when it has none. */
static int restore_packed(struct githead *r);

static int remove_packed(struct githead *r, const char *name)
{
	size_t n, tl = strlen(name), kn = 0;
	char *m = gitobj_map_file(r->git, "packed-refs", &n);
	/* each line kept with its newline (the last maybe one it lacked), a NUL */
	_cleanup_free_ char *kept = m ? malloc(n + 2) : NULL;
	bool found = false, drop_peeled = false;

	if (!kept) {
		if (!m)
			return -ENOENT;
		munmap(m, n);
		/* too large to copy: the host's from the start instead, or
		 * none (every ref the run packed goes with it) */
		return restore_packed(r) == 0 || unlinkat(r->git, "packed-refs", 0) == 0 ? 0 : -EIO;
	}
	for (char *l = m; l && l < m + n;) {
		char *nl = memchr(l, '\n', (size_t)(m + n - l));
		size_t len = nl ? (size_t)(nl - l) : (size_t)(m + n - l);
		unsigned char oid[32];
		size_t sz = gitobj_parse_oid(l, len, oid);
		bool drop = (sz && len == 2 * sz + 1 + tl && l[2 * sz] == ' ' &&
			     memcmp(l + 2 * sz + 1, name, tl) == 0) ||
			    (drop_peeled && len && l[0] == '^');
		drop_peeled = drop && l[0] != '^';
		found |= drop;
		if (!drop) {
			memcpy(kept + kn, l, len);
			kn += len;
			kept[kn++] = '\n';
		}
		l = nl ? nl + 1 : NULL;
	}
	munmap(m, n);
	kept[kn] = '\0';
	return found ? gh_put_file(r, "packed-refs", kept) : -ENOENT;
}

/* A directory of the .git the checks at exit could not open (and that
 * is there: a name gone or no directory any more holds nothing): what the
 * sandbox recorded in it is not checked, and that is said, never passed
 * over. */
void gh_unchecked(struct githead *r, const char *what)
{
	if (errno == ENOENT || errno == ENOTDIR)
		return;
	gh_unchecked_as(r, what, strerror(errno));
}

void gh_unchecked_as(struct githead *r, const char *what, const char *why)
{
	char jt[PATH_MAX + 64], jw[PATH_MAX + 64];
	warn("%s of %s could not be looked through (%s): what the sandbox recorded there is NOT "
	     "checked; review it before checking anything out",
	     what, r->top, why);
	json_string(jt, sizeof(jt), r->top);
	json_string(jw, sizeof(jw), what);
	audit_event(r->sb->audit_fd, "protect.git_unchecked", "\"path\":%s,\"what\":%s", jt, jw);
}

void gh_say(struct githead *r, const char *what, const char *why, const char *done)
{
	char jt[PATH_MAX + 64], jw[PATH_MAX + 64], jd[2 * PATH_MAX + 64];

	warn("the sandbox recorded, in %s of %s, content at a protected path other than the "
	     "host's at the start (%s): %s; review it before checking it out",
	     what, r->top, why, done);
	json_string(jt, sizeof(jt), r->top);
	json_string(jw, sizeof(jw), what);
	json_string(jd, sizeof(jd), done);
	audit_event(r->sb->audit_fd, "protect.git_content", "\"path\":%s,\"what\":%s,\"done\":%s",
		    jt, jw, jd);
}

/* The ref NAME (relative to the .git: "refs/heads/x", "HEAD", ...) naming
 * OID: checked, and set back when it fails. */
void gh_check_ref(struct githead *r, const char *name, const unsigned char *oid)
{
	char hex[2 * 32 + 2], line[2 * 32 + 8], kept[PATH_MAX], done[PATH_MAX + 256];
	unsigned char back[32];
	bool head = strcmp(name, "HEAD") == 0 || strcmp(name, "ORIG_HEAD") == 0;
	/* a replacement (git replace): every host git reads the object it
	 * names as this one, which this check does not (HEAD's commit read as
	 * an older one of the host's, the hook's blob as another): one made
	 * or changed during the run goes, whatever it names */
	bool replace = strncmp(name, "refs/replace/", 13) == 0;
	/* a name beside refs/ (.git/main, a packed line `ID main`): git takes
	 * it before refs/heads/main (git checkout main, git reset --hard
	 * main), and no git command writes one: it goes too */
	bool beside = !head && strncmp(name, "refs/", 5) != 0;
	const char *what = replace  ? "a replacement of an object"
			   : beside ? "a ref beside refs/, which shadows a branch"
				    : "a commit";

	if (strncmp(name, "refs/ringfence-blocked/", 23) == 0 ||
	    (!replace && !beside && gh_history_ok(r, oid, strcmp(name, "refs/stash") == 0)))
		return;
	gitobj_oid_hex(oid, r->o.sz, hex);
	snprintf(line, sizeof(line), "%s\n", hex);
	/* kept for review; set back whether or not it could be (a link or a
	 * directory planted in refs/ringfence-blocked must not keep it) */
	bool kept_ok =
	    (size_t)snprintf(kept, sizeof(kept), "refs/ringfence-blocked/%s",
			     strncmp(name, "refs/", 5) == 0 ? name + 5 : name) < sizeof(kept) &&
	    gh_put_file(r, kept, line) == 0;
	char was[PATH_MAX + 64];
	snprintf(was, sizeof(was),
		 kept_ok ? "the commit is kept as %s" : "the commit (%s) is kept nowhere",
		 kept_ok ? kept : hex);
	/* the branch HEAD was on, HEAD and ORIG_HEAD: back to the start's
	 * HEAD commit; another branch: to an ancestor that passes */
	bool start =
	    r->head_sz == r->o.sz && (head || (r->head_ref[0] && strcmp(r->head_ref, name) == 0));
	/* a stash's parent is no stash: refs/stash goes */
	bool stash = strcmp(name, "refs/stash") == 0;
	if (start)
		memcpy(back, r->head_oid, r->o.sz);
	if (start || (!head && !stash && !replace && !beside && gh_good_ancestor(r, oid, back))) {
		char to[2 * 32 + 8];
		gitobj_oid_hex(back, r->o.sz, hex);
		snprintf(to, sizeof(to), "%s\n", hex);
		if (gh_put_file(r, name, to) == 0) {
			snprintf(
			    done, sizeof(done), "%s; %s",
			    start ? "set back to HEAD's commit at the start"
				  : "set back to its first ancestor from before the run that has "
				    "the host's content there",
			    was);
			gh_say(r, name, what, done);
			return;
		}
	} else if (!head && gh_remove_file(r, name) == 0) {
		snprintf(done, sizeof(done), "removed; %s", was);
		gh_say(r, name, what, done);
		/* a line of its name in packed-refs is what git reads next */
		(void)remove_packed(r, name);
		return;
	}
	/* in packed-refs only (or behind a directory of its name): its line
	 * goes, and git finds no such ref */
	if (!head && remove_packed(r, name) == 0) {
		snprintf(done, sizeof(done), "removed from packed-refs; %s", was);
		gh_say(r, name, what, done);
		return;
	}
	snprintf(done, sizeof(done), "it could NOT be set back; %s", was);
	gh_say(r, name, what, done);
}

/* Reads the ref file FILE in DIR: an object id in *OID (true), or a
 * symbolic ref's target in TARGET. */
bool gh_read_ref(int dir, const char *file, unsigned char *oid, size_t *sz, char *target,
		 size_t target_size)
{
	char buf[PATH_MAX];
	_cleanup_close_ int fd = gitobj_open_file(dir, file);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	target[0] = '\0';
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* as git reads it: the file's trailing white space cut, "ref:", any
	 * white space (new lines too), the rest the name */
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	if (strncmp(buf, "ref:", 4) == 0) {
		char *t = buf + 4;
		while (isspace((unsigned char)*t))
			t++;
		snprintf(target, target_size, "%s", t);
		return false;
	}
	return (*sz = gitobj_parse_oid(buf, (size_t)n, oid)) != 0;
}

/* The object id the ref NAME resolves to (a loose file, else packed-refs),
 * following symbolic refs. */
bool gh_resolve(struct githead *r, const char *name, unsigned char *oid, size_t *sz, int depth)
{
	char target[PATH_MAX];
	size_t tl, max;

	if (depth > 5 || strstr(name, ".."))
		return false;
	if (gh_read_ref(r->git, name, oid, sz, target, sizeof(target)))
		return true;
	if (target[0])
		return gh_resolve(r, target, oid, sz, depth + 1);
	void *m = gitobj_map_file(r->git, "packed-refs", &max);
	if (!m)
		return false;
	tl = strlen(name);
	bool found = false;
	for (char *l = m; l && l < (char *)m + max && !found;) {
		char *nl = memchr(l, '\n', (size_t)((char *)m + max - l));
		size_t len = nl ? (size_t)(nl - l) : (size_t)((char *)m + max - l);
		size_t s = gitobj_parse_oid(l, len, oid);
		if (s && len == 2 * s + 1 + tl && l[2 * s] == ' ' &&
		    memcmp(l + 2 * s + 1, name, tl) == 0) {
			*sz = s;
			found = true;
		}
		l = nl ? nl + 1 : NULL;
	}
	munmap(m, max);
	return found;
}

/* The branch HEAD was on at the start, NAME, removed: written again with
 * HEAD's commit at the start (else HEAD names no commit). */
static bool restore_head_ref(struct githead *r, const char *name)
{
	char hex[2 * 32 + 2], line[2 * 32 + 8];

	if (r->head_sz != r->o.sz || strcmp(r->head_ref, name) != 0)
		return false;
	gitobj_oid_hex(r->head_oid, r->o.sz, hex);
	snprintf(line, sizeof(line), "%s\n", hex);
	return gh_put_file(r, name, line) == 0;
}

/* A loose ref (or HEAD, ORIG_HEAD) changed during the run. */
void gh_check_ref_file(struct githead *r, int dir, const char *file, const char *name)
{
	unsigned char oid[32];
	char target[PATH_MAX];
	struct stat st;
	size_t sz;

	if (fstatat(dir, file, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !gitobj_newer(&st, &r->sb->started_born))
		return;
	/* a link (git follows one to any file holding an id), a FIFO, ...:
	 * git's to read, not ours: it goes */
	if (!S_ISREG(st.st_mode)) {
		gh_say(r, name, "a ref that is no file",
		       unlinkat(dir, file, 0) < 0  ? "it could NOT be removed"
		       : restore_head_ref(r, name) ? "set back to HEAD's commit at the start"
						   : "removed");
		return;
	}
	if (gh_read_ref(dir, file, oid, &sz, target, sizeof(target))) {
		if (sz == r->o.sz)
			gh_check_ref(r, name, oid);
		return;
	}
	/* a symbolic one made during the run: what it names passes, or it
	 * goes (HEAD is judged last, on its own) */
	if (target[0] && strcmp(name, "HEAD") != 0 &&
	    (strncmp(target, "refs/ringfence-blocked/", 23) == 0 ||
	     strncmp(name, "refs/replace/", 13) == 0 ||
	     (gh_resolve(r, target, oid, &sz, 0) && sz == r->o.sz &&
	      !gh_history_ok(r, oid, false))) &&
	    unlinkat(dir, file, 0) == 0)
		gh_say(r, name, "a symbolic ref",
		       restore_head_ref(r, name) ? "set back to HEAD's commit at the start"
						 : "removed");
}

void gh_walk_refs(struct githead *r, int dir, const char *prefix, int depth)
{
	struct dirent *de;

	_cleanup_(closedirp) DIR *d = dir_stream_at(dir, ".", 0);
	if (!d) {
		gh_unchecked(r, prefix);
		return;
	}
	(void)owner_unlock(r->sb, dir); /* what is wrong here is removed */
	while ((de = readdir(d))) {
		char name[PATH_MAX];
		struct stat st;
		if (de->d_name[0] == '.' ||
		    (size_t)snprintf(name, sizeof(name), "%s/%s", prefix, de->d_name) >=
			sizeof(name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		/* ours (a later host command may look there); every other
		 * name is a ref to git, ".ringfence-" in it or not */
		if (strcmp(name, "refs/ringfence-blocked") == 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth >= REFS_DEPTH) {
			/* deeper than any ref git makes: what is in it is not
			 * read here, and git would read it */
			char path[2 * PATH_MAX];
			snprintf(path, sizeof(path), "%s/%s", r->gitdir, name);
			gh_say(r, name, "refs deeper than are read",
			       protect_move_aside(r->sb, path, "protect.git_content",
						  MOVE_LIVE_QUIET) > 0
				   ? "moved aside (*.ringfence-blocked)"
				   : "they could NOT be moved aside");
		} else if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int c = openat(
			    dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (c >= 0)
				gh_walk_refs(r, c, name, depth + 1);
			else
				gh_unchecked(r, name);
		} else {
			gh_check_ref_file(r, dirfd(d), de->d_name, name);
		}
	}
}

/*
 * What the run made beside refs/ at the .git's top that git resolves as a
 * ref: git takes $GIT_DIR/NAME before refs/NAME, refs/tags/NAME and
 * refs/heads/NAME, so a file `main` or `origin/main` holding an id (or
 * `ref: ...`) shadows the branch.  git's own files there are judged
 * elsewhere (HEAD, ORIG_HEAD, packed-refs, the pseudo-refs) or hold no
 * id (the pseudo-refs are gh_check_pseudo()'s); its own directories are
 * passed over.
 */
void gh_check_beside(struct githead *r)
{
	/* arrays: supervisor.h's sc_entry says why */
	STRING_TABLE_BEGIN
	static const char own[][16] = {
	    "HEAD",	    "ORIG_HEAD",    "packed-refs", "shallow",  "objects",
	    "refs",	    "logs",	    "hooks",	   "info",     "modules",
	    "worktrees",    "lfs",	    "rr-cache",	   "branches", "remotes",
	    "rebase-merge", "rebase-apply", "sequencer",   "config",   "config.worktree",
	    "index",	    "description",  "commondir",   "gitdir",   "COMMIT_EDITMSG",
	    "MERGE_MSG",    "SQUASH_MSG",   "TAG_EDITMSG"};
	STRING_TABLE_END
	struct dirent *de;
	_cleanup_(closedirp) DIR *d = dir_stream_at(r->git, ".", 0);

	while (d && (de = readdir(d))) {
		struct stat st;
		bool skip = de->d_name[0] == '.';
		for (size_t i = 0; i < ARRAY_SIZE(own) && !skip; i++)
			skip = strcmp(de->d_name, own[i]) == 0;
		for (size_t i = 0; i < gh_n_pseudo_refs && !skip; i++)
			skip = strcmp(de->d_name, gh_pseudo_refs[i]) == 0;
		if (skip || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !gitobj_newer(&st, &r->sb->started_born))
			continue;
		if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int c = openat(
			    dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (c >= 0)
				gh_walk_refs(r, c, de->d_name, 1);
			else
				gh_unchecked(r, de->d_name);
			continue;
		}
		/* a file that reads as a ref (git's own others hold none) */
		unsigned char oid[32];
		char target[PATH_MAX];
		size_t sz;
		if (!S_ISREG(st.st_mode) ||
		    gh_read_ref(dirfd(d), de->d_name, oid, &sz, target, sizeof(target)) ||
		    target[0])
			gh_check_ref_file(r, dirfd(d), de->d_name, de->d_name);
	}
}

/*
 * Links the run made in the .git, but in the loose objects' directories
 * (git_links_enter()) and in refs/ and logs/ (judged as refs and
 * reflogs): git writes many of its files by opening the name, which
 * follows a final link (COMMIT_EDITMSG at every commit, MERGE_MSG,
 * SQUASH_MSG, TAG_EDITMSG, the sequencer's and a rebase's state, rerere's
 * preimages, BISECT_LOG), so a link left there had the host's next commit
 * write text the sandbox chose into a file the grants never gave
 * (~/.bashrc: an outside review).  Each goes; one there at the start
 * (git-new-workdir's) is the host's.  With a mount namespace the view's
 * carry-back takes no link; without one the sandbox writes the .git.
 */
static bool held_link(void *ctx, int dir, const char *name, const char *rel, const struct stat *st)
{
	struct githead *r = ctx;
	char where[PATH_MAX + 16], jt[PATH_MAX + 64], jw[2 * PATH_MAX + 64];

	if (!gitobj_newer(st, &r->sb->started_born))
		return true; /* the host's */
	bool gone = owner_unlinkat(r->sb, dir, name, 0) == 0;
	snprintf(where, sizeof(where), ".git/%s", rel);
	warn("the sandbox left a symbolic link at %s in %s, which the host's git "
	     "would write through: %s",
	     where, r->top, gone ? "removed" : "it could NOT be removed");
	json_string(jt, sizeof(jt), r->top);
	json_string(jw, sizeof(jw), where);
	audit_event(r->sb->audit_fd, "protect.git_link", "\"path\":%s,\"what\":%s,\"done\":\"%s\"",
		    jt, jw, gone ? "removed" : "not removed");
	return true;
}

static bool held_unchecked(void *ctx, const char *rel, int err)
{
	struct githead *r = ctx;

	errno = err;
	if (err)
		gh_unchecked(r, *rel ? rel : ".git");
	else
		gh_unchecked_as(r, rel, "deeper than the look for links goes");
	return true;
}

void gh_check_links(struct githead *r)
{
	struct git_links_walk w = {.ctx = r,
				   .link = held_link,
				   .unchecked = held_unchecked,
				   .max_depth = GIT_LINKS_DEPTH,
				   .skip_refs_logs = true,
				   .budget = GIT_LINKS_BUDGET};

	if (!git_links_walk(r->git, &w))
		warn("%s: more than %d entries in its .git beside objects/: symbolic links past "
		     "them are not looked for",
		     r->top, GIT_LINKS_BUDGET);
}

static uint64_t line_hash(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h;
}

static int line_cmp(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* The lines of M (N bytes), sorted by hash, malloc'd; NULL when none. */
struct line *gh_index_lines(const char *m, size_t n, size_t *ret_n)
{
	size_t count = 0, i = 0;

	for (const char *l = m; l < m + n; count++) {
		const char *nl = memchr(l, '\n', (size_t)(m + n - l));
		l = nl ? nl + 1 : m + n;
	}
	struct line *v = count ? calloc(count, sizeof(*v)) : NULL;
	for (const char *l = m; v && l < m + n; i++) {
		const char *nl = memchr(l, '\n', (size_t)(m + n - l));
		size_t ll = nl ? (size_t)(nl - l) : (size_t)(m + n - l);
		v[i] = (struct line){line_hash(l, ll), l, ll};
		l = nl ? nl + 1 : m + n;
	}
	if (v)
		qsort(v, count, sizeof(*v), line_cmp);
	*ret_n = v ? count : 0;
	return v;
}

/* Whether the lines V (N of them) have LINE. */
bool gh_had_line(const struct line *v, size_t n, const char *line, size_t len)
{
	struct line key = {.hash = line_hash(line, len)};
	const struct line *hit = n ? bsearch(&key, v, n, sizeof(*v), line_cmp) : NULL;

	if (!hit)
		return false;
	while (hit > v && hit[-1].hash == key.hash)
		hit--;
	for (; hit < v + n && hit->hash == key.hash; hit++)
		if (hit->len == len && memcmp(hit->at, line, len) == 0)
			return true;
	return false;
}

/* packed-refs, when it changed: each line the start's file did not have
 * and no loose ref of its name overrides. */
/* The packed-refs copied at the start written back in place of what is
 * there now; -errno, -ENOENT when there was none or it could not be
 * copied. */
static int restore_packed(struct githead *r)
{
	if (r->packed_state != PACKED_COPIED)
		return -ENOENT;
	if (strlen(r->packed) != r->packed_len)
		return -EINVAL;
	return gh_put_file(r, "packed-refs", r->packed);
}

void gh_check_packed(struct githead *r)
{
	struct stat st;
	size_t n, n_lines = 0;
	_cleanup_free_ struct line *lines = NULL;

	if (fstatat(r->git, "packed-refs", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !gitobj_newer(&st, &r->sb->started_born))
		return;
	/* a link git follows to lines of the sandbox's, or one too large to
	 * read through (a hole of a TiB before its lines: git finds a name
	 * in it by a binary search): the host's file from the start again,
	 * or none */
	if (!S_ISREG(st.st_mode) || st.st_size > PACKED_MAX) {
		gh_say(r, "packed-refs",
		       S_ISREG(st.st_mode) ? "a packed-refs too large to judge"
					   : "a packed-refs that is no file",
		       restore_packed(r) == 0 ? "the host's from the start put back"
		       : unlinkat(r->git, "packed-refs", 0) == 0 ? "removed"
								 : "it could NOT be removed");
		return;
	}
	char *m = gitobj_map_file(r->git, "packed-refs", &n);
	if (!m)
		return;
	/* none when there was no copy: every line is judged then */
	if (r->packed_state == PACKED_COPIED && r->packed_len)
		lines = gh_index_lines(r->packed, r->packed_len, &n_lines);
	for (char *l = m; l && l < m + n;) {
		char *nl = memchr(l, '\n', (size_t)(m + n - l));
		size_t len = nl ? (size_t)(nl - l) : (size_t)(m + n - l);
		unsigned char oid[32];
		char name[PATH_MAX];
		size_t sz = gitobj_parse_oid(l, len, oid);
		struct stat lst;
		if (sz == r->o.sz && len > 2 * sz + 1 && l[2 * sz] == ' ' &&
		    len - 2 * sz - 1 < sizeof(name) && !gh_had_line(lines, n_lines, l, len)) {
			snprintf(name, sizeof(name), "%.*s", (int)(len - 2 * sz - 1),
				 l + 2 * sz + 1);
			/* a loose one of that name is what git reads (a file,
			 * or a link: judged as loose refs); a directory is
			 * none, and git reads this line */
			if (!strstr(name, "..") &&
			    (strncmp(name, "refs/", 5) != 0 ||
			     fstatat(r->git, name, &lst, AT_SYMLINK_NOFOLLOW) < 0 ||
			     S_ISDIR(lst.st_mode)))
				gh_check_ref(r, name, oid);
		}
		l = nl ? nl + 1 : NULL;
	}
	munmap(m, n);
}

/* refs/ itself no directory any more (a link git follows to refs of the
 * sandbox's elsewhere): moved aside, made again empty, the branch HEAD was
 * on written back.  False when it is a directory. */
bool gh_check_refs_dir(struct githead *r)
{
	struct stat st;
	char path[PATH_MAX + 16];

	if (fstatat(r->git, "refs", &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
		return false;
	snprintf(path, sizeof(path), "%s/refs", r->gitdir);
	bool moved = protect_move_aside(r->sb, path, "protect.git_content", MOVE_LIVE_QUIET) > 0;
	if (moved && mkdirat(r->git, "refs", 0755) == 0)
		(void)own(r, r->git, "refs", -1);
	gh_say(r, "refs", "refs that are no directory",
	       !moved ? "they could NOT be moved aside"
	       : restore_head_ref(r, r->head_ref)
		   ? "moved aside, the branch HEAD was on written back"
		   : "moved aside");
	return true;
}
