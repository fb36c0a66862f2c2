/* SPDX-License-Identifier: MIT */
/*
 * What a repository's config may set without a host git running anything
 * it says (protwatch_config_ok(): an allow-list of the keys `git init` and
 * `git clone` write), and whether a repository made during the run holds
 * anything a host git would run or follow (pw_repo_ok()).  No state: the
 * walks at exit (gitscan.c) use the allow-list too.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitobj.h"
#include "protwatch_internal.h"

/*
 * What a host git obeys in a configuration: only the keys `git init` and
 * `git clone` write (and a few that change no command) may be set in a
 * repository made during the run.  An allow-list, because the keys that run
 * a command are many and grow (core.fsmonitor, core.hooksPath,
 * core.sshCommand, alias.*, filter.*, diff.*.textconv, include.path, ...).
 */
STRING_TABLE_BEGIN
static const struct {
	char section[16]; /* arrays: supervisor.h's sc_entry says why */
	bool sub;	  /* [section "sub"] */
	char key[32];
} cfg_allowed[] = {
    {"core", false, "repositoryformatversion"},
    {"core", false, "filemode"},
    {"core", false, "bare"},
    {"core", false, "logallrefupdates"},
    {"core", false, "symlinks"},
    {"core", false, "ignorecase"},
    {"core", false, "precomposeunicode"},
    {"core", false, "autocrlf"},
    {"core", false, "sparsecheckout"},
    {"core", false, "sparsecheckoutcone"},
    {"remote", true, "url"},
    {"remote", true, "pushurl"},
    {"remote", true, "fetch"},
    {"remote", true, "push"},
    {"remote", true, "tagopt"},
    {"remote", true, "promisor"},
    {"remote", true, "partialclonefilter"},
    {"remote", true, "mirror"},
    {"branch", true, "remote"},
    {"branch", true, "merge"},
    {"branch", true, "rebase"},
    {"extensions", false, "objectformat"},
    {"extensions", false, "refstorage"},
    {"extensions", false, "partialclone"},
    {"submodule", true, "url"},
    {"submodule", true, "active"},
    {"user", false, "name"},
    {"user", false, "email"},
    {"init", false, "defaultbranch"},
    {"pull", false, "rebase"},
    {"lfs", false, "repositoryformatversion"},
    {"index", false, "version"},
};
STRING_TABLE_END

static bool cfg_key_ok(const char *sec, size_t seclen, bool sub, const char *key, size_t keylen)
{
	for (size_t i = 0; i < ARRAY_SIZE(cfg_allowed); i++)
		if (cfg_allowed[i].sub == sub && strlen(cfg_allowed[i].section) == seclen &&
		    strncasecmp(cfg_allowed[i].section, sec, seclen) == 0 &&
		    strlen(cfg_allowed[i].key) == keylen &&
		    strncasecmp(cfg_allowed[i].key, key, keylen) == 0)
			return true;
	return false;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

/*
 * Whether the configuration BUF sets only allowed keys.  Stricter than git
 * (gitconfig(5)): a backslash or a double quote in a value, a key after a
 * section header on its line, or anything unclear refuses the file, so that
 * no continuation line or quoting can hide a key from this reading.
 */
bool protwatch_config_ok(const char *buf, size_t n)
{
	const char *sec = NULL;
	size_t seclen = 0;
	bool sub = false;

	const char *l;
	size_t len;

	if (memchr(buf, '\0', n))
		return false;
	for (size_t at = 0; gitconfig_line(buf, n, &at, &l, &len);) {
		if (*l == '[') {
			const char *end = memchr(l, ']', len);
			size_t i = 1;
			if (!end || (size_t)(end - l) + 1 != len)
				return false; /* something after the header */
			sec = l + 1;
			while (l + i < end && (name_char(l[i]) || l[i] == '.'))
				i++;
			seclen = i - 1;
			sub = false;
			if (l + i < end) {
				/* [section "sub"]: nothing but a plain subsection */
				if (l[i] != ' ' || l + i + 2 > end || l[i + 1] != '"' ||
				    end[-1] != '"' || end - 1 <= l + i + 1)
					return false;
				for (const char *c = l + i + 2; c < end - 1; c++)
					if (*c == '"' || *c == '\\')
						return false;
				sub = true;
			} else if (memchr(sec, '.', seclen)) {
				/* the old [section.sub] */
				seclen = (size_t)((const char *)memchr(sec, '.', seclen) - sec);
				sub = true;
			}
			if (!seclen)
				return false;
			continue;
		}
		size_t k = 0;
		while (k < len && name_char(l[k]))
			k++;
		if (!k || !sec || (k < len && l[k] != ' ' && l[k] != '\t' && l[k] != '='))
			return false;
		if (memchr(l, '\\', len) || memchr(l, '"', len))
			return false;
		if (!cfg_key_ok(sec, seclen, sub, l, k))
			return false;
	}
	return true;
}

/*
 * A repository made during the run must hold no symbolic link (the
 * walk: git_links_walk()), but in the loose objects' directories: git writes
 * COMMIT_EDITMSG, MERGE_MSG, SQUASH_MSG, TAG_EDITMSG, the reflogs (a line
 * ending in the commit's subject), the sequencer's and a rebase's state by
 * opening the name, which follows a final link, so a link there has the
 * host's next git write into a file no grant gave (an outside review:
 * `git init sub` in the grant, sub/.git/SQUASH_MSG to a shell's start-up
 * file).  Past 8,192 entries or 8 levels down the rest is not looked at,
 * and that is no pass.
 */
struct why {
	char *buf;
	size_t size;
};

static bool made_link(void *ctx, int dir, const char *name, const char *rel, const struct stat *st)
{
	struct why *y = ctx;

	(void)dir, (void)name, (void)st;
	snprintf(y->buf, y->size, "a symbolic link at %s", rel);
	return false;
}

static bool made_unchecked(void *ctx, const char *rel, int err)
{
	struct why *y = ctx;

	if (err)
		snprintf(y->buf, y->size, "%s (%s)", *rel ? rel : ".", strerror(err));
	else
		snprintf(y->buf, y->size, "directories deeper than are looked through for links");
	return false;
}

static bool repo_files_ok(const char *git, char *why, size_t size);

/* Whether the repository made during the run at GIT (a directory) holds
 * nothing a host git would run or follow; else a reason in WHY. */
bool pw_repo_ok(const char *git, char *why, size_t size)
{
	if (!repo_files_ok(git, why, size))
		return false;
	_cleanup_close_ int g = protect_open_dir_nofollow(git);
	struct why y = {why, size};
	struct git_links_walk w = {.ctx = &y,
				   .link = made_link,
				   .unchecked = made_unchecked,
				   .max_depth = 8,
				   .budget = 8192};
	if (g < 0 || git_links_walk(g, &w))
		return true;
	if (!w.budget)
		snprintf(why, size, "more entries than are looked through for links");
	return false;
}

static bool repo_files_ok(const char *git, char *why, size_t size)
{
	_cleanup_close_ int g = protect_open_dir_nofollow(git);
	struct stat st;
	/* static, not in the frame: this runs at every tick (PW_AGAIN_MS)
	 * while a sandbox idles, and 64 KB of frame was 16 pages of stack
	 * zeroed at each (-ftrivial-auto-var-init), kept for the sandbox's
	 * life; here only the pages a config fills are written */
	static char buf[65536];

	if (g < 0)
		return true; /* gone: what replaced it is an event of its own */
	for (const char *const *n = (const char *const[]){"commondir", "config.worktree", NULL}; *n;
	     n++)
		if (fstatat(g, *n, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			snprintf(why, size, "%s", *n);
			return false;
		}
	int c = openat(g, "config", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (c < 0 && errno != ENOENT) {
		snprintf(why, size, "config (%s)", strerror(errno));
		return false;
	}
	if (c >= 0) {
		ssize_t got = -1;
		bool ok_st = fstat(c, &st) == 0 && S_ISREG(st.st_mode);
		/* one link only: a second name elsewhere could change it unseen
		 * (git writes its config by a rename, with one link) */
		if (ok_st && st.st_nlink == 1 && st.st_size < (off_t)sizeof(buf))
			got = read(c, buf, sizeof(buf));
		/* replaced since we opened it, before or while we read (git
		 * renames config.lock over it): the new one's own event checks
		 * it.  One fstat() for the decision, and one after the read:
		 * two before it let a rename in between read as a bad config */
		if (ok_st && (st.st_nlink == 0 || (fstat(c, &st) == 0 && st.st_nlink == 0))) {
			close(c);
			goto hooks;
		}
		close(c);
		if (got < 0 || got == (ssize_t)sizeof(buf) ||
		    !protwatch_config_ok(buf, (size_t)got)) {
			snprintf(why, size, "config sets what a host git would run");
			return false;
		}
	}
hooks:
	if (fstatat(g, "hooks", &st, AT_SYMLINK_NOFOLLOW) < 0)
		return true;
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, size, "hooks is no directory");
		return false;
	}
	DIR *d = dir_stream_at(g, "hooks", O_NOFOLLOW);
	struct dirent *de;
	bool ok = d != NULL;
	while (d && ok && (de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* git runs hooks/NAME, never a template's NAME.sample */
		if (l < 7 || strcmp(de->d_name + l - 7, ".sample") != 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode)) {
			snprintf(why, size, "hooks/%s", de->d_name);
			ok = false;
		}
	}
	if (d)
		closedir(d);
	return ok;
}
