/* SPDX-License-Identifier: MIT */
/* What a repository's configuration points git at outside its git
 * directory (gitconfig_pointers()): core.hooksPath, the include paths and
 * the files of the commands it has git run, found as git and a shell find
 * them, and nothing else taken for them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../supervisor/supervisor.h"

struct seen {
	char text[512];
};

static void add(void *ud, enum git_pointer kind, const char *value)
{
	struct seen *s = ud;
	size_t n = strlen(s->text);

	snprintf(s->text + n, sizeof(s->text) - n, "%s%s=%s", n ? " " : "",
		 kind == PTR_HOOKS	   ? "hooks"
		 : kind == PTR_INCLUDE	   ? "include"
		 : kind == PTR_PROGRAM	   ? "program"
		 : kind == PTR_PROGRAM_ARG ? "arg"
		 : kind == PTR_WORKTREE	   ? "worktree"
		 : kind == PTR_PATH_DIR	   ? "pathdir"
					   : "template",
		 value);
}

static void test_pointers(void **state)
{
	static const struct {
		const char *config, *want;
	} cases[] = {
	    {"", ""},
	    {"[core]\n\thooksPath = .githooks\n", "hooks=.githooks"},
	    /* names are case-blind, a value's quotes dropped, comments cut */
	    {"[CORE]\n\tHOOKSPATH=\"tools/hooks\"\n", "hooks=tools/hooks"},
	    {"[core]\n\thookspath = h ; why\n", "hooks=h"},
	    {"[include]\n\tpath = ../shared.gitconfig\n", "include=../shared.gitconfig"},
	    {"[includeIf \"gitdir:~/w/\"]\n\tpath = ~/w.gitconfig\n", "include=~/w.gitconfig"},
	    {"[core]\n\thooksPath = a\n[include]\n\tpath = b\n", "hooks=a include=b"},
	    /* the files a command git runs names: the command where it is a
	     * path, arguments with a '/' or a '.', what Python runs for -m;
	     * not a bare command (PATH's), options, placeholders, URLs, a
	     * directory */
	    {"[core]\n\tfsmonitor = tools/fsm\n", "program=tools/fsm"},
	    {"[core]\n\tfsmonitor = true\n", ""},
	    {"[filter \"n\"]\n\tclean = python3 -m nbstripout -t\n",
	     "program=nbstripout.py program=nbstripout/__init__.py program=nbstripout/__main__.py"},
	    {"[alias]\n\tl = !python3 -um a.b\n",
	     "program=a.py program=a/__init__.py program=a/b.py program=a/b/__init__.py "
	     "program=a/b/__main__.py"},
	    {"[alias]\n\tl = !python3 -mlint\n",
	     "program=lint.py program=lint/__init__.py program=lint/__main__.py"},
	    {"[alias]\n\tl = !python3 -c 'import x' y.py\n", "arg=y.py"},
	    {"[diff \"x\"]\n\ttextconv = sh ./conv.sh %f\n", "program=conv.sh"},
	    {"[merge \"m\"]\n\tdriver = tools/merge %O %A %B\n", "program=tools/merge"},
	    {"[alias]\n\tst = !'tools/x' --y=z $1 | cat\n", "program=tools/x"},
	    {"[alias]\n\tco = checkout tools/x\n", ""},
	    {"[alias]\n\tt = !python3 -m pytest tests/ lib/a\n",
	     "program=pytest.py program=pytest/__init__.py program=pytest/__main__.py arg=lib/a"},
	    {"[filter \"lfs\"]\n\tprocess = git-lfs filter-process\n", ""},
	    {"[diff]\n\texternal = ~/bin/difftool\n", "program=~/bin/difftool"},
	    {"[credential]\n\thelper = !f() { x.sh get; }; f\n",
	     ""}, /* (x.sh: a command PATH finds) */
	    {"[remote \"o\"]\n\turl = ssh://h/x.git\n\tuploadpack = u.sh\n", ""},
	    {"[init]\n\ttemplateDir = ~/.git-templates\n", "template=~/.git-templates"},
	    /* the shell's reading: a cd, expansions leading a path, a
	     * redirection's file, a $(...) with blanks in it */
	    {"[alias]\n\tl = !cd tools && ./x && sh y.sh\n", "program=tools/x program=tools/y.sh"},
	    {"[alias]\n\tl = !\\\"$(git rev-parse --show-toplevel)/tools/x\\\"\n",
	     "program=tools/x"},
	    {"[core]\n\tfsmonitor = $PWD/tools/x\n", "program=tools/x"},
	    {"[alias]\n\tup = !${HOME}/bin/up 2>/dev/null\n", "program=~/bin/up arg=/dev/null"},
	    {"[alias]\n\tl = !sh <tools/x\n", "program=tools/x"},
	    /* a cd to an absolute directory; one in a subshell ends with it */
	    {"[alias]\n\tl = !cd /w/tools && ./x\n", "program=/w/tools/x"},
	    {"[alias]\n\tl = !(cd docs && true) && ./pub.sh\n", "program=pub.sh"},
	    {"[tar \"tgz\"]\n\tcommand = tools/gz\n[imap]\n\ttunnel = tools/t\n",
	     "program=tools/gz program=tools/t"},
	    {"[core]\n\tworktree = ../app\n", "worktree=../app"},
	    /* a redirection joined to its word; no cap on words or subshells */
	    {"[alias]\n\tl = !tools/x>/dev/null 2>&1 <in.txt\n",
	     "program=tools/x arg=/dev/null"}, /* (a data file: its suffix) */
	    {"[alias]\n\tl = !a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h "
	     "i j k l m n o p q r s t u v w x y z a b c d e f g h && tools/x\n",
	     "program=tools/x"},
	    {"[alias]\n\tl = !((((((((((cd d && true)))))))))) && tools/x\n", "program=tools/x"},
	    {"[alias]\n\tl = !ls $PWD/ ${HOME}/ && tools/x\n", "program=tools/x"},
	    /* git's reading: quoted in part, a key on the section's line,
	     * a value continued, a long key */
	    {"[filter \"n\"]\n\tclean = \"/usr/bin/python3\" -m nb ; x.py\n",
	     "program=/usr/bin/python3 program=nb.py program=nb/__init__.py "
	     "program=nb/__main__.py"},
	    {"[core] fsmonitor = tools/x\n", "program=tools/x"},
	    {"[core]\n\tfsmonitor = tools/\\\nx\n", "program=tools/x"},
	    {"[alias]\n\tlint-everything-in-this-repository-now = !tools/x\n", "program=tools/x"},
	    {"[core]\n\thooksPath = \"a\"b\n", "hooks=ab"},
	    /* not these */
	    {"[core]\n\tfsmonitorx = x/y\n", ""},
	    {"[remote \"o\"]\n\tpath = x\n", ""},
	    {"[core]\n\thooksPathX = x\n", ""},
	    {"[corex]\n\thooksPath = x\n", ""},
	    /* escapes as git reads them; what git refuses is passed over */
	    {"[core]\n\thooksPath = a\\\\b\n", "hooks=a\\b"},
	    {"[core]\n\thooksPath = a\\qb\n", ""},
	    {"[core]\n\thooksPath = \"unterminated\n", ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s = {""};
		gitconfig_pointers(cases[i].config, strlen(cases[i].config), add, &s);
		if (strcmp(s.text, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, s.text, cases[i].want);
	}
}

/* A NUL byte in a value ends it, as git reads it (`git config` prints
 * "ab" of "ab\0cd"); one leading it leaves no value (the fuzzer's find:
 * an empty path was handed on). */
static void test_nul_in_a_value(void **state)
{
	static const char config[] = "[core]\n\thooksPath = ab\0cd\n\tworktree = \0../app\n"
				     "\tfsmonitor = \0tools/x\n[alias]\n\tl = !tools/y\0 tools/z\n";
	struct seen s = {""};

	(void)state;
	gitconfig_pointers(config, sizeof(config) - 1, add, &s);
	assert_string_equal(s.text, "hooks=ab program=tools/y");
}

/* A value past PATH_MAX: git runs a command of any length, and a NUL
 * byte's tail, however long, is not read by git (the value ends there):
 * neither hides the file the command names. */
static void test_long_values(void **state)
{
	static char config[4 * PATH_MAX];
	size_t n = 0;
	struct seen s = {""};

	(void)state;
	n += (size_t)sprintf(config + n, "[core]\n\tfsmonitor = tools/x \"");
	memset(config + n, 'a', PATH_MAX + 100);
	n += PATH_MAX + 100;
	n += (size_t)sprintf(config + n, "\"\n[alias]\n\tl = !tools/y");
	config[n++] = '\0';
	memset(config + n, 'b', PATH_MAX + 100);
	n += PATH_MAX + 100;
	n += (size_t)sprintf(config + n, "\n[alias]\n\tm = !tools/z \\\n");
	memset(config + n, 'c', PATH_MAX);
	n += PATH_MAX;
	n += (size_t)sprintf(config + n, " \\\n v.sh\n");
	gitconfig_pointers(config, n, add, &s);
	assert_string_equal(s.text, "program=tools/x program=tools/y program=tools/z arg=v.sh");
}

/* A hook's script (gitconfig_script_pointers()): its commands' files over
 * its lines, a `cd` and a subshell taken; a comment line names nothing, and
 * nothing past a NUL byte is read. */
static void test_hook_scripts(void **state)
{
	static const char script[] =
	    "#!/bin/sh\n# run tools/not.sh first\n  # and ./nor\n"
	    ". \"$(dirname \"$0\")/_/h\"\nsh scripts/pre.sh\n"
	    "npx lint-staged\nif [ -x tools/x ]; then\n  tools/x \"$@\"\nfi\n"
	    "(cd web && ./check)\n\0./after-nul\n";
	struct seen s = {""};

	(void)state;
	gitconfig_script_pointers(script, sizeof(script) - 1, NULL, add, &s);
	assert_string_equal(s.text,
			    "program=_/h program=scripts/pre.sh arg=tools/x program=tools/x "
			    "program=web/check");
	/* a last line without its line break (the fuzzer's find: the copy
	 * adds one, past the end of a buffer of the script's size) */
	struct seen t = {""};
	char *last = malloc(9);
	memcpy(last, "./tools/y", 9);
	gitconfig_script_pointers(last, 9, NULL, add, &t);
	free(last);
	assert_string_equal(t.text, "program=tools/y");
	/* what a review found unread: the hook's own directory ($0's), and
	 * the command line a shell's -c is given */
	static const char forms[] = "\"$(dirname \"$0\")/../../scripts/a.sh\"\n"
				    ". \"${0%/*}/lib.sh\"\nbash -c \"sh scripts/b.sh\"\n"
				    "sh -ec './scripts/c && true'\n";
	struct seen u = {""};
	gitconfig_script_pointers(forms, sizeof(forms) - 1, ".git/hooks", add, &u);
	assert_string_equal(u.text,
			    "program=.git/hooks/../../scripts/a.sh program=.git/hooks/lib.sh "
			    "program=scripts/b.sh program=scripts/c");
	/* and a second review's: the directory through an expansion the
	 * reader cannot read (taken from the top and from the hook's
	 * directory both), a shell behind env or exec */
	static const char more[] = "sh \"$(cd \"$(dirname \"$0\")\" && pwd)/../../tools/x\"\n"
				   "env -i A=1 sh -c \"sh tools/y\"\nexec sh -c 'tools/z'\n";
	struct seen v = {""};
	gitconfig_script_pointers(more, sizeof(more) - 1, ".git/hooks", add, &v);
	assert_string_equal(
	    v.text, "program=../../tools/x program=.git/hooks/../../tools/x program=tools/y "
		    "program=tools/z");
}

/* A hook manager's configuration (hookconf_pointers()): the files its
 * commands, arguments, extends and scripts' directories name, in YAML,
 * TOML and JSON, each value form. */
static void test_hook_managers(void **state)
{
	static const struct {
		const char *config, *want;
		bool pre_commit;
	} cases[] = {
	    {"", "", false},
	    /* lefthook's YAML: a plain command, quoted ones, block scalars,
	     * a plain one over lines; a comment after it */
	    {"pre-commit:\n  commands:\n    lint:\n      run: sh tools/a # why\n",
	     "program=tools/a", false},
	    {"pre-commit:\n  jobs:\n    - run: \"tools/a --x\"\n    - run: 'sh tools/''b'''\n",
	     "program=tools/a program=tools/b", false},
	    {"x:\n  run: |\n    cd sub\n    ./t.sh\n  glob: \"*.js\"\n", "program=sub/t.sh", false},
	    {"x:\n  run: >-\n    sh\n    tools/a\n", "program=tools/a", false},
	    {"x:\n  run: sh\n    tools/a\n", "program=tools/a", false},
	    /* where it runs from (root), what lists its files, a runner */
	    {"x:\n  root: api/\n  run: ./bin/l\n", "program=bin/l program=api/bin/l", false},
	    {"x:\n  files: tools/changed.sh\n", "program=tools/changed.sh", false},
	    {"x:\n  scripts:\n    \"a.sh\":\n      runner: node tools/w.js\n", "program=tools/w.js",
	     false},
	    /* other files and the scripts' directories */
	    {"extends:\n  - shared/l.yml\n  - \"/etc/l.yml\"\n",
	     "include=shared/l.yml include=/etc/l.yml", false},
	    {"extends: [a.yml, 'b.yml']\nsource_dir: .hooks/\nsource_dir_local: .loc\n",
	     "include=a.yml include=b.yml hooks=.hooks/ hooks=.loc", false},
	    /* TOML: each string form, a dotted key, an array */
	    {"[pre-commit.commands.lint]\nrun = \"sh tools/a\"\n", "program=tools/a", false},
	    {"x.run = 'tools/a'\n", "program=tools/a", false},
	    {"[x]\nrun = \"\"\"\nsh tools/a\n\"\"\"\n", "program=tools/a", false},
	    {"[x]\nrun = '''tools/a'''\nextends = [\"e.toml\", # c\n 'f.toml']\n",
	     "program=tools/a include=e.toml include=f.toml", false},
	    /* JSON, on one line, with escapes */
	    {"{\"pre-commit\":{\"commands\":{\"l\":{\"run\":\"sh \\\"tools/a\\\"\"}}}}",
	     "program=tools/a", false},
	    {"{\"x\": {\"run\" : \"tools/a\", \"root\": \"w\"}}",
	     "program=tools/a program=w/tools/a", false},
	    /* YAML's flow mapping */
	    {"x: {run: sh tools/a, glob: '*'}\n", "program=tools/a", false},
	    /* pre-commit: a local hook's entry and its arguments */
	    {"repos:\n- repo: local\n  hooks:\n  - id: c\n    entry: tools/check.sh\n"
	     "    language: script\n    args: [--fix, tools/c.sh]\n",
	     "program=tools/check.sh program=tools/check.sh arg=tools/c.sh", true},
	    {"repos:\n- repo: local\n  hooks:\n  - id: c\n    entry: python3\n    args:\n"
	     "    - tools/c.py\n    - '-v'\n",
	     "program=tools/c.py", true},
	    /* (a review) its entry and arguments as one command line; a
	     * tool's configuration (-c pyproject.toml) left writable; a
	     * pattern (files) no command; every repository's hooks read,
	     * in any order of their keys */
	    {"repos:\n- repo: local\n  hooks:\n  - id: c\n    entry: bash -c\n"
	     "    args: ['sh tools/x']\n    files: src/main.py\n",
	     "program=tools/x program=tools/x", true},
	    {"repos:\n- repo: local\n  hooks:\n  - id: b\n    entry: bandit\n"
	     "    args: ['-c', 'pyproject.toml']\n",
	     "", true},
	    {"repos:\n- repo: https://example.com/h\n  rev: v1\n  hooks:\n  - id: b\n"
	     "    entry: tools/x\n    args: [tools/y.py]\n- repo: local\n  hooks:\n"
	     "  - id: l\n    entry: tools/z\n",
	     "program=tools/x program=tools/x arg=tools/y.py program=tools/z", true},
	    /* an alias's anchor; each manager's keys only its own */
	    {"x-cmds:\n  lint: &lint tools/x\nrepos:\n- repo: local\n  hooks:\n"
	     "  - id: l\n    entry: *lint\n",
	     "program=tools/x", true},
	    {"x:\n  entry: tools/a\n", "", false},
	    {"repos:\n- repo: local\n  hooks:\n  - id: l\n    run: tools/a\n", "", true},
	    /* lefthook's rc, a JSON \\u escape */
	    {"rc: tools/lefthookrc\n", "program=tools/lefthookrc", false},
	    {"{\"a\":{\"run\":\"sh tools\\u002fx\"}}", "program=tools/x", false},
	    /* not keys: a longer name, a scalar with a colon in it, an empty
	     * value */
	    {"x:\n  prerun: tools/a\n  run_: tools/b\n  y: run:tools/c\n  run:\n", "", false},
	    /* CRLF lines */
	    {"x:\r\n  run: sh tools/a\r\n", "program=tools/a", false},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct seen s = {""};
		hookconf_pointers(cases[i].config, strlen(cases[i].config),
				  cases[i].pre_commit ? HOOKCONF_PRE_COMMIT : HOOKCONF_LEFTHOOK,
				  NULL, add, &s);
		if (strcmp(s.text, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, s.text, cases[i].want);
	}
	/* the text's end anywhere: nothing read past it (ASan) */
	static const char cut[] = "x:\n  run: |\n    sh tools/a\n  extends: ['b";
	for (size_t n = 0; n < sizeof(cut) - 1; n++) {
		char *c = malloc(n ? n : 1);
		struct seen s = {""};
		assert_non_null(c);
		memcpy(c, cut, n);
		hookconf_pointers(c, n, HOOKCONF_LEFTHOOK, NULL, add, &s);
		hookconf_pointers(c, n, HOOKCONF_PRE_COMMIT, NULL, add, &s);
		free(c);
	}
}

/* The other tools' configurations that have the host run a script of the
 * project (hookconf_pointers() with HOOKCONF_TOOL, _TASKS, _YARN, _ENVRC): an MCP
 * server's command with its args, hooks, tasks, dev containers' commands,
 * yarn's release, direnv's functions; SELF ".devcontainer". */
static void test_tool_configs(void **state)
{
	static const struct {
		const char *config, *want;
		enum hookconf_kind kind;
	} cases[] = {
	    /* .mcp.json: a program, or an interpreter and its script in args */
	    {"{\"mcpServers\":{\"x\":{\"command\":\"./tools/server.sh\"}}}",
	     "program=tools/server.sh", HOOKCONF_TOOL},
	    {"{\"mcpServers\":{\"x\":{\"command\":\"node\",\"args\":[\"tools/mcp.js\"]}}}",
	     "program=tools/mcp.js", HOOKCONF_TOOL},
	    /* args before the command, another key's object between them */
	    {"{\"mcpServers\":{\"x\":{\"args\":[\"run\",\"tools/s.py\"],\"env\":{\"A\":\"1\"},"
	     "\"command\":\"uv\"}}}",
	     "program=tools/s.py", HOOKCONF_TOOL},
	    /* two servers: each command with its own args only */
	    {"{\"a\":{\"command\":\"node\",\"args\":[\"a.js\"]},\"b\":{\"command\":\"python3\","
	     "\"args\":[\"b.py\"]}}",
	     "program=a.js program=b.py", HOOKCONF_TOOL},
	    /* Claude's hooks and status line: the project's name for the top */
	    {"{\"hooks\":{\"PreToolUse\":[{\"hooks\":[{\"type\":\"command\",\"command\":"
	     "\"$CLAUDE_PROJECT_DIR/scripts/check.sh\"}]}]},\"statusLine\":{\"command\":"
	     "\"\\\"${CLAUDE_PROJECT_DIR}\\\"/s.sh\"}}",
	     "program=scripts/check.sh program=s.sh", HOOKCONF_TOOL},
	    /* not a name of the top: one longer */
	    {"{\"command\":\"$CLAUDE_PROJECT_DIRX/a.sh\"}", "", HOOKCONF_TOOL},
	    /* opencode's command list; Copilot's bash; VS Code's task with
	     * its cwd */
	    {"{\"mcp\":{\"x\":{\"type\":\"local\",\"command\":[\"bun\",\"tools/x.ts\"]}}}",
	     "program=tools/x.ts", HOOKCONF_TOOL},
	    {"{\"hooks\":{\"preToolUse\":[{\"type\":\"command\",\"bash\":\"./scripts/h.sh\"}]}}",
	     "program=scripts/h.sh", HOOKCONF_TOOL},
	    {"{\"tasks\":[{\"command\":\"${workspaceFolder}/t.sh\",\"options\":{\"cwd\":"
	     "\"${workspaceFolder}/sub\"}}]}",
	     "program=t.sh program=sub/t.sh", HOOKCONF_TOOL},
	    /* .vscode/tasks.json: every task where one runs by itself (at
	     * folder open, in any spelling), none where the user runs them */
	    {"{\"tasks\":[{\"command\":\"./a.sh\"},{\"command\":\"./b.sh\","
	     "\"runOptions\":{\"runOn\":\"folderOpen\"}}]}",
	     "program=a.sh program=b.sh", HOOKCONF_TASKS},
	    {"{\"tasks\":[{\"command\":\"./a.sh\",\"x\":\"FOLDEROPEN\"}]}", "program=a.sh",
	     HOOKCONF_TASKS},
	    {"{\"tasks\":[{\"command\":\"./a.sh\",\"x\":\"fol\\u0064erOpen\"}]}", "program=a.sh",
	     HOOKCONF_TASKS},
	    /* (a backslash alone: a problem matcher's pattern, no word) */
	    {"{\"tasks\":[{\"command\":\"./a.sh\",\"problemMatcher\":{\"pattern\":"
	     "{\"regexp\":\"^(.*):(\\\\d+)\"}}}]}",
	     "", HOOKCONF_TASKS},
	    {"{\"tasks\":[{\"command\":\"./a.sh\",\"ru\\xnOn\":\"x\"}]}", "program=a.sh",
	     HOOKCONF_TASKS},
	    /* a task's quoted arguments, objects in its args list, each
	     * form, the list going on after them */
	    {"{\"tasks\":[{\"command\":\"bash\",\"args\":[{\"value\":\"a/x\","
	     "\"quoting\":\"escape\"}],\"runOptions\":{\"runOn\":\"folderOpen\"}}]}",
	     "program=a/x", HOOKCONF_TASKS},
	    {"{\"tasks\":[{\"command\":\"node\",\"args\":[{\"quoting\": \"weak\",\n"
	     "\"value\": [\"b.js\"]}, \"c\"],\"runOn\":1}]}",
	     "program=b.js", HOOKCONF_TASKS},
	    {"{\"tasks\":[{\"command\":\"sh\",\"args\":[{\"value\": // the script\n"
	     "\"t.sh\", /* a comment */ \"quoting\":\"strong\"}],\"runOn\":1}]}",
	     "program=t.sh", HOOKCONF_TASKS},
	    {"{\"tasks\":[{\"command\":\"sh\",\"args\":[{\"value\":\"s.sh\",\"n\":1}],"
	     "\"runOn\":1}]}",
	     "program=s.sh", HOOKCONF_TASKS},
	    {"{\"tasks\":[{\"command\":\"python3 app/main.py\",\"runOptions\":"
	     "{\"instanceLimit\":1}}]}",
	     "", HOOKCONF_TASKS},
	    /* Codex's TOML: a table each, a comment, an inline table */
	    {"[mcp_servers.a]\ncommand = \"python3\" # c\nargs = [\"a.py\"]\n"
	     "[mcp_servers.b]\ncommand = \"./b\"\nnotify = [\"sh\", \"n.sh\"]\n"
	     "x = {command = \"node\", args = ['c.js']}\n",
	     "program=a.py program=b program=n.sh program=c.js", HOOKCONF_TOOL},
	    /* a dev container: each form of initializeCommand, its compose
	     * file from its own directory */
	    {"{\"initializeCommand\":\"sh init.sh\",\"postCreateCommand\":[\"./p.sh\",\"x\"],"
	     "\"postStartCommand\":{\"a\":\"./a.sh\",\"b\":[\"bash\",\"b.sh\"]},"
	     "\"dockerComposeFile\":[\"../dc.yml\"]}",
	     "program=init.sh program=p.sh program=a.sh program=b.sh "
	     "program=.devcontainer/../dc.yml",
	     HOOKCONF_TOOL},
	    /* JSONC's comments: no quote there begins a string */
	    {"{\n// it's\n/* \"a */\"command\": \"./c\"}", "program=c", HOOKCONF_TOOL},
	    /* yarn's release, a plugin, yarn 1's */
	    {"yarnPath: .yarn/releases/yarn-4.cjs\nplugins:\n  - path: .yarn/plugins/p.cjs\n",
	     "program=.yarn/releases/yarn-4.cjs program=.yarn/plugins/p.cjs", HOOKCONF_YARN},
	    {"yarn-path \".yarn/releases/yarn-1.js\"\n", "program=.yarn/releases/yarn-1.js",
	     HOOKCONF_YARN},
	    /* direnv: a search path's directories, files sourced, a dotenv,
	     * nix's */
	    {"PATH_add bin tools\npath_add PYTHONPATH \"$PWD/lib\"\nexport PATH=$PWD/sbin:$PATH\n",
	     "pathdir=bin pathdir=tools pathdir=./lib pathdir=./sbin", HOOKCONF_ENVRC},
	    {"source_env_if_exists .envrc.local\n. ./env.sh\ndotenv .env.dev\nuse flake\n",
	     "arg=.envrc.local program=env.sh arg=.env.dev include=.envrc.local "
	     "include=./env.sh program=.env.dev arg=flake.nix arg=flake.lock",
	     HOOKCONF_ENVRC},
	    /* (an outside review) JSON's forms: a key's escapes, a line
	     * break before its ':' and after it, a JSONC comment before the
	     * value; TOML's \U escape and line-ending backslash */
	    {"{\"x\":{\"comm\\u0061nd\":\"node\",\"\\u0061rgs\":[\"a.js\"]}}", "program=a.js",
	     HOOKCONF_TOOL},
	    {"{\"x\":{\"command\"\n:\"./b\"},\"y\":{\"command\":\n\"./c\"}}", "program=b program=c",
	     HOOKCONF_TOOL},
	    {"{\"tasks\":[{\"command\": // run\n \"./d\"}]}", "program=d", HOOKCONF_TOOL},
	    {"[x]\ncommand = \"tools\\U0000002Fe\"\nnotify = \"\"\"sh tools/\\\n   f.sh\"\"\"\n",
	     "program=tools/e program=tools/f.sh", HOOKCONF_TOOL},
	    /* keys: an MCP server's headersHelper, a task's shell, the
	     * environment's files */
	    {"{\"x\":{\"url\":\"u\",\"headersHelper\":\"./h.sh\"},\"tasks\":[{\"options\":"
	     "{\"shell\":{\"executable\":\"./sh1\"}}}]}",
	     "program=h.sh program=sh1", HOOKCONF_TOOL},
	    {"{\"env\":{\"NODE_OPTIONS\":\"--require ./pre.js -r x --import=./i.mjs\","
	     "\"BASH_ENV\":\"./env.sh\",\"LD_PRELOAD\":\"lib.so ./l.so\",\"A\":\"./no\"}}",
	     "program=pre.js program=i.mjs program=env.sh program=l.so", HOOKCONF_TOOL},
	    {"[m]\nenv = { NODE_OPTIONS = \"--loader ./ld.mjs\" }\n", "program=ld.mjs",
	     HOOKCONF_TOOL},
	    /* a runner's script not yet made; uv's --directory */
	    {"{\"a\":{\"command\":\"npx\",\"args\":[\"tsx\",\"s.ts\"]},\"b\":{\"command\":"
	     "\"bun\",\"args\":[\"run\",\"t.ts\"]},\"c\":{\"command\":\"uv\",\"args\":"
	     "[\"--directory\",\"w\",\"run\",\"u.py\"]}}",
	     "program=s.ts program=t.ts program=w/u.py", HOOKCONF_TOOL},
	    /* yarn's plugins as paths, yarn 1's quoted key */
	    {"plugins:\n  - .yarn/plugins/p.cjs\n  - path: q.cjs\n", "program=.yarn/plugins/p.cjs",
	     HOOKCONF_YARN},
	    {"\"yarn-path\" \"./y.js\"\n", "program=y.js", HOOKCONF_YARN},
	    /* direnv: commands after ';', '&&', `then`, a continued line,
	     * $(pwd) and ${PATH:+...}, the files the shell loads */
	    {"PATH_add a;dotenv e && { PATH_add \\\n b; }\nif x; then PATH_add c; fi\n"
	     "export PATH=\"$(pwd)/d:$PATH\" P2PATH=\"$PWD/f${PATH:+:$PATH}\"\n"
	     "export LD_PRELOAD=$PWD/x.so PROMPT_COMMAND=\"sh p.sh\"\n",
	     "pathdir=a program=e pathdir=b pathdir=c pathdir=./d pathdir=./f program=x.so "
	     "program=p.sh",
	     HOOKCONF_ENVRC},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct seen s = {""};
		hookconf_pointers(cases[i].config, strlen(cases[i].config), cases[i].kind,
				  ".devcontainer", add, &s);
		if (strcmp(s.text, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, s.text, cases[i].want);
	}
	/* the text's end anywhere: nothing read past it (ASan) */
	static const char cut[] = "{\"a\":{\"command\":{\"x\":[\"sh\",\"t\"]},\"args\":[\"q\"]}}"
				  "\n[t]\ncommand = 'x' # c\nPATH_add \"b\" ; x\n/* c";
	for (size_t n = 0; n < sizeof(cut) - 1; n++) {
		char *c = malloc(n ? n : 1);
		struct seen s = {""};
		assert_non_null(c);
		memcpy(c, cut, n);
		for (int k = HOOKCONF_TOOL; k < _HOOKCONF_MAX; k++)
			hookconf_pointers(c, n, (enum hookconf_kind)k, NULL, add, &s);
		free(c);
	}
}

/* (an outside review) Hostile text is read in linear time: a megabyte of
 * each form that was quadratic (a '[' each, a command's object each, keys
 * in one value, '$'s, anchors) within seconds, not minutes; timed out by
 * an alarm, not asserted, so that a loaded machine fails no run. */
static void test_pathological_configs(void **state)
{
	static const struct {
		const char *unit;
		enum hookconf_kind kind;
	} forms[] = {
	    {"[", HOOKCONF_TOOL},
	    {"\"command\":{", HOOKCONF_TOOL},
	    {"run: ", HOOKCONF_LEFTHOOK},
	    {" command = ", HOOKCONF_TOOL},
	    {"&a ", HOOKCONF_LEFTHOOK},
	    {"\"command\":\"$CLAUDE_PROJECT_DIR", HOOKCONF_TOOL},
	    {" run: /*", HOOKCONF_LEFTHOOK},
	    {"\"run\": # ", HOOKCONF_LEFTHOOK},
	};
	size_t n = 1 << 20;
	char *c = malloc(n);

	(void)state;
	assert_non_null(c);
	for (size_t f = 0; f < ARRAY_SIZE(forms); f++) {
		size_t l = strlen(forms[f].unit);
		struct seen s = {""};
		for (size_t i = 0; i < n; i++)
			c[i] = forms[f].unit[i % l];
		alarm(10);
		hookconf_pointers(c, n, forms[f].kind, NULL, add, &s);
		alarm(0);
	}
	free(c);
}

/* Work past the linear reading, bounded and said (false): commands read
 * again from each of 256 lefthook roots, 94 s for 3.9 MB before; aliases
 * looked up among 20,000 anchors, minutes at 4 MiB before (an outside
 * review); under 10 s here now (the old reader ran past it). */
#if !defined(__SANITIZE_ADDRESS__)
static void configs_asking_too_much_work(void)
{
	size_t cap = 4 << 20, n = 0;
	char *c = malloc(cap);
	struct seen s = {""};

	assert_non_null(c);
	for (int r = 0; r < 256; r++)
		n += (size_t)snprintf(c + n, cap - n, "r%d:\n  root: r%d/\n", r, r);
	for (int k = 0; k < 1024 && n + 4096 < cap; k++) {
		n += (size_t)snprintf(c + n, cap - n, "c%d:\n  run: ", k);
		for (int j = 0; j < 900; j++)
			n += (size_t)snprintf(c + n, cap - n, "x;");
		c[n++] = '\n';
	}
	alarm(10);
	assert_false(hookconf_pointers(c, n, HOOKCONF_LEFTHOOK, NULL, add, &s));
	alarm(0);
	n = 0;
	for (int a = 0; a < 20000; a++)
		n += (size_t)snprintf(c + n, cap - n, "- &a%d x\n", a);
	for (int k = 0; k < 40 && n + 16384 < cap; k++) {
		n += (size_t)snprintf(c + n, cap - n, "run: [");
		for (int j = 0; j < 1024; j++)
			n += (size_t)snprintf(c + n, cap - n, "*a%d,", j);
		n += (size_t)snprintf(c + n, cap - n, "*q]\n");
	}
	alarm(10);
	assert_false(hookconf_pointers(c, n, HOOKCONF_LEFTHOOK, NULL, add, &s));
	alarm(0);
	/* the control: a configuration of the usual size is read whole */
	const char *ok = "pre-commit:\n  commands:\n    a:\n      root: web/\n      run: sh x.sh\n";
	assert_true(hookconf_pointers(ok, strlen(ok), HOOKCONF_LEFTHOOK, NULL, add, &s));
	free(c);
}
#endif

static void test_configs_asking_too_much_work(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	/* A time bound: the plain build's to measure.  The sanitizer's
	 * allocator maps and unmaps each large block, 30 times slower here
	 * (32 s alone, past a minute beside CI's other suites); the reader's
	 * memory on such input is the gitconfig fuzzer's. */
	skip();
#else
	configs_asking_too_much_work();
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pointers),
	    cmocka_unit_test(test_nul_in_a_value),
	    cmocka_unit_test(test_long_values),
	    cmocka_unit_test(test_hook_scripts),
	    cmocka_unit_test(test_hook_managers),
	    cmocka_unit_test(test_tool_configs),
	    cmocka_unit_test(test_pathological_configs),
	    cmocka_unit_test(test_configs_asking_too_much_work),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
