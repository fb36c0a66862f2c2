# SPDX-License-Identifier: MIT
"""Attacks on the kernel-side confinement (seccomp, Landlock, mounts, the
attribute gate) found by an outside review, run in every mode."""
import fcntl
import os
import shutil
import struct
import tempfile

import pytest

from conftest import ATTEMPT, owner_of

# ext4's own numbers for the inode generation (the NFS file handle's
# generation): _IOR('f', 3, long) and _IOW('f', 4, long).  FS_IOC_SETVERSION
# (_IOW('v', 2, long)), which seccomp refuses, is only its old spelling: ext4
# takes both.
EXT4_IOC_GETVERSION = 0x80086603
EXT4_IOC_SETVERSION = 0x40086604


def generation(path):
    with open(path, "rb") as f:
        buf = fcntl.ioctl(f.fileno(), EXT4_IOC_GETVERSION, struct.pack("l", 0))
    return struct.unpack("l", buf)[0]


SET_GENERATION = ATTEMPT + r"""
import fcntl, struct
def setgen(path):
    with open(path, "rb") as f:
        fcntl.ioctl(f.fileno(), 0x40086604, struct.pack("l", 4242))
attempt("granted", lambda: setgen(sys.argv[1]))
attempt("outside", lambda: setgen(sys.argv[2]))
"""


@pytest.fixture
def ext4_dir():
    """A directory on an ext4 file system (the boxes live on a tmpfs),
    or a skip where there is none."""
    for base in ("/var/tmp", "/root", "/"):
        try:
            d = tempfile.mkdtemp(prefix="rf-kr-", dir=base)
        except OSError:
            continue
        os.chmod(d, 0o755)
        probe = os.path.join(d, "probe")
        open(probe, "w").close()
        try:
            generation(probe)
        except OSError:
            shutil.rmtree(d, ignore_errors=True)
            continue
        yield d
        shutil.rmtree(d, ignore_errors=True)
        return
    pytest.skip("no ext4 file system here to take EXT4_IOC_SETVERSION")


def test_ext4_generation_outside_the_write_grants(box, ext4_dir):
    """chattr's NFS generation: seccomp refuses FS_IOC_SETVERSION, but ext4
    takes EXT4_IOC_SETVERSION as well, with ownership alone (a command
    started as root owns the host's files).  Outside the write grants the
    generation must stay; inside them the same ioctl works (the control)."""
    uid = owner_of(box)
    rw, ro = os.path.join(ext4_dir, "rw"), os.path.join(ext4_dir, "ro")
    for d in (rw, ro):
        os.mkdir(d)
        os.chmod(d, 0o755)
        with open(os.path.join(d, "file"), "w") as f:
            f.write("x\n")
        for p in (d, os.path.join(d, "file")):
            os.chown(p, uid, uid)
    before = generation(os.path.join(ro, "file"))
    box.write("work/setgen.py", SET_GENERATION)
    pol = box.policy("""
        [filesystem]
        read = %s
        write = %s
        """ % (ro, rw))
    r = box.run(["/usr/bin/python3", "setgen.py", os.path.join(rw, "file"),
                 os.path.join(ro, "file")], policy=pol)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "granted ok" in r.stdout, r.stdout + r.stderr
    assert generation(os.path.join(rw, "file")) == 4242
    assert generation(os.path.join(ro, "file")) == before, r.stdout
    assert "outside ok" not in r.stdout, r.stdout
