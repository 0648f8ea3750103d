/*
 * ingest.c - from lines to records to everything that consumes records.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "columns.h"
#include "drift.h"
#include "ingest.h"
#include "log.h"
#include "model.h"
#include "record.h"
#include "reference.h"
#include "state.h"
#include "util.h"
#include "window.h"

struct ingest {
	const struct conf *conf;
	struct record_parser *parser;
	struct model *model;
	struct columns *columns;
	struct window *window;
	struct reference *reference;
	struct drift *drift;
	struct record rec;
	size_t ncols;            /* columns the window and reference know */
	int capturing;
	int event_time;          /* [model] timestamp is configured */
	double newest_event;
};

/* Give the window (and the drift evaluator) columns added since last time. */
static void
sync_columns(struct ingest *g)
{
	size_t n = columns_count(g->columns), i;

	if (n == g->ncols)
		return;
	if (!g->capturing)
		reference_finalize(g->reference, g->columns);
	for (i = g->ncols; i < n; i++) {
		const struct column *c = columns_get(g->columns, i);
		const struct reference_column *rc;

		window_add_column(g->window, c->kind == CONF_NUMERIC ?
		    WINDOW_NUMERIC : WINDOW_CATEGORICAL);
		rc = g->capturing ? NULL : reference_column(g->reference, i);
		if (rc != NULL && c->kind == CONF_NUMERIC)
			window_set_reference(g->window, i, rc->sorted, rc->n);
		if (c->source == COLUMN_DISCOVERED)
			log_info("discovered column %s (%s)", c->name,
			    c->kind == CONF_NUMERIC ? "numeric" : "categorical");
	}
	g->ncols = n;
}

/* The reference is complete: precompute it and code the windows. */
static void
reference_ready(struct ingest *g)
{
	size_t i, n = columns_count(g->columns);

	reference_finalize(g->reference, g->columns);
	for (i = 0; i < n; i++) {
		const struct column *c = columns_get(g->columns, i);
		const struct reference_column *rc = reference_column(g->reference, i);

		if (rc == NULL) {
			log_warn("column %s has no reference values; it is not "
			    "tested", c->name);
			continue;
		}
		if (c->kind == CONF_NUMERIC && i < window_columns(g->window))
			window_set_reference(g->window, i, rc->sorted, rc->n);
	}
	drift_set_reference(g->drift, g->reference);
}

static int
load_capture(struct ingest *g)
{
	struct buf b = BUF_INIT;
	int r;

	if (g->conf->state_dir[0] == '\0')
		return -ENOENT;
	r = state_read_file(g->conf->state_dir, INGEST_CAPTURE_FILE, &b);
	if (r == 0) {
		r = reference_deserialize(g->reference, g->columns, b.data, b.len);
		if (r == 0)
			reference_set_source(g->reference, "capture", b.data, b.len);
		else
			log_warn("%s/%s: not a valid captured reference; "
			    "capturing again", g->conf->state_dir,
			    INGEST_CAPTURE_FILE);
	}
	buf_free(&b);
	return r;
}

static void
save_capture(struct ingest *g)
{
	struct buf b = BUF_INIT;
	int r;

	reference_serialize(g->reference, g->columns, &b);
	reference_set_source(g->reference, "capture", b.data, b.len);
	if (g->conf->state_dir[0] != '\0') {
		mkdir(g->conf->state_dir, 0700);
		r = state_write_file(g->conf->state_dir, INGEST_CAPTURE_FILE,
		    b.data, b.len);
		if (r != 0)
			log_error("%s/%s: cannot save the captured reference: %s",
			    g->conf->state_dir, INGEST_CAPTURE_FILE, strerror(-r));
	}
	buf_free(&b);
}

struct ingest *
ingest_create(const struct conf *c, struct metrics_registry *reg,
    struct buf *err)
{
	struct ingest *g = xcalloc(1, sizeof(*g));

	g->conf = c;
	g->parser = record_parser_create(c);
	if (g->parser == NULL) {
		buf_puts(err, "cannot compile the field paths");
		free(g);
		return NULL;
	}
	g->model = model_create(c, g->parser, reg);
	g->columns = columns_create(c, g->parser, g->model);
	g->window = window_create((size_t)c->window_size,
	    (double)c->window_duration_ms / 1000.0);
	g->reference = reference_create();
	g->drift = drift_create(c, reg);
	g->event_time = c->timestamp_path[0] != '\0';
	g->newest_event = -INFINITY;

	if (c->reference_file[0] != '\0') {
		struct buf msg = BUF_INIT;
		int r = reference_load(g->reference, c->reference_file, c,
		    g->columns, g->parser, &msg);

		if (r != 0) {
			buf_append(err, msg.data, msg.len);
			buf_free(&msg);
			ingest_destroy(g);
			return NULL;
		}
		if (msg.len > 0)
			log_warn("%s", msg.data);
		buf_free(&msg);
		log_info("reference %s: %zu records", c->reference_file,
		    reference_records(g->reference));
	} else if (c->capture > 0) {
		if (load_capture(g) == 0) {
			log_info("reference: %zu records captured earlier",
			    reference_records(g->reference));
		} else {
			g->capturing = 1;
			log_info("capturing the first %llu records as the "
			    "reference", (unsigned long long)c->capture);
		}
	}
	sync_columns(g);
	if (!g->capturing && (c->reference_file[0] != '\0' || c->capture > 0))
		reference_ready(g);
	return g;
}

void
ingest_destroy(struct ingest *g)
{
	if (g == NULL)
		return;
	drift_destroy(g->drift);
	reference_destroy(g->reference);
	window_destroy(g->window);
	columns_destroy(g->columns);
	model_destroy(g->model);
	record_parser_destroy(g->parser);
	free(g);
}

enum tail_line_result
ingest_line(void *arg, const char *line, size_t len)
{
	struct ingest *g = arg;
	const struct column_value *v;
	size_t n, i;
	double t;

	switch (record_parse(g->parser, line, len, &g->rec)) {
	case RECORD_BAD_JSON:
		return TAIL_LINE_BAD_JSON;
	case RECORD_SKIP:
		return TAIL_LINE_OK;
	case RECORD_OK:
		break;
	}
	model_observe(g->model, &g->rec);
	v = columns_extract(g->columns, g->parser, &g->rec, 1, &n);
	if (n != g->ncols)
		sync_columns(g);
	if (g->capturing) {
		reference_add(g->reference, g->columns, v, n);
		if (reference_records(g->reference) >= g->conf->capture) {
			g->capturing = 0;
			save_capture(g);
			reference_ready(g);
			log_info("reference captured: %zu records",
			    reference_records(g->reference));
		}
		return TAIL_LINE_OK;
	}
	/* The record's time: its event time when configured (a record
	 * without one counts as the newest so far), else arrival. */
	if (g->event_time) {
		if (g->rec.timestamp.present && g->rec.timestamp.num > g->newest_event)
			g->newest_event = g->rec.timestamp.num;
		t = g->rec.timestamp.present ? g->rec.timestamp.num :
		    isfinite(g->newest_event) ? g->newest_event : util_now();
	} else {
		t = util_now();
	}
	window_push(g->window, t);
	for (i = 0; i < n; i++) {
		if (!v[i].present)
			continue;
		if (columns_get(g->columns, i)->kind == CONF_NUMERIC)
			window_set_num(g->window, i, v[i].num);
		else
			window_set_cat(g->window, i, v[i].cat);
	}
	return TAIL_LINE_OK;
}

static double
window_now(const struct ingest *g)
{
	if (g->event_time)
		return isfinite(g->newest_event) ? g->newest_event : -INFINITY;
	return util_now();
}

void
ingest_begin_evaluation(struct ingest *g)
{
	double now = window_now(g);

	if (isfinite(now))
		window_expire(g->window, now);
	drift_begin(g->drift, g->columns, g->window, g->reference, util_now());
}

int
ingest_step(struct ingest *g, double budget)
{
	return drift_step(g->drift, budget);
}

int
ingest_evaluating(const struct ingest *g)
{
	return drift_busy(g->drift);
}

void
ingest_evaluate(struct ingest *g)
{
	ingest_begin_evaluation(g);
	while (!ingest_step(g, 3600))
		;
}
