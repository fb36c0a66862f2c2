# SPDX-License-Identifier: MIT
"""Secrets never come back: an upstream that echoes what it received (in a
head, a fixed-length, chunked, close-delimited or compressed body, a
WebSocket) hands the command the placeholder or a cut response, never the
secret; secrets go into plain HTTP only where the credential allows it; and
the whole request head is checked for placeholders on their way elsewhere.

The command prints every byte it received, hex-encoded; the assertions are
made here, on the host, on those bytes.
"""
import base64
import hashlib
import json
import re

import pytest

from test_credentials import ALLOW, SECRET, audit, policy, run, unhex
from test_network import CLIENT_PRELUDE, DIAGONAL, DIAGONAL_IDS, NetBox

PLAIN = ("[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n"
         "hosts = good.test\nplaintext = yes\n")


@pytest.fixture(params=DIAGONAL, ids=DIAGONAL_IDS)
def cred(request, world):
    b = NetBox(world, *request.param)
    yield b
    b.cleanup()


# Requests made by hand, so that nothing a client library does hides what
# came back.  Each case prints NAME = HEX(all bytes received until the close).
CLIENT = CLIENT_PRELUDE + r'''
import base64, ssl, sys
T = os.environ["GITHUB_TOKEN"]
B = base64.b64encode(("x-access-token:" + T).encode()).decode()

def tls():
    s = dial()
    s.sendall(b"CONNECT good.test:443 HTTP/1.1\r\nHost: good.test:443\r\n\r\n")
    assert s.recv(100).startswith(b"HTTP/1.1 200")
    return ssl.create_default_context().wrap_socket(s, server_hostname="good.test")

def drain(s):
    out = b""
    while True:
        try:
            c = s.recv(65536)
        except (ssl.SSLError, OSError):
            return out
        if not c:
            return out
        out += c

def https(name, path, headers=""):
    s = tls()
    s.sendall(("GET %s HTTP/1.1\r\nHost: good.test\r\n%sConnection: close\r\n\r\n"
               % (path, headers)).encode())
    print(name, "=", drain(s).hex(), flush=True)

def plain(name, path, headers=""):
    s = dial()
    s.sendall(("GET http://good.test%s HTTP/1.1\r\nHost: good.test\r\n%sConnection: close\r\n\r\n"
               % (path, headers)).encode())
    print(name, "=", drain(s).hex(), flush=True)

WS = ("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n")
MODE = sys.argv[1]
if MODE == "https":
    https("clean", "/hello")
    https("asked", "/seen", "Accept-Encoding: gzip, br\r\nSec-WebSocket-Extensions: permessage-deflate\r\n")
    https("fixed", "/headers", "X-T: %s\r\n" % T)
    https("query", "/headers?t=" + T)
    https("chunked", "/echo-chunked?t=" + T)
    https("close", "/echo-close", "Authorization: Basic %s\r\n" % B)
    https("basic-fixed", "/headers", "Authorization: Basic %s\r\n" % B)
    https("gzip", "/gzip", "X-T: %s\r\nAccept-Encoding: gzip\r\n" % T)
    https("gzip-ok", "/gzip-ok", "X-T: %s\r\nAccept-Encoding: gzip, br\r\n" % T)
    https("json", "/echo-json", "X-T: %s\r\n" % T)
    https("redirect", "/redirect?t=" + T)
    https("cookie", "/cookie?" + T)
    https("ws", "/echo-ws", WS + "X-T: %s\r\n" % T)
elif MODE == "stray":
    # an escape's first characters before the placeholder (SECRET_HEX)
    https("clean", "/hello")
    https("pct", "/headers?t=%" + T)
    https("pct4", "/headers?t=%4" + T)
    https("pct25", "/headers?t=%25" + T)
    https("redirect", "/redirect?t=%" + T)
    https("redirect25", "/redirect?t=%25" + T)
elif MODE == "stacked":
    # the secret written twice by an echoing upstream
    https("clean", "/hello")
    https("json2", "/echo-stacked?f=json2", "X-T: %s\r\n" % T)
    https("jsonurl", "/echo-stacked?f=jsonurl", "X-T: %s\r\n" % T)
    https("url2", "/echo-stacked?f=url2", "X-T: %s\r\n" % T)
elif MODE == "b64wrap":
    # the secret's base64 with line breaks in it
    https("clean", "/hello")
    https("mime", "/echo-b64wrap?f=crlf&w=4", "X-T: %s\r\n" % T)
    https("pem", "/echo-b64wrap?f=lf&w=7", "X-T: %s\r\n" % T)
    https("github", "/echo-b64wrap?f=json&w=5", "X-T: %s\r\n" % T)
    https("github-clean", "/echo-b64wrap?f=json&w=5", "X-T: nothing-secret-in-here\r\n")
elif MODE == "chunkext":
    https("clean", "/hello")
    https("chunkext", "/echo-chunked-ext?t=" + T)
    https("chunkext-clean", "/echo-chunked-ext?t=nothing")
elif MODE == "open":
    # twenty backslashes (SECRET_BS is thirty): ten beginnings open at once;
    # forty: the secret whole
    https("clean", "/hello")
    https("open", "/headers", "X-B: %s\r\n" % ("\\" * 20))
    https("whole", "/headers", "X-B: %s\r\n" % ("\\" * 40))
elif MODE == "probe":
    # an outside review's oracle: on one connection, eight Basic values of
    # the client's making (base64(PREFIX + placeholder), each kept by the
    # proxy as base64(PREFIX + secret)), then an echo of a text that keeps
    # their parses open and guesses the secret's next base64 symbol
    s = tls()
    f = s.makefile("rb")
    for p in sys.argv[3].split(","):
        b = base64.b64encode(bytes.fromhex(p) + T.encode()).decode()
        s.sendall(("GET /hello HTTP/1.1\r\nHost: good.test\r\nAuthorization: Basic %s\r\n\r\n"
                   % b).encode())
        assert f.readline().startswith(b"HTTP/1.1 200")
        n = 0
        while True:
            l = f.readline()
            if l.lower().startswith(b"content-length:"):
                n = int(l.split(b":")[1])
            if l in (b"\r\n", b""):
                break
        f.read(n)
    s.sendall(("GET /headers HTTP/1.1\r\nHost: good.test\r\nX-E: %s\r\nConnection: close\r\n\r\n"
               % sys.argv[2]).encode())
    out = b""
    while True:
        try:
            c = f.read1(65536)
        except (ssl.SSLError, OSError):
            break
        if not c:
            break
        out += c
    print("probe =", out.hex(), flush=True)
else:
    plain("clean", "/hello")
    plain("fixed", "/headers", "X-T: %s\r\n" % T)
    plain("redirect", "/redirect?t=" + T)
    plain("ws", "/echo-ws", WS + "X-T: %s\r\n" % T)
'''


def forms(secret):
    """The secret and its base64 inside Basic, as the client sent it."""
    return [secret.encode(), base64.b64encode(("x-access-token:" + secret).encode())]


def results(r):
    out = {}
    for line in r.stdout.splitlines():
        if " = " in line:
            k, v = line.split(" = ", 1)
            out[k] = bytes.fromhex(v)
    return out


def echo_run(box, mode, p, secret=SECRET):
    """CLIENT in MODE under policy P with SECRET: its run, and what each
    of its requests received."""
    box.write("work/client.py", CLIENT)
    r = box.run(["/usr/bin/python3", "client.py", mode], policy=p,
                env={"RF_SECRET": secret}, timeout=60)
    assert r.returncode == 0, r.stderr
    return r, results(r)


def check_no_secret(got, box, r):
    for name, data in got.items():
        for f in forms(SECRET):
            assert f not in data, (name, data)
    assert SECRET not in audit(box) and SECRET not in r.stderr


def test_an_echoing_tls_upstream_never_returns_the_secret(cred):
    p = policy(cred)
    r, got = echo_run(cred, "https", p)
    assert set(got) == {"clean", "asked", "fixed", "query", "chunked", "close", "basic-fixed", "gzip",
                        "gzip-ok", "json", "redirect", "cookie", "ws"}, r.stdout
    check_no_secret(got, cred, r)
    # the positive control: the same path, nothing to hide, whole
    assert got["clean"].startswith(b"HTTP/1.1 200") and b"hello from" in got["clean"]
    # heads: the placeholder in the secret's place
    ph = re.search(rb"ringfence_github_[A-Za-z0-9]{24}", got["redirect"])
    assert got["redirect"].startswith(b"HTTP/1.1 301"), got["redirect"]
    assert ph and b"Location: https://good.test/elsewhere?t=" + ph.group(0) in got["redirect"]
    assert b"Set-Cookie: v=" + ph.group(0) + b"; Path=/" in got["cookie"], got["cookie"]
    # bodies: cut before the secret (what came first may have arrived)
    # (the connection is reset: what came first may or may not arrive)
    for name in ("fixed", "query", "chunked", "close", "basic-fixed", "gzip-ok", "json"):
        assert got[name] == b"" or got[name].startswith(b"HTTP/1.1 200"), (name, got[name])
        assert b"ghp_" not in got[name] and b"hex:" not in got[name], (name, got[name])
        assert b"\\u0067\\u0068\\u0070" not in got[name], (name, got[name])
    # the upstream was asked for an uncompressed answer, and one that
    # comes compressed anyway is refused
    asked = unhex(got["asked"].decode())
    assert "Accept-Encoding: identity\n" in asked and "gzip" not in asked, asked
    assert "Sec-WebSocket-Extensions" not in asked, asked
    assert b"Accept-Encoding: gzip" not in got["gzip-ok"] and b"\x1f\x8b" not in got["gzip-ok"]
    assert got["gzip"].startswith(b"HTTP/1.1 502"), got["gzip"]
    assert b"Content-Encoding gzip" in got["gzip"]
    # the WebSocket: cut inside the message whose fragments carry the secret
    assert got["ws"] == b"" or got["ws"].startswith(b"HTTP/1.1 101"), got["ws"]
    assert b"Sec-WebSocket-Extensions" not in got["ws"]
    ev = cred.events("cred.reflect")
    assert {e["where"] for e in ev} == {"head", "body"}, ev
    assert all(e["credential"] == "github" and e["host"] == "good.test" for e in ev), ev
    assert len([e for e in ev if e["where"] == "body"]) == 8, ev


def test_an_echoing_plain_upstream_never_returns_the_secret(cred):
    p = policy(cred, creds=PLAIN)
    r, got = echo_run(cred, "plain", p)
    check_no_secret(got, cred, r)
    assert got["clean"].startswith(b"HTTP/1.1 200") and b"hello from" in got["clean"]
    # the usual redirect of plain HTTP to HTTPS, with the query in it
    assert re.search(rb"Location: https://good.test/elsewhere\?t=ringfence_github_[A-Za-z0-9]{24}",
                     got["redirect"]), got["redirect"]
    assert b"ghp_" not in got["fixed"] and b"ghp_" not in got["ws"]
    ev = cred.events("cred.reflect")
    assert {e["where"] for e in ev} == {"head", "body"}
    assert len([e for e in ev if e["where"] == "body"]) == 2, ev


SECRET_HEX = "d3adbeef0123456789abcdef0123456789"


def test_an_escape_begun_before_the_placeholder_does_not_hide_the_secret(cred):
    """The command writes '%' (or '%4', '%25') before its placeholder; the
    upstream echoes the path with the secret in it.  A secret that begins
    with hex digits then reads, from the stream's start, as an escape
    (%d3) and the rest: the scan took it for other bytes and the secret
    came back whole, in the Location header and in the body."""
    p = policy(cred)
    r, got = echo_run(cred, "stray", p, SECRET_HEX)
    assert set(got) == {"clean", "pct", "pct4", "pct25", "redirect", "redirect25"}, r.stdout
    for name, data in got.items():
        assert SECRET_HEX.encode() not in data, (name, data)
        assert SECRET_HEX[2:].encode() not in data, (name, data)
    # the positive control: the path answers, and the secret was sent
    assert got["clean"].startswith(b"HTTP/1.1 200") and b"hello from" in got["clean"]
    assert any(e["credential"] == "github" for e in cred.events("cred.inject")), r.stderr
    # heads: the placeholder where the secret was, after the stray escape
    for name, pre in (("redirect", b"%"), ("redirect25", b"%25")):
        assert re.search(rb"Location: https://good.test/elsewhere\?t=" + re.escape(pre) +
                         rb"ringfence_github_[A-Za-z0-9]{24}\r\n", got[name]), (name, got[name])
    # bodies: cut before the secret
    for name in ("pct", "pct4", "pct25"):
        assert got[name] == b"" or got[name].startswith(b"HTTP/1.1 200"), (name, got[name])
    ev = cred.events("cred.reflect")
    assert len([e for e in ev if e["where"] == "head"]) == 2, ev
    assert len([e for e in ev if e["where"] == "body"]) == 3, ev


SECRET_SLASH = "wQ7fakeSecretKey/K7MDENG/bPxRfiCY+0123"


def test_a_secret_written_twice_by_the_upstream_is_seen(cred):
    r"""An upstream that quotes a JSON value again, inside JSON (\\\/) or a
    URL (%5C%2F), or percent-encodes every character twice (%25%32%46),
    hands back a secret whose '/' is written twice: one layer of escapes
    read left it unseen, and it came back whole."""
    r, got = echo_run(cred, "stacked", policy(cred), SECRET_SLASH)
    assert set(got) == {"clean", "json2", "jsonurl", "url2"}, r.stdout
    # the positive control: the path answers, and the secret was sent
    assert got["clean"].startswith(b"HTTP/1.1 200") and b"hello from" in got["clean"]
    assert any(e["credential"] == "github" for e in cred.events("cred.inject")), r.stderr
    once = SECRET_SLASH.replace("/", "\\/")
    twice = [once.replace("\\", "\\\\").replace("/", "\\/"),
             "".join(c if c.isalnum() else "%%%02X" % ord(c) for c in once),
             "".join("%%%02X" % ord(c) for c in "".join("%%%02X" % ord(c) for c in SECRET_SLASH))]
    for name, data in got.items():
        for f in [SECRET_SLASH] + twice:
            assert f.encode() not in data, (name, data)
        assert b"fakeSecretKey" not in data and b"%25%36%36%25%36%31%25%36%42" not in data, (name, data)
    # the head: the placeholder where the secret was, between JSON's quotes
    assert re.search(rb"Location: https://good.test/elsewhere\?e=%22ringfence_github_[A-Za-z0-9]{24}"
                     rb"%22\r\n", got["jsonurl"]), got["jsonurl"]
    # bodies: cut before the secret
    for name in ("json2", "url2"):
        assert got[name] == b"" or got[name].startswith(b"HTTP/1.1 200"), (name, got[name])
    ev = cred.events("cred.reflect")
    assert len([e for e in ev if e["where"] == "head"]) == 1, ev
    assert len([e for e in ev if e["where"] == "body"]) == 2, ev


def test_base64_of_a_secret_with_line_breaks_in_it_is_cut(cred):
    """An upstream that answers with the secret's base64 wrapped in lines:
    CRLF (MIME), LF (PEM, the base64 tool), JSON's \\n (GitHub's contents
    API). The scan took a break for the end of a match, and the secret came
    back whole. Every few characters here, so that the break falls inside
    each of the three alignments' cores."""
    r, got = echo_run(cred, "b64wrap", policy(cred))
    assert set(got) == {"clean", "mime", "pem", "github", "github-clean"}, r.stdout
    assert got["clean"].startswith(b"HTTP/1.1 200") and b"hello from" in got["clean"]
    # the positive control: the same answer for text that is no secret, whole
    clean = got["github-clean"]
    assert clean.startswith(b"HTTP/1.1 200") and b'"content": "' in clean, clean
    enc = base64.b64encode(SECRET.encode()).decode()
    for name in ("mime", "pem", "github"):
        data = got[name]
        assert data == b"" or data.startswith(b"HTTP/1.1 200"), (name, data)
        joined = re.sub(rb"\\n|\\r|\r|\n", b"", data)
        assert enc[4:28].encode() not in joined, (name, data)
    ev = cred.events("cred.reflect")
    assert len([e for e in ev if e["where"] == "body"]) == 3, ev


def test_a_secret_split_by_chunk_extensions_is_cut(cred):
    """The upstream writes an extension after each chunk's size (;e=v);
    the client drops them and joins the data around them, so a secret
    split across chunks is whole for it. The scan read the extensions as
    the data's own bytes, between the secret's pieces, and let it through."""
    r, got = echo_run(cred, "chunkext", policy(cred))
    assert set(got) == {"clean", "chunkext", "chunkext-clean"}, r.stdout
    assert got["clean"].startswith(b"HTTP/1.1 200") and b"hello from" in got["clean"]
    # the positive control: the same framing, nothing to hide, whole
    assert got["chunkext-clean"].startswith(b"HTTP/1.1 200"), got["chunkext-clean"]
    assert got["chunkext-clean"].endswith(b"0\r\n\r\n"), got["chunkext-clean"]
    data = got["chunkext"]
    assert data == b"" or data.startswith(b"HTTP/1.1 200"), data
    # (the pieces before the last chunk's end may have gone out, as README
    # says; the client never has the secret whole)
    joined = re.sub(rb"\r\n[0-9a-f]+;e=v\r\n", b"", data)
    assert SECRET.encode() not in joined, data
    ev = cred.events("cred.reflect")
    assert [e["where"] for e in ev] == ["body"], ev


SECRET_BS = "\\" * 30


def test_many_open_beginnings_of_a_secret_are_followed(cred):
    """A text that keeps many beginnings of a secret open at once (a run of
    backslashes, with a secret of them) is followed whole: nothing cut but
    the secret itself.  Eight a reader were followed, and more cut: the
    cut an outside review made an oracle of (below)."""
    r, got = echo_run(cred, "open", policy(cred), SECRET_BS)
    assert got["clean"].startswith(b"HTTP/1.1 200") and b"hello from" in got["clean"]
    assert got["open"].startswith(b"HTTP/1.1 200") and b"X-B: " + b"\\" * 20 + b"\n" in got["open"]
    assert b"\\" * 30 not in got["whole"], got["whole"]
    assert not [e for e in cred.events("net.error") if "beginnings" in e.get("reason", "")]
    assert [e["where"] for e in cred.events("cred.reflect")] == ["body"]


def _b64_prefix(text):
    text += "A" * (-len(text) % 4)
    return base64.b64decode(text)


def probe(known, guess):
    """An outside review's probe of the scan (its gen4.py): the text for
    the upstream to echo, and eight prefixes for Basic values.  With 8
    anchored parses a reader, the echo was cut exactly when KNOWN + GUESS
    begins base64(secret)."""
    xy = "%02X" % ord(guess)
    ch, hl = next((c, "%02X" % ord(c)) for c in "JZjzEFGHIKLMNOTUVWXY"
                  if "%02X" % ord(c) not in (xy[0] + xy[1]) * 2 and
                  ("%02X" % ord(c))[0] not in xy and ("%02X" % ord(c))[1] not in xy and
                  ("%02X" % ord(c))[0] != ("%02X" % ord(c))[1])
    head = hl + ch * 6
    pads = "A" * (-len(head) % 4)
    text = ("%" + hl) * 7 + pads + known + "%" + xy
    prefs = [_b64_prefix(head + pads)]
    prefs += [_b64_prefix(hl + ch * (6 - i) + pads + known + guess) for i in range(1, 7)]
    prefs.append(_b64_prefix(xy))
    return text, prefs


def test_open_beginnings_tell_nothing_of_a_guessed_secret(cred):
    """Hole (an outside review): the scan cut a response when more than 8
    parses anchored inside escapes were open at once for a reader, and
    which were open depended on the secret.  Basic values the client sent
    (kept as needles whose opening it chose) held seven open, the echo of
    the secret's base64 as far as known an eighth, and the guessed
    symbol's last digit began a ninth: the cut said the guess was right,
    and the secret came out a symbol per probe (33 of 35 bytes in 20 s).
    Now the right guess and a wrong one come back alike, whole."""
    known_b64 = base64.b64encode(SECRET.encode()).decode()
    known, right = known_b64[:8], known_b64[8]
    wrong = "Q" if right != "Q" else "R"
    got = {}
    for name, g in (("right", right), ("wrong", wrong)):
        text, prefs = probe(known, g)
        cred.write("work/client.py", CLIENT)
        r = cred.run(["/usr/bin/python3", "client.py", "probe", text, ",".join(p.hex() for p in prefs)],
                     policy=policy(cred), env={"RF_SECRET": SECRET}, timeout=60)
        assert r.returncode == 0, r.stderr
        got[name] = results(r)["probe"]
        assert got[name].startswith(b"HTTP/1.1 200"), (name, got[name], r.stderr)
        assert ("X-E: %s\n" % text).encode() in got[name], (name, got[name])
    assert not [e for e in cred.events("net.error") if "beginnings" in e.get("reason", "")]
    assert not cred.events("cred.reflect")


def test_secrets_go_into_plain_http_only_where_allowed(cred):
    # refused: the placeholder in plain HTTP to its own host, forwarded or
    # inside a CONNECT tunnel, with a 403 naming the key that allows it
    script = CLIENT_PRELUDE + r'''
T = os.environ["GITHUB_TOKEN"]
print("forward =", ask(("GET http://good.test/seen HTTP/1.1\r\nHost: good.test\r\nX-T: %s\r\n\r\n"
                       % T).encode()).decode().replace("\r\n", "|"))
s = dial()
s.sendall(b"CONNECT good.test:80 HTTP/1.1\r\nHost: good.test:80\r\n\r\n")
assert s.recv(100).startswith(b"HTTP/1.1 200")
s.sendall(("GET /seen?t=%s HTTP/1.1\r\nHost: good.test\r\n\r\n" % T).encode())
print("tunnel =", read_all(s).decode().replace("\r\n", "|"))
print("https =", ask(b"GET http://good.test/seen HTTP/1.1\r\nHost: good.test\r\nConnection: close\r\n\r\n")[:12])
'''
    cred.write("work/client.py", script)
    r = cred.run(["/usr/bin/python3", "client.py"], policy=policy(cred), env={"RF_SECRET": SECRET})
    assert r.returncode == 0, r.stderr
    out = dict(l.split(" = ", 1) for l in r.stdout.splitlines() if " = " in l)
    for name in ("forward", "tunnel"):
        assert out[name].startswith("HTTP/1.1 403"), (name, out[name])
        assert "plaintext = yes in [credential github]" in out[name], out[name]
        assert "hex:" not in out[name]  # the upstream never answered
    # the positive control: plain HTTP without a placeholder goes through
    assert out["https"] == "b'HTTP/1.1 200'", r.stdout
    blocks = cred.events("cred.block")
    assert len(blocks) == 2 and {e["where"] for e in blocks} == {"plaintext"}, blocks
    # allowed: plaintext = yes
    r = run(cred, CURL_PLAIN, policy(cred, creds=PLAIN))
    assert r.returncode == 0, r.stderr
    assert "X-T: %s" % SECRET in unhex(r.stdout)


CURL_PLAIN = 'curl -sS -m 10 -H "X-T: $GITHUB_TOKEN" http://good.test/seen'


def test_shipped_policies_bind_credentials_to_https_only():
    import configparser
    import glob
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    files = glob.glob(os.path.join(here, "..", "..", "policies", "*.ini"))
    seen = 0
    for f in files:
        cp = configparser.ConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
        cp.read(f)
        for sec in cp.sections():
            if sec.startswith("credential "):
                for h in cp[sec]["hosts"].split():
                    seen += 1
                    assert h.endswith(":443"), (f, sec, h)
    assert seen >= 3


def test_placeholders_in_method_and_header_names_are_refused(cred):
    # other.test is allowed and bound to nothing: a placeholder anywhere
    # in the head, in any letter case, percent-encoded or in base64
    p = policy(cred)
    script = CLIENT_PRELUDE + r'''
import base64, urllib.parse
T = os.environ["GITHUB_TOKEN"]
B = base64.b64encode(("x:" + T).encode()).decode()
def status(data):
    out = ask(data)
    return out.split(b"\r\n", 1)[0].decode() if out else "closed"
tries = {
    "method": "%s http://other.test/headers HTTP/1.1\r\nHost: other.test\r\n\r\n" % T,
    "header name": "GET http://other.test/headers HTTP/1.1\r\nHost: other.test\r\nX-%s: 1\r\n\r\n" % T,
    "header name lowercase": "GET http://other.test/headers HTTP/1.1\r\nHost: other.test\r\nX-%s: 1\r\n\r\n" % T.lower(),
    "header name percent": "GET http://other.test/headers HTTP/1.1\r\nHost: other.test\r\nX-%s: 1\r\n\r\n"
        % urllib.parse.quote(T, safe="").replace("_", "%5F"),
    "base64 value": "GET http://other.test/headers HTTP/1.1\r\nHost: other.test\r\nCookie: s=%s\r\n\r\n" % B,
    "control": "GET http://other.test/headers HTTP/1.1\r\nHost: other.test\r\nX-Ok: 1\r\nConnection: close\r\n\r\n",
}
for name, data in tries.items():
    print(name, "=", status(data.encode()))
# the first bytes of an opaque stream, in base64
s = dial()
s.sendall(b"CONNECT other.test:8080 HTTP/1.1\r\nHost: other.test:8080\r\n\r\n")
s.recv(100)
s.sendall(b"HELLO " + B.encode() + b"\r\n")
print("stream =", read_all(s))
'''
    cred.write("work/client.py", script)
    r = cred.run(["/usr/bin/python3", "client.py"], policy=p, env={"RF_SECRET": SECRET})
    assert r.returncode == 0, r.stderr
    out = dict(l.split(" = ", 1) for l in r.stdout.splitlines() if " = " in l)
    for name in ("method", "header name", "header name lowercase", "header name percent",
                 "base64 value"):
        assert out[name] == "HTTP/1.1 403 Forbidden", (name, r.stdout)
    assert out["control"] == "HTTP/1.1 200 OK", r.stdout
    assert out["stream"] == "b''", r.stdout
    blocks = cred.events("cred.block")
    assert {e["where"] for e in blocks} == {"method", "header", "stream"}, blocks
    assert all(e["credential"] == "github" and e["host"] == "other.test" for e in blocks)


# A secret stored at its bound host by one request (the placeholder in the
# target, replaced) and read back by others that carry no placeholder.
STORED = CLIENT.split("MODE = sys.argv[1]")[0] + r'''
def ask_tls(path, headers=""):
    s = tls()
    s.sendall(("GET %s HTTP/1.1\r\nHost: good.test\r\n%sConnection: close\r\n\r\n"
               % (path, headers)).encode())
    return drain(s)

K = os.urandom(6).hex()
print("store =", ask_tls("/store/%s?%s" % (K, T))[:15].hex())
print("store-ctl =", ask_tls("/store/c%s?harmless-value-0123" % K)[:15].hex())
# read back compressed: asked for, and sent compressed whatever was asked
print("gzip-asked =", ask_tls("/stored/%s" % K, "Accept-Encoding: gzip\r\n").hex())
print("gzip-always =", ask_tls("/stored/%s?gzip" % K, "Accept-Encoding: gzip\r\n").hex())
# read back in pieces shorter than the secret
for i in range(0, len(T), 8):
    print("range-%d =" % i, ask_tls("/stored/%s" % K, "Range: bytes=%d-%d\r\nIf-Range: x\r\n"
                                     % (i, i + 7)).hex())
# positive controls: the whole of what holds no secret comes back from the
# bound host; the unbound host, asked the same, does answer in pieces and
# compressed (so the upstream would have)
print("ctl-range =", ask_tls("/stored/c%s" % K, "Range: bytes=0-7\r\n").hex())
print("ctl-plain =", ask_tls("/seen", "Range: bytes=0-7\r\nIf-Range: x\r\n").hex())
ask(("GET http://other.test:8080/store/o%s?harmless-value-0123 HTTP/1.1\r\nHost: other.test:8080\r\n"
     "Connection: close\r\n\r\n" % K).encode())
for name, h in (("other-range", "Range: bytes=0-7\r\n"), ("other-gzip", "Accept-Encoding: gzip\r\n")):
    print(name, "=", ask(("GET http://other.test:8080/stored/o%s HTTP/1.1\r\nHost: other.test:8080\r\n"
                          "%sConnection: close\r\n\r\n" % (K, h)).encode()).hex())
'''


def test_a_stored_secret_never_comes_back_compressed(cred):
    r = run_stored(cred)
    got = results(r)
    assert got["store"] == b"HTTP/1.1 200 OK" and got["store-ctl"] == b"HTTP/1.1 200 OK", r.stdout
    # the positive control: the upstream does compress when asked
    assert b"Content-Encoding: gzip" in got["other-gzip"], got["other-gzip"]
    check_no_secret(got, cred, r)
    # the bound host is asked for identity (the body comes plain, and is
    # cut), and a compressed answer from it is refused, though the request
    # carried no secret
    assert b"\x1f\x8b" not in got["gzip-asked"] and b"\x1f\x8b" not in got["gzip-always"]
    assert got["gzip-asked"] == b"" or got["gzip-asked"].startswith(b"HTTP/1.1 200"), got
    assert got["gzip-always"].startswith(b"HTTP/1.1 502"), got["gzip-always"]
    assert b"Content-Encoding gzip" in got["gzip-always"], got["gzip-always"]
    ev = cred.events("cred.reflect")
    assert ev and all(e["credential"] == "github" and e["host"] == "good.test" for e in ev), ev


def test_a_stored_secret_never_comes_back_in_pieces(cred):
    r = run_stored(cred)
    got = results(r)
    assert got["store"] == b"HTTP/1.1 200 OK" and got["store-ctl"] == b"HTTP/1.1 200 OK", r.stdout
    # the positive control: the upstream answers ranges...
    assert got["other-range"].startswith(b"HTTP/1.1 206"), got["other-range"]
    assert got["other-range"].endswith(b"\r\n\r\nharmless"), got["other-range"]
    # ...but a bound host is asked for the whole body
    assert got["ctl-range"].startswith(b"HTTP/1.1 200"), got["ctl-range"]
    assert got["ctl-range"].endswith(b"\r\n\r\nharmless-value-0123"), got["ctl-range"]
    seen = unhex(got["ctl-plain"].decode())
    assert "Range" not in seen and "If-Range" not in seen, seen
    check_no_secret(got, cred, r)
    # no piece of the secret: the whole body came, and was cut
    for name, data in got.items():
        if name.startswith("range-"):
            assert not data.startswith(b"HTTP/1.1 206"), (name, data)
            for i in range(0, len(SECRET) - 7):
                assert SECRET[i:i + 8].encode() not in data, (name, data)
    ev = [e for e in cred.events("cred.reflect") if e["where"] == "body"]
    assert len(ev) >= 5, ev


def run_stored(box):
    box.write("work/client.py", STORED)
    r = box.run(["/usr/bin/python3", "client.py"], policy=policy(box),
                env={"RF_SECRET": SECRET}, timeout=60)
    assert r.returncode == 0, r.stderr
    return r


# The same storage read back through a tunnel to the bound host itself,
# on a port allowed by number, in HTTP/0.9 ("GET /x", no "HTTP/" to read
# it by): taken for neither TLS nor HTTP, such a stream was spliced unread.
STORED_09 = CLIENT.split("MODE = sys.argv[1]")[0] + r"""
def tunnel(target):
    s = dial()
    s.sendall(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target))
    head = b""
    while b"\r\n\r\n" not in head:
        c = s.recv(1)
        if not c:
            break
        head += c
    return s, head.split(b"\r\n", 1)[0]

K = os.urandom(6).hex()
print("store =", ask(("GET http://good.test/store/%s?%s HTTP/1.1\r\nHost: good.test\r\n"
                      "Connection: close\r\n\r\n" % (K, T)).encode())[:15].hex())
s, head = tunnel(b"good.test:80")
print("connect =", head.hex())
s.sendall(("GET /stored/%s\r\n\r\n" % K).encode())
print("http09 =", drain(s).hex())
# the same name on a port the credential is not bound to: the same storage
s, head = tunnel(b"good.test:8080")
s.sendall(("GET /stored/%s\r\n\r\n" % K).encode())
print("http09-8080 =", drain(s).hex())
# the control: HTTP/0.9 through a tunnel to a host no credential is bound
# to, on a port allowed by number, is answered (so the upstream would be)
ask(("GET http://other.test:8080/store/o%s?harmless-value-0123 HTTP/1.1\r\nHost: other.test:8080\r\n"
     "Connection: close\r\n\r\n" % K).encode())
s, head = tunnel(b"other.test:8080")
s.sendall(("GET /stored/o%s\r\n\r\n" % K).encode())
print("other09 =", drain(s).hex())
"""


def test_a_stored_secret_never_comes_back_through_a_tunnel_to_its_bound_host(cred):
    cred.write("work/client.py", STORED_09)
    r = cred.run(["/usr/bin/python3", "client.py"],
                 policy=cred.net_policy("allow = good.test:80 good.test:8080 other.test:8080",
                                        PLAIN),
                 env={"RF_SECRET": SECRET}, timeout=60)
    assert r.returncode == 0, r.stderr
    got = results(r)
    assert got["store"] == b"HTTP/1.1 200 OK", r.stdout
    assert got["other09"] == b"harmless-value-0123", got
    assert got["connect"].startswith(b"HTTP/1.1 200"), got
    check_no_secret(got, cred, r)
    assert got["http09"] == b"" and got["http09-8080"] == b"", (got, cred.events())
    assert any("to which a credential is bound" in json.dumps(e) for e in cred.events()), \
        cred.events()


def test_placeholders_in_a_client_hello_are_refused(cred):
    # wrong.test is allowed and bound to nothing: its TLS is never
    # intercepted, so the ClientHello goes out as it is; a placeholder in
    # it (the ALPN protocol, the server name) closes the tunnel
    p = policy(cred)
    script = CLIENT_PRELUDE + r'''
import ssl
T = os.environ["GITHUB_TOKEN"]
def hello(alpn, sni="wrong.test"):
    s = dial()
    s.sendall(b"CONNECT wrong.test:443 HTTP/1.1\r\nHost: wrong.test:443\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(alpn)
    try:
        t = ctx.wrap_socket(s, server_hostname=sni)
    except (ssl.SSLError, OSError):
        return "closed"
    t.close()
    return "handshake"
print("control =", hello(["http/1.1"]))
print("alpn =", hello(["h2", T]))
print("alpn lowercase =", hello([T.lower()]))
print("sni =", hello(["http/1.1"], T.lower() + ".wrong.test"))
'''
    cred.write("work/client.py", script)
    r = cred.run(["/usr/bin/python3", "client.py"], policy=p, env={"RF_SECRET": SECRET})
    assert r.returncode == 0, r.stderr
    out = dict(l.split(" = ", 1) for l in r.stdout.splitlines() if " = " in l)
    # the positive control: the same tunnel, no placeholder, shakes hands
    assert out["control"] == "handshake", r.stdout
    for name in ("alpn", "alpn lowercase", "sni"):
        assert out[name] == "closed", (name, r.stdout)
    blocks = cred.events("cred.block")
    assert len(blocks) == 3 and {e["where"] for e in blocks} == {"stream"}, blocks
    assert all(e["credential"] == "github" and e["host"] == "wrong.test" for e in blocks), blocks


# A secret stored at its bound host, read back in the middle of large
# bodies from a host it is not bound to, over plain HTTP: bodies the proxy
# splices when nothing needs to read them (netproxy/spliced.c).
BIG = STORED.split("K = os.urandom")[0] + r'''
import hashlib
K = os.urandom(6).hex()
print("store =", ask_tls("/store/%s?%s" % (K, T))[:15].hex())
print("store-ctl =", ask_tls("/store/c%s?harmless-value-0123" % K)[:15].hex())
for f in ("length", "chunked", "close"):
    for name, key in (("secret", K), ("ctl", "c" + K)):
        s = dial()  # a cut ends in a reset: drain() keeps what came before
        s.sendall(("GET http://other.test:8080/bigstored/%s?n=2097152&f=%s HTTP/1.1\r\n"
                   "Host: other.test:8080\r\nConnection: close\r\n\r\n" % (key, f)).encode())
        got = drain(s)
        body = got.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in got else b""
        if f == "chunked":
            raw, body = body, b""
            while b"\r\n" in raw:
                size, raw = raw.split(b"\r\n", 1)
                body, raw = body + raw[:int(size, 16)], raw[int(size, 16) + 2:]
        print("%s-%s = %s" % (f, name, ("%d %s %s" % (len(got), b"ghp_" in got,
                                        hashlib.sha256(body).hexdigest())).encode().hex()))
'''


def test_a_secret_deep_in_a_large_plain_body_is_cut(cred):
    """Every byte of every response is read when a credential exists, past
    the first buffers too: a body's framing would let it be spliced, but a
    secret 1 MiB into it (a length, 32 KiB chunks, until the close; from a
    host the secret is not bound to) is still found and the body cut."""
    cred.write("work/client.py", BIG)
    r = cred.run(["/usr/bin/python3", "client.py"], policy=policy(cred, creds=PLAIN),
                 env={"RF_SECRET": SECRET}, timeout=120)
    assert r.returncode == 0, r.stderr
    got = {k: v.decode().split() for k, v in results(r).items() if k not in ("store", "store-ctl")}
    assert results(r)["store"] == b"HTTP/1.1 200 OK", r.stdout
    n = 2097152
    block = bytes(range(256)) * 256
    body = (block * (n // len(block) + 1))[:n]
    mid = b"harmless-value-0123"
    ctl = hashlib.sha256(body[:n // 2] + mid + body[n // 2 + len(mid):]).hexdigest()
    for f in ("length", "chunked", "close"):
        # the positive control: the same body, nothing to hide, whole
        size, ghp, sha = got[f + "-ctl"]
        assert (ghp, sha) == ("False", ctl), (f, got[f + "-ctl"])
        # the secret's: cut before it, never whole
        size, ghp, sha = got[f + "-secret"]
        assert ghp == "False" and int(size) < n, (f, got[f + "-secret"])
    ev = [e for e in cred.events("cred.reflect") if e["where"] == "body"]
    assert len(ev) == 3 and all(e["host"] == "other.test" for e in ev), ev


# Close-delimited bodies whose last bytes come in one segment with the FIN
# (upstream.py's "corked"), several at once: the proxy's read that takes
# those last bytes takes less than it offered room for, and its one event
# said both "data" and "end".  A read skipped after such a short read (as if
# nothing could come before the next event) never saw the end, and the
# response never ended.  Read through the scan, since a credential exists.
CORKED = CLIENT_PRELUDE + r'''
import hashlib, threading
out = {}

def one(i, n):
    s = dial()
    s.settimeout(30)
    s.sendall(("GET http://other.test:8080/bigcorked?n=%d HTTP/1.1\r\n"
               "Host: other.test:8080\r\nConnection: close\r\n\r\n" % n).encode())
    got = b""
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            got += c
    except socket.timeout:
        out[i] = "stalled"
        return
    body = got.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in got else b""
    out[i] = "%d %s" % (len(body), hashlib.sha256(body).hexdigest())

sizes = [300, 2097152] * 6
ts = [threading.Thread(target=one, args=(i, n)) for i, n in enumerate(sizes)]
for t in ts:
    t.start()
for t in ts:
    t.join()
for i in range(len(sizes)):
    print("corked-%d-%d = %s" % (i, sizes[i], out[i].encode().hex()))
'''


def test_a_body_whose_end_comes_with_its_last_bytes_is_whole(cred):
    cred.write("work/client.py", CORKED)
    r = cred.run(["/usr/bin/python3", "client.py"], policy=policy(cred, creds=PLAIN),
                 env={"RF_SECRET": SECRET}, timeout=120)
    assert r.returncode == 0, r.stderr
    got = results(r)
    assert len(got) == 12, r.stdout
    block = bytes(range(256)) * 256
    for k, v in got.items():
        n = int(k.split("-")[2])
        body = (block * (n // len(block) + 1))[:n]
        assert v.decode() == "%d %s" % (n, hashlib.sha256(body).hexdigest()), (k, v)
