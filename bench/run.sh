#!/usr/bin/env bash
# bench/run.sh: paramigo side by side with OpenSSH and golang.org/x/crypto/ssh
# on this machine. Builds `paramigo`, the bench program and the xssh client
# into bench/out/bin, runs the bench, prints the tables and writes them to
# bench/out/results.md. Flags are the bench program's (bench/README.md), e.g.
#
#   bench/run.sh -quick                      # a first run: 256 MiB, 10 connections
#   bench/run.sh                             # the full run: 2 GiB, 30 connections
#   bench/run.sh -sections throughput -only 'aes128-gcm/' -cpuprofile bench/out/cpu.prof
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# OpenSSH is the yardstick; apt is the only thing this script installs from.
need=()
{ [ -x /usr/bin/ssh ] && [ -x /usr/bin/ssh-keygen ]; } || need+=(openssh-client)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
if [ ${#need[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "run.sh: installing ${need[*]}" >&2
	$sudo apt-get update -qq
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

out=bench/out
bin=$out/bin
mkdir -p "$bin"
echo "run.sh: building" >&2
go build -o "$bin/paramigo" ./cmd/paramigo
(cd interop && go build -o "../$bin/bench" ./cmd/bench && go build -o "../$bin/xssh" ./cmd/xssh)

rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	rev="$rev with local changes"
fi

exec "$bin/bench" -paramigo "$root/$bin/paramigo" -xssh "$root/$bin/xssh" \
	-out "$out/results.md" -rev "$rev" -cmdline "bench/run.sh${*:+ $*}" "$@"
