/*
 * conf_internal.h - the key table's types, shared by the loader (conf.c)
 * and the value parsers and printers (conf_value.c).
 */
#ifndef DRIFTD_CONF_INTERNAL_H
#define DRIFTD_CONF_INTERNAL_H

#include <stdio.h>

#include "conf.h"

enum key_type {
	KT_STRING,      /* any text */
	KT_LISTEN,      /* an address for conf_parse_listen() */
	KT_LOGLEVEL,
	KT_STRINGS,     /* repeatable; each occurrence adds one */
	KT_ENUM,        /* one of `choices`, stored as its index (int) */
	KT_DURATION,    /* uint64_t milliseconds, within [min, max] */
	KT_UINT,        /* uint64_t within [min, max] */
	KT_BUCKETS,     /* increasing finite doubles, within [min, max] */
	KT_PATH,        /* a field path, or "" */
	KT_CONFIDENCE,  /* a field path, max(PATH), or "" */
	KT_NAME,        /* non-empty text usable as a label value */
	KT_DOUBLE,      /* a finite number within [min, max] (see excl) */
	KT_TESTS,       /* a set of drift tests out of `mask` */
	KT_DECIDE,      /* auto, or one test out of `mask` */
};

#define EXCL_MIN 1      /* the minimum itself is not allowed */
#define EXCL_MAX 2

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;          /* of the field in struct conf */
	const char *deflt;      /* parsed like a value from the file */
	double min, max;        /* KT_UINT, KT_DURATION (ms), KT_BUCKETS, KT_DOUBLE */
	const char *const *choices;   /* KT_ENUM, NULL-terminated */
	unsigned mask;          /* KT_TESTS, KT_DECIDE: the tests allowed */
	int excl;               /* KT_DOUBLE: EXCL_MIN | EXCL_MAX */
};

/* A [feature PATH] decide key that the section does not set. */
#define UNSET_DECIDE (-2)

/*
 * Parse `value` for key `k` into its field in `base` (a struct conf, or a
 * struct conf_drift for override keys).  On failure returns -EINVAL and
 * writes a message (without location) into err.
 */
int conf_value_parse(void *base, const struct key *k, const char *value,
    char *err, size_t errsize);

/* Print `k`'s value from `base` as a "name = value" line; returns 0 when an
 * override leaves the key unset and nothing was printed. */
int conf_value_dump(FILE *fp, const struct key *k, const void *base);

/* Free what conf_value_parse() allocated for `k` in `base`. */
void conf_value_free(const struct key *k, void *base);

#endif
