/*
 * trace.h - libtrace, a small C tracer that emits OpenTelemetry (OTLP) spans.
 *
 * Threads: every function is safe to call from any thread. A trace_span is
 * used by one thread at a time (start it, annotate it and end it from one
 * thread, or hand it over with your own synchronisation). The logger callback
 * runs on whichever thread logs, with no libtrace lock held.
 *
 * Cost: span start/end takes no lock, makes no syscall other than the clock
 * and does not touch the heap in steady state. Finished spans go into a
 * bounded queue; a background exporter thread batches them, encodes OTLP
 * protobuf and sends them over NNG to tracecollector. When the queue is full
 * spans are dropped and counted (trace_stats()); span calls never block.
 *
 * Before trace_init() and after trace_shutdown() every call is a harmless
 * no-op: span functions return NULL spans and NULL spans are accepted by
 * every function taking a span.
 */
#ifndef TRACE_TRACE_H
#define TRACE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TRACE_API __attribute__((visibility("default")))
#else
#define TRACE_API
#endif

#define TRACE_VERSION_STRING "0.1.0"

/* Error codes. They never change meaning; trace_strerror() names them. */
#define TRACE_ERRORS(X)                                           \
	X(TRACE_OK, 0, "success")                                 \
	X(TRACE_EINVAL, 1, "invalid argument")                    \
	X(TRACE_ENOMEM, 2, "out of memory")                       \
	X(TRACE_ECLOSED, 3, "tracer is not running")              \
	X(TRACE_EFULL, 4, "export queue full")                    \
	X(TRACE_ENOTFOUND, 5, "not found")                        \
	X(TRACE_ETIMEDOUT, 6, "timed out")                        \
	X(TRACE_EDISABLED, 7, "tracing is disabled")              \
	X(TRACE_ENOSPACE, 8, "buffer too small")                  \
	X(TRACE_ETRANSPORT, 9, "transport error")                 \
	X(TRACE_EBUSY, 10, "already initialised")

#define TRACE_ERROR_ENUM(name, num, text) name = num,
enum trace_error { TRACE_ERRORS(TRACE_ERROR_ENUM) };
#undef TRACE_ERROR_ENUM

/* trace_strerror returns a static English text for err; never NULL. */
TRACE_API const char *trace_strerror(int err);

/* ------------------------------------------------------------------ */
/* Identifiers and context                                            */
/* ------------------------------------------------------------------ */

typedef struct trace_trace_id {
	uint8_t bytes[16];
} trace_trace_id;

typedef struct trace_span_id {
	uint8_t bytes[8];
} trace_span_id;

#define TRACE_TRACE_ID_HEXLEN 32
#define TRACE_SPAN_ID_HEXLEN 16

/* W3C trace-flags bits. Test with a mask, never by equality. */
#define TRACE_FLAG_SAMPLED 0x01u
#define TRACE_FLAG_RANDOM 0x02u /* Level 2: trace-id is random */

/* Longest tracestate kept (W3C: propagate at least 512 characters). */
#define TRACE_TRACESTATE_MAX 512

/*
 * trace_context is the part of a span that crosses process boundaries:
 * what traceparent/tracestate carry. A context is valid when both IDs are
 * non-zero (trace_context_is_valid).
 */
typedef struct trace_context {
	trace_trace_id trace_id;
	trace_span_id span_id;
	uint8_t flags;  /* TRACE_FLAG_* */
	bool is_remote; /* came from another process */
	char tracestate[TRACE_TRACESTATE_MAX + 1]; /* "" when none */
} trace_context;

/* trace_context_is_valid returns true when both IDs are non-zero. */
TRACE_API bool trace_context_is_valid(const trace_context *ctx);

/* trace_trace_id_to_hex writes 32 lowercase hex digits and a NUL into hex,
 * which must hold TRACE_TRACE_ID_HEXLEN + 1 bytes. */
TRACE_API void trace_trace_id_to_hex(const trace_trace_id *id, char *hex);
/* trace_span_id_to_hex writes 16 lowercase hex digits and a NUL. */
TRACE_API void trace_span_id_to_hex(const trace_span_id *id, char *hex);

/* ------------------------------------------------------------------ */
/* Configuration and lifecycle                                        */
/* ------------------------------------------------------------------ */

/* Logger callback: level uses syslog numbers (3 error, 4 warning, 6 info,
 * 7 debug); msg is finished text without a newline. Runs on the thread that
 * logs, no libtrace lock held. libtrace is silent until one is installed. */
typedef void (*trace_log_fn)(int level, const char *msg, void *arg);
/* (Most messages come from the exporter thread; the callback must not call
 * trace_shutdown or trace_flush.) */

typedef struct trace_config trace_config;

/*
 * trace_config_new allocates a configuration holding the defaults, then
 * overridden by the environment. Invalid environment values are ignored
 * with a warning to the logger (logged by trace_init). Returns TRACE_OK,
 * TRACE_EINVAL (out NULL) or TRACE_ENOMEM. *out is the caller's; free it
 * with trace_config_free() (trace_init copies what it needs). Setters may
 * be called on it afterwards and win over the environment.
 *
 * Environment (docs/LIBTRACE.md has the full table):
 *   TRACE_ENDPOINT                  collector URL(s), comma-separated;
 *                                   default tcp://127.0.0.1:7070
 *   OTEL_SERVICE_NAME               service.name
 *   OTEL_RESOURCE_ATTRIBUTES        k1=v1,k2=v2 (percent-decoded)
 *   OTEL_TRACES_SAMPLER(_ARG)       default parentbased_always_on
 *   OTEL_SDK_DISABLED               "true": trace_init returns EDISABLED
 *   OTEL_BSP_MAX_QUEUE_SIZE         default 2048 spans (the memory bound)
 *   OTEL_BSP_MAX_EXPORT_BATCH_SIZE  default 512
 *   OTEL_BSP_SCHEDULE_DELAY         default 500 ms (OTel says 5000; we
 *                                   prefer traces to show up quickly)
 *   OTEL_BSP_EXPORT_TIMEOUT         per attempt, default 30000 ms, 0: none
 *   OTEL_[SPAN_]ATTRIBUTE_COUNT_LIMIT, OTEL_[SPAN_]ATTRIBUTE_VALUE_LENGTH_LIMIT,
 *   OTEL_SPAN_EVENT_COUNT_LIMIT, OTEL_SPAN_LINK_COUNT_LIMIT,
 *   OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT, OTEL_LINK_ATTRIBUTE_COUNT_LIMIT
 *   TRACE_SPAN_BUFFER_BYTES         bytes each span records into, 2048
 *   TRACE_EXIT_FLUSH_MS             flush deadline at exit(), 1000 ms
 *   TRACE_TLS_CA_FILE               PEM CA that signed the collector's
 *                                   certificate (tls+tcp:// endpoints)
 *   TRACE_TLS_CERT_FILE, TRACE_TLS_KEY_FILE
 *                                   PEM client certificate and key, for
 *                                   collectors that require them (mTLS)
 *   TRACE_TLS_SERVER_NAME           name to verify in the collector's
 *                                   certificate; default the URL's host
 */
TRACE_API int trace_config_new(trace_config **out);
/* trace_config_free frees cfg; NULL is a no-op. */
TRACE_API void trace_config_free(trace_config *cfg);

/* Setters copy their string arguments and return TRACE_OK, TRACE_EINVAL
 * (NULL cfg, empty string, out of range) or TRACE_ENOMEM; on error cfg is
 * unchanged. A config is used by one thread at a time. */
TRACE_API int trace_config_set_service_name(trace_config *cfg, const char *name);
/* endpoint: an NNG URL, or a comma-separated list to spread batches. */
TRACE_API int trace_config_set_endpoint(trace_config *cfg, const char *endpoint);
/*
 * TLS for tls+tcp:// endpoints (ignored for others). The collector's
 * certificate is always verified, against the CA file, for the server
 * name (default: the endpoint's host); a client certificate and its key
 * (PEM, unencrypted) are sent when both are set (mutual TLS). Files are
 * read by trace_init. A tls+tcp:// endpoint whose files cannot be used
 * (missing CA, unreadable or invalid file) is logged at level 3 and not
 * dialed; trace_init still succeeds, and when no endpoint is left every
 * batch is counted in spans_dropped_rejected. A failed handshake looks
 * like a collector that is down: spans wait, then count as dropped.
 * NULL clears the setting (e.g. one taken from the environment).
 */
TRACE_API int trace_config_set_tls_ca_file(trace_config *cfg, const char *path);
TRACE_API int trace_config_set_tls_cert_file(trace_config *cfg, const char *path);
TRACE_API int trace_config_set_tls_key_file(trace_config *cfg, const char *path);
TRACE_API int trace_config_set_tls_server_name(trace_config *cfg, const char *name);
/* sampler: "always_on", "always_off", "traceidratio", "parentbased_*";
 * ratio is used by the traceidratio samplers (0..1). */
TRACE_API int trace_config_set_sampler(trace_config *cfg, const char *sampler, double ratio);
/* A resource attribute; wins over OTEL_RESOURCE_ATTRIBUTES and
 * OTEL_SERVICE_NAME. telemetry.sdk.* and process.pid cannot be set. */
TRACE_API int trace_config_set_resource_attr(trace_config *cfg, const char *key, const char *value);
/* Most sampled spans held at once, open or waiting for export (1..2^20):
 * the memory bound is about spans * (span buffer bytes + 192). */
TRACE_API int trace_config_set_queue_size(trace_config *cfg, size_t spans);
/* Most spans per export request (capped to the queue size). */
TRACE_API int trace_config_set_batch_size(trace_config *cfg, size_t spans);
/* Longest wait before queued spans are exported (ms, > 0). */
TRACE_API int trace_config_set_schedule_delay_ms(trace_config *cfg, uint32_t ms);
/* How long one send waits for the collector's reply (ms, 0: no limit). */
TRACE_API int trace_config_set_export_timeout_ms(trace_config *cfg, uint32_t ms);
/* Bytes each sampled span can record (name, attributes, events, links,
 * tracestate), 256..1 MiB; what does not fit is dropped and counted. */
TRACE_API int trace_config_set_span_buffer_bytes(trace_config *cfg, size_t bytes);
TRACE_API int trace_config_set_disabled(trace_config *cfg, bool disabled);
/* Installs the logger (NULL: silent). arg is passed to fn. */
TRACE_API int trace_config_set_logger(trace_config *cfg, trace_log_fn fn, void *arg);

/* Span limits (OpenTelemetry names and defaults: 128 for counts, no limit
 * for the value length). TRACE_LIMIT_NONE lifts one. */
typedef enum trace_limit {
	TRACE_LIMIT_ATTR_COUNT = 1,       /* attributes per span */
	TRACE_LIMIT_ATTR_VALUE_LEN = 2,   /* characters per string value */
	TRACE_LIMIT_EVENT_COUNT = 3,      /* events per span */
	TRACE_LIMIT_LINK_COUNT = 4,       /* links per span */
	TRACE_LIMIT_EVENT_ATTR_COUNT = 5, /* attributes per event */
	TRACE_LIMIT_LINK_ATTR_COUNT = 6,  /* attributes per link */
} trace_limit;
#define TRACE_LIMIT_NONE UINT32_MAX
TRACE_API int trace_config_set_limit(trace_config *cfg, trace_limit which, uint32_t value);

/*
 * trace_init starts the process-wide tracer from cfg (NULL: defaults plus
 * environment) and its exporter thread, which dials the collector(s) in
 * the background (a collector that is down is not an error). Returns
 * TRACE_OK, TRACE_EBUSY when already running, TRACE_EDISABLED when
 * disabled (then every call is a no-op), TRACE_EINVAL (an endpoint NNG
 * cannot parse), TRACE_ETRANSPORT or TRACE_ENOMEM. cfg stays the caller's.
 * The first call also installs a pthread_atfork handler and an atexit
 * handler (trace_shutdown(TRACE_EXIT_FLUSH_MS)).
 */
TRACE_API int trace_init(const trace_config *cfg);

/*
 * trace_shutdown stops accepting spans (new starts return NULL; spans
 * ended from now on are counted as dropped_shutdown), delivers what is
 * queued for at most timeout_ms (< 0: no limit), stops the exporter and
 * closes the socket. Returns TRACE_OK when nothing was dropped at shutdown,
 * TRACE_ETIMEDOUT when the deadline passed first (the rest is counted as
 * dropped_shutdown), or TRACE_ECLOSED when not running. Span memory is
 * kept (not freed) so that late calls on open spans from other threads
 * stay safe no-ops; trace_stats() keeps reporting the final counters until
 * the next trace_init. Blocks the caller up to timeout_ms.
 *
 * fork(): a child keeps the tracer and every span context (to propagate
 * the trace) but does not export, since NNG does not survive fork(); its
 * sampled spans count as dropped_shutdown, and trace_shutdown() there
 * returns TRACE_OK at once. See docs/LIBTRACE.md.
 */
TRACE_API int trace_shutdown(int timeout_ms);

/* trace_flush waits up to timeout_ms (< 0: no limit) until every span
 * ended before the call has been settled by a collector (acknowledged, or
 * rejected and counted). Returns TRACE_OK, TRACE_ETIMEDOUT, or
 * TRACE_ECLOSED when not running. In a forked child it returns
 * TRACE_ETIMEDOUT at once (the child does not export). */
TRACE_API int trace_flush(int timeout_ms);

/* trace_is_running returns true between trace_init and trace_shutdown. */
TRACE_API bool trace_is_running(void);

/* ------------------------------------------------------------------ */
/* Spans                                                              */
/* ------------------------------------------------------------------ */

typedef struct trace_span trace_span;

typedef enum trace_span_kind {
	TRACE_KIND_INTERNAL = 1,
	TRACE_KIND_SERVER = 2,
	TRACE_KIND_CLIENT = 3,
	TRACE_KIND_PRODUCER = 4,
	TRACE_KIND_CONSUMER = 5,
} trace_span_kind;

typedef enum trace_status_code {
	TRACE_STATUS_UNSET = 0,
	TRACE_STATUS_OK = 1,
	TRACE_STATUS_ERROR = 2,
} trace_status_code;

/*
 * trace_span_options chooses a new span's parent and kind. Zero-initialise
 * it; the parent is, in order: remote (when valid), parent, else the
 * thread's current span, unless new_root is set.
 */
typedef struct trace_span_options {
	trace_span_kind kind;         /* 0 means TRACE_KIND_INTERNAL */
	const trace_span *parent;     /* explicit local parent */
	const trace_context *remote;  /* parent from another process */
	bool new_root;                /* ignore the thread's current span */
	bool detached;                /* do not make it the current span */
	uint64_t start_unix_ns;       /* 0: now */
} trace_span_options;

/*
 * trace_span_start starts span `name` (copied) as a child of the thread's
 * current span (or a new root) and makes it the thread's current span until
 * it ends. Returns NULL when tracing is off or the span pool is exhausted
 * (counted); every span function accepts NULL. An unsampled span is returned
 * too: it records nothing but carries its context for propagation.
 * Ownership: the span is the caller's until trace_span_end(), which
 * consumes it.
 */
TRACE_API trace_span *trace_span_start(const char *name);
/* trace_span_start_opts is trace_span_start with explicit options; opts may
 * be NULL. A non-detached span becomes the thread's current span. */
TRACE_API trace_span *trace_span_start_opts(const char *name, const trace_span_options *opts);

/* Attributes: key and string values are copied; NULL span, key or string
 * value is a no-op, as is any call on a span that is not recording. A key
 * set twice keeps the last value. String values longer than
 * OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT characters are cut (at a UTF-8
 * character boundary; not counted as a drop). An attribute past
 * OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, or that does not fit in the span's
 * buffer, is dropped and counted in the span's dropped_attributes_count. */
TRACE_API void trace_span_set_str(trace_span *s, const char *key, const char *value);
TRACE_API void trace_span_set_int(trace_span *s, const char *key, int64_t value);
TRACE_API void trace_span_set_double(trace_span *s, const char *key, double value);
TRACE_API void trace_span_set_bool(trace_span *s, const char *key, bool value);

/*
 * Array attributes (OpenTelemetry: a homogeneous array of strings, int64,
 * double or bool) take the n values at `values`. Same rules as the
 * scalar setters above: the key and every value are copied (values may be
 * freed on return); NULL span or key, or NULL values with n > 0, is a
 * no-op, as is any call on a span that is not recording; a key set twice
 * keeps the last value, whatever its type. An array is one attribute for
 * OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, and n == 0 sets an empty array. Each
 * string element is cut to OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT
 * characters; a NULL string element is stored as "" (the array keeps its
 * length and order). An array past the count limit, or that does not fit
 * whole in the span's buffer, is dropped whole (never in part) and counted
 * in dropped_attributes_count. Not for events and links (trace_attr).
 */
TRACE_API void trace_span_set_str_array(trace_span *s, const char *key, const char *const *values, size_t n);
TRACE_API void trace_span_set_int_array(trace_span *s, const char *key, const int64_t *values, size_t n);
TRACE_API void trace_span_set_double_array(trace_span *s, const char *key, const double *values, size_t n);
TRACE_API void trace_span_set_bool_array(trace_span *s, const char *key, const bool *values, size_t n);

/* A typed attribute for events and links. Build with the TRACE_ATTR_* macros. */
typedef enum trace_attr_type {
	TRACE_ATTR_STRING = 1,
	TRACE_ATTR_INT = 2,
	TRACE_ATTR_DOUBLE = 3,
	TRACE_ATTR_BOOL = 4,
} trace_attr_type;

typedef struct trace_attr {
	const char *key;
	trace_attr_type type;
	union {
		const char *s;
		int64_t i;
		double d;
		bool b;
	} value;
} trace_attr;

#define TRACE_ATTR_STR(k, v) ((trace_attr){.key = (k), .type = TRACE_ATTR_STRING, .value.s = (v)})
#define TRACE_ATTR_INT(k, v) ((trace_attr){.key = (k), .type = TRACE_ATTR_INT, .value.i = (v)})
#define TRACE_ATTR_DOUBLE(k, v) ((trace_attr){.key = (k), .type = TRACE_ATTR_DOUBLE, .value.d = (v)})
#define TRACE_ATTR_BOOL(k, v) ((trace_attr){.key = (k), .type = TRACE_ATTR_BOOL, .value.b = (v)})

/*
 * Literal strings cost no strlen(). With GCC (optimizing), trace_span_start
 * and the four attribute setters are also macros over inline functions: when a
 * name, key or string value is a string literal, its length is known at
 * compile time and handed to the library, which then skips strlen() on the
 * span path; any other string is measured by the library as before.
 * Arguments are evaluated once and behaviour is identical; the functions keep
 * their addresses, and `(trace_span_set_str)(s, k, v)` calls one directly.
 * Define TRACE_NO_LITERAL_LENGTHS before including this header to turn the
 * macros off. The trace__* entry points below are for these macros only: a
 * length of TRACE__LEN_UNKNOWN means "call strlen()", and any other length
 * is that of a non-NULL string.
 */
#define TRACE__LEN_UNKNOWN ((size_t)-1)
TRACE_API trace_span *trace__span_start_len(const char *name, size_t name_len);
TRACE_API void trace__span_set_str_len(trace_span *s, const char *key, size_t key_len, const char *value, size_t value_len);
TRACE_API void trace__span_set_scalar_len(trace_span *s, const char *key, size_t key_len, trace_attr_type type, uint64_t bits);

#if defined(__GNUC__) && !defined(__clang__) && defined(__OPTIMIZE__) && \
    !defined(TRACE_NO_LITERAL_LENGTHS)
/* trace__lit_len is p's length when the compiler knows it (a literal),
 * else TRACE__LEN_UNKNOWN. The `p ? p : ""` keeps -Wnonnull quiet for a
 * literal NULL. Clang folds __builtin_constant_p too early to see through
 * the inline call, hence GCC only. */
static inline __attribute__((always_inline)) size_t
trace__lit_len(const char *p)
{
	return p != NULL && __builtin_constant_p(__builtin_strlen(p ? p : "")) ?
	    __builtin_strlen(p ? p : "") : TRACE__LEN_UNKNOWN;
}

static inline __attribute__((always_inline)) trace_span *
trace__start_inl(const char *name)
{
	return trace__span_start_len(name, trace__lit_len(name));
}

static inline __attribute__((always_inline)) void
trace__set_str_inl(trace_span *s, const char *key, const char *value)
{
	trace__span_set_str_len(s, key, trace__lit_len(key), value,
	    trace__lit_len(value));
}

static inline __attribute__((always_inline)) void
trace__set_int_inl(trace_span *s, const char *key, int64_t value)
{
	trace__span_set_scalar_len(s, key, trace__lit_len(key), TRACE_ATTR_INT,
	    (uint64_t)value);
}

static inline __attribute__((always_inline)) void
trace__set_double_inl(trace_span *s, const char *key, double value)
{
	union { double d; uint64_t u; } v;

	v.d = value;
	trace__span_set_scalar_len(s, key, trace__lit_len(key),
	    TRACE_ATTR_DOUBLE, v.u);
}

static inline __attribute__((always_inline)) void
trace__set_bool_inl(trace_span *s, const char *key, bool value)
{
	trace__span_set_scalar_len(s, key, trace__lit_len(key), TRACE_ATTR_BOOL,
	    value);
}

#define trace_span_start(name) trace__start_inl(name)
#define trace_span_set_str(s, key, value) trace__set_str_inl((s), (key), (value))
#define trace_span_set_int(s, key, value) trace__set_int_inl((s), (key), (value))
#define trace_span_set_double(s, key, value) trace__set_double_inl((s), (key), (value))
#define trace_span_set_bool(s, key, value) trace__set_bool_inl((s), (key), (value))
#endif

/* trace_span_set_attrs sets n attributes at once (same rules as above). */
TRACE_API void trace_span_set_attrs(trace_span *s, const trace_attr *attrs, size_t n);

/* trace_span_add_event adds a timestamped event (now) with n attributes
 * (attrs may be NULL when n is 0). Everything is copied. Past
 * OTEL_SPAN_EVENT_COUNT_LIMIT the event is dropped and counted in the
 * span's dropped_events_count; past OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT its
 * extra attributes are dropped and counted in the event's
 * dropped_attributes_count. Event attribute keys are not de-duplicated. */
TRACE_API void trace_span_add_event(trace_span *s, const char *name, const trace_attr *attrs, size_t n);
/* trace_span_add_event_at is trace_span_add_event at an explicit time
 * (ns since the epoch; 0: now). */
TRACE_API void trace_span_add_event_at(trace_span *s, const char *name, uint64_t unix_ns, const trace_attr *attrs, size_t n);

/* trace_span_record_exception adds the OpenTelemetry `exception` event with
 * exception.type and exception.message (either may be NULL, not both) and
 * sets the span status to ERROR with message. */
TRACE_API void trace_span_record_exception(trace_span *s, const char *type, const char *message);

/* trace_span_add_link links s to another span's context (copied, with
 * its tracestate and is_remote), with attributes. An invalid ctx is
 * ignored. Past OTEL_SPAN_LINK_COUNT_LIMIT the link is dropped and
 * counted in dropped_links_count. */
TRACE_API void trace_span_add_link(trace_span *s, const trace_context *ctx, const trace_attr *attrs, size_t n);

/* trace_span_set_status sets the status; message (copied) is kept only for
 * TRACE_STATUS_ERROR. OK wins over ERROR; later ERROR replaces earlier. */
TRACE_API void trace_span_set_status(trace_span *s, trace_status_code code, const char *message);

/* trace_span_set_name renames the span (copied). Each rename uses span
 * buffer space; when full, the old name stays. */
TRACE_API void trace_span_set_name(trace_span *s, const char *name);

/* trace_span_end ends s now, restores the thread's previous current span if
 * s was current, and queues s for export. s must not be used afterwards
 * (ending it twice is undefined). A span that became the current span must
 * be ended on the thread that started it; a span handed to another thread
 * should be started detached. NULL is a no-op. Never blocks: when the
 * tracer is shutting down, the span is counted as dropped_shutdown. */
TRACE_API void trace_span_end(trace_span *s);
/* trace_span_end_at is trace_span_end with an explicit end time. */
TRACE_API void trace_span_end_at(trace_span *s, uint64_t end_unix_ns);

/* trace_span_is_recording returns true when s is sampled and records data. */
TRACE_API bool trace_span_is_recording(const trace_span *s);

/* trace_span_get_context copies s's context into *out. Returns TRACE_OK, or
 * TRACE_EINVAL when s is NULL (then *out is zeroed, hence invalid). */
TRACE_API int trace_span_get_context(const trace_span *s, trace_context *out);

/* trace_current_span returns the calling thread's current span, or NULL. */
TRACE_API trace_span *trace_current_span(void);

/* trace_now_unix_ns returns the wall clock in nanoseconds since the epoch,
 * as libtrace stamps spans (monotonic clock plus a wall-clock offset that
 * the exporter refreshes every schedule delay). */
TRACE_API uint64_t trace_now_unix_ns(void);

/*
 * TRACE_SCOPED_SPAN(var, name) declares `trace_span *var` started as with
 * trace_span_start() and ended automatically when the enclosing block exits
 * (by falling off its end, break, return or goto). It relies on the GCC/Clang
 * `cleanup` attribute and so needs one of those compilers.
 */
#if defined(__GNUC__)
TRACE_API void trace__span_cleanup(trace_span **sp);
#define TRACE_SCOPED_SPAN(var, name) \
	trace_span *var __attribute__((cleanup(trace__span_cleanup))) = trace_span_start(name)
#endif

/* ------------------------------------------------------------------ */
/* Statistics                                                         */
/* ------------------------------------------------------------------ */

/*
 * Counters of the running tracer (or of the last one, after
 * trace_shutdown). Accounting: every sampled span that ends is counted once
 * in spans_ended and, once settled, in exactly one of spans_exported or a
 * spans_dropped_* counter; so when queue_depth is 0 and no batch is in
 * flight, spans_ended == spans_exported + spans_dropped_queue_full +
 * spans_dropped_rejected + spans_dropped_shutdown (+ encoding failures
 * counted in spans_dropped_no_memory). Unsampled spans count in
 * spans_started and spans_sampled_out only. A start that returned NULL for
 * lack of memory counts only in spans_dropped_no_memory.
 */
typedef struct trace_stats_t {
	uint64_t spans_started;            /* sampled or not */
	uint64_t spans_ended;              /* sampled spans ended */
	uint64_t spans_sampled_out;
	uint64_t spans_exported;           /* acknowledged by a collector */
	uint64_t spans_dropped_queue_full; /* no free slot (OTEL_BSP_MAX_QUEUE_SIZE) */
	uint64_t spans_dropped_no_memory;
	uint64_t spans_dropped_rejected;   /* collector refused them, or no
	                                      endpoint was usable (TLS files) */
	uint64_t spans_dropped_shutdown;   /* queued at the deadline, ended after
	                                      shutdown, or sampled in a forked child */
	uint64_t batches_sent;             /* distinct batches */
	uint64_t batches_acked;            /* settled by a reply */
	uint64_t batches_retried;          /* resends */
	uint64_t queue_depth;              /* ended spans waiting for export */
} trace_stats_t;

/* trace_stats fills *out (zeros before the first trace_init). Safe from
 * any thread, takes no lock a span call could wait on; a snapshot taken
 * while spans flow may be off by a few in-flight spans. */
TRACE_API void trace_stats(trace_stats_t *out);

/* ------------------------------------------------------------------ */
/* Propagation                                                        */
/* ------------------------------------------------------------------ */

/* Carrier callbacks for any text map (HTTP headers, environment, message
 * properties). get returns the value of key (matched case-insensitively,
 * several fields of one name joined with ","), or NULL when absent. set
 * stores key=value (both copied by the carrier). */
typedef const char *(*trace_carrier_get_fn)(void *carrier, const char *key);
typedef void (*trace_carrier_set_fn)(void *carrier, const char *key, const char *value);

/*
 * trace_inject writes s's context into carrier with every configured
 * propagator (OTEL_PROPAGATORS, read once on first use: a comma-separated
 * list of tracecontext, baggage, b3, b3multi, jaeger or none; default
 * "tracecontext,baggage"). Headers written: traceparent and tracestate
 * (tracestate only when not empty); b3; X-B3-TraceId, X-B3-SpanId and
 * X-B3-Sampled; uber-trace-id; and baggage, from the calling thread's
 * current baggage (trace_baggage_set_current) when it has entries. set is
 * called on the calling thread, once per header. Returns TRACE_OK or
 * TRACE_EINVAL (NULL span or callback). Rules: docs/PROPAGATION.md.
 */
TRACE_API int trace_inject(const trace_span *s, void *carrier, trace_carrier_set_fn set);

/* trace_inject_context is trace_inject for a context rather than a span,
 * e.g. to forward an extracted context unchanged. Returns TRACE_OK, or
 * TRACE_EINVAL when ctx is invalid or set is NULL (nothing written). */
TRACE_API int trace_inject_context(const trace_context *ctx, void *carrier, trace_carrier_set_fn set);

/*
 * trace_extract reads a remote context from carrier with the configured
 * propagators. Returns TRACE_OK with a valid *out, or TRACE_ENOTFOUND when
 * no valid context is present (invalid input restarts the trace: *out is
 * then zeroed and a span started from it is a new root), or TRACE_EINVAL
 * (NULL out or get). When several configured formats are present, the
 * first valid one in this order wins: tracecontext, b3, b3multi, jaeger
 * (B3 and Jaeger carry no tracestate). W3C: an invalid traceparent
 * discards tracestate; an invalid tracestate is discarded whole without
 * affecting traceparent.
 * The baggage propagator is not read here: see trace_baggage_extract.
 */
TRACE_API int trace_extract(trace_context *out, void *carrier, trace_carrier_get_fn get);

/* trace_traceparent_format writes "00-<trace>-<span>-<flags>" (55 chars + NUL)
 * into buf. Returns TRACE_OK, TRACE_EINVAL or TRACE_ENOSPACE. */
TRACE_API int trace_traceparent_format(const trace_context *ctx, char *buf, size_t len);
/* trace_traceparent_parse parses a traceparent value (W3C Level 1 and 2
 * rules). Returns TRACE_OK (with is_remote set and an empty tracestate) or
 * TRACE_EINVAL (then *out is zeroed). */
TRACE_API int trace_traceparent_parse(const char *value, trace_context *out);

/*
 * NNG carrier. nng messages have no headers of their own, so the context
 * travels as a small prefix of the message body (layout documented in
 * docs/PROPAGATION.md). trace_nng_msg_inject prepends s's context to msg's
 * body; returns TRACE_OK, TRACE_EINVAL or TRACE_ENOMEM (msg unchanged).
 * trace_nng_msg_extract removes that prefix from msg's body when present and
 * fills *out; returns TRACE_OK, or TRACE_ENOTFOUND when msg carries no valid
 * context (msg is then unchanged and *out zeroed).
 */
struct nng_msg;
TRACE_API int trace_nng_msg_inject(const trace_span *s, struct nng_msg *msg);
TRACE_API int trace_nng_msg_extract(struct nng_msg *msg, trace_context *out);
/* trace_nng_msg_inject_context is trace_nng_msg_inject for a context. */
TRACE_API int trace_nng_msg_inject_context(const trace_context *ctx, struct nng_msg *msg);

/* ------------------------------------------------------------------ */
/* Baggage (W3C baggage header)                                       */
/* ------------------------------------------------------------------ */

/*
 * A trace_baggage is an ordered set of key=value entries (each with
 * optional ";property" metadata) carried by the W3C `baggage` header,
 * independently of the trace context. Keys are HTTP tokens; values are any
 * string (percent-encoded on the wire, decoded when read). Limits follow
 * the W3C baggage minimums: at most TRACE_BAGGAGE_MAX_ENTRIES entries and
 * TRACE_BAGGAGE_MAX_BYTES bytes of header. Baggage is not for hot paths:
 * it allocates. A trace_baggage is used by one thread at a time.
 */
typedef struct trace_baggage trace_baggage;

#define TRACE_BAGGAGE_MAX_ENTRIES 64
#define TRACE_BAGGAGE_MAX_BYTES 8192

/* trace_baggage_new allocates an empty baggage into *out. Returns TRACE_OK,
 * TRACE_EINVAL or TRACE_ENOMEM. Free it with trace_baggage_free(). */
TRACE_API int trace_baggage_new(trace_baggage **out);
/* trace_baggage_free frees b and its entries; NULL is a no-op. */
TRACE_API void trace_baggage_free(trace_baggage *b);

/*
 * trace_baggage_set adds key=value (replacing the value and metadata of an
 * existing key, in place). metadata is the text after ';' in the header
 * ("prop1;k=v"), or NULL. All strings are copied. Returns TRACE_OK,
 * TRACE_EINVAL (key not a token, bad metadata, NULL argument),
 * TRACE_ENOSPACE (a limit would be exceeded; b unchanged) or TRACE_ENOMEM.
 */
TRACE_API int trace_baggage_set(trace_baggage *b, const char *key, const char *value, const char *metadata);
/* trace_baggage_get returns key's value, or NULL when absent. The string
 * belongs to b and stays valid until b changes or is freed. */
TRACE_API const char *trace_baggage_get(const trace_baggage *b, const char *key);
/* trace_baggage_remove deletes key. Returns TRACE_OK or TRACE_ENOTFOUND. */
TRACE_API int trace_baggage_remove(trace_baggage *b, const char *key);
/* trace_baggage_count returns the number of entries (0 for NULL). */
TRACE_API size_t trace_baggage_count(const trace_baggage *b);
/* trace_baggage_entry reads entry i (0-based, in header order) into the
 * non-NULL out-pointers; *metadata is NULL when there is none. Strings
 * belong to b. Returns TRACE_OK or TRACE_ENOTFOUND past the end. */
TRACE_API int trace_baggage_entry(const trace_baggage *b, size_t i, const char **key, const char **value, const char **metadata);

/*
 * trace_baggage_parse adds the entries of a baggage header value (several
 * fields joined with ",") to b; a later duplicate key replaces an earlier
 * one. Invalid list-members are skipped, and members past the limits are
 * dropped. Returns TRACE_OK when at least one entry was read,
 * TRACE_ENOTFOUND when none was, TRACE_EINVAL or TRACE_ENOMEM.
 */
TRACE_API int trace_baggage_parse(trace_baggage *b, const char *value);
/* trace_baggage_format writes b as a baggage header value (NUL-ended) into
 * buf. Returns TRACE_OK, TRACE_EINVAL or TRACE_ENOSPACE (buf too small). */
TRACE_API int trace_baggage_format(const trace_baggage *b, char *buf, size_t len);

/* trace_baggage_inject sets the `baggage` header from b (nothing when b is
 * empty), whatever OTEL_PROPAGATORS says. Returns TRACE_OK, TRACE_EINVAL or
 * TRACE_ENOMEM. */
TRACE_API int trace_baggage_inject(const trace_baggage *b, void *carrier, trace_carrier_set_fn set);
/* trace_baggage_extract reads the `baggage` header into a new baggage in
 * *out (the caller's, to free). Returns TRACE_OK, TRACE_ENOTFOUND (no
 * header or no valid entry; *out NULL), TRACE_EINVAL or TRACE_ENOMEM. */
TRACE_API int trace_baggage_extract(trace_baggage **out, void *carrier, trace_carrier_get_fn get);

/*
 * trace_baggage_set_current makes b the calling thread's current baggage,
 * which trace_inject() sends when the baggage propagator is configured.
 * b stays the caller's: keep it alive, and unchanged by other threads,
 * while it is current, and clear it with NULL before freeing it. Returns
 * the previous current baggage (or NULL).
 */
TRACE_API const trace_baggage *trace_baggage_set_current(const trace_baggage *b);
/* trace_baggage_current returns the calling thread's current baggage. */
TRACE_API const trace_baggage *trace_baggage_current(void);

#ifdef __cplusplus
}
#endif
#endif /* TRACE_TRACE_H */
