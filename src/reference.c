/*
 * reference.c - the distributions windows are compared with.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csv.h>
#include <nettle/sha2.h>

#include "reference.h"
#include "stats.h"
#include "util.h"

/* The largest reference file read; a reference is a sample, not a data
 * lake. */
#define REFERENCE_MAX_BYTES (1024u * 1024 * 1024)

/* Values of one column in input order, before finalising.  A vector
 * column keeps its first `vector_samples` vectors only (what MMD uses),
 * and counts the others. */
struct raw {
	double *num;
	uint32_t *cat;
	double *vec;             /* in double until __features__ is scaled */
	size_t nvec, dim;
	size_t n, cap;
	int finalised;
	struct reference_column fin;
};

/* A CSV column no configured column claimed; a discovered one may. */
struct pending {
	char *header;
	char **cells;
	size_t n;
};

struct reference {
	struct raw *cols;
	size_t ncols;
	size_t records;
	size_t vector_samples;
	char *source;
	char sha256[2 * SHA256_DIGEST_SIZE + 1];
	struct pending *pending;
	size_t npending;
};

struct reference *
reference_create(void)
{
	struct reference *r = xcalloc(1, sizeof(*r));

	r->source = xstrdup("none");
	r->vector_samples = 500;
	return r;
}

void
reference_set_vector_samples(struct reference *r, size_t n)
{
	r->vector_samples = n;
}

static void
fin_free(struct reference_column *f)
{
	free(f->sorted);
	free(f->edges);
	free(f->props);
	free(f->counts);
	free(f->vecs);
	memset(f, 0, sizeof(*f));
}

void
reference_destroy(struct reference *r)
{
	size_t i, j;

	if (r == NULL)
		return;
	for (i = 0; i < r->ncols; i++) {
		free(r->cols[i].num);
		free(r->cols[i].cat);
		free(r->cols[i].vec);
		fin_free(&r->cols[i].fin);
	}
	for (i = 0; i < r->npending; i++) {
		for (j = 0; j < r->pending[i].n; j++)
			free(r->pending[i].cells[j]);
		free(r->pending[i].cells);
		free(r->pending[i].header);
	}
	free(r->pending);
	free(r->cols);
	free(r->source);
	free(r);
}

static struct raw *
raw_col(struct reference *r, size_t col)
{
	if (col >= r->ncols) {
		r->cols = xreallocarray(r->cols, col + 1, sizeof(*r->cols));
		memset(r->cols + r->ncols, 0, (col + 1 - r->ncols) * sizeof(*r->cols));
		r->ncols = col + 1;
	}
	return &r->cols[col];
}

static void
raw_push_num(struct raw *c, double v)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 256;
		c->num = xreallocarray(c->num, c->cap, sizeof(double));
	}
	c->num[c->n++] = v;
	c->finalised = 0;
}

/* A vector; one of another length than the first is no value. */
static void
raw_push_vec(struct reference *r, struct raw *c, const double *v, size_t dim)
{
	size_t i;

	if (c->dim == 0)
		c->dim = dim;
	if (dim != c->dim)
		return;
	for (i = 0; i < dim; i++)
		if (!isfinite((float)v[i]))
			return;
	c->n++;
	c->finalised = 0;
	if (c->nvec >= r->vector_samples)
		return;
	if (c->vec == NULL)
		c->vec = xreallocarray(NULL, r->vector_samples,
		    dim * sizeof(double));
	memcpy(c->vec + c->nvec * dim, v, dim * sizeof(double));
	c->nvec++;
}

static void
raw_push_cat(struct raw *c, uint32_t id)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 256;
		c->cat = xreallocarray(c->cat, c->cap, sizeof(uint32_t));
	}
	c->cat[c->n++] = id;
	c->finalised = 0;
}

void
reference_add(struct reference *r, struct columns *cs,
    const struct column_value *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		enum conf_column_kind kind = columns_get(cs, i)->kind;

		if (!v[i].present)
			continue;
		if (kind == CONF_CATEGORICAL)
			raw_push_cat(raw_col(r, i), v[i].cat);
		else if (kind == CONF_VECTOR)
			raw_push_vec(r, raw_col(r, i), v[i].vec, v[i].dim);
		else
			raw_push_num(raw_col(r, i), v[i].num);
	}
	r->records++;
}

size_t
reference_records(const struct reference *r)
{
	return r->records;
}

void
reference_set_source(struct reference *r, const char *source,
    const void *bytes, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];
	size_t i;

	free(r->source);
	r->source = xstrdup(source);
	sha256_init(&ctx);
	sha256_update(&ctx, len, bytes);
	sha256_digest(&ctx, sizeof(d), d);
	for (i = 0; i < sizeof(d); i++) {
		r->sha256[2 * i] = hex[d[i] >> 4];
		r->sha256[2 * i + 1] = hex[d[i] & 15];
	}
	r->sha256[2 * sizeof(d)] = '\0';
}

const char *
reference_source(const struct reference *r)
{
	return r->source;
}

const char *
reference_sha256(const struct reference *r)
{
	return r->sha256;
}

/*
 * A vector column's sample; __features__'s standardised by the numeric
 * columns' means and standard deviations (a feature whose deviation is 0
 * is only centred).
 */
static void
finalize_vectors(struct reference *r, struct raw *c, struct column *col,
    struct columns *cs)
{
	struct reference_column *f = &c->fin;
	const size_t *joint;
	size_t nj = columns_joint(cs, &joint), i, j;

	f->dim = c->dim;
	f->nvecs = c->nvec;
	f->vecs = xreallocarray(NULL, c->nvec + 1, c->dim * sizeof(float));
	for (i = 0; i < c->nvec * c->dim; i++)
		f->vecs[i] = (float)c->vec[i];
	col->dim = c->dim;
	if (col->source != COLUMN_JOINT || nj != c->dim)
		return;
	/* Scaled before rounding to float, as the window's vectors are. */
	for (j = 0; j < nj; j++) {
		const struct reference_column *nc =
		    reference_column(r, joint[j]);
		double mean = nc != NULL ? nc->mean : 0;
		double sd = nc != NULL && nc->std > 0 ? nc->std : 1;

		for (i = 0; i < c->nvec; i++)
			f->vecs[i * nj + j] = (float)((c->vec[i * nj + j] -
			    mean) / sd);
	}
}

static void
finalize_column(struct reference *r, struct raw *c, struct column *col,
    struct columns *cs)
{
	struct reference_column *f = &c->fin;
	size_t i;

	fin_free(f);
	c->finalised = 1;
	f->n = c->n;
	if (c->n == 0)
		return;
	if (col->kind == CONF_VECTOR) {
		/* The raw sample stays: __features__ is standardised again
		 * if the numeric columns are finalised again. */
		finalize_vectors(r, c, col, cs);
		return;
	}
	if (col->kind == CONF_NUMERIC) {
		stats_mean_std(c->num, c->n, &f->mean, &f->std);
		/* One more for the +inf sentinel the merges stop at. */
		f->sorted = xreallocarray(NULL, c->n + 1, sizeof(double));
		memcpy(f->sorted, c->num, c->n * sizeof(double));
		stats_sort(f->sorted, c->n);
		f->sorted[c->n] = INFINITY;
		f->edges = xreallocarray(NULL, col->drift.bins, sizeof(double));
		f->nedges = stats_quantile_edges(f->sorted, c->n,
		    (unsigned)col->drift.bins, f->edges);
		f->props = xcalloc(f->nedges + 1, sizeof(double));
		{
			size_t *counts = xcalloc(f->nedges + 1, sizeof(size_t));

			for (i = 0; i < c->n; i++)
				counts[stats_upper_bound(f->edges, f->nedges,
				    f->sorted[i])]++;
			for (i = 0; i <= f->nedges; i++)
				f->props[i] = (double)counts[i] / (double)c->n;
			free(counts);
		}
	} else {
		size_t max = 0;

		for (i = 0; i < c->n; i++)
			if (c->cat[i] + 1 > max)
				max = c->cat[i] + 1;
		f->counts = xcalloc(max + 1, sizeof(uint32_t));
		f->ncounts = max;
		for (i = 0; i < c->n; i++)
			f->counts[c->cat[i]]++;
	}
	/* The values in input order are no longer needed: keep only what
	 * evaluations use, so a reference costs about its raw size. */
	free(c->num);
	free(c->cat);
	c->num = NULL;
	c->cat = NULL;
	c->cap = 0;
}

/* ------------------------------------------------------------------ CSV */

/* A CSV cell as a label: booleans in lower case, and integers written as
 * floats (3.0, as pandas writes integers in a column with gaps) as
 * integers, matching how labels are made from JSON. */
static size_t
csv_label(const char *s, size_t len, char *out, size_t outsize)
{
	size_t i, dot;

	if (len == 4 && strncasecmp(s, "true", 4) == 0)
		return util_strlcpy(out, "true", outsize);
	if (len == 5 && strncasecmp(s, "false", 5) == 0)
		return util_strlcpy(out, "false", outsize);
	i = s[0] == '-' ? 1 : 0;
	for (dot = i; dot < len && s[dot] >= '0' && s[dot] <= '9'; dot++)
		;
	if (dot > i && dot < len && s[dot] == '.') {
		for (i = dot + 1; i < len && s[i] == '0'; i++)
			;
		if (i == len && dot < outsize) {
			memcpy(out, s, dot);
			out[dot] = '\0';
			return dot;
		}
	}
	if (len >= outsize)
		len = outsize - 1;
	memcpy(out, s, len);
	out[len] = '\0';
	return len;
}

static int
csv_number(const char *s, size_t len, double *out)
{
	char tmp[128];
	char *end;

	if (len == 0 || len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	*out = strtod(tmp, &end);
	return *end == '\0' && isfinite(*out) ? 0 : -EINVAL;
}

struct csv_state {
	struct reference *r;
	struct columns *cs;
	size_t row;
	size_t field;
	long *map;               /* CSV column -> driftd column, or -1 */
	long *pend;              /* CSV column -> pending index, or -1 */
	long *coord;             /* vector columns: PATH[i] -> i, else -1 */
	size_t nfields;
	char **headers;
	int bad;
	/* One row's vectors and, for __features__, its numbers, by driftd
	 * column (those known when the file is read) */
	size_t ncols;
	double **rowvec;
	size_t *rowdim;          /* numbers set (a whole cell: its length) */
	size_t *rowmax;          /* PATH[i] columns: the highest i + 1 */
	double *rownum;
	unsigned char *rowhas;
};

/* A cell holding a JSON array of numbers, "[1.5, -2, 3e-1]", into the
 * row's vector of column col; 0 or -EINVAL. */
static int
csv_vector(struct csv_state *st, size_t col, const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	size_t n = 0, max = (size_t)CONF_MAX_VECTOR_DIM;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p++ != '[')
		return -EINVAL;
	for (;;) {
		const char *q;
		double v;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (n == 0 && p < end && *p == ']')
			return -EINVAL;
		for (q = p; q < end && *q != ',' && *q != ']' && *q != ' '; q++)
			;
		if (n >= max || csv_number(p, (size_t)(q - p), &v) != 0)
			return -EINVAL;
		st->rowvec[col] = xreallocarray(st->rowvec[col], n + 1,
		    sizeof(double));
		st->rowvec[col][n++] = v;
		p = q;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == ']')
			break;
		return -EINVAL;
	}
	for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	if (p != end)
		return -EINVAL;
	st->rowdim[col] = n;
	return 0;
}

static void
add_cell(struct csv_state *st, size_t field, const char *s, size_t len)
{
	struct reference *r = st->r;
	long col = field < st->nfields ? st->map[field] : -1;
	char label[RECORD_MAX_LABEL_BYTES + 1];

	if (col >= 0) {
		struct column *c = columns_get(st->cs, (size_t)col);
		long coord = st->coord != NULL ? st->coord[field] : -1;
		double v;

		if (c->kind == CONF_NUMERIC) {
			if (csv_number(s, len, &v) == 0) {
				raw_push_num(raw_col(r, (size_t)col), v);
				if ((size_t)col < st->ncols) {
					st->rownum[col] = v;
					st->rowhas[col] = 1;
				}
			}
		} else if (c->kind == CONF_VECTOR) {
			if ((size_t)col >= st->ncols)
				return;
			if (coord < 0) {
				if (csv_vector(st, (size_t)col, s, len) != 0)
					st->rowdim[col] = SIZE_MAX;   /* bad */
			} else if (csv_number(s, len, &v) == 0 &&
			    st->rowdim[col] != SIZE_MAX) {
				st->rowvec[col][coord] = v;
				st->rowdim[col]++;
			} else {
				st->rowdim[col] = SIZE_MAX;
			}
		} else if (len > 0 && len <= RECORD_MAX_LABEL_BYTES) {
			size_t n = csv_label(s, len, label, sizeof(label));

			raw_push_cat(raw_col(r, (size_t)col),
			    columns_category(st->cs, (size_t)col, label, n));
		}
	} else if (field < st->nfields && st->pend[field] >= 0) {
		struct pending *p = &r->pending[st->pend[field]];

		p->cells = xreallocarray(p->cells, p->n + 1, sizeof(char *));
		p->cells[p->n++] = xstrndup(s, len);
	}
}

/* A header PATH[i] of a vector column: the column, and i in *coord. */
static long
match_coordinate(struct columns *cs, const char *h, long *coord)
{
	size_t len = strlen(h), i;
	char *name;
	long col;

	if (len < 4 || h[len - 1] != ']')
		return -1;
	for (i = len - 1; i > 0 && h[i - 1] >= '0' && h[i - 1] <= '9'; i--)
		;
	if (i == len - 1 || i < 2 || h[i - 1] != '[' || len - 1 - i > 5)
		return -1;
	*coord = strtol(h + i, NULL, 10);
	if (*coord >= CONF_MAX_VECTOR_DIM)
		return -1;
	name = xstrndup(h, i - 1);
	col = columns_find(cs, name, strlen(name));
	free(name);
	return col >= 0 && columns_get(cs, (size_t)col)->kind == CONF_VECTOR ?
	    col : -1;
}

/* Which column does a header name? Exact path first, then a leaf. */
static long
match_header(struct columns *cs, const char *h)
{
	size_t i, n = columns_count(cs);
	long col = columns_find(cs, h, strlen(h));

	if (col >= 0)
		return col;
	for (i = 0; i < n; i++) {
		const struct column *c = columns_get(cs, i);

		if (c->alt != NULL && strcmp(c->alt, h) == 0)
			return (long)i;
	}
	for (i = 0; i < n; i++) {
		const struct column *c = columns_get(cs, i);

		if (c->source != COLUMN_CLASS && c->source != COLUMN_VALUE &&
		    c->source != COLUMN_CONFIDENCE && strcmp(c->leaf, h) == 0)
			return (long)i;
	}
	return -1;
}

/* The row's vectors, complete ones pushed, and __features__'s. */
static void
csv_row_vectors(struct csv_state *st)
{
	const size_t *joint;
	size_t nj = columns_joint(st->cs, &joint), i;

	for (i = 0; i < st->ncols; i++) {
		struct column *c = columns_get(st->cs, i);
		size_t want = st->rowmax[i];

		if (c->kind != CONF_VECTOR || c->source == COLUMN_JOINT)
			continue;
		/* PATH[0] ... PATH[n-1] all set, or one cell's array. */
		if (st->rowdim[i] != SIZE_MAX && st->rowdim[i] > 0 &&
		    (want == 0 || st->rowdim[i] == want))
			raw_push_vec(st->r, raw_col(st->r, i), st->rowvec[i],
			    st->rowdim[i]);
		st->rowdim[i] = 0;
	}
	if (nj > 0) {
		double *v = xcalloc(nj, sizeof(double));
		long col = columns_find(st->cs, CONF_FEATURES_COLUMN,
		    strlen(CONF_FEATURES_COLUMN));

		for (i = 0; i < nj && joint[i] < st->ncols &&
		    st->rowhas[joint[i]]; i++)
			v[i] = st->rownum[joint[i]];
		if (i == nj && col >= 0)
			raw_push_vec(st->r, raw_col(st->r, (size_t)col), v, nj);
		free(v);
	}
	memset(st->rowhas, 0, st->ncols);
}

static void
on_csv_field(void *s, size_t len, void *data)
{
	struct csv_state *st = data;

	if (st->row == 0) {
		st->headers = xreallocarray(st->headers, st->nfields + 1,
		    sizeof(char *));
		st->headers[st->nfields++] = xstrndup(s ? s : "", len);
	} else {
		add_cell(st, st->field, s ? s : "", len);
	}
	st->field++;
}

static void
on_csv_row(int c, void *data)
{
	struct csv_state *st = data;
	size_t i;

	(void)c;
	if (st->row == 0) {
		st->map = xcalloc(st->nfields + 1, sizeof(long));
		st->pend = xcalloc(st->nfields + 1, sizeof(long));
		st->coord = xcalloc(st->nfields + 1, sizeof(long));
		st->ncols = columns_count(st->cs);
		st->rowvec = xcalloc(st->ncols + 1, sizeof(double *));
		st->rowdim = xcalloc(st->ncols + 1, sizeof(size_t));
		st->rowmax = xcalloc(st->ncols + 1, sizeof(size_t));
		st->rownum = xcalloc(st->ncols + 1, sizeof(double));
		st->rowhas = xcalloc(st->ncols + 1, 1);
		for (i = 0; i < st->nfields; i++) {
			long coord = -1;
			long m = match_coordinate(st->cs, st->headers[i], &coord);
			size_t k;

			st->coord[i] = m >= 0 ? coord : -1;
			if (m >= 0) {
				/* Each coordinate has its own header, and a
				 * column is read either by coordinates or
				 * whole: the first header decides. */
				for (k = 0; k < i; k++)
					if (st->map[k] == m &&
					    (st->coord[k] == coord ||
					    st->coord[k] < 0))
						m = -1;
				if (m >= 0) {
					if ((size_t)coord + 1 > st->rowmax[m])
						st->rowmax[m] =
						    (size_t)coord + 1;
					st->map[i] = m;
					st->pend[i] = -1;
					continue;
				}
			}
			st->coord[i] = -1;
			m = match_header(st->cs, st->headers[i]);

			/* A column claimed twice keeps its first header. */
			for (k = 0; k < i && m >= 0; k++)
				if (st->map[k] == m)
					m = -1;
			st->map[i] = m;
			st->pend[i] = -1;
			if (m < 0) {
				struct reference *r = st->r;

				r->pending = xreallocarray(r->pending,
				    r->npending + 1, sizeof(*r->pending));
				memset(&r->pending[r->npending], 0,
				    sizeof(r->pending[0]));
				r->pending[r->npending].header =
				    xstrdup(st->headers[i]);
				st->pend[i] = (long)r->npending++;
			}
		}
		for (i = 0; i < st->ncols; i++)
			if (st->rowmax[i] > 0)
				st->rowvec[i] = xcalloc(st->rowmax[i],
				    sizeof(double));
	} else {
		st->r->records++;
		csv_row_vectors(st);
	}
	st->row++;
	st->field = 0;
}

static int
read_all(const char *path, char **out, size_t *len)
{
	struct stat st;
	size_t n = 0;
	char *b;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > REFERENCE_MAX_BYTES) {
		r = errno != 0 ? -errno : -EINVAL;
		close(fd);
		return r == 0 ? -EINVAL : r;
	}
	b = xmalloc((size_t)st.st_size + 1);
	while (n < (size_t)st.st_size) {
		ssize_t k = read(fd, b + n, (size_t)st.st_size - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r = k < 0 ? -errno : 0;
			break;
		}
		n += (size_t)k;
	}
	close(fd);
	if (r != 0) {
		free(b);
		return r;
	}
	b[n] = '\0';
	*out = b;
	*len = n;
	return 0;
}

static int
load_csv(struct reference *r, const char *path, const char *text, size_t len,
    struct columns *cs, struct buf *err)
{
	struct csv_parser p;
	struct csv_state st;
	size_t i;
	int rc = 0;

	memset(&st, 0, sizeof(st));
	st.r = r;
	st.cs = cs;
	if (csv_init(&p, CSV_APPEND_NULL) != 0) {
		buf_printf(err, "%s: cannot start the CSV parser", path);
		return -ENOMEM;
	}
	if (csv_parse(&p, text, len, on_csv_field, on_csv_row, &st) != len ||
	    csv_fini(&p, on_csv_field, on_csv_row, &st) != 0) {
		buf_printf(err, "%s: not valid CSV: %s", path,
		    csv_strerror(csv_error(&p)));
		rc = -EINVAL;
	} else if (st.row == 0) {
		buf_printf(err, "%s: empty; a header row is needed", path);
		rc = -EINVAL;
	}
	csv_free(&p);
	for (i = 0; i < st.nfields; i++)
		free(st.headers[i]);
	free(st.headers);
	free(st.map);
	free(st.pend);
	free(st.coord);
	for (i = 0; i < st.ncols; i++)
		free(st.rowvec[i]);
	free(st.rowvec);
	free(st.rowdim);
	free(st.rowmax);
	free(st.rownum);
	free(st.rowhas);
	return rc;
}

static int
load_jsonl(struct reference *r, const char *path, const char *text,
    size_t len, struct columns *cs, struct record_parser *rp, struct buf *err)
{
	const char *p = text, *end = text + len;
	size_t lineno = 0, bad = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct record rec;
		const struct column_value *v;
		size_t n;

		lineno++;
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l > 0) {
			switch (record_parse(rp, p, l, &rec)) {
			case RECORD_OK:
				v = columns_extract(cs, rp, &rec, 0, &n);
				reference_add(r, cs, v, n);
				break;
			case RECORD_BAD_JSON:
				bad++;
				break;
			case RECORD_SKIP:
				break;
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (bad > 0)
		buf_printf(err, "%s: %zu of %zu lines are not JSON objects and "
		    "were skipped", path, bad, lineno);
	return 0;
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int
reference_load(struct reference *r, const char *path, const struct conf *c,
    struct columns *cs, struct record_parser *rp, struct buf *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	(void)c;
	rc = read_all(path, &text, &len);
	if (rc != 0) {
		buf_printf(err, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (has_suffix(path, ".jsonl") || has_suffix(path, ".ndjson") ||
	    has_suffix(path, ".json"))
		rc = load_jsonl(r, path, text, len, cs, rp, err);
	else
		rc = load_csv(r, path, text, len, cs, err);
	if (rc == 0)
		reference_set_source(r, path, text, len);
	free(text);
	return rc;
}

/* Give columns added since loading the CSV cells set aside for them. */
static void
adopt_pending(struct reference *r, struct columns *cs)
{
	size_t i, j;

	for (i = 0; i < r->npending; i++) {
		struct pending *p = &r->pending[i];
		long col;

		if (p->header == NULL)
			continue;
		col = match_header(cs, p->header);
		if (col < 0 || ((size_t)col < r->ncols && r->cols[col].n > 0))
			continue;
		for (j = 0; j < p->n; j++) {
			struct csv_state st;
			long map = col, pend = -1;

			memset(&st, 0, sizeof(st));
			st.r = r;
			st.cs = cs;
			st.map = &map;
			st.pend = &pend;
			st.nfields = 1;
			add_cell(&st, 0, p->cells[j], strlen(p->cells[j]));
			free(p->cells[j]);
		}
		free(p->cells);
		free(p->header);
		memset(p, 0, sizeof(*p));
	}
}

void
reference_finalize(struct reference *r, struct columns *cs)
{
	size_t i, n = columns_count(cs);

	if (r->npending > 0)
		adopt_pending(r, cs);
	raw_col(r, n > 0 ? n - 1 : 0);
	for (i = 0; i < n; i++)
		if (!r->cols[i].finalised)
			finalize_column(r, &r->cols[i], columns_get(cs, i), cs);
}

const struct reference_column *
reference_column(const struct reference *r, size_t col)
{
	if (col >= r->ncols || !r->cols[col].finalised || r->cols[col].fin.n == 0)
		return NULL;
	return &r->cols[col].fin;
}

/* --------------------------------------------------------- persistence */

static void
put_u64(struct buf *b, uint64_t v)
{
	buf_append(b, &v, sizeof(v));
}

void
reference_serialize(const struct reference *r, struct columns *cs,
    struct buf *out)
{
	size_t i, j, n = columns_count(cs);

	buf_puts(out, "driftd-reference 1\n");
	put_u64(out, r->records);
	put_u64(out, n);
	for (i = 0; i < n; i++) {
		const struct column *c = columns_get(cs, i);
		const struct raw *raw = i < r->ncols ? &r->cols[i] : NULL;
		/* Only values not yet finalised are still in input order. */
		size_t cnt = raw != NULL && (raw->num != NULL || raw->cat != NULL) ?
		    raw->n : 0;

		put_u64(out, strlen(c->name));
		buf_puts(out, c->name);
		put_u64(out, (uint64_t)c->kind);
		if (c->kind == CONF_VECTOR) {
			/* The sample kept: count, dimension, floats. */
			cnt = raw != NULL && raw->vec != NULL ? raw->nvec : 0;
			put_u64(out, cnt);
			put_u64(out, cnt > 0 ? raw->dim : 0);
			if (cnt > 0)
				buf_append(out, raw->vec,
				    cnt * raw->dim * sizeof(double));
			continue;
		}
		put_u64(out, cnt);
		for (j = 0; j < cnt; j++) {
			if (c->kind == CONF_NUMERIC) {
				buf_append(out, &raw->num[j], sizeof(double));
			} else {
				const char *l = c->labels[raw->cat[j]];

				put_u64(out, strlen(l));
				buf_puts(out, l);
			}
		}
	}
}

struct reader {
	const char *p, *end;
	int bad;
};

static const char *
take(struct reader *rd, size_t n)
{
	const char *p = rd->p;

	if (rd->bad || (size_t)(rd->end - rd->p) < n) {
		rd->bad = 1;
		return NULL;
	}
	rd->p += n;
	return p;
}

static uint64_t
get_u64(struct reader *rd)
{
	const char *p = take(rd, 8);
	uint64_t v = 0;

	if (p != NULL)
		memcpy(&v, p, 8);
	return v;
}

int
reference_deserialize(struct reference *r, struct columns *cs,
    const char *data, size_t len)
{
	static const char magic[] = "driftd-reference 1\n";
	struct reader rd = { data, data + len, 0 };
	uint64_t ncols, i, j;

	if (take(&rd, sizeof(magic) - 1) == NULL ||
	    memcmp(data, magic, sizeof(magic) - 1) != 0)
		return -EBADMSG;
	r->records = get_u64(&rd);
	ncols = get_u64(&rd);
	for (i = 0; i < ncols && !rd.bad; i++) {
		uint64_t nl = get_u64(&rd), kind, cnt;
		const char *name = nl < 4096 ? take(&rd, nl) : NULL;
		long col;

		kind = get_u64(&rd);
		cnt = get_u64(&rd);
		if (name == NULL || cnt > len) {
			rd.bad = 1;
			break;
		}
		if (kind == CONF_VECTOR) {
			uint64_t dim = get_u64(&rd);
			const char *p = dim <= CONF_MAX_VECTOR_DIM ?
			    take(&rd, cnt * dim * sizeof(double)) : NULL;
			double *v;

			col = columns_find(cs, name, nl);
			if (p == NULL) {
				rd.bad = 1;
				break;
			}
			if (col < 0 || columns_get(cs, (size_t)col)->kind !=
			    CONF_VECTOR || dim == 0)
				continue;
			v = xcalloc(dim, sizeof(double));
			for (j = 0; j < cnt; j++) {
				uint64_t k;

				for (k = 0; k < dim; k++)
					memcpy(&v[k], p + (j * dim + k) *
					    sizeof(double), sizeof(double));
				raw_push_vec(r, raw_col(r, (size_t)col), v, dim);
			}
			free(v);
			continue;
		}
		col = columns_find(cs, name, nl);
		if (col < 0 && kind <= CONF_CATEGORICAL) {
			/* A discovered column: make it now, as the records
			 * that showed it did. */
			char *tmp = xstrndup(name, nl);

			col = columns_add_discovered(cs, tmp,
			    (enum conf_column_kind)kind);
			free(tmp);
		}
		for (j = 0; j < cnt && !rd.bad; j++) {
			if (kind == CONF_NUMERIC) {
				const char *p = take(&rd, sizeof(double));
				double v;

				if (p == NULL || col < 0 ||
				    columns_get(cs, (size_t)col)->kind != CONF_NUMERIC)
					continue;
				memcpy(&v, p, sizeof(v));
				raw_push_num(raw_col(r, (size_t)col), v);
			} else {
				uint64_t ll = get_u64(&rd);
				const char *l = ll <= RECORD_MAX_LABEL_BYTES + 16 ?
				    take(&rd, ll) : NULL;

				if (l == NULL) {
					rd.bad = 1;
					break;
				}
				if (col < 0 || columns_get(cs, (size_t)col)->kind !=
				    CONF_CATEGORICAL)
					continue;
				raw_push_cat(raw_col(r, (size_t)col),
				    columns_category(cs, (size_t)col, l, ll));
			}
		}
	}
	return rd.bad ? -EBADMSG : 0;
}
