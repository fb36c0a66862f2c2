/* SPDX-License-Identifier: MIT */
/*
 * [credential NAME]: the secrets come in here, before the sandbox starts,
 * and never go out except through the proxy.
 *
 * - A secret is read from the environment or a file into a mapping of its
 *   own that is never dumped, locked in memory where the limit allows, and
 *   wiped in every process forked from this one (MADV_WIPEONFORK, and
 *   cleared by hand in init as well, before anything else runs).  The
 *   proxy is given them only once init is forked (run.c), so the copies
 *   it makes are never in init's or the command's memory.
 * - An environment variable's bytes are overwritten where they are, so
 *   the secret is gone from /proc/PID/environ, not only from getenv().
 *   Any other variable holding the same secret is removed too.
 * - The command gets a placeholder: [A-Za-z0-9_], unique per run.
 * - HTTPS to the credentials' hosts is intercepted with a CA made for the
 *   run; the command trusts it through a bundle file, removed at exit,
 *   that holds the system's roots, what the caller's clients trusted (the
 *   files in its CA variables, SSL_CERT_DIR) and the CA; every CA variable
 *   points at it, and wget is given it through a wgetrc.
 * - The CA and the bundle's contents are made once init is forked
 *   (creds_finish), while init sets the sandbox up: OpenSSL's loading, its
 *   first key and the bundle take ~4-5 ms, about what the set-up takes on
 *   another CPU.  The bundle file exists (empty) before the fork, so the
 *   plan's Landlock rule and mounts name it; init starts the command only
 *   once the supervisor says it is written (a byte on the lifeline), and
 *   the CA's key was never in init's memory at all.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../netproxy/netproxy.h"
#include "supervisor.h"

#define SECRET_MAX 8192

/* The variables through which common clients take a CA bundle. */
const char *const ca_bundle_vars[] = {
    "SSL_CERT_FILE",			/* OpenSSL, Python's ssl, Go, Ruby, Deno's rustls-native */
    "NODE_EXTRA_CA_CERTS",		/* Node.js: added to its own roots */
    "REQUESTS_CA_BUNDLE",		/* Python requests */
    "CURL_CA_BUNDLE",			/* curl, pip's vendored requests */
    "GIT_SSL_CAINFO",			/* git */
    "PIP_CERT",				/* pip */
    "AWS_CA_BUNDLE",			/* AWS CLI and SDKs */
    "DENO_CERT",			/* Deno */
    "CARGO_HTTP_CAINFO",		/* cargo */
    "NPM_CONFIG_CAFILE",		/* npm */
    "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", /* gRPC */
    "HEX_CACERTS_PATH",			/* Elixir's hex */
};
const size_t ca_bundle_vars_n = ARRAY_SIZE(ca_bundle_vars);

/* Which process made the bundle: only it removes it (a forked child that
 * exits must not). */
static pid_t bundle_owner;
static char bundle_dir[64], bundle_file[96], wgetrc_file[96];
static int bundle_fd = -1; /* written by creds_finish() */

static void remove_bundle(void)
{
	if (bundle_owner != getpid() || !bundle_file[0])
		return;
	if (wgetrc_file[0])
		(void)unlink(wgetrc_file);
	wgetrc_file[0] = '\0';
	(void)unlink(bundle_file);
	(void)rmdir(bundle_dir);
	bundle_file[0] = '\0';
}

_noreturn_ _printf_(2, 3) static void die_cred(const struct policy_credential *pc, const char *fmt,
					       ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	die("%s:%u: [credential %s]: %s", origin_file(&pc->origin), pc->origin.line, pc->name, msg);
}

/* Whether the user the command runs as may change what is at PATH (ST):
 * owned; a directory writable through its group or by every user (in a
 * sticky one, such as /tmp, only its own entries, which are judged by
 * their owner in turn), or through an ACL, asked of the kernel with that
 * user's file system ids (a review found one mode bits missed). */
static bool user_may_change(const struct sandbox *sb, const char *path, const struct stat *st)
{
	bool group = st->st_gid == sb->gid;

	for (int i = 0; i < sb->n_groups && !group; i++)
		group = st->st_gid == sb->groups[i];
	if (st->st_uid == sb->uid)
		return true;
	if (!S_ISDIR(st->st_mode))
		return false;
	if (st->st_mode & S_ISVTX)
		return false;
	if ((group && (st->st_mode & S_IWGRP)) || (st->st_mode & S_IWOTH))
		return true;
	/* (setfsuid to another user drops the file system capabilities from
	 * the effective set, and gives them back when set to 0 again) */
	int ou = setfsuid(sb->uid), og = setfsgid(sb->gid);
	bool w = faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0;
	setfsgid((gid_t)og);
	setfsuid((uid_t)ou);
	return w;
}

/* Whether the canonical PATH lies beneath one of the policy's write grants
 * (what the sandbox may change while it runs). */
static bool under_write_grant(const struct sandbox *sb, const char *path)
{
	const struct policy *p = sb->policy;

	for (size_t i = 0; i < p->fs.write.n; i++) {
		_cleanup_free_ char *w = realpath(p->fs.write.items[i].value, NULL);
		if (w && landlock_path_beneath(path, w))
			return true;
	}
	/* the stand-ins of private paths, the sandbox's to write, live
	 * beneath ringfence's state directory (state.c) */
	_cleanup_free_ char *st = sb->state_root ? realpath(sb->state_root, NULL) : NULL;
	return st && landlock_path_beneath(path, st);
}

/* What a walk of a path (reaches_in()) looks for, each test or NULL: in
 * a directory a name is looked up in, in a link met on the way, at the
 * end. */
struct reach_test {
	bool (*dir)(const struct sandbox *sb, const char *path);
	bool (*link)(const struct sandbox *sb, const char *path, const struct stat *st);
	bool (*end)(const struct sandbox *sb, const char *path);
};

/* Whether resolving PATH a component at a time, as open() does, meets
 * what T looks for (in the chain of links too: root's own link to the
 * user's link to a file of root's, a review found, which the written path
 * and its realpath() alone did not show).  CUR holds the path resolved so
 * far, canonical. */
static bool reaches_in(const struct sandbox *sb, const char *path, char *cur, size_t size,
		       int depth, const struct reach_test *t)
{
	char buf[PATH_MAX], *save = NULL;

	if (depth > 40 || (size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return true; /* too deep to tell: reached */
	if (path[0] == '/')
		cur[0] = '\0';
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		size_t len = strlen(cur);
		char target[PATH_MAX];
		struct stat st;
		if (strcmp(c, ".") == 0)
			continue;
		/* the directory the next name is looked up in */
		if (t->dir && t->dir(sb, len ? cur : "/"))
			return true;
		if (strcmp(c, "..") == 0) {
			char *sl = strrchr(cur, '/');
			if (sl)
				*sl = '\0';
			continue;
		}
		if ((size_t)snprintf(cur + len, size - len, "/%s", c) >= size - len)
			return true;
		if (lstat(cur, &st) < 0)
			return false; /* absent: open() fails as well */
		if (!S_ISLNK(st.st_mode))
			continue;
		if (t->link && t->link(sb, cur, &st))
			return true;
		ssize_t n = readlink(cur, target, sizeof(target) - 1);
		if (n < 0)
			return true;
		target[n] = '\0';
		cur[len] = '\0'; /* a relative target starts in the link's directory */
		if (reaches_in(sb, target, cur, size, depth + 1, t))
			return true;
	}
	return t->end && t->end(sb, cur[0] ? cur : "/");
}

/* The command's user may change a directory, or owns a link or the end. */
static bool user_dir(const struct sandbox *sb, const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && user_may_change(sb, path, &st);
}

static bool user_link(const struct sandbox *sb, const char *path, const struct stat *st)
{
	(void)path;
	return st->st_uid == sb->uid;
}

static bool user_end(const struct sandbox *sb, const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && st.st_uid == sb->uid;
}

static bool user_reaches(const struct sandbox *sb, const char *path)
{
	/* (in the frame: a static table of pointers would be relocated into
	 * the RELRO every start writes, bench/layout.sh) */
	const struct reach_test t = {user_dir, user_link, user_end};
	char cur[PATH_MAX] = "";

	return reaches_in(sb, path, cur, sizeof(cur), 0, &t);
}

/* Beneath a write grant: what the sandbox may replace (a directory's
 * entries, the end) or may have made (a link). */
static bool grant_link(const struct sandbox *sb, const char *path, const struct stat *st)
{
	(void)st;
	return under_write_grant(sb, path);
}

/* Opens PATH (a file: source) with FLAGS where no link on the way lies
 * beneath a write grant, and only what that walk found: the name the
 * kernel gives the opened file must be where the walk ended.  Another run
 * sharing the grant could swap a name on the way for a link between the
 * two (outside review).  -1 and errno: ELOOP for a link beneath a write
 * grant, EAGAIN for what changed under the walk, or open()'s own. */
int creds_open_source(const struct sandbox *sb, const char *path, int flags)
{
	const struct reach_test links = {NULL, grant_link, NULL};
	char cur[PATH_MAX] = "", got[PATH_MAX], proc[40];

	if (reaches_in(sb, path, cur, sizeof(cur), 0, &links)) {
		errno = ELOOP;
		return -1;
	}
	int fd = open(path, flags);
	if (fd < 0)
		return -1;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, got, sizeof(got) - 1);
	if (n >= 0)
		got[n] = '\0';
	if (n < 0 || strcmp(got, cur[0] ? cur : "/") != 0) {
		close(fd);
		errno = EAGAIN;
		return -1;
	}
	return fd;
}

bool creds_sandbox_reaches(const struct sandbox *sb, const char *path, bool links_only)
{
	const struct reach_test all = {under_write_grant, grant_link, under_write_grant},
				links = {NULL, grant_link, NULL};
	char cur[PATH_MAX] = "";

	if (reaches_in(sb, path, cur, sizeof(cur), 0, links_only ? &links : &all))
		return true;
	/* root running the command as a user: that user's own processes
	 * outside the sandbox may change what is theirs */
	return !links_only && sb->started_as_root && sb->drop_to_user && sb->uid != 0 &&
	       user_reaches(sb, path);
}

/* Reads the secret into DST (SECRET_MAX + 2 bytes); returns its length, or
 * 0 for an optional credential whose secret is not there (or, best-effort,
 * a command that failed). */
static size_t read_secret(struct sandbox *sb, size_t k, char *dst)
{
	const struct policy_credential *pc = &sb->policy->creds[k];
	size_t n = 0;

	if (strncmp(pc->source, "cmd:", 4) == 0) {
		char why[256];
		n = secretcmd_fetch(sb, k, dst, why, sizeof(why));
		if (n == 0 && sb->best_effort) {
			warn(
			    "%s:%u: credential.source: [credential %s]: cmd: %s: the credential is "
			    "skipped (enforcement = best-effort)",
			    origin_file(&pc->source_origin), pc->source_origin.line, pc->name, why);
			return 0;
		}
		if (n == 0)
			die("%s:%u: credential.source: [credential %s]: cmd: %s",
			    origin_file(&pc->source_origin), pc->source_origin.line, pc->name, why);
	} else if (strncmp(pc->source, "env:", 4) == 0) {
		const char *var = pc->source + 4;
		char *v = getenv(var);
		if (!v && pc->optional)
			return 0;
		if (!v)
			die_cred(pc,
				 "source = %s, and %s is not set (optional = yes skips a "
				 "missing secret)",
				 pc->source, var);
		n = strlen(v);
		if (n > SECRET_MAX)
			die_cred(pc, "the secret in %s is longer than %d bytes", var, SECRET_MAX);
		memcpy(dst, v, n);
	} else {
		const char *path = pc->source + 5;
		struct stat st;
		/* root running the command as a user: where that user may
		 * change what the path leads to (its home), it could point it
		 * at any file root reads, which the proxy would then send to
		 * the bound hosts.  Read there only the user's own file, by
		 * no link (outside review). */
		bool users = sb->started_as_root && sb->drop_to_user && sb->uid != 0 &&
			     user_reaches(sb, path);
		/* a link beneath a write grant may be the sandbox's, made in
		 * an earlier run where an optional source was absent, leading
		 * to a file the policy denies it (outside review) */
		int fd = creds_open_source(sb, path,
					   O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
					       (users ? O_NOFOLLOW : 0));
		if (fd < 0 && errno == ENOENT && pc->optional)
			return 0;
		if (fd < 0 && errno == ELOOP && !users)
			die_cred(pc,
				 "source = %s: a link on the way to it lies beneath a write grant, "
				 "where the sandbox may have made it: not followed (name the file "
				 "itself)",
				 pc->source);
		if (fd < 0 && errno == EAGAIN)
			die_cred(pc,
				 "source = %s: a name on the way to it changed while it was opened "
				 "(beneath a write grant, another run may change it): not read",
				 pc->source);
		if (fd < 0)
			die_cred(
			    pc, "source = %s: %s%s", pc->source, strerror(errno),
			    users && errno == ELOOP
				? " (a link where the run_as user may change it is not followed, "
				  "nor one beneath a write grant)"
				: "");
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			die_cred(pc, "source = %s: not a regular file", pc->source);
		if (users && (st.st_uid != sb->uid || st.st_nlink != 1))
			die_cred(pc,
				 "source = %s: the run_as user may change what this path leads to, "
				 "and the file is not that user's own: keep a secret root reads "
				 "where only root writes",
				 pc->source);
		for (;;) {
			ssize_t r = read(fd, dst + n, SECRET_MAX + 2 - n);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				die_cred(pc, "source = %s: %s", pc->source, strerror(errno));
			if (r == 0)
				break;
			n += (size_t)r;
			if (n == SECRET_MAX + 2)
				die_cred(pc, "source = %s: longer than %d bytes", pc->source,
					 SECRET_MAX);
		}
		close(fd);
		/* the line end an editor or `echo` leaves */
		while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == '\r'))
			n--;
	}
	if (n == 0)
		die_cred(pc, "source = %s: the secret is empty", pc->source);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)dst[i];
		/* it goes into HTTP heads: a line break would be a header of
		 * its own */
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			die_cred(pc, "source = %s: the secret holds a control character",
				 pc->source);
	}
	return n;
}

/* Overwrites the source variable SOURCE (or NULL) and every other one
 * holding SECRET (as it is, or in the encodings the response scan reads:
 * a URL's user info, a Basic value, a JSON string), then removes them:
 * the bytes live in the process's
 * initial stack, which /proc/PID/environ shows.  A secret shorter than 8
 * bytes is looked for in its own variable only (it would match by chance). */
static void scrub_environ(const char *source, const char *secret, size_t n)
{
	for (size_t i = 0; environ && environ[i];) {
		char *eq = strchr(environ[i], '=');
		bool is_source = eq && source && strlen(source) == (size_t)(eq - environ[i]) &&
				 strncmp(environ[i], source, (size_t)(eq - environ[i])) == 0;
		if (eq && (is_source || (n >= 8 && netproxy_text_carries_n(eq + 1, strlen(eq + 1),
									   secret, n)))) {
			char name[256];
			snprintf(name, sizeof(name), "%.*s", (int)(eq - environ[i]), environ[i]);
			explicit_bzero(eq + 1, strlen(eq + 1));
			unsetenv(name);
			continue; /* unsetenv moved the next one here */
		}
		i++;
	}
}

static void make_placeholder(const struct policy_credential *pc, char **ret)
{
	static const char chars[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[24];
	char buf[300];
	size_t off;

	if (pc->placeholder) {
		*ret = strdup(pc->placeholder);
		if (!*ret)
			die("out of memory");
		return;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		die("getrandom: %s", strerror(errno));
	off = (size_t)snprintf(buf, sizeof(buf), "ringfence_%s_", pc->name);
	for (size_t i = 0; i < off; i++)
		if (buf[i] == '-')
			buf[i] = '_';
	for (size_t i = 0; i < sizeof(rnd); i++)
		buf[off++] = chars[rnd[i] % (sizeof(chars) - 1)];
	buf[off] = '\0';
	explicit_bzero(rnd, sizeof(rnd));
	*ret = strdup(buf);
	if (!*ret)
		die("out of memory");
}

/* The bundle's file, empty until creds_finish() writes it. */
static void make_bundle_file(struct sandbox *sb)
{
	snprintf(bundle_dir, sizeof(bundle_dir), "/tmp/ringfence-ca.XXXXXX");
	if (!mkdtemp(bundle_dir))
		die("cannot create a directory for the CA bundle in /tmp: %s", strerror(errno));
	bundle_owner = getpid();
	snprintf(bundle_file, sizeof(bundle_file), "%s/ca-bundle.pem", bundle_dir);
	atexit(remove_bundle);
	/* readable by the command, whoever it runs as; written only by us */
	if (chmod(bundle_dir, 0755) < 0)
		die("%s: %s", bundle_dir, strerror(errno));
	bundle_fd = open(bundle_file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (bundle_fd < 0 || fchmod(bundle_fd, 0644) < 0)
		die("%s: %s", bundle_file, strerror(errno));
	sb->ca_bundle = bundle_file;
}

static void write_bundle(struct sandbox *sb)
{
	char err[1024];

	if (netproxy_tls_write_bundle(sb->tls, bundle_fd, err, sizeof(err)) < 0)
		die("%s: %s", bundle_file, err);
	close(bundle_fd);
	bundle_fd = -1;
}

/* S (taken) added to the list V (N) unless there already. */
static void strv_add_unique(char ***v, size_t *n, char *s)
{
	if (!strv_has(*v, *n, s))
		strv_add(v, n, s);
	free(s);
}

/*
 * The trust the caller's clients had: the files its CA variables name and
 * the directories in SSL_CERT_DIR (':'-separated, as OpenSSL reads it),
 * each made canonical (a final link is the caller's own choice of file);
 * what is missing or of the wrong kind is left out.  Without interception
 * the command keeps the variables and may read these; with it they go into
 * the bundle and verify upstream servers.
 */
/*
 * A CA directory the sandbox may write in: OpenSSL reads a hashed
 * directory by name whenever it verifies a server, so a file the sandbox
 * planted there would be trusted by the proxy (and a credential sent to a
 * server of its choosing).  Its files are taken as they are now, as the
 * caller's CA files are (read at start-up), and the directory is not
 * handed to OpenSSL.  At most TRUST_DIR_FILES of them.
 */
#define TRUST_DIR_FILES 16

static void trust_dir_as_files(struct sandbox *sb, const char *dir)
{
	_cleanup_close_ int d = protect_open_dir_nofollow(dir);
	DIR *ds = d >= 0 ? dir_stream_at(d, ".", 0) : NULL;
	struct dirent *de;
	size_t n = 0;

	if (!ds) {
		warn("the caller's CA directory %s: not carried over (%s)", dir, strerror(errno));
		return;
	}
	while ((de = readdir(ds))) {
		char path[PATH_MAX];
		struct stat st;
		if (de->d_name[0] == '.' ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		/* the host's own links (c_rehash makes them) are followed: the
		 * sandbox has not started */
		char *c = realpath(path, NULL);
		if (!c || stat(c, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(c);
			continue;
		}
		if (n++ == TRUST_DIR_FILES) {
			warn("the caller's CA directory %s holds more than %d files: the rest are "
			     "not carried over",
			     dir, TRUST_DIR_FILES);
			free(c);
			break;
		}
		strv_add_unique(&sb->trust_files, &sb->n_trust_files, c);
	}
	closedir(ds);
	note("%s=%s: a directory the sandbox may write in: its %zu files taken as they are now",
	     CA_DIR_VAR, dir, n);
}

static void collect_trust(struct sandbox *sb)
{
	for (size_t i = 0; i <= ca_bundle_vars_n; i++) {
		const char *v = getenv(i < ca_bundle_vars_n ? ca_bundle_vars[i] : CA_DIR_VAR);
		char buf[4096];
		char *save = NULL;
		bool again = false;
		if (!v || snprintf(buf, sizeof(buf), "%s", v) >= (int)sizeof(buf))
			continue;
		/* the variables mostly name one file (the system's bundle):
		 * resolved once, not once per variable */
		for (size_t j = 0; j < i && i < ca_bundle_vars_n && !again; j++) {
			const char *w = getenv(ca_bundle_vars[j]);
			again = w && strcmp(w, v) == 0;
		}
		if (again)
			continue;
		for (char *tok = strtok_r(buf, i < ca_bundle_vars_n ? "" : ":", &save); tok;
		     tok = strtok_r(NULL, ":", &save)) {
			struct stat st;
			char *c = tok[0] == '/' ? realpath(tok, NULL) : NULL;
			if (!c || stat(c, &st) < 0 ||
			    !(i < ca_bundle_vars_n ? S_ISREG(st.st_mode) : S_ISDIR(st.st_mode))) {
				note("%s=%s: not a %s: not carried over",
				     i < ca_bundle_vars_n ? ca_bundle_vars[i] : CA_DIR_VAR, tok,
				     i < ca_bundle_vars_n ? "file" : "directory");
				free(c);
				continue;
			}
			if (i < ca_bundle_vars_n) {
				strv_add_unique(&sb->trust_files, &sb->n_trust_files, c);
			} else if (under_write_grant(sb, c)) {
				trust_dir_as_files(sb, c);
				free(c);
			} else {
				strv_add_unique(&sb->trust_dirs, &sb->n_trust_dirs, c);
			}
		}
	}
}

/* Whether the command could read the file FD, at PATH, itself: the file's
 * mode lets its user read it, and Landlock would (beneath a grant, beneath
 * no deny).  The supervisor reads it outside every layer. */
static bool command_could_read(struct sandbox *sb, const char *path, int fd)
{
	const struct policy *p = sb->policy;
	const struct policy_list *lists[] = {&p->fs.read, &p->fs.exec, &p->fs.write};
	_cleanup_free_ char *real = realpath(path, NULL);
	struct stat st;
	bool granted = false;

	if (!real || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    !(st.st_uid == sb->uid ? st.st_mode & S_IRUSR : st.st_mode & S_IROTH) ||
	    beneath_a_deny(sb, real))
		return false;
	for (size_t k = 0; k < ARRAY_SIZE(lists) && !granted; k++)
		for (size_t i = 0; i < lists[k]->n && !granted; i++) {
			_cleanup_free_ char *g = realpath(lists[k]->items[i].value, NULL);
			granted = g && landlock_path_beneath(real, g);
		}
	return granted;
}

/*
 * wget (GnuTLS) reads no CA variable: a wgetrc beside the bundle names it
 * (ca_certificate), after what the caller's own wgetrc says ($WGETRC, else
 * ~/.wgetrc, which WGETRC replaces: taken only when it is a regular file
 * the command could read itself (its user's mode bits, the grants, no deny:
 * a denied wgetrc holds a password the policy keeps out), never through a
 * final symlink).  Mode 0600, the command's user's: a wgetrc may hold a
 * password.
 */
static void write_wgetrc(struct sandbox *sb)
{
	char own[4096] = "", buf[65536];
	const char *w = getenv("WGETRC");
	size_t n = 0;
	int fd;

	if (w && w[0] == '/')
		snprintf(own, sizeof(own), "%s", w);
	else if (!w && sb->home)
		snprintf(own, sizeof(own), "%s/.wgetrc", sb->home);
	fd = own[0] ? open(own, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) : -1;
	if (fd >= 0) {
		if (command_could_read(sb, own, fd)) {
			ssize_t r;
			while (n < sizeof(buf) - 1 &&
			       (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
				n += (size_t)r;
		}
		close(fd);
	}
	if (n && buf[n - 1] != '\n')
		buf[n++] = '\n';
	snprintf(wgetrc_file, sizeof(wgetrc_file), "%s/wgetrc", bundle_dir);
	fd = open(wgetrc_file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || (sb->drop_to_user && fchown(fd, sb->uid, sb->gid) < 0) ||
	    write_all(fd, buf, n) < 0 || dprintf(fd, "ca_certificate = %s\n", bundle_file) < 0)
		die("%s: %s", wgetrc_file, strerror(errno));
	close(fd);
	explicit_bzero(buf, sizeof(buf));
	sb->wgetrc = wgetrc_file;
}

static void creds_intercept(struct sandbox *sb);

/* The one mapping every secret lives in, N slots of SECRET_MAX + 2 */
static void map_secrets(struct sandbox *sb, size_t n)
{
	sb->secrets_size = (n * (SECRET_MAX + 2) + 4095) & ~(size_t)4095;
	sb->secrets = mmap(NULL, sb->secrets_size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sb->secrets == MAP_FAILED) {
		sb->secrets = NULL;
		die("cannot map memory for the secrets: %s", strerror(errno));
	}
	/* never in a core file, never in a forked child, never swapped where
	 * the limit allows */
	(void)madvise(sb->secrets, sb->secrets_size, MADV_DONTDUMP);
	(void)madvise(sb->secrets, sb->secrets_size, MADV_WIPEONFORK); /* and creds_forget() */
	(void)mlock(sb->secrets, sb->secrets_size);
}

/* The policy's credential K: its secret read into the next slot, its
 * placeholder made and checked against the others'.  One without a secret
 * is skipped (said); ANY_TTL is set for one the proxy fetches again. */
static void add_credential(struct sandbox *sb, size_t k, bool *any_ttl)
{
	const struct policy_credential *pc = &sb->policy->creds[k];
	size_t i = sb->n_creds;
	struct netproxy_credential *c = &sb->creds[i];
	char *dst = sb->secrets + i * (SECRET_MAX + 2);
	char *ph;
	c->secret_len = read_secret(sb, k, dst);
	if (c->secret_len == 0) {
		note("[credential %s]: no secret (%s): skipped, %s is not set", pc->name,
		     pc->source, pc->env);
		return;
	}
	if (strncmp(pc->source, "cmd:", 4) == 0 && pc->ttl_ms) {
		/* fetched again by the proxy, into the same place */
		c->slot = dst;
		c->ttl_ms = pc->ttl_ms;
		c->cmd_index = (uint32_t)k;
		*any_ttl = true;
	}
	sb->n_creds++;
	sb->cred_env[i] = pc->env;
	c->name = pc->name;
	c->hosts = &pc->hosts;
	c->plaintext = pc->plaintext;
	c->inject = pc->inject;
	c->inject_arg = pc->inject_arg;
	c->require = pc->require;
	c->secret = dst;
	make_placeholder(pc, &ph);
	c->placeholder = ph;
	c->placeholder_len = strlen(ph);
	if (memmem(c->secret, c->secret_len, ph, c->placeholder_len))
		die_cred(pc, "the placeholder is part of the secret");
	for (size_t j = 0; j < i; j++)
		if (strstr(sb->creds[j].placeholder, ph) || strstr(ph, sb->creds[j].placeholder))
			die_cred(pc, "its placeholder and [credential %s]'s contain one another",
				 sb->creds[j].name);
	if (env_is_ours(pc->env))
		die_cred(pc, "env = %s: ringfence sets that variable itself", pc->env);
}

void creds_prepare(struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	size_t n = p->n_creds;
	bool any_ttl = false;

	collect_trust(sb);
	if (n == 0) {
		creds_intercept(sb); /* method and path rules may need it */
		return;
	}
	if (n > NETPROXY_CRED_MAX)
		die("%s:%u: [credential %s]: at most %d credentials",
		    origin_file(&p->creds[n - 1].origin), p->creds[n - 1].origin.line,
		    p->creds[n - 1].name, NETPROXY_CRED_MAX);
	/* before any secret is in this process: the helper holds none */
	secretcmd_start(sb);
	sb->secrets_fetched_ms = monotonic_ms();
	map_secrets(sb, n);

	sb->creds = calloc(n, sizeof(*sb->creds));
	sb->cred_env = calloc(n, sizeof(*sb->cred_env));
	if (!sb->creds || !sb->cred_env)
		die("out of memory");
	for (size_t k = 0; k < n; k++)
		add_credential(sb, k, &any_ttl);
	if (sb->secret_fd >= 0 && !any_ttl) {
		/* every command ran once: the helper ends */
		close(sb->secret_fd);
		sb->secret_fd = -1;
	}
	n = sb->n_creds;
	if (n == 0) {
		creds_intercept(sb); /* method and path rules may need it */
		return;
	}
	for (size_t k = 0, i = 0; k < p->n_creds; k++) {
		const struct policy_credential *pc = &p->creds[k];
		if (i < n && sb->cred_env[i] == pc->env) {
			scrub_environ(strncmp(pc->source, "env:", 4) == 0 ? pc->source + 4 : NULL,
				      sb->creds[i].secret, sb->creds[i].secret_len);
			i++;
		}
	}

	creds_intercept(sb);
}

/* The interception CA and the bundle that trusts it: for the credentials'
 * hosts, and for those whose method and path rules must read HTTPS (with
 * no credential at all, too).  Their files now, their contents once init
 * is forked (creds_finish). */
static void creds_intercept(struct sandbox *sb)
{
	const struct policy *p = sb->policy;

	if (sb->n_creds == 0 && !netproxy_rules_need_tls(p) && !p->net.intercept_all)
		return;
	make_bundle_file(sb);
	write_wgetrc(sb);
	sb->tls_pending = true;
}

void creds_finish(struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	char err[1024];
	int r;

	if (!sb->tls_pending)
		return;
	sb->tls_pending = false;
	r = netproxy_tls_new(p, sb->creds, sb->n_creds, &sb->tls, err, sizeof(err));
	if (r < 0)
		die("%s", err);
	for (size_t i = 0; i < sb->n_trust_files + sb->n_trust_dirs; i++) {
		bool dir = i >= sb->n_trust_files;
		const char *path = dir ? sb->trust_dirs[i - sb->n_trust_files] : sb->trust_files[i];
		r = netproxy_tls_add_trust(sb->tls, path, dir);
		if (r == -ENOMEM)
			die("out of memory");
		if (r < 0)
			warn("the caller's CA %s %s: not carried over (%s)",
			     dir ? "directory" : "file", path,
			     r == -EINVAL ? "no certificate in it" : strerror(-r));
	}
	write_bundle(sb);
}

static void wipe(struct sandbox *sb)
{
	if (sb->secrets)
		explicit_bzero(sb->secrets, sb->secrets_size);
	netproxy_tls_free(sb->tls);
	sb->tls = NULL;
}

/* In init, before anything else: this process holds no secret and no key,
 * and never removes the bundle (its pid may even equal the supervisor's:
 * 1, in a PID namespace of its own). */
void creds_forget(struct sandbox *sb)
{
	/* each written only when set: a static written here is a page of
	 * .data or .bss no longer shared with the supervisor (sandbox/README.md) */
	if (bundle_owner)
		bundle_owner = 0;
	if (bundle_fd >= 0) {
		close(bundle_fd); /* the supervisor's to write */
		bundle_fd = -1;
	}
	if (sb->secret_fd >= 0)
		close(sb->secret_fd); /* only the proxy asks for secrets */
	sb->secret_fd = -1;
	wipe(sb);
}

/* At exit: the secrets wiped, the bundle removed; the rest is the exit's. */
void creds_leave(struct sandbox *sb)
{
	wipe(sb);
	remove_bundle();
}

void creds_release(struct sandbox *sb)
{
	wipe(sb);
	if (sb->secrets)
		munmap(sb->secrets, sb->secrets_size);
	sb->secrets = NULL;
	for (size_t i = 0; i < sb->n_creds; i++)
		free((char *)sb->creds[i].placeholder);
	free(sb->creds);
	free(sb->cred_env);
	sb->creds = NULL;
	sb->cred_env = NULL;
	sb->n_creds = 0;
	if (bundle_fd >= 0)
		close(bundle_fd);
	bundle_fd = -1;
	remove_bundle();
	sb->ca_bundle = NULL;
	sb->wgetrc = NULL;
	for (size_t i = 0; i < sb->n_trust_files; i++)
		free(sb->trust_files[i]);
	for (size_t i = 0; i < sb->n_trust_dirs; i++)
		free(sb->trust_dirs[i]);
	free(sb->trust_files);
	free(sb->trust_dirs);
	sb->trust_files = sb->trust_dirs = NULL;
	sb->n_trust_files = sb->n_trust_dirs = 0;
}
