/*
 * window.c - rolling windows of the most recent records, per column.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "util.h"
#include "window.h"

#define CODE_NONE STATS_NO_GAP

struct wcol {
	enum window_kind kind;
	double *num;             /* numeric: size values, NaN = missing */
	uint32_t *code;          /* numeric: reference codes, or CODE_NONE */
	uint32_t *cat;           /* categorical: ids, WINDOW_MISSING = missing */
	uint32_t *counts;        /* categorical: per id */
	float *vec;              /* vector: size x dim, NaN first = missing */
	size_t dim;
	size_t ncounts;
	size_t valid;
	const double *ref;       /* numeric: sorted reference, or NULL */
	size_t nref;
	uint64_t coded_at;       /* w->pushes when codes were last made */
};

struct window {
	size_t size;
	double max_age;
	double *t;               /* record times */
	size_t head;             /* the oldest record's slot */
	size_t n;                /* slots in use */
	size_t dead;             /* of those, records expired out of order
	                            (time NaN, no values) */
	size_t cur;              /* the slot window_push() opened */
	double newest;
	uint64_t pushes;         /* records pushed, ever */
	struct wcol *cols;
	size_t ncols;
};

struct window *
window_create(size_t size, double max_age)
{
	struct window *w = xcalloc(1, sizeof(*w));

	w->size = size > 0 ? size : 1;
	w->max_age = max_age;
	w->t = xcalloc(w->size, sizeof(double));
	w->newest = -INFINITY;
	return w;
}

void
window_destroy(struct window *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->ncols; i++) {
		free(w->cols[i].num);
		free(w->cols[i].code);
		free(w->cols[i].cat);
		free(w->cols[i].counts);
		free(w->cols[i].vec);
	}
	free(w->cols);
	free(w->t);
	free(w);
}

size_t
window_add_column(struct window *w, enum window_kind kind)
{
	struct wcol *c;
	size_t i;

	w->cols = xreallocarray(w->cols, w->ncols + 1, sizeof(*w->cols));
	c = &w->cols[w->ncols];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	if (kind == WINDOW_NUMERIC) {
		c->num = xreallocarray(NULL, w->size, sizeof(double));
		c->code = xreallocarray(NULL, w->size, sizeof(uint32_t));
		for (i = 0; i < w->size; i++) {
			c->num[i] = NAN;
			c->code[i] = CODE_NONE;
		}
	} else if (kind == WINDOW_CATEGORICAL) {
		c->cat = xreallocarray(NULL, w->size, sizeof(uint32_t));
		for (i = 0; i < w->size; i++)
			c->cat[i] = WINDOW_MISSING;
	}
	return w->ncols++;
}

void
window_set_dim(struct window *w, size_t col, size_t dim)
{
	struct wcol *c = &w->cols[col];
	size_t i;

	if (c->kind != WINDOW_VECTOR || (dim == c->dim && c->vec != NULL))
		return;
	free(c->vec);
	c->vec = NULL;
	c->dim = dim;
	c->valid = 0;
	if (dim == 0)
		return;
	c->vec = xreallocarray(NULL, w->size, dim * sizeof(float));
	for (i = 0; i < w->size; i++)
		c->vec[i * dim] = NAN;
}

size_t
window_dim(const struct window *w, size_t col)
{
	return w->cols[col].dim;
}

void
window_set_vec(struct window *w, size_t col, const double *v, size_t dim,
    const double *scale)
{
	struct wcol *c = &w->cols[col];
	float *out;
	size_t i;

	if (c->vec == NULL || dim != c->dim)
		return;
	out = c->vec + w->cur * dim;
	if (isnan(out[0]))
		c->valid++;
	if (scale == NULL) {
		for (i = 0; i < dim; i++)
			out[i] = (float)v[i];
	} else {
		for (i = 0; i < dim; i++)
			out[i] = (float)((v[i] - scale[2 * i]) / scale[2 * i + 1]);
	}
	/* A value too large for a float is none. */
	for (i = 0; i < dim; i++) {
		if (!isfinite(out[i])) {
			out[0] = NAN;
			c->valid--;
			return;
		}
	}
}

size_t
window_vectors(const struct window *w, size_t col, size_t max, double *out)
{
	const struct wcol *c = &w->cols[col];
	size_t k = 0, i, j, slot, first, dim = c->dim;

	if (c->vec == NULL || max == 0)
		return 0;
	/* Back from the newest to find where the newest `max` begin. */
	for (i = w->n; i > 0 && k < max; i--) {
		slot = (w->head + i - 1) % w->size;
		if (!isnan(c->vec[slot * dim]))
			k++;
	}
	first = i;
	k = 0;
	for (i = first; i < w->n; i++) {
		const float *v;

		slot = (w->head + i) % w->size;
		v = c->vec + slot * dim;
		if (isnan(v[0]))
			continue;
		for (j = 0; j < dim; j++)
			out[k * dim + j] = v[j];
		k++;
	}
	return k;
}

size_t
window_columns(const struct window *w)
{
	return w->ncols;
}

/* The value's gap among the reference values (see stats_gap_code()). */
static uint32_t
ref_code(const struct wcol *c, double v)
{
	return stats_gap_code(c->ref, c->nref, v);
}

void
window_set_reference(struct window *w, size_t col, const double *sorted,
    size_t n)
{
	struct wcol *c = &w->cols[col];
	size_t i;

	/* Without codes (no reference, or one too large for them), the
	 * window is sorted for an evaluation instead. */
	c->ref = n > 0 && n < STATS_GAP_MAX_REF ? sorted : NULL;
	c->nref = c->ref != NULL ? n : 0;
	for (i = 0; i < w->size; i++)
		c->code[i] = c->ref != NULL && !isnan(c->num[i]) ?
		    ref_code(c, c->num[i]) : CODE_NONE;
	c->coded_at = w->pushes;
}

/* Remove the value in `slot` from the column's tallies. */
static inline void
forget(struct wcol *c, size_t slot)
{
	/* Once per column and record leaving the window: the common kinds
	 * first. */
	if (c->kind == WINDOW_NUMERIC) {
		if (!isnan(c->num[slot])) {
			c->valid--;
			c->num[slot] = NAN;
			c->code[slot] = CODE_NONE;
		}
	} else if (c->kind == WINDOW_VECTOR) {
		if (c->vec != NULL && !isnan(c->vec[slot * c->dim])) {
			c->valid--;
			c->vec[slot * c->dim] = NAN;
		}
	} else if (c->cat[slot] != WINDOW_MISSING) {
		c->counts[c->cat[slot]]--;
		c->valid--;
		c->cat[slot] = WINDOW_MISSING;
	}
}

static void
evict_oldest(struct window *w)
{
	size_t i;

	for (i = 0; i < w->ncols; i++)
		forget(&w->cols[i], w->head);
	if (isnan(w->t[w->head]))
		w->dead--;
	if (++w->head == w->size)       /* no division on the ingest path */
		w->head = 0;
	w->n--;
}

/* Evict the oldest records while they are too old (or expired). */
static void
expire_head(struct window *w, double now)
{
	while (w->n > 0 && (w->t[w->head] < now - w->max_age ||
	    isnan(w->t[w->head])))
		evict_oldest(w);
}

void
window_expire(struct window *w, double now)
{
	size_t i, slot;

	if (w->max_age <= 0)
		return;
	expire_head(w, now);
	/* Records that arrived out of order may be too old behind newer
	 * ones: they leave the window too, their slots kept until they are
	 * the oldest. */
	for (i = 0, slot = w->head; i < w->n; i++) {
		if (w->t[slot] < now - w->max_age) {
			size_t c;

			for (c = 0; c < w->ncols; c++)
				forget(&w->cols[c], slot);
			w->t[slot] = NAN;
			w->dead++;
		}
		if (++slot == w->size)
			slot = 0;
	}
}

void
window_clear(struct window *w)
{
	while (w->n > 0)
		evict_oldest(w);
	w->newest = -INFINITY;
}

void
window_push(struct window *w, double t)
{
	if (t > w->newest)
		w->newest = t;
	if (w->n == w->size)
		evict_oldest(w);
	if (w->max_age > 0)
		expire_head(w, w->newest);
	w->cur = w->head + w->n;        /* head < size and n < size here */
	if (w->cur >= w->size)
		w->cur -= w->size;
	w->t[w->cur] = t;
	w->n++;
	w->pushes++;
}

void
window_set_num(struct window *w, size_t col, double v)
{
	struct wcol *c = &w->cols[col];

	/* NaN marks a missing value; a record's value set twice counts once. */
	if (isnan(v))
		return;
	if (isnan(c->num[w->cur]))
		c->valid++;
	c->num[w->cur] = v;
	/* Its code among the reference values is made when an evaluation
	 * needs it (window_runs()), if the value is still in the window. */
}

void
window_set_cat(struct window *w, size_t col, uint32_t id)
{
	struct wcol *c = &w->cols[col];

	if (id == WINDOW_MISSING)
		return;
	/* A record's value set twice counts once: the last one. */
	if (c->cat[w->cur] != WINDOW_MISSING) {
		c->counts[c->cat[w->cur]]--;
		c->valid--;
	}
	if (id >= c->ncounts) {
		size_t n = c->ncounts ? c->ncounts : 16;

		while (n <= id)
			n *= 2;
		c->counts = xreallocarray(c->counts, n, sizeof(uint32_t));
		memset(c->counts + c->ncounts, 0, (n - c->ncounts) * sizeof(uint32_t));
		c->ncounts = n;
	}
	c->cat[w->cur] = id;
	c->counts[id]++;
	c->valid++;
}

size_t
window_records(const struct window *w)
{
	return w->n - w->dead;
}

size_t
window_slots(const struct window *w)
{
	return w->n;
}

size_t
window_valid(const struct window *w, size_t col)
{
	return w->cols[col].valid;
}

/* How many of the records, oldest first, lie before the ring wraps. */
static size_t
first_run(const struct window *w)
{
	return w->size - w->head < w->n ? w->size - w->head : w->n;
}

size_t
window_values(const struct window *w, size_t col, double *out)
{
	const struct wcol *c = &w->cols[col];
	size_t first = first_run(w), r, i, k = 0;
	const double *run[2] = { c->num + w->head, c->num };
	size_t len[2] = { first, w->n - first };

	for (r = 0; r < 2; r++) {
		if (c->valid == w->n) {
			/* No record lacks the value: copy the run whole. */
			memcpy(out + k, run[r], len[r] * sizeof(double));
			k += len[r];
			continue;
		}
		for (i = 0; i < len[r]; i++)
			if (!isnan(run[r][i]))
				out[k++] = run[r][i];
	}
	return k;
}

/* Code the values pushed since the column was last coded: the newest
 * slots, at most the whole window. */
static void
code_new(struct window *w, struct wcol *c)
{
	uint64_t k = w->pushes - c->coded_at;
	size_t i, slot;

	if (k > w->n)
		k = w->n;
	slot = w->head + w->n - (size_t)k;
	if (slot >= w->size)
		slot -= w->size;
	for (i = 0; i < k; i++) {
		c->code[slot] = isnan(c->num[slot]) ? CODE_NONE :
		    ref_code(c, c->num[slot]);
		if (++slot == w->size)
			slot = 0;
	}
	c->coded_at = w->pushes;
}

size_t
window_runs(struct window *w, size_t col, struct stats_run runs[2])
{
	struct wcol *c = &w->cols[col];
	size_t first = first_run(w);

	if (c->ref == NULL)
		return 0;
	code_new(w, c);
	runs[0].v = c->num + w->head;
	runs[0].code = c->code + w->head;
	runs[0].n = first;
	if (first == w->n)
		return 1;
	runs[1].v = c->num;
	runs[1].code = c->code;
	runs[1].n = w->n - first;
	return 2;
}

const uint32_t *
window_category_counts(const struct window *w, size_t col, size_t *n)
{
	*n = w->cols[col].ncounts;
	return w->cols[col].counts;
}

/* Copy `n` slots of `elem` bytes each from a ring array, oldest first. */
static void
copy_ring(const struct window *w, const void *ring, size_t elem, void *out)
{
	size_t first = w->size - w->head < w->n ? w->size - w->head : w->n;

	memcpy(out, (const char *)ring + w->head * elem, first * elem);
	memcpy((char *)out + first * elem, ring, (w->n - first) * elem);
}

size_t
window_times(const struct window *w, void *out)
{
	copy_ring(w, w->t, sizeof(double), out);
	return w->n;
}

void
window_num_slots(const struct window *w, size_t col, void *out)
{
	copy_ring(w, w->cols[col].num, sizeof(double), out);
}

void
window_cat_slots(const struct window *w, size_t col, void *out)
{
	copy_ring(w, w->cols[col].cat, sizeof(uint32_t), out);
}

void
window_vec_slots(const struct window *w, size_t col, void *out)
{
	const struct wcol *c = &w->cols[col];

	if (c->vec != NULL)
		copy_ring(w, c->vec, c->dim * sizeof(float), out);
}
