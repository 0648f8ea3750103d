/*
 * mmd.c - the maximum mean discrepancy test, in slices.
 */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "mmd.h"
#include "stats.h"
#include "util.h"

/* Multiply-adds a step does at most, about: a millisecond or two.  An
 * exponential (with its mirrored store) counts as EXP_WORK of them. */
#define STEP_WORK (4u * 1024 * 1024)
/* A tile of the Gram matrix: twice that, as dgemm runs near its peak on
 * tiles of 128 x 128 and packs too much on smaller ones. */
#define GRAM_WORK (2 * STEP_WORK)
#define EXP_WORK 256
/* A number copied or converted (memory bound) counts as COPY_WORK. */
#define COPY_WORK 64

enum phase { P_COPY, P_GRAM, P_BANDWIDTH, P_KERNEL, P_LABELS, P_PERMS,
	P_DONE };

/* xoshiro256** (Blackman and Vigna), seeded by splitmix64. */
struct rng {
	uint64_t s[4];
};

struct mmd {
	enum phase phase;
	size_t m, n, N, d;
	unsigned perms;
	uint64_t seed;
	double *z;              /* N x d: x then y */
	double *sq;             /* |z_i|^2 */
	double *k;              /* N x N: squared distances, then kernel */
	double *rows;           /* row sums of K */
	double *a;              /* N x perms: 1 where a permutation puts x */
	double *ka;             /* a block of rows of K A */
	double *q, *ra;         /* per permutation: a'Ka and a'r */
	size_t cap_z, cap_k, cap_a, cap_ka;
	size_t next;            /* the next row of the phase */
	size_t region, tr, tc;  /* the Gram's next tile (see gram()) */
	double sigma2;
	double sxx, syy, sxy;   /* the observed sums of K off the diagonal */
	double statistic, pvalue;
	struct mmd_cache *cache;
	int cached;             /* x's block of K comes from the cache */
	const float *x;         /* the reference sample given */
	const double *y;        /* the window's, until copied */
	size_t a_n, a_m, a_p;   /* what `a` holds the labellings for */
	uint64_t a_seed;
	size_t lab_next;        /* the next labelling to make */
	size_t pnext;           /* the first permutation of the next tile */
	size_t *idx;            /* a shuffle */
	struct rng rng;
};

/* x's block of the kernel matrix, its row sums off the diagonal and
 * their total, for the x and sigma^2 they were made with. */
struct mmd_cache {
	const float *x;
	size_t m, d;
	double sigma2;
	double *kxx, *rows;
	double sxx;
	int valid;
};

struct mmd_cache *
mmd_cache_create(void)
{
	return xcalloc(1, sizeof(struct mmd_cache));
}

void
mmd_cache_destroy(struct mmd_cache *c)
{
	if (c == NULL)
		return;
	free(c->kxx);
	free(c->rows);
	free(c);
}

void
mmd_cache_clear(struct mmd_cache *c)
{
	if (c != NULL)
		c->valid = 0;
}

struct mmd *
mmd_create(void)
{
	return xcalloc(1, sizeof(struct mmd));
}

void
mmd_destroy(struct mmd *t)
{
	if (t == NULL)
		return;
	free(t->z);
	free(t->sq);
	free(t->k);
	free(t->rows);
	free(t->a);
	free(t->ka);
	free(t->q);
	free(t->ra);
	free(t->idx);
	free(t);
}

static void *
room(void *p, size_t *cap, size_t n, size_t size)
{
	if (n <= *cap)
		return p;
	free(p);
	*cap = n;
	return xreallocarray(NULL, n, size);
}

/* Rows of `work` multiply-adds each that make a step. */
static size_t
block(size_t work)
{
	size_t b = work > 0 ? STEP_WORK / work : 1;

	return b > 0 ? b : 1;
}

void
mmd_begin(struct mmd *t, const float *x, size_t m, const double *y,
    size_t n, size_t d, double sigma2, unsigned perms, uint64_t seed,
    struct mmd_cache *cache)
{
	size_t N = m + n;

	t->m = m;
	t->n = n;
	t->N = N;
	t->d = d;
	t->perms = perms;
	t->seed = seed;
	t->sigma2 = sigma2;
	t->z = room(t->z, &t->cap_z, N * d + 1, sizeof(double));
	t->sq = xreallocarray(t->sq, N + 1, sizeof(double));
	t->rows = xreallocarray(t->rows, N + 1, sizeof(double));
	t->k = room(t->k, &t->cap_k, N * N + 1, sizeof(double));
	t->sxx = t->syy = t->sxy = 0;
	memset(t->rows, 0, N * sizeof(double));
	t->statistic = t->pvalue = NAN;
	t->next = 0;
	t->lab_next = 0;
	t->phase = m >= 2 && n >= 2 ? P_COPY : P_DONE;
	t->cache = cache;
	t->x = x;
	t->y = y;
	t->cached = cache != NULL && cache->valid && cache->x == x &&
	    cache->m == m && cache->d == d && !isnan(sigma2) &&
	    cache->sigma2 == sigma2;
	if (t->cached) {
		memcpy(t->rows, cache->rows, m * sizeof(double));
		t->sxx = cache->sxx;
	}
}

/* Rows [r0, r1) of the pooled sample into z, with their squared norms,
 * and x's rows of the cached block into K. */
static void
copy(struct mmd *t, size_t r0, size_t r1)
{
	size_t d = t->d, m = t->m, i, j;

	for (i = r0; i < r1; i++) {
		double *zi = t->z + i * d, s = 0;

		if (i < m) {
			for (j = 0; j < d; j++)
				zi[j] = t->x[i * d + j];
			if (t->cached)
				memcpy(t->k + i * t->N, t->cache->kxx + i * m,
				    m * sizeof(double));
		} else {
			memcpy(zi, t->y + (i - m) * d, d * sizeof(double));
		}
		for (j = 0; j < d; j++)
			s += zi[j] * zi[j];
		t->sq[i] = s;
	}
}

/* The first column of row i computed: K is symmetric, so only its upper
 * triangle is, and not x's block when the cache has it. */
static size_t
first_col(const struct mmd *t, size_t i)
{
	return t->cached && i < t->m ? t->m : i + 1;
}

/*
 * The squared distances of the upper triangle, in square tiles of the
 * Gram matrix by dgemm (a tile packs two small panels, where a block of
 * whole rows would pack the whole sample again each time), then
 * |a|^2 + |b|^2 - 2 a.b (never below 0).  The triangle is three regions:
 * x with x (upper; not when cached), x with y, y with y (upper).
 */
struct region {
	size_t r0, r1, c0, c1;
	int upper;
};

static size_t
regions(const struct mmd *t, struct region *out)
{
	size_t k = 0, m = t->m, N = t->N;

	if (!t->cached)
		out[k++] = (struct region){ 0, m, 0, m, 1 };
	out[k++] = (struct region){ 0, m, m, N, 0 };
	out[k++] = (struct region){ m, N, m, N, 1 };
	return k;
}

/* The side of a tile: about GRAM_WORK multiply-adds. */
static size_t
tile(const struct mmd *t)
{
	/* Each entry also gets its distance: some operations more, which
	 * count where the dimension is small. */
	size_t s = 16, w = t->d > 16 ? t->d : 16;

	while (s < t->N && (2 * s) * (2 * s) * w <= GRAM_WORK)
		s *= 2;
	return s;
}

/* The next tile; 1 when the triangle is done. */
static int
gram(struct mmd *t)
{
	struct region reg[3];
	size_t nreg = regions(t, reg), T = tile(t), N = t->N, i, j;
	size_t i0, i1, j0, j1;
	const struct region *g;

	if (t->region >= nreg)
		return 1;
	g = &reg[t->region];
	i0 = g->r0 + t->tr * T;
	j0 = g->c0 + t->tc * T;
	if (i0 >= g->r1 || g->c0 >= g->c1) {
		t->region++;
		t->tr = t->tc = 0;
		return t->region >= nreg;
	}
	i1 = i0 + T < g->r1 ? i0 + T : g->r1;
	j1 = j0 + T < g->c1 ? j0 + T : g->c1;
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(i1 - i0),
	    (int)(j1 - j0), (int)t->d, 1.0, t->z + i0 * t->d, (int)t->d,
	    t->z + j0 * t->d, (int)t->d, 0.0, t->k + i0 * N + j0, (int)N);
	for (i = i0; i < i1; i++) {
		double *row = t->k + i * N;

		for (j = g->upper && j0 <= i ? i + 1 : j0; j < j1; j++) {
			double v = t->sq[i] + t->sq[j] - 2 * row[j];

			row[j] = v > 0 ? v : 0;
		}
	}
	/* Along the tile row, then the next (from its diagonal in an upper
	 * region). */
	if (j1 < g->c1) {
		t->tc++;
	} else {
		t->tr++;
		t->tc = g->upper ? t->tr : 0;
	}
	return 0;
}

/* The k-th smallest of v[0..n) (reorders v): Wirth's selection. */
static double
select_kth(double *v, size_t n, size_t k)
{
	ptrdiff_t l = 0, r = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;

	while (l < r) {
		double x = v[kk], tmp;
		ptrdiff_t i = l, j = r;

		do {
			while (v[i] < x)
				i++;
			while (x < v[j])
				j--;
			if (i <= j) {
				tmp = v[i];
				v[i] = v[j];
				v[j] = tmp;
				i++;
				j--;
			}
		} while (i <= j);
		if (j < kk)
			l = i;
		if (kk < i)
			r = j;
	}
	return v[kk];
}

/* sigma^2: half the median of the squared distances between x's
 * vectors, as numpy.median takes it (the mean of the middle two of an
 * even count). */
static void
bandwidth(struct mmd *t)
{
	size_t m = t->m, N = t->N, np = m * (m - 1) / 2, i, j, c = 0;
	double *v = xreallocarray(NULL, np, sizeof(double)), med, sum = 0;

	for (i = 0; i < m; i++)
		for (j = i + 1; j < m; j++) {
			v[c++] = t->k[i * N + j];
			sum += t->k[i * N + j];
		}
	med = select_kth(v, np, np / 2);
	if (np % 2 == 0) {
		/* The largest of the lower half, which selection left
		 * below the middle. */
		double lower = v[0];

		for (i = 1; i < np / 2; i++)
			if (v[i] > lower)
				lower = v[i];
		med = (med + lower) / 2;
	}
	free(v);
	t->sigma2 = med > 0 ? med / 2 : sum > 0 ? sum / (double)np / 2 : 1;
}

/* Make room in the cache for x's block, to be filled row by row. */
static void
keep_begin(struct mmd *t)
{
	struct mmd_cache *c = t->cache;

	if (c == NULL || t->cached)
		return;
	c->valid = 0;
	c->kxx = xreallocarray(c->kxx, t->m * t->m + 1, sizeof(double));
	c->rows = xreallocarray(c->rows, t->m + 1, sizeof(double));
	c->sxx = 0;
}

/* Row i < m of x's block is complete (its part left of the diagonal was
 * mirrored from the rows before): into the cache. */
static void
keep_row(struct mmd *t, size_t i)
{
	struct mmd_cache *c = t->cache;
	size_t m = t->m, j;
	double s = 0;

	memcpy(c->kxx + i * m, t->k + i * t->N, m * sizeof(double));
	for (j = 0; j < m; j++)
		s += c->kxx[i * m + j];
	c->rows[i] = s - 1;          /* without the diagonal */
	c->sxx += s - 1;
	if (i + 1 == m) {
		c->x = t->x;
		c->m = m;
		c->d = t->d;
		c->sigma2 = t->sigma2;
		c->valid = 1;
	}
}

/* Rows [r0, r1) of the kernel from the upper triangle, mirrored below
 * it; the row sums and the observed sums with them. */
static void
kernel(struct mmd *t, size_t r0, size_t r1)
{
	size_t N = t->N, m = t->m, i, j;
	double f = -1 / (2 * t->sigma2);

	for (i = r0; i < r1; i++) {
		double *row = t->k + i * N, sx = 0, sy = 0;
		size_t j0 = first_col(t, i);

		row[i] = 1;
		for (j = j0; j < N; j++)
			row[j] *= f;
		if (j0 < N)
			stats_exp_block(row + j0, N - j0);
		for (j = j0; j < N; j++) {
			double v = row[j];

			t->k[j * N + i] = v;
			t->rows[j] += v;
			if (j < m)
				sx += v;
			else
				sy += v;
		}
		t->rows[i] += sx + sy + 1;
		/* A pair off the diagonal counts twice within x or within
		 * y, once between them. */
		if (i < m) {
			t->sxx += 2 * sx;
			t->sxy += sy;
			if (t->cache != NULL && !t->cached)
				keep_row(t, i);
		} else {
			t->syy += 2 * sy;
		}
	}
}


static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(struct rng *r)
{
	uint64_t result = rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;

	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = rotl(r->s[3], 45);
	return result;
}

/* Uniform in [0, bound), without bias (rejection). */
static uint64_t
rng_below(struct rng *r, uint64_t bound)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % bound, v;

	do
		v = rng_next(r);
	while (v >= limit);
	return v % bound;
}

/* The labellings, a row each (A is perms x N): for each permutation, a
 * uniform shuffle of the N indices (Fisher-Yates) whose first m are x.
 * They depend on N, m, the permutations and the seed only: the last ones
 * are used again.  Made label_block() permutations a step; 1 when all
 * are. */
static size_t
label_block(const struct mmd *t)
{
	return block(t->N * 16);
}

static int
labels(struct mmd *t)
{
	size_t N = t->N, P = t->perms, p, i, p1;

	if (t->lab_next == 0) {
		uint64_t s = t->seed;

		t->q = xreallocarray(t->q, P + 1, sizeof(double));
		t->ra = xreallocarray(t->ra, P + 1, sizeof(double));
		memset(t->q, 0, P * sizeof(double));
		memset(t->ra, 0, P * sizeof(double));
		if (t->a_n == N && t->a_m == t->m && t->a_p == P &&
		    t->a_seed == t->seed)
			return 1;
		t->a_n = 0;              /* until all are made */
		t->a = room(t->a, &t->cap_a, N * P + 1, sizeof(double));
		t->idx = xreallocarray(t->idx, N + 1, sizeof(size_t));
		for (i = 0; i < 4; i++)
			t->rng.s[i] = splitmix64(&s);
	}
	p1 = t->lab_next + label_block(t);
	if (p1 > P)
		p1 = P;
	for (p = t->lab_next; p < p1; p++) {
		double *ap = t->a + p * N;

		for (i = 0; i < N; i++)
			t->idx[i] = i;
		for (i = N - 1; i > 0; i--) {
			size_t j = (size_t)rng_below(&t->rng, i + 1);
			size_t tmp = t->idx[i];

			t->idx[i] = t->idx[j];
			t->idx[j] = tmp;
		}
		memset(ap, 0, N * sizeof(double));
		for (i = 0; i < t->m; i++)
			ap[t->idx[i]] = 1;
	}
	t->lab_next = p1;
	if (p1 < P)
		return 0;
	t->a_n = N;
	t->a_m = t->m;
	t->a_p = P;
	t->a_seed = t->seed;
	return 1;
}

/* Permutations a tile of K A covers. */
#define PERM_BLOCK 64

/* The tile of K A of rows [r0, r1) and permutations [p0, p1), folded
 * into a'Ka and a'r of those permutations. */
static void
perms(struct mmd *t, size_t r0, size_t r1, size_t p0, size_t p1)
{
	size_t N = t->N, np = p1 - p0, i, p;

	t->ka = room(t->ka, &t->cap_ka, (r1 - r0) * np + 1, sizeof(double));
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0),
	    (int)np, (int)N, 1.0, t->k + r0 * N, (int)N, t->a + p0 * N,
	    (int)N, 0.0, t->ka, (int)np);
	for (p = p0; p < p1; p++) {
		const double *ap = t->a + p * N;
		double q = 0, ra = 0;

		for (i = r0; i < r1; i++) {
			q += ap[i] * t->ka[(i - r0) * np + (p - p0)];
			ra += ap[i] * t->rows[i];
		}
		t->q[p] += q;
		t->ra[p] += ra;
	}
}

/* MMD^2 from the sums of K within x (off the diagonal), within y, and
 * between. */
static double
unbiased(double sxx, double syy, double sxy, double m, double n)
{
	return sxx / (m * (m - 1)) + syy / (n * (n - 1)) - 2 * sxy / (m * n);
}

static void
finish(struct mmd *t)
{
	double m = (double)t->m, n = (double)t->n, total = 0;
	size_t i, p, beyond = 0;

	for (i = 0; i < t->N; i++)
		total += t->rows[i];
	t->statistic = unbiased(t->sxx, t->syy, t->sxy, m, n);
	for (p = 0; p < t->perms; p++) {
		/* With a the labelling, r the row sums and T their sum:
		 * within x a'Ka - m, between a'r - a'Ka, within y
		 * T - 2 a'r + a'Ka - n. */
		double q = t->q[p], ra = t->ra[p];
		double s = unbiased(q - m, total - 2 * ra + q - n, ra - q, m, n);

		if (s >= t->statistic)
			beyond++;
	}
	t->pvalue = (1.0 + (double)beyond) / (1.0 + (double)t->perms);
}

int
mmd_step(struct mmd *t)
{
	size_t r1;

	switch (t->phase) {
	case P_COPY:
		r1 = t->next + block(COPY_WORK * (t->d + t->m));
		if (r1 > t->N)
			r1 = t->N;
		copy(t, t->next, r1);
		t->next = r1;
		if (r1 == t->N) {
			t->next = 0;
			t->region = t->tr = t->tc = 0;
			t->phase = P_GRAM;
		}
		return 0;
	case P_GRAM:
		if (gram(t)) {
			t->next = 0;
			t->phase = isnan(t->sigma2) ? P_BANDWIDTH : P_KERNEL;
		}
		return 0;
	case P_BANDWIDTH:
		bandwidth(t);
		t->phase = P_KERNEL;
		return 0;
	case P_KERNEL:
		if (t->next == 0)
			keep_begin(t);
		r1 = t->next + block(t->N * EXP_WORK);
		if (r1 > t->N)
			r1 = t->N;
		kernel(t, t->next, r1);
		t->next = r1;
		if (r1 == t->N) {
			t->next = 0;
			t->phase = t->perms > 0 ? P_LABELS : P_DONE;
			if (t->perms == 0)
				finish(t);
		}
		return 0;
	case P_LABELS:
		if (labels(t)) {
			t->phase = P_PERMS;
			t->next = t->pnext = 0;
		}
		return 0;
	case P_PERMS: {
		size_t np = t->perms < PERM_BLOCK ? t->perms : PERM_BLOCK;
		size_t p1 = t->pnext + np;

		if (p1 > t->perms)
			p1 = t->perms;
		r1 = t->next + block(t->N * np);
		if (r1 > t->N)
			r1 = t->N;
		perms(t, t->next, r1, t->pnext, p1);
		/* Across the permutations for a block of rows, then the
		 * next rows. */
		if (p1 < t->perms) {
			t->pnext = p1;
		} else {
			t->pnext = 0;
			t->next = r1;
		}
		if (t->next == t->N) {
			finish(t);
			t->phase = P_DONE;
		}
		return t->phase == P_DONE;
	}
	case P_DONE:
		break;
	}
	return 1;
}

void
mmd_run(struct mmd *t)
{
	while (!mmd_step(t))
		;
}

double
mmd_statistic(const struct mmd *t)
{
	return t->statistic;
}

double
mmd_pvalue(const struct mmd *t)
{
	return t->pvalue;
}

double
mmd_sigma2(const struct mmd *t)
{
	return t->sigma2;
}
