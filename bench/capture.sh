#!/bin/sh
# What transparent capture adds to a new connection, against the same
# connection made explicitly through the proxy, in one sandbox, interleaved:
#   connect:  connect to the proxy, CONNECT name:port, its 200, one request
#   forward:  connect to the proxy, one request with an absolute URL
#   captured: connect to the name's address (the DNS answer is cached
#             first), one request
# both to a small HTTP server on the host's loopback, for each isolation
# mechanism.  Prints the median of each and the median of the per-pair
# differences (captured - explicit), in microseconds.
#   N=2000 sh bench/capture.sh
set -eu
cd "$(dirname "$0")/.."
RF=${RINGFENCE:-$PWD/ringfence}
N=${N:-2000}
[ -x "$RF" ] || { echo "bench: build first (make)" >&2; exit 1; }
W=$(mktemp -d /tmp/rf-cbench.XXXXXX)
chmod 755 "$W"
trap 'kill $SRV 2>/dev/null; rm -rf "$W"' EXIT
cat > "$W/server.py" <<'EOF'
import http.server, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 1024
s = S(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
cat > "$W/client.py" <<'EOF'
import os, socket, statistics, sys, time
n = int(sys.argv[1]); port = int(sys.argv[2])
proxy = os.environ["HTTP_PROXY"].split("//")[1].rsplit(":", 1)
proxy = (proxy[0], int(proxy[1]))
addr = socket.gethostbyname("bench.test")
req = b"GET / HTTP/1.0\r\nHost: bench.test\r\n\r\n"
def drain(s):
    while s.recv(4096):
        pass
def explicit():
    s = socket.create_connection(proxy)
    s.sendall(b"CONNECT bench.test:%d HTTP/1.1\r\nHost: bench.test\r\n\r\n" % port)
    got = b""
    while b"\r\n\r\n" not in got:
        got += s.recv(4096)
    s.sendall(req)
    drain(s)
    s.close()
def forward():
    s = socket.create_connection(proxy)
    s.sendall(b"GET http://bench.test:%d/ HTTP/1.0\r\nHost: bench.test\r\n\r\n" % port)
    drain(s)
    s.close()
def captured():
    s = socket.create_connection((addr, port))
    s.sendall(req)
    drain(s)
    s.close()
fs = (explicit, forward, captured)
t = {f: [] for f in fs}
for f in fs:
    for _ in range(50):
        f()
for _ in range(n):
    for f in fs:
        t0 = time.perf_counter_ns(); f(); t[f].append(time.perf_counter_ns() - t0)
med = lambda v: statistics.median(v) / 1e3
pair = lambda a, b: med([y - x for x, y in zip(t[a], t[b])])
print("connect %.0f us, forward %.0f us, captured %.0f us; captured minus connect %+.0f us, "
      "minus forward %+.0f us (medians of pairs)"
      % (med(t[explicit]), med(t[forward]), med(t[captured]), pair(explicit, captured),
         pair(forward, captured)))
EOF
python3 "$W/server.py" > "$W/port" &
SRV=$!
while [ ! -s "$W/port" ]; do sleep 0.05; done
PORT=$(cat "$W/port")
for iso in namespace broker; do
	printf '[sandbox]\ninclude = %s\n[process]\nrun_as = %s\n[filesystem]\nread = %s\n[network]\nmode = proxy\nisolation = %s\nallow = bench.test:%s\nhosts = bench.test=127.0.0.1\nallow_cidr = 127.0.0.1/32\n' \
		"$PWD/policies/default.ini" "$(id -un)" "$W" "$iso" "$PORT" > "$W/p-$iso.ini"
	printf '%-10s ' "$iso:"
	PATH=/usr/bin:/bin "$RF" -p "$W/p-$iso.ini" -- python3 "$W/client.py" "$N" "$PORT"
done

# What capture costs a client of a server of the sandbox's own: in the
# namespace every connect(2) stops in the supervisor with capture on; with
# capture = off only while Unix sockets are mediated ([syscalls]
# unix_sockets, on in the default policy: then the two cost the same).
# Connect and close, to a listener inside the sandbox; medians, capture on
# and off, in rounds.
cat > "$W/local.py" <<'EOF2'
import socket, statistics, sys, time
n = int(sys.argv[1])
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1024)
addr = ls.getsockname()
t = []
for i in range(n):
    t0 = time.perf_counter_ns()
    s = socket.create_connection(addr)
    t.append(time.perf_counter_ns() - t0)
    s.close()
    ls.accept()[0].close()
print("%.1f" % (statistics.median(t) / 1e3))
EOF2
sed 's/^isolation = broker/isolation = namespace/' "$W/p-broker.ini" > "$W/p-on.ini"
printf '[sandbox]\ninclude = %s\n[network]\ncapture = off\n' "$W/p-on.ini" > "$W/p-off.ini"
on=""; off=""
for r in 1 2 3; do
	on="$on $(PATH=/usr/bin:/bin "$RF" -p "$W/p-on.ini" -- python3 "$W/local.py" "$N" 2>/dev/null)"
	off="$off $(PATH=/usr/bin:/bin "$RF" -p "$W/p-off.ini" -- python3 "$W/local.py" "$N" 2>/dev/null)"
done
echo "loopback connect inside the namespace, median us per round: capture on:$on; off:$off"
