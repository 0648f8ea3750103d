/*
 * strmap.c - a map from byte strings to pointers.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "util.h"

struct entry {
	char *key;              /* NULL: empty */
	size_t len;
	uint64_t hash;
	void *value;
};

struct strmap {
	struct entry *e;
	size_t size;            /* power of two */
	size_t n;
};

uint64_t
strmap_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

struct strmap *
strmap_create(void)
{
	struct strmap *m = xcalloc(1, sizeof(*m));

	m->size = 16;
	m->e = xcalloc(m->size, sizeof(*m->e));
	return m;
}

void
strmap_destroy(struct strmap *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->size; i++)
		free(m->e[i].key);
	free(m->e);
	free(m);
}

static struct entry *
find(const struct strmap *m, const char *key, size_t len, uint64_t h)
{
	size_t i = h & (m->size - 1);

	for (;;) {
		struct entry *e = &m->e[i];

		if (e->key == NULL)
			return e;
		if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0)
			return e;
		i = (i + 1) & (m->size - 1);
	}
}

void *
strmap_get(const struct strmap *m, const char *key, size_t len)
{
	return find(m, key, len, strmap_hash(key, len))->value;
}

static void
grow(struct strmap *m)
{
	struct entry *old = m->e;
	size_t oldsize = m->size, i;

	m->size *= 2;
	m->e = xcalloc(m->size, sizeof(*m->e));
	for (i = 0; i < oldsize; i++)
		if (old[i].key != NULL)
			*find(m, old[i].key, old[i].len, old[i].hash) = old[i];
	free(old);
}

void
strmap_put(struct strmap *m, const char *key, size_t len, void *value)
{
	uint64_t h = strmap_hash(key, len);
	struct entry *e = find(m, key, len, h);

	if (e->key == NULL) {
		if ((m->n + 1) * 4 > m->size * 3) {
			grow(m);
			e = find(m, key, len, h);
		}
		e->key = xstrndup(key, len);
		e->len = len;
		e->hash = h;
		m->n++;
	}
	e->value = value;
}

size_t
strmap_size(const struct strmap *m)
{
	return m->n;
}
