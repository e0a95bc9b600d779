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
#define SHORT_MAX 32      /* longest key or value copy() does inline */

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

/* Copies n bytes; keys and values up to 32 bytes (the common case)
 * without a call into libc, as two possibly overlapping loads and stores. */
static inline void
copy(unsigned char *d, const void *src, size_t n)
{
	const unsigned char *s = src;
	unsigned char v[16], w[16];
	uint64_t a, b;
	uint32_t x, y;

	if (n > 16 && n <= 32) {
		memcpy(v, s, 16);
		memcpy(w, s + n - 16, 16);
		memcpy(d, v, 16);
		memcpy(d + n - 16, w, 16);
	} else if (n >= 8 && n <= 16) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		memcpy(d, &x, 4);
		memcpy(d + n - 4, &y, 4);
	} else if (n >= 2 && n < 4) {
		uint16_t h = 0, t = 0;

		memcpy(&h, s, 2);
		memcpy(&t, s + n - 2, 2);
		memcpy(d, &h, 2);
		memcpy(d + n - 2, &t, 2);
	} else if (n == 1) {
		d[0] = s[0];
	} else if (n > 32) {
		memcpy(d, s, n);
	}
}

/* Appends an entry; NULL when the arena is full. Inlined: with constant
 * sizes (scalars, the name's terminator) the copies become single moves. */
static inline __attribute__((always_inline)) struct trace__ent *
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
static inline __attribute__((always_inline)) struct trace__ent *
ent_add_cstr(struct trace__rec *r, uint8_t kind, const char *s, size_t len)
{
	if (len > KEY_MAX)
		len = KEY_MAX;
	return ent_add(r, kind, 0, s, len, empty, 1);
}

/* ------------------------------------------------------------------ */
/* Start                                                              */
/* ------------------------------------------------------------------ */

/* Inlined (as is record_init) into the span start: one call less. */
static inline __attribute__((always_inline)) struct trace__rec *
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
		return l;
	}
	if ((l = malloc(sizeof *l)) == NULL) {
		trace__inc(&ts->c.dropped_nomem);
		return NULL;
	}
	/* Fields a light span never changes: set once, not per span. */
	l->h.recording = 0;
	l->h.tracestate = l->ts;
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

static inline __attribute__((always_inline)) void
record_init(struct trace__rec *r, const char *name, size_t name_len,
    const char *tracestate, uint64_t start_ns)
{
	size_t tl = tracestate[0] ?
	    strnlen(tracestate, TRACE_TRACESTATE_MAX) : 0;
	struct trace__ent *e;

	r->h.tracestate = empty;
	r->h.dropped = 0;
	if (TRACE_UNLIKELY(tl != 0) &&
	    (e = ent_add_cstr(r, TRACE__ENT_TSTATE, tracestate, tl)) != NULL)
		r->h.tracestate = trace__ent_key(e);
	if (name != NULL && name_len == TRACE__LEN_UNKNOWN)
		name_len = strlen(name);
	if (name != NULL && (e = ent_add_cstr(r, TRACE__ENT_NAME, name,
	    name_len)) != NULL)
		r->name_off = ent_off1(r, e);
	r->start_ns = start_ns;
}

static void
light_init(struct trace__light *l, const char *tracestate, uint8_t dropped)
{
	size_t tl;

	l->h.dropped = dropped;
	if (TRACE_LIKELY(tracestate[0] == '\0')) {
		l->ts[0] = '\0';
		return;
	}
	tl = strnlen(tracestate, TRACE_TRACESTATE_MAX);
	memcpy(l->ts, tracestate, tl);
	l->ts[tl] = '\0';
}

/* A new span's identity, decided before its object is taken. */
struct ident {
	struct origin org;
	uint64_t tlo, thi; /* trace ID halves, bytes 0..7 and 8..15 */
	uint64_t sid;
	bool sampled;
};

/* A sampling decision: taken before the trace ID is drawn when the
 * sampler and the parent settle it (presample), else after (DECIDE). */
enum decision { DECIDE, SAMPLED, UNSAMPLED };

/* What trace__sample will say for a span under p (NULL: a root) without
 * its trace ID, or DECIDE when only the ID's bits can tell (ratio). */
static inline enum decision
presample(const struct trace__tracer *tr, const struct trace_span *p)
{
	if (p != NULL && tr->parent_based)
		return (p->flags & TRACE_FLAG_SAMPLED) ? SAMPLED : UNSAMPLED;
	if (tr->root_bound == 0)
		return UNSAMPLED;
	return tr->root_bound == TRACE__RATIO_SPACE ? SAMPLED : DECIDE;
}

/* Fills id: the parent, fresh IDs and the sampling decision (dec, or
 * trace__sample's when dec is DECIDE). The trace ID moves as two 8-byte
 * halves: a 16-byte copy of two fresh 8-byte stores would stall
 * store-to-load forwarding. IDs come from one load of the generator state
 * (see trace__wy), seeded when the thread state was made; none is ever
 * all zero. */
static inline __attribute__((always_inline)) void
ident_new(struct trace__tstate *ts, const trace_span_options *o,
    enum decision dec, struct ident *id)
{
	uint64_t rng = trace__rng_state;

	id->org = (struct origin){.tid = NULL, .tracestate = empty};
	resolve_parent(ts, o, &id->org);
	if (id->org.tid != NULL) {
		memcpy(&id->tlo, id->org.tid->bytes, 8);
		memcpy(&id->thi, id->org.tid->bytes + 8, 8);
	} else {
		do {
			id->tlo = trace__wy(&rng);
			id->thi = trace__wy(&rng);
		} while (TRACE_UNLIKELY((id->tlo | id->thi) == 0));
	}
	do {
		id->sid = trace__wy(&rng);
	} while (TRACE_UNLIKELY(id->sid == 0));
	trace__rng_state = rng;
	if (dec != DECIDE)
		id->sampled = dec == SAMPLED;
	else
		id->sampled = trace__sample(ts->tr, id->org.tid != NULL,
		    (id->org.flags & TRACE_FLAG_SAMPLED) != 0, id->thi);
}

/* Fills the part every span has and makes it current (unless detached). */
static inline __attribute__((always_inline)) void
span_fill(struct trace__tstate *ts, struct trace_span *s,
    const struct ident *id, const trace_span_options *o)
{
	bool child = id->org.tid != NULL;

	memcpy(s->trace_id.bytes, &id->tlo, 8);
	memcpy(s->trace_id.bytes + 8, &id->thi, 8);
	memcpy(s->span_id.bytes, &id->sid, 8);
	s->has_parent = child;
	s->parent_remote = id->org.remote;
	if (child)
		s->parent_id = *id->org.pid;
	/* A new trace's ID is all random (Level 2 flag); a continued trace
	 * keeps the flag as received. */
	s->flags = (uint8_t)((child ? (id->org.flags & TRACE_FLAG_RANDOM) :
	    TRACE_FLAG_RANDOM) | (id->sampled ? TRACE_FLAG_SAMPLED : 0));
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
}

/* Starts a recording span at start_ns; NULL when the pool is empty. */
static inline __attribute__((always_inline)) trace_span *
begin_rec(struct trace__tstate *ts, const char *name, size_t name_len,
    const struct ident *id, const trace_span_options *o, uint64_t start_ns)
{
	struct trace__rec *r = rec_get(ts);

	if (TRACE_UNLIKELY(r == NULL))
		return NULL;
	span_fill(ts, &r->h, id, o);
	record_init(r, name, name_len, id->org.tracestate, start_ns);
	trace__inc(&ts->c.started_sampled);
	return &r->h;
}

/* Starts a span that records nothing: unsampled, or sampled but without
 * a record (dropped: 1 the pool is empty, 2 a forked child). */
static inline __attribute__((always_inline)) trace_span *
begin_light(struct trace__tstate *ts, const struct ident *id,
    const trace_span_options *o, uint8_t dropped)
{
	struct trace__light *l = light_get(ts);

	if (l == NULL)
		return NULL;
	light_init(l, id->org.tracestate, dropped);
	span_fill(ts, &l->h, id, o);
	trace__inc(id->sampled ? &ts->c.started_sampled :
	    &ts->c.sampled_out);
	return &l->h;
}

/* Starts a sampled span: recording when a record is free. */
static inline __attribute__((always_inline)) trace_span *
begin_sampled(struct trace__tstate *ts, const char *name, size_t name_len,
    const struct ident *id, const trace_span_options *o)
{
	uint64_t start_ns = o != NULL ? o->start_unix_ns : 0;
	trace_span *s;

	/* The clock first: its read waits for the instructions before it
	 * to complete (the vDSO orders rdtsc with a fence), so it should
	 * not wait behind the record's cache misses. */
	if (start_ns == 0)
		start_ns = trace__now_ns();
	if (TRACE_LIKELY(ts->tr->record_ok) && TRACE_LIKELY((s = begin_rec(ts,
	    name, name_len, id, o, start_ns)) != NULL))
		return s;
	return begin_light(ts, id, o, ts->tr->record_ok ? 1 : 2);
}

/*
 * The hot start (no options) only looks at the sampler and the current
 * span, then jumps (a tail call) to one of these. Each draws the IDs and
 * builds its kind of span; kept apart, the common path saves no registers
 * and an unsampled start never carries the recording path's state.
 */
static __attribute__((noinline)) trace_span *
start_unsampled(struct trace__tstate *ts)
{
	struct ident id;

	ident_new(ts, NULL, UNSAMPLED, &id);
	return begin_light(ts, &id, NULL, 0);
}

static __attribute__((noinline)) trace_span *
start_sampled(struct trace__tstate *ts, const char *name, size_t name_len)
{
	struct ident id;

	ident_new(ts, NULL, SAMPLED, &id);
	return begin_sampled(ts, name, name_len, &id, NULL);
}

/* The ratio samplers: the trace ID decides. */
static __attribute__((noinline)) trace_span *
start_decide(struct trace__tstate *ts, const char *name, size_t name_len)
{
	struct ident id;

	ident_new(ts, NULL, DECIDE, &id);
	if (!id.sampled)
		return begin_light(ts, &id, NULL, 0);
	return begin_sampled(ts, name, name_len, &id, NULL);
}

/* The name in parentheses: trace.h may define trace_span_start as a
 * macro (literal lengths); so for the setters below. */
trace_span *
(trace_span_start)(const char *name)
{
	return trace__span_start_len(name, TRACE__LEN_UNKNOWN);
}

trace_span *
trace__span_start_len(const char *name, size_t name_len)
{
	struct trace__tstate *ts = trace__tstate();

	if (TRACE_UNLIKELY(ts == NULL))
		return NULL;
	switch (presample(ts->tr, ts->current)) {
	case UNSAMPLED:
		return start_unsampled(ts);
	case SAMPLED:
		return start_sampled(ts, name, name_len);
	case DECIDE:
		break;
	}
	return start_decide(ts, name, name_len);
}

trace_span *
trace_span_start_opts(const char *name, const trace_span_options *opts)
{
	struct trace__tstate *ts = trace__tstate();
	struct ident id;

	if (TRACE_UNLIKELY(ts == NULL))
		return NULL;
	ident_new(ts, opts, DECIDE, &id);
	if (!id.sampled)
		return begin_light(ts, &id, opts, 0);
	return begin_sampled(ts, name, TRACE__LEN_UNKNOWN, &id, opts);
}

/* ------------------------------------------------------------------ */
/* Attributes                                                         */
/* ------------------------------------------------------------------ */

/* The key's bit in a span's 64-bit key mask (a cheap hash of its length
 * and its first and last bytes). */
static inline uint64_t
key_bit(const char *key, size_t klen)
{
	return UINT64_C(1) << ((klen * 7 + (unsigned char)key[0] +
	    (klen ? (unsigned char)key[klen - 1] * 3u : 0)) & 63);
}

/* attr_set's rare path: the key may already be set (its mask bit is on),
 * or a limit may be hit. A key set twice keeps the last value: overwrite
 * in place when the size matches, else retire the old entry. */
static __attribute__((noinline)) void
attr_set_slow(struct trace__rec *r, const char *key, size_t klen,
    uint8_t type, const void *val, size_t vlen)
{
	uint64_t bit = key_bit(key, klen);
	struct trace__ent *e;
	uint32_t off = (r->keymask & bit) ? 0 : r->used;

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

/* Appends an attribute to recording span r in the common case: a key new
 * to this span (its mask bit is off) that fits, no scan of the arena,
 * key and value of at most SHORT_MAX bytes (copied without a call into
 * libc). Returns false, having done nothing, otherwise (then
 * attr_set_slow). */
static inline __attribute__((always_inline)) bool
attr_add_fast(struct trace__rec *r, const char *key, size_t klen,
    uint8_t type, const void *val, size_t vlen)
{
	uint64_t bit = key_bit(key, klen);

	if (TRACE_LIKELY(!(r->keymask & bit) && klen <= SHORT_MAX &&
	    vlen <= SHORT_MAX && r->n_attrs < r->tr->limits.attr_count) &&
	    TRACE_LIKELY(ent_add(r, TRACE__ENT_ATTR, type, key, klen, val,
	    vlen) != NULL)) {
		r->keymask |= bit;
		r->n_attrs++;
		return true;
	}
	return false;
}

/* The setters' rare cases, kept out of line (and reached by tail calls)
 * so that the common path saves no registers. */
static __attribute__((noinline)) void
scalar_set_slow(struct trace__rec *r, const char *key, size_t klen,
    uint8_t type, uint64_t bits)
{
	if (klen == TRACE__LEN_UNKNOWN)
		klen = strlen(key);
	attr_set_slow(r, key, klen, type, &bits, 8);
}

/* A string attribute whose lengths are not known yet, or whose value may
 * need cutting to the value-length limit. */
static __attribute__((noinline)) void
str_set_slow(struct trace__rec *r, const char *key, size_t klen,
    const char *value, size_t vlen)
{
	uint32_t max = r->tr->limits.attr_value_len;

	if (klen == TRACE__LEN_UNKNOWN)
		klen = strlen(key);
	if (vlen == TRACE__LEN_UNKNOWN)
		vlen = strlen(value);
	if (max != TRACE_NO_LIMIT)
		vlen = trace__utf8_cut(value, vlen, max);
	attr_set_slow(r, key, klen, TRACE_ATTR_STRING, value, vlen);
}

/* Checks happen before any strlen(), so an unsampled span pays none. */
void
trace__span_set_str_len(trace_span *s, const char *key, size_t key_len,
    const char *value, size_t value_len)
{
	struct trace__rec *r = (struct trace__rec *)s;

	if (s == NULL || !s->recording || key == NULL || value == NULL)
		return;
	if (TRACE_UNLIKELY(key_len == TRACE__LEN_UNKNOWN ||
	    value_len == TRACE__LEN_UNKNOWN ||
	    r->tr->limits.attr_value_len != TRACE_NO_LIMIT) ||
	    !attr_add_fast(r, key, key_len, TRACE_ATTR_STRING, value,
	    value_len))
		str_set_slow(r, key, key_len, value, value_len);
}

/* bits: the int64, the double's bytes, or 0/1 for a bool. */
void
trace__span_set_scalar_len(trace_span *s, const char *key, size_t key_len,
    trace_attr_type type, uint64_t bits)
{
	struct trace__rec *r = (struct trace__rec *)s;

	if (s == NULL || !s->recording || key == NULL)
		return;
	if (TRACE_UNLIKELY(key_len == TRACE__LEN_UNKNOWN) ||
	    !attr_add_fast(r, key, key_len, (uint8_t)type, &bits, 8))
		scalar_set_slow(r, key, key_len, (uint8_t)type, bits);
}

void
(trace_span_set_str)(trace_span *s, const char *key, const char *value)
{
	trace__span_set_str_len(s, key, TRACE__LEN_UNKNOWN, value,
	    TRACE__LEN_UNKNOWN);
}

void
(trace_span_set_int)(trace_span *s, const char *key, int64_t value)
{
	trace__span_set_scalar_len(s, key, TRACE__LEN_UNKNOWN, TRACE_ATTR_INT,
	    (uint64_t)value);
}

void
(trace_span_set_double)(trace_span *s, const char *key, double value)
{
	uint64_t bits;

	memcpy(&bits, &value, 8);
	trace__span_set_scalar_len(s, key, TRACE__LEN_UNKNOWN,
	    TRACE_ATTR_DOUBLE, bits);
}

void
(trace_span_set_bool)(trace_span *s, const char *key, bool value)
{
	trace__span_set_scalar_len(s, key, TRACE__LEN_UNKNOWN, TRACE_ATTR_BOOL,
	    value);
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

/* The calling thread's state for the running tracer, or NULL. */
static inline struct trace__tstate *
end_tstate(struct trace__tracer *cur)
{
	struct trace__tstate *ts = trace__tls;

	if (TRACE_UNLIKELY(ts == NULL || ts->tr != cur))
		ts = cur != NULL ? trace__tstate_slow() : NULL;
	return ts;
}

/* Ends a span that records nothing. */
static __attribute__((noinline)) void
end_light(struct trace__light *l)
{
	struct trace__tstate *ts = end_tstate(
	    atomic_load_explicit(&trace__g_tracer, memory_order_acquire));

	if (ts != NULL)
		unlink_current(ts, &l->h);
	light_end(ts, l);
}

/* Ends a recording span: queue it on the thread's ring. */
static __attribute__((noinline)) void
end_rec(trace_span *s, uint64_t end_unix_ns)
{
	/* The clock first (see begin_sampled); a dropped span wastes it. */
	uint64_t end_ns = end_unix_ns ? end_unix_ns : trace__now_ns();
	struct trace__tstate *ts;
	struct trace__tracer *cur;
	struct trace__rec *r;

	cur = atomic_load_explicit(&trace__g_tracer, memory_order_acquire);
	ts = end_tstate(cur);
	if (ts != NULL)
		unlink_current(ts, s);
	r = (struct trace__rec *)s;
	if (TRACE_UNLIKELY(ts == NULL || r->tr != cur)) {
		late_end(r);
		return;
	}
	r->end_ns = end_ns < r->start_ns ? r->start_ns : end_ns;
	ts->ring[ts->head & ts->mask] = r;
	ts->head++;
	atomic_store_explicit(&ts->pub_head, ts->head, memory_order_release);
	trace__inc(&ts->c.ended);
	if (TRACE_UNLIKELY(++ts->since_kick >= cur->kick_every)) {
		ts->since_kick = 0;
		trace__kick(cur);
	}
}

/* Both public ends inline this dispatch: each kind of span ends in its
 * own function, so the unsampled end saves no registers for the clock
 * call of the recording one. */
static inline __attribute__((always_inline)) void
span_end(trace_span *s, uint64_t end_unix_ns)
{
	if (TRACE_UNLIKELY(s == NULL))
		return;
	if (s->recording)
		end_rec(s, end_unix_ns);
	else
		end_light((struct trace__light *)s);
}

void
trace_span_end_at(trace_span *s, uint64_t end_unix_ns)
{
	span_end(s, end_unix_ns);
}

void
trace_span_end(trace_span *s)
{
	span_end(s, 0);
}

void
trace__span_cleanup(trace_span **sp)
{
	if (sp != NULL)
		span_end(*sp, 0);
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
