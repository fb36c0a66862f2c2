# SPDX-License-Identifier: MIT
"""A fourth outside round on what ad6355d added to README's promise ("What
the sandbox leaves behind"): the files of the project that a command in a
repository's config names (core.fsmonitor, a filter, a textconv, an alias
`!...`, `python3 -m MOD`, ...) are the host's code, protected at start and
checked at exit; the same for the host's own ~/.gitconfig.

Each attack: the host's project (or home) with such a configuration and the
host's own program, which the host's git is first shown to run (HOSTRAN:
the control that the configuration is obeyed); the sandbox then rewrites
the program (`planted`, or `refused` where the protection held) and the
host's same git command runs again, the sandbox's program leaving MARK.

Holes (FAIL on ad6355d):
  - test_config_git_reads_otherwise[*] (every mode): gitscan.c's hand
    reader and git's differ: a key on the section's own line (`[core]
    fsmonitor = tools/x`, which git takes), a key longer than 31
    characters (an alias `lint-everything-in-this-repository-now`: the key
    buffer cuts it and the line is passed over), a value continued on the
    next line (`tools/\\` newline `x`; SECURITY.md says so of the host's
    own configuration only);
  - test_command_word_read_otherwise[*] (every mode): program_words()
    reads words, not the shell: `cd tools && ./x` runs tools/x (the
    reader takes ./x at the top), `"$(git rev-parse --show-toplevel)/tools/x"`
    and `$PWD/tools/x` (a word starting with `$` is taken for a variable
    naming nothing; `)/tools/x` read as `/tools/x`), `sh <tools/x` (the
    word `<tools/x`);
  - test_python_module_read_otherwise[*] (every mode): `python3 -m
    tools.x` runs tools/x.py (only the top package, tools.py and
    tools/__init__.py, is protected, where README says the module's own
    file is), `python3 -mlinter` and `python3 -um linter` (options
    Python takes joined: the word starts with `-`, and is passed over);
  - test_command_key_not_in_the_table[*] (every mode): keys that name a
    command git runs and program_keys[] lacks: difftool.<tool>.path
    (`git difftool`), gpg.ssh.defaultKeyCommand (`git commit -S` with
    gpg.format = ssh), trailer.<token>.cmd (`git interpret-trailers`,
    `git commit --trailer`), man.<tool>.cmd (`git help -m`);
  - test_program_in_a_linked_worktree[*] (every mode): a linked worktree
    (`git worktree add wt`) shares the config; git runs its commands from
    that worktree's top, whose tools/x nothing protects or checks (the
    exit check reads the config at depth 0 against the main top only);
  - test_program_in_a_submodule[*] (every mode): a submodule's own config
    (.git/modules/lib/config: core.fsmonitor = tools/x) names lib/tools/x,
    neither protected at start nor checked at exit (check_gitdir() reads
    the pointers of a config at depth 0 only);
  - test_host_config_program_through_home_variable[*] (every mode): the
    host's ~/.gitconfig `alias.up = !$HOME/scripts/git-up` (the `~/`
    spelling is followed; `$HOME` is passed over as a variable), in a
    granted home.
False alarms on ordinary work (FAIL on ad6355d):
  - test_directory_word_keeps_its_directory_writable[*] (every mode): a
    project alias `!python3 -m pytest tests/` makes the whole `tests`
    directory read-only for the run (a word with a `/` taken as a file
    the command runs): the command can no longer add a test;
  - test_dev_null_in_a_command_stays_writable[*] (without namespaces,
    root and unprivileged; with them it passes): `2> /dev/null` in an
    alias, `ssh -F /dev/null`, a pager's `2> /dev/null`, in the project's
    config or the host's ~/.gitconfig, protect /dev/null: every `>
    /dev/null` inside fails, git's own too.
Guards (pass): a program absent at start and made inside (a file, or a
link to /bin/sh with a script `2` at the top that fsmonitor's `tools/x 2
TOKEN` would run), a program key set in a file the config includes, an
init.templateDir absent at start made inside, and ordinary work (status,
diff, add, commit) in a project whose config has an fsmonitor and a
`python3 -m json.tool` textconv.
"""
import os

import pytest

from test_hostfiles_attacks import (GIT_ENV, TOUCH, chown_tree, granted_home, host, in_home,
                                    ran)
from test_round3_git_attacks import host_home, host_project, no_mark, sandbox, tried

# the host's program: says it ran (HOSTRAN), passes its input through
HOST_PROG = ('#!/bin/sh\ntouch "$HOME/HOSTRAN"\n'
             'test $# -eq 1 && test -f "$1" && cat "$1" || cat\nexit 0\n')
HOST_PY = "import os; open(os.path.expanduser('~/HOSTRAN'), 'w').close()\n"
# the sandbox's: leaves MARK
EVIL = "#!/bin/sh\n%s\nexit 0\n" % TOUCH
EVIL_PY = 'import os; open(os.path.expanduser("~/MARK"), "w").close()\n'


def project_with(box, home, config, files):
    """The host's project (box.work): FILES (relative path: text, made
    executable) committed, CONFIG appended to .git/config as written."""
    host_project(box, home)
    for rel, text in files.items():
        p = os.path.join(box.work, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o755)
    chown_tree(box, box.work)
    h = host(box, ["sh", "-c", "git add -A && git commit -q --allow-empty -m tools"], home,
             cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    with open(os.path.join(box.work, ".git", "config"), "a") as f:
        f.write(config)


def control_then_plant(box, home, op, plant, cwd=None):
    """OP (sh) as the host in CWD runs the host's program (the control);
    the sandbox then rewrites PLANT; returns the run and OP's second run."""
    cwd = cwd or box.work
    ran_path = os.path.join(home, "HOSTRAN")
    h = host(box, ["sh", "-c", op], home, cwd=cwd, env=GIT_ENV)
    assert os.path.exists(ran_path), "control: %s ran no host program\n%s" % (
        op, h.stdout + h.stderr)
    os.unlink(ran_path)
    host(box, ["sh", "-c", "git checkout -q -- ."], home, cwd=cwd, env=GIT_ENV)
    evil = EVIL_PY if plant.endswith(".py") else EVIL
    r = sandbox(box, home, "printf '%s' > %s && echo planted || echo refused"
                % (evil.replace("\n", "\\n"), plant))
    tried(r)
    h = host(box, ["sh", "-c", op], home, cwd=cwd, env=GIT_ENV)
    return r, h


def attack(box, config, files, op, plant):
    home = host_home(box)
    project_with(box, home, config, files)
    r, h = control_then_plant(box, home, op, plant)
    no_mark(home, h, "the host's git ran the sandbox's %s\n%s" % (plant, r.stdout + r.stderr))


# ---- the config as git reads it ----------------------------------------

CONFIG_FORMS = {
    "key-on-section-line": "[core] fsmonitor = tools/x\n",
    "continued-value": "[core]\n\tfsmonitor = tools/\\\nx\n",
}


@pytest.mark.parametrize("form", sorted(CONFIG_FORMS) + ["long-key"])
def test_config_git_reads_otherwise(box, form):
    """Hole (every mode): git takes a key on its section's line (`[core]
    fsmonitor = tools/x`), a value continued by a backslash at a line's
    end, and keys of any length; gitscan_config_pointers() skips the rest
    of a section's line, passes over a continued value (program_value()
    returns false), and cuts a key at 31 characters, after which the line
    has no `=` where it looks.  tools/x stays writable and unchecked; the
    host's next status (fsmonitor) or alias runs the sandbox's."""
    if form == "long-key":
        alias = "lint-everything-in-this-repository-now"
        attack(box, "[alias]\n\t%s = !tools/x\n" % alias, {"tools/x": HOST_PROG},
               "git " + alias, "tools/x")
    else:
        attack(box, CONFIG_FORMS[form], {"tools/x": HOST_PROG}, "git status --short", "tools/x")


# ---- the command as the shell reads it ---------------------------------

COMMAND_FORMS = {
    "cd-then-run": ("[alias]\n\tlint = !cd tools && ./x\n", "git lint"),
    "toplevel-substitution": ("[alias]\n\tlint = !\"$(git rev-parse --show-toplevel)/tools/x\"\n",
                              "git lint"),
    "pwd-variable": ("[core]\n\tfsmonitor = $PWD/tools/x\n", "git status --short"),
    "redirected-input": ("[alias]\n\tlint = !sh <tools/x\n", "git lint"),
}


@pytest.mark.parametrize("form", sorted(COMMAND_FORMS))
def test_command_word_read_otherwise(box, form):
    """Hole (every mode): program_words() splits on blanks and takes a
    word with a `/` as a path from the top, passing over a word that
    starts with `$`; the shell that runs the command reads it otherwise:
    `cd tools && ./x` runs tools/x (the reader protects x at the top),
    `"$(git rev-parse --show-toplevel)/tools/x"` (read as `/tools/x`) and
    `$PWD/tools/x` (passed over) run the top's tools/x, and `sh <tools/x`
    (the word `<tools/x`) too.  The sandbox rewrites tools/x; the host's
    alias or status runs it."""
    config, op = COMMAND_FORMS[form]
    attack(box, config, {"tools/x": HOST_PROG}, op, "tools/x")


PYTHON_FORMS = {
    # config, files, plant
    "dotted-module": ("[alias]\n\tlint = !python3 -m tools.x\n",
                      {"tools/__init__.py": "", "tools/x.py": HOST_PY}, "tools/x.py"),
    "joined-option": ("[alias]\n\tlint = !python3 -mlinter\n", {"linter.py": HOST_PY},
                      "linter.py"),
    "grouped-options": ("[alias]\n\tlint = !python3 -um linter\n", {"linter.py": HOST_PY},
                        "linter.py"),
}


@pytest.mark.parametrize("form", sorted(PYTHON_FORMS))
def test_python_module_read_otherwise(box, form):
    """Hole (every mode): for `-m MOD` program_words() protects the top
    package only (MOD up to its first '.': tools.py, tools/__init__.py,
    tools/__main__.py), but `python3 -m tools.x` runs tools/x.py (README:
    "the module's MOD.py"); and it knows `-m` only as a word of its own,
    where Python takes `-mlinter` and `-um linter` as well.  The sandbox
    rewrites the module; the host's alias runs it."""
    config, files, plant = PYTHON_FORMS[form]
    attack(box, config, files, "git lint", plant)


# ---- keys that run a command and are not in the table ------------------

MISSING_KEYS = {
    "difftool-path": ("[diff]\n\ttool = vimdiff\n[difftool \"vimdiff\"]\n\tpath = tools/x\n",
                      "echo b > f && git difftool -y"),
    "gpg-ssh-defaultkeycommand": ("[gpg]\n\tformat = ssh\n"
                                  "[gpg \"ssh\"]\n\tdefaultKeyCommand = tools/x\n",
                                  "git commit -q -S --allow-empty -m s; true"),
    "trailer-cmd": ("[trailer \"t\"]\n\tcmd = tools/x\n",
                    "git interpret-trailers --trailer t=1 </dev/null"),
    "man-cmd": ("[man]\n\tviewer = rf\n[man \"rf\"]\n\tcmd = tools/x\n", "git help -m status; true"),
}


@pytest.mark.parametrize("key", sorted(MISSING_KEYS))
def test_command_key_not_in_the_table(box, key):
    """Hole (every mode): git-config(1) keys whose value git runs that
    program_keys[] does not list: difftool.<tool>.path (git difftool runs
    the tool from there), gpg.ssh.defaultKeyCommand (git commit -S with
    gpg.format = ssh and no signing key), trailer.<token>.cmd (git
    interpret-trailers, git commit --trailer), man.<tool>.cmd (git help
    -m).  (Also mergetool.<tool>.path, browser.<tool>.path,
    man.<tool>.path, sendemail.sendmailCmd and .toCmd/.ccCmd, not tried
    here.)  The project's tools/x they name stays writable."""
    config, op = MISSING_KEYS[key]
    attack(box, config, {"tools/x": HOST_PROG}, op, "tools/x")


# ---- other worktrees of the same configuration -------------------------


def test_program_in_a_linked_worktree(box):
    """Hole (every mode): `git worktree add wt` (a worktree in the
    project, as agents' tools lay them out) shares the main config's
    `core.fsmonitor = tools/x`; git runs it from the linked worktree's
    top, wt/tools/x, which nothing protects at start and the exit check
    (config pointers at depth 0, relative to the main top) never looks
    at.  The host's `git status` in wt runs the sandbox's."""
    home = host_home(box)
    project_with(box, home, "[core]\n\tfsmonitor = tools/x\n", {"tools/x": HOST_PROG})
    h = host(box, ["git", "worktree", "add", "-q", "wt"], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    chown_tree(box, box.work)
    r, h = control_then_plant(box, home, "git status --short", "wt/tools/x",
                              cwd=os.path.join(box.work, "wt"))
    no_mark(home, h, "the host's git ran the linked worktree's tools/x the sandbox wrote\n"
            + r.stdout + r.stderr)


def test_program_in_a_submodule(box):
    """Hole (every mode): a submodule's own config
    (.git/modules/lib/config) with `core.fsmonitor = tools/x` names
    lib/tools/x; protect.c does not read that config's commands and
    check_gitdir() reads config pointers at depth 0 only, so the sandbox's
    lib/tools/x stays and the host's `git status` in lib runs it."""
    home = host_home(box)
    h = host(box, ["sh", "-c", "git init -q -b main lib && cd lib && mkdir tools && "
                   "printf '%s' > tools/x && chmod 755 tools/x && git add -A && git commit -qm l"
                   % HOST_PROG.replace("\n", "\\n")], home, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    host_project(box, home, " && git -c protocol.file.allow=always submodule -q add %s/lib lib"
                 " && git commit -qm sub && git -C lib config core.fsmonitor tools/x" % home)
    r, h = control_then_plant(box, home, "git status --short", "lib/tools/x",
                              cwd=os.path.join(box.work, "lib"))
    no_mark(home, h, "the host's git ran the submodule's tools/x the sandbox wrote\n"
            + r.stdout + r.stderr)


# ---- the host's own configuration --------------------------------------


def test_host_config_program_through_home_variable(box):
    """Hole (every mode): the host's ~/.gitconfig `alias.up =
    !$HOME/scripts/git-up` (the shell expands it; the reader passes over
    a word starting with `$`, and follows `~/` only), in a granted home:
    the sandbox rewrites ~/scripts/git-up and the host's `git up` runs
    it."""
    home = granted_home(box)
    prog = os.path.join(home, "scripts", "git-up")
    os.makedirs(os.path.dirname(prog))
    with open(prog, "w") as f:
        f.write(HOST_PROG)
    os.chmod(prog, 0o755)
    with open(os.path.join(home, ".gitconfig"), "w") as f:
        f.write("[alias]\n\tup = !$HOME/scripts/git-up\n")
    chown_tree(box, home)
    h = host(box, ["sh", "-c", "git init -q p && cd p && git up"], home, env=GIT_ENV)
    assert os.path.exists(os.path.join(home, "HOSTRAN")), "control\n" + h.stdout + h.stderr
    r = in_home(box, home, "printf '%s' > ~/scripts/git-up && echo planted || echo refused"
                % EVIL.replace("\n", "\\n"))
    ran(r)
    tried(r)
    h = host(box, ["sh", "-c", "cd p && git up"], home, env=GIT_ENV)
    no_mark(home, h, "the host's git up ran the sandbox's ~/scripts/git-up\n"
            + r.stdout + r.stderr)


# ---- ordinary work -----------------------------------------------------


def test_directory_word_keeps_its_directory_writable(box):
    """False alarm (every mode): a project alias `!python3 -m pytest
    tests/` (a directory argument, as test and lint aliases have) makes
    `tests` a protected file (read-only with namespaces, refused without):
    the command cannot add a test there, nor commit it."""
    home = host_home(box)
    project_with(box, home, "[alias]\n\tt = !python3 -m pytest tests/\n",
                 {"tests/test_a.py": "def test_a(): pass\n"})
    r = sandbox(box, home, "echo 'def test_b(): pass' > tests/test_b.py && echo wrote; "
                "git add -A && git commit -qm b && echo committed")
    assert {"wrote", "committed"} <= set(r.stdout.split()), r.stdout + r.stderr
    assert "ringfence-blocked" not in r.stderr, r.stderr


DEV_NULL = {
    "alias": "[alias]\n\tbr = !git rev-parse --abbrev-ref HEAD 2> /dev/null\n",
    "sshcommand": "[core]\n\tsshCommand = ssh -F /dev/null\n",
    "pager": "[core]\n\tpager = less -R 2> /dev/null\n",
}


@pytest.mark.parametrize("where", ["project", "host"])
@pytest.mark.parametrize("cfg", sorted(DEV_NULL))
def test_dev_null_in_a_command_stays_writable(box, cfg, where):
    """False alarm (without namespaces, root and unprivileged): `/dev/null`
    as a word of a command (`2> /dev/null` in an alias or a pager, `ssh -F
    /dev/null`) in the project's config or the host's ~/.gitconfig is
    taken for a program file and protected: every `> /dev/null` inside
    is refused (EACCES), git's own open of it too, and `git status`
    fails.  With namespaces the read-only bind leaves a device writable."""
    if where == "project":
        home = host_home(box)
        project_with(box, home, DEV_NULL[cfg], {})
        r = sandbox(box, home, "echo hi > /dev/null && echo wrote; git status --short && "
                    "echo status")
        assert {"wrote", "status"} <= set(r.stdout.split()), r.stdout + r.stderr
    else:
        home = granted_home(box)
        with open(os.path.join(home, ".gitconfig"), "w") as f:
            f.write(DEV_NULL[cfg])
        chown_tree(box, home)
        r = in_home(box, home, "echo hi > /dev/null && echo wrote")
        assert "wrote" in r.stdout.split(), r.stdout + r.stderr


def test_guard_ordinary_work_with_config_commands(box):
    """Guard: status, diff, add and commit inside a project whose config
    has an fsmonitor (tools/x, protected) and a `python3 -m json.tool`
    textconv work, and nothing is moved aside at exit."""
    home = host_home(box)
    project_with(box, home, "[core]\n\tfsmonitor = tools/x\n[diff \"json\"]\n"
                 "\ttextconv = python3 -m json.tool\n",
                 {"tools/x": HOST_PROG, "a.json": "{}\n", ".gitattributes": "*.json diff=json\n"})
    r = sandbox(box, home, "echo '{\"a\": 1}' > a.json && echo y > g && git status --short && "
                "git diff | grep -q '\"a\": 1' && git add -A && git commit -qm work && echo ok")
    assert "ok" in r.stdout.split(), r.stdout + r.stderr
    assert "ringfence-blocked" not in r.stderr, r.stderr


def test_guard_host_lfs_filters(box):
    """Guard: the host's ~/.gitconfig as `git lfs install` writes it
    (filter.lfs.* = git-lfs ... %f, required) names no file: the command's
    git in the granted home and the project works."""
    home = granted_home(box)
    with open(os.path.join(home, ".gitconfig"), "w") as f:
        f.write("[filter \"lfs\"]\n\tclean = git-lfs clean -- %f\n"
                "\tsmudge = git-lfs smudge -- %f\n\tprocess = git-lfs filter-process\n"
                "\trequired = true\n")
    chown_tree(box, home)
    r = in_home(box, home, "cd ~ && git init -q p && cd p && echo a > a && git add a && "
                "git -c user.name=t -c user.email=t@x commit -qm a && echo ok > /dev/null "
                "&& echo ok")
    assert "ok" in r.stdout.split(), r.stdout + r.stderr
    assert "ringfence-blocked" not in r.stderr, r.stderr


# ---- guards: what held -------------------------------------------------


@pytest.mark.parametrize("how", ["file", "link-to-shell"])
def test_guard_absent_program_made_inside(box, how):
    """Guard: core.fsmonitor = tools/x with no tools/x at start; the
    sandbox makes it, a script or a link to /bin/sh with a script `2` at
    the top (fsmonitor runs `tools/x 2 TOKEN`): moved aside or refused."""
    home = host_home(box)
    project_with(box, home, "[core]\n\tfsmonitor = tools/x\n", {"tools/README": "x"})
    if how == "file":
        script = "printf '%s' > tools/x && chmod 755 tools/x" % EVIL.replace("\n", "\\n")
    else:
        script = "printf '%s\\n' > 2 && ln -s /bin/sh tools/x" % TOUCH
    r = sandbox(box, home, script + " && echo planted || echo refused")
    tried(r)
    h = host(box, ["git", "status", "--short"], home, cwd=box.work, env=GIT_ENV)
    # control: git went on with status (the fsmonitor failing or gone)
    assert h.returncode == 0, h.stdout + h.stderr
    no_mark(home, h, "the host's git ran the tools/x the sandbox made\n" + r.stdout + r.stderr)


def test_guard_program_key_in_an_included_file(box):
    """Guard: the project's .git/config includes ../.gitconfig (tracked),
    which sets core.fsmonitor = tools/x: rewritten inside, it is moved
    aside at exit."""
    attack(box, "[include]\n\tpath = ../.gitconfig\n",
           {"tools/x": HOST_PROG, ".gitconfig": "[core]\n\tfsmonitor = tools/x\n"},
           "git status --short", "tools/x")


def test_guard_template_directory_absent_at_start(box):
    """Guard: init.templateDir = ~/.git-templates in the host's
    ~/.gitconfig, no such directory at start; the sandbox makes it with a
    post-checkout hook: the host's next clone runs none."""
    home = granted_home(box)
    with open(os.path.join(home, ".gitconfig"), "w") as f:
        f.write("[init]\n\ttemplateDir = ~/.git-templates\n")
    chown_tree(box, home)
    h = host(box, ["sh", "-c", "git init -q -b main src && cd src && echo x > f && git add f && "
                   "git commit -qm init"], home, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    r = in_home(box, home, "mkdir -p ~/.git-templates/hooks && "
                "printf '#!/bin/sh\\n%s\\n' > ~/.git-templates/hooks/post-checkout && "
                "chmod 755 ~/.git-templates/hooks/post-checkout && echo planted || echo refused"
                % TOUCH)
    ran(r)
    tried(r)
    h = host(box, ["git", "clone", "-q", "src", "dst"], home, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    no_mark(home, h, "the host's clone ran the template's hook\n" + r.stdout + r.stderr)
