# SPDX-License-Identifier: MIT
"""A third outside round on README's promise ("What the sandbox leaves
behind"): nothing the sandbox writes makes the host's git run code later.

Each test plants from inside, then runs real git on the host as the same
user after the run (`git status`, `git clone`, `git diff`, `git fetch`,
`git submodule update`, a commit), with the planted command leaving MARK
in the host's home; and a positive control that the plant was made (the
command said `planted`) and that the host's git did reach what the plant
sits in (the host's own program ran, or git said why it would not).

Holes (FAIL on a351c8e):
  - test_bare_directory_whose_objects_and_refs_are_files[*] (every mode):
    git takes a directory as a git directory when it holds a valid HEAD
    and `objects` and `refs` it can access(2) with X_OK, which an
    executable regular file passes (setup.c, is_git_directory()); the
    walks (gitscan.c) take one only when `objects` and `refs` are
    directories or links.  So `sub/{HEAD,objects,refs,config}` with
    objects and refs plain files is never checked: its config (an
    fsmonitor, a worktree) stays, and the host's `git status` run in
    `sub` (an editor's, for a file there), or in a project without a
    `.git` at its top, runs it;
  - test_template_directory_in_a_granted_home[*] (every mode): the host's
    ~/.gitconfig `init.templateDir = ~/.git-templates` (git-secrets and
    ctags set-ups write it) names a directory that every later `git
    init`, `git clone` and `git submodule update` copies into the new
    repository's git directory: a post-checkout hook there runs at the
    end of the host's clone, a config there is the new repository's.
    protect.c follows the host configuration's core.hooksPath and
    includes, not init.templateDir;
  - test_filter_runs_a_python_module_from_the_project[*] (every mode):
    `nbstripout --install` writes `filter.nbstripout.clean = "python3" -m
    nbstripout` (and a textconv) into .git/config; git runs filters and
    textconv at the top of the worktree, and `python -m` puts the working
    directory first on sys.path, so the `nbstripout.py` the sandbox puts
    at the project's top runs at the host's next `git status` or `git
    diff` (the readline.py class, which protect.c lists by name);
  - test_command_the_projects_config_names_in_the_worktree[*] (every
    mode): a project's config naming a tracked script as a program
    (core.fsmonitor, a filter's clean, a textconv, an alias `!`, a merge
    driver): the script is the sandbox's to rewrite, as `.husky` would be
    under core.hooksPath, which protect.c does protect; these keys are
    not followed.
Guards (pass): a repository made inside with remote.NAME.uploadpack or
.receivepack (moved aside: not on the allow-list), an `ext::` remote url
and submodule url in such a repository (on the allow-list, but git itself
refuses the ext transport), a committed .gitmodules with `update =
!command` (a protected path's tracked content), the same bare directory
made with `objects` and `refs` directories (found and checked).
"""
import os

import pytest

from test_hostfiles_attacks import (GIT_ENV, INSIDE_GIT, TOUCH, chown_tree, granted_home, host,
                                    in_home, ran)


def host_home(box):
    home = box.path("hosthome")
    os.mkdir(home)
    chown_tree(box, home)
    return home


def host_project(box, home, extra=""):
    """The host's repository in the project (box.work), one commit; EXTRA
    (shell) in it after that, as the host."""
    chown_tree(box, box.work)
    h = host(box, ["sh", "-c", "git init -q -b main && echo x > f && git add f && "
                   "git commit -qm init" + extra], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    chown_tree(box, box.work)


def sandbox(box, home, script):
    """SCRIPT (sh) in the sandbox, started in the project (default.ini's
    write grant), HOME the host's home (not granted)."""
    return box.run(["sh", "-c", INSIDE_GIT + script], policy=box.policy(""),
                   env=dict(GIT_ENV, HOME=home))


def planted(r):
    assert "planted" in r.stdout.split(), r.stdout + r.stderr


def tried(r):
    """The plant was made, or its writing refused (the protection at work:
    the command ran either way)."""
    words = r.stdout.split()
    assert "planted" in words or "refused" in words, r.stdout + r.stderr


def no_mark(home, h, what):
    assert not os.path.exists(os.path.join(home, "MARK")), \
        "%s\n%s" % (what, h.stdout + h.stderr)


# ---- a git directory git finds and the walks do not --------------------

# A git directory made by hand in the directory the script is in: HEAD, a
# config with a worktree (the directory itself) and an fsmonitor, objects
# and refs made by OBJS (files or directories)
BARE_BY_HAND = (
    "echo 'ref: refs/heads/main' > HEAD && %s && "
    "printf '#!/bin/sh\\n" + TOUCH + "\\nexit 1\\n' > fsm.sh && chmod 755 fsm.sh && "
    "printf '[core]\\n\\trepositoryformatversion = 0\\n\\tworktree = %%s\\n"
    "\\tfsmonitor = %%s/fsm.sh\\n' \"$PWD\" \"$PWD\" > config && echo planted")
AS_FILES = "printf '#!/bin/sh\\n' > objects && cp objects refs && chmod 755 objects refs"
AS_DIRS = "mkdir objects refs"
# what git says where the plant is gone, or only its config: no
# repository, or one with no worktree
NOT_OBEYED = ("not a git repository", "must be run in a work tree")


@pytest.mark.parametrize("where", ["subdirectory", "top-without-git"])
def test_bare_directory_whose_objects_and_refs_are_files(box, where):
    """Hole (every mode): git's own test of a git directory
    (is_git_directory(): a valid HEAD, access(objects, X_OK),
    access(refs, X_OK)) takes an executable regular file for objects and
    refs; gitscan.c's has_entry() wants a directory or a link.  A
    directory holding HEAD, config, and objects and refs as such files is
    a repository to the host's git started in it (discovery tests the
    directory itself after `.git`), and its config's core.worktree and
    core.fsmonitor are obeyed: `git status` there runs the fsmonitor.  In
    a subdirectory of a project, or at the top of a project with no
    `.git` (the placeholder with namespaces is empty, and git goes on to
    the directory itself)."""
    home = host_home(box)
    if where == "subdirectory":
        host_project(box, home)
        r = sandbox(box, home, "mkdir sub && cd sub && " + BARE_BY_HAND % AS_FILES)
        cwd = os.path.join(box.work, "sub")
    else:
        chown_tree(box, box.work)
        r = sandbox(box, home, BARE_BY_HAND % AS_FILES)
        cwd = box.work
    planted(r)
    h = host(box, ["git", "status", "--short"], home, cwd=cwd, env=GIT_ENV)
    # control: the host's git took the directory as a repository, or
    # found none there or a bare one (the plant, or its config, moved aside)
    assert h.returncode == 0 or any(x in h.stderr for x in NOT_OBEYED), h.stdout + h.stderr
    no_mark(home, h, "the host's git status ran the fsmonitor of a git directory made by hand")


def test_guard_bare_directory_made_with_directories(box):
    """Guard: the same, objects and refs directories: the walk at the end
    finds it (a bare repository by any name) and moves its config
    aside."""
    home = host_home(box)
    host_project(box, home)
    r = sandbox(box, home, "mkdir sub && cd sub && " + BARE_BY_HAND % AS_DIRS)
    planted(r)
    h = host(box, ["git", "status", "--short"], home, cwd=os.path.join(box.work, "sub"),
             env=GIT_ENV)
    assert h.returncode == 0 or any(x in h.stderr for x in NOT_OBEYED), h.stdout + h.stderr
    no_mark(home, h, "the host's git status ran the fsmonitor of a bare repository")
    # control: it was seen as one, its config moved aside
    assert "sub" in r.stderr and "config" in r.stderr, r.stderr


# ---- the host's init.templateDir ---------------------------------------

TEMPLATE_PLANTS = {
    # git clone runs the new repository's post-checkout at its end
    "hook": ("mkdir -p ~/.git-templates/hooks && "
             "printf '#!/bin/sh\\n%s\\n' > ~/.git-templates/hooks/post-checkout && "
             "chmod 755 ~/.git-templates/hooks/post-checkout && echo planted || echo refused"
             % TOUCH),
    # the new repository's config is the template's: status runs its fsmonitor
    "config": ("printf '#!/bin/sh\\n%s\\nexit 1\\n' > ~/fsm.sh && chmod 755 ~/fsm.sh && "
               "printf '[core]\\n\\tfsmonitor = %%s/fsm.sh\\n' \"$HOME\" "
               "> ~/.git-templates/config && echo planted || echo refused" % TOUCH),
}


@pytest.mark.parametrize("plant", sorted(TEMPLATE_PLANTS))
@pytest.mark.parametrize("op", ["clone", "submodule"])
def test_template_directory_in_a_granted_home(box, plant, op):
    """Hole (every mode): `init.templateDir = ~/.git-templates` in the
    host's ~/.gitconfig (protected) names a directory in the granted home
    that is not: git copies it into every repository the host makes
    after the run (`git clone`, `git init`, `git submodule update`'s
    clone), hooks and config alike.  A post-checkout hook there runs at
    the end of the clone; a config there gives the clone an fsmonitor
    that its first `git status` runs."""
    home = granted_home(box)
    with open(os.path.join(home, ".gitconfig"), "w") as f:
        f.write("[init]\n\ttemplateDir = ~/.git-templates\n"
                "[protocol \"file\"]\n\tallow = always\n")
    # the host's own template: a file the control looks for in each clone
    os.makedirs(os.path.join(home, ".git-templates", "info"))
    with open(os.path.join(home, ".git-templates", "info", "exclude"), "w") as f:
        f.write("# the host's template\n")
    chown_tree(box, home)
    h = host(box, ["sh", "-c", "git init -q -b main src && cd src && echo x > f && git add f && "
                   "git commit -qm init && git init -q -b main ../sup && cd ../sup && "
                   "git submodule -q add ../src lib && git commit -qm sub"],
             home, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    r = in_home(box, home, TEMPLATE_PLANTS[plant])
    ran(r)
    tried(r)
    if op == "clone":
        h = host(box, ["sh", "-c", "git clone -q src dst && cd dst && git status --short"],
                 home, env=GIT_ENV)
        gitdir = os.path.join(home, "dst", ".git")
    else:
        h = host(box, ["sh", "-c", "git clone -q sup sup2 && cd sup2 && "
                       "git submodule -q update --init && cd lib && git status --short"],
                 home, env=GIT_ENV)
        gitdir = os.path.join(home, "sup2", ".git", "modules", "lib")
    assert h.returncode == 0, h.stdout + h.stderr
    # control: the new repository was made from the host's template
    assert os.path.exists(os.path.join(gitdir, "info", "exclude")), os.listdir(gitdir)
    no_mark(home, h, "the host's git ran what the sandbox put in its template directory")


# ---- programs the host's configuration runs in the worktree ------------

NB_MODULE = "open(__import__('os').path.expanduser('~/MARK'), 'w').close()\n"


@pytest.mark.parametrize("op", ["git status --short", "git diff", "git add -A"])
def test_filter_runs_a_python_module_from_the_project(box, op):
    """Hole (every mode): what `nbstripout --install` writes into the
    project's .git/config (a filter and a textconv running `python3 -m
    nbstripout`) and .git/info/attributes (`*.ipynb filter=nbstripout
    diff=ipynb`).  git runs both at the top of the worktree, and `python
    -m` puts the working directory first on sys.path: the sandbox's
    nbstripout.py at the project's top runs at the host's next git
    status (a changed notebook's clean), diff (its textconv) or add."""
    home = host_home(box)
    host_project(box, home,
                 " && git config filter.nbstripout.clean '\"/usr/bin/python3\" -m nbstripout' && "
                 "git config filter.nbstripout.smudge cat && "
                 "git config diff.ipynb.textconv '\"/usr/bin/python3\" -m nbstripout -t' && "
                 "mkdir -p .git/info && "
                 "echo '*.ipynb filter=nbstripout diff=ipynb' > .git/info/attributes && "
                 "echo '{\"a\": 1}' > a.ipynb && git -c filter.nbstripout.clean=cat add a.ipynb && "
                 "git commit -qm notebook")
    r = sandbox(box, home, "echo '{\"a\": 2}' > a.ipynb && printf \"%s\" > nbstripout.py "
                "&& echo planted || echo refused" % NB_MODULE)
    tried(r)
    h = host(box, ["sh", "-c", op], home, cwd=box.work, env=GIT_ENV)
    # control: git ran the filter (it failed where the module is not there)
    assert os.path.exists(os.path.join(home, "MARK")) or "nbstripout" in h.stderr, \
        h.stdout + h.stderr
    no_mark(home, h, "the host's git ran the sandbox's nbstripout.py through its filter")


# each: the host's configuration (git config arguments), what the host runs,
# and what is tracked besides tools/x (the program the configuration names)
WORKTREE_PROGRAMS = {
    "fsmonitor": (["core.fsmonitor", "tools/x"], "git status --short", ""),
    "filter": (["filter.t.clean", "tools/x"], "echo b > a.t && git status --short",
               "echo '*.t filter=t' > .gitattributes && echo a > a.t && "),
    "textconv": (["diff.t.textconv", "tools/x"], "echo b > a.t && git diff",
                 "echo '*.t diff=t' > .gitattributes && echo a > a.t && "),
    "alias": (["alias.lint", "!tools/x"], "git lint", ""),
    "merge-driver": (["merge.t.driver", "tools/x %O %A %B"],
                     "git merge -q --no-edit other",
                     "echo '*.t merge=t' > .gitattributes && echo a > a.t && "),
}


@pytest.mark.parametrize("key", sorted(WORKTREE_PROGRAMS))
def test_command_the_projects_config_names_in_the_worktree(box, key):
    """Hole (every mode): the project's config names a tracked script as
    a program (`git config core.fsmonitor tools/x`, a filter's clean, a
    textconv, an alias `!tools/x`, a merge driver): git runs it from the
    top of the worktree.  protect.c protects the directory
    core.hooksPath names (`.husky`) for this very reason, but no other
    key's program: the sandbox rewrites tools/x, and the host's next git
    command that runs it runs the sandbox's.  Control: before the run
    the host's own tools/x ran (HOSTRAN) in the same command."""
    cfg, op, extra = WORKTREE_PROGRAMS[key]
    home = host_home(box)
    other = ""
    if key == "merge-driver":
        # a branch whose a.t differs from main's: the merge calls the driver
        other = (" && git checkout -qb other && echo b > a.t && git commit -qam b && "
                 "git checkout -q main && echo c > a.t && git commit -qam c")
    host_project(box, home,
                 " && mkdir tools && printf '#!/bin/sh\\ntouch \"$HOME/HOSTRAN\"\\n"
                 "test $# -eq 1 && cat \"$1\" || cat\\nexit 0\\n' > tools/x && "
                 "chmod 755 tools/x && %sgit add -A && git commit -qm tools && "
                 "git config %s '%s'%s" % (extra, cfg[0], cfg[1], other))
    # control: the host's git runs the host's tools/x
    ran_path = os.path.join(home, "HOSTRAN")
    h = host(box, ["sh", "-c", op], home, cwd=box.work, env=GIT_ENV)
    assert os.path.exists(ran_path), "control: %s ran no tools/x\n%s" % (op, h.stdout + h.stderr)
    os.unlink(ran_path)
    if key == "merge-driver":
        h = host(box, ["git", "reset", "-q", "--hard", "main@{1}"], home, cwd=box.work,
                 env=GIT_ENV)
        assert h.returncode == 0, h.stderr
    else:
        host(box, ["git", "checkout", "-q", "--", "."], home, cwd=box.work, env=GIT_ENV)
    r = sandbox(box, home, "printf '#!/bin/sh\\n%s\\nexit 0\\n' > tools/x && echo planted "
                "|| echo refused" % TOUCH)
    tried(r)
    h = host(box, ["sh", "-c", op], home, cwd=box.work, env=GIT_ENV)
    no_mark(home, h, "the host's git ran the tools/x its config names, as the sandbox wrote it")


# ---- guards: what a repository made inside may say ---------------------


@pytest.mark.parametrize("key,op", [("uploadpack", "git fetch -q origin"),
                                    ("receivepack", "git push -q origin main:other")])
def test_guard_new_repository_with_a_pack_program_of_its_own(box, key, op):
    """Guard: remote.NAME.uploadpack (receivepack) is the command git runs
    for a local remote, through the shell; not on the allow-list of a
    repository made during the run, so its config is moved aside."""
    home = host_home(box)
    host_project(box, home)
    r = sandbox(box, home,
                "git init -q -b main sub && cd sub && echo y > g && git add g && "
                "git commit -qm s && git remote add origin \"$PWD/..\" && "
                "git config remote.origin.%s 'touch \"$HOME/MARK\"; git-%s-pack' && "
                "echo planted" % (key, "upload" if key == "uploadpack" else "receive"))
    planted(r)
    h = host(box, ["sh", "-c", op], home, cwd=os.path.join(box.work, "sub"), env=GIT_ENV)
    no_mark(home, h, "the host's git ran the sandbox's %s" % key)
    # control: the config said so, and was taken away
    assert "sub/.git" in r.stderr and "config" in r.stderr, r.stderr


@pytest.mark.parametrize("how", ["remote", "submodule"])
def test_guard_ext_url_in_a_new_repository(box, how):
    """Guard: remote.NAME.url and submodule.NAME.url are on the allow-list
    of a repository made during the run; an `ext::` url runs a command,
    and git refuses that transport unless protocol.ext.allow says
    otherwise (the host's configuration, protected)."""
    home = host_home(box)
    host_project(box, home)
    url = "ext::sh -c touch% $HOME/MARK"
    if how == "remote":
        script = "git remote add origin '%s'" % url
        op = "git fetch -q origin"
    else:
        # .gitmodules staged only (the name is moved aside in a worktree):
        # git reads it from the index when the worktree has none
        script = ("m=$(printf '[submodule \"lib\"]\\n\\tpath = lib\\n\\turl = ../x\\n' "
                  "| git hash-object -w --stdin) && "
                  "git update-index --add --cacheinfo 100644,$m,.gitmodules && "
                  "git update-index --add --cacheinfo 160000,$(git rev-parse HEAD),lib && "
                  "git commit -qm lib && git config submodule.lib.url '%s' && "
                  "git config submodule.lib.active true" % url)
        op = "git submodule -q update --init"
    r = sandbox(box, home, "git init -q -b main sub && cd sub && echo y > g && git add g && "
                "git commit -qm s && %s && echo planted" % script)
    planted(r)
    h = host(box, ["sh", "-c", op], home, cwd=os.path.join(box.work, "sub"), env=GIT_ENV)
    no_mark(home, h, "the host's git ran an ext:: url the sandbox set")
    # control: git reached the url and refused its transport
    assert "'ext' not allowed" in h.stderr, h.stdout + h.stderr


def test_guard_submodule_update_command_committed(box):
    """Guard: a .gitmodules committed inside with `update = !command` and
    an ext:: url: .gitmodules is a protected path, so the commit is set
    back; git would refuse both anyway."""
    home = host_home(box)
    host_project(box, home)
    sub = os.path.join(box.path("hosthome"), "lib")
    h = host(box, ["sh", "-c", "git init -q -b main lib && cd lib && echo l > l && git add l && "
                   "git commit -qm l"], home, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    lib_head = host(box, ["git", "rev-parse", "HEAD"], home, cwd=sub).stdout.strip()
    gm = ("[submodule \\\"lib\\\"]\\n\\tpath = lib\\n\\turl = %s\\n"
          "\\tupdate = !touch \\\"$HOME/MARK\\\"\\n" % sub)
    r = sandbox(box, home,
                "b=$(printf \"%s\" | git hash-object -w --stdin) && "
                "git update-index --add --cacheinfo 100644,$b,.gitmodules && "
                "git update-index --add --cacheinfo 160000,%s,lib && git commit -qm sub && "
                "git show HEAD:.gitmodules | grep -q update && echo planted" % (gm, lib_head))
    planted(r)
    h = host(box, ["sh", "-c", "git checkout -q -- . ; git -c protocol.file.allow=always "
                   "submodule update --init"], home, cwd=box.work, env=GIT_ENV)
    no_mark(home, h, "the host's submodule update ran the sandbox's update command")
