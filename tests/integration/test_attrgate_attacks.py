# SPDX-License-Identifier: MIT
"""Attacks on the claim that without namespaces a sandboxed command cannot
change the mode, owner, times or attributes of anything outside its write
grants (supervisor/attrgate.c), and can still do so within them.

Every file an attack aims at is one a test made (under /var/tmp or the box)
or a host file changed only to what it already is (its own mode and owner):
nothing on the host changes if an attack gets through.  Each test has a
positive control: the command ran, and the same call on its own file in the
write grant was made.

Without namespaces, on the binary before the gate (5d891db), the tests of
what a command could change fail (another process's unnamed file, a name
from another mount namespace, the host's terminal, device nodes, a FIFO
grant, chattr: that one in every mode); futimesat and run_as's resolution
pass there (the kernel made the calls): they guard mistakes of the gate's
first version."""
import fcntl
import os
import stat
import struct
import subprocess

import pytest

from conftest import ATTEMPT, NOBODY, XATTRS_ALLOWED, owner_of

T0 = 1000000000


def make_file(path, uid, mode=0o644):
    with open(path, "w") as f:
        f.write("x\n")
    os.chmod(path, mode)
    os.utime(path, (T0, T0))
    os.chown(path, uid, uid)


def world(box, outside, body=""):
    """work/f (in the write grant) and OUTSIDE/f (readable only), both the
    command's user's, mode 0644, times T0."""
    uid = owner_of(box)
    for d in (box.work, outside):
        os.chown(d, uid, uid)
        os.chmod(d, 0o755)
        make_file(os.path.join(d, "f"), uid)
    # extended attributes allowed: the gate judges them (refused by default)
    return box.policy("[filesystem]\nread = %s\n%s%s" % (outside, body, XATTRS_ALLOWED))


# ---------------------------------------------------------------------------
# 1. ioctl(FS_IOC_SETFLAGS / FS_IOC_FSSETXATTR / FS_IOC_SETVERSION): chattr.
# Landlock has no right for them on regular files (its ioctl right covers
# devices only), they need only that the caller own the file, and the
# notification filter does not stop ioctl.  With namespaces the read-only
# mount refuses them (mnt_want_write_file: EROFS).

FS_IOC_GETFLAGS, FS_IOC_SETFLAGS = 0x80086601, 0x40086602
FS_IOC_GETVERSION, FS_IOC_SETVERSION = 0x80087601, 0x40087602
FS_IOC_FSGETXATTR, FS_IOC_FSSETXATTR = 0x801C581F, 0x401C5820
FS_NODUMP_FL = 0x40
FS_XFLAG_SYNC = 0x20


def getflags(fd):
    return struct.unpack("l", fcntl.ioctl(fd, FS_IOC_GETFLAGS, struct.pack("l", 0)))[0]


def getversion(fd):
    return struct.unpack("l", fcntl.ioctl(fd, FS_IOC_GETVERSION, struct.pack("l", 0)))[0]


def getxflags(fd):
    return struct.unpack_from("I", fcntl.ioctl(fd, FS_IOC_FSGETXATTR, bytes(28)))[0]


def snapshot(path):
    """The attributes the chattr ioctls change, read by the host."""
    fd = os.open(path, os.O_RDONLY)
    try:
        out = {}
        for name, get in (("flags", getflags), ("version", getversion),
                          ("xflags", getxflags)):
            try:
                out[name] = get(fd)
            except OSError:
                out[name] = None
        return out
    finally:
        os.close(fd)


CHATTR = ATTEMPT + r"""
import fcntl, struct
GET, SET = 0x80086601, 0x40086602
GETV, SETV = 0x80087601, 0x40087602
FSGET, FSSET = 0x801C581F, 0x401C5820
for tag, d in (("in", sys.argv[1]), ("out", sys.argv[2])):
    fd = os.open(os.path.join(d, "f"), os.O_RDONLY)
    flags = struct.unpack("l", fcntl.ioctl(fd, GET, struct.pack("l", 0)))[0]
    print(tag, "opened", flush=True)
    attempt(tag + "-setflags",
            lambda: fcntl.ioctl(fd, SET, struct.pack("l", flags | 0x40)))  # nodump
    def fssetxattr():
        fsx = bytearray(fcntl.ioctl(fd, FSGET, bytes(28)))
        struct.pack_into("I", fsx, 0, struct.unpack_from("I", fsx)[0] | 0x20)  # sync
        fcntl.ioctl(fd, FSSET, bytes(fsx))
    attempt(tag + "-fssetxattr", fssetxattr)
    def setversion():
        v = struct.unpack("l", fcntl.ioctl(fd, GETV, struct.pack("l", 0)))[0]
        fcntl.ioctl(fd, SETV, struct.pack("l", v + 12345))
    attempt(tag + "-setversion", setversion)
    os.close(fd)
"""


def chattr_supported(d):
    """Which of the three calls the file system of D supports (tried by the
    host on a scratch file there): an unsupported one proves nothing."""
    p = os.path.join(d, ".probe")
    make_file(p, 0)
    fd = os.open(p, os.O_RDONLY)
    ok = set()
    try:
        for name, fn in (
                ("setflags", lambda: fcntl.ioctl(
                    fd, FS_IOC_SETFLAGS, struct.pack("l", getflags(fd) | FS_NODUMP_FL))),
                ("fssetxattr", lambda: fcntl.ioctl(fd, FS_IOC_FSSETXATTR, struct.pack(
                    "I24x", getxflags(fd) | FS_XFLAG_SYNC))),
                ("setversion", lambda: fcntl.ioctl(
                    fd, FS_IOC_SETVERSION, struct.pack("l", getversion(fd) + 1)))):
            try:
                fn()
                ok.add(name)
            except OSError:
                pass
    finally:
        os.close(fd)
        os.unlink(p)
    return ok


def test_chattr_ioctls_outside_the_write_grants_are_refused(box, outside):
    """chattr +d / +S and the inode generation of a file the command owns
    outside its grants: ioctl on a read-only fd, which neither Landlock nor
    the attribute gate stopped without namespaces (a command started as
    root could mark host files nodump, so that dump(8) backups skip them,
    or synchronous, or change their NFS generation).  seccomp now refuses
    FS_IOC_SETFLAGS, FS_IOC_FSSETXATTR and FS_IOC_SETVERSION in every
    mode."""
    pol = world(box, outside)
    calls = chattr_supported(outside)
    if not calls:
        pytest.skip("the file system of /var/tmp has none of the chattr ioctls")
    box.write("work/chattr.py", CHATTR)
    before = snapshot(os.path.join(outside, "f"))
    r = box.run(["/usr/bin/python3", "chattr.py", box.work, outside], policy=pol)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    # positive control: the command opened both files; seccomp refuses the
    # three ioctls everywhere (EPERM), in the grant too
    assert "in opened" in out and "out opened" in out, out + r.stderr
    for call in chattr_supported(box.work):
        assert "in-%s refused 1" % call in out, (call, out, r.stderr)
    for call in calls:
        assert "out-%s refused" % call in out, (call, out, r.stderr)
    assert snapshot(os.path.join(outside, "f")) == before, out


# ---------------------------------------------------------------------------
# 2. A path through another process's /proc entries: the supervisor opens
# the path itself, with its own privileges and without the command's
# Landlock domain, so /proc/PID/fd/N of a process the command may not
# inspect (Landlock refuses the command that: ptrace scope) is reached; a
# file with no name (nlink 0: an O_TMPFILE a host program is about to link
# into place, a file deleted but still open) then passes as "no host file".

HOLDER = r"""
import os, sys
fd = os.open(sys.argv[1], os.O_TMPFILE | os.O_RDWR, 0o600)
os.utime(fd, (%d, %d))
print(os.getpid(), fd, flush=True)
sys.stdin.readline()
st = os.fstat(fd)
try:
    x = os.getxattr(fd, "user.rf")
except OSError:
    x = None
print(oct(st.st_mode & 0o7777), int(st.st_mtime), x, flush=True)
""" % (T0, T0)

THROUGH_PROC = ATTEMPT + r"""
p = "/proc/%s/fd/%s" % (sys.argv[1], sys.argv[2])
attempt("direct-open", lambda: os.close(os.open(p, os.O_RDONLY)))
attempt("chmod", lambda: os.chmod(p, 0o644))
attempt("utime", lambda: os.utime(p, (1, 1)))
attempt("setxattr", lambda: os.setxattr(p, "user.rf", b"1"))
fd = os.open("f", os.O_RDONLY)
attempt("own", lambda: os.fchmod(fd, 0o640))
"""


def test_another_processs_unnamed_file_through_proc_stays(box, outside):
    """A host program (the command's user, outside the sandbox) holds an
    O_TMPFILE, mode 0600, that it will link into place: the command names
    it as /proc/PID/fd/N and makes it world-writable, sets its times and an
    extended attribute, though it cannot open that path itself."""
    pol = world(box, outside)
    box.write("holder.py", HOLDER)
    box.write("work/proc.py", THROUGH_PROC)
    holder = subprocess.Popen(box.cmd(["/usr/bin/python3", box.path("holder.py"), outside]),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        pid, fd = holder.stdout.readline().split()
        r = box.run(["/usr/bin/python3", "proc.py", pid, fd], policy=pol)
        holder.stdin.write("\n")
        holder.stdin.flush()
        seen = holder.stdout.readline().split()
    finally:
        holder.kill()
        holder.wait()
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    # positive control: its own file in the grant, through its fd
    assert "own ok" in out, out + r.stderr
    assert os.stat(os.path.join(box.work, "f")).st_mode & 0o7777 == 0o640
    # the command itself cannot open that path: only the supervisor could
    assert "direct-open refused" in out, out
    assert seen == ["0o600", str(T0), "None"], (seen, out, r.stderr)
    for call in ("chmod", "utime", "setxattr"):
        assert "%s refused" % call in out, (call, out, r.stderr)


# ---------------------------------------------------------------------------
# 3. The name the kernel gives an open file is relative to the mount
# namespace it lives in: a file reached through /proc/PID/root of a process
# in another mount namespace (a container, a service with PrivateTmp or
# ProtectSystem) gets the name it has there.  A bind mount of an outside
# directory onto a path inside the write grant, in that namespace only,
# makes an outside host file look as if it were in the grant.

MOUNTNS = ATTEMPT + r"""
p = "/proc/%s/root%s/sub/f" % (sys.argv[1], sys.argv[2])
attempt("direct-open", lambda: os.close(os.open(p, os.O_RDONLY)))
attempt("chmod", lambda: os.chmod(p, 0o600))
attempt("utime", lambda: os.utime(p, (1, 1)))
attempt("setxattr", lambda: os.setxattr(p, "user.rf", b"1"))
attempt("own", lambda: os.chmod("f", 0o640))
"""


def test_a_name_from_another_mount_namespace_does_not_pass_for_the_grant(box, outside):
    pol = world(box, outside)
    uid = owner_of(box)
    sub = os.path.join(box.work, "sub")
    os.mkdir(sub)
    os.chown(sub, uid, uid)
    box.write("work/mountns.py", MOUNTNS)
    # a process of the command's user in a mount namespace of its own, where
    # OUTSIDE is bound onto work/sub (nothing changes in the host's view)
    script = 'mount --bind "$0" "$1" && echo ready && exec %s sleep 120' % (
        "setpriv --reuid=%d --regid=%d --clear-groups" % (NOBODY, NOBODY)
        if box.user == "nobody" else "")
    helper = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "--", "sh",
                               "-c", script, outside, sub], stdout=subprocess.PIPE, text=True)
    try:
        assert helper.stdout.readline().strip() == "ready"
        assert os.listdir(sub) == []  # the host's view: work/sub is empty
        r = box.run(["/usr/bin/python3", "mountns.py", str(helper.pid), box.work],
                    policy=pol)
    finally:
        helper.kill()
        helper.wait()
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    assert "own ok" in out, out + r.stderr  # positive control
    assert os.stat(os.path.join(box.work, "f")).st_mode & 0o7777 == 0o640
    assert "direct-open refused" in out, out
    st = os.stat(os.path.join(outside, "f"))
    assert st.st_mode & 0o7777 == 0o644 and st.st_mtime == T0, (oct(st.st_mode), out)
    with pytest.raises(OSError):
        os.getxattr(os.path.join(outside, "f"), "user.rf")
    for call in ("chmod", "utime", "setxattr"):
        assert "%s refused" % call in out, (call, out, r.stderr)


# ---------------------------------------------------------------------------
# 4. Device nodes in the default policy's write grants (/dev/null, /dev/zero,
# /dev/full, /dev/tty, /dev/ptmx).  Writing a device changes no inode; its
# mode and owner are the host's: a command started as root could make
# /dev/null or /dev/ptmx 0600 for every other user of the host (or give a
# device node an ACL).  With namespaces the read-only tree refuses it.  Here
# each is changed to the mode and owner it has: nothing changes on the host
# if the call is made.

DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/ptmx")

DEVS = ATTEMPT + r"""
import stat
for p in sys.argv[1:]:
    st = os.stat(p)
    attempt("chmod " + p, lambda: os.chmod(p, stat.S_IMODE(st.st_mode)))
    attempt("chown " + p, lambda: os.chown(p, st.st_uid, st.st_gid))
with open("/dev/null", "w") as f:
    f.write("x")
print("wrote /dev/null", flush=True)
attempt("own", lambda: os.chmod("f", 0o640))
"""


def test_device_nodes_in_the_write_grants_keep_their_modes_and_owners(box, outside):
    pol = world(box, outside)
    box.write("work/devs.py", DEVS)
    modes = {p: os.stat(p).st_mode for p in DEVICES}
    r = box.run(["/usr/bin/python3", "devs.py"] + list(DEVICES), policy=pol)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    # positive control: the devices are written, and the command's own
    # file's mode changes
    assert "wrote /dev/null" in out and "own ok" in out, out + r.stderr
    assert os.stat(os.path.join(box.work, "f")).st_mode & 0o7777 == 0o640
    assert {p: os.stat(p).st_mode for p in DEVICES} == modes
    for p in DEVICES:
        for call in ("chmod", "chown"):
            assert "%s %s refused" % (call, p) in out, (call, p, out, r.stderr)


# ---------------------------------------------------------------------------
# 5. /dev/fd/N, /dev/stdin and every spelling of /proc/self but the one
# rewritten ("/proc/self/..." exactly) are resolved in the supervisor: its
# own /proc/self, its own fds.  The command's call then names the
# supervisor's open file (a pipe or socket of its own passes as "no host
# file") or, mostly, fails with ENOENT where the kernel, and the sandbox
# with namespaces, change the command's own file.

SPELLINGS = ATTEMPT + r"""
import stat
fd = os.open("f", os.O_RDONLY)
os.dup2(fd, 99)
for i, p in enumerate(("/dev/fd/99", "/proc/./self/fd/99", "//proc/self/fd/99",
                       "/proc/self/../self/fd/99", "/proc/thread-self/../../../self/fd/99")):
    mode = 0o610 + 0o10 * i
    attempt(p, lambda: os.chmod(p, mode))
    print(p, "mode", oct(stat.S_IMODE(os.stat("f").st_mode)), flush=True)
os.chdir("/proc")
attempt("self/fd/99 from /proc", lambda: os.utime("self/fd/99", (7, 7)))
os.chdir(sys.argv[1])
print("mtime", int(os.stat("f").st_mtime), flush=True)
attempt("/dev/stdout", lambda: os.chmod("/dev/stdout", 0o600))
attempt("own", lambda: os.fchmod(99, 0o640))
"""


def test_dev_fd_and_proc_self_spellings_never_reach_the_supervisors_files(box, outside):
    """/dev/fd/N, /proc/./self, //proc/self, a relative self/fd/N from
    /proc: resolved in the supervisor, "self" is the supervisor (chmod
    /dev/stdout reached the supervisor's stdout).  Without namespaces the
    attribute gate follows no magic link: each is refused and nothing but
    the command's own file, through its fd, changes."""
    pol = world(box, outside)
    box.write("work/spell.py", SPELLINGS)
    r = box.run(["/usr/bin/python3", "spell.py", box.work], policy=pol)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    assert "own ok" in out, out + r.stderr  # positive control
    assert os.stat(os.path.join(box.work, "f")).st_mode & 0o7777 == 0o640
    for i, p in enumerate(("/dev/fd/99", "/proc/./self/fd/99", "//proc/self/fd/99",
                           "/proc/self/../self/fd/99", "/proc/thread-self/../../../self/fd/99")):
        if box.namespaces == "on":  # the kernel's, in the command's own /proc
            assert "%s ok" % p in out, (p, out, r.stderr)
        else:
            assert "%s refused" % p in out, (p, out, r.stderr)
    # the supervisor's own stdout is never what a chmod of /dev/stdout changes
    assert box.namespaces == "on" or "/dev/stdout refused" in out, out


# ---------------------------------------------------------------------------
# 6. run_as another user: the supervisor (root) resolves the command's path
# with its own credentials.  The command (nobody) then changes a file of its
# own it cannot reach (a directory on the way it may not search), and learns
# what exists in directories it may not read: EROFS for a file there, ENOENT
# for none, and the refusal line names the target of a symlink there.

RUN_AS = ATTEMPT + r"""
attempt("stat-locked", lambda: os.stat("locked/f"))
attempt("chmod-locked", lambda: os.chmod("locked/f", 0o600))
attempt("chmod-g", lambda: os.chmod("g", 0o600))
attempt("chmod-exists", lambda: os.chmod(sys.argv[1] + "/exists", 0o644))
attempt("chmod-absent", lambda: os.chmod(sys.argv[1] + "/absent", 0o644))
attempt("chmod-link", lambda: os.chmod(sys.argv[1] + "/link", 0o644))
"""


def test_run_as_another_user_resolves_paths_as_that_user(box, outside):
    if box.user != "root":
        pytest.skip("needs ringfence started as root, dropping to run_as")
    os.chown(box.work, NOBODY, NOBODY)
    locked = os.path.join(box.work, "locked")
    os.mkdir(locked, 0o700)  # root's, in the grant: nobody may not search it
    make_file(os.path.join(locked, "f"), NOBODY)
    make_file(os.path.join(box.work, "g"), NOBODY)
    private = os.path.join(outside, "private")
    os.mkdir(private, 0o700)
    make_file(os.path.join(private, "exists"), 0)
    make_file(os.path.join(private, "hidden-name-9f3c"), 0)
    os.symlink("hidden-name-9f3c", os.path.join(private, "link"))
    box.write("work/runas.py", RUN_AS)
    head = "[sandbox]\ninclude = %s\n" % box.default
    if box.namespaces == "off":
        head += "namespaces = off\n"
    pol = box.policy(head + "[filesystem]\nexec = %s\n[process]\nrun_as = nobody\n" % box.bin,
                     base=False)
    r = box.run(["/usr/bin/python3", "runas.py", private], policy=pol)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    assert "chmod-g ok" in out, out + r.stderr  # positive control: its own file
    assert "stat-locked refused 13" in out, out  # the kernel: no search right
    assert "chmod-locked refused 13" in out, out + r.stderr
    assert os.stat(os.path.join(locked, "f")).st_mode & 0o7777 == 0o644
    # what exists in a directory nobody may not read is not told apart
    assert "chmod-exists refused 13" in out and "chmod-absent refused 13" in out, \
        out + r.stderr
    assert "hidden-name-9f3c" not in out + r.stderr, out + r.stderr


# ---------------------------------------------------------------------------
# 7. The terminal the command started on.  Without namespaces it is the
# host's terminal itself (a write grant of the default policy: /dev/pts),
# and the gate let the command make it 0666 (0644 now that write for others
# is refused by seccomp first): any local user may then read what is typed
# in it after the sandbox has ended (a password at a later sudo prompt).
# With namespaces its name is one of the sandbox's own devpts; the host's
# terminal handed over on fds 0-2 is the host's object, whose mode the
# command may still change through that fd (a stated limit, SECURITY.md).

TTY = ATTEMPT + r"""
import stat
print("tty", os.isatty(0), flush=True)
attempt("chmod-tty", lambda: os.chmod(os.ttyname(0), 0o644))
attempt("own", lambda: os.chmod("f", 0o640))
"""


def test_the_hosts_terminal_keeps_its_mode(box, outside):
    pol = world(box, outside)
    box.write("work/tty.py", TTY)
    master, slave = os.openpty()
    name = os.ttyname(slave)
    try:
        os.chown(name, owner_of(box), -1)  # the user's own terminal
        os.chmod(name, 0o620)
        p = box.popen(["/usr/bin/python3", "tty.py"], policy=pol, stdin=slave,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = p.communicate(timeout=60)
        mode = stat.S_IMODE(os.stat(name).st_mode)
    finally:
        os.close(slave)
        os.close(master)
    assert p.returncode == 0, out + err
    # positive control: the command had a terminal and ran
    assert "tty True" in out and "own ok" in out, out + err
    assert mode == 0o620, (oct(mode), out, err)


# ---------------------------------------------------------------------------
# 9. Fail closed, and say what is missing: under a notification listener
# above ringfence (WSL2; notify_busy here), with nothing else asking for
# notifications (no Unix sockets, no file gate), strict refuses to start
# because the attribute gate cannot be had.  The refusal must name that
# layer's remedy (enforcement = best-effort, or namespaces): since the
# refusal moved into the child it gives the connect broker's advice
# (unix_sockets = deny, which the policy already says), cut off mid-word.


def test_a_refused_attribute_gate_says_what_is_missing(box):
    if box.namespaces == "on":
        pytest.skip("the attribute gate is for runs without namespaces")
    busy = os.path.join(box.bin, "notify_busy")
    pol = box.policy("[syscalls]\nunix_sockets = deny\n")
    r = subprocess.run(box.cmd([busy, box.ringfence, "-p", pol, "--", "touch", "started"]),
                       cwd=box.work, env=box.env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 125, r.stderr
    assert not os.path.exists(os.path.join(box.work, "started"))
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "best-effort" in r.stderr, r.stderr
    assert r.stderr.strip().endswith((")", ".", "that")), r.stderr  # said whole
    # positive control: with best-effort the command runs, and is told what
    # it goes without
    pol = box.policy("[sandbox]\nenforcement = best-effort\n[syscalls]\nunix_sockets = deny\n",
                     name="best.ini")
    r = subprocess.run(box.cmd([busy, box.ringfence, "-p", pol, "--", "touch", "started"]),
                       cwd=box.work, env=box.env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert os.path.exists(os.path.join(box.work, "started")), r.stderr


# ---------------------------------------------------------------------------
# 10. The same for a FIFO the policy grants for writing (a host daemon's
# control FIFO, say): writing it is what the grant is for, but its mode is
# the host's.  With namespaces its mount is read-only (sandbox/mounts_grants.c:
# writes to FIFOs do not need a writable mount); without, the gate lets the
# command make it 0666, and every user of the host may then write to it.

FIFO = ATTEMPT + r"""
fifo = sys.argv[1]
r = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
w = os.open(fifo, os.O_WRONLY)
os.write(w, b"z")
print("fifo", os.read(r, 1), flush=True)
attempt("chmod-fifo", lambda: os.chmod(fifo, 0o644))
attempt("own", lambda: os.chmod("f", 0o640))
"""


def test_a_fifo_in_the_write_grants_keeps_its_mode(box, outside):
    fifo = os.path.join(outside, "fifo")
    os.mkfifo(fifo)
    os.chmod(fifo, 0o620)
    os.chown(fifo, owner_of(box), owner_of(box))
    pol = world(box, outside, "write = %s\n" % fifo)
    box.write("work/fifo.py", FIFO)
    r = box.run(["/usr/bin/python3", "fifo.py", fifo], policy=pol)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    # positive control: the FIFO is written, as the grant says, and the
    # command's own file's mode changes
    assert "fifo b'z'" in out and "own ok" in out, out + r.stderr
    assert stat.S_IMODE(os.stat(fifo).st_mode) == 0o620, out
    assert "chmod-fifo refused" in out, out + r.stderr


# ---------------------------------------------------------------------------
# 11. A regression: futimesat(fd, NULL, times) sets the times of the open
# file itself (the kernel's do_utimes: no name and a real fd), as
# utimensat(fd, NULL, ...) does, which the gate knows; for futimesat it reads
# the NULL name and answers EFAULT.

FUTIMESAT = ATTEMPT + r"""
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("f", os.O_RDONLY)
tv = (ctypes.c_long * 4)(7, 0, 7, 0)
def futimesat():
    if libc.syscall(261, fd, None, tv) != 0:  # __NR_futimesat on x86_64
        raise OSError(ctypes.get_errno(), "futimesat")
attempt("futimesat", futimesat)
print("mtime", int(os.stat("f").st_mtime), flush=True)
attempt("own", lambda: os.utime("f", (9, 9)))
"""


def test_futimesat_on_an_open_file_sets_its_times(box, outside):
    pol = world(box, outside)
    box.write("work/futimesat.py", FUTIMESAT)
    r = box.run(["/usr/bin/python3", "futimesat.py"], policy=pol)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    assert "own ok" in out, out + r.stderr  # positive control
    assert os.stat(os.path.join(box.work, "f")).st_mtime == 9
    assert "futimesat ok" in out and "mtime 7" in out, out + r.stderr


