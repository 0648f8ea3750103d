/*
 * Unit tests for window.c: lazily coded windows give bit for bit the gap
 * statistics an eagerly coded window gives, whatever happened between two
 * evaluations (evictions, missing values, a value set twice, values equal
 * to reference values, expiry by age).
 */
#include "config.h"

#include <stdlib.h>

#include "unit.h"
#include "../../src/stats.h"
#include "../../src/window.h"

/* A small deterministic generator (xorshift64*), seeded per case. */
static uint64_t rng;

static uint64_t
next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static double
uniform(void)
{
	return (double)(next() >> 11) / 9007199254740992.0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A value as logs give them: often one of the reference's own values,
 * often a tie with another window value, sometimes missing. */
static double
draw(const double *ref, size_t nref)
{
	uint64_t k = next() % 10;

	if (k == 0)
		return NAN;
	if (k < 4)
		return ref[next() % nref];
	if (k < 6)
		return (double)(next() % 5);
	return uniform() * 12 - 1;
}

/* The statistics of a window's runs, and of the same values coded now,
 * one by one: they must agree to the bit. */
static void
check_against_eager(struct window *w, const double *ref, size_t nref,
    const double *edges, size_t nedges)
{
	struct stats_run runs[2], eager[2];
	struct stats_gaps g1, g2;
	uint32_t *codes[2] = { NULL, NULL };
	double bins1[16], bins2[16], w1 = NAN, w2 = NAN, d1, d2;
	size_t nruns = window_runs(w, 0, runs), r, i, n1, n2;

	assert_true(nruns >= 1 && nruns <= 2);
	memset(&g1, 0, sizeof(g1));
	memset(&g2, 0, sizeof(g2));
	for (r = 0; r < nruns; r++) {
		codes[r] = calloc(runs[r].n + 1, sizeof(uint32_t));
		for (i = 0; i < runs[r].n; i++) {
			double v = runs[r].v[i];

			codes[r][i] = isnan(v) ? STATS_NO_GAP :
			    stats_gap_code(ref, nref, v);
			if (codes[r][i] != runs[r].code[i])
				fail_msg("slot %zu of run %zu: value %.17g, "
				    "lazy code %u, eager code %u", i, r, v,
				    runs[r].code[i], codes[r][i]);
		}
		eager[r] = runs[r];
		eager[r].code = codes[r];
	}
	g1.count = calloc(2 * (nref + 1), sizeof(uint32_t));
	g1.cls = calloc(2 * (nref + 1), sizeof(double));
	g1.pos = calloc(nref + 1, sizeof(uint32_t));
	g1.cross = calloc(nref + 1, sizeof(uint32_t));
	g1.vals = calloc(window_slots(w) + 1, sizeof(double));
	g2.count = calloc(2 * (nref + 1), sizeof(uint32_t));
	g2.cls = calloc(2 * (nref + 1), sizeof(double));
	g2.pos = calloc(nref + 1, sizeof(uint32_t));
	g2.cross = calloc(nref + 1, sizeof(uint32_t));
	g2.vals = calloc(window_slots(w) + 1, sizeof(double));
	n1 = stats_gap_count(nref, runs, nruns, &g1);
	n2 = stats_gap_count(nref, eager, nruns, &g2);
	assert_int_equal(n1, n2);
	d1 = stats_gap_tests(ref, nref, edges, nedges, runs, nruns, &g1, &w1,
	    bins1);
	d2 = stats_gap_tests(ref, nref, edges, nedges, eager, nruns, &g2, &w2,
	    bins2);
	assert_memory_equal(&d1, &d2, sizeof(double));
	assert_memory_equal(&w1, &w2, sizeof(double));
	assert_memory_equal(bins1, bins2, (nedges + 1) * sizeof(double));
	for (r = 0; r < nruns; r++)
		free(codes[r]);
	free(g1.count); free(g1.cls); free(g1.pos); free(g1.cross); free(g1.vals);
	free(g2.count); free(g2.cls); free(g2.pos); free(g2.cross); free(g2.vals);
}

static void
test_lazy_codes_equal_eager(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 300; round++) {
		size_t size = 1 + (size_t)(next() % 40), nref = 1 + (size_t)(next() % 30);
		double age = next() % 3 == 0 ? 5 + (double)(next() % 20) : 0;
		double *ref = calloc(nref, sizeof(double));
		double edges[3];
		struct window *w;
		size_t i, pushes;
		double t = 0;

		rng = 0x9e3779b97f4a7c15ULL + (uint64_t)round;
		for (i = 0; i < nref; i++)
			ref[i] = next() % 2 ? (double)(next() % 5) :
			    uniform() * 10;
		qsort(ref, nref, sizeof(double), cmp_double);
		edges[0] = ref[nref / 4];
		edges[1] = ref[nref / 2];
		edges[2] = ref[3 * nref / 4];
		w = window_create(size, age);
		window_add_column(w, WINDOW_NUMERIC);
		/* Sometimes values arrive before the reference is known. */
		pushes = (size_t)(next() % 60);
		for (i = 0; i < pushes; i++) {
			window_push(w, t += uniform() * 3);
			window_set_num(w, 0, draw(ref, nref));
		}
		window_set_reference(w, 0, ref, nref);
		/* Evaluations at random moments: after no push, after a few,
		 * after more than the window holds. */
		for (i = 0; i < 12; i++) {
			size_t k, between = (size_t)(next() % (2 * size + 3));

			for (k = 0; k < between; k++) {
				window_push(w, t += next() % 7 == 0 ?
				    -uniform() * 10 : uniform() * 3);
				window_set_num(w, 0, draw(ref, nref));
				if (next() % 8 == 0)     /* set twice */
					window_set_num(w, 0, draw(ref, nref));
			}
			if (age > 0)
				window_expire(w, t);
			if (window_slots(w) > 0)
				check_against_eager(w, ref, nref, edges, 3);
		}
		window_destroy(w);
		free(ref);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lazy_codes_equal_eager),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
