/*
 * json.h - a validating JSON scanner that extracts a few values by path.
 *
 * driftd reads one JSON object per log line and needs a handful of its
 * values.  json_scan() makes one pass over the line: it checks the whole
 * line against RFC 8259 (so a broken line is rejected however deep the
 * damage lies), and records where the values named by a compiled query
 * are, without building a tree or copying anything.  Numbers and strings
 * are decoded only when the caller asks for them.
 *
 * Deliberate differences from a strict RFC 8259 parser:
 *   - the bare tokens NaN, Infinity and -Infinity, which Python's json
 *     module writes, are accepted as non-finite numbers;
 *   - bytes inside strings are not checked for UTF-8 validity here; the
 *     check happens in json_string_decode(), when a string is used;
 *   - nesting deeper than JSON_MAX_DEPTH is rejected.
 * When a key repeats, the last occurrence wins, as in Python and jansson.
 *
 * Ownership: a query is created, filled and destroyed by its user.  Values
 * point into the scanned line and are valid as long as it is.
 */
#ifndef DRIFTD_JSON_H
#define DRIFTD_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "path.h"

#define JSON_MAX_DEPTH 128

enum json_type {
	JSON_ABSENT = 0,
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_NONFINITE,     /* NaN, Infinity, -Infinity */
	JSON_STRING,
	JSON_OBJECT,
	JSON_ARRAY,
};

struct json_value {
	enum json_type type;
	const char *ptr;    /* first byte; for strings, after the opening quote */
	size_t len;         /* bytes; for strings, up to the closing quote */
	int escaped;        /* a string holding backslash escapes */
};

struct json_query;

struct json_query *json_query_create(void);
void json_query_destroy(struct json_query *q);

/*
 * Ask for the value at `p`; returns its slot number (asking twice for the
 * same path returns the same slot).  Must not be called after the first
 * json_scan().
 */
int json_query_add(struct json_query *q, const struct path *p);

/*
 * Also list, in json_scan()'s one pass, the members of the object found
 * at `slot` (a slot json_query_add() returned): their keys (as written,
 * escapes undecoded) and values, in order, at most JSON_MAX_MEMBERS of
 * them (the rest are validated but not listed, and *truncated is set).
 * json_query_members() returns those of the last scan, valid until the
 * next one; none when the slot held no object.  0 or -ENOENT.
 */
#define JSON_MAX_MEMBERS 65536

struct json_member {
	struct json_value key;   /* JSON_STRING */
	struct json_value value;
};

int json_query_list_members(struct json_query *q, int slot);
const struct json_member *json_query_members(const struct json_query *q,
    size_t *n, int *truncated);

/* Number of slots, i.e. the size of the array json_scan() fills. */
size_t json_query_slots(const struct json_query *q);

/*
 * Check that s[0..len) is one JSON object (surrounding whitespace allowed)
 * and fill slots[i] with the value of the query's i-th path, or
 * JSON_ABSENT.  Returns 0, or -EINVAL when the text is not a JSON object.
 */
int json_scan(const struct json_query *q, const char *s, size_t len,
    struct json_value *slots);

/* Check a single JSON value of any type (used on reference files). */
int json_validate(const char *s, size_t len);

/*
 * Convert a JSON_NUMBER or JSON_NONFINITE value to a double, correctly
 * rounded.  Returns 0, or -EINVAL for other types.
 */
int json_number(const struct json_value *v, double *out);

/* Parse the text of a JSON number (as validated by json_scan). */
double json_parse_double(const char *s, size_t len);

/*
 * Append the decoded bytes of a JSON_STRING to `out`.  Returns 0, or
 * -EILSEQ when the string is not valid UTF-8 (including escaped lone
 * surrogates and NUL characters), in which case `out` is unspecified.
 */
int json_string_decode(const struct json_value *v, struct buf *out);

/*
 * Iterate over the members of a JSON_OBJECT or the elements of a
 * JSON_ARRAY that json_scan() returned.  For arrays the key is
 * JSON_ABSENT.  json_iter_next() returns 1 while there are members.
 */
struct json_iter {
	const char *p;
	const char *end;
	int first;
};
void json_iter_init(struct json_iter *it, const struct json_value *container);
int json_iter_next(struct json_iter *it, struct json_value *key,
    struct json_value *value);

#endif
