/*
 * reference.h - the distributions windows are compared with.
 *
 * A reference comes from a CSV file with a header row, from a JSON-lines
 * file in the log's own shape, or from the first records of the log
 * ("capture").  It is built column by column in input order, then
 * finalised once: numeric values are sorted, their standard deviation
 * (in input order, as numpy computes it) and PSI bin edges and
 * proportions are computed, categorical values are counted.  Every
 * evaluation reuses that work.
 *
 * Ownership: the reference owns its arrays; pointers from
 * reference_column() stay valid until the reference is destroyed or the
 * column is finalised again.
 */
#ifndef DRIFTD_REFERENCE_H
#define DRIFTD_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "columns.h"
#include "conf.h"
#include "record.h"

struct reference_column {
	size_t n;                /* values (valid ones only) */
	/* numeric */
	double *sorted;
	double std;              /* numpy.std of the values in input order */
	double *edges;           /* PSI bin edges, nedges of them */
	size_t nedges;
	double *props;           /* nedges + 1 bin proportions */
	double mean;
	/* categorical */
	uint32_t *counts;        /* per category id of the column */
	size_t ncounts;
	/* vector: the first vectors (at most [drift] mmd_samples), nvecs x
	 * dim, standardised for __features__ */
	float *vecs;
	size_t nvecs, dim;
};

struct reference;

struct reference *reference_create(void);
/* How many vectors of a vector column to keep: what MMD uses. */
void reference_set_vector_samples(struct reference *r, size_t n);
void reference_destroy(struct reference *r);

/*
 * Load a CSV or JSON-lines file (by its extension: .jsonl, .ndjson or
 * .json are JSON lines, anything else CSV) into columns `cs`.  Returns 0,
 * or a negative errno with a message in `err`.  Columns with no values
 * are reported by the caller through reference_column().
 */
int reference_load(struct reference *r, const char *path,
    const struct conf *c, struct columns *cs, struct record_parser *rp,
    struct buf *err);

/* Append one record's values (capture). */
void reference_add(struct reference *r, struct columns *cs,
    const struct column_value *v, size_t n);
size_t reference_records(const struct reference *r);

/* Sort and precompute every column (again); call after loading or when a
 * capture is complete.  Columns added to `cs` later get their values from
 * CSV columns set aside at load, if any, by calling it again. */
void reference_finalize(struct reference *r, struct columns *cs);

/* The finalised column, or NULL if it has no values. */
const struct reference_column *reference_column(const struct reference *r,
    size_t col);

/* Where the reference came from and the SHA-256 of its bytes (hex). */
const char *reference_source(const struct reference *r);
const char *reference_sha256(const struct reference *r);
void reference_set_source(struct reference *r, const char *source,
    const void *bytes, size_t len);

/*
 * A captured reference as bytes for state_dir, and back.  The encoding
 * holds column names, kinds and raw values in capture order.
 */
void reference_serialize(const struct reference *r, struct columns *cs,
    struct buf *out);
int reference_deserialize(struct reference *r, struct columns *cs,
    const char *data, size_t len);

#endif
