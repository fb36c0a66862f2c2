# SPDX-License-Identifier: MIT
"""A protected hook's tracked content kept where the host's git reaches it
later, below what githeads.c looked at: it checked the tips of the refs the
run changed, and those tips only.

Holes (each FAILS on 5adbab1 and on 63c961b, in every mode of the box
fixture):
  - a commit below a tip: the sandbox commits its .husky/pre-commit, then
    the host's hook again on top; the tip passes.  The host's `git reset
    --hard HEAD~1` (undoing the last commit, as one does) or `git checkout
    HEAD~1` writes the sandbox's hook, and the next commit runs it;
  - an older stash: the sandbox stashes its hook (staged), then stashes
    something harmless on top.  refs/stash passes; the host's `git stash
    pop` twice (or `git stash pop stash@{1}`) takes the sandbox's, with
    `--index` its hook staged, and `git checkout -- .` after it.
Controls: the command ran and made what it meant to (git outside sees the
commits and stashes); ordinary commits below a tip, and the host's own
stashes from before the run, are kept.
"""
import os

import pytest

from test_hostfiles_attacks import GIT_ENV, HOOK, INSIDE_GIT, host, husky_project


def project(box, extra=""):
    """The host's project (husky_project), a second commit on the first."""
    return husky_project(box, extra=" && echo x2 > f && git commit -qam base" + extra)


@pytest.mark.parametrize("undo", ["git reset -q --hard HEAD~1", "git checkout -qf HEAD~1"])
def test_protected_hook_in_a_commit_below_the_tip(box, undo):
    hosthome = project(box)
    r = box.run(["sh", "-c", INSIDE_GIT +
                 "b=$(%s) && good=$(git rev-parse HEAD:.husky/pre-commit) && "
                 "git update-index --cacheinfo 100755,$b,.husky/pre-commit && "
                 "git commit -qnm 'lint config' && "
                 "git update-index --cacheinfo 100755,$good,.husky/pre-commit && "
                 "echo y > f && git add f && git commit -qnm 'more' && echo planted" % HOOK],
                policy=box.policy(""), env={"HOME": hosthome})
    assert "planted" in r.stdout, r.stderr
    mark = os.path.join(hosthome, "MARK")
    h = host(box, ["sh", "-c", "%s && echo z > f && git commit -qam next" % undo],
             hosthome, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    assert not os.path.exists(mark), "the host's commit ran the hook committed below the tip"


def test_guard_ordinary_commits_below_the_tip_are_kept(box):
    """Control: two ordinary commits made inside stay the branch's, the
    hook untouched, nothing said."""
    hosthome = project(box)
    r = box.run(["sh", "-c", INSIDE_GIT +
                 "echo 1 > f && git commit -qnam one && echo 2 > f && git commit -qnam two && "
                 "git checkout -qb side HEAD~1 && echo 3 > g && git add g && "
                 "git commit -qnm three && git checkout -q - && git merge -q --no-edit side && "
                 "echo committed"], policy=box.policy(""), env={"HOME": hosthome})
    assert "committed" in r.stdout, r.stderr
    assert "protected path" not in r.stderr, r.stderr
    h = host(box, ["git", "log", "--format=%s", "--first-parent"], hosthome, cwd=box.work,
             env=GIT_ENV)
    assert h.stdout.splitlines()[1:] == ["two", "one", "base", "init"], h.stdout + h.stderr


@pytest.mark.parametrize("take", ["git stash drop -q && git stash pop -q --index",
                                  "git stash pop -q --index stash@{1}"])
def test_protected_hook_in_an_older_stash(box, take):
    # a stash of the host's own from before the run: kept
    hosthome = project(box, " && echo own > o && git add o && git stash -q")
    r = box.run(["sh", "-c", INSIDE_GIT +
                 # a stash whose index holds the sandbox's hook, made as
                 # `git stash` makes it (the worktree file is read-only)
                 "b=$(%s) && "
                 "git update-index --cacheinfo 100755,$b,.husky/pre-commit && "
                 "i=$(git commit-tree $(git write-tree) -p HEAD -m index) && "
                 "git read-tree HEAD && w=$(git commit-tree HEAD^{tree} -p HEAD -p $i "
                 "-m wip) && git stash store -m wip $w && "
                 # a harmless one on top: refs/stash passes
                 "echo harmless > g && git add g && git stash -q && "
                 "git stash list | wc -l && echo planted" % HOOK],
                policy=box.policy(""), env={"HOME": hosthome})
    assert "planted" in r.stdout and "3" in r.stdout.split(), r.stdout + r.stderr
    # the host's own stash is still there, and the harmless one
    h = host(box, ["git", "stash", "list", "--format=%s"], hosthome, cwd=box.work, env=GIT_ENV)
    assert any(l.endswith("base") for l in h.stdout.splitlines()), h.stdout + h.stderr
    mark = os.path.join(hosthome, "MARK")
    h = host(box, ["sh", "-c", "(%s); git checkout -- .; echo z > f && git commit -qam next"
                   % take], hosthome, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    assert not os.path.exists(mark), "the host's commit ran the hook of an older stash"


# the stash list given a hole of a TiB first (sparse: no disk), its entries
# after it: git reads them from the end all the same (`stash@{1}`)
PAD = ("/usr/bin/python3 -c \"import os; p='.git/logs/refs/stash'; d=open(p,'rb').read(); "
       "f=open(p+'.x','wb'); f.seek(1<<40); f.write(b'\\\\n'+d); "
       "f.close(); os.replace(p+'.x',p)\"")


def test_protected_hook_in_an_older_stash_of_a_huge_stash_list(box):
    """Hole: the stash list, too large to copy (a TiB, a hole of zeros
    first: the copy's allocation failed), was passed over: `git stash
    apply stash@{1}` takes the sandbox's stash below the harmless one.  One
    past 64 MiB is now removed (the run's doing), said."""
    hosthome = project(box)
    r = box.run(["sh", "-c", INSIDE_GIT +
                 "b=$(%s) && "
                 "git update-index --cacheinfo 100755,$b,.husky/pre-commit && "
                 "i=$(git commit-tree $(git write-tree) -p HEAD -m index) && "
                 "git read-tree HEAD && w=$(git commit-tree HEAD^{tree} -p HEAD -p $i "
                 "-m wip) && git stash store -m wip $w && "
                 "echo harmless > g && git add g && git stash -q && %s && "
                 "test $(git rev-parse stash@{1}) = $w && echo planted" % (HOOK, PAD)],
                policy=box.policy(""), env={"HOME": hosthome})
    assert "planted" in r.stdout, r.stdout + r.stderr
    mark = os.path.join(hosthome, "MARK")
    h = host(box, ["sh", "-c", "git stash apply -q --index stash@{1}; "
                   "git checkout -- .; echo z > f && git commit -qam next"],
             hosthome, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    assert not os.path.exists(mark), "the host's commit ran the hook of an older stash"


# A commit of the sandbox's: HEAD's tree but for its hook at
# .husky/pre-commit, HEAD its parent (its id in $e)
EVIL_COMMIT = ("b=$(%s) && git update-index --cacheinfo 100755,$b,.husky/pre-commit && "
               "e=$(git commit-tree $(git write-tree) -p HEAD -m 'lint config') && "
               "git read-tree HEAD && " % HOOK)


@pytest.mark.parametrize("how", ["moved-back", "appended", "new-branch", "linked-dir"])
def test_hook_in_another_branchs_reflog(box, how):
    """Hole: a commit of the sandbox's in the reflog of a branch HEAD is not
    on (`topic@{1}`), the branch itself as it was: the branch moved there
    and back (its tip passes), a line appended to its reflog (the ref not
    touched), or a branch the sandbox made and moved on.  Only the stash's,
    HEAD's and HEAD's branch's reflogs were read.  The host's `git reset
    --hard topic@{1}` writes the sandbox's hook; so does a link to a
    directory of the worktree put for the branches' reflogs, which git
    follows.  Fails on d9af825 in every mode."""
    hosthome = project(box, " && git branch topic && git checkout -qb scratch && echo s > s && "
                       "git add s && git commit -qm scratch && git checkout -q - && "
                       "git branch -f topic scratch && git branch -f topic master 2>/dev/null "
                       "|| git branch -f topic main")
    name = "new" if how == "new-branch" else "topic"
    plant = {
        "moved-back": "t=$(git rev-parse topic) && git branch -f topic $e && git branch -f topic $t",
        "appended": "t=$(git rev-parse topic) && printf '%s %s t <t@x> 1700000000 +0000\\treset\\n' "
                    "$t $e >> .git/logs/refs/heads/topic && printf '%s %s t <t@x> 1700000001 "
                    "+0000\\treset\\n' $e $t >> .git/logs/refs/heads/topic",
        "new-branch": "git branch new $e && git branch -f new HEAD",
        # the branches' reflogs a link to a directory of the worktree,
        # topic's there with the sandbox's line last (git follows it)
        "linked-dir": "t=$(git rev-parse topic) && mkdir w && cp .git/logs/refs/heads/* w/ && "
                      "printf '%s %s t <t@x> 1700000000 +0000\\treset\\n' $t $e >> w/topic && "
                      "printf '%s %s t <t@x> 1700000001 +0000\\treset\\n' $e $t >> w/topic && "
                      "rm -r .git/logs/refs/heads && ln -s ../../../w .git/logs/refs/heads",
    }[how]
    r = box.run(["sh", "-c", INSIDE_GIT + EVIL_COMMIT + plant +
                 " && test $(git rev-parse %s@{1}) = $e && echo planted" % name],
                policy=box.policy(""), env={"HOME": hosthome})
    assert "planted" in r.stdout.split(), r.stdout + r.stderr
    mark = os.path.join(hosthome, "MARK")
    h = host(box, ["sh", "-c", "git reset -q --hard %s@{1}; git checkout -- .; "
                   "echo z > f && git commit -qam next" % name], hosthome, cwd=box.work,
             env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    assert not os.path.exists(mark), "the host's commit ran the hook of %s@{1}" % name


def test_guard_other_branches_reflogs_keep_their_history(box):
    """Control: the host's own entries of another branch's reflog (one
    no ref reaches any more) stay, and so do the sandbox's ordinary moves
    of that branch."""
    hosthome = project(box, " && git branch topic && git checkout -qb scratch && echo s > s && "
                       "git add s && git commit -qm scratch && git checkout -q - && "
                       "git branch -f topic scratch && git branch -D -q scratch && "
                       "git branch -f topic HEAD")
    was = host(box, ["git", "reflog", "show", "--format=%H", "topic"], hosthome, cwd=box.work,
               env=GIT_ENV)
    assert was.returncode == 0 and len(was.stdout.split()) == 3, was.stdout + was.stderr
    r = box.run(["sh", "-c", INSIDE_GIT + "echo t > t && git add t && git commit -qnm mine && "
                 "git branch -f topic HEAD && git branch -f topic HEAD~1 && echo moved"],
                policy=box.policy(""), env={"HOME": hosthome})
    assert "moved" in r.stdout.split(), r.stdout + r.stderr
    assert "reflog" not in r.stderr, r.stderr
    now = host(box, ["git", "reflog", "show", "--format=%H", "topic"], hosthome, cwd=box.work,
               env=GIT_ENV)
    assert now.stdout.split()[2:] == was.stdout.split(), now.stdout + was.stdout
    assert len(now.stdout.split()) == 5, now.stdout
