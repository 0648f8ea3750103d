#!/bin/bash
# The ingest benchmark: how fast does `driftd --once` turn a prediction log
# into records, next to other ways of getting the same fields out of it?
#
#   bench/ingest.sh [--lines N] [--jq-lines N] [--runs N] [--features "4 20"]
#                   [--driftd PATH]
#
# For each log shape (4 and 20 numeric features, plus 2 categorical) it
# generates a log of N lines (default 1000000, cached in bench/_out/), then
# runs on it, in the same invocation:
#
#   driftd     driftd --once -c bench/driftd-bench[-20].conf FILE
#   simdjson   bench/simdjson_extract.cpp: On-Demand iterate_many, the
#              near-limit reference
#   jsmn       bench/jsmn_extract.c: jsmn tokenizer + strtod, a plain C loop
#   mtail      bench/ingest.mtail in -one_shot mode: class, confidence,
#              latency by regex
#   jq         jq -c '[.prediction,.confidence,.latency_ms,.features]'
#
# Each is run --runs times (default 3, rounds interleaved so that a noisy
# moment of the machine hits every tool alike) and the median wall time,
# CPU time (user + sys) and peak RSS are reported, as a Markdown table per
# file (with the lines/s of the slowest and the fastest run, to show the
# noise), followed by driftd's ratios to the baselines against the targets:
# driftd >= 0.40 x simdjson's lines/s, >= 20 x mtail's, peak RSS < 16 MiB.
# Only ratios within one run mean anything; the machine is shared and noisy.
# The benchmark never fails on a figure: it reports.
#
# jq is slow (~60k lines/s), so it runs on the first --jq-lines lines only
# (default 200000; 0 = the whole file) and its figures are scaled; the table
# says so.  A tool that is missing or fails is reported as such, and the
# rest still run.  tools/install-deps --bench installs everything.
#
# The Markdown goes to stdout and to bench/_out/results.md; progress to
# stderr.
set -eu
export LC_ALL=C # "." as the decimal point in EPOCHREALTIME and awk

here=$(cd "$(dirname "$0")" && pwd)
out=$here/_out

lines=1000000
jq_lines=200000
runs=3
shapes="4 20"
driftd=$(dirname "$here")/_build/default/src/driftd

usage() {
	echo "usage: $0 [--lines N] [--jq-lines N] [--runs N]" \
		"[--features \"4 20\"] [--driftd PATH]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case $1 in
	--lines) lines=$2 ;;
	--jq-lines) jq_lines=$2 ;;
	--runs) runs=$2 ;;
	--features) shapes=$2 ;;
	--driftd) driftd=$2 ;;
	*) usage ;;
	esac
	shift 2
done
for n in "$lines" "$jq_lines" "$runs"; do
	case $n in '' | *[!0-9]*) usage ;; esac
done
if [ "$lines" -eq 0 ] || [ "$runs" -eq 0 ]; then usage; fi
for s in $shapes; do
	case $s in 4 | 20) ;; *) usage ;; esac
done

say() { echo "ingest.sh: $*" >&2; }

# GNU time measures CPU and peak RSS; without it there is no benchmark.
if ! /usr/bin/time --version 2>&1 | grep -q GNU; then
	say "needs GNU time as /usr/bin/time (tools/install-deps --bench)"
	exit 1
fi
python=$(command -v python3 || true)
[ -n "$python" ] || { say "needs python3 for gen-log.py"; exit 1; }

mkdir -p "$out"

# ---------------------------------------------------------------- build
# A tool that cannot be built is recorded in missing_<tool> and shown in
# the tables instead of figures.
missing_driftd='' missing_simdjson='' missing_jsmn='' missing_mtail='' missing_jq=''

# Is $1 missing or older than its source $2?
stale() { [ ! -x "$1" ] || [ "$2" -nt "$1" ]; }

# -march=native: see simdjson_extract.cpp; without it On-Demand compiles
# its scalar fallback kernel.
sj=$out/simdjson_extract
if [ ! -f /usr/include/simdjson.h ] || ! command -v g++ >/dev/null; then
	missing_simdjson="missing (libsimdjson-dev, g++)"
elif stale "$sj" "$here/simdjson_extract.cpp"; then
	say "building simdjson_extract"
	g++ -O2 -std=c++17 -march=native -o "$sj" \
		"$here/simdjson_extract.cpp" -lsimdjson 2>"$sj.log" ||
		missing_simdjson="build failed (bench/_out/simdjson_extract.log)"
fi
jm=$out/jsmn_extract
if [ ! -f /usr/include/jsmn.h ] || ! command -v gcc >/dev/null; then
	missing_jsmn="missing (libjsmn-dev, gcc)"
elif stale "$jm" "$here/jsmn_extract.c"; then
	say "building jsmn_extract"
	gcc -O2 -o "$jm" "$here/jsmn_extract.c" 2>"$jm.log" ||
		missing_jsmn="build failed (bench/_out/jsmn_extract.log)"
fi
command -v mtail >/dev/null || missing_mtail="missing (mtail)"
command -v jq >/dev/null || missing_jq="missing (jq)"
case $driftd in
*/*) ;;
*) driftd=$(command -v "$driftd" || echo "$driftd") ;; # a name on PATH
esac
if [ ! -x "$driftd" ]; then
	missing_driftd="not built ($driftd)"
elif [ "$(head -c 4 "$driftd")" = "$(printf '\177ELF')" ]; then
	# Measure a copy, so that a rebuild of the tree during the run (make
	# in another terminal) cannot change the program between rounds.
	cp "$driftd" "$out/driftd.tmp"
	mv "$out/driftd.tmp" "$out/driftd"
	driftd_cmd=$out/driftd
fi
driftd_cmd=${driftd_cmd:-$driftd}

# mtail loads every program in a directory: give it one holding only ours.
mkdir -p "$out/mtail-progs"
cp "$here/ingest.mtail" "$out/mtail-progs/ingest.mtail"

# ---------------------------------------------------------------- report
results=$out/results.md
: >"$results"
# A line of the report: to stdout and to bench/_out/results.md.
md() { printf '%s\n' "$*" | tee -a "$results"; }

# awk helpers: thousands separators, and arithmetic on decimals.
calc() { awk "BEGIN { $1 }" </dev/null; }
group() {
	calc "s = sprintf(\"%.0f\", $1); r = \"\";
	      while (length(s) > 3) { r = \",\" substr(s, length(s) - 2) r;
	                               s = substr(s, 1, length(s) - 3) }
	      print s r"
}

# median COLUMN FILE: the middle value of a column (the mean of the middle
# two for an even count).
median() {
	awk -v c="$1" '{ print $c }' "$2" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2];
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
ver() { "$@" 2>&1 | head -n 1 || true; }
md "# driftd ingest benchmark"
md ""
md "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
md "- machine: $cpu, $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
md "- driftd: ${missing_driftd:-$driftd ($(ver "$driftd_cmd" --version))}"
md "- simdjson: ${missing_simdjson:-$(sed -n 's/^#define SIMDJSON_VERSION //p' /usr/include/simdjson.h) (On-Demand iterate_many, g++ -O2 -march=native)}"
md "- jsmn: ${missing_jsmn:-libjsmn-dev $(dpkg-query -W -f='${Version}' libjsmn-dev 2>/dev/null || echo '?') (strict mode) + strtod, gcc -O2}"
md "- mtail: ${missing_mtail:-$(ver mtail --version | awk '{ print $3 }') (-one_shot)}"
md "- jq: ${missing_jq:-$(ver jq --version)}"
md "- median of $runs runs each; rounds interleaved across tools; lines/s and MB/s (10^6 bytes) from wall time, CPU s = user + sys"

# ---------------------------------------------------------------- measure
# measure TOOL STDOUT COMMAND...: run COMMAND once under GNU time and
# append "wall_s cpu_s rss_kib exit_status" to $res.TOOL.  Wall time comes
# from the shell's microsecond clock (GNU time's %e has 10 ms steps).
measure() {
	m_tool=$1 m_stdout=$2
	shift 2
	m_t0=$EPOCHREALTIME
	if /usr/bin/time -f '%U %S %M' -o "$out/time.tmp" "$@" \
		>"$m_stdout" 2>"$out/$m_tool.err"; then
		m_rc=0
	else
		m_rc=$?
	fi
	m_t1=$EPOCHREALTIME
	# On failure GNU time writes "Command exited with ..." first.
	read -r m_user m_sys m_rss < <(tail -n 1 "$out/time.tmp")
	echo "$(calc "printf \"%.6f\", $m_t1 - $m_t0")" \
		"$(calc "print $m_user + $m_sys")" "$m_rss" "$m_rc" >>"$res.$m_tool"
}

# How many lines the tool says it used, from its output of the last run
# ("" when it does not say).
count_of() {
	case $1 in
	driftd)
		awk '$1 ~ /^prediction_records_total[{ ]/ { printf "%.0f\n", $NF; exit }' \
			"$out/driftd.out" ;;
	simdjson | jsmn) awk '{ print $2; exit }' "$out/$1.out" ;;
	mtail)
		awk '$1 ~ /^prediction_records_total[{ ]/ { printf "%.0f\n", $NF; exit }' \
			"$out/mtail.out" ;;
	esac
}

tools="driftd simdjson jsmn mtail jq"
for shape in $shapes; do
	# ------------------------------------------------------ the logs
	log=$out/log-f$shape-$lines.jsonl
	if [ ! -s "$log" ] || [ "$here/gen-log.py" -nt "$log" ]; then
		say "generating $(basename "$log")"
		"$python" "$here/gen-log.py" --features "$shape" --lines "$lines" \
			>"$log.tmp"
		mv "$log.tmp" "$log"
	fi
	bytes=$(wc -c <"$log")
	jq_log=$log jq_n=$lines
	if [ "$jq_lines" -gt 0 ] && [ "$jq_lines" -lt "$lines" ]; then
		jq_n=$jq_lines
		jq_log=$out/log-f$shape-$lines-head$jq_n.jsonl
		if [ ! -s "$jq_log" ] || [ "$log" -nt "$jq_log" ]; then
			head -n "$jq_n" "$log" >"$jq_log"
		fi
	fi
	jq_bytes=$(wc -c <"$jq_log")
	conf=$here/driftd-bench.conf
	[ "$shape" = 4 ] || conf=$here/driftd-bench-$shape.conf
	cat "$log" "$jq_log" >/dev/null # into the page cache, untimed

	# ------------------------------------------------------ the runs
	res=$out/res-f$shape
	rm -f "$res".*
	for round in $(seq "$runs"); do
		for tool in $tools; do
			eval "miss=\$missing_$tool"
			[ -z "$miss" ] || continue
			say "$shape features, round $round/$runs: $tool"
			case $tool in
			driftd) measure driftd "$out/driftd.out" \
				"$driftd_cmd" --once -c "$conf" "$log" ;;
			simdjson) measure simdjson "$out/simdjson.out" "$sj" "$log" ;;
			jsmn) measure jsmn "$out/jsmn.out" "$jm" "$log" ;;
			# -port 0 on 127.0.0.1: one-shot mode still opens its
			# HTTP listener; this keeps it local and conflict-free.
			mtail) measure mtail "$out/mtail.out" \
				mtail -one_shot -one_shot_format prometheus \
				-progs "$out/mtail-progs" -logs "$log" \
				-logtostderr -address 127.0.0.1 -port 0 ;;
			jq) measure jq /dev/null \
				jq -c '[.prediction,.confidence,.latency_ms,.features]' \
				"$jq_log" ;;
			esac
			# A count that is off is worth a note, not a stop.
			if [ "$tool" != jq ]; then
				n=$(count_of "$tool")
				[ "$n" = "$lines" ] ||
					echo "${n:-no}" >"$res.$tool.count"
			fi
		done
	done

	# ------------------------------------------------------ the table
	md ""
	md "## $shape numeric features + 2 categorical: $(basename "$log")"
	md ""
	md "$lines lines, $(calc "printf \"%.1f\", $bytes / 1e6") MB," \
		"$(calc "printf \"%.0f\", $bytes / $lines") bytes/line"
	md ""
	md "| tool | lines/s | range of runs | MB/s | CPU s | peak RSS MiB | note |"
	md "|---|---:|---:|---:|---:|---:|---|"
	rate_driftd='' rate_simdjson='' rate_mtail='' rss_driftd=''
	for tool in $tools; do
		eval "miss=\$missing_$tool"
		if [ -n "$miss" ]; then
			md "| $tool | – | – | – | – | – | $miss |"
			continue
		fi
		fails=$(awk '$4 != 0 { n++; rc = $4 } END { if (n) print rc }' "$res.$tool")
		if [ -n "$fails" ]; then
			why=$(grep -v '^[[:space:]]*$' "$out/$tool.err" | head -n 1 |
				cut -c 1-100 | tr '|' '/')
			md "| $tool | failed | – | – | – | – | exit $fails: ${why:-no message} |"
			continue
		fi
		wall=$(median 1 "$res.$tool")
		cpus=$(median 2 "$res.$tool")
		rss=$(median 3 "$res.$tool")
		n=$lines b=$bytes note=
		if [ "$tool" = jq ] && [ "$jq_n" != "$lines" ]; then
			n=$jq_n b=$jq_bytes
			note="run on the first $jq_n lines; CPU s scaled to $lines"
		fi
		if [ "$tool" = simdjson ]; then
			note="On-Demand kernel: $(sed -n 's/.* kernel=//p' "$out/simdjson.out")"
		fi
		if [ -f "$res.$tool.count" ]; then
			c=$(cat "$res.$tool.count")
			if [ "$c" = no ]; then
				c="reported no count of lines"
			else
				c="counted $c of $lines lines"
			fi
			note="${note:+$note; }$c"
		fi
		rate=$(calc "print $n / $wall")
		# The slowest and the fastest run, to show how noisy this was.
		slow=$(sort -g "$res.$tool" | tail -n 1 | awk '{ print $1 }')
		fast=$(sort -g "$res.$tool" | head -n 1 | awk '{ print $1 }')
		md "| $tool | $(group "$rate") |" \
			"$(group "$n / $slow")–$(group "$n / $fast") |" \
			"$(calc "printf \"%.0f\", $b / $wall / 1e6") |" \
			"$(calc "printf \"%.2f\", $cpus * $lines / $n") |" \
			"$(calc "printf \"%.1f\", $rss / 1024") | $note |"
		eval "rate_$tool=\$rate"
		[ "$tool" != driftd ] || rss_driftd=$rss
	done

	# ------------------------------------------------------ the targets
	md ""
	if [ -z "$rate_driftd" ]; then
		md "Targets: not evaluated, driftd has no figures in this run."
		continue
	fi
	if [ -f "$res.driftd.count" ]; then
		md "- driftd did not account for every line (see its row): the ratios below do not measure a full ingest."
	fi
	verdict() { calc "print ($1) ? \"met\" : \"NOT met\""; }
	if [ -n "$rate_simdjson" ]; then
		r=$(calc "print $rate_driftd / $rate_simdjson")
		md "- driftd / simdjson lines/s: **$(calc "printf \"%.2f\", $r")** (target >= 0.40: $(verdict "$r >= 0.40"))"
	else
		md "- driftd / simdjson lines/s: no simdjson figure in this run"
	fi
	if [ -n "$rate_mtail" ]; then
		r=$(calc "print $rate_driftd / $rate_mtail")
		md "- driftd / mtail lines/s: **$(calc "printf \"%.1f\", $r")** (target >= 20: $(verdict "$r >= 20"))"
	else
		md "- driftd / mtail lines/s: no mtail figure in this run"
	fi
	r=$(calc "printf \"%.1f\", $rss_driftd / 1024")
	md "- driftd peak RSS: **$r MiB** (target < 16 MiB: $(verdict "$rss_driftd < 16 * 1024"))"
done
say "report written to bench/_out/results.md"
