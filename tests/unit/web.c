/*
 * Unit tests for web.c and the socket-free request handling of http.c:
 * content negotiation, gzip, routing, and what a client gets for
 * pipelined, malformed and oversized requests.
 */
#include "config.h"

#include "unit.h"

#include <stdlib.h>

#include <zlib.h>

#include "http.h"
#include "metrics.h"
#include "web.h"

static void
test_negotiate_format(void **state)
{
	(void)state;
	assert_int_equal(web_negotiate_format(""), METRICS_FORMAT_TEXT);
	assert_int_equal(web_negotiate_format("*/*"), METRICS_FORMAT_TEXT);
	assert_int_equal(web_negotiate_format("text/plain"), METRICS_FORMAT_TEXT);
	/* What Prometheus 2.x sends. */
	assert_int_equal(web_negotiate_format(
	    "application/openmetrics-text;version=1.0.0,"
	    "application/openmetrics-text;version=0.0.1;q=0.75,"
	    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
	    METRICS_FORMAT_OPENMETRICS);
	assert_int_equal(web_negotiate_format("application/openmetrics-text"),
	    METRICS_FORMAT_OPENMETRICS);
	/* q-values decide. */
	assert_int_equal(web_negotiate_format(
	    "application/openmetrics-text;q=0.3, text/plain;q=0.7"),
	    METRICS_FORMAT_TEXT);
	assert_int_equal(web_negotiate_format(
	    "text/plain;q=0.2, application/openmetrics-text; q=0.9"),
	    METRICS_FORMAT_OPENMETRICS);
	assert_int_equal(web_negotiate_format("application/openmetrics-text;q=0"),
	    METRICS_FORMAT_TEXT);
	/* A version we do not write does not count. */
	assert_int_equal(web_negotiate_format(
	    "application/openmetrics-text;version=0.0.1"), METRICS_FORMAT_TEXT);
	/* The most specific range wins over a wildcard. */
	assert_int_equal(web_negotiate_format(
	    "application/*;q=0.9, text/plain;q=0.5"), METRICS_FORMAT_OPENMETRICS);
	assert_int_equal(web_negotiate_format(
	    "application/*;q=0.9, application/openmetrics-text;q=0.1, text/plain;q=0.5"),
	    METRICS_FORMAT_TEXT);
}

static void
test_accepts_gzip(void **state)
{
	(void)state;
	assert_false(web_accepts_gzip(""));
	assert_true(web_accepts_gzip("gzip"));
	assert_true(web_accepts_gzip("deflate, gzip;q=1.0, *;q=0.5"));
	assert_false(web_accepts_gzip("gzip;q=0"));
	assert_false(web_accepts_gzip("gzip;q=0, *"));
	assert_true(web_accepts_gzip("*"));
	assert_false(web_accepts_gzip("identity"));
	assert_true(web_accepts_gzip("br, GZIP"));
}

static const struct metrics_desc descs[] = {
	{ "test_big_total", METRICS_COUNTER, "Many series.", { "n", NULL } },
};

static struct web *
make_web(void)
{
	struct web *w = calloc(1, sizeof(*w));
	struct metrics_family *f;
	char name[32];
	int i;

	w->registry = metrics_create();
	f = metrics_family_add(w->registry, &descs[0], NULL, 0);
	for (i = 0; i < 200; i++) {
		const char *v[] = { name };

		snprintf(name, sizeof(name), "series-%d", i);
		metrics_add(metrics_series_get(f, v), i);
	}
	w->ready = 1;
	return w;
}

static void
free_web(struct web *w)
{
	web_free(w);
	metrics_destroy(w->registry);
	free(w);
}

static char *
serve(struct web *w, const char *req, int *n)
{
	struct buf out = BUF_INIT;

	*n = http_serve_buffer(req, strlen(req), web_handle, w, &out);
	buf_putc(&out, '\0');
	return out.data;
}

static void
test_routes_and_methods(void **state)
{
	struct web *w = make_web();
	char *out;
	int n;

	(void)state;
	out = serve(w, "GET /-/healthy HTTP/1.1\r\n\r\n"
	    "HEAD /metrics HTTP/1.1\r\n\r\n"
	    "GET /nope HTTP/1.1\r\n\r\n"
	    "DELETE /metrics HTTP/1.1\r\n\r\n"
	    "GET /-/ready HTTP/1.1\r\nConnection: close\r\n\r\n"
	    "GET /-/healthy HTTP/1.1\r\n\r\n", &n);
	assert_int_equal(n, 5);   /* nothing after Connection: close */
	assert_contains(out, "HTTP/1.1 200 OK\r\n");
	assert_contains(out, "driftd is healthy.\n");
	assert_contains(out, "HTTP/1.1 404 Not Found\r\n");
	assert_contains(out, "HTTP/1.1 405 Method Not Allowed\r\n");
	assert_contains(out, "Allow: GET, HEAD\r\n");
	assert_contains(out, "Connection: close\r\n\r\ndriftd is ready.\n");
	/* HEAD: a length but no body before the next response. */
	assert_contains(out, "Content-Type: text/plain; version=0.0.4; "
	    "charset=utf-8\r\n");
	assert_not_contains(out, "# HELP test_big_total");
	free(out);
	w->ready = 0;
	out = serve(w, "GET /-/ready HTTP/1.1\r\n\r\n", &n);
	assert_contains(out, "HTTP/1.1 503 ");
	free(out);
	free_web(w);
}

static void
test_metrics_gzip_and_openmetrics(void **state)
{
	struct web *w = make_web();
	char *out, *body, plain[65536];
	uLongf plen = sizeof(plain);
	int n;

	(void)state;
	out = serve(w, "GET /metrics HTTP/1.1\r\nAccept-Encoding: gzip\r\n"
	    "Accept: application/openmetrics-text;version=1.0.0\r\n\r\n", &n);
	assert_contains(out, "Content-Encoding: gzip\r\n");
	assert_contains(out, "Content-Type: application/openmetrics-text; "
	    "version=1.0.0; charset=utf-8\r\n");
	assert_contains(out, "Vary: Accept, Accept-Encoding\r\n");
	body = strstr(out, "\r\n\r\n") + 4;
	{
		/* Inflate the gzip member and check the OpenMetrics text. */
		z_stream z;
		size_t clen = strtoul(strstr(out, "Content-Length: ") + 16, NULL, 10);

		memset(&z, 0, sizeof(z));
		assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
		z.next_in = (Bytef *)body;
		z.avail_in = (uInt)clen;
		z.next_out = (Bytef *)plain;
		z.avail_out = sizeof(plain) - 1;
		assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
		plen = sizeof(plain) - 1 - z.avail_out;
		plain[plen] = '\0';
		inflateEnd(&z);
	}
	assert_contains(plain, "# TYPE test_big counter\n");
	assert_contains(plain, "test_big_total{n=\"series-199\"} 199\n");
	assert_int_equal(strcmp(plain + plen - 6, "# EOF\n"), 0);
	free(out);
	free_web(w);
}

static void
test_bad_requests(void **state)
{
	struct web *w = make_web();
	char *big = malloc(70000), *out;
	int n;

	(void)state;
	out = serve(w, "GARBAGE\r\n\r\n", &n);
	assert_contains(out, "HTTP/1.1 400 Bad Request\r\n");
	assert_contains(out, "Connection: close\r\n");
	free(out);
	strcpy(big, "GET /metrics HTTP/1.1\r\nX-Big: ");
	memset(big + strlen(big), 'a', 65536);
	strcpy(big + 30 + 65536, "\r\n\r\n");
	out = serve(w, big, &n);
	assert_contains(out, "HTTP/1.1 431 ");
	assert_int_equal(n, 0);
	free(out);
	out = serve(w, "POST /metrics HTTP/1.1\r\nContent-Length: 99999\r\n\r\n", &n);
	/* The body never arrives: no response yet, and none is owed. */
	assert_int_equal(n, 0);
	free(out);
	free(big);
	free_web(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negotiate_format),
		cmocka_unit_test(test_accepts_gzip),
		cmocka_unit_test(test_routes_and_methods),
		cmocka_unit_test(test_metrics_gzip_and_openmetrics),
		cmocka_unit_test(test_bad_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
