# SPDX-License-Identifier: MIT
"""Trust carries over: the command trusts what its caller's clients trusted
(the files in SSL_CERT_FILE, NODE_EXTRA_CA_CERTS and friends, SSL_CERT_DIR,
or the system store), with and without a credential; with one, the proxy's
own upstream verification trusts the same.

good.test (test_network.World) serves a certificate from a test CA that no
policy here names in upstream_ca: only the caller's variables trust it,
as behind a TLS-inspecting proxy whose CA the caller was given."""
import os
import shutil
import signal
import subprocess

import pytest

from conftest import NOBODY, SANITIZED, wait_unlocked
from test_network import DIAGONAL, DIAGONAL_IDS, NetBox

SECRET = "ghp_realSecretValue0123456789abcdef"
CURL = "curl -sS -m 10 "
CRED = ("[credential github]\nenv = GITHUB_TOKEN\nsource = env:RF_SECRET\n"
        "hosts = good.test\n")

NODE_GET = r"""
const http = require('http'), https = require('https'), tls = require('tls');
const [h, p] = process.env.HTTPS_PROXY.split('//')[1].split(':');
const req = http.request({host: h, port: +p, method: 'CONNECT', path: 'good.test:443'});
req.on('connect', (res, sock) => {
  https.get({host: 'good.test', path: '/seen',
             createConnection: () => tls.connect({socket: sock, servername: 'good.test'})},
            (r) => { console.log('status', r.statusCode); r.resume();
                     r.on('end', () => process.exit(0)); })
       .on('error', (e) => { console.log('error', e.code); process.exit(1); });
});
req.on('error', (e) => { console.log('proxy error', e.message); process.exit(1); });
req.end();
"""

PY_GET = r"""
import os, urllib.request
with urllib.request.urlopen("https://good.test/seen", timeout=10) as r:
    print("status", r.status)
"""


# Each user (whose files the caller's variables name) and each mechanism
# (the way to the upstream) once: the two mechanisms differ in the network
# namespace only, not in what the command can read.
@pytest.fixture(params=DIAGONAL, ids=DIAGONAL_IDS)
def tb(request, world):
    b = NetBox(world, *request.param)
    yield b
    b.cleanup()


def policy(box, cred=False):
    return box.net_policy("allow = good.test", CRED if cred else "")


def run(box, script, pol, env):
    e = {"RF_SECRET": SECRET}
    e.update(env)
    box.write("work/get.js", NODE_GET)
    box.write("work/get.py", PY_GET)
    return box.sh(script, pol, env=e)


def caller_ca(box):
    return box.path("bin", "ca.pem")


def test_caller_ca_files_kept_without_credential(tb):
    """SSL_CERT_FILE for curl and Python, NODE_EXTRA_CA_CERTS for Node: the
    variables stay, and the files they name are readable inside."""
    r = run(tb, 'echo "ssl=$SSL_CERT_FILE node=$NODE_EXTRA_CA_CERTS"; ' + CURL +
            "-o /dev/null -w 'curl %{http_code}\\n' https://good.test/seen; "
            "/usr/bin/python3 get.py; node get.js",
            policy(tb), {"SSL_CERT_FILE": caller_ca(tb), "NODE_EXTRA_CA_CERTS": caller_ca(tb)})
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "ssl=%s node=%s" % (caller_ca(tb), caller_ca(tb))
    assert lines[1:] == ["curl 200", "status 200", "status 200"], r.stdout + r.stderr
    # positive control: without the caller's CA the same clients refuse
    r = run(tb, CURL + "https://good.test/seen; echo curl=$?; node get.js", policy(tb), {})
    assert "curl=60" in r.stdout, r.stdout + r.stderr
    assert "error" in r.stdout and "status 200" not in r.stdout


def test_caller_ca_dir_kept_without_credential(tb):
    d = tb.path("cadir")
    os.mkdir(d)
    # the hashed name OpenSSL looks a certificate up by
    h = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", caller_ca(tb)],
                       capture_output=True, text=True, check=True).stdout.strip()
    shutil.copy2(caller_ca(tb), os.path.join(d, h + ".0"))
    os.chmod(d, 0o755)
    os.chmod(os.path.join(d, h + ".0"), 0o644)
    r = run(tb, 'echo "dir=$SSL_CERT_DIR"; ' + CURL +
            "--capath $SSL_CERT_DIR -o /dev/null -w 'curl %{http_code}\\n' "
            "https://good.test/seen; /usr/bin/python3 get.py",
            policy(tb), {"SSL_CERT_DIR": d})
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines() == ["dir=%s" % d, "curl 200", "status 200"], \
        r.stdout + r.stderr


def test_caller_ca_with_credential_reaches_bundle_and_upstream(tb):
    """NODE_EXTRA_CA_CERTS names the CA of a TLS-inspecting proxy: the run's
    bundle holds it (and the system store, and ringfence's CA), every
    variable points at the bundle, and the proxy verifies good.test with it
    (no upstream_ca in the policy)."""
    with open(caller_ca(tb)) as f:
        caller_pem = f.read().strip()
    script = (
        'test "$SSL_CERT_FILE" = "$NODE_EXTRA_CA_CERTS" && echo same; '
        'grep -c "BEGIN CERTIFICATE" "$SSL_CERT_FILE" >/dev/null && echo bundle; '
        + CURL + '-H "Authorization: Bearer $GITHUB_TOKEN" -o /dev/null '
        "-w 'curl %{http_code}\\n' https://good.test/seen; "
        "/usr/bin/python3 get.py; node get.js; "
        "wget -q -O /dev/null https://good.test/seen && echo wget ok")
    pol = policy(tb, cred=True)
    r = run(tb, script, pol, {"NODE_EXTRA_CA_CERTS": caller_ca(tb)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines() == ["same", "bundle", "curl 200", "status 200", "status 200",
                                     "wget ok"], r.stdout + r.stderr
    r = run(tb, '/usr/bin/python3 -c "import os; print(open(os.environ[\'SSL_CERT_FILE\']).read())"',
            pol, {"NODE_EXTRA_CA_CERTS": caller_ca(tb)})
    assert caller_pem in r.stdout
    # the system store is in it too: more than the test CA and ours
    assert r.stdout.count("BEGIN CERTIFICATE") > 10
    inject = tb.events("cred.inject")
    assert inject and all(e["host"] == "good.test" for e in inject)


def test_upstream_unverified_without_the_callers_ca(tb):
    """Positive control for the above: the same run without the caller's
    CA cannot verify good.test (the proxy refuses it)."""
    r = run(tb, CURL + "-o /dev/null -w '%{http_code}\\n' https://good.test/seen; echo rc=$?",
            policy(tb, cred=True), {})
    assert "200" not in r.stdout.splitlines()[0], r.stdout + r.stderr


def test_denied_ca_path_stays_denied(tb):
    """A CA variable naming a file under a deny (~/.ssh) does not open it."""
    home = tb.path("home")
    os.makedirs(os.path.join(home, ".ssh"))
    shutil.copy2(caller_ca(tb), os.path.join(home, ".ssh", "ca.pem"))
    for p in (home, os.path.join(home, ".ssh"), os.path.join(home, ".ssh", "ca.pem")):
        os.chown(p, 65534 if tb.user == "nobody" else 0, 65534 if tb.user == "nobody" else 0)
    r = run(tb, 'head -c 10 "$SSL_CERT_FILE" && echo read; echo end', policy(tb),
            {"HOME": home, "SSL_CERT_FILE": os.path.join(home, ".ssh", "ca.pem")})
    assert "end" in r.stdout, r.stderr
    assert "read" not in r.stdout and "BEGIN" not in r.stdout


def test_ssl_cert_dir_holding_the_home_is_not_granted(tb):
    """SSL_CERT_DIR=/ (or the home) would open the whole home for reading."""
    home = tb.path("home")
    os.makedirs(home)
    with open(os.path.join(home, "private.txt"), "w") as f:
        f.write("secret")
    os.chmod(home, 0o755)
    os.chmod(os.path.join(home, "private.txt"), 0o644)
    r = run(tb, 'cat "$HOME/private.txt"; echo end', policy(tb),
            {"HOME": home, "SSL_CERT_DIR": tb.root})
    assert "end" in r.stdout, r.stderr
    assert "secret" not in r.stdout
    assert "not made readable" in r.stderr


@pytest.mark.parametrize("user", ["root", "nobody"])
def test_trust_without_namespaces(world, user):
    """namespaces = off (the broker, Landlock alone): the caller's file is
    granted read by Landlock, and with a credential the bundle holds it."""
    b = NetBox(world, user, "broker", namespaces="off")
    try:
        r = run(b, CURL + "-o /dev/null -w 'curl %{http_code}\\n' https://good.test/seen; "
                "node get.js", policy(b), {"NODE_EXTRA_CA_CERTS": caller_ca(b),
                                           "SSL_CERT_FILE": caller_ca(b)})
        assert r.stdout.splitlines() == ["curl 200", "status 200"], r.stdout + r.stderr
        r = run(b, CURL + "-H 'Authorization: Bearer $GITHUB_TOKEN' -o /dev/null "
                "-w 'curl %{http_code}\\n' https://good.test/seen; node get.js",
                policy(b, cred=True), {"NODE_EXTRA_CA_CERTS": caller_ca(b)})
        assert r.stdout.splitlines() == ["curl 200", "status 200"], r.stdout + r.stderr
    finally:
        b.cleanup()


def test_bundle_holds_a_file_once_however_often_it_is_named(world):  # noqa: F811
    """The caller's variables usually all name the system's bundle (and
    SSL_CERT_DIR holds it too): it goes into the run's bundle once, not once
    per name, beside the caller's other file; a named file without a
    certificate (or with one cut short) is said and left out."""
    box = NetBox(world, "root", "namespace")
    try:
        system = "/etc/ssl/certs/ca-certificates.crt"
        with open(system) as f:
            first = f.read().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----"
        with open(caller_ca(box)) as f:
            caller_pem = f.read().strip()
        box.write("work/empty.pem", "no certificate here\n")
        box.write("work/cut.pem", first[:200] + "\n")
        env = {"SSL_CERT_FILE": system, "CURL_CA_BUNDLE": system, "GIT_SSL_CAINFO": system,
               "SSL_CERT_DIR": "/etc/ssl/certs", "NODE_EXTRA_CA_CERTS": caller_ca(box),
               "PIP_CERT": box.path("work", "empty.pem"),
               "REQUESTS_CA_BUNDLE": box.path("work", "cut.pem")}
        r = run(box, '/usr/bin/python3 -c "import os; '
                'print(open(os.environ[\'SSL_CERT_FILE\']).read())"',
                policy(box, cred=True), env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.count(first) == 1, r.stdout.count(first)
        assert caller_pem in r.stdout
        assert "empty.pem: not carried over (no certificate in it)" in r.stderr, r.stderr
        assert "cut.pem: not carried over (no certificate in it)" in r.stderr, r.stderr
    finally:
        box.cleanup()


def test_a_callers_ca_file_the_sandbox_rewrites_is_not_trusted_by_the_proxy(tb):
    """A caller's CA file in the project (a write grant) is the sandbox's to
    rewrite: the proxy's upstream verification, which parses the caller's
    files only at its first interception, trusts what the file held at
    start-up, not what the sandbox wrote there since (here: good.test's CA,
    over an unrelated certificate), and no credential reaches good.test."""
    with open("/etc/ssl/certs/ca-certificates.crt") as f:
        unrelated = f.read().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
    tb.write("work/ca.pem", unrelated, owner=65534 if tb.user == "nobody" else None)
    shutil.copy2(caller_ca(tb), tb.path("work", "good.pem"))
    os.chmod(tb.path("work", "good.pem"), 0o644)
    script = ("cat good.pem > ca.pem && echo rewritten; " + CURL +
              '-H "Authorization: Bearer $GITHUB_TOKEN" -o /dev/null '
              "-w 'curl %{http_code}\\n' https://good.test/seen")
    r = run(tb, script, policy(tb, cred=True), {"NODE_EXTRA_CA_CERTS": tb.path("work", "ca.pem")})
    lines = r.stdout.splitlines()
    assert lines and lines[0] == "rewritten", r.stdout + r.stderr
    assert "curl 200" not in lines, r.stdout + r.stderr
    assert not tb.events("cred.inject"), tb.events("cred.inject")


FIRST_THING = r"""
import base64, os
pem = open(os.environ["SSL_CERT_FILE"]).read()
blocks = pem.split("-----BEGIN CERTIFICATE-----")
last = base64.b64decode("".join(blocks[-1].split("-----END CERTIFICATE-----")[0].split()))
print("certs", len(blocks) - 1, "ours last", b"ringfence interception CA" in last,
      "whole", pem.endswith("-----END CERTIFICATE-----\n"))
"""


@pytest.mark.parametrize("mode", ["root-ns", "user-broker", "user-nons"])
def test_the_command_starts_on_the_whole_bundle(world, mode):
    """The supervisor writes the bundle while init sets the sandbox up: the
    command, reading it first thing, finds it whole with the run's CA last,
    even when a caller's SSL_CERT_DIR of 3,000 files makes it slow to
    write (an init that did not wait started on an empty file)."""
    user, mech = mode.split("-")
    b = NetBox(world, "root" if user == "root" else "nobody",
               "namespace" if mech == "ns" else "broker",
               namespaces="off" if mech == "nons" else "on")
    try:
        d = b.path("manycas")
        os.mkdir(d, 0o755)
        with open(caller_ca(b)) as f:
            pem = f.read()
        # (an ASan build writes ten times slower: 300 files take it as
        # long as 3,000 take the plain build)
        for i in range(300 if SANITIZED else 3000):
            with open(os.path.join(d, "ca%04d.pem" % i), "w") as f:
                f.write(pem)
        b.write("work/first.py", FIRST_THING)
        r = b.sh("/usr/bin/python3 first.py", policy(b, cred=True),
                 env={"RF_SECRET": SECRET, "SSL_CERT_DIR": d})
        assert r.returncode == 0, r.stdout + r.stderr
        words = r.stdout.split()
        assert words[0] == "certs" and int(words[1]) > 10, r.stdout + r.stderr
        assert words[2:] == ["ours", "last", "True", "whole", "True"], r.stdout + r.stderr
    finally:
        b.cleanup()


def test_a_killed_runs_bundle_is_removed_by_the_next_start(tb):
    """The bundle's directory in /tmp (the run's CA certificate and the
    caller's roots; no key) is removed at exit; a supervisor killed with
    SIGKILL left it behind for good.  The crash journal names it, and the
    next start removes it (and nothing else there)."""
    state = tb.path("state")
    os.mkdir(state)
    if tb.user == "nobody":
        os.chown(state, NOBODY, NOBODY)
    env = {"RF_SECRET": SECRET, "XDG_STATE_HOME": state}
    p = tb.popen(["sh", "-c", 'echo "$SSL_CERT_FILE"; sleep 30'], policy=policy(tb, cred=True),
                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        bundle = p.stdout.readline().strip()
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.communicate(timeout=30)
    assert bundle.startswith("/tmp/ringfence-ca.") and os.path.exists(bundle), bundle
    wait_unlocked(os.path.join(state, "ringfence"))
    # nothing ran at exit: it is there until a start recovers the journal
    assert os.path.exists(bundle)
    r = tb.sh("true", policy(tb), env=env)
    assert r.returncode == 0, r.stderr
    assert "earlier run" in r.stderr, r.stderr
    assert not os.path.exists(os.path.dirname(bundle)), r.stderr
