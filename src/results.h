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

/* Categorical charts show at most this many bars: the most frequent
 * categories, and the rest together as the last. */
#define RESULTS_MAX_BARS 24
#define RESULTS_REST_LABEL "(all others)"

/*
 * A tested column's reference and window distributions over the same
 * bins: PSI's bins for a numeric column (edges from the reference's
 * quantiles), its categories for a categorical one.
 */
struct results_chart {
	size_t n;                /* bins */
	double *ref, *win;       /* proportions, n each */
	double *edges;           /* numeric: the n - 1 inner bin edges */
	char **labels;           /* categorical: n labels */
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
	int decide;              /* the deciding test, or -1 if not tested */
	struct results_chart *chart;   /* NULL when not tested */
	/* The deciding test's value (its p-value for ks and chi2, else
	 * its score) at the last evaluations, oldest first; NaN where the
	 * column was not tested.  The last is this evaluation's. */
	double *history;
	size_t nhistory;
};

struct results {
	unsigned refs;
	double time;             /* wall clock of the evaluation, seconds */
	double dataset;          /* 0 or 1 */
	double drifted;          /* feature columns flagged */
	double ratio;            /* their share of those tested */
	double dataset_share;    /* the share that makes dataset drift */
	int entered_drift;       /* the dataset verdict turned to drift
	                          * with this evaluation */
	double tested;           /* feature columns tested */
	char *ref_source, *ref_sha;   /* NULL without a reference */
	struct results_column *cols;
	size_t ncols;
};

/* A snapshot of `ncols` columns, everything NaN or empty, one reference
 * held by the caller. */
struct results *results_create(size_t ncols);
/* A chart of `n` bins, zeroed, with edges or labels as `categorical`
 * says; freed with its results. */
struct results_chart *results_chart_create(size_t n, int categorical);
void results_chart_free(struct results_chart *c);

/* Take another reference; returns `r`. */
struct results *results_ref(struct results *r);
/* Drop one; the last frees it.  NULL is ignored. */
void results_unref(struct results *r);

#endif
