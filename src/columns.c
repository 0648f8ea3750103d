/*
 * columns.c - the columns a model is watched by.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "log.h"
#include "path.h"
#include "strmap.h"
#include "util.h"

struct columns {
	const struct conf *conf;     /* for settings of discovered columns */
	struct model *model;
	struct column *v;
	size_t n;
	size_t nfeatures;
	size_t max_features;
	size_t max_categories;
	struct strmap *by_name;      /* name -> index + 1 */
	struct column_value *values;
	size_t nvalues;
	uint32_t *seen;              /* discovered: generation last seen */
	uint32_t gen;
	int warned_full;
	int warned_long;
	struct metrics_series *skipped_full, *skipped_long;
	/*
	 * Members of the discover object by their key as the log writes it
	 * (the bytes between the quotes, escapes and all): keys repeat line
	 * after line, so a member is found without decoding its key or
	 * building its path, and without allocating.  Values: column + 1,
	 * or RAWKEY_LONG or RAWKEY_FULL for a member never to be monitored
	 * (its path too long, or no room left).  At most COLUMNS_MAX_RAWKEYS
	 * keys.
	 */
	struct strmap *rawkeys;
	struct buf keybuf;      /* a key being decoded (a new member) */
	int discovering;             /* the configuration has discover */
	/* __features__: its column, the columns it is made of, and the
	 * vector of one record */
	long joint;
	size_t *joint_cols;
	size_t njoint;
	double *joint_buf;
};

static char *
leaf_of(const char *name)
{
	struct path p;
	const char *err;
	char *leaf;

	if (path_parse(name, strlen(name), &p, &err) != 0 || p.nsegs == 0)
		return xstrdup(name);
	/* The last key, ignoring trailing array indices. */
	leaf = NULL;
	for (size_t i = p.nsegs; i > 0 && leaf == NULL; i--)
		if (!p.segs[i - 1].is_index)
			leaf = xstrndup(p.segs[i - 1].key, p.segs[i - 1].keylen);
	path_free(&p);
	return leaf != NULL ? leaf : xstrdup(name);
}

/* A member never to be monitored, and why. */
#define RAWKEY_LONG ((void *)UINTPTR_MAX)
#define RAWKEY_FULL ((void *)(UINTPTR_MAX - 1))

static size_t
add(struct columns *cs, const char *name, enum conf_column_kind kind,
    enum column_source source, size_t feature, const char *alt)
{
	struct column *c;

	cs->v = xreallocarray(cs->v, cs->n + 1, sizeof(*cs->v));
	c = &cs->v[cs->n];
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	c->leaf = leaf_of(name);
	c->alt = alt != NULL && alt[0] != '\0' ? xstrdup(alt) : NULL;
	c->kind = kind;
	c->source = source;
	c->feature = feature;
	c->is_feature = source == COLUMN_FEATURE || source == COLUMN_DISCOVERED;
	c->other = UINT32_MAX;
	conf_column_drift(cs->conf, name, kind, &c->drift);
	if (kind == CONF_CATEGORICAL)
		c->ids = strmap_create();
	if (c->is_feature) {
		if (cs->model != NULL)
			c->missing = model_missing_series(cs->model, name);
		cs->nfeatures++;
	}
	strmap_put(cs->by_name, name, strlen(name), (void *)(uintptr_t)(cs->n + 1));
	cs->seen = xreallocarray(cs->seen, cs->n + 1, sizeof(*cs->seen));
	cs->seen[cs->n] = 0;
	return cs->n++;
}

void
columns_bind(struct columns *cs, struct model *model)
{
	size_t i;

	cs->model = model;
	for (i = 0; i < cs->n; i++)
		if (cs->v[i].is_feature)
			cs->v[i].missing = model_missing_series(model,
			    cs->v[i].name);
	if (cs->discovering) {
		cs->skipped_full = model_skipped_series(model, "max_features");
		cs->skipped_long = model_skipped_series(model, "name_too_long");
	}
}

struct columns *
columns_create(const struct conf *c, const struct record_parser *rp)
{
	struct columns *cs = xcalloc(1, sizeof(*cs));
	size_t i;

	cs->conf = c;
	cs->max_features = c->max_features;
	cs->max_categories = c->max_categories;
	cs->by_name = strmap_create();
	cs->discovering = c->discover[0] != '\0';
	if (cs->discovering)
		cs->rawkeys = strmap_create();
	for (i = 0; i < record_parser_nfeatures(rp); i++)
		add(cs, record_parser_feature_name(rp, i),
		    record_parser_feature_kind(rp, i), COLUMN_FEATURE, i, NULL);
	/* CSV headers may name the prediction and the confidence by the
	 * paths they are read from. */
	if (c->class_path[0] != '\0')
		add(cs, COLUMNS_PREDICTION, CONF_CATEGORICAL, COLUMN_CLASS, 0,
		    c->class_path);
	else if (c->value_path[0] != '\0')
		add(cs, COLUMNS_PREDICTION, CONF_NUMERIC, COLUMN_VALUE, 0,
		    c->value_path);
	if (c->confidence_path[0] != '\0') {
		const char *cp = c->confidence_path;
		size_t len = strlen(cp);
		char *inner = strncmp(cp, "max(", 4) == 0 && len > 5 ?
		    xstrndup(cp + 4, len - 5) : xstrdup(cp);

		add(cs, COLUMNS_CONFIDENCE, CONF_NUMERIC, COLUMN_CONFIDENCE, 0,
		    inner);
		free(inner);
	}
	cs->joint = -1;
	if (c->multivariate) {
		for (i = 0; i < cs->n; i++) {
			if (cs->v[i].source != COLUMN_FEATURE ||
			    cs->v[i].kind != CONF_NUMERIC)
				continue;
			cs->joint_cols = xreallocarray(cs->joint_cols,
			    cs->njoint + 1, sizeof(size_t));
			cs->joint_cols[cs->njoint++] = i;
		}
		cs->joint_buf = xcalloc(cs->njoint + 1, sizeof(double));
		cs->joint = (long)add(cs, CONF_FEATURES_COLUMN, CONF_VECTOR,
		    COLUMN_JOINT, 0, NULL);
		cs->v[cs->joint].dim = cs->njoint;
	}
	return cs;
}

size_t
columns_joint(const struct columns *cs, const size_t **cols)
{
	*cols = cs->joint_cols;
	return cs->joint >= 0 ? cs->njoint : 0;
}

void
columns_destroy(struct columns *cs)
{
	size_t i, j;

	if (cs == NULL)
		return;
	for (i = 0; i < cs->n; i++) {
		struct column *c = &cs->v[i];

		free(c->name);
		free(c->leaf);
		free(c->alt);
		strmap_destroy(c->ids);
		for (j = 0; j < c->nlabels; j++)
			free(c->labels[j]);
		free(c->labels);
	}
	free(cs->v);
	free(cs->joint_cols);
	free(cs->joint_buf);
	free(cs->values);
	free(cs->seen);
	strmap_destroy(cs->by_name);
	strmap_destroy(cs->rawkeys);
	buf_free(&cs->keybuf);
	free(cs);
}

size_t
columns_count(const struct columns *cs)
{
	return cs->n;
}

struct column *
columns_get(struct columns *cs, size_t i)
{
	return &cs->v[i];
}

long
columns_find(const struct columns *cs, const char *name, size_t len)
{
	void *v = strmap_get(cs->by_name, name, len);

	return v != NULL ? (long)((uintptr_t)v - 1) : -1;
}

long
columns_add_discovered(struct columns *cs, const char *name,
    enum conf_column_kind kind)
{
	if (!cs->discovering || cs->nfeatures >= cs->max_features ||
	    strlen(name) > COLUMNS_MAX_NAME_BYTES)
		return -1;
	return (long)add(cs, name, kind, COLUMN_DISCOVERED, 0, NULL);
}

uint32_t
columns_category(struct columns *cs, size_t col, const char *label, size_t len)
{
	struct column *c = &cs->v[col];
	void *v = strmap_get(c->ids, label, len);
	uint32_t id;

	if (v != NULL)
		return (uint32_t)((uintptr_t)v - 1);
	if (c->nlabels >= cs->max_categories) {
		if (c->other == UINT32_MAX) {
			c->other = (uint32_t)c->nlabels;
			c->labels = xreallocarray(c->labels, c->nlabels + 1,
			    sizeof(char *));
			c->labels[c->nlabels++] = xstrdup(COLUMNS_OTHER);
		}
		return c->other;
	}
	id = (uint32_t)c->nlabels;
	c->labels = xreallocarray(c->labels, c->nlabels + 1, sizeof(char *));
	c->labels[c->nlabels++] = xstrndup(label, len);
	strmap_put(c->ids, label, len, (void *)(uintptr_t)(id + 1));
	return id;
}

static inline void
set_value(struct columns *cs, size_t col, struct column_value *out,
    const struct record_value *rv)
{
	struct column *c = &cs->v[col];

	out->present = rv->present;
	if (!rv->present)
		return;
	if (c->kind == CONF_NUMERIC) {
		out->num = rv->num;
	} else if (c->kind == CONF_VECTOR) {
		/* Another length than the reference's is no value of the
		 * column. */
		out->present = c->dim == 0 || rv->len == c->dim;
		out->vec = rv->vec;
		out->dim = (uint32_t)rv->len;
	} else {
		out->cat = columns_category(cs, col, rv->str, rv->len);
	}
}

/* Remember what a raw key stands for, while there is room. */
static void
remember_key(struct columns *cs, const struct json_value *key, void *what)
{
	if (strmap_size(cs->rawkeys) < COLUMNS_MAX_RAWKEYS)
		strmap_put(cs->rawkeys, key->ptr, key->len, what);
}

/*
 * A member not seen before (by its raw key): its column, made now if it
 * is a scalar and there is room, or -1.
 */
static long
new_member(struct columns *cs, struct record_parser *rp,
    const struct json_value *key, const struct json_value *val)
{
	const struct path *base = record_parser_discover(rp);
	enum conf_column_kind kind;
	struct path child;
	long col;

	buf_reset(&cs->keybuf);
	if (json_string_decode(key, &cs->keybuf) != 0)
		return -1;
	path_child(base, cs->keybuf.data ? cs->keybuf.data : "",
	    cs->keybuf.len, &child);
	col = columns_find(cs, child.text, strlen(child.text));
	if (col >= 0) {
		path_free(&child);
		remember_key(cs, key, (void *)(uintptr_t)(col + 1));
		return col;
	}
	if (val->type == JSON_NUMBER)
		kind = CONF_NUMERIC;
	else if (val->type == JSON_STRING || val->type == JSON_TRUE ||
	    val->type == JSON_FALSE)
		kind = CONF_CATEGORICAL;
	else {
		/* Not a scalar this time; it may be one later. */
		path_free(&child);
		return -1;
	}
	/* Said once: a log with many more fields would otherwise say it
	 * on every line. */
	if (strlen(child.text) > COLUMNS_MAX_NAME_BYTES) {
		if (!cs->warned_long)
			log_warn("a discovered field's path is longer than %d "
			    "bytes: not monitored (said once; all such fields "
			    "are counted)", COLUMNS_MAX_NAME_BYTES);
		cs->warned_long = 1;
		metrics_add(cs->skipped_long, 1);
		remember_key(cs, key, RAWKEY_LONG);
		path_free(&child);
		return -1;
	}
	if (cs->nfeatures >= cs->max_features) {
		if (!cs->warned_full)
			log_warn("max_features (%zu) reached: discovered field "
			    "%s is not monitored, nor are later new ones",
			    cs->max_features, child.text);
		cs->warned_full = 1;
		metrics_add(cs->skipped_full, 1);
		remember_key(cs, key, RAWKEY_FULL);
		path_free(&child);
		return -1;
	}
	col = (long)add(cs, child.text, kind, COLUMN_DISCOVERED, 0, NULL);
	cs->values = xreallocarray(cs->values, cs->n, sizeof(*cs->values));
	memset(&cs->values[col], 0, sizeof(cs->values[0]));
	path_free(&child);
	remember_key(cs, key, (void *)(uintptr_t)(col + 1));
	return col;
}

/* Walk the discover object: known columns get their value, new scalar
 * members become columns while there is room. */
static void
discover(struct columns *cs, struct record_parser *rp, const struct record *r)
{
	size_t i;

	if (r->discover.type != JSON_OBJECT)
		return;
	for (i = 0; i < r->nmembers; i++) {
		const struct json_value key = r->members[i].key;
		const struct json_value val = r->members[i].value;
		struct record_value rv;
		void *known = strmap_get(cs->rawkeys, key.ptr, key.len);
		long col;
		int ok;

		if (known == RAWKEY_LONG || known == RAWKEY_FULL) {
			metrics_add(known == RAWKEY_LONG ? cs->skipped_long :
			    cs->skipped_full, 1);
			continue;
		}
		col = known != NULL ? (long)((uintptr_t)known - 1) :
		    new_member(cs, rp, &key, &val);
		if (col < 0 || cs->v[col].source != COLUMN_DISCOVERED)
			continue;        /* configured: the parser has it */
		cs->seen[col] = cs->gen;
		memset(&rv, 0, sizeof(rv));
		if (cs->v[col].kind == CONF_NUMERIC)
			ok = record_value_number(&val, &rv.num) == 0;
		else
			ok = record_value_label(rp, &val, &rv) == 0;
		rv.present = ok;
		set_value(cs, (size_t)col, &cs->values[col], &rv);
	}
}

const struct column_value *
columns_extract(struct columns *cs, struct record_parser *rp,
    const struct record *r, int count_missing, size_t *n)
{
	size_t i;

	if (cs->nvalues < cs->n || cs->values == NULL) {
		cs->values = xreallocarray(cs->values, cs->n + 1,
		    sizeof(*cs->values));
		cs->nvalues = cs->n;
	}
	if (++cs->gen == 0)
		cs->gen = 1;
	for (i = 0; i < cs->n; i++) {
		struct column *c = &cs->v[i];
		struct column_value *out = &cs->values[i];

		out->present = 0;
		switch (c->source) {
		case COLUMN_FEATURE:
			set_value(cs, i, out, &r->features[c->feature]);
			break;
		case COLUMN_CLASS:
			set_value(cs, i, out, &r->cls);
			break;
		case COLUMN_VALUE:
			set_value(cs, i, out, &r->value);
			break;
		case COLUMN_CONFIDENCE:
			set_value(cs, i, out, &r->confidence);
			break;
		case COLUMN_DISCOVERED:
		case COLUMN_JOINT:
			break;
		}
	}
	if (cs->joint >= 0) {
		struct column_value *out = &cs->values[cs->joint];
		size_t j;

		out->present = 1;
		for (j = 0; j < cs->njoint && out->present; j++) {
			out->present = cs->values[cs->joint_cols[j]].present;
			cs->joint_buf[j] = cs->values[cs->joint_cols[j]].num;
		}
		out->vec = cs->joint_buf;
		out->dim = (uint32_t)cs->njoint;
	}
	if (record_parser_discover(rp) != NULL)
		discover(cs, rp, r);
	cs->nvalues = cs->n;
	if (count_missing)
		for (i = 0; i < cs->n; i++)
			if (cs->v[i].is_feature && !cs->values[i].present)
				metrics_add(cs->v[i].missing, 1);
	*n = cs->n;
	return cs->values;
}
