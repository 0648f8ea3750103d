#!/bin/bash
# The change-detection benchmark: `driftd --once` on the 4-feature
# pipeline log (bench/pipeline.sh makes it) without detectors, with a
# Page-Hinkley detector on each of its six numeric streams (f0-f3,
# confidence, latency) and with CUSUM on the five that have a reference;
# and, as ten detectors need ten numeric streams, the 20-feature log
# without and with ten Page-Hinkley detectors.
#
#   bench/change.sh [--runs N] [--driftd PATH]
#
# The log is given four times (2 M records), so that a run lasts about a
# second.  Runs are interleaved; the median wall time and the ratio to
# the run without detectors are reported with the CPU and the SIMD level.  Target
# (reported, never asserted): the detectors cost < 5% of ingest.  The
# Markdown goes to stdout and to bench/_out/change.md.
set -eu
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
out=$here/_out
runs=5
driftd=$(dirname "$here")/_build/default/src/driftd
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || { echo "usage: $0 [--runs N] [--driftd PATH]" >&2; exit 2; }
	case $1 in
	--runs) runs=$2 ;;
	--driftd) driftd=$2 ;;
	*) echo "$0: unknown option $1" >&2; exit 2 ;;
	esac
	shift 2
done
log=$out/pipeline-4.jsonl
base=$out/pipeline-4-configured.conf
[ -s "$log" ] && [ -s "$base" ] || { echo "$0: run bench/pipeline.sh --features 4 first" >&2; exit 2; }
cp "$base" "$out/change-none.conf"
# Ten detectors need ten numeric streams: the 20-feature log has them.
log20=$out/pipeline-20.jsonl
base20=$out/pipeline-20-configured.conf
ten=
if [ -s "$log20" ] && [ -s "$base20" ]; then
	ten=yes
	cp "$base20" "$out/change-none20.conf"
	{ cat "$base20"; printf '[change]\ncolumns = features.f0, features.f1, features.f2, features.f3, features.f4, features.f5, features.f6, features.f7, features.f8, features.f9\n'; } >"$out/change-ten20.conf"
fi
{ cat "$base"; printf '[change]\ncolumns = features.f0, features.f1, features.f2, features.f3, confidence, latency\n'; } >"$out/change-ph.conf"
{ cat "$base"; printf '[change]\nmethod = cusum\ncolumns = features.f0, features.f1, features.f2, features.f3, confidence\n'; } >"$out/change-cusum.conf"
declare -A wall
for _ in $(seq "$runs"); do
	for c in none ph cusum; do
		/usr/bin/time -f "%e" -o "$out/change.time" "$driftd" --once \
			-c "$out/change-$c.conf" "$log" "$log" "$log" "$log" \
			>/dev/null
		wall[$c]="${wall[$c]:-} $(cat "$out/change.time")"
	done
	for c in ${ten:+none20 ten20}; do
		/usr/bin/time -f "%e" -o "$out/change.time" "$driftd" --once \
			-c "$out/change-$c.conf" "$log20" "$log20" >/dev/null
		wall[$c]="${wall[$c]:-} $(cat "$out/change.time")"
	done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
simd=$(grep -o -w -m1 -E 'avx512f|avx2|sse4_2' /proc/cpuinfo | sort -u | tr '\n' ' ')
lines=$((4 * $(wc -l <"$log")))
b=$(echo "${wall[none]}" | median)
{
	echo "CPU: $cpu; SIMD: $simd; $(nproc) cores; $lines lines; median of $runs runs"
	echo
	echo "| detectors | wall (s) | lines/s | cost vs none |"
	echo "|---|---:|---:|---:|"
	for c in none ph cusum; do
		w=$(echo "${wall[$c]}" | median)
		name=$([ "$c" = none ] && echo "none" || ([ "$c" = ph ] && echo "6 page_hinkley" || echo "5 cusum"))
		awk -v n="$name" -v w="$w" -v b="$b" -v l="$lines" \
			'BEGIN {printf "| %s | %.3f | %.0f | %+.1f%% |\n", n, w, l / w, 100 * (w / b - 1)}'
	done
	if [ -n "$ten" ]; then
		l20=$((2 * $(wc -l <"$log20")))
		b20=$(echo "${wall[none20]}" | median)
		w=$(echo "${wall[ten20]}" | median)
		awk -v w="$w" -v b="$b20" -v l="$l20" \
			'BEGIN {printf "| none, 20-feature log | %.3f | %.0f | +0.0%% |\n| 10 page_hinkley, 20-feature log | %.3f | %.0f | %+.1f%% |\n", b, l / b, w, l / w, 100 * (w / b - 1)}'
	fi
} | tee "$out/change.md"
