/*
 * stats_gaps.c - two-sample statistics of a window against the gaps of
 * its sorted reference.
 *
 * A window value v lies in gap g when g reference values are <= v: gap g
 * is the interval [ref[g-1], ref[g]), gap 0 is everything below ref[0]
 * and gap n everything from ref[n-1] up.  The window keeps each value's
 * gap as a code (2 g, plus 1 when v is ref[g-1] itself), so one counting
 * pass over the window gives the count of every gap and of the values
 * equal to its left end, without comparing values.  Inside a gap the
 * reference CDF is constant, which is all the tests need:
 *
 *  - The KS statistic is the largest CDF difference, reached at the ends
 *    of gaps: at its left end (the reference value itself, with the
 *    window values equal to it) and just before its right end (after all
 *    of its window values).  Only counts are needed.
 *  - The Wasserstein distance integrates |F_w - F_r| over each gap.  The
 *    counts say on which side of the reference's CDF the window's stays
 *    over a gap, and then the integral is linear in the gap's values: a
 *    constant part from the counts, plus, per value, its distance to the
 *    gap's right end (window above) or left end (window below).  So one
 *    pass over the window, in any order, adds every value's part.  Only
 *    a gap where the window's CDF crosses the reference's needs its
 *    values sorted, to split it at the crossing; that pass collects the
 *    values of those gaps.  Every term added is >= 0.
 *  - The PSI and JS bins need, per edge, how many values lie below it:
 *    whole gaps below the edge's gap, plus a count inside that one gap,
 *    whose values the same pass collects.
 *
 * The results equal stats_ks_d() exactly and stats_wasserstein() to a few
 * ulps (a different order of summation), at a fraction of the cost of
 * sorting the window and merging it with the reference.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

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
 * Many nonnegative terms: gathered in blocks, each block summed in eight
 * interleaved partial sums (error a few ulps of the block's sum), and the
 * blocks' sums added with compensation.  Nearly as exact as compensating
 * every term, at a fraction of its cost.
 */
#define BLOCK 128

struct blocks {
	double t[BLOCK];
	size_t n;
	struct acc acc;
};

static void
blocks_flush(struct blocks *b)
{
	double r0 = 0, r1 = 0, r2 = 0, r3 = 0, r4 = 0, r5 = 0, r6 = 0, r7 = 0;
	const double *t = b->t;
	size_t i;

	for (i = 0; i + 8 <= b->n; i += 8) {
		r0 += t[i];
		r1 += t[i + 1];
		r2 += t[i + 2];
		r3 += t[i + 3];
		r4 += t[i + 4];
		r5 += t[i + 5];
		r6 += t[i + 6];
		r7 += t[i + 7];
	}
	for (; i < b->n; i++)
		r0 += t[i];
	acc_add(&b->acc, ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)));
	b->n = 0;
}

static inline void
blocks_add(struct blocks *b, double t)
{
	b->t[b->n++] = t;
	if (b->n == BLOCK)
		blocks_flush(b);
}

/* The sum, with acc_value()'s +inf past the largest double. */
static double
blocks_value(struct blocks *b)
{
	blocks_flush(b);
	return acc_value(&b->acc);
}

/*
 * k (b - a), for |k| <= 1, where b - a may pass the largest double while
 * k (b - a) does not: then taken in halves.  The merged walk subtracts
 * only neighbours in the merged order; from a value to its gap's ends,
 * or across a gap holding values, the walks here subtract more, and go
 * through this so as not to overflow where the merged walk does not.
 */
static inline double
times_diff(double k, double b, double a)
{
	double d = b - a;

	if (__builtin_expect(isinf(d), 0) && isfinite(a) && isfinite(b))
		return 2 * (k * (b * 0.5 - a * 0.5));
	return k * d;
}

/*
 * coef / (nr nw) times the width b - a of an interval: the CDF difference
 * coef, scaled to an integer, over it.  Where the CDFs agree it counts
 * for nothing (not 0 * inf = NaN).  A width beyond the largest double
 * gives +inf, as in the merged walk, unless the interval holds window
 * values (`split`), which the merged walk would have split it at; only a
 * `careful` walk (a reference whose range passes the largest double)
 * looks.
 */
static inline __attribute__((always_inline)) double
scaled(int64_t coef, double inv, double b, double a, int split, int careful)
{
	if (coef == 0)
		return 0;
	if (careful && split && isinf(b - a))
		return times_diff((double)coef * inv, b, a);
	return (double)coef * inv * (b - a);
}

/*
 * The sums over k values of a crossing gap's part [a, b), each term
 * scaled by invw = 1/nw (so that no sum passes the largest double unless
 * one term does): lo = sum (v - a) / nw and hi = sum (b - v) / nw, each
 * compensated, so that a crowded gap keeps full precision.
 */
static void
gap_sums(const double *v, size_t k, double a, double b, double invw,
    double *lo, double *hi)
{
	struct acc l = { 0, 0 }, h = { 0, 0 };
	size_t i;

	for (i = 0; i < k; i++) {
		acc_add(&l, times_diff(invw, v[i], a));
		acc_add(&h, times_diff(invw, b, v[i]));
	}
	*lo = acc_value(&l);
	*hi = acc_value(&h);
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
 * Few gaps cross; kept out of line, the walks over gaps stay small.
 */
static __attribute__((noinline, cold)) double
crossing(double *v, size_t k, double a, double b, int64_t s, int64_t g,
    int64_t nr, int64_t nw, double inv, double invw)
{
	int64_t need = g * nw - s * nr;
	size_t j = (size_t)((need + nr - 1) / nr);      /* 1 <= j <= k */
	double x, lo, hi, unused;

	sort_small(v, k);
	x = v[j - 1];
	gap_sums(v, j - 1, a, a, invw, &lo, &unused);
	gap_sums(v + j, k - j, b, b, invw, &unused, &hi);
	/* Below x the window's CDF is at most (s + j - 1) / nw < c; from x
	 * on it is at least (s + j) / nw >= c. */
	return scaled(g * nw - (s + (int64_t)j - 1) * nr, inv, x, a, 1, 1) + lo +
	    scaled((s + (int64_t)j) * nr - g * nw, inv, b, x, 1, 1) + hi;
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

/* What a gap's values add to the Wasserstein sum: sign (point - v), in
 * cls[2 g] (the point) and cls[2 g + 1] (the sign); a sign of 0 adds
 * nothing (its point is 0 then, so that no product is inf times 0). */
static inline void
set_cls(double *cls, int64_t g, double point, double sign)
{
	cls[2 * g] = point;
	cls[2 * g + 1] = sign;
}

/* What deciding a gap's side needs (see side()): small enough for a walk
 * to keep a copy in registers. */
struct sides {
	double *cls;
	uint32_t *pos;
	uint32_t *cross;        /* the crossing gaps, in order */
	size_t ncross;
	int64_t nr;
	double inv;             /* 1 / (nr nw) */
};

struct walk {
	const double *ref;
	const uint32_t *count;  /* 2 g: values in gaps 0..g; 2 g + 1: ties */
	struct sides sd;        /* sd.nr: the reference's size */
	int64_t nw;
	struct ks_extremes x;
	struct blocks sum;
};

#define ENDS(w, g) ((int64_t)(w)->count[2 * (g)])
#define TIES(w, g) ((int64_t)(w)->count[2 * (g) + 1])

/*
 * Gap g, 0 < g < nr, of width b - a > 0, holding the values s .. e of the
 * window's order (gn = g nw): on which side of the reference's CDF the
 * window's stays over it, recorded in cls for the values pass, and the
 * constant part of its Wasserstein integral, returned.  A gap where the
 * CDFs cross is recorded for its values to be collected, and adds 0 here.
 */
static inline __attribute__((always_inline)) double
side(struct sides *sd, int64_t g, int64_t s, int64_t e, int64_t gn, double a,
    double b, int careful)
{
	if (s * sd->nr >= gn) {                 /* F_w >= F_r over the gap */
		set_cls(sd->cls, g, b, 1);
		return scaled(s * sd->nr - gn, sd->inv, b, a, e > s, careful);
	}
	if (e * sd->nr <= gn) {                 /* F_w <= F_r over the gap */
		set_cls(sd->cls, g, a, -1);
		return scaled(gn - e * sd->nr, sd->inv, b, a, e > s, careful);
	}
	set_cls(sd->cls, g, 0, 0);              /* crossing: collect it */
	sd->pos[g] = (uint32_t)s;
	sd->cross[sd->ncross++] = (uint32_t)g;
	return 0;
}

/*
 * The same gap with its KS candidates, t of its values equal to a: at a
 * itself, then just before b.
 */
static inline __attribute__((always_inline)) void
gap(struct walk *w, int64_t g, int64_t s, int64_t e, int64_t t, double a,
    double b)
{
	ks_extremes_add(&w->x, g, s + t, w->sd.nr, w->nw);
	ks_extremes_add(&w->x, g, e, w->sd.nr, w->nw);
	blocks_add(&w->sum, side(&w->sd, g, s, e, g * w->nw, a, b, 1));
}

/*
 * Gaps 1 .. nr - 1 of a window with values in many of them.  The KS
 * extremes are kept as the difference and its gap only, in registers;
 * the window count of a candidate follows from them (g nw - diff is a
 * multiple of nr).
 */
static inline __attribute__((always_inline)) void
dense_walk(struct walk *w, int careful)
{
	const double *ref = w->ref;
	int64_t nr = w->sd.nr, nw = w->nw, g, gbest = -1, gworst = -1;
	int64_t best = w->x.best, worst = w->x.worst;
	struct blocks *sum = &w->sum;
	double *terms = sum->t;
	size_t nterms = sum->n;         /* kept in a register */
	const uint32_t *count = w->count;
	struct sides sd = w->sd;        /* in registers, as no store aliases */

	for (g = 1; g < nr; g++) {
		double a = ref[g - 1], b = ref[g];
		int64_t s = count[2 * g - 2], e = count[2 * g];
		int64_t t = count[2 * g + 1];
		int64_t gn = g * nw, d0, d1;

		if (!(a < b))           /* holds no values */
			continue;
		d0 = gn - (s + t) * nr;
		d1 = gn - e * nr;
		/*
		 * The candidates at a itself (d0) and just before b (d1):
		 * d1 <= d0, so only d0 can be the largest and only d1 the
		 * smallest (on a tie, the first point wins either way).
		 */
		if (d0 > best) {
			best = d0;
			gbest = g;
		}
		if (d1 < worst) {
			worst = d1;
			gworst = g;
		}
		terms[nterms++] = side(&sd, g, s, e, gn, a, b, careful);
		if (nterms == BLOCK) {
			sum->n = nterms;
			blocks_flush(sum);
			nterms = 0;
		}
	}
	sum->n = nterms;
	w->sd.ncross = sd.ncross;
	if (gbest >= 0) {
		w->x.best = best;
		w->x.bi = gbest;
		w->x.bj = (gbest * nw - best) / nr;
	}
	if (gworst >= 0) {
		w->x.worst = worst;
		w->x.wi = gworst;
		w->x.wj = (gworst * nw - worst) / nr;
	}
}

static void
dense(struct walk *w)
{
	dense_walk(w, 0);
}

static void
dense_careful(struct walk *w)
{
	dense_walk(w, 1);
}

/*
 * Gap g is empty, s values below it: the last gap of the run of empty
 * gaps from g, below the last gap.  A run is mostly short: a few steps
 * one by one (the loop's exit is the only branch mispredicted), then,
 * as the counts only grow, doubling steps and halving them.
 */
static int64_t
last_empty(const struct walk *w, int64_t g, int64_t s)
{
	int64_t lo = g, step = 1, hi, stop = w->sd.nr - 1;

	for (hi = g + 16 < stop ? g + 16 : stop; lo < hi; lo++)
		if (ENDS(w, lo + 1) != s)
			return lo;
	/* ENDS(lo) == s from here on. */
	while (lo + step < stop && ENDS(w, lo + step) == s) {
		lo += step;
		step *= 2;
	}
	hi = lo + step < stop ? lo + step : stop;
	if (ENDS(w, hi) == s)
		return hi;
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (ENDS(w, mid) == s)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The same with many empty gaps: a run of empty gaps is taken at once.
 */
static void
sparse(struct walk *w)
{
	const double *ref = w->ref;
	int64_t g;

	for (g = 1; g < w->sd.nr; g++) {
		int64_t s = ENDS(w, g - 1), e = ENDS(w, g);

		if (s == e) {
			/*
			 * A run of empty gaps: over it the CDF difference
			 * g nw - s nr only grows, so of its candidates (gaps
			 * of nonzero width) the last is the largest, and none
			 * is below the candidate (g - 1, s) already seen.
			 */
			int64_t g1 = last_empty(w, g, s), h;

			blocks_add(&w->sum, empty_run(ref, g, g1, s, w->sd.nr, w->nw,
			    w->sd.inv));
			for (h = g1; h >= g && !(ref[h - 1] < ref[h]); h--)
				;
			if (h >= g)
				ks_extremes_add(&w->x, h, s, w->sd.nr, w->nw);
			g = g1;
			continue;
		}
		gap(w, g, s, e, TIES(w, g), ref[g - 1], ref[g]);
	}
}

size_t
stats_gap_count(size_t nref, const struct stats_run *runs, size_t nruns,
    struct stats_gaps *g)
{
	uint32_t *count = g->count, total = 0;
	size_t r, i;

	memset(count, 0, 2 * (nref + 1) * sizeof(uint32_t));
	for (r = 0; r < nruns; r++) {
		const uint32_t *code = runs[r].code;

		for (i = 0; i < runs[r].n; i++)
			if (code[i] != STATS_NO_GAP)
				count[code[i]]++;
	}
	/* In place: count[2 g] becomes the values in gaps 0..g; count[2 g + 1]
	 * stays the values equal to ref[g-1]. */
	for (i = 0; i <= nref; i++) {
		total += count[2 * i] + count[2 * i + 1];
		count[2 * i] = total;
	}
	return total;
}

/*
 * Each run's values: their part of the Wasserstein sum, and (when
 * `collect`) the values of the gaps that want them collected, grouped by
 * gap.  Unless `careful`, a value's distance to its gap's end is taken
 * plainly; it is +inf only if that difference passes the largest double,
 * and then the caller sums again, carefully (see times_diff()).
 */
static inline __attribute__((always_inline)) double
values_pass(const struct stats_run *runs, size_t nruns,
    const struct stats_gaps *sg, double invw, int collect, int careful)
{
	const double *cls = sg->cls;
	uint32_t *pos = sg->pos;
	double *vals = sg->vals, *t;
	struct blocks sum;
	size_t r, i, n = 0;             /* kept in a register */

	sum.n = 0;
	sum.acc.sum = sum.acc.comp = 0;
	t = sum.t;
	for (r = 0; r < nruns; r++) {
		const double *v = runs[r].v;
		const uint32_t *code = runs[r].code;

		for (i = 0; i < runs[r].n; i++) {
			uint32_t g;

			if (code[i] == STATS_NO_GAP)
				continue;
			g = code[i] >> 1;
			t[n++] = cls[2 * g + 1] * (careful ?
			    times_diff(invw, cls[2 * g], v[i]) :
			    (cls[2 * g] - v[i]) * invw);
			if (n == BLOCK) {
				sum.n = n;
				blocks_flush(&sum);
				n = 0;
			}
			if (collect && pos[g] != UINT32_MAX)
				vals[pos[g]++] = v[i];
		}
	}
	sum.n = n;
	return blocks_value(&sum);
}

double
stats_gap_tests(const double *ref, size_t nref, const double *edges,
    size_t nedges, const struct stats_run *runs, size_t nruns,
    struct stats_gaps *sg, double *wasserstein, double *bins)
{
	struct walk w = {
		.ref = ref, .count = sg->count,
		.sd = { sg->cls, sg->pos, sg->cross, 0, (int64_t)nref, 0 },
		.x = KS_EXTREMES_INIT,
	};
	size_t q, i, prev = 0;
	int64_t nr = (int64_t)nref, nw;
	double vsum;

	nw = w.nw = nref > 0 ? ENDS(&w, nr) : 0;
	if (nref == 0 || nw == 0) {
		*wasserstein = NAN;
		for (q = 0; q <= nedges && bins != NULL; q++)
			bins[q] = 0;
		return NAN;
	}
	w.sd.inv = 1.0 / ((double)nr * (double)nw);
	memset(sg->pos, 0xff, (nref + 1) * sizeof(uint32_t));

	/* The edges' gaps are collected, unless an edge is the left end of
	 * its gap, which then holds no value below it. */
	for (q = 0; q < nedges; q++) {
		size_t ge = stats_upper_bound(ref, nref, edges[q]);

		if (ge == 0 || ref[ge - 1] < edges[q])
			sg->pos[ge] = ge > 0 ? sg->count[2 * (ge - 1)] : 0;
	}

	/* Gap 0, below the reference: F_r = 0, and the window's CDF rises
	 * from 0 to its count there; each value adds ref[0] - v. */
	ks_extremes_add(&w.x, 0, ENDS(&w, 0), nr, nw);
	set_cls(sg->cls, 0, ref[0], 1);
	/* A quarter of the gaps or more holding values is dense enough. */
	if (4 * nw >= nr && isinf(ref[nr - 1] - ref[0]))
		dense_careful(&w);
	else if (4 * nw >= nr)
		dense(&w);
	else
		sparse(&w);
	/* The last gap, from ref[nr-1] up: F_r = 1 there, and the window's
	 * CDF climbs to 1 at its largest value; each value adds
	 * v - ref[nr-1].  It starts at ref[nr-1], a candidate whatever the
	 * gap holds; after the last value both CDFs are 1. */
	ks_extremes_add(&w.x, nr, ENDS(&w, nr - 1) + TIES(&w, nr), nr, nw);
	ks_extremes_add(&w.x, nr, nw, nr, nw);
	set_cls(sg->cls, nr, ref[nr - 1], -1);

	vsum = values_pass(runs, nruns, sg, 1.0 / (double)nw, 1, 0);
	if (isinf(vsum))
		vsum = values_pass(runs, nruns, sg, 1.0 / (double)nw, 0, 1);
	blocks_add(&w.sum, vsum);

	/* The crossing gaps, now that their values are collected. */
	for (i = 0; i < w.sd.ncross; i++) {
		int64_t g = w.sd.cross[i], s = ENDS(&w, g - 1), e = ENDS(&w, g);

		blocks_add(&w.sum, crossing(sg->vals + s, (size_t)(e - s),
		    ref[g - 1], ref[g], s, g, nr, nw, w.sd.inv, 1.0 / (double)nw));
	}

	for (q = 0; q < nedges; q++) {
		/* Values in gaps before the edge's are below it, values in
		 * gaps after it are not; its own gap is counted. */
		size_t ge = stats_upper_bound(ref, nref, edges[q]);
		size_t start = ge > 0 ? sg->count[2 * (ge - 1)] : 0;
		size_t end = sg->count[2 * ge], below = start;

		if (ge == 0 || ref[ge - 1] < edges[q])
			for (i = start; i < end; i++)
				below += sg->vals[i] < edges[q];
		if (below < prev)       /* edges out of order: none here */
			below = prev;
		bins[q] = (double)(below - prev);
		prev = below;
	}
	if (bins != NULL)
		bins[nedges] = (double)((size_t)nw - prev);
	*wasserstein = blocks_value(&w.sum);
	return ks_extremes_d(&w.x, nr, nw);
}

uint32_t
stats_gap_code(const double *ref, size_t nref, double v)
{
	size_t g = stats_upper_bound(ref, nref, v);

	return (uint32_t)(2 * g + (g > 0 && ref[g - 1] == v));
}
