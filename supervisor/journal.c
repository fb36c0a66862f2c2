/* SPDX-License-Identifier: MIT */
/*
 * A crash journal for the checks made when the sandbox has ended.
 *
 * Those checks (protect.c: absent built-in names moved aside, placeholders
 * removed; gitlinks.c: nested repositories) run in the supervisor.  When
 * it is killed (SIGKILL, the OOM killer) they never run (after a crash of
 * the machine too, when the journal reached the disk: it is not synced,
 * which would cost every start a disk flush), and what
 * the sandbox made in the last moment the watch (protwatch.c) had not
 * handled stays for the host.  So before the command starts, what the
 * checks cover is written to a file in ringfence's state directory
 * ($XDG_STATE_HOME/ringfence, or ~/.local/state/ringfence; 0700, ours),
 * locked with flock() by the supervisor (and init, which inherits it) for as
 * long as they live (made as new-*, locked and written, then renamed to
 * run-*, so that no start ever reads one not yet locked), and removed once
 * the checks were made.  Every start
 * first takes each journal whose lock is free (its supervisor is gone),
 * runs its checks, says so, and removes it.
 *
 * Each file: "ringfence-journal 1\0", then records of NUL-ended fields:
 *   "W" path                an absent built-in name (moved aside if made)
 *   "P" dev ino path        an empty placeholder directory to remove
 *   "G" path                a write grant whose gitlinks are checked
 *   "B" path                the CA bundle's directory in /tmp (certificates,
 *                           no key): its two files and it removed
 *   "U" uid                 the command's user (last: an older reader stops at it)
 *   "T" sec nsec            the run's start as file times go (started_born)
 *   "Y" stems path          a top Python imports from, and the standard
 *                           modules it held at the start (protect_python.c)
 * Without "U" and "T" (an older writer) the command's user is unknown and
 * the start is the journal's ctime, which moves on when a record is added
 * during the run.
 * "Since" is the journal's own ctime, which nobody can set back (or the
 * "T" record, when not later than it).  A state directory inside one of
 * the run's write grants is not written at all (said with -v; README).
 *
 * Where the journal lies says nothing of who wrote it: the sandbox runs as
 * our user, and a state directory the sandbox can reach (open to others,
 * made by hand; or a parent of it renamed away inside a write grant, the
 * mask moving with it, and a new one made: an outside review) took a
 * journal of its own that the next start carried out, renaming any path
 * it named.  So each journal has a witness the sandbox can neither make
 * nor change: a key in the user's kernel keyring (in a keyring of ours
 * there, witness_ring(); seccomp refuses the sandbox add_key and keyctl)
 * named after it, holding the file's device,
 * inode, a random key and the keyed hash (SipHash-2-4) of its content
 * under it, as written (not its change time: a write through a shared
 * mapping of a page already mapped writable changes none on tmpfs, a
 * review of the first form found; the key unknown, no content of the
 * sandbox's can be made to hash alike).  A start acts only on a journal
 * whose witness it finds and matches the bytes it read, and removes the
 * witness with it; any other is said and removed, not acted on.  Where
 * the keyring cannot be used (no CONFIG_KEYS, a container's seccomp
 * profile refusing add_key) no journal is written (said with -v).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/keyctl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gitobj.h"
#include "supervisor.h"

#define JOURNAL_MAGIC "ringfence-journal 1"
#define JOURNAL_MAX   (4u << 20)

/* The state directory's path in BUF; false when there is none. */
static bool state_dir(char *buf, size_t size)
{
	const char *x = getenv("XDG_STATE_HOME"), *h = getenv("HOME");

	if (x && x[0] == '/')
		return (size_t)snprintf(buf, size, "%s/ringfence", x) < size;
	if (!h || h[0] != '/') {
		struct passwd *pw = getpwuid(geteuid());
		h = pw ? pw->pw_dir : NULL;
	}
	return h && h[0] == '/' &&
	       (size_t)snprintf(buf, size, "%s/.local/state/ringfence", h) < size;
}

/* The state directory, opened following no symlink, ours and 0700;
 * made when CREATE.  -errno. */
static int open_state_dir(const char *path, bool create)
{
	struct stat st;
	int fd = protect_open_dir_nofollow(path);

	if (fd == -ENOENT && create) {
		int r = mkdir_p(path, 0700);
		if (r < 0)
			return r;
		fd = protect_open_dir_nofollow(path);
	}
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
		close(fd);
		return -EPERM; /* another's, or open to others: not trusted */
	}
	return fd;
}

/* The witness of a journal: the file ST describes, holding the N bytes
 * at BUF, hashed under KEY, in TEXT. */
static void witness_text(const struct stat *st, const unsigned char key[16], const char *buf,
			 size_t n, char *text, size_t size)
{
	char hex[33];

	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	snprintf(text, size, "%llu %llu %s %016llx", (unsigned long long)st->st_dev,
		 (unsigned long long)st->st_ino, hex, (unsigned long long)siphash24(key, buf, n));
}

static void witness_desc(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "ringfence:journal:%s", name);
}

/*
 * Where the witnesses are: a keyring of ours in the user's, replaced now
 * and then.  The kernel charges a keyring 4 bytes of its owner's key quota
 * for each link ever made in it and gives them back only when the keyring
 * itself goes (measured: 100 keys added to one and removed leave 400
 * bytes; the same keyring replaced, none), and an unprivileged user's keys
 * may take 20,000 bytes: witnesses put in the user keyring itself used the
 * quota up after ~5,000 runs while it lived (this suite's runs as nobody
 * did), and no run of that user had a crash journal.  So each witness goes
 * into WITNESS_RING, which a run replaces with a new one (the user
 * keyring's link to it replaced, not added) when it holds no witness (runs
 * one after another: each one), and else one run in WITNESS_TURN, the live
 * witnesses linked into the new one first.  Two starts replacing it at once may lose
 * a witness the other added meanwhile: that run's journal, should its
 * supervisor be killed, is then refused, said.
 */
#define WITNESS_RING "ringfence:journals"
#define WITNESS_TURN 64

/* The keys KEYRING holds, into IDS (at most N): their number. */
static size_t ring_keys(long keyring, int32_t *ids, size_t n)
{
	long r = syscall(SYS_keyctl, KEYCTL_READ, keyring, ids, n * sizeof(ids[0]));

	return r <= 0 ? 0 : (size_t)r / sizeof(ids[0]) < n ? (size_t)r / sizeof(ids[0]) : n;
}

/* The witnesses' keyring (a new one when ANEW, the old one's keys linked
 * into it), or -errno. */
static long witness_ring(bool anew)
{
	long old =
	    syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "keyring", WITNESS_RING, 0);

	int32_t ids[512];
	size_t n = old >= 0 ? ring_keys(old, ids, ARRAY_SIZE(ids)) : 0;
	if (old >= 0 && !anew && n)
		return old;
	/* made in this thread's keyring, the live witnesses linked into it,
	 * and only then put in the user keyring in the old one's place (the
	 * old one then goes, and the witnesses only it held with it: linked
	 * after, a live run's could be gone first) */
	long r = syscall(SYS_add_key, "keyring", WITNESS_RING, NULL, 0, KEY_SPEC_THREAD_KEYRING);
	if (r < 0)
		return old >= 0 ? old : -errno;
	for (size_t i = 0; i < n; i++)
		(void)syscall(SYS_keyctl, KEYCTL_LINK, ids[i], r);
	long l = syscall(SYS_keyctl, KEYCTL_LINK, r, KEY_SPEC_USER_KEYRING);
	int e = errno;
	(void)syscall(SYS_keyctl, KEYCTL_UNLINK, r, KEY_SPEC_THREAD_KEYRING);
	if (l < 0)
		return old >= 0 ? old : -e;
	return r;
}

/*
 * The witnesses of runs whose supervisor is gone, invalidated: a journal
 * nobody recovers (its state directory removed, the user never starting
 * again there) leaves its key, which takes quota too.  Only when the quota
 * is reached: a journal elsewhere (another XDG_STATE_HOME) whose supervisor
 * is gone then loses its witness, and is refused, said, when a start finds
 * it; so does one whose supervisor lives in another PID namespace of the
 * same user (it looks gone from here).  The supervisor's pid is in the
 * journal's name (run-PID-...).  In the ring and, from before it, in the
 * user keyring itself.
 */
static void witness_sweep(long ring)
{
	static const char pre[] = "ringfence:journal:run-";
	const long rings[] = {ring, KEY_SPEC_USER_KEYRING};

	for (size_t g = 0; g < ARRAY_SIZE(rings); g++) {
		int32_t ids[512];
		size_t n = rings[g] >= 0 || rings[g] == KEY_SPEC_USER_KEYRING
			       ? ring_keys(rings[g], ids, ARRAY_SIZE(ids))
			       : 0;
		for (size_t i = 0; i < n; i++) {
			char d[160] = "";
			long l = syscall(SYS_keyctl, KEYCTL_DESCRIBE, ids[i], d, sizeof(d) - 1);
			if (l <= 0)
				continue;
			d[l < (long)sizeof(d) ? l : (long)sizeof(d) - 1] = '\0';
			/* "type;uid;gid;perm;description" */
			const char *desc = d;
			for (int f = 0; f < 4 && desc; f++)
				desc = strchr(desc, ';') ? strchr(desc, ';') + 1 : NULL;
			if (!desc || strncmp(d, "user;", 5) != 0 ||
			    strncmp(desc, pre, sizeof(pre) - 1) != 0)
				continue;
			char *end;
			long pid = strtol(desc + sizeof(pre) - 1, &end, 10);
			if (pid > 0 && *end == '-' && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
				(void)syscall(SYS_keyctl, KEYCTL_INVALIDATE, ids[i]);
		}
	}
}

/* The witness of the journal NAME, open at FD and holding the N bytes at
 * BUF, made (or set anew): its key's serial, or -errno. */
static long witness_make(const char *name, int fd, const char *buf, size_t n)
{
	char desc[96], text[160];
	unsigned char key[16];
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
		return -EIO;
	witness_text(&st, key, buf, n, text, sizeof(text));
	witness_desc(name, desc, sizeof(desc));
	/* (the turn's draw: a byte of the random key is as good as any) */
	long ring = witness_ring(key[0] % WITNESS_TURN == 0);
	if (ring < 0)
		return ring;
	long k = syscall(SYS_add_key, "user", desc, text, strlen(text), ring);
	/* the quota reached: the gone runs' witnesses given up, the ring
	 * replaced, and a few tries while the kernel's collector frees them */
	if (k < 0 && errno == EDQUOT) {
		witness_sweep(ring);
		int e = EDQUOT;
		for (int t = 0; t < 10 && k < 0 && e == EDQUOT; t++) {
			(void)usleep(20000);
			if (t == 1)
				ring = witness_ring(true);
			k = ring < 0 ? -1
				     : syscall(SYS_add_key, "user", desc, text, strlen(text), ring);
			e = ring < 0 ? (int)-ring : errno;
		}
		errno = e;
	}
	return k < 0 ? -errno : k;
}

/* Whether the journal NAME, whose file ST describes and whose N bytes
 * read are at BUF, has its witness and it matches; the witness is removed
 * either way (a journal is acted on once). */
static bool witness_take(const char *name, const struct stat *st, const char *buf, size_t n)
{
	char desc[96], want[160], got[160];
	unsigned char key[16];
	unsigned long long dev, ino;
	long k, r;
	int at = 0;

	witness_desc(name, desc, sizeof(desc));
	k = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user", desc, 0);
	if (k < 0)
		return false;
	r = syscall(SYS_keyctl, KEYCTL_READ, k, got, sizeof(got) - 1);
	(void)syscall(SYS_keyctl, KEYCTL_INVALIDATE, k);
	if (r < 0 || r >= (long)sizeof(got))
		return false;
	got[r] = '\0';
	/* its key, to hash what was read with */
	if (sscanf(got, "%llu %llu %n", &dev, &ino, &at) != 2 || strlen(got + at) < 32)
		return false;
	for (int i = 0; i < 16; i++) {
		int h = hex_value(got[at + 2 * i]), l = hex_value(got[at + 2 * i + 1]);
		if (h < 0 || l < 0)
			return false;
		key[i] = (unsigned char)(h << 4 | l);
	}
	witness_text(st, key, buf, n, want, sizeof(want));
	return strcmp(got, want) == 0;
}

/* Calls FN for each entry of the state directory whose name starts with
 * one of PREFIXES (NULL-terminated). */
static void each_journal(const char *const *prefixes,
			 void (*fn)(int dir, const char *name, void *ud), void *ud)
{
	char path[PATH_MAX];
	struct dirent *de;

	if (!state_dir(path, sizeof(path)))
		return;
	int fd = open_state_dir(path, false);
	if (fd < 0)
		return;
	DIR *d = dir_stream_at(fd, ".", 0);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)))
		for (const char *const *p = prefixes; *p; p++)
			if (strncmp(de->d_name, *p, strlen(*p)) == 0) {
				fn(fd, de->d_name, ud);
				break;
			}
	closedir(d);
	close(fd);
}

/* The record at *P (before END): its kind, its fields in F (as many as the
 * kind has; the last is NULL when the journal ends first); *P moves past
 * it.  Returns the number of fields the kind has. */
static int next_record(char **p, const char *end, char **ret_kind, char *f[3])
{
	char *kind = *p;
	int nf = kind[0] == 'P' ? 3 : kind[0] == 'T' || kind[0] == 'Y' ? 2 : 1;

	f[0] = f[1] = f[2] = NULL;
	*p += strlen(*p) + 1;
	for (int i = 0; i < nf && *p < end; i++) {
		f[i] = *p;
		*p += strlen(*p) + 1;
	}
	*ret_kind = kind;
	return nf;
}

/* The "U" and "T" records between P and END, into SB (each only when
 * whole and sane; the start never later than the journal's ctime, which a
 * writer cannot set back). */
static void journal_identity(char *p, const char *end, struct sandbox *sb)
{
	while (p < end) {
		char *kind, *f[3];
		int nf = next_record(&p, end, &kind, f);
		if (p > end || !f[nf - 1])
			return;
		char *e;
		if (strcmp(kind, "U") == 0) {
			unsigned long u = strtoul(f[0], &e, 10);
			if (!*e && e != f[0] && u < (uid_t)-1)
				sb->uid = (uid_t)u;
		} else if (strcmp(kind, "T") == 0) {
			long long sec = strtoll(f[0], &e, 10);
			char *e2;
			long nsec = strtol(f[1], &e2, 10);
			struct timespec t = {.tv_sec = (time_t)sec, .tv_nsec = nsec};
			if (!*e && !*e2 && e != f[0] && e2 != f[1] && nsec >= 0 &&
			    nsec < 1000000000L &&
			    (t.tv_sec < sb->started_born.tv_sec ||
			     (t.tv_sec == sb->started_born.tv_sec &&
			      t.tv_nsec <= sb->started_born.tv_nsec))) {
				sb->started_born = t;
				/* the checks of what git runs count from a little
				 * before (inclusive, as the coarse start is live) */
				sb->started_at = t;
				sb->started_at.tv_nsec -= 10000000L;
				if (sb->started_at.tv_nsec < 0) {
					sb->started_at.tv_nsec += 1000000000L;
					sb->started_at.tv_sec--;
				}
			}
		}
	}
}

/* A killed run's CA bundle directory: only one of the name creds.c
 * makes, ours, reached following no link, and only the two files it
 * writes there (rmdir then removes nothing else). */
static void remove_bundle_dir(const char *path)
{
	static const char prefix[] = "/tmp/ringfence-ca.";
	const char *leaf = path + sizeof(prefix) - 1;
	struct stat st;

	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0 || strlen(leaf) != 6 ||
	    strchr(leaf, '/') || leaf[0] == '.')
		return;
	_cleanup_close_ int d = protect_open_dir_nofollow(path);
	if (d < 0 || fstat(d, &st) < 0 || st.st_uid != geteuid())
		return;
	(void)unlinkat(d, "ca-bundle.pem", 0);
	(void)unlinkat(d, "wgetrc", 0);
	(void)rmdir(path);
}

/* The records between P0 and END acted on, as TMP (the killed run). */
static void recover_records(struct sandbox *tmp, char *p0, char *end)
{
	for (char *p = p0; p < end;) {
		char *kind, *f[3];
		int nf = next_record(&p, end, &kind, f);
		if ((strcmp(kind, "U") == 0 || strcmp(kind, "T") == 0) && p <= end)
			continue;
		const char *path = f[nf - 1];
		if (!path || path[0] != '/' || strstr(path, "/../") || p > end)
			break;
		if (strcmp(kind, "W") == 0) {
			struct stat w;
			/* only what was made since that run started */
			if (lstat(path, &w) == 0 && gitobj_newer(&w, &tmp->started_at))
				(void)protect_move_aside(tmp, path, "protect.created",
							 MOVE_AT_EXIT);
		} else if (strcmp(kind, "P") == 0) {
			/* only the empty directory it made (its device and
			 * inode; rmdir removes no directory that holds anything) */
			struct protect_placeholder *ph = malloc(sizeof(*ph));
			if (ph && (ph->path = strdup(path))) {
				ph->dev = strtoull(f[0], NULL, 10);
				ph->ino = strtoull(f[1], NULL, 10);
				/* a live run may have taken it up since (protect.c):
				 * removed only if nobody holds its lock */
				ph->fd =
				    open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				tmp->placeholders = ph;
				tmp->n_placeholders = 1;
				protect_remove_placeholders(tmp);
			} else {
				free(ph);
			}
		} else if (strcmp(kind, "B") == 0) {
			remove_bundle_dir(path);
		} else if (strcmp(kind, "Y") == 0) {
			protect_python_recover(tmp, path, f[0]);
		} else if (strcmp(kind, "G") == 0) {
			/* the host's global hooks paths, as that start read them */
			if (!tmp->git_global_hooks)
				gitconfig_host_read(tmp);
			gitscan_grant(tmp, path);
			gitlinks_check_grant(tmp, path);
		} else {
			break;
		}
	}
}

static void recover_one(int dir, const char *name, int audit_fd)
{
	_cleanup_close_ int fd = openat(dir, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	char *buf;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid())
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return; /* its supervisor (or its init) still runs */
	if (fstat(fd, &st) < 0 || st.st_nlink == 0 || st.st_size > JOURNAL_MAX)
		return; /* recovered by another start meanwhile */
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return;
	n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n < (ssize_t)sizeof(JOURNAL_MAGIC) ||
	    memcmp(buf, JOURNAL_MAGIC, sizeof(JOURNAL_MAGIC))) {
		free(buf);
		(void)unlinkat(dir, name, 0);
		return;
	}
	buf[n] = '\0';
	if (!witness_take(name, &st, buf, (size_t)n)) {
		warn(
		    "%s in ringfence's state directory is no crash journal a supervisor wrote (its "
		    "witness in the user's keyring is missing or does not match: written by "
		    "another, or changed since): removed, not acted on",
		    name);
		free(buf);
		(void)unlinkat(dir, name, 0);
		return;
	}
	warn("an earlier run (%s) ended without its checks at exit (its supervisor was killed, "
	     "or stopped on an error while the command ran): checking now",
	     name);
	/* the command's user unknown unless the journal says it: gitscan.c
	 * then says no directory is another user's but one it may not change */
	struct sandbox tmp = {.audit_fd = audit_fd,
			      .started_at = st.st_ctim,
			      .started_born = st.st_ctim,
			      .uid = (uid_t)-1,
			      .recovering = true};
	char *end = buf + n;
	/* the command's user and the start, when the journal says them (its
	 * last records: read first, for the grants' walks above them) */
	journal_identity(buf + sizeof(JOURNAL_MAGIC), end, &tmp);
	recover_records(&tmp, buf + sizeof(JOURNAL_MAGIC), end);
	gitconfig_host_free(&tmp);
	free(buf);
	(void)unlinkat(dir, name, 0);
}

static void recover_entry(int dir, const char *name, void *ud)
{
	recover_one(dir, name, *(int *)ud);
}

void journal_recover(int audit_fd)
{
	each_journal((const char *const[]){"run-", NULL}, recover_entry, &audit_fd);
}

struct jbuf {
	char *p;
	size_t n, cap;
	bool bad;
};

static void jput(struct jbuf *b, const char *s)
{
	size_t l = strlen(s) + 1;

	if (b->bad)
		return;
	if (b->n + l > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->n + l)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->bad = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, l);
	b->n += l;
}

/* What the checks at exit cover, as records into B ("U" and "T" after the
 * rest but "Y": an older reader stops at "U", and at "Y") */
static void journal_records(const struct sandbox *sb, struct jbuf *b, const char *const *exit_paths,
			    size_t n_exit)
{
	char num[32];

	jput(b, JOURNAL_MAGIC);
	for (size_t i = 0; i < sb->n_watch; i++) {
		jput(b, "W");
		jput(b, sb->watch[i]);
	}
	for (size_t i = 0; i < n_exit; i++) {
		jput(b, "W"); /* git state the file gate let be made */
		jput(b, exit_paths[i]);
	}
	for (size_t i = 0; i < sb->n_placeholders; i++) {
		jput(b, "P");
		snprintf(num, sizeof(num), "%llu", (unsigned long long)sb->placeholders[i].dev);
		jput(b, num);
		snprintf(num, sizeof(num), "%llu", (unsigned long long)sb->placeholders[i].ino);
		jput(b, num);
		jput(b, sb->placeholders[i].path);
	}
	for (size_t i = 0; i < sb->n_prot_roots; i++) {
		jput(b, "G");
		jput(b, sb->prot_roots[i]);
	}
	if (sb->ca_bundle) {
		/* its directory: what a killed run leaves in /tmp */
		char bdir[PATH_MAX];
		const char *slash = strrchr(sb->ca_bundle, '/');
		if (slash && (size_t)(slash - sb->ca_bundle) < sizeof(bdir)) {
			snprintf(bdir, sizeof(bdir), "%.*s", (int)(slash - sb->ca_bundle),
				 sb->ca_bundle);
			jput(b, "B");
			jput(b, bdir);
		}
	}
	/* for the walk's judgement of modes and other users' entries */
	jput(b, "U");
	snprintf(num, sizeof(num), "%u", (unsigned)sb->uid);
	jput(b, num);
	jput(b, "T");
	snprintf(num, sizeof(num), "%lld", (long long)sb->started_born.tv_sec);
	jput(b, num);
	snprintf(num, sizeof(num), "%ld", sb->started_born.tv_nsec);
	jput(b, num);
	/* after them: an older reader stops at the first "Y" */
	for (size_t i = 0; i < sb->n_py_tops; i++) {
		char *stems = protect_python_stems(sb, sb->py_tops[i]);
		if (!stems) {
			b->bad = true;
			return;
		}
		jput(b, "Y");
		jput(b, stems);
		jput(b, sb->py_tops[i]);
		free(stems);
	}
}

/*
 * The journal directory, when a write grant covers it (started in the home,
 * `write = ~`, XDG_STATE_HOME in the project): made now and its canonical
 * path put in BUF, for planning to mask (or, without a mount namespace,
 * carve out), so that no command can write there.  A start acts on what it
 * finds there (journal_recover renames the paths a journal names): a
 * journal the sandbox could write would let it have any path renamed.
 */
bool journal_shield(const struct sandbox *sb, char *buf, size_t size)
{
	char path[PATH_MAX], proc[64];
	int dir;
	ssize_t n;

	if (!state_dir(path, sizeof(path)))
		return false;
	dir = open_state_dir(path, true);
	if (dir < 0)
		return false; /* nothing can be made there, by us or the sandbox */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dir);
	n = readlink(proc, buf, size - 1);
	close(dir);
	if (n <= 0 || (size_t)n >= size - 1)
		return false;
	buf[n] = '\0';
	for (size_t i = 0; i < sb->n_prot_roots; i++)
		if (landlock_path_beneath(buf, sb->prot_roots[i]))
			return true;
	return false;
}

static struct sandbox *journal_owner;
static pid_t journal_pid;

/* A start-up error (die()) before any init was made: the command never
 * ran, there is nothing for a later start to check.  After that the
 * journal stays, as when the supervisor is killed. */
static void journal_atexit(void)
{
	if (journal_owner && getpid() == journal_pid && !journal_owner->init_forked)
		journal_end(journal_owner);
}

void journal_begin(struct sandbox *sb)
{
	char path[PATH_MAX], name[64], tmpname[64];
	struct jbuf b = {0};
	unsigned r = 0;
	int dir, fd;

	journal_end(sb);
	size_t n_exit;
	const char *const *exit_paths = fsgate_exit_paths(sb, &n_exit);

	if (!sb->n_watch && !sb->n_placeholders && !sb->n_prot_roots && !n_exit && !sb->ca_bundle &&
	    !sb->n_py_tops)
		return;
	if (!state_dir(path, sizeof(path)))
		return;
	/* a command let make and change keys could forge a witness: this
	 * run's and any other's (an outside review) */
	for (size_t i = 0; i < sb->policy->syscalls.allow.n; i++) {
		const char *c = sb->policy->syscalls.allow.items[i].value;
		if (strcmp(c, "add_key") == 0 || strcmp(c, "keyctl") == 0 ||
		    strcmp(c, "request_key") == 0) {
			warn("[syscalls] allow = %s: the command may make and change keys in the "
			     "user's keyring, where the crash journals' witnesses are: no journal "
			     "for this run, and a later start may act on one it forged",
			     c);
			return;
		}
	}
	for (size_t i = 0; i < sb->n_prot_roots; i++)
		if (landlock_path_beneath(path, sb->prot_roots[i])) {
			/* the sandbox could write it: no journal to trust */
			note("%s is inside a write grant: no crash journal for this run", path);
			return;
		}
	dir = open_state_dir(path, true);
	if (dir < 0) {
		note("%s: %s: no crash journal for this run", path, strerror(-dir));
		return;
	}
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned)sb->started_at.tv_nsec; /* O_EXCL catches a clash */
	/* made under another name, locked and written, then renamed: a
	 * start recovering meanwhile never takes a journal not yet locked */
	snprintf(tmpname, sizeof(tmpname), "new-%d-%08x", (int)getpid(), r);
	snprintf(name, sizeof(name), "run-%d-%08x", (int)getpid(), r);
	fd = openat(dir, tmpname, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		note("%s/%s: %s: no crash journal for this run", path, tmpname, strerror(errno));
		if (fd >= 0) {
			(void)unlinkat(dir, tmpname, 0);
			close(fd);
		}
		close(dir);
		return;
	}
	journal_records(sb, &b, exit_paths, n_exit);
	long key = -1;
	if (b.bad || write_all(fd, b.p, b.n) < 0 ||
	    renameat2(dir, tmpname, dir, name, RENAME_NOREPLACE) < 0 ||
	    (key = witness_make(name, fd, b.p, b.n)) < 0 || !(sb->journal_name = strdup(name))) {
		if (key == -EDQUOT)
			/* said without -v: every later run of this user goes
			 * without one too, until the quota is raised */
			warn(
			    "the user's kernel key quota is used up (%s): this run has no crash "
			    "journal, the checks at exit of a killed supervisor's run are not made "
			    "by the next start; raise /proc/sys/kernel/keys/maxbytes",
			    strerror(EDQUOT));
		else if (key < -1)
			note("%s/%s: no witness in the user's keyring (add_key: %s): no crash "
			     "journal for this run",
			     path, name, strerror((int)-key));
		else
			note("%s/%s: cannot write: no crash journal for this run", path, name);
		if (key >= 0)
			(void)syscall(SYS_keyctl, KEYCTL_INVALIDATE, key);
		(void)unlinkat(dir, tmpname, 0);
		(void)unlinkat(dir, name, 0);
		close(fd);
	} else {
		sb->journal_key = key;
		sb->journal_fd = fd;
		if (!journal_owner) {
			journal_owner = sb;
			journal_pid = getpid();
			atexit(journal_atexit);
		}
	}
	free(b.p);
	close(dir);
}

void journal_end(struct sandbox *sb)
{
	char path[PATH_MAX];

	/* ended: the exit handler must not look at SB again (it may be a
	 * stack frame long gone by then) */
	if (journal_owner == sb)
		journal_owner = NULL;
	if (!sb->journal_name)
		return;
	(void)syscall(SYS_keyctl, KEYCTL_INVALIDATE, sb->journal_key);
	if (state_dir(path, sizeof(path))) {
		int dir = open_state_dir(path, false);
		if (dir >= 0) {
			(void)unlinkat(dir, sb->journal_name, 0);
			close(dir);
		}
	}
	close(sb->journal_fd);
	free(sb->journal_name);
	sb->journal_name = NULL;
}

static void sweep_entry(int dir, const char *name, void *ud)
{
	const struct sandbox *sb = ud;
	struct stat st;
	int j = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (j < 0) {
		/* not a file we can hold: it cannot be ours either */
		(void)unlinkat(dir, name, 0);
		return;
	}
	/* a live run holds its own locked; one made (or changed) during ours
	 * and held by nobody is the sandbox's */
	if (flock(j, LOCK_EX | LOCK_NB) == 0 && fstat(j, &st) == 0 &&
	    gitobj_newer(&st, &sb->started_at))
		(void)unlinkat(dir, name, 0);
	close(j);
}

void journal_sweep(const struct sandbox *sb)
{
	if (sb->journal_sweep)
		each_journal((const char *const[]){"run-", "new-", NULL}, sweep_entry, (void *)sb);
}
