#!/usr/bin/env bash
# fuzz/run.sh runs every Fuzz target of the module, one after the other,
# for a set budget each, and reports executions, new corpus entries and
# crashes. See fuzz/README.md.
#
#   fuzz/run.sh [-budget 30s] [-only REGEXP] [-parallel N] [-minimize 100x] [-keep]
#
#   -budget    how long each target fuzzes (go test's -fuzztime: 30s, 5m,
#              or Nx for N executions)
#   -only      run only the targets whose "package.FuzzName" matches REGEXP
#              (extended regular expression, as grep -E)
#   -parallel  fuzzing processes per target (go test's -parallel; default 1:
#              one target at a time, one worker)
#   -minimize  the most spent shrinking each new corpus entry or crasher
#              (go test's -fuzzminimizetime; default 100x, a hundred
#              executions: Go's own 60s leaves a slow target minimizing
#              for most of a short budget, and its executions go uncounted)
#   -keep      copy the corpus entries the run found into the package's
#              testdata/fuzz/FuzzX/, so that `go test` replays them; without
#              it they stay in Go's fuzz cache only
#
# The table (target, package, execs, execs/s, new corpus entries, crash)
# goes to stdout and fuzz/out/report.md; each target's output to
# fuzz/out/logs/. The exit status is non-zero if any target crashed (go
# test writes the failing input to testdata/fuzz/FuzzX/) or did not build.
set -u -o pipefail

budget=30s
only=.
parallel=1
minimize=100x
keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	-budget) budget=$2; shift 2 ;;
	-only) only=$2; shift 2 ;;
	-parallel) parallel=$2; shift 2 ;;
	-minimize) minimize=$2; shift 2 ;;
	-keep) keep=1; shift ;;
	-h | -help | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "fuzz/run.sh: unknown argument $1 (see -help)" >&2; exit 2 ;;
	esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
module=$(go list -m) || exit 2
out=$root/fuzz/out
logs=$out/logs
mkdir -p "$logs"
cache=$(go env GOCACHE)/fuzz

# The packages with a Fuzz function in a test file; go test -list then
# names the targets their test binary really has (build tags, files for
# another OS).
# Only this module's packages: interop/ is a module of its own.
pkgs=$(go list -f '{{.Dir}}' ./... | while read -r d; do
	if grep -l '^func Fuzz[A-Za-z0-9_]*(f \*testing\.F)' "$d"/*_test.go >/dev/null 2>&1; then
		rel=${d#"$root"}
		echo ".${rel:-}"
	fi
done)
targets=()
for dir in $pkgs; do
	names=$(go test -list '^Fuzz' "$dir" 2>"$logs/list.err") || {
		echo "fuzz/run.sh: go test -list $dir failed:" >&2
		cat "$logs/list.err" >&2
		exit 2
	}
	for name in $(printf '%s\n' "$names" | grep '^Fuzz'); do
		pkg=${dir#./}
		[ "$pkg" = . ] && pkg=
		label="${pkg:-.}.$name"
		if printf '%s\n' "$label" | grep -Eq -- "$only"; then
			targets+=("$dir $name")
		fi
	done
done
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz/run.sh: no Fuzz target matches $only" >&2
	exit 2
fi

# seconds turns Go's rounded durations (45s, 1m0s, 2h3m4s) into seconds.
seconds() {
	awk '{ n = 0; s = $0
		if (match(s, /[0-9]+h/)) n += 3600 * substr(s, RSTART, RLENGTH - 1)
		if (match(s, /[0-9]+m/)) n += 60 * substr(s, RSTART, RLENGTH - 1)
		if (match(s, /[0-9]+s/)) n += substr(s, RSTART, RLENGTH - 1)
		print n }'
}

report=$out/report.md
{
	echo "# Fuzzing run $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Budget $budget per target, -parallel $parallel, -minimize $minimize, $(nproc) cores, $(go version | cut -d' ' -f3-)."
	echo
	echo "| target | package | execs | execs/s | new corpus entries | crash |"
	echo "| --- | --- | ---: | ---: | ---: | --- |"
} >"$report"
cat "$report"

failed=0
total_execs=0
for t in "${targets[@]}"; do
	dir=${t% *}
	name=${t#* }
	pkg=${dir#./}
	[ "$pkg" = . ] && pkg=
	importpath=$module${pkg:+/$pkg}
	log=$logs/$(printf '%s' "${pkg:-root}" | tr / _)_$name.log
	cachedir=$cache/$importpath/$name
	before=$(ls "$cachedir" 2>/dev/null | sort)

	go test -run '^$' -fuzz "^$name\$" -fuzztime "$budget" -fuzzminimizetime "$minimize" -parallel "$parallel" "$dir" >"$log" 2>&1
	status=$?

	# The last progress line has the totals:
	# fuzz: elapsed: 10s, execs: 12345 (1234/sec), new interesting: 2 (total: 50)
	last=$(grep -E '^fuzz: elapsed: ' "$log" | tail -n1)
	execs=$(printf '%s' "$last" | sed -nE 's/.*execs: ([0-9]+).*/\1/p')
	elapsed=$(printf '%s' "$last" | sed -nE 's/^fuzz: elapsed: ([0-9hms]+),.*/\1/p' | seconds)
	newfound=$(printf '%s' "$last" | sed -nE 's/.*new interesting: ([0-9]+).*/\1/p')
	execs=${execs:-0}
	newfound=${newfound:-0}
	rate=0
	if [ -n "$elapsed" ] && [ "$elapsed" -gt 0 ]; then
		rate=$((execs / elapsed))
	fi
	total_execs=$((total_execs + execs))

	crash=no
	if [ $status -ne 0 ]; then
		failed=1
		input=$(sed -nE 's/.*Failing input written to (testdata\/fuzz\/[^ ]+).*/\1/p' "$log" | head -n1)
		if [ -n "$input" ]; then
			crash="yes: $dir/$input"
		elif grep -q -e '\[build failed\]' -e '^# ' "$log"; then
			crash="did not build"
		else
			crash="failed (exit $status)"
		fi
	fi

	if [ $keep -eq 1 ] && [ -d "$cachedir" ]; then
		after=$(ls "$cachedir" | sort)
		fresh=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep -v '^$' || true)
		if [ -n "$fresh" ]; then
			mkdir -p "$dir/testdata/fuzz/$name"
			for f in $fresh; do
				cp "$cachedir/$f" "$dir/testdata/fuzz/$name/$f"
			done
		fi
	fi

	line="| $name | ${pkg:-.} | $execs | $rate | $newfound | $crash |"
	echo "$line" >>"$report"
	echo "$line"
	if [ "$crash" != no ]; then
		printf '\n    %s\n\n' "$(grep -m5 -E -e '--- FAIL|panic:|Error|error' "$log" | head -n5)" >&2
	fi
done

{
	echo
	echo "${#targets[@]} targets, $total_execs executions in all."
} | tee -a "$report"
exit $failed
