#!/bin/sh
# The response scan's speed (bench/scan.c): MB/s over texts that cannot
# hold a secret and texts dense in escapes, and ns per response head and
# small JSON body, with ten credentials.  With BASE (another checkout,
# built with make), the same program linked against its objects runs
# beside, alternating, in the same invocation:
#   [BASE=/path/to/other/checkout] [CREDS=10] sh bench/scan.sh
set -eu
cd "$(dirname "$0")/.."
W=$(mktemp -d /tmp/rf-scan.XXXXXX)
trap 'rm -rf "$W"' EXIT
link() { # TREE OUT
	cc -O2 -D_GNU_SOURCE -I"$1/netproxy" -o "$2" bench/scan.c \
		$(ls "$1"/build/netproxy/*.o "$1"/build/common/*.o "$1"/build/policy/*.o \
			"$1"/build/landlock/*.o) "$1/build/default_policy.o" \
		-linih -lcares -lssl -lcrypto -lz -ldl
}
[ -f build/netproxy/scan.o ] || { echo "bench: build first (make)" >&2; exit 1; }
link "$PWD" "$W/here"
[ -z "${BASE:-}" ] || link "$BASE" "$W/base"
for round in 1 2; do
	echo "== this tree (round $round)"
	"$W/here" "${CREDS:-10}"
	if [ -n "${BASE:-}" ]; then
		echo "== $BASE (round $round)"
		"$W/base" "${CREDS:-10}"
	fi
done
