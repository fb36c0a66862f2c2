# SPDX-License-Identifier: MIT
"""ringfence's own messages reach the operator's terminal, and name what
the sandbox chose: a file it made, moved aside and said.  A name holding a
terminal's escape sequence (a window title, OSC 52's clipboard write, a
screen clear; C1's CSI in UTF-8) went out as it was, for the terminal to
obey (found while reading how the reported paths are printed).
Every message now writes control bytes as \\xNN; UTF-8 stays."""
import os
import subprocess

# what must not reach the terminal as it is: ESC, BEL, C1's CSI in UTF-8,
# and a right-to-left override (which shows the rest of a line reversed)
RAW = (b"\x1b", b"\x07", b"\xc2\x9b", b"\xe2\x80\xae")


def test_a_name_made_in_the_sandbox_cannot_drive_the_terminal(box):
    # a repository deeper than the walk at start looks: what it holds is
    # said at exit, by name; a hook named with escape sequences
    name = (r"x\033]0;PWNED\007\033]52;c;ZWNobyBwd25lZA==\007\033[2J\302\23331my\303\251\342\200\256hs.txt")
    script = ("mkdir -p a/b/c/d && git init -q a/b/c/d && "
              "printf '#!/bin/sh\\n' > \"a/b/c/d/.git/hooks/$(printf '%s')\"" % name)
    r = box.run(["sh", "-c", script], policy=box.policy(""))
    assert r.returncode == 0, r.stderr
    err = r.stderr.encode("utf-8", "surrogateescape")
    # the control: the hook was made, and said by its name
    assert b"(a hook)" in err and b"hooks/x" in err, err
    for raw in RAW:
        assert raw not in err, err
    assert b"hooks/x\\x1b]0;PWNED\\x07\\x1b]52;c;" in err, err
    assert b"\\xc2\\x9b31my\xc3\xa9\\xe2\\x80\\xaehs.txt" in err, err


# printf's octal: ESC, BEL, U+009B (CSI), U+202E (right-to-left override)
C1 = r"d\033]0;PWNED\007\302\2332J\342\200\256hs.txt"


def test_the_logs_and_learn_write_no_control_of_the_sandbox(box):
    """The same through --log - (its events), the audit log a `tail -f`
    shows as it grows, and `ringfence learn --from` reading it: a name the
    sandbox made with C1's CSI (valid UTF-8, which JSON kept) went out raw
    (found by an outside review of the messages' escaping)."""
    log = box.path("audit.jsonl")
    if box.user == "nobody":
        open(log, "w").close()
        os.chown(log, 65534, 65534)
    script = ("mkdir -p a/b/c/d && git init -q a/b/c/d && "
              "printf '#!/bin/sh\\n' > \"a/b/c/d/.git/hooks/$(printf '%s')\"; "
              "mkdir \"/usr/$(printf '%s')\" 2>/dev/null; true" % (C1, C1))
    r = box.run(["sh", "-c", script], policy=box.policy(""), opts=["--trace", "--log", log])
    live = box.run(["sh", "-c", script.replace("a/b/c/d", "e/f/g/h")], policy=box.policy(""),
                   opts=["--log", "-"])
    learned = box.raw(["learn", "--from", log])
    with open(log, "rb") as f:
        audit = f.read()
    # the controls: the names were made and reported
    assert b"protect." in audit and b"PWNED" in audit, audit[-400:]
    assert "PWNED" in live.stderr and "PWNED" in learned.stdout + learned.stderr, learned.stdout
    for name, data in (("audit", audit), ("live", live.stderr.encode("utf-8", "surrogateescape")),
                       ("learn", (learned.stdout + learned.stderr).encode("utf-8",
                                                                         "surrogateescape"))):
        for raw in RAW:
            assert raw not in data, (name, data[-600:])


def test_explain_writes_no_control_of_a_directory_name(box):
    """`ringfence explain` in a directory the sandbox named (${CWD} in the
    default's write grant) printed the name raw."""
    d = box.path("work", "w")
    os.mkdir(d)
    name = subprocess.run(["printf", C1], capture_output=True).stdout
    sub = os.path.join(d.encode(), name)
    os.mkdir(sub)
    if box.user == "nobody":
        os.chown(sub, 65534, 65534)
    r = box.raw(["explain", "-p", box.policy("")], cwd=sub.decode("utf-8", "surrogateescape"))
    out = r.stdout.encode("utf-8", "surrogateescape")
    assert b"PWNED" in out, r.stdout + r.stderr  # the control: the directory is named
    for raw in RAW:
        assert raw not in out, out
