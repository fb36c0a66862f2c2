# SPDX-License-Identifier: MIT
"""Attacks on the attribute gate (supervisor/attrgate.c, without namespaces)
and the read-only tree (with them) that the first reviews did not try.

The gate makes the call itself, on an fd it opened, instead of letting the
kernel make it: everything the kernel would check of the call's own
arguments before touching the file must then be checked by the gate, or a
call the kernel refuses (EINVAL, EBADF) changes the file.  With namespaces
the kernel makes these calls, so the same program is the reference: each
test runs in all four modes and expects the kernel's answer in each.

Every file changed is one the test made in the box's work directory.

These are regressions of the gate, not escapes: on the binary before the
gate every test passes (the kernel made the calls), and without namespaces
each failed on the gate as it was when the review ran (c53862c)."""
import os
import stat

import conftest
from conftest import NOBODY, XATTRS_ALLOWED

ATTEMPT = conftest.ATTEMPT + r"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def sc(*a):
    if libc.syscall(*a) < 0:
        raise OSError(ctypes.get_errno(), "syscall")
"""


def uid_of(box):
    return NOBODY if box.user == "nobody" else 0


def own_file(box, name, mode=0o644):
    p = os.path.join(box.work, name)
    with open(p, "w") as f:
        f.write("x\n")
    os.chmod(p, mode)
    os.utime(p, (1000000000, 1000000000))
    os.chown(p, uid_of(box), uid_of(box))
    return p


def lines(out):
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


# ---------------------------------------------------------------------------
# 1. Flags the kernel refuses.  fchownat, utimensat and fchmodat2 answer
# EINVAL to an AT_* flag they do not know (and utimensat to
# AT_SYMLINK_NOFOLLOW with no name) before looking at the file; the gate reads
# only the flags it uses, makes the call with AT_EMPTY_PATH on its own fd,
# and answers 0: the file's times or mode change (and fchownat answers 0) on
# a call every kernel refuses.  (0x8000 is no AT_* flag of any of them.)

BAD_FLAGS = ATTEMPT + r"""
import ctypes
ts = (ctypes.c_long * 4)(7, 0, 7, 0)
attempt("fchownat", lambda: sc(260, -100, b"a", -1, -1, 0x8000))
attempt("utimensat", lambda: sc(280, -100, b"b", ts, 0x8000))
fd = os.open("c", os.O_RDONLY)
attempt("utimensat-nofollow-noname", lambda: sc(280, fd, None, ts, 0x100))
attempt("fchmodat2", lambda: sc(452, -100, b"d", 0o600, 0x8000))
attempt("own-chmod", lambda: sc(452, -100, b"e", 0o600, 0))
attempt("own-utimensat", lambda: sc(280, -100, b"e", ts, 0))
"""


def test_unknown_at_flags_are_refused_as_the_kernel_refuses_them(box):
    files = {n: own_file(box, n) for n in "abcde"}
    box.write("work/badflags.py", BAD_FLAGS)
    r = box.run(["/usr/bin/python3", "badflags.py"], policy=box.policy(""))
    out = lines(r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr
    # positive control: the same calls with valid flags are made
    assert out.get("own-chmod") == "ok" and out.get("own-utimensat") == "ok", r.stdout + r.stderr
    assert stat.S_IMODE(os.stat(files["e"]).st_mode) == 0o600
    assert os.stat(files["e"]).st_mtime == 7
    for name in ("fchownat", "utimensat", "utimensat-nofollow-noname", "fchmodat2"):
        assert out.get(name) == "refused 22", (name, r.stdout, r.stderr)
    assert os.stat(files["b"]).st_mtime == 1000000000
    assert os.stat(files["c"]).st_mtime == 1000000000
    assert stat.S_IMODE(os.stat(files["d"]).st_mode) == 0o644


# ---------------------------------------------------------------------------
# 2. O_PATH fds.  fchmod, fchown, fsetxattr, fremovexattr and
# utimensat(fd, NULL, ...) take only an fd opened for I/O: on an O_PATH fd
# the kernel answers EBADF (fdget, not fdget_raw).  The gate opens
# /proc/PID/fd/N itself, O_PATH, and makes the call on that: an O_PATH fd,
# which any name the command can look up gives without read or write
# access, changes the file.

OPATH = ATTEMPT + r"""
fd = os.open("f", os.O_PATH)
attempt("fchmod", lambda: os.fchmod(fd, 0o600))
attempt("fchown", lambda: os.fchown(fd, -1, -1))
attempt("fsetxattr", lambda: os.setxattr(fd, "user.rf", b"1"))
attempt("futimens", lambda: sc(280, fd, None, None, 0))
attempt("fremovexattr", lambda: os.removexattr(fd, "user.rf-absent"))
rw = os.open("g", os.O_RDONLY)
attempt("own-fchmod", lambda: os.fchmod(rw, 0o600))
attempt("own-fsetxattr", lambda: os.setxattr(rw, "user.rf", b"1"))
"""


def test_o_path_fds_are_refused_as_the_kernel_refuses_them(box):
    f = own_file(box, "f")
    g = own_file(box, "g")
    box.write("work/opath.py", OPATH)
    r = box.run(["/usr/bin/python3", "opath.py"], policy=box.policy(XATTRS_ALLOWED))
    out = lines(r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr
    # positive control: an fd opened for reading is the kernel's to take
    assert out.get("own-fchmod") == "ok", r.stdout + r.stderr
    assert stat.S_IMODE(os.stat(g).st_mode) == 0o600
    for name in ("fchmod", "fchown", "fsetxattr", "futimens", "fremovexattr"):
        assert out.get(name) == "refused 9", (name, r.stdout, r.stderr)
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o644
    assert os.stat(f).st_mtime == 1000000000


# ---------------------------------------------------------------------------
# 3. The private temporary directory itself.  Without namespaces init makes
# it (/tmp/ringfence.XXXX, the command's, $TMPDIR) and the gate takes what
# lies beneath it as the command's, but not the directory: `touch "$TMPDIR"`
# or `chmod 700 "$TMPDIR"` fail with EROFS, where with namespaces (/tmp, a
# tmpfs of the sandbox's own) they are made.  Nothing of the host's is at
# stake: the directory is the command's own and removed at exit.

PRIVATE_TMP = ATTEMPT + r"""
t = os.environ.get("TMPDIR", "/tmp")
attempt("own", lambda: open(os.path.join(t, "x"), "w").close() or os.chmod(os.path.join(t, "x"), 0o600))
attempt("chmod-tmpdir", lambda: os.chmod(t, 0o700))
attempt("utime-tmpdir", lambda: os.utime(t))
"""


def test_the_private_tmp_directory_itself_takes_its_own_mode_and_times(box):
    box.write("work/ptmp.py", PRIVATE_TMP)
    r = box.run(["/usr/bin/python3", "ptmp.py"], policy=box.policy(""))
    out = lines(r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr
    assert out.get("own") == "ok", r.stdout + r.stderr  # positive control
    assert out.get("chmod-tmpdir") == "ok", r.stdout + r.stderr
    assert out.get("utime-tmpdir") == "ok", r.stdout + r.stderr
