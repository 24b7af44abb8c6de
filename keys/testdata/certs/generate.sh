#!/bin/sh
# Regenerates the certificates in this directory with OpenSSH's ssh-keygen
# (these were made with OpenSSH_9.2p1 Debian-2+deb12u10). The CA and
# subject private keys are throw-away and not kept. Run from this directory.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ssh-keygen -q -t ed25519 -N '' -C ca-ed25519 -f "$tmp/ca_ed25519"
ssh-keygen -q -t ecdsa -b 384 -N '' -C ca-ecdsa -f "$tmp/ca_ecdsa"
ssh-keygen -q -t rsa -b 2048 -N '' -C ca-rsa -f "$tmp/ca_rsa"
ssh-keygen -q -t ed25519 -N '' -C user -f "$tmp/user_ed25519"
ssh-keygen -q -t ecdsa -b 256 -N '' -C host -f "$tmp/host_ecdsa"
ssh-keygen -q -t rsa -b 2048 -N '' -C user -f "$tmp/user_rsa"

# User certificate, Ed25519 CA: principals, both critical options, serial.
ssh-keygen -q -s "$tmp/ca_ed25519" -I 'alice@example.com' -n alice,bob -z 7 \
	-V 20260101:20360101 -O force-command='echo "hi"' -O source-address=10.0.0.0/8,::1 \
	"$tmp/user_ed25519.pub"
# Host certificate, RSA CA (rsa-sha2-512 by default), valid forever.
ssh-keygen -q -s "$tmp/ca_rsa" -h -I 'host.example.com' -n host.example.com,10.1.2.3 -z 18446744073709551615 \
	"$tmp/host_ecdsa.pub"
# User certificate, ECDSA CA: no principals, custom extensions (a flag, a
# value, an empty value), valid "before" a date.
ssh-keygen -q -s "$tmp/ca_ecdsa" -I '' -V always:20360101 -O clear -O permit-pty \
	-O extension:login@example.com=alice -O extension:flag@example.com -O extension:empty@example.com= \
	"$tmp/user_rsa.pub"

for c in user_ed25519 host_ecdsa user_rsa; do
	cp "$tmp/$c-cert.pub" "./$c-cert.pub"
	(cd ../.. && TZ=UTC ssh-keygen -L -f "testdata/certs/$c-cert.pub") > "./$c-cert.txt"
done
