# SPDX-License-Identifier: MIT
"""The file gate: without a mount namespace, the directories on the way to a
protected path (the top of a project with a .git, the .git itself) take new
entries through the supervisor, name by name, and protected names never.
git works inside in every mode.  The host side is a real host git run after
the sandbox, as the same user, with a planted command that would leave a
mark."""
import os
import re
import stat
import subprocess

import pytest

from test_protect import GIT_ENV, host, make_repo, planted

# the command's environment is the policy's: the identity set inside
IDENT = ("export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x GIT_COMMITTER_NAME=t "
         "GIT_COMMITTER_EMAIL=t@x GIT_CONFIG_NOSYSTEM=1; ")
GIT_WORK = IDENT + ("git status --short >/dev/null && echo new > top.txt && mkdir -p newdir/deep && "
            "echo n > newdir/deep/f && echo more >> top.txt && mv top.txt top2.txt && "
            "git add top2.txt newdir && git commit -qm one && git checkout -qb feat && "
            "echo y > f && git stash -q && git stash pop -q && git commit -qam two && "
            "git checkout -q master && git merge -q feat && "
            "GIT_EDITOR=true git rebase -q -i HEAD~1 && git worktree list >/dev/null && "
            "git branch -q -d feat && rm -r newdir && echo git-ok")


def test_git_and_new_files_at_the_top_in_every_mode(box):
    """status, add, commit, branch, checkout, stash, merge, rebase and
    worktree list in the project, new files and directories at its top, as
    root and unprivileged, with namespaces (the view) and without (the
    gate); the host's git sees the commits afterwards."""
    make_repo(box)
    r = box.run(["sh", "-c", GIT_WORK], policy=box.policy(""), env=GIT_ENV)
    assert "git-ok" in r.stdout, r.stderr
    h = host(box, ["git", "log", "--format=%s", "-3"])
    assert h.stdout.split() == ["two", "one", "init"], h.stdout + h.stderr
    assert os.path.exists(box.path("work", "top2.txt"))
    assert not os.path.exists(box.path("work", "newdir"))
    if box.namespaces == "off":
        assert "file gate" not in r.stderr  # said with -v only
        r = box.run(["true"], policy=box.policy(""), opts=["-v"])
        assert "made by the supervisor, name by name" in r.stderr, r.stderr


def nons_only(box):
    if box.namespaces != "off":
        pytest.skip("the gate works without namespaces (with them, mounts protect)")


def test_gate_refuses_every_protected_name(box):
    """Through the gate: writing, replacing (a lock renamed over), renaming
    and removing .git/config, .git and the hooks; creating commondir,
    config.worktree, remotes, an absent .mcp.json; a hard link to the config
    at the top, a symlink to it written through.  The host's git afterwards
    runs nothing the sandbox planted."""
    nons_only(box)
    make_repo(box)
    script, mark = planted(box)
    plant = ("echo '[core]fsmonitor=%(s)s' >> .git/config; git config core.fsmonitor %(s)s; "
             "printf '[core]\\n\\tfsmonitor = %(s)s\\n' > .git/config.lock; "
             "mv -f .git/config.lock .git/config; "
             "echo /elsewhere > .git/commondir; echo '[core]' > .git/config.worktree; "
             "mkdir .git/remotes; cp %(s)s .git/hooks/pre-commit; "
             "echo '{}' > .mcp.json; ln .git/config cfg; ln -s .git/config cl; "
             "echo '[core]fsmonitor=%(s)s' >> cl; mv .git/hooks hk; rm -rf .git/hooks; "
             "mv .git g2; mkdir .git2 && mv .git2 .git; "
             "echo made > control && echo planted" % {"s": script})
    r = box.run(["sh", "-c", plant], policy=box.policy(""), env=GIT_ENV)
    # positive control: the same run made a new file at the top
    assert "planted" in r.stdout, r.stderr
    assert os.path.exists(box.path("work", "control"))
    # said, but not flooded: three lines, then a count at exit
    assert r.stderr.count("is protected: the sandbox may not") == 3, r.stderr
    assert "more changes to protected names refused" in r.stderr, r.stderr
    for n in ("commondir", "config.worktree", "remotes", "hooks/pre-commit"):
        assert not os.path.exists(box.path("work", ".git", n)), n
    for n in (".mcp.json", "cfg", "hk", "g2"):
        assert not os.path.exists(box.path("work", n)), n
    assert os.path.isdir(box.path("work", ".git", "hooks"))
    with open(box.path("work", ".git", "config")) as f:
        assert "fsmonitor" not in f.read()
    # refused by the gate, not made and then moved aside by the watch
    # (which would hide a gate that let them through)
    for d in (box.work, box.path("work", ".git")):
        assert not [n for n in os.listdir(d) if "ringfence-blocked" in n], os.listdir(d)
    assert "at once" not in r.stderr, r.stderr
    h = host(box, ["sh", "-c", "git status --short && git commit -q --allow-empty -m h"])
    assert h.returncode == 0, h.stderr
    assert not os.path.exists(mark), h.stdout + h.stderr


def test_gate_holds_when_a_directory_is_swapped_for_a_link(box):
    """A thread swaps a directory the sandbox made at the top for a symlink
    to .git, while another makes NAME/commondir and NAME/config.lock through
    it: the gate judges the directory it resolved, once."""
    nons_only(box)
    make_repo(box)
    race = r"""
import errno, os, threading, time
stop = time.time() + 20
made = [0]
refused = [0]  # calls that met d as the link to .git and were refused
os.mkdir("d")
def swap():
    while time.time() < stop and not (made[0] and refused[0] > 20):
        try:
            os.rename("d", "d.real")
            os.symlink(".git", "d")
            os.unlink("d")
            os.rename("d.real", "d")
        except OSError:
            pass
def plant():
    while time.time() < stop and not (made[0] and refused[0] > 20):
        for n in ("d/commondir", "d/config.worktree", "d/hooks/post-checkout"):
            try:
                with open(n, "w") as f:
                    f.write("x\n")
                if os.path.isdir("d") and not os.path.islink("d"):
                    made[0] += 1
            except OSError as e:
                if e.errno == errno.EACCES:
                    refused[0] += 1
        try:
            os.rename("d/config", "d/config.old")
        except OSError:
            pass
ts = [threading.Thread(target=swap), threading.Thread(target=plant)]
[t.start() for t in ts]
[t.join() for t in ts]
print("refused-through-link", refused[0])
print("made-in-dir", made[0])
"""
    box.write("work/race.py", race)
    r = box.run(["/usr/bin/python3", "race.py"], policy=box.policy(""), timeout=60)
    assert "made-in-dir" in r.stdout, r.stderr
    # positive controls: the race made files through the directory, and
    # met it as the link (those calls were refused)
    assert int(r.stdout.split()[-1]) > 0, r.stdout
    assert int(r.stdout.split()[-3]) > 0, r.stdout
    for n in ("commondir", "config.worktree", "hooks/post-checkout", "config.old"):
        assert not os.path.exists(box.path("work", ".git", n)), n
    assert os.path.exists(box.path("work", ".git", "config"))


def test_gate_makes_names_as_the_command(box):
    """Owner, group and umask of what the gate makes are the command's."""
    nons_only(box)
    make_repo(box)
    r = box.run(["sh", "-c", "umask 027; echo x > f1 && mkdir d1 && ln -s f1 s1 && mkfifo p1 "
                 "&& echo ok"], policy=box.policy(""))
    assert "ok" in r.stdout, r.stderr
    want = 65534 if box.user == "nobody" else 0
    for n, mode in (("f1", 0o640), ("d1", 0o750), ("p1", 0o640)):
        st = os.lstat(box.path("work", n))
        assert (st.st_uid, st.st_gid) == (want, want), n
        assert stat.S_IMODE(st.st_mode) == mode, (n, oct(st.st_mode))
    assert os.readlink(box.path("work", "s1")) == "f1"


def test_gate_limits_it_documents(box):
    """README: a rename between a gated directory and another is EXDEV (mv
    copies instead); writing through a symlink made at the top to a file
    made at the top fails (the kernel follows it, under Landlock)."""
    nons_only(box)
    make_repo(box)
    sub = box.path("work", "sub")
    os.mkdir(sub)
    box.write("work/sub/f", "x\n")
    if box.user == "nobody":
        subprocess.run(["chown", "-R", "65534:65534", sub], check=True)
    py = ("import errno, os\n"
          "try:\n    os.rename('sub/f', 'top')\nexcept OSError as e:\n"
          "    print('cross', errno.errorcode[e.errno])\n"
          "open('a', 'w').close(); os.rename('a', 'b'); print('within ok')\n"
          "os.symlink('b', 'l')\n"
          "try:\n    open('l', 'a').write('y')\nexcept OSError as e:\n"
          "    print('through', errno.errorcode[e.errno])\n")
    box.write("work/lim.py", py)
    r = box.run(["/usr/bin/python3", "lim.py"], policy=box.policy(""))
    assert "cross EXDEV" in r.stdout, r.stdout + r.stderr
    assert "within ok" in r.stdout, r.stdout + r.stderr  # the control
    assert "through EACCES" in r.stdout, r.stdout
    assert not os.path.exists(box.path("work", "top"))
    assert os.path.exists(box.path("work", "sub", "f"))


def test_gate_makes_no_file_it_cannot_hand_over(box):
    """A caller out of descriptors: the gate made the file, then could not
    hand it over (EMFILE).  The kernel takes the descriptor before it makes
    anything; the gate leaves nothing behind either."""
    nons_only(box)
    make_repo(box)
    box.write("work/made.py", "import errno, os, resource\n"
              "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
              "resource.setrlimit(resource.RLIMIT_NOFILE, (32, hard))\n"
              "fds = []\n"
              "try:\n    while True:\n        fds.append(os.open('/dev/null', os.O_RDONLY))\n"
              "except OSError as e:\n    print('full', errno.errorcode[e.errno])\n"
              "for n in ('new.txt', 'excl.txt'):\n"
              "    flags = os.O_CREAT | os.O_WRONLY | (os.O_EXCL if n == 'excl.txt' else 0)\n"
              "    try:\n        os.open(n, flags, 0o644)\n        print('opened', n)\n"
              "    except OSError as e:\n        print('refused', n, errno.errorcode[e.errno])\n"
              "os.close(fds.pop())\n"
              "os.close(os.open('control.txt', os.O_CREAT | os.O_WRONLY, 0o644))\n"
              "print('control-ok')\n")
    r = box.run(["/usr/bin/python3", "made.py"], policy=box.policy(""))
    assert "full EMFILE" in r.stdout, r.stdout + r.stderr
    assert "refused new.txt EMFILE" in r.stdout, r.stdout + r.stderr
    assert "refused excl.txt EMFILE" in r.stdout, r.stdout + r.stderr
    for n in ("new.txt", "excl.txt"):
        assert not os.path.exists(box.path("work", n)), n
    # positive control: with a descriptor free, the gate makes the file
    assert "control-ok" in r.stdout, r.stdout + r.stderr
    assert os.path.exists(box.path("work", "control.txt"))


def test_gate_refusals_are_in_the_trace_summary(box):
    """--trace's summary at exit lists the file gate's refusals (a protected
    name made, removed, renamed over) with the trace's own."""
    nons_only(box)
    make_repo(box)
    r = box.run(["sh", "-c", "echo '{}' > .mcp.json; echo '{}' > .mcp.json; "
                 "rm -f .git/config; echo x > new.txt && echo made"],
                policy=box.policy(""), opts=["--trace"])
    assert "made" in r.stdout, r.stderr  # the control: the gate made the rest
    summary = [line for line in r.stderr.splitlines() if "file access" in line]
    assert summary, r.stderr
    s = summary[-1]
    # (the home, the project for the unprivileged user, is shortened to ~)
    assert re.search(r"create \S*/\.mcp\.json 2 times \(kept out of reach by ringfence\)",
                     s), s
    assert re.search(r"remove \S*/\.git/config \(kept out of reach", s), s
    assert "new.txt" not in s, s
    # without --trace: the refusals are said as they happen, no summary
    r = box.run(["sh", "-c", "echo '{}' > .mcp.json; true"], policy=box.policy(""))
    assert "is protected" in r.stderr and "file access" not in r.stderr, r.stderr


def test_unfinished_rebase_made_inside_is_moved_aside(box):
    """A rebase left stopped inside (its todo could hold exec lines a host
    `git rebase --continue` would run) is moved aside at exit."""
    nons_only(box)
    make_repo(box)
    script, mark = planted(box)
    todo = "exec %s" % script
    r = box.run(["sh", "-c", IDENT + "git commit -q --allow-empty -m a && "
                 "GIT_SEQUENCE_EDITOR='printf \"break\\n%s\\n\" >' git rebase -q -i HEAD~1; "
                 "ls .git/rebase-merge >/dev/null && echo stopped" % todo],
                policy=box.policy(""), env=GIT_ENV)
    assert "stopped" in r.stdout, r.stderr
    assert not os.path.exists(box.path("work", ".git", "rebase-merge"))
    assert os.path.isdir(box.path("work", ".git", "rebase-merge.ringfence-blocked"))
    h = host(box, ["sh", "-c", "git rebase --continue; git status --short"])
    assert not os.path.exists(mark), h.stdout + h.stderr


def test_rebase_left_by_a_killed_supervisor_is_moved_by_the_next_start(box):
    """The supervisor is killed while a rebase stopped inside: the next
    start moves its state aside (crash journal)."""
    import signal
    import time
    from test_protect_live import wait_unlocked
    nons_only(box)
    make_repo(box)
    state = box.path("state")
    os.mkdir(state)
    if box.user == "nobody":
        os.chown(state, 65534, 65534)
    env = dict(GIT_ENV, XDG_STATE_HOME=state)
    p = box.popen(["sh", "-c", IDENT + "git commit -q --allow-empty -m a && "
                   "GIT_SEQUENCE_EDITOR='printf \"break\\n\" >' git rebase -q -i HEAD~1; "
                   "touch stopped; sleep 30"], policy=box.policy(""), env=env,
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):
            if os.path.exists(box.path("work", "stopped")) or p.poll() is not None:
                break
            time.sleep(0.05)
        assert os.path.exists(box.path("work", "stopped")), p.communicate()
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.communicate(timeout=30)
    # positive control: the rebase state is there, nothing ran at exit
    assert os.path.isdir(box.path("work", ".git", "rebase-merge"))
    wait_unlocked(os.path.join(state, "ringfence"))
    r = box.run(["true"], policy=box.policy(""), env=env)
    assert r.returncode == 0, r.stderr
    assert "earlier run" in r.stderr, r.stderr
    assert not os.path.exists(box.path("work", ".git", "rebase-merge"))
    assert os.path.isdir(box.path("work", ".git", "rebase-merge.ringfence-blocked"))


PY_OPENAT2 = r'''
import ctypes, os, struct
libc = ctypes.CDLL(None, use_errno=True)
def openat2(path, flags, mode, resolve=0):
    how = ctypes.create_string_buffer(struct.pack("QQQ", flags, mode, resolve))
    fd = libc.syscall(437, -100, path.encode(), how, 24)
    return fd if fd >= 0 else -ctypes.get_errno()
fd = openat2("made2", os.O_CREAT | os.O_WRONLY, 0o644)
print("plain", "ok" if fd >= 0 else fd)
if fd >= 0:
    os.write(fd, b"x")
print("protected", openat2(".mcp.json", os.O_CREAT | os.O_WRONLY, 0o644))
print("beneath", openat2("made3", os.O_CREAT | os.O_WRONLY, 0o644, 0x08))
'''


def test_openat2_through_the_gate(box):
    """openat2(2) is answered ENOSYS (its flags and mode are in memory the
    filter cannot read: a set-user-ID file made at once), so that callers
    fall back to openat, which the gate judges: no name is made through it,
    a protected one least of all; openat makes the same file at the top
    (the positive control)."""
    nons_only(box)
    make_repo(box)
    box.write("work/o2.py", PY_OPENAT2 + "os.close(os.open('made4', os.O_CREAT | os.O_WRONLY))\n"
              "print('openat ok')\n")
    r = box.run(["/usr/bin/python3", "o2.py"], policy=box.policy(""))
    assert "plain -38" in r.stdout, r.stdout + r.stderr
    assert "protected -38" in r.stdout, r.stdout
    assert "beneath -38" in r.stdout, r.stdout
    assert "openat ok" in r.stdout, r.stdout + r.stderr
    assert os.path.exists(box.path("work", "made4"))
    assert not os.path.exists(box.path("work", "made2"))
    assert not os.path.exists(box.path("work", ".mcp.json"))


def test_a_rebase_the_host_left_is_out_of_reach(box):
    """The host stopped an interactive rebase and runs the sandbox: its todo
    (whose `exec` lines the host's `git rebase --continue` runs) cannot be
    written, in either mode."""
    make_repo(box)
    script, mark = planted(box)
    r = host(box, ["sh", "-c", "git commit -q --allow-empty -m a && "
                   "GIT_SEQUENCE_EDITOR='printf \"break\\npick HEAD\\n\" >' "
                   "git rebase -q -i HEAD~1; test -d .git/rebase-merge"])
    assert r.returncode == 0, r.stdout + r.stderr
    todo = box.path("work", ".git", "rebase-merge", "git-rebase-todo")
    r = box.run(["sh", "-c", "echo 'exec %s' >> %s; echo 'exec %s' > .git/rebase-merge/x; "
                 "echo made > control; echo tried" % (script, todo, script)],
                policy=box.policy(""))
    assert "tried" in r.stdout, r.stderr
    assert os.path.exists(box.path("work", "control"))  # positive control
    with open(todo) as f:
        assert script not in f.read()
    host(box, ["sh", "-c", "GIT_EDITOR=true git rebase --continue; git status --short"])
    assert not os.path.exists(mark)
