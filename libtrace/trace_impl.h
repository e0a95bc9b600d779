/*
 * trace_impl.h - libtrace's private header: the tracer, the span layouts, the
 * per-thread state and the hooks shared between its source files. Not
 * installed; tests include it to reach internals.
 *
 * Object life cycle (why spans never dangle):
 *   - A sampled span is a record (struct trace__rec) taken from the tracer's
 *     preallocated pool. A record travels pool -> thread cache -> open span ->
 *     the ending thread's SPSC ring -> exporter (encoded) -> pool.
 *   - An unsampled span is a small heap object (struct trace__light) cached
 *     per thread; it carries context only.
 *   - trace_shutdown() never frees the pool or the per-thread states that
 *     other threads may still touch: a stopped tracer is retired (kept
 *     reachable) so that a late span call is a memory-safe no-op.
 */
#ifndef LIBTRACE_TRACE_IMPL_H
#define LIBTRACE_TRACE_IMPL_H

#include <pthread.h>
#include <semaphore.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "trace/trace.h"

#define TRACE_LIKELY(x) __builtin_expect(!!(x), 1)
#define TRACE_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define TRACE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define TRACE_PRINTFLIKE(f, a) __attribute__((format(printf, f, a)))
/* Initial-exec TLS: one instruction to reach thread state, no
 * __tls_get_addr call, even in libtrace.so (a small static TLS block). */
#define TRACE_TLS __thread __attribute__((tls_model("initial-exec")))

/* ------------------------------------------------------------------ */
/* Defaults and limits                                                */
/* ------------------------------------------------------------------ */

#define TRACE_DEFAULT_ENDPOINT "tcp://127.0.0.1:7070"
#define TRACE_DEFAULT_QUEUE 2048
#define TRACE_DEFAULT_BATCH 512
#define TRACE_DEFAULT_DELAY_MS 500 /* OTel says 5000; traces should show fast */
#define TRACE_DEFAULT_EXPORT_TIMEOUT_MS 30000
#define TRACE_DEFAULT_SPAN_BYTES 2048
#define TRACE_DEFAULT_COUNT_LIMIT 128
#define TRACE_DEFAULT_EXIT_FLUSH_MS 1000
#define TRACE_MAX_QUEUE (1u << 20)
#define TRACE_MIN_SPAN_BYTES 256
#define TRACE_MAX_SPAN_BYTES (1u << 20)
#define TRACE_REPLY_MAX_BYTES (64u * 1024) /* NNG_OPT_RECVMAXSZ */
#define TRACE_SEND_TIMEOUT_MS 5000
#define TRACE_BACKOFF_MIN_MS 100
#define TRACE_BACKOFF_MAX_MS 5000
#define TRACE_RETRY_AFTER_MAX_MS 30000
#define TRACE_NO_LIMIT UINT32_MAX

/* Sampler kinds (OTEL_TRACES_SAMPLER). */
enum trace__sampler {
	TRACE__ALWAYS_ON,
	TRACE__ALWAYS_OFF,
	TRACE__RATIO,
	TRACE__PB_ALWAYS_ON,
	TRACE__PB_ALWAYS_OFF,
	TRACE__PB_RATIO,
};

/* Span limits; TRACE_NO_LIMIT for none. Lengths count UTF-8 characters. */
struct trace__limits {
	uint32_t attr_count;
	uint32_t attr_value_len;
	uint32_t event_count;
	uint32_t link_count;
	uint32_t event_attr_count;
	uint32_t link_attr_count;
};

/* A key=value list (resource attributes). */
struct trace__kv {
	char *key;
	char *value;
	struct trace__kv *next;
};

#define TRACE__WARN_MAX 8
#define TRACE__WARN_LEN 160

struct trace_config {
	char *service_name;
	char *endpoint;
	char *propagators;
	/* TLS for tls+tcp:// endpoints (TRACE_TLS_*); NULL: unset. */
	char *tls_ca_file;
	char *tls_cert_file;
	char *tls_key_file;
	char *tls_server_name;
	enum trace__sampler sampler;
	double ratio;
	struct trace__kv *env_attrs;  /* OTEL_RESOURCE_ATTRIBUTES */
	struct trace__kv *code_attrs; /* trace_config_set_resource_attr */
	size_t queue_size;
	size_t batch_size;
	size_t span_bytes;
	uint32_t delay_ms;
	uint32_t export_timeout_ms;
	uint32_t exit_flush_ms;
	bool disabled;
	struct trace__limits limits;
	trace_log_fn log_fn;
	void *log_arg;
	/* Warnings found while reading the environment, logged by trace_init
	 * once the logger is known. */
	int nwarn;
	char warn[TRACE__WARN_MAX][TRACE__WARN_LEN];
};

/* ------------------------------------------------------------------ */
/* Spans                                                              */
/* ------------------------------------------------------------------ */

struct trace__tstate;
struct trace__tracer;

/* The part every span has; trace_span handles point at it. */
struct trace_span {
	trace_trace_id trace_id;
	trace_span_id span_id;
	trace_span_id parent_id;
	uint8_t flags;         /* W3C trace flags */
	uint8_t recording;     /* a struct trace__rec */
	uint8_t has_parent;
	uint8_t parent_remote;
	uint8_t kind;
	uint8_t status;
	uint8_t dropped;       /* sampled, unrecorded: 1 no record, 2 fork */
	uint8_t pad;
	const char *tracestate;         /* NUL-terminated, "" when none */
	struct trace_span *prev;        /* previous current span */
	struct trace__tstate *cur_owner; /* thread it is current on, or NULL */
};

/* A non-recording span: context only. */
struct trace__light {
	struct trace_span h;
	struct trace__light *next; /* thread cache link */
	char ts[TRACE_TRACESTATE_MAX + 1];
};

/* Arena entry kinds. */
enum {
	TRACE__ENT_ATTR = 1,
	TRACE__ENT_EVENT,
	TRACE__ENT_EATTR,
	TRACE__ENT_LINK,
	TRACE__ENT_LATTR,
	TRACE__ENT_NAME,
	TRACE__ENT_STATUS,
	TRACE__ENT_TSTATE,
	TRACE__ENT_DEAD,
};

/*
 * One arena entry, 8-byte aligned: the header, klen key bytes, vlen value
 * bytes, padding. Scalars are 8 bytes (memcpy'd). An event's value is its
 * time (8) and dropped attribute count (4); a link's key is its tracestate
 * and its value trace id (16), span id (8), flags (4), dropped count (4).
 */
struct trace__ent {
	uint8_t kind;
	uint8_t type; /* trace_attr_type for attributes */
	uint16_t klen;
	uint32_t vlen;
};

/*
 * An array attribute is one TRACE__ENT_ATTR entry whose type is
 * TRACE__ATTR_ARRAY | the elements' trace_attr_type (internal: trace_attr
 * cannot hold an array). Its value holds the elements back to back: 8
 * bytes per int64 or double, 1 per bool (0 or 1), and per string a 4-byte
 * length then the bytes. The count follows from vlen (strings: a walk).
 */
#define TRACE__ATTR_ARRAY 0x10u

#define TRACE__EVENT_VLEN 12
#define TRACE__LINK_VLEN 32

/* A recording span: a pool slot. The pool's free stack lies outside the
 * records (no link inside them): the exporter only reads records. */
struct trace__rec {
	struct trace_span h;
	struct trace__tracer *tr;
	uint32_t index;        /* slot in the pool */
	uint32_t cap;          /* arena bytes */
	/* The setters' fast path adds attributes while fewer than this are
	 * set: the count limit, or 0 when a value-length limit applies
	 * (values to cut take the slow path). A copy of the tracer's
	 * limits, so a setter reads no other line. */
	uint32_t fast_attrs;
	/* Reset for each span, from used to the arena. */
	uint32_t used;         /* arena bytes used */
	uint64_t start_ns;
	uint64_t end_ns;
	uint32_t name_off;     /* entry offset + 1 of the name, 0: none */
	uint32_t status_off;   /* entry offset + 1 of the status message */
	uint32_t n_attrs, dropped_attrs;
	uint32_t n_events, dropped_events;
	uint32_t n_links, dropped_links;
	uint64_t keymask;      /* one bit per attribute key hash */
	alignas(8) unsigned char arena[];
};
/* docs/LIBTRACE.md counts 144 bytes of header per record: with a name
 * and two short attributes a span fits in four cache lines. */
_Static_assert(offsetof(struct trace__rec, arena) == 144,
    "record header size");

/* Records a thread takes from the pool at once, at most, and the slots
 * of its cache (room for a new take before the last one runs out). */
#define TRACE__CHAIN_MAX 32
#define TRACE__CACHE_SLOTS 64

/* ------------------------------------------------------------------ */
/* Per-thread state and the tracer                                    */
/* ------------------------------------------------------------------ */

/* Counters written by one thread only (relaxed loads and stores, no
 * read-modify-write), summed by trace_stats(). */
struct trace__tcount {
	/* A span counts once at start: in started_sampled or sampled_out
	 * (spans_started is their sum: one increment per span). */
	_Atomic uint64_t started_sampled;
	/* Sampled spans ended without a record (the pool was empty, a
	 * forked child); those with one count in the ring's pub_head. */
	_Atomic uint64_t ended;
	_Atomic uint64_t sampled_out;
	_Atomic uint64_t dropped_full;
	_Atomic uint64_t dropped_nomem;
	_Atomic uint64_t dropped_off; /* sampled in a forked child */
};

struct trace__tstate {
	/* Owner thread's fields. */
	struct trace__tracer *tr;
	struct trace_span *current;
	struct trace__light *spare;   /* a light span ready, */
	struct trace__light *light;   /* and a list of nlight more */
	uint32_t nlight;
	/* Records ready for new spans: cache[cache_pos .. cache_end). */
	uint32_t cache_pos, cache_end;
	/* Arena bytes the thread's last recorded span used: how much of a
	 * record a start prefetches. */
	uint32_t last_used;
	/* trace__has_prefetchw, copied here so that a start reads it from
	 * a line it touches anyway (not from one more global line). */
	bool prefetchw;
	/* The tracer's presample table (fixed at trace_init), copied so
	 * that a start reads no line of the tracer. */
	uint8_t presample[3];
	uint64_t kick_at;             /* pub_head that wakes the exporter */
	struct trace__tcount c;
	struct trace__rec *cache[TRACE__CACHE_SLOTS];
	/* Registry fields (other threads write them, under reg_mu). */
	alignas(64) struct trace__tstate *next; /* registry link */
	_Atomic int dead;             /* the thread exited */
	uint64_t flush_mark;          /* reg_mu */
	/* The ring. Next slot to fill: written by the owner (release), read
	 * by the exporter. It also counts the records the thread has
	 * ended. The exporter's tail is on a line of its own, so taking a
	 * batch does not take the owner's line away. */
	alignas(64) _Atomic uint64_t pub_head;
	uint64_t mask;
	struct trace__rec **ring;
	alignas(64) _Atomic uint64_t tail;
};

struct trace__tracer {
	/* Read on every span call: kept together. */
	/* The sampler as two values (trace__sampler_setup), so the span path
	 * decides without a switch: a span with a parent follows it when
	 * parent_based, else it is sampled when its trace ID's 56 random bits
	 * are below root_bound (2^56: always, 0: never). */
	alignas(64) uint64_t root_bound; /* 0 .. TRACE__RATIO_SPACE */
	bool parent_based;
	/* The decision (enum trace__decision) the two values give before
	 * the trace ID is drawn, by the new span's parent
	 * (enum trace__parent): the hot start's one lookup. */
	uint8_t presample[3];
	bool record_ok;        /* false in a forked child */
	struct trace__limits limits;
	uint32_t batch_size;
	uint32_t kick_every;   /* spans a thread ends between kicks */
	uint32_t chain_len;    /* records a thread takes at once */
	/* Record pool (pool.c): the records, and a stack of the free ones,
	 * whose top is tag << 32 | count; releases hold free_mu. */
	unsigned char *pool;       /* 64-byte aligned, inside pool_mem */
	void *pool_mem;
	size_t stride;
	uint32_t nrec;
	_Atomic(struct trace__rec *) *free_stack;
	alignas(64) _Atomic uint64_t free_top;
	pthread_mutex_t free_mu;
	alignas(64) _Atomic int kicked;
	/* Under load the exporter wakes itself (exporter.c, next_due) and
	 * says until when (monotonic ns, 0: not pacing): a thread's
	 * quarter-queue kick is skipped before then. */
	_Atomic uint64_t pace_until;
	sem_t kick;
	/* Registry of thread states. */
	pthread_mutex_t reg_mu;
	struct trace__tstate *threads;
	struct trace__tcount dead_c; /* counts of reclaimed states */
	/* Exporter. */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	pthread_t thread;
	bool thread_started;
	_Atomic bool exporter_alive;
	_Atomic bool stopping;
	_Atomic bool aborting;
	_Atomic uint64_t deadline_ns; /* shutdown deadline, monotonic */
	_Atomic uint64_t flush_req;      /* bumped under reg_mu */
	_Atomic uint64_t flush_done;
	bool exporter_done;              /* mu */
	nng_socket sock;
	nng_aio *aio;                     /* the exporter's send/receive */
	bool sock_open;
	uint32_t delay_ms;
	uint32_t export_timeout_ms;
	uint32_t exit_flush_ms;
	size_t span_bytes;
	uint64_t rng;                     /* exporter's jitter */
	struct exp *exp;                  /* exporter's buffers */
	/* Encoded constants. */
	unsigned char *resource_pb;
	size_t resource_len;
	unsigned char *scope_pb;
	size_t scope_len;
	char *endpoint;
	char *propagators;
	char *service_name;
	_Atomic bool no_route;            /* no endpoint could be dialed */
	trace_log_fn log_fn;
	void *log_arg;
	/* Exporter counters (exporter writes, anyone reads). */
	_Atomic uint64_t exported;
	_Atomic uint64_t dropped_rejected;
	_Atomic uint64_t dropped_shutdown;
	_Atomic uint64_t late_ended;      /* ended after shutdown began */
	_Atomic uint64_t batches_sent;
	_Atomic uint64_t batches_acked;
	_Atomic uint64_t batches_retried;
	_Atomic uint64_t no_memory;       /* thread state allocation failed */
	struct trace__tracer *retired_next;
};

/* ------------------------------------------------------------------ */
/* Internal functions                                                 */
/* ------------------------------------------------------------------ */

/* Relaxed single-writer increment: a plain add, no locked instruction. */
static inline void
trace__inc(_Atomic uint64_t *c)
{
	atomic_store_explicit(c,
	    atomic_load_explicit(c, memory_order_relaxed) + 1,
	    memory_order_relaxed);
}

/* The two globals every span reads: the running tracer (tracer.c) and
 * the wall clock offset (clock_linux.c), kept on one line of their own so
 * that a span touches one global line, wherever the linker puts the
 * rest (two separate definitions shared a line only by chance). */
struct trace__globals {
	alignas(64) _Atomic(struct trace__tracer *) tracer;
	_Atomic int64_t clock_offset_ns;
};
/* Hidden in the declaration too: every file then reaches it at a fixed
 * offset from the code (one load), not through the GOT (two). */
extern __attribute__((visibility("hidden"))) struct trace__globals
    trace__glob; /* defined in tracer.c */
#define trace__g_tracer (trace__glob.tracer)
#define trace__clock_offset_ns (trace__glob.clock_offset_ns)

/* clock_linux.c */
#include <time.h>
/* trace__now_ns is the wall clock (ns since the epoch) derived from the
 * monotonic clock plus an offset, so that durations never go backwards.
 * The offset is set by trace_init (trace__clock_resync) before any span. */
static inline uint64_t
trace__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec +
	    (uint64_t)atomic_load_explicit(&trace__clock_offset_ns,
	    memory_order_relaxed);
}
/* trace__mono_ns is the monotonic clock. */
uint64_t trace__mono_ns(void);
/* trace__clock_resync re-reads the wall clock offset (init, exporter). */
void trace__clock_resync(void);

/* ids.c: random IDs from a per-thread wyrand generator seeded from the OS
 * on first use (trace__ids_reseed), inlined for the span path. A thread
 * that has a trace__tstate is seeded (trace__tstate_slow sees to it, the
 * fork handler reseeds), so the span path reads trace__rng_state as is. */
extern TRACE_TLS uint64_t trace__rng_state;
extern TRACE_TLS int trace__rng_seeded;
/* trace__ids_reseed gives this thread a fresh seed (first use, fork). */
void trace__ids_reseed(void);

/* trace__wy advances a wyrand state held in a register and returns the
 * next 64 random bits. The span path loads the thread's state once, draws
 * what it needs and stores it back once: each load of a state just stored
 * waits for store-to-load forwarding, which chained three times per span
 * was the longest dependency of an unsampled span. */
static inline uint64_t
trace__wy(uint64_t *state)
{
	__uint128_t t;
	uint64_t s = *state += 0xa0761d6478bd642fu;

	t = (__uint128_t)s * (s ^ 0xe7037ed1a0b428dbu);
	return (uint64_t)(t >> 64) ^ (uint64_t)t;
}

/* trace__rng_load returns this thread's generator state (seeding it on
 * first use); trace__rng_store puts it back. */
static inline uint64_t
trace__rng_load(void)
{
	if (TRACE_UNLIKELY(!trace__rng_seeded))
		trace__ids_reseed();
	return trace__rng_state;
}

static inline void
trace__rng_store(uint64_t state)
{
	trace__rng_state = state;
}

static inline uint64_t
trace__rand64(void)
{
	uint64_t st = trace__rng_load(), v = trace__wy(&st);

	trace__rng_store(st);
	return v;
}

/* trace__new_trace_id draws a random trace ID (never all zero) as its
 * two halves, bytes 0..7 and 8..15 as they lie in memory. */
static inline void
trace__new_trace_id(uint64_t *lo, uint64_t *hi)
{
	do {
		*lo = trace__rand64();
		*hi = trace__rand64();
	} while (TRACE_UNLIKELY((*lo | *hi) == 0));
}

/* trace__new_span_id fills id with random bytes, never all zero. */
static inline void
trace__new_span_id(trace_span_id *id)
{
	uint64_t a;

	do {
		a = trace__rand64();
	} while (TRACE_UNLIKELY(a == 0));
	__builtin_memcpy(id->bytes, &a, 8);
}

/* config.c */
/* trace__config_copy deep-copies src into a new config (NULL: ENOMEM). */
struct trace_config *trace__config_copy(const struct trace_config *src);
/* trace__parse_sampler maps an OTEL_TRACES_SAMPLER name; -1 if unknown. */
int trace__parse_sampler(const char *name);

/* resource.c */
/* trace__resource_encode builds the OTLP Resource and InstrumentationScope
 * message bodies for tr from cfg. Returns TRACE_OK or TRACE_ENOMEM. */
int trace__resource_encode(struct trace__tracer *tr,
    const struct trace_config *cfg);

/* sampler.c */
/* trace__ratio_bound maps a probability to a 56-bit threshold. */
uint64_t trace__ratio_bound(double ratio);

#define TRACE__RATIO_SPACE (UINT64_C(1) << 56)

/* A sampling decision known before the trace ID is drawn; DECIDE: only
 * the ID's bits can tell (the ratio samplers). */
enum trace__decision { TRACE__DECIDE, TRACE__SAMPLED, TRACE__UNSAMPLED };
/* A new span's parent, as the sampler sees it. */
enum trace__parent {
	TRACE__ROOT,
	TRACE__PARENT_SAMPLED,
	TRACE__PARENT_UNSAMPLED,
};

/* trace__sampler_setup sets tr's root_bound, parent_based and presample
 * from an OTEL_TRACES_SAMPLER kind and ratio. */
void trace__sampler_setup(struct trace__tracer *tr,
    enum trace__sampler sampler, double ratio);

/* trace__sample decides for a new span (inlined: it is on every start).
 * tid holds the trace ID's bytes 8..15 as they lie in memory; the ratio
 * samplers compare bytes 9..15 read big-endian (the right-most 7 bytes),
 * which are its low 56 bits once byte-swapped. */
static inline bool
trace__sample(const struct trace__tracer *tr, bool has_parent,
    bool parent_sampled, uint64_t tid)
{
	if (has_parent && tr->parent_based)
		return parent_sampled;
	return (__builtin_bswap64(tid) & (TRACE__RATIO_SPACE - 1)) <
	    tr->root_bound;
}

/* cpu.c: trace__cpu_detect (run once, before the first tracer starts)
 * sets trace__has_prefetchw when the CPU has x86's PREFETCHW. */
extern bool trace__has_prefetchw;
void trace__cpu_detect(void);

/* A start prefetches its record's first TRACE__PREFETCH_MIN bytes (a
 * name and a few short attributes), more when the thread's last span
 * used more, up to TRACE__PREFETCH_MAX. */
#define TRACE__PREFETCH_MIN 256u
#define TRACE__PREFETCH_MAX 1024u

/* trace__prefetchw asks for the line at p in a state this core can
 * write. On x86, __builtin_prefetch's write hint compiles to a read
 * prefetch unless built with -mprfchw: the line then arrives shared, and
 * the first store must fetch it again to invalidate the other core's
 * copy. So PREFETCHW is issued directly (callers check
 * trace__has_prefetchw first). */
static inline void
trace__prefetchw(const char *p)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("prefetchw %0" : : "m"(*p));
#else
	__builtin_prefetch(p, 1, 3);
#endif
}

/* trace__prefetch_record fetches record r for writing: the lines a span
 * that uses `used` arena bytes writes (prefetchw: trace__has_prefetchw). */
static inline void
trace__prefetch_record(const struct trace__rec *r, uint32_t used,
    bool prefetchw)
{
	const char *p = (const char *)r;
	const uint32_t hdr = (uint32_t)offsetof(struct trace__rec, arena);

#if defined(__x86_64__) || defined(__i386__)
	if (TRACE_UNLIKELY(!prefetchw)) {
		__builtin_prefetch(p, 1, 3);
		return;
	}
#endif
	trace__prefetchw(p);
	trace__prefetchw(p + 64);
	trace__prefetchw(p + 128);
	trace__prefetchw(p + 192);
	/* used itself is compared (one instruction on the loaded field);
	 * the end is computed only on the rare long path. */
	if (TRACE_UNLIKELY(used > TRACE__PREFETCH_MIN - hdr)) {
		uint32_t end = used < TRACE__PREFETCH_MAX - hdr ?
		    hdr + used : TRACE__PREFETCH_MAX;

		for (uint32_t o = TRACE__PREFETCH_MIN; o < end; o += 64)
			trace__prefetchw(p + o);
	}
}

/* pool.c */
int trace__pool_init(struct trace__tracer *tr, size_t nrec, size_t span_bytes);
void trace__pool_free(struct trace__tracer *tr);
/* trace__pool_take takes up to max free records, last freed first, into
 * out; returns how many (0: the pool is empty). Lock-free. */
size_t trace__pool_take(struct trace__tracer *tr, struct trace__rec **out,
    size_t max);
/* trace__pool_release frees n records (a short lock, never on a span
 * start). */
void trace__pool_release(struct trace__tracer *tr,
    struct trace__rec *const *recs, size_t n);
size_t trace__ring_depth(struct trace__tstate *ts);

/* tracer.c */
/* trace__tstate returns the calling thread's state for the running
 * tracer, attaching it on first use; NULL when no tracer runs. */
struct trace__tstate *trace__tstate_slow(void);
extern TRACE_TLS struct trace__tstate *trace__tls;
/* trace__kick wakes the exporter (rare: once per batch per thread). */
void trace__kick(struct trace__tracer *tr);
/* trace__kick_unless_paced is ts's periodic kick (its ring's head is
 * head): skipped while the exporter paces itself (pace_until). */
void trace__kick_unless_paced(struct trace__tstate *ts, uint64_t head);
void trace__log(const struct trace__tracer *tr, int level,
    const char *fmt, ...) TRACE_PRINTFLIKE(3, 4);

static inline struct trace__tstate *
trace__tstate(void)
{
	struct trace__tstate *ts = trace__tls;
	struct trace__tracer *tr =
	    atomic_load_explicit(&trace__g_tracer, memory_order_acquire);

	if (TRACE_LIKELY(ts != NULL && ts->tr == tr))
		return ts;
	return tr == NULL ? NULL : trace__tstate_slow();
}

/* exporter.c */
/* trace__exporter_start opens the socket, dials cfg's endpoints (with
 * its TLS settings) and starts the exporter thread. */
int trace__exporter_start(struct trace__tracer *tr,
    const struct trace_config *cfg);

/* tls.c */
/* trace__tls_dial dials url with sock in the background, with TLS from
 * cfg's tls_* fields when url is tls+...: a client that verifies the
 * server against tls_ca_file (by tls_server_name, else the URL's host)
 * and presents tls_cert_file/tls_key_file when set. Returns 0, an NNG
 * error, or -1 when the TLS files are unusable (logged at level 3). */
int trace__tls_dial(struct trace__tracer *tr, const struct trace_config *cfg,
    nng_socket sock, const char *url);
/* trace__exporter_stop drains until deadline_ns, then stops the exporter
 * thread and closes the socket. */
void trace__exporter_stop(struct trace__tracer *tr, uint64_t deadline_ns);
/* trace__ingest_reply_decode parses a tracequery.v1.IngestReply. Returns 0
 * or -1 on malformed input. */
struct trace__reply {
	uint32_t code;
	int64_t accepted;
	int64_t rejected;
	uint32_t retry_after_ms;
};
int trace__ingest_reply_decode(const uint8_t *p, size_t len,
    struct trace__reply *out);
/* trace__collect takes up to max records from the rings (exporter). */
size_t trace__collect(struct trace__tracer *tr, struct trace__rec **out,
    size_t max);

/* otlp_encode.c: a growable byte buffer and the OTLP span encoder. */
struct trace__buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	bool failed; /* an allocation failed; contents are garbage */
};
void trace__buf_free(struct trace__buf *b);
/* trace__otlp_encode appends an ExportTraceServiceRequest holding the n
 * records to b (emptied first), using tr's resource and scope. sizes is
 * scratch space for n entries. Returns TRACE_OK or TRACE_ENOMEM. */
int trace__otlp_encode(struct trace__buf *b, const struct trace__tracer *tr,
    struct trace__rec *const *recs, size_t n, size_t *sizes);
/* Low-level writers shared with resource.c. */
void trace__pb_bytes(struct trace__buf *b, uint32_t field, const void *p,
    size_t len);
/* trace__pb_kv_str appends KeyValue{key, string_value} as field `field`. */
void trace__pb_kv_str(struct trace__buf *b, uint32_t field, const char *key,
    const char *value);
void trace__pb_kv_int(struct trace__buf *b, uint32_t field, const char *key,
    int64_t value);
size_t trace__pb_varint_len(uint64_t v);

/* span.c */
/* trace__utf8_cut returns how many bytes of s (len bytes) hold at most
 * max characters, never splitting a UTF-8 sequence. */
size_t trace__utf8_cut(const char *s, size_t len, uint32_t max);
/* trace__ent_next walks a record's arena: returns the entry at *off and
 * advances *off, or NULL at the end. */
const struct trace__ent *trace__ent_next(const struct trace__rec *r,
    uint32_t *off);

static inline const char *
trace__ent_key(const struct trace__ent *e)
{
	return (const char *)(e + 1);
}

static inline const unsigned char *
trace__ent_val(const struct trace__ent *e)
{
	return (const unsigned char *)(e + 1) + e->klen;
}

/*
 * Hooks for propagation (propagation*.c):
 * trace__propagators returns the OTEL_PROPAGATORS list the running tracer
 * was configured with (default "tracecontext,baggage"); when no tracer runs
 * it reads the environment. The string is valid until trace_shutdown().
 * A span from a remote context: trace_span_start_opts() with opts.remote.
 */
const char *trace__propagators(void);

#endif /* LIBTRACE_TRACE_IMPL_H */
