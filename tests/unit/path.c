/*
 * Unit tests for path.c: the field path grammar of driftd.conf(5), the
 * canonical spelling used in labels, and path equality.
 */
#include "config.h"

#include "unit.h"

#include <errno.h>
#include <stdlib.h>

#include "buf.h"
#include "path.h"

/* One expected segment: a key (with explicit length, as keys may hold any
 * byte) or an array index. */
struct seg {
	int is_index;
	uint32_t index;
	const char *key;
	size_t keylen;
};

#define K(s)   { 0, 0, (s), sizeof(s) - 1 }
#define I(n)   { 1, (n), NULL, 0 }
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
check_segs(const char *input, size_t len, const struct path *p,
    const struct seg *want, size_t nwant)
{
	size_t i;

	if (p->nsegs != nwant)
		fail_msg("%s: %zu segments, want %zu", unit_show(input, len),
		    p->nsegs, nwant);
	for (i = 0; i < nwant; i++) {
		const struct path_seg *got = &p->segs[i];

		if (got->is_index != want[i].is_index)
			fail_msg("%s: segment %zu is_index = %d, want %d",
			    unit_show(input, len), i, got->is_index,
			    want[i].is_index);
		if (want[i].is_index) {
			if (got->index != want[i].index)
				fail_msg("%s: segment %zu index = %u, want %u",
				    unit_show(input, len), i, got->index,
				    want[i].index);
			continue;
		}
		if (got->keylen != want[i].keylen ||
		    memcmp(got->key, want[i].key, want[i].keylen) != 0)
			fail_msg("%s: segment %zu key = \"%s\", want \"%s\"",
			    unit_show(input, len), i, unit_show(got->key, got->keylen),
			    unit_show(want[i].key, want[i].keylen));
		/* Keys are NUL-terminated for the C string functions. */
		assert_int_equal(got->key[got->keylen], '\0');
	}
}

/* Parse `len` bytes, check segments and canonical text, and check that
 * the canonical text parses back to an equal path with the same text. */
static void
expect_ok_len(const char *input, size_t len, const char *text,
    const struct seg *want, size_t nwant)
{
	struct path p, again;
	const char *err = "unset";
	int r;

	r = path_parse(input, len, &p, &err);
	if (r != 0)
		fail_msg("%s: rejected (%d): %s", unit_show(input, len), r,
		    err ? err : "(null)");
	check_segs(input, len, &p, want, nwant);
	assert_non_null(p.text);
	assert_string_equal(p.text, text);

	r = path_parse(p.text, strlen(p.text), &again, &err);
	if (r != 0)
		fail_msg("canonical %s does not parse: %s", p.text, err);
	if (!path_equal(&p, &again))
		fail_msg("canonical %s of %s addresses another value", p.text,
		    unit_show(input, len));
	assert_string_equal(again.text, p.text);
	path_free(&again);
	path_free(&p);
}

#define expect_ok(input, text, segs) \
	expect_ok_len((input), strlen(input), (text), (segs), NELEM(segs))

static void
expect_bad_len(const char *input, size_t len)
{
	struct path p;
	const char *err = NULL;
	int r;

	r = path_parse(input, len, &p, &err);
	if (r == 0) {
		fail_msg("%s: accepted as %s", unit_show(input, len), p.text);
		path_free(&p);
	}
	if (r != -EINVAL)
		fail_msg("%s: returned %d, want -EINVAL", unit_show(input, len),
		    r);
	if (err == NULL || err[0] == '\0')
		fail_msg("%s: rejected without a message",
		    unit_show(input, len));
}

#define expect_bad(input) expect_bad_len((input), strlen(input))

static void
test_valid(void **state)
{
	static const struct seg a[] = { K("a") };
	static const struct seg abc[] = { K("a"), K("b"), K("c") };
	static const struct seg prob[] = { K("probabilities"), I(0) };
	static const struct seg a12b[] = { K("a"), I(1), I(2), K("b") };
	static const struct seg sepal[] = { K("features"), K("sepal length (cm)") };
	static const struct seg dotted[] = { K("a.b") };
	static const struct seg quote[] = { K("say \"hi\""), K("x") };
	static const struct seg bslash[] = { K("back\\slash") };
	static const struct seg both[] = { K("\"\\\""), I(3) };
	static const struct seg plainq[] = { K("features"), K("x") };
	static const struct seg empty[] = { K("") };
	static const struct seg emptymid[] = { K("a"), K(""), K("b") };
	static const struct seg utf8[] = { K("features"), K("gr\xc3\xb6\xc3\x9f" "e") };
	static const struct seg utf8q[] = { K("\xe2\x82\xac"), K("\xf0\x9f\x98\x80") };
	static const struct seg bare[] = { K("a-b_C9"), K("0"), K("-") };
	static const struct seg colon[] = { K("a"), K("b:c(d)/e") };
	static const struct seg qidx[] = { K("p"), I(0), K("q r"), I(1) };
	static const struct seg lead0[] = { K("a"), I(7) };
	static const struct seg maxidx[] = { K("a"), I(PATH_MAX_INDEX) };

	(void)state;
	expect_ok("a", "a", a);
	expect_ok("a.b.c", "a.b.c", abc);
	expect_ok("probabilities[0]", "probabilities[0]", prob);
	expect_ok("a[1][2].b", "a[1][2].b", a12b);
	expect_ok("features.\"sepal length (cm)\"", "features.\"sepal length (cm)\"",
	    sepal);
	expect_ok("\"a.b\"", "\"a.b\"", dotted);
	expect_ok("\"say \\\"hi\\\"\".x", "\"say \\\"hi\\\"\".x", quote);
	expect_ok("\"back\\\\slash\"", "\"back\\\\slash\"", bslash);
	expect_ok("\"\\\"\\\\\\\"\"[3]", "\"\\\"\\\\\\\"\"[3]", both);
	/* Quotes that are not needed are dropped from the canonical text. */
	expect_ok("features.\"x\"", "features.x", plainq);
	expect_ok("\"features\".x", "features.x", plainq);
	expect_ok("\"\"", "\"\"", empty);
	expect_ok("a.\"\".b", "a.\"\".b", emptymid);
	/* Bytes of UTF-8 are name bytes; the canonical text quotes them. */
	expect_ok("features.gr\xc3\xb6\xc3\x9f" "e", "features.\"gr\xc3\xb6\xc3\x9f" "e\"",
	    utf8);
	expect_ok("\"\xe2\x82\xac\".\xf0\x9f\x98\x80",
	    "\"\xe2\x82\xac\".\"\xf0\x9f\x98\x80\"", utf8q);
	expect_ok("a-b_C9.0.-", "a-b_C9.0.-", bare);
	expect_ok("a.b:c(d)/e", "a.\"b:c(d)/e\"", colon);
	expect_ok("p[0].\"q r\"[1]", "p[0].\"q r\"[1]", qidx);
	expect_ok("a[007]", "a[7]", lead0);
	expect_ok("a[1000000]", "a[1000000]", maxidx);
}

/* A quoted key may hold any byte, NUL included. */
static void
test_nul_in_key(void **state)
{
	static const struct seg nul[] = { K("a\0b"), K("c") };
	struct path p;
	const char *err;

	(void)state;
	assert_int_equal(path_parse("\"a\0b\".c", 7, &p, &err), 0);
	check_segs("\"a\0b\".c", 7, &p, nul, NELEM(nul));
	path_free(&p);
}

static void
test_segment_limit(void **state)
{
	struct seg want[PATH_MAX_SEGMENTS];
	struct buf b = BUF_INIT, canon = BUF_INIT;
	size_t i;

	(void)state;
	/* Exactly PATH_MAX_SEGMENTS keys. */
	for (i = 0; i < PATH_MAX_SEGMENTS; i++) {
		buf_puts(&b, i ? ".k" : "k");
		want[i] = (struct seg){ 0, 0, "k", 1 };
	}
	expect_ok_len(b.data, b.len, b.data, want, PATH_MAX_SEGMENTS);
	/* One more, as a key or as an index, is too many. */
	buf_puts(&canon, b.data);
	buf_puts(&b, ".k");
	expect_bad_len(b.data, b.len);
	buf_puts(&canon, "[0]");
	expect_bad_len(canon.data, canon.len);

	/* Indexes count as segments too. */
	buf_reset(&b);
	buf_puts(&b, "a");
	want[0] = (struct seg){ 0, 0, "a", 1 };
	for (i = 1; i < PATH_MAX_SEGMENTS; i++) {
		buf_printf(&b, "[%zu]", i);
		want[i] = (struct seg){ 1, (uint32_t)i, NULL, 0 };
	}
	expect_ok_len(b.data, b.len, b.data, want, PATH_MAX_SEGMENTS);
	buf_puts(&b, "[0]");
	expect_bad_len(b.data, b.len);
	buf_free(&b);
	buf_free(&canon);
}

static void
test_invalid(void **state)
{
	static const char *const bad[] = {
		".a", "a.", "a..b", "a[", "a[x]", "a[]", "a[0", "a[-1]",
		"a[1.5]", "a[ 1]", "a[1000001]", "a[99999999999999999999999]",
		"a]", "[0]", "a.[0]", "a[0]b", "a[0].", "\"abc", "a.\"b",
		"\"a\"b", "\"a\\nb\"", "\"a\\", "\"a\\u0041\"", "a b", "a\tb",
		" a", "a ", "a\nb", "a\"b\"", "a.\"b\"c", "..", ".", "\"",
	};
	size_t i;

	(void)state;
	expect_bad_len("", 0);
	expect_bad_len("a", 0);
	for (i = 0; i < NELEM(bad); i++)
		expect_bad(bad[i]);
	/* A NUL byte is not a name byte. */
	expect_bad_len("a\0b", 3);
}

static void
test_child(void **state)
{
	struct path parent, child, parsed, grand;
	const char *err;

	(void)state;
	assert_int_equal(path_parse("features", 8, &parent, &err), 0);
	path_child(&parent, "sepal length (cm)", 17, &child);
	assert_string_equal(child.text, "features.\"sepal length (cm)\"");
	assert_int_equal(child.nsegs, 2);
	assert_int_equal(child.segs[1].keylen, 17);
	assert_memory_equal(child.segs[1].key, "sepal length (cm)", 17);
	assert_int_equal(path_parse(child.text, strlen(child.text), &parsed,
	    &err), 0);
	assert_true(path_equal(&child, &parsed));
	path_free(&parsed);
	/* The parent is unchanged, and the child owns its memory. */
	assert_int_equal(parent.nsegs, 1);
	assert_string_equal(parent.text, "features");
	path_free(&parent);

	path_child(&child, "say \"hi\" \\ bye", 14, &grand);
	assert_string_equal(grand.text,
	    "features.\"sepal length (cm)\".\"say \\\"hi\\\" \\\\ bye\"");
	path_free(&child);
	assert_int_equal(grand.nsegs, 3);
	assert_memory_equal(grand.segs[0].key, "features", 9);
	assert_memory_equal(grand.segs[2].key, "say \"hi\" \\ bye", 15);
	assert_int_equal(path_parse(grand.text, strlen(grand.text), &parsed,
	    &err), 0);
	assert_true(path_equal(&grand, &parsed));
	path_free(&parsed);
	path_free(&grand);

	/* Below an index, and with a bare key. */
	assert_int_equal(path_parse("a[2]", 4, &parent, &err), 0);
	path_child(&parent, "b", 1, &child);
	assert_string_equal(child.text, "a[2].b");
	assert_int_equal(child.nsegs, 3);
	assert_true(child.segs[1].is_index);
	assert_int_equal(child.segs[1].index, 2);
	path_free(&parent);
	path_free(&child);

	/* A key with a NUL byte keeps its full length. */
	assert_int_equal(path_parse("x", 1, &parent, &err), 0);
	path_child(&parent, "a\0b", 3, &child);
	assert_int_equal(child.segs[1].keylen, 3);
	assert_memory_equal(child.segs[1].key, "a\0b", 4);
	path_free(&parent);
	path_free(&child);
}

/* Do the two spellings address the same value? */
static int
equal_text(const char *a, const char *b)
{
	struct path pa, pb;
	const char *err;
	int eq;

	if (path_parse(a, strlen(a), &pa, &err) != 0)
		fail_msg("%s: %s", a, err);
	if (path_parse(b, strlen(b), &pb, &err) != 0)
		fail_msg("%s: %s", b, err);
	eq = path_equal(&pa, &pb);
	if (eq != path_equal(&pb, &pa))
		fail_msg("path_equal(%s, %s) is not symmetric", a, b);
	path_free(&pa);
	path_free(&pb);
	return eq;
}

static void
test_equal(void **state)
{
	struct path a, b;
	const char *err;

	(void)state;
	assert_true(equal_text("a.b", "a.b"));
	assert_true(equal_text("a.b", "\"a\".\"b\""));
	assert_true(equal_text("a[01]", "a[1]"));
	assert_true(equal_text("features.\"sepal length (cm)\"",
	    "\"features\".\"sepal length (cm)\""));
	assert_false(equal_text("a.b", "a.c"));
	assert_false(equal_text("a.b", "a.bb"));
	assert_false(equal_text("a.bc", "a.b"));
	assert_false(equal_text("a", "a.b"));
	assert_false(equal_text("a[0]", "a[1]"));
	assert_false(equal_text("a[0]", "a.\"0\""));
	assert_false(equal_text("a[0]", "a.0"));
	assert_false(equal_text("\"a.b\"", "a.b"));
	assert_false(equal_text("a", "A"));

	/* Keys are compared over their full length, NUL bytes included. */
	assert_int_equal(path_parse("\"a\0b\"", 5, &a, &err), 0);
	assert_int_equal(path_parse("\"a\0c\"", 5, &b, &err), 0);
	assert_false(path_equal(&a, &b));
	path_free(&b);
	assert_int_equal(path_parse("a", 1, &b, &err), 0);
	assert_false(path_equal(&a, &b));
	assert_false(path_equal(&b, &a));
	path_free(&a);
	path_free(&b);
}

/* Format a key after existing text, which must be kept. */
static void
expect_key_len(const char *key, size_t keylen, const char *want,
    size_t wantlen)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "prefix:");
	path_format_key(&b, key, keylen);
	if (b.len != 7 + wantlen || memcmp(b.data, "prefix:", 7) != 0 ||
	    memcmp(b.data + 7, want, wantlen) != 0)
		fail_msg("key %s formats as %s, want prefix:%s",
		    unit_show(key, keylen), unit_show(b.data, b.len),
		    unit_show(want, wantlen));
	buf_free(&b);
}

#define expect_key(key, keylen, want) \
	expect_key_len((key), (keylen), (want), sizeof(want) - 1)

static void
test_format_key(void **state)
{
	(void)state;
	/* Letters, digits, '_' and '-' stay bare... */
	expect_key("age", 3, "age");
	expect_key("PULocationID", 12, "PULocationID");
	expect_key("a_b-c9", 6, "a_b-c9");
	expect_key("0", 1, "0");
	expect_key("-", 1, "-");
	/* ...anything else is quoted, with " and \ escaped. */
	expect_key("", 0, "\"\"");
	expect_key("a.b", 3, "\"a.b\"");
	expect_key("sepal length (cm)", 17, "\"sepal length (cm)\"");
	expect_key("a[0]", 4, "\"a[0]\"");
	expect_key("\"", 1, "\"\\\"\"");
	expect_key("\\", 1, "\"\\\\\"");
	expect_key("say \"hi\"\\", 9, "\"say \\\"hi\\\"\\\\\"");
	expect_key("a:b", 3, "\"a:b\"");
	expect_key("a\tb", 3, "\"a\tb\"");
	expect_key("gr\xc3\xb6\xc3\x9f" "e", 7, "\"gr\xc3\xb6\xc3\x9f" "e\"");
	expect_key("a\0b", 3, "\"a\0b\"");
	expect_key("a\0b", 1, "a");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_nul_in_key),
		cmocka_unit_test(test_segment_limit),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_child),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_format_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
