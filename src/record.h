/*
 * record.h - turn one log line into one prediction record.
 *
 * A record parser is compiled from the configuration: the paths of the
 * class, value, confidence, latency, timestamp, match field and every
 * configured feature become one JSON query, so each line is scanned once.
 * Values are then checked and converted; a bad value marks that field
 * missing and leaves the rest of the record in use.
 *
 * Ownership: strings in a record (class, categories) point into the line
 * or into the parser's scratch space, and are valid until the next
 * record_parse() call on the same parser.
 */
#ifndef DRIFTD_RECORD_H
#define DRIFTD_RECORD_H

#include <stddef.h>

#include "conf.h"
#include "json.h"

/* Longest class or category label taken from a log; longer ones count as
 * invalid values.  Bounds memory per label and keeps labels readable.  A
 * vector longer than [features] max_vector_dim is invalid too. */
#define RECORD_MAX_LABEL_BYTES 256

enum record_result {
	RECORD_OK = 0,       /* a record (some fields may be missing) */
	RECORD_SKIP,         /* valid JSON, but match_field does not match */
	RECORD_BAD_JSON,     /* not a JSON object */
};

/* Reserved fields whose absence or invalidity is counted by name. */
enum record_field {
	RECORD_PREDICTION,   /* class or value */
	RECORD_CONFIDENCE,
	RECORD_LATENCY,
	RECORD_TIMESTAMP,
	RECORD_NFIELDS,
};

struct record_value {
	int present;         /* 0: absent or invalid */
	double num;          /* numeric columns */
	union {
		const char *str;     /* categorical columns, class: not
		                      * NUL-terminated */
		const double *vec;   /* vector columns: len numbers */
	};
	size_t len;          /* of str; of vec for a vector column */
	size_t scratch_off;  /* internal: where a decoded label lives */
	int in_scratch;
};

struct record {
	struct record_value cls;        /* the predicted class, a label */
	struct record_value value;      /* a regression model's prediction */
	struct record_value confidence; /* in [0, 1] */
	struct record_value latency;    /* seconds, >= 0 */
	struct record_value timestamp;  /* seconds since the epoch */
	struct record_value id;         /* the request id ([model] id), a label */
	struct record_value label;      /* the truth: a class label (str) or,
	                                 * for a regression model, a number */
	/* missing[f] is set when field f is configured but absent or bad */
	int missing[RECORD_NFIELDS];
	struct record_value *features;  /* one per record_parser_nfeatures() */
	struct json_value discover;     /* the [features] discover object, if any */
	/* Its members, listed by the same pass over the line (valid until
	 * the next record_parse()). */
	const struct json_member *members;
	size_t nmembers;
};

/* Is r a label for the prediction of its id rather than a prediction: a
 * label ([model] label) and neither a class nor a value?  The windows
 * and the join both ask this, so that no record is one to the one and
 * the other to the other. */
static inline int
record_is_label(const struct record *r)
{
	return r->label.present && !r->cls.present && !r->value.present;
}

struct record_parser;

/*
 * Compile a parser for configuration `c`.  Returns NULL when a path does not
 * parse; conf_load() has already checked them, so that is a bug.
 */
struct record_parser *record_parser_create(const struct conf *c);
/*
 * A parser for the lines of a [labels] log: it fills only `id`, `label`
 * and `timestamp`, from [labels] id, label and timestamp.
 */
struct record_parser *record_parser_create_labels(const struct conf *c);
void record_parser_destroy(struct record_parser *p);

size_t record_parser_nfeatures(const struct record_parser *p);
/* The canonical path of feature i, used as its label. */
const char *record_parser_feature_name(const struct record_parser *p, size_t i);
enum conf_column_kind record_parser_feature_kind(const struct record_parser *p,
    size_t i);
/* Name of reserved field f as it appears in labels ("prediction", ...). */
const char *record_field_name(enum record_field f);
/* Is the field configured at all? */
int record_parser_has_field(const struct record_parser *p, enum record_field f);

/* The configured discover path, or NULL. */
const struct path *record_parser_discover(const struct record_parser *p);

/*
 * Convert a value found while iterating the discover object: a finite
 * number, or a label (string, integer or boolean).  Labels are decoded
 * into scratch space that the next call may reuse.  Return 0 or -EINVAL.
 */
int record_value_number(const struct json_value *v, double *out);
int record_value_label(struct record_parser *p, const struct json_value *v,
    struct record_value *out);

/* Parse `len` bytes of `line` (no newline) into `out`. */
enum record_result record_parse(struct record_parser *p, const char *line,
    size_t len, struct record *out);

/*
 * Parse an RFC 3339 date-time ("2026-11-22T10:00:00.123Z",
 * "2026-11-22 10:00:00+01:00") into seconds since the epoch.  Returns 0 or
 * -EINVAL.
 */
int record_parse_rfc3339(const char *s, size_t len, double *out);

#endif
