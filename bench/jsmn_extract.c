/*
 * jsmn_extract: the "plain C tokenizer" reference of the ingest benchmark.
 *
 *   jsmn_extract FILE
 *
 * Extracts the same fields as simdjson_extract (prediction, confidence,
 * latency_ms and every member of "features") from each line of a JSON-lines
 * prediction log, the way a small C program without a SIMD parser would:
 * read() into a buffer, split at newlines, tokenize each line with jsmn
 * (Debian's libjsmn-dev, header-only), then walk the tokens and convert
 * numbers with strtod().  The values are summed and counted and the totals
 * printed, so the compiler cannot drop the work.
 *
 * jsmn is built in strict mode (JSMN_STRICT: primitives must be true, false,
 * null or start like a number), so that the line is at least checked to be
 * JSON-shaped, as any real ingest has to.  Strings are used as they stand in
 * the line (no unescaping; the generated logs have no escapes).
 *
 * Build: gcc -O2 jsmn_extract.c
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

#define CHUNK (4u << 20) /* read size, and the longest line accepted */
#define MAX_TOKENS 512   /* plenty for 20 features; more is a bad line */
#define MAX_CLASSES 16

struct totals {
	size_t lines, errors, numbers, strings, string_bytes, key_bytes;
	double sum; /* confidence + latency + numeric features */
	size_t nclasses;
	struct {
		char name[64];
		size_t count;
	} classes[MAX_CLASSES];
};

/* Does token t of line hold exactly the text s? */
static int tok_is(const char *line, const jsmntok_t *t, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(t->end - t->start) == n &&
	       memcmp(line + t->start, s, n) == 0;
}

/* Index of the first token after the value at tokens[i] and everything
 * nested in it.  Without parent links jsmn gives no subtree size, but
 * nested tokens start before their container ends. */
static int skip(const jsmntok_t *tok, int i, int n)
{
	int end = tok[i].end;
	for (i++; i < n && tok[i].start < end; i++)
		;
	return i;
}

/* A number token: strtod, and check that it used up the whole token. */
static int number(const char *line, const jsmntok_t *t, double *out)
{
	char *end;
	if (t->type != JSMN_PRIMITIVE)
		return -1;
	*out = strtod(line + t->start, &end);
	return end == line + t->end ? 0 : -1;
}

static void count_class(struct totals *tt, const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < tt->nclasses; i++)
		if (strlen(tt->classes[i].name) == n &&
		    memcmp(tt->classes[i].name, s, n) == 0) {
			tt->classes[i].count++;
			return;
		}
	if (tt->nclasses < MAX_CLASSES && n < sizeof tt->classes[0].name) {
		memcpy(tt->classes[tt->nclasses].name, s, n);
		tt->classes[tt->nclasses].name[n] = '\0';
		tt->classes[tt->nclasses++].count = 1;
	}
}

static int extract(const char *line, size_t len, struct totals *tt)
{
	static jsmntok_t tok[MAX_TOKENS];
	jsmn_parser p;
	int n, i, m, j, f;
	double d;

	jsmn_init(&p);
	n = jsmn_parse(&p, line, len, tok, MAX_TOKENS);
	if (n < 1 || tok[0].type != JSMN_OBJECT)
		return -1;
	/* Members of the top object: key at i, value at i + 1. */
	for (i = 1, m = 0; m < tok[0].size && i + 1 < n; m++) {
		const jsmntok_t *k = &tok[i], *v = &tok[i + 1];
		if (tok_is(line, k, "features") && v->type == JSMN_OBJECT) {
			for (j = i + 2, f = 0; f < v->size && j + 1 < n; f++) {
				const jsmntok_t *fv = &tok[j + 1];
				/* the feature's name, tok[j] (used raw) */
				tt->key_bytes += tok[j].end - tok[j].start;
				if (fv->type == JSMN_STRING) {
					tt->string_bytes += fv->end - fv->start;
					tt->strings++;
				} else if (number(line, fv, &d) == 0) {
					tt->sum += d;
					tt->numbers++;
				}
				j = skip(tok, j + 1, n);
			}
		} else if (tok_is(line, k, "prediction")) {
			if (v->type != JSMN_STRING)
				return -1;
			count_class(tt, line + v->start, v->end - v->start);
		} else if (tok_is(line, k, "confidence") ||
			   tok_is(line, k, "latency_ms")) {
			if (number(line, v, &d))
				return -1;
			tt->sum += d;
			tt->numbers++;
		}
		i = skip(tok, i + 1, n);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[CHUNK];
	struct totals tt = {0};
	size_t have = 0, i;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "jsmn_extract: %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	for (;;) {
		ssize_t r = read(fd, buf + have, CHUNK - have);
		char *line, *nl, *end;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "jsmn_extract: %s: %s\n", argv[1],
				strerror(errno));
			return 1;
		}
		if (r == 0)
			break; /* a last line without a newline is not used */
		have += (size_t)r;
		end = buf + have;
		for (line = buf; (nl = memchr(line, '\n', end - line));
		     line = nl + 1) {
			tt.lines++;
			if (extract(line, nl - line, &tt))
				tt.errors++;
		}
		if (line == buf && have == CHUNK) {
			fprintf(stderr, "jsmn_extract: line > %u bytes\n",
				CHUNK);
			return 1;
		}
		have = end - line;
		memmove(buf, line, have);
	}
	close(fd);

	printf("lines %zu errors %zu numbers %zu strings %zu string_bytes %zu "
	       "key_bytes %zu sum %.17g", tt.lines, tt.errors, tt.numbers,
	       tt.strings, tt.string_bytes, tt.key_bytes, tt.sum);
	for (i = 0; i < tt.nclasses; i++)
		printf(" %s=%zu", tt.classes[i].name, tt.classes[i].count);
	printf("\n");
	return tt.errors ? 1 : 0;
}
