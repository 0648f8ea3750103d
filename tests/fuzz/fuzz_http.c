/*
 * libFuzzer target for request handling: whatever a client sends on one
 * connection is parsed, routed and answered (every endpoint, content
 * negotiation, gzip) without a crash, a leak or an unbounded response.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "http.h"
#include "metrics.h"
#include "web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct metrics_desc descs[] = {
	{ "prediction_window_samples", METRICS_GAUGE, "Values.",
	    { "model", "column", NULL } },
	{ "prediction_drift_score", METRICS_GAUGE, "Score.",
	    { "model", "column", "test", NULL } },
	{ "driftd_log_lines_total", METRICS_COUNTER, "Lines.", { "input", NULL } },
};

static struct web *
setup(void)
{
	static struct web w;
	static struct metrics_registry *r;
	struct metrics_family *f[3];
	const char *c[] = { "m", "features.\"x<y>\"" };
	const char *t[] = { "m", "features.\"x<y>\"", "ks" };
	const char *in[] = { "/var/log/a\nb.log" };

	if (r != NULL)
		return &w;
	r = metrics_create();
	metrics_family_add_table(r, descs, 3, f);
	metrics_set(metrics_series_get(f[0], c), 10);
	metrics_set(metrics_series_get(f[1], t), 0.25);
	metrics_add(metrics_series_get(f[2], in), 3);
	w.registry = r;
	w.ready = 1;
	return &w;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct web *w = setup();
	struct buf out = BUF_INIT;

	http_serve_buffer((const char *)data, size, web_handle, w, &out);
	/* One response per request, each bounded by the registry's size. */
	if (out.len > size * 16384 + 65536)
		abort();
	buf_free(&out);
	return 0;
}
