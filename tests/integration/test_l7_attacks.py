# SPDX-License-Identifier: MIT
"""Attacks on method and path rules and on credential injection: each test
here shows a request, a secret or a command getting past what the policy
says, and fails while the hole is open.

The network ones run in the network tests' namespace (test_network.World):
good.test answers HTTP on 80 and HTTPS on 443; a path it does not serve is a
404 from the upstream itself, which is how a request that reached it is told
from one the proxy refused (a 403 with X-Ringfence: blocked).
"""
import base64
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import IS_ROOT, NOBODY, RINGFENCE, SANITIZED
from test_http_rules import policy
from test_network import NetBox

AS_NOBODY = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]


@pytest.fixture(params=[("root", "namespace"), ("nobody", "broker")],
                ids=["root-ns", "user-broker"])
def two(request, world):
    b = NetBox(world, *request.param)
    yield b
    b.cleanup()


# ---- source = cmd: as root, the policy's owner checked by path ---------------

TOGGLE = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
d = sys.argv[1]
a, b = (d + "/u").encode(), (d + "/l").encode()
while not os.path.exists(d + "/stop"):
    libc.syscall(316, -100, a, -100, b, 2)  # renameat2(AT_FDCWD.., RENAME_EXCHANGE)
"""


@pytest.mark.skipif(not IS_ROOT or platform.machine() != "x86_64",
                    reason="needs root; renameat2 by its x86_64 number")
def test_cmd_as_root_policy_owner_checked_by_path_after_parse():
    """A user writes a policy naming a command, in a directory of their own;
    root runs ringfence on it.  check_root_policy() (supervisor/secretcmd.c)
    stat()s the policy's path and its dirname long after parse_load_file() read it:
    the user swaps their directory for a symbolic link to /etc between the
    two (renameat2 RENAME_EXCHANGE in a loop), so the file read is theirs
    and the file checked is /etc/passwd, root's.  The user's command then
    runs as root."""
    base = tempfile.mkdtemp(prefix="rf-l7-race-", dir="/tmp")
    os.chmod(base, 0o1777)  # like /tmp; any directory of the user's would do
    try:
        pwned = os.path.join(base, "pwned")
        pol = ("[network]\nmode = proxy\n[credential tok]\nenv = TOK\n"
               "source = cmd:/bin/sh -c \"id -u >> %s; echo s3cretvalue0123456\"\n"
               "hosts = good.test\n" % pwned)
        subprocess.run(AS_NOBODY + ["sh", "-c", 'mkdir "$1/u" && cat > "$1/u/passwd" && '
                                    'ln -s /etc "$1/l"', "sh", base],
                       input=pol.encode(), check=True)
        with open(os.path.join(base, "toggle.py"), "w") as f:
            f.write(TOGGLE)
        # positive control: the user's own policy, unswapped, is refused
        r = subprocess.run([RINGFENCE, "-p", base + "/u/passwd", "--", "/bin/true"],
                           capture_output=True, text=True)
        assert r.returncode == 125 and "would run as root" in r.stderr, r.stderr
        assert not os.path.exists(pwned)
        t = subprocess.Popen(AS_NOBODY + ["/usr/bin/python3", base + "/toggle.py", base])
        try:
            time.sleep(0.2)
            # (the binary before the fix, a3edc4f's parent, lost the race
            # within 2 to 27 tries in five trials; 40 under ASan, where
            # each try costs some ten times more)
            for _ in range(40 if SANITIZED else 200):
                subprocess.run([RINGFENCE, "-p", base + "/u/passwd", "--", "/bin/true"],
                               capture_output=True, timeout=30)
                if os.path.exists(pwned):
                    break
        finally:
            open(os.path.join(base, "stop"), "w").close()
            t.wait(timeout=10)
        ran = open(pwned).read() if os.path.exists(pwned) else ""
        assert ran == "", "the user's command ran as uid %s" % ran.strip()
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ---- method and path rules ----------------------------------------------------

ASK = r'''
import sys
for line in open("targets"):
    target = line.strip()
    s = dial()
    s.sendall(b"GET http://good.test%s HTTP/1.1\r\nHost: good.test\r\nConnection: close\r\n\r\n"
              % target.encode())
    out = read_all(s).decode(errors="replace")
    print(target, "=>", "blocked" if "X-Ringfence: blocked" in out else out.split("\r\n")[0])
'''


def asked(box, p, targets):
    box.write("work/targets", "".join(t + "\n" for t in targets))
    r = box.python(ASK, p)
    got = dict(l.split(" => ", 1) for l in r.stdout.splitlines() if " => " in l)
    assert set(got) == set(targets), (r.stdout, r.stderr)
    return got


# Forms of /headers that a common router serves as /headers: Express, Rails
# and Spring MVC before 6 ignore one trailing slash; IIS and anything on a
# Windows file system drop trailing dots and spaces from a segment.
DENY_SAME = ["/headers/", "/headers.", "/headers%20", "/HEADERS/"]


def test_deny_rule_bypassed_by_a_form_routers_serve_as_the_same_path(two):
    """deny = GET http://good.test/headers on a host allowed whole: a deny
    rule is 'never narrower than it reads' (decide.c) and matches in any
    letter case because servers fold case, but the forms above reach the
    upstream.  nx_path_glob() needs the path to end where the pattern does,
    and the normal form keeps a trailing empty segment and a segment's
    trailing '.' or ' '."""
    p = policy(two, "allow = good.test\ndeny = GET http://good.test/headers", upstream_ca=False)
    got = asked(two, p, ["/headers", "/hello"] + DENY_SAME)
    # positive controls: the rule refuses the path it names; the host answers others
    assert got["/headers"] == "blocked" and got["/hello"].startswith("HTTP/1.1 200"), got
    reached = [t for t in DENY_SAME if got[t] != "blocked"]
    assert reached == [], "reached the upstream past the deny rule: %s" % got


# Overlong UTF-8 for '.' (C0 AE) and '/' (C0 AF), which servers with a
# lenient UTF-8 decoder (old IIS, some Java containers, Python's
# surrogateescape-less apps that fold) read as "." and "/": the normal form
# refuses "%2e%2e" and "%2F" for this very reason, but not these.
OVERLONG = ["/hello/%C0%AE%C0%AE/headers", "/hello/%C0%AE%C0%AE%C0%AFheaders", "/hello/%E0%80%AE%E0%80%AE/x"]


def test_allow_rule_passes_overlong_utf8_dot_segments(two):
    p = policy(two, "allow = GET http://good.test/hello/**", upstream_ca=False)
    got = asked(two, p, ["/hello", "/hello/%2e%2e/headers", "/headers"] + OVERLONG)
    assert got["/hello"].startswith("HTTP/1.1 200"), got
    assert got["/hello/%2e%2e/headers"] == "blocked" and got["/headers"] == "blocked", got
    reached = [t for t in OVERLONG if got[t] != "blocked"]
    assert reached == [], "reached the upstream: %s" % got


HEAD_ASK = r'''
for method in ("GET", "HEAD"):
    s = dial()
    s.sendall(b"%s http://good.test/headers?leak=data HTTP/1.1\r\nHost: good.test\r\n"
              b"Connection: close\r\n\r\n" % method.encode())
    out = read_all(s).decode(errors="replace")
    print(method, "=>", "blocked" if "X-Ringfence: blocked" in out else out.split("\r\n")[0])
'''


def test_deny_get_bypassed_by_head(two):
    """deny = GET http://good.test/headers: Express, Flask, Rails and Django
    route HEAD to the GET handler (it runs whole, only the body is
    dropped), so HEAD carries the same request, query and all, to the same
    code.  method_in() (decide.c) compares the method's name alone."""
    p = policy(two, "allow = good.test\ndeny = GET http://good.test/headers", upstream_ca=False)
    r = two.python(HEAD_ASK, p)
    got = dict(l.split(" => ", 1) for l in r.stdout.splitlines() if " => " in l)
    assert got.get("GET") == "blocked", (r.stdout, r.stderr)
    assert got.get("HEAD") == "blocked", "HEAD reached the GET handler: %s" % got


# ---- credentials ---------------------------------------------------------------

SHORT_SECRET = "hunter22"  # 8 bytes: a Basic password of a common length


@pytest.mark.parametrize("inject", ["basic:apiuser", "basic-user", "replace"])
def test_short_basic_secret_reflected_in_base64(two, inject):
    """inject = basic:USER (or basic-user, or replace inside a Basic the
    command wrote): the proxy itself writes Basic base64(USER:secret), and
    an upstream that echoes its request headers (/headers here; debug
    endpoints, error pages) sends that base64 back.  The reflection scan
    (scrub.c add_secret) looks for base64 only through a 'core' of at least
    12 characters, which a secret of 8 bytes or fewer does not have, so the
    command decodes the echo and holds the password.  Caught, the body is
    cut where the secret began (a cred.reflect event), as for a longer one."""
    creds = ("[credential tok]\nenv = TOK\nsource = env:RF_SHORT\nhosts = good.test\n"
             "inject = %s\n" % inject)
    p = two.net_policy("allow = good.test\nupstream_ca = %s" % two.path("bin", "ca.pem"), creds)
    auth = ("Basic $(printf 'apiuser:%s' \"$TOK\" | base64)" if inject == "replace"
            else "Bearer $TOK")
    # /seen first: what the upstream received, hex-encoded (which the scan
    # does not take for the secret), then /headers, which echoes it as it is
    r = two.sh("curl -sS -m 10 -H \"Authorization: %s\" https://good.test/seen; "
               "curl -sS -m 10 -H \"Authorization: %s\" https://good.test/headers"
               % (auth, auth), p, env={"RF_SHORT": SHORT_SECRET})
    # positive control: the upstream got the secret in a Basic
    # authorization, so /headers answers with its base64
    assert r.stdout.startswith("hex:"), (r.stdout, r.stderr)
    seen = bytes.fromhex(r.stdout[4:].split("\n", 1)[0]).decode(errors="replace")
    assert "GET /seen" in seen and "Authorization: Basic " in seen, seen
    sent = seen.split("Authorization: Basic ", 1)[1].split()[0]
    assert SHORT_SECRET in base64.b64decode(sent + "==").decode(errors="replace"), seen
    # what came back of /headers (cut where the secret began, or nothing)
    # never holds it; the proxy says it came back
    echoed = r.stdout.split("\n", 1)[1] if "\n" in r.stdout else ""
    for piece in echoed.split("Authorization: Basic ")[1:]:
        b64 = (piece.split() or [""])[0]
        b64 = b64[:len(b64) - 1] if len(b64) % 4 == 1 else b64
        decoded = base64.b64decode(b64 + "=" * (-len(b64) % 4), validate=False)
        assert SHORT_SECRET.encode() not in decoded, "reflected: Basic %s is %r" % (b64, decoded)
    assert SHORT_SECRET not in echoed
    ev = two.events("cred.reflect")
    assert any(e["credential"] == "tok" and e["host"] == "good.test" for e in ev), ev


PLANT = r'''
import time
# a module the command's interpreter imports before its standard library:
# python3 -c puts the working directory first on sys.path
open("base64.py", "w").write(
    "import os\n"
    "open(%r, 'a').write('%%d\\n' %% os.getuid())\n"
    "from binascii import *\n")
try:
    open(%r, "w").write("x")
    print("sandbox wrote outside")
except OSError as e:
    print("sandbox cannot write outside:", e.errno)
time.sleep(4)  # past the refresh at ttl / 2
'''


def test_cmd_refresh_runs_in_the_sandbox_working_directory(two):
    """source = cmd: with a ttl: the helper (supervisor/secretcmd.c) runs the
    command in the directory ringfence started in, the project the sandbox
    works in and may write.  A command that reads or imports anything
    relative to it (python3 -c, node -e, git, a tool's ./config) runs what
    the sandbox planted there, outside the sandbox, at the next refresh."""
    outside = two.path("outside")
    os.mkdir(outside)
    os.chmod(outside, 0o777)
    marker = os.path.join(outside, "ran")
    creds = ("[credential tok]\nenv = TOK\nhosts = good.test\nttl = 2s\ntimeout = 1s\n"
             "source = cmd:/usr/bin/python3 -c \"import base64; print('cmd-secret-0123456789')\"\n")
    p = two.net_policy("allow = good.test\nupstream_ca = %s" % two.path("bin", "ca.pem"), creds)
    r = two.python(PLANT % (marker, os.path.join(outside, "direct")), p)
    # positive control: the directory is out of the sandbox's reach
    assert "sandbox cannot write outside" in r.stdout, (r.stdout, r.stderr)
    ran = open(marker).read() if os.path.exists(marker) else ""
    assert ran == "", "the sandbox's base64.py ran outside it as uid %s" % ran.split()


SMUGGLE = r'''
import ssl, sys, time
tls = sys.argv[1] == "tls"
def tunnel():
    s = dial()
    s.sendall(b"CONNECT good.test:%d HTTP/1.1\r\nHost: good.test\r\n\r\n" % (443 if tls else 80))
    assert s.recv(4096).startswith(b"HTTP/1.1 200")
    if tls:
        s = ssl.create_default_context().wrap_socket(s, server_hostname="good.test")
    return s
def once(data):
    s = tunnel()
    s.sendall(data)
    s.settimeout(5)
    out = b""
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            out += c
    except Exception:
        pass
    return out.decode(errors="replace")
# positive control: the rules refuse /store/ asked for directly
out = once(b"GET /store/direct?x HTTP/1.1\r\nHost: good.test\r\nConnection: close\r\n\r\n")
print("direct:", "blocked" if "X-Ringfence: blocked" in out else out.split("\r\n")[0])
inner = b"GET /store/smuggled?reached HTTP/1.1\r\nHost: good.test\r\n\r\n"
once(b"GET /hello HTTP/1.1\r\nHost: good.test\r\nContent-Length: %d\r\n\r\n%s"
     b"GET /hello HTTP/1.1\r\nHost: good.test\r\nConnection: close\r\n\r\n" % (len(inner), inner))
time.sleep(0.5)
out = once(b"GET /stored/smuggled HTTP/1.1\r\nHost: good.test\r\nConnection: close\r\n\r\n")
print("stored:", out.split("\r\n\r\n", 1)[-1] if " 200 " in out.split("\r\n")[0] else out[:80])
'''


@pytest.mark.parametrize("proto", ["http", "tls"])
def test_get_body_smuggles_a_request_past_the_rules(two, proto):
    """allow = GET .../hello and GET .../stored/**: a GET /hello with a
    Content-Length whose body is a whole request.  The proxy judges the head
    and forwards the body on the upstream connection; an upstream that does
    not read a GET's body (Python's http.server here; static handlers and
    many frameworks' GET routes) reads those bytes as the next request and
    runs GET /store/... (CL.0 desync), which no rule allows."""
    s = "https" if proto == "tls" else "http"
    p = policy(two, "allow = GET %s://good.test/hello\nallow = GET %s://good.test/stored/**"
               % (s, s), upstream_ca=proto == "tls")
    key = "smuggled-" + uuid.uuid4().hex[:8]
    r = two.python(SMUGGLE.replace("sys.argv[1]", repr(proto)).replace("smuggled", key), p)
    assert "direct: blocked" in r.stdout, (r.stdout, r.stderr)
    assert "stored:" in r.stdout, (r.stdout, r.stderr)
    assert "reached" not in r.stdout.split("stored:", 1)[1], \
        "GET /store/smuggled ran on the upstream: %s" % r.stdout


@pytest.mark.parametrize("upgrade", [False, True], ids=["plain", "upgrade"])
@pytest.mark.parametrize("proto", ["http", "tls"])
def test_ignored_post_body_smuggles_a_request_past_the_rules(two, proto, upgrade):
    """The same desync with a body the proxy must forward: allow = POST
    .../ignore, whose handler answers without reading the body (upstream.py)
    and keeps the connection.  Refusing a GET's body is not enough: the
    upstream connection of a request with a body to a ruled host must end
    with it (Connection: close, never reused).  [upgrade]: the POST asks
    for a WebSocket upgrade too, for which its upstream connection was
    kept (a 101 may follow) instead of ended: a WebSocket handshake has no
    body, so such a request is refused."""
    s = "https" if proto == "tls" else "http"
    p = policy(two, "allow = POST %s://good.test/ignore\nallow = GET %s://good.test/stored/**\n"
               "allow = GET %s://good.test/hello" % (s, s, s), upstream_ca=proto == "tls")
    key = "smuggled-" + uuid.uuid4().hex[:8]
    script = SMUGGLE.replace("sys.argv[1]", repr(proto)).replace("smuggled", key).replace(
        'b"GET /hello HTTP/1.1\\r\\nHost: good.test\\r\\nContent-Length',
        'b"POST /ignore HTTP/1.1\\r\\nHost: good.test\\r\\n%sContent-Length'
        % ("Connection: Upgrade\\r\\nUpgrade: websocket\\r\\n" if upgrade else ""))
    assert "POST /ignore" in script and ("Upgrade: websocket" in script) == upgrade
    r = two.python(script, p)
    assert "direct: blocked" in r.stdout, (r.stdout, r.stderr)
    assert "stored:" in r.stdout, (r.stdout, r.stderr)
    assert "reached" not in r.stdout.split("stored:", 1)[1], \
        "GET /store/smuggled ran on the upstream: %s" % r.stdout
    if upgrade:
        assert any("asking for an upgrade with a body" in json.dumps(e)
                   for e in two.events()), two.events()


KEEP = r'''
s = dial()
s.sendall(b"POST http://good.test/headers HTTP/1.1\r\nHost: good.test\r\nContent-Length: 3\r\n\r\nabc"
          b"GET http://good.test/hello HTTP/1.1\r\nHost: good.test\r\nConnection: close\r\n\r\n")
print(repr(read_all(s).decode(errors="replace")))
'''


def test_a_body_ends_the_upstream_connection_not_the_clients(two):
    """The upstream is asked to close after a request with a body to a
    ruled host; its Connection: close answers the proxy, and the client's
    connection goes on to its next request (a new upstream connection)."""
    p = policy(two, "allow = POST http://good.test/headers GET http://good.test/hello",
               upstream_ca=False)
    r = two.python(KEEP, p)
    out = eval(r.stdout.strip() or "''")
    first, _, rest = out.partition("\r\n\r\n")
    assert first.startswith("HTTP/1.1 200") and "POST /headers" in rest, (out, r.stderr)
    assert "connection: close" in rest.lower(), "the upstream was not asked to close: %r" % out
    assert "connection:" not in first.lower(), "the client was told to close: %r" % out
    assert "hello from" in rest, "the next request on the connection was not answered: %r" % out
