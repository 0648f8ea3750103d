/*
 * columns.h - the columns a model is watched by.
 *
 * A column is one stream of values that gets a window, a reference and
 * drift tests: every configured feature, every discovered feature, the
 * prediction itself (the class, categorical, or a regression value,
 * numeric) and the confidence.  Features count towards the number of tests
 * in a correction and the dataset drift share; the prediction and the
 * confidence are tested and flagged but count in neither.
 *
 * Categorical values become small integer ids.  A column keeps its first
 * max_categories labels (the reference's come first, as it is loaded
 * first); later ones share the id of "__other__", so log content cannot
 * grow memory or series without bound.
 */
#ifndef DRIFTD_COLUMNS_H
#define DRIFTD_COLUMNS_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "model.h"
#include "record.h"

#define COLUMNS_OTHER "__other__"
/* The longest path a discovered column may have: longer ones are counted
 * in prediction_discover_skipped_total{reason="name_too_long"} and not
 * monitored.  With the other labels of a series, well under
 * METRICS_MAX_LABEL_BYTES. */
#define COLUMNS_MAX_NAME_BYTES 1024
/* Keys of the discover object recognised without decoding them: beyond
 * this many distinct ones (keys that are log content), new keys are
 * decoded each time they come. */
#define COLUMNS_MAX_RAWKEYS 65536
#define COLUMNS_PREDICTION "prediction"
#define COLUMNS_CONFIDENCE "confidence"

enum column_source {
	COLUMN_FEATURE,          /* configured: record feature `feature` */
	COLUMN_DISCOVERED,       /* a member of the discover object */
	COLUMN_CLASS,            /* the predicted class */
	COLUMN_VALUE,            /* a regression model's prediction */
	COLUMN_CONFIDENCE,
	COLUMN_JOINT,            /* __features__: the numeric features */
};

struct column {
	char *name;              /* label value: path or reserved name */
	char *leaf;              /* last path component, for CSV headers */
	char *alt;               /* another name a CSV header may use, or NULL */
	enum conf_column_kind kind;
	enum column_source source;
	size_t feature;          /* COLUMN_FEATURE: index in the record */
	int is_feature;
	struct conf_drift drift; /* settings in force */
	struct metrics_series *missing;   /* features only */
	/* categorical */
	void *ids;               /* struct strmap: label -> id + 1 */
	char **labels;           /* id -> label */
	size_t nlabels;
	uint32_t other;          /* id of __other__, or UINT32_MAX */
	/* vector: the dimension, set by the reference (0: not yet) */
	size_t dim;
};

/* One record's value in a column. */
struct column_value {
	int present;
	union {                  /* by the column's kind */
		double num;
		const double *vec;   /* dim numbers, valid until the next
		                      * record */
	};
	union {
		uint32_t cat;
		uint32_t dim;
	};
};

struct columns;

/* The configured columns of `c`.  Until columns_bind(), nothing is
 * counted: a reference is loaded into columns before any registry. */
struct columns *columns_create(const struct conf *c,
    const struct record_parser *rp);
/* Count missing features and skipped members in `model`'s series from
 * now on (the columns made so far included). */
void columns_bind(struct columns *cs, struct model *model);
void columns_destroy(struct columns *cs);

size_t columns_count(const struct columns *cs);
struct column *columns_get(struct columns *cs, size_t i);
/* Index of the column named `name`, or -1. */
long columns_find(const struct columns *cs, const char *name, size_t len);

/* The columns __features__ is made of (the numeric features listed in
 * [features], in order), or 0 of them without [drift] multivariate. */
size_t columns_joint(const struct columns *cs, const size_t **cols);

/* Add a discovered column (when the configuration discovers, there is
 * room and the name is at most COLUMNS_MAX_NAME_BYTES); returns its
 * index, or -1. */
long columns_add_discovered(struct columns *cs, const char *name,
    enum conf_column_kind kind);

/* The id of a label, assigning one while there is room. */
uint32_t columns_category(struct columns *cs, size_t col, const char *label,
    size_t len);

/*
 * The value of every column in record r.  Discovering new columns as the
 * record shows them; returns the array (valid until the next call) and
 * stores its length in *n.  With `count_missing`, features the record
 * lacks are counted in prediction_feature_missing_total.
 */
const struct column_value *columns_extract(struct columns *cs,
    struct record_parser *rp, const struct record *r, int count_missing,
    size_t *n);

#endif
