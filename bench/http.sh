#!/bin/sh
# The HTTP benchmark: /metrics latency and throughput with wrk at 1, 10 and
# 100 connections, plain and gzip, for a daemon watching 100 features; and
# ingest throughput while scrapes run against ingest without scrapes, in
# the same invocation.
#
#   bench/http.sh [--driftd PATH] [--seconds N] [--rounds N]
#
# On a machine with two cores or more, driftd runs on CPU 1 and wrk on
# CPU 0 (taskset), as a scraper runs on another machine or at least
# another core in production: sharing one core, the two take turns and
# the latency measured is the scheduler's.  Each configuration runs
# --rounds times; the table gives the median of each figure and the range
# of p99.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
driftd=$top/_build/default/src/driftd
seconds=5
rounds=3
py=/usr/bin/python3
while [ $# -gt 0 ]; do
	case $1 in
	--driftd) driftd=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	*) echo "usage: $0 [--driftd PATH] [--seconds N] [--rounds N]" >&2; exit 2 ;;
	esac
done
command -v wrk >/dev/null || { echo "wrk is not installed (tools/install-deps --bench)" >&2; exit 1; }
out=$here/_out/http
mkdir -p "$out"
data=$here/_out/drift/k100-w10000
[ -f "$data/driftd.conf" ] || "$py" "$here/drift-gen.py" 100 10000 10000 "$data"

"$py" - "$driftd" "$data" "$out" "$seconds" "$rounds" <<'PY'
import json, os, re, signal, statistics, subprocess, sys, tempfile, threading, time, urllib.request
driftd, data, out = sys.argv[1], sys.argv[2], sys.argv[3]
seconds, rounds = int(sys.argv[4]), int(sys.argv[5])
# The daemon on CPU 1, wrk on CPU 0, where there are two.
pinned = len(os.sched_getaffinity(0)) >= 2
pin_driftd = ["taskset", "-c", "1"] if pinned else []
pin_wrk = ["taskset", "-c", "0"] if pinned else []

def start(conf_text):
    t = tempfile.mkdtemp(prefix="driftd-http-")
    c = os.path.join(t, "c.conf")
    open(c, "w").write(conf_text)
    errpath = os.path.join(t, "err")
    p = subprocess.Popen(pin_driftd + [driftd, "-c", c, "--listen", "127.0.0.1:0"],
                         stderr=open(errpath, "w"))
    for _ in range(600):
        m = re.search(r"\(port (\d+)\)", open(errpath).read())
        if m:
            return p, int(m.group(1))
        time.sleep(0.05)
    raise SystemExit("driftd did not start")

def scrape(port, path="/metrics"):
    return urllib.request.urlopen(f"http://127.0.0.1:{port}{path}").read().decode()

def value(text, pattern):
    m = re.search(pattern, text, re.M)
    return float(m.group(1)) if m else None

base = open(os.path.join(data, "driftd.conf")).read()

# 1. Latency with 100 evaluated features.
p, port = start(base + f"[input]\npath = {data}/log.jsonl\nstart_at = beginning\n")
try:
    for _ in range(600):
        t = scrape(port)
        if (value(t, r"^driftd_evaluation_duration_seconds_count (\S+)$") or 0) >= 1:
            break
        time.sleep(0.1)
    size = len(scrape(port))
    print(f"/metrics for 100 features: {size} bytes, "
          f"{len(t.splitlines())} lines; "
          f"{'driftd on CPU 1, wrk on CPU 0' if pinned else 'one core, shared'}; "
          f"{rounds} rounds of {seconds} s per row\n")
    print("| connections | encoding | requests/s | p50 ms | p99 ms | p99 range ms |")
    print("|---:|---|---:|---:|---:|---:|")

    def lat(o, pct):
        v = re.search(rf"^\s+{pct}%\s+(\S+)$", o, re.M).group(1)
        mult = {"us": 1e-3, "ms": 1, "s": 1e3}[re.sub(r"[\d.]", "", v)]
        return float(re.sub(r"[a-z]", "", v)) * mult

    for conns in (1, 10, 100):
        for enc in ("plain", "gzip"):
            hdr = ["-H", "Accept-Encoding: gzip"] if enc == "gzip" else []
            rps, p50, p99 = [], [], []
            for _ in range(rounds):
                o = subprocess.run(pin_wrk + ["wrk", "-t", "1",
                                    "-c", str(conns), "-d", f"{seconds}s",
                                    "--latency"] + hdr +
                                   [f"http://127.0.0.1:{port}/metrics"],
                                   capture_output=True, text=True).stdout
                rps.append(float(re.search(r"Requests/sec:\s+(\S+)", o).group(1)))
                p50.append(lat(o, 50))
                p99.append(lat(o, 99))
            med = statistics.median
            print(f"| {conns} | {enc} | {med(rps):,.0f} | {med(p50):.3f} | "
                  f"{med(p99):.3f} | {min(p99):.3f}–{max(p99):.3f} |")
finally:
    p.send_signal(signal.SIGTERM); p.wait()

# 2. Ingest with and without scrapes (20 scrapes/s, two clients, as two
#    Prometheus servers at a 100 ms interval would never do but a busy
#    agent might).
big = os.path.join(out, "big.jsonl")
if not os.path.exists(big):
    with open(os.path.join(data, "log.jsonl")) as f:
        lines = f.read()
    with open(big, "w") as f:
        for _ in range(30):
            f.write(lines)
nlines = sum(1 for _ in open(big))

def ingest_rate(with_scrapes):
    p, port = start(base.replace("evaluate_every = 1s", "evaluate_every = 1s") +
                    f"[input]\npath = {big}\nstart_at = beginning\n")
    stop = threading.Event()
    scrapes = [0]
    def scraper():
        while not stop.is_set():
            scrape(port)
            scrapes[0] += 1
            time.sleep(0.1)
    threads = [threading.Thread(target=scraper) for _ in range(2 if with_scrapes else 0)]
    t0 = time.monotonic()
    for th in threads:
        th.start()
    try:
        while True:
            n = value(scrape(port, "/metrics"),
                      r'^prediction_records_total\{[^}]*\} (\S+)$') or 0
            if n >= nlines:
                break
            time.sleep(0.05)
        return nlines / (time.monotonic() - t0), scrapes[0]
    finally:
        stop.set()
        for th in threads:
            th.join()
        p.send_signal(signal.SIGTERM); p.wait()

r0, _ = ingest_rate(False)
r1, n1 = ingest_rate(True)
r2, _ = ingest_rate(False)
r3, n3 = ingest_rate(True)
base_rate, load_rate = (r0 + r2) / 2, (r1 + r3) / 2
print(f"\nIngest of {nlines} lines (100 features): {base_rate:,.0f} lines/s "
      f"without scrapes, {load_rate:,.0f} lines/s with {n1 + n3} scrapes at "
      f"~20/s: {load_rate / base_rate:.2f} (target >= 0.90).")
PY
