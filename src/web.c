/*
 * web.c - driftd's HTTP endpoints.
 */
#include "config.h"

#include <string.h>

#include "web.h"

#define CONTENT_TYPE_TEXT   "text/plain; charset=utf-8"
#define CONTENT_TYPE_PROM   "text/plain; version=0.0.4; charset=utf-8"

static void
serve_metrics(struct web *w, const struct http_request *req,
    struct http_response *resp)
{
	(void)req;
	resp->content_type = CONTENT_TYPE_PROM;
	metrics_render(w->registry, METRICS_FORMAT_TEXT, &resp->body);
}

static void
serve_healthy(struct web *w, const struct http_request *req,
    struct http_response *resp)
{
	(void)w;
	(void)req;
	resp->content_type = CONTENT_TYPE_TEXT;
	buf_puts(&resp->body, "driftd is healthy.\n");
}

static void
serve_ready(struct web *w, const struct http_request *req,
    struct http_response *resp)
{
	(void)req;
	resp->content_type = CONTENT_TYPE_TEXT;
	if (w->ready) {
		buf_puts(&resp->body, "driftd is ready.\n");
	} else {
		resp->status = 503;
		buf_puts(&resp->body, "driftd is not ready.\n");
	}
}

static const struct route {
	const char *path;
	void (*serve)(struct web *, const struct http_request *,
	    struct http_response *);
} routes[] = {
	{ "/metrics", serve_metrics },
	{ "/-/healthy", serve_healthy },
	{ "/-/ready", serve_ready },
};

void
web_handle(const struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct web *w = arg;
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(req->path, routes[i].path) != 0)
			continue;
		if (strcmp(req->method, "GET") != 0 && !req->is_head) {
			resp->status = 405;
			resp->content_type = CONTENT_TYPE_TEXT;
			buf_puts(&resp->headers, "Allow: GET, HEAD\r\n");
			buf_puts(&resp->body, "405 Method Not Allowed\n");
			return;
		}
		routes[i].serve(w, req, resp);
		return;
	}
	resp->status = 404;
	resp->content_type = CONTENT_TYPE_TEXT;
	buf_puts(&resp->body, "404 Not Found\n");
}
