# SPDX-License-Identifier: MIT
"""Attacks on the file gate (fsgate.c), without namespaces."""
import os
import subprocess

import pytest

from conftest import NOBODY
from test_protect import GIT_ENV, host, make_repo, planted


def nons_only(box):
    if box.namespaces != "off":
        pytest.skip("the gate works without namespaces")


PY_LINK = r'''
import os
os.symlink(".git/config", "s")
try:
    os.link("s", "cfg", follow_symlinks=True)
    print("linked")
except OSError as e:
    print("link refused", e)
try:
    with open("cfg", "a") as f:
        f.write("[core]\n\tfsmonitor = %s\n")
    print("written")
except OSError as e:
    print("write refused", e)
open("control", "w").close()
print("done")
'''


def test_link_following_a_symlink_reaches_no_protected_file(box):
    """link(AT_SYMLINK_FOLLOW) of a symlink at the top that points at
    .git/config: the supervisor must not follow it and link the config's
    inode under a name the gate then opens for writing."""
    nons_only(box)
    make_repo(box)
    script, mark = planted(box)
    r = box.run(["python3", "-c", PY_LINK % script], policy=box.policy(""), env=GIT_ENV)
    assert "done" in r.stdout, r.stdout + r.stderr
    assert os.path.exists(box.path("work", "control"))  # positive control
    with open(box.path("work", ".git", "config")) as f:
        assert "fsmonitor" not in f.read(), r.stdout
    host(box, ["git", "status", "--short"])
    assert not os.path.exists(mark)


def test_a_fifo_at_the_top_does_not_hang_the_supervisor(box):
    """mkfifo at the top (made by the gate), then open it for writing with
    no reader: the supervisor opens it itself and must not block in open
    (a blocked supervisor answers no other call and never ends the run)."""
    nons_only(box)
    make_repo(box)
    sh = ("mkfifo pipe && (echo x > pipe &) ; sleep 1; echo hi > other.txt; "
          "echo done")
    try:
        r = box.run(["sh", "-c", sh], policy=box.policy(""), env=GIT_ENV, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("the supervisor hung in open() of a FIFO")
    assert "done" in r.stdout, r.stderr
    assert os.path.exists(box.path("work", "other.txt"))


def test_many_directories_at_the_top_do_not_exhaust_the_supervisor(box):
    """Each directory the gate makes is held open (an O_PATH fd) up to
    GATE_MADE_MAX (65536), far above the usual RLIMIT_NOFILE (1024): a loop
    of mkdir at the top leaves the supervisor without fds, and every later
    gate call (and anything else it opens) fails with EMFILE."""
    nons_only(box)
    make_repo(box)
    # one mkdir(1) for all (it goes on past each refusal): the gate holds
    # what each mkdir(2) made, whichever process made it; a process each
    # was ~1 s of CPU a run
    sh = ("ulimit -n 1024; mkdir $(seq -f d%.0f 0 1099) 2>/dev/null; "
          "echo x > after.txt && echo after-ok")
    r = subprocess.run(["sh", "-c", "ulimit -n 1024 && exec \"$@\"", "sh"] +
                       box.cmd([box.ringfence, "-p", box.policy(""), "--", "sh", "-c", sh]),
                       cwd=box.work, env=box.env(GIT_ENV), capture_output=True, text=True,
                       timeout=120)
    assert os.path.isdir(box.path("work", "d5"))  # positive control: the gate made them
    assert "after-ok" in r.stdout, r.stderr[-500:]
    # the cap was what stopped it, and said so once
    assert r.stderr.count("the file gate made") == 1, r.stderr[-500:]


PY_LEASE = r'''
import os, subprocess, sys, time
# a write open breaks the host's lease on "leased": it waits for the holder
# (up to the lease-break time) but only its caller may wait, not the
# supervisor
w = subprocess.Popen([sys.executable, "-c",
                      "import os; os.mkdir('started'); open('leased', 'w')"],
                     stderr=subprocess.DEVNULL)
while not os.path.isdir("started"):
    time.sleep(0.01)
time.sleep(0.3)  # its open is under way
s = time.time()
with open("other.txt", "w") as f:
    f.write("x")
print("other took %.1f" % (time.time() - s))
w.kill()
'''

# The lease, held by a host process of the file's owner (or root): the
# command may take none (seccomp refuses F_SETLEASE: they stall the host's
# opens), but the host's tools may hold one on a file in the project.
HOST_LEASE = r'''
import fcntl, os, signal, sys, time
signal.signal(signal.SIGIO, signal.SIG_IGN)
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
print("leased", flush=True)
time.sleep(120)
'''


def test_a_leased_file_does_not_stall_the_supervisor(box):
    """A file a host process holds a lease on, opened for writing by one of
    the command's processes: the supervisor must not wait out the lease
    break while every other call waits for it."""
    nons_only(box)
    make_repo(box)
    box.write("work/lease.py", PY_LEASE)
    leased = box.write("work/leased", "")
    if box.user == "nobody":
        os.chown(leased, NOBODY, NOBODY)
    holder = subprocess.Popen(["/usr/bin/python3", "-c", HOST_LEASE, leased],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "leased"  # the control: a lease held
        r = box.run(["/usr/bin/python3", "lease.py"], policy=box.policy(""), timeout=120)
    finally:
        holder.kill()
        holder.wait()
    assert "other took" in r.stdout, r.stderr
    assert float(r.stdout.split()[-1]) < 5, r.stdout


def test_the_gate_holds_no_capability_the_command_dropped(box):
    """As root with run_as = root the command has no capabilities: the gate,
    acting for it in the supervisor, must not write a 0444 file or another
    user's 0644 file with CAP_DAC_OVERRIDE (outside review)."""
    nons_only(box)
    if box.user != "root":
        pytest.skip("the command runs as another user: the id switch drops them")
    make_repo(box)
    ro = box.write("work/ro.txt", "ro\n", mode=0o444)
    other = box.write("work/other.txt", "other\n", mode=0o644)
    os.chown(other, 65534, 65534)
    mine = box.write("work/mine.txt", "mine\n", mode=0o644)
    r = box.run(["sh", "-c", "grep CapEff /proc/self/status; echo x >> %s && echo mine-ok; "
                 "echo x >> %s || echo ro-refused; echo x >> %s || echo other-refused"
                 % (mine, ro, other)], policy=box.policy(""))
    assert "CapEff:\t0000000000000000" in r.stdout, r.stdout
    assert "mine-ok" in r.stdout, r.stdout + r.stderr  # the control: the gate writes
    assert "ro-refused" in r.stdout and "other-refused" in r.stdout, r.stdout
    assert open(ro).read() == "ro\n" and open(other).read() == "other\n"


EVIL_BRANCH = r"""
set -e
export GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@a GIT_COMMITTER_NAME=a GIT_COMMITTER_EMAIL=a@a
B=refs/heads/a/b/c/d/e/f/evil
blob=$(printf 'echo RAN\n' | git hash-object -w --stdin)
tree=$(printf '100644 blob %s\t.envrc\n' $blob | git mktree)
git update-ref $B $(git commit-tree -p HEAD -m innocent $tree)
echo branched
/usr/bin/python3 -c '
import os
os.mkdir("fill")
for n in range(4000):
    try:
        os.mkdir("fill/d%05d" % n)
    except OSError as e:
        break
print("made", n)
'
"""


def test_directories_made_through_the_gate_leave_the_exit_checks_their_descriptors(box):
    """The gate holds a descriptor for each directory it makes at the
    project's top, up to the limit less 512, which did not count the
    descriptors the repositories found at the start hold (an outside
    review): with some 200 repositories in the grant, a mkdir loop left the
    supervisor none, and the check of refs at exit skipped the branch
    a/b/c/d/e/f/evil, made by the sandbox with a .envrc, without a word.
    The gate's directories are now given back before the checks, and a
    directory of the .git they cannot open is said.  The control: the
    branch and the directories were made (the supervisor held ~1,200
    descriptors then, its limit here)."""
    nons_only(box)
    make_repo(box)
    r = host(box, ["sh", "-c", "for i in $(seq -w 1 200); do git init -q --template= r$i; done"])
    assert r.returncode == 0, r.stderr
    box.write("work/evil.sh", EVIL_BRANCH)
    pol = box.policy("")
    r = subprocess.run(["prlimit", "--nofile=1200:1200", "--"] +
                       box.cmd([box.ringfence, "-p", pol, "--", "sh", "evil.sh"]),
                       cwd=box.work, env=box.env(), capture_output=True, text=True,
                       timeout=400)  # (a sanitized build's walks: a minute alone, more in CI)
    assert "branched" in r.stdout and "made " in r.stdout, r.stdout + r.stderr
    c = host(box, ["git", "cat-file", "-e", "refs/heads/a/b/c/d/e/f/evil:.envrc"])
    assert c.returncode != 0, "the sandbox's branch with its .envrc was left:\n" + r.stderr[-2000:]
