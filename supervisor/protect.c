/* SPDX-License-Identifier: MIT */
/*
 * `protect`: files beneath a write grant that the host later reads as
 * commands (hooks, shell start-up files, agent settings and MCP server lists,
 * editor tasks) or that switch the sandbox off (the policy, the binary, the
 * audit log).  The sandbox must not write, replace, rename or remove them,
 * shadow them by moving a directory on the way to them, or create them when
 * they are absent.
 *
 * With a mount namespace:
 *   - the project's .git (directly in a write grant, the command's user's)
 *     gets a copy-on-write view instead (gitview.c): nothing beneath it is
 *     masked or checked at exit here;
 *   - an existing path is bound onto itself read-only;
 *   - every directory between the outermost write grant and it is bound
 *     onto itself ("pinned"): a mount point cannot be renamed, removed or
 *     renamed over (EBUSY), so no directory on the way can be moved aside
 *     and rebuilt with a planted file where the host looks;
 *   - an absent .git (or .git/hooks in a repository without one) gets an
 *     empty placeholder directory, mounted over read-only and removed at
 *     exit (git skips an empty .git and keeps searching upwards, and an
 *     empty hooks directory runs nothing, so the host sees what it saw;
 *     placeholder.c makes, shares between runs and removes them).
 * Without one every existing protected path is a Landlock carve-out (see
 * landlock/plan.c): the directories on the way keep only read rights, so
 * nothing on the way can be renamed, removed or created.
 *
 * Absent paths, both modes:
 *   - a path the policy names: without namespaces a Landlock carve-out even
 *     when absent: its nearest directory, and every directory on the way
 *     to it, get no new entries (Landlock rights are inherited down the
 *     tree, so a directory can only lose the right to make entries if all
 *     above it lose it too); with them its nearest directory is bound
 *     read-only, or, when that is a write grant, a carve-out;
 *   - a built-in name (.mcp.json, .envrc, .claude, .git/commondir, ...) is
 *     moved aside (renamed to NAME.ringfence-blocked, with a warning and an
 *     audit event) as soon as it is created, by the supervisor's watch
 *     (protwatch.c), and checked once more when the sandbox has ended; a
 *     crash journal (journal.c) has the next start make that check when
 *     the supervisor was killed.  A carve-out would cost every project the
 *     right to new files at its top, and a placeholder per name would leave
 *     files the host's tools read (an empty .mcp.json is a parse error, an
 *     empty .envrc a direnv prompt) or cost ~50 us of start-up each.  The
 *     limit: the moment between its creation and the watch's move; README
 *     says so.
 *
 * Other repositories in a write grant where projects are (discover_in())
 * get the built-in names of a project, without a view.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "protect_internal.h"

enum prot_kind {
	PROT_FILE = 1, /* absent: checked at exit */
	PROT_DIR,      /* a directory; absent: checked at exit */
	PROT_GITDIR,   /* .git: a directory is handled by its entries below;
			  a `gitdir:` file is protected; absent: placeholder */
	PROT_POLICY,   /* named by the policy: absent, a carve-out */
	PROT_DIR_HOLD, /* a directory; absent: a placeholder, as for .git */
	PROT_SUBGIT,   /* a submodule's .git: a `gitdir:` file is protected, a
			  directory by its entries; absent: checked at exit */
	PROT_PRESENT,  /* protected when present; absent: may be made (git's
			  state of a rebase the host left: its todo's `exec`
			  lines run at the host's `git rebase --continue`) */
	_PROT_MAX,
};

struct prot_builtin {
	const char *path;
	enum prot_kind kind;
};

/*
 * Beneath every write grant and the home directory.  Whole directories where
 * everything in them is configuration the host trusts (agents' project
 * settings, editors, hook managers); in .git, what git reads as commands or
 * as a pointer to other configuration (gitrepository-layout(5)).
 */
static const struct prot_builtin builtin_tree[] = {
    /* git: hooks, configuration, pointers to other repositories */
    {".git", PROT_GITDIR},
    {".git/config", PROT_FILE},
    {".git/hooks", PROT_DIR_HOLD},
    {".git/commondir", PROT_FILE},
    {".git/config.worktree", PROT_FILE},
    {".git/info", PROT_DIR},
    {".git/objects/info", PROT_DIR}, /* alternates */
    {".git/modules", PROT_DIR},
    {".git/worktrees", PROT_DIR},
    {".git/rebase-merge", PROT_PRESENT},
    {".git/rebase-apply", PROT_PRESENT},
    {".git/sequencer", PROT_PRESENT},
    {".git/remotes", PROT_PRESENT}, /* remotes defined outside the config */
    {".git/branches", PROT_PRESENT},
    {".gitmodules", PROT_FILE},
    /* hook managers and environment loaders (lefthook reads each of its
     * names, and merges its -local ones) */
    {".husky", PROT_DIR},
    {".pre-commit-config.yaml", PROT_FILE},
    {"lefthook.yml", PROT_FILE},
    {".lefthook.yml", PROT_FILE},
    {"lefthook.yaml", PROT_FILE},
    {".lefthook.yaml", PROT_FILE},
    {"lefthook-local.yml", PROT_FILE},
    {"lefthook-local.yaml", PROT_FILE},
    {".lefthook-local.yml", PROT_FILE},
    {".envrc", PROT_FILE},
    /* a dotenv file: Gemini CLI and Qwen Code load the first one upwards
     * from where they start into their own environment (BASH_ENV,
     * LD_PRELOAD, NODE_OPTIONS then reach what they run) */
    {".env", PROT_FILE},
    /* editors */
    {".vscode", PROT_DIR},
    {".idea", PROT_DIR},
    {".devcontainer", PROT_DIR},
    {".zed", PROT_DIR},
    /* editors' and tool managers' project files that run commands
     * (most ask once before trusting a new one) */
    {".nvim.lua", PROT_FILE},
    {".nvimrc", PROT_FILE},
    {".exrc", PROT_FILE},
    {".vimrc", PROT_FILE}, /* Vim's exrc reads it before .exrc */
    {"_vimrc", PROT_FILE},
    {"_exrc", PROT_FILE},
    {".mise.toml", PROT_FILE},
    {"mise.toml", PROT_FILE},
    {"mise.local.toml", PROT_FILE},
    {".mise.local.toml", PROT_FILE},
    {".mise", PROT_DIR},
    {".config/mise", PROT_DIR},
    /* interpreters started there: an interactive python imports readline
     * (and rlcompleter) with the working directory first on its path; pdb
     * runs .pdbrc */
    {"readline.py", PROT_FILE},
    {"rlcompleter.py", PROT_FILE},
    {".pdbrc", PROT_FILE},
    /* build tools' project configuration that names a program to run:
     * cargo's rustc-wrapper, yarn's yarnPath and yarn-path */
    {".cargo", PROT_DIR},
    {".yarnrc.yml", PROT_FILE},
    {".yarnrc", PROT_FILE},
    /* agents: settings with hooks, commands, MCP server lists */
    {".mcp.json", PROT_FILE},
    {".claude", PROT_DIR},
    {".cursor", PROT_DIR},
    {".gemini", PROT_DIR},
    {".codex", PROT_DIR},
    {".qwen", PROT_DIR},
    {".opencode", PROT_DIR},
    {"opencode.json", PROT_FILE},
    {"opencode.jsonc", PROT_FILE},
    {".github/copilot", PROT_DIR},
    {".github/hooks", PROT_DIR}, /* Copilot CLI's hooks */
};

/* In the home directory only: what the user's shell, session, git and
 * agents run or load.  Agent state directories that are write grants in the
 * shipped policies are protected entry by entry. */
static const struct prot_builtin builtin_home[] = {
    {".bashrc", PROT_FILE},
    {".bash_aliases", PROT_FILE}, /* Debian's .bashrc sources it */
    {".bash_completion", PROT_FILE},
    {".local/share/bash-completion", PROT_DIR},
    {"bin", PROT_DIR}, /* Debian's .profile puts it first on PATH */
    {".bash_profile", PROT_FILE},
    {".bash_login", PROT_FILE},
    {".bash_logout", PROT_FILE},
    {".profile", PROT_FILE},
    {".zshrc", PROT_FILE},
    {".zshenv", PROT_FILE},
    {".zprofile", PROT_FILE},
    {".zlogin", PROT_FILE},
    {".zlogout", PROT_FILE},
    {".config/fish", PROT_DIR},
    {".inputrc", PROT_FILE},
    {".tmux.conf", PROT_FILE},
    {".config/tmux", PROT_DIR},
    {".vim", PROT_DIR},
    {".config/nvim", PROT_DIR},
    {".local/share/nvim/site", PROT_DIR},
    {".emacs", PROT_FILE},
    {".emacs.el", PROT_FILE}, /* (load "~/.emacs") tries it first */
    {".emacs.elc", PROT_FILE},
    {".emacs.d", PROT_DIR},
    {".oh-my-zsh", PROT_DIR},
    {".wezterm.lua", PROT_FILE},
    {".config/wezterm", PROT_DIR},
    /* programs' start-up files that hold commands: less's key file (its
     * LESSOPEN runs at every less, man's and git's pager), Debian's
     * sensible-editor, gdb, pdb, IPython and Jupyter (Python programs),
     * psql, R, irb */
    {".lesskey", PROT_FILE},
    {".config/lesskey", PROT_FILE},
    {".selected_editor", PROT_FILE},
    {".gdbinit", PROT_FILE},
    {".config/gdb", PROT_DIR},
    {".ipython", PROT_DIR},
    {".jupyter", PROT_DIR},
    {".psqlrc", PROT_FILE},
    {".Rprofile", PROT_FILE},
    {".irbrc", PROT_FILE},
    {".pam_environment", PROT_FILE},
    {".xprofile", PROT_FILE},
    {".xsessionrc", PROT_FILE},
    {".xinitrc", PROT_FILE},
    {".xsession", PROT_FILE},
    {".gitconfig", PROT_FILE},
    {".config/git", PROT_DIR},
    {".config/husky", PROT_DIR},
    {".config/direnv", PROT_DIR},
    {".local/share/direnv", PROT_DIR},
    {".ssh/authorized_keys", PROT_FILE},
    {".ssh/config", PROT_FILE},
    {".ssh/rc", PROT_FILE},
    {".config/autostart", PROT_DIR},
    {".config/systemd", PROT_DIR},
    {".local/share/systemd", PROT_DIR},
    {".config/user-tmpfiles.d", PROT_DIR},
    {".local/share/dbus-1", PROT_DIR},
    {".local/share/applications", PROT_DIR},
    {".config/plasma-workspace", PROT_DIR},
    {".config/pipewire", PROT_DIR},
    {".config/environment.d", PROT_DIR},
    {".config/ringfence", PROT_DIR},
    {".config/Code/User", PROT_DIR},
    {".local/bin", PROT_DIR},
    /* Python's user site-packages (a .pth there runs at every python's
     * start) */
    {".local/lib", PROT_DIR},
    {".cargo/config.toml", PROT_FILE},
    {".cargo/config", PROT_FILE}, /* read before config.toml */
    {".cargo/bin", PROT_DIR},
    {".config/go/env", PROT_FILE}, /* GOFLAGS=-toolexec for every go */
    /* where interpreters, package managers and the agents' CLIs are
     * installed per user: what the host runs as `node`, `python`, `claude` */
    {".npm-global", PROT_DIR},
    {".nvm", PROT_DIR},
    {".volta", PROT_DIR},
    {".bun", PROT_DIR},
    {".deno", PROT_DIR},
    {".pyenv", PROT_DIR},
    {".rustup", PROT_DIR},
    {".asdf", PROT_DIR},
    {".sdkman", PROT_DIR},
    {".local/share/pipx", PROT_DIR},
    {".local/share/uv", PROT_DIR},
    {".local/share/pnpm", PROT_DIR},
    {".local/share/fnm", PROT_DIR},
    {".local/share/mise", PROT_DIR},
    {".config/pip", PROT_DIR},
    {".pip", PROT_DIR},
    {".npmrc", PROT_FILE},
    {".npm/_npx", PROT_DIR},
    {".cache/pre-commit", PROT_DIR},
    {".cache/node/corepack", PROT_DIR},
    /* Claude Code: ~/.claude is its state, but settings (hooks), commands,
     * agents, skills and plugins run on the host; ~/.claude.json holds
     * mcpServers */
    {".claude.json", PROT_FILE},
    {".claude/settings.json", PROT_FILE},
    {".claude/settings.local.json", PROT_FILE},
    {".claude/commands", PROT_DIR},
    {".claude/agents", PROT_DIR},
    {".claude/hooks", PROT_DIR},
    {".claude/skills", PROT_DIR},
    {".claude/plugins", PROT_DIR},
    /* the launcher and runtime of a local or native install, which the
     * host's `claude` runs */
    {".claude/local", PROT_DIR},
    {".local/share/claude", PROT_DIR},
    /* Codex (mcp_servers, notify), Gemini CLI and Qwen Code (mcpServers,
     * hooks), opencode, Copilot CLI, Cursor */
    {".codex/config.toml", PROT_FILE},
    {".gemini/settings.json", PROT_FILE},
    {".gemini/commands", PROT_DIR},
    {".qwen/settings.json", PROT_FILE},
    {".config/opencode", PROT_DIR},
    {".copilot/mcp-config.json", PROT_FILE},
    {".copilot/config.json", PROT_FILE},
    {".copilot/settings.json", PROT_FILE},
    {".copilot/lsp-config.json", PROT_FILE},
    {".copilot/hooks", PROT_DIR},
    {".copilot/installed-plugins", PROT_DIR},
    {".local/share/opencode/bin", PROT_DIR}, /* its downloaded tools */
    {".cursor/mcp.json", PROT_FILE},
    {".cursor/hooks.json", PROT_FILE},
};

size_t protect_builtin_names(bool home, const char ***ret)
{
	static const char *tree[ARRAY_SIZE(builtin_tree)], *hm[ARRAY_SIZE(builtin_home)];
	const struct prot_builtin *t = home ? builtin_home : builtin_tree;
	size_t n = home ? ARRAY_SIZE(builtin_home) : ARRAY_SIZE(builtin_tree);
	const char **out = home ? hm : tree;

	for (size_t i = 0; i < n; i++)
		out[i] = t[i].path;
	*ret = out;
	return n;
}

struct cand {
	char *path;
	enum prot_kind kind;
	size_t prefix; /* a built-in name: length of the canonical directory it
			  is looked up in, else 0 */
};

struct cands {
	struct cand *v;
	size_t n;
};

static void cand_add_in(struct cands *c, const char *path, enum prot_kind kind, size_t prefix);

static void cand_add(struct cands *c, const char *path, enum prot_kind kind)
{
	cand_add_in(c, path, kind, 0);
}

static void cand_add_in(struct cands *c, const char *path, enum prot_kind kind, size_t prefix)
{
	struct cand *v = realloc(c->v, (c->n + 1) * sizeof(*v));

	if (!v)
		die("out of memory");
	c->v = v;
	v[c->n].path = strdup(path);
	if (!v[c->n].path)
		die("out of memory");
	v[c->n].kind = kind;
	v[c->n].prefix = prefix;
	c->n++;
}

static int cmp_cand_len(const void *a, const void *b)
{
	size_t la = strlen(((const struct cand *)a)->path),
	       lb = strlen(((const struct cand *)b)->path);

	return la < lb ? -1 : la > lb;
}

static void cands_free(struct cands *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
	*c = (struct cands){0};
}

static void strs_add(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		die("out of memory");
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		die("out of memory");
	(*n)++;
}

/* Frees a list strs_add() made, and leaves it empty. */
static void strs_clear(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

static bool strs_has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static bool beneath_any(char **v, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (landlock_path_beneath(path, v[i]))
			return true;
	return false;
}

/* The outermost write root holding PATH, or NULL. */
static const char *outer_root(char **roots, size_t n, const char *path)
{
	const char *best = NULL;

	for (size_t i = 0; i < n; i++)
		if (landlock_path_beneath(path, roots[i]) &&
		    (!best || strlen(roots[i]) < strlen(best)))
			best = roots[i];
	return best;
}

/* The nearest existing ancestor of absent PATH, canonical, in BUF; false
 * when it is not a directory. */
static bool nearest_dir(const char *path, char *buf, size_t size)
{
	char tmp[PATH_MAX];
	struct stat st;
	char *slash;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s", path) >= sizeof(tmp))
		return false;
	for (;;) {
		slash = strrchr(tmp, '/');
		if (!slash)
			return false;
		if (slash == tmp) {
			snprintf(buf, size, "/");
			return true;
		}
		*slash = '\0';
		if (stat(tmp, &st) == 0)
			break;
		if (errno != ENOENT)
			return false;
	}
	if (!S_ISDIR(st.st_mode))
		return false;
	char *c = realpath(tmp, NULL);
	if (!c)
		return false;
	snprintf(buf, size, "%s", c);
	free(c);
	return true;
}

/*
 * The names in a directory, read once: most built-in names are absent, and
 * one getdents() over a project's or a home's top level answers for all of
 * them where an lstat() each cost ~1 us apiece at every start.
 */
struct listing {
	char *dir;
	char **names; /* sorted */
	size_t n;
	bool ok;
};

struct listings {
	struct listing *v;
	size_t n;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const struct listing *listing_of(struct listings *ls, const char *dir, size_t len)
{
	for (size_t i = 0; i < ls->n; i++)
		if (strlen(ls->v[i].dir) == len && strncmp(ls->v[i].dir, dir, len) == 0)
			return &ls->v[i];
	struct listing *v = realloc(ls->v, (ls->n + 1) * sizeof(*v));
	if (!v)
		die("out of memory");
	ls->v = v;
	struct listing *l = &v[ls->n++];
	*l = (struct listing){.dir = strndup(dir, len)};
	if (!l->dir)
		die("out of memory");
	_cleanup_(closedirp) DIR *d = opendir(l->dir);
	struct dirent *de;
	if (!d)
		return l; /* not ok: every name is looked up on its own */
	while ((de = readdir(d)))
		strs_add(&l->names, &l->n, de->d_name);
	qsort(l->names, l->n, sizeof(char *), cmp_str);
	l->ok = true;
	return l;
}

/* False only when the listing shows NAME's first component is absent. */
static bool may_exist(struct listings *ls, const char *path, size_t prefix)
{
	char first[NAME_MAX + 1];
	const char *rel = path + prefix + 1, *slash = strchr(rel, '/');
	size_t n = slash ? (size_t)(slash - rel) : strlen(rel);
	const char *key = first;

	if (!prefix || n > NAME_MAX)
		return true;
	const struct listing *l = listing_of(ls, path, prefix);
	if (!l->ok)
		return true;
	memcpy(first, rel, n);
	first[n] = '\0';
	return bsearch(&key, l->names, l->n, sizeof(char *), cmp_str) != NULL;
}

static void listings_free(struct listings *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		for (size_t j = 0; j < ls->v[i].n; j++)
			free(ls->v[i].names[j]);
		free(ls->v[i].names);
		free(ls->v[i].dir);
	}
	free(ls->v);
	*ls = (struct listings){0};
}

/* A git directory whose hooks and configuration are kept from the sandbox,
 * or a hooks directory or included file its config points at (gitscan.c
 * passes over them at exit). */
static void guard_gitdir(struct sandbox *sb, const struct stat *st)
{
	struct git_guarded *v;

	for (size_t i = 0; i < sb->n_git_guarded; i++)
		if (sb->git_guarded[i].dev == st->st_dev && sb->git_guarded[i].ino == st->st_ino)
			return;
	v = realloc(sb->git_guarded, (sb->n_git_guarded + 1) * sizeof(*v));
	if (!v)
		die("out of memory");
	sb->git_guarded = v;
	v[sb->n_git_guarded++] = (struct git_guarded){st->st_dev, st->st_ino};
}

/* Canonical paths of existing write grants: directories (where protected
 * entries are looked up) and all (a protected file granted by name). */
static void write_roots(const struct policy *p, char ***dirs, size_t *nd, char ***all, size_t *na)
{
	for (size_t i = 0; i < p->fs.write.n; i++) {
		struct stat st;
		char *c;
		if (lstat(p->fs.write.items[i].value, &st) < 0 || S_ISLNK(st.st_mode))
			continue;
		c = realpath(p->fs.write.items[i].value, NULL);
		if (!c)
			continue;
		if (S_ISDIR(st.st_mode))
			strs_add(dirs, nd, c);
		strs_add(all, na, c);
		free(c);
	}
}

/*
 * The submodules ROOT/.gitmodules names: each one's .git (a `gitdir:` file
 * the host's git follows when it recurses), and its config and hooks when
 * it is a directory.  Only `path = X` lines are read, X relative and
 * without "..": nothing else in the file matters here, and git itself is
 * not run on a tree the sandbox may have written.
 */
static void gather_submodules(const char *root, struct cands *cand)
{
	static const struct prot_builtin parts[] = {
	    {".git", PROT_SUBGIT},
	    {".git/config", PROT_FILE},
	    {".git/hooks", PROT_DIR},
	};
	char path[PATH_MAX], line[1024];
	FILE *f;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/.gitmodules", root) >= sizeof(path))
		return;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return;
	}
	for (int lines = 0; lines < 4096 && fgets(line, sizeof(line), f); lines++) {
		char *k = line + strspn(line, " \t"), *v, *end;
		if (strncmp(k, "path", 4) != 0)
			continue;
		v = k + 4 + strspn(k + 4, " \t");
		if (*v != '=')
			continue;
		v += 1 + strspn(v + 1, " \t");
		end = v + strcspn(v, "\r\n;#");
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end - v >= 2 && *v == '"' && end[-1] == '"') {
			v++;
			end--;
		}
		*end = '\0';
		while (end > v && end[-1] == '/')
			*--end = '\0';
		if (!*v || *v == '/' || strstr(v, "..") || strchr(v, '"') || strchr(v, '\\'))
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
			if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", root, v,
					     parts[i].path) < sizeof(path))
				cand_add(cand, path, parts[i].kind);
	}
	fclose(f);
}

/*
 * What the config of the git directory GITDIR points git at outside it:
 * the core.hooksPath directory (relative to TOP, the worktree or the bare
 * repository) and included files (relative to GITDIR), protected as its
 * hooks and config are.  Projects keep them in the worktree (`.githooks`,
 * a shared config file), where the grant reaches.  A value naming ".."
 * anywhere but at its start (`../file`, from the .git) is not followed:
 * gitscan.c checks what it names at exit.
 */
struct pointers {
	struct sandbox *sb;
	struct cands *cand;
	const char *gitdir, *top;
	int depth; /* of includes */
};

/* (a helper of on_git_pointer(), apart: each PATH_MAX buffer is a page
 * touched at every start otherwise, and a fault is dear on some virtual
 * machines) */
static void on_git_pointer(void *ud, enum git_pointer kind, const char *value);

static void read_included(const struct pointers *pp, const char *path)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(path, '/') - path), path);
	struct pointers in = {pp->sb, pp->cand, dir[0] ? dir : "/", pp->top, pp->depth + 1};
	gitconfig_file(open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), on_git_pointer, &in, true);
}

static void on_git_pointer(void *ud, enum git_pointer kind, const char *value)
{
	const struct pointers *pp = ud;
	const char *home = getenv("HOME"),
		   *base = kind == PTR_HOOKS || kind == PTR_PROGRAM || kind == PTR_PROGRAM_ARG
			       ? pp->top
			       : pp->gitdir;
	char path[PATH_MAX];

	if (kind == PTR_TEMPLATE || kind == PTR_WORKTREE)
		return; /* the host's own configuration's; read before */
	size_t tl = strlen(pp->top);
	if (kind == PTR_INCLUDE && strncmp(value, "../", 3) == 0 && strlen(pp->gitdir) > tl &&
	    strncmp(pp->gitdir, pp->top, tl) == 0 && strcmp(pp->gitdir + tl, "/.git") == 0) {
		base = pp->top;
		value += 3;
	}
	/* "." would make the worktree itself read-only: left to the exit */
	if (!value[0] || strcmp(value, ".") == 0 || strcmp(value, "./") == 0 ||
	    strstr(value, "/../") || strncmp(value, "../", 3) == 0 || strstr(value, "/./") ||
	    (strlen(value) >= 3 && strcmp(value + strlen(value) - 3, "/..") == 0) ||
	    strcmp(value, "..") == 0)
		return;
	int n = strncmp(value, "~/", 2) == 0
		    ? (home ? snprintf(path, sizeof(path), "%s/%s", home, value + 2) : -1)
		: value[0] == '/' ? snprintf(path, sizeof(path), "%s", value)
				  : snprintf(path, sizeof(path), "%s/%s", base, value);
	if (n < 0 || (size_t)n >= sizeof(path))
		return;
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	if ((kind == PTR_PROGRAM || kind == PTR_PROGRAM_ARG) && !gitconfig_program_file(path, kind))
		return;
	/* (a link on the way, a tracked `scripts -> tools`, is protected
	 * where it leads; one the run replaces is judged at exit, gitscan.c) */
	cand_add(pp->cand, path, kind == PTR_HOOKS ? PROT_DIR : PROT_FILE);
	/* what an included file names: read too (git stops at ten levels),
	 * wherever it is (one outside the grants names files in them) */
	if (kind == PTR_INCLUDE && pp->depth < 10)
		read_included(pp, path);
	/* kept from the sandbox from now on: what changes there during the
	 * run is the host's, and the walk at exit leaves it */
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISLNK(st.st_mode))
		guard_gitdir(pp->sb, &st);
}

/* The configs the .git file of the worktree TOP names, read for what
 * they point at from TOP: whether there were any. */
static bool worktree_pointers(struct sandbox *sb, const char *top, struct cands *cand)
{
	char cfg[2][PATH_MAX], dir[PATH_MAX], wt[PATH_MAX];
	size_t n = gitconfig_worktree_files(top, cfg);

	for (size_t i = 0; i < n; i++) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(cfg[i], '/') - cfg[i]), cfg[i]);
		struct pointers wp = {sb, cand, dir,
				      n == 1 && gitconfig_core_worktree(cfg[i], dir, wt) ? wt : top,
				      0};
		gitconfig_file(open(cfg[i], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC),
			       on_git_pointer, &wp, true);
	}
	return n > 0;
}

static void gather_pointers(struct sandbox *sb, const char *gitdir, const char *top,
			    struct cands *cand)
{
	char path[PATH_MAX], wt[PATH_MAX];
	struct stat st;

	/* core.worktree: where git runs the config's commands and hooks
	 * from (`app.git` with `worktree = ../app`, a deploy's) */
	if ((size_t)snprintf(path, sizeof(path), "%s/config", gitdir) < sizeof(path) &&
	    gitconfig_core_worktree(path, gitdir, wt))
		top = wt;
	struct pointers pp = {sb, cand, gitdir, top, 0};

	/* the host's own configuration's hooks paths (a relative one names
	 * a directory in each worktree) and the files its commands name,
	 * for a repository only */
	if (lstat(gitdir, &st) == 0) {
		for (size_t i = 0; i < sb->n_git_global_hooks; i++)
			on_git_pointer(&pp, PTR_HOOKS, sb->git_global_hooks[i]);
		for (size_t i = 0; i < sb->n_git_global_programs; i++)
			if (sb->git_global_programs[i][0] != '/')
				on_git_pointer(&pp, PTR_PROGRAM, sb->git_global_programs[i]);
	}
	/* a .git file (a submodule, a linked worktree): the configs it
	 * names, what they run run from this top */
	if (lstat(gitdir, &st) == 0 && S_ISREG(st.st_mode) && worktree_pointers(sb, top, cand))
		return;
	if ((size_t)snprintf(path, sizeof(path), "%s/config", gitdir) >= sizeof(path))
		return;
	gitconfig_file(open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), on_git_pointer,
		       &pp, true);
}

/*
 * Other repositories in a write grant (a grant on ~/src holds many; a
 * project holds vendored ones): the host's git, agents and editors run in
 * them as in the project, so each one found gets the built-in names of a
 * project.  Found by a walk three levels down (and into the top of each
 * one found, for one nested in it), entries starting with '.' and
 * node_modules skipped, within a budget of listings and probes: a grant on
 * a huge tree must not cost every start more than a few milliseconds; and
 * on the way from a grant to the working directory, whatever its depth.
 * What lies deeper, or past the budget, is found by the walk of
 * gitscan.c made while the sandbox runs (protwatch_find()) and watched from
 * then, and checked again when it has ended; README says so.  The directories listed are watched
 * while the sandbox runs (protwatch.c): a repository made in one is moved aside at once.
 */
#define DISCOVER_LISTINGS 48
#define DISCOVER_PROBES	  512
#define DISCOVER_DEPTH	  3

struct discover {
	unsigned listings, probes;
	bool cut;
};

static bool is_repo(int dir, const char *name, struct discover *d, struct stat *st)
{
	char rel[NAME_MAX + 8];

	if (d->probes++ >= DISCOVER_PROBES) {
		d->cut = true;
		return false;
	}
	snprintf(rel, sizeof(rel), "%s/.git", name);
	return fstatat(dir, rel, st, AT_SYMLINK_NOFOLLOW) == 0;
}

/*
 * A bare repository by git's naming (`git init --bare NAME.git`, `git clone
 * --bare`): a host `git push` into it runs its hooks (pre-receive, update,
 * post-receive), and a host git run inside it reads its config.  Only names
 * ending in .git are probed, so the walk's budget goes to the rest.
 */
static bool is_bare_repo(int dir, const char *name, struct discover *d)
{
	char rel[NAME_MAX + 16];
	size_t l = strlen(name);
	struct stat st;

	if (l <= 4 || strcmp(name + l - 4, ".git") != 0)
		return false;
	if (d->probes++ >= DISCOVER_PROBES) {
		d->cut = true;
		return false;
	}
	snprintf(rel, sizeof(rel), "%s/HEAD", name);
	if (fstatat(dir, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return false;
	snprintf(rel, sizeof(rel), "%s/objects", name);
	return fstatat(dir, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static bool skipped_name(const char *n)
{
	return n[0] == '.' || strcmp(n, "node_modules") == 0;
}

/* The repository at TOP (its .git there): the built-in names of a
 * project, what its config points git at, its index and refs checked at
 * the end as a grant's (githeads.c; a .git file, a submodule's or a linked
 * worktree's, names a git directory githeads.c takes when it is none of
 * those), its top watched. */
static void found_repo(struct sandbox *sb, const char *top, struct cands *cand)
{
	char git[PATH_MAX + 8];

	if (!strs_has(sb->nested_repos, sb->n_nested_repos, top))
		strs_add(&sb->nested_repos, &sb->n_nested_repos, top);
	for (size_t j = 0; j < ARRAY_SIZE(builtin_tree); j++) {
		char c[PATH_MAX];
		if ((size_t)snprintf(c, sizeof(c), "%s/%s", top, builtin_tree[j].path) < sizeof(c))
			cand_add_in(cand, c, builtin_tree[j].kind, strlen(top));
	}
	gather_submodules(top, cand);
	snprintf(git, sizeof(git), "%s/.git", top);
	gather_pointers(sb, git, top, cand);
	if (!strs_has(sb->prot_trees, sb->n_prot_trees, top))
		strs_add(&sb->prot_trees, &sb->n_prot_trees, top);
}

/* A bare repository at PATH (DIR's NAME). */
static void found_bare(struct sandbox *sb, int dir, const char *name, const char *path,
		       struct cands *cand)
{
	struct stat st;

	/* its branches checked at the end (githeads.c) */
	if (!strs_has(sb->nested_repos, sb->n_nested_repos, path))
		strs_add(&sb->nested_repos, &sb->n_nested_repos, path);
	/* the entries git reads in a repository directory, as for a .git
	 * (builtin_tree's ".git/..." names) */
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		guard_gitdir(sb, &st);
	gather_pointers(sb, path, path, cand);
	for (size_t j = 0; j < ARRAY_SIZE(builtin_tree); j++) {
		char c[PATH_MAX];
		const char *in = builtin_tree[j].path;
		if (strncmp(in, ".git/", 5) != 0)
			continue;
		if ((size_t)snprintf(c, sizeof(c), "%s/%s", path, in + 5) < sizeof(c))
			cand_add_in(cand, c, builtin_tree[j].kind, strlen(path));
	}
}

/* A directory the walk lists: its depth below the grant, and whether it
 * is a repository found (whose top alone is listed, for one nested in
 * it: a vendored checkout). */
struct queued {
	char *path;
	int depth;
	bool repo;
};

/*
 * The walk from ROOT, breadth first (what is nearer the grant is found
 * before the budget is spent), DISCOVER_DEPTH levels down: HOST/ORG/REPO
 * as ghq and Go lay projects out.
 */
static void discover_in(struct sandbox *sb, const char *root, struct cands *cand,
			struct discover *d)
{
	struct queued *q = calloc(DISCOVER_LISTINGS + 1, sizeof(*q));
	size_t head = 0, tail = 0;

	if (!q)
		die("out of memory");
	q[tail++] = (struct queued){strdup(root), 1, false};
	for (; head < tail && !d->cut; head++) {
		struct queued at = q[head];
		char buf[PATH_MAX];
		struct dirent *de;
		if (!at.path)
			continue;
		if (d->listings++ >= DISCOVER_LISTINGS) {
			d->cut = true;
			break;
		}
		_cleanup_(closedirp) DIR *dir = dir_stream_at(AT_FDCWD, at.path, O_NOFOLLOW);
		int dfd = dir ? dirfd(dir) : -1;
		/* d_type: a flat directory of many files costs no stat() */
		while (dir && (de = readdir(dir))) {
			const char *n = de->d_name;
			struct stat st;
			if (skipped_name(n) || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
				continue;
			if (de->d_type == DT_UNKNOWN) {
				if (d->probes++ >= DISCOVER_PROBES) {
					d->cut = true;
					break;
				}
				if (fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
				    !S_ISDIR(st.st_mode))
					continue;
			}
			if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", at.path, n) >= sizeof(buf))
				continue;
			bool repo = is_repo(dfd, n, d, &st);
			if (repo)
				found_repo(sb, buf, cand);
			else if (!at.repo && is_bare_repo(dfd, n, d))
				found_bare(sb, dfd, n, buf, cand);
			else if (at.repo || d->cut)
				continue; /* a repository's own directories are its own */
			if (at.depth >= DISCOVER_DEPTH || tail > DISCOVER_LISTINGS)
				continue;
			if (!repo && !strs_has(sb->prot_trees, sb->n_prot_trees, buf))
				strs_add(&sb->prot_trees, &sb->n_prot_trees, buf);
			q[tail++] = (struct queued){strdup(buf), at.depth + 1, repo};
		}
	}
	for (size_t i = 0; i < tail; i++)
		free(q[i].path);
	free(q);
}

/* The repositories on the way from the write grant ROOT down to the
 * working directory (a grant on ~/src, the command started in
 * ~/src/HOST/ORG/REPO): found whatever the walk's depth and budget. */
static void discover_cwd(struct sandbox *sb, const char *root, struct cands *cand)
{
	char dir[PATH_MAX], git[PATH_MAX + 8];
	struct stat st;
	size_t rl = strlen(root);

	if (!sb->cwd[0] || !landlock_path_beneath(sb->cwd, root) ||
	    (size_t)snprintf(dir, sizeof(dir), "%s", sb->cwd) >= sizeof(dir))
		return;
	while (strlen(dir) > rl) {
		if ((size_t)snprintf(git, sizeof(git), "%s/.git", dir) < sizeof(git) &&
		    lstat(git, &st) == 0)
			found_repo(sb, dir, cand);
		char *slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			break;
		*slash = '\0';
	}
}

/* A write grant holds PATH, or lies within it (a protected path granted by
 * name stays read-only): else the sandbox cannot touch it, and the home's
 * ~100 names cost no lstat() each (the home is rarely a write grant). */
static bool write_reaches(char **roots, size_t nroots, const char *path)
{
	for (size_t r = 0; r < nroots; r++)
		if (landlock_path_beneath(path, roots[r]) || landlock_path_beneath(roots[r], path))
			return true;
	return false;
}

static void gather(struct sandbox *sb, char **roots, size_t nroots, struct cands *cand,
		   struct listings *ls)
{
	const struct policy *p = sb->policy;
	_cleanup_free_ char *home = sb->home ? realpath(sb->home, NULL) : NULL;
	char buf[PATH_MAX];
	struct discover disc = {0};
	ssize_t n;

	for (size_t i = 0; i < p->fs.protect.n; i++) {
		const struct policy_item *it = &p->fs.protect.items[i];
		if (access(it->value, F_OK) < 0) {
			if (it->required)
				die("%s:%u: filesystem.protect: '%s': %s", origin_file(&it->origin),
				    it->origin.line, it->value, strerror(errno));
			note("%s does not exist: it may not be created either", it->value);
		}
		cand_add(cand, it->value, PROT_POLICY);
	}
	for (size_t r = 0; r < nroots; r++) {
		/* device and kernel file systems hold no project */
		if (landlock_path_beneath(roots[r], "/dev") ||
		    landlock_path_beneath(roots[r], "/proc") ||
		    landlock_path_beneath(roots[r], "/sys"))
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(builtin_tree); i++) {
			snprintf(buf, sizeof(buf), "%s/%s", roots[r], builtin_tree[i].path);
			cand_add_in(cand, buf, builtin_tree[i].kind, strlen(roots[r]));
		}
		gather_submodules(roots[r], cand);
		snprintf(buf, sizeof(buf), "%s/.git", roots[r]);
		gather_pointers(sb, buf, roots[r], cand);
		/* where projects are: the grant holding the working directory,
		 * those within it, and repositories; not agents' state and
		 * caches (where tools clone on their own) */
		snprintf(buf, sizeof(buf), "%s/.git", roots[r]);
		if (landlock_path_beneath(sb->cwd, roots[r]) ||
		    landlock_path_beneath(roots[r], sb->cwd) ||
		    may_exist(ls, buf, strlen(roots[r]))) {
			if (!strs_has(sb->prot_trees, sb->n_prot_trees, roots[r]))
				strs_add(&sb->prot_trees, &sb->n_prot_trees, roots[r]);
			discover_in(sb, roots[r], cand, &disc);
			discover_cwd(sb, roots[r], cand);
		}
	}
	if (disc.cut)
		note("the write grants hold more than a walk at start looks at: repositories "
		     "deeper down are checked only when the sandbox has ended");
	if (home) {
		for (size_t i = 0; i < ARRAY_SIZE(builtin_tree); i++) {
			/* ~/.claude and the like are agents' state there */
			if (!strchr(builtin_tree[i].path, '/') && builtin_tree[i].kind == PROT_DIR)
				continue;
			snprintf(buf, sizeof(buf), "%s/%s", home, builtin_tree[i].path);
			if (write_reaches(roots, nroots, buf))
				cand_add_in(cand, buf, builtin_tree[i].kind, strlen(home));
		}
		for (size_t i = 0; i < ARRAY_SIZE(builtin_home); i++) {
			snprintf(buf, sizeof(buf), "%s/%s", home, builtin_home[i].path);
			if (write_reaches(roots, nroots, buf))
				cand_add_in(cand, buf, builtin_home[i].kind, strlen(home));
		}
	}
	/* the files the host's own git configuration includes: every host
	 * git reads them as its configuration (core.fsmonitor, aliases) */
	for (size_t i = 0; i < sb->n_git_global_includes; i++)
		cand_add(cand, sb->git_global_includes[i], PROT_FILE);
	/* what its commands run (`diff.external = ~/bin/difftool`), and the
	 * template directory copied into every repository it makes (a hook
	 * there runs at the end of the host's next clone) */
	for (size_t i = 0; i < sb->n_git_global_programs; i++)
		if (sb->git_global_programs[i][0] == '/' &&
		    gitconfig_program_file(sb->git_global_programs[i], PTR_PROGRAM))
			cand_add(cand, sb->git_global_programs[i], PROT_FILE);
	for (size_t i = 0; i < sb->n_git_global_templates; i++)
		cand_add(cand, sb->git_global_templates[i], PROT_DIR);
	/* the policy files (a relative -p is relative to where we started) */
	for (size_t i = 0; i < p->n_files; i++) {
		if (p->files[i][0] == '/')
			cand_add(cand, p->files[i], PROT_FILE);
		else if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", sb->cwd, p->files[i]) <
			 sizeof(buf))
			cand_add(cand, buf, PROT_FILE);
	}
	n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		cand_add(cand, buf, PROT_FILE);
	}
	if (p->log.file)
		cand_add(cand, p->log.file, PROT_FILE);
}

/*
 * Walks PATH as the kernel resolves it, from CUR (canonical, "" for "/"; an
 * absolute PATH starts over from "/"), leaving in CUR the canonical path and
 * adding to LINKS each symbolic link met beneath a write root (ROOTS), a
 * link in the chain of another included.  False when a component is
 * absent (CUR then ends at the last that exists) or the walk is too deep.
 */
/* Directories a walk found to be no link, for the next deny path's walk
 * (the default's share /etc and the home: ~20 lstat() calls a start). */
struct plain_dirs {
	char **v;
	size_t n;
};

static bool walk_way(const char *path, char *cur, size_t size, char **roots, size_t nroots,
		     char ***links, size_t *nlinks, struct plain_dirs *plain, int depth)
{
	char buf[PATH_MAX], *save = NULL;

	if (depth > 40 || (size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return false;
	if (path[0] == '/')
		cur[0] = '\0';
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		size_t len = strlen(cur);
		char target[PATH_MAX];
		struct stat st;
		ssize_t n;

		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) { /* CUR is canonical: its parent is lexical */
			char *s = strrchr(cur, '/');
			if (s)
				*s = '\0';
			continue;
		}
		if ((size_t)snprintf(cur + len, size - len, "/%s", c) >= size - len) {
			cur[len] = '\0';
			return false;
		}
		if (strs_has(plain->v, plain->n, cur))
			continue;
		if (lstat(cur, &st) < 0) {
			cur[len] = '\0';
			return false;
		}
		if (S_ISDIR(st.st_mode))
			strs_add(&plain->v, &plain->n, cur);
		if (!S_ISLNK(st.st_mode))
			continue;
		n = readlink(cur, target, sizeof(target) - 1);
		if (n < 0) {
			cur[len] = '\0';
			return false;
		}
		target[n] = '\0';
		if (beneath_any(roots, nroots, cur) && !strs_has(*links, *nlinks, cur))
			strs_add(links, nlinks, cur);
		cur[len] = '\0'; /* a relative target starts in the link's directory */
		if (!walk_way(target, cur, size, roots, nroots, links, nlinks, plain, depth + 1))
			return false;
	}
	return true;
}

/*
 * The way to each deny path beneath a write grant, held as the way to a
 * protected path is.  The host's tools write by name (`aws configure`, `gh
 * auth login`): were the command to rename a directory on the way out of it
 * (a mask moves with the directory it is mounted in), or replace a symbolic
 * link on it (the deny covers the link's target, not the link), and make the
 * path again as its own directory, what the host writes there next is the
 * command's to read, and the host's own directory is left renamed or
 * unlinked.  So:
 *   - LINKS gets each symbolic link met on the way, the deny path's own and
 *     those in the chain of another included, that lies beneath a write
 *     grant: with a mount namespace it is pinned (a mount point cannot be
 *     removed, renamed or renamed over), without one it is a carve-out
 *     (NOFOLLOW, read-only: the directories on the way keep only read
 *     rights, and the file gate refuses its name);
 *   - WAY gets each resolved deny path there, and each such link, whose
 *     directories on the way are pinned with a mount namespace.  Without
 *     one the deny's own carve-out already leaves them no right to remove
 *     or rename, and the file gate refuses their names.
 * A deny path that resolves to itself has no link on the way: only a path
 * that does not (or is absent) is walked, a component at a time.
 */
static void deny_ways(struct sandbox *sb, char **roots, size_t nroots, char ***links,
		      size_t *nlinks, char ***way, size_t *nway)
{
	char *const *canon = sandbox_deny_canon(sb);
	const struct policy_list *d = &sb->policy->fs.deny;
	struct plain_dirs plain = {0};

	for (size_t i = 0; nroots && i < d->n; i++) {
		char cur[PATH_MAX] = "";
		size_t before = *nlinks;
		const char *c = canon[i];
		if (!c || strcmp(c, d->items[i].value) != 0)
			(void)walk_way(d->items[i].value, cur, sizeof(cur), roots, nroots, links,
				       nlinks, &plain, 0);
		if (c && beneath_any(roots, nroots, c) && !strs_has(*way, *nway, c))
			strs_add(way, nway, c);
		for (size_t k = before; k < *nlinks; k++)
			if (!strs_has(*way, *nway, (*links)[k]))
				strs_add(way, nway, (*links)[k]);
	}
	strs_clear(&plain.v, &plain.n);
}

/*
 * A deny path written as a directory (a trailing '/': the default's
 * ~/.aws/, ~/.docker/, ...) that is absent at start, beneath a grant, with a
 * mount namespace: the host may make it while the command runs (a first
 * `aws configure`), and what it writes there would be read through the
 * grant above.  An empty directory is made there now (0700, its parent's
 * owner's), masked like any deny path (layers.c) and pinned on the way to it
 * (deny_ways), and removed at exit when still empty, as protect's own
 * placeholders are (shared between runs by a lock): the host's `mkdir -p`
 * finds it and writes into it, out of the sandbox's sight.  An empty
 * directory already there is taken as such a placeholder (another run's).
 * Not held: a file (a placeholder file would be replaced by the host's
 * rename, which takes the mask with it), a path whose parent is absent too,
 * and without a mount namespace (SECURITY.md).
 */
void protect_deny_placeholders(struct sandbox *sb)
{
	const struct policy *p = sb->policy;
	char *const *canon = sandbox_deny_canon(sb);
	const struct policy_list *grants[] = {&p->fs.read, &p->fs.exec, &p->fs.write};

	if (sb->ns != NS_FULL || sb->replanning)
		return;
	for (size_t i = 0; i < p->fs.deny.n; i++) {
		const struct policy_item *it = &p->fs.deny.items[i];
		char name[NAME_MAX + 1];
		struct stat st, up;
		bool granted = false;
		int fd;

		if (!it->is_dir ||
		    (canon[i] && !(lstat(canon[i], &st) == 0 && S_ISDIR(st.st_mode) &&
				   protect_dir_is_empty(canon[i]))))
			continue;
		for (size_t g = 0; g < ARRAY_SIZE(grants) && !granted; g++)
			for (size_t k = 0; k < grants[g]->n && !granted; k++)
				granted =
				    landlock_path_beneath(it->value, grants[g]->items[k].value) &&
				    strcmp(it->value, grants[g]->items[k].value) != 0;
		if (!granted)
			continue;
		_cleanup_close_ int dir = protect_split_parent(it->value, name, sizeof(name));
		if (dir < 0 || fstat(dir, &up) < 0) {
			note("%s: the directory above it does not exist (or is reached through a "
			     "symbolic link): what the host makes there during the run is not "
			     "hidden",
			     it->value);
			continue;
		}
		if (!canon[i]) {
			if (mkdirat(dir, name, 0700) < 0) {
				if (errno == EEXIST)
					continue; /* made meanwhile: the host's */
				note(
				    "%s: no placeholder (%s): what the host makes there during the "
				    "run is not hidden",
				    it->value, strerror(errno));
				continue;
			}
			if (geteuid() == 0 && (up.st_uid != 0 || up.st_gid != 0) &&
			    fchownat(dir, name, up.st_uid, up.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
				die("cannot hand the placeholder %s to its directory's owner: %s",
				    it->value, strerror(errno));
		}
		fd = placeholder_take(it->value, &st);
		if (fd < 0) {
			if (fd != -ESTALE)
				die("cannot hold the placeholder %s: %s", it->value, strerror(-fd));
			continue; /* not empty, or replaced: the host's */
		}
		placeholder_add(sb, it->value, &st, fd);
		if (!canon[i]) {
			sb->deny_canon[i] = realpath(it->value, NULL);
			if (!sb->deny_canon[i])
				die("%s: %s", it->value, strerror(errno));
		}
	}
}

void protect_prepare(struct sandbox *sb, struct landlock_carveout **ret_co, size_t *ret_nco)
{
	char **roots = NULL, **all = NULL, **ro = NULL, **absent = NULL, **anear = NULL;
	size_t nroots = 0, nall = 0, nro = 0, nabsent = 0, nnear = 0;
	enum prot_kind *akind = NULL;
	struct cands cand = {0};
	struct listings ls = {0};
	struct landlock_carveout *co = NULL;
	size_t nco = 0;
	bool ns = sb->ns == NS_FULL;

	strs_clear(&sb->watch, &sb->n_watch);
	free(sb->git_guarded);
	sb->git_guarded = NULL;
	sb->n_git_guarded = 0;
	/* planned again without namespaces (namespaces = auto): no views */
	strs_clear(&sb->gitview_paths, &sb->n_gitview_paths);

	protect_free_watch_lists(sb);
	write_roots(sb->policy, &roots, &nroots, &all, &nall);
	gitconfig_host_read(sb);
	if (nall > 0)
		gather(sb, roots, nroots, &cand, &ls);

	/* sort candidates by length: a parent comes before what it holds */
	if (cand.n > 1) /* no write grant: no array at all, and qsort wants one */
		qsort(cand.v, cand.n, sizeof(*cand.v), cmp_cand_len);

	for (size_t i = 0; i < cand.n; i++) {
		const char *path = cand.v[i].path;
		enum prot_kind kind = cand.v[i].kind;
		size_t prefix = cand.v[i].prefix;
		struct stat st;
		char near[PATH_MAX];
		bool there = may_exist(&ls, path, prefix);

		if (!there)
			errno = ENOENT;
		/* the view hides the real .git whole: nothing beneath it
		 * needs a mount or a check at exit */
		if (ns && beneath_any(sb->gitview_paths, sb->n_gitview_paths, path))
			continue;
		/* a private stand-in is the sandbox's own: the host's file is
		 * out of its reach, behind the bind (state.c) */
		if (ns && state_is_private(sb, path))
			continue;
		if (there && ns && (kind == PROT_GITDIR || kind == PROT_DIR_HOLD) &&
		    !placeholder_is(sb, path) && lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
		    protect_dir_is_empty(path)) {
			/* another run's placeholder, or an empty directory git
			 * passes over as well: shared as a placeholder */
			int fd = placeholder_take(path, &st);
			if (fd >= 0) {
				placeholder_add(sb, path, &st, fd);
				strs_add(&ro, &nro, path);
				continue;
			}
			if (fd != -ESTALE)
				die("cannot hold the placeholder %s: %s", path, strerror(-fd));
			there = false; /* removed meanwhile: made again below */
		}
		if (!there)
			errno = ENOENT;
		if (there && lstat(path, &st) == 0) {
			char *c;
			/* a .git directory is guarded by its entries: git must
			 * keep writing objects, refs and the index */
			if ((kind == PROT_GITDIR || kind == PROT_SUBGIT) && S_ISDIR(st.st_mode) &&
			    !placeholder_is(sb, path)) {
				guard_gitdir(sb, &st); /* its entries are candidates */
				/* the project's own: a copy-on-write view (gitview.c) */
				char top[PATH_MAX];
				snprintf(top, sizeof(top), "%.*s", (int)prefix, path);
				if (ns && kind == PROT_GITDIR && prefix &&
				    strs_has(roots, nroots, top) &&
				    gitview_wanted(sb->started_as_root, sb->uid, sb->outer_uid,
						   &st) &&
				    !strs_has(sb->gitview_paths, sb->n_gitview_paths, path))
					strs_add(&sb->gitview_paths, &sb->n_gitview_paths, path);
				continue;
			}
			/* one name in a canonical directory, not a link: the
			 * path is canonical already */
			if (prefix && !strchr(path + prefix + 1, '/') && !S_ISLNK(st.st_mode))
				c = strdup(path);
			else
				c = realpath(path, NULL);
			if (!c)
				continue;
			if (beneath_any(all, nall, c) && !strs_has(ro, nro, c))
				strs_add(&ro, &nro, c);
			free(c);
			continue;
		}
		/* the string test first: most candidates are absent, and
		 * most of those lie outside every write grant */
		if (kind == PROT_PRESENT || errno != ENOENT || !beneath_any(roots, nroots, path) ||
		    beneath_any(absent, nabsent, path))
			continue;
		/* absent: in canonical form, unless something above it is
		 * already protected (or absent and guarded) */
		char canon[PATH_MAX];
		const char *tail = strrchr(path, '/');
		snprintf(near, sizeof(near), "%.*s", (int)(tail - path), path);
		if (!strs_has(roots, nroots, near)) {
			/* not directly in a grant: find what exists */
			if (!nearest_dir(path, near, sizeof(near)) ||
			    !beneath_any(roots, nroots, near))
				continue; /* nothing can be made there */
			/* the missing tail starts where the nearest directory ends */
			char tmp[PATH_MAX];
			snprintf(tmp, sizeof(tmp), "%s", path);
			for (;;) {
				char *slash = strrchr(tmp, '/');
				struct stat s2;
				if (!slash)
					break;
				*slash = '\0';
				tail = path + (slash - tmp);
				if (slash == tmp || stat(tmp, &s2) == 0)
					break;
			}
		}
		if ((size_t)snprintf(canon, sizeof(canon), "%s%s", strcmp(near, "/") ? near : "",
				     tail) >= sizeof(canon))
			continue;
		if (beneath_any(ro, nro, canon) || beneath_any(absent, nabsent, canon))
			continue;
		enum prot_kind *k = realloc(akind, (nabsent + 1) * sizeof(*k));
		if (!k)
			die("out of memory");
		akind = k;
		akind[nabsent] = kind;
		strs_add(&anear, &nnear, near);
		strs_add(&absent, &nabsent, canon);
	}

	char **dlinks = NULL, **dway = NULL;
	size_t ndlinks = 0, ndway = 0;
	deny_ways(sb, roots, nroots, &dlinks, &ndlinks, &dway, &ndway);

	co = calloc(nro + nabsent + ndlinks + 1, sizeof(*co));
	if (!co)
		die("out of memory");
	for (size_t i = 0; i < nabsent; i++) {
		const char *path = absent[i], *near = anear[i];
		const char *slash = strrchr(path, '/');
		struct stat st;
		/* the parent exists: PATH is one name in it */
		bool direct = strlen(near) == (size_t)(slash - path) ||
			      (strcmp(near, "/") == 0 && slash == path);

		if (ns && direct && (akind[i] == PROT_GITDIR || akind[i] == PROT_DIR_HOLD)) {
			/* empty, and removed at exit: a tool looking there
			 * finds nothing, as before */
			if (mkdir(path, 0755) == 0) {
				int fd = placeholder_take(path, &st);
				if (fd < 0)
					die("cannot hold the placeholder %s: %s", path,
					    strerror(fd == -ESTALE ? EBUSY : -fd));
				placeholder_add(sb, path, &st, fd);
				strs_add(&ro, &nro, path);
				continue;
			}
			if (errno == EACCES || errno == EROFS || errno == EPERM)
				continue; /* we cannot, and the sandbox (same user) cannot */
			die("cannot make the placeholder %s: %s", path, strerror(errno));
		}
		if (akind[i] != PROT_POLICY) {
			/* a carve-out would take from every directory on the
			 * way to it the right to get new entries (Landlock
			 * rights are inherited), the top of the project first:
			 * checked when the sandbox has ended instead */
			strs_add(&sb->watch, &sb->n_watch, path);
			continue;
		}
		/* With a mount namespace the nearest directory is made read-only
		 * instead: a carve-out would take new entries from every
		 * directory up to the grant, and beneath a private /tmp (one
		 * write grant in the namespace, inherited by everything carried
		 * into it) it would not hold at all.  Only an absent path
		 * directly in a grant outside the private /tmp is a carve-out,
		 * so that the grant itself is not made read-only. */
		bool in_tmp =
		    sb->policy->fs.private_tmp && (landlock_path_beneath(near, "/tmp") ||
						   landlock_path_beneath(near, "/dev/shm"));
		if (ns && (!strs_has(roots, nroots, near) || in_tmp)) {
			note("%s does not exist: %s is read-only so that it cannot be created",
			     path, near);
			if (!strs_has(ro, nro, near))
				strs_add(&ro, &nro, near);
			continue;
		}
		co[nco++] = (struct landlock_carveout){path, LANDLOCK_READ_ONLY, true, false};
	}

	if (ns) {
		/* pins first, outermost first, so each resolves through the last */
		char **pins = NULL;
		size_t npins = 0;
		for (size_t i = 0; i < nro + ndway; i++) {
			const char *path = i < nro ? ro[i] : dway[i - nro];
			const char *root = outer_root(roots, nroots, path);
			char dir[PATH_MAX];
			if (!root || strcmp(root, path) == 0)
				continue;
			snprintf(dir, sizeof(dir), "%s", path);
			for (char *s = dir + strlen(root) + 1; (s = strchr(s, '/')); s++) {
				*s = '\0';
				if (!strs_has(pins, npins, dir))
					strs_add(&pins, &npins, dir);
				*s = '/';
			}
		}
		for (size_t i = 1; i < npins; i++)
			for (size_t j = i; j > 0 && strlen(pins[j]) < strlen(pins[j - 1]); j--) {
				char *t = pins[j];
				pins[j] = pins[j - 1];
				pins[j - 1] = t;
			}
		for (size_t i = 0; i < npins; i++) {
			sandbox_add_mask(sb, pins[i], true, MASK_PIN);
			free(pins[i]);
		}
		free(pins);
		/* the links on the way to deny paths, after the directories
		 * they are in (bind_self() does not follow them) */
		for (size_t i = 0; i < ndlinks; i++)
			sandbox_add_mask(sb, dlinks[i], false, MASK_PIN);
		for (size_t i = 0; i < nro; i++) {
			struct stat st;
			if (stat(ro[i], &st) == 0)
				sandbox_add_mask(sb, ro[i], S_ISDIR(st.st_mode), MASK_READ_ONLY);
		}
	} else {
		for (size_t i = 0; i < nro; i++)
			co[nco++] =
			    (struct landlock_carveout){ro[i], LANDLOCK_READ_ONLY, false, false};
		for (size_t i = 0; i < ndlinks; i++)
			co[nco++] =
			    (struct landlock_carveout){dlinks[i], LANDLOCK_READ_ONLY, false, true};
	}
	strs_clear(&dway, &ndway);

	/* the carve-outs point into these lists: freed by protect_plan_done() */
	if (nro + nabsent + ndlinks) {
		char **v = realloc(sb->prot_strings,
				   (sb->n_prot_strings + nro + nabsent + ndlinks) * sizeof(char *));
		if (!v)
			die("out of memory");
		sb->prot_strings = v;
	}
	for (size_t i = 0; i < nro; i++)
		sb->prot_strings[sb->n_prot_strings++] = ro[i];
	for (size_t i = 0; i < nabsent; i++)
		sb->prot_strings[sb->n_prot_strings++] = absent[i];
	for (size_t i = 0; i < ndlinks; i++)
		sb->prot_strings[sb->n_prot_strings++] = dlinks[i];
	free(dlinks);
	free(ro);
	free(absent);
	free(akind);
	for (size_t i = 0; i < nnear; i++)
		free(anear[i]);
	free(anear);
	/* the watcher starts the chain to each absent name at its grant */
	sb->prot_roots = roots;
	sb->n_prot_roots = nroots;
	for (size_t i = 0; i < nall; i++)
		free(all[i]);
	free(all);
	cands_free(&cand);
	listings_free(&ls);
	*ret_co = co;
	*ret_nco = nco;
}

/* A directory by a walk from "/" that follows no symlink; -errno. */
int protect_open_dir_nofollow(const char *path)
{
	_cleanup_close_ int dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	char buf[PATH_MAX];
	char *save = NULL;

	if (dir < 0)
		return -errno;
	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int d = openat(dir, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (d < 0)
			return -errno;
		close(dir);
		dir = d;
	}
	return steal_fd(&dir);
}

/*
 * A directory the command made unwritable to its owner (`chmod 555`:
 * seccomp refuses modes that give others write, not ones that take the
 * owner's away) would hold what it planted there against a supervisor
 * running as that same owner.  The owner may give itself write and search
 * back, which is done here for DIR (any descriptor, O_PATH too) when it is
 * ours, lacks them, and its mode changed during the run (a directory the
 * host made read-only before is left as it is: the command could not
 * write there without changing it).  Returns the mode to put back, or -1
 * when nothing was changed.  A root supervisor is never refused.
 */
int owner_unlock(const struct sandbox *sb, int dir)
{
	struct stat st;
	char proc[64];

	if (fstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWUSR | S_IXUSR)) == (S_IWUSR | S_IXUSR) ||
	    st.st_ctim.tv_sec < sb->started_at.tv_sec ||
	    (st.st_ctim.tv_sec == sb->started_at.tv_sec &&
	     st.st_ctim.tv_nsec < sb->started_at.tv_nsec))
		return -1;
	/* fchmod() refuses an O_PATH descriptor; its /proc link does not */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dir);
	if (chmod(proc, (st.st_mode & 07777) | S_IWUSR | S_IXUSR) < 0)
		return -1;
	return (int)(st.st_mode & 07777);
}

void owner_relock(int dir, int was)
{
	char proc[64];

	if (was < 0)
		return;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dir);
	(void)chmod(proc, (mode_t)was);
}

int owner_unlinkat(const struct sandbox *sb, int dir, const char *name, int flags)
{
	int r = unlinkat(dir, name, flags);

	if (r < 0 && errno == EACCES) {
		int was = owner_unlock(sb, dir);
		if (was >= 0) {
			r = unlinkat(dir, name, flags);
			int e = errno;
			owner_relock(dir, was);
			errno = e;
		}
	}
	return r;
}

int owner_renameat(const struct sandbox *sb, int from, const char *old, int to, const char *new,
		   unsigned flags)
{
	int r = renameat2(from, old, to, new, flags);

	if (r < 0 && errno == EACCES) {
		int was = owner_unlock(sb, from), was_to = to != from ? owner_unlock(sb, to) : -1;
		if (was >= 0 || was_to >= 0) {
			r = renameat2(from, old, to, new, flags);
			int e = errno;
			owner_relock(from, was);
			owner_relock(to, was_to);
			errno = e;
		}
	}
	return r;
}

/*
 * Moves the entry PATH aside to NAME.ringfence-blocked (never over an earlier
 * one, nor over names planted to make every try fail: the last tries are
 * random), reached by a walk that follows no symlink, and says so: one line
 * (unless MOVE_LIVE_QUIET) and an audit event (EVENT).  Returns
 * whether it was moved; -ENOENT when nothing is there.
 */
int protect_move_aside(const struct sandbox *sb, const char *path, const char *event,
		       enum move_when when)
{
	char name[NAME_MAX + 1], moved[NAME_MAX + 32];
	struct stat st;
	int dir = protect_split_parent(path, name, sizeof(name));
	bool ok = false;
	int err = 0;

	if (dir >= 0 && fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
		close(dir);
		return -ENOENT;
	}
	if (dir < 0)
		err = -dir;
	char suffix[32] = ".ringfence-blocked";
	for (int n = 0; dir >= 0 && n < 16 && !ok; n++) {
		unsigned r = 0;
		if (n > 0 && n < 8)
			snprintf(suffix, sizeof(suffix), ".ringfence-blocked.%d", n);
		else if (n >= 8 && getrandom(&r, sizeof(r), 0) == (ssize_t)sizeof(r))
			snprintf(suffix, sizeof(suffix), ".ringfence-blocked.%08x", r);
		/* a name near NAME_MAX is cut to leave room for the suffix:
		 * else every try fails and the entry stays where it is */
		size_t keep = strlen(name), room = NAME_MAX - strlen(suffix);
		snprintf(moved, sizeof(moved), "%.*s%s", (int)(keep < room ? keep : room), name,
			 suffix);
		ok = owner_renameat(sb, dir, name, dir, moved, RENAME_NOREPLACE) == 0;
		err = ok ? 0 : errno;
		if (!ok && errno == ENOENT) {
			close(dir);
			return -ENOENT; /* gone already (moved by a try before) */
		}
		if (!ok && errno != EEXIST)
			break;
	}
	if (dir >= 0)
		close(dir);
	if (ok && when != MOVE_LIVE_QUIET)
		warn("the sandbox created %s, which the host would trust: renamed to "
		     "*.ringfence-blocked%s; review it",
		     path, when == MOVE_AT_EXIT ? "" : " at once");
	else if (!ok)
		warn(
		    "the sandbox created %s, which the host would trust, and it could NOT be moved "
		    "aside (%s); review it before running tools here",
		    path, strerror(err));
	char js[PATH_MAX + 64];
	json_string(js, sizeof(js), path);
	audit_event(sb->audit_fd, event, "\"path\":%s,\"moved\":%s", js, ok ? "true" : "false");
	return ok;
}

void protect_finish(struct sandbox *sb)
{
	struct listings ls = {0};

	for (size_t i = 0; i < sb->n_watch; i++) {
		const char *path = sb->watch[i];
		struct stat st;
		/* most are still absent: a listing of their directory (or an
		 * lstat()) says so, resolving the way the host's tools will;
		 * what exists is then reached by a walk that follows no symlink */
		const char *slash = strrchr(path, '/');
		if (slash && slash > path && !may_exist(&ls, path, (size_t)(slash - path)))
			continue;
		if (lstat(path, &st) < 0 && errno == ENOENT)
			continue;
		(void)protect_move_aside(sb, path, "protect.created", MOVE_AT_EXIT);
	}
	listings_free(&ls);
	placeholders_finish(sb);
}

void protect_plan_done(struct sandbox *sb)
{
	strs_clear(&sb->prot_strings, &sb->n_prot_strings);
}

void protect_free_watch_lists(struct sandbox *sb)
{
	strs_clear(&sb->prot_roots, &sb->n_prot_roots);
	strs_clear(&sb->prot_trees, &sb->n_prot_trees);
	strs_clear(&sb->nested_repos, &sb->n_nested_repos);
}

void protect_release(struct sandbox *sb)
{
	placeholders_release(sb);
	protect_free_watch_lists(sb);
	free(sb->git_guarded);
	sb->git_guarded = NULL;
	sb->n_git_guarded = 0;
	strs_clear(&sb->gitview_paths, &sb->n_gitview_paths);
	strs_clear(&sb->watch, &sb->n_watch);
	protect_plan_done(sb);
}
