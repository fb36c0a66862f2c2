# SPDX-License-Identifier: MIT
"""Attacks on the gate on modes (attrgate.c: makes_object_writable(); with
namespaces the mode gate, seccomp.c's modes block; without them the
attribute gate): no command can make a file of a repository's object
store writable, told by its content (gitobj_looks_stored()), so that an
object of the host's is never rewritten in its own inode, where the end's
checks (gitcheck.c: what was made or renamed, what was read at the start)
do not look.

The host's project holds .husky/pre-commit (core.hooksPath = .husky:
protected); a branch `old` holds another version of the hook, whose blob
no check reads at the start.  Each attack rewrites that blob's file (loose,
or its entry in the pack of the host's `git gc`) with a hook that leaves a
mark; the sandbox's git reading the hook there is the control that the
plant was made.  Then the host checks `old` out and commits
(test_gitobjects_attacks.commit_after): no mark may appear.

Holes (each FAILS on 521c163 in every mode of the box fixture: root-ns,
root-nons, user-ns, user-nons, unless noted):
  - test_write_lease_blinds_the_gate[loose|pack]: the command takes a
    write lease (fcntl F_SETLEASE, F_WRLCK: the owner may, on a file no one
    else has open) on the object, then chmods it u+w.  The gate reads the
    file to tell it (makes_object_writable(): open(O_RDONLY | O_NONBLOCK)
    of /proc/self/fd/N); the lease makes that open fail with EWOULDBLOCK,
    a file that cannot be read counts as no object, and the mode is given.
    The lease dropped, the object is rewritten in place; one run, the
    default policy.  (Since 33efbc6 seccomp refuses every lease: the
    attack stops there, and the gate's own answer is kept for the case);
  - test_object_left_writable_by_an_earlier_run[loose|pack]: a first run
    puts, under the host's name, a copy of the host's own object (or pack)
    made with mode 0644: it hashes to its name, the end keeps it, and
    nothing refuses a mode that no chmod gave.  A second run opens it to
    write, no mode changed, and rewrites it in place: its directory's time
    does not move, and the end passes it over (SECURITY.md speaks of a
    store file writable "from before the run (another tool's)": here the
    sandbox is that tool);
  - test_object_the_gate_cannot_tell: the same with the copy kept
    read-only, its zlib stream begun with 210 empty stored blocks (1,052
    bytes git's inflate and the end's reader pass through): the first KiB
    the gate reads inflates to nothing, gitobj_looks_stored() says "no
    object", and the second run's chmod u+w is made;
  - test_posix_acl_gives_an_object_write: where a policy allows setting
    extended attributes ([syscalls] allow = setxattr, allow_dangerous),
    system.posix_acl_access with `user::rw-` is a chmod by another name
    (the kernel sets the mode from it): the mode gate stops chmod calls
    only, and the attribute gate judges setxattr by the write grants only;
  - test_absolute_path_resolved_in_the_hosts_view (not of the objects, but
    of the mode gate): with namespaces, a chmod giving a write bit by an
    absolute path (or through a symbolic link to one) is resolved in the
    supervisor's mount namespace: open_target() finds the command's root
    the same inode as its own and resolves "/" from its own root.  The
    mode is set on the host's file, past the sandbox's read-only mounts
    and hidden directories: a file of a read grant, .git/config given
    group write, a key no path inside reaches made readable to all (with
    run_as = root, any root-owned file of the host).  FAILS with
    namespaces (root-ns, user-ns);
  - test_modes_in_the_private_tmp: the same cause breaks legitimate use:
    `chmod 0755 /tmp/build/run`, `cp -a` into /tmp, `python3 -m venv
    /tmp/...` fail with ENOENT (the host's /tmp has no such file).  FAILS
    with namespaces (root-ns, user-ns);
  - test_file_that_only_begins_like_a_pack_keeps_its_modes: not an escape,
    a refusal of what is no object: any file beginning with "PACK" (a
    Quake .pak's magic) is taken for a pack and its owner cannot give it
    write (git's packs have version 2 or 3 next).
Guards (pass on 521c163):
  - test_guard_no_write_without_the_gate: each other way to an object's
    write (open for writing, O_TRUNC, truncate(), a reopen through
    /proc/self/fd, chmod in each spelling: fchmod, fchmodat, fchmodat2 on
    an O_PATH fd with AT_EMPTY_PATH, /proc/self/fd/N, a mode with bits
    above the low word, owner's read taken; a rename of the object or a
    hard link to it first; i386's and x32's chmod, which die: SIGSYS, or
    SIGSEGV where the kernel has no i386 emulation) is refused, and a race
    of renames under a chmod of one name never gives the object write; the
    same calls on a plain file are the command's;
  - test_guard_git_and_archives_keep_their_modes: git inside (commit,
    stash, repack, a local clone with hard links) and the modes archive
    and copy tools give in the project (tar -p of a repository, cp -a,
    chmod -R a-w, chmod 0755 on a script) are not refused;
  - test_guard_writable_object_found_without_a_gate: the earlier run's
    writable object rewritten where no listener can be had (notify_busy,
    both mechanisms): the end then reads every loose object's time and
    takes it away (what the gate, when it is there, leaves to it).
Tried and held, no test of their own: commit-graph, alternates and the
rest of objects/info (read-only in both mechanisms, in the fallback too:
Landlock); a pack index of version 1 rewritten (not told by the gate, but
the end moves aside any such index changed during the run); O_TMPFILE
and renames over an object (a new inode: its directory's time moves).
"""
import os
import subprocess

import pytest

from conftest import ATTEMPT, XATTRS_ALLOWED
from test_gitobjects_attacks import EVIL, FORGE_PRELUDE, commit_after, project
from test_gitobjects_round2_attacks import OLD
from test_hostfiles_attacks import GIT_ENV, host

# Run in the sandbox (cwd: the project): argv[1] the way, argv[2] the hook
# text, argv[3] the revision of the host's blob aimed at.  Prints "planted"
# when its own git reads the hook there.
MODES = FORGE_PRELUDE + r'''
import fcntl, signal

name = sys.argv[3]
oid = rev(name)
loose = ".git/objects/%s/%s" % (oid[:2], oid[2:])


def packed():
    """The pack holding OID, the offset of its entry and the room there
    (to the next entry)."""
    pdir = ".git/objects/pack"
    for n in sorted(os.listdir(pdir)):
        if not n.endswith(".idx"):
            continue
        with open(os.path.join(pdir, n), "rb") as f:
            buf = f.read()
        total = struct.unpack(">I", buf[8 + 255 * 4:8 + 256 * 4])[0]
        ids = [buf[1032 + 20 * i:1052 + 20 * i] for i in range(total)]
        if bytes.fromhex(oid) not in ids:
            continue
        at = 1032 + 24 * total
        offs = [struct.unpack(">I", buf[at + 4 * j:at + 4 * j + 4])[0] for j in range(total)]
        off = offs[ids.index(bytes.fromhex(oid))]
        pack = os.path.join(pdir, n[:-4] + ".pack")
        nxt = [o for o in offs if o > off]
        return pack, off, (nxt[0] if nxt else os.path.getsize(pack) - 20) - off
    sys.exit("no pack holds " + oid)


def record():
    """A whole blob entry holding the hook, as a pack stores it."""
    sz, c = len(evil), 0x30 | (len(evil) & 15)
    hdr, sz = b"", sz >> 4
    while sz:
        hdr += bytes([c | 0x80])
        c, sz = sz & 0x7f, sz >> 7
    return hdr + bytes([c]) + zlib.compress(evil, 9)


def target(kind):
    """The file to rewrite, where, and what."""
    if kind == "loose":
        return loose, 0, zlib.compress(b"blob %d\0" % len(evil) + evil), True
    pack, off, room = packed()
    rec = record()
    if len(rec) > room:
        sys.exit("no room: %d > %d" % (len(rec), room))
    return pack, off, rec, False


def rewrite(path, at, data, truncate):
    """DATA written at AT in PATH's own inode (no new name); its mode as it
    was after."""
    d = os.stat(os.path.dirname(path)).st_ctime_ns
    fd = os.open(path, os.O_WRONLY)
    os.pwrite(fd, data, at)
    if truncate:
        os.ftruncate(fd, at + len(data))
    os.close(fd)
    if os.stat(os.path.dirname(path)).st_ctime_ns != d:
        sys.exit("the directory's ctime moved")
    print("rewritten in place", flush=True)


def copy_over(path, data, mode):
    """PATH replaced by a file of DATA made with MODE (no chmod)."""
    tmp = path + ".rf-copy"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    os.write(fd, data)
    os.close(fd)
    os.replace(tmp, path)
    print("left", oct(os.stat(path).st_mode & 0o777), flush=True)


def padded(data):
    """DATA as zlib, 210 empty stored blocks first (git and zlib pass
    through them; the first KiB inflates to nothing)."""
    z = zlib.compressobj(1, zlib.DEFLATED, -15)
    raw = z.compress(data) + z.flush()
    return b"\x78\x01" + b"\x00\x00\x00\xff\xff" * 210 + raw + struct.pack(">I", zlib.adler32(data))


if way.startswith("lease-"):
    path, at, data, trunc = target(way[6:])
    mode = os.stat(path).st_mode & 0o7777
    # the lease holder is told by SIGIO when someone opens the file
    signal.signal(signal.SIGIO, signal.SIG_IGN)
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
    except PermissionError:
        sys.exit("lease refused")
    print("leased", flush=True)
    try:
        os.chmod(path, mode | 0o200)
    except OSError as e:
        sys.exit("chmod under the lease: %s" % e)
    finally:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        os.close(fd)
    print("given write", flush=True)
    rewrite(path, at, data, trunc)
    os.chmod(path, mode)
elif way == "acl-loose":
    # user::rw- group::r-- other::r--: the mode 0644, set as an ACL
    acl = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, p, 0xFFFFFFFF)
                                          for t, p in ((1, 6), (4, 4), (0x20, 4)))
    os.setxattr(loose, "system.posix_acl_access", acl)
    print("given write", oct(os.stat(loose).st_mode & 0o777), flush=True)
    rewrite(*target("loose"))
    os.chmod(loose, 0o444)
elif way == "leave-loose":
    # the host's own object, as a file made writable
    with open(loose, "rb") as f:
        copy_over(loose, f.read(), 0o644)
    sys.exit(0)
elif way == "leave-pack":
    pack = packed()[0]
    with open(pack, "rb") as f:
        copy_over(pack, f.read(), 0o644)
    sys.exit(0)
elif way == "leave-padded":
    # the host's own object, read-only, in a stream the gate cannot tell
    body = git("cat-file", "blob", oid)
    copy_over(loose, padded(b"blob %d\0" % len(body) + body), 0o444)
    if git("cat-file", "blob", oid) == body:
        print("git reads it", flush=True)
    sys.exit(0)
elif way == "replace-pack":
    # no mode asked for: the host's pack put in place again, by a rename,
    # with the other branch's hook in its entry; the host's .idx untouched
    path, at, data, _ = target("pack")
    with open(path, "rb") as f:
        buf = bytearray(f.read())
    buf[at:at + len(data)] = data
    copy_over(path, bytes(buf), 0o444)
elif way.startswith("rewrite-"):
    path, at, data, trunc = target(way[8:])
    mode = os.stat(path).st_mode & 0o7777
    if not mode & 0o200:
        os.chmod(path, mode | 0o200)
        print("given write", flush=True)
    rewrite(path, at, data, trunc)
    os.chmod(path, mode)
if git("cat-file", "-p", name) == evil:
    print("planted", flush=True)
'''


def with_old(box, packed=False):
    """project()'s repository and the branch `old`, its hook another
    version (then the host's `git gc` when PACKED)."""
    home, _ = project(box)
    h = host(box, ["sh", "-c", OLD + (" && git gc -q" if packed else "")], home,
             cwd=box.work, env=GIT_ENV)
    assert h.returncode == 0, h.stdout + h.stderr
    return home


def inside(box, home, way, policy=None, name="old:.husky/pre-commit"):
    prog = box.write("bin/modes.py", MODES)
    return box.run(["/usr/bin/python3", prog, way, EVIL, name],
                   policy=policy or box.policy(""), env=dict(GIT_ENV, HOME=home))


def planted(r):
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    assert "planted" in r.stdout.split(), r.stdout + r.stderr


def stopped(r):
    """The attack ran and its mode (or ACL) was refused: EROFS, nothing
    planted.  (On the binaries these tests were written against, the
    plant was made: each then failed at commit_after.)"""
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    assert "planted" not in r.stdout.split(), r.stdout + r.stderr
    assert "Read-only file system" in r.stdout + r.stderr, r.stdout + r.stderr


@pytest.mark.parametrize("kind", ["loose", "pack"])
def test_write_lease_blinds_the_gate(box, kind):
    """Hole: a write lease on the object (its owner may take one) makes
    the gate's O_NONBLOCK open of it fail (EWOULDBLOCK): unread, it is no
    object to the gate, and chmod u+w is made.  Rewritten in place (the
    lease dropped), the host's `git checkout old` writes the sandbox's
    hook.  FAILS in every mode."""
    home = with_old(box, packed=kind == "pack")
    r = inside(box, home, "lease-" + kind)
    # seccomp now refuses every lease (they also stall the host's opens:
    # test_escape.py); were one taken, the gate must still stop the chmod
    if "leased" in r.stdout.split():
        stopped(r)
    else:
        assert "lease refused" in r.stderr and "planted" not in r.stdout.split(), \
            r.stdout + r.stderr
    commit_after(box, home, "git checkout -q old", "old:.husky/pre-commit")


@pytest.mark.parametrize("kind", ["loose", "pack"])
def test_object_left_writable_by_an_earlier_run(box, kind):
    """Hole: a first run replaces the host's object (or the pack holding
    it) with the same bytes in a file made 0644: it hashes to its name and
    is kept.  A second run writes it in place, no mode asked for: the end
    does not read a file whose directory did not change (loose), nor an
    object of a changed pack not read at the start.  FAILS in every
    mode."""
    home = with_old(box, packed=kind == "pack")
    r = inside(box, home, "leave-" + kind)
    assert "left 0o644" in r.stdout, r.stdout + r.stderr
    assert "ran" in r.stdout.split() and r.returncode == 0, r.stdout + r.stderr
    # the first run's end kept the copy (the host's content, its name)
    was = host(box, ["git", "cat-file", "-p", "old:.husky/pre-commit"], home, cwd=box.work,
               env=GIT_ENV)
    assert was.returncode == 0 and "old: kept" in was.stdout, was.stdout + was.stderr
    # the end left the run's copy as git makes one: read-only
    store = host(box, ["sh", "-c", "find .git/objects -path .git/objects/info -prune -o -type f -perm /222 -print"], home,
                 cwd=box.work, env=GIT_ENV)
    assert store.returncode == 0 and store.stdout == "", store.stdout + store.stderr
    r = inside(box, home, "rewrite-" + kind)
    stopped(r)
    commit_after(box, home, "git checkout -q old", "old:.husky/pre-commit")


def test_pack_data_replaced_under_the_hosts_index(box):
    """Hole: the host's .pack put back by a rename with a forged entry for
    the other branch's hook blob, its .idx left as it was.  No mode is
    asked for; the end checked every entry of a pack whose index changed,
    and of one whose data changed only the objects read at the start: the
    host's `git checkout old` wrote the sandbox's hook.  A data file that
    was not there at the start (another inode) now has every entry
    checked.  FAILS on 12aefd8 in every mode."""
    home = with_old(box, packed=True)
    r = inside(box, home, "replace-pack")
    assert "left 0o444" in r.stdout, r.stdout + r.stderr
    planted(r)
    commit_after(box, home, "git checkout -q old", "old:.husky/pre-commit")


def test_object_the_gate_cannot_tell(box):
    """Hole: a first run replaces the host's loose object with the same
    object, read-only, its zlib stream begun with 210 empty stored blocks
    (git reads it, the end hashes it to its name: kept).  The 1 KiB the
    gate reads inflates to no header: in a second run chmod u+w is made,
    the object rewritten in place.  FAILS in every mode."""
    home = with_old(box)
    r = inside(box, home, "leave-padded")
    assert "left 0o444" in r.stdout and "git reads it" in r.stdout, r.stdout + r.stderr
    was = host(box, ["git", "cat-file", "-p", "old:.husky/pre-commit"], home, cwd=box.work,
               env=GIT_ENV)
    assert was.returncode == 0 and "old: kept" in was.stdout, was.stdout + was.stderr
    r = inside(box, home, "rewrite-loose")
    stopped(r)
    commit_after(box, home, "git checkout -q old", "old:.husky/pre-commit")


def test_posix_acl_gives_an_object_write(box):
    """Hole, where a policy allows extended attributes (allow_dangerous):
    system.posix_acl_access `user::rw-` sets the mode 0644 without a chmod
    call.  Neither gate judges it so.  FAILS in every mode."""
    home = with_old(box)
    r = inside(box, home, "acl-loose", policy=box.policy(XATTRS_ALLOWED))
    assert "given write" not in r.stdout, r.stdout + r.stderr
    stopped(r)
    commit_after(box, home, "git checkout -q old", "old:.husky/pre-commit")


PAK = r'''
import os, struct
print("ran", flush=True)
os.makedirs("assets", exist_ok=True)
# a Quake .pak: "PACK", the directory's offset and size (little-endian)
with open("assets/base.pak", "wb") as f:
    f.write(b"PACK" + struct.pack("<II", 12, 0))
os.chmod("assets/base.pak", 0o444)
# a control beside it: the same bytes but the first
with open("assets/other.pak", "wb") as f:
    f.write(b"PACX" + struct.pack("<II", 12, 0))
os.chmod("assets/other.pak", 0o444)
for n in ("other", "base"):
    try:
        os.chmod("assets/%s.pak" % n, 0o644)
        print(n, "ok", flush=True)
    except OSError as e:
        print(n, "refused", e.errno, flush=True)
'''


def test_file_that_only_begins_like_a_pack_keeps_its_modes(box):
    """Not an escape: what is no object is refused.  A file of the project
    beginning with "PACK" but no pack version after it (a Quake .pak, as
    installed: read-only) cannot be given write by its owner: EROFS.
    FAILS in every mode."""
    home, _ = project(box)
    prog = box.write("bin/pak.py", PAK)
    r = box.run(["/usr/bin/python3", prog], policy=box.policy(""),
                env=dict(GIT_ENV, HOME=home))
    assert "other ok" in r.stdout, r.stdout + r.stderr
    assert "base ok" in r.stdout, r.stdout + r.stderr


def test_guard_writable_object_found_without_a_gate(box):
    """Guard: test_object_left_writable_by_an_earlier_run's second run
    where no notification listener can be had (notify_busy, as under
    WSL2): the end then reads every loose object's time, and the copy
    rewritten in place is taken away."""
    home = with_old(box)
    r = inside(box, home, "leave-loose")
    assert "left 0o644" in r.stdout and r.returncode == 0, r.stdout + r.stderr
    busy = os.path.join(box.bin, "notify_busy")
    pol = box.policy(("[sandbox]\nenforcement = best-effort\n" if box.namespaces == "off"
                      else "") + "[syscalls]\nunix_sockets = deny\n", name="busy.ini")
    prog = box.write("bin/modes.py", MODES)
    r = subprocess.run(box.cmd([busy, box.ringfence, "-p", pol, "--", "/usr/bin/python3", prog,
                                "rewrite-loose", EVIL, "old:.husky/pre-commit"]),
                       cwd=box.work, env=box.env(dict(GIT_ENV, HOME=home)),
                       capture_output=True, text=True, timeout=60)
    planted(r)
    commit_after(box, home, "git checkout -q old", "old:.husky/pre-commit")


# Run in the sandbox (cwd: the project): every other way to write the
# object argv[1] (a path), each also on a plain read-only file (the
# control: the call is the command's there).  Prints "NAME ok" or "NAME
# refused ERRNO" (or "NAME died SIGNAL").
GUARD = ATTEMPT + r'''
import ctypes, mmap, signal, subprocess, threading, time
obj = sys.argv[1]
print("ran", flush=True)
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
AT_EMPTY_PATH, AT_FDCWD = 0x1000, -100


def sys_ok(r):
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def opened(path, flags):
    os.close(os.open(path, flags))


def reopen(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        opened("/proc/self/fd/%d" % fd, os.O_RDWR)
    finally:
        os.close(fd)


def fchmod(path, mode):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def fchmodat2_opath(path, mode):
    fd = os.open(path, os.O_PATH)
    try:
        sys_ok(libc.syscall(452, fd, b"", mode, AT_EMPTY_PATH))
    finally:
        os.close(fd)


def chmod_proc_fd(path, mode):
    fd = os.open(path, os.O_PATH)
    try:
        os.chmod("/proc/self/fd/%d" % fd, mode)
    finally:
        os.close(fd)


def chmod_wide(path, mode):
    # the mode in a 64-bit register, bits above the low word set
    sys_ok(libc.syscall(90, path.encode(), ctypes.c_ulong((1 << 40) | (1 << 16) | mode)))


def renamed(path, mode):
    # (beside it: with namespaces .git/objects is a mount of its own)
    moved = os.path.join(os.path.dirname(path), "moved")
    os.rename(path, moved)
    try:
        os.chmod(moved, mode)
    finally:
        os.rename(moved, path)


def linked(path, mode):
    link = os.path.join(os.path.dirname(path), "linked")
    os.link(path, link)
    try:
        os.chmod(link, mode)
    finally:
        os.unlink(link)


CALLS = {
    "open-wronly": lambda p: opened(p, os.O_WRONLY),
    "open-rdwr": lambda p: opened(p, os.O_RDWR),
    "open-append": lambda p: opened(p, os.O_WRONLY | os.O_APPEND),
    "open-trunc": lambda p: opened(p, os.O_RDONLY | os.O_TRUNC),
    "truncate": lambda p: os.truncate(p, 0),
    "reopen": reopen,
    "chmod": lambda p: os.chmod(p, 0o644),
    "chmod-group": lambda p: os.chmod(p, 0o464),
    "chmod-wo": lambda p: os.chmod(p, 0o200),
    "chmod-no-owner-read": lambda p: os.chmod(p, 0o044),
    "chmod-none": lambda p: os.chmod(p, 0),
    "fchmod": lambda p: fchmod(p, 0o644),
    "fchmodat": lambda p: os.chmod(os.path.basename(p), 0o644,
                                   dir_fd=os.open(os.path.dirname(p) or ".", os.O_RDONLY)),
    "fchmodat2-opath": lambda p: fchmodat2_opath(p, 0o644),
    "chmod-proc-fd": lambda p: chmod_proc_fd(p, 0o644),
    "chmod-wide": lambda p: chmod_wide(p, 0o644),
    "rename-chmod": lambda p: renamed(p, 0o644),
    "link-chmod": lambda p: linked(p, 0o644),
}
with open("plain", "wb") as f:
    f.write(b"plain\n")
for name, fn in CALLS.items():
    for what, path in (("obj", obj), ("plain", "plain")):
        os.chmod(path, 0o444) if what == "plain" else None
        attempt("%s-%s" % (what, name), lambda: fn(path))
os.chmod("plain", 0o444)

# i386 (int 0x80) and x32 chmod, each in a process of its own: code and
# path in the low 4 GiB
NATIVE = """
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
page = libc.mmap(None, 4096, 7, 0x22 | 0x40, -1, 0)
path = sys.argv[2].encode() + b"\\0"
ctypes.memmove(page + 256, path, len(path))
a = (page + 256).to_bytes(4, "little")
if sys.argv[1] == "i386":
    code = b"\\x53\\xb8\\x0f\\0\\0\\0\\xbb" + a + b"\\xb9\\xa4\\x01\\0\\0\\xcd\\x80\\x5b\\xc3"
else:
    code = b"\\xb8\\x5a\\0\\0\\x40\\xbf" + a + b"\\xbe\\xa4\\x01\\0\\0\\x0f\\x05\\xc3"
ctypes.memmove(page, code, len(code))
print("trying", flush=True)
r = ctypes.CFUNCTYPE(ctypes.c_int)(page)()
print("returned", r, flush=True)
"""
for abi in ("i386", "x32"):
    c = subprocess.run([sys.executable, "-c", NATIVE, abi, obj], capture_output=True, text=True)
    if "trying" not in c.stdout:
        sys.exit("%s: never tried: %s" % (abi, c.stdout + c.stderr))
    if c.returncode < 0:
        print("obj-%s died %d" % (abi, -c.returncode), flush=True)
    else:
        print("obj-%s %s" % (abi, c.stdout.split("returned")[-1].strip()), flush=True)

# a race: the name chmodded swapped, between each check and act, with the
# object's hard link (beside it)
a, b = (os.path.join(os.path.dirname(obj), n) for n in ("race-a", "race-b"))
os.link(obj, a)
with open(b, "wb") as f:
    f.write(b"plain\n")
os.chmod(b, 0o444)
keep = os.open(a, os.O_RDONLY)
stop = False


def swap():
    while not stop:
        libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), 2)


t = threading.Thread(target=swap)
t.start()
counts = {"ok": 0, "refused": 0}
end = time.time() + 0.7
while time.time() < end:
    try:
        os.chmod(a, 0o644)
        counts["ok"] += 1
    except OSError:
        counts["refused"] += 1
stop = True
t.join()
print("race", counts["ok"], counts["refused"], oct(os.fstat(keep).st_mode & 0o777), flush=True)
for n in (a, b):
    os.unlink(n)
'''


def test_guard_no_write_without_the_gate(box):
    """Guard: no other way to an object's write.  Opened to write,
    truncated, reopened through /proc/self/fd; chmod in every spelling the
    gate takes (a mode with bits above the low word, a rename or a hard
    link first, owner's read taken); i386's and x32's chmod (killed); a
    race of renames under chmod.  Each is refused on the object and the
    command's on a plain file."""
    home = with_old(box)
    oid = host(box, ["git", "rev-parse", "old:.husky/pre-commit"], home, cwd=box.work,
               env=GIT_ENV).stdout.strip()
    rel = ".git/objects/%s/%s" % (oid[:2], oid[2:])
    before = os.stat(os.path.join(box.work, rel))
    prog = box.write("bin/guard.py", GUARD)
    r = box.run(["/usr/bin/python3", prog, rel], policy=box.policy(""),
                env=dict(GIT_ENV, HOME=home))
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    out = dict(l.split(" ", 1) for l in r.stdout.splitlines() if " " in l)
    ways = ["open-wronly", "open-rdwr", "open-append", "open-trunc", "truncate", "reopen",
            "chmod", "chmod-group", "chmod-wo", "chmod-no-owner-read", "chmod-none", "fchmod",
            "fchmodat", "fchmodat2-opath", "chmod-proc-fd", "chmod-wide", "rename-chmod",
            "link-chmod"]
    for w in ways:
        assert out.get("obj-" + w, "").startswith("refused"), (w, r.stdout, r.stderr)
        # the command's own file: the kernel's say, as without the gate
        # (its owner may give it write, open it once given)
        if w.startswith(("open", "truncate", "reopen")):
            assert out.get("plain-" + w, "").startswith("refused 13"), (w, r.stdout)
        else:
            assert out.get("plain-" + w) == "ok", (w, r.stdout, r.stderr)
    for abi in ("i386", "x32"):
        assert out.get("obj-" + abi, "").startswith("died"), (abi, r.stdout, r.stderr)
    race = [l.split() for l in r.stdout.splitlines() if l.startswith("race ")]
    assert race, r.stdout + r.stderr
    ok, refused, mode = race[0][1:]
    assert int(ok) > 0 and int(refused) > 0 and mode == "0o444", r.stdout
    after = os.stat(os.path.join(box.work, rel))
    assert after.st_mode & 0o777 == 0o444 and after.st_size == before.st_size
    commit_after(box, home, "git checkout -q old", "old:.husky/pre-commit")


LEGIT = r"""
set -e
echo ran
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@x
echo y > g && git add g && git commit -qnm g
echo z >> g && git stash -q && git stash pop -q && git commit -qnam g2
# `git gc`'s packing (objects/info, where it lists packs, is read-only)
git repack -adnq && git prune-packed
# another repository in the project, cloned (objects hard linked)
git init -q sub/repo && echo a > sub/repo/a && git -C sub/repo add a &&
git -C sub/repo commit -qm a
git clone -q sub/repo sub/clone
(cd sub/clone && echo w > h && git add h && git commit -qnm h && git repack -adq)
# an archive of it and back (modes kept), a copy, modes taken away
tar -cpf r.tar sub && mkdir x && tar -xpf r.tar -C x
cp -a sub/clone/.git x/copy.git
chmod -R a-w x/sub && chmod -R go-rx x/copy.git && chmod u+w x/sub/clone/h
# a package manager's script made executable
printf '#!/bin/sh\necho hi\n' > run.sh && chmod 0644 run.sh && chmod 0755 run.sh
git -C x/sub/clone fsck && git -C x/copy.git fsck
# the directories given write back to be removed
find x -type d -exec chmod u+w {} + && rm -rf x sub r.tar
echo done
"""


def test_guard_git_and_archives_keep_their_modes(box):
    """Guard: what git and copying tools do with modes inside the project
    is not refused: commits, a stash, repacking, a local clone (objects
    hard linked), an archive of a repository and back (tar -p), cp -a,
    chmod -R a-w and go-rx, a script made executable, directories given
    write back before rm -rf."""
    home, _ = project(box)
    r = box.run(["sh", "-c", LEGIT], policy=box.policy(""), env=dict(GIT_ENV, HOME=home))
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    assert "done" in r.stdout.split(), r.stdout + r.stderr
    assert "refused changing the mode" not in r.stderr, r.stderr


TMP = r"""
echo ran
d=${TMPDIR:-/tmp}/build
mkdir -p "$d" && printf '#!/bin/sh\necho hi\n' > "$d/run" && chmod 0755 "$d/run" && echo chmod ok
cp -a .git "$d/copy.git" && echo cp ok
/usr/bin/python3 -m venv --without-pip "$d/venv" && echo venv ok
"""


def test_modes_in_the_private_tmp(box):
    """Legitimate use broken (test_absolute_path_resolved_in_the_hosts_view's
    cause): with namespaces, where the project is a repository, a chmod
    giving a write bit by an absolute path in the sandbox's private /tmp is
    resolved in the host's /tmp and answers ENOENT: `chmod 0755
    /tmp/build/run`, `cp -a` into /tmp (each directory's mode), `python3
    -m venv /tmp/...` fail.  FAILS with namespaces (root-ns, user-ns)."""
    home, _ = project(box)
    r = box.run(["sh", "-c", TMP], policy=box.policy(""), env=dict(GIT_ENV, HOME=home))
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    for what in ("chmod", "cp", "venv"):
        assert what + " ok" in r.stdout, (what, r.stdout + r.stderr[-2000:])


# Run in the sandbox: chmod of each path given (absolute), and through a
# symbolic link in the cwd to it; "NAME ok" or "NAME refused ERRNO".
ABSOLUTE = r'''
import os, sys
print("ran", flush=True)
for i, (path, mode) in enumerate(zip(sys.argv[1::2], sys.argv[2::2])):
    mode = int(mode, 8)
    for how, name in (("abs", path), ("link", "link%d" % i)):
        if how == "link":
            os.symlink(path, name)
        try:
            os.chmod(name, mode)
            print("%d-%s ok" % (i, how), flush=True)
        except OSError as e:
            print("%d-%s refused %d" % (i, how, e.errno), flush=True)
        if how == "link":
            os.unlink(name)
    # the control: the same file by a path relative to its directory
    try:
        d = os.open(os.path.dirname(path), os.O_RDONLY | os.O_DIRECTORY)
        os.chmod(os.path.basename(path), mode, dir_fd=d)
        print("%d-rel ok" % i, flush=True)
    except OSError as e:
        print("%d-rel refused %d" % (i, e.errno), flush=True)
'''


def test_absolute_path_resolved_in_the_hosts_view(box):
    """Hole (not of the objects): with namespaces the mode gate resolves
    the path of a chmod it stops in the supervisor's mount namespace when
    it begins with "/" (or a symbolic link leads to one): open_target()
    finds the command's root the same inode as its own, takes it for "no
    mount namespace", and resolves from its own / without RESOLVE_IN_ROOT.
    The call is then made on the host's file, past the sandbox's read-only
    mounts and hidden directories: a file read-only inside (a read grant)
    made writable, .git/config (a read-only mount inside, protected) given
    group write (a local user of its group then sets core.fsmonitor), a
    key in a directory the sandbox cannot see made readable to all.
    FAILS with namespaces (root-ns, user-ns); without them the attribute
    gate refuses each (outside the write grants)."""
    home, _ = project(box)
    out, sec = box.path("outside"), box.path("secret")
    os.mkdir(out)
    os.mkdir(sec, 0o700)
    for p, m in ((os.path.join(out, "f"), 0o444), (os.path.join(sec, "key"), 0o600)):
        with open(p, "w") as f:
            f.write("x\n")
        os.chmod(p, m)
        if box.user == "nobody":
            os.chown(p, 65534, 65534)
    if box.user == "nobody":
        os.chown(sec, 65534, 65534)
    files = {os.path.join(out, "f"): (0o444, "644"),
             os.path.join(box.work, ".git", "config"): (0o644, "664"),
             os.path.join(sec, "key"): (0o600, "644")}
    for p, (m, _) in files.items():
        assert os.stat(p).st_mode & 0o7777 == m, p
    prog = box.write("bin/absolute.py", ABSOLUTE)
    args = [x for p, (_, m) in files.items() for x in (p, m)]
    r = box.run(["/usr/bin/python3", prog] + args,
                policy=box.policy("[filesystem]\nread = %s\n" % out),
                env=dict(GIT_ENV, HOME=home))
    assert "ran" in r.stdout.split(), r.stdout + r.stderr
    # the control: by a relative path, the sandbox's view answers
    assert "0-rel refused 30" in r.stdout and "1-rel refused 30" in r.stdout, r.stdout
    now = {p: os.stat(p).st_mode & 0o7777 for p in files}
    assert now == {p: m for p, (m, _) in files.items()}, (
        "modes changed on the host: %s\n%s" % (
            {p: oct(m) for p, m in now.items()}, r.stdout + r.stderr))
