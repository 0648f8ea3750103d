/*
 * change.c - change detection per record: Page-Hinkley and CUSUM.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "change.h"
#include "log.h"
#include "stats.h"
#include "util.h"

enum { F_STATISTIC, F_EVENTS, F_LAST, F_COUNT };

static const struct metrics_desc descs[F_COUNT] = {
	[F_STATISTIC] = { "prediction_change_statistic", METRICS_GAUGE,
	    "The change detector's statistic now: Page-Hinkley's PH or CUSUM's "
	    "S, per direction.", { "model", "column", "method", "direction",
	    NULL } },
	[F_EVENTS] = { "prediction_change_events_total", METRICS_COUNTER,
	    "Changes detected (the detector then starts again).",
	    { "model", "column", "method", "direction", NULL } },
	[F_LAST] = { "prediction_change_last_timestamp_seconds", METRICS_GAUGE,
	    "Event time (or arrival) of the record that triggered the last "
	    "detection.", { "model", "column", "method", NULL } },
};

static const char *const method_names[] = { "page_hinkley", "cusum" };
static const char *const dir_names[] = { "up", "down" };

/* Where a detector's values come from. */
enum source { SRC_FEATURE, SRC_CONFIDENCE, SRC_VALUE, SRC_LATENCY };

/*
 * The detectors run as lanes of vectors: a lane per detector, in groups of
 * LANES (one array of LANES per quantity, so that each quantity of a group
 * is one vector at a fixed place), the last group padded with lanes that
 * take no values.  A record's values are only copied into a row; the
 * detectors take BATCH rows at a time, each group a step per row with
 * vector arithmetic (GCC's vector extensions: one AVX2 instruction per
 * vector where the CPU has AVX2, two SSE2 ones elsewhere).  Done one
 * detector after the other within each record, the same work was a chain
 * of dependent loads, a division and stores per detector, spread through
 * the ingest; in a loop of its own it costs about half (bench/change.sh).
 * The arithmetic is the formulas', operation for operation, so a lane's
 * numbers are those of its detector taking its values one at a time.
 */
#define LANES 4
typedef double vdbl __attribute__((vector_size(LANES * sizeof(double))));
typedef int64_t vmask __attribute__((vector_size(LANES * sizeof(double))));

enum {
	L_T,                         /* values since the last reset */
	L_MEAN,                      /* Page-Hinkley: their mean */
	L_U, L_DN, L_MIN_U, L_MAX_D, /* Page-Hinkley's sums and extremes */
	L_S_UP, L_S_DOWN,            /* CUSUM's sums */
	/* CUSUM: the reference's mean and k sigma and h sigma (sigma
	 * floored); NaN until a reference is in force */
	L_MU, L_SLACK, L_LIMIT,
	L_COUNT
};

struct group {
	double v[L_COUNT][LANES];    /* quantity, lane */
	int64_t hit[2][LANES];       /* a change up, down: all bits or none */
} __attribute__((aligned(sizeof(vdbl))));

/* Records whose values wait in `rows` before the detectors take them. */
#define BATCH 64

struct detector {
	char *name;
	enum source src;
	size_t feature;              /* SRC_FEATURE: index in the record */
	size_t off;                  /* otherwise: the value's offset in it */
	int runs;                    /* CUSUM: 0 until a reference is in force */
	double last;                 /* last detection's time, NaN if none */
	struct metrics_series *stat[2], *events[2], *last_series;
	struct metrics_family *stat_family, *events_family;
	const char *model;           /* the configuration's */
};

struct change {
	struct metrics_registry *reg;
	struct metrics_family *last_family;
	int method, direction;
	uint64_t min_instances;
	double delta, threshold, alpha, k, h;
	struct detector *d;
	size_t n;
	size_t nl;                   /* lanes: n rounded up to LANES */
	struct group *g;             /* nl / LANES, aligned */
	/* The values of the records observed and not yet taken: row r is
	 * nl values (NaN: none), at time times[r].  A record's values are
	 * only copied here; the detectors take a batch at a time, which
	 * keeps their arithmetic in a loop of its own instead of spread
	 * over the ingest.  Anything that reads or changes the state takes
	 * the rows first (take_rows()). */
	double *rows;                /* BATCH * nl, aligned */
	double times[BATCH];
	size_t nrows;
	void *block;                 /* where g and rows are allocated */
	/* where each lane's value is in the record last seen (the ingest
	 * parses every record into the same one); a lane that takes no
	 * values (padding, or CUSUM before a reference) points to `none` */
	const struct record_value **where;
	const struct record *at;     /* the record and features array */
	const struct record_value *at_features;   /* `where` points into */
};

/* Quantity q of lane i. */
#define LANE(ch, q, i) ((ch)->g[(i) / LANES].v[q][(i) % LANES])

static void take_rows(struct change *ch);

/* The last detection's time into its gauge, made when first needed. */
static void
set_last(struct change *ch, struct detector *d, double t)
{
	d->last = t;
	if (d->last_series == NULL) {
		const char *lv[3] = { d->model, d->name,
		    method_names[ch->method] };

		d->last_series = metrics_series_get(ch->last_family, lv);
	}
	metrics_set(d->last_series, t);
}

/* Detector i's statistic per direction. */
static void
statistic(const struct change *ch, size_t i, double stat[2])
{
	stat[0] = stat[1] = 0;
	if (LANE(ch, L_T, i) > 0 && ch->method == CONF_CHANGE_PAGE_HINKLEY) {
		stat[0] = LANE(ch, L_U, i) - LANE(ch, L_MIN_U, i);
		stat[1] = LANE(ch, L_MAX_D, i) - LANE(ch, L_DN, i);
	} else if (LANE(ch, L_T, i) > 0) {
		stat[0] = LANE(ch, L_S_UP, i);
		stat[1] = LANE(ch, L_S_DOWN, i);
	}
}

/* The statistic's gauges from the state. */
static void
show(const struct change *ch, size_t i)
{
	const struct detector *d = &ch->d[i];
	double stat[2];

	statistic(ch, i, stat);
	metrics_set(d->stat[0], stat[0]);
	metrics_set(d->stat[1], stat[1]);
}

/* The statistic and event series of the directions configured. */
static void
make_series(const struct change *ch, struct detector *d)
{
	const char *lv[4] = { d->model, d->name, method_names[ch->method],
	    NULL };
	int dir;

	for (dir = 0; dir < 2; dir++) {
		if (ch->direction == (dir == 0 ? CONF_CHANGE_DOWN :
		    CONF_CHANGE_UP) || d->stat[dir] != NULL)
			continue;
		lv[3] = dir_names[dir];
		d->stat[dir] = metrics_series_get(d->stat_family, lv);
		d->events[dir] = metrics_series_get(d->events_family, lv);
	}
}

/* The statistics are set in their gauges when the registry is read, not
 * per record: a gauge update per value would cost more than the
 * detector. */
static void
show_all(void *arg)
{
	struct change *ch = arg;
	size_t i;

	take_rows(ch);
	for (i = 0; i < ch->n; i++)
		show(ch, i);
}

static void
reset(struct change *ch, size_t i)
{
	LANE(ch, L_T, i) = 0;
	LANE(ch, L_MEAN, i) = LANE(ch, L_U, i) = LANE(ch, L_DN, i) = 0;
	LANE(ch, L_MIN_U, i) = INFINITY;
	LANE(ch, L_MAX_D, i) = -INFINITY;
	LANE(ch, L_S_UP, i) = LANE(ch, L_S_DOWN, i) = 0;
}

struct change *
change_create(const struct conf *c, struct metrics_registry *reg)
{
	struct metrics_family *fam[F_COUNT];
	struct change *ch;
	size_t i, f, bytes;

	/* Taken even without detectors, so that a reload sweeps them. */
	for (i = 0; i < F_COUNT; i++)
		fam[i] = metrics_family_get(reg, &descs[i], NULL, 0);
	if (c->change.n == 0)
		return NULL;
	ch = xcalloc(1, sizeof(*ch));
	ch->reg = reg;
	ch->last_family = fam[F_LAST];
	ch->method = c->change_method;
	ch->direction = c->change_direction;
	ch->min_instances = c->change_min_instances;
	ch->delta = c->change_delta;
	ch->threshold = c->change_threshold;
	ch->alpha = c->change_alpha;
	ch->k = c->change_k;
	ch->h = c->change_h;
	ch->d = xcalloc(c->change.n, sizeof(*ch->d));
	ch->n = c->change.n;
	ch->nl = (ch->n + LANES - 1) / LANES * LANES;
	bytes = ch->nl / LANES * sizeof(struct group) +
	    BATCH * ch->nl * sizeof(double);
	ch->block = xcalloc(1, bytes + sizeof(vdbl));
	ch->g = (struct group *)(((uintptr_t)ch->block + sizeof(vdbl) - 1) &
	    ~(uintptr_t)(sizeof(vdbl) - 1));
	ch->rows = (double *)(ch->g + ch->nl / LANES);
	ch->where = xcalloc(ch->n, sizeof(*ch->where));
	for (i = 0; i < ch->nl; i++) {
		reset(ch, i);
		LANE(ch, L_MU, i) = LANE(ch, L_SLACK, i) =
		    LANE(ch, L_LIMIT, i) = NAN;
	}
	/* padding lanes take nothing: no value in any row */
	for (i = 0; i < BATCH * ch->nl; i++)
		if (i % ch->nl >= ch->n)
			ch->rows[i] = NAN;
	for (i = 0; i < ch->n; i++) {
		struct detector *d = &ch->d[i];
		const char *lv[3];

		d->name = xstrdup(c->change.v[i]);
		d->src = SRC_FEATURE;
		if (strcmp(d->name, CONF_CHANGE_CONFIDENCE) == 0) {
			d->src = SRC_CONFIDENCE;
			d->off = offsetof(struct record, confidence);
		} else if (strcmp(d->name, CONF_CHANGE_VALUE) == 0) {
			d->src = SRC_VALUE;
			d->off = offsetof(struct record, value);
		} else if (strcmp(d->name, CONF_CHANGE_LATENCY) == 0) {
			d->src = SRC_LATENCY;
			d->off = offsetof(struct record, latency);
		}
		for (f = 0; f < c->nfeatures; f++)
			if (strcmp(c->features[f].path, d->name) == 0)
				d->feature = f;
		d->runs = ch->method == CONF_CHANGE_PAGE_HINKLEY;
		d->last = NAN;
		lv[0] = c->model_name;
		lv[1] = d->name;
		lv[2] = method_names[ch->method];
		d->model = c->model_name;
		d->stat_family = fam[F_STATISTIC];
		d->events_family = fam[F_EVENTS];
		/* CUSUM's are made once the reference gives it a mean: a
		 * detector that cannot run shows nothing, not a 0. */
		if (ch->method == CONF_CHANGE_PAGE_HINKLEY)
			make_series(ch, d);
		/* Made at the first detection: absent until then. */
		d->last_series = metrics_series_find(fam[F_LAST], lv);
	}
	metrics_on_collect(reg, show_all, ch);
	return ch;
}

void
change_destroy(struct change *ch)
{
	size_t i;

	if (ch == NULL)
		return;
	metrics_remove_collect(ch->reg, show_all, ch);
	for (i = 0; i < ch->n; i++)
		free(ch->d[i].name);
	free(ch->d);
	free(ch->block);
	free(ch->where);
	free(ch);
}

void
change_set_reference(struct change *ch, const struct reference *r,
    struct columns *cs)
{
	size_t i;

	if (ch == NULL || r == NULL)
		return;
	take_rows(ch);           /* the records before it, without it */
	for (i = 0; i < ch->n; i++) {
		struct detector *d = &ch->d[i];
		const char *col = d->src == SRC_FEATURE ? d->name :
		    d->src == SRC_CONFIDENCE ? COLUMNS_CONFIDENCE :
		    d->src == SRC_VALUE ? COLUMNS_PREDICTION : NULL;
		long k = col != NULL ? columns_find(cs, col, strlen(col)) : -1;
		const struct reference_column *rc = k >= 0 ?
		    reference_column(r, (size_t)k) : NULL;
		double mu, std, sigma;

		if (rc == NULL || rc->sorted == NULL) {
			if (ch->method == CONF_CHANGE_CUSUM)
				log_warn("[change] %s: the reference has no values "
				    "for it; its CUSUM detector does not run",
				    d->name);
			continue;
		}
		stats_mean_std(rc->sorted, rc->n, &mu, &std);
		sigma = rc->std > STATS_WASSERSTEIN_MIN_STD ? rc->std :
		    STATS_WASSERSTEIN_MIN_STD;
		LANE(ch, L_MU, i) = mu;
		LANE(ch, L_SLACK, i) = ch->k * sigma;
		LANE(ch, L_LIMIT, i) = ch->h * sigma;
		d->runs = 1;
		ch->at = NULL;       /* the lane takes values now */
		make_series(ch, d);
	}
}

/* Where detector d's value is in a record. */
static inline __attribute__((always_inline)) const struct record_value *
value_of(const struct detector *d, const struct record *rec)
{
	return d->src == SRC_FEATURE ? &rec->features[d->feature] :
	    (const struct record_value *)((const char *)rec + d->off);
}

static const struct record_value none;

/* Where each lane's values are in rec. */
static void
locate(struct change *ch, const struct record *rec)
{
	size_t i;

	for (i = 0; i < ch->n; i++)
		ch->where[i] = ch->d[i].runs ? value_of(&ch->d[i], rec) :
		    &none;
	ch->at = rec;
	ch->at_features = rec->features;
}

/* Quantity q of group g as a vector. */
#define VEC(g, q) (*(vdbl *)(g)->v[q])
/* Lanes of a where m is set, of b elsewhere. */
#define SELECT(m, a, b) ((vdbl)(((m) & (vmask)(a)) | (~(m) & (vmask)(b))))
/* max(0, v), -0 and NaN as 0 */
#define POSITIVE(v) ((vdbl)((vmask)(v) & (vmask)((v) > 0)))
/* v as quantity q of group g in the lanes of `ok`. */
#define STORE(g, q, v, ok) (VEC(g, q) = SELECT(ok, v, VEC(g, q)))

/* Detection in lane i at time t: count it, and start again. */
static void
detected(struct change *ch, size_t i, double t)
{
	const struct group *g = &ch->g[i / LANES];
	int dir;

	for (dir = 0; dir < 2; dir++)
		if (g->hit[dir][i % LANES])
			metrics_add(ch->d[i].events[dir], 1);
	set_last(ch, &ch->d[i], t);
	reset(ch, i);
}

/*
 * The rows, one after the other: each lane with a value in the row
 * (NaN: none) takes it; a detection is counted at its row's time, and
 * the lane starts again before the next row.  Inlined into a generic and
 * an AVX2 copy.
 */
static inline __attribute__((always_inline)) void
take_lanes(struct change *ch)
{
	/* Copied out of *ch: the stores to the lanes could alias it. */
	const vmask up = (vmask){ 0 } - (ch->direction != CONF_CHANGE_DOWN);
	const vmask down = (vmask){ 0 } - (ch->direction != CONF_CHANGE_UP);
	const double min_t = (double)ch->min_instances, alpha = ch->alpha;
	const double delta = ch->delta, threshold = ch->threshold;
	const int ph = ch->method == CONF_CHANGE_PAGE_HINKLEY;
	struct group *const first = ch->g, *const end = first + ch->nl / LANES;
	const double *row = ch->rows;
	size_t r, i;

	for (r = 0; r < ch->nrows; r++) {
		vmask any = { 0 };
		struct group *g;

		for (g = first; g < end; g++, row += LANES) {
			vdbl x = *(const vdbl *)row, t;
			vmask ok = (vmask)(x - x == 0), hu, hd;   /* finite */

			t = VEC(g, L_T) + (vdbl)(ok & (vmask)((vdbl){ 0 } + 1));
			if (ph) {
				vdbl mean = VEC(g, L_MEAN);
				vdbl u = VEC(g, L_U), dn = VEC(g, L_DN);
				vdbl min_u = VEC(g, L_MIN_U);
				vdbl max_d = VEC(g, L_MAX_D);

				mean = mean + (x - mean) / t;
				u = alpha * u + (x - mean - delta);
				dn = alpha * dn + (x - mean + delta);
				min_u = SELECT((vmask)(u < min_u), u, min_u);
				max_d = SELECT((vmask)(dn > max_d), dn, max_d);
				hu = (vmask)(u - min_u > threshold);
				hd = (vmask)(max_d - dn > threshold);
				STORE(g, L_MEAN, mean, ok);
				STORE(g, L_U, u, ok);
				STORE(g, L_DN, dn, ok);
				STORE(g, L_MIN_U, min_u, ok);
				STORE(g, L_MAX_D, max_d, ok);
			} else {
				vdbl mu = VEC(g, L_MU), slack = VEC(g, L_SLACK);
				vdbl su = VEC(g, L_S_UP) + x - mu - slack;
				vdbl sd = VEC(g, L_S_DOWN) + mu - slack - x;

				su = POSITIVE(su);
				sd = POSITIVE(sd);
				hu = (vmask)(su > VEC(g, L_LIMIT));
				hd = (vmask)(sd > VEC(g, L_LIMIT));
				STORE(g, L_S_UP, su, ok);
				STORE(g, L_S_DOWN, sd, ok);
			}
			VEC(g, L_T) = t;
			ok &= (vmask)(t >= min_t);
			hu &= ok & up;
			hd &= ok & down;
			*(vmask *)g->hit[0] = hu;
			*(vmask *)g->hit[1] = hd;
			any |= hu | hd;
		}
		if ((any[0] | any[1] | any[2] | any[3]) == 0)
			continue;
		for (i = 0; i < ch->n; i++)
			if (ch->g[i / LANES].hit[0][i % LANES] ||
			    ch->g[i / LANES].hit[1][i % LANES])
				detected(ch, i, ch->times[r]);
	}
	ch->nrows = 0;
}

static void
take_generic(struct change *ch)
{
	take_lanes(ch);
}

/* CHANGE_GENERIC: the generic copy only (a unit test builds it so). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(CHANGE_GENERIC)
#define TAKE_AVX2 1
static __attribute__((target("avx2"))) void
take_avx2(struct change *ch)
{
	take_lanes(ch);
}
#endif

/* The records waiting in the rows, into the detectors. */
static void
take_rows(struct change *ch)
{
	static void (*take)(struct change *);

	if (take == NULL) {
		take = take_generic;
#ifdef TAKE_AVX2
		__builtin_cpu_init();
		if (__builtin_cpu_supports("avx2"))
			take = take_avx2;
#endif
	}
	if (ch->nrows > 0)
		take(ch);
}

void
change_observe(struct change *ch, const struct record *rec, double t)
{
	double *row;
	size_t i;

	if (ch == NULL)
		return;
	if (rec != ch->at || rec->features != ch->at_features)
		locate(ch, rec);
	row = ch->rows + ch->nrows * ch->nl;
	for (i = 0; i < ch->n; i++) {
		const struct record_value *v = ch->where[i];

		row[i] = v->present ? v->num : NAN;
	}
	ch->times[ch->nrows] = t;
	if (++ch->nrows == BATCH)
		take_rows(ch);
}

/* ---------------------------------------------------------- checkpoint */

/*
 * STATE_TAG_CHANGE: u32 detectors, then per detector its column (bytes),
 * u32 method, u64 t, and the doubles mean, U, D, min U, max D, S up,
 * S down and the last detection's time.
 */
void
change_save(struct change *ch, struct state_writer *w)
{
	size_t i;

	if (ch == NULL)
		return;
	take_rows(ch);
	state_begin_section(w, STATE_TAG_CHANGE);
	state_put_u32(w, (uint32_t)ch->n);
	for (i = 0; i < ch->n; i++) {
		const struct detector *d = &ch->d[i];

		state_put_bytes(w, d->name, strlen(d->name));
		state_put_u32(w, (uint32_t)ch->method);
		state_put_u64(w, (uint64_t)LANE(ch, L_T, i));
		state_put_double(w, LANE(ch, L_MEAN, i));
		state_put_double(w, LANE(ch, L_U, i));
		state_put_double(w, LANE(ch, L_DN, i));
		state_put_double(w, LANE(ch, L_MIN_U, i));
		state_put_double(w, LANE(ch, L_MAX_D, i));
		state_put_double(w, LANE(ch, L_S_UP, i));
		state_put_double(w, LANE(ch, L_S_DOWN, i));
		state_put_double(w, d->last);
	}
	state_end_section(w);
}

int
change_restore(struct change *ch, const struct buf *file)
{
	struct state_reader r;
	uint32_t n, k, method;
	size_t i;

	if (ch == NULL || state_section(file, STATE_TAG_CHANGE, &r) != 0)
		return 0;
	take_rows(ch);
	n = state_get_u32(&r);
	if (r.bad || n > STATE_MAX_ENTRIES)
		return -EBADMSG;
	for (k = 0; k < n && !r.bad; k++) {
		size_t len;
		const char *name = state_get_string(&r, &len);
		/* L_T to L_S_DOWN in order, as the section lists them */
		double saved[L_S_DOWN + 1], last;
		uint64_t t;
		int q;

		method = state_get_u32(&r);
		/* a count kept as a double, exact up to 2^53 (a crafted
		 * checkpoint's larger one is clamped: it must convert back) */
		t = state_get_u64(&r);
		saved[L_T] = (double)(t < (1ull << 53) ? t : 1ull << 53);
		for (q = L_MEAN; q <= L_S_DOWN; q++)
			saved[q] = state_get_double(&r);
		last = state_get_double(&r);
		if (r.bad || name == NULL)
			break;
		if ((int)method != ch->method)
			continue;            /* another method: start afresh */
		for (i = 0; i < ch->n; i++) {
			struct detector *d = &ch->d[i];

			if (strlen(d->name) != len ||
			    memcmp(d->name, name, len) != 0)
				continue;
			for (q = L_T; q <= L_S_DOWN; q++)
				LANE(ch, q, i) = saved[q];
			if (!isnan(last))
				set_last(ch, d, last);
			show(ch, i);
		}
	}
	return r.bad ? -EBADMSG : 0;
}
