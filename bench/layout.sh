#!/bin/bash
# Which of ringfence's functions the runs users make execute, written to
# layout.order, from which the build lays those functions out together at
# the start of the text (Makefile: build/layout.ld).
#
# Why: the kernel maps a file's pages 64 KiB at a time around each page a
# process touches (fault-around), so the code a start runs, scattered over
# the whole text, made ~all of it resident in every supervisor (~580 KiB of
# its peak RSS) and cost a page fault per 64 KiB it reached.  Laid out
# together it is ~3 such windows.
#
# How: a uprobe on the entry of every function of the binary (tracefs,
# root), hit counts read after each run:
#   1. the default policy, a command that outlives the start's trim (1 s)
#   2. the same in a git repository with packs and an index (a clone of
#      this one) whose command commits, and in a directory like /tmp
#   3. mode = proxy: a forwarded request and a CONNECT tunnel to a server
#      on 127.0.0.1, then the idle loop
#   4. namespaces = off; 5. a [credential] section; 6. unprivileged
# Functions are written in that order of first need (each run's new ones
# after the last's), by address within a run: the default start's code
# comes first, so that it is the fewest windows.  A function missing from
# the file (new, renamed) still works; it is only laid out with the rest.
# Run it after changing what a start executes, on a build of this tree
# (~2 minutes, most of it the kernel adding and removing the probes):
#   make && sudo bash bench/layout.sh
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
RF=$(realpath "${RINGFENCE:-$PWD/ringfence}")
OUT=${OUT:-$PWD/layout.order}
T=/sys/kernel/tracing
[ "$(id -u)" = 0 ] || { echo "bench: layout.sh needs root (uprobes)" >&2; exit 1; }
[ -e "$T/dynamic_events" ] || mount -t tracefs nodev "$T"
[ -x "$RF" ] || { echo "bench: build first (make)" >&2; exit 1; }
W=$(mktemp -d /tmp/rf-layout.XXXXXX)
chmod 755 "$W"
GROUP=rflayout
clear_probes() {
	[ -e "$T/events/$GROUP/enable" ] && echo 0 >"$T/events/$GROUP/enable"
	# (one write per probe: the kernel parses each write on its own.  A
	# probe a process still runs through (a sandbox's late helper) is
	# busy for a moment: tried again)
	for _ in 1 2 3 4 5; do
		grep "^p:$GROUP/" "$T/dynamic_events" | sed 's/^p:/-:/; s/ .*//' >"$W/del"
		[ -s "$W/del" ] || return 0
		while IFS= read -r l; do printf '%s\n' "$l" >&3 2>/dev/null; done \
			<"$W/del" 3>>"$T/dynamic_events"
		sleep 1
	done
	echo "bench: uprobes left in $T/dynamic_events: $(grep -c "^p:$GROUP/" "$T/dynamic_events")" >&2
}
cleanup() {
	set +e
	clear_probes
	[ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

# every function with a size: rfl<N> at its offset (text's file offset is
# its address in this PIE).  uprobe_profile names an event without its
# group, so the names are our own, and no other probe may be there.
if grep -q . "$T/uprobe_profile"; then
	echo "bench: other uprobes are registered ($T/uprobe_profile): remove them first" >&2
	exit 1
fi
nm -S "$RF" | awk '$3 ~ /^[tTwW]$/ && $2 !~ /^0+$/ {print $1, $4}' | sort -u -k1,1 >"$W/funcs"
awk -v bin="$RF" -v g="$GROUP" '{printf "p:%s/rfl%d %s:0x%s\n", g, NR, bin, $1}' "$W/funcs" |
	while IFS= read -r l; do printf '%s\n' "$l" >&3 || true; done 3>>"$T/dynamic_events"
# every one, or the counts would miss functions without a word
if [ "$(grep -c "^p:$GROUP/" "$T/dynamic_events")" != "$(wc -l <"$W/funcs")" ]; then
	echo "bench: not every function could be probed (dmesg, $T/error_log)" >&2
	exit 1
fi
echo 1 >"$T/events/$GROUP/enable"
hits() {
	awk -v bin="$RF" '$1 == bin && $2 ~ /^rfl[0-9]+$/ && $3 > 0 {sub(/^rfl/, "", $2); print $2}' \
		"$T/uprobe_profile" | sort
}

# the runs
printf '[sandbox]\ninclude = %s\n[process]\nrun_as = root\n' "$ROOT/policies/default.ini" >"$W/default.ini"
printf '[sandbox]\ninclude = %s\nnamespaces = off\n' "$W/default.ini" >"$W/nons.ini"
mkdir -p "$W/www" "$W/empty" "$W/shared/d/nested"
printf 'ok\n' >"$W/www/tiny.txt"
chmod -R a+rX "$W"
# a directory like /tmp: sticky, root's, with another user's files in it
chmod 1777 "$W/shared"
touch "$W/shared/theirs"
chown 65534:65534 "$W/shared/theirs"
# a real repository: this one, its objects in a pack (--no-local), with an
# index; the command commits to it, so that the exit's checks read them
git clone -q --no-local "$ROOT" "$W/repo"
# and the shared directory holds repositories the walk at start finds: a
# nested one and a worktree of the clone
git -C "$W/shared/d/nested" init -q
git -C "$W/repo" worktree add -q "$W/shared/wt"
PORT=${PORT:-18190}
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
	echo "bench: port $PORT is taken: PORT= another" >&2
	exit 1
fi
(cd "$W/www" && exec /usr/bin/python3 -m http.server -b 127.0.0.1 "$PORT" >/dev/null 2>&1) &
SRV=$!
cat >"$W/proxy.ini" <<POL
[sandbox]
include = $W/default.ini
[filesystem]
read = $W
[network]
mode = proxy
allow_cidr = 127.0.0.1/32
POL
printf '[sandbox]\ninclude = %s\n[credential bench]\nenv = BENCH_TOKEN\nsource = env:BENCH_SECRET\nhosts = example.test:443\n' \
	"$W/proxy.ini" >"$W/cred.ini"
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
URL=http://127.0.0.1:$PORT/tiny.txt
export GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@example.test GIT_COMMITTER_NAME=b \
	GIT_COMMITTER_EMAIL=b@example.test

: >"$W/seen"
: >"$W/order"
run() { # rank (the layout's order: 0 first), name, then the command
	local rank=$1 name=$2 n
	shift 2
	if ! "$@" >"$W/out" 2>&1; then
		echo "bench: the $name run failed: $*" >&2
		cat "$W/out" >&2
		touch "$W/failed"
	fi
	hits >"$W/now"
	n=$(comm -13 "$W/seen" "$W/now" | wc -l)
	comm -13 "$W/seen" "$W/now" | awk -v r="$rank" '{print $1, r}' >>"$W/order"
	cp "$W/now" "$W/seen"
	echo "$name: $n functions more"
}
(cd "$W/empty" && run 0 default "$RF" -p "$W/default.ini" -- /bin/sleep 1.3)
(cd "$W/repo" && run 1 git "$RF" -p "$W/default.ini" -- sh -c \
	'sleep 1.3; echo x >> README.md; git add README.md; git commit -qm x')
(cd "$W/shared" && run 1 shared-directory "$RF" -p "$W/default.ini" -- /bin/true)
(cd "$W/empty" && run 2 proxy "$RF" -p "$W/proxy.ini" -- sh -c \
	"curl -sf $URL && curl -sfp $URL && sleep 1.3")
(cd "$W/empty" && run 3 no-namespaces "$RF" -p "$W/nons.ini" -- /bin/sleep 1.3)
(cd "$W/empty" && BENCH_SECRET=bench-secret run 4 credential "$RF" -p "$W/cred.ini" -- /bin/true)
(cd "$W/empty" && run 5 unprivileged setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$RF" -p "$ROOT/policies/default.ini" -- /bin/true)
if [ -e "$W/failed" ]; then
	echo "bench: $OUT left as it was" >&2
	exit 1
fi

# The function names, by run then by address.  A function of one of the
# static libraries (Makefile: LIBS) is named by its archive member
# (libz.a:inflate.o), since those are built without a section per function
# and the linker can only place the member's text whole.
# libc_nonshared.a: atexit() and the like, linked into every program
for a in seccomp cap-ng inih cares z c_nonshared; do
	f=$(cc -print-file-name="lib$a.a")
	nm -A --defined-only "$f" 2>/dev/null | awk '$(NF - 1) ~ /^[tTwW]$/ {
		split($1, p, ":"); n = split(p[1], d, "/"); print $NF, d[n] ":" p[2] }'
done >"$W/members"
# (a name of ours stays a name, even where a library has one like it)
find "${BUILD:-$ROOT/build}" -name '*.o' -exec nm --defined-only {} + 2>/dev/null |
	awk '$2 ~ /^[tTwW]$/ {print $3}' | sort -u >"$W/ours"
{
	echo "# generated by bench/layout.sh: the functions a start runs, in the order the build"
	echo "# lays them out at the start of the text (Makefile: build/layout.ld)"
	# the C runtime's start files: _start, and frame_dummy (no size, so
	# not probed) run at every start
	echo Scrt1.o
	echo crtbeginS.o
	awk 'NR == FNR {name[NR] = $2; addr[NR] = $1; next}
		{print $2, addr[$1], name[$1]}' "$W/funcs" "$W/order" |
		sort -k1,1n -k2,2 | awk '{print $3}' |
		awk 'FILENAME == ARGV[1] {own[$1] = 1; next}
			FILENAME == ARGV[2] {lib[$1] = lib[$1] " " $2; next}
			$1 == "_start" {next}
			($1 in own) || !($1 in lib) {print; next}
			{n = split(lib[$1], m, " "); for (i = 1; i <= n; i++) if (!seen[m[i]]++) print m[i]}' \
			"$W/ours" "$W/members" -
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "$(grep -vc '^#' "$OUT") lines in $OUT"
