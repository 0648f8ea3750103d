/*
 * Unit tests for stats.c at the edges of their domains.  Expected values
 * come from SciPy 1.10 and NumPy 1.24 (Debian 12), computed once with
 *   scipy.stats.kstwo.sf(x, n), scipy.stats.chi2.sf(x, df), numpy.sum,
 *   numpy.std, numpy.quantile;
 * the end-to-end golden test compares against them live.
 */
#include "config.h"

#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "stats.h"

struct kcase {
	long n;
	double x;
	double sf;
};

static const struct kcase kstwo_cases[] = {
	{ 1, 0.3, 1.0 },
	{ 1, 0.75, 0.5 },
	{ 2, 0.2, 1.0 },
	{ 2, 0.6, 0.32000000000000006 },
	{ 5, 0.05, 1.0 },
	{ 5, 0.9, 1.9999999999999978e-05 },
	{ 10, 0.1, 0.99963712 },
	{ 10, 0.35, 0.1339605462624991 },
	{ 10, 0.95, 1.9531250000000172e-13 },
	{ 50, 0.1, 0.6623112704658186 },
	{ 140, 0.05, 0.857648029765611 },
	{ 140, 0.2, 2.1981563302200222e-05 },
	{ 141, 0.05, 0.8548456930096628 },
	{ 141, 0.2, 2.0276784223976912e-05 },
	{ 500, 0.02, 0.9859871786857471 },
	{ 909, 0.01, 0.9999834264847868 },
	{ 909, 0.05, 0.02051448649563306 },
	{ 909, 0.2, 2.4072334021702443e-32 },
	{ 5000, 0.004, 0.9999977369528622 },
	{ 5000, 0.02, 0.03613941395325637 },
	{ 100000, 0.0005, 1.0 },
	{ 100001, 0.0005, 1.0 },
	{ 200000, 0.003, 0.0545369786611305 },
	{ 1000000, 0.0012, 0.11215991901443556 },
	{ 3, 0.999, 2.0000000000000055e-09 },
	{ 4000, 0.9, 0.0 },
};

static void
test_kstwo_sf(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kstwo_cases) / sizeof(kstwo_cases[0]); i++) {
		const struct kcase *c = &kstwo_cases[i];
		double got = stats_kstwo_sf(c->n, c->x);

		/* 1e-6 absolute is the contract; near 0 also relative. */
		if (!(fabs(got - c->sf) <= 1e-9 ||
		    (c->sf > 0 && fabs(got - c->sf) <= 1e-9 * c->sf)))
			fail_msg("kstwo.sf(%g, %ld) = %.17g, want %.17g", c->x,
			    c->n, got, c->sf);
	}
	assert_double_near(stats_kstwo_sf(10, 0), 1, 0);
	assert_double_near(stats_kstwo_sf(10, 1), 0, 0);
	assert_true(isnan(stats_kstwo_sf(0, 0.5)));
	assert_true(isnan(stats_kstwo_sf(10, NAN)));
}

/* The Birnbaum-Tingey sum in long double, term by term with libm's own
 * logl/expl/lgammal: an independent oracle for stats_smirnov(). */
static long double
smirnov_oracle(long n, long double d)
{
	long double nn = (long double)n, p = 0;
	long v, last = (long)floorl(nn * (1 - d));

	for (v = 0; v <= last; v++) {
		long double evn = d + (long double)v / nn, omevn = 1 - evn;

		if (omevn <= 0)
			continue;
		p += expl(lgammal(nn + 1) - lgammal((long double)v + 1) -
		    lgammal(nn - (long double)v + 1) +
		    (long double)(v - 1) * logl(evn) +
		    (nn - (long double)v) * logl(omevn));
	}
	return p * d;
}

static void
test_smirnov(void **state)
{
	/* Sizes whose sums end just before, at and after a block of terms,
	 * d where 1 - d - v/n reaches 0 exactly at the last term, and d so small
	 * that the last term is v = n. */
	static const long ns[] = { 141, 255, 256, 257, 1000, 5000, 20000 };
	static const double ds[] = { 1e-17, 0.004, 0.01, 0.02, 0.03, 0.05,
	    0.08, 0.25, 0.5, 0.75 };
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		for (j = 0; j < sizeof(ds) / sizeof(ds[0]); j++) {
			double got = stats_smirnov(ns[i], ds[j]);
			long double want = smirnov_oracle(ns[i], ds[j]);

			if (want < 1e-300L)
				continue;
			if (!(fabsl((long double)got - want) <= 1e-10L * want))
				fail_msg("smirnov(%ld, %g) = %.17g, want %.17Lg",
				    ns[i], ds[j], got, want);
		}
	}
	assert_double_near(stats_smirnov(1000, 0), 1, 0);
	assert_double_near(stats_smirnov(1000, 1), 0, 0);
	assert_true(isnan(stats_smirnov(1000, -0.1)));
	assert_true(isnan(stats_smirnov(1000, NAN)));
}

static void
test_ks_pvalue_rounding(void **state)
{
	(void)state;
	/* n1 = n2 = 1: n = 0.5 rounds half to even, to 0: no p-value. */
	assert_true(isnan(stats_ks_pvalue(1.0, 1, 1)));
	/* n1 = 1, n2 = 3: n = 0.75 rounds to 1. */
	assert_double_near(stats_ks_pvalue(0.6, 1, 3), stats_kstwo_sf(1, 0.6), 0);
	/* 3 * 5 / 8 = 1.875 rounds to 2. */
	assert_double_near(stats_ks_pvalue(0.6, 3, 5), stats_kstwo_sf(2, 0.6), 0);
	/* 2 * 2 / 4 = 1; 6 * 2 / 8 = 1.5 rounds to 2; 10 * 2 / 12 = 1.67. */
	assert_double_near(stats_ks_pvalue(0.6, 6, 2), stats_kstwo_sf(2, 0.6), 0);
}

struct ccase {
	double x;
	double df;
	double sf;
};

static const struct ccase chi2_cases[] = {
	{ 0.0, 1, 1.0 },
	{ 1e-300, 1, 1.0 },
	{ 0.5, 1, 0.47950012218695337 },
	{ 3.84, 1, 0.05004352124870519 },
	{ 100, 1, 1.5239706048320995e-23 },
	{ 1500, 1, 0.0 },
	{ 10, 5, 0.07523524614651217 },
	{ 10000.0, 9999, 0.4952983945386835 },
	{ 9999, 10000, 0.5009403844126935 },
	{ 20000, 10000, 0.0 },
	{ 700, 3, 2.0991308534204487e-151 },
};

static void
test_chi2_sf(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(chi2_cases) / sizeof(chi2_cases[0]); i++) {
		const struct ccase *c = &chi2_cases[i];
		double got = stats_chi2_sf(c->x, c->df);

		if (!(fabs(got - c->sf) <= 1e-12 ||
		    (c->sf > 0 && fabs(got - c->sf) <= 1e-9 * c->sf)))
			fail_msg("chi2.sf(%g, %g) = %.17g, want %.17g", c->x,
			    c->df, got, c->sf);
	}
}

static void
test_chi2_statistic(void **state)
{
	double obs[] = { 10, 20, 30 }, exp[] = { 20, 20, 20 }, p;
	double stat = stats_chi2(obs, exp, 3, &p);

	(void)state;
	assert_double_near(stat, 10.0, 1e-15);
	assert_double_near(p, stats_chi2_sf(10.0, 2), 1e-15);
	stat = stats_chi2(obs, exp, 1, &p);
	assert_true(isnan(p));
}

static void
test_sum_and_moments_like_numpy(void **state)
{
	double *x = malloc(10000 * sizeof(double)), mean, std;
	double tenth[1000];
	int i;

	(void)state;
	for (i = 0; i < 10000; i++)
		x[i] = 0.1 * i;
	assert_true(stats_sum(x, 10000) == 4999500.0);
	stats_mean_std(x, 10000, &mean, &std);
	assert_true(mean == 499.95);
	assert_true(std == 288.6751331514372);
	for (i = 0; i < 1000; i++)
		tenth[i] = 0.1;
	assert_true(stats_sum(tenth, 10) == 1.0);
	/* numpy's pairwise sum of a constant is not exact, and neither is
	 * its std: the same two numbers, to the bit. */
	stats_mean_std(tenth, 1000, &mean, &std);
	assert_true(mean == 0.10000000000000002);
	assert_true(std == 1.3877787807814457e-17);
	assert_true(stats_sum(x, 0) == 0);
	free(x);
}

static void
test_quantiles_and_edges(void **state)
{
	double z[] = { 1, 2, 2, 2, 3, 7, 7, 10.5 };
	double want[] = { 1.7000000000000002, 2.0, 2.0, 2.0, 2.5,
	    3.8000000000000007, 6.599999999999998, 7.0, 8.049999999999999 };
	double edges[9], one = 5.0;
	size_t k, n;

	(void)state;
	for (k = 1; k < 10; k++)
		assert_true(stats_quantile(z, 8, (double)k / 10) == want[k - 1]);
	assert_true(stats_quantile(&one, 1, 0.3) == 5.0);
	/* Three quantiles fall on 2.0: they merge into one edge. */
	n = stats_quantile_edges(z, 8, 10, edges);
	assert_int_equal(n, 7);
	assert_true(edges[1] == 2.0 && edges[2] == 2.5);
	assert_int_equal(stats_upper_bound(z, 8, 2.0), 4);
	assert_int_equal(stats_upper_bound(z, 8, 0.5), 0);
	assert_int_equal(stats_upper_bound(z, 8, 11), 8);
}

static void
test_psi_and_js(void **state)
{
	double w[] = { 0.5, 0.5, 0 }, r[] = { 0.25, 0.25, 0.5 };
	double want = (0.5 - 0.25) * log(2) * 2 + (1e-4 - 0.5) * log(1e-4 / 0.5);

	(void)state;
	assert_double_near(stats_psi(w, r, 3), want, 1e-14);
	assert_double_near(stats_psi(r, r, 3), 0, 0);
	assert_double_near(stats_js(r, r, 3), 0, 0);
	/* Disjoint supports: sqrt(ln 2). */
	{
		double p[] = { 1, 0 }, q[] = { 0, 1 };

		assert_double_near(stats_js(p, q, 2), sqrt(log(2)), 1e-15);
	}
}

static void
test_ks_d_and_wasserstein_with_ties(void **state)
{
	double a[] = { 1, 1, 2, 3, INFINITY }, b[] = { 1, 2, 2, 2, 4, INFINITY };
	double scratch[9];

	(void)state;
	/* At 1: 2/4 - 1/5 = 0.3; at 2: 3/4 - 4/5; at 3: 1 - 4/5 = 0.2. */
	assert_double_near(stats_ks_d(a, 4, b, 5), 0.3, 1e-15);
	assert_double_near(stats_ks_d(a, 4, a, 4), 0, 0);
	/* |F_a - F_b| over [1,2): 0.3; [2,3): 0.05; [3,4): 0.2. */
	assert_double_near(stats_wasserstein(a, 4, b, 5, scratch),
	    0.3 + 0.05 + 0.2, 1e-15);
	assert_double_near(stats_wasserstein(a, 4, a, 4, scratch), 0, 0);
	/* The fused walk gives both, the same. */
	{
		double w, dd = stats_ks_d_wasserstein(a, 4, b, 5, &w);

		assert_double_near(dd, stats_ks_d(a, 4, b, 5), 0);
		assert_double_near(w, stats_wasserstein(a, 4, b, 5, scratch), 1e-15);
		dd = stats_ks_d_wasserstein(b, 5, a, 4, &w);
		assert_double_near(dd, stats_ks_d(b, 5, a, 4), 0);
	}
}

/* A value from a small pool (ties with each other and with the other
 * sample), or a continuous one, as `kind` says. */
static double
draw(unsigned *seed, int kind)
{
	*seed = *seed * 1103515245u + 12345u;
	switch (kind) {
	case 0:
		return (double)((*seed >> 16) % 7);
	case 1:
		return (double)((*seed >> 8) % 100000) / 997.0 - 40;
	default:
		return (*seed >> 16) % 3 == 0 ? 5.0 :
		    (double)((*seed >> 8) % 1000) / 10.0;
	}
}

/*
 * D, W and the PSI bins of a reference and a window both ways: from the
 * gaps, with the window in its given order split in two runs and a
 * missing value between every few (gd, gw, gbins), and sorted and merged
 * (md, mw, mbins).  Keeps the sorted samples (with their +inf sentinels).
 */
#define BOTH_BINS 10

struct both {
	double *ref, *win;
	double gd, gw, md, mw;
	double gbins[BOTH_BINS], mbins[BOTH_BINS], edges[BOTH_BINS];
	size_t nedges;
};

static void
both_compute(struct both *b, const double *ref, size_t nr, const double *win,
    size_t nw)
{
	double *scratch = calloc(nr + nw, sizeof(double));
	size_t n = nw + nw / 3, i, j, k, split = n / 3;
	double *v = calloc(n + 1, sizeof(double)), *edges = b->edges;
	uint32_t *code = calloc(n + 1, sizeof(uint32_t));
	struct stats_gaps g;
	struct stats_run runs[2];

	b->ref = calloc(nr + 1, sizeof(double));
	b->win = calloc(nw + 1, sizeof(double));
	memcpy(b->ref, ref, nr * sizeof(double));
	memcpy(b->win, win, nw * sizeof(double));
	stats_sort(b->ref, nr);
	stats_sort(b->win, nw);
	b->ref[nr] = b->win[nw] = INFINITY;
	b->md = stats_ks_d(b->ref, nr, b->win, nw);
	b->mw = stats_wasserstein(b->ref, nr, b->win, nw, scratch);
	b->nedges = stats_quantile_edges(b->ref, nr, BOTH_BINS, edges);
	memset(b->mbins, 0, sizeof(b->mbins));
	for (i = 0, k = 0; i < nw; i++) {
		while (k < b->nedges && edges[k] <= b->win[i])
			k++;
		b->mbins[k] += 1;
	}

	/* The window as given, every fourth slot missing. */
	for (i = 0, j = 0; i < n; i++) {
		if (i % 4 == 3 || j == nw) {
			v[i] = NAN;
			code[i] = STATS_NO_GAP;
		} else {
			v[i] = win[j++];
			code[i] = stats_gap_code(b->ref, nr, v[i]);
		}
	}
	assert_int_equal(j, nw);
	runs[0].v = v;
	runs[0].code = code;
	runs[0].n = split;
	runs[1].v = v + split;
	runs[1].code = code + split;
	runs[1].n = n - split;
	g.count = calloc(2 * nr + 2, sizeof(uint32_t));
	g.cls = calloc(2 * nr + 2, sizeof(double));
	g.pos = calloc(nr + 1, sizeof(uint32_t));
	g.cross = calloc(nr + 1, sizeof(uint32_t));
	g.vals = calloc(nw + 1, sizeof(double));
	assert_int_equal(stats_gap_count(nr, runs, 2, &g), nw);
	b->gd = stats_gap_tests(b->ref, nr, edges, b->nedges, runs, 2, &g,
	    &b->gw, b->gbins);
	free(g.count);
	free(g.cls);
	free(g.pos);
	free(g.cross);
	free(g.vals);
	free(v);
	free(code);
	free(scratch);
}

static void
both_free(struct both *b)
{
	free(b->ref);
	free(b->win);
}

static void
both_bins_equal(const struct both *b)
{
	size_t k;

	for (k = 0; k <= b->nedges; k++)
		assert_double_near(b->gbins[k], b->mbins[k], 0);
}

/* The gap-grouped statistics against sorting and merging, on random
 * samples of every shape: ties inside and across samples, repeated
 * reference values, windows far larger and far smaller than the
 * reference, all values beyond one end of it. */
static void
test_gap_statistics_equal_merged(void **state)
{
	static const size_t sizes[][2] = {
		{ 1, 1 }, { 1, 50 }, { 50, 1 }, { 7, 7 }, { 100, 3000 },
		{ 3000, 100 }, { 500, 500 }, { 2, 1000 }, { 1000, 249 },
		{ 1000, 250 },
	};
	unsigned seed = 12345;
	size_t si, kind, shift;

	(void)state;
	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
	for (kind = 0; kind < 3; kind++)
	for (shift = 0; shift < 3; shift++) {
		size_t nr = sizes[si][0], nw = sizes[si][1], i;
		double *ref = calloc(nr, sizeof(double));
		double *win = calloc(nw, sizeof(double));
		double off = shift == 0 ? 0 : shift == 1 ? 3.5 : -1000;
		struct both b;

		for (i = 0; i < nr; i++)
			ref[i] = draw(&seed, (int)kind);
		for (i = 0; i < nw; i++)
			win[i] = draw(&seed, (int)kind) + off;
		both_compute(&b, ref, nr, win, nw);
		assert_double_near(b.gd, b.md, 0);
		assert_double_near(b.gw, b.mw, 1e-12);
		both_bins_equal(&b);
		both_free(&b);
		free(ref);
		free(win);
	}
}

/* Every window of up to four values from a small grid, against small
 * references with and without repeated values: each KS candidate (at a
 * reference value, before or after the window's values there; in an
 * empty gap or a crowded one) decides D somewhere. */
static void
test_gap_statistics_small_exhaustive(void **state)
{
	static const double grid[] = { 0.5, 1, 1.5, 2, 2.5, 3 };
	/* Up to three values: the dense walk; seventeen or more with a
	 * window of four or fewer: the sparse one. */
	static const double refs[][20] = { { 1, 2 }, { 1, 1, 2 }, { 1, 2, 2 },
	    { 1, 2, 3 },
	    { 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3,
	      3.25, 3.5, 3.75, 4, 4.25 },
	    { 0.1, 0.2, 0.3, 0.4, 1, 1, 1, 1.2, 1.3, 1.4, 2, 2, 2.6, 2.7,
	      2.8, 2.9, 3, 3, 3, 3.1 } };
	static const size_t nrefs[] = { 2, 3, 3, 3, 17, 20 };
	size_t r, nw, k, i, ng = sizeof(grid) / sizeof(grid[0]);

	(void)state;
	for (r = 0; r < sizeof(nrefs) / sizeof(nrefs[0]); r++)
	for (nw = 1; nw <= 4; nw++) {
		size_t combos = 1;

		for (i = 0; i < nw; i++)
			combos *= ng;
		for (k = 0; k < combos; k++) {
			double win[4];
			size_t c = k;
			struct both b;

			for (i = 0; i < nw; i++) {
				win[i] = grid[c % ng];
				c /= ng;
			}
			both_compute(&b, refs[r], nrefs[r], win, nw);
			if (b.gd != b.md || !(fabs(b.gw - b.mw) <= 1e-12 * b.mw))
				fail_msg("ref %zu, window %zu/%zu: D %.17g vs %.17g, "
				    "W %.17g vs %.17g", r, nw, k, b.gd, b.md, b.gw,
				    b.mw);
			both_bins_equal(&b);
			both_free(&b);
		}
	}
}

/* A whole window in one gap (a feature stuck at one value) keeps full
 * precision, in the last gap and in a gap of a dense window. */
static void
test_gap_statistics_stuck_feature(void **state)
{
	static const size_t n = 100000;
	double *win = malloc(n * sizeof(double)), *ref = malloc(n * sizeof(double));
	double zero = 0, r4[] = { 0, 1, 2000, 2001 };
	struct both b;
	size_t i;

	(void)state;
	/* Reference {0}, window all 1000.1: W is 1000.1 itself. */
	for (i = 0; i < n; i++)
		win[i] = 1000.1;
	both_compute(&b, &zero, 1, win, n);
	assert_double_near(b.gd, b.md, 0);
	assert_double_near(b.gw, 1000.1, 1e-15);
	assert_double_near(b.mw, 1000.1, 1e-15);
	both_free(&b);
	/* Reference 0 .. 9999, window all 5000.3: one crowded gap. */
	for (i = 0; i < 10000; i++) {
		ref[i] = (double)i;
		win[i] = 5000.3;
	}
	both_compute(&b, ref, 10000, win, 10000);
	assert_double_near(b.gd, b.md, 0);
	assert_double_near(b.gw, b.mw, 1e-14);
	both_free(&b);
	/* A crowded gap that decides W: half the window at -5, half at
	 * 1000.1 in [1, 2000), where the CDFs are level at the start. */
	for (i = 0; i < 10000; i++)
		win[i] = i % 2 ? 1000.1 : -5;
	both_compute(&b, r4, 4, win, 10000);
	assert_double_near(b.gd, b.md, 0);
	assert_double_near(b.gw, b.mw, 1e-15);
	both_free(&b);
	free(win);
	free(ref);
}

/* Values near the largest double: widths beyond it are +inf, but where
 * the CDFs agree over such a width it adds nothing, and W is never NaN;
 * past the largest double both ways give +inf. */
static void
test_gap_statistics_huge_values(void **state)
{
	static const struct {
		double ref[10], win[4];
		size_t nr, nw;
		int inf;
	} cases[] = {
		/* Differences from a value to its gap's ends, or across a gap
		 * holding values, that pass the largest double while the
		 * merged walk's neighbouring differences do not. */
		{ { 1e308 }, { -1e308, 0 }, 1, 2, 0 },
		{ { -1e308, 1e308 }, { 0, 1e308, 1e308, 1e308 }, 2, 4, 0 },
		{ { 0 }, { -1e308, 1e308 }, 1, 2, 0 },
		{ { -1e308, 1e308 }, { -1e308, 0 }, 2, 2, 0 },
		{ { -1e308, 1e308 }, { -1.1e308, 0 }, 2, 2, 0 },
		{ { -1e308, 1e308, 1.1e308, 1.2e308, 1.3e308, 1.4e308, 1.5e308,
		    1.6e308, 1.7e308 }, { 0 }, 9, 1, 0 },
		{ { -1e308, 0 }, { 1e308, 1.5e308 }, 2, 2, 0 },
		{ { -1.7e308 }, { 1.7e308 }, 1, 1, 1 },
		/* Level CDFs over an empty gap wider than the largest double,
		 * inside a run of empty gaps. */
		{ { -1.7e308, -1.6e308, -1.5e308, -1.4e308, -1e308, 1e308,
		    1.1e308, 1.2e308, 1.3e308, 1.4e308 }, { -1.55e308, 1.45e308 },
		    10, 2, 0 },
	};
	size_t k, i;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct both b;

		both_compute(&b, cases[k].ref, cases[k].nr, cases[k].win,
		    cases[k].nw);
		assert_double_near(b.gd, b.md, 0);
		if (cases[k].inf) {
			assert_true(isinf(b.mw) && b.mw > 0);
			assert_true(isinf(b.gw) && b.gw > 0);
		} else {
			assert_true(isfinite(b.mw));
			assert_double_near(b.gw, b.mw, 1e-12);
		}
		/* Quantile edges between such values are finite, in order. */
		for (i = 0; i + 1 < b.nedges; i++)
			assert_true(isfinite(b.edges[i]) &&
			    b.edges[i] < b.edges[i + 1]);
		both_bins_equal(&b);
		both_free(&b);
	}
}

static void
test_bh_cutoff(void **state)
{
	double p[] = { 0.01, 0.04, 0.03, 0.2 }, scratch[4];

	(void)state;
	/* m = 4, alpha 0.05: sorted 0.01 <= .0125, 0.03 <= .025? no,
	 * 0.04 <= .0375? no, 0.2 <= 0.05? no -> cut-off 0.01. */
	assert_double_near(stats_bh_cutoff(p, 4, 4, 0.05, scratch), 0.01, 0);
	/* With more hypotheses than known p-values the bar is lower. */
	assert_double_near(stats_bh_cutoff(p, 4, 10, 0.05, scratch), -1, 0);
	/* 0.03 <= 3 * 0.05 / 4 = 0.0375 once 0.04 is gone. */
	p[1] = 0.5;
	assert_double_near(stats_bh_cutoff(p, 4, 4, 0.1, scratch), 0.03, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kstwo_sf),
		cmocka_unit_test(test_smirnov),
		cmocka_unit_test(test_ks_pvalue_rounding),
		cmocka_unit_test(test_chi2_sf),
		cmocka_unit_test(test_chi2_statistic),
		cmocka_unit_test(test_sum_and_moments_like_numpy),
		cmocka_unit_test(test_quantiles_and_edges),
		cmocka_unit_test(test_psi_and_js),
		cmocka_unit_test(test_ks_d_and_wasserstein_with_ties),
		cmocka_unit_test(test_gap_statistics_equal_merged),
		cmocka_unit_test(test_gap_statistics_small_exhaustive),
		cmocka_unit_test(test_gap_statistics_stuck_feature),
		cmocka_unit_test(test_gap_statistics_huge_values),
		cmocka_unit_test(test_bh_cutoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
