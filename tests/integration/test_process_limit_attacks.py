# SPDX-License-Identifier: MIT
"""A sandbox that holds the process limit full.  The walk of the write
grants while the sandbox runs (protwatch_found.c) was a process of the
supervisor's, forked at each walk; the sandbox's processes count toward the
same limit as the supervisor's (its user's RLIMIT_NPROC when it runs as
the supervisor's user, unprivileged; its cgroup's pids.max, root too), so
a command that kept the limit full made every fork fail, and the watch was
off for the rest of the run with a warning: a repository made where
nothing watches kept its hook until the end, for a host git run meanwhile
to obey.  Now the supervisor walks itself when its process cannot be made."""
import os
import subprocess
import time

import pytest

from conftest import Box

# Uids no other test runs as, one a case: the process limit is the case's
# alone (cases run side by side).
LIMITED = {"on": 4343, "off": 4344}
# Room for the supervisor, init, the command and the forks the start makes.
NPROC = 40

# The command: children until a fork fails (the limit full), kept; then a
# repository made by hand (no process needed) three levels down, where
# nothing watches, with a hook; then it waits for the host (data/go).
HOLD_AND_PLANT = r"""
import errno, os, signal, sys, time
# past the first walk (50 ms after the start, over a tree of a few
# directories): the limit is full before the next one, 2 s after it ended
time.sleep(1)
kids, why = [], None
while len(kids) < 2000:
    try:
        pid = os.fork()
    except OSError as e:
        why = errno.errorcode.get(e.errno, str(e.errno))
        break
    if pid == 0:
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
        time.sleep(120)
        os._exit(0)
    kids.append(pid)
print("full", why, len(kids), flush=True)
g = "p/q/r/x/.git"
for d in ("objects", "refs/heads", "hooks"):
    os.makedirs(os.path.join(g, d), exist_ok=True)
with open(g + "/HEAD", "w") as f:
    f.write("ref: refs/heads/main\n")
with open(g + "/config", "w") as f:
    f.write("[core]\n\trepositoryformatversion = 0\n")
with open(g + "/hooks/pre-commit", "w") as f:
    f.write("#!/bin/sh\ntouch /tmp/planted-by-the-sandbox\n")
os.chmod(g + "/hooks/pre-commit", 0o755)
print("planted", flush=True)
for _ in range(1200):
    if os.path.exists("data/go"):
        break
    time.sleep(0.05)
for k in kids:
    os.kill(k, signal.SIGKILL)
print("done", flush=True)
"""


def pids_cgroup(case):
    """A pids cgroup of CASE's own (v1 or v2) where root can make one, or
    None."""
    name = "rf-test-%d-%s" % (os.getpid(), case)
    for base, enable in (("/sys/fs/cgroup/pids", None), ("/sys/fs/cgroup", "+pids")):
        try:
            if enable:
                with open(os.path.join(base, "cgroup.controllers")) as f:
                    if "pids" not in f.read().split():
                        continue
                with open(os.path.join(base, "cgroup.subtree_control"), "w") as f:
                    f.write(enable)
            path = os.path.join(base, name)
            os.mkdir(path)
            with open(os.path.join(path, "pids.max"), "w") as f:
                f.write(str(NPROC))
            return path
        except OSError:
            continue
    return None


@pytest.mark.parametrize("who", ["user", "root"])
@pytest.mark.parametrize("namespaces", ["on", "off"])
def test_a_full_process_limit_does_not_stop_the_walk_while_the_sandbox_runs(who, namespaces):
    box = Box("nobody" if who == "user" else "root", namespaces)
    cg = None
    try:
        for d in ("p/q/r", "data"):
            os.makedirs(box.path("work", d))
        box.write("work/hold.py", HOLD_AND_PLANT)
        pol = box.policy("")
        argv = [box.ringfence, "-p", pol, "--", "/usr/bin/python3", "hold.py"]
        env = box.env()
        if who == "user":
            uid = LIMITED[namespaces]
            subprocess.run(["chown", "-R", "%d:%d" % (uid, uid), box.work], check=True)
            env["HOME"] = box.work
            argv = ["prlimit", "--nproc=%d" % NPROC, "setpriv", "--reuid=%d" % uid,
                    "--regid=%d" % uid, "--clear-groups", "--"] + argv
        else:
            cg = pids_cgroup(namespaces)
            if not cg:
                pytest.skip("no pids cgroup can be made here")
            argv = ["sh", "-c", 'echo $$ > %s/cgroup.procs && exec "$@"' % cg, "sh"] + argv
        p = subprocess.Popen(argv, cwd=box.work, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            full = p.stdout.readline().split()
            planted = p.stdout.readline().strip()
            # the control: the limit was reached (a fork failed) and the
            # hook was written
            assert full[:2] == ["full", "EAGAIN"] and int(full[2]) > 0, full
            assert planted == "planted"
            hook = box.path("work", "p/q/r/x/.git/hooks/pre-commit")
            end = time.monotonic() + 20
            while os.path.lexists(hook) and time.monotonic() < end:
                time.sleep(0.05)
            moved = not os.path.lexists(hook)
        finally:
            open(box.path("work", "data/go"), "w").close()
            out, err = p.communicate(timeout=60)
        assert "done" in out, out + err
        # found while the sandbox ran, with the process limit still full
        assert moved, "the hook stayed while the sandbox ran: " + err
        assert os.path.exists(hook + ".ringfence-blocked"), err
        assert "made by the supervisor itself" in err, err
    finally:
        if cg:
            for _ in range(100):
                try:
                    os.rmdir(cg)
                    break
                except OSError:
                    time.sleep(0.1)
        box.cleanup()
