"""Change detection per record: an oracle transcribing driftd.conf(5)'s
Page-Hinkley and CUSUM formulas replays the same records, and driftd's
statistic agrees to 1e-9 after every prefix checked, events and the last
detection's time exactly: steps up and down, each direction,
min_instances, resets, a constant reference (the deviation's floor),
missing and non-finite values skipped.  Restarts (SIGTERM and SIGKILL)
in the middle of a stream continue the same statistic.  Bad [change]
settings are configuration errors."""

import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

import numpy as np  # noqa: E402

T0 = 1796000000


class PageHinkley:
    def __init__(self, delta=0.005, threshold=50, alpha=0.9999,
                 min_instances=30, direction="both"):
        self.delta, self.lam, self.alpha = delta, threshold, alpha
        self.min, self.direction = min_instances, direction
        self.events = {"up": 0, "down": 0}
        self.last = None
        self.reset()

    def reset(self):
        self.t, self.mean, self.u, self.d = 0, 0.0, 0.0, 0.0
        self.m, self.M = math.inf, -math.inf

    def add(self, x, when):
        self.t += 1
        self.mean += (x - self.mean) / self.t
        self.u = self.alpha * self.u + (x - self.mean - self.delta)
        self.d = self.alpha * self.d + (x - self.mean + self.delta)
        self.m, self.M = min(self.m, self.u), max(self.M, self.d)
        stat = {"up": self.u - self.m, "down": self.M - self.d}
        self.detect(stat, self.lam, when)

    def detect(self, stat, limit, when):
        hits = [k for k in ("up", "down") if stat[k] > limit and
                self.direction in ("both", k) and self.t >= self.min]
        for k in hits:
            self.events[k] += 1
        if hits:
            self.last = when
            self.reset()

    def stat(self):
        if self.t == 0:
            return {"up": 0.0, "down": 0.0}
        return {"up": self.u - self.m, "down": self.M - self.d}


class Cusum(PageHinkley):
    def __init__(self, mu, sigma, k=0.5, h=5, min_instances=30,
                 direction="both"):
        self.mu, self.sigma = mu, max(sigma, 0.001)
        self.k, self.h = k, h
        super().__init__(min_instances=min_instances, direction=direction)

    def reset(self):
        self.t, self.s = 0, {"up": 0.0, "down": 0.0}

    def add(self, x, when):
        self.t += 1
        self.s = {"up": max(0.0, self.s["up"] + x - self.mu -
                            self.k * self.sigma),
                  "down": max(0.0, self.s["down"] + self.mu -
                              self.k * self.sigma - x)}
        self.detect(dict(self.s), self.h * self.sigma, when)

    def stat(self):
        return dict(self.s) if self.t else {"up": 0.0, "down": 0.0}


def stream(n, seed, steps):
    """(time, value or None) with the level changing at `steps`
    (index -> level); every 37th value missing, every 53rd not a finite
    number (as a log may write them)."""
    r = random.Random(seed)
    level, out = 0.0, []
    for i in range(n):
        level = steps.get(i, level)
        if i % 37 == 5:
            out.append((T0 + i, None))
        elif i % 53 == 7:
            out.append((T0 + i, "inf"))
        else:
            out.append((T0 + i, r.gauss(level, 1)))
    return out


def line(t, x):
    feats = {} if x is None else {"x": 1e999 if x == "inf" else x}
    text = json.dumps({"ts": t, "prediction": "a", "features": feats})
    return text.replace("Infinity", "1e999") + "\n"


def write_ref(path, values):
    with open(path, "w") as f:
        f.write("x\n" + "".join(f"{v!r}\n" for v in values))


def conf(ref, extra):
    return ("[model]\nname = m\nconfidence =\ntimestamp = ts\n"
            "[features]\nfeatures.x = numeric\n"
            f"[reference]\nfile = {ref}\n[window]\nmin_samples = 10\n"
            f"[change]\ncolumns = features.x\n{extra}")


def run_once(d, cfg, recs):
    log = os.path.join(d, "p.log")
    with open(log, "w") as f:
        f.write("".join(line(t, x) for t, x in recs))
    p = subprocess.run([h.DRIFTD, "--once", "-c", cfg, log],
                       capture_output=True, timeout=60)
    h.sanitizer_clean(p.stderr.decode("utf-8", "replace"))
    h.check_eq(p.returncode, 0, p.stderr)
    return h.parse_metrics(p.stdout.decode())


def feed(det, recs):
    for t, x in recs:
        if isinstance(x, float):
            det.add(x, t)


def compare(m, det, method, what):
    for k in ("up", "down"):
        lab = dict(model="m", column="features.x", method=method,
                   direction=k)
        if det.direction not in ("both", k):
            h.check(h.sample(m, "prediction_change_statistic", **lab) is None,
                    f"{what}: no {k} series")
            continue
        got = h.sample(m, "prediction_change_statistic", **lab)
        want = det.stat()[k]
        h.check(got is not None and abs(got - want) <= 1e-9 *
                max(1.0, abs(want)), f"{what} {k}: statistic {got!r}, "
                f"oracle {want!r}")
        h.check_eq(h.sample(m, "prediction_change_events_total", **lab),
                   float(det.events[k]), f"{what} {k}: events")
    last = h.sample(m, "prediction_change_last_timestamp_seconds", model="m",
                    column="features.x", method=method)
    h.check_eq(last, None if det.last is None else float(det.last),
               f"{what}: last detection")


CASES = [
    # (name, [change] settings, stream steps)
    ("page_hinkley both", "", {600: 3.0, 1400: -2.0}),
    ("page_hinkley up", "direction = up\nthreshold = 20\n",
     {300: 2.0, 900: -1.0, 1500: 1.5}),
    ("page_hinkley down", "direction = down\ndelta = 0.1\nthreshold = 25\n",
     {500: -2.5, 1200: 0.0}),
    ("page_hinkley min_instances", "min_instances = 400\nthreshold = 10\n",
     {50: 4.0, 1000: 0.0}),
    ("cusum both", "method = cusum\n", {400: 1.5, 1100: -1.5}),
    ("cusum up, small k", "method = cusum\ndirection = up\nk = 0.1\nh = 8\n",
     {700: 0.8}),
]


def test_detectors_match_the_oracle_after_every_prefix():
    rnd = random.Random(11)
    ref_values = [rnd.gauss(0, 1) for _ in range(500)]
    mu, sigma = float(np.mean(sorted(ref_values))), float(np.std(ref_values))
    with tempfile.TemporaryDirectory(prefix="driftd-change-") as d:
        ref = os.path.join(d, "ref.csv")
        write_ref(ref, ref_values)
        for n, (name, extra, steps) in enumerate(CASES):
            cfg = os.path.join(d, "d.conf")
            with open(cfg, "w") as f:
                f.write(conf(ref, extra))
            settings = dict(l.split(" = ") for l in extra.split("\n") if l)
            method = settings.pop("method", "page_hinkley")
            kw = {"direction": settings.pop("direction", "both"),
                  "min_instances": int(settings.pop("min_instances", 30))}
            kw.update({k: float(v) for k, v in settings.items()})
            recs = stream(2000, n, steps)
            events = 0
            for cut in (1, 29, 31, 250, 777, 1201, 2000):
                det = (Cusum(mu, sigma, **kw) if method == "cusum"
                       else PageHinkley(**kw))
                feed(det, recs[:cut])
                compare(run_once(d, cfg, recs[:cut]), det, method,
                        f"{name}, {cut} records")
                events = sum(det.events.values())
            h.check(events >= 1, f"{name}: the stream's steps detected")


def test_many_detectors_each_match_the_oracle():
    """Six columns, each with its own steps and its own missing and
    non-finite values, in one run: every detector's series equal its own
    oracle's (the detectors run side by side as lanes of vectors, in
    batches of records, and must not leak into each other)."""
    rnd = random.Random(3)
    cols = [f"x{c}" for c in range(6)]
    ref_values = {c: [rnd.gauss(0.2 * k, 1 + 0.1 * k) for _ in range(300)]
                  for k, c in enumerate(cols)}
    recs = []
    for i in range(1500):
        feats = {}
        for k, c in enumerate(cols):
            if i % (7 + k) == 3:
                continue                       # missing
            if i % (13 + 2 * k) == 5:
                feats[c] = "inf"               # not finite
                continue
            level = (2.5 if k % 2 else -2.5) if i > 300 + 120 * k else 0
            feats[c] = rnd.gauss(0.2 * k + level, 1)
        recs.append((T0 + i, feats))
    for method, extra in (("page_hinkley", "threshold = 15\n"),
                          ("cusum", "method = cusum\nh = 4\n")):
        with tempfile.TemporaryDirectory(prefix="driftd-change-") as d:
            ref = os.path.join(d, "ref.csv")
            with open(ref, "w") as f:
                f.write(",".join(f"features.{c}" for c in cols) + "\n")
                for j in range(300):
                    f.write(",".join(repr(ref_values[c][j]) for c in cols) +
                            "\n")
            cfg = os.path.join(d, "d.conf")
            with open(cfg, "w") as f:
                f.write("[model]\nname = m\nconfidence =\ntimestamp = ts\n"
                        "[features]\n" +
                        "".join(f"features.{c} = numeric\n" for c in cols) +
                        f"[reference]\nfile = {ref}\n[window]\n"
                        "min_samples = 10\n[change]\ncolumns = " +
                        ", ".join(f"features.{c}" for c in cols) +
                        f"\nmin_instances = 20\n{extra}")
            log = os.path.join(d, "p.log")
            with open(log, "w") as f:
                for t, feats in recs:
                    text = json.dumps({"ts": t, "prediction": "a",
                                       "features": feats})
                    f.write(text.replace('"inf"', "1e999") + "\n")
            p = subprocess.run([h.DRIFTD, "--once", "-c", cfg, log],
                               capture_output=True, timeout=60)
            h.sanitizer_clean(p.stderr.decode("utf-8", "replace"))
            h.check_eq(p.returncode, 0, p.stderr)
            m = h.parse_metrics(p.stdout.decode())
            events = 0
            for c in cols:
                v = ref_values[c]
                det = (Cusum(float(np.mean(sorted(v))), float(np.std(v)),
                             h=4, min_instances=20)
                       if method == "cusum" else
                       PageHinkley(threshold=15, min_instances=20))
                for t, feats in recs:
                    x = feats.get(c)
                    if isinstance(x, float):
                        det.add(x, t)
                for k in ("up", "down"):
                    lab = dict(model="m", column=f"features.{c}",
                               method=method, direction=k)
                    got = h.sample(m, "prediction_change_statistic", **lab)
                    want = det.stat()[k]
                    h.check(got is not None and abs(got - want) <= 1e-9 *
                            max(1.0, abs(want)), f"{method} {c} {k}: "
                            f"statistic {got!r}, oracle {want!r}")
                    h.check_eq(h.sample(m, "prediction_change_events_total",
                                        **lab), float(det.events[k]),
                               f"{method} {c} {k}: events")
                    events += det.events[k]
                last = h.sample(m, "prediction_change_last_timestamp_seconds",
                                model="m", column=f"features.{c}",
                                method=method)
                h.check_eq(last, None if det.last is None else
                           float(det.last), f"{method} {c}: last detection")
            h.check(events >= len(cols), f"{method}: the steps detected")


def test_constant_reference_uses_the_floor():
    with tempfile.TemporaryDirectory(prefix="driftd-change-") as d:
        ref = os.path.join(d, "ref.csv")
        write_ref(ref, [2.0] * 100)
        cfg = os.path.join(d, "d.conf")
        with open(cfg, "w") as f:
            f.write(conf(ref, "method = cusum\nmin_instances = 1\n"))
        recs = [(T0 + i, 2.0 + (0.002 if i > 10 else 0.0)) for i in range(40)]
        det = Cusum(2.0, 0.0, min_instances=1)
        feed(det, recs)
        compare(run_once(d, cfg, recs), det, "cusum", "constant reference")
        h.check(det.events["up"] >= 1, "a shift of two floors detected")


def test_cusum_without_a_reference_shows_nothing():
    with tempfile.TemporaryDirectory(prefix="driftd-change-") as d:
        ref = os.path.join(d, "ref.csv")
        write_ref(ref, [0.0, 1.0, 2.0])
        cfg = os.path.join(d, "d.conf")
        with open(cfg, "w") as f:
            f.write(conf(ref, "method = cusum\n").replace(
                "confidence =\n", "confidence = c\n").replace(
                "columns = features.x", "columns = features.x, confidence"))
        log = os.path.join(d, "p.log")
        with open(log, "w") as f:
            for i in range(50):
                f.write(json.dumps({"ts": T0 + i, "prediction": "a",
                                    "c": 0.5, "features": {"x": 1.0}}) + "\n")
        p = subprocess.run([h.DRIFTD, "--once", "-c", cfg, log],
                           capture_output=True, timeout=60)
        h.check_eq(p.returncode, 0, p.stderr)
        h.check(b"confidence: the reference has no values for it" in p.stderr,
                p.stderr)
        m = h.parse_metrics(p.stdout.decode())
        cols = {dict(k[1]).get("column") for k in m
                if k[0] == "prediction_change_statistic"}
        h.check_eq(cols, {"features.x"}, "only the detector that runs")


def restart_case(sig):
    rnd = random.Random(5)
    ref_values = [rnd.gauss(0, 1) for _ in range(500)]
    recs = stream(3000, 21, {1000: 2.0, 2200: -1.0})
    with h.Daemon() as d:
        ref, log = os.path.join(d.dir, "ref.csv"), os.path.join(d.dir, "p.log")
        write_ref(ref, ref_values)
        d.write_config(conf(ref, "threshold = 30\n").replace(
            "[model]", f"[global]\nstate_dir = {d.dir}/state\n"
            "checkpoint_interval = 200ms\n[input]\n"
            f"path = {log}\nstart_at = beginning\npoll_interval = 100ms\n"
            "[model]"))
        with open(log, "w") as f:
            f.write("".join(line(t, x) for t, x in recs[:1500]))
        d.start()
        d.wait_sample("driftd_log_lines_total", 1500, input=log)
        before = d.sample("driftd_checkpoints_total") or 0
        h.wait_for(lambda: (d.sample("driftd_checkpoints_total") or 0)
                   >= before + 2, what="a checkpoint after the lines")
        d.stop(sig, expect=None if sig == signal.SIGKILL else 0)
        with open(log, "a") as f:
            f.write("".join(line(t, x) for t, x in recs[1500:]))
        d.start()
        d.wait_sample("driftd_log_lines_total", 1500, input=log)
        det = PageHinkley(threshold=30)
        feed(det, recs)
        stat = det.stat()["up"]
        h.wait_for(lambda: abs((d.sample(
            "prediction_change_statistic", model="m", column="features.x",
            method="page_hinkley", direction="up") or -1) - stat) <=
            1e-9 * max(1, stat), what="the statistic over the whole stream")
        m = h.parse_metrics(d.metrics())
        for k in ("up", "down"):
            got = h.sample(m, "prediction_change_statistic", model="m",
                           column="features.x", method="page_hinkley",
                           direction=k)
            want = det.stat()[k]
            h.check(abs(got - want) <= 1e-9 * max(1, abs(want)),
                    f"{k}: {got!r} after the restart, oracle {want!r}")
        last = h.sample(m, "prediction_change_last_timestamp_seconds",
                        model="m", column="features.x", method="page_hinkley")
        h.check_eq(last, float(det.last), "last detection's time")
        d.stop()


def test_sigterm_in_the_middle_continues_the_statistic():
    restart_case(signal.SIGTERM)


def test_sigkill_in_the_middle_continues_the_statistic():
    restart_case(signal.SIGKILL)


def test_bad_settings_are_configuration_errors():
    with tempfile.TemporaryDirectory(prefix="driftd-change-") as d:
        ref = os.path.join(d, "ref.csv")
        write_ref(ref, [0.0, 1.0])
        cfg = os.path.join(d, "d.conf")
        for extra, want in (
                ("method = adwin\n", "method"),
                ("threshold = -1\n", "threshold"),
                ("h = 0\n", "h"),
                ("alpha = 1.5\n", "alpha"),
                ("columns = features.country\n", "categorical"),
                ("columns = features.nope\n", "not a feature"),
                ("columns = latency\n", "latency"),
                ("columns = features.x, features.x\n", "twice"),
                ("method = cusum\n", None)):
            text = conf(ref, extra).replace(
                "features.x = numeric\n",
                "features.x = numeric\nfeatures.country = categorical\n")
            if extra.startswith("columns"):
                text = text.replace("columns = features.x\n", "")
            h.check_config(cfg, text, want, repr(extra),
                           line=text.split("\n").index(
                               extra.split("\n")[0]) + 1)


h.main(globals())
