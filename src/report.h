/*
 * report.h - the drift report: one HTML page a person reads.
 *
 * The report shows the dataset's verdict, a table of every column, and a
 * card per column with its verdict, each test's score, p-value and
 * threshold, a chart of the reference's and the window's distributions
 * over the same bins (inline SVG) and a sparkline of the deciding test
 * over the last evaluations.  Columns that drift come first.  It is
 * self-contained: no script, no external resource, so a saved report
 * reads the same anywhere.
 *
 * Everything comes from an evaluation's results snapshot and the few
 * figures in struct report_info; nothing reads the metrics registry.  The
 * page is made of per-column pieces (report_row(), report_card()) that a
 * caller may render ahead, in slices, between the parts below;
 * report_render() does it all at once.
 */
#ifndef DRIFTD_REPORT_H
#define DRIFTD_REPORT_H

#include <stddef.h>

#include "buf.h"
#include "results.h"
#include "tail.h"

/* A sparkline draws at most this many points (the largest of each run
 * of values, when the history holds more). */
#define REPORT_SPARK_POINTS 180

/* What a report shows besides the results. */
struct report_info {
	const char *version;
	const char *model;             /* NULL if unknown */
	double records;
	double window_size;
	double min_samples;
	const struct tail_input_info *in;
	size_t nin;
	const char *note;              /* a saved report's note (why it was
	                                * saved) instead of the live page's
	                                * links, or NULL */
};

/* The order columns are shown in: drifting, then tested, then the rest,
 * each in column order.  `idx` receives r->ncols indices. */
void report_order(const struct results *r, size_t *idx);

/*
 * The page is made, in this order, of: report_page_head() (the verdict,
 * links or the saved report's note, the inputs, the start of the column
 * table); report_row() for every column, in report_order(); then
 * report_cards_begin(); report_card() for the first REPORT_MAX_CARDS
 * columns in the same order (their rows link to them: `has_card`); and
 * report_page_end().  All but the head is
 * the same for every request between two evaluations.
 */
#define REPORT_MAX_CARDS 256
void report_page_head(struct buf *out, const struct report_info *info,
    const struct results *r);
void report_row(struct buf *b, const struct results *r, size_t i,
    double window_size, int has_card);
void report_cards_begin(struct buf *out, const struct results *r);
void report_card(struct buf *b, const struct results *r, size_t i,
    double min_samples);
void report_page_end(struct buf *out);

/* The whole page at once. */
void report_render(struct buf *out, const struct report_info *info,
    const struct results *r);

/* Append `s` as HTML text: markup characters escaped, bytes that are
 * not UTF-8 replaced by U+FFFD. */
void report_escape(struct buf *b, const char *s);

#endif
