/*
 * span.c - the span hot path: start, attributes, events, links, status,
 * end.
 *
 * A sampled span is a record from the pool; what it records (name,
 * attributes, events, links, status message, tracestate) is appended to its
 * fixed arena as 8-byte aligned entries (struct trace__ent), and encoded to
 * OTLP later by the exporter thread. Nothing here locks, allocates (once the
 * thread's caches are warm) or enters the kernel, except for the clock
 * (vDSO) and the rare exporter wake-up (trace__kick, once per export cycle).
 * When the arena or a limit is exhausted, the item is dropped and counted
 * in the span's dropped_*_count.
 */
#include <stdlib.h>
#include <string.h>

#include "trace_impl.h"

#define LIGHT_CACHE_MAX 256
#define PREFETCH_AHEAD 2  /* records fetched ahead of use */
#define KEY_MAX 0xffff

static const char empty[1] = "";

/* ------------------------------------------------------------------ */
/* Arena                                                              */
/* ------------------------------------------------------------------ */

static inline uint32_t
ent_size(size_t klen, size_t vlen)
{
	return (uint32_t)((sizeof(struct trace__ent) + klen + vlen + 7) &
	    ~(size_t)7);
}

const struct trace__ent *
trace__ent_next(const struct trace__rec *r, uint32_t *off)
{
	const struct trace__ent *e;

	if (*off >= r->used)
		return NULL;
	e = (const struct trace__ent *)(r->arena + *off);
	*off += ent_size(e->klen, e->vlen);
	return e;
}

/* Copies n bytes; short keys and values (the common case) without a
 * call into libc, as two possibly overlapping loads and stores. */
static inline void
copy(unsigned char *d, const void *src, size_t n)
{
	const unsigned char *s = src;
	uint64_t a, b;
	uint32_t x, y;

	if (n >= 8 && n <= 16) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		memcpy(d, &x, 4);
		memcpy(d + n - 4, &y, 4);
	} else if (n < 4) {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	} else {
		memcpy(d, s, n);
	}
}

/* Appends an entry; NULL when the arena is full. */
static struct trace__ent *
ent_add(struct trace__rec *r, uint8_t kind, uint8_t type, const void *key,
    size_t klen, const void *val, size_t vlen)
{
	uint32_t need = ent_size(klen, vlen);
	struct trace__ent *e;
	unsigned char *p;

	if (TRACE_UNLIKELY(need > r->cap - r->used))
		return NULL;
	e = (struct trace__ent *)(r->arena + r->used);
	e->kind = kind;
	e->type = type;
	e->klen = (uint16_t)klen;
	e->vlen = (uint32_t)vlen;
	p = (unsigned char *)(e + 1);
	copy(p, key, klen);
	copy(p + klen, val, vlen);
	r->used += need;
	return e;
}

static uint32_t
ent_off1(const struct trace__rec *r, const struct trace__ent *e)
{
	return (uint32_t)((const unsigned char *)e - r->arena) + 1;
}

size_t
trace__utf8_cut(const char *s, size_t len, uint32_t max)
{
	size_t i = 0;
	uint32_t chars = 0;

	if (max == TRACE_NO_LIMIT || len <= max)
		return len;
	while (i < len && chars < max) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		chars++;
	}
	return i;
}

/* Stores a NUL-terminated copy of a string as entry kind; returns the
 * entry or NULL. Used for the name, tracestate and status message. */
static struct trace__ent *
ent_add_cstr(struct trace__rec *r, uint8_t kind, const char *s, size_t len)
{
	if (len > KEY_MAX)
		len = KEY_MAX;
	return ent_add(r, kind, 0, s, len, empty, 1);
}

/* ------------------------------------------------------------------ */
/* Start                                                              */
/* ------------------------------------------------------------------ */

static struct trace__rec *
rec_get(struct trace__tstate *ts)
{
	struct trace__rec *r = ts->cache;

	if (TRACE_UNLIKELY(r == NULL)) {
		if ((r = trace__pool_get_chain(ts->tr)) == NULL) {
			trace__kick(ts->tr);
			return NULL;
		}
	}
	ts->cache = r->next;
	/* Records come back cold (last written by the exporter on another
	 * core): fetch the one PREFETCH_AHEAD spans ahead for writing now.
	 * The links to walk there sit in records prefetched by earlier
	 * calls, so the walk itself rarely misses. */
	{
		const struct trace__rec *p = r;

		for (int i = 0; i < PREFETCH_AHEAD && p != NULL; i++)
			p = p->next;
		if (TRACE_LIKELY(p != NULL)) {
			const char *n = (const char *)p;

			__builtin_prefetch(n, 1, 3);
			__builtin_prefetch(n + 64, 1, 3);
			__builtin_prefetch(n + 128, 1, 3);
			__builtin_prefetch(n + 192, 1, 3);
		}
	}
	memset(&r->start_ns, 0, offsetof(struct trace__rec, arena) -
	    offsetof(struct trace__rec, start_ns));
	return r;
}

static struct trace__light *
light_get(struct trace__tstate *ts)
{
	struct trace__light *l = ts->light;

	if (TRACE_LIKELY(l != NULL)) {
		ts->light = l->next;
		ts->nlight--;
	} else if ((l = malloc(sizeof *l)) == NULL) {
		trace__inc(&ts->c.dropped_nomem);
		return NULL;
	}
	l->h.recording = 0;
	return l;
}

static void
light_put(struct trace__tstate *ts, struct trace__light *l)
{
	if (ts != NULL && ts->nlight < LIGHT_CACHE_MAX) {
		l->next = ts->light;
		ts->light = l;
		ts->nlight++;
	} else {
		free(l);
	}
}

static bool
ctx_valid(const trace_context *c)
{
	static const uint8_t zero[16];

	return memcmp(c->trace_id.bytes, zero, 16) != 0 &&
	    memcmp(c->span_id.bytes, zero, 8) != 0;
}

/* Where a new span's context comes from. */
struct origin {
	const trace_trace_id *tid;
	const trace_span_id *pid;
	const char *tracestate;
	uint8_t flags;
	bool remote;
};

static void
resolve_parent(struct trace__tstate *ts, const trace_span_options *o,
    struct origin *org)
{
	const struct trace_span *p = ts->current;

	if (o != NULL) {
		if (o->remote != NULL && ctx_valid(o->remote)) {
			org->tid = &o->remote->trace_id;
			org->pid = &o->remote->span_id;
			org->tracestate = o->remote->tracestate;
			org->flags = o->remote->flags;
			org->remote = true;
			return;
		}
		if (o->parent != NULL)
			p = o->parent;
		else if (o->new_root)
			p = NULL;
	}
	if (p != NULL) {
		org->tid = &p->trace_id;
		org->pid = &p->span_id;
		org->tracestate = p->tracestate;
		org->flags = p->flags;
	}
}

static void
record_init(struct trace__rec *r, const char *name, const char *tracestate,
    uint64_t start_ns)
{
	size_t tl = tracestate[0] ?
	    strnlen(tracestate, TRACE_TRACESTATE_MAX) : 0;
	struct trace__ent *e;

	r->h.tracestate = empty;
	r->h.dropped = 0;
	if (TRACE_UNLIKELY(tl != 0) &&
	    (e = ent_add_cstr(r, TRACE__ENT_TSTATE, tracestate, tl)) != NULL)
		r->h.tracestate = trace__ent_key(e);
	if (name != NULL && (e = ent_add_cstr(r, TRACE__ENT_NAME, name,
	    strlen(name))) != NULL)
		r->name_off = ent_off1(r, e);
	r->start_ns = start_ns ? start_ns : trace__now_ns();
}

static void
light_init(struct trace__light *l, const char *tracestate, uint8_t dropped)
{
	size_t tl;

	l->h.dropped = dropped;
	l->h.tracestate = l->ts;
	if (TRACE_LIKELY(tracestate[0] == '\0')) {
		l->ts[0] = '\0';
		return;
	}
	tl = strnlen(tracestate, TRACE_TRACESTATE_MAX);
	memcpy(l->ts, tracestate, tl);
	l->ts[tl] = '\0';
}

/* Inlined into both public starts: a call less on the hot path. */
static inline __attribute__((always_inline)) trace_span *
span_begin(struct trace__tstate *ts, const char *name,
    const trace_span_options *o)
{
	struct trace__tracer *tr = ts->tr;
	struct origin org = {.tid = NULL, .tracestate = empty};
	uint64_t tlo, thi;
	struct trace_span *s;
	struct trace__rec *r = NULL;
	struct trace__light *l;
	bool sampled;

	resolve_parent(ts, o, &org);
	/* The trace ID moves as two 8-byte halves: a 16-byte copy of two
	 * fresh 8-byte stores would stall store-to-load forwarding. */
	if (org.tid != NULL) {
		memcpy(&tlo, org.tid->bytes, 8);
		memcpy(&thi, org.tid->bytes + 8, 8);
	} else {
		trace__new_trace_id(&tlo, &thi);
	}
	sampled = trace__sample(tr, org.tid != NULL,
	    (org.flags & TRACE_FLAG_SAMPLED) != 0, thi);
	if (TRACE_LIKELY(sampled && tr->record_ok) &&
	    TRACE_LIKELY((r = rec_get(ts)) != NULL)) {
		s = &r->h;
	} else {
		if ((l = light_get(ts)) == NULL)
			return NULL;
		light_init(l, org.tracestate,
		    sampled ? (tr->record_ok ? 1 : 2) : 0);
		s = &l->h;
	}
	memcpy(s->trace_id.bytes, &tlo, 8);
	memcpy(s->trace_id.bytes + 8, &thi, 8);
	trace__new_span_id(&s->span_id);
	s->has_parent = org.tid != NULL;
	s->parent_remote = org.remote;
	if (org.tid != NULL)
		s->parent_id = *org.pid;
	/* A new trace's ID is all random (Level 2 flag); a continued trace
	 * keeps the flag as received. */
	s->flags = (uint8_t)((org.tid != NULL ?
	    (org.flags & TRACE_FLAG_RANDOM) : TRACE_FLAG_RANDOM) |
	    (sampled ? TRACE_FLAG_SAMPLED : 0));
	s->kind = o != NULL && o->kind != 0 ? (uint8_t)o->kind :
	    TRACE_KIND_INTERNAL;
	s->status = TRACE_STATUS_UNSET;
	if (o != NULL && o->detached) {
		s->prev = NULL;
		s->cur_owner = NULL;
	} else {
		s->prev = ts->current;
		s->cur_owner = ts;
		ts->current = s;
	}
	if (r != NULL)
		record_init(r, name, org.tracestate,
		    o != NULL ? o->start_unix_ns : 0);
	trace__inc(&ts->c.started);
	if (!sampled)
		trace__inc(&ts->c.sampled_out);
	return s;
}

trace_span *
trace_span_start(const char *name)
{
	struct trace__tstate *ts = trace__tstate();

	if (TRACE_UNLIKELY(ts == NULL))
		return NULL;
	return span_begin(ts, name, NULL);
}

trace_span *
trace_span_start_opts(const char *name, const trace_span_options *opts)
{
	struct trace__tstate *ts = trace__tstate();

	if (TRACE_UNLIKELY(ts == NULL))
		return NULL;
	return span_begin(ts, name, opts);
}

/* ------------------------------------------------------------------ */
/* Attributes                                                         */
/* ------------------------------------------------------------------ */

/* Sets a span attribute; val holds vlen bytes (8 for scalars). */
static void
attr_set(trace_span *s, const char *key, uint8_t type, const void *val,
    size_t vlen)
{
	struct trace__rec *r = (struct trace__rec *)s;
	struct trace__ent *e;
	size_t klen;
	uint32_t off = 0;
	uint64_t bit;

	if (s == NULL || !s->recording || key == NULL)
		return;
	klen = strlen(key);
	/* A key set twice keeps the last value: overwrite in place when the
	 * size matches, else retire the old entry. A 64-bit mask of key
	 * hashes skips the scan for keys never seen on this span. */
	bit = UINT64_C(1) << ((klen * 7 + (unsigned char)key[0] +
	    (klen ? (unsigned char)key[klen - 1] * 3u : 0)) & 63);
	if (!(r->keymask & bit))
		off = r->used;
	while (off < r->used) {
		e = (struct trace__ent *)(r->arena + off);
		off += ent_size(e->klen, e->vlen);
		if (e->kind != TRACE__ENT_ATTR || e->klen != klen ||
		    memcmp(e + 1, key, klen) != 0)
			continue;
		if (e->vlen == vlen) {
			e->type = type;
			memcpy((unsigned char *)(e + 1) + klen, val, vlen);
			return;
		}
		e->kind = TRACE__ENT_DEAD;
		r->n_attrs--;
		break;
	}
	if (r->n_attrs >= r->tr->limits.attr_count || klen > KEY_MAX ||
	    ent_add(r, TRACE__ENT_ATTR, type, key, klen, val, vlen) == NULL) {
		r->dropped_attrs++;
		return;
	}
	r->keymask |= bit;
	r->n_attrs++;
}

void
trace_span_set_str(trace_span *s, const char *key, const char *value)
{
	uint32_t max;
	size_t len;

	if (s == NULL || !s->recording || value == NULL)
		return;
	max = ((struct trace__rec *)s)->tr->limits.attr_value_len;
	len = strlen(value);
	if (TRACE_UNLIKELY(max != TRACE_NO_LIMIT))
		len = trace__utf8_cut(value, len, max);
	attr_set(s, key, TRACE_ATTR_STRING, value, len);
}

void
trace_span_set_int(trace_span *s, const char *key, int64_t value)
{
	attr_set(s, key, TRACE_ATTR_INT, &value, 8);
}

void
trace_span_set_double(trace_span *s, const char *key, double value)
{
	attr_set(s, key, TRACE_ATTR_DOUBLE, &value, 8);
}

void
trace_span_set_bool(trace_span *s, const char *key, bool value)
{
	int64_t v = value;

	attr_set(s, key, TRACE_ATTR_BOOL, &v, 8);
}

static void
set_one(trace_span *s, const trace_attr *a)
{
	switch (a->type) {
	case TRACE_ATTR_STRING:
		trace_span_set_str(s, a->key, a->value.s);
		break;
	case TRACE_ATTR_INT:
		trace_span_set_int(s, a->key, a->value.i);
		break;
	case TRACE_ATTR_DOUBLE:
		trace_span_set_double(s, a->key, a->value.d);
		break;
	case TRACE_ATTR_BOOL:
		trace_span_set_bool(s, a->key, a->value.b);
		break;
	}
}

void
trace_span_set_attrs(trace_span *s, const trace_attr *attrs, size_t n)
{
	if (s == NULL || !s->recording || attrs == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		set_one(s, &attrs[i]);
}

/* Appends the attributes of an event or link (kind sub); returns how many
 * were dropped. Keys are not de-duplicated here. */
static uint32_t
sub_attrs(struct trace__rec *r, uint8_t sub, uint32_t limit,
    const trace_attr *attrs, size_t n)
{
	uint32_t kept = 0, dropped = 0;

	for (size_t i = 0; attrs != NULL && i < n; i++) {
		const trace_attr *a = &attrs[i];
		const void *val = &a->value;
		size_t klen, vlen = 8;
		int64_t b;

		if (a->key == NULL || (a->type == TRACE_ATTR_STRING &&
		    a->value.s == NULL))
			continue;
		klen = strlen(a->key);
		if (a->type == TRACE_ATTR_STRING) {
			val = a->value.s;
			vlen = trace__utf8_cut(a->value.s, strlen(a->value.s),
			    r->tr->limits.attr_value_len);
		} else if (a->type == TRACE_ATTR_BOOL) {
			b = a->value.b;
			val = &b;
		} else if (a->type != TRACE_ATTR_INT &&
		    a->type != TRACE_ATTR_DOUBLE) {
			continue;
		}
		if (kept >= limit || klen > KEY_MAX || ent_add(r, sub,
		    (uint8_t)a->type, a->key, klen, val, vlen) == NULL) {
			dropped++;
			continue;
		}
		kept++;
	}
	return dropped;
}

/* ------------------------------------------------------------------ */
/* Events, links, status, name                                        */
/* ------------------------------------------------------------------ */

void
trace_span_add_event_at(trace_span *s, const char *name, uint64_t unix_ns,
    const trace_attr *attrs, size_t n)
{
	struct trace__rec *r = (struct trace__rec *)s;
	unsigned char val[TRACE__EVENT_VLEN] = {0};
	struct trace__ent *e;
	uint32_t dropped;

	if (s == NULL || !s->recording)
		return;
	if (name == NULL)
		name = "";
	if (unix_ns == 0)
		unix_ns = trace__now_ns();
	memcpy(val, &unix_ns, 8);
	if (r->n_events >= r->tr->limits.event_count || (e = ent_add(r,
	    TRACE__ENT_EVENT, 0, name, strnlen(name, KEY_MAX), val,
	    sizeof val)) == NULL) {
		r->dropped_events++;
		return;
	}
	r->n_events++;
	dropped = sub_attrs(r, TRACE__ENT_EATTR, r->tr->limits.event_attr_count,
	    attrs, n);
	memcpy((unsigned char *)(e + 1) + e->klen + 8, &dropped, 4);
}

void
trace_span_add_event(trace_span *s, const char *name, const trace_attr *attrs,
    size_t n)
{
	trace_span_add_event_at(s, name, 0, attrs, n);
}

void
trace_span_record_exception(trace_span *s, const char *type,
    const char *message)
{
	trace_attr a[2];
	size_t n = 0;

	if (s == NULL || (type == NULL && message == NULL))
		return;
	if (type != NULL)
		a[n++] = TRACE_ATTR_STR("exception.type", type);
	if (message != NULL)
		a[n++] = TRACE_ATTR_STR("exception.message", message);
	trace_span_add_event(s, "exception", a, n);
	trace_span_set_status(s, TRACE_STATUS_ERROR,
	    message != NULL ? message : type);
}

void
trace_span_add_link(trace_span *s, const trace_context *ctx,
    const trace_attr *attrs, size_t n)
{
	struct trace__rec *r = (struct trace__rec *)s;
	unsigned char val[TRACE__LINK_VLEN];
	struct trace__ent *e;
	uint32_t flags, dropped;

	if (s == NULL || !s->recording || ctx == NULL || !ctx_valid(ctx))
		return;
	flags = ctx->flags | 0x100u | (ctx->is_remote ? 0x200u : 0);
	memcpy(val, ctx->trace_id.bytes, 16);
	memcpy(val + 16, ctx->span_id.bytes, 8);
	memcpy(val + 24, &flags, 4);
	memset(val + 28, 0, 4);
	if (r->n_links >= r->tr->limits.link_count || (e = ent_add(r,
	    TRACE__ENT_LINK, 0, ctx->tracestate,
	    strnlen(ctx->tracestate, TRACE_TRACESTATE_MAX), val,
	    sizeof val)) == NULL) {
		r->dropped_links++;
		return;
	}
	r->n_links++;
	dropped = sub_attrs(r, TRACE__ENT_LATTR, r->tr->limits.link_attr_count,
	    attrs, n);
	memcpy((unsigned char *)(e + 1) + e->klen + 28, &dropped, 4);
}

void
trace_span_set_status(trace_span *s, trace_status_code code,
    const char *message)
{
	struct trace__rec *r = (struct trace__rec *)s;
	struct trace__ent *e;

	/* OK is final; UNSET never overrides. */
	if (s == NULL || code == TRACE_STATUS_UNSET ||
	    s->status == TRACE_STATUS_OK)
		return;
	if (code != TRACE_STATUS_OK && code != TRACE_STATUS_ERROR)
		return;
	s->status = (uint8_t)code;
	if (!s->recording)
		return;
	r->status_off = 0;
	if (code == TRACE_STATUS_ERROR && message != NULL &&
	    (e = ent_add_cstr(r, TRACE__ENT_STATUS, message,
	    strlen(message))) != NULL)
		r->status_off = ent_off1(r, e);
}

void
trace_span_set_name(trace_span *s, const char *name)
{
	struct trace__rec *r = (struct trace__rec *)s;
	struct trace__ent *e;

	if (s == NULL || !s->recording || name == NULL)
		return;
	if ((e = ent_add_cstr(r, TRACE__ENT_NAME, name, strlen(name))) != NULL)
		r->name_off = ent_off1(r, e);
}

/* ------------------------------------------------------------------ */
/* End                                                                */
/* ------------------------------------------------------------------ */

/* Takes s off the thread's current-span chain. */
static void
unlink_current(struct trace__tstate *ts, trace_span *s)
{
	struct trace_span *p;

	if (s->cur_owner == NULL || s->cur_owner != ts)
		return;
	if (TRACE_LIKELY(ts->current == s)) {
		ts->current = s->prev;
		return;
	}
	/* Ended out of order: unlink it from the middle of the chain. */
	for (p = ts->current; p != NULL; p = p->prev) {
		if (p->prev == s) {
			p->prev = s->prev;
			return;
		}
	}
}

static void
light_end(struct trace__tstate *ts, struct trace__light *l)
{
	if (ts != NULL && l->h.dropped) {
		trace__inc(&ts->c.ended);
		trace__inc(l->h.dropped == 1 ? &ts->c.dropped_full :
		    &ts->c.dropped_off);
	}
	light_put(ts, l);
}

/* A record ended while its tracer is not the running one: drop it. */
static void
late_end(struct trace__rec *r)
{
	struct trace__tracer *tr = r->tr;

	atomic_fetch_add(&tr->late_ended, 1);
	atomic_fetch_add(&tr->dropped_shutdown, 1);
	r->next = NULL;
	trace__pool_put_chain(tr, r);
}

void
trace_span_end_at(trace_span *s, uint64_t end_unix_ns)
{
	struct trace__tstate *ts = trace__tls;
	struct trace__tracer *cur;
	struct trace__rec *r;

	if (TRACE_UNLIKELY(s == NULL))
		return;
	cur = atomic_load_explicit(&trace__g_tracer, memory_order_acquire);
	if (TRACE_UNLIKELY(ts == NULL || ts->tr != cur))
		ts = cur != NULL ? trace__tstate_slow() : NULL;
	if (ts != NULL)
		unlink_current(ts, s);
	if (!s->recording) {
		light_end(ts, (struct trace__light *)s);
		return;
	}
	r = (struct trace__rec *)s;
	if (TRACE_UNLIKELY(ts == NULL || r->tr != cur)) {
		late_end(r);
		return;
	}
	r->end_ns = end_unix_ns ? end_unix_ns : trace__now_ns();
	if (TRACE_UNLIKELY(r->end_ns < r->start_ns))
		r->end_ns = r->start_ns;
	ts->ring[ts->head & ts->mask] = r;
	ts->head++;
	atomic_store_explicit(&ts->pub_head, ts->head, memory_order_release);
	trace__inc(&ts->c.ended);
	if (TRACE_UNLIKELY(++ts->since_kick >= cur->kick_every)) {
		ts->since_kick = 0;
		trace__kick(cur);
	}
}

void
trace_span_end(trace_span *s)
{
	trace_span_end_at(s, 0);
}

void
trace__span_cleanup(trace_span **sp)
{
	if (sp != NULL)
		trace_span_end_at(*sp, 0);
}

/* ------------------------------------------------------------------ */
/* Queries                                                            */
/* ------------------------------------------------------------------ */

bool
trace_span_is_recording(const trace_span *s)
{
	return s != NULL && s->recording;
}

int
trace_span_get_context(const trace_span *s, trace_context *out)
{
	size_t tl;

	if (out == NULL)
		return TRACE_EINVAL;
	if (s == NULL) {
		memset(out, 0, sizeof *out);
		return TRACE_EINVAL;
	}
	out->trace_id = s->trace_id;
	out->span_id = s->span_id;
	out->flags = s->flags;
	out->is_remote = false;
	tl = strnlen(s->tracestate, TRACE_TRACESTATE_MAX);
	memcpy(out->tracestate, s->tracestate, tl);
	out->tracestate[tl] = '\0';
	return TRACE_OK;
}

trace_span *
trace_current_span(void)
{
	struct trace__tstate *ts = trace__tls;

	if (ts == NULL || ts->tr != atomic_load_explicit(&trace__g_tracer,
	    memory_order_acquire))
		return NULL;
	return ts->current;
}
