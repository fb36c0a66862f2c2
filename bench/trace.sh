#!/bin/sh
# The cost of --trace on file-heavy work, side by side in one run: `git
# status` and `find` over a large tree (FILES files in nested directories),
# bare, through ringfence, and through ringfence --trace.  Every traced call
# (open, openat, execve, ioctl, ...; not stat) is a round trip to the
# supervisor, which resolves and judges its path: the figures to read are
# the ratios of `ringfence --trace` to `ringfence` that hyperfine prints.
# `ringfence learn -o` sees the same calls and records each the base would
# refuse (here the tree is the working directory: few are).
#   FILES=20000 RUNS=10 sh bench/trace.sh
set -eu
cd "$(dirname "$0")/.."
RF=${RINGFENCE:-$PWD/ringfence}
FILES=${FILES:-20000}
RUNS=${RUNS:-10}
HF_OPTS=${HF_OPTS:-}
[ -x "$RF" ] || { echo "bench: build first (make)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench: needs hyperfine" >&2; exit 1; }
W=$(mktemp -d /tmp/rf-tbench.XXXXXX)
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
# a few changed files, so that status reads some of them
i=0
while [ $i -lt 50 ]; do
	echo x >> "d$((i % 100))/e$((i % 7))/f$i"
	i=$((i + 1))
done
for w in "git status --porcelain" "find . -path ./.git -prune -o -path ./.local -prune -o -name f1* -print"; do
	echo "== $w"
	# the git index is refreshed by the first status: the warmup
	hyperfine -N --warmup 1 --runs "$RUNS" --style basic $HF_OPTS \
		-n bare "$w" -n ringfence "$RF -p $W/p.ini -- $w" \
		-n "ringfence --trace" "$RF -p $W/p.ini --trace -- $w" \
		-n "ringfence learn" "$RF learn --force -o $W/learned.ini -p $W/p.ini -- $w"
done
