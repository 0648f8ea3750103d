#!/bin/bash
# The pipeline benchmark: `driftd --once` as users run it -- a reference
# captured from the log, event time, the default tests -- on logs of 4, 20
# and 100 numeric features (plus 2 categorical), each with the features
# configured one by one and discovered (`discover = features`), against
# simdjson On-Demand extracting the same fields from the same file.
#
#   bench/pipeline.sh [--lines N] [--runs N] [--features "4 20 100"]
#                     [--driftd PATH]
#
# Logs come from bench/gen-log.py (cached in bench/_out/).  Every tool runs
# --runs times (default 3), rounds interleaved, and the median wall time is
# reported with the CPU, the SIMD level and simdjson's kernel.  Only the
# ratios within one run mean anything: the machine is shared and noisy.
# Targets (reported, never asserted): driftd >= 0.40 x simdjson's lines/s
# on every shape, configured and discovered; discovered within 1.2 x the
# time of configured; peak RSS < 16 MiB with 100 features.
#
# Needs GNU time, g++ and libsimdjson-dev (tools/install-deps --bench).
# The Markdown goes to stdout and to bench/_out/pipeline.md.
set -eu
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
out=$here/_out
lines=1000000
runs=3
shapes="4 20 100"
driftd=$(dirname "$here")/_build/default/src/driftd

usage() {
	echo "usage: $0 [--lines N] [--runs N] [--features \"4 20 100\"]" \
		"[--driftd PATH]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case $1 in
	--lines) lines=$2 ;;
	--runs) runs=$2 ;;
	--features) shapes=$2 ;;
	--driftd) driftd=$2 ;;
	*) usage ;;
	esac
	shift 2
done
for s in $shapes; do
	case $s in 4 | 20 | 100) ;; *) usage ;; esac
done
say() { echo "pipeline.sh: $*" >&2; }
/usr/bin/time --version 2>&1 | grep -q GNU || { say "needs GNU time"; exit 1; }
[ -x "$driftd" ] || { say "no driftd at $driftd"; exit 1; }
mkdir -p "$out"

sj=$out/simdjson_extract
if [ ! -x "$sj" ] || [ "$here/simdjson_extract.cpp" -nt "$sj" ]; then
	say "building simdjson_extract"
	g++ -O2 -std=c++17 -march=native -o "$sj" "$here/simdjson_extract.cpp" \
		-lsimdjson
fi

# The configuration of a shape: configured features, or discovered.
conf() { # shape mode
	echo "[global]"
	echo "log_level = warn"
	echo "[input]"
	echo "start_at = beginning"
	echo "[model]"
	echo "name = bench"
	echo "confidence = confidence"
	echo "latency = latency_ms"
	echo "timestamp = ts"
	echo "[features]"
	if [ "$2" = discovered ]; then
		echo "discover = features"
	else
		i=0
		while [ $i -lt "$1" ]; do
			echo "features.f$i = numeric"
			i=$((i + 1))
		done
		echo "features.country = categorical"
		echo "features.device = categorical"
	fi
	echo "[reference]"
	echo "capture = 1000"
	echo "[window]"
	echo "size = 1000"
}

# One run: wall seconds and peak RSS (KiB) into $out/last.
measure() { # output-file command...
	local o=$1
	shift
	/usr/bin/time -f "%e %M" -o "$out/last" "$@" >"$o" 2>"$o.err" ||
		{ say "$* failed: $(tail -3 "$o.err")"; return 1; }
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)
simd=baseline
for f in sse4_2 avx2 avx512f; do
	grep -qw "$f" /proc/cpuinfo && simd=$f
done
{
	echo "## Pipeline benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "CPU: $cpu ($simd), $(nproc) cores; $lines lines a log; median of $runs runs."
	echo "driftd: capture = 1000, timestamp, default tests (ks,psi / chi2,psi), size = 1000."
	echo
	echo "| features | simdjson lines/s | configured lines/s | x simdjson | discovered lines/s | x simdjson | discovered / configured time | peak RSS configured / discovered (MiB) |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
} | tee "$out/pipeline.md"

kernel=
for s in $shapes; do
	log=$out/pipeline-$s.jsonl
	if [ ! -s "$log" ] || [ "$(wc -l <"$log")" -ne "$lines" ]; then
		say "generating $log"
		python3 "$here/gen-log.py" --features "$s" --lines "$lines" >"$log"
	fi
	conf "$s" configured >"$out/pipeline-$s-configured.conf"
	conf "$s" discovered >"$out/pipeline-$s-discovered.conf"
	: >"$out/t.simdjson"; : >"$out/t.configured"; : >"$out/t.discovered"
	: >"$out/m.configured"; : >"$out/m.discovered"
	r=0
	while [ $r -lt "$runs" ]; do
		say "features $s, round $((r + 1))"
		measure "$out/sj.out" "$sj" --ts "$log"
		cut -d' ' -f1 "$out/last" >>"$out/t.simdjson"
		for mode in configured discovered; do
			measure "$out/driftd.out" "$driftd" --once \
				-c "$out/pipeline-$s-$mode.conf" "$log"
			cut -d' ' -f1 "$out/last" >>"$out/t.$mode"
			cut -d' ' -f2 "$out/last" >>"$out/m.$mode"
		done
		r=$((r + 1))
	done
	kernel=$(sed -n 's/.*kernel=//p' "$out/sj.out")
	awk -v n="$lines" -v s="$s" \
	    -v tj="$(median <"$out/t.simdjson")" \
	    -v tc="$(median <"$out/t.configured")" \
	    -v td="$(median <"$out/t.discovered")" \
	    -v mc="$(median <"$out/m.configured")" \
	    -v md="$(median <"$out/m.discovered")" 'BEGIN {
		printf "| %d | %.0f | %.0f | %.2f | %.0f | %.2f | %.2f | %.1f / %.1f |\n",
		    s, n / tj, n / tc, tj / tc, n / td, tj / td, td / tc,
		    mc / 1024, md / 1024
	}' | tee -a "$out/pipeline.md"
done
{
	echo
	echo "simdjson: $(sed -n 's/^#define SIMDJSON_VERSION //p' /usr/include/simdjson.h) On-Demand, kernel $kernel, reading the same fields (ts, prediction, confidence, latency_ms, every feature)."
} | tee -a "$out/pipeline.md"
