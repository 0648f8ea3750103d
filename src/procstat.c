/*
 * procstat.c - the standard process_* metrics, read from /proc/self.
 *
 * Field positions are those of proc(5): in /proc/self/stat, utime (14),
 * stime (15), starttime (22, clock ticks after boot), vsize (23, bytes),
 * rss (24, pages); boot time is "btime" in /proc/stat.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "procstat.h"
#include "util.h"

enum {
	PS_CPU,
	PS_RSS,
	PS_VSIZE,
	PS_OPEN_FDS,
	PS_MAX_FDS,
	PS_START,
	PS_COUNT
};

static const struct metrics_desc descs[PS_COUNT] = {
	[PS_CPU] = { "process_cpu_seconds_total", METRICS_COUNTER,
	    "Total user and system CPU time spent in seconds.", { NULL } },
	[PS_RSS] = { "process_resident_memory_bytes", METRICS_GAUGE,
	    "Resident memory size in bytes.", { NULL } },
	[PS_VSIZE] = { "process_virtual_memory_bytes", METRICS_GAUGE,
	    "Virtual memory size in bytes.", { NULL } },
	[PS_OPEN_FDS] = { "process_open_fds", METRICS_GAUGE,
	    "Number of open file descriptors.", { NULL } },
	[PS_MAX_FDS] = { "process_max_fds", METRICS_GAUGE,
	    "Maximum number of open file descriptors.", { NULL } },
	[PS_START] = { "process_start_time_seconds", METRICS_GAUGE,
	    "Start time of the process since unix epoch in seconds.", { NULL } },
};

struct procstat {
	struct metrics_series *series[PS_COUNT];
	double last;             /* when /proc was last read */
};

static struct procstat the_procstat;

static double
boot_time(void)
{
	static double cached;
	char line[256];
	double bt = 0;
	FILE *fp;

	/* The boot time does not change; read it once. */
	if (cached > 0)
		return cached;
	fp = fopen("/proc/stat", "re");
	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "btime ", 6) == 0) {
			bt = strtod(line + 6, NULL);
			break;
		}
	}
	fclose(fp);
	cached = bt;
	return bt;
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;    /* the directory stream's own descriptor */
}

int
procstat_read(struct procstat_sample *out)
{
	char buf[1024];
	unsigned long long utime, stime, start, vsize;
	long long rss;
	double ticks = (double)sysconf(_SC_CLK_TCK);
	long page = sysconf(_SC_PAGESIZE);
	struct rlimit rl;
	const char *p;
	size_t n;
	FILE *fp;
	int fds;

	fp = fopen("/proc/self/stat", "re");
	if (fp == NULL)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* The command name (field 2) may contain spaces and parentheses;
	 * the fields after it start after the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -EINVAL;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %*d %*d %*d %*d %*d %*d %llu %llu %lld",
	    &utime, &stime, &start, &vsize, &rss) != 5)
		return -EINVAL;
	out->cpu_seconds = (double)(utime + stime) / ticks;
	out->virtual_bytes = (double)vsize;
	out->resident_bytes = (double)rss * (double)page;
	out->start_time = boot_time() + (double)start / ticks;
	fds = count_fds();
	out->open_fds = fds >= 0 ? fds : 0;
	out->max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 ?
	    (double)rl.rlim_cur : 0;
	return 0;
}

/* Scrapes closer together than this share one reading of /proc: the
 * figures cannot change meaningfully in between, and busy scrapers should
 * not cost a dozen system calls each. */
#define PROCSTAT_MIN_INTERVAL 0.1

static void
collect(void *arg)
{
	struct procstat *ps = arg;
	struct procstat_sample s;
	double now = util_now();

	if (now - ps->last < PROCSTAT_MIN_INTERVAL && now >= ps->last)
		return;
	ps->last = now;
	if (procstat_read(&s) != 0)
		return;
	metrics_set(ps->series[PS_CPU], s.cpu_seconds);
	metrics_set(ps->series[PS_RSS], s.resident_bytes);
	metrics_set(ps->series[PS_VSIZE], s.virtual_bytes);
	metrics_set(ps->series[PS_OPEN_FDS], s.open_fds);
	metrics_set(ps->series[PS_MAX_FDS], s.max_fds);
	metrics_set(ps->series[PS_START], s.start_time);
}

void
procstat_register(struct metrics_registry *r)
{
	struct metrics_family *fams[PS_COUNT];
	struct procstat *ps = &the_procstat;
	size_t i;

	metrics_family_add_table(r, descs, PS_COUNT, fams);
	for (i = 0; i < PS_COUNT; i++)
		ps->series[i] = metrics_series_get(fams[i], NULL);
	metrics_on_collect(r, collect, ps);
}
