# SPDX-License-Identifier: MIT
"""The attack programs of tests/escape/, run inside the sandbox in every mode.
Each exits 0 only when every attack failed; its output names each attack."""
import os
import socket
import subprocess
import tempfile
import threading

import pytest


def one_broker(box, isolation):
    """Without namespaces isolation = auto is the connect broker: the same
    run as isolation = broker (layers.c prepare_network() and the rest see
    only the broker; the key itself is read nowhere else), so that pair is
    run once, as broker.  With namespaces the two differ and both run."""
    if box.namespaces == "off" and isolation == "auto":
        pytest.skip("namespaces = off: isolation = auto runs as isolation = broker does")


def check(r):
    assert "ESCAPED" not in r.stdout, r.stdout
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 escape(s)" in r.stdout


def test_kernel_surface(box):
    pol = box.policy("")
    check(box.run([os.path.join(box.bin, "syscalls")], policy=pol))


def test_leases_and_line_disciplines_are_granted_outside(tmp_path):
    """The control of two of syscalls.c's attacks: outside the sandbox this
    kernel grants the owner of a file a lease (which stalls the host's
    opens of it) and a new terminal another line discipline, so their
    refusal inside is the filter's, not the kernel's."""
    import fcntl
    import struct
    import termios
    f = tmp_path / "own"
    f.write_text("x")
    fd = os.open(str(f), os.O_RDONLY)
    try:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
        assert fcntl.fcntl(fd, fcntl.F_GETLEASE) == fcntl.F_WRLCK
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
    finally:
        os.close(fd)
    pt = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY)
    try:
        fcntl.ioctl(pt, termios.TIOCSETD, struct.pack("i", 27))  # N_NULL
        assert struct.unpack("i", fcntl.ioctl(pt, termios.TIOCGETD, b"\0" * 4))[0] == 27
    finally:
        os.close(pt)


def fs_attack_setup(box):
    """What tests/escape/fs.c attacks: a secret outside the grants, a .git
    config, a setuid-root program the sandbox may execute; its arguments."""
    secret_dir = box.path("secret")
    os.mkdir(secret_dir)
    box.write("secret/key", "TOPSECRET\n", mode=0o644)
    git = box.path("work", ".git")
    os.mkdir(git)
    cfg = box.write("work/.git/config", "[core]\n")
    if box.user == "nobody":
        for p in (git, cfg):
            os.chown(p, 65534, 65534)
    suid = os.path.join(box.bin, "suid_probe")
    os.chown(suid, 0, 0)
    os.chmod(suid, 0o4755)
    args = [os.path.join(box.bin, "fs"), "secret=" + secret_dir + "/key", "outside=/etc",
            "protected=" + cfg, "setuid=" + suid]
    return secret_dir, cfg, args


def test_filesystem_and_process(box):
    secret_dir, cfg, args = fs_attack_setup(box)
    pol = box.policy("""
        [filesystem]
        read = %s
        deny = %s
        """ % (box.root, secret_dir))
    p = box.popen(args, policy=pol, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=60)
    r = subprocess.CompletedProcess(p.args, p.returncode, out, err)
    check(r)
    assert open(cfg).read() == "[core]\n"
    assert not os.path.exists("/etc/ringfence-escape")


def test_supervisor_out_of_reach(box):
    """Reading the supervisor's environment or memory, or signalling it."""
    pol = box.policy("")
    # setpriv execs ringfence in place, so Popen's pid is the supervisor's; it is
    # known only after start, so it reaches the command through a file
    pidfile = box.path("work", "sup.pid")
    argv = box.cmd([box.ringfence, "-p", pol, "--", "sh", "-c",
                    "while [ ! -s sup.pid ]; do sleep 0.01; done; "
                    "exec %s supervisor=$(cat sup.pid)" % os.path.join(box.bin, "fs")])
    p = subprocess.Popen(argv, cwd=box.work, env=box.env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    with open(pidfile + ".tmp", "w") as f:
        f.write(str(p.pid))
    os.rename(pidfile + ".tmp", pidfile)
    out, err = p.communicate(timeout=60)
    check(subprocess.CompletedProcess(argv, p.returncode, out, err))
    assert "signal the supervisor" in out


class HostServers:
    """Servers of the host the sandbox must not reach: TCP on 127.0.0.1 and
    ::1 (one port), a UDP server on 127.0.0.1 that answers, and an abstract
    Unix socket.  Their arguments for tests/escape/net.c are in .args."""

    def __init__(self, tag):
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(64)
        port = self.tcp.getsockname()[1]
        self.socks = [self.tcp]
        self.args = ["tcp=%d" % port]
        try:
            tcp6 = socket.socket(socket.AF_INET6)
            tcp6.bind(("::1", port))
            tcp6.listen(64)
            self.socks.append(tcp6)
            self.args.append("tcp6=1")
        except OSError:
            pass  # no IPv6 loopback here
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.settimeout(5)
        abstract = socket.socket(socket.AF_UNIX)
        name = "rf-escape-%d-%s" % (os.getpid(), tag)
        abstract.bind("\0" + name)
        abstract.listen(1)
        self.socks += [self.udp, abstract]
        self.args += ["udp=%d" % self.udp.getsockname()[1], "abstract=" + name]
        self.stop = threading.Event()
        threading.Thread(target=self.answer, daemon=True).start()

    def answer(self):
        while not self.stop.is_set():
            try:
                d, a = self.udp.recvfrom(64)
                self.udp.sendto(b"pong", a)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for s in self.socks:
            s.close()


def test_network_mode_none(box):
    with HostServers("none-%s-%s" % (box.user, box.namespaces)) as host:
        pol = box.policy("")
        check(box.run([os.path.join(box.bin, "net")] + host.args, policy=pol))


def host_address():
    """An address of this host outside loopback (no packet is sent to find it)."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"],
                         capture_output=True, text=True).stdout.split()
    for i, w in enumerate(out):
        if w == "inet":
            return out[i + 1].split("/")[0]
    return None


@pytest.mark.parametrize("isolation", ["auto", "broker"])
def test_network_mode_proxy(box, isolation):
    """mode = proxy: nothing but the proxy is reachable, whichever mechanism
    keeps the sandbox on it."""
    one_broker(box, isolation)
    tag = "proxy-%s-%s-%s" % (box.user, box.namespaces, isolation)
    with HostServers(tag) as host:
        pol = box.policy("[network]\nmode = proxy\nisolation = %s\nallow = example.com\n"
                         % isolation)
        args = [os.path.join(box.bin, "net"), "proxy=1"] + host.args
        if host_address():
            args.append("icmp=" + host_address())
        # the broker is what runs without a private network namespace
        broker = isolation == "broker" or box.namespaces == "off"
        if broker:
            args.append("broker=1")
        r = box.run(args, policy=pol)
        check(r)
        assert "swapping the fd" in r.stdout
        if broker:
            assert "a UDP socket" in r.stdout
            assert "ok: a Unix listener of its own" in r.stdout


def test_other_processes_and_ipc(box):
    """A host process of the same user and its System V and POSIX IPC objects:
    nothing that takes a pid or an IPC id reaches them (PID and IPC
    namespaces; without them, seccomp holds the calls to the caller and
    refuses the host's IPC)."""
    host = subprocess.Popen(box.cmd([os.path.join(box.bin, "procs"), "host"]),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        pid, shm, sem, msg, mq = host.stdout.readline().split()
        pol = box.policy("")
        args = [os.path.join(box.bin, "procs"), "pid=" + pid, "shm=" + shm, "sem=" + sem,
                "msg=" + msg, "mq=" + mq]
        if box.namespaces == "on":
            args.append("own_ipc=1")
        r = box.run(args, policy=pol)
        check(r)
        assert "ok: limits, affinity and priority of the caller itself" in r.stdout
        if box.namespaces == "off":  # with a PID namespace F_SETOWN finds no such pid
            assert "tried: SIGIO to the host process" in r.stdout
        assert host.poll() is None  # alive (SIGIO was scoped)
    finally:
        host.stdin.close()
        host.wait(timeout=10)


def test_broker_listener_has_the_commands_credentials(rootbox):
    """Under the broker the supervisor (root) makes a Unix listen() itself:
    with run_as, the listener's peer credentials must still be the
    command's, never root's."""
    os.chmod(rootbox.work, 0o777)
    pol = rootbox.write("runas.ini", "[sandbox]\ninclude = %s\n[filesystem]\nexec = %s\n"
                        "[network]\nmode = proxy\nisolation = broker\nallow = example.com\n"
                        "[process]\nrun_as = nobody\n" % (rootbox.default, rootbox.bin))
    r = rootbox.run([os.path.join(rootbox.bin, "net"), "broker=1"], policy=pol)
    check(r)
    assert "ok: a Unix listener of its own, with its own credentials" in r.stdout


LDSO = "/lib64/ld-linux-x86-64.so.2"


def test_code_from_outside_exec_grants(box):
    """memfd execution (fexecve, /proc/self/fd, and the loader on a sealed
    one), and a written file run through the loader or mapped
    executable: native code runs only from exec grants (the loader and
    mmap only where a mount namespace can make write grants noexec)."""
    pol = box.policy("")
    args = [os.path.join(box.bin, "fileless"), "elf=/usr/bin/true"]
    if box.namespaces == "on":
        args.append("ldso=" + LDSO)
    else:
        args += ["ldso=known", "ldso_path=" + LDSO]
    r = box.run(args, policy=pol)
    check(r)
    assert "ok: memfd_create is ENOSYS; anonymous executable memory works" in r.stdout
    # what README states remains
    assert "known: an interpreter runs a script from a write grant" in r.stdout
    if box.namespaces == "off":
        assert "known: the loader runs a written file" in r.stdout


def test_terminals_and_devices(box):
    """Another terminal of the same user, and devices no grant names, are out
    of reach; the devices commands need, and a terminal of its own (with a
    mount namespace), work."""
    master, slave = os.openpty()
    try:
        pts = os.ttyname(slave)
        if box.user == "nobody":
            os.chown(pts, 65534, 65534)
        pol = box.policy("")
        args = [os.path.join(box.bin, "terms"), "pts=" + pts]
        devs = [d for d in ("/dev/kmsg", "/dev/vda", "/dev/sda", "/dev/nvme0n1", "/dev/loop0",
                            "/dev/tty1", "/dev/input/event0", "/dev/dri/card0", "/dev/mem")
                if os.path.exists(d)]
        args += ["dev%d=%s" % (i, d) for i, d in enumerate(devs)]
        if box.namespaces == "on":
            args.append("newpty=1")
        r = box.run(args, policy=pol)
        check(r)
        assert "ok: null, zero, full, random, urandom" in r.stdout
        assert "opening /dev/kmsg" in r.stdout
    finally:
        os.close(master)
        os.close(slave)


def test_interactive_program_on_a_terminal(box):
    """An agent's TUI run inside `script`: the command is on a terminal,
    reads what is typed and writes to it; with namespaces it can also make
    terminals of its own (a nested `script`)."""
    pol = box.policy("")
    inner = "read x; echo got=\\$x; [ -t 0 ] && [ -t 1 ] && echo on-a-tty; echo hi > /dev/tty"
    if box.namespaces == "on":
        inner += "; script -qec 'echo nested-pty-ok' /dev/null"
    cmd = "%s -p %s -- sh -c \"%s\"" % (box.ringfence, pol, inner)
    r = subprocess.run(box.cmd(["script", "-qec", cmd, "/dev/null"]), cwd=box.work,
                       env=box.env({"TERM": "dumb"}), input="hello\n", capture_output=True,
                       text=True, timeout=60)
    assert "got=hello" in r.stdout, r.stdout + r.stderr
    assert "on-a-tty" in r.stdout
    assert "hi" in r.stdout
    if box.namespaces == "on":
        assert "nested-pty-ok" in r.stdout, r.stdout + r.stderr


class UnixServers:
    """A host service's socket in a directory the sandbox cannot list (it
    greets "HOST"), a host datagram socket beside it, and a socket the
    policy names (it greets "OK")."""

    def __init__(self, box):
        # outside /tmp, which a private /tmp would hide anyway
        self.dir = tempfile.mkdtemp(prefix="rf-host-", dir="/run")
        os.chmod(self.dir, 0o711)  # searchable, not listable
        self.host = os.path.join(self.dir, "agent.sock")
        self.hostdg = os.path.join(self.dir, "log.sock")
        self.allowed = os.path.join(self.dir, "allowed.sock")
        self.socks = []
        for path, greeting in ((self.host, b"HOST"), (self.allowed, b"OK")):
            s = socket.socket(socket.AF_UNIX)
            s.bind(path)
            os.chmod(path, 0o666)
            s.listen(64)
            self.socks.append(s)
            threading.Thread(target=self.serve, args=(s, greeting), daemon=True).start()
        self.abstract = "rf-host-%d-%s" % (os.getpid(), os.path.basename(self.dir))
        a = socket.socket(socket.AF_UNIX)
        a.bind("\0" + self.abstract)
        a.listen(64)
        self.socks.append(a)
        threading.Thread(target=self.serve, args=(a, b"HOST"), daemon=True).start()
        d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        d.bind(self.hostdg)
        os.chmod(self.hostdg, 0o666)
        d.settimeout(0.2)
        self.dgram = d
        self.socks.append(d)

    @staticmethod
    def serve(s, greeting):
        while True:
            try:
                c, _ = s.accept()
                c.sendall(greeting)
                c.close()
            except OSError:
                return

    def got_datagram(self):
        try:
            return self.dgram.recv(16) == b"HOST"
        except OSError:
            return False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for s in self.socks:
            s.close()
        subprocess.run(["rm", "-rf", self.dir], check=False)


# The network mode each box mode races the check in: every mode of each
# kind once.  The races are against the broker's pathname connect
# (broker_mediated.c: the address read once, the socket taken first, the path
# resolved once in the caller's root or cwd), one code whatever [network]
# mode says; what the mode decides is whether connect() reaches the broker
# at all, which the plain attacks show in every pair.  Racing in all
# sixteen spent ~5 s of CPU a run spinning.
RACE_IN = {("root", "on"): "namespace", ("root", "off"): "broker",
           ("nobody", "on"): "none", ("nobody", "off"): "host"}


@pytest.mark.parametrize("network", ["none", "namespace", "broker", "host"])
def test_unix_sockets_by_path(box, network):
    """A pathname Unix connect reaches only sockets [network] unix_connect
    names (and the sandbox's own), however the path is written or raced."""
    one_broker(box, "auto" if network == "namespace" else network)
    races = RACE_IN[(box.user, box.namespaces)] == network
    with UnixServers(box) as srv:
        net = {"none": "mode = none\n",
               "namespace": "mode = proxy\nisolation = auto\nallow = example.com\n",
               "broker": "mode = proxy\nisolation = broker\nallow = example.com\n",
               "host": "mode = host\n"}[network]
        pol = box.policy("[network]\n%sunix_connect = %s\n" % (net, srv.allowed))
        # abstract names are the sandbox's own only in a network namespace
        own_netns = box.namespaces == "on" and network in ("none", "namespace")
        r = box.run([os.path.join(box.bin, "unixsock"), "host=" + srv.host,
                     "hostdg=" + srv.hostdg, "allowed=" + srv.allowed,
                     "abstract=" + srv.abstract,
                     "abstract_listen=" + ("own" if own_netns else "refused")] +
                    (["races=1"] if races else []), policy=pol)
        check(r)
        if races:
            assert "blocked: a symlink swapped between the check and the connect" in r.stdout
            assert "blocked: the address swapped in memory during connect" in r.stdout
        assert "ok: the socket the policy names" in r.stdout
        assert "ok: a stream socketpair" in r.stdout
        if own_netns:
            assert "ok: an abstract listener of its own" in r.stdout
        else:
            assert "blocked: listening on an abstract name the host can reach" in r.stdout
            if races:
                # (FAIL on 01dc8c8: won in a few tries, root and nobody)
                assert "blocked: an abstract name bound between the check and the listen" \
                    in r.stdout
        assert "ok: listeners of its own" in r.stdout
        assert not srv.got_datagram()
        if network == "host":
            # the supervisor makes inet connects too: the host's network works
            tcp = socket.socket()
            tcp.bind(("127.0.0.1", 0))
            tcp.listen(4)
            try:
                r = box.run(["python3", "-c", "import socket; socket.create_connection("
                             "('127.0.0.1', %d), timeout=5); print('tcp-ok')"
                             % tcp.getsockname()[1]], policy=pol)
                assert "tcp-ok" in r.stdout, r.stdout + r.stderr
            finally:
                tcp.close()


def test_unix_sockets_deny_keeps_its_meaning(box):
    with UnixServers(box) as srv:
        pol = box.policy("[syscalls]\nunix_sockets = deny\n")
        r = box.run(["python3", "-c", "import socket; s = socket.socket(socket.AF_UNIX); "
                     "s.connect(%r)" % srv.host], policy=pol)
        assert r.returncode != 0
        assert "PermissionError" in r.stderr or "Operation not permitted" in r.stderr, r.stderr
        # a datagram pair would send past the refusal; a stream pair works
        r = box.run(["python3", "-c", "import socket\n"
                     "a, b = socket.socketpair(); a.send(b'x'); print('stream', b.recv(1))\n"
                     "try:\n"
                     " a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
                     " a.sendto(b'HOST', %r); print('sent')\n"
                     "except OSError as e: print('refused', e.errno)\n" % srv.hostdg],
                    policy=pol)
        assert "stream b'x'" in r.stdout, r.stdout + r.stderr
        assert "refused" in r.stdout, r.stdout + r.stderr
        assert not srv.got_datagram()


THREAD_LISTENER = r"""
import os, socket, threading
path = os.path.join(os.getcwd(), "threaded.sock")
ready = threading.Event()
out = []
def serve():
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.listen(1)
    ready.set()
    c, _ = s.accept()
    out.append(c.recv(16))
t = threading.Thread(target=serve)
t.start()
ready.wait(10)
c = socket.socket(socket.AF_UNIX)
c.connect(path)
c.sendall(b"from main")
t.join(10)
print(out[0].decode())
"""


@pytest.mark.parametrize("isolation", ["auto", "broker"])
def test_unix_listen_from_a_thread(box, isolation):
    """listen() stops in the broker; a thread that is not its process's main
    one must be served like connect's callers are (a tid is not a pid)."""
    one_broker(box, isolation)
    pol = box.policy("[network]\nmode = proxy\nisolation = %s\n" % isolation)
    r = box.run(["python3", "-c", THREAD_LISTENER], policy=pol)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "from main"
