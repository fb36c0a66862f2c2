# SPDX-License-Identifier: MIT
"""The private /tmp's removal, attacked by the command's user from outside
(outside review).  Without a mount namespace the private /tmp is a
directory of the host's /tmp, made by root and given to the `run_as` user
so that the command may write it; root removes it at the end.  That
removal walked by path names (nftw(), unlink(path)): another process of the
same user, outside the sandbox, waited for the first unlink in a
directory of it and exchanged that directory for a link to one of root's
(tests/escape/tmp_swap.c), and root went on unlinking root's files there.

Hole (FAIL on dad666c): test_a_swapped_directory_leads_the_removal_nowhere
loses most of the victim's files.  The controls: the exchange was made,
and the private /tmp is gone afterwards.
"""
import glob
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import NOBODY

N = 3000


def test_a_swapped_directory_leads_the_removal_nowhere(rootbox):
    box = rootbox
    victim = tempfile.mkdtemp(prefix="rf-victim-", dir="/root")
    os.chmod(victim, 0o700)
    try:
        for i in range(N):
            open(os.path.join(victim, "v%05d" % i), "w").close()
        os.chown(box.work, NOBODY, NOBODY)
        said = os.path.join(box.work, "tmpdir")
        pol = box.policy("[sandbox]\ninclude = %s\nnamespaces = off\n"
                         "[filesystem]\nexec = %s\nprivate_tmp = yes\n"
                         "[process]\nrun_as = nobody\n" % (box.default, box.bin), base=False)
        racer = subprocess.Popen(
            ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
             os.path.join(box.bin, "tmp_swap"), said, victim, str(N)])
        r = box.run(["sh", "-c", 'echo "$TMPDIR" > %s; i=0; while [ ! -e "$TMPDIR/ready" ] '
                     '&& [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; echo ended' % said],
                    policy=pol)
        assert "ended" in r.stdout, r.stdout + r.stderr
        assert racer.wait(timeout=60) == 0, "the exchange was not made"
        with open(said) as f:
            private = f.read().strip()
        assert private.startswith("/tmp/ringfence.") and not os.path.lexists(private), private
        left = len(os.listdir(victim))
        assert left == N, "root's removal of the private /tmp unlinked %d of root's files" % (
            N - left)
    finally:
        shutil.rmtree(victim, ignore_errors=True)
        for d in glob.glob("/tmp/rf-tmp-swap-*"):
            shutil.rmtree(d, ignore_errors=True)


def test_an_audit_log_another_user_made_or_a_fifo_is_refused(rootbox):
    """Outside review: root's run appended its events to a log file another
    user had made beforehand in a shared directory (0666: that user read
    them, and could add lines for `learn --from` to propose), and a FIFO
    planted at the log's path blocked the start forever.  Both are refused
    now, at once, in one line; the caller's own log is appended to (the
    control)."""
    box = rootbox
    shared = tempfile.mkdtemp(prefix="rf-shared-", dir=box.root)
    os.chmod(shared, 0o1777)
    theirs = os.path.join(shared, "audit.jsonl")
    fifo = os.path.join(shared, "fifo.jsonl")
    ours = os.path.join(shared, "ours.jsonl")
    subprocess.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
                    "sh", "-c", "umask 0; : > %s; mkfifo %s" % (theirs, fifo)], check=True)
    with open(ours, "w") as f:
        f.write("")
    os.chmod(ours, 0o600)
    for log, words in ((theirs, "must be the caller's"), (fifo, "FIFO")):
        pol = box.policy("[log]\nfile = %s\n" % log, name="log.ini")
        r = box.run(["sh", "-c", "echo started"], policy=pol, timeout=20)
        assert r.returncode == 125 and "started" not in r.stdout, r.stdout + r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and words in r.stderr, r.stderr
    assert os.path.getsize(theirs) == 0
    pol = box.policy("[log]\nfile = %s\n" % ours, name="log.ini")
    r = box.run(["sh", "-c", "echo started"], policy=pol, timeout=20)
    assert "started" in r.stdout and os.path.getsize(ours) > 0, r.stderr


def test_a_deep_chain_left_unremovable_does_not_hold_the_end(box):
    """A review of the descriptor walk above: its second pass went into
    every directory it could not remove, and each of those made two: a
    chain of N directories with something unremovable at its bottom cost
    2^N walks (18 took 28 s; 300, as root, never ended).  One pass now: a
    chain of 60 ends at once (the timeout is the liveness check, far above
    what it takes); what the command made unremovable is left, and said
    nowhere but here (the host may remove it)."""
    if box.namespaces != "off":
        pytest.skip("without a mount namespace only: the private /tmp is a host directory then")
    chain = "i=0; while [ $i -lt 60 ]; do mkdir d && cd d; i=$((i+1)); done; "
    r = box.run(["sh", "-c", 'cd "$TMPDIR" && echo "$TMPDIR" > %s/tmpdir && %s'
                 'mkdir ro && touch ro/f && chmod 500 ro && echo made'
                 % (box.work, chain)], policy=box.policy(""), timeout=60)
    assert "made" in r.stdout, r.stdout + r.stderr
    with open(os.path.join(box.work, "tmpdir")) as f:
        left = f.read().strip()
    if box.user == "root":
        assert not os.path.exists(left), left  # root removes even a 0500 directory
    subprocess.run(["chmod", "-R", "u+w", left], check=False)
    shutil.rmtree(left, ignore_errors=True)
