/*
 * ingest.h - from lines to records to everything that consumes records.
 *
 * ingest owns the record parser and the model's per-record metrics (and,
 * later in the chain, the windows).  Its line callback is what tail calls
 * for every complete line.
 */
#ifndef DRIFTD_INGEST_H
#define DRIFTD_INGEST_H

#include "conf.h"
#include "metrics.h"
#include "tail.h"

struct ingest;

/* Returns NULL if the configuration's paths do not compile (a bug:
 * conf_load() validates them). */
struct ingest *ingest_create(const struct conf *c, struct metrics_registry *reg);
void ingest_destroy(struct ingest *g);

/* A tail_line_cb; `arg` is the struct ingest. */
enum tail_line_result ingest_line(void *arg, const char *line, size_t len);

#endif
