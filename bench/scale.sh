#!/bin/sh
# Scale, in two figures (run as root: it raises the descriptor limits):
#
#   sh bench/scale.sh tunnels [N]     N idle tunnels (default 10000) through
#       one supervisor: a client inside one sandbox opens N CONNECT tunnels
#       to a server on the host's loopback, each carrying one line each way
#       (so each is judged and spliced), then holds them.  Prints the
#       supervisor's peak and current RSS against the same supervisor with
#       one tunnel, and checks that every tunnel still answers.
#
#   sh bench/scale.sh sandboxes [N]   N sandboxes at once (default 1000),
#       each mode = proxy in a network namespace, idle: the sum of the PSS
#       of every ringfence process (supervisors and inits) and of the whole
#       trees, then every sandbox makes one request through its proxy.
set -eu
cd "$(dirname "$0")/.."
RF=${RINGFENCE:-$PWD/ringfence}
what=${1:-tunnels}
[ -x "$RF" ] || { echo "bench: build first (make)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench: run as root (descriptor limits)" >&2; exit 1; }
W=$(mktemp -d /tmp/rf-scale.XXXXXX)
chmod 755 "$W"
trap 'kill $SRV 2>/dev/null; pkill -f "$W/" 2>/dev/null; rm -rf "$W"' EXIT

cat > "$W/server.py" <<'EOF'
# Echoes one line per connection, then holds it; answers GET with "ok".
import selectors, socket, sys
sel = selectors.DefaultSelector()
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(4096)
ls.setblocking(False)
sel.register(ls, selectors.EVENT_READ)
print(ls.getsockname()[1], flush=True)
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if s is ls:
            try:
                c, _ = ls.accept()
            except OSError:
                continue
            c.setblocking(False)
            sel.register(c, selectors.EVENT_READ)
            continue
        try:
            d = s.recv(4096)
        except OSError:
            d = b""
        if not d:
            sel.unregister(s)
            s.close()
        elif d.startswith(b"GET"):
            s.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
            sel.unregister(s)
            s.close()
        else:
            s.sendall(d)
EOF

cat > "$W/tunnels.py" <<'EOF'
# Opens N tunnels through the proxy, one line each way, holds them; on
# SIGUSR1 sends one more line on each and counts the echoes.
import os, signal, socket, sys, time
n, port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
proxy = os.environ["HTTP_PROXY"].split("//")[1].rsplit(":", 1)
proxy = (proxy[0], int(proxy[1]))
socks = []
for i in range(n):
    s = socket.create_connection(proxy)
    s.sendall(b"CONNECT bench.test:%d HTTP/1.1\r\nHost: bench.test\r\n\r\n" % port)
    got = b""
    while b"\r\n\r\n" not in got:
        got += s.recv(4096)
    s.sendall(b"hello\n")
    if s.recv(100) != b"hello\n":
        sys.exit("tunnel %d: no echo" % i)
    socks.append(s)
with open(out, "w") as f:
    f.write("open %d\n" % len(socks))
def again(*_):
    ok = 0
    for s in socks:
        s.sendall(b"again\n")
    for s in socks:
        s.settimeout(10)
        if s.recv(100) == b"again\n":
            ok += 1
    with open(out, "a") as f:
        f.write("answered %d\n" % ok)
signal.signal(signal.SIGUSR1, again)
while True:
    signal.pause()
EOF

python3 "$W/server.py" > "$W/port" &
SRV=$!
while [ ! -s "$W/port" ]; do sleep 0.05; done
PORT=$(cat "$W/port")
# a tunnel holds two descriptors in the supervisor (its pipes go back when
# it is idle): the hard limit bounds N (raised when we may)
prlimit --pid $$ --nofile=1048576:1048576 2>/dev/null ||
	echo "bench: the descriptor limit stays $(ulimit -Hn): at most about $(( $(ulimit -Hn) / 2 - 50 )) tunnels" >&2
policy() {
	printf '[sandbox]\ninclude = %s\n[process]\nrun_as = root\nrlimit_nofile = %s\n[filesystem]\nread = %s\nwrite = %s\n[network]\nmode = proxy\nallow = bench.test:%s\nhosts = bench.test=127.0.0.1\nallow_cidr = 127.0.0.1/32\n' \
		"$PWD/policies/default.ini" "$(ulimit -Hn)" "$W" "$W" "$PORT"
}
policy > "$W/p.ini"
rss() { awk '/^VmHWM|^VmRSS/ { printf "%s %.1f MB  ", $1, $2 / 1024 }' "/proc/$1/status"; }

case $what in
tunnels)
	N=${2:-10000}
	for n in 1 "$N"; do
		rm -f "$W/out"
		PATH=/usr/bin:/bin "$RF" -p "$W/p.ini" -- python3 "$W/tunnels.py" "$n" "$PORT" \
			"$W/out" 2>"$W/err" &
		rf=$!
		i=0
		until grep -q open "$W/out" 2>/dev/null; do
			sleep 0.2
			i=$((i + 1))
			if [ $i -gt 1500 ] || ! kill -0 $rf 2>/dev/null; then
				echo "bench: the tunnels did not open:" >&2
				cat "$W/err" >&2
				exit 1
			fi
		done
		printf '%6s tunnels: ' "$n"
		rss $rf
		cli=$(pgrep -f "$W/tunnels.py" | tail -1)
		kill -USR1 "$cli"
		until grep -q answered "$W/out"; do sleep 0.2; done
		grep answered "$W/out" | tr '\n' ' '
		echo
		kill $rf
		wait $rf 2>/dev/null || true
	done
	;;
sandboxes)
	N=${2:-1000}
	# each sandbox watches for protected names made while it runs: one
	# inotify instance, and a user has 128 by default (past them
	# ringfence refuses to start, as it should): raised for the run
	inst=$(cat /proc/sys/fs/inotify/max_user_instances)
	if [ "$inst" -lt $((N + 64)) ]; then
		echo $((N + 64)) > /proc/sys/fs/inotify/max_user_instances ||
			{ echo "bench: fs.inotify.max_user_instances is $inst: at most about $inst sandboxes" >&2; exit 1; }
		trap 'echo '"$inst"' > /proc/sys/fs/inotify/max_user_instances; kill $SRV 2>/dev/null; pkill -f "$W/" 2>/dev/null; rm -rf "$W"' EXIT
	fi
	cd "$W"
	mkdir "$W/go" "$W/res" "$W/err"
	mkfifo -m 666 "$W/go/fifo"
	i=0
	while [ $i -lt "$N" ]; do
		# each command waits in open(2) of the FIFO (no CPU) until it is
		# released, then makes one request through its sandbox's proxy
		PATH=/usr/bin:/bin "$RF" -p "$W/p.ini" -- sh -c \
			'cat '"$W"'/go/fifo >/dev/null; curl -s http://bench.test:'"$PORT"'/ > '"$W"'/res/$1' \
			sh "$i" >/dev/null 2>"$W/err/$i" &
		echo $! >> "$W/sups"
		i=$((i + 1))
	done
	# until every sandbox's command waits, or its supervisor has ended
	i=0
	while :; do
		cats=$(pgrep -fc "^cat $W/go/fifo" || true)
		gone=0
		for p in $(cat "$W/sups"); do kill -0 "$p" 2>/dev/null || gone=$((gone + 1)); done
		[ $((cats + gone)) -lt "$N" ] || break
		sleep 1
		i=$((i + 1))
		[ $i -lt 600 ] || { echo "bench: not all started after 600 s" >&2; exit 1; }
	done
	if [ "$gone" -gt 0 ]; then
		echo "bench: $gone of $N sandboxes ended before their command ran; they said:"
		n=0
		for p in $(cat "$W/sups"); do
			kill -0 "$p" 2>/dev/null || sed "s/^/  $n: /" "$W/err/$n"
			n=$((n + 1))
		done
	fi
	# the supervisors and inits give their start's memory back a second
	# after their command started (memory_trim_later, common/util.c)
	sleep 3
	# a process gone meanwhile (a walk of the supervisor's ends) is left out
	# (how many were read: one gone or unreadable counts nothing).  Read by
	# one process: a cat(1) per process, with a thousand sandboxes
	# started, read a Pss line for only 106-616 of ~2,000 processes
	# without an error, where this read every one in the same seconds
	pss() {
		/usr/bin/python3 - "$W/pss.err" "$@" <<'PY'
import sys
tot = n = 0
with open(sys.argv[1], "a") as err:
    for p in sys.argv[2:]:
        try:
            with open("/proc/%s/smaps_rollup" % p) as f:
                v = [int(l.split()[1]) for l in f if l.startswith("Pss:")]
        except OSError as e:
            err.write("%s: %s\n" % (p, e))
            continue
        if v:
            tot, n = tot + v[0], n + 1
        else:
            err.write("%s: no Pss line\n" % p)
print("%.1f MB (%d read)" % (tot / 1024, n), end="")
PY
	}
	# the supervisors started here and their children (each sandbox's init)
	# (those that ended before their command ran left out: their pid may be another's now)
	rf_pids=$(for p in $(cat "$W/sups"); do kill -0 "$p" 2>/dev/null || continue; echo $p; cat /proc/$p/task/*/children 2>/dev/null; done)
	cmd_pids=$(pgrep -f "$W/go/fifo")
	echo "$((N - gone)) sandboxes: $(echo "$rf_pids" | wc -w) ringfence processes (supervisors and inits): PSS $(pss $rf_pids); their commands (sh, cat): $(pss $cmd_pids) more"
	[ ! -s "$W/pss.err" ] || echo "  not read: $(wc -l < "$W/pss.err"), the first: $(head -1 "$W/pss.err")"
	# where it goes: PSS by kind of mapping over the same processes (the
	# binary's and libraries' pages shared by all count little; the heap,
	# the stacks and the writable data are each pair's), and the
	# supervisors' stacks, given back a second after the start and written
	# again by what runs while they idle (doc/design.md)
	/usr/bin/python3 - "$(cat "$W/sups")" $rf_pids <<'PY'
import re, statistics, sys
sups = set(sys.argv[1].split())
kinds, stacks, n = {}, [], 0
for p in sys.argv[2:]:
    try:
        with open("/proc/%s/smaps" % p) as f:
            text = f.read()
    except OSError:
        continue
    n += 1
    kind = None
    for line in text.splitlines():
        m = re.match(r"^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$", line)
        if m:
            path = m.group(2)
            if path in ("[heap]", "[stack]"):
                kind = path
            elif path.startswith("/"):
                name = path.rsplit("/", 1)[1].split(".so")[0]
                kind = name + (" data" if "w" in m.group(1) else " code")
            elif path:
                kind = path
            else:
                kind = "anonymous"
        elif line.startswith("Pss:"):
            kinds[kind] = kinds.get(kind, 0) + int(line.split()[1])
        elif kind == "[stack]" and line.startswith("Rss:") and p in sups:
            stacks.append(int(line.split()[1]))
print("  PSS by kind (%d read): %s" % (n, ", ".join(
    "%s %.1f MB" % (k, v / 1024) for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]) if v >= 512)))
if stacks:
    print("  supervisors' stacks: median %d KB, largest %d KB (%d read)"
          % (statistics.median(stacks), max(stacks), len(stacks)))
PY
	# release them all: a writer opens the FIFO and closes it
	: > "$W/go/fifo"
	i=0
	while [ "$(grep -l ok "$W"/res/* 2>/dev/null | wc -l)" -lt $((N - gone)) ]; do
		sleep 1
		i=$((i + 1))
		[ $i -lt 180 ] || break
	done
	echo "answered through their proxies: $(grep -l ok "$W"/res/* 2>/dev/null | wc -l) of $((N - gone)) started"
	;;
*)
	echo "usage: bench/scale.sh tunnels|sandboxes [N]" >&2
	exit 2
	;;
esac
