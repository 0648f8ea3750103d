/*
 * ingest.h - from lines to records to everything that consumes records.
 *
 * ingest owns the model's pipeline: the record parser, the per-record
 * metrics, the columns, the windows, the reference and the drift
 * evaluator.  Its line callback is what tail calls for every complete
 * line; evaluation is started by the caller (a timer, or --once).
 *
 * A reference is loaded from [reference] file, or restored from a
 * capture saved in state_dir, or captured from the first `capture`
 * records, which then do not enter the windows.
 */
#ifndef DRIFTD_INGEST_H
#define DRIFTD_INGEST_H

#include "buf.h"
#include "conf.h"
#include "metrics.h"
#include "tail.h"

#define INGEST_CAPTURE_FILE "reference.capture"

struct ingest;

/*
 * Build the pipeline for `c`, which must outlive it.  Returns NULL with a
 * message in `err` when the reference cannot be loaded.
 */
struct ingest *ingest_create(const struct conf *c, struct metrics_registry *reg,
    struct buf *err);
void ingest_destroy(struct ingest *g);

/* A tail_line_cb; `arg` is the struct ingest. */
enum tail_line_result ingest_line(void *arg, const char *line, size_t len);

/* Evaluate drift now, to completion (--once). */
void ingest_evaluate(struct ingest *g);
/* Start an evaluation, then step it with at most `budget` seconds of work
 * per call until ingest_step() returns 1. */
void ingest_begin_evaluation(struct ingest *g);
int ingest_step(struct ingest *g, double budget);
int ingest_evaluating(const struct ingest *g);

#endif
