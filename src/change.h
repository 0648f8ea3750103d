/*
 * change.h - change detection per record: Page-Hinkley and CUSUM.
 *
 * The [change] columns each get a detector that every accepted record
 * updates in O(1), in log order: a numeric feature's value, the
 * confidence, a regression model's value or the latency (missing and
 * non-finite values are skipped).  Page-Hinkley follows river's
 * definition and defaults; CUSUM is Page's two-sided tabular form in
 * units of the reference's standard deviation of the column (it waits for
 * the reference).  driftd.conf(5) [change] has the formulas.
 *
 * Series: prediction_change_statistic{model,column,method,direction},
 * prediction_change_events_total{...} and
 * prediction_change_last_timestamp_seconds{model,column,method}.  The
 * detectors' state goes into the checkpoint with the windows
 * (STATE_TAG_CHANGE), so a restart continues the same statistic.
 */
#ifndef DRIFTD_CHANGE_H
#define DRIFTD_CHANGE_H

#include "buf.h"
#include "columns.h"
#include "conf.h"
#include "metrics.h"
#include "record.h"
#include "reference.h"
#include "state.h"

struct change;

/* The detectors of c's [change] columns (none: NULL), with their series
 * in `reg` (taking over a predecessor's at a reload). */
struct change *change_create(const struct conf *c, struct metrics_registry *reg);
void change_destroy(struct change *ch);

/* The reference in force: CUSUM's mean and deviation per column. */
void change_set_reference(struct change *ch, const struct reference *r,
    struct columns *cs);

/* One accepted record, at time `t` (its event time, or arrival). */
void change_observe(struct change *ch, const struct record *rec, double t);

/* The detectors' state as a checkpoint section, and back (by column and
 * method; others are left as they are).  change_restore() returns 0 or
 * -EBADMSG. */
void change_save(struct change *ch, struct state_writer *w);
int change_restore(struct change *ch, const struct buf *file);

#endif
