/* SPDX-License-Identifier: MIT */
/*
 * What the sandbox records in a project's index and refs at protected
 * paths, checked when it has ended.
 *
 * A protected path's file (.husky/pre-commit under core.hooksPath = .husky,
 * .envrc, .vscode/tasks.json, ...) stays read-only in the worktree, but its
 * tracked content is the sandbox's to change: objects and refs are written
 * in place, and the index and HEAD are carried back (gitview_carry.c; the file
 * gate without namespaces).  The host then sees that file "modified" in its
 * worktree, and discarding the change as git suggests (`git checkout -- .`,
 * `git stash`, `git reset --hard`, `git reset --hard ORIG_HEAD`), or
 * checking out a branch the sandbox made, writes the sandbox's version: a
 * hook the next commit runs.
 *
 * So each write grant that is a repository (its .git a directory), and
 * each repository the walk at start found in the write grants (protect.c:
 * a grant on ~/src holds many, a project a vendored checkout), has, at
 * the start, its HEAD noted (the file, the commit it names, and what that
 * commit's tree holds at the protected paths: read before the sandbox can
 * write an object of one of those names) and its index and packed-refs
 * held open (git and the view replace them by a rename: the host's stay
 * readable).  Once the sandbox has ended, what git
 * would check out at a protected path must be what the host had there at
 * the start, in its HEAD commit's tree or its index (the baseline, same
 * path, mode and object), or nothing:
 *   - every entry of the index at or beneath a protected path;
 *   - the tree of the commit each ref made or changed during the run
 *     points to (a loose ref's ctime; a packed-refs line the start's file
 *     did not have), a stash's index and untracked commits too, a detached
 *     HEAD, ORIG_HEAD, and the commit HEAD resolves to; and below each,
 *     every commit the run made, through every parent, down to the first
 *     older one on each way (history_ok());
 *   - each entry a reflog did not have at the start (`git stash pop` takes
 *     the stash's in turn; HEAD@{1}, topic@{1}: gitlogs.c).
 * Objects are read by their names as git reads them (gitobj.c); what
 * cannot be read counts as changed.  No object's age is trusted: one the
 * sandbox wrote in an earlier run, or left unreferenced, is no older for
 * that.  The same names could hold other content: before these checks,
 * the copies of what the host's git reads at the protected paths are
 * checked against their names, and from then on an object whose copies
 * differ does not read (gitobj_end()).
 *
 * What differs is undone, said on stderr and in the audit log
 * (protect.git_content):
 *   - the index: the host's from the start put back, or, when there was
 *     none or it was rewritten in place, moved aside;
 *   - a ref: its commit kept as refs/ringfence-blocked/REF (which no host
 *     git checks out unasked), and the ref set back: the branch HEAD was on
 *     to HEAD's commit at the start, another to its first first-parent
 *     ancestor from before the run that passes (within PARENTS_MAX), or
 *     removed (refs/stash
 *     always: a stash's parent is no stash; a stash list's entry is taken
 *     out of it); ORIG_HEAD and
 *     a detached HEAD to the start's HEAD commit; HEAD itself, when what
 *     it names still fails, to the start's HEAD file.
 * Protected paths: protect.c's built-in names of a project (but git's own
 * .git/...), the policy's protect entries in the repository, the
 * core.hooksPath directories its config and the host's own configuration
 * name, and what the hooks' scripts and the hook managers' configurations
 * name (sb->hook_files: pre-commit checks out the index's version of a
 * file before it runs a hook).  Limits (SECURITY.md): only those repositories (not one deeper
 * than the walk looks, or made during the run, whose content is all the
 * sandbox's); the host's history below the first commit of it on each
 * way down from a tip is not looked at; a linked worktree's index and
 * HEAD neither.
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

/* HEAD, last: what it names now passes, or it is the start's again. */
static void check_head(struct githead *r)
{
	unsigned char oid[32];
	char target[PATH_MAX];
	struct stat st;
	size_t sz;

	if (fstatat(r->git, "HEAD", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !gitobj_newer(&st, &r->sb->started_born) || !r->head_file[0])
		return;
	bool detached = gh_read_ref(r->git, "HEAD", oid, &sz, target, sizeof(target));
	if (detached) {
		if (sz == r->o.sz)
			gh_check_ref(r, "HEAD", oid);
		return;
	}
	/* git takes only a name in refs/ for it */
	if (strncmp(target, "refs/", 5) != 0 ||
	    strncmp(target, "refs/ringfence-blocked/", 23) == 0 ||
	    (gh_resolve(r, target, oid, &sz, 0) && sz == r->o.sz &&
	     !gh_history_ok(r, oid, false))) {
		if (gh_put_file(r, "HEAD", r->head_file) == 0)
			gh_say(r, "HEAD", "a symbolic ref", "set back to the start's");
		else
			gh_say(r, "HEAD", "a symbolic ref", "it could NOT be set back");
	}
}

/* Protected paths of the repository, relative to its top. */
static void add_protected(struct githead *r, const char *rel, bool copy)
{
	if (!rel[0] || r->n_protected >= PROTECTED_MAX)
		return;
	for (size_t i = 0; i < r->n_protected; i++)
		if (strcmp(r->protected[i], rel) == 0)
			return;
	if (copy) {
		char *s = strdup(rel);
		size_t l = s ? strlen(s) : 0;
		if (!s || r->n_owned >= PROTECTED_MAX) {
			free(s);
			return;
		}
		while (l > 1 && s[l - 1] == '/')
			s[--l] = '\0';
		r->owned[r->n_owned++] = s;
		rel = s;
	}
	r->protected[r->n_protected++] = rel;
	r->first[(unsigned char)rel[0] >> 6] |= 1ull << ((unsigned char)rel[0] & 63);
}

static void add_pointer(struct githead *r, const char *value)
{
	const char *top = r->top;
	size_t tl = strlen(top);

	if (value[0] != '/' && strncmp(value, "~/", 2) != 0) {
		while (strncmp(value, "./", 2) == 0)
			value += 2;
		if (!strstr(value, ".."))
			add_protected(r, value, true);
	} else if (value[0] == '/' && strncmp(value, top, tl) == 0 && value[tl] == '/') {
		add_protected(r, value + tl + 1, true);
	}
}

/*
 * Where the repositories' configs point git at: core.hooksPath (relative
 * to the worktree) and the files include.path and includeIf.*.path name
 * (relative to the file that names them, ten levels, the included files
 * read too: a project's tracked .gitconfig a clone includes), absolute.
 * Each is a protected path of whichever repository holds it: app's hooks
 * may be ../tools/hooks, tracked in tools.
 */
struct pointers {
	const struct sandbox *sb;
	char **v;
	size_t n;
	/* the relative core.hooksPath values as written: a directory in
	 * every worktree a clone of these repositories has (a bare one's
	 * too, a local remote whose branches the host's git pull takes) */
	char **rel;
	size_t n_rel;
};

/* S added to the list V (N) unless there already (false).  Past
 * POINTERS_MAX it is not, and that is said once: a protected path the
 * end's check would not know. */
#define POINTERS_MAX 4096
static bool list_add(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return false;
	if (*n >= POINTERS_MAX) {
		static bool said;
		if (!said)
			warn("the repositories' configs name more than %d hooks paths, included "
			     "files and programs: %s and those after it are not protected paths of "
			     "the check of what the sandbox stages or commits",
			     POINTERS_MAX, s);
		said = true;
		return false;
	}
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));
	char *c = nv ? strdup(s) : NULL;
	if (!c)
		die("out of memory");
	*v = nv;
	(*v)[(*n)++] = c;
	return true;
}

struct pointer_read {
	struct pointers *ps;
	const char *top; /* the worktree's */
	char dir[PATH_MAX];
	int depth;
};

/* BASE (absolute) joined with REL, "." and ".." taken away as a path's
 * components, in OUT; false when it does not fit. */
static bool join_path(const char *base, const char *rel, char *out, size_t size)
{
	char buf[2 * PATH_MAX];
	size_t n = 0;

	if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", rel[0] == '/' ? "" : base, rel) >=
	    sizeof(buf))
		return false;
	for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			while (n > 0 && out[--n] != '/')
				;
			continue;
		}
		size_t l = strlen(c);
		if (n + l + 2 > size)
			return false;
		out[n++] = '/';
		memcpy(out + n, c, l);
		n += l;
	}
	if (!n)
		out[n++] = '/';
	out[n] = '\0';
	return true;
}

static void read_pointers(struct pointers *ps, const char *top, const char *file, int depth);

static void on_pointer(void *ud, enum git_pointer kind, const char *value)
{
	struct pointer_read *pr = ud;
	const char *home = pr->ps->sb->home;
	char abs[PATH_MAX];

	bool top = kind == PTR_HOOKS || kind == PTR_PROGRAM || kind == PTR_PROGRAM_ARG;

	if (kind == PTR_TEMPLATE || kind == PTR_WORKTREE)
		return; /* the host's own configuration's; read before */
	if (strncmp(value, "~/", 2) == 0) {
		if (!home || !join_path(home, value + 2, abs, sizeof(abs)))
			return;
	} else if (!join_path(top ? pr->top : pr->dir, value, abs, sizeof(abs))) {
		return;
	}
	if ((kind == PTR_PROGRAM || kind == PTR_PROGRAM_ARG) && !gitconfig_program_file(abs, kind))
		return;
	if (top && value[0] != '/' && value[0] != '~')
		(void)list_add(&pr->ps->rel, &pr->ps->n_rel, value);
	/* through a link (tools/hooks by way of a link to tools): where it
	 * leads, in the repository that holds that */
	_cleanup_free_ char *real = realpath(abs, NULL);
	if (real && strcmp(real, abs) != 0)
		(void)list_add(&pr->ps->v, &pr->ps->n, real);
	if (list_add(&pr->ps->v, &pr->ps->n, abs) && kind == PTR_INCLUDE)
		read_pointers(pr->ps, pr->top, abs, pr->depth + 1);
}

/* The config FILE (absolute) of the repository whose worktree is TOP. */
static void read_pointers(struct pointers *ps, const char *top, const char *file, int depth)
{
	struct pointer_read pr = {.ps = ps, .top = top, .depth = depth};
	const char *slash = strrchr(file, '/');

	/* git stops at ten levels of includes */
	if (depth > 10 || !slash)
		return;
	snprintf(pr.dir, sizeof(pr.dir), "%.*s", (int)(slash - file), file);
	/* the host's files, before the sandbox runs */
	gitconfig_file(open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), on_pointer, &pr,
		       false); /* (protect.c's reading says it) */
}

static void pointers_free(struct pointers *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->v[i]);
	free(ps->v);
	for (size_t i = 0; i < ps->n_rel; i++)
		free(ps->rel[i]);
	free(ps->rel);
}

static void gather_protected(struct githead *r, const struct pointers *ps)
{
	const char **names;
	size_t n = protect_builtin_names(false, &names);
	const struct policy *p = r->sb->policy;

	for (size_t i = 0; i < n; i++)
		if (!(strncmp(names[i], ".git", 4) == 0 && (!names[i][4] || names[i][4] == '/')))
			add_protected(r, names[i], false);
	for (size_t i = 0; p && i < p->fs.protect.n; i++)
		add_pointer(r, p->fs.protect.items[i].value);
	for (size_t i = 0; i < r->sb->n_git_global_hooks; i++)
		add_pointer(r, r->sb->git_global_hooks[i]);
	for (size_t i = 0; i < r->sb->n_git_global_programs; i++)
		add_pointer(r, r->sb->git_global_programs[i]);
	/* what the hooks' scripts and the hook managers' configurations
	 * name (protect_gather.c) */
	for (size_t i = 0; i < r->sb->n_hook_files; i++)
		add_pointer(r, r->sb->hook_files[i]);
	/* the host's global config's includes are its own (protect.c) */
	for (size_t i = 0; i < ps->n; i++)
		add_pointer(r, ps->v[i]);
	for (size_t i = 0; i < ps->n_rel; i++)
		add_pointer(r, ps->rel[i]);
}

/* The objects the host's git reads at the protected paths: the start's
 * reads and the baseline's entries, their copies checked (gitobj.c); from
 * then on every object is read in all its copies. */
static void check_objects(struct githead *r)
{
	_cleanup_free_ unsigned char(*ids)[32] = calloc(r->o.n_seen + r->n_base + 1, 32);
	size_t n = 0;

	/* objects/ itself a link now: every object is the sandbox's to name */
	int fd = openat(r->git, "objects", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		char path[PATH_MAX + 16];
		int e = errno;
		snprintf(path, sizeof(path), "%s/objects", r->gitdir);
		warn("%s is not the objects directory it was: %s", path,
		     e == ENOENT ? "gone (git finds no object)"
		     : protect_move_aside(r->sb, path, "protect.git_object", MOVE_LIVE_QUIET) > 0
			 ? "moved aside (*.ringfence-blocked)"
			 : "it could NOT be moved aside; review it before checking out");
		r->o.end = true; /* nothing reads: every change counts */
		return;
	}
	close(r->o.objects);
	r->o.objects = fd;
	if (!ids) {
		r->o.end = true;
		return;
	}
	for (size_t i = 0; i < r->o.n_seen; i++)
		memcpy(ids[n++], r->o.seen[i], r->o.sz);
	for (size_t i = 0; i < r->n_base; i++)
		if ((r->base[i].mode & 0170000u) != 0160000u)
			memcpy(ids[n++], r->base[i].oid, r->o.sz);
	/* each copy moved aside is said, and logged (protect.git_object) */
	(void)gitobj_end(&r->o, (const unsigned char(*)[32])ids, n);
}

static void githead_free(struct githead *h)
{
	gh_reach_free(h);
	gitobj_free(&h->o);
	for (size_t j = 0; j < h->n_owned; j++)
		free(h->owned[j]);
	for (size_t j = 0; j < h->n_base; j++)
		free(h->base[j].path);
	free(h->base);
	free(h->top);
	if (h->index_fd >= 0)
		close(h->index_fd);
	free(h->index_copy);
	free(h->packed);
	for (size_t j = 0; j < h->n_logs; j++) {
		free(h->logs[j].name);
		free(h->logs[j].copy);
	}
	free(h->logs);
	if (h->git >= 0)
		close(h->git);
	free(h);
}

/* What the held index must still hold at the end (gh_held_index_ok()). */
static void note_index(struct githead *h)
{
	struct stat st;
	size_t sz = h->o.sz;

	if (h->index_fd < 0 || fstat(h->index_fd, &st) < 0 || (size_t)st.st_size <= sz ||
	    pread(h->index_fd, h->index_tail, sz, st.st_size - (off_t)sz) != (ssize_t)sz) {
		h->index_size = -1;
		return;
	}
	h->index_size = st.st_size;
	/* index.skipHash (feature.manyFiles): no checksum, a copy instead */
	static const unsigned char zero[32];
	if (memcmp(h->index_tail, zero, sz) != 0 || st.st_size > INDEX_COPY_MAX)
		return;
	h->index_copy = malloc((size_t)st.st_size);
	if (h->index_copy &&
	    pread(h->index_fd, h->index_copy, (size_t)st.st_size, 0) != st.st_size) {
		free(h->index_copy);
		h->index_copy = NULL;
	}
}

/* packed-refs at the start, FD (taken), copied: up to PACKED_COPY_MAX. */
static void copy_packed(struct githead *h, int fd_)
{
	_cleanup_close_ int fd = fd_;
	struct stat st;

	h->packed_state = PACKED_NONE;
	if (fd < 0 && errno == ENOENT)
		return;
	h->packed_state = PACKED_UNREAD;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > PACKED_COPY_MAX)
		return;
	h->packed = malloc((size_t)st.st_size + 1);
	if (!h->packed || read(fd, h->packed, (size_t)st.st_size) != st.st_size) {
		free(h->packed);
		h->packed = NULL;
		return;
	}
	h->packed_len = (size_t)st.st_size;
	h->packed[h->packed_len] = '\0';
	h->packed_state = PACKED_COPIED;
}

/* An open that failed for want of descriptors (*OUT set): the repository
 * cannot be held as it is, and is not taken (githeads_start() says so). */
static int fds_left(int fd, bool *out)
{
	if (fd < 0 && (errno == EMFILE || errno == ENFILE))
		*out = true;
	return fd;
}

/* The repository at TOP (canonical), its .git a directory: what the host
 * has at its protected paths, from HEAD's commit, read now, before the
 * sandbox may write an object of that commit's name.  NULL when it is no
 * such repository, or (*NO_FDS) no descriptor was left to hold it. */
static struct githead *githead_open(const struct sandbox *sb, char *top, const char *gitdir,
				    const struct pointers *ps, bool *no_fds)
{
	char target[PATH_MAX];
	unsigned char tree[32];
	size_t sz = 0;
	struct githead *h = calloc(1, sizeof(*h));

	if (!h) {
		free(top);
		return NULL;
	}
	*h = (struct githead){.sb = sb,
			      .top = top,
			      .index_fd = -1,
			      .git = -1,
			      .o = {.sb = sb,
				    .top = top,
				    .gitdir = h->gitdir,
				    .objects = -1,
				    .since = &sb->started_born}};
	/* no link followed on the way (the path is canonical) */
	_cleanup_close_ int t = fds_left(protect_open_dir_nofollow(gitdir), no_fds);
	h->git = t >= 0 ? fds_left(openat(t, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), no_fds) : -1;
	h->o.objects = h->git >= 0
			   ? fds_left(openat(h->git, "objects",
					     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC),
				      no_fds)
			   : -1;
	/* held: git and the view replace them by a rename, so these stay
	 * the host's as they were, whatever the run writes */
	if (h->o.objects >= 0) {
		h->index_fd = fds_left(gitobj_open_file(h->git, "index"), no_fds);
		copy_packed(h, fds_left(gitobj_open_file(h->git, "packed-refs"), no_fds));
	}
	if (h->o.objects < 0 || *no_fds ||
	    (size_t)snprintf(h->gitdir, sizeof(h->gitdir), "%s", gitdir) >= sizeof(h->gitdir) ||
	    (size_t)snprintf(h->index_path, sizeof(h->index_path), "%s/index", h->gitdir) >=
		sizeof(h->index_path)) {
		githead_free(h);
		return NULL;
	}
	int fd = gitobj_open_file(h->git, "HEAD");
	ssize_t n = fd >= 0 ? read(fd, h->head_file, sizeof(h->head_file) - 1) : -1;
	if (fd >= 0)
		close(fd);
	h->head_file[n > 0 ? n : 0] = '\0';
	if (gh_read_ref(h->git, "HEAD", h->head_oid, &sz, target, sizeof(target)) ||
	    (target[0] && gh_resolve(h, target, h->head_oid, &sz, 0)))
		h->head_sz = sz;
	snprintf(h->head_ref, sizeof(h->head_ref), "%s", target);
	gh_read_reflogs(h);
	/* a repository with no commit yet: SHA-1 object ids, unless its
	 * first commit says otherwise (then nothing reads as one) */
	h->o.sz = h->head_sz ? h->head_sz : 20;
	note_index(h);
	gather_protected(h, ps);
	/* what is read now is what the host's git reads at the protected
	 * paths: the end checks its copies (gitobj_end()) */
	h->o.recording = true;
	if (h->head_sz &&
	    !(gh_commit_tree(h, h->head_oid, tree, NULL, NULL) && gh_tree_paths(h, tree, true)))
		h->base_cut = true;
	h->o.recording = false;
	gitobj_forget_packs(&h->o);
	/* opened again at the end (check_objects()): a grant on ~/src may
	 * hold hundreds of repositories, each held meanwhile */
	close(h->o.objects);
	h->o.objects = -1;
	return h;
}

/* Descriptors left to the rest of the run when nested repositories are
 * held (two each at most) */
#define HELD_FD_RESERVE 256

/* The git directory of the repository at TOP (canonical), malloc'd: its
 * .git a directory; one a .git file names (`gitdir: X`, as git init
 * --separate-git-dir makes, or a submodule's), but a linked worktree's
 * (beneath another's .git, read-only there: protect.c); or TOP itself, a
 * bare repository (HEAD a file, objects a directory: a local remote, whose
 * branches the host's git pull takes).  NULL when there is none. */
static char *git_dir_of(const char *top)
{
	char path[PATH_MAX], buf[PATH_MAX + 16];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/.git", top) >= sizeof(path))
		return NULL;
	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return strdup(path);
	if (lstat(path, &st) == 0) {
		_cleanup_close_ int fd =
		    S_ISREG(st.st_mode) ? open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
					: -1;
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (n <= 8 || memcmp(buf, "gitdir: ", 8) != 0)
			return NULL;
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", buf[8] == '/' ? "" : top,
				     buf[8] == '/' ? "" : "/", buf + 8) >= sizeof(path))
			return NULL;
		char *dir = realpath(path, NULL);
		if (!dir || strstr(dir, "/.git/worktrees/") ||
		    (snprintf(path, sizeof(path), "%s/commondir", dir), lstat(path, &st) == 0) ||
		    (snprintf(path, sizeof(path), "%s/HEAD", dir), lstat(path, &st) < 0) ||
		    !S_ISREG(st.st_mode) ||
		    (snprintf(path, sizeof(path), "%s/objects", dir), lstat(path, &st) < 0) ||
		    !S_ISDIR(st.st_mode)) {
			free(dir);
			return NULL;
		}
		return dir;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/HEAD", top) < sizeof(path) &&
	    lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)snprintf(path, sizeof(path), "%s/objects", top) < sizeof(path) &&
	    lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return strdup(top);
	return NULL;
}

/* The repository at PATH, canonical, and (*GITDIR) its git directory,
 * when it is one and none of TOPS (N) already; else NULL. */
static char *repo_top(const char *path, char **tops, size_t n, char **gitdir)
{
	char probe[PATH_MAX];
	struct stat st;

	*gitdir = NULL;
	/* most grants are no repository: an lstat() or two say so */
	if ((size_t)snprintf(probe, sizeof(probe), "%s/.git", path) >= sizeof(probe) ||
	    (lstat(probe, &st) < 0 &&
	     ((size_t)snprintf(probe, sizeof(probe), "%s/HEAD", path) >= sizeof(probe) ||
	      lstat(probe, &st) < 0)))
		return NULL;
	char *top = realpath(path, NULL);
	bool dup = false;
	for (size_t j = 0; top && j < n && !dup; j++)
		dup = tops[j] && strcmp(tops[j], top) == 0;
	if (!top || dup || !(*gitdir = git_dir_of(top))) {
		free(top);
		return NULL;
	}
	return top;
}

/* How many of the repositories found in the grants (N, the first FIRST
 * the grants themselves) may hold their descriptors. */
static size_t held_room(size_t n, size_t first)
{
	/* up to two descriptors held for each (the .git and the index): a
	 * grant on ~/src may want more than a soft limit of 1,024 leaves
	 * (the proxy and the file gate raise it too) */
	struct rlimit rl;
	size_t room = SIZE_MAX;
	if (n > first && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (n - first > 64 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
			(void)getrlimit(RLIMIT_NOFILE, &rl);
		}
		/* less a reserve for the run's own (pipes, the proxy's) */
		room = rl.rlim_cur > HELD_FD_RESERVE ? (rl.rlim_cur - HELD_FD_RESERVE) / 2 : 0;
	}
	return room;
}

void githeads_start(struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	char path[PATH_MAX];

	/* planned again (namespaces = auto): taken afresh */
	for (size_t i = 0; i < sb->n_githeads; i++)
		githead_free(sb->githeads[i]);
	free(sb->githeads);
	sb->githeads = NULL;
	sb->n_githeads = 0;
	free(sb->git_held);
	sb->git_held = NULL;
	sb->n_git_held = 0;
	sb->git_held_known = true;
	/* the grants that are repositories, then those the walk at start
	 * found in them (protect.c, discover_in()), nested_repos[FIRST] on */
	size_t max = (p ? p->fs.write.n : 0) + sb->n_nested_repos, n = 0, first = 0;
	_cleanup_free_ char **tops = max ? calloc(max, sizeof(*tops)) : NULL;
	_cleanup_free_ char **gitdirs = max ? calloc(max, sizeof(*gitdirs)) : NULL;
	if (!max)
		return;
	if (!tops || !gitdirs)
		die("out of memory");
	for (size_t g = 0; p && g < p->fs.write.n; g++)
		if ((tops[n] = repo_top(p->fs.write.items[g].value, tops, n, &gitdirs[n])))
			n++;
	first = n;
	for (size_t i = 0; i < sb->n_nested_repos; i++)
		if ((tops[n] = repo_top(sb->nested_repos[i], tops, n, &gitdirs[n])))
			n++;
	sb->githeads = calloc(n ? n : 1, sizeof(*sb->githeads));
	if (!sb->githeads)
		die("out of memory");
	struct pointers ps = {.sb = sb};
	for (size_t i = 0; i < n; i++)
		for (const char *const *c =
			 (const char *const[]){"config", "config.worktree", NULL};
		     *c; c++)
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", gitdirs[i], *c) <
			    sizeof(path))
				read_pointers(&ps, tops[i], path, 0);
	size_t room = held_room(n, first), i = 0;
	bool no_fds = false;
	for (; i < n && !no_fds; i++) {
		struct githead *h = NULL;
		snprintf(path, sizeof(path), "%s", tops[i]);
		no_fds = i >= first && sb->n_githeads >= room;
		if (!no_fds) {
			h = githead_open(sb, tops[i], gitdirs[i], &ps, &no_fds);
			tops[i] = NULL; /* githead_open() took it */
		}
		if (!h)
			continue;
		sb->githeads[sb->n_githeads++] = h;
		struct stat st;
		struct git_guarded *v =
		    fstat(h->git, &st) == 0
			? realloc(sb->git_held, (sb->n_git_held + 1) * sizeof(*sb->git_held))
			: NULL;
		if (v) {
			sb->git_held = v;
			v[sb->n_git_held++] = (struct git_guarded){st.st_dev, st.st_ino};
		}
	}
	if (no_fds)
		warn("too many repositories in the write grants to hold each one's index "
		     "(RLIMIT_NOFILE): what the sandbox commits or stages at protected paths in "
		     "%s and %zu more found after it is not checked (README, \"Protected files' "
		     "tracked content\")",
		     path, n - i);
	for (size_t j = 0; j < n; j++) {
		free(tops[j]);
		free(gitdirs[j]);
	}
	pointers_free(&ps);
}

void githeads_finish(struct sandbox *sb)
{
	for (size_t i = 0; i < sb->n_githeads; i++) {
		struct githead *h = sb->githeads[i];
		h->o.work = 0; /* the end's checks have their own */
		/* a .git the command made unwritable to its owner during the
		 * run (a supervisor running as that owner) is given write back
		 * for good: git leaves none so, and what is wrong in it goes */
		(void)owner_unlock(h->sb, h->git);
		check_objects(h);
		gh_check_index(h);
		(void)gh_check_refs_dir(h);
		int refs = openat(h->git, "refs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (refs >= 0) {
			gh_walk_refs(h, refs, "refs", 0);
			close(refs);
		} else {
			gh_unchecked(h, "refs");
		}
		gh_check_packed(h);
		gh_check_reflogs(h);
		gh_check_ref_file(h, h->git, "ORIG_HEAD", "ORIG_HEAD");
		gh_check_pseudo(h);
		gh_check_beside(h);
		gh_check_links(h);
		check_head(h);
		githead_free(h);
	}
	free(sb->githeads);
	sb->githeads = NULL;
	sb->n_githeads = 0;
}
