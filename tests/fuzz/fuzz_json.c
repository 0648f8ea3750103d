/*
 * libFuzzer target for the JSON scanner.  Any bytes must be accepted or
 * rejected without a crash, a leak or a read out of bounds, and whatever
 * is accepted must hold together:
 *   - acceptance does not depend on the query, and json_validate() agrees
 *     with json_scan() on text that starts with '{';
 *   - every captured value lies inside the input and validates on its own;
 *   - numbers convert exactly as strtod(3) converts them;
 *   - decoded strings are valid UTF-8 without NUL, never longer than
 *     their JSON text, or fail with -EILSEQ;
 *   - members found by json_iter are themselves valid JSON.
 * A broken property aborts, which libFuzzer reports as a crash.  The input
 * is also split at newlines and each line scanned in turn with the same
 * query, as the daemon scans a log.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "path.h"
#include "../utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Paths of the contract's example lines, plus indexes, quoted and odd keys. */
static const char *const paths[] = {
	"ts", "model", "prediction", "confidence", "latency_ms",
	"features", "features.\"sepal length (cm)\"", "features.country",
	"probabilities", "probabilities[0]", "probabilities[2]",
	"a", "a.b", "a[0]", "a[1].b", "a[0][1]", "\"a.b\"", "\"\"", "\"\\\"\"",
	"\"\\\\\"[3]", "\"caf\xc3\xa9\".x", "s",
};

#define ITER_DEPTH 4            /* levels json_iter descends */

static struct json_query *query, *empty;
static struct json_value *slots;
static size_t nslots;

static void
init(void)
{
	size_t i;

	query = json_query_create();
	empty = json_query_create();
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct path p;
		const char *err;

		if (path_parse(paths[i], strlen(paths[i]), &p, &err) != 0)
			abort();
		json_query_add(query, &p);
		path_free(&p);
	}
	nslots = json_query_slots(query);
	slots = calloc(nslots, sizeof(*slots));
	if (slots == NULL)
		abort();
}

static void
check(int ok)
{
	if (!ok)
		abort();
}

static void check_value(const struct json_value *v, const uint8_t *data,
    size_t size, int depth);

static void
check_string(const struct json_value *v)
{
	struct buf out = BUF_INIT;
	int r;

	r = json_string_decode(v, &out);
	check(r == 0 || r == -EILSEQ);
	if (r == 0) {
		check(out.len <= v->len);
		check(utf8_clean((const unsigned char *)out.data, out.len));
		/* An unescaped valid string decodes to itself. */
		check(v->escaped || (out.len == v->len &&
		    memcmp(out.data ? out.data : "", v->ptr, v->len) == 0));
	}
	buf_free(&out);
}

static void
check_value(const struct json_value *v, const uint8_t *data, size_t size,
    int depth)
{
	const char *base = (const char *)data;
	double d, want;
	char *tmp;

	if (v->type == JSON_ABSENT)
		return;
	check(v->ptr >= base && v->len <= size &&
	    (size_t)(v->ptr - base) <= size - v->len);
	switch (v->type) {
	case JSON_NUMBER:
		check(json_number(v, &d) == 0);
		tmp = malloc(v->len + 1);
		check(tmp != NULL);
		memcpy(tmp, v->ptr, v->len);
		tmp[v->len] = '\0';
		want = strtod(tmp, NULL);
		free(tmp);
		check(memcmp(&d, &want, sizeof(d)) == 0);
		check(json_validate(v->ptr, v->len) == 0);
		break;
	case JSON_NONFINITE:
		check(json_number(v, &d) == 0 && !isfinite(d));
		break;
	case JSON_STRING:
		/* The text between the quotes, the quotes inside the input. */
		check(v->ptr > base && (size_t)(v->ptr - base) + v->len < size);
		check(v->ptr[-1] == '"' && v->ptr[v->len] == '"');
		check(json_validate(v->ptr - 1, v->len + 2) == 0);
		check_string(v);
		break;
	case JSON_OBJECT:
	case JSON_ARRAY: {
		struct json_iter it;
		struct json_value key, member;
		size_t n = 0;

		check(json_validate(v->ptr, v->len) == 0);
		if (depth >= ITER_DEPTH)
			break;
		json_iter_init(&it, v);
		while (json_iter_next(&it, &key, &member)) {
			if (v->type == JSON_OBJECT) {
				check(key.type == JSON_STRING);
				check_string(&key);
			} else {
				check(key.type == JSON_ABSENT);
			}
			check(member.type != JSON_ABSENT);
			check(member.ptr >= v->ptr &&
			    member.ptr + member.len <= v->ptr + v->len);
			check_value(&member, data, size, depth + 1);
			n++;
		}
		/* Only an empty container has no members. */
		if (n == 0) {
			size_t i;

			for (i = 1; i + 1 < v->len; i++)
				check(strchr(" \t\r\n", v->ptr[i]) != NULL &&
				    v->ptr[i] != '\0');
		}
		break;
	}
	default:
		check(json_validate(v->ptr, v->len) == 0);
		break;
	}
}

static void
scan_one(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct json_value none[1];
	int ok, ok2, valid;
	size_t i;

	ok = json_scan(query, text, size, slots) == 0;
	ok2 = json_scan(empty, text, size, none) == 0;
	check(ok == ok2);
	valid = json_validate(text, size) == 0;
	if (size > 0 && text[0] == '{')
		check(valid == ok);
	else if (ok)
		check(valid);
	if (!ok)
		return;
	for (i = 0; i < nslots; i++)
		check_value(&slots[i], data, size, 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *nl;

	if (query == NULL)
		init();
	scan_one(data, size);
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		scan_one(p, (size_t)(nl - p));
		p = nl + 1;
	}
	if (p != data)
		scan_one(p, (size_t)(end - p));
	return 0;
}
