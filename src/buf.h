/*
 * buf.h - growable byte buffers.
 *
 * A struct buf owns its memory.  Appending never fails: allocation failure
 * aborts the process (see util.h), as a daemon that cannot allocate a few
 * kilobytes cannot do anything useful either.  The contents are always
 * NUL-terminated so that they can be handed to C string functions, but may
 * also hold binary data (gzip output).
 */
#ifndef DRIFTD_BUF_H
#define DRIFTD_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;   /* NULL until the first append */
	size_t len;   /* bytes in use, excluding the terminating NUL */
	size_t cap;   /* bytes allocated */
};

#define BUF_INIT { NULL, 0, 0 }

/* Make room for at least `extra` more bytes plus the NUL terminator. */
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Append a double in the shortest form that reads back to the same value,
 * with Prometheus' spellings of the special values (NaN, +Inf, -Inf). */
void buf_put_double(struct buf *b, double v);
/* Append an unsigned integer in decimal. */
void buf_put_u64(struct buf *b, unsigned long long v);
/* Forget the contents but keep the allocation for reuse. */
void buf_reset(struct buf *b);
/* Release the memory; the buffer may be reused afterwards. */
void buf_free(struct buf *b);

#endif
