/*
 * json_value.c - converting the values json_scan() found: numbers to
 * doubles, strings to validated UTF-8.
 *
 * Numbers use Clinger's fast path (W. D. Clinger, "How to read floating
 * point numbers accurately", PLDI 1990) and an x87 extended-precision
 * variant of it, falling back to strtod(3); strings are checked against
 * RFC 3629 as they are decoded.
 */
#include "config.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "json_chars.h"
#include "util.h"

/* ------------------------------------------------------------- numbers */

static const double pow10_exact[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/*
 * Up to 19 significant digits (a mantissa below 2^64) and powers of ten
 * up to 10^27 are exact in the x87 extended format, whose significand has
 * 64 bits.  One extended multiplication or division then rounds once, and
 * narrowing to double rounds a second time.  Double rounding can only go
 * wrong when the extended result sits exactly on a midpoint between two
 * doubles, that is when the 11 bits narrowing drops are 10000000000; then
 * strtod decides.
 */
#if defined(__x86_64__) && LDBL_MANT_DIG == 64
#define EXTENDED_FAST_PATH 1
static const long double pow10_ld[] = {
	1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L, 1e7L, 1e8L, 1e9L, 1e10L,
	1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L,
	1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L,
};
#else
#define EXTENDED_FAST_PATH 0
#endif

static double
slow_double(const char *s, size_t len)
{
	char tmp[128];
	char *heap = NULL, *p = tmp;
	double v;

	if (len >= sizeof(tmp))
		p = heap = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	v = strtod(p, NULL);
	free(heap);
	return v;
}

/*
 * Accumulate a run of digits into *m.  Returns the end of the run, or NULL
 * when the digits so far (*nd) would pass 19, beyond which *m could
 * overflow: those numbers go to strtod.
 */
static inline const char *
accumulate(const char *p, const char *end, uint64_t *m, int *nd)
{
#if SWAR_DIGITS
	static const uint64_t pow10_u64[9] = {
		1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
	};

	while (end - p >= 8) {
		uint64_t x = load8(p);
		unsigned n = digit_run8(x);

		if (n == 0)
			return p;
		if (*nd + (int)n > 19)
			return NULL;
		/* Fewer than 8 digits: move them to the top of the word and
		 * fill in leading '0's, so parse8 reads them as one number. */
		if (n < 8)
			x = x << (8 * (8 - n)) | 0x3030303030303030ULL >> (8 * n);
		*m = *m * pow10_u64[n] + parse8(x);
		*nd += (int)n;
		p += n;
		if (n < 8)
			return p;
	}
#endif
	while (p < end && is_digit(*p)) {
		if (++*nd > 19)
			return NULL;
		*m = *m * 10 + (uint64_t)(*p++ - '0');
	}
	return p;
}

double
json_parse_double(const char *s, size_t len)
{
	const char *p = s, *end = s + len, *frac;
	uint64_t m = 0;
	int nd = 0, exp10 = 0, neg = 0;

	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	/* A lone leading zero, as in 0.97, adds nothing to the mantissa. */
	if (p < end && *p == '0')
		p++;
	else if ((p = accumulate(p, end, &m, &nd)) == NULL)
		return slow_double(s, len);
	if (p < end && *p == '.') {
		frac = ++p;
		if ((p = accumulate(p, end, &m, &nd)) == NULL)
			return slow_double(s, len);
		exp10 = -(int)(p - frac);
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		int eneg = 0, e = 0;

		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		while (p < end && is_digit(*p)) {
			if (e > 10000)
				return slow_double(s, len);
			e = e * 10 + (*p++ - '0');
		}
		exp10 += eneg ? -e : e;
	}
	if (m == 0)
		return neg ? -0.0 : 0.0;
	if (m <= (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
		double v = (double)m;

		v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
		return neg ? -v : v;
	}
#if EXTENDED_FAST_PATH
	if (exp10 >= -27 && exp10 <= 27) {
		long double x = (long double)m;
		uint64_t sig;

		x = exp10 < 0 ? x / pow10_ld[-exp10] : x * pow10_ld[exp10];
		memcpy(&sig, &x, sizeof(sig));
		if ((sig & 0x7FF) != 0x400) {
			double v = (double)x;

			return neg ? -v : v;
		}
	}
#endif
	return slow_double(s, len);
}

int
json_number(const struct json_value *v, double *out)
{
	if (v->type == JSON_NUMBER) {
		*out = json_parse_double(v->ptr, v->len);
		return 0;
	}
	if (v->type == JSON_NONFINITE) {
		if (v->ptr[0] == 'N')
			*out = NAN;
		else
			*out = v->ptr[0] == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	return -EINVAL;
}

/* ------------------------------------------------------------- strings */

static void
put_utf8(struct buf *out, uint32_t cp)
{
	char b[4];

	if (cp < 0x80) {
		buf_putc(out, (char)cp);
		return;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		buf_append(out, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		buf_append(out, b, 3);
	} else {
		b[0] = (char)(0xF0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		buf_append(out, b, 4);
	}
}

static int
read_hex4(const char *p, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		int h = hex_value(p[i]);

		if (h < 0)
			return -1;
		v = v << 4 | (uint32_t)h;
	}
	*out = v;
	return 0;
}

int
json_string_decode(const struct json_value *v, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)v->ptr;
	const unsigned char *end = p + v->len;

	if (v->type != JSON_STRING)
		return -EINVAL;
	buf_reserve(out, v->len);
	while (p < end) {
		const unsigned char *run = p;
		uint32_t cp, lo;

		/* A run of plain bytes, validated as UTF-8. */
		while (p < end && *p != '\\') {
			size_t n;

			if (*p < 0x80) {
				p++;
				continue;
			}
			n = util_utf8_len(p, (size_t)(end - p));
			if (n == 0)
				return -EILSEQ;
			p += n;
		}
		buf_append(out, run, (size_t)(p - run));
		if (p >= end)
			break;
		if (end - p < 2)
			return -EILSEQ;
		switch (p[1]) {
		case '"':  buf_putc(out, '"'); p += 2; continue;
		case '\\': buf_putc(out, '\\'); p += 2; continue;
		case '/':  buf_putc(out, '/'); p += 2; continue;
		case 'b':  buf_putc(out, '\b'); p += 2; continue;
		case 'f':  buf_putc(out, '\f'); p += 2; continue;
		case 'n':  buf_putc(out, '\n'); p += 2; continue;
		case 'r':  buf_putc(out, '\r'); p += 2; continue;
		case 't':  buf_putc(out, '\t'); p += 2; continue;
		case 'u':  break;
		default:   return -EILSEQ;
		}
		if (end - p < 6 || read_hex4((const char *)p + 2, &cp) != 0)
			return -EILSEQ;
		p += 6;
		if (cp >= 0xDC00 && cp <= 0xDFFF)
			return -EILSEQ;          /* lone low surrogate */
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
			    read_hex4((const char *)p + 2, &lo) != 0 ||
			    lo < 0xDC00 || lo > 0xDFFF)
				return -EILSEQ;  /* lone high surrogate */
			p += 6;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		}
		if (cp == 0)
			return -EILSEQ;          /* NUL cannot be a label */
		put_utf8(out, cp);
	}
	return 0;
}

