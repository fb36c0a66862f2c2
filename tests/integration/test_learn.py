# SPDX-License-Identifier: MIT
"""ringfence learn --from AUDIT.jsonl: the lines that would have allowed a
run's refusals, as a policy including the one the run used; what the policy
denies on purpose is never proposed.  The same command then runs under the
learned policy."""
import base64
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import zipfile

import pytest

from conftest import NOBODY
from test_network import NetBox

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
                    '"value":"/x/y","reason":"no grant covers it"}\n'
                    '{"event":"fs.deny","access":"read","path":"%s","key":"filesystem.deny",'
                    '"value":"/x/y","reason":"denied by [filesystem] deny"}\n' % (evil, evil))
    r = box.raw(["learn", "--from", log])
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if not l.startswith("#")]
    assert lines == ["[filesystem]", "write = /x/y"], r.stdout  # the control: one grant
    assert "evil.example" in r.stdout  # shown, in a comment


def test_a_comma_in_a_name_the_command_made_adds_no_grant(box):
    """Outside review: the command made `x,/,~/f` in the project and tried
    to run it; learn --from wrote `exec = .../x,/,~/f`, which the policy
    reader splits at its commas into three grants, `/` among them, so the
    learned policy let the command read and run anything not denied.  The
    value is now quoted and read back as one item before it is proposed:
    under the learned policy the file runs (the control) and a file outside
    every grant stays unreadable.  (The file is the host's, outside the
    write grants: exec beneath one is never proposed.)"""
    log = box.path("logs", "audit.jsonl")
    os.makedirs(os.path.dirname(log))
    if box.user == "nobody":
        os.chown(os.path.dirname(log), NOBODY, NOBODY)
    outside = box.write("outside/secret", "TOPSECRET\n", mode=0o644)
    target = box.write("tools/x,/,~/f", "#!/bin/sh\necho RAN\n", mode=0o755)
    # (the box is in /tmp: the host's, so that the file is there to refuse)
    base = box.policy("[log]\nfile = %s\n[filesystem]\nprivate_tmp = no\n" % log)
    r = box.run(["sh", "-c", '"%s"' % target], policy=base, opts=["--trace"])
    assert "RAN" not in r.stdout, r.stdout  # not an exec grant
    r = box.raw(["learn", "--from", log, "-p", base])
    assert r.returncode == 0, r.stderr
    assert 'exec = "%s"\n' % target in r.stdout, r.stdout
    pol = box.write("learned.ini", r.stdout)
    e = box.raw(["explain", "-p", pol])
    assert e.returncode == 0, e.stderr
    learned = [l for l in e.stdout.splitlines()
               if "learned.ini" in l and not l.startswith(";")]
    assert len(learned) == 1 and target in learned[0], e.stdout
    r = box.run(["sh", "-c", '"%s"; cat %s' % (target, outside)], policy=pol)
    assert "RAN" in r.stdout, r.stdout + r.stderr
    assert "TOPSECRET" not in r.stdout, r.stdout


def test_a_comma_in_a_refused_path_adds_no_host_rule(box):
    """Outside review: a refused `GET /x,evil.example,api.test:8080` was
    proposed as `allow = GET http://api.test:8080/x,evil.example,...`, which
    the reader splits into the rule and two whole-host allows (one lifts
    api.test's method and path rules).  A ',' in a path is written %2C now,
    and every proposed line is read back as one item; a path with "${" is
    written %24{, never expanded."""
    log = box.write("n.jsonl",
                    '{"event":"net.deny","proto":"http","host":"api.test","port":8080,'
                    '"method":"GET","path":"/x,evil.example,api.test:8080",'
                    '"reason":"GET /x,evil.example,api.test:8080 is not in [network] allow"}\n'
                    '{"event":"net.deny","proto":"http","host":"api.test","port":8080,'
                    '"method":"GET","path":"/y/${HOME}",'
                    '"reason":"GET /y/${HOME} is not in [network] allow"}\n'
                    '{"event":"net.deny","proto":"connect","host":"a b.test","port":443,'
                    '"reason":"not in [network] allow"}\n'
                    # "/" alone in a rule is every path (a review of the
                    # above): the request is only listed, and never the host
                    '{"event":"net.deny","proto":"http","host":"root.test","port":8080,'
                    '"method":"DELETE","path":"/",'
                    '"reason":"DELETE / is not in [network] allow"}\n')
    r = box.raw(["learn", "--from", log])
    assert r.returncode == 0, r.stderr
    assert ("allow = GET http://api.test:8080/x%2Cevil.example%2Capi.test:8080\n"
            in r.stdout), r.stdout
    assert "allow = GET http://api.test:8080/y/%24{HOME}\n" in r.stdout, r.stdout
    # a name no allow line takes is said, not proposed (it would make the
    # whole learned policy unreadable)
    assert "not proposed: a b.test:443: no allow line can hold it" in r.stdout, r.stdout
    assert "not proposed: root.test: a request no rule can name" in r.stdout, r.stdout
    assert "root.test" not in "".join(l for l in r.stdout.splitlines(True)
                                      if not l.startswith("#")), r.stdout
    pol = box.write("learned.ini", r.stdout)
    e = box.raw(["explain", "-p", pol])
    assert e.returncode == 0, e.stderr
    allows = [l for l in e.stdout.splitlines() if l.startswith("allow =")]
    assert len(allows) == 2, e.stdout
    assert not [l for l in allows if "evil.example" in l and "/x,evil" not in l], e.stdout


def test_learn_from_names_its_base_by_an_absolute_path(box):
    """Outside review: `learn --from LOG -p policies/base.ini` wrote the
    include as typed; the reader takes it relative to the learned file's
    directory, which is often the project, where the command may have put
    a policies/base.ini of its own."""
    os.makedirs(box.path("policies2"))
    base = box.write("policies2/base.ini", "[filesystem]\nread = /usr\n")
    log = box.write("empty.jsonl", "")
    r = box.raw(["learn", "--from", log, "-p", os.path.relpath(base, box.root)],
                cwd=box.root)
    assert r.returncode == 0, r.stderr
    assert "include = %s\n" % os.path.realpath(base) in r.stdout, r.stdout


def test_learn_proposes_the_request_a_path_rule_refused(box):
    """A request a host's method and path rules did not allow is proposed as
    that request's own rule, never the whole host; a '*' in its path is a
    literal there (%2A), not a glob."""
    log = box.write("n.jsonl",
                    '{"event":"net.deny","proto":"https","host":"api.test","port":443,'
                    '"method":"POST","path":"/repos/a/issues",'
                    '"reason":"POST /repos/a/issues is not in [network] allow"}\n'
                    '{"event":"net.deny","proto":"http","host":"api.test","port":8080,'
                    '"method":"GET","path":"/x/*/y",'
                    '"reason":"GET /x/%2A/y is not in [network] allow"}\n')
    r = box.raw(["learn", "--from", log])
    assert r.returncode == 0, r.stderr
    assert "allow = POST https://api.test/repos/a/issues" in r.stdout, r.stdout
    assert "allow = GET http://api.test:8080/x/%2A/y" in r.stdout, r.stdout
    assert "allow = api.test" not in r.stdout, r.stdout
    # what it proposes is a policy that reads back
    pol = box.write("learned.ini", r.stdout)
    c = box.raw(["check", pol])
    assert c.returncode == 0, c.stdout + c.stderr


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
    for d in ("", ".cache", ".cache/tool", ".cache/pytest", ".ssh"):
        os.makedirs(os.path.join(home, d), exist_ok=True)
    box.write("home/.ssh/id_rsa", "SECRETKEY\n", mode=0o600)
    box.write("home/notes.txt", "NOTES\n")
    if box.user == "nobody":
        subprocess.run(["chown", "-R", "%d:%d" % (NOBODY, NOBODY), home], check=True)
    return home


def own_home(box):
    """As root, a home in the box for a learn run whose test is not about
    the home: a run widens the home for writing while it learns, and the
    walk of that grant for repositories (protect.c) then walks all of
    /root, whatever the machine keeps there (~0.3 s of CPU a run on a
    developer's).  Unprivileged the home is the working directory, as
    before."""
    if box.user != "root":
        return None
    home = box.path("home")
    os.makedirs(home, exist_ok=True)
    return {"HOME": home}


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
    # each grant says what used it, and which program
    assert re.search(r"; create %s/.cache/tool/a by mkdir .*\nwrite = %s/.cache/tool\n"
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
    r = box.raw(["learn", "--force", "-o", new, "-p", box.policy("")] + cmd, env=own_home(box))
    assert r.returncode == 0, r.stderr
    assert os.path.exists(marker)
    assert open(new).read().startswith("; Learned by ringfence learn"), open(new).read()


# ---- a real workflow, learned: clone over HTTPS, install from an index, test --

API_KEY = "sk-learn-0123456789abcdefABCDEF"

WORKFLOW = (
    "set -e; "
    "git -c http.sslCAInfo=%(ca)s clone -q https://good.test/repo-learn.git proj; "
    "cd proj; "
    "/usr/bin/python3 -m pip install -q --disable-pip-version-check "
    "--index-url http://other.test:8080/simple/ --trusted-host other.test "
    "--target deps learnpkg; "
    "PYTHONPATH=deps /usr/bin/python3 -m pytest -q -o cache_dir=$HOME/.cache/pytest; "
    "curl -sS -o /dev/null -H \"Authorization: Bearer $LEARN_API_KEY\" "
    "http://other.test:8080/hello; "
    "echo workflow-ok")


def serve_project(world):
    """In the world's web root: a repository with a test that imports
    learnpkg, and a package index holding learnpkg as a wheel."""
    if os.path.exists(os.path.join(world.www, "repo-learn.git")):
        return
    quiet = dict(check=True, capture_output=True)
    src = os.path.join(world.dir, "learnsrc")
    os.makedirs(src)
    with open(os.path.join(src, "test_app.py"), "w") as f:
        f.write("import learnpkg\n\n\ndef test_answer():\n    assert learnpkg.answer() == 42\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    subprocess.run(git + ["init", "-q", src], **quiet)
    subprocess.run(git + ["-C", src, "add", "test_app.py"], **quiet)
    subprocess.run(git + ["-C", src, "commit", "-qm", "one"], **quiet)
    bare = os.path.join(world.www, "repo-learn.git")
    subprocess.run(git + ["clone", "-q", "--bare", src, bare], **quiet)
    subprocess.run(git + ["-C", bare, "update-server-info"], **quiet)
    # a wheel is a zip with its metadata and a RECORD
    name = "learnpkg-1.0-py3-none-any.whl"
    files = {
        "learnpkg/__init__.py": "def answer():\n    return 42\n",
        "learnpkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: learnpkg\nVersion: 1.0\n",
        "learnpkg-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\n"
                                        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = ""
    for n, body in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(body.encode()).digest())
        record += "%s,sha256=%s,%d\n" % (n, digest.rstrip(b"=").decode(), len(body))
    files["learnpkg-1.0.dist-info/RECORD"] = record + "learnpkg-1.0.dist-info/RECORD,,\n"
    os.makedirs(os.path.join(world.www, "packages"))
    with zipfile.ZipFile(os.path.join(world.www, "packages", name), "w") as z:
        for n, body in files.items():
            z.writestr(n, body)
    os.makedirs(os.path.join(world.www, "simple", "learnpkg"))
    with open(os.path.join(world.www, "simple", "learnpkg", "index.html"), "w") as f:
        f.write('<html><body><a href="/packages/%s">%s</a></body></html>\n' % (name, name))
    for root, dirs, names in os.walk(world.www):
        for n in dirs + names:
            os.chmod(os.path.join(root, n), 0o755 if n in dirs else 0o644)


# two of the four settings (each a few seconds of CI): root with namespaces
# and the namespace isolation, unprivileged without namespaces through the
# broker; the file tests above run all four
LEARN_MODES = [("root", "namespace", "on"), ("nobody", "broker", "off")]


@pytest.fixture(params=LEARN_MODES, ids=["root-ns", "user-broker-nons"])
def lbox(request, world):
    b = NetBox(world, *request.param)
    serve_project(world)
    yield b
    b.cleanup()


def test_learn_a_workflow_then_run_it_under_the_learned_policy(lbox):
    """git clone over HTTPS, pip install from an index, pytest, and an API
    call carrying a key: learned in one run, the learned policy then runs
    the same workflow; it grants the tool's state directory and the hosts
    used and nothing wider (no home, no /, no secret), and proposes the key
    as a credential for the one host it went to, without its value."""
    box = lbox
    home = home_for(box)
    env = {"HOME": home, "LEARN_API_KEY": API_KEY}
    base = box.net_policy("", "[process]\nenv_keep = PATH HOME LANG LEARN_API_KEY\n")
    script = WORKFLOW % {"ca": box.path("bin", "ca.pem")}
    # the control: the base alone reaches no host
    r = box.sh(script, base, env=env)
    assert r.returncode != 0 and "workflow-ok" not in r.stdout, r.stdout + r.stderr
    shutil.rmtree(os.path.join(box.work, "proj"), ignore_errors=True)

    new = os.path.join(box.work, "learned.ini")
    r = box.raw(["learn", "-o", new, "-p", base, "--", "sh", "-c", script], env=env,
                timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout and "workflow-ok" in r.stdout, r.stdout + r.stderr
    with open(new) as f:
        text = f.read()
    lines = [l for l in text.splitlines() if not l.startswith(";")]
    assert "allow = good.test:443" in lines and "allow = other.test:8080" in lines, text
    assert [l for l in lines if l.startswith("allow")] == \
        ["allow = good.test:443", "allow = other.test:8080"], text
    assert_nothing_wide(box, text, home)
    # beyond the project (the working directory, which the base grants)
    # only the tools' state in the home (pytest's cache, which the workflow
    # keeps there; pip's, when pip keeps one)
    assert ("write", home + "/.cache/pytest") in grants(text), text
    for key, path in grants(text):
        assert path.startswith(home + "/."), (key, path, text)
    # the key: a credential to complete, bound to the one host it went to;
    # its value is nowhere in the file
    assert "; [credential learn_api_key]\n; env = LEARN_API_KEY\n" in text, text
    assert "; hosts = other.test:8080\n" in text, text
    assert "plaintext = yes" in text, text
    assert API_KEY not in text and API_KEY[8:24] not in text
    assert box.raw(["check", new]).returncode == 0

    shutil.rmtree(os.path.join(box.work, "proj"))
    open(box.audit, "w").close()
    r = box.sh(script, new, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout and "workflow-ok" in r.stdout, r.stdout + r.stderr
    assert box.events("net.deny") == []


def test_learn_run_names_made_by_the_command_stay_in_comments(box):
    """The command names the files it makes: a name holding a newline and
    a [network] section, or a ';', becomes no policy line (it is listed in
    a comment, on one line); a plain name beside them is granted (the
    control).  So does one holding "${": the reader would expand it into a
    path the run never used, or refuse the whole policy for an undefined
    name (outside review)."""
    home = home_for(box)
    new = os.path.join(box.work, "new.ini")
    script = ("touch \"$HOME/.evil\n[network]\nallow = evil.example:443\" "
              "\"$HOME/.semi;colon\" \"$HOME/.plain\" \"$HOME\"/'.evil${CWD}' \"$HOME\"/'.evil${NOPE}'; "
              "echo made")
    r = box.raw(["learn", "-o", new, "-p", box.policy(""), "--", "sh", "-c", script],
                env={"HOME": home})
    assert r.returncode == 0 and "made" in r.stdout, r.stdout + r.stderr
    with open(new) as f:
        text = f.read()
    lines = [l for l in text.splitlines() if not l.startswith(";")]
    assert [l for l in lines if "evil" in l or "semi" in l] == [], text
    assert "[network]" not in lines, text
    assert ("write", home + "/.plain") in grants(text), text
    assert re.search(r"^; not proposed: .*\.evil\?\[network\]\?allow", text, re.M), text
    assert box.raw(["check", new]).returncode == 0


def test_learn_run_without_a_base_copies_the_default(box):
    """Without -p the learned policy is the built-in default, copied, plus
    what the run needed: complete on its own (check accepts it) and the
    command runs under it."""
    home = home_for(box)
    if box.namespaces == "off" or box.user == "root":
        # the default has neither namespaces = off nor run_as: a base
        # that says so is what the other tests use
        pytest.skip("the built-in default as it is: namespaces auto, no run_as")
    new = os.path.join(box.work, "new.ini")
    script = "mkdir -p $HOME/.cache/tool/x && echo made"
    r = box.raw(["learn", "-o", new, "--", "sh", "-c", script], env={"HOME": home})
    assert r.returncode == 0 and "made" in r.stdout, r.stdout + r.stderr
    with open(new) as f:
        text = f.read()
    assert "include" not in text and "deny  = ~/.ssh" in text, text
    assert ("write", home + "/.cache/tool") in grants(text), text
    assert box.raw(["check", new]).returncode == 0
    shutil.rmtree(os.path.join(home, ".cache/tool/x"))
    r = box.run(["sh", "-c", script], policy=new, env={"HOME": home})
    assert "made" in r.stdout and os.path.isdir(os.path.join(home, ".cache/tool/x")), \
        r.stdout + r.stderr


def test_learn_without_a_base_reaches_hosts_and_keys_to_two_hosts_are_no_credential(lbox):
    """Without -p the default is copied with its mode = none commented out
    and mode = proxy learned; a key sent to one host is proposed, one sent
    to two is not (named in a comment); -n keeps the network off while
    learning (the control: the same command then reaches nothing)."""
    box = lbox
    home = home_for(box)
    if box.namespaces == "off":
        pytest.skip("the built-in default as it is: namespaces auto")
    env = {"HOME": home, "ONE_API_KEY": API_KEY, "TWO_API_KEY": API_KEY[::-1]}
    script = ("curl -sS -o /dev/null -H \"X-Key: $ONE_API_KEY\" http://other.test:8080/hello && "
              "curl -sS -o /dev/null -H \"X-Key: $TWO_API_KEY\" http://other.test:8080/hello && "
              "curl -sS -o /dev/null -H \"X-Key: $TWO_API_KEY\" http://good.test/hello && "
              "echo reached")
    new = os.path.join(box.work, "new.ini")
    base = box.write("keys.ini", "[sandbox]\ninclude = %s\n[process]\n"
                     "env_keep = ONE_API_KEY TWO_API_KEY\n" % box.default)
    r = box.raw(["learn", "-o", new, "-p", base, "-n", "--", "sh", "-c", script],
                env=env)
    assert "reached" not in r.stdout, r.stdout + r.stderr  # -n: no network while learning
    r = box.raw(["learn", "--force", "-o", new, "--", "sh", "-c",
                 "curl -sS -o /dev/null http://other.test:8080/hello && echo reached"], env=env)
    assert r.returncode == 0 and "reached" in r.stdout, r.stdout + r.stderr
    with open(new) as f:
        text = f.read()
    assert "; (ringfence learn: [network] below sets the mode) mode = none" in text, text
    assert "\nmode = proxy\nallow = other.test:8080\n" in text.replace("; 1 connection\n", ""), text
    assert box.raw(["check", new]).returncode == 0
    r = box.raw(["learn", "--force", "-o", new, "-p", base, "--", "sh", "-c", script], env=env)
    assert r.returncode == 0 and "reached" in r.stdout, r.stdout + r.stderr
    with open(new) as f:
        text = f.read()
    assert "; [credential one_api_key]\n" in text, text
    assert "credential two_api_key" not in text, text
    assert "not proposed as a credential: $TWO_API_KEY went to more than one host" in text, text
    assert API_KEY not in text and API_KEY[::-1] not in text


def test_learn_run_proposes_exec_where_only_write_was_granted(box):
    """A tool the command runs from the working directory, which the base
    grants for writing only: learning proposes exec there (a write grant
    never executes), and the command runs it under the learned policy;
    the base alone refuses it (the control)."""
    tool = box.write("work/tool.sh", "#!/bin/sh\necho tool-ran\n", mode=0o755,
                     owner=NOBODY if box.user == "nobody" else None)
    base = box.policy("")
    r = box.run([tool], policy=base)
    assert "tool-ran" not in r.stdout, r.stdout + r.stderr
    new = os.path.join(box.work, "new.ini")
    r = box.raw(["learn", "-o", new, "-p", base, "--", tool], env=own_home(box))
    assert r.returncode == 0 and "tool-ran" in r.stdout, r.stdout + r.stderr
    with open(new) as f:
        text = f.read()
    # unprivileged the working directory is also the home here: the
    # file itself, never the home, is granted
    want = tool if box.user == "nobody" else box.work
    assert ("exec", want) in grants(text), text
    assert ("write", box.work) not in grants(text), text  # the base has it
    r = box.run([tool], policy=new)
    assert r.returncode == 0 and "tool-ran" in r.stdout, r.stdout + r.stderr


def test_learn_run_does_not_grant_a_directory_it_only_listed(box):
    """Outside review: `learn -o -- ls /var` proposed `read = /var`, under
    which the command read a root-only file it never opened while
    learning: a listing uses names only, and a read grant gives every file
    beneath.  A directory only listed is said, not proposed; one whose
    file was read is proposed (the control), and the learned policy reads
    that file and not the other directory's."""
    # outside /tmp, which is private while learning with namespaces
    top = tempfile.mkdtemp(prefix="rf-learn-", dir="/var/tmp")
    os.chmod(top, 0o755)
    try:
        learn_listing(box, top)
    finally:
        shutil.rmtree(top)


def learn_listing(box, top):
    listed = os.path.join(top, "listed")
    read = os.path.join(top, "read")
    for d in (listed, read):
        os.mkdir(d)
    for path, text in ((listed + "/secret", "TOPSECRET\n"), (read + "/f", "wanted\n")):
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
    base = box.policy("")
    new = os.path.join(box.work, "new.ini")
    r = box.raw(["learn", "-o", new, "-p", base, "--", "sh", "-c",
                 "ls %s; cat %s/f" % (listed, read)], env=own_home(box))
    assert r.returncode == 0 and "secret" in r.stdout and "wanted" in r.stdout, \
        r.stdout + r.stderr
    with open(new) as f:
        text = f.read()
    assert ("read", read) in grants(text), text
    assert not [g for g in grants(text) if listed.startswith(g[1] + "/") or g[1] == listed], text
    assert re.search(r"^; not proposed: %s .*only listed" % re.escape(listed), text, re.M), text
    r = box.run(["sh", "-c", "cat %s/f %s/secret" % (read, listed)], policy=new)
    assert "wanted" in r.stdout and "TOPSECRET" not in r.stdout, r.stdout + r.stderr


def test_learn_run_never_grants_the_home_or_root_however_the_command_asks(box):
    """The command lists / and its home, fills four directories of the
    home, and reaches for the secrets: each directory is its own grant,
    the home and / are listed as not proposed, nothing covers a secret."""
    home = home_for(box)
    new = os.path.join(box.work, "new.ini")
    script = ("ls / >/dev/null; ls -a $HOME >/dev/null; "
              "for d in a b c d; do mkdir -p $HOME/$d/deep && echo x > $HOME/$d/deep/f; done; "
              "cat $HOME/.ssh/id_rsa; ls $HOME/.ssh; echo over")
    r = box.raw(["learn", "-o", new, "-p", box.policy(""), "--", "sh", "-c", script],
                env={"HOME": home})
    assert r.returncode == 0 and "over" in r.stdout, r.stdout + r.stderr
    assert "SECRETKEY" not in r.stdout
    with open(new) as f:
        text = f.read()
    assert_nothing_wide(box, text, home)
    for d in "abcd":
        assert ("write", "%s/%s" % (home, d)) in grants(text), text
    # listed, not granted (without namespaces reading them is refused even
    # while learning: the grants around the deny paths are split)
    for p in (home, "/"):
        assert ("; not proposed: %s (read %s by ls)" % (p, p) in text or
                "; refused while learning, not proposed: read %s:" % p in text), text
    assert box.raw(["check", new]).returncode == 0


def test_learn_run_output_is_out_of_the_commands_reach(box):
    """-o names a directory the command may write.  The command swaps it for
    a symlink to another directory and plants a file under the output's
    name there: the policy still lands in the directory named at start,
    never through the symlink; and a file the command makes under the
    output's own name is not replaced without --force."""
    out_dir = os.path.join(box.work, "out")
    victim = os.path.join(box.work, "victim")
    for d in (out_dir, victim):
        os.mkdir(d)
        if box.user == "nobody":
            os.chown(d, NOBODY, NOBODY)
    new = os.path.join(out_dir, "new.ini")
    swap = ("mv %(o)s %(o)s.moved && ln -s %(v)s %(o)s && ls -a %(o)s.moved > %(w)s/seen && "
            "echo swapped" % {"o": out_dir, "v": victim, "w": box.work})
    r = box.raw(["learn", "-o", new, "-p", box.policy(""), "--", "sh", "-c", swap],
                env=own_home(box))
    assert r.returncode == 0 and "swapped" in r.stdout, r.stdout + r.stderr
    assert os.listdir(victim) == [], os.listdir(victim)
    with open(os.path.join(out_dir + ".moved", "new.ini")) as f:
        assert f.read().startswith("; Learned by ringfence learn")
    # nothing named was there for the command to see or replace meanwhile
    with open(os.path.join(box.work, "seen")) as f:
        assert f.read().split() == [".", ".."]
    # the output's own name, made by the command
    new = os.path.join(box.work, "mine.ini")
    plant = "echo '[network]' > %s; echo planted" % new
    r = box.raw(["learn", "-o", new, "-p", box.policy(""), "--", "sh", "-c", plant],
                env=own_home(box))
    assert r.returncode == 125 and "made during the run" in r.stderr, r.stdout + r.stderr
    assert open(new).read() == "[network]\n"
    os.unlink(new)
    r = box.raw(["learn", "--force", "-o", new, "-p", box.policy(""), "--", "sh", "-c", plant],
                env=own_home(box))
    assert r.returncode == 0, r.stdout + r.stderr
    assert open(new).read().startswith("; Learned by ringfence learn")


def test_learn_intercept_sees_a_key_sent_over_https(lbox):
    """A key that goes only over HTTPS: the proxy cannot see it in an
    opaque tunnel, so plain learning proposes no credential (the control);
    learn --intercept reads TLS with a CA made for the run (trusted through
    the bundle; the caller's CA still verifies the upstream) and proposes
    it, bound to that one host and not plaintext."""
    box = lbox
    home = home_for(box)
    env = {"HOME": home, "LEARN_API_KEY": API_KEY, "SSL_CERT_FILE": box.path("bin", "ca.pem")}
    base = box.net_policy("", "[process]\nenv_keep = PATH HOME LANG LEARN_API_KEY\n")
    script = ("curl -sS -o /dev/null -w '%{http_code}\\n' "
              "-H \"Authorization: Bearer $LEARN_API_KEY\" https://good.test/hello")
    texts = []
    for opts in ([], ["--intercept"]):
        new = os.path.join(box.work, "learned%d.ini" % len(opts))
        r = box.raw(["learn", "-o", new] + opts + ["-p", base, "--", "sh", "-c", script],
                    env=env, timeout=120)
        assert r.returncode == 0 and r.stdout == "200\n", r.stdout + r.stderr
        with open(new) as f:
            texts.append(f.read())
    assert "[credential" not in texts[0], texts[0]
    assert "; [credential learn_api_key]\n; env = LEARN_API_KEY\n" in texts[1], texts[1]
    assert "; hosts = good.test:443\n" in texts[1] and "plaintext" not in texts[1], texts[1]
    assert API_KEY not in texts[1]
    # the learned policy runs it (no interception without a credential)
    r = box.sh(script, os.path.join(box.work, "learned1.ini"), env=env)
    assert r.stdout == "200\n", r.stdout + r.stderr


def test_learn_intercept_needs_o(box):
    r = box.raw(["learn", "--intercept", "--from", box.path("none.jsonl")])
    assert r.returncode == 125 and "--intercept goes with -o" in r.stderr, r.stderr


def test_learn_from_never_proposes_the_root_a_home_or_the_state_directory(box):
    """Outside review: one refused `echo > /x` from the command became
    `write = /` (a create is granted as its directory), `echo > ~/x`
    `write = ~`, and the state directory was proposed too.  They are
    listed, not proposed, as learn -o never grants them; a directory
    beneath the home is (the control).  The lines are as --trace logs
    them."""
    def deny(access, path, value, key="write"):
        return ('{"ts":"2026-12-05T02:06:38.916Z","event":"fs.deny","pid":1,'
                '"access":"%s","path":"%s","caller":2,"exe":"/usr/bin/dash",'
                '"call":"openat","key":"filesystem.%s","value":"%s",'
                '"reason":"no grant covers it"}\n' % (access, path, key, value))
    w, pbin = box.path("w"), box.path("pbin")
    os.mkdir(w)
    os.mkdir(pbin)
    base = box.write("base.ini", "[filesystem]\nwrite = %s\n" % w)
    log = box.write("f.jsonl",
                    deny("create", "/rf-learn-x", "/") +
                    deny("create", "/root/rf-learn-x", "/root") +
                    deny("create", "/root/.local/state/ringfence/x",
                         "/root/.local/state/ringfence") +
                    # a review of the above: a top directory, the system's
                    # files, and exec where the base's write grant runs
                    # nothing (the command would write it, then run it)
                    deny("create", "/etc/rf-learn-x", "/etc") +
                    deny("create", "/usr/lib/rf-learn-x", "/usr/lib") +
                    deny("execute", w + "/tool", w + "/tool", key="exec") +
                    # a review of that: dpkg's scripts, a directory on PATH
                    deny("create", "/var/lib/dpkg/info/rf.postinst", "/var/lib/dpkg/info") +
                    deny("write", pbin + "/python3", pbin + "/python3") +
                    # and exec where the same log asks for writing
                    deny("create", "/srv/rf-tools/new", "/srv/rf-tools") +
                    deny("execute", "/srv/rf-tools/x", "/srv/rf-tools/x", key="exec") +
                    deny("create", "/root/proj/x", "/root/proj"))
    r = box.raw(["learn", "--from", log, "-p", base],
                env={"PATH": "/usr/bin:/bin:%s" % pbin})
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l and not l.startswith("#")]
    assert lines == ["[sandbox]", "include = %s" % base, "[filesystem]",
                     "write = /srv/rf-tools", "write = /root/proj"], r.stdout
    for path in ("/rf-learn-x", "/root/rf-learn-x", "/root/.local/state/ringfence/x",
                 "/etc/rf-learn-x", "/usr/lib/rf-learn-x", w + "/tool",
                 "/var/lib/dpkg/info/rf.postinst", pbin + "/python3", "/srv/rf-tools/x"):
        assert "# not proposed: %s: " % path in r.stdout, r.stdout
