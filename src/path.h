/*
 * path.h - field paths: where in a JSON record a value lives.
 *
 *   path    = segment *( "." segment / "[" index "]" )
 *   segment = name / quoted
 *   name    = 1*( any byte except . [ ] " and whitespace )
 *   quoted  = DQUOTE *( any byte except " and \  /  "\" ( " / \ ) ) DQUOTE
 *   index   = 1*DIGIT
 *
 * Examples: features.age, probabilities[0], features."sepal length (cm)".
 * Keys are compared byte for byte with the record's decoded keys.
 */
#ifndef DRIFTD_PATH_H
#define DRIFTD_PATH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PATH_MAX_SEGMENTS 32
#define PATH_MAX_INDEX    1000000

struct path_seg {
	int is_index;
	uint32_t index;     /* when is_index */
	char *key;          /* otherwise: decoded key, NUL-terminated */
	size_t keylen;      /* may contain NUL bytes from \u0000 in a log */
};

struct path {
	struct path_seg *segs;
	size_t nsegs;
	char *text;         /* canonical spelling, used in labels and logs */
};

/*
 * Parse `len` bytes of `s`.  Returns 0 and fills *out (release with
 * path_free), or -EINVAL with a static description in *err.
 */
int path_parse(const char *s, size_t len, struct path *out, const char **err);

/* Build the path of `parent` extended by one object key (discovery). */
void path_child(const struct path *parent, const char *key, size_t keylen,
    struct path *out);

void path_free(struct path *p);

/* Do two paths address the same value? */
int path_equal(const struct path *a, const struct path *b);

/* Append `key` as a path segment: bare when it is made of letters, digits,
 * '_' and '-', else quoted with " and \ escaped. */
void path_format_key(struct buf *b, const char *key, size_t keylen);

#endif
