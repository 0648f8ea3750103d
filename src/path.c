/*
 * path.c - field paths.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "util.h"

static int
name_byte(unsigned char c)
{
	return c != '.' && c != '[' && c != ']' && c != '"' && c != ' ' &&
	    c != '\t' && c != '\r' && c != '\n' && c != '\0';
}

static int
bare_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

void
path_format_key(struct buf *b, const char *key, size_t keylen)
{
	size_t i;
	int bare = keylen > 0;

	for (i = 0; i < keylen && bare; i++)
		bare = bare_byte((unsigned char)key[i]);
	if (bare) {
		buf_append(b, key, keylen);
		return;
	}
	buf_putc(b, '"');
	for (i = 0; i < keylen; i++) {
		if (key[i] == '"' || key[i] == '\\')
			buf_putc(b, '\\');
		buf_putc(b, key[i]);
	}
	buf_putc(b, '"');
}

static void
path_render(struct path *p)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < p->nsegs; i++) {
		const struct path_seg *s = &p->segs[i];

		if (s->is_index) {
			buf_printf(&b, "[%u]", s->index);
			continue;
		}
		if (i > 0)
			buf_putc(&b, '.');
		path_format_key(&b, s->key, s->keylen);
	}
	p->text = b.data != NULL ? b.data : xstrdup("");
}

static void
push_key(struct path *p, const char *key, size_t len)
{
	struct path_seg *s;

	p->segs = xreallocarray(p->segs, p->nsegs + 1, sizeof(*p->segs));
	s = &p->segs[p->nsegs++];
	s->is_index = 0;
	s->index = 0;
	s->key = xstrndup(key, len);
	s->keylen = len;
}

int
path_parse(const char *s, size_t len, struct path *out, const char **err)
{
	const char *end = s + len;
	struct buf key = BUF_INIT;
	int r = -EINVAL;

	memset(out, 0, sizeof(*out));
	*err = NULL;
	if (len == 0) {
		*err = "empty path";
		goto fail;
	}
	for (;;) {
		if (out->nsegs >= PATH_MAX_SEGMENTS) {
			*err = "too many path segments";
			goto fail;
		}
		buf_reset(&key);
		if (s < end && *s == '"') {
			s++;
			while (s < end && *s != '"') {
				if (*s == '\\') {
					if (s + 1 >= end || (s[1] != '"' && s[1] != '\\')) {
						*err = "in a quoted key, only \\\" and \\\\ are escapes";
						goto fail;
					}
					s++;
				}
				buf_putc(&key, *s++);
			}
			if (s >= end) {
				*err = "unterminated quoted key";
				goto fail;
			}
			s++;
		} else {
			const char *start = s;

			while (s < end && name_byte((unsigned char)*s))
				s++;
			if (s == start) {
				*err = "expected a key";
				goto fail;
			}
			buf_append(&key, start, (size_t)(s - start));
		}
		push_key(out, key.data != NULL ? key.data : "", key.len);

		/* Any number of [index] after a key. */
		while (s < end && *s == '[') {
			unsigned long v = 0;
			const char *digits = ++s;
			struct path_seg *seg;

			while (s < end && *s >= '0' && *s <= '9') {
				v = v * 10 + (unsigned long)(*s - '0');
				if (v > PATH_MAX_INDEX) {
					*err = "array index too large";
					goto fail;
				}
				s++;
			}
			if (s == digits || s >= end || *s != ']') {
				*err = "expected [INDEX]";
				goto fail;
			}
			s++;
			if (out->nsegs >= PATH_MAX_SEGMENTS) {
				*err = "too many path segments";
				goto fail;
			}
			out->segs = xreallocarray(out->segs, out->nsegs + 1,
			    sizeof(*out->segs));
			seg = &out->segs[out->nsegs++];
			seg->is_index = 1;
			seg->index = (uint32_t)v;
			seg->key = NULL;
			seg->keylen = 0;
		}
		if (s == end)
			break;
		if (*s != '.') {
			*err = "expected '.' or '[' after a key";
			goto fail;
		}
		s++;
		if (s == end) {
			*err = "path ends with '.'";
			goto fail;
		}
	}
	buf_free(&key);
	path_render(out);
	return 0;
fail:
	buf_free(&key);
	path_free(out);
	return r;
}

void
path_child(const struct path *parent, const char *key, size_t keylen,
    struct path *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	out->segs = xreallocarray(NULL, parent->nsegs + 1, sizeof(*out->segs));
	for (i = 0; i < parent->nsegs; i++) {
		out->segs[i] = parent->segs[i];
		if (!parent->segs[i].is_index)
			out->segs[i].key = xstrndup(parent->segs[i].key,
			    parent->segs[i].keylen);
	}
	out->nsegs = parent->nsegs;
	push_key(out, key, keylen);
	path_render(out);
}

void
path_free(struct path *p)
{
	size_t i;

	for (i = 0; i < p->nsegs; i++)
		free(p->segs[i].key);
	free(p->segs);
	free(p->text);
	memset(p, 0, sizeof(*p));
}

int
path_equal(const struct path *a, const struct path *b)
{
	size_t i;

	if (a->nsegs != b->nsegs)
		return 0;
	for (i = 0; i < a->nsegs; i++) {
		const struct path_seg *x = &a->segs[i], *y = &b->segs[i];

		if (x->is_index != y->is_index)
			return 0;
		if (x->is_index && x->index != y->index)
			return 0;
		if (!x->is_index && (x->keylen != y->keylen ||
		    memcmp(x->key, y->key, x->keylen) != 0))
			return 0;
	}
	return 1;
}
