/* SPDX-License-Identifier: MIT */
/*
 * The file gate: without a mount namespace, new entries in the directories on
 * the way to a protected path are made by the supervisor, name by name.
 *
 * Why.  Landlock has no deny rule and a rule covers a whole subtree, so
 * without a mount namespace a protected .git/config beneath a write grant on
 * the project is a carve-out (landlock/plan.c): the project's top and its
 * .git keep only read rights, and each entry beside the way gets the grant
 * of its own.  What that costs: nothing can be made at the top of a project
 * that has a .git (a new file, a new directory, a lock file in .git), so git
 * cannot commit and an agent cannot write a new file at the top.  Landlock
 * cannot say "this directory, but not these names".  The gate can: the rules
 * stay as they are, and the calls that make, remove or rename a name, or open
 * a file for writing, stop in the supervisor (seccomp user notifications, on
 * the listener the connect broker uses).  There:
 *
 *  - the path is read once from the caller's memory, and its directory part
 *    resolved once, in the caller's view (its root, cwd or dirfd, opened
 *    while the notification is known alive), to a directory fd;
 *  - when that directory is one the gate keeps (a directory on the way, or
 *    one the gate made since), the last name is judged: a carve-out (a
 *    protected or denied path), a directory on the way to one, or an absent
 *    built-in name (.mcp.json, .git/commondir, ...) is refused (EACCES);
 *    anything else is made by the supervisor on that fd, with the command's
 *    user, groups and umask, and an opened file is handed over with
 *    SECCOMP_IOCTL_NOTIF_ADDFD;
 *  - any other call goes on in the kernel (CONTINUE), under Landlock.
 *
 * Why CONTINUE is safe here: the kernel reads the path again, and a thread
 * of the caller may have swapped it.  Every path the swap could lead to is
 * judged by Landlock, which never lets the command itself make entries in
 * the gate's directories: the gate only ever adds what it made itself, on
 * the fd it judged.  A directory the gate made is kept (an O_PATH fd, so its
 * inode cannot be reused meanwhile): Landlock has no rule for it, so what
 * is made in it goes through the gate as well.
 *
 * A rename or link with one side in the gate's directories and the other
 * not is refused with EXDEV (the gate cannot tell what Landlock allows on
 * the other side; mv copies then), and one within them is judged on both
 * names.  In a .git, the state of a rebase or a sequence of picks
 * (rebase-merge, rebase-apply, sequencer) may be made, and is moved aside
 * when the sandbox has ended if it was made during the run: a host `git
 * rebase --continue` would run the `exec` lines the sandbox wrote.  Legacy
 * remote definitions (remotes, branches) are refused.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsgate_internal.h"

/* Directories the gate made during the run and holds (an fd each), at most:
 * more are refused (EDQUOT).  Also bounded by RLIMIT_NOFILE, less a reserve
 * for everything else the supervisor opens. */
#define GATE_MADE_MAX	65536
#define GATE_FD_RESERVE 512

static const char *const git_state[] = {"rebase-merge", "rebase-apply", "sequencer"};
static const char *const git_refused[] = {"remotes", "branches"};

static bool is_git_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t l = strlen(base);

	return strcmp(base, ".git") == 0 || (l > 4 && strcmp(base + l - 4, ".git") == 0);
}

struct gate_dir *gate_add(struct fsgate *g, int fd, uint64_t rights, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
		return NULL;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		struct gate_dir *v = realloc(g->dirs, cap * sizeof(*v));
		if (!v)
			return NULL;
		g->dirs = v;
		g->cap = cap;
	}
	struct gate_dir *d = &g->dirs[g->n];
	*d = (struct gate_dir){.fd = fd, .dev = st.st_dev, .ino = st.st_ino, .rights = rights};
	if (path) {
		d->path = strdup(path);
		if (!d->path)
			return NULL;
		d->git = is_git_dir(path);
	}
	g->n++;
	return d;
}

struct gate_dir *gate_find(const struct fsgate *g, const struct stat *st)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->dirs[i].ino == st->st_ino && g->dirs[i].dev == st->st_dev)
			return &g->dirs[i];
	return NULL;
}

void gate_drop(struct fsgate *g, const struct stat *st)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->dirs[i].ino == st->st_ino && g->dirs[i].dev == st->st_dev &&
		    !g->dirs[i].path) {
			close(g->dirs[i].fd);
			g->dirs[i] = g->dirs[--g->n];
			g->made--;
			return;
		}
}

void fsgate_free(struct sandbox *sb)
{
	struct fsgate *g = sb->fsgate;

	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++) {
		if (g->dirs[i].fd >= 0)
			close(g->dirs[i].fd);
		free(g->dirs[i].path);
	}
	free(g->dirs);
	for (size_t i = 0; i < g->n_state; i++)
		free(g->state[i]);
	free(g->state);
	for (size_t i = 0; i < g->n_refusals; i++)
		free(g->refusals[i].path);
	free(g->refusals);
	free(g);
	sb->fsgate = NULL;
}

void fsgate_prepare(struct sandbox *sb)
{
	const uint64_t make = LL_FS_MAKE_REG | LL_FS_MAKE_DIR;
	struct fsgate *g;

	fsgate_free(sb);
	if (sb->ns != NS_NONE || !sb->plan.n_splits)
		return;
	g = calloc(1, sizeof(*g));
	if (!g)
		die("out of memory");
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
			(void)getrlimit(RLIMIT_NOFILE, &rl);
		}
		g->made_max = rl.rlim_cur > 2 * GATE_FD_RESERVE ? rl.rlim_cur - GATE_FD_RESERVE
								: rl.rlim_cur / 2;
	}
	if (g->made_max > GATE_MADE_MAX)
		g->made_max = GATE_MADE_MAX;
	for (size_t i = 0; i < sb->plan.n_splits; i++) {
		const struct landlock_split *s = &sb->plan.splits[i];
		if (!(s->rights & make))
			continue; /* the grant made nothing here either */
		int fd = open(s->path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue; /* gone since planning: Landlock refuses it */
		struct gate_dir *d = gate_add(g, fd, s->rights, s->path);
		if (!d)
			die("out of memory");
		for (size_t k = 0; d->git && k < ARRAY_SIZE(git_state); k++) {
			char p[PATH_MAX];
			if ((size_t)snprintf(p, sizeof(p), "%s/%s", s->path, git_state[k]) >=
				sizeof(p) ||
			    access(p, F_OK) == 0)
				continue;
			char **v = realloc(g->state, (g->n_state + 1) * sizeof(*v));
			if (!v || !(v[g->n_state] = strdup(p)))
				die("out of memory");
			g->state = v;
			g->n_state++;
		}
	}
	if (!g->n) {
		free(g);
		return;
	}
	sb->fsgate = g;
	note("without a mount namespace, new entries in %zu director%s on the way to protected "
	     "paths are made by the supervisor, name by name",
	     g->n, g->n == 1 ? "y" : "ies");
}

/* ---- judging --------------------------------------------------------------- */

/* Why NAME in D may not be made, removed, renamed or opened for writing
 * through the gate; NULL when it may. */
const char *gate_judge(const struct sandbox *sb, const struct gate_dir *d, const char *name)
{
	char full[PATH_MAX];

	if (!d->path)
		return NULL; /* made during the run: nothing protected beneath */
	if ((size_t)snprintf(full, sizeof(full), "%s/%s", strcmp(d->path, "/") ? d->path : "",
			     name) >= sizeof(full))
		return "too long";
	for (size_t i = 0; i < sb->plan.n_carveouts; i++)
		if (landlock_path_beneath(sb->plan.carveouts[i].path, full))
			return "protected";
	for (size_t i = 0; i < sb->n_watch; i++)
		if (landlock_path_beneath(sb->watch[i], full))
			return "protected";
	/* (a directory named after a package may be made: the watch moves
	 * aside an __init__ made in it) */
	if (protect_python_made(sb, d->path, name) == PYM_MOVE)
		return "a standard module of Python's";
	for (size_t i = 0; i < sb->plan.n_splits; i++)
		if (strcmp(sb->plan.splits[i].path, full) == 0)
			return "protected"; /* on the way to a protected path */
	for (size_t i = 0; d->git && i < ARRAY_SIZE(git_refused); i++)
		if (strcmp(name, git_refused[i]) == 0)
			return "a remote defined outside the config";
	return NULL;
}

bool fsgate_may_change(const struct sandbox *sb, const struct stat *dir, const char *name)
{
	const struct gate_dir *d = sb->fsgate ? gate_find(sb->fsgate, dir) : NULL;

	return d && (d->rights & LL_FS_WRITE_FILE) && !gate_judge(sb, d, name);
}

bool fsgate_dir_may_change(const struct sandbox *sb, const struct stat *dir)
{
	const struct gate_dir *d = sb->fsgate ? gate_find(sb->fsgate, dir) : NULL;

	return d && !d->git && (d->rights & LL_FS_MAKE_REG);
}

void fsgate_count_refusals(const struct sandbox *sb, struct broker_stats *st)
{
	const struct fsgate *g = sb->fsgate;
	unsigned long listed = 0;

	if (!g)
		return;
	for (size_t i = 0; i < g->n_refusals; i++) {
		fstrace_count(st, g->refusals[i].access, g->refusals[i].path, g->refusals[i].count);
		listed += g->refusals[i].count;
	}
	/* past GATE_GROUPS names: counted, under the last one's kind */
	if (g->refused > listed && g->n_refusals)
		st->fs_refused += g->refused - listed;
}

const char *const *fsgate_exit_paths(const struct sandbox *sb, size_t *ret_n)
{
	*ret_n = sb->fsgate ? sb->fsgate->n_state : 0;
	return sb->fsgate ? (const char *const *)sb->fsgate->state : NULL;
}

/* Git state made during the run in a .git the gate keeps: moved aside. */
void fsgate_close_dirs(struct sandbox *sb)
{
	struct fsgate *g = sb->fsgate;

	for (size_t i = 0; g && i < g->n; i++)
		if (g->dirs[i].fd >= 0) {
			close(g->dirs[i].fd);
			g->dirs[i].fd = -1;
		}
}

void fsgate_finish(struct sandbox *sb)
{
	struct fsgate *g = sb->fsgate;

	if (!g)
		return;
	if (g->refused > GATE_WARN_MAX)
		warn("%lu more changes to protected names refused", g->refused - GATE_WARN_MAX);
	for (size_t i = 0; i < g->n_state; i++) {
		struct stat st;
		if (lstat(g->state[i], &st) == 0)
			(void)protect_move_aside(sb, g->state[i], "protect.created", MOVE_AT_EXIT);
	}
}
