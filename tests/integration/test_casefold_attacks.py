# SPDX-License-Identifier: MIT
"""A write grant on a file system that folds case (vfat, exFAT, NTFS,
SMB, WSL's drive mounts, a casefolded ext4 directory).

Hole (an outside review; FAIL on d9486ed, every mode): the gates, the
watch and the checks at exit judge protected names by their bytes, and
there `.git/CONFIG` is `.git/config`: without namespaces the file gate
let the sandbox append a core.fsmonitor to .git/config through that
spelling (the host's git then ran it), and make `.ENVRC`, `.MCP.JSON`,
`.VSCODE`, none moved aside at exit.  Now such a grant is refused under
strict (exit 125, one line naming it), and said under best-effort.

Here an exFAT image through FUSE (Debian's exfat-fuse), as root: the
suite installs it (.ci/run); without it, or without loop devices, the
tests skip.  Control: the same policy on the case-sensitive /tmp runs.
"""
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import IS_ROOT


@pytest.fixture(scope="module")
def exfat():
    if not IS_ROOT or not shutil.which("mkfs.exfat") or not shutil.which("mount.exfat-fuse"):
        pytest.skip("needs root, exfatprogs and exfat-fuse")
    d = tempfile.mkdtemp(prefix="rf-exfat-", dir="/tmp")
    os.chmod(d, 0o755)
    img, mnt = os.path.join(d, "img"), os.path.join(d, "mnt")
    os.mkdir(mnt)
    with open(img, "wb") as f:
        f.truncate(32 << 20)
    subprocess.run(["mkfs.exfat", img], check=True, capture_output=True)
    loop = subprocess.run(["losetup", "-f", "--show", img], capture_output=True, text=True)
    if loop.returncode != 0:
        shutil.rmtree(d)
        pytest.skip("no loop device: " + loop.stderr)
    dev = loop.stdout.strip()
    m = subprocess.run(["mount.exfat-fuse", "-o", "allow_other,uid=65534,gid=65534,umask=0",
                        dev, mnt], capture_output=True, text=True)
    if m.returncode != 0:
        subprocess.run(["losetup", "-d", dev])
        shutil.rmtree(d)
        pytest.skip("cannot mount exFAT: " + m.stderr)
    yield mnt
    subprocess.run(["umount", mnt])
    subprocess.run(["losetup", "-d", dev])
    shutil.rmtree(d, ignore_errors=True)


def project_on(box, base, name):
    proj = os.path.join(base, name)
    os.makedirs(os.path.join(proj, ".git"))
    with open(os.path.join(proj, ".git", "config"), "w") as f:
        f.write("[core]\n\trepositoryformatversion = 0\n")
    with open(os.path.join(proj, "f"), "w") as f:
        f.write("x\n")
    if box.user == "nobody":
        subprocess.run(["chown", "-R", "65534:65534", proj], check=True)
    return proj


PLANT = ("printf '[core]\\n\\tfsmonitor = evil\\n' >> .git/CONFIG; "
         "echo export X=1 > .ENVRC; mkdir .VSCODE; echo ran")


def test_a_grant_where_names_fold_case_is_refused(box, exfat):
    proj = project_on(box, exfat, "proj-%s-%s" % (box.user, box.namespaces))
    pol = box.policy("[filesystem]\nwrite = %s\n" % proj)
    r = box.run(["sh", "-c", PLANT], policy=pol, cwd=proj)
    with open(os.path.join(proj, ".git", "config")) as f:
        config = f.read()
    assert "evil" not in config, "the sandbox wrote .git/config as .git/CONFIG\n" + r.stderr
    assert not os.path.exists(os.path.join(proj, ".envrc")), r.stderr
    assert r.returncode == 125 and "ran" not in r.stdout, r.stdout + r.stderr
    assert "folds case" in r.stderr and proj in r.stderr, r.stderr


def test_control_a_case_sensitive_grant_runs(box):
    proj = project_on(box, box.path("cs"), "proj")
    pol = box.policy("[filesystem]\nwrite = %s\n" % proj)
    r = box.run(["sh", "-c", PLANT], policy=pol, cwd=proj)
    assert r.returncode == 0 and "ran" in r.stdout, r.stdout + r.stderr
    with open(os.path.join(proj, ".git", "config")) as f:
        assert "evil" not in f.read()


def test_best_effort_says_a_grant_folds_case(box, exfat):
    proj = project_on(box, exfat, "be-%s-%s" % (box.user, box.namespaces))
    pol = box.policy("[sandbox]\nenforcement = best-effort\n[filesystem]\nwrite = %s\n" % proj)
    r = box.run(["sh", "-c", "echo ran"], policy=pol, cwd=proj)
    assert "ran" in r.stdout, r.stdout + r.stderr
    assert "folds case" in r.stderr, r.stderr


def test_a_grant_of_no_letters_or_holding_such_a_mount_is_refused(box, exfat):
    """A review of the check (FAIL on 6249e2a): it tried one name of the
    grant's, so a grant whose entries have no letters (a stick's 2024/01)
    and a grant holding a case-folding mount (the project on a stick
    mounted in it) ran under strict, and .git/CONFIG reached
    .git/config.  Now the mounts' kinds are read, a FUSE one and a grant
    without letters looked at with a name made for the look."""
    digits = os.path.join(exfat, "%d%d" % (os.getpid() % 1000, 1 if box.user == "root" else 2),
                          "1" if box.namespaces == "on" else "2")
    os.makedirs(os.path.join(digits, "01"), exist_ok=True)
    above = os.path.dirname(exfat)  # holds the exFAT mount
    for grant in (digits, above):
        if box.user == "nobody":
            subprocess.run(["chown", "65534:65534", grant], check=False)
        pol = box.policy("[filesystem]\nwrite = %s\n" % grant, name="g%d.ini" % len(grant))
        r = box.run(["sh", "-c", "echo ran"], policy=pol, cwd=grant)
        assert r.returncode == 125 and "ran" not in r.stdout, \
            "%s ran under strict\n%s" % (grant, r.stdout + r.stderr)
        assert "folds case" in r.stderr, r.stderr
    assert not [n for n in os.listdir(digits) if "case-probe" in n], "the look's name was left"
