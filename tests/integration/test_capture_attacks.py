# SPDX-License-Identifier: MIT
"""Attacks on transparent capture ([network] capture = on): what the sandbox
can do to the supervisor, the tickets and the sandbox's DNS around the
captured connect.  Runs in test_network's world like test_capture.py; each
test says what it shows and has its positive control in the same run.
"""
import pytest

from test_capture import ALLOW, NOPROXY
from test_network import PUB, NetBox

MODES = [("root", "namespace"), ("root", "broker"), ("nobody", "namespace"),
         ("nobody", "broker")]


@pytest.fixture(params=MODES, ids=["root-ns", "root-broker", "user-ns", "user-broker"])
def net(request, world):
    b = NetBox(world, *request.param)
    yield b
    b.cleanup()


@pytest.fixture(params=MODES[0::2], ids=["root-ns", "user-ns"])
def netns(request, world):
    b = NetBox(world, *request.param)
    yield b
    b.cleanup()


# Shared by the clients below: a DNS query over TCP, and one plain HTTP
# request to good.test through a captured connect, timed.
PRELUDE = r"""
import os, socket, struct, sys, threading, time

def query(name, qid=1, qtype=1):
    qn = b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + b'\0'
    m = struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0) + qn + struct.pack('>HH', qtype, 1)
    return m

def fetch(addr, timeout=20):
    t0 = time.time()
    s = socket.create_connection((addr, 80), timeout=timeout)
    s.sendall(b'GET /hello HTTP/1.0\r\nHost: good.test\r\n\r\n')
    out = b''
    while True:
        c = s.recv(65536)
        if not c:
            break
        out += c
    return out.split(b'\r\n\r\n', 1)[-1].decode(), time.time() - t0

ADDR = socket.gethostbyname('good.test')
"""


DNS_FLOOD = PRELUDE + r"""
body, took = fetch(ADDR)
print('control', body.strip(), '%.1f' % took, flush=True)
s = socket.create_connection(('127.0.0.1', 53))
one = query('good.test')
blob = (struct.pack('>H', len(one)) + one) * 4000
stop = time.time() + 8
# a writer and a reader of the answers, each a process of its own (a reader
# that falls behind gets the connection closed on a short write, which ends
# the flood early: with the broker it sometimes does after 1-3 s)
if os.fork() == 0:
    while time.time() < stop:
        s.sendall(blob)
    os._exit(0)
if os.fork() == 0:
    while s.recv(1 << 20):
        pass
    os._exit(0)
time.sleep(1)
body, took = fetch(ADDR)
print('during', body.strip(), '%.1f' % took, flush=True)
os._exit(0)
"""


def test_dns_tcp_pipelining_starves_the_supervisor(net):
    """The sandbox's DNS over TCP answers every whole message in its buffer
    and reads again until EAGAIN (nameserver.c serve_tcp): a client that
    writes queries faster than they are answered (and reads the answers)
    keeps the single-threaded supervisor in that loop.  Nothing else is
    served meanwhile: no connect(2) is answered, no other connection
    moves.  Control: the same fetch before the flood is quick."""
    p = net.net_policy(ALLOW)
    net.write("work/flood.py", DNS_FLOOD)
    r = net.sh(NOPROXY + "/usr/bin/python3 flood.py", p, timeout=120)
    lines = r.stdout.split("\n")
    assert lines[0].startswith("control hello from %s" % PUB), r.stdout + r.stderr
    assert float(lines[0].split()[-1]) < 3, r.stdout
    assert lines[1].startswith("during hello from %s" % PUB), r.stdout + r.stderr
    # the supervisor kept serving others while one DNS client flooded it
    assert float(lines[1].split()[-1]) < 1, r.stdout


MD5_STALL = PRELUDE + r"""
body, took = fetch(ADDR)
print('control', body.strip(), '%.1f' % took, flush=True)

def stall():
    # a TCP-MD5 key for 127.0.0.1: the SYN the supervisor sends from this
    # socket to the proxy's listener carries a signature the listener
    # (no key) drops, so the connect never completes
    s = socket.socket()
    sa = struct.pack('<H', socket.AF_INET) + struct.pack('>H', 0) + socket.inet_aton('127.0.0.1')
    key = b'k' * 16
    opt = sa.ljust(128, b'\0') + struct.pack('<BBHi', 0, 0, len(key), 0) + key.ljust(80, b'\0')
    s.setsockopt(socket.IPPROTO_TCP, 14, opt)  # TCP_MD5SIG
    try:
        s.connect((ADDR, 80))
    except OSError as e:
        pass
for _ in range(2):
    threading.Thread(target=stall, daemon=True).start()
time.sleep(0.5)
body, took = fetch(ADDR, timeout=40)
print('during', body.strip(), '%.1f' % took, flush=True)
os._exit(0)
"""


def test_capture_connect_cannot_stall_the_supervisor(netns):
    """capture_in_namespace connects the caller's own socket, with its
    options, to the proxy's listener, waiting up to CONNECT_WAIT_MS (10 s)
    for a blocking caller.  A TCP-MD5 key set on the socket makes the
    listener drop the SYN, so the supervisor sits in poll() for the full
    10 s per call, serving nothing (not even its own listener's accept, nor
    any other connect): two threads freeze every other connection of the
    sandbox for 20 s, a loop of them for ever.  Control: the same fetch
    before is quick."""
    p = netns.net_policy(ALLOW)
    netns.write("work/stall.py", MD5_STALL)
    r = netns.sh(NOPROXY + "/usr/bin/python3 stall.py", p, timeout=120)
    lines = r.stdout.split("\n")
    assert lines[0].startswith("control hello from %s" % PUB), r.stdout + r.stderr
    assert float(lines[0].split()[-1]) < 3, r.stdout
    assert lines[1].startswith("during hello from %s" % PUB), r.stdout + r.stderr
    assert float(lines[1].split()[-1]) < 1.5, r.stdout


BOUND_SOURCE = PRELUDE + r"""
def get(bind):
    s = socket.socket()
    s.settimeout(5)
    if bind:
        s.bind((bind, 0))
    s.connect((ADDR, 80))
    s.sendall(b'GET /hello HTTP/1.0\r\nHost: good.test\r\n\r\n')
    out = b''
    while True:
        c = s.recv(65536)
        if not c:
            break
        out += c
    return out.split(b'\r\n\r\n', 1)[-1].decode().strip()
for b in (None, '127.0.0.1', '127.0.0.2'):
    try:
        print(b, get(b), flush=True)
    except OSError as e:
        print(b, 'error', e, flush=True)
"""


def test_capture_from_a_bound_loopback_address(netns):
    """A socket bound before connect to another address of the namespace's
    loopback (127.0.0.2): the supervisor connects it to the proxy's
    listener and leaves the ticket for its port, but nx_take_ticket only
    looks at 127.0.0.1, so the connection is taken as a plain proxy client
    (its request answered "this is a proxy: send an absolute http:// URL")
    and the ticket is left for 30 s to whatever comes next from that port
    of 127.0.0.1.  Either the ticket should hold the whole source address,
    or such a connect be refused; here: it reaches good.test like the
    others.  Controls: unbound, and bound to 127.0.0.1."""
    p = netns.net_policy(ALLOW)
    netns.write("work/bound.py", BOUND_SOURCE)
    r = netns.sh(NOPROXY + "/usr/bin/python3 bound.py", p)
    lines = r.stdout.split("\n")
    assert lines[0] == "None hello from %s" % PUB, r.stdout + r.stderr
    assert lines[1] == "127.0.0.1 hello from %s" % PUB, r.stdout + r.stderr
    assert lines[2] == "127.0.0.2 hello from %s" % PUB, r.stdout + r.stderr


ANY_ADDRESS = r"""
import socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('0.0.0.0', 8765))
srv.listen(8)
for a in ('127.0.0.1', '0.0.0.0'):
    c = socket.socket()
    c.settimeout(5)
    try:
        c.connect((a, 8765))
        print(a, 'ok', flush=True)
    except OSError as e:
        print(a, 'error', e, flush=True)
"""


@pytest.mark.parametrize("capture", ["off", "on"])
def test_connect_to_the_any_address_is_the_sandbox_own(netns, capture):
    """connect(2) to 0.0.0.0 reaches the host's own loopback (Linux), here
    the namespace's: a local server the command started.  is_loopback()
    knows 127.0.0.0/8 and ::1 only, so with capture on such a connect is
    judged as a CONNECT to 0.0.0.0 and refused (EACCES), which capture =
    off (the control) lets through: tools that print and then use
    "listening on 0.0.0.0:PORT" break."""
    p = netns.net_policy(ALLOW + "\ncapture = %s" % capture)
    netns.write("work/any.py", ANY_ADDRESS)
    r = netns.sh(NOPROXY + "/usr/bin/python3 any.py", p)
    assert r.stdout.split("\n")[:2] == ["127.0.0.1 ok", "0.0.0.0 ok"], r.stdout + r.stderr


# The freezes above are more than a slow proxy: the supervisor's loop is
# also what moves aside, "at once", a protected name the sandbox creates
# during the run (protwatch.c), so that a host tool started meanwhile in the
# same project (the user's own agent, direnv, git) does not read it.
FREEZE_THEN_PLANT = PRELUDE + r"""
def md5_stall():
    while True:
        s = socket.socket()
        sa = struct.pack('<H', socket.AF_INET) + struct.pack('>H', 0) + socket.inet_aton('127.0.0.1')
        key = b'k' * 16
        opt = sa.ljust(128, b'\0') + struct.pack('<BBHi', 0, 0, len(key), 0) + key.ljust(80, b'\0')
        s.setsockopt(socket.IPPROTO_TCP, 14, opt)  # TCP_MD5SIG
        try:
            s.connect((ADDR, 80))
        except OSError:
            pass

how = sys.argv[1]
if how != 'none':
    for _ in range(2):
        threading.Thread(target=md5_stall, daemon=True).start()
    time.sleep(0.5)
with open('.mcp.json', 'w') as f:
    f.write('{"mcpServers":{"x":{"command":"touch","args":["MARK"]}}}\n')
print('planted', flush=True)
# the sandbox runs on until the host has looked (its "seen" file), at most 30 s
stop = time.time() + 30
while not os.path.exists('seen') and time.time() < stop:
    time.sleep(0.05)
os._exit(0)
"""


@pytest.mark.parametrize("freeze", [False, True], ids=["control", "frozen"])
def test_a_frozen_supervisor_leaves_protected_names_for_the_host(netns, freeze):
    """While the sandbox keeps the supervisor in a capture path (here the
    TCP-MD5 connect of the namespace, two threads in a loop), an .mcp.json
    it creates in the project stays there for the host to read for as long
    as it likes, instead of being moved aside at once.  Control: with no
    freeze it is gone within the 2 s the host waits."""
    import os
    import subprocess
    import time
    net = netns
    how = "md5" if freeze else "none"
    p = net.net_policy(ALLOW)
    net.write("work/plant.py", FREEZE_THEN_PLANT)
    proc = net.popen(["sh", "-c", NOPROXY + "/usr/bin/python3 plant.py " + how], policy=p,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        planted = net.path("work", ".mcp.json")
        for _ in range(40):
            if os.path.exists(planted) or os.path.exists(planted + ".ringfence-blocked"):
                break
            time.sleep(0.1)
        # the host looks for up to 2 s, the sandbox running all along
        deadline = time.monotonic() + 2
        while os.path.exists(planted) and time.monotonic() < deadline:
            time.sleep(0.05)
        still_there = os.path.exists(planted)
        alive = proc.poll() is None
    finally:
        open(net.path("work", "seen"), "w").close()
        out, err = proc.communicate(timeout=90)
    assert "planted" in out, out + err
    assert alive, "the sandbox ended before the host had looked: " + out + err
    assert not still_there, "the host could read .mcp.json for 2 s while the sandbox ran"


OWN_BACKLOG = r"""
import socket, threading, time
full = socket.socket()
full.bind(('127.0.0.1', 8766))
full.listen(0)  # never accepted: its queue fills
ok = socket.socket()
ok.bind(('127.0.0.1', 8767))
ok.listen(64)
fillers = []
for _ in range(8):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(('127.0.0.1', 8766))
    except OSError:
        pass
    fillers.append(c)
def blocked():
    c = socket.socket()
    try:
        c.connect(('127.0.0.1', 8766))
    except OSError:
        pass
threading.Thread(target=blocked, daemon=True).start()
time.sleep(0.5)
t0 = time.time()
socket.create_connection(('127.0.0.1', 8767), timeout=30)
print('took %.1f' % (time.time() - t0), flush=True)
"""


@pytest.mark.parametrize("capture", ["off", "on"])
def test_a_connect_to_a_full_queue_of_its_own_stalls_nothing(netns, capture):
    """The same wait without TCP-MD5: in the namespace, capture puts every
    connect(2) through the supervisor (even with [syscalls] unix_sockets =
    deny, where nothing was notified before), and a blocking connect to a
    listener of the sandbox's own whose queue is full keeps it in
    connect_as_command's poll() for 10 s.  A second connect, to a listener
    that accepts, waits that long too.  Control: capture = off."""
    p = netns.net_policy(ALLOW + "\ncapture = %s" % capture, "[syscalls]\nunix_sockets = deny\n")
    netns.write("work/backlog.py", OWN_BACKLOG)
    r = netns.sh(NOPROXY + "/usr/bin/python3 backlog.py", p, timeout=60)
    assert r.stdout.startswith("took "), r.stdout + r.stderr
    assert float(r.stdout.split()[1]) < 1.5, r.stdout
