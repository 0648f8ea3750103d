/*
 * ingest.c - from lines to records to everything that consumes records.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "change.h"
#include "columns.h"
#include "drift.h"
#include "ingest.h"
#include "labels.h"
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
	struct change *change;   /* [change] detectors, or NULL */
	struct labels *labels;   /* the join of labels, or NULL */
	double *joint_scale;     /* __features__: mean, deviation pairs */
	struct record rec;
	size_t ncols;            /* columns the window and reference know */
	int capturing;
	/* A completed capture not yet saved to state_dir: its bytes, kept
	 * (and in every checkpoint) until a save succeeds. */
	struct buf capture_unsaved;
	int capture_warned;      /* the failed save was logged */
	/* Records after a checkpoint's positions that a capture saved since
	 * already holds: they are not window records. */
	uint64_t capture_skip;
	struct metrics_series *capture_saved;
	int event_time;          /* [model] timestamp is configured */
	double newest_event;
	int reference_in_force;  /* loaded, or captured and finalised */
	/* A replay (ingest_replay()): steps of whole milliseconds, cut in
	 * integers so that a record on an edge falls in the step it
	 * starts; the open step by index */
	int64_t step_ms;         /* 0 when not replaying */
	int64_t step_open;
	int step_is_open;
	ingest_step_cb step_cb;
	void *step_arg;
	uint64_t late;           /* records of a step already closed */
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
		    WINDOW_NUMERIC : c->kind == CONF_VECTOR ? WINDOW_VECTOR :
		    WINDOW_CATEGORICAL);
		rc = g->capturing ? NULL : reference_column(g->reference, i);
		if (rc != NULL && c->kind == CONF_NUMERIC)
			window_set_reference(g->window, i, rc->sorted, rc->n);
		if (rc != NULL && c->kind == CONF_VECTOR)
			window_set_dim(g->window, i, rc->dim);
		if (c->source == COLUMN_DISCOVERED)
			log_info("discovered column %s (%s)", c->name,
			    c->kind == CONF_NUMERIC ? "numeric" : "categorical");
	}
	g->ncols = n;
	if (g->drift != NULL)
		drift_add_columns(g->drift, g->columns);
}

/* __features__'s standardisation: each numeric feature's reference mean
 * and standard deviation (1 where that is 0), as pairs. */
static void
joint_scale(struct ingest *g)
{
	const size_t *joint;
	size_t nj = columns_joint(g->columns, &joint), j;

	free(g->joint_scale);
	g->joint_scale = NULL;
	if (nj == 0)
		return;
	g->joint_scale = xcalloc(2 * nj, sizeof(double));
	for (j = 0; j < nj; j++) {
		const struct reference_column *rc =
		    reference_column(g->reference, joint[j]);

		g->joint_scale[2 * j] = rc != NULL ? rc->mean : 0;
		g->joint_scale[2 * j + 1] = rc != NULL && rc->std > 0 ?
		    rc->std : 1;
	}
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
		if (c->kind == CONF_VECTOR && i < window_columns(g->window))
			window_set_dim(g->window, i, rc->dim);
	}
	joint_scale(g);
	g->reference_in_force = 1;
	if (g->drift != NULL)
		drift_set_reference(g->drift, g->reference);
	change_set_reference(g->change, g->reference, g->columns);
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
set_capture_saved(struct ingest *g, double v)
{
	if (g->capture_saved != NULL)
		metrics_set(g->capture_saved, v);
}

/* Write a completed capture to state_dir, if it is not there yet; a
 * failed write is logged once and tried again at every checkpoint. */
static void
try_save_capture(struct ingest *g)
{
	const char *dir = g->conf->state_dir;
	int r;

	if (g->capture_unsaved.len == 0 || dir[0] == '\0')
		return;
	mkdir(dir, 0700);
	r = state_write_file(dir, INGEST_CAPTURE_FILE, g->capture_unsaved.data,
	    g->capture_unsaved.len);
	if (r != 0) {
		if (!g->capture_warned)
			log_error("%s/%s: cannot save the captured reference: "
			    "%s; it is kept in the checkpoint and saving is "
			    "tried again at every checkpoint", dir,
			    INGEST_CAPTURE_FILE, strerror(-r));
		g->capture_warned = 1;
		return;
	}
	if (g->capture_warned)
		log_info("%s/%s: captured reference saved", dir,
		    INGEST_CAPTURE_FILE);
	g->capture_warned = 0;
	buf_free(&g->capture_unsaved);
	set_capture_saved(g, 1);
}

/* The capture is complete: its bytes name it, and go to state_dir. */
static void
capture_done(struct ingest *g)
{
	g->capturing = 0;
	buf_reset(&g->capture_unsaved);
	reference_serialize(g->reference, g->columns, &g->capture_unsaved);
	reference_set_source(g->reference, "capture", g->capture_unsaved.data,
	    g->capture_unsaved.len);
	/* Without state_dir it stays unsaved, and a reload's snapshot
	 * carries it. */
	try_save_capture(g);
	reference_ready(g);
	log_info("reference captured: %zu records",
	    reference_records(g->reference));
}

static const struct metrics_desc capture_saved_desc = {
	"driftd_reference_capture_saved", METRICS_GAUGE,
	"1 when the captured reference is saved in state_dir; 0 while it is "
	"being captured or could not be saved yet.", { NULL } };

struct ingest *
ingest_load(const struct conf *c, struct buf *err)
{
	struct ingest *g = xcalloc(1, sizeof(*g));

	g->conf = c;
	g->parser = record_parser_create(c);
	if (g->parser == NULL) {
		buf_puts(err, "cannot compile the field paths");
		free(g);
		return NULL;
	}
	g->columns = columns_create(c, g->parser);
	g->labels = labels_create(c);
	g->window = window_create((size_t)c->window_size,
	    (double)c->window_duration_ms / 1000.0);
	g->reference = reference_create();
	reference_set_vector_samples(g->reference, (size_t)c->mmd_samples);
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
ingest_attach(struct ingest *g, struct metrics_registry *reg)
{
	const struct conf *c = g->conf;
	struct metrics_family *f;

	g->model = model_create(c, g->parser, reg);
	columns_bind(g->columns, g->model);
	g->drift = drift_create(c, reg);
	drift_add_columns(g->drift, g->columns);
	g->change = change_create(c, reg);
	labels_attach(g->labels, reg, g->window, g->columns);
	if (g->reference_in_force) {
		drift_set_reference(g->drift, g->reference);
		change_set_reference(g->change, g->reference, g->columns);
	}
	/* Taken even when unused, so that a reload away from capturing
	 * sweeps the gauge. */
	f = metrics_family_get(reg, &capture_saved_desc, NULL, 0);
	if (c->reference_file[0] == '\0' && c->capture > 0 &&
	    c->state_dir[0] != '\0') {
		g->capture_saved = metrics_series_get(f, NULL);
		set_capture_saved(g, !g->capturing &&
		    g->capture_unsaved.len == 0);
	}
}

struct ingest *
ingest_create(const struct conf *c, struct metrics_registry *reg,
    struct buf *err)
{
	struct ingest *g = ingest_load(c, err);

	if (g != NULL)
		ingest_attach(g, reg);
	return g;
}

void
ingest_destroy(struct ingest *g)
{
	if (g == NULL)
		return;
	drift_destroy(g->drift);
	change_destroy(g->change);
	labels_destroy(g->labels);
	model_destroy(g->model);
	buf_free(&g->capture_unsaved);
	reference_destroy(g->reference);
	free(g->joint_scale);
	window_destroy(g->window);
	columns_destroy(g->columns);
	record_parser_destroy(g->parser);
	free(g);
}

/* The record's time: its event time when configured (a record without
 * one counts as the newest so far), else arrival. */
static double
record_time(struct ingest *g)
{
	if (!g->event_time)
		return util_now();
	if (g->rec.timestamp.present && g->rec.timestamp.num > g->newest_event)
		g->newest_event = g->rec.timestamp.num;
	return g->rec.timestamp.present ? g->rec.timestamp.num :
	    isfinite(g->newest_event) ? g->newest_event : util_now();
}

/* A replay's open step is complete: evaluate its window as the daemon
 * would (at the step's end), hand the results on, start the next one
 * empty. */
static void
close_step(struct ingest *g)
{
	double end;

	if (!g->step_is_open)
		return;
	end = (double)((g->step_open + 1) * g->step_ms) / 1000.0;
	drift_begin(g->drift, g->columns, g->window, g->reference, end);
	while (!drift_step(g->drift, 3600))
		;
	g->step_cb(g->step_arg, end, drift_results(g->drift));
	window_clear(g->window);
}

/* A replay cuts records into steps by event time: the step of a record at
 * `t` is opened (the open one closed) if it is a later one; 0 if it has
 * closed already (the record is late, and skipped). */
int
ingest_time_plausible(double ts)
{
	double now = util_now();

	return ts <= now + INGEST_MAX_FUTURE_SECONDS &&
	    ts >= now - INGEST_MAX_PAST_SECONDS;
}

static int
replay_place(struct ingest *g, double t)
{
	int64_t ms = (int64_t)floor(t * 1000.0);
	int64_t s = ms >= 0 ? ms / g->step_ms :
	    -((-ms + g->step_ms - 1) / g->step_ms);

	if (g->step_is_open && s < g->step_open) {
		g->late++;
		return 0;
	}
	if (!g->step_is_open || s > g->step_open) {
		close_step(g);
		g->step_open = s;
		g->step_is_open = 1;
	}
	return 1;
}

void
ingest_replay(struct ingest *g, uint64_t step_ms, ingest_step_cb cb,
    void *arg)
{
	g->step_ms = (int64_t)step_ms;
	g->step_is_open = 0;
	g->step_cb = cb;
	g->step_arg = arg;
}

uint64_t
ingest_replay_end(struct ingest *g)
{
	close_step(g);
	g->step_is_open = 0;
	return g->late;
}

enum tail_line_result
ingest_line(void *arg, const char *line, size_t len)
{
	struct ingest *g = arg;
	const struct column_value *v;
	enum tail_line_result res;
	size_t n, i;
	double t;

	if (!ingest_parsed(record_parse(g->parser, line, len, &g->rec), &res))
		return res;
	/* An event time implausibly far from now (a millisecond epoch, a
	 * typo) would empty every window or keep records forever: it is a
	 * bad value. */
	if (g->event_time && g->rec.timestamp.present) {
		if (!ingest_time_plausible(g->rec.timestamp.num)) {
			g->rec.timestamp.present = 0;
			g->rec.missing[RECORD_TIMESTAMP] = 1;
		}
	}
	if (g->step_ms > 0 && !g->capturing) {
		/* A record without an event time before any with one has no
		 * place in history (it counts as missing its timestamp). */
		if (!g->rec.timestamp.present && !isfinite(g->newest_event))
			return TAIL_LINE_OK;
		t = record_time(g);
		if (!replay_place(g, t))
			return TAIL_LINE_LATE;
	} else {
		t = record_time(g);
	}
	if (record_is_label(&g->rec)) {
		labels_prediction(g->labels, &g->rec, t);
		return TAIL_LINE_OK;
	}
	model_observe(g->model, &g->rec);
	change_observe(g->change, &g->rec, t);
	v = columns_extract(g->columns, g->parser, &g->rec, 1, &n);
	if (n != g->ncols)
		sync_columns(g);
	if (g->capturing) {
		reference_add(g->reference, g->columns, v, n);
		if (reference_records(g->reference) >= g->conf->capture)
			capture_done(g);
	} else if (g->capture_skip > 0) {
		g->capture_skip--;
	} else {
		window_push(g->window, t);
		drift_observe(g->drift, v, n);
		for (i = 0; i < n; i++) {
			if (!v[i].present)
				continue;
			switch (columns_get(g->columns, i)->kind) {
			case CONF_NUMERIC:
				window_set_num(g->window, i, v[i].num);
				break;
			case CONF_CATEGORICAL:
				window_set_cat(g->window, i, v[i].cat);
				break;
			case CONF_VECTOR:
				window_set_vec(g->window, i, v[i].vec, v[i].dim,
				    columns_get(g->columns, i)->source ==
				    COLUMN_JOINT ? g->joint_scale : NULL);
				break;
			}
		}
	}
	labels_prediction(g->labels, &g->rec, t);
	return TAIL_LINE_OK;
}

static double
window_now(const struct ingest *g)
{
	if (g->event_time)
		return isfinite(g->newest_event) ? g->newest_event : -INFINITY;
	return util_now();
}

/* A label without a time of its own is read at the pipeline's now: the
 * newest event time when predictions have one (else the clock). */
enum tail_line_result
ingest_label_line(void *arg, const char *line, size_t len)
{
	struct ingest *g = arg;
	double now = window_now(g);

	return labels_line(g->labels, line, len, isfinite(now) ? now :
	    util_now());
}

void
ingest_begin_evaluation(struct ingest *g)
{
	double now = window_now(g);

	if (isfinite(now)) {
		window_expire(g->window, now);
	}
	labels_tick(g->labels, util_now());
	drift_begin(g->drift, g->columns, g->window, g->reference, util_now());
}

int
ingest_step(struct ingest *g, double budget)
{
	return drift_step(g->drift, budget);
}

size_t
ingest_checkpoint_bytes(const struct ingest *g)
{
	size_t cols = window_columns(g->window), i, dims = 0;

	/* The windows (a vector's floats besides), then the report's
	 * history (drift_save()). */
	for (i = 0; i < cols; i++)
		dims += window_dim(g->window, i);
	return ((size_t)g->conf->window_size + 1) *
	    (8 * (cols + 1) + 4 * dims) +
	    64 * cols + 65536 +
	    cols * ((size_t)g->conf->report_history * 8 + 64) +
	    labels_checkpoint_bytes(g->labels);
}

double
ingest_records(const struct ingest *g)
{
	return model_records(g->model);
}

size_t
ingest_window_records(const struct ingest *g)
{
	return window_records(g->window);
}

struct results *
ingest_results(const struct ingest *g)
{
	return drift_results(g->drift);
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

/* ---------------------------------------------------- window transfer */

/*
 * The capture's part of a checkpoint (STATE_TAG_REFERENCE), for a
 * pipeline that captures its reference: u64 the records captured as of
 * the checkpoint's positions, u32 1 if the values follow, then the values
 * (reference_serialize()) as a byte string.  The values are there until
 * the completed capture is saved in state_dir, which happens before any
 * checkpoint after its completion is written.
 */
static void
save_capture_state(struct ingest *g, struct state_writer *w)
{
	struct buf partial = BUF_INIT;
	const struct buf *values = &g->capture_unsaved;   /* empty once saved */
	uint64_t k = reference_records(g->reference);

	if (g->conf->reference_file[0] != '\0' || g->conf->capture == 0)
		return;
	try_save_capture(g);
	if (g->capturing) {
		reference_serialize(g->reference, g->columns, &partial);
		values = &partial;
	} else {
		k = k > g->capture_skip ? k - g->capture_skip : 0;
	}
	state_begin_section(w, STATE_TAG_REFERENCE);
	state_put_u64(w, k);
	state_put_u32(w, values->len > 0);
	state_put_bytes(w, values->data, values->len);
	state_end_section(w);
	buf_free(&partial);
}

/* Resume a capture from a checkpoint: -EBADMSG if the section is bad. */
static int
restore_capture_state(struct ingest *g, const struct buf *file)
{
	struct state_reader r;
	uint64_t k, len;
	uint32_t with_values;
	const char *values;

	if (g->conf->reference_file[0] != '\0' || g->conf->capture == 0 ||
	    state_section(file, STATE_TAG_REFERENCE, &r) != 0)
		return 0;
	k = state_get_u64(&r);
	with_values = state_get_u32(&r);
	len = state_get_u64(&r);
	values = state_get_bytes(&r, (size_t)len);
	if (r.bad)
		return -EBADMSG;
	if (!g->capturing) {
		/* Captured and saved, but the checkpoint's positions come
		 * before some of the captured records: they will be read
		 * again, and are reference records, not window ones. */
		size_t n = reference_records(g->reference);

		g->capture_skip = k < n ? n - k : 0;
		return 0;
	}
	if (!with_values) {
		if (k > 0)
			log_warn("%s/%s: the captured reference is gone; "
			    "capturing it again from here",
			    g->conf->state_dir, INGEST_CAPTURE_FILE);
		return 0;
	}
	if (reference_deserialize(g->reference, g->columns, values,
	    (size_t)len) != 0)
		return -EBADMSG;
	sync_columns(g);
	if (reference_records(g->reference) >= g->conf->capture)
		capture_done(g);
	else
		log_info("capture resumed at %zu of %llu records",
		    reference_records(g->reference),
		    (unsigned long long)g->conf->capture);
	return 0;
}

static void
save_windows(struct ingest *g, struct state_writer *w)
{
	size_t n = window_slots(g->window), nc = window_columns(g->window);
	size_t c, k;
	void *p;

	/* The window's arrays are copied straight into the checkpoint. */
	state_reserve(w, (n + 1) * 8 * (nc + 1) + 64 * nc);
	state_begin_section(w, STATE_TAG_WINDOWS);
	state_put_u64(w, n);
	p = state_put_raw(w, n * sizeof(double));
	window_times(g->window, p);
	state_le_array(p, n, sizeof(double));
	state_put_u32(w, (uint32_t)nc);
	for (c = 0; c < nc; c++) {
		const struct column *col = columns_get(g->columns, c);

		state_put_bytes(w, col->name, strlen(col->name));
		state_put_u32(w, (uint32_t)col->kind);
		if (col->kind == CONF_NUMERIC) {
			p = state_put_raw(w, n * sizeof(double));
			window_num_slots(g->window, c, p);
			state_le_array(p, n, sizeof(double));
			continue;
		}
		if (col->kind == CONF_VECTOR) {
			size_t dim = window_dim(g->window, c);

			state_put_u32(w, (uint32_t)dim);
			p = state_put_raw(w, n * dim * sizeof(float));
			window_vec_slots(g->window, c, p);
			state_le_array(p, n * dim, sizeof(float));
			continue;
		}
		state_put_u32(w, (uint32_t)col->nlabels);
		for (k = 0; k < col->nlabels; k++)
			state_put_bytes(w, col->labels[k], strlen(col->labels[k]));
		p = state_put_raw(w, n * sizeof(uint32_t));
		window_cat_slots(g->window, c, p);
		state_le_array(p, n, sizeof(uint32_t));
	}
	state_end_section(w);
}

struct restore_col {
	long col;                /* new column, or -1 to drop */
	enum conf_column_kind kind;
	const unsigned char *values;   /* start of the per-record values */
	uint32_t *map;           /* categorical: saved id -> new id */
	uint32_t nlabels;
	uint32_t dim;            /* vector */
};

/* Record i's vector of a saved column, if the column keeps vectors of
 * that dimension now (they are standardised already: no scale). */
static void
restore_vector(struct ingest *g, const struct restore_col *rc, uint64_t i)
{
	const unsigned char *p = rc->values + (size_t)i * rc->dim * 4;
	double *v;
	uint32_t k;

	if (rc->dim == 0 || window_dim(g->window, (size_t)rc->col) != rc->dim)
		return;
	v = xcalloc(rc->dim, sizeof(double));
	for (k = 0; k < rc->dim; k++) {
		uint32_t bits = (uint32_t)state_le(p + 4 * k, 4);
		float f;

		memcpy(&f, &bits, sizeof(f));
		v[k] = f;
	}
	if (!isnan(v[0]))
		window_set_vec(g->window, (size_t)rc->col, v, rc->dim, NULL);
	free(v);
}

static long
restore_windows(struct ingest *g, const struct buf *file)
{
	struct state_reader r;
	struct restore_col *rc = NULL;
	uint64_t n, i;
	uint32_t nc, c, k;
	const unsigned char *times;
	long restored = -EBADMSG;

	if (state_section(file, STATE_TAG_WINDOWS, &r) != 0)
		return 0;
	n = state_get_u64(&r);
	if (r.bad || n > WINDOW_MAX_SIZE)
		return -EBADMSG;
	times = state_get_bytes(&r, (size_t)n * 8);
	nc = state_get_u32(&r);
	if (r.bad || nc > CONF_MAX_FEATURES + 2)
		return -EBADMSG;
	rc = xcalloc(nc + 1, sizeof(*rc));
	/* First the columns: find (or discover) each, and map categories. */
	for (c = 0; c < nc && !r.bad; c++) {
		size_t len;
		const char *name = state_get_string(&r, &len);
		uint32_t kind = state_get_u32(&r);
		long col;

		if (name == NULL || kind > CONF_VECTOR) {
			r.bad = 1;
			break;
		}
		col = columns_find(g->columns, name, len);
		if (col < 0 && kind != CONF_VECTOR) {
			char *tmp = xstrndup(name, len);

			col = columns_add_discovered(g->columns, tmp,
			    (enum conf_column_kind)kind);
			free(tmp);
		}
		if (col >= 0 && columns_get(g->columns, (size_t)col)->kind !=
		    (enum conf_column_kind)kind)
			col = -1;        /* same name, other kind: start afresh */
		rc[c].col = col;
		rc[c].kind = (enum conf_column_kind)kind;
		if (kind == CONF_NUMERIC) {
			rc[c].values = state_get_bytes(&r, (size_t)n * 8);
			continue;
		}
		if (kind == CONF_VECTOR) {
			rc[c].dim = state_get_u32(&r);
			if (rc[c].dim > CONF_MAX_VECTOR_DIM) {
				r.bad = 1;
				break;
			}
			rc[c].values = state_get_bytes(&r,
			    (size_t)n * rc[c].dim * 4);
			continue;
		}
		rc[c].nlabels = state_get_u32(&r);
		if (rc[c].nlabels > STATE_MAX_ENTRIES) {
			r.bad = 1;
			break;
		}
		rc[c].map = xcalloc(rc[c].nlabels + 1, sizeof(uint32_t));
		for (k = 0; k < rc[c].nlabels && !r.bad; k++) {
			const char *l = state_get_string(&r, &len);

			if (l != NULL && col >= 0)
				rc[c].map[k] = columns_category(g->columns,
				    (size_t)col, l, len);
		}
		rc[c].values = state_get_bytes(&r, (size_t)n * 4);
	}
	if (r.bad)
		goto out;
	sync_columns(g);
	/* Then the records, oldest first, as if they had just been read. */
	for (i = 0; i < n; i++) {
		double t = state_le_double(times + 8 * i);

		if (isnan(t))
			continue;        /* expired out of order */
		window_push(g->window, t);
		for (c = 0; c < nc; c++) {
			if (rc[c].col < 0)
				continue;
			if (rc[c].kind == CONF_NUMERIC) {
				double v = state_le_double(rc[c].values + 8 * i);

				/* As from a log: only finite values. */
				if (isfinite(v))
					window_set_num(g->window, (size_t)rc[c].col, v);
			} else if (rc[c].kind == CONF_VECTOR) {
				restore_vector(g, &rc[c], i);
			} else {
				uint32_t id = (uint32_t)state_le(rc[c].values + 4 * i, 4);

				if (id != WINDOW_MISSING && id < rc[c].nlabels)
					window_set_cat(g->window, (size_t)rc[c].col,
					    rc[c].map[id]);
			}
		}
		if (g->event_time && t > g->newest_event)
			g->newest_event = t;
	}
	restored = (long)n;
out:
	for (c = 0; c < nc; c++)
		free(rc[c].map);
	free(rc);
	return restored;
}

void
ingest_save(struct ingest *g, struct state_writer *w)
{
	save_capture_state(g, w);
	save_windows(g, w);
	drift_save(g->drift, g->columns, w);
	change_save(g->change, w);
	labels_save(g->labels, w);
}

long
ingest_restore(struct ingest *g, const struct buf *file)
{
	long n;

	if (restore_capture_state(g, file) != 0)
		log_warn("checkpoint: the reference capture's section is "
		    "unreadable; capturing from here");
	n = restore_windows(g, file);
	if (n >= 0 && drift_restore(g->drift, g->columns, file) != 0)
		log_warn("checkpoint: the report's history is unreadable; it "
		    "starts again");
	if (n >= 0 && change_restore(g->change, file) != 0)
		log_warn("checkpoint: the change detectors' section is "
		    "unreadable; they start again");
	if (n >= 0 && labels_restore(g->labels, file) != 0)
		log_warn("checkpoint: the labels' section is unreadable; the "
		    "join and the labelled window start again");
	/* A section that failed partway may have found columns: they are
	 * the window's and the evaluator's too. */
	sync_columns(g);
	return n;
}

void
ingest_snapshot(struct ingest *g, struct state_writer *w)
{
	state_writer_init(w);
	ingest_save(g, w);
	state_finish(w);
}
