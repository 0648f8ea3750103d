"""The statistics as driftd.conf(5) defines them, computed with NumPy and
SciPy (Debian's python3-scipy) from the raw values: the oracle the
end-to-end tests compare driftd's figures with.  It only ever sees the
values, never driftd."""

import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon


def numeric_bins(ref, win, bins):
    edges = np.unique(np.quantile(np.sort(ref), [k / bins for k in range(1, bins)]))
    r = np.bincount(np.searchsorted(edges, ref, side="right"),
                    minlength=len(edges) + 1) / len(ref)
    w = np.bincount(np.searchsorted(edges, win, side="right"),
                    minlength=len(edges) + 1) / len(win)
    return w, r


def floored(p):
    return np.where(p == 0, 1e-4, p)


def kl(w, r):
    """scipy.stats.entropy on the proportions, zeros floored as for PSI
    (entropy renormalises them)."""
    return float(stats.entropy(floored(w), floored(r)))


def psi(w, r):
    w = np.where(w == 0, 1e-4, w)
    r = np.where(r == 0, 1e-4, r)
    return float(np.sum((w - r) * np.log(w / r)))


def oracle_numeric(ref, win, bins=10):
    ref = np.asarray(ref, dtype=float)
    win = np.asarray(win, dtype=float)
    ks = stats.ks_2samp(ref, win, method="asymp")
    w, r = numeric_bins(ref, win, bins)
    return {
        ("ks", "score"): ks.statistic,
        ("ks", "pvalue"): ks.pvalue,
        ("psi", "score"): psi(w, r),
        ("js", "score"): float(jensenshannon(w, r)),
        ("kl", "score"): kl(w, r),
        ("wasserstein", "score"): stats.wasserstein_distance(ref, win)
        / max(float(np.std(ref)), 0.001),
        ("mean", None): float(np.mean(win)),
        ("std", None): float(np.std(win)),
    }


def oracle_categorical(ref, win):
    cats = list(dict.fromkeys(list(ref) + list(win)))
    rc = np.array([sum(1 for x in ref if x == c) for c in cats], dtype=float)
    wc = np.array([sum(1 for x in win if x == c) for c in cats], dtype=float)
    r, w = rc / len(ref), wc / len(win)
    out = {("psi", "score"): psi(w, r), ("js", "score"): float(jensenshannon(w, r)),
           ("kl", "score"): kl(w, r)}
    if len(cats) >= 2:
        props = np.where(rc > 0, r, 1e-4)
        exp = props / props.sum() * len(win)
        stat = float(np.sum((wc - exp) ** 2 / exp))
        out[("chi2", "score")] = stat
        out[("chi2", "pvalue")] = float(stats.chi2.sf(stat, len(cats) - 1))
    return out
