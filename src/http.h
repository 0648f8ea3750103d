/*
 * http.h - a small HTTP/1.1 server on libuv, for /metrics and friends.
 *
 * Requests are parsed by http-parser.  The server knows nothing of the
 * endpoints: every complete request goes to one handler, which fills in a
 * response synchronously.  Responses go out in request order; while one is
 * being written the connection reads no further, so a client that never
 * reads its responses only ever holds one response in memory.
 *
 * Limits (all per connection unless said otherwise) protect the daemon from
 * slow and hostile clients: request head size (431 beyond), request body
 * size (413), time to receive a whole request head, idle keep-alive time,
 * time to deliver a response, and a cap on connections, at which the least
 * recently active connection is closed to make room: a flood of idle
 * connections cannot lock a scraper out.
 */
#ifndef DRIFTD_HTTP_H
#define DRIFTD_HTTP_H

#include <uv.h>

#include "buf.h"

#define HTTP_MAX_CONNECTIONS     256
/* Connections the kernel queues until accepted (capped by somaxconn): a
 * burst of clients must not drop a health check's SYN, which would cost
 * it a second. */
#define HTTP_LISTEN_BACKLOG      1024
#define HTTP_MAX_HEAD_BYTES      (16 * 1024)   /* request line + headers */
#define HTTP_MAX_BODY_BYTES      (16 * 1024)
#define HTTP_IDLE_TIMEOUT_MS     (60 * 1000)
#define HTTP_HEAD_TIMEOUT_MS     (10 * 1000)   /* first byte to end of head */
#define HTTP_WRITE_TIMEOUT_MS    (60 * 1000)
/* Response buffers larger than this are released after each response. */
#define HTTP_KEEP_BUFFER_BYTES   (256 * 1024)
/*
 * Responses being written, to clients that may not read them, take at
 * most this many bytes together; past it a response larger than
 * HTTP_SMALL_RESPONSE_BYTES is answered with 503 instead.  A connection
 * has one response out at a time (pipelined requests wait), and one whose
 * response is not read within HTTP_WRITE_TIMEOUT_MS is closed.
 */
#define HTTP_MAX_QUEUED_BYTES    (64 * 1024 * 1024)
#define HTTP_SMALL_RESPONSE_BYTES (64 * 1024)
/*
 * Writing large responses takes at most about this long per loop turn
 * (seconds of the loop, in nanoseconds); the rest wait for the next
 * turns, so that a burst of scrapes does not keep a health check waiting.
 * Small responses are written at once.
 */
#define HTTP_TURN_BUDGET_NS      (5 * 1000 * 1000)

struct http_request {
	const char *method;           /* "GET", "HEAD", ... */
	int is_head;
	const char *path;             /* the target up to '?' */
	const char *query;            /* after '?', or "" */
	const char *accept;           /* header values, "" when absent */
	const char *accept_encoding;
};

/*
 * A response body several responses may share (one scrape's exposition
 * sent to many clients): immutable once made, freed with its last
 * reference.
 */
struct http_body {
	unsigned refs;
	unsigned writers;             /* responses being written from it */
	size_t len;
	char *data;
};

/* A body holding a copy of `len` bytes, with one reference. */
struct http_body *http_body_create(const void *data, size_t len);
/* A body that takes the bytes of `b` over, without a copy (b is left
 * empty), with one reference. */
struct http_body *http_body_adopt(struct buf *b);
struct http_body *http_body_ref(struct http_body *b);
void http_body_unref(struct http_body *b);

struct http_response {
	int status;
	const char *content_type;     /* NULL for none */
	struct buf headers;           /* extra "Name: value\r\n" lines */
	struct buf body;
	struct http_body *shared;     /* if set, sent after `body` (the
	                                 response holds a reference) */
};

/* Fill `resp` (status 200 and empty buffers on entry) for `req`. */
typedef void (*http_handler_cb)(const struct http_request *req,
    struct http_response *resp, void *arg);

/*
 * A handler that can answer only later (once an evaluation is done) calls
 * http_respond_later() on its response and keeps the token; the
 * connection reads nothing more meanwhile.  Every token must be given
 * back, exactly once, to http_later_finish(), which sends the answer if
 * the connection is still there (a client that left, or one that waited
 * longer than HTTP_WRITE_TIMEOUT_MS, is gone) and frees the token.
 * NULL when the response cannot wait (http_serve_buffer()): answer now.
 */
struct http_later;
struct http_later *http_respond_later(struct http_response *resp);
void http_later_finish(struct http_later *l, int status,
    const char *content_type, const char *body, size_t len);

struct http_server;

/*
 * Listen on `listen` ("host:port", ":port", "[v6]:port") and serve requests
 * with `handler`.  Returns 0 or a negative libuv error code; on success
 * *out holds the server.
 */
int http_server_start(uv_loop_t *loop, const char *listen,
    http_handler_cb handler, void *arg, struct http_server **out);

/* The port actually bound (useful with port 0 in tests). */
int http_server_port(const struct http_server *s);

/*
 * Stop listening and close every connection.  The server frees itself once
 * the last handle's close callback has run; the pointer is invalid after
 * this call.
 */
void http_server_close(struct http_server *s);

/*
 * Handle `len` bytes as if one client had sent them on one connection,
 * appending every response to `out`, without any sockets (for fuzzing and
 * tests).  Returns how many requests were answered.
 */
int http_serve_buffer(const char *data, size_t len, http_handler_cb handler,
    void *arg, struct buf *out);

/* The reason phrase for a status code. */
const char *http_status_text(int status);

#endif
