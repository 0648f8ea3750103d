/*
 * web.h - driftd's HTTP endpoints.
 *
 *   GET /metrics    the registry in the Prometheus text format
 *   GET /-/healthy  200 while the event loop runs
 *   GET /-/ready    200 once the daemon is ready to serve results, else 503
 *
 * HEAD works wherever GET does; other methods get 405 with an Allow header
 * and unknown paths 404.  Scrapes are rendered from the registry as it is;
 * nothing here waits on computation.
 */
#ifndef DRIFTD_WEB_H
#define DRIFTD_WEB_H

#include "http.h"
#include "metrics.h"

struct web {
	struct metrics_registry *registry;
	int ready;
};

/* An http_handler_cb; `arg` is a struct web. */
void web_handle(const struct http_request *req, struct http_response *resp,
    void *arg);

#endif
