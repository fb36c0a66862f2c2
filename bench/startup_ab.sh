#!/bin/sh
# Start-up of two ringfence binaries, interleaved run by run in one
# invocation (on a shared, noisy machine, hyperfine's back-to-back blocks
# can land in different load; alternating runs see the same): the median
# of the paired differences, with namespaces and without, in an empty
# directory and in a git repository (where protect has more to mount), and
# what a [credential] section adds to a proxy policy, for each binary.
#   BASELINE=/path/to/older/ringfence N=600 sh bench/startup_ab.sh
# POLICY= names the policy both run (default: policies/default.ini); give
# one the older binary can read, or it fails at once and looks fast.
set -eu
cd "$(dirname "$0")/.."
RF=${RINGFENCE:-$PWD/ringfence}
N=${N:-600}
[ -n "${BASELINE:-}" ] || { echo "bench: set BASELINE= to the binary to compare with" >&2; exit 1; }
[ -x "$RF" ] || { echo "bench: build first (make)" >&2; exit 1; }
work=$(mktemp -d /tmp/rf-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
printf '[sandbox]\ninclude = %s\n[process]\nrun_as = %s\n' "${POLICY:-$PWD/policies/default.ini}" \
	"$(id -un)" > "$work/default.ini"
printf '[sandbox]\ninclude = %s\nnamespaces = off\n' "$work/default.ini" > "$work/nons.ini"
# the same proxy policy without and with a [credential] section
printf '[sandbox]\ninclude = %s\n[network]\nmode = proxy\nallow = example.test:443\n' \
	"$work/default.ini" > "$work/proxy.ini"
printf '[sandbox]\ninclude = %s\n[credential bench]\nenv = BENCH_TOKEN\nsource = env:BENCH_SECRET\nhosts = example.test:443\n' \
	"$work/proxy.ini" > "$work/cred.ini"
export BENCH_SECRET=bench-secret-value-0123456789
mkdir "$work/empty" "$work/repo"
git -C "$work/repo" init -q
/usr/bin/python3 - "$N" "$BASELINE" "$RF" "$work" <<'PY'
import os, statistics, subprocess, sys, time
n, old, new, work = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
null = open(os.devnull, "w")
def run(b, pol, cwd):
    s = time.perf_counter()
    r = subprocess.run([b, "-p", pol, "--", "/bin/true"], cwd=cwd, stdout=null, stderr=null)
    if r.returncode != 0:
        sys.exit("bench: %s -p %s failed (exit %d): set POLICY= to one it reads"
                 % (b, pol, r.returncode))
    return time.perf_counter() - s
print("start-up, %d interleaved pairs; median of (new - baseline):" % n)
for name, pol, cwd in (("namespaces, empty dir", "default.ini", "empty"),
                       ("namespaces, git repository", "default.ini", "repo"),
                       ("no namespaces, empty dir", "nons.ini", "empty")):
    p, c = os.path.join(work, pol), os.path.join(work, cwd)
    d = []
    for i in range(n):
        # each pair in turn new first and baseline first: the second of
        # two runs back to back is the faster here, by some 0.2-0.4 ms
        if i % 2:
            a = run(old, p, c)
            d.append(run(new, p, c) - a)
        else:
            b = run(new, p, c)
            d.append(b - run(old, p, c))
    print("  %-28s %+.3f ms" % (name, statistics.median(d) * 1000))
# a [credential]: what it adds to the same proxy policy, for each binary
# (paired with the proxy run beside it), and new - baseline
c = os.path.join(work, "empty")
pp, pc = os.path.join(work, "proxy.ini"), os.path.join(work, "cred.ini")
adds = {new: [], old: []}
diff = []
for _ in range(max(n // 4, 20)):
    t = {}
    for b in ((new, old) if len(diff) % 2 else (old, new)):
        t[b] = (run(b, pp, c), run(b, pc, c))
        adds[b].append(t[b][1] - t[b][0])
    diff.append(t[new][1] - t[old][1])
print("  %-28s %+.3f ms" % ("proxy + credential", statistics.median(diff) * 1000))
print("a [credential] adds to the same proxy policy (median of paired runs): "
      "this %.2f ms, baseline %.2f ms" % (statistics.median(adds[new]) * 1000,
                                          statistics.median(adds[old]) * 1000))
PY
