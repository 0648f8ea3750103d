/*
 * The ingest path allocates nothing per record once it has seen the
 * shape of the log: every allocation of the process is counted (malloc,
 * calloc, realloc and friends are interposed here and passed on to
 * glibc), and lines of a known shape, configured or discovered, with a
 * reference and event time, must not add to the count.
 *
 * Under AddressSanitizer the allocator is ASan's own: the count is not
 * taken there (the test is skipped), the plain build takes it.
 */
#include "config.h"

#include <stdlib.h>

#include "unit.h"
#include "../../src/conf.h"
#include "../../src/ingest.h"
#include "../../src/log.h"
#include "../../src/metrics.h"

#if defined(__SANITIZE_ADDRESS__)
#define COUNTING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define COUNTING 0
#endif
#endif
#ifndef COUNTING
#define COUNTING 1
#endif

static unsigned long allocations;

#if COUNTING
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void *__libc_memalign(size_t, size_t);

void *
malloc(size_t n)
{
	allocations++;
	return __libc_malloc(n);
}

void *
calloc(size_t n, size_t size)
{
	allocations++;
	return __libc_calloc(n, size);
}

void *
realloc(void *p, size_t n)
{
	allocations++;
	return __libc_realloc(p, n);
}

void *
aligned_alloc(size_t align, size_t n)
{
	allocations++;
	return __libc_memalign(align, n);
}

int
posix_memalign(void **out, size_t align, size_t n)
{
	allocations++;
	*out = __libc_memalign(align, n);
	return *out != NULL ? 0 : 12;
}
#endif

/* One line of the shape: four numeric features, two categorical, a
 * class, a confidence and an event time. */
static size_t
line(char *out, size_t cap, unsigned i)
{
	static const char *const country[] = { "DE", "FR", "US", "JP" };
	static const char *const cls[] = { "setosa", "versicolor", "virginica" };

	return (size_t)snprintf(out, cap,
	    "{\"ts\":%u,\"request_id\":\"r%u\",\"features\":{\"age\":%u.5,"
	    "\"income\":%u,\"sepal length (cm)\":%u.25,\"score\":0.%u,"
	    "\"country\":\"%s\",\"member\":%s},\"prediction\":\"%s\","
	    "\"confidence\":0.%u}",
	    1764000000u + i, i, 20 + i % 50, 1000 + i * 7 % 9000, i % 8,
	    i % 97, country[i % 4], i % 3 ? "true" : "false", cls[i % 3],
	    50 + i % 50);
}

static void
run(const char *text)
{
	struct conf *c = NULL;
	struct buf err = BUF_INIT;
	struct metrics_registry *reg;
	struct ingest *g;
	char buf[512];
	unsigned i;
	unsigned long before;

	log_init(LOG_LEVEL_ERROR);
	assert_int_equal(conf_parse("alloc.conf", text, strlen(text), &c, &err), 0);
	reg = metrics_create();
	g = ingest_create(c, reg, &err);
	assert_non_null(g);
	assert_true(allocations > 0);   /* the count is taken */
	/* The shape: the capture, the columns, the classes, an evaluation. */
	for (i = 0; i < 3000; i++)
		ingest_line(g, buf, line(buf, sizeof(buf), i));
	ingest_evaluate(g);
	for (i = 3000; i < 4000; i++)
		ingest_line(g, buf, line(buf, sizeof(buf), i));
	before = allocations;
	for (i = 4000; i < 24000; i++)
		ingest_line(g, buf, line(buf, sizeof(buf), i));
	if (allocations != before)
		fail_msg("%lu allocations for 20000 records", allocations - before);
	ingest_destroy(g);
	metrics_destroy(reg);
	conf_free(c);
	buf_free(&err);
}

static void
test_configured(void **state)
{
	(void)state;
	run("[model]\nname = m\ntimestamp = ts\n"
	    "[features]\nfeatures.age = numeric\nfeatures.income = numeric\n"
	    "features.\"sepal length (cm)\" = numeric\nfeatures.score = numeric\n"
	    "features.country = categorical\nfeatures.member = categorical\n"
	    "[reference]\ncapture = 1000\n"
	    "[window]\nsize = 500\nduration = 1h\n");
}

static void
test_discovered(void **state)
{
	(void)state;
	run("[model]\nname = m\ntimestamp = ts\n"
	    "[features]\ndiscover = features\n"
	    "[reference]\ncapture = 1000\n"
	    "[window]\nsize = 500\n");
}

int
main(void)
{
	if (!COUNTING) {
		/* Under AddressSanitizer, malloc is ASan's: nothing to count. */
		printf("1..0 # SKIP allocations are counted without sanitizers\n");
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_configured),
		cmocka_unit_test(test_discovered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
