# SPDX-License-Identifier: MIT
"""What a protected hook runs (outside review): README promises that
nothing the sandbox writes makes the host run code later.  The hooks are
protected (.husky, .git/hooks, a core.hooksPath directory), and so are the
files a git configuration's commands name (`alias.x = !sh tools/x`); a
hook is a shell script, and the file its commands name was left writable:
`.husky/pre-commit` running `sh tools/x` (husky's, lint-staged's and
pre-commit's usual shape) made the host's next `git commit` run what the
sandbox wrote into tools/x.

Each attack: the host's project with the hook and the host's tools/x, the
host's commit first shown to run it (HOSTRAN, the control); the sandbox
rewrites tools/x (`planted`, or `refused` where the protection holds); the
host commits again, the sandbox's tools/x leaving MARK.

Holes (FAIL on dad666c): every case below, every mode; the dirname0,
bash-c and linked cases also on e597166 (a review of it), the relinked,
braces, backtick, cd-pwd, var-dir, env and exec cases on 36326e1 (a second
review).
Guard: a hook that runs a package's own binary (node_modules/.bin/x) leaves
it to the package manager, which rewrites it (`npm ci` inside works).
"""
import os

import pytest

from test_round3_git_attacks import host_home, host_project, no_mark
from test_round5_attacks import HOST_PROG, commit_all, control, plant_then_run, put, rewrite

# where the hook is, what git's configuration says, and how it runs tools/x
HOOKS = {
    # husky 4: core.hooksPath names the directory of the hooks themselves
    "husky-hookspath": (".husky/pre-commit", "core.hooksPath .husky", "sh tools/x\n"),
    # husky 9: core.hooksPath = .husky/_, whose stubs run .husky/<hook>
    # by a name made at run time
    "husky-9": (".husky/pre-commit", "core.hooksPath .husky/_", "sh ./tools/x\n"),
    # the repository's own hook, running the script as a command, after
    # a comment and in a subshell
    "git-hooks": (".git/hooks/pre-commit", None, "# run the checks\n(cd . && ./tools/x)\n"),
    # a project's hooks directory (.githooks) with an `if` around it
    "githooks": (".githooks/pre-commit", "core.hooksPath .githooks",
                 'if [ -x tools/x ]; then\n  tools/x "$@"\nfi\n'),
    # a review of the reader: the script named through the hook's own
    # directory, and as the command line a shell's -c is given
    "dirname0": (".git/hooks/pre-commit", None, '"$(dirname "$0")/../../tools/x"\n'),
    "bash-c": (".githooks/pre-commit", "core.hooksPath .githooks", 'bash -c "sh tools/x"\n'),
    # and a second review of it: other spellings of the hook's directory,
    # through a variable, and a shell's -c behind env or exec
    "dirname-braces": (".git/hooks/pre-commit", None, '"$(dirname "${0}")/../../tools/x"\n'),
    "dirname-backtick": (".git/hooks/pre-commit", None, '"`dirname "$0"`/../../tools/x"\n'),
    "cd-pwd": (".git/hooks/pre-commit", None,
               'sh "$(cd "$(dirname "$0")" && pwd)/../../tools/x"\n'),
    "var-dir": (".git/hooks/pre-commit", None, 'D=$(dirname "$0")\nsh "$D/../../tools/x"\n'),
    "env-sh-c": (".githooks/pre-commit", "core.hooksPath .githooks",
                 '/usr/bin/env sh -c "sh tools/x"\n'),
    "exec-sh-c": (".githooks/pre-commit", "core.hooksPath .githooks", 'exec sh -c "sh tools/x"\n'),
}
# and hooks that are links to the script (a common setup), in the
# repository's hooks and in a hooksPath directory
LINKED = {
    "git-hooks-link": (".git/hooks/pre-commit", "../../tools/x", None),
    "hookspath-link": (".githooks/pre-commit", "../tools/x", "core.hooksPath .githooks"),
}
# a link on the way to the script, which the sandbox replaces (a second
# review): a directory link in the middle made a directory of its own, the
# chain's next link pointed elsewhere
RELINKED = {
    "inner-link": ("../../lnk/x", ("lnk", "tools"),
                   "rm lnk && mkdir lnk && %s && chmod +x lnk/x" % rewrite("lnk/x")),
    "link-chain": ("../../hooklink", ("hooklink", "tools/x"),
                   "printf '#!/bin/sh\\ntouch \"$HOME/MARK\"\\n' > evil && chmod +x evil && "
                   "rm hooklink && ln -s evil hooklink"),
}

HUSKY_9_STUB = '#!/usr/bin/env sh\n. "$(dirname "$0")/h"\n'
HUSKY_9_H = ('#!/usr/bin/env sh\nn=$(basename "$0")\ns=$(dirname "$(dirname "$0")")/$n\n'
             '[ ! -f "$s" ] && exit 0\nsh -e "$s" "$@"\n')


def hook_project(box, home, case):
    hook, cfg, body = HOOKS[case]
    host_project(box, home)
    put(box, "tools/x", HOST_PROG)
    if case == "husky-9":
        put(box, ".husky/_/pre-commit", HUSKY_9_STUB)
        put(box, ".husky/_/h", HUSKY_9_H)
    put(box, hook, "#!/bin/sh\n" + body)
    commit_all(box, home)
    if cfg:
        key, value = cfg.split()
        with open(os.path.join(box.work, ".git", "config"), "a") as f:
            f.write("[%s]\n\t%s = %s\n" % tuple(key.split(".") + [value]))


@pytest.mark.parametrize("case", sorted(HOOKS))
def test_the_script_a_hook_runs_is_protected(box, case):
    home = host_home(box)
    hook_project(box, home, case)
    op = "git commit -q --allow-empty -m again"
    control(box, home, op, box.work)
    r, h = plant_then_run(box, home, op, box.work, rewrite("tools/x"))
    no_mark(home, h, "the host's commit ran the tools/x the sandbox wrote (%s)\n%s"
            % (case, r.stdout + r.stderr))


@pytest.mark.parametrize("case", sorted(LINKED))
def test_the_script_a_hook_links_to_is_protected(box, case):
    hook, target, cfg = LINKED[case]
    home = host_home(box)
    host_project(box, home)
    put(box, "tools/x", HOST_PROG)
    os.makedirs(os.path.dirname(os.path.join(box.work, hook)), exist_ok=True)
    os.symlink(target, os.path.join(box.work, hook))
    commit_all(box, home)
    if cfg:
        key, value = cfg.split()
        with open(os.path.join(box.work, ".git", "config"), "a") as f:
            f.write("[%s]\n\t%s = %s\n" % tuple(key.split(".") + [value]))
    op = "git commit -q --allow-empty -m again"
    control(box, home, op, box.work)
    r, h = plant_then_run(box, home, op, box.work, rewrite("tools/x"))
    no_mark(home, h, "the host's commit ran the tools/x the sandbox wrote (%s)\n%s"
            % (case, r.stdout + r.stderr))


@pytest.mark.parametrize("case", sorted(RELINKED))
def test_a_link_on_the_way_to_a_linked_hooks_script_is_held(box, case):
    target, (name, to), plant = RELINKED[case]
    home = host_home(box)
    host_project(box, home)
    put(box, "tools/x", HOST_PROG)
    os.symlink(to, os.path.join(box.work, name))
    os.symlink(target, os.path.join(box.work, ".git/hooks/pre-commit"))
    commit_all(box, home)
    op = "git commit -q --allow-empty -m again"
    control(box, home, op, box.work)
    r, h = plant_then_run(box, home, op, box.work, plant)
    no_mark(home, h, "the host's commit ran what the sandbox led the hook to (%s)\n%s"
            % (case, r.stdout + r.stderr))


def test_guard_a_package_binary_a_hook_runs_stays_the_package_managers(box):
    """A hook running node_modules/.bin/x: that file stays writable inside
    (a package manager replaces it; `npm ci` removes the whole tree)."""
    home = host_home(box)
    host_project(box, home)
    put(box, "node_modules/.bin/x", HOST_PROG)
    put(box, ".husky/pre-commit", "#!/bin/sh\n./node_modules/.bin/x\n")
    commit_all(box, home)
    with open(os.path.join(box.work, ".git", "config"), "a") as f:
        f.write("[core]\n\thooksPath = .husky\n")
    r, _ = plant_then_run(box, home, "true", box.work,
                          "rm -rf node_modules && mkdir -p node_modules/.bin && "
                          "printf x > node_modules/.bin/x")
    assert "planted" in r.stdout.split(), r.stdout + r.stderr
