/* SPDX-License-Identifier: MIT */
/*
 * Carrying a view of .git back (gitview.c has the picture): init, once the
 * command has ended and nothing else runs in the sandbox, puts the
 * allow-listed root files the sandbox changed back in the real .git, each
 * checked for its format (gitview_format.c) and put in place by a
 * temporary file and a rename; a file the host changed meanwhile is left
 * as the host's, and everything else is reported (and logged).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitview_internal.h"

/* Small files are read whole to be checked; the index is streamed, up to
 * a size no real index reaches (a sparse file in the tmpfs costs nothing to
 * make and would cost the host's disk that much). */
#define GV_SMALL_MAX (64u << 20)
#define GV_INDEX_MAX (4ull << 30)

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The real file NAME replaced by the content of FD (SIZE bytes, or BUF). */
static int put_back(const struct gitview *v, const char *name, int fd, const char *buf, size_t size,
		    mode_t mode, const struct stat *host)
{
	char tmp[NAME_MAX + 1];
	_cleanup_close_ int out = -1;
	int r = -EEXIST;

	for (int tries = 0; tries < 16 && out < 0; tries++) {
		unsigned rnd = 0;
		if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -EIO;
		snprintf(tmp, sizeof(tmp), ".ringfence-carry.%08x", rnd);
		out = openat(v->real_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			     mode & 0666);
		if (out < 0 && errno != EEXIST)
			return -errno;
	}
	if (out < 0)
		return r;
	r = 0;
	if (v->chown && fchown(out, host ? host->st_uid : v->uid, host ? host->st_gid : v->gid) < 0)
		r = -errno;
	if (r == 0)
		r = buf ? write_all(out, buf, size) : gv_copy_fd(fd, out, (off_t)size);
	if (r == 0 && fchmod(out, mode & 0666) < 0)
		r = -errno;
	if (r == 0 && renameat(v->real_fd, tmp, v->real_fd, name) < 0)
		r = -errno;
	if (r < 0)
		(void)unlinkat(v->real_fd, tmp, 0);
	return r;
}

static const struct gv_file *copied(const struct gitview *v, const char *name)
{
	for (size_t i = 0; i < v->n_files; i++)
		if (strcmp(v->files[i].name, name) == 0)
			return &v->files[i];
	return NULL;
}

static void said(int audit_fd, const struct gitview *v, const char *name, const char *why,
		 char *list, size_t size)
{
	char path[PATH_MAX], js[PATH_MAX + 64], jw[128];
	size_t len = strlen(list);

	snprintf(path, sizeof(path), "%s/%s", v->path, name);
	json_string(js, sizeof(js), path);
	json_string(jw, sizeof(jw), why);
	audit_event(audit_fd, "protect.git_dropped", "\"path\":%s,\"why\":%s", js, jw);
	if (len + 1 < size)
		snprintf(list + len, size - len, "%s%s (%s)", len ? ", " : "", name, why);
}

/* NAME removed inside (F: as made at start): removed from the real .git
 * too, unless the host changed it meanwhile, or it is HEAD. */
static int carry_removed(const struct gitview *v, const char *name, const struct gv_file *f,
			 bool real_there, const struct stat *real, const char **why)
{
	/* HEAD is never removed: without it the host's git would
	 * not see a repository here and search the directories above */
	if (!f || !gitview_carried(name) || !real_there)
		return 0;
	if (strcmp(name, "HEAD") == 0) {
		*why = "removed inside, kept";
		return 0;
	}
	if (!same_file(real, &f->host)) {
		*why = "changed on the host meanwhile, kept";
		return 0;
	}
	return unlinkat(v->real_fd, name, 0) < 0 ? -errno : 0;
}

/* The index (or a split index's share) NAME, open as FD (closed here; NOW
 * its stat), streamed back once its header is checked; REAL: the real
 * file, NULL when there is none. */
static int carry_index(const struct gitview *v, const char *name, int fd, const struct stat *now,
		       const struct stat *real, const char **why)
{
	char head[12];
	int r;

	if ((uint64_t)now->st_size > GV_INDEX_MAX) {
		close(fd);
		*why = "too large";
		return 0;
	}
	if (pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    !gitview_content_ok(name, head, sizeof(head))) {
		close(fd);
		*why = "not an index";
		return 0;
	}
	r = put_back(v, name, fd, NULL, (size_t)now->st_size, now->st_mode, real);
	close(fd);
	return r;
}

/* Any other file NAME, open as FD (closed here; NOW its stat), read whole
 * and put back when it is in git's format; REAL: the real file, NULL when
 * there is none. */
static int carry_small(const struct gitview *v, const char *name, int fd, const struct stat *now,
		       const struct stat *real, const char **why)
{
	int r;

	if ((uint64_t)now->st_size > GV_SMALL_MAX) {
		close(fd);
		*why = "too large";
		return 0;
	}
	_cleanup_free_ char *buf = malloc((size_t)now->st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	r = read_all(fd, buf, (size_t)now->st_size);
	close(fd);
	buf[now->st_size] = '\0';
	if (r < 0)
		return r;
	if (!gitview_content_ok(name, buf, (size_t)now->st_size)) {
		*why = "not in git's format";
		return 0;
	}
	return put_back(v, name, -1, buf, (size_t)now->st_size, now->st_mode, real);
}

/* One name of the tmpfs's root: carried back, left (unchanged), or dropped
 * with WHY set. */
static int carry_one(const struct gitview *v, const char *name, const char **why)
{
	const struct gv_file *f = copied(v, name);
	struct stat now, real;
	bool real_there;
	int fd, r;

	*why = NULL;
	/* most are as they were made: one fstatat() says so */
	if (f && fstatat(v->priv_fd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	    same_file(&now, &f->copy))
		return 0;
	real_there = fstatat(v->real_fd, name, &real, AT_SYMLINK_NOFOLLOW) == 0;
	fd = openat(v->priv_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	/* removed inside (MERGE_HEAD after a merge's commit) */
	if (fd < 0 && errno == ENOENT)
		return carry_removed(v, name, f, real_there, &real, why);
	if (fd < 0) {
		*why = errno == ELOOP ? "a symbolic link" : "not readable";
		return 0;
	}
	if (fstat(fd, &now) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (f && same_file(&now, &f->copy)) {
		close(fd);
		return 0; /* not changed inside */
	}
	if (!gitview_carried(name)) {
		close(fd);
		*why = S_ISDIR(now.st_mode) ? "a directory written inside"
					    : "not a file git keeps there";
		return 0;
	}
	if (!S_ISREG(now.st_mode)) {
		close(fd);
		*why = "not a regular file";
		return 0;
	}
	if (real_there ? !f || !same_file(&real, &f->host) : f != NULL) {
		close(fd);
		*why = "changed on the host meanwhile, kept";
		return 0;
	}
	if (strcmp(name, "index") == 0 || strncmp(name, "sharedindex.", 12) == 0)
		return carry_index(v, name, fd, &now, real_there ? &real : NULL, why);
	return carry_small(v, name, fd, &now, real_there ? &real : NULL, why);
}

static bool was_bound(const struct gitview *v, const char *name)
{
	for (size_t i = 0; i < v->n_bound; i++)
		if (strcmp(v->bound[i], name) == 0)
			return true;
	return false;
}

void gitview_carry_back(struct gitviews *views, int audit_fd)
{
	for (size_t i = 0; i < views->n; i++) {
		struct gitview *v = &views->v[i];
		char list[1024] = "";
		struct dirent *de;
		int lfd;
		DIR *d;

		if (v->priv_fd < 0)
			continue;
		lfd = openat(v->priv_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		d = lfd >= 0 ? fdopendir(lfd) : NULL;
		if (!d) {
			if (lfd >= 0)
				close(lfd);
			warn("%s: cannot read what the sandbox wrote there: nothing carried back",
			     v->path);
			continue;
		}
		while ((de = readdir(d))) {
			const char *why;
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
			    was_bound(v, de->d_name))
				continue;
			for (size_t j = 0; j < v->n_files; j++)
				if (strcmp(v->files[j].name, de->d_name) == 0)
					v->files[j].seen = true;
			int r = carry_one(v, de->d_name, &why);
			if (r < 0)
				warn("%s/%s: cannot carry the sandbox's change back: %s", v->path,
				     de->d_name, strerror(-r));
			if (why)
				said(audit_fd, v, de->d_name, why, list, sizeof(list));
		}
		closedir(d);
		/* names removed inside (MERGE_HEAD once a merge is committed) */
		for (size_t j = 0; j < v->n_files; j++) {
			const char *why;
			if (v->files[j].seen)
				continue;
			int r = carry_one(v, v->files[j].name, &why);
			if (r < 0)
				warn("%s/%s: cannot carry the sandbox's change back: %s", v->path,
				     v->files[j].name, strerror(-r));
			if (why)
				said(audit_fd, v, v->files[j].name, why, list, sizeof(list));
		}
		if (list[0])
			warn("%s: not carried back from the sandbox's view: %s", v->path, list);
	}
}
