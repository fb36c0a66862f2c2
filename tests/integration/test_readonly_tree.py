"""Landlock has no right for a file's mode, owner, times or extended
attributes: the owner of a file may change them wherever Landlock lets it
read, and a command started as root owns the host's root-owned files.  With
namespaces every mount but the write grants is read-only in the sandbox,
which refuses them all (EROFS); without, the supervisor makes those calls
(attrgate.c), only within the write grants, and answers EROFS elsewhere."""
import os
import subprocess
import time

import pytest

from conftest import ATTEMPT, NOBODY, XATTRS_ALLOWED

ATTRS = ATTEMPT + r"""
for tag, d in (("in", sys.argv[1]), ("out", sys.argv[2])):
    f = os.path.join(d, "f")
    uid, gid = os.stat(f).st_uid, os.stat(f).st_gid
    attempt(tag + "-chmod", lambda: os.chmod(f, 0o664))
    attempt(tag + "-chmod-dir", lambda: os.chmod(d, 0o775))
    def fchmod():
        fd = os.open(f, os.O_RDONLY)
        try:
            os.fchmod(fd, 0o604)
        finally:
            os.close(fd)
    attempt(tag + "-fchmod", fchmod)
    attempt(tag + "-utime", lambda: os.utime(f, (1, 1)))
    attempt(tag + "-chown", lambda: os.chown(f, uid, gid))
    attempt(tag + "-setxattr", lambda: os.setxattr(f, "user.rf", b"1"))
    attempt(tag + "-removexattr", lambda: os.removexattr(f, "user.rf-host"))
    def through_proc():
        fd = os.open(f, os.O_RDONLY)
        try:
            os.chmod("/proc/self/fd/%d" % fd, 0o660)
        finally:
            os.close(fd)
    attempt(tag + "-proc-self", through_proc)
    attempt(tag + "-lchown", lambda: os.lchown(f, uid, gid))
"""


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
        os.setxattr(p, "user.rf-host", b"1")
        os.chown(d, owner, owner)
        os.chmod(d, 0o755)
    # extended attributes allowed: the calls reach the read-only tree or
    # the attribute gate, which this file tests
    return box.policy("[filesystem]\nread = %s\n" % outside + XATTRS_ALLOWED)


def test_modes_times_and_owners_outside_the_write_grants_stay(box, outside):
    pol = world(box, outside)
    r = box.run(["/usr/bin/python3", "attrs.py", box.work, outside], policy=pol)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    # positive control: in the write grant each call is made
    for call in ("chmod", "chmod-dir", "fchmod", "utime", "chown", "lchown", "setxattr",
                 "removexattr"):
        assert "in-%s ok" % call in out, (call, out, r.stderr)
    # through /proc/self/fd/N, as glibc's fchmodat(AT_SYMLINK_NOFOLLOW)
    # does: the kernel's with namespaces; the attribute gate takes that
    # spelling as the caller's fd N (and follows no other magic link)
    assert "in-proc-self ok" in out, (out, r.stderr)
    assert os.stat(box.path("work", "f")).st_mtime == 1
    assert os.stat(box.path("work", "f")).st_mode & 0o777 == 0o660
    for call in ("chmod", "chmod-dir", "fchmod", "utime", "chown", "setxattr", "lchown",
                 "removexattr"):
        assert "out-%s refused 30" % call in out, (call, out, r.stderr)  # EROFS
    assert "out-proc-self refused 30" in out or "out-proc-self refused 40" in out, out
    st = os.stat(os.path.join(outside, "f"))
    assert st.st_mode & 0o7777 == 0o644 and st.st_mtime == 1000000000, (oct(st.st_mode), out)
    assert os.stat(outside).st_mode & 0o7777 == 0o755
    with pytest.raises(OSError):
        os.getxattr(os.path.join(outside, "f"), "user.rf")
    assert os.getxattr(os.path.join(outside, "f"), "user.rf-host") == b"1"
    assert os.getxattr(box.path("work", "f"), "user.rf") == b"1"


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


RACE = r"""
import ctypes, os, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
inside, outside = sys.argv[1].encode(), sys.argv[2].encode()
n = max(len(inside), len(outside)) + 1
buf = ctypes.create_string_buffer(inside, n)
fin, fout = os.open(inside, os.O_RDONLY), os.open(outside, os.O_RDONLY)
slot = os.dup(fin)
stop = False
def flip():
    i = 0
    while not stop:
        ctypes.memmove(buf, outside if i % 2 else inside, n if i % 2 else len(inside) + 1)
        os.dup2(fout if i % 2 else fin, slot)
        i += 1
t = threading.Thread(target=flip)
t.start()
made = 0
errs = {}
for i in range(3000):
    for r in (libc.chmod(buf, 0o666 if i % 2 else 0o664),
              libc.fchmod(slot, 0o646 if i % 2 else 0o644)):
        made += r == 0
        if r:
            e = ctypes.get_errno()
            errs[e] = errs.get(e, 0) + 1
stop = True
t.join()
# the control, raced by nothing: which of the two the racing calls hit is
# the scheduler's (a thread holding the GIL can stop on the same side
# each time), so "made" may be 0 without saying anything
ctypes.memmove(buf, inside, len(inside) + 1)
print("control", libc.chmod(buf, 0o640) == 0 and libc.fchmod(fin, 0o644) == 0)
print("errors", errs)
print("made", made)
"""


def test_a_swapped_path_or_fd_never_changes_a_file_outside(box, outside):
    """A thread of the command swaps the path (its bytes) and the fd number
    the other thread's chmod and fchmod name, between a file in the grant
    and one outside: only the one in the grant ever changes."""
    pol = world(box, outside)
    box.write("work/race.py", RACE)
    r = box.run(["/usr/bin/python3", "race.py", box.path("work", "f"),
                 os.path.join(outside, "f")], policy=pol, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "control True" in r.stdout, r.stdout  # positive control: in the grant, made
    st = os.stat(os.path.join(outside, "f"))
    assert st.st_mode & 0o7777 == 0o644, (oct(st.st_mode), r.stdout)


def test_a_directory_on_stdin_is_refused_with_namespaces(nsbox, outside):
    """fd 0 open on a host directory leads, through openat(0, ...), into the
    host's mount tree beneath it, past the namespace's deny masks and
    read-only mounts: with namespaces the start is refused (exit 125, one
    line); a file on stdin starts as ever (the positive control)."""
    box = nsbox
    with open(os.path.join(outside, "in.txt"), "w") as f:
        f.write("from a file\n")
    os.chmod(os.path.join(outside, "in.txt"), 0o644)
    fd = os.open(outside, os.O_RDONLY | os.O_DIRECTORY)
    try:
        r = subprocess.run(box.cmd([box.ringfence, "--", "sh", "-c", "echo ran"]),
                           cwd=box.work, env=box.env(), stdin=fd, capture_output=True,
                           text=True, timeout=60)
    finally:
        os.close(fd)
    assert r.returncode == 125 and "ran" not in r.stdout, r.stdout + r.stderr
    assert "fd 0 is a directory" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    with open(os.path.join(outside, "in.txt")) as f:
        r = subprocess.run(box.cmd([box.ringfence, "--", "cat"]), cwd=box.work,
                           env=box.env(), stdin=f, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "from a file" in r.stdout, r.stdout + r.stderr


def test_modes_and_times_change_in_the_private_tmp(box):
    """The private temporary directory is the command's: a file made there
    (mktemp in $TMPDIR without namespaces, /tmp with them) takes chmod and
    times (pip installs through it)."""
    r = box.run(["sh", "-c", "f=$(mktemp) && chmod 600 \"$f\" && touch -d 2001-01-01 \"$f\" && "
                 "ls -l \"$f\""], policy=box.policy(""))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("-rw-------") and " 2001 " in r.stdout, r.stdout


NOFOLLOW = ATTEMPT + r"""
for tag, d in (("in", sys.argv[1]), ("out", sys.argv[2])):
    f = os.path.join(d, "f")
    attempt(tag + "-lchmod", lambda: os.chmod(f, 0o640, follow_symlinks=False))
    fd = os.open(f, os.O_PATH)
    attempt(tag + "-opath", lambda: os.chmod("/proc/self/fd/%d" % fd, 0o600))
    attempt(tag + "-thread-self", lambda: os.chmod("/proc/thread-self/fd/%d" % fd, 0o604))
    # spellings glibc never makes stay refused without namespaces
    attempt(tag + "-leading-zero", lambda: os.chmod("/proc/self/fd/0%d" % fd, 0o640))
"""


def test_glibcs_lchmod_through_proc_self_fd_is_judged_as_the_fd(box, outside):
    """glibc's fchmodat(AT_SYMLINK_NOFOLLOW) (`chmod -h`, Python's
    follow_symlinks=False, tar restoring modes as root) opens the file
    O_PATH and changes it through /proc/self/fd/N.  Without namespaces the
    attribute gate answered ELOOP to every such path, so each of these
    failed in the grant; it now takes that spelling as the caller's fd and
    judges the object: made in the grant, refused outside."""
    pol = world(box, outside)
    box.write("work/nofollow.py", NOFOLLOW)
    r = box.run(["/usr/bin/python3", "nofollow.py", box.work, outside], policy=pol)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    for call in ("lchmod", "opath", "thread-self"):
        assert "in-%s ok" % call in out, (call, out, r.stderr)
        assert "out-%s refused 30" % call in out, (call, out, r.stderr)  # EROFS
    assert os.stat(box.path("work", "f")).st_mode & 0o7777 == 0o604
    assert os.stat(os.path.join(outside, "f")).st_mode & 0o7777 == 0o644
    if box.namespaces == "off":
        assert "in-leading-zero refused" in out, out
    assert "out-leading-zero ok" not in out, out


def test_a_device_handed_over_on_stdin_keeps_its_mode(box):
    """Outside review: run as root with stdin /dev/null (a service's, a CI
    job's), the command made the host's /dev/null 0600 through
    /proc/self/fd/0: the fd was the host's node on the host's mount, which
    the read-only tree does not cover.  A memory device on fds 0-2 is
    opened again in the sandbox's view now.  The node here is the test's
    own (c 1,3), the command's user's; reading it still works (the
    control)."""
    import stat
    node = box.path("devnull")
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.chmod(node, 0o666)
    if box.user == "nobody":
        os.chown(node, NOBODY, NOBODY)
    with open(node, "rb") as stdin:
        r = subprocess.run(box.cmd([box.ringfence, "-p", box.policy(""), "--", "sh", "-c",
                                    "cat; echo read; chmod 600 /proc/self/fd/0; "
                                    "chmod 600 /dev/stdin; touch -d 2001-01-01 /proc/self/fd/0"]),
                           stdin=stdin, cwd=box.work, env=box.env(), capture_output=True,
                           text=True, timeout=60)
    assert "read" in r.stdout, r.stderr
    st = os.stat(node)
    assert stat.S_IMODE(st.st_mode) == 0o666, oct(st.st_mode)
    assert time.gmtime(st.st_mtime).tm_year != 2001
