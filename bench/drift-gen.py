#!/usr/bin/python3
"""Write the inputs of the drift benchmark: a reference CSV of R rows and a
log of W lines, both with K numeric features f0..f{K-1}, plus the driftd
configuration that reads them.  The window is drawn with a small shift on
every other column, so that some columns drift.

usage: drift-gen.py K W R OUTDIR
"""
import json
import os
import sys

import numpy as np


def main():
    k, w, r, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    os.makedirs(out, exist_ok=True)
    g = np.random.default_rng(k * 1000003 + w)
    ref = g.normal(0, 1, (r, k))
    win = g.normal(0, 1, (w, k))
    win[:, ::2] += 0.1
    ref_path = os.path.join(out, "ref.csv")
    with open(ref_path, "w") as f:
        f.write(",".join(f"f{j}" for j in range(k)) + "\n")
        for row in ref:
            f.write(",".join(repr(float(x)) for x in row) + "\n")
    with open(os.path.join(out, "log.jsonl"), "w") as f:
        for row in win:
            feats = {f"f{j}": float(x) for j, x in enumerate(row)}
            f.write(json.dumps({"prediction": "a", "features": feats}) + "\n")
    with open(os.path.join(out, "driftd.conf"), "w") as f:
        f.write("[model]\nname = bench\nconfidence =\n[features]\n")
        for j in range(k):
            f.write(f"features.f{j} = numeric\n")
        f.write(f"[reference]\nfile = {ref_path}\n")
        f.write(f"[window]\nsize = {w}\nevaluate_every = 1s\n")
    np.save(os.path.join(out, "ref.npy"), ref)
    np.save(os.path.join(out, "win.npy"), win)


main()
