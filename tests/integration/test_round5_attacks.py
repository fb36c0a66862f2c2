# SPDX-License-Identifier: MIT
"""A fifth outside round on README's promise ("What the sandbox leaves
behind") as ad6355d and 6eda5f5 keep it for the commands a git
configuration runs: the files of the project they name are protected at
start (protect.c, on_git_pointer()) and checked at exit (gitscan.c,
on_pointer()).

Each attack: the host's project with such a configuration and the host's
own program, which the host's git is first shown to run (HOSTRAN: the
control that the configuration is obeyed); the sandbox then writes what
git will run (`planted`, or `refused` where the protection held) and the
host's same git command runs again, the sandbox's code leaving MARK.

Holes (FAIL on 6eda5f5):
  - test_program_under_core_worktree[*] (every mode): a config with
    `core.worktree` (a git directory whose worktree is a subdirectory, a
    bare repository deploying into a directory beside it): git runs its
    commands from that worktree's top; the start and the exit take them
    from the `.git`'s parent (the bare repository itself), so the
    program git runs is neither protected nor checked;
  - test_program_named_by_an_include_outside_the_grant[*] (every mode): a
    project's .git/config that includes a file outside the write grants (a
    team's shared config, `include.path = /srv/team/gitconfig`) which sets
    `core.fsmonitor = tools/x`: the start does not read what an included
    file runs, and the exit reads an included file only when it lies in a
    grant (on_pointer() returns before check_config_file()), so tools/x in
    the project is neither protected nor checked;
  - test_program_through_a_linked_directory[*] (every mode): `scripts ->
    tools` (a tracked link) and `core.fsmonitor = scripts/x`: the sandbox
    replaces the link `scripts` by a directory holding x -> /bin/sh and
    a script `2` at the top (fsmonitor runs `scripts/x 2 TOKEN`, so sh
    runs `2`); the start protected what the link led to, not the link,
    and the exit resolves scripts/x (realpath) to /bin/sh, outside the
    grants, and leaves the link the run made;
  - test_cd_read_otherwise[*] (every mode): `cd /ABS/tools && ./x` (an
    absolute cd is not followed: ./x taken at the top) and `(cd docs &&
    make) && ./publish.sh` (a subshell's cd kept after it ends:
    docs/publish.sh protected, the top's publish.sh run);
  - test_command_key_not_in_the_table[*] (every mode): tar.<format>.command
    (`git archive --format=F`, git-archive(1)) and imap.tunnel (`git
    imap-send`) run a shell command from the top; program_keys[] lacks
    them.
The idea of a `/dev/stderr` in a command (a link, which
gitscan_program_file() keeps) as a false alarm was tried: the command's
`echo >/dev/stderr` works as root; unprivileged it fails with no git
configuration at all (the harness's pipe is root's), so nothing is said.
Guards (pass): ordinary work in a project whose config has what common
tools write (git-lfs, git-crypt, delta, difftastic, gh and aws credential
helpers, ssh signing, nbstripout with a project virtualenv's python); a
program absent at start with its directory, made inside as a file or as
a link to /bin/sh; a program reached through a linked directory the
sandbox points at another directory of the project.
"""
import os

import pytest

from test_hostfiles_attacks import GIT_ENV, TOUCH, chown_tree, host
from test_round3_git_attacks import host_home, host_project, no_mark, sandbox, tried

# the host's program: says it ran (HOSTRAN), passes its input through
HOST_PROG = ('#!/bin/sh\ntouch "$HOME/HOSTRAN"\n'
             'test $# -eq 1 && test -f "$1" && cat "$1" || cat\nexit 0\n')
# the same for a command git talks to (a tunnel): it ends at once
HOST_QUIT = '#!/bin/sh\ntouch "$HOME/HOSTRAN"\nexit 0\n'
# the sandbox's: leaves MARK
EVIL = "#!/bin/sh\n%s\nexit 0\n" % TOUCH
# a script `2` at the top: what `sh 2 TOKEN` (fsmonitor's call of a
# program that is a link to sh) runs
SCRIPT_2 = "printf '%s\\n' > 2" % TOUCH


def put(box, rel, text, mode=0o755):
    p = os.path.join(box.work, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)
    os.chmod(p, mode)


def commit_all(box, home, cwd=None):
    chown_tree(box, box.work)
    h = host(box, ["sh", "-c", "git add -A && git commit -q --allow-empty -m tools"], home,
             cwd=cwd or box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr


def append_config(path, text):
    with open(path, "a") as f:
        f.write(text)


def control(box, home, op, cwd):
    """OP (sh) as the host in CWD runs the host's program."""
    ran_path = os.path.join(home, "HOSTRAN")
    h = host(box, ["sh", "-c", op], home, cwd=cwd, env=GIT_ENV)
    assert os.path.exists(ran_path), "control: %s ran no host program\n%s" % (
        op, h.stdout + h.stderr)
    os.unlink(ran_path)


def plant_then_run(box, home, op, cwd, script):
    r = sandbox(box, home, "(%s) && echo planted || echo refused" % script)
    tried(r)
    h = host(box, ["sh", "-c", op], home, cwd=cwd, env=GIT_ENV)
    return r, h


def rewrite(rel):
    return "printf '%s' > %s" % (EVIL.replace("\n", "\\n"), rel)


# ---- where git runs the commands from ----------------------------------


@pytest.mark.parametrize("layout", ["subdir", "bare-deploy"])
def test_program_under_core_worktree(box, layout):
    """Hole (every mode): `core.worktree` moves the top git runs a
    config's commands from.  "subdir": .git/config `core.worktree =
    ../app` (the project's git directory above the worktree it tracks)
    and `core.fsmonitor = tools/x`, the host's program app/tools/x, the
    host's `git status` in app; "bare-deploy": a bare repository site.git
    in the project with `core.worktree = ../site` (the push-to-deploy
    layout) and an alias `!tools/x`, run as `git --git-dir=../site.git x`
    in site.
    protect.c and gitscan.c take tools/x from the `.git`'s parent (the
    bare repository), never from core.worktree: app/tools/x (site/tools/x)
    is the sandbox's to rewrite and is not looked at when it has ended."""
    home = host_home(box)
    host_project(box, home)
    if layout == "subdir":
        put(box, "app/tools/x", HOST_PROG)
        put(box, "app/a", "a\n", 0o644)
        append_config(os.path.join(box.work, ".git", "config"),
                      "[core]\n\tworktree = ../app\n\tfsmonitor = tools/x\n")
        cwd, op, plant = os.path.join(box.work, "app"), "git status --short", "app/tools/x"
    else:
        h = host(box, ["sh", "-c", "git init -q --bare site.git && mkdir site && "
                       "git --git-dir=site.git config core.worktree ../site && "
                       "git --git-dir=site.git config core.bare false && "
                       "git --git-dir=site.git config alias.x '!tools/x'"], home,
                 cwd=box.work, env=GIT_ENV)
        assert h.returncode == 0, h.stdout + h.stderr
        put(box, "site/tools/x", HOST_PROG)
        cwd, op = os.path.join(box.work, "site"), "git --git-dir=../site.git x"
        plant = "site/tools/x"
    chown_tree(box, box.work)
    control(box, home, op, cwd)
    r, h = plant_then_run(box, home, op, cwd, rewrite(plant))
    no_mark(home, h, "the host's git ran the %s the sandbox wrote (core.worktree)\n%s"
            % (plant, r.stdout + r.stderr))


# ---- what the config reads -------------------------------------------


@pytest.mark.parametrize("how", ["absolute", "home"])
def test_program_named_by_an_include_outside_the_grant(box, how):
    """Hole (every mode): .git/config includes a file outside the write
    grants (a team's shared config by absolute path, or `~/team.gitconfig`
    in the host's home, not granted) that sets `core.fsmonitor = tools/x`,
    run from this worktree's top.  The start protects the included file
    but does not read what it runs (on_git_pointer() does not follow an
    include); the exit reads an included file only inside a grant, so the
    project's tools/x is neither protected nor checked."""
    home = host_home(box)
    host_project(box, home)
    put(box, "tools/x", HOST_PROG)
    commit_all(box, home)
    if how == "absolute":
        shared = box.path("team", "gitconfig")
        os.makedirs(os.path.dirname(shared))
        value = shared
    else:
        shared = os.path.join(home, "team.gitconfig")
        value = "~/team.gitconfig"
    with open(shared, "w") as f:
        f.write("[core]\n\tfsmonitor = tools/x\n")
    chown_tree(box, os.path.dirname(shared))
    append_config(os.path.join(box.work, ".git", "config"), "[include]\n\tpath = %s\n" % value)
    control(box, home, "git status --short", box.work)
    r, h = plant_then_run(box, home, "git status --short", box.work, rewrite("tools/x"))
    no_mark(home, h, "the host's git ran the tools/x the sandbox wrote (named by %s)\n%s"
            % (shared, r.stdout + r.stderr))


def test_guard_program_made_a_link_where_its_directory_was_absent(box):
    """Guard: `core.fsmonitor = bin/fsmon` (a program the project builds,
    absent at start with its directory); the sandbox makes bin/fsmon a
    link to /bin/sh and a script `2` at the top (git runs `bin/fsmon 2
    TOKEN` at the top, so sh would run `2`): bin is refused without
    namespaces, the link moved aside at once with them."""
    home = host_home(box)
    host_project(box, home)
    append_config(os.path.join(box.work, ".git", "config"), "[core]\n\tfsmonitor = bin/fsmon\n")
    # control: git runs what is there (the host's own build of it)
    put(box, "bin/fsmon", HOST_PROG)
    chown_tree(box, box.work)
    control(box, home, "git status --short", box.work)
    os.unlink(os.path.join(box.work, "bin", "fsmon"))
    os.rmdir(os.path.join(box.work, "bin"))
    r, h = plant_then_run(box, home, "git status --short", box.work,
                          "mkdir bin && ln -s /bin/sh bin/fsmon && " + SCRIPT_2)
    no_mark(home, h, "the host's git ran the link the sandbox made\n" + r.stdout + r.stderr)


def linked_scripts(box):
    """The host's project tracking `scripts -> tools` with its tools/x, and
    `core.fsmonitor = scripts/x`, shown to run (the control)."""
    home = host_home(box)
    host_project(box, home)
    put(box, "tools/x", HOST_PROG)
    os.symlink("tools", os.path.join(box.work, "scripts"))
    commit_all(box, home)
    append_config(os.path.join(box.work, ".git", "config"), "[core]\n\tfsmonitor = scripts/x\n")
    control(box, home, "git status --short", box.work)
    return home


def link_replaced(box, plant):
    """`scripts` replaced by a directory holding what PLANT makes at
    scripts/x; the host's git must not run it."""
    home = linked_scripts(box)
    r, h = plant_then_run(box, home, "git status --short", box.work,
                          "rm scripts && mkdir scripts && " + plant)
    no_mark(home, h, "the host's git ran scripts/x the sandbox made\n" + r.stdout + r.stderr)


def test_program_through_a_linked_directory(box):
    """Hole (every mode): `scripts -> tools` (a link the project tracks)
    and `core.fsmonitor = scripts/x`, the host's tools/x.  The sandbox
    replaces the link `scripts` by a directory holding x -> /bin/sh and a
    script `2` at the top.  The start protects what scripts/x led to
    (tools/x), not the link on the way (the sandbox may replace it); the
    exit resolved scripts/x to /bin/sh, outside the grants, and left it.
    It now judges the path as named."""
    link_replaced(box, "ln -s /bin/sh scripts/x && " + SCRIPT_2)


def test_guard_program_through_a_linked_directory_made_a_file(box):
    """Guard (it passed before the fix too): as above, scripts/x a script
    the sandbox wrote: the exit moves it aside, the start not having
    protected the link on the way."""
    link_replaced(box, rewrite("scripts/x") + " && chmod 755 scripts/x")


def test_guard_program_through_a_linked_directory_to_the_project(box):
    """Guard: as above, the link `scripts` pointed at another directory of
    the project holding the sandbox's x: moved aside at exit."""
    home = linked_scripts(box)
    r, h = plant_then_run(box, home, "git status --short", box.work,
                          "mkdir other && %s && chmod 755 other/x && rm scripts && "
                          "ln -s other scripts" % rewrite("other/x"))
    no_mark(home, h, "the host's git ran scripts/x the sandbox made\n" + r.stdout + r.stderr)


def test_guard_absent_program_in_an_absent_directory_made_a_file(box):
    """Guard: `core.fsmonitor = bin/fsmon`, no bin/ at start; the sandbox
    makes bin/fsmon a script: moved aside at exit."""
    home = host_home(box)
    host_project(box, home)
    append_config(os.path.join(box.work, ".git", "config"), "[core]\n\tfsmonitor = bin/fsmon\n")
    r, h = plant_then_run(box, home, "git status --short", box.work,
                          "mkdir bin && %s && chmod 755 bin/fsmon" % rewrite("bin/fsmon"))
    assert h.returncode == 0, h.stdout + h.stderr
    no_mark(home, h, "the host's git ran the bin/fsmon the sandbox made\n"
            + r.stdout + r.stderr)


# ---- the shell's reading -----------------------------------------------

CD_FORMS = {
    # (alias value, the host's program, what the sandbox rewrites)
    "absolute-cd": ("!cd %(top)s/tools && ./x", "tools/x"),
    "subshell-cd": ("!(cd docs && true) && ./publish.sh", "publish.sh"),
}


@pytest.mark.parametrize("form", sorted(CD_FORMS))
def test_cd_read_otherwise(box, form):
    """Hole (every mode): program_words() follows `cd DIR` only for a
    relative DIR (`cd /ABS/tools && ./x`: ./x taken at the top, where
    nothing is), and keeps a subshell's `cd` after the subshell ends
    (`(cd docs && make) && ./publish.sh`: docs/publish.sh protected, the
    top's publish.sh, which the shell runs, not)."""
    home = host_home(box)
    host_project(box, home)
    value, prog = CD_FORMS[form]
    put(box, prog, HOST_PROG)
    os.makedirs(os.path.join(box.work, "docs"), exist_ok=True)
    put(box, "docs/index", "x\n", 0o644)
    commit_all(box, home)
    append_config(os.path.join(box.work, ".git", "config"),
                  "[alias]\n\tgo = \"%s\"\n" % (value % {"top": box.work}))
    control(box, home, "git go", box.work)
    r, h = plant_then_run(box, home, "git go", box.work, rewrite(prog))
    no_mark(home, h, "the host's git go ran the %s the sandbox wrote\n%s"
            % (prog, r.stdout + r.stderr))


# ---- keys that run a command -------------------------------------------

MISSING_KEYS = {
    # key's config, the host's git command that runs it
    "tar.command": ("[tar \"tgz\"]\n\tcommand = tools/x\n",
                    "git archive --format=tgz HEAD > /dev/null"),
    "imap.tunnel": ("[imap]\n\tfolder = INBOX\n\ttunnel = tools/x\n",
                    "git format-patch -1 --stdout | git imap-send"),
}


@pytest.mark.parametrize("key", sorted(MISSING_KEYS))
def test_command_key_not_in_the_table(box, key):
    """Hole (every mode): keys whose value git runs through the shell at
    the worktree's top that program_keys[] lacks: tar.<format>.command
    (git-archive(1): `git archive --format=tgz`) and imap.tunnel (`git
    imap-send`)."""
    home = host_home(box)
    host_project(box, home)
    put(box, "tools/x", HOST_PROG)
    commit_all(box, home)
    cfg, op = MISSING_KEYS[key]
    if key == "imap.tunnel":
        put(box, "tools/x", HOST_QUIT)
    append_config(os.path.join(box.work, ".git", "config"), cfg)
    control(box, home, op, box.work)
    r, h = plant_then_run(box, home, op, box.work, rewrite("tools/x"))
    no_mark(home, h, "the host's %s ran the tools/x the sandbox wrote\n%s"
            % (op, r.stdout + r.stderr))


# ---- ordinary work -----------------------------------------------------

COMMON_CFG = """[core]
\tpager = delta
\thooksPath = .husky/_
[interactive]
\tdiffFilter = delta --color-only --features=interactive
[delta]
\tnavigate = true
[diff]
\ttool = difftastic
[difftool "difftastic"]
\tcmd = difft "$LOCAL" "$REMOTE"
[pager]
\tdifftool = true
[filter "lfs"]
\tclean = git-lfs clean -- %%f
\tsmudge = git-lfs smudge -- %%f
\tprocess = git-lfs filter-process
[filter "git-crypt"]
\tsmudge = \\"git-crypt\\" smudge
\tclean = \\"git-crypt\\" clean
[diff "git-crypt"]
\ttextconv = \\"git-crypt\\" diff
[credential "https://github.com"]
\thelper =
\thelper = !gh auth git-credential
[credential "https://git-codecommit.us-east-1.amazonaws.com"]
\thelper = !aws codecommit credential-helper $@
\tUseHttpPath = true
[gpg]
\tformat = ssh
[gpg "ssh"]
\tprogram = ssh-keygen
\tdefaultKeyCommand = ssh-add -L
[filter "nbstripout"]
\tclean = \\"%(top)s/.venv/bin/python3\\" -m nbstripout
\tsmudge = cat
[diff "ipynb"]
\ttextconv = \\"%(top)s/.venv/bin/python3\\" -m nbstripout -t
[alias]
\tst = status -sb
\tlg = log --graph --pretty=format:'%%h %%s'
\twho = !git config user.name && git config user.email
"""


def test_guard_ordinary_work_with_common_tool_configs(box):
    """Guard: a project whose config has what git-lfs, git-crypt, delta,
    difftastic, `gh auth setup-git`, aws codecommit, ssh signing,
    and `nbstripout --install` (with the project's .venv python)
    write: inside, files are made, edited and removed in new and old
    directories, a package goes into the .venv, and status, diff, add and
    commit work; nothing is moved aside."""
    home = host_home(box)
    host_project(box, home)
    put(box, "src/app.py", "print(1)\n", 0o644)
    put(box, ".venv/lib/site-packages/README", "x\n", 0o644)
    os.makedirs(os.path.join(box.work, ".venv", "bin"), exist_ok=True)
    os.symlink("/usr/bin/python3", os.path.join(box.work, ".venv", "bin", "python3"))
    put(box, ".gitignore", ".venv/\n", 0o644)
    commit_all(box, home)
    append_config(os.path.join(box.work, ".git", "config"), COMMON_CFG % {"top": box.work})
    r = sandbox(box, home,
                "echo 'print(2)' > src/app.py && mkdir -p src/new && echo y > src/new/b.py && "
                "rm src/new/b.py && echo z > src/c.py && mkdir -p .venv/lib/site-packages/pkg && "
                "echo v > .venv/lib/site-packages/pkg/__init__.py && "
                "git -c core.pager=cat st >/dev/null && git --no-pager diff >/dev/null && "
                "git add -A && git commit -qm work && echo ok")
    assert "ok" in r.stdout.split(), r.stdout + r.stderr
    assert "ringfence-blocked" not in r.stderr, r.stderr
