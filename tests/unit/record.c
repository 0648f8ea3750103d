/*
 * Unit tests for record.c: a configuration compiled into a record parser,
 * and each value of a log line checked and converted as driftd.conf(5)
 * and the product contract say.
 */
#include "config.h"

#include "unit.h"

#include <errno.h>
#include <stdlib.h>

#include "conf.h"
#include "record.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The parser of a configuration, and the line last parsed with it. */
struct rp {
	struct conf *conf;
	struct record_parser *p;
	struct record r;
	char *line;             /* exact copy: labels may point into it */
	size_t len;
};

static void
rp_open(struct rp *rp, const char *ini)
{
	struct buf errors = BUF_INIT;

	memset(rp, 0, sizeof(*rp));
	if (conf_parse("test.conf", ini, strlen(ini), &rp->conf, &errors) != 0)
		fail_msg("configuration rejected:\n%s", errors.data);
	buf_free(&errors);
	rp->p = record_parser_create(rp->conf);
	assert_non_null(rp->p);
}

static void
rp_close(struct rp *rp)
{
	record_parser_destroy(rp->p);
	conf_free(rp->conf);
	free(rp->line);
	memset(rp, 0, sizeof(*rp));
}

static enum record_result
rp_parse_len(struct rp *rp, const char *line, size_t len)
{
	free(rp->line);
	rp->line = malloc(len ? len : 1);
	assert_non_null(rp->line);
	memcpy(rp->line, line, len);
	rp->len = len;
	memset(&rp->r, 0xA5, sizeof(rp->r));
	return record_parse(rp->p, rp->line, len, &rp->r);
}

/* Parse a line that must give a record. */
static void
rp_parse(struct rp *rp, const char *line)
{
	enum record_result res = rp_parse_len(rp, line, strlen(line));

	if (res != RECORD_OK)
		fail_msg("%s: result %d, want RECORD_OK", line, (int)res);
}

static void
expect_label_len(const struct rp *rp, const struct record_value *v,
    const char *what, const char *want, size_t wantlen)
{
	if (!v->present)
		fail_msg("%s missing, want \"%s\", in %s", what,
		    unit_show(want, wantlen), unit_show(rp->line, rp->len));
	if (v->len != wantlen || memcmp(v->str, want, wantlen) != 0)
		fail_msg("%s is \"%s\", want \"%s\", in %s", what,
		    unit_show(v->str, v->len), unit_show(want, wantlen),
		    unit_show(rp->line, rp->len));
}

#define expect_label(rp, v, want) \
	expect_label_len((rp), (v), #v, (want), strlen(want))

static void
expect_missing(const struct rp *rp, const struct record_value *v,
    const char *what)
{
	if (v->present)
		fail_msg("%s: %s present (\"%s\", %.17g), want missing",
		    unit_show(rp->line, rp->len), what,
		    v->str ? unit_show(v->str, v->len) : "", v->num);
}

static void
expect_num(const struct rp *rp, const struct record_value *v, const char *what,
    double want)
{
	if (!v->present)
		fail_msg("%s: %s missing, want %.17g", unit_show(rp->line, rp->len),
		    what, want);
	assert_double_near(v->num, want, 1e-15);
}

/* ------------------------------------------------------------ fixtures */

static const char iris_conf[] =
    "[model]\n"
    "name = iris-rf\n"
    "class = prediction\n"
    "confidence = confidence\n"
    "latency = latency_ms\n"
    "latency_unit = ms\n"
    "timestamp = ts\n"
    "[features]\n"
    "features.\"sepal length (cm)\" = numeric\n"
    "features.\"country\" = categorical\n"
    "probabilities[1] = numeric\n";

static void
test_spec_example(void **state)
{
	struct rp rp;

	(void)state;
	rp_open(&rp, iris_conf);
	assert_int_equal(record_parser_nfeatures(rp.p), 3);
	/* Features are named by their canonical path, in file order. */
	assert_string_equal(record_parser_feature_name(rp.p, 0),
	    "features.\"sepal length (cm)\"");
	assert_string_equal(record_parser_feature_name(rp.p, 1), "features.country");
	assert_string_equal(record_parser_feature_name(rp.p, 2), "probabilities[1]");
	assert_int_equal(record_parser_feature_kind(rp.p, 0), CONF_NUMERIC);
	assert_int_equal(record_parser_feature_kind(rp.p, 1), CONF_CATEGORICAL);
	assert_int_equal(record_parser_feature_kind(rp.p, 2), CONF_NUMERIC);

	rp_parse(&rp, "{\"ts\":\"2026-11-22T10:00:00.123Z\",\"request_id\":\"7f3a\","
	    "\"model\":\"iris-rf\",\"features\":{\"sepal length (cm)\":5.1,"
	    "\"sepal width (cm)\":3.5,\"petal length (cm)\":1.4,"
	    "\"petal width (cm)\":0.2,\"country\":\"DE\"},\"prediction\":\"setosa\","
	    "\"confidence\":0.97,\"probabilities\":[0.97,0.02,0.01],"
	    "\"latency_ms\":3.2}");
	expect_label(&rp, &rp.r.cls, "setosa");
	expect_num(&rp, &rp.r.confidence, "confidence", 0.97);
	expect_num(&rp, &rp.r.latency, "latency", 0.0032);
	expect_num(&rp, &rp.r.timestamp, "timestamp", 1795341600.123);
	expect_missing(&rp, &rp.r.value, "value");
	expect_num(&rp, &rp.r.features[0], "sepal length", 5.1);
	expect_label(&rp, &rp.r.features[1], "DE");
	expect_num(&rp, &rp.r.features[2], "probabilities[1]", 0.02);
	assert_int_equal(rp.r.missing[RECORD_PREDICTION], 0);
	assert_int_equal(rp.r.missing[RECORD_CONFIDENCE], 0);
	assert_int_equal(rp.r.missing[RECORD_LATENCY], 0);
	assert_int_equal(rp.r.missing[RECORD_TIMESTAMP], 0);
	rp_close(&rp);
}

/* The regression shape of the contract's second example line. */
static void
test_regression_example(void **state)
{
	struct rp rp;

	(void)state;
	rp_open(&rp, "[model]\nclass =\nvalue = prediction\nconfidence =\n"
	    "timestamp = pickup_ts\n"
	    "[features]\npassenger_count = numeric\ntrip_distance = numeric\n"
	    "PULocationID = categorical\n");
	assert_true(record_parser_has_field(rp.p, RECORD_PREDICTION));
	assert_false(record_parser_has_field(rp.p, RECORD_CONFIDENCE));
	assert_false(record_parser_has_field(rp.p, RECORD_LATENCY));
	assert_true(record_parser_has_field(rp.p, RECORD_TIMESTAMP));
	rp_parse(&rp, "{\"pickup_ts\":1645142400,\"passenger_count\":1,"
	    "\"trip_distance\":2.4,\"fare_amount\":11.5,\"PULocationID\":74,"
	    "\"prediction\":12.7}");
	expect_num(&rp, &rp.r.value, "value", 12.7);
	expect_missing(&rp, &rp.r.cls, "cls");
	expect_missing(&rp, &rp.r.confidence, "confidence");
	expect_num(&rp, &rp.r.timestamp, "timestamp", 1645142400);
	expect_num(&rp, &rp.r.features[0], "passenger_count", 1);
	expect_num(&rp, &rp.r.features[1], "trip_distance", 2.4);
	/* Integer categories are labelled with their decimal text. */
	expect_label(&rp, &rp.r.features[2], "74");
	assert_int_equal(rp.r.missing[RECORD_PREDICTION], 0);
	assert_int_equal(rp.r.missing[RECORD_CONFIDENCE], 0);
	assert_int_equal(rp.r.missing[RECORD_TIMESTAMP], 0);

	/* A prediction that is not a finite number is missing. */
	rp_parse(&rp, "{\"prediction\":\"12.7\"}");
	expect_missing(&rp, &rp.r.value, "value");
	assert_int_equal(rp.r.missing[RECORD_PREDICTION], 1);
	rp_parse(&rp, "{\"prediction\":NaN}");
	expect_missing(&rp, &rp.r.value, "value");
	rp_parse(&rp, "{\"prediction\":-Infinity}");
	expect_missing(&rp, &rp.r.value, "value");
	rp_parse(&rp, "{\"prediction\":1e999}");
	expect_missing(&rp, &rp.r.value, "value");
	rp_parse(&rp, "{\"prediction\":-1e-5}");
	expect_num(&rp, &rp.r.value, "value", -1e-5);
	rp_close(&rp);
}

/* ------------------------------------------------------------- labels */

struct label_case {
	const char *json;       /* the value as written in the log */
	const char *label;      /* NULL: missing */
	size_t labellen;        /* 0: strlen(label) */
};

static const struct label_case label_cases[] = {
	{ "\"setosa\"", "setosa", 0 },
	{ "\" spaced out \"", " spaced out ", 0 },
	{ "3", "3", 0 },
	{ "-3", "-3", 0 },
	{ "0", "0", 0 },
	{ "42", "42", 0 },
	/* An integer spelled otherwise is labelled as the integer. */
	{ "3.0", "3", 0 },
	{ "-2.0", "-2", 0 },
	{ "0.0", "0", 0 },
	{ "-0.0", "0", 0 },
	{ "-0", "0", 0 },
	{ "10", "10", 0 },
	{ "-10", "-10", 0 },
	{ "0e5", "0", 0 },
	{ "-0e-5", "0", 0 },
	{ "0.000e0", "0", 0 },
	{ "1e2", "100", 0 },
	{ "1E2", "100", 0 },
	{ "1e+2", "100", 0 },
	{ "2.5e1", "25", 0 },
	{ "100e-2", "1", 0 },
	{ "9007199254740991.0", "9007199254740991", 0 },
	/* Integers too big for a double keep their exact text. */
	{ "12345678901234567890123", "12345678901234567890123", 0 },
	{ "-98765432109876543210", "-98765432109876543210", 0 },
	{ "true", "true", 0 },
	{ "false", "false", 0 },
	/* Escapes are decoded. */
	{ "\"caf\\u00e9\"", "caf\xc3\xa9", 0 },
	{ "\"caf\xc3\xa9\"", "caf\xc3\xa9", 0 },
	{ "\"a\\\"b\\\\c\\/d\"", "a\"b\\c/d", 0 },
	{ "\"line\\nbreak\"", "line\nbreak", 0 },
	{ "\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 0 },
	{ "\"\\u0073etosa\"", "setosa", 0 },
	/* Not a label. */
	{ "1.5", NULL, 0 },
	{ "-0.25", NULL, 0 },
	{ "1e-1", NULL, 0 },
	{ "1e-400", NULL, 0 },
	{ "-2.5e-400", NULL, 0 },
	{ "\"\"", NULL, 0 },
	{ "null", NULL, 0 },
	{ "[\"setosa\"]", NULL, 0 },
	{ "{\"a\":1}", NULL, 0 },
	{ "NaN", NULL, 0 },
	{ "Infinity", NULL, 0 },
	{ "-Infinity", NULL, 0 },
	/* Text that is not UTF-8, or holds a NUL. */
	{ "\"\xff\"", NULL, 0 },
	{ "\"a\xc3\"", NULL, 0 },
	{ "\"\xed\xa0\x80\"", NULL, 0 },
	{ "\"\\ud800\"", NULL, 0 },
	{ "\"\\udc00x\"", NULL, 0 },
	{ "\"a\\u0000b\"", NULL, 0 },
};

/* Parse {"prediction": V, "features": {"country": V}} for each case: the
 * class and a categorical feature follow the same rules. */
static void
test_labels(void **state)
{
	struct rp rp;
	struct buf line = BUF_INIT;
	size_t i;

	(void)state;
	rp_open(&rp, iris_conf);
	for (i = 0; i < NELEM(label_cases); i++) {
		const struct label_case *c = &label_cases[i];

		buf_reset(&line);
		buf_printf(&line, "{\"prediction\":%s,\"features\":{\"country\":%s}}",
		    c->json, c->json);
		rp_parse(&rp, line.data);
		if (c->label == NULL) {
			expect_missing(&rp, &rp.r.cls, "class");
			assert_int_equal(rp.r.missing[RECORD_PREDICTION], 1);
			if (strcmp(c->json, "\"\"") != 0)
				expect_missing(&rp, &rp.r.features[1], "country");
		} else {
			size_t n = c->labellen ? c->labellen : strlen(c->label);

			expect_label_len(&rp, &rp.r.cls, "class", c->label, n);
			expect_label_len(&rp, &rp.r.features[1], "country",
			    c->label, n);
			assert_int_equal(rp.r.missing[RECORD_PREDICTION], 0);
		}
	}
	buf_free(&line);
	rp_close(&rp);
}

/* Labels up to RECORD_MAX_LABEL_BYTES are kept; longer ones are missing,
 * however the bytes are written. */
static void
test_label_length(void **state)
{
	struct rp rp;
	struct buf line = BUF_INIT, want = BUF_INIT;
	size_t n;
	int form;

	(void)state;
	rp_open(&rp, iris_conf);
	for (form = 0; form < 4; form++) {
		for (n = RECORD_MAX_LABEL_BYTES - 2; n <= RECORD_MAX_LABEL_BYTES + 2;
		    n++) {
			size_t i;

			buf_reset(&line);
			buf_reset(&want);
			buf_puts(&line, "{\"prediction\":");
			if (form != 3)
				buf_putc(&line, '"');
			for (i = 0; i < n; i++) {
				switch (form) {
				case 0:         /* plain ASCII */
					buf_putc(&line, 'a');
					buf_putc(&want, 'a');
					break;
				case 1:         /* 6 bytes of escape per byte */
					buf_puts(&line, "\\u0041");
					buf_putc(&want, 'A');
					break;
				case 2:         /* raw UTF-8, odd bytes as ASCII */
					if (i + 1 < n && i % 3 == 0) {
						buf_puts(&line, "\xc3\xa9");
						buf_puts(&want, "\xc3\xa9");
						i++;
					} else {
						buf_putc(&line, 'e');
						buf_putc(&want, 'e');
					}
					break;
				default:        /* a digit-only integer */
					buf_putc(&line, '7');
					buf_putc(&want, '7');
					break;
				}
			}
			if (form != 3)
				buf_putc(&line, '"');
			buf_putc(&line, '}');
			rp_parse(&rp, line.data);
			if (n <= RECORD_MAX_LABEL_BYTES)
				expect_label_len(&rp, &rp.r.cls, "class", want.data,
				    want.len);
			else
				expect_missing(&rp, &rp.r.cls, "class");
		}
	}
	buf_free(&line);
	buf_free(&want);
	rp_close(&rp);
}

/* Decoded labels of one record stay valid together, until the next line. */
static void
test_labels_of_one_record(void **state)
{
	struct rp rp;
	struct buf line = BUF_INIT;
	char want[64];
	int i;

	(void)state;
	rp_open(&rp, "[model]\nclass = c\n"
	    "[features]\nf0 = categorical\nf1 = categorical\nf2 = categorical\n"
	    "f3 = categorical\nf4 = categorical\nf5 = categorical\n"
	    "f6 = categorical\nf7 = categorical\n");
	buf_puts(&line, "{\"c\":\"cl\\u00e4ss\"");
	for (i = 0; i < 8; i++) {
		if (i % 2)
			buf_printf(&line, ",\"f%d\":%de0", i, i * 1000003);
		else
			buf_printf(&line, ",\"f%d\":\"v\\u00e9%d\"", i, i);
	}
	buf_putc(&line, '}');
	rp_parse(&rp, line.data);
	expect_label(&rp, &rp.r.cls, "cl\xc3\xa4ss");
	for (i = 0; i < 8; i++) {
		if (i % 2)
			snprintf(want, sizeof(want), "%d", i * 1000003);
		else
			snprintf(want, sizeof(want), "v\xc3\xa9%d", i);
		expect_label(&rp, &rp.r.features[i], want);
	}
	buf_free(&line);
	rp_close(&rp);
}

/* ---------------------------------------------------------- confidence */

struct num_case {
	const char *json;
	int present;
	double num;
};

static void
check_numbers(const char *ini, const char *key, const struct num_case *cases,
    size_t n, size_t field_offset, enum record_field f)
{
	struct rp rp;
	struct buf line = BUF_INIT;
	size_t i;

	rp_open(&rp, ini);
	for (i = 0; i < n; i++) {
		const struct record_value *v;

		buf_reset(&line);
		buf_printf(&line, "{\"%s\":%s,\"other\":1}", key, cases[i].json);
		rp_parse(&rp, line.data);
		v = (const struct record_value *)(const void *)
		    ((const char *)&rp.r + field_offset);
		if (cases[i].present) {
			expect_num(&rp, v, record_field_name(f), cases[i].num);
			assert_int_equal(rp.r.missing[f], 0);
		} else {
			expect_missing(&rp, v, record_field_name(f));
			assert_int_equal(rp.r.missing[f], 1);
		}
	}
	/* Absent. */
	rp_parse(&rp, "{\"other\":1}");
	assert_int_equal(rp.r.missing[f], 1);
	buf_free(&line);
	rp_close(&rp);
}

static void
test_confidence(void **state)
{
	static const struct num_case plain[] = {
		{ "0", 1, 0 }, { "1", 1, 1 }, { "0.97", 1, 0.97 }, { "1e-3", 1, 1e-3 },
		{ "1.0", 1, 1 }, { "-0", 1, 0 }, { "-0.0", 1, 0 },
		{ "-0.01", 0, 0 }, { "1.01", 0, 0 }, { "1.0000001", 0, 0 },
		{ "2", 0, 0 }, { "-1e-300", 0, 0 }, { "\"0.5\"", 0, 0 },
		{ "true", 0, 0 }, { "null", 0, 0 }, { "NaN", 0, 0 },
		{ "Infinity", 0, 0 }, { "-Infinity", 0, 0 }, { "[0.5]", 0, 0 },
		{ "{}", 0, 0 },
	};
	static const struct num_case max[] = {
		{ "[0.1,0.7,0.2]", 1, 0.7 }, { "[0.97,0.02,0.01]", 1, 0.97 },
		{ "[0.3]", 1, 0.3 }, { "[0,0]", 1, 0 }, { "[ 1 , 0 ]", 1, 1 },
		{ "[0.2,0.2]", 1, 0.2 },
		{ "[]", 0, 0 }, { "[0.5,\"x\"]", 0, 0 }, { "[0.5,1.5]", 0, 0 },
		{ "[0.5,-0.1]", 0, 0 }, { "[0.5,NaN]", 0, 0 }, { "[0.5,null]", 0, 0 },
		{ "[0.5,[0.9]]", 0, 0 }, { "[0.5,Infinity]", 0, 0 },
		{ "0.5", 0, 0 }, { "\"[0.5]\"", 0, 0 }, { "{\"a\":0.5}", 0, 0 },
	};

	(void)state;
	check_numbers("[model]\nconfidence = p\n", "p", plain, NELEM(plain),
	    offsetof(struct record, confidence), RECORD_CONFIDENCE);
	check_numbers("[model]\nconfidence = max(p)\n", "p", max, NELEM(max),
	    offsetof(struct record, confidence), RECORD_CONFIDENCE);
}

static void
test_latency(void **state)
{
	static const struct num_case s[] = {
		{ "0.25", 1, 0.25 }, { "0", 1, 0 }, { "3", 1, 3 },
		{ "-0.001", 0, 0 }, { "\"3\"", 0, 0 }, { "NaN", 0, 0 },
		{ "Infinity", 0, 0 }, { "null", 0, 0 },
	};
	static const struct num_case ms[] = {
		{ "3.2", 1, 0.0032 }, { "1500", 1, 1.5 }, { "0", 1, 0 },
		{ "-1", 0, 0 }, { "1e999", 0, 0 },
	};
	static const struct num_case us[] = {
		{ "1500", 1, 0.0015 }, { "2", 1, 2e-6 }, { "1e6", 1, 1 },
		{ "-2", 0, 0 },
	};

	(void)state;
	check_numbers("[model]\nlatency = lat\nlatency_unit = s\n", "lat", s,
	    NELEM(s), offsetof(struct record, latency), RECORD_LATENCY);
	check_numbers("[model]\nlatency = lat\nlatency_unit = ms\n", "lat", ms,
	    NELEM(ms), offsetof(struct record, latency), RECORD_LATENCY);
	/* ms is the default unit. */
	check_numbers("[model]\nlatency = lat\n", "lat", ms,
	    NELEM(ms), offsetof(struct record, latency), RECORD_LATENCY);
	check_numbers("[model]\nlatency = lat\nlatency_unit = us\n", "lat", us,
	    NELEM(us), offsetof(struct record, latency), RECORD_LATENCY);
}

/* ---------------------------------------------------------- timestamps */

/* Expected values computed independently with Python's datetime. */
static const struct {
	const char *text;
	double epoch;
} rfc3339_ok[] = {
	{ "2026-11-22T10:00:00.123Z", 1795341600.123 },
	{ "2026-11-22T10:00:00Z", 1795341600 },
	{ "2026-11-22T10:00:00z", 1795341600 },
	{ "2026-11-22t10:00:00Z", 1795341600 },
	{ "2026-11-22 10:00:00Z", 1795341600 },
	{ "2026-11-22T10:00:00+00:00", 1795341600 },
	{ "2026-11-22T10:00:00-00:00", 1795341600 },
	{ "2026-11-22T10:00:00.5Z", 1795341600.5 },
	{ "2026-11-22T10:00:00.000001Z", 1795341600.000001 },
	{ "2026-11-22T10:00:00.999999999Z", 1795341600.999999999 },
	{ "2026-11-22 10:00:00+01:00", 1795338000 },
	{ "2026-11-22t10:00:00-05:30", 1795361400 },
	{ "2026-11-22T10:00:00.25+01:00", 1795338000.25 },
	{ "2026-11-22T23:59:59+23:59", 1795305659 },
	{ "2026-11-22T00:00:00-23:59", 1795391940 },
	{ "1970-01-01T00:00:00Z", 0 },
	{ "1969-12-31T23:59:59Z", -1 },
	{ "2024-02-29T12:00:00Z", 1709208000 },
	{ "2000-02-29T00:00:00Z", 951782400 },
	{ "2038-01-19T03:14:08Z", 2147483648.0 },
	{ "2022-02-18T00:00:00Z", 1645142400 },
	{ "9999-12-31T23:59:59Z", 253402300799.0 },
	{ "0001-01-01T00:00:00Z", -62135596800.0 },
	/* A leap second reads as the second after. */
	{ "2016-12-31T23:59:60Z", 1483228800 },
};

static const char *const rfc3339_bad[] = {
	"",
	"2026-11-22",
	"2026-11-22T10:00:00",
	"2026-11-22T10:00Z",
	"2026-11-22T10:00:00.Z",
	"2026-11-22T10:00:00.",
	"2026-11-22T10:00:00,5Z",
	"2026-11-22T10:00:00ZZ",
	"2026-11-22T10:00:00Z ",
	" 2026-11-22T10:00:00Z",
	"2026-11-22T10:00:00UTC",
	"2026-11-22T10:00:00+0100",
	"2026-11-22T10:00:00+01",
	"2026-11-22T10:00:00+01:0",
	"2026-11-22T10:00:00+1:00",
	"2026-11-22T10:00:00+24:00",
	"2026-11-22T10:00:00+01:60",
	"2026-11-22T10:00:00+01:00Z",
	"2026-13-01T00:00:00Z",
	"2026-00-01T00:00:00Z",
	"2026-11-00T00:00:00Z",
	"2026-11-31T00:00:00Z",
	"2026-04-31T00:00:00Z",
	"2026-01-32T00:00:00Z",
	"2023-02-29T00:00:00Z",
	"1900-02-29T00:00:00Z",
	"2026-02-30T00:00:00Z",
	"2026-11-22T24:00:00Z",
	"2026-11-22T10:60:00Z",
	"2026-11-22T10:00:61Z",
	"2026-11-22X10:00:00Z",
	"2026-11-22_10:00:00Z",
	"26-11-22T10:00:00Z",
	"2026-1-22T10:00:00Z",
	"2026/11/22T10:00:00Z",
	"2026-11-22T1a:00:00Z",
	"2026-11-22T10:00:0aZ",
	"2026-11-22T10-00-00Z",
	"+2026-11-22T10:00:00Z",
	"-2026-11-22T10:00:00Z",
	"1645142400",
};

static void
test_rfc3339(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(rfc3339_ok); i++) {
		const char *s = rfc3339_ok[i].text;
		size_t len = strlen(s);
		char *copy = malloc(len);
		double t = -12345;
		int r;

		assert_non_null(copy);
		memcpy(copy, s, len);
		r = record_parse_rfc3339(copy, len, &t);
		free(copy);
		if (r != 0)
			fail_msg("%s: rejected (%d)", s, r);
		/* Within a microsecond: a double near 2e9 holds about that. */
		if (fabs(t - rfc3339_ok[i].epoch) > 1e-6)
			fail_msg("%s: %.9f, want %.9f", s, t, rfc3339_ok[i].epoch);
	}
	for (i = 0; i < NELEM(rfc3339_bad); i++) {
		const char *s = rfc3339_bad[i];
		size_t len = strlen(s);
		char *copy = malloc(len ? len : 1);
		double t = -12345;
		int r;

		assert_non_null(copy);
		memcpy(copy, s, len);
		r = record_parse_rfc3339(copy, len, &t);
		free(copy);
		if (r != -EINVAL)
			fail_msg("\"%s\": returned %d (%.9f), want -EINVAL", s, r, t);
	}
}

static void
test_timestamp_field(void **state)
{
	static const struct num_case ts[] = {
		{ "\"2026-11-22T10:00:00.123Z\"", 1, 1795341600.123 },
		{ "\"2026-11-22 10:00:00+01:00\"", 1, 1795338000 },
		/* Epoch seconds. */
		{ "1645142400", 1, 1645142400 },
		{ "1645142400.25", 1, 1645142400.25 },
		{ "1.6451424e9", 1, 1645142400 },
		{ "0", 1, 0 },
		/* Escapes are decoded first. */
		{ "\"2026-11-22T10:00:00\\u002e5Z\"", 1, 1795341600.5 },
		{ "\"2026-11-22\\u005410:00:00Z\"", 1, 1795341600 },
		/* Not a time. */
		{ "\"1645142400\"", 0, 0 },
		{ "\"2026-11-22\"", 0, 0 },
		{ "\"2026-02-30T00:00:00Z\"", 0, 0 },
		{ "\"\"", 0, 0 },
		{ "NaN", 0, 0 },
		{ "Infinity", 0, 0 },
		{ "1e999", 0, 0 },
		{ "null", 0, 0 },
		{ "true", 0, 0 },
		{ "[1645142400]", 0, 0 },
		{ "\"2026-11-22T10:00:00\\u0000Z\"", 0, 0 },
	};

	(void)state;
	check_numbers("[model]\ntimestamp = ts\n", "ts", ts, NELEM(ts),
	    offsetof(struct record, timestamp), RECORD_TIMESTAMP);
}

/* ---------------------------------------------------- match and errors */

static void
expect_result(struct rp *rp, const char *line, enum record_result want)
{
	enum record_result got = rp_parse_len(rp, line, strlen(line));

	if (got != want)
		fail_msg("%s: result %d, want %d", line, (int)got, (int)want);
}

static void
test_match_string(void **state)
{
	struct rp rp;

	(void)state;
	rp_open(&rp, "[input]\nmatch_field = model\nmatch_value = iris-rf\n");
	expect_result(&rp, "{\"model\":\"iris-rf\",\"prediction\":\"a\"}", RECORD_OK);
	expect_label(&rp, &rp.r.cls, "a");
	expect_result(&rp, "{\"prediction\":\"a\",\"model\":\"iris-rf\"}", RECORD_OK);
	expect_result(&rp, "{\"model\":\"iris\\u002drf\"}", RECORD_OK);
	expect_result(&rp, "{\"model\":\"iris\"}", RECORD_SKIP);
	expect_result(&rp, "{\"model\":\"iris-rf2\"}", RECORD_SKIP);
	expect_result(&rp, "{\"model\":\"IRIS-RF\"}", RECORD_SKIP);
	expect_result(&rp, "{\"model\":\" iris-rf\"}", RECORD_SKIP);
	expect_result(&rp, "{\"model\":\"iris-rf\\u0000\"}", RECORD_SKIP);
	expect_result(&rp, "{\"model\":null}", RECORD_SKIP);
	expect_result(&rp, "{\"model\":[\"iris-rf\"]}", RECORD_SKIP);
	expect_result(&rp, "{\"prediction\":\"a\"}", RECORD_SKIP);
	expect_result(&rp, "{\"meta\":{\"model\":\"iris-rf\"}}", RECORD_SKIP);
	/* The last occurrence of a repeated key decides. */
	expect_result(&rp, "{\"model\":\"iris-rf\",\"model\":\"x\"}", RECORD_SKIP);
	expect_result(&rp, "{\"model\":\"x\",\"model\":\"iris-rf\"}", RECORD_OK);
	/* A broken line is broken, whatever it holds. */
	expect_result(&rp, "{\"model\":\"iris-rf\"", RECORD_BAD_JSON);
	expect_result(&rp, "{\"model\":\"x\",}", RECORD_BAD_JSON);
	rp_close(&rp);

	/* A nested match field with a quoted key. */
	rp_open(&rp, "[input]\nmatch_field = meta.\"model name\"\n"
	    "match_value = caf\xc3\xa9\n");
	expect_result(&rp, "{\"meta\":{\"model name\":\"caf\\u00e9\"}}", RECORD_OK);
	expect_result(&rp, "{\"meta\":{\"model name\":\"caf\xc3\xa9\"}}", RECORD_OK);
	expect_result(&rp, "{\"meta\":{\"model name\":\"cafe\"}}", RECORD_SKIP);
	expect_result(&rp, "{\"meta\":{\"model\":\"caf\xc3\xa9\"}}", RECORD_SKIP);
	rp_close(&rp);
}

static void
test_match_number(void **state)
{
	struct rp rp;

	(void)state;
	rp_open(&rp, "[input]\nmatch_field = model_id\nmatch_value = 3\n");
	expect_result(&rp, "{\"model_id\":3}", RECORD_OK);
	expect_result(&rp, "{\"model_id\":3.0}", RECORD_OK);
	expect_result(&rp, "{\"model_id\":3e0}", RECORD_OK);
	expect_result(&rp, "{\"model_id\":0.3e1}", RECORD_OK);
	expect_result(&rp, "{\"model_id\":\"3\"}", RECORD_OK);
	expect_result(&rp, "{\"model_id\":3.5}", RECORD_SKIP);
	expect_result(&rp, "{\"model_id\":30}", RECORD_SKIP);
	expect_result(&rp, "{\"model_id\":-3}", RECORD_SKIP);
	expect_result(&rp, "{\"model_id\":\"03\"}", RECORD_SKIP);
	expect_result(&rp, "{\"model_id\":\"3.0\"}", RECORD_SKIP);
	expect_result(&rp, "{\"model_id\":NaN}", RECORD_SKIP);
	expect_result(&rp, "{\"model_id\":true}", RECORD_SKIP);
	expect_result(&rp, "{}", RECORD_SKIP);
	rp_close(&rp);

	rp_open(&rp, "[input]\nmatch_field = v\nmatch_value = 0.1\n");
	expect_result(&rp, "{\"v\":0.1}", RECORD_OK);
	expect_result(&rp, "{\"v\":1e-1}", RECORD_OK);
	expect_result(&rp, "{\"v\":0.10000000000000001}", RECORD_OK);
	expect_result(&rp, "{\"v\":0.2}", RECORD_SKIP);
	rp_close(&rp);
}

/* A match_value that only strtod(3) reads as a number (hexadecimal, or
 * spelled with leading blanks) is text; JSON numbers are decimal. */
static void
test_match_value_is_decimal(void **state)
{
	struct rp rp;

	(void)state;
	rp_open(&rp, "[input]\nmatch_field = model_id\nmatch_value = 0x10\n");
	expect_result(&rp, "{\"model_id\":\"0x10\"}", RECORD_OK);
	expect_result(&rp, "{\"model_id\":16}", RECORD_SKIP);
	rp_close(&rp);
}

static void
test_bad_json(void **state)
{
	static const char *const bad[] = {
		"", " ", "not json", "[1]", "[{\"prediction\":\"a\"}]", "\"a\"",
		"{", "{\"prediction\":\"a\"} x", "{\"prediction\":01}",
		"{\"prediction\":\"a\",}", "{\"prediction\":nan}",
		"{\"prediction\":\"a\x01\"}", "{'prediction':'a'}",
	};
	struct rp rp;
	size_t i;

	(void)state;
	rp_open(&rp, iris_conf);
	for (i = 0; i < NELEM(bad); i++)
		expect_result(&rp, bad[i], RECORD_BAD_JSON);
	/* A NUL byte inside the line. */
	assert_int_equal(rp_parse_len(&rp, "{\"prediction\":\"a\"}\0", 19),
	    RECORD_BAD_JSON);
	/* The parser goes on after bad lines. */
	rp_parse(&rp, "{\"prediction\":\"b\"}");
	expect_label(&rp, &rp.r.cls, "b");
	rp_close(&rp);
}

static void
test_missing_flags(void **state)
{
	struct rp rp;

	(void)state;
	assert_string_equal(record_field_name(RECORD_PREDICTION), "prediction");
	assert_string_equal(record_field_name(RECORD_CONFIDENCE), "confidence");
	assert_string_equal(record_field_name(RECORD_LATENCY), "latency");
	assert_string_equal(record_field_name(RECORD_TIMESTAMP), "timestamp");

	/* Defaults: class and confidence only. */
	rp_open(&rp, "");
	assert_true(record_parser_has_field(rp.p, RECORD_PREDICTION));
	assert_true(record_parser_has_field(rp.p, RECORD_CONFIDENCE));
	assert_false(record_parser_has_field(rp.p, RECORD_LATENCY));
	assert_false(record_parser_has_field(rp.p, RECORD_TIMESTAMP));
	assert_int_equal(record_parser_nfeatures(rp.p), 0);
	rp_parse(&rp, "{}");
	assert_int_equal(rp.r.missing[RECORD_PREDICTION], 1);
	assert_int_equal(rp.r.missing[RECORD_CONFIDENCE], 1);
	assert_int_equal(rp.r.missing[RECORD_LATENCY], 0);
	assert_int_equal(rp.r.missing[RECORD_TIMESTAMP], 0);
	expect_missing(&rp, &rp.r.cls, "cls");
	expect_missing(&rp, &rp.r.confidence, "confidence");
	expect_missing(&rp, &rp.r.latency, "latency");
	expect_missing(&rp, &rp.r.timestamp, "timestamp");
	rp_parse(&rp, "{\"prediction\":\"x\",\"confidence\":0.5,"
	    "\"latency_ms\":1,\"ts\":0}");
	assert_int_equal(rp.r.missing[RECORD_PREDICTION], 0);
	assert_int_equal(rp.r.missing[RECORD_CONFIDENCE], 0);
	expect_missing(&rp, &rp.r.latency, "latency");
	expect_missing(&rp, &rp.r.timestamp, "timestamp");
	rp_close(&rp);

	/* Everything configured: each field is flagged on its own. */
	rp_open(&rp, iris_conf);
	assert_true(record_parser_has_field(rp.p, RECORD_LATENCY));
	assert_true(record_parser_has_field(rp.p, RECORD_TIMESTAMP));
	rp_parse(&rp, "{\"prediction\":\"a\",\"confidence\":2,\"latency_ms\":-1,"
	    "\"ts\":\"yesterday\",\"features\":{\"sepal length (cm)\":\"5.1\"}}");
	assert_int_equal(rp.r.missing[RECORD_PREDICTION], 0);
	assert_int_equal(rp.r.missing[RECORD_CONFIDENCE], 1);
	assert_int_equal(rp.r.missing[RECORD_LATENCY], 1);
	assert_int_equal(rp.r.missing[RECORD_TIMESTAMP], 1);
	expect_label(&rp, &rp.r.cls, "a");
	expect_missing(&rp, &rp.r.features[0], "sepal length");
	expect_missing(&rp, &rp.r.features[1], "country");
	expect_missing(&rp, &rp.r.features[2], "probabilities[1]");
	/* Flags do not carry over to the next record. */
	rp_parse(&rp, "{\"prediction\":\"a\",\"confidence\":1,\"latency_ms\":0,"
	    "\"ts\":5}");
	assert_int_equal(rp.r.missing[RECORD_CONFIDENCE], 0);
	assert_int_equal(rp.r.missing[RECORD_LATENCY], 0);
	assert_int_equal(rp.r.missing[RECORD_TIMESTAMP], 0);
	rp_parse(&rp, "{\"confidence\":0.5}");
	assert_int_equal(rp.r.missing[RECORD_PREDICTION], 1);
	assert_int_equal(rp.r.missing[RECORD_CONFIDENCE], 0);
	rp_close(&rp);
}

static void
test_numeric_features(void **state)
{
	static const struct {
		const char *json;
		int present;
		double num;
	} cases[] = {
		{ "5.1", 1, 5.1 }, { "-0", 1, 0 }, { "0", 1, 0 }, { "1e300", 1, 1e300 },
		{ "-2.5e-3", 1, -2.5e-3 }, { "12345678901234567890", 1, 12345678901234567890.0 },
		{ "\"5.1\"", 0, 0 }, { "NaN", 0, 0 }, { "Infinity", 0, 0 },
		{ "-Infinity", 0, 0 }, { "1e999", 0, 0 }, { "-1e999", 0, 0 },
		{ "null", 0, 0 }, { "true", 0, 0 }, { "[5.1]", 0, 0 }, { "{}", 0, 0 },
	};
	struct rp rp;
	struct buf line = BUF_INIT;
	size_t i;

	(void)state;
	rp_open(&rp, "[features]\nfeatures.age = numeric\nfeatures.\"a.b\" = numeric\n"
	    "p[2] = numeric\n");
	assert_string_equal(record_parser_feature_name(rp.p, 1), "features.\"a.b\"");
	for (i = 0; i < NELEM(cases); i++) {
		buf_reset(&line);
		buf_printf(&line, "{\"fe\\u0061tures\":{\"age\":%s,\"a.b\":%s},"
		    "\"p\":[0,1,%s]}", cases[i].json, cases[i].json, cases[i].json);
		rp_parse(&rp, line.data);
		for (size_t f = 0; f < 3; f++) {
			if (cases[i].present)
				expect_num(&rp, &rp.r.features[f],
				    record_parser_feature_name(rp.p, f), cases[i].num);
			else
				expect_missing(&rp, &rp.r.features[f],
				    record_parser_feature_name(rp.p, f));
		}
	}
	/* Absent, or under the wrong container. */
	rp_parse(&rp, "{\"features\":{\"a\":{\"b\":1}},\"p\":{\"2\":1}}");
	for (size_t f = 0; f < 3; f++)
		expect_missing(&rp, &rp.r.features[f],
		    record_parser_feature_name(rp.p, f));
	buf_free(&line);
	rp_close(&rp);
}

/*
 * The class path is also monitored as a categorical feature (a natural
 * way to watch the prediction's drift): both labels are made from the
 * same JSON string.  Each must be right, and stay readable until the next
 * record_parse().
 */
static void
test_shared_path_labels(void **state)
{
	struct rp rp;
	struct buf line = BUF_INIT, want = BUF_INIT;
	void *fence[256];
	int i;

	(void)state;
	rp_open(&rp, "[model]\nclass = prediction\n"
	    "[features]\nprediction = categorical\n");
	/*
	 * A first, longer line leaves the parser's buffers at their size for
	 * the second; the blocks allocated next fill the heap around them so
	 * that they cannot grow in place, and a label left pointing into
	 * memory that was moved shows without AddressSanitizer too.
	 */
	buf_putc(&line, '{');
	for (i = 0; i < 40; i++)
		buf_printf(&line, "\"k%d\":0,", i % 10);
	buf_puts(&line, "\"prediction\":\"ok\"}");
	rp_parse(&rp, line.data);
	expect_label(&rp, &rp.r.cls, "ok");
	for (i = 0; i < (int)NELEM(fence); i++) {
		fence[i] = malloc(48);
		assert_non_null(fence[i]);
	}

	for (i = 0; i < RECORD_MAX_LABEL_BYTES / 2; i++)
		buf_puts(&want, "\xc3\xa9");
	buf_reset(&line);
	buf_printf(&line, "{\"prediction\":\"%s\"}", want.data);
	rp_parse(&rp, line.data);
	expect_label_len(&rp, &rp.r.features[0], "feature", want.data, want.len);
	expect_label_len(&rp, &rp.r.cls, "class", want.data, want.len);
	for (i = 0; i < (int)NELEM(fence); i++)
		free(fence[i]);
	buf_free(&line);
	buf_free(&want);
	rp_close(&rp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_regression_example),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_label_length),
		cmocka_unit_test(test_labels_of_one_record),
		cmocka_unit_test(test_confidence),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_timestamp_field),
		cmocka_unit_test(test_match_string),
		cmocka_unit_test(test_match_number),
		cmocka_unit_test(test_match_value_is_decimal),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_missing_flags),
		cmocka_unit_test(test_numeric_features),
		/* Last: under AddressSanitizer a failure here ends the run. */
		cmocka_unit_test(test_shared_path_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
