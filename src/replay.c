/*
 * replay.c - `driftd --once --step`: logs replayed as a drift time series.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest.h"
#include "log.h"
#include "replay.h"
#include "util.h"

struct replay {
	enum replay_format fmt;
	FILE *out;
	struct metrics_registry *reg;
	char *model;
	const struct ingest *g;
	struct metrics_history *history;
	struct buf rows;
	int progress;
	double started, shown;        /* monotonic seconds */
	unsigned long long steps;
	int failed;
};

int
replay_parse_format(const char *s, enum replay_format *out)
{
	if (strcmp(s, "openmetrics") == 0)
		*out = REPLAY_OPENMETRICS;
	else if (strcmp(s, "csv") == 0)
		*out = REPLAY_CSV;
	else
		return -1;
	return 0;
}

static double
monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct replay *
replay_create(enum replay_format fmt, FILE *out, struct metrics_registry *reg,
    const char *model, const struct ingest *g, int progress)
{
	struct replay *rp = xcalloc(1, sizeof(*rp));

	rp->fmt = fmt;
	rp->out = out;
	rp->reg = reg;
	rp->model = xstrdup(model);
	rp->g = g;
	rp->progress = progress;
	rp->started = rp->shown = monotonic();
	if (fmt == REPLAY_OPENMETRICS)
		rp->history = metrics_history_create("prediction_");
	else if (fputs(REPLAY_CSV_HEADER, out) < 0)
		rp->failed = 1;
	return rp;
}

/* ---------------------------------------------------------------- csv */

/* A field as RFC 4180 wants it: quoted when it holds a comma, a quote or
 * a line break, quotes doubled. */
static void
csv_text(struct buf *b, const char *s)
{
	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/* ",v", or "," when v is not defined. */
static void
csv_number(struct buf *b, double v)
{
	buf_putc(b, ',');
	if (isfinite(v))
		buf_put_double(b, v);
}

static void
csv_time(struct buf *b, double t)
{
	long long ms = llround(t * 1000.0);
	time_t s = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
	int frac = (int)(ms - (long long)s * 1000);
	struct tm tm;
	char when[40];

	gmtime_r(&s, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_puts(b, when);
	if (frac > 0)
		buf_printf(b, ".%03d", frac);
	buf_putc(b, 'Z');
}

/* The start of a row: time,model,column,test */
static void
csv_key(struct buf *b, double end, const char *model, const char *column,
    const char *test)
{
	csv_time(b, end);
	buf_putc(b, ',');
	csv_text(b, model);
	buf_putc(b, ',');
	csv_text(b, column);
	buf_putc(b, ',');
	csv_text(b, test);
}

/* The CSV rows of one step. */
static void
csv_rows(struct buf *out, double end, const char *model,
    const struct results *r)
{
	size_t i;
	int t;

	for (i = 0; i < r->ncols; i++) {
		const struct results_column *c = &r->cols[i];
		int any = 0;

		for (t = 0; t <= CONF_TEST_COUNT; t++) {
			const struct results_test *rt = t < CONF_TEST_COUNT ?
			    &c->t[t] : NULL;

			/* A row per test run; one without a test when none
			 * ran (below min_samples, no reference). */
			if (rt != NULL && !rt->on)
				continue;
			if (rt == NULL && any)
				break;
			any = 1;
			csv_key(out, end, model, c->name, rt != NULL ?
			    conf_test_name((enum conf_test)t) : NULL);
			csv_number(out, c->samples);
			csv_number(out, c->ref_samples);
			csv_number(out, c->missing_ratio);
			csv_number(out, c->mean);
			csv_number(out, c->std);
			csv_number(out, rt != NULL ? rt->score : NAN);
			csv_number(out, rt != NULL ? rt->pvalue : NAN);
			csv_number(out, rt != NULL ? rt->threshold : NAN);
			csv_number(out, rt != NULL && t == c->decide ?
			    c->detected : NAN);
			buf_putc(out, '\n');
		}
	}
	csv_key(out, end, model, REPLAY_DATASET_COLUMN, NULL);
	buf_puts(out, ",,,,,");
	csv_number(out, r->ratio);
	buf_puts(out, ",,");
	csv_number(out, r->dataset);
	buf_putc(out, '\n');
}

/* ------------------------------------------------------------- steps */

static void
show_progress(struct replay *rp, int last)
{
	double now = monotonic(), took = now - rp->started;
	double records = ingest_records(rp->g);

	if (!rp->progress || (!last && now - rp->shown < 1))
		return;
	rp->shown = now;
	fprintf(stderr, "\rreplay: %.0f records, %llu steps, %.0f records/s%s",
	    records, rp->steps, took > 0 ? records / took : 0,
	    last ? "\n" : "");
}

void
replay_step(void *arg, double end, struct results *r)
{
	struct replay *rp = arg;

	rp->steps++;
	if (rp->failed)
		return;
	if (rp->fmt == REPLAY_OPENMETRICS) {
		if (metrics_history_add(rp->history, rp->reg, end) != 0)
			rp->failed = 1;
	} else {
		buf_reset(&rp->rows);
		csv_rows(&rp->rows, end, rp->model, r);
		if (fwrite(rp->rows.data, 1, rp->rows.len, rp->out) !=
		    rp->rows.len)
			rp->failed = 1;
	}
	show_progress(rp, 0);
}

int
replay_finish(struct replay *rp)
{
	int r = rp->failed ? -1 : 0;

	if (rp->history != NULL &&
	    metrics_history_finish(rp->history, rp->reg, rp->out) != 0)
		r = -1;
	if (fflush(rp->out) != 0)
		r = -1;
	show_progress(rp, 1);
	if (r != 0)
		log_error("cannot write the replay's output");
	buf_free(&rp->rows);
	free(rp->model);
	free(rp);
	return r;
}
