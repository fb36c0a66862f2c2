/* SPDX-License-Identifier: MIT */
/*
 * Everything decided before fork: who the command runs as, which namespaces,
 * the Landlock plan and ruleset, mount masks, the seccomp programs, the
 * environment.  Any problem ends here with one line and exit 125, so the
 * command never starts on a half-made sandbox.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../netproxy/netproxy.h"
#include "supervisor.h"

static void start_time(struct sandbox *sb);

const char *origin_file(const struct policy_origin *o)
{
	return o->file ? o->file : "command line";
}

void sandbox_add_mask(struct sandbox *sb, const char *path, bool is_dir, enum mask_kind kind)
{
	for (size_t i = 0; i < sb->n_masks; i++)
		if (strcmp(sb->masks[i].path, path) == 0) {
			/* deny wins over protect, read-only over a pin */
			if (kind == MASK_DENY)
				sb->masks[i].read_only_bind = sb->masks[i].pin = false;
			else if (kind == MASK_READ_ONLY)
				sb->masks[i].pin = false;
			return;
		}
	struct mount_mask *m = realloc(sb->masks, (sb->n_masks + 1) * sizeof(*m));
	if (!m)
		die("out of memory");
	sb->masks = m;
	m[sb->n_masks].path = strdup(path);
	if (!m[sb->n_masks].path)
		die("out of memory");
	m[sb->n_masks].is_dir = is_dir;
	m[sb->n_masks].read_only_bind = kind != MASK_DENY;
	m[sb->n_masks].pin = kind == MASK_PIN;
	sb->n_masks++;
}

static void plan_note(void *ud, const char *path, const char *why)
{
	const struct sandbox *sb = ud;

	/* planned again after a fallback: the same paths were named once */
	if (!sb->replanning)
		note("%s %s", path, why);
}

struct passwd *run_as_user_or_die(const struct policy *p)
{
	const char *run_as = p->process.run_as;
	char *end;
	unsigned long id = strtoul(run_as, &end, 10);
	struct passwd *pw = *end == '\0' ? getpwuid((uid_t)id) : getpwnam(run_as);

	if (!pw)
		die("%s:%u: process.run_as: unknown user '%s'",
		    origin_file(&p->process.run_as_origin), p->process.run_as_origin.line, run_as);
	return pw;
}

/* Identity: who the command runs as. */
static void prepare_identity(struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	const char *run_as = p->process.run_as;

	sb->outer_uid = getuid();
	sb->outer_gid = getgid();
	sb->started_as_root = geteuid() == 0;
	sb->uid = sb->outer_uid;
	sb->gid = sb->outer_gid;

	if (run_as) {
		struct passwd *pw = run_as_user_or_die(p);
		if (!sb->started_as_root) {
			if (pw->pw_uid != sb->outer_uid)
				die("%s:%u: process.run_as: switching to '%s' needs ringfence to "
				    "be "
				    "started as root",
				    origin_file(&p->process.run_as_origin),
				    p->process.run_as_origin.line, run_as);
		} else if (pw->pw_uid != 0) {
			int ng = 64;
			sb->drop_to_user = true;
			sb->uid = pw->pw_uid;
			sb->gid = pw->pw_gid;
			sb->groups = malloc((size_t)ng * sizeof(gid_t));
			if (!sb->groups)
				die("out of memory");
			if (getgrouplist(pw->pw_name, pw->pw_gid, sb->groups, &ng) < 0) {
				gid_t *g = realloc(sb->groups, (size_t)ng * sizeof(gid_t));
				if (!g)
					die("out of memory");
				sb->groups = g;
				if (getgrouplist(pw->pw_name, pw->pw_gid, sb->groups, &ng) < 0)
					die("cannot list the groups of '%s'", run_as);
			}
			sb->n_groups = ng;
		} else {
			sb->uid = 0;
			sb->gid = 0;
		}
	}
}

static void prepare_landlock_caps(struct sandbox *sb)
{
	int abi = landlock_probe_abi();
	uint64_t miss_fs, miss_scopes;
	uint64_t want_fs;

	if (abi < 0)
		die("cannot probe Landlock: %s", strerror(-abi));
	landlock_caps_for_abi(abi, &sb->ll);
	if (abi == 0) {
		if (!sb->best_effort)
			die("this kernel has no Landlock (needs Linux 5.13+ with landlock in the "
			    "lsm= "
			    "list): the filesystem cannot be restricted; set [sandbox] enforcement "
			    "= "
			    "best-effort to run without it");
		warn("best-effort: this kernel has no Landlock: the filesystem is NOT restricted");
		return;
	}
	want_fs = LANDLOCK_WRITE | LL_FS_EXECUTE | LL_FS_MAKE_CHAR | LL_FS_MAKE_BLOCK;
	landlock_missing(&sb->ll, want_fs, LANDLOCK_ALL_SCOPES, &miss_fs, &miss_scopes);
	if (miss_fs || miss_scopes) {
		char what[512] = "", names[256];
		landlock_fs_rights_format(miss_fs, names, sizeof(names));
		if (miss_fs)
			snprintf(what, sizeof(what), "rights %s", names);
		if (miss_scopes)
			snprintf(what + strlen(what), sizeof(what) - strlen(what),
				 "%sscopes for abstract Unix sockets and signals (ABI 6)",
				 miss_fs ? " and " : "");
		if (!sb->best_effort)
			die("Landlock ABI %d lacks %s: set [sandbox] enforcement = best-effort to "
			    "run "
			    "without them",
			    abi, what);
		warn("best-effort: Landlock ABI %d lacks %s: those are NOT restricted", abi, what);
	}
}

/*
 * Terminals without a mount namespace (with one, init mounts a new devpts
 * instance instead): the host's /dev/pts holds every terminal of the user,
 * so reading one is reading what is typed in another window.  A grant on
 * /dev/pts itself becomes a grant on the command's own terminal(s), the
 * ones fds 0-2 are open on; a grant above /dev/pts (on /dev, on /) gets a
 * carve-out that removes /dev/pts, and then the own terminal stays
 * reachable through those fds and /dev/tty only.  TTYS holds the paths.
 */
static void terminals_without_ns(struct landlock_grant *grants, size_t *ng, char ttys[3][64],
				 struct landlock_carveout *ret_co, bool *ret_carve)
{
	size_t n = *ng, nt = 0;
	uint64_t access = 0;

	*ret_carve = false;
	for (int fd = 0; fd < 3; fd++) {
		char buf[64];
		bool dup = false;
		if (ttyname_r(fd, buf, sizeof(buf)) != 0 ||
		    !landlock_path_beneath(buf, "/dev/pts") || strcmp(buf, "/dev/pts") == 0)
			continue;
		for (size_t j = 0; j < nt; j++)
			dup |= strcmp(ttys[j], buf) == 0;
		if (!dup)
			snprintf(ttys[nt++], sizeof(ttys[0]), "%s", buf);
	}
	/* backwards: a match is replaced by the last entry, already seen */
	for (size_t i = n; i-- > 0;) {
		const char *path = grants[i].path;
		if (strcmp(path, "/dev/pts") == 0 || strcmp(path, "/dev/pts/") == 0) {
			access |= grants[i].access;
			grants[i] = grants[--n];
		} else if (landlock_path_beneath("/dev/pts", path)) {
			*ret_carve = true;
		}
	}
	for (size_t t = 0; access && t < nt; t++)
		grants[n++] = (struct landlock_grant){ttys[t], access, false};
	*ng = n;
	*ret_co = (struct landlock_carveout){"/dev/pts", 0, false, false};
}

/* The deny paths resolved, each once per run (realpath reads every
 * component: four callers over every deny path and every PATH entry cost
 * ~0.8k readlink calls at start).  An entry is NULL for an absent path. */
char *const *sandbox_deny_canon(struct sandbox *sb)
{
	const struct policy_list *d = &sb->policy->fs.deny;

	if (!sb->deny_canon && d->n) {
		sb->deny_canon = calloc(d->n, sizeof(*sb->deny_canon));
		if (!sb->deny_canon)
			die("out of memory");
		for (size_t i = 0; i < d->n; i++)
			sb->deny_canon[i] = realpath(d->items[i].value, NULL);
	}
	return sb->deny_canon;
}

bool beneath_a_deny(struct sandbox *sb, const char *path)
{
	(void)sandbox_deny_canon(sb);
	return path_denied(sb, path);
}

bool path_denied(const struct sandbox *sb, const char *path)
{
	const struct policy_list *d = &sb->policy->fs.deny;

	for (size_t i = 0; i < d->n; i++) {
		/* resolved at start, else as written (absent at start) */
		const char *c = sb->deny_canon ? sb->deny_canon[i] : NULL;
		if (landlock_path_beneath(path, c ? c : d->items[i].value))
			return true;
	}
	return false;
}

/*
 * A PATH entry the command cannot execute from is skipped by execvp and
 * every shell without a word: a version manager's shims (pyenv, nvm, ...)
 * outside the exec grants would leave the command running another
 * interpreter found further down.  So each existing directory in the
 * command's PATH that Landlock will not let it execute from (or that a
 * deny masks) is named, in one line, once.
 */
static void warn_path_outside_exec(struct sandbox *sb)
{
	const char *path = NULL;
	char out[2048];
	size_t off = 0, n = 0;
	static bool warned; /* the plan is made again when namespaces fail */

	if (sb->ll.abi <= 0 || warned)
		return;
	for (char **e = sb->envp; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	if (!path)
		return;
	out[0] = '\0';
	for (const char *s = path; *s;) {
		size_t len = strcspn(s, ":");
		char entry[PATH_MAX];
		_cleanup_free_ char *real = NULL;
		bool denied = false;

		if (len > 0 && len < sizeof(entry) && s[0] == '/') {
			memcpy(entry, s, len);
			entry[len] = '\0';
			real = realpath(entry, NULL);
		}
		denied = real && beneath_a_deny(sb, real);
		bool named = false; /* PATH often holds an entry twice: name it once */
		for (const char *o = out; real && *o && !named;
		     o += strcspn(o, " "), o += *o == ' ')
			named = strncmp(o, entry, len) == 0 && (o[len] == ' ' || o[len] == '\0');
		if (real && !named &&
		    (denied || !landlock_plan_allows(&sb->plan, real, LL_FS_EXECUTE)) &&
		    off < sizeof(out)) {
			off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%s", n ? " " : "",
						entry);
			n++;
		}
		s += len;
		if (*s == ':')
			s++;
	}
	warned = n > 0;
	if (n)
		warn("PATH %s %s outside the exec grants: commands there cannot run, so another "
		     "of the same name further along PATH may (add %s to [filesystem] exec to use "
		     "%s)",
		     n == 1 ? "entry" : "entries", out, n == 1 ? "it" : "them",
		     n == 1 ? "it" : "them");
}

/*
 * A grant whose path is missing is skipped; said once on stderr (not only
 * at -v), as one line, since a CLI that finds its directory unwritable
 * dies far from the cause.  A path written `?PATH` is optional: no word.
 */
static void say_missing_grants(struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	const struct policy_list *lists[] = {&p->fs.read, &p->fs.exec, &p->fs.write};
	char line[1024] = "";
	size_t n = 0, len = 0;
	struct stat st;

	if (sb->missing_said)
		return;
	sb->missing_said = true;
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
		for (size_t i = 0; i < lists[l]->n; i++) {
			const struct policy_item *it = &lists[l]->items[i];
			bool dup = false;
			if (it->optional || it->required || lstat(it->value, &st) == 0 ||
			    errno != ENOENT)
				continue;
			/* a private path gets its mount point later (state.c) */
			if (sb->ns == NS_FULL && state_is_private(sb, it->value))
				continue;
			for (size_t m = 0; m <= l && !dup; m++)
				for (size_t j = 0; j < (m == l ? i : lists[m]->n) && !dup; j++)
					dup = strcmp(lists[m]->items[j].value, it->value) == 0;
			if (dup)
				continue;
			n++;
			if (len < sizeof(line) - 1) {
				int w = snprintf(line + len, sizeof(line) - len, " %s", it->value);
				len += w > 0 ? (size_t)w : 0;
				if (len >= sizeof(line) - 1)
					snprintf(line + sizeof(line) - 5, 5, " ...");
			}
		}
	if (n)
		warn("%zu grant%s skipped, the path does not exist:%s (write it ?PATH if it may "
		     "be missing, or make it with [filesystem] create)",
		     n, n == 1 ? "" : "s", line);
}

/* The parts that depend on whether a mount namespace is used. */
/* Without a mount namespace the private temporary directory is made by
 * init (so a supervisor killed during start-up cannot leave it behind);
 * its name is chosen here, for TMPDIR. */
static void name_private_tmp(struct sandbox *sb)
{
	static const char chars[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[12];
	char name[64] = "/tmp/ringfence.";
	size_t n = strlen(name);

	if (!sb->policy->fs.private_tmp || sb->ns != NS_NONE || sb->private_tmp_dir)
		return;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		die("getrandom: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(rnd); i++)
		name[n++] = chars[rnd[i] % (sizeof(chars) - 1)];
	name[n] = '\0';
	sb->private_tmp_dir = strdup(name);
	if (!sb->private_tmp_dir)
		die("out of memory");
}

/* The Landlock grants: the policy's, the CA bundle and wgetrc, what the
 * caller's clients trusted, the terminals without a mount namespace (TTYS
 * holds their names, *PTS_CO the devpts carve-out when *PTS_CARVE), the
 * private /tmp and /dev/shm with one; their number in *NG. */
static struct landlock_grant *collect_grants(struct sandbox *sb, size_t *ng, char ttys[3][64],
					     struct landlock_carveout *pts_co, bool *pts_carve)
{
	const struct policy *p = sb->policy;

	/* room for the CA bundle, a private /tmp and /dev/shm, and three terminals */
	struct landlock_grant *grants =
	    calloc(p->fs.read.n + p->fs.exec.n + p->fs.write.n + sb->n_privates +
		       sb->n_trust_files + sb->n_trust_dirs + 8,
		   sizeof(*grants));
	if (!grants)
		die("out of memory");
#define GRANTS(list, access)                                                                       \
	for (size_t i = 0; i < (list).n; i++)                                                      \
		grants[(*ng)++] = (struct landlock_grant){(list).items[i].value, (access),         \
							  (list).items[i].required};
	GRANTS(p->fs.read, LANDLOCK_READ);
	GRANTS(p->fs.exec, LANDLOCK_EXEC);
	GRANTS(p->fs.write, LANDLOCK_WRITE);
#undef GRANTS
	if (sb->ca_bundle)
		grants[(*ng)++] = (struct landlock_grant){sb->ca_bundle, LANDLOCK_READ, true};
	if (sb->wgetrc)
		grants[(*ng)++] = (struct landlock_grant){sb->wgetrc, LANDLOCK_READ, true};
	/* what the caller's clients trusted, readable where the variables
	 * still name it (without interception); a deny still wins */
	for (size_t i = 0; i < sb->n_trust_files + sb->n_trust_dirs; i++) {
		bool dir = i >= sb->n_trust_files;
		const char *path = dir ? sb->trust_dirs[i - sb->n_trust_files] : sb->trust_files[i];
		/* a deny still wins (and its mask would hide it anyway) */
		if ((!dir && sb->ca_bundle) || beneath_a_deny(sb, path))
			continue;
		/* a directory of certificates, not the home (or above it): a
		 * stray SSL_CERT_DIR must not open the whole home for reading */
		if (dir && sb->home && landlock_path_beneath(sb->home, path)) {
			warn("SSL_CERT_DIR names %s, which holds the home directory: not made "
			     "readable",
			     path);
			continue;
		}
		grants[(*ng)++] = (struct landlock_grant){path, LANDLOCK_READ, false};
	}
	if (sb->ns == NS_NONE)
		terminals_without_ns(grants, ng, ttys, pts_co, pts_carve);
	if (p->fs.private_tmp && sb->ns == NS_FULL) {
		/* fresh tmpfs mounts in the namespace */
		grants[(*ng)++] = (struct landlock_grant){"/tmp", LANDLOCK_WRITE, true};
		grants[(*ng)++] = (struct landlock_grant){"/dev/shm", LANDLOCK_WRITE, false};
	}
	return grants;
}

/* A `!`-required deny path must exist, as required grants must. */
static void check_required_denies(const struct policy *p)
{
	for (size_t i = 0; i < p->fs.deny.n; i++) {
		const struct policy_item *it = &p->fs.deny.items[i];
		if (it->required && access(it->value, F_OK) < 0)
			die("%s:%u: filesystem.deny: '%s': %s", origin_file(&it->origin),
			    it->origin.line, it->value, strerror(errno));
	}
}

/* The deny paths: masked with a mount namespace (and the crash journals'
 * directory), else carve-outs into *CO (with the devpts one, PTS_CO, when
 * PTS_CARVE); the stand-ins planned either way (state.c). */
static void plan_denies(struct sandbox *sb, struct landlock_grant *grants, size_t *ng,
			struct landlock_carveout **co, size_t *nco,
			const struct landlock_carveout *pts_co, bool pts_carve)
{
	const struct policy *p = sb->policy;

	char journal_dir[PATH_MAX];
	bool shield_journal = journal_shield(sb, journal_dir, sizeof(journal_dir));
	if (sb->ns == NS_FULL) {
		if (shield_journal)
			sandbox_add_mask(sb, journal_dir, true, MASK_DENY);
		state_plan(sb, grants, ng, NULL, NULL);
		for (size_t i = 0; i < p->fs.deny.n; i++) {
			const char *c = sandbox_deny_canon(sb)[i];
			struct stat st;
			if (!c) {
				if (!sb->replanning)
					note("%s does not exist: not masked (what the host makes "
					     "there during the run is not hidden)",
					     p->fs.deny.items[i].value);
				continue;
			}
			if (stat(c, &st) == 0)
				sandbox_add_mask(sb, c, S_ISDIR(st.st_mode), MASK_DENY);
		}
	} else {
		struct landlock_carveout *more =
		    realloc(*co, (*nco + p->fs.deny.n + sb->n_privates + 4) * sizeof(**co));
		if (!more)
			die("out of memory");
		*co = more;
		if (pts_carve)
			(*co)[(*nco)++] = *pts_co;
		for (size_t i = 0; i < p->fs.deny.n; i++)
			(*co)[(*nco)++] =
			    (struct landlock_carveout){p->fs.deny.items[i].value, 0, false, false};
		/* read-only, as protect (a deny would take from the
		 * directories on the way the right to be listed), unless the
		 * working directory is on the way: it would take no new
		 * entries.  Then journals made during the run are swept at
		 * exit instead (journal_sweep) */
		sb->journal_sweep = shield_journal && landlock_path_beneath(journal_dir, sb->cwd);
		if (shield_journal && !sb->journal_sweep)
			(*co)[(*nco)++] = (struct landlock_carveout){
			    journal_dir, LANDLOCK_READ_ONLY, true, false};
		state_plan(sb, grants, ng, *co, nco);
	}
}

/* landlock_plan() failed (R) at FAILED: one line naming the grant's file
 * and line when it is one of the policy's. */
_noreturn_ static void die_plan(const struct policy *p, int r, const char *failed)
{
	const struct policy_list *lists[] = {&p->fs.read, &p->fs.exec, &p->fs.write};
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
		for (size_t i = 0; i < lists[l]->n; i++)
			if (failed && strcmp(lists[l]->items[i].value, failed) == 0) {
				const struct policy_item *it = &lists[l]->items[i];
				die("%s:%u: filesystem: '%s' %s", origin_file(&it->origin),
				    it->origin.line, failed,
				    r == -ELOOP ? "is a symbolic link (required paths must not be)"
						: strerror(-r));
			}
	die("filesystem: '%s': %s", failed ? failed : "?", strerror(-r));
}

/* The file and attribute gates without namespaces (fsgate.c,
 * attrgate.c), where the kernel takes seccomp notifications; the pair
 * that hands the command's notification fd over. */
static void prepare_gates(struct sandbox *sb)
{
	/* without namespaces: new entries on the way to protected paths made
	 * by the supervisor, when it can take notifications (fsgate.c) */
	fsgate_prepare(sb);
	if (sb->fsgate && !sandbox_notify_net(sb)) {
		struct seccomp_notif_sizes sz;
		if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0 ||
		    seccomp_notify_trial() != 0) {
			note("no seccomp notifications: the directories on the way to protected "
			     "paths take no new entries");
			fsgate_free(sb);
		}
	}
	/* without namespaces: modes, owners, times and extended attributes
	 * changed by the supervisor, within the write grants (attrgate.c);
	 * with a mount namespace the read-only tree refuses them */
	if (sb->ns == NS_NONE) {
		struct seccomp_notif_sizes sz;
		sb->attrgate = true;
		/* under strict a listener the kernel refuses fails the start in
		 * the child (exit 125, saying why): the trial, a fork, only
		 * where there is something to fall back to */
		if (sb->best_effort && !sb->fsgate && !sandbox_notify_net(sb) &&
		    (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0 ||
		     seccomp_notify_trial() != 0)) {
			warn("best-effort: no seccomp notifications: the command may change the "
			     "modes, owners, times and extended attributes of files it owns "
			     "outside the write grants");
			sb->attrgate = false;
		}
	}
	if ((sb->fsgate || sb->attrgate) && sb->handoff[0] < 0 &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sb->handoff) < 0)
		die("socketpair: %s", strerror(errno));
}

/* The working directory against the plan and the deny paths. */
static void check_cwd(struct sandbox *sb)
{
	const struct policy *p = sb->policy;

	/* The working directory must be inside what the command may read.
	 * Without namespaces a deny beneath it takes that away: Landlock
	 * rights are inherited, so a directory the command may list would
	 * give the denied path beneath it the same right. */
	for (size_t i = 0; sb->ll.abi > 0 && sb->ns == NS_NONE && i < p->fs.deny.n; i++) {
		const char *c = sandbox_deny_canon(sb)[i];
		if (c && strcmp(c, sb->cwd) != 0 && landlock_path_beneath(c, sb->cwd) &&
		    !landlock_plan_allows(&sb->plan, sb->cwd, LL_FS_READ_DIR))
			die("%s:%u: filesystem.deny: %s lies beneath the working directory %s: "
			    "without a mount namespace Landlock cannot deny a path beneath a "
			    "directory the command may read (its rights are inherited); run with "
			    "namespaces, or start from a directory beside it",
			    origin_file(&p->fs.deny.items[i].origin),
			    p->fs.deny.items[i].origin.line, c, sb->cwd);
	}
	if (sb->ll.abi > 0 && !landlock_plan_allows(&sb->plan, sb->cwd, LL_FS_READ_DIR))
		die("the working directory %s is outside the policy's grants: start ringfence "
		    "from a granted directory or add it to [filesystem] read",
		    sb->cwd);
	for (size_t i = 0; i < p->fs.deny.n; i++) {
		const char *c = sandbox_deny_canon(sb)[i];
		if (c && landlock_path_beneath(sb->cwd, c))
			die("%s:%u: filesystem.deny: the working directory %s is denied",
			    origin_file(&p->fs.deny.items[i].origin),
			    p->fs.deny.items[i].origin.line, sb->cwd);
	}
}

static void prepare_fs(struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	struct landlock_grant *grants;
	struct landlock_carveout *co = NULL;
	size_t ng = 0, nco = 0;
	const char *failed;
	char ttys[3][64];
	struct landlock_carveout pts_co;
	bool pts_carve = false;
	int r;

	/* resolved now: the gates judge names by them while the run lasts
	 * (path_denied) */
	(void)sandbox_deny_canon(sb);
	name_private_tmp(sb);
	grants = collect_grants(sb, &ng, ttys, &pts_co, &pts_carve);
	check_required_denies(p);
	say_missing_grants(sb);
	protect_deny_placeholders(sb);
	protect_prepare(sb, &co, &nco);
	plan_denies(sb, grants, &ng, &co, &nco, &pts_co, pts_carve);

	r = landlock_plan(grants, ng, co, nco, plan_note, sb, &sb->plan, &failed);
	free(grants);
	free(co);
	protect_plan_done(sb);
	if (r == 0)
		state_plan_done(sb);
	if (r < 0)
		die_plan(p, r, failed);

	prepare_gates(sb);
	check_cwd(sb);

	/* mode = none without a network namespace: Landlock refuses TCP too;
	 * under the broker every connection is one the supervisor made, so
	 * the sandbox's own TCP connect and bind are refused as well */
	sb->deny_tcp = (p->net.mode == POLICY_NET_NONE && !sb->new_net_ns) ||
		       sb->iso == NET_ISO_BROKER ||
		       (p->net.mode == POLICY_NET_PROXY && sb->iso == NET_ISO_NONE);
	/* The ruleset itself is built by init, after the mounts: a fresh /proc
	 * and a private /tmp are new inodes that rules opened now would miss. */
	env_free(sb->envp);
	sb->envp = NULL;
	if (env_build(p, sb, environ, &sb->envp) < 0)
		die("out of memory");
	warn_path_outside_exec(sb);
}

/*
 * Pathname Unix sockets: Landlock (up to ABI 8) does not check a Unix
 * connect, so with unix_sockets = allow every connect(2) goes to the
 * supervisor, which connects only to sockets [network] unix_connect names
 * (and the sandbox's own, in its private temporary directory).  Without
 * seccomp user notifications, Unix sockets are refused rather than left
 * unmediated.
 */
static void prepare_unix(struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	const struct policy_list *l = &p->net.unix_connect;
	struct seccomp_notif_sizes sz;

	for (size_t i = 0; i < sb->n_unix_connect; i++)
		free(sb->unix_connect[i]);
	free(sb->unix_connect);
	sb->unix_connect = NULL;
	sb->n_unix_connect = 0;
	sb->unix_mediated = false;
	if (!p->syscalls.unix_sockets)
		return;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0) {
		if (!sb->best_effort)
			die("unix_sockets = allow needs seccomp user notifications (Linux 5.0+) to "
			    "mediate connect(2); set [syscalls] unix_sockets = deny");
		warn("best-effort: no seccomp user notifications: Unix sockets are refused");
		return;
	}
	sb->unix_mediated = true;
	sb->unix_connect = calloc(l->n + 1, sizeof(*sb->unix_connect));
	if (!sb->unix_connect)
		die("out of memory");
	for (size_t i = 0; i < l->n; i++) {
		int r = unixsock_canonical_pattern(l->items[i].value, &sb->unix_connect[i]);
		if (r < 0)
			die("%s:%u: network.unix_connect: '%s': %s",
			    origin_file(&l->items[i].origin), l->items[i].origin.line,
			    l->items[i].value, strerror(-r));
		sb->n_unix_connect++;
	}
	if (sb->handoff[0] < 0 &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sb->handoff) < 0)
		die("socketpair: %s", strerror(errno));
	/* without Landlock's abstract scope, abstract sockets are refused */
	if (!sb->new_net_ns && (sb->ll.scopes & LL_SCOPE_ABSTRACT_UNIX_SOCKET) &&
	    sb->abstract_relay[0] < 0 &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sb->abstract_relay) < 0)
		die("socketpair: %s", strerror(errno));
}

static void prepare_seccomp(struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	struct seccomp_opts o = {
	    /* inet sockets: in a private network namespace they reach nothing;
	     * without one, mode = none refuses them */
	    .allow_inet =
		p->net.mode == POLICY_NET_HOST || sb->new_net_ns || sb->iso == NET_ISO_BROKER,
	    .broker = sb->iso == NET_ISO_BROKER,
	    .allow_unix = sb->unix_mediated,
	    .kill = p->syscalls.action == POLICY_SYSCALL_KILL,
	    .extra_allow = &p->syscalls.allow,
	    .extra_deny = &p->syscalls.deny,
	    .allow_dangerous = p->syscalls.allow_dangerous,
	    /* without a PID namespace (NS_NONE, or no fresh /proc could
	     * be mounted) pid-taking calls reach the caller only */
	    .no_pid_ipc_ns = !sb->new_pid_ns,
	};
	const struct policy_item *bad;
	const char *why;
	int r;

	seccomp_prog_free(&sb->seccomp_deny);
	seccomp_prog_free(&sb->seccomp_allow);
	r = seccomp_build(&o, &sb->seccomp_deny, &sb->seccomp_allow, &bad, &why);
	if (r < 0 && bad)
		die("%s:%u: syscalls: '%s' %s", origin_file(&bad->origin), bad->origin.line,
		    bad->value, why);
	if (r == 0)
		r = seccomp_prefix_own_group(&sb->seccomp_deny, sb->gid, o.kill, o.extra_deny);
	if (r < 0)
		die("cannot build the seccomp filter: %s", strerror(-r));
}

/*
 * mode = proxy: the sandbox reaches the network only through the proxy.
 * A private network namespace when there is one (the listener is made in
 * it by init); else the connect broker, which needs seccomp user
 * notifications with ADDFD (Linux 5.9) and Landlock's TCP rules (ABI 4),
 * so that no connect(2) of the sandbox's own ever succeeds.
 */
static void prepare_network(struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	const char *why;

	sb->iso = NET_ISO_NONE;
	sb->new_net_ns = sb->ns == NS_FULL && p->net.mode == POLICY_NET_NONE;
	if (p->net.mode != POLICY_NET_PROXY)
		return;
	if (p->net.isolation == POLICY_ISOLATION_NAMESPACE && sb->ns == NS_NONE) {
		if (!sb->best_effort)
			die("[network] isolation = namespace: %s; use isolation = auto or broker",
			    p->namespaces == POLICY_NS_OFF ? "[sandbox] namespaces = off"
							   : "namespaces are not available here");
		warn(
		    "best-effort: [network] isolation = namespace is not available here: using the "
		    "connect broker");
	}
	sb->capture = !p->net.no_capture;
	if (sb->ns == NS_FULL && p->net.isolation != POLICY_ISOLATION_BROKER) {
		sb->iso = NET_ISO_NAMESPACE;
		sb->new_net_ns = true;
		sb->proxy_port = NETPROXY_NS_PORT;
		if (sb->capture) {
			/* a TCP connect out stops in the broker (and no Unix
			 * socket is mediated unless the policy says so) */
			struct seccomp_notif_sizes sz;
			if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0) {
				if (!sb->best_effort)
					die("[network] capture = on needs seccomp user "
					    "notifications "
					    "(Linux 5.0+); set capture = off");
				warn("best-effort: no seccomp user notifications: only clients "
				     "that use the proxy reach the network");
				sb->capture = false;
			}
		}
	} else {
		why = broker_unavailable(&sb->ll);
		if (why) {
			if (!sb->best_effort)
				die("[network] mode = proxy needs a network namespace or the "
				    "connect "
				    "broker, and %s; set enforcement = best-effort to run without "
				    "network",
				    why);
			warn("best-effort: %s: the sandbox gets NO network ([network] mode = none)",
			     why);
			sb->deny_tcp = true;
			sb->capture = false; /* nothing to capture to */
			return;
		}
		sb->iso = NET_ISO_BROKER;
		if (sb->broker_listen_fd < 0) {
			int fd = netproxy_listen_socket(0, &sb->proxy_port);
			if (fd < 0)
				die("cannot listen on 127.0.0.1 for the proxy: %s", strerror(-fd));
			sb->broker_listen_fd = fd;
		}
		if (sb->capture && sb->dns_listen_fd < 0) {
			int fd = netproxy_listen_socket(0, &sb->dns_port);
			if (fd < 0)
				die("cannot listen on 127.0.0.1 for the sandbox's DNS: %s",
				    strerror(-fd));
			sb->dns_listen_fd = fd;
		}
	}
	if (sb->handoff[0] < 0 &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sb->handoff) < 0)
		die("socketpair: %s", strerror(errno));
}

void sandbox_prepare(struct sandbox *sb, const struct policy *p, char **argv, const char *home)
{
	*sb = (struct sandbox){.policy = p,
			       .audit_fd = -1,
			       .argv = argv,
			       .broker_listen_fd = -1,
			       .dns_listen_fd = -1,
			       .handoff = {-1, -1},
			       .secret_fd = -1,
			       .abstract_relay = {-1, -1}};
	if (home) {
		sb->home = strdup(home);
		if (!sb->home)
			die("out of memory");
	}
	sb->best_effort = p->enforcement == POLICY_ENFORCE_BEST_EFFORT;
	start_time(sb);

	if (!getcwd(sb->cwd, sizeof(sb->cwd)))
		die("cannot read the working directory: %s", strerror(errno));

	prepare_identity(sb);
	/* before any grant is planned: what `create` makes is then there */
	state_prepare(sb);
	prepare_landlock_caps(sb);
	sb->ns = p->namespaces == POLICY_NS_OFF ? NS_NONE : NS_FULL;
	/* root tries plain namespaces first, then (run.c) with a user
	 * namespace: in a container without CAP_SYS_ADMIN only that works */
	sb->new_user_ns = sb->ns == NS_FULL && !sb->started_as_root;
	sb->new_pid_ns = sb->ns == NS_FULL;
	prepare_network(sb);
	prepare_unix(sb);
	prepare_seccomp(sb);
	/* the secrets and the CA bundle, which the filesystem rules grant */
	creds_prepare(sb);
	prepare_fs(sb);
}

/* After clone() with namespaces failed: re-plan for no namespaces. */
void sandbox_fallback_no_ns(struct sandbox *sb)
{
	landlock_plan_free(&sb->plan);
	for (size_t i = 0; i < sb->n_masks; i++)
		free(sb->masks[i].path);
	free(sb->masks);
	sb->masks = NULL;
	sb->n_masks = 0;
	sb->ns = NS_NONE;
	sb->replanning = true;
	/* nothing can be mounted over them now */
	protect_remove_placeholders(sb);
	state_remove_placeholders(sb);
	sb->new_user_ns = false;
	sb->new_pid_ns = false;
	sb->new_net_ns = false;
	prepare_network(sb);
	prepare_unix(sb);
	prepare_seccomp(sb);
	prepare_fs(sb);
}

/*
 * A fresh /proc was refused (a container runtime's masks over /proc are
 * locked mounts in a user namespace of ours, and the kernel refuses a proc
 * mount that would reveal what they cover).  Binding the outer /proc into a
 * new PID namespace would show processes the command cannot otherwise
 * name, so the PID namespace goes instead: /proc then shows exactly the
 * processes the command shares a namespace with, pid-taking calls are
 * limited to the caller by seccomp (as without namespaces) and Landlock's
 * scopes keep signals inside the sandbox.  Mount, network, IPC and user
 * namespaces stay.
 */
void sandbox_fallback_no_pid_ns(struct sandbox *sb)
{
	sb->new_pid_ns = false;
	prepare_seccomp(sb);
}

void sandbox_release(struct sandbox *sb)
{
	for (size_t i = 0; sb->deny_canon && i < sb->policy->fs.deny.n; i++)
		free(sb->deny_canon[i]);
	free(sb->deny_canon);
	sb->deny_canon = NULL;
	landlock_plan_free(&sb->plan);
	fsgate_free(sb);
	for (size_t i = 0; i < sb->n_masks; i++)
		free(sb->masks[i].path);
	free(sb->masks);
	seccomp_prog_free(&sb->seccomp_deny);
	seccomp_prog_free(&sb->seccomp_allow);
	seccomp_prog_free(&sb->seccomp_notify);
	env_free(sb->envp);
	creds_release(sb);
	for (size_t i = 0; i < sb->n_unix_connect; i++)
		free(sb->unix_connect[i]);
	free(sb->unix_connect);
	if (sb->broker_listen_fd >= 0)
		close(sb->broker_listen_fd);
	if (sb->dns_listen_fd >= 0)
		close(sb->dns_listen_fd);
	for (int i = 0; i < 2; i++) {
		if (sb->handoff[i] >= 0)
			close(sb->handoff[i]);
		if (sb->abstract_relay[i] >= 0)
			close(sb->abstract_relay[i]);
	}
	protect_remove_placeholders(sb);
	protect_release(sb);
	state_release(sb);
	free(sb->groups);
	free(sb->git_held);
	free(sb->home);
	if (sb->private_tmp_dir) {
		/* init removes it; this is for an init that was killed first
		 * (FTW_PHYS: a link in its place is removed, never followed) */
		(void)rm_rf(sb->private_tmp_dir);
		free(sb->private_tmp_dir);
	}
	*sb = (struct sandbox){.audit_fd = -1,
			       .broker_listen_fd = -1,
			       .dns_listen_fd = -1,
			       .handoff = {-1, -1},
			       .secret_fd = -1,
			       .abstract_relay = {-1, -1}};
}

/*
 * The start as file times go (started_born; started_at is the coarse
 * clock's, inclusive).  Those are the coarse clock's (a 4 ms tick
 * here), or finer under multigrain timestamps (Linux 6.13: a change to a
 * file whose times were just read is stamped with the fine clock, and no
 * later coarse stamp on any such file system is earlier than the last fine
 * one).  A file of our own (a memfd: tmpfs) read and touched gives such a
 * fine stamp: everything made before has an earlier time, everything made
 * after one no earlier, without waiting.  A kernel without them stamps it
 * coarse: the start is then the fine clock's, and the command is exec'd
 * once the coarse clock has passed it (child.c; at most a tick).
 */
static void start_time(struct sandbox *sb)
{
	struct timespec coarse;
	struct stat st;
	/* the tests take the other way on a kernel that has multigrain stamps */
	const char *coarse_only = getenv("RINGFENCE_TEST_COARSE_START");
	int fd = coarse_only ? -1 : (int)syscall(SYS_memfd_create, "ringfence-start", MFD_CLOEXEC);

	if (coarse_only && strcmp(coarse_only, "1") != 0)
		die("RINGFENCE_TEST_COARSE_START: '%s' is not 1", coarse_only);
	clock_gettime(CLOCK_REALTIME_COARSE, &coarse);
	sb->started_at = coarse;
	if (fd >= 0 && fstat(fd, &st) == 0 && futimens(fd, NULL) == 0 && fstat(fd, &st) == 0 &&
	    (st.st_ctim.tv_sec > coarse.tv_sec ||
	     (st.st_ctim.tv_sec == coarse.tv_sec && st.st_ctim.tv_nsec > coarse.tv_nsec))) {
		sb->started_born = st.st_ctim;
		sb->start_wait = false;
	} else {
		clock_gettime(CLOCK_REALTIME, &sb->started_born);
		sb->start_wait = true;
	}
	if (fd >= 0)
		close(fd);
}

/* Whether we have a controlling terminal (its job control then looks for
 * the command in our process group: init.c). */
static bool has_terminal(void)
{
	int fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

void sandbox_plan_make(struct sandbox *sb, struct sandbox_plan *ret)
{
	bool net = sandbox_notify_net(sb);
	int r;

	/* fds 0-2 reach the command; one open on a directory is a way into
	 * the host's mount tree beneath it, past the namespace's masks and
	 * read-only mounts (openat on it): a deny path there would read */
	for (int fd = 0; fd <= 2 && sb->ns == NS_FULL; fd++) {
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
			die("fd %d is a directory: the command would reach the host's files "
			    "beneath "
			    "it past the sandbox's mounts (deny masks, the read-only tree); give "
			    "it "
			    "a file, a pipe or a terminal",
			    fd);
	}

	/* with namespaces, where the end checks a repository's objects: a
	 * mode making one of them writable is the supervisor's to refuse
	 * (attrgate.c).  Asked for nothing else, the listener is optional:
	 * where the kernel refuses it (one above, as under WSL2) the end
	 * reads the time of every object instead (gitobj_end()) */
	bool needed = net || sb->trace || sb->fsgate || sb->attrgate;
	sb->modegate = sb->ns == NS_FULL && sb->n_githeads > 0;
	sb->objgate_live = false;
	if (sb->modegate && sb->handoff[0] < 0 &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sb->handoff) < 0)
		die("socketpair: %s", strerror(errno));
	seccomp_prog_free(&sb->seccomp_notify);
	if (needed || sb->modegate) {
		r = seccomp_notify_build(net, sb->trace, sb->fsgate != NULL, sb->attrgate,
					 sb->modegate, &sb->seccomp_notify);
		if (r < 0)
			die("the notification filter: %s", strerror(-r));
	}
	*ret = (struct sandbox_plan){
	    .started_as_root = sb->started_as_root,
	    .drop_to_user = sb->drop_to_user,
	    .uid = sb->uid,
	    .gid = sb->gid,
	    .groups = sb->groups,
	    .n_groups = sb->n_groups,
	    .outer_uid = sb->outer_uid,
	    .outer_gid = sb->outer_gid,
	    .ns = sb->ns,
	    .new_user_ns = sb->new_user_ns,
	    .new_pid_ns = sb->new_pid_ns,
	    .new_net_ns = sb->new_net_ns,
	    /* a PID namespace's init dies with the caller's group, and the
	     * kernel ends the namespace with it (init.c) */
	    .caller_pgrp = sb->ns == NS_FULL && sb->new_pid_ns ? 0 : getpgrp(),
	    .cmd_rejoins = has_terminal(),
	    .ll = sb->ll,
	    .fs = &sb->plan,
	    .deny_tcp = sb->deny_tcp,
	    .masks = sb->masks,
	    .n_masks = sb->n_masks,
	    .private_tmp = sb->policy->fs.private_tmp,
	    .private_tmp_dir = sb->private_tmp_dir,
	    .home = sb->home,
	    .standins = sb->privates,
	    .n_standins = sb->n_privates,
	    .gitview_paths = sb->gitview_paths,
	    .n_gitview_paths = sb->n_gitview_paths,
	    .unix_connect = sb->unix_connect,
	    .n_unix_connect = sb->n_unix_connect,
	    .cwd = sb->cwd,
	    .iso = sb->iso,
	    .proxy_port = sb->proxy_port,
	    .capture = sb->capture,
	    .seccomp_notify = sb->seccomp_notify,
	    .notify_what = net		  ? "connect broker's"
			   : sb->trace	  ? "--trace"
			   : sb->fsgate	  ? "file gate's"
			   : sb->attrgate ? "attribute gate's"
					  : "mode gate's",
	    .notify_optional = !needed,
	    .seccomp_deny = sb->seccomp_deny,
	    .seccomp_allow = sb->seccomp_allow,
	    .envp = sb->envp,
	    .argv = sb->argv,
	    .started_at = sb->started_born,
	    .start_wait = sb->start_wait,
	    .bundle_wait = sb->ca_bundle != NULL,
	};
	memcpy(ret->rlimits, sb->policy->process.rlimits, sizeof(ret->rlimits));
}
