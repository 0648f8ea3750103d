/*
 * model.h - the per-record metrics of one model.
 *
 * Every accepted record passes through model_observe(), which counts it,
 * its class (capped at max_classes, the rest as "__other__"), observes the
 * confidence, value and latency histograms, and counts missing fields.
 * Nothing here keeps history: that is the windows' job.
 *
 * Ownership: the model creates its series in the registry it is given and
 * removes them in model_destroy(); across a reload they pass to the next
 * model (model_mark() and the rest below), which leaves no stale series
 * behind.  The registry must outlive the model.
 */
#ifndef DRIFTD_MODEL_H
#define DRIFTD_MODEL_H

#include "conf.h"
#include "metrics.h"
#include "record.h"

#define MODEL_OTHER_CLASS "__other__"

struct model;

struct model *model_create(const struct conf *c, const struct record_parser *rp,
    struct metrics_registry *reg);
void model_destroy(struct model *m);

/*
 * A reload keeps the counters going: model_mark() the old model's series,
 * model_release() it (its series stay), create the new one (it takes the
 * series of its own name it still has a use for), then model_sweep() the
 * new one to remove the rest.
 */
void model_mark(struct model *m);
void model_release(struct model *m);
void model_sweep(struct model *m);

/* Count the reserved fields of a record (features are counted by their
 * columns). */
void model_observe(struct model *m, const struct record *r);

/* The missing-values counter of a feature column, created at zero. */
struct metrics_series *model_missing_series(struct model *m, const char *feature);
/* The counter of discovered members skipped for `reason`, made on first
 * use. */
struct metrics_series *model_skipped_series(struct model *m, const char *reason);

#endif
