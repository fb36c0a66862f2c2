#!/bin/sh
# What a new connection of the command costs before any byte moves, on
# 127.0.0.1 only: connect(2) + close(2) of a TCP socket (bench/connect.c),
# N times, on the host to a listener, and inside ringfence (mode = proxy)
# to the proxy's own address, in each [network] isolation, alternating,
# ROUNDS times.  With capture = on or unix_sockets = allow (the defaults)
# every connect inside is a seccomp notification the supervisor answers
# (sandbox_notify_net()): this is that round trip's price, which a relay
# run from the host (bench/relay_floor.c in bench/proxy.sh) does not pay.
# The namespace with capture = off and unix_sockets = deny, where connects
# are not notified, is the control.
# (bench/capture.sh compares a captured connection with an explicit one,
# both notified.)
#   [N=5000] [ROUNDS=3] sh bench/connect.sh
set -eu
cd "$(dirname "$0")/.."
RF=${RINGFENCE:-$PWD/ringfence} N=${N:-5000} ROUNDS=${ROUNDS:-3} PORT=${PORT:-18190}
[ -x "$RF" ] || { echo "bench: build first (make)" >&2; exit 1; }
W=$(mktemp -d /tmp/rf-connect.XXXXXX)
chmod 755 "$W"
cleanup() { [ -n "${L:-}" ] && kill "$L" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
cc -O2 -o "$W/connect" bench/connect.c
chmod 755 "$W/connect"
# a listener that accepts and closes (the host's side)
python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $PORT)); s.listen(4096)
while True:
    c, _ = s.accept(); c.close()
" &
L=$!
sleep 0.3
policy() { # ISOLATION CAPTURE UNIX_SOCKETS
	printf '[sandbox]\ninclude = %s/policies/default.ini\n[filesystem]\nexec = %s\n' "$PWD" "$W"
	printf '[network]\nmode = proxy\nisolation = %s\ncapture = %s\n' "$1" "$2"
	printf '[syscalls]\nunix_sockets = %s\n[process]\nrun_as = %s\n' "$3" "$(id -un)"
}
policy namespace on allow >"$W/ns.ini"
policy namespace off deny >"$W/ns-off.ini"
policy broker on allow >"$W/broker.ini"
inside() { "$RF" -p "$1" -- sh -c "p=\${HTTP_PROXY#http://}; $W/connect \${p%:*} \${p##*:} $N" 2>/dev/null || echo -; }
printf '%-6s %10s %16s %16s %16s   (us per connect)\n' round host "namespace" "ns, not notified" broker
for r in $(seq 1 "$ROUNDS"); do
	printf '%-6s %10s %16s %16s %16s\n' "$r" "$("$W/connect" 127.0.0.1 "$PORT" "$N")" \
		"$(inside "$W/ns.ini")" "$(inside "$W/ns-off.ini")" "$(inside "$W/broker.ini")"
done
