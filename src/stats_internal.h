/*
 * stats_internal.h - what stats.c and stats_gaps.c share: the extremes
 * of the two-sample CDF difference from which the KS statistic is taken.
 */
#ifndef DRIFTD_STATS_INTERNAL_H
#define DRIFTD_STATS_INTERNAL_H

#include <stdint.h>

/*
 * At a point where ri of nr reference values and wj of nw window values
 * are <= it, F_r - F_w is (ri nw - wj nr) / (nr nw): compared as that
 * exact integer.  The largest (best) is kept with its counts (bi, bj),
 * the smallest (worst) with (wi, wj); the first point wins a tie.
 */
struct ks_extremes {
	int64_t best, worst;
	int64_t bi, bj, wi, wj;
};

#define KS_EXTREMES_INIT { INT64_MIN, INT64_MAX, 0, 0, 0, 0 }

static inline void
ks_extremes_add(struct ks_extremes *x, int64_t ri, int64_t wj, int64_t nr,
    int64_t nw)
{
	int64_t diff = ri * nw - wj * nr;

	if (diff > x->best) {
		x->best = diff;
		x->bi = ri;
		x->bj = wj;
	}
	if (diff < x->worst) {
		x->worst = diff;
		x->wi = ri;
		x->wj = wj;
	}
}

/* D from the extremes: quotient minus quotient, as SciPy computes every
 * point. */
double ks_extremes_d(const struct ks_extremes *x, int64_t nr, int64_t nw);

#endif
