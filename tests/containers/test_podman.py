# SPDX-License-Identifier: MIT
"""ringfence as a container ENTRYPOINT under podman (runc), in the settings
people deploy it in: rootful default, a restricted pod's (no capabilities,
no_new_privs, a non-root user), rootless, and a read-only root filesystem.

The image is made from this host's own files (mkrootfs.sh: no registry),
the runtime is configured from conf/containers.conf only (CONTAINERS_CONF;
the host's configuration is never read), storage lives in a temporary
directory.  Containers share the test network namespace of
tests/integration/test_network.py (public-looking addresses on its lo, an
HTTP server on them; policy.ini names the test hosts' addresses): no
packet leaves the machine.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from test_network import PUB, World  # noqa: E402

RINGFENCE = os.environ.get("RINGFENCE") or os.path.join(HERE, "..", "..", "ringfence")
CONF = os.path.join(HERE, "conf", "containers.conf")
IMAGE = "localhost/ringfence-test:ci"
NOBODY = 65534

SCRIPT = r"""
echo uid=$(id -u)
grep -E '^(Seccomp|NoNewPrivs|CapEff):' /proc/self/status
touch /etc/rf-x 2>/dev/null && echo wrote-etc
touch /usr/rf-x 2>/dev/null && echo wrote-usr
echo ok > f && echo wrote-work
curl -sS -m 10 http://good.test/hello
echo allow-rc=$?
curl -sS -m 10 -o /dev/null -w 'deny-code=%{http_code}\n' http://bad.test/hello
curl -sS -m 5 --noproxy '*' http://PUB/hello; echo direct-rc=$?
exit 3
""".replace("PUB", PUB)

# name -> (podman options, runs rootless)
SETTINGS = {
    "rootful": ([], False),
    "restricted": (["--cap-drop=ALL", "--security-opt", "no-new-privileges",
                    "--user", "1000:1000"], False),
    "rootless": ([], True),
    "rootless-user": (["--user", "0:0", "--cap-drop=ALL", "--security-opt",
                       "no-new-privileges"], True),
    "read-only": (["--read-only", "--tmpfs", "/work:mode=1777"], False),
    "unmasked": (["--security-opt", "unmask=ALL"], False),
}


class Podman:
    """podman with storage of its own, as root or as nobody (rootless)."""

    def __init__(self, world, rootless):
        self.world = world
        self.rootless = rootless
        self.dir = tempfile.mkdtemp(prefix="rf-podman-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        for d in ("root", "run", "home", "xdg"):
            os.mkdir(os.path.join(self.dir, d), 0o700)
            if rootless:
                os.chown(os.path.join(self.dir, d), NOBODY, NOBODY)
        self.env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "CONTAINERS_CONF": CONF, "HOME": os.path.join(self.dir, "home"),
                    "XDG_RUNTIME_DIR": os.path.join(self.dir, "xdg"),
                    "XDG_CONFIG_HOME": os.path.join(self.dir, "home"),
                    # no registries.conf or policy.json of the host's either
                    "CONTAINERS_REGISTRIES_CONF": os.path.join(HERE, "conf", "registries.conf"),
                    "CONTAINERS_STORAGE_CONF": os.path.join(self.dir, "storage.conf")}
        with open(self.env["CONTAINERS_STORAGE_CONF"], "w") as f:
            f.write('[storage]\ndriver = "vfs"\ngraphroot = "%s/root"\nrunroot = "%s/run"\n'
                    % (self.dir, self.dir))
        os.chmod(self.env["CONTAINERS_STORAGE_CONF"], 0o644)

    def argv(self, args):
        base = ["podman", "--root", os.path.join(self.dir, "root"), "--runroot",
                os.path.join(self.dir, "run"), "--storage-driver", "vfs"] + args
        if self.rootless:
            base = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                    "--clear-groups", "--"] + base
        # nsenter, not `ip netns exec`: that mounts a sysfs of its own,
        # without the cgroup hierarchy runc needs
        return ["nsenter", "--net=/run/netns/" + self.world.name] + base

    def run(self, args, timeout=120, **kw):
        return subprocess.run(self.argv(args), env=self.env, capture_output=True, text=True,
                              timeout=timeout, **kw)

    def popen(self, args):
        return subprocess.Popen(self.argv(args), env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def close(self):
        # this store only (system reset would touch the host's settings)
        self.run(["rmi", "--all", "--force"], timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def rootfs():
    if os.geteuid() != 0:
        pytest.skip("needs root (it starts rootful containers and switches to nobody)")
    if not shutil.which("podman") or not shutil.which("runc"):
        pytest.fail("podman and runc are needed: apt-get install podman runc")
    d = tempfile.mkdtemp(prefix="rf-image-", dir="/tmp")
    os.chmod(d, 0o755)
    tar = os.path.join(d, "rootfs.tar")
    subprocess.run(["sh", os.path.join(HERE, "mkrootfs.sh"), RINGFENCE,
                    os.path.join(HERE, "policy.ini"), tar], check=True)
    os.chmod(tar, 0o644)
    yield tar
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def world():
    w = World()
    yield w
    w.close()




@pytest.fixture(scope="module")
def engines(rootfs, world):
    """One podman store per mode, the image imported into each."""
    out = {}
    for rootless in (False, True):
        pm = Podman(world, rootless)
        r = pm.run(["import", "--change",
                    'ENTRYPOINT ["/usr/local/bin/ringfence", "-p", "/etc/ringfence/policy.ini"]',
                    "--change", "WORKDIR /work", rootfs, IMAGE])
        assert r.returncode == 0, r.stderr
        out[rootless] = pm
    yield out
    for pm in out.values():
        pm.close()


def base_opts():
    return ["run", "--rm", "--network=host"]


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_every_check_holds(engines, setting):
    opts, rootless = SETTINGS[setting]
    pm = engines[rootless]
    r = pm.run(base_opts() + opts + [IMAGE, "-v", "--", "sh", "-c", SCRIPT])
    out, err = r.stdout, r.stderr
    assert r.returncode == 3, (r.returncode, out, err)  # the command's own status
    assert "wrote-work" in out, err
    assert "wrote-etc" not in out and "wrote-usr" not in out
    assert "Seccomp:\t2" in out
    assert "NoNewPrivs:\t1" in out
    assert "CapEff:\t0000000000000000" in out
    assert "hello from %s" % PUB in out and "allow-rc=0" in out, (out, err)
    assert "deny-code=403" in out, out
    assert "direct-rc=0" not in out and out.count("hello from") == 1, out
    if setting == "restricted":
        assert "uid=1000" in out
    # every layer named once, and nothing silently lost
    for layer in ("namespaces:", "landlock:", "seccomp:", "capabilities:",
                  "network isolation:"):
        assert sum(1 for l in err.splitlines() if l.startswith("ringfence: " + layer)) == 1, \
            (layer, err)
    layers = [l for l in err.splitlines() if l.startswith("ringfence: namespaces:")][0]
    if setting == "rootless-user":
        # root with no capability at all: mapping root into a user
        # namespace needs CAP_SETFCAP, so no namespaces, the broker, and
        # one line saying why
        assert "namespaces: none" in layers, err
        assert "network isolation: connect broker" in err
        assert "CAP_SETFCAP" in err
    elif setting == "unmasked":
        # nothing covers /proc: a fresh one, and with it a PID namespace
        assert "pid, mount, ipc, net" in layers and "no PID" not in err, err
    else:
        assert "mount" in layers and "net" in layers, layers
        assert "no PID namespace" in layers, layers


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_probe_predicts_auto(engines, setting):
    opts, rootless = SETTINGS[setting]
    pm = engines[rootless]
    r = pm.run(base_opts() + opts + [IMAGE, "-v", "--", "sh", "-c", ":"])
    assert r.returncode == 0, r.stderr
    chosen = [l for l in r.stderr.splitlines() if l.startswith("ringfence: namespaces:")]
    p = pm.run(base_opts() + opts + ["--entrypoint", "/usr/local/bin/ringfence", IMAGE, "probe"])
    assert p.returncode == 0, p.stderr
    predicted = [l for l in p.stdout.splitlines() if l.startswith("namespaces = auto:")]
    assert len(chosen) == 1 and len(predicted) == 1, (r.stderr, p.stdout)

    def names(line):
        if line.startswith("ringfence: "):
            line = line[len("ringfence: "):]
        return line.split(": ", 1)[1].split(" (")[0].split(";")[0].strip()
    assert names(predicted[0]) == names(chosen[0]), (predicted, chosen)


@pytest.mark.parametrize("setting", ["rootful", "restricted", "rootless"])
def test_stop_reaches_the_command(engines, setting):
    """`podman stop` sends SIGTERM to PID 1, ringfence: the command gets it
    and the container ends with the command's status."""
    opts, rootless = SETTINGS[setting]
    pm = engines[rootless]
    name = "rf-" + uuid.uuid4().hex[:8]
    p = pm.popen(base_opts() + opts + ["--name", name, IMAGE, "--", "sh", "-c",
                                       "trap 'echo got-term; exit 7' TERM; echo up; "
                                       "while :; do sleep 0.1; done"])
    try:
        assert p.stdout.readline() == "up\n", p.stderr.read() if p.poll() is not None else ""
        s = pm.run(["stop", "-t", "20", name])
        assert s.returncode == 0, s.stderr
        p.wait(timeout=60)
        assert p.stdout.read() == "got-term\n"
        assert p.returncode == 7, p.stderr.read()
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()
