"""driftd's statistics against SciPy and NumPy.

Each case writes a reference CSV and a window's worth of log lines from a
fixed seed, runs `driftd --once`, and recomputes every figure with SciPy
(Debian's python3-scipy) exactly as driftd.conf(5) defines it.
Statistics must agree to 1e-9 relative, p-values to 1e-6 absolute.  The
oracle is independent of driftd: it only ever sees the files.
"""

import json
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

import numpy as np  # noqa: E402
from oracle import oracle_categorical, oracle_numeric  # noqa: E402

REL = 1e-9
PABS = 1e-6
ALL_NUMERIC = "ks,psi,js,wasserstein,kl"
ALL_CATEGORICAL = "chi2,psi,js,kl"


# ----------------------------------------------------------- running driftd

def run_case(columns, window_size=None, min_samples=10, bins=10):
    """columns: name -> (kind, reference values, window values)."""
    n_ref = max(len(v[1]) for v in columns.values())
    n_win = max(len(v[2]) for v in columns.values())
    with h.Daemon() as d:
        ref_path = os.path.join(d.dir, "ref.csv")
        log_path = os.path.join(d.dir, "log.jsonl")
        names = list(columns)
        with open(ref_path, "w") as f:
            f.write(",".join(names) + "\n")
            for i in range(n_ref):
                cells = []
                for n in names:
                    vals = columns[n][1]
                    cells.append("" if i >= len(vals) else
                                 repr(float(vals[i])) if columns[n][0] == "numeric"
                                 else str(vals[i]))
                f.write(",".join(cells) + "\n")
        with open(log_path, "w") as f:
            for i in range(n_win):
                feats = {}
                for n in names:
                    vals = columns[n][2]
                    if i < len(vals):
                        feats[n] = float(vals[i]) if columns[n][0] == "numeric" \
                            else vals[i]
                f.write(json.dumps({"features": feats, "prediction": "p"}) + "\n")
        conf = ["[model]", "name = m", "confidence =", "[features]"]
        conf += [f"features.{n} = {columns[n][0]}" for n in names]
        conf += ["[reference]", f"file = {ref_path}",
                 "[window]", f"size = {window_size or n_win}",
                 f"min_samples = {min_samples}",
                 "[drift]", f"numeric = {ALL_NUMERIC}",
                 f"categorical = {ALL_CATEGORICAL}", f"bins = {bins}"]
        d.write_config("\n".join(conf) + "\n")
        p = subprocess.run([h.DRIFTD, "--once", "-c", d.conf_path, log_path],
                           capture_output=True, timeout=120)
        h.sanitizer_clean(p.stderr.decode())
        h.check_eq(p.returncode, 0, f"exit status: {p.stderr.decode()}")
        return h.parse_metrics(p.stdout.decode())


def close(got, want, what):
    if want is None or (isinstance(want, float) and math.isnan(want)):
        h.check(got is None or math.isnan(got), f"{what}: got {got}, want none")
        return
    h.check(got is not None, f"{what}: missing, want {want!r}")
    if want == 0 or got == 0:
        h.check(abs(got - want) <= 1e-300, f"{what}: got {got!r}, want {want!r}")
    else:
        h.check(abs(got - want) <= REL * abs(want),
                f"{what}: got {got!r}, want {want!r} "
                f"(rel {abs(got - want) / abs(want):.3g})")


def check_column(s, name, kind, ref, win, bins=10):
    col = f"features.{name}"
    want = oracle_numeric(ref, win, bins) if kind == "numeric" \
        else oracle_categorical(ref, win)
    for (test, what), v in want.items():
        if test == "mean":
            close(h.sample(s, "prediction_window_mean", model="m", column=col),
                  v, f"{col} mean")
        elif test == "std":
            close(h.sample(s, "prediction_window_stddev", model="m", column=col),
                  v, f"{col} stddev")
        elif what == "score":
            close(h.sample(s, "prediction_drift_score", model="m", column=col,
                           test=test), v, f"{col} {test} score")
        else:
            got = h.sample(s, "prediction_drift_pvalue", model="m", column=col,
                           test=test)
            h.check(got is not None and abs(got - v) <= PABS,
                    f"{col} {test} p-value: got {got!r}, want {v!r}")
    h.check_eq(h.sample(s, "prediction_window_samples", model="m", column=col),
               len(win), f"{col} window samples")
    h.check_eq(h.sample(s, "prediction_reference_samples", model="m",
                        column=col), len(ref), f"{col} reference samples")


def rng(seed):
    return np.random.default_rng(seed)


# ----------------------------------------------------------------- cases

def test_normal_vs_shifted():
    g = rng(1)
    ref, win = g.normal(0, 1, 2000), g.normal(0.3, 1.2, 700)
    s = run_case({"x": ("numeric", ref, win)})
    check_column(s, "x", "numeric", ref, win)
    h.check_eq(h.sample(s, "prediction_drift_detected", model="m",
                        column="features.x"), 1.0, "drift detected")


def test_same_distribution_small_n_all_ks_regions():
    # n = round(n1 n2 / (n1 + n2)) small (<= 140: Durbin matrix or the
    # Smirnov sum), middle (Pelz-Good or Durbin), and large D.
    for seed, nr, nw, shift in ((2, 60, 40, 0.0), (3, 300, 200, 0.0),
                                (4, 400, 400, 0.0), (5, 120, 100, 2.0),
                                (6, 3000, 3000, 0.05), (7, 50, 2000, 0.5)):
        g = rng(seed)
        ref, win = g.normal(0, 1, nr), g.normal(shift, 1, nw)
        s = run_case({"x": ("numeric", ref, win)})
        check_column(s, "x", "numeric", ref, win)


def test_integers_with_many_ties():
    g = rng(8)
    ref = g.integers(0, 6, 1500).astype(float)
    win = g.integers(1, 7, 900).astype(float)
    s = run_case({"x": ("numeric", ref, win)})
    check_column(s, "x", "numeric", ref, win)


def test_constant_columns():
    g = rng(9)
    cases = {
        "both": (np.full(500, 0.1), np.full(300, 0.1)),
        "refconst": (np.full(500, 3.0), g.normal(3, 1, 300)),
        "winconst": (g.normal(0, 1, 500), np.full(300, 0.7)),
    }
    s = run_case({k: ("numeric", r, w) for k, (r, w) in cases.items()})
    for k, (r, w) in cases.items():
        check_column(s, k, "numeric", r, w)


def test_window_at_exactly_min_samples():
    g = rng(10)
    ref, win = g.normal(0, 1, 400), g.normal(0, 1, 100)
    s = run_case({"x": ("numeric", ref, win)}, min_samples=100,
                 window_size=1000)
    check_column(s, "x", "numeric", ref, win)
    # One value fewer: nothing is tested, and the drift series are absent.
    s = run_case({"x": ("numeric", ref, win[:99])}, min_samples=100,
                 window_size=1000)
    h.check(h.sample(s, "prediction_drift_score", model="m",
                     column="features.x", test="ks") is None,
            "a score below min_samples")
    h.check(h.sample(s, "prediction_drift_detected", model="m",
                     column="features.x") is None, "detected below min_samples")
    close(h.sample(s, "prediction_window_mean", model="m", column="features.x"),
          float(np.mean(win[:99])), "mean is still reported")


def test_very_unequal_sizes():
    g = rng(11)
    for nr, nw in ((20000, 60), (80, 5000)):
        ref, win = g.normal(0, 1, nr), g.normal(0.1, 1, nw)
        s = run_case({"x": ("numeric", ref, win)})
        check_column(s, "x", "numeric", ref, win)


def test_heavy_tails():
    g = rng(12)
    ref, win = g.standard_cauchy(3000), g.standard_cauchy(1000) * 1.5
    s = run_case({"x": ("numeric", ref, win)}, bins=20)
    check_column(s, "x", "numeric", ref, win, bins=20)


def test_categorical_unseen_and_vanished():
    g = rng(13)
    ref = list(g.choice(["DE", "FR", "IT", "ES"], 1200, p=[.4, .3, .2, .1]))
    win = list(g.choice(["DE", "FR", "US", "PL"], 800, p=[.3, .3, .3, .1]))
    s = run_case({"country": ("categorical", ref, win)})
    check_column(s, "country", "categorical", ref, win)


def test_categorical_same_and_single_category():
    g = rng(14)
    ref = list(g.choice(["a", "b", "c"], 600))
    win = list(g.choice(["a", "b", "c"], 600))
    s = run_case({"c": ("categorical", ref, win),
                  "one": ("categorical", ["z"] * 600, ["z"] * 600)})
    check_column(s, "c", "categorical", ref, win)
    check_column(s, "one", "categorical", ["z"] * 600, ["z"] * 600)
    h.check(h.sample(s, "prediction_drift_score", model="m",
                     column="features.one", test="chi2") is None,
            "chi2 over one category is not reported")


def test_many_columns_and_dataset_share():
    g = rng(15)
    cols = {}
    for i in range(6):
        shift = 1.0 if i < 4 else 0.0
        cols[f"f{i}"] = ("numeric", g.normal(0, 1, 800), g.normal(shift, 1, 800))
    s = run_case(cols)
    for k, (_, r, w) in cols.items():
        check_column(s, k, "numeric", r, w)
    # auto decides by ks below 1001 reference values: four of six drift.
    h.check_eq(h.sample(s, "prediction_drifted_columns", model="m"), 4.0,
               "drifted columns")
    close(h.sample(s, "prediction_drifted_columns_ratio", model="m"), 4 / 6,
          "ratio")
    h.check_eq(h.sample(s, "prediction_dataset_drift_detected", model="m"),
               1.0, "dataset drift")


h.main(globals())
