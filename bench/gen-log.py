#!/usr/bin/env python3
"""Write a realistic JSON-lines prediction log for the ingest benchmark.

    gen-log.py --features 4|20|100 --lines N [--seed S] [--span-days D]
        > file.jsonl

Every line looks like what a Python model service writes with json.dumps:

    {"ts":"2026-11-22T10:00:00.123Z","request_id":"<32 hex>","model":"...",
     "features":{"f0":5.1,...,"country":"DE","device":"ios"},
     "prediction":"...","confidence":0.97,"probabilities":[...],
     "latency_ms":3.2}

The output depends only on --features, --lines and --seed (Python's
random.Random with a fixed seed and float repr are both stable), so two
runs with the same arguments give byte-identical files.  The measured
average line length is printed on stderr.

The numbers are deliberately varied, because number parsing is most of the
cost of ingest: each numeric feature has its own scale and print style
(integers, 1-4 decimals, or the full 17-digit repr that numpy floats give),
several are centred at or below zero so that negatives are common, and
probabilities and confidence are printed in full repr as a service that
passes model outputs straight to json.dumps would.  Aim: about 350 bytes
per line with 4 numeric features, about 550 with 20.

Standard library only.
"""

import argparse
import random
import sys
import time

# Categorical features: (value, weight).  Skewed like real traffic.
COUNTRIES = [("DE", 22), ("US", 18), ("FR", 11), ("GB", 10), ("NL", 7),
             ("ES", 7), ("IT", 6), ("PL", 5), ("SE", 4), ("BR", 4),
             ("IN", 4), ("JP", 2)]
DEVICES = [("ios", 38), ("android", 41), ("web", 17), ("other", 4)]

# The model per variant: its name, its three classes and how often each is
# predicted.
MODELS = {
    4: ("iris-rf", ["setosa", "versicolor", "virginica"], [0.34, 0.33, 0.33]),
    20: ("fraud-gbm", ["legit", "review", "fraud"], [0.86, 0.10, 0.04]),
    100: ("churn-xgb", ["stay", "churn", "unknown"], [0.70, 0.25, 0.05]),
}

# How a numeric feature is printed: an integer, rounded to k decimals, or
# the full shortest-repr of a double.
STYLES = ["int", 2, "full", 1, 3, 2, 4]


def weighted_table(pairs, size=1000):
    """A lookup table so that a uniform index picks values by weight
    (much faster than random.choices per line)."""
    total = sum(w for _, w in pairs)
    table = []
    for value, w in pairs:
        table.extend([value] * round(size * w / total))
    return table


def feature_specs(n):
    """Scale and print style of each numeric feature.  Fixed for a given
    n (independent of --seed) so that every file of one shape has the
    same columns; only the values change with the seed."""
    r = random.Random(1000 + n)
    specs = []
    for i in range(n):
        style = STYLES[i % len(STYLES)]
        magnitude = 10 ** r.uniform(-1, 3)
        # About a third of the columns are centred at or below zero.
        if i % 3 == 1:
            mean = r.uniform(-0.5, 0.2) * magnitude
        else:
            mean = r.uniform(0.5, 3) * magnitude
        sd = magnitude * r.uniform(0.1, 0.6)
        if style == "int":  # counts and ages: whole numbers, mostly > 0
            magnitude = 10 ** r.uniform(1, 3)
            mean, sd = 2 * magnitude, 0.5 * magnitude
        specs.append(("f%d" % i, mean, sd, style))
    return specs


def number(x, style):
    if style == "int":
        return str(int(x) if x > 0 else 0)
    if style == "full":
        return repr(x)
    # repr(round()) gives what json.dumps writes: "5.1", not "5.10".
    return repr(round(x, style))


# Size of the per-column pools of pre-formatted values (see pools()).
POOL = 1 << 15


def pools(rng, specs):
    """For each numeric feature, POOL formatted '"name":value' members
    drawn from its normal distribution.  Lines pick from the pools
    uniformly.  Drawing and formatting every value afresh costs over a
    minute per million 20-feature lines in CPython; with pools a million
    lines take seconds, and 32768 distinct values per column is more than
    enough to keep a parser from benefiting from repetition."""
    return [['"%s":%s' % (name, number(rng.gauss(mean, sd), style))
             for _ in range(POOL)]
            for name, mean, sd, style in specs]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--features", type=int, choices=(4, 20, 100), required=True,
                    help="number of numeric features (plus 2 categorical)")
    ap.add_argument("--lines", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--span-days", type=float, default=0,
                    help="spread the lines evenly over this many days, "
                    "ending at 2026-11-22T10:00:00Z (for bench/replay.sh)")
    args = ap.parse_args()
    if args.lines < 0:
        ap.error("--lines must be >= 0")

    rng = random.Random(args.seed)
    rand = rng.random
    getrandbits = rng.getrandbits
    model, classes, class_weights = MODELS[args.features]
    feature_pools = pools(rng, feature_specs(args.features))
    # Latency in ms: log-normal (median ~3.7 ms, a long tail), 3 decimals.
    latencies = [repr(round(rng.lognormvariate(1.3, 0.6), 3))
                 for _ in range(POOL)]
    countries = weighted_table(COUNTRIES)
    devices = weighted_table(DEVICES)
    class_table = weighted_table(list(enumerate(class_weights)))
    nc, nd, nk = len(countries), len(devices), len(class_table)

    # Event time: 2026-11-22T10:00:00Z plus increasing milliseconds.  The
    # date and time text is rebuilt only when the second changes.
    ms = 1795341600 * 1000
    # --span-days: the same shape of increments, scaled to the span.
    scale = 1.0
    if args.span_days > 0 and args.lines > 0:
        scale = args.span_days * 86400000 / (args.lines * 21.0)
        ms -= int(args.span_days * 86400000)
    cached_sec, sec_text = None, ""

    out = sys.stdout
    written = 0
    batch = []
    for _ in range(args.lines):
        ms += int((1 + int(rand() * 40)) * scale)
        sec = ms // 1000
        if sec != cached_sec:
            cached_sec = sec
            sec_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        ts = "%s.%03dZ" % (sec_text, ms % 1000)

        feats = ",".join([p[int(rand() * POOL)] for p in feature_pools])
        country = countries[int(rand() * nc)]
        device = devices[int(rand() * nd)]

        # The predicted class gets the largest probability, skewed towards
        # 1 (mean ~0.83); the other two share the rest at random, each
        # getting no more than the top one.  These are computed per line,
        # so confidence and probabilities are all distinct.
        # confidence = max(probabilities).
        k = class_table[int(rand() * nk)]
        u = rand()
        top = 0.34 + 0.66 * (1.0 - u * u * u)
        rest = 1.0 - top
        # Each share of the rest must stay <= top: split in [lo, 1 - lo].
        lo = max(0.0, 1.0 - top / rest) if rest > 0 else 0.0
        split = lo + (1.0 - 2.0 * lo) * rand()
        probs = [rest * split, rest * (1.0 - split)]
        probs.insert(k, top)
        latency = latencies[int(rand() * POOL)]

        line = ('{"ts":"%s","request_id":"%032x","model":"%s","features":{%s,'
                '"country":"%s","device":"%s"},"prediction":"%s",'
                '"confidence":%r,"probabilities":[%r,%r,%r],'
                '"latency_ms":%s}\n'
                % (ts, getrandbits(128), model, feats, country, device,
                   classes[k], top, probs[0], probs[1], probs[2], latency))
        written += len(line)
        batch.append(line)
        if len(batch) >= 4096:
            out.write("".join(batch))
            batch.clear()
    out.write("".join(batch))
    out.flush()

    avg = written / args.lines if args.lines else 0
    print("gen-log: %d lines, %d bytes, %.1f bytes/line on average"
          % (args.lines, written, avg), file=sys.stderr)


if __name__ == "__main__":
    main()
