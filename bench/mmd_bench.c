/*
 * mmd_bench.c - time driftd's MMD test (src/mmd.c) on samples from files.
 *
 *   mmd_bench X.f32 Y.f64 M N D PERMS RUNS
 *
 * X holds M rows of D floats (the reference sample, as driftd keeps it),
 * Y N rows of D doubles (the window's vectors).  Prints the statistic,
 * sigma^2, the p-value, the median wall time of RUNS complete tests and
 * the longest step after the first run (milliseconds: how long an event
 * loop would be held), and the CBLAS in use.  Built with -DOWN_LOOP, it links
 * its own cblas_dgemm (a plain loop) instead of OpenBLAS's, to show what
 * the library buys.  bench/mmd.sh builds and runs both.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "mmd.h"

#ifdef OWN_LOOP
/* C = alpha A op(B) + beta C, row-major, for the two shapes mmd.c asks
 * for (B transposed or not); alpha 1 and beta 0 as it uses them. */
void
cblas_dgemm(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE ta,
    const enum CBLAS_TRANSPOSE tb, const blasint m, const blasint n,
    const blasint k, const double alpha, const double *a, const blasint lda,
    const double *b, const blasint ldb, const double beta, double *c,
    const blasint ldc)
{
	blasint i, j, p;

	(void)order;
	(void)ta;
	(void)alpha;
	(void)beta;
	for (i = 0; i < m; i++) {
		double *ci = c + (size_t)i * ldc;

		if (tb == CblasTrans) {
			for (j = 0; j < n; j++) {
				double s = 0;

				for (p = 0; p < k; p++)
					s += a[(size_t)i * lda + p] *
					    b[(size_t)j * ldb + p];
				ci[j] = s;
			}
			continue;
		}
		memset(ci, 0, (size_t)n * sizeof(double));
		for (p = 0; p < k; p++) {
			double v = a[(size_t)i * lda + p];

			for (j = 0; j < n; j++)
				ci[j] += v * b[(size_t)p * ldb + j];
		}
	}
}
#endif

static void *
slurp(const char *path, size_t want)
{
	FILE *f = fopen(path, "rb");
	void *p = malloc(want + 1);

	if (f == NULL || p == NULL || fread(p, 1, want, f) != want) {
		fprintf(stderr, "mmd_bench: cannot read %zu bytes of %s\n", want,
		    path);
		exit(1);
	}
	fclose(f);
	return p;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	size_t m, n, d, runs, r;
	unsigned perms;
	float *x;
	double *y, *t, longest = 0;
	struct mmd *test = mmd_create();
	struct mmd_cache *cache = mmd_cache_create();

	if (argc != 8) {
		fprintf(stderr, "usage: mmd_bench X.f32 Y.f64 M N D PERMS RUNS\n");
		return 2;
	}
	m = strtoul(argv[3], NULL, 10);
	n = strtoul(argv[4], NULL, 10);
	d = strtoul(argv[5], NULL, 10);
	perms = (unsigned)strtoul(argv[6], NULL, 10);
	runs = strtoul(argv[7], NULL, 10);
	x = slurp(argv[1], m * d * sizeof(float));
	y = slurp(argv[2], n * d * sizeof(double));
	t = calloc(runs + 1, sizeof(double));
	for (r = 0; r < runs; r++) {
		double start = now_ms();

		/* As an evaluation does it: the bandwidth found once, and
		 * the reference's block of the kernel kept. */
		mmd_begin(test, x, m, y, n, d, r == 0 ? 0.0 / 0.0 :
		    mmd_sigma2(test), perms, 42, cache);
		for (;;) {
			double s0 = now_ms(), took;
			int done = mmd_step(test);

			took = now_ms() - s0;
			if (r > 0 && took > longest)
				longest = took;
			if (done)
				break;
		}
		t[r] = now_ms() - start;
	}
	qsort(t, runs, sizeof(double), cmp);
	printf("statistic %.17g sigma2 %.17g pvalue %.17g ms %.3f step %.3f "
	    "blas %s\n", mmd_statistic(test), mmd_sigma2(test),
	    mmd_pvalue(test), t[runs / 2], longest,
#ifdef OWN_LOOP
	    "own-loop"
#else
	    openblas_get_corename()
#endif
	    );
	mmd_destroy(test);
	mmd_cache_destroy(cache);
	free(x);
	free(y);
	free(t);
	return 0;
}
