"""With namespaces, every mount but the write grants is read-only in the
sandbox.  Landlock has no right for a file's mode, owner, times or extended
attributes: the owner of a file may change them wherever Landlock lets it
read, and a command started as root owns the host's root-owned files.  A
read-only mount refuses them all (EROFS)."""
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import NOBODY

ATTRS = r"""
import os, sys
def attempt(name, fn):
    try:
        fn()
        print(name, "ok")
    except OSError as e:
        print(name, "refused", e.errno)
for tag, d in (("in", sys.argv[1]), ("out", sys.argv[2])):
    f = os.path.join(d, "f")
    uid, gid = os.stat(f).st_uid, os.stat(f).st_gid
    attempt(tag + "-chmod", lambda: os.chmod(f, 0o666))
    attempt(tag + "-chmod-dir", lambda: os.chmod(d, 0o777))
    def fchmod():
        fd = os.open(f, os.O_RDONLY)
        try:
            os.fchmod(fd, 0o606)
        finally:
            os.close(fd)
    attempt(tag + "-fchmod", fchmod)
    attempt(tag + "-utime", lambda: os.utime(f, (1, 1)))
    attempt(tag + "-chown", lambda: os.chown(f, uid, gid))
    attempt(tag + "-setxattr", lambda: os.setxattr(f, "user.rf", b"1"))
"""


@pytest.fixture
def outside():
    """A directory outside /tmp (which the private /tmp replaces, carrying
    grants across read-only: the old binary refused there too)."""
    d = tempfile.mkdtemp(prefix="rf-ro-", dir="/var/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def world(box, outside):
    """work/f (in the write grant) and OUTSIDE/f (readable only), both the
    command's user's, mode 0644, times 1000000000."""
    owner = NOBODY if box.user == "nobody" else 0
    box.write("work/attrs.py", ATTRS)
    for d in (box.work, outside):
        p = os.path.join(d, "f")
        with open(p, "w") as f:
            f.write("x\n")
        os.chmod(p, 0o644)
        os.utime(p, (1000000000, 1000000000))
        os.chown(p, owner, owner)
        os.chown(d, owner, owner)
        os.chmod(d, 0o755)
    return box.policy("[filesystem]\nread = %s\n" % outside)


def test_modes_times_and_owners_outside_the_write_grants_stay(nsbox, outside):
    box = nsbox
    pol = world(box, outside)
    r = box.run(["/usr/bin/python3", "attrs.py", box.work, outside], policy=pol)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    # positive control: in the write grant each call is made
    for call in ("chmod", "chmod-dir", "fchmod", "utime", "chown"):
        assert "in-%s ok" % call in out, (call, out, r.stderr)
    assert os.stat(box.path("work", "f")).st_mtime == 1
    for call in ("chmod", "chmod-dir", "fchmod", "utime", "chown", "setxattr"):
        assert "out-%s refused 30" % call in out, (call, out, r.stderr)  # EROFS
    st = os.stat(os.path.join(outside, "f"))
    assert st.st_mode & 0o7777 == 0o644 and st.st_mtime == 1000000000, (oct(st.st_mode), out)
    assert os.stat(outside).st_mode & 0o7777 == 0o755
    with pytest.raises(OSError):
        os.getxattr(os.path.join(outside, "f"), "user.rf")


def test_a_host_read_only_mount_in_a_write_grant_stays_read_only(nsbox):
    """The grants are cloned with each mount's own flags: a mount the host
    has read-only beneath a write grant is never made writable."""
    box = nsbox
    ro = box.path("work", "ro")
    os.mkdir(ro)
    if box.user == "nobody":
        os.chown(ro, NOBODY, NOBODY)
    subprocess.run(["mount", "--bind", ro, ro], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", ro], check=True)
        r = box.run(["sh", "-c", "echo a > made && echo made-ok; echo b > ro/x && echo ro-ok"],
                    policy=box.policy(""))
    finally:
        subprocess.run(["umount", ro], check=True)
    assert "made-ok" in r.stdout, r.stdout + r.stderr
    assert "ro-ok" not in r.stdout and "Read-only" in r.stderr, r.stdout + r.stderr
    assert not os.path.exists(os.path.join(ro, "x"))


def test_writes_that_do_not_need_a_writable_mount_still_work(nsbox, outside):
    """Devices, a terminal of the sandbox's own and a FIFO outside the
    write grants are written as before; a file in the grant is made."""
    box = nsbox
    fifo = os.path.join(outside, "fifo")
    os.mkfifo(fifo)
    os.chmod(fifo, 0o666)
    pol = box.policy("[filesystem]\nread = %s\nwrite = %s\n" % (outside, fifo))
    script = ("import os, pty\n"
              "open('/dev/null', 'w').write('x'); print('null ok')\n"
              "m, s = pty.openpty(); os.write(s, b'y'); print('pty ok')\n"
              "r = os.open(%r, os.O_RDONLY | os.O_NONBLOCK)\n"
              "w = os.open(%r, os.O_WRONLY); os.write(w, b'z'); print('fifo', os.read(r, 1))\n"
              "open('made', 'w').write('x'); print('made ok')\n" % (fifo, fifo))
    r = box.run(["/usr/bin/python3", "-c", script], policy=pol)
    assert r.returncode == 0, r.stdout + r.stderr
    for line in ("null ok", "pty ok", "fifo b'z'", "made ok"):
        assert line in r.stdout, (line, r.stdout, r.stderr)
