/*
 * Unit tests for metrics.c: series bookkeeping and both exposition formats.
 */
#include "config.h"

#include "unit.h"

#include <stdlib.h>

#include "metrics.h"

static const struct metrics_desc descs[] = {
	{ "test_records_total", METRICS_COUNTER, "Records seen.",
	    { "model", NULL } },
	{ "test_temperature", METRICS_GAUGE, "A gauge with\nnewline \\ help.",
	    { "model", "column", NULL } },
	{ "test_latency_seconds", METRICS_HISTOGRAM, "Latency.",
	    { "model", NULL } },
	{ "test_empty", METRICS_GAUGE, "Never has series.", { NULL } },
};

static char *
render(struct metrics_registry *r, enum metrics_format fmt)
{
	struct buf out = BUF_INIT;

	metrics_render(r, fmt, &out);
	return out.data;
}

/* Each value lands in the first bucket whose bound is >= it, and NaN and
 * values above every bound in +Inf: with a few bounds (counted without
 * branches) and with many (searched). */
static void
test_histogram_buckets(void **state)
{
	static const double values[] = { -INFINITY, -3, 0, 0.5, 1, 1.5, 2,
	    7, 19.5, 20, 20.5, INFINITY, NAN };
	const double few[] = { 0.5, 1, 2 };
	double many[20];
	const char *m[] = { "iris" };
	size_t nb, b, i;

	(void)state;
	for (i = 0; i < 20; i++)
		many[i] = (double)(i + 1);
	for (nb = 3; nb <= 20; nb += 17) {
		const double *bounds = nb == 3 ? few : many;
		struct metrics_registry *r = metrics_create();
		struct metrics_family *f = metrics_family_add(r, &descs[2],
		    bounds, nb);
		struct metrics_series *s = metrics_series_get(f, m);
		char *text, line[128];

		for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
			metrics_observe(s, values[i]);
		text = render(r, METRICS_FORMAT_TEXT);
		for (b = 0; b <= nb; b++) {
			size_t want = 0;

			for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
				want += b == nb || values[i] <= bounds[b];
			if (b < nb)
				snprintf(line, sizeof(line),
				    "test_latency_seconds_bucket{model=\"iris\","
				    "le=\"%g\"} %zu\n", bounds[b], want);
			else
				snprintf(line, sizeof(line),
				    "test_latency_seconds_bucket{model=\"iris\","
				    "le=\"+Inf\"} %zu\n", want);
			assert_contains(text, line);
		}
		free(text);
		metrics_destroy(r);
	}
}

static void
test_text_format(void **state)
{
	struct metrics_registry *r = metrics_create();
	struct metrics_family *f[4];
	const double bounds[] = { 0.1, 0.5, 1 };
	const char *m[] = { "iris" };
	const char *mc[] = { "iris", "petal \"width\"\n\\x" };
	char *text;

	(void)state;
	metrics_family_add_table(r, descs, 2, f);
	f[2] = metrics_family_add(r, &descs[2], bounds, 3);
	f[3] = metrics_family_add(r, &descs[3], NULL, 0);
	metrics_add(metrics_series_get(f[0], m), 3);
	metrics_add(metrics_series_get(f[0], m), 2);
	metrics_set(metrics_series_get(f[1], mc), 0.25);
	metrics_observe(metrics_series_get(f[2], m), 0.05);
	metrics_observe(metrics_series_get(f[2], m), 0.5);
	metrics_observe(metrics_series_get(f[2], m), 7);

	text = render(r, METRICS_FORMAT_TEXT);
	assert_contains(text, "# HELP test_records_total Records seen.\n"
	    "# TYPE test_records_total counter\n"
	    "test_records_total{model=\"iris\"} 5\n");
	assert_contains(text, "# HELP test_temperature A gauge with\\nnewline \\\\ help.\n");
	assert_contains(text,
	    "test_temperature{model=\"iris\",column=\"petal \\\"width\\\"\\n\\\\x\"} 0.25\n");
	assert_contains(text,
	    "# TYPE test_latency_seconds histogram\n"
	    "test_latency_seconds_bucket{model=\"iris\",le=\"0.1\"} 1\n"
	    "test_latency_seconds_bucket{model=\"iris\",le=\"0.5\"} 2\n"
	    "test_latency_seconds_bucket{model=\"iris\",le=\"1\"} 2\n"
	    "test_latency_seconds_bucket{model=\"iris\",le=\"+Inf\"} 3\n"
	    "test_latency_seconds_sum{model=\"iris\"} 7.55\n"
	    "test_latency_seconds_count{model=\"iris\"} 3\n");
	assert_not_contains(text, "test_empty");
	assert_not_contains(text, "# EOF");
	free(text);

	text = render(r, METRICS_FORMAT_OPENMETRICS);
	assert_contains(text, "# HELP test_records Records seen.\n"
	    "# TYPE test_records counter\n"
	    "test_records_total{model=\"iris\"} 5\n");
	assert_int_equal(strcmp(text + strlen(text) - 6, "# EOF\n"), 0);
	free(text);
	metrics_destroy(r);
}

static void
test_series_identity_and_removal(void **state)
{
	struct metrics_registry *r = metrics_create();
	struct metrics_family *f[2];
	struct metrics_series *keep[2000];
	char name[32];
	char *text;
	int i;

	(void)state;
	metrics_family_add_table(r, descs, 2, f);
	/* Enough series to force the hash table to grow several times. */
	for (i = 0; i < 2000; i++) {
		const char *v[] = { "m", name };

		snprintf(name, sizeof(name), "col%d", i);
		keep[i] = metrics_series_get(f[1], v);
		metrics_set(keep[i], i);
	}
	assert_int_equal(metrics_family_size(f[1]), 2000);
	for (i = 0; i < 2000; i++) {
		const char *v[] = { "m", name };

		snprintf(name, sizeof(name), "col%d", i);
		assert_ptr_equal(metrics_series_get(f[1], v), keep[i]);
	}
	for (i = 0; i < 2000; i += 2)
		metrics_series_remove(keep[i]);
	assert_int_equal(metrics_family_size(f[1]), 1000);
	text = render(r, METRICS_FORMAT_TEXT);
	assert_not_contains(text, "column=\"col0\"");
	assert_contains(text, "test_temperature{model=\"m\",column=\"col1\"} 1\n");
	assert_contains(text, "test_temperature{model=\"m\",column=\"col1999\"} 1999\n");
	assert_not_contains(text, "column=\"col1998\"");
	free(text);
	metrics_family_clear(f[1]);
	assert_int_equal(metrics_family_size(f[1]), 0);
	text = render(r, METRICS_FORMAT_TEXT);
	assert_not_contains(text, "test_temperature");
	free(text);
	metrics_destroy(r);
}

static void
test_duplicate_family_and_label_cap(void **state)
{
	struct metrics_registry *r = metrics_create();
	struct metrics_family *f;
	char *big = malloc(METRICS_MAX_LABEL_BYTES + 2);
	const char *v[] = { big };

	(void)state;
	f = metrics_family_add(r, &descs[0], NULL, 0);
	assert_non_null(f);
	assert_null(metrics_family_add(r, &descs[0], NULL, 0));
	memset(big, 'a', METRICS_MAX_LABEL_BYTES + 1);
	big[METRICS_MAX_LABEL_BYTES + 1] = '\0';
	assert_null(metrics_series_get(f, v));
	big[METRICS_MAX_LABEL_BYTES] = '\0';
	assert_non_null(metrics_series_get(f, v));
	free(big);
	metrics_destroy(r);
}

static int collected;

static void
collect(void *arg)
{
	metrics_set(arg, ++collected);
}

/* A reload's hand-over: marked series a new owner takes keep their
 * values; the others go at the sweep.  New bucket bounds reset a
 * histogram family; the same ones leave it alone. */
static void
test_mark_sweep_and_bounds(void **state)
{
	struct metrics_registry *r = metrics_create();
	struct metrics_family *f = metrics_family_add(r, &descs[1], NULL, 0);
	const char *a[] = { "iris", "x" }, *b[] = { "iris", "y" };
	const char *m2[] = { "iris", "z" };
	const char *m[] = { "iris" };
	const double b1[] = { 1, 2 }, b2[] = { 1, 3 };
	struct metrics_family *h, *stay;
	struct metrics_series *s;
	char *text;

	(void)state;
	metrics_set(metrics_series_get(f, a), 5);
	metrics_set(metrics_series_get(f, b), 7);
	stay = metrics_family_add(r, &descs[3], NULL, 0);
	metrics_set(metrics_series_get(stay, NULL), 3);
	metrics_mark(r);
	assert_ptr_equal(metrics_family_get(r, &descs[1], NULL, 0), f);
	assert_null(metrics_series_find(f, m2));     /* nothing made */
	s = metrics_series_get(f, a);          /* taken over */
	metrics_sweep(r);
	assert_true(metrics_value(s) == 5);
	text = render(r, METRICS_FORMAT_TEXT);
	assert_contains(text, "test_temperature{model=\"iris\",column=\"x\"} 5");
	assert_null(strstr(text, "column=\"y\""));
	assert_null(strstr(text, "column=\"z\""));
	/* A family nobody took is its owner's still. */
	assert_contains(text, "\ntest_empty 3\n");
	free(text);
	/* Unmarked, a sweep removes nothing. */
	metrics_sweep(r);
	assert_true(metrics_value(metrics_series_get(f, a)) == 5);

	h = metrics_family_add(r, &descs[2], b1, 2);
	metrics_observe(metrics_series_get(h, m), 1.5);
	assert_int_equal(metrics_family_set_bounds(h, b1, 2), 0);
	text = render(r, METRICS_FORMAT_TEXT);
	assert_contains(text, "test_latency_seconds_count{model=\"iris\"} 1");
	free(text);
	assert_int_equal(metrics_family_set_bounds(h, b2, 2), 1);
	text = render(r, METRICS_FORMAT_TEXT);
	assert_null(strstr(text, "test_latency_seconds_count"));
	free(text);
	metrics_observe(metrics_series_get(h, m), 2.5);
	text = render(r, METRICS_FORMAT_TEXT);
	assert_contains(text,
	    "test_latency_seconds_bucket{model=\"iris\",le=\"3\"} 1");
	free(text);
	metrics_destroy(r);
}

static void
test_collect_callback(void **state)
{
	struct metrics_registry *r = metrics_create();
	struct metrics_family *f = metrics_family_add(r, &descs[3], NULL, 0);
	struct metrics_series *s = metrics_series_get(f, NULL);
	char *text;

	(void)state;
	metrics_on_collect(r, collect, s);
	text = render(r, METRICS_FORMAT_TEXT);
	assert_contains(text, "\ntest_empty 1\n");
	free(text);
	text = render(r, METRICS_FORMAT_TEXT);
	assert_contains(text, "\ntest_empty 2\n");
	free(text);
	metrics_destroy(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_histogram_buckets),
		cmocka_unit_test(test_text_format),
		cmocka_unit_test(test_series_identity_and_removal),
		cmocka_unit_test(test_duplicate_family_and_label_cap),
		cmocka_unit_test(test_mark_sweep_and_bounds),
		cmocka_unit_test(test_collect_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
