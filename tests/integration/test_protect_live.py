# SPDX-License-Identifier: MIT
"""Protected names the sandbox creates while it runs are moved aside at once
(not only when it ends), repositories in a write grant other than the
project's keep their hooks and configuration, and a run whose supervisor
was killed is checked by the next start.  The host side is a real host
program run while the sandbox waits (or after it was killed)."""
import fcntl
import json
import mmap
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import NOBODY, RINGFENCE, wait_unlocked
from test_protect import GIT_ENV, data_dir, during_run, host, make_repo, planted


def absent_on_host(box, rels):
    """A host program looking for RELS in the project while the sandbox runs."""
    return ["sh", "-c", "for f in %s; do if [ -e \"$f\" ]; then echo FOUND:$f; cat \"$f\"; fi; "
            "done; true" % " ".join(rels)]


def test_agent_settings_made_during_the_run_are_gone_at_once(box):
    """.mcp.json, .envrc and .claude/settings.json, made directly, through a
    hard link and by renaming a prepared file into place: a host tool started
    in the project while the sandbox still runs finds none of them."""
    mcp = '{"mcpServers":{"x":{"command":"touch","args":["MARK"]}}}'
    plant = ("echo '%s' > .mcp.json; echo 'touch MARK' > data/envrc; ln data/envrc .envrc; "
             "mkdir -p data/c && echo '{}' > data/c/settings.json && mv data/c .claude; "
             "echo x > data/o && echo planted" % mcp)
    rels = [".mcp.json", ".envrc", ".claude/settings.json"]
    r, h = during_run(box, plant, host_side=absent_on_host(box, rels))
    assert "FOUND" not in h.stdout, h.stdout
    # positive control: the sandbox did write, and the names were moved aside
    assert "planted" in r.stdout, r.stderr
    assert os.path.exists(box.path("work", ".mcp.json.ringfence-blocked"))
    # (without namespaces Landlock makes the rename a copy: the directory is
    # moved before anything is copied into it)
    assert os.path.isdir(box.path("work", ".claude.ringfence-blocked")), r.stderr
    assert "at once" in r.stderr, r.stderr


def test_symlink_on_the_way_to_a_protected_name_is_moved(box):
    """.vscode as a symlink to a directory the sandbox fills: the host's editor
    would follow it to tasks.json."""
    plant = ("mkdir -p data/v && echo '{}' > data/v/tasks.json && ln -s data/v .vscode; "
             "echo planted")
    r, h = during_run(box, plant, host_side=absent_on_host(box, [".vscode/tasks.json"]))
    assert "planted" in r.stdout, r.stderr
    assert "FOUND" not in h.stdout, h.stdout
    assert os.path.islink(box.path("work", ".vscode.ringfence-blocked"))


def test_name_made_again_and_again_is_never_left(box):
    """A loop that makes the name anew: each one is moved, and logged;
    stderr is not flooded (past PW_WARN_MAX lines, a count).  30 times: past
    32 moves of one name the run is ended as racing the watch
    (test_python_imports_attacks.py)."""
    log = box.path("audit.jsonl")
    open(log, "w").close()
    if box.user == "nobody":
        os.chown(log, 65534, 65534)
    plant = "i=0; while [ $i -lt 30 ]; do echo '{}' > .mcp.json; i=$((i+1)); done; echo planted"
    r, h = during_run(box, plant, pol=box.policy("[log]\nfile = %s\n" % log),
                      host_side=absent_on_host(box, [".mcp.json"]))
    assert "planted" in r.stdout, r.stderr
    # the last one made is moved too
    assert "FOUND" not in h.stdout, h.stdout
    assert not os.path.exists(box.path("work", ".mcp.json"))
    assert r.stderr.count("\n") < 40, r.stderr
    events = [json.loads(line) for line in open(log)]
    blocked = [e for e in events if e.get("event") == "protect.blocked"]
    moved = [n for n in os.listdir(box.work) if n.startswith(".mcp.json.ringfence-blocked")]
    assert blocked and len(blocked) == len(moved), (len(blocked), len(moved))
    assert all(e["path"] == box.path("work", ".mcp.json") and e["moved"] for e in blocked)


def runs_nothing(git):
    """Whether the git directory GIT holds nothing a host git would run: no
    config setting core.fsmonitor, no hook but a template's *.sample."""
    cfg = os.path.join(git, "config")
    if os.path.exists(cfg) and "fsmonitor" in open(cfg).read():
        return False
    hooks = os.path.join(git, "hooks")
    return not os.path.isdir(hooks) or all(
        n.endswith(".sample") or ".ringfence-blocked" in n for n in os.listdir(hooks))


def test_repository_made_during_the_run_is_not_entered(box):
    """`git init sub` with core.fsmonitor, one with a hook, one made aside and
    renamed into the project: a host git in them while the sandbox runs would
    run the command.  A plain repository (what git init or clone writes)
    stays."""
    script, mark = planted(box)
    plant = ("mkdir -p sub/deep && cd sub/deep && git init -q; git config core.fsmonitor %s; "
             "cd ../..; mkdir hk && git init -q hk && git -C hk commit -q --allow-empty -m i; "
             "cp %s hk/.git/hooks/post-checkout; "
             "mkdir -p data/r && git init -q data/r && "
             "git -C data/r config core.fsmonitor %s; mv data/r moved; "
             "mkdir plain && git init -q plain && git -C plain commit -q --allow-empty -m p && "
             "echo planted" % (script, script, script))
    side = ["sh", "-c", "cd sub/deep && git status; cd ../../moved && git status; "
            "cd ../hk && git checkout -q -b other; true"]
    r, h = during_run(box, plant, host_side=side)
    assert not os.path.exists(mark), h.stdout + h.stderr
    assert "planted" in r.stdout, r.stderr
    assert os.path.isdir(box.path("work", "sub", "deep"))
    for d in ("sub/deep", "hk", "moved"):
        # the repository moved aside whole (the watch on the tree it was
        # made in), or what in it a host git runs (the walk of every grant
        # while the sandbox runs may reach it first)
        git = box.path("work", d, ".git")
        assert not os.path.exists(git) or runs_nothing(git), (d, r.stderr)
        # moved aside once: what was moved aside is not taken for a
        # repository again (and moved, and moved, ...)
        assert not [n for n in os.listdir(box.path("work", d))
                    if n.count(".ringfence-blocked") > 1], d
    # positive control: a repository that sets nothing to run is left alone
    assert os.path.isdir(box.path("work", "plain", ".git", "objects")), \
        (os.listdir(box.path("work", "plain")), r.stderr)
    # and the host's git does enter such a repository, and obey it
    host(box, ["sh", "-c", "git -C plain config core.fsmonitor %s && git -C plain status"
               % script])
    assert os.path.exists(mark)


def nested_repos(box):
    """Repositories at depth 1 and 2 of the grant, none at its top: a grant on
    a directory holding many projects."""
    for rel in ("sub", "org/two/d"):
        os.makedirs(box.path("work", rel))
    if box.user == "nobody":
        subprocess.run(["chown", "-R", "65534:65534", box.work], check=True)
    for rel in ("sub", "org/two"):
        r = host(box, ["sh", "-c", "git init -q && git commit -q --allow-empty -m i"],
                 cwd=box.path("work", rel))
        assert r.returncode == 0, r.stderr


def test_other_repositories_in_the_grant_keep_hooks_and_config(box):
    nested_repos(box)
    data_dir(box)
    script, mark = planted(box)
    plant = ("for d in sub org/two; do cp %s $d/.git/hooks/pre-commit; "
             "git -C $d config core.fsmonitor %s; done; "
             "echo x > org/two/d/file && echo wrote-file" % (script, script))
    r = box.run(["sh", "-c", plant], policy=box.policy(""), env=dict(GIT_ENV, HOME=box.work))
    assert "wrote-file" in r.stdout, r.stderr
    h = host(box, ["sh", "-c", "for d in sub org/two; do (cd $d && git status --short && "
                   "git commit -q --allow-empty -m host); done"])
    assert h.returncode == 0, h.stderr
    assert not os.path.exists(mark), h.stdout + h.stderr
    # a pointer to another repository, absent at start
    r = box.run(["sh", "-c", "for d in sub org/two; do echo %s > $d/.git/commondir; done; "
                 "echo done" % box.path("elsewhere")],
                policy=box.policy(""), env=dict(GIT_ENV, HOME=box.work))
    assert "done" in r.stdout, r.stderr
    for d in ("sub", "org/two"):
        assert not os.path.exists(box.path("work", d, ".git", "commondir"))
    if box.namespaces == "off":
        return  # without namespaces .git takes no new entries (README), as the project's
    # positive control: git keeps working in them inside
    r = box.run(["sh", "-c", "export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x GIT_COMMITTER_NAME=t "
                 "GIT_COMMITTER_EMAIL=t@x; cd org/two && git add d/file && git commit -qm f && "
                 "echo committed"],
                policy=box.policy(""), env=dict(GIT_ENV, HOME=box.work))
    assert "committed" in r.stdout, r.stderr


def test_bare_repository_in_the_grant_keeps_its_hooks(box):
    """A bare repository in the project (a local remote, `git init --bare
    remote.git`): a host `git push` into it runs its pre-receive and
    post-receive hooks, and a host git inside it reads its config."""
    data_dir(box)
    clone = box.path("hostclone")  # the host's own clone, outside the grant
    os.mkdir(clone)
    if box.user == "nobody":
        os.chown(clone, 65534, 65534)
    r = host(box, ["sh", "-c", "git init -q --bare remote.git && git init -q %s && "
                   "git -C %s commit -q --allow-empty -m i" % (clone, clone)])
    assert r.returncode == 0, r.stderr
    if box.user == "nobody":
        subprocess.run(["chown", "-R", "65534:65534", box.work], check=True)
    script, mark = planted(box)
    plant = ("cp %s remote.git/hooks/post-receive; cp %s remote.git/hooks/pre-receive; "
             "git --git-dir=remote.git config core.fsmonitor %s; "
             "echo '[core]' > remote.git/config.worktree; "
             "echo x > data/file && echo wrote-file" % (script, script, script))
    r = box.run(["sh", "-c", plant], policy=box.policy(""), env=dict(GIT_ENV, HOME=box.work))
    # positive control: the sandbox ran and could write beside the remote
    assert "wrote-file" in r.stdout, r.stderr
    for h in ("post-receive", "pre-receive"):
        assert not os.path.exists(box.path("work", "remote.git", "hooks", h)), r.stderr
    assert not os.path.exists(box.path("work", "remote.git", "config.worktree")), r.stderr
    remote = box.path("work", "remote.git")
    h = host(box, ["sh", "-c", "git -C %s push -q %s HEAD:refs/heads/m && cd %s && "
                   "git status >/dev/null 2>&1; git log -1 m >/dev/null" % (clone, remote, remote)])
    assert h.returncode == 0, h.stderr
    assert not os.path.exists(mark), h.stdout + h.stderr
    # and the host's push does run a hook the host puts there (the control
    # that the push above would have run a planted one)
    shutil.copy(script, box.path("work", "remote.git", "hooks", "post-receive"))
    host(box, ["sh", "-c", "git -C %s commit -q --allow-empty -m j && "
               "git -C %s push -q %s HEAD:refs/heads/m" % (clone, clone, remote)])
    assert os.path.exists(mark)




def test_run_whose_supervisor_was_killed_is_checked_by_the_next(box):
    """The supervisor stopped, then killed, after the sandbox made .mcp.json:
    neither the watch nor the check at exit ran; the next start does it."""
    state = box.path("state")
    os.mkdir(state)
    if box.user == "nobody":
        os.chown(state, 65534, 65534)
    data_dir(box)
    env = dict(GIT_ENV, HOME=box.work, XDG_STATE_HOME=state)
    from test_protect_deep import STOPPED_APART, stop_supervisor
    p = box.popen(["sh", "-c", ": > data/ready; while [ ! -e data/go ]; do sleep 0.05; done; "
                   "echo '{}' > .mcp.json; : > data/made; sleep 30"],
                  policy=box.policy(""), env=env, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE, text=True, **STOPPED_APART)
    try:
        for _ in range(200):
            if os.path.exists(box.path("work", "data", "ready")) or p.poll() is not None:
                break
            time.sleep(0.05)
        assert os.path.exists(box.path("work", "data", "ready")), p.communicate()
        from test_protect_deep import stop_supervisor
        stop_supervisor(p.pid)
        open(box.path("work", "data", "go"), "w").close()
        for _ in range(200):
            if os.path.exists(box.path("work", "data", "made")):
                break
            time.sleep(0.05)
        assert os.path.exists(box.path("work", "data", "made"))
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.communicate(timeout=30)
    # the sandbox's file is there: nothing ran at exit
    assert os.path.exists(box.path("work", ".mcp.json"))
    wait_unlocked(os.path.join(state, "ringfence"))
    # a start on a bad policy says its one line and does nothing else: the
    # journal waits for a start that runs
    r = box.run(["true"], policy=box.write("bad.ini", "[syscalls]\ndeny = not_a_call\n"), env=env)
    assert r.returncode == 125 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "bad.ini:2:" in r.stderr, r.stderr
    assert os.path.exists(box.path("work", ".mcp.json"))
    # the recovering start (which also removes the killed run's placeholder
    # .git) leaves the command its own stdin, no descriptor of ours
    r = box.run(["sh", "-c", "cat"], policy=box.policy(""), env=env, input="own-stdin\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "own-stdin\n", r.stdout
    if box.namespaces == "on":
        assert not os.path.exists(box.path("work", ".git"))
    assert not os.path.exists(box.path("work", ".mcp.json")), r.stderr
    assert os.path.exists(box.path("work", ".mcp.json.ringfence-blocked"))
    assert "earlier run" in r.stderr, r.stderr
    # done once: the journal is gone, the next start says nothing
    assert os.listdir(os.path.join(state, "ringfence")) == []
    r = box.run(["true"], policy=box.policy(""), env=env)
    assert "earlier run" not in r.stderr, r.stderr


def test_runs_one_after_another_in_a_project_without_git(nsbox):
    """Each run's placeholder .git is removed after it exits (by a child): a
    run started at once must not find it, take it for a repository and see
    it vanish while it sets up its view."""
    box = nsbox
    pol = box.policy("")
    script = ("i=0; while [ $i -lt 150 ]; do %s -p %s -- /bin/true || echo FAILED; "
              "i=$((i+1)); done; echo finished" % (box.ringfence, pol))
    r = subprocess.run(box.cmd(["sh", "-c", script]), cwd=box.work, env=box.env(),
                       capture_output=True, text=True, timeout=300)
    assert "finished" in r.stdout, r.stderr
    assert "FAILED" not in r.stdout, r.stderr
    assert not os.path.exists(box.path("work", ".git"))
    for _ in range(100):  # the last run's placeholder goes just after it
        left = [n for n in os.listdir(box.work) if "ringfence" in n]
        if not left:
            break
        time.sleep(0.02)
    assert left == []


def test_two_runs_in_one_project_share_the_placeholder(nsbox):
    """Two runs at once in a project without .git: the second finds the
    first's placeholder.  Were it to bind that as a directory of the host's,
    the first run's removal at exit would take the bind with it (rmdir on
    the host detaches mounts in other namespaces), and the second sandbox
    could then make the .git, with an fsmonitor, that the host's git runs."""
    box = nsbox
    pol = box.policy("")
    first = box.popen(["sleep", "1"], policy=pol, stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL)
    gitdir = box.path("work", ".git")
    for _ in range(250):
        if os.path.isdir(gitdir):
            break
        time.sleep(0.02)
    assert os.path.isdir(gitdir), "the first run made no placeholder"
    marker = box.path("work", "PWNED")
    # the second run waits for the first to end through a flag file the
    # test writes (outside the sandbox's grants: it can only read it)
    os.makedirs(box.path("flag"), exist_ok=True)
    os.chmod(box.path("flag"), 0o755)
    second = box.popen(["sh", "-c",
                        "while [ ! -e %s/first-done ]; do sleep 0.05; done; sleep 0.3; "
                        "mkdir -p .git/hooks && printf '[core]\\n\\tfsmonitor = touch %s\\n' "
                        "> .git/config && echo planted; echo second-ran"
                        % (box.path("flag"), marker)],
                       policy=box.policy("[filesystem]\nread = %s\n" % box.path("flag")),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)  # the second run is up, its sandbox set
    assert first.wait(timeout=30) == 0
    time.sleep(0.2)  # the first run's removal (a child) has happened
    open(os.path.join(box.path("flag"), "first-done"), "w").close()
    out, err = second.communicate(timeout=60)
    assert "second-ran" in out, err  # positive control: the command ran
    assert "planted" not in out, out + err
    assert not os.path.exists(os.path.join(gitdir, "config"))
    subprocess.run(["git", "status"], cwd=box.work, capture_output=True)
    assert not os.path.exists(marker)


@pytest.mark.skipif(not shutil.which("strace"), reason="needs strace (.ci/run installs it)")
@pytest.mark.parametrize("meanwhile", ["made", "made-and-gone"])
def test_a_placeholder_made_by_a_start_beside_ours_is_shared(nsbox, meanwhile):
    """A .git found absent, then made before our placeholder could be: a
    start beside ours in the same directory made its own in between (1,000
    sandboxes started at once in one directory: one refused, "cannot make
    the placeholder .git: File exists").  Shared as one found at start, or,
    gone again meanwhile, made again: the run starts, and the sandbox can
    write nothing into the .git.  The moment is made with strace on the
    supervisor alone: the mkdir(2) of the placeholder held back while the
    test makes the directory, or answered EEXIST with nothing there."""
    box = nsbox
    pol = box.policy("")
    gitdir = box.path("work", ".git")
    if meanwhile == "made":
        inject = "inject=mkdir:delay_enter=3000000:when=1"
    else:
        inject = "inject=mkdir:error=EEXIST:when=1"
    os.makedirs(box.path("strace"), exist_ok=True)
    os.chmod(box.path("strace"), 0o777)
    trace = box.path("strace", "trace")
    cmd = box.cmd(["strace", "-qq", "-o", trace, "-P", gitdir, "-e", "trace=mkdir",
                   "-e", inject, box.ringfence, "-p", pol, "--", "sh", "-c",
                   "mkdir .git/hooks 2>/dev/null && echo planted; "
                   "echo x > .git/config 2>/dev/null && echo planted; echo ran"])
    p = subprocess.Popen(cmd, cwd=box.work, env=box.env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    if meanwhile == "made":
        # the supervisor (strace's child) inside the mkdir(2) held back:
        # seen in two reads 50 ms apart (another mkdir passes at once)
        held = 0
        deadline = time.monotonic() + 20
        while held < 2 and p.poll() is None and time.monotonic() < deadline:
            try:
                with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
                    sup = f.read().split()
                with open("/proc/%s/syscall" % sup[0]) as f:
                    held = held + 1 if f.read().split()[0] == "83" else 0  # mkdir
            except (OSError, IndexError):
                held = 0
            time.sleep(0.05)
        assert not os.path.exists(gitdir)
        os.mkdir(gitdir)
        if box.user == "nobody":
            os.chown(gitdir, NOBODY, NOBODY)
    out, err = p.communicate(timeout=60)
    with open(trace) as f:
        traced = f.read()
    if box.user == "nobody" and "mkdir(" not in traced:
        # (the box's directory is beneath /tmp, private to the sandbox
        # for this user: its placeholder is made there, not on the host)
        pytest.skip("no placeholder made on the host here")
    # positive control: the moment was made
    assert ("DELAYED" if meanwhile == "made" else "INJECTED") in traced, traced
    assert p.returncode == 0 and "ran" in out, (p.returncode, out, err)  # it started
    assert "planted" not in out, out + err
    assert not os.path.exists(os.path.join(gitdir, "config"))
    assert not os.path.exists(os.path.join(gitdir, "hooks"))


@pytest.mark.skipif(not shutil.which("strace"), reason="needs strace (.ci/run installs it)")
def test_a_run_ending_never_renames_over_a_newer_runs_placeholder(nsbox):
    """A run's end renames its placeholder aside, then removes it in a child
    after it has gone; one written in meanwhile gets its name back.  That
    rename replaced whatever was at the name by then: a run started since
    had made its own placeholder there, and with it went that sandbox's
    read-only mount of it, so the .git the sandbox then saw was the old
    one, writable by it (an outside review: it wrote .git/config, HEAD,
    objects and hooks the host's git took for a repository).  The first
    run's removal is held back with strace (its unlinkat(2) delayed) while
    the second starts and writes into the directory renamed aside."""
    box = nsbox
    pol = box.policy("")
    os.makedirs(box.path("strace"), exist_ok=True)
    os.chmod(box.path("strace"), 0o777)
    first = subprocess.Popen(
        box.cmd(["strace", "-f", "-qq", "-o", box.path("strace", "trace"), "-e",
                 "trace=unlinkat", "-e", "inject=unlinkat:delay_enter=3000000",
                 box.ringfence, "-p", pol, "--", "true"]),
        cwd=box.work, env=box.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True)
    gone = []
    deadline = time.monotonic() + 20
    while not gone and first.poll() is None and time.monotonic() < deadline:
        gone = [n for n in os.listdir(box.work) if n.startswith(".git.ringfence-gone.")]
        time.sleep(0.02)
    if not gone:
        first.communicate(timeout=60)
        if box.user == "nobody":
            # (the box's directory is beneath /tmp, private to the sandbox
            # for this user: its placeholder is made there, not on the host)
            pytest.skip("no placeholder made on the host here")
        pytest.fail("the first run renamed no placeholder aside")
    second = box.popen(["sh", "-c",
                        "for d in .git.ringfence-gone.*; do echo x > $d/keep && echo wrote; done; "
                        "for i in $(seq 60); do "
                        "echo x > .git/config 2>/dev/null && { echo planted; break; }; "
                        "sleep 0.1; done; echo ran"],
                       policy=pol, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = second.communicate(timeout=60)
    _, ferr = first.communicate(timeout=60)
    assert first.returncode == 0, ferr
    # positive control: the second ran, and wrote where the first's
    # removal then failed
    assert "ran" in out and "wrote" in out, (out, err)
    assert "planted" not in out, (out, err)
    assert not os.path.exists(box.path("work", ".git", "config"))
    assert not os.path.exists(box.path("work", ".git", "config.ringfence-blocked"))


def test_a_placeholder_held_alone_by_another_refuses_the_start_in_time(nsbox):
    """An empty .git is shared as a placeholder under a shared flock(2);
    a run's removal holds it alone for a moment.  Anyone who can write the
    project can make one and hold it alone for ever: the start waited for
    ever (an outside review).  Now it refuses, after 3 s, naming it."""
    box = nsbox
    pol = box.policy("")
    gitdir = box.path("work", ".git")
    os.mkdir(gitdir)
    if box.user == "nobody":
        os.chown(gitdir, NOBODY, NOBODY)
    fd = os.open(gitdir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        start = time.monotonic()
        try:
            r = box.run(["echo", "ran"], policy=pol, timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("the start waited on the lock past 20 s")
        took = time.monotonic() - start
    finally:
        os.close(fd)
    if box.user == "nobody" and r.returncode == 0 and "ran" in r.stdout:
        # (the box's directory is beneath /tmp, private to the sandbox
        # for this user: its placeholder is made there, not on the host)
        pytest.skip("no placeholder taken on the host here")
    assert r.returncode == 125, (r.returncode, r.stdout, r.stderr)
    assert "cannot hold the placeholder" in r.stderr and ".git" in r.stderr, r.stderr
    assert took < 15, took
    # positive control: the lock let go, the same start runs
    r = box.run(["echo", "ran"], policy=pol, timeout=20)
    assert r.returncode == 0 and "ran" in r.stdout, r.stderr


def test_sandbox_cannot_forge_a_crash_journal(box):
    """Started in the home (so the default's write grant covers the
    journal directory), the sandbox writes a crash journal naming a file
    outside every grant; the next start must not act on it."""
    victim = box.path("victim")
    box.write("victim", "precious\n")
    if box.user == "nobody":
        os.chown(victim, 65534, 65534)
    env = {"HOME": box.work}
    journal = ".local/state/ringfence/run-1-deadbeef"
    r = box.run(["sh", "-c",
                 "mkdir -p ~/.local/state/ringfence; chmod 700 ~/.local/state/ringfence; "
                 "printf 'ringfence-journal 1\\0W\\0%s\\0' > ~/%s && echo forged; echo ran"
                 % (victim, journal)],
                policy=box.policy(""), env=env)
    assert "ran" in r.stdout, r.stderr  # positive control: the command ran
    if box.namespaces == "on":
        assert "forged" not in r.stdout, r.stdout  # masked
    else:
        assert "forged" in r.stdout, r.stdout  # written: the sweep is what is tested
    # without namespaces, started in the home, the directory stays writable
    # (a carve-out would leave the working directory without new entries):
    # what the sandbox made there is swept when it ends
    assert not os.path.exists(os.path.join(box.work, journal))
    time.sleep(0.05)
    with open(victim, "a") as f:  # a later change, as the host's own tools make
        f.write("edited\n")
    r = box.run(["true"], policy=box.policy(""), env=env)
    assert r.returncode == 0, r.stderr
    assert os.path.exists(victim), os.listdir(box.root)


@pytest.mark.parametrize("how", ["open-dir", "parent-renamed", "chmod-dodge"])
def test_a_crash_journal_the_sandbox_wrote_is_not_acted_on(box, how):
    """Where the journal lies said nothing of who wrote it (an outside
    review): a state directory open to others was neither masked nor
    carved out, so the sandbox wrote a journal there; a parent of a masked
    one renamed away (the mask moves with it) let the sandbox make a new
    one; without namespaces a directory made 0755 during the run dodged
    the sweep at exit.  The next start renamed the host's file the forged
    journal named, outside every grant.  Now a journal is acted on only
    when its witness in the user's keyring (which the sandbox cannot
    reach) matches it; a forged one is said and removed.  The control: the
    forged journal was written and found by the next start."""
    victim = box.path("victim")
    box.write("victim", "precious\n")
    state = os.path.join(box.work, ".local/state/ringfence")
    if how != "chmod-dodge":
        os.makedirs(state)
        os.chmod(state, 0o755 if how == "open-dir" else 0o700)
    if box.user == "nobody":
        subprocess.run(["chown", "-R", "65534:65534", victim] +
                       ([box.path("work", ".local")] if how != "chmod-dodge" else []),
                       check=True)
    env = {"HOME": box.work}
    forge = ("d=~/.local/state/ringfence; mkdir -p $d && chmod 700 $d && "
             "printf 'ringfence-journal 1\\0W\\0%s\\0' > $d/run-1-deadbeef && echo forged"
             % victim)
    if how == "parent-renamed":
        forge = "mv ~/.local ~/.local.away && " + forge
    if how == "chmod-dodge":
        forge += " && chmod 755 $d"
    r = box.run(["sh", "-c", forge + "; echo ran"], policy=box.policy(""), env=env)
    assert "ran" in r.stdout, r.stderr
    if box.namespaces == "off" or how != "chmod-dodge":
        assert "forged" in r.stdout, r.stdout + r.stderr
    if not os.path.exists(os.path.join(state, "run-1-deadbeef")):
        return  # swept at exit (the chmod dodge with namespaces: masked)
    time.sleep(0.05)
    with open(victim, "a") as f:  # a later change, as the host's own tools make
        f.write("edited\n")
    # the next start, elsewhere, with the directory as it finds it (a
    # start that trusts it; the open one made private again by hand)
    os.chmod(state, 0o700)
    r = box.run(["true"], policy=box.policy(""), env=env, cwd=box.path("bin"))
    assert r.returncode == 0, r.stderr
    assert "no crash journal a supervisor wrote" in r.stderr, r.stderr
    assert os.path.exists(victim), os.listdir(box.root)
    assert not os.path.exists(os.path.join(state, "run-1-deadbeef"))


def test_a_crash_journal_changed_through_a_mapping_is_not_acted_on(box):
    """A review of the witness's first form (device, inode, size, change
    time): on tmpfs a write through a shared mapping of a page already
    mapped writable changes no time, so a killed run's journal rewritten
    so (by a sandbox whose grant holds the state directory) kept its
    witness, and the next start renamed the file it named.  The witness
    holds a keyed hash of the content now.  The control: the killed run
    left its journal, and the rewrite kept its change time."""
    state = tempfile.mkdtemp(prefix="rf-state-", dir="/dev/shm")
    try:
        if box.user == "nobody":
            os.chown(state, 65534, 65534)
        victim = box.path("victim")
        box.write("victim", "precious\n")
        env = dict(GIT_ENV, HOME=box.work, XDG_STATE_HOME=state)
        from test_protect_deep import STOPPED_APART
        p = box.popen(["sh", "-c", ": > ready; sleep 30"], policy=box.policy(""), env=env,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                      **STOPPED_APART)
        for _ in range(200):
            if os.path.exists(box.path("work", "ready")) or p.poll() is not None:
                break
            time.sleep(0.05)
        os.kill(p.pid, signal.SIGKILL)
        p.communicate(timeout=30)
        jdir = os.path.join(state, "ringfence")
        wait_unlocked(jdir)
        names = [n for n in os.listdir(jdir) if n.startswith("run-")]
        assert len(names) == 1, os.listdir(jdir)
        path = os.path.join(jdir, names[0])
        before = os.stat(path).st_ctime_ns
        with open(path, "r+b") as f:
            m = mmap.mmap(f.fileno(), 0)
            old = m[:]  # read first: the page is mapped writable then
            body = b"ringfence-journal 1\0W\0" + victim.encode() + b"\0"
            m[:] = body.ljust(len(old), b"\0")
            m.close()
        assert os.stat(path).st_ctime_ns == before
        time.sleep(0.05)
        with open(victim, "a") as f:
            f.write("edited\n")
        r = box.run(["true"], policy=box.policy(""), env=env, cwd=box.path("bin"))
        assert r.returncode == 0, r.stderr
        assert "no crash journal a supervisor wrote" in r.stderr, r.stderr
        assert os.path.exists(victim), r.stderr
    finally:
        shutil.rmtree(state, ignore_errors=True)


def test_a_policy_letting_the_command_at_the_keyring_is_said(box):
    """The journals' witnesses are keys in the user's keyring, which
    seccomp keeps from the command; a policy that allows add_key or keyctl
    (allow_dangerous) let its command forge one (an outside review): said,
    and that run writes none.  The control: the run ran."""
    r = box.run(["sh", "-c", "echo ran"], env={"HOME": box.work},
                policy=box.policy("[syscalls]\nallow = keyctl\nallow_dangerous = yes\n"))
    assert "ran" in r.stdout, r.stderr
    assert "allow = keyctl: the command may make and change keys" in r.stderr, r.stderr


# as the box's user: its keyring filled to the quota with witnesses of
# runs whose supervisor is gone (pid 4194304 is past any pid_max), then
# emptied of them again
FILL_KEYRING = r"""
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_add_key, SYS_keyctl, USER_KEYRING = 248, 250, -4
# in ringfence's own keyring, where witnesses are (one in the user keyring
# itself would keep 4 bytes of the quota for as long as that lives)
ring = libc.syscall(SYS_add_key, b"keyring", b"ringfence:journals", None, 0, USER_KEYRING)
n, i = 0, 0
while i < 1000 and ring >= 0:
    desc = b"ringfence:journal:run-4194304-%08x" % i
    data = b"1 2 " + b"0" * 32 + b" 0000000000000000"
    k = libc.syscall(SYS_add_key, b"user", desc, data, len(data), ring)
    if k < 0:
        break
    n, i = n + 1, i + 1
print("filled", n, os.strerror(ctypes.get_errno()))
"""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86_64 syscall numbers")
def test_witnesses_nobody_recovers_do_not_use_up_the_keyring(box):
    """A journal nobody recovers (its state directory removed) left its
    witness in the user's keyring, and an unprivileged user's keys are
    20,000 bytes at most: past ~30 of them no run of that user had a crash
    journal (this suite's own killed runs did it; FAILS on f066710: "no
    witness ... Disk quota exceeded").  The witnesses of runs whose
    supervisor is gone are given up when the quota is reached.  As root the
    quota is 25 MB: not filled here."""
    if box.user != "nobody":
        pytest.skip("root's key quota is not filled in a test")
    state = box.path("state")
    os.mkdir(state)
    os.chown(state, 65534, 65534)
    f = subprocess.run(box.cmd(["/usr/bin/python3", "-c", FILL_KEYRING]), capture_output=True,
                       text=True)
    assert "filled" in f.stdout and "quota" in f.stdout, f.stdout + f.stderr
    r = box.run(["sh", "-c", "echo ran"], opts=("-v",),
                env={"HOME": box.work, "XDG_STATE_HOME": state})
    assert "ran" in r.stdout, r.stderr
    assert "no witness" not in r.stderr, r.stderr
    assert "no crash journal" not in r.stderr, r.stderr


def key_bytes(uid):
    """The key quota bytes UID uses (/proc/key-users), 0 before its first."""
    for line in open("/proc/key-users"):
        f = line.split()
        if f[0] == "%d:" % uid:
            return int(f[4].split("/")[0])
    return 0


@pytest.mark.skipif(os.geteuid() != 0, reason="runs as a user of its own")
def test_runs_one_after_another_leave_nothing_of_the_key_quota():
    """The kernel keeps 4 bytes of a keyring's owner's quota for each link
    ever made in it, until the keyring goes: witnesses put in the user
    keyring itself left 4 bytes per run for as long as it lived, and after
    ~5,000 runs of one unprivileged user (20,000 bytes; this suite's runs as
    nobody did it) no run of that user had a crash journal (FAILS on
    e16fe74: +160 bytes).  They go into a keyring of ringfence's own, replaced
    when it holds none.  A user of the test's own, whose keyring nothing else
    touches meanwhile."""
    uid = 40000 + os.getpid() % 20000
    # (not pytest's tmp_path: its parents are closed to other users)
    top = tempfile.mkdtemp(prefix="rf-keys-")
    try:
        os.chmod(top, 0o755)
        key_quota_runs(uid, top)
    finally:
        shutil.rmtree(top, ignore_errors=True)


def key_quota_runs(uid, top):
    home, proj = os.path.join(top, "home"), os.path.join(top, "proj")
    for d in (home, proj, os.path.join(home, "state")):
        os.mkdir(d)
        os.chown(d, uid, uid)
    run = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups", RINGFENCE,
           "-v", "--", "true"]
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "XDG_STATE_HOME": os.path.join(home, "state")}
    r = subprocess.run(run, cwd=proj, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "no crash journal" not in r.stderr, r.stderr
    time.sleep(0.5)
    before = key_bytes(uid)
    for _ in range(40):
        r = subprocess.run(run, cwd=proj, env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
    time.sleep(0.5)  # the kernel's collector takes the replaced keyrings
    assert key_bytes(uid) - before < 80, (before, key_bytes(uid))


def test_config_written_through_a_mapping_is_found_during_the_run(box):
    """A repository made during the run, its config clean when its events
    come, then rewritten through a shared mapping whose descriptor was
    closed first (no inotify event at all): a host git a second later,
    while the sandbox still runs, must not obey it."""
    script, mark = planted(box)
    # the sandbox goes on once remap has written (it says so), and the
    # host's git looks after the repositories were read again ten times
    # (every 25 ms here: RINGFENCE_TEST_REREAD_MS, 250 ms unless set)
    plant = ("git init -q sub && git -C sub config user.name %s && "
             "{ %s sub/.git/config '[core]\n\tfsmonitor = %s\n' > data/remap.out & } && "
             "i=0; while ! grep -q remapped data/remap.out && [ $i -lt 200 ]; do "
             "sleep 0.05; i=$((i+1)); done; cat data/remap.out"
             % ("x" * 200, box.path("bin", "remap"), script))
    r, h = during_run(box, plant, env={"RINGFENCE_TEST_REREAD_MS": "25"},
                      host_side=["sh", "-c", "sleep 0.25; cd sub && git status"])
    assert "remapped" in r.stdout, r.stdout + r.stderr  # the control: it was written
    assert not os.path.exists(mark), h.stdout + h.stderr


@pytest.mark.parametrize("value", ["", "9", "251", "25ms", "-25", " 25", "1e2"])
def test_bad_reread_test_hook_refuses_to_start(rootbox, value):
    """RINGFENCE_TEST_REREAD_MS (a test hook: doc/design.md) takes whole
    milliseconds from 10 to 250 only, shorter than the 250 ms it replaces:
    anything else is one line, exit 125, the command never run."""
    r = rootbox.run(["touch", "ran"], policy=rootbox.policy(""),
                    env={"RINGFENCE_TEST_REREAD_MS": value})
    assert r.returncode == 125, r.stderr
    assert r.stderr.strip() == ("ringfence: RINGFENCE_TEST_REREAD_MS: '%s' is not a number "
                                "of milliseconds from 10 to 250" % value), r.stderr
    assert not os.path.exists(rootbox.path("work", "ran"))
    # the control: a value in the range runs
    r = rootbox.run(["touch", "ran"], policy=rootbox.policy(""),
                    env={"RINGFENCE_TEST_REREAD_MS": "10"})
    assert r.returncode == 0 and os.path.exists(rootbox.path("work", "ran")), r.stderr
