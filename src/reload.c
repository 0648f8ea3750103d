/*
 * reload.c - SIGHUP: the configuration read again and put in force.
 *
 * Everything that can fail comes first and changes nothing: reading the
 * configuration, then loading the new pipeline (its field paths and its
 * reference, loaded, validated and hashed once).  A failure there leaves
 * the daemon as it was; it is logged, shown in
 * driftd_config_last_reload_successful and told to systemd, in one place.
 *
 * What follows cannot fail.  The windows move to the new pipeline in a
 * snapshot.  The registry is marked; the new pipeline, and a new follower
 * if the inputs changed, take over the series they still publish, so
 * counters go on and drift figures stay in place until the next
 * evaluation; the sweep then removes the series nobody took (a removed
 * column's, an input no longer followed, another model's).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "notify.h"
#include "state.h"
#include "util.h"

static int
strings_equal(const struct conf_strings *a, const struct conf_strings *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return 0;
	return 1;
}

/* Do both followers follow the same files in `a` and `b`: the prediction
 * logs and the [labels] logs? */
static int
inputs_equal(const struct conf *a, const struct conf *b)
{
	return strings_equal(&a->inputs, &b->inputs) &&
	    strings_equal(&a->labels_inputs, &b->labels_inputs);
}

/* Put `c` in force with `g`, its loaded pipeline. */
static void
commit(struct daemon *d, struct conf *c, struct ingest *g)
{
	/* Other [input] options change in place: files stay open, so
	 * nothing read is read again and renamed files still drain. */
	int restart_tail = !inputs_equal(c, d->conf);
	struct state_writer snapshot;

	daemon_finish_evaluation(d);
	ingest_snapshot(d->ingest, &snapshot);
	metrics_mark(d->registry);
	ingest_destroy(d->ingest);
	ingest_attach(g, d->registry);
	ingest_restore(g, &snapshot.b);
	state_writer_free(&snapshot);
	d->ingest = g;
	d->web.ingest = g;
	if (restart_tail) {
		struct daemon_positions ps;

		/* The files the old inputs reach resume by their identity,
		 * whichever new input reaches them; renamed or deleted
		 * ones are read to their end first, as the new follower
		 * cannot find them. */
		tail_drain_detached(d->tail);
		if (d->labels_tail != NULL)
			tail_drain_detached(d->labels_tail);
		daemon_save_positions(d, &ps);
		daemon_checkpoint(d, 0);
		daemon_close_tail(d);
		conf_free(d->conf);
		d->conf = c;
		daemon_start_tail(d, &ps);
		daemon_positions_free(&ps);
	} else {
		struct tail_options to;

		conf_free(d->conf);
		d->conf = c;
		daemon_tail_options(d->conf, 0, &to);
		tail_set_options(d->tail, &to);
		if (d->labels_tail != NULL) {
			daemon_tail_options(d->conf, 1, &to);
			tail_set_options(d->labels_tail, &to);
		}
	}
	metrics_sweep(d->registry);
	d->web.conf = d->conf;
}

int
daemon_reload(struct daemon *d, struct buf *why)
{
	struct conf *c = NULL;
	struct ingest *g;
	struct buf err = BUF_INIT;

	log_info("reloading configuration from %s", d->opts.conf_path);
	notify_send("RELOADING=1");
	if (daemon_load_config(&d->opts, &c, why) != 0)
		goto fail;
	/* The new pipeline's reference must load before the old pipeline
	 * goes. */
	g = ingest_load(c, &err);
	if (g == NULL) {
		log_error("%s", err.data != NULL ? err.data : "");
		if (why != NULL)
			buf_printf(why, "%s\n", err.data != NULL ? err.data : "");
		goto fail;
	}
	buf_free(&err);
	if (strcmp(c->listen, d->conf->listen) != 0)
		log_warn("listen changed to %s; it takes effect at the next "
		    "restart", c->listen);
	/* The listener keeps its address until restart. */
	free(c->listen);
	c->listen = xstrdup(d->conf->listen);

	commit(d, c, g);
	daemon_start_timers(d);
	/* One asked for while the last one ran comes from the new pipeline. */
	if (d->eval_again) {
		d->eval_again = 0;
		daemon_begin_evaluation(d);
	}
	log_set_level(d->conf->log_level);
	metrics_set(d->m[DAEMON_M_RELOAD_OK], 1);
	log_info("configuration reloaded");
	daemon_status(d, "READY=1\n");
	return 0;
fail:
	buf_free(&err);
	conf_free(c);
	log_error("reload failed; the previous configuration stays in force");
	metrics_set(d->m[DAEMON_M_RELOAD_OK], 0);
	notify_send("READY=1\nSTATUS=reload failed; previous configuration "
	    "in force");
	return -1;
}
