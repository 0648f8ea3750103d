/*
 * reports.h - saved reports: STATE_DIR/reports/ and what /reports/ serves.
 *
 * When the dataset's verdict turns to drift, the report of that moment is
 * saved as reports/YYYYMMDDTHHMMSSZ.html (UTC; -2, -3... when a second
 * already has one), written atomically in the thread pool, and the
 * directory is pruned to the newest `keep`.
 *
 * Only names of exactly that shape are ever listed, opened or removed:
 * a request cannot name another file (no "..", no "/", no escapes are
 * decoded), and symbolic links are not followed, neither the directory
 * nor a report.
 */
#ifndef DRIFTD_REPORTS_H
#define DRIFTD_REPORTS_H

#include <stddef.h>

#include <uv.h>

#include "buf.h"

#define REPORTS_DIR "reports"
/* A saved report larger than this is not served. */
#define REPORTS_MAX_BYTES (64u * 1024 * 1024)
/* Names kept from one listing of the directory. */
#define REPORTS_MAX_LISTED 100000

/* Is `name` the name of a saved report? */
int reports_name_valid(const char *name);

/* The name of a report saved at `t` (seconds since the epoch), with
 * suffix k > 1 for the k-th of the same second. */
void reports_name(double t, unsigned k, char *out, size_t size);

/*
 * Save `html` (taken: the buffer is emptied) as a new report of time `t`
 * under STATE_DIR/reports, then keep only the newest `keep` reports; in
 * the thread pool.  `done` runs on the loop with 0 and the name, or a
 * negative errno and NULL.  Returns 0, or a negative libuv error.
 */
typedef void (*reports_saved_cb)(void *arg, int r, const char *name);
int reports_save_async(uv_loop_t *loop, const char *state_dir, double t,
    struct buf *html, size_t keep, reports_saved_cb done, void *arg);

/* The saved reports' names, newest first (free with reports_free()).
 * Returns the count; none when the directory cannot be read. */
size_t reports_list(const char *state_dir, char ***names);
void reports_free(char **names, size_t n);

/* Read one saved report into `out`: 0, -ENOENT for anything that is not
 * a saved report (a bad name, a link, not a regular file, too large). */
int reports_read(const char *state_dir, const char *name, struct buf *out);

#endif
