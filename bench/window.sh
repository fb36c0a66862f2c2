#!/bin/sh
# How long a built-in name the sandbox makes stays where the host looks,
# before the supervisor's watch (protwatch.c) moves it aside: the sandbox
# renames a prepared file into a project N times, in turn under NAMES
# names (.mcp.json and standard Python modules: past 32 moves of one name
# the run is ended as racing the watch, PW_REPEAT_MAX), while a host
# program opens those names in a loop and counts how often one is there.
# With and without namespaces.  The fraction of opens that found it, and
# the time a name was there per name made (fraction x loop time x NAMES /
# N), are the window README's "What the sandbox leaves behind" speaks of.
#   N=900 sh bench/window.sh
set -eu
cd "$(dirname "$0")/.."
RF=${RINGFENCE:-$PWD/ringfence}
N=${N:-900}
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
    # (the rename into a name the file gate keeps is refused without
    # namespaces: the window there is nil, as README says)
    names = [".mcp.json"] + [m + ".py" for m in ("inspect", "logging", "argparse", "json",
             "shutil", "tempfile", "subprocess", "textwrap", "typing", "enum", "locale",
             "gettext", "string", "struct", "base64", "bisect", "calendar", "codecs", "copy",
             "csv", "difflib", "fnmatch", "glob", "gzip", "hashlib", "heapq", "hmac", "pprint",
             "random")]
    per = -(-n // len(names))
    if per > 30:
        sys.exit("bench: N=%d makes each of %d names more than 30 times" % (n, len(names)))
    paths = [os.path.join(proj, x) for x in names]
    stop, counts = threading.Event(), [0, 0]
    def poll():
        while not stop.is_set():
            for p in paths:
                try:
                    os.close(os.open(p, os.O_RDONLY))
                    counts[0] += 1
                except OSError:
                    pass
                counts[1] += 1
    t = threading.Thread(target=poll)
    loop = ("i=0; set -- %s; while [ $i -lt %d ]; do echo '{}' > data/m; mv data/m $1; "
            "shift; [ $# -gt 0 ] || set -- %s; i=$((i+1)); done"
            % (" ".join(names), n, " ".join(names)))
    t.start()
    s = time.monotonic()
    r = subprocess.run([rf, "-p", os.path.join(w, "p-%s.ini" % ns), "--", "sh", "-c", loop],
                       cwd=proj, capture_output=True)
    took = time.monotonic() - s
    stop.set()
    t.join()
    frac = counts[0] / max(counts[1], 1)
    moved = len([e for e in os.listdir(proj) if ".ringfence-blocked" in e])
    print("namespaces %-3s: %d made (exit %d), %d moved aside, the host found one in %d of %d "
          "opens (%.2f%%): about %.0f us per name made (loop %.2f s)"
          % (ns, n, r.returncode, moved, counts[0], counts[1], 100 * frac,
             frac * took * len(names) / n * 1e6, took))
PY
