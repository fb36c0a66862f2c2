# SPDX-License-Identifier: MIT
"""A sixth outside round on README's promise ("What the sandbox leaves
behind") that nothing the sandbox writes makes the host run code later,
against the reading of a git configuration's commands (gitscan.c:
gitscan_config_file(), check_config_file(), program_words(),
gitscan_global_hooks()) and the exit walk's way into directories the
sandbox locked (scan_grant(), open_listable(), owner_unlock()).

Each attack: the host's project, the host's git first shown to run the
host's own program (HOSTRAN, the control that the configuration is
obeyed) where there is one; the sandbox writes (`planted`, or `refused`
where the protection held); the host's same git command runs again, the
sandbox's code leaving MARK.

Holes (FAIL on aeb1dab):
  - test_program_named_by_a_config_past_64_kib[*] (every mode): a
    .git/config of 64 KiB or more (a repository with some 900 tracked
    branches' sections) that sets `core.fsmonitor = tools/x`:
    gitscan_config_file() and check_config_file() read no file of that
    size at all, so tools/x is neither protected at start nor checked at
    exit;
  - test_included_config_past_64_kib[*] (every mode): a nested
    repository's config includes `../../team.gitconfig` (left by the
    start to the exit: `..` past its start); the sandbox rewrites it with
    an fsmonitor and pads it past 64 KiB: check_config_file() returns
    before judging it (the same file under 64 KiB is moved aside, the
    guard below);
  - test_alias_read_otherwise[*] (every mode): program_words() takes
    `tools/x>/dev/null` and `tools/x</dev/null` (a redirection joined to
    the word, as the shell splits it) for one file named so; reads no
    more than 64 words (an alias `!git log -1 -- p0 ... p63 && tools/x`);
    and stops at 8 nested subshells;
  - test_program_named_by_the_system_config_in_git_config_system[*]
    (every mode): the host's environment (ringfence's and its later
    git's) sets GIT_CONFIG_SYSTEM, the system configuration git then
    reads instead of /etc/gitconfig; gitscan_global_hooks() reads
    /etc/gitconfig and $GIT_CONFIG_GLOBAL, never $GIT_CONFIG_SYSTEM, so
    the project's tools/x its core.fsmonitor names is not protected;
  - test_plant_in_a_bulk_directory_made_unreadable[user-*] (unprivileged,
    both namespace modes; root's supervisor reads any mode): a repository
    made inside node_modules (walked last, scan_grant()'s `later`), then
    node_modules made 0100 or 0000: the exit opens it for reading, fails
    (EACCES), and goes on without a word: open_listable(), which gives a
    directory the sandbox made unreadable its read right back, is not
    used there.  With 0100 the host's git enters it by name and runs the
    fsmonitor with no chmod at all;
  - test_git_directory_made_unsearchable[user-*] (unprivileged, both
    namespace modes): the new repository's .git made 0000 at the end:
    open_listable() is not used for a .git (entered by name, O_PATH), so
    its config and hooks are not read; said as NOT checked, but README
    says a directory the sandbox made unreadable gets its owner's read
    right back and is checked.  The host who gives its own directory its
    rights back (`chmod -R u+rwx`, as before removing it) runs it.
Guards (pass): the same config or included file under 64 KiB; the host's
XDG_CONFIG_HOME config naming a program; a repository behind a .git made
0500, 0100, 1500 (sticky) or kept flipping between 0500 and 0700 by a
process left running (owner_unlock()); a program or an includeIf file
absent at start, made during the run and used by the host's git while
the sandbox still runs (moved aside at once, protwatch.c); a program
named by a linked worktree's config.worktree (extensions.worktreeConfig),
the worktree in the project or in `.worktrees/` (which the start's walk
skips).
"""
import os
import subprocess
import time

import pytest

from test_hostfiles_attacks import GIT_ENV, INSIDE_GIT, TOUCH, chown_tree, host
from test_round3_git_attacks import host_home, host_project, no_mark, sandbox, tried
from test_round5_attacks import (HOST_PROG, append_config, commit_all, control,
                                 plant_then_run, put, rewrite)


# ---- a configuration past 64 KiB ---------------------------------------

def branches(n):
    """N branch sections, as `git push -u` and `git checkout -t` leave
    them: 900 of them make 64 KiB."""
    return "".join('[branch "feature/topic-%04d"]\n\tremote = origin\n'
                   '\tmerge = refs/heads/feature/topic-%04d\n' % (i, i) for i in range(n))


def big_config(box, n):
    home = host_home(box)
    host_project(box, home)
    put(box, "tools/x", HOST_PROG)
    commit_all(box, home)
    cfg = os.path.join(box.work, ".git", "config")
    append_config(cfg, "[core]\n\tfsmonitor = tools/x\n" + branches(n))
    control(box, home, "git status --short", box.work)
    r, h = plant_then_run(box, home, "git status --short", box.work, rewrite("tools/x"))
    return home, cfg, r, h


def test_program_named_by_a_config_past_64_kib(box):
    """Hole (every mode): a .git/config of 64 KiB or more (900 tracked
    branches' sections) with `core.fsmonitor = tools/x`: the start and
    the exit read no config that large (gitscan_config_file(),
    check_config_file()), so the sandbox's tools/x stays."""
    home, cfg, r, h = big_config(box, 900)
    assert os.path.getsize(cfg) >= 65536
    no_mark(home, h, "the host's git ran the tools/x the sandbox wrote (a 64 KiB config)\n%s"
            % (r.stdout + r.stderr))


def test_guard_program_named_by_a_config_under_64_kib(box):
    """Guard: the same with 100 branches' sections (under 64 KiB)."""
    home, cfg, r, h = big_config(box, 100)
    assert os.path.getsize(cfg) < 65536
    no_mark(home, h, "the host's git ran the tools/x the sandbox wrote\n%s"
            % (r.stdout + r.stderr))


def test_config_past_the_read_is_said(box):
    """Past what is read (4 MiB, some 57,000 branches' sections) a config
    is not read: said at start, naming it, never passed over in silence
    (as every config over 64 KiB was before).  Control: the same start
    with the config under it says nothing of it."""
    home = host_home(box)
    host_project(box, home)
    cfg = os.path.join(box.work, ".git", "config")
    append_config(cfg, "[core]\n\tfsmonitor = tools/x\n")
    r = sandbox(box, home, "echo ran")
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    assert "past the 4 MiB read" not in r.stderr, r.stderr
    append_config(cfg, branches(60000))
    assert os.path.getsize(cfg) > 4 << 20
    r = sandbox(box, home, "echo ran")
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    assert "past the 4 MiB read" in r.stderr and ".git/config" in r.stderr, r.stderr


def nested_with_team_config(box, home):
    """The host's project, and a repository of the host's `a` in it whose
    config includes `../../team.gitconfig` (the project's top, from
    a/.git: `..` past its start, left to the exit), which runs the host's
    program."""
    host_project(box, home)
    put(box, "tools/x", HOST_PROG)
    commit_all(box, home)
    h = host(box, ["sh", "-c", "git init -q -b main a && cd a && echo y > g && git add g && "
                   "git commit -qm a && git config include.path ../../team.gitconfig"],
             home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    put(box, "team.gitconfig", "[core]\n\tfsmonitor = %s/tools/x\n" % box.work, 0o644)
    chown_tree(box, box.work)
    control(box, home, "git status --short", os.path.join(box.work, "a"))


# the sandbox's team.gitconfig: an fsmonitor of its own
# (made beside it and renamed in whole: no walk sees it half written)
PLANT_CFG = ("printf '#!/bin/sh\\n%s\\nexit 0\\n' > evil.sh && chmod 755 evil.sh && "
             "printf '[core]\\n\\tfsmonitor = %%s/evil.sh\\n' \"$PWD\" > team.tmp" % TOUCH)
# ... and comments after it, past 64 KiB
PAD = (" && i=0; while [ $i -lt 1500 ]; do echo '# padding padding padding padding padding pad'; "
       "i=$((i+1)); done >> team.tmp && test $(wc -c < team.tmp) -ge 65536")
PUT = " && mv team.tmp team.gitconfig"


def included_config(box, pad):
    home = host_home(box)
    nested_with_team_config(box, home)
    r, h = plant_then_run(box, home, "git status --short", os.path.join(box.work, "a"),
                          PLANT_CFG + pad + PUT)
    no_mark(home, h, "the host's git ran the fsmonitor of the team.gitconfig the sandbox wrote\n%s"
            % (r.stdout + r.stderr))


def test_included_config_past_64_kib(box):
    """Hole (every mode): a nested repository's config includes
    `../../team.gitconfig`, which the sandbox rewrites with an fsmonitor
    and pads past 64 KiB with comments: check_config_file() returns
    before judging a file that large; the host's git reads it whole."""
    included_config(box, PAD)


# ... past what is read (4 MiB)
PAD_4MIB = (" && head -c 4300000 /dev/zero | tr '\\0' '#' | fold -w 60 >> team.tmp && "
            "test $(wc -c < team.tmp) -gt 4194304")


def test_included_config_past_the_read(box):
    """An included file the sandbox rewrote past what is read (4 MiB of
    comments): not read, so not passed: moved aside at exit (control:
    the host's git would obey it, tools/x's control above and the
    fsmonitor the plant names)."""
    included_config(box, PAD_4MIB)


def test_guard_included_config_under_64_kib(box):
    """Guard: the same without the padding: moved aside at exit."""
    included_config(box, "")


# ---- the shell's reading -----------------------------------------------

FORMS = {
    "redirect-joined": "!tools/x>/dev/null",
    "redirect-in": "!tools/x</dev/null",
    "long-alias": "!git log -1 --oneline -- " + " ".join("p%d" % i for i in range(64))
                  + " && tools/x",
    "deep-subshell": "!" + "(" * 9 + "true" + ")" * 9 + " && tools/x",
}


def alias_run(box, value):
    home = host_home(box)
    host_project(box, home)
    put(box, "tools/x", HOST_PROG)
    commit_all(box, home)
    append_config(os.path.join(box.work, ".git", "config"), "[alias]\n\tgo = \"%s\"\n" % value)
    control(box, home, "git go", box.work)
    r, h = plant_then_run(box, home, "git go", box.work, rewrite("tools/x"))
    no_mark(home, h, "the host's git go (%s) ran the tools/x the sandbox wrote\n%s"
            % (value[:60], r.stdout + r.stderr))


@pytest.mark.parametrize("form", sorted(FORMS))
def test_alias_read_otherwise(box, form):
    """Hole (every mode): program_words() reads `tools/x>/dev/null` and
    `tools/x</dev/null` as one file of that name (the shell splits the
    redirection off: tools/x runs), reads 64 words at most (tools/x as
    the 70th is not read), and stops at 8 nested subshells."""
    alias_run(box, FORMS[form])


@pytest.mark.parametrize("value", ["!tools/x >/dev/null", "!git log -1 --oneline -- p0 && tools/x"])
def test_guard_alias_read(box, value):
    """Guard: the same with the redirection a word of its own, and a short
    alias."""
    alias_run(box, value)


# ---- the host's own configuration ----------------------------------------

def host_config_program(box, var):
    """The host's configuration file named by the environment variable
    VAR (ringfence's and the host's later git's) sets `core.fsmonitor =
    tools/x`, the project's."""
    home = host_home(box)
    host_project(box, home)
    put(box, "tools/x", HOST_PROG)
    commit_all(box, home)
    env = {k: v for k, v in GIT_ENV.items() if k != "GIT_CONFIG_NOSYSTEM"}
    if var == "GIT_CONFIG_SYSTEM":
        env[var] = box.write("etc/gitconfig", "[core]\n\tfsmonitor = tools/x\n")
    else:
        box.write("xdg/git/config", "[core]\n\tfsmonitor = tools/x\n")
        env[var] = box.path("xdg")
    ran_path = os.path.join(home, "HOSTRAN")
    h = host(box, ["git", "status", "--short"], home, cwd=box.work, env=env)
    assert os.path.exists(ran_path), "control: " + h.stdout + h.stderr
    os.unlink(ran_path)
    r = box.run(["sh", "-c", "(%s) && echo planted || echo refused" % rewrite("tools/x")],
                policy=box.policy(""), env=dict(env, HOME=home))
    tried(r)
    h = host(box, ["git", "status", "--short"], home, cwd=box.work, env=env)
    no_mark(home, h, "the host's git ran the tools/x the sandbox wrote (%s)\n%s"
            % (var, r.stdout + r.stderr))


def test_program_named_by_the_system_config_in_git_config_system(box):
    """Hole (every mode): GIT_CONFIG_SYSTEM in the host's environment names
    the system configuration git reads; gitscan_global_hooks() reads
    /etc/gitconfig only, so the tools/x it runs is not protected."""
    host_config_program(box, "GIT_CONFIG_SYSTEM")


def test_guard_program_named_by_the_xdg_config(box):
    """Guard: the same through $XDG_CONFIG_HOME/git/config."""
    host_config_program(box, "XDG_CONFIG_HOME")


# ---- plants behind directories the sandbox locked ----------------------

# a repository made inside where nothing watches it while the sandbox runs
# (node_modules is not entered), after the first walk (50 ms), its config
# running fsm.sh; then the directories on the way locked
NM_REPO = ("sleep 0.5 && mkdir -p node_modules/pkg && cd node_modules/pkg && git init -q && "
           "printf '#!/bin/sh\\n%s\\nexit 1\\n' > fsm.sh && chmod 755 fsm.sh && "
           "git config core.fsmonitor \"$PWD/fsm.sh\" && cd ../.. && " % TOUCH)
# the host, as itself, after the run: its own rights back on its own tree
# first where it asks (as before removing it), then git there
UNLOCK = "chmod -R u+rwx node_modules; "
LOCKS = {
    "none": "true",
    "git-0500": "chmod 500 node_modules/pkg/.git",
    "git-0100": "chmod 100 node_modules/pkg/.git",
    "git-1500": "chmod 1500 node_modules/pkg/.git",
    "flipping": "(setsid sh -c 'while :; do chmod 500 node_modules/pkg/.git; "
                "chmod 700 node_modules/pkg/.git; done' >/dev/null 2>&1 &) && sleep 0.3",
    # holes
    "bulk-0100": "chmod 500 node_modules/pkg/.git && chmod 100 node_modules",
    "bulk-0000": "chmod 000 node_modules",
    "git-0000": "chmod 000 node_modules/pkg/.git",
}


def locked(box, lock, unlock):
    home = host_home(box)
    host_project(box, home)
    r = sandbox(box, home, "(%s%s) && echo planted" % (NM_REPO, LOCKS[lock]))
    tried(r)
    h = host(box, ["sh", "-c", unlock + "cd node_modules/pkg && git status --short"],
             home, cwd=box.work, env=GIT_ENV)
    # the host's git reached the repository (or its plant was taken away)
    assert "fsm.sh" in h.stdout, h.stdout + h.stderr
    no_mark(home, h, "the host's git ran the fsmonitor of a repository behind %s\n%s"
            % (lock, r.stdout + r.stderr))


@pytest.mark.parametrize("lock", ["none", "git-0500", "git-0100", "git-1500", "flipping"])
def test_guard_plant_behind_an_unwritable_git_directory(box, lock):
    """Guard: the repository's .git made 0500, 0100, 1500, or flipped
    between 0500 and 0700 by a process left running: the exit gives its
    owner write back (owner_unlock()) and moves the config aside."""
    locked(box, lock, UNLOCK)


@pytest.mark.parametrize("lock", ["bulk-0100", "bulk-0000"])
def test_plant_in_a_bulk_directory_made_unreadable(box, lock):
    """Hole (unprivileged, both namespace modes): node_modules (walked
    last) made 0100 or 0000 after the plant: scan_grant() fails to open
    it for reading and goes on without a word (not open_listable(),
    which gives the sandbox's unreadable directory its read back), so
    the repository in it is never checked.  0100: the host's git enters
    it by name, no chmod needed.  Root's supervisor reads any mode."""
    locked(box, lock, "" if lock == "bulk-0100" else UNLOCK)


def test_git_directory_made_unsearchable(box):
    """Hole (unprivileged, both namespace modes): the new repository's
    .git made 0000 at the end: entered by name (O_PATH), never through
    open_listable(), its config is not read (said: NOT checked), though
    README says a directory the sandbox made unreadable gets its owner's
    read back and is checked.  The host giving its own tree its rights
    back runs the fsmonitor."""
    locked(box, "git-0000", UNLOCK)


# ---- the live protection ---------------------------------------------------

@pytest.mark.parametrize("where", ["dir-present", "dir-absent", "include-absent"])
def test_guard_absent_program_used_by_the_host_during_the_run(box, where):
    """Guard: `core.fsmonitor = bin/fsmon` absent at start (bin there or
    not), or an `includeIf "onbranch:main"` file absent at start; the
    sandbox makes it, and the host's git runs in the project 1.5 s later
    while the sandbox still runs: moved aside at once (protwatch.c)."""
    home = host_home(box)
    host_project(box, home)
    cfg = os.path.join(box.work, ".git", "config")
    if where == "include-absent":
        append_config(cfg, '[includeIf "onbranch:main"]\n\tpath = ../conf/branch.gitconfig\n')
        os.makedirs(os.path.join(box.work, "conf"))
        plant = ("printf '#!/bin/sh\\n%s\\nexit 1\\n' > evil.sh && chmod 755 evil.sh && "
                 "printf '[core]\\n\\tfsmonitor = %%s/evil.sh\\n' \"$PWD\" > conf/branch.gitconfig"
                 % TOUCH)
    else:
        append_config(cfg, "[core]\n\tfsmonitor = bin/fsmon\n")
        if where == "dir-present":
            os.makedirs(os.path.join(box.work, "bin"))
        plant = "mkdir -p bin && %s && chmod 755 bin/fsmon" % rewrite("bin/fsmon")
    chown_tree(box, box.work)
    p = box.popen(["sh", "-c", INSIDE_GIT + "((%s) && echo planted || echo refused); "
                   "sleep 3; echo done" % plant],
                  policy=box.policy(""), env=dict(GIT_ENV, HOME=home),
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    h = host(box, ["git", "status", "--short"], home, cwd=box.work, env=GIT_ENV)
    out, err = p.communicate(timeout=30)
    words = out.split()
    assert "planted" in words or "refused" in words, out + err
    assert "done" in words, out + err  # the host's git ran while it ran
    no_mark(home, h, "the host's git ran, during the run, what the sandbox made\n" + out + err)


# ---- linked worktrees ------------------------------------------------------

@pytest.mark.parametrize("where", ["wt", ".worktrees/feat"])
def test_guard_program_named_by_a_linked_worktrees_config_worktree(box, where):
    """Guard: extensions.worktreeConfig, a linked worktree (in the project,
    or in `.worktrees/`, which the start's walk does not enter) whose
    config.worktree sets `core.fsmonitor = tools/x`: the sandbox's
    tools/x there is refused or moved aside."""
    home = host_home(box)
    host_project(box, home)
    put(box, "tools/x", HOST_PROG)
    put(box, ".gitignore", "wt/\n.worktrees/\n", 0o644)
    commit_all(box, home)
    h = host(box, ["sh", "-c", "git config extensions.worktreeConfig true && "
                   "git worktree add -q -b feat %s && cd %s && "
                   "git config --worktree core.fsmonitor tools/x" % (where, where)],
             home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    chown_tree(box, box.work)
    wt = os.path.join(box.work, where)
    control(box, home, "git status --short", wt)
    r, h = plant_then_run(box, home, "git status --short", wt, rewrite(where + "/tools/x"))
    no_mark(home, h, "the host's git ran the tools/x the sandbox wrote\n" + r.stdout + r.stderr)
