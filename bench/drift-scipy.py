#!/usr/bin/python3
"""The drift benchmark's baseline: SciPy and NumPy computing what one driftd
evaluation computes with the default settings (ks and psi on every numeric
column, and the deciding test, which for a reference of more than 1000
values is the normed Wasserstein distance), on the arrays drift-gen.py
saved.  Prints the median wall time of RUNS evaluations in seconds.

usage: drift-scipy.py OUTDIR [RUNS]
"""
import os
import sys
import time

import numpy as np
from scipy import stats


def evaluate(ref, win, bins=10):
    out = []
    for j in range(ref.shape[1]):
        r, w = ref[:, j], win[:, j]
        ks = stats.ks_2samp(r, w, method="asymp")
        edges = np.unique(np.quantile(r, [k / bins for k in range(1, bins)]))
        rp = np.bincount(np.searchsorted(edges, r, side="right"),
                         minlength=len(edges) + 1) / len(r)
        wp = np.bincount(np.searchsorted(edges, w, side="right"),
                         minlength=len(edges) + 1) / len(w)
        rp, wp = np.where(rp == 0, 1e-4, rp), np.where(wp == 0, 1e-4, wp)
        psi = np.sum((wp - rp) * np.log(wp / rp))
        wd = stats.wasserstein_distance(r, w) / max(np.std(r), 0.001)
        out.append((ks.statistic, ks.pvalue, psi, wd, np.mean(w), np.std(w)))
    return out


def main():
    d = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    ref = np.load(os.path.join(d, "ref.npy"))
    win = np.load(os.path.join(d, "win.npy"))
    # Columns as contiguous arrays, as a service holding them would.
    ref = np.ascontiguousarray(ref)
    win = np.ascontiguousarray(win)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        evaluate(ref, win)
        times.append(time.perf_counter() - t0)
    print(f"{sorted(times)[len(times) // 2]:.6f}")


if __name__ == "__main__":
    main()
