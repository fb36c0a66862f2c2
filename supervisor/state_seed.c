/* SPDX-License-Identifier: MIT */
/*
 * A stand-in made where there was none (state.c has the picture): empty
 * (a file 0600, a directory 0700), or, for private_seed, a copy of the
 * host's file or directory taken once, within the limits below.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state_internal.h"

/* A seed copies the host's files once: a CLI's settings and sessions, not
 * its caches.  Larger files are skipped (and said), as are symlinks,
 * devices, sockets and files another user owns. */
#define SEED_FILE_MAX	 (16u << 20)
#define SEED_TOTAL_MAX	 (256u << 20)
#define SEED_DEPTH_MAX	 16
#define SEED_ENTRIES_MAX 100000

/* Removes NAME in DIR and everything beneath it, never following a
 * symlink (a seed cut short). */
static int rm_rf_at(int dir, const char *name)
{
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return unlinkat(dir, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			(void)rm_rf_at(dirfd(d), de->d_name);
	closedir(d);
	return unlinkat(dir, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

struct seed_ctx {
	const struct sandbox *sb;
	const char *top; /* the host path, for messages */
	/* the host directory being copied (the stand-in's path, canonical
	 * where it can be), for the deny paths beneath it */
	char at[PATH_MAX];
	size_t root; /* at's length at the seed's top */
	uint64_t total;
	unsigned long entries;
	bool said_deep, said_many;
};

/* read(2) of up to LEN bytes, again when interrupted: bytes read, or
 * -errno. */
static ssize_t read_on(int fd, void *buf, size_t len)
{
	ssize_t n;

	while ((n = read(fd, buf, len)) < 0 && errno == EINTR)
		;
	return n < 0 ? -errno : n;
}

/*
 * Claude Code's settings files, wherever they stand in a seed (a project's
 * .claude/ in a seeded tree too): their "env" object is where its
 * documentation puts ANTHROPIC_AUTH_TOKEN, ANTHROPIC_API_KEY, AWS_* keys
 * and Bedrock's token, which the CLI sets for itself and every tool it
 * runs; and a copy left beside one (settings.json.bak, settings.json~).
 * Every other JSON file of a seed too (an outside review: an MCP server
 * list's arguments, a plugin marketplace's URL with a token): a secret
 * may stand anywhere in one (seed_json.c).  Another tool's JSON (VS
 * Code's, Gemini CLI's, which may hold comments) is scrubbed or refused
 * too: the name is all there is to tell them apart by.
 */
static bool seed_lines(const char *name);

static bool seed_settings(const char *name)
{
	size_t n = strlen(name);

	/* and every JSON file: an MCP server list (.mcp.json), a plugin
	 * marketplace's URL, with a token in it (an outside review) */
	return strncmp(name, "settings.json", 13) == 0 ||
	       strncmp(name, "settings.local.json", 19) == 0 ||
	       (n > 5 && strcmp(name + n - 5, ".json") == 0) || strstr(name, ".json.") ||
	       (n > 6 && strcmp(name + n - 6, ".json~") == 0) || /* (and copies: x.json.bak) */
	       seed_lines(name);
}

/* JSON Lines (a log of a CLI's: each line a JSON value), and copies of
 * one (an outside review: copied as they were) */
static bool seed_lines(const char *name)
{
	size_t n = strlen(name);

	return (n > 6 && strcmp(name + n - 6, ".jsonl") == 0) || strstr(name, ".jsonl.") ||
	       (n > 7 && strcmp(name + n - 7, ".jsonl~") == 0) ||
	       (n > 7 && strcmp(name + n - 7, ".ndjson") == 0) || strstr(name, ".ndjson.") ||
	       (n > 8 && strcmp(name + n - 8, ".ndjson~") == 0);
}

/*
 * A git configuration in a seed (a plugin marketplace's clone: its
 * remote's URL, with the token the marketplace list's is blanked of; an
 * outside review), by NAME: `config` wherever it is (a repository's git
 * directory may have any name: a bare clone, one a `.git` file points to;
 * a review), `config.worktree`, `.gitconfig`, `.gitmodules`.  Read as the
 * user's own is (gitconfig_credential()), and not copied when it holds
 * one: git runs without its configuration (a repository's is not needed
 * to read it).
 */
static bool seed_git_config(const char *name)
{
	return strcmp(name, "config") == 0 || strcmp(name, "config.worktree") == 0 ||
	       strcmp(name, ".gitconfig") == 0 || strcmp(name, ".gitmodules") == 0;
}

/* SRC (ST) read whole into *RET (owned), *RET_LEN bytes: 0 or -errno. */
static int read_whole(int src, const struct stat *st, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = malloc((size_t)st->st_size + 1);
	size_t n = 0;

	if (!buf)
		return -ENOMEM;
	while (n < (size_t)st->st_size) {
		ssize_t k = read_on(src, buf + n, (size_t)st->st_size - n);
		if (k < 0)
			return (int)k;
		if (k == 0)
			break; /* shrank while read: what was read is the copy */
		n += (size_t)k;
	}
	buf[n] = '\0';
	*ret_len = n;
	*ret = steal_ptr(&buf);
	return 0;
}

/* seed_json_scrub() of each line of BUF (N bytes) that holds more than
 * blanks: the number of members blanked, or the first line's error. */
static int scrub_lines(char *buf, size_t n, char *names, size_t size)
{
	size_t used = 0;
	int blanked = 0;

	names[0] = '\0';
	for (size_t at = 0; at < n;) {
		const char *nl = memchr(buf + at, '\n', n - at);
		size_t len = nl ? (size_t)(nl - buf - at) : n - at;
		size_t k = 0;
		while (k < len &&
		       (buf[at + k] == ' ' || buf[at + k] == '\t' || buf[at + k] == '\r'))
			k++;
		if (k < len) {
			int r = seed_json_scrub(buf + at, len, names + used, size - used);
			if (r < 0)
				return r;
			if (r > 0 && names[used]) {
				used += strlen(names + used);
				if (used + 2 < size) /* the next line's names after a blank */
					names[used++] = ' ';
				names[used] = '\0';
			}
			blanked += r;
		}
		at += len + 1;
	}
	if (used && names[used - 1] == ' ')
		names[used - 1] = '\0';
	return blanked;
}

/*
 * The settings file SRC (ST), read whole, its "env" scrubbed of secrets
 * (seed_json.c), each left out said with its name, never its value: 0 and
 * *RET (owned) and *RET_LEN; 1 when it is not strict JSON, said and not to
 * be copied (what the scrub cannot read must not leak); -errno.  REL names
 * it in the messages.
 */
static int read_settings(struct seed_ctx *c, int src, const struct stat *st, const char *rel,
			 char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	const char *base = strrchr(rel, '/');
	size_t n = 0;
	char names[512];
	int r;

	r = read_whole(src, st, &buf, &n);
	if (r < 0)
		return r;
	base = base ? base + 1 : rel;
	r = seed_lines(base) ? scrub_lines(buf, n, names, sizeof(names))
			     : seed_json_scrub(buf, n, names, sizeof(names));
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		warn("private_seed %s: %s is not strict JSON%s, not copied (an \"env\" in it "
		     "could not be checked for secrets)",
		     c->top, rel, r == -ELOOP ? " (nested too deep)" : "");
		return 1;
	}
	if (r > 0)
		warn("private_seed %s: %s: %s may hold a secret, not copied (give it to the "
		     "sandbox as a [credential])",
		     c->top, rel, names);
	*ret_len = n;
	*ret = steal_ptr(&buf);
	return 0;
}

/*
 * A configuration's file in a seed, by its NAME (an outside review: a
 * `.env`, an MCP server's YAML, copied as they were): an environment's,
 * YAML's, TOML's, INI's, a tool's sign-in (a shell's script is
 * seed_look()'s).  Code and documents are read more strictly: their
 * examples (`--token TOKEN`) would be taken for secrets, and the file lost.
 */
static bool seed_config(const char *name)
{
	STRING_TABLE_BEGIN
	static const char ends[][12] = {".env",	  ".envrc",  ".yaml",	   ".yml",	  ".toml",
					".ini",	  ".conf",   ".cfg",	   ".properties", ".netrc",
					".npmrc", ".pypirc", "credentials"};
	STRING_TABLE_END
	size_t n = strlen(name);

	if (strncmp(name, ".env", 4) == 0)
		return true; /* .env.local */
	for (size_t i = 0; i < ARRAY_SIZE(ends); i++) {
		size_t l = strlen(ends[i]);
		if (n >= l && strcmp(name + n - l, ends[i]) == 0)
			return true;
	}
	return false;
}

/* Whether LINE sets a key named as a secret's to a value written there
 * (YAML's `token: X`, TOML's and INI's `api_key = "X"`, `export
 * PASSWORD=X`), not to a variable's. */
static bool key_secret(const char *line)
{
	const char *s = line + strspn(line, " \t-");
	char name[128];
	size_t k;

	if (strncmp(s, "export ", 7) == 0)
		s += 7 + strspn(s + 7, " \t");
	s += *s == '"' || *s == '\'';
	k = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");
	if (!k || k >= sizeof(name))
		return false;
	snprintf(name, sizeof(name), "%.*s", (int)k, s);
	s += k;
	s += *s == '"' || *s == '\'';
	s += strspn(s, " \t");
	if (*s != ':' && *s != '=')
		return false;
	s += 1 + strspn(s + 1, " \t");
	s += *s == '"' || *s == '\'';
	for (char *d = name; *d; d++)
		*d = *d == '.' ? '_' : *d;
	/* (nothing, a variable, a reference, YAML's block or tag, a
	 * placeholder, a constant) */
	if (!*s || strchr("$\"'{#|>&*[!<%", *s) || strncasecmp(s, "null", 4) == 0 ||
	    strncasecmp(s, "true", 4) == 0 || strncasecmp(s, "false", 5) == 0 ||
	    strncasecmp(s, "none", 4) == 0 || *s == '~')
		return false;
	return env_secret_assigned(name, s);
}

enum seed_look {
	LOOK_GIT,    /* a git configuration */
	LOOK_ALL,    /* a configuration's text: its keys too (seed_config()) */
	LOOK_SCRIPT, /* a shell's script (its suffix, or #! a shell) */
	LOOK_STRONG, /* any other file: code, documents (an outside review: a
		      * Python hook's webhook, a script without a suffix) */
};

/* The line (1 on) of the text BUF (N bytes) that holds a secret, a URL's
 * password, a header's, a key by its form, or a key's value named as a
 * secret (ALL; else only what env_secret_strong() finds); 0 for none.
 * BUF's newlines are its own again on return. */
static size_t text_secret(char *buf, size_t n, enum seed_look look)
{
	size_t line = 1;

	for (size_t at = 0; at < n; line++) {
		char *nl = memchr(buf + at, '\n', n - at);
		size_t len = nl ? (size_t)(nl - buf - at) : n - at;
		char keep = buf[at + len]; /* '\n', or read_whole()'s '\0' */
		bool hit;
		buf[at + len] = '\0';
		/* (a script's: its strong forms too, a PEM not at a line's
		 * start, DB_PASS=x; its `password: x` in a here-document) */
		hit = look == LOOK_STRONG
			  ? env_secret_in_text(buf + at)
			  : env_secret_value(buf + at) || key_secret(buf + at) ||
				(look == LOOK_SCRIPT && env_secret_in_text(buf + at));
		buf[at + len] = keep;
		if (hit)
			return line;
		at += len + 1;
	}
	return 0;
}

static enum seed_look seed_look(const char *name)
{
	STRING_TABLE_BEGIN
	static const char shells[][7] = {".sh", ".bash", ".zsh", ".fish"};
	STRING_TABLE_END
	size_t n = strlen(name);

	if (seed_git_config(name))
		return LOOK_GIT;
	for (size_t i = 0; i < ARRAY_SIZE(shells); i++)
		if (n > strlen(shells[i]) && strcmp(name + n - strlen(shells[i]), shells[i]) == 0)
			return LOOK_SCRIPT;
	return seed_config(name) ? LOOK_ALL : LOOK_STRONG;
}

/* Whether BUF (N bytes) begins as a shell's script (#!/bin/sh, #!/usr/bin/env
 * bash; not python's, whose `name = value` lines are code). */
static bool shell_script(const char *buf, size_t n)
{
	size_t line = strcspn(buf, "\n");
	const char *sh;

	if (n < 3 || buf[0] != '#' || buf[1] != '!')
		return false;
	sh = memmem(buf, line, "sh", 2);
	return sh && (sh == buf + line - 2 || strchr(" \t\r", sh[2]));
}

/* The git configuration or the text SRC (ST, REL in messages), looked
 * through as LOOK says: 0 and *RET, *RET_LEN as read_settings(); 1 when
 * it holds a credential, said and not to be copied; -errno.  A text with
 * a NUL byte is none (a binary file): copied as it is.  A text that
 * begins as a script (#!) is looked through as a script's. */
static int read_checked(struct seed_ctx *c, int src, const struct stat *st, const char *rel,
			enum seed_look look, char **ret, size_t *ret_len)
{
	bool git = look == LOOK_GIT;
	_cleanup_free_ char *buf = NULL;
	char key[100] = "";
	size_t n = 0, line = 0;
	const char *what = NULL;
	int r = read_whole(src, st, &buf, &n);

	if (r < 0)
		return r;
	if (git)
		what = gitconfig_credential(buf, n, key, sizeof(key));
	else if (!memchr(buf, '\0', n) &&
		 (line = text_secret(
		      buf, n, look == LOOK_STRONG && shell_script(buf, n) ? LOOK_SCRIPT : look)))
		what = "what looks like a secret";
	if (line)
		snprintf(key, sizeof(key), "line %zu", line);
	if (what) {
		warn("private_seed %s: %s holds %s%s%s, not copied (give it to the sandbox as a "
		     "[credential])",
		     c->top, rel, what, key[0] ? " in " : "", key);
		explicit_bzero(buf, n);
		return 1;
	}
	*ret_len = n;
	*ret = steal_ptr(&buf);
	return 0;
}

/* Copies SRC (ST) to NAME in DIR, or BUF (LEN bytes, when given) read
 * from it. */
static int copy_file(struct seed_ctx *c, int src, const struct stat *st, int dir, const char *name,
		     const char *buf, size_t len)
{
	_cleanup_close_ int out = -1;
	char chunk[65536];
	uint64_t left = (uint64_t)st->st_size;

	out = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     st->st_mode & 0777);
	if (out < 0)
		return -errno;
	if (state_give(c->sb, out) < 0 || fchmod(out, st->st_mode & 0777) < 0)
		return -errno;
	if (buf)
		return write_all(out, buf, len);
	while (left > 0) {
		ssize_t n = read_on(src, chunk, left < sizeof(chunk) ? left : sizeof(chunk));
		if (n < 0)
			return (int)n;
		if (n == 0)
			break; /* shrank while copied: what was read is the copy */
		int r = write_all(out, chunk, (size_t)n);
		if (r < 0)
			return r;
		left -= (uint64_t)n;
	}
	return 0;
}

/* Whether the seed may take the host's ST: a regular file or directory the
 * command's user owns (root's seed reads as root: never another's file). */
static bool seed_ok(struct seed_ctx *c, const struct stat *st, const char *what)
{
	if (c->sb->uid != 0 && st->st_uid != c->sb->uid) {
		warn("private_seed %s: %s belongs to uid %u, not copied", c->top, what,
		     (unsigned)st->st_uid);
		return false;
	}
	if (S_ISREG(st->st_mode) && (uint64_t)st->st_size > SEED_FILE_MAX) {
		warn("private_seed %s: %s is larger than %u MiB, not copied", c->top, what,
		     SEED_FILE_MAX >> 20);
		return false;
	}
	if (S_ISREG(st->st_mode) && c->total + (uint64_t)st->st_size > SEED_TOTAL_MAX) {
		warn("private_seed %s: %s would take the copy past %u MiB, not copied", c->top,
		     what, SEED_TOTAL_MAX >> 20);
		return false;
	}
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) {
		note("private_seed %s: %s is not a file or directory, not copied", c->top, what);
		return false;
	}
	return true;
}

/* Copies the directory SRC's entries into DST (both open), recursively. */
static int copy_dir(struct seed_ctx *c, int src, int dst, int depth)
{
	_cleanup_close_ int dup_fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (dup_fd < 0)
		return -errno;
	d = fdopendir(dup_fd);
	if (!d)
		return -errno;
	steal_fd(&dup_fd);
	while (r == 0 && (errno = 0, de = readdir(d))) {
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* a deny path of the policy is not copied: a deny beneath a
		 * stand-in is not masked there (the copy is the sandbox's
		 * own), so what the host keeps out of reach must not be in it
		 * (a review: private_seed = ~/.config/ carried gh's token) */
		char full[PATH_MAX];
		size_t al = strlen(c->at);
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", c->at, de->d_name) >=
			sizeof(full) ||
		    path_denied(c->sb, full)) {
			note("private_seed %s: %s is denied (or too long a path), not copied",
			     c->top, de->d_name);
			continue;
		}
		/* O_NOFOLLOW: a symlink is not opened (ELOOP) and not copied */
		int fd = openat(src, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			note("private_seed %s: %s: %s, not copied", c->top, de->d_name,
			     strerror(errno));
			continue;
		}
		if (fstat(fd, &st) < 0 || !seed_ok(c, &st, de->d_name)) {
			close(fd);
			continue;
		}
		if (++c->entries > SEED_ENTRIES_MAX) {
			if (!c->said_many)
				warn(
				    "private_seed %s: more than %d entries: the rest is not copied",
				    c->top, SEED_ENTRIES_MAX);
			c->said_many = true;
			close(fd);
			errno = 0; /* not a read error */
			break;
		}
		if (S_ISDIR(st.st_mode) && depth + 1 >= SEED_DEPTH_MAX) {
			if (!c->said_deep)
				warn("private_seed %s: directories deeper than %d are not copied",
				     c->top, SEED_DEPTH_MAX);
			c->said_deep = true;
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdirat(dst, de->d_name, 0700) < 0) {
				r = -errno;
			} else {
				int sub = openat(dst, de->d_name,
						 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				r = sub < 0 ? -errno : state_give(c->sb, sub);
				snprintf(c->at, sizeof(c->at), "%s", full);
				if (r == 0)
					r = copy_dir(c, fd, sub, depth + 1);
				c->at[al] = '\0';
				if (r == 0 && fchmod(sub, st.st_mode & 0777) < 0)
					r = -errno;
				if (sub >= 0)
					close(sub);
			}
		} else {
			_cleanup_free_ char *buf = NULL;
			size_t len = 0;
			r = seed_settings(de->d_name)
				? read_settings(c, fd, &st, full + c->root + 1, &buf, &len)
				: read_checked(c, fd, &st, full + c->root + 1,
					       seed_look(de->d_name), &buf, &len);
			if (r == 0) {
				c->total += (uint64_t)st.st_size;
				r = copy_file(c, fd, &st, dst, de->d_name, buf, len);
			}
			r = r == 1 ? 0 : r;
		}
		close(fd);
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	return r;
}

/*
 * Makes the stand-in NAME in DIR: seeded from the host's HOST_REL beneath
 * HOME_FD when asked and the host has one, else empty.  A seed is made
 * under a temporary name and renamed into place, so a seed cut short is
 * never taken for a finished one.
 */
int state_make_standin(struct sandbox *sb, const struct private_standin *ps, int dir,
		       const char *name, int home_fd, bool seed)
{
	char tmp[NAME_MAX + 1];
	_cleanup_close_ int src = -1, fd = -1;
	struct stat st;
	int r;

	if (seed) {
		src = open_beneath_nofollow(home_fd, ps->rel, O_RDONLY | O_NONBLOCK);
		if (src == -ENOENT)
			seed = false;
		else if (src < 0)
			return src == -ELOOP ? -ELOOP : src;
		else if (fstat(src, &st) < 0)
			return -errno;
	}
	if (seed) {
		struct seed_ctx c = {.sb = sb, .top = ps->path};
		/* the deny paths resolved, as the copy's own paths are (a home
		 * reached through a link would else match neither) */
		(void)sandbox_deny_canon(sb);
		snprintf(c.at, sizeof(c.at), "%s", ps->canon ? ps->canon : ps->path);
		c.root = strlen(c.at);
		if (S_ISDIR(st.st_mode) != ps->is_dir || !seed_ok(&c, &st, ps->path) ||
		    path_denied(sb, c.at))
			seed = false;
		if (seed) {
			if (snprintf(tmp, sizeof(tmp), ".%.200s.seed%d", name, (int)getpid()) < 0)
				return -EINVAL;
			if (ps->is_dir) {
				(void)rm_rf_at(dir, tmp);
				if (mkdirat(dir, tmp, 0700) < 0)
					return -errno;
				fd = openat(dir, tmp,
					    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				r = fd < 0 ? -errno : state_give(sb, fd);
				if (r == 0)
					r = copy_dir(&c, src, fd, 0);
				if (r == 0 && fchmod(fd, 0700) < 0)
					r = -errno;
			} else {
				_cleanup_free_ char *buf = NULL;
				size_t len = 0;
				const char *base = strrchr(ps->rel, '/');
				base = base ? base + 1 : ps->rel;
				(void)unlinkat(dir, tmp, 0);
				c.total = (uint64_t)st.st_size;
				r = seed_settings(base)
					? read_settings(&c, src, &st, base, &buf, &len)
					: read_checked(&c, src, &st, base, seed_look(base), &buf,
						       &len);
				if (r == 0)
					r = copy_file(&c, src, &st, dir, tmp, buf, len);
			}
			if (r == 0 && renameat(dir, tmp, dir, name) < 0)
				r = -errno;
			if (r < 0)
				(void)rm_rf_at(dir, tmp);
			if (r != 1)
				return r;
			/* a settings file refused: the stand-in starts empty */
		}
	}
	if (ps->is_dir) {
		if (mkdirat(dir, name, 0700) < 0)
			return -errno;
		fd = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	} else {
		fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	return fd < 0 ? -errno : state_give(sb, fd);
}
