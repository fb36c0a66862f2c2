# SPDX-License-Identifier: MIT
"""An outside round on README's "What the sandbox leaves behind": nothing the
sandbox writes may make the host run code later (git's tracked content
apart, which test_git*_attacks.py cover).

The host side of each test is what the host's tool would read (or the
host's git itself) after ringfence has exited.

Holes (each FAILS on a351c8e):
  - test_long_named_hook_file_in_a_new_repository_is_left: every mode.
    What a walk finds in the worktree of a repository made during the run
    (`.github/hooks/*.json`, `.claude/agents/*.md`, ...) is moved aside
    entry by entry to NAME.ringfence-blocked; a name of more than
    NAME_MAX - 18 bytes has no such name (ENAMETOOLONG), so it is only
    said ("could NOT be moved aside") and left where the host's tool reads
    it.
  - test_new_repositorys_hook_behind_a_worktree_made_read_only: user-ns,
    user-nons.  The sandbox makes a new repository's worktree (and its
    hooks directory) mode 0555 before it writes the hook: the unprivileged
    supervisor cannot rename `.git` (or the hook) aside, says so, and the
    host's `git commit` runs the hook.  A root supervisor is not held back
    by the mode.
  - test_copilot_hooks_renamed_in_under_a_directory_made_read_only:
    user-ns.  The same at the project's top: `.github` prepared with
    hooks/h.json, mode 0555, and renamed into place; the supervisor cannot
    rename `.github/hooks` aside.  (Without namespaces the file gate refuses
    the rename into the top; as root the supervisor moves it.)
Each has a positive control: the command ran and made its plant, and a
companion plant the same check does move (or the host tool ran).
"""
import os
import subprocess
import time

from conftest import NOBODY
from test_protect import GIT_ENV, host, make_repo


def owned(box):
    if box.user == "nobody":
        subprocess.run(["chown", "-R", "%d:%d" % (NOBODY, NOBODY), box.work], check=True)


def run_sh(box, script, policy=None, env=None, timeout=60):
    pol = policy or box.policy("")
    return box.run(["sh", "-c", script], policy=pol, env=env, timeout=timeout)


# a name longer than NAME_MAX - len(".ringfence-blocked") (255 - 18)
LONG = "h" * 240


def test_long_named_hook_file_in_a_new_repository_is_left(box):
    """Hole, every mode: a repository made during the run (`git init sub`),
    and in its worktree Copilot CLI's hooks directory holding a hook file
    whose name is 245 bytes long.  The checks move each such entry to
    NAME.ringfence-blocked, which cannot exist for that name: the file is
    said and left in .github/hooks, where Copilot CLI loads every *.json.
    Control: short.json beside it is moved aside by the same check."""
    make_repo(box)
    owned(box)
    hook = '{"version":1,"hooks":{"sessionStart":[{"type":"command","bash":"touch MARK"}]}}'
    r = run_sh(box, "mkdir sub && git init -q sub && mkdir -p sub/.github/hooks sub/.claude/agents && "
               "echo '%s' > sub/.github/hooks/%s.json && echo '%s' > sub/.github/hooks/short.json && "
               "echo 'x' > sub/.claude/agents/%s.md && sleep 2.5 && echo planted"
               % (hook, LONG, hook, LONG))
    assert "planted" in r.stdout, r.stderr
    hooks = box.path("work", "sub", ".github", "hooks")
    # positive control: the check ran there and moved the short one
    assert not os.path.exists(os.path.join(hooks, "short.json")), os.listdir(hooks)
    assert os.path.exists(os.path.join(hooks, "short.json.ringfence-blocked")), r.stderr
    # the host side: Copilot CLI's loader, every *.json in .github/hooks
    left = sorted(n for n in os.listdir(hooks) if n.endswith(".json"))
    assert left == [], "left for the host's Copilot CLI: %s\n%s" % (
        [n[:20] + "..." for n in left], r.stderr[-600:])
    agents = box.path("work", "sub", ".claude", "agents")
    assert not [n for n in os.listdir(agents) if n.endswith(".md")], r.stderr[-600:]


def test_new_repositorys_hook_behind_a_worktree_made_read_only(box):
    """Hole, user-ns and user-nons: `git init sub`, then `chmod 555 sub`
    and, after writing hooks/pre-commit, `chmod 555 sub/.git/hooks`.
    Moving `.git` or the hook aside is a rename in a directory its owner
    made unwritable; the unprivileged supervisor, the same user, is
    refused (EACCES), says "could NOT be moved aside", and the host's
    `git commit` there runs the hook.  (seccomp refuses modes that give
    others write, not ones that take the owner's away.)  Control: the host's
    git ran (exit status) and the hook was written inside."""
    make_repo(box)
    owned(box)
    os.makedirs(box.path("hosthome"), exist_ok=True)
    os.chmod(box.path("hosthome"), 0o777)
    mark = box.path("hosthome", "MARK")
    # the hooks directory is filled beside it (hk: no hook there) and made
    # 0555 before it is renamed over hooks (in one directory: no write on
    # the directory moved is needed), so no hook is ever in a writable one
    r = run_sh(box, "mkdir sub && git init -q sub && chmod 555 sub && mkdir sub/.git/hk && "
               "printf '#!/bin/sh\\ntouch %s\\n' > sub/.git/hk/pre-commit && "
               "chmod 755 sub/.git/hk/pre-commit && chmod 555 sub/.git/hk && "
               "rm -rf sub/.git/hooks && mv sub/.git/hk sub/.git/hooks && echo planted; "
               "sleep 2.5" % mark)
    assert "planted" in r.stdout, r.stderr
    sub = box.path("work", "sub")
    h = host(box, ["git", "commit", "-q", "--allow-empty", "-m", "host"], cwd=sub, env=GIT_ENV)
    # make the tree removable again for the fixture (the host's own chmod)
    for d in (sub, os.path.join(sub, ".git", "hooks"), os.path.join(sub, ".git", "hk")):
        if os.path.isdir(d):
            os.chmod(d, 0o755)
    assert h.returncode == 0 or "not a git repository" in h.stderr, h.stderr
    assert not os.path.exists(mark), "the host's git ran the sandbox's hook\n" + r.stderr[-600:]


def test_copilot_hooks_renamed_in_under_a_directory_made_read_only(box):
    """Hole, user-ns: at the project's top, where `.github/hooks` is
    absent (a built-in name, moved aside as soon as it appears), the
    sandbox prepares gh/hooks/h.json beside it, makes gh mode 0555 and renames it to
    `.github`.  The supervisor sees `.github/hooks` arrive but cannot
    rename it inside a directory its owner made unwritable (unprivileged,
    EACCES); the exit check fails the same way: Copilot CLI's hooks are
    left.  Without namespaces the file gate refuses the rename into the
    top; a root supervisor is not held back by the mode.
    Control: the command ran and prepared gh/hooks/h.json."""
    make_repo(box)
    owned(box)
    hook = '{"version":1,"hooks":{"sessionStart":[{"type":"command","bash":"touch MARK"}]}}'
    # gh beside .github: renaming a directory into another one needs write
    # on the directory moved (its ..), which 0555 takes away
    r = run_sh(box, "mkdir -p gh/hooks && echo '%s' > gh/hooks/h.json && "
               "test -s gh/hooks/h.json && echo prepared && chmod 555 gh && "
               "mv gh .github; sleep 0.5; echo ran" % hook)
    assert "prepared" in r.stdout and "ran" in r.stdout, r.stderr
    found = os.path.exists(box.path("work", ".github", "hooks", "h.json"))
    for d in (box.path("work", ".github"), box.path("work", "gh")):
        if os.path.isdir(d):
            os.chmod(d, 0o755)
    assert not found, "Copilot CLI's hooks left at the top\n" + r.stderr[-600:]


# --- what held --------------------------------------------------------------

TMPFILE_LINK = r"""
import os
def tmpfile_to(name):
    try:
        fd = os.open(".", os.O_TMPFILE | os.O_WRONLY, 0o644)
    except OSError as e:
        print("tmpfile", name, "refused", e.errno, flush=True)
        return
    os.write(fd, b'{"mcpServers":{"x":{"command":"touch","args":["MARK"]}}}\n')
    try:
        os.link("/proc/self/fd/%d" % fd, name, follow_symlinks=True)
        print("link", name, "ok", flush=True)
    except OSError as e:
        print("link", name, "refused", e.errno, flush=True)
os.chdir("data")
tmpfile_to("plain.json")
os.chdir("..")
tmpfile_to(".mcp.json")
import time; time.sleep(0.3)
"""


def test_guard_o_tmpfile_linked_to_an_absent_name(box):
    """An unnamed file (O_TMPFILE) written first and given the name
    `.mcp.json` by linkat through /proc/self/fd: no name exists before the
    link, which makes the whole file at once.  Held in every mode: the
    link is refused (Landlock's refer right: EXDEV, also for an ordinary
    name), or the unnamed file itself (the file gate).  Control: the
    unnamed file was made and written in data/ and the link tried."""
    make_repo(box)
    os.makedirs(box.path("work", "data"))
    owned(box)
    r = box.run(["python3", "-c", TMPFILE_LINK], policy=box.policy(""))
    # the unnamed file was made and written in data/ (its link is refused
    # in every mode: Landlock's refer right, EXDEV), and the attempt at the
    # top was made
    assert "link plain.json" in r.stdout, r.stdout + r.stderr
    assert ("link .mcp.json" in r.stdout or "tmpfile .mcp.json" in r.stdout), r.stdout + r.stderr
    assert not os.path.exists(box.path("work", ".mcp.json")), r.stdout + r.stderr


DAEMON = r"""
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for fd in (0, 1, 2):
            os.close(fd)
        open("data/started", "w").close()
        # past the command's end, and past the exit checks' start
        time.sleep(1.5)
        for n in (".mcp.json", ".envrc", "data/late"):
            try:
                with open(n, "w") as f:
                    f.write("touch MARK\n")
            except OSError:
                pass
        os.makedirs(".claude", exist_ok=True)
        with open(".claude/settings.json", "w") as f:
            f.write('{"hooks":{}}')
        os._exit(0)
    os._exit(0)
os.wait()
for _ in range(100):
    if os.path.exists("data/started"):
        break
    time.sleep(0.02)
print("forked", os.path.exists("data/started"), flush=True)
"""


def test_guard_a_daemon_that_outlives_the_command_writes_nothing_after(box):
    """A double-forked setsid daemon that waits past the command's end to
    make .mcp.json, .envrc and .claude/settings.json: ended with the
    sandbox (PID namespace, or init and the subreaper supervisor) before
    the exit checks, so nothing appears afterwards either.  Control: the
    daemon started (its mark); data/late, an ordinary name, tells whether
    it got to write at all."""
    make_repo(box)
    os.makedirs(box.path("work", "data"))
    owned(box)
    r = box.run(["python3", "-c", DAEMON], policy=box.policy(""), timeout=30)
    assert "forked True" in r.stdout, r.stdout + r.stderr
    time.sleep(2.5)
    late = os.path.exists(box.path("work", "data", "late"))
    for n in (".mcp.json", ".envrc", ".claude/settings.json", ".claude"):
        assert not os.path.exists(box.path("work", n)), (n, late, r.stderr)


def test_guard_policy_included_from_the_project_stays_read_only(box):
    """The policy (-p) and a file it includes, both in the project: the
    next run with the same -p reads them, so neither may be written,
    replaced or renamed.  Control: the run started with that policy (its
    include took effect: /var/tmp readable) and an ordinary file is
    written."""
    make_repo(box)
    base = box.policy("")
    box.write("work/inc.ini", "[filesystem]\nread = /var/tmp\n")
    box.write("work/pol.ini", "[sandbox]\ninclude = %s\ninclude = inc.ini\n" % base)
    owned(box)
    r = box.run(["sh", "-c",
                 "ls /var/tmp >/dev/null && echo inc-ok; echo w > data.txt && echo plain-ok; "
                 "echo '[filesystem]' >> inc.ini; echo 'write = /' >> inc.ini; "
                 "mv inc.ini inc.old; printf '[filesystem]\\nwrite = /\\n' > inc.new; "
                 "mv -f inc.new inc.ini; echo >> pol.ini; ln -sf /dev/null pol.ini; true"],
                policy=box.path("work", "pol.ini"))
    assert "inc-ok" in r.stdout and "plain-ok" in r.stdout, r.stdout + r.stderr
    assert open(box.path("work", "inc.ini")).read() == "[filesystem]\nread = /var/tmp\n"
    assert not os.path.islink(box.path("work", "pol.ini"))
    assert "write = /" not in open(box.path("work", "pol.ini")).read()


def test_guard_hard_link_of_a_protected_file_is_not_a_way_to_write_it(box):
    """A present .vscode/tasks.json linked (link, linkat through an O_PATH
    descriptor) to a writable name, then written through it: refused
    (another mount, EXDEV; or Landlock's refer right).  Control: a hard
    link of an ordinary file in the same place works and writes."""
    make_repo(box)
    box.write("work/.vscode/tasks.json", '{"version":"2.0.0","tasks":[]}\n')
    box.write("work/data/plain", "p\n")
    owned(box)
    r = box.run(["python3", "-c", r"""
import os
def t(src, dst):
    try:
        os.link(src, dst); print(dst, "linked", flush=True)
    except OSError as e:
        print(dst, "refused", e.errno, flush=True); return
    with open(dst, "a") as f: f.write("PWNED\n")
t("data/plain", "data/plain2")
t(".vscode/tasks.json", "data/tasks")
fd = os.open(".vscode/tasks.json", os.O_PATH)
try:
    os.link("/proc/self/fd/%d" % fd, "data/tasks2", follow_symlinks=True)
    open("data/tasks2", "a").write("PWNED\n")
except OSError as e:
    print("opath refused", e.errno)
"""], policy=box.policy(""))
    assert "data/plain2 linked" in r.stdout, r.stdout + r.stderr
    assert "PWNED" in open(box.path("work", "data", "plain")).read()
    assert open(box.path("work", ".vscode", "tasks.json")).read() == \
        '{"version":"2.0.0","tasks":[]}\n', r.stdout + r.stderr


def test_guard_the_hosts_read_only_git_directory_keeps_its_mode(box):
    """Guard: the supervisor gives itself write back only in a directory
    whose mode the run changed.  The host's own read-only refs/tags (0555
    before the run, as a mirror's) keeps its mode through a run that
    commits, after the end's checks walked it (control: the commit ran).
    (The run's own 0555 directories are the holes above.)"""
    make_repo(box)
    owned(box)
    tags = box.path("work", ".git", "refs", "tags")
    os.makedirs(tags, exist_ok=True)
    os.chmod(tags, 0o555)
    r = run_sh(box, "echo y > g && git add g && "
               "git -c user.name=t -c user.email=t@x commit -qm inside && echo committed")
    assert "committed" in r.stdout.split(), r.stdout + r.stderr
    assert os.stat(tags).st_mode & 0o777 == 0o555, oct(os.stat(tags).st_mode)
    os.chmod(tags, 0o755)
