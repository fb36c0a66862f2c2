"""Another local user, attacked around the refusal of write for others
(chmod o+w: EPERM; extended attributes, ACLs among them: EOPNOTSUPP).

The threat: the command leaves in its write grants something another uid
of the host (the stranger, uid 4242) can write, or a way for that uid to
change what the host's tools later run as the project's owner (a hook, an
.envrc, a script), after the sandbox and its exit checks have ended.

Escapes (each FAILS on f39d8c9, in the modes named; each passes now):
  - a supplementary group of the command's shared with the stranger:
    chgrp to it, then group write (root-ns, root-nons, user-nons; with a
    user namespace the group is not mapped: chown answers EINVAL);
  - made at creation (umask 0): a file born 0777 and what the stranger
    put, while the run lasted, in a directory born 0777 (every mode; the
    known limit, here so that the exit walk's change covers files and
    what the stranger owns, not only directories).
Guards (hold on f39d8c9): the mode's high bits and fchmodat2's flags,
setxattrat and file_setattr (newer calls than the table), a hard link to a
file of the stranger's, a new .envrc link out of the project."""
import os
import struct
import subprocess

from conftest import ATTEMPT, NOBODY, STRANGER, own_top, run_with_stranger, stranger

# a group the command and the stranger share (a team's, a distribution's
# "users", the groups root has in some images)
SHARED_GID = 4243




def run_with_groups(box, groups, args, policy, **kw):
    """BOX's command run as the box runs it, but with GROUPS as its
    supplementary groups (as a developer's login has them)."""
    argv = [box.ringfence, "-p", policy, "--"] + list(args)
    g = "--groups=%s" % ",".join(map(str, groups))
    if box.user == "nobody":
        argv = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, g, "--"] + argv
    else:
        argv = ["setpriv", g, "--"] + argv
    return subprocess.run(argv, cwd=box.work, env=box.env(), capture_output=True, text=True,
                          timeout=60, **kw)


def results(r):
    return dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)




GROUP = ATTEMPT + r"""
shared = int(sys.argv[1])
os.mkdir("d", 0o755)
open("f", "w").close()
os.mkdir("mine", 0o755)
# positive control: group write with the command's own group is its to give
attempt("own-group", lambda: (os.chown("mine", -1, os.getgid()), os.chmod("mine", 0o775)))
for n, mode in ((".", 0o775), ("d", 0o775), ("f", 0o664)):
    attempt("chgrp " + n, lambda: os.chown(n, -1, shared))
    attempt("chmod " + n, lambda: os.chmod(n, mode))
"""


def test_a_group_shared_with_another_user_gives_it_no_write(box):
    """The command's supplementary groups are its login's: one the stranger
    is in too (a team's group) is one chgrp away, and group write is not
    refused.  The stranger then renames .git away or adds a hook."""
    uid = own_top(box)
    # the host's own directory for that group: the stranger's positive control
    team = os.path.join(box.root, "team")
    os.mkdir(team)
    os.chown(team, 0, SHARED_GID)
    os.chmod(team, 0o770)
    box.write("work/group.py", GROUP)
    r = run_with_groups(box, [SHARED_GID], ["/usr/bin/python3", "group.py", str(SHARED_GID)],
                        box.policy(""))
    out = results(r)
    assert r.returncode == 0, r.stdout + r.stderr
    assert out.get("own-group") == "ok", r.stdout + r.stderr
    st = os.stat(os.path.join(box.work, "mine"))
    assert st.st_mode & 0o777 == 0o775 and st.st_uid == uid, oct(st.st_mode)
    # the stranger can write where the host lets its group ...
    assert stranger("touch", os.path.join(team, "x"), groups=[SHARED_GID]).returncode == 0
    # ... and nowhere the sandbox could have let it
    for argv in (["touch", os.path.join(box.work, "x")],
                 ["mkdir", os.path.join(box.work, "d", ".git")],
                 ["sh", "-c", "echo x >> " + os.path.join(box.work, "f")],
                 ["mv", os.path.join(box.work, "d"), os.path.join(box.work, "d2")]):
        p = stranger(*argv, groups=[SHARED_GID])
        assert p.returncode != 0, (argv, r.stdout, p.stderr)


BORN = ATTEMPT + r"""
os.umask(0)
# a script the user runs, made 0777 (a tool's umask 0, `install`'s own
# modes, an archive's); and an existing one replaced so
fd = os.open("build.sh", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o777)
os.write(fd, b"#!/bin/sh\necho built\n")
os.close(fd)
fd = os.open("Makefile.new", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
os.write(fd, b"all:\n\ttrue\n")
os.close(fd)
os.rename("Makefile.new", "Makefile")
print("made", flush=True)
"""


def test_files_made_writable_for_others_at_creation(box):
    """The known limit (a mode made at creation, umask 0), for FILES: the
    change announced for it removes write for others from directories
    made during the run; a file made 0777 (a script the user runs, a
    Makefile replaced) is as much the stranger's to edit afterwards."""
    uid = own_top(box)
    box.write("work/Makefile", "all:\n", mode=0o644, owner=uid)
    box.write("work/born.py", BORN)
    r = box.run(["/usr/bin/python3", "born.py"], policy=box.policy(""))
    assert r.returncode == 0 and "made" in r.stdout, r.stdout + r.stderr
    # positive control: the sandbox made them
    assert os.stat(os.path.join(box.work, "build.sh")).st_uid == uid
    for name in ("build.sh", "Makefile"):
        p = stranger("sh", "-c", "echo 'echo planted' >> " + os.path.join(box.work, name))
        assert p.returncode != 0, (name, oct(os.stat(os.path.join(box.work, name)).st_mode))


def test_what_another_user_put_in_a_directory_born_writable_is_not_left_theirs(box):
    """The same known limit, while the run lasts: the stranger makes a
    directory of its own in a directory born 0777.  Taking write for
    others from `born` at exit leaves `born/sub` the stranger's (its
    owner's mode is the stranger's to set), where it adds a script or a
    hook when it likes."""
    own_top(box)
    sub = os.path.join(box.work, "born", "sub")
    # the stranger, while the sandbox runs
    run_with_stranger(box, "mkdir %s && touch %s/done" % (sub, sub))
    # after the run and its exit checks
    p = stranger("sh", "-c", "echo 'echo planted' > %s/run.sh" % sub)
    assert p.returncode != 0, (os.listdir(os.path.join(box.work, "born")), p.stderr)


GUARDS = ATTEMPT + r"""
import ctypes, struct
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.argtypes = None
def sc(*a):
    r = libc.syscall(*[ctypes.c_long(x) if isinstance(x, int) else x for x in a])
    if r < 0:
        raise OSError(ctypes.get_errno(), "syscall")
AT_FDCWD, AT_SYMLINK_NOFOLLOW = -100, 0x100
open("f", "w").close()
os.chmod("f", 0o644)
# the kernel reads the low 12 bits of the mode: high ones change nothing
attempt("chmod-high", lambda: sc(90, b"f", 0o646 | (1 << 32) | (0xffff << 16)))
attempt("fchmodat-high", lambda: sc(268, AT_FDCWD, b"f", 0o646 | (1 << 40)))
attempt("fchmodat2-nofollow", lambda: sc(452, AT_FDCWD, b"f", 0o646, AT_SYMLINK_NOFOLLOW))
attempt("fchmodat2-empty", lambda: sc(452, os.open("f", os.O_RDONLY), b"", 0o002, 0x1000))
# positive control: high bits with a harmless mode are the kernel's to drop
attempt("chmod-high-own", lambda: sc(90, b"f", 0o640 | (1 << 32)))
# setxattrat (463) and file_setattr (469) are newer than the table
val = ctypes.create_string_buffer(b"1")
args = ctypes.create_string_buffer(struct.pack("<QII", ctypes.addressof(val), 1, 0))
attempt("setxattrat", lambda: sc(463, AT_FDCWD, b"f", 0, b"user.rf", args, 16))
fa = ctypes.create_string_buffer(24)
attempt("file_setattr", lambda: sc(469, AT_FDCWD, b"f", fa, 24, 0))
# a hard link to a file the stranger owns (and writes whenever it likes)
attempt("link", lambda: os.link(sys.argv[1], "linked.sh"))
print("mode", oct(os.stat("f").st_mode & 0o7777), flush=True)
"""


def test_guards_mode_bits_newer_calls_and_links(box):
    """Guards (hold on f39d8c9): the refusal reads the bit the kernel
    reads, whatever the mode's high bits or fchmodat2's flags; setxattrat
    and file_setattr are unknown (ENOSYS); a hard link to a file the
    stranger owns is not made (Landlock's refer right: EXDEV)."""
    own_top(box)
    theirs = os.path.join(box.root, "theirs")
    os.mkdir(theirs)
    os.chown(theirs, STRANGER, STRANGER)
    os.chmod(theirs, 0o755)
    sf = os.path.join(theirs, "hook")
    with open(sf, "w") as f:
        f.write("#!/bin/sh\n")
    os.chown(sf, STRANGER, STRANGER)
    os.chmod(sf, 0o666)
    box.write("work/guards.py", GUARDS)
    r = box.run(["/usr/bin/python3", "guards.py", sf],
                policy=box.policy("[filesystem]\nread = %s\n" % theirs))
    out = results(r)
    assert r.returncode == 0, r.stdout + r.stderr
    assert out.get("chmod-high-own") == "ok", r.stdout + r.stderr
    for name in ("chmod-high", "fchmodat-high", "fchmodat2-nofollow", "fchmodat2-empty"):
        assert out.get(name) == "refused 1", (name, r.stdout, r.stderr)
    for name in ("setxattrat", "file_setattr"):
        assert out.get(name) == "refused 38", (name, r.stdout, r.stderr)
    assert out.get("link", "").startswith("refused"), r.stdout + r.stderr
    assert out.get("mode") == "0o640", r.stdout
    assert not os.path.lexists(os.path.join(box.work, "linked.sh"))


def test_guard_a_new_envrc_link_out_of_the_project_is_not_left(box):
    """Guard (holds on f39d8c9): a benign-looking .envrc made a symbolic
    link to a file the stranger makes later (in the host's /tmp) is not
    left in the project: refused, or moved aside (protect.c, gitscan.c).
    Positive control: the same link under an ordinary name is made."""
    uid = own_top(box)
    subprocess.run(["git", "init", "-q", box.work], check=True)
    for dp, dn, fn in os.walk(box.work):
        for n in dn + fn:
            os.lchown(os.path.join(dp, n), uid, uid)
    target = "/tmp/rf-stranger-envrc-%d-%s" % (os.getpid(), os.path.basename(box.root))
    box.write("work/ln.py", ATTEMPT + "attempt('control', lambda: os.symlink(sys.argv[1], 'x'))\n"
              "attempt('envrc', lambda: os.symlink(sys.argv[1], '.envrc'))\n")
    r = box.run(["/usr/bin/python3", "ln.py", target], policy=box.policy(""))
    assert r.returncode == 0 and "control ok" in r.stdout, r.stdout + r.stderr
    assert os.readlink(os.path.join(box.work, "x")) == target
    envrc = os.path.join(box.work, ".envrc")
    assert not os.path.lexists(envrc), (os.readlink(envrc), r.stdout, r.stderr)
