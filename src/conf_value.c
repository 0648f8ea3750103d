/*
 * conf_value.c - configuration values in and out: parsing a key's text
 * into its field by the key's type, printing it back for --check-config's
 * dump, and freeing it.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "conf_internal.h"
#include "path.h"
#include "util.h"

static const char *const test_names[CONF_TEST_COUNT] = {
	[CONF_TEST_KS] = "ks",
	[CONF_TEST_PSI] = "psi",
	[CONF_TEST_JS] = "js",
	[CONF_TEST_WASSERSTEIN] = "wasserstein",
	[CONF_TEST_CHI2] = "chi2",
	[CONF_TEST_KL] = "kl",
	[CONF_TEST_MMD] = "mmd",
};

const char *
conf_test_name(enum conf_test t)
{
	return test_names[t];
}

int
conf_parse_listen(const char *s, char *host, size_t hostsize, int *port)
{
	const char *colon;
	const char *h;
	size_t hlen;
	char *end;
	long p;
	struct sockaddr_in6 a6;
	struct sockaddr_in a4;
	char tmp[64];

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -EINVAL;
		h = s;
		hlen = (size_t)(colon - s);
		if (memchr(h, ':', hlen) != NULL)
			return -EINVAL;   /* bare IPv6 needs brackets */
	}
	if (hlen >= sizeof(tmp) || hlen >= hostsize)
		return -EINVAL;
	memcpy(tmp, h, hlen);
	tmp[hlen] = '\0';
	if (!isdigit((unsigned char)colon[1]))
		return -EINVAL;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || p < 0 || p > 65535)
		return -EINVAL;
	if (strcmp(tmp, "localhost") == 0)
		util_strlcpy(tmp, "127.0.0.1", sizeof(tmp));
	if (tmp[0] != '\0' && uv_ip4_addr(tmp, 0, &a4) != 0 &&
	    uv_ip6_addr(tmp, 0, &a6) != 0)
		return -EINVAL;
	util_strlcpy(host, tmp, hostsize);
	*port = (int)p;
	return 0;
}

int
conf_parse_duration(const char *s, uint64_t *ms)
{
	static const struct {
		const char *suffix;
		double ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1e3 }, { "m", 60e3 }, { "h", 3600e3 },
		{ "d", 86400e3 },
	};
	char *end;
	double v;
	size_t i;

	if (!isdigit((unsigned char)s[0]) && s[0] != '.')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || !isfinite(v) || v < 0)
		return -EINVAL;
	if (*end == '\0') {
		if (v != 0)
			return -EINVAL;   /* a unit is required */
		*ms = 0;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			double r = v * units[i].ms;

			if (r > 1e15 || (r != 0 && r < 1))
				return -EINVAL;
			*ms = (uint64_t)llround(r);
			return 0;
		}
	}
	return -EINVAL;
}

static int
parse_uint(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_double(const char *s, size_t len, double *out)
{
	char tmp[64];
	char *end;

	if (len == 0 || len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	*out = strtod(tmp, &end);
	if (errno != 0 || *end != '\0' || !isfinite(*out))
		return -EINVAL;
	return 0;
}

/* "a, b, c": increasing finite numbers within [min, max]. */
static int
parse_buckets(const char *value, const struct key *k, struct conf_doubles *out,
    char *err, size_t errsize)
{
	struct conf_doubles d = { NULL, 0 };
	const char *p = value;

	for (;;) {
		const char *comma = strchr(p, ',');
		const char *e = comma ? comma : p + strlen(p);
		const char *b = p;
		double v;

		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (parse_double(b, (size_t)(e - b), &v) != 0) {
			snprintf(err, errsize, "%s: \"%.*s\" is not a number",
			    k->name, (int)(e - b), b);
			goto fail;
		}
		if (v < k->min || v > k->max) {
			snprintf(err, errsize, "%s: %g is outside [%g, %g]",
			    k->name, v, k->min, k->max);
			goto fail;
		}
		if (d.n > 0 && v <= d.v[d.n - 1]) {
			snprintf(err, errsize, "%s: bounds must increase "
			    "(%g after %g)", k->name, v, d.v[d.n - 1]);
			goto fail;
		}
		if (d.n >= CONF_MAX_BUCKETS) {
			snprintf(err, errsize, "%s: more than %d bounds",
			    k->name, CONF_MAX_BUCKETS);
			goto fail;
		}
		d.v = xreallocarray(d.v, d.n + 1, sizeof(double));
		d.v[d.n++] = v;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	free(out->v);
	*out = d;
	return 0;
fail:
	free(d.v);
	return -EINVAL;
}

static void
append_test_names(char *err, size_t errsize, unsigned mask)
{
	int i, first = 1;

	for (i = 0; i < CONF_TEST_COUNT; i++) {
		size_t n = strlen(err);

		if (!(mask & (1u << i)))
			continue;
		snprintf(err + n, errsize - n, "%s %s", first ? "" : ",",
		    test_names[i]);
		first = 0;
	}
}

/* "ks, psi" or "ks psi": a non-empty set of tests out of k->mask. */
static int
parse_tests(const char *value, const struct key *k, unsigned *out, char *err,
    size_t errsize)
{
	const char *p = value;
	unsigned mask = 0;

	while (*p != '\0') {
		size_t len;
		int i;

		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, ", \t");
		for (i = 0; i < CONF_TEST_COUNT; i++)
			if (strlen(test_names[i]) == len &&
			    memcmp(p, test_names[i], len) == 0 &&
			    (k->mask & (1u << i)))
				break;
		if (i == CONF_TEST_COUNT) {
			snprintf(err, errsize, "%s: \"%.*s\" is not one of", k->name,
			    (int)len, p);
			append_test_names(err, errsize, k->mask);
			return -EINVAL;
		}
		mask |= 1u << i;
		p += len;
	}
	if (mask == 0) {
		snprintf(err, errsize, "%s: name at least one test", k->name);
		return -EINVAL;
	}
	*out = mask;
	return 0;
}

/* Check a field path; `allow_max` also accepts max(PATH). */
static int
check_path(const char *value, int allow_max, const struct key *k, char *err,
    size_t errsize)
{
	const char *perr;
	struct path p;
	size_t len = strlen(value);

	if (len == 0)
		return 0;
	if (allow_max && strncmp(value, "max(", 4) == 0 && value[len - 1] == ')') {
		value += 4;
		len -= 5;
	}
	if (path_parse(value, len, &p, &perr) != 0) {
		snprintf(err, errsize, "%s: bad field path \"%s\": %s", k->name,
		    value, perr);
		return -EINVAL;
	}
	path_free(&p);
	return 0;
}

static void
set_string(void *field, const char *value)
{
	free(*(char **)field);
	*(char **)field = xstrdup(value);
}

int
conf_value_parse(void *base, const struct key *k, const char *value,
    char *err, size_t errsize)
{
	void *p = (char *)base + k->offset;
	struct conf_strings *list;
	char host[64];
	uint64_t u;
	int port;
	size_t i;

	switch (k->type) {
	case KT_STRING:
		set_string(p, value);
		return 0;
	case KT_NAME:
		if (value[0] == '\0') {
			snprintf(err, errsize, "%s: must not be empty", k->name);
			return -EINVAL;
		}
		set_string(p, value);
		return 0;
	case KT_LISTEN:
		if (conf_parse_listen(value, host, sizeof(host), &port) != 0) {
			snprintf(err, errsize, "%s: expected HOST:PORT, :PORT "
			    "or [IPV6]:PORT with an IP address or localhost, "
			    "got \"%s\"", k->name, value);
			return -EINVAL;
		}
		set_string(p, value);
		return 0;
	case KT_LOGLEVEL:
		if (log_level_parse(value, (enum log_level *)p) != 0) {
			snprintf(err, errsize, "%s: expected error, warn, info "
			    "or debug, got \"%s\"", k->name, value);
			return -EINVAL;
		}
		return 0;
	case KT_STRINGS:
		if (value[0] == '\0') {
			snprintf(err, errsize, "%s: must not be empty", k->name);
			return -EINVAL;
		}
		list = p;
		for (i = 0; i < list->n; i++) {
			if (strcmp(list->v[i], value) == 0) {
				snprintf(err, errsize, "%s: \"%s\" is listed "
				    "twice", k->name, value);
				return -EINVAL;
			}
		}
		if (list->n >= CONF_MAX_INPUTS) {
			snprintf(err, errsize, "%s: more than %d entries",
			    k->name, CONF_MAX_INPUTS);
			return -EINVAL;
		}
		list->v = xreallocarray(list->v, list->n + 1, sizeof(char *));
		list->v[list->n++] = xstrdup(value);
		return 0;
	case KT_ENUM:
		for (i = 0; k->choices[i] != NULL; i++) {
			if (strcmp(k->choices[i], value) == 0) {
				*(int *)p = (int)i;
				return 0;
			}
		}
		snprintf(err, errsize, "%s: \"%s\" is not one of", k->name, value);
		for (i = 0; k->choices[i] != NULL; i++) {
			size_t n = strlen(err);

			snprintf(err + n, errsize - n, "%s %s",
			    i == 0 ? "" : (k->choices[i + 1] ? "," : " or"),
			    k->choices[i]);
		}
		return -EINVAL;
	case KT_DURATION:
		if (conf_parse_duration(value, &u) != 0) {
			snprintf(err, errsize, "%s: expected a duration such as "
			    "500ms, 10s, 15m, 1h or 7d, got \"%s\"", k->name, value);
			return -EINVAL;
		}
		if ((double)u < k->min || (double)u > k->max) {
			snprintf(err, errsize, "%s: %s is outside %gms to %gms",
			    k->name, value, k->min, k->max);
			return -EINVAL;
		}
		*(uint64_t *)p = u;
		return 0;
	case KT_UINT:
		if (parse_uint(value, &u) != 0 || (double)u < k->min ||
		    (double)u > k->max) {
			snprintf(err, errsize, "%s: expected a whole number from "
			    "%.0f to %.0f, got \"%s\"", k->name, k->min, k->max,
			    value);
			return -EINVAL;
		}
		*(uint64_t *)p = u;
		return 0;
	case KT_BUCKETS:
		return parse_buckets(value, k, p, err, errsize);
	case KT_PATH:
	case KT_CONFIDENCE:
		if (check_path(value, k->type == KT_CONFIDENCE, k, err, errsize) != 0)
			return -EINVAL;
		set_string(p, value);
		return 0;
	case KT_DOUBLE: {
		double d;

		if (parse_double(value, strlen(value), &d) != 0 ||
		    d < k->min || d > k->max ||
		    ((k->excl & EXCL_MIN) && d == k->min) ||
		    ((k->excl & EXCL_MAX) && d == k->max)) {
			snprintf(err, errsize, "%s: expected a number in %c%g, %g%c, "
			    "got \"%s\"", k->name, k->excl & EXCL_MIN ? '(' : '[',
			    k->min, k->max, k->excl & EXCL_MAX ? ')' : ']', value);
			return -EINVAL;
		}
		*(double *)p = d;
		return 0;
	}
	case KT_TESTS:
		return parse_tests(value, k, (unsigned *)p, err, errsize);
	case KT_DECIDE:
		if (strcmp(value, "auto") == 0) {
			*(int *)p = CONF_DECIDE_AUTO;
			return 0;
		}
		for (i = 0; i < CONF_TEST_COUNT; i++) {
			if (strcmp(value, test_names[i]) == 0 && (k->mask & (1u << i))) {
				*(int *)p = (int)i;
				return 0;
			}
		}
		snprintf(err, errsize, "%s: expected auto or one of", k->name);
		append_test_names(err, errsize, k->mask);
		snprintf(err + strlen(err), errsize - strlen(err), ", got \"%s\"",
		    value);
		return -EINVAL;
	}
	snprintf(err, errsize, "%s: unhandled type", k->name);
	return -EINVAL;
}

void
conf_value_free(const struct key *k, void *base)
{
	void *p = (char *)base + k->offset;

	switch (k->type) {
	case KT_STRING:
	case KT_NAME:
	case KT_LISTEN:
	case KT_PATH:
	case KT_CONFIDENCE:
		free(*(char **)p);
		break;
	case KT_STRINGS: {
		struct conf_strings *list = p;
		size_t j;

		for (j = 0; j < list->n; j++)
			free(list->v[j]);
		free(list->v);
		break;
	}
	case KT_BUCKETS:
		free(((struct conf_doubles *)p)->v);
		break;
	case KT_LOGLEVEL:
	case KT_ENUM:
	case KT_DURATION:
	case KT_UINT:
	case KT_DOUBLE:
	case KT_TESTS:
	case KT_DECIDE:
		break;
	}
}

static void
dump_duration(FILE *fp, uint64_t ms)
{
	static const struct { uint64_t ms; const char *unit; } units[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" },
		{ 1000, "s" }, { 1, "ms" },
	};
	size_t i;

	if (ms == 0) {
		fputs("0", fp);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (ms % units[i].ms == 0) {
			fprintf(fp, "%llu%s", (unsigned long long)(ms / units[i].ms),
			    units[i].unit);
			return;
		}
	}
}

static void
dump_tests(FILE *fp, unsigned mask)
{
	int i, first = 1;

	for (i = 0; i < CONF_TEST_COUNT; i++) {
		if (mask & (1u << i)) {
			fprintf(fp, "%s%s", first ? "" : ",", test_names[i]);
			first = 0;
		}
	}
}

/* Print one key's value from `base` (a struct conf or conf_drift); returns
 * 0 when the key is unset in an override and was skipped. */
int
conf_value_dump(FILE *fp, const struct key *k, const void *base)
{
	const void *p = (const char *)base + k->offset;
	size_t j;

	switch (k->type) {
	case KT_STRING:
	case KT_NAME:
	case KT_LISTEN:
	case KT_PATH:
	case KT_CONFIDENCE:
		fprintf(fp, "%s = %s\n", k->name, *(char *const *)p);
		break;
	case KT_LOGLEVEL:
		fprintf(fp, "%s = %s\n", k->name,
		    log_level_name(*(const enum log_level *)p));
		break;
	case KT_STRINGS: {
		const struct conf_strings *list = p;

		if (list->n == 0)
			fprintf(fp, ";%s = \n", k->name);
		for (j = 0; j < list->n; j++)
			fprintf(fp, "%s = %s\n", k->name, list->v[j]);
		break;
	}
	case KT_ENUM:
		fprintf(fp, "%s = %s\n", k->name, k->choices[*(const int *)p]);
		break;
	case KT_DURATION:
		fprintf(fp, "%s = ", k->name);
		dump_duration(fp, *(const uint64_t *)p);
		fputc('\n', fp);
		break;
	case KT_UINT:
		if (*(const uint64_t *)p == 0 && k->deflt == NULL)
			return 0;
		fprintf(fp, "%s = %llu\n", k->name,
		    (unsigned long long)*(const uint64_t *)p);
		break;
	case KT_BUCKETS:
	case KT_DOUBLE: {
		struct buf b = BUF_INIT;

		if (k->type == KT_DOUBLE) {
			if (isnan(*(const double *)p))
				return 0;
			buf_put_double(&b, *(const double *)p);
		} else {
			const struct conf_doubles *d = p;

			for (j = 0; j < d->n; j++) {
				if (j > 0)
					buf_putc(&b, ',');
				buf_put_double(&b, d->v[j]);
			}
		}
		fprintf(fp, "%s = %s\n", k->name, b.data ? b.data : "");
		buf_free(&b);
		break;
	}
	case KT_TESTS:
		if (*(const unsigned *)p == 0)
			return 0;
		fprintf(fp, "%s = ", k->name);
		dump_tests(fp, *(const unsigned *)p);
		fputc('\n', fp);
		break;
	case KT_DECIDE: {
		int d = *(const int *)p;

		if (d == UNSET_DECIDE)
			return 0;
		fprintf(fp, "%s = %s\n", k->name,
		    d == CONF_DECIDE_AUTO ? "auto" : test_names[d]);
		break;
	}
	}
	return 1;
}
