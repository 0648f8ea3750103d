/*
 * libFuzzer target for the record parser: any line must give a record, a
 * skip or a bad-line verdict, never a crash, a leak or a read out of
 * bounds, and a record must only hold what driftd.conf(5) promises:
 * labels of at most RECORD_MAX_LABEL_BYTES bytes of UTF-8 without NUL
 * (classes not empty), confidences in [0, 1], finite non-negative
 * latencies, finite numbers, and missing[] flags that match the fields'
 * presence.
 *
 * Three fixed configurations are read once (through conf_parse(), as the
 * daemon does): the contract's iris example, with a match field and the
 * class also watched as a categorical feature; a regression model with a
 * numeric match value; and a class watched as its only feature.  Each
 * input gets fresh parsers, so that a crash reproduces from its input
 * alone, and is split at newlines into lines parsed in turn, as the
 * daemon parses a log.
 */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"
#include "json.h"
#include "record.h"
#include "../utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const configs[] = {
	"[input]\n"
	"match_field = model\n"
	"match_value = iris-rf\n"
	"[model]\n"
	"name = iris-rf\n"
	"class = prediction\n"
	"confidence = max(probabilities)\n"
	"latency = latency_ms\n"
	"timestamp = ts\n"
	"[features]\n"
	"features.\"sepal length (cm)\" = numeric\n"
	"features.country = categorical\n"
	"features.\"a.b\"[1] = categorical\n"
	"features.emb = vector\n"
	"max_vector_dim = 16\n"
	"probabilities[0] = numeric\n"
	"prediction = categorical\n",

	"[input]\n"
	"match_field = meta.\"model id\"\n"
	"match_value = 3\n"
	"[model]\n"
	"class =\n"
	"value = prediction\n"
	"confidence = confidence\n"
	"latency = lat\n"
	"latency_unit = us\n"
	"timestamp = pickup_ts\n"
	"[features]\n"
	"passenger_count = numeric\n"
	"PULocationID = categorical\n"
	"trip_distance = numeric\n",

	"[model]\n"
	"class = prediction\n"
	"confidence =\n"
	"[features]\n"
	"prediction = categorical\n",
};

#define NPARSERS (sizeof(configs) / sizeof(configs[0]))

/* Whether each configuration predicts a class (else a value). */
static const int predicts_class[NPARSERS] = { 1, 0, 1 };

#define MAX_LINES 8

static struct record_parser *parsers[NPARSERS];
static struct conf *confs[NPARSERS];

static void
check_label(const struct record_value *v)
{
	if (!v->present)
		return;
	check(v->str != NULL && v->len <= RECORD_MAX_LABEL_BYTES);
	/* Reading every byte lets AddressSanitizer check the pointer. */
	check(utf8_clean((const unsigned char *)v->str, v->len));
}

static void
check_record(size_t which, const struct record *r)
{
	const struct record_parser *p = parsers[which];
	size_t i;

	check_label(&r->cls);
	check_label(&r->id);
	check(!r->id.present || r->id.len > 0);
	check(!r->cls.present || r->cls.len > 0);
	check(!r->value.present || isfinite(r->value.num));
	check(!r->confidence.present ||
	    (r->confidence.num >= 0 && r->confidence.num <= 1));
	check(!r->latency.present ||
	    (isfinite(r->latency.num) && r->latency.num >= 0));
	check(!r->timestamp.present || isfinite(r->timestamp.num));
	check(r->missing[RECORD_CONFIDENCE] ==
	    (record_parser_has_field(p, RECORD_CONFIDENCE) &&
	    !r->confidence.present));
	check(r->missing[RECORD_LATENCY] ==
	    (record_parser_has_field(p, RECORD_LATENCY) && !r->latency.present));
	check(r->missing[RECORD_TIMESTAMP] ==
	    (record_parser_has_field(p, RECORD_TIMESTAMP) &&
	    !r->timestamp.present));
	check(r->missing[RECORD_PREDICTION] == (predicts_class[which] ?
	    !r->cls.present : !r->value.present));
	check(predicts_class[which] ? !r->value.present : !r->cls.present);
	for (i = 0; i < record_parser_nfeatures(p); i++) {
		const struct record_value *v = &r->features[i];

		size_t k;

		if (record_parser_feature_kind(p, i) == CONF_NUMERIC) {
			check(!v->present || isfinite(v->num));
		} else if (record_parser_feature_kind(p, i) == CONF_VECTOR) {
			/* 1 to max_vector_dim finite numbers. */
			if (!v->present)
				continue;
			check(v->len >= 1 && v->len <= 16 && v->vec != NULL);
			for (k = 0; k < v->len; k++)
				check(isfinite(v->vec[k]));
		} else {
			check_label(v);
		}
	}
}

static void
parse_line(const char *line, size_t size)
{
	struct record r;
	size_t i;

	for (i = 0; i < NPARSERS; i++) {
		enum record_result res = record_parse(parsers[i], line, size, &r);

		check(res == RECORD_OK || res == RECORD_SKIP ||
		    res == RECORD_BAD_JSON);
		/* Bad lines are exactly the texts that are not JSON objects. */
		if (size > 0 && line[0] == '{')
			check((res == RECORD_BAD_JSON) ==
			    (json_validate(line, size) != 0));
		if (res == RECORD_OK)
			check_record(i, &r);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	size_t i;
	int n;

	if (confs[0] == NULL)
		parse_configs(configs, NPARSERS, confs);
	for (i = 0; i < NPARSERS; i++) {
		parsers[i] = record_parser_create(confs[i]);
		check(parsers[i] != NULL);
	}
	for (n = 0; n < MAX_LINES && p <= end; n++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl != NULL ? nl : end;

		parse_line(p, (size_t)(stop - p));
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	for (i = 0; i < NPARSERS; i++)
		record_parser_destroy(parsers[i]);
	return 0;
}
