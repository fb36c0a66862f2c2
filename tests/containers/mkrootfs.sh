#!/bin/sh
# SPDX-License-Identifier: MIT
# A container image's root filesystem from this host's own files (no
# registry): ringfence, a shell, the tools the container tests run, their
# shared libraries, and users root, nobody and 1000.
#   mkrootfs.sh RINGFENCE POLICY OUT.tar
set -eu
bin=$1 policy=$2 out=$3
root=$(mktemp -d /tmp/rf-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"

copy() { # a file and, when it is a link, what it points to, at the same path
	for f in "$@"; do
		mkdir -p "$root$(dirname "$f")"
		cp -a "$f" "$root$f"
		if [ -L "$f" ]; then
			t=$(readlink -f "$f")
			mkdir -p "$root$(dirname "$t")"
			cp -a "$t" "$root$t"
		fi
	done
}

mkdir -p "$root/usr/bin" "$root/usr/lib" "$root/usr/local/bin" "$root/etc/ringfence" \
	"$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/work" "$root/home/agent"
chmod 1777 "$root/tmp" "$root/work" "$root/home/agent"
for l in bin sbin lib lib64; do ln -s usr/$l "$root/$l"; done
mkdir -p "$root/usr/sbin" "$root/usr/lib64"
tools="dash cat touch sleep id ls readlink grep curl kill env true rm mkdir sh"
for t in $tools; do
	p=$(command -v "$t" || true)
	[ -n "$p" ] && [ "${p#/}" != "$p" ] || continue
	p=$(readlink -f "$p")
	copy "$p"
	case "$t" in sh) ln -sf dash "$root/usr/bin/sh" ;; esac
	[ -e "$root/usr/bin/$t" ] || ln -sf "$p" "$root/usr/bin/$t"
	ldd "$p" 2>/dev/null | awk '/=> \//{print $3} /^\t\/lib/{print $1}' | while read -r lib; do
		copy "$lib"
	done
done
ldd "$bin" | awk '/=> \//{print $3} /^\t\/lib/{print $1}' | while read -r lib; do copy "$lib"; done
# and OpenSSL, which ringfence loads (dlopen) only when a run intercepts TLS
ssl=$(/sbin/ldconfig -p | awk '$1 == "libssl.so.3" && /x86-64/ {print $NF; exit}')
[ -n "$ssl" ] || { echo "mkrootfs: no libssl.so.3 on this host" >&2; exit 1; }
copy "$ssl"
ldd "$ssl" | awk '/=> \//{print $3} /^\t\/lib/{print $1}' | while read -r lib; do copy "$lib"; done
for lib in /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/x86_64-linux-gnu/libnss_dns.so.2 \
	   /lib/x86_64-linux-gnu/libresolv.so.2; do
	[ -e "$lib" ] && copy "$lib"
done
install -m 0755 "$bin" "$root/usr/local/bin/ringfence"
install -m 0644 "$policy" "$root/etc/ringfence/policy.ini"
cat > "$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
agent:x:1000:1000:agent:/home/agent:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
P
cat > "$root/etc/group" <<'G'
root:x:0:
agent:x:1000:
nogroup:x:65534:
G
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$root/etc/nsswitch.conf"
: > "$root/etc/hosts"
: > "$root/etc/resolv.conf"
mkdir -p "$root/root"
chmod 0700 "$root/root"
tar -C "$root" --numeric-owner -cf "$out" .
