/*
 * main.c - command line, start-up, signals and shutdown.
 *
 * main() wires the modules together.  Start-up order: configuration, log
 * level, event loop, metrics registry, HTTP server, signal handlers.
 * Shutdown runs in reverse: every handle is closed and the loop is run until
 * their close callbacks have fired, so that nothing is left allocated at
 * exit.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "conf.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "procstat.h"
#include "util.h"
#include "web.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

enum {
	M_BUILD_INFO,
	M_RELOAD_OK,
	M_COUNT
};

static const struct metrics_desc main_metrics[M_COUNT] = {
	[M_BUILD_INFO] = { "driftd_build_info", METRICS_GAUGE,
	    "A metric with a constant '1' value labelled by the driftd version.",
	    { "version", NULL } },
	[M_RELOAD_OK] = { "driftd_config_last_reload_successful", METRICS_GAUGE,
	    "Whether the last configuration reload attempt was successful.",
	    { NULL } },
};

struct options {
	const char *conf_path;
	const char *listen;
	const char *state_dir;
	int verbose;
	int check_config;
};

struct daemon {
	uv_loop_t loop;
	struct options opts;
	struct conf *conf;
	struct metrics_registry *registry;
	struct metrics_series *reload_ok;
	struct http_server *http;
	struct web web;
	uv_signal_t sigterm;
	uv_signal_t sigint;
	uv_signal_t sighup;
	int stopping;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: driftd [-c FILE] [--listen ADDR] [--state-dir DIR] [-v]\n"
	    "       driftd --check-config [-c FILE]\n"
	    "       driftd --version | --help\n"
	    "\n"
	    "  -c, --config FILE     configuration file (default %s)\n"
	    "      --listen ADDR     serve HTTP on ADDR (HOST:PORT, :PORT, [V6]:PORT)\n"
	    "      --state-dir DIR   keep checkpoints in DIR\n"
	    "  -v, --verbose         log at debug level\n"
	    "      --check-config    validate the configuration, print it, exit\n"
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

/* Load the configuration named on the command line, reporting errors. */
static int
load_config(const struct options *o, struct conf **out)
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

static void
daemon_stop(struct daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = 1;
	log_info("shutting down");
	if (d->http != NULL) {
		http_server_close(d->http);
		d->http = NULL;
	}
	uv_close((uv_handle_t *)&d->sigterm, on_handle_closed);
	uv_close((uv_handle_t *)&d->sigint, on_handle_closed);
	uv_close((uv_handle_t *)&d->sighup, on_handle_closed);
}

static void
daemon_reload(struct daemon *d)
{
	struct conf *c = NULL;

	log_info("reloading configuration from %s", d->opts.conf_path);
	if (load_config(&d->opts, &c) != 0) {
		log_error("reload failed; the previous configuration stays "
		    "in force");
		metrics_set(d->reload_ok, 0);
		return;
	}
	if (strcmp(c->listen, d->conf->listen) != 0)
		log_warn("listen changed to %s; it takes effect at the next "
		    "restart", c->listen);
	/* The listener keeps its address until restart. */
	free(c->listen);
	c->listen = xstrdup(d->conf->listen);
	log_set_level(c->log_level);
	conf_free(d->conf);
	d->conf = c;
	metrics_set(d->reload_ok, 1);
	log_info("configuration reloaded");
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	if (signum == SIGHUP)
		daemon_reload(d);
	else
		daemon_stop(d);
}

static void
register_self_metrics(struct daemon *d)
{
	struct metrics_family *fams[M_COUNT];
	const char *version[] = { PACKAGE_VERSION };

	metrics_family_add_table(d->registry, main_metrics, M_COUNT, fams);
	metrics_set(metrics_series_get(fams[M_BUILD_INFO], version), 1);
	d->reload_ok = metrics_series_get(fams[M_RELOAD_OK], NULL);
	metrics_set(d->reload_ok, 1);
	procstat_register(d->registry);
}

static int
daemon_run(struct daemon *d)
{
	int r, status = 0;

	uv_loop_init(&d->loop);
	d->registry = metrics_create();
	register_self_metrics(d);

	d->web.registry = d->registry;
	r = http_server_start(&d->loop, d->conf->listen, web_handle, &d->web,
	    &d->http);
	if (r != 0) {
		log_error("cannot listen on %s: %s", d->conf->listen,
		    uv_strerror(r));
		d->http = NULL;
		status = EXIT_RUNTIME;
		goto out;
	}
	log_info("driftd %s listening on %s (port %d)", PACKAGE_VERSION,
	    d->conf->listen, http_server_port(d->http));

	uv_signal_init(&d->loop, &d->sigterm);
	uv_signal_init(&d->loop, &d->sigint);
	uv_signal_init(&d->loop, &d->sighup);
	d->sigterm.data = d->sigint.data = d->sighup.data = d;
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	uv_signal_start(&d->sigint, on_signal, SIGINT);
	uv_signal_start(&d->sighup, on_signal, SIGHUP);
	d->web.ready = 1;

	uv_run(&d->loop, UV_RUN_DEFAULT);
	log_info("stopped");
out:
	/* Run until every close callback has fired, then tear down. */
	uv_run(&d->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&d->loop) != 0)
		log_warn("event loop closed with handles still open");
	metrics_destroy(d->registry);
	return status;
}

int
main(int argc, char **argv)
{
	enum { OPT_LISTEN = 256, OPT_STATE_DIR, OPT_CHECK, OPT_VERSION };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d;
	int ch, status;

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
	if (optind < argc) {
		fprintf(stderr, "driftd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}

	log_init(d.opts.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (load_config(&d.opts, &d.conf) != 0)
		return EXIT_USAGE;
	if (d.opts.check_config) {
		conf_dump(d.conf, stdout);
		conf_free(d.conf);
		return 0;
	}
	log_set_level(d.conf->log_level);

	status = daemon_run(&d);
	conf_free(d.conf);
	return status;
}
