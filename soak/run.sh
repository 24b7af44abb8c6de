#!/bin/sh
# soak/run.sh [DURATION] [soak flags...]: builds paramigo and the soak
# (interop/cmd/soak) and runs it against `paramigo serve` and sshd for
# DURATION (default 5m, at most 10m). Exit status 0 is PASS: no operation
# failed and the server's memory stayed flat after warm-up.
set -eu
cd "$(dirname "$0")/.."
duration=${1:-5m}
[ $# -gt 0 ] && shift
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/paramigo" ./cmd/paramigo
(cd interop && go build -o "$bin/soak" ./cmd/soak)
"$bin/soak" -duration "$duration" -paramigo "$bin/paramigo" "$@"
