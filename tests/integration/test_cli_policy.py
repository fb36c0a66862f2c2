# SPDX-License-Identifier: MIT
"""Bad input gets one line on stderr naming file, line and key, exit 125, and
the command never starts; check, explain and probe do what DESIGN.md says."""
import os
import subprocess

import pytest

MARK = "ringfence-started-marker"


def never_started(box, r):
    assert r.returncode == 125, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("ringfence: ")
    assert not os.path.exists(os.path.join(box.work, MARK))
    return lines[0]


def run_marker(box, policy=None, opts=()):
    return box.run(["sh", "-c", "touch " + MARK], policy=policy, opts=opts)


BAD = [
    ("unknown section", "[sandbox]\n[filesytem]\n", "policy.ini:2:", "did you mean [filesystem]"),
    ("unknown key", "[filesystem]\nreed = /usr\n", "policy.ini:2: filesystem.reed:",
     "did you mean 'read'"),
    ("bad value", "[network]\nmode = proxi\n", "policy.ini:2: network.mode:", "did you mean 'proxy'"),
    ("undefined variable", "[filesystem]\nread = ${NO_SUCH_VAR_RF}/x\n",
     "policy.ini:2: filesystem.read:", "${NO_SUCH_VAR_RF} is not defined"),
    ("long line", "[filesystem]\n; " + "x" * 300 + "\n", "policy.ini:2:", "longer than"),
    ("unknown run_as user", "[network]\nmode = none\n[process]\nrun_as = no-such-user-rf\n",
     "policy.ini:4: process.run_as:", "unknown user"),
    ("unknown syscall", "[network]\nmode = none\n[syscalls]\ndeny = not_a_call\n", "policy.ini:4:",
     "not a system call"),
    ("credential secret not set", "[network]\nmode = proxy\nallow = example.com\n"
     "[credential gh]\nenv = GH_TOKEN\nsource = env:RF_NO_SUCH_SECRET\nhosts = example.com\n",
     "policy.ini:4: [credential gh]", "RF_NO_SUCH_SECRET is not set"),
    ("isolation namespace without namespaces", "[sandbox]\nnamespaces = off\n[network]\nmode = proxy\n"
     "isolation = namespace\n", "isolation = namespace", "namespaces = off"),
    ("rlimit above what may be set", "[network]\nmode = none\n[filesystem]\nread = ${CWD}\nexec = /usr\n"
     "[process]\nrlimit_nofile = 1073741824\n",
     "rlimit_nofile = 1073741824", ""),
    ("missing required deny path",
     "[network]\nmode = none\n[filesystem]\nread = ${CWD}\ndeny = !/no/such/deny\n",
     "policy.ini:5: filesystem.deny:", "No such file"),
    ("missing required path", "[network]\nmode = none\n[filesystem]\nread = !/no/such/path\n",
     "policy.ini:4:", "No such file"),
    # inih drops what follows a section's ']': the deny went unread, the
    # command started and read what it named (outside review)
    ("a setting on a section's line",
     "[network]\nmode = none\n[filesystem] deny = /etc/passwd\nread = ${CWD}\nexec = /usr\n",
     "policy.ini:3:", "text after the section's ']'"),
]


@pytest.mark.parametrize("name,text,where,what", BAD, ids=[b[0] for b in BAD])
def test_bad_policy_one_line_125_never_starts(box, name, text, where, what):
    pol = box.write("policy.ini", text)
    line = never_started(box, run_marker(box, policy=pol))
    assert where in line and what in line, line


def test_missing_policy_file(box):
    line = never_started(box, run_marker(box, policy=box.path("nope.ini")))
    assert "nope.ini" in line and "No such file" in line


def test_unreadable_policy_file(box):
    if box.user == "root":
        pytest.skip("root reads everything")
    pol = box.write("secret.ini", "[network]\nmode = none\n", mode=0o600)
    line = never_started(box, run_marker(box, policy=pol))
    assert "Permission denied" in line


def test_a_fifo_named_as_a_policy_or_include_is_refused_at_once(box):
    """Outside review: a FIFO as the policy, or as a file it includes,
    blocked the open forever (the check for a regular file came after it)."""
    fifo = box.path("fifo.ini")
    os.mkfifo(fifo)
    os.chmod(fifo, 0o644)
    inc = box.write("inc.ini", "[sandbox]\ninclude = %s\n" % fifo)
    for pol in (fifo, inc):
        line = never_started(box, run_marker(box, policy=pol))
        assert "fifo.ini" in line and "not a regular file" in line, line
    r = box.raw(["check", fifo], timeout=10)
    assert r.returncode == 125 and "not a regular file" in r.stderr + r.stdout, r


def test_an_include_that_is_no_file_names_its_line(box):
    """Outside review: `include = /tmp` (a directory) or a device said
    "/tmp: not a regular file", naming no file, line or key."""
    for target in (box.root, "/dev/zero"):
        inc = box.write("inc.ini", "[sandbox]\ninclude = %s\n" % target)
        line = never_started(box, run_marker(box, policy=inc))
        assert line.startswith("ringfence: %s:2: sandbox.include: '%s': not a regular file"
                               % (inc, target)), line


def test_include_cycle(box):
    box.write("a.ini", "[sandbox]\ninclude = b.ini\n")
    box.write("b.ini", "[sandbox]\ninclude = a.ini\n")
    line = never_started(box, run_marker(box, policy=box.path("a.ini")))
    assert "cycle" in line and "b.ini:2" in line


def test_unknown_option(box):
    r = box.raw(["--allow-wirte", "/x", "--", "true"])
    assert r.returncode == 125 and "unknown option" in r.stderr


def test_check_reports_file_line(box):
    good = box.policy("")
    bad = box.write("bad.ini", "[filesystem]\n\nwrite = relative/path\n")
    r = box.raw(["check", good, bad])
    assert r.returncode == 125
    assert "%s: ok" % good in r.stdout
    assert r.stderr.strip() == "%s:3: filesystem.write: 'relative/path' is not an absolute path " \
        "(start it with /, ~ or ${CWD})" % bad


def test_check_all_shipped_policies(box):
    pdir = box.policies
    files = sorted(os.path.join(pdir, f) for f in os.listdir(pdir) if f.endswith(".ini"))
    r = box.raw(["check"] + files)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(": ok") == len(files)


def test_every_shipped_credential_names_its_one_place(box):
    """Outside review of the agent policies: with the default inject =
    replace, claude-code.ini's and copilot-cli.ini's GitHub token was
    written wherever the agent put its placeholder, a path included: a PUT
    to a repository of the attacker's, named by the placeholder, stored the
    user's token where the attacker reads it.  Each shipped credential now
    names the one place its API takes the secret; the proxy refuses the
    placeholder anywhere else (test_credentials.py tests that refusal)."""
    pdir = box.policies
    seen = 0
    for f in sorted(os.listdir(pdir)):
        if not f.endswith(".ini"):
            continue
        with open(os.path.join(pdir, f)) as fh:
            text = fh.read()
        for sec in text.split("\n[credential ")[1:]:
            sec = sec.split("\n[", 1)[0]
            seen += 1
            lines = [l.split(";")[0].strip() for l in sec.splitlines()]
            inject = [l for l in lines if l.startswith("inject")]
            assert inject and "replace" not in inject[0], (f, sec.splitlines()[0], inject)
    assert seen >= 8, seen


def test_explain_shows_layers_and_origins(box):
    pol = box.policy("""
        [filesystem]
        read = /opt
        """)
    r = box.raw(["explain", "-p", pol, "--allow-write", "/srv"])
    assert r.returncode == 0, r.stderr
    assert "Landlock ABI" in r.stdout
    assert "read = /opt    ; %s:" % pol in r.stdout
    assert "write = /srv    ; command line" in r.stdout
    assert "seccomp-BPF" in r.stdout
    assert "mode = none" in r.stdout


def test_explain_default(box):
    r = box.raw(["explain"])
    assert r.returncode == 0
    assert "<built-in default policy>" in r.stdout
    assert "write = %s" % box.work in r.stdout
    # what Landlock has no right for is said, and where it is enforced
    assert "; modes, owners, times and extended attributes change only within" in r.stdout


def test_probe(box):
    r = box.raw(["probe"])
    assert r.returncode == 0
    assert "landlock: ABI" in r.stdout
    assert "seccomp: available" in r.stdout


def test_no_command(box):
    r = box.raw(["-p", "x.ini"])
    assert r.returncode == 125 and "no command" in r.stderr


def test_run_as_needs_root(box):
    if box.user == "root":
        pytest.skip("only for the unprivileged user")
    pol = box.write("p.ini", "[network]\nmode = none\n[process]\nrun_as = root\n")
    line = never_started(box, run_marker(box, policy=pol))
    assert "needs ringfence to be started as root" in line


def test_root_drops_to_run_as_user(rootbox):
    os.chown(rootbox.work, 65534, 65534)
    pol = rootbox.write("p.ini", "[sandbox]\ninclude = %s\n[process]\nrun_as = nobody\n" %
                        rootbox.default)
    r = rootbox.run(["sh", "-c", "id -u; id -g; id -G; grep CapBnd /proc/self/status; echo $USER"],
                    policy=pol)
    out = r.stdout.split()
    assert out[0] == "65534" and out[1] == "65534"
    assert "0000000000000000" in r.stdout
    assert out[-1] == "nobody"
    assert "running as root" not in r.stderr


def test_root_without_run_as_warns_once(rootbox):
    pol = rootbox.write("p.ini", "[sandbox]\ninclude = %s\n" % rootbox.default)
    r = rootbox.run(["id", "-u"], policy=pol)
    assert r.stdout.strip() == "0"
    assert r.stderr.count("running as root") == 1
    assert len(r.stderr.strip().splitlines()) == 1


def test_explain_shows_enforcement(box):
    # Every layer is available on this kernel, so best-effort runs as strict
    # does; the downgrade itself is unit-tested (test_plan.c, ABI caps).
    pol = box.policy("""
        [sandbox]
        enforcement = best-effort
        """)
    r = box.raw(["explain", "-p", pol])
    assert "best-effort" in r.stdout


def test_namespaces_auto_falls_back_and_still_confines(box):
    """Under a seccomp profile that refuses namespaces (as container runtimes'
    defaults do), `auto` runs without them and every layer still holds."""
    if box.namespaces == "off":
        pytest.skip("namespaces are off already")
    deny_ns = os.path.join(box.bin, "deny_ns")
    pol = box.policy("")
    argv = box.cmd([deny_ns, box.ringfence, "-p", pol, "-v", "--", "sh", "-c",
                    "echo pid=$$; touch /etc/x; echo ok > f && echo wrote"])
    r = subprocess.run(argv, cwd=box.work, env=box.env(), capture_output=True, text=True,
                       timeout=30)
    assert "namespaces unavailable" in r.stderr
    assert "wrote" in r.stdout
    assert "pid=2\n" not in r.stdout  # not in a PID namespace
    assert "cannot touch '/etc/x'" in r.stderr


def test_namespaces_on_refuses_without_them(box):
    if box.namespaces == "off":
        pytest.skip("namespaces are off")
    deny_ns = os.path.join(box.bin, "deny_ns")
    pol = box.policy("""
        [sandbox]
        namespaces = on
        """)
    state = os.path.join(os.path.dirname(box.work), "state")  # outside the write grants
    os.mkdir(state, 0o700)
    if box.user == "nobody":
        os.chown(state, 65534, 65534)
    env = {"XDG_STATE_HOME": state}
    r = subprocess.run(box.cmd([deny_ns, box.ringfence, "-p", pol, "--", "touch", MARK]),
                       cwd=box.work, env=box.env(env), capture_output=True, text=True, timeout=30)
    never_started(box, r)
    assert "namespaces = on" in r.stderr
    # the command never ran: no crash journal is left for the next start
    # to "recover" (the state directory shows ringfence got as far as
    # making it; test_fsgate's killed-supervisor test shows a journal of a
    # run whose command ran is kept and recovered)
    assert os.path.isdir(os.path.join(state, "ringfence"))
    assert [n for n in os.listdir(os.path.join(state, "ringfence")) if n.startswith("run-")] == []
    r = box.run(["true"], policy=box.policy(""), env=env)
    assert r.returncode == 0 and "earlier run" not in r.stderr, r.stderr


def test_deny_beneath_the_working_directory_without_namespaces_says_why(box):
    """Landlock cannot deny beneath a directory the command may read: the
    refusal names the deny line and the reason, not 'outside the grants'."""
    if box.namespaces != "off":
        pytest.skip("with namespaces the deny is a mask")
    os.mkdir(os.path.join(box.work, "secrets"))
    pol = box.policy("""
        [filesystem]
        deny = ${CWD}/secrets
        """)
    line = never_started(box, run_marker(box, policy=pol))
    assert "filesystem.deny" in line and "beneath the working directory" in line, line
    assert "policy.ini:" in line, line


def test_a_credentials_file_beneath_the_working_directory_is_named_by_its_source(box):
    """An outside review (FAIL on 4487672): without a mount namespace a
    credential's file beneath the working directory is refused (exit 125),
    but the one line named `filesystem.deny` at the [credential] header;
    it names the `source` line and key now."""
    if box.namespaces == "on":
        pytest.skip("with a mount namespace the file is masked where it is")
    secret = box.write("work/tok", "tok_abcdefgh\n")
    pol = box.policy("[network]\nmode = proxy\n"
                     "allow = example.com\n[credential t]\nenv = TOK\n"
                     "source = file:%s\nhosts = example.com:443\n" % secret)
    with open(pol) as f:
        line = [i + 1 for i, l in enumerate(f.read().splitlines())
                if l.startswith("source = file:")][0]
    r = box.run(["sh", "-c", "echo ran"], policy=pol)
    assert r.returncode == 125 and "ran" not in r.stdout, r.stdout + r.stderr
    assert ":%d: credential.source: " % line in r.stderr, r.stderr
