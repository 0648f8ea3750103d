/*
 * The change detectors through the ingest, against a transcription of
 * driftd.conf(5)'s Page-Hinkley and CUSUM formulas: seven detectors (two
 * groups of lanes, the second padded), each column with its own level
 * shifts and its own pattern of missing and non-finite values, each
 * method and direction; statistics, events and the last detection's time
 * compared at many prefixes, around the batch the detectors take records
 * in (a comparison collects the registry, which takes the records
 * waiting), and across a snapshot restored into a new pipeline.
 *
 * Built twice: with the vector code the CPU allows, and with
 * CHANGE_GENERIC, the code a CPU without AVX2 runs.
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "../../src/conf.h"
#include "../../src/ingest.h"
#include "../../src/log.h"
#include "../../src/metrics.h"
#include "../../src/state.h"

#define NCOL 7          /* x0..x4, confidence, latency */
#define NREC 3000
#define T0 1796000000.0

static const char *const names[NCOL] = {
	"features.x0", "features.x1", "features.x2", "features.x3",
	"features.x4", "confidence", "latency",
};

/* One detector as the man page writes it. */
struct oracle {
	int cusum, up, down, runs;
	unsigned long min, t;
	double delta, threshold, alpha, k, h, mu, sigma;
	double mean, u, d, m, M, s[2];
	double events[2], last;
};

static void
oracle_reset(struct oracle *o)
{
	o->t = 0;
	o->mean = o->u = o->d = 0;
	o->m = INFINITY;
	o->M = -INFINITY;
	o->s[0] = o->s[1] = 0;
}

static void
oracle_add(struct oracle *o, double x, double when)
{
	double stat[2], limit;
	int hit[2], i;

	if (!o->runs)
		return;
	o->t++;
	if (o->cusum) {
		o->s[0] = fmax(0, o->s[0] + x - o->mu - o->k * o->sigma);
		o->s[1] = fmax(0, o->s[1] + o->mu - o->k * o->sigma - x);
		stat[0] = o->s[0];
		stat[1] = o->s[1];
		limit = o->h * o->sigma;
	} else {
		o->mean += (x - o->mean) / (double)o->t;
		o->u = o->alpha * o->u + (x - o->mean - o->delta);
		o->d = o->alpha * o->d + (x - o->mean + o->delta);
		o->m = fmin(o->m, o->u);
		o->M = fmax(o->M, o->d);
		stat[0] = o->u - o->m;
		stat[1] = o->M - o->d;
		limit = o->threshold;
	}
	hit[0] = o->up && stat[0] > limit && o->t >= o->min;
	hit[1] = o->down && stat[1] > limit && o->t >= o->min;
	for (i = 0; i < 2; i++)
		o->events[i] += hit[i];
	if (hit[0] || hit[1]) {
		o->last = when;
		oracle_reset(o);
	}
}

static double
oracle_stat(const struct oracle *o, int dir)
{
	if (o->t == 0)
		return 0;
	if (o->cusum)
		return o->s[dir];
	return dir == 0 ? o->u - o->m : o->M - o->d;
}

/* xorshift64* and Box-Muller: the same stream on every machine. */
static uint64_t rng = 88172645463325252ull;

static double
uniform(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 2685821657736338717ull) >> 11) * 0x1p-53;
}

static double
gauss(double mu, double sd)
{
	double a = uniform(), b = uniform();

	return mu + sd * sqrt(-2 * log(a + 0x1p-60)) * cos(2 * M_PI * b);
}

/* Column c's value in record i: NAN for missing, INFINITY for a value
 * the log writes as 1e999. */
static double
value(int c, int i)
{
	double level = 0;

	if (i % (7 + c) == 3)
		return NAN;
	if (i % (11 + 2 * c) == 5)
		return INFINITY;
	if (i > 700 + 150 * c)
		level = c % 2 ? 1.5 : -1.5;
	if (i > 1900 + 90 * c)
		level = c % 2 ? -0.5 : 2;
	if (c == 5)             /* a confidence, within [0, 1] */
		return fmin(1, fmax(0, gauss(0.6 + level / 10, 0.05)));
	if (c == 6)             /* a latency, seconds */
		return fabs(gauss(0.2 + level / 20, 0.02));
	return gauss(level, 1);
}

/* "key":v, a non-finite v as a number too large for a double (JSON has
 * no infinity; this is what a log can hold). */
static void
put(char **p, char *end, const char *key, double v)
{
	if (isinf(v))
		*p += snprintf(*p, (size_t)(end - *p), "\"%s\":1e999", key);
	else
		*p += snprintf(*p, (size_t)(end - *p), "\"%s\":%.17g", key, v);
}

/* Record i as a log line; its values in x[]. */
static size_t
line(char *out, size_t cap, int i, double x[NCOL])
{
	char *p = out, *end = out + cap;
	int c;

	for (c = 0; c < NCOL; c++)
		x[c] = value(c, i);
	p += snprintf(p, (size_t)(end - p), "{\"ts\":%.0f,\"prediction\":\"a\","
	    "\"features\":{", T0 + i);
	for (c = 0; c < 5; c++) {
		char key[8];

		if (isnan(x[c]))
			continue;
		if (p[-1] != '{')
			*p++ = ',';
		snprintf(key, sizeof(key), "x%d", c);
		put(&p, end, key, x[c]);
	}
	*p++ = '}';
	if (!isnan(x[5])) {
		*p++ = ',';
		put(&p, end, "c", x[5]);
	}
	if (!isnan(x[6])) {
		*p++ = ',';
		put(&p, end, "lat", x[6] * 1000);   /* milliseconds */
	}
	*p++ = '}';
	return (size_t)(p - out);
}

static const struct metrics_series *
series(struct metrics_registry *reg, const char *family, const char *column,
    const char *direction)
{
	struct metrics_family *f = metrics_family_find(reg, family);
	const struct metrics_series *s;

	for (s = f ? metrics_family_first(f) : NULL; s != NULL;
	    s = metrics_series_next(s))
		if (strcmp(metrics_series_label(s, 1), column) == 0 &&
		    (direction == NULL ||
		    strcmp(metrics_series_label(s, 3), direction) == 0))
			return s;
	return NULL;
}

static void
compare(struct metrics_registry *reg, const struct oracle *o, int n)
{
	static const char *const dirs[2] = { "up", "down" };
	int c, dir;

	metrics_collect(reg);
	for (c = 0; c < NCOL; c++) {
		const struct metrics_series *last = series(reg,
		    "prediction_change_last_timestamp_seconds", names[c], NULL);

		for (dir = 0; dir < 2; dir++) {
			const struct metrics_series *st = series(reg,
			    "prediction_change_statistic", names[c], dirs[dir]);
			const struct metrics_series *ev = series(reg,
			    "prediction_change_events_total", names[c],
			    dirs[dir]);
			int shown = o[c].runs && (dir == 0 ? o[c].up : o[c].down);

			if (!shown) {
				if (st != NULL || ev != NULL)
					fail_msg("%d records: %s %s shown", n,
					    names[c], dirs[dir]);
				continue;
			}
			if (st == NULL || ev == NULL)
				fail_msg("%d records: %s %s missing", n,
				    names[c], dirs[dir]);
			if (!(fabs(metrics_value(st) - oracle_stat(&o[c],
			    dir)) <= 1e-9 * fmax(1, fabs(oracle_stat(&o[c],
			    dir)))))
				fail_msg("%d records: %s %s: statistic %.17g, "
				    "oracle %.17g", n, names[c], dirs[dir],
				    metrics_value(st), oracle_stat(&o[c], dir));
			if (metrics_value(ev) != o[c].events[dir])
				fail_msg("%d records: %s %s: %g events, oracle %g",
				    n, names[c], dirs[dir], metrics_value(ev),
				    o[c].events[dir]);
		}
		if (isnan(o[c].last) ? last != NULL : last == NULL ||
		    metrics_value(last) != o[c].last)
			fail_msg("%d records: %s: last detection %g, oracle %g",
			    n, names[c], last ? metrics_value(last) : NAN,
			    o[c].last);
	}
}

struct run {
	char dir[64], conf_path[96];
	struct conf *c;
	struct metrics_registry *reg;
	struct ingest *g;
};

static void
start(struct run *r, const char *change)
{
	char ref[96], text[2048];
	struct buf err = BUF_INIT;
	FILE *f;
	int i, c;

	snprintf(r->dir, sizeof(r->dir), "/tmp/driftd-unit-change-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	snprintf(ref, sizeof(ref), "%s/ref.csv", r->dir);
	f = fopen(ref, "w");
	assert_non_null(f);
	fprintf(f, "features.x0,features.x1,features.x2,features.x3,"
	    "features.x4\n");
	for (i = 0; i < 400; i++)
		for (c = 0; c < 5; c++)
			fprintf(f, "%.17g%s", c == 4 ? 3.0 : gauss(0.1 * c,
			    1 + 0.2 * c), c < 4 ? "," : "\n");
	fclose(f);
	snprintf(text, sizeof(text), "[global]\nlog_level = error\n"
	    "[model]\nname = m\nconfidence = c\nlatency = lat\n"
	    "timestamp = ts\n[features]\nfeatures.x0 = numeric\n"
	    "features.x1 = numeric\nfeatures.x2 = numeric\n"
	    "features.x3 = numeric\nfeatures.x4 = numeric\n"
	    "[reference]\nfile = %s\n[window]\nmin_samples = 10\n"
	    "[change]\ncolumns = features.x0, features.x1, features.x2, "
	    "features.x3, features.x4, confidence%s\n%s", ref,
	    strstr(change, "cusum") ? "" : ", latency", change);
	if (conf_parse("change.conf", text, strlen(text), &r->c, &err) != 0)
		fail_msg("%s", err.data);
	r->reg = metrics_create();
	r->g = ingest_create(r->c, r->reg, &err);
	if (r->g == NULL)
		fail_msg("%s", err.data);
	buf_free(&err);
}

static void
stop(struct run *r)
{
	char path[128];

	ingest_destroy(r->g);
	metrics_destroy(r->reg);
	conf_free(r->c);
	snprintf(path, sizeof(path), "%s/ref.csv", r->dir);
	unlink(path);
	rmdir(r->dir);
}

/* The reference's mean and deviation of column c, as driftd takes them
 * (numpy's mean and std). */
static void
reference_moments(const char *dir, int col, double *mu, double *sigma)
{
	char path[128], row[512];
	double v[5], sum = 0, sq = 0;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/ref.csv", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(row, sizeof(row), f));
	while (fgets(row, sizeof(row), f) != NULL &&
	    sscanf(row, "%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3],
	    &v[4]) == 5) {
		sum += v[col];
		n++;
	}
	*mu = sum / n;
	rewind(f);
	assert_non_null(fgets(row, sizeof(row), f));
	while (fgets(row, sizeof(row), f) != NULL &&
	    sscanf(row, "%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3],
	    &v[4]) == 5)
		sq += (v[col] - *mu) * (v[col] - *mu);
	fclose(f);
	*sigma = fmax(sqrt(sq / n), 0.001);
}

/* Prefixes compared: around min_instances and the batch of 64. */
static int
checked(int n)
{
	static const int at[] = { 1, 19, 20, 21, 63, 64, 65, 127, 128, 129,
	    500, 1234, 2000 };
	size_t i;

	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		if (at[i] == n)
			return 1;
	return n % 97 == 0;
}

static void
run_case(const char *change, int cusum, int up, int down)
{
	struct oracle o[NCOL];
	struct run r;
	struct buf err = BUF_INIT;
	char buf[1024];
	double x[NCOL];
	int i, c;

	rng = 88172645463325252ull;
	log_init(LOG_LEVEL_ERROR);
	start(&r, change);
	for (c = 0; c < NCOL; c++) {
		memset(&o[c], 0, sizeof(o[c]));
		o[c].cusum = cusum;
		o[c].up = up;
		o[c].down = down;
		o[c].min = 20;
		o[c].delta = 0.005;
		o[c].threshold = 10;
		o[c].alpha = 0.9999;
		o[c].k = 0.5;
		o[c].h = 4;
		o[c].last = NAN;
		/* CUSUM: confidence has no reference column, latency is
		 * not configured */
		o[c].runs = !cusum || c < 5;
		if (cusum && c < 5)
			reference_moments(r.dir, c, &o[c].mu, &o[c].sigma);
		oracle_reset(&o[c]);
	}
	for (i = 0; i < NREC; i++) {
		size_t len = line(buf, sizeof(buf), i, x);

		if (i == 1500) {
			/* a reload: the snapshot restored into a new pipeline,
			 * which takes over the series */
			struct ingest *g = ingest_load(r.c, &err);
			struct state_writer w;

			if (g == NULL)
				fail_msg("%s", err.data);
			ingest_snapshot(r.g, &w);
			metrics_mark(r.reg);
			ingest_destroy(r.g);
			ingest_attach(g, r.reg);
			assert_true(ingest_restore(g, &w.b) >= 0);
			state_writer_free(&w);
			metrics_sweep(r.reg);
			r.g = g;
			compare(r.reg, o, i);
		}
		ingest_line(r.g, buf, len);
		for (c = 0; c < NCOL; c++)
			if (isfinite(x[c]))
				oracle_add(&o[c], x[c], T0 + i);
		if (checked(i + 1))
			compare(r.reg, o, i + 1);
	}
	compare(r.reg, o, NREC);
	buf_free(&err);
	for (c = 0; c < NCOL; c++)
		if (o[c].runs && o[c].events[0] + o[c].events[1] == 0)
			fail_msg("%s: no change detected", names[c]);
	stop(&r);
}

static void
test_page_hinkley_both(void **state)
{
	(void)state;
	run_case("threshold = 10\nmin_instances = 20\n", 0, 1, 1);
}

static void
test_page_hinkley_up(void **state)
{
	(void)state;
	run_case("threshold = 10\nmin_instances = 20\ndirection = up\n", 0, 1,
	    0);
}

static void
test_cusum_both(void **state)
{
	(void)state;
	run_case("method = cusum\nh = 4\nmin_instances = 20\n", 1, 1, 1);
}

static void
test_cusum_down(void **state)
{
	(void)state;
	run_case("method = cusum\nh = 4\nmin_instances = 20\n"
	    "direction = down\n", 1, 0, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_hinkley_both),
		cmocka_unit_test(test_page_hinkley_up),
		cmocka_unit_test(test_cusum_both),
		cmocka_unit_test(test_cusum_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
