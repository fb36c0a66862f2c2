/* SPDX-License-Identifier: MIT */
/*
 * What the file trace (fstrace.c has the picture) does with a refusal: a
 * line in the audit log (fs.deny) and a count in groups of one access to
 * one path, which the summary at exit says.
 */
#include <limits.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fstrace_internal.h"

/* ---- the refusal, logged and counted ------------------------------------ */

#define FS_GROUPS_MAX 32

struct fstrace_group {
	enum fs_access access;
	char *path;
	enum fs_why why;
	const char *key;
	char *value;
	unsigned long count;
};

/* A table, one macro per call: kept as written. */
// clang-format off
static const char *call_name(int nr)
{
	switch (nr) {
#define C(n)           \
	case __NR_##n: \
		return #n;
		C(open) C(openat) C(openat2) C(creat) C(truncate) C(mkdir) C(mkdirat) C(mknod)
		C(mknodat) C(unlink) C(unlinkat) C(rmdir) C(rename) C(renameat) C(renameat2)
		C(link) C(linkat) C(symlink) C(symlinkat) C(execve) C(execveat) C(ioctl)
#undef C
	default:
		return "?";
	}
}
// clang-format on

/* Counted in ST's groups for the summary at exit. */
static void count(struct broker_stats *st, enum fs_access access, const char *path,
		  const struct fs_verdict *v, unsigned long times)
{
	st->fs_refused += times;
	for (size_t i = 0; i < st->n_fs_groups; i++) {
		struct fstrace_group *g = &st->fs_groups[i];
		if (g->access == access && strcmp(g->path, path) == 0) {
			g->count += times;
			return;
		}
	}
	if (st->n_fs_groups >= FS_GROUPS_MAX)
		return;
	struct fstrace_group *more = realloc(st->fs_groups, (st->n_fs_groups + 1) * sizeof(*more));
	if (!more)
		return;
	st->fs_groups = more;
	struct fstrace_group *g = &more[st->n_fs_groups];
	*g = (struct fstrace_group){.access = access,
				    .why = v->why,
				    .key = v->key,
				    .path = strdup(path),
				    .value = strdup(v->value),
				    .count = times};
	if (g->path && g->value) {
		st->n_fs_groups++;
	} else {
		free(g->path);
		free(g->value);
	}
}

void fstrace_count(struct broker_stats *st, enum fs_access access, const char *path,
		   unsigned long times)
{
	struct fs_verdict v = {.why = FS_WHY_KEPT};

	snprintf(v.value, sizeof(v.value), "%s", path);
	count(st, access, path, &v, times);
}

void ft_refused(const struct sandbox *sb, const struct seccomp_notif *req, struct broker_stats *st,
		enum fs_access access, const char *path, const struct fs_verdict *v)
{
	count(st, access, path, v, 1);
	if (!audit_rate_ok(sb->audit_fd))
		return;
	char jpath[PATH_MAX * 2], jexe[PATH_MAX * 2], jkey[64], jval[PATH_MAX * 2];
	char exe[PATH_MAX], proc[64];
	ssize_t n;
	snprintf(proc, sizeof(proc), "/proc/%d/exe", req->pid);
	n = readlink(proc, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	json_string(jpath, sizeof(jpath), path);
	json_string(jexe, sizeof(jexe), exe);
	if (v->key) {
		char k[32];
		snprintf(k, sizeof(k), "filesystem.%s", v->key);
		json_string(jkey, sizeof(jkey), k);
		json_string(jval, sizeof(jval), v->value);
	} else {
		snprintf(jkey, sizeof(jkey), "null");
		snprintf(jval, sizeof(jval), "null");
	}
	audit_event(sb->audit_fd, "fs.deny",
		    "\"access\":\"%s\",\"path\":%s,\"caller\":%u,\"exe\":%s,\"call\":\"%s\","
		    "\"key\":%s,\"value\":%s,\"reason\":\"%s\"",
		    fstrace_access_name(access), jpath, req->pid, jexe, call_name(req->data.nr),
		    jkey, jval,
		    v->why == FS_WHY_DENIED ? "denied by [filesystem] deny"
		    : v->why == FS_WHY_KEPT ? "kept out of the sandbox's reach by ringfence"
					    : "no grant covers it");
}

/* ---- the exit summary ----------------------------------------------------- */

#define FS_SUMMARY_SHOWN 5

/* PATH with the home shortened to ~. */
static void tilde(const char *path, const char *home, char *buf, size_t size)
{
	if (home && strcmp(home, "/") != 0 && landlock_path_beneath(path, home))
		snprintf(buf, size, "~%s", path + strlen(home));
	else
		snprintf(buf, size, "%s", path);
}

void fstrace_summary(const struct broker_stats *st, const char *home, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	if (!st->fs_refused)
		return;
	off += (size_t)snprintf(buf, size, "refused %lu file access%s: ", st->fs_refused,
				st->fs_refused == 1 ? "" : "es");
	for (size_t i = 0; i < st->n_fs_groups && i < FS_SUMMARY_SHOWN && off < size; i++) {
		const struct fstrace_group *g = &st->fs_groups[i];
		char path[PATH_MAX], value[PATH_MAX], advice[PATH_MAX + 64], times[32] = "";
		tilde(g->path, home, path, sizeof(path));
		tilde(g->value, home, value, sizeof(value));
		if (g->count > 1)
			snprintf(times, sizeof(times), " %lu times", g->count);
		if (g->why == FS_WHY_DENIED)
			snprintf(advice, sizeof(advice), "denied by [filesystem] deny");
		else if (g->why == FS_WHY_KEPT)
			snprintf(advice, sizeof(advice), "kept out of reach by ringfence");
		else if (strcmp(g->path, g->value) == 0)
			snprintf(advice, sizeof(advice), "add it to [filesystem] %s", g->key);
		else
			snprintf(advice, sizeof(advice), "add %s to [filesystem] %s", value,
				 g->key);
		off += (size_t)snprintf(buf + off, size - off, "%s%s %s%s (%s)", i ? ", " : "",
					fstrace_access_name(g->access), path, times, advice);
	}
	size_t shown = st->n_fs_groups < FS_SUMMARY_SHOWN ? st->n_fs_groups : FS_SUMMARY_SHOWN;
	unsigned long rest = st->fs_refused;
	for (size_t i = 0; i < shown; i++)
		rest -= st->fs_groups[i].count;
	if (rest && off < size)
		snprintf(buf + off, size - off, ", and %lu more (the audit log has each)", rest);
}

void fstrace_stats_free(struct broker_stats *st)
{
	for (size_t i = 0; i < st->n_fs_groups; i++) {
		free(st->fs_groups[i].path);
		free(st->fs_groups[i].value);
	}
	free(st->fs_groups);
	st->fs_groups = NULL;
	st->n_fs_groups = 0;
}
