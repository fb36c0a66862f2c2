/* SPDX-License-Identifier: MIT */
/*
 * Which git configurations the host's git reads (its own: system, global,
 * their includes, read at start into the sandbox's git_global_* lists; a
 * linked worktree's or a submodule's, through its `gitdir:` file), and
 * what each has git run or read from outside its git directory, read as
 * git and a shell would read it, never by running anything
 * (gitconfig_pointers() is pure, here; the rest read and stat, in
 * gitconfig_files.c).
 *
 * protect.c protects what a configuration names at start, gitscan.c checks
 * it at exit and while the sandbox runs (gitscan_gitdir(), for
 * protwatch.c), and githeads.c adds the files to what the host's checkout
 * must not bring in; all of them through gitconfig_pointers():
 *   - core.hooksPath (hooks run from there instead);
 *   - include.path and includeIf.*.path (every condition taken as met);
 *   - init.templateDir (copied into every repository git makes);
 *   - core.worktree (where the commands below run from);
 *   - each key whose value is a command git runs (program_keys[], from
 *     git-config(1)): the words of the command that name a file of the
 *     worktree, read as sh -c reads them (quotes, `cd DIR &&`, subshells,
 *     redirections, `$PWD/` and `$(...)/` for the top, python's `-m`).
 * A value is read as git's parse_value() reads it (quotes, escapes,
 * continued lines, a key on its section's line); a value git refuses is
 * passed over, since git then reads no configuration at all.  What this
 * does not follow is in SECURITY.md (a word the shell builds otherwise,
 * what the program then loads, a PATH naming a write grant).
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"

bool gitconfig_line(const char *buf, size_t n, size_t *at, const char **ret, size_t *ret_len)
{
	while (*at < n) {
		const char *l = buf + *at, *nl = memchr(l, '\n', n - *at);
		size_t len = nl ? (size_t)(nl - l) : n - *at;
		*at += len + 1;
		while (len && (*l == ' ' || *l == '\t')) {
			l++;
			len--;
		}
		while (len && (l[len - 1] == ' ' || l[len - 1] == '\t' || l[len - 1] == '\r'))
			len--;
		if (!len || *l == '#' || *l == ';')
			continue;
		*ret = l;
		*ret_len = len;
		return true;
	}
	return false;
}

/*
 * The keys whose value is a command git runs (git-config(1)), as section
 * and key ("*": any key of the section).  Their commands run in the
 * worktree's top, so a script of the project they name (`tools/fsmonitor`,
 * `python3 -m nbstripout`) is as much the host's code as a hook.
 */
STRING_TABLE_BEGIN
static const struct {
	char section[16], key[32]; /* arrays: supervisor.h's sc_entry says why */
} program_keys[] = {
    {"core", "fsmonitor"},
    {"core", "sshcommand"},
    {"core", "editor"},
    {"core", "pager"},
    {"core", "askpass"},
    {"core", "gitproxy"},
    {"core", "alternaterefscommand"},
    {"sequence", "editor"},
    {"diff", "external"},
    {"diff", "command"},
    {"diff", "textconv"},
    {"merge", "driver"},
    {"filter", "clean"},
    {"filter", "smudge"},
    {"filter", "process"},
    {"alias", "*"},
    {"pager", "*"},
    {"credential", "helper"},
    {"gpg", "program"},
    {"interactive", "difffilter"},
    {"difftool", "cmd"},
    {"mergetool", "cmd"},
    {"browser", "cmd"},
    {"web", "browser"},
    {"remote", "uploadpack"},
    {"remote", "receivepack"},
    {"submodule", "update"},
    {"uploadpack", "packobjectshook"},
    {"difftool", "path"},
    {"mergetool", "path"},
    {"browser", "path"},
    {"man", "cmd"},
    {"man", "path"},
    {"gpg", "defaultkeycommand"},
    {"trailer", "cmd"},
    {"trailer", "command"},
    {"sendemail", "tocmd"},
    {"sendemail", "cccmd"},
    {"sendemail", "headercmd"},
    {"sendemail", "sendmailcmd"},
    {"sendemail", "smtpserver"},
    {"instaweb", "httpd"},
    {"tar", "command"},
    {"imap", "tunnel"},
};
STRING_TABLE_END

static bool program_key(const char *sec, const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(program_keys); i++)
		if (strcmp(sec, program_keys[i].section) == 0 &&
		    (strcmp(program_keys[i].key, "*") == 0 ||
		     strcmp(key, program_keys[i].key) == 0))
			return true;
	return false;
}

/* WORD (relative to the worktree's top, as DIR said: a `cd DIR` before
 * it) given to FN as KIND. */
static void program_path(const char *dir, const char *word, enum git_pointer kind, pointer_fn fn,
			 void *ud)
{
	char path[PATH_MAX];

	while (strncmp(word, "./", 2) == 0)
		word += 2;
	if (!*word)
		return;
	if (word[0] == '/' || word[0] == '~' || !dir[0])
		snprintf(path, sizeof(path), "%s", word);
	else if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, word) >= sizeof(path))
		return;
	fn(ud, kind, path);
}

/* The files Python reads for `-m MOD`: each package on the way
 * (P.py or P/__init__.py) and the module (its .py, or its package's
 * __init__.py and __main__.py), from the working directory first. */
static void python_module(const char *dir, const char *mod, pointer_fn fn, void *ud)
{
	char rel[PATH_MAX], f[PATH_MAX + 16];
	size_t n = strlen(mod);

	if (!n || n >= sizeof(rel) || strchr(mod, '/'))
		return;
	memcpy(rel, mod, n + 1);
	for (size_t i = 0; i <= n; i++) {
		if (rel[i] != '.' && rel[i] != '\0')
			continue;
		bool last = rel[i] == '\0';
		rel[i] = '\0';
		static const char *const as[] = {".py", "/__init__.py", "/__main__.py"};
		for (size_t a = 0; a < (last ? 3u : 2u); a++) {
			snprintf(f, sizeof(f), "%s%s", rel, as[a]);
			program_path(dir, f, PTR_PROGRAM, fn, ud);
		}
		if (!last)
			rel[i] = '/';
	}
}

/* The next word of the shell command at *P into W (quotes dropped, what
 * `$(...)`, `${...}` and backquotes hold kept whole, with the blanks in
 * them); *SEP set when a ';', '|', '&', '(' or newline came before it (the
 * word after one is a command), *DEPTH moved by the subshells opened and
 * closed before it.  False at the end. */
static bool shell_word(const char **p, char *w, size_t size, bool *sep, int *depth)
{
	const char *c = *p;
	size_t n = 0;

	*sep = false;
	while (*c && strchr(" \t\n;|&()", *c)) {
		if (*c != ' ' && *c != '\t')
			*sep = true;
		*depth += *c == '(' ? 1 : *c == ')' ? -1 : 0;
		c++;
	}
	if (!*c)
		return false;
	/* a redirection's operator (`>`, `2>>`, `<&`): a word of its own, the
	 * file after it the next (joined or not: `x>/dev/null`) */
	const char *o = c;
	while (*o >= '0' && *o <= '9')
		o++;
	if (*o == '<' || *o == '>') {
		while (*o == '<' || *o == '>' || *o == '&')
			o++;
		size_t l = (size_t)(o - c) < size ? (size_t)(o - c) : size - 1;
		memcpy(w, c, l);
		w[l] = '\0';
		*p = o;
		return true;
	}
	while (*c && !strchr(" \t\n;|&()<>", *c)) {
		char close = 0;
		if (*c == '\'' || *c == '"') {
			char q = *c++;
			while (*c && *c != q) {
				if (n + 1 < size)
					w[n++] = *c;
				c++;
			}
			if (*c)
				c++;
			continue;
		}
		if (*c == '\\' && c[1]) {
			if (n + 1 < size)
				w[n++] = c[1];
			c += 2;
			continue;
		}
		if (*c == '$' && (c[1] == '(' || c[1] == '{'))
			close = c[1] == '(' ? ')' : '}';
		else if (*c == '`')
			close = '`';
		if (close) {
			/* kept whole, nested ones counted */
			char open = close == '`' ? 0 : c[1];
			int nest = 0;
			const char *e = c + (close == '`' ? 1 : 2);
			while (*e && (*e != close || nest > 0)) {
				if (open && *e == open)
					nest++;
				else if (open && *e == close)
					nest--;
				e++;
			}
			if (*e)
				e++;
			for (const char *x = c; x < e; x++)
				if (n + 1 < size)
					w[n++] = *x;
			c = e;
			continue;
		}
		if (n + 1 < size)
			w[n++] = *c;
		c++;
	}
	w[n] = '\0';
	*p = c;
	return true;
}

/* The file the shell word W names, past a redirection's operator (only
 * an operator: its file is the next word) and an expansion leading it
 * (`$PWD/`, `$(...)/`: the top; `$HOME/`: the home, as "~/"); NULL when it
 * names none.  *WAS_CMD cleared after an operator: its file is no command. */
static char *word_file(char *w, bool *was_cmd)
{
	char *x = w;

	/* a redirection's operator, its file after it */
	while (*x >= '0' && *x <= '9')
		x++;
	if (*x == '<' || *x == '>') {
		while (*x == '<' || *x == '>' || *x == '&')
			x++;
		if (!*x) {
			return NULL;
		}
		*was_cmd = false;
	} else {
		x = w;
	}
	/* an expansion leading a path: the top, or the home */
	if (*x == '$' || *x == '`') {
		bool home = strncmp(x, "$HOME/", 6) == 0 || strncmp(x, "${HOME}/", 8) == 0;
		/* the slash after the whole expansion, not one inside it
		 * (`$(cd .git/hooks && pwd)/../x`) */
		char *end = x + 1;
		if (*x == '`') {
			end = strchr(x + 1, '`');
			end = end ? end + 1 : x + strlen(x);
		} else if (x[1] == '(' || x[1] == '{') {
			char open = x[1], close = open == '(' ? ')' : '}';
			int nest = 0;
			for (end = x + 2; *end && (*end != close || nest); end++)
				nest += *end == open ? 1 : *end == close ? -1 : 0;
			if (*end)
				end++;
		} else {
			while (*end == '_' || isalnum((unsigned char)*end))
				end++;
		}
		char *slash = *end == '/' ? end : NULL;
		if (!slash || strchr(slash, '$') || strchr(slash, '`'))
			return NULL;
		if (home) {
			*--slash = '~';
			x = slash;
		} else {
			x = slash + 1;
		}
	}
	if (!*x)
		return NULL; /* (`$PWD/`: the top, no file) */
	return x;
}

/* DIR (SIZE bytes) after `cd X`.  A directory not followed (the home, `-`,
 * one with "..", one past SIZE) leaves it as it was. */
static void cd_into(char *dir, size_t size, const char *x)
{
	/* where the words after it are relative to */
	/* (an absolute one starts over) */
	size_t dl = x[0] == '/' ? 0 : strlen(dir), xl = strlen(x);
	if (x[0] != '~' && x[0] != '-' && !strstr(x, "..") && dl + xl + 2 < size) {
		if (dl)
			dir[dl++] = '/';
		memcpy(dir + dl, x, xl + 1);
		dl += xl;
		while (dl > 1 && dir[dl - 1] == '/')
			dir[--dl] = '\0';
	}
}

/* The options word X ("-..."), as Python reads them: true when the module
 * to run is the next word (`-m MOD`). */
static bool python_options(const char *dir, const char *x, pointer_fn fn, void *ud)
{
	/* Python's options, joined as it takes them: -m MOD,
	 * -mMOD, -um MOD; -c, -W, -X, -Q take what follows */
	const char *o = x + 1;
	while (*o && strchr("bBdEhiIOPqsSuvVx", *o))
		o++;
	if (*o == 'm') {
		if (o[1])
			python_module(dir, o + 1, fn, ud);
		else
			return true;
	}
	return false;
}

/*
 * The words of the command VAL that name a file, given to FN: the command
 * itself where it is a path (PTR_PROGRAM: a file it must be, there or
 * not), an argument with a '/' or a '.' in it (PTR_PROGRAM_ARG: `sh
 * x.sh`, `tools/lint %f`), the files of `python -m MOD` (PTR_PROGRAM), a
 * redirection's file; relative ones from the worktree's top, where git
 * runs the command, or from the directory a `cd DIR` went to.  A word led
 * by an expansion (`$PWD/x`, `$(git rev-parse --show-toplevel)/x`) is
 * taken from the top, `$HOME/x` from the home.  A bare command name is
 * looked up in PATH, not here; options, %-placeholders and URLs name no
 * file of the project.  Hand-read: the shell's grammar is wider than this
 * (SECURITY.md), and what is read here only adds to what is protected.
 */
/* Whether the command word X is a shell, whose -c takes a command line. */
static bool is_shell(const char *x)
{
	static const char *const shells[] = {"sh", "bash", "dash", "zsh", "ksh", "ash"};
	const char *base = strrchr(x, '/');

	base = base ? base + 1 : x;
	for (size_t i = 0; i < ARRAY_SIZE(shells); i++)
		if (strcmp(base, shells[i]) == 0)
			return true;
	return false;
}

/* Whether the command word X is an interpreter whose first word that is
 * no option is the script it runs (`sh tools/x`, `python3 tools/x.py`):
 * that word is a program, protected there or not (a review: `if [ -f
 * tools/local.sh ]; then sh tools/local.sh; fi`, the file made inside). */
static bool is_interpreter(const char *x)
{
	STRING_TABLE_BEGIN
	static const char interps[][8] = {"python", "node", "perl", "ruby", "php", "bun", "deno"};
	STRING_TABLE_END
	const char *base = strrchr(x, '/');

	base = base ? base + 1 : x;
	/* (the shell's `.` and `source` read their file as a script too) */
	if (is_shell(base) || strcmp(x, ".") == 0 || strcmp(x, "source") == 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(interps); i++) {
		size_t l = strlen(interps[i]);
		/* python3, python3.11 */
		if (strncmp(base, interps[i], l) == 0 &&
		    strspn(base + l, "0123456789.") == strlen(base + l))
			return true;
	}
	return false;
}

/* Whether X ends in one of the N SUFFIXES, after more than the suffix (and,
 * with NAMED, after a name: not a directory's ".js"). */
static bool ends_in(const char *x, const char (*suffixes)[8], size_t n, bool named)
{
	size_t xl = strlen(x);

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(suffixes[i]);
		if (xl > l && strcmp(x + xl - l, suffixes[i]) == 0 &&
		    (!named || x[xl - l - 1] != '/'))
			return true;
	}
	return false;
}

/* Whether the last component of X is one of the N NAMES. */
static bool base_in(const char *x, const char (*names)[8], size_t n)
{
	const char *base = strrchr(x, '/');

	base = base ? base + 1 : x;
	for (size_t i = 0; i < n; i++)
		if (strcmp(base, names[i]) == 0)
			return true;
	return false;
}

/* Whether the argument X names a data file by its suffix (a tool's
 * configuration: `bandit -c pyproject.toml`, `flake8 --config setup.cfg`):
 * no program, and left writable (a review: these made the project's own
 * files read-only to the command, which edits them in its normal work). */
static bool is_data_file(const char *x)
{
	STRING_TABLE_BEGIN
	static const char data[][8] = {".toml", ".cfg", ".ini",	 ".json", ".yaml", ".yml",
				       ".txt",	".md",	".lock", ".xml",  ".csv"};
	STRING_TABLE_END
	return ends_in(x, data, ARRAY_SIZE(data), false);
}

/* Whether the command word X runs a script its arguments name, there or
 * not (`npx tsx tools/srv.ts`, `bun run x.ts`, `uv run srv.py`): its first
 * argument with a script's suffix is that script (a review: one not yet
 * made was protected only as an interpreter's first word). */
static bool is_runner(const char *x)
{
	STRING_TABLE_BEGIN
	static const char runners[][8] = {"npx",  "bunx",   "pnpx", "pnpm",   "yarn",
					  "tsx",  "bun",    "deno", "uv",     "uvx",
					  "pipx", "poetry", "node", "ts-node"};
	STRING_TABLE_END
	return base_in(x, runners, ARRAY_SIZE(runners)) || is_interpreter(x);
}

/* Whether X ends in a script's suffix. */
static bool is_script_name(const char *x)
{
	STRING_TABLE_BEGIN
	static const char suffixes[][8] = {".js", ".mjs", ".cjs", ".ts", ".mts", ".cts",
					   ".py", ".sh",  ".rb",  ".pl", ".php"};
	STRING_TABLE_END
	return ends_in(x, suffixes, ARRAY_SIZE(suffixes), true);
}

static void program_words_in(const char *val, const char *self, pointer_fn fn, void *ud, int level);

static void program_words(const char *val, pointer_fn fn, void *ud)
{
	program_words_in(val, NULL, fn, ud, 0);
}

/* Whether the command word X only runs the command after it (`env sh -c`,
 * `exec sh -c`, and the shell's words before a command: `then sh x`). */
static bool is_prefix(const char *x)
{
	STRING_TABLE_BEGIN
	static const char prefixes[][8] = {"env",     "exec",  "command", "nohup", "nice", "time",
					   "timeout", "if",    "then",	  "else",  "elif", "do",
					   "while",   "until", "!",	  "{"};
	STRING_TABLE_END
	return base_in(x, prefixes, ARRAY_SIZE(prefixes));
}

/* X (KIND) from DIR, and, in a hook's script (SELF its directory) where an
 * expansion led the word (W: `$(dirname "${0}")/../x`, `` `dirname $0`/x ``,
 * `$D/x`, `$(cd "$(dirname "$0")" && pwd)/x`), from the hook's directory
 * too: no reading of the expansion says which it was, and each is
 * protected. */
static void program_both(const char *dir, const char *self, const char *w, const char *x,
			 enum git_pointer kind, pointer_fn fn, void *ud)
{
	program_path(dir, x, kind, fn, ud);
	if (self && (w[0] == '$' || w[0] == '`') && x[0] != '~' && x[0] != '/')
		program_path(self, x, kind, fn, ud);
}

/* (LEVEL: the shells' -c command lines it is inside, four at most; SELF: a
 * hook's directory, or NULL) */
static void program_words_in(const char *val, const char *self, pointer_fn fn, void *ud, int level)
{
	/* the directory a `cd` went to at each depth of subshells (one ends
	 * with its subshell); past the last, nothing more is read.  Small:
	 * a start-up touches each page of a frame (stack-clash probes), and a
	 * page fault is dear on some virtual machines; a longer directory is
	 * not followed (an argument then taken from the top) */
	enum { DEPTHS = 4, DIR_MAX = 256 };
	char w[PATH_MAX], dirs[DEPTHS][DIR_MAX], *dir;
	bool cmd = true, module = false, cd = false, sep, shell = false, shell_c = false,
	     prefix = false, script = false, value = false, prefix_value = false, runner = false,
	     uv = false;
	int depth = 0;

	dirs[0][0] = '\0';
	if (*val == '!')
		val++;
	for (const char *p = val;;) {
		int was = depth < 0 ? 0 : depth < DEPTHS ? depth : DEPTHS - 1;
		if (!shell_word(&p, w, sizeof(w), &sep, &depth))
			break;
		/* deeper subshells than followed share the deepest's directory */
		int at = depth < 0 ? 0 : depth < DEPTHS ? depth : DEPTHS - 1;
		for (int d = was + 1; d <= at; d++)
			memcpy(dirs[d], dirs[d - 1], DIR_MAX);
		dir = dirs[at];
		if (sep)
			cmd = true, module = false, cd = false,
			shell = shell_c = prefix = script = value = prefix_value = runner = uv =
			    false;
		bool was_cmd = cmd, was_module = module, was_cd = cd;
		cmd = module = cd = false;
		/* `bash -c "sh tools/x"`: the command line a shell is given */
		if (shell_c) {
			shell = shell_c = false;
			if (level < 4)
				program_words_in(w, self, fn, ud, level + 1);
			continue;
		}
		char *x = word_file(w, &was_cmd);
		if (!x)
			continue;
		if (was_cd) {
			cd_into(dir, DIR_MAX, x);
			continue;
		}
		if (was_module) {
			python_module(dir, x, fn, ud);
			script = false; /* the module is what runs */
			continue;
		}
		if (was_cmd && strcmp(x, "cd") == 0) {
			cd = true;
			continue;
		}
		/* after `env` or `exec`, its options and VAR=value words, the
		 * next word is the command; a number an option takes (`nice -n
		 * 5`, `timeout 60`, `timeout 1m`) too */
		if (prefix &&
		    (prefix_value || x[0] == '-' || strchr(x, '=') ||
		     (isdigit((unsigned char)x[0]) && strspn(x, "0123456789.smhd") == strlen(x)))) {
			/* an option's value (env -u NAME, env -C DIR, timeout
			 * -s KILL, -k 5, nice -n 5: a review) */
			prefix_value =
			    !prefix_value && x[0] == '-' && x[1] && !x[2] && strchr("uCskn", x[1]);
			cmd = true;
			continue;
		}
		prefix = false;
		/* uv's --directory: where the script after it is (the MCP
		 * quickstart's `uv --directory DIR run server.py`: a review) */
		if (uv && strncmp(x, "--directory", 11) == 0 && (!x[11] || x[11] == '=')) {
			if (x[11])
				cd_into(dir, DIR_MAX, x + 12);
			else
				cd = true;
			continue;
		}
		/* a shell's options: +x as -x, and -o/+o take a name */
		if (shell && (x[0] == '+' || (x[0] == '-' && x[1] == 'o' && !x[2]))) {
			value = (x[1] == 'o' && !x[2]);
			continue;
		}
		if (x[0] == '-' && x[1] != '-') {
			if (shell && strchr(x + 1, 'c'))
				shell_c = true;
			module = python_options(dir, x, fn, ud);
			/* -c (and -e but a shell's, its errexit): a command line,
			 * no script, follows */
			if (strchr(x + 1, 'c') || (!shell && strchr(x + 1, 'e')))
				script = runner = false;
			/* an option that takes the next word (python's -W and
			 * -X, perl's and ruby's -I): that word is no script */
			if (script && !shell && x[1] && x[2] == '\0' && strchr("WXI", x[1]))
				value = true;
			continue;
		}
		if (value) {
			value = false;
			continue;
		}
		if (x[0] == '-' || x[0] == '%' || strchr(x, '=') || strstr(x, "://") ||
		    x[strlen(x) - 1] == '/')
			continue;
		if (was_cmd) {
			const char *base = strrchr(x, '/');
			base = base ? base + 1 : x;
			shell = is_shell(x);
			script = is_interpreter(x);
			runner = is_runner(x);
			uv = strcmp(base, "uv") == 0;
			if (is_prefix(x)) {
				cmd = prefix = true;
				continue;
			}
			if (strchr(x, '/'))
				program_both(dir, self, w, x, PTR_PROGRAM, fn, ud);
			continue;
		}
		/* an interpreter's script: a program, there or not; a
		 * runner's subcommand (`bun run`, `deno run`) before it */
		bool is_script = script;
		script = false;
		if (is_script && runner && strcmp(x, "run") == 0) {
			script = true;
			continue;
		}
		/* (a name alone too: `cd tools && sh lint` runs ./lint) */
		if (is_script && strcmp(x, ".") != 0 && strcmp(x, "..") != 0) {
			runner = false;
			program_both(dir, self, w, x, PTR_PROGRAM, fn, ud);
			continue;
		}
		/* a runner's script, the first word with a script's suffix */
		if (runner && is_script_name(x)) {
			runner = false;
			program_both(dir, self, w, x, PTR_PROGRAM, fn, ud);
			continue;
		}
		if ((strchr(x, '/') ||
		     (strchr(x, '.') && strcmp(x, ".") != 0 && strcmp(x, "..") != 0)) &&
		    !is_data_file(x))
			program_both(dir, self, w, x, PTR_PROGRAM_ARG, fn, ud);
	}
}

/* The forms a hook names its own directory by ($0 is the hook's path as
 * git runs it): each written in the copy as SELF_DIR. */
static const char *const self_forms[] = {
    "\"$(dirname -- \"$0\")\"",
    "\"$(dirname \"$0\")\"",
    "$(dirname -- \"$0\")",
    "$(dirname \"$0\")",
    "$(dirname -- $0)",
    "$(dirname $0)",
    "\"${0%/*}\"",
    "${0%/*}",
};

void gitconfig_script_pointers(const char *buf, size_t n, const char *self_dir, pointer_fn fn,
			       void *ud)
{
	/* to its first NUL (no shell reads past one), its comment lines left
	 * out: a word there names nothing the hook runs; its own directory's
	 * forms written as SELF_DIR, which may be longer than they are */
	/* each form is 7 bytes at least */
	size_t self = self_dir ? strlen(self_dir) : 0, cap = n + 2 + (n / 7 + 1) * self;
	char *t = malloc(cap); /* a line break added after the last line */
	size_t o = 0;

	if (!t)
		return;
	for (size_t i = 0; i < n && buf[i];) {
		size_t e = i, b = i;
		while (e < n && buf[e] && buf[e] != '\n')
			e++;
		while (b < e && (buf[b] == ' ' || buf[b] == '\t'))
			b++;
		if (b < e && buf[b] != '#') {
			for (size_t j = i; j < e;) {
				size_t k = 0, fl = 0;
				for (; self_dir && k < ARRAY_SIZE(self_forms); k++) {
					fl = strlen(self_forms[k]);
					if (e - j >= fl && memcmp(buf + j, self_forms[k], fl) == 0)
						break;
				}
				if (self_dir && k < ARRAY_SIZE(self_forms)) {
					memcpy(t + o, self_dir, self);
					o += self;
					j += fl;
				} else {
					t[o++] = buf[j++];
				}
			}
			t[o++] = '\n';
		}
		i = e < n && buf[e] == '\n' ? e + 1 : e;
		if (e < n && !buf[e])
			break;
	}
	t[o] = '\0';
	program_words_in(t, self_dir, fn, ud, 0);
	free(t);
}

/*
 * A value from V to END as git reads it (config.c, parse_value()): double
 * quotes anywhere, dropped; a '#' or ';' outside them ends it; blanks
 * outside them, one; `\"` and `\\` are the character, `\n`, `\t` and `\b`
 * a blank (between a command's words); any other escape, or an unclosed
 * quote, is an error to git, which then reads no configuration at all.
 * git's value ends at a NUL byte in it, as a C string does: OUT (SIZE, at
 * least END - V + 1) holds what comes before the first, the rest read on
 * only for git's errors; a value a NUL leads names nothing.
 */
static bool config_value(const char *v, const char *end, char *out, size_t size)
{
	bool quoted = false, blank = false, cut = false;
	size_t n = 0;

	for (; v < end; v++) {
		char c = *v;
		if (c == '"') {
			quoted = !quoted;
			continue;
		}
		if (!quoted && (c == '#' || c == ';'))
			break;
		if (!quoted && (c == ' ' || c == '\t')) {
			blank = n > 0;
			continue;
		}
		if (c == '\\') {
			if (++v >= end)
				return false;
			c = *v == 'n' || *v == 't' || *v == 'b' ? ' '
			    : *v == '"' || *v == '\\'		? *v
								: 0;
			if (!c)
				return false;
		}
		cut |= c == '\0';
		if (cut)
			continue;
		if (n + 2 >= size)
			return false;
		if (blank)
			out[n++] = ' ';
		blank = false;
		out[n++] = c;
	}
	out[n] = '\0';
	return !quoted && n > 0;
}

/* Whether the line L (LEN) ends in a backslash that is no escaped one. */
static bool continued(const char *l, size_t len)
{
	size_t b = 0;

	while (b < len && l[len - 1 - b] == '\\')
		b++;
	return b % 2 == 1;
}

/* The section's line at *LINE (*LINE_LEN, a '[' first): its name into SEC
 * (SIZE), lower-cased; *LINE and *LINE_LEN then what follows its ']', a
 * key git takes on the section's own line.  False when nothing does. */
static bool section_line(const char **line, size_t *line_len, char *sec, size_t size)
{
	const char *l = *line;
	size_t len = *line_len;
	size_t i = 1, j = 0;

	while (i < len && l[i] != ']' && l[i] != ' ' && l[i] != '"' && l[i] != '.' && j + 1 < size)
		sec[j++] = (char)(l[i++] | 0x20);
	sec[j] = '\0';
	/* git takes a key on its section's own line */
	const char *close = memchr(l, ']', len);
	if (!close)
		return false;
	len -= (size_t)(close + 1 - l);
	l = close + 1;
	while (len && (*l == ' ' || *l == '\t')) {
		l++;
		len--;
	}
	if (!len || *l == '#' || *l == ';')
		return false;
	*line = l;
	*line_len = len;
	return true;
}

/* What the key KEY of the section SEC points at, 0 for nothing. */
static enum git_pointer pointer_kind(const char *sec, const char *key)
{
	return strcmp(sec, "core") == 0 && strcmp(key, "hookspath") == 0 ? PTR_HOOKS
	       : (strcmp(sec, "include") == 0 || strcmp(sec, "includeif") == 0) &&
		       strcmp(key, "path") == 0
		   ? PTR_INCLUDE
	       : strcmp(sec, "init") == 0 && strcmp(key, "templatedir") == 0 ? PTR_TEMPLATE
	       : strcmp(sec, "core") == 0 && strcmp(key, "worktree") == 0    ? PTR_WORKTREE
	       : program_key(sec, key)					     ? PTR_PROGRAM
									     : 0;
}

void gitconfig_each(const char *buf, size_t n, each_fn fn, void *ud)
{
	char sec[32] = "", secline[256] = "";
	/* on the heap (a frame's pages are touched at each start), as long as
	 * the whole configuration: git runs a command of any length, and one
	 * past PATH_MAX still names files in its words */
	_cleanup_free_ char *joined = NULL, *val = NULL;

	const char *l;
	size_t len, from = 0;

	/* a UTF-8 byte order mark, which git skips */
	if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		from = 3;
	for (size_t at = from; gitconfig_line(buf, n, &at, &l, &len);) {
		char key[128];
		size_t k = 0, kn = 0;
		if (*l == '[') {
			snprintf(secline, sizeof(secline), "%.*s", (int)len, l);
			if (!section_line(&l, &len, sec, sizeof(sec)))
				continue;
		}
		/* a value continued on the lines after (a backslash ending one):
		 * joined, never longer than the configuration */
		if (continued(l, len)) {
			size_t j = len - 1;
			if (!joined && !(joined = malloc(n + 1)))
				die("out of memory");
			memcpy(joined, l, j);
			for (bool more = true; more && at < n;) {
				const char *r = buf + at, *nl = memchr(r, '\n', n - at);
				size_t rl = nl ? (size_t)(nl - r) : n - at;
				at += rl + 1;
				if (rl && r[rl - 1] == '\r')
					rl--;
				more = continued(r, rl);
				rl -= more;
				memcpy(joined + j, r, rl);
				j += rl;
			}
			l = joined;
			len = j;
		}
		while (k < len && ((l[k] >= 'a' && l[k] <= 'z') || (l[k] >= 'A' && l[k] <= 'Z') ||
				   (l[k] >= '0' && l[k] <= '9') || l[k] == '-')) {
			if (kn + 1 < sizeof(key))
				key[kn++] = (char)(l[k] | 0x20);
			k++; /* (a longer key, an alias's, is read on, kept cut) */
		}
		key[kn] = '\0';
		const char *v = l + k, *end = l + len;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		if (v >= end || *v != '=') {
			fn(ud, sec, secline, key, NULL); /* (a boolean key: true) */
			continue;
		}
		v++;
		if (!val && !(val = malloc(n + 1)))
			die("out of memory");
		if (!config_value(v, end, val, n + 1))
			continue;
		fn(ud, sec, secline, key, val);
	}
}

struct pointers {
	pointer_fn fn;
	void *ud;
};

static void on_pointer(void *ud, const char *sec, const char *secline, const char *key,
		       const char *val)
{
	const struct pointers *pt = ud;
	enum git_pointer kind = pointer_kind(sec, key);

	(void)secline;
	if (!kind || !val)
		return;
	if (kind != PTR_PROGRAM) {
		/* (a path past PATH_MAX names nothing: ENAMETOOLONG) */
		if (strlen(val) < PATH_MAX)
			pt->fn(pt->ud, kind, val);
	} else if (strcmp(sec, "alias") != 0 || val[0] == '!')
		program_words(val, pt->fn, pt->ud); /* (an alias without '!' is git's) */
}

void gitconfig_pointers(const char *buf, size_t n, pointer_fn fn, void *ud)
{
	struct pointers pt = {fn, ud};

	gitconfig_each(buf, n, on_pointer, &pt);
}
