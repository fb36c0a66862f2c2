#!/bin/bash
# The proxy, measured side by side in one run, on 127.0.0.1 only:
#   1. tunnel throughput: a 256 MiB download, direct vs through ringfence's
#      CONNECT tunnel (plain HTTP in a tunnel is read request by request, as
#      forwarding is; TLS tunnels are spliced) (and its HTTP forwarding, and
#      tinyproxy's CONNECT, and a bare splice relay: the floor of any relay
#      here, bench/splice_relay.c; with BASELINE, also forwarding with a credential,
#      whose response scan reads every byte), from
#      loopback at full speed and from an origin limited to $LINK bytes/s
#      (nginx limit_rate: what a fast network link gives)
#   2. small requests per second through the forward proxy: ringfence vs direct and
#      tinyproxy (ab, -c 8, with and without keep-alive), and the floor of any
#      proxy here: a relay that parses and judges nothing (bench/relay_floor.c)
#      and the same relay with its client's connects mediated as every
#      agent policy's are (a seccomp notification per connect, answered by
#      the relay's loop: relay_floor.c with a COMMAND), and, where perf can
#      count them, the supervisor's system calls per request (counted, not
#      timed: less at the mercy of the load)
#   3. added latency per new connection (connect + tiny GET): CONNECT of
#      ringfence and tinyproxy, and both floors, against direct
#   4. the supervisor's memory with 1,000 idle tunnels open
# Clients run inside ringfence (mode = proxy, allow_cidr = 127.0.0.1/32),
# as an agent would; the direct and tinyproxy cases run on the host.
# BASELINE=/path/to/another/ringfence adds its CONNECT and forward throughput
# to section 1, measured in the same run (a change must keep both within 5%),
# and its rows to sections 2 and 3.
# ISOLATION=namespace|broker picks the sandbox's [network] isolation (auto
# by default: the namespace where one can be made).
#   RUNS=5 AB_N=5000 LAT_N=500 IDLE_N=1000 bench/proxy.sh
set -eu
cd "$(dirname "$0")/.."
RF=${RINGFENCE:-$PWD/ringfence}
BASELINE=${BASELINE:-} LINK=${LINK:-200m} RUNS=${RUNS:-5} AB_N=${AB_N:-5000} AB_C=${AB_C:-8} LAT_N=${LAT_N:-500} IDLE_N=${IDLE_N:-1000}
ORIGIN_PORT=${ORIGIN_PORT:-18180} TP_PORT=${TP_PORT:-18181} RELAY_PORT=${RELAY_PORT:-18182}
FLOOR_PORT=${FLOOR_PORT:-18183} MFLOOR_PORT=${MFLOOR_PORT:-18184}
OUT=${OUT:-$PWD/bench/out}
for t in nginx tinyproxy ab curl python3 cc; do
	command -v $t >/dev/null || { echo "bench: needs $t (apt-get install nginx-light tinyproxy apache2-utils curl python3)" >&2; exit 1; }
done
[ -x "$RF" ] || { echo "bench: build first (make)" >&2; exit 1; }
mkdir -p "$OUT"
W=$(mktemp -d /tmp/rf-pbench.XXXXXX)
chmod 755 "$W"
cleanup() {
	[ -f "$W/nginx.pid" ] && kill "$(cat "$W/nginx.pid")" 2>/dev/null
	[ -n "${TP:-}" ] && kill "$TP" 2>/dev/null
	[ -n "${RELAY:-}" ] && kill "$RELAY" 2>/dev/null
	[ -n "${FLOOR:-}" ] && kill "$FLOOR" 2>/dev/null
	sleep 0.2
	rm -rf "$W"
}
trap cleanup EXIT
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

mkdir -p "$W/www" "$W/nginx"
head -c 268435456 /dev/urandom >"$W/www/big.bin"
printf 'ok\n' >"$W/www/tiny.txt"
chmod -R a+rX "$W/www"
cat >"$W/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $W/nginx.pid;
error_log $W/nginx/error.log warn;
events { worker_connections 8192; }
worker_rlimit_nofile 16384;
http {
  access_log off; sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 1000000; client_header_timeout 120s;
  client_body_temp_path $W/nginx/b; proxy_temp_path $W/nginx/p; fastcgi_temp_path $W/nginx/f;
  uwsgi_temp_path $W/nginx/u; scgi_temp_path $W/nginx/s;
  server { listen 127.0.0.1:$ORIGIN_PORT backlog=4096; root $W/www;
    location /link/ { alias $W/www/; limit_rate $LINK; } }
}
CONF
nginx -c "$W/nginx/nginx.conf" -p "$W/nginx"
wait_port "$ORIGIN_PORT"
cat >"$W/tinyproxy.conf" <<CONF
User nobody
Group nogroup
Port $TP_PORT
Listen 127.0.0.1
Timeout 600
MaxClients 512
Allow 127.0.0.1
DisableViaHeader Yes
LogLevel Critical
CONF
tinyproxy -d -c "$W/tinyproxy.conf" >/dev/null 2>&1 &
TP=$!
wait_port "$TP_PORT"
cc -O2 -o "$W/splice_relay" bench/splice_relay.c
"$W/splice_relay" "$RELAY_PORT" "$ORIGIN_PORT" &
RELAY=$!
wait_port "$RELAY_PORT"
cc -O2 -o "$W/relay_floor" bench/relay_floor.c
"$W/relay_floor" "$FLOOR_PORT" "$ORIGIN_PORT" &
FLOOR=$!
wait_port "$FLOOR_PORT"

cat >"$W/p.ini" <<POL
[sandbox]
include = $PWD/policies/default.ini
[filesystem]
read = $PWD/bench $W
[network]
mode = proxy
isolation = ${ISOLATION:-auto}
allow_cidr = 127.0.0.1/32
[process]
run_as = $(id -un)
rlimit_nofile = 8192
POL
# the same with a credential: every response the proxy reads is scanned
# for its secret (netproxy/scan.c), as forwarding to any host is then
cp "$W/p.ini" "$W/p-scan.ini"
cat >>"$W/p-scan.ini" <<POL
[network]
allow = bound.example
[credential bench]
env = BENCH_TOKEN
source = env:RF_BENCH_SECRET
hosts = bound.example
POL
export RF_BENCH_SECRET=bench-secret-value-0123456789abcdef
cp bench/proxy_client.py "$W/"
BIG=http://127.0.0.1:$ORIGIN_PORT/big.bin
TINY=http://127.0.0.1:$ORIGIN_PORT/tiny.txt
cd "$W"
inside() { "$RF" -p "$W/p.ini" -- "$@" 2>/dev/null; }
inside_base() { "$BASELINE" -p "$W/p.ini" -- "$@" 2>/dev/null; }
scanned() { "$RF" -p "$W/p-scan.ini" -- "$@" 2>/dev/null; }
scanned_base() { "$BASELINE" -p "$W/p-scan.ini" -- "$@" 2>/dev/null; }

speed() { # curl args...: median bytes/s over RUNS
	for _ in $(seq 1 "$RUNS"); do curl -s -o /dev/null -w '%{speed_download}\n' "$@"; done | median
}
echo "== 1. tunnel throughput, 256 MiB, median of $RUNS"
direct=$(speed --noproxy '*' "$BIG")
rf_tunnel=$(inside sh -c "for i in \$(seq 1 $RUNS); do curl -s -p -o /dev/null -w '%{speed_download}\n' $BIG; done" | median)
rf_http=$(inside sh -c "for i in \$(seq 1 $RUNS); do curl -s -o /dev/null -w '%{speed_download}\n' $BIG; done" | median)
tp_tunnel=$(speed -p -x "http://127.0.0.1:$TP_PORT" "$BIG")
# the floor of any relay here: a process that only splices (splice_relay.c)
relay=$(speed --noproxy '*' "http://127.0.0.1:$RELAY_PORT/big.bin")
LBIG=http://127.0.0.1:$ORIGIN_PORT/link/big.bin
ldirect=$(RUNS=2 speed --noproxy '*' "$LBIG")
lrf=$(inside sh -c "for i in 1 2; do curl -s -p -o /dev/null -w '%{speed_download}\n' $LBIG; done" | median)
awk -v d="$direct" -v a="$rf_tunnel" -v b="$rf_http" -v c="$tp_tunnel" -v ld="$ldirect" -v lr="$lrf" -v f="$relay" 'BEGIN {
	printf "link-limited direct     %8.0f MB/s\n", ld/1e6
	printf "link-limited ringfence  %8.0f MB/s  %5.1f%% of direct\n", lr/1e6, 100*lr/ld
	printf "direct                  %8.0f MB/s\n", d/1e6
	printf "ringfence CONNECT       %8.0f MB/s  %5.1f%% of direct (plain HTTP: read like a forward)\n", a/1e6, 100*a/d
	printf "ringfence HTTP forward  %8.0f MB/s  %5.1f%% of direct\n", b/1e6, 100*b/d
	printf "tinyproxy CONNECT       %8.0f MB/s  %5.1f%% of direct\n", c/1e6, 100*c/d
	printf "splice relay (floor)    %8.0f MB/s  %5.1f%% of direct; ringfence forward %.1f%% of it\n", f/1e6, 100*f/d, 100*b/f }'
if [ -n "$BASELINE" ]; then
	# interleaved with this build's runs, so that drift hits both alike
	for _ in $(seq 1 "$RUNS"); do
		inside sh -c "curl -s -p -o /dev/null -w '%{speed_download}\n' $BIG" >>"$W/t.new"
		inside_base sh -c "curl -s -p -o /dev/null -w '%{speed_download}\n' $BIG" >>"$W/t.base"
		inside sh -c "curl -s -o /dev/null -w '%{speed_download}\n' $BIG" >>"$W/f.new"
		inside_base sh -c "curl -s -o /dev/null -w '%{speed_download}\n' $BIG" >>"$W/f.base"
		scanned sh -c "curl -s -o /dev/null -w '%{speed_download}\n' $BIG" >>"$W/s.new"
		scanned_base sh -c "curl -s -o /dev/null -w '%{speed_download}\n' $BIG" >>"$W/s.base"
	done
	awk -v a="$(median <"$W/t.new")" -v b="$(median <"$W/t.base")" \
	    -v c="$(median <"$W/f.new")" -v d="$(median <"$W/f.base")" \
	    -v e="$(median <"$W/s.new")" -v f="$(median <"$W/s.base")" 'BEGIN {
		printf "CONNECT  this %8.0f MB/s  baseline %8.0f MB/s  %5.1f%% (target >= 95%%)\n", a/1e6, b/1e6, 100*a/b
		printf "forward  this %8.0f MB/s  baseline %8.0f MB/s  %5.1f%% (target >= 95%%)\n", c/1e6, d/1e6, 100*c/d
		printf "scanned  this %8.0f MB/s  baseline %8.0f MB/s  %5.1f%% (forward with a credential)\n", e/1e6, f/1e6, 100*e/f }'
fi

echo "== 2. small requests/s through the forward proxy (ab -n $AB_N -c $AB_C)"
rps() { grep 'Requests per second' | awk '{print $4}'; }
for k in "" "-k"; do
	dr=$(ab -q $k -n "$AB_N" -c "$AB_C" "$TINY" 2>/dev/null | rps)
	tp=$(ab -q $k -n "$AB_N" -c "$AB_C" -X "127.0.0.1:$TP_PORT" "$TINY" 2>/dev/null | rps)
	fl=$(ab -q $k -n "$AB_N" -c "$AB_C" -X "127.0.0.1:$FLOOR_PORT" "$TINY" 2>/dev/null | rps)
	fm=$("$W/relay_floor" "$MFLOOR_PORT" "$ORIGIN_PORT" ab -q $k -n "$AB_N" -c "$AB_C" \
		-X "127.0.0.1:$MFLOOR_PORT" "$TINY" 2>/dev/null | rps)
	rf=$(inside sh -c "ab -q $k -n $AB_N -c $AB_C -X \${HTTP_PROXY#http://} $TINY" | rps)
	awk -v d="$dr" -v t="$tp" -v r="$rf" -v k="${k:-no keep-alive}" 'BEGIN {
		printf "%-14s direct %8.0f/s  tinyproxy %8.0f/s  ringfence %8.0f/s  %.2fx tinyproxy, %5.1f%% of direct\n", k, d, t, r, r/t, 100*r/d }'
	awk -v d="$dr" -v t="$tp" -v f="$fl" -v r="$rf" -v k="${k:-no keep-alive}" 'BEGIN {
		printf "%-14s floor (relay_floor.c) %8.0f/s  %.2fx tinyproxy, %5.1f%% of direct; ringfence %5.1f%% of it\n", k, f, f/t, 100*f/d, 100*r/f }'
	awk -v d="$dr" -v t="$tp" -v f="$fm" -v r="$rf" -v k="${k:-no keep-alive}" 'BEGIN {
		printf "%-14s floor, connects mediated %8.0f/s  %.2fx tinyproxy, %5.1f%% of direct; ringfence %5.1f%% of it\n", k, f, f/t, 100*f/d, 100*r/f }'
	if [ -n "$BASELINE" ]; then
		b=$(inside_base sh -c "ab -q $k -n $AB_N -c $AB_C -X \${HTTP_PROXY#http://} $TINY" | rps)
		awk -v d="$dr" -v t="$tp" -v r="$b" -v k="${k:-no keep-alive}" 'BEGIN {
			printf "%-14s baseline ringfence %8.0f/s  %.2fx tinyproxy, %5.1f%% of direct\n", k, r, r/t, 100*r/d }'
	fi
done

# what the supervisor does per request, counted rather than timed (less at
# the mercy of the load, though a read that finds nothing still depends on
# timing): its system calls (perf stat on its pid, attached before the
# client starts), ringfence and BASELINE
if command -v perf >/dev/null && perf stat -e raw_syscalls:sys_enter true >/dev/null 2>&1; then
	echo "== 2b. supervisor system calls per request (perf stat, ab -n $AB_N -c $AB_C)"
	calls() { # BINARY AB_FLAGS: calls per request
		"$1" -p "$W/p.ini" -- sh -c "sleep 0.5; ab -q $2 -n $AB_N -c $AB_C -X \${HTTP_PROXY#http://} $TINY" \
			>/dev/null 2>&1 &
		sup=$!
		perf stat -x, -e raw_syscalls:sys_enter -p "$sup" -o "$W/calls" >/dev/null 2>&1 &
		pp=$!
		wait "$sup" || true
		kill -INT "$pp" 2>/dev/null
		wait "$pp" 2>/dev/null || true
		awk -F, -v n="$AB_N" '/sys_enter/ {printf "%.2f", $1 / n}' "$W/calls"
	}
	for k in "" "-k"; do
		line=$(printf "%-14s ringfence %s" "${k:-no keep-alive}" "$(calls "$RF" "$k")")
		[ -n "$BASELINE" ] && line="$line  baseline $(calls "$BASELINE" "$k")"
		echo "$line"
	done
fi

echo "== 3. added latency per new connection (connect + tiny GET), $LAT_N sequential"
d=$(python3 proxy_client.py latency "$LAT_N" 127.0.0.1 "$ORIGIN_PORT" -)
t=$(python3 proxy_client.py latency "$LAT_N" 127.0.0.1 "$ORIGIN_PORT" "127.0.0.1:$TP_PORT")
f=$(python3 proxy_client.py latency "$LAT_N" 127.0.0.1 "$ORIGIN_PORT" "127.0.0.1:$FLOOR_PORT")
m=$("$W/relay_floor" "$MFLOOR_PORT" "$ORIGIN_PORT" python3 proxy_client.py latency "$LAT_N" 127.0.0.1 "$ORIGIN_PORT" "127.0.0.1:$MFLOOR_PORT")
r=$(inside sh -c "python3 $W/proxy_client.py latency $LAT_N 127.0.0.1 $ORIGIN_PORT \${HTTP_PROXY#http://}")
b=median_us=0
[ -n "$BASELINE" ] && b=$(inside_base sh -c "python3 $W/proxy_client.py latency $LAT_N 127.0.0.1 $ORIGIN_PORT \${HTTP_PROXY#http://}")
echo "direct             $d"
echo "tinyproxy CONNECT  $t"
echo "floor CONNECT      $f"
echo "floor, mediated    $m"
echo "ringfence CONNECT  $r"
[ -n "$BASELINE" ] && echo "baseline CONNECT   $b"
awk -v d="${d#median_us=}" -v t="${t#median_us=}" -v r="${r#median_us=}" -v b="${b%% *}" -v f="${f%% *}" -v m="${m%% *}" 'BEGIN {
	sub(/median_us=/, "", b); sub(/median_us=/, "", f); sub(/median_us=/, "", m)
	printf "added (median)     tinyproxy %.0f us, floor %.0f us, mediated floor %.0f us, ringfence %.0f us", t-d, f-d, m-d, r-d
	if (b > 0) printf ", baseline %.0f us", b-d
	printf "\n" }'

echo "== 4. supervisor memory with $IDLE_N idle tunnels"
rm -f "$W/flag"
"$RF" -p "$W/p.ini" -- sh -c "python3 $W/proxy_client.py idle $IDLE_N 127.0.0.1 $ORIGIN_PORT \${HTTP_PROXY#http://} $W/flag" >/dev/null 2>&1 &
sup=$!
for _ in $(seq 1 600); do [ -e "$W/flag" ] && break; sleep 0.05; done
rss=$(awk '/^VmRSS/ {print $2}' /proc/$sup/status)
hwm=$(awk '/^VmHWM/ {print $2}' /proc/$sup/status)
fds=$(ls /proc/$sup/fd | wc -l)
rm -f "$W/flag"
wait $sup || true
echo "supervisor VmRSS ${rss} KiB, VmHWM ${hwm} KiB, $fds fds (target < 16 MB)"
