/*
 * util.h - allocation helpers and small macros shared by every module.
 *
 * The x* allocators abort with a message when memory runs out.  Every
 * allocation driftd makes is bounded by a configured limit, so running out
 * means the machine is out of memory, not that input was hostile.
 */
#ifndef DRIFTD_UTIL_H
#define DRIFTD_UTIL_H

#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
/* Like reallocarray(3): checks nmemb * size for overflow. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Copy src into dst of size dstsize, always NUL-terminating; returns
 * strlen(src) so truncation can be detected as in strlcpy(3). */
size_t util_strlcpy(char *dst, const char *src, size_t dstsize);

/* Seconds since the Unix epoch, wall clock. */
double util_now(void);

/* Length of the valid UTF-8 sequence (RFC 3629) at p, of which `left`
 * bytes are there, or 0 (overlong, a surrogate, beyond U+10FFFF, cut
 * short).  The JSON decoder, the report and /status use it. */
size_t util_utf8_len(const unsigned char *p, size_t left);

#endif
