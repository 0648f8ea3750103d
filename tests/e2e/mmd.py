"""Multivariate drift: the mmd test on vector columns and on the joint
vector of the numeric features (__features__), checked against a NumPy
transcription of driftd.conf(5)'s formula: the unbiased MMD^2 with the
Gaussian kernel and half the median squared distance of the reference
sample as sigma^2, to 1e-9, on random data of dimension 1, 8 and 128 with
ties and duplicate points.  The permutation p-value is reproducible and
calibrated (over independent no-drift windows the share of p < 0.05 stays
within binomial noise of 0.05) and has power against clear shifts.  CSV
references (PATH[i] columns or a JSON array in a cell) and JSON lines
give the same figures; a restart keeps the vector window; bad vectors
are counted as missing with memory bounded; bad settings are
configuration errors."""

import json
import math
import os
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

import numpy as np  # noqa: E402

T0 = 1796000000


def mmd2(x, y, sigma2=None):
    """SPEC's statistic, written directly: pairwise squared distances by
    broadcasting (not the Gram form driftd uses)."""
    z = np.vstack([x, y]).astype(np.float64)
    d2 = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
    m, n = len(x), len(y)
    if sigma2 is None:
        sigma2 = np.median(d2[:m, :m][np.triu_indices(m, 1)]) / 2
    k = np.exp(-d2 / (2 * sigma2))
    kxx, kyy, kxy = k[:m, :m], k[m:, m:], k[:m, m:]
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) +
            (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) -
            2 * kxy.sum() / (m * n)), sigma2


def f32(a):
    """What driftd keeps of a vector: single precision."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def run_once(d, conf, log_lines, ref_text, ref_name="ref.jsonl", extra=()):
    with open(os.path.join(d, ref_name), "w") as f:
        f.write(ref_text)
    cfg = os.path.join(d, "d.conf")
    with open(cfg, "w") as f:
        f.write(conf.format(ref=os.path.join(d, ref_name)))
    log = os.path.join(d, "p.log")
    with open(log, "w") as f:
        f.write("".join(log_lines))
    p = subprocess.run([h.DRIFTD, "--once", "-c", cfg, log, *extra],
                       capture_output=True, timeout=300)
    h.sanitizer_clean(p.stderr.decode("utf-8", "replace"))
    h.check_eq(p.returncode, 0, p.stderr)
    return h.parse_metrics(p.stdout.decode())


VECTOR_CONF = ("[model]\nname = m\nclass = prediction\nconfidence =\n"
               "[features]\nemb = vector\n[reference]\nfile = {ref}\n"
               "[window]\nsize = 5000\nmin_samples = 2\n"
               "[drift]\nmmd_samples = %d\nmmd_permutations = %d\n")


def vectors(rng, count, dim, shift=0.0, ties=False):
    v = rng.normal(shift, 1.0, size=(count, dim))
    if ties:
        v = np.round(v, 1)                      # many equal coordinates
        v[5:15] = v[0]                           # duplicate points
    return v


def pred_lines(vs):
    """Prediction log lines carrying the vectors as `emb`."""
    return [json.dumps({"prediction": "a", "emb": v.tolist()}) + "\n"
            for v in vs]


def ref_jsonl(vs):
    """A JSON-lines reference of the vectors as `emb`."""
    return "".join(json.dumps({"emb": v.tolist()}) + "\n" for v in vs)


def close(got, want, what, tol=1e-9):
    h.check(got is not None and abs(got - want) <= tol * max(abs(want), 1e-300),
            f"{what}: driftd {got!r}, oracle {want!r}")


def score(m, column="emb", what="score"):
    name = "prediction_drift_score" if what == "score" else \
        "prediction_drift_pvalue"
    return h.sample(m, name, model="m", column=column, test="mmd")


def test_statistic_matches_numpy():
    rng = np.random.default_rng(11)
    for dim, samples, ties in ((1, 80, True), (8, 150, True),
                               (128, 120, False)):
        ref = vectors(rng, 260, dim, ties=ties)
        win = vectors(rng, 300, dim, shift=0.15, ties=ties)
        with tempfile.TemporaryDirectory(prefix="driftd-mmd-") as d:
            m = run_once(d, VECTOR_CONF % (samples, 50), pred_lines(win),
                         ref_jsonl(ref))
            want, _ = mmd2(f32(ref[:samples]), f32(win[-samples:]))
            close(score(m), want, f"MMD^2, dim {dim}")
            h.check_eq(h.sample(m, "prediction_reference_samples",
                                model="m", column="emb"), 260.0,
                       "reference vectors")
            p = score(m, what="pvalue")
            h.check(p is not None and 1 / 51 <= p <= 1, f"p-value {p}")
            # The same data, the same p-value.
            again = run_once(d, VECTOR_CONF % (samples, 50), pred_lines(win),
                             ref_jsonl(ref))
            h.check_eq(score(again, what="pvalue"), p, "reproducible p")
            # The report names the column's kind.
            report = os.path.join(d, "r.html")
            subprocess.run([h.DRIFTD, "--once", "-c",
                            os.path.join(d, "d.conf"),
                            os.path.join(d, "p.log"), "--report", report],
                           capture_output=True, timeout=120, check=True)
            with open(report, encoding="utf-8") as f:
                h.check("vector &middot; window" in f.read(),
                        "the report calls the column a vector")


def test_features_joint_vector_matches_numpy():
    rng = np.random.default_rng(12)
    n_ref, n_win, k = 400, 300, 3
    ref = rng.normal([0, 10, -3], [1, 5, 0.1], size=(n_ref, k))
    win = rng.normal([0.2, 10, -3], [1, 6, 0.1], size=(n_win, k))
    conf = ("[model]\nname = m\nclass = prediction\nconfidence =\n"
            "[features]\nf.a = numeric\nf.b = numeric\nf.c = numeric\n"
            "g = categorical\n[reference]\nfile = {ref}\n"
            "[window]\nsize = 5000\nmin_samples = 2\n"
            "[drift]\nmultivariate = mmd\nmmd_samples = 200\n")

    def line(v, miss=False):
        rec = {"prediction": "a", "g": "x",
               "f": {"a": v[0], "b": v[1], "c": v[2]}}
        if miss:
            del rec["f"]["b"]           # left out of __features__
        return json.dumps(rec) + "\n"

    lines = [line(v, miss=(i % 17 == 3)) for i, v in enumerate(win)]
    kept = np.array([v for i, v in enumerate(win) if i % 17 != 3])
    with tempfile.TemporaryDirectory(prefix="driftd-mmd-") as d:
        m = run_once(d, conf, lines,
                     "".join(line(v) for v in ref))
        mean, std = ref.mean(0), ref.std(0)
        x = f32((ref[:200] - mean) / std)
        y = f32((kept[-200:] - mean) / std)
        want, _ = mmd2(x, y)
        close(score(m, "__features__"), want, "__features__ MMD^2")
        h.check_eq(h.sample(m, "prediction_window_samples", model="m",
                            column="__features__"), float(len(kept)),
                   "records with every numeric feature")


def test_csv_references_give_the_same_figures():
    rng = np.random.default_rng(13)
    ref = vectors(rng, 120, 5)
    win = vectors(rng, 100, 5, shift=0.3)
    lines = pred_lines(win)
    jsonl = ref_jsonl(ref)
    coords = ",".join(f"emb[{i}]" for i in range(5)) + ",other\n" + "".join(
        ",".join(repr(float(x)) for x in v) + ",1\n" for v in ref)
    cells = "other,emb\n" + "".join(
        '1,"' + json.dumps(v.tolist()) + '"\n' for v in ref)
    got = []
    with tempfile.TemporaryDirectory(prefix="driftd-mmd-") as d:
        for text, name in ((jsonl, "ref.jsonl"), (coords, "ref.csv"),
                           (cells, "cells.csv")):
            m = run_once(d, VECTOR_CONF % (100, 30), lines, text, name)
            got.append((score(m), score(m, what="pvalue")))
    want, _ = mmd2(f32(ref[:100]), f32(win[-100:]))
    close(got[0][0], want, "JSON lines reference")
    h.check_eq(got[1], got[0], "PATH[i] columns")
    h.check_eq(got[2], got[0], "arrays in cells")


def test_mixed_csv_headers_read_the_first_kind():
    """A column headed both whole and by coordinates is read as its first
    header says (driftd under ASan caught a write past a row's vector)."""
    rng = np.random.default_rng(16)
    ref = vectors(rng, 60, 4)
    win = vectors(rng, 50, 4)
    lines = pred_lines(win)
    whole_first = "emb," + ",".join(f"emb[{i}]" for i in range(4)) + "\n" + \
        "".join('"' + json.dumps(v.tolist()) + '",' +
                ",".join(repr(float(x) + 1) for x in v) + "\n" for v in ref)
    coords_first = ",".join(f"emb[{i}]" for i in range(4)) + ",emb\n" + \
        "".join(",".join(repr(float(x)) for x in v) + ',"' +
                json.dumps((v + 1).tolist()) + '"\n' for v in ref)
    want, _ = mmd2(f32(ref[:50]), f32(win[-50:]))
    with tempfile.TemporaryDirectory(prefix="driftd-mmd-") as d:
        for text in (whole_first, coords_first):
            m = run_once(d, VECTOR_CONF % (50, 20), lines, text, "ref.csv")
            close(score(m), want, "the first header's vectors")


def test_repeated_evaluations_give_the_same_pvalue():
    """Steps of identical windows against one reference: the statistic
    and the p-value of every evaluation after the first (which keeps the
    reference's part of the kernel) equal the first's."""
    rng = np.random.default_rng(17)
    ref = vectors(rng, 80, 3)
    win = vectors(rng, 60, 3)
    lines = []
    for step in range(4):
        for i, v in enumerate(win):
            lines.append(json.dumps({"ts": T0 + 3600 * step + i,
                                     "prediction": "a",
                                     "emb": v.tolist()}) + "\n")
    conf = (VECTOR_CONF % (80, 200)).replace(
        "confidence =\n", "confidence =\ntimestamp = ts\n")
    with tempfile.TemporaryDirectory(prefix="driftd-mmd-") as d:
        with open(os.path.join(d, "ref.jsonl"), "w") as f:
            f.write(ref_jsonl(ref))
        cfg = os.path.join(d, "d.conf")
        with open(cfg, "w") as f:
            f.write(conf.format(ref=os.path.join(d, "ref.jsonl")))
        log = os.path.join(d, "p.log")
        with open(log, "w") as f:
            f.write("".join(lines))
        p = subprocess.run([h.DRIFTD, "--once", "--step", "1h", "--format",
                            "csv", "-c", cfg, log], capture_output=True,
                           timeout=120)
        h.sanitizer_clean(p.stderr.decode("utf-8", "replace"))
        h.check_eq(p.returncode, 0, p.stderr)
        rows = [r.split(",") for r in p.stdout.decode().splitlines()
                if ",emb,mmd," in r]
        h.check_eq(len(rows), 4, "four steps")
        h.check_eq({r[10] for r in rows}, {rows[0][10]}, "one p-value")
        want, _ = mmd2(f32(ref), f32(win))
        for r in rows:
            close(float(r[9]), want, "MMD^2 of each step")


def one_pvalue(d, seed, shift):
    rng = np.random.default_rng(seed)
    ref = vectors(rng, 40, 4)
    win = vectors(rng, 40, 4, shift=shift)
    m = run_once(d, VECTOR_CONF % (40, 99), pred_lines(win), ref_jsonl(ref))
    return score(m, what="pvalue")


def test_pvalues_are_calibrated_and_have_power():
    runs = 400
    with tempfile.TemporaryDirectory(prefix="driftd-mmd-") as d:
        null = [one_pvalue(d, 1000 + s, 0.0) for s in range(runs)]
        shifted = [one_pvalue(d, 5000 + s, 0.8) for s in range(40)]
    share = sum(p < 0.05 for p in null) / runs
    sd = math.sqrt(0.05 * 0.95 / runs)
    h.check(abs(share - 0.05) <= 3.5 * sd,
            f"share of p < 0.05 under no drift: {share} (0.05 +- "
            f"{3.5 * sd:.3f})")
    # p-values of a permutation test are uniform on k/(B+1): their mean
    # is about 0.5 under no drift.
    mean = sum(null) / runs
    h.check(abs(mean - 0.5) <= 4 * math.sqrt(1 / 12 / runs),
            f"mean p under no drift {mean}")
    power = sum(p < 0.05 for p in shifted) / len(shifted)
    h.check(power >= 0.9, f"power against a 0.8 sd shift: {power}")


def test_restart_keeps_the_vector_window():
    rng = np.random.default_rng(14)
    ref = vectors(rng, 150, 6)
    win = vectors(rng, 200, 6, shift=0.2)
    with h.Daemon() as d:
        refp, log = os.path.join(d.dir, "ref.jsonl"), os.path.join(d.dir,
                                                                   "p.log")
        with open(refp, "w") as f:
            f.write(ref_jsonl(ref))
        d.write_config(
            f"[global]\nstate_dir = {d.dir}/state\ncheckpoint_interval = "
            f"200ms\n[input]\npath = {log}\nstart_at = beginning\n"
            "poll_interval = 100ms\n[model]\nname = m\nclass = prediction\n"
            "confidence =\n[features]\nemb = vector\n"
            f"[reference]\nfile = {refp}\n[window]\nsize = 5000\n"
            "min_samples = 2\nevaluate_every = 200ms\n"
            "[drift]\nmmd_samples = 150\nmmd_permutations = 20\n")
        with open(log, "w") as f:
            f.write("".join(pred_lines(win[:120])))
        d.start()
        d.wait_sample("driftd_log_lines_total", 120, input=log)
        before = d.sample("driftd_checkpoints_total") or 0
        h.wait_for(lambda: (d.sample("driftd_checkpoints_total") or 0)
                   >= before + 2, what="a checkpoint")
        d.stop(signal.SIGKILL, expect=None)
        with open(log, "a") as f:
            f.write("".join(pred_lines(win[120:])))
        d.start()
        d.wait_sample("driftd_log_lines_total", 80, input=log)
        want, _ = mmd2(f32(ref[:150]), f32(win[-150:]))
        h.wait_for(lambda: (lambda s: s is not None and
                            abs(s - want) <= 1e-9 * abs(want))(
                                d.sample("prediction_drift_score", model="m",
                                         column="emb", test="mmd")),
                   what="the statistic over the whole stream")
        h.check_eq(d.sample("prediction_window_samples", model="m",
                            column="emb"), 200.0, "window vectors")
        d.stop()


def test_bad_vectors_are_missing_and_bounded():
    rng = np.random.default_rng(15)
    ref = vectors(rng, 50, 3)
    with h.Daemon() as d:
        refp, log = os.path.join(d.dir, "ref.jsonl"), os.path.join(d.dir,
                                                                   "p.log")
        with open(refp, "w") as f:
            f.write(ref_jsonl(ref))
        d.write_config(
            f"[input]\npath = {log}\nstart_at = beginning\n"
            "poll_interval = 100ms\nmax_line_bytes = 4194304\n"
            "[model]\nname = m\nclass = prediction\n"
            "confidence =\n[features]\nemb = vector\nmax_vector_dim = 64\n"
            f"[reference]\nfile = {refp}\n[window]\nmin_samples = 2\n"
            "evaluate_every = 200ms\n")
        bad = [
            '{"prediction": "a", "emb": [1, 2]}',              # ragged
            '{"prediction": "a", "emb": [1, 2, 3, 4]}',        # ragged
            '{"prediction": "a", "emb": ["1", 2, 3]}',         # a string
            '{"prediction": "a", "emb": "1,2,3"}',             # no array
            '{"prediction": "a", "emb": [1, 1e999, 3]}',       # not finite
            '{"prediction": "a", "emb": [1, null, 3]}',
            '{"prediction": "a", "emb": [[1], 2, 3]}',
            '{"prediction": "a", "emb": []}',
            '{"prediction": "a", "emb": {"0": 1}}',
        ]
        with open(log, "w") as f:
            f.write("\n".join(bad) + "\n")
        d.start()
        d.wait_sample("driftd_log_lines_total", len(bad), input=log)
        h.check_eq(d.sample("prediction_feature_missing_total", model="m",
                            feature="emb"), float(len(bad)),
                   "every bad vector missing")
        base = h.rss_kib(d.proc.pid)
        # 100000-long arrays: beyond max_vector_dim, missing.
        long_line = json.dumps({"prediction": "a",
                                "emb": [0.5] * 100000}) + "\n"
        with open(log, "a") as f:
            for _ in range(50):
                f.write(long_line)
            f.write(json.dumps({"prediction": "a", "emb": [0, 1, 2]}) + "\n")
        d.wait_sample("driftd_log_lines_total", len(bad) + 51, input=log,
                      timeout=30)
        h.check_eq(d.sample("prediction_feature_missing_total", model="m",
                            feature="emb"), float(len(bad) + 50),
                   "long arrays missing")
        h.wait_for(lambda: d.sample("prediction_window_samples", model="m",
                                    column="emb") == 1.0,
                   what="the good vector in the window")
        grown = h.rss_kib(d.proc.pid) - base
        h.check(grown < 32 * 1024, f"RSS grew {grown} KiB")
        d.stop()


def test_bad_settings_are_configuration_errors():
    with tempfile.TemporaryDirectory(prefix="driftd-mmd-") as d:
        cfg = os.path.join(d, "d.conf")
        base = "[model]\nclass = prediction\n[features]\n{feat}[drift]\n{drift}"
        cases = (
            ("a = numeric\n", "multivariate = mmd\n", "at least two"),
            ("a = numeric\nb = vector\n", "multivariate = mmd\n",
             "at least two"),
            ("v = vector\n", "mmd_samples = 5\n", "mmd_samples"),
            ("v = vector\n", "mmd_permutations = 0\n", "mmd_permutations"),
            ("v = vector\nmax_vector_dim = 9000\n", "", "max_vector_dim"),
            ("v = tensor\n", "", "expected numeric, categorical or vector"),
            ("v = vector\n", "multivariate = pca\n", "multivariate"),
            ("v = vector\n", "[feature v]\ntests = ks\n",
             "tests for a vector column"),
            ("v = vector\n", "[change]\ncolumns = v\n", "is a vector"),
            ("a = numeric\nb = numeric\n", "multivariate = mmd\n"
             "[feature __features__]\ntests = mmd\n", None),
        )
        for feat, drift, want in cases:
            h.check_config(cfg, base.format(feat=feat, drift=drift), want,
                           f"{feat!r} {drift!r}")


h.main(globals())
