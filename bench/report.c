/*
 * bench/report.c - driftd's time to render the drift report.
 *
 * Builds an evaluation's results as the drift evaluator does for a model
 * of N columns (numeric ones with 10 PSI bins, every fifth categorical
 * with 24 bars, all tested, a quarter drifting, [report] history values
 * each) and times, over R rounds, with the median reported:
 *   prepare  web_set_results() + web_prepare(): the per-column rows,
 *            cards and /status fragments, rendered once per evaluation
 *            (in slices on the loop);
 *   page     what each GET / costs afterwards (its live part; the rest
 *            is a body every response shares);
 *   status   the same for /status (the baseline: JSON of the same
 *            columns, no charts);
 *   whole    report_render(): --once --report and a saved report.
 *
 *   bench/report.sh [--columns "256 1024"] [--rounds 50] [--history 360]
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "http.h"
#include "report.h"
#include "results.h"
#include "util.h"
#include "web.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(double), cmp);
	return v[n / 2];
}

static struct results *
make(size_t ncols, size_t history)
{
	struct results *r = results_create(ncols);
	size_t i, k;
	char name[64];

	r->time = 1796299200;
	r->dataset = 1;
	r->tested = (double)ncols;
	r->drifted = (double)(ncols / 4);
	r->ratio = 0.25;
	r->dataset_share = 0.2;
	for (i = 0; i < ncols; i++) {
		struct results_column *c = &r->cols[i];
		int cat = i % 5 == 4;
		size_t nb = cat ? RESULTS_MAX_BARS : 10;

		snprintf(name, sizeof(name), "features.f%zu", i);
		c->name = xstrdup(name);
		c->kind = cat ? CONF_CATEGORICAL : CONF_NUMERIC;
		c->is_feature = 1;
		c->samples = 1000;
		c->ref_samples = 5000;
		c->missing_ratio = 0.01;
		c->mean = cat ? NAN : 0.1 * (double)i;
		c->std = cat ? NAN : 1.2;
		c->detected = i % 4 == 0;
		c->events = 3;
		c->decide = cat ? CONF_TEST_CHI2 : CONF_TEST_KS;
		c->t[c->decide].on = 1;
		c->t[c->decide].score = 0.123456;
		c->t[c->decide].pvalue = 1.5e-4;
		c->t[c->decide].threshold = 0.05;
		c->t[CONF_TEST_PSI].on = 1;
		c->t[CONF_TEST_PSI].score = 0.31;
		c->t[CONF_TEST_PSI].threshold = 0.2;
		c->chart = results_chart_create(nb, cat);
		for (k = 0; k < nb; k++) {
			c->chart->ref[k] = 1.0 / (double)nb;
			c->chart->win[k] = (double)(k + 1) * 2 /
			    (double)(nb * (nb + 1));
			if (cat) {
				snprintf(name, sizeof(name), "category-%zu", k);
				c->chart->labels[k] = xstrdup(name);
			} else if (k + 1 < nb) {
				c->chart->edges[k] = -2 + 0.4 * (double)k;
			}
		}
		c->nhistory = history;
		c->history = xcalloc(history + 1, sizeof(double));
		for (k = 0; k < history; k++)
			c->history[k] = 1e-3 * (double)((k * 7 + i) % 97 + 1);
	}
	return r;
}

/* Seconds to answer GET `path`; its length in *bytes. */
static double
serve(struct web *w, const char *path, size_t *bytes)
{
	struct http_request req = { "GET", 0, path, "", "", "" };
	struct http_response resp;
	double t0, t;

	memset(&resp, 0, sizeof(resp));
	t0 = now();
	web_handle(&req, &resp, w);
	t = now() - t0;
	*bytes = resp.body.len + (resp.shared != NULL ? resp.shared->len : 0);
	http_body_unref(resp.shared);
	buf_free(&resp.body);
	buf_free(&resp.headers);
	return t;
}

int
main(int argc, char **argv)
{
	size_t ncols = argc > 1 ? (size_t)atol(argv[1]) : 256;
	size_t rounds = argc > 2 ? (size_t)atol(argv[2]) : 50;
	size_t history = argc > 3 ? (size_t)atol(argv[3]) : 360;
	double *prep = xcalloc(rounds, sizeof(double));
	double *page = xcalloc(rounds, sizeof(double));
	double *status = xcalloc(rounds, sizeof(double));
	double *whole = xcalloc(rounds, sizeof(double));
	struct conf c;
	struct web w;
	struct buf out = BUF_INIT;
	struct report_info info;
	size_t i, page_bytes = 0, whole_bytes = 0, status_bytes = 0;

	memset(&c, 0, sizeof(c));
	c.model_name = xstrdup("m");
	c.state_dir = xstrdup("");
	c.window_size = 1000;
	c.min_samples = 100;
	memset(&w, 0, sizeof(w));
	w.conf = &c;
	memset(&info, 0, sizeof(info));
	info.version = "bench";
	info.model = "m";
	info.window_size = 1000;
	info.min_samples = 100;
	for (i = 0; i < rounds; i++) {
		struct results *r = make(ncols, history);
		double t0;

		t0 = now();
		web_set_results(&w, r);
		while (!web_prepare(&w, 1))
			;
		prep[i] = now() - t0;
		page[i] = serve(&w, "/", &page_bytes);
		status[i] = serve(&w, "/status", &status_bytes);
		buf_reset(&out);
		t0 = now();
		report_render(&out, &info, r);
		whole[i] = now() - t0;
		whole_bytes = out.len;
		results_unref(r);
	}
	printf("| %zu | %zu | %.2f | %.3f | %.3f | %.2f | %.0f KiB | %.0f KiB |\n",
	    ncols, history, 1e3 * median(prep, rounds),
	    1e3 * median(page, rounds), 1e3 * median(status, rounds),
	    1e3 * median(whole, rounds), (double)page_bytes / 1024,
	    (double)status_bytes / 1024);
	(void)whole_bytes;
	buf_free(&out);
	web_free(&w);
	free(c.model_name);
	free(c.state_dir);
	free(prep);
	free(page);
	free(status);
	free(whole);
	return 0;
}
