/*
 * Unit tests for json.c: what json_scan() accepts, what it extracts by
 * path, and the decoding of numbers and strings on request.
 *
 * Every text is scanned from an exactly sized heap copy without a NUL
 * terminator, as lines come from the tail buffer, so that AddressSanitizer
 * sees any read past the end (the SSE2 string loop reads 16 bytes at once).
 */
#include "config.h"

#include "unit.h"

#include <errno.h>
#include <stdlib.h>

#include "buf.h"
#include "json.h"
#include "path.h"
#include "../utf8.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_SLOTS 64

/* A query and the result of scanning one text with it. */
struct scan {
	struct json_query *q;
	struct json_value slots[MAX_SLOTS];
	char *text;             /* exact copy of the scanned bytes */
	size_t len;
	int rc;
};

/* A small, fixed-seed generator (splitmix64), so failures reproduce. */
static uint64_t rng_state = 0x6472696674642121ULL;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint32_t
rng_below(uint32_t n)
{
	return (uint32_t)(rng() % n);
}

static int
add_path(struct json_query *q, const char *text)
{
	struct path p;
	const char *err;
	int slot;

	if (path_parse(text, strlen(text), &p, &err) != 0)
		fail_msg("path %s: %s", text, err);
	slot = json_query_add(q, &p);
	path_free(&p);
	assert_true(slot >= 0 && slot < MAX_SLOTS);
	return slot;
}

static char *
exact_copy(const char *s, size_t len)
{
	char *c = malloc(len ? len : 1);

	assert_non_null(c);
	memcpy(c, s, len);
	return c;
}

static void
scan_len(struct scan *sc, const char *s, size_t len)
{
	free(sc->text);
	sc->text = exact_copy(s, len);
	sc->len = len;
	assert_true(json_query_slots(sc->q) <= MAX_SLOTS);
	sc->rc = json_scan(sc->q, sc->text, len, sc->slots);
}

static void
scan_str(struct scan *sc, const char *s)
{
	scan_len(sc, s, strlen(s));
	if (sc->rc != 0)
		fail_msg("rejected (%d): %s", sc->rc, unit_show(s, strlen(s)));
}

static void
scan_done(struct scan *sc)
{
	free(sc->text);
	json_query_destroy(sc->q);
	memset(sc, 0, sizeof(*sc));
}

static const char *
type_name(enum json_type t)
{
	static const char *const names[] = {
		"ABSENT", "NULL", "FALSE", "TRUE", "NUMBER", "NONFINITE",
		"STRING", "OBJECT", "ARRAY",
	};

	return (size_t)t < NELEM(names) ? names[t] : "?";
}

/* Slot `slot` holds a value of `type` whose text is `want`. */
static void
expect_slot(const struct scan *sc, int slot, enum json_type type,
    const char *want)
{
	const struct json_value *v = &sc->slots[slot];

	if (v->type != type)
		fail_msg("in %s: slot %d is %s, want %s",
		    unit_show(sc->text, sc->len), slot, type_name(v->type),
		    type_name(type));
	if (type == JSON_ABSENT)
		return;
	if (v->ptr < sc->text || v->ptr + v->len > sc->text + sc->len)
		fail_msg("slot %d points outside the text", slot);
	if (v->len != strlen(want) || memcmp(v->ptr, want, v->len) != 0)
		fail_msg("in %s: slot %d is \"%s\", want \"%s\"",
		    unit_show(sc->text, sc->len), slot,
		    unit_show(v->ptr, v->len), want);
}

/* ------------------------------------------------------- acceptance */

struct line {
	const char *text;
	size_t len;             /* 0: strlen(text) */
	int ok;
};

static const struct line lines[] = {
	/* Whitespace everywhere, empty and nested containers. */
	{ "{}", 0, 1 },
	{ " \t\r\n{ \t\r\n} \t\r\n", 0, 1 },
	{ "{\"a\":1}", 0, 1 },
	{ "{ \"a\" : 1 , \"b\" : [ 1 , 2 ] , \"c\" : { } , \"d\" : [ ] }", 0, 1 },
	{ "{\n\t\"a\"\r\n:\n[\n{\n}\n,\n[\n]\n]\n}\n", 0, 1 },
	{ "{\"a\":{\"b\":{\"c\":[[[{}]]]}}}", 0, 1 },
	{ "{\"\":\"\"}", 0, 1 },
	{ "{\"a\":1,\"a\":2}", 0, 1 },
	{ "{\"a\":true,\"b\":false,\"c\":null}", 0, 1 },
	{ "{\"a\":[true,false,null,\"x\",1,{},[]]}", 0, 1 },
	/* Escapes, including \u and a surrogate pair. */
	{ "{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", 0, 1 },
	{ "{\"a\":\"\\u0041\\u00e9\\u00E9\\u20AC\\uD83D\\uDE00\\uffff\"}", 0, 1 },
	{ "{\"\\u0061\\n\":0}", 0, 1 },
	/* The scanner checks escapes' syntax only; what they encode is
	 * checked when the string is decoded. */
	{ "{\"a\":\"\\u0000\"}", 0, 1 },
	{ "{\"a\":\"\\ud800\"}", 0, 1 },
	{ "{\"a\":\"\\udc00\\ud800\"}", 0, 1 },
	/* UTF-8 and other bytes >= 0x20 in strings are not checked here. */
	{ "{\"gr\xc3\xb6\xc3\x9f" "e\":\"\xe2\x82\xac\xf0\x9f\x98\x80\"}", 0, 1 },
	{ "{\"a\":\"\xff\xfe\xc0\x80\xed\xa0\x80\x7f\"}", 0, 1 },
	/* Numbers. */
	{ "{\"a\":0}", 0, 1 },
	{ "{\"a\":-0}", 0, 1 },
	{ "{\"a\":0.5e-3}", 0, 1 },
	{ "{\"a\":1E+2}", 0, 1 },
	{ "{\"a\":1e2}", 0, 1 },
	{ "{\"a\":1E2}", 0, 1 },
	{ "{\"a\":1e-2}", 0, 1 },
	{ "{\"a\":-1.5E-10}", 0, 1 },
	{ "{\"a\":0.0}", 0, 1 },
	{ "{\"a\":-0.0e0}", 0, 1 },
	{ "{\"a\":10}", 0, 1 },
	{ "{\"a\":1e999}", 0, 1 },
	{ "{\"a\":123456789012345678901234567890}", 0, 1 },
	{ "{\"a\":[1,-1,0.1,-0.1,1e1,1e+1,1e-1,1.5E01]}", 0, 1 },
	/* Python's non-finite numbers. */
	{ "{\"a\":NaN}", 0, 1 },
	{ "{\"a\":Infinity}", 0, 1 },
	{ "{\"a\":-Infinity}", 0, 1 },
	{ "{\"a\":[NaN,Infinity,-Infinity]}", 0, 1 },
	{ "{\"a\" : NaN , \"b\" : -Infinity }", 0, 1 },

	/* Not an object, or nothing. */
	{ "", 0, 0 },
	{ " \t\r\n", 0, 0 },
	{ "[]", 0, 0 },
	{ "[{}]", 0, 0 },
	{ "\"a\"", 0, 0 },
	{ "1", 0, 0 },
	{ "null", 0, 0 },
	{ "true", 0, 0 },
	{ "NaN", 0, 0 },
	/* Broken structure. */
	{ "{", 0, 0 },
	{ "}", 0, 0 },
	{ "{\"a\"", 0, 0 },
	{ "{\"a\":", 0, 0 },
	{ "{\"a\":}", 0, 0 },
	{ "{\"a\":1", 0, 0 },
	{ "{\"a\":1,}", 0, 0 },
	{ "{\"a\":1 ,}", 0, 0 },
	{ "{,}", 0, 0 },
	{ "{,\"a\":1}", 0, 0 },
	{ "{\"a\":1,,\"b\":2}", 0, 0 },
	{ "{\"a\":[1,]}", 0, 0 },
	{ "{\"a\":[,1]}", 0, 0 },
	{ "{\"a\":[1 2]}", 0, 0 },
	{ "{\"a\":[1}", 0, 0 },
	{ "{\"a\":{]}", 0, 0 },
	{ "{\"a\":1 \"b\":2}", 0, 0 },
	{ "{\"a\" 1}", 0, 0 },
	{ "{\"a\"=1}", 0, 0 },
	{ "{\"a\"::1}", 0, 0 },
	{ "{'a':1}", 0, 0 },
	{ "{\"a\":'b'}", 0, 0 },
	{ "{a:1}", 0, 0 },
	{ "{1:1}", 0, 0 },
	{ "{null:1}", 0, 0 },
	{ "{\"a\":1}}", 0, 0 },
	{ "{\"a\":1} x", 0, 0 },
	{ "{\"a\":1}{}", 0, 0 },
	{ "{\"a\":1},", 0, 0 },
	{ "{}\0", 3, 0 },
	{ "\0{}", 3, 0 },
	{ "\v{}", 0, 0 },
	{ "\f{}", 0, 0 },
	{ "{\"a\":\xa0" "1}", 0, 0 },
	/* Numbers outside the grammar. */
	{ "{\"a\":01}", 0, 0 },
	{ "{\"a\":-01}", 0, 0 },
	{ "{\"a\":00}", 0, 0 },
	{ "{\"a\":1.}", 0, 0 },
	{ "{\"a\":1.e5}", 0, 0 },
	{ "{\"a\":.5}", 0, 0 },
	{ "{\"a\":-.5}", 0, 0 },
	{ "{\"a\":-}", 0, 0 },
	{ "{\"a\":+1}", 0, 0 },
	{ "{\"a\":1e}", 0, 0 },
	{ "{\"a\":1e+}", 0, 0 },
	{ "{\"a\":1e-}", 0, 0 },
	{ "{\"a\":1E+-2}", 0, 0 },
	{ "{\"a\":0x10}", 0, 0 },
	{ "{\"a\":1_000}", 0, 0 },
	{ "{\"a\":--1}", 0, 0 },
	{ "{\"a\":1.5.2}", 0, 0 },
	{ "{\"a\":- 1}", 0, 0 },
	/* Literals. */
	{ "{\"a\":tru}", 0, 0 },
	{ "{\"a\":True}", 0, 0 },
	{ "{\"a\":truee}", 0, 0 },
	{ "{\"a\":nul}", 0, 0 },
	{ "{\"a\":NULL}", 0, 0 },
	{ "{\"a\":fals}", 0, 0 },
	{ "{\"a\":undefined}", 0, 0 },
	/* Only Python's exact spellings of the non-finite numbers. */
	{ "{\"a\":nan}", 0, 0 },
	{ "{\"a\":NAN}", 0, 0 },
	{ "{\"a\":inf}", 0, 0 },
	{ "{\"a\":Inf}", 0, 0 },
	{ "{\"a\":-inf}", 0, 0 },
	{ "{\"a\":infinity}", 0, 0 },
	{ "{\"a\":-NaN}", 0, 0 },
	{ "{\"a\":+NaN}", 0, 0 },
	{ "{\"a\":+Infinity}", 0, 0 },
	{ "{\"a\":-Inf}", 0, 0 },
	{ "{\"a\":Infinit}", 0, 0 },
	{ "{\"a\":NaNa}", 0, 0 },
	{ "{\"a\":Infinityy}", 0, 0 },
	{ "{\"a\":-Infinity1}", 0, 0 },
	{ "{\"a\":N}", 0, 0 },
	{ "{\"a\":-I}", 0, 0 },
	{ "{NaN:1}", 0, 0 },
	/* Strings. */
	{ "{\"a\":\"abc}", 0, 0 },
	{ "{\"a\":\"abc", 0, 0 },
	{ "{\"a\":\"abc\\\"}", 0, 0 },
	{ "{\"a\":\"abc\\", 0, 0 },
	{ "{\"a\":\"a\x01" "b\"}", 0, 0 },
	{ "{\"a\":\"a\tb\"}", 0, 0 },
	{ "{\"a\":\"a\nb\"}", 0, 0 },
	{ "{\"a\":\"a\x1f" "b\"}", 0, 0 },
	{ "{\"a\":\"a\0b\"}", 9, 0 },
	{ "{\"a\x01\":1}", 0, 0 },
	{ "{\"a\":\"\\x41\"}", 0, 0 },
	{ "{\"a\":\"\\a\"}", 0, 0 },
	{ "{\"a\":\"\\'\"}", 0, 0 },
	{ "{\"a\":\"\\0\"}", 0, 0 },
	{ "{\"a\":\"\\U0041\"}", 0, 0 },
	{ "{\"a\":\"\\u12\"}", 0, 0 },
	{ "{\"a\":\"\\u123\"}", 0, 0 },
	{ "{\"a\":\"\\u12g4\"}", 0, 0 },
	{ "{\"a\":\"\\u 123\"}", 0, 0 },
	{ "{\"a\":\"\\u\"}", 0, 0 },
	{ "{\"a\":\"\\u00", 0, 0 },
	{ "{\"a\\q\":1}", 0, 0 },
};

/* Scan with an empty query and with one that captures along the way:
 * acceptance must not depend on what is asked for. */
static void
check_line(const char *text, size_t len, int want_ok)
{
	static const char *const paths[] = { "a", "a.b", "a[0]", "a[1].b", "b" };
	struct json_query *empty = json_query_create();
	struct json_query *q = json_query_create();
	struct json_value slots[NELEM(paths)];
	char *copy = exact_copy(text, len);
	size_t i;
	int r1, r2, rv;

	for (i = 0; i < NELEM(paths); i++)
		add_path(q, paths[i]);
	r1 = json_scan(empty, copy, len, slots);
	r2 = json_scan(q, copy, len, slots);
	if (r1 != (want_ok ? 0 : -EINVAL))
		fail_msg("%s: json_scan returned %d, want %s",
		    unit_show(text, len), r1, want_ok ? "0" : "-EINVAL");
	if (r2 != r1)
		fail_msg("%s: %d with an empty query, %d with paths",
		    unit_show(text, len), r1, r2);
	/* json_validate() accepts any value, so agrees on objects only. */
	rv = json_validate(copy, len);
	for (i = 0; i < len && strchr(" \t\r\n", text[i]) != NULL &&
	    text[i] != '\0'; i++)
		continue;
	if ((i < len && text[i] == '{') ? rv != r1 : (r1 == 0 && rv != 0))
		fail_msg("%s: json_validate returned %d, json_scan %d",
		    unit_show(text, len), rv, r1);
	free(copy);
	json_query_destroy(empty);
	json_query_destroy(q);
}

static void
test_accept_reject(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(lines); i++)
		check_line(lines[i].text, lines[i].len ? lines[i].len :
		    strlen(lines[i].text), lines[i].ok);
}

/* `depth` nested containers, innermost empty. */
static void
nest(struct buf *b, int depth, int arrays)
{
	int i;

	buf_reset(b);
	buf_putc(b, '{');
	for (i = 1; i < depth; i++)
		buf_puts(b, arrays ? (i == 1 ? "\"a\":[" : "[") : "\"a\":{");
	for (i = 1; i < depth; i++)
		buf_putc(b, arrays ? ']' : '}');
	buf_putc(b, '}');
}

static void
test_depth(void **state)
{
	struct buf b = BUF_INIT;
	char *copy;

	(void)state;
	nest(&b, JSON_MAX_DEPTH, 0);
	check_line(b.data, b.len, 1);
	nest(&b, JSON_MAX_DEPTH + 1, 0);
	check_line(b.data, b.len, 0);
	nest(&b, JSON_MAX_DEPTH, 1);
	check_line(b.data, b.len, 1);
	nest(&b, JSON_MAX_DEPTH + 1, 1);
	check_line(b.data, b.len, 0);
	nest(&b, 10000, 1);
	check_line(b.data, b.len, 0);

	/* json_validate() counts a top-level array the same way. */
	buf_reset(&b);
	buf_puts(&b, "[");
	while (b.len < JSON_MAX_DEPTH)
		buf_puts(&b, "[");
	while (b.len < 2 * JSON_MAX_DEPTH)
		buf_puts(&b, "]");
	copy = exact_copy(b.data, b.len);
	assert_int_equal(json_validate(copy, b.len), 0);
	free(copy);
	buf_reset(&b);
	while (b.len < JSON_MAX_DEPTH + 1)
		buf_puts(&b, "[");
	while (b.len < 2 * (JSON_MAX_DEPTH + 1))
		buf_puts(&b, "]");
	copy = exact_copy(b.data, b.len);
	assert_int_equal(json_validate(copy, b.len), -EINVAL);
	free(copy);
	buf_free(&b);
}

static void
test_validate(void **state)
{
	static const struct line values[] = {
		{ "1", 0, 1 }, { " -0.5e3 ", 0, 1 }, { "\"x\"", 0, 1 },
		{ "null", 0, 1 }, { "true", 0, 1 }, { "false", 0, 1 },
		{ "NaN", 0, 1 }, { "-Infinity", 0, 1 }, { "[]", 0, 1 },
		{ "[1,{\"a\":[]}]", 0, 1 }, { "{}", 0, 1 },
		{ "", 0, 0 }, { " ", 0, 0 }, { "1 2", 0, 0 }, { "[", 0, 0 },
		{ "01", 0, 0 }, { "\"x", 0, 0 }, { "nan", 0, 0 },
		{ "[1,]", 0, 0 }, { "1,", 0, 0 }, { "{}}", 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(values); i++) {
		size_t len = strlen(values[i].text);
		char *copy = exact_copy(values[i].text, len);
		int r = json_validate(copy, len);

		if (r != (values[i].ok ? 0 : -EINVAL))
			fail_msg("json_validate(%s) = %d", values[i].text, r);
		free(copy);
	}
}

/* ------------------------------------------------------- extraction */

static void
test_extract(void **state)
{
	struct scan sc = { 0 };
	int abc, p1, p21, p5, sepal, dotted, ab, t, f, n, nan, inf, ninf, s;
	int o, arr;

	(void)state;
	sc.q = json_query_create();
	abc = add_path(sc.q, "a.b.c");
	ab = add_path(sc.q, "a.b");
	p1 = add_path(sc.q, "p[1]");
	p21 = add_path(sc.q, "p[2][1]");
	p5 = add_path(sc.q, "p[5]");
	sepal = add_path(sc.q, "features.\"sepal length (cm)\"");
	dotted = add_path(sc.q, "\"a.b\"");
	t = add_path(sc.q, "t");
	f = add_path(sc.q, "f");
	n = add_path(sc.q, "n");
	nan = add_path(sc.q, "nan");
	inf = add_path(sc.q, "inf");
	ninf = add_path(sc.q, "ninf");
	s = add_path(sc.q, "s");
	o = add_path(sc.q, "o");
	arr = add_path(sc.q, "arr");
	assert_int_equal(json_query_slots(sc.q), 16);
	/* Asking again for a path gives its slot. */
	assert_int_equal(add_path(sc.q, "p[2][1]"), p21);
	assert_int_equal(add_path(sc.q, "\"p\"[2][1]"), p21);
	assert_int_equal(json_query_slots(sc.q), 16);

	scan_str(&sc, "{\"a\":{\"b\":{\"c\":42}},"
	    "\"p\":[0.1, 0.2 ,[3,4]],"
	    "\"features\":{\"sepal length (cm)\":5.1,\"x\":1},"
	    "\"a.b\":\"dotted\","
	    "\"t\":true,\"f\":false,\"n\":null,"
	    "\"nan\":NaN,\"inf\":Infinity,\"ninf\":-Infinity,"
	    "\"s\":\"h\\u00e9\\n\","
	    "\"o\":{ \"k\" : [1] },\"arr\":[ 1, 2 ]}");
	expect_slot(&sc, abc, JSON_NUMBER, "42");
	expect_slot(&sc, ab, JSON_OBJECT, "{\"c\":42}");
	expect_slot(&sc, p1, JSON_NUMBER, "0.2");
	expect_slot(&sc, p21, JSON_NUMBER, "4");
	expect_slot(&sc, p5, JSON_ABSENT, NULL);
	expect_slot(&sc, sepal, JSON_NUMBER, "5.1");
	expect_slot(&sc, dotted, JSON_STRING, "dotted");
	assert_false(sc.slots[dotted].escaped);
	expect_slot(&sc, t, JSON_TRUE, "true");
	expect_slot(&sc, f, JSON_FALSE, "false");
	expect_slot(&sc, n, JSON_NULL, "null");
	expect_slot(&sc, nan, JSON_NONFINITE, "NaN");
	expect_slot(&sc, inf, JSON_NONFINITE, "Infinity");
	expect_slot(&sc, ninf, JSON_NONFINITE, "-Infinity");
	/* A string's text runs between the quotes, escapes undecoded. */
	expect_slot(&sc, s, JSON_STRING, "h\\u00e9\\n");
	assert_true(sc.slots[s].escaped);
	expect_slot(&sc, o, JSON_OBJECT, "{ \"k\" : [1] }");
	expect_slot(&sc, arr, JSON_ARRAY, "[ 1, 2 ]");

	/* Slots are reset by every scan. */
	scan_str(&sc, "{\"t\":false}");
	expect_slot(&sc, t, JSON_FALSE, "false");
	expect_slot(&sc, abc, JSON_ABSENT, NULL);
	expect_slot(&sc, p1, JSON_ABSENT, NULL);
	expect_slot(&sc, s, JSON_ABSENT, NULL);

	/* Paths through values that are not the right container. */
	scan_str(&sc, "{\"a\":1,\"p\":{\"1\":5,\"2\":[0,1]},\"features\":[5.1]}");
	expect_slot(&sc, abc, JSON_ABSENT, NULL);
	expect_slot(&sc, ab, JSON_ABSENT, NULL);
	expect_slot(&sc, p1, JSON_ABSENT, NULL);
	expect_slot(&sc, p21, JSON_ABSENT, NULL);
	expect_slot(&sc, sepal, JSON_ABSENT, NULL);
	scan_str(&sc, "{\"a\":\"b\",\"p\":\"xyz\",\"features\":null}");
	expect_slot(&sc, ab, JSON_ABSENT, NULL);
	expect_slot(&sc, p1, JSON_ABSENT, NULL);
	expect_slot(&sc, sepal, JSON_ABSENT, NULL);
	scan_str(&sc, "{\"a\":[{\"b\":1}],\"p\":[1,[2,3]]}");
	expect_slot(&sc, ab, JSON_ABSENT, NULL);
	expect_slot(&sc, p1, JSON_ARRAY, "[2,3]");
	expect_slot(&sc, p21, JSON_ABSENT, NULL);
	/* Keys are exact: no prefix, case folding or trimming. */
	scan_str(&sc, "{\"T\":true,\"t \":true,\" t\":true,\"tt\":true}");
	expect_slot(&sc, t, JSON_ABSENT, NULL);
	scan_done(&sc);
}

static void
test_escaped_keys(void **state)
{
	struct scan sc = { 0 };
	int features, eacute, slash, quote, emoji, nl;

	(void)state;
	sc.q = json_query_create();
	features = add_path(sc.q, "features.x");
	eacute = add_path(sc.q, "\"caf\xc3\xa9\"");
	slash = add_path(sc.q, "\"a/b\"");
	quote = add_path(sc.q, "\"q\\\"\\\\\"");
	emoji = add_path(sc.q, "\"\xf0\x9f\x98\x80\"");
	nl = add_path(sc.q, "\"a\nb\"");

	/* Keys are matched after decoding, however they are written. */
	scan_str(&sc, "{\"fe\\u0061tures\":{\"\\u0078\":1},"
	    "\"caf\\u00e9\":2,\"a\\/b\":3,\"q\\\"\\\\\":4,"
	    "\"\\ud83d\\ude00\":5,\"a\\nb\":6}");
	expect_slot(&sc, features, JSON_NUMBER, "1");
	expect_slot(&sc, eacute, JSON_NUMBER, "2");
	expect_slot(&sc, slash, JSON_NUMBER, "3");
	expect_slot(&sc, quote, JSON_NUMBER, "4");
	expect_slot(&sc, emoji, JSON_NUMBER, "5");
	expect_slot(&sc, nl, JSON_NUMBER, "6");

	scan_str(&sc, "{\"features\":{\"x\":1},\"caf\xc3\xa9\":2,"
	    "\"a/b\":3,\"\xf0\x9f\x98\x80\":5}");
	expect_slot(&sc, features, JSON_NUMBER, "1");
	expect_slot(&sc, eacute, JSON_NUMBER, "2");
	expect_slot(&sc, slash, JSON_NUMBER, "3");
	expect_slot(&sc, emoji, JSON_NUMBER, "5");

	/* A key that does not decode matches nothing, and breaks nothing. */
	scan_str(&sc, "{\"caf\\ud800\":7,\"features\\u0000\":{\"x\":8}}");
	expect_slot(&sc, eacute, JSON_ABSENT, NULL);
	expect_slot(&sc, features, JSON_ABSENT, NULL);
	scan_done(&sc);
}

static void
test_duplicate_keys(void **state)
{
	struct scan sc = { 0 };
	int a, ab, ac, a0b, x;

	(void)state;
	sc.q = json_query_create();
	a = add_path(sc.q, "a");
	ab = add_path(sc.q, "a.b");
	ac = add_path(sc.q, "a.c");
	a0b = add_path(sc.q, "a[0].b");
	x = add_path(sc.q, "x");

	/* The last occurrence wins, as in Python and jansson. */
	scan_str(&sc, "{\"x\":1,\"x\":2}");
	expect_slot(&sc, x, JSON_NUMBER, "2");
	scan_str(&sc, "{\"x\":1,\"y\":0,\"\\u0078\":\"two\"}");
	expect_slot(&sc, x, JSON_STRING, "two");
	/* ...also for the values below a repeated parent. */
	scan_str(&sc, "{\"a\":{\"b\":1,\"c\":5},\"a\":{\"b\":2}}");
	expect_slot(&sc, ab, JSON_NUMBER, "2");
	expect_slot(&sc, ac, JSON_ABSENT, NULL);
	expect_slot(&sc, a, JSON_OBJECT, "{\"b\":2}");
	scan_str(&sc, "{\"a\":{\"b\":1},\"x\":0,\"a\":3}");
	expect_slot(&sc, ab, JSON_ABSENT, NULL);
	expect_slot(&sc, a, JSON_NUMBER, "3");
	scan_str(&sc, "{\"a\":{\"b\":1},\"a\":{}}");
	expect_slot(&sc, ab, JSON_ABSENT, NULL);
	scan_str(&sc, "{\"a\":{\"b\":1,\"b\":{\"z\":0}}}");
	expect_slot(&sc, ab, JSON_OBJECT, "{\"z\":0}");
	scan_str(&sc, "{\"a\":[{\"b\":1}],\"a\":[{\"c\":1}]}");
	expect_slot(&sc, a0b, JSON_ABSENT, NULL);
	scan_str(&sc, "{\"a\":[{\"b\":1}],\"a\":[{\"b\":9}]}");
	expect_slot(&sc, a0b, JSON_NUMBER, "9");
	/* A repeated parent inside a repeated parent. */
	scan_str(&sc, "{\"a\":{\"b\":1,\"c\":2},\"a\":{\"c\":3,\"b\":4,\"b\":{}},"
	    "\"x\":5}");
	expect_slot(&sc, ab, JSON_OBJECT, "{}");
	expect_slot(&sc, ac, JSON_NUMBER, "3");
	expect_slot(&sc, x, JSON_NUMBER, "5");
	/* An escaped spelling of the parent counts as a repeat. */
	scan_str(&sc, "{\"a\":{\"b\":1,\"c\":2},\"\\u0061\":{\"b\":3}}");
	expect_slot(&sc, ab, JSON_NUMBER, "3");
	expect_slot(&sc, ac, JSON_ABSENT, NULL);
	/* Nothing from one line is left over for the next. */
	scan_str(&sc, "{\"a\":{\"c\":1}}");
	expect_slot(&sc, ab, JSON_ABSENT, NULL);
	expect_slot(&sc, ac, JSON_NUMBER, "1");
	scan_str(&sc, "{\"a\":{\"b\":1}}");
	expect_slot(&sc, ab, JSON_NUMBER, "1");
	expect_slot(&sc, ac, JSON_ABSENT, NULL);
	scan_done(&sc);
}

static void
test_many_keys(void **state)
{
	struct scan sc = { 0 };
	struct buf line = BUF_INIT;
	char key[64];
	int slots[40], hit, miss;
	int i;

	(void)state;
	sc.q = json_query_create();
	for (i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		slots[i] = add_path(sc.q, key);
	}
	/* Same length, same first and last 8 bytes: only the middle differs. */
	hit = add_path(sc.q, "aaaaaaaa1aaaaaaaa");
	miss = add_path(sc.q, "aaaaaaaa3aaaaaaaa");
	buf_puts(&line, "{\"aaaaaaaa2aaaaaaaa\":1,\"aaaaaaaa1aaaaaaaa\":2");
	for (i = 39; i >= 0; i--)
		buf_printf(&line, ",\"key%d\":%d,\"kez%d\":-1", i, i, i);
	buf_puts(&line, "}");
	scan_str(&sc, line.data);
	expect_slot(&sc, hit, JSON_NUMBER, "2");
	expect_slot(&sc, miss, JSON_ABSENT, NULL);
	for (i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "%d", i);
		expect_slot(&sc, slots[i], JSON_NUMBER, key);
	}
	buf_free(&line);
	scan_done(&sc);
}

/*
 * Keys that differ in a single byte, at any offset, with lengths around 8
 * and 16 bytes, in random order over many lines scanned with one query:
 * whatever the scanner remembers from line to line must not confuse them.
 */
static void
test_similar_keys(void **state)
{
	static const int lens[] = { 1, 2, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33 };
	enum { NKEYS = 64, NQUERY = 16, NMEMBERS = 8 };
	char keys[NKEYS][40];
	int slot[NQUERY];
	struct scan sc = { 0 };
	struct buf line = BUF_INIT;
	char want[16];
	int i, n, k;

	(void)state;
	for (k = 0; k < NKEYS; k++) {
		int len = lens[rng_below(NELEM(lens))];

		memset(keys[k], 'k', (size_t)len);
		keys[k][len] = '\0';
		/* Every other key differs from the plain one in one byte. */
		if (k % 2)
			keys[k][rng_below((uint32_t)len)] = 'x';
	}
	sc.q = json_query_create();
	for (k = 0; k < NQUERY; k++) {
		char path[sizeof(keys[0]) + 2];

		path[0] = '"';
		memcpy(path + 1, keys[k], strlen(keys[k]));
		memcpy(path + 1 + strlen(keys[k]), "\"", 2);
		slot[k] = add_path(sc.q, path);
	}
	for (n = 0; n < 20000; n++) {
		int last[NQUERY], members = 1 + (int)rng_below(NMEMBERS);

		for (k = 0; k < NQUERY; k++)
			last[k] = -1;
		buf_reset(&line);
		buf_putc(&line, '{');
		for (i = 0; i < members; i++) {
			int key = (int)rng_below(NKEYS);

			buf_printf(&line, "%s\"%s\":%d", i ? "," : "", keys[key],
			    i);
			/* Equal spellings count as the same key. */
			for (k = 0; k < NQUERY; k++)
				if (strcmp(keys[k], keys[key]) == 0)
					last[k] = i;
		}
		buf_putc(&line, '}');
		scan_str(&sc, line.data);
		for (k = 0; k < NQUERY; k++) {
			if (last[k] < 0) {
				expect_slot(&sc, slot[k], JSON_ABSENT, NULL);
			} else {
				snprintf(want, sizeof(want), "%d", last[k]);
				expect_slot(&sc, slot[k], JSON_NUMBER, want);
			}
		}
	}
	buf_free(&line);
	scan_done(&sc);
}

/* The members one pass lists are what iterating the object gives: keys,
 * values, types and escapes, in order, with or without configured
 * children of the same object, and for the last of a repeated key. */
static void
check_members_like_iter(const char *text, const char *path,
    const char *child)
{
	struct scan sc;
	struct json_iter it;
	struct json_value k, v;
	const struct json_member *m;
	size_t n, i = 0;
	int slot;

	memset(&sc, 0, sizeof(sc));
	sc.q = json_query_create();
	if (child != NULL)
		add_path(sc.q, child);
	slot = add_path(sc.q, path);
	assert_int_equal(json_query_list_members(sc.q, slot), 0);
	scan_str(&sc, text);
	m = json_query_members(sc.q, &n, NULL);
	if (sc.slots[slot].type != JSON_OBJECT) {
		assert_int_equal(n, 0);      /* members of objects only */
		scan_done(&sc);
		return;
	}
	json_iter_init(&it, &sc.slots[slot]);
	while (json_iter_next(&it, &k, &v)) {
		if (i >= n)
			fail_msg("%s: %zu members listed, more iterated", text, n);
		assert_int_equal(m[i].key.len, k.len);
		assert_memory_equal(m[i].key.ptr, k.ptr, k.len);
		assert_int_equal(m[i].key.escaped, k.escaped);
		if (m[i].value.type != v.type || m[i].value.len != v.len ||
		    m[i].value.ptr != v.ptr || m[i].value.escaped != v.escaped)
			fail_msg("%s: member %zu: listed %s \"%.*s\" (%d), "
			    "iterated %s \"%.*s\" (%d)", text, i,
			    type_name(m[i].value.type), (int)m[i].value.len,
			    m[i].value.ptr, m[i].value.escaped, type_name(v.type),
			    (int)v.len, v.ptr, v.escaped);
		i++;
	}
	assert_int_equal(i, n);
	scan_done(&sc);
}

static void
test_members(void **state)
{
	static const char *const texts[] = {
		"{\"f\":{}}",
		"{\"f\":{\"a\":1,\"b\":\"x\",\"c\":true,\"d\":false,\"e\":null}}",
		"{\"f\" : { \"a\" : -1.5e3 , \"b\":[1,{\"z\":2}], \"c\":{\"y\":[]} } }",
		"{\"f\":{\"a\\\"q\":\"v\\n\",\"\\u00e9\":NaN,\"i\":Infinity,\"j\":-Infinity}}",
		"{\"f\":{\"a\":1},\"f\":{\"b\":2,\"c\":3}}",
		"{\"x\":1,\"f\":{\"age\":3,\"country\":\"DE\"},\"y\":[2]}",
		"{\"f\":[1,2]}",
		"{\"f\":\"not an object\"}",
		"{\"g\":{\"f\":{\"a\":1}},\"f\":{\"b\":0}}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(texts); i++) {
		check_members_like_iter(texts[i], "f", NULL);
		check_members_like_iter(texts[i], "f", "f.age");
		check_members_like_iter(texts[i], "f", "f.a");
	}
	check_members_like_iter("{\"o\":{\"f\":{\"k\":1,\"l\":\"m\"}}}",
	    "o.f", "o.f.k");
}

static void
test_deep_path(void **state)
{
	struct scan sc = { 0 };
	struct buf path = BUF_INIT, line = BUF_INIT;
	int i, slot;

	(void)state;
	sc.q = json_query_create();
	buf_puts(&path, "k");
	buf_puts(&line, "{\"k\":");
	for (i = 1; i < PATH_MAX_SEGMENTS; i++) {
		if (i % 2) {
			buf_puts(&path, "[1]");
			buf_puts(&line, "[0,");
		} else {
			buf_puts(&path, ".k");
			buf_puts(&line, "{\"j\":0,\"k\":");
		}
	}
	buf_puts(&line, "\"deep\"");
	for (i = PATH_MAX_SEGMENTS - 1; i >= 1; i--)
		buf_putc(&line, i % 2 ? ']' : '}');
	buf_putc(&line, '}');
	slot = add_path(sc.q, path.data);
	scan_str(&sc, line.data);
	expect_slot(&sc, slot, JSON_STRING, "deep");
	buf_free(&path);
	buf_free(&line);
	scan_done(&sc);
}

/* ------------------------------------------------------------ strings */

/* Scan {"s":"<body>"} and decode s. Returns json_string_decode()'s code. */
static int
decode_body(const char *body, size_t bodylen, struct buf *out)
{
	struct scan sc = { 0 };
	struct buf line = BUF_INIT;
	int slot, r;

	sc.q = json_query_create();
	slot = add_path(sc.q, "s");
	buf_puts(&line, "{\"s\":\"");
	buf_append(&line, body, bodylen);
	buf_puts(&line, "\"}");
	scan_len(&sc, line.data, line.len);
	if (sc.rc != 0)
		fail_msg("rejected: %s", unit_show(line.data, line.len));
	assert_int_equal(sc.slots[slot].type, JSON_STRING);
	assert_int_equal(sc.slots[slot].len, bodylen);
	buf_reset(out);
	r = json_string_decode(&sc.slots[slot], out);
	buf_free(&line);
	scan_done(&sc);
	return r;
}

#define expect_decode(body, want) \
	expect_decode_len((body), sizeof(body) - 1, (want), sizeof(want) - 1)

static void
expect_decode_len(const char *body, size_t bodylen, const char *want,
    size_t wantlen)
{
	struct buf out = BUF_INIT;
	int r = decode_body(body, bodylen, &out);

	if (r != 0)
		fail_msg("decoding \"%s\" failed: %d", unit_show(body, bodylen),
		    r);
	if (out.len != wantlen ||
	    memcmp(out.data ? out.data : "", want, wantlen) != 0)
		fail_msg("\"%s\" decodes to \"%s\", want \"%s\"",
		    unit_show(body, bodylen), unit_show(out.data, out.len),
		    unit_show(want, wantlen));
	buf_free(&out);
}

#define expect_ilseq(body) expect_ilseq_len((body), sizeof(body) - 1)

static void
expect_ilseq_len(const char *body, size_t bodylen)
{
	struct buf out = BUF_INIT;
	int r = decode_body(body, bodylen, &out);

	if (r != -EILSEQ)
		fail_msg("\"%s\" decodes with %d to \"%s\", want -EILSEQ",
		    unit_show(body, bodylen), r, unit_show(out.data, out.len));
	buf_free(&out);
}

static void
test_string_decode(void **state)
{
	struct json_value v;
	struct buf out = BUF_INIT;

	(void)state;
	expect_decode("", "");
	expect_decode("abc", "abc");
	expect_decode("\\\"\\\\\\/\\b\\f\\n\\r\\t", "\"\\/\b\f\n\r\t");
	expect_decode("\\u0041\\u007a\\u007F", "Az\x7f");
	expect_decode("\\u0001\\u001f", "\x01\x1f");
	expect_decode("\\u00e9\\u00E9", "\xc3\xa9\xc3\xa9");
	expect_decode("\\u0080\\u07ff", "\xc2\x80\xdf\xbf");
	expect_decode("\\u0800\\u20ac\\ud7ff", "\xe0\xa0\x80\xe2\x82\xac\xed\x9f\xbf");
	expect_decode("\\ue000\\uffff", "\xee\x80\x80\xef\xbf\xbf");
	/* Surrogate pairs become one 4-byte sequence. */
	expect_decode("\\ud83d\\ude00", "\xf0\x9f\x98\x80");
	expect_decode("\\uD83D\\uDE00", "\xf0\x9f\x98\x80");
	expect_decode("\\ud800\\udc00", "\xf0\x90\x80\x80");
	expect_decode("\\udbff\\udfff", "\xf4\x8f\xbf\xbf");
	expect_decode("x\\ud83d\\ude00y\\u00e9", "x\xf0\x9f\x98\x80y\xc3\xa9");
	/* Raw UTF-8 is kept as it is, at every boundary of RFC 3629. */
	expect_decode("\xc2\x80\xdf\xbf", "\xc2\x80\xdf\xbf");
	expect_decode("\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf",
	    "\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf");
	expect_decode("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
	    "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");
	expect_decode("\x7f", "\x7f");
	expect_decode("caf\xc3\xa9\\n", "caf\xc3\xa9\n");

	/* Escapes that cannot be a label's text. */
	expect_ilseq("\\u0000");
	expect_ilseq("a\\u0000b");
	expect_ilseq("\\ud800");
	expect_ilseq("\\ud800x");
	expect_ilseq("\\ud800\\u0041");
	expect_ilseq("\\ud800\\ud800");
	expect_ilseq("\\ud800\\n");
	expect_ilseq("\\udbff");
	expect_ilseq("\\udc00");
	expect_ilseq("\\udfff\\ud800");
	expect_ilseq("x\\ude00");
	/* Bytes that are not UTF-8. */
	expect_ilseq("\x80");
	expect_ilseq("\xbf");
	expect_ilseq("a\x80" "b");
	expect_ilseq("\xc0\x80");            /* overlong NUL */
	expect_ilseq("\xc1\xbf");            /* overlong */
	expect_ilseq("\xe0\x80\x80");        /* overlong */
	expect_ilseq("\xe0\x9f\xbf");        /* overlong */
	expect_ilseq("\xf0\x80\x80\x80");    /* overlong */
	expect_ilseq("\xf0\x8f\xbf\xbf");    /* overlong */
	expect_ilseq("\xed\xa0\x80");        /* U+D800 */
	expect_ilseq("\xed\xbf\xbf");        /* U+DFFF */
	expect_ilseq("\xed\xa0\xbd\xed\xb8\x80");   /* CESU-8 pair */
	expect_ilseq("\xf4\x90\x80\x80");    /* U+110000 */
	expect_ilseq("\xf5\x80\x80\x80");
	expect_ilseq("\xf7\xbf\xbf\xbf");
	expect_ilseq("\xf8\x88\x80\x80\x80");
	expect_ilseq("\xfe");
	expect_ilseq("\xff");
	expect_ilseq("\xc2");                /* truncated at the end */
	expect_ilseq("\xe2\x82");
	expect_ilseq("\xf0\x9f\x98");
	expect_ilseq("\xc2\\n");             /* truncated before an escape */
	expect_ilseq("\xe2\x82\\u00e9");
	expect_ilseq("\xc2" "A");            /* bad continuation */
	expect_ilseq("\xe2\x28\xa1");
	expect_ilseq("\xe2\x82\x28");
	expect_ilseq("\xf0\x9f\x28\x80");
	expect_ilseq("\xf0\x9f\x98\x28");

	/* Only strings decode; decoding appends. */
	memset(&v, 0, sizeof(v));
	v.type = JSON_NUMBER;
	v.ptr = "1";
	v.len = 1;
	assert_int_equal(json_string_decode(&v, &out), -EINVAL);
	v.type = JSON_STRING;
	v.ptr = "b\\u00e9";
	v.len = 7;
	v.escaped = 1;
	buf_puts(&out, "a");
	assert_int_equal(json_string_decode(&v, &out), 0);
	assert_int_equal(out.len, 4);
	assert_memory_equal(out.data, "ab\xc3\xa9", 5);
	buf_free(&out);
}

/* Pieces placed around the 16-byte blocks of the SSE2 string loop:
 * their JSON spelling and decoded bytes. */
static const struct {
	const char *json, *text;
} pieces[] = {
	{ "\\\"", "\"" }, { "\\\\", "\\" }, { "\\/", "/" }, { "\\n", "\n" },
	{ "\\t", "\t" }, { "\\u0041", "A" }, { "\\u00e9", "\xc3\xa9" },
	{ "\\u20ac", "\xe2\x82\xac" }, { "\\ud83d\\ude00", "\xf0\x9f\x98\x80" },
	{ "\xc3\xa9", "\xc3\xa9" }, { "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },
	{ "\x7f", "\x7f" }, { "\\\\\\\"", "\\\"" },
};

static void
test_simd_boundaries(void **state)
{
	struct scan sc = { 0 };
	struct buf line = BUF_INIT, want = BUF_INIT, out = BUF_INIT;
	struct buf key = BUF_INIT;
	size_t pre, post, k;
	int s, kslot;

	(void)state;
	for (k = 0; k < NELEM(pieces); k++) {
		for (pre = 0; pre <= 40; pre++) {
			for (post = 0; post <= 34; post += (post < 18 ? 1 : 8)) {
				sc.q = json_query_create();
				s = add_path(sc.q, "s");
				/* The same piece in a key, looked up by path. */
				buf_reset(&key);
				buf_putc(&key, '"');
				for (size_t i = 0; i < pre; i++)
					buf_putc(&key, 'k');
				for (const char *t = pieces[k].text; *t; t++) {
					if (*t == '"' || *t == '\\')
						buf_putc(&key, '\\');
					buf_putc(&key, *t);
				}
				buf_puts(&key, "\"[0]");
				kslot = add_path(sc.q, key.data);

				buf_reset(&line);
				buf_reset(&want);
				buf_puts(&line, "{\"s\":\"");
				for (size_t i = 0; i < pre; i++) {
					buf_putc(&line, (char)('a' + i % 26));
					buf_putc(&want, (char)('a' + i % 26));
				}
				buf_puts(&line, pieces[k].json);
				buf_puts(&want, pieces[k].text);
				for (size_t i = 0; i < post; i++) {
					buf_putc(&line, (char)('A' + i % 26));
					buf_putc(&want, (char)('A' + i % 26));
				}
				buf_puts(&line, "\",\"");
				for (size_t i = 0; i < pre; i++)
					buf_putc(&line, 'k');
				buf_puts(&line, pieces[k].json);
				buf_puts(&line, "\":[\"v\"]}");

				scan_len(&sc, line.data, line.len);
				if (sc.rc != 0)
					fail_msg("rejected: %s",
					    unit_show(line.data, line.len));
				assert_int_equal(sc.slots[s].type, JSON_STRING);
				expect_slot(&sc, kslot, JSON_STRING, "v");
				buf_reset(&out);
				if (json_string_decode(&sc.slots[s], &out) != 0 ||
				    out.len != want.len ||
				    memcmp(out.data, want.data, want.len) != 0)
					fail_msg("%s: decoded \"%s\", want \"%s\"",
					    unit_show(line.data, line.len),
					    unit_show(out.data, out.len),
					    unit_show(want.data, want.len));
				json_query_destroy(sc.q);
				sc.q = NULL;
			}
		}
	}

	/* A control character, an unterminated string, a cut escape: at
	 * every offset, and with the text ending right there. */
	for (pre = 0; pre <= 40; pre++) {
		static const char *const bad[] = {
			"\x01", "\x1f", "\n", "\t", "\\x", "\\u12\"", "\\", "\\u",
			"\\u00", "\\u004",
		};

		for (k = 0; k < NELEM(bad); k++) {
			for (int tail = 0; tail < 2; tail++) {
				buf_reset(&line);
				buf_puts(&line, "{\"s\":\"");
				for (size_t i = 0; i < pre; i++)
					buf_putc(&line, 'x');
				buf_puts(&line, bad[k]);
				if (tail)
					buf_puts(&line, "yyyyyyyyyyyyyyyyyyyy\"}");
				check_line(line.data, line.len, 0);
			}
		}
		buf_reset(&line);
		buf_puts(&line, "{\"s\":\"");
		for (size_t i = 0; i < pre; i++)
			buf_putc(&line, 'x');
		check_line(line.data, line.len, 0);
		buf_puts(&line, "\"}");
		check_line(line.data, line.len, 1);
	}
	free(sc.text);
	buf_free(&line);
	buf_free(&want);
	buf_free(&out);
	buf_free(&key);
}

/* A random code point that is a valid, non-NUL Unicode scalar value. */
static uint32_t
random_scalar(void)
{
	uint32_t cp;

	switch (rng_below(4)) {
	case 0:
		return 1 + rng_below(0x7f);
	case 1:
		return 0x80 + rng_below(0x800 - 0x80);
	case 2:
		do
			cp = 0x800 + rng_below(0x10000 - 0x800);
		while (cp >= 0xd800 && cp <= 0xdfff);
		return cp;
	default:
		return 0x10000 + rng_below(0x110000 - 0x10000);
	}
}

static void
test_string_random(void **state)
{
	struct buf body = BUF_INIT, want = BUF_INIT, out = BUF_INIT;
	int n, i, len;

	(void)state;
	for (n = 0; n < 20000; n++) {
		buf_reset(&body);
		buf_reset(&want);
		len = (int)rng_below(40);
		for (i = 0; i < len; i++) {
			uint32_t cp = random_scalar();
			int how = (int)rng_below(3);

			utf8_put(&want, cp);
			if ((cp == '"' || cp == '\\' || cp < 0x20) && how == 0)
				how = 1;
			if (how == 0) {
				utf8_put(&body, cp);
			} else if (cp >= 0x10000) {
				uint32_t v = cp - 0x10000;

				buf_printf(&body, rng_below(2) ? "\\u%04x\\u%04x" :
				    "\\u%04X\\u%04X", 0xd800 + (v >> 10),
				    0xdc00 + (v & 0x3ff));
			} else if (how == 2 && (cp == '"' || cp == '\\' ||
			    cp == '\n' || cp == '\t')) {
				buf_putc(&body, '\\');
				buf_putc(&body, cp == '\n' ? 'n' : cp == '\t' ? 't' :
				    (char)cp);
			} else {
				buf_printf(&body, rng_below(2) ? "\\u%04x" : "\\u%04X",
				    cp);
			}
		}
		if (decode_body(body.data ? body.data : "", body.len, &out) != 0 ||
		    out.len != want.len || memcmp(out.data ? out.data : "",
		    want.data ? want.data : "", want.len) != 0)
			fail_msg("\"%s\" decoded to \"%s\", want \"%s\"",
			    unit_show(body.data, body.len),
			    unit_show(out.data, out.len),
			    unit_show(want.data, want.len));
	}
	buf_free(&body);
	buf_free(&want);
	buf_free(&out);
}

/* ------------------------------------------------------------ numbers */

/* json_number() and json_parse_double() against strtod(), bit for bit. */
static void
expect_number(const char *text)
{
	struct json_value v;
	double want, got, direct;
	char *copy;
	size_t len = strlen(text);

	want = strtod(text, NULL);
	copy = exact_copy(text, len);
	memset(&v, 0, sizeof(v));
	v.type = JSON_NUMBER;
	v.ptr = copy;
	v.len = len;
	assert_int_equal(json_number(&v, &got), 0);
	direct = json_parse_double(copy, len);
	free(copy);
	if (memcmp(&got, &want, sizeof(got)) != 0)
		fail_msg("json_number(%s) = %.17g (%a), strtod: %.17g (%a)",
		    text, got, got, want, want);
	if (memcmp(&direct, &want, sizeof(direct)) != 0)
		fail_msg("json_parse_double(%s) = %.17g (%a), strtod: %.17g (%a)",
		    text, direct, direct, want, want);
}

static void
test_number_edges(void **state)
{
	static const char *const numbers[] = {
		"0", "-0", "0.0", "-0.0", "0e0", "-0e-5", "0.000", "0e99999999999",
		"-0e-99999999999",
		"1", "-1", "0.5", "0.5e-3", "1E+2", "1e2", "123.456", "-1.5E-10",
		/* Clinger's fast path at its edges. */
		"9007199254740992", "9007199254740993", "9007199254740991e22",
		"18014398509481985", "18014398509481986", "18014398509481990",
		"90071992547409930e-1", "9007199254740993e5", "9223372036854775807e-27",
		"1000000000000000000e27", "9999999999999999999e-27",
		"9007199254740992e22", "9007199254740993e22", "1e22", "1e23",
		"1e-22", "1e-23", "4503599627370497.5", "0.1", "0.3",
		"123456789012345e-22", "8.98846567431158e307",
		/* 19 and 20 significant digits. */
		"1234567890123456789", "12345678901234567890", "9999999999999999999",
		"18446744073709551615", "18446744073709551616",
		"-9223372036854775808", "9223372036854775807",
		"0.1234567890123456789", "0.12345678901234567890",
		"1.0000000000000000000", "100000000000000000000000",
		"0.000000000000000000000000000001",
		"0.0000000000000000000001234567890123456789",
		/* Halfway cases that need more than a double's digits. */
		"9007199254740993.0000000000000000001",
		"2.2250738585072011e-308", "2.2250738585072012e-308",
		"2.2250738585072014e-308", "7.2057594037927933e16",
		"1.7976931348623157e308", "1.7976931348623158e308",
		"1.7976931348623159e308", "-1.7976931348623159e308",
		/* Subnormals, underflow, overflow. */
		"4.9406564584124654e-324", "2.4703282292062327e-324",
		"2.4703282292062328e-324", "5e-324", "3e-324", "1e-323",
		"1e-400", "-1e-400", "1e-99999", "1e400", "-1e400", "1e99999",
		"1e99999999999999999999", "1e-99999999999999999999",
		"1e0000000000000000000000000001", "1.5e+0000000000000000000000000000",
		"0.00000000000000000000000000000000000000000000001e50",
		"123456789e-330", "1234567890123456789012345678901234567890e-360",
	};
	struct json_value v;
	double d;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(numbers); i++)
		expect_number(numbers[i]);

	/* Python's non-finite numbers. */
	memset(&v, 0, sizeof(v));
	v.type = JSON_NONFINITE;
	v.ptr = "NaN";
	v.len = 3;
	assert_int_equal(json_number(&v, &d), 0);
	assert_true(isnan(d));
	v.ptr = "Infinity";
	v.len = 8;
	assert_int_equal(json_number(&v, &d), 0);
	assert_true(isinf(d) && d > 0);
	v.ptr = "-Infinity";
	v.len = 9;
	assert_int_equal(json_number(&v, &d), 0);
	assert_true(isinf(d) && d < 0);
	/* Other types are not numbers. */
	v.type = JSON_STRING;
	v.ptr = "1";
	v.len = 1;
	assert_int_equal(json_number(&v, &d), -EINVAL);
	v.type = JSON_TRUE;
	v.ptr = "true";
	v.len = 4;
	assert_int_equal(json_number(&v, &d), -EINVAL);
	v.type = JSON_ABSENT;
	assert_int_equal(json_number(&v, &d), -EINVAL);
}

static void
put_digits(struct buf *b, int n, int nonzero_first)
{
	int i;

	for (i = 0; i < n; i++)
		buf_putc(b, (char)('0' + (i == 0 && nonzero_first ?
		    1 + rng_below(9) : rng_below(10))));
}

/* A random JSON number in one of several shapes. */
static void
random_number(struct buf *b)
{
	int shape = (int)rng_below(7), intdigits, fracdigits, exp;

	buf_reset(b);
	if (rng_below(4) == 0)
		buf_putc(b, '-');
	switch (shape) {
	case 0:         /* the fast path: <= 15 digits, |exp| <= 22 */
		intdigits = (int)rng_below(9);
		fracdigits = (int)rng_below(7);
		exp = (int)rng_below(31) - 15;
		break;
	case 1:         /* 19 or 20 significant digits */
		intdigits = 19 + (int)rng_below(2);
		fracdigits = 0;
		exp = rng_below(2) ? (int)rng_below(41) - 20 : 0;
		if (rng_below(2)) {
			fracdigits = intdigits - 1;
			intdigits = 1;
		}
		break;
	case 2:         /* long mantissas */
		intdigits = (int)rng_below(30);
		fracdigits = (int)rng_below(30);
		exp = (int)rng_below(100) - 50;
		break;
	case 3:         /* subnormals and underflow */
		intdigits = 1 + (int)rng_below(3);
		fracdigits = (int)rng_below(20);
		exp = -300 - (int)rng_below(40);
		break;
	case 4:         /* near and past overflow */
		intdigits = 1 + (int)rng_below(3);
		fracdigits = (int)rng_below(20);
		exp = 300 + (int)rng_below(15);
		break;
	case 5:         /* 16 to 19 digits, |exp| <= 30: the widest fast paths */
		intdigits = 16 + (int)rng_below(4);
		fracdigits = 0;
		if (rng_below(2)) {
			fracdigits = (int)rng_below((uint32_t)intdigits);
			intdigits -= fracdigits;
		}
		exp = (int)rng_below(61) - 30;
		break;
	default:        /* anything */
		intdigits = (int)rng_below(25);
		fracdigits = (int)rng_below(25);
		exp = (int)rng_below(800) - 400;
		break;
	}
	if (intdigits == 0)
		buf_putc(b, '0');
	else
		put_digits(b, intdigits, 1);
	if (fracdigits > 0) {
		buf_putc(b, '.');
		put_digits(b, fracdigits, 0);
	}
	if (exp != 0 || rng_below(4) == 0) {
		buf_putc(b, rng_below(2) ? 'e' : 'E');
		if (exp < 0)
			buf_putc(b, '-');
		else if (rng_below(2))
			buf_putc(b, '+');
		buf_printf(b, "%0*d", 1 + (int)rng_below(3), exp < 0 ? -exp : exp);
	}
}

static void
test_number_random(void **state)
{
	struct buf b = BUF_INIT;
	int i;

	(void)state;
	for (i = 0; i < 300000; i++) {
		random_number(&b);
		expect_number(b.data);
	}
	/* Round trips of random doubles, printed with 17 digits. */
	for (i = 0; i < 100000; i++) {
		uint64_t bits = rng();
		double d;

		memcpy(&d, &bits, sizeof(d));
		if (!isfinite(d))
			continue;
		buf_reset(&b);
		buf_printf(&b, "%.17g", d);
		expect_number(b.data);
	}
	buf_free(&b);
}

/*
 * Decimals exactly halfway between two adjacent doubles, and their
 * neighbours one unit in the last digit away: where a conversion that
 * rounds twice (through a wider format) goes wrong.  Doubles in
 * [2^50, 2^63) have midpoints of at most 19 significant digits.
 */
static void
test_number_midpoints(void **state)
{
	struct buf b = BUF_INIT;
	int i, d;

	(void)state;
	for (i = 0; i < 100000; i++) {
		int e = 50 + (int)rng_below(13);        /* v in [2^e, 2^(e+1)) */
		uint64_t k = rng() & ((1ULL << 52) - 1);
		uint64_t n = (1ULL << 53) + 2 * k + 1;  /* midpoint / 2^(e-53) */
		uint64_t digits;
		int exp10;

		if (e >= 53) {
			digits = n << (e - 53);
			exp10 = 0;
		} else {
			/* n / 2^f = n * 5^f / 10^f */
			int f = 53 - e;

			digits = n;
			for (int j = 0; j < f; j++)
				digits *= 5;
			exp10 = -f;
		}
		for (d = -1; d <= 1; d++) {
			buf_reset(&b);
			buf_printf(&b, "%s%llu", rng_below(2) ? "-" : "",
			    (unsigned long long)(digits + (uint64_t)(int64_t)d));
			if (exp10 != 0)
				buf_printf(&b, "e%d", exp10);
			expect_number(b.data);
		}
		/* The same value with its trailing zeros in the exponent. */
		if (digits % 10 == 0) {
			uint64_t t = digits;
			int z = 0;

			while (t % 10 == 0) {
				t /= 10;
				z++;
			}
			buf_reset(&b);
			buf_printf(&b, "%llue%d", (unsigned long long)t, exp10 + z);
			expect_number(b.data);
		}
	}
	buf_free(&b);
}

/* ---------------------------------------------------------- iteration */

struct member {
	const char *key;        /* raw key text, NULL in arrays */
	enum json_type type;
	const char *value;      /* raw value text */
};

static void
expect_members(const struct json_value *container, const struct member *want,
    size_t n)
{
	struct json_iter it;
	struct json_value key, value;
	size_t i = 0;

	json_iter_init(&it, container);
	while (json_iter_next(&it, &key, &value)) {
		if (i >= n)
			fail_msg("member %zu beyond the %zu expected", i, n);
		if (want[i].key == NULL) {
			if (key.type != JSON_ABSENT)
				fail_msg("element %zu has a key", i);
		} else if (key.type != JSON_STRING ||
		    key.len != strlen(want[i].key) ||
		    memcmp(key.ptr, want[i].key, key.len) != 0) {
			fail_msg("member %zu key \"%s\", want \"%s\"", i,
			    unit_show(key.ptr, key.len), want[i].key);
		}
		if (value.type != want[i].type || value.len != strlen(want[i].value) ||
		    memcmp(value.ptr, want[i].value, value.len) != 0)
			fail_msg("member %zu is %s \"%s\", want %s \"%s\"", i,
			    type_name(value.type), unit_show(value.ptr, value.len),
			    type_name(want[i].type), want[i].value);
		i++;
	}
	if (i != n)
		fail_msg("%zu members, want %zu", i, n);
	/* The end stays the end. */
	assert_int_equal(json_iter_next(&it, &key, &value), 0);
}

static void
test_iter(void **state)
{
	static const struct member obj[] = {
		{ "a", JSON_NUMBER, "1" },
		{ "b", JSON_ARRAY, "[1, 2]" },
		{ "c", JSON_OBJECT, "{\"d\":\"e\",\"f\":{}}" },
		{ "\\u0066", JSON_STRING, "x\\\"y" },
		{ "", JSON_NULL, "null" },
		{ "a", JSON_NONFINITE, "-Infinity" },
	};
	static const struct member arr[] = {
		{ NULL, JSON_NUMBER, "-1.5e3" },
		{ NULL, JSON_STRING, "two" },
		{ NULL, JSON_ARRAY, "[3,[]]" },
		{ NULL, JSON_OBJECT, "{\"four\":4}" },
		{ NULL, JSON_NULL, "null" },
		{ NULL, JSON_TRUE, "true" },
		{ NULL, JSON_FALSE, "false" },
		{ NULL, JSON_NONFINITE, "NaN" },
	};
	static const struct member inner[] = {
		{ "d", JSON_STRING, "e" },
		{ "f", JSON_OBJECT, "{}" },
	};
	struct scan sc = { 0 };
	struct json_iter it;
	struct json_value key, value;
	int o, a, e1, e2, n, s;

	(void)state;
	sc.q = json_query_create();
	o = add_path(sc.q, "o");
	a = add_path(sc.q, "a");
	e1 = add_path(sc.q, "e1");
	e2 = add_path(sc.q, "e2");
	n = add_path(sc.q, "n");
	s = add_path(sc.q, "s");
	scan_str(&sc, "{\"o\":{ \"a\" : 1 ,\"b\":[1, 2],\n"
	    "\"c\":{\"d\":\"e\",\"f\":{}},\"\\u0066\":\"x\\\"y\",\"\":null,"
	    "\"a\":-Infinity } , \"a\":[-1.5e3,\"two\" ,[3,[]], {\"four\":4},"
	    "null,true,false,NaN],\"e1\":{ },\"e2\":[\t],\"n\":5,\"s\":\"[1]\"}");
	expect_members(&sc.slots[o], obj, NELEM(obj));
	expect_members(&sc.slots[a], arr, NELEM(arr));
	expect_members(&sc.slots[e1], NULL, 0);
	expect_members(&sc.slots[e2], NULL, 0);
	/* Scalars have no members. */
	expect_members(&sc.slots[n], NULL, 0);
	expect_members(&sc.slots[s], NULL, 0);

	/* Iterating a member found by iterating. */
	json_iter_init(&it, &sc.slots[o]);
	assert_true(json_iter_next(&it, &key, &value));
	assert_true(json_iter_next(&it, &key, &value));
	assert_true(json_iter_next(&it, &key, &value));
	assert_int_equal(value.type, JSON_OBJECT);
	expect_members(&value, inner, NELEM(inner));
	assert_true(json_iter_next(&it, &key, &value));
	assert_true(key.escaped);
	assert_true(value.escaped);
	scan_done(&sc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_reject),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_extract),
		cmocka_unit_test(test_escaped_keys),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_similar_keys),
		cmocka_unit_test(test_deep_path),
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_string_decode),
		cmocka_unit_test(test_simd_boundaries),
		cmocka_unit_test(test_string_random),
		cmocka_unit_test(test_number_edges),
		cmocka_unit_test(test_number_random),
		cmocka_unit_test(test_number_midpoints),
		cmocka_unit_test(test_iter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
