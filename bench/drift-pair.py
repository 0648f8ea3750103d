#!/usr/bin/python3
"""Time driftd's evaluation and SciPy's, alternately, on one drift-gen.py
case.  Prints three figures: the median driftd evaluation in seconds, the
median SciPy evaluation in seconds, and the median of the per-pair ratios
SciPy / driftd.

usage: drift-pair.py DRIFTD OUTDIR RUNS

driftd runs as a daemon that reads the case's log and evaluates every
200 ms.  Each pair takes one warm evaluation from driftd's own
driftd_evaluation_duration_seconds (the evaluation alone, not reading or
scrapes), then stops the daemon (SIGSTOP) and runs SciPy once, so the two
never share the CPU and both see the same state of the machine.  The
first evaluation of each side, on cold memory, is not counted.  A ratio
per pair rather than a ratio of two separate averages keeps the machine's
swings in speed, which last seconds, out of the ratio.
"""
import importlib.util
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "drift_scipy", os.path.join(here, "drift-scipy.py"))
drift_scipy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(drift_scipy)


def scrape(port):
    text = urllib.request.urlopen(
        f"http://127.0.0.1:{port}/metrics").read().decode()

    def value(pattern):
        m = re.search(pattern, text, re.M)
        return float(m.group(1)) if m else None
    return (value(r"^driftd_evaluation_duration_seconds_sum (\S+)$"),
            value(r"^driftd_evaluation_duration_seconds_count (\S+)$"),
            value(r"^driftd_log_lag_bytes\{[^}]*\} (\S+)$") or 0)


def main():
    driftd, d, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ref = np.ascontiguousarray(np.load(os.path.join(d, "ref.npy")))
    win = np.ascontiguousarray(np.load(os.path.join(d, "win.npy")))
    conf = open(os.path.join(d, "driftd.conf")).read().replace(
        "evaluate_every = 1s", "evaluate_every = 200ms")
    conf += f"[input]\npath = {d}/log.jsonl\nstart_at = beginning\n"
    with tempfile.TemporaryDirectory() as t:
        c = os.path.join(t, "c.conf")
        with open(c, "w") as f:
            f.write(conf)
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
            # The whole log read and one evaluation after that.
            while True:
                s0, n0, lag = scrape(port)
                if lag == 0 and n0 and n0 >= 1:
                    break
                time.sleep(0.05)
            # Stopped right after an evaluation, the daemon stops between
            # evaluations: the next one is 200 ms away.
            s0, n0, _ = scrape(port)
            ours, theirs = [], []
            for i in range(runs + 1):
                p.send_signal(signal.SIGCONT)
                while True:
                    s1, n1, _ = scrape(port)
                    if n1 > n0:
                        break
                    time.sleep(0.01)
                p.send_signal(signal.SIGSTOP)
                t0 = time.perf_counter()
                drift_scipy.evaluate(ref, win)
                t1 = time.perf_counter() - t0
                if i > 0:
                    ours.append((s1 - s0) / (n1 - n0))
                    theirs.append(t1)
                s0, n0 = s1, n1
        finally:
            p.send_signal(signal.SIGCONT)
            p.send_signal(signal.SIGTERM)
            p.wait()
    ratios = [b / a for a, b in zip(ours, theirs)]
    print(f"{statistics.median(ours):.9f} {statistics.median(theirs):.6f} "
          f"{statistics.median(ratios):.1f} {min(ratios):.1f} {max(ratios):.1f}")


main()
