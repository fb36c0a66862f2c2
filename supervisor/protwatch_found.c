/* SPDX-License-Identifier: MIT */
/*
 * The git directories the walk while the sandbox runs finds (protwatch.c
 * has the picture): the walk is a child of ours (pw_start_finder(), at a
 * lower priority, PW_FIND_AFTER_MS after the command starts and again),
 * which hands each git directory over on a pipe; each is checked at once
 * (gitscan_gitdir()) and watched, with its hooks, what its config points
 * at and the directory holding it as .git, and checked again on each event
 * there and, a few at a time, at each tick.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "protwatch_internal.h"

#define PW_FOUND_MASK                                                                              \
	(IN_CREATE | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVE_SELF |         \
	 IN_DELETE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)

/* A watch with ROLE on the directory PATH for found[IDX], added to any a
 * watch there has already; false when it could not be placed. */
static bool watch_role(struct protwatch *pw, const char *path, enum pw_role role, size_t idx,
		       uint32_t mask)
{
	_cleanup_close_ int o = protect_open_dir_nofollow(path);
	char proc[64];
	int wd;

	if (o < 0)
		return errno == ENOENT || errno == ENOTDIR; /* nothing to watch */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o);
	wd = inotify_add_watch(pw->fd, proc, mask | IN_MASK_ADD);
	if (wd < 0 && errno == ENOENT) /* no /proc: by name */
		wd = inotify_add_watch(pw->fd, path, mask | IN_MASK_ADD | IN_DONT_FOLLOW);
	if (wd < 0 || pw_record(pw, wd, path, 0, false) < 0)
		return false;
	pw->by_wd[wd].role = role;
	pw->by_wd[wd].found = idx;
	return true;
}

/* The regular file NAME in the directory DIR (canonical), watched with
 * ROLE for found[IDX]: a write through another name of it (a hard link
 * elsewhere) is an event only where the file itself is watched. */
static bool watch_file_role(struct protwatch *pw, const char *dir, const char *name,
			    enum pw_role role, size_t idx)
{
	char path[PATH_MAX], proc[64];
	struct stat st;
	int wd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return false;
	_cleanup_close_ int d = protect_open_dir_nofollow(dir);
	_cleanup_close_ int o = d >= 0 ? openat(d, name, O_PATH | O_NOFOLLOW | O_CLOEXEC) : -1;
	if (o < 0 || fstat(o, &st) < 0 || !S_ISREG(st.st_mode))
		return true; /* nothing to watch (a link is the walk's) */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o);
	wd = inotify_add_watch(pw->fd, proc, (PW_FOUND_MASK & ~(uint32_t)IN_ONLYDIR) | IN_MASK_ADD);
	if (wd < 0 || pw_record(pw, wd, path, 0, false) < 0)
		return false;
	pw->by_wd[wd].role = role;
	pw->by_wd[wd].found = idx;
	return true;
}

/* found[I]'s watches: its git directory, hooks, and the directory holding
 * it as .git; placed again when what is there is another directory. */
static void found_watch(struct protwatch *pw, size_t i)
{
	struct pw_found *f = &pw->found[i];
	char sub[PATH_MAX];
	struct stat st;
	size_t n = strlen(f->path);
	_cleanup_close_ int g = protect_open_dir_nofollow(f->path);
	bool ok = true;

	if (g < 0 || fstat(g, &st) < 0)
		return; /* gone: what takes its place is looked for at each check */
	if (st.st_dev != f->dev || st.st_ino != f->ino) {
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		ok = watch_role(pw, f->path, PW_FOUND_GIT, i, PW_FOUND_MASK);
		if (n > 5 && strcmp(f->path + n - 5, "/.git") == 0) {
			snprintf(sub, sizeof(sub), "%.*s", (int)(n - 5), f->path);
			ok = watch_role(pw, sub[0] ? sub : "/", PW_FOUND_TOP, i, PW_MASK) && ok;
		}
	}
	/* hooks may be made, or replaced, at any time; so may the git
	 * directories of submodules and linked worktrees */
	for (const char *const *d = (const char *const[]){"hooks", "modules", "worktrees", NULL};
	     *d; d++)
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", f->path, *d) < sizeof(sub))
			ok = watch_role(pw, sub, PW_FOUND_ANY, i, PW_FOUND_MASK) && ok;
	/* and the files git reads as commands, each itself (each check: git
	 * replaces them by a rename) */
	for (const char *const *fn =
		 (const char *const[]){"config", "config.worktree", "commondir", NULL};
	     *fn; fn++)
		ok = watch_file_role(pw, f->path, *fn, PW_FOUND_ANY, i) && ok;
	if ((size_t)snprintf(sub, sizeof(sub), "%s/hooks", f->path) < sizeof(sub)) {
		_cleanup_close_ int h = protect_open_dir_nofollow(sub);
		DIR *dd = h >= 0 ? dir_stream_at(h, ".", 0) : NULL;
		struct dirent *de;
		while (dd && (de = readdir(dd))) {
			size_t l = strlen(de->d_name);
			if (de->d_type == DT_REG &&
			    !(l > 7 && strcmp(de->d_name + l - 7, ".sample") == 0))
				ok = watch_file_role(pw, sub, de->d_name, PW_FOUND_ANY, i) && ok;
		}
		if (dd)
			closedir(dd);
	}
	if (!ok)
		pw->found_over++;
}

struct pointed_ctx {
	struct protwatch *pw;
	size_t i;
};

/* What found[I]'s config points at in a write grant (a hooks path, an
 * included file): watched, a file by its directory. */
static void on_pointed(void *ud, const char *path)
{
	struct pointed_ctx *c = ud;
	char dir[PATH_MAX];
	struct stat st;
	const char *slash = strrchr(path, '/');

	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(dir, sizeof(dir), "%s", path);
	} else if (slash) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	} else {
		return;
	}
	if (!watch_role(c->pw, dir[0] ? dir : "/", PW_FOUND_ANY, c->i, PW_FOUND_MASK))
		c->pw->found_over++;
}

static void found_add(struct sandbox *sb, const char *path, bool worktree);

static void on_nested(void *ud, const char *path, bool worktree)
{
	found_add(ud, path, worktree);
}

/* found[I] checked now, as the walk at exit checks it. */
void pw_found_check(struct sandbox *sb, size_t i)
{
	struct protwatch *pw = sb->protwatch;
	char path[PATH_MAX];
	size_t n = strlen(pw->found[i].path);

	pw->found[i].dirty = false;
	snprintf(path, sizeof(path), "%s", pw->found[i].path);
	/* a .git replaced by a file or a link: a pointer elsewhere */
	if (n > 5 && strcmp(path + n - 5, "/.git") == 0)
		gitscan_pointer(sb, path);
	bool worktree = pw->found[i].worktree;
	struct pointed_ctx pc = {pw, i};
	found_watch(pw, i);
	gitscan_gitdir(sb, path, worktree, on_pointed, &pc);
	/* submodules' and linked worktrees' git directories: found too */
	if (!worktree)
		gitscan_nested(path, on_nested, sb);
	/* and the project's other names (.mcp.json, .vscode, ...) */
	if (n > 5 && strcmp(path + n - 5, "/.git") == 0) {
		path[n - 5] = '\0';
		gitscan_names(sb, path[0] ? path : "/");
	}
}

/* An event on a watch with a role: its repository is checked after the
 * batch (a commit makes many events; one check). */
void pw_found_event(struct protwatch *pw, const struct pw_dir *d, const struct inotify_event *ev)
{
	static const char *const git_names[] = {"config", "config.worktree", "commondir",
						"hooks",  "modules",	     "worktrees"};
	bool hit =
	    (ev->mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_Q_OVERFLOW)) || d->role == PW_FOUND_ANY;

	for (size_t i = 0; !hit && ev->len && d->role == PW_FOUND_GIT && i < ARRAY_SIZE(git_names);
	     i++)
		hit = strcmp(ev->name, git_names[i]) == 0;
	if (!hit && ev->len && d->role == PW_FOUND_TOP) {
		/* .git, or the first name of a project's built-in one */
		const char **names;
		size_t n = protect_builtin_names(false, &names), l = strlen(ev->name);
		for (size_t i = 0; !hit && i < n; i++)
			hit = strncmp(names[i], ev->name, l) == 0 &&
			      (names[i][l] == '\0' || names[i][l] == '/');
	}
	if (hit && d->found < pw->n_found)
		pw->found[d->found].dirty = pw->any_dirty = true;
}

void pw_found_flush(struct sandbox *sb)
{
	struct protwatch *pw = sb->protwatch;

	if (!pw->any_dirty)
		return;
	pw->any_dirty = false;
	for (size_t i = 0; i < pw->n_found; i++)
		if (pw->found[i].dirty)
			pw_found_check(sb, i);
}

static void found_add(struct sandbox *sb, const char *path, bool worktree)
{
	struct protwatch *pw = sb->protwatch;

	for (size_t i = 0; i < pw->n_found; i++)
		if (strcmp(pw->found[i].path, path) == 0)
			return;
	if (pw->n_found >= PW_MAX_FOUND) {
		pw->found_over++;
		return;
	}
	struct pw_found *v = realloc(pw->found, (pw->n_found + 1) * sizeof(*v));
	if (!v) {
		pw->found_over++;
		return;
	}
	pw->found = v;
	v[pw->n_found] = (struct pw_found){.path = strdup(path), .worktree = worktree};
	if (!v[pw->n_found].path) {
		pw->found_over++;
		return;
	}
	pw->n_found++;
	pw_arm(pw);
	/* checked once more with the watches there: the walk's check came
	 * before them */
	pw_found_check(sb, pw->n_found - 1);
}

static int by_fd(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* In the walk's process: every descriptor closed but the standard ones,
 * the pipes to and from us and the audit log (what it moves aside is
 * logged). */
static void close_all_but(int a, int b, int c)
{
	int keep[3] = {a, b, c};
	unsigned lo = 3;

	qsort(keep, 3, sizeof(*keep), by_fd);
	for (size_t i = 0; i < 3; i++) {
		if (keep[i] < (int)lo)
			continue;
		if ((unsigned)keep[i] > lo)
			syscall(SYS_close_range, lo, (unsigned)keep[i] - 1, 0);
		lo = (unsigned)keep[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0U, 0);
}

void protwatch_find(struct sandbox *sb)
{
	struct protwatch *pw = sb->protwatch;

	if (!pw || pw->fd < 0 || pw->finder_pidfd >= 0 || !sb->policy->fs.write.n)
		return;
	pw->find_pending = true;
	pw_arm_at(pw, PW_FIND_AFTER_MS);
}

long pw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The paths in FBUF, each ended by a NUL, handed to found_add(); what
 * follows the last one is kept for the next read. */
static void found_take(struct sandbox *sb, bool lines_only)
{
	struct protwatch *pw = sb->protwatch;
	size_t start = 0;

	for (size_t i = 0; i < pw->flen; i++)
		if (pw->fbuf[i] == '\0') {
			/* a line the walk's process said (say_relay_to()) */
			if (pw->fbuf[start] == '\1')
				say_write(pw->fbuf + start + 1, i - start - 1);
			else if (!lines_only)
				found_add(sb, pw->fbuf + start, false);
			start = i + 1;
		}
	/* each path is written whole (< PIPE_BUF): a buffer full without one
	 * cannot be, but is not kept */
	if (start == 0 && pw->flen == sizeof(pw->fbuf))
		start = pw->flen;
	memmove(pw->fbuf, pw->fbuf + start, pw->flen - start);
	pw->flen -= start;
}

/* The next walk, TOOK ms after this one began: at least PW_FIND_AGAIN_MS
 * after it, or twenty times as long as it took. */
static void find_again(struct protwatch *pw, long took)
{
	pw->find_next_ms =
	    pw_now_ms() + (took * 20 > PW_FIND_AGAIN_MS ? took * 20 : PW_FIND_AGAIN_MS);
}

/*
 * The walk made here, in the supervisor, when its own process could not be
 * (WHY): a sandbox that holds its user's process limit full (the command
 * runs as the supervisor's user, unprivileged), or its cgroup's (pids.max,
 * root too), at the moment of a walk must not turn the watch off for the
 * rest of the run (found by an outside review: it did, with a warning).
 * The loop waits for the walk (about 10 us a directory: bench/gitscan.sh);
 * the paths it finds go through an anonymous file, which never fills as a
 * pipe nobody reads would.  Said once a run.
 */
static void find_here(struct sandbox *sb, const char *why, int err)
{
	struct protwatch *pw = sb->protwatch;
	long start = pw_now_ms();
	_cleanup_close_ int fd = memfd_create("ringfence-walk", MFD_CLOEXEC);
	ssize_t n;

	if (!pw->find_here_said) {
		pw->find_here_said = true;
		warn(
		    "the walk of the write grants while the sandbox runs is made by the supervisor "
		    "itself (%s: %s; the sandbox may hold the process limit full)",
		    why, strerror(err));
	}
	if (fd < 0) {
		warn("the repositories in the write grants are not watched until the next walk "
		     "(memfd_create: %s)",
		     strerror(errno));
		find_again(pw, 0);
		return;
	}
	gitscan_all(sb, fd);
	if (lseek(fd, 0, SEEK_SET) == 0) {
		pw->flen = 0;
		while ((n = read(fd, pw->fbuf + pw->flen, sizeof(pw->fbuf) - pw->flen)) > 0) {
			pw->flen += (size_t)n;
			found_take(sb, false);
		}
		pw->flen = 0;
	}
	find_again(pw, pw_now_ms() - start);
}

/* The walk's process, from the first tick, and again (PW_FIND_AGAIN_MS). */
void pw_start_finder(struct sandbox *sb)
{
	struct protwatch *pw = sb->protwatch;
	pid_t parent = getpid();
	int p[2], stop[2];

	pw->find_pending = false;
	if (pipe2(p, O_CLOEXEC) < 0) {
		find_here(sb, "pipe2", errno);
		return;
	}
	if (pipe2(stop, O_CLOEXEC) < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		find_here(sb, "pipe2", e);
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	int e = errno;
	if (pid == 0) {
		close(p[0]);
		close(stop[1]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(0);
		/* less of the command's time; not SCHED_IDLE, which a command
		 * keeping every CPU busy would starve the walk with */
		(void)!setpriority(PRIO_PROCESS, 0, 10);
		close_all_but(p[1], sb->audit_fd, stop[0]);
		gitscan_stop_on(stop[0]);
		say_relay_to(p[1]);
		gitscan_all(sb, p[1]);
		_exit(0);
	}
	close(p[1]);
	close(stop[0]);
	int pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	if (pidfd < 0) {
		if (pid > 0) {
			e = errno;
			kill(pid, SIGKILL); /* not reaped yet: the pid is still its */
		}
		close(p[0]);
		close(stop[1]);
		find_here(sb, pid < 0 ? "fork" : "pidfd_open", e);
		return;
	}
	(void)!fcntl(p[0], F_SETFL, O_NONBLOCK);
	pw->find_started_ms = pw_now_ms();
	pw->finder = pid;
	pw->finder_pidfd = pidfd;
	pw->finder_fd = p[0];
	pw->finder_stop = stop[1];
}

void pw_end_finder(struct sandbox *sb, int ms)
{
	struct protwatch *pw = sb->protwatch;
	long end = pw_now_ms() + ms;
	siginfo_t si;

	close(pw->finder_stop); /* (gitscan.c's walk_on() looks) */
	pw->finder_stop = -1;
	while (pw->finder_fd >= 0) {
		struct pollfd pf = {.fd = pw->finder_fd, .events = POLLIN};
		long left = end - pw_now_ms();
		if (left <= 0 || poll(&pf, 1, (int)left) == 0)
			break;
		ssize_t n = read(pw->finder_fd, pw->fbuf + pw->flen, sizeof(pw->fbuf) - pw->flen);
		if (n > 0) {
			pw->flen += (size_t)n;
			found_take(sb, true); /* (its repositories: the walk at exit's) */
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			break;
		}
	}
	if (pw->finder_fd >= 0)
		close(pw->finder_fd);
	pw->finder_fd = -1;
	pw->flen = 0;
	struct pollfd pf = {.fd = pw->finder_pidfd, .events = POLLIN};
	if (poll(&pf, 1, 0) <= 0)
		syscall(SYS_pidfd_send_signal, pw->finder_pidfd, SIGKILL, NULL, 0);
	while (waitid((idtype_t)P_PIDFD, (id_t)pw->finder_pidfd, &si, WEXITED) < 0 &&
	       errno == EINTR)
		;
}

int protwatch_find_fd(const struct sandbox *sb)
{
	return sb->protwatch ? sb->protwatch->finder_fd : -1;
}

void protwatch_find_read(struct sandbox *sb)
{
	struct protwatch *pw = sb->protwatch;
	ssize_t n;

	if (!pw || pw->finder_fd < 0)
		return;
	n = read(pw->finder_fd, pw->fbuf + pw->flen, sizeof(pw->fbuf) - pw->flen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* done (reaped by the main loop) */
		close(pw->finder_fd);
		close(pw->finder_pidfd);
		close(pw->finder_stop);
		pw->finder_fd = pw->finder_pidfd = pw->finder_stop = -1;
		pw->flen = 0;
		find_again(pw, pw_now_ms() - pw->find_started_ms);
		return;
	}
	pw->flen += (size_t)n;
	found_take(sb, false);
}
