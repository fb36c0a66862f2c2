/* SPDX-License-Identifier: MIT */
/*
 * State of the command's own: directories made before the grants
 * ([filesystem] create), and private, persistent stand-ins for files and
 * directories of the home ([filesystem] private, private_seed, private_env).
 *
 * The AI coding agents keep, in the home the host's own copy of the same
 * CLI reads, things that run later (MCP server lists, hooks, unpacked
 * runtimes).  Granting write there lets a sandboxed agent plant what the
 * unsandboxed CLI runs next; refusing it breaks the CLI.  A stand-in is the
 * third way: the sandbox sees at PATH a copy of its own, kept under
 * $XDG_STATE_HOME/ringfence/NAME/ (default ~/.local/state/ringfence/NAME/,
 * NAME the policy's), bound over PATH in the mount namespace, never written
 * back.  The state directory itself is masked (namespace) or carved out of
 * every grant (Landlock only), so nothing inside can reach another stand-in
 * or another policy's state except through its bind.
 *
 * Every path made here is made by walking from an anchor (the home or the
 * working directory) one component at a time with O_NOFOLLOW, so a symlink
 * planted anywhere on the way is refused, never followed; what is made is
 * the command's user's (fchown on the open fd, never by name), mode 0700
 * (0600 for an empty file).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "state_internal.h"

/* The directories nobody's state is made in as root, even when root's
 * working directory is one of them. */
/* arrays: supervisor/supervisor.h's sc_entry says why */
STRING_TABLE_BEGIN
static const char system_dirs[][24] = {
    "/bin",    "/boot", "/dev", "/etc",	 "/lib", "/lib32", "/lib64",
    "/libx32", "/proc", "/run", "/sbin", "/sys", "/usr",   "/var",
};
STRING_TABLE_END

/* Gives FD (made by us) to the command's user when we switch to one. */
int state_give(const struct sandbox *sb, int fd)
{
	if (sb->drop_to_user && fchownat(fd, "", sb->uid, sb->gid, AT_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/*
 * Opens the directory REL (relative, "" for DIR itself) beneath DIR, one
 * component at a time, never following a symlink; with CREATE, a missing
 * component is made 0700 and given to the command's user.  O_PATH fd in
 * *RET_FD, or -errno (-ELOOP or -ENOTDIR for a symlink on the way).
 */
static int walk(const struct sandbox *sb, int dir, const char *rel, bool create, int *ret_fd)
{
	char buf[PATH_MAX];
	int fd = fcntl(dir, F_DUPFD_CLOEXEC, 3);
	char *save = NULL;

	if (fd < 0)
		return -errno;
	if (snprintf(buf, sizeof(buf), "%s", rel) >= (int)sizeof(buf)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	for (char *comp = strtok_r(buf, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		bool made = false;
		int next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			/* only what we made is given away: one made meanwhile
			 * by someone else stays as it is */
			made = mkdirat(fd, comp, 0700) == 0;
			if (!made && errno != EEXIST) {
				int e = errno;
				close(fd);
				return -e;
			}
			next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		int e = errno;
		close(fd);
		if (next < 0)
			return e == ENOTDIR ? -ENOTDIR : -e;
		fd = next;
		if (made) {
			int r = state_give(sb, fd);
			if (r < 0) {
				close(fd);
				return r;
			}
		}
	}
	*ret_fd = fd;
	return 0;
}

static bool is_system_dir(const char *path)
{
	if (strcmp(path, "/") == 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(system_dirs); i++)
		if (path_beneath(path, system_dirs[i]))
			return true;
	return false;
}

_noreturn_ static void die_item(const struct policy_item *it, const char *key, const char *what,
				int err)
{
	die("%s:%u: filesystem.%s: '%s': %s%s%s", origin_file(&it->origin), it->origin.line, key,
	    it->value, what, err ? ": " : "", err ? strerror(err) : "");
}

/*
 * [filesystem] create: each path is made beneath its anchor, the home of
 * the command's user or the working directory (policy_expand has checked
 * it is strictly beneath one).  The anchor must be the command's user's
 * own directory, and as root neither is an anchor when it is a system
 * directory: ringfence makes state, not system files.
 */
static void create_dirs(struct sandbox *sb)
{
	const struct policy_list *l = &sb->policy->fs.create;

	for (size_t i = 0; i < l->n; i++) {
		const struct policy_item *it = &l->items[i];
		const char *anchor = NULL, *rel = NULL;
		_cleanup_close_ int afd = -1, fd = -1;
		struct stat st;
		int r;

		if (sb->home && (rel = path_beneath(it->value, sb->home)) && *rel &&
		    !(sb->uid == 0 && is_system_dir(sb->home)))
			anchor = sb->home;
		else if ((rel = path_beneath(it->value, sb->cwd)) && *rel &&
			 !(sb->uid == 0 && is_system_dir(sb->cwd)))
			anchor = sb->cwd;
		if (!anchor)
			die_item(it, "create",
				 "is not beneath the home directory or the working directory (as "
				 "root: one that is not a system directory)",
				 0);
		afd = open(anchor, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (afd < 0 || fstat(afd, &st) < 0)
			die("%s:%u: filesystem.create: '%s': %s: %s", origin_file(&it->origin),
			    it->origin.line, it->value, anchor, strerror(errno));
		if (st.st_uid != sb->uid)
			die("%s:%u: filesystem.create: '%s': %s is not uid %u's own (it is uid "
			    "%u's): nothing is made there",
			    origin_file(&it->origin), it->origin.line, it->value, anchor,
			    (unsigned)sb->uid, (unsigned)st.st_uid);
		r = walk(sb, afd, rel, true, &fd);
		if (r < 0)
			die_item(it, "create",
				 r == -ELOOP || r == -ENOTDIR
				     ? "a component is a symbolic link or not a directory"
				     : "cannot create",
				 r == -ELOOP || r == -ENOTDIR ? 0 : -r);
	}
}

/* ---- private stand-ins -------------------------------------------------- */

/* The policy's name: [sandbox] name, else the policy file's name without
 * .ini; "default" for the built-in one. */
static int state_name(const struct policy *p, char *buf, size_t size)
{
	const char *base;
	size_t n;

	if (p->name) {
		snprintf(buf, size, "%s", p->name);
		return 0;
	}
	if (!p->n_files || strcmp(p->files[0], POLICY_DEFAULT_NAME) == 0) {
		snprintf(buf, size, "default");
		return 0;
	}
	base = strrchr(p->files[0], '/');
	base = base ? base + 1 : p->files[0];
	n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".ini") == 0)
		n -= 4;
	if (n == 0 || n >= size || n > 64 || base[0] == '.')
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)base[i]) || base[i] == '.' || base[i] == '_' ||
		      base[i] == '-'))
			return -EINVAL;
	snprintf(buf, size, "%.*s", (int)n, base);
	return 0;
}

static bool listed(const struct policy_list *l, const char *path)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].value, path) == 0)
			return true;
	return false;
}

/* PS's names for IT: the path, beneath the home, canonical, in the state
 * directory; and the variable private_env points at it. */
static void standin_names(const struct sandbox *sb, const struct policy_item *it, const char *key,
			  struct private_standin *ps)
{
	const struct policy *p = sb->policy;

	ps->origin = it->origin;
	ps->rel = strdup(path_beneath(it->value, sb->home));
	ps->path = strdup(it->value);
	_cleanup_free_ char *chome = realpath(sb->home, NULL);
	if (!ps->rel || !ps->path || !chome ||
	    asprintf(&ps->canon, "%s/%s", strcmp(chome, "/") ? chome : "", ps->rel) < 0 ||
	    asprintf(&ps->standin, "%s/%s", sb->state_dir, ps->rel) < 0)
		die("out of memory");
	if (path_beneath(ps->path, sb->state_root) || path_beneath(sb->state_root, ps->path))
		die_item(it, key, "holds, or is inside, ringfence's state directory", 0);
	for (size_t i = 0; i < p->fs.private_env.n; i++) {
		const char *kv = p->fs.private_env.items[i].value;
		const char *eq = strchr(kv, '=');
		if (strcmp(eq + 1, ps->path) == 0 && !ps->env) {
			ps->env = strndup(kv, (size_t)(eq - kv));
			if (!ps->env)
				die("out of memory");
		}
	}
}

/* The stand-in found (ST): a file or directory, of PS's kind (its own when
 * neither the policy nor the host says one), the command's user's. */
static void check_found(const struct sandbox *sb, const struct policy_item *it, const char *key,
			struct private_standin *ps, const struct stat *st, bool host_exists)
{
	if (S_ISLNK(st->st_mode) || !(S_ISDIR(st->st_mode) || S_ISREG(st->st_mode)))
		die("%s:%u: filesystem.%s: the stand-in %s is not a file or directory "
		    "(a symbolic link is never followed): remove it",
		    origin_file(&it->origin), it->origin.line, key, ps->standin);
	if (!it->is_dir && !host_exists)
		ps->is_dir = S_ISDIR(st->st_mode);
	if (S_ISDIR(st->st_mode) != ps->is_dir)
		die("%s:%u: filesystem.%s: the stand-in %s is a %s, '%s' a %s",
		    origin_file(&it->origin), it->origin.line, key, ps->standin,
		    S_ISDIR(st->st_mode) ? "directory" : "file", it->value,
		    ps->is_dir ? "directory" : "file");
	if (st->st_uid != sb->uid)
		die("%s:%u: filesystem.%s: the stand-in %s is uid %u's, not uid %u's",
		    origin_file(&it->origin), it->origin.line, key, ps->standin,
		    (unsigned)st->st_uid, (unsigned)sb->uid);
}

static void add_standin(struct sandbox *sb, const struct policy_item *it, bool seed, int home_fd,
			int state_fd)
{
	const char *key = seed ? "private_seed" : "private";
	struct private_standin ps = {0};
	char parent[PATH_MAX], name[NAME_MAX + 1];
	_cleanup_close_ int pfd = -1, fd = -1;
	struct stat host, st;
	bool host_exists;
	int r;

	standin_names(sb, it, key, &ps);

	/* what kind of thing it is: the trailing '/' says directory; else
	 * the host's, else the stand-in's, else a file */
	r = fstatat(home_fd, ps.rel, &host, AT_SYMLINK_NOFOLLOW);
	host_exists = r == 0;
	if (host_exists && S_ISLNK(host.st_mode))
		die_item(it, key, "is a symbolic link (name what it points to)", 0);
	if (host_exists && !S_ISDIR(host.st_mode) && !S_ISREG(host.st_mode))
		die_item(it, key, "is not a file or directory", 0);
	if (host_exists && it->is_dir && !S_ISDIR(host.st_mode))
		die_item(it, key, "is written as a directory (trailing /) but is a file", 0);
	ps.is_dir = it->is_dir || (host_exists && S_ISDIR(host.st_mode));

	snprintf(parent, sizeof(parent), "%s", ps.rel);
	char *slash = strrchr(parent, '/');
	if (strlen(slash ? slash + 1 : parent) >= sizeof(name))
		die_item(it, key, "a component is too long", 0);
	memcpy(name, slash ? slash + 1 : parent, strlen(slash ? slash + 1 : parent) + 1);
	if (slash)
		*slash = '\0';
	else
		parent[0] = '\0';
	r = walk(sb, state_fd, parent, true, &pfd);
	if (r < 0)
		die("%s:%u: filesystem.%s: '%s': the stand-in's directory in %s: %s",
		    origin_file(&it->origin), it->origin.line, key, it->value, sb->state_dir,
		    r == -ELOOP || r == -ENOTDIR ? "a symbolic link or a file on the way"
						 : strerror(-r));
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		check_found(sb, it, key, &ps, &st, host_exists);
	} else if (errno == ENOENT) {
		r = state_make_standin(sb, &ps, pfd, name, home_fd, seed);
		if (r < 0)
			die("%s:%u: filesystem.%s: '%s': making its stand-in %s: %s",
			    origin_file(&it->origin), it->origin.line, key, it->value, ps.standin,
			    r == -ELOOP ? "the host's path has a symbolic link on the way"
					: strerror(-r));
	} else {
		die("%s: %s", ps.standin, strerror(errno));
	}
	fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		die("%s: %s", ps.standin, strerror(errno));
	ps.dev = st.st_dev;
	ps.ino = st.st_ino;

	struct private_standin *v = realloc(sb->privates, (sb->n_privates + 1) * sizeof(*v));
	if (!v)
		die("out of memory");
	sb->privates = v;
	v[sb->n_privates++] = ps;
}

/*
 * The state directory, NAME's directory in it and every stand-in, made
 * (or found) before the namespaces are chosen: they do not depend on them.
 * $XDG_STATE_HOME counts when it is beneath the home and the command runs
 * as the caller (another user's state is in that user's home).
 */
static void prepare_privates(struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	const struct policy_list *lists[] = {&p->fs.private_, &p->fs.private_seed};
	char name[80];
	const char *xdg = getenv("XDG_STATE_HOME");
	_cleanup_close_ int home_fd = -1, state_fd = -1;
	int r;

	if (!p->fs.private_.n && !p->fs.private_seed.n)
		return;
	if (!sb->home)
		die("filesystem.private: there is no home directory to keep state in");
	if (state_name(p, name, sizeof(name)) < 0)
		die("%s: the policy file's name cannot name a state directory: set [sandbox] "
		    "name = NAME",
		    p->files[0]);
	if (xdg && xdg[0] == '/' && !sb->drop_to_user && path_beneath(xdg, sb->home) &&
	    *path_beneath(xdg, sb->home) && !strstr(xdg, "/.") && !strstr(xdg, "//"))
		r = asprintf(&sb->state_root, "%s/ringfence", xdg);
	else
		r = asprintf(&sb->state_root, "%s/.local/state/ringfence", sb->home);
	if (r < 0 || asprintf(&sb->state_dir, "%s/%s", sb->state_root, name) < 0)
		die("out of memory");
	home_fd = open(sb->home, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (home_fd < 0)
		die("filesystem.private: the home directory %s: %s", sb->home, strerror(errno));
	/* as for create: state is made in the command's user's own home,
	 * never (as root) in a system directory that is some user's home */
	struct stat hst;
	if (fstat(home_fd, &hst) < 0 || hst.st_uid != sb->uid ||
	    (sb->uid == 0 && is_system_dir(sb->home)))
		die("filesystem.private: the home directory %s is not uid %u's own, or is a "
		    "system directory: no state is kept there",
		    sb->home, (unsigned)sb->uid);
	r = walk(sb, home_fd, path_beneath(sb->state_dir, sb->home), true, &state_fd);
	if (r < 0)
		die("filesystem.private: the state directory %s: %s", sb->state_dir,
		    r == -ELOOP || r == -ENOTDIR ? "a symbolic link or a file on the way (never "
						   "followed)"
						 : strerror(-r));
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
		for (size_t i = 0; i < lists[l]->n; i++) {
			const struct policy_item *it = &lists[l]->items[i];
			/* a path in both is seeded */
			if (l == 0 && listed(&p->fs.private_seed, it->value))
				continue;
			add_standin(sb, it, l == 1, home_fd, state_fd);
		}
}

void state_prepare(struct sandbox *sb)
{
	create_dirs(sb);
	prepare_privates(sb);
}

/* ---- per namespace mode ------------------------------------------------- */

static const struct sandbox *placeholder_owner;
static pid_t placeholder_pid;

static void placeholders_atexit(void)
{
	if (placeholder_owner && getpid() == placeholder_pid)
		state_remove_placeholders((struct sandbox *)placeholder_owner);
}

/*
 * A bind needs a mount point: a PATH the host does not have gets an empty
 * one (file 0600 or directory 0700, the user's, its missing parents made
 * as `create` makes them and left), removed when the sandbox ends if it is
 * still the empty thing we made.  The host's own copy of the CLI sees it
 * empty while the sandbox runs.
 */
static void make_mount_point(struct sandbox *sb, struct private_standin *ps)
{
	char parent[PATH_MAX];
	_cleanup_close_ int home_fd = -1, pfd = -1, fd = -1;
	struct stat st;
	const char *name;
	int r;

	home_fd = open(sb->home, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (home_fd < 0)
		die("%s: %s", sb->home, strerror(errno));
	snprintf(parent, sizeof(parent), "%s", ps->rel);
	char *slash = strrchr(parent, '/');
	name = slash ? ps->rel + (slash - parent) + 1 : ps->rel;
	if (slash)
		*slash = '\0';
	else
		parent[0] = '\0';
	r = walk(sb, home_fd, parent, true, &pfd);
	if (r == 0 && fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode) != ps->is_dir)
			die("filesystem.private: %s changed while the sandbox was being prepared",
			    ps->path);
		return; /* made since: the host's now */
	}
	if (r == 0 && ps->is_dir) {
		if (mkdirat(pfd, name, 0700) < 0)
			r = -errno;
		else
			fd = openat(pfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	} else if (r == 0) {
		fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	if (r == 0 && (fd < 0 || fstat(fd, &st) < 0))
		r = -errno;
	if (r == 0)
		r = state_give(sb, fd);
	if (r < 0)
		die("filesystem.private: cannot make a mount point at %s: %s", ps->path,
		    r == -ELOOP || r == -ENOTDIR ? "a symbolic link or a file on the way"
						 : strerror(-r));
	ps->placeholder = true;
	ps->pdev = st.st_dev;
	ps->pino = st.st_ino;
	if (!placeholder_owner) {
		placeholder_owner = sb;
		placeholder_pid = getpid();
		atexit(placeholders_atexit);
	}
}

void state_remove_placeholders(struct sandbox *sb)
{
	for (size_t i = 0; i < sb->n_privates; i++) {
		struct private_standin *ps = &sb->privates[i];
		char parent[PATH_MAX];
		_cleanup_close_ int home_fd = -1, pfd = -1;
		struct stat st;

		if (!ps->placeholder)
			continue;
		ps->placeholder = false;
		snprintf(parent, sizeof(parent), "%s", ps->rel);
		char *slash = strrchr(parent, '/');
		const char *name = slash ? ps->rel + (slash - parent) + 1 : ps->rel;
		if (slash)
			*slash = '\0';
		else
			parent[0] = '\0';
		home_fd = open(sb->home, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (home_fd < 0 || walk(sb, home_fd, parent, false, &pfd) < 0)
			continue;
		/* only the empty thing we made, never what replaced it */
		if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != ps->pdev ||
		    st.st_ino != ps->pino)
			continue;
		if (S_ISDIR(st.st_mode))
			(void)unlinkat(pfd, name, AT_REMOVEDIR);
		else if (S_ISREG(st.st_mode) && st.st_size == 0)
			(void)unlinkat(pfd, name, 0);
	}
}

/*
 * The stand-ins in the plan.  With a mount namespace: a write grant on
 * each PATH (init binds the stand-in there before the rules are opened, so
 * the rule is the stand-in's), a mount point where the host has none, and
 * the state directory masked.  Without one: each PATH out of reach (nothing
 * written there may reach the host's CLI, and the host's copy is not the
 * command's to read: Codex's auth.json holds the real key, which an outside
 * review read where it was only read-only), the state directory carved out
 * of every grant, and, for a PATH private_env names, the variable pointed at
 * the stand-in and a write grant on it added once planned
 * (state_plan_done); any other PATH refuses to start under strict.
 */
void state_plan(struct sandbox *sb, struct landlock_grant *grants, size_t *ng,
		struct landlock_carveout *co, size_t *nco)
{
	if (!sb->n_privates)
		return;
	if (sb->ns == NS_FULL) {
		for (size_t i = 0; i < sb->n_privates; i++) {
			struct private_standin *ps = &sb->privates[i];
			uint64_t rights = LANDLOCK_WRITE;
			if (access(ps->path, F_OK) < 0 && errno == ENOENT)
				make_mount_point(sb, ps);
			/* grants at or beneath PATH would be planned against the
			 * host's tree, not the stand-in's: their rights go to
			 * PATH as a whole (the stand-in is the sandbox's own) */
			for (size_t g = *ng; g-- > 0;)
				if (landlock_path_beneath(grants[g].path, ps->path)) {
					rights |= grants[g].access;
					grants[g] = grants[--(*ng)];
				}
			grants[(*ng)++] = (struct landlock_grant){ps->path, rights, true};
		}
		sandbox_add_mask(sb, sb->state_root, true, MASK_DENY);
		return;
	}
	co[(*nco)++] = (struct landlock_carveout){sb->state_root, 0, true, false};
	for (size_t i = 0; i < sb->n_privates; i++) {
		struct private_standin *ps = &sb->privates[i];
		co[(*nco)++] = (struct landlock_carveout){ps->path, 0, true, false};
		if (ps->env)
			continue;
		if (!sb->best_effort)
			die("%s:%u: filesystem.private: %s needs a mount namespace to put its "
			    "stand-in in place, and %s; give the CLI's variable with private_env = "
			    "VAR=%s, or set enforcement = best-effort to run with %s out of reach",
			    origin_file(&ps->origin), ps->origin.line, ps->path,
			    sb->policy->namespaces == POLICY_NS_OFF ? "[sandbox] namespaces = off"
								    : "there is none here",
			    ps->path, ps->path);
		warn("best-effort: no mount namespace: %s is out of reach, not private", ps->path);
	}
}

void state_plan_done(struct sandbox *sb)
{
	if (sb->ns != NS_NONE)
		return;
	for (size_t i = 0; i < sb->n_privates; i++) {
		struct private_standin *ps = &sb->privates[i];
		char *canon;
		if (!ps->env)
			continue;
		canon = realpath(ps->standin, NULL);
		if (!canon)
			die("%s: %s", ps->standin, strerror(errno));
		if (landlock_plan_add(&sb->plan, canon,
				      ps->is_dir ? LANDLOCK_WRITE
						 : LANDLOCK_WRITE & LANDLOCK_FILE_RIGHTS) < 0)
			die("out of memory");
		free(canon);
	}
}

bool state_is_private(const struct sandbox *sb, const char *path)
{
	for (size_t i = 0; i < sb->n_privates; i++)
		if (landlock_path_beneath(path, sb->privates[i].canon) ||
		    landlock_path_beneath(path, sb->privates[i].path))
			return true;
	return false;
}

void state_leave(struct sandbox *sb)
{
	state_remove_placeholders(sb);
	/* the exit handler must not look at SB again: it is on the stack of
	 * a run that has ended (learn -o goes on after it) */
	if (placeholder_owner == sb)
		placeholder_owner = NULL;
}

void state_release(struct sandbox *sb)
{
	state_leave(sb);
	for (size_t i = 0; i < sb->n_privates; i++) {
		free(sb->privates[i].path);
		free(sb->privates[i].rel);
		free(sb->privates[i].standin);
		free(sb->privates[i].canon);
		free(sb->privates[i].env);
	}
	free(sb->privates);
	sb->privates = NULL;
	sb->n_privates = 0;
	free(sb->state_root);
	free(sb->state_dir);
	sb->state_root = sb->state_dir = NULL;
}
