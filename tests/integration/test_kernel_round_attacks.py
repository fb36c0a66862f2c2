# SPDX-License-Identifier: MIT
"""Attacks on the kernel-side confinement (seccomp, Landlock, mounts, the
attribute gate) found by an outside review, run in every mode."""
import fcntl
import os
import shutil
import struct
import tempfile
import time

import pytest

from conftest import ATTEMPT, IS_ROOT, NOBODY, Box, audit_events, owner_of

# ext4's own numbers for the inode generation (the NFS file handle's
# generation): _IOR('f', 3, long) and _IOW('f', 4, long).  FS_IOC_SETVERSION
# (_IOW('v', 2, long)), which seccomp refuses, is only its old spelling: ext4
# takes both.
EXT4_IOC_GETVERSION = 0x80086603
EXT4_IOC_SETVERSION = 0x40086604


def generation(path):
    with open(path, "rb") as f:
        buf = fcntl.ioctl(f.fileno(), EXT4_IOC_GETVERSION, struct.pack("l", 0))
    return struct.unpack("l", buf)[0]


SET_GENERATION = ATTEMPT + r"""
import fcntl, struct
def setgen(path):
    with open(path, "rb") as f:
        fcntl.ioctl(f.fileno(), 0x40086604, struct.pack("l", 4242))
attempt("granted", lambda: setgen(sys.argv[1]))
attempt("outside", lambda: setgen(sys.argv[2]))
"""


@pytest.fixture
def ext4_dir():
    """A directory on an ext4 file system (the boxes live on a tmpfs),
    or a skip where there is none."""
    for base in ("/var/tmp", "/root", "/"):
        try:
            d = tempfile.mkdtemp(prefix="rf-kr-", dir=base)
        except OSError:
            continue
        os.chmod(d, 0o755)
        probe = os.path.join(d, "probe")
        open(probe, "w").close()
        try:
            # the control needs the call itself to work here (ext4
            # without metadata_csum)
            with open(probe, "rb") as f:
                fcntl.ioctl(f.fileno(), EXT4_IOC_SETVERSION, struct.pack("l", 7))
            assert generation(probe) == 7
        except (OSError, AssertionError):
            shutil.rmtree(d, ignore_errors=True)
            continue
        yield d
        shutil.rmtree(d, ignore_errors=True)
        return
    pytest.skip("no file system here that takes EXT4_IOC_SETVERSION")


def test_ext4_generation_outside_the_write_grants(box, ext4_dir):
    """chattr's NFS generation: seccomp refuses FS_IOC_SETVERSION, but ext4
    takes EXT4_IOC_SETVERSION as well, with ownership alone (a command
    started as root owns the host's files).  Outside the write grants the
    generation must stay.  It is refused as its old spelling is, in the
    grants too (EPERM: seccomp's answer); the control is the fixture's (the
    call works on this file system) and the command's run."""
    uid = owner_of(box)
    rw, ro = os.path.join(ext4_dir, "rw"), os.path.join(ext4_dir, "ro")
    for d in (rw, ro):
        os.mkdir(d)
        os.chmod(d, 0o755)
        with open(os.path.join(d, "file"), "w") as f:
            f.write("x\n")
        for p in (d, os.path.join(d, "file")):
            os.chown(p, uid, uid)
    before = generation(os.path.join(ro, "file"))
    box.write("work/setgen.py", SET_GENERATION)
    pol = box.policy("""
        [filesystem]
        read = %s
        write = %s
        """ % (ro, rw))
    r = box.run(["/usr/bin/python3", "setgen.py", os.path.join(rw, "file"),
                 os.path.join(ro, "file")], policy=pol)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "granted refused 1" in r.stdout, r.stdout + r.stderr
    assert generation(os.path.join(ro, "file")) == before, r.stdout
    assert "outside refused 1" in r.stdout, r.stdout


class AgentSocket:
    """A host service on a pathname Unix socket (an ssh-agent, gpg-agent or
    Docker socket), answering each connection with one line."""

    def __init__(self, path):
        import socket
        import threading
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(path)
        os.chmod(path, 0o777)
        self.sock.listen(8)
        self.served = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.served += 1
            c.sendall(b"AGENT-ANSWER\n")
            c.close()

    def close(self):
        self.sock.close()


CONNECT = ATTEMPT + r"""
import socket
def talk(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    print(path, s.recv(64).decode().strip(), flush=True)
for p in sys.argv[1:]:
    attempt(p, lambda: talk(p))
"""


@pytest.mark.parametrize("network", ["none", "broker"])
def test_unix_connect_glob_does_not_reach_into_a_deny_path(box, network):
    """A deny path keeps secrets out even where a broader grant would let
    them in: a unix_connect glob over a directory holding a denied one
    (`unix_connect = ~/**` with the default's deny of ~/.docker, ~/.gnupg,
    ~/.ssh) must not reach an agent's socket inside the denied directory.
    With a mount namespace the deny is a mask, and the supervisor resolves
    the path in the caller's view; without one nothing masks it, and the
    broker judges the socket by unix_connect alone.  The control: a
    socket beside the denied directory is reached."""
    shared = box.path("shared")
    secret = os.path.join(shared, "secret")
    os.makedirs(secret)
    for d in (shared, secret):
        os.chmod(d, 0o755)
    agent = AgentSocket(os.path.join(secret, "agent.sock"))
    beside = AgentSocket(os.path.join(shared, "beside.sock"))
    try:
        net = {"none": "mode = none\n",
               "broker": "mode = proxy\nisolation = broker\nallow = example.com\n"}[network]
        box.write("work/connect.py", CONNECT)
        pol = box.policy("""
            [filesystem]
            read = %s
            deny = %s
            [network]
            %sunix_connect = %s/**
            """ % (shared, secret, net, shared))
        r = box.run(["/usr/bin/python3", "connect.py", beside.path, agent.path], policy=pol)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "%s ok" % beside.path in r.stdout, r.stdout + r.stderr
        assert "%s refused" % agent.path in r.stdout, r.stdout + r.stderr
        assert agent.served == 0, r.stdout
    finally:
        agent.close()
        beside.close()


WAIT_THEN_READ = ATTEMPT + r"""
import time
print("started", flush=True)
for _ in range(600):
    if os.path.exists("go"):
        break
    time.sleep(0.05)
def read(p):
    with open(p) as f:
        print("read", f.read().strip(), flush=True)
attempt("denied", lambda: read(sys.argv[1]))
attempt("beside", lambda: read(sys.argv[2]))
"""


def test_deny_path_made_during_the_run(box):
    """A deny path absent at start (the default's ~/.aws, ~/.config/gh,
    ~/.docker before the operator's first `aws configure`, `gh auth login`
    or `docker login`) is made by the host while the command runs: what is
    written there must stay out of reach.  Start says only "does not
    exist: nothing to mask" (namespaces) or nothing (without).  The
    control: a file made beside it at the same time is read."""
    import subprocess
    if box.namespaces == "off":
        pytest.skip("without a mount namespace a deny path absent at start is not held "
                    "(SECURITY.md, Known limits)")
    shared = box.path("shared")
    os.mkdir(shared)
    os.chmod(shared, 0o755)
    # the command's user's, as a home is (where the placeholder is made)
    os.chown(shared, owner_of(box), owner_of(box))
    later = os.path.join(shared, "later")
    box.write("work/wait.py", WAIT_THEN_READ)
    # written as a directory (a trailing '/'), as default.ini's ~/.aws/
    pol = box.policy("""
        [filesystem]
        read = %s
        deny = %s/
        """ % (shared, later))
    p = box.popen(["/usr/bin/python3", "wait.py", os.path.join(later, "credentials"),
                   os.path.join(shared, "beside")], policy=pol,
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "started", p.stderr.read()
        # as `aws configure` does: mkdir -p (the run's placeholder may be
        # there)
        os.makedirs(later, exist_ok=True)
        os.chmod(later, 0o755)
        for name in (os.path.join(later, "credentials"), os.path.join(shared, "beside")):
            with open(name, "w") as f:
                f.write("SECRET-KEY\n")
            os.chmod(name, 0o644)
        open(os.path.join(box.work, "go"), "w").close()
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, out + err
    assert "beside ok" in out, out + err
    assert "denied refused" in out, out + err
    # the host's directory is left as the host made it, its file in it
    assert os.path.isfile(os.path.join(later, "credentials"))
    assert not [n for n in os.listdir(shared) if n.startswith("later.")], os.listdir(shared)


def test_an_absent_deny_directory_leaves_nothing_behind(box):
    """The placeholder held for an absent deny directory is removed at
    exit when the host put nothing in it: the host finds what it had."""
    if box.namespaces == "off":
        pytest.skip("no placeholder without a mount namespace")
    shared = box.path("shared")
    os.mkdir(shared)
    os.chmod(shared, 0o755)
    os.chown(shared, owner_of(box), owner_of(box))
    pol = box.policy("""
        [filesystem]
        read = %s
        deny = %s/later/
        """ % (shared, shared))
    r = box.run(["sh", "-c", "ls -a %s; cat %s/later/x; echo ran" % (shared, shared)],
                policy=pol)
    assert "ran" in r.stdout, r.stdout + r.stderr
    # renamed out of the way at exit, removed by a child of the supervisor
    # that may outlive it by a moment (placeholders_finish(): a mount
    # point's removal waits for the kernel; CI's load made it be seen)
    for _ in range(100):
        if not os.listdir(shared):
            break
        time.sleep(0.05)
    assert os.listdir(shared) == [], os.listdir(shared)


def host_writes_meanwhile(box, argv, pol, secret):
    """ARGV run in the sandbox until it says `started`; the host then makes
    SECRET (as its login tools do, mkdir -p) and writes NEW-TOKEN in it,
    and lets the command go on (a file `go`): its output."""
    import subprocess
    p = box.popen(argv, policy=pol, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        while line and line.strip() != "started":
            line = p.stdout.readline()
        os.makedirs(secret, exist_ok=True)
        with open(os.path.join(secret, "token"), "w") as f:
            f.write("NEW-TOKEN\n")
        open(os.path.join(box.work, "go"), "w").close()
        return p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


DAEMON = r"""
import os, signal, sys, time
if os.fork() == 0:
    os.setsid()
    # what a tree's end sends first, and an orphaned group's hang-up
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if os.fork() == 0:
        with open("daemon.pid.tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename("daemon.pid.tmp", "daemon.pid")  # whole when seen
        for i in range(600):
            with open("beat.tmp", "w") as f:
                f.write(str(i))
            os.rename("beat.tmp", "beat")
            time.sleep(0.05)
        os._exit(0)
    os._exit(0)
while not os.path.exists("daemon.pid"):
    time.sleep(0.01)
print("started", flush=True)
time.sleep(60)
"""


def daemon_after_killpg(box, argv=None, env=None, init=False):
    """The command starts a daemon in a session of its own (DAEMON), then
    ringfence's process group is sent SIGKILL, as a shell's `kill -9 %1`
    does (INIT: the sandbox's init alone, by its pid, from the audit
    log's start event).  ARGV: how ringfence is started (the box's way
    unless given).  Returns ringfence's stderr and whether the daemon
    still ran after the kill (its beat went on).  The control: it ran
    before."""
    import signal
    import subprocess
    import time
    box.write("work/daemon.py", DAEMON)
    log = box.path("logs", "audit.jsonl")
    os.makedirs(os.path.dirname(log))
    if box.user == "nobody":
        os.chown(os.path.dirname(log), NOBODY, NOBODY)
    pol = box.policy("[log]\nfile = %s\n" % log)
    if argv is None:
        p = box.popen(["/usr/bin/python3", "daemon.py"], policy=pol, stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, text=True, start_new_session=True)
    else:
        p = subprocess.Popen(argv + [box.ringfence, "-p", pol, "--", "/usr/bin/python3",
                                     "daemon.py"], cwd=box.work, env=box.env(env),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    beat = os.path.join(box.work, "beat")
    pid = None
    try:
        assert p.stdout.readline().strip() == "started", p.stderr.read()
        pid = int(open(os.path.join(box.work, "daemon.pid")).read())
        # (its first beat within 0.2 s here; CI's load once took longer)
        for _ in range(100):
            if os.path.exists(beat):
                break
            time.sleep(0.05)
        assert os.path.exists(beat)  # the control: it runs
        if init:
            start = [e for e in audit_events(log) if e["event"] == "start"]
            os.kill(start[0]["init_pid"], signal.SIGKILL)
        else:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
        # a tree's end: SIGTERM, which the daemon ignores, then SIGKILL
        # after a grace period of 2 s (init.c); it beats every 50 ms
        deadline = time.monotonic() + 5
        while True:
            before = open(beat).read()
            time.sleep(0.3)
            after = open(beat).read()
            if before == after or time.monotonic() > deadline:
                break
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    # once the daemon is gone: it holds the pipe too
    return p.stderr.read(), before != after


def test_daemon_outlives_a_killed_process_group(box):
    """`kill -9 %1` from the shell (or a harness's killpg on a timeout)
    kills ringfence's process group: the supervisor and the command.  A
    daemon the command started in a session of its own is not in that
    group; with a PID namespace it dies with init, without one init must
    outlive the group to end it (init's process group is its own: before,
    it died with the group, the subreaper and the lifeline with it, and the
    daemon was reparented to the host's init and ran on, in the write
    grants, after ringfence was gone)."""
    _, runs = daemon_after_killpg(box)
    assert not runs, "the daemon still runs after ringfence was killed"


def test_daemon_outlives_a_killed_init(box):
    """The sandbox's init itself SIGKILLed (by the host's user, by its
    pid): the command dies with it (its parent-death signal), and a daemon
    it started in a session of its own, which init would have ended, was
    reparented to the host's init and ran on.  With a PID namespace init's
    death ends the namespace; without one the supervisor, a subreaper,
    gets the daemon and ends it (told from its own children by the
    sandbox's seccomp filters)."""
    err, runs = daemon_after_killpg(box, init=True)
    assert not runs, "the daemon still runs after the sandbox's init was killed"
    assert "init ended unexpectedly" in err, err


@pytest.mark.parametrize("init", [False, True], ids=["group", "init"])
def test_daemon_outlives_a_killed_process_group_without_a_pid_namespace(init):
    """The same (and init killed alone) where namespaces = auto falls back
    to no PID namespace (no fresh /proc can be mounted in a user namespace
    where a file of /proc is covered, as container runtimes leave it):
    there the supervisor's death ended init at once (its parent-death
    signal), the subreaper before it could end the tree."""
    if not IS_ROOT:
        pytest.skip("covering a file of /proc takes a mount namespace of root's")
    box = Box("nobody", "on")
    try:
        # /proc/uptime: a file every kernel has; what covers it is a
        # locked mount in the sandbox's user namespace
        cover = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                 'mount --bind /dev/null /proc/uptime && exec "$@"', "sh"]
        err, runs = daemon_after_killpg(box, argv=cover + box.cmd([]), init=init)
        assert "no PID namespace" in err, err  # the fallback was taken
        assert not runs, "the daemon still runs after ringfence was killed"
    finally:
        box.cleanup()


DISPLACE_THEN_READ = ATTEMPT + r"""
import time
top, secret = sys.argv[1], sys.argv[2]
attempt("rename", lambda: os.rename(top, top + ".old"))
attempt("remake", lambda: os.makedirs(secret))
print("started", flush=True)
for _ in range(600):
    if os.path.exists("go"):
        break
    time.sleep(0.05)
def read(p):
    with open(p) as f:
        print("read", f.read().strip(), flush=True)
attempt("denied", lambda: read(os.path.join(secret, "token")))
"""


def test_deny_path_displaced_by_renaming_its_parent(box):
    """A deny path beneath a write grant (~/.config/gh under a home that is
    the working directory): the command renames a directory above it out
    of the way and makes the path again, its own now.  The host's tools
    write by name, so the next login's token lands in the command's
    directory, and the real one is left renamed after the run.  With a
    mount namespace the mask moves with the renamed directory; without one
    the file gate refuses the rename (the directories on the way are
    its)."""
    shared = box.path("shared")
    top = os.path.join(shared, "config")
    secret = os.path.join(top, "gh")
    os.makedirs(secret)
    with open(os.path.join(secret, "hosts"), "w") as f:
        f.write("OLD-TOKEN\n")
    uid = owner_of(box)
    for d in (shared, top, secret):
        os.chmod(d, 0o755)
        os.chown(d, uid, uid)
    box.write("work/displace.py", DISPLACE_THEN_READ)
    pol = box.policy("""
        [filesystem]
        write = %s
        deny = %s
        """ % (shared, secret))
    # the host's login: its tool makes the directory if missing
    out, err = host_writes_meanwhile(box, ["/usr/bin/python3", "displace.py", top, secret], pol,
                                     secret)
    assert "NEW-TOKEN" not in out, out + err
    assert "denied refused" in out, out + err
    # the operator's directory is still where the host's tools look
    assert open(os.path.join(secret, "hosts")).read() == "OLD-TOKEN\n", out + err


READ_FILES = ATTEMPT + r"""
def head(p):
    with open(p, "rb") as f:
        f.read(16)
for p in sys.argv[1:]:
    attempt(p, lambda: head(p))
"""


def test_default_deny_covers_the_password_hash_backups(box):
    """The default policy denies /etc/shadow and /etc/gshadow (password
    hashes) while granting /etc: shadow's tools keep the previous version
    of each beside it, /etc/shadow- and /etc/gshadow-, with the same
    hashes, which a command run as root (the container ENTRYPOINT case)
    reads through the /etc grant.  The control: /etc/hostname is read, and
    /etc/shadow itself is refused."""
    backups = [p for p in ("/etc/shadow-", "/etc/gshadow-") if os.path.exists(p)]
    if not backups:
        pytest.skip("no /etc/shadow- or /etc/gshadow- on this host")
    box.write("work/read.py", READ_FILES)
    r = box.run(["/usr/bin/python3", "read.py", "/etc/hostname", "/etc/shadow"] + backups,
                policy=box.policy(""))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "/etc/hostname ok" in r.stdout, r.stdout + r.stderr
    assert "/etc/shadow refused" in r.stdout, r.stdout + r.stderr
    for p in backups:
        assert "%s refused" % p in r.stdout, r.stdout + r.stderr


def test_credential_file_source_is_out_of_reach(box):
    """A credential's secret stays in the supervisor: the command sees a
    placeholder.  With `source = file:PATH`, PATH itself is a file the
    grants may well cover (a token under /etc in a container image, a
    project's own token file, a home granted for reading): the command
    then reads the real secret from it, and the placeholder protects
    nothing.  The control: the placeholder is in the environment and a
    file beside the token is read."""
    d = box.path("conf")
    os.mkdir(d)
    os.chmod(d, 0o755)
    token = box.write("conf/token", "REAL-SECRET-0123456789\n")
    beside = box.write("conf/beside", "plain\n")
    box.write("work/read.py", READ_FILES + r"""
print("env", os.environ.get("EX_TOKEN", ""))
with open(sys.argv[-1]) as f:
    print("content", f.read().strip())
""")
    pol = box.policy("""
        [filesystem]
        read = %s
        [network]
        mode = proxy
        allow = example.com
        [credential ex]
        env = EX_TOKEN
        source = file:%s
        hosts = example.com:443
        """ % (d, token))
    r = box.run(["/usr/bin/python3", "read.py", beside, token], policy=pol)
    assert "env ringfence_ex_" in r.stdout, r.stdout + r.stderr
    assert "%s ok" % beside in r.stdout, r.stdout + r.stderr
    assert "REAL-SECRET" not in r.stdout, r.stdout


def test_denied_wgetrc_is_not_carried_into_the_sandbox(box):
    """With TLS interception wget gets a wgetrc of ringfence's naming the
    bundle, and the caller's own ~/.wgetrc is copied into it (README says
    so).  The supervisor reads it outside every layer: a wgetrc the policy
    denies (it holds http_password) is handed over all the same.  The
    control: the bundle's line is there, and the placeholder."""
    uid = owner_of(box)
    home = box.path("home")
    os.mkdir(home)
    os.chown(home, uid, uid)
    rc = box.write("home/.wgetrc", "http_password = HUNTER2-SECRET\n", mode=0o600, owner=uid)
    pol = box.policy("""
        [filesystem]
        deny = %s
        [network]
        mode = proxy
        allow = example.com
        [credential ex]
        env = EX_TOKEN
        source = env:EX_SECRET
        hosts = example.com:443
        """ % rc)
    r = box.run(["sh", "-c", 'echo "env $EX_TOKEN"; cat "$WGETRC"; cat %s' % rc], policy=pol,
                env={"HOME": home, "EX_SECRET": "s3cr3t-value-0123456789"})
    assert "env ringfence_ex_" in r.stdout, r.stdout + r.stderr
    assert "ca_certificate = " in r.stdout, r.stdout + r.stderr
    assert "HUNTER2" not in r.stdout, r.stdout
    # positive control: granted and not denied, it is carried over
    pol = box.policy("""
        [filesystem]
        read = %s
        [network]
        mode = proxy
        allow = example.com
        [credential ex]
        env = EX_TOKEN
        source = env:EX_SECRET
        hosts = example.com:443
        """ % home)
    r = box.run(["sh", "-c", 'cat "$WGETRC"'], policy=pol,
                env={"HOME": home, "EX_SECRET": "s3cr3t-value-0123456789"})
    assert "http_password = HUNTER2-SECRET" in r.stdout, r.stdout + r.stderr
    assert "ca_certificate = " in r.stdout, r.stdout + r.stderr


REPLACE_THEN_READ = ATTEMPT + r"""
import time
link = sys.argv[1]
attempt("unlink", lambda: os.unlink(link))
attempt("remake", lambda: os.mkdir(link))
print("started", flush=True)
for _ in range(600):
    if os.path.exists("go"):
        break
    time.sleep(0.05)
def read(p):
    with open(p) as f:
        print("read", f.read().strip(), flush=True)
attempt("denied", lambda: read(os.path.join(link, "token")))
"""


def test_deny_path_symlink_replaced(box):
    """A deny path that is a symlink denies its target (README), but the
    link itself, in a write grant (~/.aws pointing into an encrypted
    volume), is the command's to replace: it makes a directory of its own
    there, and what the host's tools then write through that name is
    read.  The real target stays masked; the control is that the target
    is never read."""
    shared, real = box.path("shared"), box.path("real")
    for d in (shared, real):
        os.mkdir(d)
        os.chmod(d, 0o755)
        os.chown(d, owner_of(box), owner_of(box))
    box.write("real/token", "OLD-TOKEN\n")
    link = os.path.join(shared, "aws")
    os.symlink(real, link)
    box.write("work/replace.py", REPLACE_THEN_READ)
    pol = box.policy("""
        [filesystem]
        write = %s
        deny = %s
        """ % (shared, link))
    # the host's tool writes by name, as `aws configure` does
    out, err = host_writes_meanwhile(box, ["/usr/bin/python3", "replace.py", link], pol, link)
    assert "OLD-TOKEN" not in out, out + err
    assert "NEW-TOKEN" not in out, out + err
    assert os.path.islink(link), out + err


REPLACE_WAY_THEN_READ = ATTEMPT + r"""
import time
link, secret, beside = sys.argv[1], sys.argv[2], sys.argv[3]
attempt("unlink", lambda: os.unlink(link))
attempt("remake", lambda: os.makedirs(secret))
print("started", flush=True)
for _ in range(600):
    if os.path.exists("go"):
        break
    time.sleep(0.05)
def read(p):
    with open(p) as f:
        print("read", f.read().strip(), flush=True)
attempt("denied", lambda: read(os.path.join(secret, "token")))
attempt("beside", lambda: read(beside))
"""


@pytest.mark.parametrize("chain", [False, True])
def test_deny_path_symlink_on_the_way_replaced(box, chain):
    """A symbolic link on the way to a deny path (~/.config a link to a
    dotfiles checkout, the deny ~/.config/gh), in a write grant: the
    command removes the link and makes the path as its own directory, so
    the host's next login writes its token there.  Each link met is held,
    a link in the chain of another too (CHAIN: cfg -> cfg2 -> dotfiles).
    The control: a file beside the deny path, through the same link, is
    read."""
    uid = owner_of(box)
    shared = box.path("shared")
    real = os.path.join(shared, "dotfiles")
    secret_real = os.path.join(real, "gh")
    os.makedirs(secret_real)
    for d in (shared, real, secret_real):
        os.chmod(d, 0o755)
        os.chown(d, uid, uid)
    box.write("shared/dotfiles/gh/hosts", "OLD-TOKEN\n")
    box.write("shared/dotfiles/beside", "plain\n")
    link = os.path.join(shared, "cfg")
    if chain:
        os.symlink("dotfiles", os.path.join(shared, "cfg2"))
        os.symlink("cfg2", link)
        attacked = os.path.join(shared, "cfg2")
    else:
        os.symlink("dotfiles", link)
        attacked = link
    secret = os.path.join(link, "gh")
    box.write("work/replace.py", REPLACE_WAY_THEN_READ)
    pol = box.policy("""
        [filesystem]
        write = %s
        deny = %s
        """ % (shared, secret))
    out, err = host_writes_meanwhile(
        box, ["/usr/bin/python3", "replace.py", attacked, secret, os.path.join(link, "beside")],
        pol, secret)
    assert "beside ok" in out, out + err
    assert "NEW-TOKEN" not in out, out + err
    assert "OLD-TOKEN" not in out, out + err
    assert "denied refused" in out, out + err
    assert os.path.islink(attacked), out + err


HAMMER = r"""
import os, sys
d = sys.argv[1]
while not os.path.exists(sys.argv[2]):
    try:
        os.mkdir(d)
        os.rmdir(d)
    except OSError:
        pass
"""


def test_a_deny_path_the_host_removes_while_the_run_starts(box):
    """A deny path the host removes between the plan and the mask (a
    package's directory replaced, a test's files cleaned away) is as one
    absent at start: nothing there to hide, and the run starts.  It used to
    refuse (exit 125, "masking a denied path ...: No such file or
    directory").  The host makes and removes the directory in a loop while
    runs start; every run starts, and none reads what the host keeps beside
    it under the same deny's parent (the control that the policy held)."""
    import subprocess
    import sys
    if box.namespaces == "off":
        pytest.skip("masks are mounts: a mount namespace only")
    shared = box.path("churn")
    os.mkdir(shared)
    os.chmod(shared, 0o755)
    flapping = os.path.join(shared, "flap")
    kept = os.path.join(shared, "kept")
    os.mkdir(kept)
    with open(os.path.join(kept, "secret"), "w") as f:
        f.write("KEPT-SECRET\n")
    os.chmod(kept, 0o755)
    os.chmod(os.path.join(kept, "secret"), 0o644)
    stop = box.path("stop-hammer")
    pol = box.policy("""
        [filesystem]
        read = %s
        deny = %s %s
        """ % (shared, flapping, kept))
    hammer = subprocess.Popen([sys.executable, "-c", HAMMER, flapping, stop])
    try:
        failed = []
        for _ in range(150):
            r = box.run(["sh", "-c", "cat %s/secret; echo ran" % kept], policy=pol)
            if "ran" not in r.stdout:
                failed.append(r.stderr)
            assert "KEPT-SECRET" not in r.stdout, r.stdout
    finally:
        open(stop, "w").close()
        hammer.wait(timeout=30)
    assert not failed, "%d of 150 runs refused: %s" % (len(failed), failed[0])


# fscrypt's policy v1 (struct fscrypt_policy_v1: version 0, AES-256-XTS,
# AES-256-CTS, no flags, a descriptor): FS_IOC_SET_ENCRYPTION_POLICY
FS_IOC_SET_ENCRYPTION_POLICY = 0x800C6613
ENCRYPT = ATTEMPT + r"""
import fcntl, struct
def encrypt(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.ioctl(fd, 0x800C6613, struct.pack("BBBB8s", 0, 1, 4, 0, b"RFTEST01"))
    finally:
        os.close(fd)
attempt("granted", lambda: encrypt(sys.argv[1]))
attempt("outside", lambda: encrypt(sys.argv[2]))
"""


@pytest.fixture
def fscrypt_dir():
    """A directory on an ext4 file system made with the encrypt feature
    (a loop mount: root only), or a skip where there is none."""
    import subprocess
    if not IS_ROOT:
        pytest.skip("a loop mount needs root")
    top = tempfile.mkdtemp(prefix="rf-fscrypt-")
    os.chmod(top, 0o755)
    img, mnt = os.path.join(top, "img"), os.path.join(top, "mnt")
    os.mkdir(mnt)
    with open(img, "wb") as f:
        f.truncate(32 << 20)
    made = subprocess.run(["mkfs.ext4", "-q", "-O", "encrypt", img],
                          capture_output=True).returncode == 0
    if not made or subprocess.run(["mount", "-o", "loop", img, mnt],
                                  capture_output=True).returncode != 0:
        shutil.rmtree(top, ignore_errors=True)
        pytest.skip("no loop mount of an ext4 image with encryption here")
    try:
        os.chmod(mnt, 0o755)
        # the control: the call takes a policy on this file system
        probe = os.path.join(mnt, "probe")
        os.mkdir(probe)
        fd = os.open(probe, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.ioctl(fd, FS_IOC_SET_ENCRYPTION_POLICY,
                        struct.pack("BBBB8s", 0, 1, 4, 0, b"RFTEST01"))
        except OSError as e:
            pytest.skip("fscrypt is not in this kernel: %s" % e)
        finally:
            os.close(fd)
        yield mnt
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)
        shutil.rmtree(top, ignore_errors=True)


def test_an_encryption_policy_on_a_directory_it_may_only_read(box, fscrypt_dir):
    """fscrypt takes a policy on an empty directory on its owner's word
    alone, a read-only open enough: Landlock has no right for it, and
    without a mount namespace nothing refused it outside the write grants.
    The host's directory (an empty .git/refs/tags, ~/.ssh) then took no new
    file without a key the command chose ("Required key not available":
    the host's `git tag` failed).  Refused everywhere now (EPERM, seccomp's
    answer), the write grants too: no command needs to set up fscrypt.
    The controls: the fixture's (the call works on this file system) and
    the host making a file in the directory after the run."""
    uid = owner_of(box)
    rw, ro = os.path.join(fscrypt_dir, "rw"), os.path.join(fscrypt_dir, "ro")
    for d in (rw, ro):
        os.makedirs(os.path.join(d, "empty"))
        for p in (d, os.path.join(d, "empty")):
            os.chmod(p, 0o755)
            os.chown(p, uid, uid)
    box.write("work/encrypt.py", ENCRYPT)
    pol = box.policy("""
        [filesystem]
        read = %s
        write = %s
        """ % (ro, rw))
    r = box.run(["/usr/bin/python3", "encrypt.py", os.path.join(rw, "empty"),
                 os.path.join(ro, "empty")], policy=pol)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "outside refused" in r.stdout, r.stdout + r.stderr
    assert "granted refused 1" in r.stdout, r.stdout + r.stderr
    # the host's directory still takes a file
    with open(os.path.join(ro, "empty", "after"), "w") as f:
        f.write("x\n")
