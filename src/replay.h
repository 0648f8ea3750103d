/*
 * replay.h - `driftd --once --step`: logs replayed as a drift time series.
 *
 * ingest cuts the records into steps of event time and evaluates each
 * step's window (ingest_replay()); this module writes what each step
 * found, as it comes, in one of two formats:
 *
 *   openmetrics  every prediction_* series, one sample per step stamped
 *                with the step's end, in OpenMetrics text ending in
 *                "# EOF" (for promtool tsdb create-blocks-from
 *                openmetrics);
 *   csv          a header, then per step a row per column and test and
 *                one for the dataset (PostgreSQL's COPY ... (FORMAT csv,
 *                HEADER true)).
 *
 * Memory stays bounded however long the replay: CSV rows are written as
 * each step closes, OpenMetrics samples go to a temporary file per family
 * (metrics_history_add()) and are put together at the end.
 */
#ifndef DRIFTD_REPLAY_H
#define DRIFTD_REPLAY_H

#include <stdio.h>

#include "buf.h"
#include "metrics.h"
#include "results.h"

enum replay_format {
	REPLAY_OPENMETRICS,
	REPLAY_CSV,
};

#define REPLAY_CSV_HEADER "time,model,column,test,window_samples," \
	"reference_samples,missing_ratio,mean,stddev,score,pvalue,threshold," \
	"drift_detected\n"
#define REPLAY_DATASET_COLUMN "__dataset__"

/* "openmetrics" or "csv": 0, or -1. */
int replay_parse_format(const char *s, enum replay_format *out);

struct replay;

struct ingest;

/* A writer to `out` (kept open by the caller) of the steps of `model`,
 * whose series are in `reg`.  With `progress`, a line on stderr says how
 * far the replay has come, about once a second. */
struct replay *replay_create(enum replay_format fmt, FILE *out,
    struct metrics_registry *reg, const char *model,
    const struct ingest *g, int progress);
/* An ingest_step_cb: write the step that ended at `end`. */
void replay_step(void *arg, double end, struct results *r);
/* Finish the output and free the writer: 0, or -1 if it could not be
 * written (said). */
int replay_finish(struct replay *rp);

#endif
