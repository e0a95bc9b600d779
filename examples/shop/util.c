/*
 * util.c - small helpers: fatal errors, sleeping, jitter, key=value bodies
 * and the pretend database every service talks to.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shop.h"

/* Print a message with strerror(errno) and exit 1. */
void
fatal(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	fputs("shop: ", stderr);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(err));
	va_end(ap);
	exit(1);
}

/* Print a message and exit 1. */
void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("shop: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

void
util_sleep_us(unsigned us)
{
	struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* A uniformly random duration in [lo, hi] microseconds (per thread). */
unsigned
util_jitter_us(unsigned lo, unsigned hi)
{
	static _Thread_local unsigned seed;

	if (seed == 0)
		seed =
		    (unsigned)trace_now_unix_ns() ^ (unsigned)(uintptr_t)&seed;
	return lo + (unsigned)rand_r(&seed) % (hi - lo + 1);
}

/* Find "key=" at a word start in body; return the value or NULL. */
static const char *
kv_find(const char *body, const char *key)
{
	size_t klen = strlen(key);
	const char *p = body;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == body || p[-1] == ' ') && p[klen] == '=')
			return p + klen + 1;
		p += klen;
	}
	return NULL;
}

long
util_kv_int(const char *body, const char *key, long def)
{
	const char *v = kv_find(body, key);

	return v != NULL ? strtol(v, NULL, 10) : def;
}

bool
util_kv_str(const char *body, const char *key, char *buf, size_t len)
{
	const char *v = kv_find(body, key);
	size_t n;

	if (v == NULL || len == 0)
		return false;
	n = strcspn(v, " ");
	if (n >= len)
		n = len - 1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return true;
}

/*
 * Run a pretend database query lasting about `us` microseconds, as a CLIENT
 * span named "OPERATION TABLE" with the database semantic conventions. It
 * nests under the thread's current span.
 */
void
util_db_query(const char *system, const char *ns, const char *op,
    const char *table, const char *text, unsigned us)
{
	trace_span_options opts = {.kind = TRACE_KIND_CLIENT};
	char name[128];
	trace_span *s;

	snprintf(name, sizeof name, "%s %s", op, table);
	s = trace_span_start_opts(name, &opts);
	trace_attr attrs[] = {
	    TRACE_ATTR_STR("db.system.name", system),
	    TRACE_ATTR_STR("db.namespace", ns),
	    TRACE_ATTR_STR("db.operation.name", op),
	    TRACE_ATTR_STR("db.collection.name", table),
	    TRACE_ATTR_STR("db.query.text", text),
	};
	trace_span_set_attrs(s, attrs, sizeof attrs / sizeof attrs[0]);
	util_sleep_us(us);
	trace_span_end(s);
}
