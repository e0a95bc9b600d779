/*
 * search_spec.c - what a trace search asks for, filled from flags (cli.c)
 * or the tui's form alike, checked the same way, and the one place a
 * tracequery.v1.Search request is built from it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

/* The orders the collector sorts by over the whole window. */
static const char *sort_names[SORT_COUNT] = {"newest", "longest", "spans",
	"errors"};

const char *
search_sort_name(search_sort s)
{
	return s < SORT_COUNT ? sort_names[s] : "?";
}

/* "1h30m": a sum of durations, each with its unit (common's parser reads
 * one term). */
int
duration_text_parse(const char *s, uint64_t *ns)
{
	char part[64];
	uint64_t total = 0;

	if (s == NULL || *s == '\0')
		return -1;
	while (*s != '\0') {
		size_t n = strspn(s, "0123456789.");
		n += strcspn(s + n, "0123456789.");
		if (n == 0 || n >= sizeof part)
			return -1;
		memcpy(part, s, n);
		part[n] = '\0';
		uint64_t v;
		if (duration_parse(part, &v) != 0 || total + v < total)
			return -1;
		total += v;
		s += n;
	}
	*ns = total;
	return 0;
}

static int
set_duration(uint64_t *out, const char *text, bool above_zero, char **cause)
{
	if (duration_text_parse(text, out) != 0) {
		xasprintf(cause, "bad duration '%s' (e.g. 250us, 100ms, 1.5s, "
		    "1h30m, 7d)", text);
		return -1;
	}
	if (above_zero && *out == 0) {
		xasprintf(cause, "%s", "must be above 0 (leave it out for no "
		    "limit)");
		return -1;
	}
	return 0;
}

static int
set_time(uint64_t *out, const char *text, char **cause)
{
	if (time_parse(text, out) != 0) {
		xasprintf(cause, "bad time '%s' (RFC 3339 or unix seconds)",
		    text);
		return -1;
	}
	return 0;
}

static int
set_limit(search_spec *s, const char *text, char **cause)
{
	char *end;

	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v <= 0 ||
	    v > SEARCH_MAX_LIMIT) {
		xasprintf(cause, "bad limit '%s' (1 to %d)", text,
		    SEARCH_MAX_LIMIT);
		return -1;
	}
	s->limit = (uint32_t)v;
	return 0;
}

static int
set_sort(search_spec *s, const char *text, char **cause)
{
	for (int i = 0; i < SORT_COUNT; i++) {
		if (strcmp(text, sort_names[i]) == 0) {
			s->sort = (search_sort)i;
			return 0;
		}
	}
	xasprintf(cause, "bad order '%s' (newest, longest, spans or errors)",
	    text);
	return -1;
}

static int
add_attr(search_spec *s, const char *text, char **cause)
{
	const char *eq = strchr(text, '=');

	if (eq == NULL || eq == text) {
		xasprintf(cause, "want KEY=VALUE, got '%s'", text);
		return -1;
	}
	if (s->nattrs == SEARCH_MAX_ATTRS) {
		xasprintf(cause, "at most %d attributes", SEARCH_MAX_ATTRS);
		return -1;
	}
	s->attrs[s->nattrs++] = text;
	return 0;
}

int
search_spec_set(search_spec *s, search_field f, const char *text,
    char **cause)
{
	uint64_t d;

	switch (f) {
	case SF_SERVICE:
		s->service = text;
		return 0;
	case SF_OPERATION:
		s->operation = text;
		return 0;
	case SF_ATTR:
		return add_attr(s, text, cause);
	case SF_MIN_DUR:
		return set_duration(&s->min_dur, text, false, cause);
	case SF_MAX_DUR:
		return set_duration(&s->max_dur, text, true, cause);
	case SF_SINCE:
		if (set_duration(&d, text, true, cause) != 0)
			return -1;
		s->from = d < now_unix_ns() ? now_unix_ns() - d : 1;
		s->have_since = true;
		return 0;
	case SF_FROM:
		s->have_from = true;
		return set_time(&s->from, text, cause);
	case SF_TO:
		s->have_to = true;
		return set_time(&s->to, text, cause);
	case SF_LIMIT:
		return set_limit(s, text, cause);
	case SF_SORT:
		return set_sort(s, text, cause);
	default:
		xasprintf(cause, "%s", "unknown field");
		return -1;
	}
}

int
search_spec_check(const search_spec *s, char **cause)
{
	const char *why = NULL;

	if (s->have_since && (s->have_from || s->have_to))
		why = "--since excludes --from/--to";
	else if (s->have_from && s->have_to && s->to < s->from)
		why = "--to is before --from";
	else if (s->min_dur && s->max_dur && s->max_dur < s->min_dur)
		why = "--max-duration is below --min-duration";
	if (why == NULL)
		return 0;
	xasprintf(cause, "%s", why);
	return -1;
}

void
search_req_build(search_req *r, const search_spec *s)
{
	static const Tracequery__V1__Search__Order orders[SORT_COUNT] = {
		TRACEQUERY__V1__SEARCH__ORDER__NEWEST,
		TRACEQUERY__V1__SEARCH__ORDER__LONGEST,
		TRACEQUERY__V1__SEARCH__ORDER__MOST_SPANS,
		TRACEQUERY__V1__SEARCH__ORDER__MOST_ERRORS,
	};

	memset(r, 0, sizeof *r);
	tracequery__v1__request__init(&r->req);
	tracequery__v1__search__init(&r->search);
	r->search.service = (char *)(uintptr_t)(s->service ? s->service : "");
	r->search.operation =
	    (char *)(uintptr_t)(s->operation ? s->operation : "");
	for (size_t i = 0; i < s->nattrs; i++) {
		const char *eq = strchr(s->attrs[i], '=');
		tracequery__v1__attr_filter__init(&r->attrs[i]);
		r->keys[i] = xstrndup(s->attrs[i], (size_t)(eq - s->attrs[i]));
		r->attrs[i].key = r->keys[i];
		r->attrs[i].value = (char *)(uintptr_t)(eq + 1);
		r->attr_ptrs[i] = &r->attrs[i];
	}
	r->nkeys = s->nattrs;
	r->search.n_attributes = s->nattrs;
	r->search.attributes = r->attr_ptrs;
	r->search.min_duration_ns = s->min_dur;
	r->search.max_duration_ns = s->max_dur;
	r->search.start_unix_nano = s->from;
	r->search.end_unix_nano = s->to;
	r->search.errors_only = s->errors;
	r->search.limit = s->limit;
	r->search.count_total = s->count;
	r->search.order = orders[s->sort < SORT_COUNT ? s->sort : 0];
	r->req.query_case = TRACEQUERY__V1__REQUEST__QUERY_SEARCH;
	r->req.search = &r->search;
}

void
search_req_fini(search_req *r)
{
	for (size_t i = 0; i < r->nkeys; i++)
		free(r->keys[i]);
	r->nkeys = 0;
}

int
search_run(const client_opts *co, const search_spec *s, pb_response **resp,
    char **cause)
{
	search_req r;

	search_req_build(&r, s);
	int rv = query_run(co, &r.req, resp, cause);
	search_req_fini(&r);
	return rv;
}

/* Writes n with thousands separators ("1,234"). */
static void
group_digits(uint64_t n, char *buf, size_t len)
{
	char d[32];
	int nd = snprintf(d, sizeof d, "%llu", (unsigned long long)n);
	size_t o = 0;

	for (int i = 0; i < nd && o + 2 < len; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = d[i];
	}
	buf[o] = '\0';
}

bool
search_total_text(const Tracequery__V1__SearchResult *r, uint32_t limit,
    char *buf, size_t len)
{
	size_t n = r->n_traces;
	char total[32];

	if (r->total > n) {
		group_digits(r->total, total, sizeof total);
		snprintf(buf, len, "%zu of %s%s traces", n,
		    r->total_is_lower_bound ? "at least " : "", total);
		return true;
	}
	/* total == n: counted, all listed; 0: not counted. */
	bool cut = r->total == 0 && n > 0 && n >= limit;
	snprintf(buf, len, "%zu%s trace%s", n, cut ? "+" : "",
	    n == 1 ? "" : "s");
	return cut;
}
