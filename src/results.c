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
	r->ncols = ncols;
	r->cols = xcalloc(ncols + 1, sizeof(*r->cols));
	for (i = 0; i < ncols; i++) {
		struct results_column *c = &r->cols[i];

		c->samples = c->ref_samples = c->missing_ratio = NAN;
		c->mean = c->std = c->detected = c->events = NAN;
		for (t = 0; t < CONF_TEST_COUNT; t++)
			c->t[t].score = c->t[t].pvalue = c->t[t].threshold = NAN;
	}
	return r;
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
	for (i = 0; i < r->ncols; i++)
		free(r->cols[i].name);
	free(r->cols);
	free(r->ref_source);
	free(r->ref_sha);
	free(r);
}
