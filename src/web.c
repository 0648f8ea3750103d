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
#include "report.h"
#include "reports.h"
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

static void answer_waiters(struct web *w, int all);

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
web_stop(struct web *w)
{
	answer_waiters(w, 1);
}

void
web_free(struct web *w)
{
	answer_waiters(w, 1);
	free(w->waiters);
	w->waiters = NULL;
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
	free(w->order);
	w->order = NULL;
	http_body_unref(w->status_tail);
	http_body_unref(w->page_tail);
	w->status_tail = w->page_tail = NULL;
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

/* The figures a page shows that are not evaluation results, asked of
 * their owners. */
static void
report_info(struct web *w, struct report_info *info)
{
	size_t i, n = tail_inputs(w->tail);
	struct tail_input_info *in = xcalloc(n + 1, sizeof(*in));

	memset(info, 0, sizeof(*info));
	info->version = PACKAGE_VERSION;
	info->model = w->conf != NULL ? w->conf->model_name : NULL;
	info->records = w->ingest != NULL ? ingest_records(w->ingest) : NAN;
	info->window_size = w->conf != NULL ? (double)w->conf->window_size :
	    NAN;
	info->min_samples = w->conf != NULL ? (double)w->conf->min_samples :
	    NAN;
	for (i = 0; i < n; i++)
		tail_input_info(w->tail, i, &in[i]);
	info->in = in;
	info->nin = n;
}

static void
report_info_free(struct report_info *info)
{
	free((void *)(uintptr_t)info->in);
}

/* The last evaluation's results, or an empty one before the first. */
static const struct results *
shown(struct web *w)
{
	if (w->results == NULL)
		w->results = results_create(0);
	return w->results;
}

/* ------------------------------------------------------------ /status */

static void
json_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t left, n;

	if (s == NULL) {
		buf_puts(b, "null");
		return;
	}
	left = strlen(s);
	buf_putc(b, '"');
	while (left > 0) {
		n = util_utf8_len(p, left);
		if (n == 0) {
			buf_puts(b, "\\ufffd");      /* not UTF-8 */
			n = 1;
		} else if (*p == '"' || *p == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, (char)*p);
		} else if (*p < 0x20) {
			buf_puts(b, "\\u00");
			buf_putc(b, hex[*p >> 4]);
			buf_putc(b, hex[*p & 15]);
		} else {
			buf_append(b, (const char *)p, n);
		}
		p += n;
		left -= n;
	}
	buf_putc(b, '"');
}

static void
put_number(struct buf *b, double v)
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

/* [v0,v1,...], each number written by `put`. */
static void
json_array(struct buf *b, const double *v, size_t n,
    void (*put)(struct buf *, double))
{
	size_t i;

	buf_putc(b, '[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		put(b, v[i]);
	}
	buf_putc(b, ']');
}

/*
 * v to six significant digits, as d.ddddde[-]X, without printf: a
 * history is many numbers that need no more (/status has each column's).
 */
static void
json_short(struct buf *b, double v)
{
	char tmp[32], *p = tmp + sizeof(tmp);
	long long m;
	int e, k;

	if (!isfinite(v)) {
		buf_puts(b, "null");
		return;
	}
	if (v == 0) {
		buf_putc(b, '0');
		return;
	}
	if (v < 0) {
		buf_putc(b, '-');
		v = -v;
	}
	e = (int)floor(log10(v));
	if (e < -290 || e > 290) {     /* 10^(5-e) would overflow */
		put_number(b, v);
		return;
	}
	m = llround(v * pow(10, 5 - e));
	if (m >= 1000000) {            /* 9.999996 rounds up to 10.0000 */
		m /= 10;
		e++;
	}
	if (e != 0) {
		k = e < 0 ? -e : e;
		do {
			*--p = (char)('0' + k % 10);
			k /= 10;
		} while (k > 0);
		if (e < 0)
			*--p = '-';
		*--p = 'e';
	}
	for (k = 0; k < 5 && m % 10 == 0; k++)
		m /= 10;              /* no trailing zeros */
	for (; k < 5; k++) {
		*--p = (char)('0' + m % 10);
		m /= 10;
	}
	if (p != tmp + sizeof(tmp) && *p != 'e')
		*--p = '.';
	*--p = (char)('0' + m);
	buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* The tails before the first results: no columns. */
static void
empty_tails(struct web *w)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "]}\n");
	w->status_tail = http_body_adopt(&b);
	report_cards_begin(&b, shown(w));
	report_page_end(&b);
	w->page_tail = http_body_adopt(&b);
}

/* /status up to its columns (which the status tail holds). */
static void
status_head(struct web *w, struct buf *b)
{
	const struct results *res = shown(w);
	struct report_info info;
	size_t i;

	report_info(w, &info);
	buf_puts(b, "{\"version\":");
	json_string(b, info.version);
	buf_puts(b, ",\"start_time_seconds\":");
	put_number(b, w->start_time);
	buf_printf(b, ",\"ready\":%s", w->ready ? "true" : "false");
	buf_puts(b, ",\"model\":");
	json_string(b, info.model);
	buf_puts(b, ",\"records\":");
	put_number(b, info.records);
	buf_puts(b, ",\"window_size\":");
	put_number(b, info.window_size);
	buf_puts(b, ",\"reference\":{\"source\":");
	json_string(b, res->ref_source);
	buf_puts(b, ",\"sha256\":");
	json_string(b, res->ref_sha);
	buf_puts(b, "},\"evaluation_timestamp_seconds\":");
	put_number(b, res->time);
	buf_puts(b, ",\"dataset_drift\":");
	json_bool(b, res->dataset);
	buf_puts(b, ",\"drifted_columns\":");
	put_number(b, res->drifted);
	buf_puts(b, ",\"tested_columns\":");
	put_number(b, res->tested);
	buf_puts(b, ",\"drifted_columns_ratio\":");
	put_number(b, res->ratio);
	buf_puts(b, ",\"dataset_share\":");
	put_number(b, res->dataset_share);
	buf_puts(b, ",\"inputs\":[");
	for (i = 0; i < info.nin; i++) {
		const struct tail_input_info *in = &info.in[i];

		buf_puts(b, i ? ",{\"path\":" : "{\"path\":");
		json_string(b, in->path);
		buf_puts(b, ",\"lines\":");
		put_number(b, in->lines);
		buf_puts(b, ",\"bytes\":");
		put_number(b, in->bytes);
		buf_puts(b, ",\"errors\":{\"json\":");
		put_number(b, in->json_errors);
		buf_puts(b, ",\"too_long\":");
		put_number(b, in->too_long);
		buf_puts(b, "},\"rotations\":");
		put_number(b, in->rotations);
		buf_puts(b, ",\"lag_bytes\":");
		put_number(b, in->lag_bytes);
		buf_putc(b, '}');
	}
	buf_puts(b, "],\"columns\":[");
	report_info_free(&info);
}

/* The whole /status document. */
static void
status_json(struct web *w, struct buf *b)
{
	if (w->status_tail == NULL)
		empty_tails(w);
	status_head(w, b);
	buf_append(b, w->status_tail->data, w->status_tail->len);
}

static void
serve_status(struct web *w, const struct http_request *req,
    struct http_response *resp)
{
	(void)req;
	resp->content_type = CONTENT_TYPE_JSON;
	if (w->status_tail == NULL)
		empty_tails(w);
	status_head(w, &resp->body);
	resp->shared = http_body_ref(w->status_tail);
}

/* ------------------------------------------------------------------ / */

void
web_report(struct web *w, struct buf *b, const char *note)
{
	struct report_info info;

	if (w->page_tail == NULL)
		empty_tails(w);
	report_info(w, &info);
	info.note = note;
	report_page_head(b, &info, shown(w));
	buf_append(b, w->page_tail->data, w->page_tail->len);
	report_info_free(&info);
}

static void
serve_page(struct web *w, const struct http_request *req,
    struct http_response *resp)
{
	struct report_info info;

	(void)req;
	resp->content_type = CONTENT_TYPE_HTML;
	if (w->page_tail == NULL)
		empty_tails(w);
	report_info(w, &info);
	report_page_head(&resp->body, &info, shown(w));
	report_info_free(&info);
	resp->shared = http_body_ref(w->page_tail);
}

/* -------------------------------------------- per-column fragments */

/* One column of /status's "columns" array. */
static void
status_column(struct buf *b, const struct results_column *c, int first)
{
	const struct results_chart *ch = c->chart;
	int t, first_test = 1;
	size_t k;

	buf_puts(b, first ? "{\"name\":" : ",{\"name\":");
	json_string(b, c->name);
	buf_puts(b, ",\"samples\":");
	put_number(b, c->samples);
	buf_puts(b, ",\"reference_samples\":");
	put_number(b, c->ref_samples);
	buf_puts(b, ",\"missing_ratio\":");
	put_number(b, c->missing_ratio);
	buf_puts(b, ",\"mean\":");
	put_number(b, c->mean);
	buf_puts(b, ",\"stddev\":");
	put_number(b, c->std);
	buf_puts(b, ",\"drift_detected\":");
	json_bool(b, c->detected);
	buf_puts(b, ",\"drift_events\":");
	put_number(b, c->events);
	buf_puts(b, ",\"decide\":");
	json_string(b, c->decide >= 0 ?
	    conf_test_name((enum conf_test)c->decide) : NULL);
	buf_puts(b, ",\"tests\":{");
	for (t = 0; t < CONF_TEST_COUNT; t++) {
		if (!c->t[t].on)
			continue;
		buf_puts(b, first_test ? "" : ",");
		first_test = 0;
		json_string(b, conf_test_name((enum conf_test)t));
		buf_puts(b, ":{\"score\":");
		put_number(b, c->t[t].score);
		buf_puts(b, ",\"pvalue\":");
		put_number(b, c->t[t].pvalue);
		buf_puts(b, ",\"threshold\":");
		put_number(b, c->t[t].threshold);
		buf_putc(b, '}');
	}
	buf_puts(b, "},\"bins\":");
	if (ch == NULL) {
		buf_puts(b, "null");
	} else {
		if (ch->labels != NULL) {
			buf_puts(b, "{\"labels\":[");
			for (k = 0; k < ch->n; k++) {
				if (k > 0)
					buf_putc(b, ',');
				json_string(b, ch->labels[k]);
			}
			buf_putc(b, ']');
		} else {
			buf_puts(b, "{\"edges\":");
			json_array(b, ch->edges, ch->n > 0 ? ch->n - 1 : 0,
			    put_number);
		}
		buf_puts(b, ",\"reference\":");
		json_array(b, ch->ref, ch->n, put_number);
		buf_puts(b, ",\"window\":");
		json_array(b, ch->win, ch->n, put_number);
		buf_putc(b, '}');
	}
	buf_puts(b, ",\"history\":");
	json_array(b, c->history, c->nhistory, json_short);
	buf_putc(b, '}');
}

/* Answer the POST /-/evaluate whose evaluation is ready to show, with
 * /status; with `all`, every one (503: the daemon stops). */
static void
answer_waiters(struct web *w, int all)
{
	struct buf body = BUF_INIT;
	size_t i, kept = 0;

	for (i = 0; i < w->nwaiters; i++) {
		struct web_waiter *q = &w->waiters[i];

		if (all) {
			static const char stopping[] = "503 Service "
			    "Unavailable: driftd is stopping\n";

			http_later_finish(q->later, 503, CONTENT_TYPE_TEXT,
			    stopping, sizeof(stopping) - 1);
		} else if (q->want <= w->prepared) {
			if (body.len == 0)
				status_json(w, &body);
			http_later_finish(q->later, 200, CONTENT_TYPE_JSON,
			    body.data, body.len);
		} else {
			w->waiters[kept++] = *q;
		}
	}
	w->nwaiters = kept;
	buf_free(&body);
}

void
web_set_results(struct web *w, struct results *r)
{
	if (r == NULL || r == w->results || r == w->next)
		return;
	results_unref(w->next);
	w->next = results_ref(r);
	w->next_col = 0;
	w->next_cards = 0;
	w->order = xreallocarray(w->order, r->ncols + 1, sizeof(size_t));
	report_order(r, w->order);
	buf_reset(&w->next_status);
	buf_reset(&w->next_page);
}

int
web_prepare(struct web *w, double budget)
{
	uint64_t start = uv_hrtime(), limit = (uint64_t)(budget * 1e9);
	double size = w->conf != NULL ? (double)w->conf->window_size : NAN;
	double min = w->conf != NULL ? (double)w->conf->min_samples : NAN;
	struct results *r = w->next;
	size_t ncards = r != NULL && r->ncols < REPORT_MAX_CARDS ? r->ncols :
	    REPORT_MAX_CARDS;

	if (r == NULL)
		return 1;
	/* The clock is read every few columns.  /status lists the columns
	 * in their order, the report drifting ones first: every row, then
	 * the cards, straight into the bodies responses will share. */
	while (w->next_col < r->ncols) {
		size_t i = w->next_col;

		status_column(&w->next_status, &r->cols[i], i == 0);
		report_row(&w->next_page, r, w->order[i], size,
		    i < REPORT_MAX_CARDS);
		if (++w->next_col % 16 == 0 && uv_hrtime() - start >= limit)
			return 0;
	}
	if (w->next_cards == 0)
		report_cards_begin(&w->next_page, r);
	while (w->next_cards < ncards) {
		report_card(&w->next_page, r, w->order[w->next_cards], min);
		if (++w->next_cards % 16 == 0 && uv_hrtime() - start >= limit)
			return 0;
	}
	buf_puts(&w->next_status, "]}\n");
	report_page_end(&w->next_page);
	http_body_unref(w->status_tail);
	http_body_unref(w->page_tail);
	w->status_tail = http_body_adopt(&w->next_status);
	w->page_tail = http_body_adopt(&w->next_page);
	results_unref(w->results);
	w->results = r;
	w->next = NULL;
	w->prepared++;
	answer_waiters(w, 0);
	return 1;
}

/* ------------------------------------------------------- /reports/ */

static void
serve_reports(struct web *w, const struct http_request *req,
    struct http_response *resp)
{
	const char *dir = w->conf != NULL ? w->conf->state_dir : "";
	const char *name = req->path + strlen("/reports/");
	char **names;
	size_t n, i;

	resp->content_type = CONTENT_TYPE_HTML;
	if (*name != '\0') {
		if (dir[0] == '\0' || reports_read(dir, name, &resp->body) != 0) {
			buf_reset(&resp->body);
			resp->status = 404;
			resp->content_type = CONTENT_TYPE_TEXT;
			buf_puts(&resp->body, "404 Not Found\n");
		}
		return;
	}
	n = dir[0] != '\0' ? reports_list(dir, &names) : 0;
	buf_puts(&resp->body, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"viewport\" "
	    "content=\"width=device-width,initial-scale=1\">"
	    "<meta name=\"color-scheme\" content=\"light dark\">"
	    "<title>driftd &middot; saved reports</title><style>"
	    "body{font:15px/1.5 system-ui,sans-serif;max-width:40rem;"
	    "margin:1.5rem auto;padding:0 1rem}</style></head><body>\n"
	    "<h1>Saved reports</h1>\n");
	if (n == 0)
		buf_puts(&resp->body, dir[0] == '\0' ? "<p>No state_dir is "
		    "set: reports are not saved.</p>\n" : "<p>None yet: a "
		    "report is saved when the dataset's verdict turns to "
		    "drift.</p>\n");
	else
		buf_puts(&resp->body, "<ul id=\"reports\">\n");
	for (i = 0; i < n; i++)
		buf_printf(&resp->body, "<li><a href=\"/reports/%s\">%s</a>"
		    "</li>\n", names[i], names[i]);   /* names are [0-9TZ.-] */
	if (n > 0)
		buf_puts(&resp->body, "</ul>\n");
	buf_puts(&resp->body, "<p><a href=\"/\">the live report</a></p>\n"
	    "</body></html>\n");
	if (n > 0)
		reports_free(names, n);
}

/* ---------------------------------------------------------- lifecycle */

static int
lifecycle_allowed(struct web *w, struct http_response *resp)
{
	if (w->conf != NULL && w->conf->enable_lifecycle)
		return 1;
	resp->status = 403;
	resp->content_type = CONTENT_TYPE_TEXT;
	buf_puts(&resp->body, "403 Forbidden: lifecycle endpoints are "
	    "disabled ([global] enable_lifecycle = no)\n");
	return 0;
}

static void
serve_evaluate(struct web *w, const struct http_request *req,
    struct http_response *resp)
{
	struct http_later *later;

	(void)req;
	if (!lifecycle_allowed(w, resp))
		return;
	later = w->evaluate != NULL ? http_respond_later(resp) : NULL;
	if (later == NULL) {
		resp->status = 503;
		resp->content_type = CONTENT_TYPE_TEXT;
		buf_puts(&resp->body, "503 Service Unavailable\n");
		return;
	}
	w->waiters = xreallocarray(w->waiters, w->nwaiters + 1,
	    sizeof(*w->waiters));
	w->waiters[w->nwaiters].later = later;
	w->waiters[w->nwaiters++].want = w->evaluate(w->lifecycle_arg);
}

static void
serve_reload(struct web *w, const struct http_request *req,
    struct http_response *resp)
{
	struct buf why = BUF_INIT;

	(void)req;
	if (!lifecycle_allowed(w, resp))
		return;
	resp->content_type = CONTENT_TYPE_TEXT;
	if (w->reload == NULL || w->reload(w->lifecycle_arg, &why) != 0) {
		resp->status = 500;
		buf_puts(&resp->body, "reload failed; the previous "
		    "configuration stays in force\n");
		if (why.len > 0)
			buf_append(&resp->body, why.data, why.len);
	} else {
		buf_puts(&resp->body, "configuration reloaded\n");
	}
	buf_free(&why);
}

/* ------------------------------------------------------------ routing */

static const struct route {
	const char *path;
	int prefix;                  /* path is a prefix (ending in '/') */
	int post;                    /* POST, else GET and HEAD */
	void (*serve)(struct web *, const struct http_request *,
	    struct http_response *);
} routes[] = {
	{ "/metrics", 0, 0, serve_metrics },
	{ "/", 0, 0, serve_page },
	{ "/status", 0, 0, serve_status },
	{ "/reports/", 1, 0, serve_reports },
	{ "/-/healthy", 0, 0, serve_healthy },
	{ "/-/ready", 0, 0, serve_ready },
	{ "/-/evaluate", 0, 1, serve_evaluate },
	{ "/-/reload", 0, 1, serve_reload },
};

void
web_handle(const struct http_request *req, struct http_response *resp,
    void *arg)
{
	struct web *w = arg;
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];
		int get = strcmp(req->method, "GET") == 0 || req->is_head;

		if (rt->prefix ? strncmp(req->path, rt->path,
		    strlen(rt->path)) != 0 : strcmp(req->path, rt->path) != 0)
			continue;
		if (rt->post ? strcmp(req->method, "POST") != 0 : !get) {
			resp->status = 405;
			resp->content_type = CONTENT_TYPE_TEXT;
			buf_puts(&resp->headers, rt->post ? "Allow: POST\r\n" :
			    "Allow: GET, HEAD\r\n");
			buf_puts(&resp->body, "405 Method Not Allowed\n");
			return;
		}
		rt->serve(w, req, resp);
		return;
	}
	resp->status = 404;
	resp->content_type = CONTENT_TYPE_TEXT;
	buf_puts(&resp->body, "404 Not Found\n");
}
