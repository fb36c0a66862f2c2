#!/bin/sh
# How long a built-in name the sandbox makes stays where the host looks,
# before the supervisor's watch (protwatch.c) moves it aside: the sandbox
# renames a prepared .mcp.json into a project N times, while a host
# program opens that name in a loop and counts how often it is there.
# With and without namespaces.  The fraction of opens that found it, and
# the time it was there per name made (fraction x loop time / N), are
# the window README's "What the sandbox leaves behind" speaks of.
#   N=1000 sh bench/window.sh
set -eu
cd "$(dirname "$0")/.."
RF=${RINGFENCE:-$PWD/ringfence}
N=${N:-1000}
[ -x "$RF" ] || { echo "bench: build first (make)" >&2; exit 1; }
W=$(mktemp -d /tmp/rf-window.XXXXXX)
trap 'rm -rf "$W"' EXIT
for ns in on off; do
	printf '[sandbox]\ninclude = %s\nnamespaces = %s\n[process]\nrun_as = %s\n' \
		"$PWD/policies/default.ini" $ns "$(id -un)" > "$W/p-$ns.ini"
done
/usr/bin/python3 - "$RF" "$W" "$N" <<'PY'
import os, subprocess, sys, threading, time
rf, w, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for ns in ("on", "off"):
    proj = os.path.join(w, "proj-" + ns)
    os.makedirs(os.path.join(proj, "data"))
    subprocess.run(["git", "init", "-q", proj], check=True)
    name = os.path.join(proj, ".mcp.json")
    stop, counts = threading.Event(), [0, 0]
    def poll():
        while not stop.is_set():
            try:
                os.close(os.open(name, os.O_RDONLY))
                counts[0] += 1
            except OSError:
                pass
            counts[1] += 1
    t = threading.Thread(target=poll)
    loop = ("i=0; while [ $i -lt %d ]; do echo '{}' > data/m; mv data/m .mcp.json; "
            "i=$((i+1)); done" % n)
    t.start()
    s = time.monotonic()
    subprocess.run([rf, "-p", os.path.join(w, "p-%s.ini" % ns), "--", "sh", "-c", loop],
                   cwd=proj, capture_output=True)
    took = time.monotonic() - s
    stop.set()
    t.join()
    frac = counts[0] / max(counts[1], 1)
    moved = len([e for e in os.listdir(proj) if e.startswith(".mcp.json.ringfence-blocked")])
    print("namespaces %-3s: %d made, %d moved aside, the host found it in %d of %d opens "
          "(%.1f%%): about %.0f us per name made (loop %.2f s)"
          % (ns, n, moved, counts[0], counts[1], 100 * frac, frac * took / n * 1e6, took))
PY
