/*
 * report.c - the drift report: one HTML page a person reads.
 *
 * Charts are inline SVG drawn here.  Colour is never the only cue: the
 * reference's bars are hatched outlines and the window's solid, verdicts
 * are words, the threshold is a dashed line.  The palette follows
 * prefers-color-scheme.  Every bar carries its proportion (data-p) and a
 * title that says it in words.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "util.h"

/* ------------------------------------------------------------- text */

/* At most `max` characters of `s` (more become an ellipsis). */
static void
escape_n(struct buf *b, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t left = strlen((const char *)p), chars = 0, n;

	while (left > 0) {
		if (chars++ == max) {
			buf_puts(b, "\xe2\x80\xa6");
			return;
		}
		n = util_utf8_len(p, left);
		if (n == 0) {
			buf_puts(b, "\xef\xbf\xbd");     /* U+FFFD */
			p++;
			left--;
			continue;
		}
		switch (*p) {
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '&': buf_puts(b, "&amp;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default: buf_append(b, (const char *)p, n); break;
		}
		p += n;
		left -= n;
	}
}

void
report_escape(struct buf *b, const char *s)
{
	escape_n(b, s, SIZE_MAX);
}

/* A name in running text, isolated from the text around it (a
 * right-to-left name must not reorder its neighbours). */
static void
name(struct buf *b, const char *s)
{
	buf_puts(b, "<bdi>");
	report_escape(b, s);
	buf_puts(b, "</bdi>");
}

static void
number(struct buf *b, double v)
{
	if (isnan(v))
		buf_puts(b, "&ndash;");
	else if (v == floor(v) && fabs(v) < 1e15)
		buf_printf(b, "%.0f", v);
	else
		buf_printf(b, "%.4g", v);
}

/* v with `decimals` (at most 9) digits after the point, without
 * printf: charts print thousands of coordinates. */
static void
fixed(struct buf *b, double v, int decimals)
{
	static const double scale[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
	    1e8, 1e9 };
	char tmp[32], *p = tmp + sizeof(tmp);
	unsigned long long u;
	int neg = v < 0, k;

	if (!(fabs(v) < 1e9)) {
		buf_printf(b, "%.*f", decimals, isfinite(v) ? v : 0.0);
		return;
	}
	u = (unsigned long long)llround(fabs(v) * scale[decimals]);
	neg = neg && u != 0;           /* no "-0.00" */
	for (k = 0; k < decimals; k++) {
		*--p = (char)('0' + u % 10);
		u /= 10;
	}
	if (decimals > 0)
		*--p = '.';
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (neg)
		*--p = '-';
	buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void
percent(struct buf *b, double v)
{
	if (isnan(v)) {
		buf_puts(b, "&ndash;");
		return;
	}
	fixed(b, 100 * v, 1);
	buf_putc(b, '%');
}

static const char *
verdict_class(double detected)
{
	return isnan(detected) ? "none" : detected != 0 ? "drift" : "ok";
}

static const char *
verdict_word(double detected)
{
	return isnan(detected) ? "not tested" : detected != 0 ? "drift" :
	    "no drift";
}

static int
is_pvalue_test(int t)
{
	return t == CONF_TEST_KS || t == CONF_TEST_CHI2;
}

/* ------------------------------------------------------------ order */

static int
rank(const struct results_column *c)
{
	return isnan(c->detected) ? 2 : c->detected != 0 ? 0 : 1;
}

void
report_order(const struct results *r, size_t *idx)
{
	size_t i, at = 0;
	int k;

	/* Three passes keep column order within each rank. */
	for (k = 0; k < 3; k++)
		for (i = 0; i < r->ncols; i++)
			if (rank(&r->cols[i]) == k)
				idx[at++] = i;
}

/* -------------------------------------------------------------- rows */

void
report_row(struct buf *b, const struct results *r, size_t i,
    double window_size, int has_card)
{
	const struct results_column *c = &r->cols[i];
	int t, any = 0;

	buf_puts(b, "<tr><td>");
	report_escape(b, c->name);
	buf_puts(b, "</td><td>");
	number(b, c->samples);
	if (!isnan(window_size)) {
		buf_puts(b, " / ");
		number(b, window_size);
	}
	buf_puts(b, "</td><td>");
	number(b, c->ref_samples);
	buf_puts(b, "</td><td>");
	number(b, c->missing_ratio);
	buf_puts(b, "</td><td>");
	number(b, c->mean);
	buf_puts(b, "</td><td>");
	number(b, c->std);
	buf_puts(b, "</td><td>");
	for (t = 0; t < CONF_TEST_COUNT; t++) {
		if (!c->t[t].on)
			continue;
		if (any++)
			buf_puts(b, "<br>");
		buf_printf(b, "%s ", conf_test_name((enum conf_test)t));
		number(b, c->t[t].score);
		if (!isnan(c->t[t].pvalue)) {
			buf_puts(b, " (p ");
			number(b, c->t[t].pvalue);
			buf_puts(b, ")");
		}
		buf_puts(b, " / ");
		number(b, c->t[t].threshold);
	}
	if (!any)
		buf_puts(b, "not tested");
	if (has_card)
		buf_printf(b, "</td><td class=\"%s\"><a href=\"#col-%zu\">%s"
		    "</a></td></tr>\n", verdict_class(c->detected), i,
		    verdict_word(c->detected));
	else
		buf_printf(b, "</td><td class=\"%s\">%s</td></tr>\n",
		    verdict_class(c->detected), verdict_word(c->detected));
}

/* ------------------------------------------------------------ charts */

/* The chart's frame, in SVG user units. */
#define CW 360.0            /* width */
#define CX0 36.0            /* plot area: left */
#define CX1 352.0           /*            right */
#define CY0 10.0            /*            top */
#define CY1 120.0           /*            bottom (the zero line) */

static void
bin_title(struct buf *b, const struct results_chart *ch, size_t k)
{
	if (ch->labels != NULL) {
		report_escape(b, ch->labels[k]);
	} else if (ch->n == 1) {
		buf_puts(b, "all values");
	} else if (k == 0) {
		buf_printf(b, "below %.6g", ch->edges[0]);
	} else if (k == ch->n - 1) {
		buf_printf(b, "%.6g and above", ch->edges[k - 1]);
	} else {
		buf_printf(b, "%.6g to %.6g", ch->edges[k - 1], ch->edges[k]);
	}
}

/* A bar of proportion p, up to its <title>. */
static void
bar(struct buf *b, const char *cls, double p, double x, double w, double h)
{
	buf_printf(b, "<rect class=\"%s\" data-p=\"", cls);
	fixed(b, p, 9);
	buf_puts(b, "\" x=\"");
	fixed(b, x, 2);
	buf_puts(b, "\" y=\"");
	fixed(b, CY1 - h, 3);
	buf_puts(b, "\" width=\"");
	fixed(b, w, 2);
	buf_puts(b, "\" height=\"");
	fixed(b, h, 3);
	buf_puts(b, "\"><title>");
}

static void
chart(struct buf *b, const struct results_column *c)
{
	const struct results_chart *ch = c->chart;
	int cat = ch->labels != NULL;
	double top = 0, slot, h = cat ? 190 : 150;
	size_t k, every;

	for (k = 0; k < ch->n; k++) {
		if (ch->ref[k] > top)
			top = ch->ref[k];
		if (ch->win[k] > top)
			top = ch->win[k];
	}
	if (!(top > 0))
		top = 1;
	slot = (CX1 - CX0) / (double)ch->n;
	buf_printf(b, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" "
	    "role=\"img\" aria-label=\"reference and window distributions\">",
	    CW, h);
	/* Axes: 0 and the top proportion. */
	buf_printf(b, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
	    "y2=\"%.1f\"/>", CX0, CY1, CX1, CY1);
	buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">0</text>",
	    CX0 - 4, CY1 + 3);
	buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f%%"
	    "</text>", CX0 - 4, CY0 + 3, 100 * top);
	buf_printf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
	    "y2=\"%.1f\"/>", CX0, CY0, CX1, CY0);
	for (k = 0; k < ch->n; k++) {
		double x = CX0 + slot * (double)k;
		double hr = ch->ref[k] / top * (CY1 - CY0);
		double hw = ch->win[k] / top * (CY1 - CY0);

		bar(b, "bar-ref", ch->ref[k], x + slot * 0.08, slot * 0.42, hr);
		bin_title(b, ch, k);
		buf_puts(b, ": reference ");
		percent(b, ch->ref[k]);
		buf_puts(b, "</title></rect>");
		bar(b, "bar-win", ch->win[k], x + slot * 0.5, slot * 0.42, hw);
		bin_title(b, ch, k);
		buf_puts(b, ": window ");
		percent(b, ch->win[k]);
		buf_puts(b, "</title></rect>");
	}
	/* The x axis: categories under their bars, or bin edges between
	 * them (some of them, when there are many). */
	if (cat) {
		for (k = 0; k < ch->n; k++) {
			double x = CX0 + slot * ((double)k + 0.5);

			buf_printf(b, "<text class=\"cat\" transform=\"translate("
			    "%.1f %.1f) rotate(-50)\" text-anchor=\"end\">",
			    x + 3, CY1 + 10);
			escape_n(b, ch->labels[k], 16);
			buf_puts(b, "</text>");
		}
	} else {
		every = ch->n <= 6 ? 1 : (ch->n + 5) / 6;
		for (k = 0; k + 1 < ch->n; k++) {
			if (k % every != 0)
				continue;
			buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" "
			    "text-anchor=\"middle\">%.3g</text>",
			    CX0 + slot * (double)(k + 1), CY1 + 13,
			    ch->edges[k]);
		}
		buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
		    "bin edges (PSI bins, from the reference's quantiles)"
		    "</text>", (CX0 + CX1) / 2, CY1 + 28);
	}
	buf_puts(b, "</svg><p class=\"legend\"><span class=\"key key-ref\">"
	    "</span>reference <span class=\"key key-win\"></span>window "
	    "(share of values per bin)</p>");
}

/* The value a sparkline plots: -log10 p for p-value tests (larger is
 * more drift, as for scores). */
static double
plotted(int test, double v)
{
	if (isnan(v))
		return NAN;
	if (is_pvalue_test(test))
		return v > 1e-30 ? -log10(v) : 30;   /* beyond: off the scale */
	return v;
}

static void
sparkline(struct buf *b, const struct results_column *c)
{
	int t = c->decide;
	double thr = plotted(t, c->t[t].threshold), top = thr, v;
	size_t n = c->nhistory, npts = n < REPORT_SPARK_POINTS ? n :
	    REPORT_SPARK_POINTS, k, j;
	double pts[REPORT_SPARK_POINTS];
	int open = 0;

	/* The largest value of each run of history, so a spike shows. */
	for (k = 0; k < npts; k++) {
		size_t from = k * n / npts, to = (k + 1) * n / npts;

		pts[k] = NAN;
		for (j = from; j < to; j++) {
			v = plotted(t, c->history[j]);
			if (!isnan(v) && (isnan(pts[k]) || v > pts[k]))
				pts[k] = v;
		}
		if (!isnan(pts[k]) && !(pts[k] <= top))
			top = pts[k];
	}
	if (!(top > 0))
		top = 1;
	top *= 1.1;
	buf_puts(b, "<svg class=\"spark\" viewBox=\"0 0 360 56\" role=\"img\" "
	    "aria-label=\"the deciding test over the last evaluations\">");
	if (!isnan(thr))
		buf_printf(b, "<line class=\"thr\" x1=\"0\" y1=\"%.2f\" "
		    "x2=\"360\" y2=\"%.2f\"><title>threshold %.4g</title>"
		    "</line>", 52 - thr / top * 48, 52 - thr / top * 48,
		    c->t[t].threshold);
	for (k = 0; k < npts; k++) {
		double x = npts > 1 ? 2 + 356.0 * (double)k /
		    (double)(npts - 1) : 180;

		if (isnan(pts[k])) {
			if (open)
				buf_puts(b, "\"/>");
			open = 0;
			continue;
		}
		buf_puts(b, open ? " " : "<polyline class=\"line\" points=\"");
		fixed(b, x, 1);
		buf_putc(b, ',');
		fixed(b, 52 - pts[k] / top * 48, 2);
		open = 1;
	}
	if (open)
		buf_puts(b, "\"/>");
	if (npts > 0 && !isnan(pts[npts - 1]))
		buf_printf(b, "<circle class=\"now\" cx=\"%.1f\" cy=\"%.2f\" "
		    "r=\"2.5\"/>", npts > 1 ? 358.0 : 180.0,
		    52 - pts[npts - 1] / top * 48);
	buf_puts(b, "</svg>");
	buf_printf(b, "<p class=\"legend\">%s%s over the last %zu "
	    "evaluation%s; dashed: the threshold</p>",
	    conf_test_name((enum conf_test)t),
	    is_pvalue_test(t) ? " &minus;log<sub>10</sub> p" : " score", n,
	    n == 1 ? "" : "s");
}

/* ------------------------------------------------------------- cards */

void
report_card(struct buf *b, const struct results *r, size_t i,
    double min_samples)
{
	const struct results_column *c = &r->cols[i];
	const char *cls = verdict_class(c->detected);
	int t;

	buf_printf(b, "<section class=\"card %s\" id=\"col-%zu\"><h3>", cls, i);
	name(b, c->name);
	buf_printf(b, " <span class=\"badge %s\">%s</span></h3>\n"
	    "<p class=\"meta\">%s%s &middot; window ", cls,
	    verdict_word(c->detected),
	    c->kind == CONF_NUMERIC ? "numeric" : c->kind == CONF_VECTOR ?
	    "vector" : "categorical",
	    c->is_feature ? "" : " (not a feature)");
	number(b, c->samples);
	buf_puts(b, " values &middot; reference ");
	number(b, c->ref_samples);
	buf_puts(b, " &middot; missing ");
	percent(b, c->missing_ratio);
	if (c->kind == CONF_NUMERIC) {
		buf_puts(b, " &middot; mean ");
		number(b, c->mean);
		buf_puts(b, ", stddev ");
		number(b, c->std);
	}
	buf_puts(b, "</p>\n");
	if (c->decide < 0) {
		buf_puts(b, "<p class=\"why\">Not tested: ");
		if (isnan(c->ref_samples))
			buf_puts(b, "the reference has no values for it.");
		else {
			buf_puts(b, "window and reference need ");
			number(b, min_samples);
			buf_puts(b, " values each (min_samples).");
		}
		buf_puts(b, "</p></section>\n");
		return;
	}
	buf_puts(b, "<div class=\"table-wrap\"><table class=\"tests\"><tr>"
	    "<th>test</th><th>score</th><th>p-value</th><th>threshold</th>"
	    "</tr>\n");
	for (t = 0; t < CONF_TEST_COUNT; t++) {
		if (!c->t[t].on)
			continue;
		buf_printf(b, "<tr%s><td>%s%s</td><td>", t == c->decide ?
		    " class=\"decides\"" : "", conf_test_name((enum conf_test)t),
		    t == c->decide ? " (decides)" : "");
		number(b, c->t[t].score);
		buf_puts(b, "</td><td>");
		number(b, c->t[t].pvalue);
		buf_puts(b, "</td><td>");
		number(b, c->t[t].threshold);
		buf_puts(b, "</td></tr>\n");
	}
	buf_puts(b, "</table></div>\n");
	if (c->chart != NULL && c->chart->n > 0)
		chart(b, c);
	if (c->nhistory > 1 && c->t[c->decide].on)
		sparkline(b, c);
	buf_puts(b, "</section>\n");
}

/* -------------------------------------------------------------- page */

static const char style[] =
	":root{color-scheme:light dark;--bg:#f7f7f5;--fg:#1d1d1f;"
	"--muted:#66666d;--line:#deded9;--card:#fff;--ref:#80858f;"
	"--win:#2c6bd6;--drift:#b3261e;--drift-bg:#fcebe9;--ok:#1d7a3a;"
	"--ok-bg:#e7f4eb}"
	"@media (prefers-color-scheme:dark){:root{--bg:#141416;--fg:#ececef;"
	"--muted:#a3a3ab;--line:#323238;--card:#1d1d21;--ref:#a0a6b0;"
	"--win:#78a6ff;--drift:#ff8d80;--drift-bg:#3a1e1b;--ok:#82d69d;"
	"--ok-bg:#17301f}}"
	"*{box-sizing:border-box}"
	"body{margin:0;background:var(--bg);color:var(--fg);"
	"font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif}"
	"main{max-width:1240px;margin:0 auto;padding:1.25rem 1rem 3rem}"
	"h1{font-size:1.35rem;margin:.2rem 0 .8rem}"
	"h2{font-size:1.1rem;margin:2rem 0 .6rem}"
	"h3{font-size:1rem;margin:0 0 .3rem;overflow-wrap:anywhere}"
	"a{color:inherit}"
	".verdict{border:1px solid var(--line);border-radius:10px;"
	"padding:.9rem 1.1rem;background:var(--card)}"
	".verdict.drift{background:var(--drift-bg);border-color:var(--drift)}"
	".verdict.ok{background:var(--ok-bg);border-color:var(--ok)}"
	".verdict p{margin:.2rem 0}"
	".meta,.legend,.why{color:var(--muted);font-size:.85rem}"
	"nav{margin:.8rem 0 0}"
	".table-wrap{overflow-x:auto}"
	"table{border-collapse:collapse;width:100%;"
	"font-variant-numeric:tabular-nums}"
	"th,td{padding:.3rem .55rem;border-bottom:1px solid var(--line);"
	"text-align:right;white-space:nowrap}"
	"th{font-weight:600;color:var(--muted)}"
	"th:first-child,td:first-child{text-align:left}"
	"td:first-child{white-space:normal;overflow-wrap:anywhere;min-width:8em}"
	"td.drift{color:var(--drift);font-weight:600}"
	"td.ok{color:var(--ok)}"
	".badge{display:inline-block;padding:0 .5em;border-radius:999px;"
	"font-size:.78rem;font-weight:600;border:1px solid currentColor;"
	"vertical-align:2px}"
	".badge.drift{color:var(--drift)}.badge.ok{color:var(--ok)}"
	".badge.none{color:var(--muted)}"
	".cards{display:grid;gap:1rem;"
	"grid-template-columns:repeat(auto-fill,minmax(min(100%,370px),1fr))}"
	".card{background:var(--card);border:1px solid var(--line);"
	"border-radius:10px;padding:.9rem 1rem;min-width:0}"
	".card.drift{border-left:4px solid var(--drift)}"
	".tests td,.tests th{padding:.2rem .4rem;font-size:.85rem}"
	"tr.decides td{font-weight:600}"
	"svg{display:block;width:100%;height:auto;margin-top:.6rem}"
	"svg text{fill:var(--muted);font-size:10px}"
	".axis{stroke:var(--muted)}.grid{stroke:var(--line);stroke-dasharray:2 3}"
	".bar-ref{fill:url(#hatch);stroke:var(--ref);stroke-width:1}"
	".bar-win{fill:var(--win)}"
	".line{fill:none;stroke:var(--win);stroke-width:1.6}"
	".now{fill:var(--win)}"
	".thr{stroke:var(--drift);stroke-dasharray:5 3;stroke-width:1.2}"
	".hatch{stroke:var(--ref);stroke-width:1.2}"
	".legend{margin:.2rem 0 0}"
	".key{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 .6em;"
	"vertical-align:-1px;border:1px solid var(--ref)}"
	".key-ref{background:repeating-linear-gradient(45deg,var(--ref) 0 1px,"
	"transparent 1px 4px)}"
	".key-win{background:var(--win);border-color:var(--win)}"
	"@media (max-width:600px){main{padding:.8rem .6rem 2rem}"
	"th,td{padding:.25rem .35rem}}";

static void
header(struct buf *b, const struct report_info *info, const struct results *r)
{
	const char *cls = isnan(r->dataset) ? "none" : r->dataset != 0 ?
	    "drift" : "ok";

	buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"viewport\" "
	    "content=\"width=device-width,initial-scale=1\">"
	    "<meta name=\"color-scheme\" content=\"light dark\"><title>");
	if (info->note != NULL && r->dataset == 1)
		buf_puts(b, "Drift: ");
	buf_puts(b, "driftd");
	if (info->model != NULL) {
		buf_puts(b, " &middot; ");
		report_escape(b, info->model);
	}
	buf_printf(b, "</title><style>%s</style></head><body>\n", style);
	/* The reference's hatching, once for every chart of the page. */
	buf_puts(b, "<svg width=\"0\" height=\"0\" style=\"position:absolute\" "
	    "aria-hidden=\"true\"><defs><pattern id=\"hatch\" width=\"4\" "
	    "height=\"4\" patternUnits=\"userSpaceOnUse\" "
	    "patternTransform=\"rotate(45)\"><line class=\"hatch\" x1=\"0\" "
	    "y1=\"0\" x2=\"0\" y2=\"4\"/></pattern></defs></svg>\n<main>\n");
	buf_puts(b, "<h1>driftd ");
	report_escape(b, info->version);
	buf_puts(b, "</h1>\n");
	buf_printf(b, "<div class=\"verdict %s\"><p>", cls);
	if (info->model != NULL) {
		buf_puts(b, "Model <b id=\"model\">");
		report_escape(b, info->model);
		buf_puts(b, "</b>: ");
		number(b, info->records);
		buf_puts(b, " records. ");
	}
	buf_puts(b, "Dataset drift: <b id=\"dataset-drift\">");
	buf_puts(b, isnan(r->dataset) ? "not evaluated yet" :
	    r->dataset != 0 ? "yes" : "no");
	buf_puts(b, "</b>");
	if (!isnan(r->drifted)) {
		buf_puts(b, " (");
		number(b, r->drifted);
		buf_puts(b, " columns drifted)");
	}
	buf_puts(b, ".</p>");
	if (!isnan(r->tested)) {
		buf_puts(b, "<p>");
		number(b, r->drifted);
		buf_puts(b, " of ");
		number(b, r->tested);
		buf_puts(b, " tested features drift (");
		percent(b, r->ratio);
		buf_puts(b, "); the dataset drifts from ");
		percent(b, r->dataset_share);
		buf_puts(b, ".</p>");
	}
	buf_puts(b, "<p class=\"meta\">");
	if (!isnan(r->time)) {
		char when[64];
		time_t t = (time_t)r->time;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		buf_printf(b, "Evaluated %s. ", when);
	}
	buf_puts(b, "Reference: ");
	report_escape(b, r->ref_source != NULL ? r->ref_source : "none");
	if (r->ref_sha != NULL) {
		buf_puts(b, " (sha256 ");
		buf_append(b, r->ref_sha, strlen(r->ref_sha) < 12 ?
		    strlen(r->ref_sha) : 12);
		buf_puts(b, "&hellip;)");
	}
	buf_puts(b, ".</p></div>\n");
}

static void
inputs(struct buf *out, const struct report_info *info)
{
	size_t i;

	if (info->nin == 0)
		return;
	buf_puts(out, "<h2>Inputs</h2>\n<div class=\"table-wrap\">"
	    "<table id=\"inputs\"><tr><th>input</th><th>lines</th>"
	    "<th>bytes</th><th>bad JSON</th><th>too long</th>"
	    "<th>rotations</th><th>lag (bytes)</th></tr>\n");
	for (i = 0; i < info->nin; i++) {
		const struct tail_input_info *in = &info->in[i];

		buf_puts(out, "<tr><td>");
		report_escape(out, in->path);
		buf_puts(out, "</td><td>");
		number(out, in->lines);
		buf_puts(out, "</td><td>");
		number(out, in->bytes);
		buf_puts(out, "</td><td>");
		number(out, in->json_errors);
		buf_puts(out, "</td><td>");
		number(out, in->too_long);
		buf_puts(out, "</td><td>");
		number(out, in->rotations);
		buf_puts(out, "</td><td>");
		number(out, in->lag_bytes);
		buf_puts(out, "</td></tr>\n");
	}
	buf_puts(out, "</table></div>\n");
}

static void
nav(struct buf *out, const struct report_info *info)
{
	buf_puts(out, "<nav class=\"meta\">");
	if (info->note != NULL)
		report_escape(out, info->note);
	else
		buf_puts(out, "<a href=\"/metrics\">/metrics</a> &middot; "
		    "<a href=\"/status\">/status</a> &middot; "
		    "<a href=\"/reports/\">saved reports</a> &middot; "
		    "<a href=\"/-/healthy\">/-/healthy</a> &middot; "
		    "<a href=\"/-/ready\">/-/ready</a>");
	buf_puts(out, "</nav>\n");
}

void
report_page_head(struct buf *out, const struct report_info *info,
    const struct results *r)
{
	header(out, info, r);
	nav(out, info);
	inputs(out, info);
	buf_puts(out, "<h2>Drift by column</h2>\n"
	    "<div class=\"table-wrap\"><table id=\"columns\"><tr>"
	    "<th>column</th><th>window</th><th>reference</th><th>missing</th>"
	    "<th>mean</th><th>stddev</th>"
	    "<th>tests: score (p-value) / threshold</th><th>drift</th></tr>\n");
}

void
report_cards_begin(struct buf *out, const struct results *r)
{
	buf_puts(out, "</table></div>\n<h2>Columns</h2>\n");
	if (r->ncols > REPORT_MAX_CARDS)
		buf_printf(out, "<p class=\"meta\">The first %d of %zu columns, "
		    "drifting ones first; the table above and "
		    "<a href=\"/status\">/status</a> have them all.</p>\n",
		    REPORT_MAX_CARDS, r->ncols);
	buf_puts(out, "<div class=\"cards\">\n");
}

void
report_page_end(struct buf *out)
{
	buf_puts(out, "</div>\n</main></body></html>\n");
}

void
report_render(struct buf *out, const struct report_info *info,
    const struct results *r)
{
	size_t *idx = xcalloc(r->ncols + 1, sizeof(size_t)), i;

	report_order(r, idx);
	report_page_head(out, info, r);
	for (i = 0; i < r->ncols; i++)
		report_row(out, r, idx[i], info->window_size,
		    i < REPORT_MAX_CARDS);
	report_cards_begin(out, r);
	for (i = 0; i < r->ncols && i < REPORT_MAX_CARDS; i++)
		report_card(out, r, idx[i], info->min_samples);
	report_page_end(out);
	free(idx);
}
