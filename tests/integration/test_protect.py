# SPDX-License-Identifier: MIT
"""What the sandbox writes must not make the host run code: protected paths
hold against renaming a directory on the way, against being created when
absent, and the policy and audit log are never reached through a symlink.
The host side is a real host program (git) run after the sandbox, as the
same user, with a planted command that would leave a mark."""
import os
import shutil
import subprocess
import time

import pytest

from conftest import audit_events, own_top


def host(box, args, cwd=None, env=None):
    """ARGS run outside the sandbox as the box's user."""
    e = box.env({"GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
                 "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x",
                 "HOME": box.path("hosthome")})
    if env:
        e.update(env)
    os.makedirs(box.path("hosthome"), exist_ok=True)
    os.chmod(box.path("hosthome"), 0o777)
    return subprocess.run(box.cmd(args), cwd=cwd or box.work, env=e, capture_output=True,
                          text=True, timeout=60)


def make_repo(box):
    r = host(box, ["sh", "-c", "git init -q && echo x > f && git add f && git commit -qm init"])
    assert r.returncode == 0, r.stderr


GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}


def data_dir(box):
    """An existing directory beside the protected paths: it stays writable in
    every mode (without namespaces the top of the project gets no new
    entries once a protected path lies in it)."""
    d = box.path("work", "data")
    os.mkdir(d)
    if box.user == "nobody":
        os.chown(d, 65534, 65534)


def planted(box):
    """A script that leaves a mark where only the host can write."""
    os.makedirs(box.path("hosthome"), exist_ok=True)
    os.chmod(box.path("hosthome"), 0o777)
    mark = box.path("hosthome", "MARK")
    # in bin/, which the sandbox may run but not change
    script = box.write("bin/plant.sh", "#!/bin/sh\ntouch %s\n" % mark, mode=0o755)
    return script, mark


def test_renaming_git_aside_plants_no_hook(box):
    """mv .git away, rebuild it writable with a hook and fsmonitor."""
    make_repo(box)
    data_dir(box)
    script, mark = planted(box)
    pol = box.policy("")
    r = box.run(["sh", "-c",
                 "mv .git g2 && cp -a g2 .git && echo moved; "
                 "cp %s .git/hooks/pre-commit; git config core.fsmonitor %s; "
                 "mkdir -p .git/x && mv .git/x .git/hooks2 && echo inner-ok; "
                 "echo data > data/other && echo wrote-other" % (script, script)],
                policy=pol, env=dict(GIT_ENV, HOME=box.work))
    h = host(box, ["sh", "-c", "git status --short; git commit -q --allow-empty -m host"])
    assert h.returncode == 0, h.stderr
    assert not os.path.exists(mark)
    assert "moved" not in r.stdout, r.stdout + r.stderr
    # positive control: the rest stays writable, and so does .git itself
    assert "wrote-other" in r.stdout
    if box.namespaces == "on":
        assert "inner-ok" in r.stdout, r.stderr
    assert os.path.isdir(box.path("work", ".git", "objects"))


def test_new_repository_where_there_was_none(box):
    """git init + core.fsmonitor in a directory that was no repository: the
    host's next `git status` there would run the command."""
    script, mark = planted(box)
    pol = box.policy("")
    r = box.run(["sh", "-c", "git init -q; git config core.fsmonitor %s; "
                 "echo data > other && echo wrote-other" % script],
                policy=pol, env=dict(GIT_ENV, HOME=box.work))
    assert "wrote-other" in r.stdout, r.stderr
    h = host(box, ["sh", "-c", "git status 2>&1; git rev-parse --git-dir 2>&1"])
    assert not os.path.exists(mark), h.stdout
    assert not os.path.isdir(box.path("work", ".git", "objects"))
    if box.namespaces == "off":
        # created, then moved aside when the sandbox ended, and said so
        assert "ringfence-blocked" in r.stderr, r.stderr


def test_absent_agent_settings_are_not_left_for_the_host(box):
    pol = box.policy("")
    hook = '{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"touch MARK"}]}]}}'
    mcp = '{"mcpServers":{"x":{"command":"touch","args":["MARK"]}}}'
    r = box.run(["sh", "-c", "mkdir -p .claude && echo '%s' > .claude/settings.json; "
                 "echo '%s' > .mcp.json; mkdir -p .vscode && echo '{}' > .vscode/tasks.json; "
                 "echo data > other && echo wrote-other" % (hook, mcp)], policy=pol)
    assert "wrote-other" in r.stdout, r.stderr
    for p in (".claude/settings.json", ".mcp.json", ".vscode/tasks.json"):
        assert not os.path.exists(box.path("work", p)), p
    # nothing was removed, only moved aside for review
    assert os.path.exists(box.path("work", ".mcp.json.ringfence-blocked"))
    assert "the sandbox created" in r.stderr


def test_absent_protected_path_deeper_down_cannot_be_created(box):
    sub = box.path("work", "sub")
    os.mkdir(sub)
    box.write("work/sub/existing", "e\n")
    if box.user == "nobody":
        os.chown(sub, 65534, 65534)
        os.chown(os.path.join(sub, "existing"), 65534, 65534)
    pol = box.policy("""
        [filesystem]
        protect = ${CWD}/sub/hook.sh
        """)
    data_dir(box)
    r = box.run(["sh", "-c", "echo evil > sub/hook.sh; mkdir sub/d; echo more >> sub/existing && "
                 "echo ok-existing; echo x > data/new && echo ok-data"], policy=pol)
    assert not os.path.exists(os.path.join(sub, "hook.sh"))
    assert "ok-data" in r.stdout, r.stderr
    # with namespaces the directory holding it is read-only as a whole;
    # without, its existing entries keep the grant and new names other than
    # the protected one are made by the supervisor's file gate
    assert os.path.exists(os.path.join(sub, "d")) == (box.namespaces == "off")
    assert ("ok-existing" in r.stdout) == (box.namespaces == "off"), r.stdout


def test_policy_directory_cannot_be_swapped(box):
    """Moving the policy's directory aside and writing a new policy where -p
    points would choose the next run's policy."""
    pdir = box.path("work", "pol")
    os.mkdir(pdir)
    pol = box.policy("", name="work/pol/p.ini")
    if box.user == "nobody":
        os.chown(pdir, 65534, 65534)
        os.chown(pol, 65534, 65534)
    before = open(pol).read()
    data_dir(box)
    r = box.run(["sh", "-c", "mv pol pol2 && echo moved; mkdir -p pol; "
                 "printf '[filesystem]\\nwrite = /\\n' > pol/p.ini; echo x > data/o && echo ok"],
                policy=pol)
    assert "ok" in r.stdout, r.stderr
    assert "moved" not in r.stdout
    assert open(pol).read() == before


def test_audit_log_directory_cannot_be_swapped(box):
    logs = box.path("work", "logs")
    os.mkdir(logs)
    if box.user == "nobody":
        os.chown(logs, 65534, 65534)
    target = box.path("elsewhere")
    os.mkdir(target)
    os.chmod(target, 0o777)
    pol = box.policy("""
        [log]
        file = ${CWD}/logs/audit.jsonl
        """)
    r = box.run(["sh", "-c", "mv logs logs2 && ln -s %s logs && echo swapped; echo ok" % target],
                policy=pol)
    assert "ok" in r.stdout, r.stderr
    assert "swapped" not in r.stdout
    # the next run writes where the policy says, never through a link
    r = box.run(["true"], policy=pol)
    assert os.listdir(target) == []


def test_policy_through_a_symlinked_directory_is_refused(box):
    real = box.path("real")
    os.mkdir(real)
    pol = box.policy("", name="real/p.ini")
    os.symlink(real, box.path("link"))
    r = box.run(["true"], policy=box.path("link", "p.ini"))
    assert r.returncode == 125, r.stderr
    assert "symbolic link" in r.stderr
    r = box.run(["true"], policy=pol)
    assert r.returncode == 0, r.stderr


def test_audit_log_through_a_symlinked_directory_is_refused(box):
    target = box.path("elsewhere")
    os.mkdir(target)
    os.chmod(target, 0o777)
    os.symlink(target, box.path("work", "logs"))
    pol = box.policy("""
        [log]
        file = ${CWD}/logs/audit.jsonl
        """)
    r = box.run(["true"], policy=pol)
    assert r.returncode == 125, r.stderr
    assert "symbolic link" in r.stderr
    assert os.listdir(target) == []
    # a real directory in its place: the log is written
    os.unlink(box.path("work", "logs"))
    r = box.run(["true"], policy=pol)
    assert r.returncode == 0, r.stderr
    assert os.path.getsize(box.path("work", "logs", "audit.jsonl")) > 0


def claude_policy(box):
    """policies/claude-code.ini as shipped, in this box's mode."""
    head = "[sandbox]\ninclude = %s\n" % os.path.join(box.policies, "claude-code.ini")
    if box.namespaces == "off":
        head += "namespaces = off\n"
    head += "[filesystem]\nexec = %s\n" % box.bin
    if box.user == "root":
        head += "[process]\nrun_as = root\n"
    return box.write("claude.ini", head)


def claude_home(box):
    home = box.path("home")
    os.makedirs(os.path.join(home, ".claude", "projects"))
    box.write("home/.claude.json", '{"mcpServers":{}}\n')
    box.write("home/.claude/settings.json", '{}\n')
    box.write("home/.claude/local/claude", '#!/bin/sh\n', mode=0o755)
    box.write("home/.local/share/claude/versions/1", '', mode=0o755)
    if box.user == "nobody":
        for dp, dn, fn in os.walk(home):
            for n in [dp] + [os.path.join(dp, f) for f in fn]:
                os.chown(n, 65534, 65534)
    return home


def test_claude_code_policy_keeps_host_commands_read_only(box):
    """~/.claude.json (mcpServers) and ~/.claude/settings.json (hooks) are
    what the host's claude runs: whatever the sandbox writes there, the
    host's files stay as they were; the CLI's state stays writable where it
    keeps it ($CLAUDE_CONFIG_DIR: the private ~/.claude, which without a
    mount namespace is a stand-in elsewhere)."""
    home = claude_home(box)
    pol = claude_policy(box)
    mcp = '{"mcpServers":{"x":{"command":"touch","args":["MARK"]}}}'
    r = box.run(["sh", "-c",
                 "echo '%s' > ~/.claude.json; echo '{\"hooks\":1}' > ~/.claude/settings.json; "
                 "mkdir -p ~/.claude/hooks ~/.claude/commands; echo x > ~/.claude/commands/c.md; "
                 "echo PWNED >> ~/.claude/local/claude; "
                 "echo PWNED >> ~/.local/share/claude/versions/1; "
                 "mkdir -p $CLAUDE_CONFIG_DIR/projects; "
                 "echo state > $CLAUDE_CONFIG_DIR/projects/p.jsonl && echo ok-state" % mcp],
                policy=pol, env={"HOME": home})
    assert "ok-state" in r.stdout, r.stderr
    assert open(os.path.join(home, ".claude.json")).read() == '{"mcpServers":{}}\n'
    assert open(os.path.join(home, ".claude", "settings.json")).read() == "{}\n"
    assert not os.path.exists(os.path.join(home, ".claude", "commands", "c.md"))
    # the launcher and versions of a local or native install
    assert open(os.path.join(home, ".claude", "local", "claude")).read() == "#!/bin/sh\n"
    assert open(os.path.join(home, ".local/share/claude/versions/1")).read() == ""


GIT_WORKFLOW = """set -e
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@x
git status --short
echo a > a.txt && git add a.txt && git commit -qm a
git branch feature && git checkout -q feature
echo b > b.txt && git add b.txt && git commit -qm b
git checkout -q -
echo c >> f && git stash -q && git stash pop -q && git commit -qam c
git rebase -q feature
git worktree list
git log --oneline | wc -l
echo ALL-OK
"""


@pytest.mark.parametrize("which", ["default", "claude-code"])
def test_git_keeps_working_inside(nsbox, which):
    """With a mount namespace: .git stays writable for objects, refs, the
    index and git's lock files, while its hooks and configuration do not."""
    box = nsbox
    make_repo(box)
    if which == "default":
        pol, home = box.policy(""), box.work
    else:
        home = claude_home(box)
        pol = claude_policy(box)
    r = box.run(["sh", "-c", GIT_WORKFLOW], policy=pol, env=dict(GIT_ENV, HOME=home))
    assert "ALL-OK" in r.stdout, r.stdout + r.stderr
    # what git leaves in .git after these is carried back or unchanged
    assert "not carried back" not in r.stderr, r.stderr
    # init, a, b, then c rebased onto feature
    assert r.stdout.strip().splitlines()[-2] == "4", r.stdout
    h = host(box, ["git", "log", "--oneline"])
    assert len(h.stdout.splitlines()) == 4, h.stdout + h.stderr


@pytest.mark.parametrize("split", [False, True], ids=["index", "split-index"])
def test_nested_repository_recorded_as_gitlink(nsbox, split):
    """A repository made inside the project with a planted fsmonitor, added
    to the index as a gitlink: the host's `git status` at the top enters it.
    With a split index the gitlink lives in .git/sharedindex.*.  Made in
    a directory deeper than the one watched while the sandbox runs (a/b: a
    repository made in a or in the top is moved aside at once), so that
    this is the check at exit."""
    box = nsbox
    make_repo(box)
    os.makedirs(box.path("work", "a", "b"))
    if box.user == "nobody":
        subprocess.run(["chown", "-R", "65534:65534", box.path("work", "a")], check=True)
    script, mark = planted(box)
    pol = box.policy("")
    r = box.run(["sh", "-c", "export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x "
                 "GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@x; set -e; mkdir a/b/sub; "
                 "cd a/b/sub; git init -q; git commit -q --allow-empty -m s; "
                 "git config core.fsmonitor %s; cd ../../..; git add a/b/sub 2>/dev/null; "
                 "git commit -qm add; echo x > a/b/sub/new; %s"
                 "echo planted" % (script, "git update-index --split-index; " if split else "")],
                policy=pol, env=dict(GIT_ENV, HOME=box.work))
    h = host(box, ["git", "status", "--short"])
    assert not os.path.exists(mark), h.stdout + h.stderr
    if "planted" not in r.stdout:
        # on a loaded machine the command outlasts the walk made while it
        # runs (every 2 s), which finds the repository first and moves its
        # config aside: the protection at work before the exit's check,
        # and the command's next git fails
        assert "sub/.git: config sets what a host git would run" in r.stderr, r.stderr
        return
    assert os.path.exists(box.path("work", "a", "b", "sub", ".git.ringfence-blocked"))
    assert "sub/.git" in r.stderr


def test_nested_repository_that_was_there_is_left_alone(nsbox):
    """Positive control: an unchanged nested repository keeps its .git."""
    box = nsbox
    make_repo(box)
    r = host(box, ["sh", "-c", "mkdir sub && cd sub && git init -q && "
                   "git commit -q --allow-empty -m s && cd .. && git add sub 2>/dev/null && "
                   "git commit -qm add"])
    assert r.returncode == 0, r.stderr
    pol = box.policy("")
    r = box.run(["sh", "-c", "echo y >> f && git status --short && echo ok"], policy=pol,
                env=dict(GIT_ENV, HOME=box.work))
    assert "ok" in r.stdout, r.stderr
    assert os.path.isdir(box.path("work", "sub", ".git"))


def test_missing_hooks_directory_gets_no_hook(box):
    make_repo(box)
    shutil.rmtree(box.path("work", ".git", "hooks"))
    data_dir(box)
    script, mark = planted(box)
    pol = box.policy("")
    r = box.run(["sh", "-c", "mkdir -p .git/hooks; cp %s .git/hooks/pre-commit; "
                 "cp %s .git/hooks/post-checkout; echo x > data/o && echo ok" % (script, script)],
                policy=pol, env=dict(GIT_ENV, HOME=box.work))
    assert "ok" in r.stdout, r.stderr
    h = host(box, ["sh", "-c", "git commit -q --allow-empty -m host && git checkout -q -b b2"])
    assert h.returncode == 0, h.stderr
    assert not os.path.exists(mark)


def test_submodule_gitdir_pointer_cannot_be_swapped(box):
    """A submodule's .git (a `gitdir:` file) swapped for a repository with a
    planted fsmonitor: the host's `git status` in the superproject enters it."""
    up = box.path("upstream")
    os.mkdir(up)
    if box.user == "nobody":
        os.chown(up, 65534, 65534)
    r = host(box, ["sh", "-c", "git init -q && git commit -q --allow-empty -m u"], cwd=up)
    assert r.returncode == 0, r.stderr
    make_repo(box)
    r = host(box, ["sh", "-c", "git -c protocol.file.allow=always submodule -q add %s sub && "
                   "git commit -qm sub" % up])
    assert r.returncode == 0, r.stderr
    script, mark = planted(box)
    pol = box.policy("")
    r = box.run(["sh", "-c", "export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x "
                 "GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@x; "
                 "mv sub/.git sub/.git.old && echo moved; rm -f sub/.git; cd sub; git init -q; "
                 "git commit -q --allow-empty -m s; git config core.fsmonitor %s; "
                 "echo done" % script],
                policy=pol, env=dict(GIT_ENV, HOME=box.work))
    assert "done" in r.stdout, r.stderr
    h = host(box, ["sh", "-c", "echo x >> sub/new; git status --short"])
    assert not os.path.exists(mark), h.stdout + h.stderr
    assert "moved" not in r.stdout
    assert open(box.path("work", "sub", ".git")).read().startswith("gitdir: ../.git/modules")


def test_blocked_name_is_moved_aside_past_planted_names(box):
    """Names planted to make moving aside fail do not keep the file in place."""
    pol = box.policy("")
    r = box.run(["sh", "-c", "for i in '' .1 .2 .3 .4 .5 .6 .7; do "
                 "mkdir .mcp.json.ringfence-blocked$i; done; echo '{}' > .mcp.json; echo ok"],
                policy=pol)
    assert "ok" in r.stdout, r.stderr
    assert not os.path.exists(box.path("work", ".mcp.json"))
    assert "renamed" in r.stderr


def test_gitlink_behind_a_symlink_is_reported(nsbox):
    box = nsbox
    make_repo(box)
    # deeper than what is watched while the sandbox runs (the directories
    # the walk at start lists, three levels): the check at exit
    os.makedirs(box.path("work", "x", "y", "z"))
    if box.user == "nobody":
        subprocess.run(["chown", "-R", "65534:65534", box.path("work", "x")], check=True)
    script, mark = planted(box)
    pol = box.policy("")
    r = box.run(["sh", "-c", "export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x "
                 "GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@x; set -e; mkdir -p x/y/z/real/sub; "
                 "cd x/y/z/real/sub; git init -q; git commit -q --allow-empty -m s; "
                 "git config core.fsmonitor %s; cd ../../../../..; "
                 "H=$(git -C x/y/z/real/sub rev-parse HEAD); "
                 "git update-index --add --cacheinfo 160000,$H,x/y/z/a/sub; git commit -qm add; "
                 "ln -s real x/y/z/a; echo planted" % script],
                policy=pol, env=dict(GIT_ENV, HOME=box.work))
    assert "planted" in r.stdout, r.stderr
    assert "symbolic link" in r.stderr and "a/sub/.git" in r.stderr, r.stderr


def evil_repo(box, script):
    """A bare repository outside the project whose config runs SCRIPT."""
    evil = box.path("evil")
    os.mkdir(evil)
    if box.user == "nobody":
        os.chown(evil, 65534, 65534)
    r = host(box, ["sh", "-c", "git init -q --bare . && git config core.fsmonitor %s" % script],
             cwd=evil)
    assert r.returncode == 0, r.stderr
    return evil


def during_run(box, plant, pol=None, env=None, host_side=None):
    """PLANT (shell) runs in the sandbox, which then signals and waits while
    HOST_SIDE (argv, default `git status`) runs on the host as the same
    user; then the sandbox ends.  Returns (sandbox result, host result)."""
    data_dir(box)
    ready, go = box.path("work", "data", "ready"), box.path("work", "data", "go")
    cmd = ("export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x GIT_COMMITTER_NAME=t "
           "GIT_COMMITTER_EMAIL=t@x; %s; touch data/ready; i=0; "
           "while [ ! -e data/go ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; "
           "echo sandbox-done" % plant)
    p = box.popen(["sh", "-c", cmd], policy=pol or box.policy(""),
                  env=dict(GIT_ENV, HOME=box.work, **(env or {})), stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(300):
            if os.path.exists(ready) or p.poll() is not None:
                break
            time.sleep(0.1)
        assert os.path.exists(ready), "the sandbox never got there"
        h = host(box, host_side or ["git", "status"])
    finally:
        open(go, "w").close()
        out, err = p.communicate(timeout=60)
    r = subprocess.CompletedProcess(p.args, p.returncode, out, err)
    assert "sandbox-done" in r.stdout, r.stdout + r.stderr
    return r, h


def test_commondir_written_inside_is_not_followed_during_the_run(box):
    """.git/commondir pointing at a repository whose config has
    core.fsmonitor: a host `git status` while the sandbox runs (an editor's)
    would run it."""
    make_repo(box)
    script, mark = planted(box)
    evil = evil_repo(box, script)
    r, h = during_run(box, "echo %s > .git/commondir && echo planted" % evil)
    assert not os.path.exists(mark), h.stdout + h.stderr
    assert not os.path.exists(box.path("work", ".git", "commondir"))
    if box.namespaces == "on":
        # positive control: written, in the sandbox's own view of .git
        assert "planted" in r.stdout, r.stderr
        assert "commondir" in r.stderr, r.stderr
    # positive control: the host's git does follow a commondir there
    box.write("work/.git/commondir", evil + "\n")
    host(box, ["git", "status"])
    assert os.path.exists(mark)


def test_config_worktree_written_inside_is_not_read_during_the_run(box):
    """With extensions.worktreeConfig (set by the host), config.worktree is
    read as configuration."""
    make_repo(box)
    r = host(box, ["sh", "-c", "git config core.repositoryformatversion 1 && "
                   "git config extensions.worktreeConfig true"])
    assert r.returncode == 0, r.stderr
    script, mark = planted(box)
    r, h = during_run(box, "printf '[core]\\n\\tfsmonitor = %s\\n' > .git/config.worktree && "
                      "echo planted" % script)
    assert not os.path.exists(mark), h.stdout + h.stderr
    assert not os.path.exists(box.path("work", ".git", "config.worktree"))
    if box.namespaces == "on":
        assert "planted" in r.stdout, r.stderr
    # positive control: the host's git reads it
    box.write("work/.git/config.worktree", "[core]\n\tfsmonitor = %s\n" % script)
    host(box, ["git", "status"])
    assert os.path.exists(mark)


def test_alternates_written_inside_are_not_seen(box):
    """objects/info/alternates would lend the host's git another
    repository's objects: not writable inside, not there during the run."""
    make_repo(box)
    script, mark = planted(box)
    evil = evil_repo(box, script)
    alt = box.path("work", ".git", "objects", "info", "alternates")
    r, h = during_run(box, "echo %s/objects > .git/objects/info/alternates && echo planted; "
                      "mv .git/objects/info .git/objects/i2 && mkdir .git/objects/info && "
                      "echo $PWD/../evil/objects > .git/objects/info/alternates && echo moved; "
                      "echo y >> f && git commit -qam inside && echo committed" % evil,
                      host_side=["sh", "-c", "cat .git/objects/info/alternates "
                                 ".git/objects/i*/alternates; git status --short"])
    assert "evil" not in h.stdout
    assert not os.path.exists(alt)
    assert "planted" not in r.stdout and "moved" not in r.stdout
    if box.namespaces == "on":
        # positive control: objects stay writable, the commit reaches the host
        assert "committed" in r.stdout, r.stderr
        h = host(box, ["git", "log", "--format=%s", "-1"])
        assert h.stdout.strip() == "inside", h.stdout + h.stderr


def test_rebase_todo_left_behind_runs_nothing(box):
    """An interactive rebase stopped inside, its todo list holding an `exec`:
    the host's `git rebase --continue` after the run would run it."""
    make_repo(box)
    script, mark = planted(box)
    seq = box.write("bin/seq.sh", "#!/bin/sh\nprintf 'break\\nexec %s\\n' > \"$1\"\n" % script,
                    mode=0o755)
    data_dir(box)
    r = box.run(["sh", "-c", "export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x "
                 "GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@x; echo y >> f; "
                 "git commit -qam two && GIT_SEQUENCE_EDITOR=%s git rebase -q -i HEAD~1; "
                 "test -f .git/rebase-merge/git-rebase-todo && echo stopped; "
                 "echo x > data/o && echo ok" % seq],
                policy=box.policy(""), env=dict(GIT_ENV, HOME=box.work))
    assert "ok" in r.stdout, r.stderr
    h = host(box, ["sh", "-c", "git rebase --continue; git status"])
    assert not os.path.exists(mark), h.stdout + h.stderr
    assert not os.path.exists(box.path("work", ".git", "rebase-merge"))
    if box.namespaces == "on":
        # positive control: the rebase did stop there, inside
        assert "stopped" in r.stdout, r.stderr
        assert "rebase-merge" in r.stderr, r.stderr


def test_host_change_to_head_during_the_run_is_kept(nsbox):
    """The host switches branch while the sandbox commits: the sandbox's
    index is not put over the host's, and it says so."""
    box = nsbox
    make_repo(box)
    r, h = during_run(box, "echo a > a.txt && git add a.txt && git commit -qm inside",
                      host_side=["sh", "-c", "git checkout -q -b hostside && echo h > h.txt && "
                                 "git add h.txt"])
    assert h.returncode == 0, h.stderr
    h = host(box, ["sh", "-c", "git symbolic-ref HEAD; git diff --cached --name-only; "
                   "git log --format=%s master -1"])
    out = h.stdout.split()
    # refs are shared while the run lasts (the commit is on master), the
    # host's index and HEAD are the host's
    assert out[0] == "refs/heads/hostside" and "h.txt" in out, h.stdout + h.stderr
    assert out[-1] == "inside", h.stdout + h.stderr
    assert "changed on the host meanwhile" in r.stderr, r.stderr


def test_commit_inside_is_the_host_state_afterwards(nsbox):
    """What git did inside is what the host sees after the run: the commit,
    the branch HEAD names, a clean index; lock files and the like stay out."""
    box = nsbox
    make_repo(box)
    data_dir(box)
    r = box.run(["sh", "-c", "export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x "
                 "GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@x; set -e; "
                 "git checkout -q -b topic; echo n > n.txt; git add n.txt; git commit -qm inside; "
                 "git pack-refs --all; : > .git/index.lock.stray; echo ok"],
                policy=box.policy(""), env=dict(GIT_ENV, HOME=box.work))
    assert "ok" in r.stdout, r.stderr
    h = host(box, ["sh", "-c", "git symbolic-ref HEAD; git status --porcelain; "
                   "git log --format=%s -1; git fsck --no-dangling 2>&1"])
    assert h.stdout.split() == ["refs/heads/topic", "inside"], h.stdout + h.stderr
    assert "refs/heads/topic" in open(box.path("work", ".git", "packed-refs")).read()
    assert not os.path.exists(box.path("work", ".git", "index.lock.stray"))
    if box.user == "nobody":
        for n in ("index", "HEAD", "packed-refs"):
            assert os.stat(box.path("work", ".git", n)).st_uid == 65534, n


def test_root_files_out_of_format_stay_out(nsbox):
    """HEAD removed and packed-refs turned into configuration inside: the
    host keeps its HEAD and a packed-refs git can read, and is told."""
    box = nsbox
    make_repo(box)
    data_dir(box)
    log = box.path("audit.jsonl")
    if box.user == "nobody":
        open(log, "w").close()
        os.chown(log, 65534, 65534)
    r = box.run(["sh", "-c", "rm .git/HEAD; printf '[core]\\n\\tfsmonitor = x\\n' > "
                 ".git/packed-refs; echo 'ref: refs/../config' > .git/ORIG_HEAD; echo ok"],
                policy=box.policy("[log]\nfile = %s\n" % log),
                env=dict(GIT_ENV, HOME=box.work))
    assert "ok" in r.stdout, r.stderr
    h = host(box, ["sh", "-c", "git symbolic-ref HEAD && git status --short"])
    assert h.returncode == 0 and "refs/heads/" in h.stdout, h.stdout + h.stderr
    assert not os.path.exists(box.path("work", ".git", "packed-refs"))
    assert not os.path.exists(box.path("work", ".git", "ORIG_HEAD"))
    events = audit_events(log)
    dropped = [e["path"] for e in events if e.get("event") == "protect.git_dropped"]
    for name in ("HEAD", "packed-refs", "ORIG_HEAD"):
        assert name in r.stderr, r.stderr
        assert box.path("work", ".git", name) in dropped, events


def test_a_grant_too_deep_for_the_builtin_names_is_said(box):
    """Started in a directory so deep (the default's write = ${CWD}) that
    the longer built-in names (.pre-commit-config.yaml, ...) do not fit in
    PATH_MAX beneath it: they cannot be protected there, and that is said
    (they were passed over in silence)."""
    deep = box.work
    while len(deep) < 4096 - 24:
        deep = os.path.join(deep, "d" * min(200, 4096 - 24 - len(deep) - 1))
    os.makedirs(deep)
    uid = own_top(box)
    subprocess.run(["chown", "-R", "%d:%d" % (uid, uid), box.path("work", "d" * 200)], check=True)
    r = box.run(["sh", "-c", "echo ran"], policy=box.policy(""), cwd=deep)
    assert "ran" in r.stdout, r.stdout + r.stderr
    assert "too deep for all of protect's built-in names" in r.stderr, r.stderr


def outside_target(box):
    """A directory the policy gives for reading only, and a file in it
    that every user may write, ORIGINAL: where a link the sandbox leaves
    would have the host write."""
    outside = box.path("outside")
    os.mkdir(outside)
    os.chmod(outside, 0o777)
    target = os.path.join(outside, "target")
    with open(target, "w") as f:
        f.write("ORIGINAL\n")
    os.chmod(target, 0o666)
    return outside, target


def test_links_left_in_git_are_not_written_through_by_the_hosts_git(box):
    """git writes COMMIT_EDITMSG at every commit (and MERGE_MSG, SQUASH_MSG,
    TAG_EDITMSG, the sequencer's and a rebase's state) by opening the name,
    which follows a final link.  Without namespaces the sandbox writes the
    .git: links it left there at those names had the host's next `git
    commit -m` write the message into a file the grants never gave (an
    outside review: ~/.bashrc, then a line of the sandbox's commit message
    ran in the host's next shell).  Each link the run made in the .git now
    goes at exit (with namespaces the view's carry-back takes none).  The
    controls: the sandbox could not write the file itself, and the host's
    commit works and its message is where git keeps it."""
    make_repo(box)
    outside, target = outside_target(box)
    names = ["COMMIT_EDITMSG", "MERGE_MSG", "SQUASH_MSG", "TAG_EDITMSG", "description",
             "sequencer/todo", "rebase-merge/git-rebase-todo"]
    script = "echo x >> %s 2>/dev/null && echo WROTE-TARGET; mkdir -p .git/sequencer " \
             ".git/rebase-merge; " % target
    script += "; ".join("rm -f .git/%s; ln -s %s .git/%s" % (n, target, n) for n in names)
    script += "; ls -l .git/COMMIT_EDITMSG"
    pol = box.policy("""
        [filesystem]
        read = %s
        """ % outside)
    r = box.run(["sh", "-c", script], policy=pol)
    assert "WROTE-TARGET" not in r.stdout, r.stdout
    # the control: the links were made in the sandbox's view
    assert "-> %s" % target in r.stdout, r.stdout + r.stderr
    for n in names:
        assert not os.path.islink(os.path.join(box.work, ".git", n)), (n, r.stderr)
    c = host(box, ["git", "commit", "-q", "--allow-empty", "-m", "host message"])
    assert c.returncode == 0, c.stderr
    with open(target) as f:
        assert f.read() == "ORIGINAL\n"
    with open(os.path.join(box.work, ".git", "COMMIT_EDITMSG")) as f:
        assert "host message" in f.read()


@pytest.mark.parametrize("parent", [".", "node_modules", "a/target", ".venv/lib"])
def test_links_in_a_repository_made_during_the_run(box, parent):
    """The same links in a repository the sandbox makes in its grant (`git
    init sub`): the walk at exit knew only the repositories found at the
    start, and the host's `git merge --squash` in sub wrote the sandbox's
    commit message, a shell command, into a file no grant gave (an outside
    review of the fix above).  A repository made during the run that holds
    a link (but in objects/) is moved aside as one that holds a hook is.
    The controls: the sandbox's repository was made, and could not write
    the file itself."""
    make_repo(box)
    outside, target = outside_target(box)
    # (in a package tree, which the watch does not enter, it is found at
    # exit: a second review)
    script = ("echo x >> {t} 2>/dev/null && echo WROTE-TARGET; mkdir -p {p} && cd {p} && "
              "git init -q sub && cd sub && G='git -c user.name=a -c user.email=a@b' && "
              "$G commit -q --allow-empty -m base && $G checkout -q -b feature && "
              "$G commit -q --allow-empty -m 'touch PWNED' && $G checkout -q - && "
              "echo made; ln -sf {t} .git/SQUASH_MSG; ln -sf {t} .git/logs/HEAD"
              ).format(t=target, p=parent)
    pol = box.policy("""
        [filesystem]
        read = %s
        """ % outside)
    r = box.run(["sh", "-c", script], policy=pol)
    assert "made" in r.stdout and "WROTE-TARGET" not in r.stdout, r.stdout + r.stderr
    sub = os.path.join(box.work, parent, "sub")
    host(box, ["git", "merge", "-q", "--squash", "feature"], cwd=sub)
    host(box, ["git", "commit", "-q", "--allow-empty", "-m", "host"], cwd=sub)
    with open(target) as f:
        assert f.read() == "ORIGINAL\n", r.stderr
    assert not os.path.islink(os.path.join(sub, ".git", "SQUASH_MSG")), r.stderr


@pytest.mark.parametrize("repo", ["held", "made"])
def test_links_deeper_than_the_walk_goes_are_said(box, repo):
    """The walks of a .git for links stopped 16 directories down and passed
    what lay deeper over in silence.  Now a directory deeper than the walk
    goes (32) is said, as one that cannot be opened is.  The controls: a
    link five down goes, and the deep one was made."""
    make_repo(box)
    outside, target = outside_target(box)
    git = ".git" if repo == "held" else "node_modules/sub/.git"
    deep = git + "/" + "/".join(["d"] * 40)
    script = ("{m}mkdir -p {deep} && ln -s {t} {deep}/COMMIT_EDITMSG && "
              "ln -s {t} {g}/d/d/d/d/d/COMMIT_EDITMSG && echo made").format(
                  m="git init -q node_modules/sub && " if repo == "made" else "",
                  deep=deep, t=target, g=git)
    pol = box.policy("""
        [filesystem]
        read = %s
        """ % outside)
    r = box.run(["sh", "-c", script], policy=pol)
    assert "made" in r.stdout, r.stdout + r.stderr
    assert not os.path.islink(os.path.join(box.work, git, "d/d/d/d/d/COMMIT_EDITMSG")), r.stderr
    if os.path.islink(os.path.join(box.work, deep, "COMMIT_EDITMSG")):
        assert "deeper than the look for links goes" in r.stderr, r.stderr


@pytest.mark.parametrize("link", ["objects", "objects/pack"])
@pytest.mark.parametrize("parent", [".", "node_modules"])
def test_objects_of_a_repository_made_during_the_run_linked_out(box, parent, link):
    """A repository the sandbox makes whose objects/ (or objects/pack) is a
    link to a directory no grant lets it write: the host's git add and
    commit wrote loose objects there, and git gc --prune would prune
    another repository's object store so linked (an outside review: the
    link walks passed objects/ over by its name).  objects/ and its pack/
    and info/ are looked through for links now.  The control: the sandbox
    could not write the directory itself, and made its repository."""
    make_repo(box)
    outside, target = outside_target(box)
    objs = os.path.join(outside, "objs")
    os.mkdir(objs)
    os.chmod(objs, 0o777)
    script = ("echo x > {o}/own 2>/dev/null && echo WROTE-OUTSIDE; mkdir -p {p} && cd {p} && "
              "git init -q sub && cd sub && echo hello > f && mkdir -p .git/objects/pack && "
              "rm -rf .git/{l} && ln -s {o} .git/{l} && echo linked"
              ).format(o=objs, p=parent, l=link)
    pol = box.policy("""
        [filesystem]
        read = %s
        """ % outside)
    r = box.run(["sh", "-c", script], policy=pol)
    assert "linked" in r.stdout and "WROTE-OUTSIDE" not in r.stdout, r.stdout + r.stderr
    sub = os.path.join(box.work, parent, "sub")
    host(box, ["git", "add", "f"], cwd=sub)
    host(box, ["git", "commit", "-q", "-m", "host"], cwd=sub)
    host(box, ["git", "gc", "-q"], cwd=sub)
    written = [os.path.join(d, n) for d, _, ns in os.walk(objs) for n in ns]
    assert not written, "the host's git wrote outside every grant: %r\n%s" % (written, r.stderr)
