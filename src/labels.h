/*
 * labels.h - model performance from ground truth: the join of labels to
 * predictions by request id, and the figures over the labelled window.
 *
 * A prediction with an id waits for its label at most [labels] max_delay
 * (in record time: event time where configured, else arrival) and with at
 * most max_pending others; beyond, the oldest waiting one is dropped.  A
 * label joins the waiting prediction of its id; the pair enters the
 * labelled window (the last [window] size pairs).  Joined ids are
 * remembered as long as their prediction could still have waited, so that
 * a second label for one is told apart (`duplicate`) from a label for an
 * id never seen or given up on (`unknown_id`).
 *
 * Memory: a waiting prediction costs a 48-byte entry (its id known by a
 * 64-bit hash) and its slots of the table, from pools reused, so that a
 * join allocates nothing in steady state; a remembered id 16 bytes and
 * its slots.  Both are bounded by max_pending; the window by [window]
 * size.  Every step is O(1) but the figures, computed over the window
 * when the registry is read.
 */
#ifndef DRIFTD_LABELS_H
#define DRIFTD_LABELS_H

#include "buf.h"
#include "conf.h"
#include "metrics.h"
#include "record.h"
#include "state.h"
#include "tail.h"

struct labels;
struct window;
struct columns;

/* NULL when the configuration neither joins labels nor has a confidence
 * (prediction_expected_accuracy). */
struct labels *labels_create(const struct conf *c);
/* Make the series in `reg`; the expected accuracy is the mean of the
 * `confidence` column of window `w`. */
void labels_attach(struct labels *l, struct metrics_registry *reg,
    struct window *w, struct columns *cs);
void labels_destroy(struct labels *l);

/* Does the configuration join labels at all? */
int labels_joining(const struct labels *l);

/* A prediction record read at time t: waits for its label, or, with the
 * label in the record ([model] label), is joined at once.  A record with a
 * label and no prediction (record_is_label()) is a label for the
 * prediction of its id; a prediction without what the model's kind is
 * judged by (a classifier's class) is not joined, its label counted
 * invalid.
 * Predictions and labels are joined in batches, in the order they were
 * read; whatever reads the join's state (the metrics collector,
 * labels_tick(), labels_save()) takes the batch begun first. */
void labels_prediction(struct labels *l, const struct record *rec, double t);

/* A line of a [labels] log, read at `now` (arrival time). */
enum tail_line_result labels_line(struct labels *l, const char *line,
    size_t len, double now);

/* The clock says `now`: a side whose times are arrival times (no
 * timestamp) moves on to it, and what waited for it longer than
 * max_delay gives up.  Called at each evaluation, so that predictions
 * expire when the labels' log falls silent. */
void labels_tick(struct labels *l, double now);

/*
 * STATE_TAG_JOIN: the waiting predictions, the remembered ids and the
 * labelled window, with the class and segment names they refer to (a
 * checkpoint's STATE_TAG_LABELS, an earlier build's, is read too).
 */
void labels_save(struct labels *l, struct state_writer *w);
int labels_restore(struct labels *l, const struct buf *file);
/* About how large labels_save() writes (bytes). */
size_t labels_checkpoint_bytes(const struct labels *l);

#endif
