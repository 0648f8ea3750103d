"""Model performance from labels: the join of a label log to the
prediction log by request id, checked against scikit-learn and a Python
transcription of driftd.conf(5)'s join.

Accuracy, per-class precision / recall / F1 (zero_division=0), MAE, RMSE
and the error mean equal scikit-learn's on the same joined records to
1e-9, per segment too; the calibration error equals a hand computation
over driftd.conf(5)'s bins; the expected accuracy is the window's mean
confidence.  Labels late, early, out of order, duplicated, for unknown
ids, expired and evicted are counted exactly per reason.  A restart
(SIGTERM, SIGKILL) between predictions and their labels joins each one
exactly once.  Bad input is counted with memory bounded; bad settings
are configuration errors."""

import collections
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.metrics import (accuracy_score, mean_absolute_error,  # noqa: E402
                             mean_squared_error,
                             precision_recall_fscore_support)

T0 = 1796000000
P, L, J = "prediction", "label", "joined"


class Join:
    """driftd.conf(5)'s join, transcribed.  Predictions and labels wait for
    each other by id, oldest first, each side at most max_pending.  Each
    side has a clock, the newest time read of it: a waiting prediction
    gives up (expired) once the labels' clock passes its time by
    max_delay, a waiting label (unknown_id) once the predictions' clock
    does; a partner found that waited longer than max_delay before the
    newcomer gives up then.  A joined id is remembered, at most
    max_pending of them, until both clocks pass its time by max_delay."""

    def __init__(self, max_delay, max_pending, size):
        self.delay, self.cap, self.size = max_delay, max_pending, size
        self.lists = {P: collections.OrderedDict(),
                      L: collections.OrderedDict()}
        self.seen = collections.deque()          # (id, time), join order
        self.clock = {P: -math.inf, L: -math.inf}
        self.counts = collections.Counter()
        self.pairs = []

    gone = {P: "expired", L: "unknown_id"}

    def advance(self, k, t):
        if not t > self.clock[k]:
            return
        self.clock[k] = t
        other = L if k == P else P
        d = self.lists[other]
        while d and next(iter(d.values()))[0] + self.delay < t:
            d.popitem(last=False)
            self.counts[self.gone[other]] += 1
        m = min(self.clock.values())
        while self.seen and self.seen[0][1] + self.delay < m:
            self.seen.popleft()

    def partner(self, id_, t, same):
        k = P if id_ in self.lists[P] else L if id_ in self.lists[L] \
            else None
        if k is not None and self.lists[k][id_][0] + self.delay < t:
            del self.lists[k][id_]
            self.counts[self.gone[k]] += 1
            k = None
        if k == same:
            return None, True
        if k is None and any(i == id_ and not (tt + self.delay < t)
                             for i, tt in self.seen):
            return None, True
        return k, False

    def wait(self, k, id_, entry):
        d = self.lists[k]
        if entry[0] + self.delay < self.clock[L if k == P else P]:
            self.counts[self.gone[k]] += 1     # too late already
            return
        if len(d) >= self.cap:
            d.popitem(last=False)
            self.counts["evicted" if k == P else "unknown_id"] += 1
        d[id_] = entry

    def joined(self, k, id_):
        t = self.lists[k].pop(id_)[0]
        if len(self.seen) == self.cap:
            self.seen.popleft()
        self.seen.append((id_, t))

    def pair(self, pred, truth):
        self.pairs.append((pred, truth))
        self.counts["labelled"] += 1

    def prediction(self, id_, t, pred):
        self.advance(P, t)
        k, dup = self.partner(id_, t, P)
        if dup:
            self.counts["duplicate"] += 1
        elif k is None:
            self.wait(P, id_, (t, pred))
        else:
            self.pair(pred, self.lists[L][id_][1])
            self.joined(L, id_)

    def label(self, id_, t, truth):
        self.advance(L, t)
        k, dup = self.partner(id_, t, L)
        if dup:
            self.counts["duplicate"] += 1
        elif k is None:
            self.wait(L, id_, (t, truth))
        else:
            self.pair(self.lists[P][id_][1], truth)
            self.joined(P, id_)

    def window(self):
        return self.pairs[-self.size:]


def ece(conf, right):
    """Expected calibration error over bins (b/10, (b+1)/10], 0 in the
    first."""
    conf, right = np.asarray(conf, float), np.asarray(right, float)
    edges = np.arange(1, 11) / 10.0
    b = np.searchsorted(edges, conf, side="left")
    total = 0.0
    for k in range(10):
        m = b == k
        if m.any():
            total += m.sum() / len(conf) * abs(right[m].mean() -
                                                conf[m].mean())
    return total


def close(got, want, what, tol=1e-9):
    h.check(got is not None and abs(got - want) <= tol * max(1.0, abs(want)),
            f"{what}: driftd {got!r}, oracle {want!r}")


def pline(t, id_, pred, conf, country, regression=False):
    rec = {"ts": t, "request_id": id_, "confidence": conf,
           "features": {"country": country}}
    rec["value" if regression else "prediction"] = pred
    return json.dumps(rec) + "\n"


def lline(t, id_, truth):
    rec = {"request_id": id_, "truth": truth}
    if t is not None:
        rec["at"] = t
    return json.dumps(rec) + "\n"


def config(d, extra_model="", extra_labels="", regression=False,
           window=100000):
    pred = "value = value\n" if regression else "class = prediction\n"
    return ("[model]\nname = m\n" + pred + "confidence = confidence\n"
            "timestamp = ts\nid = request_id\n" + extra_model +
            "[features]\nfeatures.country = categorical\n"
            f"[window]\nsize = {window}\nmin_samples = 1\n"
            f"[labels]\npath = {d}/labels.log\nid = request_id\n"
            "label = truth\ntimestamp = at\nsegment = features.country\n" +
            extra_labels)


def run_once(d, cfg_text, preds, labels):
    cfg = os.path.join(d, "d.conf")
    with open(cfg, "w") as f:
        f.write(cfg_text)
    with open(os.path.join(d, "p.log"), "w") as f:
        f.write("".join(preds))
    with open(os.path.join(d, "labels.log"), "w") as f:
        f.write("".join(labels))
    p = subprocess.run([h.DRIFTD, "--once", "-c", cfg,
                        os.path.join(d, "p.log")], capture_output=True,
                       timeout=120)
    h.sanitizer_clean(p.stderr.decode("utf-8", "replace"))
    h.check_eq(p.returncode, 0, p.stderr)
    text = p.stdout.decode()
    h.promtool_check(text)
    return h.parse_metrics(text)


def stream(seed, n, classes, regression=False):
    """Predictions with ids, and labels for most of them: late, early and
    out of order, some twice, some for ids never predicted."""
    r = random.Random(seed)
    preds, labels, truth = [], [], {}
    for i in range(n):
        id_ = f"req-{seed}-{i}"
        country = r.choice(["de", "fr", "us"])
        if regression:
            y = r.gauss(10, 3)
            p = y + r.gauss(0.5 if country == "us" else 0, 1)
            preds.append((T0 + i, id_, p, r.random(), country))
            truth[id_] = y
        else:
            y = r.choice(classes)
            right = r.random() < (0.8 if country == "de" else 0.5)
            p = y if right else r.choice(classes)
            conf = min(1.0, max(0.0, r.gauss(0.8 if right else 0.5, 0.15)))
            if i % 97 == 0:
                conf = round(conf, 1)        # on a bin's edge
            preds.append((T0 + i, id_, p, conf, country))
            truth[id_] = y
    for t, id_, *_ in preds:
        if r.random() < 0.85:
            labels.append((t + r.uniform(0, 50), id_, truth[id_]))
    for k in range(n // 50):
        labels.append((T0 + r.uniform(0, n), f"ghost-{k}", classes[0]
                       if not regression else 1.0))
    for t, id_, y in list(labels[: n // 40]):
        labels.append((t + 1, id_, y))             # a second label
    labels.sort(key=lambda x: x[0] + r.uniform(-20, 20))   # out of order
    return preds, labels


def oracle(preds, labels, max_delay, max_pending, size):
    j = Join(max_delay, max_pending, size)
    for t, id_, p, conf, country in preds:
        j.prediction(id_, t, (p, conf, country))
    for t, id_, y in labels:
        j.label(id_, t, y)
    return j


def check_counts(m, j):
    for reason in ("expired", "evicted", "unknown_id", "duplicate"):
        h.check_eq(h.sample(m, "prediction_label_unmatched_total", model="m",
                            reason=reason), float(j.counts[reason]), reason)
    h.check_eq(h.sample(m, "prediction_labelled_total", model="m"),
               float(j.counts["labelled"]), "labelled")
    h.check_eq(h.sample(m, "prediction_label_pending", model="m"),
               float(len(j.lists[P])), "pending")


def check_classification(m, pairs):
    y_pred = [p[0] for p, _ in pairs]
    y_true = [y for _, y in pairs]
    close(h.sample(m, "prediction_accuracy", model="m", segment=""),
          accuracy_score(y_true, y_pred), "accuracy")
    classes = sorted(set(y_true) | set(y_pred))
    prec, rec, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0)
    for c, pv, rv, fv in zip(classes, prec, rec, f1):
        close(h.sample(m, "prediction_class_precision",
                       **{"model": "m", "class": c}), pv, f"precision {c}")
        close(h.sample(m, "prediction_class_recall",
                       **{"model": "m", "class": c}), rv, f"recall {c}")
        close(h.sample(m, "prediction_class_f1",
                       **{"model": "m", "class": c}), fv, f"f1 {c}")
    got = {dict(k[1])["class"] for k in m
           if k[0] == "prediction_class_f1"}
    h.check_eq(got, set(classes), "classes with figures")
    close(h.sample(m, "prediction_calibration_error", model="m"),
          ece([p[1] for p, _ in pairs], [p[0] == y for p, y in pairs]),
          "calibration error")
    for seg in ("de", "fr", "us"):
        sub = [(p, y) for p, y in pairs if p[2] == seg]
        if not sub:
            h.check(h.sample(m, "prediction_accuracy", model="m",
                             segment=seg) is None, f"no figure for {seg}")
            continue
        close(h.sample(m, "prediction_accuracy", model="m", segment=seg),
              accuracy_score([y for _, y in sub], [p[0] for p, _ in sub]),
              f"accuracy of {seg}")


def test_classification_figures_equal_scikit_learn():
    classes = ["cat", "dog", "bird", "fish"]
    preds, labels = stream(1, 3000, classes)
    for size in (100000, 500):
        with tempfile.TemporaryDirectory(prefix="driftd-labels-") as d:
            m = run_once(d, config(d, window=size) + "max_delay = 40s\n",
                         [pline(*p) for p in preds],
                         [lline(*x) for x in labels])
            j = oracle(preds, labels, 40, 100000, size)
            h.check(j.counts["expired"] > 0 and j.counts["duplicate"] > 0
                    and j.counts["unknown_id"] > 0, f"cases met: {j.counts}")
            check_counts(m, j)
            check_classification(m, j.window())
            # Before any label, the window's mean confidence.
            confs = [c for _, _, _, c, _ in preds][-size:]
            close(h.sample(m, "prediction_expected_accuracy", model="m"),
                  float(np.mean(confs)), "expected accuracy")


def test_regression_figures_equal_scikit_learn():
    preds, labels = stream(2, 2000, None, regression=True)
    with tempfile.TemporaryDirectory(prefix="driftd-labels-") as d:
        m = run_once(d, config(d, regression=True), [
            pline(*p, regression=True) for p in preds],
            [lline(*x) for x in labels])
        j = oracle(preds, labels, 3600, 100000, 100000)
        check_counts(m, j)
        pairs = j.window()
        y_pred = np.array([p[0] for p, _ in pairs])
        y_true = np.array([y for _, y in pairs])
        close(h.sample(m, "prediction_mae", model="m", segment=""),
              mean_absolute_error(y_true, y_pred), "MAE")
        close(h.sample(m, "prediction_rmse", model="m"),
              math.sqrt(mean_squared_error(y_true, y_pred)), "RMSE")
        close(h.sample(m, "prediction_error_mean", model="m"),
              float(np.mean(y_pred - y_true)), "error mean")
        for seg in ("de", "fr", "us"):
            sel = [i for i, (p, _) in enumerate(pairs) if p[2] == seg]
            close(h.sample(m, "prediction_mae", model="m", segment=seg),
                  mean_absolute_error(y_true[sel], y_pred[sel]),
                  f"MAE of {seg}")
        h.check(h.sample(m, "prediction_accuracy", model="m", segment="")
                is None, "no accuracy for a regression model")


def test_every_reason_counted_exactly():
    """Small max_pending and max_delay, random interleavings of both logs:
    every count equals the transcription's."""
    for seed in range(6):
        r = random.Random(100 + seed)
        preds, labels = [], []
        ids = [f"i{k}" for k in range(60)]
        for k in range(400):
            t = T0 + k
            if r.random() < 0.5:
                preds.append((t, r.choice(ids), r.choice("ab"), 0.5, "de"))
            else:
                labels.append((t + r.choice([0, 0, 5, 30]), r.choice(ids),
                               r.choice("ab")))
        with tempfile.TemporaryDirectory(prefix="driftd-labels-") as d:
            m = run_once(d, config(d, window=50) +
                         "max_delay = 20s\nmax_pending = 7\n",
                         [pline(*p) for p in preds],
                         [lline(*x) for x in labels])
            j = oracle(preds, labels, 20, 7, 50)
            for reason in ("expired", "evicted", "unknown_id", "duplicate"):
                h.check(j.counts[reason] > 0 or seed > 0,
                        f"{reason} met in the first run")
            check_counts(m, j)
            check_classification(m, j.window())


def test_counts_at_scale():
    """More ids than the ring of joined ids and the table start with, so
    that both grow, the ring wraps at max_pending and the table reuses
    the slots of expired ids: every count still equals the
    transcription's."""
    # (max_pending, ids, records, max_delay, labelled share ramping up):
    # without a ramp, random ids of a pool; with one, an id per
    # prediction and its label soon after, more and more of them, so
    # that the ring grows again after its head has moved on (which moves
    # every ring position)
    for seed, (pending, nids, nrec, delay, ramp) in enumerate(
            [(50, 500, 6000, 20, False), (3000, 5000, 20000, 3000, False),
             (20000, 0, 20000, 50, True)]):
        r = random.Random(200 + seed)
        preds, labels = [], []
        ids = [f"id-{k:06d}-{r.getrandbits(32):08x}" for k in range(nids)]
        for k in range(nrec):
            if ramp:
                t = T0 + k // 100
                id_ = f"u-{k:06d}-{r.getrandbits(32):08x}"
                preds.append((t, id_, r.choice("abc"), 0.5, "de"))
                if r.random() < 0.02 + 0.96 * k / nrec:
                    labels.append((t + r.choice([0, 1, 2]), id_,
                                   r.choice("abc")))
                    if r.random() < 0.1:     # a duplicate, later
                        labels.append((t + r.choice([3, 5, 8]), id_,
                                       r.choice("abc")))
                continue
            t = T0 + k // 4
            if r.random() < 0.5:
                preds.append((t, r.choice(ids), r.choice("abc"), 0.5, "de"))
            else:
                labels.append((t + r.choice([0, 0, 3, 60, 400]),
                               r.choice(ids), r.choice("abc")))
        if ramp:
            labels.sort(key=lambda x: x[0])   # duplicates some lines later
        with tempfile.TemporaryDirectory(prefix="driftd-labels-") as d:
            m = run_once(d, config(d, window=200) +
                         f"max_delay = {delay}s\nmax_pending = {pending}\n",
                         [pline(*p) for p in preds],
                         [lline(*x) for x in labels])
            j = oracle(preds, labels, delay, pending, 200)
            for reason in ("expired", "evicted", "unknown_id", "duplicate"):
                h.check(j.counts[reason] > 0 or pending > 1000 or
                        (ramp and reason != "duplicate"),
                        f"{reason} met with max_pending {pending}")
            h.check(j.counts["labelled"] > (nrec // 10 if ramp else 0),
                    "pairs joined")
            check_counts(m, j)
            check_classification(m, j.window())


def test_labels_in_the_prediction_log():
    """[model] label: a record with its label is joined at once; a record
    with an id and a label but no prediction labels the prediction of its
    id."""
    r = random.Random(7)
    preds, lines, pairs = [], [], []
    for i in range(300):
        y, p = r.choice("xyz"), r.choice("xyz")
        rec = {"ts": T0 + i, "request_id": f"r{i}", "prediction": p,
               "confidence": 0.7, "features": {"country": "de"}}
        if i % 2:
            rec["truth"] = y
            pairs.append(((p, 0.7, "de"), y))
        else:
            preds.append((f"r{i}", p, y))
        lines.append(json.dumps(rec) + "\n")
    for id_, p, y in preds:
        lines.append(json.dumps({"ts": T0 + 400, "request_id": id_,
                                 "truth": y}) + "\n")
        pairs.append(((p, 0.7, "de"), y))
    with tempfile.TemporaryDirectory(prefix="driftd-labels-") as d:
        cfg = ("[model]\nname = m\nclass = prediction\nconfidence = "
               "confidence\ntimestamp = ts\nid = request_id\nlabel = truth\n"
               "[features]\nfeatures.country = categorical\n"
               "[labels]\nsegment = features.country\n")
        m = run_once(d, cfg, lines, [])
        h.check_eq(h.sample(m, "prediction_labelled_total", model="m"),
                   300.0, "every record labelled")
        h.check_eq(h.sample(m, "prediction_records_total", model="m"),
                   300.0, "label lines are no prediction records")
        check_classification(m, pairs)


def test_records_with_their_label_and_id_go_through_the_join():
    """[model] label with ids: a record with its id, prediction and label
    is its label then its prediction, through the join, so that labels
    and predictions for its id before and after it count as the join
    counts them (the oracle is fed the same)."""
    r = random.Random(11)
    j = Join(40, 100000, 100000)
    lines, ids = [], []
    for i in range(3000):
        t = T0 + i
        kind = r.random()
        p, y = r.choice("xyz"), r.choice("xyz")
        conf, country = round(r.random(), 3), r.choice(["de", "fr", "us"])
        if kind < 0.3 or not ids:                      # a prediction
            id_ = f"r{i}"
            rec = {"request_id": id_, "prediction": p}
            j.prediction(id_, t, (p, conf, country))
        elif kind < 0.55:                      # with its label: new id
            id_ = f"r{i}"
            rec = {"request_id": id_, "prediction": p, "truth": y}
            j.label(id_, t, y)
            j.prediction(id_, t, (p, conf, country))
        elif kind < 0.65:                       # with its label: an id
            id_ = r.choice(ids[-60:])           # seen (some too long ago)
            rec = {"request_id": id_, "prediction": p, "truth": y}
            j.label(id_, t, y)
            j.prediction(id_, t, (p, conf, country))
        elif kind < 0.9:                           # a label, recent id
            id_ = r.choice(ids[-60:])
            rec = {"request_id": id_, "truth": y}
            j.label(id_, t, y)
        else:                                  # a label for an id ahead
            id_ = f"r{i + r.randint(1, 30)}"
            rec = {"request_id": id_, "truth": y}
            j.label(id_, t, y)
        ids.append(id_)
        rec.update(ts=t, confidence=conf, features={"country": country})
        lines.append(json.dumps(rec) + "\n")
    h.check(all(j.counts[c] > 0 for c in
                ("duplicate", "expired", "unknown_id", "labelled")),
            f"cases met: {j.counts}")
    with tempfile.TemporaryDirectory(prefix="driftd-labels-") as d:
        cfg = ("[model]\nname = m\nclass = prediction\nconfidence = "
               "confidence\ntimestamp = ts\nid = request_id\nlabel = truth\n"
               "[features]\nfeatures.country = categorical\n"
               "[window]\nsize = 100000\nmin_samples = 1\n"
               "[labels]\nsegment = features.country\nmax_delay = 40s\n")
        m = run_once(d, cfg, lines, [])
        check_counts(m, j)
        check_classification(m, j.window())


def test_a_record_is_a_prediction_or_a_label_never_both():
    """A classifier that also writes a score: a record with a score and a
    label but no class is a prediction record (in the windows) whose
    label the join cannot use (invalid), not a label as well; a record
    with neither a class nor a score is a label only."""
    lines = [
        {"ts": T0, "request_id": "a", "prediction": "x", "score": 0.5},
        {"ts": T0 + 1, "request_id": "a", "truth": "x"},
        {"ts": T0 + 2, "request_id": "c", "score": 0.4, "truth": "y"},
        {"ts": T0 + 3, "request_id": "d", "score": 0.3},
        {"ts": T0 + 4, "request_id": "e", "prediction": "y", "score": 0.2,
         "truth": "x"},
    ]
    with tempfile.TemporaryDirectory(prefix="driftd-labels-") as d:
        cfg = ("[model]\nname = m\nclass = prediction\nvalue = score\n"
               "timestamp = ts\nid = request_id\nlabel = truth\n"
               "[features]\nfeatures.country = categorical\n")
        m = run_once(d, cfg, [json.dumps(x) + "\n" for x in lines], [])
        h.check_eq(h.sample(m, "prediction_records_total", model="m"),
                   4.0, "a, c, d and e are predictions")
        h.check_eq(h.sample(m, "prediction_labelled_total", model="m"),
                   2.0, "a joined to its label, e to its own")
        h.check_eq(h.sample(m, "prediction_label_unmatched_total",
                            model="m", reason="invalid"),
                   1.0, "c's label, on a prediction without a class")
        h.check_eq(h.sample(m, "prediction_label_pending", model="m"),
                   0.0, "d has no class to be judged by")
        h.check_eq(h.sample(m, "prediction_accuracy", model="m",
                            segment=""), 0.5, "a right, e wrong")


def test_classes_beyond_max_classes():
    """Right and wrong stay exact beyond max_classes; such classes have no
    figures of their own."""
    r = random.Random(9)
    names = [f"c{k}" for k in range(6)]
    preds, labels = [], []
    for i in range(600):
        y = r.choice(names)
        p = y if r.random() < 0.6 else r.choice(names)
        preds.append((T0 + i, f"r{i}", p, 0.9, "de"))
        labels.append((T0 + i + 1, f"r{i}", y))
    with tempfile.TemporaryDirectory(prefix="driftd-labels-") as d:
        m = run_once(d, config(d, extra_model="max_classes = 3\n"),
                     [pline(*p) for p in preds], [lline(*x) for x in labels])
        j = oracle(preds, labels, 3600, 100000, 100000)
        pairs = j.window()
        close(h.sample(m, "prediction_accuracy", model="m", segment=""),
              accuracy_score([y for _, y in pairs], [p[0] for p, _ in pairs]),
              "accuracy")
        got = {dict(k[1])["class"] for k in m
               if k[0] == "prediction_class_precision"}
        h.check(len(got) == 3 and "__other__" not in got,
                f"three classes with figures: {got}")


def test_clocks_and_bad_times():
    """Each side has its own clock: predictions read long before their
    labels (a backlog, --once) still join; a label time a thousand times
    too large (a millisecond epoch) is read as no time, and expires
    nothing."""
    preds, labels = [], []
    for i in range(120):                    # two hours of predictions
        preds.append((T0 + 60 * i, f"r{i}", "a", 0.9, "de"))
        labels.append((T0 + 60 * i + 300, f"r{i}", "a"))
    bad = [json.dumps({"request_id": "r0", "truth": "a", "at": T0 * 1000}),
           json.dumps({"request_id": "r1", "truth": "a"})]   # no time
    with tempfile.TemporaryDirectory(prefix="driftd-labels-") as d:
        m = run_once(d, config(d) + "max_delay = 1h\n",
                     [pline(*p) for p in preds],
                     [b + "\n" for b in bad] + [lline(*x) for x in labels])
        h.check_eq(h.sample(m, "prediction_labelled_total", model="m"),
                   120.0, "every prediction labelled")
        for reason in ("expired", "unknown_id", "evicted", "duplicate"):
            h.check_eq(h.sample(m, "prediction_label_unmatched_total",
                                model="m", reason=reason), 0.0, reason)
        h.check_eq(h.sample(m, "prediction_label_unmatched_total",
                            model="m", reason="invalid"), 2.0,
                   "the label lines without a good time")


def test_labels_that_never_join_take_no_class():
    """Labels for ids never predicted do not use up max_classes."""
    preds = [(T0 + i, f"r{i}", "cat" if i % 2 else "dog", 0.8, "de")
             for i in range(40)]
    labels = [(T0 + i, f"ghost{i}", f"junk{i}") for i in range(8)]
    labels += [(T0 + i + 1, f"r{i}", "cat" if i % 3 else "dog")
               for i in range(40)]
    with tempfile.TemporaryDirectory(prefix="driftd-labels-") as d:
        m = run_once(d, config(d, extra_model="max_classes = 8\n"),
                     [pline(*p) for p in preds], [lline(*x) for x in labels])
        j = oracle(preds, labels, 3600, 100000, 100000)
        check_classification(m, j.window())


def test_reload_adds_changes_and_removes_label_logs():
    def preds(ids):
        return "".join(json.dumps({"request_id": f"r{i}",
                                   "prediction": "x"}) + "\n" for i in ids)

    def labels(ids):
        return "".join(json.dumps({"request_id": f"r{i}", "truth": "x"}) +
                       "\n" for i in ids)

    with h.Daemon() as d:
        plog = os.path.join(d.dir, "p.log")
        la, lb = os.path.join(d.dir, "a.log"), os.path.join(d.dir, "b.log")
        base = (f"[input]\npath = {plog}\nstart_at = beginning\n"
                "poll_interval = 100ms\n[model]\nname = m\n"
                "class = prediction\nconfidence =\nid = request_id\n"
                "[window]\nevaluate_every = 200ms\n")
        with open(plog, "w") as f:
            f.write(preds(range(10)))
        with open(la, "w") as f:
            f.write(labels(range(10, 20)))
        with open(lb, "w") as f:
            f.write(labels(range(20, 30)))
        d.write_config(base)
        d.start()
        d.wait_sample("driftd_log_lines_total", 10, input=plog)
        # Added: the new log is followed.
        d.write_config(base + f"[labels]\npath = {la}\nlabel = truth\n"
                       "id = request_id\n")
        d.send_signal(signal.SIGHUP)
        d.wait_sample("driftd_log_lines_total", 10, input=la)
        with open(plog, "a") as f:
            f.write(preds(range(10, 20)))
        d.wait_sample("prediction_labelled_total", 10, model="m")
        # Changed: the new one is followed, the old one no longer.
        d.write_config(base + f"[labels]\npath = {lb}\nlabel = truth\n"
                       "id = request_id\n")
        d.send_signal(signal.SIGHUP)
        d.wait_sample("driftd_log_lines_total", 10, input=lb)
        with open(la, "a") as f:
            f.write(labels([25]))
        with open(plog, "a") as f:
            f.write(preds(range(20, 30)))
        d.wait_sample("prediction_labelled_total", 20, model="m")
        h.check(d.sample("driftd_log_lines_total", input=la) is None,
                "the old log's series are gone")
        # Removed: nothing follows label logs.
        d.write_config(base)
        d.send_signal(signal.SIGHUP)
        h.wait_for(lambda: d.sample("driftd_log_lines_total", input=lb)
                   is None, what="the removed log's series to go")
        with open(lb, "a") as f:
            f.write(labels([31]))
        with open(plog, "a") as f:
            f.write(preds([31]))
        d.wait_sample("driftd_log_lines_total", 31, input=plog)
        h.check(d.proc.poll() is None, "driftd is up")
        d.stop()


def write_logs(plog, llog, preds, labels, mode):
    """Predictions and labels written over (mode "w") or appended to ("a")
    their logs."""
    with open(plog, mode) as f:
        f.write("".join(pline(*p) for p in preds))
    with open(llog, mode) as f:
        f.write("".join(lline(*x) for x in labels))


def restart_config(d, plog, checkpoint_interval):
    """Arrival times, a state directory, checkpoints that often."""
    return (f"[global]\nstate_dir = {d}/state\ncheckpoint_interval = "
            f"{checkpoint_interval}\n[input]\npath = {plog}\n"
            "start_at = beginning\npoll_interval = 100ms\n" +
            config(d).replace("timestamp = ts\n", "").replace(
                "timestamp = at\n", ""))


def check_uninterrupted(d, preds, labels):
    """The whole stream's join, as if never interrupted: no label lost and
    none joined twice (a label read again would be a duplicate, and change
    the figures)."""
    j = Join(3600, 100000, 100000)
    for t, id_, p, c, co in preds:
        j.prediction(id_, 0, (p, c, co))
    for _, id_, y in labels:
        j.label(id_, 0, y)
    m = h.parse_metrics(d.metrics())
    check_classification(m, j.window())
    dup = h.sample(m, "prediction_label_unmatched_total", model="m",
                   reason="duplicate")
    h.check(dup <= j.counts["duplicate"],
            f"{dup} duplicates after the restart; the stream has "
            f"{j.counts['duplicate']} in all")
    h.check_eq(h.sample(m, "prediction_label_pending", model="m"),
               float(len(j.lists[P])), "pending")


def arrival_stream(seed):
    """A stream whose labels have no time of their own (read at their
    arrival, as restart_config() has them)."""
    preds, labels = stream(seed, 1200, ["a", "b", "c"])
    return preds, [(None, id_, y) for _, id_, y in labels]


def restart_case(sig):
    preds, labels = arrival_stream(3)
    with h.Daemon() as d:
        plog = os.path.join(d.dir, "p.log")
        llog = os.path.join(d.dir, "labels.log")
        d.write_config(restart_config(d.dir, plog, "200ms"))
        half = len(labels) // 2
        write_logs(plog, llog, preds[:800], labels[:half], "w")
        d.start()
        d.wait_sample("driftd_log_lines_total", 800, input=plog)
        d.wait_sample("driftd_log_lines_total", half, input=llog)
        before = d.sample("driftd_checkpoints_total") or 0
        h.wait_for(lambda: (d.sample("driftd_checkpoints_total") or 0)
                   >= before + 2, what="a checkpoint after the lines")
        d.stop(sig, expect=None if sig == signal.SIGKILL else 0)
        write_logs(plog, llog, preds[800:], labels[half:], "a")
        d.start()
        d.wait_sample("driftd_log_lines_total", len(preds) - 800, input=plog)
        d.wait_sample("driftd_log_lines_total", len(labels) - half,
                      input=llog)
        check_uninterrupted(d, preds, labels)
        d.stop()


def test_sigterm_between_prediction_and_label():
    restart_case(signal.SIGTERM)


def test_sigkill_between_prediction_and_label():
    restart_case(signal.SIGKILL)


def unscraped_restart_case(sig):
    """Predictions and labels are joined in batches, which a scrape or an
    evaluation takes first: a checkpoint must take them too.  The lines
    are read, checkpointed and the daemon stopped with no scrape and no
    evaluation in between."""
    preds, labels = arrival_stream(4)
    with h.Daemon() as d:
        plog = os.path.join(d.dir, "p.log")
        llog = os.path.join(d.dir, "labels.log")
        d.write_config(restart_config(d.dir, plog, "100ms").replace(
            "[window]\n", "[window]\nevaluate_every = 1h\n"))
        open(plog, "w").close()
        open(llog, "w").close()
        d.start()
        half = len(labels) // 2
        write_logs(plog, llog, preds[:700], labels[:half], "w")
        # Read within a poll, checkpointed within the next ones; nothing
        # asks for the metrics meanwhile.  (Were the lines not all read
        # by then, the rest would be read after the restart: the case
        # would still hold, and test less.)
        time.sleep(1.5)
        d.stop(sig, expect=None if sig == signal.SIGKILL else 0)
        write_logs(plog, llog, preds[700:], labels[half:], "a")
        d.start()

        def read_to_the_end():
            return all((d.sample("driftd_log_lines_total", input=f) or 0) >=
                       n and d.sample("driftd_log_lag_bytes", input=f) == 0
                       for f, n in ((plog, len(preds) - 700),
                                    (llog, len(labels) - half)))
        h.wait_for(read_to_the_end, what="both logs read to their ends")
        check_uninterrupted(d, preds, labels)
        d.stop()


def test_sigterm_with_a_batch_unscraped():
    unscraped_restart_case(signal.SIGTERM)


def test_sigkill_with_a_batch_unscraped():
    unscraped_restart_case(signal.SIGKILL)


def test_bad_input_is_counted_and_bounded():
    with h.Daemon() as d:
        plog = os.path.join(d.dir, "p.log")
        llog = os.path.join(d.dir, "labels.log")
        d.write_config(
            f"[input]\npath = {plog}\nstart_at = beginning\n"
            "poll_interval = 100ms\n" +
            config(d.dir).replace("timestamp = ts\n", "").replace(
                "timestamp = at\n", "") +
            "max_pending = 1000\n")
        open(plog, "w").close()
        bad = [
            '{"request_id": {"a": 1}, "truth": "x"}',       # id an object
            '{"request_id": "r1", "truth": ["x"]}',         # label an array
            '{"truth": "x"}',                               # no id
            '{"request_id": "r1"}',                         # no label
            '{"request_id": "", "truth": "x"}',             # empty id
            json.dumps({"request_id": "k" * 10240, "truth": "x"}),  # 10 KB
            '{"request_id": "r1", "truth": ',               # not JSON
        ]
        with open(llog, "w") as f:
            f.write("\n".join(bad) + "\n")
        d.start()
        d.wait_sample("driftd_log_lines_total", len(bad), input=llog)
        d.wait_sample("prediction_label_unmatched_total", 6, model="m",
                      reason="invalid")
        h.check_eq(d.sample("driftd_log_errors_total", input=llog,
                            reason="json"), 1.0,
                   "the line that is no JSON")
        base = h.rss_kib(d.proc.pid)
        # 100k labels for ids never predicted: they wait, 1000 at most.
        with open(llog, "a") as f:
            for k in range(100):
                f.write("".join(json.dumps({"request_id": f"u{k}-{i}-" +
                                            "z" * 40, "truth": "x"}) + "\n"
                                for i in range(1000)))
        d.wait_sample("driftd_log_lines_total", len(bad) + 100000,
                      input=llog, timeout=60)
        d.wait_sample("prediction_label_unmatched_total", 99000, model="m",
                      reason="unknown_id")
        grown = h.rss_kib(d.proc.pid) - base
        h.check(grown < 16 * 1024, f"RSS grew {grown} KiB for 100k unknown "
                "ids with max_pending = 1000")
        # Predictions with bad ids are not waited for.
        with open(plog, "w") as f:
            f.write('{"prediction": "a", "request_id": [1]}\n'
                    '{"prediction": "a", "request_id": "' + "q" * 300 +
                    '"}\n{"prediction": "a"}\n')
        d.wait_sample("driftd_log_lines_total", 3, input=plog)
        h.check_eq(d.sample("prediction_label_pending", model="m"), 0.0,
                   "nothing waits")
        d.stop()


def test_bad_settings_are_configuration_errors():
    with tempfile.TemporaryDirectory(prefix="driftd-labels-") as d:
        cfg = os.path.join(d, "d.conf")
        base = ("[input]\npath = /var/log/p.log\n[model]\nclass = "
                "prediction\n{model}[features]\nf = numeric\ng = "
                "categorical\n[labels]\n{labels}")
        for model, labels, want in (
                ("", "path = /var/log/l.log\n", "needs [model] id"),
                ("id = rid\n", "path = /var/log/p.log\n",
                 "also an [input] path"),
                ("id = rid\n", "path = /l.log\nsegment = f\n",
                 "not a categorical column"),
                ("id = rid\n", "path = /l.log\nmax_pending = 0\n",
                 "max_pending"),
                ("id = rid\n", "path = /l.log\nmax_delay = soon\n",
                 "max_delay"),
                ("id = rid\n", "path = /l.log\nid = a..b\n", "id"),
                ("id = rid\n", "path = /l.log\nsegment = g\n", None)):
            h.check_config(cfg, base.format(model=model, labels=labels),
                           want, repr(labels))


h.main(globals())
