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
# second.  Runs are interleaved; the median wall and CPU times (user +
# sys) and their ratio to the run without detectors are reported with the
# CPU and the SIMD level.  As the machines are noisy beyond the effect,
# perf's share of the CPU samples in the detectors' code (the functions
# of src/change.c) is reported too, and turned into
# nanoseconds per record; ten detectors' nanoseconds (on the 20-feature
# log) are then set against a record of the 4-feature log.  Target
# (reported, never asserted): ten detectors cost < 5% of the ingest of
# the 4-feature log.  The Markdown goes to stdout and to
# bench/_out/change.md.
set -eu
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
out=$here/_out
runs=5
driftd=$(dirname "$here")/_build/default/src/driftd
. "$here/lib.sh"
runs_and_driftd "$@"
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
declare -A wall cputime
run() {   # name, log, copies
	local c=$1 file=$2 n=$3 args=() i
	for i in $(seq "$n"); do args+=("$file"); done
	/usr/bin/time -f "%e %U %S" -o "$out/change.time" "$driftd" --once \
		-c "$out/change-$c.conf" "${args[@]}" >/dev/null
	read -r e u s <"$out/change.time"
	wall[$c]="${wall[$c]:-} $e"
	cputime[$c]="${cputime[$c]:-} $(echo "$u + $s" | bc)"
}
for _ in $(seq "$runs"); do
	for c in none ph cusum; do
		run "$c" "$log" 4
	done
	for c in ${ten:+none20 ten20}; do
		run "$c" "$log20" 2
	done
done
lines=$((4 * $(wc -l <"$log")))
l20=$((2 * $(wc -l <"$log20" 2>/dev/null || echo 0)))
declare -A name=([none]="none" [ph]="6 page_hinkley" [cusum]="5 cusum"
	[none20]="none, 20-feature log" [ten20]="10 page_hinkley, 20-feature log")
declare -A base=([none]=none [ph]=none [cusum]=none [none20]=none20 [ten20]=none20)
declare -A count=([none]=$lines [ph]=$lines [cusum]=$lines [none20]=$l20 [ten20]=$l20)
{
	echo "CPU: $cpu; SIMD: $simd; $(nproc) cores; $lines lines (4-feature), $l20 (20-feature); median of $runs runs"
	echo
	echo "| detectors | wall (s) | CPU (s) | lines/s (CPU) | CPU vs none |"
	echo "|---|---:|---:|---:|---:|"
	for c in none ph cusum ${ten:+none20 ten20}; do
		w=$(echo "${wall[$c]}" | median)
		u=$(echo "${cputime[$c]}" | median)
		b=$(echo "${cputime[${base[$c]}]}" | median)
		awk -v n="${name[$c]}" -v w="$w" -v u="$u" -v b="$b" -v l="${count[$c]}" \
			'BEGIN {printf "| %s | %.3f | %.3f | %.0f | %+.1f%% |\n", n, w, u, l / u, 100 * (u / b - 1)}'
	done
	# The detectors' own code: change_observe() copies a record's values
	# into the batch, take_*() runs the detectors on it.
	if command -v perf >/dev/null 2>&1; then
		# Every function of src/change.c (none shares its name with
		# another file's).
		fns=$(grep -oE '^[a-z_0-9]+\(' "$here/../src/change.c" | tr -d '(' | tr '\n' ' ')
		echo
		echo "| detectors | CPU samples in the detectors (perf) | ns per record | vs a 4-feature record |"
		echo "|---|---:|---:|---:|"
		per4=$(echo "${cputime[none]}" | median | awk -v l="$lines" '{print $1 / l * 1e9}')
		for c in ph cusum ${ten:+ten20}; do
			file=$log n=4 args=()
			[ "$c" = ten20 ] && file=$log20 n=2
			for i in $(seq "$n"); do args+=("$file"); done
			perf record -q -F 2000 -o "$out/change.perf" "$driftd" --once \
				-c "$out/change-$c.conf" "${args[@]}" >/dev/null 2>&1 || continue
			share=$(perf report -i "$out/change.perf" --stdio --sort sym 2>/dev/null |
				awk -v fns="$fns" 'BEGIN {n = split(fns, a, " "); for (i = 1; i <= n; i++) own[a[i]] = 1}
					{f = $NF; sub(/\..*/, "", f)} own[f] {sub("%", "", $1); s += $1} END {print s + 0}')
			u=$(echo "${cputime[$c]}" | median)
			awk -v n="${name[$c]}" -v s="$share" -v u="$u" -v l="${count[$c]}" -v p="$per4" \
				'BEGIN {ns = s / 100 * u / l * 1e9; printf "| %s | %.1f%% | %.1f | %.1f%% |\n", n, s, ns, 100 * ns / p}'
		done
		rm -f "$out/change.perf"
	fi
} | tee "$out/change.md"
