/*
 * state.h - checkpoints in state_dir.
 *
 * A checkpoint is one file, written atomically (temporary file, fsync,
 * rename, fsync of the directory), so that after a crash at any moment
 * either the old or the new checkpoint is there, whole.  It holds tagged
 * sections; each module encodes its own, so read offsets and window
 * contents land in the same file and move together.
 *
 * Layout (integers little-endian):
 *   "DRIFTDST"  u32 version  u32 section-count
 *   section*:   u32 tag  u64 length  payload
 *   u32 CRC-32 (zlib) of everything before it
 *
 * A file that fails any check is not trusted: state_load() renames it
 * aside and reports -EBADMSG, and the daemon starts afresh.
 */
#ifndef DRIFTD_STATE_H
#define DRIFTD_STATE_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "buf.h"

#define STATE_FILE      "driftd.state"
#define STATE_VERSION   1
#define STATE_MAX_BYTES (512u * 1024 * 1024)

enum state_tag {
	STATE_TAG_POSITIONS = 1,     /* tail positions (older) */
	STATE_TAG_WINDOWS = 2,       /* window contents */
	STATE_TAG_REFERENCE = 3,     /* a captured reference */
	STATE_TAG_INPUTS = 4,        /* the inputs followed (older) */
	STATE_TAG_TAIL = 5,          /* inputs and positions, closed files */
	STATE_TAG_HISTORY = 6,       /* the report's history of scores */
	STATE_TAG_CHANGE = 7,        /* change detectors */
	STATE_TAG_LABELS = 8,        /* the join, ids by text (older) */
	STATE_TAG_LABELS_TAIL = 9,   /* the [labels] logs' inputs, positions */
	STATE_TAG_JOIN = 10,         /* the join and the labelled window */
};

/* An encoder for one checkpoint. */
struct state_writer {
	struct buf b;
	uint32_t nsections;
	size_t section_start;
};

void state_writer_init(struct state_writer *w);
/* The same, in the memory of `spare` (taken; may be NULL): a large
 * checkpoint taken again and again is encoded into pages already there. */
void state_writer_reuse(struct state_writer *w, struct buf *spare);
void state_writer_free(struct state_writer *w);
/* Sections are written between begin and end with the put functions. */
void state_begin_section(struct state_writer *w, enum state_tag tag);
void state_end_section(struct state_writer *w);
void state_put_u32(struct state_writer *w, uint32_t v);
void state_put_u64(struct state_writer *w, uint64_t v);
void state_put_double(struct state_writer *w, double v);
void state_put_bytes(struct state_writer *w, const void *p, size_t len);
/* Make room for `bytes` more, so that a large section grows once. */
void state_reserve(struct state_writer *w, size_t bytes);
/* Room for `bytes` in the section, for the caller to fill at once (the
 * pointer is valid until the next put); state_le_array() then puts the
 * n values of `size` bytes there in the checkpoint's byte order. */
void *state_put_raw(struct state_writer *w, size_t bytes);
void state_le_array(void *p, size_t n, size_t size);

/* Set the section count in the header: the writer's buffer is then a
 * checkpoint in memory (without CRC) that state_section() reads. */
void state_finish(struct state_writer *w);
/* Append the CRC of everything in b so far: a checkpoint in memory
 * (state_finish()) is then the file. */
void state_seal(struct buf *b);
/* Write the checkpoint to dir/STATE_FILE atomically, now.  0 or -errno. */
int state_save(const char *dir, struct state_writer *w);

/*
 * The same in libuv's thread pool, so that a large checkpoint does not
 * hold the loop: the writer's buffer moves to the job (w is left empty,
 * to be freed as usual), and cb(arg, 0 or -errno, buffer) runs on the
 * loop once it is written; cb may take the buffer's memory for the next
 * checkpoint (state_writer_reuse()), else it is freed.  A checkpoint taken after it and already in place (a
 * state_save() at a reload or at shutdown) is never replaced by it.
 * Returns 0, or a libuv error when the job could not be queued (cb is
 * then not called).
 */
typedef void (*state_saved_cb)(void *arg, int result, struct buf *spent);
int state_save_async(uv_loop_t *loop, const char *dir, struct state_writer *w,
    state_saved_cb cb, void *arg);

/* Write `len` bytes to dir/name atomically (temporary file, fsync,
 * rename, directory fsync).  0 or -errno. */
int state_write_file(const char *dir, const char *name, const void *data,
    size_t len);
/* Read dir/name whole (at most STATE_MAX_BYTES) into out.  0 or -errno. */
int state_read_file(const char *dir, const char *name, struct buf *out);

/* A decoder over one section's payload; every get checks bounds. */
struct state_reader {
	const unsigned char *p;
	const unsigned char *end;
	int bad;                 /* a get ran past the end */
};

/*
 * Read and check dir/STATE_FILE.  On success *out holds the whole file
 * (free with buf_free) and 0 is returned; -ENOENT when there is none;
 * -EBADMSG when it failed a check (it has been renamed aside); another
 * -errno when it could not be read.
 */
int state_load(const char *dir, struct buf *out);
/* The checks state_load() makes of a file read: its header, its CRC and
 * that its sections fill it.  0 or -EBADMSG. */
int state_verify(const struct buf *b);

/* Find section `tag` in a loaded checkpoint.  0 or -ENOENT. */
int state_section(const struct buf *file, enum state_tag tag,
    struct state_reader *r);

uint32_t state_get_u32(struct state_reader *r);
uint64_t state_get_u64(struct state_reader *r);
double state_get_double(struct state_reader *r);
/* Bounds on what a checkpoint may claim, so that a damaged one cannot
 * make driftd allocate without limit. */
#define STATE_MAX_STRING  65536     /* bytes of a string */
#define STATE_MAX_ENTRIES 1000000   /* inputs, positions, categories */

/* A length-prefixed byte string (not NUL-terminated), *len its length,
 * or NULL (and r->bad) past the end or STATE_MAX_STRING. */
const char *state_get_string(struct state_reader *r, size_t *len);
/* A pointer to `len` bytes in the payload, or NULL (and r->bad). */
const void *state_get_bytes(struct state_reader *r, size_t len);
/* The little-endian unsigned integer in n (<= 8) bytes, as checkpoints
 * store them: for arrays taken with state_get_bytes(). */
uint64_t state_le(const void *bytes, int n);
/* The double stored as its bits in 8 such bytes. */
double state_le_double(const void *bytes);

#endif
