# SPDX-License-Identifier: MIT
"""A VS Code workspace file at a project's top (NAME.code-workspace): its
`tasks` run when the workspace is opened (`"runOn": "folderOpen"`) and its
`settings` name the interpreters and shells the editor starts, as .vscode/
does (a built-in name, held); VS Code offers to open one it finds at the
folder's top.  The sandbox made one, or rewrote the project's, and the
host's next open of the folder ran what it wrote (protect_python.c holds
the pattern at each top).

Holes (each FAILS on 929bd1e in every mode of the box fixture): one made
at the top, in another case of its suffix, renamed in, and made while the
supervisor was stopped and then killed (the next start's check); the
project's own rewritten.
Positive controls: the command ran and wrote beside it (notes.json); a
workspace file below the top, which VS Code does not offer, stays the
project's.
"""
import os
import signal
import subprocess
import time

import pytest

from conftest import NOBODY, wait_unlocked
from test_hostfiles_attacks import ran

TASK = ('{"folders":[{"path":"."}],"tasks":{"version":"2.0.0","tasks":[{"label":"x",'
        '"command":"touch /tmp/owned","runOptions":{"runOn":"folderOpen"}}]}}')

MADE = {
    "made": "printf '%s' \"$T\" > app.code-workspace",
    "capitals": "printf '%s' \"$T\" > App.CODE-WORKSPACE",
    "renamed-in": "mkdir -p data && printf '%s' \"$T\" > data/w.json && "
                  "mv data/w.json app.code-workspace",
}


def run_in_project(box, script):
    return box.run(["sh", "-c", "export T='%s'; echo ran; (%s) && echo planted; "
                    "echo '{}' > notes.json && echo free" % (TASK, script)],
                   policy=box.policy(""))


def workspace_files(box):
    return [n for n in os.listdir(box.work)
            if n.lower().endswith(".code-workspace")]


@pytest.mark.parametrize("case", sorted(MADE))
def test_a_workspace_file_made_at_the_top_does_not_stay(box, case):
    r = run_in_project(box, MADE[case])
    ran(r)
    assert "free" in r.stdout.split(), "control: the command could not write " + \
        r.stdout + r.stderr
    assert workspace_files(box) == [], \
        "the sandbox left a workspace file the host's editor opens: " + r.stdout + r.stderr
    # said: refused where the gate keeps the top, else moved aside
    assert "planted" not in r.stdout.split() or "code-workspace" in r.stderr.lower(), r.stderr


def test_the_projects_workspace_file_is_held(box):
    path = os.path.join(box.work, "proj.code-workspace")
    with open(path, "w") as f:
        f.write('{"folders":[{"path":"."}]}\n')
    if box.user == "nobody":
        os.chown(path, NOBODY, NOBODY)
    r = run_in_project(box, "printf '%s' \"$T\" > proj.code-workspace || "
                       "{ rm -f proj.code-workspace && printf '%s' \"$T\" > proj.code-workspace; }")
    ran(r)
    assert "free" in r.stdout.split(), r.stdout + r.stderr
    with open(path) as f:
        assert f.read() == '{"folders":[{"path":"."}]}\n', \
            "the sandbox rewrote the project's workspace file: " + r.stdout + r.stderr


def test_guard_a_workspace_file_below_the_top_stays_the_projects(box):
    r = run_in_project(box, "mkdir -p docs && printf '%s' \"$T\" > docs/x.code-workspace")
    ran(r)
    assert "planted" in r.stdout.split(), r.stdout + r.stderr
    assert os.path.exists(os.path.join(box.work, "docs", "x.code-workspace"))
    assert workspace_files(box) == []


def test_a_workspace_file_a_killed_run_made_is_moved_by_the_next_start(box):
    """The supervisor stopped, then killed, after the sandbox made one:
    neither the watch nor the check at exit ran; the next start's check of
    the crash journal moves it aside."""
    from test_protect_deep import STOPPED_APART, stop_supervisor
    state = box.path("state")
    os.mkdir(state)
    data = os.path.join(box.work, "data")
    os.mkdir(data)
    if box.user == "nobody":
        os.chown(state, NOBODY, NOBODY)
        os.chown(data, NOBODY, NOBODY)
    env = {"HOME": box.work, "XDG_STATE_HOME": state}
    p = box.popen(["sh", "-c", ": > data/ready; while [ ! -e data/go ]; do sleep 0.05; done; "
                   "echo '{}' > app.code-workspace; : > data/made; sleep 30"],
                  policy=box.policy(""), env=env, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE, text=True, **STOPPED_APART)
    try:
        for _ in range(200):
            if os.path.exists(os.path.join(data, "ready")) or p.poll() is not None:
                break
            time.sleep(0.05)
        assert os.path.exists(os.path.join(data, "ready")), p.communicate()
        stop_supervisor(p.pid)
        open(os.path.join(data, "go"), "w").close()
        for _ in range(200):
            if os.path.exists(os.path.join(data, "made")):
                break
            time.sleep(0.05)
        assert os.path.exists(os.path.join(data, "made"))
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.communicate(timeout=30)
    assert workspace_files(box) == ["app.code-workspace"]
    wait_unlocked(os.path.join(state, "ringfence"))
    r = box.run(["true"], policy=box.policy(""), env=env)
    assert r.returncode == 0, r.stderr
    assert "checking now" in r.stderr, r.stderr
    assert workspace_files(box) == [], r.stderr
