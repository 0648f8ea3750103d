/*
 * http.c - a small HTTP/1.1 server on libuv, for /metrics and friends.
 *
 * Each connection owns a TCP handle and a timer, both closed together; the
 * connection is freed when both close callbacks have run.  The timer
 * enforces whichever deadline applies to the connection's state:
 *
 *   waiting for a request     HTTP_IDLE_TIMEOUT_MS
 *   receiving a request       HTTP_HEAD_TIMEOUT_MS from its first byte
 *   writing a response        HTTP_WRITE_TIMEOUT_MS
 *
 * Pipelined requests are handled one at a time: when a request is complete
 * the parser is paused and reading stops; unparsed bytes wait in
 * conn->pending until the response has been written.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <http_parser.h>

#include "conf.h"
#include "http.h"
#include "log.h"
#include "util.h"

#define READ_BUFFER_BYTES (64 * 1024)
/*
 * After the last response on a connection the write side is shut down and
 * input is read and dropped for up to this long before closing.  Closing
 * with unread input makes the kernel send a reset, which can destroy the
 * response (a 431, say) before the client has read it.
 */
#define LINGER_MS 2000

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	struct http_server *server;
	struct conn *prev, *next;      /* server list, least recently active first */
	int nopen;                     /* handles not yet closed */
	int closing;

	http_parser parser;
	size_t head_bytes;
	size_t body_bytes;
	int in_message;
	int error_status;              /* set by callbacks: 413, 431 */
	int header_state;              /* 0 none, 1 in field, 2 in value */
	struct buf url;
	struct buf field;
	struct buf value;
	struct buf accept;
	struct buf accept_encoding;

	struct buf pending;            /* unparsed bytes while a response is out */
	struct buf feeding;            /* the pending bytes being parsed */

	int writing;
	int close_after_write;
	int lingering;                 /* response sent, draining input */
	struct buf *offline;           /* http_serve_buffer(): responses go here */
	uv_write_t wreq;
	uv_shutdown_t sreq;
	struct buf head;
	struct http_response resp;
	size_t queued;                 /* bytes of the response being written */
	struct http_body *writing_shared;   /* counted in its writers */
	struct http_later *later;      /* the response comes later */
	int deferred;                  /* waiting in the server's queue */
	int deferred_is_head;
	struct conn *dnext;            /* that queue */
};

struct http_later {
	struct conn *c;                /* NULL once the connection is gone */
	int is_head;
};

struct http_server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	int listener_open;
	int port;
	int closing;
	http_handler_cb handler;
	void *arg;
	http_parser_settings settings;
	struct conn *first, *last;
	size_t nconns;
	size_t queued;                 /* bytes of every response being written */
	/* Large responses beyond the turn's budget wait here, oldest first. */
	uv_prepare_t prepare;          /* a new turn: the budget starts again */
	uv_idle_t idle;                /* writes what waits */
	int turn_handles;              /* of those two, not closed yet */
	uint64_t turn_ns;              /* spent writing this turn */
	struct conn *dfirst, *dlast;
	char readbuf[READ_BUFFER_BYTES];
	int readbuf_busy;
};

static void conn_close(struct conn *c);
static void conn_feed(struct conn *c, const char *data, size_t len);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

const char *
http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default:  return "Unknown";
	}
}

static void
server_maybe_free(struct http_server *s)
{
	if (s->closing && !s->listener_open && s->nconns == 0 &&
	    s->turn_handles == 0)
		free(s);
}

/* Move c to the end of the activity list (most recently active). */
static void
conn_touch(struct conn *c)
{
	struct http_server *s = c->server;

	if (s->last == c)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->first = c->next;
	c->next->prev = c->prev;
	c->prev = s->last;
	c->next = NULL;
	s->last->next = c;
	s->last = c;
}

static void
on_timeout(uv_timer_t *t)
{
	struct conn *c = t->data;

	log_debug("http: closing connection after timeout");
	conn_close(c);
}

static void
conn_timer_set(struct conn *c, uint64_t ms)
{
	if (c->offline == NULL)
		uv_timer_start(&c->timer, on_timeout, ms, 0);
}

/* A connection's buffers and the connection itself. */
static void
conn_destroy(struct conn *c)
{
	buf_free(&c->url);
	buf_free(&c->field);
	buf_free(&c->value);
	buf_free(&c->accept);
	buf_free(&c->accept_encoding);
	buf_free(&c->head);
	buf_free(&c->resp.headers);
	buf_free(&c->resp.body);
	http_body_unref(c->resp.shared);
	buf_free(&c->pending);
	buf_free(&c->feeding);
	free(c);
}

struct http_body *
http_body_create(const void *data, size_t len)
{
	struct buf copy = BUF_INIT;

	buf_append(&copy, data, len);
	return http_body_adopt(&copy);
}

struct http_body *
http_body_adopt(struct buf *from)
{
	struct http_body *b = xcalloc(1, sizeof(*b));

	b->refs = 1;
	b->len = from->len;
	b->data = from->data != NULL ? from->data : xstrdup("");
	memset(from, 0, sizeof(*from));
	return b;
}

struct http_body *
http_body_ref(struct http_body *b)
{
	b->refs++;
	return b;
}

void
http_body_unref(struct http_body *b)
{
	if (b != NULL && --b->refs == 0) {
		free(b->data);
		free(b);
	}
}

/* The connection's response is written (or never will be).  A shared
 * body counts once in the server's total, however many write it. */
static void
conn_unqueue(struct conn *c)
{
	struct http_body *b = c->writing_shared;

	c->server->queued -= c->queued;
	c->queued = 0;
	if (b != NULL) {
		if (--b->writers == 0)
			c->server->queued -= b->len;
		http_body_unref(b);
		c->writing_shared = NULL;
	}
}

/* Take c out of the queue of responses waiting for a turn. */
static void
conn_undefer(struct conn *c)
{
	struct http_server *s = c->server;
	struct conn **pp, *prev = NULL;

	if (!c->deferred)
		return;
	for (pp = &s->dfirst; *pp != c; pp = &(*pp)->dnext)
		prev = *pp;
	*pp = c->dnext;
	if (s->dlast == c)
		s->dlast = prev;
	c->dnext = NULL;
	c->deferred = 0;
}

static void
conn_free(struct conn *c)
{
	struct http_server *s = c->server;

	conn_undefer(c);
	conn_unqueue(c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->first = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		s->last = c->prev;
	s->nconns--;
	conn_destroy(c);
	server_maybe_free(s);
}

static void
on_conn_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (--c->nopen == 0)
		conn_free(c);
}

static void
conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (c->later != NULL) {
		c->later->c = NULL;
		c->later = NULL;
	}
	if (c->offline != NULL)
		return;
	uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

static void
request_reset(struct conn *c)
{
	buf_reset(&c->url);
	buf_reset(&c->field);
	buf_reset(&c->value);
	buf_reset(&c->accept);
	buf_reset(&c->accept_encoding);
	c->head_bytes = 0;
	c->body_bytes = 0;
	c->header_state = 0;
	c->in_message = 0;
	c->error_status = 0;
}

/* Account for bytes of the request head; fail the request beyond the cap. */
static int
head_add(struct conn *c, size_t n)
{
	c->head_bytes += n;
	if (c->head_bytes > HTTP_MAX_HEAD_BYTES) {
		c->error_status = 431;
		return -1;
	}
	return 0;
}

static void
header_finish(struct conn *c)
{
	struct buf *dst = NULL;

	if (c->header_state != 2)
		return;
	if (c->field.len == 6 && strcasecmp(c->field.data, "accept") == 0)
		dst = &c->accept;
	else if (c->field.len == 15 &&
	    strcasecmp(c->field.data, "accept-encoding") == 0)
		dst = &c->accept_encoding;
	if (dst != NULL && c->value.len > 0) {
		/* Repeated headers combine as a comma-separated list. */
		if (dst->len > 0)
			buf_puts(dst, ", ");
		buf_append(dst, c->value.data, c->value.len);
	}
	buf_reset(&c->field);
	buf_reset(&c->value);
	c->header_state = 0;
}

static int
on_message_begin(http_parser *p)
{
	struct conn *c = p->data;

	request_reset(c);
	c->in_message = 1;
	conn_timer_set(c, HTTP_HEAD_TIMEOUT_MS);
	return 0;
}

static int
on_url(http_parser *p, const char *at, size_t len)
{
	struct conn *c = p->data;

	if (head_add(c, len) != 0)
		return -1;
	buf_append(&c->url, at, len);
	return 0;
}

static int
on_header_field(http_parser *p, const char *at, size_t len)
{
	struct conn *c = p->data;

	if (head_add(c, len) != 0)
		return -1;
	if (c->header_state == 2)
		header_finish(c);
	c->header_state = 1;
	buf_append(&c->field, at, len);
	return 0;
}

static int
on_header_value(http_parser *p, const char *at, size_t len)
{
	struct conn *c = p->data;

	if (head_add(c, len) != 0)
		return -1;
	c->header_state = 2;
	buf_append(&c->value, at, len);
	return 0;
}

static int
on_headers_complete(http_parser *p)
{
	struct conn *c = p->data;

	header_finish(c);
	return 0;
}

static int
on_body(http_parser *p, const char *at, size_t len)
{
	struct conn *c = p->data;

	(void)at;
	c->body_bytes += len;
	if (c->body_bytes > HTTP_MAX_BODY_BYTES) {
		c->error_status = 413;
		return -1;
	}
	return 0;
}

static int
on_message_complete(http_parser *p)
{
	/* Handle one request at a time; conn_feed picks up the pause. */
	http_parser_pause(p, 1);
	return 0;
}

static void
on_write_done(uv_write_t *req, int status)
{
	struct conn *c = req->data;
	struct buf tmp;

	c->writing = 0;
	conn_unqueue(c);
	if (c->closing)
		return;
	if (status < 0) {
		conn_close(c);
		return;
	}
	if (c->close_after_write) {
		c->lingering = 1;
		c->sreq.data = c;
		if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, NULL) != 0) {
			conn_close(c);
			return;
		}
		conn_timer_set(c, LINGER_MS);
		uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
		return;
	}
	if (c->resp.body.cap > HTTP_KEEP_BUFFER_BYTES)
		buf_free(&c->resp.body);
	http_body_unref(c->resp.shared);
	c->resp.shared = NULL;
	request_reset(c);
	conn_timer_set(c, HTTP_IDLE_TIMEOUT_MS);
	http_parser_pause(&c->parser, 0);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	/* Bytes of pipelined requests that arrived with the previous one. */
	/* Two buffers take turns, so that pipelining allocates nothing
	 * after the first requests. */
	tmp = c->feeding;
	c->feeding = c->pending;
	c->pending = tmp;
	buf_reset(&c->pending);
	if (c->feeding.len > 0)
		conn_feed(c, c->feeding.data, c->feeding.len);
	buf_reset(&c->feeding);
}

/* The response prepared in c->head and c->resp is out (being written,
 * or waiting for its turn): its bytes count in the server's total until
 * conn_unqueue(). */
static void
conn_queue(struct conn *c, int is_head)
{
	struct http_response *r = &c->resp;
	struct http_server *s = c->server;

	c->queued = c->head.len;
	if (!is_head) {
		c->queued += r->body.len;
		if (r->shared != NULL && r->shared->len > 0) {
			c->writing_shared = http_body_ref(r->shared);
			if (r->shared->writers++ == 0)
				s->queued += r->shared->len;
		}
	}
	s->queued += c->queued;
}

/* The body's length: its own bytes, then the shared ones. */
static size_t
response_length(const struct http_response *r)
{
	return r->body.len + (r->shared != NULL ? r->shared->len : 0);
}

/* Write the response prepared in c->head and c->resp (conn_queue()d). */
static void
conn_write(struct conn *c, int is_head)
{
	struct http_response *r = &c->resp;
	struct http_server *s = c->server;
	size_t len = response_length(r);
	uint64_t start = uv_hrtime();
	uv_buf_t bufs[3];
	int nbufs = 1;

	bufs[0] = uv_buf_init(c->head.data, (unsigned int)c->head.len);
	if (!is_head && r->body.len > 0)
		bufs[nbufs++] = uv_buf_init(r->body.data,
		    (unsigned int)r->body.len);
	if (!is_head && r->shared != NULL && r->shared->len > 0)
		bufs[nbufs++] = uv_buf_init(r->shared->data,
		    (unsigned int)r->shared->len);
	c->writing = 1;
	c->wreq.data = c;
	uv_read_stop((uv_stream_t *)&c->tcp);
	conn_timer_set(c, HTTP_WRITE_TIMEOUT_MS);
	if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, bufs, (unsigned)nbufs,
	    on_write_done) != 0) {
		c->writing = 0;
		conn_close(c);
	}
	if (len > HTTP_SMALL_RESPONSE_BYTES)
		s->turn_ns += uv_hrtime() - start;
}

/* A new loop turn: writing gets its budget again. */
static void
on_prepare(uv_prepare_t *h)
{
	struct http_server *s = h->data;

	s->turn_ns = 0;
}

/* Write the responses that waited, within the turn's budget. */
static void
on_idle(uv_idle_t *h)
{
	struct http_server *s = h->data;

	while (s->dfirst != NULL && s->turn_ns < HTTP_TURN_BUDGET_NS) {
		struct conn *c = s->dfirst;
		int is_head = c->deferred_is_head;

		conn_undefer(c);
		conn_write(c, is_head);
	}
	if (s->dfirst == NULL)
		uv_idle_stop(&s->idle);
}

static void
conn_respond(struct conn *c, int is_head)
{
	struct http_response *r = &c->resp;
	struct http_server *s = c->server;
	size_t len = response_length(r);
	/* What this response adds to the bytes waiting: a shared body
	 * other responses are writing already counts once. */
	size_t fresh = r->body.len + (r->shared != NULL &&
	    r->shared->writers == 0 ? r->shared->len : 0);

	/* Responses waiting for clients that do not read are bounded in
	 * all: past the bound, a large one is refused. */
	if (!is_head && fresh > HTTP_SMALL_RESPONSE_BYTES &&
	    s->queued + fresh > HTTP_MAX_QUEUED_BYTES) {
		log_debug("http: %zu bytes of responses waiting; answering 503",
		    s->queued);
		r->status = 503;
		r->content_type = "text/plain; charset=utf-8";
		buf_reset(&r->headers);
		buf_puts(&r->headers, "Retry-After: 1\r\n");
		buf_free(&r->body);
		http_body_unref(r->shared);
		r->shared = NULL;
		buf_puts(&r->body, "503 Service Unavailable: too many responses "
		    "are waiting for clients to read them\n");
		c->close_after_write = 1;
		len = r->body.len;
	}
	buf_reset(&c->head);
	buf_printf(&c->head, "HTTP/1.1 %d %s\r\n", r->status,
	    http_status_text(r->status));
	if (r->content_type != NULL)
		buf_printf(&c->head, "Content-Type: %s\r\n", r->content_type);
	buf_printf(&c->head, "Content-Length: %zu\r\n", len);
	if (c->close_after_write)
		buf_puts(&c->head, "Connection: close\r\n");
	else if (c->parser.http_major == 1 && c->parser.http_minor == 0)
		buf_puts(&c->head, "Connection: keep-alive\r\n");
	if (r->headers.len > 0)
		buf_append(&c->head, r->headers.data, r->headers.len);
	buf_puts(&c->head, "\r\n");

	if (c->offline != NULL) {
		buf_append(c->offline, c->head.data, c->head.len);
		if (!is_head)
			buf_append(c->offline, r->body.data, r->body.len);
		if (!is_head && r->shared != NULL)
			buf_append(c->offline, r->shared->data, r->shared->len);
		return;
	}
	conn_queue(c, is_head);
	if (!is_head && len > HTTP_SMALL_RESPONSE_BYTES &&
	    (s->turn_ns >= HTTP_TURN_BUDGET_NS || s->dfirst != NULL)) {
		/* Its turn comes; reading waits until it is written. */
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->writing = 1;
		c->deferred = 1;
		c->deferred_is_head = is_head;
		if (s->dlast != NULL)
			s->dlast->dnext = c;
		else
			s->dfirst = c;
		s->dlast = c;
		uv_idle_start(&s->idle, on_idle);
		return;
	}
	conn_write(c, is_head);
}

static void
response_reset(struct http_response *r)
{
	http_body_unref(r->shared);
	r->shared = NULL;
	r->status = 200;
	r->content_type = NULL;
	buf_reset(&r->headers);
	buf_reset(&r->body);
}

/* Answer a request the parser rejected, then close. */
static void
conn_fail(struct conn *c, int status)
{
	response_reset(&c->resp);
	c->resp.status = status;
	c->resp.content_type = "text/plain; charset=utf-8";
	buf_printf(&c->resp.body, "%d %s\n", status, http_status_text(status));
	c->close_after_write = 1;
	conn_respond(c, 0);
}

static void
conn_dispatch(struct conn *c)
{
	struct http_server *s = c->server;
	struct http_request req;
	char *q;

	if (c->parser.http_major != 1) {
		conn_fail(c, 505);
		return;
	}
	c->close_after_write = !http_should_keep_alive(&c->parser) ||
	    s->closing;
	buf_putc(&c->url, '\0');   /* make sure data is non-NULL */
	c->url.len--;
	q = strchr(c->url.data, '?');
	if (q != NULL)
		*q++ = '\0';
	req.method = http_method_str((enum http_method)c->parser.method);
	req.is_head = c->parser.method == HTTP_HEAD;
	req.path = c->url.data;
	req.query = q != NULL ? q : "";
	req.accept = c->accept.data != NULL ? c->accept.data : "";
	req.accept_encoding = c->accept_encoding.data != NULL ?
	    c->accept_encoding.data : "";
	response_reset(&c->resp);
	s->handler(&req, &c->resp, s->arg);
	if (c->later != NULL) {
		/* Nothing more is read until the answer is out. */
		c->later->is_head = req.is_head;
		c->writing = 1;
		uv_read_stop((uv_stream_t *)&c->tcp);
		conn_timer_set(c, HTTP_WRITE_TIMEOUT_MS);
		return;
	}
	conn_respond(c, req.is_head);
}

struct http_later *
http_respond_later(struct http_response *resp)
{
	struct conn *c = (struct conn *)(void *)((char *)resp -
	    offsetof(struct conn, resp));

	if (c->offline != NULL || c->later != NULL)
		return NULL;
	c->later = xcalloc(1, sizeof(*c->later));
	c->later->c = c;
	return c->later;
}

void
http_later_finish(struct http_later *l, int status, const char *content_type,
    const char *body, size_t len)
{
	struct conn *c = l->c;

	if (c != NULL) {
		c->later = NULL;
		c->writing = 0;
		response_reset(&c->resp);
		c->resp.status = status;
		c->resp.content_type = content_type;
		buf_append(&c->resp.body, body, len);
		conn_respond(c, l->is_head);
	}
	free(l);
}

static void
conn_feed(struct conn *c, const char *data, size_t len)
{
	size_t n;
	enum http_errno err;

	n = http_parser_execute(&c->parser, &c->server->settings, data, len);
	err = HTTP_PARSER_ERRNO(&c->parser);
	if (err == HPE_PAUSED) {
		if (n < len) {
			buf_reset(&c->pending);
			buf_append(&c->pending, data + n, len - n);
		}
		conn_dispatch(c);
		return;
	}
	if (err != HPE_OK) {
		int status = c->error_status;

		if (status == 0)
			status = err == HPE_HEADER_OVERFLOW ? 431 : 400;
		log_debug("http: bad request (%s), answering %d",
		    http_errno_name(err), status);
		conn_fail(c, status);
		return;
	}
	if (c->parser.upgrade) {
		conn_fail(c, 400);
	}
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;
	struct http_server *s = c->server;

	(void)suggested;
	/* One shared buffer: every read is parsed before the next starts. */
	if (s->readbuf_busy) {
		buf->base = NULL;
		buf->len = 0;
		return;
	}
	s->readbuf_busy = 1;
	buf->base = s->readbuf;
	buf->len = sizeof(s->readbuf);
}

static void
on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = stream->data;

	if (buf->base == c->server->readbuf)
		c->server->readbuf_busy = 0;
	if (nread == 0)
		return;
	if (c->lingering) {
		if (nread < 0)
			conn_close(c);
		return;
	}
	if (nread < 0) {
		/* EOF or error.  A response being written still goes out
		 * on a half-closed connection; otherwise we are done. */
		if (c->writing)
			c->close_after_write = 1;
		else
			conn_close(c);
		return;
	}
	conn_touch(c);
	conn_feed(c, buf->base, (size_t)nread);
}

static void
on_connection(uv_stream_t *listener, int status)
{
	struct http_server *s = listener->data;
	struct conn *c;

	if (status < 0) {
		log_warn("http: accept failed: %s", uv_strerror(status));
		return;
	}
	if (s->nconns >= HTTP_MAX_CONNECTIONS && s->first != NULL &&
	    !s->first->closing) {
		log_debug("http: %d connections, closing the least recently "
		    "active one", HTTP_MAX_CONNECTIONS);
		conn_close(s->first);
	}
	c = xcalloc(1, sizeof(*c));
	c->server = s;
	uv_tcp_init(s->loop, &c->tcp);
	uv_timer_init(s->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->nopen = 2;
	c->prev = s->last;
	if (s->last != NULL)
		s->last->next = c;
	else
		s->first = c;
	s->last = c;
	s->nconns++;
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	conn_timer_set(c, HTTP_IDLE_TIMEOUT_MS);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/*
 * Create, bind and listen on a socket for host:port.  The socket is made
 * here rather than by libuv so that an IPv6 wildcard can fall back to IPv4
 * on hosts without IPv6 before libuv ever sees it.
 */
static int
server_bind(struct http_server *s, const char *host, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_storage bound;
	int len = sizeof(bound);
	int fd, one = 1, zero = 0, r;

	memset(&ss, 0, sizeof(ss));
	if (strchr(host, ':') != NULL)
		r = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss);
	else
		r = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
	if (r != 0)
		return r;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, ss.ss_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) != 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = uv_tcp_open(&s->listener, fd);
	if (r != 0) {
		close(fd);
		return r;
	}
	r = uv_listen((uv_stream_t *)&s->listener, HTTP_LISTEN_BACKLOG,
	    on_connection);
	if (r != 0)
		return r;
	r = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len);
	if (r != 0)
		return r;
	s->port = ntohs(bound.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&bound)->sin6_port :
	    ((struct sockaddr_in *)&bound)->sin_port);
	return 0;
}

static void
on_turn_handle_closed(uv_handle_t *h)
{
	struct http_server *s = h->data;

	s->turn_handles--;
	server_maybe_free(s);
}

static void
close_turn_handles(struct http_server *s)
{
	uv_close((uv_handle_t *)&s->prepare, on_turn_handle_closed);
	uv_close((uv_handle_t *)&s->idle, on_turn_handle_closed);
}

static void
on_listener_closed(uv_handle_t *h)
{
	struct http_server *s = h->data;

	s->listener_open = 0;
	server_maybe_free(s);
}

int
http_server_start(uv_loop_t *loop, const char *listen, http_handler_cb handler,
    void *arg, struct http_server **out)
{
	struct http_server *s;
	char host[64];
	int port, r;

	if (conf_parse_listen(listen, host, sizeof(host), &port) != 0)
		return UV_EINVAL;
	s = xcalloc(1, sizeof(*s));
	s->loop = loop;
	s->handler = handler;
	s->arg = arg;
	s->settings.on_message_begin = on_message_begin;
	s->settings.on_url = on_url;
	s->settings.on_header_field = on_header_field;
	s->settings.on_header_value = on_header_value;
	s->settings.on_headers_complete = on_headers_complete;
	s->settings.on_body = on_body;
	s->settings.on_message_complete = on_message_complete;

	uv_tcp_init(loop, &s->listener);
	s->listener.data = s;
	s->listener_open = 1;
	uv_prepare_init(loop, &s->prepare);
	uv_idle_init(loop, &s->idle);
	s->prepare.data = s->idle.data = s;
	s->turn_handles = 2;
	uv_prepare_start(&s->prepare, on_prepare);
	if (host[0] != '\0') {
		r = server_bind(s, host, port);
	} else {
		/* All interfaces: dual-stack where IPv6 exists, else IPv4. */
		r = server_bind(s, "::", port);
		if (r == UV_EAFNOSUPPORT || r == UV_EADDRNOTAVAIL)
			r = server_bind(s, "0.0.0.0", port);
	}
	if (r != 0) {
		s->closing = 1;
		close_turn_handles(s);
		uv_close((uv_handle_t *)&s->listener, on_listener_closed);
		return r;
	}
	*out = s;
	return 0;
}

int
http_server_port(const struct http_server *s)
{
	return s->port;
}

void
http_server_close(struct http_server *s)
{
	struct conn *c, *next;

	if (s == NULL)
		return;
	s->closing = 1;
	for (c = s->first; c != NULL; c = next) {
		next = c->next;
		conn_close(c);
	}
	close_turn_handles(s);
	uv_close((uv_handle_t *)&s->listener, on_listener_closed);
}

int
http_serve_buffer(const char *data, size_t len, http_handler_cb handler,
    void *arg, struct buf *out)
{
	struct http_server s;
	struct conn *c;
	int requests = 0;

	memset(&s, 0, sizeof(s));
	s.handler = handler;
	s.arg = arg;
	s.settings.on_message_begin = on_message_begin;
	s.settings.on_url = on_url;
	s.settings.on_header_field = on_header_field;
	s.settings.on_header_value = on_header_value;
	s.settings.on_headers_complete = on_headers_complete;
	s.settings.on_body = on_body;
	s.settings.on_message_complete = on_message_complete;
	c = xcalloc(1, sizeof(*c));
	c->server = &s;
	c->offline = out;
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;

	/* The same steps as a connection takes, without the sockets: parse
	 * until a request is complete, answer it, go on with the rest. */
	while (len > 0 && !c->closing) {
		size_t n = http_parser_execute(&c->parser, &s.settings, data, len);
		enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);

		if (err == HPE_PAUSED) {
			conn_dispatch(c);
			requests++;
			if (c->close_after_write)
				break;
			request_reset(c);
			http_parser_pause(&c->parser, 0);
			data += n;
			len -= n;
			continue;
		}
		if (err != HPE_OK || c->parser.upgrade) {
			int status = c->error_status;

			if (status == 0)
				status = err == HPE_HEADER_OVERFLOW ? 431 : 400;
			conn_fail(c, status);
			break;
		}
		data += n;
		len -= n;
	}
	conn_destroy(c);
	return requests;
}
