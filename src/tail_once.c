/*
 * tail_once.c - --once: read files (or standard input) from their
 * beginning to their end, synchronously.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tail.h"
#include "tail_internal.h"
#include "util.h"

/* ---------------------------------------------------------------- once */

static int
read_fd_once(int fd, const char *name, size_t max_line, char *rbuf,
    struct tail_counters *m, tail_line_cb cb, void *arg)
{
	struct tail_lines f;
	int r = 0;

	memset(&f, 0, sizeof(f));
	f.path = name;
	for (;;) {
		ssize_t n = read(fd, rbuf, TAIL_SLICE_BYTES);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			log_error("%s: read failed: %s", name, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		f.offset += (uint64_t)n;
		metrics_add(m->bytes, (double)n);
		tail_lines_feed(&f, rbuf, (size_t)n, max_line, m, cb, arg);
	}
	/* As when following, only newline-terminated lines count. */
	if (f.partial.len > 0 || f.skipping)
		log_warn("%s: ignoring an incomplete last line (no newline)",
		    name);
	buf_free(&f.partial);
	return r;
}

int
tail_read_once(const char *const *files, size_t n, size_t max_line_bytes,
    struct metrics_registry *reg, tail_line_cb cb, void *arg)
{
	char *rbuf = xmalloc(TAIL_SLICE_BYTES);
	int first_error = 0;
	size_t i, k;

	for (i = 0; i < n; i++) {
		struct tail_counters m;
		glob_t g;
		int r;

		tail_counters_init(&m, reg, files[i]);
		if (strcmp(files[i], "-") == 0) {
			r = read_fd_once(STDIN_FILENO, "(stdin)", max_line_bytes,
			    rbuf, &m, cb, arg);
			if (r != 0 && first_error == 0)
				first_error = r;
			continue;
		}
		if (strpbrk(files[i], "*?[") != NULL &&
		    glob(files[i], 0, NULL, &g) == 0) {
			for (k = 0; k < g.gl_pathc; k++) {
				/* Only the regular files a glob matches: a
				 * FIFO among them would block the read. */
				struct stat st;
				int fd = tail_open_regular(g.gl_pathv[k], &st);

				if (fd < 0 && errno == EINVAL) {
					log_warn("%s: not a regular file; "
					    "skipped", g.gl_pathv[k]);
					continue;
				}
				if (fd < 0) {
					r = -errno;
					log_error("%s: %s", g.gl_pathv[k],
					    strerror(errno));
				} else {
					r = read_fd_once(fd, g.gl_pathv[k],
					    max_line_bytes, rbuf, &m, cb, arg);
					close(fd);
				}
				if (r != 0 && first_error == 0)
					first_error = r;
			}
			globfree(&g);
			continue;
		}
		{
			int fd = open(files[i], O_RDONLY | O_CLOEXEC);

			if (fd < 0) {
				r = -errno;
				log_error("%s: %s", files[i], strerror(errno));
				if (first_error == 0)
					first_error = r;
				continue;
			}
			r = read_fd_once(fd, files[i], max_line_bytes, rbuf, &m,
			    cb, arg);
			if (r != 0 && first_error == 0)
				first_error = r;
			close(fd);
		}
	}
	free(rbuf);
	return first_error;
}
