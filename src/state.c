/*
 * state.c - checkpoints in state_dir.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>
#include <zlib.h>

#include "log.h"
#include "state.h"
#include "util.h"

static const char magic[8] = { 'D', 'R', 'I', 'F', 'T', 'D', 'S', 'T' };

#define HEADER_BYTES 16

static void
put_le(struct buf *b, uint64_t v, int n)
{
	unsigned char tmp[8];
	int i;

	for (i = 0; i < n; i++)
		tmp[i] = (unsigned char)(v >> (8 * i));
	buf_append(b, tmp, (size_t)n);
}

uint64_t
state_le(const void *bytes, int n)
{
	const unsigned char *p = bytes;
	uint64_t v = 0;
	int i;

	for (i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

void
state_writer_init(struct state_writer *w)
{
	state_writer_reuse(w, NULL);
}

void
state_writer_reuse(struct state_writer *w, struct buf *spare)
{
	memset(w, 0, sizeof(*w));
	if (spare != NULL) {
		w->b = *spare;
		memset(spare, 0, sizeof(*spare));
		buf_reset(&w->b);
	}
	buf_append(&w->b, magic, sizeof(magic));
	put_le(&w->b, STATE_VERSION, 4);
	put_le(&w->b, 0, 4);     /* section count, filled in by state_save */
}

void
state_writer_free(struct state_writer *w)
{
	buf_free(&w->b);
}

void
state_begin_section(struct state_writer *w, enum state_tag tag)
{
	put_le(&w->b, (uint32_t)tag, 4);
	w->section_start = w->b.len;
	put_le(&w->b, 0, 8);     /* length, filled in at the end */
}

void
state_end_section(struct state_writer *w)
{
	uint64_t len = w->b.len - w->section_start - 8;
	int i;

	for (i = 0; i < 8; i++)
		w->b.data[w->section_start + (size_t)i] = (char)(len >> (8 * i));
	w->nsections++;
}

void
state_put_u32(struct state_writer *w, uint32_t v)
{
	put_le(&w->b, v, 4);
}

void
state_put_u64(struct state_writer *w, uint64_t v)
{
	put_le(&w->b, v, 8);
}

void
state_put_double(struct state_writer *w, double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	put_le(&w->b, u, 8);
}

void
state_reserve(struct state_writer *w, size_t bytes)
{
	buf_reserve(&w->b, bytes);
}

void *
state_put_raw(struct state_writer *w, size_t bytes)
{
	void *p;

	buf_reserve(&w->b, bytes);
	p = w->b.data + w->b.len;
	w->b.len += bytes;
	return p;
}

void
state_le_array(void *p, size_t n, size_t size)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	(void)p;
	(void)n;
	(void)size;
#else
	unsigned char *b = p, t;
	size_t i, k;

	for (i = 0; i < n; i++, b += size)
		for (k = 0; k < size / 2; k++) {
			t = b[k];
			b[k] = b[size - 1 - k];
			b[size - 1 - k] = t;
		}
#endif
}

void
state_put_bytes(struct state_writer *w, const void *p, size_t len)
{
	put_le(&w->b, len, 8);
	buf_append(&w->b, p, len);
}

static int
write_all(int fd, const void *data, size_t n)
{
	const char *p = data;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void
state_finish(struct state_writer *w)
{
	int i;

	for (i = 0; i < 4; i++)
		w->b.data[12 + i] = (char)(w->nsections >> (8 * i));
}

/*
 * Checkpoints are numbered as they are taken, on the loop; writing one
 * (on the loop or in the thread pool) holds save_lock, and one older than
 * the checkpoint already in place is not put in its place: a slow write
 * in the background never replaces a newer checkpoint taken at a reload
 * or at shutdown.
 */
static uv_once_t save_once = UV_ONCE_INIT;
static uv_mutex_t save_lock;
static uint64_t taken_seq;       /* on the loop */
static uint64_t placed_seq;      /* under save_lock */

static void
save_init(void)
{
	if (uv_mutex_init(&save_lock) != 0)
		abort();
}

static int
write_numbered(const char *dir, const struct buf *b, uint64_t seq)
{
	int r = 0;

	uv_once(&save_once, save_init);
	uv_mutex_lock(&save_lock);
	if (seq > placed_seq) {
		r = state_write_file(dir, STATE_FILE, b->data, b->len);
		if (r == 0)
			placed_seq = seq;
	}
	uv_mutex_unlock(&save_lock);
	return r;
}

void
state_seal(struct buf *b)
{
	uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)b->data, (uInt)b->len);

	put_le(b, crc, 4);
}

int
state_save(const char *dir, struct state_writer *w)
{
	int r;

	state_finish(w);
	state_seal(&w->b);
	r = write_numbered(dir, &w->b, ++taken_seq);
	w->b.len -= 4;            /* the writer may be saved again */
	return r;
}

struct save_job {
	uv_work_t req;
	char *dir;
	struct buf data;
	uint64_t seq;
	int result;
	state_saved_cb cb;
	void *arg;
};

static void
save_work(uv_work_t *req)
{
	struct save_job *j = req->data;

	state_seal(&j->data);    /* a CRC of a large file takes a while */
	j->result = write_numbered(j->dir, &j->data, j->seq);
}

static void
save_done(uv_work_t *req, int status)
{
	struct save_job *j = req->data;

	j->cb(j->arg, status < 0 ? status : j->result, &j->data);
	buf_free(&j->data);
	free(j->dir);
	free(j);
}

int
state_save_async(uv_loop_t *loop, const char *dir, struct state_writer *w,
    state_saved_cb cb, void *arg)
{
	struct save_job *j = xcalloc(1, sizeof(*j));
	int r;

	state_finish(w);
	j->req.data = j;
	j->dir = xstrdup(dir);
	j->data = w->b;
	j->seq = ++taken_seq;
	j->cb = cb;
	j->arg = arg;
	memset(&w->b, 0, sizeof(w->b));
	r = uv_queue_work(loop, &j->req, save_work, save_done);
	if (r != 0) {
		buf_free(&j->data);
		free(j->dir);
		free(j);
	}
	return r;
}

int
state_write_file(const char *dir, const char *name, const void *data,
    size_t len)
{
	struct buf path = BUF_INIT, tmp = BUF_INIT;
	int fd = -1, dfd = -1, r = 0;

	buf_printf(&path, "%s/%s", dir, name);
	buf_printf(&tmp, "%s/.%s.tmp", dir, name);
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if ((r = write_all(fd, data, len)) != 0)
		goto out;
	if (fsync(fd) != 0) {
		r = -errno;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = -errno;
		goto out;
	}
	fd = -1;
	if (rename(tmp.data, path.data) != 0) {
		r = -errno;
		goto out;
	}
	/* The rename is durable only once the directory is synced. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0)
		r = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (r != 0)
		unlink(tmp.data);
	buf_free(&path);
	buf_free(&tmp);
	return r;
}

int
state_read_file(const char *dir, const char *name, struct buf *out)
{
	struct buf path = BUF_INIT;
	char chunk[65536];
	int fd, r = 0;

	buf_printf(&path, "%s/%s", dir, name);
	fd = open(path.data, O_RDONLY | O_CLOEXEC);
	buf_free(&path);
	if (fd < 0)
		return -errno;
	buf_reset(out);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > STATE_MAX_BYTES) {
			r = -EFBIG;
			break;
		}
		buf_append(out, chunk, (size_t)n);
	}
	close(fd);
	return r;
}

/* Rename an untrusted checkpoint aside so that it is kept for inspection
 * but never read again. */
static void
set_aside(const char *path)
{
	struct buf aside = BUF_INIT;

	buf_printf(&aside, "%s.corrupt-%lld", path, (long long)time(NULL));
	if (rename(path, aside.data) == 0)
		log_warn("%s: not a valid checkpoint; moved to %s and "
		    "starting afresh", path, aside.data);
	else
		log_warn("%s: not a valid checkpoint; ignoring it", path);
	buf_free(&aside);
}

int
state_verify(const struct buf *b)
{
	const unsigned char *p = (const unsigned char *)b->data;
	size_t off = HEADER_BYTES, end;
	uint32_t n, i;

	if (b->len < HEADER_BYTES + 4 || memcmp(p, magic, sizeof(magic)) != 0 ||
	    state_le(p + 8, 4) != STATE_VERSION)
		return -EBADMSG;
	end = b->len - 4;
	if ((uint32_t)crc32(0L, p, (uInt)end) != (uint32_t)state_le(p + end, 4))
		return -EBADMSG;
	n = (uint32_t)state_le(p + 12, 4);
	for (i = 0; i < n; i++) {
		uint64_t len;

		if (end - off < 12)
			return -EBADMSG;
		len = state_le(p + off + 4, 8);
		off += 12;
		if (len > end - off)
			return -EBADMSG;
		off += len;
	}
	return off == end ? 0 : -EBADMSG;
}

int
state_load(const char *dir, struct buf *out)
{
	struct buf path = BUF_INIT;
	struct stat st;
	int fd, r = 0;

	buf_printf(&path, "%s/%s", dir, STATE_FILE);
	fd = open(path.data, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > STATE_MAX_BYTES) {
		close(fd);
		set_aside(path.data);
		r = -EBADMSG;
		goto out;
	}
	buf_reset(out);
	buf_reserve(out, (size_t)st.st_size);
	for (;;) {
		ssize_t n = read(fd, out->data + out->len, out->cap - out->len - 1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		if (out->len + 1 >= out->cap)
			buf_reserve(out, 65536);
	}
	close(fd);
	if (r == 0 && state_verify(out) != 0) {
		set_aside(path.data);
		r = -EBADMSG;
	}
	if (r != 0)
		buf_free(out);
out:
	buf_free(&path);
	return r;
}

int
state_section(const struct buf *file, enum state_tag tag, struct state_reader *r)
{
	const unsigned char *p = (const unsigned char *)file->data;
	size_t off = HEADER_BYTES;
	uint32_t n = (uint32_t)state_le(p + 12, 4), i;

	for (i = 0; i < n; i++) {
		uint32_t t = (uint32_t)state_le(p + off, 4);
		uint64_t len = state_le(p + off + 4, 8);

		off += 12;
		if (t == (uint32_t)tag) {
			r->p = p + off;
			r->end = p + off + len;
			r->bad = 0;
			return 0;
		}
		off += len;
	}
	return -ENOENT;
}

static const unsigned char *
take(struct state_reader *r, size_t n)
{
	const unsigned char *p = r->p;

	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return NULL;
	}
	r->p += n;
	return p;
}

uint32_t
state_get_u32(struct state_reader *r)
{
	const unsigned char *p = take(r, 4);

	return p ? (uint32_t)state_le(p, 4) : 0;
}

uint64_t
state_get_u64(struct state_reader *r)
{
	const unsigned char *p = take(r, 8);

	return p ? state_le(p, 8) : 0;
}

double
state_get_double(struct state_reader *r)
{
	const unsigned char *p = take(r, 8);

	return p ? state_le_double(p) : NAN;
}

double
state_le_double(const void *bytes)
{
	uint64_t u = state_le(bytes, 8);
	double v;

	memcpy(&v, &u, sizeof(v));
	return v;
}

const void *
state_get_bytes(struct state_reader *r, size_t len)
{
	return take(r, len);
}

const char *
state_get_string(struct state_reader *r, size_t *len)
{
	uint64_t n = state_get_u64(r);

	if (n > STATE_MAX_STRING) {
		r->bad = 1;
		return NULL;
	}
	*len = (size_t)n;
	return state_get_bytes(r, (size_t)n);
}
