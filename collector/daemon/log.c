/* log.c - leveled logging to stderr (see log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon/log.h"

log_level log_current = LOG_WARN;

static const char *level_names[] = { "error", "warn", "info", "debug" };

int
log_level_parse(const char *s, log_level *out)
{
	for (size_t i = 0; i < ARRAY_LEN(level_names); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_set_level(log_level l)
{
	log_current = l;
}

void
log_msg(log_level l, const char *fmt, ...)
{
	char line[1024], ts[32];
	va_list ap;
	struct timespec now;
	struct tm tm;

	if (l > log_current)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s.%03ldZ tracecollector %s: %s\n", ts,
	    now.tv_nsec / 1000000, level_names[l], line);
}
