/*
 * stats_gaps.c - two-sample statistics of a window grouped by the gaps of
 * its sorted reference.
 *
 * A window value v lies in gap g when g reference values are <= v: gap g
 * is the interval [ref[g-1], ref[g]), gap 0 is everything below ref[0]
 * and gap n everything from ref[n-1] up.  The window keeps each value's
 * gap, so a counting pass groups the window by gap in O(W + R) without
 * comparing values.  Inside a gap the reference CDF is constant, which is
 * all the tests need:
 *
 *  - The KS statistic is the largest CDF difference, reached at the ends
 *    of gaps: at its left end (the reference value itself, with the
 *    window values equal to it) and just before its right end (after all
 *    of its window values).  Only counts are needed.
 *  - The Wasserstein distance integrates |F_w - F_r| over each gap.  While
 *    the window's CDF stays on one side of the reference's, the integral
 *    is linear in the gap's values, so their order does not matter; only
 *    a gap where the window's CDF crosses the reference's is sorted, to
 *    split it at the crossing.  Every term added is >= 0.
 *  - The PSI and JS bins need, per edge, how many values lie below it:
 *    whole gaps below the edge's gap, plus a count inside that one gap.
 *
 * The results equal stats_ks_d() exactly and stats_wasserstein() to a few
 * ulps (a different order of summation), at a fraction of the cost of
 * sorting the window and merging it with the reference.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>

#include "stats.h"
#include "stats_internal.h"

/* A compensated sum: each addition's rounding error, found exactly by
 * Knuth's branch-free two-sum, is kept apart and added at the end. */
struct acc {
	double sum, comp;
};

static inline void
acc_add(struct acc *a, double t)
{
	double y = a->sum + t, bt = y - a->sum;

	a->comp += (a->sum - (y - bt)) + (t - bt);
	a->sum = y;
}

/* The sum; past the largest double, +inf (the error term is NaN then). */
static inline double
acc_value(const struct acc *a)
{
	return isinf(a->sum) ? a->sum : a->sum + a->comp;
}

/*
 * coef / (nr nw) times a width: the CDF difference coef, scaled to an
 * integer, over an interval.  A width beyond the largest double is +inf,
 * and where the CDFs agree it counts for nothing (not 0 * inf = NaN).
 */
static inline double
scaled(int64_t coef, double inv, double width)
{
	return coef != 0 ? (double)coef * inv * width : 0;
}

/*
 * The sums over k values of a gap [a, b), each term scaled by invw = 1/nw
 * (so that no sum passes the largest double unless one term does):
 * lo = sum (v - a) / nw and hi = sum (b - v) / nw, each compensated, so
 * that a gap holding a whole window (a feature stuck at one value) keeps
 * full precision; and how many values equal a.
 */
static void
gap_sums(const double *v, size_t k, double a, double b, double invw,
    double *lo, double *hi, int64_t *ties)
{
	struct acc l = { 0, 0 }, h = { 0, 0 };
	int64_t t = 0;
	size_t i;

	for (i = 0; i < k; i++) {
		acc_add(&l, (v[i] - a) * invw);
		acc_add(&h, (b - v[i]) * invw);
		t += v[i] == a;
	}
	*lo = acc_value(&l);
	*hi = acc_value(&h);
	*ties = t;
}

static void
sort_small(double *v, size_t n)
{
	size_t a, b;

	if (n > 32) {
		stats_sort(v, n);
		return;
	}
	for (a = 1; a < n; a++) {
		double x = v[a];

		for (b = a; b > 0 && v[b - 1] > x; b--)
			v[b] = v[b - 1];
		v[b] = x;
	}
}

/*
 * The integral of |F_w - c| over gap [a, b) of nonzero width, where c is
 * the reference CDF there, for a gap whose values (sorted here) take the
 * window's CDF across c: from below c at the gap's start to above it at
 * its end.  `s` values come before the gap; `need` is g nw - s nr > 0.
 * Few gaps cross; kept out of line, the loops over gaps stay small.
 */
static __attribute__((noinline, cold)) double
crossing(double *v, size_t k, double a, double b, int64_t s, int64_t g,
    int64_t nr, int64_t nw, double inv, double invw)
{
	int64_t need = g * nw - s * nr, t;
	size_t j = (size_t)((need + nr - 1) / nr);      /* 1 <= j <= k */
	double x, lo, hi, unused;

	sort_small(v, k);
	x = v[j - 1];
	gap_sums(v, j - 1, a, a, invw, &lo, &unused, &t);
	gap_sums(v + j, k - j, b, b, invw, &unused, &hi, &t);
	/* Below x the window's CDF is at most (s + j - 1) / nw < c; from x
	 * on it is at least (s + j) / nw >= c. */
	return scaled(g * nw - (s + (int64_t)j - 1) * nr, inv, x - a) + lo +
	    scaled((s + (int64_t)j) * nr - g * nw, inv, b - x) + hi;
}

/*
 * Gaps g0 .. g1 (all below the last) hold no window values, so the
 * window's CDF stays at s / nw over them while the reference's climbs:
 * the Wasserstein terms are |g nw - s nr| (ref[g] - ref[g-1]) / (nr nw)
 * (the integers are exact in a double below 2^53), summed in four
 * independent sums.  Gaps between equal reference values have width 0
 * and add nothing; the gap where the CDFs meet adds nothing either,
 * whatever its width.
 */
static double
empty_run(const double *ref, int64_t g0, int64_t g1, int64_t s, int64_t nr,
    int64_t nw, double inv)
{
	double d = (double)(g0 * nw - s * nr), step = (double)nw;
	double p0 = 0, p1 = 0, p2 = 0, p3 = 0;
	int64_t g = g0;

#define TERM(dd, k) ((dd) != 0 ? fabs(dd) * inv * (ref[g + (k)] - ref[g + (k) - 1]) : 0)
	for (; g + 3 <= g1; g += 4) {
		p0 += TERM(d, 0);
		p1 += TERM(d + step, 1);
		p2 += TERM(d + 2 * step, 2);
		p3 += TERM(d + 3 * step, 3);
		d += 4 * step;
	}
	for (; g <= g1; g++) {
		p0 += TERM(d, 0);
		d += step;
	}
#undef TERM
	return (p0 + p1) + (p2 + p3);
}

/* What one gap [a, b) of nonzero width below the last adds: its KS
 * candidates and its Wasserstein integral, from its values' count, their
 * sums lo and hi (see gap_sums()), and how many equal a. */
struct gaps {
	const double *ref;
	double *vals;
	int64_t nr, nw;
	double inv, invw;
	struct ks_extremes x;
	struct acc sum;
};

static inline __attribute__((always_inline)) void
gap(struct gaps *c, int64_t g, int64_t s, int64_t e, int64_t t, double lo,
    double hi)
{
	double a = c->ref[g - 1], b = c->ref[g];
	int64_t nr = c->nr, nw = c->nw;

	/* At a itself, then just before b. */
	ks_extremes_add(&c->x, g, s + t, nr, nw);
	ks_extremes_add(&c->x, g, e, nr, nw);
	if (s * nr >= g * nw)           /* F_w >= F_r over the gap */
		acc_add(&c->sum, scaled(s * nr - g * nw, c->inv, b - a) + hi);
	else if (e * nr <= g * nw)      /* F_w <= F_r over the gap */
		acc_add(&c->sum, scaled(g * nw - e * nr, c->inv, b - a) + lo);
	else
		acc_add(&c->sum, crossing(c->vals + s, (size_t)(e - s), a, b, s,
		    g, nr, nw, c->inv, c->invw));
}

/*
 * Gaps 1 .. nr - 1 of a window with few values per gap: the per-gap sums
 * come from one pass over the values (each knows its gap), so that the
 * pass over the gaps branches on nothing but the rare crossing.  `work`
 * holds lo, hi and the count of ties for every gap; it is zero on entry
 * and left zero.
 */
static void
dense(struct gaps *c, const uint32_t *gaps, const uint32_t *ends,
    double *work)
{
	struct gaps l = *c;     /* a local copy no store to work can alias */
	const double *ref = l.ref;
	size_t i;
	int64_t g;

	for (i = ends[0]; i < ends[l.nr - 1]; i++) {
		double v = l.vals[i], a = ref[gaps[i] - 1];
		double *w = work + 3 * (size_t)gaps[i];

		w[0] += (v - a) * l.invw;
		w[1] += (ref[gaps[i]] - v) * l.invw;
		w[2] += v == a;
	}
	for (g = 1; g < l.nr; g++) {
		double *w = work + 3 * (size_t)g, lo = w[0], hi = w[1];
		int64_t t = (int64_t)w[2], s = ends[g - 1], e = ends[g];

		w[0] = w[1] = w[2] = 0;
		if (!(ref[g - 1] < ref[g]))
			continue;
		/* Plain sums of a few values lose nothing worth having; a
		 * crowded gap is summed again, with compensation. */
		if (e - s > 16)
			gap_sums(l.vals + s, (size_t)(e - s), ref[g - 1], ref[g],
			    l.invw, &lo, &hi, &t);
		gap(&l, g, s, e, t, lo, hi);
	}
	*c = l;
}

/*
 * The same with many empty gaps: the values are summed gap by gap, and a
 * run of empty gaps at once.
 */
static void
sparse(struct gaps *c, const uint32_t *ends)
{
	const double *ref = c->ref;
	int64_t g;

	for (g = 1; g < c->nr; g++) {
		int64_t s = ends[g - 1], e = ends[g], t;
		double lo, hi;

		if (s == e) {
			/*
			 * A run of empty gaps: over it the CDF difference
			 * g nw - s nr only grows, so of its candidates (gaps
			 * of nonzero width) the last is the largest, and none
			 * is below the candidate (g - 1, s) already seen.
			 */
			int64_t g1 = g, h;

			while (g1 + 1 < c->nr && ends[g1 + 1] == (uint32_t)s)
				g1++;
			acc_add(&c->sum, empty_run(ref, g, g1, s, c->nr, c->nw,
			    c->inv));
			for (h = g1; h >= g && !(ref[h - 1] < ref[h]); h--)
				;
			if (h >= g)
				ks_extremes_add(&c->x, h, s, c->nr, c->nw);
			g = g1;
			continue;
		}
		gap_sums(c->vals + s, (size_t)(e - s), ref[g - 1], ref[g],
		    c->invw, &lo, &hi, &t);
		gap(c, g, s, e, t, lo, hi);
	}
}

double
stats_gap_ks_wasserstein(const double *ref, size_t nref, double *vals,
    const uint32_t *gaps, const uint32_t *ends, double *work,
    double *wasserstein)
{
	struct gaps c = {
		ref, vals, (int64_t)nref, (int64_t)ends[nref], 0, 0,
		KS_EXTREMES_INIT, { 0, 0 },
	};
	double lo, hi;
	int64_t t;

	if (nref == 0 || c.nw == 0) {
		*wasserstein = NAN;
		return NAN;
	}
	c.inv = 1.0 / ((double)c.nr * (double)c.nw);
	c.invw = 1.0 / (double)c.nw;

	/* Gap 0, below the reference: F_r = 0, and the window's CDF rises
	 * from 0 to its count there. */
	gap_sums(vals, ends[0], ref[0], ref[0], c.invw, &lo, &hi, &t);
	acc_add(&c.sum, hi);
	ks_extremes_add(&c.x, 0, ends[0], c.nr, c.nw);
	/* A quarter of the gaps or more holding values is dense enough. */
	if (4 * (size_t)c.nw >= nref)
		dense(&c, gaps, ends, work);
	else
		sparse(&c, ends);
	/* The last gap, from ref[nr-1] up: F_r = 1 there, and the window's
	 * CDF climbs to 1 at its largest value.  It starts at ref[nr-1], a
	 * candidate whatever the gap holds. */
	gap_sums(vals + ends[nref - 1], (size_t)c.nw - ends[nref - 1],
	    ref[nref - 1], ref[nref - 1], c.invw, &lo, &hi, &t);
	ks_extremes_add(&c.x, c.nr, ends[nref - 1] + t, c.nr, c.nw);
	acc_add(&c.sum, lo);
	/* After the last value both CDFs are 1. */
	ks_extremes_add(&c.x, c.nr, c.nw, c.nr, c.nw);
	*wasserstein = acc_value(&c.sum);
	return ks_extremes_d(&c.x, c.nr, c.nw);
}

void
stats_gap_bins(const double *ref, size_t nref, const double *edges,
    size_t nedges, const double *vals, const uint32_t *ends, double *bins)
{
	size_t q, i, prev = 0;

	for (q = 0; q < nedges; q++) {
		/* Values in gaps before the edge's are below it, values in
		 * gaps after it are not; its own gap is counted. */
		size_t ge = stats_upper_bound(ref, nref, edges[q]);
		size_t below = ge > 0 ? ends[ge - 1] : 0, start = below;

		for (i = start; i < ends[ge]; i++)
			below += vals[i] < edges[q];
		bins[q] = (double)(below - prev);
		prev = below;
	}
	bins[nedges] = (double)(ends[nref] - prev);
}
