/*
 * Unit tests for report.c and reports.c: text escaping (markup, bytes
 * that are not UTF-8), the order of the columns, bars in the proportions
 * of their bins, and the names a saved report may have.
 */
#include "config.h"

#include "unit.h"

#include <stdlib.h>

#include "report.h"
#include "reports.h"
#include "util.h"

static char *
escaped(const char *s)
{
	struct buf b = BUF_INIT;

	report_escape(&b, s);
	buf_putc(&b, '\0');
	return b.data;
}

static void
test_escape(void **state)
{
	struct { const char *in, *out; } cases[] = {
		{ "<script>&\"'", "&lt;script&gt;&amp;&quot;&#39;" },
		{ "caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80" },
		{ "a\xff" "b", "a\xef\xbf\xbd" "b" },                 /* stray byte */
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },           /* overlong / */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },  /* surrogate */
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
		    "\xef\xbf\xbd" },                                 /* > U+10FFFF */
		{ "\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd" },           /* cut short */
		{ "", "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = escaped(cases[i].in);

		assert_string_equal(got, cases[i].out);
		free(got);
	}
}

static struct results *
three_columns(void)
{
	struct results *r = results_create(3);
	static const char *names[] = { "a", "b<", "c" };
	size_t i;

	for (i = 0; i < 3; i++)
		r->cols[i].name = xstrdup(names[i]);
	r->cols[1].detected = 1;         /* drifts */
	r->cols[2].detected = 0;         /* tested, no drift */
	r->cols[1].decide = r->cols[2].decide = CONF_TEST_PSI;
	r->cols[1].t[CONF_TEST_PSI].on = r->cols[2].t[CONF_TEST_PSI].on = 1;
	r->cols[1].t[CONF_TEST_PSI].score = 0.5;
	r->cols[1].t[CONF_TEST_PSI].threshold = 0.2;
	r->cols[1].chart = results_chart_create(2, 1);
	r->cols[1].chart->labels[0] = xstrdup("x");
	r->cols[1].chart->labels[1] = xstrdup("y");
	r->cols[1].chart->ref[0] = 0.25;
	r->cols[1].chart->ref[1] = 0.75;
	r->cols[1].chart->win[0] = 0.5;
	r->cols[1].chart->win[1] = 0.5;
	return r;
}

static void
test_order_and_render(void **state)
{
	struct results *r = three_columns();
	struct report_info info;
	struct buf out = BUF_INIT;
	size_t idx[3];
	const char *b, *c, *a;

	(void)state;
	report_order(r, idx);
	assert_int_equal(idx[0], 1);     /* drifting first */
	assert_int_equal(idx[1], 2);     /* then tested */
	assert_int_equal(idx[2], 0);     /* then the rest */
	memset(&info, 0, sizeof(info));
	info.version = "1";
	info.model = "m";
	info.window_size = info.min_samples = 10;
	report_render(&out, &info, r);
	buf_putc(&out, '\0');
	b = strstr(out.data, "id=\"col-1\"");
	c = strstr(out.data, "id=\"col-2\"");
	a = strstr(out.data, "id=\"col-0\"");
	assert_non_null(b);
	assert_true(b < c && c < a);
	assert_contains(out.data, "<bdi>b&lt;</bdi>");
	assert_null(strstr(out.data, "<bdi>b<</bdi>"));
	/* Bars as tall as their share of the tallest (0.75 -> 110). */
	assert_contains(out.data, "class=\"bar-ref\" data-p=\"0.750000000\"");
	assert_contains(out.data, "height=\"110.000\"");
	assert_contains(out.data, "height=\"36.667\"");     /* 0.25 */
	assert_contains(out.data, "height=\"73.333\"");     /* 0.5 */
	assert_null(strstr(out.data, "<script"));
	buf_free(&out);
	results_unref(r);
}

static void
test_report_names(void **state)
{
	static const char *good[] = { "20261203T120000Z.html",
	    "20261203T120000Z-2.html", "20261203T120000Z-999.html" };
	static const char *bad[] = { "", ".html", "../20261203T120000Z.html",
	    "20261203T120000Z.html/", "20261203T120000Z.htm",
	    "20261203 120000Z.html", "20261203T120000Z-0.html",
	    "20261203T120000Z-1000.html", "20261203T120000Z-.html",
	    ".20261203T120000Z.html.tmp", "2026120aT120000Z.html",
	    "20261203T120000Z.html\n", "%2e%2e", "20261203T120000.html" };
	char name[40];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(reports_name_valid(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(reports_name_valid(bad[i]));
	reports_name(1796299200.5, 1, name, sizeof(name));
	assert_string_equal(name, "20261203T120000Z.html");
	reports_name(1796299200.5, 3, name, sizeof(name));
	assert_string_equal(name, "20261203T120000Z-3.html");
	assert_true(reports_name_valid(name));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_order_and_render),
		cmocka_unit_test(test_report_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
