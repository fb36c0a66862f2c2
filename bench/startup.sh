#!/bin/sh
# Start-up overhead and supervisor memory, measured side by side in one run:
#   bare /bin/true | ringfence -p policies/default.ini -- /bin/true
#   | the same without namespaces | a proxy policy with and without a
#   [credential] section | bwrap with comparable flags (when installed)
#   | unshare(1) making the same namespaces and nothing else (their floor)
#   | OpenSSL making a run's CA and nothing else (bench/ca_floor.c: the floor
#   of a [credential] section's own work)
# Reports medians and the overhead against bare /bin/true measured in the same
# invocation (the machines are shared and noisy: compare within a run only).
#   RUNS=300 WARMUP=20 sh bench/startup.sh
#   BASELINE=/path/to/older/ringfence sh bench/startup.sh   (both, one run)
set -eu
cd "$(dirname "$0")/.."
SRC=$PWD
RF=${RINGFENCE:-$PWD/ringfence}
RUNS=${RUNS:-300}
WARMUP=${WARMUP:-20}
OUT=${OUT:-$PWD/bench/out}
POLICY=$PWD/policies/default.ini
command -v hyperfine >/dev/null || { echo "bench: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[ -x "$RF" ] || { echo "bench: build first (make)" >&2; exit 1; }
mkdir -p "$OUT"
work=$(mktemp -d /tmp/rf-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
# run from a directory the policy grants, quietly (root gets one warning line)
printf '[sandbox]\ninclude = %s\n[process]\nrun_as = %s\n' "$POLICY" "$(id -un)" > "$work/default.ini"
printf '[sandbox]\ninclude = %s\nnamespaces = off\n' "$work/default.ini" > "$work/nons.ini"
# a [credential] section: the same proxy policy with and without one (the
# run's CA, its key, the bundle; the caller's CA variables as they are)
printf '[sandbox]\ninclude = %s\n[network]\nmode = proxy\nallow = example.test:443\n' \
	"$work/default.ini" > "$work/proxy.ini"
printf '[sandbox]\ninclude = %s\n[credential bench]\nenv = BENCH_TOKEN\nsource = env:BENCH_SECRET\nhosts = example.test:443\n' \
	"$work/proxy.ini" > "$work/cred.ini"
export BENCH_SECRET=bench-secret-value-0123456789
cd "$work"

set -- -n bare /bin/true \
	-n ringfence "$RF -p $work/default.ini -- /bin/true" \
	-n ringfence-no-namespaces "$RF -p $work/nons.ini -- /bin/true" \
	-n ringfence-proxy "$RF -p $work/proxy.ini -- /bin/true" \
	-n ringfence-credential "$RF -p $work/cred.ini -- /bin/true"
if [ -n "${BASELINE:-}" ]; then
	set -- "$@" -n baseline "$BASELINE -p $work/default.ini -- /bin/true" \
		-n baseline-no-namespaces "$BASELINE -p $work/nons.ini -- /bin/true" \
		-n baseline-proxy "$BASELINE -p $work/proxy.ini -- /bin/true" \
		-n baseline-credential "$BASELINE -p $work/cred.ini -- /bin/true"
fi
if command -v bwrap >/dev/null; then
	set -- "$@" -n bwrap "bwrap --ro-bind / / --dev /dev --proc /proc --unshare-all /bin/true"
fi
# the floor of any sandbox that makes ringfence's namespaces (mount, IPC,
# PID and network; a user namespace without root): unshare(1) making them
# and nothing else, no mount, no Landlock, no seccomp
if command -v unshare >/dev/null; then
	u=; [ "$(id -u)" -eq 0 ] || u=r
	unshare -${u}mipn --fork /bin/true 2>/dev/null &&
		set -- "$@" -n floor-namespaces "unshare -${u}mipn --fork /bin/true"
fi
# the floor of a [credential] section's own work: OpenSSL making a run's CA
# (load, first key, a signed certificate) in a process that does only that
if cc -O2 -o "$work/ca_floor" "$SRC/bench/ca_floor.c" -lcrypto 2>/dev/null; then
	set -- "$@" -n floor-ca "$work/ca_floor"
fi
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic \
	--export-json "$OUT/startup.json" "$@" >"$OUT/startup.txt"

# supervisor memory: the ringfence process itself while the command runs
rss() {
	"$RF" -p "$1" -- /bin/sleep 1 & pid=$!
	sleep 0.4
	hwm=$(awk '/^VmHWM/ {print $2}' /proc/$pid/status)
	pss=$(awk '/^Pss:/ {print $2}' /proc/$pid/smaps_rollup 2>/dev/null || echo 0)
	wait $pid
	echo "$hwm $pss"
}
: > "$OUT/rss.txt"
for i in 1 2 3 4 5; do rss "$work/default.ini" >> "$OUT/rss.txt"; done

/usr/bin/python3 - "$OUT/startup.json" "$OUT/rss.txt" <<'PY'
import json, statistics, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {k: statistics.median(v["times"]) * 1000 for k, v in res.items()}
bare = med["bare"]
print("start-up, median of %d runs (ms), overhead against bare /bin/true in this run:"
      % len(res["bare"]["times"]))
for k, m in med.items():
    print("  %-26s %7.2f ms   +%5.2f ms   %5.1fx" % (k, m, m - bare, m / bare))
if "floor-namespaces" in med:
    print("the namespaces alone (unshare -mipn --fork) take +%.2f ms of it: a floor for any "
          "sandbox that makes them" % (med["floor-namespaces"] - bare))
if "floor-ca" in med:
    print("a run's CA made by OpenSSL alone (bench/ca_floor.c) takes +%.2f ms: a floor for a "
          "[credential] section's own work" % (med["floor-ca"] - bare))
for who in ("ringfence", "baseline"):
    if who + "-credential" in med:
        print("%s: a [credential] section adds %.2f ms to the same proxy policy"
              % (who, med[who + "-credential"] - med[who + "-proxy"]))
rows = [l.split() for l in open(sys.argv[2]) if l.strip()]
hwm = statistics.median(int(r[0]) for r in rows)
pss = statistics.median(int(r[1]) for r in rows)
print("supervisor peak RSS (VmHWM), median of %d: %d KiB; PSS %d KiB" % (len(rows), hwm, pss))
PY
