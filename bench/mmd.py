#!/usr/bin/env python3
"""The MMD benchmark: driftd's test (src/mmd.c, through bench/mmd_bench.c)
against a straightforward NumPy transcription on the same arrays, and
against the same C with a plain loop in place of OpenBLAS's dgemm.

    bench/mmd.py --bench BIN --own BIN [--runs N] [--dims 32,128,512]

For each dimension: 500 reference vectors (single precision, as driftd
keeps them) and 500 window vectors, 100 permutations.  The NumPy
transcription forms the Gram matrix with `@` (so NumPy uses the same
OpenBLAS, /usr/lib/.../libblas.so.3 -> openblas-serial), the kernel with
numpy.exp, and each permutation's statistic from the kernel matrix
indexed by the permuted indices.  Both compute the bandwidth once, outside
the timed part, as an evaluation does.  The statistics must agree to 1e-9
(relative) or the row is marked.  Median wall times of --runs runs;
ratios in the same invocation.  Markdown to stdout.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def cpu():
    with open("/proc/cpuinfo") as f:
        text = f.read()
    name = re.search(r"model name\s*:\s*(.*)", text)
    simd = [s for s in ("avx512f", "avx2", "sse4_2")
            if re.search(r"\b%s\b" % s, text)]
    return (name.group(1) if name else "unknown"), (simd[0] if simd else "-")


def numpy_mmd(x, y, sigma2, perms, rng):
    z = np.vstack([x, y])
    m, n = len(x), len(y)
    sq = (z * z).sum(1)
    d2 = sq[:, None] + sq[None, :] - 2 * (z @ z.T)
    np.maximum(d2, 0, out=d2)
    k = np.exp(-d2 / (2 * sigma2))

    def stat(kk):
        kxx, kyy, kxy = kk[:m, :m], kk[m:, m:], kk[:m, m:]
        return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) +
                (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) -
                2 * kxy.sum() / (m * n))

    observed = stat(k)
    beyond = 0
    for _ in range(perms):
        idx = rng.permutation(m + n)
        if stat(k[np.ix_(idx, idx)]) >= observed:
            beyond += 1
    return observed, (1 + beyond) / (1 + perms)


def median_bandwidth(x):
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    return np.median(d2[np.triu_indices(len(x), 1)]) / 2


def run_c(binary, xf, yf, m, n, d, perms, runs):
    out = subprocess.run([binary, xf, yf, str(m), str(n), str(d),
                          str(perms), str(runs)], capture_output=True,
                         text=True, check=True).stdout
    f = dict(zip(out.split()[0::2], out.split()[1::2]))
    return float(f["statistic"]), float(f["ms"]), f["blas"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--own", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dims", default="32,128,512")
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("--perms", type=int, default=100)
    a = ap.parse_args()
    name, simd = cpu()
    m = n = a.samples
    rows = []
    kernel = "?"
    with tempfile.TemporaryDirectory(prefix="driftd-mmd-bench-") as tmp:
        for d in (int(v) for v in a.dims.split(",")):
            rng = np.random.default_rng(d)
            x32 = rng.normal(size=(m, d)).astype(np.float32)
            y = rng.normal(0.05, 1, size=(n, d))
            x = x32.astype(np.float64)
            xf, yf = os.path.join(tmp, "x.f32"), os.path.join(tmp, "y.f64")
            x32.tofile(xf)
            y.tofile(yf)
            sigma2 = median_bandwidth(x)
            times = []
            for _ in range(a.runs):
                t0 = time.perf_counter()
                stat, _ = numpy_mmd(x, y, sigma2, a.perms,
                                    np.random.default_rng(1))
                times.append((time.perf_counter() - t0) * 1e3)
            np_ms = statistics.median(times)
            c_stat, c_ms, kernel = run_c(a.bench, xf, yf, m, n, d, a.perms,
                                         a.runs)
            o_stat, o_ms, _ = run_c(a.own, xf, yf, m, n, d, a.perms,
                                    max(1, a.runs // 2))
            ok = abs(c_stat - stat) <= 1e-9 * abs(stat)
            rows.append((d, np_ms, c_ms, o_ms, ok, c_stat, stat))
    print(f"CPU: {name}; SIMD: {simd}; OpenBLAS core: {kernel}; "
          f"{m} + {n} vectors, {a.perms} permutations, median of "
          f"{a.runs} runs; NumPy {np.__version__}")
    print()
    print("| dim | NumPy (ms) | driftd (ms) | NumPy / driftd | driftd, "
          "own loop for dgemm (ms) | own loop / OpenBLAS | statistic "
          "agrees (1e-9) |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for d, np_ms, c_ms, o_ms, ok, cs, ns in rows:
        print(f"| {d} | {np_ms:.1f} | {c_ms:.1f} | {np_ms / c_ms:.1f}x | "
              f"{o_ms:.1f} | {o_ms / c_ms:.1f}x | "
              f"{'yes' if ok else f'NO ({cs!r} vs {ns!r})'} |")


if __name__ == "__main__":
    sys.exit(main())
