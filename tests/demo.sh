#!/bin/sh
# make demo: a real command, sandboxed by the default policy.
set -u
RF=${1:-./ringfence}
case $RF in /*) ;; *) RF="$PWD/$RF" ;; esac
POLICY=policies/default.ini
work=$(mktemp -d /tmp/ringfence-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
echo "\$ ringfence -p $POLICY -- bash -c 'cat ~/.ssh/id_rsa; touch /etc/x; echo ok > ./out'"
"$RF" -p "$OLDPWD/$POLICY" -- bash -c 'cat ~/.ssh/id_rsa; touch /etc/x; echo ok > ./out'
echo "exit status: $?"
echo "./out contains: $(cat out 2>/dev/null)"
echo
echo "\$ ringfence explain | head -20"
"$RF" explain | head -20
