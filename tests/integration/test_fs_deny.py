# SPDX-License-Identifier: MIT
"""File refusals made visible (--trace): each refused access is an fs.deny
event naming the access, the path and the key that would allow it, and the
exit summary lists them.  One test per access kind, each with a positive
control (the same access where the policy grants it succeeds, and is not
reported), in the four modes of the `box` fixture."""
import os
import pty
import subprocess

from conftest import NOBODY, audit_events
from test_escape import fs_attack_setup

SCRIPT_PRELUDE = "set -u; "


def world(box, extra=""):
    """ro/ (read grant), rw/ (write grant), other/ (no grant), ro/secret
    (denied), a log directory; owned by the command's user."""
    for d in ("ro", "rw", "other", "logs", "tools"):
        os.makedirs(box.path(d), exist_ok=True)
    for rel in ("ro/f.txt", "rw/f.txt", "rw/g.txt", "other/f.txt", "ro/secret"):
        box.write(rel, "data\n")
    for rel in ("ro/tool.sh", "tools/tool.sh"):
        box.write(rel, "#!/bin/sh\necho ran\n", mode=0o755)
    if box.user == "nobody":
        for d in ("ro", "rw", "other", "logs", "tools"):
            subprocess.run(["chown", "-R", "%d:%d" % (NOBODY, NOBODY), box.path(d)], check=True)
    log = box.path("logs", "audit.jsonl")
    pol = box.policy("""
        [filesystem]
        read = %s
        write = %s
        exec = %s
        deny = %s
        [log]
        file = %s
        """ % (box.path("ro"), box.path("rw"), box.path("tools"), box.path("ro", "secret"), log)
        + extra)
    return pol, log


def traced(box, script, extra_opts=()):
    pol, log = world(box)
    r = box.run(["sh", "-c", SCRIPT_PRELUDE + script], policy=pol,
                opts=["--trace"] + list(extra_opts))
    events = audit_events(log)
    return r, [e for e in events if e["event"] == "fs.deny"]


def check(box, script, access, path, key, value):
    """SCRIPT prints `control-ok` when the granted access worked and
    `refused` when the other failed; exactly one fs.deny names PATH."""
    r, deny = traced(box, script)
    assert "control-ok" in r.stdout, (r.stdout, r.stderr)
    assert "refused" in r.stdout, (r.stdout, r.stderr)
    mine = [e for e in deny if e["path"] == path]
    assert mine, (deny, r.stderr)
    e = mine[0]
    assert e["access"] == access, e
    assert e["key"] == key and e["value"] == value, e
    assert e["caller"] > 0 and e["exe"].startswith("/"), e
    # the positive control is never reported
    assert not [d for d in deny if d["path"].startswith(box.path("rw"))
                or d["path"].startswith(box.path("tools"))], deny
    # the exit summary names it and the key
    summary = [l for l in r.stderr.splitlines() if "file access" in l]
    assert len(summary) == 1, r.stderr
    assert "%s %s" % (access, path) in summary[0], summary
    if key == "filesystem.deny":
        assert "denied by [filesystem] deny" in summary[0], summary
    elif key:
        assert "[filesystem] %s" % key.split(".")[1] in summary[0], summary
    return r, deny


def test_read_refused_names_the_read_key(box):
    o = box.path("other", "f.txt")
    check(box, "cat %s >/dev/null && echo control-ok; cat %s || echo refused"
          % (box.path("ro", "f.txt"), o), "read", o, "filesystem.read", o)


def test_read_of_a_denied_path_names_deny_not_a_grant(box):
    s = box.path("ro", "secret")
    r, deny = check(box, "cat %s >/dev/null && echo control-ok; cat %s || echo refused"
                    % (box.path("ro", "f.txt"), s), "read", s, "filesystem.deny", s)
    assert "add" not in [l for l in r.stderr.splitlines() if "file access" in l][0]


def test_write_refused(box):
    f = box.path("ro", "f.txt")
    check(box, "echo x >> %s && echo control-ok; (echo x >> %s) 2>/dev/null || echo refused"
          % (box.path("rw", "f.txt"), f), "write", f, "filesystem.write", f)


def test_create_refused_names_the_directory(box):
    n = box.path("ro", "new.txt")
    check(box, "touch %s && echo control-ok; touch %s || echo refused"
          % (box.path("rw", "new.txt"), n), "create", n, "filesystem.write", box.path("ro"))


def test_create_directory_refused(box):
    n = box.path("ro", "newdir")
    check(box, "mkdir %s && echo control-ok; mkdir %s || echo refused"
          % (box.path("rw", "newdir"), n), "create", n, "filesystem.write", box.path("ro"))


def test_remove_refused(box):
    f = box.path("ro", "f.txt")
    check(box, "rm %s && echo control-ok; rm -f %s || echo refused"
          % (box.path("rw", "g.txt"), f), "remove", f, "filesystem.write", box.path("ro"))


def test_exec_refused_names_the_exec_key(box):
    t = box.path("ro", "tool.sh")
    check(box, "%s | grep -q ran && echo control-ok; %s || echo refused"
          % (box.path("tools", "tool.sh"), t), "exec", t, "filesystem.exec", t)


def test_rename_refused(box):
    f = box.path("ro", "f.txt")
    check(box, "mv %s %s && echo control-ok; mv %s %s || echo refused"
          % (box.path("rw", "f.txt"), box.path("rw", "h.txt"), f, box.path("ro", "h.txt")),
          "rename", f, "filesystem.write", box.path("ro"))


TRUNCATE = ("import os, sys\n"
            "os.truncate(sys.argv[1], 0); print('control-ok')\n"
            "try:\n"
            "    os.truncate(sys.argv[2], 0)\n"
            "except OSError:\n"
            "    print('refused')\n")


def test_truncate_refused(box):
    f = box.path("ro", "f.txt")
    box.write("tools/trunc.py", TRUNCATE)
    check(box, "/usr/bin/python3 %s %s %s" % (box.path("tools", "trunc.py"),
                                             box.path("rw", "f.txt"), f),
          "truncate", f, "filesystem.write", f)


# RNDGETENTCNT: a device ioctl Landlock checks (ABI 5); /dev/zero has a
# write grant in the default policy (ENOTTY/EINVAL: it ran), /dev/urandom
# only a read grant (EACCES)
IOCTL = ("import errno, fcntl, os\n"
         "def call(path):\n"
         "    fd = os.open(path, os.O_RDONLY)\n"
         "    try:\n"
         "        fcntl.ioctl(fd, 0x80045200, b'\\0' * 4)\n"
         "        return 0\n"
         "    except OSError as e:\n"
         "        return e.errno\n"
         "if call('/dev/zero') != errno.EACCES: print('control-ok')\n"
         "if call('/dev/urandom') == errno.EACCES: print('refused')\n")


def test_ioctl_refused(box):
    box.write("tools/ioctl.py", IOCTL)
    check(box, "/usr/bin/python3 %s" % box.path("tools", "ioctl.py"),
          "ioctl", "/dev/urandom", "filesystem.write", "/dev/urandom")


def test_many_refusals_are_grouped_and_capped(box):
    """One line however many: the same path counted, at most five shown."""
    paths = " ".join(box.path("other", "n%d" % i) for i in range(8))
    r, deny = traced(box, "for i in 1 2 3; do cat %s 2>/dev/null; done; "
                     "for p in %s; do touch $p 2>/dev/null; done; true"
                     % (box.path("other", "f.txt"), paths))
    assert r.returncode == 0, r.stderr
    summary = [l for l in r.stderr.splitlines() if "file access" in l]
    assert len(summary) == 1, r.stderr
    assert "refused 11 file accesses" in summary[0], summary
    assert "read %s 3 times" % box.path("other", "f.txt") in summary[0], summary
    assert "and 4 more" in summary[0], summary
    assert len(deny) == 11


def test_untraced_failure_suggests_trace_once(box):
    pol, _ = world(box)
    r = box.run(["sh", "-c", "echo x > %s" % box.path("ro", "f.txt")], policy=pol)
    assert r.returncode != 0
    assert r.stderr.count("--trace") == 1, r.stderr
    # a command that succeeds gets no such line
    r = box.run(["true"], policy=pol)
    assert r.returncode == 0 and "--trace" not in r.stderr, r.stderr


def test_live_log_on_stderr(box):
    """--log - writes the events to stderr: JSON lines when it is not a
    terminal, one compact line each when it is."""
    pol, log = world(box)
    o = box.path("other", "f.txt")
    r = box.run(["cat", o], policy=pol, opts=["--trace", "--log", "-"])
    assert r.returncode != 0
    lines = [l for l in r.stderr.splitlines() if '"event":"fs.deny"' in l]
    assert len(lines) == 1 and o in lines[0], r.stderr
    # the policy's log is still written, with the same events
    assert [e for e in audit_events(log) if e["event"] == "fs.deny" and e["path"] == o]
    # a terminal: the compact form, no JSON
    master, slave = pty.openpty()
    try:
        p = subprocess.run(box.cmd([box.ringfence, "-p", pol, "--trace", "--log", "-", "--",
                                    "cat", o]),
                           cwd=box.work, env=box.env(), stdout=subprocess.PIPE, stderr=slave,
                           timeout=60)
        os.close(slave)
        slave = -1
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    text = out.decode("utf-8", "replace")
    assert p.returncode != 0
    live = [l for l in text.splitlines() if " fs.deny " in l]
    assert len(live) == 1, text
    assert "access=read" in live[0] and "path=%s" % o in live[0] and "{" not in live[0], live


CONNECT = ("import socket\n"
           "try:\n"
           "    socket.create_connection(('127.0.0.1', 9), timeout=5)\n"
           "except OSError:\n"
           "    print('net-refused')\n")


def test_trace_shares_the_connect_brokers_filter(box):
    """One notification listener per filter chain: with the connect broker
    the file calls go through the same one, and both are answered."""
    pol, log = world(box, "[network]\nmode = proxy\nisolation = broker\nallow = example.test\n")
    box.write("tools/connect.py", CONNECT)
    f = box.path("ro", "f.txt")
    r = box.run(["sh", "-c", "echo x >> %s && echo control-ok; (echo x >> %s) 2>/dev/null || "
                 "echo refused; /usr/bin/python3 %s" % (box.path("rw", "f.txt"), f,
                                                        box.path("tools", "connect.py"))],
                policy=pol, opts=["--trace"])
    assert "control-ok" in r.stdout and "refused" in r.stdout, (r.stdout, r.stderr)
    assert "net-refused" in r.stdout, (r.stdout, r.stderr)
    events = audit_events(log)
    assert [e for e in events if e["event"] == "fs.deny" and e["path"] == f
            and e["access"] == "write"], events
    assert [e for e in events if e["event"] == "net.deny" and e.get("proto") == "capture"], events
    assert "blocked 1 connection" in r.stderr and "refused 1 file access" in r.stderr, r.stderr


def test_the_trace_decides_nothing(box):
    """With --trace every file call stops in the supervisor and goes on:
    the attack program of tests/escape/fs.c still fails at everything,
    and its refusals are reported."""
    secret_dir, cfg, args = fs_attack_setup(box)
    log = box.path("logs", "audit.jsonl")
    os.makedirs(os.path.dirname(log))
    if box.user == "nobody":
        os.chown(os.path.dirname(log), NOBODY, NOBODY)
    pol = box.policy("""
        [filesystem]
        read = %s
        deny = %s
        [log]
        file = %s
        """ % (box.root, secret_dir, log))
    r = box.run(args, policy=pol, opts=["--trace"])
    assert "ESCAPED" not in r.stdout, r.stdout
    assert r.returncode == 0 and "0 escape(s)" in r.stdout, r.stdout + r.stderr
    assert open(cfg).read() == "[core]\n"
    assert not os.path.exists("/etc/ringfence-escape")
    deny = [e for e in audit_events(log) if e["event"] == "fs.deny"]
    assert [e for e in deny if e["path"].startswith(secret_dir)
            and e["key"] == "filesystem.deny"], deny


def test_the_private_tmpdir_is_never_reported(box):
    """Without namespaces the private TMPDIR is granted by init: the trace
    knows it (it reported every access there as refused)."""
    r, deny = traced(box, 'echo x > "$TMPDIR/f" && cat "$TMPDIR/f" >/dev/null && '
                          'mkdir "$TMPDIR/d" && echo control-ok; '
                          'cat %s || echo refused' % box.path("other", "f.txt"))
    assert "control-ok" in r.stdout and "refused" in r.stdout, r.stdout + r.stderr
    tmp = [d for d in deny if d["path"].startswith("/tmp/ringfence.")]
    assert tmp == [], tmp
    # the control: the refusal beside it is reported
    assert [d for d in deny if d["path"] == box.path("other", "f.txt")], deny
