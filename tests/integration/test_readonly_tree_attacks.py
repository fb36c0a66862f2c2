"""Attacks on the read-only tree (with namespaces every mount but the write
grants is read-only, sandbox/mounts_grants.c mount_rest_readonly()).  The claim:
the command cannot change the mode, owner, times or extended attributes of
any file outside its write grants.  Each test here gives the command a way
around the read-only mounts and checks the host's file afterwards; each
has a positive control (the same call succeeds in the write grant, or the
command demonstrably ran and used what it was given).

An escape (fails on the binary before 113348a): a program written under
`write = /` ran through ld.so.  What the first version of the read-only
tree broke (each passes on the binary before 113348a): a project split
around an absent protect path (renames between its directories, and its
start with many entries), and `write = /`.  The files and terminal handed
over on fds 0-2 (host objects on host mounts) and EXDEV between two write
grants are limits in SECURITY.md; a directory on fds 0-2 refuses the
start (test_readonly_tree.py)."""
import os
import subprocess


from conftest import ATTEMPT, owner_of

RENAME = ATTEMPT + r"""
a, b = sys.argv[1:3]
attempt("make", lambda: open(os.path.join(a, "x"), "w").write("x"))
attempt("rename", lambda: os.rename(os.path.join(a, "x"), os.path.join(b, "x")))
attempt("link", lambda: os.link(os.path.join(b, "x"), os.path.join(a, "y")))
"""


def two_dirs(box, outside):
    owner = owner_of(box)
    os.chown(outside, owner, owner)
    dirs = []
    for name in ("a", "b"):
        d = os.path.join(outside, name)
        os.mkdir(d)
        os.chown(d, owner, owner)
        dirs.append(d)
    return dirs


def test_rename_between_directories_of_a_project_with_an_absent_protect_path(nsbox, outside):
    """`protect = ${CWD}/absent` (a path that may not be created) in an
    exec-and-write project outside /tmp, as the agents' policies grant it:
    the grant is split around the carve-out (the project's own rule keeps
    read rights only, each entry of it gets the write grant), so each entry
    is now an outermost write grant cloned on its own, and a rename or
    hard link from one directory of the project to another fails with
    EXDEV, which it did not before."""
    box = nsbox
    a, b = two_dirs(box, outside)
    pol = box.policy("[filesystem]\nwrite = ${CWD}\nexec = ${CWD}\n"
                     "protect = ${CWD}/absent.cfg\n")
    r = box.run(["/usr/bin/python3", "-c", RENAME, "a", "b"], policy=pol, cwd=outside)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "make ok" in r.stdout, out  # positive control: the project is written
    assert "rename ok" in r.stdout and "link ok" in r.stdout, out
    assert os.path.exists(os.path.join(b, "x")) and os.path.exists(os.path.join(a, "y"))
    assert not os.path.exists(os.path.join(outside, "absent.cfg"))


def test_a_project_with_many_entries_split_around_an_absent_protect_path_starts(nsbox, outside):
    """The same split (an exec-and-write project, as the agents' policies
    grant it) with 1,100 entries at its top (a monorepo, a home directory)
    under the usual soft RLIMIT_NOFILE of 1,024: the read-only step holds
    one open_tree fd per outermost write grant at once, runs out of
    descriptors and refuses to start (exit 125, "Too many open files"); the
    binary before 113348a started.  (A write grant that is not an exec
    grant fails the same way, though the noexec step before, which closes
    each clone as it goes, got through; its 1,100 noexec mounts took
    tens of seconds to set up and tear down here: too slow for this suite.)"""
    import resource
    box = nsbox
    owner = owner_of(box)
    os.chown(outside, owner, owner)
    for i in range(1100):
        p = os.path.join(outside, "f%04d" % i)
        open(p, "w").close()
        os.chown(p, owner, owner)
    pol = box.policy("[filesystem]\nexec = ${CWD}\nprotect = ${CWD}/absent.cfg\n")

    def usual_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

    r = subprocess.run(box.cmd([box.ringfence, "-p", pol, "--", "sh", "-c",
                                "echo hi >> f0001 && echo ran"]),
                       cwd=outside, env=box.env(), capture_output=True, text=True,
                       timeout=60, preexec_fn=usual_limit)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ran" in r.stdout, r.stdout + r.stderr
    with open(os.path.join(outside, "f0001")) as f:
        assert f.read() == "hi\n"


def host_read_only_but(keep):
    """A preexec_fn: the child in a mount namespace of its own where
    everything but the paths KEEP is read-only, as ringfence itself does it
    (the clones of KEEP taken first, put back after).  With a write grant
    on /, the supervisor's walk for repositories at exit (gitscan.c) covers
    the whole machine and moves aside hooks and configs changed during the
    run, whoever changed them: here it can touch only KEEP."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)

    def check(r):
        if r < 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        return r

    def isolate():
        check(libc.unshare(0x00020000))  # CLONE_NEWNS
        check(libc.mount(None, b"/", None, 0x4000 | 0x40000, None))  # MS_REC | MS_PRIVATE
        # open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)
        fds = [check(libc.syscall(428, -100, k.encode(), 1 | 0o2000000 | 0x8000)) for k in keep]
        attr = (ctypes.c_uint64 * 4)(1, 0, 0, 0)  # struct mount_attr: attr_set = RDONLY
        check(libc.syscall(442, -100, b"/", 0x8000, attr, 32))  # mount_setattr, AT_RECURSIVE
        for fd, k in zip(fds, keep):
            check(libc.syscall(429, fd, b"", -100, k.encode(), 4))  # move_mount F_EMPTY_PATH
            os.close(fd)
    return isolate


def run_with_root_granted(box, outside, script):
    """SCRIPT under `write = /`, where only the box, OUTSIDE and the state
    directory (and /proc, for the id maps) are writable on the host
    (host_read_only_but)."""
    os.chown(outside, owner_of(box), owner_of(box))
    os.makedirs(box.root_state, exist_ok=True)
    pol = box.policy("[filesystem]\nwrite = /\n")
    return subprocess.run(
        box.cmd([box.ringfence, "-p", pol, "--", "sh", "-c", script]),
        cwd=box.work, env=box.env(), capture_output=True, text=True, timeout=120,
        preexec_fn=host_read_only_but([box.root, outside, box.root_state, "/proc"]))


def test_a_write_grant_on_the_root_stays_writable(nsbox, outside):
    """`write = /` (a disposable container, or the default policy's
    ${CWD} when the command starts in / as a container's ENTRYPOINT with no
    WORKDIR does): the clone of / is moved onto /, where no path lookup
    sees it (a process's root stays the mount beneath; only a new chroot
    would enter the one on top), so the whole tree, the working directory
    and the private /tmp included, is read-only.  The binary before
    113348a wrote there."""
    box = nsbox
    r = run_with_root_granted(
        box, outside, "echo ran; echo x > %s/made && echo outside-ok; "
        "echo y > made && echo cwd-ok; echo z > /tmp/t && echo tmp-ok" % outside)
    out = r.stdout + r.stderr
    assert "ran" in r.stdout, out  # positive control: the command ran
    for line in ("outside-ok", "cwd-ok", "tmp-ok"):
        assert line in r.stdout, (line, out)
    assert os.path.exists(os.path.join(outside, "made"))
    assert os.path.exists(box.path("work", "made"))


def test_a_file_written_under_a_write_grant_on_the_root_does_not_run(nsbox, outside):
    """The same unseen clone, before 113348a, for noexec: / was cloned,
    made noexec and moved onto /, where nothing sees it, so a program
    written under `write = /` (not an exec grant) ran through ld.so.  Now
    nothing can be written there at all (the control fails); fixing that
    alone would bring this back."""
    import re
    box = nsbox
    with open("/bin/echo", "rb") as f:  # its dynamic loader (PT_INTERP)
        ldso = re.search(rb"/[^\0]*/ld-linux[^\0]*", f.read()).group().decode()
    r = run_with_root_granted(box, outside, "cp /bin/echo %s/e && echo copied; %s %s/e via-ld.so"
                              % (outside, ldso, outside))
    out = r.stdout + r.stderr
    assert "copied" in r.stdout, out  # positive control: the grant is written
    assert "via-ld.so" not in r.stdout, out
