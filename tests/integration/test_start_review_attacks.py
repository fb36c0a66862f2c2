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


def test_a_root_command_changes_no_mode_bits_on_the_host(box):
    """Started as root (run_as = root, or no run_as: every capability is
    dropped, the uid stays 0), the command owns every root-owned file of
    the host.  Landlock has no right for chmod(2) and the filter lets it
    through, so a mode is the owner's to change wherever a path leads: a
    read-only file outside every write grant made world-writable, and a
    set-user-ID root file left in the project (a copy of a shell, for the
    host's users).
    Neither may happen."""
    if box.user != "root":
        pytest.skip("an unprivileged command owns none of root's files")
    victim = box.write("bin/victim", "host file\n", mode=0o600)
    pol = box.policy("")
    # a file of no program (ENOEXEC): the sandbox could as well copy one
    # in, but the test leaves nothing a local user could run as root
    r = box.run(["sh", "-c", "chmod 666 %s; echo chmod=$?; echo x > ./rootsh && "
                 "chmod 4755 ./rootsh; echo setuid=$?" % victim], policy=pol)
    # positive control: the command ran, as root
    assert "chmod=" in r.stdout and "setuid=" in r.stdout, r.stdout + r.stderr
    assert os.stat(victim).st_mode & 0o777 == 0o600, (r.stdout, oct(os.stat(victim).st_mode))
    sh = box.path("work", "rootsh")
    if os.path.exists(sh):
        st = os.stat(sh)
        assert not (st.st_uid == 0 and st.st_mode & 0o4000), (r.stdout, oct(st.st_mode))


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
