/*
 * Unit tests for an evaluation stepped phase by phase (drift.c through
 * ingest.c), as the event loop runs it: records arriving between two
 * phases of a column must not change what that column's evaluation
 * reports, since its minimum-samples check, mean and standard deviation
 * were taken from the window as it was.
 */
#include "config.h"

#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"

struct eval {
	char dir[64];
	char ref[96];
	struct conf *conf;
	struct metrics_registry *reg;
	struct ingest *g;
	struct buf out;
};

/* A daemon's ingest with a reference of 150 values 0..49, a window of
 * 1000 records and 60 s by event time, and 200 records 0..49 in it. */
static void
eval_open(struct eval *e)
{
	struct buf err = BUF_INIT, ini = BUF_INIT;
	FILE *f;
	int i;

	memset(e, 0, sizeof(*e));
	strcpy(e->dir, "/tmp/driftd-unit-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->ref, sizeof(e->ref), "%s/ref.csv", e->dir);
	f = fopen(e->ref, "w");
	assert_non_null(f);
	fputs("x\n", f);
	for (i = 0; i < 150; i++)
		fprintf(f, "%d\n", i % 50);
	fclose(f);
	buf_printf(&ini,
	    "[input]\npath = %s/none.jsonl\n"
	    "[model]\nname = m\nclass = prediction\nconfidence =\n"
	    "latency =\ntimestamp = ts\n"
	    "[features]\nx = numeric\n"
	    "[reference]\nfile = %s\n"
	    "[window]\nsize = 1000\nduration = 60s\nmin_samples = 100\n"
	    "[drift]\nnumeric = ks,psi,wasserstein\n", e->dir, e->ref);
	if (conf_parse("test.conf", ini.data, ini.len, &e->conf, &err) != 0)
		fail_msg("configuration rejected:\n%s", err.data);
	e->reg = metrics_create();
	e->g = ingest_create(e->conf, e->reg, &err);
	if (e->g == NULL)
		fail_msg("ingest: %s", err.data);
	for (i = 0; i < 200; i++) {
		char line[128];
		int n = snprintf(line, sizeof(line),
		    "{\"ts\": %.1f, \"prediction\": \"a\", \"x\": %d}",
		    1000 + i * 0.1, i % 50);

		assert_int_equal(ingest_line(e->g, line, (size_t)n),
		    TAIL_LINE_OK);
	}
	buf_free(&err);
	buf_free(&ini);
}

static void
eval_line(struct eval *e, const char *line)
{
	assert_int_equal(ingest_line(e->g, line, strlen(line)), TAIL_LINE_OK);
}

/* Finish the evaluation and render the metrics into e->out. */
static void
eval_finish(struct eval *e)
{
	while (!ingest_step(e->g, 0))
		;
	buf_reset(&e->out);
	metrics_render(e->reg, METRICS_FORMAT_TEXT, &e->out);
}

static void
eval_close(struct eval *e)
{
	ingest_destroy(e->g);
	metrics_destroy(e->reg);
	conf_free(e->conf);
	buf_free(&e->out);
	unlink(e->ref);
	rmdir(e->dir);
}

/* What the 200 records give: 200 samples, none missing, KS 0, no drift. */
static void
assert_first_window(const struct eval *e)
{
	assert_contains(e->out.data,
	    "prediction_window_samples{model=\"m\",column=\"x\"} 200\n");
	assert_contains(e->out.data,
	    "prediction_window_missing_ratio{model=\"m\",column=\"x\"} 0\n");
	assert_contains(e->out.data,
	    "prediction_drift_score{model=\"m\",column=\"x\",test=\"ks\"} 0\n");
	assert_contains(e->out.data,
	    "prediction_drift_detected{model=\"m\",column=\"x\"} 0\n");
}

static void
test_undisturbed(void **state)
{
	struct eval e;

	(void)state;
	eval_open(&e);
	ingest_begin_evaluation(e.g);
	eval_finish(&e);
	assert_first_window(&e);
	eval_close(&e);
}

/* A record far ahead in event time empties the window between phases. */
static void
test_window_expired_between_phases(void **state)
{
	struct eval e;

	(void)state;
	eval_open(&e);
	ingest_begin_evaluation(e.g);
	assert_int_equal(ingest_step(e.g, 0), 0);      /* one phase */
	eval_line(&e, "{\"ts\": 1000000, \"prediction\": \"a\", \"x\": 1000}");
	eval_finish(&e);
	assert_first_window(&e);
	eval_close(&e);
}

/* The same without a value: the window holds no value at all. */
static void
test_window_emptied_between_phases(void **state)
{
	struct eval e;

	(void)state;
	eval_open(&e);
	ingest_begin_evaluation(e.g);
	assert_int_equal(ingest_step(e.g, 0), 0);
	eval_line(&e, "{\"ts\": 1000000, \"prediction\": \"a\"}");
	eval_finish(&e);
	assert_first_window(&e);
	eval_close(&e);
}

/* Many records arrive between phases. */
static void
test_window_grown_between_phases(void **state)
{
	struct eval e;
	int i;

	(void)state;
	eval_open(&e);
	ingest_begin_evaluation(e.g);
	assert_int_equal(ingest_step(e.g, 0), 0);
	for (i = 0; i < 500; i++) {
		char line[128];

		snprintf(line, sizeof(line),
		    "{\"ts\": %.2f, \"prediction\": \"a\", \"x\": %d}",
		    1020 + i * 0.01, 1000 + i);
		eval_line(&e, line);
	}
	eval_finish(&e);
	assert_first_window(&e);
	eval_close(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_undisturbed),
		cmocka_unit_test(test_window_expired_between_phases),
		cmocka_unit_test(test_window_emptied_between_phases),
		cmocka_unit_test(test_window_grown_between_phases),
	};

	log_init(LOG_LEVEL_ERROR);      /* the reference's notes are expected */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
