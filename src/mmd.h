/*
 * mmd.h - the maximum mean discrepancy test between two samples of
 * vectors, in slices.
 *
 * The statistic is the unbiased MMD^2 of Gretton et al. (JMLR 2012, eq. 3)
 * with the Gaussian kernel k(a, b) = exp(-|a - b|^2 / (2 sigma^2)), sigma^2
 * half the median of |a - b|^2 over the pairs of the reference sample x.
 * The kernel matrix of the pooled sample z = (x, y) is computed once: its
 * upper triangle, the Gram matrix z z' by CBLAS (dgemm, in blocks of
 * rows), then |a - b|^2 = |a|^2 + |b|^2 - 2 a.b and the exponential,
 * mirrored below; x's block is kept from one test of the same reference
 * to the next.  The p-value is
 * that of a permutation test: each permutation relabels which m of the
 * m + n vectors are x, and its statistic is a quadratic form in that
 * labelling, so all of them are one more product, K A, of the kernel
 * matrix with the matrix A of the labellings (one column each), again in
 * blocks of rows, and nothing is copied per permutation.  Permutations
 * come from xoshiro256** seeded through splitmix64 with the caller's
 * seed, so the same samples and seed give the same p-value.
 *
 * Work is cut into steps of a block of rows each (a few million
 * multiply-adds), so that a caller on an event loop can stop between
 * them.
 */
#ifndef DRIFTD_MMD_H
#define DRIFTD_MMD_H

#include <stddef.h>
#include <stdint.h>

struct mmd;
struct mmd_cache;

struct mmd *mmd_create(void);
void mmd_destroy(struct mmd *t);

/*
 * What a test keeps of its reference sample for the next test of the
 * same one: x's block of the kernel matrix (m x m doubles) and its sums,
 * valid for the same x pointer, m, d and sigma^2.  Clear it when the
 * reference changes.
 */
struct mmd_cache *mmd_cache_create(void);
void mmd_cache_destroy(struct mmd_cache *c);
void mmd_cache_clear(struct mmd_cache *c);

/*
 * Start a test of x (m rows of d floats) against y (n rows of d doubles),
 * with `sigma2` (NaN: from x's median, see mmd_sigma2()), `perms`
 * permutations and `seed`; `cache` (or NULL) is used and filled.  The
 * samples are copied.
 */
void mmd_begin(struct mmd *t, const float *x, size_t m, const double *y,
    size_t n, size_t d, double sigma2, unsigned perms, uint64_t seed,
    struct mmd_cache *cache);

/* One step of the work; 1 once the test is complete. */
int mmd_step(struct mmd *t);

/* All of it at once. */
void mmd_run(struct mmd *t);

/* The results of the test completed. */
double mmd_statistic(const struct mmd *t);
double mmd_pvalue(const struct mmd *t);
/* The bandwidth used: given, or half the median of the squared distances
 * between x's vectors (when that is 0, half their mean; when all are 0,
 * 1). */
double mmd_sigma2(const struct mmd *t);

#endif
