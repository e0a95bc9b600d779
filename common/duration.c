/* duration.c - parse and print durations such as "250us" or "1.5s". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static const struct {
	const char *suffix;
	double ns;
} units[] = {
	{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9},
	{"m", 60e9}, {"h", 3600e9}, {"d", 86400e9},
};

int
duration_parse(const char *s, uint64_t *out_ns)
{
	char *end;

	if (s == NULL || *s == '\0' || *s == '-' || *s == '+' ||
	    !(*s == '.' || (*s >= '0' && *s <= '9')))
		return -1;
	double v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(units); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			double ns = v * units[i].ns;
			if (ns >= 1.8e19)
				return -1;
			*out_ns = (uint64_t)llround(ns);
			return 0;
		}
	}
	return -1;
}

char *
duration_format(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.3gus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.3gms", ns / 1e6);
	else if (ns < 60000000000ull)
		snprintf(buf, len, "%.3gs", ns / 1e9);
	else if (ns < 3600000000000ull)
		snprintf(buf, len, "%llum%02llus",
		    (unsigned long long)(ns / 60000000000ull),
		    (unsigned long long)(ns / 1000000000ull % 60));
	else
		snprintf(buf, len, "%lluh%02llum",
		    (unsigned long long)(ns / 3600000000000ull),
		    (unsigned long long)(ns / 60000000000ull % 60));
	return buf;
}
