"""Another local user.  The command may not give the host's other users
write on what its grants hold: with write on a project's top (or an ACL
saying so), another user of the machine renames .git away and puts a hook
of theirs in its place, which the host's git then runs as the project's
owner, after the sandbox has ended and its checks are done.

Escapes (each failed on the binary before the refusal): chmod, fchmod and
fchmodat2 adding write for others, in the grant and on its top; a POSIX ACL
naming another user (set as an extended attribute).  Guards: the same
calls without that bit, which the command keeps."""
import os
import struct

from conftest import ATTEMPT, STRANGER, own_top, stranger



def acl(uid):
    """A POSIX ACL in its extended-attribute form, giving UID rwx."""
    entries = ((0x01, 7, 0xFFFFFFFF), (0x02, 7, uid), (0x04, 5, 0xFFFFFFFF),
               (0x10, 7, 0xFFFFFFFF), (0x20, 5, 0xFFFFFFFF))
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries)


WIDEN = ATTEMPT + r"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def fchmodat2(name, mode):
    if libc.syscall(452, -100, name, mode, 0) < 0:
        raise OSError(ctypes.get_errno(), "fchmodat2")
def fchmod(name, mode):
    fd = os.open(name, os.O_RDONLY)
    try:
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
os.mkdir("d", 0o755)
os.mkdir("e", 0o755)
open("f", "w").close()
os.chmod("f", 0o644)
attempt("chmod-top", lambda: os.chmod(".", 0o777))
attempt("chmod-dir", lambda: os.chmod("d", 0o757))
attempt("chmod-sticky", lambda: os.chmod("d", 0o1777))
attempt("chmod-file", lambda: os.chmod("f", 0o646))
attempt("fchmod-dir", lambda: fchmod("d", 0o777))
attempt("fchmodat2-dir", lambda: fchmodat2(b"d", 0o703))
attempt("acl", lambda: os.setxattr("e", "system.posix_acl_access", bytes.fromhex(sys.argv[1])))
attempt("acl-default", lambda: os.setxattr("e", "system.posix_acl_default",
                                           bytes.fromhex(sys.argv[1])))
attempt("xattr", lambda: os.setxattr("f", "user.rf", b"1"))
# positive controls: the owner's and the group's bits are the command's
attempt("own-dir", lambda: os.chmod("d", 0o775))
attempt("own-file", lambda: fchmod("f", 0o664))
attempt("own-fchmodat2", lambda: fchmodat2(b"e", 0o750))
"""




def test_the_command_cannot_give_other_users_write_in_its_grants(box):
    own_top(box)
    # the host's own world-writable directory (the stranger's positive
    # control: it can write where the host lets it)
    shared = os.path.join(box.work, "shared")
    os.mkdir(shared)
    os.chmod(shared, 0o777)
    box.write("work/widen.py", WIDEN)
    r = box.run(["/usr/bin/python3", "widen.py", acl(STRANGER).hex()], policy=box.policy(""))
    out = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
    assert r.returncode == 0, r.stdout + r.stderr
    for name in ("own-dir", "own-file", "own-fchmodat2"):
        assert out.get(name) == "ok", (name, r.stdout, r.stderr)
    for name in ("chmod-top", "chmod-dir", "chmod-sticky", "chmod-file", "fchmod-dir",
                 "fchmodat2-dir"):
        assert out.get(name) == "refused 1", (name, r.stdout, r.stderr)  # EPERM
    for name in ("acl", "acl-default", "xattr"):
        assert out.get(name) == "refused 95", (name, r.stdout, r.stderr)  # EOPNOTSUPP
    st = {n: os.stat(os.path.join(box.work, n)).st_mode & 0o7777 for n in ("d", "e", "f")}
    assert st == {"d": 0o775, "e": 0o750, "f": 0o664}, st
    assert os.stat(box.work).st_mode & 0o7777 == 0o755
    # the stranger: it can write where the host lets it ...
    assert stranger("touch", os.path.join(shared, "x")).returncode == 0
    # ... and nowhere the sandbox could have let it
    for argv in (["touch", os.path.join(box.work, "x")],
                 ["mkdir", os.path.join(box.work, "d", ".git")],
                 ["mkdir", os.path.join(box.work, "e", ".git")],
                 ["sh", "-c", "echo x >> " + os.path.join(box.work, "f")],
                 ["mv", os.path.join(box.work, "d"), os.path.join(box.work, "d2")]):
        p = stranger(*argv)
        assert p.returncode != 0, (argv, p.stdout, p.stderr)


def test_extended_attributes_allowed_by_the_policy_reach_the_grants(box):
    """[syscalls] allow = setxattr (with allow_dangerous) gives them back:
    the operator's choice, judged as before (the read-only tree, the
    attribute gate)."""
    pol = box.policy("[syscalls]\nallow = setxattr, lsetxattr, fsetxattr\n"
                     "allow_dangerous = yes\n")
    box.write("work/x.py", ATTEMPT + r"""
open("f", "w").close()
attempt("xattr", lambda: os.setxattr("f", "user.rf", b"1"))
""")
    r = box.run(["/usr/bin/python3", "x.py"], policy=pol)
    assert r.returncode == 0 and "xattr ok" in r.stdout, r.stdout + r.stderr
    assert os.getxattr(os.path.join(box.work, "f"), "user.rf") == b"1"
