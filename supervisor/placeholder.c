/* SPDX-License-Identifier: MIT */
/*
 * The empty directories protect.c puts where a protected directory is
 * absent (.git, .git/hooks, a deny path's), and their end.
 *
 * A placeholder is made (or found: another run's, in the same project, at
 * start or made between our look and our mkdir(2) by a start beside ours:
 * protect.c, make_placeholder()) and mounted over read-only in the
 * sandbox's namespace; git skips
 * an empty .git and keeps searching upwards, and an empty hooks directory
 * runs nothing, so the host sees what it saw.  Runs share one by a
 * flock(2) (placeholder_take()): each holds it shared while it runs, and
 * the last one, taking it alone, removes it at exit; never what replaced
 * it (device and inode), and one the host wrote in meanwhile keeps its
 * name.  A start-up error removes them too (die()'s exit).
 *
 * Their removal, and the closing of the inotify instance, wait on the
 * kernel (an RCU grace period; fsnotify's SRCU) for time the caller of
 * ringfence would otherwise wait for: a child that shares our memory does
 * them after we have gone (protect_close_later(),
 * remove_placeholders_later()).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../common/rawsys.h"
#include "protect_internal.h"

static const struct sandbox *placeholder_owner;
static pid_t placeholder_pid;

/* Placeholders made before a start-up error are removed by die()'s exit. */
static void placeholders_atexit(void)
{
	if (placeholder_owner && getpid() == placeholder_pid)
		protect_remove_placeholders((struct sandbox *)placeholder_owner);
}

/* Whether the directory open at FD holds nothing but . and .. */
static bool dir_fd_is_empty(int fd)
{
	DIR *dir = dir_stream_at(fd, ".", 0);
	struct dirent *de;
	bool empty = dir != NULL;

	if (!dir)
		return false;
	while (empty && (de = readdir(dir)))
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	closedir(dir);
	return empty;
}

bool protect_dir_is_empty(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd >= 0 && dir_fd_is_empty(fd);
}

/*
 * Placeholders are shared between runs in one project.  A run that finds an
 * empty .git (or hooks) directory may be looking at another run's
 * placeholder, which that run removes when it ends: were this run to bind
 * it read-only as a directory of the host's, the removal on the host would
 * take the bind with it (a mount point in another namespace does not stop
 * rmdir), and this sandbox could then make the .git the host's git reads.
 * So each run holds a shared flock(2) on every placeholder it uses, made
 * or found, and removes one at exit only when it can take the lock alone;
 * a run that finds one takes its lock, then checks that the path still
 * names it, empty (a removal in progress holds the lock exclusively and
 * renames it away first).  Returns the locked fd, -ESTALE when the path no
 * longer names an empty directory, -EBUSY when another holds it alone for
 * longer than a removal does (TAKE_WAIT_MS: anyone who can write the
 * project can make an empty .git and lock it; the start waited for ever),
 * or -errno.
 */
#define TAKE_WAIT_MS 3000
int placeholder_take(const char *path, struct stat *ret_st)
{
	struct stat now;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	long until = monotonic_ms() + TAKE_WAIT_MS;

	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? -ESTALE : -errno;
	while (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		int e = errno;
		if (e == EINTR)
			continue;
		if (e == EWOULDBLOCK && monotonic_ms() < until) {
			struct timespec pause = {0, 5 * 1000 * 1000};
			nanosleep(&pause, NULL);
			continue;
		}
		close(fd);
		return e == EWOULDBLOCK ? -EBUSY : -e;
	}
	if (fstat(fd, ret_st) < 0 || lstat(path, &now) < 0 || now.st_dev != ret_st->st_dev ||
	    now.st_ino != ret_st->st_ino || !dir_fd_is_empty(fd)) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

/* Another run uses the placeholder too: it is theirs to remove. */
static bool placeholder_shared(const struct protect_placeholder *ph)
{
	return ph->fd >= 0 && flock(ph->fd, LOCK_EX | LOCK_NB) < 0;
}

void placeholder_add(struct sandbox *sb, const char *path, const struct stat *st, int fd)
{
	struct protect_placeholder *v =
	    realloc(sb->placeholders, (sb->n_placeholders + 1) * sizeof(*v));

	if (!v)
		die("out of memory");
	sb->placeholders = v;
	v[sb->n_placeholders].path = strdup(path);
	if (!v[sb->n_placeholders].path)
		die("out of memory");
	v[sb->n_placeholders].dev = st->st_dev;
	v[sb->n_placeholders].ino = st->st_ino;
	v[sb->n_placeholders].fd = fd;
	sb->n_placeholders++;
	if (!placeholder_owner) {
		placeholder_owner = sb;
		placeholder_pid = getpid();
		atexit(placeholders_atexit);
	}
}

bool placeholder_is(const struct sandbox *sb, const char *path)
{
	for (size_t i = 0; i < sb->n_placeholders; i++)
		if (strcmp(sb->placeholders[i].path, path) == 0)
			return true;
	return false;
}

int protect_split_parent(const char *path, char *name, size_t size)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (!slash)
		return -EINVAL;
	snprintf(name, size, "%s", slash + 1);
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
	return protect_open_dir_nofollow(parent[0] ? parent : "/");
}

/* NAME.ringfence-gone.XXXXXXXX (protect_finish) back to NAME in ORIG, else
 * an empty ORIG. */
#define GONE_SUFFIX ".ringfence-gone."
static void gone_to_orig(const char *name, char *orig, size_t size)
{
	size_t n = strlen(name), s = strlen(GONE_SUFFIX) + 8;

	orig[0] = '\0';
	if (n > s && strncmp(name + n - s, GONE_SUFFIX, strlen(GONE_SUFFIX)) == 0 && n - s < size)
		snprintf(orig, size, "%.*s", (int)(n - s), name);
}

void protect_remove_placeholders(struct sandbox *sb)
{
	for (size_t i = 0; i < sb->n_placeholders; i++) {
		struct protect_placeholder *ph = &sb->placeholders[i];
		char name[NAME_MAX + 1];
		struct stat st;
		int dir = placeholder_shared(ph)
			      ? -EBUSY
			      : protect_split_parent(ph->path, name, sizeof(name));
		/* only the empty directory we made: never what replaced it;
		 * one written in since it was renamed aside gets its name back */
		if (dir >= 0 && fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_dev == ph->dev && st.st_ino == ph->ino &&
		    unlinkat(dir, name, AT_REMOVEDIR) < 0) {
			char orig[NAME_MAX + 1];
			gone_to_orig(name, orig, sizeof(orig));
			if (orig[0])
				(void)renameat2(dir, name, dir, orig, RENAME_NOREPLACE);
		}
		if (dir >= 0)
			close(dir);
		if (ph->fd >= 0)
			close(ph->fd);
		free(ph->path);
	}
	free(sb->placeholders);
	sb->placeholders = NULL;
	sb->n_placeholders = 0;
}

/* The placeholders are another process's to remove now: our list goes. */
static void forget_placeholders(struct sandbox *sb)
{
	for (size_t i = 0; i < sb->n_placeholders; i++) {
		if (sb->placeholders[i].fd >= 0)
			close(sb->placeholders[i].fd);
		free(sb->placeholders[i].path);
	}
	free(sb->placeholders);
	sb->placeholders = NULL;
	sb->n_placeholders = 0;
}

#ifdef RAWSYS
/*
 * The child shares our memory (CLONE_VM): no page tables to copy and no
 * copy-on-write faults in our own exit, which a fork() cost (~0.1-0.2 ms).
 * It runs on its own static stack and makes its system calls directly, so
 * it touches neither errno nor anything of libc that our exit tears down;
 * what it needs is copied into `late` first and never changed after.
 */
#define LATE_MAX 8
static struct {
	int dir;
	char name[NAME_MAX + 1], orig[NAME_MAX + 1];
	dev_t dev;
	ino_t ino;
} late[LATE_MAX];
static size_t n_late;
static char late_stack[16384] __attribute__((aligned(16)));

static int late_remove(void *arg)
{
	struct stat st;

	(void)arg;
	/* a caller reading our output to its end must not wait for this */
	for (long fd = 0; fd < 3; fd++)
		rawsys3(SYS_close, fd, 0, 0);
	for (size_t i = 0; i < n_late; i++)
		/* only the empty directory we made: never what replaced it */
		if (rawsys4(SYS_newfstatat, late[i].dir, (long)late[i].name, (long)&st,
			    AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_dev == late[i].dev && st.st_ino == late[i].ino &&
		    rawsys3(SYS_unlinkat, late[i].dir, (long)late[i].name, AT_REMOVEDIR) < 0 &&
		    late[i].orig[0])
			/* written in since it was looked at: back to its name,
			 * never over what is there now (a run started since
			 * made its own placeholder there: replaced, its
			 * sandbox's read-only mount of it went with it, and
			 * the .git it then saw was this one, writable) */
			rawsys5(SYS_renameat2, late[i].dir, (long)late[i].name, late[i].dir,
				(long)late[i].orig, RENAME_NOREPLACE);
	for (;;)
		rawsys3(SYS_exit, 0, 0, 0);
	return 0;
}

/*
 * Closing the last reference to an inotify instance waits for an SRCU grace
 * period (fsnotify_destroy_group(): ~10-20 ms here), time the caller of
 * ringfence would wait for.  A child that shares our memory holds it instead,
 * with nothing else open, until our end closes the pipe it reads; its own
 * exit then pays, and nobody waits for it.
 */
static int closer_fd, closer_pipe;
static char closer_stack[8192] __attribute__((aligned(16)));

#ifndef __NR_close_range
#define __NR_close_range 436
#endif

static int late_close(void *arg)
{
	int a = closer_fd < closer_pipe ? closer_fd : closer_pipe;
	int b = closer_fd < closer_pipe ? closer_pipe : closer_fd;
	char c;

	(void)arg;
	if (a > 0)
		rawsys3(__NR_close_range, 0, a - 1, 0);
	if (b > a + 1)
		rawsys3(__NR_close_range, a + 1, b - 1, 0);
	rawsys3(__NR_close_range, b + 1, ~0U, 0);
	while (rawsys3(SYS_read, closer_pipe, (long)&c, 1) == -EINTR)
		;
	for (;;)
		rawsys3(SYS_exit, 0, 0, 0);
	return 0;
}

int protect_close_later(int fd)
{
	int p[2];

	if (getpid() == 1 || pipe2(p, O_CLOEXEC) < 0)
		return -EINVAL; /* as PID 1 our exit ends everything anyway */
	closer_fd = fd;
	closer_pipe = p[0];
	pid_t pid = clone(late_close, closer_stack + sizeof(closer_stack), CLONE_VM, NULL);
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return -errno;
	}
	/* p[1] stays open until we exit: the child's sign to let go */
	close(fd);
	return 0;
}

static int remove_placeholders_later(struct sandbox *sb)
{
	if (sb->n_placeholders > LATE_MAX)
		return -E2BIG;
	n_late = 0;
	for (size_t i = 0; i < sb->n_placeholders; i++) {
		int dir = protect_split_parent(sb->placeholders[i].path, late[n_late].name,
					       sizeof(late[n_late].name));
		if (dir < 0)
			continue;
		late[n_late].dir = dir;
		gone_to_orig(late[n_late].name, late[n_late].orig, sizeof(late[n_late].orig));
		late[n_late].dev = sb->placeholders[i].dev;
		late[n_late].ino = sb->placeholders[i].ino;
		n_late++;
	}
	/* no exit signal: nobody waits for it, and init reaps it after us */
	pid_t pid = clone(late_remove, late_stack + sizeof(late_stack), CLONE_VM, NULL);
	for (size_t i = 0; i < n_late; i++)
		close(late[i].dir); /* the child has its own copies */
	if (pid < 0)
		return -errno;
	forget_placeholders(sb);
	return 0;
}
#else
int protect_close_later(int fd)
{
	int p[2];
	pid_t pid;

	if (getpid() == 1 || pipe2(p, O_CLOEXEC) < 0)
		return -EINVAL;
	pid = fork();
	if (pid == 0) {
		char c;
		for (int i = 0; i < 1024; i++)
			if (i != fd && i != p[0])
				close(i);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return -errno;
	}
	close(fd);
	return 0;
}

static int remove_placeholders_later(struct sandbox *sb)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (int fd = 0; fd < 3; fd++)
			close(fd);
		protect_remove_placeholders(sb);
		_exit(0);
	}
	if (pid < 0)
		return -errno;
	forget_placeholders(sb);
	return 0;
}
#endif

void placeholders_finish(struct sandbox *sb)
{
	/* Removing a directory that was a mount point in the namespace waits
	 * for the kernel to let go of the mount (an RCU grace period, ~0.3 ms
	 * here), time the caller would wait for: a child does it, unless we
	 * are PID 1 (our exit would end it first).  Each is first renamed out
	 * of the way here (a rename waits for nothing): a run started in the
	 * same project right after ours must not find an empty .git, take it
	 * for a repository, and see it vanish under it. */
	if (sb->n_placeholders && getpid() != 1) {
		size_t kept = 0;
		for (size_t i = 0; i < sb->n_placeholders; i++) {
			struct protect_placeholder *ph = &sb->placeholders[i];
			/* another run's too, or written in by the host (a deny
			 * path's, made its own by a first `aws configure`) */
			if (placeholder_shared(ph) || (ph->fd >= 0 && !dir_fd_is_empty(ph->fd))) {
				close(ph->fd);
				free(ph->path);
				continue;
			}
			sb->placeholders[kept++] = *ph;
		}
		sb->n_placeholders = kept;
		for (size_t i = 0; i < sb->n_placeholders; i++) {
			struct protect_placeholder *ph = &sb->placeholders[i];
			char name[NAME_MAX + 1], gone[NAME_MAX + 32], path[PATH_MAX];
			struct stat st;
			unsigned r = 0;
			int dir = protect_split_parent(ph->path, name, sizeof(name));
			const char *slash = strrchr(ph->path, '/');
			if (dir < 0)
				continue;
			if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
				r = (unsigned)ph->ino;
			snprintf(gone, sizeof(gone), "%s" GONE_SUFFIX "%08x", name, r);
			if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    st.st_dev == ph->dev && st.st_ino == ph->ino &&
			    (size_t)snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - ph->path),
					     ph->path, gone) < sizeof(path) &&
			    renameat2(dir, name, dir, gone, RENAME_NOREPLACE) == 0) {
				char *c = strdup(path);
				if (c) {
					free(ph->path);
					ph->path = c;
				} else {
					(void)renameat2(dir, gone, dir, name, RENAME_NOREPLACE);
				}
			}
			close(dir);
		}
	}
	if (sb->n_placeholders && getpid() != 1 && remove_placeholders_later(sb) == 0)
		return;
	protect_remove_placeholders(sb);
}

void placeholders_release(const struct sandbox *sb)
{
	/* the exit handler must not look at SB again: it is on the stack of
	 * a run that has ended (learn -o goes on after it) */
	if (placeholder_owner == sb)
		placeholder_owner = NULL;
}
