#!/bin/sh
# The drift benchmark: time one full evaluation of driftd against SciPy
# doing the same computation, in the same invocation, for K features and a
# window of W records against a reference of 10000 values.
#
#   bench/drift.sh [--driftd PATH] [--runs N]
#
# driftd's time is its own driftd_evaluation_duration_seconds, warm, in the
# daemon (the evaluation alone, not reading the log); SciPy's is
# the median wall time of the same tests in bench/drift-scipy.py, both over
# --runs runs.  Also reported: the evaluation of one column (an
# evaluation yields to the event loop between columns, so this bounds how
# long ingest can wait), and the resident memory the windows and references
# of the largest case add, against their raw size.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
driftd=$top/_build/default/src/driftd
runs=3
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

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# driftd's evaluation time, warm: the daemon reads the log, evaluates
# every 200 ms, and the mean of evaluations 2 to RUNS+1 is taken from its
# own driftd_evaluation_duration_seconds (the first one, on cold memory,
# is left out, as SciPy's first run is not counted either: it reports the
# median of warm runs).
driftd_eval() {	# dir -> seconds per evaluation
	"$py" - "$driftd" "$1" "$runs" <<'PY'
import os, re, signal, subprocess, sys, tempfile, time, urllib.request
driftd, d, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
conf = open(os.path.join(d, "driftd.conf")).read().replace(
    "evaluate_every = 1s", "evaluate_every = 200ms")
conf += f"[input]\npath = {d}/log.jsonl\nstart_at = beginning\n"
with tempfile.TemporaryDirectory() as t:
    c = os.path.join(t, "c.conf")
    open(c, "w").write(conf)
    errpath = os.path.join(t, "err")
    p = subprocess.Popen([driftd, "-c", c, "--listen", "127.0.0.1:0"],
                         stderr=open(errpath, "w"))
    try:
        port = None
        for _ in range(1200):
            m = re.search(r"\(port (\d+)\)", open(errpath).read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.05)
        def hist():
            text = urllib.request.urlopen(
                f"http://127.0.0.1:{port}/metrics").read().decode()
            s = float(re.search(r"^driftd_evaluation_duration_seconds_sum (\S+)$", text, re.M).group(1))
            n = float(re.search(r"^driftd_evaluation_duration_seconds_count (\S+)$", text, re.M).group(1))
            lag = re.search(r"^driftd_log_lag_bytes\{[^}]*\} (\S+)$", text, re.M)
            return s, n, float(lag.group(1)) if lag else 0
        # Wait for the whole log, then one evaluation after that.
        while True:
            s0, n0, lag = hist()
            if lag == 0 and n0 >= 1:
                break
            time.sleep(0.1)
        while hist()[1] < n0 + 1:
            time.sleep(0.05)
        s1, n1, _ = hist()
        while hist()[1] < n1 + runs:
            time.sleep(0.05)
        s2, n2, _ = hist()
        print(f"{(s2 - s1) / (n2 - n1):.9f}")
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()
PY
}

echo "# driftd drift evaluation benchmark"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- machine: $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
echo "- reference: $R values per column; default tests (ks, psi; wasserstein decides)"
echo "- driftd: mean of $runs warm evaluations in the daemon (driftd_evaluation_duration_seconds); SciPy: median of $runs runs"
echo
echo "| K | W | driftd ms | SciPy ms | SciPy / driftd |"
echo "|---:|---:|---:|---:|---:|"
for K in 4 20 100; do
	for W in 1000 10000; do
		d=$out/k$K-w$W
		[ -f "$d/driftd.conf" ] || "$py" "$here/drift-gen.py" $K $W $R "$d"
		t_d=$(driftd_eval "$d")
		t_s=$("$py" "$here/drift-scipy.py" "$d" "$runs")
		echo "$K $W $t_d $t_s" | awk '{ printf "| %d | %d | %.3f | %.1f | %.0f |\n", $1, $2, $3 * 1000, $4 * 1000, $4 / $3 }'
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
