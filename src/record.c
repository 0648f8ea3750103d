/*
 * record.c - turn one log line into one prediction record.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "record.h"
#include "util.h"

struct feature {
	struct path path;
	enum conf_column_kind kind;
	int slot;
};

struct record_parser {
	struct json_query *query;
	struct json_value *slots;
	int slot_class, slot_value, slot_confidence, slot_latency;
	int slot_timestamp, slot_match;
	int slot_id, slot_label;
	int label_is_class;             /* else a number */
	int confidence_max;             /* confidence = max(PATH) */
	double latency_scale;           /* to seconds */
	char *match_value;
	double match_number;            /* match_value as a number */
	int match_is_number;
	struct feature *features;
	size_t nfeatures;
	struct record_value *values;    /* handed out in struct record */
	struct buf scratch;             /* decoded labels of one record */
	int slot_discover;
	struct path discover;
	int has_discover;
	struct buf scratch2;            /* one discovered label at a time */
	struct buf vecs;                /* the vectors of one record */
	size_t max_dim;                 /* [features] max_vector_dim */
};

static const char *const field_names[RECORD_NFIELDS] = {
	[RECORD_PREDICTION] = "prediction",
	[RECORD_CONFIDENCE] = "confidence",
	[RECORD_LATENCY] = "latency",
	[RECORD_TIMESTAMP] = "timestamp",
};

const char *
record_field_name(enum record_field f)
{
	return field_names[f];
}

/* Add `text` (a path, or "" for none) to the query; -1 for none. */
static int
add_path(struct record_parser *p, const char *text, size_t len, int *slot)
{
	struct path path;
	const char *err;

	*slot = -1;
	if (len == 0)
		return 0;
	if (path_parse(text, len, &path, &err) != 0)
		return -EINVAL;
	*slot = json_query_add(p->query, &path);
	path_free(&path);
	return 0;
}

/* A parser that finds nothing yet. */
static struct record_parser *
parser_new(const struct conf *c)
{
	struct record_parser *p = xcalloc(1, sizeof(*p));

	p->query = json_query_create();
	p->slot_class = p->slot_value = p->slot_confidence = -1;
	p->slot_latency = p->slot_timestamp = p->slot_match = -1;
	p->slot_id = p->slot_label = p->slot_discover = -1;
	p->label_is_class = c->class_path[0] != '\0';
	p->max_dim = (size_t)c->max_vector_dim;
	p->match_value = xstrdup("");
	return p;
}

/* The slots of the query, once every path is in it. */
static struct record_parser *
parser_done(struct record_parser *p)
{
	p->slots = xcalloc(json_query_slots(p->query) + 1, sizeof(*p->slots));
	p->values = xcalloc(p->nfeatures + 1, sizeof(*p->values));
	return p;
}

struct record_parser *
record_parser_create_labels(const struct conf *c)
{
	struct record_parser *p = parser_new(c);

	if (add_path(p, c->labels_id, strlen(c->labels_id), &p->slot_id) ||
	    add_path(p, c->labels_label, strlen(c->labels_label),
	    &p->slot_label) ||
	    add_path(p, c->labels_timestamp, strlen(c->labels_timestamp),
	    &p->slot_timestamp)) {
		record_parser_destroy(p);
		return NULL;
	}
	return parser_done(p);
}

struct record_parser *
record_parser_create(const struct conf *c)
{
	struct record_parser *p = parser_new(c);
	const char *conf_path = c->confidence_path;
	size_t conf_len = strlen(conf_path);
	size_t i;
	char *end;

	if (conf_len > 5 && strncmp(conf_path, "max(", 4) == 0 &&
	    conf_path[conf_len - 1] == ')') {
		p->confidence_max = 1;
		conf_path += 4;
		conf_len -= 5;
	}
	if (add_path(p, c->class_path, strlen(c->class_path), &p->slot_class) ||
	    add_path(p, c->value_path, strlen(c->value_path), &p->slot_value) ||
	    add_path(p, conf_path, conf_len, &p->slot_confidence) ||
	    add_path(p, c->latency_path, strlen(c->latency_path), &p->slot_latency) ||
	    add_path(p, c->timestamp_path, strlen(c->timestamp_path),
	    &p->slot_timestamp) ||
	    add_path(p, c->match_field, strlen(c->match_field), &p->slot_match) ||
	    add_path(p, c->model_id, strlen(c->model_id), &p->slot_id) ||
	    add_path(p, c->model_label, strlen(c->model_label), &p->slot_label))
		goto fail;
	p->latency_scale = c->latency_unit == CONF_UNIT_S ? 1 :
	    c->latency_unit == CONF_UNIT_MS ? 1e-3 : 1e-6;
	free(p->match_value);
	p->match_value = xstrdup(c->match_value);
	/* A number only when written as JSON writes numbers (not 0x10). */
	p->match_is_number = p->match_value[0] != '\0' &&
	    (p->match_value[0] == '-' || (p->match_value[0] >= '0' &&
	    p->match_value[0] <= '9')) &&
	    json_validate(p->match_value, strlen(p->match_value)) == 0;
	p->match_number = p->match_is_number ? strtod(p->match_value, &end) : 0;
	if (p->match_is_number && !isfinite(p->match_number))
		p->match_is_number = 0;

	p->features = xcalloc(c->nfeatures ? c->nfeatures : 1, sizeof(*p->features));
	for (i = 0; i < c->nfeatures; i++) {
		struct feature *f = &p->features[i];
		const char *err;

		if (path_parse(c->features[i].path, strlen(c->features[i].path),
		    &f->path, &err) != 0)
			goto fail;
		p->nfeatures++;
		f->kind = c->features[i].kind;
		f->slot = json_query_add(p->query, &f->path);
	}
	if (c->discover[0] != '\0') {
		const char *err;

		if (path_parse(c->discover, strlen(c->discover), &p->discover,
		    &err) != 0)
			goto fail;
		p->has_discover = 1;
		p->slot_discover = json_query_add(p->query, &p->discover);
		json_query_list_members(p->query, p->slot_discover);
	}
	return parser_done(p);
fail:
	record_parser_destroy(p);
	return NULL;
}

void
record_parser_destroy(struct record_parser *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nfeatures; i++)
		path_free(&p->features[i].path);
	free(p->features);
	free(p->values);
	free(p->slots);
	free(p->match_value);
	buf_free(&p->scratch);
	buf_free(&p->scratch2);
	buf_free(&p->vecs);
	if (p->has_discover)
		path_free(&p->discover);
	json_query_destroy(p->query);
	free(p);
}

size_t
record_parser_nfeatures(const struct record_parser *p)
{
	return p->nfeatures;
}

const char *
record_parser_feature_name(const struct record_parser *p, size_t i)
{
	return p->features[i].path.text;
}

enum conf_column_kind
record_parser_feature_kind(const struct record_parser *p, size_t i)
{
	return p->features[i].kind;
}

int
record_parser_has_field(const struct record_parser *p, enum record_field f)
{
	switch (f) {
	case RECORD_PREDICTION:
		return p->slot_class >= 0 || p->slot_value >= 0;
	case RECORD_CONFIDENCE:
		return p->slot_confidence >= 0;
	case RECORD_LATENCY:
		return p->slot_latency >= 0;
	case RECORD_TIMESTAMP:
		return p->slot_timestamp >= 0;
	case RECORD_NFIELDS:
		break;
	}
	return 0;
}

/* ---------------------------------------------------------- conversions */

static int
get_finite(const struct json_value *v, double *out)
{
	if (v->type != JSON_NUMBER)
		return -EINVAL;          /* NaN and infinities are not valid */
	*out = json_parse_double(v->ptr, v->len);
	return isfinite(*out) ? 0 : -EINVAL;
}

static int
is_plain_ascii(const char *s, size_t len)
{
	uint64_t acc = 0, w;
	size_t i = 0;

	/* Eight bytes at a time: any byte >= 0x80 sets a high bit. */
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		acc |= w;
	}
	for (; i < len; i++)
		acc |= (unsigned char)s[i];
	return (acc & 0x8080808080808080ULL) == 0;
}

/*
 * The label text of a string, integer or boolean value.  Plain ASCII
 * strings are used in place; others are decoded into the scratch buffer,
 * which the caller has reserved room in so that it never moves.
 */
static int
get_label(struct record_parser *p, const struct json_value *v,
    struct record_value *out)
{
	double d;

	switch (v->type) {
	case JSON_STRING:
		if (v->len > RECORD_MAX_LABEL_BYTES * 6)
			return -EINVAL;
		if (!v->escaped && is_plain_ascii(v->ptr, v->len)) {
			out->str = v->ptr;
			out->len = v->len;
		} else {
			size_t start = p->scratch.len;

			if (json_string_decode(v, &p->scratch) != 0) {
				p->scratch.len = start;
				return -EILSEQ;
			}
			out->str = p->scratch.data + start;
			out->len = p->scratch.len - start;
			out->scratch_off = start;
			out->in_scratch = 1;
		}
		if (out->len > RECORD_MAX_LABEL_BYTES)
			return -EINVAL;
		return 0;
	case JSON_TRUE:
		out->str = "true";
		out->len = 4;
		return 0;
	case JSON_FALSE:
		out->str = "false";
		out->len = 5;
		return 0;
	case JSON_NUMBER: {
		size_t i = v->ptr[0] == '-' ? 1 : 0;
		size_t start;

		/* Digits only: the token is the decimal text already. */
		while (i < v->len && v->ptr[i] >= '0' && v->ptr[i] <= '9')
			i++;
		if (i == v->len) {
			if (v->len > RECORD_MAX_LABEL_BYTES)
				return -EINVAL;
			out->str = v->ptr;
			out->len = v->len;
			/* -0 is the class 0, as every JSON reader has it. */
			if (v->len == 2 && v->ptr[0] == '-' && v->ptr[1] == '0') {
				out->str = "0";
				out->len = 1;
			}
			return 0;
		}
		/* 2.0 or 1e3: an integer spelled otherwise. */
		d = json_parse_double(v->ptr, v->len);
		if (!(d == floor(d) && fabs(d) < 9007199254740992.0))
			return -EINVAL;
		/* 1e-400 is no integer, though it rounds to 0. */
		if (d == 0)
			for (i = 0; i < v->len && v->ptr[i] != 'e' &&
			    v->ptr[i] != 'E'; i++)
				if (v->ptr[i] >= '1' && v->ptr[i] <= '9')
					return -EINVAL;
		start = p->scratch.len;
		buf_printf(&p->scratch, "%.0f", d == 0 ? 0.0 : d);
		out->str = p->scratch.data + start;
		out->len = p->scratch.len - start;
		out->scratch_off = start;
		out->in_scratch = 1;
		return 0;
	}
	default:
		return -EINVAL;
	}
}

/* An array of at most max_dim finite numbers into p->vecs; its offset
 * there (in doubles) in out->scratch_off and its length in out->len. */
static int
get_vector(struct record_parser *p, const struct json_value *v,
    struct record_value *out)
{
	struct json_iter it;
	struct json_value key, el;
	size_t start = p->vecs.len, n = 0;
	double d;

	if (v->type != JSON_ARRAY)
		return -EINVAL;
	json_iter_init(&it, v);
	while (json_iter_next(&it, &key, &el)) {
		if (++n > p->max_dim || get_finite(&el, &d) != 0) {
			p->vecs.len = start;
			return -EINVAL;
		}
		buf_append(&p->vecs, &d, sizeof(d));
	}
	if (n == 0)
		return -EINVAL;
	out->scratch_off = start / sizeof(double);
	out->len = n;
	return 0;
}

static int
get_confidence(struct record_parser *p, const struct json_value *v, double *out)
{
	struct json_iter it;
	struct json_value key, el;
	double best = -1, d;
	int n = 0;

	if (!p->confidence_max) {
		if (get_finite(v, out) != 0 || *out < 0 || *out > 1)
			return -EINVAL;
		return 0;
	}
	if (v->type != JSON_ARRAY)
		return -EINVAL;
	json_iter_init(&it, v);
	while (json_iter_next(&it, &key, &el)) {
		if (get_finite(&el, &d) != 0 || d < 0 || d > 1)
			return -EINVAL;
		if (d > best)
			best = d;
		n++;
	}
	if (n == 0)
		return -EINVAL;
	*out = best;
	return 0;
}

static int
matches(struct record_parser *p, const struct json_value *v)
{
	struct record_value label;
	double d;

	if (v->type == JSON_NUMBER && p->match_is_number)
		return get_finite(v, &d) == 0 && d == p->match_number;
	if (get_label(p, v, &label) != 0)
		return 0;
	return label.len == strlen(p->match_value) &&
	    memcmp(label.str, p->match_value, label.len) == 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"). */
static long
days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
digits(const char *s, int n, long *out)
{
	long v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
record_parse_rfc3339(const char *s, size_t len, double *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	long y, mo, d, h, mi, sec, oh = 0, om = 0;
	const char *p = s + 19, *end = s + len;
	double frac = 0, scale = 0.1;
	int sign = 0;

	if (len < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &sec))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || sec > 60)
		return -EINVAL;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -EINVAL;
	if (p < end && *p == '.') {
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return -EINVAL;
		while (p < end && *p >= '0' && *p <= '9') {
			frac += (*p++ - '0') * scale;
			scale /= 10;
		}
	}
	if (p < end && (*p == 'Z' || *p == 'z')) {
		p++;
	} else if (p < end && (*p == '+' || *p == '-')) {
		sign = *p == '-' ? -1 : 1;
		if (end - p < 6 || digits(p + 1, 2, &oh) || p[3] != ':' ||
		    digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
		p += 6;
	} else {
		return -EINVAL;
	}
	if (p != end)
		return -EINVAL;
	*out = (double)(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    sec - sign * (oh * 3600 + om * 60)) + frac;
	return 0;
}

static int
get_timestamp(struct record_parser *p, const struct json_value *v, double *out)
{
	struct record_value label;

	if (v->type == JSON_NUMBER)
		return get_finite(v, out);
	if (v->type != JSON_STRING || get_label(p, v, &label) != 0)
		return -EINVAL;
	return record_parse_rfc3339(label.str, label.len, out);
}

const struct path *
record_parser_discover(const struct record_parser *p)
{
	return p->has_discover ? &p->discover : NULL;
}

int
record_value_number(const struct json_value *v, double *out)
{
	return get_finite(v, out);
}

int
record_value_label(struct record_parser *p, const struct json_value *v,
    struct record_value *out)
{
	struct buf saved = p->scratch;
	int r;

	/* get_label() decodes into p->scratch; lend it scratch2 so that the
	 * record's own labels stay where they are. */
	buf_reset(&p->scratch2);
	p->scratch = p->scratch2;
	r = get_label(p, v, out);
	p->scratch2 = p->scratch;
	p->scratch = saved;
	return r;
}

/* ---------------------------------------------------------------- parse */

static void
field(struct record *r, enum record_field f, struct record_value *rv, int ok)
{
	rv->present = ok;
	if (!ok)
		r->missing[f] = 1;
}

enum record_result
record_parse(struct record_parser *p, const char *line, size_t len,
    struct record *r)
{
	const struct json_value *s = p->slots;
	size_t i;

	if (json_scan(p->query, line, len, p->slots) != 0)
		return RECORD_BAD_JSON;
	if (p->slot_match >= 0 && !matches(p, &s[p->slot_match]))
		return RECORD_SKIP;

	memset(r, 0, sizeof(*r));
	r->features = p->values;
	/* Decoded labels go to scratch, which may move as it grows: they
	 * are located by offset and pointed to once all are decoded. */
	buf_reset(&p->scratch);

	/* An empty class would be a label without a value. */
	if (p->slot_class >= 0)
		field(r, RECORD_PREDICTION, &r->cls,
		    get_label(p, &s[p->slot_class], &r->cls) == 0 &&
		    r->cls.len > 0);
	if (p->slot_value >= 0)
		field(r, RECORD_PREDICTION, &r->value,
		    get_finite(&s[p->slot_value], &r->value.num) == 0);
	if (p->slot_confidence >= 0)
		field(r, RECORD_CONFIDENCE, &r->confidence,
		    get_confidence(p, &s[p->slot_confidence], &r->confidence.num) == 0);
	if (p->slot_latency >= 0) {
		int ok = get_finite(&s[p->slot_latency], &r->latency.num) == 0 &&
		    r->latency.num >= 0;

		r->latency.num *= p->latency_scale;
		field(r, RECORD_LATENCY, &r->latency, ok);
	}
	if (p->slot_timestamp >= 0)
		field(r, RECORD_TIMESTAMP, &r->timestamp,
		    get_timestamp(p, &s[p->slot_timestamp], &r->timestamp.num) == 0);

	if (p->slot_discover >= 0) {
		r->discover = s[p->slot_discover];
		r->members = json_query_members(p->query, &r->nmembers, NULL);
		if (r->discover.type != JSON_OBJECT)
			r->nmembers = 0;
	}
	buf_reset(&p->vecs);
	for (i = 0; i < p->nfeatures; i++) {
		const struct feature *f = &p->features[i];
		struct record_value *v = &p->values[i];

		memset(v, 0, sizeof(*v));
		if (f->kind == CONF_NUMERIC)
			v->present = get_finite(&s[f->slot], &v->num) == 0;
		else if (f->kind == CONF_VECTOR)
			v->present = get_vector(p, &s[f->slot], v) == 0;
		else
			v->present = get_label(p, &s[f->slot], v) == 0;
	}
	/* An empty id or class identifies nothing. */
	if (p->slot_id >= 0)
		r->id.present = get_label(p, &s[p->slot_id], &r->id) == 0 &&
		    r->id.len > 0;
	if (p->slot_label >= 0)
		r->label.present = p->label_is_class ?
		    get_label(p, &s[p->slot_label], &r->label) == 0 &&
		    r->label.len > 0 :
		    get_finite(&s[p->slot_label], &r->label.num) == 0;
	if (r->cls.in_scratch)
		r->cls.str = p->scratch.data + r->cls.scratch_off;
	if (r->id.in_scratch)
		r->id.str = p->scratch.data + r->id.scratch_off;
	if (r->label.in_scratch)
		r->label.str = p->scratch.data + r->label.scratch_off;
	for (i = 0; i < p->nfeatures; i++) {
		struct record_value *v = &p->values[i];

		if (v->in_scratch)
			v->str = p->scratch.data + v->scratch_off;
		else if (p->vecs.len > 0 && v->present &&
		    p->features[i].kind == CONF_VECTOR)
			v->vec = (const double *)(const void *)p->vecs.data +
			    v->scratch_off;
	}
	return RECORD_OK;
}
