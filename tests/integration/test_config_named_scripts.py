# SPDX-License-Identifier: MIT
"""What a protected configuration names: README promises that nothing the
sandbox writes makes the host run code later.  The agents', editors', dev
containers', yarn's and direnv's configurations are built-in names, held
from the sandbox; the script such a configuration names elsewhere in the
project was not: `.mcp.json`'s `"command": "node", "args":
["tools/mcp.js"]`, a `.claude/settings.json` hook's
`$CLAUDE_PROJECT_DIR/scripts/check.sh`, a dev container's
`initializeCommand`, `.yarnrc.yml`'s `yarnPath`, an `.envrc`'s `PATH_add
bin`, and the host's next `claude`, folder open, `yarn` or `cd` ran what
the sandbox wrote there (supervisor/hookconf.c now reads them).

None of these tools is installed here: each case holds the reading to
one form of one configuration by what the sandbox may write, as
test_hook_manager_attacks.py does lefthook's: the file the configuration
names is refused, and tools/free beside it, which nothing names, is
written (the control that the sandbox ran and could write there).

Holes (FAIL on 455c36c): every case of NAMED, every mode; envrc-path-add-
link also on 33bffb9 (a PATH_add of a link held the link, not where it
leads).  The controls (KEPT_WRITABLE) pass on both: what a configuration
names that its tool does not run stays the project's.
"""
import os
import time

import pytest

from test_hostfiles_attacks import GIT_ENV, chown_tree, host
from test_round3_git_attacks import host_home, host_project, sandbox
from test_round5_attacks import HOST_PROG, commit_all, put, rewrite

MCP = '{"mcpServers":{"x":{%s}}}\n'
CLAUDE_HOOK = ('{"hooks":{"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command",'
               '"command":%s}]}]}}\n')

# the configuration's name and text, and the file it has the host run
# (NAMED), which the sandbox may not write; tools/free it does not name
NAMED = {
    # MCP servers: a program, an interpreter's script in args, a runner's
    # file argument, where it runs from
    "mcp-command": (".mcp.json", MCP % '"command":"./tools/server.sh"', "tools/server.sh"),
    "mcp-args": (".mcp.json", MCP % '"command":"node","args":["tools/mcp.js"]',
                 "tools/mcp.js"),
    "mcp-uv-args": (".mcp.json",
                    MCP % '"command":"uv","args":["run","--quiet","py/x.py"],'
                    '"env":{"A":"1"}', "py/x.py"),
    "cursor-mcp": (".cursor/mcp.json", MCP % '"command":"sh","args":["tools/x"]', "tools/x"),
    "gemini-mcp-cwd": (".gemini/settings.json",
                       MCP % '"command":"node","args":["x.js"],"cwd":"tools"', "tools/x.js"),
    "qwen-mcp": (".qwen/settings.json", MCP % '"command":"tools/x"', "tools/x"),
    "vscode-mcp": (".vscode/mcp.json",
                   '{"servers":{"x":{"type":"stdio","command":"${workspaceFolder}/tools/x"}}}\n',
                   "tools/x"),
    "opencode": ("opencode.json",
                 '{"mcp":{"x":{"type":"local","command":["node","tools/x.js"]}}}\n',
                 "tools/x.js"),
    "opencode-jsonc": ("opencode.jsonc",
                       "{\n  // a comment, it's JSONC\n"
                       '  "mcp": {"x": {"type": "local",\n'
                       '    "command": ["bun", "run", "tools/x.ts"]}}\n}\n', "tools/x.ts"),
    # (a Python script's directory is held whole: py/, not tools/)
    "codex": (".codex/config.toml",
              '[mcp_servers.x]\ncommand = "python3"\nargs = ["py/x.py"]\n', "py/x.py"),
    # agents' hooks and helpers
    "claude-hook": (".claude/settings.json", CLAUDE_HOOK % '"$CLAUDE_PROJECT_DIR/tools/x"',
                    "tools/x"),
    "claude-hook-quoted": (".claude/settings.local.json",
                           CLAUDE_HOOK % '"\\"$CLAUDE_PROJECT_DIR\\"/tools/check.sh"',
                           "tools/check.sh"),
    "claude-statusline": (".claude/settings.json",
                          '{"statusLine":{"type":"command","command":"sh tools/x"}}\n',
                          "tools/x"),
    "claude-api-key-helper": (".claude/settings.json", '{"apiKeyHelper":"tools/x"}\n',
                              "tools/x"),
    "gemini-hook": (".gemini/settings.json",
                    '{"hooks":{"BeforeTool":[{"hooks":[{"type":"command",'
                    '"command":"$GEMINI_PROJECT_DIR/tools/x"}]}]}}\n', "tools/x"),
    "copilot-hook": (".github/hooks/checks.json",
                     '{"version":1,"hooks":{"preToolUse":[{"type":"command",'
                     '"bash":"./tools/x","powershell":"tools/x.ps1"}]}}\n', "tools/x"),
    # (an outside review) Copilot CLI's project MCP servers and language
    # servers
    "copilot-mcp": (".github/mcp.json",
                    '{"mcpServers":{"x":{"type":"local","command":"sh",'
                    '"args":["tools/x"],"tools":["*"]}}}\n', "tools/x"),
    "copilot-lsp": (".github/lsp.json",
                    '{"lspServers":{"x":{"command":"./tools/x","args":["--stdio"]}}}\n',
                    "tools/x"),
    # an editor's tasks that run by themselves: at folder open, one such
    # depends on (written before it), the key written with an escape
    "vscode-task": (".vscode/tasks.json",
                    '{"version":"2.0.0","tasks":[{"label":"x","type":"shell",'
                    '"command":"./tools/x","runOptions":{"runOn":"folderOpen"}}]}\n',
                    "tools/x"),
    "vscode-task-args": (".vscode/tasks.json",
                         '{"version":"2.0.0","tasks":[{"label":"x","type":"process",'
                         '"command":"bash","args":["${workspaceFolder}/tools/x"]},'
                         '{"label":"y","dependsOn":["x"],'
                         '"runOptions":{"runOn":"folderOpen"}}]}\n', "tools/x"),
    # (an outside review of 929bd1e) an argument given as VS Code's
    # quoted object; a workspace file's folder-open task
    "vscode-task-arg-object": (".vscode/tasks.json",
                               '{"version":"2.0.0","tasks":[{"label":"a","type":"shell",'
                               '"command":"bash","args":[{"value":"tools/x","quoting":"escape"}],'
                               '"runOptions":{"runOn":"folderOpen"}}]}\n', "tools/x"),
    "workspace-task": ("proj.code-workspace",
                       '{"folders":[{"path":"."}],"tasks":{"version":"2.0.0","tasks":['
                       '{"label":"s","type":"shell","command":"./tools/server.sh",'
                       '"runOptions":{"runOn":"folderOpen"}}]}}\n', "tools/server.sh"),
    # (a review of c0a7b8a) a workspace file's task runs in its first
    # folder; a task file spelling runOn with an escape VS Code drops
    "workspace-folder-task": ("proj.code-workspace",
                              '{"folders":[{"path":"app"}],"tasks":{"version":"2.0.0",'
                              '"tasks":[{"label":"s","type":"shell","command":"sh setup.sh",'
                              '"runOptions":{"runOn":"folderOpen"}}]}}\n', "app/setup.sh"),
    "vscode-task-bad-escape": (".vscode/tasks.json",
                               '{"tasks":[{"label":"x","command":"sh tools/x",'
                               '"runOptions":{"ru\\xnOn":"fol\\xderOpen"}}]}\n', "tools/x"),
    "vscode-task-escaped": (".vscode/tasks.json",
                            '{"tasks":[{"label":"x","command":"sh tools/x",'
                            '"runOptions":{"run\\u004fn":"folder\\u004fpen"}}]}\n',
                            "tools/x"),
    # a dev container: initializeCommand (on the host) in each form, the
    # compose file it starts the containers from
    "devcontainer-init": (".devcontainer/devcontainer.json",
                          '{"image":"x","initializeCommand":"sh tools/x"}\n', "tools/x"),
    "devcontainer-init-array": (".devcontainer.json",
                                '{"image":"x","initializeCommand":["./tools/x","a"]}\n',
                                "tools/x"),
    "devcontainer-init-object": (".devcontainer/devcontainer.json",
                                 '{"image":"x","initializeCommand":{"a":"true",'
                                 '"b":"${localWorkspaceFolder}/tools/x"}}\n', "tools/x"),
    "devcontainer-compose": (".devcontainer/devcontainer.json",
                             '{"dockerComposeFile":["../tools/compose.yml"],"service":"a"}\n',
                             "tools/compose.yml"),
    # yarn's release, run by every yarn command; yarn 1's
    "yarn-path": (".yarnrc.yml", "yarnPath: .yarn/releases/yarn-4.cjs\n",
                  ".yarn/releases/yarn-4.cjs"),
    "yarn1-path": (".yarnrc", 'yarn-path "./tools/yarn.js"\n', "tools/yarn.js"),
    # direnv: a directory first on the host's PATH (a file in it, a file
    # made there), a file sourced (and what it puts on PATH), a dotenv
    "envrc-path-add": (".envrc", "PATH_add bin\n", "bin/x"),
    "envrc-path-add-new": (".envrc", "PATH_add bin\n", "bin/git"),
    "envrc-export-path": (".envrc", 'export PATH="$PWD/bin:$PATH"\n', "bin/x"),
    "envrc-path-add-link": (".envrc", "PATH_add linked\n", "bin/x"),
    "envrc-source": (".envrc", "source_env_if_exists tools/env.sh\n", "tools/env.sh"),
    "envrc-source-path": (".envrc", "source_env tools/env.sh\n", "bin/x"),
    "envrc-dot": (".envrc", ". ./tools/x\n", "tools/x"),
    "envrc-dotenv": (".envrc", "dotenv_if_exists .env.local\n", ".env.local"),
    # (an outside review) a key's JSON escape; a runner's script not yet
    # made (new/, which absent files hold); uv's --directory (a Python
    # script's directory held whole: py/); the environment's files; yarn's plugin as a
    # path; an .envrc's command after another's
    "mcp-key-escape": (".mcp.json", MCP % '"comm\\u0061nd":"./tools/server.sh"',
                       "tools/server.sh"),
    "mcp-npx-tsx-new": (".mcp.json", MCP % '"command":"npx","args":["tsx","new/srv.ts"]',
                        "new/srv.ts"),
    "mcp-uv-directory": (".mcp.json", MCP % '"command":"uv","args":["--directory","py",'
                         '"run","x.py"]', "py/x.py"),
    "mcp-env-node-options": (".mcp.json", MCP % '"command":"node","args":["s"],"env":'
                             '{"NODE_OPTIONS":"--require ./pre/pre.js"}', "pre/pre.js"),
    "claude-env-bash-env": (".claude/settings.json", '{"env":{"BASH_ENV":"./tools/x"}}\n',
                            "tools/x"),
    "yarn-plugin-path": (".yarnrc.yml", "plugins:\n  - tools/yarn.js\n", "tools/yarn.js"),
    "envrc-after-and": (".envrc", "true && PATH_add bin\n", "bin/x"),
}


def project(box, name, text):
    """The host's project with the configuration NAME (TEXT) and the
    files the cases name, committed; the host's home."""
    home = host_home(box)
    host_project(box, home)
    put(box, name, text, 0o644)
    for rel in ("tools/x", "tools/server.sh", "tools/check.sh", "tools/free", "bin/x",
                "tools/yarn.js", ".yarn/releases/yarn-4.cjs"):
        put(box, rel, HOST_PROG)
    for rel in ("tools/mcp.js", "tools/srv.py", "tools/x.js", "tools/x.ts", "py/x.py",
                "tools/compose.yml", ".env.local", "tools/conf.json", "src/app.js",
                "app/main.py", "app/util.py"):
        put(box, rel, "x\n", 0o644)
    put(box, "tools/env.sh", "PATH_add bin\n", 0o644)
    os.symlink("bin", os.path.join(box.work, "linked"))
    commit_all(box, home)
    return home


@pytest.mark.parametrize("case", sorted(NAMED))
def test_the_script_a_configuration_names_is_protected(box, case):
    name, text, named = NAMED[case]
    home = project(box, name, text)
    path = os.path.join(box.work, named)
    before = open(path).read() if os.path.exists(path) else None
    r = sandbox(box, home, "mkdir -p %s; (%s) && echo planted || echo refused; (%s) && echo free"
                % (os.path.dirname(named), rewrite(named), rewrite("tools/free")))
    words = r.stdout.split()
    assert "free" in words, "control: the sandbox could not write tools/free\n" + \
        r.stdout + r.stderr
    after = open(path).read() if os.path.exists(path) else None
    # (a file not there at start may be made, and is moved aside at once)
    moved = before is None and "ringfence-blocked" in r.stdout + r.stderr
    assert ("refused" in words or moved) and after == before, \
        "the sandbox wrote %s, which %s has the host run (%s)\n%s" % (named, name, case,
                                                                    r.stdout + r.stderr)


# What a configuration names that its tool does not run stays writable:
# a data file an MCP server's args name (its options, as pre-commit's
# are read), the program a debugger launches and the script of a task the
# user runs by hand (the project's own source, which the host runs when
# the user asks whatever the sandbox did; a Python script's directory was
# held whole, app/ read-only to the command, on b184ff1)
KEPT_WRITABLE = {
    "mcp-config-arg": (".mcp.json",
                       MCP % '"command":"node","args":["tools/mcp.js","--config",'
                       '"tools/conf.json"]', "tools/conf.json"),
    "launch-program": (".vscode/launch.json",
                       '{"configurations":[{"type":"node","request":"launch",'
                       '"program":"${workspaceFolder}/src/app.js"}]}\n', "src/app.js"),
    "task-by-hand": (".vscode/tasks.json",
                     '{"version":"2.0.0","tasks":[{"label":"run","type":"shell",'
                     '"command":"python3 app/main.py","group":"build"}]}\n', "app/main.py"),
    # (a review of 6ef0e16) a problem matcher's pattern holds backslashes
    "task-by-hand-pattern": (".vscode/tasks.json",
                             '{"version":"2.0.0","tasks":[{"label":"run","type":"shell",'
                             '"command":"python3 app/main.py","problemMatcher":{"pattern":'
                             '{"regexp":"^(.*):(\\\\d+)$"}}}]}\n', "app/main.py"),
    "task-by-hand-sibling": (".vscode/tasks.json",
                             '{"version":"2.0.0","tasks":[{"label":"run","type":"shell",'
                             '"command":"python3 app/main.py"}]}\n', "app/util.py"),
}


@pytest.mark.parametrize("case", sorted(KEPT_WRITABLE))
def test_what_a_configuration_names_but_does_not_run_stays_writable(box, case):
    name, text, named = KEPT_WRITABLE[case]
    home = project(box, name, text)
    r = sandbox(box, home, "(%s) && echo written" % rewrite(named))
    assert "written" in r.stdout.split(), r.stdout + r.stderr


def test_a_configuration_reached_through_a_link_is_read(box):
    """Hole (FAILS on fda3d20): a project's .mcp.json that is a link to
    config/mcp.json (the host's claude follows it) was not read, so the
    script its server runs stayed the sandbox's to write."""
    home = project(box, "config/mcp.json", MCP % '"command":"node","args":["tools/mcp.js"]')
    os.symlink("config/mcp.json", os.path.join(box.work, ".mcp.json"))
    path = os.path.join(box.work, "tools/mcp.js")
    before = open(path).read()
    r = sandbox(box, home, "(%s) && echo planted || echo refused; (%s) && echo free"
                % (rewrite("tools/mcp.js"), rewrite("tools/free")))
    words = r.stdout.split()
    assert "free" in words, r.stdout + r.stderr
    assert "refused" in words and open(path).read() == before, r.stdout + r.stderr


# Found by an outside review of fda3d20 (each FAILS on 3134117)


def test_a_link_on_the_way_to_the_named_script_is_held(box):
    """`.mcp.json` names ./l/srv, `l` a link the project has (-> real):
    the sandbox put a link of its own in l's place, leading to a srv of its
    making, and nothing judged that at exit."""
    home = project(box, ".mcp.json", MCP % '"command":"./l/srv"')
    put(box, "real/srv", HOST_PROG)
    os.symlink("real", os.path.join(box.work, "l"))
    commit_all(box, home)
    r = sandbox(box, home, "mkdir -p other && (%s) && (rm l && ln -s other l) && "
                "echo planted || echo refused; (%s) && echo free"
                % (rewrite("other/srv"), rewrite("tools/free")))
    words = r.stdout.split()
    assert "free" in words, r.stdout + r.stderr
    target = os.path.realpath(os.path.join(box.work, "l"))
    assert target == os.path.join(os.path.realpath(box.work), "real"), \
        "the sandbox replaced the link on the way to what .mcp.json runs: " + \
        r.stdout + r.stderr


def test_what_the_repositorys_configurations_name_is_held_from_a_grant_below_its_top(box):
    """The command started in a package of the repository (the grant its
    directory): the configurations at the repository's top name files in
    the grant, which the host's claude, direnv or git commit at the top
    runs."""
    home = project(box, ".mcp.json", MCP % '"command":"./pkg/tools/srv"')
    put(box, ".envrc", "PATH_add pkg/bin\n", 0o644)
    put(box, "pkg/tools/srv", HOST_PROG)
    put(box, "pkg/bin/x", HOST_PROG)
    put(box, "pkg/tools/free", HOST_PROG)
    commit_all(box, home)
    pkg = os.path.join(box.work, "pkg")
    r = box.run(["sh", "-c", "(%s) && echo planted || echo refused; (%s) && echo planted2 || "
                 "echo refused2; (%s) && echo free" % (rewrite("tools/srv"), rewrite("bin/x"),
                                                      rewrite("tools/free"))],
                policy=box.policy(""), env={"HOME": home}, cwd=pkg)
    words = r.stdout.split()
    assert "free" in words, r.stdout + r.stderr
    assert "refused" in words and "refused2" in words, \
        "the sandbox wrote what the repository's .mcp.json and .envrc name: " + \
        r.stdout + r.stderr


def test_a_configuration_that_includes_itself_is_read_once(box):
    """Four lines of `source_env .envrc` were read 4^10 times (a minute of
    start for a project cloned from anywhere): each configuration is read
    once."""
    home = project(box, ".envrc", "source_env .envrc\n" * 6 + "PATH_add bin\n")
    t = time.monotonic()
    r = sandbox(box, home, "(%s) && echo planted || echo refused; (%s) && echo free"
                % (rewrite("bin/x"), rewrite("tools/free")))
    took = time.monotonic() - t
    words = r.stdout.split()
    assert "free" in words, r.stdout + r.stderr
    assert "refused" in words, r.stdout + r.stderr
    assert took < 30, took


def test_a_configuration_two_repositories_share_is_read_for_each(box):
    """A nested repository's .pre-commit-config.yaml is a link to its
    outer one's: what it names is resolved from each top, and the reading
    once per file (for the include loop above) skipped the second (a
    review of 2515d42; FAILS on e16fe74): sub/check.sh, which the host's
    commit in sub runs, stayed the sandbox's."""
    cfg = ("repos:\n- repo: local\n  hooks:\n  - id: c\n    name: c\n"
           "    entry: ./check.sh\n    language: script\n")
    home = project(box, ".pre-commit-config.yaml", cfg)
    put(box, "check.sh", HOST_PROG)
    put(box, "sub/check.sh", HOST_PROG)
    put(box, "sub/free", HOST_PROG)
    sub = os.path.join(box.work, "sub")
    os.symlink("../.pre-commit-config.yaml", os.path.join(sub, ".pre-commit-config.yaml"))
    chown_tree(box, box.work)
    h = host(box, ["sh", "-c", "git init -q -b main && git add -A && git commit -qm i"], home,
             cwd=sub, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    commit_all(box, home)
    r = sandbox(box, home, "(%s) && echo planted || echo refused; (%s) && echo free"
                % (rewrite("sub/check.sh"), rewrite("sub/free")))
    words = r.stdout.split()
    assert "free" in words, r.stdout + r.stderr
    assert "refused" in words, r.stdout + r.stderr
