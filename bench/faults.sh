#!/bin/sh
# What a page fault costs on this machine, and how many a start makes:
# on some virtual machines a fault costs ~30 us (100x bare metal), and a
# start's ~400 faults are then half its time.
#   sh bench/faults.sh            (RINGFENCE=/path/to/ringfence to choose)
set -eu
cd "$(dirname "$0")/.."
RF=${RINGFENCE:-$PWD/ringfence}
[ -x "$RF" ] || { echo "bench: build first (make)" >&2; exit 1; }
work=$(mktemp -d /tmp/rf-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/touch.c" <<'C'
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
/* 4,096 fresh anonymous pages touched once each: the time per fault */
int main(void)
{
	enum { PAGES = 4096 };
	struct timespec a, b;
	char *p = mmap(NULL, (size_t)PAGES * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < PAGES; i++)
		p[i * 4096] = 1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.2f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / PAGES / 1000.0);
	return 0;
}
C
cc -O2 -o "$work/touch" "$work/touch.c"
printf '[sandbox]\ninclude = %s\n[process]\nrun_as = %s\n' "$PWD/policies/default.ini" \
	"$(id -un)" > "$work/default.ini"
printf '[sandbox]\ninclude = %s\nnamespaces = off\n' "$work/default.ini" > "$work/nons.ini"
mkdir "$work/empty" "$work/repo" && git -C "$work/repo" init -q
echo "a fault, median of 5 runs of 4,096: $(for i in 1 2 3 4 5; do "$work/touch"; done | sort -n | sed -n 3p) us"
# minor faults of a start and its waited-for processes (getrusage), median of 9
faults() {
	for i in 1 2 3 4 5 6 7 8 9; do
		(cd "$1" && /usr/bin/time -f %R "$RF" -p "$2" -- /bin/true 2>&1 >/dev/null | tail -1)
	done | sort -n | sed -n 5p
}
echo "minor faults of a start, median of 9:"
echo "  namespaces, empty dir        $(faults "$work/empty" "$work/default.ini")"
echo "  namespaces, git repository   $(faults "$work/repo" "$work/default.ini")"
echo "  no namespaces, empty dir     $(faults "$work/empty" "$work/nons.ini")"
