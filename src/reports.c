/*
 * reports.c - saved reports: STATE_DIR/reports/ and what /reports/ serves.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reports.h"
#include "state.h"
#include "util.h"

/* YYYYMMDDTHHMMSSZ, then -K (K from 2 to 999), then .html. */
int
reports_name_valid(const char *name)
{
	size_t i, n = strlen(name), digits;

	if (n < 21 || n > 25)
		return 0;
	for (i = 0; i < 15; i++)
		if (i == 8 ? name[i] != 'T' : (name[i] < '0' || name[i] > '9'))
			return 0;
	if (name[15] != 'Z')
		return 0;
	i = 16;
	if (name[i] == '-') {
		for (digits = 0, i++; name[i] >= '0' && name[i] <= '9'; i++)
			digits++;
		if (digits < 1 || digits > 3 || name[17] == '0')
			return 0;
	}
	return strcmp(name + i, ".html") == 0;
}

void
reports_name(double t, unsigned k, char *out, size_t size)
{
	time_t s = (time_t)t;
	struct tm tm;
	char stamp[32];

	gmtime_r(&s, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (k > 1)
		snprintf(out, size, "%s-%u.html", stamp, k);
	else
		snprintf(out, size, "%s.html", stamp);
}

/* ---------------------------------------------------------- listing */

static int
newest_first(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t lx = strlen(x), ly = strlen(y);

	/* The same second: -10 after -9 after the bare name. */
	if (strncmp(x, y, 16) == 0 && lx != ly)
		return lx < ly ? 1 : -1;
	return strcmp(y, x);
}

/* The directory STATE_DIR/reports, opened without following a link. */
static int
open_dir(const char *state_dir)
{
	struct buf path = BUF_INIT;
	int fd;

	buf_printf(&path, "%s/%s", state_dir, REPORTS_DIR);
	fd = open(path.data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	buf_free(&path);
	return fd;
}

size_t
reports_list(const char *state_dir, char ***names)
{
	int fd = open_dir(state_dir);
	DIR *dir;
	struct dirent *e;
	size_t n = 0, cap = 0;

	*names = NULL;
	if (fd < 0)
		return 0;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return 0;
	}
	while ((e = readdir(dir)) != NULL && n < REPORTS_MAX_LISTED) {
		struct stat st;

		/* Regular files only: not a link, not a directory. */
		if (!reports_name_valid(e->d_name) || fstatat(dirfd(dir),
		    e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			*names = xreallocarray(*names, cap, sizeof(char *));
		}
		(*names)[n++] = xstrdup(e->d_name);
	}
	closedir(dir);
	if (n > 0)
		qsort(*names, n, sizeof(char *), newest_first);
	return n;
}

void
reports_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
reports_read(const char *state_dir, const char *name, struct buf *out)
{
	struct stat st;
	int dfd, fd, r = -ENOENT;
	size_t got = 0;

	if (!reports_name_valid(name))
		return -ENOENT;
	dfd = open_dir(state_dir);
	if (dfd < 0)
		return -ENOENT;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	close(dfd);
	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > REPORTS_MAX_BYTES)
		goto out;
	buf_reserve(out, (size_t)st.st_size);
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, out->data + out->len + got,
		    (size_t)st.st_size - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	out->len += got;
	out->data[out->len] = '\0';
	r = 0;
out:
	close(fd);
	return r;
}

/* ----------------------------------------------------------- saving */

struct save {
	uv_work_t req;
	char *state_dir;
	double t;
	struct buf html;
	size_t keep;
	reports_saved_cb done;
	void *arg;
	int r;
	char name[40];
};

static void
save_work(uv_work_t *req)
{
	struct save *s = req->data;
	struct buf dir = BUF_INIT;
	char **names;
	size_t n, i;
	unsigned k;
	int dfd;

	buf_printf(&dir, "%s/%s", s->state_dir, REPORTS_DIR);
	if (mkdir(dir.data, 0700) != 0 && errno != EEXIST) {
		s->r = -errno;
		goto out;
	}
	dfd = open_dir(s->state_dir);
	if (dfd < 0) {
		s->r = -errno;
		goto out;
	}
	/* A new name: a second may see more than one transition. */
	for (k = 1; k < 1000; k++) {
		struct stat st;

		reports_name(s->t, k, s->name, sizeof(s->name));
		if (fstatat(dfd, s->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			break;
	}
	close(dfd);
	if (k == 1000) {
		s->r = -EEXIST;
		goto out;
	}
	s->r = state_write_file(dir.data, s->name, s->html.data, s->html.len);
	if (s->r != 0)
		goto out;
	/* Keep the newest `keep`. */
	n = reports_list(s->state_dir, &names);
	dfd = open_dir(s->state_dir);
	for (i = s->keep; dfd >= 0 && i < n; i++)
		(void)unlinkat(dfd, names[i], 0);
	if (dfd >= 0)
		close(dfd);
	reports_free(names, n);
out:
	buf_free(&dir);
}

static void
save_done(uv_work_t *req, int status)
{
	struct save *s = req->data;

	if (status != 0 && s->r == 0)
		s->r = status;
	s->done(s->arg, s->r, s->r == 0 ? s->name : NULL);
	buf_free(&s->html);
	free(s->state_dir);
	free(s);
}

int
reports_save_async(uv_loop_t *loop, const char *state_dir, double t,
    struct buf *html, size_t keep, reports_saved_cb done, void *arg)
{
	struct save *s = xcalloc(1, sizeof(*s));
	int r;

	s->req.data = s;
	s->state_dir = xstrdup(state_dir);
	s->t = t;
	s->html = *html;
	memset(html, 0, sizeof(*html));
	s->keep = keep;
	s->done = done;
	s->arg = arg;
	r = uv_queue_work(loop, &s->req, save_work, save_done);
	if (r != 0) {
		*html = s->html;
		free(s->state_dir);
		free(s);
	}
	return r;
}
