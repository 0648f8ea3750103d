/*
 * procstat.h - the standard process_* metrics, read from /proc/self.
 *
 * The set and the names follow the Prometheus client libraries' process
 * collector so that existing dashboards work unchanged.
 */
#ifndef DRIFTD_PROCSTAT_H
#define DRIFTD_PROCSTAT_H

#include "metrics.h"

struct procstat_sample {
	double cpu_seconds;        /* user + system */
	double resident_bytes;
	double virtual_bytes;
	double open_fds;
	double max_fds;
	double start_time;         /* seconds since the epoch */
};

/* Register the families and refresh them at every render. */
void procstat_register(struct metrics_registry *r);

/* Read the current values; returns 0 or a negative errno. */
int procstat_read(struct procstat_sample *out);

#endif
