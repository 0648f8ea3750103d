/*
 * daemon.h - the running daemon, shared by main.c and reload.c.
 *
 * main.c starts and stops the daemon and runs its timers and
 * checkpoints; reload.c puts a configuration read again in force.  Both
 * work on this one structure, which main() owns.
 */
#ifndef DRIFTD_DAEMON_H
#define DRIFTD_DAEMON_H

#include <uv.h>

#include "buf.h"
#include "conf.h"
#include "http.h"
#include "ingest.h"
#include "metrics.h"
#include "tail.h"
#include "web.h"

enum {
	DAEMON_M_BUILD_INFO,
	DAEMON_M_RELOAD_OK,
	DAEMON_M_CHECKPOINTS,
	DAEMON_M_CHECKPOINT_ERRORS,
	DAEMON_M_CHECKPOINT_TIME,
	DAEMON_M_CHECKPOINT_DISCARDED,
	DAEMON_M_REPORTS_SAVED,
	DAEMON_M_COUNT
};

struct options {
	const char *conf_path;
	const char *listen;
	const char *state_dir;
	int verbose;
	int check_config;
	int once;
	const char *report;          /* --report FILE, with --once */
	const char *step;            /* --step DURATION, with --once */
	const char *format;          /* --format, with --step */
};

struct daemon {
	uv_loop_t loop;
	struct options opts;
	struct conf *conf;
	struct metrics_registry *registry;
	struct metrics_series *m[DAEMON_M_COUNT];
	struct http_server *http;
	struct web web;
	struct ingest *ingest;
	struct tail *tail;
	struct tail *labels_tail;         /* [labels] path, or NULL */
	uv_timer_t checkpoint_timer;
	uv_timer_t eval_timer;
	uv_idle_t eval_idle;              /* steps an evaluation under way */
	uv_timer_t notify_timer;          /* systemd watchdog and status */
	uv_signal_t sigterm;
	uv_signal_t sigint;
	uv_signal_t sighup;
	int stopping;
	int checkpoint_busy;              /* one is being written */
	struct buf checkpoint_spare;      /* memory of the last one */
	int checkpoint_failed;            /* the last one failed */
	int exit_status;
	int first_pending;                /* no record in a window yet */
	int eval_again;                   /* one more, after the one under way */
	uint64_t report_checked;          /* web.prepared when last looked */
};

/* Read the configuration the options name, with their overrides applied;
 * errors are logged (or, for --check-config, printed) and, if `why` is
 * not NULL, appended to it a line each. */
int daemon_load_config(const struct options *o, struct conf **out,
    struct buf *why);

/* Where both followers stand: the prediction logs' and the [labels]
 * logs'. */
struct daemon_positions {
	struct tail_state inputs;
	struct tail_state labels;
};
void daemon_save_positions(const struct daemon *d, struct daemon_positions *p);
void daemon_positions_free(struct daemon_positions *p);

/* The followers' options as `c` sets them: the prediction logs', and
 * (`labels`) the [labels] logs'. */
void daemon_tail_options(const struct conf *c, int labels,
    struct tail_options *o);

/* Take a checkpoint: now, or with `background` in the thread pool. */
void daemon_checkpoint(struct daemon *d, int background);

/* Start following d->conf's inputs and [labels] logs from `p`, and make
 * where each file starts durable. */
void daemon_start_tail(struct daemon *d, const struct daemon_positions *p);
/* Close both followers. */
void daemon_close_tail(struct daemon *d);

/* (Re)start the checkpoint and evaluation timers at d->conf's periods. */
void daemon_start_timers(struct daemon *d);

/* Start an evaluation (and the rendering of its results), stepped on
 * the loop. */
void daemon_begin_evaluation(struct daemon *d);
/* Complete the evaluation and rendering under way now, as the loop
 * would have: a reload does this before the pipeline goes, so that no
 * evaluation (a report to save, a POST /-/evaluate waiting) is lost. */
void daemon_finish_evaluation(struct daemon *d);

/* Send systemd the status line, after `prefix` ("READY=1\n", or ""). */
void daemon_status(struct daemon *d, const char *prefix);

/* SIGHUP and POST /-/reload: read the configuration again and put it in
 * force (0), or keep the one in force if it cannot be (-1, with the
 * reason appended to `why` if not NULL) (reload.c). */
int daemon_reload(struct daemon *d, struct buf *why);

#endif
