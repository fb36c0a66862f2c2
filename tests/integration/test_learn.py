# SPDX-License-Identifier: MIT
"""ringfence learn --from AUDIT.jsonl: the lines that would have allowed a
run's refusals, as a policy including the one the run used; what the policy
denies on purpose is never proposed.  The same command then runs under the
learned policy."""
import os
import re
import subprocess

from conftest import NOBODY

SCRIPT = ("echo x > %(out)s/f && echo wrote; cat %(secret)s/key; "
          "curl -s -o /dev/null --max-time 5 http://never.test:8080/; echo done")


def test_learned_policy_allows_what_was_refused_and_nothing_denied(box):
    out = box.path("outside")
    secret = box.path("secret")
    os.mkdir(out)
    os.mkdir(secret)
    box.write("secret/key", "TOPSECRET\n", mode=0o644)
    log = box.path("logs", "audit.jsonl")
    os.makedirs(os.path.dirname(log))
    if box.user == "nobody":
        for p in (out, os.path.dirname(log)):
            os.chown(p, NOBODY, NOBODY)
    base = box.policy("""
        [filesystem]
        read = %s
        deny = %s
        [network]
        mode = proxy
        allow = good.test
        [log]
        file = %s
        """ % (box.root, secret, log))
    script = SCRIPT % {"out": out, "secret": secret}
    r = box.run(["sh", "-c", script], policy=base, opts=["--trace"])
    assert "done" in r.stdout, r.stderr
    assert "wrote" not in r.stdout  # refused: the control is below
    r = box.raw(["learn", "--from", log, "-p", base])
    assert r.returncode == 0, r.stderr
    learned = r.stdout
    assert "include = %s" % base in learned, learned
    assert "write = %s" % out in learned, learned
    assert "allow = never.test:8080" in learned, learned
    # a denied path is named, never granted
    assert "not proposed: %s/key" % secret in learned, learned
    lines = [l for l in learned.splitlines() if l and not l.startswith("#")]
    assert not [l for l in lines if secret in l], learned
    pol = box.write("learned.ini", learned)
    assert box.raw(["check", pol]).returncode == 0
    open(log, "w").close()
    r = box.run(["sh", "-c", script], policy=pol, opts=["--trace"])
    # positive control: the write refused before goes through now
    assert "wrote" in r.stdout, r.stderr
    assert "TOPSECRET" not in r.stdout
    assert "never.test" not in r.stderr, r.stderr  # no longer refused
    with open(log) as f:
        denied = [l for l in f if '"net.deny"' in l or ('"fs.deny"' in l and out in l)]
    assert denied == [], denied


def test_learn_needs_a_log_and_says_which_line_is_bad(box):
    r = box.raw(["learn"])
    assert r.returncode == 125 and "--from" in r.stderr, r.stderr
    bad = box.write("bad.jsonl", '{"event":"exec"}\nnot json\n')
    r = box.raw(["learn", "--from", bad])
    assert r.returncode == 125 and "bad.jsonl:2:" in r.stderr, r.stderr


def test_learn_never_writes_a_line_the_parser_would_cut(box):
    """A path holding '#' (a comment on a policy line) is not proposed as a
    grant that would mean another path; a plain one is (the control)."""
    log = box.write("a.jsonl",
                    '{"event":"fs.deny","access":"create","path":"/x/a#b","key":'
                    '"filesystem.write","value":"/x/a#b","reason":"no grant covers it"}\n'
                    '{"event":"fs.deny","access":"create","path":"/x/ok/f","key":'
                    '"filesystem.write","value":"/x/ok","reason":"no grant covers it"}\n')
    r = box.raw(["learn", "--from", log])
    assert r.returncode == 0, r.stderr
    assert "write = /x/ok\n" in r.stdout, r.stdout
    assert "write = /x/a" not in r.stdout, r.stdout
    assert "not proposed: /x/a#b: its path cannot be written" in r.stdout, r.stdout


def test_a_file_name_cannot_add_lines_to_the_learned_policy(box):
    """A sandboxed command names a file with newlines and a [network]
    section in it and gets it refused: the path shows in comments only, on
    one line (outside review)."""
    evil = r"/x/a\n[network]\nallow = evil.example:443\n"
    log = box.write("e.jsonl",
                    '{"event":"fs.deny","access":"create","path":"%s","key":"filesystem.write",'
                    '"value":"/x","reason":"no grant covers it"}\n'
                    '{"event":"fs.deny","access":"read","path":"%s","key":"filesystem.deny",'
                    '"value":"/x","reason":"denied by [filesystem] deny"}\n' % (evil, evil))
    r = box.raw(["learn", "--from", log])
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if not l.startswith("#")]
    assert lines == ["[filesystem]", "write = /x"], r.stdout  # the control: one grant
    assert "evil.example" in r.stdout  # shown, in a comment


def test_learn_never_proposes_what_a_deny_rule_refused(box):
    """A host a [network] deny rule refused is listed, not allowed; one refused
    for not being allowed is proposed (the control).  The reasons are the
    proxy's own words (netproxy/rules.c)."""
    log = box.write("n.jsonl",
                    '{"event":"net.deny","proto":"connect","host":"bad.test","port":443,'
                    '"reason":"denied by [network] deny"}\n'
                    '{"event":"net.deny","proto":"connect","host":"new.test","port":443,'
                    '"reason":"not in [network] allow"}\n')
    r = box.raw(["learn", "--from", log])
    assert r.returncode == 0, r.stderr
    assert "allow = new.test:443" in r.stdout, r.stdout
    assert "allow = bad.test" not in r.stdout, r.stdout
    assert "not proposed: bad.test:443: denied by [network] deny" in r.stdout, r.stdout


# ---- ringfence learn -o NEW.ini [-p BASE] -- COMMAND -------------------------

def home_for(box):
    """A home of the command's own, with a tool's state directory, a
    secret the default denies and a file beside it."""
    home = box.path("home")
    for d in ("", ".cache", ".cache/tool", ".ssh"):
        os.makedirs(os.path.join(home, d), exist_ok=True)
    box.write("home/.ssh/id_rsa", "SECRETKEY\n", mode=0o600)
    box.write("home/notes.txt", "NOTES\n")
    if box.user == "nobody":
        subprocess.run(["chown", "-R", "%d:%d" % (NOBODY, NOBODY), home], check=True)
    return home


def grants(policy_text):
    """(key, path) for each file grant line of a policy."""
    out = []
    for line in policy_text.splitlines():
        m = re.match(r"^(read|write|exec)\s*=\s*(.*)$", line)
        if m:
            out += [(m.group(1), v.strip('"')) for v in m.group(2).split()]
    return out


def assert_nothing_wide(box, text, home):
    for key, path in grants(text):
        assert path != "/" and path.rstrip("/") != home, (key, path, text)
        # nothing above a home, nothing in a secret
        assert not home.startswith(path.rstrip("/") + "/"), (key, path, text)
        assert not path.startswith(home + "/.ssh"), (key, path, text)
        assert path not in ("/root", "/home"), (key, path, text)


TOOL = ("cat $HOME/notes.txt; mkdir -p $HOME/.cache/tool/a && echo 1 > $HOME/.cache/tool/a/f "
        "&& echo cached; echo 2 > $HOME/.toolrc && echo rc; cat $HOME/.ssh/id_rsa; "
        "echo ok > result && echo done")


def test_learn_run_writes_a_policy_that_runs_the_command(box):
    """A command that keeps state in its home: learning widens the base,
    records the directories it wrote, and writes a policy (the base
    included) under which the same command works; the home itself, / and
    the secret the default denies are never granted, and the secret stays
    unread even while learning."""
    home = home_for(box)
    env = {"HOME": home}
    base = box.policy("")
    state = [os.path.join(home, ".cache/tool/a/f"), os.path.join(home, ".toolrc")]
    # the control: the base alone keeps the tool's state from the home
    # (with a private /tmp, where the box lives, it lands in the sandbox's)
    box.run(["sh", "-c", TOOL], policy=base, env=env)
    assert not [p for p in state if os.path.exists(p)]
    new = os.path.join(box.work, "new.ini")
    r = box.raw(["learn", "-o", new, "-p", base, "--", "sh", "-c", TOOL], env=env)
    assert r.returncode == 0, r.stderr
    assert "cached" in r.stdout and "NOTES" in r.stdout, r.stdout + r.stderr  # widened
    assert "SECRETKEY" not in r.stdout  # the default's deny holds while learning
    with open(new) as f:
        text = f.read()
    assert "include = %s" % base in text, text
    assert ("write", home + "/.cache/tool") in grants(text), text
    assert ("write", home + "/.toolrc") in grants(text), text + r.stdout + r.stderr
    assert_nothing_wide(box, text, home)
    # each grant says what used it
    assert re.search(r"; create %s/.cache/tool/a.*\nwrite = %s/.cache/tool\n"
                     % (re.escape(home), re.escape(home)), text), text
    # the secret's refusal is listed, not proposed (with namespaces the
    # deny is a mask: the file is absent, not refused)
    if box.namespaces == "off":
        assert "not proposed: read %s/.ssh/id_rsa" % home in text, text
    assert box.raw(["check", new]).returncode == 0
    # what the learning run made is gone or changed: the second run makes
    # it again (a grant names a path that exists: the file stays)
    os.unlink(state[0])
    with open(state[1], "w") as f:
        f.write("old\n")
    r = box.run(["sh", "-c", TOOL], policy=new, env=env)
    assert os.path.exists(state[0]), r.stdout + r.stderr
    assert open(state[1]).read() == "2\n", r.stdout + r.stderr
    assert "cached" in r.stdout and "rc" in r.stdout.split() and "done" in r.stdout, \
        r.stdout + r.stderr
    assert "SECRETKEY" not in r.stdout


def test_learn_run_keeps_the_default_deny_list_over_a_base_without_it(box):
    """A base that does not include the default (so denies nothing) still
    learns with the default's secrets denied; a file beside them is read
    (the control: the widening works)."""
    home = home_for(box)
    base = box.policy("""
        [filesystem]
        read = /usr /etc /proc
        exec = /usr %s
        write = /dev/null
        """ % box.bin, base=False)
    new = os.path.join(box.work, "new.ini")
    r = box.raw(["learn", "-o", new, "-p", base, "--", "sh", "-c",
                 "cat $HOME/notes.txt; cat $HOME/.ssh/id_rsa; echo end"], env={"HOME": home})
    assert r.returncode == 0, r.stderr
    assert "NOTES" in r.stdout and "end" in r.stdout, r.stdout + r.stderr
    assert "SECRETKEY" not in r.stdout, r.stdout
    with open(new) as f:
        text = f.read()
    assert ("read", home + "/notes.txt") in grants(text), text
    assert_nothing_wide(box, text, home)


def test_learn_run_bad_input_is_one_line_and_the_command_never_starts(box):
    marker = os.path.join(box.work, "marker")
    cmd = ["--", "sh", "-c", "touch %s" % marker]
    new = os.path.join(box.work, "new.ini")
    r = box.raw(["learn"] + cmd)
    assert r.returncode == 125 and "-o" in r.stderr, r.stderr
    assert len(r.stderr.splitlines()) == 1, r.stderr
    r = box.raw(["learn", "-o", new])
    assert r.returncode == 125 and "needs a command" in r.stderr, r.stderr
    box.write("work/new.ini", "keep\n", owner=NOBODY if box.user == "nobody" else None)
    r = box.raw(["learn", "-o", new] + cmd)
    assert r.returncode == 125 and "already exists" in r.stderr and "--force" in r.stderr, \
        r.stderr
    assert open(new).read() == "keep\n"
    r = box.raw(["learn", "-o", box.path("no-such-dir", "new.ini")] + cmd)
    assert r.returncode == 125 and "cannot write there" in r.stderr, r.stderr
    bad = box.write("bad.ini", "[filesystem]\nreed = /usr\n")
    r = box.raw(["learn", "-o", box.path("work", "other.ini"), "-p", bad] + cmd)
    assert r.returncode == 125 and "bad.ini:2" in r.stderr, r.stderr
    assert not os.path.exists(marker)
    assert not os.path.exists(box.path("work", "other.ini"))
    assert not [f for f in os.listdir(box.work) if f.startswith(".ringfence-learn")]
    # the control: --force replaces it, and the command ran
    r = box.raw(["learn", "--force", "-o", new, "-p", box.policy("")] + cmd)
    assert r.returncode == 0, r.stderr
    assert os.path.exists(marker)
    assert open(new).read().startswith("; Learned by ringfence learn"), open(new).read()
