# SPDX-License-Identifier: MIT
"""A protected hook's content kept in a repository where the end-of-run
check of its refs, reflogs, index and packs does not look, or put there
by the check itself (third round, after the reflogs, FETCH_HEAD and the
state files are judged).

The host's project holds .husky/pre-commit (core.hooksPath = .husky:
protected; tools/hooks in the sparse index tests).  Each test plants,
from inside, objects and a pointer to them (a ref, a reflog line, a file
beside HEAD, the index, a pack), no worktree file; the sandbox's git
reading the hook through that pointer is the control that the plant was
made.  Then the host runs a git command a user runs, then a commit, and
the test asserts the host ran nothing (no mark).

Holes (see each test for the modes it FAILS in on 1b6060d):
  - test_object_id_in_capitals[*]: git reads an object id in hex of
    either case (get_oid_hex(), parse_oid_hex(): hexval_table maps A-F
    as a-f), in a loose ref, a packed-refs line, FETCH_HEAD, a reflog's
    message; gitobj_hexval() (gitobj.c:60-63)
    takes only 0-9a-f, so gitobj_parse_oid() finds no id:
      branch: the branch HEAD is on, its loose file holding the
        sandbox's commit's id in capitals: gh_read_ref() (gitrefs.c:254)
        returns false with no target, gh_check_ref_file() (gitrefs.c:
        323-337) neither judges it nor takes it for a symbolic ref;
        check_head() resolves HEAD to nothing (gh_resolve() false) and
        lets it be.  `git reset --hard` writes the hook.  FAILS in
        every mode (refs/ is bound writable in the view);
      new-branch: the same for a branch of the sandbox's (`git checkout
        lint`).  FAILS in every mode;
      packed: a branch in packed-refs only, its line's id in capitals:
        gh_check_packed() (gitrefs.c:502) wants sz == r->o.sz and passes
        the line over.  FAILS without namespaces (root-nons, user-nons):
        with them the view's own format check (gitview_format.c is_hex(),
        lower case only) keeps the file from being carried back;
      fetch-head: FETCH_HEAD's id in capitals: gh_check_pseudo()
        (gitrefs.c:698) judges only lines whose id parses, ok stays
        true.  `git merge --ff-only FETCH_HEAD` (`git pull`'s second
        half) fast-forwards the branch to it.  FAILS without namespaces
        (root-nons, user-nons), as packed;
      checkout-from: a HEAD reflog entry "checkout: moving from <ID> to
        main", the sandbox's commit's id in capitals: checkout_from_ok()
        (gitrefs.c:570-580) parses no id, and its "a revision, not a
        name" test takes only lower-case hex for hex: it returns true.
        `git checkout -` checks the commit out.  FAILS in every mode;
  - test_checkout_from_a_name_outside_the_refs[*]: the HEAD reflog
    entry "checkout: moving from NAME to main": checkout_from_ok()
    (gitrefs.c:561-581) lets any name without ~^@:{} or a space through
    as "judged as a ref", but git resolves NAME first as $GIT_DIR/NAME
    (the "%.*s" rule of ref_rev_parse_rules, any name check_refname_format
    takes), and `git checkout -` checks that commit out (detached):
      toplevel: .git/lint, a file beside HEAD nothing at the end reads.
        FAILS without namespaces (root-nons, user-nons): with them the
        view carries back only the files it lists (gitview_format.c carried[]);
      logs: .git/logs/lint (git takes a file's first id: a reflog's
        first OLD too); logs/ is bound writable in the view.  FAILS in
        every mode;
      blocked: .git/refs/ringfence-blocked/lint: gh_walk_refs()
        (gitrefs.c:361-362) passes over refs/ringfence-blocked whole, and
        gh_check_ref() (gitrefs.c:177) returns for any name in it: the
        sandbox writes there what it likes.  FAILS in every mode;
  - test_merge_autostash: a merge "in progress" (MERGE_HEAD naming HEAD's
    own commit: it passes) and MERGE_AUTOSTASH naming a stash commit of
    the sandbox's whose worktree holds its hook: MERGE_AUTOSTASH is not
    in gh_check_pseudo()'s list (gitrefs.c:678-681), nor in the view's carried[].  `git merge
    --abort` resets, then applies that stash (`git stash apply`): the
    hook is written.  FAILS without namespaces (root-nons, user-nons):
    with them the view does not carry MERGE_AUTOSTASH back.
  - test_sparse_directory_entry_above_the_hooks: core.hooksPath =
    tools/hooks (protected), the index handed back as a sparse index
    (version 3, the "sdir" extension) whose entry "tools/" (mode 040000,
    skip-worktree) names a tree with the sandbox's hook at
    hooks/pre-commit.  git expands a sparse directory entry on read
    whatever the configuration (ensure_full_index()); on_entry()
    (githeads.c:98-110) judges only paths at or beneath a protected one
    (is_protected(), githeads.c:83-96), and "tools/" is above.  The host's
    `git commit -a` commits the hook (git status says "M"), `git worktree
    add` writes it, the commit there runs it.  FAILS in every mode;
  - test_split_index_replacement_entry: `git update-index --split-index`
    (the host's entries, its hook's with them, in a new
    .git/sharedindex.<id>), then the sandbox's hook staged by git: git
    writes it in the index file as a replacement of the shared entry,
    its name empty (CE_STRIP_NAME; the "link" extension's replace bitmap
    says which shared entry it replaces).  check_index() (githeads.c:
    200-213) judges each file on its own: the index file's entry has the
    name "", which is_protected() takes for no protected path, and the
    shared file has the host's content.  git merges them on read
    (merge_base_index()): `git checkout -- .` writes the hook.  FAILS in
    every mode (the view carries sharedindex.* back);
  - test_reflog_of_the_branch_head_is_on_at_the_end[checkout, rename]:
    gh_read_reflogs() (gitrefs.c:546-556) copies the reflog of the
    branch HEAD was on at the start only, and check_reflog() judges only
    the reflogs copied.  HEAD moved to a new branch at the same commit
    (`git checkout -b topic`; or the branch renamed as `git branch -m`
    does, refs/heads/ and logs/refs/heads/ files renamed): HEAD passes
    check_head() (its branch names the host's commit), and
    logs/refs/heads/topic says the sandbox's commit was the branch's one
    entry ago.  The host's `git reset --hard @{1}` (its current branch's
    previous position, not another branch's topic@{1}) writes the hook.
    FAILS in every mode;
  - test_checkout_from_in_a_message_read_elsewhere[no-tab, tab-in-name]:
    check_reflog() (gitrefs.c:630-634) takes an entry's message to
    start after the line's first tab, and passes an entry with no tab
    without checkout_from_ok(); git's reflog reader
    (show_one_reflog_ent()) takes it to start right after the time
    zone's 5 characters, past one tab if one is there.  "... +0000checkout:
    moving from <the sandbox's commit> to main" (no tab), or a tab in the
    committer's name before the zone's: the NEW field is HEAD's commit
    (it passes), the message is never judged, and `git checkout -`
    checks the sandbox's commit out.  FAILS in every mode;
  - test_forged_pack_entry_renamed_to_the_hosts_blob: drop_entries()
    (gitcheck.c:163-235) renames each forged entry of a pack one step
    below its name (name_step(), gitcheck.c:140-151), or above, "a name
    no content has", after every check (gitcheck.c:370-372) and reads
    nothing again.  A new pack of one entry: the sandbox's hook under the
    name one above the id of HEAD's hook blob.  Found forged, it is
    renamed to that very id: the host's blob, loose, is shadowed (git
    searches packs first).  `git worktree add` writes the sandbox's hook.
    FAILS in every mode;
  - test_symbolic_ref_target_after_other_white_space[lf, cr]:
    gh_read_ref() (gitrefs.c:245-250) skips only spaces and tabs after
    "ref:" and cuts the target at the first space, tab, CR or LF; git
    (parse_loose_ref_contents()) skips any white space there, LF and CR
    too.  A new branch refs/heads/lint holding "ref:\\nrefs/ringfence-
    blocked/lint": here a symbolic ref to "" (gh_check_ref_file() does
    nothing with an empty target), to git one to refs/ringfence-blocked/
    lint, which the walk passes over, naming the sandbox's commit.  `git
    checkout lint` checks it out.  FAILS in every mode;
  - test_bisect_start_names_a_ref_outside_the_refs: BISECT_START holds,
    for a bisect started on a branch, the branch's name, which `git
    bisect reset` checks out (`git checkout NAME --`); gh_check_pseudo()
    (gitrefs.c:693-700) judges only lines that start with an object id.
    BISECT_START "refs/ringfence-blocked/lint", that ref naming the
    sandbox's commit: `git bisect reset` checks it out.  FAILS without
    namespaces (root-nons, user-nons): with them the view does not carry
    BISECT_START back;
Guards (pass on 1b6060d): test_guard_object_id_in_capitals_judged:
HEAD detached at an id in capitals (check_head() takes it for a symbolic
ref outside refs/ and puts the start's back), a HEAD reflog entry whose
NEW is in capitals (parsed as none, taken out);
test_guard_process_left_writing_after_the_exit: a process left behind
(setsid, a double fork, SIGTERM ignored) writing the branch HEAD is on
after the command's exit is ended before the end's checks, with
namespaces and without;
test_guard_sparse_directory_entry_at_the_hooks: the sparse entry at the
hooks' own directory (".husky/") is judged, and a plain entry staged at
tools/hooks/pre-commit too (the control that tools/hooks is protected).
"""
import os
import time

import pytest

from test_gitobjects_attacks import EVIL, REWRITE, commit_after, project
from test_gitobjects_round2_attacks import FORGE2
from test_hostfiles_attacks import GIT_ENV, chown_tree, host

# Run in the sandbox (cwd: the project): argv[1] the way, argv[2] the
# hook text, argv[3] a kind.  Prints "planted" when its own git reads the
# hook through what it planted.  FORGE2's prelude and helpers
# (evil_commit: HEAD's tree but for the hook, HEAD its parent).
FORGE3 = FORGE2.split("\nname = None\n")[0] + r'''
import time

name = None
# a commit of the sandbox's (where HEAD's tree has .husky)
NO_COMMIT = ("sdir", "staged-at", "split-replace", "name-step")
e = evil_commit("HEAD") if way not in NO_COMMIT else ""
E = e.upper()
h, b = rev("HEAD"), git("symbolic-ref", "--short", "HEAD").decode().strip()


def reflog_from(what):
    """HEAD's reflog: a checkout from WHAT to the branch, HEAD staying."""
    with open(".git/logs/HEAD", "a") as f:
        f.write("%s %s t <t@x> %d +0000\tcheckout: moving from %s to %s\n"
                % (h, h, int(time.time()), what, b))


if way == "upper":
    if arg == "branch":
        with open(".git/refs/heads/" + b, "w") as f:
            f.write(E + "\n")
        name = "HEAD:.husky/pre-commit"
    elif arg == "new-branch":
        with open(".git/refs/heads/lint", "w") as f:
            f.write(E + "\n")
        name = "lint:.husky/pre-commit"
    elif arg == "packed":
        git("update-ref", "refs/heads/lint", e)
        git("pack-refs", "--all")
        with open(".git/packed-refs") as f:
            text = f.read()
        assert e in text
        with open(".git/packed-refs", "w") as f:
            f.write(text.replace(e, E))
        name = "lint:.husky/pre-commit"
    elif arg == "fetch-head":
        with open(".git/FETCH_HEAD", "w") as f:
            f.write("%s\t\tbranch 'main' of https://example.com/r\n" % E)
        name = "FETCH_HEAD:.husky/pre-commit"
    elif arg == "checkout-from":
        reflog_from(E)
        name = "@{-1}:.husky/pre-commit"
    elif arg == "head":
        with open(".git/HEAD", "w") as f:
            f.write(E + "\n")
        name = "HEAD:.husky/pre-commit"
    elif arg == "reflog-new":
        # HEAD's reflog: a reset to the commit and back, HEAD staying
        t = int(time.time())
        with open(".git/logs/HEAD", "a") as f:
            f.write("%s %s t <t@x> %d +0000\treset: moving to %s\n" % (h, E, t, E))
            f.write("%s %s t <t@x> %d +0000\treset: moving to %s\n" % (E, h, t, h))
        name = "HEAD@{1}:.husky/pre-commit"
elif way == "name":
    # a name git resolves as $GIT_DIR/NAME (before refs/NAME,
    # refs/tags/NAME, refs/heads/NAME), a file no check reads: one beside
    # HEAD; one in logs/ (git takes a file's first id, a reflog's first
    # OLD); one in refs/ringfence-blocked/, which the walk passes over
    path = {"toplevel": "lint", "logs": "logs/lint",
            "blocked": "refs/ringfence-blocked/lint"}[arg]
    os.makedirs(os.path.dirname(".git/" + path), exist_ok=True)
    with open(".git/" + path, "w") as f:
        f.write(e + "\n")
    reflog_from(path)
    name = "@{-1}:.husky/pre-commit"
elif way == "merge-autostash":
    # a stash commit (as `git stash` makes it: worktree commit, parents
    # HEAD and the index's commit) whose worktree holds the hook
    i = git("commit-tree", rev("HEAD^{tree}"), "-p", h, "-m", "index on %s" % b)
    w = git("commit-tree", rev(e + "^{tree}"), "-p", h, "-p", i.decode().strip(),
            "-m", "WIP on %s" % b).decode().strip()
    with open(".git/MERGE_HEAD", "w") as f:
        f.write(h + "\n")
    with open(".git/MERGE_MSG", "w") as f:
        f.write("Merge branch 'topic'\n")
    with open(".git/MERGE_MODE", "w") as f:
        f.write("")
    with open(".git/MERGE_AUTOSTASH", "w") as f:
        f.write(w + "\n")
    name = "MERGE_AUTOSTASH:.husky/pre-commit"
elif way == "late":
    # a process left behind (setsid, a second fork, SIGTERM ignored)
    # writing the branch HEAD is on, again and again, after the command
    # itself has exited: during the end's checks, or after them
    import signal
    # (the control: the branch reads the sandbox's hook before the exit)
    name = "HEAD:.husky/pre-commit"
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            for fd in (0, 1, 2):
                os.close(fd)
            end = time.time() + float(arg)
            while time.time() < end:
                try:
                    with open(".git/refs/heads/%s.tmp" % b, "w") as f:
                        f.write(e + "\n")
                    os.replace(".git/refs/heads/%s.tmp" % b, ".git/refs/heads/" + b)
                except OSError:
                    pass
                time.sleep(0.01)
            os._exit(0)
        os._exit(0)
    os.wait()
    time.sleep(0.2)
elif way == "sdir":
    # the index as a sparse index (index.sparse): every entry of the
    # host's but those below the top directory of ARG (the hooks'
    # directory), and a sparse directory entry for it (mode 040000,
    # skip-worktree) naming a tree with the sandbox's hook at
    # ARG/pre-commit, the "sdir" extension saying so.  git expands it into
    # entries on read, whatever the repository's configuration.
    top, *below = arg.split("/")
    t = git("mktree", data=b"100755 blob %s\tpre-commit\n" % git(
        "hash-object", "-w", "--stdin", data=evil).strip()).decode().strip()
    for d in reversed(below):
        t = git("mktree", data=b"040000 tree %s\t%s\n" % (t.encode(), d.encode())).decode().strip()
    ents = [(top + "/", 0o040000, t, True)]
    for l in git("ls-files", "-s").decode().splitlines():
        meta, path = l.split("\t", 1)
        mode, oid, _ = meta.split()
        if not path.startswith(top + "/"):
            ents.append((path, int(mode, 8), oid, False))
    ents.sort(key=lambda x: x[0].encode())
    out = b"DIRC" + struct.pack(">II", 3, len(ents))
    for path, mode, oid, skip in ents:
        nm = path.encode()
        ent = (b"\0" * 24 + struct.pack(">IIII", mode, 0, 0, 0) + bytes.fromhex(oid) +
               struct.pack(">H", min(len(nm), 0xfff) | (0x4000 if skip else 0)))
        if skip:
            ent += struct.pack(">H", 0x4000)
        ent += nm
        out += ent + b"\0" * (8 - len(ent) % 8)
    out += b"sdir" + struct.pack(">I", 0)
    out += hashlib.sha1(out).digest()
    with open(".git/index.rf-tmp", "wb") as f:
        f.write(out)
    os.replace(".git/index.rf-tmp", ".git/index")
    name = ":%s/pre-commit" % arg
elif way == "staged-at":
    # the sandbox's hook staged at ARG/pre-commit, a plain entry
    bl = git("hash-object", "-w", "--stdin", data=evil).decode().strip()
    git("update-index", "--cacheinfo", "100755,%s,%s/pre-commit" % (bl, arg))
    name = ":%s/pre-commit" % arg
elif way == "split-replace":
    # the index split as git splits it (`git update-index --split-index`:
    # the host's entries in .git/sharedindex.<id>), then the sandbox's
    # hook staged: git writes it in the index file as a replacement of
    # the shared entry, its name left empty (the "link" extension's
    # replace bitmap gives its position in the shared file)
    git("update-index", "--split-index")
    bl = git("hash-object", "-w", "--stdin", data=evil).decode().strip()
    git("update-index", "--cacheinfo", "100755,%s,.husky/pre-commit" % bl)
    with open(".git/index", "rb") as f:
        if b"link" not in f.read():
            sys.exit("the index is not split")
    name = ":.husky/pre-commit"
elif way == "switched-branch":
    # HEAD moved to a branch of the sandbox's at the same commit (`git
    # checkout -b topic`, or `git branch -m`: ARG), whose reflog says it
    # was at the sandbox's commit one entry ago
    if arg == "rename":
        # what `git branch -m` does but for .git/config (protected)
        os.rename(".git/refs/heads/" + b, ".git/refs/heads/topic")
        os.rename(".git/logs/refs/heads/" + b, ".git/logs/refs/heads/topic")
        with open(".git/HEAD", "w") as f:
            f.write("ref: refs/heads/topic\n")
    else:
        git("checkout", "-q", "-b", "topic")
    t = int(time.time())
    with open(".git/logs/refs/heads/topic", "a") as f:
        f.write("%s %s t <t@x> %d +0000\treset: moving to %s\n" % (h, e, t, e))
        f.write("%s %s t <t@x> %d +0000\treset: moving to %s\n" % (e, h, t, h))
    name = "@{1}:.husky/pre-commit"
elif way == "reflog-message":
    # "checkout: moving from <the sandbox's commit> to main" where git
    # reads a message and the end does not: right after the time zone
    # with no tab (git takes what follows the zone's 5 characters), or
    # after a second tab, the first in the committer's name
    with open(".git/logs/HEAD", "a") as f:
        who = "t <t@x>" if arg == "no-tab" else "t\tharmless <t@x>"
        sep = "" if arg == "no-tab" else "\t"
        f.write("%s %s %s %d +0000%scheckout: moving from %s to %s\n"
                % (h, h, who, int(time.time()), sep, e, b))
    name = "@{-1}:.husky/pre-commit"
elif way == "name-step":
    # a pack of the sandbox's holding its hook under the name one above
    # the host's hook blob's (ARG): a forged copy, whose name the end
    # steps down by one, to a name "no content has"
    y = rev(arg)
    n = (int(y, 16) + 1).to_bytes(len(y) // 2, "big").hex()
    assert n[:2] == y[:2]
    pack([(n, "blob", evil)])
    # git searches the newest pack first (seconds)
    for f in os.listdir(".git/objects/pack"):
        if f.endswith(".pack"):
            t = os.stat(".git/objects/pack/" + f).st_mtime + 3600
            os.utime(".git/objects/pack/" + f, (t, t))
    name = n
elif way == "symref-newline":
    # a new branch, a symbolic ref whose target follows "ref:" after a
    # newline (git skips any white space there), naming a ref in
    # refs/ringfence-blocked/ (which the walk passes over)
    os.makedirs(".git/refs/ringfence-blocked", exist_ok=True)
    with open(".git/refs/ringfence-blocked/lint", "w") as f:
        f.write(e + "\n")
    with open(".git/refs/heads/lint", "w") as f:
        f.write("ref:%srefs/ringfence-blocked/lint\n" % arg)
    name = "lint:.husky/pre-commit"
elif way == "bisect-name":
    # a bisect "in progress" started on a branch: BISECT_START holds the
    # name `git bisect reset` checks out again, here one in
    # refs/ringfence-blocked/ naming the sandbox's commit
    os.makedirs(".git/refs/ringfence-blocked", exist_ok=True)
    with open(".git/refs/ringfence-blocked/lint", "w") as f:
        f.write(e + "\n")
    with open(".git/BISECT_START", "w") as f:
        f.write("refs/ringfence-blocked/lint\n")
    with open(".git/BISECT_LOG", "w") as f:
        f.write("git bisect start\n")
    with open(".git/BISECT_TERMS", "w") as f:
        f.write("bad\ngood\n")
    name = "refs/ringfence-blocked/lint:.husky/pre-commit"
if name and git("cat-file", "-p", name) == evil:
    print("planted", flush=True)
'''


def plant3(box, home, way, *extra):
    forge = box.write("bin/forge3.py", FORGE3)
    r = box.run(["/usr/bin/python3", forge, way, EVIL] + list(extra),
                policy=box.policy(""), env=dict(GIT_ENV, HOME=home))
    assert "planted" in r.stdout.split(), r.stdout + r.stderr
    return r


def after(box, home, op, name):
    """commit_after, its message short."""
    try:
        commit_after(box, home, op, name)
    except AssertionError as e:
        raise AssertionError(str(e)[:500]) from None


UPPER = {
    "branch": ("git reset -q --hard", "HEAD:.husky/pre-commit"),
    "new-branch": ("git checkout -q lint", "lint:.husky/pre-commit"),
    "packed": ("git checkout -q lint", "lint:.husky/pre-commit"),
    "fetch-head": ("git merge -q --ff-only FETCH_HEAD", "FETCH_HEAD:.husky/pre-commit"),
    "checkout-from": ("git checkout -q -", "@{-1}:.husky/pre-commit"),
}
GUARDED = {
    "head": ("git reset -q --hard", "HEAD:.husky/pre-commit"),
    "reflog-new": ("git reset -q --hard HEAD@{1}", "HEAD@{1}:.husky/pre-commit"),
}


@pytest.mark.parametrize("kind", sorted(UPPER))
def test_object_id_in_capitals(box, kind):
    """Hole: an object id written in capitals, which git reads as the same
    id and gitobj_parse_oid() as no id: the ref, packed-refs line,
    FETCH_HEAD or reflog message naming the sandbox's commit so is never
    judged."""
    home, _ = project(box)
    plant3(box, home, "upper", kind)
    after(box, home, *UPPER[kind])


@pytest.mark.parametrize("kind", sorted(GUARDED))
def test_guard_object_id_in_capitals_judged(box, kind):
    """Guard: HEAD detached at an id in capitals (check_head() takes what
    gh_read_ref() does not read as a symbolic ref outside refs/ and puts
    the start's back), a HEAD reflog entry whose NEW is in capitals (no
    entry parsed: taken out)."""
    home, _ = project(box)
    plant3(box, home, "upper", kind)
    after(box, home, *GUARDED[kind])


@pytest.mark.parametrize("where", ["toplevel", "logs", "blocked"])
def test_checkout_from_a_name_outside_the_refs(box, where):
    """Hole: `git checkout -` goes back to a name a reflog entry gives,
    which git resolves first as a file of the .git: .git/lint,
    .git/logs/lint, .git/refs/ringfence-blocked/lint, naming the
    sandbox's commit, are no refs the end judges."""
    home, _ = project(box)
    plant3(box, home, "name", where)
    after(box, home, "git checkout -q -", "@{-1}:.husky/pre-commit")


def test_merge_autostash(box):
    """Hole: MERGE_AUTOSTASH, the stash `git merge --abort` applies after
    its reset, naming a stash of the sandbox's with its hook."""
    home, _ = project(box)
    plant3(box, home, "merge-autostash")
    after(box, home, "git merge --abort", "MERGE_AUTOSTASH:.husky/pre-commit")


def test_guard_process_left_writing_after_the_exit(box):
    """Guard: a process of the sandbox's left behind (setsid, a double
    fork, SIGTERM and SIGHUP ignored) that keeps writing the branch HEAD
    is on with the sandbox's commit for 2 s after the command exits: the
    tree is ended before the end's checks."""
    home, _ = project(box)
    plant3(box, home, "late", "2")
    time.sleep(3)
    after(box, home, "git reset -q --hard", "HEAD:.husky/pre-commit")



def project_hooks_at(box, hooks):
    """The host's project, its hooks in HOOKS (core.hooksPath: protected),
    a file f beside; its home."""
    home = box.path("hosthome")
    os.mkdir(home)
    chown_tree(box, home)
    h = host(box, ["sh", "-c",
                   "git init -q && git config core.hooksPath %s && mkdir -p %s && "
                   "printf '#!/bin/sh\\ntrue\\n' > %s/pre-commit && chmod 755 %s/pre-commit && "
                   "echo x > f && git add -A && git commit -qm first" % ((hooks,) * 4)],
             home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    return home


SPARSE_OP = ("echo z >> f && git commit -qam host && "
             "git worktree add -q \"$HOME/wt\" -b topic && cd \"$HOME/wt\"")


def test_sparse_directory_entry_above_the_hooks(box):
    """Hole: the index handed back as a sparse index, the top directory
    of the hooks' (core.hooksPath = tools/hooks) a sparse directory entry
    "tools/" naming a tree with the sandbox's hook below: on_entry()
    judges only paths at or beneath a protected path (is_protected()),
    and "tools/" is above "tools/hooks".  git expands the entry on read;
    the host's `git commit -a` commits the hook, `git worktree add`
    writes it."""
    home = project_hooks_at(box, "tools/hooks")
    plant3(box, home, "sdir", "tools/hooks")
    after(box, home, SPARSE_OP, ":tools/hooks/pre-commit")


@pytest.mark.parametrize("way,hooks", [("sdir", ".husky"), ("staged-at", "tools/hooks")])
def test_guard_sparse_directory_entry_at_the_hooks(box, way, hooks):
    """Guard: the same sparse directory entry at the hooks' own directory
    (".husky/", at a protected path: judged, the index put back); the
    sandbox's hook staged at tools/hooks/pre-commit as a plain entry (the
    control that tools/hooks is protected and its entries judged)."""
    home = project_hooks_at(box, hooks)
    plant3(box, home, way, hooks)
    after(box, home, SPARSE_OP, ":%s/pre-commit" % hooks)


def test_split_index_replacement_entry(box):
    """Hole: the index split as git splits it: the host's entries in a
    shared index (the sandbox's new .git/sharedindex.<id>, judged: the
    host's content), the sandbox's hook in the index file as a
    replacement of the shared entry at its position, its name empty (as
    git writes it): on_entry() takes "" for no protected path.  git
    merges the two on read; discarding an edit (`git checkout -- .`)
    writes the hook."""
    home, _ = project(box)
    plant3(box, home, "split-replace")
    after(box, home, "git checkout -- .", ":.husky/pre-commit")


@pytest.mark.parametrize("how", ["checkout", "rename"])
def test_reflog_of_the_branch_head_is_on_at_the_end(box, how):
    """Hole: only the reflog of the branch HEAD was on at the start is
    copied and judged (gh_read_reflogs()); HEAD moved to a new branch at
    the same commit (`git checkout -b topic`, or the branch renamed by
    `git branch -m`) passes check_head(), and that branch's reflog holds
    the sandbox's commit one entry ago.  The host's `git reset --hard
    @{1}` (its own branch's previous position) writes the hook."""
    home, _ = project(box)
    plant3(box, home, "switched-branch", how)
    after(box, home, "git reset -q --hard @{1}", "@{1}:.husky/pre-commit")


@pytest.mark.parametrize("form", ["no-tab", "tab-in-name"])
def test_checkout_from_in_a_message_read_elsewhere(box, form):
    """Hole: check_reflog() takes a reflog entry's message to start after
    its first tab, and passes an entry with none; git's reflog reader
    takes it to start right after the time zone (after a tab there if
    there is one).  "checkout: moving from <the sandbox's commit>" with
    no tab, or with a tab in the committer's name before the zone's, is
    never given to checkout_from_ok(); `git checkout -` checks it out."""
    home, _ = project(box)
    plant3(box, home, "reflog-message", form)
    after(box, home, "git checkout -q -", "@{-1}:.husky/pre-commit")


def test_forged_pack_entry_renamed_to_the_hosts_blob(box):
    """Hole: drop_entries() renames a forged entry of a pack one step
    below its name ("a name no content has"), after every check: a pack
    of the sandbox's holding its hook under the name one above the host
    hook blob's is found forged, and renamed to the host blob's very
    name.  Nothing reads the pack again; git searches packs first: `git
    worktree add` writes the sandbox's hook."""
    home, _ = project(box)
    plant3(box, home, "name-step", "HEAD:.husky/pre-commit")
    after(box, home, REWRITE["worktree"], "HEAD:.husky/pre-commit")


@pytest.mark.parametrize("space", ["\n", "\r"], ids=["lf", "cr"])
def test_symbolic_ref_target_after_other_white_space(box, space):
    """Hole: gh_read_ref() skips only spaces and tabs after "ref:", then
    cuts the target at the first space, tab, CR or LF; git skips any
    white space there.  "ref:\\nrefs/ringfence-blocked/lint" reads, here,
    as a symbolic ref to "" (left as it is), to git as one to a ref the
    walk passes over, naming the sandbox's commit: `git checkout lint`
    checks it out."""
    home, _ = project(box)
    plant3(box, home, "symref-newline", space)
    after(box, home, "git checkout -q lint", "lint:.husky/pre-commit")


def test_bisect_start_names_a_ref_outside_the_refs(box):
    """Hole: BISECT_START holds, for a bisect started on a branch, that
    branch's name, which `git bisect reset` checks out; gh_check_pseudo()
    judges only lines that start with an object id, and passes a name.
    A name git resolves to the sandbox's commit (refs/ringfence-blocked/
    lint, which the walk passes over): `git bisect reset` (git status
    says a bisect is in progress) checks it out."""
    home, _ = project(box)
    plant3(box, home, "bisect-name")
    after(box, home, "git bisect reset", "refs/ringfence-blocked/lint:.husky/pre-commit")
