#!/bin/sh
# The exit check of every repository beneath the write grants (gitscan.c),
# side by side in one run: `ringfence -p policies/default.ini -- true`
# started in an empty project (the baseline) and in a large one: FILES files
# in DIRS directories three levels deep, and REPOS repositories nested at
# depths 1 to 5 (a grant on a directory of many projects).  Each run walks
# the whole tree once at exit.  With and without namespaces.
# BASELINE=/path/to/older/ringfence adds that build, in the large project,
# to the same run.
#   FILES=50000 DIRS=5000 REPOS=200 RUNS=10 sh bench/gitscan.sh
set -eu
cd "$(dirname "$0")/.."
RF=${RINGFENCE:-$PWD/ringfence}
FILES=${FILES:-50000}
DIRS=${DIRS:-5000}
REPOS=${REPOS:-200}
RUNS=${RUNS:-10}
[ -x "$RF" ] || { echo "bench: build first (make)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench: needs hyperfine" >&2; exit 1; }
W=$(mktemp -d /tmp/rf-scanbench.XXXXXX)
trap 'rm -rf "$W"' EXIT
for ns in on off; do
	printf '[sandbox]\ninclude = %s\nnamespaces = %s\n[process]\nrun_as = %s\n' \
		"$PWD/policies/default.ini" $ns "$(id -un)" > "$W/p-$ns.ini"
done
mkdir "$W/empty" "$W/big"
export GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@example.org GIT_COMMITTER_NAME=b \
	GIT_COMMITTER_EMAIL=b@example.org HOME="$W" GIT_CONFIG_NOSYSTEM=1
/usr/bin/python3 - "$W/big" "$FILES" "$DIRS" "$REPOS" <<'PY'
import os, subprocess, sys
top, files, dirs, repos = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ds = []
for i in range(dirs):
    d = os.path.join(top, "a%d" % (i % 50), "b%d" % (i % 500), "c%d" % i)
    os.makedirs(d, exist_ok=True)
    ds.append(d)
for i in range(files):
    with open(os.path.join(ds[i % dirs], "f%d" % i), "w") as f:
        f.write("%d\n" % i)
for i in range(repos):
    # depths 1 to 5 below the grant
    parts = ["r%d" % i] + ["s"] * (i % 5)
    r = os.path.join(top, *parts)
    os.makedirs(r, exist_ok=True)
    subprocess.run(["git", "init", "-q", r], check=True)
PY
echo "tree: $(find "$W/big" -type d | wc -l) directories, $(find "$W/big" -type f | wc -l) files"
set --
for ns in on off; do
	set -- "$@" -n "empty, ns $ns" "sh -c 'cd $W/empty && exec $RF -p $W/p-$ns.ini -- true'" \
		-n "large, ns $ns" "sh -c 'cd $W/big && exec $RF -p $W/p-$ns.ini -- true'"
	if [ -n "${BASELINE:-}" ]; then
		set -- "$@" -n "large, ns $ns, baseline" \
			"sh -c 'cd $W/big && exec $BASELINE -p $W/p-$ns.ini -- true'"
	fi
done
hyperfine --warmup 2 --runs "$RUNS" --style basic "$@"
