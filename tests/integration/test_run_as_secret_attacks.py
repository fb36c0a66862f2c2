# SPDX-License-Identifier: MIT
"""A credential's file where the run_as user may change it (outside
review).  Root reads `source = file:PATH` before dropping to the run_as
user; PATH in that user's home (`~` is theirs) or a directory they may
write: they made it a link to a one-line file of root's, and the proxy
sent root's file to the bound host in the placeholder's stead.

Hole (FAIL on dad666c): test_a_link_the_user_made_to_a_file_of_roots
(the run starts); test_a_link_chain_or_an_acl_does_not_hide_the_users_hand
on b644227 (a second review).  Controls: the user's own file there, and root's file
where only root writes, are read and the run starts.
"""
import os
import shutil
import struct
import subprocess
import tempfile

from conftest import NOBODY

POLICY = """[sandbox]
include = %s
[network]
mode = proxy
allow = example.test
[credential tok]
env = TOK
source = file:%s
hosts = example.test
[process]
run_as = nobody
"""


def run_with(box, path):
    pol = box.policy(POLICY % (box.default, path), name="cred.ini", base=False)
    return box.run(["sh", "-c", "echo started"], policy=pol, timeout=30)


def roots_secret():
    """A one-line file of root's, 0600, in a directory of root's alone."""
    private = tempfile.mkdtemp(prefix="rf-root-secret-", dir="/root")
    rootfile = os.path.join(private, "token")
    with open(rootfile, "w") as f:
        f.write("ROOTS-OWN-SECRET-0123456789\n")
    os.chmod(rootfile, 0o600)
    return private, rootfile


def test_a_link_the_user_made_to_a_file_of_roots(rootbox):
    box = rootbox
    private, rootfile = roots_secret()
    try:
        theirs = os.path.join(box.root, "theirs")
        os.mkdir(theirs)
        os.chown(theirs, NOBODY, NOBODY)
        os.chown(box.work, NOBODY, NOBODY)
        link = os.path.join(theirs, "token")
        os.symlink(rootfile, link)
        os.lchown(link, NOBODY, NOBODY)
        r = run_with(box, link)
        assert r.returncode == 125 and "started" not in r.stdout, r.stdout + r.stderr
        assert "run_as user may change it" in r.stderr, r.stderr
        # a hard link to it, where the file system allows one (it is
        # root's file: refused as well)
        os.unlink(link)
        try:
            os.link(rootfile, link)
        except OSError:
            pass
        else:
            r = run_with(box, link)
            assert r.returncode == 125 and "not that user's own" in r.stderr, r.stderr
            os.unlink(link)
        # the controls: the user's own file there, root's where only root writes
        with open(link, "w") as f:
            f.write("USERS-OWN-TOKEN-0123456789\n")
        os.chown(link, NOBODY, NOBODY)
        r = run_with(box, link)
        assert r.returncode == 0 and "started" in r.stdout, r.stderr
        r = run_with(box, rootfile)
        assert r.returncode == 0 and "started" in r.stdout, r.stderr
        # root's file beneath the sticky /tmp, in root's own directory
        intmp = box.write("roots-token", "ROOTS-TMP-TOKEN-0123456789\n", mode=0o600)
        r = run_with(box, intmp)
        assert r.returncode == 0 and "started" in r.stdout, r.stderr
    finally:
        shutil.rmtree(private, ignore_errors=True)


def acl_giving_write(uid):
    """A POSIX access ACL (system.posix_acl_access) of user::rwx,
    user:UID:rwx, group::r-x, mask::rwx, other::r-x."""
    def e(tag, perm, i):
        return struct.pack("<HHI", tag, perm, i)
    return (struct.pack("<I", 2) + e(1, 7, 0xffffffff) + e(2, 7, uid) + e(4, 5, 0xffffffff) +
            e(0x10, 7, 0xffffffff) + e(0x20, 5, 0xffffffff))


def test_a_link_chain_or_an_acl_does_not_hide_the_users_hand(rootbox):
    """A second review: root's own link (in root's directory) to the user's
    link to root's file, and a directory of root's whose ACL gives the
    user write (mode bits 0755) holding a link of root's name that the user
    may replace: both read root's file.  Each is refused now."""
    box = rootbox
    private, rootfile = roots_secret()
    try:
        os.chown(box.work, NOBODY, NOBODY)
        etc = os.path.join(box.root, "etc-rf")
        theirs = os.path.join(box.root, "theirs")
        os.mkdir(etc, 0o755)
        os.mkdir(theirs)
        os.chown(theirs, NOBODY, NOBODY)
        users = os.path.join(theirs, "token")
        os.symlink(rootfile, users)
        os.lchown(users, NOBODY, NOBODY)
        os.symlink(users, os.path.join(etc, "token"))
        r = run_with(box, os.path.join(etc, "token"))
        assert r.returncode == 125 and "started" not in r.stdout, r.stdout + r.stderr
        shared = os.path.join(box.root, "shared")
        os.mkdir(shared, 0o755)
        os.setxattr(shared, "system.posix_acl_access", acl_giving_write(NOBODY))
        ok = subprocess.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                             "--clear-groups", "touch", os.path.join(shared, "canwrite")])
        assert ok.returncode == 0, "the ACL did not take"
        os.symlink(private, os.path.join(shared, "sub"))  # root's own link there
        r = run_with(box, os.path.join(shared, "sub", "token"))
        assert r.returncode == 125 and "started" not in r.stdout, r.stdout + r.stderr
    finally:
        shutil.rmtree(private, ignore_errors=True)
