/*
 * jaeger_params.c - validates the Jaeger query API's parameters
 * (jaeger_params.h). Messages follow Jaeger's own wording where Grafana or
 * the UI may show them. Nothing here trusts a length: every value is
 * bounded, every number checked for overflow.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common.h"
#include "jaeger/jaeger_params.h"
#include "otlp_types.h"

#define US_NS 1000ULL
#define MS_NS 1000000ULL
#define HOUR_NS 3600000000000ULL
#define KIND(x) OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_##x

const char *
jaeger_params_get(const jaeger_arg *args, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(args[i].key, key) == 0)
			return args[i].value;
	return NULL;
}

/* The first value of either spelling (v3 takes camelCase and snake_case). */
static const char *
get2(const jaeger_arg *args, size_t n, const char *camel, const char *snake)
{
	const char *v = jaeger_params_get(args, n, camel);

	return v != NULL ? v : jaeger_params_get(args, n, snake);
}

static int fail(char **err, const char *fmt, ...) PRINTFLIKE(2, 3);

/* Sets *err (for the 400) and returns -1. */
static int
fail(char **err, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	*err = xstrdup(buf);
	return -1;
}

/* Parses a non-negative decimal integer of at most 19 digits. */
static int
parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s == NULL || *s == '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 19)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Reads an integer count of unit_ns since the epoch (or a span of time)
 * into ns; absent leaves *ns alone. */
static int
get_time(const jaeger_arg *args, size_t n, const char *key, uint64_t unit_ns,
    uint64_t *ns, char **err)
{
	const char *s = jaeger_params_get(args, n, key);
	uint64_t v;

	if (s == NULL || *s == '\0')
		return 0;
	if (parse_u64(s, &v) != 0 || v > UINT64_MAX / unit_ns)
		return fail(err, "malformed parameter '%s': expecting an integer",
		    key);
	*ns = v * unit_ns;
	return 0;
}

static int
get_duration(const char *key, const char *s, uint64_t *ns, char **err)
{
	if (s == NULL || *s == '\0')
		return 0;
	if (duration_parse(s, ns) != 0)
		return fail(err, "malformed parameter '%s': expecting a duration "
		    "such as 1.5ms (units ns, us, ms, s, m, h)", key);
	return 0;
}

static int
add_attr(jaeger_query *q, const char *k, size_t klen, const char *v,
    char **err)
{
	if (klen == 0)
		return fail(err, "malformed tag filter: empty key");
	/* Jaeger's UI writes error=true for "errors only": the status, which
	 * the engine filters on directly. */
	if (klen == 5 && memcmp(k, "error", 5) == 0 && strcmp(v, "true") == 0) {
		q->errors_only = true;
		return 0;
	}
	if (q->n_attrs == JAEGER_MAX_ATTRS)
		return fail(err, "too many tag filters (at most %d)", JAEGER_MAX_ATTRS);
	q->attrs[q->n_attrs].key = xstrndup(k, klen);
	q->attrs[q->n_attrs].value = xstrdup(v);
	q->n_attrs++;
	return 0;
}

/* tags={"k":"v",...}: a JSON object of strings. */
static int
add_tags_json(jaeger_query *q, const char *s, char **err)
{
	json_error_t jerr;
	json_t *o = json_loads(s, JSON_REJECT_DUPLICATES, &jerr), *v;
	const char *k;
	int rv = 0;

	if (!json_is_object(o)) {
		json_decref(o);
		return fail(err, "malformed parameter '%s': expecting a JSON "
		    "object of strings", "tags");
	}
	json_object_foreach(o, k, v) {
		if (!json_is_string(v)) {
			rv = fail(err, "malformed parameter '%s': expecting a "
			    "JSON object of strings", "tags");
			break;
		}
		if ((rv = add_attr(q, k, strlen(k), json_string_value(v),
		    err)) != 0)
			break;
	}
	json_decref(o);
	return rv;
}

/* tag=k:v, split at the first colon. */
static int
add_tag_pair(jaeger_query *q, const char *s, char **err)
{
	const char *colon = strchr(s, ':');

	if (colon == NULL)
		return fail(err, "malformed parameter '%s': expecting key:value",
		    "tag");
	return add_attr(q, s, (size_t)(colon - s), colon + 1, err);
}

static int
get_tags(const jaeger_arg *args, size_t n, jaeger_query *q, char **err)
{
	for (size_t i = 0; i < n; i++) {
		int rv = 0;

		if (strcmp(args[i].key, "tags") == 0)
			rv = add_tags_json(q, args[i].value, err);
		else if (strcmp(args[i].key, "tag") == 0)
			rv = add_tag_pair(q, args[i].value, err);
		if (rv != 0)
			return rv;
	}
	return 0;
}

static int
get_trace_ids(const jaeger_arg *args, size_t n, jaeger_query *q, char **err)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(args[i].key, "traceID") != 0)
			continue;
		if (q->n_trace_ids == JAEGER_MAX_TRACE_IDS)
			return fail(err, "too many traceID parameters (at most "
			    "%d)", JAEGER_MAX_TRACE_IDS);
		if (jaeger_params_trace_id(args[i].value,
		    q->trace_ids[q->n_trace_ids]) != 0)
			return fail(err, "malformed parameter '%s': expecting a "
			    "hex trace ID", "traceID");
		q->n_trace_ids++;
	}
	return 0;
}

static int
get_limit(const char *key, const char *s, jaeger_query *q, char **err)
{
	uint64_t v = JAEGER_DEFAULT_LIMIT;

	if (s != NULL && *s != '\0' && parse_u64(s, &v) != 0)
		return fail(err, "malformed parameter '%s': expecting a "
		    "non-negative integer", key);
	if (v == 0)
		v = JAEGER_DEFAULT_LIMIT;
	q->limit_asked = v;
	q->limit = v > JAEGER_MAX_LIMIT ? JAEGER_MAX_LIMIT : (uint32_t)v;
	return 0;
}

static int
check_strings(const jaeger_arg *args, size_t n, char **err)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(args[i].value) > JAEGER_MAX_ARG_BYTES)
			return fail(err, "parameter '%s' is too long",
			    strlen(args[i].key) > 64 ? "?" : args[i].key);
	return 0;
}

static int
check_ranges(jaeger_query *q, const char *min_key, const char *max_key,
    char **err)
{
	if (q->max_duration_ns != 0 && q->max_duration_ns < q->min_duration_ns) {
		return fail(err, "'%s' should be greater than '%s'", max_key,
		    min_key);
	}
	if (q->end_ns < q->start_ns)
		return fail(err, "the start of the window is after its end");
	return 0;
}

static char *
dup_nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

int
jaeger_params_search(const jaeger_arg *args, size_t n, uint64_t now_ns,
    jaeger_query *q, char **err)
{
	memset(q, 0, sizeof *q);
	*err = NULL;
	q->end_ns = now_ns;
	q->start_ns = now_ns > 48 * HOUR_NS ? now_ns - 48 * HOUR_NS : 0;
	if (check_strings(args, n, err) != 0 ||
	    get_trace_ids(args, n, q, err) != 0 ||
	    get_tags(args, n, q, err) != 0 ||
	    get_time(args, n, "start", US_NS, &q->start_ns, err) != 0 ||
	    get_time(args, n, "end", US_NS, &q->end_ns, err) != 0 ||
	    get_duration("minDuration", jaeger_params_get(args, n,
	    "minDuration"), &q->min_duration_ns, err) != 0 ||
	    get_duration("maxDuration", jaeger_params_get(args, n,
	    "maxDuration"), &q->max_duration_ns, err) != 0 ||
	    get_limit("limit", jaeger_params_get(args, n, "limit"), q,
	    err) != 0 ||
	    check_ranges(q, "minDuration", "maxDuration", err) != 0)
		return -1;
	q->service = dup_nonempty(jaeger_params_get(args, n, "service"));
	q->operation = dup_nonempty(jaeger_params_get(args, n, "operation"));
	if (q->service == NULL && q->n_trace_ids == 0)
		return fail(err, "parameter '%s' is required", "service");
	return 0;
}

/* query.startTimeMin and the like: RFC 3339; absent leaves *ns. */
static int
get_rfc3339(const jaeger_arg *args, size_t n, const char *camel,
    const char *snake, uint64_t *ns, char **err)
{
	const char *s = get2(args, n, camel, snake);

	if (s == NULL || *s == '\0')
		return 0;
	if (time_parse(s, ns) != 0)
		return fail(err, "malformed parameter '%s': expecting an RFC 3339 "
		    "time", camel);
	return 0;
}

/* query.attributes={"k":"v"}. */
static int
get_attributes_v3(const jaeger_arg *args, size_t n, jaeger_query *q,
    char **err)
{
	const char *s = jaeger_params_get(args, n, "query.attributes");

	if (s == NULL || *s == '\0')
		return 0;
	if (add_tags_json(q, s, err) != 0) {
		free(*err);
		return fail(err, "malformed parameter '%s': expecting a JSON "
		    "object of strings", "query.attributes");
	}
	return 0;
}

int
jaeger_params_search_v3(const jaeger_arg *args, size_t n, uint64_t now_ns,
    jaeger_query *q, char **err)
{
	memset(q, 0, sizeof *q);
	*err = NULL;
	q->end_ns = now_ns;
	q->start_ns = now_ns > 48 * HOUR_NS ? now_ns - 48 * HOUR_NS : 0;
	if (check_strings(args, n, err) != 0 ||
	    get_rfc3339(args, n, "query.startTimeMin", "query.start_time_min",
	    &q->start_ns, err) != 0 ||
	    get_rfc3339(args, n, "query.startTimeMax", "query.start_time_max",
	    &q->end_ns, err) != 0 ||
	    get_duration("query.durationMin", get2(args, n,
	    "query.durationMin", "query.duration_min"), &q->min_duration_ns,
	    err) != 0 ||
	    get_duration("query.durationMax", get2(args, n,
	    "query.durationMax", "query.duration_max"), &q->max_duration_ns,
	    err) != 0 ||
	    get_limit("query.searchDepth", get2(args, n, "query.searchDepth",
	    "query.search_depth"), q, err) != 0 ||
	    get_attributes_v3(args, n, q, err) != 0 ||
	    check_ranges(q, "query.durationMin", "query.durationMax", err) != 0)
		return -1;
	q->service = dup_nonempty(get2(args, n, "query.serviceName",
	    "query.service_name"));
	q->operation = dup_nonempty(get2(args, n, "query.operationName",
	    "query.operation_name"));
	return 0;
}

void
jaeger_query_fini(jaeger_query *q)
{
	free(q->service);
	free(q->operation);
	for (size_t i = 0; i < q->n_attrs; i++) {
		free(q->attrs[i].key);
		free(q->attrs[i].value);
	}
	memset(q, 0, sizeof *q);
}

int
jaeger_params_trace_id(const char *hex, uint8_t id[16])
{
	char padded[33];
	size_t len = hex != NULL ? strlen(hex) : 0;

	if (len == 0 || len > 32)
		return -1;
	memset(padded, '0', 32 - len);
	memcpy(padded + 32 - len, hex, len + 1);
	if (hex_decode(padded, id, 16) != 0 || is_all_zero(id, 16))
		return -1;
	return 0;
}

int
jaeger_params_span_kind(const char *s, int *kind)
{
	static const struct {
		const char *name;
		int kind;
	} kinds[] = {
		{ "", 0 }, { "server", KIND(SERVER) }, { "client", KIND(CLIENT) },
		{ "producer", KIND(PRODUCER) }, { "consumer", KIND(CONSUMER) },
		{ "internal", KIND(INTERNAL) },
	};

	for (size_t i = 0; i < ARRAY_LEN(kinds); i++) {
		if (strcmp(s != NULL ? s : "", kinds[i].name) == 0) {
			*kind = kinds[i].kind;
			return 0;
		}
	}
	return -1;
}

int
jaeger_params_dependencies(const jaeger_arg *args, size_t n, uint64_t now_ns,
    uint64_t *start_ns, uint64_t *end_ns, char **err)
{
	uint64_t end = now_ns, lookback = 24 * HOUR_NS;

	*err = NULL;
	if (get_time(args, n, "endTs", MS_NS, &end, err) != 0 ||
	    get_time(args, n, "lookback", MS_NS, &lookback, err) != 0)
		return -1;
	*end_ns = end;
	*start_ns = lookback < end ? end - lookback : 0;
	return 0;
}

int
jaeger_params_trace_hint(const jaeger_arg *args, size_t n, char **err)
{
	uint64_t ns = 0;

	*err = NULL;
	/* Parsed only to answer 400 for garbage, as Jaeger does; a plausible
	 * microsecond hint and Grafana's millisecond one are both accepted
	 * and neither narrows the lookup. */
	if (get_time(args, n, "start", 1, &ns, err) != 0 ||
	    get_time(args, n, "end", 1, &ns, err) != 0)
		return -1;
	return 0;
}
