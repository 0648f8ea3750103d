#!/bin/bash
# The labels benchmark: what joining ground truth costs.  `driftd --once`
# on the 4-feature pipeline log (bench/pipeline.sh makes it; every line
# has a 32-character request_id):
#
#   none     the configuration as it is: no id, no labels
#   waiting  [model] id and an empty label log: every prediction waits
#            (max_pending 1000000, max_delay 30d): the memory of a
#            waiting prediction
#   joined   the same with a label log labelling every prediction, read
#            after the predictions (the join waits on both sides): every
#            prediction inserted, looked up, joined and remembered
#   inline   the labels in the prediction log itself ([model] label): each
#            prediction followed 100 lines later by its label line, with
#            the default max_delay (1h: about 94000 predictions of the log's
#            event time, whose ids are remembered once joined, up to the
#            default max_pending of 100000)
#   inline20 the same on the 20-feature log (bench/pipeline.sh --features
#            20), when there is one: the join costs the same per record,
#            a record of 20 features more than one of 4
#
#   bench/labels.sh [--runs N] [--driftd PATH]
#
# Runs are interleaved; the median wall time, CPU time (user + sys) and the
# peak RSS are reported with the ratio to `none`, the CPU and the SIMD
# level.  Targets (reported, never asserted): the join costs < 10% of
# ingest; a waiting prediction <= 64 bytes beyond its id (the join keeps
# only the id's hash).  The Markdown goes to stdout and to
# bench/_out/labels.md.
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

# A prediction log's label log, and the log with its labels inline.
# Nine labels in ten are the predicted class, the tenth any class seen.
make_labels() {
	[ -s "$2" ] && [ "$2" -nt "$1" ] && return
	/usr/bin/python3 - "$@" <<'EOF'
import json, random, sys
src, labels, inline = sys.argv[1:]
r = random.Random(1)
classes = []
pending = []
with open(src) as f, open(labels, "w") as lab, open(inline, "w") as inl:
    for line in f:
        rec = json.loads(line)
        if rec["prediction"] not in classes:
            classes.append(rec["prediction"])
        truth = rec["prediction"] if r.random() < 0.9 else r.choice(classes)
        text = json.dumps({"request_id": rec["request_id"], "truth": truth},
                          separators=(",", ":")) + "\n"
        lab.write(text)
        inl.write(line)
        pending.append(text)
        if len(pending) > 100:
            inl.write(pending.pop(0))
    inl.writelines(pending)
EOF
}
labels=$out/labels-4.jsonl
inline=$out/labels-4-inline.jsonl
make_labels "$log" "$labels" "$inline"
log20=$out/pipeline-20.jsonl
inline20=
if [ -s "$log20" ] && [ -s "$out/pipeline-20-configured.conf" ]; then
	inline20=$out/labels-20-inline.jsonl
	make_labels "$log20" "$out/labels-20.jsonl" "$inline20"
	{ sed "s/^\[model\]$/[model]\nid = request_id\nlabel = truth/" \
		"$out/pipeline-20-configured.conf"; printf '[labels]\nmax_delay = 1h\n'; } \
		>"$out/labels-inline20.conf"
fi
: >"$out/labels-empty.jsonl"
model_id() { sed "s/^\[model\]$/[model]\nid = request_id${1:+\n$1}/" "$base"; }
cp "$base" "$out/labels-none.conf"
{ model_id; printf '[labels]\npath = %s\nid = request_id\nlabel = truth\nmax_delay = 30d\nmax_pending = 1000000\n' "$out/labels-empty.jsonl"; } >"$out/labels-waiting.conf"
{ model_id; printf '[labels]\npath = %s\nid = request_id\nlabel = truth\nmax_delay = 30d\nmax_pending = 1000000\n' "$labels"; } >"$out/labels-joined.conf"
{ model_id "label = truth"; printf '[labels]\nmax_delay = 1h\n'; } >"$out/labels-inline.conf"

declare -A wall cputime rss
for _ in $(seq "$runs"); do
	for c in none waiting joined inline; do
		file=$log
		[ "$c" = inline ] && file=$inline
		/usr/bin/time -f "%e %U %S %M" -o "$out/labels.time" "$driftd" --once \
			-c "$out/labels-$c.conf" "$file" >"$out/labels-$c.out"
		read -r e u s m <"$out/labels.time"
		wall[$c]="${wall[$c]:-} $e"
		cputime[$c]="${cputime[$c]:-} $(echo "$u + $s" | bc)"
		rss[$c]="${rss[$c]:-} $m"
	done
done
lines=$(wc -l <"$log")
joined=$(sed -n 's/^prediction_labelled_total{model="bench"} //p' "$out/labels-joined.out")
inl=$(sed -n 's/^prediction_labelled_total{model="bench"} //p' "$out/labels-inline.out")
waiting=$(sed -n 's/^prediction_label_pending{model="bench"} //p' "$out/labels-waiting.out")
bw=$(echo "${wall[none]}" | median)
bc_=$(echo "${cputime[none]}" | median)
br=$(echo "${rss[none]}" | median)
{
	echo "CPU: $cpu; SIMD: $simd; $(nproc) cores; $lines predictions; median of $runs runs"
	echo "joined: $joined labelled; inline: $inl labelled; waiting: $waiting pending"
	echo
	echo "| run | wall (s) | wall vs none | CPU (s) | CPU vs none | peak RSS (MiB) |"
	echo "|---|---:|---:|---:|---:|---:|"
	for c in none waiting joined inline; do
		w=$(echo "${wall[$c]}" | median)
		u=$(echo "${cputime[$c]}" | median)
		m=$(echo "${rss[$c]}" | median)
		awk -v n="$c" -v w="$w" -v b="$bw" -v u="$u" -v bu="$bc_" -v m="$m" \
			'BEGIN {printf "| %s | %.2f | %+.1f%% | %.2f | %+.1f%% | %.1f |\n", n, w, 100 * (w / b - 1), u, 100 * (u / bu - 1), m / 1024}'
	done
	# Wall and CPU times on shared machines vary by more than the join
	# costs; the share of CPU samples in the join's own code (with what
	# it calls) is steadier, and taken over several runs.  A sample is
	# the join's when a function of src/labels.c is on its stack: the
	# outermost one decides (the pipeline tail-calls into the join, so
	# the entry points alone miss part of it; window.c and tail.c have
	# static functions named as two of labels.c's, which count only
	# where the pipeline's line callbacks call them).
	if command -v perf >/dev/null 2>&1; then
		echo
		echo "| run | CPU samples in the join's code (perf), median of $runs | range |"
		echo "|---|---:|---:|"
		for c in joined inline ${inline20:+inline20}; do
			file=$log
			[ "$c" = inline ] && file=$inline
			[ "$c" = inline20 ] && file=$inline20
			shares=
			for _ in $(seq "$runs"); do
				perf record -q --call-graph=dwarf,4096 -F 10000 -o "$out/labels.perf" \
					"$driftd" --once -c "$out/labels-$c.conf" "$file" >/dev/null 2>&1 || continue
				shares="$shares $(perf script -i "$out/labels.perf" -F ip,sym 2>/dev/null |
					/usr/bin/python3 "$here/join-share.py" "$here/../src/labels.c")"
			done
			[ -n "$shares" ] || continue
			echo "$shares" | tr ' ' '\n' | grep . | sort -g |
				awk -v n="$c" '{v[NR]=$1} END {printf "| %s | %.1f%% | %.1f-%.1f%% |\n", n, v[int((NR+1)/2)], v[1], v[NR]}'
		done
		rm -f "$out/labels.perf"
	fi
	wr=$(echo "${rss[waiting]}" | median)
	awk -v r="$wr" -v b="$br" -v n="$waiting" \
		'BEGIN {printf "\nwaiting predictions: %.1f bytes each in all (peak RSS over none)\n", (r - b) * 1024 / n}'
} | tee "$out/labels.md"
