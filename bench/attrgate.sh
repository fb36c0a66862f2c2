#!/bin/sh
# What a chmod and a utime cost in the sandbox, in one run: under the
# default policy with namespaces (the kernel, on the read-only tree) and
# without (the attribute gate: each call stops in the supervisor, which
# judges it and makes it), against the same calls outside any sandbox.
#   CALLS=5000 RUNS=5 sh bench/attrgate.sh
set -eu
cd "$(dirname "$0")/.."
RF=${RINGFENCE:-$PWD/ringfence}
CALLS=${CALLS:-5000}
RUNS=${RUNS:-5}
[ -x "$RF" ] || { echo "bench: build first (make)" >&2; exit 1; }
W=$(mktemp -d /tmp/rf-attrbench.XXXXXX)
trap 'rm -rf "$W"' EXIT
printf '[sandbox]\ninclude = %s\n[process]\nrun_as = %s\n' \
	"$PWD/policies/default.ini" "$(id -un)" > "$W/ns.ini"
printf '[sandbox]\ninclude = %s\nnamespaces = off\n' "$W/ns.ini" > "$W/nons.ini"
cat > "$W/attrs.py" <<'PY'
import os, sys, time
n = int(sys.argv[1])
open("f", "w").close()
s = time.perf_counter()
for i in range(n):
    os.chmod("f", 0o644 if i % 2 else 0o600)
    os.utime("f", (i, i))
print("%.3f" % ((time.perf_counter() - s) * 1e6 / (2 * n)))
PY
cd "$W"
/usr/bin/python3 - "$RF" "$W" "$CALLS" "$RUNS" <<'PY'
import statistics, subprocess, sys
rf, w, n, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def one(pol):
    argv = ["/usr/bin/python3", "attrs.py", n]
    if pol:
        argv = [rf, "-p", w + "/" + pol, "--"] + argv
    r = subprocess.run(argv, capture_output=True, text=True, cwd=w)
    if r.returncode:
        sys.exit("bench: failed: " + r.stderr)
    return float(r.stdout)
bare, ns, nons = [], [], []
for _ in range(runs):
    bare.append(one(None))
    ns.append(one("ns.ini"))
    nons.append(one("nons.ini"))
b, a, g = (statistics.median(x) for x in (bare, ns, nons))
print("per chmod or utime, median of %d runs of %s each:" % (runs, n))
print("  no sandbox:                    %7.1f us" % b)
print("  namespaces (the kernel):       %7.1f us (%.2fx)" % (a, a / b))
print("  no namespaces (the gate):      %7.1f us (%.2fx)" % (g, g / b))
PY
