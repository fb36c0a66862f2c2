/* SPDX-License-Identifier: MIT */
/*
 * What the supervisor removes or moves aside in directories the command
 * could write: a name the host would trust, moved to NAME.ringfence-blocked
 * and said (protect_move_aside()); and the owner's write and search given
 * back for the move where the command took them away (owner_unlock()).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protect_internal.h"

/*
 * A directory the command made unwritable to its owner (`chmod 555`:
 * seccomp refuses modes that give others write, not ones that take the
 * owner's away) would hold what it planted there against a supervisor
 * running as that same owner.  The owner may give itself write and search
 * back, which is done here for DIR (any descriptor, O_PATH too) when it is
 * ours, lacks them, and its mode changed during the run (a directory the
 * host made read-only before is left as it is: the command could not
 * write there without changing it).  Returns the mode to put back, or -1
 * when nothing was changed.  A root supervisor is never refused.
 */
int owner_unlock(const struct sandbox *sb, int dir)
{
	struct stat st;
	char proc[64];

	if (fstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWUSR | S_IXUSR)) == (S_IWUSR | S_IXUSR) ||
	    st.st_ctim.tv_sec < sb->started_at.tv_sec ||
	    (st.st_ctim.tv_sec == sb->started_at.tv_sec &&
	     st.st_ctim.tv_nsec < sb->started_at.tv_nsec))
		return -1;
	/* fchmod() refuses an O_PATH descriptor; its /proc link does not */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dir);
	if (chmod(proc, (st.st_mode & 07777) | S_IWUSR | S_IXUSR) < 0)
		return -1;
	return (int)(st.st_mode & 07777);
}

void owner_relock(int dir, int was)
{
	char proc[64];

	if (was < 0)
		return;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dir);
	(void)chmod(proc, (mode_t)was);
}

int owner_unlinkat(const struct sandbox *sb, int dir, const char *name, int flags)
{
	int r = unlinkat(dir, name, flags);

	if (r < 0 && errno == EACCES) {
		int was = owner_unlock(sb, dir);
		if (was >= 0) {
			r = unlinkat(dir, name, flags);
			int e = errno;
			owner_relock(dir, was);
			errno = e;
		}
	}
	return r;
}

int owner_renameat(const struct sandbox *sb, int from, const char *old, int to, const char *new,
		   unsigned flags)
{
	int r = renameat2(from, old, to, new, flags);

	if (r < 0 && errno == EACCES) {
		int was = owner_unlock(sb, from), was_to = to != from ? owner_unlock(sb, to) : -1;
		if (was >= 0 || was_to >= 0) {
			r = renameat2(from, old, to, new, flags);
			int e = errno;
			owner_relock(from, was);
			owner_relock(to, was_to);
			errno = e;
		}
	}
	return r;
}

/*
 * Moves the entry PATH aside to NAME.ringfence-blocked (never over an earlier
 * one, nor over names planted to make every try fail: the last tries are
 * random), reached by a walk that follows no symlink, and says so: one line
 * (unless MOVE_LIVE_QUIET) and an audit event (EVENT).  Returns
 * whether it was moved; -ENOENT when nothing is there.
 */
int protect_move_aside(const struct sandbox *sb, const char *path, const char *event,
		       enum move_when when)
{
	char name[NAME_MAX + 1], moved[NAME_MAX + 32];
	struct stat st;
	int dir = protect_split_parent(path, name, sizeof(name));
	bool ok = false;
	int err = 0;

	if (dir >= 0 && fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
		close(dir);
		return -ENOENT;
	}
	if (dir < 0)
		err = -dir;
	char suffix[32] = ".ringfence-blocked";
	for (int n = 0; dir >= 0 && n < 16 && !ok; n++) {
		unsigned r = 0;
		if (n > 0 && n < 8)
			snprintf(suffix, sizeof(suffix), ".ringfence-blocked.%d", n);
		else if (n >= 8 && getrandom(&r, sizeof(r), 0) == (ssize_t)sizeof(r))
			snprintf(suffix, sizeof(suffix), ".ringfence-blocked.%08x", r);
		/* a name near NAME_MAX is cut to leave room for the suffix:
		 * else every try fails and the entry stays where it is */
		size_t keep = strlen(name), room = NAME_MAX - strlen(suffix);
		snprintf(moved, sizeof(moved), "%.*s%s", (int)(keep < room ? keep : room), name,
			 suffix);
		ok = owner_renameat(sb, dir, name, dir, moved, RENAME_NOREPLACE) == 0;
		err = ok ? 0 : errno;
		if (!ok && errno == ENOENT) {
			close(dir);
			return -ENOENT; /* gone already (moved by a try before) */
		}
		if (!ok && errno != EEXIST)
			break;
	}
	if (dir >= 0)
		close(dir);
	if (ok && when != MOVE_LIVE_QUIET)
		warn("the sandbox created %s, which the host would trust: renamed to "
		     "*.ringfence-blocked%s; review it",
		     path, when == MOVE_AT_EXIT ? "" : " at once");
	else if (!ok)
		warn(
		    "the sandbox created %s, which the host would trust, and it could NOT be moved "
		    "aside (%s); review it before running tools here",
		    path, strerror(err));
	char js[PATH_MAX + 64];
	json_string(js, sizeof(js), path);
	audit_event(sb->audit_fd, event, "\"path\":%s,\"moved\":%s", js, ok ? "true" : "false");
	return ok;
}
