/*
 * json_diff_jansson.c - jansson behind the names of json_diff.h.
 */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "json_diff.h"

struct jd_doc *
jd_load(const char *s, size_t len, int *is_object, enum jd_error *err,
    char *text, size_t textsize)
{
	json_error_t e;
	json_t *root = json_loadb(s, len, 0, &e);

	*is_object = root != NULL && json_is_object(root);
	*err = JD_ERR_NONE;
	if (textsize > 0)
		text[0] = '\0';
	if (root != NULL)
		return (struct jd_doc *)root;
	snprintf(text, textsize, "%s", e.text);
	switch (json_error_code(&e)) {
	case json_error_invalid_utf8:
		*err = JD_ERR_UTF8;
		break;
	case json_error_null_character:
		*err = JD_ERR_NUL_VALUE;
		break;
	case json_error_null_byte_in_key:
		*err = JD_ERR_NUL_KEY;
		break;
	case json_error_invalid_syntax:
		*err = JD_ERR_SYNTAX;
		break;
	case json_error_numeric_overflow:
		*err = JD_ERR_OVERFLOW;
		break;
	default:
		*err = JD_ERR_OTHER;
		break;
	}
	return NULL;
}

void
jd_free(struct jd_doc *d)
{
	json_decref((json_t *)d);
}

void
jd_value_at(const struct jd_doc *d, const struct path *p, struct jd_value *out)
{
	json_t *cur = (json_t *)(uintptr_t)d;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < p->nsegs && cur != NULL; i++) {
		const struct path_seg *s = &p->segs[i];

		if (s->is_index)
			cur = json_is_array(cur) ? json_array_get(cur, s->index) : NULL;
		else
			cur = json_is_object(cur) ?
			    json_object_getn(cur, s->key, s->keylen) : NULL;
	}
	if (cur == NULL) {
		out->kind = JD_ABSENT;
	} else if (json_is_object(cur)) {
		out->kind = JD_OBJECT;
	} else if (json_is_array(cur)) {
		out->kind = JD_ARRAY;
		out->size = json_array_size(cur);
	} else if (json_is_string(cur)) {
		out->kind = JD_STRING;
		out->str = json_string_value(cur);
		out->len = json_string_length(cur);
	} else if (json_is_integer(cur)) {
		out->kind = JD_INTEGER;
		out->integer = (int64_t)json_integer_value(cur);
	} else if (json_is_real(cur)) {
		out->kind = JD_REAL;
		out->real = json_real_value(cur);
	} else if (json_is_true(cur)) {
		out->kind = JD_TRUE;
	} else if (json_is_false(cur)) {
		out->kind = JD_FALSE;
	} else {
		out->kind = JD_NULL;
	}
}
