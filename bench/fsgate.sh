#!/bin/sh
# The file gate's cost (fsgate.c), without namespaces, in one run: a
# program making FILES files (open O_CREAT, write, close; then unlink):
#  - in a project without .git: no gate, Landlock alone (the baseline);
#  - in an existing subdirectory of a project with a .git: each call stops
#    in the supervisor and goes on in the kernel (CONTINUE);
#  - in a new directory at its top: the supervisor makes each name.
# Reads never stop.
#   FILES=5000 RUNS=5 sh bench/fsgate.sh
set -eu
cd "$(dirname "$0")/.."
RF=${RINGFENCE:-$PWD/ringfence}
FILES=${FILES:-5000}
RUNS=${RUNS:-5}
[ -x "$RF" ] || { echo "bench: build first (make)" >&2; exit 1; }
W=$(mktemp -d /tmp/rf-fsbench.XXXXXX)
trap 'rm -rf "$W"' EXIT
printf '[sandbox]\ninclude = %s\nnamespaces = off\n[process]\nrun_as = %s\n' \
	"$PWD/policies/default.ini" "$(id -un)" > "$W/p.ini"
mkdir "$W/repo" "$W/repo/sub" "$W/plain"
git -C "$W/repo" init -q
cat > "$W/make.py" <<'PY'
import os, sys, time
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(d, exist_ok=True)
s = time.perf_counter()
for i in range(n):
    fd = os.open("%s/f%d" % (d, i), os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    os.write(fd, b"x")
    os.close(fd)
for i in range(n):
    os.unlink("%s/f%d" % (d, i))
print("%.3f" % ((time.perf_counter() - s) * 1e6 / (2 * n)))
PY
cp "$W/make.py" "$W/plain/"; cp "$W/make.py" "$W/repo/"
cd "$W/repo"
/usr/bin/python3 - "$RF" "$W" "$FILES" "$RUNS" <<'PY'
import statistics, subprocess, sys
rf, w, n, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def one(d, cwd=w + "/repo"):
    r = subprocess.run([rf, "-p", w + "/p.ini", "--", "/usr/bin/python3", "make.py", d, n],
                       capture_output=True, text=True, cwd=cwd)
    if r.returncode:
        sys.exit("bench: failed: " + r.stderr)
    return float(r.stdout)
base, cont, gate = [], [], []
for _ in range(runs):
    base.append(one("d", cwd=w + "/plain"))
    cont.append(one("sub/d"))
    gate.append(one("new-at-top"))
b, c, g = (statistics.median(x) for x in (base, cont, gate))
print("per file-making call, median of %d runs of %s files:" % (runs, n))
print("  no gate (project without .git):       %7.1f us" % b)
print("  gate, continued (existing subdir):    %7.1f us (%+.1f us, %.2fx)" % (c, c - b, c / b))
print("  gate, made by it (new dir at the top): %6.1f us (%+.1f us, %.2fx)" % (g, g - b, g / b))
PY
