#!/bin/sh
# Writes seeds for the public key fuzz targets from ssh-keygen's output.
#
# For each key type ssh-keygen makes a key; its .pub line seeds
# FuzzParseAuthorizedKey and FuzzReadPublicKey, the blob inside seeds
# FuzzParsePublicKey, and `ssh-keygen -e` in each export format seeds
# FuzzParseRFC4716 (RFC4716) and FuzzParsePublicKeyPEM (PEM, PKCS8; not
# for ed25519, which ssh-keygen exports as RFC 4716 only).
# Run from keys/: sh testdata/gen_fuzz_seeds.sh
set -eu
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
# seed FILE: writes stdin as a one-value corpus file of []byte or string.
seed() {
	mkdir -p "$(dirname "$1")"
	python3 -c '
import sys
data = sys.stdin.buffer.read()
kind = sys.argv[2]
q = "".join(chr(c) if 32 <= c < 127 and chr(c) not in "\"\\" else "\\x%02x" % c for c in data)
open(sys.argv[1], "w").write("go test fuzz v1\n%s(\"%s\")\n" % (kind, q))
' "$1" "$2"
}
for spec in ed25519 ecdsa:256 ecdsa:384 ecdsa:521 rsa:3072 dsa:1024; do
	t=${spec%%:*}
	b=${spec#*:}
	name=$t
	[ "$b" != "$spec" ] && name=$t$b
	rm -f "$d/k" "$d/k.pub"
	if [ "$b" = "$spec" ]; then
		ssh-keygen -q -t "$t" -N '' -C "seed@$name" -f "$d/k"
	else
		ssh-keygen -q -t "$t" -b "$b" -N '' -C "seed@$name" -f "$d/k"
	fi
	seed testdata/fuzz/FuzzParseAuthorizedKey/openssh-$name '[]byte' <"$d/k.pub"
	seed testdata/fuzz/FuzzReadPublicKey/openssh-$name string <"$d/k.pub"
	cut -d' ' -f2 "$d/k.pub" | base64 -d | seed testdata/fuzz/FuzzParsePublicKey/openssh-$name '[]byte'
	ssh-keygen -e -m RFC4716 -f "$d/k.pub" | seed testdata/fuzz/FuzzParseRFC4716/openssh-$name '[]byte'
	if [ "$t" != ed25519 ]; then
		for m in PEM PKCS8; do
			ssh-keygen -e -m $m -f "$d/k.pub" | seed testdata/fuzz/FuzzParsePublicKeyPEM/openssh-$name-$m '[]byte'
		done
	fi
done
echo "seeds written by $(ssh -V 2>&1)"
