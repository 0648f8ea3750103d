/*
 * drift.c - evaluate windows against references and publish the results.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "drift.h"
#include "mmd.h"
#include "results.h"
#include "strmap.h"
#include "stats.h"
#include "util.h"

enum {
	F_SAMPLES,
	F_MEAN,
	F_STDDEV,
	F_MISSING_RATIO,
	F_REF_SAMPLES,
	F_SCORE,
	F_PVALUE,
	F_THRESHOLD,
	F_DETECTED,
	F_EVENTS,
	F_DATASET,
	F_DRIFTED,
	F_DRIFTED_RATIO,
	F_EVAL_TIME,
	F_REF_INFO,
	F_DURATION,
	F_BIN_WINDOW,
	F_BIN_REFERENCE,
	F_BIN_OBSERVED,
	F_COUNT
};

static const struct metrics_desc descs[F_COUNT] = {
	[F_SAMPLES] = { "prediction_window_samples", METRICS_GAUGE,
	    "Values in the current window.", { "model", "column", NULL } },
	[F_MEAN] = { "prediction_window_mean", METRICS_GAUGE,
	    "Mean of the window's values (numeric columns).",
	    { "model", "column", NULL } },
	[F_STDDEV] = { "prediction_window_stddev", METRICS_GAUGE,
	    "Standard deviation (ddof=0) of the window's values.",
	    { "model", "column", NULL } },
	[F_MISSING_RATIO] = { "prediction_window_missing_ratio", METRICS_GAUGE,
	    "Share of the window's records without a valid value.",
	    { "model", "column", NULL } },
	[F_REF_SAMPLES] = { "prediction_reference_samples", METRICS_GAUGE,
	    "Values in the reference.", { "model", "column", NULL } },
	[F_SCORE] = { "prediction_drift_score", METRICS_GAUGE,
	    "The test's statistic or distance.",
	    { "model", "column", "test", NULL } },
	[F_PVALUE] = { "prediction_drift_pvalue", METRICS_GAUGE,
	    "The test's p-value (ks, chi2, mmd).", { "model", "column", "test", NULL } },
	[F_THRESHOLD] = { "prediction_drift_threshold", METRICS_GAUGE,
	    "The threshold in force for the test, after correction.",
	    { "model", "column", "test", NULL } },
	[F_DETECTED] = { "prediction_drift_detected", METRICS_GAUGE,
	    "1 when the deciding test flags drift.", { "model", "column", NULL } },
	[F_EVENTS] = { "prediction_drift_events_total", METRICS_COUNTER,
	    "Times the column went from no drift to drift.",
	    { "model", "column", NULL } },
	[F_DATASET] = { "prediction_dataset_drift_detected", METRICS_GAUGE,
	    "1 when the share of drifted features reaches dataset_share.",
	    { "model", NULL } },
	[F_DRIFTED] = { "prediction_drifted_columns", METRICS_GAUGE,
	    "Feature columns flagged in the last evaluation.", { "model", NULL } },
	[F_DRIFTED_RATIO] = { "prediction_drifted_columns_ratio", METRICS_GAUGE,
	    "Share of the tested feature columns flagged.", { "model", NULL } },
	[F_EVAL_TIME] = { "prediction_drift_evaluation_timestamp_seconds",
	    METRICS_GAUGE, "When the last evaluation ran.", { "model", NULL } },
	[F_REF_INFO] = { "prediction_reference_info", METRICS_GAUGE,
	    "Always 1: which reference is in force.",
	    { "model", "source", "sha256", NULL } },
	[F_DURATION] = { "driftd_evaluation_duration_seconds", METRICS_HISTOGRAM,
	    "Time spent per evaluation.", { NULL } },
	[F_BIN_WINDOW] = { "prediction_window_bin_samples", METRICS_GAUGE,
	    "Window values per bin (PSI bins by index, or categories), with "
	    "export_bins.", { "model", "column", "bin", NULL } },
	[F_BIN_REFERENCE] = { "prediction_reference_bin_ratio", METRICS_GAUGE,
	    "The reference's proportion per bin, with export_bins.",
	    { "model", "column", "bin", NULL } },
	[F_BIN_OBSERVED] = { "prediction_bin_observations_total",
	    METRICS_COUNTER, "Values observed per bin since the reference "
	    "came in force, with export_bins.",
	    { "model", "column", "bin", NULL } },
};

static const double duration_buckets[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5,
};

/* What one evaluation found for one column. */
struct result {
	size_t samples;
	size_t records;
	size_t ref_samples;
	int has_ref;
	double mean, std;
	int tested;
	unsigned tests;               /* computed tests */
	double score[CONF_TEST_COUNT];
	double pvalue[CONF_TEST_COUNT];   /* NaN for distances */
	double threshold[CONF_TEST_COUNT];
	int decide;
	int detected;
	struct results_chart *chart;  /* until the snapshot takes it */
	/* [drift] export_bins: the window's values per bin (numeric) or
	 * per category id, taken with the rest of the window */
	double *xwin;
	size_t nxwin, capxwin;
};

/* The deciding test's values at the last evaluations, for the report's
 * sparklines: a ring of up to [report] history values. */
struct history {
	double *v;
	size_t start, n;
	int test;                     /* whose values they are, or -1 */
};

/* A column's series per bin ([drift] export_bins): slot k is numeric
 * bin k or category id k. */
struct binseries {
	struct metrics_series **win, **ref, **obs;
	uint64_t *seen;          /* observed, not yet added to obs */
	size_t n;
	/* numeric: the reference's bin edges (they outlive a re-finalised
	 * reference's column array), for drift_observe() */
	const double *edges;
	size_t nedges;
	int numeric;
	int ready;               /* made for the reference in force */
};

/* Series of one column, made on first use. */
struct colseries {
	struct metrics_series *samples, *mean, *std, *missing, *ref;
	struct metrics_series *score[CONF_TEST_COUNT];
	struct metrics_series *pvalue[CONF_TEST_COUNT];
	struct metrics_series *threshold[CONF_TEST_COUNT];
	struct metrics_series *detected, *events;
	int was_detected;
	struct binseries bins;
};

struct drift {
	struct metrics_family *fam[F_COUNT];
	char *model;
	size_t min_samples;
	enum conf_correction correction;
	double dataset_share;
	struct metrics_series *dataset, *drifted, *ratio, *eval_time, *info;
	struct metrics_series *duration;
	struct colseries *cols;
	struct history *hist;         /* per column, as cols */
	size_t ncols;
	size_t hist_cap;              /* [report] history */
	double last_dataset;          /* the verdict before, NaN if unknown */
	struct results *latest;       /* the last evaluation's snapshot */
	char *ref_source, *ref_sha;   /* the reference in force */
	int export_bins;              /* [drift] export_bins */
	struct metrics_registry *reg;
	const struct reference *ref;  /* in force, for export_bins */
	struct columns *columns;      /* the pipeline's */
	/* the evaluation under way */
	int busy;
	struct columns *cs;
	struct window *w;
	const struct reference *r;
	double now;
	size_t next;
	struct result *res;
	size_t nres;
	uint64_t spent_ns;
	/* scratch, grown as needed */
	double *sorted, *values, *terms;
	size_t nsorted, nvalues, nterms;
	struct stats_gaps gaps;       /* scratch of the gap statistics */
	size_t ngap_count, ngap_cls, ngap_pos, ngap_cross, ngap_vals;
	double *bins_w, *bins_r, *expected;
	size_t nbins_w, nbins_r, nexpected;
	double alpha;                 /* [drift] p_value */
	int phase;                    /* of column `next` */
	size_t cur_nw;                /* values in the window */
	int cur_grouped;              /* tested by gap (d->gaps, d->gap_*),
	                               * else d->sorted holds it sorted */
	double gap_d;                 /* KS from the gaps */
	double wasserstein;           /* computed along with KS, else NaN */
	size_t drifted_now, tested_now;
	/* mmd: the test under way, the window's vectors, and per column the
	 * bandwidth found for the reference in force (NaN: not yet) */
	struct mmd *mmd;
	double *vecs;
	size_t nvecs;
	double *sigma2;
	struct mmd_cache **mmd_cache;   /* per column, as sigma2 */
	size_t nsigma2;
	size_t mmd_samples;
	unsigned mmd_perms;
};

static void bins_flush(void *arg);

struct drift *
drift_create(const struct conf *c, struct metrics_registry *reg)
{
	struct drift *d = xcalloc(1, sizeof(*d));
	const char *lv[1];
	size_t i;

	for (i = 0; i < F_COUNT; i++)
		d->fam[i] = metrics_family_get(reg, &descs[i],
		    i == F_DURATION ? duration_buckets : NULL,
		    i == F_DURATION ? ARRAY_SIZE(duration_buckets) : 0);
	d->model = xstrdup(c->model_name);
	d->min_samples = c->min_samples;
	d->correction = c->correction;
	d->dataset_share = c->dataset_share;
	d->alpha = c->drift.p_value;
	d->hist_cap = (size_t)c->report_history;
	d->export_bins = c->export_bins;
	d->mmd_samples = (size_t)c->mmd_samples;
	d->mmd_perms = (unsigned)c->mmd_permutations;
	d->reg = reg;
	if (d->export_bins)
		metrics_on_collect(reg, bins_flush, d);
	d->last_dataset = NAN;
	d->duration = metrics_series_get(d->fam[F_DURATION], NULL);
	/* What a predecessor of the same model published stays in place
	 * until this one publishes (see drift_add_columns()). */
	lv[0] = d->model;
	d->dataset = metrics_series_find(d->fam[F_DATASET], lv);
	d->drifted = metrics_series_find(d->fam[F_DRIFTED], lv);
	d->ratio = metrics_series_find(d->fam[F_DRIFTED_RATIO], lv);
	d->eval_time = metrics_series_find(d->fam[F_EVAL_TIME], lv);
	return d;
}

/* Take over the series a predecessor published for column `name`. */
static void
take_over(struct drift *d, struct colseries *cs, const char *name)
{
	const char *lv[3] = { d->model, name, NULL };
	size_t t;

	cs->samples = metrics_series_find(d->fam[F_SAMPLES], lv);
	cs->mean = metrics_series_find(d->fam[F_MEAN], lv);
	cs->std = metrics_series_find(d->fam[F_STDDEV], lv);
	cs->missing = metrics_series_find(d->fam[F_MISSING_RATIO], lv);
	cs->ref = metrics_series_find(d->fam[F_REF_SAMPLES], lv);
	cs->events = metrics_series_find(d->fam[F_EVENTS], lv);
	cs->detected = metrics_series_find(d->fam[F_DETECTED], lv);
	/* Drifting already before a reload is no new event. */
	cs->was_detected = metrics_value(cs->detected) == 1;
	for (t = 0; t < CONF_TEST_COUNT; t++) {
		lv[2] = conf_test_name((enum conf_test)t);
		cs->score[t] = metrics_series_find(d->fam[F_SCORE], lv);
		cs->pvalue[t] = metrics_series_find(d->fam[F_PVALUE], lv);
		cs->threshold[t] = metrics_series_find(d->fam[F_THRESHOLD], lv);
	}
}

static void *
grow(void *p, size_t *have, size_t want, size_t size)
{
	if (want <= *have)
		return p;
	*have = want;
	return xreallocarray(p, want, size);
}

/* ----------------------------------------------------- export_bins */

/* The series of bin `slot` of column `col`, made (with the reference's
 * proportion `ratio`) when new; labelled by `label`. */
static struct binseries *
bin_get(struct drift *d, size_t col, size_t slot, const char *label,
    double ratio)
{
	struct binseries *b = &d->cols[col].bins;
	const char *lv[3] = { d->model, columns_get(d->columns, col)->name,
	    label };

	if (slot >= b->n) {
		size_t n = slot + 1 > 2 * b->n ? slot + 1 : 2 * b->n;

		b->win = xreallocarray(b->win, n, sizeof(*b->win));
		b->ref = xreallocarray(b->ref, n, sizeof(*b->ref));
		b->obs = xreallocarray(b->obs, n, sizeof(*b->obs));
		b->seen = xreallocarray(b->seen, n, sizeof(*b->seen));
		memset(b->win + b->n, 0, (n - b->n) * sizeof(*b->win));
		memset(b->ref + b->n, 0, (n - b->n) * sizeof(*b->ref));
		memset(b->obs + b->n, 0, (n - b->n) * sizeof(*b->obs));
		memset(b->seen + b->n, 0, (n - b->n) * sizeof(*b->seen));
		b->n = n;
	}
	if (b->win[slot] == NULL) {
		b->win[slot] = metrics_series_get(d->fam[F_BIN_WINDOW], lv);
		b->ref[slot] = metrics_series_get(d->fam[F_BIN_REFERENCE], lv);
		b->obs[slot] = metrics_series_get(d->fam[F_BIN_OBSERVED], lv);
		metrics_set(b->ref[slot], ratio);
	}
	return b;
}

/* The reference's proportion of category `id`. */
static double
category_ratio(const struct reference_column *rc, size_t id)
{
	return id < rc->ncounts && rc->n > 0 ?
	    (double)rc->counts[id] / (double)rc->n : 0;
}

/* Make the bin series of column `col`, now that its reference is known:
 * every PSI bin of a numeric column, every category of a categorical
 * one's reference (others as they come). */
static void
bins_make(struct drift *d, size_t col)
{
	const struct reference_column *rc = reference_column(d->ref, col);
	const struct column *c = columns_get(d->columns, col);
	char label[24];
	size_t k;

	if (rc == NULL || c->kind == CONF_VECTOR)
		return;
	d->cols[col].bins.ready = 1;
	if (c->kind == CONF_NUMERIC) {
		for (k = 0; k <= rc->nedges; k++) {
			snprintf(label, sizeof(label), "%zu", k);
			bin_get(d, col, k, label, rc->props[k]);
		}
		d->cols[col].bins.edges = rc->edges;
		d->cols[col].bins.nedges = rc->nedges;
		d->cols[col].bins.numeric = 1;
		return;
	}
	for (k = 0; k < c->nlabels; k++) {
		const char *lv[3] = { d->model, c->name, c->labels[k] };

		/* The reference's categories, and those a predecessor has
		 * counted already (their counters go on). */
		if ((k < rc->ncounts && rc->counts[k] > 0) ||
		    metrics_series_find(d->fam[F_BIN_OBSERVED], lv) != NULL)
			bin_get(d, col, k, c->labels[k], category_ratio(rc, k));
	}
}

/* The PSI bin of x: how many of the n edges are at or below it (a value
 * equal to an edge falls in the bin that starts there). */
static size_t
bin_of(const double *edges, size_t n, double x)
{
	size_t lo = 0, hi;

	/* A count without branches for the usual few edges: a binary
	 * search's branches are unpredictable, and cost more. */
	if (n > 32)
		return stats_upper_bound(edges, n, x);
	for (hi = 0; hi < n; hi++)
		lo += edges[hi] <= x;
	return lo;
}

/* Values are counted here, per record, and added to the counters when
 * the registry is read (a collector): a series update per value would
 * cost as much as parsing it. */
void
drift_observe(struct drift *d, const struct column_value *v, size_t n)
{
	size_t i;

	if (d->ref == NULL)
		return;
	for (i = 0; i < n && i < d->ncols; i++) {
		struct binseries *b = &d->cols[i].bins;
		const struct column *c;

		if (!v[i].present || !b->ready)
			continue;
		if (b->numeric) {
			b->seen[bin_of(b->edges, b->nedges, v[i].num)]++;
			continue;
		}
		c = columns_get(d->columns, i);
		if (v[i].cat < c->nlabels) {
			if (v[i].cat >= b->n || b->win[v[i].cat] == NULL)
				b = bin_get(d, i, v[i].cat, c->labels[v[i].cat],
				    category_ratio(reference_column(d->ref, i),
				    v[i].cat));
			b->seen[v[i].cat]++;
		}
	}
}

/* Add what drift_observe() counted to the counters. */
static void
bins_flush(void *arg)
{
	struct drift *d = arg;
	size_t i, k;

	for (i = 0; i < d->ncols; i++) {
		struct binseries *b = &d->cols[i].bins;

		for (k = 0; k < b->n; k++)
			if (b->seen[k] > 0) {
				metrics_add(b->obs[k], (double)b->seen[k]);
				b->seen[k] = 0;
			}
	}
}

/* The window's values per bin of column `col` into res->xwin (in the
 * phase that reads the window; `values` holds its `n` numeric values). */
static void
bins_take(struct drift *d, size_t col, const struct reference_column *rc,
    struct result *res, const double *values, size_t n)
{
	const struct column *c = columns_get(d->cs, col);
	size_t k, want;

	if (c->kind == CONF_NUMERIC) {
		want = rc->nedges + 1;
		res->xwin = grow(res->xwin, &res->capxwin, want, sizeof(double));
		memset(res->xwin, 0, want * sizeof(double));
		for (k = 0; k < n; k++)
			res->xwin[bin_of(rc->edges, rc->nedges, values[k])] += 1;
	} else {
		size_t nwc;
		const uint32_t *wc = window_category_counts(d->w, col, &nwc);

		want = nwc;
		res->xwin = grow(res->xwin, &res->capxwin, want + 1,
		    sizeof(double));
		for (k = 0; k < nwc; k++)
			res->xwin[k] = wc[k];
	}
	res->nxwin = want;
}

/* Publish the window's values per bin: every bin made so far, zeros
 * included, so that the fleet's sums see every replica. */
static void
bins_publish(struct drift *d, size_t col, const struct result *res)
{
	const struct column *c = columns_get(d->cs, col);
	const struct reference_column *rc = d->ref != NULL ?
	    reference_column(d->ref, col) : NULL;
	struct binseries *b = &d->cols[col].bins;
	size_t k;

	if (rc == NULL)
		return;
	if (c->kind == CONF_CATEGORICAL)
		for (k = 0; k < res->nxwin && k < c->nlabels; k++)
			if (res->xwin[k] > 0)
				b = bin_get(d, col, k, c->labels[k],
				    category_ratio(rc, k));
	for (k = 0; k < b->n; k++)
		if (b->win[k] != NULL)
			metrics_set(b->win[k], k < res->nxwin ? res->xwin[k] : 0);
}

void
drift_add_columns(struct drift *d, struct columns *cs)
{
	size_t n = columns_count(cs), i, first;

	if (n <= d->ncols)
		return;
	d->cols = xreallocarray(d->cols, n, sizeof(*d->cols));
	memset(d->cols + d->ncols, 0, (n - d->ncols) * sizeof(*d->cols));
	d->hist = xreallocarray(d->hist, n, sizeof(*d->hist));
	memset(d->hist + d->ncols, 0, (n - d->ncols) * sizeof(*d->hist));
	for (i = d->ncols; i < n; i++)
		d->hist[i].test = -1;
	for (i = d->ncols; i < n; i++)
		take_over(d, &d->cols[i], columns_get(cs, i)->name);
	first = d->ncols;
	d->ncols = n;
	d->columns = cs;
	for (i = first; i < n && d->ref != NULL; i++)
		bins_make(d, i);
}

void
drift_destroy(struct drift *d)
{
	size_t i;

	if (d == NULL)
		return;
	if (d->export_bins) {
		bins_flush(d);        /* a successor's counters go on from them */
		metrics_remove_collect(d->reg, bins_flush, d);
	}
	for (i = 0; i < d->ncols; i++) {
		free(d->hist[i].v);
		free(d->cols[i].bins.win);
		free(d->cols[i].bins.ref);
		free(d->cols[i].bins.obs);
		free(d->cols[i].bins.seen);
	}
	free(d->hist);
	for (i = 0; i < d->nres; i++) {
		results_chart_free(d->res[i].chart);
		free(d->res[i].xwin);
	}
	free(d->cols);
	free(d->res);
	mmd_destroy(d->mmd);
	free(d->vecs);
	free(d->sigma2);
	for (i = 0; i < d->nsigma2; i++)
		mmd_cache_destroy(d->mmd_cache[i]);
	free(d->mmd_cache);
	free(d->sorted);
	free(d->values);
	free(d->terms);
	free(d->gaps.count);
	free(d->gaps.cls);
	free(d->gaps.pos);
	free(d->gaps.cross);
	free(d->gaps.vals);
	free(d->bins_w);
	free(d->bins_r);
	free(d->expected);
	free(d->model);
	free(d->ref_source);
	free(d->ref_sha);
	results_unref(d->latest);
	free(d);
}

void
drift_set_reference(struct drift *d, const struct reference *r)
{
	const char *lv[3] = { d->model, reference_source(r), reference_sha256(r) };
	size_t i;

	free(d->ref_source);
	free(d->ref_sha);
	d->ref_source = xstrdup(reference_source(r));
	d->ref_sha = xstrdup(reference_sha256(r));
	if (d->info != NULL)
		metrics_series_remove(d->info);
	d->info = metrics_series_get(d->fam[F_REF_INFO], lv);
	metrics_set(d->info, 1);
	/* The bandwidths and kernel blocks belong to the reference. */
	for (i = 0; i < d->nsigma2; i++) {
		d->sigma2[i] = NAN;
		mmd_cache_clear(d->mmd_cache[i]);
	}
	if (!d->export_bins)
		return;
	d->ref = r;
	for (i = 0; i < d->ncols; i++)
		bins_make(d, i);
}

/* Empty a column's result for a new evaluation; the memory of its bins
 * is kept from one evaluation to the next. */
static void
result_reset(struct result *res)
{
	double *xwin = res->xwin;
	size_t capxwin = res->capxwin;

	results_chart_free(res->chart);
	memset(res, 0, sizeof(*res));
	res->xwin = xwin;
	res->capxwin = capxwin;
}

/* ---------------------------------------------------------- the tests */

static int
auto_test(const struct column *c, size_t nref)
{
	if (c->kind == CONF_NUMERIC)
		return nref <= CONF_AUTO_SMALL_REFERENCE ? CONF_TEST_KS :
		    CONF_TEST_WASSERSTEIN;
	return nref <= CONF_AUTO_SMALL_REFERENCE ? CONF_TEST_CHI2 : CONF_TEST_JS;
}

static double
nominal_threshold(const struct conf_drift *cd, int test)
{
	switch (test) {
	case CONF_TEST_KS:
	case CONF_TEST_CHI2:
		return cd->p_value;
	case CONF_TEST_PSI:
		return cd->psi_threshold;
	case CONF_TEST_JS:
		return cd->js_threshold;
	case CONF_TEST_WASSERSTEIN:
		return cd->wasserstein_threshold;
	case CONF_TEST_KL:
		return cd->kl_threshold;
	case CONF_TEST_MMD:
		return cd->p_value;
	}
	return NAN;
}


/*
 * A numeric column is evaluated in phases, each a fraction of a
 * millisecond even for large windows, so that the loop gets control back
 * between them.  The first phase takes all it needs from the window: a
 * window much smaller than its reference is copied and sorted for the
 * merged walks of the phases that follow; otherwise KS, Wasserstein and
 * the bins come at once from the values' gaps among the reference values.
 */
enum {
	PHASE_START,
	PHASE_KS,
	PHASE_BINS,
	PHASE_WASSERSTEIN,
	PHASE_DONE,
};

static int
eval_numeric(struct drift *d, size_t col, const struct reference_column *rc,
    struct result *res, int phase)
{
	size_t nw = d->cur_nw, i, k, nb = rc->nedges + 1, nruns;
	double *win = d->sorted;
	struct stats_run runs[2];

	switch (phase) {
	case PHASE_START:
		/*
		 * Everything taken from the window is taken in this phase,
		 * the one that checked min_samples and took the mean: the
		 * loop may push records into the window between phases.
		 */
		d->wasserstein = NAN;
		nruns = window_runs(d->w, col, runs);
		d->cur_grouped = nruns > 0 &&
		    window_valid(d->w, col) * 16 >= rc->n;
		if (!d->cur_grouped) {
			/* Against a much larger reference (or without codes),
			 * sorting the window costs less than a pass over every
			 * gap. */
			d->sorted = grow(d->sorted, &d->nsorted,
			    window_records(d->w) + 1, sizeof(double));
			nw = window_values(d->w, col, d->sorted);
			stats_sort(d->sorted, nw);
			d->sorted[nw] = INFINITY;   /* the merges' sentinel */
			d->cur_nw = nw;
			res->samples = nw;
			return PHASE_KS;
		}
		/* One count and one walk give D, W and the bins. */
		d->gaps.count = grow(d->gaps.count, &d->ngap_count,
		    2 * rc->n + 2, sizeof(uint32_t));
		d->gaps.cls = grow(d->gaps.cls, &d->ngap_cls, 2 * rc->n + 2,
		    sizeof(double));
		d->gaps.pos = grow(d->gaps.pos, &d->ngap_pos, rc->n + 1,
		    sizeof(uint32_t));
		d->gaps.cross = grow(d->gaps.cross, &d->ngap_cross, rc->n + 1,
		    sizeof(uint32_t));
		d->gaps.vals = grow(d->gaps.vals, &d->ngap_vals,
		    window_records(d->w) + 1, sizeof(double));
		d->bins_w = grow(d->bins_w, &d->nbins_w, nb, sizeof(double));
		nw = d->cur_nw = stats_gap_count(rc->n, runs, nruns,
		    &d->gaps);
		res->samples = nw;
		d->gap_d = stats_gap_tests(rc->sorted, rc->n, rc->edges,
		    rc->nedges, runs, nruns, &d->gaps, &d->wasserstein,
		    d->bins_w);
		return PHASE_KS;
	case PHASE_KS:
		if (d->cur_grouped) {
			if (res->tests & (1u << CONF_TEST_KS)) {
				res->score[CONF_TEST_KS] = d->gap_d;
				res->pvalue[CONF_TEST_KS] =
				    stats_ks_pvalue(d->gap_d, rc->n, nw);
			}
		} else if ((res->tests & (1u << CONF_TEST_KS)) &&
		    (res->tests & (1u << CONF_TEST_WASSERSTEIN))) {
			/* Both want the same walk of window and reference. */
			double dd = stats_ks_d_wasserstein(rc->sorted, rc->n,
			    win, nw, &d->wasserstein);

			res->score[CONF_TEST_KS] = dd;
			res->pvalue[CONF_TEST_KS] = stats_ks_pvalue(dd, rc->n, nw);
		} else if (res->tests & (1u << CONF_TEST_KS)) {
			double dd = stats_ks_d(rc->sorted, rc->n, win, nw);

			res->score[CONF_TEST_KS] = dd;
			res->pvalue[CONF_TEST_KS] = stats_ks_pvalue(dd, rc->n, nw);
		}
		return PHASE_BINS;
	case PHASE_BINS:
		/* Computed for every tested column: the report charts them. */
		d->bins_w = grow(d->bins_w, &d->nbins_w, nb, sizeof(double));
		if (!d->cur_grouped) {
			/* Merge the sorted window with the edges: a value
			 * equal to an edge belongs to the bin starting there. */
			memset(d->bins_w, 0, nb * sizeof(double));
			for (i = 0, k = 0; i < nw; i++) {
				while (k < rc->nedges && rc->edges[k] <= win[i])
					k++;
				d->bins_w[k] += 1;
			}
		}
		for (k = 0; k < nb; k++)
			d->bins_w[k] /= (double)nw;
		res->chart = results_chart_create(nb, 0);
		memcpy(res->chart->ref, rc->props, nb * sizeof(double));
		memcpy(res->chart->win, d->bins_w, nb * sizeof(double));
		if (rc->nedges > 0)
			memcpy(res->chart->edges, rc->edges,
			    rc->nedges * sizeof(double));
		if (res->tests & (1u << CONF_TEST_PSI))
			res->score[CONF_TEST_PSI] = stats_psi(d->bins_w, rc->props, nb);
		if (res->tests & (1u << CONF_TEST_JS))
			res->score[CONF_TEST_JS] = stats_js(d->bins_w, rc->props, nb);
		if (res->tests & (1u << CONF_TEST_KL))
			res->score[CONF_TEST_KL] = stats_kl(d->bins_w, rc->props, nb);
		return PHASE_WASSERSTEIN;
	case PHASE_WASSERSTEIN:
		if (res->tests & (1u << CONF_TEST_WASSERSTEIN)) {
			double std = rc->std > STATS_WASSERSTEIN_MIN_STD ? rc->std :
			    STATS_WASSERSTEIN_MIN_STD;
			double w = d->wasserstein;

			if (!d->cur_grouped && isnan(w)) {
				d->terms = grow(d->terms, &d->nterms, rc->n + nw,
				    sizeof(double));
				w = stats_wasserstein(rc->sorted, rc->n, win, nw,
				    d->terms);
			}
			res->score[CONF_TEST_WASSERSTEIN] = w / std;
		}
		return PHASE_DONE;
	}
	return PHASE_DONE;
}

/*
 * The chart of a categorical column whose k bins (categories present in
 * window or reference, in id order) d->bins_w and d->bins_r hold: the
 * RESULTS_MAX_BARS - 1 largest (by the larger of the two proportions)
 * in id order, then the rest together, when there are more.
 */
static struct results_chart *
category_chart(struct drift *d, const struct column *c, const uint32_t *wc,
    size_t nwc, const struct reference_column *rc, size_t k)
{
	size_t n = k <= RESULTS_MAX_BARS ? k : RESULTS_MAX_BARS;
	size_t keep = k <= RESULTS_MAX_BARS ? k : RESULTS_MAX_BARS - 1;
	struct results_chart *ch = results_chart_create(n, 1);
	double cut = -1, *big;
	size_t i, id, j = 0, at = 0, ties;

	if (keep < k) {
		/* The keep-th largest value is the cut; ties at it are
		 * taken in id order until there are keep bars. */
		big = xcalloc(k, sizeof(double));
		for (i = 0; i < k; i++)
			big[i] = d->bins_w[i] > d->bins_r[i] ? d->bins_w[i] :
			    d->bins_r[i];
		stats_sort(big, k);
		cut = big[k - keep];
		for (ties = 0, i = k - keep; i < k && big[i] == cut; i++)
			ties++;
		free(big);
	} else {
		ties = 0;
	}
	/* Walk the ids as eval_categorical() did, to name the bins. */
	for (id = 0; j < k; id++) {
		uint32_t w = id < nwc ? wc[id] : 0;
		uint32_t r = id < rc->ncounts ? rc->counts[id] : 0;
		double m;

		if (w == 0 && r == 0)
			continue;
		m = d->bins_w[j] > d->bins_r[j] ? d->bins_w[j] : d->bins_r[j];
		if (keep == k || m > cut || (m == cut && ties > 0 && ties--)) {
			ch->ref[at] = d->bins_r[j];
			ch->win[at] = d->bins_w[j];
			ch->labels[at++] = xstrdup(id < c->nlabels ?
			    c->labels[id] : "?");
		} else {
			ch->ref[n - 1] += d->bins_r[j];
			ch->win[n - 1] += d->bins_w[j];
		}
		j++;
	}
	if (keep < k)
		ch->labels[n - 1] = xstrdup(RESULTS_REST_LABEL);
	return ch;
}

static void
eval_categorical(struct drift *d, size_t col, const struct reference_column *rc,
    struct result *res)
{
	const struct column *c = columns_get(d->cs, col);
	size_t nwc, i, k = 0, nw = 0, nr = 0;
	const uint32_t *wc = window_category_counts(d->w, col, &nwc);
	size_t n = nwc > rc->ncounts ? nwc : rc->ncounts;
	double sum = 0;

	d->bins_w = grow(d->bins_w, &d->nbins_w, n + 1, sizeof(double));
	d->bins_r = grow(d->bins_r, &d->nbins_r, n + 1, sizeof(double));
	d->expected = grow(d->expected, &d->nexpected, n + 1, sizeof(double));
	/* The bins: every category of the reference or the window, in id
	 * order (the reference's categories got the first ids). */
	for (i = 0; i < n; i++) {
		uint32_t w = i < nwc ? wc[i] : 0, r = i < rc->ncounts ? rc->counts[i] : 0;

		if (w == 0 && r == 0)
			continue;
		d->bins_w[k] = w;
		d->bins_r[k] = r;
		nw += w;
		nr += r;
		k++;
	}
	res->samples = nw;
	for (i = 0; i < k; i++) {
		d->bins_w[i] /= (double)nw;
		d->bins_r[i] /= (double)nr;
	}
	res->chart = category_chart(d, c, wc, nwc, rc, k);
	if (res->tests & (1u << CONF_TEST_PSI))
		res->score[CONF_TEST_PSI] = stats_psi(d->bins_w, d->bins_r, k);
	if (res->tests & (1u << CONF_TEST_JS))
		res->score[CONF_TEST_JS] = stats_js(d->bins_w, d->bins_r, k);
	if (res->tests & (1u << CONF_TEST_KL))
		res->score[CONF_TEST_KL] = stats_kl(d->bins_w, d->bins_r, k);
	if ((res->tests & (1u << CONF_TEST_CHI2)) && k >= 2) {
		double *obs = d->sorted = grow(d->sorted, &d->nsorted, k, sizeof(double));

		for (i = 0; i < k; i++) {
			d->expected[i] = d->bins_r[i] > 0 ? d->bins_r[i] :
			    STATS_EPS_PROPORTION;
			sum += d->expected[i];
		}
		for (i = 0; i < k; i++) {
			d->expected[i] = d->expected[i] / sum * (double)nw;
			obs[i] = d->bins_w[i] * (double)nw;
		}
		res->score[CONF_TEST_CHI2] = stats_chi2(obs, d->expected, k,
		    &res->pvalue[CONF_TEST_CHI2]);
	} else if (res->tests & (1u << CONF_TEST_CHI2)) {
		/* One category in all: chi-square says nothing. */
		res->tests &= ~(1u << CONF_TEST_CHI2);
	}
}

/* Evaluate `phase` of column `col`; returns the next phase, or
 * PHASE_DONE when the column is complete. */
/*
 * A vector column (and __features__) is tested by MMD, in the steps of
 * mmd.c: the newest mmd_samples vectors of the window against the first
 * mmd_samples of the reference.  The permutations are seeded by the
 * column's name, so the same data give the same p-value.
 */
enum { PHASE_MMD = 100 };

static int
eval_vector(struct drift *d, size_t col, const struct reference_column *rc,
    struct result *res, int phase)
{
	const struct column *c = columns_get(d->cs, col);
	size_t m, n;

	if (phase == PHASE_MMD) {
		if (!mmd_step(d->mmd))
			return PHASE_MMD;
		res->score[CONF_TEST_MMD] = mmd_statistic(d->mmd);
		res->pvalue[CONF_TEST_MMD] = mmd_pvalue(d->mmd);
		d->sigma2[col] = mmd_sigma2(d->mmd);
		return PHASE_DONE;
	}
	if (d->nsigma2 <= col) {
		size_t k;

		d->sigma2 = xreallocarray(d->sigma2, col + 1, sizeof(double));
		d->mmd_cache = xreallocarray(d->mmd_cache, col + 1,
		    sizeof(*d->mmd_cache));
		for (k = d->nsigma2; k <= col; k++) {
			d->sigma2[k] = NAN;
			d->mmd_cache[k] = NULL;
		}
		d->nsigma2 = col + 1;
	}
	d->vecs = grow(d->vecs, &d->nvecs, d->mmd_samples * rc->dim + 1,
	    sizeof(double));
	n = window_vectors(d->w, col, d->mmd_samples, d->vecs);
	m = rc->nvecs < d->mmd_samples ? rc->nvecs : d->mmd_samples;
	if (d->mmd == NULL)
		d->mmd = mmd_create();
	if (d->mmd_cache[col] == NULL)
		d->mmd_cache[col] = mmd_cache_create();
	mmd_begin(d->mmd, rc->vecs, m, d->vecs, n, rc->dim, d->sigma2[col],
	    d->mmd_perms, strmap_hash(c->name, strlen(c->name)),
	    d->mmd_cache[col]);
	return PHASE_MMD;
}

static int
eval_column(struct drift *d, size_t col, int phase)
{
	struct column *c = columns_get(d->cs, col);
	const struct reference_column *rc = reference_column(d->r, col);
	struct result *res = &d->res[col];
	size_t t, nvalid;

	if (phase == PHASE_START) {
		nvalid = window_valid(d->w, col);
		result_reset(res);
		res->records = window_records(d->w);
		res->samples = nvalid;
		for (t = 0; t < CONF_TEST_COUNT; t++) {
			res->score[t] = NAN;
			res->pvalue[t] = NAN;
			res->threshold[t] = NAN;
		}
		{
			size_t n = 0;

			if (c->kind == CONF_NUMERIC && nvalid > 0) {
				d->values = grow(d->values, &d->nvalues,
				    window_records(d->w) + 1, sizeof(double));
				n = window_values(d->w, col, d->values);
				stats_mean_std(d->values, n, &res->mean,
				    &res->std);
			}
			if (d->export_bins && rc != NULL &&
			    c->kind != CONF_VECTOR)
				bins_take(d, col, rc, res, d->values, n);
		}
		res->has_ref = rc != NULL;
		res->ref_samples = rc != NULL ? rc->n : 0;
		if (rc == NULL || nvalid < d->min_samples || rc->n < d->min_samples)
			return PHASE_DONE;
		res->tested = 1;
		res->decide = c->drift.decide == CONF_DECIDE_AUTO ?
		    auto_test(c, rc->n) : c->drift.decide;
		res->tests = c->drift.tests | (1u << res->decide);
		for (t = 0; t < CONF_TEST_COUNT; t++)
			if (res->tests & (1u << t))
				res->threshold[t] = nominal_threshold(&c->drift, (int)t);
		if (c->kind == CONF_CATEGORICAL) {
			eval_categorical(d, col, rc, res);
			return PHASE_DONE;
		}
	}
	if (c->kind == CONF_VECTOR)
		return eval_vector(d, col, rc, res, phase);
	return eval_numeric(d, col, rc, res, phase);
}

/* ------------------------------------------------------------ deciding */

static int
is_pvalue_test(int t)
{
	return t == CONF_TEST_KS || t == CONF_TEST_CHI2 || t == CONF_TEST_MMD;
}

static void
decide(struct drift *d)
{
	size_t n = columns_count(d->cs) < d->nres ? columns_count(d->cs) : d->nres;
	size_t i, m = 0, np = 0, k = 0, drifted = 0;
	double *ps, *scratch;

	for (i = 0; i < n; i++)
		if (d->res[i].tested && columns_get(d->cs, i)->is_feature)
			m++;
	ps = xcalloc(n + 1, sizeof(double));
	scratch = xcalloc(n + 1, sizeof(double));
	/* Benjamini-Hochberg over the features whose deciding test has a
	 * p-value, at the [drift] p_value level; m counts every tested
	 * feature, as the SPEC's share does. */
	for (i = 0; i < n; i++) {
		struct result *res = &d->res[i];
		struct column *c = columns_get(d->cs, i);

		if (res->tested && c->is_feature && is_pvalue_test(res->decide) &&
		    (res->tests & (1u << res->decide)))
			ps[np++] = res->pvalue[res->decide];
	}
	if (d->correction == CONF_CORRECTION_FDR && np > 0 && m > 0) {
		double cut = stats_bh_cutoff(ps, np, m, d->alpha, scratch);
		size_t j;

		/* k = how many p-values the step-up rejects. */
		for (j = 0; cut >= 0 && j < np; j++)
			if (ps[j] <= cut)
				k++;
	}
	for (i = 0; i < n; i++) {
		struct result *res = &d->res[i];
		struct column *c = columns_get(d->cs, i);
		int t = res->decide;
		double p, thr;

		if (!res->tested)
			continue;
		if (!(res->tests & (1u << t))) {
			/* chi2 over a single category both sides share:
			 * nothing to report, and no sign of drift. */
			res->detected = 0;
			continue;
		}
		if (!is_pvalue_test(t)) {
			res->detected = res->score[t] >= res->threshold[t];
		} else {
			p = res->pvalue[t];
			thr = c->drift.p_value;
			if (c->is_feature && m > 0 &&
			    d->correction == CONF_CORRECTION_BONFERRONI) {
				thr = c->drift.p_value / (double)m;
				res->detected = p < thr;
			} else if (c->is_feature && m > 0 &&
			    d->correction == CONF_CORRECTION_FDR) {
				thr = (double)(k > 0 ? k : 1) * d->alpha /
				    (double)m;
				res->detected = k > 0 && p <= thr;
			} else {
				res->detected = p < thr;
			}
			res->threshold[t] = thr;
		}
		if (res->detected && c->is_feature)
			drifted++;
	}
	free(ps);
	free(scratch);
	d->drifted_now = drifted;
	d->tested_now = m;
}

/* ---------------------------------------------------------- publishing */

static void
set_or_make(struct drift *d, struct metrics_series **s, int fam,
    const char *column, const char *test, double v)
{
	if (*s == NULL) {
		const char *lv[3] = { d->model, column, test };

		*s = metrics_series_get(d->fam[fam], lv);
	}
	metrics_set(*s, v);
}

static void
drop(struct metrics_series **s)
{
	if (*s != NULL) {
		metrics_series_remove(*s);
		*s = NULL;
	}
}

static void
ring_push(struct history *h, size_t cap, double v)
{
	if (cap == 0)
		return;
	if (h->v == NULL)
		h->v = xcalloc(cap, sizeof(double));
	if (h->n < cap) {
		h->v[(h->start + h->n++) % cap] = v;
	} else {
		h->v[h->start] = v;
		h->start = (h->start + 1) % cap;
	}
}

/* Add this evaluation's value of column `i` to its history. */
static void
history_push(struct drift *d, size_t i, const struct result *res)
{
	double v = NAN;

	if (i >= d->ncols)
		return;
	if (res->tested && (res->tests & (1u << res->decide))) {
		v = is_pvalue_test(res->decide) ? res->pvalue[res->decide] :
		    res->score[res->decide];
		/* Another test decides now: its values are not comparable
		 * with the earlier ones, which go. */
		if (d->hist[i].test != res->decide)
			d->hist[i].n = d->hist[i].start = 0;
		d->hist[i].test = res->decide;
	}
	ring_push(&d->hist[i], d->hist_cap, v);
}

/* The history oldest first, in new memory (NULL when empty). */
static double *
history_copy(const struct history *h, size_t cap, size_t *n)
{
	double *out;
	size_t i;

	*n = h->n;
	if (h->n == 0)
		return NULL;
	out = xcalloc(h->n, sizeof(double));
	for (i = 0; i < h->n; i++)
		out[i] = h->v[(h->start + i) % cap];
	return out;
}

/*
 * The report's memory in a checkpoint (STATE_TAG_HISTORY): u32 the last
 * dataset verdict (0, 1, or 2 when unknown), u32 the number of columns,
 * then per column its name (bytes), u32 the deciding test the values are
 * of (UINT32_MAX when none yet), u32 the number of values and the values,
 * oldest first.
 */
void
drift_save(const struct drift *d, const struct columns *cs,
    struct state_writer *w)
{
	size_t i, k, n = d->ncols < columns_count(cs) ? d->ncols :
	    columns_count(cs);

	state_begin_section(w, STATE_TAG_HISTORY);
	state_put_u32(w, isnan(d->last_dataset) ? 2 : (uint32_t)d->last_dataset);
	state_put_u32(w, (uint32_t)n);
	for (i = 0; i < n; i++) {
		const char *name = columns_get((struct columns *)(uintptr_t)cs,
		    i)->name;
		const struct history *h = &d->hist[i];

		state_put_bytes(w, name, strlen(name));
		state_put_u32(w, h->test < 0 ? UINT32_MAX : (uint32_t)h->test);
		state_put_u32(w, (uint32_t)h->n);
		for (k = 0; k < h->n; k++)
			state_put_double(w, h->v[(h->start + k) % d->hist_cap]);
	}
	state_end_section(w);
}

int
drift_restore(struct drift *d, struct columns *cs, const struct buf *file)
{
	struct state_reader r;
	uint32_t last, nc, c, n, k;

	if (state_section(file, STATE_TAG_HISTORY, &r) != 0)
		return 0;
	drift_add_columns(d, cs);
	last = state_get_u32(&r);
	nc = state_get_u32(&r);
	if (r.bad || last > 2 || nc > STATE_MAX_ENTRIES)
		return -EBADMSG;
	for (c = 0; c < nc && !r.bad; c++) {
		size_t len;
		const char *name = state_get_string(&r, &len);
		long col = name != NULL ? columns_find(cs, name, len) : -1;
		uint32_t test = state_get_u32(&r);

		n = state_get_u32(&r);
		if (r.bad || n > CONF_MAX_REPORT_HISTORY ||
		    (test >= CONF_TEST_COUNT && test != UINT32_MAX))
			return -EBADMSG;
		if (col >= 0 && (size_t)col < d->ncols)
			d->hist[col].test = test == UINT32_MAX ? -1 : (int)test;
		for (k = 0; k < n; k++) {
			double v = state_get_double(&r);

			/* The newest hist_cap values, if fewer are kept now. */
			if (col >= 0 && (size_t)col < d->ncols &&
			    n - k <= d->hist_cap)
				ring_push(&d->hist[col], d->hist_cap, v);
		}
	}
	if (r.bad)
		return -EBADMSG;
	d->last_dataset = last == 2 ? NAN : (double)last;
	return 0;
}

/* The evaluation's results as a snapshot (see results.h), replacing the
 * last one. */
static void
snapshot(struct drift *d, size_t n)
{
	struct results *r = results_create(n);
	size_t i, t;

	r->time = d->now;
	r->drifted = (double)d->drifted_now;
	r->ratio = d->tested_now > 0 ?
	    (double)d->drifted_now / (double)d->tested_now : 0;
	r->dataset = d->tested_now > 0 && r->ratio >= d->dataset_share;
	r->dataset_share = d->dataset_share;
	r->tested = (double)d->tested_now;
	r->entered_drift = r->dataset == 1 && d->last_dataset != 1;
	d->last_dataset = r->dataset;
	r->ref_source = d->ref_source != NULL ? xstrdup(d->ref_source) : NULL;
	r->ref_sha = d->ref_sha != NULL ? xstrdup(d->ref_sha) : NULL;
	for (i = 0; i < n; i++) {
		const struct column *c = columns_get(d->cs, i);
		struct result *res = &d->res[i];
		struct results_column *rc = &r->cols[i];

		rc->name = xstrdup(c->name);
		rc->kind = c->kind;
		rc->is_feature = c->is_feature;
		rc->samples = (double)res->samples;
		if (res->records > 0)
			rc->missing_ratio = 1.0 - (double)res->samples /
			    (double)res->records;
		if (c->kind == CONF_NUMERIC && res->samples > 0) {
			rc->mean = res->mean;
			rc->std = res->std;
		}
		if (res->has_ref)
			rc->ref_samples = (double)res->ref_samples;
		rc->events = metrics_value(d->cols[i].events);
		rc->chart = res->chart;
		res->chart = NULL;
		history_push(d, i, res);
		rc->history = history_copy(&d->hist[i], d->hist_cap,
		    &rc->nhistory);
		if (!res->tested)
			continue;
		rc->decide = res->decide;
		rc->detected = res->detected;
		for (t = 0; t < CONF_TEST_COUNT; t++) {
			if (!(res->tests & (1u << t)))
				continue;
			rc->t[t].on = 1;
			rc->t[t].score = res->score[t];
			rc->t[t].pvalue = is_pvalue_test((int)t) ?
			    res->pvalue[t] : NAN;
			rc->t[t].threshold = res->threshold[t];
		}
	}
	results_unref(d->latest);
	d->latest = r;
}

struct results *
drift_results(const struct drift *d)
{
	return d->latest;
}

static void
publish(struct drift *d)
{
	size_t n = columns_count(d->cs) < d->nres ? columns_count(d->cs) : d->nres;
	size_t i, t;
	const char *lv[1] = { d->model };

	drift_add_columns(d, d->cs);
	for (i = 0; i < n && d->export_bins; i++)
		bins_publish(d, i, &d->res[i]);
	for (i = 0; i < n; i++) {
		struct column *c = columns_get(d->cs, i);
		struct colseries *cs = &d->cols[i];
		struct result *res = &d->res[i];

		set_or_make(d, &cs->samples, F_SAMPLES, c->name, NULL,
		    (double)res->samples);
		if (res->records > 0)
			set_or_make(d, &cs->missing, F_MISSING_RATIO, c->name, NULL,
			    1.0 - (double)res->samples / (double)res->records);
		if (c->kind == CONF_NUMERIC && res->samples > 0) {
			set_or_make(d, &cs->mean, F_MEAN, c->name, NULL, res->mean);
			set_or_make(d, &cs->std, F_STDDEV, c->name, NULL, res->std);
		}
		if (res->has_ref)
			set_or_make(d, &cs->ref, F_REF_SAMPLES, c->name, NULL,
			    (double)res->ref_samples);
		if (cs->events == NULL) {
			/* At zero when new. */
			const char *cv[2] = { d->model, c->name };

			cs->events = metrics_series_get(d->fam[F_EVENTS], cv);
		}
		for (t = 0; t < CONF_TEST_COUNT; t++) {
			const char *tn = conf_test_name((enum conf_test)t);

			if (!res->tested || !(res->tests & (1u << t))) {
				drop(&cs->score[t]);
				drop(&cs->pvalue[t]);
				drop(&cs->threshold[t]);
				continue;
			}
			set_or_make(d, &cs->score[t], F_SCORE, c->name, tn,
			    res->score[t]);
			if (is_pvalue_test((int)t))
				set_or_make(d, &cs->pvalue[t], F_PVALUE, c->name,
				    tn, res->pvalue[t]);
			set_or_make(d, &cs->threshold[t], F_THRESHOLD, c->name,
			    tn, res->threshold[t]);
		}
		if (!res->tested) {
			drop(&cs->detected);
			cs->was_detected = 0;
			continue;
		}
		if (cs->detected == NULL) {
			const char *cv[2] = { d->model, c->name };

			cs->detected = metrics_series_get(d->fam[F_DETECTED], cv);
			cs->was_detected = 0;
		}
		metrics_set(cs->detected, res->detected);
		if (res->detected && !cs->was_detected)
			metrics_add(cs->events, 1);
		cs->was_detected = res->detected;
	}
	if (d->dataset == NULL) {
		d->dataset = metrics_series_get(d->fam[F_DATASET], lv);
		d->drifted = metrics_series_get(d->fam[F_DRIFTED], lv);
		d->ratio = metrics_series_get(d->fam[F_DRIFTED_RATIO], lv);
		d->eval_time = metrics_series_get(d->fam[F_EVAL_TIME], lv);
	}
	{
		double share = d->tested_now > 0 ?
		    (double)d->drifted_now / (double)d->tested_now : 0;

		metrics_set(d->dataset, d->tested_now > 0 &&
		    share >= d->dataset_share);
		metrics_set(d->drifted, (double)d->drifted_now);
		metrics_set(d->ratio, share);
	}
	metrics_set(d->eval_time, d->now);
	snapshot(d, n);
}

/* ------------------------------------------------------------- driving */

void
drift_begin(struct drift *d, struct columns *cs, struct window *w,
    const struct reference *r, double now)
{
	size_t n = columns_count(cs);

	d->cs = cs;
	d->w = w;
	d->r = r;
	d->now = now;
	d->next = 0;
	d->phase = 0;
	d->spent_ns = 0;
	if (d->nres < n) {
		d->res = xreallocarray(d->res, n, sizeof(*d->res));
		memset(d->res + d->nres, 0, (n - d->nres) * sizeof(*d->res));
		d->nres = n;
	}
	d->busy = 1;
}

int
drift_step(struct drift *d, double budget)
{
	uint64_t start = uv_hrtime(), limit = (uint64_t)(budget * 1e9);
	size_t n;

	if (!d->busy)
		return 1;
	/* Columns discovered during the evaluation wait for the next one. */
	n = d->nres < columns_count(d->cs) ? d->nres : columns_count(d->cs);
	while (d->next < n) {
		d->phase = eval_column(d, d->next, d->phase);
		if (d->phase == PHASE_DONE) {
			d->next++;
			d->phase = PHASE_START;
		}
		if (uv_hrtime() - start >= limit)
			break;
	}
	d->spent_ns += uv_hrtime() - start;
	if (d->next < n)
		return 0;
	start = uv_hrtime();
	/* Columns the evaluation did not reach are left out this time. */
	for (; d->next < columns_count(d->cs) && d->next < d->nres; d->next++)
		result_reset(&d->res[d->next]);
	decide(d);
	publish(d);
	d->spent_ns += uv_hrtime() - start;
	metrics_observe(d->duration, (double)d->spent_ns / 1e9);
	d->busy = 0;
	return 1;
}

int
drift_busy(const struct drift *d)
{
	return d->busy;
}

