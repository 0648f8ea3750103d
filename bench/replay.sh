#!/bin/bash
# The replay benchmark: `driftd --once --step 1d` (CSV and OpenMetrics)
# against plain `driftd --once` on the same log, as users run both: a
# reference captured from the log, event time, the default tests, [window]
# size = 1000, daily steps.
#
#   bench/replay.sh [--lines N] [--runs N] [--days D] [--driftd PATH]
#
# The log (bench/gen-log.py, 4 numeric + 2 categorical features, spread
# over --days days) is cached in bench/_out/.  Runs are interleaved and
# the median wall time and the peak RSS are reported with the CPU and the
# SIMD level.  Targets (reported, never asserted): a replay at >= 0.5 x
# the lines/s of plain --once, peak RSS < 32 MiB.  Needs GNU time.  The
# Markdown goes to stdout and to bench/_out/replay.md.
set -eu
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
out=$here/_out
lines=1000000
runs=3
days=90
driftd=$(dirname "$here")/_build/default/src/driftd

while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || { echo "usage: $0 [--lines N] [--runs N] [--days D] [--driftd PATH]" >&2; exit 2; }
	case $1 in
	--lines) lines=$2 ;;
	--runs) runs=$2 ;;
	--days) days=$2 ;;
	--driftd) driftd=$2 ;;
	*) echo "$0: unknown option $1" >&2; exit 2 ;;
	esac
	shift 2
done
. "$here/lib.sh"
mkdir -p "$out"
log=$out/replay-$lines-$days.jsonl
[ -s "$log" ] || python3 "$here/gen-log.py" --features 4 --lines "$lines" \
	--span-days "$days" >"$log"
conf=$out/replay.conf
cat >"$conf" <<CONF
[global]
log_level = warn
[model]
name = bench
confidence = confidence
latency = latency_ms
timestamp = ts
[features]
features.f0 = numeric
features.f1 = numeric
features.f2 = numeric
features.f3 = numeric
features.country = categorical
features.device = categorical
[reference]
capture = 1000
[window]
size = 1000
CONF

declare -A wall rss
run() {   # name, args...
	local name=$1
	shift
	/usr/bin/time -f "%e %M" -o "$out/replay.time" "$driftd" --once "$@" \
		-c "$conf" "$log" >"$out/replay.$name.out"
	wall[$name]="${wall[$name]:-} $(cut -d' ' -f1 "$out/replay.time")"
	rss[$name]="${rss[$name]:-} $(cut -d' ' -f2 "$out/replay.time")"
}
for _ in $(seq "$runs"); do
	run once
	run csv --step 1d --format csv
	run openmetrics --step 1d
done
maxof() { tr ' ' '\n' | grep . | sort -g | tail -n 1; }
base=$(echo "${wall[once]}" | median)
steps=$(grep -c __dataset__ "$out/replay.csv.out" || true)
{
	echo "CPU: $cpu; SIMD: $simd; $(nproc) cores; $lines lines over $days days ($steps daily steps), median of $runs runs"
	echo
	echo "| run | wall (s) | lines/s | x plain --once | peak RSS (MiB) |"
	echo "|---|---:|---:|---:|---:|"
	for name in once csv openmetrics; do
		w=$(echo "${wall[$name]}" | median)
		m=$(echo "${rss[$name]}" | maxof)
		awk -v n="$name" -v w="$w" -v b="$base" -v l="$lines" -v m="$m" \
			'BEGIN {printf "| %s | %.2f | %.0f | %.2f | %.1f |\n", n, w, l / w, b / w, m / 1024}'
	done
} | tee "$out/replay.md"
