/*
 * tail_internal.h - what tail.c, tail_lines.c and tail_once.c share.
 */
#ifndef DRIFTD_TAIL_INTERNAL_H
#define DRIFTD_TAIL_INTERNAL_H

#include <stdint.h>
#include <sys/stat.h>

#include "buf.h"
#include "metrics.h"
#include "tail.h"

/* The driftd_log_* series of one input. */
struct tail_counters {
	struct metrics_series *lines, *bytes, *json, *too_long, *rotations, *lag,
	    *lost, *unopened;
	struct metrics_series *late;          /* made on the first one */
	struct metrics_family *errors;
	const char *input;
};


/* Where a file's reading stands, in lines. */
struct tail_lines {
	const char *path;       /* for messages */
	uint64_t offset;        /* bytes read */
	uint64_t consumed;      /* end of the last complete line */
	struct buf partial;     /* bytes of an incomplete line */
	int skipping;           /* drop bytes up to the next newline: */
#define TAIL_SKIP_LONG 1        /* a too-long line, counted when it ends */
#define TAIL_SKIP_REST 2        /* the rest of a line before the start */
};

void tail_counters_init(struct tail_counters *m, struct metrics_registry *reg,
    const char *input);

/* Open a file to read without blocking on a FIFO or a device that took
 * its place since it was stat'ed: the descriptor, or -1 with errno set,
 * EINVAL for anything but a regular file. */
int tail_open_regular(const char *path, struct stat *st);

/*
 * Cut `n` bytes just read (ending at l->offset) into lines: complete lines
 * go to cb, an incomplete tail waits in l->partial, lines longer than
 * max_line are skipped without being buffered and counted.
 */
void tail_lines_feed(struct tail_lines *l, const char *data, size_t n,
    size_t max_line, struct tail_counters *m, tail_line_cb cb, void *arg);

#endif
