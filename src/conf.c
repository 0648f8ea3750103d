/*
 * conf.c - the configuration file.
 *
 * inih splits lines into keys and values.  Around it, a line reader of our
 * own (conf_reader) tracks line numbers, parses section headers itself so
 * that a section such as [feature probabilities[0]] keeps its brackets,
 * reports lines inih would silently misread, and strips indentation so that
 * inih's multi-line continuation never glues two keys together.
 */
#include "config.h"

#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>
#include <uv.h>

#include "conf_internal.h"
#include "path.h"
#include "util.h"

#define F(field) offsetof(struct conf, field)
#define KEY(sec, nm, ty, off, def, ...) \
	{ .section = sec, .name = nm, .type = ty, .offset = off, .deflt = def, \
	  __VA_ARGS__ }

static const char *const start_at_choices[] = { "end", "beginning", NULL };
static const char *const correction_choices[] = { "none", "bonferroni", "fdr", NULL };
static const char *const unit_choices[] = { "s", "ms", "us", NULL };
static const char *const yes_no[] = { "no", "yes", NULL };
static const char *const multivariate_choices[] = { "none", "mmd", NULL };
static const char *const change_methods[] = { "page_hinkley", "cusum", NULL };
static const char *const change_directions[] = { "both", "up", "down", NULL };

#define LATENCY_BUCKETS "0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10"
#define CONFIDENCE_BUCKETS "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1"

/*
 * Every configuration key.  Adding a key is one line here, one field in
 * struct conf, and its entries in driftd.conf(5) and etc/driftd.conf.
 */
static const struct key keys[] = {
	KEY("global", "listen", KT_LISTEN, F(listen), CONF_DEFAULT_LISTEN),
	KEY("global", "state_dir", KT_STRING, F(state_dir), ""),
	KEY("global", "log_level", KT_LOGLEVEL, F(log_level), "info"),
	KEY("global", "checkpoint_interval", KT_DURATION, F(checkpoint_interval_ms), "5s", .min = 100, .max = 3600e3),
	KEY("global", "enable_lifecycle", KT_ENUM, F(enable_lifecycle), "no", .choices = yes_no),

	KEY("input", "path", KT_STRINGS, F(inputs), NULL),
	KEY("input", "start_at", KT_ENUM, F(start_at), "end", .choices = start_at_choices),
	KEY("input", "rotate_wait", KT_DURATION, F(rotate_wait_ms), "30s", .max = 86400e3),
	KEY("input", "max_line_bytes", KT_UINT, F(max_line_bytes), "1048576", .min = 256, .max = 64 * 1048576.0),
	KEY("input", "poll_interval", KT_DURATION, F(poll_interval_ms), "1s", .min = 10, .max = 3600e3),
	KEY("input", "match_field", KT_PATH, F(match_field), ""),
	KEY("input", "match_value", KT_STRING, F(match_value), ""),

	KEY("model", "name", KT_NAME, F(model_name), "default"),
	KEY("model", "class", KT_PATH, F(class_path), "prediction"),
	KEY("model", "value", KT_PATH, F(value_path), ""),
	KEY("model", "value_buckets", KT_BUCKETS, F(value_buckets), LATENCY_BUCKETS, .min = -HUGE_VAL, .max = HUGE_VAL),
	KEY("model", "confidence", KT_CONFIDENCE, F(confidence_path), "confidence"),
	KEY("model", "latency", KT_PATH, F(latency_path), ""),
	KEY("model", "latency_unit", KT_ENUM, F(latency_unit), "ms", .choices = unit_choices),
	KEY("model", "timestamp", KT_PATH, F(timestamp_path), ""),
	KEY("model", "confidence_buckets", KT_BUCKETS, F(confidence_buckets), CONFIDENCE_BUCKETS, .max = 1),
	KEY("model", "latency_buckets", KT_BUCKETS, F(latency_buckets), LATENCY_BUCKETS, .max = HUGE_VAL),
	KEY("model", "max_classes", KT_UINT, F(max_classes), "64", .min = 1, .max = 10000),
	KEY("model", "id", KT_PATH, F(model_id), ""),
	KEY("model", "label", KT_PATH, F(model_label), ""),

	KEY("labels", "path", KT_STRINGS, F(labels_inputs), NULL),
	KEY("labels", "id", KT_PATH, F(labels_id), "id"),
	KEY("labels", "label", KT_PATH, F(labels_label), "label"),
	KEY("labels", "timestamp", KT_PATH, F(labels_timestamp), ""),
	KEY("labels", "max_delay", KT_DURATION, F(labels_max_delay_ms), "1h", .min = 1, .max = 30 * 86400e3),
	KEY("labels", "max_pending", KT_UINT, F(labels_max_pending), "100000", .min = 1, .max = CONF_LABELS_MAX_PENDING),
	KEY("labels", "segment", KT_PATH, F(labels_segment), ""),

	KEY("features", "discover", KT_PATH, F(discover), ""),
	KEY("features", "max_features", KT_UINT, F(max_features), "256", .min = 1, .max = 10000),
	KEY("features", "max_categories", KT_UINT, F(max_categories), "64", .min = 1, .max = 10000),
	KEY("features", "max_vector_dim", KT_UINT, F(max_vector_dim), "1024", .min = 1, .max = CONF_MAX_VECTOR_DIM),

	KEY("reference", "file", KT_STRING, F(reference_file), ""),
	KEY("reference", "capture", KT_UINT, F(capture), "0", .max = 10000000),

	KEY("window", "size", KT_UINT, F(window_size), "1000", .min = 1, .max = 10000000),
	KEY("window", "duration", KT_DURATION, F(window_duration_ms), "0", .max = 3650 * 86400e3),
	KEY("window", "min_samples", KT_UINT, F(min_samples), "100", .min = 1, .max = 10000000),
	KEY("window", "evaluate_every", KT_DURATION, F(evaluate_every_ms), "10s", .min = 100, .max = 86400e3),

	KEY("drift", "numeric", KT_TESTS, F(numeric_tests), "ks,psi", .mask = CONF_NUMERIC_TESTS),
	KEY("drift", "categorical", KT_TESTS, F(categorical_tests), "chi2,psi", .mask = CONF_CATEGORICAL_TESTS),
	KEY("drift", "decide_numeric", KT_DECIDE, F(decide_numeric), "auto", .mask = CONF_NUMERIC_TESTS),
	KEY("drift", "decide_categorical", KT_DECIDE, F(decide_categorical), "auto", .mask = CONF_CATEGORICAL_TESTS),
	KEY("drift", "p_value", KT_DOUBLE, F(drift.p_value), "0.05", .max = 1, .excl = EXCL_MIN | EXCL_MAX),
	KEY("drift", "psi_threshold", KT_DOUBLE, F(drift.psi_threshold), "0.2", .max = HUGE_VAL, .excl = EXCL_MIN),
	KEY("drift", "js_threshold", KT_DOUBLE, F(drift.js_threshold), "0.1", .max = 1, .excl = EXCL_MIN),
	KEY("drift", "wasserstein_threshold", KT_DOUBLE, F(drift.wasserstein_threshold), "0.1", .max = HUGE_VAL, .excl = EXCL_MIN),
	KEY("drift", "kl_threshold", KT_DOUBLE, F(drift.kl_threshold), "0.1", .max = HUGE_VAL, .excl = EXCL_MIN),
	KEY("drift", "bins", KT_UINT, F(drift.bins), "10", .min = 2, .max = 1000),
	KEY("drift", "correction", KT_ENUM, F(correction), "none", .choices = correction_choices),
	KEY("drift", "dataset_share", KT_DOUBLE, F(dataset_share), "0.5", .max = 1, .excl = EXCL_MIN),
	KEY("drift", "export_bins", KT_ENUM, F(export_bins), "no", .choices = yes_no),
	KEY("drift", "multivariate", KT_ENUM, F(multivariate), "none", .choices = multivariate_choices),
	KEY("drift", "mmd_samples", KT_UINT, F(mmd_samples), "500", .min = 10, .max = 2000),
	KEY("drift", "mmd_permutations", KT_UINT, F(mmd_permutations), "100", .min = 1, .max = 1000),

	KEY("change", "columns", KT_STRING, F(change_columns), ""),
	KEY("change", "method", KT_ENUM, F(change_method), "page_hinkley", .choices = change_methods),
	KEY("change", "direction", KT_ENUM, F(change_direction), "both", .choices = change_directions),
	KEY("change", "min_instances", KT_UINT, F(change_min_instances), "30", .min = 1, .max = 1e9),
	KEY("change", "delta", KT_DOUBLE, F(change_delta), "0.005", .max = HUGE_VAL),
	KEY("change", "threshold", KT_DOUBLE, F(change_threshold), "50", .max = HUGE_VAL, .excl = EXCL_MIN),
	KEY("change", "alpha", KT_DOUBLE, F(change_alpha), "0.9999", .max = 1, .excl = EXCL_MIN),
	KEY("change", "k", KT_DOUBLE, F(change_k), "0.5", .max = HUGE_VAL),
	KEY("change", "h", KT_DOUBLE, F(change_h), "5", .max = HUGE_VAL, .excl = EXCL_MIN),

	KEY("report", "history", KT_UINT, F(report_history), "360", .max = CONF_MAX_REPORT_HISTORY),
	KEY("report", "keep", KT_UINT, F(report_keep), "50", .max = 100000),
};

#undef F
#define D(field) offsetof(struct conf_drift, field)

/* Keys of a [feature PATH] section, relative to its struct conf_drift.
 * Without defaults: what a section does not set comes from [drift]. */
static const struct key override_keys[] = {
	KEY("feature", "tests", KT_TESTS, D(tests), NULL, .mask = CONF_ALL_TESTS),
	KEY("feature", "decide", KT_DECIDE, D(decide), NULL, .mask = CONF_ALL_TESTS),
	KEY("feature", "p_value", KT_DOUBLE, D(p_value), NULL, .max = 1, .excl = EXCL_MIN | EXCL_MAX),
	KEY("feature", "psi_threshold", KT_DOUBLE, D(psi_threshold), NULL, .max = HUGE_VAL, .excl = EXCL_MIN),
	KEY("feature", "js_threshold", KT_DOUBLE, D(js_threshold), NULL, .max = 1, .excl = EXCL_MIN),
	KEY("feature", "wasserstein_threshold", KT_DOUBLE, D(wasserstein_threshold), NULL, .max = HUGE_VAL, .excl = EXCL_MIN),
	KEY("feature", "kl_threshold", KT_DOUBLE, D(kl_threshold), NULL, .max = HUGE_VAL, .excl = EXCL_MIN),
	KEY("feature", "bins", KT_UINT, D(bins), NULL, .min = 2, .max = 1000),
};

#undef D
#define NOVERRIDE_KEYS ARRAY_SIZE(override_keys)
#define OVERRIDE_PREFIX "feature "

/* Sections whose other keys are field paths rather than table keys. */
static int
section_takes_paths(const char *section)
{
	return strcmp(section, "features") == 0;
}

struct loader {
	struct conf *conf;
	const char *file;
	struct buf *errors;
	int nerrors;
	int set_at[ARRAY_SIZE(keys)];   /* line that set each key, 0 if unset */

	/* conf_reader state */
	const char *text;
	size_t len;
	size_t pos;
	int lineno;
	char *section;          /* current section as written, NULL before the first */
	char raw[CONF_MAX_LINE + 2];   /* the current line, indentation removed */
	int section_line;
	int section_bad;        /* current section is unknown: report it once */
	int override;           /* index of the current [feature PATH], or -1 */
	int *override_set_at;   /* NOVERRIDE_KEYS per override */
};

static void loader_error(struct loader *l, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
loader_error(struct loader *l, int line, const char *fmt, ...)
{
	va_list ap;

	buf_printf(l->errors, "%s:%d: ", l->file, line);
	va_start(ap, fmt);
	buf_vprintf(l->errors, fmt, ap);
	va_end(ap);
	buf_putc(l->errors, '\n');
	l->nerrors++;
}

/* Whether the path text names the parsed path p (text that does not
 * parse names nothing). */
static int
path_is(const struct path *p, const char *text)
{
	struct path q;
	const char *perr;
	int same;

	if (path_parse(text, strlen(text), &q, &perr) != 0)
		return 0;
	same = path_equal(p, &q);
	path_free(&q);
	return same;
}

/* A [features] line: PATH = numeric | categorical | vector. */
static int
parse_feature(struct conf *c, const char *name, const char *value, int line,
    char *err, size_t errsize)
{
	struct conf_feature *f;
	const char *perr;
	struct path p;
	enum conf_column_kind kind;
	size_t i;

	if (strcmp(value, "numeric") == 0) {
		kind = CONF_NUMERIC;
	} else if (strcmp(value, "categorical") == 0) {
		kind = CONF_CATEGORICAL;
	} else if (strcmp(value, "vector") == 0) {
		kind = CONF_VECTOR;
	} else {
		snprintf(err, errsize, "%s: expected numeric, categorical or "
		    "vector, got \"%s\"", name, value);
		return -EINVAL;
	}
	if (path_parse(name, strlen(name), &p, &perr) != 0) {
		snprintf(err, errsize, "bad field path \"%s\": %s", name, perr);
		return -EINVAL;
	}
	for (i = 0; i < c->nfeatures; i++) {
		if (path_is(&p, c->features[i].path)) {
			snprintf(err, errsize, "%s: already listed on line %d",
			    name, c->features[i].line);
			path_free(&p);
			return -EINVAL;
		}
	}
	path_free(&p);
	if (c->nfeatures >= CONF_MAX_FEATURES) {
		snprintf(err, errsize, "more than %d features", CONF_MAX_FEATURES);
		return -EINVAL;
	}
	c->features = xreallocarray(c->features, c->nfeatures + 1,
	    sizeof(*c->features));
	f = &c->features[c->nfeatures++];
	f->path = xstrdup(name);
	f->kind = kind;
	f->line = line;
	return 0;
}

static int
section_known(const char *section)
{
	size_t i;

	if (section_takes_paths(section) ||
	    strncmp(section, OVERRIDE_PREFIX, strlen(OVERRIDE_PREFIX)) == 0)
		return 1;
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(keys[i].section, section) == 0)
			return 1;
	return 0;
}

/*
 * Split a raw "KEY = VALUE ; comment" line where KEY may contain quoted
 * parts holding '=', ':' or ';'.  Returns 0, or -EINVAL without a separator.
 */
static int
resplit_quoted(const char *raw, struct buf *name, struct buf *value)
{
	const char *p = raw, *k_end, *v, *v_end;
	int quoted = 0;

	for (; *p != '\0'; p++) {
		if (quoted && *p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && (*p == '=' || *p == ':'))
			break;
	}
	if (*p == '\0')
		return -EINVAL;
	k_end = p;
	while (k_end > raw && (k_end[-1] == ' ' || k_end[-1] == '\t'))
		k_end--;
	v = p + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	for (v_end = v; *v_end != '\0'; v_end++)
		if (*v_end == ';' && v_end > v && (v_end[-1] == ' ' || v_end[-1] == '\t'))
			break;
	while (v_end > v && (v_end[-1] == ' ' || v_end[-1] == '\t' ||
	    v_end[-1] == '\r' || v_end[-1] == '\n'))
		v_end--;
	buf_append(name, raw, (size_t)(k_end - raw));
	buf_append(value, v, (size_t)(v_end - v));
	return 0;
}

static int
handler(void *user, const char *ini_section, const char *name,
    const char *value)
{
	struct loader *l = user;
	char err[512];
	size_t i;

	(void)ini_section;   /* conf_reader tracks sections itself */
	if (l->section == NULL) {
		loader_error(l, l->lineno, "\"%s\" outside any section", name);
		return 1;
	}
	if (l->section_bad)
		return 1;    /* already reported at the section header */
	if (l->override >= 0) {
		struct conf_override *o = &l->conf->overrides[l->override];
		int *set_at = l->override_set_at + (size_t)l->override * NOVERRIDE_KEYS;

		for (i = 0; i < NOVERRIDE_KEYS; i++) {
			if (strcmp(override_keys[i].name, name) != 0)
				continue;
			if (set_at[i] != 0) {
				loader_error(l, l->lineno, "%s: already set on "
				    "line %d", name, set_at[i]);
			} else if (conf_value_parse(&o->d, &override_keys[i], value,
			    err, sizeof(err)) != 0) {
				loader_error(l, l->lineno, "%s", err);
			} else {
				set_at[i] = l->lineno;
			}
			return 1;
		}
		loader_error(l, l->lineno, "unknown key \"%s\" in a [feature "
		    "PATH] section", name);
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strcmp(keys[i].section, l->section) != 0 ||
		    strcmp(keys[i].name, name) != 0)
			continue;
		/* A repeatable key adds one entry per line. */
		if (l->set_at[i] != 0 && keys[i].type != KT_STRINGS) {
			loader_error(l, l->lineno, "%s: already set on line %d",
			    name, l->set_at[i]);
			return 1;
		}
		if (conf_value_parse(l->conf, &keys[i], value, err, sizeof(err)) != 0) {
			loader_error(l, l->lineno, "%s", err);
			return 1;
		}
		l->set_at[i] = l->lineno;
		return 1;
	}
	if (section_takes_paths(l->section)) {
		struct buf rname = BUF_INIT, rvalue = BUF_INIT;

		/* inih splits at the first '=' or ':', even inside a quoted
		 * key such as features."a:b"; split such lines again. */
		if (strchr(l->raw, '"') != NULL &&
		    resplit_quoted(l->raw, &rname, &rvalue) == 0) {
			name = rname.data;
			value = rvalue.data != NULL ? rvalue.data : "";
		}
		if (parse_feature(l->conf, name, value, l->lineno, err,
		    sizeof(err)) != 0)
			loader_error(l, l->lineno, "%s", err);
		buf_free(&rname);
		buf_free(&rvalue);
		return 1;
	}
	loader_error(l, l->lineno, "unknown key \"%s\" in section [%s]", name,
	    l->section);
	/* Returning 1 keeps inih going so that every error is reported. */
	return 1;
}

static int
line_is_blank_or_comment(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return *s == '\0' || *s == ';' || *s == '#';
}

/* A [feature PATH] section starts: check the path and make its entry. */
static void
begin_override(struct loader *l, const char *text)
{
	struct conf *c = l->conf;
	struct conf_override *o;
	struct path p;
	const char *perr;
	size_t i;

	while (*text == ' ' || *text == '\t')
		text++;
	if (path_parse(text, strlen(text), &p, &perr) != 0) {
		loader_error(l, l->lineno, "bad field path \"%s\": %s", text, perr);
		l->section_bad = 1;
		return;
	}
	for (i = 0; i < c->noverrides; i++) {
		if (path_is(&p, c->overrides[i].path)) {
			loader_error(l, l->lineno, "[feature %s] already begins "
			    "on line %d", text, c->overrides[i].line);
			l->section_bad = 1;
			path_free(&p);
			return;
		}
	}
	path_free(&p);
	c->overrides = xreallocarray(c->overrides, c->noverrides + 1,
	    sizeof(*c->overrides));
	o = &c->overrides[c->noverrides];
	memset(o, 0, sizeof(*o));
	o->path = xstrdup(text);
	o->line = l->lineno;
	o->d.decide = UNSET_DECIDE;
	o->d.p_value = o->d.psi_threshold = o->d.js_threshold =
	    o->d.wasserstein_threshold = o->d.kl_threshold = NAN;
	l->override_set_at = xreallocarray(l->override_set_at,
	    (c->noverrides + 1) * NOVERRIDE_KEYS, sizeof(int));
	memset(l->override_set_at + c->noverrides * NOVERRIDE_KEYS, 0,
	    NOVERRIDE_KEYS * sizeof(int));
	l->override = (int)c->noverrides++;
}

/*
 * Handle a section header line ourselves.  inih ends a section name at the
 * first ']', which would cut "[feature probabilities[0]]" short; here the
 * name runs to the last ']' before an inline comment.
 */
static void
reader_section(struct loader *l, const char *line, size_t len)
{
	const char *end = line + len;
	const char *close = NULL;
	const char *p;

	/* An inline comment starts at ';' preceded by whitespace. */
	for (p = line + 1; p < end; p++) {
		if (*p == ';' && (p[-1] == ' ' || p[-1] == '\t'))
			break;
		if (*p == ']')
			close = p;
	}
	for (const char *q = close ? close + 1 : end; q < p; q++) {
		if (*q != ' ' && *q != '\t' && *q != '\r') {
			close = NULL;
			break;
		}
	}
	free(l->section);
	l->section = NULL;
	if (close == NULL) {
		loader_error(l, l->lineno, "malformed section header");
		l->section = xstrdup("");
		l->section_bad = 1;
		return;
	}
	p = line + 1;
	while (p < close && (*p == ' ' || *p == '\t'))
		p++;
	while (close > p && (close[-1] == ' ' || close[-1] == '\t'))
		close--;
	l->section = xstrndup(p, (size_t)(close - p));
	l->section_line = l->lineno;
	l->section_bad = !section_known(l->section);
	l->override = -1;
	if (l->section_bad)
		loader_error(l, l->lineno, "unknown section [%s]", l->section);
	else if (strncmp(l->section, OVERRIDE_PREFIX, strlen(OVERRIDE_PREFIX)) == 0)
		begin_override(l, l->section + strlen(OVERRIDE_PREFIX));
}

/*
 * inih's reader callback: hand inih one line at a time (fgets semantics).
 * Section headers, over-long lines and lines without a separator are
 * handled here and replaced by an empty line, so inih never reports a
 * syntax error of its own.
 */
static char *
conf_reader(char *str, int num, void *stream)
{
	struct loader *l = stream;
	const char *line, *nl;
	size_t len, skip;

	if (l->pos >= l->len)
		return NULL;
	line = l->text + l->pos;
	nl = memchr(line, '\n', l->len - l->pos);
	len = nl ? (size_t)(nl - line) + 1 : l->len - l->pos;
	l->pos += len;
	l->lineno++;
	str[0] = '\0';

	/* A UTF-8 byte order mark may open the file. */
	skip = 0;
	if (l->lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
		skip = 3;
	/* Leading whitespace would make inih treat the line as a
	 * continuation of the previous value. */
	while (skip < len && (line[skip] == ' ' || line[skip] == '\t'))
		skip++;
	line += skip;
	len -= skip;

	if (memchr(line, '\0', len) != NULL) {
		loader_error(l, l->lineno, "NUL byte in line");
		return str;
	}
	/* The newline is no character of the line, and inih does not need
	 * it: the limit is on what comes before it. */
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len + 1 > (size_t)num || len > CONF_MAX_LINE) {
		loader_error(l, l->lineno, "line longer than %d characters",
		    CONF_MAX_LINE);
		return str;
	}
	memcpy(str, line, len);
	str[len] = '\0';
	memcpy(l->raw, line, len);
	l->raw[len] = '\0';
	if (line_is_blank_or_comment(str))
		return str;
	if (str[0] == '[') {
		reader_section(l, str, strcspn(str, "\n"));
		str[0] = '\0';
		return str;
	}
	if (strcspn(str, "=:") == strlen(str)) {
		loader_error(l, l->lineno, "expected KEY = VALUE");
		str[0] = '\0';
	}
	return str;
}

static struct conf *
conf_new(void)
{
	struct conf *c = xcalloc(1, sizeof(*c));
	char err[512];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		if (keys[i].deflt == NULL)
			continue;
		if (conf_value_parse(c, &keys[i], keys[i].deflt, err, sizeof(err)) != 0) {
			/* The table itself is wrong: a bug, not user error. */
			fprintf(stderr, "driftd: bad default: %s\n", err);
			abort();
		}
	}
	return c;
}

static int
read_file(const char *path, char **out, size_t *outlen)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	text = xmalloc(CONF_MAX_FILE_BYTES + 1);
	for (;;) {
		ssize_t n = read(fd, text + len, CONF_MAX_FILE_BYTES + 1 - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CONF_MAX_FILE_BYTES) {
			r = -EFBIG;
			goto out;
		}
	}
	text[len] = '\0';
	*out = text;
	*outlen = len;
	text = NULL;
out:
	free(text);
	close(fd);
	return r;
}

int
conf_load(const char *path, struct conf **out, struct buf *errors)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	r = read_file(path, &text, &len);
	if (r != 0) {
		buf_printf(errors, "%s: %s\n", path,
		    r == -EINVAL ? "not a regular file" :
		    r == -EFBIG ? "file too large" : uv_strerror(r));
		return r;
	}
	r = conf_parse(path, text, len, out, errors);
	free(text);
	return r;
}

static int
key_index(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].name, name) == 0)
			return (int)i;
	abort();
}

/* The kind of the column an override path names, or -1 if not known
 * before records arrive (a discovered column). */
static int
override_kind(const struct conf *c, const char *path)
{
	struct path p;
	const char *perr;
	size_t i;
	int kind = -1;

	if (strcmp(path, "confidence") == 0)
		return CONF_NUMERIC;
	if (strcmp(path, CONF_FEATURES_COLUMN) == 0)
		return c->multivariate ? CONF_VECTOR : -1;
	if (strcmp(path, "prediction") == 0)
		return c->class_path[0] != '\0' ? CONF_CATEGORICAL : CONF_NUMERIC;
	if (path_parse(path, strlen(path), &p, &perr) != 0)
		return -1;
	for (i = 0; i < c->nfeatures && kind < 0; i++)
		if (path_is(&p, c->features[i].path))
			kind = (int)c->features[i].kind;
	path_free(&p);
	return kind;
}

/* The [change] columns, split at commas outside double quotes, each a
 * configured numeric feature (as written in [features]) or a reserved
 * name for a field that is configured. */
static void
check_change(struct loader *l, struct conf *c)
{
	int line = l->set_at[key_index("change", "columns")];
	const char *p = c->change_columns, *start;
	size_t i;

	while (*p != '\0') {
		int quoted = 0;
		char *name;
		size_t len;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		for (start = p; *p != '\0' && (quoted || *p != ','); p++)
			if (*p == '"')
				quoted = !quoted;
		len = (size_t)(p - start);
		while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
			len--;
		name = xstrndup(start, len);
		c->change.v = xreallocarray(c->change.v, c->change.n + 1,
		    sizeof(char *));
		c->change.v[c->change.n++] = name;
	}
	for (i = 0; i < c->change.n; i++) {
		const char *n = c->change.v[i];
		size_t f;

		for (f = 0; f < i; f++)
			if (strcmp(c->change.v[f], n) == 0)
				loader_error(l, line, "[change] columns: %s is "
				    "named twice", n);

		if (strcmp(n, CONF_CHANGE_CONFIDENCE) == 0) {
			if (c->confidence_path[0] == '\0')
				loader_error(l, line, "[change] columns: confidence "
				    "needs [model] confidence");
		} else if (strcmp(n, CONF_CHANGE_VALUE) == 0) {
			if (c->value_path[0] == '\0')
				loader_error(l, line, "[change] columns: value needs "
				    "[model] value (a regression model)");
		} else if (strcmp(n, CONF_CHANGE_LATENCY) == 0) {
			if (c->latency_path[0] == '\0')
				loader_error(l, line, "[change] columns: latency "
				    "needs [model] latency");
			else if (c->change_method == CONF_CHANGE_CUSUM)
				loader_error(l, line, "[change] columns: cusum needs "
				    "a reference for the column, and latency has "
				    "none (use page_hinkley)");
		} else {
			for (f = 0; f < c->nfeatures; f++)
				if (strcmp(c->features[f].path, n) == 0)
					break;
			if (f == c->nfeatures)
				loader_error(l, line, "[change] columns: \"%s\" is "
				    "not a feature of [features] (as written "
				    "there), confidence, value or latency", n);
			else if (c->features[f].kind != CONF_NUMERIC)
				loader_error(l, line, "[change] columns: %s is "
				    "%s; change detection needs numbers", n,
				    c->features[f].kind == CONF_VECTOR ?
				    "a vector" : "categorical");
		}
	}
}

/* [labels] and [model] id / label: what a join needs. */
static void
check_labels(struct loader *l, const struct conf *c)
{
	int at_path = l->set_at[key_index("labels", "path")];
	int at_seg = l->set_at[key_index("labels", "segment")];
	int at_label = l->set_at[key_index("model", "label")];
	size_t i, j;

	if (c->labels_inputs.n > 0 && c->model_id[0] == '\0')
		loader_error(l, at_path, "[labels] path needs [model] id: the "
		    "request id that joins a label to its prediction");
	if ((c->labels_inputs.n > 0 || c->model_label[0] != '\0') &&
	    c->class_path[0] == '\0' && c->value_path[0] == '\0')
		loader_error(l, at_path ? at_path : at_label, "labels need "
		    "[model] class or value: the prediction they judge");
	for (i = 0; i < c->labels_inputs.n; i++)
		for (j = 0; j < c->inputs.n; j++)
			if (strcmp(c->labels_inputs.v[i], c->inputs.v[j]) == 0)
				loader_error(l, at_path, "[labels] path %s is "
				    "also an [input] path; labels in the "
				    "prediction log are [model] label",
				    c->labels_inputs.v[i]);
	if (c->labels_segment[0] != '\0') {
		int kind = -1;

		for (i = 0; i < c->nfeatures; i++)
			if (strcmp(c->features[i].path, c->labels_segment) == 0)
				kind = (int)c->features[i].kind;
		if (kind != CONF_CATEGORICAL)
			loader_error(l, at_seg, "[labels] segment: %s is not a "
			    "categorical column listed in [features]",
			    c->labels_segment);
	}
}

/* Rules that span several keys, checked once the whole file is read. */
static void
check_whole(struct loader *l)
{
	const struct conf *c = l->conf;
	size_t i;

	/* A regression model names its value; the class then defaults to
	 * none rather than to a field such a model does not write. */
	if (c->value_path[0] != '\0' &&
	    l->set_at[key_index("model", "class")] == 0) {
		free(l->conf->class_path);
		l->conf->class_path = xstrdup("");
	}

	for (i = 0; i < c->noverrides; i++) {
		const struct conf_override *o = &c->overrides[i];
		int kind = override_kind(c, o->path);
		unsigned allowed = kind == CONF_NUMERIC ? CONF_NUMERIC_TESTS :
		    kind == CONF_CATEGORICAL ? CONF_CATEGORICAL_TESTS :
		    kind == CONF_VECTOR ? CONF_VECTOR_TESTS :
		    CONF_NUMERIC_TESTS | CONF_CATEGORICAL_TESTS;
		const char *what = kind == CONF_NUMERIC ? "numeric" :
		    kind == CONF_VECTOR ? "vector" : "categorical";

		if (kind < 0 && c->discover[0] == '\0') {
			loader_error(l, o->line, "[feature %s]: no such feature "
			    "(a path listed in [features], prediction or "
			    "confidence)", o->path);
			continue;
		}
		if (kind >= 0 && (o->d.tests & ~allowed) != 0)
			loader_error(l, o->line, "[feature %s]: tests for a %s "
			    "column are among ks psi js wasserstein kl / chi2 psi "
			    "js kl / mmd", o->path, what);
		if (kind >= 0 && o->d.decide >= 0 &&
		    !(allowed & (1u << o->d.decide)))
			loader_error(l, o->line, "[feature %s]: %s cannot decide "
			    "for a %s column", o->path, conf_test_name(o->d.decide),
			    what);
	}
	if (c->min_samples > c->window_size)
		loader_error(l, l->set_at[key_index("window", "min_samples")] ?
		    l->set_at[key_index("window", "min_samples")] :
		    l->set_at[key_index("window", "size")],
		    "min_samples (%llu) is larger than the window size (%llu): "
		    "no test would ever run", (unsigned long long)c->min_samples,
		    (unsigned long long)c->window_size);
	if (c->reference_file[0] != '\0' && c->capture > 0)
		loader_error(l, l->set_at[key_index("reference", "capture")],
		    "set either file or capture in [reference], not both");
	check_change(l, l->conf);
	check_labels(l, l->conf);
	if (c->multivariate) {
		size_t num = 0;

		for (i = 0; i < c->nfeatures; i++)
			num += c->features[i].kind == CONF_NUMERIC;
		if (num < 2)
			loader_error(l, l->set_at[key_index("drift",
			    "multivariate")], "multivariate = mmd needs at "
			    "least two numeric columns listed in [features]");
	}
	int mf = l->set_at[key_index("input", "match_field")];
	int mv = l->set_at[key_index("input", "match_value")];

	if ((c->match_field[0] != '\0') != (c->match_value[0] != '\0'))
		loader_error(l, mf ? mf : mv, "match_field and match_value "
		    "must be set together");
	if (c->nfeatures > c->max_features)
		loader_error(l, l->set_at[key_index("features", "max_features")] ?
		    l->set_at[key_index("features", "max_features")] :
		    c->features[c->max_features].line,
		    "%zu features listed but max_features is %llu",
		    c->nfeatures, (unsigned long long)c->max_features);
}

int
conf_parse(const char *path, const char *text, size_t len, struct conf **out,
    struct buf *errors)
{
	struct loader l;
	int r;

	*out = NULL;
	memset(&l, 0, sizeof(l));
	l.override = -1;
	l.conf = conf_new();
	l.conf->file = xstrdup(path);
	l.file = path;
	l.errors = errors;
	l.text = text;
	l.len = len;

	r = ini_parse_stream(conf_reader, &l, handler, &l);
	if (r > 0 && l.nerrors == 0)
		loader_error(&l, r, "syntax error");
	else if (r < 0 && l.nerrors == 0)
		loader_error(&l, 0, "cannot parse (error %d)", r);
	if (l.nerrors == 0)
		check_whole(&l);

	free(l.section);
	free(l.override_set_at);
	if (l.nerrors > 0) {
		conf_free(l.conf);
		return -EINVAL;
	}
	*out = l.conf;
	return 0;
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		conf_value_free(&keys[i], c);
	for (i = 0; i < c->noverrides; i++)
		free(c->overrides[i].path);
	free(c->overrides);
	for (i = 0; i < c->nfeatures; i++)
		free(c->features[i].path);
	free(c->features);
	for (i = 0; i < c->change.n; i++)
		free(c->change.v[i]);
	free(c->change.v);
	free(c->file);
	free(c);
}
void
conf_dump(const struct conf *c, FILE *fp)
{
	const char *section = NULL;
	size_t i, j;

	fprintf(fp, "; resolved configuration from %s\n", c->file);
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct key *k = &keys[i];

		if (section == NULL || strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(fp, "%s[%s]\n", i ? "\n" : "", section);
		}
		conf_value_dump(fp, k, c);
		/* The monitored columns close their section. */
		if (strcmp(k->section, "features") == 0 &&
		    (i + 1 == ARRAY_SIZE(keys) ||
		    strcmp(keys[i + 1].section, "features") != 0)) {
			for (j = 0; j < c->nfeatures; j++)
				fprintf(fp, "%s = %s\n", c->features[j].path,
				    c->features[j].kind == CONF_NUMERIC ?
				    "numeric" : c->features[j].kind ==
				    CONF_VECTOR ? "vector" : "categorical");
		}
	}
	for (i = 0; i < c->noverrides; i++) {
		fprintf(fp, "\n[feature %s]\n", c->overrides[i].path);
		for (j = 0; j < NOVERRIDE_KEYS; j++)
			conf_value_dump(fp, &override_keys[j], &c->overrides[i].d);
	}
}

void
conf_column_drift(const struct conf *c, const char *path,
    enum conf_column_kind kind, struct conf_drift *out)
{
	struct path p;
	const char *perr;
	size_t i;

	*out = c->drift;
	out->tests = kind == CONF_CATEGORICAL ? c->categorical_tests :
	    kind == CONF_VECTOR ? CONF_VECTOR_TESTS : c->numeric_tests;
	out->decide = kind == CONF_CATEGORICAL ? c->decide_categorical :
	    kind == CONF_VECTOR ? CONF_TEST_MMD : c->decide_numeric;
	if (c->noverrides == 0 || path_parse(path, strlen(path), &p, &perr) != 0)
		return;
	for (i = 0; i < c->noverrides; i++) {
		const struct conf_drift *o = &c->overrides[i].d;

		if (!path_is(&p, c->overrides[i].path))
			continue;
		if (o->tests != 0)
			out->tests = o->tests;
		if (o->decide != UNSET_DECIDE)
			out->decide = o->decide;
		if (!isnan(o->p_value))
			out->p_value = o->p_value;
		if (!isnan(o->psi_threshold))
			out->psi_threshold = o->psi_threshold;
		if (!isnan(o->js_threshold))
			out->js_threshold = o->js_threshold;
		if (!isnan(o->wasserstein_threshold))
			out->wasserstein_threshold = o->wasserstein_threshold;
		if (!isnan(o->kl_threshold))
			out->kl_threshold = o->kl_threshold;
		if (o->bins != 0)
			out->bins = o->bins;
		break;
	}
	path_free(&p);
}
