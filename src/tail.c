/*
 * tail.c - follow log files and cut them into lines.
 *
 * Structure: a struct tinput per configured path or glob, holding the files
 * currently open for it.  At most one file of a plain-path input is
 * "current" (sits at the path); the others are detached (renamed away or
 * deleted) and are read to their end first, then closed once rotate_wait
 * has passed since they were detached.
 *
 * Work happens in one place, process(): events and the poll timer only mark
 * inputs dirty and start an idle handle; the idle callback scans and reads
 * dirty inputs one slice per file, and stops itself when no file has more
 * to read.  An idle log therefore costs one stat() per poll interval.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "log.h"
#include "strmap.h"
#include "tail.h"
#include "tail_internal.h"
#include "util.h"

struct tfile {
	struct tinput *in;
	struct tfile *next;
	int fd;
	char *path;
	uint64_t dev, ino;
	uint64_t fp_hash;
	uint32_t fp_len;
	char head[TAIL_FP_BYTES];  /* its first fp_len bytes */
	struct tail_lines lines;   /* read position, partial line */
	int detached;
	uint64_t detached_at;   /* loop time, ms */
	uint64_t seq;           /* detached files are read in this order */
	int copy;               /* a copy of a truncated file's old content */
	int eof;                /* the last read found no more data */
	int watching;           /* file events arrive for it */
	uv_fs_event_t watch;
};

/*
 * Files an input is done with, remembered so that one seen again resumes
 * where reading stopped instead of being read again: files closed after
 * rotate_wait, recognised by identity (one moved back into place), and
 * the former content of truncated files, recognised by content alone (the
 * copy copytruncate made, read from where reading of the original
 * stopped).  Checkpoints carry them.
 */
#define TAIL_CLOSED_MAX 16

struct closed_file {
	uint64_t dev, ino, fp_hash, offset;
	uint32_t fp_len;
	int kind;               /* TAIL_POS_CLOSED or TAIL_POS_CONTENT */
};

struct tinput {
	struct tail *t;
	char *pattern;
	int is_glob;
	char *dir;              /* directory watched for new files, or NULL */
	uv_fs_event_t dirwatch;
	int dirwatch_active;
	int had_file;
	int warned_missing;
	int known;              /* followed before: start_at does not apply */
	int64_t seen;           /* see struct tail_input_state */
	uint64_t warned_at;     /* loop time of the last open/read warning */
	int warned;
	struct closed_file closed[TAIL_CLOSED_MAX];
	size_t nclosed, closed_next;
	struct tfile *files;
	int dirty;              /* to be scanned: an event or the poll */
	size_t unopened;        /* files the last scan could not open */
	int backlog;            /* may have more to read */
	size_t cursor;          /* the current file to read first */
	struct tail_counters m;
};

struct tail {
	uv_loop_t *loop;
	struct metrics_registry *reg;
	struct tail_options o;
	tail_line_cb cb;
	void *arg;
	struct tinput *inputs;
	size_t ninputs;
	uv_timer_t poll;
	uv_idle_t idle;
	int idle_active;
	char *rbuf;
	int closing;
	int open_handles;
	size_t nopen, max_open; /* log files open, and the most allowed */
	int initial;            /* first scan: start_at applies */
	uint64_t seq;           /* of the last file detached */
	size_t next_input;      /* read first at the next turn */
	struct tail_position *restore;
	size_t nrestore;
	char *restore_used;
};

static void tail_maybe_free(struct tail *t);

/* --------------------------------------------------------- identities */

/* A file's first bytes (up to TAIL_FP_BYTES), their hash and number. */
static int
fingerprint(int fd, uint64_t size, char *head, uint64_t *hash, uint32_t *len)
{
	size_t want = size < TAIL_FP_BYTES ? (size_t)size : TAIL_FP_BYTES;
	ssize_t n = want > 0 ? pread(fd, head, want, 0) : 0;

	if (n < 0)
		return -errno;
	*hash = strmap_hash(head, (size_t)n);
	*len = (uint32_t)n;
	return 0;
}

/* Does the file on fd still begin with the bytes of (hash, len)? */
static int
fingerprint_matches(int fd, uint64_t hash, uint32_t len)
{
	char b[TAIL_FP_BYTES];
	ssize_t n;

	if (len == 0)
		return 1;
	if (len > TAIL_FP_BYTES)
		return 0;
	n = pread(fd, b, len, 0);
	return n == (ssize_t)len && strmap_hash(b, len) == hash;
}

/* ---------------------------------------------------------- file life */

/*
 * A file that cannot be opened or read is tried again at every scan; say
 * so at most once a minute per input (the rest at debug level), or a log
 * written into a watched directory would feed itself.
 */
#define TAIL_WARN_EVERY_MS 60000

static void __attribute__((format(printf, 2, 3)))
warn_limited(struct tinput *in, const char *fmt, ...)
{
	uint64_t now = uv_now(in->t->loop);
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!in->warned || now - in->warned_at >= TAIL_WARN_EVERY_MS) {
		log_warn("%s (said at most once a minute for %s)", msg,
		    in->pattern);
		in->warned = 1;
		in->warned_at = now;
	} else {
		log_debug("%s", msg);
	}
}

static void
on_file_watch_closed(uv_handle_t *h)
{
	struct tfile *f = h->data;
	struct tail *t = f->in->t;

	free(f->path);
	buf_free(&f->lines.partial);
	free(f);
	t->open_handles--;
	tail_maybe_free(t);
}

/* Remember a file `in` is done with (see struct closed_file). */
static void
remember(struct tinput *in, int kind, uint64_t dev, uint64_t ino,
    uint64_t fp_hash, uint32_t fp_len, uint64_t offset)
{
	struct closed_file *c = &in->closed[in->closed_next];

	c->kind = kind;
	c->dev = dev;
	c->ino = ino;
	c->fp_hash = fp_hash;
	c->fp_len = fp_len;
	c->offset = offset;
	in->closed_next = (in->closed_next + 1) % TAIL_CLOSED_MAX;
	if (in->nclosed < TAIL_CLOSED_MAX)
		in->nclosed++;
}

static void
file_close(struct tfile *f)
{
	struct tinput *in = f->in;
	struct tfile **pp;

	for (pp = &in->files; *pp != f; pp = &(*pp)->next)
		;
	*pp = f->next;
	if (f->fd >= 0 && f->eof)
		remember(in, TAIL_POS_CLOSED, f->dev, f->ino, f->fp_hash,
		    f->fp_len, f->lines.consumed);
	if (f->fd >= 0) {
		close(f->fd);
		in->t->nopen--;
	}
	f->fd = -1;
	uv_close((uv_handle_t *)&f->watch, on_file_watch_closed);
}

static void on_fs_event(uv_fs_event_t *h, const char *name, int events,
    int status);

static void on_idle(uv_idle_t *h);

static void
mark_dirty(struct tinput *in)
{
	struct tail *t = in->t;

	in->dirty = 1;
	if (!t->idle_active && !t->closing) {
		uv_idle_start(&t->idle, on_idle);
		t->idle_active = 1;
	}
}

static void on_poll(uv_timer_t *h);

/* Poll at poll_interval again (on_poll() lengthens it when it can): a
 * detached file is to be closed on time, a file without events read. */
static void
poll_soon(struct tail *t)
{
	if (!t->closing && uv_is_active((uv_handle_t *)&t->poll) &&
	    uv_timer_get_repeat(&t->poll) > t->o.poll_interval_ms)
		uv_timer_start(&t->poll, on_poll, t->o.poll_interval_ms,
		    t->o.poll_interval_ms);
}

/* The file no longer sits at its path: read it to its end, after the
 * files detached before it, and before the file now at the path. */
static void
detach(struct tfile *f, const char *why)
{
	if (f->detached)
		return;
	f->detached = 1;
	f->detached_at = uv_now(f->in->t->loop);
	f->seq = ++f->in->t->seq;
	poll_soon(f->in->t);
	log_info("%s: %s; reading it to its end", f->path, why);
}

/* A restore position for this file, if one was saved and still holds. */
static const struct tail_position *
restore_find(struct tail *t, struct tinput *in, uint64_t dev, uint64_t ino,
    int fd)
{
	size_t i;
	int pass;

	/* A position of this input first; then one of any input, for a
	 * file now reached through another path or glob. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < t->nrestore; i++) {
			const struct tail_position *p = &t->restore[i];

			if (t->restore_used[i] || p->dev != dev ||
			    p->ino != ino || (pass == 0 &&
			    strcmp(p->input, in->pattern) != 0))
				continue;
			t->restore_used[i] = 1;
			if (!fingerprint_matches(fd, p->fp_hash, p->fp_len)) {
				t->restore_used[i] = 2;  /* see restore_rotated() */
				log_info("%s: inode reused by a new file; "
				    "reading it from the beginning", p->path);
				metrics_add(in->m.rotations, 1);
				/* Truncated while driftd was stopped: a copy
				 * of the old content resumes where it was. */
				remember(in, TAIL_POS_CONTENT, 0, 0, p->fp_hash,
				    p->fp_len, p->offset);
				return NULL;
			}
			return p;
		}
	}
	return NULL;
}

/*
 * Log files may take half the descriptors: a glob that matches thousands
 * of files must leave room for scrapes, checkpoints and the reference.
 */
static size_t
tail_max_open_files(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 65536;
	return rl.rlim_cur / 2 > 8 ? (size_t)(rl.rlim_cur / 2) : 8;
}

/*
 * Content matches need a whole fingerprint: files shorter than that which
 * begin alike are too likely to be different files.
 */
static int
content_matches(int fd, uint64_t hash, uint32_t len)
{
	return len == TAIL_FP_BYTES && fingerprint_matches(fd, hash, len);
}

/*
 * Where a file `in` was done with stopped, if this is that file: one
 * closed earlier (by identity), or, when `copies`, a copy of a truncated
 * file's former content (by content, and only where a line ended there).
 * Each record is used once.  1 if found, 0 if not, -1 for what looks like
 * such a copy still being written (to be looked at again).
 */
static int
closed_find(struct tinput *in, uint64_t dev, uint64_t ino, int fd,
    uint64_t size, int copies, uint64_t *offset, int *copy)
{
	size_t i;
	char last;

	for (i = 0; i < in->nclosed; i++) {
		struct closed_file *c = &in->closed[i];

		if (c->kind == TAIL_POS_CLOSED && c->dev == dev && c->ino == ino) {
			c->kind = 0;     /* used up */
			if (!fingerprint_matches(fd, c->fp_hash, c->fp_len))
				return 0;
			*offset = c->offset;
			*copy = 0;
			return 1;
		}
		if (c->kind != TAIL_POS_CONTENT || !copies ||
		    !content_matches(fd, c->fp_hash, c->fp_len))
			continue;
		if (size < c->offset)
			return -1;       /* a copy still being written */
		if (c->offset == 0 || (pread(fd, &last, 1,
		    (off_t)c->offset - 1) == 1 && last == '\n')) {
			c->kind = 0;
			*offset = c->offset;
			*copy = 1;
			return 1;
		}
	}
	return 0;
}

/* How much of a new file is compared with the files being read. */
#define TAIL_COPY_CHECK_BYTES 4096

/*
 * Is the file on fd a copy of one `in` is reading, made before that one
 * was truncated (copytruncate's copy, seen before the truncation, or
 * while it is still being written)?  It is no longer than that one and
 * begins with the same bytes.  Its lines are read from the original;
 * once that is truncated, the copy matches the record check_truncation()
 * leaves and is read from where the original stopped.  A new file that
 * merely begins like another is opened once it differs from it.
 */
static int
copy_of_open(struct tinput *in, int fd, uint64_t size)
{
	char a[TAIL_COPY_CHECK_BYTES], b[TAIL_COPY_CHECK_BYTES];
	size_t n = size < sizeof(a) ? (size_t)size : sizeof(a);
	size_t nhead = n < TAIL_FP_BYTES ? n : TAIL_FP_BYTES;
	struct tfile *f;
	struct stat st;

	if (n > 0 && pread(fd, a, n, 0) != (ssize_t)n)
		return 0;
	/* The first bytes, compared in memory, rule out all but copies:
	 * no system call per open file. */
	for (f = in->files; f != NULL; f = f->next) {
		if (f->fd < 0 || f->fp_len < nhead ||
		    memcmp(a, f->head, nhead) != 0 || fstat(f->fd, &st) != 0)
			continue;
		/* Truncated since it was last looked at (copytruncate, between
		 * the copy and this look): not read now; once the truncation
		 * is seen, the copy matches what it remembers of the old
		 * content (closed_find()). */
		if ((uint64_t)st.st_size < f->lines.offset)
			return 1;
		if (size <= (uint64_t)st.st_size && (n == nhead ||
		    (pread(f->fd, b, n, 0) == (ssize_t)n &&
		    memcmp(a, b, n) == 0)))
			return 1;
	}
	return 0;
}

/*
 * Open `path` for `in`.  Where reading starts: a restored position if one
 * matches (`forced` is one already matched), a place remembered by
 * closed_find(), else the end for a file present at start-up with
 * start_at = end (unless the input was followed before, so that the file
 * is new since then), else the beginning.  With `copies`, the file may be
 * a copy of another (a rotated file of a glob or of a path's family):
 * one of a file still being read is not opened (NULL).
 */
static struct tfile *
file_open(struct tinput *in, const char *path,
    const struct tail_position *forced, int copies)
{
	struct tail *t = in->t;
	const struct tail_position *pos;
	struct tfile *f;
	struct stat fst;
	uint64_t start = 0;
	int fd, copy = 0, found;

	if (t->nopen >= t->max_open) {
		warn_limited(in, "%s: not opened: %zu log files are open, half "
		    "the descriptor limit", path, t->nopen);
		in->unopened++;
		return NULL;
	}
	/* The file may have changed since it was stat'ed. */
	fd = tail_open_regular(path, &fst);
	if (fd < 0) {
		if (errno != EINVAL)
			warn_limited(in, "%s: cannot open: %s", path,
			    strerror(errno));
		return NULL;
	}
	pos = forced != NULL ? forced :
	    restore_find(t, in, (uint64_t)fst.st_dev, (uint64_t)fst.st_ino, fd);
	found = pos != NULL ? 0 : closed_find(in, (uint64_t)fst.st_dev,
	    (uint64_t)fst.st_ino, fd, (uint64_t)fst.st_size, copies, &start,
	    &copy);
	if (found < 0) {
		close(fd);
		return NULL;
	}
	if (found) {
		log_info("%s: %s; resuming at %llu", path, copy ? "a copy of "
		    "a truncated file" : "seen before",
		    (unsigned long long)start);
		if (start > (uint64_t)fst.st_size)
			start = 0;
	} else if (pos == NULL && copies &&
	    copy_of_open(in, fd, (uint64_t)fst.st_size)) {
		log_debug("%s: a copy of a file being read; not read", path);
		close(fd);
		return NULL;
	} else if (pos != NULL) {
		start = pos->offset;
		if (start > (uint64_t)fst.st_size) {
			log_info("%s: shorter than its saved position; reading "
			    "it from the beginning", path);
			metrics_add(in->m.rotations, 1);
			start = 0;
		}
	} else if (t->initial && !t->o.start_at_beginning && !in->known) {
		start = (uint64_t)fst.st_size;
	}
	f = xcalloc(1, sizeof(*f));
	t->nopen++;
	f->in = in;
	f->fd = fd;
	f->copy = copy;
	f->path = xstrdup(path);
	f->lines.path = f->path;
	f->dev = (uint64_t)fst.st_dev;
	f->ino = (uint64_t)fst.st_ino;
	fingerprint(fd, (uint64_t)fst.st_size, f->head, &f->fp_hash, &f->fp_len);
	f->lines.offset = f->lines.consumed = start;
	if (start > 0 && pos == NULL) {
		/* Starting at the end of a file whose last line is still
		 * being written: skip that line's rest quietly. */
		char last;

		if (pread(fd, &last, 1, (off_t)start - 1) == 1 && last != '\n')
			f->lines.skipping = TAIL_SKIP_REST;
	}
	if (lseek(fd, (off_t)start, SEEK_SET) < 0) {
		f->lines.offset = f->lines.consumed = 0;
	}
	uv_fs_event_init(t->loop, &f->watch);
	f->watch.data = f;
	t->open_handles++;
	f->watching = uv_fs_event_start(&f->watch, on_fs_event, path, 0) == 0;
	if (!f->watching) {
		log_debug("%s: no file events; polling", path);
		poll_soon(t);
	}
	f->next = in->files;
	in->files = f;
	log_info("%s: following from offset %llu", path,
	    (unsigned long long)start);
	return f;
}

/* Truncated in place (copytruncate, ": > file") or rewritten from the
 * start?  Then read it again from the beginning, and remember where
 * reading of the old content stopped, for a copy of it.  1 if so. */
static int
check_truncation(struct tfile *f)
{
	struct stat st;
	int truncated;

	if (fstat(f->fd, &st) != 0)
		return 0;
	truncated = (uint64_t)st.st_size < f->lines.offset;
	if (!truncated && f->fp_len > 0 && (uint64_t)st.st_size >= f->fp_len &&
	    !fingerprint_matches(f->fd, f->fp_hash, f->fp_len))
		truncated = 1;
	/* Rewritten past the old position with the same first bytes (lines
	 * that all begin alike): the last line read no longer ends there
	 * (unless reading began inside a line, still being skipped). */
	if (!truncated && f->lines.consumed > 0 &&
	    f->lines.skipping != TAIL_SKIP_REST) {
		char last;

		if (pread(f->fd, &last, 1, (off_t)f->lines.consumed - 1) == 1 &&
		    last != '\n')
			truncated = 1;
	}
	if (truncated) {
		log_info("%s: truncated; reading it from the beginning", f->path);
		metrics_add(f->in->m.rotations, 1);
		remember(f->in, TAIL_POS_CONTENT, 0, 0, f->fp_hash, f->fp_len,
		    f->lines.consumed);
		lseek(f->fd, 0, SEEK_SET);
		f->lines.offset = f->lines.consumed = 0;
		f->lines.skipping = 0;
		buf_reset(&f->lines.partial);
		f->eof = 0;
		f->fp_len = 0;
	}
	if (f->fp_len < TAIL_FP_BYTES && (uint64_t)st.st_size > f->fp_len)
		fingerprint(f->fd, (uint64_t)st.st_size, f->head, &f->fp_hash,
		    &f->fp_len);
	return truncated;
}

static struct tfile *
find_file(const struct tinput *in, uint64_t dev, uint64_t ino)
{
	struct tfile *f;

	for (f = in->files; f != NULL; f = f->next)
		if (f->dev == dev && f->ino == ino)
			return f;
	return NULL;
}

/* The wall-clock second now, from the clock file times are taken from. */
static int64_t
coarse_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME_COARSE, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec;
}

/* Compressed rotations are not read back. */
static int
compressed(const char *name)
{
	static const char *const ext[] = { ".gz", ".bz2", ".xz", ".zst",
	    ".lz4", ".lzma", ".zip", ".Z", NULL };
	size_t n = strlen(name), i;

	for (i = 0; ext[i] != NULL; i++) {
		size_t e = strlen(ext[i]);

		if (n > e && strcmp(name + n - e, ext[i]) == 0)
			return 1;
	}
	return 0;
}

/*
 * Is `name` (in the path's directory) of the rotation family of a path
 * whose last component is `base`: base, then '.', '-' or '_', then a
 * number or a date and time (digits and the separators . - _ : T Z) --
 * logrotate's app.log.1 and app.log-20261203, Python's app.log.1 and
 * app.log.2026-12-03_10 -- and not compressed?  Other siblings
 * (app.log.audit, app.log.tmp) are files of their own.
 */
static int
family_member(const char *base, const char *name)
{
	size_t n = strlen(base);
	const char *p;
	int digits = 0;

	if (strncmp(name, base, n) != 0 || name[n] == '\0' ||
	    strchr(".-_", name[n]) == NULL || compressed(name))
		return 0;
	for (p = name + n + 1; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9')
			digits = 1;
		else if (strchr(".-_:TZ", *p) == NULL)
			return 0;
	}
	return digits;
}

/* Does any input of the follower have this file open, or name it? */
static int
followed_elsewhere(const struct tail *t, const struct tinput *in,
    const char *path, const struct stat *st)
{
	size_t i;

	for (i = 0; i < t->ninputs; i++) {
		const struct tinput *o = &t->inputs[i];

		if (o == in)
			continue;
		if (find_file(o, (uint64_t)st->st_dev,
		    (uint64_t)st->st_ino) != NULL)
			return 1;
		if (o->is_glob ? fnmatch(o->pattern, path, FNM_PATHNAME) == 0 :
		    strcmp(o->pattern, path) == 0)
			return 1;
	}
	return 0;
}

struct candidate {
	char *path;
	int64_t mtime_sec;
	long mtime_nsec;
};

static int
candidate_cmp(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->mtime_sec != y->mtime_sec)
		return x->mtime_sec < y->mtime_sec ? -1 : 1;
	if (x->mtime_nsec != y->mtime_nsec)
		return x->mtime_nsec < y->mtime_nsec ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* Was this file read to its end and closed, with nothing added since? */
static int
closed_done(const struct tinput *in, const struct stat *st)
{
	size_t i;

	for (i = 0; i < in->nclosed; i++) {
		const struct closed_file *c = &in->closed[i];

		if (c->kind == TAIL_POS_CLOSED && c->dev == (uint64_t)st->st_dev &&
		    c->ino == (uint64_t)st->st_ino &&
		    c->offset >= (uint64_t)st->st_size)
			return 1;
	}
	return 0;
}

/* Does a position of the checkpoint being restored describe this file? */
static int
restore_has(const struct tail *t, uint64_t dev, uint64_t ino)
{
	size_t i;

	for (i = 0; i < t->nrestore; i++)
		if (!t->restore_used[i] && t->restore[i].dev == dev &&
		    t->restore[i].ino == ino)
			return 1;
	return 0;
}

/*
 * A plain path's file was replaced, removed or truncated, or driftd
 * restarts: look in its directory for files that no longer sit at the
 * path but hold lines not read yet, and read them, oldest first, before
 * the file at the path.  Those are files a checkpoint being restored
 * describes (under any name), and files of the path's rotation family
 * written at or after `since` that are not open (rotated away before a
 * scan saw them at the path, or while driftd was stopped); files seen
 * before resume where they stopped, and copies of a file being read are
 * left alone (see file_open()).  `since` < 0 adopts no unknown file.
 */
static void
family_scan(struct tinput *in, int64_t since)
{
	struct tail *t = in->t;
	struct candidate *c = NULL;
	size_t n = 0, i;
	char *copy = xstrdup(in->pattern);
	const char *base = basename(copy);
	struct dirent *e;
	DIR *d;

	if (in->dir == NULL || (d = opendir(in->dir)) == NULL) {
		free(copy);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		struct buf path = BUF_INIT;
		struct stat st;
		int ours;

		if (e->d_name[0] == '.' && (e->d_name[1] == '\0' ||
		    (e->d_name[1] == '.' && e->d_name[2] == '\0')))
			continue;
		buf_printf(&path, "%s/%s", in->dir, e->d_name);
		if (stat(path.data, &st) != 0 || !S_ISREG(st.st_mode) ||
		    find_file(in, (uint64_t)st.st_dev, (uint64_t)st.st_ino)) {
			buf_free(&path);
			continue;
		}
		ours = restore_has(t, (uint64_t)st.st_dev, (uint64_t)st.st_ino) ||
		    (since >= 0 && family_member(base, e->d_name) &&
		    (int64_t)st.st_mtim.tv_sec >= since &&
		    !closed_done(in, &st) &&
		    !followed_elsewhere(t, in, path.data, &st));
		if (!ours) {
			buf_free(&path);
			continue;
		}
		c = xreallocarray(c, n + 1, sizeof(*c));
		c[n].path = path.data;
		c[n].mtime_sec = (int64_t)st.st_mtim.tv_sec;
		c[n].mtime_nsec = st.st_mtim.tv_nsec;
		n++;
	}
	closedir(d);
	free(copy);
	if (n > 1)
		qsort(c, n, sizeof(*c), candidate_cmp);
	for (i = 0; i < n; i++) {
		struct tfile *f = file_open(in, c[i].path, NULL, 1);

		if (f != NULL) {
			detach(f, f->copy ? "the copy of a truncated file" :
			    "rotated away before it was read to its end");
			if (!f->copy)   /* the truncation counted */
				metrics_add(in->m.rotations, 1);
		}
		free(c[i].path);
	}
	free(c);
}

static void
scan_plain(struct tinput *in)
{
	struct tfile *cur = NULL, *f;
	int64_t now = coarse_now();     /* before the stat: see family_scan() */
	struct stat st;
	int serr;

	for (f = in->files; f != NULL; f = f->next)
		if (!f->detached)
			cur = f;
	serr = stat(in->pattern, &st) != 0 ? errno : 0;
	if (serr != 0 || !S_ISREG(st.st_mode)) {
		if (cur != NULL) {
			detach(cur, serr == ENOENT ? "renamed or deleted" :
			    serr != 0 ? "no longer reachable" :
			    "no longer a regular file");
			if (!in->t->initial)
				family_scan(in, in->seen);
			return;
		}
		if (serr == ENOENT || serr == ENOTDIR) {
			if (!in->warned_missing && !in->had_file)
				log_info("%s: does not exist yet; waiting for it",
				    in->pattern);
			in->warned_missing = 1;
		} else if (serr != 0) {
			warn_limited(in, "%s: cannot reach it: %s", in->pattern,
			    strerror(serr));
		} else {
			warn_limited(in, "%s: not a regular file (%s); not read",
			    in->pattern, S_ISDIR(st.st_mode) ? "a directory" :
			    S_ISFIFO(st.st_mode) ? "a FIFO" : "not a file");
		}
		return;
	}
	if (cur != NULL && cur->dev == (uint64_t)st.st_dev &&
	    cur->ino == (uint64_t)st.st_ino) {
		if (check_truncation(cur) && !in->t->initial)
			family_scan(in, in->seen);
		in->seen = now;
		return;
	}
	if (cur != NULL)
		detach(cur, "replaced by a new file");
	/* A detached file moved back into place is current again. */
	f = find_file(in, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
	if (f != NULL) {
		f->detached = 0;
		in->seen = now;
		return;
	}
	if (file_open(in, in->pattern, NULL, 0) != NULL) {
		if (in->had_file)
			metrics_add(in->m.rotations, 1);
		/* Files that came and went between two scans.  (At start-up
		 * tail_start() looks, with the checkpoint's time.) */
		if (in->had_file && !in->t->initial)
			family_scan(in, in->seen);
		in->had_file = 1;
		in->seen = now;
	}
}

static void
scan_glob(struct tinput *in)
{
	struct tfile *f, **list = NULL;
	size_t nfiles = 0, i, k;
	char *seen;
	glob_t g;
	int r;

	/* Which open files does the glob still reach? */
	for (f = in->files; f != NULL; f = f->next) {
		list = xreallocarray(list, nfiles + 1, sizeof(*list));
		list[nfiles++] = f;
	}
	seen = xcalloc(nfiles + 1, 1);
	r = glob(in->pattern, 0, NULL, &g);
	for (i = 0; r == 0 && i < g.gl_pathc; i++) {
		struct stat st;

		if (stat(g.gl_pathv[i], &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		for (k = 0; k < nfiles; k++)
			if (list[k]->dev == (uint64_t)st.st_dev &&
			    list[k]->ino == (uint64_t)st.st_ino)
				break;
		if (k < nfiles) {
			/* Renamed within the glob (app.log -> app.log.1)
			 * is the same file: keep reading it. */
			seen[k] = 1;
			list[k]->detached = 0;
			check_truncation(list[k]);
			continue;
		}
		if (file_open(in, g.gl_pathv[i], NULL, 1) != NULL)
			in->had_file = 1;
	}
	for (k = 0; k < nfiles; k++) {
		if (!seen[k] && !list[k]->detached) {
			detach(list[k], "no longer matches");
			metrics_add(in->m.rotations, 1);
		}
	}
	if (r == 0)
		globfree(&g);
	free(seen);
	free(list);
}

/*
 * Read one slice from f.  Returns 1 when more may be waiting, 0 at EOF.
 */
static int
file_read(struct tfile *f, size_t max)
{
	struct tail *t = f->in->t;
	ssize_t n;

	if (max > TAIL_SLICE_BYTES)
		max = TAIL_SLICE_BYTES;
	n = read(f->fd, t->rbuf, max);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 1;
		warn_limited(f->in, "%s: read failed: %s", f->path,
		    strerror(errno));
		f->eof = 1;
		return 0;
	}
	if (n == 0) {
		f->eof = 1;
		return 0;
	}
	f->eof = 0;
	f->lines.offset += (uint64_t)n;
	/* A file's identity takes its first TAIL_FP_BYTES once it has them
	 * (a copy of it is recognised by them), as long as what it began
	 * with is still there (else check_truncation() has work to do). */
	if (f->fp_len < TAIL_FP_BYTES && f->lines.offset > f->fp_len &&
	    fingerprint_matches(f->fd, f->fp_hash, f->fp_len))
		fingerprint(f->fd, f->lines.offset, f->head, &f->fp_hash,
		    &f->fp_len);
	metrics_add(f->in->m.bytes, (double)n);
	tail_lines_feed(&f->lines, t->rbuf, (size_t)n, t->o.max_line_bytes,
	    &f->in->m, t->cb, t->arg);
	return (size_t)n == max;
}

static int
detached_cmp(const void *a, const void *b)
{
	const struct tfile *x = *(struct tfile *const *)a;
	const struct tfile *y = *(struct tfile *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Look at what `in` names now: new, renamed, truncated files. */
static void
scan(struct tinput *in)
{
	in->unopened = 0;
	if (in->is_glob)
		scan_glob(in);
	else
		scan_plain(in);
	metrics_set(in->m.unopened, (double)in->unopened);
}

/* Read from f within the turn's budget; 1 when more may be waiting. */
static int
read_some(struct tfile *f, size_t *budget)
{
	uint64_t before = f->lines.offset;
	int more = file_read(f, *budget);
	uint64_t got = f->lines.offset - before;

	*budget = got < *budget ? *budget - (size_t)got : 0;
	return more;
}

/*
 * Read what `in` has waiting, within the turn's budget; 1 if more is
 * waiting.  Detached files hold older lines than the files at their
 * paths: they are read first, one after the other in the order they were
 * detached, so that records enter the windows in the order they were
 * written.  The other files (a glob's) take turns: each turn starts with
 * the file after the last one read, so that a backlog of many files is
 * read a little from each rather than one at a time.
 */
static int
read_input(struct tinput *in, size_t *budget)
{
	struct tfile *f, **det = NULL, **cur = NULL;
	size_t ndet = 0, ncur = 0, i;
	int more = 0, drained = 1;

	for (f = in->files; f != NULL; f = f->next) {
		if (f->detached) {
			det = xreallocarray(det, ndet + 1, sizeof(*det));
			det[ndet++] = f;
		} else {
			cur = xreallocarray(cur, ncur + 1, sizeof(*cur));
			cur[ncur++] = f;
		}
	}
	if (ndet > 1)
		qsort(det, ndet, sizeof(*det), detached_cmp);
	for (i = 0; i < ndet && drained; i++) {
		if (*budget == 0 || read_some(det[i], budget))
			more = 1;
		if (!det[i]->eof)
			drained = 0;
	}
	if (!drained)
		more = 1;
	for (i = 0; drained && i < ncur; i++) {
		size_t k = (in->cursor + i) % ncur;

		if (*budget == 0) {
			in->cursor = k;
			more = 1;
			break;
		}
		if (read_some(cur[k], budget))
			more = 1;
	}
	free(det);
	free(cur);
	return more;
}

/* Close detached files read to their end once rotate_wait has passed. */
static void
close_drained(struct tinput *in)
{
	struct tail *t = in->t;
	struct tfile *f, *next;
	uint64_t now = uv_now(t->loop);

	for (f = in->files; f != NULL; f = next) {
		next = f->next;
		if (f->detached && f->eof &&
		    now - f->detached_at >= t->o.rotate_wait_ms) {
			log_info("%s: done with it", f->path);
			file_close(f);
		}
	}
}

/*
 * One loop turn of following: scan the inputs that had events, then read
 * at most TAIL_TURN_BYTES in all, taking inputs in turn, so that neither a
 * large backlog nor many files hold the loop long.  The idle handle stops
 * once nothing is waiting.
 */
static void
on_idle(uv_idle_t *h)
{
	struct tail *t = h->data;
	size_t budget = TAIL_TURN_BYTES, i;
	int more = 0;

	for (i = 0; i < t->ninputs; i++) {
		struct tinput *in = &t->inputs[i];

		if (!in->dirty)
			continue;
		in->dirty = 0;
		in->backlog = 1;
		scan(in);
	}
	for (i = 0; i < t->ninputs; i++) {
		struct tinput *in = &t->inputs[(t->next_input + i) % t->ninputs];

		if (in->backlog)
			in->backlog = read_input(in, &budget);
		close_drained(in);
		more |= in->backlog;
	}
	if (t->ninputs > 0)
		t->next_input = (t->next_input + 1) % t->ninputs;
	t->initial = 0;
	if (!more) {
		uv_idle_stop(&t->idle);
		t->idle_active = 0;
	}
}

/* ------------------------------------------------------------- events */

static void
on_fs_event(uv_fs_event_t *h, const char *name, int events, int status)
{
	struct tfile *f = h->data;

	(void)name;
	(void)events;
	(void)status;
	mark_dirty(f->in);
}

static void
on_dir_event(uv_fs_event_t *h, const char *name, int events, int status)
{
	(void)name;
	(void)events;
	(void)status;
	mark_dirty(h->data);
}

/* Watch the directory in which new files for `in` appear. */
static void
dirwatch_try(struct tinput *in)
{
	if (in->dir == NULL || in->dirwatch_active)
		return;
	if (uv_fs_event_start(&in->dirwatch, on_dir_event, in->dir, 0) == 0)
		in->dirwatch_active = 1;
}

static void
on_poll(uv_timer_t *h)
{
	struct tail *t = h->data;
	uint64_t every = TAIL_SAFETY_POLL_MS;
	size_t i;

	for (i = 0; i < t->ninputs; i++) {
		struct tinput *in = &t->inputs[i];
		struct tfile *f;

		dirwatch_try(in);
		mark_dirty(in);
		/* Polling is the fallback: at poll_interval only while some
		 * directory or file gives no events. */
		if (in->dir == NULL || !in->dirwatch_active)
			every = t->o.poll_interval_ms;
		/* Detached files are closed once rotate_wait has passed:
		 * looked at every poll_interval until then. */
		for (f = in->files; f != NULL; f = f->next)
			if (!f->watching || f->detached)
				every = t->o.poll_interval_ms;
	}
	if (every < t->o.poll_interval_ms)
		every = t->o.poll_interval_ms;
	uv_timer_set_repeat(&t->poll, every);
}

static double
input_lag(const struct tinput *in)
{
	const struct tfile *f;
	double lag = 0;

	for (f = in->files; f != NULL; f = f->next) {
		struct stat st;

		if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size > f->lines.offset)
			lag += (double)((uint64_t)st.st_size - f->lines.offset);
	}
	return lag;
}

static void
collect_lag(void *arg)
{
	struct tail *t = arg;
	size_t i;

	for (i = 0; i < t->ninputs; i++)
		metrics_set(t->inputs[i].m.lag, input_lag(&t->inputs[i]));
}

size_t
tail_inputs(const struct tail *t)
{
	return t != NULL ? t->ninputs : 0;
}

void
tail_input_info(const struct tail *t, size_t i, struct tail_input_info *out)
{
	const struct tinput *in = &t->inputs[i];

	out->path = in->pattern;
	out->lines = metrics_value(in->m.lines);
	out->bytes = metrics_value(in->m.bytes);
	out->json_errors = metrics_value(in->m.json);
	out->too_long = metrics_value(in->m.too_long);
	out->rotations = metrics_value(in->m.rotations);
	out->lag_bytes = input_lag(in);
}

/* ------------------------------------------------------------ lifetime */

static int
has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

struct tail *
tail_create(uv_loop_t *loop, const struct tail_options *o,
    struct metrics_registry *reg, tail_line_cb cb, void *arg)
{
	struct tail *t = xcalloc(1, sizeof(*t));
	size_t i;

	/* The families are this follower's, even with no input: a reload's
	 * sweep then removes the series of inputs no longer followed. */
	tail_register_metrics(reg);
	t->loop = loop;
	t->o = *o;
	t->o.inputs = NULL;
	t->cb = cb;
	t->arg = arg;
	t->rbuf = xmalloc(TAIL_SLICE_BYTES);
	t->max_open = tail_max_open_files();
	t->ninputs = o->ninputs;
	t->inputs = xcalloc(o->ninputs + 1, sizeof(*t->inputs));
	for (i = 0; i < o->ninputs; i++) {
		struct tinput *in = &t->inputs[i];
		char *copy, *dir;

		in->t = t;
		in->pattern = xstrdup(o->inputs[i]);
		in->is_glob = has_glob_chars(in->pattern);
		copy = xstrdup(in->pattern);
		dir = dirname(copy);
		if (!has_glob_chars(dir))
			in->dir = xstrdup(dir);
		free(copy);
		tail_counters_init(&in->m, reg, in->pattern);
		uv_fs_event_init(loop, &in->dirwatch);
		in->dirwatch.data = in;
		t->open_handles++;
	}
	uv_timer_init(loop, &t->poll);
	t->poll.data = t;
	uv_idle_init(loop, &t->idle);
	t->idle.data = t;
	t->open_handles += 2;
	t->reg = reg;
	metrics_on_collect(reg, collect_lag, t);
	return t;
}

/* The input named `pattern`, or NULL. */
static struct tinput *
input_named(struct tail *t, const char *pattern)
{
	size_t k;

	for (k = 0; k < t->ninputs; k++)
		if (strcmp(t->inputs[k].pattern, pattern) == 0)
			return &t->inputs[k];
	return NULL;
}

/* Is the content record a replaced file left still unused: no copy of
 * the old content was found? */
static int
content_kept(const struct tinput *in, const struct tail_position *p)
{
	size_t i;

	for (i = 0; i < in->nclosed; i++) {
		const struct closed_file *c = &in->closed[i];

		if (c->kind == TAIL_POS_CONTENT && c->fp_hash == p->fp_hash &&
		    c->fp_len == p->fp_len && c->offset == p->offset)
			return 1;
	}
	return 0;
}

/* Lines of a checkpointed file cannot be read any more: say so, with
 * what is known to be lost (the bytes unread when it was saved). */
static void
report_lost(struct tinput *in, const struct tail_position *p, const char *why)
{
	uint64_t unread = p->size > p->offset ? p->size - p->offset : 0;

	if (unread == 0) {
		log_info("%s: saved position %llu, but %s; nothing was left "
		    "unread then", p->path, (unsigned long long)p->offset, why);
		return;
	}
	log_error("%s: saved position %llu, but %s; its unread lines are "
	    "lost (at least %llu bytes)", p->path,
	    (unsigned long long)p->offset, why, (unsigned long long)unread);
	metrics_add(in->m.lost, (double)unread);
}

/*
 * Positions no scan has matched: the file may have been rotated while
 * driftd was down into a name no scan looks at.  Look for it in the
 * directory it was seen in and read the rest of it; if it is gone, say
 * what is lost.
 */
static void
restore_rotated(struct tail *t)
{
	size_t i;

	for (i = 0; i < t->nrestore; i++) {
		const struct tail_position *p = &t->restore[i];
		struct tinput *in = input_named(t, p->input);
		char *copy, *dir;
		struct dirent *e;
		DIR *d;

		if (in == NULL)
			continue;        /* no longer configured */
		if (t->restore_used[i] == 2 && content_kept(in, p))
			report_lost(in, p, "its file was replaced by a new one");
		if (t->restore_used[i])
			continue;
		copy = xstrdup(p->path);
		dir = dirname(copy);
		d = opendir(dir);
		while (d != NULL && (e = readdir(d)) != NULL) {
			struct buf path = BUF_INIT;
			struct stat st;
			struct tfile *f;
			int fd;

			buf_printf(&path, "%s/%s", dir, e->d_name);
			if (stat(path.data, &st) != 0 || !S_ISREG(st.st_mode) ||
			    (uint64_t)st.st_dev != p->dev ||
			    (uint64_t)st.st_ino != p->ino) {
				buf_free(&path);
				continue;
			}
			fd = tail_open_regular(path.data, &st);
			if (fd >= 0 && fingerprint_matches(fd, p->fp_hash, p->fp_len)) {
				t->restore_used[i] = 1;
				f = file_open(in, path.data, p, 0);
				if (f != NULL)
					detach(f, "was rotated while driftd was stopped");
				metrics_add(in->m.rotations, 1);
			}
			if (fd >= 0)
				close(fd);
			buf_free(&path);
			break;
		}
		if (d != NULL)
			closedir(d);
		free(copy);
		if (!t->restore_used[i]) {
			report_lost(in, p, "the file is gone");
			metrics_add(in->m.rotations, 1);
		}
	}
}

void
tail_start(struct tail *t, const struct tail_state *rs)
{
	static const struct tail_state none;
	size_t i, k;

	if (rs == NULL)
		rs = &none;
	/* An input followed before the restart (named in the checkpoint)
	 * keeps every line since: a file there that no saved position
	 * describes appeared while driftd was stopped. */
	for (i = 0; i < t->ninputs; i++)
		t->inputs[i].seen = -1;
	for (k = 0; k < rs->ninputs; k++) {
		struct tinput *in = input_named(t, rs->inputs[k].input);

		if (in != NULL) {
			in->known = 1;
			in->seen = rs->inputs[k].seen;
		}
	}
	t->restore = xcalloc(rs->npos + 1, sizeof(*t->restore));
	t->restore_used = xcalloc(rs->npos + 1, 1);
	for (i = 0; i < rs->npos; i++) {
		const struct tail_position *p = &rs->pos[i];
		struct tinput *in = input_named(t, p->input);

		if (in != NULL)
			in->known = 1;
		if (p->kind != TAIL_POS_OPEN) {
			/* Done with: remembered, not reopened. */
			if (in != NULL)
				remember(in, p->kind, p->dev, p->ino, p->fp_hash,
				    p->fp_len, p->offset);
			continue;
		}
		t->restore[t->nrestore] = *p;
		t->restore[t->nrestore].input = xstrdup(p->input);
		t->restore[t->nrestore].path = xstrdup(p->path);
		t->nrestore++;
	}
	t->initial = 1;
	/* First scan now, so files present at start-up are told apart from
	 * files that appear later (which are read from the beginning). */
	for (i = 0; i < t->ninputs; i++) {
		struct tinput *in = &t->inputs[i];
		int64_t since = in->seen;

		dirwatch_try(in);
		scan(in);
		if (!in->is_glob && in->known)
			family_scan(in, since);
	}
	restore_rotated(t);
	t->initial = 0;
	for (i = 0; i < t->nrestore; i++) {
		free(t->restore[i].input);
		free(t->restore[i].path);
	}
	free(t->restore);
	free(t->restore_used);
	t->restore = NULL;
	t->restore_used = NULL;
	t->nrestore = 0;
	uv_timer_start(&t->poll, on_poll, t->o.poll_interval_ms,
	    t->o.poll_interval_ms);
	for (i = 0; i < t->ninputs; i++)
		mark_dirty(&t->inputs[i]);
}

static struct tail_position *
state_add_pos(struct tail_state *s, const struct tinput *in, const char *path)
{
	struct tail_position *p;

	s->pos = xreallocarray(s->pos, s->npos + 1, sizeof(*s->pos));
	p = &s->pos[s->npos++];
	memset(p, 0, sizeof(*p));
	p->input = xstrdup(in->pattern);
	p->path = xstrdup(path);
	return p;
}

void
tail_save_state(const struct tail *t, struct tail_state *s)
{
	size_t i, k;

	memset(s, 0, sizeof(*s));
	s->ninputs = t->ninputs;
	s->inputs = xcalloc(t->ninputs + 1, sizeof(*s->inputs));
	for (i = 0; i < t->ninputs; i++) {
		const struct tinput *in = &t->inputs[i];
		struct tfile *f;

		s->inputs[i].input = xstrdup(in->pattern);
		s->inputs[i].seen = in->seen;
		for (f = in->files; f != NULL; f = f->next) {
			struct tail_position *p = state_add_pos(s, in, f->path);
			struct stat st;

			p->kind = TAIL_POS_OPEN;
			p->dev = f->dev;
			p->ino = f->ino;
			p->fp_hash = f->fp_hash;
			p->fp_len = f->fp_len;
			p->offset = f->lines.consumed;
			p->size = fstat(f->fd, &st) == 0 ?
			    (uint64_t)st.st_size : p->offset;
		}
		/* Oldest first, so that a restart remembers them in the
		 * same order. */
		for (k = 0; k < in->nclosed; k++) {
			const struct closed_file *c = &in->closed[(in->closed_next +
			    TAIL_CLOSED_MAX - in->nclosed + k) % TAIL_CLOSED_MAX];
			struct tail_position *p;

			if (c->kind != TAIL_POS_CLOSED && c->kind != TAIL_POS_CONTENT)
				continue;        /* used up */
			p = state_add_pos(s, in, in->pattern);
			p->kind = c->kind;
			p->dev = c->dev;
			p->ino = c->ino;
			p->fp_hash = c->fp_hash;
			p->fp_len = c->fp_len;
			p->offset = p->size = c->offset;
		}
	}
}

void
tail_state_free(struct tail_state *s)
{
	size_t i;

	for (i = 0; i < s->ninputs; i++)
		free(s->inputs[i].input);
	free(s->inputs);
	for (i = 0; i < s->npos; i++) {
		free(s->pos[i].input);
		free(s->pos[i].path);
	}
	free(s->pos);
	memset(s, 0, sizeof(*s));
}

void
tail_set_options(struct tail *t, const struct tail_options *o)
{
	int poll_changed = o->poll_interval_ms != t->o.poll_interval_ms;

	t->o.start_at_beginning = o->start_at_beginning;
	t->o.rotate_wait_ms = o->rotate_wait_ms;
	t->o.poll_interval_ms = o->poll_interval_ms;
	t->o.max_line_bytes = o->max_line_bytes;
	if (poll_changed && !t->closing)
		uv_timer_start(&t->poll, on_poll, t->o.poll_interval_ms,
		    t->o.poll_interval_ms);
}

void
tail_drain_detached(struct tail *t)
{
	size_t i;

	for (i = 0; i < t->ninputs; i++) {
		struct tfile *f;

		for (f = t->inputs[i].files; f != NULL; f = f->next)
			if (f->detached)
				while (file_read(f, TAIL_SLICE_BYTES))
					;
	}
}

static void
tail_maybe_free(struct tail *t)
{
	size_t i;

	if (!t->closing || t->open_handles > 0)
		return;
	for (i = 0; i < t->ninputs; i++) {
		free(t->inputs[i].pattern);
		free(t->inputs[i].dir);
	}
	free(t->inputs);
	free(t->rbuf);
	free(t);
}

static void
on_handle_closed(uv_handle_t *h)
{
	struct tail *t = h->data;

	if (h->type == UV_FS_EVENT)
		t = ((struct tinput *)h->data)->t;
	t->open_handles--;
	tail_maybe_free(t);
}

void
tail_close(struct tail *t)
{
	size_t i;

	if (t == NULL)
		return;
	t->closing = 1;
	/* A scrape after this must not reach the tail, which is freed
	 * once its handles are closed. */
	metrics_remove_collect(t->reg, collect_lag, t);
	for (i = 0; i < t->ninputs; i++) {
		struct tinput *in = &t->inputs[i];

		while (in->files != NULL)
			file_close(in->files);
		uv_close((uv_handle_t *)&in->dirwatch, on_handle_closed);
	}
	uv_close((uv_handle_t *)&t->poll, on_handle_closed);
	uv_close((uv_handle_t *)&t->idle, on_handle_closed);
}

