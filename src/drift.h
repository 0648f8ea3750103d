/*
 * drift.h - evaluate windows against references and publish the results.
 *
 * An evaluation runs the configured tests (and the deciding one) on every
 * column whose window and reference both hold min_samples values, applies
 * the multiple-testing correction over the feature columns, decides drift
 * per column and for the dataset, and only then updates the metrics, so a
 * scrape always sees one complete evaluation.
 *
 * The work is done a column at a time (drift_begin, then drift_step until
 * it returns 1, with a budget of time per call), so that the event loop
 * can keep reading logs and answering scrapes in between.
 */
#ifndef DRIFTD_DRIFT_H
#define DRIFTD_DRIFT_H

#include "columns.h"
#include "conf.h"
#include "metrics.h"
#include "reference.h"
#include "results.h"
#include "state.h"
#include "window.h"

struct drift;

/*
 * The series are the registry's: drift_destroy() leaves them there.  An
 * evaluator created again at a reload takes over what its predecessor of
 * the same model published for the columns it has (drift_add_columns()),
 * which stays in place, event counts going on, until it publishes; the
 * reload's metrics_sweep() removes the rest at once.
 */
struct drift *drift_create(const struct conf *c, struct metrics_registry *reg);
void drift_destroy(struct drift *d);

/* Columns of `cs` added since the last call: the evaluator takes over
 * their series, if a predecessor left any. */
void drift_add_columns(struct drift *d, struct columns *cs);

/* The report's history (and the last dataset verdict) as a checkpoint
 * section, and back from one: by column name, into columns of `cs`.
 * drift_restore() returns 0, or -EBADMSG. */
void drift_save(const struct drift *d, const struct columns *cs,
    struct state_writer *w);
int drift_restore(struct drift *d, struct columns *cs, const struct buf *file);

/* With [drift] export_bins, count one record's values in their bins
 * (prediction_bin_observations_total); nothing before a reference is in
 * force. */
void drift_observe(struct drift *d, const struct column_value *v, size_t n);

/* Say which reference is in force (prediction_reference_info). */
void drift_set_reference(struct drift *d, const struct reference *r);

/* The last evaluation's results, or NULL before the first; borrowed:
 * results_ref() it to keep it past the next evaluation. */
struct results *drift_results(const struct drift *d);

/* Start an evaluation at wall-clock time `now` (seconds). */
void drift_begin(struct drift *d, struct columns *cs, struct window *w,
    const struct reference *r, double now);
/* Evaluate columns for up to `budget` seconds; 1 when the evaluation is
 * complete and published, 0 when more remains. */
int drift_step(struct drift *d, double budget);
/* Is an evaluation under way? */
int drift_busy(const struct drift *d);

#endif
