/* SPDX-License-Identifier: MIT */
/*
 * INI parsing with inih, wrapped for the release Debian 12 ships (55).
 *
 * inih 55 has three traps for a security policy, each handled here and
 * pinned by tests/unit/test_policy.c:
 *  - a line longer than its buffer (INI_MAX_LINE, 200) is split and the tail
 *    parsed as a new line, so a long comment could become a rule.  Our reader
 *    sees the buffer size inih passes it and refuses an over-long line;
 *  - section names longer than 50 bytes are silently truncated: refused;
 *  - the handler is given no line number: our reader counts lines, and inih
 *    calls the handler for a line before it asks for the next one.
 * inih's multi-line continuation (an indented line extends the previous
 * value) would turn an indented "read = /x" into part of another key's
 * value, so the reader strips leading blanks and continuation never happens.
 * The policy is built as a draft and handed out only if every file parsed.
 * These can go when Debian ships an inih with INI_HANDLER_LINENO and heap
 * lines (r56+), though the draft and length checks should stay.
 *
 * This file reads: the lines handed to inih, the files opened, walked and
 * loaded, the errors and the entry points.  The sections and their keys are
 * in parse_keys.c, how a value is read in parse_values.c and parse_net.c
 * (what they share: parse_internal.h).
 */
#include <ctype.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/macros.h"
#include "policy.h"
#include "policy_internal.h"
#include "parse_internal.h"

_printf_(3, 4) int parse_fail(struct parse_ctx *c, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return 0;
	c->failed = true;
	snprintf(c->err->file, sizeof(c->err->file), "%s", c->file ? c->file : "");
	c->err->line = c->line;
	snprintf(c->err->key, sizeof(c->err->key), "%s", key ? key : "");
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
	va_end(ap);
	return 0;
}

void policy_error_format(const struct policy_error *err, char *buf, size_t size)
{
	char where[4200] = "";

	if (err->file[0] && err->line)
		snprintf(where, sizeof(where), "%s:%u: ", err->file, err->line);
	else if (err->file[0])
		snprintf(where, sizeof(where), "%s: ", err->file);
	if (err->key[0])
		snprintf(buf, size, "%s%s: %s", where, err->key, err->msg);
	else
		snprintf(buf, size, "%s%s", where, err->msg);
}

/* ---- did you mean ------------------------------------------------------ */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (la >= ARRAY_SIZE(row) || lb >= ARRAY_SIZE(row))
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (tolower((unsigned char)a[i - 1]) !=
					     tolower((unsigned char)b[j - 1]));
			size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
			row[j] = sub < best ? sub : best;
			prev = cur;
		}
	}
	return row[lb];
}

const char *policy_did_you_mean(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best;
}

/*
 * inih's reader callback: hands out one line at a time from the file held in
 * memory, counting lines and refusing what inih would mangle (see top).
 */
static char *reader(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;
	size_t start, end, n;

	if (c->failed || c->reader_error || c->pos >= c->len)
		return NULL;
	start = c->pos;
	end = start;
	while (end < c->len && c->buf[end] != '\n')
		end++;
	c->pos = end < c->len ? end + 1 : end;
	c->line++;
	n = end - start;
	if (n > 0 && c->buf[start + n - 1] == '\r')
		n--;
	/* every blank inih strips (isspace: a vertical tab or a form feed
	 * before a '[' hid the header from the checks below, a review found) */
	while (n > 0 && isspace((unsigned char)c->buf[start])) {
		start++;
		n--;
	}
	if (memchr(c->buf + start, '\0', n)) {
		parse_fail(c, NULL, "the line contains a NUL byte");
		c->reader_error = true;
		return NULL;
	}
	/* leave room for inih's newline and terminator */
	if (num < 3 || n + 2 > (size_t)num) {
		parse_fail(c, NULL, "line is longer than %d characters", num - 2);
		c->reader_error = true;
		return NULL;
	}
	if (n > 0 && c->buf[start] == '[') {
		c->section_line = c->line;
		const char *close = memchr(c->buf + start, ']', n);
		if (close && (size_t)(close - (c->buf + start) - 1) > INIH_MAX_SECTION - 1) {
			parse_fail(c, NULL, "section name longer than %d characters",
				   INIH_MAX_SECTION - 1);
			c->reader_error = true;
			return NULL;
		}
		/* inih reports a section only with its first key: an empty
		 * misspelt section would pass unseen, so check every header */
		/* inih drops what follows the ']': "[filesystem] deny = /x"
		 * would pass for a header alone, its setting unread */
		if (close) {
			const char *t = close + 1, *e = c->buf + start + n;
			while (t < e && (*t == ' ' || *t == '\t'))
				t++;
			/* (a vertical tab or form feed after it is text too) */
			if (t < e && *t != ';' && *t != '#') {
				parse_fail(c, NULL,
					   "text after the section's ']' (a setting goes on a "
					   "line of its own)");
				c->reader_error = true;
				return NULL;
			}
		}
		if (close) {
			char name[INIH_MAX_SECTION + 1];
			size_t len = (size_t)(close - (c->buf + start) - 1);
			memcpy(name, c->buf + start + 1, len);
			name[len] = '\0';
			if (!parse_section_known(c, name)) {
				c->reader_error = true;
				return NULL;
			}
		}
	}
	memcpy(str, c->buf + start, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

static int intern_file(struct policy *p, const char *path, const char **ret)
{
	char **files = realloc(p->files, (p->n_files + 1) * sizeof(*files));
	struct policy_file_stat *fs;

	if (!files)
		return -ENOMEM;
	p->files = files;
	fs = realloc(p->file_stats, (p->n_files + 1) * sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	p->file_stats = fs;
	fs[p->n_files] = (struct policy_file_stat){.dirs_err = -ENOENT};
	files[p->n_files] = strdup(path);
	if (!files[p->n_files])
		return -ENOMEM;
	*ret = files[p->n_files++];
	return 0;
}

static int parse_text(struct parse_ctx *c)
{
	int r = ini_parse_stream(reader, c, parse_handler, c);

	if (c->failed)
		return -EINVAL;
	if (r != 0) {
		c->line = r > 0 ? (unsigned)r : c->line;
		parse_fail(c, NULL,
			   r > 0 ? "syntax error: expected 'key = value' or '[section]'"
				 : "could not be parsed");
		return -EINVAL;
	}
	return 0;
}

static void dirname_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, size, ".");
	else if (slash == path)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

/*
 * The directories holding a file opened in DIRFD: DIRFD's own, then each
 * parent by "..", until a directory is its own parent (/).  Walked from
 * the descriptor, not the path: a directory renamed or swapped for a
 * symbolic link after the file was opened changes nothing here.
 */
static int walk_dirs(int dirfd, struct policy_file_stat *fs)
{
	_cleanup_close_ int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	struct stat st, up;

	if (cur < 0 || fstat(cur, &st) < 0)
		return -errno;
	for (int i = 0; i < 4096; i++) {
		struct policy_dir_stat *d = realloc(fs->dirs, (fs->n_dirs + 1) * sizeof(*d));
		int next;
		if (!d)
			return -ENOMEM;
		fs->dirs = d;
		d[fs->n_dirs++] = (struct policy_dir_stat){st.st_uid, st.st_mode};
		next = openat(cur, "..", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 || fstat(next, &up) < 0) {
			int e = -errno;
			if (next >= 0)
				close(next);
			return e;
		}
		close(cur);
		cur = next;
		if (up.st_dev == st.st_dev && up.st_ino == st.st_ino)
			return 0;
		st = up;
	}
	return -ELOOP;
}

/* PATH opened without following a symbolic link in any component: its
 * directory first, then the file in it, so that the directories holding
 * what is read can be walked from that directory (walk_dirs). */
/*
 * A policy file decides what the sandbox may do, and the directory holding it
 * may have been writable to an earlier sandbox: a symlink in any component
 * (not only the last) would let that sandbox choose the next run's policy.
 * openat2() with RESOLVE_NO_SYMLINKS refuses every one; a kernel or a
 * seccomp profile without openat2 refuses to load rather than follow them.
 * Debian 12's headers have <linux/openat2.h> but glibc has no wrapper.
 */
/* O_NONBLOCK: a FIFO (or a device) named as a policy would block the open;
 * it is refused as no regular file once opened (reading a file ignores it) */
static int open_no_symlinks(const char *path)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));

	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		errno = ENOSYS;
	return fd < 0 ? -errno : fd;
}

static int open_policy(const char *path, struct policy_file_stat *fs)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char dir[PATH_MAX];
	struct open_how how = {
	    .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int dirfd = -1;
	int fd;

	if (!*base) /* "/" or a trailing slash: no file to walk up from */
		return open_no_symlinks(path);
	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	dirname_of(path, dir, sizeof(dir));
	dirfd = (int)syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof(how));
	if (dirfd < 0)
		return errno == ENOSYS || errno == EPERM ? -ENOSYS : -errno;
	how = (struct open_how){
	    .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
	};
	fd = (int)syscall(SYS_openat2, dirfd, base, &how, sizeof(how));
	if (fd < 0)
		return errno == ENOSYS || errno == EPERM ? -ENOSYS : -errno;
	fs->dirs_err = walk_dirs(dirfd, fs);
	return fd;
}

int parse_load_file(struct parse_ctx *parent, const char *path, struct policy_error *err,
		    struct policy *p, struct file_id *stack, int depth)
{
	struct policy_file_stat *fs;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct parse_ctx c = {.p = p, .err = err, .stack = stack, .depth = depth};
	struct stat st;
	size_t got = 0;
	int r;

	r = intern_file(p, path, &c.file);
	if (r < 0) {
		c.file = path;
		return parse_fail(&c, NULL, "out of memory"), r;
	}
	fs = &p->file_stats[p->n_files - 1];
	fd = open_policy(path, fs);
	if (fd < 0 || fstat(fd, &st) < 0) {
		const char *why = "";
		r = fd < 0 ? fd : -errno;
		if (r == -ELOOP)
			why =
			    " (a symbolic link in its path is never followed: name the real path)";
		else if (r == -ENOSYS)
			why = " (openat2 is unavailable: a path is never opened without it)";
		if (parent) {
			parse_fail(parent, "sandbox.include", "cannot read '%s': %s%s", path,
				   strerror(-r), why);
			return r;
		}
		parse_fail(&c, NULL, "cannot read policy: %s%s", strerror(-r), why);
		return r;
	}
	/* what was read, for whoever must know who could have written it */
	*fs = (struct policy_file_stat){.read = true,
					.dev = st.st_dev,
					.ino = st.st_ino,
					.uid = st.st_uid,
					.mode = st.st_mode,
					.dirs_err = fs->dirs_err,
					.dirs = fs->dirs,
					.n_dirs = fs->n_dirs};
	/* an include's problem is its line's, in the file naming it */
	if (!S_ISREG(st.st_mode)) {
		if (parent)
			parse_fail(parent, "sandbox.include", "'%s': not a regular file", path);
		else
			parse_fail(&c, NULL, "not a regular file");
		return -EINVAL;
	}
	if (st.st_size > POLICY_MAX_FILE_SIZE) {
		if (parent)
			parse_fail(parent, "sandbox.include", "'%s': larger than %d bytes", path,
				   POLICY_MAX_FILE_SIZE);
		else
			parse_fail(&c, NULL, "policy file larger than %d bytes",
				   POLICY_MAX_FILE_SIZE);
		return -EFBIG;
	}
	for (int i = 0; i < depth; i++)
		if (stack[i].dev == st.st_dev && stack[i].ino == st.st_ino) {
			if (parent)
				parse_fail(parent, "sandbox.include",
					   "include cycle: '%s' includes itself", path);
			return -ELOOP;
		}
	stack[depth] = (struct file_id){st.st_dev, st.st_ino};

	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n = RETRY_EINTR(read(fd, buf + got, (size_t)st.st_size - got));
		if (n < 0) {
			r = -errno;
			parse_fail(&c, NULL, "cannot read policy: %s", strerror(-r));
			return r;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	dirname_of(path, c.dir, sizeof(c.dir));
	c.buf = buf;
	c.len = got;
	return parse_text(&c);
}

static struct policy *policy_new(void)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->enforcement = POLICY_ENFORCE_STRICT;
	p->namespaces = POLICY_NS_AUTO;
	p->net.mode = POLICY_NET_PROXY;
	p->net.isolation = POLICY_ISOLATION_AUTO;
	p->net.private_deny = true;
	p->syscalls.unix_sockets = true;
	p->syscalls.action = POLICY_SYSCALL_ERRNO;
	p->fs.private_tmp = false;
	return p;
}

/* Each credential: the keys it needs, ttl and timeout with cmd: only, no
 * two setting one variable, and [network] mode = proxy. */
static int validate_creds(struct policy *p, struct policy_error *err)
{
	struct parse_ctx c = {.p = p, .err = err};

	for (size_t i = 0; i < p->n_creds; i++) {
		struct policy_credential *cr = &p->creds[i];
		c.file = cr->origin.file;
		c.line = cr->origin.line;
		if (!cr->env)
			return parse_fail(&c, "credential.env",
					  "[credential %s] needs env =", cr->name),
			       -EINVAL;
		if (!cr->source)
			return parse_fail(&c, "credential.source",
					  "[credential %s] needs source =", cr->name),
			       -EINVAL;
		if ((cr->ttl_set || cr->timeout_set) && strncmp(cr->source, "cmd:", 4) != 0)
			return parse_fail(&c, cr->ttl_set ? "credential.ttl" : "credential.timeout",
					  "[credential %s]: %s is for source = cmd: only", cr->name,
					  cr->ttl_set ? "ttl" : "timeout"),
			       -EINVAL;
		if (cr->ttl_set && (uint64_t)(cr->timeout_set ? cr->cmd_timeout_ms
							      : POLICY_CMD_TIMEOUT_DEFAULT_MS) *
					   2 >
				       cr->ttl_ms)
			return parse_fail(
				   &c, "credential.timeout",
				   "[credential %s]: timeout (10s unless set) must be at most half "
				   "of ttl (the secret is fetched again before it expires)",
				   cr->name),
			       -EINVAL;
		if (cr->hosts.n == 0)
			return parse_fail(
				   &c, "credential.hosts",
				   "[credential %s] needs hosts = (the hosts it may be sent to)",
				   cr->name),
			       -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->creds[j].env, cr->env) == 0)
				return parse_fail(&c, "credential.env",
						  "[credential %s] and [credential %s] both set %s",
						  p->creds[j].name, cr->name, cr->env),
				       -EINVAL;
		if (p->net.mode != POLICY_NET_PROXY)
			return parse_fail(
				   &c, NULL,
				   "[credential %s] needs [network] mode = proxy (mode is %s)",
				   cr->name, policy_net_mode_name(p->net.mode)),
			       -EINVAL;
	}
	return 0;
}

/* Whole-policy checks that no single line can make. */
int policy_validate(struct policy *p, struct policy_error *err)
{
	struct parse_ctx c = {.p = p, .err = err};
	int r = validate_creds(p, err);

	if (r < 0)
		return r;
	if (p->net.mode != POLICY_NET_PROXY) {
		const struct policy_list *lists[] = {&p->net.allow,	   &p->net.deny,
						     &p->net.allow_cidr,   &p->net.hosts,
						     &p->net.allow_no_sni, &p->net.server_first,
						     &p->net.allow_http,   &p->net.deny_http};
		static const char *const names[] = {"network.allow",	    "network.deny",
						    "network.allow_cidr",   "network.hosts",
						    "network.allow_no_sni", "network.server_first",
						    "network.allow",	    "network.deny"};
		for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
			if (lists[i]->n) {
				c.file = lists[i]->items[0].origin.file;
				c.line = lists[i]->items[0].origin.line;
				return parse_fail(
					   &c, names[i],
					   "has no effect with mode = %s (only with mode = proxy)",
					   policy_net_mode_name(p->net.mode)),
				       -EINVAL;
			}
	}
	for (size_t i = 0; i < p->syscalls.allow.n; i++)
		for (size_t j = 0; j < p->syscalls.deny.n; j++)
			if (strcmp(p->syscalls.allow.items[i].value,
				   p->syscalls.deny.items[j].value) == 0) {
				c.file = p->syscalls.allow.items[i].origin.file;
				c.line = p->syscalls.allow.items[i].origin.line;
				return parse_fail(&c, "syscalls.allow",
						  "'%s' is also in syscalls.deny",
						  p->syscalls.allow.items[i].value),
				       -EINVAL;
			}
	return 0;
}

int policy_load_file(const char *path, struct policy **ret, struct policy_error *err)
{
	struct policy *p = policy_new();
	struct file_id stack[POLICY_MAX_INCLUDE_DEPTH];
	int r;

	if (!p)
		return -ENOMEM;
	r = parse_load_file(NULL, path, err, p, stack, 0);
	if (r == 0)
		r = policy_validate(p, err);
	if (r < 0) {
		policy_free(p);
		return r < 0 ? r : -EINVAL;
	}
	*ret = p;
	return 0;
}

int policy_load_string(const char *name, const char *text, const char *base_dir,
		       struct policy **ret, struct policy_error *err)
{
	struct policy *p = policy_new();
	struct file_id stack[POLICY_MAX_INCLUDE_DEPTH];
	struct parse_ctx c = {.p = p, .err = err, .stack = stack};
	int r;

	if (!p)
		return -ENOMEM;
	r = intern_file(p, name, &c.file);
	if (r < 0) {
		policy_free(p);
		return r;
	}
	if (base_dir)
		snprintf(c.dir, sizeof(c.dir), "%s", base_dir);
	c.buf = text;
	c.len = strlen(text);
	r = parse_text(&c);
	if (r == 0)
		r = policy_validate(p, err);
	if (r < 0) {
		policy_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

int policy_load_default(struct policy **ret, struct policy_error *err)
{
	return policy_load_string(POLICY_DEFAULT_NAME, policy_default_text, NULL, ret, err);
}

void policy_list_free(struct policy_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i].value);
	free(l->items);
	*l = (struct policy_list){0};
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	policy_list_free(&p->fs.read);
	policy_list_free(&p->fs.exec);
	policy_list_free(&p->fs.write);
	policy_list_free(&p->fs.deny);
	policy_list_free(&p->fs.protect);
	policy_list_free(&p->fs.create);
	policy_list_free(&p->fs.private_);
	policy_list_free(&p->fs.private_seed);
	policy_list_free(&p->fs.private_env);
	free(p->name);
	policy_list_free(&p->net.allow);
	policy_list_free(&p->net.deny);
	policy_list_free(&p->net.allow_http);
	policy_list_free(&p->net.deny_http);
	policy_list_free(&p->net.allow_cidr);
	policy_list_free(&p->net.hosts);
	policy_list_free(&p->net.allow_no_sni);
	policy_list_free(&p->net.server_first);
	policy_list_free(&p->net.unix_connect);
	free(p->net.upstream_ca);
	for (size_t i = 0; i < p->n_creds; i++) {
		free(p->creds[i].name);
		free(p->creds[i].env);
		free(p->creds[i].source);
		free(p->creds[i].placeholder);
		free(p->creds[i].inject_arg);
		policy_list_free(&p->creds[i].cmd_argv);
		policy_list_free(&p->creds[i].hosts);
	}
	free(p->creds);
	free(p->process.run_as);
	policy_list_free(&p->process.env_keep);
	policy_list_free(&p->process.env_set);
	policy_list_free(&p->syscalls.deny);
	policy_list_free(&p->syscalls.allow);
	free(p->log.file);
	for (size_t i = 0; i < p->n_files; i++) {
		free(p->files[i]);
		free(p->file_stats[i].dirs);
	}
	free(p->files);
	free(p->file_stats);
	free(p);
}
