# SPDX-License-Identifier: MIT
"""A protected hook's tracked content in the other repositories of a write
grant, past what test_nested_repo_attacks.py covers: the repositories the
start's walk (protect.c, discover_in()) finds are checked at the end
(githeads.c) as the grants that are ones; these tests look for the host's
repositories that the check does not reach, and for ways to move a found
one out from under it.

Each test plants from inside (an index entry, a commit, a ref: no worktree
file, the protected ones being read-only), then the host runs what a user
runs in that repository (`git checkout -- .`, `git reset --hard`, `git
pull`) and a commit, which runs .husky/pre-commit (core.hooksPath = .husky).
The host's own hook leaves HOSTRAN: the control that the host's commit ran
its hook, so that no test passes because the commit ran none.

Holes (FAIL on d9af825; every mode of the box fixture unless said):
  - test_repo_nested_in_a_found_repo: a repository inside one the walk
    found, two levels below the grant: the walk does not enter a
    repository it found, so it is never checked;
  - test_repo_the_walk_does_not_find[*]: three levels down (ghq's and Go's
    `HOST/ORG/REPO` layout), below a directory whose name starts with '.',
    inside node_modules (README and SECURITY.md name these as limits);
  - test_repo_past_the_walks_budget: a grant on ~/src with more than 47
    directories of projects: the budget of 48 listings ends the walk, the
    rest are not checked (a limit SECURITY.md names);
  - test_repo_whose_git_is_a_gitdir_file: `.git` a `gitdir:` file to a
    git directory elsewhere in the grant: only a `.git` directory is
    taken (README: "their .git a directory");
  - test_branch_of_a_local_bare_remote: a bare repository in the grant
    (`origin.git`, the remote of a project beside it) is never checked: a
    branch moved there reaches the host's worktree by `git pull`;
  - test_included_config_tracked_in_the_repository[*]: the file a
    repository's config includes (`include.path = ../.gitconfig`, a
    project's shared config, tracked) is no protected path of the tracked
    content check: staged with a core.fsmonitor, the host's `git checkout
    -- .` writes it and its next git command runs it (in the grant's
    repository too);
  - test_hooks_path_in_another_repository[*]: core.hooksPath naming a
    directory of another repository in the grant (`../tools/hooks`, or
    absolute): that repository's check does not take it as protected;
  - test_packed_refs_rewritten_in_place[*]: packed-refs rewritten in its
    own inode, so the copy held from the start reads as the sandbox's and
    no line is judged (all modes but namespaces with the grant the
    repository, where the view's packed-refs is a copy);
  - test_parent_of_the_hooks_path_staged_as_a_link[*]: a directory above
    a protected path (scripts/ of core.hooksPath = scripts/hooks) staged
    as a symbolic link: no entry lies at the protected path, and the
    host's checkout replaces the directory by the link (in the grant's
    repository too);
  - test_replace_ref_repair_leaves_head_replaced: not a hook run, the
    repository's integrity: a replace ref of HEAD's commit is "set back"
    to HEAD~1 rather than removed, and HEAD then reads as its parent.
Guards (pass): renaming the nested repository or its .git (pinned, or
refused by the file gate), `.git` a link to a git directory (protected
through it), a linked worktree's index and branch, a submodule's git
directory of a found repository, a replace ref's hook, a non-bare local
remote the walk found.
"""
import os
import re

import pytest

from test_gitobjects_attacks import REFUSED
from test_hostfiles_attacks import GIT_ENV, HOOK, INSIDE_GIT, TOUCH, chown_tree, host

# what the host's own hook does: the control that the host's commit ran it
HOST_HOOK = 'touch "$HOME/HOSTRAN"'

# staged in the repository the script is in: the sandbox's hook at
# .husky/pre-commit, read back from the index (the plant was made)
STAGE = ("b=$(%s) && git update-index --cacheinfo 100755,$b,.husky/pre-commit && "
         "test \"$(git cat-file -p :.husky/pre-commit | tail -1)\" = '%s' && echo planted"
         % (HOOK, TOUCH))


def host_home(box):
    home = box.path("hosthome")
    os.mkdir(home)
    chown_tree(box, home)
    return home


def husky_repo(box, home, path, init="", extra=""):
    """The host's repository at PATH (beneath the grant, or absolute): its
    .husky/pre-commit (which leaves HOSTRAN) a hook core.hooksPath runs,
    two commits on `main`; INIT more options of git init, EXTRA (shell)
    after that."""
    repo = path if os.path.isabs(path) else os.path.join(box.work, path)
    os.makedirs(repo, exist_ok=True)
    chown_tree(box, box.work)
    chown_tree(box, repo)
    h = host(box, ["sh", "-c",
                   "git init -q -b main %s && mkdir .husky && "
                   "printf '#!/bin/sh\\n%s\\n' > .husky/pre-commit && "
                   "chmod 755 .husky/pre-commit && git config core.hooksPath .husky && "
                   "echo x > f && git add -A && git commit -qnm init && echo x2 > f && "
                   "git commit -qnam base%s" % (init, HOST_HOOK, extra)],
             home, cwd=repo, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    return repo


def sandbox(box, home, script):
    """SCRIPT (sh) run by the sandbox, started in the write grant (the
    default policy's: the working directory)."""
    return box.run(["sh", "-c", INSIDE_GIT + script], policy=box.policy(""),
                   env=dict(GIT_ENV, HOME=home))


def planted(r, n=1):
    assert r.stdout.split().count("planted") >= n, r.stdout + r.stderr


def host_commits(box, home, repo, op, op_cwd=None):
    """The host's OP (in OP_CWD, else REPO), then a commit in REPO, which
    runs its pre-commit hook: the sandbox's leaves MARK, the host's
    HOSTRAN.  OP may be refused by git for what ringfence took away, and
    only so."""
    mark, ran = os.path.join(home, "MARK"), os.path.join(home, "HOSTRAN")
    assert not os.path.exists(mark)
    if os.path.exists(ran):
        os.unlink(ran)
    h = host(box, ["sh", "-c", op], home, cwd=op_cwd or repo, env=GIT_ENV)
    assert h.returncode == 0 or any(x in h.stderr for x in REFUSED), h.stdout + h.stderr
    c = host(box, ["sh", "-c", "echo y >> f && git add f && git commit -qm next"], home,
             cwd=repo, env=GIT_ENV)
    assert not os.path.exists(mark), \
        "the host's git ran what the sandbox planted (%s)" % (h.stdout + h.stderr)
    assert c.returncode == 0, c.stdout + c.stderr
    assert os.path.exists(ran), "control: the host's commit ran its own hook"


# ---- repositories the end's check does not reach -----------------------


def test_repo_nested_in_a_found_repo(box):
    """Hole: a grant on ~/src whose project `app` (found, checked) holds a
    repository of its own, `app/lib` (a vendored checkout, untracked by
    app): two levels below the grant, as far as README says the walk
    looks, but the walk does not enter a repository it found ("what a
    repository holds is its own").  Its staged hook is written by the
    host's `git checkout -- .` there."""
    home = host_home(box)
    husky_repo(box, home, "app", extra=" && echo /lib/ > .gitignore && git add .gitignore && "
               "git commit -qnm ignore")
    lib = husky_repo(box, home, "app/lib")
    planted(sandbox(box, home, "cd app/lib && " + STAGE))
    host_commits(box, home, lib, "git checkout -- .")


# below the grant, where the walk at start does not look
UNFOUND = {
    # ghq's and Go's layout (HOST/ORG/REPO): three levels down
    "three-levels": "github.com/org/app",
    # a directory whose name starts with '.'
    "dot-dir": ".attic/app",
    # a package directory
    "node-modules": "node_modules/app",
}


# where the walk at start still does not look: said at the end, not checked
SAID_ONLY = {"dot-dir", "node-modules"}
LIMIT = ("a known limit (SECURITY.md): a repository the walk at start does not find has its "
         "index and refs said, not checked")


@pytest.mark.parametrize("where", sorted(UNFOUND))
def test_repo_the_walk_does_not_find(box, where, request):
    """Hole: a repository of the host's in the grant where the walk at
    start did not look had no check of its index at the end; the host's
    `git checkout -- .` there writes the sandbox's staged hook.  Three
    levels down it is found now; below a name starting with '.' or
    node_modules it is not (a limit: said, test_changes_in_an_unfound_
    repository_are_said)."""
    if where in SAID_ONLY:
        request.applymarker(pytest.mark.xfail(strict=True, reason=LIMIT))
    home = host_home(box)
    repo = husky_repo(box, home, UNFOUND[where])
    planted(sandbox(box, home, "cd '%s' && %s" % (repo, STAGE)))
    host_commits(box, home, repo, "git checkout -- .")


@pytest.mark.xfail(strict=True, reason=LIMIT)
def test_repo_past_the_walks_budget(box):
    """Hole (a limit SECURITY.md names): a grant on ~/src holding its
    projects in 52 directories (one an organisation): the walk at start
    lists 48 directories, the grant and 47 of them, and the repositories
    in the rest are not checked.  The sandbox finds them (their .git/info
    writable, where a found one's is read-only) and stages its hook in
    each; the host's `git checkout -- .` in one writes it."""
    home = host_home(box)
    husky_repo(box, home, "org00/app")
    h = host(box, ["sh", "-c", "for i in $(seq -w 1 51); do mkdir org$i && "
                   "cp -a org00/app org$i/ || exit 1; done"], home, cwd=box.work)
    assert h.returncode == 0, h.stderr
    r = sandbox(box, home,
                "n=0; for d in org*/app; do if touch $d/.git/info/rf 2>/dev/null; then "
                "rm $d/.git/info/rf; n=$((n+1)); [ $n = 1 ] && (cd $d && %s) && echo $d; fi; "
                "done; echo open=$n" % STAGE)
    planted(r)
    found = re.findall(r"^(org\d+/app)$", r.stdout, re.M)
    # the control that the walk did find most: 52 repositories, 47 found
    assert len(found) == 1 and "open=5" in r.stdout.split(), r.stdout
    host_commits(box, home, os.path.join(box.work, found[0]), "git checkout -- .")


@pytest.mark.parametrize("where", sorted(SAID_ONLY) + ["past-the-budget"])
def test_changes_in_an_unfound_repository_are_said(box, where):
    """What the walk at start does not find (a directory whose name starts
    with '.', node_modules, past its budget of 48 listings) is not
    checked; a change the run made to such a repository's index or refs
    is said at the end, naming it, with a protect.unchecked event.
    Silent on 2659dfb.  Control: a repository the run made itself (all
    of it the sandbox's) is not named."""
    home = host_home(box)
    if where == "past-the-budget":
        husky_repo(box, home, "org00/app")
        h = host(box, ["sh", "-c", "for i in $(seq -w 1 51); do mkdir org$i && "
                       "cp -a org00/app org$i/ || exit 1; done"], home, cwd=box.work)
        assert h.returncode == 0, h.stderr
        # the last listed (in the order the grant's listing gives them)
        # are past the budget: the sandbox finds them by their writable
        # .git/info, as test_repo_past_the_walks_budget does
        script = ("for d in org*/app; do if touch $d/.git/info/rf 2>/dev/null; then "
                  "rm $d/.git/info/rf; (cd $d && %s) && echo $d && break; fi; done" % STAGE)
    else:
        repo = husky_repo(box, home, UNFOUND[where])
        script = "cd '%s' && %s && echo %s" % (repo, STAGE, UNFOUND[where])
    r = sandbox(box, home, script + " && cd '%s' && git init -q made && cd made && "
                "echo x > f && git add f && git commit -qm made" % box.work)
    planted(r)
    rel = r.stdout.split()[-1]
    said = [l for l in r.stderr.splitlines() if "the start did not find" in l]
    assert said and all(os.path.join(box.work, rel) in l for l in said), r.stderr
    assert os.path.join(box.work, "made") not in r.stderr, r.stderr


def test_repo_whose_git_is_a_gitdir_file(box):
    """Hole: `app/.git` a `gitdir:` file (`git init --separate-git-dir`,
    as yadm and vcsh keep theirs) naming a git directory at the top of the
    grant (`app-git`, not named NAME.git: the walk at start takes it for
    no repository): the walk finds `app` and keeps its top's names
    read-only, but only a `.git` directory is held and checked at the end
    (README says "their .git a directory").  The host's `git checkout --
    .` writes the staged hook."""
    home = host_home(box)
    repo = husky_repo(box, home, "app",
                      init="--separate-git-dir=%s" % os.path.join(box.work, "app-git"))
    assert os.path.isfile(os.path.join(repo, ".git"))
    planted(sandbox(box, home, "cd app && " + STAGE))
    host_commits(box, home, repo, "git checkout -- .")


def test_guard_repo_whose_git_is_a_link(box):
    """Guard: `app/.git` a symbolic link (as Android's repo tool makes
    them) to a git directory at the top of the grant: protecting app/.git
    and what is beneath it protects the directory the link names, so the
    sandbox's git cannot write its objects or index there.  Control: the
    command ran and its git was refused."""
    home = host_home(box)
    gitdir = os.path.join(box.work, "app-git")
    repo = husky_repo(box, home, "app", extra=" && mv .git %s && ln -s %s .git" % (gitdir, gitdir))
    r = sandbox(box, home, "echo ran; cd app && " + STAGE)
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    assert "Read-only file system" in r.stderr or "insufficient permission" in r.stderr, \
        r.stdout + r.stderr
    host_commits(box, home, repo, "git checkout -- .")


def test_branch_of_a_local_bare_remote(box):
    """Hole: a bare repository in the grant (`origin.git`, found by the
    walk at start, its hooks and config read-only), the remote of the
    project `app` beside it.  Its refs are never checked: the sandbox
    commits its hook on origin's `main` (in origin.git alone: app is not
    touched), and the host's `git pull` in app writes it."""
    home = host_home(box)
    repo = husky_repo(box, home, "app")
    h = host(box, ["sh", "-c", "git clone -q --bare app origin.git && cd app && "
                   "git remote add origin ../origin.git && git fetch -q origin && "
                   "git branch -q -u origin/main"], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    r = sandbox(box, home,
                "cd origin.git && export GIT_INDEX_FILE=$(mktemp -u) && git read-tree main && "
                "b=$(%s) && git update-index --cacheinfo 100755,$b,.husky/pre-commit && "
                "c=$(echo lint | git commit-tree $(git write-tree) -p main) && "
                "git update-ref refs/heads/main $c && "
                "test \"$(git cat-file -p main:.husky/pre-commit | tail -1)\" = '%s' && "
                "echo planted" % (HOOK, TOUCH))
    planted(r)
    host_commits(box, home, repo, "git pull -q --ff-only")


# the evil config a staged .gitconfig holds: git runs core.fsmonitor (through
# the shell) at its next read of the index
EVIL_CONFIG = '[core]\n\tfsmonitor = touch \\"$HOME/MARK\\"\n'
CONFIG_LAYOUTS = {"grant": "", "grant-of-repos": "app"}


@pytest.mark.parametrize("layout", sorted(CONFIG_LAYOUTS))
def test_included_config_tracked_in_the_repository(box, layout):
    """Hole: a project that keeps its git configuration in the repository
    (`.gitconfig`, tracked) and has each clone include it (`git config
    include.path ../.gitconfig`).  The included file is read-only during
    the run and checked at the end when changed, but its tracked content
    is not among the protected paths (only the built-in names, the
    policy's and core.hooksPath): the sandbox stages a .gitconfig with a
    core.fsmonitor, the host's `git checkout -- .` writes it, and its next
    git command runs it.  In the grant's repository (layout `grant`) as in
    a nested one."""
    home = host_home(box)
    repo = husky_repo(box, home, CONFIG_LAYOUTS[layout],
                      extra=" && printf '[user]\\n\\tname = t\\n' > .gitconfig && "
                      "git add .gitconfig && git commit -qnm cfg && "
                      "git config include.path ../.gitconfig")
    evil = box.write("bin/evil.gitconfig", EVIL_CONFIG)
    planted(sandbox(box, home,
                    "cd '%s' && b=$(git hash-object -w '%s') && "
                    "git update-index --cacheinfo 100644,$b,.gitconfig && "
                    "git cat-file -p :.gitconfig | grep -q fsmonitor && echo planted"
                    % (repo, evil)))
    host_commits(box, home, repo, "git checkout -- . && git status -s")


HOOKS_PATHS = {"relative": "../tools/hooks", "absolute": None}


@pytest.mark.parametrize("how", sorted(HOOKS_PATHS))
def test_hooks_path_in_another_repository(box, how):
    """Hole: `app`'s core.hooksPath names the hooks directory of another
    repository of the grant, `tools` (shared hooks, tracked there), found
    and checked too; the hooks path is read-only during the run, but the
    tracked content check of `tools` takes only its own hooks path as
    protected: its staged `hooks/pre-commit` is written by the host's
    `git checkout -- .` in tools, and app's next commit runs it."""
    home = host_home(box)
    tools = os.path.join(box.work, "tools")
    os.makedirs(os.path.join(tools, "hooks"))
    app = os.path.join(box.work, "app")
    os.makedirs(app)
    chown_tree(box, box.work)
    hooks = HOOKS_PATHS[how] or os.path.join(tools, "hooks")
    h = host(box, ["sh", "-c",
                   "cd tools && git init -q -b main && "
                   "printf '#!/bin/sh\\n%s\\n' > hooks/pre-commit && chmod 755 hooks/pre-commit && "
                   "git add -A && git commit -qm hooks && cd ../app && git init -q -b main && "
                   "git config core.hooksPath '%s' && echo x > f && git add f && "
                   "git commit -qnm init" % (HOST_HOOK, hooks)], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    planted(sandbox(box, home,
                    "cd tools && b=$(%s) && git update-index --cacheinfo 100755,$b,hooks/pre-commit"
                    " && test \"$(git cat-file -p :hooks/pre-commit | tail -1)\" = '%s' && "
                    "echo planted" % (HOOK, TOUCH)))
    host_commits(box, home, app, "git checkout -- .", op_cwd=tools)


# ---- a found repository moved out from under the check ------------------

MOVES = {
    # the repository renamed, a link at its name
    "repo-renamed-link": "mv app app.x && ln -s app.x app",
    # renamed, a fresh repository of the sandbox's at its name
    "repo-renamed-decoy": "mv app app.x && mkdir app && git -C app init -q",
    # its .git renamed, a copy in its place
    "git-renamed-copy": "mv app/.git app/.git.old && cp -a app/.git.old app/.git",
    # its .git renamed, a gitdir: file to it in its place
    "git-renamed-file": "mv app/.git app/.git.old && echo 'gitdir: .git.old' > app/.git",
}


@pytest.mark.parametrize("move", sorted(MOVES))
def test_guard_found_repo_moved_aside(box, move):
    """Guard: the check at the end holds the found repository's .git by a
    descriptor taken at the start, and repairs it there; renaming the
    repository or its .git (then staging the hook in whichever the host's
    git will read) would send the repairs elsewhere.  Both are on the way
    to its protected .git/config: pinned with namespaces, refused by the
    file gate without.  Control: the sandbox staged its hook in what it
    could."""
    home = host_home(box)
    repo = husky_repo(box, home, "app")
    r = sandbox(box, home,
                "(%s) >/dev/null 2>&1; echo moved=$?; for d in app app.x; do "
                "[ -d $d/.husky ] && (cd $d && %s); done; true" % (MOVES[move], STAGE))
    planted(r)
    assert os.path.isdir(os.path.join(repo, ".git")) and \
        not os.path.islink(repo), "moved: " + r.stdout
    host_commits(box, home, repo, "git checkout -- .")


def test_guard_linked_worktree_of_a_found_repo(box):
    """Guard: the host's linked worktree `app-wt` of the found `app` (on
    branch `wt`): its index lies in app/.git/worktrees (read-only, not
    staged), and its branch, moved inside onto the sandbox's hook, is a
    ref of app's, set back at the end.  The host's `git reset --hard` in
    app-wt writes its own hook."""
    home = host_home(box)
    husky_repo(box, home, "app", extra=" && git worktree add -q ../app-wt -b wt")
    r = sandbox(box, home,
                "(cd app-wt && %s) 2>/dev/null; "
                "cd app && export GIT_INDEX_FILE=$(mktemp -u) && git read-tree wt && b=$(%s) && "
                "git update-index --cacheinfo 100755,$b,.husky/pre-commit && "
                "c=$(echo lint | git commit-tree $(git write-tree) -p wt) && "
                "git update-ref refs/heads/wt $c && "
                "test \"$(git cat-file -p wt:.husky/pre-commit | tail -1)\" = '%s' && "
                "echo planted" % (STAGE, HOOK, TOUCH))
    planted(r)
    wt = os.path.join(box.work, "app-wt")
    host_commits(box, home, wt, "git checkout -- . && git reset -q --hard")


def test_guard_submodule_of_a_found_repo(box):
    """Guard: a submodule `lib` of the found `app` (its git directory in
    app/.git/modules, read-only inside): the sandbox cannot stage there."""
    home = host_home(box)
    src = husky_repo(box, home, box.path("libsrc"))
    husky_repo(box, home, "app",
               extra=" && git -c protocol.file.allow=always submodule add -q '%s' lib && "
               "git commit -qnm lib && git -C lib config core.hooksPath .husky" % src)
    lib = os.path.join(box.work, "app", "lib")
    r = sandbox(box, home, "echo ran; cd app/lib && " + STAGE)
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    host_commits(box, home, lib, "git checkout -- .")


def test_guard_replace_ref_in_a_found_repo(box):
    """Guard: refs/replace/<HEAD's commit> naming a commit of the same
    parents and message whose tree holds the sandbox's hook: git reads it
    for HEAD (`git log` shows the host's id), and `git reset --hard`
    writes its tree.  The replace ref is a ref made during the run: its
    commit fails, and it is removed."""
    home = host_home(box)
    repo = husky_repo(box, home, "app")
    r = sandbox(box, home,
                "cd app && export GIT_INDEX_FILE=$(mktemp -u) && git read-tree HEAD && b=$(%s) && "
                "git update-index --cacheinfo 100755,$b,.husky/pre-commit && t=$(git write-tree) "
                "&& c=$(git cat-file commit HEAD | sed \"1s/.*/tree $t/\" | "
                "git hash-object -t commit -w --stdin) && unset GIT_INDEX_FILE && "
                "git replace HEAD $c && "
                "test \"$(git cat-file -p HEAD:.husky/pre-commit | tail -1)\" = '%s' && "
                "echo planted" % (HOOK, TOUCH))
    planted(r)
    host_commits(box, home, repo, "git reset -q --hard")


def test_guard_local_remote_that_is_a_found_repo(box):
    """Guard: the same as test_branch_of_a_local_bare_remote, the remote a
    repository with a worktree (`upstream`, found): the sandbox's commit on
    its `main` is set back at the end, and the host's `git pull` in the
    clone brings nothing of it."""
    home = host_home(box)
    husky_repo(box, home, "upstream")
    h = host(box, ["sh", "-c", "git clone -q upstream app && git -C app config core.hooksPath "
                   ".husky"], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    r = sandbox(box, home, "cd upstream && %s && git commit -qnm lint && "
                "test \"$(git cat-file -p main:.husky/pre-commit | tail -1)\" = '%s' && "
                "echo planted" % (STAGE, TOUCH))
    planted(r, 2)
    host_commits(box, home, os.path.join(box.work, "app"), "git pull -q --ff-only")


# the sandbox's hook committed on HEAD's commit (a temporary index: the
# repository's own is left alone), its id in $c
EVIL_COMMIT = ("export GIT_INDEX_FILE=$(mktemp -u) && git read-tree HEAD && b=$(%s) && "
               "git update-index --cacheinfo 100755,$b,.husky/pre-commit && "
               "c=$(echo lint | git commit-tree $(git write-tree) -p HEAD) && "
               "unset GIT_INDEX_FILE" % HOOK)
PACKED_LAYOUTS = {"grant": "", "grant-of-repos": "app"}


@pytest.mark.parametrize("what", ["index", "packed-refs"])
@pytest.mark.parametrize("layout", sorted(PACKED_LAYOUTS))
def test_held_file_rewritten_in_place_then_replaced(box, layout, what):
    """Hole: the index (or packed-refs) held since the start as the host's,
    written in its own inode with the sandbox's version (its hook staged,
    or `main` on its commit), then replaced by a rename as git replaces
    it: the held one has no name left, its ctime moved with its link
    count, so it passed for the host's from the start, and what the
    sandbox wrote there became the baseline.  The host's `git checkout --
    .` (or `git reset --hard`) writes the hook.  Fails on 2659dfb where
    the held file is the host's (not with namespaces where the grant is
    the repository: the view's copy is carried back)."""
    home = host_home(box)
    repo = husky_repo(box, home, PACKED_LAYOUTS[layout], extra=" && git pack-refs --all")
    if what == "index":
        plant = ("cp .git/index \"$TMPDIR/i\" && b=$(%s) && GIT_INDEX_FILE=\"$TMPDIR/i\" "
                 "git update-index --cacheinfo 100755,$b,.husky/pre-commit && "
                 "cat \"$TMPDIR/i\" > .git/index && cp .git/index .git/i2 && "
                 "mv .git/i2 .git/index && "
                 "test \"$(git cat-file -p :.husky/pre-commit | tail -1)\" = '%s'" % (HOOK, TOUCH))
        undo = "git checkout -- ."
    else:
        plant = ("%s && p=$(sed \"s|^[0-9a-f]* refs/heads/main\\$|$c refs/heads/main|\" "
                 ".git/packed-refs) && printf '%%s\\n' \"$p\" > .git/packed-refs && "
                 "cp .git/packed-refs .git/p2 && mv .git/p2 .git/packed-refs && "
                 "test $(git rev-parse main) = $c" % EVIL_COMMIT)
        undo = "git reset -q --hard"
    planted(sandbox(box, home, "export TMPDIR=${TMPDIR:-/tmp}; cd '%s' && %s && echo planted"
                    % (repo, plant)))
    host_commits(box, home, repo, undo)


@pytest.mark.parametrize("layout", sorted(PACKED_LAYOUTS))
def test_packed_refs_rewritten_in_place(box, layout):
    """Hole: the host's refs packed (`git pack-refs --all`, `git gc`, a
    clone's), packed-refs held open from the start as the host's: git
    replaces it by a rename, but the sandbox rewrites it in its own inode
    (`> .git/packed-refs`), so what is held reads as the sandbox's, every
    line counts as the start's, and `main` moved onto the sandbox's commit
    is never judged.  The host's `git reset --hard` writes the hook.
    Where the grant is the repository and namespaces are on, the view's
    packed-refs is a copy carried back by a rename (the held file stays
    the host's)."""
    home = host_home(box)
    repo = husky_repo(box, home, PACKED_LAYOUTS[layout], extra=" && git pack-refs --all")
    assert not os.path.exists(os.path.join(repo, ".git/refs/heads/main"))
    ino = os.stat(os.path.join(repo, ".git/packed-refs")).st_ino
    planted(sandbox(box, home,
                    "cd '%s' && %s && p=$(sed \"s|^[0-9a-f]* refs/heads/main\\$|$c "
                    "refs/heads/main|\" .git/packed-refs) && printf '%%s\\n' \"$p\" > "
                    ".git/packed-refs && test $(git rev-parse main) = $c && "
                    "test \"$(git cat-file -p main:.husky/pre-commit | tail -1)\" = '%s' && "
                    "echo planted" % (repo, EVIL_COMMIT, TOUCH)))
    if layout != "grant" or box.namespaces == "off":
        assert os.stat(os.path.join(repo, ".git/packed-refs")).st_ino == ino
    host_commits(box, home, repo, "git reset -q --hard")


def test_replace_ref_repair_leaves_head_replaced(box):
    """Hole (the repository's integrity, not a hook run): the guard above's
    refs/replace/<HEAD's commit> is "set back to its first ancestor from
    before the run that has the host's content there", HEAD~1, rather
    than removed: afterwards every host git reads HEAD's commit as its
    parent (`git log` still shows HEAD's id), and `git reset --hard`
    silently checks out the parent's tree.  A replace ref the sandbox
    itself points at an older commit of the host's passes the check the
    same way."""
    home = host_home(box)
    repo = husky_repo(box, home, "app")
    tree = host(box, ["git", "rev-parse", "HEAD^{tree}"], home, cwd=repo, env=GIT_ENV)
    assert tree.returncode == 0, tree.stderr
    r = sandbox(box, home,
                "cd app && export GIT_INDEX_FILE=$(mktemp -u) && git read-tree HEAD && b=$(%s) && "
                "git update-index --cacheinfo 100755,$b,.husky/pre-commit && t=$(git write-tree) "
                "&& c=$(git cat-file commit HEAD | sed \"1s/.*/tree $t/\" | "
                "git hash-object -t commit -w --stdin) && unset GIT_INDEX_FILE && "
                "git replace HEAD $c && echo planted" % HOOK)
    planted(r)
    now = host(box, ["git", "rev-parse", "HEAD^{tree}"], home, cwd=repo, env=GIT_ENV)
    assert now.stdout == tree.stdout, \
        "the host's HEAD reads as another commit: " + host(
            box, ["git", "replace", "-l", "--format=long"], home, cwd=repo, env=GIT_ENV).stdout


LINK_LAYOUTS = {"grant": "", "grant-of-repos": "app"}


@pytest.mark.parametrize("layout", sorted(LINK_LAYOUTS))
def test_parent_of_the_hooks_path_staged_as_a_link(box, layout):
    """Hole: core.hooksPath = scripts/hooks (a hooks directory below the
    top, tracked).  The sandbox takes `scripts/` out of the index and
    stages `scripts` as a symbolic link to `evil`, with its hook at
    evil/hooks/pre-commit: no entry lies at or below the protected path
    (a file on the way counts as nothing there), so the index passes.
    The host's `git checkout -- .` replaces the directory scripts by the
    link (it removes a directory in a checked-out file's way), and its
    next commit runs evil/hooks/pre-commit.  In the grant's repository as
    in a nested one."""
    home = host_home(box)
    repo = husky_repo(box, home, LINK_LAYOUTS[layout],
                      extra=" && mkdir -p scripts/hooks && mv .husky/pre-commit scripts/hooks/ "
                      "&& echo 'make' > scripts/build.sh && git add -A && "
                      "git config core.hooksPath scripts/hooks && git commit -qnm scripts")
    planted(sandbox(box, home,
                    "cd '%s' && git rm -q --cached -r scripts && "
                    "l=$(printf evil | git hash-object -w --stdin) && "
                    "git update-index --add --cacheinfo 120000,$l,scripts && b=$(%s) && "
                    "git update-index --add --cacheinfo 100755,$b,evil/hooks/pre-commit && "
                    "test \"$(git cat-file -p :scripts)\" = evil && echo planted"
                    % (repo, HOOK)))
    host_commits(box, home, repo, "git checkout -- .")
