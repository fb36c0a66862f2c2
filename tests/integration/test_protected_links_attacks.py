# SPDX-License-Identifier: MIT
"""A protected name that is a symbolic link at the start (a project's
`.vscode -> conf/vsc`, `.mcp.json -> conf/mcp.json`, a workspace file or a
git hook linked to a file not made yet, as a clone may ship them): where
it led was held, the link itself not.  The sandbox removed the link and
put a directory or file of its own by that name, or made the file a link
leading nowhere named, and the host's next editor, claude or git commit
read what it wrote (an outside review of c0a7b8a).  Now the link is held
as a hook's links are (bound onto itself with a mount namespace, a
read-only carve-out without), and where one leading nowhere leads is held
as an absent name.

Holes: each case FAILS on c0a7b8a in every mode of the box fixture.
Positive control: the command ran and wrote beside them (notes.json).
"""
import os
import subprocess
import time

import pytest

from conftest import NOBODY
from test_hostfiles_attacks import chown_tree, ran

TASKS = ('{"version":"2.0.0","tasks":[{"label":"x","command":"touch /tmp/owned",'
         '"runOptions":{"runOn":"folderOpen"}}]}')

# the link, where it leads (made before the run when a directory), and
# what the sandbox tries
REPLACED = {
    "dir-link": (".vscode", "conf/vsc", True,
                 "rm -f .vscode; mkdir .vscode; printf '%s' \"$T\" > .vscode/tasks.json"),
    "file-link": (".mcp.json", "conf/mcp.json", False,
                  "rm -f .mcp.json; printf '{}' > .mcp.json"),
}

# a link leading nowhere yet, and where it leads
DANGLING = {
    "workspace": ("proj.code-workspace", "conf/ws.json"),
    "mcp": (".mcp.json", "conf/mcp.json"),
    "git-hook": (".git/hooks/pre-commit", "../../tools/hook.sh"),
}


def owned(box, path):
    if box.user == "nobody":
        os.chown(path, NOBODY, NOBODY, follow_symlinks=False)


def run(box, script):
    return box.run(["sh", "-c", "export T='%s'; echo ran; (%s) 2>&1; "
                    "echo '{}' > notes.json && echo free" % (TASKS, script)],
                   policy=box.policy(""))


@pytest.mark.parametrize("case", sorted(REPLACED))
def test_a_protected_name_that_is_a_link_stays_the_link(box, case):
    name, to, is_dir, script = REPLACED[case]
    target = os.path.join(box.work, to)
    os.makedirs(target if is_dir else os.path.dirname(target))
    if not is_dir:
        with open(target, "w") as f:
            f.write("{}\n")
    for d in (os.path.join(box.work, "conf"), target):
        owned(box, d)
    link = os.path.join(box.work, name)
    os.symlink(to, link)
    owned(box, link)
    r = run(box, script)
    ran(r)
    assert "free" in r.stdout.split(), r.stdout + r.stderr
    assert os.path.islink(link) and os.readlink(link) == to, \
        "the sandbox replaced the link %s: %s" % (name, r.stdout + r.stderr)


@pytest.mark.parametrize("case", sorted(DANGLING))
def test_a_protected_link_leading_nowhere_is_not_given_a_target(box, case):
    name, to = DANGLING[case]
    link = os.path.join(box.work, name)
    if name.startswith(".git/"):
        subprocess.run(["git", "init", "-q", box.work], check=True)
        chown_tree(box, box.work)
    os.symlink(to, link)
    owned(box, link)
    target = os.path.normpath(os.path.join(os.path.dirname(link), to))
    rel = os.path.relpath(target, box.work)
    r = run(box, "mkdir -p %s && printf '%%s' \"$T\" > %s" % (os.path.dirname(rel), rel))
    ran(r)
    assert "free" in r.stdout.split(), r.stdout + r.stderr
    assert not os.path.exists(target), \
        "the sandbox made what the link %s leads to: %s" % (name, r.stdout + r.stderr)
    assert os.path.islink(link)


# (a review of 6ef0e16) where a link leads, followed as the kernel follows
# it: a chain of nine links; a '..' after a link (sub/../cfg through
# sub -> a/b is a/cfg, not cfg)
RESOLVED = {
    "chain": (".vscode", ["l%d" % i for i in range(1, 10)], "conf/vsc",
              "mkdir -p conf/vsc && printf x > conf/vsc/tasks.json", "conf/vsc/tasks.json"),
    "dot-dot": (".zed", [], "sub/../zedcfg",
                "mkdir -p a/zedcfg && printf x > a/zedcfg/settings.json",
                "a/zedcfg/settings.json"),
}


@pytest.mark.parametrize("case", sorted(RESOLVED))
def test_where_a_dangling_link_leads_is_found_as_the_kernel_finds_it(box, case):
    name, chain, to, script, made = RESOLVED[case]
    os.makedirs(os.path.join(box.work, "a", "b"))
    os.symlink("a/b", os.path.join(box.work, "sub"))
    hops = [name] + chain
    for here, there in zip(hops, chain + [to]):
        os.symlink(there, os.path.join(box.work, here))
    chown_tree(box, box.work)
    r = run(box, script)
    ran(r)
    assert "free" in r.stdout.split(), r.stdout + r.stderr
    assert not os.path.exists(os.path.join(box.work, made)), \
        "the sandbox made what %s leads to: %s" % (name, r.stdout + r.stderr)


def test_guard_a_link_into_a_package_tree_leaves_it_the_projects(box):
    """(A review of 6ef0e16) `.npmrc -> node_modules/cfg/.npmrc`, a shared
    configuration package's file not installed yet: installing it is the
    command's work (held, npm install failed without namespaces)."""
    os.symlink("node_modules/cfg/.npmrc", os.path.join(box.work, ".npmrc"))
    owned(box, os.path.join(box.work, ".npmrc"))
    r = run(box, "mkdir -p node_modules/cfg && echo x > node_modules/cfg/.npmrc && "
            "echo installed")
    ran(r)
    assert "installed" in r.stdout.split(), r.stdout + r.stderr
    assert os.path.exists(os.path.join(box.work, "node_modules", "cfg", ".npmrc")), r.stderr


def test_guard_a_link_into_the_git_directory_leaves_the_hosts_git_alone(box):
    """(A review of 6ef0e16) `.mcp.json -> .git/index.lock`: the host's own
    git takes its lock while the command runs, and the watch moved it
    aside as the sandbox's."""
    subprocess.run(["git", "init", "-q", box.work], check=True)
    os.symlink(".git/index.lock", os.path.join(box.work, ".mcp.json"))
    chown_tree(box, box.work)
    p = box.popen(["sh", "-c", ": > ready; while [ ! -e go ]; do sleep 0.05; done; echo done"],
                  policy=box.policy(""), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                  text=True)
    try:
        for _ in range(200):
            if os.path.exists(os.path.join(box.work, "ready")) or p.poll() is not None:
                break
            time.sleep(0.05)
        lock = os.path.join(box.work, ".git", "index.lock")
        open(lock, "w").close()  # the host's git, outside the sandbox
        time.sleep(0.5)
        open(os.path.join(box.work, "go"), "w").close()
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert "done" in out.split(), out + err
    assert os.path.exists(lock), "the host's git lock was moved aside: " + err
