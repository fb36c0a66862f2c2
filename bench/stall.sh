#!/bin/bash
# Host memory under connections that stall, measured side by side in one run,
# on 127.0.0.1 only: N connections (the proxy's cap, 4,096) that each ask for
# a large file and never read a byte of it, made
#   1. directly from the host to the origin,
#   2. from inside ringfence (half CONNECT tunnels, half forwarded requests),
#   3. the same through $BASELINE, when set (another ringfence build),
# reporting MemAvailable before and while they are held, and the supervisor's
# RSS; then N connections stalled mid-head (60 KB ClientHellos and 12 KB
# request heads that never end), the supervisor's RSS only.  Every load is bounded (N connections, held for HOLD seconds).
# The origin does not use sendfile: a remote upstream's bytes arrive in
# fresh kernel pages, not in references to the origin's page cache, which
# would make the direct case look free.
#   N=4096 HOLD=8 BASELINE=/path/to/old/ringfence bench/stall.sh
set -eu
cd "$(dirname "$0")/.."
RF=${RINGFENCE:-$PWD/ringfence}
N=${N:-4096} HOLD=${HOLD:-8} ORIGIN_PORT=${ORIGIN_PORT:-18190} BASELINE=${BASELINE:-}
for t in nginx python3; do
	command -v $t >/dev/null || { echo "bench: needs $t (apt-get install nginx-light python3)" >&2; exit 1; }
done
[ -x "$RF" ] || { echo "bench: build first (make)" >&2; exit 1; }
# not under /tmp: the default policy gives the command a private one
W=$(mktemp -d /var/tmp/rf-sbench.XXXXXX)
chmod 755 "$W"
cleanup() {
	[ -f "$W/nginx.pid" ] && kill "$(cat "$W/nginx.pid")" 2>/dev/null
	sleep 0.2
	rm -rf "$W"
}
trap cleanup EXIT
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
avail() { awk '/^MemAvailable/ {print $2}' /proc/meminfo; }
tcpmem() { awk '/^TCP:/ {for (i = 1; i < NF; i++) if ($i == "mem") print $(i + 1) * 4}' /proc/net/sockstat; }

mkdir -p "$W/www" "$W/nginx"
head -c 67108864 /dev/zero >"$W/www/big.bin"
chmod -R a+rX "$W/www"
cat >"$W/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $W/nginx.pid;
error_log $W/nginx/error.log crit;
events { worker_connections 16384; }
worker_rlimit_nofile 32768;
http {
  access_log off; sendfile off; tcp_nopush on;
  client_body_temp_path $W/nginx/b; proxy_temp_path $W/nginx/p; fastcgi_temp_path $W/nginx/f;
  uwsgi_temp_path $W/nginx/u; scgi_temp_path $W/nginx/s;
  send_timeout 600s;
  server { listen 127.0.0.1:$ORIGIN_PORT backlog=8192; root $W/www; }
}
CONF
nginx -c "$W/nginx/nginx.conf" -p "$W/nginx"
wait_port "$ORIGIN_PORT"
cat >"$W/p.ini" <<POL
[sandbox]
include = $PWD/policies/default.ini
[filesystem]
read = $PWD/bench $W
write = $W/flags
[network]
mode = proxy
allow_cidr = 127.0.0.1/32
[process]
run_as = nobody
rlimit_nofile = 16384
POL
mkdir -p "$W/flags"
chmod 777 "$W/flags"
cp bench/proxy_client.py "$W/"
ulimit -n 16384

# settle: what the page cache and the last run left behind
settle() { sync; echo 1 >/proc/sys/vm/drop_caches 2>/dev/null || true; sleep 2; }
# hold FLAG's load for HOLD seconds; print the lowest MemAvailable seen
during() {
	local flag=$1 pid=$2 low rss=0 r tcp=0 t
	for _ in $(seq 1 1200); do [ -e "$flag" ] && break; sleep 0.05; done
	low=$(avail)
	for _ in $(seq 1 $((HOLD * 4))); do
		a=$(avail)
		[ "$a" -lt "$low" ] && low=$a
		t=$(tcpmem)
		[ "$t" -gt "$tcp" ] && tcp=$t
		if [ -n "$pid" ]; then
			r=$(awk '/^VmRSS/ {print $2}' /proc/"$pid"/status 2>/dev/null || echo 0)
			[ "$r" -gt "$rss" ] && rss=$r
		fi
		sleep 0.25
	done
	rm -f "$flag"
	echo "$low $rss $tcp"
}

echo "== $N connections asking for 64 MiB each and never reading, held ${HOLD}s"
settle
b=$(avail)
python3 "$W/proxy_client.py" stall "$N" 127.0.0.1 "$ORIGIN_PORT" - "$W/flags/direct" >"$W/direct.out" &
set -- $(during "$W/flags/direct" "")
wait
direct=$(( (b - $1) / 1024 ))
echo "direct:            $(cat "$W/direct.out"), MemAvailable $((b / 1024)) MB before, $(( $1 / 1024 )) MB during: ${direct} MB used (TCP buffers $(( $3 / 1024 )) MB)"

through() { # name binary
	local name=$1 bin=$2 sup
	settle
	b=$(avail)
	"$bin" -p "$W/p.ini" -- sh -c "python3 $W/proxy_client.py stall $N 127.0.0.1 $ORIGIN_PORT \${HTTP_PROXY#http://} $W/flags/rf" >"$W/rf.out" 2>"$W/rf.err" &
	sup=$!
	set -- $(during "$W/flags/rf" "$sup")
	wait $sup || true
	local used=$(( (b - $1) / 1024 ))
	echo "$name: $(cat "$W/rf.out"), MemAvailable $((b / 1024)) MB before, $(( $1 / 1024 )) MB during: ${used} MB used, $((used - direct)) MB over direct (target <= 256; TCP buffers $(( $3 / 1024 )) MB); supervisor VmRSS $(( $2 / 1024 )) MB (target <= 64)"
}
through "ringfence        " "$RF"
[ -n "$BASELINE" ] && through "baseline         " "$BASELINE"

# heads that never end: what each stalled connection makes the proxy hold
# when its head does not fit a small buffer (nothing to compare directly)
heads() { # name binary
	local name=$1 bin=$2 sup
	settle
	"$bin" -p "$W/p.ini" -- sh -c "python3 $W/proxy_client.py heads $N 127.0.0.1 $ORIGIN_PORT \${HTTP_PROXY#http://} $W/flags/rf" >"$W/rf.out" 2>"$W/rf.err" &
	sup=$!
	set -- $(during "$W/flags/rf" "$sup")
	wait $sup || true
	echo "$name: $(cat "$W/rf.out"), supervisor VmRSS $(( $2 / 1024 )) MB (target <= 64)"
}
echo "== $N connections stalled mid-head (half a 60 KB ClientHello, half a 12 KB request head), held ${HOLD}s"
heads "ringfence        " "$RF"
[ -n "$BASELINE" ] && heads "baseline         " "$BASELINE"
exit 0
