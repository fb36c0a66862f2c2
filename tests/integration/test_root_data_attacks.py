# SPDX-License-Identifier: MIT
"""Root's own data beneath the default policy's read grants.  A command
started as root without run_as has every capability dropped, but root owns
the host's files: what is root's alone (mode 0700 or 0600, root's) it reads
where a grant covers it.  The default grants /var/lib and /sys, and its
deny list stopped at /etc: a container runtime's store, the kubelet's pods'
secrets, systemd's service credentials and private state, the kernel's
debug and tracing file systems were readable (found by an outside review).
Each is now denied; /var/lib's and /sys's other files stay readable (the
control)."""
import os
import shutil

import pytest

# made for the test where the host has none, removed after (%s: the
# box's own name)
PLANTED = ["/var/lib/kubelet/pods/%s/volumes/secret/token",
           "/var/lib/containerd/%s-secret", "/etc/kubernetes/%s-admin.conf",
           "/etc/pki/tls/private/%s.key",
           "/var/lib/containers/%s-secret",
           "/var/lib/private/%s/secret"]


# the modes one after another: they make and remove the same directories
@pytest.mark.xdist_group("root-data")
def test_root_only_data_beneath_var_lib_and_sys_is_denied(box):
    if box.user != "root":
        pytest.skip("what is root's alone is closed to other users by its mode")
    made, name = [], os.path.basename(box.root)
    planted = [p % name for p in PLANTED]
    try:
        for path in planted:
            top = path
            while not os.path.exists(os.path.dirname(top)):
                top = os.path.dirname(top)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write("ROOTSECRET\n")
            os.chmod(path, 0o600)
            made.append(top if top != path else path)
        reads = planted + ["/var/lib/systemd/credential.secret"]
        script = "; ".join("cat %s 2>/dev/null && echo 'READ %s'" % (p, p) for p in reads)
        script += "; for d in /sys/kernel/debug /sys/kernel/tracing /sys/fs/bpf; do " \
                  "[ -d $d ] && ls $d >/dev/null 2>&1 && echo \"LISTED $d\"; done"
        # the controls: /var/lib's and /sys's other files
        script += "; head -c 1 /var/lib/dpkg/status >/dev/null && echo DPKG-OK"
        script += "; ls /sys/class/net >/dev/null && echo SYS-OK"
        r = box.run(["sh", "-c", script], policy=box.policy(""))
        assert "DPKG-OK" in r.stdout and "SYS-OK" in r.stdout, r.stdout + r.stderr
        assert "ROOTSECRET" not in r.stdout, r.stdout
        assert "READ" not in r.stdout and "LISTED" not in r.stdout, r.stdout
    finally:
        for p in made:
            if os.path.isdir(p):
                shutil.rmtree(p, ignore_errors=True)
            elif os.path.exists(p):
                os.unlink(p)
