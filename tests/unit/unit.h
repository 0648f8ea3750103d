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
	if (!(a_ == b_ || fabs(a_ - b_) <= r_ * scale_ ||                    \
	    (isnan(a_) && isnan(b_))))                                       \
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

#endif
