/*
 * Unit tests for buf.c.
 */
#include "config.h"

#include "unit.h"

#include <stdlib.h>

#include "buf.h"

static void
test_append_and_grow(void **state)
{
	struct buf b = BUF_INIT;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++)
		buf_puts(&b, "0123456789");
	assert_int_equal(b.len, 10000);
	assert_int_equal(b.data[b.len], '\0');
	assert_memory_equal(b.data + 9990, "0123456789", 10);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	buf_free(&b);
	assert_null(b.data);
}

static void
test_printf_long(void **state)
{
	struct buf b = BUF_INIT;
	char big[5000];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_puts(&b, "a");
	buf_printf(&b, "[%s]%d", big, 42);
	assert_int_equal(b.len, 1 + 1 + 4999 + 1 + 2);
	assert_string_equal(b.data + b.len - 3, "]42");
	buf_free(&b);
}

static void
check_double(double v, const char *want)
{
	struct buf b = BUF_INIT;

	buf_put_double(&b, v);
	assert_string_equal(b.data, want);
	buf_free(&b);
}

static void
test_put_double(void **state)
{
	(void)state;
	check_double(0, "0");
	check_double(1, "1");
	check_double(-3, "-3");
	check_double(1e15, "1000000000000000");
	check_double(0.1, "0.1");
	check_double(0.3, "0.3");
	check_double(0.1 + 0.2, "0.30000000000000004");
	check_double(1.5e-7, "1.5e-07");
	check_double(1e300, "1e+300");
	check_double(NAN, "NaN");
	check_double(INFINITY, "+Inf");
	check_double(-INFINITY, "-Inf");
}

static void
test_put_double_roundtrip(void **state)
{
	struct buf b = BUF_INIT;
	uint64_t x = 88172645463325252ULL;
	int i;

	(void)state;
	/* Random bit patterns: whatever is printed must read back exactly. */
	for (i = 0; i < 100000; i++) {
		double v;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(&v, &x, sizeof(v));
		if (!isfinite(v))
			continue;
		buf_reset(&b);
		buf_put_double(&b, v);
		if (strtod(b.data, NULL) != v)
			fail_msg("%.17g printed as %s", v, b.data);
	}
	buf_free(&b);
}

static void
test_put_u64(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_put_u64(&b, 0);
	buf_putc(&b, ' ');
	buf_put_u64(&b, 18446744073709551615ULL);
	assert_string_equal(b.data, "0 18446744073709551615");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_grow),
		cmocka_unit_test(test_printf_long),
		cmocka_unit_test(test_put_double),
		cmocka_unit_test(test_put_double_roundtrip),
		cmocka_unit_test(test_put_u64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
