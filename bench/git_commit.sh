#!/bin/sh
# git inside the sandbox, measured side by side in one run: a commit that
# touches every file of a large tree (FILES files in nested directories),
# bare and through ringfence -p policies/default.ini.  With a mount
# namespace git works in a copy-on-write view of .git (gitview.c): objects
# and refs are written in place, the root files (the index) are copied in
# and the changed ones carried back, so the cost is ringfence's start-up,
# those copies and, at exit, reading the index for gitlinks (gitlinks.c).
# BASELINE=/path/to/older/ringfence adds that build to the same run.
#   FILES=20000 RUNS=10 sh bench/git_commit.sh
set -eu
cd "$(dirname "$0")/.."
RF=${RINGFENCE:-$PWD/ringfence}
FILES=${FILES:-20000}
RUNS=${RUNS:-10}
[ -x "$RF" ] || { echo "bench: build first (make)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench: needs hyperfine" >&2; exit 1; }
W=$(mktemp -d /tmp/rf-gbench.XXXXXX)
trap 'rm -rf "$W"' EXIT
printf '[sandbox]\ninclude = %s\n[process]\nrun_as = %s\n' "$PWD/policies/default.ini" \
	"$(id -un)" > "$W/p.ini"
mkdir "$W/repo"
cd "$W/repo"
export GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@example.org GIT_COMMITTER_NAME=b \
	GIT_COMMITTER_EMAIL=b@example.org HOME="$W/repo" GIT_CONFIG_NOSYSTEM=1
git init -q .
i=0
while [ $i -lt "$FILES" ]; do
	d=d$((i % 100))/e$((i % 7))
	mkdir -p "$d"
	echo "$i" > "$d/f$i"
	i=$((i + 1))
done
git add -A && git commit -qm base
# each timed run rewrites every file, then commits it
cat > "$W/repo/.git/rf-step.sh" <<'STEP'
# the sandbox passes only the policy's env_keep on
export GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@example.org GIT_COMMITTER_NAME=b
export GIT_COMMITTER_EMAIL=b@example.org GIT_CONFIG_NOSYSTEM=1
git ls-files -z | xargs -0 -n 5000 sh -c 'for f; do echo x >> "$f"; done' _
git add -A && git commit -qm step
STEP
step="sh $W/repo/.git/rf-step.sh"
if [ -n "${BASELINE:-}" ]; then
	hyperfine -N --warmup 1 --runs "$RUNS" --style basic \
		-n bare "$step" -n ringfence "$RF -p $W/p.ini -- $step" \
		-n baseline "$BASELINE -p $W/p.ini -- $step"
else
	hyperfine -N --warmup 1 --runs "$RUNS" --style basic \
		-n bare "$step" -n ringfence "$RF -p $W/p.ini -- $step"
fi
