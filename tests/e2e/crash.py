"""Exactly-once windows across crashes: a daemon killed with SIGKILL at
many random moments while a writer appends, restarted each time, ends with
the same windows (and so the same drift figures) as a single uninterrupted
pass over the same log."""

import json
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

LINES = 4000
KILLS = 10


def make_lines(seed):
    r = random.Random(seed)
    out = []
    for i in range(LINES):
        shift = 0.0 if i < LINES // 2 else 0.8
        out.append(json.dumps({
            "prediction": r.choice("abc"),
            "features": {"x": r.gauss(shift, 1), "c": r.choice("pqrs"),
                         "n": r.randint(0, 9)}}) + "\n")
    return out


def config(log, ref, state):
    return (f"[global]\nstate_dir = {state}\ncheckpoint_interval = 100ms\n"
            f"[input]\npath = {log}\nstart_at = beginning\npoll_interval = 50ms\n"
            f"[model]\nname = m\nconfidence =\n"
            f"[features]\nfeatures.x = numeric\nfeatures.c = categorical\n"
            f"features.n = numeric\n"
            f"[reference]\nfile = {ref}\n"
            f"[window]\nsize = 300\nmin_samples = 50\nevaluate_every = 100ms\n"
            f"[drift]\nnumeric = ks,psi,js,wasserstein\ncategorical = chi2,psi,js\n")


def figures(samples):
    """Every window and drift figure of the three features."""
    out = {}
    for (name, labels), v in samples.items():
        lab = dict(labels)
        if lab.get("column", "").startswith("features.") and name in (
                "prediction_window_samples", "prediction_window_mean",
                "prediction_window_stddev", "prediction_drift_score",
                "prediction_drift_pvalue"):
            out[(name, lab["column"], lab.get("test"))] = v
    return out


def test_sigkill_at_random_moments_loses_nothing():
    rnd = random.Random(20261122)
    lines = make_lines(7)
    with h.Daemon() as d:
        log = os.path.join(d.dir, "p.log")
        ref = os.path.join(d.dir, "ref.csv")
        state = os.path.join(d.dir, "state")
        with open(ref, "w") as f:
            f.write("x,c,n\n")
            for i in range(500):
                f.write(f"{rnd.gauss(0, 1)!r},{rnd.choice('pqrs')},{i % 10}\n")
        open(log, "w").close()
        d.write_config(config(log, ref, state))
        # Kill points: after how many written lines, and how long after.
        points = sorted(rnd.sample(range(100, LINES - 100), KILLS))
        written = 0
        d.start()
        with open(log, "a") as f:
            for p in points + [LINES]:
                while written < p:
                    n = min(rnd.randint(1, 60), p - written)
                    f.write("".join(lines[written:written + n]))
                    f.flush()
                    written += n
                if p == LINES:
                    break
                # Let some lines be read (or not) before the kill.
                deadline = time.monotonic() + rnd.uniform(0, 0.3)
                h.wait_for(lambda: time.monotonic() >= deadline, timeout=2,
                           what="a moment", interval=0.01)
                d.stop(sig=signal.SIGKILL, expect=-signal.SIGKILL)
                d.start()
        # All read, and evaluated after that.
        h.wait_for(lambda: d.sample("driftd_log_lag_bytes", input=log) == 0 and
                   d.sample("prediction_window_samples", model="m",
                            column="features.x") == 300,
                   timeout=30, what="everything read")
        t0 = d.sample("prediction_drift_evaluation_timestamp_seconds", model="m")
        h.wait_for(lambda: (d.sample(
            "prediction_drift_evaluation_timestamp_seconds", model="m") or 0) > t0,
            what="an evaluation of the final window")
        crashed = figures(h.parse_metrics(d.metrics()))
        d.stop()
        # The same log in one uninterrupted pass.
        p = subprocess.run([h.DRIFTD, "--once", "-c", d.conf_path, log],
                           capture_output=True, timeout=60)
        h.check_eq(p.returncode, 0, p.stderr)
        once = figures(h.parse_metrics(p.stdout.decode()))
        h.check(len(once) >= 15, f"figures to compare: {len(once)}")
        for k in sorted(once):
            h.check_eq(crashed.get(k), once[k], f"{k} after {KILLS} kills")


h.main(globals())
