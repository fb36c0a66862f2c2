# SPDX-License-Identifier: MIT
"""ringfence's own messages reach the operator's terminal, and name what
the sandbox chose: a file it made, moved aside and said.  A name holding a
terminal's escape sequence (a window title, OSC 52's clipboard write, a
screen clear; C1's CSI in UTF-8) went out as it was, for the terminal to
obey (found while reading how the reported paths are printed).
Every message now writes control bytes as \\xNN; UTF-8 stays."""
import os


def test_a_name_made_in_the_sandbox_cannot_drive_the_terminal(box):
    # a repository deeper than the walk at start looks: what it holds is
    # said at exit, by name; a hook named with escape sequences
    name = (r"x\033]0;PWNED\007\033]52;c;ZWNobyBwd25lZA==\007\033[2J\302\23331my\303\251")
    script = ("mkdir -p a/b/c/d && git init -q a/b/c/d && "
              "printf '#!/bin/sh\\n' > \"a/b/c/d/.git/hooks/$(printf '%s')\"" % name)
    r = box.run(["sh", "-c", script], policy=box.policy(""))
    assert r.returncode == 0, r.stderr
    err = r.stderr.encode("utf-8", "surrogateescape")
    # the control: the hook was made, and said by its name
    assert b"(a hook)" in err and b"hooks/x" in err, err
    for raw in (b"\x1b", b"\x07", b"\xc2\x9b"):
        assert raw not in err, err
    assert b"hooks/x\\x1b]0;PWNED\\x07\\x1b]52;c;" in err, err
    assert b"\\xc2\\x9b31my\xc3\xa9" in err, err
