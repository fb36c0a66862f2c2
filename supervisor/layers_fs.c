/* SPDX-License-Identifier: MIT */
/*
 * The filesystem layer's plan (layers.c has the rest): the Landlock grants
 * and carve-outs (the policy's, what the caller's clients trusted, the
 * terminals, the private /tmp), protect's plan (protect.c), the deny paths
 * masked or carved out, the file and attribute gates, and the working
 * directory checked against all of it.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <linux/fs.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "../netproxy/netproxy.h"
#include "supervisor.h"

static void plan_note(void *ud, const char *path, const char *why)
{
	const struct sandbox *sb = ud;

	/* planned again after a fallback: the same paths were named once */
	if (!sb->replanning)
		note("%s %s", path, why);
}

/*
 * Terminals without a mount namespace (with one, init mounts a new devpts
 * instance instead): the host's /dev/pts holds every terminal of the user,
 * so reading one is reading what is typed in another window.  A grant on
 * /dev/pts itself becomes a grant on the command's own terminal(s), the
 * ones fds 0-2 are open on; a grant above /dev/pts (on /dev, on /) gets a
 * carve-out that removes /dev/pts, and then the own terminal stays
 * reachable through those fds and /dev/tty only.  TTYS holds the paths.
 * DETACHED (started in the terminal's background: runloop.c's
 * terminal_save()): none, the own terminal neither, which the command
 * would otherwise open again for reading by name or through
 * /proc/self/fd (an outside review).
 */
static void terminals_without_ns(struct landlock_grant *grants, size_t *ng, char ttys[3][64],
				 struct landlock_carveout *ret_co, bool *ret_carve, bool detached)
{
	size_t n = *ng, nt = 0;
	uint64_t access = 0;

	*ret_carve = false;
	for (int fd = 0; fd < 3 && !detached; fd++) {
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

bool grants_cover(const struct policy_list *l, const char *path)
{
	for (size_t i = 0; i < l->n; i++) {
		_cleanup_free_ char *c = realpath(l->items[i].value, NULL);
		if (landlock_path_beneath(path, c ? c : l->items[i].value))
			return true;
	}
	return false;
}

/* The deny paths resolved, each once per run (realpath reads every
 * component: four callers over every deny path and every PATH entry cost
 * ~0.8k readlink calls at start).  An entry is NULL for an absent path. */
char *const *sandbox_deny_canon(struct sandbox *sb)
{
	const struct policy_list *d = &sb->policy->fs.deny;

	if (!sb->deny_canon && d->n) {
		sb->deny_canon = calloc(d->n, sizeof(*sb->deny_canon));
		sb->deny_ids = calloc(d->n, sizeof(*sb->deny_ids));
		if (!sb->deny_canon || !sb->deny_ids)
			die("out of memory");
		/* the write grants resolved once (a grant through a link, /home
		 * on Fedora Atomic, a review found) */
		const struct policy_list *wl = &sb->policy->fs.write;
		char **w = calloc(wl->n + 1, sizeof(*w));
		if (!w)
			die("out of memory");
		for (size_t k = 0; k < wl->n; k++)
			w[k] = realpath(wl->items[k].value, NULL);
		for (size_t i = 0; i < d->n; i++) {
			const char *c = sb->deny_canon[i] = realpath(d->items[i].value, NULL);
			struct stat st;
			bool in_grant = false;
			for (size_t k = 0; c && k < wl->n && !in_grant; k++)
				in_grant = w[k] && landlock_path_beneath(c, w[k]);
			if (in_grant && lstat(c, &st) == 0 && S_ISREG(st.st_mode))
				sb->deny_ids[i] = (struct deny_id){st.st_dev, st.st_ino};
		}
		for (size_t k = 0; k < wl->n; k++)
			free(w[k]);
		free(w);
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
		terminals_without_ns(grants, ng, ttys, pts_co, pts_carve, sb->tty_detach);
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
			/* at or beneath a stand-in: the sandbox's own copy is
			 * there, the host's out of reach behind its bind (a
			 * default deny of an agent's sign-in would mask the
			 * sign-in the agent's own policy seeds) */
			bool own = false;
			for (size_t k = 0; k < sb->n_privates && !own; k++)
				own = landlock_path_beneath(c, sb->privates[k].path) ||
				      (sb->privates[k].canon &&
				       landlock_path_beneath(c, sb->privates[k].canon));
			if (!own && stat(c, &st) == 0)
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

#ifndef FS_CASEFOLD_FL
#define FS_CASEFOLD_FL 0x40000000 /* (Debian's headers are older) */
#endif

/* NAME with the case of its ASCII letters turned into OUT (SIZE); false
 * when it has none. */
static bool flip_case(const char *name, char *out, size_t size)
{
	bool any = false;
	size_t i = 0;

	for (; name[i] && i + 1 < size; i++) {
		unsigned char c = (unsigned char)name[i];
		any |= isalpha(c) != 0;
		out[i] = (char)(isupper(c) ? tolower(c) : islower(c) ? toupper(c) : c);
	}
	out[i] = '\0';
	return any && !name[i];
}

/* Whether the listing of the directory open as D holds NAME itself. */
static bool listed(DIR *d, const char *name)
{
	struct dirent *de;

	rewinddir(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, name) == 0)
			return true;
	return false;
}

/* Whether the directory DIR (canonical) is where names fold case: a
 * casefolded directory (ext4, tmpfs), or one whose entry is found by its
 * name with the case of its letters turned though the listing has no such
 * name (vfat, exFAT, NTFS, SMB, WSL's drive mounts; through FUSE each
 * spelling is an inode of its own), or whose own name is so found in its
 * parent.  Its entries' names then have more than one spelling, and the
 * gates, the watch and the checks at exit judge protected names by their
 * bytes (an outside review: .git/CONFIG written on exFAT, the host's git
 * then ran its fsmonitor). */
static bool folds_case(const char *dir)
{
	_cleanup_(closedirp) DIR *d = dir_stream_at(AT_FDCWD, dir, 0);
	struct dirent *de;
	struct stat st;
	char flip[NAME_MAX + 1];
	int flags = 0, n = 0;

	if (!d)
		return false;
	if (ioctl(dirfd(d), FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_CASEFOLD_FL))
		return true;
	while ((de = readdir(d)) && n++ < 64)
		if (flip_case(de->d_name, flip, sizeof(flip)))
			return fstatat(dirfd(d), flip, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			       !listed(d, flip);
	/* no entry to try (a grant of numbered directories: a review): a
	 * name made for the look, and looked up by its other case */
	char probe[64], other[64];
	unsigned long long r = 0;
	/* (random: a name planted beforehand would make the look fail) */
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (unsigned long long)getpid();
	snprintf(probe, sizeof(probe), ".ringfence-case-probe-%016llx", r);
	int fd =
	    openat(dirfd(d), probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	close(fd);
	bool folds = flip_case(probe, other, sizeof(other)) &&
		     fstatat(dirfd(d), other, &st, AT_SYMLINK_NOFOLLOW) == 0;
	(void)unlinkat(dirfd(d), probe, 0);
	return folds;
}

/* Whether a mount of TYPE (OPTS its options) folds case by its kind. */
static bool type_folds(const char *type, const char *opts)
{
	STRING_TABLE_BEGIN
	static const char kinds[][8] = {"vfat", "msdos", "exfat", "ntfs3",
					"cifs", "smb3",	 "smbfs", "drvfs"};
	STRING_TABLE_END

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strcmp(type, kinds[i]) == 0)
			return true;
	/* WSL's drive mounts: 9p with aname=drvfs */
	return strcmp(type, "9p") == 0 && strstr(opts, "aname=drvfs");
}

/* A mount point or path from mountinfo, its octal escapes (\040) undone,
 * in place. */
static void unescape_mount(char *s)
{
	char *o = s;

	for (char *c = s; *c; c++)
		if (c[0] == '\\' && c[1] >= '0' && c[1] <= '3' && c[2] >= '0' && c[2] <= '7' &&
		    c[3] >= '0' && c[3] <= '7') {
			*o++ = (char)((c[1] - '0') << 6 | (c[2] - '0') << 3 | (c[3] - '0'));
			c += 3;
		} else {
			*o++ = *c;
		}
	*o = '\0';
}

/* Whether the write grant DIR (canonical), or a mount beneath it (a
 * review: a stick mounted in the project), is where names fold case: by
 * the kind of the mount it is on or of each mount beneath it, else (FUSE
 * says no kind: exfat-fuse is "fuseblk") by a look at names there. */
static bool grant_folds(const char *dir, const char *mounts, size_t len)
{
	struct statfs sf;

	/* the mount the grant is on, by its kind (statfs: no reading of the
	 * mount table for it); FUSE and 9p (WSL's drvfs among them) by a
	 * look at names */
	if (statfs(dir, &sf) == 0) {
		switch ((unsigned long)sf.f_type) {
		case 0x4d44UL:	   /* vfat, msdos */
		case 0x2011bab0UL: /* exFAT */
		case 0x7366746eUL: /* NTFS3 */
		case 0x5346544eUL: /* NTFS */
		case 0xff534d42UL: /* CIFS */
		case 0xfe534d42UL: /* SMB2 */
		case 0x517bUL:	   /* SMB */
			return true;
		default:
			break;
		}
	}
	/* each mount beneath it (a review: a stick mounted in the project),
	 * of the lines that name the grant at all: most name none */
	for (const char *l = mounts; mounts && l < mounts + len; l += strlen(l) + 1) {
		char mnt[PATH_MAX], type[64], opts[1024];
		const char *sep = strcmp(dir, "/") == 0 || strstr(l, dir) ? strstr(l, " - ") : NULL;
		if (!sep || sscanf(l, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s %*s %1023s", type, opts) != 2)
			continue;
		unescape_mount(mnt);
		/* (landlock_path_beneath() takes / for what it is: a grant on
		 * / holds every other mount, a review) */
		if (landlock_path_beneath(mnt, dir) && strcmp(mnt, dir) != 0 &&
		    (type_folds(type, opts) || (strncmp(type, "fuse", 4) == 0 && folds_case(mnt))))
			return true;
	}
	/* and the grant's own names (FUSE's, drvfs's, a casefolded
	 * directory of ext4 or tmpfs by its flag) */
	return folds_case(dir);
}

/* The write grants on a file system that folds case: refused under
 * strict (the protected names' other spellings are not held), said under
 * best-effort. */
static void check_case_folding(struct sandbox *sb)
{
	const struct policy *p = sb->policy;

	/* the mounts, read once for every grant, in reads of 64 KiB (stdio's
	 * 1 KiB reads of the kernel's text made two grants' look 0.3 ms); by
	 * hand: libmount would bring itself and libblkid into the static
	 * binary for two fields of a line.  A table that cannot be read is
	 * mounts beneath the grants not looked at: refused under strict */
	_cleanup_free_ char *mounts = NULL;
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 0;
	ssize_t n = fd >= 0 ? 1 : -1;
	while (n > 0) {
		if (len + 1 >= cap) {
			char *m = realloc(mounts, cap += 64 << 10);
			if (!m)
				die("out of memory");
			mounts = m;
		}
		n = read(fd, mounts + len, cap - len - 1);
		if (n > 0)
			len += (size_t)n;
	}
	int err = n < 0 ? errno : ENODATA; /* (an empty table: none there is) */
	if (fd >= 0)
		close(fd);
	if ((n < 0 || len == 0) && p->fs.write.n) {
		if (!sb->best_effort)
			die("/proc/self/mountinfo: %s: the mounts beneath the write grants cannot "
			    "be "
			    "checked for names that fold case; set [sandbox] enforcement = "
			    "best-effort "
			    "to run without that check",
			    strerror(err));
		warn("best-effort: /proc/self/mountinfo: %s: mounts beneath the write grants are "
		     "not checked for names that fold case",
		     strerror(err));
		len = 0;
	}
	if (mounts) {
		mounts[len] = '\0';
		for (char *c = mounts; (c = strchr(c, '\n'));)
			*c++ = '\0';
	}
	for (size_t i = 0; i < p->fs.write.n; i++) {
		const struct policy_item *it = &p->fs.write.items[i];
		_cleanup_free_ char *c = realpath(it->value, NULL);
		struct stat st;
		if (!c || stat(c, &st) < 0 || !S_ISDIR(st.st_mode) || !grant_folds(c, mounts, len))
			continue;
		if (!sb->best_effort)
			die("%s:%u: filesystem.write: %s is on a file system that folds case "
			    "(.git/CONFIG is .git/config there): protected names would be reached "
			    "by another spelling; work on a case-sensitive file system, or set "
			    "[sandbox] enforcement = best-effort",
			    origin_file(&it->origin), it->origin.line, c);
		warn("best-effort: %s is on a file system that folds case: the protected names "
		     "in it are held by one spelling only, another reaches them",
		     c);
	}
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
		    !landlock_plan_allows(&sb->plan, sb->cwd, LL_FS_READ_DIR)) {
			/* (a credential's file is denied as one: named by its
			 * source's line and key) */
			const struct policy_item *it = &p->fs.deny.items[i];
			const char *key = "filesystem.deny";
			for (size_t k = 0; k < p->n_creds; k++)
				if (strncmp(p->creds[k].source, "file:", 5) == 0 &&
				    p->creds[k].source_origin.file == it->origin.file &&
				    p->creds[k].source_origin.line == it->origin.line)
					key = "credential.source";
			die("%s:%u: %s: %s lies beneath the working directory %s: "
			    "without a mount namespace Landlock cannot deny a path beneath a "
			    "directory the command may read (its rights are inherited); run with "
			    "namespaces, or start from a directory beside it",
			    origin_file(&it->origin), it->origin.line, key, c, sb->cwd);
		}
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

/* The filesystem layer: the parts that depend on whether a mount
 * namespace is used among them. */
void layers_prepare_fs(struct sandbox *sb)
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
	check_case_folding(sb);

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
