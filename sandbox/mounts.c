/* SPDX-License-Identifier: MIT */
/*
 * The mount namespace, set up by init before the command is forked:
 *   1. every mount private, so nothing we do propagates back to the host;
 *   2. a fresh read-only /proc for the new PID namespace (where the kernel
 *      refuses one, the supervisor starts over without a PID namespace);
 *   2b. private stand-ins bound over their paths (planned by supervisor/state.c);
 *   3. a devpts instance of our own on /dev/pts, its ptmx on /dev/ptmx;
 *   4. private /tmp and /dev/shm (tmpfs) when private_tmp = yes;
 *   5. write grants that are not exec grants bound onto themselves noexec;
 *   5b. every other mount read-only (Landlock cannot refuse chmod, chown,
 *      utimensat or setxattr on what the command owns; a read-only mount does);
 *   6. directories on the way to `protect` and `deny` paths, and symbolic
 *      links on the way to `deny` paths, bound onto themselves (pinned: a
 *      mount point cannot be renamed or removed), then the protected paths
 *      themselves bound read-only (protect.c decides which);
 *   6b. the project's .git given a copy-on-write view (gitview.c), which
 *      replaces the protect binds beneath it;
 *   7. `deny` paths covered by an empty, read-only, mode-000 tmpfs entry;
 *   8. the working directory entered again, so it resolves through the masks.
 * Masks use the new mount API (fsopen/fsmount/open_tree/move_mount): one
 * detached tmpfs provides an empty directory and an empty file, and clones
 * of it are moved onto each denied path, so no staging path is ever visible;
 * the views of .git are directories of the same tmpfs (one superblock).
 * mount_setattr() only ever adds MOUNT_ATTR_RDONLY, keeping the nosuid/nodev
 * flags a user namespace must not clear.  Steps 5 and 5b are
 * mounts_grants.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "../common/rawsys.h"
#include "mounts_internal.h"

/* A detached tmpfs (nosuid, nodev, noexec) of at most SIZE bytes and
 * NR_INODES inodes (NULL: the defaults), its root of MODE: a mount fd, or
 * -errno. */
static int detached_tmpfs(const char *size, const char *nr_inodes, const char *mode)
{
	_cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);

	if (fs < 0)
		return -errno;
	if ((size && fsconfig(fs, FSCONFIG_SET_STRING, "size", size, 0) < 0) ||
	    (nr_inodes && fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", nr_inodes, 0) < 0) ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "mode", mode, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	int mnt =
	    fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	return mnt < 0 ? -errno : mnt;
}

static int set_readonly(int tree_fd)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};

	if (mount_setattr(tree_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return -errno;
	return 0;
}

/* A detached tmpfs holding an empty directory "d" and an empty file "f",
 * both mode 000; writable until the views of .git are made in it
 * (gitview.c), then read-only.  Capped to those two unless it holds views
 * (copies of the index). */
static int make_mask_source(bool views)
{
	_cleanup_close_ int fs = -1, mnt = -1, f = -1;

	mnt = detached_tmpfs(views ? NULL : "4k", views ? NULL : "4", "0");
	if (mnt < 0)
		return mnt;
	if (mkdirat(mnt, "d", 0) < 0)
		return -errno;
	f = openat(mnt, "f", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0);
	if (f < 0)
		return -errno;
	/* a file open for writing keeps the mount from turning read-only */
	close(steal_fd(&f));
	return steal_fd(&mnt);
}

static int place(int src_dir_fd, const char *src, const char *target)
{
	_cleanup_close_ int tree =
	    open_tree(src_dir_fd, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);

	if (tree < 0)
		return -errno;
	if (move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/*
 * Transparent capture: the command's resolver is ringfence's.  resolv.conf
 * names 127.0.0.1 (inside the network namespace the nameserver is there,
 * UDP and TCP; with the connect broker, a TCP connect to it is taken to
 * the proxy's, so the file asks for TCP: options use-vc) and no search
 * domains (each would be one more refused name); hosts has loopback and
 * this host's name only (a name of the host's own hosts file would
 * bypass the DNS that maps names to the proxy); nsswitch.conf is the
 * host's with hosts: files dns (no mdns, no resolved: they are reached by
 * other ways than DNS).  Files of a small read-only tmpfs are bound over
 * the host's (through a final symlink, as resolv.conf often is); one that
 * does not exist is left so: the resolver's default is 127.0.0.1 too.
 */
static int resolver_file(int dir, const char *name, const char *text, size_t n)
{
	_cleanup_close_ int fd = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	return write(fd, text, n) == (ssize_t)n ? 0 : -EIO;
}

static int resolver_nsswitch(int dir)
{
	/* read(2) into this frame, not stdio: a FILE and its buffer are heap
	 * blocks, and init writes nothing in the heap it shares with the
	 * supervisor since the fork (a page written is a copy of its own,
	 * per sandbox: sandbox/README.md) */
	char in[8192], out[8192];
	size_t n = 0, len = 0;
	bool hosts = false;
	int fd = open("/etc/nsswitch.conf", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		len = read_upto(fd, in, sizeof(in) - 1);
		close(fd);
	}
	in[len] = '\0';
	for (const char *line = in, *stop = in + len; line < stop;) {
		const char *nl = memchr(line, '\n', (size_t)(stop - line));
		size_t l = nl ? (size_t)(nl - line) + 1 : (size_t)(stop - line);
		/* a line the buffer cut: left out whole, as what follows it */
		if (!nl && len == sizeof(in) - 1)
			break;
		const char *p = line + strspn(line, " \t");
		if (n + l + 32 >= sizeof(out))
			break;
		if (strncmp(p, "hosts:", 6) == 0) {
			n += (size_t)snprintf(out + n, sizeof(out) - n, "hosts: files dns\n");
			hosts = true;
		} else {
			memcpy(out + n, line, l);
			n += l;
			if (!nl)
				out[n++] = '\n'; /* a last line without one */
		}
		line += l;
	}
	if (!hosts)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "hosts: files dns\n");
	return resolver_file(dir, "nsswitch.conf", out, n);
}

static int mount_resolver(const struct sandbox_plan *plan, const char **ret_path)
{
	static const char *const files[][2] = {{"resolv.conf", "/etc/resolv.conf"},
					       {"hosts", "/etc/hosts"},
					       {"nsswitch.conf", "/etc/nsswitch.conf"}};
	_cleanup_close_ int fs = -1, mnt = -1;
	char text[512], host[256] = "";
	int n, r;

	*ret_path = NULL;
	mnt = detached_tmpfs("64k", "8", "0755");
	if (mnt < 0)
		return mnt;
	n = snprintf(text, sizeof(text),
		     "# ringfence: names are answered from the policy ([network] allow)\n"
		     "nameserver 127.0.0.1\n%s",
		     plan->iso == NET_ISO_BROKER ? "options use-vc\n" : "");
	r = resolver_file(mnt, "resolv.conf", text, (size_t)n);
	if (r < 0)
		return r;
	(void)gethostname(host, sizeof(host) - 1);
	n = snprintf(text, sizeof(text),
		     "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s%s%s",
		     host[0] && strchr(host, '\n') == NULL ? "127.0.1.1\t" : "",
		     host[0] && strchr(host, '\n') == NULL ? host : "", host[0] ? "\n" : "");
	r = resolver_file(mnt, "hosts", text, (size_t)n);
	if (r < 0)
		return r;
	r = resolver_nsswitch(mnt);
	if (r < 0)
		return r;
	r = set_readonly(mnt);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_close_ int tree = -1;
		struct stat st;
		*ret_path = files[i][1];
		if (stat(files[i][1], &st) < 0 || !S_ISREG(st.st_mode))
			continue; /* absent (or a dangling link): the default */
		tree = open_tree(mnt, files[i][0], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (tree < 0)
			return -errno;
		if (move_mount(tree, "", AT_FDCWD, files[i][1],
			       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) < 0)
			return -errno;
	}
	*ret_path = NULL;
	return 0;
}

/*
 * The private stand-ins (planned by supervisor/state.c) bound over their
 * paths.  Both are opened beneath the home one component at a time, with
 * no symlink followed (the fds of the supervisor's namespace cannot be
 * cloned here), and the stand-in must be the very file made or found
 * before the namespace was (device and inode).
 */
static int mount_standins(const struct sandbox_plan *plan, const char **ret_path)
{
	_cleanup_close_ int home_fd = -1;

	if (!plan->n_standins)
		return 0;
	*ret_path = plan->home;
	home_fd = open(plan->home, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (home_fd < 0)
		return -errno;
	for (size_t i = 0; i < plan->n_standins; i++) {
		const struct private_standin *ps = &plan->standins[i];
		_cleanup_close_ int src = -1, dst = -1, tree = -1;
		const char *rel = path_beneath(ps->standin, plan->home);
		struct stat st, dt;

		*ret_path = ps->standin;
		if (!rel)
			return -EFAULT; /* never: state.c makes them beneath the home */
		src = open_beneath_nofollow(home_fd, rel, O_PATH);
		if (src < 0)
			return src;
		if (fstat(src, &st) < 0)
			return -errno;
		if (st.st_dev != ps->dev || st.st_ino != ps->ino)
			return -ESTALE;
		*ret_path = ps->path;
		dst = open_beneath_nofollow(home_fd, ps->rel, O_PATH);
		if (dst < 0)
			return dst;
		if (fstat(dst, &dt) < 0)
			return -errno;
		if (S_ISDIR(dt.st_mode) != S_ISDIR(st.st_mode))
			return S_ISDIR(st.st_mode) ? -ENOTDIR : -EISDIR;
		tree = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		if (tree < 0)
			return -errno;
		if (move_mount(tree, "", dst, "",
			       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			return -errno;
	}
	return 0;
}

/* PATH bound onto itself, read-only unless a pin: a mount point cannot be
 * renamed, removed or renamed over (EBUSY), whatever rights the directory
 * holding it gives (see protect.c). */
static int bind_self(const char *path, bool readonly)
{
	/* a final symlink is not followed, as move_mount() does not follow
	 * it either: a link on the way to a deny path is pinned itself */
	_cleanup_close_ int tree =
	    open_tree(AT_FDCWD, path,
		      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);
	int r;

	if (tree < 0)
		return -errno;
	r = readonly ? set_readonly(tree) : 0;
	if (r < 0)
		return r;
	if (move_mount(tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/* Whether a rule other than DIR's own grants writing at PATH. */
static bool writable_besides(const struct sandbox_plan *plan, const char *path, const char *dir)
{
	for (size_t i = 0; i < plan->fs->n; i++)
		if (strcmp(plan->fs->rules[i].path, dir) != 0 &&
		    landlock_path_beneath(path, plan->fs->rules[i].path) &&
		    (plan->fs->rules[i].access & LL_FS_WRITE_FILE))
			return true;
	return false;
}

/*
 * The fresh tmpfs on DIR, with KEEP[N] (outermost first) cloned before it
 * is mounted and moved onto it after.
 */
static int mount_carrying(const struct sandbox_plan *plan, const char *dir, const char *const *keep,
			  size_t n, const char **ret_path)
{
	int fds[64];
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		fds[i] = open_tree(AT_FDCWD, keep[i],
				   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
		/* the fresh directory is a write grant as a whole: what is
		 * carried into it read-only must be a read-only mount */
		r = fds[i] < 0				   ? -errno
		    : writable_besides(plan, keep[i], dir) ? 0
							   : set_readonly(fds[i]);
		if (r < 0) {
			*ret_path = keep[i];
			do
				if (fds[i] >= 0)
					close(fds[i]);
			while (i-- > 0);
			return r;
		}
	}
	*ret_path = dir;
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		r = -errno;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (r == 0 && fstat(fds[i], &st) < 0)
			r = -errno;
		if (r == 0) {
			char parent[4096];
			snprintf(parent, sizeof(parent), "%s", keep[i]);
			*strrchr(parent, '/') = '\0';
			r = mkdir_p(parent, 0755);
		}
		if (r == 0 && S_ISDIR(st.st_mode) && mkdir(keep[i], 0755) < 0 && errno != EEXIST)
			r = -errno;
		if (r == 0 && !S_ISDIR(st.st_mode)) {
			int f = open(keep[i], O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
			if (f < 0)
				r = -errno;
			else
				close(f);
		}
		if (r == 0 &&
		    move_mount(fds[i], "", AT_FDCWD, keep[i], MOVE_MOUNT_F_EMPTY_PATH) < 0)
			r = -errno;
		if (r < 0 && *ret_path == dir)
			*ret_path = keep[i];
		close(fds[i]);
	}
	return r;
}

/*
 * Mounts a fresh tmpfs on DIR.  What the policy grants beneath DIR (and the
 * working directory) is carried across with bind mounts, so the private
 * directory hides everything except what was granted.
 */
static int mount_private_tmp(const struct sandbox_plan *plan, const char *dir,
			     const char **ret_step, const char **ret_path)
{
	const char *keep[64];
	size_t n = 0;

	for (size_t i = 0; i <= plan->fs->n; i++) {
		const char *path = i < plan->fs->n ? plan->fs->rules[i].path : plan->cwd;
		bool covered = false;
		if (!landlock_path_beneath(path, dir) || strcmp(path, dir) == 0)
			continue;
		for (size_t j = 0; j < n; j++)
			covered |= landlock_path_beneath(path, keep[j]);
		/* a write grant beneath a carried path is carried on its own
		 * as well: the path above it may be carried read-only */
		if (covered && !(i < plan->fs->n && (plan->fs->rules[i].access & LL_FS_WRITE_FILE)))
			continue;
		if (n == ARRAY_SIZE(keep)) {
			/* refuse rather than hide a granted path without a word */
			*ret_step =
			    "carrying more than 64 granted paths into the private temporary "
			    "directory";
			*ret_path = path;
			return -E2BIG;
		}
		keep[n++] = path;
	}
	/* a socket unix_connect names exactly is carried too: a private /tmp
	 * must not hide the ssh-agent the policy lets the command use */
	for (size_t i = 0; i < plan->n_unix_connect && n < ARRAY_SIZE(keep); i++) {
		const char *path = plan->unix_connect[i];
		struct stat st;
		if (strpbrk(path, "*?[") || !landlock_path_beneath(path, dir) ||
		    stat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		keep[n++] = path;
	}
	/* outermost first, so that what lies beneath is mounted on top */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strlen(keep[j]) < strlen(keep[j - 1]); j--) {
			const char *t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	return mount_carrying(plan, dir, keep, n, ret_path);
}

/*
 * A devpts instance of the sandbox's own on /dev/pts, and its ptmx bound
 * over /dev/ptmx (bubblewrap does the same with a symlink in its own /dev):
 * the host's terminals (another window of the same user, where a password
 * is being typed) are no longer there to open, and a terminal the command
 * makes (script, tmux, an agent's TUI) is made in the new instance.  The
 * command's own terminal stays reachable through fds 0-2 and /dev/tty.
 * Grants on /dev/pts and /dev/ptmx are opened by init after this, so they
 * name the new instance.
 */
static int mount_own_devpts(const char **ret_path)
{
	struct stat st;
	_cleanup_close_ int ptmx = -1;

	*ret_path = "/dev/pts";
	if (stat("/dev/pts", &st) < 0 || !S_ISDIR(st.st_mode))
		return 0; /* no terminals to hide */
	if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0)
		return -errno;
	*ret_path = "/dev/ptmx";
	if (lstat("/dev/ptmx", &st) < 0 || S_ISLNK(st.st_mode))
		return 0; /* absent, or a link to pts/ptmx: already the new one */
	ptmx = open_tree(AT_FDCWD, "/dev/pts/ptmx", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (ptmx < 0)
		return -errno;
	if (move_mount(ptmx, "", AT_FDCWD, "/dev/ptmx", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/*
 * Steps 6b, 6 and 7, in that order: the views of .git and the masks, both
 * made from one detached tmpfs (the mask source), and the protect binds
 * between them.
 */
static int mount_views_and_masks(const struct sandbox_plan *plan, struct gitviews *views,
				 int *ret_masks, const char **ret_step, const char **ret_path)
{
	_cleanup_close_ int masks = -1;
	bool any_file = false;
	int r;

	/* after noexec, which the view's binds inherit (protect.c adds no
	 * masks beneath a view: every part of it is a mount point or
	 * private, so nothing in it can be moved or shadowed) */
	bool any_deny = false;
	for (size_t i = 0; i < plan->n_masks; i++)
		any_deny |= !plan->masks[i].read_only_bind;
	if (any_deny || plan->n_gitview_paths) {
		*ret_step = "making a tmpfs for masks and views";
		*ret_path = NULL;
		masks = make_mask_source(plan->n_gitview_paths > 0);
		if (masks < 0)
			return masks;
	}
	*ret_step = "giving the sandbox its own view of";
	r = gitview_setup(plan, masks, views, ret_path);
	if (r < 0)
		return r;
	*ret_step = "making the mask source read-only";
	if (masks >= 0 && (r = set_readonly(masks)) < 0)
		return r;

	for (size_t i = 0; i < plan->n_masks; i++) {
		if (!plan->masks[i].read_only_bind)
			continue;
		*ret_step =
		    plan->masks[i].pin
			? "pinning a directory or link on the way to a protected or denied path"
			: "protecting (read-only bind)";
		*ret_path = plan->masks[i].path;
		/* hidden by the private /tmp already: nothing to protect (a
		 * pinned link is there even when its target is not) */
		if (faccessat(AT_FDCWD, plan->masks[i].path, F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno == ENOENT)
			continue;
		r = bind_self(plan->masks[i].path, !plan->masks[i].pin);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < plan->n_masks; i++) {
		if (plan->masks[i].read_only_bind)
			continue;
		*ret_step = "masking a denied path";
		*ret_path = plan->masks[i].path;
		if (access(plan->masks[i].path, F_OK) < 0 && errno == ENOENT)
			continue; /* hidden by the private /tmp already */
		r = place(masks, plan->masks[i].is_dir ? "d" : "f", plan->masks[i].path);
		/* removed by the host since the plan found it: as one absent
		 * at start (SECURITY.md), nothing there to hide */
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		any_file |= !plan->masks[i].is_dir;
	}
	if (any_file)
		*ret_masks = steal_fd(&masks);
	return 0;
}

/*
 * A denied file's mask is a mount on its name, and the kernel removes a
 * mount whose mount point is renamed over or removed, in every namespace:
 * from the host's save of `.env` or passwd's of /etc/shadow on, the new
 * file would be readable through the grant above.  The supervisor watches
 * the denied files' directories and signals init when one of their names
 * is made there (SIG_REMASK); each that is there on its directory's own
 * mount (so not masked) is masked again.  A process opening the name in a
 * loop can still win the moment between the host's rename and this
 * (README, Known limits).  A link in its place is left: it leads where its
 * own grants say.  In init, after the command started: no heap.
 */
int mounts_remask(const struct sandbox_plan *plan, int masks, const char **ret_path)
{
	for (size_t i = 0; i < plan->n_masks; i++) {
		const struct mount_mask *m = &plan->masks[i];
		const char *slash = strrchr(m->path, '/');
		char dir[PATH_MAX];
		struct statx at, up;

		if (m->read_only_bind || m->is_dir || !slash)
			continue;
		snprintf(dir, sizeof(dir), "%.*s", slash == m->path ? 1 : (int)(slash - m->path),
			 m->path);
		if (statx(AT_FDCWD, m->path, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
			  STATX_TYPE | STATX_MNT_ID, &at) < 0 ||
		    statx(AT_FDCWD, dir, AT_NO_AUTOMOUNT, STATX_MNT_ID, &up) < 0)
			continue; /* gone (or a private /tmp's): nothing to hide */
		if (at.stx_mnt_id != up.stx_mnt_id || S_ISLNK(at.stx_mode))
			continue;
		*ret_path = m->path;
		int r = place(masks, S_ISDIR(at.stx_mode) ? "d" : "f", m->path);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	return 0;
}

const char mounts_step_proc[] = "mounting a fresh /proc";

int mounts_setup(const struct sandbox_plan *plan, struct gitviews *views, int *ret_masks,
		 const char **ret_step, const char **ret_path)
{
	int r;

	*ret_masks = -1;
	*ret_path = NULL;
	*ret_step = "making mounts private";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;

	/* Without a PID namespace the /proc there is already the right one:
	 * it shows the processes the command can see. */
	*ret_step = mounts_step_proc;
	*ret_path = "/proc";
	if (plan->new_pid_ns &&
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) < 0)
		return -errno;

	/* first: a private /tmp carries them across, noexec covers them */
	*ret_step = "binding a private stand-in";
	r = mount_standins(plan, ret_path);
	if (r < 0)
		return r;

	*ret_step = "mounting a devpts instance of the sandbox's own";
	r = mount_own_devpts(ret_path);
	if (r < 0)
		return r;

	if (plan->capture) {
		*ret_step = "giving the sandbox ringfence's resolver";
		r = mount_resolver(plan, ret_path);
		if (r < 0)
			return r;
	}

	if (plan->private_tmp) {
		*ret_step = "mounting a private temporary directory";
		r = mount_private_tmp(plan, "/tmp", ret_step, ret_path);
		if (r < 0)
			return r;
		if (access("/dev/shm", F_OK) == 0) {
			r = mount_private_tmp(plan, "/dev/shm", ret_step, ret_path);
			if (r < 0)
				return r;
		}
	}

	*ret_step = "mounting a write grant noexec";
	r = mount_writes_noexec(plan, ret_path);
	if (r < 0)
		return r;

	*ret_step = "making all but the write grants read-only";
	r = mount_rest_readonly(plan, ret_path);
	if (r < 0)
		return r;

	r = mount_views_and_masks(plan, views, ret_masks, ret_step, ret_path);
	if (r < 0)
		return r;

	*ret_step = "entering the working directory again";
	*ret_path = plan->cwd;
	if (chdir(plan->cwd) < 0)
		return -errno;
	*ret_path = NULL;
	return 0;
}

/* Direct system calls where there are (common/rawsys.h): the supervisor's
 * child that makes the network namespace beforehand (supervisor/run.c)
 * shares its memory, and may not set errno. */
int net_loopback_up(void)
{
	struct ifreq ifr = {0};

	memcpy(ifr.ifr_name, "lo", sizeof("lo"));
#ifdef RAWSYS
	long fd = rawsys3(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return (int)fd;
	r = rawsys3(SYS_ioctl, fd, SIOCGIFFLAGS, (long)&ifr);
	if (r == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		r = rawsys3(SYS_ioctl, fd, SIOCSIFFLAGS, (long)&ifr);
	}
	rawsys3(SYS_close, fd, 0, 0);
	return (int)r;
#else
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return -errno;
	return 0;
#endif
}
