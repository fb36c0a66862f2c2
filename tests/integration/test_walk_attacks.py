"""Another local user (the stranger, uid 4242) against the exit walk's
new work (gitscan.c: open_mode(), open_mode_file(), the move aside of
another user's entries made in what the run made writable by every user).

The walk moves aside another user's entry only when its BIRTH TIME is
after the start, and passes over every symbolic link.  Neither is what the
stranger must use: a rename(2) or a link(2) keeps the inode's birth time,
so a directory or a script the stranger prepared before the run, in its own
home on the same file system, and renamed (or hard-linked) into a directory
the sandbox left writable by every user while the run lasts, is taken for
an old one and left; a symbolic link of the stranger's is left too.  After
the run the stranger still owns it, and changes what it holds (a hook, a
script, an .envrc) whenever it likes.

Holes (each FAILS on c7222a7; the modes named):
  - a directory prepared before the run, renamed in during the run (all);
  - a file prepared before the run, hard-linked in during the run (all);
  - a symbolic link of the stranger's, to a file the stranger writes (all);
  - a new repository's .git/config made 0666 (umask 0): the walk judges a
    git directory's directories, never its files (all);
  - a file the host left 0666 in the project, renamed by the command to a
    script the user runs: rename keeps its birth time (all; low);
  - ordinary use, root modes: a sticky shared directory (1777) a host
    service of root's makes in the grant while the run lasts loses write
    for others at exit, said to be the sandbox's (root-ns, root-nons).
Positive control in each (the walk ran and judged: the stranger's mkdir'd
directory, new file or FIFO moved aside; a 0666 file beside changed).
Guards (hold on c7222a7): a file made 0777 and renamed elsewhere is still
changed; /proc/self/fd/0 on a host's file handed in on stdin is judged as
that file (no namespaces) and never made writable by others (any mode).
"""
import os
import subprocess
import time

import pytest

from conftest import ATTEMPT, STRANGER, own_top, run_with_stranger, stranger, stranger_home











def test_a_directory_prepared_before_the_run_and_renamed_in_is_moved_aside(box):
    """Hole: rename(2) keeps the birth time.  The stranger prepares, before
    the run, a directory in its home; while the run lasts it renames it
    into the directory the sandbox made 0777.  The walk at exit takes it
    for one older than the run and leaves it: the stranger keeps a
    directory of its own in the project, where it adds a script or a .git
    with a hook later.  Positive control: its mkdir'd `made` is moved."""
    own_top(box)
    home = stranger_home(box)
    prepared = os.path.join(home, "prepared")
    assert stranger("mkdir", prepared).returncode == 0
    born = os.path.join(box.work, "born")
    out, err = run_with_stranger(
        box, "mkdir %s/made && mv %s %s/tools" % (born, prepared, born))
    names = sorted(os.listdir(born))
    # positive control: the walk judged what the stranger made there
    assert not os.path.lexists(os.path.join(born, "made")), (names, err)
    assert os.path.lexists(os.path.join(born, "made.ringfence-blocked")), (names, err)
    # the hole: the renamed-in directory is still the stranger's, at its name
    tools = os.path.join(born, "tools")
    p = stranger("sh", "-c", "echo 'echo planted' > %s/build.sh" % tools)
    assert not os.path.isdir(tools) or p.returncode != 0, (names, err)


def test_a_file_prepared_before_the_run_and_linked_in_is_moved_aside(box):
    """Hole: link(2) makes no new inode: its birth time is the stranger's
    file's, older than the run.  The stranger hard-links a script it keeps
    writing into the directory the sandbox made 0777; at exit it is left,
    the stranger's to change.  Positive control: a file the stranger
    creates there in the same run is moved aside."""
    own_top(box)
    home = stranger_home(box)
    payload = os.path.join(home, "payload")
    assert stranger("sh", "-c", "echo 'echo hi' > %s" % payload).returncode == 0
    born = os.path.join(box.work, "born")
    out, err = run_with_stranger(
        box, "echo x > %s/fresh.sh && ln %s %s/build.sh" % (born, payload, born))
    names = sorted(os.listdir(born))
    assert os.path.lexists(os.path.join(born, "fresh.sh.ringfence-blocked")), (names, err)
    # the hole: born/build.sh is the stranger's file, written through its home
    assert not os.path.lexists(os.path.join(born, "build.sh")), (names, err)


def test_a_symbolic_link_of_the_strangers_is_moved_aside(box):
    """Hole: open_mode_file() passes over every symbolic link before it
    asks whose it is.  The stranger makes, in the directory the sandbox
    made 0777, `Makefile` -> a file in its home it writes whenever it
    likes; make, direnv, a shell follow it.  Positive control: a FIFO the
    stranger makes there in the same run is moved aside."""
    own_top(box)
    home = stranger_home(box)
    target = os.path.join(home, "Makefile")
    assert stranger("sh", "-c", "printf 'all:\\n\\ttrue\\n' > %s" % target).returncode == 0
    born = os.path.join(box.work, "born")
    out, err = run_with_stranger(
        box, "mkfifo -m 0644 %s/fifo && ln -s %s %s/Makefile" % (born, target, born))
    names = sorted(os.listdir(born))
    assert os.path.lexists(os.path.join(born, "fifo.ringfence-blocked")), (names, err)
    assert not os.path.lexists(os.path.join(born, "Makefile")), (names, err)


EMPTIED = r"""
import os
os.umask(0)
os.mkdir("d", 0o755)
fd = os.open("d/run.sh", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o777)
os.write(fd, b"#!/bin/sh\n")
os.close(fd)
# the file moved to the project's top, its first directory emptied again
os.rename("d/run.sh", "run.sh")
os.rmdir("d")
fd = os.open("keep.sh", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.close(fd)
print("made", flush=True)
"""


def test_guard_a_file_born_writable_and_moved_is_still_changed(box):
    """Guard (holds on c7222a7): a file the command made 0777 and renamed
    elsewhere changed the directory it lands in: the walk at exit finds it
    and removes write for others.  Positive control: keep.sh, made 0644,
    is left 0644 (the walk changes only what it should)."""
    own_top(box)
    box.write("work/emptied.py", EMPTIED)
    r = box.run(["/usr/bin/python3", "emptied.py"], policy=box.policy(""))
    assert r.returncode == 0 and "made" in r.stdout, r.stdout + r.stderr
    assert os.stat(os.path.join(box.work, "keep.sh")).st_mode & 0o777 == 0o644
    mode = os.stat(os.path.join(box.work, "run.sh")).st_mode & 0o777
    assert mode == 0o775, oct(mode)


NEW_REPO = r"""
import os
os.umask(0)
# a new repository, as `git init` makes it under umask 0 (a tool's, an
# archive unpacked with its modes): config 0666
for d in ("sub/.git/objects", "sub/.git/refs/heads", "sub/.git/info"):
    os.makedirs(d, 0o777, exist_ok=True)
def make(name, text, mode):
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    os.write(fd, text)
    os.close(fd)
make("sub/.git/HEAD", b"ref: refs/heads/main\n", 0o666)
make("sub/.git/config", b"[core]\n\trepositoryformatversion = 0\n\tbare = false\n", 0o666)
make("sub/notes.txt", b"x\n", 0o666)
print("made", flush=True)
"""


def test_a_new_repositorys_config_made_writable_for_others_is_changed(box):
    """Hole: the walk removes write for others from the files the run made
    so, but never looks at the files of a git directory (check_gitdir()
    judges its directories only).  A repository the command makes under
    umask 0 keeps .git/config 0666: the stranger adds core.fsmonitor (or
    core.hooksPath), which the host's `git status` there runs as the
    user.  Positive control: sub/notes.txt, made 0666 in the same run, is
    changed, and sub/.git itself loses write for others."""
    own_top(box)
    box.write("work/repo.py", NEW_REPO)
    r = box.run(["/usr/bin/python3", "repo.py"], policy=box.policy(""))
    assert r.returncode == 0 and "made" in r.stdout, r.stdout + r.stderr
    sub = os.path.join(box.work, "sub")
    if not os.path.isdir(os.path.join(sub, ".git")):
        return  # moved aside whole: nothing of it left for the host's git
    assert os.stat(os.path.join(sub, "notes.txt")).st_mode & 0o777 == 0o664, r.stderr
    assert os.stat(os.path.join(sub, ".git")).st_mode & 0o002 == 0, r.stderr
    # the host's git takes sub for a repository ...
    g = subprocess.run(["git", "-c", "safe.directory=*", "-C", sub, "rev-parse", "--git-dir"],
                       capture_output=True, text=True)
    assert g.returncode == 0, g.stderr
    # ... whose config the stranger must not write
    p = stranger("sh", "-c", "printf '\\tfsmonitor = /tmp/x\\n' >> %s/.git/config" % sub)
    mode = os.stat(os.path.join(sub, ".git", "config")).st_mode & 0o777
    assert p.returncode != 0, (oct(mode), r.stderr)


PROC_FD = ATTEMPT + r"""
mine = os.open("mine", os.O_RDONLY | os.O_CREAT, 0o644)
# positive control: the spelling glibc's lchmod uses, for the command's own
attempt("own", lambda: os.chmod("/proc/self/fd/%d" % mine, 0o600))
# the host's file the command got on its stdin: write for others, and
# (without namespaces, the file gate's) any change
attempt("ww-self-0", lambda: os.chmod("/proc/self/fd/0", 0o646))
attempt("ww-fchmod-0", lambda: os.fchmod(0, 0o646))
attempt("self-0", lambda: os.chmod("/proc/self/fd/0", 0o600))
attempt("thread-self-0", lambda: os.chmod("/proc/thread-self/fd/0", 0o600))
attempt("fchmod-0", lambda: os.fchmod(0, 0o600))
print("mode", oct(os.stat("mine").st_mode & 0o777), flush=True)
"""


def test_guard_proc_self_fd_of_a_host_file_on_stdin(box, outside):
    """Guard (holds on c7222a7): /proc/self/fd/N names the caller's fd N
    (attrgate.c, without namespaces); a host's file outside the grants
    handed in on stdin is judged as itself: its mode stays.  With
    namespaces fds 0-2 are the host's objects on the host's mounts, whose
    mode the command may change as their owner (SECURITY.md's known
    limit): there only write for others is asked to be refused.  Positive
    control: the same spelling on the command's own file changes it."""
    own_top(box)
    host = os.path.join(outside, "hostfile")
    with open(host, "w") as f:
        f.write("the host's\n")
    os.chmod(host, 0o644)
    box.write("work/procfd.py", PROC_FD)
    with open(host) as stdin:
        argv = [box.ringfence, "-p", box.policy(""), "--", "/usr/bin/python3", "procfd.py"]
        r = subprocess.run(box.cmd(argv), cwd=box.work, env=box.env(), stdin=stdin,
                           capture_output=True, text=True, timeout=60)
    out = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
    assert out.get("own") == "ok" and out.get("mode") == "0o600", r.stdout + r.stderr
    names = ["ww-self-0", "ww-fchmod-0"]
    if box.namespaces == "off":
        names += ["self-0", "thread-self-0", "fchmod-0"]
    for name in names:
        assert out.get(name, "").startswith("refused"), (name, r.stdout, r.stderr)
    st = os.stat(host)
    assert st.st_mode & 0o002 == 0 and st.st_uid == 0, oct(st.st_mode)
    if box.namespaces == "off":
        assert st.st_mode & 0o777 == 0o644, oct(st.st_mode)


def test_the_hosts_own_shared_directory_made_during_the_run_is_left_as_made(box):
    """Hole in ordinary use, root modes (the command runs as root): the walk
    takes every directory of the command's uid made during the run for the
    sandbox's.  Run as root in a directory the host shares (a spool, a
    scratch area), a host service of root's that makes its shared sticky
    directory (1777, /tmp's kind) there while the run lasts finds it 1775
    after: the exit walk, as root, took write for others from what the
    sandbox never touched, and says the sandbox made it.  Positive
    control: the command's own run is untouched (exit 0), and the host's
    directory is there."""
    if box.user != "root":
        pytest.skip("the command's uid is nobody's: a root directory of the host's is not judged")
    own_top(box)
    p = box.popen(["/bin/sleep", "2"], policy=box.policy(""),
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        spool = os.path.join(box.work, "spool")
        os.mkdir(spool)
        os.chmod(spool, 0o1777)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, out + err
    mode = os.stat(spool).st_mode & 0o7777
    assert mode == 0o1777, (oct(mode), err)


RENAME_OLD = r"""
import os
# a file writable by every user that the host left in the project (a log,
# a lock) made the script the user runs
os.rename("logs/debug.log", "build.sh")
fd = os.open("fresh.sh", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.close(fd)
os.umask(0)
fd = os.open("fresh0.sh", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
os.close(fd)
print("made", flush=True)
"""


def test_an_old_file_writable_by_others_renamed_to_a_script_is_changed(box):
    """Hole (low: the host left the file so): the walk changes a file
    writable by every user only when its birth time is after the start;
    rename(2) keeps it.  The command renames a log the host left 0666 in
    the project to build.sh, which the stranger could only fill before,
    and the user runs after.  Positive control: fresh0.sh, made 0666 in
    the same directory, is changed."""
    uid = own_top(box)
    os.mkdir(os.path.join(box.work, "logs"))
    os.chown(os.path.join(box.work, "logs"), uid, uid)
    box.write("work/logs/debug.log", "", mode=0o666, owner=uid)
    # older than the start's clock tick (CLOCK_REALTIME_COARSE): the host's
    # log is days old; one made in that very tick counts as the run's
    time.sleep(0.05)
    box.write("work/rename.py", RENAME_OLD)
    r = box.run(["/usr/bin/python3", "rename.py"], policy=box.policy(""))
    assert r.returncode == 0 and "made" in r.stdout, r.stdout + r.stderr
    assert os.stat(os.path.join(box.work, "fresh0.sh")).st_mode & 0o777 == 0o664, r.stderr
    mode = os.stat(os.path.join(box.work, "build.sh")).st_mode & 0o777
    assert mode & 0o002 == 0, (oct(mode), r.stderr)
