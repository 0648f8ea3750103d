/*
 * results.c - what one evaluation found, as an immutable snapshot.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "results.h"
#include "util.h"

struct results *
results_create(size_t ncols)
{
	struct results *r = xcalloc(1, sizeof(*r));
	size_t i, t;

	r->refs = 1;
	r->time = r->dataset = r->drifted = r->ratio = NAN;
	r->dataset_share = r->tested = NAN;
	r->ncols = ncols;
	r->cols = xcalloc(ncols + 1, sizeof(*r->cols));
	for (i = 0; i < ncols; i++) {
		struct results_column *c = &r->cols[i];

		c->samples = c->ref_samples = c->missing_ratio = NAN;
		c->mean = c->std = c->detected = c->events = NAN;
		c->decide = -1;
		for (t = 0; t < CONF_TEST_COUNT; t++)
			c->t[t].score = c->t[t].pvalue = c->t[t].threshold = NAN;
	}
	return r;
}

struct results_chart *
results_chart_create(size_t n, int categorical)
{
	struct results_chart *c = xcalloc(1, sizeof(*c));

	c->n = n;
	c->ref = xcalloc(n + 1, sizeof(double));
	c->win = xcalloc(n + 1, sizeof(double));
	if (categorical)
		c->labels = xcalloc(n + 1, sizeof(char *));
	else
		c->edges = xcalloc(n + 1, sizeof(double));
	return c;
}

void
results_chart_free(struct results_chart *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->labels != NULL)
		for (i = 0; i < c->n; i++)
			free(c->labels[i]);
	free(c->labels);
	free(c->edges);
	free(c->ref);
	free(c->win);
	free(c);
}

struct results *
results_ref(struct results *r)
{
	r->refs++;
	return r;
}

void
results_unref(struct results *r)
{
	size_t i;

	if (r == NULL || --r->refs > 0)
		return;
	for (i = 0; i < r->ncols; i++) {
		free(r->cols[i].name);
		results_chart_free(r->cols[i].chart);
		free(r->cols[i].history);
	}
	free(r->cols);
	free(r->ref_source);
	free(r->ref_sha);
	free(r);
}
