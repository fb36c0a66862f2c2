# SPDX-License-Identifier: MIT
"""[network] memory_max: the proxy's buffers and pipes are budgeted per
sandbox.  Past the budget connections get small buffers and one-page pipes,
so the command's stalled connections never starve its others; the figures
(RSS, host memory) are measured in bench/stall.sh, not asserted here.  The
accounting itself is unit-tested (tests/unit/test_scrub.c)."""
import hashlib

import pytest

from conftest import slow
from test_network import ALLOW, CLIENT_PRELUDE, DIAGONAL, DIAGONAL_IDS, NetBox


@pytest.fixture(params=DIAGONAL, ids=DIAGONAL_IDS)
def net(request, world):
    b = NetBox(world, *request.param)
    yield b
    b.cleanup()


@pytest.mark.parametrize("value,msg", [("10x", "is not a size"), ("512K", "from 1M to 64G"),
                                       ("65G", "from 1M to 64G"), ("1M 2M", "one value")])
def test_bad_memory_max_refuses_to_start(world, value, msg):
    b = NetBox(world, "nobody", "namespace")
    try:
        p = b.net_policy(ALLOW + "\nmemory_max = %s" % value)
        r = b.sh("echo ran", p)
        assert r.returncode == 125 and r.stdout == "", (r.stdout, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "memory_max" in lines[0] and msg in lines[0], r.stderr
        assert "policy.ini:" in lines[0]
    finally:
        b.cleanup()


# 60 connections (half forwarded, half tunnelled) that each ask for 20 MB
# and never read: the budget is used up by them
STALL = r'''
def stall(n):
    import time
    held = []
    for i in range(n):
        s = dial()
        if i % 2:
            s.sendall(b"GET http://good.test/big?n=20000000 HTTP/1.1\r\nHost: good.test\r\n\r\n")
        else:
            s.sendall(b"CONNECT good.test:80 HTTP/1.1\r\nHost: good.test:80\r\n\r\n")
            assert s.recv(39).startswith(b"HTTP/1.1 200")
            s.sendall(b"GET /big?n=20000000 HTTP/1.1\r\nHost: good.test\r\n\r\n")
        held.append(s)
    time.sleep(1)
    return held
'''


@slow
def test_stalled_connections_past_the_budget_starve_no_one(net):
    # a 1 MiB budget, filled many times over by forwarded downloads and
    # tunnels that are never read; then a download of 4 MB (four times the
    # budget: it cannot pass but through the small buffers) through a
    # tunnel and one forwarded, both whole, and the stalled ones still held
    # (20 MB each cost 2.5 s of CPU a mode, mostly the proxy's small reads
    # and writes, for nothing more proven)
    p = net.net_policy(ALLOW + "\nmemory_max = 1M")
    script = CLIENT_PRELUDE + STALL + r'''
import hashlib, socket
stalled = stall(60)
def get(tunnel):
    s = dial()
    if tunnel:
        s.sendall(b"CONNECT good.test:80 HTTP/1.1\r\nHost: good.test:80\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(1)
        s.sendall(b"GET /big?n=4000000 HTTP/1.1\r\nHost: good.test\r\nConnection: close\r\n\r\n")
    else:
        s.sendall(b"GET http://good.test/big?n=4000000 HTTP/1.1\r\nHost: good.test\r\nConnection: close\r\n\r\n")
    data = read_all(s)
    body = data.split(b"\r\n\r\n", 1)[1]
    return len(body), hashlib.sha256(body).hexdigest()
print("tunnel =", get(True))
print("forward =", get(False))
# the stalled ones are still there, and read on
print("stalled =", sum(1 for s in stalled if s.recv(1)))
'''
    net.write("work/client.py", script)
    r = net.run(["/usr/bin/python3", "client.py"], policy=p, timeout=120)
    assert r.returncode == 0, r.stderr
    block = bytes(range(256)) * 256
    h = hashlib.sha256()
    left = 4000000
    while left:
        h.update(block[:min(left, len(block))])
        left -= min(left, len(block))
    want = "(4000000, '%s')" % h.hexdigest()
    out = dict(l.split(" = ", 1) for l in r.stdout.splitlines() if " = " in l)
    assert out["tunnel"] == want and out["forward"] == want, r.stdout
    assert out["stalled"] == "60", r.stdout


def test_heads_past_the_budget_are_refused_not_grown(net):
    # a 1 MiB budget used up by stalled downloads; then a head that does
    # not fit the small buffer every connection gets (an 8 KiB request
    # head, a ClientHello of 6 KiB so far, split across records) is
    # answered at once, while a small request still goes through
    p = net.net_policy(ALLOW + "\nmemory_max = 1M")
    script = CLIENT_PRELUDE + STALL + r'''
import struct
stalled = stall(60)
def first_line(data):
    return data.split(b"\r\n", 1)[0].decode() if data else "closed"
big = ask(b"GET http://good.test/hello HTTP/1.1\r\nHost: good.test\r\nX-Pad: " + b"a" * 8000 +
          b"\r\nConnection: close\r\n\r\n")
print("big head =", first_line(big))
print("big head says =", b"memory_max" in big)
print("small =", first_line(ask(b"GET http://good.test/hello HTTP/1.1\r\nHost: good.test\r\n"
                                b"Connection: close\r\n\r\n")))
s = dial()
s.sendall(b"CONNECT good.test:443 HTTP/1.1\r\nHost: good.test:443\r\n\r\n")
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(1)
hello = bytes([1]) + (60000).to_bytes(3, "big") + b"\x03\x03" + b"\x00" * 5994
for i in range(0, len(hello), 1000):
    part = hello[i:i + 1000]
    s.sendall(b"\x16\x03\x01" + struct.pack("!H", len(part)) + part)
s.settimeout(60)
try:
    print("hello =", read_all(s))
except ConnectionResetError:
    print("hello = reset")
'''
    net.write("work/client.py", script)
    r = net.run(["/usr/bin/python3", "client.py"], policy=p, timeout=120)
    assert r.returncode == 0, r.stderr
    out = dict(l.split(" = ", 1) for l in r.stdout.splitlines() if " = " in l)
    assert out["small"] == "HTTP/1.1 200 OK", r.stdout
    assert out["big head"] == "HTTP/1.1 431 Request Header Fields Too Large", r.stdout
    assert out["big head says"] == "True", r.stdout
    assert out["hello"] in ("b''", "reset"), r.stdout
    deny = [e for e in net.events("net.deny") if "memory_max" in e.get("reason", "")]
    assert len(deny) == 2, net.events("net.deny")
    assert "a request head over 4096 bytes" in deny[0]["reason"], deny
    assert "a tunnel's first bytes over 4096 bytes" in deny[1]["reason"], deny
    assert deny[1]["host"] == "good.test", deny
