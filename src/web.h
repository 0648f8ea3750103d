/*
 * web.h - driftd's HTTP endpoints.
 *
 *   GET /metrics    Prometheus text 0.0.4, or OpenMetrics 1.0.0 when the
 *                   Accept header prefers it; gzip when Accept-Encoding
 *                   allows it
 *   GET /           an HTML page: version, inputs, windows, drift per column
 *   GET /status     the same as JSON
 *   GET /-/healthy  200 while the event loop runs
 *   GET /-/ready    200 once the pipeline is built (reference loaded or
 *                   being captured), else 503
 *
 * HEAD works wherever GET does; other methods get 405 with an Allow header
 * and unknown paths 404.  /metrics is rendered from the metrics registry;
 * the pages never read it: they show the last evaluation's results
 * (struct results), and ask the follower for its inputs and the pipeline
 * for its record count.  Nothing here waits on computation.
 */
#ifndef DRIFTD_WEB_H
#define DRIFTD_WEB_H

#include <zlib.h>

#include "conf.h"
#include "http.h"
#include "metrics.h"
#include "results.h"

struct ingest;
struct tail;

/* Values computed on demand are refreshed at most this often for
 * /metrics (milliseconds). */
#define WEB_COLLECT_EVERY_MS 100

struct web_waiter {
	struct http_later *later;
	uint64_t want;               /* answered once prepared reaches it */
};

/* A rendering of /metrics, shared by the scrapes it serves. */
struct web_cached {
	struct http_body *body;
	uint64_t generation;         /* metrics_generation() it shows */
	int gzipped;
};

struct web {
	struct metrics_registry *registry;   /* for /metrics */
	const struct conf *conf;     /* the configuration in force */
	struct ingest *ingest;       /* the pipeline in force (records) */
	const struct tail *tail;     /* the follower (inputs), or NULL */
	double start_time;           /* of the process, seconds */
	int ready;
	/* internal */
	struct web_cached metrics_cache[2][2];   /* [format][gzip] */
	uint64_t collected_at;       /* uv_hrtime() of the last collection */
	int collected;
	/*
	 * POST /-/evaluate and /-/reload, answered when the configuration
	 * in force enables them.  evaluate() starts an evaluation (or asks
	 * for one after the one under way) and returns the value of
	 * `prepared` once its results are ready to show; reload() returns
	 * 0, or -1 with the reason in `why`.
	 */
	uint64_t (*evaluate)(void *arg);
	int (*reload)(void *arg, struct buf *why);
	void *lifecycle_arg;
	struct web_waiter *waiters;  /* POST /-/evaluate, answered later */
	size_t nwaiters;
	struct results *results;     /* what the pages show (a reference) */
	/* What follows the live part of /status (its columns) and of / (the
	 * column table and cards) for those results: one body every
	 * response shares (see http_response.shared). */
	struct http_body *status_tail, *page_tail;
	uint64_t prepared;           /* results made ready so far */
	struct results *next;        /* being rendered by web_prepare() */
	size_t next_col, next_cards;
	size_t *order;               /* the report's order of its columns */
	struct buf next_status, next_page;
	z_stream z;
	int z_ready;
	struct buf gz;
};

/* An http_handler_cb; `arg` is a struct web. */
void web_handle(const struct http_request *req, struct http_response *resp,
    void *arg);

/*
 * Pages are to show `r` (a reference is taken; NULL changes nothing).
 * Its columns are rendered once, by web_prepare() with at most about
 * `budget` seconds of work a call, until it returns 1: pages show the
 * previous results until then.  A page then costs its live part (the
 * verdict, inputs and counts); the rest is one body every response
 * shares, however many columns there are.
 */
void web_set_results(struct web *w, struct results *r);
int web_prepare(struct web *w, double budget);

/* The daemon stops: a POST /-/evaluate still waiting is answered 503
 * now, while its connection is still there. */
void web_stop(struct web *w);

/* Release what web_handle() allocated and the results held; a POST
 * /-/evaluate still waiting is answered 503. */
void web_free(struct web *w);

/* The report of the results the pages show, with `note` in its footer
 * (why it is saved), as a saved report holds it. */
void web_report(struct web *w, struct buf *out, const char *note);

/*
 * Content negotiation, exposed for tests: which exposition format an
 * Accept header prefers, and whether Accept-Encoding allows gzip.
 */
enum metrics_format web_negotiate_format(const char *accept);
int web_accepts_gzip(const char *accept_encoding);

#endif
