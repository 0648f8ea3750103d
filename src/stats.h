/*
 * stats.h - the statistics behind drift detection.
 *
 * Pure functions: no I/O, no configuration, no metrics, and no allocation
 * unless a function says so.  Every figure is defined to agree with NumPy
 * 1.24 and SciPy 1.10 (Debian 12), which data scientists use to check
 * drift reports; where those libraries fix an order of summation or a
 * rounding, it is reproduced, so that results agree to the last few bits.
 *
 * Domains: sample arrays hold finite doubles; "sorted" means ascending.
 * Probabilities are in [0, 1].  Sizes are counts of values.
 */
#ifndef DRIFTD_STATS_H
#define DRIFTD_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Proportions of zero are replaced by this in PSI (not renormalised), and
 * categories missing from a reference get it as their chi-square share. */
#define STATS_EPS_PROPORTION 1e-4
/* The floor under the reference's standard deviation that normalises the
 * Wasserstein distance (Evidently's choice): a constant reference still
 * gives a finite score. */
#define STATS_WASSERSTEIN_MIN_STD 0.001

/*
 * Sum as numpy.sum does for a contiguous float64 array: the first element,
 * plus the pairwise sum of the rest (blocks of up to 128 with eight
 * accumulators, split in halves at multiples of eight).  Error grows as
 * O(log n) rather than O(n).
 */
double stats_sum(const double *x, size_t n);

/* numpy.mean and numpy.std (ddof = 0).  n > 0. */
void stats_mean_std(const double *x, size_t n, double *mean, double *std);

/* numpy.quantile(sorted, q) with the default linear method.  n > 0. */
double stats_quantile(const double *sorted, size_t n, double q);

/*
 * PSI bin edges: the quantiles k/bins of a sorted sample, k = 1..bins-1,
 * with duplicates merged.  Writes at most bins-1 edges; returns how many.
 */
size_t stats_quantile_edges(const double *sorted, size_t n, unsigned bins,
    double *edges);

/* numpy.searchsorted(a, v, side="right"): how many of a[0..n) are <= v. */
size_t stats_upper_bound(const double *a, size_t n, double v);

/*
 * Population stability index of window proportions w against reference
 * proportions r over k bins: sum (w - r) ln(w / r), each zero proportion
 * replaced by STATS_EPS_PROPORTION first.
 */
double stats_psi(const double *w, const double *r, size_t k);

/*
 * Jensen-Shannon distance (natural log) of two distributions over k bins,
 * as scipy.spatial.distance.jensenshannon: both are normalised to sum 1,
 * m = (p + q) / 2, result sqrt((KL(p||m) + KL(q||m)) / 2).
 */
/* Kullback-Leibler divergence of proportions w from r (natural log), as
 * scipy.stats.entropy(w, r) on them with zeros replaced by
 * STATS_EPS_PROPORTION (entropy renormalises both). */
double stats_kl(const double *w, const double *r, size_t k);
double stats_js(const double *p, const double *q, size_t k);

/*
 * Two-sample Kolmogorov-Smirnov statistic D of sorted samples a and b, as
 * scipy.stats.ks_2samp computes it from the empirical CDFs at every point.
 * Both samples are non-empty and end in a +INFINITY sentinel: a[na] and
 * b[nb] must be readable and +INFINITY.
 */
double stats_ks_d(const double *a, size_t na, const double *b, size_t nb);

/*
 * The p-value of scipy.stats.ks_2samp(method="asymp"), two-sided: the
 * survival function of the one-sample Kolmogorov distribution at d for
 * n = round(n1 n2 / (n1 + n2)) (half to even).  NaN when that n is 0.
 */
double stats_ks_pvalue(double d, size_t n1, size_t n2);

/*
 * Kolmogorov-Smirnov p-values below this are not computed exactly: for
 * n > 140 the bound 2 exp(-2 n d^2) (Dvoretzky-Kiefer-Wolfowitz, with
 * Massart's constant) is reported, which differs from SciPy's figure by
 * less than this (SciPy's contract is 1e-6 absolute).
 */
#define STATS_P_EXACT_BELOW 1e-9

/*
 * Survival function Pr(D_n >= d) of the two-sided one-sample
 * Kolmogorov-Smirnov statistic, choosing among exact and asymptotic
 * methods as Simard & L'Ecuyer (2011) recommend and SciPy's kstwo does:
 * Ruben-Gambino closed forms at the extremes, the Durbin matrix in the
 * Marsaglia-Tsang-Wang form, the exact Smirnov sum, and Pelz-Good.
 */
double stats_kstwo_sf(long n, double d);

/* Pr(D+_n >= d) of the one-sided statistic (Birnbaum-Tingey sum). */
double stats_smirnov(long n, double d);

/*
 * First Wasserstein distance between the empirical distributions of
 * sorted samples u and v, summed as scipy.stats.wasserstein_distance does.
 * Both end in a +INFINITY sentinel, as for stats_ks_d().  `scratch` must
 * hold nu + nv doubles.
 */
double stats_wasserstein(const double *u, size_t nu, const double *v,
    size_t nv, double *scratch);

/* Both at once, in one walk: returns D, stores the Wasserstein distance
 * (summed with compensation rather than pairwise: equal to
 * stats_wasserstein() to a few ulps). */
double stats_ks_d_wasserstein(const double *u, size_t nu, const double *v,
    size_t nv, double *wasserstein);

/*
 * The same statistics for a window whose values know their gap among the
 * nref sorted reference values (see stats_gaps.c).  Gap g holds the
 * values v with g reference values <= v; a value's code is 2 g, plus 1
 * when v equals ref[g-1].  References of STATS_GAP_MAX_REF values or more
 * have no codes.
 */
#define STATS_NO_GAP UINT32_MAX
#define STATS_GAP_MAX_REF ((size_t)INT32_MAX - 1)

uint32_t stats_gap_code(const double *ref, size_t nref, double v);

/* A run of window values and their codes (STATS_NO_GAP: no value). */
struct stats_run {
	const double *v;
	const uint32_t *code;
	size_t n;
};

/*
 * What the gap statistics of one window need besides the runs, all
 * allocated by the caller for a reference of nref values and a window of
 * nw values, none needing any contents on entry.
 */
struct stats_gaps {
	uint32_t *count;        /* 2 (nref + 1) */
	double *cls;            /* 2 (nref + 1) */
	uint32_t *pos;          /* nref + 1 */
	uint32_t *cross;        /* nref + 1 */
	double *vals;           /* nw */
};

/* Count the runs' values by code into g->count; returns how many. */
size_t stats_gap_count(size_t nref, const struct stats_run *runs,
    size_t nruns, struct stats_gaps *g);

/*
 * After stats_gap_count() on the same runs: the KS statistic (returned,
 * equal to stats_ks_d()), the Wasserstein distance (to a few ulps of
 * stats_wasserstein()) and the counts of the window's values in the
 * nedges + 1 bins that sorted edges delimit (a value equal to an edge
 * belongs to the bin above it), as doubles; `bins` may be NULL when
 * nedges is 0.  NaN for an empty sample.
 */
double stats_gap_tests(const double *ref, size_t nref, const double *edges,
    size_t nedges, const struct stats_run *runs, size_t nruns,
    struct stats_gaps *g, double *wasserstein, double *bins);

/*
 * Pearson's chi-square statistic of observed counts against expected
 * counts over k categories, and its p-value chi2.sf(stat, k - 1).
 */
double stats_chi2(const double *observed, const double *expected, size_t k,
    double *pvalue);

/* Regularised upper incomplete gamma function Q(a, x), a > 0, x >= 0. */
double stats_igamc(double a, double x);

/* chi2.sf(x, df) = Q(df / 2, x / 2). */
double stats_chi2_sf(double x, double df);

/*
 * Benjamini-Hochberg step-up at level alpha for m hypotheses, of which the
 * n p-values in p are known (n <= m; the others count as not rejected):
 * the largest p(i) with p(i) <= i alpha / m, or -1 when nothing is
 * rejected.  Reject exactly the p-values <= the cut-off.  `scratch` holds
 * n doubles.
 */
double stats_bh_cutoff(const double *p, size_t n, size_t m, double alpha,
    double *scratch);

/* Sort ascending (doubles without NaN). */
void stats_sort(double *x, size_t n);

/* x[i] = exp(x[i]) for a block: four at a time by libmvec where the CPU
 * and the build allow (within 4 ulp), else libm's. */
void stats_exp_block(double *x, size_t n);

#endif
