/*
 * Unit tests for conf.c: the key table, every error path, and the line
 * reader around inih.
 */
#include "config.h"

#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"

struct result {
	int rc;
	struct conf *conf;
	struct buf errors;
	char path[64];
};

/* Write `text` to a temporary file and load it. */
static void
load_text(struct result *res, const char *text)
{
	FILE *fp;
	int fd;

	memset(res, 0, sizeof(*res));
	snprintf(res->path, sizeof(res->path), "/tmp/driftd-conf-XXXXXX");
	fd = mkstemp(res->path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	res->rc = conf_load(res->path, &res->conf, &res->errors);
	unlink(res->path);
}

static void
result_free(struct result *res)
{
	conf_free(res->conf);
	buf_free(&res->errors);
}

/* Assert the load failed with an error on `line` mentioning `what`. */
static void
expect_error(const char *text, int line, const char *what)
{
	struct result res;
	char loc[96];

	load_text(&res, text);
	assert_int_equal(res.rc, -EINVAL);
	assert_null(res.conf);
	snprintf(loc, sizeof(loc), "%s:%d: ", res.path, line);
	assert_contains(res.errors.data, loc);
	assert_contains(res.errors.data, what);
	result_free(&res);
}

static void
test_defaults(void **state)
{
	struct result res;

	(void)state;
	load_text(&res, "");
	assert_int_equal(res.rc, 0);
	assert_string_equal(res.conf->listen, CONF_DEFAULT_LISTEN);
	assert_string_equal(res.conf->state_dir, "");
	assert_int_equal(res.conf->log_level, LOG_LEVEL_INFO);
	result_free(&res);
}

static void
test_values(void **state)
{
	struct result res;

	(void)state;
	load_text(&res,
	    "; comment\n"
	    "# another comment\n"
	    "\n"
	    "[global]\n"
	    "listen = :9100   ; inline comment\n"
	    "  state_dir = /var/lib/driftd\n"
	    "log_level=debug\r\n");
	if (res.rc != 0)
		fail_msg("%s", res.errors.data);
	assert_string_equal(res.conf->listen, ":9100");
	assert_string_equal(res.conf->state_dir, "/var/lib/driftd");
	assert_int_equal(res.conf->log_level, LOG_LEVEL_DEBUG);
	result_free(&res);
}

/* [input] path may be repeated, one input per line (SPEC section 2);
 * the same path twice is an error on the second line. */
static void
test_repeated_path(void **state)
{
	struct result res;

	(void)state;
	load_text(&res,
	    "[input]\n"
	    "path = /var/log/a.log\n"
	    "start_at = beginning\n"
	    "path = /var/log/containers/model-*.log\n");
	if (res.rc != 0)
		fail_msg("%s", res.errors.data);
	assert_int_equal(res.conf->inputs.n, 2);
	assert_string_equal(res.conf->inputs.v[0], "/var/log/a.log");
	assert_string_equal(res.conf->inputs.v[1],
	    "/var/log/containers/model-*.log");
	result_free(&res);
	expect_error("[input]\npath = /a.log\npath = /b.log\npath = /a.log\n",
	    4, "listed twice");
}

/* value = PATH alone makes a regression model: no class by default. */
static void
test_value_without_class(void **state)
{
	struct result res;

	(void)state;
	load_text(&res, "[model]\nvalue = prediction\n");
	if (res.rc != 0)
		fail_msg("%s", res.errors.data);
	assert_string_equal(res.conf->value_path, "prediction");
	assert_string_equal(res.conf->class_path, "");
	result_free(&res);
	/* Both named: a class and a score, both kept. */
	load_text(&res, "[model]\nclass = label\nvalue = score\n");
	if (res.rc != 0)
		fail_msg("%s", res.errors.data);
	assert_string_equal(res.conf->value_path, "score");
	assert_string_equal(res.conf->class_path, "label");
	result_free(&res);
	load_text(&res, "");
	assert_string_equal(res.conf->class_path, "prediction");
	result_free(&res);
}

static void
test_bom(void **state)
{
	struct result res;

	(void)state;
	load_text(&res, "\xEF\xBB\xBF[global]\nlog_level = warn\n");
	if (res.rc != 0)
		fail_msg("%s", res.errors.data);
	assert_int_equal(res.conf->log_level, LOG_LEVEL_WARN);
	result_free(&res);
}

static void
test_errors(void **state)
{
	char longline[400];

	(void)state;
	expect_error("[global]\nlisten = :1\nlog_levle = info\n", 3,
	    "unknown key \"log_levle\" in section [global]");
	expect_error("[global]\n\n[globl]\nlisten = :1\n", 3,
	    "unknown section [globl]");
	expect_error("listen = :1\n", 1, "outside any section");
	expect_error("[global]\nlog_level = loud\n", 2, "log_level");
	expect_error("[global]\nlisten = 127.0.0.1\n", 2, "listen");
	expect_error("[global]\nlisten = 127.0.0.1:70000\n", 2, "listen");
	expect_error("[global]\nlisten = example.com:80\n", 2, "listen");
	expect_error("[global]\nlisten = ::1:80\n", 2, "listen");
	expect_error("[global]\nlisten = :1\nlisten = :2\n", 3,
	    "already set on line 2");
	expect_error("[global\nlisten = :1\n", 1, "malformed section header");
	expect_error("[features]\nfeatures.age = numeric\n\n"
	    "[feature features.agee]\nbins = 5\n", 4, "no such feature");
	expect_error("[global]\njust words\n", 2, "expected KEY = VALUE");
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "[global]\nstate_dir = ", 21);
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = '\0';
	expect_error(longline, 2, "line longer than");
}

/* A line of exactly CONF_MAX_LINE characters (newline not counted) is
 * read; one more is an error. */
static void
test_longest_line(void **state)
{
	char text[CONF_MAX_LINE + 64];
	struct result res;
	size_t head;

	(void)state;
	for (int extra = 0; extra <= 1; extra++) {
		head = (size_t)snprintf(text, sizeof(text), "[global]\nstate_dir = ");
		memset(text + head, 'd', sizeof(text) - head);
		/* line 2 is "state_dir = " and the d's */
		text[head + CONF_MAX_LINE - strlen("state_dir = ") + (size_t)extra] =
		    '\n';
		text[head + CONF_MAX_LINE - strlen("state_dir = ") + (size_t)extra + 1] =
		    '\0';
		load_text(&res, text);
		if (extra == 0) {
			if (res.rc != 0)
				fail_msg("%s", res.errors.data);
			assert_int_equal(strlen(res.conf->state_dir),
			    CONF_MAX_LINE - strlen("state_dir = "));
		} else {
			assert_int_equal(res.rc, -EINVAL);
			assert_contains(res.errors.data, "line longer than");
		}
		result_free(&res);
	}
}

static void
test_every_error_reported(void **state)
{
	struct result res;

	(void)state;
	load_text(&res, "[global]\nfoo = 1\nbar = 2\n[nope]\nx = 1\n");
	assert_int_equal(res.rc, -EINVAL);
	assert_contains(res.errors.data, ":2: unknown key \"foo\"");
	assert_contains(res.errors.data, ":3: unknown key \"bar\"");
	assert_contains(res.errors.data, ":4: unknown section [nope]");
	/* Keys of an unknown section are not reported one by one. */
	assert_not_contains(res.errors.data, ":5:");
	result_free(&res);
}

static void
test_missing_file(void **state)
{
	struct buf errors = BUF_INIT;
	struct conf *c = NULL;
	int r;

	(void)state;
	r = conf_load("/nonexistent/driftd.conf", &c, &errors);
	assert_int_equal(r, -ENOENT);
	assert_null(c);
	assert_contains(errors.data, "/nonexistent/driftd.conf: ");
	buf_free(&errors);
}

static void
test_parse_listen(void **state)
{
	char host[64];
	int port;

	(void)state;
	assert_int_equal(conf_parse_listen("127.0.0.1:9847", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 9847);
	assert_int_equal(conf_parse_listen(":80", host, sizeof(host), &port), 0);
	assert_string_equal(host, "");
	assert_int_equal(port, 80);
	assert_int_equal(conf_parse_listen("[::1]:0", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 0);
	assert_int_equal(conf_parse_listen("localhost:1", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(conf_parse_listen("1.2.3.4:", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(conf_parse_listen("1.2.3.4:-1", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(conf_parse_listen("1.2.3.4:80x", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(conf_parse_listen("[::1]80", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(conf_parse_listen("300.1.1.1:80", host, sizeof(host), &port), -EINVAL);
}

static void
test_parse_duration(void **state)
{
	uint64_t ms;

	(void)state;
	assert_int_equal(conf_parse_duration("0", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(conf_parse_duration("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(conf_parse_duration("10s", &ms), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(conf_parse_duration("1.5s", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(conf_parse_duration("15m", &ms), 0);
	assert_int_equal(ms, 900000);
	assert_int_equal(conf_parse_duration("2h", &ms), 0);
	assert_int_equal(ms, 7200000);
	assert_int_equal(conf_parse_duration("7d", &ms), 0);
	assert_int_equal(ms, 604800000);
	assert_int_equal(conf_parse_duration("10", &ms), -EINVAL);
	assert_int_equal(conf_parse_duration("10 s", &ms), -EINVAL);
	assert_int_equal(conf_parse_duration("-1s", &ms), -EINVAL);
	assert_int_equal(conf_parse_duration("s", &ms), -EINVAL);
	assert_int_equal(conf_parse_duration("1y", &ms), -EINVAL);
	assert_int_equal(conf_parse_duration("0.1ms", &ms), -EINVAL);
	assert_int_equal(conf_parse_duration("1e30s", &ms), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_repeated_path),
		cmocka_unit_test(test_value_without_class),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_longest_line),
		cmocka_unit_test(test_every_error_reported),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_parse_duration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
