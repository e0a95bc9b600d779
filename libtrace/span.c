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
#define PREFETCH_AHEAD 4  /* records fetched ahead of use */
#define KEY_MAX 0xffff
#define SHORT_MAX 32      /* longest key or value copy() does inline */

static const char empty[1] = "";
/* A detached span's cur_owner: no thread's state, and not NULL, so that
 * end_rec's one comparison with the caller's state (which may be NULL)
 * tells whether the span is current here. Never read or written. */
static struct trace__tstate detached_owner;

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

/* copy() for n <= SHORT_MAX, which the fast paths check first: each
 * test is one compare (copy's ranges take two, and a subtraction). */
static inline __attribute__((always_inline)) void
copy_short(unsigned char *d, const void *src, size_t n)
{
	const unsigned char *s = src;
	unsigned char v[16], w[16];
	uint64_t a, b;
	uint32_t x, y;

	if (n >= 16) {
		memcpy(v, s, 16);
		memcpy(w, s + n - 16, 16);
		memcpy(d, v, 16);
		memcpy(d + n - 16, w, 16);
	} else if (n >= 8) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		memcpy(d, &x, 4);
		memcpy(d + n - 4, &y, 4);
	} else if (n >= 2) {
		uint16_t h, t;

		memcpy(&h, s, 2);
		memcpy(&t, s + n - 2, 2);
		memcpy(d, &h, 2);
		memcpy(d + n - 2, &t, 2);
	} else if (n != 0) {
		d[0] = s[0];
	}
}

/* Appends an entry; NULL when the arena is full. Inlined: with constant
 * sizes (scalars, the name's terminator) the copies become single moves.
 * short_kv: klen and vlen are at most SHORT_MAX (copy_short). */
static inline __attribute__((always_inline)) struct trace__ent *
ent_add_as(struct trace__rec *r, uint8_t kind, uint8_t type, const void *key,
    size_t klen, const void *val, size_t vlen, bool short_kv)
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
	if (short_kv) {
		copy_short(p, key, klen);
		copy_short(p + klen, val, vlen);
	} else {
		copy(p, key, klen);
		copy(p + klen, val, vlen);
	}
	r->used += need;
	return e;
}

static inline __attribute__((always_inline)) struct trace__ent *
ent_add(struct trace__rec *r, uint8_t kind, uint8_t type, const void *key,
    size_t klen, const void *val, size_t vlen)
{
	return ent_add_as(r, kind, type, key, klen, val, vlen, false);
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

/*
 * The thread's record cache: cache[cache_pos .. cache_end). Records come
 * back cold (last read by the exporter, often on another core), so each
 * start fetches, for writing, the record PREFETCH_AHEAD spans ahead of
 * it; the cache is refilled from the pool while that many are still left,
 * so the records a chain's first spans take are on their way too. The
 * addresses sit in the cache, not in the records: finding the record to
 * fetch never waits for one.
 */
_Static_assert(TRACE__CACHE_SLOTS >= TRACE__CHAIN_MAX + 2 * PREFETCH_AHEAD,
    "the cache holds a take, what was left and the entries prefetch reads");

/* Whether the cache is down to the records already being fetched. */
static inline bool
cache_low(const struct trace__tstate *ts)
{
	return ts->cache_end - ts->cache_pos <= PREFETCH_AHEAD;
}

/* Moves what is left of the cache to its front and takes more records
 * from the pool (none in a forked child). Returns whether the cache
 * holds a record. */
static __attribute__((noinline)) bool
cache_refill(struct trace__tstate *ts)
{
	uint32_t left = ts->cache_end - ts->cache_pos;

	memmove(ts->cache, ts->cache + ts->cache_pos, left * sizeof *ts->cache);
	ts->cache_pos = 0;
	ts->cache_end = left;
	if (ts->tr->record_ok)
		ts->cache_end += (uint32_t)trace__pool_take(ts->tr,
		    ts->cache + left, ts->tr->chain_len);
	for (uint32_t i = left; i < ts->cache_end && i < PREFETCH_AHEAD; i++)
		trace__prefetch_record(ts->cache[i], ts->last_used,
		    ts->prefetchw);
	return ts->cache_end != 0;
}

/* Takes the next record of the thread's cache (not empty) and readies
 * it for a new span. */
static inline __attribute__((always_inline)) struct trace__rec *
rec_take(struct trace__tstate *ts)
{
	struct trace__rec *r = ts->cache[ts->cache_pos];

	/* Past cache_end (the pool ran low) this fetches a stale entry's
	 * record (every entry points at one): harmless. */
	trace__prefetch_record(ts->cache[ts->cache_pos + PREFETCH_AHEAD],
	    ts->last_used, ts->prefetchw);
	ts->cache_pos++;
	memset(&r->used, 0, offsetof(struct trace__rec, arena) -
	    offsetof(struct trace__rec, used));
	return r;
}

/* Takes a record for a new span (the options path); NULL when the pool
 * is empty. */
static inline __attribute__((always_inline)) struct trace__rec *
rec_get(struct trace__tstate *ts)
{
	if (TRACE_UNLIKELY(cache_low(ts)) && !cache_refill(ts)) {
		trace__kick(ts->tr);
		return NULL;
	}
	return rec_take(ts);
}

/* A thread's light spans: one spare, then a list of nlight more (at most
 * LIGHT_CACHE_MAX in all). Starting and ending one unsampled span after
 * another only moves the spare: no list link and no count is written,
 * so consecutive spans do not wait on each other's stores to them. */

/* Pops a light span from the thread's list. */
static inline __attribute__((always_inline)) struct trace__light *
light_pop(struct trace__tstate *ts)
{
	struct trace__light *l = ts->light;

	if (l != NULL) {
		ts->light = l->next;
		ts->nlight--;
	}
	return l;
}

/* Caches l in the thread's spare or list; false when both are full. */
static inline __attribute__((always_inline)) bool
light_push(struct trace__tstate *ts, struct trace__light *l)
{
	if (TRACE_LIKELY(ts->spare == NULL)) {
		ts->spare = l;
		return true;
	}
	if (ts->nlight >= LIGHT_CACHE_MAX - 1)
		return false;
	l->next = ts->light;
	ts->light = l;
	ts->nlight++;
	return true;
}

static struct trace__light *
light_get(struct trace__tstate *ts)
{
	struct trace__light *l = ts->spare;

	if (l != NULL) {
		ts->spare = NULL;
		return l;
	}
	if ((l = light_pop(ts)) != NULL)
		return l;
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
	if (ts == NULL || !light_push(ts, l))
		free(l);
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
enum decision {
	DECIDE = TRACE__DECIDE,
	SAMPLED = TRACE__SAMPLED,
	UNSAMPLED = TRACE__UNSAMPLED,
};

/* What trace__sample will say for a span under p (NULL: a root) without
 * its trace ID, or DECIDE when only the ID's bits can tell (ratio): one
 * lookup in the table trace__sampler_setup made, as copied into the
 * thread's state (a start then reads no line of the tracer). */
static inline enum decision
presample(const struct trace__tstate *ts, const struct trace_span *p)
{
	return (enum decision)ts->presample[p == NULL ? TRACE__ROOT :
	    (p->flags & TRACE_FLAG_SAMPLED) ? TRACE__PARENT_SAMPLED :
	    TRACE__PARENT_UNSAMPLED];
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
		s->cur_owner = &detached_owner;
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
 * span, then jumps (a tail call) to start_unsampled or start_sampled.
 * Each builds its kind of span under the current span on one straight
 * path that calls nothing but the clock: the rare cases (an empty cache,
 * a tracestate to copy, a long or unmeasured name) are tail calls to
 * out-of-line functions, so the common path saves no registers (or, for
 * the clock call, only the three it needs) and spills nothing.
 */

/* Fills s's IDs, parent and flags as a child of p (NULL: a new root),
 * with the sampled flag `sampled`. The IDs come from one load and one
 * store of the generator state (see trace__wy), seeded when the thread
 * state was made. None is ever all zero: an all-zero draw (probability
 * 2^-64) becomes 1 rather than being drawn again, since a retry loop
 * here made the compiler keep the generator's constants in saved
 * registers. The trace ID moves as two 8-byte halves: a 16-byte copy of
 * two fresh 8-byte stores would stall store-to-load forwarding. */
static inline __attribute__((always_inline)) void
ids_fill(struct trace_span *s, const struct trace_span *p, uint8_t sampled)
{
	uint64_t rng = trace__rng_state, lo, hi, sid;

	if (p != NULL) {
		memcpy(&lo, p->trace_id.bytes, 8);
		memcpy(&hi, p->trace_id.bytes + 8, 8);
		s->parent_id = p->span_id;
		/* A continued trace keeps the random flag as received. */
		s->flags = (uint8_t)((p->flags & TRACE_FLAG_RANDOM) | sampled);
	} else {
		lo = trace__wy(&rng);
		hi = trace__wy(&rng);
		if (TRACE_UNLIKELY((lo | hi) == 0))
			lo = 1;
		/* A new trace's ID is all random (W3C Level 2 flag). */
		s->flags = (uint8_t)(TRACE_FLAG_RANDOM | sampled);
	}
	sid = trace__wy(&rng);
	if (TRACE_UNLIKELY(sid == 0))
		sid = 1;
	trace__rng_state = rng;
	memcpy(s->trace_id.bytes, &lo, 8);
	memcpy(s->trace_id.bytes + 8, &hi, 8);
	memcpy(s->span_id.bytes, &sid, 8);
	s->has_parent = p != NULL;
	s->parent_remote = 0;
	s->kind = TRACE_KIND_INTERNAL;
	s->status = TRACE_STATUS_UNSET;
	s->dropped = 0;
}

/* Makes s the thread's current span (it was p's child, p current). */
static inline __attribute__((always_inline)) void
make_current(struct trace__tstate *ts, struct trace_span *s,
    struct trace_span *p)
{
	s->prev = p;
	s->cur_owner = ts;
	ts->current = s;
}

static trace_span *start_unsampled(struct trace__tstate *ts);

/* start_unsampled's rare case: the thread has no cached light span. */
static __attribute__((noinline)) trace_span *
start_unsampled_refill(struct trace__tstate *ts)
{
	struct trace__light *l = light_get(ts);

	if (l == NULL)
		return NULL;
	ts->spare = l;
	return start_unsampled(ts);
}

/* start_unsampled's rare case: the parent carries a tracestate. */
static __attribute__((noinline)) trace_span *
light_copy_tracestate(struct trace__light *l, const char *tracestate)
{
	light_init(l, tracestate, 0);
	return &l->h;
}

/* Fills light span l as the new current span, a child of p. */
static inline __attribute__((always_inline)) void
light_fill(struct trace__tstate *ts, struct trace__light *l,
    struct trace_span *p)
{
	ids_fill(&l->h, p, 0);
	make_current(ts, &l->h, p);
}

/* An unsampled span: context only, from the thread's light cache. */
static __attribute__((noinline)) trace_span *
start_unsampled(struct trace__tstate *ts)
{
	struct trace__light *l = ts->spare;
	struct trace_span *p = ts->current;

	if (TRACE_LIKELY(l != NULL))
		ts->spare = NULL;
	else if ((l = light_pop(ts)) == NULL)
		return start_unsampled_refill(ts);
	/* A root gets its own copy, which stores constants where a child
	 * stores values loaded from its parent: a run of root spans then
	 * carries no value from one span's stores to the next one's loads
	 * (the end's load of prev, for instance, waits for nothing). */
	if (p == NULL)
		light_fill(ts, l, NULL);
	else
		light_fill(ts, l, p);
	trace__inc(&ts->c.sampled_out);
	if (TRACE_UNLIKELY(p != NULL && p->tracestate[0] != '\0'))
		return light_copy_tracestate(l, p->tracestate);
	l->ts[0] = '\0';
	return &l->h;
}

/* Names up to this long are copied on the hot path (no cap check: the
 * entry fits in the smallest span buffer). */
#define NAME_INLINE_MAX SHORT_MAX
_Static_assert(sizeof(struct trace__ent) + NAME_INLINE_MAX + 8 <=
    TRACE_MIN_SPAN_BYTES, "an inline name always fits");

/* rec_start's rare case: a name that is long, empty, NULL or not yet
 * measured, or a tracestate to carry (stored after the name). */
static __attribute__((noinline)) trace_span *
rec_names(struct trace__rec *r, const char *name, size_t name_len,
    const char *tracestate)
{
	record_init(r, name, name_len, tracestate, r->start_ns);
	return &r->h;
}

/* Builds a recording span from the next record of the thread's cache
 * (not empty), under the current span p, started at now. */
static inline __attribute__((always_inline)) trace_span *
rec_start(struct trace__tstate *ts, struct trace_span *p, const char *name,
    size_t name_len, uint64_t now)
{
	struct trace__rec *r = rec_take(ts);
	struct trace__ent *e;

	ids_fill(&r->h, p, TRACE_FLAG_SAMPLED);
	r->h.tracestate = empty;
	make_current(ts, &r->h, p);
	r->start_ns = now;
	trace__inc(&ts->c.started_sampled);
	if (TRACE_UNLIKELY(name_len - 1 >= NAME_INLINE_MAX ||
	    (p != NULL && p->tracestate[0] != '\0')))
		return rec_names(r, name, name_len,
		    p != NULL ? p->tracestate : empty);
	/* The name is the arena's first entry: NUL-terminated, no check
	 * for room (see NAME_INLINE_MAX). */
	e = (struct trace__ent *)r->arena;
	e->kind = TRACE__ENT_NAME;
	e->type = 0;
	e->klen = (uint16_t)name_len;
	e->vlen = 1;
	copy_short((unsigned char *)(e + 1), name, name_len);
	((unsigned char *)(e + 1))[name_len] = '\0';
	r->used = ent_size(name_len, 1);
	r->name_off = 1;
	return &r->h;
}

/* start_sampled's rare case: the thread's cache is low (or emptied in a
 * forked child, which records nothing). */
static __attribute__((noinline)) trace_span *
start_sampled_refill(struct trace__tstate *ts, const char *name,
    size_t name_len, uint64_t now)
{
	struct ident id;

	if (cache_refill(ts))
		return rec_start(ts, ts->current, name, name_len, now);
	if (ts->tr->record_ok)
		trace__kick(ts->tr);
	ident_new(ts, NULL, SAMPLED, &id);
	return begin_light(ts, &id, NULL, ts->tr->record_ok ? 1 : 2);
}

/* A sampled span, recording into a record from the thread's cache. */
static __attribute__((noinline)) trace_span *
start_sampled(struct trace__tstate *ts, const char *name, size_t name_len)
{
	/* The clock first (see begin_sampled). */
	uint64_t now = trace__now_ns();
	struct trace_span *p = ts->current;

	if (TRACE_UNLIKELY(cache_low(ts)))
		return start_sampled_refill(ts, name, name_len, now);
	/* A root gets its own copy (see start_unsampled). */
	if (p == NULL)
		return rec_start(ts, NULL, name, name_len, now);
	return rec_start(ts, p, name, name_len, now);
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

/* The start's rare case: the thread has no state for the running
 * tracer yet (or no tracer runs). */
static __attribute__((noinline)) trace_span *
start_attach(const char *name, size_t name_len)
{
	if (trace__tstate() == NULL)
		return NULL;
	return trace__span_start_len(name, name_len);
}

trace_span *
trace__span_start_len(const char *name, size_t name_len)
{
	struct trace__tstate *ts = trace__tls;
	struct trace__tracer *tr =
	    atomic_load_explicit(&trace__g_tracer, memory_order_acquire);

	if (TRACE_UNLIKELY(ts == NULL || ts->tr != tr))
		return start_attach(name, name_len);
	switch (presample(ts, ts->current)) {
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

/* The attribute entry of key, whose mask bit is bit, or NULL (only a
 * set bit makes it look). */
static inline __attribute__((always_inline)) struct trace__ent *
attr_find(struct trace__rec *r, const char *key, size_t klen, uint64_t bit)
{
	struct trace__ent *e;
	uint32_t off = 0;

	if ((r->keymask & bit) == 0)
		return NULL;
	while (off < r->used) {
		e = (struct trace__ent *)(r->arena + off);
		off += ent_size(e->klen, e->vlen);
		if (e->kind == TRACE__ENT_ATTR && e->klen == klen &&
		    memcmp(e + 1, key, klen) == 0)
			return e;
	}
	return NULL;
}

/* attr_set's rare path: the key may already be set (its mask bit is on),
 * or a limit may be hit. A key set twice keeps the last value: overwrite
 * in place when the size matches, else retire the old entry. */
static __attribute__((noinline)) void
attr_set_slow(struct trace__rec *r, const char *key, size_t klen,
    uint8_t type, const void *val, size_t vlen)
{
	uint64_t bit = key_bit(key, klen);
	struct trace__ent *e = attr_find(r, key, klen, bit);

	if (e != NULL) {
		if (e->vlen == vlen) {
			e->type = type;
			memcpy((unsigned char *)(e + 1) + klen, val, vlen);
			return;
		}
		e->kind = TRACE__ENT_DEAD;
		r->n_attrs--;
	}
	if (r->n_attrs >= r->tr->limits.attr_count || klen > KEY_MAX ||
	    ent_add(r, TRACE__ENT_ATTR, type, key, klen, val, vlen) == NULL) {
		r->dropped_attrs++;
		return;
	}
	r->keymask |= bit;
	r->n_attrs++;
}

/* Appends an attribute to recording span r in the common case: a key
 * new to this span (its mask bit is off) that fits, no scan of the
 * arena, key of 1 to SHORT_MAX bytes and value of at most SHORT_MAX
 * (copied without a call into libc), fewer than r->fast_attrs set.
 * Returns false, having done nothing, otherwise (then attr_set_slow).
 * An unknown length (TRACE__LEN_UNKNOWN, the largest size_t) fails the
 * length checks, which come first; a known one comes from a literal, so
 * its string is not NULL. */
static inline __attribute__((always_inline)) bool
attr_add_fast(struct trace__rec *r, const char *key, size_t klen,
    uint8_t type, const void *val, size_t vlen)
{
	uint64_t bit;

	if (TRACE_UNLIKELY(klen - 1 >= SHORT_MAX || vlen > SHORT_MAX))
		return false;
	bit = key_bit(key, klen);
	if (TRACE_UNLIKELY((r->keymask & bit) != 0 ||
	    r->n_attrs >= r->fast_attrs) ||
	    TRACE_UNLIKELY(ent_add_as(r, TRACE__ENT_ATTR, type, key, klen,
	    val, vlen, true) == NULL))
		return false;
	r->keymask |= bit;
	r->n_attrs++;
	return true;
}

/* The setters' rare cases, kept out of line (and reached by tail calls)
 * so that the common path saves no registers. */
static __attribute__((noinline)) void
scalar_set_slow(struct trace__rec *r, const char *key, size_t klen,
    uint8_t type, uint64_t bits)
{
	if (key == NULL)
		return;
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

	if (key == NULL || value == NULL)
		return;
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

	if (s == NULL || !s->recording)
		return;
	if (!attr_add_fast(r, key, key_len, TRACE_ATTR_STRING, value,
	    value_len))
		str_set_slow(r, key, key_len, value, value_len);
}

/* bits: the int64, the double's bytes, or 0/1 for a bool. */
void
trace__span_set_scalar_len(trace_span *s, const char *key, size_t key_len,
    trace_attr_type type, uint64_t bits)
{
	struct trace__rec *r = (struct trace__rec *)s;

	if (s == NULL || !s->recording)
		return;
	if (!attr_add_fast(r, key, key_len, (uint8_t)type, &bits, 8))
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

/* ------------------------------------------------------------------ */
/* Array attributes                                                   */
/* ------------------------------------------------------------------ */

/* An array to store (layout: TRACE__ATTR_ARRAY in trace_impl.h). Kept
 * apart from the scalar setters so their tuned path is not touched. */
struct arr {
	uint8_t elem;       /* trace_attr_type of every element */
	const void *values;
	size_t n;
	uint32_t max;       /* characters kept per string element */
};

/* Bytes string element i keeps: NULL is stored as "" (documented). */
static size_t
arr_str_len(const struct arr *a, size_t i)
{
	const char *s = ((const char *const *)a->values)[i];

	return s == NULL ? 0 : trace__utf8_cut(s, strlen(s), a->max);
}

/* The array's value size in the arena, or more than cap when it cannot
 * fit: measuring stops there, so a huge n reads nothing it need not. */
static size_t
arr_measure(const struct arr *a, size_t cap)
{
	size_t total = 0;

	if (a->n > cap)
		return cap + 1;
	if (a->elem == TRACE_ATTR_BOOL)
		return a->n;
	if (a->elem != TRACE_ATTR_STRING)
		return a->n * 8;
	for (size_t i = 0; i < a->n && total <= cap; i++)
		total += 4 + arr_str_len(a, i);
	return total;
}

/* Writes the elements into d (arr_measure bytes). */
static void
arr_fill(const struct arr *a, unsigned char *d)
{
	const bool *bv = a->values;
	uint32_t len;

	if (a->n == 0)
		return;
	if (a->elem == TRACE_ATTR_BOOL) {
		for (size_t i = 0; i < a->n; i++)
			d[i] = bv[i] ? 1 : 0;
	} else if (a->elem != TRACE_ATTR_STRING) {
		memcpy(d, a->values, a->n * 8); /* int64_t or double */
	} else {
		for (size_t i = 0; i < a->n; i++) {
			len = (uint32_t)arr_str_len(a, i);
			memcpy(d, &len, 4);
			if (len != 0)
				memcpy(d + 4, ((const char *const *)a->values)[i],
				    len);
			d += 4 + len;
		}
	}
}

/* Appends array a (vlen bytes) as an attribute entry; false when full. */
static bool
arr_append(struct trace__rec *r, const char *key, size_t klen,
    const struct arr *a, size_t vlen)
{
	uint32_t need = ent_size(klen, vlen);
	struct trace__ent *e;

	if (need > r->cap - r->used)
		return false;
	e = (struct trace__ent *)(r->arena + r->used);
	e->kind = TRACE__ENT_ATTR;
	e->type = (uint8_t)(TRACE__ATTR_ARRAY | a->elem);
	e->klen = (uint16_t)klen;
	e->vlen = (uint32_t)vlen;
	memcpy(e + 1, key, klen);
	arr_fill(a, (unsigned char *)(e + 1) + klen);
	r->used += need;
	return true;
}

/* Sets an array attribute with attr_set_slow's rules: the last value of a
 * key wins (in place when the size matches, else the old entry is
 * retired); one attribute for the count limit; all or nothing. */
static void
arr_set(trace_span *s, const char *key, uint8_t elem, const void *values,
    size_t n)
{
	struct trace__rec *r = (struct trace__rec *)s;
	struct arr a = {elem, values, n, 0};
	struct trace__ent *old;
	size_t klen, vlen;
	uint64_t bit;

	if (s == NULL || !s->recording || key == NULL ||
	    (values == NULL && n != 0))
		return;
	a.max = r->tr->limits.attr_value_len;
	klen = strlen(key);
	bit = key_bit(key, klen);
	vlen = arr_measure(&a, r->cap);
	if ((old = attr_find(r, key, klen, bit)) != NULL && old->vlen == vlen) {
		old->type = (uint8_t)(TRACE__ATTR_ARRAY | elem);
		arr_fill(&a, (unsigned char *)(old + 1) + klen);
		return;
	}
	if (old != NULL) {
		old->kind = TRACE__ENT_DEAD;
		r->n_attrs--;
	}
	if (r->n_attrs >= r->tr->limits.attr_count || klen > KEY_MAX ||
	    vlen > r->cap || !arr_append(r, key, klen, &a, vlen)) {
		r->dropped_attrs++;
		return;
	}
	r->keymask |= bit;
	r->n_attrs++;
}

void
trace_span_set_str_array(trace_span *s, const char *key,
    const char *const *values, size_t n)
{
	arr_set(s, key, TRACE_ATTR_STRING, values, n);
}

void
trace_span_set_int_array(trace_span *s, const char *key,
    const int64_t *values, size_t n)
{
	arr_set(s, key, TRACE_ATTR_INT, values, n);
}

void
trace_span_set_double_array(trace_span *s, const char *key,
    const double *values, size_t n)
{
	arr_set(s, key, TRACE_ATTR_DOUBLE, values, n);
}

void
trace_span_set_bool_array(trace_span *s, const char *key, const bool *values,
    size_t n)
{
	arr_set(s, key, TRACE_ATTR_BOOL, values, n);
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

/* Takes s, ended out of order, from the middle of ts's current chain. */
static __attribute__((noinline)) void
unlink_out_of_order(struct trace__tstate *ts, trace_span *s)
{
	for (struct trace_span *p = ts->current; p != NULL; p = p->prev) {
		if (p->prev == s) {
			p->prev = s->prev;
			return;
		}
	}
}

/* Takes s, known to be current on ts, off ts's current-span chain. */
static inline __attribute__((always_inline)) void
unlink_owned(struct trace__tstate *ts, trace_span *s)
{
	if (TRACE_LIKELY(ts->current == s))
		ts->current = s->prev;
	else
		unlink_out_of_order(ts, s);
}

/* Takes s off the thread's current-span chain: only when it is current
 * on this thread (not detached, not another thread's). */
static inline __attribute__((always_inline)) void
unlink_current(struct trace__tstate *ts, trace_span *s)
{
	if (s->cur_owner == ts)
		unlink_owned(ts, s);
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
	trace__pool_release(tr, &r, 1);
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

/* end_light's rare cases: a sampled span that got no record (counted),
 * a thread without a state for the running tracer, a full cache. */
static __attribute__((noinline)) void
end_light_slow(struct trace__light *l)
{
	struct trace__tstate *ts = end_tstate(
	    atomic_load_explicit(&trace__g_tracer, memory_order_acquire));

	if (ts != NULL)
		unlink_current(ts, &l->h);
	light_end(ts, l);
}

/* Ends a span that records nothing. An unsampled span counts nothing
 * when it ends, so which tracer runs does not matter: it goes back to
 * the calling thread's cache (a stopped tracer's state frees its cache
 * when the thread moves to the next tracer or exits). */
static __attribute__((noinline)) void
end_light(struct trace__light *l)
{
	struct trace__tstate *ts = trace__tls;

	if (TRACE_UNLIKELY(ts == NULL || l->h.dropped != 0 ||
	    !light_push(ts, l))) {
		end_light_slow(l);
		return;
	}
	unlink_current(ts, &l->h);
}

/* Queues ended record r on ts's ring (single producer: a store and a
 * release store). The exporter is woken every kick_every spans, unless
 * it paces itself (trace__kick_unless_paced). After
 * the release store r is no longer ours: nothing here reads it after. */
static inline __attribute__((always_inline)) void
rec_push(struct trace__tstate *ts, struct trace__rec *r, uint64_t end_ns)
{
	uint64_t h = atomic_load_explicit(&ts->pub_head, memory_order_relaxed);

	r->end_ns = end_ns < r->start_ns ? r->start_ns : end_ns;
	ts->last_used = r->used;
	ts->ring[h & ts->mask] = r;
	/* The exporter reads the ring's lines, so on another core each new
	 * line's first store waited for it to come back (every eighth
	 * span); fetched two lines ahead, it is here in time. */
	if (TRACE_LIKELY(ts->prefetchw))
		trace__prefetchw((const char *)&ts->ring[(h + 16) & ts->mask]);
	atomic_store_explicit(&ts->pub_head, h + 1, memory_order_release);
	if (TRACE_UNLIKELY(h + 1 >= ts->kick_at)) {
		ts->kick_at = h + 1 + ts->tr->kick_every;
		trace__kick_unless_paced(ts, h + 1);
	}
}

/* end_rec's rare cases: no thread state for the running tracer yet (a
 * detached span ended on a new thread), or a record of a stopped tracer. */
static __attribute__((noinline)) void
end_rec_slow(struct trace__rec *r, uint64_t end_ns)
{
	struct trace__tracer *cur =
	    atomic_load_explicit(&trace__g_tracer, memory_order_acquire);
	struct trace__tstate *ts = end_tstate(cur);

	if (ts != NULL)
		unlink_current(ts, &r->h);
	if (ts == NULL || r->tr != cur)
		late_end(r);
	else
		rec_push(ts, r, end_ns);
}

/* Ends a recording span at end_ns: queue it on the thread's ring. */
static inline __attribute__((always_inline)) void
end_rec(trace_span *s, uint64_t end_ns)
{
	struct trace__rec *r = (struct trace__rec *)s;
	struct trace__tstate *ts = trace__tls;
	struct trace__tracer *cur =
	    atomic_load_explicit(&trace__g_tracer, memory_order_acquire);

	/* s was made current on this thread's state (cur_owner is never
	 * NULL), so ts is not NULL and its tracer is r's: the state's cache
	 * gave r. So one comparison stands for ts != NULL, ts->tr == cur
	 * and unlink_current's own; anything else takes end_rec_slow. */
	if (TRACE_UNLIKELY(s->cur_owner != ts || r->tr != cur)) {
		end_rec_slow(r, end_ns);
		return;
	}
	/* Unlink first: once pushed, the record belongs to the exporter,
	 * which may hand it to another thread's next span at once. */
	unlink_owned(ts, s);
	rec_push(ts, r, end_ns);
}

/* trace_span_end's recording end: the clock first (see begin_sampled;
 * a dropped span wastes it), with no test for a time given. */
static __attribute__((noinline)) void
end_rec_now(trace_span *s)
{
	end_rec(s, trace__now_ns());
}

/* trace_span_end_at's: the time given, or the clock when it is 0. */
static __attribute__((noinline)) void
end_rec_at(trace_span *s, uint64_t end_unix_ns)
{
	end_rec(s, end_unix_ns ? end_unix_ns : trace__now_ns());
}

/* Both public ends inline this dispatch: each kind of span ends in its
 * own function, so the unsampled end saves no registers for the clock
 * call of the recording one. */
static inline __attribute__((always_inline)) void
span_end(trace_span *s, uint64_t end_unix_ns, bool now)
{
	if (TRACE_UNLIKELY(s == NULL))
		return;
	if (!s->recording)
		end_light((struct trace__light *)s);
	else if (now)
		end_rec_now(s);
	else
		end_rec_at(s, end_unix_ns);
}

void
trace_span_end_at(trace_span *s, uint64_t end_unix_ns)
{
	span_end(s, end_unix_ns, false);
}

void
trace_span_end(trace_span *s)
{
	span_end(s, 0, true);
}

void
trace__span_cleanup(trace_span **sp)
{
	if (sp != NULL)
		span_end(*sp, 0, true);
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
