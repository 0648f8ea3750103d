/*
 * libFuzzer target for request handling: whatever a client sends on one
 * connection is parsed, routed and answered (every endpoint, content
 * negotiation, gzip, the report with hostile names, saved reports by
 * name, the lifecycle endpoints) without a crash, a leak or an unbounded
 * response.
 */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "http.h"
#include "metrics.h"
#include "results.h"
#include "util.h"
#include "web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct metrics_desc descs[] = {
	{ "prediction_window_samples", METRICS_GAUGE, "Values.",
	    { "model", "column", NULL } },
	{ "prediction_drift_score", METRICS_GAUGE, "Score.",
	    { "model", "column", "test", NULL } },
	{ "driftd_log_lines_total", METRICS_COUNTER, "Lines.", { "input", NULL } },
};

static char dir[] = "/tmp/driftd-fuzz-XXXXXX";

/* The state_dir goes when the fuzzer exits. */
static void
remove_dir(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/reports/20260101T000000Z.html", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/reports/20260102T000000Z.html", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/reports", dir);
	rmdir(path);
	rmdir(dir);
}

/* A state_dir with one saved report and a link named like one; lifecycle
 * endpoints on. */
static struct conf *
make_conf(void)
{
	static struct conf c;
	char path[256];
	FILE *fp;

	if (mkdtemp(dir) == NULL)
		abort();
	atexit(remove_dir);
	snprintf(path, sizeof(path), "%s/reports", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/reports/20260101T000000Z.html", dir);
	fp = fopen(path, "w");
	if (fp != NULL) {
		fputs("<p>saved</p>", fp);
		fclose(fp);
	}
	snprintf(path, sizeof(path), "%s/reports/20260102T000000Z.html", dir);
	(void)symlink("/etc/passwd", path);
	c.state_dir = dir;
	c.model_name = xstrdup("m<\"&");
	c.window_size = 100;
	c.min_samples = 10;
	c.enable_lifecycle = 1;
	return &c;
}

/* A results snapshot with a chart of hostile labels and a history. */
static struct results *
make_results(void)
{
	static const char *labels[] = { "<script>", "a\xff\"b", "\xe2\x80\xae" };
	struct results *res = results_create(2);
	struct results_column *c = &res->cols[0];
	size_t i;

	res->dataset = 1;
	res->drifted = res->tested = 1;
	res->ratio = 1;
	res->dataset_share = 0.5;
	c->name = xstrdup("features.\"<x>\"");
	c->kind = CONF_CATEGORICAL;
	c->detected = 1;
	c->decide = CONF_TEST_CHI2;
	c->t[CONF_TEST_CHI2].on = 1;
	c->t[CONF_TEST_CHI2].score = 12;
	c->t[CONF_TEST_CHI2].pvalue = 1e-5;
	c->t[CONF_TEST_CHI2].threshold = 0.05;
	c->chart = results_chart_create(3, 1);
	for (i = 0; i < 3; i++) {
		c->chart->labels[i] = xstrdup(labels[i]);
		c->chart->ref[i] = 1.0 / 3;
		c->chart->win[i] = i == 0 ? 1 : 0;
	}
	c->nhistory = 4;
	c->history = xcalloc(4, sizeof(double));
	c->history[0] = 0.5;
	c->history[1] = NAN;
	c->history[2] = 1e-3;
	c->history[3] = 1e-5;
	res->cols[1].name = xstrdup("y");
	return res;
}

static uint64_t
evaluate(void *arg)
{
	(void)arg;
	return 0;
}

static struct web *
setup(void)
{
	static struct web w;
	static struct metrics_registry *r;
	struct metrics_family *f[3];
	const char *c[] = { "m", "features.\"x<y>\"" };
	const char *t[] = { "m", "features.\"x<y>\"", "ks" };
	const char *in[] = { "/var/log/a\nb.log" };

	if (r != NULL)
		return &w;
	r = metrics_create();
	metrics_family_add_table(r, descs, 3, f);
	metrics_set(metrics_series_get(f[0], c), 10);
	metrics_set(metrics_series_get(f[1], t), 0.25);
	metrics_add(metrics_series_get(f[2], in), 3);
	w.registry = r;
	w.ready = 1;
	w.conf = make_conf();
	w.evaluate = evaluate;
	web_set_results(&w, make_results());
	while (!web_prepare(&w, 1))
		;
	return &w;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct web *w = setup();
	struct buf out = BUF_INIT;

	http_serve_buffer((const char *)data, size, web_handle, w, &out);
	/* One response per request, each bounded by the registry's size. */
	if (out.len > size * 16384 + 65536)
		abort();
	buf_free(&out);
	return 0;
}
