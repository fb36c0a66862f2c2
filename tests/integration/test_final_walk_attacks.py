"""Another local user (the stranger, uid 4242) against the exit walk as it
stands at 34cf4c8 (gitscan.c: open_mode(), open_mode_file(), foreign_in(),
the move aside of another user's entries in a directory of the command's
made during the run).

The walk moves aside another user's entry found in a directory the command
made during the run, whatever its own birth, when the walk ENTERS it by
open_listable() (a directory) or open_mode_file() (a file).  Two kinds of
directory are entered otherwise, and there the stranger's is never asked
whose it is:
  - the package and build trees (bulk_name(): node_modules, target,
    __pycache__, .venv) are put on the `later` list and walked with no
    parent at hand (open_mode(s, -1, ...)): foreign_in() is never asked;
  - a .git is entered by open_mode_path(), which looks at nothing that is
    not writable by every user (a guard below: the watch while the run
    lasts moves a new .git aside anyway).

Holes (each FAILS on 34cf4c8; all four modes):
  - the stranger's node_modules or .venv (0755, its own) made in the
    directory the sandbox left 0777 stays, at its name, the stranger's:
    .venv/bin/activate, node_modules/.bin/* are what the user runs there;
  - recovery of a killed run (journal.c: the command's user unknown, the
    start the journal's ctime): a directory the host made 0777 AFTER the
    crash, in a directory of its own made after too, is changed by the
    recovering start (root modes) or named as the sandbox's (nobody
    modes);
  - recovery of a killed run: the directory the run made 0777 right in
    the project (a directory of the host's) keeps write for others: with
    no uid known every directory is taken for another user's, and another
    user's in the host's directory is left.
Positive control in each: the stranger's plain directory `made`, made in
the same run in the same directory, is moved aside; in the recovery ones,
nest/inner (0777 in the run's own nest) loses write for others.

Guards (hold on 34cf4c8): the stranger's .git renamed in is moved aside;
ordinary `git init/add/commit` and npm-style trees under umask 022 and 002
are left alone and unsaid; what the command makes 0777 in its first
moment is judged as the run's; chown to another group in kill mode ends
the command.
"""
import os
import signal
import subprocess
import time

import pytest

from conftest import STRANGER, own_top, run_with_stranger, stranger, stranger_home, wait_unlocked






@pytest.mark.parametrize("name", ["node_modules", ".venv"])
def test_a_strangers_package_tree_in_a_born_directory_is_moved_aside(box, name):
    """Hole: bulk_name() trees are walked last with no parent at hand, so
    foreign_in() is never asked of them.  The stranger makes NAME (0755,
    its own) in the directory the sandbox made 0777; at exit it is left at
    its name, and the stranger fills it (bin/activate, .bin/*) whenever it
    likes.  Positive control: its `made`, beside it, is moved aside."""
    own_top(box)
    born = os.path.join(box.work, "born")
    out, err = run_with_stranger(
        box, "mkdir %s/made && mkdir -m 0755 %s/%s" % (born, born, name))
    names = sorted(os.listdir(born))
    assert os.path.lexists(os.path.join(born, "made.ringfence-blocked")), (names, err)
    tree = os.path.join(born, name)
    p = stranger("sh", "-c", "mkdir -p %s/bin && echo 'echo planted' > %s/bin/activate"
                 % (tree, tree))
    assert not os.path.isdir(tree) or p.returncode != 0, (names, err)


def test_guard_a_strangers_git_directory_renamed_in_is_moved_aside(box):
    """Guard (holds on 34cf4c8): open_mode_path() looks only at a .git
    writable by every user, and check_hooks() passes an old hook over; yet
    the stranger's own .git (0755), made in its home before the run with
    hooks/post-checkout and renamed into the directory the sandbox made
    0777, does not stay: the watch while the run lasts moves the new .git
    aside, and the walk at exit moves that (another user's) aside again.
    Positive control: its `made`, beside it, is moved aside."""
    own_top(box)
    home = stranger_home(box)
    repo = os.path.join(home, "repo")
    p = stranger("sh", "-c",
                 "git init -q %s && printf '#!/bin/sh\\necho planted\\n' > "
                 "%s/.git/hooks/post-checkout && chmod 755 %s/.git/hooks/post-checkout"
                 % (repo, repo, repo))
    assert p.returncode == 0, p.stderr
    born = os.path.join(box.work, "born")
    out, err = run_with_stranger(
        box, "mkdir %s/made && mv %s/.git %s/.git" % (born, repo, born))
    names = sorted(os.listdir(born))
    assert os.path.lexists(os.path.join(born, "made.ringfence-blocked")), (names, err)
    hook = os.path.join(born, ".git", "hooks", "post-checkout")
    assert not os.path.lexists(hook) or os.stat(hook).st_uid != STRANGER, (names, err)


ORDINARY = r"""
set -e
umask %s
export HOME="$PWD/home" GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
git init -q p
cd p
echo x > f.txt
mkdir -p src && echo 'print(1)' > src/main.py
git add f.txt src
git -c user.name=a -c user.email=a@example.com commit -qm first
mkdir -p node_modules/x/lib && cp f.txt node_modules/x/lib/index.js
mkdir -p node_modules/.bin && cp f.txt node_modules/.bin/x && chmod 755 node_modules/.bin/x
echo done
"""


@pytest.mark.parametrize("umask", ["022", "002"])
def test_guard_ordinary_git_and_package_use_is_left_alone(box, umask):
    """Guard (ordinary use): `git init && git add && git commit` and an
    npm-style `mkdir -p node_modules/x && cp` under umask 022 and 002 in
    the project: nothing is moved aside, no mode changed, no warning about
    modes or another user.  Positive control: the commit is there, read
    by the host's git after the run."""
    own_top(box)
    box.write("work/ordinary.sh", ORDINARY % umask)
    r = box.run(["/bin/sh", "ordinary.sh"], policy=box.policy(""))
    assert r.returncode == 0 and "done" in r.stdout, r.stdout + r.stderr
    blocked = [os.path.join(d, n) for d, ds, fs in os.walk(box.work) for n in ds + fs
               if "ringfence-blocked" in n]
    assert blocked == [], (blocked, r.stderr)
    for word in ("writable by every user", "another user", "moved aside"):
        assert word not in r.stderr, r.stderr
    p = os.path.join(box.work, "p")
    g = subprocess.run(["git", "-c", "safe.directory=*", "-C", p, "log", "--oneline"],
                       capture_output=True, text=True)
    assert g.returncode == 0 and "first" in g.stdout, g.stderr
    want = 0o664 if umask == "002" else 0o644
    assert os.stat(os.path.join(p, "f.txt")).st_mode & 0o777 == want




def killed_run(box, env):
    """A run killed (SIGSTOP, SIGKILL) after the command made, under umask
    0, `sandboxdir` 0777 in the project and `nest/inner` 0777 in its own
    `nest` 0755; returns once the killed run is gone."""
    p = box.popen(["sh", "-c", "sleep 0.5; umask 0; mkdir -m 0777 sandboxdir; "
                   "mkdir -m 0755 nest; mkdir -m 0777 nest/inner; : > ready; sleep 30"],
                  policy=box.policy(""), env=env, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE, text=True,
                  start_new_session=True)  # stopped: test_protect_deep.stop_supervisor()
    try:
        for _ in range(200):
            if os.path.exists(box.path("work", "ready")) or p.poll() is not None:
                break
            time.sleep(0.05)
        assert os.path.exists(box.path("work", "ready")), p.communicate()
        os.kill(p.pid, signal.SIGSTOP)
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.communicate(timeout=30)


def recovery_env(box):
    state = box.path("state")
    os.mkdir(state)
    if box.user == "nobody":
        os.chown(state, 65534, 65534)
    return dict(HOME=box.work, XDG_STATE_HOME=state), os.path.join(state, "ringfence")


def test_recovery_changes_nothing_of_the_hosts_and_says_what_it_left(box):
    """Recovery of a killed run (the next start walks its journal).  What
    the host made after the crash (root's drop directory, 0777, in a
    directory made when no sandbox ran) cannot be told from what the run
    made by times alone: the first version changed the host's directory
    (root modes) or named it as the sandbox's that could not be changed
    (nobody modes).  Now recovery changes no mode and moves nothing as
    another user's: it names what is writable by every user since that
    run started, for review.  (The run's own 0777 directories stay so:
    stated in SECURITY.md; the walk while a run lives and at its exit
    change them.)  Positive control: recovery ran and said it."""
    own_top(box)
    env, jdir = recovery_env(box)
    killed_run(box, env)
    wait_unlocked(jdir)
    # the host, after the crash, with no sandbox running
    team = box.path("work", "team")
    os.mkdir(team, 0o755)
    drop = os.path.join(team, "drop")
    os.mkdir(drop)
    os.chmod(drop, 0o777)
    r = box.run(["true"], policy=box.policy(""), env=env)
    assert r.returncode == 0, r.stderr
    assert "earlier run" in r.stderr, r.stderr
    assert os.stat(drop).st_mode & 0o7777 == 0o777, r.stderr
    assert "left as they are" in r.stderr and "review" in r.stderr, r.stderr
    assert not [n for n in os.listdir(box.work) if "ringfence-blocked" in n], r.stderr


EARLY = r"""
import os
os.umask(0)
os.mkdir("early", 0o777)
fd = os.open("early.sh", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
os.close(fd)
print("made", flush=True)
"""


def test_guard_what_the_command_makes_in_its_first_moment_is_judged(box):
    """Guard (holds on 34cf4c8): the command starts once the file-time
    clock has passed the start's stamp (child.c wait_past()): a directory
    and a file made 0777/0666 in its very first instructions are the run's,
    and lose write for others at exit.  Positive control: the run made
    them (exit 0, "made")."""
    own_top(box)
    box.write("work/early.py", EARLY)
    r = box.run(["/usr/bin/python3", "early.py"], policy=box.policy(""))
    assert r.returncode == 0 and "made" in r.stdout, r.stdout + r.stderr
    for n in ("early", "early.sh"):
        mode = os.stat(box.path("work", n)).st_mode & 0o777
        assert mode & 0o002 == 0, (n, oct(mode), r.stderr)


CHGRP = r"""
import os, sys
fd = os.open("mine", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.close(fd)
os.chown("mine", -1, os.getgid())
print("own ok", flush=True)
os.chown("mine", -1, %d)
print("after", flush=True)
"""


def test_guard_chown_to_another_group_in_kill_mode_ends_the_command(box):
    """Guard (holds on 34cf4c8): with `[syscalls] action = kill` the
    group prefix (seccomp_prefix_own_group()) kills the command that hands
    its file to another group (the stranger's): no `after`, the file keeps
    the command's group.  Positive control: chown to its own group, just
    before, goes through ("own ok")."""
    own_top(box)
    box.write("work/chgrp.py", CHGRP % STRANGER)
    r = box.run(["/usr/bin/python3", "chgrp.py"],
                policy=box.policy("[syscalls]\naction = kill\n"))
    assert "own ok" in r.stdout, r.stdout + r.stderr
    assert "after" not in r.stdout and r.returncode != 0, (r.returncode, r.stdout, r.stderr)
    assert os.stat(box.path("work", "mine")).st_gid != STRANGER
