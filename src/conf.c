/*
 * conf.c - the configuration file.
 *
 * inih splits lines into keys and values.  Around it, a line reader of our
 * own (conf_reader) tracks line numbers, parses section headers itself so
 * that a section such as [feature probabilities[0]] keeps its brackets,
 * reports lines inih would silently misread, and strips indentation so that
 * inih's multi-line continuation never glues two keys together.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>
#include <uv.h>

#include "conf.h"
#include "util.h"

enum key_type {
	KT_STRING,
	KT_LISTEN,
	KT_LOGLEVEL,
};

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;          /* of the field in struct conf */
	const char *deflt;      /* parsed like a value from the file */
};

#define F(field) offsetof(struct conf, field)

/*
 * Every configuration key.  Adding a key is one line here, one field in
 * struct conf, and its entries in driftd.conf(5) and etc/driftd.conf.
 */
static const struct key keys[] = {
	{ "global", "listen",    KT_LISTEN,   F(listen),    CONF_DEFAULT_LISTEN },
	{ "global", "state_dir", KT_STRING,   F(state_dir), "" },
	{ "global", "log_level", KT_LOGLEVEL, F(log_level), "info" },
};

#undef F

struct loader {
	struct conf *conf;
	const char *file;
	struct buf *errors;
	int nerrors;
	int set_at[ARRAY_SIZE(keys)];   /* line that set each key, 0 if unset */

	/* conf_reader state */
	const char *text;
	size_t len;
	size_t pos;
	int lineno;
	char *section;          /* current section as written, NULL before the first */
	int section_line;
	int section_bad;        /* current section is unknown: report it once */
};

static void loader_error(struct loader *l, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
loader_error(struct loader *l, int line, const char *fmt, ...)
{
	va_list ap;

	buf_printf(l->errors, "%s:%d: ", l->file, line);
	va_start(ap, fmt);
	buf_vprintf(l->errors, fmt, ap);
	va_end(ap);
	buf_putc(l->errors, '\n');
	l->nerrors++;
}

static void *
field_ptr(struct conf *c, const struct key *k)
{
	return (char *)c + k->offset;
}

static const void *
field_cptr(const struct conf *c, const struct key *k)
{
	return (const char *)c + k->offset;
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

/*
 * Parse `value` for key `k` into its field.  On failure returns -EINVAL and
 * writes a message (without location) into err.
 */
static int
parse_value(struct conf *c, const struct key *k, const char *value,
    char *err, size_t errsize)
{
	void *p = field_ptr(c, k);
	char host[64];
	int port;

	switch (k->type) {
	case KT_STRING:
		free(*(char **)p);
		*(char **)p = xstrdup(value);
		return 0;
	case KT_LISTEN:
		if (conf_parse_listen(value, host, sizeof(host), &port) != 0) {
			snprintf(err, errsize, "%s: expected HOST:PORT, :PORT "
			    "or [IPV6]:PORT with an IP address or localhost, "
			    "got \"%s\"", k->name, value);
			return -EINVAL;
		}
		free(*(char **)p);
		*(char **)p = xstrdup(value);
		return 0;
	case KT_LOGLEVEL:
		if (log_level_parse(value, (enum log_level *)p) != 0) {
			snprintf(err, errsize, "%s: expected error, warn, info "
			    "or debug, got \"%s\"", k->name, value);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(err, errsize, "%s: unhandled type", k->name);
	return -EINVAL;
}

static int
section_known(const char *section)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(keys[i].section, section) == 0)
			return 1;
	return 0;
}

static int
handler(void *user, const char *ini_section, const char *name,
    const char *value)
{
	struct loader *l = user;
	char err[512];
	size_t i;

	(void)ini_section;   /* conf_reader tracks sections itself */
	if (l->section == NULL) {
		loader_error(l, l->lineno, "\"%s\" outside any section", name);
		return 1;
	}
	if (l->section_bad)
		return 1;    /* already reported at the section header */
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strcmp(keys[i].section, l->section) != 0 ||
		    strcmp(keys[i].name, name) != 0)
			continue;
		if (l->set_at[i] != 0) {
			loader_error(l, l->lineno, "%s: already set on line %d",
			    name, l->set_at[i]);
			return 1;
		}
		if (parse_value(l->conf, &keys[i], value, err, sizeof(err)) != 0) {
			loader_error(l, l->lineno, "%s", err);
			return 1;
		}
		l->set_at[i] = l->lineno;
		return 1;
	}
	loader_error(l, l->lineno, "unknown key \"%s\" in section [%s]", name,
	    l->section);
	/* Returning 1 keeps inih going so that every error is reported. */
	return 1;
}

static int
line_is_blank_or_comment(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return *s == '\0' || *s == ';' || *s == '#';
}

/*
 * Handle a section header line ourselves.  inih ends a section name at the
 * first ']', which would cut "[feature probabilities[0]]" short; here the
 * name runs to the last ']' before an inline comment.
 */
static void
reader_section(struct loader *l, const char *line, size_t len)
{
	const char *end = line + len;
	const char *close = NULL;
	const char *p;

	/* An inline comment starts at ';' preceded by whitespace. */
	for (p = line + 1; p < end; p++) {
		if (*p == ';' && (p[-1] == ' ' || p[-1] == '\t'))
			break;
		if (*p == ']')
			close = p;
	}
	for (const char *q = close ? close + 1 : end; q < p; q++) {
		if (*q != ' ' && *q != '\t' && *q != '\r') {
			close = NULL;
			break;
		}
	}
	free(l->section);
	l->section = NULL;
	if (close == NULL) {
		loader_error(l, l->lineno, "malformed section header");
		l->section = xstrdup("");
		l->section_bad = 1;
		return;
	}
	p = line + 1;
	while (p < close && (*p == ' ' || *p == '\t'))
		p++;
	while (close > p && (close[-1] == ' ' || close[-1] == '\t'))
		close--;
	l->section = xstrndup(p, (size_t)(close - p));
	l->section_line = l->lineno;
	l->section_bad = !section_known(l->section);
	if (l->section_bad)
		loader_error(l, l->lineno, "unknown section [%s]", l->section);
}

/*
 * inih's reader callback: hand inih one line at a time (fgets semantics).
 * Section headers, over-long lines and lines without a separator are
 * handled here and replaced by an empty line, so inih never reports a
 * syntax error of its own.
 */
static char *
conf_reader(char *str, int num, void *stream)
{
	struct loader *l = stream;
	const char *line, *nl;
	size_t len, skip;

	if (l->pos >= l->len)
		return NULL;
	line = l->text + l->pos;
	nl = memchr(line, '\n', l->len - l->pos);
	len = nl ? (size_t)(nl - line) + 1 : l->len - l->pos;
	l->pos += len;
	l->lineno++;
	str[0] = '\0';

	/* A UTF-8 byte order mark may open the file. */
	skip = 0;
	if (l->lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
		skip = 3;
	/* Leading whitespace would make inih treat the line as a
	 * continuation of the previous value. */
	while (skip < len && (line[skip] == ' ' || line[skip] == '\t'))
		skip++;
	line += skip;
	len -= skip;

	if (memchr(line, '\0', len) != NULL) {
		loader_error(l, l->lineno, "NUL byte in line");
		return str;
	}
	if (len + 1 > (size_t)num || len > CONF_MAX_LINE) {
		loader_error(l, l->lineno, "line longer than %d characters",
		    CONF_MAX_LINE);
		return str;
	}
	memcpy(str, line, len);
	str[len] = '\0';
	if (line_is_blank_or_comment(str))
		return str;
	if (str[0] == '[') {
		reader_section(l, str, strcspn(str, "\n"));
		str[0] = '\0';
		return str;
	}
	if (strcspn(str, "=:") == strlen(str)) {
		loader_error(l, l->lineno, "expected KEY = VALUE");
		str[0] = '\0';
	}
	return str;
}

static struct conf *
conf_new(void)
{
	struct conf *c = xcalloc(1, sizeof(*c));
	char err[512];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		if (keys[i].deflt == NULL)
			continue;
		if (parse_value(c, &keys[i], keys[i].deflt, err, sizeof(err)) != 0) {
			/* The table itself is wrong: a bug, not user error. */
			fprintf(stderr, "driftd: bad default: %s\n", err);
			abort();
		}
	}
	return c;
}

struct conf *
conf_defaults(void)
{
	struct conf *c = conf_new();

	c->file = xstrdup("(defaults)");
	return c;
}

static int
read_file(const char *path, char **out, size_t *outlen)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	text = xmalloc(CONF_MAX_FILE_BYTES + 1);
	for (;;) {
		ssize_t n = read(fd, text + len, CONF_MAX_FILE_BYTES + 1 - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CONF_MAX_FILE_BYTES) {
			r = -EFBIG;
			goto out;
		}
	}
	text[len] = '\0';
	*out = text;
	*outlen = len;
	text = NULL;
out:
	free(text);
	close(fd);
	return r;
}

int
conf_load(const char *path, struct conf **out, struct buf *errors)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	r = read_file(path, &text, &len);
	if (r != 0) {
		buf_printf(errors, "%s: %s\n", path,
		    r == -EINVAL ? "not a regular file" :
		    r == -EFBIG ? "file too large" : uv_strerror(r));
		return r;
	}
	r = conf_parse(path, text, len, out, errors);
	free(text);
	return r;
}

int
conf_parse(const char *path, const char *text, size_t len, struct conf **out,
    struct buf *errors)
{
	struct loader l;
	int r;

	*out = NULL;
	memset(&l, 0, sizeof(l));
	l.conf = conf_new();
	l.conf->file = xstrdup(path);
	l.file = path;
	l.errors = errors;
	l.text = text;
	l.len = len;

	r = ini_parse_stream(conf_reader, &l, handler, &l);
	if (r > 0 && l.nerrors == 0)
		loader_error(&l, r, "syntax error");
	else if (r < 0 && l.nerrors == 0)
		loader_error(&l, 0, "cannot parse (error %d)", r);

	free(l.section);
	if (l.nerrors > 0) {
		conf_free(l.conf);
		return -EINVAL;
	}
	*out = l.conf;
	return 0;
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		switch (keys[i].type) {
		case KT_STRING:
		case KT_LISTEN:
			free(*(char **)field_ptr(c, &keys[i]));
			break;
		case KT_LOGLEVEL:
			break;
		}
	}
	free(c->file);
	free(c);
}

void
conf_dump(const struct conf *c, FILE *fp)
{
	const char *section = NULL;
	size_t i;

	fprintf(fp, "; resolved configuration from %s\n", c->file);
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct key *k = &keys[i];
		const void *p = field_cptr(c, k);

		if (section == NULL || strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(fp, "%s[%s]\n", i ? "\n" : "", section);
		}
		fprintf(fp, "%s = ", k->name);
		switch (k->type) {
		case KT_STRING:
		case KT_LISTEN:
			fprintf(fp, "%s", *(char *const *)p);
			break;
		case KT_LOGLEVEL:
			fprintf(fp, "%s", log_level_name(*(const enum log_level *)p));
			break;
		}
		fputc('\n', fp);
	}
}
