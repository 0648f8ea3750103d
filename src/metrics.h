/*
 * metrics.h - the metrics registry and its exposition.
 *
 * Every module describes its metric families in a table of struct
 * metrics_desc and registers them once.  A family holds series, one per
 * combination of label values; a module asks for a series once and keeps the
 * pointer, so that counting a record is an addition, not a lookup.
 *
 * The registry renders the Prometheus text format 0.0.4 or OpenMetrics
 * 1.0.0.  Label values are escaped when the series is created, so rendering
 * only copies bytes and formats numbers.  Families without series are not
 * rendered.
 *
 * Ownership: the registry owns families and series.  A series pointer stays
 * valid until metrics_series_remove() or metrics_family_clear() on its
 * family, or until the registry is destroyed.  Strings passed in are copied.
 */
#ifndef DRIFTD_METRICS_H
#define DRIFTD_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"

#define METRICS_MAX_LABELS  4
/* Bound on the bytes of all label values of one series (before escaping). */
#define METRICS_MAX_LABEL_BYTES 4096

enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
};

enum metrics_format {
	METRICS_FORMAT_TEXT,          /* text/plain; version=0.0.4 */
	METRICS_FORMAT_OPENMETRICS,   /* application/openmetrics-text; version=1.0.0 */
};

struct metrics_desc {
	const char *name;
	enum metrics_type type;
	const char *help;
	const char *labels[METRICS_MAX_LABELS + 1];   /* NULL-terminated */
};

struct metrics_registry;
struct metrics_family;
struct metrics_series;

/* Called at the start of every render so that a module can refresh values
 * it computes on demand (the process collector, log lag). */
typedef void (*metrics_collect_cb)(void *arg);

struct metrics_registry *metrics_create(void);
void metrics_destroy(struct metrics_registry *r);

/*
 * Register a family.  `desc` must stay valid for the registry's lifetime
 * (it is normally a static table row).  For histograms, `bounds` are the
 * upper bounds in increasing order without +Inf; `nbounds` may be 0 for
 * other types.  Returns NULL if the name is already registered.
 */
struct metrics_family *metrics_family_add(struct metrics_registry *r,
    const struct metrics_desc *desc, const double *bounds, size_t nbounds);

/*
 * A reload hands series from the owners it replaces to their successors:
 * metrics_mark() starts a generation; a new owner takes its families with
 * metrics_family_get() and the series it keeps using with
 * metrics_series_get() or metrics_series_find(); metrics_sweep() then
 * removes, in every family taken since the mark, each series nobody took.
 * Families nobody took belong to owners that stayed, and are left alone.
 */
void metrics_mark(struct metrics_registry *r);
void metrics_sweep(struct metrics_registry *r);

/* Give a histogram family new bucket bounds; when they differ, its series
 * are removed (their counts fit the old buckets only).  1 if they were. */
int metrics_family_set_bounds(struct metrics_family *f, const double *bounds,
    size_t nbounds);

/* The family registered under desc->name, added (with these bounds) if
 * there is none yet, and taken (see metrics_mark()): what a module that
 * may be created again, at a reload, calls. */
struct metrics_family *metrics_family_get(struct metrics_registry *r,
    const struct metrics_desc *desc, const double *bounds, size_t nbounds);

/* The family registered under `name`, or NULL. */
struct metrics_family *metrics_family_find(struct metrics_registry *r,
    const char *name);

/* Register each row of a table; families[i] receives row i. */
void metrics_family_add_table(struct metrics_registry *r,
    const struct metrics_desc *descs, size_t n, struct metrics_family **families);

/*
 * Find or create the series with these label values (one per label of the
 * family, in order).  Values must be valid UTF-8; they are escaped here.
 * Returns NULL only if the label values are longer than
 * METRICS_MAX_LABEL_BYTES together.
 */
struct metrics_series *metrics_series_get(struct metrics_family *f,
    const char *const *values);
/* The same, but only an existing series (taken), or NULL: how a new owner
 * takes over what its predecessor left, without making anything. */
struct metrics_series *metrics_series_find(struct metrics_family *f,
    const char *const *values);
/* Number of series in the family. */
size_t metrics_family_size(const struct metrics_family *f);
/* Remove one series (the pointer becomes invalid) or all of them. */
void metrics_series_remove(struct metrics_series *s);
void metrics_family_clear(struct metrics_family *f);

/*
 * Setting, adding to, observing and removing a NULL series (one
 * metrics_series_get() refused) do nothing, and its value is NaN: a value
 * that cannot be labelled is not exported, and never crashes the daemon.
 * Inputs are bounded well below the label limit where they enter, so this
 * is the last line, not the first.
 */
void metrics_set(struct metrics_series *s, double v);
void metrics_add(struct metrics_series *s, double v);
double metrics_value(const struct metrics_series *s);
/* Count one observation in a histogram series. */
void metrics_observe(struct metrics_series *s, double v);

void metrics_on_collect(struct metrics_registry *r, metrics_collect_cb cb,
    void *arg);
/* Undo metrics_on_collect(), before `arg` goes away. */
void metrics_remove_collect(struct metrics_registry *r, metrics_collect_cb cb,
    void *arg);

/* Run the collectors, then append the exposition of every family to
 * `out`. */
void metrics_render(struct metrics_registry *r, enum metrics_format fmt,
    struct buf *out);
/* The same with the values as the last metrics_collect() left them. */
void metrics_render_collected(struct metrics_registry *r,
    enum metrics_format fmt, struct buf *out);
/* A number that changes whenever anything a rendering shows changes: a
 * rendering may be reused while it stays the same. */
uint64_t metrics_generation(const struct metrics_registry *r);

/*
 * Reading the registry (for the landing page and /status): the series of a
 * family in creation order, their label values and values.  Call
 * metrics_collect() first for values computed on demand.
 */
const struct metrics_series *metrics_family_first(const struct metrics_family *f);
const struct metrics_series *metrics_series_next(const struct metrics_series *s);
/* Label value i (in the family's label order), or NULL. */
const char *metrics_series_label(const struct metrics_series *s, size_t i);
void metrics_collect(struct metrics_registry *r);

/*
 * The registry at successive times as one OpenMetrics exposition with
 * timestamps (a backfill for promtool tsdb create-blocks-from
 * openmetrics).  metrics_history_add() appends every sample of the
 * families whose name starts with `prefix`, stamped `t` (seconds), each
 * family to a temporary file of its own, so that a family's samples end
 * up together in bounded memory; metrics_history_finish() writes the
 * families in registry order, each after its HELP and TYPE, then "# EOF",
 * and frees the writer.  0, or -1 when a file could not be written.
 */
struct metrics_history;
struct metrics_history *metrics_history_create(const char *prefix);
int metrics_history_add(struct metrics_history *h, struct metrics_registry *r,
    double t);
int metrics_history_finish(struct metrics_history *h, struct metrics_registry *r,
    FILE *out);

/* Escape a label value as both formats require (\\, \" and \n). */
void metrics_escape_label(struct buf *out, const char *s, size_t len);

#endif
