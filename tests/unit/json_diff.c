/*
 * Differential test of json.c against jansson, a complete JSON parser.
 *
 * A fixed-seed generator writes random JSON objects (nesting, duplicate
 * keys, escapes, UTF-8, numbers of every shape) and mutates copies of them
 * (flipped, deleted and inserted bytes, truncation, and edits aimed at the
 * known divergences).  For every input, json_scan() must accept exactly
 * when jansson's json_loadb() returns an object, and where both accept,
 * the values at a few paths must agree: type, number, decoded string.
 *
 * json.c differs from jansson on purpose in a few documented ways (see
 * json.h).  A disagreement counts as one of those only when its cause is
 * found in the input by the lexer below, independently of json.c, and
 * jansson's error code names that cause; anything else fails the test and
 * prints the input.  One divergence is jansson's: it skips a NUL byte
 * that directly follows a number or a literal (see drop_skipped_nuls()).
 *
 * Environment: JSON_DIFF_INPUTS (number of inputs, half generated and
 * half mutated; default 200000, 50000 under AddressSanitizer, which makes
 * each input several times slower) and JSON_DIFF_SEED.
 */
#include "config.h"

#include "unit.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "buf.h"
#include "json.h"
#include "json_diff.h"
#include "path.h"
#include "../utf8.h"
#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifdef UNDER_ASAN
#define DEFAULT_INPUTS 50000
#else
#define DEFAULT_INPUTS 200000
#endif

#define DEFAULT_SEED    20261122
#define NPATHS          5       /* leaf paths compared per input */
#define GEN_MAX_DEPTH   20
#define GEN_SOFT_BYTES  2000    /* past this, containers get no members */
#define MAX_REPORTED    5       /* mismatches printed in full */

/* ------------------------------------------------------------ random */

static uint64_t rng_state;

/* splitmix64: small, fast, and the same everywhere. */
static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint32_t
below(uint32_t n)
{
	return (uint32_t)(rng() % n);
}

static int
chance(int percent)
{
	return (int)below(100) < percent;
}

/* --------------------------------------------------------- generator */

struct gen {
	struct buf out;         /* the JSON text */
	struct buf path;        /* path of the value being written */
	char *paths[NPATHS];    /* a uniform sample of the leaves' paths */
	size_t npaths;
	size_t nleaves;
	int max_depth;
	int chain;              /* first members nest down to max_depth */
	int deepest;            /* deepest nesting written so far */
};

static void
gen_ws(struct gen *g)
{
	static const char ws[] = " \t\r\n";

	if (chance(15)) {
		int n = 1 + (int)below(3);

		while (n-- > 0)
			buf_putc(&g->out, ws[below(4)]);
	}
}

/* A Unicode scalar value other than U+0000 (which jansson refuses). */
static uint32_t
gen_char(void)
{
	static const char specials[] = "\"\\/.[] :{},'";
	uint32_t cp;

	switch (below(10)) {
	case 0:
		return specials[below(sizeof(specials) - 1)];
	case 1:
		return 1 + below(0x1f);
	case 2:
		return 0x80 + below(0x800 - 0x80);
	case 3:
		do
			cp = 0x800 + below(0x10000 - 0x800);
		while (cp >= 0xd800 && cp <= 0xdfff);
		return cp;
	case 4:
		return 0x10000 + below(0x110000 - 0x10000);
	default:
		return 0x20 + below(0x5f);
	}
}

static void
put_u_escape(struct buf *b, uint32_t u, int upper)
{
	if (upper)
		buf_printf(b, "\\u%04X", u);
	else
		buf_printf(b, "\\u%04x", u);
}

/* Write one character of a string in one of its JSON spellings. */
static void
put_json_char(struct buf *b, uint32_t cp)
{
	static const char shorts[] = "\"\\/\b\f\n\r\t";
	static const char letters[] = "\"\\/bfnrt";
	const char *sp = cp != 0 && cp < 0x80 ? strchr(shorts, (int)cp) : NULL;
	int must = cp < 0x20 || cp == '"' || cp == '\\';
	int how = (int)below(10);

	if (sp != NULL && (how < 5 || (must && how < 8))) {
		buf_putc(b, '\\');
		buf_putc(b, letters[sp - shorts]);
	} else if (must || how < 3) {
		int upper = chance(50);

		if (cp >= 0x10000) {
			put_u_escape(b, 0xd800 + ((cp - 0x10000) >> 10), upper);
			put_u_escape(b, 0xdc00 + ((cp - 0x10000) & 0x3ff), upper);
		} else {
			put_u_escape(b, cp, upper);
		}
	} else {
		utf8_put(b, cp);
	}
}

/* A string: its decoded bytes into `decoded`, its JSON text into out. */
static void
gen_string(struct gen *g, struct buf *decoded, int is_key)
{
	static const char *const common[] = {
		"a", "b", "id", "x", "features", "sepal length (cm)", "",
	};
	size_t n, i;

	buf_reset(decoded);
	buf_putc(&g->out, '"');
	if (is_key && chance(40)) {
		/* Few distinct keys, so that keys repeat. */
		const char *k = common[below(sizeof(common) / sizeof(common[0]))];

		buf_puts(decoded, k);
		for (i = 0; k[i] != '\0'; i++)
			put_json_char(&g->out, (unsigned char)k[i]);
		buf_putc(&g->out, '"');
		return;
	}
	/* Lengths on both sides of the 16-byte blocks of the SSE2 loop. */
	n = chance(50) ? below(8) : below(40);
	for (i = 0; i < n; i++) {
		uint32_t cp = gen_char();

		utf8_put(decoded, cp);
		put_json_char(&g->out, cp);
	}
	buf_putc(&g->out, '"');
}

/* Is `text` a number jansson reads: integers within int64_t, reals that
 * do not overflow a double? */
static int
jansson_range(const char *text)
{
	errno = 0;
	if (strpbrk(text, ".eE") == NULL) {
		(void)strtoll(text, NULL, 10);
		return errno != ERANGE;
	}
	return isfinite(strtod(text, NULL));
}

static void
gen_digits(struct buf *b, int n, int nonzero_first)
{
	int i;

	for (i = 0; i < n; i++)
		buf_putc(b, (char)('0' + (i == 0 && nonzero_first ?
		    1 + below(9) : below(10))));
}

static void
gen_number(struct gen *g)
{
	static const char *const fixed[] = {
		"0", "-0", "1", "-1", "0.0", "-0.0", "9223372036854775807",
		"-9223372036854775808", "9007199254740993", "1e22", "1e23",
		"1.7976931348623157e308", "4.9406564584124654e-324", "2e-324",
		"1e-400", "0.1", "0.5e-3", "1E+2",
	};
	struct buf num = BUF_INIT;

	do {
		buf_reset(&num);
		if (chance(10)) {
			buf_puts(&num, fixed[below(sizeof(fixed) / sizeof(fixed[0]))]);
			break;
		}
		if (chance(30))
			buf_putc(&num, '-');
		if (chance(20))
			buf_putc(&num, '0');
		else
			gen_digits(&num, 1 + (int)below(chance(20) ? 22 : 8), 1);
		if (chance(40)) {
			buf_putc(&num, '.');
			gen_digits(&num, 1 + (int)below(chance(20) ? 25 : 6), 0);
		}
		if (chance(30)) {
			int e = chance(20) ? (int)below(700) : (int)below(30);

			buf_putc(&num, chance(50) ? 'e' : 'E');
			if (chance(50))
				buf_putc(&num, chance(50) ? '-' : '+');
			buf_printf(&num, "%0*d", 1 + (int)below(3), e);
		}
	} while (!jansson_range(num.data));
	buf_append(&g->out, num.data, num.len);
	buf_free(&num);
}

/* Sample the current path as a leaf (reservoir sampling). */
static void
gen_leaf(struct gen *g)
{
	size_t j;

	g->nleaves++;
	if (g->npaths < NPATHS) {
		g->paths[g->npaths++] = xstrdup(g->path.data);
		return;
	}
	j = below((uint32_t)g->nleaves);
	if (j < NPATHS) {
		free(g->paths[j]);
		g->paths[j] = xstrdup(g->path.data);
	}
}

static void
path_truncate(struct buf *b, size_t len)
{
	b->len = len;
	if (b->data != NULL)
		b->data[len] = '\0';
}

static void gen_value(struct gen *g, int depth, int force);

static void
gen_container(struct gen *g, int depth, int object)
{
	struct buf key = BUF_INIT;
	size_t saved = g->path.len;
	int n, i;

	n = g->out.len > GEN_SOFT_BYTES ? 0 : (int)below(depth < 3 ? 7 : 4);
	if (g->chain && n == 0 && depth < g->max_depth)
		n = 1;
	if (depth + 1 > g->deepest)
		g->deepest = depth + 1;
	buf_putc(&g->out, object ? '{' : '[');
	gen_ws(g);
	if (n == 0 && depth > 0)
		gen_leaf(g);
	for (i = 0; i < n; i++) {
		if (i > 0) {
			buf_putc(&g->out, ',');
			gen_ws(g);
		}
		if (object) {
			gen_string(g, &key, 1);
			gen_ws(g);
			buf_putc(&g->out, ':');
			gen_ws(g);
			if (saved > 0)
				buf_putc(&g->path, '.');
			path_format_key(&g->path, key.data ? key.data : "", key.len);
		} else {
			buf_printf(&g->path, "[%d]", i);
		}
		gen_value(g, depth + 1, g->chain && i == 0);
		gen_ws(g);
		path_truncate(&g->path, saved);
	}
	buf_putc(&g->out, object ? '}' : ']');
	buf_free(&key);
}

static void
gen_value(struct gen *g, int depth, int force)
{
	struct buf scratch = BUF_INIT;

	if (depth < g->max_depth && (force || chance(depth < 2 ? 50 : 35))) {
		gen_container(g, depth, chance(50));
		return;
	}
	switch (below(8)) {
	case 0:
		buf_puts(&g->out, "true");
		break;
	case 1:
		buf_puts(&g->out, "false");
		break;
	case 2:
		buf_puts(&g->out, "null");
		break;
	case 3:
	case 4:
		gen_string(g, &scratch, 0);
		break;
	default:
		gen_number(g);
		break;
	}
	gen_leaf(g);
	buf_free(&scratch);
}

static void
gen_document(struct gen *g)
{
	size_t i;

	for (i = 0; i < g->npaths; i++)
		free(g->paths[i]);
	g->npaths = 0;
	g->nleaves = 0;
	buf_reset(&g->out);
	buf_reset(&g->path);
	g->max_depth = chance(70) ? 1 + (int)below(6) :
	    1 + (int)below(GEN_MAX_DEPTH);
	/* Some documents go all the way down. */
	g->chain = chance(10);
	if (g->chain)
		g->max_depth = GEN_MAX_DEPTH - (int)below(5);
	gen_ws(g);
	gen_container(g, 0, 1);
	gen_ws(g);
}

/* --------------------------------------------------------- mutations */

static void
insert_at(struct buf *b, size_t pos, const char *s, size_t n)
{
	buf_reserve(b, n);
	memmove(b->data + pos + n, b->data + pos, b->len - pos);
	memcpy(b->data + pos, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
delete_at(struct buf *b, size_t pos, size_t n)
{
	if (pos + n > b->len)
		n = b->len - pos;
	memmove(b->data + pos, b->data + pos + n, b->len - pos - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

/* Position just after a random '"' (inside a string when it opens one). */
static size_t
after_quote(const struct buf *b)
{
	size_t start = below((uint32_t)b->len), i;

	for (i = 0; i < b->len; i++) {
		size_t p = (start + i) % b->len;

		if (b->data[p] == '"')
			return p + 1;
	}
	return start;
}

/* Start and end of a random number token, or 0 when there is none. */
static int
find_number(const struct buf *b, size_t *s, size_t *e)
{
	size_t start = below((uint32_t)b->len), i;

	for (i = 0; i < b->len; i++) {
		size_t p = (start + i) % b->len;
		char c = b->data[p];

		/* A digit after ':', ',', '[' or whitespace, outside strings
		 * as far as a guess goes; a wrong guess is just another
		 * mutation. */
		if (((c >= '0' && c <= '9') || c == '-') && p > 0 &&
		    strchr(":,[ \t\r\n", b->data[p - 1]) != NULL) {
			*s = p;
			*e = p + 1;
			while (*e < b->len && strchr("0123456789.eE+-",
			    b->data[*e]) != NULL)
				(*e)++;
			return 1;
		}
	}
	return 0;
}

static void
mutate(struct buf *b)
{
	static const char inserts[] = "\"{}[],:\\";
	static const char *const in_string[] = {
		"\\u0000", "\\ud800", "\\udfff", "\\ud83d\\u0041", "\xff",
		"\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82",
		"\xc3", "\x80", "\\u00", "\x01", "\\x",
	};
	static const char *const numbers[] = {
		"NaN", "Infinity", "-Infinity", "99999999999999999999",
		"-9223372036854775809", "9223372036854775808", "1e999", "-2e308",
		"nan", "-NaN", "inf", "1e309", "01", "1.", "-",
	};
	int n = 1 + (int)below(3);
	size_t pos, s, e;
	char c[2];

	if (chance(1)) {
		/* Nest the whole text about JSON_MAX_DEPTH levels deeper. */
		int k = JSON_MAX_DEPTH - 2 + (int)below(4), i;

		for (i = 0; i < k; i++) {
			insert_at(b, 0, "{\"d\":", 5);
			buf_putc(b, '}');
		}
		return;
	}
	while (n-- > 0 && b->len > 0) {
		pos = below((uint32_t)b->len);
		switch (below(8)) {
		case 0:         /* flip bits */
			b->data[pos] ^= (char)(1u << below(8));
			break;
		case 1:         /* replace a byte */
			b->data[pos] = (char)below(256);
			break;
		case 2:         /* delete */
			delete_at(b, pos, 1 + below(3));
			break;
		case 3:         /* insert structure or a control byte */
			c[0] = chance(70) ? inserts[below(sizeof(inserts) - 1)] :
			    (char)below(0x20);
			insert_at(b, below((uint32_t)b->len + 1), c, 1);
			break;
		case 4:         /* truncate */
			path_truncate(b, pos);
			break;
		case 5:         /* an escape or bytes inside a string */
		case 6: {
			const char *ins = in_string[below(sizeof(in_string) /
			    sizeof(in_string[0]))];

			insert_at(b, after_quote(b), ins, strlen(ins));
			break;
		}
		default:        /* a number beyond range, or not a number */
			if (find_number(b, &s, &e)) {
				const char *num = numbers[below(sizeof(numbers) /
				    sizeof(numbers[0]))];

				delete_at(b, s, e - s);
				insert_at(b, s, num, strlen(num));
			}
			break;
		}
	}
}

/* ------------------------------------------------ divergence causes */

enum cause {
	C_UTF8,                 /* invalid UTF-8 in a string */
	C_NUL_VALUE,            /* \u0000 in a string value */
	C_NUL_KEY,              /* \u0000 in a key */
	C_SURROGATE,            /* an escaped lone surrogate */
	C_INT_RANGE,            /* an integer beyond int64_t */
	C_REAL_OVERFLOW,        /* a real beyond the double range */
	C_NONFINITE,            /* NaN, Infinity, -Infinity */
	/* The other way round: json.c rejects, jansson accepts. */
	C_DEPTH,                /* nesting deeper than JSON_MAX_DEPTH */
	C_SKIPPED_NUL,          /* a NUL byte after a number or literal */
	NCAUSES,
};

static const char *const cause_names[NCAUSES] = {
	"invalid UTF-8", "\\u0000 in a value", "\\u0000 in a key",
	"lone surrogate", "integer beyond int64", "real overflow",
	"NaN/Infinity", "depth", "NUL after a token (jansson skips it)",
};

/* What jansson says for each cause (NONE: jansson accepts it). */
static const enum jd_error cause_codes[NCAUSES] = {
	JD_ERR_UTF8, JD_ERR_NUL_VALUE, JD_ERR_NUL_KEY, JD_ERR_SYNTAX,
	JD_ERR_OVERFLOW, JD_ERR_OVERFLOW, JD_ERR_SYNTAX, JD_ERR_NONE,
	JD_ERR_NONE,
};

/* The causes that json.h documents, each of which the run must meet. */
#define DOCUMENTED_CAUSES ((1u << C_UTF8) | (1u << C_SURROGATE) | \
	(1u << C_INT_RANGE) | (1u << C_REAL_OVERFLOW) | (1u << C_NONFINITE) | \
	(1u << C_DEPTH))

static int
hex4(const unsigned char *p, const unsigned char *end, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		unsigned char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

/*
 * The documented causes of disagreement present in `s`, as a bit mask.
 * Only called on text one of the parsers accepted, so a plain lexer does.
 */
static unsigned
find_causes(const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	unsigned causes = 0;
	int depth = 0;

	while (p < end) {
		if (*p == '"') {
			int nul = 0;
			const unsigned char *q;

			for (p++; p < end && *p != '"';) {
				uint32_t u, lo;

				if (*p == '\\' && p + 1 < end && p[1] == 'u' &&
				    hex4(p + 2, end, &u) == 0) {
					p += 6;
					if (u == 0)
						nul = 1;
					if (u >= 0xd800 && u <= 0xdbff) {
						if (end - p >= 6 && p[0] == '\\' &&
						    p[1] == 'u' &&
						    hex4(p + 2, end, &lo) == 0 &&
						    lo >= 0xdc00 && lo <= 0xdfff)
							p += 6;
						else
							causes |= 1u << C_SURROGATE;
					} else if (u >= 0xdc00 && u <= 0xdfff) {
						causes |= 1u << C_SURROGATE;
					}
				} else if (*p == '\\') {
					p += p + 1 < end ? 2 : 1;
				} else if (*p >= 0x80) {
					size_t n = utf8_sequence(p, end);

					if (n == 0) {
						causes |= 1u << C_UTF8;
						n = 1;
					}
					p += n;
				} else {
					p++;
				}
			}
			if (p < end)
				p++;
			for (q = p; q < end && strchr(" \t\r\n", *q) && *q; q++)
				continue;
			if (nul)
				causes |= 1u << (q < end && *q == ':' ?
				    C_NUL_KEY : C_NUL_VALUE);
		} else if (*p == 'N' || *p == 'I' ||
		    (*p == '-' && p + 1 < end && p[1] == 'I')) {
			causes |= 1u << C_NONFINITE;
			p++;
			while (p < end && ((*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z')))
				p++;
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			const unsigned char *s = p;
			char tmp[512];

			while (p < end && strchr("0123456789.eE+-", *p) && *p)
				p++;
			if ((size_t)(p - s) < sizeof(tmp)) {
				memcpy(tmp, s, (size_t)(p - s));
				tmp[p - s] = '\0';
				if (!jansson_range(tmp))
					causes |= 1u << (strpbrk(tmp, ".eE") ?
					    C_REAL_OVERFLOW : C_INT_RANGE);
			}
		} else {
			if (*p == '{' || *p == '[') {
				if (++depth > JSON_MAX_DEPTH)
					causes |= 1u << C_DEPTH;
			} else if (*p == '}' || *p == ']') {
				depth--;
			}
			p++;
		}
	}
	return causes;
}

/*
 * jansson reads one byte ahead after a number or a true/false/null
 * literal and pushes it back; a pushed-back NUL byte looks like an empty
 * push-back buffer to its stream_get(), so the NUL is skipped and
 * {"a":4<NUL>} loads as {"a":4}.  Copy `text` to `out` without such
 * bytes; returns how many were dropped.
 */
static size_t
drop_skipped_nuls(const char *text, size_t len, struct buf *out)
{
	size_t i = 0, dropped = 0;

	buf_reset(out);
	while (i < len) {
		unsigned char c = (unsigned char)text[i];

		if (c == '"') {
			size_t j = i + 1;

			while (j < len && text[j] != '"')
				j += text[j] == '\\' ? 2 : 1;
			if (j < len)
				j++;
			if (j > len)
				j = len;
			buf_append(out, text + i, j - i);
			i = j;
		} else if (c == '-' || (c >= '0' && c <= '9') ||
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			size_t j = i;

			while (j < len && text[j] != '\0' &&
			    (strchr("0123456789.eE+-", text[j]) != NULL ||
			    (text[j] >= 'a' && text[j] <= 'z') ||
			    (text[j] >= 'A' && text[j] <= 'Z')))
				j++;
			buf_append(out, text + i, j - i);
			if (j < len && text[j] == '\0') {
				dropped++;
				j++;
			}
			i = j;
		} else {
			buf_putc(out, (char)c);
			i++;
		}
	}
	return dropped;
}

/* ------------------------------------------------------- comparison */

struct stats {
	unsigned long inputs, generated, mutated;
	unsigned long both_accept, both_reject;
	unsigned long explained[NCAUSES];
	unsigned long values, strings, numbers;
	unsigned long mismatches;
};

/* Print `len` bytes as a C string literal on a TAP comment line. */
static void
print_escaped(const char *label, const char *s, size_t len)
{
	size_t i;

	printf("# %s (%zu bytes): \"", label, len);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			putchar(c);
		else
			printf("\\x%02x\"\"", c);
	}
	printf("\"\n");
}

static void
mismatch(struct stats *st, const char *text, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
mismatch(struct stats *st, const char *text, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (st->mismatches++ >= MAX_REPORTED)
		return;
	printf("# MISMATCH: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	print_escaped("input", text, len);
	fflush(stdout);
}

static const char *
our_type(enum json_type t)
{
	static const char *const names[] = {
		"absent", "null", "false", "true", "number", "nonfinite",
		"string", "object", "array",
	};

	return (size_t)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

static void
compare_value(struct stats *st, const char *text, size_t len,
    const char *pathtext, const struct json_value *v, const struct jd_value *j)
{
	static const enum json_type types[] = {
		[JD_ABSENT] = JSON_ABSENT, [JD_NULL] = JSON_NULL,
		[JD_FALSE] = JSON_FALSE, [JD_TRUE] = JSON_TRUE,
		[JD_INTEGER] = JSON_NUMBER, [JD_REAL] = JSON_NUMBER,
		[JD_STRING] = JSON_STRING, [JD_OBJECT] = JSON_OBJECT,
		[JD_ARRAY] = JSON_ARRAY,
	};
	struct buf s = BUF_INIT;
	double d;

	st->values++;
	if (v->type != types[j->kind]) {
		mismatch(st, text, len, "at %s: json_scan found %s, jansson %s",
		    pathtext, our_type(v->type), our_type(types[j->kind]));
		return;
	}
	switch (j->kind) {
	case JD_STRING:
		st->strings++;
		if (json_string_decode(v, &s) != 0)
			mismatch(st, text, len, "at %s: json_string_decode "
			    "failed on a string jansson read", pathtext);
		else if (s.len != j->len ||
		    memcmp(s.data ? s.data : "", j->str, s.len) != 0)
			mismatch(st, text, len, "at %s: decoded \"%s\", jansson "
			    "\"%s\"", pathtext, unit_show(s.data, s.len),
			    unit_show(j->str, j->len));
		break;
	case JD_INTEGER:
		st->numbers++;
		/* Both round the same integer to the nearest double. */
		if (json_number(v, &d) != 0 || d != (double)j->integer)
			mismatch(st, text, len, "at %s: %.17g, jansson integer "
			    "%" PRId64, pathtext, d, j->integer);
		break;
	case JD_REAL:
		st->numbers++;
		if (json_number(v, &d) != 0 ||
		    memcmp(&d, &j->real, sizeof(d)) != 0)
			mismatch(st, text, len, "at %s: %.17g (%a), jansson "
			    "%.17g (%a)", pathtext, d, d, j->real, j->real);
		break;
	case JD_ARRAY: {
		struct json_iter it;
		struct json_value k, e;
		size_t n = 0;

		json_iter_init(&it, v);
		while (json_iter_next(&it, &k, &e))
			n++;
		if (n != j->size)
			mismatch(st, text, len, "at %s: %zu elements, jansson %zu",
			    pathtext, n, j->size);
		break;
	}
	default:
		break;
	}
	buf_free(&s);
}

static int
starts_with_brace(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
	    s[i] == '\n'))
		i++;
	return i < len && s[i] == '{';
}

/* Check one input; `generated` inputs must be accepted by both. */
static void
check_input(struct stats *st, const char *input, size_t len,
    struct path *paths, char *const *pathtexts, size_t npaths, int generated)
{
	struct json_query *q = json_query_create(), *empty = json_query_create();
	struct json_value slots[NPATHS], none[1];
	struct jd_value jv;
	struct jd_doc *doc;
	enum jd_error jerr;
	char jtext[200];
	int idx[NPATHS];
	char *text = malloc(len ? len : 1);
	int ours, ours2, theirs, v;
	unsigned causes;
	size_t i;

	/* An exact copy, so that reading past the end is caught. */
	assert_non_null(text);
	memcpy(text, input, len);
	for (i = 0; i < npaths; i++)
		idx[i] = json_query_add(q, &paths[i]);
	st->inputs++;
	if (generated)
		st->generated++;
	else
		st->mutated++;

	ours = json_scan(q, text, len, slots) == 0;
	ours2 = json_scan(empty, text, len, none) == 0;
	if (ours != ours2)
		mismatch(st, text, len, "json_scan accepts %d with paths, %d "
		    "without", ours, ours2);
	v = json_validate(text, len) == 0;
	if (starts_with_brace(text, len) ? v != ours : (ours && !v))
		mismatch(st, text, len, "json_validate %d, json_scan %d", v, ours);

	doc = jd_load(text, len, &theirs, &jerr, jtext, sizeof(jtext));
	if (ours && theirs) {
		st->both_accept++;
		/* Self-check: text both accept holds no cause of divergence. */
		causes = find_causes(text, len);
		if (causes != 0)
			mismatch(st, text, len, "both accept, but the lexer "
			    "found a divergence cause (mask %#x)", causes);
		for (i = 0; i < npaths; i++) {
			jd_value_at(doc, &paths[i], &jv);
			compare_value(st, text, len, pathtexts[i], &slots[idx[i]],
			    &jv);
		}
	} else if (!ours && !theirs) {
		st->both_reject++;
		if (generated)
			mismatch(st, text, len, "a generated object rejected "
			    "by both: %s", jtext);
	} else if (generated) {
		mismatch(st, text, len, "a generated object: json_scan %s, "
		    "jansson %s (%s)", ours ? "accepts" : "rejects",
		    theirs ? "accepts" : "rejects", doc ? "not an object" : jtext);
	} else {
		struct buf fixed = BUF_INIT;
		int c, found = -1;

		causes = find_causes(text, len);
		/* jansson's skipped NUL explains a difference only if json.c
		 * accepts the text without it. */
		if (!ours && drop_skipped_nuls(text, len, &fixed) > 0 &&
		    json_scan(empty, fixed.data, fixed.len, none) == 0)
			causes |= 1u << C_SKIPPED_NUL;
		buf_free(&fixed);
		for (c = 0; c < NCAUSES && found < 0; c++)
			if ((causes & (1u << c)) && cause_codes[c] == jerr)
				found = c;
		if (found >= 0)
			st->explained[found]++;
		else
			mismatch(st, text, len, "json_scan %s, jansson %s: %s "
			    "(code %d); causes found: %#x", ours ? "accepts" :
			    "rejects", ours ? "rejects" : "accepts",
			    ours ? jtext : "-", (int)jerr, causes);
	}
	jd_free(doc);
	json_query_destroy(q);
	json_query_destroy(empty);
	free(text);
}

static unsigned long
env_number(const char *name, unsigned long dflt)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (s == NULL || *s == '\0')
		return dflt;
	v = strtoul(s, &end, 10);
	return *end == '\0' ? v : dflt;
}

static void
test_differential(void **state)
{
	struct gen g;
	struct stats st;
	struct buf mutated = BUF_INIT;
	struct path paths[NPATHS];
	unsigned long n = env_number("JSON_DIFF_INPUTS", DEFAULT_INPUTS);
	unsigned long seed = env_number("JSON_DIFF_SEED", DEFAULT_SEED);
	unsigned long i;
	size_t k;
	int c;

	(void)state;
	memset(&g, 0, sizeof(g));
	memset(&st, 0, sizeof(st));
	rng_state = seed;
	for (i = 0; i < n / 2; i++) {
		const char *err;

		gen_document(&g);
		for (k = 0; k < g.npaths; k++)
			if (path_parse(g.paths[k], strlen(g.paths[k]), &paths[k],
			    &err) != 0)
				fail_msg("generated path %s: %s",
				    unit_show(g.paths[k], strlen(g.paths[k])), err);
		check_input(&st, g.out.data, g.out.len, paths, g.paths, g.npaths, 1);

		buf_reset(&mutated);
		buf_append(&mutated, g.out.data, g.out.len);
		mutate(&mutated);
		check_input(&st, mutated.data, mutated.len, paths, g.paths,
		    g.npaths, 0);
		for (k = 0; k < g.npaths; k++)
			path_free(&paths[k]);
	}

	printf("# json_diff: seed %lu, %lu inputs (%lu generated, %lu mutated): "
	    "both accept %lu, both reject %lu; values compared %lu "
	    "(%lu strings, %lu numbers)\n", seed, st.inputs, st.generated,
	    st.mutated, st.both_accept, st.both_reject, st.values, st.strings,
	    st.numbers);
	printf("# json_diff: documented divergences:");
	for (c = 0; c < NCAUSES; c++)
		printf(" %s %lu%s", cause_names[c], st.explained[c],
		    c + 1 < NCAUSES ? "," : "\n");
	printf("# json_diff: deepest generated nesting %d; unexplained "
	    "mismatches %lu\n", g.deepest, st.mismatches);
	fflush(stdout);

	for (k = 0; k < g.npaths; k++)
		free(g.paths[k]);
	buf_free(&g.out);
	buf_free(&g.path);
	buf_free(&mutated);
	if (st.mismatches > 0)
		fail_msg("%lu inputs on which json.c and jansson disagree "
		    "without a documented reason (first %d printed above)",
		    st.mismatches, MAX_REPORTED);
	/* The recogniser of each divergence must have been exercised, or
	 * the exclusions above are untested. */
	if (n >= 20000) {
		for (c = 0; c < NCAUSES; c++)
			if ((DOCUMENTED_CAUSES & (1u << c)) && st.explained[c] == 0)
				fail_msg("no input showed divergence \"%s\"",
				    cause_names[c]);
		if (st.explained[C_NUL_VALUE] + st.explained[C_NUL_KEY] == 0)
			fail_msg("no input showed divergence \"\\u0000\"");
	}
	assert_true(st.both_accept > st.generated / 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_differential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
