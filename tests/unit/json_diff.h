/*
 * json_diff.h - jansson, as the differential test of json.c sees it.
 *
 * jansson.h and json.h both define JSON_OBJECT, JSON_STRING and friends,
 * so they cannot meet in one file: json_diff_jansson.c wraps jansson
 * behind these names, and json_diff.c uses them.
 */
#ifndef DRIFTD_JSON_DIFF_H
#define DRIFTD_JSON_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "path.h"

enum jd_kind {
	JD_ABSENT, JD_NULL, JD_FALSE, JD_TRUE, JD_INTEGER, JD_REAL, JD_STRING,
	JD_OBJECT, JD_ARRAY,
};

/* jansson's json_error_code(), for the codes the test tells apart. */
enum jd_error {
	JD_ERR_NONE,
	JD_ERR_OTHER,
	JD_ERR_UTF8,            /* json_error_invalid_utf8 */
	JD_ERR_NUL_VALUE,       /* json_error_null_character */
	JD_ERR_NUL_KEY,         /* json_error_null_byte_in_key */
	JD_ERR_SYNTAX,          /* json_error_invalid_syntax */
	JD_ERR_OVERFLOW,        /* json_error_numeric_overflow */
};

struct jd_value {
	enum jd_kind kind;
	int64_t integer;        /* JD_INTEGER */
	double real;            /* JD_REAL */
	const char *str;        /* JD_STRING: decoded, valid while the doc is */
	size_t len;
	size_t size;            /* JD_ARRAY: elements */
};

struct jd_doc;

/*
 * Parse with json_loadb(s, len, 0, ...).  Returns the document, or NULL
 * with *err and a message in `text`.  *is_object tells whether the top
 * level is an object (jansson also takes arrays).
 */
struct jd_doc *jd_load(const char *s, size_t len, int *is_object,
    enum jd_error *err, char *text, size_t textsize);
void jd_free(struct jd_doc *d);

/* The value at path `p` (JD_ABSENT when there is none). */
void jd_value_at(const struct jd_doc *d, const struct path *p,
    struct jd_value *out);

#endif
