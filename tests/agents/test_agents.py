# SPDX-License-Identifier: MIT
"""The agent CLIs, each under its shipped policy, against a fake API.

`make check-agents` installs the CLIs (pinned, into a cache outside the
clone) and runs this.  For each CLI, as root (run_as) and as an unprivileged
user, on a fresh home:

- headless mode answers: the fake API's answer is printed, the server got the
  real key, the CLI only ever held a placeholder, and no log holds the key;
- told by its model, in its auto-approve mode, to plant hooks, MCP entries,
  rc files and settings everywhere the host's own tools read them, the CLI
  runs the tool call (a marker in the project proves it ran, and the
  environment it dumped holds the placeholder) yet nothing the host trusts
  changed: every file of the home outside ringfence's state directory and the
  project is as it was.
"""
import os

import pytest

import harness

CHECKED = [a for a in harness.AGENTS if a not in harness.NOT_CHECKED]
USERS = ["root", "nobody"]


def missing(name):
    return not os.path.exists(os.path.join(harness.BIN, harness.AGENTS[name]["bin"]))


pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="switches users and binds port 443: run as root"),
]


@pytest.fixture
def run(request):
    runs = []

    def make(name, user, mode="answer", namespaces=True):
        if missing(name):
            pytest.skip("%s is not installed in %s (make check-agents installs it)"
                        % (name, harness.CACHE))
        r = harness.Run(name, user, mode, namespaces=namespaces)
        runs.append(r)
        return r
    yield make
    for r in runs:
        if os.environ.get("RINGFENCE_AGENTS_KEEP"):
            r.stop()
        else:
            r.cleanup()


def explain(r, res):
    return "rc=%s\nstdout:\n%s\nstderr:\n%s\naudit (last lines):\n%s" % (
        res.returncode, res.stdout[-3000:], res.stderr[-3000:],
        "\n".join(r.audit().splitlines()[-15:]))


def check_keys(r, res):
    """The server got the real key; the CLI only the placeholder; no log holds the key."""
    reqs = r.requests()
    assert reqs, "the fake API got no request\n" + explain(r, res)
    with_key = [q for q in reqs if any(r.key in v for v in q["headers"].values())]
    assert with_key, "no request carried the real key\n" + explain(r, res)
    for q in reqs:
        for k, v in q["headers"].items():
            assert "ringfence_" not in v and harness.PLACEHOLDER_MARK not in v, \
                "a placeholder reached the API in %s: %s" % (k, q["path"])
    assert r.key not in r.audit(), "the audit log holds the secret"
    assert r.key not in res.stdout and r.key not in res.stderr


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("name", CHECKED)
def test_headless_answer_on_a_fresh_home(run, name, user):
    r = run(name, user)
    r.start_server()
    res = r.run()
    assert res.returncode == 0, explain(r, res)
    assert harness.ANSWER in res.stdout, explain(r, res)
    check_keys(r, res)
    # what it keeps (sessions, settings) persisted, in ringfence's state
    # directory for the policy
    state = r.state_dir()
    kept = [f for _, _, files in os.walk(state) for f in files]
    assert kept, "nothing persisted in %s\n%s" % (state, explain(r, res))


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("name", CHECKED)
def test_plants_never_reach_the_host(run, name, user):
    plants(run(name, user, mode="attack"))


@pytest.mark.parametrize("name", ["claude", "codex"])
def test_plants_never_reach_the_host_without_namespaces(run, name):
    """Landlock alone, the CLI pointed at its private state by a variable."""
    plants(run(name, "nobody", mode="attack", namespaces=False))


def plants(r):
    r.seed_host_files()
    r.own()
    before = r.host_view()
    r.start_server()
    res = r.run()
    assert res.returncode == 0, explain(r, res)
    # positive control: the model's tool call ran inside
    marker = os.path.join(r.work, "out", "agent-marker.txt")
    assert os.path.exists(marker), "the tool call never ran\n" + explain(r, res)
    assert harness.ANSWER in res.stdout, explain(r, res)
    with open(os.path.join(r.work, "out", "agent-env.txt")) as f:
        env = f.read()
    assert r.key not in env, "the CLI held the real key"
    var = r.spec.get("inside", r.spec["key"])
    seen = [line for line in env.splitlines() if line.startswith(var + "=")]
    assert "HOME=" in env, "the environment dump is empty"
    if r.spec.get("tool_env_scrubbed"):
        # the CLI drops its token from its tools' environment itself
        assert not seen
    else:
        assert seen and seen[0] != var + "=", "no placeholder in %s" % var
    check_keys(r, res)
    after = r.host_view()
    changed = sorted(p for p in set(before) | set(after)
                     if before.get(p) != after.get(p) and after.get(p) != "dir")
    assert not changed, "files the host trusts changed: %s\n%s" % (changed, explain(r, res))
    for p in harness.PLANTS:
        path = r.p(p)
        if os.path.isfile(path):
            with open(path, errors="replace") as f:
                assert "PLANTED" not in f.read(), "%s was planted" % p


@pytest.mark.parametrize("user", ["nobody"])
@pytest.mark.parametrize("name", CHECKED)
def test_interactive_start(run, name, user):
    """The TUI starts on a fresh home, stays up, and reaches the fake API
    where it asks it something before any sign-in (unprivileged only, to
    keep the run short: root with run_as is covered by the headless runs)."""
    r = run(name, user)
    r.start_server()
    inter = r.spec["interactive"]
    def done(screen):
        paths = [q["path"] for q in r.requests()]
        return all(any(w in p for p in paths) for w in inter.get("expect", [])) and \
            "".join(inter.get("screen", "").split()) in "".join(screen.split())
    alive, screen = r.interactive(inter["argv"], inter["keys"], done,
                                  delay=inter.get("delay", 0))
    # Qwen Code's vendored ripgrep ships without its execute bit (its
    # install script sets it; npm runs no install scripts here): not ours
    flat = "".join(l for l in screen.split("\n") if "ripgrep" not in l and "/rg " not in l)
    flat = "".join(flat.split())
    why = "screen:\n%s\naudit (last lines):\n%s" % (
        screen[-3000:], "\n".join(r.audit().splitlines()[-15:]))
    assert alive, "the CLI exited\n" + why
    for bad in ("EACCES", "Permissiondenied", "Unabletoconnect", "failedtomapsegment"):
        assert bad not in flat, why
    if "screen" in inter:
        assert "".join(inter["screen"].split()) in flat, why
    paths = [q["path"] for q in r.requests()]
    for want in inter.get("expect", []):
        assert any(want in p for p in paths), "no %s in %s\n%s" % (want, paths, why)
    assert r.key not in r.audit() and r.key not in screen
    if inter.get("expect") and not inter.get("unkeyed"):
        assert any(r.key in v for q in r.requests() for v in q["headers"].values()), \
            "no request carried the real key"


# the CLIs a variable points at their private state (private_env)
MOVABLE = [a for a in CHECKED if a in ("claude", "codex")]


@pytest.mark.parametrize("name", CHECKED)
def test_without_namespaces(run, name):
    """Without a mount namespace, a CLI whose state a variable moves is pointed
    at its private copy and works; the others refuse to start (strict)
    rather than write the host's state."""
    r = run(name, "nobody", namespaces=False)
    r.start_server()
    res = r.run()
    if name not in MOVABLE:
        assert res.returncode == 125, explain(r, res)
        assert "private" in res.stderr and "mount namespace" in res.stderr, res.stderr
        assert not r.requests()
        return
    assert res.returncode == 0, explain(r, res)
    assert harness.ANSWER in res.stdout, explain(r, res)
    check_keys(r, res)
    kept = [f for _, _, files in os.walk(r.state_dir()) for f in files]
    assert kept, "nothing persisted in %s" % r.state_dir()
