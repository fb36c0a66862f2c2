# SPDX-License-Identifier: MIT
"""What a hook manager's configuration has the host's hooks run: README
promises that nothing the sandbox writes makes the host run code later.
lefthook's and pre-commit's configurations are built-in names, held from
the sandbox, and so is what a hook's own script names
(test_hook_script_attacks.py); the files their commands name were left
writable: pre-commit's `entry: tools/x` (a local hook), lefthook's `run:
sh tools/x`, and the host's next `git commit` ran what the sandbox wrote
into tools/x (supervisor/hookconf.c now reads them).

pre-commit's cases run the host's own pre-commit (Debian's package): the
host's commit is first shown to run tools/x (HOSTRAN, the control); the
sandbox rewrites tools/x and stages it (pre-commit sets aside changes
not staged, and runs the index's; `planted`, or `refused` where the
protection holds); the host commits again, the sandbox's tools/x leaving
MARK.

lefthook is not packaged here: its cases hold the reading to each form of
its configuration (YAML, TOML, JSON; `root`, `extends`, its scripts'
directory) by what the sandbox may write: the file the command names is
refused, a file beside it no configuration names is written (the
control that the sandbox ran and could write there).

Holes (FAIL on 9f332d2): every case below, every mode.
"""
import os
import shutil

import pytest

from test_hostfiles_attacks import GIT_ENV, host
from test_round3_git_attacks import host_home, host_project, no_mark, sandbox
from test_round5_attacks import HOST_PROG, commit_all, control, plant_then_run, put, rewrite

# pre-commit: a local hook, each way it names tools/x
PRE_COMMIT = {
    "script": "    entry: tools/x\n    language: script\n",
    "system": "    entry: sh tools/x\n    language: system\n",
    "args": "    entry: sh\n    language: system\n    args: [tools/x]\n",
}


@pytest.mark.skipif(not shutil.which("pre-commit"), reason="pre-commit is not installed")
@pytest.mark.parametrize("case", sorted(PRE_COMMIT))
def test_the_script_pre_commits_local_hook_runs_is_protected(box, case):
    home = host_home(box)
    host_project(box, home)
    put(box, "tools/x", HOST_PROG)
    put(box, ".pre-commit-config.yaml",
        "repos:\n- repo: local\n  hooks:\n  - id: x\n    name: x\n" + PRE_COMMIT[case] +
        "    pass_filenames: false\n    always_run: true\n", 0o644)
    commit_all(box, home)
    h = host(box, ["pre-commit", "install"], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    op = "git commit -q --allow-empty -m again"
    control(box, home, op, box.work)
    # (staged: pre-commit sets aside what is not, and runs the index's)
    r, h = plant_then_run(box, home, op, box.work, rewrite("tools/x") + " && git add tools/x")
    no_mark(home, h, "the host's commit ran the tools/x the sandbox wrote (%s)\n%s"
            % (case, r.stdout + r.stderr))


# lefthook: the configuration's name and text, and the file its command
# names (NAMED); tools/free beside it is named by none
LEFTHOOK = {
    "yaml": ("lefthook.yml",
             "pre-commit:\n  commands:\n    lint:\n      run: sh tools/x {staged_files}\n",
             "tools/x"),
    "yaml-block": (".lefthook.yml",
                   "pre-commit:\n  jobs:\n    - name: lint\n      run: |\n        cd tools\n"
                   "        ./x\n", "tools/x"),
    "yaml-root": ("lefthook.yml",
                  "pre-commit:\n  commands:\n    lint:\n      root: tools/\n"
                  "      run: ./x\n", "tools/x"),
    "toml": ("lefthook.toml", "[pre-commit.commands.lint]\nrun = \"sh tools/x\"\n", "tools/x"),
    "json": ("lefthook.json", '{"pre-commit":{"commands":{"lint":{"run":"tools/x"}}}}\n',
             "tools/x"),
    "config-dir": (".config/lefthook.yml",
                   "pre-commit:\n  commands:\n    lint:\n      run: tools/x\n", "tools/x"),
    "local": ("lefthook-local.yml",
              "pre-commit:\n  commands:\n    lint:\n      run: bash -c 'sh tools/x'\n", "tools/x"),
    # a configuration another one extends, and what it runs
    "extends": ("lefthook.yml", "extends:\n  - tools/more.yml\n", "tools/more.yml"),
    "extends-run": ("lefthook.yml", "extends: [tools/more.yml]\n", "tools/x"),
    # a script in its scripts' directory (each hook's), and what it runs
    "source-dir": ("lefthook.yml", "source_dir: tools/lh\npre-commit:\n  scripts:\n"
                   "    \"s.sh\":\n      runner: sh\n", "tools/lh/pre-commit/s.sh"),
    "source-dir-run": ("lefthook.yml", "source_dir: tools/lh\n", "tools/x"),
}


@pytest.mark.parametrize("case", sorted(LEFTHOOK))
def test_the_files_a_lefthook_configuration_runs_are_protected(box, case):
    name, text, named = LEFTHOOK[case]
    home = host_home(box)
    host_project(box, home)
    put(box, name, text, 0o644)
    put(box, "tools/x", HOST_PROG)
    put(box, "tools/free", HOST_PROG)
    put(box, "tools/more.yml", "pre-commit:\n  commands:\n    lint:\n      run: sh tools/x\n",
        0o644)
    put(box, "tools/lh/pre-commit/s.sh", "#!/bin/sh\nsh tools/x\n")
    commit_all(box, home)
    before = open(os.path.join(box.work, named)).read()
    r = sandbox(box, home, "(%s) && echo planted || echo refused; (%s) && echo free"
                % (rewrite(named), rewrite("tools/free")))
    words = r.stdout.split()
    assert "free" in words, "control: the sandbox could not write tools/free\n" + \
        r.stdout + r.stderr
    assert "refused" in words and open(os.path.join(box.work, named)).read() == before, \
        "the sandbox rewrote %s, which lefthook runs (%s)\n%s" % (named, case,
                                                                r.stdout + r.stderr)



# The sandbox leaves tools/x alone in the worktree and records its own in
# git (FAIL on 9f332d2, every case and mode: the end's check of what the
# sandbox stages or commits (githeads.c) knew the hooks paths and what a
# git configuration runs, not what a hook's script or a hook manager's
# configuration names): staged only, which pre-commit checks out itself
# before it runs a hook, and which `git checkout -- .` (git's advice for
# a "modified" file) brings back before a husky hook runs it; committed,
# which `git reset --hard` brings back.
EVIL_BLOB = ("printf '#!/bin/sh\\ntouch \"$HOME/MARK\"\\n' > e && "
             "b=$(git hash-object -w e) && rm e && "
             "git update-index --cacheinfo 100755,$b,tools/x")
STAGED = {
    "pre-commit-staged": ("pre-commit", EVIL_BLOB, "git commit -q --allow-empty -m again"),
    "husky-staged": ("husky", EVIL_BLOB,
                     "git checkout -- . && git commit -q --allow-empty -m again"),
    "husky-committed": ("husky", EVIL_BLOB + " && git commit -qm lint --no-verify",
                        "git reset -q --hard && git commit -q --allow-empty -m again"),
}


@pytest.mark.parametrize("case", sorted(STAGED))
def test_a_script_a_hook_runs_staged_or_committed_by_the_sandbox_is_undone(box, case):
    manager, plant, op = STAGED[case]
    if manager == "pre-commit" and not shutil.which("pre-commit"):
        pytest.skip("pre-commit is not installed")
    home = host_home(box)
    host_project(box, home)
    put(box, "tools/x", HOST_PROG)
    if manager == "pre-commit":
        put(box, ".pre-commit-config.yaml",
            "repos:\n- repo: local\n  hooks:\n  - id: x\n    name: x\n" +
            PRE_COMMIT["script"] + "    pass_filenames: false\n    always_run: true\n", 0o644)
    else:
        put(box, ".husky/pre-commit", "#!/bin/sh\nsh tools/x\n")
    commit_all(box, home)
    if manager == "pre-commit":
        h = host(box, ["pre-commit", "install"], home, cwd=box.work, env=GIT_ENV)
        assert h.returncode == 0, h.stdout + h.stderr
    else:
        with open(os.path.join(box.work, ".git", "config"), "a") as f:
            f.write("[core]\n\thooksPath = .husky\n")
    control(box, home, "git commit -q --allow-empty -m first", box.work)
    r, h = plant_then_run(box, home, op, box.work, plant)
    assert "planted" in r.stdout.split(), r.stdout + r.stderr
    no_mark(home, h, "the host's hook ran the tools/x the sandbox recorded in git (%s)\n%s"
            % (case, r.stdout + r.stderr))
