#!/bin/sh
# Start-up cost of the agents' state keys, measured side by side in one run:
#   ringfence -p default.ini -- /bin/true                         (baseline)
#   the same with create = 3 directories and private = a file and a
#   directory (stand-ins already made: every later run)
#   the same with private_seed of a directory of SEED_FILES 4 KiB files,
#   the stand-in removed before each run (the first run only)
# with and without namespaces.  Compare within a run only (shared machines).
#   RUNS=100 SEED_FILES=1000 sh bench/state.sh
set -eu
cd "$(dirname "$0")/.."
RF=${RINGFENCE:-$PWD/ringfence}
RUNS=${RUNS:-100}
SEED_FILES=${SEED_FILES:-1000}
command -v hyperfine >/dev/null || { echo "bench: needs hyperfine" >&2; exit 1; }
[ -x "$RF" ] || { echo "bench: build first (make)" >&2; exit 1; }
W=$(mktemp -d /tmp/rf-sbench.XXXXXX)
trap 'rm -rf "$W"' EXIT
export HOME="$W/home"
mkdir -p "$HOME/.gemini/data" "$W/proj"
i=0
while [ $i -lt "$SEED_FILES" ]; do
	head -c 4096 /dev/urandom > "$HOME/.gemini/data/f$i"
	i=$((i + 1))
done
echo '{}' > "$HOME/.claude.json"
user=$(id -un)
for ns in auto off; do
	printf '[sandbox]\ninclude = %s\nnamespaces = %s\n[process]\nrun_as = %s\n' \
		"$PWD/policies/default.ini" "$ns" "$user" > "$W/base-$ns.ini"
	printf '[sandbox]\ninclude = %s\nenforcement = best-effort\n[filesystem]\ncreate = ~/.a ~/.b/c ~/.d\nprivate = ~/.claude.json ~/.codex/\nprivate_env = CODEX_HOME=~/.codex\n' \
		"$W/base-$ns.ini" > "$W/private-$ns.ini"
	printf '[sandbox]\ninclude = %s\nenforcement = best-effort\n[filesystem]\nprivate_seed = ~/.gemini/\nprivate_env = GEMINI_DIR=~/.gemini\n' \
		"$W/base-$ns.ini" > "$W/seed-$ns.ini"
done
cd "$W/proj"
# a repository already: an absent .git gets a placeholder whose delayed
# removal races the next run's start (protect.c), which back-to-back runs hit
git init -q .
"$RF" -p "$W/private-auto.ini" -- true 2>/dev/null
"$RF" -p "$W/private-off.ini" -- true 2>/dev/null
hyperfine -N --warmup 5 --runs "$RUNS" --style basic \
	-n default "$RF -p $W/base-auto.ini -- /bin/true" \
	-n private "$RF -p $W/private-auto.ini -- /bin/true" \
	-n default-nons "$RF -p $W/base-off.ini -- /bin/true" \
	-n private-nons "$RF -p $W/private-off.ini -- /bin/true" 2>/dev/null
hyperfine -N --runs "$((RUNS / 10 + 3))" --style basic \
	--prepare "rm -rf $HOME/.local/state/ringfence/seed-auto" \
	-n "seed $SEED_FILES files (first run)" "$RF -p $W/seed-auto.ini -- /bin/true" \
	-n default "$RF -p $W/base-auto.ini -- /bin/true" 2>/dev/null
