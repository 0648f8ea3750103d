/*
 * model.h - the per-record metrics of one model.
 *
 * Every accepted record passes through model_observe(), which counts it,
 * its class (capped at max_classes, the rest as "__other__"), observes the
 * confidence, value and latency histograms, and counts missing fields.
 * Nothing here keeps history: that is the windows' job.
 *
 * Ownership: the model makes its series in the registry it is given,
 * which owns them; model_destroy() leaves them there.  A model created
 * again at a reload takes over the series of its name (the counters go
 * on, classes too, within max_classes); the reload's metrics_sweep()
 * removes the rest.  The registry must outlive the model.
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

/* Count the reserved fields of a record (features are counted by their
 * columns). */
void model_observe(struct model *m, const struct record *r);

/* prediction_records_total of this model. */
double model_records(const struct model *m);

/* The missing-values counter of a feature column, created at zero. */
struct metrics_series *model_missing_series(struct model *m, const char *feature);
/* The counter of discovered members skipped for `reason`, made on first
 * use. */
struct metrics_series *model_skipped_series(struct model *m, const char *reason);

#endif
