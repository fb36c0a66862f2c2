# SPDX-License-Identifier: MIT
"""Fixtures that drive the built ringfence binary the way users do.

Two users: root (a container ENTRYPOINT, optionally dropping to run_as) and an
unprivileged user (nobody, through setpriv: user namespaces, no privilege).
Two mechanisms: namespaces (the default) and `namespaces = off` (subreaper and
Landlock-only carve-outs).  Files live in a fresh directory under /tmp that
both users can read, with a copy of the binary and the escape programs.
"""
import atexit
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import textwrap
import time

import pytest

RINGFENCE = os.environ.get("RINGFENCE") or os.path.join(
    os.path.dirname(__file__), "..", "..", "ringfence")
ESCAPE_DIR = os.environ.get("ESCAPE_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "escape")
POLICIES = os.path.join(os.path.dirname(__file__), "..", "..", "policies")
NOBODY = 65534
IS_ROOT = os.geteuid() == 0


def sanitized(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return False
    return b"libasan.so" in data or b"AddressSanitizer" in data


# An ASan+UBSan build (make asan): each of its processes costs some 50 to
# 100 ms more to start and end, so a test that repeats a run many times
# (a race tried 200 times) repeats it fewer times there; the plain build's
# suite (make check) keeps the full count.
SANITIZED = sanitized(RINGFENCE)


CLOCK_REALTIME_COARSE = 5  # Linux's; the time module does not name it


def past_the_tick():
    """Returns once the coarse clock, which file times come from, has passed
    the present.  ringfence counts a change made in the clock tick its run
    starts in as the run's (supervisor/layers.c, start_time()): what a test
    prepared on the host just before a start would otherwise be moved
    aside, or its mode put back, as the sandbox's, now and then."""
    now = time.clock_gettime(time.CLOCK_REALTIME)
    while time.clock_gettime(CLOCK_REALTIME_COARSE) <= now:
        time.sleep(0.001)


def _no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        raise ValueError("duplicate keys %s" % sorted(dup))
    return dict(pairs)


def audit_events(path):
    """The audit log at PATH, each line parsed strictly: UTF-8, one JSON
    object per line, no key twice, a time, an event and a pid in each."""
    with open(path, "rb") as f:
        raw = f.read()
    events = []
    for n, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        assert line.strip(), "empty line %d in %s" % (n, path)
        try:
            e = json.loads(line, object_pairs_hook=_no_duplicate_keys)
        except ValueError as ex:
            raise AssertionError("%s:%d: %s: %s" % (path, n, ex, line))
        assert isinstance(e, dict) and {"ts", "event", "pid"} <= set(e), line
        events.append(e)
    return events


def _place(src, dst):
    """DST as a hard link to SRC (the build's binaries, the shipped
    policies: never written by a test), or a copy where a link cannot
    serve: another file system, or a file the unprivileged user could not
    read.  Copies cost ~20 ms a box (2.5 MB), in every one of the suite's
    ~1,200 boxes; links, well under 1 ms."""
    if os.stat(src).st_mode & 0o004:
        try:
            os.link(src, dst)
            return dst
        except OSError:
            pass
    return shutil.copy2(src, dst)


def remove_tree(*paths):
    """PATHS and all beneath, in this process (an rm(1) a box, in each of
    the suite's ~1,200 boxes, was ~1 s of CPU a run); rm -rf for whatever
    that left (it says nothing either)."""
    left = []
    for p in paths:
        shutil.rmtree(p, ignore_errors=True)
        if os.path.lexists(p):
            left.append(p)
    if left:
        subprocess.run(["rm", "-rf"] + left, check=False)


class Scratch:
    """Where this pytest process makes its boxes: a tmpfs of its own at
    /tmp/rf-it-fs-XXXX (still beneath /tmp, as the boxes always were), with
    one copy of the build's files for the boxes to link to.

    Why not /tmp itself: on an ext4 without a journal (this project's CI
    and development machines) every new inode is looked for past the
    inodes deleted in the last ~30 s (ext4's recently_deleted()), and the
    suite deletes tens of thousands of files a minute: a third of the
    suite's CPU went to that search.  Without root, or where the mount
    fails, the boxes go in /tmp as before."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="rf-it-fs-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.mounted = IS_ROOT and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "mode=0755", "rf-it", self.dir],
            capture_output=True).returncode == 0
        if self.mounted:
            # the build's files where the boxes can link to them (a link
            # does not cross file systems; a copy a box is 2.5 MB)
            build = os.path.join(self.dir, "build")
            os.mkdir(build)
            os.chmod(build, 0o755)
            self.ringfence = shutil.copy2(RINGFENCE, os.path.join(build, "ringfence"))
            self.escape = shutil.copytree(ESCAPE_DIR, os.path.join(build, "escape"))
            self.policies = shutil.copytree(POLICIES, os.path.join(build, "policies"))
        else:
            self.ringfence, self.escape, self.policies = RINGFENCE, ESCAPE_DIR, POLICIES
        atexit.register(self.close)

    def close(self):
        if self.mounted:
            subprocess.run(["umount", "-l", self.dir], check=False)
        remove_tree(self.dir)


_scratch = None


def scratch():
    global _scratch
    if _scratch is None:
        _scratch = Scratch()
    return _scratch


class Box:
    """A scratch world: bin/ (ringfence + escape programs), work/ (the cwd)."""

    def __init__(self, user, namespaces):
        self.user = user
        self.namespaces = namespaces
        build = scratch()
        self.root = tempfile.mkdtemp(prefix="rf-it-", dir=build.dir)
        os.chmod(self.root, 0o755)
        self.bin = os.path.join(self.root, "bin")
        self.work = os.path.join(self.root, "work")
        os.mkdir(self.bin)
        os.mkdir(self.work)
        self.ringfence = os.path.join(self.bin, "ringfence")
        _place(build.ringfence, self.ringfence)
        for name in os.listdir(build.escape):
            # a test makes its copy of suid_probe set-user-ID root: a link
            # would make the build's file so
            (shutil.copy2 if name == "suid_probe" else _place)(
                os.path.join(build.escape, name), os.path.join(self.bin, name))
        # the shipped policies where the unprivileged user can read them
        # wherever the checkout lives
        self.policies = os.path.join(self.root, "policies")
        shutil.copytree(build.policies, self.policies, copy_function=_place)
        self.default = os.path.join(self.policies, "default.ini")
        # beneath root's home: ringfence keeps agent state in
        # $XDG_STATE_HOME only there
        self.root_state = "/root/.local/state/" + os.path.basename(self.root)
        if user == "nobody":
            os.chown(self.work, NOBODY, NOBODY)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write(self, rel, text, mode=0o644, owner=None):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        if owner is not None:
            os.chown(p, owner, owner)
        return p

    def policy(self, body, name="policy.ini", base=True):
        """A policy that includes the default (unless base=False), plus BODY."""
        head = ""
        if base:
            head = "[sandbox]\ninclude = %s\n" % self.default
            if self.namespaces == "off":
                head += "namespaces = off\n"
            head += "[filesystem]\nexec = %s\n" % self.bin
            if self.user == "root":
                head += "[process]\nrun_as = root\n"
        elif self.namespaces == "off" and "namespaces" not in body:
            head = "[sandbox]\nnamespaces = off\n"
        return self.write(name, head + textwrap.dedent(body))

    def cmd(self, args):
        past_the_tick()
        if self.user == "nobody":
            return ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                    "--clear-groups", "--"] + args
        return args

    def env(self, extra=None):
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
               "HOME": self.work if self.user == "nobody" else "/root"}
        if extra:
            env.update(extra)
        if env["HOME"] == "/root" and "XDG_STATE_HOME" not in env:
            # runs that share HOME=/root keep their crash journals and
            # agent state in a directory of this box's own (as nobody's
            # runs do in their home), so that a supervisor one test kills
            # is not recovered, with a warning, by an unrelated test run
            # beside it or after it
            env["XDG_STATE_HOME"] = self.root_state
        return env

    def run(self, args, policy=None, env=None, cwd=None, timeout=60, input=None, opts=()):
        argv = [self.ringfence]
        if policy:
            argv += ["-p", policy]
        argv += list(opts) + ["--"] + list(args)
        return subprocess.run(self.cmd(argv), cwd=cwd or self.work, env=self.env(env),
                              capture_output=True, text=True, timeout=timeout, input=input)

    def raw(self, argv, env=None, cwd=None, timeout=60):
        """ringfence with exactly ARGV (no -p, no --)."""
        return subprocess.run(self.cmd([self.ringfence] + list(argv)), cwd=cwd or self.work,
                              env=self.env(env), capture_output=True, text=True,
                              timeout=timeout)

    def popen(self, args, policy=None, env=None, **kw):
        argv = [self.ringfence] + (["-p", policy] if policy else []) + ["--"] + list(args)
        return subprocess.Popen(self.cmd(argv), cwd=self.work, env=self.env(env), **kw)

    def cleanup(self):
        remove_tree(self.root, self.root_state)


def go_client(name, source):
    """The Go program SOURCE (its text) built as NAME with Debian's
    golang-go, once for all the pytest processes of a build: the first
    builds it beside the escape programs while the others wait on a lock,
    then each uses that file; built again when SOURCE changes.  Go's build
    cache is kept there too, between runs: with a fresh one a build
    compiles the standard library, ~6 s of CPU, which every worker paid at
    once when each built its own.  None without go."""
    go = shutil.which("go")
    if not go:
        return None
    d = os.path.join(os.path.dirname(os.path.abspath(ESCAPE_DIR)), "go")
    os.makedirs(d, exist_ok=True)
    src, out = os.path.join(d, name + ".go"), os.path.join(d, name)
    with open(os.path.join(d, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(src) as f:
                same = f.read() == source
        except FileNotFoundError:
            same = False
        if not same or not os.path.exists(out):
            with open(src + ".tmp", "w") as f:
                f.write(source)
            os.rename(src + ".tmp", src)
            env = dict(os.environ, GOCACHE=os.path.join(os.path.dirname(d), "gocache"),
                       GOPATH=os.path.join(d, "gopath"), HOME=d, CGO_ENABLED="0",
                       GO111MODULE="off")
            subprocess.run([go, "build", "-o", out + ".tmp", src], check=True, env=env,
                           capture_output=True)
            os.chmod(out + ".tmp", 0o755)
            os.rename(out + ".tmp", out)
    return out


def slow(test):
    """Marks a test that waits out one of the proxy's timers (a plain
    attribute, not a pytest mark: tests/containers imports these modules
    without this conftest)."""
    test.waits_out_a_timer = True
    return test


def mode_params(item):
    """The names of ITEM's parameters that come from a fixture's own
    params (box's four modes, the network fixtures' root/user and
    namespace/broker), not from @pytest.mark.parametrize."""
    cs = getattr(item, "callspec", None)
    if cs is None:
        return set()
    defs = item._fixtureinfo.name2fixturedefs
    return {k for k in cs.params
            if k in defs and defs[k][-1].func.__name__ != "get_direct_param_fixture_func"}


def pick_modes(items, how):
    """RINGFENCE_MODES=two: each test in two of its fixture's modes, one
    of each mechanism (the modes are listed root-ns, root-nons|broker,
    user-ns, user-nons|broker: positions i and n-1-i), root and
    unprivileged each taking one, which one turning from test to test;
    one: a single mode per test, turning likewise; other: the one at the
    other end of the same diagonal (one and other together run what two
    runs).  Every mode is then still run across the suite.  all (the
    default): every mode."""
    groups = {}
    for it in items:
        modes = mode_params(it)
        if not modes:
            continue
        rest = tuple(sorted((k, repr(v)) for k, v in it.callspec.params.items()
                            if k not in modes))
        groups.setdefault((it.nodeid.split("[")[0], rest), []).append(it)
    drop = set()
    for key, g in groups.items():
        if len(g) < 2:
            continue
        h = int(hashlib.sha256(repr(key).encode()).hexdigest(), 16)
        i = h % len(g)
        keep = {"one": {i}, "other": {len(g) - 1 - i}}.get(how, {i, len(g) - 1 - i})
        drop.update(id(it) for n, it in enumerate(g) if n not in keep)
    return [it for it in items if id(it) in drop]


def pytest_collection_modifyitems(config, items):
    """The tests that wait out the proxy's timers (shortened by their
    policies to a few seconds, [network] *_timeout) first: with
    parallel workers (make check runs pytest-xdist, one test at a time per
    worker) they then wait beside the rest instead of after it.
    RINGFENCE_MODES chooses how many of each test's modes run (pick_modes())."""
    how = os.environ.get("RINGFENCE_MODES", "all")
    if how not in ("all", "two", "one", "other"):
        raise pytest.UsageError("RINGFENCE_MODES: all, two, one or other, not %r" % how)
    if how != "all":
        gone = pick_modes(items, how)
        if gone:
            ids = {id(it) for it in gone}
            items[:] = [it for it in items if id(it) not in ids]
            config.hook.pytest_deselected(items=gone)
    items.sort(key=lambda item: not getattr(getattr(item, "function", None),
                                            "waits_out_a_timer", False))


MODES = [("root", "on"), ("root", "off"), ("nobody", "on"), ("nobody", "off")]


@pytest.fixture(params=MODES, ids=["root-ns", "root-nons", "user-ns", "user-nons"])
def box(request):
    user, ns = request.param
    if not IS_ROOT:
        pytest.skip("the suite switches users: run it as root (make check does)")
    b = Box(user, ns)
    yield b
    b.cleanup()


# Extended attributes are refused everywhere by default (EOPNOTSUPP: an ACL
# would give other users write within the grants).  A policy that allows
# them, for the tests of what then judges them: the read-only tree with
# namespaces, the attribute gate without.
XATTRS_ALLOWED = """
[syscalls]
allow = setxattr, lsetxattr, fsetxattr
allow_dangerous = yes
"""


# The start of a Python script a test's command runs: attempt(NAME, FN)
# prints "NAME ok" or "NAME refused ERRNO".
ATTEMPT = r"""
import os, sys
def attempt(name, fn):
    try:
        fn()
        print(name, "ok", flush=True)
    except OSError as e:
        print(name, "refused", e.errno, flush=True)
"""


def owner_of(box):
    """The uid the box's command runs as."""
    return NOBODY if box.user == "nobody" else 0


# Another local user of the host, which no box runs as (the user box's
# command is nobody): the one the sandbox must not let into its grants.
STRANGER = 4242


def stranger(*argv, groups=None):
    """ARGV run as STRANGER, with GROUPS as its groups (else none)."""
    g = ["--groups=%s" % ",".join(map(str, groups))] if groups else ["--clear-groups"]
    return subprocess.run(["setpriv", "--reuid=%d" % STRANGER, "--regid=%d" % STRANGER] + g +
                          list(argv), capture_output=True, text=True)


# The command's side of a race with the stranger: makes `born` writable by
# every user (umask 0), says "made", and waits (30 s at most) for the path
# argv[1] to appear, saying then "seen True" (or "seen False").
BORN_AND_WAIT = r"""
import os, sys, time
# past the first walk while the sandbox runs (50 ms after the start): the
# next is 2 s later, the stranger's window
time.sleep(0.3)
os.umask(0)
os.mkdir("born", 0o777)
print("made", flush=True)
for _ in range(600):
    if os.path.exists(sys.argv[1]):
        break
    time.sleep(0.05)
print("seen", os.path.exists(sys.argv[1]), flush=True)
"""


def run_with_stranger(box, script):
    """The command makes `born` 0777 and waits (BORN_AND_WAIT); the
    stranger runs SCRIPT (sh) meanwhile (the walk while the run lasts
    removes write for others from `born` within ~2 s: the stranger's
    window, tried again with a new run when the walk came first), then the
    run ends.  Returns its output."""
    box.write("work/wait.py", BORN_AND_WAIT)
    # what the stranger prepared is older than the start's clock tick
    time.sleep(0.05)
    born, go = os.path.join(box.work, "born"), os.path.join(box.work, "go")
    for _ in range(5):
        for n in (born, go):
            subprocess.run(["rm", "-rf", n], check=True)
        p = box.popen(["/usr/bin/python3", "wait.py", "go"], policy=box.policy(""),
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert p.stdout.readline().strip() == "made"
            s = stranger("sh", "-c", script)
            open(go, "w").close()
            out, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        assert p.returncode == 0 and "seen True" in out, out + err
        if s.returncode == 0:
            return out, err
    assert False, ("the stranger never came before the walk", s.stderr)


def wait_unlocked(d, timeout=10):
    """Until every journal in D is unlocked: the killed run's init is gone."""
    import fcntl
    end = time.time() + timeout
    if not os.path.isdir(d):
        time.sleep(1)  # no journal: give the killed run time to end
        return
    for name in os.listdir(d):
        with open(os.path.join(d, name)) as f:
            while True:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(f, fcntl.LOCK_UN)
                    break
                except BlockingIOError:
                    assert time.time() < end, "the killed run never ended"
                    time.sleep(0.05)


def stranger_home(box):
    """The stranger's own directory, on the project's file system (as a
    home beside the user's in /home), made before the run."""
    home = os.path.join(box.root, "stranger")
    os.mkdir(home)
    os.chown(home, STRANGER, STRANGER)
    os.chmod(home, 0o755)
    return home


def own_top(box):
    """The box's work directory made the command's user's, mode 0755; that
    uid."""
    uid = owner_of(box)
    os.chown(box.work, uid, uid)
    os.chmod(box.work, 0o755)
    return uid


@pytest.fixture
def outside():
    """A directory outside /tmp (which a private /tmp replaces, carrying the
    grants beneath it across read-only) and outside every write grant: for
    files of the host's that a test's command may read, not write."""
    d = tempfile.mkdtemp(prefix="rf-out-", dir="/var/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(params=["root", "nobody"], ids=["root", "user"])
def nsbox(request):
    """Namespaces on only (for behaviour specific to them)."""
    if not IS_ROOT:
        pytest.skip("the suite switches users: run it as root (make check does)")
    b = Box(request.param, "on")
    yield b
    b.cleanup()


@pytest.fixture
def rootbox():
    if not IS_ROOT:
        pytest.skip("needs root")
    b = Box("root", "on")
    yield b
    b.cleanup()


@pytest.fixture(scope="session")
def world():
    """The test network namespace, its DNS and upstream servers
    (test_network.World), shared by the network tests of every module, one
    a pytest process.  Made for each module, it was made again each time
    a worker went from one module's tests to another's (make check hands
    out one test at a time): ~100 times a run, ~1 s each.  A test that
    changes it (resolv.conf, sysctls) puts it back."""
    if not IS_ROOT:
        pytest.skip("creating a test network namespace needs root")
    from test_network import World
    w = World()
    yield w
    w.close()


SSHD_CONFIG = """Port 2022
ListenAddress %(addr)s
HostKey %(dir)s/host_key
PidFile %(dir)s/sshd.pid
AuthorizedKeysFile %(dir)s/authorized_keys
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
PermitRootLogin prohibit-password
ForceCommand echo ssh-ok
"""


@pytest.fixture(scope="session")
def sshd(world):
    """An sshd of the test's own on good.test's address, port 2022, inside the
    test network namespace: its own host key and configuration, key login
    only, answering every login with ssh-ok.  One a pytest process, as the
    world is."""
    from test_network import PUB
    if not shutil.which("/usr/sbin/sshd") or not shutil.which("nc"):
        pytest.fail("sshd and nc are test dependencies (make deps: openssh-server, "
                    "netcat-openbsd)")
    d = os.path.join(world.dir, "sshd")
    os.makedirs(d)
    quiet = dict(check=True, capture_output=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    os.path.join(d, "host_key")], **quiet)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sandbox", "-f",
                    os.path.join(d, "client_key")], **quiet)
    shutil.copy(os.path.join(d, "client_key.pub"), os.path.join(d, "authorized_keys"))
    with open(os.path.join(d, "sshd_config"), "w") as f:
        f.write(SSHD_CONFIG % {"addr": PUB, "dir": d})
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation
    proc = subprocess.Popen(["ip", "netns", "exec", world.name, "/usr/sbin/sshd", "-D", "-e",
                             "-f", os.path.join(d, "sshd_config")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(100):
        if os.path.exists(os.path.join(d, "sshd.pid")):
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("sshd did not start: %s" % proc.stderr.read().decode())
    with open(os.path.join(d, "host_key.pub")) as f:
        host_key = " ".join(f.read().split()[:2])
    yield {"dir": d, "known_hosts": "[good.test]:2022 %s\n" % host_key}
    proc.kill()
    proc.wait()
