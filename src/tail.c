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
	struct tail_lines lines;   /* read position, partial line */
	int detached;
	uint64_t detached_at;   /* loop time, ms */
	int eof;                /* the last read found no more data */
	uv_fs_event_t watch;
};

/* Files closed after rotate_wait, remembered so that one moved back into
 * place resumes where it was instead of being read again. */
#define TAIL_CLOSED_MAX 16

struct closed_file {
	uint64_t dev, ino, fp_hash, offset;
	uint32_t fp_len;
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
	uint64_t warned_at;     /* loop time of the last open/read warning */
	int warned;
	struct closed_file closed[TAIL_CLOSED_MAX];
	size_t nclosed, closed_next;
	struct tfile *files;
	int dirty;
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
	struct tail_position *restore;
	size_t nrestore;
	char *restore_used;
};

static void tail_maybe_free(struct tail *t);

/* --------------------------------------------------------- identities */

static int
fingerprint(int fd, uint64_t size, uint64_t *hash, uint32_t *len)
{
	char b[TAIL_FP_BYTES];
	size_t want = size < TAIL_FP_BYTES ? (size_t)size : TAIL_FP_BYTES;
	ssize_t n = want > 0 ? pread(fd, b, want, 0) : 0;

	if (n < 0)
		return -errno;
	*hash = strmap_hash(b, (size_t)n);
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

static void
file_close(struct tfile *f)
{
	struct tinput *in = f->in;
	struct tfile **pp;

	for (pp = &in->files; *pp != f; pp = &(*pp)->next)
		;
	*pp = f->next;
	if (f->fd >= 0 && f->eof) {
		struct closed_file *c = &in->closed[in->closed_next];

		c->dev = f->dev;
		c->ino = f->ino;
		c->fp_hash = f->fp_hash;
		c->fp_len = f->fp_len;
		c->offset = f->lines.consumed;
		in->closed_next = (in->closed_next + 1) % TAIL_CLOSED_MAX;
		if (in->nclosed < TAIL_CLOSED_MAX)
			in->nclosed++;
	}
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

static void
detach(struct tfile *f, const char *why)
{
	if (f->detached)
		return;
	f->detached = 1;
	f->detached_at = uv_now(f->in->t->loop);
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
				log_info("%s: inode reused by a new file; "
				    "reading it from the beginning", p->path);
				metrics_add(in->m.rotations, 1);
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

/* Where a file closed earlier by `in` stopped, if this is that file. */
static int
closed_find(struct tinput *in, uint64_t dev, uint64_t ino, int fd,
    uint64_t *offset)
{
	size_t i;

	for (i = 0; i < in->nclosed; i++) {
		struct closed_file *c = &in->closed[i];

		if (c->dev != dev || c->ino != ino)
			continue;
		c->dev = c->ino = 0;     /* used up */
		if (!fingerprint_matches(fd, c->fp_hash, c->fp_len))
			return 0;
		*offset = c->offset;
		return 1;
	}
	return 0;
}

/*
 * Open `path` (already stat'ed into *st) for `in`.  Where reading starts:
 * a restored position if one matches, else the end for a file present at
 * start-up with start_at = end (unless the input was followed before, so
 * that the file is new since then), else the beginning.
 */
static struct tfile *
file_open(struct tinput *in, const char *path, const struct stat *st,
    const struct tail_position *forced)
{
	struct tail *t = in->t;
	const struct tail_position *pos;
	struct tfile *f;
	struct stat fst;
	uint64_t start = 0;
	int fd;

	if (t->nopen >= t->max_open) {
		warn_limited(in, "%s: not opened: %zu log files are open, half "
		    "the descriptor limit", path, t->nopen);
		return NULL;
	}
	/* The file may have changed between stat() and open(). */
	fd = tail_open_regular(path, &fst);
	if (fd < 0) {
		if (errno != EINVAL)
			warn_limited(in, "%s: cannot open: %s", path,
			    strerror(errno));
		return NULL;
	}
	(void)st;
	pos = forced != NULL ? forced :
	    restore_find(t, in, (uint64_t)fst.st_dev, (uint64_t)fst.st_ino, fd);
	if (pos == NULL && closed_find(in, (uint64_t)fst.st_dev,
	    (uint64_t)fst.st_ino, fd, &start)) {
		log_info("%s: seen before; resuming at %llu", path,
		    (unsigned long long)start);
		if (start > (uint64_t)fst.st_size)
			start = 0;
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
	f->path = xstrdup(path);
	f->lines.path = f->path;
	f->dev = (uint64_t)fst.st_dev;
	f->ino = (uint64_t)fst.st_ino;
	fingerprint(fd, (uint64_t)fst.st_size, &f->fp_hash, &f->fp_len);
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
	if (uv_fs_event_start(&f->watch, on_fs_event, path, 0) != 0)
		log_debug("%s: no file events; polling", path);
	f->next = in->files;
	in->files = f;
	log_info("%s: following from offset %llu", path,
	    (unsigned long long)start);
	return f;
}

/* Truncated in place (copytruncate, ": > file") or rewritten from the
 * start?  Then read it again from the beginning. */
static void
check_truncation(struct tfile *f)
{
	struct stat st;
	int truncated;

	if (fstat(f->fd, &st) != 0)
		return;
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
		lseek(f->fd, 0, SEEK_SET);
		f->lines.offset = f->lines.consumed = 0;
		f->lines.skipping = 0;
		buf_reset(&f->lines.partial);
		f->eof = 0;
		f->fp_len = 0;
	}
	if (f->fp_len < TAIL_FP_BYTES && (uint64_t)st.st_size > f->fp_len)
		fingerprint(f->fd, (uint64_t)st.st_size, &f->fp_hash, &f->fp_len);
}

static struct tfile *
find_file(struct tinput *in, uint64_t dev, uint64_t ino)
{
	struct tfile *f;

	for (f = in->files; f != NULL; f = f->next)
		if (f->dev == dev && f->ino == ino)
			return f;
	return NULL;
}

static void
scan_plain(struct tinput *in)
{
	struct tfile *cur = NULL, *f;
	struct stat st;

	for (f = in->files; f != NULL; f = f->next)
		if (!f->detached)
			cur = f;
	if (stat(in->pattern, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (cur != NULL)
			detach(cur, errno == ENOENT ? "renamed or deleted" :
			    "no longer a regular file");
		if (!in->warned_missing && cur == NULL && !in->had_file) {
			log_info("%s: does not exist yet; waiting for it",
			    in->pattern);
			in->warned_missing = 1;
		}
		return;
	}
	if (cur != NULL && cur->dev == (uint64_t)st.st_dev &&
	    cur->ino == (uint64_t)st.st_ino) {
		check_truncation(cur);
		return;
	}
	if (cur != NULL)
		detach(cur, "replaced by a new file");
	/* A detached file moved back into place is current again. */
	f = find_file(in, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
	if (f != NULL) {
		f->detached = 0;
		return;
	}
	if (file_open(in, in->pattern, &st, NULL) != NULL) {
		if (in->had_file)
			metrics_add(in->m.rotations, 1);
		in->had_file = 1;
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
		if (file_open(in, g.gl_pathv[i], &st, NULL) != NULL)
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
file_read(struct tfile *f)
{
	struct tail *t = f->in->t;
	ssize_t n;

	n = read(f->fd, t->rbuf, TAIL_SLICE_BYTES);
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
	metrics_add(f->in->m.bytes, (double)n);
	tail_lines_feed(&f->lines, t->rbuf, (size_t)n, t->o.max_line_bytes,
	    &f->in->m, t->cb, t->arg);
	return n == TAIL_SLICE_BYTES;
}

/* Scan and read one slice of everything in `in`; 1 if more is waiting. */
static int
process(struct tinput *in)
{
	struct tail *t = in->t;
	struct tfile *f, *next;
	int more = 0, drained = 1;
	uint64_t now = uv_now(t->loop);

	if (in->is_glob)
		scan_glob(in);
	else
		scan_plain(in);
	/* The rest of a rotated file comes before the new one. */
	for (f = in->files; f != NULL; f = f->next) {
		if (!f->detached)
			continue;
		if (file_read(f))
			more = 1;
		if (!f->eof)
			drained = 0;
	}
	if (drained) {
		for (f = in->files; f != NULL; f = f->next)
			if (!f->detached && file_read(f))
				more = 1;
	} else {
		more = 1;
	}
	for (f = in->files; f != NULL; f = next) {
		next = f->next;
		if (f->detached && f->eof &&
		    now - f->detached_at >= t->o.rotate_wait_ms) {
			log_info("%s: done with it", f->path);
			file_close(f);
		}
	}
	return more;
}

static void
on_idle(uv_idle_t *h)
{
	struct tail *t = h->data;
	int more = 0;
	size_t i;

	for (i = 0; i < t->ninputs; i++) {
		struct tinput *in = &t->inputs[i];

		if (!in->dirty)
			continue;
		in->dirty = process(in);
		more |= in->dirty;
	}
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
	size_t i;

	for (i = 0; i < t->ninputs; i++) {
		dirwatch_try(&t->inputs[i]);
		mark_dirty(&t->inputs[i]);
	}
}

static void
collect_lag(void *arg)
{
	struct tail *t = arg;
	size_t i;

	for (i = 0; i < t->ninputs; i++) {
		struct tinput *in = &t->inputs[i];
		double lag = 0;
		struct tfile *f;

		for (f = in->files; f != NULL; f = f->next) {
			struct stat st;

			if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size > f->lines.offset)
				lag += (double)((uint64_t)st.st_size - f->lines.offset);
		}
		metrics_set(in->m.lag, lag);
	}
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

/*
 * Positions whose file is no longer at its path: the file may have been
 * rotated while driftd was down.  Look for it in the same directory and
 * read the rest of it.
 */
static void
restore_rotated(struct tail *t)
{
	size_t i;

	for (i = 0; i < t->nrestore; i++) {
		const struct tail_position *p = &t->restore[i];
		struct tinput *in = NULL;
		char *copy, *dir;
		struct dirent *e;
		DIR *d;
		size_t k;

		if (t->restore_used[i])
			continue;
		for (k = 0; k < t->ninputs; k++)
			if (strcmp(t->inputs[k].pattern, p->input) == 0)
				in = &t->inputs[k];
		if (in == NULL)
			continue;        /* the input is no longer configured */
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
				f = file_open(in, path.data, &st, p);
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
			log_warn("%s: saved position %llu, but the file is gone; "
			    "its unread lines are lost", p->path,
			    (unsigned long long)p->offset);
			metrics_add(in->m.rotations, 1);
		}
	}
}

void
tail_start(struct tail *t, const struct tail_position *restore, size_t nrestore,
    const char *const *known, size_t nknown)
{
	size_t i, k;

	/* An input followed before the restart (named in the checkpoint)
	 * keeps every line since: a file there that no saved position
	 * describes appeared while driftd was stopped. */
	for (i = 0; i < t->ninputs; i++) {
		struct tinput *in = &t->inputs[i];

		for (k = 0; k < nknown && !in->known; k++)
			in->known = strcmp(known[k], in->pattern) == 0;
		for (k = 0; k < nrestore && !in->known; k++)
			in->known = strcmp(restore[k].input, in->pattern) == 0;
	}
	t->nrestore = nrestore;
	t->restore = xcalloc(nrestore + 1, sizeof(*t->restore));
	t->restore_used = xcalloc(nrestore + 1, 1);
	for (i = 0; i < nrestore; i++) {
		t->restore[i] = restore[i];
		t->restore[i].input = xstrdup(restore[i].input);
		t->restore[i].path = xstrdup(restore[i].path);
	}
	t->initial = 1;
	/* First scan now, so files present at start-up are told apart from
	 * files that appear later (which are read from the beginning). */
	for (i = 0; i < t->ninputs; i++) {
		struct tinput *in = &t->inputs[i];

		dirwatch_try(in);
		if (in->is_glob)
			scan_glob(in);
		else
			scan_plain(in);
	}
	restore_rotated(t);
	t->initial = 0;
	tail_positions_free(t->restore, t->nrestore);
	free(t->restore_used);
	t->restore = NULL;
	t->restore_used = NULL;
	t->nrestore = 0;
	uv_timer_start(&t->poll, on_poll, t->o.poll_interval_ms,
	    t->o.poll_interval_ms);
	for (i = 0; i < t->ninputs; i++)
		mark_dirty(&t->inputs[i]);
}

size_t
tail_positions(struct tail *t, struct tail_position **out)
{
	struct tail_position *v = NULL;
	size_t n = 0, i;

	for (i = 0; i < t->ninputs; i++) {
		struct tinput *in = &t->inputs[i];
		struct tfile *f;

		for (f = in->files; f != NULL; f = f->next) {
			struct tail_position *p;

			v = xreallocarray(v, n + 1, sizeof(*v));
			p = &v[n++];
			p->input = xstrdup(in->pattern);
			p->path = xstrdup(f->path);
			p->dev = f->dev;
			p->ino = f->ino;
			p->fp_hash = f->fp_hash;
			p->fp_len = f->fp_len;
			p->offset = f->lines.consumed;
		}
	}
	*out = v;
	return n;
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
				while (file_read(f))
					;
	}
}

size_t
tail_inputs(const struct tail *t, char ***out)
{
	char **v = xcalloc(t->ninputs + 1, sizeof(*v));
	size_t i;

	for (i = 0; i < t->ninputs; i++)
		v[i] = xstrdup(t->inputs[i].pattern);
	*out = v;
	return t->ninputs;
}

void
tail_inputs_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
tail_positions_free(struct tail_position *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].input);
		free(p[i].path);
	}
	free(p);
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

