/*
 * web.c - driftd's HTTP endpoints.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "ingest.h"
#include "results.h"
#include "tail.h"
#include "util.h"
#include "web.h"

#define CONTENT_TYPE_TEXT   "text/plain; charset=utf-8"
#define CONTENT_TYPE_PROM   "text/plain; version=0.0.4; charset=utf-8"
#define CONTENT_TYPE_OM     "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define CONTENT_TYPE_HTML   "text/html; charset=utf-8"
#define CONTENT_TYPE_JSON   "application/json"

/* Bodies smaller than this are not worth compressing. */
#define GZIP_MIN_BYTES 512

/* ------------------------------------------------------- negotiation */

struct range {
	char type[64];
	char subtype[64];
	char version[32];
	double q;
};

/* Parse the next comma-separated media range (or coding) of a header. */
static const char *
next_range(const char *p, struct range *r)
{
	const char *end;
	size_t n;

	memset(r, 0, sizeof(*r));
	r->q = 1;
	while (*p == ' ' || *p == '\t' || *p == ',')
		p++;
	if (*p == '\0')
		return NULL;
	end = p + strcspn(p, ",");
	/* type/subtype, or a single token (codings) */
	n = strcspn(p, "/;, \t");
	if (p + n > end)
		n = (size_t)(end - p);
	util_strlcpy(r->type, p, n + 1 < sizeof(r->type) ? n + 1 : sizeof(r->type));
	p += n;
	if (*p == '/') {
		p++;
		n = strcspn(p, ";, \t");
		if (p + n > end)
			n = (size_t)(end - p);
		util_strlcpy(r->subtype, p, n + 1 < sizeof(r->subtype) ?
		    n + 1 : sizeof(r->subtype));
		p += n;
	}
	while (p < end) {
		const char *name, *val;
		size_t nl, vl;

		p += strspn(p, " \t;");
		if (p >= end)
			break;
		name = p;
		nl = strcspn(p, "=;,");
		p += nl;
		if (*p != '=')
			continue;
		val = ++p;
		vl = strcspn(p, ";,");
		p += vl;
		while (nl > 0 && (name[nl - 1] == ' ' || name[nl - 1] == '\t'))
			nl--;
		while (vl > 0 && (val[vl - 1] == ' ' || val[vl - 1] == '\t'))
			vl--;
		if (nl == 1 && (name[0] == 'q' || name[0] == 'Q')) {
			char tmp[16];

			util_strlcpy(tmp, val, vl + 1 < sizeof(tmp) ? vl + 1 : sizeof(tmp));
			r->q = strtod(tmp, NULL);
			if (!(r->q >= 0 && r->q <= 1))
				r->q = 0;
		} else if (nl == 7 && strncasecmp(name, "version", 7) == 0) {
			util_strlcpy(r->version, val, vl + 1 < sizeof(r->version) ?
			    vl + 1 : sizeof(r->version));
		}
	}
	return end;
}

/*
 * The q-value the Accept header gives type/subtype: from the most specific
 * range that matches (exact over type/ over slash-star), -1 if none.  A
 * range naming a version we do not speak does not match.
 */
static double
accept_q(const char *accept, const char *type, const char *subtype,
    const char *version)
{
	struct range r;
	const char *p = accept;
	double q = -1;
	int best = -1;

	while ((p = next_range(p, &r)) != NULL) {
		int spec;

		if (strcasecmp(r.type, type) == 0 &&
		    strcasecmp(r.subtype, subtype) == 0) {
			if (r.version[0] != '\0' && version != NULL &&
			    strcmp(r.version, version) != 0)
				continue;
			spec = 2;
		} else if (strcasecmp(r.type, type) == 0 &&
		    strcmp(r.subtype, "*") == 0) {
			spec = 1;
		} else if (strcmp(r.type, "*") == 0 && strcmp(r.subtype, "*") == 0) {
			spec = 0;
		} else {
			continue;
		}
		if (spec > best || (spec == best && r.q > q)) {
			best = spec;
			q = r.q;
		}
	}
	return q;
}

enum metrics_format
web_negotiate_format(const char *accept)
{
	double om, text;

	if (accept == NULL || accept[0] == '\0')
		return METRICS_FORMAT_TEXT;
	om = accept_q(accept, "application", "openmetrics-text", "1.0.0");
	text = accept_q(accept, "text", "plain", "0.0.4");
	/* On a tie, or when nothing is acceptable, the classic format. */
	return om > 0 && om > text ? METRICS_FORMAT_OPENMETRICS :
	    METRICS_FORMAT_TEXT;
}

int
web_accepts_gzip(const char *accept_encoding)
{
	struct range r;
	const char *p = accept_encoding;
	double gzip = -1, star = -1;

	if (p == NULL)
		return 0;
	while ((p = next_range(p, &r)) != NULL) {
		if (strcasecmp(r.type, "gzip") == 0 || strcasecmp(r.type, "x-gzip") == 0)
			gzip = r.q;
		else if (strcmp(r.type, "*") == 0)
			star = r.q;
	}
	return gzip > 0 || (gzip < 0 && star > 0);
}

/* Replace the body by its gzip compression. */
static int
gzip_body(struct web *w, struct http_response *resp)
{
	z_stream *z = &w->z;
	int r;

	if (!w->z_ready) {
		memset(z, 0, sizeof(*z));
		/* Level 1: a scrape is compressed every time it is served,
		 * and most of the gain comes at the first level. */
		if (deflateInit2(z, 1, Z_DEFLATED, 15 + 16, 8,
		    Z_DEFAULT_STRATEGY) != Z_OK)
			return -1;
		w->z_ready = 1;
	} else if (deflateReset(z) != Z_OK) {
		return -1;
	}
	buf_reset(&w->gz);
	buf_reserve(&w->gz, deflateBound(z, (uLong)resp->body.len));
	z->next_in = (Bytef *)resp->body.data;
	z->avail_in = (uInt)resp->body.len;
	z->next_out = (Bytef *)w->gz.data;
	z->avail_out = (uInt)(w->gz.cap - 1);
	r = deflate(z, Z_FINISH);
	if (r != Z_STREAM_END)
		return -1;
	w->gz.len = w->gz.cap - 1 - z->avail_out;
	/* Swap buffers: the response takes the compressed bytes, and the
	 * old body's memory is reused for the next compression. */
	{
		struct buf tmp = resp->body;

		resp->body = w->gz;
		w->gz = tmp;
	}
	return 0;
}

void
web_free(struct web *w)
{
	{
		int f, g;

		for (f = 0; f < 2; f++)
			for (g = 0; g < 2; g++) {
				http_body_unref(w->metrics_cache[f][g].body);
				w->metrics_cache[f][g].body = NULL;
			}
	}
	results_unref(w->results);
	results_unref(w->next);
	w->results = w->next = NULL;
	buf_free(&w->status_cols);
	buf_free(&w->page_rows);
	buf_free(&w->next_status);
	buf_free(&w->next_page);
	if (w->z_ready)
		deflateEnd(&w->z);
	w->z_ready = 0;
	buf_free(&w->gz);
}

/* ----------------------------------------------------------- /metrics */

static void
serve_metrics(struct web *w, const struct http_request *req,
    struct http_response *resp)
{
	enum metrics_format fmt = web_negotiate_format(req->accept);

	int gz = web_accepts_gzip(req->accept_encoding) != 0;
	struct web_cached *cache = &w->metrics_cache[fmt][gz];
	uint64_t now = uv_hrtime(), gen;

	resp->content_type = fmt == METRICS_FORMAT_OPENMETRICS ?
	    CONTENT_TYPE_OM : CONTENT_TYPE_PROM;
	buf_puts(&resp->headers, "Vary: Accept, Accept-Encoding\r\n");
	/* Values computed on demand (process metrics, lag) are refreshed at
	 * most every WEB_COLLECT_EVERY_MS, and one rendering serves every
	 * scrape until anything changes: a burst of scrapes costs one
	 * rendering and one copy of it in memory. */
	if (!w->collected || now - w->collected_at >=
	    (uint64_t)WEB_COLLECT_EVERY_MS * 1000000) {
		metrics_collect(w->registry);
		w->collected = 1;
		w->collected_at = now;
	}
	gen = metrics_generation(w->registry);
	if (cache->body == NULL || cache->generation != gen) {
		int gzipped;

		metrics_render_collected(w->registry, fmt, &resp->body);
		gzipped = gz && resp->body.len >= GZIP_MIN_BYTES &&
		    gzip_body(w, resp) == 0;
		http_body_unref(cache->body);
		cache->body = http_body_create(resp->body.data, resp->body.len);
		cache->generation = gen;
		cache->gzipped = gzipped;
		buf_reset(&resp->body);
		if (resp->body.cap > HTTP_KEEP_BUFFER_BYTES)
			buf_free(&resp->body);
	}
	if (cache->gzipped)
		buf_puts(&resp->headers, "Content-Encoding: gzip\r\n");
	resp->shared = http_body_ref(cache->body);
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

/* ------------------------------------------------- the state, read back */

/* What a page shows: the last evaluation's results, and the few figures
 * that are not evaluation results (inputs, records, version), asked of
 * their owners. */
struct view {
	const char *version;
	double start;
	const char *model;
	double records;
	const struct results *res;    /* never NULL; empty before the first */
	struct tail_input_info *in;
	size_t nin;
};

static void
view_build(struct web *w, struct view *v)
{
	static struct results none = { 1, NAN, NAN, NAN, NAN, NULL, NULL,
	    NULL, 0 };
	size_t i;

	memset(v, 0, sizeof(*v));
	v->res = w->results != NULL ? w->results : &none;
	v->version = PACKAGE_VERSION;
	v->start = w->start_time;
	v->model = w->conf != NULL ? w->conf->model_name : NULL;
	v->records = w->ingest != NULL ? ingest_records(w->ingest) : NAN;
	v->nin = tail_inputs(w->tail);
	v->in = xcalloc(v->nin + 1, sizeof(*v->in));
	for (i = 0; i < v->nin; i++)
		tail_input_info(w->tail, i, &v->in[i]);
}

static void
view_free(struct view *v)
{
	free(v->in);
}

/* ------------------------------------------------------------ /status */

static void
json_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (s == NULL) {
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, (char)c);
		} else if (c < 0x20) {
			buf_puts(b, "\\u00");
			buf_putc(b, hex[c >> 4]);
			buf_putc(b, hex[c & 15]);
		} else {
			buf_putc(b, (char)c);
		}
	}
	buf_putc(b, '"');
}

static void
json_number(struct buf *b, double v)
{
	if (!isfinite(v))
		buf_puts(b, "null");
	else
		buf_put_double(b, v);
}

static void
json_bool(struct buf *b, double v)
{
	buf_puts(b, isnan(v) ? "null" : v != 0 ? "true" : "false");
}

static void
serve_status(struct web *w, const struct http_request *req,
    struct http_response *resp)
{
	struct buf *b = &resp->body;
	struct view v;
	size_t i;

	(void)req;
	view_build(w, &v);
	resp->content_type = CONTENT_TYPE_JSON;
	buf_puts(b, "{\"version\":");
	json_string(b, v.version);
	buf_puts(b, ",\"start_time_seconds\":");
	json_number(b, v.start);
	buf_printf(b, ",\"ready\":%s", w->ready ? "true" : "false");
	buf_puts(b, ",\"model\":");
	json_string(b, v.model);
	buf_puts(b, ",\"records\":");
	json_number(b, v.records);
	buf_puts(b, ",\"window_size\":");
	json_number(b, w->conf != NULL ? (double)w->conf->window_size : NAN);
	buf_puts(b, ",\"reference\":{\"source\":");
	json_string(b, v.res->ref_source);
	buf_puts(b, ",\"sha256\":");
	json_string(b, v.res->ref_sha);
	buf_puts(b, "},\"evaluation_timestamp_seconds\":");
	json_number(b, v.res->time);
	buf_puts(b, ",\"dataset_drift\":");
	json_bool(b, v.res->dataset);
	buf_puts(b, ",\"drifted_columns\":");
	json_number(b, v.res->drifted);
	buf_puts(b, ",\"drifted_columns_ratio\":");
	json_number(b, v.res->ratio);
	buf_puts(b, ",\"inputs\":[");
	for (i = 0; i < v.nin; i++) {
		const struct tail_input_info *in = &v.in[i];

		buf_puts(b, i ? ",{\"path\":" : "{\"path\":");
		json_string(b, in->path);
		buf_puts(b, ",\"lines\":");
		json_number(b, in->lines);
		buf_puts(b, ",\"bytes\":");
		json_number(b, in->bytes);
		buf_puts(b, ",\"errors\":{\"json\":");
		json_number(b, in->json_errors);
		buf_puts(b, ",\"too_long\":");
		json_number(b, in->too_long);
		buf_puts(b, "},\"rotations\":");
		json_number(b, in->rotations);
		buf_puts(b, ",\"lag_bytes\":");
		json_number(b, in->lag_bytes);
		buf_putc(b, '}');
	}
	buf_puts(b, "],\"columns\":[");
	buf_append(b, w->status_cols.data, w->status_cols.len);
	buf_puts(b, "]}\n");
	view_free(&v);
}

/* ------------------------------------------------------------------ / */

static void
html_text(struct buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '&': buf_puts(b, "&amp;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default: buf_putc(b, *s); break;
		}
	}
}

static void
html_number(struct buf *b, double v)
{
	if (isnan(v)) {
		buf_puts(b, "&ndash;");
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15)
		buf_printf(b, "%.0f", v);
	else
		buf_printf(b, "%.4g", v);
}

static void
serve_page(struct web *w, const struct http_request *req,
    struct http_response *resp)
{
	struct buf *b = &resp->body;
	struct view v;
	size_t i;

	(void)req;
	view_build(w, &v);
	resp->content_type = CONTENT_TYPE_HTML;
	buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<title>driftd");
	if (v.model != NULL) {
		buf_puts(b, " &middot; ");
		html_text(b, v.model);
	}
	buf_puts(b, "</title><style>"
	    "body{font-family:sans-serif;margin:2em;color:#222}"
	    "table{border-collapse:collapse;margin:1em 0}"
	    "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}"
	    "td:first-child,th:first-child{text-align:left}"
	    ".drift{background:#fdd;font-weight:bold}.ok{background:#dfd}"
	    "</style></head><body>\n<h1>driftd ");
	html_text(b, v.version);
	buf_puts(b, "</h1>\n<p>");
	if (v.model != NULL) {
		buf_puts(b, "Model <b id=\"model\">");
		html_text(b, v.model);
		buf_puts(b, "</b>: ");
		html_number(b, v.records);
		buf_puts(b, " records. ");
	}
	buf_puts(b, "Dataset drift: <b id=\"dataset-drift\">");
	buf_puts(b, isnan(v.res->dataset) ? "not evaluated yet" :
	    v.res->dataset != 0 ? "yes" : "no");
	buf_puts(b, "</b>");
	if (!isnan(v.res->drifted)) {
		buf_puts(b, " (");
		html_number(b, v.res->drifted);
		buf_puts(b, " columns drifted)");
	}
	buf_puts(b, ". Reference: ");
	html_text(b, v.res->ref_source != NULL ? v.res->ref_source : "none");
	buf_puts(b, ".</p>\n<h2>Inputs</h2>\n<table id=\"inputs\"><tr><th>input</th>"
	    "<th>lines</th><th>bytes</th><th>bad JSON</th><th>too long</th>"
	    "<th>rotations</th><th>lag (bytes)</th></tr>\n");
	for (i = 0; i < v.nin; i++) {
		const struct tail_input_info *in = &v.in[i];

		buf_puts(b, "<tr><td>");
		html_text(b, in->path);
		buf_puts(b, "</td><td>");
		html_number(b, in->lines);
		buf_puts(b, "</td><td>");
		html_number(b, in->bytes);
		buf_puts(b, "</td><td>");
		html_number(b, in->json_errors);
		buf_puts(b, "</td><td>");
		html_number(b, in->too_long);
		buf_puts(b, "</td><td>");
		html_number(b, in->rotations);
		buf_puts(b, "</td><td>");
		html_number(b, in->lag_bytes);
		buf_puts(b, "</td></tr>\n");
	}
	buf_puts(b, "</table>\n<h2>Drift by column</h2>\n"
	    "<table id=\"columns\"><tr><th>column</th><th>window</th>"
	    "<th>reference</th><th>missing</th><th>mean</th><th>stddev</th>"
	    "<th>tests: score (p-value) / threshold</th><th>drift</th></tr>\n");
	buf_append(b, w->page_rows.data, w->page_rows.len);
	buf_puts(b, "</table>\n<p><a href=\"/metrics\">/metrics</a> &middot; "
	    "<a href=\"/status\">/status</a> &middot; "
	    "<a href=\"/-/healthy\">/-/healthy</a> &middot; "
	    "<a href=\"/-/ready\">/-/ready</a></p>\n</body></html>\n");
	view_free(&v);
}

/* -------------------------------------------- per-column fragments */

/* One column of /status's "columns" array. */
static void
status_column(struct buf *b, const struct results_column *c, int first)
{
	int t, first_test = 1;

	buf_puts(b, first ? "{\"name\":" : ",{\"name\":");
	json_string(b, c->name);
	buf_puts(b, ",\"samples\":");
	json_number(b, c->samples);
	buf_puts(b, ",\"reference_samples\":");
	json_number(b, c->ref_samples);
	buf_puts(b, ",\"missing_ratio\":");
	json_number(b, c->missing_ratio);
	buf_puts(b, ",\"mean\":");
	json_number(b, c->mean);
	buf_puts(b, ",\"stddev\":");
	json_number(b, c->std);
	buf_puts(b, ",\"drift_detected\":");
	json_bool(b, c->detected);
	buf_puts(b, ",\"drift_events\":");
	json_number(b, c->events);
	buf_puts(b, ",\"tests\":{");
	for (t = 0; t < CONF_TEST_COUNT; t++) {
		if (!c->t[t].on)
			continue;
		buf_puts(b, first_test ? "" : ",");
		first_test = 0;
		json_string(b, conf_test_name((enum conf_test)t));
		buf_puts(b, ":{\"score\":");
		json_number(b, c->t[t].score);
		buf_puts(b, ",\"pvalue\":");
		json_number(b, c->t[t].pvalue);
		buf_puts(b, ",\"threshold\":");
		json_number(b, c->t[t].threshold);
		buf_putc(b, '}');
	}
	buf_puts(b, "}}");
}

/* One row of the page's column table. */
static void
page_row(struct buf *b, const struct results_column *c, double size)
{
	int t, any = 0;

	buf_puts(b, "<tr><td>");
	html_text(b, c->name);
	buf_puts(b, "</td><td>");
	html_number(b, c->samples);
	if (!isnan(size)) {
		buf_puts(b, " / ");
		html_number(b, size);
	}
	buf_puts(b, "</td><td>");
	html_number(b, c->ref_samples);
	buf_puts(b, "</td><td>");
	html_number(b, c->missing_ratio);
	buf_puts(b, "</td><td>");
	html_number(b, c->mean);
	buf_puts(b, "</td><td>");
	html_number(b, c->std);
	buf_puts(b, "</td><td>");
	for (t = 0; t < CONF_TEST_COUNT; t++) {
		if (!c->t[t].on)
			continue;
		if (any++)
			buf_puts(b, "<br>");
		buf_printf(b, "%s ", conf_test_name((enum conf_test)t));
		html_number(b, c->t[t].score);
		if (!isnan(c->t[t].pvalue)) {
			buf_puts(b, " (p ");
			html_number(b, c->t[t].pvalue);
			buf_puts(b, ")");
		}
		buf_puts(b, " / ");
		html_number(b, c->t[t].threshold);
	}
	if (!any)
		buf_puts(b, "not tested");
	buf_printf(b, "</td><td class=\"%s\">", isnan(c->detected) ? "" :
	    c->detected != 0 ? "drift" : "ok");
	buf_puts(b, isnan(c->detected) ? "&ndash;" :
	    c->detected != 0 ? "drift" : "no drift");
	buf_puts(b, "</td></tr>\n");
}

void
web_set_results(struct web *w, struct results *r)
{
	if (r == NULL || r == w->results || r == w->next)
		return;
	results_unref(w->next);
	w->next = results_ref(r);
	w->next_col = 0;
	buf_reset(&w->next_status);
	buf_reset(&w->next_page);
}

int
web_prepare(struct web *w, double budget)
{
	uint64_t start = uv_hrtime(), limit = (uint64_t)(budget * 1e9);
	double size = w->conf != NULL ? (double)w->conf->window_size : NAN;
	struct buf tmp;

	if (w->next == NULL)
		return 1;
	/* The clock is read every few columns: a column renders in about
	 * a microsecond. */
	while (w->next_col < w->next->ncols) {
		const struct results_column *c = &w->next->cols[w->next_col];

		status_column(&w->next_status, c, w->next_col == 0);
		page_row(&w->next_page, c, size);
		if (++w->next_col % 64 == 0 && uv_hrtime() - start >= limit)
			return 0;
	}
	results_unref(w->results);
	w->results = w->next;
	w->next = NULL;
	tmp = w->status_cols;
	w->status_cols = w->next_status;
	w->next_status = tmp;
	tmp = w->page_rows;
	w->page_rows = w->next_page;
	w->next_page = tmp;
	buf_reset(&w->next_status);
	buf_reset(&w->next_page);
	return 1;
}

/* ------------------------------------------------------------ routing */

static const struct route {
	const char *path;
	void (*serve)(struct web *, const struct http_request *,
	    struct http_response *);
} routes[] = {
	{ "/metrics", serve_metrics },
	{ "/", serve_page },
	{ "/status", serve_status },
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
