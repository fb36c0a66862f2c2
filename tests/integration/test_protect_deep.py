# SPDX-License-Identifier: MIT
"""Repositories the walk at start does not reach: deeper than it looks, bare
ones not named NAME.git, and those made during the run in directories that
existed at start.  Whatever the sandbox wrote there that a host git runs
(hooks, core.fsmonitor and the other configuration keys) is moved aside when
the sandbox has ended.  The host side is the host's own git, run after the
sandbox as the same user, with a planted command that would leave a mark."""
import os
import signal
import subprocess
import time

from test_protect import GIT_ENV, data_dir, host, make_repo, planted


def owned(box, *rels):
    """Directories in the project the box's user may write."""
    for rel in rels:
        os.makedirs(box.path("work", rel), exist_ok=True)
    if box.user == "nobody":
        subprocess.run(["chown", "-R", "65534:65534", box.work], check=True)


def host_repo(box, rel, bare=False):
    """A repository made by the host before the run, with a hook of its own
    (a positive control: it must stay, and run)."""
    owned(box, rel)
    d = box.path("work", rel)
    r = host(box, ["sh", "-c", "git init -q %s . && %s" % (
        "--bare" if bare else "",
        "true" if bare else "git commit -q --allow-empty -m i")], cwd=d)
    assert r.returncode == 0, r.stderr
    hooks = os.path.join(d, "hooks" if bare else ".git/hooks")
    mark = box.path("hosthome", "HOSTHOOK")
    with open(os.path.join(hooks, "post-commit" if not bare else "post-update"), "w") as f:
        f.write("#!/bin/sh\ntouch %s\n" % mark)
    os.chmod(os.path.join(hooks, "post-commit" if not bare else "post-update"), 0o755)
    if box.user == "nobody":
        subprocess.run(["chown", "-R", "65534:65534", d], check=True)
    # a change in the clock tick the run starts in counts as the run's
    # (the start is read from the coarse clock the file times come from)
    time.sleep(0.05)
    return mark


def clone_outside(box):
    """The host's own clone, outside every grant, to push from."""
    clone = box.path("hostclone")
    os.mkdir(clone)
    if box.user == "nobody":
        os.chown(clone, 65534, 65534)
    r = host(box, ["sh", "-c", "git init -q . && git commit -q --allow-empty -m i"], cwd=clone)
    assert r.returncode == 0, r.stderr
    return clone


def test_deep_repository_keeps_no_planted_hook_or_config(box):
    """A repository three levels down (deeper than the walk at start): the
    sandbox plants a hook and core.fsmonitor, and a commondir sending
    another to a repository whose config it wrote; the host's `git status`
    and `git commit` there afterwards would run them."""
    data_dir(box)
    hostmark = host_repo(box, "a/b/x/c")
    host_repo(box, "a/b/x/d")
    host_repo(box, "a/b/x/e")
    script, mark = planted(box)
    plant = ("cp %s a/b/x/c/.git/hooks/pre-commit && git -C a/b/x/c config core.fsmonitor %s && "
             "git -C a/b/x/c config user.name t && "
             "mkdir data/evil && git init -q --bare data/evil/x && "
             "git --git-dir=data/evil/x config core.fsmonitor %s && "
             "echo $PWD/data/evil/x > a/b/x/d/.git/commondir && "
             "git -C a/b/x/e remote add origin %s && "
             "echo x > a/b/x/c/file && echo planted" % (script, script, script, box.path("up")))
    r = box.run(["sh", "-c", plant], policy=box.policy(""), env=dict(GIT_ENV, HOME=box.work))
    # positive control: the sandbox could write there, and did
    assert "planted" in r.stdout, r.stderr
    h = host(box, ["sh", "-c", "cd a/b/x/c && git status --short && git add file && "
                   "git commit -q -m host && cd ../d && git status --short"])
    assert h.returncode == 0, h.stderr
    assert not os.path.exists(mark), h.stdout + h.stderr
    assert "a/b/x/c/.git/config" in r.stderr and "ringfence-blocked" in r.stderr, r.stderr
    assert "a/b/x/d/.git/commondir" in r.stderr, r.stderr
    # the host's own hook, there before the run, is kept and runs
    assert os.path.exists(hostmark), h.stderr
    # a change that sets only what a clone writes (a remote) is kept
    assert "origin" in open(box.path("work", "a/b/x/e/.git/config")).read()
    assert "a/b/x/e" not in r.stderr, r.stderr


def test_chain_of_directories_does_not_end_the_walk(box):
    """Directories nested deeper than the walk goes, made to be walked
    first: said, and the repositories beside them are still checked."""
    data_dir(box)
    host_repo(box, "z/y/w/x")
    script, mark = planted(box)
    chain = "/".join(["d"] * 140)
    plant = ("mkdir -p 0/%s && git init -q 0/%s/r && cp %s 0/%s/r/.git/hooks/pre-commit && "
             "cp %s z/y/w/x/.git/hooks/pre-commit && echo planted"
             % (chain, chain, script, chain, script))
    r = box.run(["sh", "-c", plant], policy=box.policy(""), env=dict(GIT_ENV, HOME=box.work))
    assert "planted" in r.stdout, r.stderr
    assert "NOT checked" in r.stderr, r.stderr
    h = host(box, ["sh", "-c", "cd z/y/w/x && git commit -q --allow-empty -m host"])
    assert h.returncode == 0, h.stderr
    assert not os.path.exists(mark), h.stdout + h.stderr


def test_repository_made_during_the_run_in_a_deep_directory(box):
    """`git init` in a directory that existed at start, deeper than the walk
    at start and so not watched while the sandbox runs."""
    owned(box, "p/q/r")
    data_dir(box)
    script, mark = planted(box)
    plant = ("export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x GIT_COMMITTER_NAME=t "
             "GIT_COMMITTER_EMAIL=t@x; git init -q p/q/r/x && "
             "git -C p/q/r/x config core.fsmonitor %s && "
             "git init -q p/q/r/y && cp %s p/q/r/y/.git/hooks/post-commit && "
             "git init -q p/q/r/plain && git -C p/q/r/plain commit -q --allow-empty -m p && "
             "echo planted" % (script, script))
    r = box.run(["sh", "-c", plant], policy=box.policy(""), env=dict(GIT_ENV, HOME=box.work))
    assert "planted" in r.stdout, r.stderr
    h = host(box, ["sh", "-c", "cd p/q/r/x && git status; cd ../y && "
                   "git commit -q --allow-empty -m host; true"])
    assert not os.path.exists(mark), h.stdout + h.stderr
    # positive control: a repository that sets nothing to run is left whole
    assert os.path.isfile(box.path("work", "p/q/r/plain/.git/config"))
    assert os.path.isdir(box.path("work", "p/q/r/plain/.git/objects"))
    # and the host's git does obey what is set there afterwards
    host(box, ["sh", "-c", "git -C p/q/r/plain config core.fsmonitor %s && "
               "git -C p/q/r/plain status" % script])
    assert os.path.exists(mark)


def test_bare_repository_without_git_suffix(box):
    """`git init --bare remote` (no .git in its name), made during the run and
    made by the host before it: a host `git push` into it runs its hooks."""
    data_dir(box)
    hostmark = host_repo(box, "old", bare=True)
    clone = clone_outside(box)
    script, mark = planted(box)
    plant = ("git init -q --bare fresh && cp %s fresh/hooks/post-receive && "
             "cp %s old/hooks/pre-receive && git --git-dir=old config core.fsmonitor %s && "
             "echo planted" % (script, script, script))
    r = box.run(["sh", "-c", plant], policy=box.policy(""), env=dict(GIT_ENV, HOME=box.work))
    assert "planted" in r.stdout, r.stderr
    h = host(box, ["sh", "-c", "git -C %s push -q %s HEAD:refs/heads/m; "
                   "git -C %s push -q %s HEAD:refs/heads/m; cd %s && git status; true"
                   % (clone, box.path("work", "fresh"), clone, box.path("work", "old"),
                      box.path("work", "old"))])
    assert not os.path.exists(mark), h.stdout + h.stderr
    # positive control: the push into the old one went through, and ran the
    # host's own hook
    assert os.path.exists(hostmark), h.stderr
    r2 = host(box, ["git", "--git-dir", box.path("work", "old"), "rev-parse", "m"])
    assert r2.returncode == 0, r2.stderr


def other_grant_repo(box):
    """A write grant beside the project, with a host repository two levels
    down in it (c1/c2/r); the grant's path."""
    other = box.path("other")
    os.makedirs(os.path.join(other, "c1", "c2"))
    if box.user == "nobody":
        subprocess.run(["chown", "-R", "65534:65534", other], check=True)
    r = host(box, ["sh", "-c", "git init -q c1/c2/r && git -C c1/c2/r commit -q --allow-empty "
                   "-m i"], cwd=other)
    assert r.returncode == 0, r.stderr
    return other


def test_repository_in_a_grant_that_is_not_the_project(box):
    """A write grant beside the project (a cache where tools clone): a
    repository there, deeper than the walk at start would look."""
    other = other_grant_repo(box)
    script, mark = planted(box)
    pol = box.policy("[filesystem]\nwrite = %s\n" % other)
    r = box.run(["sh", "-c", "cd %s/c1/c2/r && cp %s .git/hooks/post-checkout && "
                 "git config core.hooksPath .git/hooks && echo planted" % (other, script)],
                policy=pol, env=dict(GIT_ENV, HOME=box.work))
    assert "planted" in r.stdout, r.stderr
    h = host(box, ["sh", "-c", "git checkout -q -b b2"], cwd=os.path.join(other, "c1/c2/r"))
    assert h.returncode == 0, h.stderr
    assert not os.path.exists(mark), h.stdout + h.stderr


def wait_for(path, p, timeout=10.0):
    end = time.monotonic() + timeout
    while not os.path.exists(path) and p.poll() is None and time.monotonic() < end:
        time.sleep(0.01)
    assert os.path.exists(path), path


def stat_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def stop_supervisor(pid):
    """SIGSTOP to the supervisor PID, standing for one killed before it
    could act: waited for until it is stopped (the signal takes effect back
    in user space: a fork of its walk under way completes first, and a
    count of its children made at once would miss that child), then until
    its walk has ended.

    The supervisor must run in a session of its own (STOPPED_APART): the
    kernel sends SIGHUP and SIGCONT to a process group that becomes
    orphaned while one of its members is stopped, and a run without a PID
    namespace puts its command in its caller's group with a parent (init)
    outside it, so the command's exit in another test of the same pytest
    process group re-orphaned a group that was orphaned before (a CI
    runner's session), resumed this supervisor, and hung up the rest."""
    os.kill(pid, signal.SIGSTOP)
    end = time.monotonic() + 10
    while stat_state(pid) != "T" and time.monotonic() < end:
        time.sleep(0.01)
    assert stat_state(pid) == "T", "the supervisor did not stop"
    while children(pid) > 1 and time.monotonic() < end:
        time.sleep(0.01)
    assert children(pid) == 1, "the walk did not end"


# what Popen needs for stop_supervisor(), above
STOPPED_APART = {"start_new_session": True}


def killed_run_env(box):
    """A state directory for crash journals and the project's data/, the
    box's user's: the environment a run then keeps its journal by, data/
    and the state directory."""
    from conftest import NOBODY
    state = box.path("state")
    os.mkdir(state)
    data = os.path.join(box.work, "data")
    os.mkdir(data)
    if box.user == "nobody":
        os.chown(state, NOBODY, NOBODY)
        os.chown(data, NOBODY, NOBODY)
    return {"HOME": box.work, "XDG_STATE_HOME": state}, data, state


def stopped_then_killed(box, script, env, after_stop=None, made=None):
    """SCRIPT run by the box's ringfence (its working directory holds
    data/, where SCRIPT says data/ready first): the supervisor stopped
    (stop_supervisor), AFTER_STOP called, data/MADE waited for when
    named, then the supervisor killed: a run that ended without its
    checks at exit."""
    data = os.path.join(box.work, "data")
    p = box.popen(["sh", "-c", script], policy=box.policy(""), env=env,
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                  **STOPPED_APART)
    try:
        for _ in range(200):
            if os.path.exists(os.path.join(data, "ready")) or p.poll() is not None:
                break
            time.sleep(0.05)
        assert os.path.exists(os.path.join(data, "ready")), p.communicate()
        stop_supervisor(p.pid)
        if after_stop:
            after_stop()
        for _ in range(200 if made else 0):
            if os.path.exists(os.path.join(data, made)):
                break
            time.sleep(0.05)
        assert not made or os.path.exists(os.path.join(data, made))
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.communicate(timeout=30)


def children(pid):
    """How many children the process PID has running (init, and a walk of
    ours); one that has ended but is not reaped (its parent is stopped)
    does not count."""
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        kids = f.read().split()
    running = 0
    for k in kids:
        try:
            with open("/proc/%s/stat" % k) as f:
                running += f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            pass
    return running


def test_killed_run_is_walked_by_the_next_start(box):
    """The supervisor killed after the sandbox planted a hook three levels
    down: no check at exit ran; the next start walks the grant (the crash
    journal) and moves the hook aside before the host's git runs it."""
    from test_protect_live import wait_unlocked
    state = box.path("state")
    os.mkdir(state)
    if box.user == "nobody":
        os.chown(state, 65534, 65534)
    data_dir(box)
    hostmark = host_repo(box, "a/b/x/c")
    script, mark = planted(box)
    env = dict(GIT_ENV, HOME=box.work, XDG_STATE_HOME=state)
    hook = box.path("work", "a/b/x/c/.git/hooks/pre-commit")
    p = box.popen(["sh", "-c", ": > data/ready; while [ ! -e data/go ]; do sleep 0.02; done; "
                   # made executable by open's mode: a chmod (cp's) would wait for
                   # the stopped supervisor without namespaces (the attribute gate)
                   "python3 -c \"import os, sys; os.write(os.open(sys.argv[2], "
                   "os.O_WRONLY | os.O_CREAT, 0o755), open(sys.argv[1], 'rb').read())\" "
                   "%s a/b/x/c/.git/hooks/pre-commit && : > data/made; sleep 30" % script], policy=box.policy(""), env=env, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE, text=True, **STOPPED_APART)
    try:
        wait_for(box.path("work", "data", "ready"), p)
        # the supervisor stopped, and its walk while the sandbox runs ended,
        # before the hook is planted: it stands for one killed before it
        # could move it (the watches and walks see it at once otherwise)
        stop_supervisor(p.pid)
        open(box.path("work", "data", "go"), "w").close()
        wait_for(box.path("work", "data", "made"), p)
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.communicate(timeout=30)
    assert os.path.exists(hook)  # nothing ran at exit
    wait_unlocked(os.path.join(state, "ringfence"))
    r = box.run(["true"], policy=box.policy(""), env=env)
    assert r.returncode == 0, r.stderr
    assert "earlier run" in r.stderr, r.stderr
    assert not os.path.exists(hook), r.stderr
    h = host(box, ["sh", "-c", "cd a/b/x/c && git commit -q --allow-empty -m host"])
    assert h.returncode == 0, h.stderr
    assert not os.path.exists(mark), h.stdout + h.stderr
    assert os.path.exists(hostmark), h.stderr  # the host's own hook ran


def test_hooks_path_and_includes_the_config_points_at(box):
    """A repository deeper than the walk at start whose config names a hooks
    directory and included files in its worktree (`core.hooksPath =
    .githooks`, an `include.path` kept in the repository): the sandbox
    writes a hook there and the included files; the host's commit would run
    them.  (The project's own are read-only from the start: the next test.)"""
    data_dir(box)
    hostmark = host_repo(box, "a/b/x/c")
    d = box.path("work", "a/b/x/c")
    script, mark = planted(box)
    os.makedirs(os.path.join(d, ".githooks"))
    box.write("work/a/b/x/c/.githooks/post-commit", "#!/bin/sh\ntouch %s.2\n" % hostmark,
              mode=0o755)
    box.write("work/a/b/x/c/shared.gitconfig", "[user]\n\tname = t\n")
    r = host(box, ["sh", "-c", "git config core.hooksPath .githooks && "
                   "git config include.path ../shared.gitconfig && "
                   "git config --add includeIf.gitdir:/.path ../local.gitconfig"], cwd=d)
    assert r.returncode == 0, r.stderr
    if box.user == "nobody":
        subprocess.run(["chown", "-R", "65534:65534", box.work], check=True)
    time.sleep(0.05)
    plant = ("cd a/b/x/c && cp %s .githooks/pre-commit && "
             "printf '[core]\\n\\tfsmonitor = %s\\n' > shared.gitconfig && "
             "printf '[core]\\n\\tfsmonitor = %s\\n' > local.gitconfig && "
             "echo planted" % (script, script, script))
    r = box.run(["sh", "-c", plant], policy=box.policy(""), env=dict(GIT_ENV, HOME=box.work))
    assert "planted" in r.stdout, r.stderr
    h = host(box, ["sh", "-c", "git status --short; git commit -q --allow-empty -m host"],
             cwd=d)
    assert h.returncode == 0, h.stderr
    assert not os.path.exists(mark), h.stdout + h.stderr
    for n in (".githooks/pre-commit", "shared.gitconfig", "local.gitconfig"):
        assert "a/b/x/c/" + n in r.stderr, (n, r.stderr)
    # the host's own hook there, unchanged, is kept and runs
    assert os.path.exists(hostmark + ".2"), h.stderr


def test_hooks_path_and_includes_are_read_only_during_the_run(box):
    """The same, with the host's git run while the sandbox still runs (an
    editor's): the hooks path and the included file are protected from
    the start, as .git/hooks and .git/config are; an absent hooks path
    made during the run is moved aside at once."""
    from test_protect import during_run
    make_repo(box)
    script, mark = planted(box)
    os.makedirs(box.path("work", ".githooks"))
    box.write("work/shared.gitconfig", "[user]\n\tname = t\n")
    r = host(box, ["sh", "-c", "git config core.hooksPath .githooks && "
                   "git config include.path ../shared.gitconfig"])
    assert r.returncode == 0, r.stderr
    os.makedirs(box.path("other"))
    if box.user == "nobody":
        os.chown(box.path("other"), 65534, 65534)
    r = host(box, ["sh", "-c", "git init -q && git commit -q --allow-empty -m i && "
                   "git config core.hooksPath hooks-absent"], cwd=box.path("other"))
    assert r.returncode == 0, r.stderr
    if box.user == "nobody":
        subprocess.run(["chown", "-R", "65534:65534", box.work, box.path("other")], check=True)
    time.sleep(0.05)
    plant = ("cp %s .githooks/pre-commit; "
             "printf '[core]\\n\\tfsmonitor = %s\\n' > shared.gitconfig; "
             "mkdir %s/hooks-absent; cp %s %s/hooks-absent/pre-commit; "
             "echo x > data/x && echo planted"
             % (script, script, box.path("other"), script, box.path("other")))
    pol = box.policy("[filesystem]\nwrite = %s\n" % box.path("other"))
    r, h = during_run(box, plant, pol=pol, host_side=[
        "sh", "-c", "git status --short; git commit -q --allow-empty -m host; "
        "cd %s && git commit -q --allow-empty -m host" % box.path("other")])
    assert "planted" in r.stdout, r.stderr  # the control: the sandbox ran and wrote
    assert not os.path.exists(mark), h.stdout + h.stderr
    assert open(box.path("work", "shared.gitconfig")).read() == "[user]\n\tname = t\n"


def test_host_change_to_a_protected_hooks_path_is_kept(box):
    """The host edits its own hook in the project's hooks path while the
    sandbox runs: read-only inside since the start, so the change is the
    host's, and the walk at exit leaves it."""
    from test_protect import during_run
    make_repo(box)
    os.makedirs(box.path("work", ".githooks"))
    hostmark = box.path("hosthome", "HOSTHOOK")
    r = host(box, ["git", "config", "core.hooksPath", ".githooks"])
    assert r.returncode == 0, r.stderr
    if box.user == "nobody":
        subprocess.run(["chown", "-R", "65534:65534", box.work], check=True)
    hook = box.path("work", ".githooks", "post-commit")
    side = ["sh", "-c", "printf '#!/bin/sh\\ntouch %s\\n' > %s && chmod +x %s"
            % (hostmark, hook, hook)]
    r, h = during_run(box, "echo x > data/x && echo planted", host_side=side)
    assert h.returncode == 0, h.stderr
    assert "planted" in r.stdout, r.stderr
    assert os.path.exists(hook), r.stderr
    assert ".githooks" not in r.stderr, r.stderr
    h = host(box, ["git", "commit", "-q", "--allow-empty", "-m", "host"])
    assert h.returncode == 0, h.stderr
    assert os.path.exists(hostmark)


def test_bare_repository_whose_objects_and_refs_are_links(box):
    """git takes a directory for a repository when HEAD is there and objects
    and refs can be entered, links or not: a bare repository made of links
    to another's objects and refs, with a hook of its own."""
    data_dir(box)
    clone = clone_outside(box)
    script, mark = planted(box)
    plant = ("git init -q --bare real && mkdir fake fake/hooks && "
             "ln -s ../real/objects fake/objects && ln -s ../real/refs fake/refs && "
             "cp real/HEAD fake/HEAD && printf '[core]\\n\\tbare = true\\n' > fake/config && "
             "cp %s fake/hooks/post-receive && echo planted" % script)
    r = box.run(["sh", "-c", plant], policy=box.policy(""), env=dict(GIT_ENV, HOME=box.work))
    assert "planted" in r.stdout, r.stderr
    h = host(box, ["git", "-C", clone, "push", "-q", box.path("work", "fake"),
                   "HEAD:refs/heads/m"])
    # positive control: git took it for a repository and the push went in;
    # or the end moved its links aside (a link the run made in a git
    # directory: a host git writes through one, into a protected file
    # beside it as well as out of the grants), and it is no repository
    # any more
    moved = "fake/refs (a symbolic link in a git directory" in r.stderr
    assert h.returncode == 0 or moved, h.stderr + r.stderr
    assert not os.path.exists(mark), h.stdout + h.stderr


def test_directory_made_unreadable_is_checked(box):
    """git enters a directory it cannot list (mode 0311) by name; a walk
    cannot list it: the sandbox hides a repository so, and its .git too."""
    data_dir(box)
    owned(box, "x/y/w")
    script, mark = planted(box)
    plant = ("git init -q x/y/w/z/r && cp %s x/y/w/z/r/.git/hooks/pre-commit && "
             "chmod 311 x/y/w/z/r/.git x/y/w x/y/w/z && echo planted" % script)
    r = box.run(["sh", "-c", plant], policy=box.policy(""), env=dict(GIT_ENV, HOME=box.work))
    assert "planted" in r.stdout, r.stderr
    h = host(box, ["sh", "-c", "cd x/y/w/z/r && git commit -q --allow-empty -m host"])
    # positive control: the host's git works in it
    assert h.returncode == 0, h.stderr
    assert not os.path.exists(mark), h.stdout + h.stderr


# ---- while the sandbox runs ------------------------------------------------
# The same repositories, with a host git run while the sandbox still runs (an
# editor's, the user's own agent's): what the sandbox wrote there is moved
# aside at once, whether it wrote before the walk of ours found the
# repository (the walk moves it) or after (the watch does).

def gone(path, timeout=10.0):
    """Waits for PATH to be moved away; whether it was."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not os.path.lexists(path):
            return True
        time.sleep(0.02)
    return False


def in_steps(box, steps, pol=None, step_timeout=30):
    """STEPS (shell snippets) run in one sandbox, one at a time: each ends
    with data/stepN made, then waits for data/goN from the host.  Yields
    between steps (the host side runs there), then the result."""
    if not os.path.isdir(box.path("work", "data")):
        data_dir(box)
    parts = ["export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x GIT_COMMITTER_NAME=t "
             "GIT_COMMITTER_EMAIL=t@x"]
    for i, s in enumerate(steps):
        parts.append("%s; touch data/step%d; i=0; while [ ! -e data/go%d ] && [ $i -lt 600 ]; "
                     "do sleep 0.05; i=$((i+1)); done" % (s, i, i))
    parts.append("echo sandbox-done")
    p = box.popen(["sh", "-c", "; ".join(parts)], policy=pol or box.policy(""),
                  env=dict(GIT_ENV, HOME=box.work), stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE, text=True)
    try:
        for i in range(len(steps)):
            step = box.path("work", "data", "step%d" % i)
            end = time.monotonic() + step_timeout
            while not os.path.exists(step) and p.poll() is None and time.monotonic() < end:
                time.sleep(0.02)
            assert os.path.exists(step), "the sandbox never got to step %d" % i
            yield i
            open(box.path("work", "data", "go%d" % i), "w").close()
    finally:
        for i in range(len(steps)):
            open(box.path("work", "data", "go%d" % i), "w").close()
        out, err = p.communicate(timeout=60)
    r = subprocess.CompletedProcess(p.args, p.returncode, out, err)
    assert "sandbox-done" in r.stdout, r.stdout + r.stderr
    yield r


def test_deep_repository_is_guarded_while_the_sandbox_runs(box):
    """Three levels down, beyond the walk at start: a hook and core.fsmonitor
    planted at once, then (once the repository is watched) another hook,
    then its .git replaced by a new one with a hook: after each, a host
    `git status` and `git commit` there while the sandbox runs."""
    hostmark = host_repo(box, "a/b/x/c")
    script, mark = planted(box)
    hook = box.path("work", "a/b/x/c/.git/hooks/pre-commit")
    steps = ["cp %s a/b/x/c/.git/hooks/pre-commit && git -C a/b/x/c config core.fsmonitor %s && "
             "echo planted1" % (script, script),
             "cp %s a/b/x/c/.git/hooks/post-commit && echo planted2" % script,
             "mv a/b/x/c/.git data/old.git && git init -q a/b/x/c && "
             "cp %s a/b/x/c/.git/hooks/pre-commit && echo planted3" % script]
    run = in_steps(box, steps)
    for i in run:
        if not isinstance(i, int):
            r = i
            break
        name = {0: "pre-commit", 1: "post-commit", 2: "pre-commit"}[i]
        assert gone(box.path("work", "a/b/x/c/.git/hooks", name)), "step %d: still there" % i
        if i == 0:
            # moved aside in its own event, maybe just after the hook's
            assert gone(box.path("work", "a/b/x/c/.git/config")), "step 0: the config is there"
        h = host(box, ["sh", "-c", "cd a/b/x/c && git status --short; "
                       "git commit -q --allow-empty -m host%d; true" % i])
        assert not os.path.exists(mark), (i, h.stdout + h.stderr)
    # positive control: the sandbox wrote each one
    for n in (1, 2, 3):
        assert "planted%d" % n in r.stdout, r.stdout + r.stderr
    assert os.path.exists(hook + ".ringfence-blocked") or not os.path.exists(hook)
    # the host's own hook, there before the run, was kept and ran
    assert os.path.exists(hostmark), r.stderr


def test_bare_repository_by_any_name_is_guarded_while_the_sandbox_runs(box):
    """`git init --bare remote` made by the host before the run: a hook the
    sandbox writes there is gone before a host `git push` into it."""
    data_dir(box)
    hostmark = host_repo(box, "remote", bare=True)
    clone = clone_outside(box)
    script, mark = planted(box)
    steps = ["cp %s remote/hooks/pre-receive && echo planted1" % script,
             "cp %s remote/hooks/update && echo planted2" % script]
    for i in in_steps(box, steps):
        if not isinstance(i, int):
            r = i
            break
        name = ["pre-receive", "update"][i]
        assert gone(box.path("work", "remote/hooks", name)), "step %d: still there" % i
        h = host(box, ["git", "-C", clone, "push", "-q", box.path("work", "remote"),
                       "HEAD:refs/heads/m%d" % i])
        assert h.returncode == 0, h.stderr
        assert not os.path.exists(mark), (i, h.stdout + h.stderr)
    assert "planted1" in r.stdout and "planted2" in r.stdout, r.stdout + r.stderr
    assert os.path.exists(hostmark), r.stderr  # the host's own hook ran


def test_repository_in_another_grant_is_guarded_while_the_sandbox_runs(box):
    """A write grant beside the project (a cache where tools clone), a
    repository two levels down in it: core.hooksPath and a hook."""
    other = other_grant_repo(box)
    script, mark = planted(box)
    repo = os.path.join(other, "c1/c2/r")
    steps = ["cd %s && mkdir -p data/h && cp %s data/h/post-checkout && "
             "git config core.hooksPath data/h && cd - >/dev/null && echo planted" % (repo, script)]
    pol = box.policy("[filesystem]\nwrite = %s\n" % other)
    for i in in_steps(box, steps, pol=pol):
        if not isinstance(i, int):
            r = i
            break
        assert gone(os.path.join(repo, ".git/config")), "still there"
        h = host(box, ["sh", "-c", "git checkout -q -b b2; true"], cwd=repo)
        assert not os.path.exists(mark), h.stdout + h.stderr
    assert "planted" in r.stdout, r.stdout + r.stderr


def test_repository_made_during_the_run_where_nothing_is_watched(box):
    """`git init` with a hook, after the first walk, three levels down in a
    directory that existed at start (no watch there): the next walk finds
    it while the sandbox runs."""
    owned(box, "p/q/r")
    script, mark = planted(box)
    steps = ["sleep 1 && git init -q p/q/r/x && cp %s p/q/r/x/.git/hooks/pre-commit && "
             "echo planted" % script]
    for i in in_steps(box, steps):
        if not isinstance(i, int):
            r = i
            break
        assert gone(box.path("work", "p/q/r/x/.git/hooks/pre-commit"), 20), "still there"
        h = host(box, ["sh", "-c", "cd p/q/r/x && git commit -q --allow-empty -m host; true"])
        assert not os.path.exists(mark), h.stdout + h.stderr
    assert "planted" in r.stdout, r.stdout + r.stderr


def project_names_repo(box):
    """A host repository three levels down with settings of its own: an
    editor's (kept: the positive control) and an agent's (changed inside)."""
    host_repo(box, "a/b/x/c")
    top = box.path("work", "a/b/x/c")
    for rel, text in ((".vscode/settings.json", "{}\n"), (".claude/settings.json", "{}\n")):
        os.makedirs(os.path.dirname(os.path.join(top, rel)), exist_ok=True)
        with open(os.path.join(top, rel), "w") as f:
            f.write(text)
    if box.user == "nobody":
        subprocess.run(["chown", "-R", "65534:65534", top], check=True)
    time.sleep(0.05)  # the clock tick the run starts in counts as the run's
    return top


PLANT_NAMES = ("cd a/b/x/c && echo '{\"mcpServers\":{\"x\":{\"command\":\"touch\"}}}' > .mcp.json && "
               "mkdir -p .vscode && echo '{\"tasks\":[]}' > .vscode/tasks.json && "
               "echo '{\"hooks\":{}}' > .claude/settings.json && "
               "mkdir -p ../../../../data/d && echo 'touch X' > ../../../../data/d/envrc && "
               "ln -s ../../../../data/d/envrc .envrc && mkdir -p .gemini/commands && "
               "echo x > .gemini/commands/c.toml && cd - >/dev/null && echo planted")
PLANTED_NAMES = [".mcp.json", ".vscode/tasks.json", ".claude/settings.json", ".envrc",
                 ".gemini/commands/c.toml"]


def test_project_names_in_a_deep_repository_are_moved_aside_at_exit(box):
    """.mcp.json, .vscode/tasks.json, .claude/settings.json, a .envrc link and
    .gemini/commands in a repository the walk at start did not reach: a host
    agent or editor started there after the run would trust them."""
    data_dir(box)
    top = project_names_repo(box)
    r = box.run(["sh", "-c", PLANT_NAMES], policy=box.policy(""),
                env=dict(GIT_ENV, HOME=box.work))
    assert "planted" in r.stdout, r.stderr
    for rel in PLANTED_NAMES:
        assert not os.path.lexists(os.path.join(top, rel)), (rel, r.stderr)
    assert os.path.lexists(os.path.join(top, ".mcp.json.ringfence-blocked")), r.stderr
    # positive control: the host's own settings, not changed, stay
    assert open(os.path.join(top, ".vscode/settings.json")).read() == "{}\n"


def test_project_names_in_a_deep_repository_are_gone_while_the_sandbox_runs(box):
    """The same, looked for by the host while the sandbox still runs."""
    data_dir(box)
    top = project_names_repo(box)
    steps = ["sleep 0.3; " + PLANT_NAMES]
    for i in in_steps(box, steps):
        if not isinstance(i, int):
            r = i
            break
        for rel in PLANTED_NAMES:
            assert gone(os.path.join(top, rel)), rel
    assert "planted" in r.stdout, r.stdout + r.stderr
    assert open(os.path.join(top, ".vscode/settings.json")).read() == "{}\n"


def test_what_the_walk_moves_aside_as_the_run_ends_is_said(box):
    """The walk of the write grants while the sandbox runs is a process of
    its own, whose lines reach stderr through the supervisor.  Ending the
    walk as the run ended, the supervisor closed their pipe: a line the
    walk had written there, or wrote before it saw the end, was lost (a
    configuration renamed aside and not said: one run in seven of the test
    above, under load).  The supervisor now ends the walk by a pipe of its
    own and says what the walk says until it has ended.  Over runs ending
    at different moments of a walk, each configuration renamed aside is
    named on stderr."""
    data_dir(box)
    script, _ = planted(box)
    lost = []
    for k, pause in enumerate([0, 0.02, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3]):
        repos = ["a/b/x%d/r%d" % (k, i) for i in range(12)]
        for rel in repos:
            host_repo(box, rel)
        plant = " && ".join("printf '[core]\\n\\tfsmonitor = %s\\n' >> %s/.git/config"
                            % (script, rel) for rel in repos)
        r = box.run(["sh", "-c", "%s && sleep %s && echo planted" % (plant, pause)],
                    policy=box.policy(""), env=dict(GIT_ENV, HOME=box.work))
        assert "planted" in r.stdout, r.stderr
        for rel in repos:
            # the control: renamed aside, by the walk or at exit
            assert os.path.exists(box.path("work", rel, ".git/config.ringfence-blocked")), \
                (rel, r.stderr)
            if "%s/.git/config" % rel not in r.stderr:
                lost.append((rel, pause))
    assert not lost, lost
