/*
 * strmap.h - a map from byte strings to pointers.
 *
 * Open addressing with linear probing; keys are copied in.  Used for the
 * small, bounded sets driftd keeps per record: classes and categories.
 * Lookups of keys already present allocate nothing.
 */
#ifndef DRIFTD_STRMAP_H
#define DRIFTD_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap;

struct strmap *strmap_create(void);
/* Frees the keys; the values belong to the caller. */
void strmap_destroy(struct strmap *m);

/* The value stored for key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key, size_t len);
/* Store value (not NULL) for key, replacing any earlier value. */
void strmap_put(struct strmap *m, const char *key, size_t len, void *value);
size_t strmap_size(const struct strmap *m);

/* A hash of the bytes, also used by other modules for identities. */
uint64_t strmap_hash(const void *key, size_t len);

/*
 * Two words holding the bytes of a short key, for hashing and comparing
 * without a loop: of up to 16 bytes, two (possibly overlapping) loads
 * that hold every byte, so two keys of one length are equal if and only
 * if their words are; of more, the first and last eight bytes.
 */
static inline void
strmap_words(const void *key, size_t len, uint64_t *a, uint64_t *b)
{
	const unsigned char *p = key;
	uint32_t x, y;

	*a = *b = 0;
	if (len >= 8) {
		__builtin_memcpy(a, p, 8);
		__builtin_memcpy(b, p + len - 8, 8);
	} else if (len >= 4) {
		__builtin_memcpy(&x, p, 4);
		__builtin_memcpy(&y, p + len - 4, 4);
		*a = x;
		*b = y;
	} else if (len > 0) {
		*a = (uint64_t)p[0] | (uint64_t)p[len / 2] << 8 |
		    (uint64_t)p[len - 1] << 16;
	}
}

#endif
