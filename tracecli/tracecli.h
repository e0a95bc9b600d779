/*
 * tracecli.h - private header of tracecli: the trace model (model.c, no
 * curses), the collector client (client.c), wire-string sanitising
 * (sanitize.c), text and JSON output (plain.c, json_out.c) and the
 * interactive parts (term.c, view.c, tui.c, the only curses users).
 *
 * Threads: tracecli is single-threaded except for NNG's own threads.
 */
#ifndef TRACECLI_TRACECLI_H
#define TRACECLI_TRACECLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"
#include "tracequery.pb-c.h"

typedef Opentelemetry__Proto__Trace__V1__ResourceSpans pb_resource_spans;
typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_kv;
typedef Opentelemetry__Proto__Common__V1__AnyValue pb_any;
typedef Opentelemetry__Proto__Resource__V1__Resource pb_resource;
typedef Tracequery__V1__Request pb_request;
typedef Tracequery__V1__Response pb_response;

/* Exit statuses (contract, design.md). */
enum {
	EXIT_OK_ = 0,
	EXIT_NOTFOUND = 1,
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,
};

/* ---------------------------------------------------------------- sanitize.c */

/*
 * Output character repertoire. SAN_UTF8 keeps printable UTF-8; SAN_ASCII
 * (TERM=dumb/vt100, non-UTF-8 locale) turns every non-ASCII character into
 * '?'. Either way C0 controls, DEL, C1 controls, bidi overrides/isolates and
 * invalid UTF-8 become visible inert escapes ("\x1b", "\u202e").
 */
typedef enum { SAN_UTF8, SAN_ASCII } san_mode;

/* sanitize_dup returns a malloc'd safe copy of s (NULL reads as ""). */
char *sanitize_dup(const char *s, san_mode mode);
/* sanitize_buf writes the safe form of s[0..len) into out (always
 * NUL-terminated, truncated to outlen-1 bytes on a character boundary);
 * returns out. */
char *sanitize_buf(const char *s, size_t len, san_mode mode, char *out,
    size_t outlen);
/* sanitize_is_clean returns true when s needs no change in mode. */
bool sanitize_is_clean(const char *s, san_mode mode);
/* utf8_width returns the number of terminal columns s takes (s is
 * already sanitised). */
int utf8_width(const char *s);
/* utf8_fit copies at most `cols` columns of s into out (outlen bytes),
 * ending in "…" (or "~" in ASCII) when cut, and pads with spaces to
 * exactly `cols` columns when pad is set. Returns the columns written. */
int utf8_fit(const char *s, int cols, bool pad, san_mode mode, char *out,
    size_t outlen);
/* utf8_decode reads one code point at *p (advancing it); returns it, or -1
 * for an invalid sequence (and advances one byte). */
int32_t utf8_decode(const char **p);

/* ---------------------------------------------------------------- model.c */

enum {
	MSPAN_ERROR = 1 << 0,       /* status code ERROR */
	MSPAN_SKEW = 1 << 1,        /* starts before / ends after its parent */
	MSPAN_ORPHAN = 1 << 2,      /* parent_span_id names a missing span */
	MSPAN_CRIT = 1 << 3,        /* on the critical path */
	MSPAN_COLLAPSED = 1 << 4,   /* children hidden */
	MSPAN_MATCH = 1 << 5,       /* matches the in-trace search */
	MSPAN_DUP = 1 << 6,         /* a second span with the same span ID */
};

/* One span of a trace, its strings already sanitised. */
typedef struct mspan {
	uint8_t span_id[8];
	uint8_t parent_id[8];
	bool has_parent;
	char *service;        /* sanitised, never NULL */
	char *name;           /* sanitised, never NULL */
	int kind;             /* OTLP SpanKind */
	int status;           /* OTLP StatusCode: 0 unset, 1 ok, 2 error */
	uint64_t start_ns;    /* unix ns */
	uint64_t end_ns;      /* unix ns, >= start_ns (clamped) */
	uint64_t dur_ns;
	uint64_t self_ns;     /* duration not covered by children */
	int parent;           /* index, -1 for a root */
	int first_child;      /* -1 when none; children sorted by start */
	int next_sibling;
	int nchildren;
	int depth;
	unsigned flags;       /* MSPAN_* */
	unsigned color;       /* stable service colour slot */
	int service_idx;      /* index into model_trace.services */
	const pb_span *pb;    /* attributes, events, links (borrowed) */
	const pb_resource *resource;
	const char *scope_name;
} mspan;

typedef struct model_trace {
	uint8_t trace_id[16];
	char trace_hex[33];
	mspan *spans;
	int nspans;
	int *roots;           /* span indices of roots, sorted by start */
	int nroots;
	uint64_t start_ns;    /* min start over all spans */
	uint64_t end_ns;      /* max end */
	int nerrors;
	int nskew;
	int norphans;
	char **services;      /* distinct, sanitised, in first-seen order */
	int nservices;
	int max_depth;
	int *rows;            /* visible rows (span indices), preorder */
	int nrows;
	san_mode san;
	pb_response *owned;   /* freed with the model, may be NULL */
} model_trace;

/* model_build builds m from n resource spans (borrowed: they must outlive
 * m unless handed over with model_own). Spans of other traces are kept
 * (a trace ID is taken from the first span). Returns 0, or -1 when there
 * is no span at all. */
int model_build(model_trace *m, pb_resource_spans *const *rs, size_t n,
    san_mode san);
/* model_own makes m free resp in model_free. */
void model_own(model_trace *m, pb_response *resp);
/* model_free releases everything m owns; m may be half-built. */
void model_free(model_trace *m);
/* model_layout recomputes the visible rows after a collapse change. */
void model_layout(model_trace *m);
/* model_collapse_big collapses deep subtrees of a big trace so that the
 * first screen is readable; no-op for small traces. */
void model_collapse_big(model_trace *m, int max_rows);
/* model_set_collapsed collapses (or expands) span i; recursive sets the
 * same on its whole subtree. Call model_layout after. */
void model_set_collapsed(model_trace *m, int i, bool collapsed,
    bool recursive);
/* model_collapse_all / model_expand_all: every span with children. */
void model_collapse_all(model_trace *m);
void model_expand_all(model_trace *m);
/* model_reveal expands the ancestors of span i and relayouts; returns the
 * row of i. */
int model_reveal(model_trace *m, int i);
/* model_row_of returns the visible row of span i, or -1. */
int model_row_of(const model_trace *m, int i);
/* model_next_flag returns the next span after span `from` (in tree order,
 * hidden spans included; dir +1 or -1, wrapping) whose flags include
 * `flag`, or -1. */
int model_next_flag(const model_trace *m, int from, int dir, unsigned flag);
/* model_search marks the spans whose name, service, attribute key or
 * value, event name or status message contains q (ASCII case-insensitive)
 * with MSPAN_MATCH; returns the number of matches. q NULL or "" clears. */
int model_search(model_trace *m, const char *q);
/* model_slowest returns the span with the largest self time. */
int model_slowest(const model_trace *m);
/* model_preorder fills out (nspans ints) with every span in tree order. */
void model_preorder(const model_trace *m, int *out);
/* any_to_text renders an attribute value as text into buf (raw, not yet
 * sanitised); returns buf. */
char *any_to_text(const pb_any *v, char *buf, size_t len);
/* kind_name returns "server", "client", ...; status_name "unset", ... */
const char *kind_name(int kind);
const char *status_name(int code);
/* service_color returns a stable slot (0..ncolors-1) for a service. */
unsigned service_color(const char *service, unsigned ncolors);
/* resource_service returns service.name of a resource (raw), or NULL. */
const char *resource_service(const pb_resource *r);

/* ---------------------------------------------------------------- axis */

/* A time axis over [t0, t1) (ns relative to the trace start) mapped onto
 * `width` cells. */
typedef struct axis {
	uint64_t t0, t1;
	int width;
} axis;

/* axis_cells maps [s, e) to cells [*c0, *c1) (at least one cell). */
void axis_cells(const axis *a, uint64_t s, uint64_t e, int *c0, int *c1);
/* axis_ticks writes a tick line (labels such as "0", "25ms", "50ms") of
 * exactly a->width columns into out. */
void axis_ticks(const axis *a, char *out, size_t len);

/* ---------------------------------------------------------------- plain.c */

typedef struct plain_opts {
	int width;          /* COLUMNS */
	bool ascii;         /* ASCII-only tree and bars */
} plain_opts;

/* plain_waterfall prints the text waterfall of m (all spans, nothing
 * collapsed) to f. */
void plain_waterfall(FILE *f, const model_trace *m, const plain_opts *o);
void plain_search(FILE *f, const Tracequery__V1__SearchResult *r,
    const plain_opts *o);
void plain_slow(FILE *f, const Tracequery__V1__SlowResult *r,
    const plain_opts *o, bool histogram);
void plain_services(FILE *f, const Tracequery__V1__ServicesResult *r,
    const plain_opts *o);
void plain_operations(FILE *f, const Tracequery__V1__OperationsResult *r,
    const plain_opts *o);
void plain_stats(FILE *f, const Tracequery__V1__StatsResult *r,
    const plain_opts *o);
/* plain_histogram draws buckets as horizontal bars. */
void plain_histogram(FILE *f, Tracequery__V1__HistogramBucket *const *b,
    size_t n, const plain_opts *o);

/* ---------------------------------------------------------------- json_out.c */

/* Each json_* writes one JSON document and a newline to f, non-ASCII and
 * control characters escaped (\uXXXX), so the output is inert on a
 * terminal. Returns 0, or -1 on a write error. */
int json_search(FILE *f, const Tracequery__V1__SearchResult *r);
int json_show(FILE *f, const model_trace *m);
int json_slow(FILE *f, const Tracequery__V1__SlowResult *r, bool histogram);
int json_services(FILE *f, const Tracequery__V1__ServicesResult *r);
int json_operations(FILE *f, const Tracequery__V1__OperationsResult *r);
int json_stats(FILE *f, const Tracequery__V1__StatsResult *r);
/* json_ascii returns a malloc'd copy of the JSON text s with every
 * non-ASCII character and DEL written as \uXXXX escapes. */
char *json_ascii(const char *s);

/* ---------------------------------------------------------------- client.c */

enum {
	CLIENT_OK = 0,
	CLIENT_UNREACHABLE = -1, /* dial failed, or no reply in time */
	CLIENT_BADREPLY = -2,    /* reply could not be decoded */
	CLIENT_BADURL = -3,      /* the address is not a usable NNG URL */
};

typedef struct client client;

typedef struct client_opts {
	const char *url;
	int dial_ms;
	int timeout_ms;
	size_t max_reply_bytes;
	tls_opts tls;          /* used for tls+tcp:// URLs */
} client_opts;

/* client_query sends req to the query service and decodes the reply into
 * *resp (the caller frees it with tracequery__v1__response__free_unpacked).
 * Returns CLIENT_OK, or a CLIENT_* error with a malloc'd *cause. */
int client_query(const client_opts *o, const pb_request *req,
    pb_response **resp, char **cause);
/* client_open checks that o->url answers within o->dial_ms and opens a REQ
 * socket to it. Returns CLIENT_OK, or an error with a malloc'd *cause. */
int client_open(client **c, const client_opts *o, char **cause);
/* client_close closes c; NULL is a no-op. */
void client_close(client *c);
/* client_call sends buf and waits for one reply, returned in *out (the
 * caller frees it with nng_free(*out, *out_len)). */
int client_call(client *c, const void *buf, size_t len, void **out,
    size_t *out_len, char **cause);
/* client_ingest sends one ExportTraceServiceRequest (pb, len) to an ingest
 * socket and decodes the IngestReply (the caller frees it). */
int client_ingest(client *c, const uint8_t *pb, size_t len,
    Tracequery__V1__IngestReply **reply, char **cause);
/* wire_depth_ok returns true when buf, read as protobuf, nests messages
 * at most max_depth deep (protobuf-c unpacks recursively). */
bool wire_depth_ok(const uint8_t *buf, size_t len, int max_depth);

/* ---------------------------------------------------------------- term.c */

/* Semantic colour roles. */
typedef enum {
	CLR_NORMAL,
	CLR_HEADER,
	CLR_AXIS,
	CLR_SELECTED,
	CLR_SPAN_ERROR,
	CLR_CRIT,
	CLR_SKEW,
	CLR_MATCH,
	CLR_DIM,
	CLR_STATUS,
	CLR_KEY,
	CLR_SERVICE0, /* CLR_SERVICE0 + k, k < TERM_NSERVICE_COLORS */
} clr_role;

#define TERM_NSERVICE_COLORS 8

typedef struct term_opts {
	bool no_color;      /* --no-color or NO_COLOR */
	bool ascii;         /* TERM dumb/vt100 or non-UTF-8 locale */
	long max_frames;    /* -n N; -1 = unlimited */
	FILE *out;          /* NULL: the terminal (stdout) */
	FILE *in;           /* NULL: stdin */
} term_opts;

/* term_open starts curses; returns 0, or -1 with *cause. Installs
 * SIGINT/SIGTERM handlers and an atexit hook so every exit path ends in
 * endwin(), and holds stderr aside until term_close. */
int term_open(const term_opts *o, char **cause);
/* term_close ends curses and replays held stderr; safe to call twice. */
void term_close(void);
/* term_attr returns the curses attributes of a role. */
int term_attr(clr_role r);
/* term_quit_requested is true after SIGINT/SIGTERM. */
bool term_quit_requested(void);
/* term_frame counts one drawn frame; returns true when -n is reached. */
bool term_frame(void);
/* term_counting is true under -n: every loop pass (a key or a getch
 * timeout) redraws and counts as a frame, so -n N always ends. */
bool term_counting(void);
/* term_ascii is true when only ASCII may be drawn. */
bool term_ascii(void);

/* ---------------------------------------------------------------- view.c */

typedef struct view view;

typedef enum {
	VIEW_QUIT,   /* q, a signal or -n */
	VIEW_BACK,   /* Esc at the top level */
} view_result;

/* view_new creates the interactive waterfall of m (borrowed). */
view *view_new(model_trace *m);
void view_free(view *v);
/* view_run runs the waterfall until the user quits or goes back. */
view_result view_run(view *v);
/* view_draw draws one frame at the current size (bench, tests). */
void view_draw(view *v);
/* view_select moves the selection to row r. */
void view_select(view *v, int row);

/* ---------------------------------------------------------------- tui.c */

/* tui_run browses the collector: search form -> list -> waterfall. */
int tui_run(const client_opts *co, san_mode san);

#endif /* TRACECLI_TRACECLI_H */
