/*
 * model.c - one trace as a tree: parent links, children ordered by start,
 * depth, self time, critical path, clock-skew and missing-parent flags,
 * collapse state and the visible rows, search. No curses, no I/O.
 *
 * Spans are never moved to make a trace look tidy: a child that starts
 * before its parent or ends after it keeps its times and gets MSPAN_SKEW;
 * a span whose parent is not in the trace is shown as a root with
 * MSPAN_ORPHAN. Parent cycles (only possible in hostile data) are cut at
 * one span, which then counts as an orphan.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

/* ---------------------------------------------------------------- names */

const char *
kind_name(int kind)
{
	static const char *names[] = {"unspecified", "internal", "server",
		"client", "producer", "consumer"};

	return kind >= 0 && kind < (int)ARRAY_LEN(names) ? names[kind] :
							     "unknown";
}

const char *
status_name(int code)
{
	static const char *names[] = {"unset", "ok", "error"};

	return code >= 0 && code < (int)ARRAY_LEN(names) ? names[code] :
							     "unknown";
}

/* FNV-1a: the same service gets the same colour in every run and trace. */
unsigned
service_color(const char *service, unsigned ncolors)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)service; *p; p++)
		h = (h ^ *p) * 16777619u;
	return ncolors ? h % ncolors : 0;
}

const char *
resource_service(const pb_resource *r)
{
	if (r == NULL)
		return NULL;
	for (size_t i = 0; i < r->n_attributes; i++) {
		const pb_kv *kv = r->attributes[i];
		if (kv->key != NULL && strcmp(kv->key, "service.name") == 0 &&
		    kv->value != NULL &&
		    kv->value->value_case ==
			OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
			return kv->value->string_value;
	}
	return NULL;
}

/* Appends to buf at *o, never past len. */
static void
put(char *buf, size_t len, size_t *o, const char *s)
{
	size_t n = strlen(s);

	if (*o + 1 >= len)
		return;
	if (*o + n >= len)
		n = len - *o - 1;
	memcpy(buf + *o, s, n);
	*o += n;
	buf[*o] = '\0';
}

static void
any_text(const pb_any *v, char *buf, size_t len, size_t *o, int depth)
{
	char tmp[64];

	if (v == NULL)
		return;
	if (depth > 4) {
		put(buf, len, o, "...");
		return;
	}
	switch (v->value_case) {
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
		put(buf, len, o, v->string_value ? v->string_value : "");
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
		put(buf, len, o, v->bool_value ? "true" : "false");
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
		snprintf(tmp, sizeof tmp, "%" PRId64, v->int_value);
		put(buf, len, o, tmp);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
		snprintf(tmp, sizeof tmp, "%.17g", v->double_value);
		put(buf, len, o, tmp);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE: {
		size_t n = v->bytes_value.len > 24 ? 24 : v->bytes_value.len;
		put(buf, len, o, "0x");
		hex_encode(v->bytes_value.data, n, tmp);
		put(buf, len, o, tmp);
		if (n < v->bytes_value.len)
			put(buf, len, o, "...");
		break;
	}
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
		put(buf, len, o, "[");
		for (size_t i = 0; v->array_value != NULL &&
		     i < v->array_value->n_values; i++) {
			if (i > 0)
				put(buf, len, o, ", ");
			any_text(v->array_value->values[i], buf, len, o, depth + 1);
		}
		put(buf, len, o, "]");
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
		put(buf, len, o, "{");
		for (size_t i = 0; v->kvlist_value != NULL &&
		     i < v->kvlist_value->n_values; i++) {
			const pb_kv *kv = v->kvlist_value->values[i];
			if (i > 0)
				put(buf, len, o, ", ");
			put(buf, len, o, kv->key ? kv->key : "");
			put(buf, len, o, "=");
			any_text(kv->value, buf, len, o, depth + 1);
		}
		put(buf, len, o, "}");
		break;
	default:
		break;
	}
}

char *
any_to_text(const pb_any *v, char *buf, size_t len)
{
	size_t o = 0;

	if (len > 0)
		buf[0] = '\0';
	any_text(v, buf, len, &o, 0);
	return buf;
}

/* ---------------------------------------------------------------- build */

/* Open-addressing map from span ID to index. */
typedef struct idmap {
	int *slot;
	size_t mask;
} idmap;

static uint64_t
id_hash(const uint8_t id[8])
{
	uint64_t h;

	memcpy(&h, id, 8);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static void
idmap_init(idmap *map, int n)
{
	size_t cap = 16;

	while (cap < (size_t)n * 2)
		cap <<= 1;
	map->slot = xmalloc(cap * sizeof *map->slot);
	for (size_t i = 0; i < cap; i++)
		map->slot[i] = -1;
	map->mask = cap - 1;
}

/* Returns the index of id, inserting i when absent. */
static int
idmap_put(idmap *map, const mspan *spans, const uint8_t id[8], int i)
{
	for (size_t h = id_hash(id) & map->mask;; h = (h + 1) & map->mask) {
		int j = map->slot[h];
		if (j < 0) {
			if (i >= 0)
				map->slot[h] = i;
			return i;
		}
		if (memcmp(spans[j].span_id, id, 8) == 0)
			return j;
	}
}

static const mspan *sort_spans;	/* qsort has no context argument */

static int
cmp_start(const void *a, const void *b)
{
	const mspan *x = &sort_spans[*(const int *)a];
	const mspan *y = &sort_spans[*(const int *)b];

	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return *(const int *)a - *(const int *)b;
}

static int
cmp_end_desc(const void *a, const void *b)
{
	const mspan *x = &sort_spans[*(const int *)a];
	const mspan *y = &sort_spans[*(const int *)b];

	if (x->end_ns != y->end_ns)
		return x->end_ns > y->end_ns ? -1 : 1;
	return *(const int *)a - *(const int *)b;
}

/* Links children (sorted by start) and roots from the parent indices. */
static void
link_tree(model_trace *m, const int *order)
{
	for (int i = 0; i < m->nspans; i++) {
		m->spans[i].first_child = -1;
		m->spans[i].next_sibling = -1;
		m->spans[i].nchildren = 0;
	}
	m->nroots = 0;
	for (int k = m->nspans - 1; k >= 0; k--) {
		int i = order[k];
		mspan *s = &m->spans[i];
		if (s->parent >= 0) {
			mspan *p = &m->spans[s->parent];
			s->next_sibling = p->first_child;
			p->first_child = i;
			p->nchildren++;
		} else {
			m->nroots++;
		}
	}
	free(m->roots);
	m->roots = xmalloc(((size_t)m->nroots + 1) * sizeof *m->roots);
	for (int k = 0, r = 0; k < m->nspans; k++)
		if (m->spans[order[k]].parent < 0)
			m->roots[r++] = order[k];
}

/* Next span in preorder after i, skipping i's children when skip_kids. */
static int
next_preorder(const model_trace *m, int i, bool skip_kids)
{
	const mspan *s = &m->spans[i];

	if (!skip_kids && s->first_child >= 0)
		return s->first_child;
	while (i >= 0) {
		if (m->spans[i].next_sibling >= 0)
			return m->spans[i].next_sibling;
		if (m->spans[i].parent < 0)
			return -2;	/* end of this root's tree */
		i = m->spans[i].parent;
	}
	return -2;
}

/* Calls visit order: fills out with all spans, returns how many. Spans in
 * a parent cycle are not reachable and not written. */
static int
walk_all(const model_trace *m, int *out, bool visible_only)
{
	int n = 0;

	for (int r = 0; r < m->nroots; r++) {
		int i = m->roots[r];
		while (i >= 0) {
			out[n++] = i;
			bool skip = visible_only &&
			    (m->spans[i].flags & MSPAN_COLLAPSED);
			i = next_preorder(m, i, skip);
		}
	}
	return n;
}

/* Cuts parent cycles: a span on a cycle becomes an orphan root. */
static void
cut_cycles(model_trace *m, const int *order)
{
	int *seen = xcalloc((size_t)m->nspans, sizeof *seen);
	int *tmp = xmalloc((size_t)m->nspans * sizeof *tmp);
	int n = walk_all(m, tmp, false);
	bool cut = false;

	if (n == m->nspans)
		goto done;
	for (int k = 0; k < n; k++)
		seen[tmp[k]] = -1;	/* reachable from a root */
	for (int k = 0; k < m->nspans; k++) {
		int i = order[k], j = i;
		while (j >= 0 && seen[j] == 0) {
			seen[j] = i + 1;
			int p = m->spans[j].parent;
			if (p >= 0 && seen[p] == i + 1) {
				m->spans[p].parent = -1;
				m->spans[p].flags |= MSPAN_ORPHAN;
				m->norphans++;
				cut = true;
				break;
			}
			j = p;
		}
	}
	if (cut)
		link_tree(m, order);
done:
	free(tmp);
	free(seen);
}

/* Depth, skew, self time. */
static void
annotate(model_trace *m, const int *pre, int n)
{
	m->max_depth = 0;
	m->nskew = 0;
	for (int k = 0; k < n; k++) {
		mspan *s = &m->spans[pre[k]];
		s->depth = s->parent >= 0 ? m->spans[s->parent].depth + 1 : 0;
		if (s->depth > m->max_depth)
			m->max_depth = s->depth;
		if (s->parent >= 0) {
			const mspan *p = &m->spans[s->parent];
			if (s->start_ns < p->start_ns || s->end_ns > p->end_ns) {
				s->flags |= MSPAN_SKEW;
				m->nskew++;
			}
		}
		/* Union of the children's intervals, clipped to the span. */
		uint64_t covered = 0, cur_s = 0, cur_e = 0;
		bool open = false;
		for (int c = s->first_child; c >= 0;
		     c = m->spans[c].next_sibling) {
			uint64_t cs = m->spans[c].start_ns, ce = m->spans[c].end_ns;
			if (cs < s->start_ns)
				cs = s->start_ns;
			if (ce > s->end_ns)
				ce = s->end_ns;
			if (ce <= cs)
				continue;
			if (open && cs <= cur_e) {
				if (ce > cur_e)
					cur_e = ce;
			} else {
				if (open)
					covered += cur_e - cur_s;
				cur_s = cs;
				cur_e = ce;
				open = true;
			}
		}
		if (open)
			covered += cur_e - cur_s;
		s->self_ns = covered < s->dur_ns ? s->dur_ns - covered : 0;
	}
}

/*
 * Critical path (as Jaeger draws it): from a root, walk its children from
 * the one that ends last; each child that starts before the cursor is on
 * the path and moves the cursor to its start. Each span's choice depends
 * only on its own children, so a plain work list suffices (no recursion).
 */
static void
critical_path(model_trace *m)
{
	int *work = xmalloc(((size_t)m->nspans + 1) * sizeof *work);
	int *kids = xmalloc(((size_t)m->nspans + 1) * sizeof *kids);
	int nw = 0;

	for (int r = 0; r < m->nroots; r++)
		if (!(m->spans[m->roots[r]].flags & MSPAN_ORPHAN))
			work[nw++] = m->roots[r];
	if (nw == 0 && m->nroots > 0)
		work[nw++] = m->roots[0];
	sort_spans = m->spans;
	while (nw > 0) {
		int i = work[--nw];
		mspan *s = &m->spans[i];
		int nk = 0;
		s->flags |= MSPAN_CRIT;
		for (int c = s->first_child; c >= 0; c = m->spans[c].next_sibling)
			kids[nk++] = c;
		qsort(kids, (size_t)nk, sizeof *kids, cmp_end_desc);
		uint64_t cursor = s->end_ns;
		for (int k = 0; k < nk; k++) {
			const mspan *c = &m->spans[kids[k]];
			if (c->start_ns < cursor || (c->dur_ns == 0 &&
			    c->start_ns <= cursor && cursor == s->end_ns)) {
				work[nw++] = kids[k];
				cursor = c->start_ns;
			}
		}
	}
	free(kids);
	free(work);
}

static int
count_spans(pb_resource_spans *const *rs, size_t n)
{
	size_t total = 0;

	for (size_t r = 0; r < n; r++)
		for (size_t s = 0; rs[r] != NULL && s < rs[r]->n_scope_spans; s++)
			total += rs[r]->scope_spans[s]->n_spans;
	return total > (size_t)(INT32_MAX / 8) ? INT32_MAX / 8 : (int)total;
}

static int
service_index(model_trace *m, const char *svc)
{
	for (int i = m->nservices - 1; i >= 0; i--)
		if (strcmp(m->services[i], svc) == 0)
			return i;
	m->services = xrealloc(m->services,
	    ((size_t)m->nservices + 1) * sizeof *m->services);
	m->services[m->nservices] = xstrdup(svc);
	return m->nservices++;
}

/* Fills s from the protobuf span p; returns false for an unusable span. */
static bool
fill_span(model_trace *m, mspan *s, const pb_span *p, const char *svc,
    san_mode san)
{
	if (p->span_id.len != 8)
		return false;
	memcpy(s->span_id, p->span_id.data, 8);
	s->has_parent = p->parent_span_id.len == 8 &&
	    !is_all_zero(p->parent_span_id.data, 8);
	if (s->has_parent)
		memcpy(s->parent_id, p->parent_span_id.data, 8);
	s->name = sanitize_dup(p->name, san);
	s->kind = (int)p->kind;
	s->status = p->status != NULL ? (int)p->status->code : 0;
	s->start_ns = p->start_time_unix_nano;
	s->end_ns = p->end_time_unix_nano < s->start_ns ? s->start_ns :
							    p->end_time_unix_nano;
	s->dur_ns = s->end_ns - s->start_ns;
	s->parent = -1;
	s->pb = p;
	if (s->status == 2) {
		s->flags |= MSPAN_ERROR;
		m->nerrors++;
	}
	s->service_idx = service_index(m, svc);
	s->service = m->services[s->service_idx];
	s->color = service_color(s->service, TERM_NSERVICE_COLORS);
	return true;
}

int
model_build(model_trace *m, pb_resource_spans *const *rs, size_t n,
    san_mode san)
{
	int cap = count_spans(rs, n);
	bool have_id = false;

	memset(m, 0, sizeof *m);
	m->san = san;
	if (cap == 0)
		return -1;
	m->spans = xcalloc((size_t)cap, sizeof *m->spans);
	for (size_t r = 0; r < n; r++) {
		if (rs[r] == NULL)
			continue;
		const char *raw = resource_service(rs[r]->resource);
		char *svc = sanitize_dup(raw != NULL && *raw ? raw :
							       "unknown_service",
		    san);
		for (size_t k = 0; k < rs[r]->n_scope_spans; k++) {
			const Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
			    rs[r]->scope_spans[k];
			for (size_t j = 0; j < ss->n_spans && m->nspans < cap; j++) {
				const pb_span *p = ss->spans[j];
				mspan *s = &m->spans[m->nspans];
				if (!fill_span(m, s, p, svc, san))
					continue;
				s->resource = rs[r]->resource;
				s->scope_name = ss->scope ? ss->scope->name : NULL;
				s->scope_version = ss->scope ?
				    ss->scope->version : NULL;
				if (!have_id && p->trace_id.len == 16) {
					memcpy(m->trace_id, p->trace_id.data, 16);
					have_id = true;
				}
				m->nspans++;
			}
		}
		free(svc);
	}
	if (m->nspans == 0)
		return -1;
	hex_encode(m->trace_id, 16, m->trace_hex);

	/* Parents by span ID; a duplicate ID keeps the first span. */
	idmap map;
	idmap_init(&map, m->nspans);
	for (int i = 0; i < m->nspans; i++)
		if (idmap_put(&map, m->spans, m->spans[i].span_id, i) != i)
			m->spans[i].flags |= MSPAN_DUP;
	for (int i = 0; i < m->nspans; i++) {
		mspan *s = &m->spans[i];
		if (!s->has_parent)
			continue;
		int p = idmap_put(&map, m->spans, s->parent_id, -1);
		if (p >= 0 && p != i) {
			s->parent = p;
		} else {
			s->flags |= MSPAN_ORPHAN;
			m->norphans++;
		}
	}
	free(map.slot);

	int *order = xmalloc((size_t)m->nspans * sizeof *order);
	for (int i = 0; i < m->nspans; i++)
		order[i] = i;
	sort_spans = m->spans;
	qsort(order, (size_t)m->nspans, sizeof *order, cmp_start);
	m->start_ns = m->spans[order[0]].start_ns;
	m->end_ns = 0;
	for (int i = 0; i < m->nspans; i++)
		if (m->spans[i].end_ns > m->end_ns)
			m->end_ns = m->spans[i].end_ns;
	link_tree(m, order);
	cut_cycles(m, order);
	free(order);

	m->rows = xmalloc((size_t)m->nspans * sizeof *m->rows);
	m->nrows = walk_all(m, m->rows, false);
	annotate(m, m->rows, m->nrows);
	critical_path(m);
	return 0;
}

void
model_own(model_trace *m, pb_response *resp)
{
	m->owned = resp;
}

void
model_free(model_trace *m)
{
	if (m == NULL)
		return;
	for (int i = 0; m->spans != NULL && i < m->nspans; i++)
		free(m->spans[i].name);
	for (int i = 0; i < m->nservices; i++)
		free(m->services[i]);
	free(m->services);
	free(m->spans);
	free(m->roots);
	free(m->rows);
	if (m->owned != NULL)
		tracequery__v1__response__free_unpacked(m->owned, NULL);
	memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------- rows */

void
model_layout(model_trace *m)
{
	m->nrows = walk_all(m, m->rows, true);
}

void
model_preorder(const model_trace *m, int *out)
{
	walk_all(m, out, false);
}

void
model_set_collapsed(model_trace *m, int i, bool collapsed, bool recursive)
{
	int stop;

	if (i < 0 || i >= m->nspans)
		return;
	if (!recursive) {
		if (collapsed && m->spans[i].first_child >= 0)
			m->spans[i].flags |= MSPAN_COLLAPSED;
		else
			m->spans[i].flags &= ~(unsigned)MSPAN_COLLAPSED;
		return;
	}
	/* The subtree of i is i's preorder successors up to the first span
	 * that next_preorder(i, skip) would reach. */
	stop = next_preorder(m, i, true);
	for (int j = i; j >= 0 && j != stop; j = next_preorder(m, j, false)) {
		if (collapsed && m->spans[j].first_child >= 0)
			m->spans[j].flags |= MSPAN_COLLAPSED;
		else
			m->spans[j].flags &= ~(unsigned)MSPAN_COLLAPSED;
	}
}

void
model_collapse_all(model_trace *m)
{
	for (int i = 0; i < m->nspans; i++)
		if (m->spans[i].first_child >= 0)
			m->spans[i].flags |= MSPAN_COLLAPSED;
	model_layout(m);
}

void
model_expand_all(model_trace *m)
{
	for (int i = 0; i < m->nspans; i++)
		m->spans[i].flags &= ~(unsigned)MSPAN_COLLAPSED;
	model_layout(m);
}

void
model_collapse_big(model_trace *m, int max_rows)
{
	if (m->nspans <= max_rows)
		return;
	int *upto = xcalloc((size_t)m->max_depth + 2, sizeof *upto);
	for (int i = 0; i < m->nspans; i++)
		upto[m->spans[i].depth]++;
	for (int d = 1; d <= m->max_depth; d++)
		upto[d] += upto[d - 1];
	int keep = 0;	/* deepest level that still fits */
	while (keep + 1 <= m->max_depth && upto[keep + 1] <= max_rows)
		keep++;
	for (int i = 0; i < m->nspans; i++) {
		mspan *s = &m->spans[i];
		/* Too deep, or too wide to read: start collapsed. */
		if (s->first_child >= 0 &&
		    (s->depth >= keep || s->nchildren > max_rows))
			s->flags |= MSPAN_COLLAPSED;
	}
	free(upto);
	model_layout(m);
}

int
model_row_of(const model_trace *m, int i)
{
	for (int r = 0; r < m->nrows; r++)
		if (m->rows[r] == i)
			return r;
	return -1;
}

int
model_reveal(model_trace *m, int i)
{
	bool changed = false;

	for (int p = m->spans[i].parent; p >= 0; p = m->spans[p].parent) {
		if (m->spans[p].flags & MSPAN_COLLAPSED) {
			m->spans[p].flags &= ~(unsigned)MSPAN_COLLAPSED;
			changed = true;
		}
	}
	if (changed)
		model_layout(m);
	return model_row_of(m, i);
}

int
model_next_flag(const model_trace *m, int from, int dir, unsigned flag)
{
	int *pre = xmalloc((size_t)m->nspans * sizeof *pre);
	int n = walk_all(m, pre, false), pos = -1, found = -1;

	for (int k = 0; k < n; k++)
		if (pre[k] == from)
			pos = k;
	for (int step = 1; step <= n; step++) {
		int k = pos < 0 ? (dir > 0 ? step - 1 : n - step) :
				  ((pos + dir * step) % n + n) % n;
		if (m->spans[pre[k]].flags & flag) {
			found = pre[k];
			break;
		}
	}
	free(pre);
	return found;
}

int
model_slowest(const model_trace *m)
{
	int best = -1;

	for (int i = 0; i < m->nspans; i++)
		if (best < 0 || m->spans[i].self_ns > m->spans[best].self_ns)
			best = i;
	return best;
}

/* ---------------------------------------------------------------- search */

static bool
contains_ci(const char *hay, const char *needle)
{
	size_t nl = strlen(needle);

	if (hay == NULL)
		return false;
	for (const char *h = hay; *h != '\0'; h++) {
		size_t k = 0;
		while (k < nl && h[k] != '\0' &&
		    tolower((unsigned char)h[k]) ==
			tolower((unsigned char)needle[k]))
			k++;
		if (k == nl)
			return true;
	}
	return nl == 0;
}

static bool
kvs_match(pb_kv *const *kv, size_t n, const char *q)
{
	char buf[1024];

	for (size_t i = 0; i < n; i++) {
		if (contains_ci(kv[i]->key, q))
			return true;
		if (contains_ci(any_to_text(kv[i]->value, buf, sizeof buf), q))
			return true;
	}
	return false;
}

static bool
span_matches(const mspan *s, const char *q)
{
	const pb_span *p = s->pb;

	if (contains_ci(s->name, q) || contains_ci(s->service, q))
		return true;
	if (p == NULL)
		return false;
	if (kvs_match(p->attributes, p->n_attributes, q))
		return true;
	for (size_t e = 0; e < p->n_events; e++)
		if (contains_ci(p->events[e]->name, q) ||
		    kvs_match(p->events[e]->attributes,
			p->events[e]->n_attributes, q))
			return true;
	return p->status != NULL && contains_ci(p->status->message, q);
}

int
model_search(model_trace *m, const char *q)
{
	int n = 0;

	for (int i = 0; i < m->nspans; i++) {
		mspan *s = &m->spans[i];
		s->flags &= ~(unsigned)MSPAN_MATCH;
		if (q != NULL && *q != '\0' && span_matches(s, q)) {
			s->flags |= MSPAN_MATCH;
			n++;
		}
	}
	return n;
}

/* ---------------------------------------------------------------- axis */

void
axis_cells(const axis *a, uint64_t s, uint64_t e, int *c0, int *c1)
{
	double span = a->t1 > a->t0 ? (double)(a->t1 - a->t0) : 1.0;
	double x0 = ((double)s - (double)a->t0) / span * a->width;
	double x1 = ((double)e - (double)a->t0) / span * a->width;

	if (x0 < 0)
		x0 = 0;
	if (x1 > a->width)
		x1 = a->width;
	*c0 = (int)x0;
	*c1 = (int)(x1 + 0.5);
	if (*c0 >= a->width)
		*c0 = a->width - 1;
	if (*c1 <= *c0)
		*c1 = *c0 + 1;
	if (*c1 > a->width)
		*c1 = a->width;
	if (x1 <= 0 || (double)s > (double)a->t1)	/* outside the window */
		*c0 = *c1 = -1;
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) of at least min. */
static uint64_t
nice_step(uint64_t min)
{
	uint64_t p = 1;

	while (p * 10 <= min && p < UINT64_MAX / 10)
		p *= 10;
	if (p >= min)
		return p;
	if (2 * p >= min)
		return 2 * p;
	if (5 * p >= min)
		return 5 * p;
	return 10 * p;
}

void
axis_ticks(const axis *a, char *out, size_t len)
{
	int w = a->width;
	char lab[32];

	if (len == 0)
		return;
	if ((size_t)w >= len)
		w = (int)len - 1;
	memset(out, ' ', (size_t)(w > 0 ? w : 0));
	out[w > 0 ? w : 0] = '\0';
	if (w < 4)
		return;
	uint64_t range = a->t1 > a->t0 ? a->t1 - a->t0 : 1;
	/* At least two ticks from 12 cells, so a narrow axis has a unit. */
	int ticks = w / 12 > 2 ? w / 12 : w >= 12 ? 2 : 1;
	uint64_t step = nice_step(range / (uint64_t)ticks ? range / (uint64_t)ticks :
								 1);
	uint64_t first = (a->t0 + step - 1) / step * step;
	for (uint64_t t = first; t <= a->t1; t += step) {
		int c = (int)((double)(t - a->t0) / (double)range * w);
		if (t == 0)
			snprintf(lab, sizeof lab, "0");
		else
			duration_format(t, lab, sizeof lab);
		int n = (int)strlen(lab);
		if (c + n > w)
			c = w - n;
		if (c < 0)
			continue;
		/* Keep one blank before each label so they never touch. */
		bool free_cells = true;
		for (int k = c - 1 > 0 ? c - 1 : 0; k < c + n && k < w; k++)
			if (out[k] != ' ')
				free_cells = false;
		if (free_cells)
			memcpy(out + c, lab, (size_t)n);
		if (step == 0)
			break;
	}
}
