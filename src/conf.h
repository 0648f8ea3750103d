/*
 * conf.h - the configuration file.
 *
 * driftd reads one INI file (inih does the lexing).  Every key lives in the
 * declarative table in conf.c: section, name, type, range, default and the
 * field of struct conf it fills.  Unknown sections and keys, duplicate keys
 * and values that do not parse are errors, each reported as "FILE:LINE:
 * message"; a file with any error is rejected as a whole, so a running
 * daemon keeps its old configuration when a reload fails.
 *
 * Ownership: conf_load() returns a struct conf that the caller releases with
 * conf_free().  Strings inside it live as long as the struct.
 */
#ifndef DRIFTD_CONF_H
#define DRIFTD_CONF_H

#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "log.h"

/* Where make install puts the example configuration: /etc/driftd with
 * ./configure --sysconfdir=/etc, as packages are built. */
#ifdef SYSCONFDIR
#define CONF_DEFAULT_PATH   SYSCONFDIR "/driftd/driftd.conf"
#else
#define CONF_DEFAULT_PATH   "/etc/driftd/driftd.conf"
#endif
#define CONF_DEFAULT_LISTEN "127.0.0.1:9847"
/* A configuration file is small; anything larger is a mistake. */
#define CONF_MAX_FILE_BYTES (1024 * 1024)
/* inih's line buffer as Debian builds it (INI_MAX_LINE). */
#define CONF_MAX_LINE       199
#define CONF_MAX_BUCKETS    64      /* bounds of one histogram */
#define CONF_MAX_INPUTS     64      /* [input] path entries */
#define CONF_MAX_FEATURES   10000   /* [features] lines */
#define CONF_MAX_REPORT_HISTORY 4096    /* [report] history */

/* A list of doubles (histogram buckets, in increasing order). */
struct conf_doubles {
	double *v;
	size_t n;
};

/* A repeatable string key. */
struct conf_strings {
	char **v;
	size_t n;
};

enum conf_column_kind {
	CONF_NUMERIC,
	CONF_CATEGORICAL,
	CONF_VECTOR,           /* an array of numbers: an embedding */
};

/* A monitored input column from [features]. */
struct conf_feature {
	char *path;            /* as written; parses with path_parse() */
	enum conf_column_kind kind;
	int line;
};

/* [change] method and direction. */
enum { CONF_CHANGE_PAGE_HINKLEY, CONF_CHANGE_CUSUM };
enum { CONF_CHANGE_BOTH, CONF_CHANGE_UP, CONF_CHANGE_DOWN };
#define CONF_CHANGE_CONFIDENCE "confidence"
#define CONF_CHANGE_VALUE "value"
#define CONF_CHANGE_LATENCY "latency"
/* [labels] max_pending at most */
#define CONF_LABELS_MAX_PENDING 1000000

/* The drift tests; a set of them is a bit mask of (1 << test). */
enum conf_test {
	CONF_TEST_KS,
	CONF_TEST_PSI,
	CONF_TEST_JS,
	CONF_TEST_WASSERSTEIN,
	CONF_TEST_CHI2,
	CONF_TEST_KL,
	CONF_TEST_MMD,
	CONF_TEST_COUNT
};
#define CONF_NUMERIC_TESTS ((1u << CONF_TEST_KS) | (1u << CONF_TEST_PSI) | \
	(1u << CONF_TEST_JS) | (1u << CONF_TEST_WASSERSTEIN) | \
	(1u << CONF_TEST_KL))
#define CONF_CATEGORICAL_TESTS ((1u << CONF_TEST_CHI2) | \
	(1u << CONF_TEST_PSI) | (1u << CONF_TEST_JS) | (1u << CONF_TEST_KL))
#define CONF_VECTOR_TESTS (1u << CONF_TEST_MMD)
#define CONF_ALL_TESTS (CONF_NUMERIC_TESTS | CONF_CATEGORICAL_TESTS | \
	CONF_VECTOR_TESTS)
/* The joint vector of the numeric features ([drift] multivariate). */
#define CONF_FEATURES_COLUMN "__features__"
#define CONF_MAX_VECTOR_DIM 8192
/* decide = auto */
#define CONF_DECIDE_AUTO (-1)
/* The auto rule switches from ks / chi2 to wasserstein / js above this
 * many reference values (as Evidently does). */
#define CONF_AUTO_SMALL_REFERENCE 1000

enum conf_correction {
	CONF_CORRECTION_NONE,
	CONF_CORRECTION_BONFERRONI,
	CONF_CORRECTION_FDR,
};

/* Per-column drift settings: [drift] defaults, or a [feature PATH]. */
struct conf_drift {
	unsigned tests;          /* mask; 0 in an override: not set */
	int decide;              /* a conf_test, CONF_DECIDE_AUTO, or -2: not set */
	double p_value;          /* NaN in an override: not set */
	double psi_threshold;
	double js_threshold;
	double wasserstein_threshold;
	double kl_threshold;
	uint64_t bins;           /* 0 in an override: not set */
};

/* A [feature PATH] section. */
struct conf_override {
	char *path;
	int line;
	struct conf_drift d;
};

/* Names of the tests, as in the configuration and the test label. */
const char *conf_test_name(enum conf_test t);

enum conf_start_at { CONF_START_END, CONF_START_BEGINNING };
enum conf_latency_unit { CONF_UNIT_S, CONF_UNIT_MS, CONF_UNIT_US };

struct conf {
	char *file;            /* path the configuration was read from */

	/* [global] */
	char *listen;          /* "host:port", ":port" or "[v6]:port" */
	char *state_dir;       /* "" when no state is kept */
	enum log_level log_level;
	uint64_t checkpoint_interval_ms;
	int enable_lifecycle;  /* POST /-/evaluate and /-/reload answer */

	/* [input] */
	struct conf_strings inputs;   /* files or globs */
	enum conf_start_at start_at;
	uint64_t rotate_wait_ms;
	uint64_t max_line_bytes;
	uint64_t poll_interval_ms;
	char *match_field;     /* "" for none */
	char *match_value;

	/* [model]; paths are "" when not configured */
	char *model_name;
	char *class_path;
	char *value_path;
	struct conf_doubles value_buckets;
	char *confidence_path; /* PATH or max(PATH) */
	char *latency_path;
	enum conf_latency_unit latency_unit;
	char *timestamp_path;
	struct conf_doubles confidence_buckets;
	struct conf_doubles latency_buckets;
	uint64_t max_classes;
	char *model_id;        /* the request id, joining labels */
	char *model_label;     /* the truth, when the prediction log has it */

	/* [labels] */
	struct conf_strings labels_inputs;   /* files or globs */
	char *labels_id;
	char *labels_label;
	char *labels_timestamp;
	uint64_t labels_max_delay_ms;
	uint64_t labels_max_pending;
	char *labels_segment;  /* a categorical [features] path, or "" */

	/* [features] */
	struct conf_feature *features;
	size_t nfeatures;
	char *discover;        /* path of an object, or "" */
	uint64_t max_features;
	uint64_t max_categories;
	uint64_t max_vector_dim;

	/* [reference] */
	char *reference_file;  /* "" for none */
	uint64_t capture;      /* 0: no capture */

	/* [window] */
	uint64_t window_size;
	uint64_t window_duration_ms;   /* 0: no age bound */
	uint64_t min_samples;
	uint64_t evaluate_every_ms;

	/* [drift] */
	unsigned numeric_tests;
	unsigned categorical_tests;
	int decide_numeric;
	int decide_categorical;
	struct conf_drift drift;       /* thresholds and bins; tests unused */
	enum conf_correction correction;
	double dataset_share;
	int export_bins;               /* per-bin series for fleets */
	int multivariate;              /* 1: mmd over the numeric features */
	uint64_t mmd_samples;
	uint64_t mmd_permutations;

	/* [change] */
	char *change_columns;          /* as written: comma-separated */
	struct conf_strings change;    /* the names, split */
	int change_method;             /* CONF_CHANGE_PAGE_HINKLEY or _CUSUM */
	int change_direction;          /* CONF_CHANGE_BOTH, _UP or _DOWN */
	uint64_t change_min_instances;
	double change_delta, change_threshold, change_alpha;
	double change_k, change_h;

	/* [report] */
	uint64_t report_history;       /* evaluations a sparkline shows */
	uint64_t report_keep;          /* saved reports kept; 0: none saved */

	/* [feature PATH] sections */
	struct conf_override *overrides;
	size_t noverrides;
};

/*
 * The settings in force for a column: [drift] defaults with the
 * column's [feature PATH] section, if any, on top.  `kind` picks the
 * default test set and decision.
 */
void conf_column_drift(const struct conf *c, const char *path,
    enum conf_column_kind kind, struct conf_drift *out);

/*
 * Read and validate `path`.  On success returns 0 and stores a new struct in
 * *out.  On failure returns -EINVAL (the file has errors) or another negative
 * errno (it could not be read), and appends one "FILE:LINE: message" line per
 * problem to `errors`.
 */
int conf_load(const char *path, struct conf **out, struct buf *errors);

/* As conf_load(), from `len` bytes of `text`; `path` names it in errors. */
int conf_parse(const char *path, const char *text, size_t len,
    struct conf **out, struct buf *errors);


void conf_free(struct conf *c);

/* Write the resolved configuration as an INI file (--check-config). */
void conf_dump(const struct conf *c, FILE *fp);

/*
 * Split a listen address into host and port.  Accepts "host:port",
 * ":port" (all interfaces, host set to "") and "[v6addr]:port".  The host
 * must be an IP literal or "localhost"; port 0 asks the kernel for a free
 * port.  Returns 0 or -EINVAL.
 */
int conf_parse_listen(const char *s, char *host, size_t hostsize, int *port);

/* Parse a duration such as "250ms", "10s", "15m", "1h" or "7d" (a bare
 * "0" is accepted) into milliseconds.  Returns 0 or -EINVAL. */
int conf_parse_duration(const char *s, uint64_t *ms);

#endif
