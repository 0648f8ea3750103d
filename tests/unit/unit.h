/*
 * unit.h - shared helpers for driftd's cmocka unit tests.
 */
#ifndef DRIFTD_UNIT_H
#define DRIFTD_UNIT_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* Compare doubles within a relative tolerance, printing both on failure. */
#define assert_double_near(a, b, rel) do {                                   \
	double a_ = (a), b_ = (b), r_ = (rel);                               \
	double scale_ = fmax(fabs(a_), fabs(b_));                            \
	if (!(a_ == b_ || (isfinite(scale_) &&                               \
	    fabs(a_ - b_) <= r_ * scale_) || (isnan(a_) && isnan(b_))))      \
		fail_msg("%s = %.17g, %s = %.17g (rel %.3g)", #a, a_, #b,    \
		    b_, r_);                                                 \
} while (0)

/* Assert that haystack contains needle, printing both on failure. */
#define assert_contains(haystack, needle) do {                               \
	const char *h_ = (haystack), *n_ = (needle);                         \
	if (h_ == NULL || strstr(h_, n_) == NULL)                            \
		fail_msg("\"%s\" not found in:\n%s", n_, h_ ? h_ : "(null)"); \
} while (0)

#define assert_not_contains(haystack, needle) do {                           \
	const char *h_ = (haystack), *n_ = (needle);                         \
	if (h_ != NULL && strstr(h_, n_) != NULL)                            \
		fail_msg("\"%s\" unexpectedly found in:\n%s", n_, h_);       \
} while (0)

/*
 * Render `len` bytes printably for a failure message: bytes outside
 * printable ASCII (and the backslash) as \xHH.  Returns one of a few
 * static buffers, so that several may appear in one message; long input
 * is cut short with "...".
 */
static inline const char *
unit_show(const void *data, size_t len)
{
	static char out[4][1024];
	static unsigned which;
	const unsigned char *s = data;
	char *o = out[which++ % 4];
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (n + 8 >= sizeof(out[0])) {
			memcpy(o + n, "...", 4);
			return o;
		}
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
			o[n++] = (char)s[i];
		else
			n += (size_t)snprintf(o + n, sizeof(out[0]) - n,
			    "\\x%02x", s[i]);
	}
	o[n] = '\0';
	return o;
}

#endif
