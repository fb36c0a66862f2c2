#!/bin/sh
# Installs the agent CLIs pinned in tests/agents/versions into CACHE (outside
# the clone), once: a stamp holding the list says what is there, and a run
# with the same list reuses it.  npm's own registry configuration is used.
#
#   install.sh CACHE
set -eu
cache=$1
list=$(dirname "$0")/versions

command -v npm >/dev/null || { echo "check-agents: npm is needed (Node.js 20 or later)" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "check-agents: Node.js 20 or later is needed, this is $(node -v)" >&2; exit 1; }

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if cmp -s "$list" "$cache/.installed" 2>/dev/null; then
	exit 0
fi
start=$(date +%s)
# shellcheck disable=SC2046
npm install --prefix "$cache" --no-audit --no-fund --no-save --loglevel=error $(cat "$list")
cp "$list" "$cache/.installed"
echo "check-agents: installed the CLIs in $(( $(date +%s) - start ))s into $cache"
