/*
 * log.h - levelled messages on stderr.
 *
 * driftd runs in the foreground and leaves collection to systemd or the
 * container runtime.  When stderr is connected to the systemd journal
 * (JOURNAL_STREAM names it), each line is prefixed with its syslog priority
 * in the form "<3>" so that the journal records the level; otherwise each
 * line starts with an RFC 3339 UTC timestamp and the level name.
 *
 * Modules other than main.c may log events that only they can see (a file
 * rotated, a client dropped), but errors are returned to the caller as codes,
 * and the caller decides whether and how to report them.
 */
#ifndef DRIFTD_LOG_H
#define DRIFTD_LOG_H

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Inspect stderr once; call before the first message. */
void log_init(enum log_level level);
void log_set_level(enum log_level level);
/* Parse "error", "warn", "info" or "debug"; returns 0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
