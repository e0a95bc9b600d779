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

typedef struct trace_config trace_config;

/*
 * trace_config_new allocates a configuration holding the defaults, then
 * overridden by the environment (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_TRACES_SAMPLER(_ARG), OTEL_SDK_DISABLED, OTEL_BSP_*, OTEL_*_LIMIT,
 * TRACE_ENDPOINT). Invalid environment values are ignored with a warning to
 * the logger. Returns TRACE_OK or TRACE_ENOMEM. *out is the caller's; free it
 * with trace_config_free() (trace_init copies what it needs).
 */
TRACE_API int trace_config_new(trace_config **out);
/* trace_config_free frees cfg; NULL is a no-op. */
TRACE_API void trace_config_free(trace_config *cfg);

/* Setters copy their string arguments and return TRACE_OK or TRACE_EINVAL. */
TRACE_API int trace_config_set_service_name(trace_config *cfg, const char *name);
/* endpoint: an NNG URL, or a comma-separated list to spread batches. */
TRACE_API int trace_config_set_endpoint(trace_config *cfg, const char *endpoint);
/* sampler: "always_on", "always_off", "traceidratio", "parentbased_*";
 * ratio is used by the traceidratio samplers (0..1). */
TRACE_API int trace_config_set_sampler(trace_config *cfg, const char *sampler, double ratio);
TRACE_API int trace_config_set_resource_attr(trace_config *cfg, const char *key, const char *value);
TRACE_API int trace_config_set_queue_size(trace_config *cfg, size_t spans);
TRACE_API int trace_config_set_batch_size(trace_config *cfg, size_t spans);
TRACE_API int trace_config_set_schedule_delay_ms(trace_config *cfg, uint32_t ms);
TRACE_API int trace_config_set_disabled(trace_config *cfg, bool disabled);
TRACE_API int trace_config_set_logger(trace_config *cfg, trace_log_fn fn, void *arg);

/*
 * trace_init starts the process-wide tracer from cfg (NULL: defaults plus
 * environment) and its exporter thread. Returns TRACE_OK, TRACE_EBUSY when
 * already running, TRACE_EDISABLED when disabled (then every call is a
 * no-op), TRACE_EINVAL or TRACE_ENOMEM.
 */
TRACE_API int trace_init(const trace_config *cfg);

/*
 * trace_shutdown stops accepting spans, flushes what is queued to the
 * collector for at most timeout_ms, stops the exporter and frees the tracer.
 * Returns TRACE_OK when everything queued was acknowledged, TRACE_ETIMEDOUT
 * when the deadline passed first (the rest is counted as dropped), or
 * TRACE_ECLOSED when not running. Spans still open become no-ops.
 */
TRACE_API int trace_shutdown(int timeout_ms);

/* trace_flush waits up to timeout_ms until every span ended before the call
 * is acknowledged by a collector. Returns TRACE_OK or TRACE_ETIMEDOUT. */
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

/* Attributes: key and string values are copied. A key set twice keeps the
 * last value. Past the attribute limits values are cut or dropped and the
 * cut is counted in the span's dropped_attributes_count. */
TRACE_API void trace_span_set_str(trace_span *s, const char *key, const char *value);
TRACE_API void trace_span_set_int(trace_span *s, const char *key, int64_t value);
TRACE_API void trace_span_set_double(trace_span *s, const char *key, double value);
TRACE_API void trace_span_set_bool(trace_span *s, const char *key, bool value);

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

/* trace_span_set_attrs sets n attributes at once (same rules as above). */
TRACE_API void trace_span_set_attrs(trace_span *s, const trace_attr *attrs, size_t n);

/* trace_span_add_event adds a timestamped event (now) with n attributes
 * (attrs may be NULL when n is 0). Everything is copied. */
TRACE_API void trace_span_add_event(trace_span *s, const char *name, const trace_attr *attrs, size_t n);

/* trace_span_record_exception adds the OpenTelemetry `exception` event with
 * exception.type and exception.message (either may be NULL, not both) and
 * sets the span status to ERROR with message. */
TRACE_API void trace_span_record_exception(trace_span *s, const char *type, const char *message);

/* trace_span_add_link links s to another span's context, with attributes. */
TRACE_API void trace_span_add_link(trace_span *s, const trace_context *ctx, const trace_attr *attrs, size_t n);

/* trace_span_set_status sets the status; message (copied) is kept only for
 * TRACE_STATUS_ERROR. OK wins over ERROR; later ERROR replaces earlier. */
TRACE_API void trace_span_set_status(trace_span *s, trace_status_code code, const char *message);

/* trace_span_set_name renames the span (copied). */
TRACE_API void trace_span_set_name(trace_span *s, const char *name);

/* trace_span_end ends s now, restores the thread's previous current span if
 * s was current, and queues s for export. s must not be used afterwards. */
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

/* trace_now_unix_ns returns the wall clock in nanoseconds since the epoch. */
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

typedef struct trace_stats_t {
	uint64_t spans_started;
	uint64_t spans_ended;
	uint64_t spans_sampled_out;
	uint64_t spans_exported;      /* acknowledged by a collector */
	uint64_t spans_dropped_queue_full;
	uint64_t spans_dropped_no_memory;
	uint64_t spans_dropped_rejected;  /* collector refused them */
	uint64_t spans_dropped_shutdown;  /* still queued at the deadline */
	uint64_t batches_sent;
	uint64_t batches_acked;
	uint64_t batches_retried;
	uint64_t queue_depth;
} trace_stats_t;

/* trace_stats fills *out with counters since trace_init (zeros when not
 * running). Safe from any thread; the counters are read without a lock, so
 * a snapshot taken while spans flow may be off by a few in-flight spans. */
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
 * propagator (OTEL_PROPAGATORS, default "tracecontext,baggage"). Returns
 * TRACE_OK or TRACE_EINVAL (NULL span or callback).
 */
TRACE_API int trace_inject(const trace_span *s, void *carrier, trace_carrier_set_fn set);

/*
 * trace_extract reads a remote context from carrier with the configured
 * propagators. Returns TRACE_OK with a valid *out, or TRACE_ENOTFOUND when
 * no valid context is present (invalid input restarts the trace: *out is
 * then zeroed and a span started from it is a new root).
 */
TRACE_API int trace_extract(trace_context *out, void *carrier, trace_carrier_get_fn get);

/* trace_traceparent_format writes "00-<trace>-<span>-<flags>" (55 chars + NUL)
 * into buf. Returns TRACE_OK, TRACE_EINVAL or TRACE_ENOSPACE. */
TRACE_API int trace_traceparent_format(const trace_context *ctx, char *buf, size_t len);
/* trace_traceparent_parse parses a traceparent value (W3C Level 1 and 2
 * rules). Returns TRACE_OK or TRACE_EINVAL (then *out is zeroed). */
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

#ifdef __cplusplus
}
#endif
#endif /* TRACE_TRACE_H */
