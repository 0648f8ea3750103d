#!/bin/sh
# The drift benchmark: time one full evaluation of driftd against SciPy
# doing the same computation, in the same invocation, for K features and a
# window of W records against a reference of 10000 values.
#
#   bench/drift.sh [--driftd PATH] [--runs N]
#
# bench/drift-pair.py times the two alternately, --runs pairs per point:
# one warm evaluation of the daemon, from its own
# driftd_evaluation_duration_seconds (the evaluation alone, not reading the
# log), then one run of the same tests in bench/drift-scipy.py while the
# daemon is stopped; the ratio is taken per pair.  Also reported: the evaluation of one column (an
# evaluation yields to the event loop between columns, so this bounds how
# long ingest can wait), and the resident memory the windows and references
# of the largest case add, against their raw size.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
driftd=$top/_build/default/src/driftd
runs=5
py=/usr/bin/python3
while [ $# -gt 0 ]; do
	case $1 in
	--driftd) driftd=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	*) echo "usage: $0 [--driftd PATH] [--runs N]" >&2; exit 2 ;;
	esac
done
out=$here/_out/drift
mkdir -p "$out"
R=10000

# driftd's evaluation time, warm, from its own
# driftd_evaluation_duration_seconds, for the one-column case.
driftd_eval() {	# dir -> seconds per evaluation
	"$py" "$here/drift-pair.py" "$driftd" "$1" "$runs" | cut -d' ' -f1
}

echo "# driftd drift evaluation benchmark"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- machine: $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
echo "- reference: $R values per column; default tests (ks, psi; wasserstein decides)"
echo "- $runs pairs per point, each one warm evaluation in the daemon (driftd_evaluation_duration_seconds) then one SciPy run while the daemon is stopped; medians, and the median, lowest and highest of the per-pair ratios"
echo
echo "| K | W | driftd ms | SciPy ms | SciPy / driftd | lowest | highest |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for K in 4 20 100; do
	for W in 1000 10000; do
		d=$out/k$K-w$W
		[ -f "$d/driftd.conf" ] || "$py" "$here/drift-gen.py" $K $W $R "$d"
		"$py" "$here/drift-pair.py" "$driftd" "$d" "$runs" |
		    awk -v K=$K -v W=$W '{ printf "| %d | %d | %.3f | %.1f | %.0f | %.0f | %.0f |\n", K, W, $1 * 1000, $2 * 1000, $3, $4, $5 }'
	done
done

# The longest a single column takes: K = 1, W = 10000.
d=$out/k1-w10000
[ -f "$d/driftd.conf" ] || "$py" "$here/drift-gen.py" 1 10000 $R "$d"
t1=$(driftd_eval "$d")
echo
echo "One column, W = 10000: $(echo "$t1" | awk '{ printf "%.3f", $1 * 1000 }') ms per evaluation slice (target: ingest never waits more than 5 ms)."

# Memory of windows and references, K = 100, W = 10000, in the daemon.
"$py" - "$driftd" "$out/k100-w10000" <<'PY'
import os, re, signal, subprocess, sys, tempfile, time, urllib.request
driftd, d = sys.argv[1], sys.argv[2]
def rss(conf_text, records):
    with tempfile.TemporaryDirectory() as t:
        c = os.path.join(t, "c.conf")
        open(c, "w").write(conf_text)
        errpath = os.path.join(t, "err")
        err = open(errpath, "w")
        p = subprocess.Popen([driftd, "-c", c, "--listen", "127.0.0.1:0"],
                             stderr=err)
        try:
            port = None
            for _ in range(600):
                m = re.search(r"\(port (\d+)\)", open(errpath).read())
                if m:
                    port = int(m.group(1)); break
                time.sleep(0.05)
            for _ in range(1200):
                text = urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/metrics").read().decode()
                n = re.search(r'prediction_records_total\{[^}]*\} (\S+)', text)
                e = re.search(r'driftd_evaluation_duration_seconds_count (\S+)', text)
                if n and float(n.group(1)) >= records and e and float(e.group(1)) >= 1:
                    return float(re.search(r'^process_resident_memory_bytes (\S+)$', text, re.M).group(1))
                time.sleep(0.1)
            raise SystemExit("driftd did not finish reading")
        finally:
            p.send_signal(signal.SIGTERM); p.wait()
base = open(os.path.join(d, "driftd.conf")).read()
full = base + f"[input]\npath = {d}/log.jsonl\nstart_at = beginning\n"
tiny_ref = os.path.join(d, "tiny-ref.csv")
with open(os.path.join(d, "ref.csv")) as f, open(tiny_ref, "w") as g:
    g.write(f.readline()); g.write(f.readline())
empty = full.replace(os.path.join(d, "ref.csv"), tiny_ref).replace(
    "size = 10000", "size = 1\nmin_samples = 1")
a = rss(full, 10000)
b = rss(empty, 10000)
raw = 100 * (10000 + 10000) * 8
print(f"\nMemory, K = 100, W = 10000, R = 10000: resident {a/2**20:.1f} MiB against "
      f"{b/2**20:.1f} MiB with a 1-record window and a 1-row reference: "
      f"{(a-b)/2**20:.1f} MiB for {raw/2**20:.1f} MiB of raw values, "
      f"{(a-b)/raw:.2f}x (target <= 1.5x).")
PY
