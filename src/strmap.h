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

#endif
