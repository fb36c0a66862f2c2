/* SPDX-License-Identifier: MIT */
/*
 * What a hook manager's configuration has the host's git hooks run:
 * lefthook's (YAML, TOML, JSON) and pre-commit's (YAML).  The files
 * themselves are built-in names (protect_names.c), held from the sandbox;
 * what their commands name was not: `run: sh tools/lint.sh` in lefthook.yml,
 * or pre-commit's `entry: tools/check.sh`, and the host's next commit ran
 * what the sandbox wrote there (a hook's own script, the same hole, is
 * protect_gather.c's hook_scripts()).
 *
 * Read for a few keys wherever they stand, not as a whole document: no
 * YAML, TOML or JSON reader is linked in, and one of the three for seven
 * keys is smaller than any of them.  A key met where the manager would not
 * read it (inside another value, under a key of no meaning) only protects
 * more.  The keys:
 *   run, entry, files, runner  a command (lefthook's `files` is one whose
 *                              output lists files; `runner` runs a
 *                              script), read as a hook's script is
 *                              (gitconfig_script_pointers());
 *   args                       pre-commit's arguments after an entry;
 *   root                       where lefthook runs a command: every
 *                              command's words taken from each root too;
 *   extends                    further configuration files (PTR_INCLUDE);
 *   source_dir, source_dir_local  lefthook's scripts' directories
 *                              (PTR_HOOKS).
 * Values: YAML's plain, quoted and block scalars and its block and flow
 * lists; TOML's four strings and arrays; JSON's strings and arrays.
 *
 * The same for the other configurations a built-in name holds that name a
 * script the host's tool runs outside the sandbox, held as they are, while
 * the script they name was the sandbox's to rewrite (README's known limits
 * said so): an agent's MCP servers (`command`, `args`, `cwd`: .mcp.json,
 * .cursor/mcp.json, .gemini/settings.json, .vscode/mcp.json, opencode.json,
 * .codex/config.toml), its hooks and helpers (.claude/settings.json's
 * `command`, `apiKeyHelper`; Copilot's .github/hooks/ `bash`), an editor's
 * tasks (.vscode/tasks.json, where one runs by itself), a dev container's commands
 * (`initializeCommand` runs on the host; its compose file starts the containers), yarn's `yarnPath`
 * and plugins, and direnv's .envrc (envrc_pointers()).  A server's or task's `command` and its
 * `args`, in the one JSON object or TOML table, are read as one command line; `${workspaceFolder}`
 * and
 * `$CLAUDE_PROJECT_DIR` and their kin are the top.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "supervisor.h"

enum hc_key {
	HC_CMD,
	HC_ARGS,
	HC_ROOT,
	HC_EXTENDS,
	HC_DIR,
	HC_ID,
	HC_PATH,      /* a file run or loaded (yarnPath), from the top */
	HC_PATH_HERE, /* the same from the configuration's directory */
	HC_ENV,	      /* a variable of the environment a tool gives its program */
	_HC_MAX
};

/* (the names in arrays: a table of pointers would be relocated at every
 * start, test_binary.py) */
STRING_TABLE_BEGIN
static const struct {
	char name[24];
	enum hc_key key;
	enum hookconf_kind conf; /* whose key */
} hc_keys[] = {
    /* lefthook's: a command, one that lists files, a script's runner, a
     * file sourced before each command */
    {"run", HC_CMD, HOOKCONF_LEFTHOOK},
    {"files", HC_CMD, HOOKCONF_LEFTHOOK},
    {"runner", HC_CMD, HOOKCONF_LEFTHOOK},
    {"rc", HC_CMD, HOOKCONF_LEFTHOOK},
    {"root", HC_ROOT, HOOKCONF_LEFTHOOK},
    {"extends", HC_EXTENDS, HOOKCONF_LEFTHOOK},
    {"source_dir", HC_DIR, HOOKCONF_LEFTHOOK},
    {"source_dir_local", HC_DIR, HOOKCONF_LEFTHOOK},
    /* pre-commit's (its `files` is a pattern, no command; `id` begins a
     * hook) */
    {"entry", HC_CMD, HOOKCONF_PRE_COMMIT},
    {"args", HC_ARGS, HOOKCONF_PRE_COMMIT},
    {"id", HC_ID, HOOKCONF_PRE_COMMIT},
    /* agents' and editors': an MCP server's, a hook's, a task's command
     * (Copilot's hooks: `bash`, `powershell`), its arguments and where it
     * runs; a dev container's lifecycle commands (initializeCommand on the
     * host, the others in the container, which holds the project); the
     * helpers Claude Code runs for credentials and telemetry, Gemini CLI's
     * tool discovery, Codex's notify */
    {"command", HC_CMD, HOOKCONF_TOOL},
    {"args", HC_ARGS, HOOKCONF_TOOL},
    {"cwd", HC_ROOT, HOOKCONF_TOOL},
    {"bash", HC_CMD, HOOKCONF_TOOL},
    {"powershell", HC_CMD, HOOKCONF_TOOL},
    {"initializeCommand", HC_CMD, HOOKCONF_TOOL},
    {"onCreateCommand", HC_CMD, HOOKCONF_TOOL},
    {"updateContentCommand", HC_CMD, HOOKCONF_TOOL},
    {"postCreateCommand", HC_CMD, HOOKCONF_TOOL},
    {"postStartCommand", HC_CMD, HOOKCONF_TOOL},
    {"postAttachCommand", HC_CMD, HOOKCONF_TOOL},
    {"apiKeyHelper", HC_CMD, HOOKCONF_TOOL},
    {"awsAuthRefresh", HC_CMD, HOOKCONF_TOOL},
    {"awsCredentialExport", HC_CMD, HOOKCONF_TOOL},
    {"otelHeadersHelper", HC_CMD, HOOKCONF_TOOL},
    {"headersHelper", HC_CMD, HOOKCONF_TOOL},
    {"toolDiscoveryCommand", HC_CMD, HOOKCONF_TOOL},
    {"toolCallCommand", HC_CMD, HOOKCONF_TOOL},
    {"discoveryCommand", HC_CMD, HOOKCONF_TOOL},
    {"callCommand", HC_CMD, HOOKCONF_TOOL},
    {"notify", HC_CMD, HOOKCONF_TOOL},
    /* a task's shell (VS Code's options.shell.executable) */
    {"executable", HC_CMD, HOOKCONF_TOOL},
    /* the environment a server, hook or task is given, where it names a
     * file the host's program loads (env_files(); a review) */
    {"NODE_OPTIONS", HC_ENV, HOOKCONF_TOOL},
    {"BASH_ENV", HC_ENV, HOOKCONF_TOOL},
    {"ENV", HC_ENV, HOOKCONF_TOOL},
    {"LD_PRELOAD", HC_ENV, HOOKCONF_TOOL},
    {"PYTHONSTARTUP", HC_ENV, HOOKCONF_TOOL},
    /* a dev container's compose file (it mounts host paths, runs
     * privileged) and Dockerfile, from the devcontainer.json's directory */
    {"dockerComposeFile", HC_PATH_HERE, HOOKCONF_TOOL},
    {"dockerFile", HC_PATH_HERE, HOOKCONF_TOOL},
    {"dockerfile", HC_PATH_HERE, HOOKCONF_TOOL},
    /* yarn's: the release every yarn command runs (.yarnrc.yml; yarn 1's
     * .yarnrc, `yarn-path "..."` with a blank for the ':'), a plugin's
     * file */
    {"yarnPath", HC_PATH, HOOKCONF_YARN},
    {"yarn-path", HC_PATH, HOOKCONF_YARN},
    {"path", HC_PATH, HOOKCONF_YARN},
    {"plugins", HC_PATH, HOOKCONF_YARN}, /* (a list of paths too: a review) */
};
STRING_TABLE_END

/* the roots read: a command is read from this many at most (a monorepo's
 * packages; a review found eight too few) */
#define HC_ROOTS 256
/* What a hostile configuration may cost the start, past its linear
 * reading (an outside review): the bytes of commands read again from each
 * root (256 roots of 1,024 commands of 3.8 KB each: 94 s), and the anchors
 * an alias is looked up among (21,000 anchors and as many aliases: minutes).
 * Past either the rest is not read, and the caller says so. */
#define HC_ROOT_WORK  (1u << 20)
#define HC_ALIAS_WORK (1u << 20)

struct hc_text {
	const char *b;
	size_t n;
};

struct hc_vals {
	char **v;
	size_t n;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool ends_line(const struct hc_text *t, size_t i)
{
	return i >= t->n || t->b[i] == '\n' || t->b[i] == '\r';
}

/* The spaces that lead the line at I (one beginning there), or -1 for a
 * line of blanks or a comment alone. */
static long indent_of(const struct hc_text *t, size_t i)
{
	size_t j = i;

	while (j < t->n && is_blank(t->b[j]))
		j++;
	if (ends_line(t, j) || t->b[j] == '#')
		return -1;
	return (long)(j - i);
}

static size_t next_line(const struct hc_text *t, size_t i)
{
	while (i < t->n && t->b[i] != '\n')
		i++;
	return i < t->n ? i + 1 : i;
}

/* The quoted string at I (its quote Q included) into OUT, *I past it:
 * "..." with YAML's, TOML's and JSON's escapes, '...' with YAML's '' for a
 * quote, and TOML's """...""" and '''...''' over lines.  A line break in
 * a one-line string is YAML's folding: a blank. */
static void quoted(const struct hc_text *t, size_t *i, char *out)
{
	char q = t->b[*i];
	size_t j = *i + 1, o = 0;
	bool triple = *i + 2 < t->n && t->b[*i + 1] == q && t->b[*i + 2] == q;

	if (triple) {
		j = *i + 3;
		if (j < t->n && t->b[j] == '\n')
			j++; /* TOML drops the break right after the quotes */
	}
	while (j < t->n) {
		char c = t->b[j];
		if (triple && c == q && j + 2 < t->n && t->b[j + 1] == q && t->b[j + 2] == q) {
			j += 3;
			break;
		}
		if (!triple && c == q) {
			if (q == '\'' && j + 1 < t->n && t->b[j + 1] == '\'') {
				out[o++] = '\'';
				j += 2;
				continue;
			}
			j++;
			break;
		}
		if (q == '"' && c == '\\' && j + 1 < t->n) {
			char e = t->b[j + 1];
			/* TOML's line-ending backslash in a """...""": the
			 * break and the blanks after it dropped (a review) */
			size_t w = j + 1;
			while (triple && w < t->n && is_blank(t->b[w]))
				w++;
			if (triple && w < t->n && (t->b[w] == '\n' || t->b[w] == '\r')) {
				while (w < t->n &&
				       (is_blank(t->b[w]) || t->b[w] == '\n' || t->b[w] == '\r'))
					w++;
				j = w;
				continue;
			}
			/* JSON's \uXXXX (a review: `tools\u002fx`), TOML's
			 * \UXXXXXXXX too (another): an ASCII character as
			 * itself, any other as a byte no name of a file here
			 * holds */
			unsigned v = 0, h = 0, hn = e == 'u' ? 4 : e == 'U' ? 8 : 0;
			for (; h < hn && j + 2 + h < t->n; h++) {
				int x = hex_value(t->b[j + 2 + h]);
				if (x < 0)
					break;
				v = v << 4 | (unsigned)x;
			}
			if (hn && h == hn) {
				out[o++] = v && v < 0x80 ? (char)v : '\x7f';
				j += 2 + hn;
				continue;
			}
			out[o++] = e == 'n' ? '\n' : e == 't' ? '\t' : e;
			j += 2;
			continue;
		}
		out[o++] = !triple && (c == '\n' || c == '\r') ? ' ' : c;
		j++;
	}
	out[o] = '\0';
	*i = j;
}

/* The lines after the one at I more indented than COL, as one value into
 * OUT: joined by SEP ('\n' for a YAML literal block, ' ' for a folded one
 * and for a plain scalar over lines).  *I past them. */
static void more_indented(const struct hc_text *t, size_t *i, long col, char sep, char *out)
{
	size_t j = next_line(t, *i), o = 0;

	while (j < t->n) {
		long ind = indent_of(t, j);
		if (ind >= 0 && ind <= col)
			break;
		size_t e = j;
		while (e < t->n && t->b[e] != '\n')
			e++;
		if (ind >= 0) {
			size_t b = j + (size_t)ind;
			size_t l = e - b;
			if (l && t->b[b + l - 1] == '\r')
				l--;
			if (o)
				out[o++] = sep;
			memcpy(out + o, t->b + b, l);
			o += l;
		}
		j = e < t->n ? e + 1 : e;
	}
	out[o] = '\0';
	*i = j;
}

/* One scalar at I into OUT (plain: to the line's end or a comment, and in
 * a flow (FLOW) to its next ',', ']' or '}' as well), *I past it. */
static void plain(const struct hc_text *t, size_t *i, bool flow, char *out)
{
	size_t j = *i, o = 0;

	while (!ends_line(t, j) && !(t->b[j] == '#' && j > *i && is_blank(t->b[j - 1])) &&
	       !(flow && (t->b[j] == ',' || t->b[j] == ']' || t->b[j] == '}')))
		out[o++] = t->b[j++];
	while (o && is_blank(out[o - 1]))
		o--;
	out[o] = '\0';
	*i = j;
}

/* the values of one kind kept (past them, more of it are not read) */
#define HC_VALS 1024

static void add_val(struct hc_vals *vals, char *s)
{
	if (*s && vals->n < HC_VALS)
		strv_add(&vals->v, &vals->n, s);
}

static size_t skip_space(const struct hc_text *t, size_t i, bool jsonc, int lines);

/* (between its members: blanks, line breaks and JSONC's comments) */
static size_t skip_blanks(const struct hc_text *t, size_t i)
{
	return skip_space(t, i, true, 4);
}

/*
 * An item of a JSON list that is an object of string members, at *I: VS
 * Code's quoted argument, `{"value": "tools/x", "quoting": "escape"}` (or
 * a list of strings as its value: an outside review found a folder-open
 * task's script held only as a plain string); its other members strings,
 * lists of them or plain scalars.  Its "value" strings into VALS and *I
 * past it: true; false (nothing read) for any other shape, whose keys the
 * scan meets as before.
 */
static bool value_object(const struct hc_text *t, size_t *i, char *out, struct hc_vals *vals)
{
	struct hc_vals got = {0};
	size_t j = *i + 1;

	for (;;) {
		j = skip_blanks(t, j);
		if (j < t->n && t->b[j] == ',')
			j = skip_blanks(t, j + 1);
		if (j >= t->n || (t->b[j] != '"' && t->b[j] != '}'))
			break;
		if (t->b[j] == '}') {
			for (size_t k = 0; k < got.n; k++)
				add_val(vals, got.v[k]);
			strv_clear(&got.v, &got.n);
			*i = j + 1;
			return true;
		}
		quoted(t, &j, out);
		bool value = strcmp(out, "value") == 0;
		j = skip_blanks(t, j);
		if (j >= t->n || t->b[j] != ':')
			break;
		j = skip_blanks(t, j + 1);
		if (j < t->n && t->b[j] == '"') {
			quoted(t, &j, out);
			if (value)
				add_val(&got, out);
		} else if (j < t->n && t->b[j] == '[') {
			for (j = skip_blanks(t, j + 1); j < t->n && t->b[j] == '"';) {
				quoted(t, &j, out);
				if (value)
					add_val(&got, out);
				j = skip_blanks(t, j);
				if (j < t->n && t->b[j] == ',')
					j = skip_blanks(t, j + 1);
			}
			if (j >= t->n || t->b[j] != ']')
				break;
			j++;
		} else {
			/* a number, true, false, null */
			size_t was = j;
			while (j < t->n && (isalnum((unsigned char)t->b[j]) || t->b[j] == '.' ||
					    t->b[j] == '-' || t->b[j] == '+'))
				j++;
			if (j == was || value)
				break;
		}
	}
	strv_clear(&got.v, &got.n);
	return false;
}

/* The value of the key whose name begins at COL of its line and whose
 * value begins at I (past the ':' or '=' and blanks), each string of it
 * into VALS (a list gives each of its items).  FLOW: the key stood in a
 * flow mapping ({run: x, ...}).  OUT: scratch of the text's size.
 * Returns where its reading ended. */
static size_t value_at(const struct hc_text *t, size_t i, long col, bool flow, char *out,
		       struct hc_vals *vals)
{
	if (i >= t->n)
		return i;
	/* a YAML tag before the value (`!!str sh tools/x`: a review) */
	if (t->b[i] == '!') {
		while (i < t->n && !is_blank(t->b[i]) && !ends_line(t, i))
			i++;
		while (i < t->n && is_blank(t->b[i]))
			i++;
		if (i >= t->n)
			return i;
	}
	char c = t->b[i];
	if (c == '"' || c == '\'') {
		quoted(t, &i, out);
		add_val(vals, out);
	} else if (c == '|' || c == '>') {
		more_indented(t, &i, col, c == '|' ? '\n' : ' ', out);
		add_val(vals, out);
	} else if (c == '[') {
		/* a flow list (YAML, TOML, JSON), one level: its strings */
		for (i++; i < t->n && t->b[i] != ']';) {
			char d = t->b[i];
			if (d == '"' || d == '\'') {
				quoted(t, &i, out);
				add_val(vals, out);
			} else if (d == ',' || d == ' ' || d == '\t' || d == '\n' || d == '\r') {
				i++;
			} else if (d == '#') {
				i = next_line(t, i); /* a comment in a TOML array */
			} else if (d == '{' && value_object(t, &i, out, vals)) {
				/* (read: the list goes on) */
			} else if (d == '[' || d == '{') {
				return i; /* nested: its own keys are met by the scan */
			} else {
				size_t was = i;
				plain(t, &i, true, out);
				add_val(vals, out);
				if (i == was)
					i++;
			}
		}
	} else if (c == '{') {
		return i; /* a mapping: its keys are met by the scan */
	} else if (ends_line(t, i) || c == '#') {
		/* nothing on the key's line: a block list below it (its items
		 * as indented as the key, or more), or a plain scalar over the
		 * lines more indented */
		size_t j = next_line(t, i);
		long ind = -1;
		while (j < t->n && (ind = indent_of(t, j)) < 0)
			j = next_line(t, j);
		if (j < t->n && ind >= col && t->b[j + (size_t)ind] == '-' &&
		    (j + (size_t)ind + 1 >= t->n || is_blank(t->b[j + (size_t)ind + 1]))) {
			long item = ind;
			while (j < t->n) {
				ind = indent_of(t, j);
				if (ind < 0) {
					j = next_line(t, j);
					continue;
				}
				size_t b = j + (size_t)ind;
				if (ind != item || t->b[b] != '-' ||
				    (b + 1 < t->n && !is_blank(t->b[b + 1])))
					break;
				b++;
				while (b < t->n && is_blank(t->b[b]))
					b++;
				if (b < t->n && (t->b[b] == '"' || t->b[b] == '\''))
					quoted(t, &b, out);
				else
					plain(t, &b, false, out);
				add_val(vals, out);
				j = next_line(t, j);
			}
			return j;
		} else {
			more_indented(t, &i, col, ' ', out);
			add_val(vals, out);
		}
	} else {
		plain(t, &i, flow, out);
		if (!flow) {
			/* and the lines more indented, folded into it */
			size_t o = strlen(out), j = i;
			more_indented(t, &j, col, ' ', out + o + 1);
			if (out[o + 1])
				out[o] = ' ';
			i = j;
		}
		add_val(vals, out);
	}
	return i;
}

/*
 * Where values were read: a key met inside a value read before (`run:
 * run: run: ...` on one line, a thousand anchors on another) has its value
 * read from a budget of the text's size, so that no text takes more than
 * a few passes (a review: a hostile clone's .mcp.json held the start for
 * seconds a megabyte).  Real configurations never come near it.
 */
struct hc_reads {
	size_t end;    /* the furthest a value's reading reached */
	size_t budget; /* what is left for the nested ones */
};

static void read_value(const struct hc_text *t, size_t i, long col, bool flow, char *out,
		       struct hc_vals *vals, struct hc_reads *r)
{
	struct hc_text view = *t;
	bool nested = i < r->end;

	if (nested) {
		if (!r->budget)
			return;
		if (view.n - i > r->budget)
			view.n = i + r->budget;
	}
	size_t end = value_at(&view, i, col, flow, out, vals);
	if (nested)
		r->budget -= end - i < r->budget ? end - i : r->budget;
	if (end > r->end)
		r->end = end;
}

/* Past the blanks, line breaks and comments ('#', and JSONC's // and
 * slash-star ones when JSONC) from I, over LINES line breaks and a few
 * kilobytes at most (each key looks ahead: bounded, so that a line of keys
 * is no quadratic reading); the text's end when what follows is not seen
 * within that. */
static size_t skip_space(const struct hc_text *t, size_t i, bool jsonc, int lines)
{
	size_t lim = t->n - i > 4096 ? i + 4096 : t->n;

	while (i < lim) {
		char c = t->b[i], d = i + 1 < lim ? t->b[i + 1] : '\0';
		if (is_blank(c) || c == '\r') {
			i++;
		} else if (c == '\n') {
			if (lines-- <= 0)
				return i;
			i++;
		} else if (c == '#' || (jsonc && c == '/' && d == '/')) {
			while (i < lim && t->b[i] != '\n')
				i++;
		} else if (jsonc && c == '/' && d == '*') {
			const char *e =
			    i + 2 < lim ? memmem(t->b + i + 2, lim - i - 2, "*/", 2) : NULL;
			if (!e)
				return t->n;
			i = (size_t)(e - t->b) + 2;
		} else {
			return i;
		}
	}
	return i < t->n ? t->n : i;
}

/* A double-quoted key's name at I (past its quote) into NAME (SIZE), JSON's
 * escapes taken (a review: `"comm\u0061nd"`): where its closing quote ends,
 * or 0 when there is none within SIZE characters. */
static size_t key_name(const struct hc_text *t, size_t i, char *name, size_t size)
{
	size_t l = 0;

	while (i < t->n && t->b[i] != '"' && l + 1 < size) {
		if (t->b[i] != '\\' || i + 1 >= t->n) {
			name[l++] = t->b[i++];
			continue;
		}
		unsigned v = 0, h = 0;
		for (; t->b[i + 1] == 'u' && h < 4 && i + 2 + h < t->n; h++) {
			int x = hex_value(t->b[i + 2 + h]);
			if (x < 0)
				break;
			v = v << 4 | (unsigned)x;
		}
		if (h == 4) {
			name[l++] = v && v < 0x80 ? (char)v : '\x7f';
			i += 6;
		} else {
			name[l++] = t->b[i + 1];
			i += 2;
		}
	}
	name[l] = '\0';
	return i < t->n && t->b[i] == '"' ? i + 1 : 0;
}

/* Whether a key of hc_keys[] begins at I: *K which, *V where its value
 * begins, *FLOW whether it stands in a flow mapping. */
static bool key_at(const struct hc_text *t, size_t i, enum hookconf_kind conf, size_t *k, size_t *v,
		   bool *flow)
{
	char before = i ? t->b[i - 1] : '\n', name[sizeof(hc_keys[0].name)];
	char q = before == '"' || before == '\'' ? before : 0;
	size_t quoted_end = 0;

	if (!q && !(before == '\n' || is_blank(before) || before == '{' || before == ',' ||
		    before == '.'))
		return false;
	if (q == '"' && !(quoted_end = key_name(t, i, name, sizeof(name))))
		return false;
	for (size_t j = 0; j < ARRAY_SIZE(hc_keys); j++) {
		size_t l = strlen(hc_keys[j].name), e = i + l;
		if (hc_keys[j].conf != conf)
			continue;
		if (q == '"') {
			if (strcmp(name, hc_keys[j].name) != 0)
				continue;
			e = quoted_end;
		} else {
			if (e > t->n || memcmp(t->b + i, hc_keys[j].name, l) != 0)
				continue;
			if (q) {
				if (e >= t->n || t->b[e] != q)
					continue;
				e++;
			}
		}
		/* yarn 1's .yarnrc: `yarn-path "x"`, the value after blanks
		 * (its key quoted too: a review) */
		if (conf == HOOKCONF_YARN && e < t->n && is_blank(t->b[e]) &&
		    strchr(hc_keys[j].name, '-')) {
			while (e < t->n && is_blank(t->b[e]))
				e++;
			if (e < t->n && t->b[e] != ':') {
				*k = j;
				*v = e;
				*flow = false;
				return true;
			}
		}
		/* (JSON's quoted key: a line break before its ':' too) */
		while (e < t->n &&
		       (is_blank(t->b[e]) || (q == '"' && (t->b[e] == '\n' || t->b[e] == '\r'))))
			e++;
		if (e >= t->n || (t->b[e] != ':' && t->b[e] != '='))
			continue;
		/* YAML's plain key: a blank or the line's end after its ':'
		 * (`run:x` is a scalar); JSON's quoted one needs none */
		if (!q && t->b[e] == ':' && !ends_line(t, e + 1) && !is_blank(t->b[e + 1]) &&
		    t->b[e + 1] != '"' && t->b[e + 1] != '\'')
			continue;
		e++;
		while (e < t->n && is_blank(t->b[e]))
			e++;
		/* nothing more on its line (or a comment): a JSON value may
		 * stand on the next lines, at any column, a JSONC comment
		 * before it (a review); YAML's is read by indentation */
		bool jsonc = q == '"' || conf == HOOKCONF_TOOL;
		if (ends_line(t, e) || t->b[e] == '#' ||
		    (jsonc && t->b[e] == '/' && e + 1 < t->n &&
		     (t->b[e + 1] == '/' || t->b[e + 1] == '*'))) {
			size_t a = skip_space(t, e, jsonc, 4);
			if (a < t->n && strchr("\"'[{", t->b[a]) && (jsonc || t->b[a] != '{'))
				e = a;
		}
		/* what stands before it (before its quote), past blanks: '{'
		 * or ',' in a flow mapping */
		size_t p = q ? i - 1 : i;
		while (p > 0 && is_blank(t->b[p - 1]))
			p--;
		*flow = p > 0 && (t->b[p - 1] == '{' || t->b[p - 1] == ',');
		*k = j;
		*v = e;
		return true;
	}
	return false;
}

/* "cd 'ROOT'" and a line break before CMD, in a new string; NULL for a
 * root no single quotes hold. */
static char *in_root(const char *root, const char *cmd)
{
	if (strpbrk(root, "'\n\r"))
		return NULL;
	size_t l = strlen(root) + strlen(cmd) + 8;
	char *s = malloc(l);
	if (s)
		snprintf(s, l, "cd '%s'\n%s", root, cmd);
	return s;
}

/* Whether a YAML anchor begins at I (`&name value`): *V where its value
 * begins, *FLOW whether it stands in a flow mapping (OPEN: the '{' before
 * it on its line, less the '}'), *NAME_END where its name ends. */
static bool anchor_at(const struct hc_text *t, size_t i, int open, size_t *v, bool *flow,
		      size_t *name_end)
{
	size_t e = i + 1;

	if (t->b[i] != '&' || !(i == 0 || is_blank(t->b[i - 1])))
		return false;
	while (e < t->n && !is_blank(t->b[e]) && !ends_line(t, e) && !strchr(",[]{}", t->b[e]))
		e++;
	if (e == i + 1 || e >= t->n || !is_blank(t->b[e]))
		return false; /* (a mapping's anchor: its keys are met by the scan) */
	*name_end = e;
	while (e < t->n && is_blank(t->b[e]))
		e++;
	*flow = open > 0;
	*v = e;
	return true;
}

/* HEAD and the list ARGS after it, each quoted: pre-commit's entry and
 * its arguments as one command line (`entry: bash -c`, `args: ['sh
 * tools/x']`: a review).  The entry is the hook's read before them; none
 * yet (args written first, or a hook of another repository, whose entry
 * its repository has), "true": the arguments are arguments, a file each
 * names not a program. */
static char *args_line(const char *head, const struct hc_vals *args)
{
	size_t l = strlen(head) + 1;

	for (size_t i = 0; i < args->n; i++)
		l += 3 + 4 * strlen(args->v[i]);
	char *s = malloc(l), *o = s;
	if (!s)
		return NULL;
	o += sprintf(o, "%s", head);
	for (size_t i = 0; i < args->n; i++) {
		*o++ = ' ';
		*o++ = '\'';
		for (const char *c = args->v[i]; *c; c++)
			if (*c == '\'')
				o += sprintf(o, "'\\''");
			else
				*o++ = *c;
		*o++ = '\'';
	}
	*o = '\0';
	return s;
}

/* A YAML anchor's name and values (a list's items, or one scalar). */
struct hc_anchor {
	char *name;
	struct hc_vals vals;
};

struct hc_anchors {
	struct hc_anchor *v;
	size_t n;
	size_t work; /* names compared so far (HC_ALIAS_WORK) */
	bool cut;    /* past it: the aliases after it taken as written */
};

/* The values in FROM into TO, an alias (`*name`) given as its anchor's
 * values (the last anchor of that name read before it, as YAML has it). */
static void add_vals(struct hc_vals *to, const struct hc_vals *from, struct hc_anchors *an)
{
	for (size_t i = 0; i < from->n; i++) {
		const struct hc_anchor *a = NULL;
		if (from->v[i][0] == '*' && (an->work += an->n) > HC_ALIAS_WORK)
			an->cut = true;
		for (size_t k = an->n; from->v[i][0] == '*' && !an->cut && k-- > 0;)
			if (strcmp(from->v[i] + 1, an->v[k].name) == 0) {
				a = &an->v[k];
				break;
			}
		if (!a) {
			add_val(to, from->v[i]);
			continue;
		}
		for (size_t k = 0; k < a->vals.n; k++)
			add_val(to, a->vals.v[k]);
	}
}

/* pre-commit: one hook's entry and arguments, paired when the hook ends
 * (its keys in any order: a review), and the column of the list item
 * that began it.  A hook with no entry is another repository's: its
 * arguments are that program's options, not read (a review: they made
 * .secrets.baseline and .flake8 read-only). */
struct hc_hook {
	char *entry;
	struct hc_vals args;
	long col;
	bool id;
};

static void hook_end(struct hc_hook *h, struct hc_vals *cmds)
{
	if (h->entry && h->args.n) {
		_cleanup_free_ char *line = args_line(h->entry, &h->args);
		if (line)
			add_val(cmds, line);
		/* an argument with blanks, a command line of its own too
		 * (`entry: bash -c`, `args: ['sh tools/x']`) */
		for (size_t a = 0; a < h->args.n; a++)
			if (strpbrk(h->args.v[a], " \t"))
				add_val(cmds, h->args.v[a]);
	}
	free(h->entry);
	strv_clear(&h->args.v, &h->args.n);
	*h = (struct hc_hook){.col = -1};
}

/* Whether the line at I begins a mapping's list item (`- key: ...`): its
 * dash's column in *COL. */
static bool item_line(const struct hc_text *t, size_t i, long *col)
{
	long ind = indent_of(t, i);
	size_t b = i + (size_t)(ind < 0 ? 0 : ind);

	if (ind < 0 || b + 1 >= t->n || t->b[b] != '-' || !is_blank(t->b[b + 1]))
		return false;
	for (size_t e = b + 2; !ends_line(t, e); e++)
		if (t->b[e] == ':' && (ends_line(t, e + 1) || is_blank(t->b[e + 1]))) {
			*col = ind;
			return true;
		}
	return false;
}

/* Where a tool's key stands: the JSON object or TOML table holding it (a
 * server's `command` and `args` are one command line only there), read
 * from the scan's steps over each character. */
#define HC_NEST 32
#define HC_NONE ((size_t)-1)

struct hc_scope {
	size_t open[HC_NEST]; /* where each object the scan is in began */
	size_t table;	      /* TOML's last [table], or HC_NONE */
	int depth, brackets;
	char quote;   /* in a string it began */
	char comment; /* in one: '#' or '/' to the line's end, '*' to its close */
	bool escaped;
	bool inked; /* a character not blank met on the line */
	/* a command's object (`"initializeCommand": {"a": "x"}`): where the
	 * next one opens, and of each open one whether it is one, the
	 * brackets open around it and the group its command key was in */
	size_t cmd_next;
	bool cmd[HC_NEST];
	int cmd_brackets[HC_NEST];
	size_t cmd_group[HC_NEST];
};

static size_t scope_of(const struct hc_scope *s)
{
	if (s->depth > HC_NEST)
		return HC_NONE - 1; /* (deeper: one scope, which only joins more) */
	return s->depth ? s->open[s->depth - 1] : s->table;
}

/* The step over the character at I: whether a scope ended there (an
 * object closed, a TOML table header began), the one that did in *ENDED. */
static bool scope_step(struct hc_scope *s, const struct hc_text *t, size_t i, size_t *ended)
{
	char c = t->b[i], d = i + 1 < t->n ? t->b[i + 1] : '\0';
	/* (kept as the scan goes: a review found a line's start sought
	 * back from each '[' quadratic) */
	bool first;

	if (i == 0 || t->b[i - 1] == '\n')
		s->inked = false;
	first = !s->inked;
	if (!is_blank(c) && c != '\n' && c != '\r')
		s->inked = true;

	if (s->comment) {
		if (s->comment == '*' ? c == '*' && d == '/' : c == '\n')
			s->comment = 0;
		return false;
	}
	if (s->quote) {
		if (s->escaped)
			s->escaped = false;
		else if (c == '\\' && s->quote == '"')
			s->escaped = true;
		else if (c == s->quote)
			s->quote = 0;
		return false;
	}
	if (c == '"' || c == '\'') {
		s->quote = c;
	} else if (c == '#' || (c == '/' && (d == '/' || d == '*'))) {
		s->comment = c == '/' ? d : c; /* TOML's, JSONC's */
	} else if (c == '{') {
		if (s->depth < HC_NEST) {
			s->open[s->depth] = i;
			s->cmd[s->depth] = i == s->cmd_next;
			s->cmd_brackets[s->depth] = s->brackets;
		}
		s->depth++;
	} else if (c == '}' && s->depth > 0) {
		*ended = scope_of(s);
		s->depth--;
		return true;
	} else if (c == '[') {
		bool header = !s->depth && !s->brackets && first;
		s->brackets++;
		if (header) {
			*ended = s->table;
			s->table = i;
			return true;
		}
	} else if (c == ']' && s->brackets > 0) {
		s->brackets--;
	}
	return false;
}

/* A tool's command and its arguments (HC_ARGS) met in one scope: paired
 * when the scope ends, as pre-commit's entry and args are. */
struct hc_group {
	size_t scope;
	struct hc_vals cmds, args;
};

static void group_end(struct hc_group *g, struct hc_vals *cmds)
{
	/* (each command with the arguments: the first and last few only,
	 * the others alone, so that a thousand commands and long arguments
	 * in one object make no gigabytes; JSON's readers take the last of
	 * a key given twice) */
	for (size_t i = 0; i < g->cmds.n; i++) {
		bool paired = i < 4 || i + 4 >= g->cmds.n;
		_cleanup_free_ char *line =
		    paired ? args_line(g->cmds.v[i], &g->args) : strdup(g->cmds.v[i]);
		if (line)
			add_val(cmds, line);
	}
	if (!g->cmds.n && g->args.n) {
		/* arguments of a command written elsewhere: the files they
		 * name, as arguments */
		_cleanup_free_ char *line = args_line("true", &g->args);
		if (line)
			add_val(cmds, line);
	}
	/* an argument with blanks, a command line of its own too (`bash`,
	 * `["-c", "sh tools/x"]`) */
	for (size_t a = 0; a < g->args.n; a++)
		if (strpbrk(g->args.v[a], " \t"))
			add_val(cmds, g->args.v[a]);
	strv_clear(&g->cmds.v, &g->cmds.n);
	strv_clear(&g->args.v, &g->args.n);
	g->scope = HC_NONE;
}

/* The names the tools give the project's top, in S made "." in place (each
 * longer than that): Claude Code's hooks' $CLAUDE_PROJECT_DIR (and Gemini
 * CLI's, which takes Claude's too), VS Code's and the dev containers'
 * ${workspaceFolder} and kin (the container's is the project mounted). */
static void top_names(char *s)
{
	STRING_TABLE_BEGIN
	static const char names[][28] = {
	    "${CLAUDE_PROJECT_DIR}",   "$CLAUDE_PROJECT_DIR",	      "${GEMINI_PROJECT_DIR}",
	    "$GEMINI_PROJECT_DIR",     "${workspaceFolder}",	      "${workspaceRoot}",
	    "${localWorkspaceFolder}", "${containerWorkspaceFolder}",
	};
	STRING_TABLE_END

	/* one pass, copied down (a review: a value of many '$' was
	 * quadratic) */
	char *o = s;
	for (const char *p = s; *p;) {
		size_t i = 0, l = 0;
		for (; *p == '$' && i < ARRAY_SIZE(names); i++) {
			l = strlen(names[i]);
			char after = strncmp(p, names[i], l) == 0 ? p[l] : 0;
			if (strncmp(p, names[i], l) == 0 &&
			    (names[i][1] == '{' ||
			     !(after == '_' || (after >= 'A' && after <= 'Z') ||
			       (after >= 'a' && after <= 'z') || (after >= '0' && after <= '9'))))
				break;
		}
		if (*p == '$' && i < ARRAY_SIZE(names)) {
			*o++ = '.';
			p += l;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
}

/* The file X of a variable of the environment, from the top; one led by
 * an expansion, or outside the project, not. */
static void env_file(const char *x, pointer_fn fn, void *ud)
{
	if (strchr(x, '$') || x[0] == '/' || x[0] == '~')
		return;
	while (strncmp(x, "./", 2) == 0)
		x += 2;
	if (*x)
		fn(ud, PTR_PROGRAM, x);
}

/* The files the variable NAME (VAL, written over) has the host's program
 * load (a review: a server's `"env": {"NODE_OPTIONS": "--require
 * ./tools/pre.js"}`), only these well-known ones: NODE_OPTIONS's
 * --require, -r, --import and --loader of a relative module ("./x": node
 * takes a bare name from node_modules), BASH_ENV's and ENV's script
 * (sourced by every bash or sh the program starts), PYTHONSTARTUP's,
 * LD_PRELOAD's libraries named by a path.  Each as PTR_PROGRAM. */
static void env_files(const char *name, char *val, pointer_fn fn, void *ud)
{
	STRING_TABLE_BEGIN
	static const char opts[][24] = {"--require", "-r", "--import", "--loader",
					"--experimental-loader"};
	STRING_TABLE_END
	char *sv = NULL;

	if (strcmp(name, "NODE_OPTIONS") == 0) {
		bool next = false;
		for (char *w = strtok_r(val, " \t", &sv); w; w = strtok_r(NULL, " \t", &sv)) {
			char *x = next ? w : NULL;
			next = false;
			for (size_t k = 0; !x && k < ARRAY_SIZE(opts); k++) {
				size_t l = strlen(opts[k]);
				if (strncmp(w, opts[k], l) != 0 || (w[l] && w[l] != '='))
					continue;
				if (w[l])
					x = w + l + 1;
				else
					next = true;
				break;
			}
			if (x && (x[0] == '"' || x[0] == '\'')) {
				x++;
				x[strcspn(x, "\"'")] = '\0';
			}
			if (x && (strncmp(x, "./", 2) == 0 || strncmp(x, "../", 3) == 0))
				env_file(x, fn, ud);
		}
	} else if (strcmp(name, "LD_PRELOAD") == 0) {
		for (char *w = strtok_r(val, " \t:", &sv); w; w = strtok_r(NULL, " \t:", &sv))
			if (strchr(w, '/'))
				env_file(w, fn, ud);
	} else if (strcmp(name, "BASH_ENV") == 0 || strcmp(name, "ENV") == 0 ||
		   strcmp(name, "PYTHONSTARTUP") == 0) {
		env_file(val, fn, ud);
	}
}

/* The value of a tool's command key at I as command lines into LINES: a
 * string is one (a shell's, or a program's path); a list, a program and
 * its arguments (devcontainer.json's array, opencode's `command`).  An
 * object gives one of those for each of its members (initializeCommand's
 * named commands; Zed's `command: {path, args}`), read as the scan meets
 * them (struct hc_scope: a review found a rescan of each object to its
 * end quadratic). */
static void tool_cmds(const struct hc_text *t, size_t i, long col, bool flow, char *out,
		      struct hc_vals *lines, struct hc_reads *reads)
{
	struct hc_vals got = {0};

	if (i >= t->n || t->b[i] == '{')
		return;
	read_value(t, i, col, flow, out, &got, reads);
	for (size_t a = 0; a < got.n; a++)
		top_names(got.v[a]);
	if (t->b[i] == '[' && got.n) {
		struct hc_vals rest = {got.v + 1, got.n - 1};
		_cleanup_free_ char *line = args_line(got.v[0], &rest);
		if (line)
			add_val(lines, line);
	} else if (got.n) {
		add_val(lines, got.v[0]);
	}
	strv_clear(&got.v, &got.n);
}

static void envrc_pointers(const char *buf, size_t n, pointer_fn fn, void *ud);

/* Whether WORD stands in BUF (N bytes, NULs and all), in any case. */
static bool has_nocase(const char *buf, size_t n, const char *word)
{
	size_t w = strlen(word);

	for (size_t i = 0; i + w <= n; i++)
		if (strncasecmp(buf + i, word, w) == 0)
			return true;
	return false;
}

/*
 * Whether an editor's tasks (BUF, N bytes) may run without the user asking:
 * a task with `"runOptions": {"runOn": "folderOpen"}` runs when the folder
 * is opened, and the tasks it depends on with it.  One the user runs by
 * hand is the project's own code run by its user, as a debugger's launch
 * is (what the sandbox wrote there runs whoever wrote it): holding its
 * script, with a Python script's whole directory, made the project's own
 * source read-only to the command for a task it may never run (`python3
 * app/main.py`: app/).  Taken as automatic, and every task read, wherever
 * the words `runOn` or `folderOpen` stand, in any case, read through
 * JSON's escapes as VS Code reads them (`"run\u004fn"`; `"ru\xnOn"`, an
 * escape it does not know dropped: a review): a false one holds only
 * more.  The file itself is held from the sandbox, which cannot add one.
 */
static bool tasks_run_by_themselves(const char *buf, size_t n)
{
	/* its escapes taken as VS Code's reader takes them: \uXXXX the
	 * character, a known one its character, an unknown one dropped with
	 * what follows (a backslash alone, in a problem matcher's pattern,
	 * makes no word) */
	_cleanup_free_ char *d = malloc(n + 1);
	size_t o = 0;

	if (!d)
		return true;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != '\\' || i + 1 >= n) {
			d[o++] = buf[i];
			continue;
		}
		char e = buf[++i];
		int v = 0, h = 0;
		for (; e == 'u' && h < 4 && i + 1 + (size_t)h < n; h++) {
			int x = hex_value(buf[i + 1 + (size_t)h]);
			if (x < 0)
				break;
			v = v << 4 | x;
		}
		if (e == 'u' && h == 4) {
			d[o++] = v > 0 && v < 0x80 ? (char)v : '\x7f';
			i += 4;
		} else if (strchr("\"\\/bfnrt", e)) {
			d[o++] = e;
		}
	}
	return has_nocase(d, o, "runon") || has_nocase(d, o, "folderopen");
}

bool hookconf_pointers(const char *buf, size_t n, enum hookconf_kind conf, const char *self_dir,
		       pointer_fn fn, void *ud)
{
	struct hc_text t = {buf, n};
	struct hc_vals vals[_HC_MAX] = {0};
	struct hc_anchors anchors = {0};
	struct hc_hook hook = {.col = -1};
	struct hc_scope scope = {.table = HC_NONE, .cmd_next = HC_NONE};
	struct hc_group group = {.scope = HC_NONE};
	bool pre_commit = conf == HOOKCONF_PRE_COMMIT, tool = conf == HOOKCONF_TOOL;
	/* the values read (a budget for the nested ones: struct hc_reads);
	 * the line the scan is on: where it began, its indentation, its
	 * first '#' and its '{' less its '}' so far (kept as the scan goes: a
	 * review found them sought back from each key quadratic) */
	struct hc_reads reads = {0, 4 * n + 65536};
	size_t ls = 0, hash = HC_NONE;
	long ind = -1;
	int braces = 0;
	char *out;

	if (conf == HOOKCONF_ENVRC) {
		envrc_pointers(buf, n, fn, ud);
		return true;
	}
	if (conf == HOOKCONF_TASKS) {
		if (!tasks_run_by_themselves(buf, n))
			return true;
		conf = HOOKCONF_TOOL;
		tool = true;
	}
	if (!(out = malloc(n + 2)))
		return false;
	for (size_t i = 0; i < n; i++) {
		size_t k, v, name_end, ended;
		bool flow;
		long item;
		struct hc_vals got = {0};
		if (i == 0 || buf[i - 1] == '\n') {
			ls = i;
			ind = indent_of(&t, i);
			hash = HC_NONE;
			braces = 0;
		} else {
			braces += buf[i - 1] == '{' ? 1 : buf[i - 1] == '}' ? -1 : 0;
			if (buf[i - 1] == '#' && hash == HC_NONE)
				hash = i - 1;
		}
		if (tool && scope_step(&scope, &t, i, &ended) && ended == group.scope)
			group_end(&group, &vals[HC_CMD]);
		/* a member of a command's object: its value a command line */
		int d = scope.depth - 1;
		if (tool && (buf[i] == ':' || buf[i] == '=') && !scope.quote && !scope.comment &&
		    d >= 0 && d < HC_NEST && scope.cmd[d] &&
		    scope.brackets == scope.cmd_brackets[d]) {
			size_t a = skip_space(&t, i + 1, true, 4);
			if (a < n && strchr("\"'[", buf[a]))
				tool_cmds(&t, a, 0, true, out,
					  group.scope == scope.cmd_group[d] ? &group.cmds
									    : &vals[HC_CMD],
					  &reads);
			continue;
		}
		/* a list item at the hook's column or left of it ends it */
		if (pre_commit && (i == 0 || buf[i - 1] == '\n') && item_line(&t, i, &item)) {
			if ((hook.entry || hook.args.n || hook.id) && hook.col >= 0 &&
			    item <= hook.col)
				hook_end(&hook, &vals[HC_CMD]);
			if (!hook.entry && !hook.args.n && !hook.id)
				hook.col = item;
		}
		if (!tool && anchor_at(&t, i, braces, &v, &flow, &name_end)) {
			/* an anchor's values, for an alias in a key of ours
			 * (`x: &lint tools/x`, `entry: *lint`: a review); its
			 * lines below are its line's more indented ones */
			if (ind < 0 || (hash != HC_NONE && (hash == ls || is_blank(buf[hash - 1]))))
				continue; /* (in a comment) */
			read_value(&t, v, ind, flow, out, &got, &reads);
			struct hc_anchor *a =
			    got.n ? realloc(anchors.v, (anchors.n + 1) * sizeof(*a)) : NULL;
			if (a) {
				anchors.v = a;
				a = &anchors.v[anchors.n++];
				a->name = strndup(buf + i + 1, name_end - i - 1);
				a->vals = got;
				got = (struct hc_vals){0};
				if (!a->name)
					die("out of memory");
			}
			strv_clear(&got.v, &got.n);
			continue;
		}
		if (!key_at(&t, i, conf, &k, &v, &flow))
			continue;
		long col = (long)(i - ls);
		if (i > 0 && (buf[i - 1] == '"' || buf[i - 1] == '\''))
			col--;
		enum hc_key key = hc_keys[k].key;
		if (key == HC_ID) {
			/* (a flow mapping's hooks on one line: a second id is
			 * another hook) */
			if (hook.id)
				hook_end(&hook, &vals[HC_CMD]);
			hook.id = true;
			continue;
		}
		if (tool && (key == HC_CMD || key == HC_ARGS) && scope_of(&scope) != group.scope) {
			group_end(&group, &vals[HC_CMD]);
			group.scope = scope_of(&scope);
		}
		if (tool && key == HC_CMD) {
			if (v < n && buf[v] == '{' && d + 1 < HC_NEST) {
				scope.cmd_next = v;
				scope.cmd_group[d + 1] = group.scope;
			}
			tool_cmds(&t, v, col, flow, out, &group.cmds, &reads);
			continue;
		}
		read_value(&t, v, col, flow, out, &got, &reads);
		if (key == HC_ENV) {
			for (size_t a = 0; a < got.n; a++) {
				top_names(got.v[a]);
				env_files(hc_keys[k].name, got.v[a], fn, ud);
			}
			strv_clear(&got.v, &got.n);
			continue;
		}
		for (size_t a = 0; tool && a < got.n; a++) {
			top_names(got.v[a]);
			/* (a cwd of "./sub": the commands' files are sub/'s) */
			while (key == HC_ROOT && got.v[a][0] == '.' && got.v[a][1] == '/')
				memmove(got.v[a], got.v[a] + 2, strlen(got.v[a] + 2) + 1);
		}
		struct hc_vals vs = {0};
		add_vals(&vs, &got, &anchors);
		strv_clear(&got.v, &got.n);
		if (pre_commit && key == HC_ARGS) {
			for (size_t a = 0; a < vs.n; a++)
				add_val(&hook.args, vs.v[a]);
		} else if (tool && key == HC_ARGS) {
			for (size_t a = 0; a < vs.n; a++)
				add_val(&group.args, vs.v[a]);
		} else if (key == HC_PATH) {
			/* a file's path, one word however it is spelt */
			struct hc_vals one = {0};
			for (size_t a = 0; a < vs.n; a++) {
				/* (a plugin's `- path: x` item read whole) */
				if (strstr(vs.v[a], ": "))
					continue;
				one.v = &vs.v[a];
				one.n = 1;
				_cleanup_free_ char *line = args_line("", &one);
				if (line)
					add_val(&vals[HC_CMD], line + 1);
			}
		} else if (key == HC_PATH_HERE) {
			for (size_t a = 0; a < vs.n; a++) {
				size_t l = strlen(vs.v[a]) + (self_dir ? strlen(self_dir) : 0) + 2;
				_cleanup_free_ char *p = malloc(l);
				if (!p)
					die("out of memory");
				snprintf(p, l, "%s%s%s", self_dir && *self_dir ? self_dir : "",
					 self_dir && *self_dir ? "/" : "", vs.v[a]);
				add_val(&vals[key], p);
			}
		} else if (pre_commit && key == HC_CMD) {
			if (hook.entry)
				hook_end(&hook, &vals[HC_CMD]);
			if (vs.n && !(hook.entry = strdup(vs.v[0])))
				die("out of memory");
			for (size_t a = 0; a < vs.n; a++)
				add_val(&vals[key], vs.v[a]);
		} else {
			for (size_t a = 0; a < vs.n; a++)
				add_val(&vals[key], vs.v[a]);
		}
		strv_clear(&vs.v, &vs.n);
	}
	hook_end(&hook, &vals[HC_CMD]);
	group_end(&group, &vals[HC_CMD]);
	for (size_t a = 0; a < anchors.n; a++) {
		free(anchors.v[a].name);
		strv_clear(&anchors.v[a].vals.v, &anchors.v[a].vals.n);
	}
	free(anchors.v);
	free(out);

	bool whole = !anchors.cut;
	size_t work = HC_ROOT_WORK;
	for (size_t i = 0; i < vals[HC_CMD].n; i++) {
		const char *cmd = vals[HC_CMD].v[i];
		gitconfig_script_pointers(cmd, strlen(cmd), NULL, fn, ud);
		for (size_t r = 0; r < vals[HC_ROOT].n && r < HC_ROOTS && whole; r++) {
			size_t l = strlen(cmd) + strlen(vals[HC_ROOT].v[r]);
			if (l > work) {
				whole = false;
				break;
			}
			work -= l;
			_cleanup_free_ char *s = in_root(vals[HC_ROOT].v[r], cmd);
			if (s)
				gitconfig_script_pointers(s, strlen(s), NULL, fn, ud);
		}
	}
	for (size_t i = 0; i < vals[HC_EXTENDS].n; i++)
		fn(ud, PTR_INCLUDE, vals[HC_EXTENDS].v[i]);
	for (size_t i = 0; i < vals[HC_DIR].n; i++)
		fn(ud, PTR_HOOKS, vals[HC_DIR].v[i]);
	for (size_t i = 0; i < vals[HC_PATH_HERE].n; i++)
		fn(ud, PTR_PROGRAM, vals[HC_PATH_HERE].v[i]);
	for (size_t k = 0; k < _HC_MAX; k++)
		strv_clear(&vals[k].v, &vals[k].n);
	return whole;
}

/*
 * direnv's .envrc: a shell script the host's shell sources on entering the
 * directory (gitconfig_script_pointers() reads its commands, `. x` and
 * `source x` among them), with direnv's own functions that name the
 * project's files: a directory put first on a search path (PATH_add,
 * path_add, load_prefix, an assignment to a *PATH variable: every program
 * there runs in the host's shell by its bare name), a file sourced as an
 * .envrc (source_env, source_env_if_exists, `.`, `source`: PTR_INCLUDE,
 * read the same way), a dotenv file loaded into the host's shell (dotenv,
 * dotenv_if_exists) and what `use nix` and `use flake` evaluate.  Read a
 * line at a time, words split at blanks, quotes taken away; $PWD is the
 * top (direnv runs it there).  A word still holding a '$' says nothing.
 */
#define ENVRC_WORDS 32

/* W led by the top's name ($PWD, ${PWD}, $(pwd)) made "." in place. */
static char *pwd_dot(char *w)
{
	static const char pwd[][8] = {"${PWD}", "$PWD", "$(pwd)"};

	for (size_t k = 0; k < ARRAY_SIZE(pwd); k++) {
		size_t l = strlen(pwd[k]);
		if (strncmp(w, pwd[k], l) == 0 && (!w[l] || w[l] == '/')) {
			w += l - 1;
			w[0] = '.';
			break;
		}
	}
	return w;
}

/* One command of an .envrc, its N words W. */
static void envrc_cmd(char **w, size_t n, pointer_fn fn, void *ud)
{
	/* the shell's words before a command (`then PATH_add bin`, `{
	 * dotenv; }`: a review) */
	STRING_TABLE_BEGIN
	static const char lead[][8] = {"then", "do",   "else",	"{",	"!",
				       "if",   "elif", "while", "until"};
	STRING_TABLE_END
	for (size_t k = 0; n && k < ARRAY_SIZE(lead); k++)
		if (strcmp(w[0], lead[k]) == 0) {
			w++, n--;
			k = (size_t)-1;
		}
	for (size_t i = 0; i < n; i++)
		w[i] = pwd_dot(w[i]);
	if (!n)
		return;
	size_t first = strcmp(w[0], "export") == 0 || strcmp(w[0], "declare") == 0 ? 1 : 0;
	const char *cmd = w[0];
	enum git_pointer kind = _PTR_MAX;
	size_t from = 1;
	if (strcmp(cmd, "PATH_add") == 0 || strcmp(cmd, "load_prefix") == 0)
		kind = PTR_PATH_DIR;
	else if (strcmp(cmd, "path_add") == 0)
		kind = PTR_PATH_DIR, from = 2;
	else if (strcmp(cmd, "source_env") == 0 || strcmp(cmd, "source_env_if_exists") == 0 ||
		 strcmp(cmd, ".") == 0 || strcmp(cmd, "source") == 0)
		kind = PTR_INCLUDE;
	else if (strcmp(cmd, "dotenv") == 0 || strcmp(cmd, "dotenv_if_exists") == 0)
		kind = PTR_PROGRAM;
	if (kind != _PTR_MAX) {
		for (size_t i = from; i < n && (kind == PTR_PATH_DIR || i == from); i++)
			if (w[i][0] && w[i][0] != '-' && !strchr(w[i], '$'))
				fn(ud, kind, w[i]);
		return;
	}
	if (strcmp(cmd, "use") == 0 && n > 1) {
		static const char nix[][12] = {"shell.nix", "default.nix", "flake.nix",
					       "flake.lock"};
		bool flake = strcmp(w[1], "flake") == 0;
		if (!flake && strcmp(w[1], "nix") != 0)
			return;
		for (size_t i = flake ? 2 : 0; i < (flake ? 4 : 2); i++)
			fn(ud, PTR_PROGRAM_ARG, nix[i]);
		for (size_t i = 2; !flake && i < n; i++)
			if (w[i][0] != '-' && !strchr(w[i], '$'))
				fn(ud, PTR_PROGRAM_ARG, w[i]);
		return;
	}
	/* NAME=VALUE (after export): a search path's own directories; a
	 * file the host's shell or its programs load (env_files()), the
	 * command its prompt runs (a review) */
	for (size_t i = first; i < n; i++) {
		char *eq = strchr(w[i], '=');
		if (!eq)
			continue;
		*eq = '\0';
		if (strcmp(w[i], "PROMPT_COMMAND") == 0) {
			gitconfig_script_pointers(eq + 1, strlen(eq + 1), NULL, fn, ud);
			continue;
		}
		if (eq - w[i] < 4 || strcmp(eq - 4, "PATH") != 0) {
			char *v = pwd_dot(eq + 1);
			env_files(w[i], v, fn, ud);
			continue;
		}
		/* (split at the ':' outside an expansion: `$PWD/bin${PATH:+:$PATH}`) */
		for (char *e = eq + 1, *c = e; e; e = c) {
			int nest = 0;
			for (; *c && (*c != ':' || nest); c++)
				nest += c[0] == '$' && c[1] == '{' ? 1 : *c == '}' && nest ? -1 : 0;
			c = *c ? (*c = '\0', c + 1) : NULL;
			e = pwd_dot(e);
			/* (an expansion after the directory's name adds to it,
			 * or nothing) */
			char *x = strstr(e, "${");
			if (x && x > e)
				*x = '\0';
			if (*e && !strchr(e, '$'))
				fn(ud, PTR_PATH_DIR, e);
		}
	}
}

static void envrc_line(char *l, pointer_fn fn, void *ud)
{
	char *w[ENVRC_WORDS], *o = l;
	size_t n = 0;

	/* the words, split and unquoted in place; each command (after ';',
	 * '&&', '||', '|', '&': a review) read in turn */
	for (char *p = l; *p;) {
		while (is_blank(*p))
			p++;
		if (!*p || *p == '#')
			break;
		if (*p == ';' || *p == '&' || *p == '|') {
			envrc_cmd(w, n, fn, ud);
			n = 0;
			while (*p == ';' || *p == '&' || *p == '|')
				p++;
			continue;
		}
		char *word = o;
		for (char q = 0; *p && (q || !is_blank(*p)); p++) {
			if (q ? *p == q : *p == '"' || *p == '\'') {
				q = q ? 0 : *p;
				continue;
			}
			if (!q && (*p == ';' || *p == '&' || *p == '|'))
				break; /* (the next command's) */
			*o++ = *p;
		}
		/* (past what ended it before the NUL written there) */
		char stop = *p;
		if (stop)
			p++;
		*o++ = '\0';
		if (n < ENVRC_WORDS)
			w[n++] = word;
		if (stop == ';' || stop == '&' || stop == '|') {
			envrc_cmd(w, n, fn, ud);
			n = 0;
			while (*p == ';' || *p == '&' || *p == '|')
				p++;
		}
	}
	envrc_cmd(w, n, fn, ud);
}

static void envrc_pointers(const char *buf, size_t n, pointer_fn fn, void *ud)
{
	_cleanup_free_ char *l = malloc(n + 1);

	gitconfig_script_pointers(buf, n, NULL, fn, ud);
	if (!l)
		return;
	/* each line, one continued by a backslash at its end joined to the
	 * next (`PATH_add \` over two: a review) */
	for (size_t i = 0, o = 0; i < n;) {
		const char *nl = memchr(buf + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - buf - i) : n - i;
		memcpy(l + o, buf + i, len);
		o += len;
		if (o && l[o - 1] == '\r')
			o--;
		i += len + 1;
		if (o && l[o - 1] == '\\' && nl) {
			l[o - 1] = ' ';
			continue;
		}
		l[o] = '\0';
		envrc_line(l, fn, ud);
		o = 0;
	}
}
