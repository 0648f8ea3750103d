/*
 * stats.c - the statistics behind drift detection.
 *
 * Sources:
 *   NumPy 1.24 pairwise summation (numpy/core/src/umath/loops_utils.h)
 *     and its reduction in buffers of 8192 elements; numpy.quantile's
 *     linear method and its lerp.
 *   SciPy 1.10 ks_2samp, kstwo, wasserstein_distance, jensenshannon,
 *     chi2.sf (Cephes igamc).
 *   R. Simard, P. L'Ecuyer, "Computing the Two-Sided Kolmogorov-Smirnov
 *     Distribution", Journal of Statistical Software 39(11), 2011: which
 *     method to use where.
 *   G. Marsaglia, W. W. Tsang, J. Wang, "Evaluating Kolmogorov's
 *     Distribution", Journal of Statistical Software 8(18), 2003: the
 *     Durbin matrix, with scaling.
 *   Z. W. Birnbaum, F. H. Tingey, "One-Sided Confidence Contours for
 *     Probability Distribution Functions", Ann. Math. Statist. 22, 1951:
 *     the exact one-sided distribution.
 *   W. Pelz, I. J. Good, "Approximating the Lower Tail-Areas of the
 *     Kolmogorov-Smirnov One-Sample Statistic", JRSS B 38(2), 1976.
 *   Y. Benjamini, Y. Hochberg, "Controlling the False Discovery Rate",
 *     JRSS B 57(1), 1995.
 *   W. H. Press et al., Numerical Recipes, 3rd ed., 6.2: the incomplete
 *     gamma function by series and continued fraction (modified Lentz).
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "stats_internal.h"
#include "util.h"

/* numpy reduces in buffers of this many elements. */
#define NP_BUFSIZE 8192
/* numpy's pairwise summation block. */
#define NP_PW_BLOCKSIZE 128

/* ------------------------------------------------------------- sums */

/*
 * The pairwise sum of f(x[i]), in numpy's order.  Two versions: the plain
 * values, and squared deviations from a mean (for the variance).
 */
#define DEFINE_PAIRWISE(name, F)                                             \
static double                                                                \
name(const double *a, size_t n, double m)                                    \
{                                                                            \
	(void)m;                                                             \
	if (n < 8) {                                                         \
		double res = 0.;                                             \
		size_t i;                                                    \
		for (i = 0; i < n; i++)                                      \
			res += F(a[i]);                                      \
		return res;                                                  \
	} else if (n <= NP_PW_BLOCKSIZE) {                                   \
		/* Eight accumulators, in registers. */                      \
		double r0 = F(a[0]), r1 = F(a[1]), r2 = F(a[2]), r3 = F(a[3]); \
		double r4 = F(a[4]), r5 = F(a[5]), r6 = F(a[6]), r7 = F(a[7]); \
		double res;                                                  \
		size_t i;                                                    \
		for (i = 8; i < n - (n % 8); i += 8) {                       \
			r0 += F(a[i + 0]);                                   \
			r1 += F(a[i + 1]);                                   \
			r2 += F(a[i + 2]);                                   \
			r3 += F(a[i + 3]);                                   \
			r4 += F(a[i + 4]);                                   \
			r5 += F(a[i + 5]);                                   \
			r6 += F(a[i + 6]);                                   \
			r7 += F(a[i + 7]);                                   \
		}                                                            \
		res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));     \
		for (; i < n; i++)                                           \
			res += F(a[i]);                                      \
		return res;                                                  \
	} else {                                                             \
		size_t n2 = n / 2;                                           \
		n2 -= n2 % 8;                                                \
		return name(a, n2, m) + name(a + n2, n - n2, m);             \
	}                                                                    \
}

#define PLAIN(v) (v)
#define SQDEV(v) (((v) - m) * ((v) - m))
DEFINE_PAIRWISE(pairwise_plain, PLAIN)
DEFINE_PAIRWISE(pairwise_sqdev, SQDEV)

double
stats_sum(const double *x, size_t n)
{
	double res = 0;
	size_t i;

	for (i = 0; i < n; i += NP_BUFSIZE)
		res += pairwise_plain(x + i, n - i < NP_BUFSIZE ? n - i : NP_BUFSIZE, 0);
	return res;
}

void
stats_mean_std(const double *x, size_t n, double *mean, double *std)
{
	double m = stats_sum(x, n) / (double)n, ss = 0;
	size_t i;

	/* numpy.std: sum((x - mean)**2) / n, the square taken per element. */
	for (i = 0; i < n; i += NP_BUFSIZE)
		ss += pairwise_sqdev(x + i, n - i < NP_BUFSIZE ? n - i : NP_BUFSIZE, m);
	*mean = m;
	*std = sqrt(ss / (double)n);
}

/* --------------------------------------------------------- quantiles */

double
stats_quantile(const double *x, size_t n, double q)
{
	double vi = ((double)n - 1) * q;
	double prev = floor(vi), gamma = vi - prev, a, b, d;
	size_t lo, hi;

	if (vi >= (double)n - 1) {
		lo = hi = n - 1;
	} else if (vi < 0) {
		lo = hi = 0;
	} else {
		lo = (size_t)prev;
		hi = lo + 1;
	}
	a = x[lo];
	b = x[hi];
	/* numpy's _lerp: from the nearer end, for monotonicity. */
	d = b - a;
	if (isinf(d) && isfinite(a) && isfinite(b))
		/* Where numpy's difference passes the largest double (and its
		 * quantile is +-inf or NaN): a point between a and b. */
		return a * (1 - gamma) + b * gamma;
	if (gamma >= 0.5)
		return b - d * (1 - gamma);
	return a + d * gamma;
}

size_t
stats_quantile_edges(const double *sorted, size_t n, unsigned bins,
    double *edges)
{
	size_t ne = 0;
	unsigned k;

	for (k = 1; k < bins; k++) {
		double e = stats_quantile(sorted, n, (double)k / (double)bins);

		if (ne == 0 || e != edges[ne - 1])
			edges[ne++] = e;
	}
	return ne;
}

size_t
stats_upper_bound(const double *a, size_t n, double v)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ------------------------------------------------- binned distances */

double
stats_psi(const double *w, const double *r, size_t k)
{
	double stack[64], *terms = k <= 64 ? stack : xreallocarray(NULL, k, sizeof(double));
	double psi;
	size_t i;

	for (i = 0; i < k; i++) {
		double a = w[i] == 0 ? STATS_EPS_PROPORTION : w[i];
		double b = r[i] == 0 ? STATS_EPS_PROPORTION : r[i];

		terms[i] = (a - b) * log(a / b);
	}
	psi = stats_sum(terms, k);
	if (terms != stack)
		free(terms);
	return psi;
}

double
stats_kl(const double *w, const double *r, size_t k)
{
	double stack[2 * 64], *t = k <= 64 ? stack :
	    xreallocarray(NULL, 2 * k, sizeof(double));
	double *wf = t, *rf = t + k, sw, sr, kl;
	size_t i;

	/* Zeros floored as for PSI, then both renormalised, as
	 * scipy.stats.entropy does. */
	for (i = 0; i < k; i++) {
		wf[i] = w[i] == 0 ? STATS_EPS_PROPORTION : w[i];
		rf[i] = r[i] == 0 ? STATS_EPS_PROPORTION : r[i];
	}
	sw = stats_sum(wf, k);
	sr = stats_sum(rf, k);
	for (i = 0; i < k; i++) {
		double a = wf[i] / sw, b = rf[i] / sr;

		wf[i] = a * log(a / b);
	}
	kl = stats_sum(wf, k);
	if (t != stack)
		free(t);
	return kl;
}

/* scipy.special.rel_entr */
static double
rel_entr(double x, double y)
{
	if (x > 0 && y > 0)
		return x * log(x / y);
	if (x == 0 && y >= 0)
		return 0;
	return INFINITY;
}

double
stats_js(const double *p, const double *q, size_t k)
{
	double stack[4 * 64], *buf = k <= 64 ? stack :
	    xreallocarray(NULL, 4 * k, sizeof(double));
	double *pn = buf, *qn = buf + k, *left = buf + 2 * k, *right = buf + 3 * k;
	double sp = stats_sum(p, k), sq = stats_sum(q, k), js;
	size_t i;

	for (i = 0; i < k; i++) {
		double m;

		pn[i] = p[i] / sp;
		qn[i] = q[i] / sq;
		m = (pn[i] + qn[i]) / 2.0;
		left[i] = rel_entr(pn[i], m);
		right[i] = rel_entr(qn[i], m);
	}
	js = stats_sum(left, k) + stats_sum(right, k);
	if (buf != stack)
		free(buf);
	return sqrt(js / 2.0);
}

/* ----------------------------------------------------- Kolmogorov-Smirnov */

double
stats_ks_d(const double *a, size_t na, const double *b, size_t nb)
{
	/*
	 * Walk the merged samples one value at a time.  The empirical CDFs
	 * are compared after the last of a run of equal values (as
	 * searchsorted(side=right) counts), and i/na - j/nb is compared
	 * exactly as the integer i nb - j na, so the walk divides nothing;
	 * the extremes are then computed as SciPy computes every point,
	 * quotient minus quotient.  The +inf sentinels end both samples.
	 */
	struct ks_extremes ex = KS_EXTREMES_INIT;
	size_t i = 0, j = 0, p, total = na + nb;
	double x;

	x = a[0] <= b[0] ? a[i++] : b[j++];
	for (p = 1; p <= total; p++) {
		double next = a[i] <= b[j] ? a[i] : b[j];

		if (next != x)
			ks_extremes_add(&ex, (int64_t)i, (int64_t)j, (int64_t)na,
			    (int64_t)nb);
		if (p == total)
			break;
		if (a[i] <= b[j])
			i++;
		else
			j++;
		x = next;
	}
	return ks_extremes_d(&ex, (int64_t)na, (int64_t)nb);
}

static double
clip01(double p)
{
	return p < 0 ? 0 : p > 1 ? 1 : p;
}

double
stats_ks_pvalue(double d, size_t n1, size_t n2)
{
	double m = (double)(n1 > n2 ? n1 : n2), n = (double)(n1 > n2 ? n2 : n1);
	double en = m * n / (m + n);
	double rn = nearbyint(en);       /* half to even, as numpy.round */

	if (rn < 1)
		return NAN;
	return clip01(stats_kstwo_sf((long)rn, d));
}

/* log(n! / n^n) by Stirling's series, free of cancellation. */
static double
log_nfact_over_npown(double n)
{
	/* B_2j / (2j (2j - 1)) for j = 8 .. 1 */
	static const double c[] = {
		-2.955065359477124183e-2, 6.4102564102564102564e-3,
		-1.9175269175269175269e-3, 8.4175084175084175084e-4,
		-5.952380952380952381e-4, 7.9365079365079365079e-4,
		-2.7777777777777777778e-3, 8.3333333333333333333e-2,
	};
	double rn = 1.0 / n, x = rn / n, poly = 0;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		poly = poly * x + c[i];
	return log(n) / 2 - n + log(2 * M_PI) / 2 + rn * poly;
}

/*
 * Logarithms and exponentials of a block of the Smirnov sum's terms.
 * On an x86-64 CPU with AVX2, and where configure found glibc's libmvec,
 * four at a time by libmvec's AVX2 entry points of the x86-64 vector
 * function ABI (within 4 ulp, which moves a term by less than 1e-11 of
 * itself at n = 10^4; test_smirnov holds the sum to 1e-10); elsewhere by
 * libm one at a time.  (libmvec's SSE entry points measured no faster
 * than libm.)
 */
enum { BLOCK_LOG, BLOCK_EXP };

/* STATS_SCALAR_MATH: the libm path only (a unit test builds it so). */
#if defined(HAVE_LIBMVEC) && !defined(STATS_SCALAR_MATH) && \
    defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* Declared with the target of their callers, as their 256-bit arguments
 * need. */
__attribute__((target("avx2"))) __m256d _ZGVdN4v_log(__m256d x);
__attribute__((target("avx2"))) __m256d _ZGVdN4v_exp(__m256d x);
#define VECTOR_MATH 1

/* The whole groups of four of the block; returns how many were done. */
static __attribute__((target("avx2"))) size_t
block4(double *x, size_t n, int fn)
{
	size_t i;

	for (i = 0; i + 4 <= n; i += 4) {
		__m256d v = _mm256_loadu_pd(x + i);

		_mm256_storeu_pd(x + i, fn == BLOCK_EXP ? _ZGVdN4v_exp(v) :
		    _ZGVdN4v_log(v));
	}
	return i;
}

#endif

/* Whether math_block() may take four at a time on this CPU. */
static int
vector_math(void)
{
#ifdef VECTOR_MATH
	__builtin_cpu_init();    /* harmless when already done */
	return __builtin_cpu_supports("avx2") != 0;
#else
	return 0;
#endif
}

/* x[i] = log(x[i]) or exp(x[i]); `vec` from vector_math(). */
static void
math_block(double *x, size_t n, int fn, int vec)
{
	size_t i = 0;

#ifdef VECTOR_MATH
	if (vec)
		i = block4(x, n, fn);
#else
	(void)vec;
#endif
	for (; i < n; i++)
		x[i] = fn == BLOCK_EXP ? exp(x[i]) : log(x[i]);
}

void
stats_exp_block(double *x, size_t n)
{
	static int vec = -1;

	if (vec < 0)
		vec = vector_math();
	math_block(x, n, BLOCK_EXP, vec);
}

#define SMIRNOV_BLOCK 128

double
stats_smirnov(long n, double d)
{
	double la[SMIRNOV_BLOCK], lb[SMIRNOV_BLOCK], lr[SMIRNOV_BLOCK];
	double nn, p = 0, logc = 0;
	long v0, last;
	int vec = vector_math();

	if (!(d >= 0 && d <= 1))
		return NAN;
	if (d == 0)
		return 1;
	if (d == 1)
		return 0;
	nn = (double)n;
	last = (long)floor(nn * (1 - d));
	/*
	 * Pr(D+ >= d) = d sum_{v=0}^{floor(n(1-d))} C(n, v) (d + v/n)^(v-1)
	 * (1 - d - v/n)^(n-v).  Every term is positive, so the sum is
	 * well-conditioned; each term is evaluated in logarithms, with
	 * log C(n, v) carried along by its recurrence, a block of terms at
	 * a time: first every logarithm the block needs, then the terms.
	 */
	for (v0 = 0; v0 <= last; v0 += SMIRNOV_BLOCK) {
		size_t m = (size_t)(last - v0 + 1), i;
		int zero = 0;            /* the block's last term is 0 */

		if (m > SMIRNOV_BLOCK)
			m = SMIRNOV_BLOCK;
		for (i = 0; i < m; i++) {
			double v = (double)(v0 + (long)i), evn = d + v / nn;

			la[i] = evn;
			lb[i] = 1 - evn;
			lr[i] = (nn - v) / (v + 1);
		}
		/* Only the last term can have 1 - evn <= 0 (0, or below by
		 * rounding; with v = n when d is below 1/n by rounding): that
		 * term is 0. */
		if (!(lb[m - 1] > 0)) {
			lb[m - 1] = 1;
			zero = 1;
		}
		math_block(la, m, BLOCK_LOG, vec);
		math_block(lb, m, BLOCK_LOG, vec);
		math_block(lr, m, BLOCK_LOG, vec);
		for (i = 0; i < m; i++) {
			double v = (double)(v0 + (long)i);

			la[i] = logc + (v - 1) * la[i] + (nn - v) * lb[i];
			logc += lr[i];
		}
		if (zero)
			la[m - 1] = -INFINITY;
		math_block(la, m, BLOCK_EXP, vec);
		for (i = 0; i < m; i++)
			p += la[i];
	}
	return clip01(p * d);
}

/* Scale a down by a power of two when its largest element passes 2^200;
 * returns the exponent taken out. */
static long
rescale(double *a, long n)
{
	double mx = 0;
	long i, e = 0;

	for (i = 0; i < n; i++)
		if (fabs(a[i]) > mx)
			mx = fabs(a[i]);
	while (mx > 0x1p200) {
		mx = ldexp(mx, -200);
		e += 200;
	}
	if (e > 0)
		for (i = 0; i < n; i++)
			a[i] = ldexp(a[i], -(int)e);
	return e;
}

/*
 * Pr(D_n < d) by Durbin's matrix (Marsaglia, Tsang & Wang): with
 * d = (k - h) / n, the k-th diagonal element of H^n, times n!/n^n.  Powers
 * are taken by squaring, with the scale kept as a separate power of two.
 */
static double
kolmogn_durbin(long n, double d)
{
	double nd = (double)n * d, h, *H, *P, *T, *w, *v, fac, p;
	long k, m, i, j, l, nn;
	long hexp = 0, pexp = 0;
	int e;

	if (d >= 1)
		return 1;
	if (nd <= 0.5)
		return 0;
	k = (long)ceil(nd);
	h = (double)k - nd;
	m = 2 * k - 1;
	H = xcalloc((size_t)(m * m), sizeof(double));
	P = xcalloc((size_t)(m * m), sizeof(double));
	T = xcalloc((size_t)(m * m), sizeof(double));
	w = xcalloc((size_t)m, sizeof(double));
	v = xcalloc((size_t)m, sizeof(double));

	/* w[j] = 1/j!; v[j] = (1 - h^(j+1)) / (j+1)! */
	fac = 1.0;
	for (j = 0; j < m; j++) {
		w[j] = fac;
		fac /= (double)(j + 1);
		v[j] = (1.0 - pow(h, (double)(j + 1))) * fac;
	}
	{
		double t = 2 * h - 1.0;

		t = (t > 0 ? pow(t, (double)m) : 0) - 2 * pow(h, (double)m);
		v[m - 1] = (1.0 + t) * fac;
	}
	for (i = 1; i < m; i++)
		for (j = i - 1; j < m; j++)
			H[j * m + i] = w[j - i + 1];
	for (j = 0; j < m; j++)
		H[j * m] = v[j];
	for (i = 0; i < m; i++)
		H[(m - 1) * m + i] = v[m - 1 - i];

	for (i = 0; i < m; i++)
		P[i * m + i] = 1;
	nn = n;
	while (nn > 0) {
		if (nn % 2) {
			for (i = 0; i < m; i++)
				for (j = 0; j < m; j++) {
					double s = 0;

					for (l = 0; l < m; l++)
						s += P[i * m + l] * H[l * m + j];
					T[i * m + j] = s;
				}
			memcpy(P, T, (size_t)(m * m) * sizeof(double));
			pexp += hexp + rescale(P, m * m);
		}
		nn /= 2;
		if (nn == 0)
			break;
		for (i = 0; i < m; i++)
			for (j = 0; j < m; j++) {
				double s = 0;

				for (l = 0; l < m; l++)
					s += H[i * m + l] * H[l * m + j];
				T[i * m + j] = s;
			}
		memcpy(H, T, (size_t)(m * m) * sizeof(double));
		hexp *= 2;
		/* Keep both matrices' largest elements below 2^200, so that
		 * a product of two (m terms of at most 2^400) cannot
		 * overflow; the scale goes into the exponents. */
		hexp += rescale(H, m * m);
		pexp += rescale(P, m * m);
	}
	p = P[(k - 1) * m + (k - 1)];
	/* Multiply by n!/n^n, rescaling to stay clear of underflow. */
	for (i = 1; i <= n; i++) {
		p = (double)i * p / (double)n;
		if (p != 0 && fabs(p) < 1e-140) {
			p = ldexp(p, 256);
			pexp -= 256;
		}
	}
	p = frexp(p, &e);
	p = ldexp(p, e + (int)(pexp > 4000 ? 4000 : pexp < -4000 ? -4000 : pexp));
	free(H);
	free(P);
	free(T);
	free(w);
	free(v);
	return clip01(p);
}

/*
 * Pelz-Good's approximation of Pr(D_n <= x): Li-Chien and Korolyuk's
 * expansion K0 + K1/sqrt(n) + K2/n + K3/n^1.5 in z = x sqrt(n), with each
 * K rewritten through Jacobi's theta transformation so that it converges
 * fast for small z.
 */
static double
kolmogn_pelz_good(long n, double x)
{
	const double pi2 = M_PI * M_PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
	const double sqrt2pi = sqrt(2 * M_PI);
	double z, z2, z3, z4, z6, qlog, q, K[4] = { 0, 0, 0, 0 };
	double k1a, k1b, k2a, k2b, k2c, k3a, k3b, k3c, k3d, k2extra = 0, k3extra = 0;
	double nn = (double)n, sum;
	long maxk, kk;

	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	z = sqrt(nn) * x;
	z2 = z * z;
	z3 = z2 * z;
	z4 = z2 * z2;
	z6 = z4 * z2;
	qlog = -pi2 / 8 / z2;
	if (qlog < -708)
		return 0;
	q = exp(qlog);

	k1a = -z2;
	k1b = pi2 / 4;
	k2a = 6 * z6 + 2 * z4;
	k2b = (2 * z4 - 5 * z2) * pi2 / 4;
	k2c = pi4 * (1 - 2 * z2) / 16;
	k3d = pi6 * (5 - 30 * z2) / 64;
	k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
	k3b = pi2 * (135 * z4 - 96 * z6) / 4;
	k3a = -30 * z6 - 90 * z6 * z2;

	/* Sums over odd m = 2k - 1 of c_j(m) q^(m^2), by Horner's scheme in
	 * q^(8k) from the largest k down. */
	maxk = (long)ceil(16 * z / M_PI);
	for (kk = maxk; kk >= 1; kk--) {
		double m = 2.0 * (double)kk - 1, m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
		double qp = pow(q, 8.0 * (double)kk);

		K[0] = K[0] * qp + 1.0;
		K[1] = K[1] * qp + (k1a + k1b * m2);
		K[2] = K[2] * qp + (k2a + k2b * m2 + k2c * m4);
		K[3] = K[3] * qp + (k3a + k3b * m2 + k3c * m4 + k3d * m6);
	}
	for (kk = 0; kk < 4; kk++)
		K[kk] *= q * sqrt2pi;
	K[0] /= z;
	K[1] /= 6 * z4;
	K[2] /= 72 * z6 * z;
	K[3] /= 6480 * z6 * z4;

	/* The terms over all integers k in K2 and K3. */
	q = exp(-pi2 / 2 / z2);
	for (kk = maxk; kk >= 1; kk--) {
		double k2 = (double)kk * (double)kk, qk = pow(q, k2);
		double a = sqrt(3.0) * z + M_PI * (double)kk;
		double b = sqrt(3.0) * z - M_PI * (double)kk;

		k2extra += k2 * qk;
		k3extra += a * b * k2 * qk;
	}
	K[2] += k2extra * pi2 * sqrt2pi / (-36 * z3);
	K[3] += k3extra * pi2 * sqrt2pi / (216 * z6);

	K[1] /= sqrt(nn);
	K[2] /= nn;
	K[3] /= nn * sqrt(nn);
	sum = K[0] + K[1] + K[2] + K[3];
	return sum;
}

double
stats_kstwo_sf(long n, double x)
{
	double nn = (double)n, t, nx2, cdf;

	if (n <= 0 || isnan(x))
		return NAN;
	if (x >= 1)
		return 0;
	if (x <= 0)
		return 1;
	t = nn * x;
	if (t <= 1.0) {
		/* Ruben and Gambino: Pr(D_n <= x) = n!/n^n (2t - 1)^n. */
		double prob = 1;
		long i;

		if (t <= 0.5)
			return 1;
		if (n <= 140) {
			for (i = 1; i <= n; i++)
				prob *= (double)i * (1.0 / nn) * (2 * t - 1);
		} else {
			prob = exp(log_nfact_over_npown(nn) + nn * log(2 * t - 1));
		}
		return clip01(1.0 - prob);
	}
	if (t >= nn - 1)
		return clip01(2 * pow(1.0 - x, nn));
	if (x >= 0.5)
		return clip01(2 * stats_smirnov(n, x));

	nx2 = t * x;
	if (n <= 140) {
		/* Exact for small n: the Durbin matrix stands in for Pomeranz's
		 * recursion in the middle range, which computes the same
		 * probability. */
		if (nx2 <= 4)
			return clip01(1.0 - kolmogn_durbin(n, x));
		return clip01(2 * stats_smirnov(n, x));
	}
	if (nx2 >= 370.0)
		return 0;
	if (nx2 >= 2.2) {
		/*
		 * Massart's form of the Dvoretzky-Kiefer-Wolfowitz inequality
		 * bounds the one-sided tail: Pr(D+ >= x) <= exp(-2 n x^2).
		 * Where twice that is below STATS_P_EXACT_BELOW, the exact sum
		 * (n terms, each with logarithms) cannot change the answer
		 * beyond the bound itself, which is reported instead.
		 */
		double bound = 2 * exp(-2 * nx2);

		if (bound < STATS_P_EXACT_BELOW)
			return bound;
		return clip01(2 * stats_smirnov(n, x));
	}
	if (n <= 100000 && nn * pow(x, 1.5) <= 1.4)
		cdf = kolmogn_durbin(n, x);
	else
		cdf = kolmogn_pelz_good(n, x);
	return clip01(1.0 - cdf);
}

/* ---------------------------------------------------------- Wasserstein */

double
stats_wasserstein(const double *u, size_t nu, const double *v, size_t nv,
    double *terms)
{
	size_t i = 0, j = 0, p, total = nu + nv;
	double inv = 1.0 / ((double)nu * (double)nv), x;

	/*
	 * Walk the merged values (the +inf sentinels end both samples).  The
	 * term at position p is |U(x_p) - V(x_p)| (x_(p+1) - x_p), both
	 * CDFs counting the values taken up to x_p: inside a run of equal
	 * values the width is 0, and where the width is not 0 every value
	 * <= x_p has been taken.  |i/nu - j/nv| is the exact integer
	 * |i nv - j nu| over nu nv.
	 */
	x = u[0] <= v[0] ? u[i++] : v[j++];
	for (p = 0; p + 1 < total; p++) {
		int take_u = u[i] <= v[j];
		double next = take_u ? u[i] : v[j];
		double gap = fabs((double)((int64_t)i * (int64_t)nv -
		    (int64_t)j * (int64_t)nu)) * inv;

		/* Where the CDFs agree, nothing: not 0 * inf = NaN for a
		 * width beyond the largest double. */
		terms[p] = gap != 0 ? gap * (next - x) : 0;
		i += (size_t)take_u;
		j += (size_t)!take_u;
		x = next;
	}
	return stats_sum(terms, total - 1);
}

double
stats_ks_d_wasserstein(const double *u, size_t nu, const double *v, size_t nv,
    double *wasserstein)
{
	/*
	 * stats_ks_d() and stats_wasserstein() in one walk of the merged
	 * samples: the same CDF differences serve both.  The Wasserstein
	 * terms are all >= 0 and summed as they come, with Neumaier's
	 * compensation: its error is a few ulps whatever the number of terms,
	 * well inside the 1e-9 agreement with SciPy's pairwise sum, and no
	 * array of terms is written.
	 */
	struct ks_extremes ex = KS_EXTREMES_INIT;
	size_t i = 0, j = 0, p, total = nu + nv;
	double inv = 1.0 / ((double)nu * (double)nv), x;
	double sum = 0, comp = 0;

	x = u[0] <= v[0] ? u[i++] : v[j++];
	for (p = 0; p + 1 < total; p++) {
		int take_u = u[i] <= v[j];
		double next = take_u ? u[i] : v[j];
		int64_t diff = (int64_t)i * (int64_t)nv - (int64_t)j * (int64_t)nu;

		{
			double t = diff != 0 ?
			    fabs((double)diff) * inv * (next - x) : 0;
			double y = sum + t;

			comp += fabs(sum) >= fabs(t) ? (sum - y) + t : (t - y) + sum;
			sum = y;
		}
		if (next != x)
			ks_extremes_add(&ex, (int64_t)i, (int64_t)j, (int64_t)nu,
			    (int64_t)nv);
		i += (size_t)take_u;
		j += (size_t)!take_u;
		x = next;
	}
	/* After the last value both CDFs are 1. */
	ks_extremes_add(&ex, (int64_t)nu, (int64_t)nv, (int64_t)nu,
	    (int64_t)nv);
	/* Past the largest double the error term is NaN: +inf then. */
	*wasserstein = isinf(sum) ? sum : sum + comp;
	return ks_extremes_d(&ex, (int64_t)nu, (int64_t)nv);
}

double
ks_extremes_d(const struct ks_extremes *x, int64_t nr, int64_t nw)
{
	double rn = (double)nr, wn = (double)nw;
	double maxd = (double)x->bi / rn - (double)x->bj / wn;
	double mind = -((double)x->wi / rn - (double)x->wj / wn);

	if (mind < 0)
		mind = 0;
	if (mind > 1)
		mind = 1;
	return mind > maxd ? mind : maxd;
}

/* --------------------------------------------------------- chi-square */

double
stats_igamc(double a, double x)
{
	double lg, ax;
	int i;

	if (x < 0 || a <= 0)
		return NAN;
	if (x == 0)
		return 1;
	if (isinf(x))
		return 0;
	lg = lgamma(a);
	ax = a * log(x) - x - lg;
	if (ax < -745)
		return x < a ? 1 : 0;
	ax = exp(ax);
	if (x < a + 1) {
		/* P(a, x) by its series; Q = 1 - P. */
		double ap = a, sum = 1.0 / a, del = sum;

		for (i = 0; i < 100000; i++) {
			ap += 1;
			del *= x / ap;
			sum += del;
			if (fabs(del) < fabs(sum) * DBL_EPSILON)
				break;
		}
		return clip01(1.0 - sum * ax);
	}
	/* Q(a, x) by its continued fraction, evaluated by modified Lentz. */
	{
		const double tiny = 1e-300;
		double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;

		for (i = 1; i < 100000; i++) {
			double an = -(double)i * ((double)i - a), del;

			b += 2;
			d = an * d + b;
			if (fabs(d) < tiny)
				d = tiny;
			c = b + an / c;
			if (fabs(c) < tiny)
				c = tiny;
			d = 1 / d;
			del = d * c;
			h *= del;
			if (fabs(del - 1) < DBL_EPSILON)
				break;
		}
		return clip01(ax * h);
	}
}

double
stats_chi2_sf(double x, double df)
{
	if (df <= 0 || isnan(x))
		return NAN;
	if (x <= 0)
		return 1;
	return stats_igamc(df / 2, x / 2);
}

double
stats_chi2(const double *observed, const double *expected, size_t k,
    double *pvalue)
{
	double stack[64], *terms = k <= 64 ? stack : xreallocarray(NULL, k, sizeof(double));
	double stat;
	size_t i;

	for (i = 0; i < k; i++) {
		double d = observed[i] - expected[i];

		terms[i] = d * d / expected[i];
	}
	stat = stats_sum(terms, k);
	if (terms != stack)
		free(terms);
	*pvalue = k >= 2 ? stats_chi2_sf(stat, (double)(k - 1)) : NAN;
	return stat;
}

/* ------------------------------------------------------- corrections */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void
stats_sort(double *x, size_t n)
{
	qsort(x, n, sizeof(double), cmp_double);
}

double
stats_bh_cutoff(const double *p, size_t n, size_t m, double alpha,
    double *sorted)
{
	size_t i;

	memcpy(sorted, p, n * sizeof(double));
	stats_sort(sorted, n);
	for (i = n; i > 0; i--)
		if (sorted[i - 1] <= (double)i * alpha / (double)m)
			return sorted[i - 1];
	return -1;
}
