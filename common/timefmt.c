/* timefmt.c - RFC 3339 and unix-seconds times, and the clocks. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

uint64_t
now_unix_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t
now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct timespec
deadline_after_ms(uint64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	ts.tv_sec += (time_t)(ms / 1000) + ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	return ts;
}

/* Reads a fraction ".123456789" after the seconds; returns ns. */
static uint64_t
parse_fraction(const char **p)
{
	uint64_t ns = 0, scale = 100000000;

	if (**p != '.')
		return 0;
	(*p)++;
	while (isdigit((unsigned char)**p)) {
		ns += (uint64_t)(**p - '0') * scale;
		scale /= 10;
		(*p)++;
	}
	return ns;
}

static int
parse_unix_seconds(const char *s, uint64_t *out)
{
	const char *p = s;
	uint64_t secs = 0;

	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		secs = secs * 10 + (uint64_t)(*p - '0');
		if (secs > 10000000000ull)
			return -1;
		p++;
	}
	uint64_t frac = parse_fraction(&p);
	if (*p != '\0')
		return -1;
	*out = secs * 1000000000ull + frac;
	return 0;
}

int
time_parse(const char *s, uint64_t *out_unix_ns)
{
	struct tm tm;
	int n = 0;

	if (s == NULL)
		return -1;
	if (parse_unix_seconds(s, out_unix_ns) == 0)
		return 0;
	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%4d-%2d-%2d%*[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
		&tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n == 0)
		return -1;
	if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	const char *p = s + n;
	uint64_t frac = parse_fraction(&p);
	long offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om, m = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &m) != 2 || m != 5 ||
		    oh > 23 || om > 59)
			return -1;
		offset = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || (int64_t)t - offset < 0)
		return -1;
	*out_unix_ns = (uint64_t)((int64_t)t - offset) * 1000000000ull + frac;
	return 0;
}

char *
time_format(uint64_t unix_ns, char *buf, size_t len)
{
	time_t t = (time_t)(unix_ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (unsigned)(unix_ns % 1000000000ull / 1000));
	return buf;
}
