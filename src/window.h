/*
 * window.h - rolling windows of the most recent records, per column.
 *
 * A window is a ring of the last `size` accepted records, optionally also
 * bounded by age.  Every column keeps one value per record slot: a double
 * for numeric columns (NaN when the record had no valid value), a category
 * id for categorical ones (WINDOW_MISSING when none), `dim` single-precision
 * numbers for vector ones (an embedding: float32 is what models make, and
 * half the memory of doubles).  So memory is size x columns values (dim
 * each for vectors), whatever the input.
 *
 * For a numeric column whose reference is known, each value also carries a
 * code locating it among the sorted reference values (how many of them are
 * <= it, and whether it equals the last of those), so that an evaluation
 * needs no sort of the window: O(size + reference), see stats_gaps.c.
 * Codes are made lazily, by the evaluation that needs them, for the values
 * pushed since the last one and still in the window: a value evicted
 * before any evaluation is never coded, so a backlog costs no search of
 * the reference per record.
 *
 * Ownership: the window copies nothing it is given but the values; a
 * reference array passed to window_set_reference() must stay valid until
 * it is replaced or the column's reference is cleared.
 */
#ifndef DRIFTD_WINDOW_H
#define DRIFTD_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"

#define WINDOW_MISSING UINT32_MAX
#define WINDOW_MAX_SIZE 10000000

enum window_kind {
	WINDOW_NUMERIC,
	WINDOW_CATEGORICAL,
	WINDOW_VECTOR,
};

struct window;

/* `size` records at most; older than `max_age` seconds (0: no bound)
 * relative to the newest record's time are evicted. */
struct window *window_create(size_t size, double max_age);
void window_destroy(struct window *w);

/* Add a column; records already in the window have no value for it. */
size_t window_add_column(struct window *w, enum window_kind kind);
size_t window_columns(const struct window *w);

/*
 * Give a numeric column its sorted reference (NULL, 0 to clear), and code
 * every value already in the window against it.
 */
void window_set_reference(struct window *w, size_t col, const double *sorted,
    size_t n);

/*
 * Start a record with time `t` (seconds), evicting what no longer fits.
 * Until the next call, window_set_*() fill in this record's values; a
 * column not set is missing for it.
 */
void window_push(struct window *w, double t);
void window_set_num(struct window *w, size_t col, double v);
void window_set_cat(struct window *w, size_t col, uint32_t id);
/* A vector of the column's dimension (others are ignored), stored in
 * single precision; `scale` (or NULL) standardises it first: each x[i]
 * becomes (x[i] - scale[2i]) / scale[2i + 1]. */
void window_set_vec(struct window *w, size_t col, const double *v,
    size_t dim, const double *scale);

/* A vector column's dimension: its values are dropped and it keeps
 * `dim` numbers a record from now on (0: none). */
void window_set_dim(struct window *w, size_t col, size_t dim);
size_t window_dim(const struct window *w, size_t col);
/* The newest `max` vectors of a vector column (as doubles, row after
 * row, oldest first); returns how many. */
size_t window_vectors(const struct window *w, size_t col, size_t max,
    double *out);

/* Evict records older than max_age before `now` (seconds), wherever
 * they are: records that came out of order too.  O(records). */
void window_expire(struct window *w, double now);
/* Empty the window (a replay's next step). */
void window_clear(struct window *w);

/* Records in the window, and those with a valid value in `col`. */
size_t window_records(const struct window *w);
size_t window_valid(const struct window *w, size_t col);

/* Copy a numeric column's valid values, oldest first; returns how many. */
size_t window_values(const struct window *w, size_t col, double *out);

/*
 * A numeric column's slots as they lie in the ring, oldest first: up to
 * two runs of values and their gap codes among the reference values (see
 * stats_gap_code(); STATS_NO_GAP where a record has no value).  Returns
 * the number of runs, 0 when the column has no codes (no reference).  The
 * runs are valid until the next push.
 */
size_t window_runs(struct window *w, size_t col, struct stats_run runs[2]);

/* Counts per category id of a categorical column; *n gets the number of
 * ids (the array is valid until the next push). */
const uint32_t *window_category_counts(const struct window *w, size_t col,
    size_t *n);

/* Slots in use, in arrival order: the records, and those expired out of
 * order that are not the oldest yet (their time is NaN and they have no
 * values).  The functions below index slots, 0 the oldest. */
size_t window_slots(const struct window *w);
/* The slots' record times, oldest first (for checkpoints); returns how
 * many. */
size_t window_times(const struct window *w, void *out);
/* Every slot's raw value of a numeric (NaN: none) or categorical
 * (WINDOW_MISSING: none) column, oldest first, into `out` (room for
 * window_slots() of them), for checkpoints. */
void window_num_slots(const struct window *w, size_t col, void *out);
void window_cat_slots(const struct window *w, size_t col, void *out);
/* A vector column's slots: dim floats each, NaN first for none. */
void window_vec_slots(const struct window *w, size_t col, void *out);

#endif
