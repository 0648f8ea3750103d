#!/usr/bin/env python3
"""How /metrics answers while driftd evaluates MMD: a real daemon follows
a log of 512-dimension embeddings (100 lines a second), evaluates every
second, and a client scrapes /metrics every 10 ms on a fresh connection.
The same runs with the vector column configured (MMD of 500 + 500
vectors, 100 permutations, every second) and without it (the same log,
only a numeric feature tested), interleaved, in one invocation; the
target is a scrape p99 with MMD within 2x of the p99 without.

    bench/mmd-scrape.py --driftd PATH [--seconds N] [--rounds N]

Markdown to stdout.
"""

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request

import numpy as np

DIM = 512


def start(binary, conf, workdir):
    path = os.path.join(workdir, "driftd.conf")
    with open(path, "w") as f:
        f.write(conf)
    err = open(os.path.join(workdir, "stderr.log"), "wb")
    proc = subprocess.Popen([binary, "-c", path, "--listen", "127.0.0.1:0"],
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        m = re.search(rb"listening on \S+ \(port (\d+)\)",
                      open(err.name, "rb").read())
        if m:
            return proc, int(m.group(1)), err
        time.sleep(0.01)
    proc.kill()
    raise RuntimeError("driftd did not start")


def scrape(port):
    t0 = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                timeout=30) as r:
        body = r.read()
    return (time.monotonic() - t0) * 1e3, body


def one_run(binary, with_mmd, seconds, workdir, rng):
    log = os.path.join(workdir, "p.log")
    ref = os.path.join(workdir, "ref.jsonl")
    if not os.path.exists(ref):
        with open(ref, "w") as f:
            for _ in range(500):
                f.write(json.dumps({"emb": np.round(rng.normal(size=DIM),
                                                    4).tolist(),
                                    "x": float(rng.normal())}) + "\n")
    open(log, "w").close()
    conf = ("[input]\npath = %s\n"
            "poll_interval = 100ms\n[model]\nname = m\nclass = prediction\n"
            "confidence =\n[features]\nx = numeric\n%s"
            "[reference]\nfile = %s\n[window]\nsize = 1000\n"
            "evaluate_every = 1s\n[drift]\nmmd_samples = 500\n"
            "mmd_permutations = 100\n") % (
                log, "emb = vector\n" if with_mmd else "", ref)
    proc, port, err = start(binary, conf, workdir)
    stop = threading.Event()
    lines = [json.dumps({"prediction": "a", "x": float(rng.normal()),
                         "emb": np.round(rng.normal(0.1, 1, size=DIM),
                                         4).tolist()}) + "\n"
             for _ in range(200)]

    def writer():
        k = 0
        with open(log, "a") as f:
            while not stop.is_set():
                f.write("".join(lines[(k + i) % 200] for i in range(10)))
                f.flush()
                k += 10
                time.sleep(0.1)

    w = threading.Thread(target=writer, daemon=True)
    w.start()
    time.sleep(3)                    # the window fills, evaluations start
    times = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ms, _ = scrape(port)
        times.append(ms)
        time.sleep(0.01)
    _, body = scrape(port)
    stop.set()
    w.join()
    evals = re.search(rb"driftd_evaluation_duration_seconds_sum (\S+)", body)
    count = re.search(rb"driftd_evaluation_duration_seconds_count (\S+)",
                      body)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    err.close()
    mean_eval = (float(evals.group(1)) / float(count.group(1)) * 1e3
                 if evals and count and float(count.group(1)) > 0 else
                 float("nan"))
    return times, mean_eval


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driftd", required=True)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    rng = np.random.default_rng(3)
    results = {True: ([], []), False: ([], [])}
    with tempfile.TemporaryDirectory(prefix="driftd-mmd-scrape-") as tmp:
        for _ in range(a.rounds):
            for with_mmd in (False, True):
                times, ev = one_run(a.driftd, with_mmd, a.seconds, tmp, rng)
                results[with_mmd][0].extend(times)
                results[with_mmd][1].append(ev)
    cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read())
    print(f"CPU: {cpu.group(1) if cpu else '?'}; {os.cpu_count()} cores; "
          f"{a.rounds} rounds of {a.seconds:.0f} s each, interleaved; "
          f"/metrics every 10 ms")
    print()
    print("| run | scrapes | p50 (ms) | p99 (ms) | max (ms) | mean "
          "evaluation (ms) |")
    print("|---|---:|---:|---:|---:|---:|")
    for with_mmd in (False, True):
        t, ev = results[with_mmd]
        print(f"| {'with' if with_mmd else 'without'} a 512-dim vector "
              f"column | {len(t)} | {statistics.median(t):.2f} | "
              f"{pct(t, 0.99):.2f} | {max(t):.2f} | "
              f"{statistics.mean(ev):.1f} |")
    p_with = pct(results[True][0], 0.99)
    p_without = pct(results[False][0], 0.99)
    print()
    print(f"p99 with / without: {p_with / p_without:.2f}x (target < 2x)")


if __name__ == "__main__":
    main()
