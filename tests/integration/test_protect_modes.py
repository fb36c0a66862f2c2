# SPDX-License-Identifier: MIT
"""Directories the sandbox makes writable by every user in a write grant.

seccomp refuses a chmod that gives others write, but not a creation mode:
after umask(0), mkdir makes a directory 0777.  Another local user (the
stranger) could then, after the run, make there a .git with a hook, an
.envrc, a .vscode/tasks.json, which the host's tools run as the user.  The
walk of the write grants (gitscan.c: at exit, and while the sandbox runs)
removes write for others from every directory made during the run; one the
host made before keeps its mode.  The stranger's attempts are the proof."""
import os
import shutil
import stat
import subprocess
import time

import pytest

from conftest import NOBODY, audit_events

# the stranger: another local user than the command's
STRANGER_SCRIPT = r"""
import os, sys
for p in sys.argv[1:]:
    try:
        if p.endswith("/"):
            os.mkdir(p[:-1])
        else:
            open(p, "w").close()
        print(p, "ok", flush=True)
    except OSError as e:
        print(p, "refused", e.errno, flush=True)
"""


def stranger_uid(box):
    """Another user than the one the box's command runs as."""
    return NOBODY - 1 if box.user == "nobody" else NOBODY


def as_stranger(box, *paths):
    """{path: "ok" | "refused"} for each file (or, ending in '/', directory)
    the stranger tried to make."""
    u = stranger_uid(box)
    r = subprocess.run(["setpriv", "--reuid=%d" % u, "--regid=%d" % u, "--clear-groups",
                        "/usr/bin/python3", "-c", STRANGER_SCRIPT] + list(paths),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    res = dict(line.rsplit(" ", 2)[:2] for line in r.stdout.splitlines())
    assert set(res) == set(paths), r.stdout
    return res


def logged_policy(box):
    logs = box.path("logs")
    os.mkdir(logs)
    if box.user == "nobody":
        os.chown(logs, NOBODY, NOBODY)
    return box.policy("""
        [log]
        file = %s/audit.jsonl
        """ % logs), os.path.join(logs, "audit.jsonl")


def host_world_writable(box, rel):
    """A directory writable by every user the host made before the run (a
    positive control: it must keep its mode, and the stranger write there)."""
    d = box.path("work", rel)
    os.mkdir(d)
    os.chmod(d, 0o777)
    return d


@pytest.mark.parametrize("stamp", ["multigrain", "coarse"])
def test_a_directory_the_host_made_just_before_the_start_keeps_its_mode(box, stamp):
    """A container's entrypoint makes a cache writable by every user and
    starts ringfence at once (run_as another user): made in the start's own
    tick of the coarse clock file times are read from, it was taken for the
    run's and lost write for others at the first walk (50 ms in), and the
    command could no longer write there.  Each of several runs, each with a
    directory made right before it; with the start's multigrain stamp and
    with the way a kernel without them takes (the fine clock, the command
    held until the coarse one has passed it).  Positive control: the
    command's own directory made writable by every user, at once, in the
    same run, loses write for others."""
    pol = box.policy("")
    env = {"RINGFENCE_TEST_COARSE_START": "1"} if stamp == "coarse" else None
    for i in range(5):
        d = host_world_writable(box, "cache%d" % i)
        r = box.run(["sh", "-c", "umask 0; mkdir mine%d; sleep 0.15; "
                     "echo x > cache%d/f && echo wrote" % (i, i)], policy=pol,
                    env=box.env(env))
        assert r.returncode == 0 and "wrote" in r.stdout, (i, r.stdout, r.stderr)
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o777, (i, r.stderr)
        assert stat.S_IMODE(os.stat(box.path("work", "mine%d" % i)).st_mode) == 0o775, \
            (i, r.stderr)
        # (its file cache%d/f, the command's, made 0666 under umask 0, is
        # the run's: said and changed)
        assert "(the first: %s/cache%d)" % (box.work, i) not in r.stderr, r.stderr


def test_world_writable_directories_made_in_the_run_lose_write_for_others(box):
    """Fails on the binary before the walk removed it: the stranger made
    sub/.git, sub/deep/x and sub2/.vscode there after the run."""
    pol, log = logged_policy(box)
    hostdir = host_world_writable(box, "shared")
    # (umask 0 alone: `mkdir -m 777` checks the mode it made and chmods it
    # again, which seccomp refuses when the walk 50 ms after the start has
    # taken write for others first)
    r = box.run(["sh", "-c", "umask 0 && mkdir -p sub/deep && mkdir sub2 && "
                 "stat -c %a sub sub/deep sub2"], policy=pol)
    assert r.returncode == 0, r.stderr
    # the sandbox did make them writable by every user (else this proves
    # nothing): as it saw them, unless the walk 50 ms after the start came
    # first on a loaded machine; the protect.mode events below count all
    # three either way
    assert all(m in ("777", "775") for m in r.stdout.split()), r.stdout
    assert len(r.stdout.split()) == 3, r.stdout
    w = box.work
    got = as_stranger(box, w + "/sub/.git/", w + "/sub/deep/x", w + "/sub2/.vscode/",
                      w + "/sub/.envrc", hostdir + "/x")
    assert got[w + "/sub/.git/"] == "refused", got
    assert got[w + "/sub/deep/x"] == "refused", got
    assert got[w + "/sub2/.vscode/"] == "refused", got
    assert got[w + "/sub/.envrc"] == "refused", got
    # the host's own directory: untouched, and the stranger may write there
    assert got[hostdir + "/x"] == "ok", got
    assert stat.S_IMODE(os.stat(hostdir).st_mode) == 0o777
    # every other bit kept
    for rel in ("sub", "sub/deep", "sub2"):
        assert stat.S_IMODE(os.stat(box.path("work", rel)).st_mode) == 0o775, rel
    assert "made writable by every user in %s" % w in r.stderr, r.stderr
    assert "write for others removed" in r.stderr, r.stderr
    ev = [e for e in audit_events(log) if e["event"] == "protect.mode"]
    assert ev and sum(e["dirs"] for e in ev) == 3, ev
    assert all(e["path"] == w and e["unchanged"] == 0 and e["foreign"] == 0 for e in ev), ev


def test_the_walk_while_the_sandbox_runs_removes_it_at_once(box):
    """The stranger may act during the run as well: the walk while the
    sandbox runs (every PW_FIND_AGAIN_MS) removes write for others then, as
    the command itself sees.  Fails on the binary before the walk did."""
    script = ("umask 0 && mkdir -p live/deep && i=0; "
              "while [ $i -lt 100 ] && [ $(stat -c %a live/deep) = 777 ]; do "
              "sleep 0.1; i=$((i+1)); done; stat -c %a live live/deep")
    r = box.run(["sh", "-c", script], policy=box.policy(""))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["775", "775"], (r.stdout, r.stderr)
    assert "write for others removed" in r.stderr, r.stderr


def test_what_the_stranger_made_during_the_run_is_moved_aside(box):
    """While the sandbox still runs, the stranger makes a directory (0777)
    and another (0755) in one the sandbox made writable by every user, and
    one (0777) in a directory of the host's.  Theirs in the sandbox's are
    said (with their uid); the 0777 one changed as root (fchmod may change
    another's), said as unchangeable otherwise; the run does not fail.
    Theirs in the host's directory is their own business: left, unsaid.
    Fails on the binary before (nothing said, the directories left 0777)."""
    pol, log = logged_policy(box)
    hostdir = host_world_writable(box, "shared")
    u = stranger_uid(box)
    flag = box.path("work", "go")
    # made past the first walk while the sandbox runs (PW_FIND_AFTER_MS),
    # the next one ~2 s later: the stranger comes in between
    p = box.popen(["sh", "-c", "sleep 0.7 && umask 0 && mkdir drop && touch made && "
                   "while [ ! -e go ]; do sleep 0.05; done"],
                  policy=pol, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    drop = box.path("work", "drop")
    try:
        for _ in range(400):
            if os.path.exists(box.path("work", "made")):
                break
            time.sleep(0.01)
        r = subprocess.run(["setpriv", "--reuid=%d" % u, "--regid=%d" % u, "--clear-groups",
                            "sh", "-c", "umask 0 && mkdir %s/theirs && mkdir -m 755 %s/plain"
                            % (drop, drop)], capture_output=True, text=True)
        made = r.returncode == 0
        r = subprocess.run(["setpriv", "--reuid=%d" % u, "--regid=%d" % u, "--clear-groups",
                            "sh", "-c", "umask 0 && mkdir %s/theirs" % hostdir],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        open(flag, "w").close()
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    # the host's directory, and the stranger's in it: untouched, unsaid
    assert stat.S_IMODE(os.stat(hostdir).st_mode) == 0o777
    assert stat.S_IMODE(os.stat(hostdir + "/theirs").st_mode) == 0o777
    assert hostdir + "/theirs" not in err, err
    # a walk while the sandbox runs may (rarely) have closed drop before the
    # stranger came: then there is nothing of theirs to say
    if not made:
        assert "write for others removed" in err, err
        return
    theirs = os.path.join(drop, "theirs")
    # theirs, made in what the sandbox left open to them: moved aside (the
    # name the host's tools would look for is no longer theirs)
    blocked = theirs + ".ringfence-blocked"
    assert not os.path.exists(theirs) and os.stat(blocked).st_uid == u, os.listdir(drop)
    assert not os.path.exists(os.path.join(drop, "plain")), os.listdir(drop)
    assert "2 entries made by another user (uid %d) during the run in" % u in err, err
    ev = [e for e in audit_events(log) if e["event"] == "protect.mode" and e["foreign"]]
    assert len(ev) == 1 and ev[0]["foreign_uid"] == u and ev[0]["foreign"] == 2, ev
    if box.user == "root":
        assert stat.S_IMODE(os.stat(blocked).st_mode) == 0o775
    else:
        # an unprivileged supervisor may not change another's directory
        assert stat.S_IMODE(os.stat(blocked).st_mode) == 0o777
        assert "could NOT be changed (the first: %s)" % theirs in err, err
        assert ev[0]["unchanged"] == 1, ev


def test_no_chmod_through_a_link_the_sandbox_made(box, outside):
    """The sandbox names, by a link in its grant, a host directory writable
    by every user made during the run (outside every grant): the walk
    follows no link, the host's directory keeps its mode.  Guards the walk
    itself: on the binary before, which changed no mode at all, the link's
    target kept its mode too, and only the control (the sandbox's own
    directory made 0775) failed."""
    target = os.path.join(outside, "hostdrop")
    flag = box.path("work", "go")
    p = box.popen(["sh", "-c", "ln -s %s link && umask 0 && mkdir mine && "
                   "while [ ! -e go ]; do sleep 0.05; done" % target],
                  policy=box.policy(""), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                  text=True)
    try:
        for _ in range(400):
            if os.path.lexists(box.path("work", "link")):
                break
            time.sleep(0.05)
        # made by the host during the run: born since the start
        os.mkdir(target)
        os.chmod(target, 0o777)
        time.sleep(2.5)  # a walk while the sandbox runs comes by
        open(flag, "w").close()
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o777
    # the control: the walk did run, and fixed the sandbox's own
    assert stat.S_IMODE(os.stat(box.path("work", "mine")).st_mode) == 0o775


def test_without_birth_times_the_ctime_decides_and_sticky_ones_stay(rootbox):
    """A file system that keeps no birth time (ext4 with 128-byte inodes,
    whole seconds): a directory made during the run is told by its ctime;
    a sticky one (a host's shared drop directory) is left, and so is one
    the host made before the run that the sandbox did not write in."""
    b = rootbox
    if not shutil.which("mkfs.ext4"):
        pytest.skip("needs mkfs.ext4")
    img, mnt = b.path("fs.img"), b.path("work", "fs")
    os.mkdir(mnt)
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-I", "128", img], check=True, capture_output=True)
    if subprocess.run(["mount", "-o", "loop", img, mnt], capture_output=True).returncode:
        pytest.skip("no loop device")
    try:
        for name, mode in (("hostww", 0o777), ("hoststicky", 0o1777)):
            os.mkdir(os.path.join(mnt, name))
            os.chmod(os.path.join(mnt, name), mode)
        # whole seconds: the run starts in a later one
        time.sleep(1.1)
        r = b.run(["sh", "-c", "cd fs && umask 0 && mkdir -p sub/deep && "
                   # (mkdir -m chmods a sticky mode, which giving others
                   # write, seccomp refuses: mkdir(2) itself takes it)
                   "python3 -c 'import os; os.mkdir(\"sticky\", 0o1777)' && "
                   "stat -c %a sub sub/deep sticky && "
                   "stat -c %W sub"], policy=b.policy(""))
        assert r.returncode == 0, r.stderr
        # no birth time there (else this tests the other case); the modes
        # as made (777, or 775 when the walk while the sandbox runs, 50 ms
        # after the start, came first on a loaded machine)
        out = r.stdout.split()
        assert out[-1] == "0" and out[:3] in (["777", "777", "1777"], ["775", "777", "1777"],
                                                ["775", "775", "1777"]), r.stdout
        modes = {n: stat.S_IMODE(os.stat(os.path.join(mnt, n)).st_mode)
                 for n in ("sub", "sub/deep", "sticky", "hostww", "hoststicky")}
        assert modes == {"sub": 0o775, "sub/deep": 0o775, "sticky": 0o1777,
                         "hostww": 0o777, "hoststicky": 0o1777}, modes
    finally:
        subprocess.run(["umount", mnt], check=False)


def test_ringfences_own_state_in_a_granted_home_is_left_in_place(box):
    """A home granted write, on its first run, ringfence started as root
    with run_as another user: it makes its state directory there at start,
    as root.  The walk at exit took root's entries in that new directory
    for another user's and moved ~/.local/state aside (with the crash
    journal in it).  Positive controls: the run's own file is there, and
    its directory made writable by every user lost that."""
    if box.user != "root":
        pytest.skip("the state is made by a supervisor that is not the command's user")
    home = box.path("home")
    os.mkdir(home)
    os.chown(home, NOBODY, NOBODY)
    pol = box.write("home.ini", "[sandbox]\ninclude = %s\n%s[filesystem]\nexec = %s\n"
                    "write = %s\n[process]\nrun_as = nobody\n"
                    % (box.default, "namespaces = off\n" if box.namespaces == "off" else "",
                       box.bin, home))
    r = box.run(["sh", "-c", "echo x > mine; umask 0; mkdir open"], policy=pol, cwd=home,
                env={"HOME": home, "XDG_STATE_HOME": ""})
    assert r.returncode == 0, r.stderr
    assert os.path.exists(os.path.join(home, "mine")), r.stderr
    # the walk did judge the home: the command's directory made writable by
    # every user lost that
    assert stat.S_IMODE(os.stat(os.path.join(home, "open")).st_mode) == 0o775, r.stderr
    moved = [os.path.join(d, n) for d, ns, fs in os.walk(home) for n in ns + fs
             if "ringfence-blocked" in n]
    assert not moved and "another user" not in r.stderr, (moved, r.stderr)
