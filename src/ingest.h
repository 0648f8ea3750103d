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
#include "record.h"
#include "state.h"
#include "tail.h"

#define INGEST_CAPTURE_FILE "reference.capture"

/* Event times later than this after the moment a record is read, or
 * earlier than this before it, are bad values (counted as a missing
 * timestamp): seconds. */
#define INGEST_MAX_FUTURE_SECONDS 86400.0            /* one day */
#define INGEST_MAX_PAST_SECONDS   (20 * 31557600.0)  /* twenty years */

/* Is event time `ts` plausible now (within the bounds above)? */
int ingest_time_plausible(double ts);

struct ingest;

/*
 * A pipeline comes up in two steps.  ingest_load() does everything that
 * can fail, and touches no registry: it compiles the field paths and
 * loads, validates and hashes the reference (or restores a saved
 * capture).  It returns NULL with a message in `err` on failure; `c` must
 * outlive the pipeline.  ingest_attach() then makes the pipeline's series
 * in `reg`, taking over those a pipeline it replaces left there (see
 * metrics_mark()), and cannot fail.  Lines flow only after it.
 */
struct ingest *ingest_load(const struct conf *c, struct buf *err);
void ingest_attach(struct ingest *g, struct metrics_registry *reg);
/* Both. */
struct ingest *ingest_create(const struct conf *c, struct metrics_registry *reg,
    struct buf *err);
/* Frees the pipeline; its series stay in the registry, for a successor
 * or a sweep. */
void ingest_destroy(struct ingest *g);

/* Does record_parse()'s result `r` leave a record to go on with?  If
 * not, *res is what the line counts as (a skipped one is fine). */
static inline int
ingest_parsed(enum record_result r, enum tail_line_result *res)
{
	*res = r == RECORD_BAD_JSON ? TAIL_LINE_BAD_JSON : TAIL_LINE_OK;
	return r == RECORD_OK;
}

/* A tail_line_cb; `arg` is the struct ingest. */
enum tail_line_result ingest_line(void *arg, const char *line, size_t len);
/* The same for the lines of a [labels] log. */
enum tail_line_result ingest_label_line(void *arg, const char *line,
    size_t len);

/*
 * The pipeline's part of a checkpoint: window contents (STATE_TAG_WINDOWS:
 * record times and each column's values by name, so that they can be
 * restored into a pipeline built from another configuration) and a
 * reference capture's progress (STATE_TAG_REFERENCE).  A completed
 * capture is saved to state_dir before the checkpoint that follows it.
 */
void ingest_save(struct ingest *g, struct state_writer *w);
/* Refill the windows and resume a capture from a loaded checkpoint;
 * columns that no longer exist are dropped.  Returns the number of window
 * records restored, or -EBADMSG. */
long ingest_restore(struct ingest *g, const struct buf *file);
/*
 * The same as a checkpoint in memory (initialises w), for a reload: take
 * it from the old pipeline, destroy that, build the new one and restore
 * into it with ingest_restore(&w->b).
 */
void ingest_snapshot(struct ingest *g, struct state_writer *w);

/* About how large a checkpoint of the full windows is (bytes): for
 * making its memory ready ahead. */
size_t ingest_checkpoint_bytes(const struct ingest *g);

/* Records accepted since the pipeline's counters started (they go on
 * across reloads). */
double ingest_records(const struct ingest *g);

/* Records in the window now. */
size_t ingest_window_records(const struct ingest *g);

/* The last evaluation's results (borrowed; see drift_results()). */
struct results *ingest_results(const struct ingest *g);

/*
 * --once --step: replay the logs as history.  Records are cut into steps
 * of `step_ms` milliseconds of event time, [k step, (k + 1) step),
 * aligned to the epoch; a step closes when a record of a later step comes, and its
 * window (its records, the last [window] size of them) is evaluated then,
 * at the step's end: `cb` gets the end and the results.  A record of a
 * closed step is late (TAIL_LINE_LATE).  ingest_replay_end() closes the
 * last step and returns how many records were late.  Needs [model]
 * timestamp.
 */
typedef void (*ingest_step_cb)(void *arg, double end, struct results *r);
void ingest_replay(struct ingest *g, uint64_t step_ms, ingest_step_cb cb,
    void *arg);
uint64_t ingest_replay_end(struct ingest *g);

/* Evaluate drift now, to completion (--once). */
void ingest_evaluate(struct ingest *g);
/* Start an evaluation, then step it with at most `budget` seconds of work
 * per call until ingest_step() returns 1. */
void ingest_begin_evaluation(struct ingest *g);
int ingest_step(struct ingest *g, double budget);
int ingest_evaluating(const struct ingest *g);

#endif
