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
#include "window.h"

struct drift;

struct drift *drift_create(const struct conf *c, struct metrics_registry *reg);
/* Removes the series this evaluator made. */
void drift_destroy(struct drift *d);

/*
 * Across a reload: drift_mark() the old evaluator's series and
 * drift_release() it (its series stay, with their last values); the new
 * one takes over those it publishes again, event counts going on, and its
 * first publication removes the rest.
 */
void drift_mark(struct drift *d);
void drift_release(struct drift *d);
/* Right after a reload: remove at once the series of another model, of
 * columns that are no more, and of a reference no longer in force. */
void drift_forget_columns(struct drift *d, const struct columns *cs);

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
