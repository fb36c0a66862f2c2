/* SPDX-License-Identifier: MIT */
/*
 * A stand-in made where there was none (state.c has the picture): empty
 * (a file 0600, a directory 0700), or, for private_seed, a copy of the
 * host's file or directory taken once, within the limits below.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state_internal.h"

/* A seed copies the host's files once: a CLI's settings and sessions, not
 * its caches.  Larger files are skipped (and said), as are symlinks,
 * devices, sockets and files another user owns. */
#define SEED_FILE_MAX	 (16u << 20)
#define SEED_TOTAL_MAX	 (256u << 20)
#define SEED_DEPTH_MAX	 16
#define SEED_ENTRIES_MAX 100000

/* Removes NAME in DIR and everything beneath it, never following a
 * symlink (a seed cut short). */
static int rm_rf_at(int dir, const char *name)
{
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return unlinkat(dir, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			(void)rm_rf_at(dirfd(d), de->d_name);
	closedir(d);
	return unlinkat(dir, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

struct seed_ctx {
	const struct sandbox *sb;
	const char *top; /* the host path, for messages */
	/* the host directory being copied (the stand-in's path, canonical
	 * where it can be), for the deny paths beneath it */
	char at[PATH_MAX];
	uint64_t total;
	unsigned long entries;
	bool said_deep, said_many;
};

static int copy_file(struct seed_ctx *c, int src, const struct stat *st, int dir, const char *name)
{
	_cleanup_close_ int out = -1;
	char buf[65536];
	uint64_t left = (uint64_t)st->st_size;

	out = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     st->st_mode & 0777);
	if (out < 0)
		return -errno;
	if (state_give(c->sb, out) < 0 || fchmod(out, st->st_mode & 0777) < 0)
		return -errno;
	while (left > 0) {
		ssize_t n = read(src, buf, left < sizeof(buf) ? left : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break; /* shrank while copied: what was read is the copy */
		int r = write_all(out, buf, (size_t)n);
		if (r < 0)
			return r;
		left -= (uint64_t)n;
	}
	return 0;
}

/* Whether the seed may take the host's ST: a regular file or directory the
 * command's user owns (root's seed reads as root: never another's file). */
static bool seed_ok(struct seed_ctx *c, const struct stat *st, const char *what)
{
	if (c->sb->uid != 0 && st->st_uid != c->sb->uid) {
		warn("private_seed %s: %s belongs to uid %u, not copied", c->top, what,
		     (unsigned)st->st_uid);
		return false;
	}
	if (S_ISREG(st->st_mode) && (uint64_t)st->st_size > SEED_FILE_MAX) {
		warn("private_seed %s: %s is larger than %u MiB, not copied", c->top, what,
		     SEED_FILE_MAX >> 20);
		return false;
	}
	if (S_ISREG(st->st_mode) && c->total + (uint64_t)st->st_size > SEED_TOTAL_MAX) {
		warn("private_seed %s: %s would take the copy past %u MiB, not copied", c->top,
		     what, SEED_TOTAL_MAX >> 20);
		return false;
	}
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) {
		note("private_seed %s: %s is not a file or directory, not copied", c->top, what);
		return false;
	}
	return true;
}

/* Copies the directory SRC's entries into DST (both open), recursively. */
static int copy_dir(struct seed_ctx *c, int src, int dst, int depth)
{
	_cleanup_close_ int dup_fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (dup_fd < 0)
		return -errno;
	d = fdopendir(dup_fd);
	if (!d)
		return -errno;
	steal_fd(&dup_fd);
	while (r == 0 && (errno = 0, de = readdir(d))) {
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* a deny path of the policy is not copied: a deny beneath a
		 * stand-in is not masked there (the copy is the sandbox's
		 * own), so what the host keeps out of reach must not be in it
		 * (a review: private_seed = ~/.config/ carried gh's token) */
		char full[PATH_MAX];
		size_t al = strlen(c->at);
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", c->at, de->d_name) >=
			sizeof(full) ||
		    path_denied(c->sb, full)) {
			note("private_seed %s: %s is denied (or too long a path), not copied",
			     c->top, de->d_name);
			continue;
		}
		/* O_NOFOLLOW: a symlink is not opened (ELOOP) and not copied */
		int fd = openat(src, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			note("private_seed %s: %s: %s, not copied", c->top, de->d_name,
			     strerror(errno));
			continue;
		}
		if (fstat(fd, &st) < 0 || !seed_ok(c, &st, de->d_name)) {
			close(fd);
			continue;
		}
		if (++c->entries > SEED_ENTRIES_MAX) {
			if (!c->said_many)
				warn(
				    "private_seed %s: more than %d entries: the rest is not copied",
				    c->top, SEED_ENTRIES_MAX);
			c->said_many = true;
			close(fd);
			errno = 0; /* not a read error */
			break;
		}
		if (S_ISDIR(st.st_mode) && depth + 1 >= SEED_DEPTH_MAX) {
			if (!c->said_deep)
				warn("private_seed %s: directories deeper than %d are not copied",
				     c->top, SEED_DEPTH_MAX);
			c->said_deep = true;
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdirat(dst, de->d_name, 0700) < 0) {
				r = -errno;
			} else {
				int sub = openat(dst, de->d_name,
						 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				r = sub < 0 ? -errno : state_give(c->sb, sub);
				snprintf(c->at, sizeof(c->at), "%s", full);
				if (r == 0)
					r = copy_dir(c, fd, sub, depth + 1);
				c->at[al] = '\0';
				if (r == 0 && fchmod(sub, st.st_mode & 0777) < 0)
					r = -errno;
				if (sub >= 0)
					close(sub);
			}
		} else {
			c->total += (uint64_t)st.st_size;
			r = copy_file(c, fd, &st, dst, de->d_name);
		}
		close(fd);
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	return r;
}

/*
 * Makes the stand-in NAME in DIR: seeded from the host's HOST_REL beneath
 * HOME_FD when asked and the host has one, else empty.  A seed is made
 * under a temporary name and renamed into place, so a seed cut short is
 * never taken for a finished one.
 */
int state_make_standin(struct sandbox *sb, const struct private_standin *ps, int dir,
		       const char *name, int home_fd, bool seed)
{
	char tmp[NAME_MAX + 1];
	_cleanup_close_ int src = -1, fd = -1;
	struct stat st;
	int r;

	if (seed) {
		src = open_beneath_nofollow(home_fd, ps->rel, O_RDONLY | O_NONBLOCK);
		if (src == -ENOENT)
			seed = false;
		else if (src < 0)
			return src == -ELOOP ? -ELOOP : src;
		else if (fstat(src, &st) < 0)
			return -errno;
	}
	if (seed) {
		struct seed_ctx c = {.sb = sb, .top = ps->path};
		/* the deny paths resolved, as the copy's own paths are (a home
		 * reached through a link would else match neither) */
		(void)sandbox_deny_canon(sb);
		snprintf(c.at, sizeof(c.at), "%s", ps->canon ? ps->canon : ps->path);
		if (S_ISDIR(st.st_mode) != ps->is_dir || !seed_ok(&c, &st, ps->path) ||
		    path_denied(sb, c.at))
			seed = false;
		if (seed) {
			if (snprintf(tmp, sizeof(tmp), ".%.200s.seed%d", name, (int)getpid()) < 0)
				return -EINVAL;
			if (ps->is_dir) {
				(void)rm_rf_at(dir, tmp);
				if (mkdirat(dir, tmp, 0700) < 0)
					return -errno;
				fd = openat(dir, tmp,
					    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				r = fd < 0 ? -errno : state_give(sb, fd);
				if (r == 0)
					r = copy_dir(&c, src, fd, 0);
				if (r == 0 && fchmod(fd, 0700) < 0)
					r = -errno;
			} else {
				(void)unlinkat(dir, tmp, 0);
				c.total = (uint64_t)st.st_size;
				r = copy_file(&c, src, &st, dir, tmp);
			}
			if (r == 0 && renameat(dir, tmp, dir, name) < 0)
				r = -errno;
			if (r < 0)
				(void)rm_rf_at(dir, tmp);
			return r;
		}
	}
	if (ps->is_dir) {
		if (mkdirat(dir, name, 0700) < 0)
			return -errno;
		fd = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	} else {
		fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	return fd < 0 ? -errno : state_give(sb, fd);
}
