/*
 * metrics.c - the metrics registry and its exposition.
 *
 * Formats: https://prometheus.io/docs/instrumenting/exposition_formats/ and
 * the OpenMetrics 1.0 specification.  Differences that matter here: an
 * OpenMetrics counter family is named without its "_total" suffix in the
 * TYPE and HELP lines, and the exposition ends with "# EOF".
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "strmap.h"
#include "util.h"

#define HASH_MIN_BUCKETS 16

struct metrics_series {
	struct metrics_family *family;
	struct metrics_series *next;       /* in insertion order */
	struct metrics_series *prev;
	struct metrics_series *hnext;      /* hash chain */
	uint64_t hash;
	char *labels;                      /* escaped: a="x",b="y" (no braces) */
	size_t labels_len;
	char **values;                     /* the label values as given */
	double value;                      /* counter or gauge */
	uint64_t *buckets;                 /* histogram: per-bucket counts, nbounds+1 */
	uint64_t count;
	double sum;
	uint64_t taken;                    /* generation it was last taken in */
};

struct metrics_family {
	struct metrics_registry *registry;
	/* Bumped on every change to a series of the family; a rendering is
	 * reused while the version it was made from is current. */
	uint64_t version;
	uint64_t cached_version[2];
	struct buf cached[2];              /* per metrics_format */
	const struct metrics_desc *desc;
	size_t nlabels;
	double *bounds;
	size_t nbounds;
	struct metrics_series *head, *tail;
	size_t nseries;
	struct metrics_series **table;     /* hash buckets */
	size_t tablesize;
	uint64_t taken;                    /* see metrics_mark() */
};

struct collector {
	metrics_collect_cb cb;
	void *arg;
};

struct metrics_registry {
	struct metrics_family **families;
	size_t nfamilies;
	struct collector *collectors;
	size_t ncollectors;
	struct buf scratch;
	uint64_t generation;               /* see metrics_mark() */
};

struct metrics_registry *
metrics_create(void)
{
	return xcalloc(1, sizeof(struct metrics_registry));
}

static void
series_free(struct metrics_series *s)
{
	size_t i;

	for (i = 0; i < s->family->nlabels; i++)
		free(s->values[i]);
	free(s->values);
	free(s->labels);
	free(s->buckets);
	free(s);
}

void
metrics_family_clear(struct metrics_family *f)
{
	struct metrics_series *s, *next;

	for (s = f->head; s != NULL; s = next) {
		next = s->next;
		series_free(s);
	}
	f->head = f->tail = NULL;
	f->nseries = 0;
	f->version++;
	if (f->table != NULL)
		memset(f->table, 0, f->tablesize * sizeof(*f->table));
}

struct metrics_family *
metrics_family_get(struct metrics_registry *r, const struct metrics_desc *desc,
    const double *bounds, size_t nbounds)
{
	struct metrics_family *f = metrics_family_find(r, desc->name);

	if (f == NULL)
		f = metrics_family_add(r, desc, bounds, nbounds);
	f->taken = r->generation;
	return f;
}

void
metrics_mark(struct metrics_registry *r)
{
	r->generation++;
}

void
metrics_sweep(struct metrics_registry *r)
{
	size_t i;

	for (i = 0; i < r->nfamilies; i++) {
		struct metrics_family *f = r->families[i];
		struct metrics_series *s, *next;

		if (f->taken != r->generation)
			continue;        /* its owner stayed */
		for (s = f->head; s != NULL; s = next) {
			next = s->next;
			if (s->taken != r->generation)
				metrics_series_remove(s);
		}
	}
}

int
metrics_family_set_bounds(struct metrics_family *f, const double *bounds,
    size_t nbounds)
{
	if (f->desc->type != METRICS_HISTOGRAM || (nbounds == f->nbounds &&
	    (nbounds == 0 || memcmp(bounds, f->bounds,
	    nbounds * sizeof(double)) == 0)))
		return 0;
	/* Counts cannot move to other buckets: the series start again. */
	metrics_family_clear(f);
	free(f->bounds);
	f->bounds = NULL;
	f->nbounds = 0;
	if (nbounds > 0) {
		f->bounds = xreallocarray(NULL, nbounds, sizeof(double));
		memcpy(f->bounds, bounds, nbounds * sizeof(double));
		f->nbounds = nbounds;
	}
	f->version++;
	return 1;
}

void
metrics_destroy(struct metrics_registry *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nfamilies; i++) {
		struct metrics_family *f = r->families[i];

		metrics_family_clear(f);
		free(f->table);
		free(f->bounds);
		buf_free(&f->cached[0]);
		buf_free(&f->cached[1]);
		free(f);
	}
	free(r->families);
	free(r->collectors);
	buf_free(&r->scratch);
	free(r);
}

struct metrics_family *
metrics_family_add(struct metrics_registry *r, const struct metrics_desc *desc,
    const double *bounds, size_t nbounds)
{
	struct metrics_family *f;
	size_t i;

	for (i = 0; i < r->nfamilies; i++)
		if (strcmp(r->families[i]->desc->name, desc->name) == 0)
			return NULL;
	f = xcalloc(1, sizeof(*f));
	f->registry = r;
	f->desc = desc;
	f->version = 1;
	while (f->nlabels < METRICS_MAX_LABELS && desc->labels[f->nlabels] != NULL)
		f->nlabels++;
	if (desc->type == METRICS_HISTOGRAM && nbounds > 0) {
		f->bounds = xreallocarray(NULL, nbounds, sizeof(double));
		memcpy(f->bounds, bounds, nbounds * sizeof(double));
		f->nbounds = nbounds;
	}
	r->families = xreallocarray(r->families, r->nfamilies + 1,
	    sizeof(*r->families));
	r->families[r->nfamilies++] = f;
	return f;
}

struct metrics_family *
metrics_family_find(struct metrics_registry *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nfamilies; i++)
		if (strcmp(r->families[i]->desc->name, name) == 0)
			return r->families[i];
	return NULL;
}

void
metrics_family_add_table(struct metrics_registry *r,
    const struct metrics_desc *descs, size_t n, struct metrics_family **families)
{
	size_t i;

	for (i = 0; i < n; i++)
		families[i] = metrics_family_add(r, &descs[i], NULL, 0);
}

void
metrics_escape_label(struct buf *out, const char *s, size_t len)
{
	size_t i, start = 0;

	buf_reserve(out, len);
	for (i = 0; i < len; i++) {
		const char *rep;

		switch (s[i]) {
		case '\\': rep = "\\\\"; break;
		case '"':  rep = "\\\""; break;
		case '\n': rep = "\\n"; break;
		default:   continue;
		}
		buf_append(out, s + start, i - start);
		buf_puts(out, rep);
		start = i + 1;
	}
	buf_append(out, s + start, len - start);
}

/* FNV-1a over the escaped label text, which is unique per label set. */
static uint64_t
hash_bytes(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void
table_grow(struct metrics_family *f)
{
	size_t size = f->tablesize ? f->tablesize * 2 : HASH_MIN_BUCKETS;
	struct metrics_series **t = xcalloc(size, sizeof(*t));
	struct metrics_series *s;

	for (s = f->head; s != NULL; s = s->next) {
		size_t b = s->hash & (size - 1);

		s->hnext = t[b];
		t[b] = s;
	}
	free(f->table);
	f->table = t;
	f->tablesize = size;
}

/* The escaped label text of `values` into the registry's scratch buffer,
 * and its hash; -1 if the values are too long. */
static int
series_key(struct metrics_family *f, const char *const *values, uint64_t *h)
{
	struct buf *key = &f->registry->scratch;
	size_t i, total = 0;

	for (i = 0; i < f->nlabels; i++)
		total += strlen(values[i]);
	if (total > METRICS_MAX_LABEL_BYTES)
		return -1;
	buf_reset(key);
	for (i = 0; i < f->nlabels; i++) {
		if (i > 0)
			buf_putc(key, ',');
		buf_puts(key, f->desc->labels[i]);
		buf_puts(key, "=\"");
		metrics_escape_label(key, values[i], strlen(values[i]));
		buf_putc(key, '"');
	}
	*h = hash_bytes(key->data ? key->data : "", key->len);
	return 0;
}

/* The series whose key series_key() just made, taken, or NULL. */
static struct metrics_series *
series_lookup(struct metrics_family *f, uint64_t h)
{
	const struct buf *key = &f->registry->scratch;
	struct metrics_series *s;

	if (f->tablesize == 0)
		return NULL;
	for (s = f->table[h & (f->tablesize - 1)]; s != NULL; s = s->hnext)
		if (s->hash == h && s->labels_len == key->len &&
		    memcmp(s->labels, key->data, key->len) == 0) {
			s->taken = f->registry->generation;
			return s;
		}
	return NULL;
}

struct metrics_series *
metrics_series_find(struct metrics_family *f, const char *const *values)
{
	uint64_t h;

	if (series_key(f, values, &h) != 0)
		return NULL;
	return series_lookup(f, h);
}

struct metrics_series *
metrics_series_get(struct metrics_family *f, const char *const *values)
{
	const struct buf *key = &f->registry->scratch;
	struct metrics_series *s;
	size_t i;
	uint64_t h;

	if (series_key(f, values, &h) != 0)
		return NULL;
	s = series_lookup(f, h);
	if (s != NULL)
		return s;
	s = xcalloc(1, sizeof(*s));
	s->family = f;
	s->taken = f->registry->generation;
	s->hash = h;
	s->labels = xstrndup(key->data ? key->data : "", key->len);
	s->labels_len = key->len;
	s->values = xcalloc(f->nlabels + 1, sizeof(char *));
	for (i = 0; i < f->nlabels; i++)
		s->values[i] = xstrdup(values[i]);
	f->version++;
	if (f->desc->type == METRICS_HISTOGRAM)
		s->buckets = xcalloc(f->nbounds + 1, sizeof(uint64_t));
	s->prev = f->tail;
	if (f->tail != NULL)
		f->tail->next = s;
	else
		f->head = s;
	f->tail = s;
	f->nseries++;
	if (f->nseries * 4 > f->tablesize * 3) {
		/* Keep the load factor under 3/4; growing rehashes s too. */
		table_grow(f);
	} else {
		size_t b = h & (f->tablesize - 1);

		s->hnext = f->table[b];
		f->table[b] = s;
	}
	return s;
}

size_t
metrics_family_size(const struct metrics_family *f)
{
	return f->nseries;
}

void
metrics_series_remove(struct metrics_series *s)
{
	struct metrics_family *f;
	struct metrics_series **pp;

	if (s == NULL)
		return;
	f = s->family;
	pp = &f->table[s->hash & (f->tablesize - 1)];
	while (*pp != s)
		pp = &(*pp)->hnext;
	*pp = s->hnext;
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		f->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		f->tail = s->prev;
	f->nseries--;
	f->version++;
	series_free(s);
}

void
metrics_set(struct metrics_series *s, double v)
{
	/* Unchanged values keep the family's cached rendering. */
	if (s != NULL && (s->value != v || isnan(v))) {
		s->value = v;
		s->family->version++;
	}
}

void
metrics_add(struct metrics_series *s, double v)
{
	if (s == NULL)
		return;
	s->value += v;
	s->family->version++;
}

double
metrics_value(const struct metrics_series *s)
{
	return s != NULL ? s->value : NAN;
}

void
metrics_observe(struct metrics_series *s, double v)
{
	const struct metrics_family *f;
	size_t lo = 0, hi, i;

	if (s == NULL)
		return;
	f = s->family;
	hi = f->nbounds;
	/* First bound >= v; values above every bound go to +Inf.  A NaN
	 * compares false everywhere and lands in +Inf, as in client_golang.
	 * A few bounds are counted without a branch: the bounds below v
	 * (or not >= it) are those before the first bound >= v. */
	if (hi <= 16) {
		for (i = 0; i < hi; i++)
			lo += !(v <= f->bounds[i]);
	} else {
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (v <= f->bounds[mid])
				hi = mid;
			else
				lo = mid + 1;
		}
	}
	s->buckets[lo]++;
	s->count++;
	s->sum += v;
	s->family->version++;
}

void
metrics_on_collect(struct metrics_registry *r, metrics_collect_cb cb, void *arg)
{
	r->collectors = xreallocarray(r->collectors, r->ncollectors + 1,
	    sizeof(*r->collectors));
	r->collectors[r->ncollectors].cb = cb;
	r->collectors[r->ncollectors].arg = arg;
	r->ncollectors++;
}

void
metrics_remove_collect(struct metrics_registry *r, metrics_collect_cb cb,
    void *arg)
{
	size_t i;

	for (i = 0; i < r->ncollectors; i++) {
		if (r->collectors[i].cb != cb || r->collectors[i].arg != arg)
			continue;
		memmove(&r->collectors[i], &r->collectors[i + 1],
		    (r->ncollectors - i - 1) * sizeof(*r->collectors));
		r->ncollectors--;
		return;
	}
}

/* name{labels[,extra]} value[ timestamp]\n; `ts` is appended as given
 * (NULL for none). */
static void
put_sample(struct buf *out, const char *name, const char *suffix,
    const struct metrics_series *s, const char *extra, double v,
    const char *ts)
{
	buf_puts(out, name);
	buf_puts(out, suffix);
	if (s->labels_len > 0 || extra != NULL) {
		buf_putc(out, '{');
		buf_append(out, s->labels, s->labels_len);
		if (extra != NULL) {
			if (s->labels_len > 0)
				buf_putc(out, ',');
			buf_puts(out, extra);
		}
		buf_putc(out, '}');
	}
	buf_putc(out, ' ');
	buf_put_double(out, v);
	if (ts != NULL) {
		buf_putc(out, ' ');
		buf_puts(out, ts);
	}
	buf_putc(out, '\n');
}

static void
render_help(struct buf *out, const char *text)
{
	/* HELP text escapes only backslash and newline. */
	for (; *text != '\0'; text++) {
		if (*text == '\\')
			buf_puts(out, "\\\\");
		else if (*text == '\n')
			buf_puts(out, "\\n");
		else
			buf_putc(out, *text);
	}
}

/* A family's HELP and TYPE lines. */
static void
render_meta(const struct metrics_family *f, enum metrics_format fmt,
    struct buf *out)
{
	static const char *const type_names[] = { "counter", "gauge", "histogram" };
	const struct metrics_desc *d = f->desc;
	size_t namelen = strlen(d->name);
	char family_name[256];

	util_strlcpy(family_name, d->name, sizeof(family_name));
	if (fmt == METRICS_FORMAT_OPENMETRICS && d->type == METRICS_COUNTER &&
	    namelen > 6 && strcmp(d->name + namelen - 6, "_total") == 0)
		family_name[namelen - 6] = '\0';

	buf_puts(out, "# HELP ");
	buf_puts(out, family_name);
	buf_putc(out, ' ');
	render_help(out, d->help);
	buf_puts(out, "\n# TYPE ");
	buf_puts(out, family_name);
	buf_putc(out, ' ');
	buf_puts(out, type_names[d->type]);
	buf_putc(out, '\n');
}

/* One series' samples, each with timestamp `ts` unless NULL. */
static void
render_series(const struct metrics_family *f, const struct metrics_series *s,
    struct buf *out, struct buf *le, const char *ts)
{
	const struct metrics_desc *d = f->desc;
	uint64_t cum = 0;
	size_t i;

	if (d->type != METRICS_HISTOGRAM) {
		put_sample(out, d->name, "", s, NULL, s->value, ts);
		return;
	}
	for (i = 0; i < f->nbounds; i++) {
		cum += s->buckets[i];
		buf_reset(le);
		buf_puts(le, "le=\"");
		buf_put_double(le, f->bounds[i]);
		buf_putc(le, '"');
		put_sample(out, d->name, "_bucket", s, le->data, (double)cum, ts);
	}
	put_sample(out, d->name, "_bucket", s, "le=\"+Inf\"",
	    (double)s->count, ts);
	put_sample(out, d->name, "_sum", s, NULL, s->sum, ts);
	put_sample(out, d->name, "_count", s, NULL, (double)s->count, ts);
}

/* A family's samples, each with timestamp `ts` unless NULL. */
static void
render_samples(const struct metrics_family *f, struct buf *out,
    struct buf *le, const char *ts)
{
	const struct metrics_series *s;

	for (s = f->head; s != NULL; s = s->next)
		render_series(f, s, out, le, ts);
}

static void
render_family(const struct metrics_family *f, enum metrics_format fmt,
    struct buf *out, struct buf *le)
{
	render_meta(f, fmt, out);
	render_samples(f, out, le, NULL);
}

void
metrics_render(struct metrics_registry *r, enum metrics_format fmt,
    struct buf *out)
{
	metrics_collect(r);
	metrics_render_collected(r, fmt, out);
}

uint64_t
metrics_generation(const struct metrics_registry *r)
{
	uint64_t g = r->nfamilies;
	size_t i;

	/* Versions only grow: any change makes the sum grow. */
	for (i = 0; i < r->nfamilies; i++)
		g += r->families[i]->version;
	return g;
}

void
metrics_render_collected(struct metrics_registry *r, enum metrics_format fmt,
    struct buf *out)
{
	size_t i;

	for (i = 0; i < r->nfamilies; i++) {
		struct metrics_family *f = r->families[i];

		if (f->nseries == 0)
			continue;
		if (f->cached_version[fmt] != f->version) {
			buf_reset(&f->cached[fmt]);
			render_family(f, fmt, &f->cached[fmt], &r->scratch);
			f->cached_version[fmt] = f->version;
		}
		buf_append(out, f->cached[fmt].data, f->cached[fmt].len);
	}
	if (fmt == METRICS_FORMAT_OPENMETRICS)
		buf_puts(out, "# EOF\n");
}

const struct metrics_series *
metrics_family_first(const struct metrics_family *f)
{
	return f->head;
}

const struct metrics_series *
metrics_series_next(const struct metrics_series *s)
{
	return s->next;
}

const char *
metrics_series_label(const struct metrics_series *s, size_t i)
{
	return i < s->family->nlabels ? s->values[i] : NULL;
}

void
metrics_collect(struct metrics_registry *r)
{
	size_t i;

	for (i = 0; i < r->ncollectors; i++)
		r->collectors[i].cb(r->collectors[i].arg);
}

/* ------------------------------------------------------------ history */

/*
 * Each family's samples go to a temporary file as records: u32 the
 * series' number (in order of first appearance), u32 the length, then
 * the lines of that series at that time.  OpenMetrics wants a family's
 * series one after the other, each with its samples in time order: at the
 * end each file is laid out again by series into a second temporary file
 * (two passes, the memory an offset per series), and copied out.
 */
struct history_family {
	FILE *f;
	struct strmap *series;       /* escaped labels -> number + 1 */
	uint32_t nseries;
};

struct metrics_history {
	char *prefix;
	struct history_family *fam;  /* per family index */
	size_t nfam;
	struct buf chunk, le;
	int failed;
};

struct metrics_history *
metrics_history_create(const char *prefix)
{
	struct metrics_history *h = xcalloc(1, sizeof(*h));

	h->prefix = xstrdup(prefix);
	return h;
}

static int
put_record(FILE *f, uint32_t series, const struct buf *lines)
{
	uint32_t head[2] = { series, (uint32_t)lines->len };

	return fwrite(head, sizeof(head), 1, f) == 1 &&
	    fwrite(lines->data, 1, lines->len, f) == lines->len ? 0 : -1;
}

int
metrics_history_add(struct metrics_history *h, struct metrics_registry *r,
    double t)
{
	char ts[32];
	size_t i;

	metrics_collect(r);
	buf_reset(&h->le);
	buf_put_double(&h->le, t);
	util_strlcpy(ts, h->le.data, sizeof(ts));
	if (r->nfamilies > h->nfam) {
		h->fam = xreallocarray(h->fam, r->nfamilies, sizeof(*h->fam));
		memset(h->fam + h->nfam, 0,
		    (r->nfamilies - h->nfam) * sizeof(*h->fam));
		h->nfam = r->nfamilies;
	}
	for (i = 0; i < r->nfamilies && !h->failed; i++) {
		const struct metrics_family *f = r->families[i];
		struct history_family *hf = &h->fam[i];
		const struct metrics_series *sr;

		if (f->nseries == 0 || strncmp(f->desc->name, h->prefix,
		    strlen(h->prefix)) != 0)
			continue;
		if (hf->f == NULL) {
			hf->f = tmpfile();
			hf->series = strmap_create();
			if (hf->f == NULL) {
				h->failed = 1;
				break;
			}
		}
		for (sr = f->head; sr != NULL && !h->failed; sr = sr->next) {
			void *v = strmap_get(hf->series, sr->labels,
			    sr->labels_len);
			uint32_t k;

			if (v == NULL) {
				k = hf->nseries++;
				strmap_put(hf->series, sr->labels, sr->labels_len,
				    (void *)(uintptr_t)(k + 1));
			} else {
				k = (uint32_t)((uintptr_t)v - 1);
			}
			buf_reset(&h->chunk);
			render_series(f, sr, &h->chunk, &h->le, ts);
			if (put_record(hf->f, k, &h->chunk) != 0)
				h->failed = 1;
		}
	}
	return h->failed ? -1 : 0;
}

/* Lay a family's records out by series into `out` (a new temporary
 * file, rewound): 0 or -1. */
static int
by_series(struct history_family *hf, FILE **out)
{
	uint64_t *at = xcalloc(hf->nseries + 1, sizeof(uint64_t));
	uint32_t head[2], k;
	uint64_t total = 0, n;
	struct buf line = BUF_INIT;
	int ok = 1;

	*out = tmpfile();
	ok = *out != NULL && fseek(hf->f, 0, SEEK_SET) == 0;
	/* Pass one: each series' bytes, then where each starts. */
	while (ok && fread(head, sizeof(head), 1, hf->f) == 1) {
		if (head[0] >= hf->nseries || fseek(hf->f, head[1], SEEK_CUR))
			ok = 0;
		else
			at[head[0]] += head[1];
	}
	for (k = 0; ok && k < hf->nseries; k++) {
		n = at[k];
		at[k] = total;
		total += n;
	}
	/* Pass two: every record to its place. */
	ok = ok && fseek(hf->f, 0, SEEK_SET) == 0;
	while (ok && fread(head, sizeof(head), 1, hf->f) == 1) {
		buf_reset(&line);
		buf_reserve(&line, head[1]);
		ok = fread(line.data, 1, head[1], hf->f) == head[1] &&
		    fseeko(*out, (off_t)at[head[0]], SEEK_SET) == 0 &&
		    fwrite(line.data, 1, head[1], *out) == head[1];
		at[head[0]] += head[1];
	}
	ok = ok && !ferror(hf->f) && fflush(*out) == 0 &&
	    fseek(*out, 0, SEEK_SET) == 0;
	buf_free(&line);
	free(at);
	return ok ? 0 : -1;
}

int
metrics_history_finish(struct metrics_history *h, struct metrics_registry *r,
    FILE *out)
{
	char copy[65536];
	size_t i, n;
	int ok = !h->failed;

	for (i = 0; i < h->nfam; i++) {
		struct history_family *hf = &h->fam[i];
		FILE *laid = NULL;

		if (hf->f == NULL)
			continue;
		if (ok)
			ok = by_series(hf, &laid) == 0;
		if (ok) {
			buf_reset(&h->chunk);
			render_meta(r->families[i], METRICS_FORMAT_OPENMETRICS,
			    &h->chunk);
			ok = fwrite(h->chunk.data, 1, h->chunk.len, out) ==
			    h->chunk.len;
			while (ok && (n = fread(copy, 1, sizeof(copy), laid)) > 0)
				ok = fwrite(copy, 1, n, out) == n;
			ok = ok && !ferror(laid);
		}
		if (laid != NULL)
			fclose(laid);
		fclose(hf->f);
		strmap_destroy(hf->series);
	}
	if (ok)
		ok = fputs("# EOF\n", out) >= 0;
	buf_free(&h->chunk);
	buf_free(&h->le);
	free(h->fam);
	free(h->prefix);
	free(h);
	return ok ? 0 : -1;
}
