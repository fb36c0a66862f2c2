# SPDX-License-Identifier: MIT
"""Attacks on the start-up and sandbox-split changes: what the sandboxed
command may do around the proxy's trust, the typed records, the clean-up
at exit and the privilege drop."""
import os
import shutil
import subprocess

import pytest

from test_trust import CURL, caller_ca, policy, run, tb  # noqa: F401


def test_a_callers_ca_dir_the_sandbox_writes_in_is_not_trusted_by_the_proxy(tb):  # noqa: F811
    """SSL_CERT_DIR names a directory in the project (a write grant).  The
    caller's CA files are read once at start-up, so that the proxy trusts
    what the caller trusted, not what the sandbox writes later; a CA
    directory must hold the same: a hashed file the sandbox plants there
    after the start (good.test's CA) must not make the proxy's upstream
    verification trust good.test, nor the credential reach it."""
    d = tb.path("work", "cadir")
    os.mkdir(d)
    os.chmod(d, 0o755)
    if tb.user == "nobody":
        os.chown(d, 65534, 65534)
    h = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", caller_ca(tb)],
                       capture_output=True, text=True, check=True).stdout.strip()
    shutil.copy2(caller_ca(tb), tb.path("work", "good.pem"))
    os.chmod(tb.path("work", "good.pem"), 0o644)
    script = ("cp good.pem cadir/%s.0 && echo planted; " % h + CURL +
              '-H "Authorization: Bearer $GITHUB_TOKEN" -o /dev/null '
              "-w 'curl %{http_code}\\n' https://good.test/seen")
    r = run(tb, script, policy(tb, cred=True), {"SSL_CERT_DIR": d})
    lines = r.stdout.splitlines()
    assert lines and lines[0] == "planted", r.stdout + r.stderr
    assert "curl 200" not in lines, r.stdout + r.stderr
    assert not tb.events("cred.inject"), tb.events("cred.inject")


def test_a_callers_ca_dir_is_trusted_by_the_proxy_as_it_was_at_start(tb):  # noqa: F811
    """Positive control of the test above: the same directory holding
    good.test's CA from the start is trusted by the proxy (curl 200, the
    credential injected)."""
    d = tb.path("work", "cadir")
    os.mkdir(d)
    os.chmod(d, 0o755)
    h = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", caller_ca(tb)],
                       capture_output=True, text=True, check=True).stdout.strip()
    shutil.copy2(caller_ca(tb), os.path.join(d, h + ".0"))
    os.chmod(os.path.join(d, h + ".0"), 0o644)
    script = (CURL + '-H "Authorization: Bearer $GITHUB_TOKEN" -o /dev/null '
              "-w 'curl %{http_code}\\n' https://good.test/seen")
    r = run(tb, script, policy(tb, cred=True), {"SSL_CERT_DIR": d})
    assert "curl 200" in r.stdout.splitlines(), r.stdout + r.stderr


SETID = r"""
import ctypes, os, stat
libc = ctypes.CDLL(None, use_errno=True)
def tried(name, f):
    try:
        f()
        print(name, "ok")
    except OSError as e:
        print(name, "refused", e.errno)
open("plain", "w").close()
open("sgid", "w").close()
tried("chmod-755", lambda: os.chmod("plain", 0o755))
tried("chmod-4755", lambda: os.chmod("plain", 0o4755))
tried("chmod-2755", lambda: os.chmod("sgid", 0o2755))
fd = os.open("plain", os.O_RDONLY)
tried("fchmod-4755", lambda: os.fchmod(fd, 0o4755))
tried("open-4755", lambda: os.close(os.open("made", os.O_CREAT | os.O_WRONLY, 0o4755)))
tried("tmpfile-4755", lambda: os.close(os.open(".", os.O_TMPFILE | os.O_WRONLY, 0o4755)))
tried("mknod-4755", lambda: os.mknod("node", 0o4755 | stat.S_IFREG))
def openat2():
    # struct open_how {u64 flags, mode, resolve}: O_CREAT|O_WRONLY, 04755
    how = (ctypes.c_uint64 * 3)(os.O_CREAT | os.O_WRONLY, 0o4755, 0)
    r = libc.syscall(437, -100, b"made2", ctypes.byref(how), 24)
    if r < 0:
        raise OSError(ctypes.get_errno(), "openat2")
    os.close(r)
tried("openat2-4755", openat2)
for n in ("plain", "sgid", "made", "node", "made2"):
    if os.path.exists(n):
        print(n, oct(os.stat(n).st_mode & 0o7777))
"""


def test_no_set_user_id_file_is_left(box):
    """A set-user-ID or set-group-ID file the command makes is run by the
    host as its owner (as root, for a command started as root, which owns
    the host's files: Landlock has no right for modes): chmod, fchmod,
    open and O_TMPFILE with such a mode, mknod and openat2 (whose mode
    seccomp cannot read) are refused; a plain chmod is not."""
    box.write("work/setid.py", SETID)
    r = box.run(["/usr/bin/python3", "setid.py"], policy=box.policy(""))
    out = r.stdout
    # positive control: the command ran and may change a mode
    assert "chmod-755 ok" in out, out + r.stderr
    for call in ("chmod-4755", "chmod-2755", "fchmod-4755", "open-4755", "tmpfile-4755",
                 "mknod-4755", "openat2-4755"):
        assert call + " refused" in out, (call, out, r.stderr)
    for name in ("plain", "sgid", "made", "node", "made2"):
        p = box.path("work", name)
        if os.path.exists(p):
            assert not os.stat(p).st_mode & 0o6000, (name, oct(os.stat(p).st_mode), out)


PY_BUNDLE = r"""
import os, ssl
try:
    ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    print("bundle loads")
except Exception as e:
    print("bundle refused:", e)
"""


def test_a_callers_ca_file_with_a_broken_certificate_leaves_the_bundle_usable(tb):  # noqa: F811
    """A caller's CA file whose one block has its BEGIN and END lines but
    no certificate between them (a damaged file) was parsed at start-up,
    said and left out.  Read at start-up and parsed only at the first
    interception, it is now judged by its header and end lines alone and
    its bytes go into the run's bundle: OpenSSL's PEM loader (Python's
    ssl) refuses the whole bundle, and no HTTPS client that loads it works
    in the sandbox.  The bundle must load, and the file be said."""
    with open("/etc/ssl/certs/ca-certificates.crt") as f:
        first = f.read().split("-----END CERTIFICATE-----")[0]
    lines = (first[first.index("-----BEGIN"):] + "-----END CERTIFICATE-----\n").split("\n")
    lines[3] = lines[3][:5] + "!" + lines[3][6:]
    bad = tb.write("bin/damaged.pem", "\n".join(lines))
    tb.write("work/bundle.py", PY_BUNDLE)
    r = run(tb, "/usr/bin/python3 bundle.py", policy(tb, cred=True),
            {"NODE_EXTRA_CA_CERTS": bad})
    assert "bundle loads" in r.stdout, r.stdout + r.stderr
    assert bad in r.stderr, r.stderr
    # positive control: the same run with the caller's good CA file loads
    r = run(tb, "/usr/bin/python3 bundle.py", policy(tb, cred=True),
            {"NODE_EXTRA_CA_CERTS": caller_ca(tb)})
    assert "bundle loads" in r.stdout, r.stdout + r.stderr
