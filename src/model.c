/*
 * model.c - the per-record metrics of one model.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "strmap.h"
#include "util.h"

enum {
	F_RECORDS,
	F_CLASS,
	F_CONFIDENCE,
	F_VALUE,
	F_LATENCY,
	F_MISSING,
	F_SKIPPED,
	F_COUNT
};

static const struct metrics_desc descs[F_COUNT] = {
	[F_RECORDS] = { "prediction_records_total", METRICS_COUNTER,
	    "Prediction records accepted from the log.", { "model", NULL } },
	[F_CLASS] = { "prediction_class_total", METRICS_COUNTER,
	    "Predictions per predicted class (classes beyond max_classes "
	    "count as __other__).", { "model", "class", NULL } },
	[F_CONFIDENCE] = { "prediction_confidence", METRICS_HISTOGRAM,
	    "Confidence of each prediction.", { "model", NULL } },
	[F_VALUE] = { "prediction_value", METRICS_HISTOGRAM,
	    "Numeric prediction of a regression model.", { "model", NULL } },
	[F_LATENCY] = { "prediction_latency_seconds", METRICS_HISTOGRAM,
	    "Request latency reported in the log.", { "model", NULL } },
	[F_MISSING] = { "prediction_feature_missing_total", METRICS_COUNTER,
	    "Records in which the field was absent or invalid.",
	    { "model", "feature", NULL } },
	[F_SKIPPED] = { "prediction_discover_skipped_total", METRICS_COUNTER,
	    "Members of the discover object not monitored, by reason: "
	    "max_features (no room for another column), name_too_long (a path "
	    "longer than the limit).", { "model", "reason", NULL } },
};

struct model {
	struct metrics_family *fam[F_COUNT];
	char *name;
	size_t max_classes;
	struct metrics_series *records;
	struct metrics_series *confidence;
	struct metrics_series *value;
	struct metrics_series *latency;
	struct metrics_series *other;          /* class="__other__", on demand */
	struct strmap *classes;                /* label -> series */
	struct metrics_series *last_class;     /* one-entry cache */
	char last_label[RECORD_MAX_LABEL_BYTES];
	size_t last_len;
	struct metrics_series *missing[RECORD_NFIELDS];
};

static struct metrics_family *
family(struct metrics_registry *reg, int i, const struct conf_doubles *b)
{
	struct metrics_family *f = metrics_family_get(reg, &descs[i],
	    b ? b->v : NULL, b ? b->n : 0);

	if (b != NULL)
		metrics_family_set_bounds(f, b->v, b->n);   /* a reload */
	return f;
}

/* Take over the class series a model of the same name left at a reload,
 * within max_classes. */
static void
adopt_classes(struct model *m)
{
	const struct metrics_series *s;
	const char *lv[2] = { m->name, NULL };

	for (s = metrics_family_first(m->fam[F_CLASS]); s != NULL;
	    s = metrics_series_next(s)) {
		const char *cls = metrics_series_label(s, 1);

		if (strcmp(metrics_series_label(s, 0), m->name) != 0)
			continue;
		lv[1] = cls;
		if (strcmp(cls, MODEL_OTHER_CLASS) == 0)
			m->other = metrics_series_get(m->fam[F_CLASS], lv);
		else if (strmap_size(m->classes) < m->max_classes)
			strmap_put(m->classes, cls, strlen(cls),
			    metrics_series_get(m->fam[F_CLASS], lv));
	}
}

struct model *
model_create(const struct conf *c, const struct record_parser *rp,
    struct metrics_registry *reg)
{
	struct model *m = xcalloc(1, sizeof(*m));
	const char *lv[2];
	size_t i;

	m->fam[F_RECORDS] = family(reg, F_RECORDS, NULL);
	m->fam[F_CLASS] = family(reg, F_CLASS, NULL);
	m->fam[F_CONFIDENCE] = family(reg, F_CONFIDENCE, &c->confidence_buckets);
	m->fam[F_VALUE] = family(reg, F_VALUE, &c->value_buckets);
	m->fam[F_LATENCY] = family(reg, F_LATENCY, &c->latency_buckets);
	m->fam[F_MISSING] = family(reg, F_MISSING, NULL);
	m->fam[F_SKIPPED] = family(reg, F_SKIPPED, NULL);
	m->name = xstrdup(c->model_name);
	m->max_classes = c->max_classes;
	m->classes = strmap_create();

	adopt_classes(m);
	lv[0] = m->name;
	m->records = metrics_series_get(m->fam[F_RECORDS], lv);
	if (c->confidence_path[0] != '\0')
		m->confidence = metrics_series_get(m->fam[F_CONFIDENCE], lv);
	if (c->value_path[0] != '\0')
		m->value = metrics_series_get(m->fam[F_VALUE], lv);
	if (c->latency_path[0] != '\0')
		m->latency = metrics_series_get(m->fam[F_LATENCY], lv);
	/* Missing counters of configured fields start at zero, so that
	 * rate() works from the first scrape. */
	for (i = 0; i < RECORD_NFIELDS; i++) {
		if (!record_parser_has_field(rp, (enum record_field)i))
			continue;
		lv[1] = record_field_name((enum record_field)i);
		m->missing[i] = metrics_series_get(m->fam[F_MISSING], lv);
	}
	return m;
}

void
model_destroy(struct model *m)
{
	if (m == NULL)
		return;
	strmap_destroy(m->classes);
	free(m->name);
	free(m);
}

static struct metrics_series *
class_series(struct model *m, const char *label, size_t len)
{
	struct metrics_series *s;
	const char *lv[2];
	char *tmp;

	if (m->last_class != NULL && len == m->last_len &&
	    memcmp(label, m->last_label, len) == 0)
		return m->last_class;
	s = strmap_get(m->classes, label, len);
	if (s == NULL) {
		lv[0] = m->name;
		if (strmap_size(m->classes) >= m->max_classes) {
			if (m->other == NULL) {
				lv[1] = MODEL_OTHER_CLASS;
				m->other = metrics_series_get(m->fam[F_CLASS], lv);
			}
			return m->other;
		}
		tmp = xstrndup(label, len);
		lv[1] = tmp;
		s = metrics_series_get(m->fam[F_CLASS], lv);
		free(tmp);
		strmap_put(m->classes, label, len, s);
	}
	if (len <= sizeof(m->last_label)) {
		memcpy(m->last_label, label, len);
		m->last_len = len;
		m->last_class = s;
	}
	return s;
}

void
model_observe(struct model *m, const struct record *r)
{
	size_t i;

	metrics_add(m->records, 1);
	if (r->cls.present)
		metrics_add(class_series(m, r->cls.str, r->cls.len), 1);
	if (m->confidence != NULL && r->confidence.present)
		metrics_observe(m->confidence, r->confidence.num);
	if (m->value != NULL && r->value.present)
		metrics_observe(m->value, r->value.num);
	if (m->latency != NULL && r->latency.present)
		metrics_observe(m->latency, r->latency.num);
	for (i = 0; i < RECORD_NFIELDS; i++)
		if (r->missing[i] && m->missing[i] != NULL)
			metrics_add(m->missing[i], 1);
}

double
model_records(const struct model *m)
{
	return metrics_value(m->records);
}

struct metrics_series *
model_missing_series(struct model *m, const char *feature)
{
	const char *lv[2] = { m->name, feature };

	return metrics_series_get(m->fam[F_MISSING], lv);
}

struct metrics_series *
model_skipped_series(struct model *m, const char *reason)
{
	const char *lv[2] = { m->name, reason };

	return metrics_series_get(m->fam[F_SKIPPED], lv);
}
