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

/*
 * The 128-bit product of a and b, its two halves combined by exclusive
 * or: a step of a hash that mixes every bit of both words.  The same
 * value with or without 128-bit integers (strmap_mul_fold_words() is
 * what a build without them uses).
 */
static inline uint64_t
strmap_mul_fold_words(uint64_t a, uint64_t b)
{
	uint64_t al = a & 0xffffffffu, ah = a >> 32;
	uint64_t bl = b & 0xffffffffu, bh = b >> 32;
	uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
	uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);

	return ((mid << 32) | (ll & 0xffffffffu)) ^
	    (hh + (lh >> 32) + (hl >> 32) + (mid >> 32));
}

static inline uint64_t
strmap_mul_fold(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
	unsigned __int128 p = (unsigned __int128)a * b;

	return (uint64_t)p ^ (uint64_t)(p >> 64);
#else
	return strmap_mul_fold_words(a, b);
#endif
}

#endif
