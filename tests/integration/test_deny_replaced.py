# SPDX-License-Identifier: MIT
"""What README's Known limits says holds when the host replaces a denied
file by a rename during the run (an editor's save, a CLI's token refresh):
with namespaces, the mask of a denied directory, whose files the host
replaces; without them, the Landlock carve-out of a denied file, whose new
inode gets no rights.  (With namespaces a denied file's own mask goes with
the rename: the limit README states.)  The command reads in a loop while
the host replaces; a file beside it, readable, is the control."""
import os
import subprocess
import time

NOBODY = 65534
LOOP = ("i=0; while [ $i -lt 60 ]; do cat %s 2>/dev/null; cat %s; i=$((i+1)); "
        "sleep 0.05; done")


def replace(path, text):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def test_a_denied_secret_replaced_by_the_host_stays_denied(box):
    w2 = box.path("w2")
    if box.namespaces == "off":
        # a file, carved out of the grant
        secret, deny = os.path.join(w2, ".env"), os.path.join(w2, ".env")
    else:
        # a directory, masked whole: its files replaced beneath the mask
        secret, deny = os.path.join(w2, "creds", "token"), os.path.join(w2, "creds") + "/"
    box.write(os.path.relpath(secret, box.root), "OLD-SECRET-0123\n")
    box.write("w2/ok", "readable-control\n")
    if box.user == "nobody":
        for dirpath, dirs, files in os.walk(w2):
            for n in [dirpath] + [os.path.join(dirpath, f) for f in files]:
                os.chown(n, NOBODY, NOBODY)
    pol = box.policy("[filesystem]\nwrite = %s\ndeny = %s\n" % (w2, deny))
    proc = box.popen(["sh", "-c", LOOP % (secret, os.path.join(w2, "ok"))], policy=pol,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     text=True)
    time.sleep(1.0)
    replace(secret, "NEW-SECRET-4567\n")
    if box.user == "nobody":
        os.chown(secret, NOBODY, NOBODY)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "readable-control" in out, (out, err)  # the loop ran and read
    with open(secret) as f:
        assert f.read() == "NEW-SECRET-4567\n"  # the host's rename happened
    assert "OLD-SECRET" not in out and "NEW-SECRET" not in out, out
