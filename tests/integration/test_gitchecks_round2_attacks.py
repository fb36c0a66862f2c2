# SPDX-License-Identifier: MIT
"""The end's checks of a protected path's tracked content (githeads.c,
gittrees.c, gitrefs.c, gitlogs.c) after 501fa94..d9a8565: every reflog
copied at start and judged when changed, packed-refs copied, the held
index's checksum, what lies on the way to a protected path, what a
config points git at, replace refs, bare and separate git directories,
the walk at start and what is said of a repository it did not find.

Each attack plants from inside (an index entry, a commit, a ref; no
worktree file, the protected ones being read-only), then the host runs
what a user runs (`git checkout -- .`, `git reset --hard X`) and a
commit, which runs .husky/pre-commit (core.hooksPath = .husky): the
sandbox's leaves MARK, the host's own HOSTRAN (the control that the
commit ran a hook at all).  The guards run ordinary git work inside and
check that the host's reflogs, branches and index are still there.

Holes (FAIL on d9a8565; every mode of the box fixture unless said):
  - test_index_entry_through_dot_dot: an index entry
    `x/../.husky/pre-commit` starts with no protected path, so it is not
    judged; git's `checkout -- .` writes it through x (both layouts);
  - test_tree_with_the_protected_entry_twice: a tree naming .husky twice,
    the host's first: tree_find() takes the first, git's checkout the
    last (both layouts);
  - test_ref_beside_the_refs_shadows_a_branch: `.git/origin/main`, a
    packed-refs line `C main`, or `.git/main` with logs/main: git's
    first rule ($GIT_DIR/NAME) shadows the branch for `git reset --hard
    NAME` and NAME@{1}; only refs/ and logs/refs are judged (all but the
    grant's repository with namespaces, whose view drops them);
  - test_split_index_shared_file_rewritten: the shared index of a split
    index rewritten, its trailer kept; the end puts back the host's split
    index, which links to the same file (both layouts);
  - test_hooks_path_in_config_worktree: core.hooksPath in config.worktree
    is not read for the protected paths;
  - test_pointer_through_a_link_into_another_repository[hooks-path,
    include]: a hooks path or include through a link of app's into the
    repository tools is not protected there;
  - test_symbolic_replace_ref: refs/replace/<HEAD> as `ref: refs/heads/old`
    passes (what it names passes) and stays: HEAD reads as HEAD~1;
  - test_unsaid_change_in_an_unfound_repository[*],
    test_split_index_in_an_unfound_repository: in a repository the walk
    did not find, a remote branch or a branch in a directory, a reflog
    rewritten in place, ORIG_HEAD or a split index's shared file changes
    nothing unheld_changes() looks at: nothing is said;
  - test_bare_remote_not_named_dot_git: a bare local remote named `origin`
    is not found, not checked (its change is said), and `git pull` brings
    the hook;
  - test_gitdir_in_an_unfound_repositorys_modules: a found repository
    whose git directory lies in an unfound one's .git/modules is neither
    checked nor said.
False positives, ordinary work inside (test_guard_*, FAIL on d9a8565):
  - test_guard_long_reflog_kept_after_an_ordinary_commit: a reflog past
    the start's copy is judged whole, two reads of the budget a line: past
    it the host's newest lines are taken out;
  - test_guard_expired_reflog_left_as_it_is: the first line of a reflog
    judged whole gets a zero OLD id, the host's reflog rewritten and the
    run said to have recorded content at a protected path;
  - test_guard_annotated_tag_made_inside and
    test_guard_packing_refs_keeps_the_hosts_annotated_tag: a tag object is
    walked as a commit and fails: the sandbox's tag, and the host's own
    tag packed by `git pack-refs` or `git gc`, are removed;
  - test_guard_cherry_pick_says_nothing: AUTO_MERGE (a tree) is judged as
    a commit, removed and said;
  - test_guard_commit_moving_an_embedded_repository: a gitlink to a nested
    repository with a hooks path is "on the way" to a protected path: the
    sandbox's `git commit -a` is set back;
  - test_guard_large_index_with_a_staged_hook_of_the_hosts: an
    index.skipHash index past 16 MiB cannot be told as the host's: the
    host's own staged hook fails, and its index is moved aside.
Guards that hold: reflogs rewritten in place and past the copy, a
replace ref in packed-refs only, ordinary commit/amend/rebase/merge/reset/
fetch/branch/tag work, links deeper on the way, includes of another
repository's file (`..`, includeIf, nested), a git directory in a found
repository's modules, a grant named through a link with the command five
levels below it, repositories past RLIMIT_NOFILE said, an index rewritten
in place in an unfound repository said.
"""
import os
import re
import subprocess

import pytest

from test_hostfiles_attacks import GIT_ENV, HOOK, INSIDE_GIT, TOUCH, chown_tree, host
from test_nested_round_attacks import (EVIL_COMMIT, HOST_HOOK, STAGE, host_commits, host_home,
                                       husky_repo, planted, sandbox)

LAYOUTS = {"grant": "", "grant-of-repos": "app"}

# A v2 index read and written by the sandbox's python: ENTRIES added
# (path, mode, hex id) with no stat data, so that git takes the worktree's
# file as changed; the extensions dropped (a stale cache tree would hide
# nothing), the SHA-1 trailer recomputed, put in place by a rename.
INDEX_PY = r'''
import hashlib, os, struct, sys
def read(p):
    d = open(p, "rb").read()
    assert d[:4] == b"DIRC"
    ver, n = struct.unpack(">II", d[4:12])
    assert ver == 2, ver
    ents, off = [], 12
    for _ in range(n):
        end = d.index(b"\0", off + 62)
        name = d[off + 62:end]
        ents.append([d[off:off + 62], name])
        off += ((62 + len(name) + 8) // 8) * 8
    return ents
def write(p, ents):
    out = b"DIRC" + struct.pack(">II", 2, len(ents))
    for fixed, name in sorted(ents, key=lambda e: e[1]):
        fl = struct.unpack(">H", fixed[60:62])[0] & 0xf000 | min(len(name), 0xfff)
        e = fixed[:60] + struct.pack(">H", fl) + name
        out += e + b"\0" * (((62 + len(name) + 8) // 8) * 8 - len(e))
    out += hashlib.sha1(out).digest()
    open(p + ".new", "wb").write(out)
    os.rename(p + ".new", p)
ents = read(".git/index")
for a in sys.argv[1:]:
    path, mode, oid = a.split(",")
    fixed = b"\0" * 24 + struct.pack(">IIII", int(mode, 8), 0, 0, 0) + bytes.fromhex(oid)
    ents.append([fixed + b"\0\0", path.encode()])
write(".git/index", ents)
'''


def index_py(box):
    return box.write("bin/index.py", INDEX_PY)


def repo_for(box, home, layout, **kw):
    return husky_repo(box, home, LAYOUTS[layout], **kw)


def in_repo(box, home, repo, script):
    return sandbox(box, home, "cd '%s' && %s" % (repo, script))


# ---- the index: what lies on the way to a protected path --------------


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_index_entry_through_dot_dot(box, layout):
    """Hole: an index entry `x/../.husky/pre-commit` (the index is the
    sandbox's file: git's update-index refuses the name, the sandbox's own
    writer does not).  Its path does not start with a protected one, so
    on_entry() passes it; the host's `git checkout -- .` (git does not
    check the names of the entries it reads from the index) finds
    `x/../.husky/pre-commit` changed, removes it and writes the sandbox's
    hook there, through x (a directory the sandbox made).
    Fails on d9a8565 in every mode."""
    home = host_home(box)
    repo = repo_for(box, home, layout)
    py = index_py(box)
    planted(in_repo(box, home, repo,
                    "mkdir x && b=$(%s) && /usr/bin/python3 '%s' x/../.husky/pre-commit,100755,$b "
                    "&& git ls-files -s | grep -qx \"100755 $b 0.x/../.husky/pre-commit\" && echo planted"
                    % (HOOK, py)))
    host_commits(box, home, repo, "git checkout -- .")


# ---- trees: the entry git checks out --------------------------------------


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_tree_with_the_protected_entry_twice(box, layout):
    """Hole: a root tree naming `.husky` twice, the host's tree first and
    the sandbox's after it (git mktree keeps both; only fsck objects).
    gittrees.c's tree_find() takes the first, which is the host's, so the
    commit passes; git's checkout takes the last (`git reset --hard`
    writes the sandbox's hook).  `main` moved onto it.
    Fails on d9a8565 in every mode."""
    home = host_home(box)
    repo = repo_for(box, home, layout)
    planted(in_repo(box, home, repo,
                    "b=$(%s) && e=$(printf '100755 blob %%s\\tpre-commit\\n' $b | git mktree) && "
                    "t=$(git ls-tree HEAD | awk -v e=$e '{print} $4==\".husky\" "
                    "{print \"040000 tree \" e \"\\t.husky\"}' | git mktree) && "
                    "c=$(echo lint | git commit-tree $t -p HEAD) && "
                    "git update-ref refs/heads/main $c && "
                    "test $(git ls-tree --name-only main | grep -cx .husky) = 2 && echo planted" % HOOK))
    host_commits(box, home, repo, "git reset -q --hard")


# ---- refs git reads beside refs/ -------------------------------------------

BESIDE = {
    # a file of the name at the .git's top: git's first rule ("%s", before
    # refs/%s, refs/heads/%s, refs/remotes/%s) takes it for origin/main
    "loose-origin-main": ("origin/main",
                          "mkdir -p .git/origin && printf '%s\\n' $c > .git/origin/main"),
    # a packed-refs line of a name outside refs/ (gh_check_packed() judges
    # refs/ names only; git reads any name there)
    # (not carried back by the view: the grant's repository with
    # namespaces holds)
    "packed-main": ("main",
                    "git pack-refs --all && { head -1 .git/packed-refs; echo \"$c main\"; "
                    "tail -n +2 .git/packed-refs; } > p && mv p .git/packed-refs"),
    # a reflog outside logs/refs: `.git/main` naming HEAD's own commit (it
    # would pass), logs/main going through the sandbox's (main@{1})
    "reflog-main": ("main@{1}",
                    "h=$(git rev-parse HEAD) && echo $h > .git/main && "
                    "printf '%s %s t <t@x> 1700000000 +0000\\tx\\n%s %s t <t@x> 1700000001 "
                    "+0000\\tx\\n' $(printf %040d 0) $c $c $h > .git/logs/main"),
}


@pytest.mark.parametrize("how,layout", [("loose-origin-main", "grant-of-repos"),
                                        ("packed-main", "grant"),
                                        ("packed-main", "grant-of-repos"),
                                        ("reflog-main", "grant-of-repos")])
def test_ref_beside_the_refs_shadows_a_branch(box, layout, how):
    """Hole: git resolves a name NAME as $GIT_DIR/NAME first (then
    refs/NAME, refs/tags/NAME, refs/heads/NAME, refs/remotes/NAME), loose
    or packed: a file `.git/main` or `.git/origin/main` naming the
    sandbox's commit, or a packed-refs line `C main`, is what the host's
    `git reset --hard main` (`origin/main`) takes (git warns the name is
    ambiguous, and goes on); `git reset --hard main@{1}` reads the reflog
    logs/main of that name.  The end judges loose refs under refs/,
    packed names under refs/ and reflogs under logs/refs only.  (Where the
    grant is the repository and namespaces are on, the view drops a file
    at the .git's top and packed-refs with such a line: that layout holds
    there.) Fails on d9a8565 in every mode but
    [packed-main-grant] with namespaces."""
    home = host_home(box)
    repo = repo_for(box, home, layout,
                    extra=" && git update-ref refs/remotes/origin/main HEAD")
    name, plant = BESIDE[how]
    planted(in_repo(box, home, repo, "%s && %s && test $(git rev-parse %s) = $c && echo planted"
                    % (EVIL_COMMIT, plant, name)))
    host_commits(box, home, repo, "git reset -q --hard %s" % name)


# ---- a split index ------------------------------------------------------

# the id of .husky/pre-commit's entry in the shared index rewritten in its
# own inode, the trailer (the name the split index links to) kept; the
# split index made when the entries are no longer racy (their files older
# than the index: else each is replaced by one of the split index's own)
SHARED_PY = r'''
import glob, sys
p, = glob.glob(".git/sharedindex.*")
d = open(p, "rb").read()
at = d.index(b".husky/pre-commit\0") - 2 - 20 - 40
with open(p, "r+b") as f:
    f.seek(at)
    f.write(bytes(24))  # no stat data: git takes the file as changed
    f.seek(at + 36)
    f.write(bytes(4) + bytes.fromhex(sys.argv[1]))
'''


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_split_index_shared_file_rewritten(box, layout):
    """Hole: the host keeps a split index (core.splitIndex; the index names
    sharedindex.<id> by the id in its trailer, which git reads without
    hashing the file).  The sandbox rewrites the hook's entry in that
    file, its trailer kept.  The end finds the shared file changed and
    puts back the host's index, which links to the same file: git reads
    the sandbox's entry, and `git checkout -- .` writes its hook.
    Fails on d9a8565 in every mode.  Now a shared index changed during the
    run must hash to its name, else it is moved aside, and the index that
    links to it too, said: the host's git sees no index (`git reset`
    makes one again), and writes no hook."""
    home = host_home(box)
    repo = repo_for(box, home, layout, extra=" && touch -d @1700000000 f .husky/pre-commit && "
                    "git config core.splitIndex true && git status -s && "
                    "git update-index --split-index && ls .git/sharedindex.* >/dev/null")
    py = box.write("bin/shared.py", SHARED_PY)
    r = in_repo(box, home, repo,
                "b=$(%s) && chmod u+w .git/sharedindex.* && /usr/bin/python3 '%s' $b && "
                "git ls-files -s .husky/pre-commit | grep -q $b && echo planted" % (HOOK, py))
    planted(r)
    assert "a shared index that is not what its name says" in r.stderr, r.stderr
    h = host(box, ["sh", "-c", "git checkout -- . 2>/dev/null; git reset -q && git checkout -- . && "
                   "echo y >> f && git add f && git commit -qm next"], home, cwd=repo,
             env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    assert not os.path.exists(os.path.join(home, "MARK")), "the host's git ran the sandbox's hook"
    assert os.path.exists(os.path.join(home, "HOSTRAN")), "control: the host's hook ran"


# ---- what a config points git at ----------------------------------------


def test_hooks_path_in_config_worktree(box):
    """Hole: core.hooksPath set in the repository's config.worktree
    (extensions.worktreeConfig, as `git config --worktree` writes it when
    sparse checkout turned the extension on): read_pointers() reads
    `config` only, so tools/hooks is no protected path of the tracked
    content check.  The sandbox stages a hook there; the host's `git
    checkout -- .` writes it and its next commit runs it.
    Fails on d9a8565 in every mode."""
    home = host_home(box)
    repo = husky_repo(box, home, "app",
                      extra=" && mkdir -p tools/hooks && git mv .husky/pre-commit tools/hooks/ && "
                      "git config --unset core.hooksPath && "
                      "git config core.repositoryformatversion 1 && "
                      "git config extensions.worktreeConfig true && "
                      "git config --worktree core.hooksPath tools/hooks && "
                      "git commit -qnm tools && test -f .git/config.worktree")
    planted(in_repo(box, home, repo,
                    "b=$(%s) && git update-index --cacheinfo 100755,$b,tools/hooks/pre-commit && "
                    "git ls-files -s tools/hooks/pre-commit | grep -q $b && echo planted" % HOOK))
    host_commits(box, home, repo, "git checkout -- .")


LINKED = {
    # app's core.hooksPath = .githooks, a link to ../tools/hooks
    "hooks-path": ("hooks/pre-commit", "ln -s ../tools/hooks .githooks && "
                   "git config core.hooksPath .githooks"),
    # app's include.path = ../shared/shared.gitconfig, app/shared a link
    # to ../tools: a shared configuration
    "include": ("shared.gitconfig", "ln -s ../tools shared && "
                "git config include.path ../shared/shared.gitconfig"),
}


@pytest.mark.parametrize("what", sorted(LINKED))
def test_pointer_through_a_link_into_another_repository(box, what):
    """Hole: what app's config points at (its core.hooksPath `.githooks`,
    or an include.path) lies through a symbolic link of app's (tracked) in
    the repository `tools` beside it, where the hooks or the shared
    configuration are tracked.  The pointer is made absolute without
    resolving the link (/grant/app/.githooks), so it is no protected path
    of tools: the sandbox stages a hook (or a config with a
    core.fsmonitor) in tools, the host's `git checkout -- .` there writes
    it, and app's next commit runs it. Fails on d9a8565 in every mode."""
    home = host_home(box)
    tools = os.path.join(box.work, "tools")
    os.makedirs(os.path.join(tools, "hooks"))
    os.makedirs(os.path.join(box.work, "app"))
    chown_tree(box, box.work)
    path, link = LINKED[what]
    h = host(box, ["sh", "-c",
                   "cd tools && git init -q -b main && "
                   "printf '#!/bin/sh\\n%s\\n' > hooks/pre-commit && chmod 755 hooks/pre-commit && "
                   "printf '[user]\\n\\tname = t\\n' > shared.gitconfig && "
                   "git add -A && git commit -qm hooks && cd ../app && git init -q -b main && "
                   "%s && echo x > f && git add -A && git commit -qnm init"
                   % (HOST_HOOK, link)], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    if what == "hooks-path":
        plant = "b=$(%s)" % HOOK
    else:
        plant = "b=$(git hash-object -w '%s')" % box.write(
            "bin/evil.gitconfig", '[core]\n\tfsmonitor = touch \\"$HOME/MARK\\"\n')
        # the host's own hook, for the control: app's commit runs it
        h = host(box, ["sh", "-c", "mkdir .git/hooks 2>/dev/null; printf '#!/bin/sh\\n%s\\n' > "
                       ".git/hooks/pre-commit && chmod 755 .git/hooks/pre-commit" % HOST_HOOK],
                 home, cwd=os.path.join(box.work, "app"), env=GIT_ENV)
        assert h.returncode == 0, h.stderr
    planted(in_repo(box, home, tools,
                    "%s && git update-index --cacheinfo 100755,$b,%s && "
                    "git ls-files -s %s | grep -q $b && echo planted" % (plant, path, path)))
    host_commits(box, home, os.path.join(box.work, "app"), "git checkout -- .", op_cwd=tools)


# ---- replace refs -------------------------------------------------------------


def test_symbolic_replace_ref(box):
    """Hole (the repository's integrity, not a hook run): a replace ref of
    HEAD's commit that is a symbolic ref (`ref: refs/heads/old`, `old` the
    host's branch on HEAD~1).  git follows it (HEAD reads as HEAD~1, and
    `git reset --hard` checks out the older tree); gh_check_ref_file()
    judges a symbolic ref by what its target names, which passes, and
    never reaches the rule that a replace ref made during the run goes.
    Fails on d9a8565 in every mode."""
    home = host_home(box)
    repo = husky_repo(box, home, "app", extra=" && git branch old HEAD~1")
    tree = host(box, ["git", "rev-parse", "HEAD^{tree}"], home, cwd=repo, env=GIT_ENV)
    assert tree.returncode == 0, tree.stderr
    planted(in_repo(box, home, repo,
                    "mkdir -p .git/refs/replace && "
                    "echo 'ref: refs/heads/old' > .git/refs/replace/$(git rev-parse HEAD) && "
                    "test $(git rev-parse HEAD^{tree}) = $(git rev-parse old^{tree}) && "
                    "echo planted"))
    now = host(box, ["git", "rev-parse", "HEAD^{tree}"], home, cwd=repo, env=GIT_ENV)
    assert now.stdout == tree.stdout, \
        "the host's HEAD reads as another commit: " + host(
            box, ["git", "replace", "-l", "--format=long"], home, cwd=repo, env=GIT_ENV).stdout


def test_guard_replace_ref_in_packed_refs_only(box):
    """Guard: the symbolic replace ref's plain sibling, written as a
    packed-refs line only (`C refs/replace/<HEAD>`, C HEAD~1, a commit of
    the host's that passes): a line the start's copy did not have, a
    replacement, removed from packed-refs; the host's HEAD reads as
    itself."""
    home = host_home(box)
    repo = husky_repo(box, home, "app", extra=" && git pack-refs --all")
    tree = host(box, ["git", "rev-parse", "HEAD^{tree}"], home, cwd=repo, env=GIT_ENV)
    assert tree.returncode == 0, tree.stderr
    planted(in_repo(box, home, repo,
                    "t=$(git rev-parse HEAD~1^{tree}) && "
                    "echo \"$(git rev-parse HEAD~1) refs/replace/$(git rev-parse HEAD)\" >> "
                    ".git/packed-refs && test $(git rev-parse HEAD^{tree}) = $t && echo planted"))
    now = host(box, ["git", "rev-parse", "HEAD^{tree}"], home, cwd=repo, env=GIT_ENV)
    assert now.stdout == tree.stdout, "the host's HEAD reads as another commit"


# ---- reflogs ------------------------------------------------------------------

# the reflog's last two lines rewritten in place (its own inode, the same
# length) to go through the sandbox's commit $c: the NEW id of the one
# before the last, and the OLD id of the last (which git's NAME@{1} reads)
REWRITE_LOG = ("/usr/bin/python3 -c \"import sys; p, c = sys.argv[1:]; c = c.encode(); "
               "d = open(p, 'rb').read(); ls = d.split(b'\\n'); "
               "ls[-3] = ls[-3][:41] + c + ls[-3][81:]; ls[-2] = c + ls[-2][40:]; "
               "f = open(p, 'r+b'); f.write(b'\\n'.join(ls))\" %s $c")

REFLOGS = {
    # HEAD's: `git reset --hard HEAD@{1}` (the branch HEAD is on, @{1},
    # is read the same way)
    "head": ("HEAD@{1}", ".git/logs/HEAD"),
    # another branch: topic@{1}
    "other-branch": ("topic@{1}", ".git/logs/refs/heads/topic"),
}


@pytest.mark.parametrize("which", sorted(REFLOGS))
def test_guard_reflog_line_rewritten_in_place(box, which):
    """Guard: a line the host's reflog had, its commit rewritten in its
    own inode to the sandbox's (the same length, the file's other lines
    untouched): the line is not the start's copy's, and is judged; the
    host's `git reset --hard NAME@{1}` does not reach the hook."""
    home = host_home(box)
    repo = husky_repo(box, home, "app", extra=" && git branch topic HEAD~1 && "
                      "git branch -f topic HEAD && git checkout -q HEAD~1 && git checkout -q main")
    name, log = REFLOGS[which]
    planted(in_repo(box, home, repo, "%s && %s && test $(git rev-parse %s) = $c && echo planted"
                    % (EVIL_COMMIT, REWRITE_LOG % log, name)))
    # (git may find too few entries left there: its reset then fails)
    host_commits(box, home, repo, "git reset -q --hard %s || true" % name)


# a host reflog of topic padded past the start's copy (1 MiB) with lines
# of the host's own commits
def pad_reflog(box, home, repo, name, lines):
    h = host(box, ["/usr/bin/python3", "-c",
                   "import subprocess, sys\n"
                   "a, b = subprocess.check_output(['git', 'rev-parse', 'HEAD~1', 'HEAD'], "
                   "text=True).split()\n"
                   "with open(sys.argv[1], 'w') as f:\n"
                   "    for i in range(int(sys.argv[2])):\n"
                   "        o, n = (a, b) if i % 2 else (b, a)\n"
                   "        f.write('%s %s t <t@x> %d +0000\\treset: moving to %s\\n' % "
                   "(o, n, 1700000000 + i, n))\n"
                   "    f.write('%s %s t <t@x> 1800000000 +0000\\treset: moving to HEAD\\n' "
                   "% (a, b))\n",
                   os.path.join(repo, ".git/logs", name), str(lines)], home, cwd=repo, env=GIT_ENV)
    assert h.returncode == 0, h.stderr


def test_guard_reflog_past_the_copy(box):
    """Guard: topic's reflog past what the start copies (1 MiB; 8,000
    lines of the host's): the sandbox's commit put in it in place as
    topic@{1} is judged with every line, and taken out; the host's lines
    stay."""
    home = host_home(box)
    repo = husky_repo(box, home, "app", extra=" && git branch topic")
    pad_reflog(box, home, repo, "refs/heads/topic", 8000)
    log = os.path.join(repo, ".git/logs/refs/heads/topic")
    assert os.path.getsize(log) > 1 << 20
    with open(log) as f:
        was = f.read()
    planted(in_repo(box, home, repo, "%s && %s && test $(git rev-parse topic@{1}) = $c && "
                    "echo planted" % (EVIL_COMMIT, REWRITE_LOG % ".git/logs/refs/heads/topic")))
    host_commits(box, home, repo, "git reset -q --hard topic@{1} || true")
    with open(log) as f:
        now = f.read()
    assert len(now.splitlines()) == len(was.splitlines()) - 1, "host lines lost"


def test_guard_long_reflog_kept_after_an_ordinary_commit(box):
    """Guard (no attack): HEAD's reflog of 34,000 lines of the host's (a
    few MiB: a long-lived repository, gc.reflogExpire = never), past the
    start's copy, so that a commit inside has every line judged.  Each
    line costs two reads of the end's budget (256 MiB, 4 KiB a read) even
    when it names the same commit: past the budget the rest count as
    changed.  The host's reflog must keep its lines.
    Fails on d9a8565 in every mode."""
    home = host_home(box)
    repo = husky_repo(box, home, "app")
    pad_reflog(box, home, repo, "HEAD", 34000)
    log = os.path.join(repo, ".git/logs/HEAD")
    with open(log) as f:
        was = f.read().splitlines()
    r = in_repo(box, home, repo, "echo y > g && git add g && git commit -qnm mine && echo planted")
    planted(r)
    with open(log) as f:
        now = f.read().splitlines()
    kept = set(now)
    lost = len([l for l in was if l not in kept])
    assert not lost, "%d of the host's %d lines of HEAD's reflog taken out: %s" % (
        lost, len(was), r.stderr[-600:])
    assert len(now) == len(was) + 1, r.stderr


def test_guard_expired_reflog_left_as_it_is(box):
    """Guard (no attack): HEAD's reflog past the start's copy (1 MiB), its
    oldest entries expired as gc does after 90 days, so that its first
    line's OLD id is no zero id: an ordinary commit inside has every line
    judged, and must leave the host's lines as they are and say nothing of
    a commit in a reflog.  check_reflog() makes each judged line's OLD id
    its predecessor's NEW, zeros for the first: the host's first line is
    rewritten, and the run is said to have recorded content at a protected
    path (the warning a user is told to review).
    Fails on d9a8565 in every mode."""
    home = host_home(box)
    repo = husky_repo(box, home, "app")
    pad_reflog(box, home, repo, "HEAD", 8000)
    log = os.path.join(repo, ".git/logs/HEAD")
    with open(log) as f:
        was = f.read()
    assert not was.startswith("0" * 40), was[:100]
    r = in_repo(box, home, repo, "echo y > g && git add g && git commit -qnm mine && echo planted")
    planted(r)
    with open(log) as f:
        now = f.read()
    assert now.startswith(was), "the host's reflog rewritten: %r... -> %r..." % (
        was[:90], now[:90])
    assert "a commit in a reflog" not in r.stderr, r.stderr


# ---- a repository the walk at start did not find -------------------------

UNSAID = {
    # the remote's branch (loose, in refs/remotes/origin): only that
    # directory changes; `git reset --hard origin/main`
    "remote-branch": ("origin/main", "git update-ref refs/remotes/origin/main $c"),
    # a branch in a directory of its own (feature/x): `git checkout feature/x`
    "branch-in-a-directory": ("feature/x", "git update-ref refs/heads/feature/x $c"),
    # the branch's reflog rewritten in its own inode: `git reset --hard @{1}`
    "reflog-in-place": ("main@{1}", REWRITE_LOG % ".git/logs/refs/heads/main"),
    # ORIG_HEAD, which `git reset --hard ORIG_HEAD` takes
    "orig-head": ("ORIG_HEAD", "echo $c > .git/ORIG_HEAD"),
}


@pytest.mark.parametrize("how", sorted(UNSAID))
def test_unsaid_change_in_an_unfound_repository(box, how):
    """Hole (in what is said): a repository below a directory whose name
    starts with '.' is not found at start, and not checked (a known
    limit); a change the run made to its index, HEAD or refs is to be said
    at exit (gitscan.c, unheld_changes()), which looks at the times of
    index, HEAD, packed-refs, refs, refs/heads, refs/tags, refs/remotes,
    logs/HEAD and logs/refs/heads only.  A ref one directory further
    (refs/remotes/origin/main, refs/heads/feature/x), a reflog rewritten
    in its own inode, or ORIG_HEAD changes none of them: nothing is said,
    and the host's `git reset --hard NAME` there writes the hook.
    Fails on d9a8565 in every mode."""
    home = host_home(box)
    repo = husky_repo(box, home, ".attic/app",
                      extra=" && git update-ref refs/remotes/origin/main HEAD && "
                      "git branch feature/x && git branch -f feature/x HEAD~1 && "
                      "git branch -f feature/x HEAD")
    name, plant = UNSAID[how]
    r = in_repo(box, home, repo, "%s && %s && test $(git rev-parse %s) = $c && echo planted"
                % (EVIL_COMMIT, plant, name))
    planted(r)
    said = [l for l in r.stderr.splitlines() if "the start did not find" in l and repo in l]
    assert said, "nothing said of %s: %s" % (repo, r.stderr)


def test_guard_index_rewritten_in_place_in_an_unfound_repository_is_said(box):
    """Guard: the index of a repository the walk did not find, staged into
    and written back in its own inode (no rename: the directory's times
    stay): its own time moved, and that is said."""
    home = host_home(box)
    repo = husky_repo(box, home, ".attic/app")
    r = in_repo(box, home, repo,
                "cp .git/index i && b=$(%s) && GIT_INDEX_FILE=i git update-index --cacheinfo "
                "100755,$b,.husky/pre-commit && cat i > .git/index && rm i && "
                "git ls-files -s .husky/pre-commit | grep -q $b && echo planted" % HOOK)
    planted(r)
    said = [l for l in r.stderr.splitlines() if "the start did not find" in l and repo in l]
    assert said, r.stderr


def test_split_index_in_an_unfound_repository(box):
    """Hole (in what is said): the same repository keeping a split index:
    the shared file rewritten in its own inode (test_split_index_shared_
    file_rewritten) changes neither the index nor anything else
    unheld_changes() looks at; nothing is said.
    Fails on d9a8565 in every mode."""
    home = host_home(box)
    repo = husky_repo(box, home, ".attic/app",
                      extra=" && touch -d @1700000000 f .husky/pre-commit && "
                      "git config core.splitIndex true && git status -s && "
                      "git update-index --split-index")
    py = box.write("bin/shared.py", SHARED_PY)
    r = in_repo(box, home, repo,
                "b=$(%s) && chmod u+w .git/sharedindex.* && /usr/bin/python3 '%s' $b && "
                "git ls-files -s .husky/pre-commit | grep -q $b && echo planted" % (HOOK, py))
    planted(r)
    said = [l for l in r.stderr.splitlines() if "the start did not find" in l and repo in l]
    assert said, "nothing said of %s: %s" % (repo, r.stderr)


# ---- a bare repository the walk does not take for one ----------------------


@pytest.mark.xfail(strict=True, reason="a known limit (SECURITY.md): a bare repository not "
                   "named NAME.git is not found at start; what the run changed there is said")
def test_bare_remote_not_named_dot_git(box):
    """Hole: a bare repository in the grant named without `.git`
    (`git clone --bare app origin`, the remote of `app` beside it): the
    walk at start probes only names ending in .git, so its branches are
    not checked; the sandbox commits its hook on origin's main and the
    host's `git pull` in app writes it.  (Its changed refs are said at
    exit, as for a repository the walk did not find.)
    Fails on d9a8565 in every mode."""
    home = host_home(box)
    repo = husky_repo(box, home, "app")
    h = host(box, ["sh", "-c", "git clone -q --bare app origin && cd app && "
                   "git remote add origin ../origin && git fetch -q origin && "
                   "git branch -q -u origin/main"], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    r = sandbox(box, home,
                "cd origin && export GIT_INDEX_FILE=$(mktemp -u) && git read-tree main && "
                "b=$(%s) && git update-index --cacheinfo 100755,$b,.husky/pre-commit && "
                "c=$(echo lint | git commit-tree $(git write-tree) -p main) && "
                "git update-ref refs/heads/main $c && "
                "test \"$(git cat-file -p main:.husky/pre-commit | tail -1)\" = '%s' && "
                "echo planted" % (HOOK, TOUCH))
    planted(r)
    host_commits(box, home, repo, "git pull -q --ff-only")


# ---- ordinary git work inside: the host's refs, reflogs and index stay -------

# one after the other, in one run: what an agent does in a session
ORDINARY = ("echo y >> f && git commit -qnam mine && git commit -qn --amend -m amended && "
            "git rebase -q main topic && git checkout -q main && "
            "git merge -q --no-edit topic && git reset -q --hard HEAD~1 && "
            "git fetch -q origin && git checkout -qb new && echo n > n && git add n && "
            "git commit -qnm n && git checkout -q main && git tag v2 && git branch -D -q new")


def reflogs(repo):
    out = {}
    top = os.path.join(repo, ".git/logs")
    for dp, dn, fn in os.walk(top):
        for n in fn:
            with open(os.path.join(dp, n)) as f:
                out[os.path.relpath(os.path.join(dp, n), top)] = f.read().splitlines()
    return out


def busy_repo(box, home, layout):
    """The host's repository (LAYOUT) with a branch `topic`, an annotated
    tag v1, a stash entry, and a local remote `origin` (a repository of
    the grant, ignored by the project) holding a commit not fetched yet."""
    repo = repo_for(box, home, layout)
    up = husky_repo(box, home, os.path.join(box.work, "upstream"))
    h = host(box, ["sh", "-c", "echo /upstream/ >> .git/info/exclude && "
                   "git remote add origin '%s' && git fetch -q origin && "
                   "git checkout -qb topic HEAD~1 && echo t > t && git add t && "
                   "git commit -qnm topic && git checkout -q main && git tag -a v1 -m v1 && "
                   "echo s >> f && git stash -q && cd '%s' && echo u > u && git add u && "
                   "git commit -qnm up" % (up, up)], home, cwd=repo, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    return repo


def light_repo(box, home, layout):
    """The host's repository (LAYOUT) with a branch `topic` and a loose
    annotated tag v1."""
    return repo_for(box, home, layout,
                    extra=" && git checkout -qb topic HEAD~1 && echo t > t && git add t && "
                    "git commit -qnm topic && git checkout -q main && git tag -a v1 -m v1")


def nothing_taken(box, home, repo, r, was):
    """Nothing set back, taken out or moved aside; the host's reflog lines
    all there; its tag and stash entry (if any) read."""
    said = [l for l in r.stderr.splitlines() if "ringfence:" in l and (
        "recorded" in l or "blocked" in l or "moved aside" in l or "did not find" in l)]
    assert not said, r.stderr
    assert not os.path.exists(os.path.join(repo, ".git/refs/ringfence-blocked"))
    assert os.path.isfile(os.path.join(repo, ".git/index"))
    now = reflogs(repo)
    for name, lines in was.items():
        kept = set(now.get(name, ()))
        lost = [l for l in lines if l not in kept]
        assert not lost, "%s lost the host's %s" % (name, lost)
    g = host(box, ["sh", "-c", "git fsck --no-dangling && git rev-parse -q --verify v1 && "
                   "{ ! test -f .git/refs/stash || git rev-parse -q --verify stash@{0}; } && "
                   "git status --short"], home, cwd=repo, env=GIT_ENV)
    assert g.returncode == 0, g.stdout + g.stderr


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_guard_ordinary_git_work_keeps_the_hosts_data(box, layout):
    """Guard (no attack): ordinary git work inside (commit, amend, rebase,
    merge, reset, fetch from a local remote, a branch made and deleted, a
    lightweight tag) in a repository of the host's with a branch, an
    annotated tag, a stash entry, a local remote and their reflogs:
    nothing is set back, taken out or moved aside, and the host's reflog
    lines are all still there."""
    home = host_home(box)
    repo = busy_repo(box, home, layout)
    was = reflogs(repo)
    r = in_repo(box, home, repo, ORDINARY + " && echo planted")
    planted(r)
    nothing_taken(box, home, repo, r, was)


def test_guard_cherry_pick_says_nothing(box):
    """Guard (no attack), a false alarm: `git cherry-pick` inside (and
    `git stash pop`: git's merge machinery) leaves AUTO_MERGE, which names
    a tree, not a commit; gh_check_pseudo() judges it as a commit, removes
    it, and says the sandbox recorded content at a protected path other
    than the host's (the line a user is told to review).
    Fails on d9a8565 in every mode."""
    home = host_home(box)
    repo = light_repo(box, home, "grant-of-repos")
    was = reflogs(repo)
    r = in_repo(box, home, repo, "git cherry-pick topic >/dev/null && echo planted")
    planted(r)
    nothing_taken(box, home, repo, r, was)


def test_guard_annotated_tag_made_inside(box):
    """Guard (no attack): `git tag -a v2` inside (a release, as agents are
    asked to make) names a tag object the run made: gh_history_ok() walks
    the history below a new object as a commit's (parents()), a tag has
    none that reads, so the tag fails, is removed and kept as
    refs/ringfence-blocked/tags/v2, as if it held a hook.
    Fails on d9a8565 in every mode."""
    home = host_home(box)
    repo = light_repo(box, home, "grant-of-repos")
    was = reflogs(repo)
    r = in_repo(box, home, repo, "git tag -a v2 -m v2 && echo planted")
    planted(r)
    nothing_taken(box, home, repo, r, was)
    t = host(box, ["git", "rev-parse", "-q", "--verify", "v2^{commit}"], home, cwd=repo,
             env=GIT_ENV)
    assert t.returncode == 0, "the sandbox's tag v2 is gone"


PACKING = {
    "pack-refs": "git pack-refs --all",
    # gc packs the refs first; what it writes after (objects/info) is
    # refused inside, so it fails, the refs packed
    "gc": "git gc -q 2>/dev/null; true",
}


@pytest.mark.parametrize("op,layout", [("pack-refs", "grant"), ("gc", "grant-of-repos")])
def test_guard_packing_refs_keeps_the_hosts_annotated_tag(box, layout, op):
    """Guard (no attack), the host's data: `git pack-refs --all` (or `git
    gc`, which starts with it) inside moves the host's loose tag v1 into
    packed-refs, a line the start's copy did not have; it names the
    host's annotated tag object, which is no commit of the host's history
    (gh_host_has()) and has no parents to walk: the host's own release tag
    is removed from packed-refs (kept as refs/ringfence-blocked/tags/v1,
    where `git tag` does not list it). Fails on d9a8565 in every mode."""
    home = host_home(box)
    repo = light_repo(box, home, layout)
    assert os.path.isfile(os.path.join(repo, ".git/refs/tags/v1"))
    was = reflogs(repo)
    r = in_repo(box, home, repo, PACKING[op] + " && echo planted")
    planted(r)
    t = host(box, ["git", "tag", "-l"], home, cwd=repo, env=GIT_ENV)
    assert t.stdout.split() == ["v1"], "the host's tag v1 is gone: %s" % r.stderr
    nothing_taken(box, home, repo, r, was)


def test_guard_commit_moving_an_embedded_repository(box):
    """Guard (no attack): the project holds another repository of the
    host's, `lib` (its own .git, core.hooksPath = .husky), committed as a
    gitlink (`git add` of a nested clone: a submodule without
    .gitmodules); the host has a commit in lib the project does not point
    to yet.  The sandbox's `git commit -a` moves the gitlink, as git does:
    lib's hooks path, made absolute, is a protected path of the project
    (lib/.husky), and a gitlink on the way to it is judged (on_entry()):
    the new one is not the start's, so the index is put back and main set
    back, the sandbox's ordinary commit blocked.
    Fails on d9a8565 in every mode."""
    home = host_home(box)
    repo = husky_repo(box, home, "app")
    husky_repo(box, home, "app/lib")
    h = host(box, ["sh", "-c", "git add lib 2>/dev/null && git commit -qnm lib && "
                   "cd lib && echo u > u && git add u && git commit -qnm u"], home, cwd=repo,
             env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    r = in_repo(box, home, repo, "echo y >> f && git commit -qnam mine && "
                "git ls-tree HEAD lib | grep -q $(git -C lib rev-parse HEAD) && echo planted")
    planted(r)
    said = [l for l in r.stderr.splitlines() if "recorded" in l]
    assert not said, r.stderr
    c = host(box, ["git", "log", "-1", "--format=%s", "main"], home, cwd=repo, env=GIT_ENV)
    assert c.stdout.strip() == "mine", c.stdout + r.stderr


# ---- a large index the host stages in ---------------------------------------

# the host's index grown past 16 MiB (feature.manyFiles' size) with entries
# of f's blob, its trailer the checksum or, as index.skipHash (git 2.40's
# feature.manyFiles) writes it, zeros
BIG_INDEX_PY = r'''
import hashlib, struct, subprocess, sys
oid = bytes.fromhex(subprocess.check_output(["git", "rev-parse", ":f"], text=True).strip())
d = open(".git/index", "rb").read()
ver, n = struct.unpack(">II", d[4:12])
assert ver == 2
ents, off = [], 12
for _ in range(n):
    end = d.index(b"\0", off + 62)
    ents.append((d[off + 62:end], d[off:off + 62]))
    off += ((62 + end - off - 62 + 8) // 8) * 8
fixed = b"\0" * 24 + struct.pack(">IIII", 0o100644, 0, 0, 2) + oid
for i in range(int(sys.argv[1])):
    name = ("vendor/%03d/%05d-" % (i // 100, i)).encode() + b"x" * 2000
    ents.append((name, fixed + b"\0\0"))
out = [b"DIRC" + struct.pack(">II", 2, len(ents))]
for name, fx in sorted(ents):
    e = fx[:60] + struct.pack(">H", min(len(name), 0xfff)) + name
    out.append(e + b"\0" * (((62 + len(name) + 8) // 8) * 8 - len(e)))
out = b"".join(out)
out += b"\0" * 20 if sys.argv[2] == "skiphash" else hashlib.sha1(out).digest()
open(".git/index.new", "wb").write(out)
'''


def test_guard_large_index_with_a_staged_hook_of_the_hosts(box):
    """Guard (no attack), the host's data: the host has staged its own new
    version of .husky/pre-commit (not committed yet) in an index past 16
    MiB (a monorepo's; here 8,500 entries of long names); the sandbox's `git add g`
    replaces the index, as git does.  The held index must then read as
    the start's: with a checksum, its content hashes to it (the same run
    then passes), but an index.skipHash index (zeros where the checksum
    is: git 2.40's feature.manyFiles) past the 16 MiB copy cannot be told,
    the baseline lacks the host's staged hook, and the index is moved
    aside: the host's staging, and git's view of every file, gone.
    Fails on d9a8565 in every mode."""
    home = host_home(box)
    repo = husky_repo(box, home, "app")
    py = box.write("bin/bigindex.py", BIG_INDEX_PY)
    h = host(box, ["sh", "-c", "printf '#!/bin/sh\\n%s\\necho v2\\n' > .husky/pre-commit && "
                   "git add .husky/pre-commit && /usr/bin/python3 '%s' 8500 %s && "
                   "mv .git/index.new .git/index && git ls-files -s .husky/pre-commit"
                   % (HOST_HOOK, py, "skiphash")], home, cwd=repo, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    staged = h.stdout.split()[1]
    assert os.path.getsize(os.path.join(repo, ".git/index")) > 16 << 20
    r = in_repo(box, home, repo, "echo y > g && git add g && echo planted")
    planted(r)
    s = host(box, ["git", "ls-files", "-s", ".husky/pre-commit", "g"], home, cwd=repo,
             env=GIT_ENV)
    assert staged in s.stdout and "\tg\n" in s.stdout, "the host's index: %r\n%s" % (
        s.stdout, r.stderr)


# ---- guards: what lies on the way, included files, git directories --------

WAY = {
    # the index: tools/git staged as a link to evil, its hook beneath
    "index": "git rm -q --cached -r tools/git && l=$(printf ../evil | git hash-object -w --stdin) "
             "&& git update-index --add --cacheinfo 120000,$l,tools/git && "
             "git update-index --add --cacheinfo 100755,$b,evil/hooks/pre-commit && "
             "test \"$(git cat-file -p :tools/git)\" = ../evil",
    # a commit of that index on main
    "commit": "export GIT_INDEX_FILE=$(mktemp -u) && git read-tree HEAD && "
              "git rm -q --cached -r tools/git && l=$(printf ../evil | git hash-object -w --stdin) "
              "&& git update-index --add --cacheinfo 120000,$l,tools/git && "
              "git update-index --add --cacheinfo 100755,$b,evil/hooks/pre-commit && "
              "c=$(echo lint | git commit-tree $(git write-tree) -p HEAD) && "
              "git update-ref refs/heads/main $c && "
              "test \"$(git cat-file -p main:tools/git)\" = ../evil",
}


@pytest.mark.parametrize("where,layout", [("index", "grant"), ("commit", "grant-of-repos")])
def test_guard_link_deeper_on_the_way(box, layout, where):
    """Guard: core.hooksPath = tools/git/hooks; tools/git (a directory two
    levels above the hooks, below the top) staged or committed as a
    symbolic link to evil/, where the sandbox's hook is: the link on the
    way is judged (85910df), and the host's `git checkout -- .` (`git
    reset --hard`) does not write it."""
    home = host_home(box)
    repo = repo_for(box, home, layout,
                    extra=" && mkdir -p tools/git/hooks && "
                    "git mv .husky/pre-commit tools/git/hooks/ "
                    "&& echo make > tools/build.sh && git add -A && "
                    "git config core.hooksPath tools/git/hooks && git commit -qnm tools")
    planted(in_repo(box, home, repo, "b=$(%s) && %s && echo planted" % (HOOK, WAY[where])))
    host_commits(box, home, repo, "git checkout -- ." if where == "index" else
                 "git reset -q --hard")


# app's config includes tools/shared.gitconfig (tracked in the repository
# tools beside it), by these values
INCLUDES = {
    "dot-dot": "[include]\n\tpath = ../../tools/shared.gitconfig\n",
    # app's own tracked file includes it, relative to that file
    "nested": "[include]\n\tpath = ../app.gitconfig\n",
}


@pytest.mark.parametrize("how", sorted(INCLUDES))
def test_guard_include_of_a_file_in_another_repository(box, how):
    """Guard: app's config includes a file tracked in the repository
    `tools` beside it (a shared configuration), by `..`, an absolute path,
    an includeIf of any condition, or through a file of app's own: it is a
    protected path of tools (9da38b9), so its staged version with a
    core.fsmonitor is taken out, and the host's `git checkout -- .` in
    tools does not write it for app's next git command to run."""
    home = host_home(box)
    tools = os.path.join(box.work, "tools")
    os.makedirs(tools)
    chown_tree(box, box.work)
    h = host(box, ["sh", "-c", "git init -q -b main && printf '[user]\\n\\tname = t\\n' > "
                   "shared.gitconfig && git add -A && git commit -qm cfg"], home, cwd=tools,
             env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    app = husky_repo(box, home, "app", extra="" if how != "nested" else
                     " && printf '[include]\\n\\tpath = ../tools/shared.gitconfig\\n' > "
                     "app.gitconfig && git add -A && git commit -qnm cfg")
    with open(os.path.join(app, ".git/config"), "a") as f:
        f.write(INCLUDES[how] % {"work": box.work})
    evil = box.write("bin/evil.gitconfig", '[core]\n\tfsmonitor = touch \\"$HOME/MARK\\"\n')
    planted(in_repo(box, home, tools,
                    "b=$(git hash-object -w '%s') && "
                    "git update-index --cacheinfo 100644,$b,shared.gitconfig && "
                    "git cat-file -p :shared.gitconfig | grep -q fsmonitor && echo planted" % evil))
    host_commits(box, home, app, "git checkout -- .", op_cwd=tools)


def gitdir_in_modules(box, home, holder):
    """The host's `app`, its .git a gitdir: file naming HOLDER/.git/
    modules/app (no submodule of holder's: one moved out of it with `mv`,
    not `git mv`, or made by `git init --separate-git-dir`)."""
    hold = husky_repo(box, home, holder)
    gitdir = os.path.join(hold, ".git/modules/app")
    os.makedirs(os.path.dirname(gitdir), exist_ok=True)
    chown_tree(box, os.path.dirname(gitdir))
    repo = husky_repo(box, home, "app", init="--separate-git-dir=%s" % gitdir)
    with open(os.path.join(repo, ".git")) as f:
        assert f.read().startswith("gitdir: ")
    return repo


def test_guard_gitdir_in_a_found_repositorys_modules(box):
    """Guard: git_dir_of() leaves a git directory beneath another's
    .git/modules to that one's protection; holder, found at start, has
    its .git/modules read-only inside, so the sandbox cannot stage in app.
    Control: the command ran."""
    home = host_home(box)
    repo = gitdir_in_modules(box, home, "holder")
    r = in_repo(box, home, repo, "echo ran; " + STAGE)
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    host_commits(box, home, repo, "git checkout -- .")


def test_gitdir_in_an_unfound_repositorys_modules(box):
    """Hole: the same, holder four levels down (past the walk; a
    superproject a submodule was moved out of): app, found at the grant's
    top, is not checked (its git directory is under /.git/modules/), and
    nothing is said at exit (unheld_changes() is asked about no git
    directory under modules/).  The host's `git checkout -- .` in app
    writes the staged hook.  Fails on d9a8565 in every mode."""
    home = host_home(box)
    repo = gitdir_in_modules(box, home, "a/b/c/holder")
    planted(in_repo(box, home, repo, STAGE))
    host_commits(box, home, repo, "git checkout -- .")


def test_guard_cwd_below_a_grant_named_through_a_link(box):
    """Guard: the write grant named in the policy through a symbolic link
    (`write = ~/src`, ~/src a link to the disk holding the projects), the
    command started in a repository five levels below it (past the walk's
    three: found only on the way down to the working directory, which
    getcwd() gives as the link's target).  The repository is found and
    checked: its staged hook is taken out."""
    home = host_home(box)
    repo = husky_repo(box, home, "o/r/g/x/app")
    link = box.path("src")
    os.symlink(box.work, link)
    pol = box.policy("[filesystem]\nwrite = %s\n" % link)
    r = box.run(["sh", "-c", INSIDE_GIT + STAGE], policy=pol, cwd=repo,
                env=dict(GIT_ENV, HOME=home))
    planted(r)
    host_commits(box, home, repo, "git checkout -- .")


def test_guard_repositories_past_the_descriptors_are_said(box):
    """Guard: a grant of 8 repositories, ringfence started with 266
    descriptors (RLIMIT_NOFILE, soft and hard): room for 5 held (two
    each, past a reserve of 256).  The rest is said at start, and the
    hook the sandbox stages in the last one is said at exit (a repository
    the start did not hold)."""
    home = host_home(box)
    husky_repo(box, home, "p00")
    h = host(box, ["sh", "-c", "for i in $(seq -f %02g 1 7); do cp -a p00 p$i || exit 1; done"],
             home, cwd=box.work)
    assert h.returncode == 0, h.stderr
    argv = ["prlimit", "--nofile=266:266", box.ringfence, "-p", box.policy(""), "--", "sh", "-c",
            INSIDE_GIT + "for d in p*; do (cd $d && %s); done" % STAGE]
    r = subprocess.run(box.cmd(argv), cwd=box.work, env=box.env(dict(GIT_ENV, HOME=home)),
                       capture_output=True, text=True, timeout=120)
    planted(r, 8)
    assert "too many repositories in the write grants" in r.stderr, r.stderr
    said = set(re.findall(r"(\S+/p\d\d)/\.git: the sandbox changed its index", r.stderr))
    checked = set(re.findall(r"the index \(\.husky/pre-commit\) of (\S+/p\d\d),", r.stderr))
    assert len(said | checked) == 8 and said and not said & checked, r.stderr
