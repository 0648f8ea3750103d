/*
 * change.c - change detection per record: Page-Hinkley and CUSUM.
 */
#include "config.h"

#include <errno.h>
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

struct detector {
	char *name;
	enum source src;
	size_t feature;              /* SRC_FEATURE: index in the record */
	/* since the last reset */
	uint64_t t;
	double mean;                 /* Page-Hinkley: of the t values */
	double u, dn, min_u, max_d;  /* Page-Hinkley's sums and extremes */
	double s[2];                 /* CUSUM: S up, S down */
	/* CUSUM: the reference's mean and deviation (floored), NaN until
	 * a reference is in force, and k sigma and h sigma */
	double mu, sigma, slack, limit;
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
};

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

/* The statistic's gauges from the state. */
static void
show(const struct change *ch, const struct detector *d)
{
	double up = 0, down = 0;

	if (d->t > 0 && ch->method == CONF_CHANGE_PAGE_HINKLEY) {
		up = d->u - d->min_u;
		down = d->max_d - d->dn;
	} else if (d->t > 0) {
		up = d->s[0];
		down = d->s[1];
	}
	metrics_set(d->stat[0], up);
	metrics_set(d->stat[1], down);
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
	const struct change *ch = arg;
	size_t i;

	for (i = 0; i < ch->n; i++)
		show(ch, &ch->d[i]);
}

static void
reset(struct detector *d)
{
	d->t = 0;
	d->mean = d->u = d->dn = 0;
	d->min_u = INFINITY;
	d->max_d = -INFINITY;
	d->s[0] = d->s[1] = 0;
}

struct change *
change_create(const struct conf *c, struct metrics_registry *reg)
{
	struct metrics_family *fam[F_COUNT];
	struct change *ch;
	size_t i, f;

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
	for (i = 0; i < ch->n; i++) {
		struct detector *d = &ch->d[i];
		const char *lv[3];

		d->name = xstrdup(c->change.v[i]);
		if (strcmp(d->name, CONF_CHANGE_CONFIDENCE) == 0)
			d->src = SRC_CONFIDENCE;
		else if (strcmp(d->name, CONF_CHANGE_VALUE) == 0)
			d->src = SRC_VALUE;
		else if (strcmp(d->name, CONF_CHANGE_LATENCY) == 0)
			d->src = SRC_LATENCY;
		else
			d->src = SRC_FEATURE;
		for (f = 0; f < c->nfeatures; f++)
			if (strcmp(c->features[f].path, d->name) == 0)
				d->feature = f;
		d->mu = d->sigma = NAN;
		d->last = NAN;
		reset(d);
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
	free(ch);
}

void
change_set_reference(struct change *ch, const struct reference *r,
    struct columns *cs)
{
	size_t i;

	if (ch == NULL || r == NULL)
		return;
	for (i = 0; i < ch->n; i++) {
		struct detector *d = &ch->d[i];
		const char *col = d->src == SRC_FEATURE ? d->name :
		    d->src == SRC_CONFIDENCE ? COLUMNS_CONFIDENCE :
		    d->src == SRC_VALUE ? COLUMNS_PREDICTION : NULL;
		long k = col != NULL ? columns_find(cs, col, strlen(col)) : -1;
		const struct reference_column *rc = k >= 0 ?
		    reference_column(r, (size_t)k) : NULL;
		double std;

		if (rc == NULL || rc->sorted == NULL) {
			if (ch->method == CONF_CHANGE_CUSUM)
				log_warn("[change] %s: the reference has no values "
				    "for it; its CUSUM detector does not run",
				    d->name);
			continue;
		}
		stats_mean_std(rc->sorted, rc->n, &d->mu, &std);
		d->sigma = rc->std > STATS_WASSERSTEIN_MIN_STD ? rc->std :
		    STATS_WASSERSTEIN_MIN_STD;
		d->slack = ch->k * d->sigma;
		d->limit = ch->h * d->sigma;
		make_series(ch, d);
	}
}

static const struct record_value *
value_of(const struct detector *d, const struct record *rec)
{
	switch (d->src) {
	case SRC_FEATURE:
		return &rec->features[d->feature];
	case SRC_CONFIDENCE:
		return &rec->confidence;
	case SRC_VALUE:
		return &rec->value;
	case SRC_LATENCY:
		return &rec->latency;
	}
	return NULL;
}

/* max(0, v) as a mask on its bits: a conditional move or branch here is
 * mispredicted on every other noisy value. */
static inline double
positive(double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	bits &= -(uint64_t)(v > 0);
	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* Update d with x; 1 for each direction in which a change is detected
 * in `hit`. */
static void
update(const struct change *ch, struct detector *d, double x, int hit[2],
    double stat[2])
{
	d->t++;
	if (ch->method == CONF_CHANGE_PAGE_HINKLEY) {
		d->mean += (x - d->mean) / (double)d->t;
		d->u = ch->alpha * d->u + (x - d->mean - ch->delta);
		d->dn = ch->alpha * d->dn + (x - d->mean + ch->delta);
		/* Written so as to compile without branches (minsd,
		 * maxsd): which way a noisy stream goes is unpredictable,
		 * and a mispredicted branch costs more than the update. */
		d->min_u = d->u < d->min_u ? d->u : d->min_u;
		d->max_d = d->dn > d->max_d ? d->dn : d->max_d;
		stat[0] = d->u - d->min_u;
		stat[1] = d->max_d - d->dn;
		hit[0] = stat[0] > ch->threshold;
		hit[1] = stat[1] > ch->threshold;
	} else {
		d->s[0] = positive(d->s[0] + x - d->mu - d->slack);
		d->s[1] = positive(d->s[1] + d->mu - d->slack - x);
		stat[0] = d->s[0];
		stat[1] = d->s[1];
		hit[0] = stat[0] > d->limit;
		hit[1] = stat[1] > d->limit;
	}
	if (ch->direction == CONF_CHANGE_UP)
		hit[1] = 0;
	else if (ch->direction == CONF_CHANGE_DOWN)
		hit[0] = 0;
	if (d->t < ch->min_instances)
		hit[0] = hit[1] = 0;
}

void
change_observe(struct change *ch, const struct record *rec, double t)
{
	size_t i;
	int dir;

	if (ch == NULL)
		return;
	for (i = 0; i < ch->n; i++) {
		struct detector *d = &ch->d[i];
		const struct record_value *v = value_of(d, rec);
		double stat[2];
		int hit[2];

		if (!v->present || !isfinite(v->num))
			continue;
		if (ch->method == CONF_CHANGE_CUSUM && isnan(d->mu))
			continue;            /* no reference yet */
		update(ch, d, v->num, hit, stat);
		if (hit[0] || hit[1]) {
			for (dir = 0; dir < 2; dir++)
				if (hit[dir])
					metrics_add(d->events[dir], 1);
			set_last(ch, d, t);
			reset(d);
		}
	}
}

/* ---------------------------------------------------------- checkpoint */

/*
 * STATE_TAG_CHANGE: u32 detectors, then per detector its column (bytes),
 * u32 method, u64 t, and the doubles mean, U, D, min U, max D, S up,
 * S down and the last detection's time.
 */
void
change_save(const struct change *ch, struct state_writer *w)
{
	size_t i;

	if (ch == NULL)
		return;
	state_begin_section(w, STATE_TAG_CHANGE);
	state_put_u32(w, (uint32_t)ch->n);
	for (i = 0; i < ch->n; i++) {
		const struct detector *d = &ch->d[i];

		state_put_bytes(w, d->name, strlen(d->name));
		state_put_u32(w, (uint32_t)ch->method);
		state_put_u64(w, d->t);
		state_put_double(w, d->mean);
		state_put_double(w, d->u);
		state_put_double(w, d->dn);
		state_put_double(w, d->min_u);
		state_put_double(w, d->max_d);
		state_put_double(w, d->s[0]);
		state_put_double(w, d->s[1]);
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
	n = state_get_u32(&r);
	if (r.bad || n > STATE_MAX_ENTRIES)
		return -EBADMSG;
	for (k = 0; k < n && !r.bad; k++) {
		size_t len;
		const char *name = state_get_string(&r, &len);
		struct detector saved;

		method = state_get_u32(&r);
		saved.t = state_get_u64(&r);
		saved.mean = state_get_double(&r);
		saved.u = state_get_double(&r);
		saved.dn = state_get_double(&r);
		saved.min_u = state_get_double(&r);
		saved.max_d = state_get_double(&r);
		saved.s[0] = state_get_double(&r);
		saved.s[1] = state_get_double(&r);
		saved.last = state_get_double(&r);
		if (r.bad || name == NULL)
			break;
		if ((int)method != ch->method)
			continue;            /* another method: start afresh */
		for (i = 0; i < ch->n; i++) {
			struct detector *d = &ch->d[i];

			if (strlen(d->name) != len ||
			    memcmp(d->name, name, len) != 0)
				continue;
			d->t = saved.t;
			d->mean = saved.mean;
			d->u = saved.u;
			d->dn = saved.dn;
			d->min_u = saved.min_u;
			d->max_d = saved.max_d;
			d->s[0] = saved.s[0];
			d->s[1] = saved.s[1];
			if (!isnan(saved.last))
				set_last(ch, d, saved.last);
			show(ch, d);
		}
	}
	return r.bad ? -EBADMSG : 0;
}
