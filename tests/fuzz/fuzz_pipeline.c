/*
 * libFuzzer target for the whole pipeline behind the log: every line goes
 * through the record parser, the per-record metrics, the columns (with
 * discovery), a reference capture, the windows (with event time) and
 * evaluations, the join of labels (every third line is one of the
 * [labels] log), the change detectors, and the results through every exposition (the text format,
 * OpenMetrics, the landing page and /status), a checkpoint of the
 * pipeline and its restore into a second one.  Nothing may crash, leak,
 * read out of bounds or grow past the configured limits.
 *
 * The input's lines end at its first NUL byte, if it has one; after it,
 * each 3 bytes damage the checkpoint: a byte at an offset (16 bits,
 * modulo its length) xored with the third.  Sealed with its CRC after
 * the damage, the checkpoint is restored into a third pipeline when it
 * passes state_verify() (a file that passes every check state_load()
 * makes, yet was not written so), which then reads the lines again.
 *
 * Two fixed configurations, read once through conf_parse() as the daemon
 * reads its file: a classifier that discovers `features` (small limits so
 * that they are reached), captures a reference of 4 records and keeps
 * event time; and a regression model with configured features, a
 * duration-bounded window and corrections.  Each input gets fresh
 * pipelines, so that a crash reproduces from its input alone.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"
#include "http.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "state.h"
#include "web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const configs[] = {
	"[model]\n"
	"name = fuzz\n"
	"class = prediction\n"
	"confidence = max(probabilities)\n"
	"latency = latency_ms\n"
	"timestamp = ts\n"
	"max_classes = 4\n"
	"id = id\n"
	"label = truth\n"
	"[labels]\n"
	"path = /nonexistent/labels.log\n"
	"id = id\n"
	"label = truth\n"
	"timestamp = at\n"
	"max_delay = 10s\n"
	"max_pending = 4\n"
	"[features]\n"
	"discover = features\n"
	"max_features = 6\n"
	"max_categories = 3\n"
	"[reference]\n"
	"capture = 4\n"
	"[window]\n"
	"size = 16\n"
	"min_samples = 2\n"
	"duration = 1h\n"
	"[drift]\n"
	"numeric = ks,psi,js,wasserstein\n"
	"categorical = chi2,psi,js\n"
	"bins = 3\n"
	"[change]\n"
	"columns = confidence, latency\n"
	"min_instances = 2\n"
	"threshold = 0.5\n",

	"[model]\n"
	"name = reg\n"
	"class =\n"
	"value = prediction\n"
	"confidence = confidence\n"
	"id = id\n"
	"[features]\n"
	"x = numeric\n"
	"features.\"a b\" = numeric\n"
	"c = categorical\n"
	"e = vector\n"
	"max_vector_dim = 8\n"
	"[labels]\n"
	"path = /nonexistent/labels.log\n"
	"max_pending = 3\n"
	"segment = c\n"
	"[reference]\n"
	"capture = 3\n"
	"[window]\n"
	"size = 8\n"
	"min_samples = 1\n"
	"[drift]\n"
	"numeric = ks,psi,wasserstein\n"
	"correction = fdr\n"
	"multivariate = mmd\n"
	"mmd_samples = 10\n"
	"mmd_permutations = 5\n"
	"[change]\n"
	"method = cusum\n"
	"columns = x, value, confidence\n"
	"min_instances = 1\n"
	"h = 0.5\n",
};

#define NCONFS (sizeof(configs) / sizeof(configs[0]))
#define MAX_LINES 64
/* Evaluate after every this many lines, so that windows move between
 * evaluations. */
#define EVAL_EVERY 16

static struct conf *confs[NCONFS];

/* Serve `path` from the registry as a client would get it. */
static void
serve(struct metrics_registry *reg, const struct conf *c,
    struct results *res, const char *path, const char *accept)
{
	struct web w;
	struct http_request req = { "GET", 0, path, "", accept, "" };
	struct http_response resp;

	memset(&w, 0, sizeof(w));
	w.registry = reg;
	w.conf = c;
	w.ready = 1;
	web_set_results(&w, res);
	while (!web_prepare(&w, 1))
		;
	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	web_handle(&req, &resp, &w);
	check(resp.status == 200);
	buf_free(&resp.headers);
	buf_free(&resp.body);
	http_body_unref(resp.shared);
	web_free(&w);
}

static void
expose(struct metrics_registry *reg, const struct conf *c,
    struct results *res)
{
	struct buf out = BUF_INIT;

	metrics_render(reg, METRICS_FORMAT_TEXT, &out);
	buf_reset(&out);
	metrics_render(reg, METRICS_FORMAT_OPENMETRICS, &out);
	buf_free(&out);
	serve(reg, c, res, "/", "");
	serve(reg, c, res, "/status", "");
}

/* The lines into pipeline g, evaluated as they go and at the end. */
static void
feed(struct ingest *g, const char *data, size_t size)
{
	const char *p = data, *end = data + size;
	int n;

	for (n = 0; n < MAX_LINES && p < end; n++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl != NULL ? nl : end;

		/* Every third line is a line of the [labels] log. */
		if (n % 3 == 2)
			(void)ingest_label_line(g, p, (size_t)(stop - p));
		else
			(void)ingest_line(g, p, (size_t)(stop - p));
		if (n % EVAL_EVERY == EVAL_EVERY - 1)
			ingest_evaluate(g);
		p = stop + 1;
	}
	ingest_evaluate(g);
}

/* Checkpoint `snap` damaged as `damage` says, restored (or refused) into
 * a new pipeline, which then reads the lines. */
static void
restore_damaged(const struct conf *c, const struct buf *snap,
    const uint8_t *damage, size_t ndamage, const char *data, size_t size)
{
	struct metrics_registry *reg;
	struct buf file = BUF_INIT, err = BUF_INIT;
	struct ingest *g;
	size_t i;

	buf_append(&file, snap->data, snap->len);
	for (i = 0; i + 3 <= ndamage && file.len > 0; i += 3)
		file.data[((size_t)damage[i] | (size_t)damage[i + 1] << 8) %
		    file.len] ^= (char)damage[i + 2];
	state_seal(&file);
	if (state_verify(&file) == 0) {
		reg = metrics_create();
		g = ingest_create(c, reg, &err);
		check(g != NULL);
		(void)ingest_restore(g, &file);
		ingest_evaluate(g);
		expose(reg, c, ingest_results(g));
		feed(g, data, size);
		expose(reg, c, ingest_results(g));
		ingest_destroy(g);
		metrics_destroy(reg);
	}
	buf_free(&file);
	buf_free(&err);
}

static void
run(const struct conf *c, const char *data, size_t size,
    const uint8_t *damage, size_t ndamage)
{
	struct metrics_registry *reg = metrics_create(), *reg2;
	struct buf err = BUF_INIT;
	struct state_writer snap;
	struct ingest *g = ingest_create(c, reg, &err), *g2;

	check(g != NULL);
	feed(g, data, size);
	expose(reg, c, ingest_results(g));

	/* A checkpoint of the pipeline, restored into a new one (as after
	 * a restart), evaluates and renders too. */
	ingest_snapshot(g, &snap);
	reg2 = metrics_create();
	g2 = ingest_create(c, reg2, &err);
	check(g2 != NULL);
	check(ingest_restore(g2, &snap.b) >= 0);
	ingest_evaluate(g2);
	expose(reg2, c, ingest_results(g2));
	if (damage != NULL)
		restore_damaged(c, &snap.b, damage, ndamage, data, size);

	state_writer_free(&snap);
	ingest_destroy(g2);
	metrics_destroy(reg2);
	ingest_destroy(g);
	metrics_destroy(reg);
	buf_free(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t i, lines = nul != NULL ? (size_t)(nul - data) : size;

	if (confs[0] == NULL) {
		log_init(LOG_LEVEL_ERROR);
		parse_configs(configs, NCONFS, confs);
	}
	for (i = 0; i < NCONFS; i++)
		run(confs[i], (const char *)data, lines,
		    nul != NULL ? nul + 1 : NULL,
		    nul != NULL ? size - lines - 1 : 0);
	return 0;
}
