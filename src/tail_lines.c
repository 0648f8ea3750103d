/*
 * tail_lines.c - cutting bytes into complete lines, and the driftd_log_*
 * counters; shared by following (tail.c) and --once (tail_once.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tail.h"
#include "tail_internal.h"

enum {
	M_LINES,
	M_BYTES,
	M_ERRORS,
	M_ROTATIONS,
	M_LAG,
	M_LOST,
	M_UNOPENED,
	M_COUNT
};

static const struct metrics_desc descs[M_COUNT] = {
	[M_LINES] = { "driftd_log_lines_total", METRICS_COUNTER,
	    "Lines read from the input's files.", { "input", NULL } },
	[M_BYTES] = { "driftd_log_bytes_total", METRICS_COUNTER,
	    "Bytes read from the input's files.", { "input", NULL } },
	[M_ERRORS] = { "driftd_log_errors_total", METRICS_COUNTER,
	    "Lines skipped, by reason: json (not a JSON object), too_long "
	    "(longer than max_line_bytes), late (a replay's step had "
	    "closed).", { "input", "reason", NULL } },
	[M_ROTATIONS] = { "driftd_log_rotations_total", METRICS_COUNTER,
	    "Rotations and truncations of the input's files followed.",
	    { "input", NULL } },
	[M_LAG] = { "driftd_log_lag_bytes", METRICS_GAUGE,
	    "Bytes written to the input's files but not yet read.",
	    { "input", NULL } },
	[M_LOST] = { "driftd_log_lost_bytes_total", METRICS_COUNTER,
	    "Bytes known to be unread when their file was found gone after a "
	    "restart (at least this much was lost).", { "input", NULL } },
	[M_UNOPENED] = { "driftd_log_files_unopened", METRICS_GAUGE,
	    "Files of the input not read because log files already take half "
	    "the descriptor limit.", { "input", NULL } },
};

/* ------------------------------------------------------------- metrics */

void
tail_register_metrics(struct metrics_registry *reg)
{
	size_t i;

	for (i = 0; i < M_COUNT; i++)
		metrics_family_get(reg, &descs[i], NULL, 0);
}

void
tail_counters_init(struct tail_counters *m, struct metrics_registry *reg,
    const char *input)
{
	const char *lv[2] = { input, NULL };

	memset(m, 0, sizeof(*m));
	tail_register_metrics(reg);
	m->lines = metrics_series_get(metrics_family_find(reg, descs[M_LINES].name), lv);
	m->bytes = metrics_series_get(metrics_family_find(reg, descs[M_BYTES].name), lv);
	m->rotations = metrics_series_get(metrics_family_find(reg, descs[M_ROTATIONS].name), lv);
	m->lag = metrics_series_get(metrics_family_find(reg, descs[M_LAG].name), lv);
	m->lost = metrics_series_get(metrics_family_find(reg, descs[M_LOST].name), lv);
	m->unopened = metrics_series_get(metrics_family_find(reg,
	    descs[M_UNOPENED].name), lv);
	m->errors = metrics_family_find(reg, descs[M_ERRORS].name);
	m->input = input;
	lv[1] = "json";
	m->json = metrics_series_get(metrics_family_find(reg, descs[M_ERRORS].name), lv);
	lv[1] = "too_long";
	m->too_long = metrics_series_get(metrics_family_find(reg, descs[M_ERRORS].name), lv);
}


int
tail_open_regular(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* --------------------------------------------------------------- lines */

static void
emit(tail_line_cb cb, void *arg, struct tail_counters *m, const char *line,
    size_t len)
{
	size_t i;

	metrics_add(m->lines, 1);
	/* Blank lines (whitespace only) carry nothing and are not errors. */
	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			break;
	if (i == len)
		return;
	if (line[len - 1] == '\r')
		len--;
	switch (cb(arg, line, len)) {
	case TAIL_LINE_OK:
		break;
	case TAIL_LINE_BAD_JSON:
		metrics_add(m->json, 1);
		break;
	case TAIL_LINE_LATE:
		if (m->late == NULL) {
			const char *lv[2] = { m->input, "late" };

			m->late = metrics_series_get(m->errors, lv);
		}
		metrics_add(m->late, 1);
		break;
	}
}

static void
too_long(struct tail_lines *f, struct tail_counters *m)
{
	metrics_add(m->too_long, 1);
	log_debug("%s: skipping a line longer than the configured maximum",
	    f->path);
}

/* A line's length as emit() hands it on: without a final '\r'. */
static inline size_t
line_length(size_t len, char last)
{
	return len > 0 && last == '\r' ? len - 1 : len;
}

/*
 * Cut `n` bytes just read from f (at file offset f->offset - n) into lines.
 * Complete lines go to cb; an incomplete tail waits in f->partial.
 */

void
tail_lines_feed(struct tail_lines *f, const char *data, size_t n, size_t max_line,
    struct tail_counters *m, tail_line_cb cb, void *arg)
{
	const char *p = data, *end = data + n;
	uint64_t base = f->offset - n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t seg;

		if (nl == NULL) {
			seg = (size_t)(end - p);
			if (f->skipping)
				break;
			/* One byte more may wait: it may be the '\r' of a
			 * CRLF, which is not part of the line. */
			if (f->partial.len + seg > max_line + 1) {
				too_long(f, m);
				f->skipping = TAIL_SKIP_LONG;
				buf_reset(&f->partial);
			} else {
				buf_append(&f->partial, p, seg);
			}
			break;
		}
		seg = (size_t)(nl - p);
		if (f->skipping) {
			if (f->skipping == TAIL_SKIP_LONG)
				metrics_add(m->lines, 1);
			f->skipping = 0;
		} else if (f->partial.len > 0) {
			size_t len = f->partial.len + seg;
			char last = seg > 0 ? p[seg - 1] :
			    f->partial.data[f->partial.len - 1];

			if (line_length(len, last) > max_line) {
				too_long(f, m);
				metrics_add(m->lines, 1);
			} else {
				buf_append(&f->partial, p, seg);
				emit(cb, arg, m, f->partial.data, f->partial.len);
			}
			buf_reset(&f->partial);
		} else if (line_length(seg, seg > 0 ? p[seg - 1] : 0) > max_line) {
			too_long(f, m);
			metrics_add(m->lines, 1);
		} else {
			emit(cb, arg, m, p, seg);
		}
		p = nl + 1;
		f->consumed = base + (uint64_t)(p - data);
	}
}
