/*
 * results.h - what one evaluation found, as an immutable snapshot.
 *
 * The drift evaluator builds a struct results at the end of every
 * evaluation and publishes it; pages (`/`, `/status`) and the systemd
 * status line render from it, in time linear in the columns, without
 * reading the metrics registry back.  A snapshot never changes once
 * published: readers take a reference (results_ref) and drop it
 * (results_unref) when done, so a page may keep rendering an older
 * evaluation while a newer one is published.
 *
 * Values that are not defined are NaN: a mean of no values, a p-value of
 * a distance test, a test not run.
 */
#ifndef DRIFTD_RESULTS_H
#define DRIFTD_RESULTS_H

#include <stddef.h>

#include "conf.h"

struct results_test {
	int on;                  /* computed in this evaluation */
	double score, pvalue, threshold;
};

struct results_column {
	char *name;              /* the column label */
	enum conf_column_kind kind;
	int is_feature;
	double samples;          /* values in the window */
	double ref_samples;      /* NaN without a reference */
	double missing_ratio;    /* NaN with no records */
	double mean, std;        /* NaN unless numeric with values */
	double detected;         /* 0 or 1; NaN when not tested */
	double events;           /* times it went into drift */
	struct results_test t[CONF_TEST_COUNT];
};

struct results {
	unsigned refs;
	double time;             /* wall clock of the evaluation, seconds */
	double dataset;          /* 0 or 1 */
	double drifted;          /* feature columns flagged */
	double ratio;            /* their share of those tested */
	char *ref_source, *ref_sha;   /* NULL without a reference */
	struct results_column *cols;
	size_t ncols;
};

/* A snapshot of `ncols` columns, everything NaN or empty, one reference
 * held by the caller. */
struct results *results_create(size_t ncols);
/* Take another reference; returns `r`. */
struct results *results_ref(struct results *r);
/* Drop one; the last frees it.  NULL is ignored. */
void results_unref(struct results *r);

#endif
