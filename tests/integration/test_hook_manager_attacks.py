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

def pre_commit_attack(box, case, config, files, plant, install=("pre-commit", "install"),
                      config_name=".pre-commit-config.yaml"):
    """The host's project with FILES and pre-commit's CONFIG, its hook
    installed (INSTALL); the host's commit first shown to run its program
    (HOSTRAN); the sandbox's PLANT; the host commits again: no MARK."""
    home = host_home(box)
    host_project(box, home)
    for rel, (text, mode) in files.items():
        put(box, rel, text, mode)
    put(box, config_name, config, 0o644)
    commit_all(box, home)
    h = host(box, list(install), home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    op = "git commit -q --allow-empty -m again"
    control(box, home, op, box.work)
    r, h = plant_then_run(box, home, op, box.work, plant)
    no_mark(home, h, "the host's commit ran what the sandbox wrote (%s)\n%s"
            % (case, r.stdout + r.stderr))


def held(box, home, named, case):
    """The sandbox may not rewrite NAMED (lefthook runs it), and may
    write tools/free beside it (the control)."""
    before = open(os.path.join(box.work, named)).read()
    r = sandbox(box, home, "(%s) && echo planted || echo refused; (%s) && echo free"
                % (rewrite(named), rewrite("tools/free")))
    words = r.stdout.split()
    assert "free" in words, "control: the sandbox could not write tools/free\n" + \
        r.stdout + r.stderr
    assert "refused" in words and open(os.path.join(box.work, named)).read() == before, \
        "the sandbox rewrote %s, which lefthook runs (%s)\n%s" % (named, case,
                                                                r.stdout + r.stderr)


# pre-commit: a local hook, each way it names tools/x
PRE_COMMIT = {
    "script": "    entry: tools/x\n    language: script\n",
    "system": "    entry: sh tools/x\n    language: system\n",
    "args": "    entry: sh\n    language: system\n    args: [tools/x]\n",
}


@pytest.mark.skipif(not shutil.which("pre-commit"), reason="pre-commit is not installed")
@pytest.mark.parametrize("case", sorted(PRE_COMMIT))
def test_the_script_pre_commits_local_hook_runs_is_protected(box, case):
    # (staged: pre-commit sets aside what is not, and runs the index's)
    pre_commit_attack(box, case, "repos:\n- repo: local\n  hooks:\n  - id: x\n    name: x\n" +
                      PRE_COMMIT[case] + "    pass_filenames: false\n    always_run: true\n",
                      {"tools/x": (HOST_PROG, 0o755)},
                      rewrite("tools/x") + " && git add tools/x")


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
    held(box, home, named, case)



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


@pytest.mark.parametrize("via", ["named", "linked"])
@pytest.mark.parametrize("case", sorted(STAGED))
def test_a_script_a_hook_runs_staged_or_committed_by_the_sandbox_is_undone(box, case, via):
    """VIA linked: the hook names the script through a link of the
    project's (`scripts -> tools`, `sh scripts/x`); the sandbox stages
    tools/x (a review, FAIL on 44718d1: the link's path alone was a
    protected path of the check)."""
    manager, plant, op = STAGED[case]
    name = "tools/x" if via == "named" else "scripts/x"
    if manager == "pre-commit" and not shutil.which("pre-commit"):
        pytest.skip("pre-commit is not installed")
    home = host_home(box)
    host_project(box, home)
    put(box, "tools/x", HOST_PROG)
    if via == "linked":
        os.symlink("tools", os.path.join(box.work, "scripts"))
    if manager == "pre-commit":
        put(box, ".pre-commit-config.yaml",
            "repos:\n- repo: local\n  hooks:\n  - id: x\n    name: x\n" +
            "    entry: %s\n    language: script\n" % name +
            "    pass_filenames: false\n    always_run: true\n", 0o644)
    else:
        put(box, ".husky/pre-commit", "#!/bin/sh\nsh %s\n" % name)
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


# A review of the reader (FAIL on 5cef01c, every mode): forms it missed.
# pre-commit's run by the host's own pre-commit: (configuration, files at
# start, the sandbox's plant)
PC_HEAD = "repos:\n- repo: local\n  hooks:\n  - id: x\n    name: x\n"
PC_TAIL = "    pass_filenames: false\n    always_run: true\n"
PY_HOST = 'import os, json\nopen(os.path.join(os.environ["HOME"], "HOSTRAN"), "w").close()\n'
PY_EVIL = 'import os\nopen(os.path.join(os.environ["HOME"], "MARK"), "w").close()\n'
PC_MISSED = {
    # Python imports from the script's own directory first
    "python-beside-system": (
        PC_HEAD + "    entry: python3 tools/x.py\n    language: system\n" + PC_TAIL,
        {"tools/x.py": (PY_HOST, 0o644)},
        "printf '%s' > tools/json.py" % PY_EVIL.replace("\n", "\\n")),
    "python-beside-script": (
        PC_HEAD + "    entry: tools/x.py\n    language: script\n" + PC_TAIL,
        {"tools/x.py": ("#!/usr/bin/python3\n" + PY_HOST, 0o755)},
        "printf '%s' > tools/json.py" % PY_EVIL.replace("\n", "\\n")),
    # the entry and its arguments are one command line
    "bash-c-args": (
        PC_HEAD + "    entry: bash -c\n    language: system\n    args: ['sh tools/x']\n" + PC_TAIL,
        {"tools/x": (HOST_PROG, 0o755)},
        rewrite("tools/x") + " && git add tools/x"),
    # a script a shell runs that is not there at start
    "absent-script": (
        PC_HEAD + "    entry: sh -c 'sh tools/x; if [ -f tools/local.sh ]; then "
        "sh tools/local.sh; fi'\n    language: system\n" + PC_TAIL,
        {"tools/x": (HOST_PROG, 0o755)},
        "printf '#!/bin/sh\\ntouch \"$HOME/MARK\"\\n' > tools/local.sh"),
    # a YAML alias whose anchor stands under a key of no meaning
    "yaml-alias": (
        "x-cmds:\n  lint: &lint tools/x\n" + PC_HEAD + "    entry: *lint\n"
        "    language: script\n" + PC_TAIL,
        {"tools/x": (HOST_PROG, 0o755)},
        rewrite("tools/x") + " && git add tools/x"),
    # past 64 KiB
    "over-64k": (
        PC_HEAD + "    entry: tools/x\n    language: script\n" + PC_TAIL +
        ("# " + "c" * 78 + "\n") * 850,
        {"tools/x": (HOST_PROG, 0o755)},
        rewrite("tools/x") + " && git add tools/x"),
}


@pytest.mark.skipif(not shutil.which("pre-commit"), reason="pre-commit is not installed")
@pytest.mark.parametrize("case", sorted(PC_MISSED))
def test_what_pre_commit_runs_in_other_forms_is_protected(box, case):
    pre_commit_attack(box, case, *PC_MISSED[case])


# lefthook's, by what the sandbox may write: (name, text, the file held)
LH_MISSED = {
    "extends-glob": ("lefthook.yml", "extends:\n  - packages/*/hooks.yml\n",
                     "packages/a/hooks.yml"),
    "extends-glob-run": ("lefthook.yml", "extends:\n  - packages/*/hooks.yml\n", "packages/a/x"),
    "json-u-escape": ("lefthook.json",
                      '{"pre-commit":{"commands":{"l":{"run":"sh tools\\u002fx"}}}}\n', "tools/x"),
    "ninth-root": ("lefthook.yml", "pre-commit:\n  commands:\n" + "".join(
        "    p%d:\n      root: packages/p%d/\n      run: ./lint.sh\n" % (i, i)
        for i in range(1, 10)), "packages/p9/lint.sh"),
    "rc": ("lefthook.yml", "rc: tools/lefthookrc\npre-commit:\n  commands:\n    l:\n"
           "      run: yarn lint\n", "tools/lefthookrc"),
}


@pytest.mark.parametrize("case", sorted(LH_MISSED))
def test_what_lefthook_runs_in_other_forms_is_protected(box, case):
    name, text, named = LH_MISSED[case]
    home = host_home(box)
    host_project(box, home)
    put(box, name, text, 0o644)
    put(box, "tools/x", HOST_PROG)
    put(box, "tools/free", HOST_PROG)
    put(box, "tools/lefthookrc", "export A=1\n", 0o644)
    put(box, "packages/a/hooks.yml",
        "pre-commit:\n  commands:\n    a:\n      run: sh packages/a/x\n", 0o644)
    put(box, "packages/a/x", HOST_PROG)
    for i in range(1, 10):
        put(box, "packages/p%d/lint.sh" % i, HOST_PROG)
    commit_all(box, home)
    held(box, home, named, case)


def test_a_configuration_a_globbed_extends_matches_made_inside_is_moved_aside(box):
    """lefthook's `extends: [packages/*/hooks.yml]`: a new package's
    hooks.yml the sandbox makes would be read by the host's next commit;
    it is moved aside at exit (a file beside it stays: the control)."""
    home = host_home(box)
    host_project(box, home)
    put(box, "lefthook.yml", "extends:\n  - packages/*/hooks.yml\n", 0o644)
    put(box, "packages/a/hooks.yml", "pre-commit: {}\n", 0o644)
    commit_all(box, home)
    r = sandbox(box, home, "mkdir -p packages/b && printf 'pre-commit:\\n  commands:\\n"
                "    b:\\n      run: sh evil\\n' > packages/b/hooks.yml && "
                "echo x > packages/b/other && echo planted")
    assert "planted" in r.stdout.split(), r.stdout + r.stderr
    assert os.path.exists(os.path.join(box.work, "packages/b/other")), "control"
    assert not os.path.exists(os.path.join(box.work, "packages/b/hooks.yml")), \
        "a configuration the run made is left where lefthook reads it\n" + r.stderr


# Guards (a review: these made the project's own files read-only): a
# tool's configuration a local hook names, a remote hook's arguments,
# pre-commit's `files` pattern; the agent edits each
GUARDS = {
    "args-config": (".pre-commit-config.yaml", PC_HEAD + "    entry: bandit\n"
                    "    language: system\n    args: ['-c', 'pyproject.toml']\n",
                    "pyproject.toml"),
    "args-setup-cfg": (".pre-commit-config.yaml", PC_HEAD + "    entry: flake8\n"
                       "    language: system\n    args: [--config, setup.cfg]\n", "setup.cfg"),
    "remote-args": (".pre-commit-config.yaml",
                    "repos:\n- repo: https://example.com/bandit\n  rev: v1\n  hooks:\n"
                    "  - id: bandit\n    args: [-c, pyproject.toml]\n", "pyproject.toml"),
    "remote-anchor": (".pre-commit-config.yaml",
                      "repos:\n- repo: https://example.com/black\n  rev: v1\n  hooks:\n"
                      "  - id: black\n    files: &app src/main.py\n  - id: isort\n"
                      "    files: *app\n", "src/main.py"),
    "files-pattern": (".pre-commit-config.yaml", PC_HEAD + "    entry: black\n"
                      "    language: system\n    files: src/main.py\n", "src/main.py"),
}


@pytest.mark.parametrize("case", sorted(GUARDS))
def test_guard_a_hook_managers_configuration_leaves_the_projects_files_writable(box, case):
    name, text, target = GUARDS[case]
    home = host_home(box)
    host_project(box, home)
    put(box, name, text, 0o644)
    put(box, "pyproject.toml", "[project]\nname = 'p'\n", 0o644)
    put(box, "setup.cfg", "[flake8]\n", 0o644)
    put(box, "src/main.py", "print(1)\n", 0o644)
    commit_all(box, home)
    r = sandbox(box, home, "echo '# edit' >> %s && echo edited" % target)
    assert "edited" in r.stdout.split(), \
        "the agent could not edit %s (%s)\n%s" % (target, case, r.stdout + r.stderr)


# A review of those fixes (FAIL on 32c9f10, every mode): more forms.
CFG_HOST = 'run_lint() { touch "$HOME/HOSTRAN"; }\n'
EVIL_SH = "printf '#!/bin/sh\\ntouch \"$HOME/MARK\"\\n' > %s"
PC_MORE = {
    # the keys of a repository's entry in another order
    "hooks-before-repo": (
        "repos:\n- hooks:\n  - id: x\n    name: x\n    entry: tools/x\n    language: script\n"
        + PC_TAIL + "  repo: local\n",
        {"tools/x": (HOST_PROG, 0o755)},
        rewrite("tools/x") + " && git add tools/x"),
    "args-before-entry": (
        PC_HEAD + "    args: ['sh tools/x']\n    entry: bash -c\n    language: system\n" + PC_TAIL,
        {"tools/x": (HOST_PROG, 0o755)},
        rewrite("tools/x") + " && git add tools/x"),
    # a YAML merge key bringing the entry from an anchored mapping
    "merge-key": (
        "x-hook: &hook\n  entry: tools/x\n  language: script\n" + PC_HEAD +
        "    <<: *hook\n" + PC_TAIL,
        {"tools/x": (HOST_PROG, 0o755)},
        rewrite("tools/x") + " && git add tools/x"),
    # a data file's suffix on what a shell sources or runs
    "sourced-cfg": (
        PC_HEAD + "    entry: sh -c '. tools/hook.cfg; run_lint'\n    language: system\n" + PC_TAIL,
        {"tools/hook.cfg": (CFG_HOST, 0o644)},
        "printf 'run_lint() { touch \"$HOME/MARK\"; }\\n' > tools/hook.cfg && "
        "git add tools/hook.cfg"),
    "sh-script-txt": (
        PC_HEAD + "    entry: sh tools/lint.txt\n    language: system\n" + PC_TAIL,
        {"tools/lint.txt": (HOST_PROG, 0o644)},
        rewrite("tools/lint.txt") + " && git add tools/lint.txt"),
    # an absent script behind a shell's -e, and behind an option's value
    "absent-sh-e": (
        PC_HEAD + "    entry: sh -c 'sh tools/x; if [ -f tools/local.sh ]; then "
        "sh -e tools/local.sh; fi'\n    language: system\n" + PC_TAIL,
        {"tools/x": (HOST_PROG, 0o755)},
        EVIL_SH % "tools/local.sh"),
    "absent-nice-n": (
        PC_HEAD + "    entry: sh -c 'sh tools/x; if [ -f tools/local.sh ]; then "
        "nice -n 5 sh tools/local.sh; fi'\n    language: system\n" + PC_TAIL,
        {"tools/x": (HOST_PROG, 0o755)},
        EVIL_SH % "tools/local.sh"),
}


@pytest.mark.skipif(not shutil.which("pre-commit"), reason="pre-commit is not installed")
@pytest.mark.parametrize("case", sorted(PC_MORE))
def test_what_pre_commit_runs_in_still_other_forms_is_protected(box, case):
    pre_commit_attack(box, case, *PC_MORE[case])


@pytest.mark.skipif(not shutil.which("pre-commit"), reason="pre-commit is not installed")
def test_a_configuration_pre_commit_install_was_given_is_protected(box):
    """`pre-commit install -c tools/pc.yaml`: the hook names its
    configuration as --config=tools/pc.yaml (FAIL on 32c9f10)."""
    plant = ("printf '%s' > tools/evil && chmod 755 tools/evil && "
             "sed -i 's#entry: tools/x#entry: tools/evil#' tools/pc.yaml && "
             "git add tools/pc.yaml tools/evil") % "#!/bin/sh\\ntouch \"$HOME/MARK\"\\n"
    pre_commit_attack(box, "config-path",
                      PC_HEAD + "    entry: tools/x\n    language: script\n" + PC_TAIL,
                      {"tools/x": (HOST_PROG, 0o755)}, plant,
                      install=("pre-commit", "install", "-c", "tools/pc.yaml"),
                      config_name="tools/pc.yaml")


@pytest.mark.skipif(not shutil.which("pre-commit"), reason="pre-commit is not installed")
def test_a_python_script_reached_through_a_link_has_its_directory_protected(box):
    """tools/x.py a tracked link to lib/x.py: Python takes lib/ first on
    its path (FAIL on 32c9f10)."""
    home = host_home(box)
    host_project(box, home)
    put(box, "lib/x.py", PY_HOST, 0o644)
    os.makedirs(os.path.join(box.work, "tools"), exist_ok=True)
    os.symlink("../lib/x.py", os.path.join(box.work, "tools/x.py"))
    put(box, ".pre-commit-config.yaml",
        PC_HEAD + "    entry: python3 tools/x.py\n    language: system\n" + PC_TAIL, 0o644)
    commit_all(box, home)
    h = host(box, ["pre-commit", "install"], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    op = "git commit -q --allow-empty -m again"
    control(box, home, op, box.work)
    r, h = plant_then_run(box, home, op, box.work,
                          "printf '%s' > lib/json.py" % PY_EVIL.replace("\n", "\\n"))
    no_mark(home, h, "the host's commit imported the lib/json.py the sandbox made\n%s"
            % (r.stdout + r.stderr))


def test_guard_a_file_a_hook_only_names_leaves_its_directory_writable(box):
    """`entry: mypy src/app/main.py`: main.py is an argument, no program:
    the app's directory stays the agent's (FAIL on 32c9f10)."""
    home = host_home(box)
    host_project(box, home)
    put(box, ".pre-commit-config.yaml", PC_HEAD + "    entry: mypy src/app/main.py\n"
        "    language: system\n    pass_filenames: false\n", 0o644)
    put(box, "src/app/main.py", "print(1)\n", 0o644)
    put(box, "src/app/models.py", "X = 1\n", 0o644)
    commit_all(box, home)
    r = sandbox(box, home, "(echo 'Y = 2' >> src/app/models.py && echo edited) && "
                "(echo x > src/app/new.py && echo created)")
    assert {"edited", "created"} <= set(r.stdout.split()), r.stdout + r.stderr


def test_guard_a_glob_of_many_matches_moves_none_of_the_hosts_aside(box):
    """`extends: [packages/*/hooks.yml]` with 70 packages, an idle run:
    every match is the host's (FAIL on 32c9f10: the 65th on were moved
    aside as the sandbox's)."""
    home = host_home(box)
    host_project(box, home)
    put(box, "lefthook.yml", "extends:\n  - packages/*/hooks.yml\n", 0o644)
    for i in range(70):
        put(box, "packages/p%02d/hooks.yml" % i, "pre-commit: {}\n", 0o644)
    commit_all(box, home)
    r = sandbox(box, home, "true")
    missing = [i for i in range(70)
               if not os.path.exists(os.path.join(box.work, "packages/p%02d/hooks.yml" % i))]
    assert not missing, "an idle run moved the host's files aside: %s\n%s" % (missing, r.stderr)


# A third review (FAIL on e049b0e, every mode): yet more forms.
TXT = {"tools/lint.txt": (HOST_PROG, 0o755)}
RTXT = rewrite("tools/lint.txt") + " && git add tools/lint.txt"
XFILE = {"tools/x": (HOST_PROG, 0o755)}
RX = rewrite("tools/x") + " && git add tools/x"
PYX = {"tools/x.py": (PY_HOST, 0o644)}
PYPLANT = "printf '%s' > tools/json.py && git add tools/json.py" % PY_EVIL.replace("\n", "\\n")
PC_R3 = {
    # the hook's entry written before its id
    "entry-before-id": ("repos:\n- repo: local\n  hooks:\n  - entry: sh\n    id: x\n"
                        "    name: x\n    language: system\n    args: [tools/lint.txt]\n"
                        + PC_TAIL, TXT, RTXT),
    # an anchor's value over lines, a comment's "anchor", a list anchor
    "anchor-folded": ("x-lint: &lint >-\n  sh\n  tools/lint.txt\n" + PC_HEAD +
                      "    entry: *lint\n    language: system\n" + PC_TAIL, TXT, RTXT),
    "anchor-plain-lines": ("x-lint: &lint sh\n  tools/lint.txt\n" + PC_HEAD +
                           "    entry: *lint\n    language: system\n" + PC_TAIL, TXT, RTXT),
    "anchor-in-comment": ("# &lint true\nx-lint: &lint tools/x\n" + PC_HEAD +
                          "    entry: *lint\n    language: script\n" + PC_TAIL, XFILE, RX),
    "anchor-list-args": ("x-args: &a [-x, tools/lint.txt]\n" + PC_HEAD +
                         "    entry: sh\n    language: system\n    args: *a\n" + PC_TAIL,
                         TXT, RTXT),
    "tag": (PC_HEAD + "    entry: !!str sh tools/lint.txt\n    language: system\n" + PC_TAIL,
            TXT, RTXT),
    # a shell's options other than -X; a script named bare after a cd
    "sh-plus-x": (PC_HEAD + "    entry: sh +x tools/lint.txt\n    language: system\n" + PC_TAIL,
                  TXT, RTXT),
    "sh-o-absent": (PC_HEAD + "    entry: sh -c 'sh tools/x; if [ -f tools/local.sh ]; then "
                    "sh -o errexit tools/local.sh; fi'\n    language: system\n" + PC_TAIL,
                    XFILE, EVIL_SH % "tools/local.sh"),
    "cd-bare": (PC_HEAD + "    entry: sh -c 'cd tools && sh lint'\n    language: system\n"
                + PC_TAIL, {"tools/lint": (HOST_PROG, 0o755)},
                rewrite("tools/lint") + " && git add tools/lint"),
    # a prefix's option that takes a word
    "env-u-python": (PC_HEAD + "    entry: env -u PYTHONPATH python3 tools/x.py\n"
                     "    language: system\n" + PC_TAIL, PYX, PYPLANT),
    "timeout-s-python": (PC_HEAD + "    entry: timeout -s KILL 60 python3 tools/x.py\n"
                         "    language: system\n" + PC_TAIL, PYX, PYPLANT),
}


@pytest.mark.skipif(not shutil.which("pre-commit"), reason="pre-commit is not installed")
@pytest.mark.parametrize("case", sorted(PC_R3))
def test_what_pre_commit_runs_in_a_third_set_of_forms_is_protected(box, case):
    pre_commit_attack(box, case, *PC_R3[case])


@pytest.mark.parametrize("name", [".secrets.baseline", ".flake8", ".isort.cfg"])
def test_guard_a_remote_hooks_arguments_leave_the_projects_files_writable(box, name):
    """A remote hook's arguments are its program's options (FAIL on
    e049b0e: they made the project's dotfiles read-only)."""
    home = host_home(box)
    host_project(box, home)
    put(box, ".pre-commit-config.yaml",
        "repos:\n- repo: https://example.com/tool\n  rev: v1\n  hooks:\n  - id: t\n"
        "    args: ['--baseline', '%s']\n" % name, 0o644)
    put(box, name, "x\n", 0o644)
    commit_all(box, home)
    r = sandbox(box, home, "echo '# edit' >> %s && echo edited" % name)
    assert "edited" in r.stdout.split(), r.stdout + r.stderr
