/*
 * log.h - leveled logging to stderr for tracecollector. Quiet by default
 * (errors and warnings only). The level is checked before formatting.
 * Thread-safe: one fprintf per line.
 */
#ifndef COLLECTOR_LOG_H
#define COLLECTOR_LOG_H

#include "common.h"

typedef enum log_level {
	LOG_ERROR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
} log_level;

extern log_level log_current;

/* log_level_parse reads "error", "warn", "info" or "debug"; -1 if not. */
int log_level_parse(const char *s, log_level *out);
void log_set_level(log_level l);
void log_msg(log_level l, const char *fmt, ...) PRINTFLIKE(2, 3);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)                                   \
	do {                                            \
		if (log_current >= LOG_WARN)            \
			log_msg(LOG_WARN, __VA_ARGS__); \
	} while (0)
#define log_info(...)                                   \
	do {                                            \
		if (log_current >= LOG_INFO)            \
			log_msg(LOG_INFO, __VA_ARGS__); \
	} while (0)
#define log_debug(...)                                   \
	do {                                             \
		if (log_current >= LOG_DEBUG)            \
			log_msg(LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif /* COLLECTOR_LOG_H */
