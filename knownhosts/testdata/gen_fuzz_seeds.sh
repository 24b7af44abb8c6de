#!/bin/sh
# Writes FuzzParse seeds: known_hosts files as OpenSSH's ssh writes them.
#
# An sshd on 127.0.0.1 (a port other than 22) with an ed25519, an ECDSA
# and an RSA host key is visited by ssh (BatchMode,
# StrictHostKeyChecking=accept-new): once by address, then once per host
# key algorithm under a HostKeyAlias of its own; once with
# HashKnownHosts=no and once with yes. ssh-keygen -R then removes the
# ECDSA alias, as a user would. Authentication fails; the
# files ssh wrote are the seeds. Run from knownhosts/ as root (sshd needs
# /run/sshd): sh testdata/gen_fuzz_seeds.sh
set -eu
out=testdata/fuzz/FuzzParse
mkdir -p "$out" /run/sshd
d=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$d"' EXIT
for t in ed25519 ecdsa rsa; do ssh-keygen -q -t $t -N '' -C '' -f "$d/host_$t"; done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/sbin/sshd -D -e -f /dev/null -o ListenAddress=127.0.0.1:$port -o PidFile=none -o UsePAM=no \
	-h "$d/host_ed25519" -h "$d/host_ecdsa" -h "$d/host_rsa" 2>"$d/sshd.log" &
pid=$!
sleep 1
for hash in no yes; do
	kh=$d/known_hosts_$hash
	ssh -F /dev/null -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=accept-new \
		-o UserKnownHostsFile="$kh" -o HashKnownHosts=$hash -o PreferredAuthentications=none \
		nobody@127.0.0.1 true 2>/dev/null || true
	for alg in ssh-ed25519 ecdsa-sha2-nistp256 rsa-sha2-512; do
		ssh -F /dev/null -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=accept-new \
			-o UserKnownHostsFile="$kh" -o HashKnownHosts=$hash -o HostKeyAlgorithms=$alg \
			-o HostKeyAlias="$alg.example.com" -o PreferredAuthentications=none nobody@127.0.0.1 true 2>/dev/null || true
	done
	ssh-keygen -q -R ecdsa-sha2-nistp256.example.com -f "$kh" >/dev/null 2>&1 || true
	python3 - "$kh" "$out/openssh-hash-$hash" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
q = "".join(chr(c) if 32 <= c < 127 and chr(c) not in '"\\' else "\\x%02x" % c for c in data)
open(sys.argv[2], "w").write('go test fuzz v1\n[]byte("' + q + '")\n')
PY
	echo "$out/openssh-hash-$hash: $(grep -c . "$kh") lines from $(ssh -V 2>&1)"
done
