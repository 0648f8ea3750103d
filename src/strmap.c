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

static inline uint64_t
mix(uint64_t h)
{
	/* The finaliser of SplitMix64: every input bit affects every
	 * output bit. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

/*
 * Labels are short, so the hash reads words, not bytes: up to 16 bytes
 * are two (possibly overlapping) 8-byte loads, longer keys are folded
 * 8 bytes at a time.  Lookups cost a few multiplications.
 */
uint64_t
strmap_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = (uint64_t)len * 0x9E3779B97F4A7C15ULL, a, b;

	while (len > 16) {
		memcpy(&a, p, 8);
		h = mix(h ^ a);
		p += 8;
		len -= 8;
	}
	strmap_words(p, len, &a, &b);
	return mix(h ^ a ^ mix(b + 0x632be59bd9b4e019ULL));
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
