# SPDX-License-Identifier: MIT
"""[network] method and path rules (allow = GET,HEAD https://HOST/PATH, deny
the same): every request to a host they name is read and judged, over plain
HTTP (forwarded, or inside a granted tunnel) and HTTPS (intercepted with the
run's CA, as a credential's host is), each request of a kept-alive
connection on its own.  A refusal is a 403 naming the rule that would allow
it; net.allow and net.deny carry the method and the path.

The upstream is the network tests' (test_network.World): good.test answers
HTTP on 80 and HTTPS on 443 (a test CA, trusted through upstream_ca);
/headers answers with the request line it received.
"""
import re
import subprocess

import pytest

from conftest import RINGFENCE
from test_network import CLIENT_PRELUDE, DIAGONAL, DIAGONAL_IDS, PUB, NetBox

CURL = "curl -sS -m 10 "


@pytest.fixture(params=DIAGONAL, ids=DIAGONAL_IDS)
def rb(request, world):
    b = NetBox(world, *request.param)
    yield b
    b.cleanup()


@pytest.fixture
def one(world):
    """One mode, for behaviour that does not depend on the mechanism."""
    b = NetBox(world, "nobody", "namespace")
    yield b
    b.cleanup()


def line_of(path, text):
    """The line of the policy file PATH that starts with TEXT."""
    with open(path) as f:
        for n, l in enumerate(f, 1):
            if l.startswith(text):
                return n
    raise AssertionError("%s not in %s" % (text, path))


def policy(box, rules, upstream_ca=True):
    net = rules
    if upstream_ca:
        net += "\nupstream_ca = %s" % box.path("bin", "ca.pem")
    return box.net_policy(net)


PLAIN = "allow = GET,HEAD http://good.test/hello POST http://good.test/headers\n" \
        "allow = GET http://good.test/ws"


def test_plain_http_forwarded_judged_by_method_and_path(rb):
    p = policy(rb, PLAIN, upstream_ca=False)
    r = rb.sh(CURL + "http://good.test/hello; " + CURL + "-X POST http://good.test/hello; " +
              CURL + "http://good.test/headers; " + CURL + "-d x http://good.test/headers; " +
              CURL + "--path-as-is http://good.test/x/../hello; " +
              CURL + "-p http://good.test/headers; " +
              CURL + "--socks5-hostname ${ALL_PROXY#socks5h://} http://good.test/headers", p)
    out = r.stdout
    assert "hello from %s\n" % PUB in out, r.stderr
    # each refusal names the rule that would allow it, and where the refusing one is
    assert "good.test:80 blocked: POST /hello is not in [network] allow; " \
           "add POST http://good.test/hello to [network] allow" in out
    # forwarded, in a CONNECT tunnel, in a SOCKS5 one
    assert out.count("add GET http://good.test/headers to [network] allow") == 3, out
    assert "POST /headers\n" in out  # /headers' answer: what it received
    assert "'..' segment" in out and "no rule can allow it" in out
    deny = [(e["method"], e["path"]) for e in rb.events("net.deny")]
    assert deny == [("POST", "/hello"), ("GET", "/headers"), ("GET", "/x/../hello"),
                    ("GET", "/headers"), ("GET", "/headers")], deny
    allow = [(e.get("method"), e.get("path"), e["rule"]["line"]) for e in rb.events("net.allow")
             if e.get("path")]
    n = line_of(p, "allow = GET,HEAD")
    assert ("GET", "/hello", n) in allow and ("POST", "/headers", n) in allow, allow
    summary = [l for l in r.stderr.splitlines() if "proxy blocked" in l]
    assert summary and "METHOD https://HOST/PATH" in summary[0]


def test_a_segment_of_dots_and_spaces_is_refused(rb):
    """Outside review: `/x/..%20/hello` and `/x/.../hello` passed an allow
    rule on /x/**: IIS and Windows drop a segment's trailing dots and
    spaces, so the first is /hello there.  Refused now, as '..' is; a
    segment with dots in it beside a letter is a name (the control)."""
    p = policy(rb, "allow = GET http://good.test/x/**", upstream_ca=False)
    r = rb.sh(CURL + "--path-as-is http://good.test/x/..%20/hello; " +
              CURL + "--path-as-is http://good.test/x/.../hello; " +
              CURL + "http://good.test/x/a...", p)
    out = r.stdout
    assert out.count("a segment of dots and spaces") == 2, out + r.stderr
    deny = [(e["method"], e["path"]) for e in rb.events("net.deny")]
    assert deny == [("GET", "/x/..%20/hello"), ("GET", "/x/.../hello")], deny
    allow = [e.get("path") for e in rb.events("net.allow") if e.get("path")]
    assert set(allow) == {"/x/a..."}, allow


def test_a_deny_rule_with_a_query_meets_its_parameter_wherever_it_is(rb):
    """Outside review: `deny = GET .../headers?debug=1` was compared to the
    whole query as one string, so `?x=1&debug=1`, `?debug=1&` and
    `?&debug=1` reached the server, which reads debug=1 in each.  The
    query is now read parameter by parameter.  The control: the same path
    without the parameter is served (its answer: the request line)."""
    p = policy(rb, "allow = good.test\ndeny = GET http://good.test/headers?debug=1",
               upstream_ca=False)
    r = rb.sh("; ".join(CURL + "'http://good.test/headers?%s'" % q
                        for q in ("debug=1", "x=1&debug=1", "debug=1&", "&debug=1",
                                  "x=1;debug=1", "debug=2")), p)
    out = r.stdout
    assert out.count("denied by [network] deny GET http://good.test/headers?debug=1") == 5, \
        out + r.stderr
    # what the server received: the control alone
    assert re.findall(r"^GET /headers\S*", out, re.M) == ["GET /headers?debug=2"], out


def test_https_intercepted_for_path_rules_without_a_credential(rb):
    p = policy(rb, "allow = GET https://good.test/hello")
    r = rb.sh(CURL + "https://good.test/hello; " + CURL + "https://good.test/headers; echo rc=$?;"
              + CURL + "-X DELETE https://good.test/hello; echo; " +
              CURL + "-H 'X-HTTP-Method-Override: DELETE' https://good.test/hello; echo; " +
              CURL + "-H 'X_HTTP_METHOD_OVERRIDE: DELETE' https://good.test/hello; echo; " +
              CURL + "'https://good.test/hello?_method=DELETE'; echo; env", p)
    assert "hello from %s\n" % PUB in r.stdout, r.stderr
    assert "good.test:443 blocked: GET /headers is not in [network] allow; " \
           "add GET https://good.test/headers to [network] allow" in r.stdout
    assert "add DELETE https://good.test/hello" in r.stdout
    assert "SSL_CERT_FILE=" in r.stdout  # the bundle with the run's CA
    deny = rb.events("net.deny")
    # a header some servers take for the method: the request line judged would not be
    # the one served
    assert "GET with x-http-method-override (taken for the method or path" in r.stdout
    # the same written with '_' (CGI, PHP and WSGI pass it on alike), and
    # Symfony's and Laravel's _method parameter (outside review)
    assert r.stdout.count("GET with x-http-method-override (taken for the method or") == 2
    assert "GET with a _method parameter (taken for the method" in r.stdout, r.stdout
    assert r.stdout.count("hello from") == 1
    assert [(e["proto"], e["method"], e["path"]) for e in deny] == [
        ("https", "GET", "/headers"), ("https", "DELETE", "/hello"), ("https", "GET", "/hello"),
        ("https", "GET", "/hello"), ("https", "GET", "/hello")]
    allow = [e for e in rb.events("net.allow") if e.get("path")]
    assert [(e["proto"], e["method"], e["path"]) for e in allow] == [("https", "GET", "/hello")]


def test_host_without_path_rules_stays_an_opaque_tunnel(one):
    # rules on plain HTTP only: no CA, no bundle, HTTPS spliced as it is
    p = policy(one, "allow = good.test\ndeny = POST http://good.test:80/hello", upstream_ca=False)
    r = one.sh(CURL + "--cacert %s https://good.test/hello; " % one.path("bin", "ca.pem") +
               CURL + "-d x http://good.test/hello; env", p)
    assert "hello from %s\n" % PUB in r.stdout, r.stderr
    assert "POST /hello denied by [network] deny POST http://good.test:80/hello" in r.stdout
    assert "SSL_CERT_FILE" not in r.stdout
    assert one.events("net.close")[0]["bytes_down"] > 500  # the spliced TLS tunnel


def test_deny_rules_on_a_host_allowed_whole(rb):
    p = policy(rb, "allow = good.test\ndeny = POST,PUT,DELETE https://good.test/**\n"
               "deny = https://good.test/seen")
    r = rb.sh(CURL + "https://good.test/hello; " + CURL + "-d x https://good.test/headers; " +
              CURL + "-X delete https://good.test/hello; " + CURL + "https://good.test/SEEN; " +
              CURL + "https://good.test/%73een; " +
              # the format suffix Rails and Spring MVC route to the same
              # action; a longer name is another path (served: the control)
              CURL + "https://good.test/seen.json; " + CURL + "https://good.test/Seen.JSON; " +
              CURL + "https://good.test/seen%2Ejson; " + CURL + "https://good.test/seenx.json",
              p)
    assert "hello from %s" % PUB in r.stdout, r.stderr
    assert "POST /headers denied by [network] deny POST,PUT,DELETE https://good.test/**" \
        in r.stdout
    # a deny rule matches every letter case of method and path, every encoding
    assert "delete /hello denied by" in r.stdout
    assert r.stdout.count("denied by [network] deny https://good.test/seen") == 5
    assert "GET /seenx.json denied" not in r.stdout
    assert "remove the deny rule to allow it" in r.stdout
    assert "hex:" not in r.stdout


KEEPALIVE = CLIENT_PRELUDE + r'''
import ssl, sys
def tunnel(host, port, tls):
    s = dial()
    s.sendall(b"CONNECT %s:%d HTTP/1.1\r\nHost: %s\r\n\r\n" % (host, port, host))
    assert s.recv(4096).startswith(b"HTTP/1.1 200"), "connect"
    if tls:
        s = ssl.create_default_context().wrap_socket(s, server_hostname=host.decode())
    return s

def exchange(s, reqs):
    s.sendall(b"".join(reqs))
    out = b""
    s.settimeout(10)
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            out += c
    except (socket.timeout, ssl.SSLError, ConnectionError):
        pass
    return out

def req(method, path, host=b"good.test", v=b"1.1", extra=b""):
    return b"%s %s HTTP/%s\r\nHost: %s\r\n%s\r\n" % (method, path, v, host, extra)

mode = sys.argv[1]
tls = mode == "tls"
if mode == "forward":
    s = dial()
    reqs = [b"GET http://good.test/hello HTTP/1.1\r\nHost: good.test\r\n\r\n",
            b"GET http://good.test/headers HTTP/1.1\r\nHost: good.test\r\n\r\n"]
else:
    s = tunnel(b"good.test", 443 if tls else 80, tls)
    reqs = [req(b"GET", b"/hello"), req(b"GET", b"/headers")]
# pipelined: the second written before the first is answered
print(exchange(s, reqs).decode(errors="replace"))
for v, path, extra in ((b"1.0", b"/headers", b""), (b"1.1", b"/hello", b"Connection: close\r\n"),
                       (b"1.1", b"//hello", b""), (b"1.1", b"/%2e%2e/hello", b""),
                       (b"1.1", b"/hello/..;/headers", b""), (b"1.1", b"/hello%2Fx", b"")):
    s = tunnel(b"good.test", 443 if tls else 80, tls) if mode != "forward" else dial()
    target = path if mode != "forward" else b"http://good.test" + path
    print("%s %s:" % (v.decode(), path.decode()),
          exchange(s, [req(b"GET", target, v=v, extra=extra + b"Connection: close\r\n"
                                                      if not extra else extra)])
          .decode(errors="replace").split("\r\n")[0])
if mode != "forward":
    # another Host inside the tunnel, and an absolute URI there
    s = tunnel(b"good.test", 443 if tls else 80, tls)
    print("host:", exchange(s, [req(b"GET", b"/hello", host=b"other.test",
                                   extra=b"Connection: close\r\n")])
          .decode(errors="replace").split("\r\n")[0])
    s = tunnel(b"good.test", 443 if tls else 80, tls)
    print("absolute:", exchange(s, [req(b"GET", b"http://good.test/hello",
                                       extra=b"Connection: close\r\n")])
          .decode(errors="replace").split("\r\n")[0])
# lower case: no allow rule names "get"
s = tunnel(b"good.test", 443 if tls else 80, tls) if mode != "forward" else dial()
target = b"/hello" if mode != "forward" else b"http://good.test/hello"
print("lower:", exchange(s, [req(b"get", target, extra=b"Connection: close\r\n")])
      .decode(errors="replace").split("\r\n")[0])
'''


@pytest.mark.parametrize("mode", ["forward", "tunnel", "tls"])
def test_each_request_of_a_connection_is_judged(rb, mode):
    p = policy(rb, "allow = GET http://good.test/hello GET https://good.test/hello")
    rb.write("work/client.py", KEEPALIVE)
    r = rb.run(["/usr/bin/python3", "client.py", mode], policy=p)
    out = r.stdout
    assert "hello from %s" % PUB in out, (out, r.stderr)
    # the second request in the same stream, to another path: refused
    assert "GET /headers is not in [network] allow" in out, out
    assert "GET /headers HTTP" not in out  # /headers never answered
    assert "1.0 /headers: HTTP/1.1 403" in out
    assert "1.1 /hello: HTTP/1.1 200" in out
    for bad in ("//hello", "/%2e%2e/hello", "/hello/..;/headers", "/hello%2Fx"):
        assert "1.1 %s: HTTP/1.1 403" % bad in out, out
    assert "lower: HTTP/1.1 403" in out
    if mode != "forward":
        assert "host: HTTP/1.1 403" in out and "absolute: HTTP/1.1 400" in out, out


WEBSOCKET = CLIENT_PRELUDE + r'''
import base64, ssl, sys
tls = sys.argv[1] == "tls"
s = dial()
port = 443 if tls else 80
s.sendall(b"CONNECT good.test:%d HTTP/1.1\r\nHost: good.test\r\n\r\n" % port)
assert s.recv(4096).startswith(b"HTTP/1.1 200")
if tls:
    s = ssl.create_default_context().wrap_socket(s, server_hostname="good.test")
s.sendall(b"GET /ws HTTP/1.1\r\nHost: good.test\r\nUpgrade: websocket\r\n"
          b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
          b"Sec-WebSocket-Key: " + base64.b64encode(b"0123456789abcdef") + b"\r\n\r\n")
head = b""
while b"\r\n\r\n" not in head:
    c = s.recv(4096)
    if not c:
        break
    head += c
print(head.split(b"\r\n")[0].decode())
if b" 101 " in head.split(b"\r\n")[0]:
    data = b"ping"
    mask = b"\x01\x02\x03\x04"
    s.sendall(bytes([0x81, 0x80 | len(data)]) + mask +
              bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
    rest = head.split(b"\r\n\r\n", 1)[1]
    while len(rest) < 11:
        c = s.recv(4096)
        if not c:
            break
        rest += c
    print(rest[2:].decode(errors="replace"))
else:
    print(head.decode(errors="replace"))
'''


@pytest.mark.parametrize("mode", ["plain", "tls"])
def test_websocket_upgrade_judged_on_its_path(rb, mode):
    rb.write("work/client.py", WEBSOCKET)
    scheme = "https" if mode == "tls" else "http"
    p = policy(rb, "allow = GET %s://good.test/ws" % scheme)
    r = rb.run(["/usr/bin/python3", "client.py", mode], policy=p)
    assert "HTTP/1.1 101" in r.stdout and "echo:ping" in r.stdout, (r.stdout, r.stderr)
    p = policy(rb, "allow = GET %s://good.test/hello" % scheme)
    r = rb.run(["/usr/bin/python3", "client.py", mode], policy=p)
    assert "HTTP/1.1 403" in r.stdout and "echo:" not in r.stdout, r.stdout
    assert "add GET %s://good.test/ws to [network] allow" % scheme in r.stdout
    assert [(e["method"], e["path"]) for e in rb.events("net.deny")] == [("GET", "/ws")]


def test_explain_shows_and_check_validates(one):
    p = policy(one, "allow = GET,HEAD https://good.test/repo/** good.test:8080\n"
               "deny = DELETE https://*.good.test/**")
    r = subprocess.run([RINGFENCE, "explain", "-p", p], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "allow = GET,HEAD https://good.test/repo/**    ; %s:%d" % (
        p, line_of(p, "allow = GET")) in r.stdout, r.stdout
    assert "allow = good.test:8080    ; %s:%d" % (p, line_of(p, "allow = GET")) in r.stdout
    assert "deny = DELETE https://*.good.test/**    ; %s:%d" % (
        p, line_of(p, "deny = DELETE")) in r.stdout
    for bad, words in (("allow = GET https://good.test/a/../b", "'..' segment"),
                       ("allow = get https://good.test/a", "upper case"),
                       ("deny = GET good.test", "goes before an http:// or https:// URL"),
                       ("allow = GET", "no http:// or https:// URL after it")):
        bp = one.write("bad.ini", "[network]\nmode = proxy\n%s\n" % bad)
        r = subprocess.run([RINGFENCE, "check", bp], capture_output=True, text=True)
        assert r.returncode == 125, r
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("%s:3: network." % bp) \
            and words in lines[0], lines
        # the command never starts
        r = subprocess.run([RINGFENCE, "-p", bp, "--", "sh", "-c", "echo started"],
                           capture_output=True, text=True)
        assert r.returncode == 125 and "started" not in r.stdout


SECRET = "ghp_realSecretValue0123456789abcdef"


def test_rules_and_a_credential_on_one_host(rb):
    """The request is judged before its placeholder is swapped: a refused one
    never carries the secret; an allowed one does."""
    p = rb.net_policy("allow = GET https://good.test/seen\nupstream_ca = %s"
                      % rb.path("bin", "ca.pem"),
                      "[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n"
                      "hosts = good.test\n")
    r = rb.sh(CURL + '-H "Authorization: Bearer $GITHUB_TOKEN" https://good.test/seen; echo; ' +
              CURL + '-H "Authorization: Bearer $GITHUB_TOKEN" -d x https://good.test/seen',
              p, env={"RF_SECRET": SECRET})
    seen = [bytes.fromhex(h).decode() for h in re.findall(r"hex:([0-9a-f]+)", r.stdout)]
    assert len(seen) == 1 and "Authorization: Bearer %s" % SECRET in seen[0], r.stdout + r.stderr
    assert "add POST https://good.test/seen to [network] allow" in r.stdout
    inject = rb.events("cred.inject")
    assert len(inject) == 1 and inject[0]["where"] == "header"
    assert [(e["method"], e["path"]) for e in rb.events("net.deny")] == [("POST", "/seen")]
