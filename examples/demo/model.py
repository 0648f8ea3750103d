#!/usr/bin/python3
"""A simulated model service for driftd's demo: an iris-like classifier
that appends one JSON line per prediction to its log, as a real service
would, and whose traffic drifts halfway through.

    model.py reference FILE [--rows N]
        Write a reference CSV drawn from the "training" distribution: the
        four features, the predicted class and the confidence, as driftd
        reads it ([reference] file).

    model.py serve LOG [--rate N] [--normal SECONDS] [--drifted SECONDS]
                       [--phase FILE] [--labels FILE [--label-share P]
                       [--label-delay SECONDS]]
        Append predictions to LOG at N lines a second: first traffic like
        the training data, then drifted traffic (petals longer and wider,
        sepals narrower, more flowers of one kind, noisier measurements and
        so less confident predictions).  With --phase, the current phase
        ("normal", "drifted", then "done") is written to FILE whenever it
        changes, so that a viewer can say which traffic it is looking at.
        With --labels, the true kind of a share P of the flowers (0.4 by
        default) is appended to FILE some time after the prediction
        (between half and one and a half times --label-delay, 3 s by
        default), as feedback from the people who use the predictions
        would be: one JSON line with the request id, the label and the
        time.  The other flowers are never labelled, and labels not yet
        due when the traffic stops are never written.  The classifier is
        right about 96% of the time on normal traffic and about 60% of the
        time on drifted traffic, where it stays nearly as sure of itself
        (a mean confidence of 0.92, from 0.98): its accuracy falls much
        further than its confidence says.

The classifier is a nearest-centroid model with a softmax over squared
distances; the numbers are made up to look like Fisher's iris data.  Only
Python's standard library is used, and the output depends only on --seed.
"""

import argparse
import heapq
import json
import math
import os
import random
import signal
import sys
import time

FEATURES = ["sepal length (cm)", "sepal width (cm)",
            "petal length (cm)", "petal width (cm)"]
CLASSES = ["setosa", "versicolor", "virginica"]

# Per class: mean and standard deviation of each feature, in FEATURES order.
MEANS = {"setosa": (5.0, 3.4, 1.5, 0.25),
         "versicolor": (5.9, 2.8, 4.3, 1.3),
         "virginica": (6.6, 3.0, 5.5, 2.0)}
SDS = {"setosa": (0.35, 0.38, 0.17, 0.1),
       "versicolor": (0.5, 0.3, 0.47, 0.2),
       "virginica": (0.6, 0.3, 0.55, 0.27)}

# How often each kind of flower arrives.
NORMAL_MIX = (1 / 3, 1 / 3, 1 / 3)
DRIFTED_MIX = (0.1, 0.25, 0.65)
# The drifted population: per class, a shift of each feature (cm) that
# moves versicolor and virginica towards each other, and a wider spread.
NO_SHIFT = {c: (0, 0, 0, 0) for c in CLASSES}
DRIFT_SHIFT = {"setosa": (0.2, -0.4, 0.3, 0.1),
               "versicolor": (0.4, -0.4, 0.7, 0.35),
               "virginica": (-0.3, -0.4, -0.4, -0.3)}
DRIFT_SPREAD = 1.4

# Softmax temperature of the classifier, in squared centimetres.
TEMPERATURE = 0.35


def draw(r, mix, shift=NO_SHIFT, spread=1.0):
    """One flower: its kind (the true class) and its feature values in
    FEATURES order."""
    kind = r.choices(CLASSES, weights=mix)[0]
    return kind, [round(max(0.1, r.gauss(m + s, sd * spread)), 1)
                  for m, s, sd in zip(MEANS[kind], shift[kind], SDS[kind])]


def predict(x):
    """The classifier: class probabilities from squared distances to each
    class's centroid."""
    d2 = [sum((a - b) ** 2 for a, b in zip(x, MEANS[c])) for c in CLASSES]
    w = [math.exp(-(d - min(d2)) / TEMPERATURE) for d in d2]
    total = sum(w)
    p = [v / total for v in w]
    best = max(range(len(CLASSES)), key=p.__getitem__)
    return CLASSES[best], p


def reference(args):
    r = random.Random(args.seed)
    with open(args.file, "w") as f:
        f.write(",".join(FEATURES + ["prediction", "confidence"]) + "\n")
        for _ in range(args.rows):
            _, x = draw(r, NORMAL_MIX)
            cls, p = predict(x)
            f.write(",".join([repr(v) for v in x]
                             + [cls, repr(round(max(p), 4))]) + "\n")


def timestamp():
    """Now, as an RFC 3339 time with milliseconds."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) \
        + ".%03dZ" % (now % 1 * 1000)


def request_id(n):
    return "%08x" % n


def line(r, n, x):
    cls, p = predict(x)
    return json.dumps({
        "ts": timestamp(),
        "request_id": request_id(n),
        "model": "iris-demo",
        "features": dict(zip(FEATURES, x)),
        "prediction": cls,
        "confidence": round(max(p), 4),
        "probabilities": [round(v, 4) for v in p],
        "latency_ms": round(r.lognormvariate(1.0, 0.4), 2),
    }) + "\n"


def label_line(n, kind):
    """The feedback on prediction n: the kind the flower really was."""
    return json.dumps({
        "ts": timestamp(),
        "request_id": request_id(n),
        "label": kind,
    }) + "\n"


def set_phase(path, phase):
    if path:
        with open(path + ".tmp", "w") as f:
            f.write(phase + "\n")
        os.replace(path + ".tmp", path)
    print(f"model: {phase} traffic" if phase != "done" else "model: stopped",
          file=sys.stderr, flush=True)


class Feedback:
    """The labels on their way: which predictions get one and when, and
    the log they are appended to once due.  Its own random numbers, so
    that the predictions are the same with or without labels."""

    def __init__(self, args):
        self.path = args.labels
        self.share = args.label_share
        self.delay = args.label_delay
        self.r = random.Random(args.seed + 2)
        self.due = []            # heap of (monotonic time, n, kind)
        self.f = open(self.path, "a") if self.path else None

    def predicted(self, n, kind):
        if self.f and self.r.random() < self.share:
            later = self.delay * self.r.uniform(0.5, 1.5)
            heapq.heappush(self.due, (time.monotonic() + later, n, kind))

    def send(self):
        """Append the labels that are due by now."""
        if not self.f:
            return
        now = time.monotonic()
        while self.due and self.due[0][0] <= now:
            _, n, kind = heapq.heappop(self.due)
            self.f.write(label_line(n, kind))
        self.f.flush()

    def close(self):
        if self.f:
            self.f.close()


def serve(args):
    r = random.Random(args.seed + 1)
    phases = [("normal", args.normal, NORMAL_MIX, NO_SHIFT, 1.0),
              ("drifted", args.drifted, DRIFTED_MIX, DRIFT_SHIFT,
               DRIFT_SPREAD)]
    n = 0
    feedback = Feedback(args)
    with open(args.log, "a") as log:
        for name, seconds, mix, shift, spread in phases:
            set_phase(args.phase, name)
            start = time.monotonic()
            written = 0
            # Write in small batches, as a service flushing its buffer
            # does; each batch catches up with the rate.
            while True:
                elapsed = time.monotonic() - start
                if elapsed >= seconds:
                    break
                due = int(elapsed * args.rate) + 1
                while written < due:
                    kind, x = draw(r, mix, shift, spread)
                    log.write(line(r, n, x))
                    feedback.predicted(n, kind)
                    written += 1
                    n += 1
                log.flush()
                feedback.send()
                time.sleep(min(0.1, max(0.0, seconds - elapsed)))
    feedback.close()
    set_phase(args.phase, "done")


def die_of_sigint():
    """End as killed by SIGINT, so that the shell running us knows Ctrl-C
    was pressed and stops too (a plain exit status would not tell it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)


def main():
    ap = argparse.ArgumentParser(
        description="a simulated iris classifier writing a prediction log")
    ap.add_argument("--seed", type=int, default=2026)
    sub = ap.add_subparsers(dest="command", required=True)
    ref = sub.add_parser("reference", help="write a reference CSV")
    ref.add_argument("file")
    ref.add_argument("--rows", type=int, default=600)
    srv = sub.add_parser("serve", help="append predictions to a log")
    srv.add_argument("log")
    srv.add_argument("--rate", type=float, default=80, help="lines a second")
    srv.add_argument("--normal", type=float, default=10,
                     help="seconds of normal traffic")
    srv.add_argument("--drifted", type=float, default=14,
                     help="seconds of drifted traffic")
    srv.add_argument("--phase", help="file that names the current phase")
    srv.add_argument("--labels", help="file to append the labels to")
    srv.add_argument("--label-share", type=float, default=0.4,
                     help="share of the predictions that get a label")
    srv.add_argument("--label-delay", type=float, default=3,
                     help="mean seconds from a prediction to its label")
    args = ap.parse_args()
    try:
        reference(args) if args.command == "reference" else serve(args)
    except KeyboardInterrupt:
        die_of_sigint()


if __name__ == "__main__":
    main()
