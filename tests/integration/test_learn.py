# SPDX-License-Identifier: MIT
"""ringfence learn --from AUDIT.jsonl: the lines that would have allowed a
run's refusals, as a policy including the one the run used; what the policy
denies on purpose is never proposed.  The same command then runs under the
learned policy."""
import os

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
