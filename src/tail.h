/*
 * tail.h - follow log files and cut them into lines.
 *
 * Each configured input is a path or a glob.  tail watches it with inotify
 * (libuv fs events on the file and on its directory) and re-checks it with
 * stat(2) every poll interval where events are not to be had (file systems
 * without them, a glob over directories), else every TAIL_SAFETY_POLL_MS.  It follows rotation by rename-and-create, copytruncate,
 * truncation in place, delete-and-recreate and symlinks switched to a new
 * target; a file that no longer sits at its path is read to its end and
 * closed within rotate_wait.  A file's identity is its device, inode and a
 * hash of its first TAIL_FP_BYTES bytes.
 *
 * Only complete lines are handed on (a trailing "\r" is dropped); a line
 * longer than max_line_bytes is skipped up to its newline without being
 * buffered, and counted.  Backlogs are read TAIL_TURN_BYTES per loop turn
 * in all, however many files wait, so the loop stays responsive.
 *
 * Every line is delivered through the callback synchronously, so whenever
 * the loop runs, every line before a file's "consumed" offset has been
 * processed: positions taken at any time are safe to checkpoint.
 */
#ifndef DRIFTD_TAIL_H
#define DRIFTD_TAIL_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "metrics.h"
#include "state.h"

#define TAIL_SLICE_BYTES (256 * 1024)   /* one read */
#define TAIL_TURN_BYTES  (256 * 1024)   /* all reads of one loop turn */
#define TAIL_FP_BYTES    256
/* While every directory and file gives file events, the stat() poll runs
 * this seldom (ms), as a safety net; else every poll_interval. */
#define TAIL_SAFETY_POLL_MS 10000

enum tail_line_result {
	TAIL_LINE_OK = 0,
	TAIL_LINE_BAD_JSON,
	TAIL_LINE_LATE,         /* a replay's step already closed */
};

typedef enum tail_line_result (*tail_line_cb)(void *arg, const char *line,
    size_t len);

struct tail_options {
	const char *const *inputs;   /* paths or globs */
	size_t ninputs;
	int start_at_beginning;
	uint64_t rotate_wait_ms;
	uint64_t poll_interval_ms;
	size_t max_line_bytes;
};

/* What a position describes. */
enum tail_pos_kind {
	TAIL_POS_OPEN = 0,           /* a file being read */
	TAIL_POS_CLOSED = 1,         /* a file read to its end and closed */
	TAIL_POS_CONTENT = 2,        /* the former content of a truncated
	                                file: matches a copy of it by content
	                                (dev and ino are 0) */
};

/* Where reading stands in one file, for checkpoints. */
struct tail_position {
	char *input;                 /* the configured path or glob */
	char *path;                  /* where the file was last seen */
	uint64_t dev;
	uint64_t ino;
	uint64_t fp_hash;            /* hash of the first fp_len bytes */
	uint32_t fp_len;
	uint64_t offset;             /* end of the last processed line */
	uint64_t size;               /* the file's size when saved */
	enum tail_pos_kind kind;
};

/* One input's part of a checkpoint. */
struct tail_input_state {
	char *input;                 /* the configured path or glob */
	/* Wall-clock second (coarse clock, taken before the stat) at which
	 * the file at a plain path was last seen to be one being followed;
	 * -1 if unknown.  A file of the path's rotation family written at or
	 * after it and not described by a position appeared since. */
	int64_t seen;
};

/*
 * Everything a follower needs to resume exactly: the inputs it followed,
 * and where reading stood in every file it had open or had recently
 * closed.  Taken at an instant when every line before each position had
 * been processed.
 */
struct tail_state {
	struct tail_input_state *inputs;
	size_t ninputs;
	struct tail_position *pos;
	size_t npos;
};

struct tail;

/* Register the driftd_log_* families in `reg` (idempotent).  A follower
 * that replaces another at a reload takes the series of the inputs it
 * keeps; the reload's metrics_sweep() removes the others'. */
void tail_register_metrics(struct metrics_registry *reg);

/* What the pages show of one input: its counters, and the bytes its
 * open files hold beyond what was read. */
struct tail_input_info {
	const char *path;       /* as configured: a path or a glob */
	double lines, bytes, json_errors, too_long, rotations, lag_bytes;
};
size_t tail_inputs(const struct tail *t);
void tail_input_info(const struct tail *t, size_t i,
    struct tail_input_info *out);

/*
 * Create a follower.  Strings in `o` are copied.  Nothing happens until
 * tail_start().
 */
struct tail *tail_create(uv_loop_t *loop, const struct tail_options *o,
    struct metrics_registry *reg, tail_line_cb cb, void *arg);

/*
 * Start following.  `restore` (copied; may be NULL) comes from a
 * checkpoint or from the follower a reload replaces: files its positions
 * describe resume there, as long as their identity holds, wherever in
 * their directory they now are.  A file of an input it names that no
 * position describes is new since then and is read from its beginning,
 * whatever start_at says (start_at is for inputs followed for the first
 * time); for a plain path that includes rotated files of its family
 * (PATH.1, PATH-20261203, ...; compressed ones excepted) written since the
 * input's `seen` time, read oldest first before the file at the path.
 */
void tail_start(struct tail *t, const struct tail_state *restore);

/* Change the options of a running follower whose inputs stay the same
 * (o->inputs is ignored). */
void tail_set_options(struct tail *t, const struct tail_options *o);

/* Read every renamed or deleted file still open to its end, now: before a
 * follower is replaced, as the next one cannot find those files again. */
void tail_drain_detached(struct tail *t);

/* The follower's state now (copies); free with tail_state_free(). */
void tail_save_state(const struct tail *t, struct tail_state *out);
void tail_state_free(struct tail_state *s);

/*
 * A follower's state in a checkpoint section of its own, `tag`:
 * STATE_TAG_TAIL for the prediction logs, STATE_TAG_LABELS_TAIL for the
 * [labels] logs.  For STATE_TAG_TAIL, tail_state_load() also reads
 * checkpoints written before that section existed (STATE_TAG_POSITIONS
 * and STATE_TAG_INPUTS: no closed files, `seen` unknown).  0, -ENOENT
 * when the checkpoint has no such section, or -EBADMSG.  Free with
 * tail_state_free().
 */
void tail_state_save(struct state_writer *w, const struct tail_state *s,
    enum state_tag tag);
int tail_state_load(const struct buf *file, enum state_tag tag,
    struct tail_state *out);

/* Stop following and close every handle; the tail frees itself once the
 * close callbacks have run.  The pointer is invalid after this call. */
void tail_close(struct tail *t);

/*
 * Read each of `files` ("-" is standard input; globs are expanded) from its
 * beginning to its end, synchronously, delivering lines to `cb`.  The input
 * label of each is the name as given.  Returns 0, or the negative errno of
 * the first file that could not be read (the others are still read).
 */
int tail_read_once(const char *const *files, size_t n, size_t max_line_bytes,
    struct metrics_registry *reg, tail_line_cb cb, void *arg);

#endif
