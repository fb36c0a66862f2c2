/* SPDX-License-Identifier: MIT */
/*
 * The git configuration files themselves (gitconfig.c reads what one
 * says, and has the picture): one read whole within GITCONFIG_MAX, or said
 * when it could not be; the host's own, read at start into the sandbox's
 * git_global_* lists (system, global, their includes); a linked worktree's
 * or a submodule's, found through its `gitdir:` file, and the core.worktree
 * it names.  These read and stat; what a file says is gitconfig_pointers()'s.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor.h"

/* On the heap: a frame's pages are touched at every call (stack-clash
 * probes). */
char *gitconfig_read(int fd, const struct stat *st, size_t *len)
{
	if (st->st_size > GITCONFIG_MAX) {
		errno = EFBIG;
		return NULL;
	}
	size_t size = (size_t)st->st_size + 1;
	char *buf = malloc(size);
	ssize_t got = 0;

	if (!buf)
		die("out of memory");
	*len = 0;
	while (*len < size && (got = read(fd, buf + *len, size - *len)) > 0)
		*len += (size_t)got;
	if (got < 0) {
		int e = errno;
		free(buf); /* half a configuration is not one */
		errno = e;
		return NULL;
	}
	if (*len >= size) {
		free(buf); /* grew since: not what was stated */
		errno = EFBIG;
		return NULL;
	}
	return buf;
}

void gitconfig_file(int fd, pointer_fn fn, void *ud, bool say)
{
	_cleanup_close_ int f = fd;
	struct stat st;
	size_t len;
	char proc[64], name[PATH_MAX] = "?";

	if (f < 0 || fstat(f, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	_cleanup_free_ char *buf = gitconfig_read(f, &st, &len);
	if (buf) {
		gitconfig_pointers(buf, len, fn, ud);
		return;
	}
	int e = errno;
	if (!say)
		return;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f);
	ssize_t n = readlink(proc, name, sizeof(name) - 1);
	name[n > 0 ? n : 1] = '\0';
	gitconfig_say_unread(name, st.st_size, e, "protected");
}

void gitconfig_say_unread(const char *path, off_t size, int err, const char *not_what)
{
	if (err == EFBIG)
		warn("%s: a git configuration of %lld bytes, past the %d MiB read, was not read: "
		     "what it has git run from the worktree is not %s",
		     path, (long long)size, GITCONFIG_MAX >> 20, not_what);
	else
		warn("%s: a git configuration that could not be read (%s): what it has git run "
		     "from the worktree is not %s",
		     path, strerror(err), not_what);
}

bool gitconfig_program_file(const char *path, enum git_pointer kind)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return kind == PTR_PROGRAM; /* an argument: only a file there */
	return S_ISREG(st.st_mode) || S_ISLNK(st.st_mode);
}

/*
 * The host's own git configuration, read at start (outside the sandbox):
 * a core.hooksPath set there applies in every repository, a relative one
 * resolved against each worktree's top (`core.hooksPath = .githooks`, as
 * hook managers advise), so protect.c protects, and the walks check, what
 * it names in each repository as they do a repository's own config's.  A
 * file it includes (`~/.gitconfig.local`) is every host git's
 * configuration: protect.c protects it by name, and the walk at exit
 * checks it as a repository's included file (gitscan_global_includes()).
 */
struct global_read {
	struct sandbox *sb;
	const char *dir; /* of the file read: an include's base */
	const char *home;
	int depth;
};

static void read_global(struct sandbox *sb, const char *path, const char *home, int depth);

static void on_global(void *ud, enum git_pointer kind, const char *value)
{
	const struct global_read *g = ud;
	char full[PATH_MAX];
	int n;

	if (kind == PTR_WORKTREE)
		return;
	if (kind == PTR_TEMPLATE && value[0] != '/' && strncmp(value, "~/", 2) != 0)
		return; /* (relative to wherever git runs: no one place) */
	if (strncmp(value, "~/", 2) == 0)
		n = g->home ? snprintf(full, sizeof(full), "%s/%s", g->home, value + 2) : -1;
	else if (kind == PTR_INCLUDE && value[0] != '/')
		n = snprintf(full, sizeof(full), "%s/%s", g->dir, value);
	else
		n = snprintf(full, sizeof(full), "%s", value);
	if (n < 0 || (size_t)n >= sizeof(full))
		return;
	if (kind == PTR_INCLUDE) {
		bool seen = false;
		for (size_t i = 0; i < g->sb->n_git_global_includes && !seen; i++)
			seen = strcmp(g->sb->git_global_includes[i], full) == 0;
		if (seen)
			return; /* read already: an include cycle ends here */
		char **v = realloc(g->sb->git_global_includes,
				   (g->sb->n_git_global_includes + 1) * sizeof(*v));
		if (!v || !(v[g->sb->n_git_global_includes] = strdup(full)))
			die("out of memory");
		g->sb->git_global_includes = v;
		g->sb->n_git_global_includes++;
		read_global(g->sb, full, g->home, g->depth + 1);
		return;
	}
	if (kind == PTR_PROGRAM_ARG && full[0] == '/' && !gitconfig_program_file(full, kind))
		return; /* (a relative one is judged in each worktree) */
	if (kind == PTR_PROGRAM_ARG)
		kind = PTR_PROGRAM;
	char ***list = kind == PTR_PROGRAM    ? &g->sb->git_global_programs
		       : kind == PTR_TEMPLATE ? &g->sb->git_global_templates
					      : &g->sb->git_global_hooks;
	size_t *n_list = kind == PTR_PROGRAM	? &g->sb->n_git_global_programs
			 : kind == PTR_TEMPLATE ? &g->sb->n_git_global_templates
						: &g->sb->n_git_global_hooks;
	for (size_t i = 0; i < *n_list; i++)
		if (strcmp((*list)[i], full) == 0)
			return;
	char **v = realloc(*list, (*n_list + 1) * sizeof(*v));
	if (!v || !(v[*n_list] = strdup(full)))
		die("out of memory");
	*list = v;
	(*n_list)++;
}

static void read_global(struct sandbox *sb, const char *path, const char *home, int depth)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	/* git stops at ten levels of includes */
	if (depth > 10 || !slash)
		return;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	/* the host's own files, its links followed as its git follows them */
	struct global_read g = {sb, dir[0] ? dir : "/", home, depth};
	gitconfig_file(open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), on_global, &g, true);
}

void gitconfig_host_read(struct sandbox *sb)
{
	const char *homes[] = {getenv("HOME"), sb->home};
	const char *xdg = getenv("XDG_CONFIG_HOME"), *global = getenv("GIT_CONFIG_GLOBAL"),
		   *system = getenv("GIT_CONFIG_SYSTEM");
	char path[PATH_MAX];

	gitconfig_host_free(sb);
	/* the system's, whatever GIT_CONFIG_NOSYSTEM says now: the host's
	 * later git may not be told so */
	read_global(sb, "/etc/gitconfig", homes[0], 0);
	/* and the one the host's environment names instead */
	if (system && system[0] == '/' && strcmp(system, "/etc/gitconfig") != 0)
		read_global(sb, system, homes[0], 0);
	if (global && global[0] == '/')
		read_global(sb, global, homes[0], 0);
	if (xdg && xdg[0] == '/' &&
	    (size_t)snprintf(path, sizeof(path), "%s/git/config", xdg) < sizeof(path))
		read_global(sb, path, homes[0], 0);
	for (size_t h = 0; h < ARRAY_SIZE(homes); h++) {
		if (!homes[h] || homes[h][0] != '/' ||
		    (h == 1 && homes[0] && strcmp(homes[0], homes[1]) == 0))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/.gitconfig", homes[h]) < sizeof(path))
			read_global(sb, path, homes[h], 0);
		if ((size_t)snprintf(path, sizeof(path), "%s/.config/git/config", homes[h]) <
		    sizeof(path))
			read_global(sb, path, homes[h], 0);
	}
}

size_t gitconfig_worktree_files(const char *top, char cfg[2][PATH_MAX])
{
	char path[PATH_MAX], buf[PATH_MAX + 16], common[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/.git", top) >= sizeof(path) ||
	    lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n <= 8 || memcmp(buf, "gitdir: ", 8) != 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if ((size_t)snprintf(path, sizeof(path), "%s%s%s", buf[8] == '/' ? "" : top,
			     buf[8] == '/' ? "" : "/", buf + 8) >= sizeof(path))
		return 0;
	_cleanup_free_ char *dir = realpath(path, NULL);
	if (!dir)
		return 0;
	/* a linked worktree: the main config, and its own config.worktree */
	snprintf(path, sizeof(path), "%s/commondir", dir);
	_cleanup_close_ int c = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	n = c >= 0 ? read(c, buf, sizeof(buf) - 1) : -1;
	if (n > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		if ((size_t)snprintf(common, sizeof(common), "%s%s%s", buf[0] == '/' ? "" : dir,
				     buf[0] == '/' ? "" : "/", buf) >= sizeof(common))
			return 0;
		_cleanup_free_ char *real = realpath(common, NULL);
		if (!real || (size_t)snprintf(cfg[0], PATH_MAX, "%s/config", real) >= PATH_MAX ||
		    (size_t)snprintf(cfg[1], PATH_MAX, "%s/config.worktree", dir) >= PATH_MAX)
			return 0;
		return 2;
	}
	return (size_t)snprintf(cfg[0], PATH_MAX, "%s/config", dir) < PATH_MAX;
}

static void on_worktree(void *ud, enum git_pointer kind, const char *value)
{
	if (kind == PTR_WORKTREE)
		snprintf(ud, PATH_MAX, "%s", value);
}

bool gitconfig_core_worktree(const char *config, const char *gitdir, char *out)
{
	char value[PATH_MAX] = "", path[PATH_MAX];

	/* (quiet: the reading of its pointers that follows says it) */
	gitconfig_file(open(config, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), on_worktree,
		       value, false);
	if (!value[0] ||
	    (size_t)snprintf(path, sizeof(path), "%s%s%s", value[0] == '/' ? "" : gitdir,
			     value[0] == '/' ? "" : "/", value) >= sizeof(path))
		return false;
	_cleanup_free_ char *real = realpath(path, NULL);
	if (!real || strlen(real) >= PATH_MAX)
		return false;
	memcpy(out, real, strlen(real) + 1);
	return true;
}

static void strs_free(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

void gitconfig_host_free(struct sandbox *sb)
{
	strs_free(&sb->git_global_hooks, &sb->n_git_global_hooks);
	strs_free(&sb->git_global_includes, &sb->n_git_global_includes);
	strs_free(&sb->git_global_programs, &sb->n_git_global_programs);
	strs_free(&sb->git_global_templates, &sb->n_git_global_templates);
}

/* Whether TEXT holds a URL with a password (`https://u:TOKEN@host/`, in a
 * section's line or a value) or, for HTTP, a token for its user (20
 * characters or more: https://TOKEN@host/, not ssh://APKA...@host/, an
 * SSH user), or a query parameter with one (?private_token=). */
static bool url_secret(const char *text)
{
	for (const char *s = strstr(text, "://"); s; s = strstr(s + 3, "://")) {
		size_t span = strcspn(s + 3, "/ \t\"'>]?#"), at = 0;
		bool http = s - text >= 4 && strncasecmp(s - 4, "http", 4) == 0;
		http |= s - text >= 5 && strncasecmp(s - 5, "https", 5) == 0;
		for (size_t i = 0; i < span; i++)
			if (s[3 + i] == '@')
				at = i + 1;
		if (at <= 1)
			continue;
		const char *colon = memchr(s + 3, ':', at - 1);
		const char *pw = colon ? colon + 1 : s + 3;
		size_t pl = (size_t)(s + 3 + at - 1 - pw);
		/* (a variable's, ${GITHUB_TOKEN}; a comment's placeholder,
		 * USERNAME:TOKEN: a review, no secret) */
		if (*pw == '$' || !pl || ((colon || http) && env_placeholder(pw, pl)))
			continue;
		if (colon || (http && at - 1 >= 20))
			return true;
	}
	return env_query_secret(text);
}

/* Whether TEXT holds a header or a key (env_secret_value()), its URLs'
 * user parts aside (ssh://git@host/ names no secret: url_secret() judges
 * those). */
static bool value_secret(const char *text)
{
	if (env_webhook(text)) /* (the rewrite below would hide one: a review) */
		return true;
	_cleanup_free_ char *buf = strdup(text);

	if (!buf)
		die("out of memory");
	for (char *u = strstr(buf, "://"); u; u = strstr(u, "://"))
		memcpy(u, ":__", 3);
	return env_secret_value(buf);
}

/* The ends of a key's name that say it holds a credential. */
STRING_TABLE_BEGIN
static const char ends[][9] = {"password", "smtppass", "token", "secret",
			       "apikey",   "api-key",  "cookie"};
STRING_TABLE_END

/* Whether KEY (K bytes) ends as a credential's name does (not in "pass":
 * core.askPass names a program; but "pass" itself, imap.pass: a review). */
static bool secret_key(const char *key, size_t k)
{
	if (k == 4 && strncasecmp(key, "pass", 4) == 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(ends); i++) {
		size_t e = strlen(ends[i]);
		if (k >= e && strncasecmp(key + k - e, ends[i], e) == 0)
			return true;
	}
	return false;
}

/* Whether LINE, a comment, holds a key's line with a credential
 * (`# token = ...`): one put aside is still the file's to read. */
static bool comment_secret(const char *line)
{
	const char *t = line + strspn(line, " \t");
	size_t k;

	if (*t != '#' && *t != ';')
		return false;
	t += 1 + strspn(t + 1, "#; \t");
	k = strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.");
	if (!k || !secret_key(t, k))
		return false;
	t += k + strspn(t + k, " \t");
	if (*t != '=')
		return false;
	/* one word, written there (not `# token = see 1password`: a review) */
	t += 1 + strspn(t + 1, " \t\"'");
	k = strcspn(t, " \t\r\"'");
	return k && *t != '$' && *t != '<' && !t[k + strspn(t + k, " \t\r\"'")];
}

/* Whether VAL, a credential helper, prints a password it holds (an outside
 * review: `!f() { echo "password=..."; }; f`, the form of git's own
 * documentation), not one it reads (`password=$(pass show x)`). */
static bool helper_secret(const char *val)
{
	for (const char *s = strcasestr(val, "password="); s; s = strcasestr(s + 9, "password="))
		if (s[9] && !strchr("$\"' \t;}%`\\(", s[9]))
			return true;
	return false;
}

struct cred_look {
	const char *what;
	char key[100];
	/* the files credential helpers name as their stores (--file) and
	 * the files included, as written */
	char **stores, **includes, **cookies;
	size_t n_stores, n_includes, n_cookies;
};

/* A path as a helper's command or an include writes it: quotes undone,
 * cut at the first blank outside them. */
static void unquote_path(const char *s, char *out, size_t size)
{
	size_t o = 0;
	char q = 0;

	for (; *s && o + 1 < size; s++) {
		if (q ? *s == q : (*s == '"' || *s == '\'')) {
			q = q ? 0 : *s;
			continue;
		}
		if (!q && (*s == ' ' || *s == '\t' || *s == ';'))
			break;
		if (*s == '\\' && s[1] && q != '\'')
			s++;
		out[o++] = *s;
	}
	out[o] = '\0';
}

/* One key of a user's git configuration: a credential in it noted (the
 * first), and every helper's store and every include kept.  Read as git
 * reads it (gitconfig_each(): quotes, escapes and continued lines undone). */
static void on_key(void *ud, const char *sec, const char *secline, const char *key, const char *val)
{
	struct cred_look *c = ud;
	size_t k = strlen(key);
	const char *what = NULL;
	bool helper = val && strcmp(sec, "credential") == 0 && strcmp(key, "helper") == 0;

	/* (every helper's: a review, the second of several was missed) */
	for (const char *f = helper ? strstr(val, "--file") : NULL; f;
	     f = strstr(f + 6, "--file")) {
		char path[PATH_MAX];
		unquote_path(f + 6 + strspn(f + 6, "= \t"), path, sizeof(path));
		if (path[0])
			strv_add(&c->stores, &c->n_stores, path);
	}
	if (val && (strcmp(sec, "include") == 0 || strcmp(sec, "includeif") == 0) &&
	    strcmp(key, "path") == 0 && val[0])
		strv_add(&c->includes, &c->n_includes, val);
	/* the file http.cookieFile names: its cookies are credentials (a
	 * review: one kept in ~/.config/git was read) */
	if (val && strcmp(sec, "http") == 0 && strcmp(key, "cookiefile") == 0 && val[0])
		strv_add(&c->cookies, &c->n_cookies, val);
	if (c->what)
		return;
	if (url_secret(secline))
		what = "a URL's password or token";
	else if (!val)
		return;
	else if (strcmp(key, "extraheader") == 0)
		what = "an extra header (sent with every request)";
	else if (helper && strstr(val, "--file"))
		what = "a credential helper's own store";
	else if (helper && helper_secret(val))
		what = "a credential helper's command that prints a password";
	else if (url_secret(val))
		what = "a URL's password or token";
	else if (strcmp(key, "proxy") == 0 && strchr(val, '@') &&
		 memchr(val, ':', (size_t)(strchr(val, '@') - val)))
		what = "a proxy's password"; /* ([user[:password]@]host, no scheme) */
	else if (value_secret(val))
		what = "a password, header or token";
	/* (an alias's name is no value: alias.ci-token = !gh auth token) */
	if (!what && strcmp(sec, "alias") != 0 && secret_key(key, k))
		what = "a password or token";
	if (what) {
		c->what = what;
		snprintf(c->key, sizeof(c->key), "%s.%s", sec, key);
	}
}

/* The configuration BUF (N bytes) looked through into C (its lists to be
 * freed with look_free()). */
static void look(const char *buf, size_t n, struct cred_look *c)
{
	gitconfig_each(buf, n, on_key, c);
	/* and every line as it is, comments too (a token commented out is
	 * still the file's to read) */
	for (size_t at = 0; !c->what && at < n;) {
		const char *nl = memchr(buf + at, '\n', n - at);
		size_t len = nl ? (size_t)(nl - buf - at) : n - at;
		/* (whole: a token past a fixed buffer's end was missed) */
		_cleanup_free_ char *line = strndup(buf + at, len);
		if (!line)
			die("out of memory");
		if (url_secret(line) || value_secret(line) || comment_secret(line))
			c->what = "a password, header or token in a line";
		at += len + 1;
	}
}

static void look_free(struct cred_look *c)
{
	strv_clear(&c->stores, &c->n_stores);
	strv_clear(&c->includes, &c->n_includes);
	strv_clear(&c->cookies, &c->n_cookies);
}

const char *gitconfig_credential(const char *buf, size_t n, char *key, size_t size)
{
	struct cred_look c = {0};

	look(buf, n, &c);
	look_free(&c);
	snprintf(key, size, "%s", c.key);
	return c.what;
}

/* FILE (a user git configuration) looked through into C: false when it
 * is no regular file that could be opened. */
static bool look_at(const char *file, struct cred_look *c)
{
	_cleanup_close_ int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	size_t n = 0;
	char *buf;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	buf = gitconfig_read(fd, &st, &n);
	if (!buf) {
		c->what = "what could not be read"; /* (past GITCONFIG_MAX) */
		return true;
	}
	look(buf, n, c);
	explicit_bzero(buf, n);
	free(buf);
	return true;
}

/* PATH as git takes it from FILE: `~/` and `$HOME/` the home's; relative to
 * FILE's directory (an include) or, when not INCLUDE, to where git runs
 * (a store), and then only when it is there in the working directory.
 * Into OUT (PATH_MAX): false when it names nothing to deny. */
static bool git_path(const char *path, const char *file, const char *home, bool include, char *out)
{
	char cwd[PATH_MAX];
	const char *slash = strrchr(file, '/');
	size_t r;

	if ((path[0] == '~' && path[1] == '/') || strncmp(path, "$HOME/", 6) == 0 ||
	    strncmp(path, "${HOME}/", 8) == 0)
		r = home ? (size_t)snprintf(out, PATH_MAX, "%s/%s", home, strchr(path, '/') + 1)
			 : PATH_MAX;
	else if (path[0] == '/')
		r = (size_t)snprintf(out, PATH_MAX, "%s", path);
	else if (include)
		r = (size_t)snprintf(out, PATH_MAX, "%.*s/%s", slash ? (int)(slash - file) : 1,
				     slash ? file : ".", path);
	else
		r = getcwd(cwd, sizeof(cwd))
			? (size_t)snprintf(out, PATH_MAX, "%s/%s", cwd,
					   strncmp(path, "$PWD/", 5) == 0     ? path + 5
					   : strncmp(path, "${PWD}/", 7) == 0 ? path + 7
									      : path)
			: PATH_MAX;
	return r < PATH_MAX && out[0] == '/' && (include || access(out, F_OK) == 0);
}

/* PATH, a user git configuration: denied in P, and said, when it holds a
 * credential (and the stores its credential helpers name); each file it
 * includes looked through as it is (DEPTH: git's own limit, 10). */
static void deny_if_credential(struct policy *p, const char *path, const char *home, int depth)
{
	struct cred_look c = {0};
	char full[PATH_MAX];

	if (depth > 10 || !look_at(path, &c))
		return;
	for (size_t i = 0; i < c.n_includes; i++)
		if (git_path(c.includes[i], path, home, true, full))
			deny_if_credential(p, full, home, depth + 1);
	for (size_t i = 0; i < c.n_cookies; i++)
		if (git_path(c.cookies[i], path, home, true, full) && access(full, F_OK) == 0) {
			warn("%s names %s as its cookie file: the sandbox does not read it", path,
			     full);
			if (policy_list_add(&p->fs.deny, full, false, (struct policy_origin){0}) <
			    0)
				die("out of memory");
		}
	if (c.what) {
		/* and the stores' own files, wherever they are: one named
		 * relative to where git runs is in the working directory when
		 * git ran there (a review: `store --file=.git-credentials`,
		 * written into the project; denied when there, which without a
		 * mount namespace refuses the start: Landlock cannot deny
		 * beneath the working directory) */
		for (size_t i = 0; i < c.n_stores; i++)
			if (git_path(c.stores[i], path, home, false, full) &&
			    policy_list_add(&p->fs.deny, full, false, (struct policy_origin){0}) <
				0)
				die("out of memory");
		warn("%s holds %s%s%s: the sandbox does not read that file (its git runs "
		     "without it); keep credentials in a credential helper's store",
		     path, c.what, c.key[0] ? " in " : "", c.key);
		if (policy_list_add(&p->fs.deny, path, false, (struct policy_origin){0}) < 0)
			die("out of memory");
	}
	look_free(&c);
}

/* Every file beneath DIR (a directory of the user's git configuration,
 * which the default grants whole) looked through, to DEPTH levels: an
 * include kept in a subdirectory (a review: `work/config`). */
static void deny_in_dir(struct policy *p, const char *dir, const char *home, int depth)
{
	char path[PATH_MAX];
	struct stat st;
	DIR *d = opendir(dir);

	if (!d)
		return;
	for (struct dirent *de; (de = readdir(d));) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		if (de->d_type == DT_DIR ||
		    (de->d_type == DT_UNKNOWN && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
			if (depth < 32)
				deny_in_dir(p, path, home, depth + 1);
		} else {
			deny_if_credential(p, path, home, 0);
		}
	}
	closedir(d);
}

/* The project's own configuration (the .git above the working
 * directory): the sandbox reads it, and its git with it, so a credential
 * there (a remote's URL with a token, from `git clone https://u:T@...`)
 * cannot be kept out; said (an outside review). */
static void say_project_credential(void)
{
	char dir[PATH_MAX], path[PATH_MAX], key[100];
	struct stat st;

	if (!getcwd(dir, sizeof(dir)))
		return;
	for (;;) {
		char *slash;
		if ((size_t)snprintf(path, sizeof(path), "%s/.git", strcmp(dir, "/") ? dir : "") <
			sizeof(path) &&
		    lstat(path, &st) == 0)
			break;
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			return;
		*slash = '\0';
	}
	if (!S_ISDIR(st.st_mode) || strlen(path) + 8 > sizeof(path))
		return;
	strcat(path, "/config");
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	size_t n = 0;
	char *buf;
	const char *what;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    !(buf = gitconfig_read(fd, &st, &n)))
		return;
	what = gitconfig_credential(buf, n, key, sizeof(key));
	explicit_bzero(buf, n);
	free(buf);
	if (what)
		warn("%s holds %s%s%s: the sandbox reads the project's git configuration, and "
		     "can read that; keep credentials in a credential helper's store",
		     path, what, key[0] ? " in " : "", key);
}

void gitconfig_deny_credentials(struct policy *p, const char *home)
{
	say_project_credential();
	const char *xdg = getenv("XDG_CONFIG_HOME"), *global = getenv("GIT_CONFIG_GLOBAL");
	char path[PATH_MAX], dir[PATH_MAX];

	if (global && global[0] == '/')
		deny_if_credential(p, global, home, 0);
	if (xdg && xdg[0] == '/' &&
	    (size_t)snprintf(path, sizeof(path), "%s/git/config", xdg) < sizeof(path))
		deny_if_credential(p, path, home, 0);
	if (!home || home[0] != '/')
		return;
	if ((size_t)snprintf(path, sizeof(path), "%s/.gitconfig", home) < sizeof(path))
		deny_if_credential(p, path, home, 0);
	/* every file of ~/.config/git, which the default grants whole, at
	 * any depth (its config whatever XDG_CONFIG_HOME says here: the
	 * command's git, not given the variable, reads it; a file a
	 * configuration includes, a store beside it) */
	if ((size_t)snprintf(dir, sizeof(dir), "%s/.config/git", home) < sizeof(dir))
		deny_in_dir(p, dir, home, 0);
}
