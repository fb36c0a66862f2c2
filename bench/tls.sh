#!/bin/bash
# Placeholder credentials, measured side by side in one run, on 127.0.0.1 only:
#   1. small HTTPS requests per second with keep-alive (curl, N requests on one
#      connection, C clients at once): direct TLS vs through ringfence, where
#      the host is bound to a credential (terminated with the run's CA,
#      re-originated with verification, placeholder swapped in every request)
#   2. added latency per new connection (TCP + TLS handshake + tiny GET):
#      direct vs intercepted (the leaf certificate comes from the cache after
#      the first connection)
#   3. the start-up cost of credentials and the CA: the same policy with and
#      without a [credential] section (hyperfine)
#   Section 1 also measures bench/tls_floor.c, an intercepting relay that
#   parses nothing and swaps nothing (two TLS sessions and a third process
#   on the path, with the fewest calls): the floor of any such proxy here.
#   (Not section 2: it makes its two handshakes one after the other, which
#   ringfence does not.)
#   With RINGFENCE_BASE (another build, e.g. the last release's), 1. and 2.
#   also measure it in the same runs, and 1. a policy whose host has method
#   and path rules besides the credential (every request judged by them):
#   N=2000 C=4 LAT_N=300 RUNS=3 [RINGFENCE_BASE=/path/to/old/ringfence] bench/tls.sh
set -eu
cd "$(dirname "$0")/.."
RF=${RINGFENCE:-$PWD/ringfence}
N=${N:-2000} C=${C:-4} LAT_N=${LAT_N:-300} RUNS=${RUNS:-3} PORT=${PORT:-18443}
FLOOR_PORT=${FLOOR_PORT:-18444}
OUT=${OUT:-$PWD/bench/out}
for t in nginx curl openssl python3 hyperfine cc; do
	command -v $t >/dev/null || { echo "bench: needs $t (apt-get install nginx-light curl openssl python3 hyperfine gcc libssl-dev)" >&2; exit 1; }
done
[ -x "$RF" ] || { echo "bench: build first (make)" >&2; exit 1; }
mkdir -p "$OUT"
W=$(mktemp -d /tmp/rf-tbench.XXXXXX)
chmod 755 "$W"
cleanup() {
	[ -f "$W/nginx.pid" ] && kill "$(cat "$W/nginx.pid")" 2>/dev/null
	[ -n "${FLOOR:-}" ] && kill "$FLOOR" 2>/dev/null
	sleep 0.2
	rm -rf "$W"
}
trap cleanup EXIT
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# an origin for bench.test with a certificate from a CA of its own
q() { "$@" >/dev/null 2>&1; }
printf 'subjectAltName=DNS:bench.test\n' >"$W/ext.cnf"
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/ca.key" \
	-out "$W/ca.pem" -subj "/CN=bench CA" -days 2
q openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/o.key" \
	-out "$W/o.csr" -subj "/CN=bench.test"
q openssl x509 -req -in "$W/o.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial \
	-out "$W/o.pem" -days 2 -extfile "$W/ext.cnf"
chmod 644 "$W"/*.pem
mkdir -p "$W/www" "$W/nginx"
printf 'ok\n' >"$W/www/tiny.txt"
chmod -R a+rX "$W/www"
cat >"$W/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $W/nginx.pid;
error_log $W/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 1000000;
  client_body_temp_path $W/nginx/b; proxy_temp_path $W/nginx/p; fastcgi_temp_path $W/nginx/f;
  uwsgi_temp_path $W/nginx/u; scgi_temp_path $W/nginx/s;
  server { listen 127.0.0.1:$PORT ssl; root $W/www;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $W/o.pem; ssl_certificate_key $W/o.key; }
}
CONF
nginx -c "$W/nginx/nginx.conf" -p "$W/nginx"
# the floor presents the origin's own certificate (a cached leaf) and
# verifies the origin as ringfence does
cc -O2 -o "$W/tls_floor" bench/tls_floor.c -lssl -lcrypto
"$W/tls_floor" "$FLOOR_PORT" "$PORT" "$W/o.pem" "$W/o.key" "$W/ca.pem" bench.test &
FLOOR=$!
sleep 0.3
cp bench/proxy_client.py "$W/"

base="[sandbox]
include = $PWD/policies/default.ini
[filesystem]
read = $W
[network]
mode = proxy
allow = bench.test:$PORT
hosts = bench.test=127.0.0.1
allow_cidr = 127.0.0.1/32
upstream_ca = $W/ca.pem
[process]
run_as = $(id -un)
env_keep = PATH HOME LANG"
cred="[credential bench]
env = BENCH_TOKEN
source = env:BENCH_SECRET
hosts = bench.test:$PORT"
printf '%s\n' "$base" >"$W/plain.ini"
printf '%s\n%s\n' "$base" "$cred" >"$W/cred.ini"
# the same, with a rule judging every request (its host is bound: intercepted either way)
printf '%s\n%s\n' "$base" "$cred" | sed "/^upstream_ca/a allow = GET,HEAD https://bench.test:$PORT/**\\
deny = DELETE https://bench.test/**" >"$W/rules.ini"
BASE=${RINGFENCE_BASE:-}
export BENCH_SECRET=bench-secret-value-0123456789
cd "$W"

URL=https://bench.test:$PORT/tiny.txt
urls() { for _ in $(seq 1 "$N"); do printf 'url = "%s"\noutput = /dev/null\n' "$URL"; done; }
urls >"$W/urls.cfg"
# C clients, N keep-alive requests each; prints requests/s
load() {
	local t0 t1
	t0=$(date +%s%N)
	for _ in $(seq 1 "$C"); do "$@" & done
	wait
	t1=$(date +%s%N)
	awk -v n=$((N * C)) -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f\n", n / (ns / 1e9) }'
}
direct_cmd="curl -s --resolve bench.test:$PORT:127.0.0.1 --cacert $W/ca.pem -H 'Authorization: Bearer x' -K $W/urls.cfg"
inside_cmd="curl -s -H \"Authorization: Bearer \$BENCH_TOKEN\" -K $W/urls.cfg"
floor_cmd="curl -s -x http://127.0.0.1:$FLOOR_PORT --cacert $W/ca.pem -H 'Authorization: Bearer x' -K $W/urls.cfg"

echo "== 1. small HTTPS requests/s, keep-alive ($C clients x $N requests)"
inside() { "$1" -p "$2" -- sh -c "$(declare -f load); N=$N C=$C load sh -c '$inside_cmd'"; }
for i in $(seq 1 "$RUNS"); do
	d=$(load sh -c "$direct_cmd")
	r=$(inside "$RF" "$W/cred.ini")
	f=$(load sh -c "$floor_cmd")
	b=0 p=0
	if [ -n "$BASE" ]; then
		b=$(inside "$BASE" "$W/cred.ini")
		p=$(inside "$RF" "$W/rules.ini")
	fi
	echo "$d $r $b $p $f"
done >"$W/rps"
awk '{ printf "run %d: direct %6.0f/s  intercepted %6.0f/s  %5.1f%%  floor %6.0f/s  %5.1f%%\n", NR, $1, $2, 100 * $2 / $1, $5, 100 * $5 / $1 }' "$W/rps"
dm=$(awk '{print $1}' "$W/rps" | median)
rm_=$(awk '{print $2}' "$W/rps" | median)
fm=$(awk '{print $5}' "$W/rps" | median)
awk -v d="$dm" -v r="$rm_" 'BEGIN { printf "median: direct %.0f/s, intercepted %.0f/s: %.1f%% of direct (target >= 85%%)\n", d, r, 100 * r / d }'
awk -v d="$dm" -v r="$rm_" -v f="$fm" 'BEGIN { printf "median: floor (tls_floor.c) %.0f/s: %.1f%% of direct; intercepted %.1f%% of it\n", f, 100 * f / d, 100 * r / f }'
if [ -n "$BASE" ]; then
	awk '{ printf "run %d: base intercepted %6.0f/s  this %6.0f/s  this with method and path rules %6.0f/s\n", NR, $3, $2, $4 }' "$W/rps"
	bm=$(awk '{print $3}' "$W/rps" | median)
	pm=$(awk '{print $4}' "$W/rps" | median)
	awk -v b="$bm" -v r="$rm_" -v p="$pm" 'BEGIN { printf "median: base %.0f/s; this %.0f/s (%.1f%% of base); with rules %.0f/s (%.1f%% of base; target >= 90%%)\n", b, r, 100 * r / b, p, 100 * p / b }'
fi

echo "== 2. added latency per new connection (TCP + TLS + tiny GET), $LAT_N sequential"
d=$(SSL_CERT_FILE=$W/ca.pem python3 proxy_client.py tls-latency "$LAT_N" bench.test "$PORT" -)
r=$("$RF" -p "$W/cred.ini" -- sh -c "python3 $W/proxy_client.py tls-latency $LAT_N bench.test $PORT \${HTTP_PROXY#http://}")
echo "direct       $d"
echo "intercepted  $r"
awk -v d="${d#median_us=}" -v r="${r#median_us=}" 'BEGIN { printf "added (median) %.0f us (target <= 600)\n", r - d }'
if [ -n "$BASE" ]; then
	b=$("$BASE" -p "$W/cred.ini" -- sh -c "python3 $W/proxy_client.py tls-latency $LAT_N bench.test $PORT \${HTTP_PROXY#http://}")
	echo "base         $b"
	awk -v d="${d#median_us=}" -v b="${b#median_us=}" 'BEGIN { printf "base added (median) %.0f us\n", b - d }'
fi

echo "== 3. start-up: the same policy with and without a credential (hyperfine)"
hyperfine -N --warmup 20 --runs 200 --style basic --export-json "$OUT/tls-startup.json" \
	-n no-credential "$RF -p $W/plain.ini -- /bin/true" \
	-n credential "$RF -p $W/cred.ini -- /bin/true" >"$W/hf.txt"
grep -E "Time|±|faster" "$W/hf.txt" | sed 's/^ *//'
python3 - "$OUT/tls-startup.json" <<'PY'
import json, statistics, sys
r = {x["command"]: statistics.median(x["times"]) for x in json.load(open(sys.argv[1]))["results"]}
print("credential start-up cost (median difference): %.2f ms (target < 1 ms)"
      % ((r["credential"] - r["no-credential"]) * 1000))
PY
