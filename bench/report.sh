#!/bin/bash
# The report benchmark: driftd's own time to render the drift report at /
# for N columns (bench/report.c says what is timed), against rendering
# /status for the same columns in the same invocation.
#
#   bench/report.sh [--columns "64 256 1024"] [--rounds 50] [--history 360]
#                   [--build DIR]
#
# Links bench/report.c against the library of a configured build (default
# _build/default).  Target (reported, never asserted): the page of 256
# columns ready in under 50 ms of driftd's time.  The Markdown goes to
# stdout and to bench/_out/report.md.
set -eu
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
out=$here/_out
columns="64 256 1024"
rounds=50
history=360
build=$top/_build/default

while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || { echo "usage: $0 [--columns LIST] [--rounds N] [--history N] [--build DIR]" >&2; exit 2; }
	case $1 in
	--columns) columns=$2 ;;
	--rounds) rounds=$2 ;;
	--history) history=$2 ;;
	--build) build=$2 ;;
	*) echo "$0: unknown option $1" >&2; exit 2 ;;
	esac
	shift 2
done
mkdir -p "$out"
[ -f "$build/src/libdriftd.a" ] || { echo "$0: no $build/src/libdriftd.a (build first)" >&2; exit 2; }
# shellcheck disable=SC2046
gcc -O2 -I"$build" -I"$top/src" -o "$out/report-bench" "$here/report.c" \
	"$build/src/libdriftd.a" $(pkg-config --libs libuv zlib nettle) \
	-linih -lcsv -lhttp_parser -lm
. "$here/lib.sh"
{
	echo "CPU: $cpu; SIMD: $simd; $(nproc) cores; median of $rounds rounds"
	echo
	echo "| columns | history | prepare (ms, once per evaluation) | / (ms per request) | /status (ms per request) | whole report (ms, saved and --once) | / size | /status size |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
	for n in $columns; do
		"$out/report-bench" "$n" "$rounds" "$history"
	done
} | tee "$out/report.md"
