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
