/*
 * main.c - command line, start-up, timers, checkpoints and shutdown.
 *
 * main() reads the command line and the configuration, then runs
 * --check-config, --once or the daemon.  daemon_run() starts, in order:
 * the event loop, the systemd notification socket, the metrics registry
 * (driftd's own series, the process collector, the driftd_log_*
 * families), the pipeline (ingest: parser, columns, reference, windows,
 * drift evaluator), the pages and the HTTP server, the signal handlers,
 * the checkpoint restored into the pipeline, the follower (tail) and the
 * checkpoint of where it starts, the checkpoint and evaluation timers and
 * the systemd timer.  daemon_stop() writes a final checkpoint, then
 * closes the handles in the reverse order; the end of daemon_run() frees
 * what remains, again in reverse.  A reload (SIGHUP) is reload.c's.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "procstat.h"
#include "replay.h"
#include "report.h"
#include "reports.h"
#include "state.h"
#include "tail.h"
#include "util.h"
#include "web.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

static const struct metrics_desc main_metrics[DAEMON_M_COUNT] = {
	[DAEMON_M_BUILD_INFO] = { "driftd_build_info", METRICS_GAUGE,
	    "A metric with a constant '1' value labelled by the driftd version.",
	    { "version", NULL } },
	[DAEMON_M_RELOAD_OK] = { "driftd_config_last_reload_successful", METRICS_GAUGE,
	    "Whether the last configuration reload attempt was successful.",
	    { NULL } },
	[DAEMON_M_CHECKPOINTS] = { "driftd_checkpoints_total", METRICS_COUNTER,
	    "Checkpoints written to state_dir.", { NULL } },
	[DAEMON_M_CHECKPOINT_ERRORS] = { "driftd_checkpoint_errors_total",
	    METRICS_COUNTER, "Checkpoints that could not be written.", { NULL } },
	[DAEMON_M_CHECKPOINT_TIME] = { "driftd_checkpoint_last_success_timestamp_seconds",
	    METRICS_GAUGE, "When the last checkpoint was written.", { NULL } },
	[DAEMON_M_CHECKPOINT_DISCARDED] = { "driftd_checkpoint_discarded_total",
	    METRICS_COUNTER, "Checkpoints, or parts of one, found unusable at "
	    "start-up: what they held was lost.", { NULL } },
	[DAEMON_M_REPORTS_SAVED] = { "driftd_reports_saved_total",
	    METRICS_COUNTER, "Reports saved to state_dir/reports when the "
	    "dataset's verdict turned to drift.", { NULL } },
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: driftd [-c FILE] [--listen ADDR] [--state-dir DIR] [-v]\n"
	    "       driftd --check-config [-c FILE]\n"
	    "       driftd --once [--report HTML] [-c FILE] [LOGFILE...]\n"
	    "       driftd --once --step DURATION [--format openmetrics|csv]\n"
	    "              [-c FILE] [LOGFILE...]\n"
	    "       driftd --version | --help\n"
	    "\n"
	    "  -c, --config FILE     configuration file (default %s)\n"
	    "      --listen ADDR     serve HTTP on ADDR (HOST:PORT, :PORT, [V6]:PORT)\n"
	    "      --state-dir DIR   keep checkpoints in DIR\n"
	    "  -v, --verbose         log at debug level\n"
	    "      --check-config    validate the configuration, print it, exit\n"
	    "      --once            read the logs to their end, print the metrics, exit\n"
	    "                        (LOGFILEs replace [input] path; - is stdin)\n"
	    "      --report HTML     with --once: also write the drift report to HTML\n"
	    "      --step DURATION   with --once: replay the logs as history, one\n"
	    "                        evaluation per DURATION of event time\n"
	    "      --format FORMAT   with --step: openmetrics (default) or csv\n"
	    "      --version         print the version and exit\n"
	    "  -h, --help            print this help and exit\n"
	    "\n"
	    "See driftd(8) and driftd.conf(5).\n", CONF_DEFAULT_PATH);
}

/* Apply command-line overrides to a freshly loaded configuration. */
static int
apply_overrides(struct conf *c, const struct options *o)
{
	char host[64];
	int port;

	if (o->listen != NULL) {
		if (conf_parse_listen(o->listen, host, sizeof(host), &port) != 0) {
			log_error("--listen: expected HOST:PORT, :PORT or "
			    "[IPV6]:PORT, got \"%s\"", o->listen);
			return -EINVAL;
		}
		free(c->listen);
		c->listen = xstrdup(o->listen);
	}
	if (o->state_dir != NULL) {
		free(c->state_dir);
		c->state_dir = xstrdup(o->state_dir);
	}
	if (o->verbose)
		c->log_level = LOG_LEVEL_DEBUG;
	return 0;
}

int
daemon_load_config(const struct options *o, struct conf **out,
    struct buf *why)
{
	struct buf errors = BUF_INIT;
	int r;

	r = conf_load(o->conf_path, out, &errors);
	if (r != 0) {
		/* Each line is already "FILE:LINE: message".  --check-config
		 * prints them bare, as compilers do; the daemon logs them. */
		char *line = errors.data, *nl;

		while (line != NULL && *line != '\0') {
			nl = strchr(line, '\n');
			if (nl != NULL)
				*nl = '\0';
			if (o->check_config)
				fprintf(stderr, "%s\n", line);
			else
				log_error("%s", line);
			if (why != NULL)
				buf_printf(why, "%s\n", line);
			line = nl != NULL ? nl + 1 : NULL;
		}
		buf_free(&errors);
		return r;
	}
	buf_free(&errors);
	r = apply_overrides(*out, o);
	if (r != 0) {
		conf_free(*out);
		*out = NULL;
	}
	return r;
}

static void
on_handle_closed(uv_handle_t *h)
{
	(void)h;
}


/* The line callback tail calls; it forwards to the ingest in force, which
 * a reload may replace. */
static enum tail_line_result
on_line(void *arg, const char *line, size_t len)
{
	struct daemon *d = arg;
	enum tail_line_result r = ingest_line(d->ingest, line, len);

	/* The window's figures are shown from the first value on: the
	 * first record in the window brings an evaluation forward. */
	if (d->first_pending && ingest_window_records(d->ingest) > 0) {
		d->first_pending = 0;
		if (!uv_is_active((uv_handle_t *)&d->eval_idle))
			daemon_begin_evaluation(d);
	}
	return r;
}

/* The line callback of the [labels] logs' follower. */
static enum tail_line_result
on_label_line(void *arg, const char *line, size_t len)
{
	struct daemon *d = arg;

	return ingest_label_line(d->ingest, line, len);
}

void
daemon_tail_options(const struct conf *c, int labels, struct tail_options *o)
{
	const struct conf_strings *in = labels ? &c->labels_inputs : &c->inputs;

	o->inputs = (const char *const *)in->v;
	o->ninputs = in->n;
	o->start_at_beginning = c->start_at == CONF_START_BEGINNING;
	o->rotate_wait_ms = c->rotate_wait_ms;
	o->poll_interval_ms = c->poll_interval_ms;
	o->max_line_bytes = (size_t)c->max_line_bytes;
}

/* How a checkpoint went: counted, and said when it failed. */
static void
checkpoint_done(void *arg, int r)
{
	struct daemon *d = arg;

	if (r != 0) {
		log_error("%s: cannot write checkpoint: %s", d->conf->state_dir,
		    uv_strerror(r));
		metrics_add(d->m[DAEMON_M_CHECKPOINT_ERRORS], 1);
		d->checkpoint_failed = 1;
		return;
	}
	d->checkpoint_failed = 0;
	metrics_add(d->m[DAEMON_M_CHECKPOINTS], 1);
	metrics_set(d->m[DAEMON_M_CHECKPOINT_TIME], util_now());
	log_debug("checkpoint written");
}

/*
 * The memory of the next checkpoint, made ready in the thread pool: a
 * checkpoint taken into fresh memory would fault in every page on the
 * loop (about 100 ms for 220 MB), so the spare buffer is grown to the
 * size of the full windows and touched ahead, while nothing is written.
 */
struct prefault {
	uv_work_t req;
	struct daemon *d;
	struct buf b;
	size_t want;
};

static void
prefault_work(uv_work_t *req)
{
	struct prefault *p = req->data;

	buf_reserve(&p->b, p->want);
	memset(p->b.data, 0, p->b.cap);
}

static void
prefault_done(uv_work_t *req, int status)
{
	struct prefault *p = req->data;
	struct daemon *d = p->d;

	(void)status;
	d->checkpoint_busy = 0;
	buf_free(&d->checkpoint_spare);
	d->checkpoint_spare = p->b;
	buf_reset(&d->checkpoint_spare);
	free(p);
}

/* Keep a checkpoint's memory for the next one, grown ahead (in the
 * thread pool) if the windows may need more. */
static void
keep_spare(struct daemon *d, struct buf *spent)
{
	size_t want = ingest_checkpoint_bytes(d->ingest);

	buf_free(&d->checkpoint_spare);
	d->checkpoint_spare = *spent;
	memset(spent, 0, sizeof(*spent));
	if (d->checkpoint_spare.cap < want && !d->stopping &&
	    !d->checkpoint_busy) {
		struct prefault *p = xcalloc(1, sizeof(*p));

		p->req.data = p;
		p->d = d;
		p->b = d->checkpoint_spare;
		p->b.len = 0;
		p->want = want;
		memset(&d->checkpoint_spare, 0, sizeof(d->checkpoint_spare));
		if (uv_queue_work(&d->loop, &p->req, prefault_work,
		    prefault_done) == 0) {
			d->checkpoint_busy = 1;     /* until it is ready */
		} else {
			d->checkpoint_spare = p->b;
			free(p);
		}
	}
}

/* A checkpoint written in the thread pool. */
static void
checkpoint_written(void *arg, int r, struct buf *spent)
{
	struct daemon *d = arg;

	d->checkpoint_busy = 0;
	checkpoint_done(d, r);
	keep_spare(d, spent);
}

/*
 * Take a checkpoint of read positions and the pipeline to state_dir:
 * every line before the positions has been processed, since lines are
 * handled as they are cut, and none after.  Taking it is done here, on
 * the loop; writing it, with `background`, in the thread pool (one at a
 * time: the periodic ones), else now (start-up, reload, shutdown, where
 * what follows relies on it being on disk).
 */
void
daemon_checkpoint(struct daemon *d, int background)
{
	struct state_writer w;
	struct daemon_positions p;
	int r;

	if (d->conf->state_dir[0] == '\0' || d->tail == NULL)
		return;
	if (background && d->checkpoint_busy)
		return;          /* the last one is still being written */
	daemon_save_positions(d, &p);
	state_writer_reuse(&w, &d->checkpoint_spare);
	tail_state_save(&w, &p.inputs, STATE_TAG_TAIL);
	if (d->labels_tail != NULL)
		tail_state_save(&w, &p.labels, STATE_TAG_LABELS_TAIL);
	daemon_positions_free(&p);
	ingest_save(d->ingest, &w);
	if (background) {
		r = state_save_async(&d->loop, d->conf->state_dir, &w,
		    checkpoint_written, d);
		if (r == 0)
			d->checkpoint_busy = 1;
		else
			checkpoint_done(d, r);
	} else {
		checkpoint_done(d, state_save(d->conf->state_dir, &w));
		keep_spare(d, &w.b);
	}
	state_writer_free(&w);
}

static void
on_checkpoint_timer(uv_timer_t *h)
{
	daemon_checkpoint(h->data, 1);
}

/* An evaluation proceeds in slices of about this much work (a column is
 * never split), so that reading logs and answering scrapes wait little. */
#define EVAL_SLICE_SECONDS 0.0005

static void
report_saved(void *arg, int r, const char *name)
{
	struct daemon *d = arg;

	if (r != 0) {
		log_error("%s/%s: cannot save the report: %s",
		    d->conf->state_dir, REPORTS_DIR, strerror(-r));
		return;
	}
	metrics_add(d->m[DAEMON_M_REPORTS_SAVED], 1);
	log_info("dataset drift: report saved as %s/%s/%s", d->conf->state_dir,
	    REPORTS_DIR, name);
}

/* The results of an evaluation are ready to show: when the dataset's
 * verdict turned to drift with it, its report is saved. */
static void
evaluated(struct daemon *d)
{
	const struct results *r = d->web.results;
	struct buf html = BUF_INIT;

	if (d->report_checked == d->web.prepared)
		return;
	d->report_checked = d->web.prepared;
	if (r == NULL || !r->entered_drift || d->conf->state_dir[0] == '\0' ||
	    d->conf->report_keep == 0)
		return;
	web_report(&d->web, &html, "Saved by driftd when the dataset's "
	    "verdict turned to drift.");
	if (reports_save_async(&d->loop, d->conf->state_dir, r->time, &html,
	    (size_t)d->conf->report_keep, report_saved, d) != 0)
		log_error("cannot save the report: no thread available");
	buf_free(&html);
}

static void on_eval_idle(uv_idle_t *h);

void
daemon_begin_evaluation(struct daemon *d)
{
	ingest_begin_evaluation(d->ingest);
	uv_idle_start(&d->eval_idle, on_eval_idle);
}

static void
on_eval_idle(uv_idle_t *h)
{
	struct daemon *d = h->data;

	/* The evaluation, then the pages' rendering of its results, each
	 * in slices. */
	if (ingest_evaluating(d->ingest)) {
		if (!ingest_step(d->ingest, EVAL_SLICE_SECONDS))
			return;
		web_set_results(&d->web, ingest_results(d->ingest));
	}
	if (!web_prepare(&d->web, EVAL_SLICE_SECONDS))
		return;
	uv_idle_stop(h);
	evaluated(d);
	if (d->eval_again && !d->stopping) {
		d->eval_again = 0;
		daemon_begin_evaluation(d);
	}
}

void
daemon_finish_evaluation(struct daemon *d)
{
	int again = d->eval_again;

	d->eval_again = 0;
	while (uv_is_active((uv_handle_t *)&d->eval_idle))
		on_eval_idle(&d->eval_idle);
	d->eval_again = again;
}

static void
on_eval_timer(uv_timer_t *h)
{
	struct daemon *d = h->data;

	if (ingest_evaluating(d->ingest) || uv_is_active((uv_handle_t *)
	    &d->eval_idle))
		return;          /* the last one is still going */
	daemon_begin_evaluation(d);
}

/* POST /-/evaluate: an evaluation that starts now, or right after the
 * one under way (which may have read its windows already). */
static uint64_t
lifecycle_evaluate(void *arg)
{
	struct daemon *d = arg;

	if (uv_is_active((uv_handle_t *)&d->eval_idle)) {
		d->eval_again = 1;
		return d->web.prepared + 2;
	}
	daemon_begin_evaluation(d);
	return d->web.prepared + 1;
}

static int
lifecycle_reload(void *arg, struct buf *why)
{
	return daemon_reload(arg, why);
}

void
daemon_start_timers(struct daemon *d)
{
	uint64_t every = d->conf->checkpoint_interval_ms;

	/* A reload keeps the checkpoint that is due: frequent reloads must
	 * not put it off. */
	if (uv_is_active((uv_handle_t *)&d->checkpoint_timer))
		uv_timer_set_repeat(&d->checkpoint_timer, every);
	else
		uv_timer_start(&d->checkpoint_timer, on_checkpoint_timer,
		    every, every);
	uv_timer_start(&d->eval_timer, on_eval_timer,
	    d->conf->evaluate_every_ms, d->conf->evaluate_every_ms);
}

/* A checkpoint that cannot be used: say at error level what is lost,
 * and count it. */
static void
checkpoint_lost(struct daemon *d, const char *what)
{
	log_error("%s: %s; the windows it held are lost, and files are read "
	    "from where start_at (%s) says, as if followed for the first time",
	    d->conf->state_dir, what,
	    d->conf->start_at == CONF_START_BEGINNING ? "beginning" : "end");
	metrics_add(d->m[DAEMON_M_CHECKPOINT_DISCARDED], 1);
}

void
daemon_save_positions(const struct daemon *d, struct daemon_positions *p)
{
	memset(p, 0, sizeof(*p));
	if (d->tail != NULL)
		tail_save_state(d->tail, &p->inputs);
	if (d->labels_tail != NULL)
		tail_save_state(d->labels_tail, &p->labels);
}

void
daemon_positions_free(struct daemon_positions *p)
{
	tail_state_free(&p->inputs);
	tail_state_free(&p->labels);
}

/* Restore what an earlier run saved, if anything: the windows and a
 * capture into the pipeline, and the followers' states into `ps`. */
static void
restore_checkpoint(struct daemon *d, struct daemon_positions *ps)
{
	struct tail_state *ts = &ps->inputs;
	struct buf file = BUF_INIT;
	const char *dir = d->conf->state_dir;
	long w;
	int r;

	memset(ps, 0, sizeof(*ps));
	if (dir[0] == '\0')
		return;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		log_warn("%s: cannot create: %s", dir, strerror(errno));
	r = state_load(dir, &file);
	if (r == -ENOENT) {
		log_info("%s: no checkpoint yet", dir);
		return;
	}
	if (r == -EBADMSG) {
		checkpoint_lost(d, "the checkpoint is damaged (set aside)");
		return;
	}
	if (r != 0) {
		log_error("%s: cannot read checkpoint: %s", dir, uv_strerror(r));
		checkpoint_lost(d, "the checkpoint cannot be read");
		return;
	}
	r = tail_state_load(&file, STATE_TAG_TAIL, ts);
	if (r == -EBADMSG ||
	    tail_state_load(&file, STATE_TAG_LABELS_TAIL, &ps->labels) ==
	    -EBADMSG) {
		checkpoint_lost(d, "the checkpoint's file positions are "
		    "unreadable");
		daemon_positions_free(ps);
		buf_free(&file);
		return;
	}
	w = ingest_restore(d->ingest, &file);
	if (w < 0) {
		log_error("%s: the checkpoint's windows are unreadable; they "
		    "start empty", dir);
		metrics_add(d->m[DAEMON_M_CHECKPOINT_DISCARDED], 1);
	}
	log_info("%s: resuming %zu file position(s) and %ld window "
	    "record(s)", dir, ts->npos, w < 0 ? 0 : w);
	buf_free(&file);
}

/* Start following.  Where following starts in each file is made durable
 * before any line after it is read: a daemon killed before its first
 * periodic checkpoint resumes there, not at a new end of the file. */
void
daemon_start_tail(struct daemon *d, const struct daemon_positions *p)
{
	struct tail_options to;

	daemon_tail_options(d->conf, 0, &to);
	d->tail = tail_create(&d->loop, &to, d->registry, on_line, d);
	tail_start(d->tail, &p->inputs);
	d->web.tail = d->tail;
	if (d->conf->labels_inputs.n > 0) {
		daemon_tail_options(d->conf, 1, &to);
		d->labels_tail = tail_create(&d->loop, &to, d->registry,
		    on_label_line, d);
		tail_start(d->labels_tail, &p->labels);
	}
	daemon_checkpoint(d, 0);
	if (d->conf->inputs.n == 0)
		log_warn("no [input] path configured; nothing to follow");
}

void
daemon_close_tail(struct daemon *d)
{
	if (d->labels_tail != NULL)
		tail_close(d->labels_tail);
	d->labels_tail = NULL;
	tail_close(d->tail);
	d->tail = NULL;
	d->web.tail = NULL;
}

/* A one-line summary for systemctl status. */
void
daemon_status(struct daemon *d, const char *prefix)
{
	struct buf b = BUF_INIT;
	const struct results *res = ingest_results(d->ingest);
	double drifted = res != NULL ? res->drifted : NAN;

	buf_printf(&b, "%sSTATUS=following %zu input(s), %.0f records", prefix,
	    d->conf->inputs.n, ingest_records(d->ingest));
	if (!isnan(drifted))
		buf_printf(&b, ", %.0f feature(s) drifted", drifted);
	notify_send(b.data);
	buf_free(&b);
}

static void
on_notify_timer(uv_timer_t *h)
{
	struct daemon *d = h->data;

	/* Sent from the loop: a stuck loop stops the pings, and systemd
	 * restarts the service. */
	if (notify_watchdog_ms() > 0)
		notify_send("WATCHDOG=1");
	daemon_status(d, "");
}

static void
daemon_stop(struct daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = 1;
	log_info("shutting down");
	web_stop(&d->web);
	notify_send("STOPPING=1");
	daemon_checkpoint(d, 0);
	/* The final checkpoint is what a restart resumes from: without
	 * it, the exit is a failure. */
	if (d->checkpoint_failed)
		d->exit_status = EXIT_RUNTIME;
	/* The handles in the reverse of the order daemon_run() started
	 * them; their memory goes at the end of daemon_run(). */
	uv_close((uv_handle_t *)&d->notify_timer, on_handle_closed);
	uv_close((uv_handle_t *)&d->eval_idle, on_handle_closed);
	uv_close((uv_handle_t *)&d->eval_timer, on_handle_closed);
	uv_close((uv_handle_t *)&d->checkpoint_timer, on_handle_closed);
	daemon_close_tail(d);
	uv_close((uv_handle_t *)&d->sighup, on_handle_closed);
	uv_close((uv_handle_t *)&d->sigint, on_handle_closed);
	uv_close((uv_handle_t *)&d->sigterm, on_handle_closed);
	http_server_close(d->http);
	d->http = NULL;
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	if (signum == SIGHUP)
		(void)daemon_reload(d, NULL);
	else
		daemon_stop(d);
}

static void
register_self_metrics(struct daemon *d)
{
	struct metrics_family *fams[DAEMON_M_COUNT];
	const char *version[] = { PACKAGE_VERSION };
	size_t i;

	metrics_family_add_table(d->registry, main_metrics, DAEMON_M_COUNT, fams);
	d->m[DAEMON_M_BUILD_INFO] = metrics_series_get(fams[DAEMON_M_BUILD_INFO], version);
	metrics_set(d->m[DAEMON_M_BUILD_INFO], 1);
	if (d->opts.once)
		return;
	for (i = DAEMON_M_RELOAD_OK; i < DAEMON_M_COUNT; i++)
		d->m[i] = metrics_series_get(fams[i], NULL);
	metrics_set(d->m[DAEMON_M_RELOAD_OK], 1);
	procstat_register(d->registry);
}

/* --once --report: the report of the evaluation at the end of the logs,
 * as one self-contained file.  0 or -1 (said). */
static int
write_report(struct daemon *d)
{
	struct report_info info;
	struct buf html = BUF_INIT;
	struct results *r = ingest_results(d->ingest);
	FILE *fp;
	int ok;

	memset(&info, 0, sizeof(info));
	info.version = PACKAGE_VERSION;
	info.model = d->conf->model_name;
	info.records = ingest_records(d->ingest);
	info.window_size = (double)d->conf->window_size;
	info.min_samples = (double)d->conf->min_samples;
	info.note = "Written by driftd --once at the end of the logs.";
	report_render(&html, &info, r);
	fp = fopen(d->opts.report, "w");
	ok = fp != NULL && fwrite(html.data, 1, html.len, fp) == html.len;
	if (fp != NULL && fclose(fp) != 0)
		ok = 0;
	if (!ok)
		log_error("%s: cannot write the report: %s", d->opts.report,
		    strerror(errno));
	buf_free(&html);
	return ok ? 0 : -1;
}

struct aged {
	const char *path;
	double mtime;           /* unknown (-) and stdin sort first */
	size_t i;
};

static int
by_age(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* The files in the order they were last written, oldest first (a new
 * array of the same strings). */
static const char **
oldest_first(const char *const *list, size_t n)
{
	struct aged *a = xcalloc(n + 1, sizeof(*a));
	const char **out = xcalloc(n + 1, sizeof(*out));
	size_t i;

	for (i = 0; i < n; i++) {
		struct stat st;

		a[i].path = list[i];
		a[i].i = i;
		a[i].mtime = strcmp(list[i], "-") != 0 &&
		    stat(list[i], &st) == 0 ? (double)st.st_mtim.tv_sec +
		    (double)st.st_mtim.tv_nsec / 1e9 : -INFINITY;
	}
	qsort(a, n, sizeof(*a), by_age);
	for (i = 0; i < n; i++)
		out[i] = a[i].path;
	free(a);
	return out;
}

/* --once --step: the logs as a drift time series on stdout (replay.c).
 * Returns the exit status; frees the pipeline and the registry. */
static int
replay(struct daemon *d, const char *const *list, size_t n)
{
	enum replay_format fmt = REPLAY_OPENMETRICS;
	struct replay *rp;
	const char **sorted = NULL;
	uint64_t ms, late;
	int status = 0;

	if (conf_parse_duration(d->opts.step, &ms) != 0 || ms == 0) {
		log_error("--step: expected a duration such as 1h or 15m, got "
		    "\"%s\"", d->opts.step);
		status = EXIT_USAGE;
	} else if (d->opts.format != NULL &&
	    replay_parse_format(d->opts.format, &fmt) != 0) {
		log_error("--format: expected openmetrics or csv, got \"%s\"",
		    d->opts.format);
		status = EXIT_USAGE;
	} else if (d->conf->timestamp_path[0] == '\0') {
		log_error("%s: --step needs [model] timestamp: steps are cut by "
		    "event time", d->conf->file);
		status = EXIT_USAGE;
	}
	if (status == 0) {
		rp = replay_create(fmt, stdout, d->registry, d->conf->model_name,
		    d->ingest, isatty(STDERR_FILENO));
		ingest_replay(d->ingest, ms, replay_step, rp);
		/* Oldest file first: rotated files (app.log.1) are older
		 * than the one they were rotated from. */
		sorted = oldest_first(list, n);
		if (tail_read_once((const char *const *)sorted, n,
		    (size_t)d->conf->max_line_bytes, d->registry, ingest_line,
		    d->ingest) != 0)
			status = EXIT_RUNTIME;
		late = ingest_replay_end(d->ingest);
		if (late > 0)
			log_warn("%llu record(s) came after their step had "
			    "closed and were left out (driftd_log_errors_total"
			    "{reason=\"late\"})", (unsigned long long)late);
		if (replay_finish(rp) != 0)
			status = EXIT_RUNTIME;
	}
	free(sorted);
	ingest_destroy(d->ingest);
	metrics_destroy(d->registry);
	return status;
}

/*
 * --once: read the logs to their end, print the metrics, exit.  Returns
 * the exit status.
 */
static int
run_once(struct daemon *d, char **files, int nfiles)
{
	struct buf out = BUF_INIT;
	const char *const *list = (const char *const *)files;
	size_t n = (size_t)nfiles;
	int r, status = 0;

	d->registry = metrics_create();
	register_self_metrics(d);
	tail_register_metrics(d->registry);
	d->ingest = ingest_create(d->conf, d->registry, &out);
	if (d->ingest == NULL) {
		/* The reference file the configuration names: a
		 * configuration error. */
		log_error("%s", out.data ? out.data : "");
		buf_free(&out);
		metrics_destroy(d->registry);
		return EXIT_USAGE;
	}
	if (n == 0) {
		list = (const char *const *)d->conf->inputs.v;
		n = d->conf->inputs.n;
		if (n == 0)
			log_warn("no LOGFILE given and no [input] path configured");
	}
	if (d->opts.step != NULL)
		return replay(d, list, n);
	r = tail_read_once(list, n, (size_t)d->conf->max_line_bytes,
	    d->registry, ingest_line, d->ingest);
	if (r != 0)
		status = EXIT_RUNTIME;
	/* The [labels] logs after the predictions: the join waits on
	 * either side, so a label read first finds its prediction too. */
	if (d->conf->labels_inputs.n > 0 &&
	    tail_read_once((const char *const *)d->conf->labels_inputs.v,
	    d->conf->labels_inputs.n, (size_t)d->conf->max_line_bytes,
	    d->registry, ingest_label_line, d->ingest) != 0)
		status = EXIT_RUNTIME;
	ingest_evaluate(d->ingest);
	if (d->opts.report != NULL && write_report(d) != 0)
		status = EXIT_RUNTIME;
	metrics_render(d->registry, METRICS_FORMAT_TEXT, &out);
	if (out.len > 0 && fwrite(out.data, 1, out.len, stdout) != out.len)
		status = EXIT_RUNTIME;
	if (fflush(stdout) != 0)
		status = EXIT_RUNTIME;
	buf_free(&out);
	ingest_destroy(d->ingest);
	metrics_destroy(d->registry);
	return status;
}

static int
daemon_run(struct daemon *d)
{
	struct daemon_positions pos;
	int r, status = 0;

	uv_loop_init(&d->loop);
	r = notify_init();
	if (r != 0)
		log_warn("NOTIFY_SOCKET unusable: %s", uv_strerror(r));
	d->registry = metrics_create();
	register_self_metrics(d);
	tail_register_metrics(d->registry);
	{
		struct buf err = BUF_INIT;

		d->ingest = ingest_create(d->conf, d->registry, &err);
		if (d->ingest == NULL) {
			/* The reference file the configuration names: a
			 * configuration error. */
			log_error("%s", err.data ? err.data : "");
			buf_free(&err);
			metrics_destroy(d->registry);
			uv_loop_close(&d->loop);
			return EXIT_USAGE;
		}
		buf_free(&err);
	}

	d->web.registry = d->registry;
	d->web.evaluate = lifecycle_evaluate;
	d->web.reload = lifecycle_reload;
	d->web.lifecycle_arg = d;
	d->web.conf = d->conf;
	d->web.ingest = d->ingest;
	{
		struct procstat_sample ps;

		d->web.start_time = procstat_read(&ps) == 0 ? ps.start_time :
		    NAN;
	}
	r = http_server_start(&d->loop, d->conf->listen, web_handle, &d->web,
	    &d->http);
	if (r != 0) {
		log_error("cannot listen on %s: %s", d->conf->listen,
		    uv_strerror(r));
		d->http = NULL;
		status = EXIT_RUNTIME;
		goto out;
	}

	uv_signal_init(&d->loop, &d->sigterm);
	uv_signal_init(&d->loop, &d->sigint);
	uv_signal_init(&d->loop, &d->sighup);
	d->sigterm.data = d->sigint.data = d->sighup.data = d;
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	uv_signal_start(&d->sigint, on_signal, SIGINT);
	uv_signal_start(&d->sighup, on_signal, SIGHUP);

	restore_checkpoint(d, &pos);
	daemon_start_tail(d, &pos);
	daemon_positions_free(&pos);
	/* Said once where each file starts is settled, so that what is
	 * written after this line is read, whatever start_at says. */
	log_info("driftd %s listening on %s (port %d)", PACKAGE_VERSION,
	    d->conf->listen, http_server_port(d->http));
	uv_timer_init(&d->loop, &d->checkpoint_timer);
	uv_timer_init(&d->loop, &d->eval_timer);
	uv_idle_init(&d->loop, &d->eval_idle);
	d->checkpoint_timer.data = d->eval_timer.data = d->eval_idle.data = d;
	/* Windows restored from a checkpoint are shown at once; empty ones
	 * from their first record (see on_line()). */
	if (ingest_window_records(d->ingest) > 0) {
		daemon_begin_evaluation(d);
	} else {
		d->first_pending = 1;
	}
	daemon_start_timers(d);
	d->web.ready = 1;
	/* Ready: systemd (Type=notify) starts what waits for driftd. */
	uv_timer_init(&d->loop, &d->notify_timer);
	d->notify_timer.data = d;
	{
		uint64_t wd = notify_watchdog_ms();
		uint64_t every = wd > 0 ? wd / 2 : 10000;

		uv_timer_start(&d->notify_timer, on_notify_timer, every, every);
	}
	daemon_status(d, "READY=1\n");

	uv_run(&d->loop, UV_RUN_DEFAULT);
	status = d->exit_status;
	log_info("stopped");
out:
	/* Run until every close callback (and a checkpoint being written)
	 * has finished, then free the rest in the reverse of its start. */
	uv_run(&d->loop, UV_RUN_DEFAULT);
	buf_free(&d->checkpoint_spare);
	web_free(&d->web);
	ingest_destroy(d->ingest);
	metrics_destroy(d->registry);
	notify_close();
	if (uv_loop_close(&d->loop) != 0)
		log_warn("event loop closed with handles still open");
	return status;
}

/* Use every descriptor the hard limit allows: globs may match many
 * files, and half the soft limit is what the follower takes. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * Large buffers (a scrape's exposition, a checkpoint) come and go.  With
 * a fixed mmap threshold glibc maps each one and unmaps it when freed, so
 * that memory returns to the system once slow clients have left, instead
 * of the threshold growing with them and the heap keeping it.
 */
static void
give_memory_back(void)
{
#ifdef M_MMAP_THRESHOLD
	(void)mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
}

int
main(int argc, char **argv)
{
	enum { OPT_LISTEN = 256, OPT_STATE_DIR, OPT_CHECK, OPT_VERSION, OPT_ONCE,
	    OPT_REPORT, OPT_STEP, OPT_FORMAT };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "report", required_argument, NULL, OPT_REPORT },
		{ "step", required_argument, NULL, OPT_STEP },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d;
	int ch, status = 0;

	memset(&d, 0, sizeof(d));
	d.opts.conf_path = CONF_DEFAULT_PATH;
	while ((ch = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			d.opts.conf_path = optarg;
			break;
		case OPT_LISTEN:
			d.opts.listen = optarg;
			break;
		case OPT_STATE_DIR:
			d.opts.state_dir = optarg;
			break;
		case 'v':
			d.opts.verbose = 1;
			break;
		case OPT_CHECK:
			d.opts.check_config = 1;
			break;
		case OPT_ONCE:
			d.opts.once = 1;
			break;
		case OPT_REPORT:
			d.opts.report = optarg;
			break;
		case OPT_STEP:
			d.opts.step = optarg;
			break;
		case OPT_FORMAT:
			d.opts.format = optarg;
			break;
		case OPT_VERSION:
			printf("driftd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if ((d.opts.report != NULL || d.opts.step != NULL) && !d.opts.once) {
		fprintf(stderr, "driftd: --%s goes with --once\n",
		    d.opts.step != NULL ? "step" : "report");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (d.opts.report != NULL && d.opts.step != NULL) {
		fprintf(stderr, "driftd: --report does not go with --step\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (d.opts.format != NULL && d.opts.step == NULL) {
		fprintf(stderr, "driftd: --format goes with --step\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (optind < argc && !d.opts.once) {
		fprintf(stderr, "driftd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}

	log_init(d.opts.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (daemon_load_config(&d.opts, &d.conf, NULL) != 0)
		return EXIT_USAGE;
	if (d.opts.check_config) {
		struct buf err = BUF_INIT;

		if (!d.opts.verbose)
			log_set_level(LOG_LEVEL_WARN);
		/* The reference too, as start-up would load it. */
		struct ingest *g = ingest_load(d.conf, &err);

		if (g == NULL) {
			fprintf(stderr, "%s\n", err.data ? err.data : "");
			status = EXIT_USAGE;
		} else {
			conf_dump(d.conf, stdout);
		}
		ingest_destroy(g);
		buf_free(&err);
		conf_free(d.conf);
		return status;
	}
	log_set_level(d.conf->log_level);

	if (d.opts.once) {
		status = run_once(&d, argv + optind, argc - optind);
	} else {
		raise_nofile();
		give_memory_back();
		status = daemon_run(&d);
	}
	conf_free(d.conf);
	return status;
}
