# SPDX-License-Identifier: MIT
"""Attacks on two proxy mechanisms: response bodies spliced through a pipe
(netproxy/spliced.c) and upstream TLS sessions resumed by host name
(netproxy/resume.c), from the sandboxed command's side and from a hostile
upstream's (an allowed host may be the attacker's).

The network ones run in the network tests' namespace (test_network.World);
the hostile upstream is a raw server of the test's own on good.test:8181.
"""
import re
import subprocess

import pytest

from test_credentials import CURL, policy, run
from test_network import CLIENT_PRELUDE, NetBox

HOSTILE_PORT = 8181
STRAY = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nsmuggled\n"
SECOND = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nsecond\n"


@pytest.fixture(params=[("root", "namespace"), ("nobody", "broker")],
                ids=["root-ns", "user-broker"])
def two(request, world):
    b = NetBox(world, *request.param)
    yield b
    b.cleanup()


@pytest.fixture
def one(world):
    b = NetBox(world, "nobody", "namespace")
    yield b
    b.cleanup()


# ---- spliced response bodies ---------------------------------------------------

# A hostile upstream: the first request on each connection names a scenario,
# answered with a response whose framing is a trick, then a response nobody
# asked for (STRAY) behind it; any later request on that connection gets
# SECOND.  Each connection and request is logged, so that a test can tell
# the proxy reused an upstream from one it closed.
HOSTILE = r'''
import socket, sys, threading, time
STRAY, SECOND = %r, %r
B = b"a" * 200000
SCEN = {
    # a length, the stray right behind it (one write)
    "len": [b"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n" + B + STRAY],
    # a length shorter than what is sent: the rest is the stray
    "lie": [b"HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n" + B[:20000] + STRAY + B],
    # one chunk with an extension holding ';' and a quoted CRLF-free value,
    # trailers, then the stray
    "chunkext": [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"30d40;name=\"v;x\";y\r\n" + B + b"\r\n0;z\r\nX-Trailer: 1\r\n"
                 b"X-Other: 2\r\n\r\n" + STRAY],
    # two chunks of 100000 whose sizes have leading zeros
    "chunks": [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"000186a0\r\n" + B[:100000] + b"\r\n186A0\r\n" + B[:100000] + b"\r\n0\r\n\r\n"
               + STRAY],
    # a status that has no body, sent one anyway
    "204": [b"HTTP/1.1 204 No Content\r\nContent-Length: 200000\r\n\r\n" + B + STRAY],
    "304": [b"HTTP/1.1 304 Not Modified\r\nContent-Length: 200000\r\n\r\n" + B + STRAY],
    "204chunked": [b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"30d40\r\n" + B + b"\r\n0\r\n\r\n" + STRAY],
    # a HEAD answered with the body its length announces
    "head": [b"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n" + B + STRAY],
    # an interim answer, then the real one
    "103": [b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n" + B + STRAY],
    # an interim answer that claims a body
    "100body": [b"HTTP/1.1 100 Continue\r\nContent-Length: 200000\r\n\r\n" + B
                + b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nreal\n" + STRAY],
    # in step: the control (the upstream is reused)
    "clean": [b"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n" + B],
}
log = open(sys.argv[2], "a", buffering=1)

def serve(c, n):
    try:
        answer(c, n)
    finally:
        c.close()

def answer(c, n):
    buf, first = b"", True
    while True:
        while b"\r\n\r\n" not in buf:
            d = c.recv(65536)
            if not d:
                return
            buf += d
        head, buf = buf.split(b"\r\n\r\n", 1)
        target = head.split(b" ")[1].decode()
        log.write("conn %%d %%s\n" %% (n, target))
        if first and target != "/second":
            first = False
            for part in SCEN[target.strip("/")]:
                c.sendall(part)
        else:
            c.sendall(SECOND)

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], %d))
s.listen(64)
print("ready", flush=True)
n = 0
while True:
    c, _ = s.accept()
    n += 1
    threading.Thread(target=serve, args=(c, n), daemon=True).start()
''' % (STRAY, SECOND, HOSTILE_PORT)


class Hostile:
    def __init__(self, box):
        self.log = box.path("hostile.log")
        open(self.log, "w").close()
        src = box.path("hostile.py")
        with open(src, "w") as f:
            f.write(HOSTILE)
        self.p = subprocess.Popen(["ip", "netns", "exec", box.world.name, "/usr/bin/python3",
                                   src, "93.184.215.14", self.log],
                                  stdout=subprocess.PIPE, text=True)
        assert self.p.stdout.readline().strip() == "ready"

    def conns(self):
        with open(self.log) as f:
            return [l.split() for l in f.read().splitlines()]

    def stop(self):
        self.p.kill()
        self.p.wait()


# Each scenario on a connection of its own: the scenario's request and a
# second one pipelined behind it (Connection: close), everything read back.
PIPELINED = r'''
import sys
for scen in sys.argv[1].split(","):
    method = "HEAD" if scen == "head" else "GET"
    s = dial()
    s.settimeout(10)
    s.sendall(("%s http://good.test:8181/%s HTTP/1.1\r\nHost: good.test:8181\r\n\r\n"
               "GET http://good.test:8181/second HTTP/1.1\r\nHost: good.test:8181\r\n"
               "Connection: close\r\n\r\n" % (method, scen)).encode())
    try:
        out = read_all(s)
    except Exception as e:
        out = ("EXC %s" % e).encode()
    open("out-" + scen, "wb").write(out)
'''

SCENARIOS = ["len", "lie", "chunkext", "chunks", "204", "304", "204chunked",
             "head", "103", "100body", "clean"]


def test_hostile_upstream_cannot_answer_a_later_request_with_a_stray_response(two):
    """An allowed upstream is the attacker's: behind a response whose body is
    spliced (200000 bytes, no credential, plain HTTP), or framed with chunk
    extensions and trailers, or a 204/304/HEAD/1xx that is sent a body
    anyway, it sends a response nobody asked for.  The request pipelined
    behind must get its own answer (SECOND), never the stray one: the
    upstream out of step is closed (a second connection), and the control
    in step is reused (one)."""
    h = Hostile(two)
    try:
        p = two.net_policy("allow = good.test:%d" % HOSTILE_PORT)
        two.write("work/client.py", CLIENT_PRELUDE + PIPELINED)
        r = two.run(["/usr/bin/python3", "client.py", ",".join(SCENARIOS)], policy=p,
                    timeout=120)
        assert r.returncode == 0, r.stderr
        got = {}
        for scen in SCENARIOS:
            with open(two.path("work", "out-" + scen), "rb") as f:
                got[scen] = f.read()
        conns = h.conns()
    finally:
        h.stop()
    bad = {s: o[-200:] for s, o in got.items() if b"smuggled" in o}
    assert not bad, bad
    for scen in ("len", "lie", "chunkext", "chunks", "204", "304", "head",
                 "103", "clean"):
        assert got[scen].endswith(SECOND), (scen, got[scen][:200], got[scen][-200:])
    # the control: in step, the second request went on the same connection
    by_conn = {}
    for _, n, target in conns:
        by_conn.setdefault(n, []).append(target)
    assert ["/clean", "/second"] in by_conn.values(), conns
    # out of step: never a second request on that connection
    for targets in by_conn.values():
        if targets[0] not in ("/clean",):
            assert targets == [targets[0]], conns


STALL = r'''
import hashlib, sys, time
n = int(sys.argv[1])
stalled = []
for _ in range(n):
    s = dial()
    s.sendall(b"GET http://good.test/big?n=50000000 HTTP/1.1\r\nHost: good.test\r\n\r\n")
    s.recv(100)  # its head is there: the body flows, then stalls
    stalled.append(s)
time.sleep(1)
t0 = time.monotonic()
s = dial()
s.settimeout(20)
s.sendall(b"GET http://good.test/big?n=3000000 HTTP/1.1\r\nHost: good.test\r\n"
          b"Connection: close\r\n\r\n")
out = b""
try:
    while True:
        c = s.recv(65536)
        if not c:
            break
        out += c
except Exception as e:
    print("EXC", e)
body = out.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in out else b""
print(len(body), hashlib.sha256(body).hexdigest(), round(time.monotonic() - t0, 1))
'''


def test_stalled_spliced_downloads_hold_no_one_else_up(two):
    """Clients that stop reading in the middle of spliced bodies (each holds
    a pipe, charged to a tight memory budget, full, and its sockets) leave
    the proxy serving others: a 3 MB download behind them arrives whole."""
    from test_network import pattern_sha
    p = two.net_policy("allow = good.test\nmemory_max = 2M")
    two.write("work/client.py", CLIENT_PRELUDE + STALL)
    r = two.run(["/usr/bin/python3", "client.py", "40"], policy=p, timeout=120)
    assert r.stdout.split()[:2] == ["3000000", pattern_sha(3000000)], (r.stdout, r.stderr)


# ---- upstream TLS sessions resumed by name -------------------------------------

def test_a_kept_session_changes_no_verdict_for_another_spelling(one):
    """good.test's upstream (which takes its own tickets whatever name a
    ClientHello gives, and serves good.test's certificate to every name) has
    left a session: a connection to another spelling of the name (case, a
    trailing dot) or to another name on the same server (wrong.test) gets
    the verdict it gets from a proxy that keeps no session.  A session is
    never kept from a handshake whose certificate was refused: wrong.test
    twice is refused twice."""
    creds = ("[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n"
             "hosts = good.test wrong.test\n")
    p = policy(one, creds=creds)
    ask = CURL + "https://%s/resumed -w ' %%{http_code}\\n'; "
    for v in ("GOOD.TEST", "good.test.", "Good.Test", "wrong.test"):
        fresh = run(one, ask % v, p)
        primed = run(one, ask % "good.test" + ask % v + ask % v, p)
        code = re.findall(r"^ (\d{3})$", fresh.stdout, re.M)
        got = re.findall(r"^ (\d{3})$", primed.stdout, re.M)
        assert len(code) == 1 and got == ["200"] + code * 2, (v, fresh.stdout, primed.stdout)
        assert primed.stdout.startswith("resumed False\n"), primed.stdout
    assert code == ["502"]  # the last, wrong.test: the check is live


RULED = r'''
import sys
s = dial()
s.settimeout(20)
big = b"GET http://good.test/bigchunked?n=3000000 HTTP/1.1\r\nHost: good.test\r\n\r\n"
last = sys.argv[1].encode()
s.sendall(big + big + last + b" HTTP/1.1\r\nHost: good.test\r\n\r\n")
out = read_all(s)
print(out.count(b"X-Ringfence: blocked"), out.count(b"HTTP/1.1 200"), out.count(b"GET /headers\n"),
      out.count(b"DELETE /hello\n"), len(out) > 6000000)
'''


def test_requests_pipelined_behind_spliced_bodies_are_still_judged(two):
    """Method and path rules on a plain host whose bodies are spliced: the
    requests pipelined behind each spliced body (a path and a method the
    rules do not allow) are refused by the proxy (X-Ringfence: blocked),
    never answered by the upstream (which echoes /headers)."""
    p = two.net_policy("allow = GET http://good.test/bigchunked GET http://good.test/hello")
    two.write("work/client.py", CLIENT_PRELUDE + RULED)
    for last in ("GET http://good.test/headers", "DELETE http://good.test/hello"):
        r = two.run(["/usr/bin/python3", "client.py", last], policy=p, timeout=120)
        assert r.stdout.split() == ["1", "2", "0", "0", "True"], (last, r.stdout, r.stderr)
