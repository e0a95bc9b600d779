/*
 * tracecli.h - private header of tracecli: the command line (cli.c and the
 * command table in commands.c, one cmd_X.c per command), the trace model
 * (model.c, tstats.c, diff.c; no curses), the collector client
 * (client.c, fetch.c, search_spec.c), wire-string sanitising (sanitize.c),
 * text and JSON output (plain.c, table.c, tree.c, json_out.c) and the
 * interactive parts (term.c, keys.c, view.c, tui.c, the only curses users).
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
typedef struct deps deps;	/* deps.c */

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
	const char *scope_version;
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

/* ---------------------------------------------------------------- tree.c */

#define TREE_GUTTER 4        /* "+12 ": levels hidden on the left */
#define TREE_MAX_LEVELS 128  /* guides drawn at most */

/* tree_prefix writes the guides before span i's name ("│  ├─ ") into out,
 * in at most max_cols columns: deeper trees get a gutter on every row
 * (tree.c says how). */
void tree_prefix(const model_trace *m, int i, int max_cols, bool ascii,
    char *out, size_t len);
/* tree_hidden_levels: the levels hidden left of a row at depth. */
int tree_hidden_levels(const model_trace *m, int depth, int max_cols);

/* ---------------------------------------------------------------- tstats.c */

typedef struct tstat_row {
	const char *name;      /* service or operation (sanitised, borrowed) */
	int count, errors;
	uint64_t total_ns, self_ns, max_ns;
} tstat_row;

typedef struct tstat_service {
	tstat_row total;       /* the service as a whole */
	tstat_row *ops;        /* by self time, largest first */
	int nops;
} tstat_service;

typedef struct tstats {
	uint64_t duration_ns;
	tstat_service *services; /* by self time, largest first */
	int nservices;
} tstats;

/* tstats_build groups m's spans by service and operation (the model
 * must outlive ts). */
void tstats_build(tstats *ts, const model_trace *m);
void tstats_free(tstats *ts);
/* tstats_share: r's self time over the trace's duration (0..1, can
 * pass 1 when spans run in parallel). */
double tstats_share(const tstats *ts, const tstat_row *r);

/* ---------------------------------------------------------------- diff.c */

typedef enum {
	DIFF_SAME, DIFF_ADDED, DIFF_MISSING, DIFF_SLOWER, DIFF_FASTER,
	DIFF_NCHANGES
} diff_change;

/* A node of the merged tree: the spans on one path, per side (0 A, 1 B). */
typedef struct diff_row {
	int count[2];
	uint64_t dur_ns[2];     /* summed over the spans */
	diff_change change;
} diff_row;

typedef struct trace_diff {
	const model_trace *a, *b;
	model_trace tree;       /* merged tree; rows[i] describes tree.spans[i] */
	diff_row *rows;
	int count[DIFF_NCHANGES];
} trace_diff;

/* diff_build matches a's and b's spans by path (both must outlive d). */
void diff_build(trace_diff *d, const model_trace *a, const model_trace *b);
void diff_free(trace_diff *d);
const char *diff_change_name(diff_change c);

/* ---------------------------------------------------------------- table.c */

/* A column of a text table. Fill head, min_w, shrink, drop, right; the
 * rest is computed. */
typedef struct table_col {
	const char *head;
	int min_w;      /* narrowest it is cut to */
	int shrink;     /* order in which it gives way (lowest first); 0 never */
	int drop;       /* order in which it is dropped; 0 never */
	bool right;     /* right-aligned */
	int want_w;     /* widest cell (table_measure) */
	int w;          /* after table_fit; 0 = dropped */
	bool safe;      /* cells already sanitised (the model's, our own) */
} table_col;

#define TABLE_MAX_COLS 8
#define TABLE_CELL 1100

/* Room for one row's cell texts. */
typedef struct table_buf {
	char s[TABLE_MAX_COLS][TABLE_CELL];
} table_buf;

/* Fills cells[] (texts in b, or pointers to arg's strings) for row i. */
typedef void (*table_cells_fn)(const void *arg, size_t i, table_buf *b,
    const char **cells);

/* table_print measures every row, fits the columns to width, and prints
 * the header and the rows: the one way every text table is printed. */
void table_print(FILE *f, table_col *c, int ncols, size_t nrows,
    table_cells_fn cells_of, const void *arg, int width, san_mode san);
/* table_measure widens the columns to one row of raw cells. */
void table_measure(table_col *c, int n, const char *const *cells,
    san_mode san);
/* table_fit sets each w so that a row fits width when it can. */
void table_fit(table_col *c, int n, int width);
void table_head(FILE *f, const table_col *c, int n, san_mode san);
/* table_row prints raw cells, sanitised and fitted (ellipsis when cut). */
void table_row(FILE *f, const table_col *c, int n, const char *const *cells,
    san_mode san);

/* ---------------------------------------------------------------- plain.c */

typedef struct plain_opts {
	int width;          /* COLUMNS */
	bool ascii;         /* ASCII-only tree and bars */
} plain_opts;

/* plain_waterfall prints the text waterfall of m (all spans, nothing
 * collapsed) to f. */
void plain_waterfall(FILE *f, const model_trace *m, const plain_opts *o);
/* plain_search prints the traces; limit is what was asked for, so a full
 * list says it may be cut. */
void plain_search(FILE *f, const Tracequery__V1__SearchResult *r,
    uint32_t limit, const plain_opts *o);
/* plain_slow: top is the span limit asked for; nops_all how many
 * operations there were before --top cut r->percentiles. */
void plain_slow(FILE *f, const Tracequery__V1__SlowResult *r, uint32_t top,
    size_t nops_all, const plain_opts *o, bool histogram);
/* plain_diff prints the merged tree; label names each side ("A", or
 * "baseline" and "trace"). */
void plain_diff(FILE *f, const trace_diff *d, const plain_opts *o);
/* plain_deps prints the edges as a table, then as a graph. */
void plain_deps(FILE *f, const deps *d, const plain_opts *o);
void plain_trace_stats(FILE *f, const model_trace *m, const tstats *ts,
    const plain_opts *o);
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
int json_deps(FILE *f, const deps *d);
int json_diff(FILE *f, const trace_diff *d, const char *baseline_of);
int json_trace_stats(FILE *f, const model_trace *m, const tstats *ts);
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
/* client_url_check returns CLIENT_OK when url is an address tracecli can
 * dial (a known scheme; tcp-like ones with a port), else CLIENT_BADURL and
 * a malloc'd *cause (which must be NULL on entry). */
int client_url_check(const char *url, char **cause);
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

/* ---------------------------------------------------------------- deps.c */

/* Calls from one service to another (names raw, as on the wire). */
typedef struct dep_edge {
	char *caller, *callee;
	uint64_t calls, errors;
	uint64_t p50_ns, p99_ns;
} dep_edge;

struct deps {
	dep_edge *edges;         /* by caller, then callee */
	int n;
	uint64_t spans_read;     /* spans the collector read for its count */
	bool truncated;          /* ... and the window held more */
};

/* deps_fetch asks the collector for the calls of [from, to) (0: open),
 * those to or from svc when set; returns an EXIT_* status. */
int deps_fetch(deps *d, const client_opts *co, uint64_t from, uint64_t to,
    const char *svc, char **cause);
void deps_free(deps *d);

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
/* term_mouse turns mouse reports (clicks, wheel) on or off. */
void term_mouse(bool on);
/* term_close ends curses and replays held stderr; safe to call twice. */
void term_close(void);
/* term_attr returns the curses attributes of a role. */
int term_attr(clr_role r);
/* term_quit_requested is true after SIGINT/SIGTERM. */
bool term_quit_requested(void);
/* term_exit_status returns 128 + the signal that ended the view (130
 * SIGINT, 143 SIGTERM, 129 SIGHUP; contract), else rv. Call it after
 * term_close, so the terminal is restored first. */
int term_exit_status(int rv);
/* term_frame counts one drawn frame; returns true when -n is reached. */
bool term_frame(void);
/* term_counting is true under -n: every loop pass (a key or a getch
 * timeout) redraws and counts as a frame, so -n N always ends. */
bool term_counting(void);
/* term_ascii is true when only ASCII may be drawn. */
bool term_ascii(void);

/* ---------------------------------------------------------------- keys.c */

typedef enum {
	A_NONE, A_QUIT, A_BACK, A_DOWN, A_UP, A_PAGE_DOWN, A_PAGE_UP, A_FIRST,
	A_LAST, A_COLLAPSE, A_EXPAND, A_TOGGLE, A_COLLAPSE_ALL, A_EXPAND_ALL,
	A_COLLAPSE_TREE, A_EXPAND_TREE, A_SEARCH, A_NEXT_MATCH, A_PREV_MATCH,
	A_NEXT_ERROR, A_PREV_ERROR, A_SLOWEST, A_CRIT, A_ZOOM_IN, A_ZOOM_OUT,
	A_ZOOM_SPAN, A_ZOOM_RESET, A_PAN_LEFT, A_PAN_RIGHT, A_DETAIL,
	A_DETAIL_DOWN, A_DETAIL_UP, A_OPEN_LINK, A_STATS, A_HELP, A_REDRAW,
	A_OPEN, A_SORT_NEXT, A_SORT_NEWEST, A_SORT_LONGEST, A_SORT_SPANS,
	A_SORT_ERRORS, A_RERUN, A_MOUSE, A_FOLLOW, A_DEPS, A_MARK, A_COMPARE,
} key_action;

#define KEYS_PER_ACTION 4

/* One binding: up to four keys for an action, and its help. An entry
 * with no keys is a heading in the help. */
typedef struct key_binding {
	int keys[KEYS_PER_ACTION];
	key_action action;
	const char *help;
} key_binding;

/* keys_action returns the action bound to ch in t, or A_NONE. */
key_action keys_action(const key_binding *t, size_t n, int ch);
/* keys_help_draw draws t as a help overlay from line *top (clamped). */
void keys_help_draw(const key_binding *t, size_t n, const char *title,
    int *top);
/* keys_help_key scrolls the help; false means the key closes it. */
bool keys_help_key(int ch, int *top);

/* ---------------------------------------------------------------- pager.c */

/* pager_run shows text (its lines are cut in place) until Esc or q;
 * returns true when the program should quit (a signal or -n). */
bool pager_run(const char *title, char *text);

/* ---------------------------------------------------------------- view.c */

typedef struct view view;

typedef enum {
	VIEW_QUIT,   /* q, a signal or -n */
	VIEW_BACK,   /* Esc at the top level */
} view_result;

/* view_new creates the interactive waterfall of m (borrowed); co (may be
 * NULL) lets links open their trace. */
view *view_new(model_trace *m, const client_opts *co);
void view_free(view *v);
/* view_run runs the waterfall until the user quits or goes back. */
view_result view_run(view *v);
/* view_draw draws one frame at the current size (bench, tests). */
void view_draw(view *v);
/* view_select moves the selection to row r. */
void view_select(view *v, int row);

/* ---------------------------------------------------------------- search_spec.c */

#define SEARCH_MAX_ATTRS 16
#define SEARCH_MAX_LIMIT 1000   /* the collector's cap on --limit and --top */
#define SEARCH_DEFAULT_LIMIT 20 /* the collector's default */

/* Orders the collector sorts by over the whole window. */
typedef enum {
	SORT_NEWEST, SORT_LONGEST, SORT_SPANS, SORT_ERRORS, SORT_COUNT
} search_sort;

/* What a search asks for; strings are borrowed. */
typedef struct search_spec {
	const char *service, *operation;
	const char *attrs[SEARCH_MAX_ATTRS];   /* "key=value" */
	size_t nattrs;
	uint64_t min_dur, max_dur;             /* span-level; 0 = none */
	uint64_t from, to;                     /* unix ns; 0 = open / now */
	bool have_since, have_from, have_to;
	bool errors;
	uint32_t limit;                        /* 0 = the collector's 20 */
	search_sort sort;
	bool count;                            /* ask for the total too */
} search_spec;

typedef enum {
	SF_SERVICE, SF_OPERATION, SF_ATTR, SF_MIN_DUR, SF_MAX_DUR, SF_SINCE,
	SF_FROM, SF_TO, SF_LIMIT, SF_SORT, SF_COUNT
} search_field;

/* A built request; search_req_fini frees what it allocated. */
typedef struct search_req {
	Tracequery__V1__Request req;
	Tracequery__V1__Search search;
	Tracequery__V1__AttrFilter attrs[SEARCH_MAX_ATTRS];
	Tracequery__V1__AttrFilter *attr_ptrs[SEARCH_MAX_ATTRS];
	char *keys[SEARCH_MAX_ATTRS];
	size_t nkeys;
} search_req;

/* search_spec_set parses text (borrowed: it must outlive s) into field f;
 * returns 0, or -1 with a malloc'd *cause. */
int search_spec_set(search_spec *s, search_field f, const char *text,
    char **cause);
/* search_spec_check checks fields against each other. */
int search_spec_check(const search_spec *s, char **cause);
void search_req_build(search_req *r, const search_spec *s);
void search_req_fini(search_req *r);
/* search_run sends s; returns an EXIT_* status (0 with *resp). */
int search_run(const client_opts *co, const search_spec *s,
    pb_response **resp, char **cause);
const char *search_sort_name(search_sort s);
/* search_total_text writes how many traces r lists of how many match:
 * "20 traces", "20 of 1,234 traces", "20 of at least 5,000 traces"; from
 * a collector that did not count, "20+ traces" when limit cut the list.
 * Returns true when more traces match than r lists (or may). */
bool search_total_text(const Tracequery__V1__SearchResult *r,
    uint32_t limit, char *buf, size_t len);
/* duration_text_parse reads "250us", "1.5s" or a sum such as "1h30m". */
int duration_text_parse(const char *s, uint64_t *ns);

/* ---------------------------------------------------------------- fetch.c */

/* query_run sends req; returns EXIT_OK_ with *resp, or an EXIT_* status
 * with a malloc'd *cause (which must be NULL on entry). */
int query_run(const client_opts *co, const pb_request *req,
    pb_response **resp, char **cause);
/* trace_id_parse reads 32 hex digits, never all zero; else EXIT_USAGE. */
int trace_id_parse(const char *hex, uint8_t id[16], char **cause);
/* trace_fetch gets one trace; EXIT_NOTFOUND when it has no spans. */
int trace_fetch(const client_opts *co, const uint8_t id[16],
    pb_response **resp, char **cause);
/* trace_load fetches and builds the model (which owns the reply). */
int trace_load(const client_opts *co, const uint8_t id[16], san_mode san,
    model_trace *m, char **cause);

/* ---------------------------------------------------------------- tail.c */

typedef struct tail_state {
	search_spec filter;      /* its window, limit and sort are ignored */
	uint64_t next_flush;     /* the collector's cursor; 0: start now */
	bool more;               /* the last answer was cut: poll again now */
	uint64_t *seen;          /* IDs reported (a hash set) */
	size_t nseen;
} tail_state;

void tail_init(tail_state *t, const search_spec *filter);
/* tail_poll_seen marks a trace ID (16 bytes) as reported; false when it
 * already was. */
bool tail_poll_seen(tail_state *t, const uint8_t *id);
void tail_fini(tail_state *t);
/* tail_poll asks for the traces indexed since the last poll (the first
 * poll starts the cursor and lists none); *fresh (malloc'd, its entries
 * owned by *resp) lists those not reported before, oldest first.
 * Returns an EXIT_* status. */
int tail_poll(tail_state *t, const client_opts *co, pb_response **resp,
    Tracequery__V1__TraceSummary ***fresh, size_t *nfresh, char **cause);

/* ---------------------------------------------------------------- cli.c */

typedef enum {
	O_SERVICE, O_OPERATION, O_ATTR, O_MIN_DUR, O_MAX_DUR, O_SINCE, O_FROM,
	O_TO, O_ERRORS, O_LIMIT, O_LONGEST, O_SORT, O_TOP, O_HISTOGRAM,
	O_PLAIN, O_STATS, O_BASELINE, O_NO_MOUSE, O_FRAMES, O_INGEST,
	O_COLLECTOR, O_JSON, O_NO_COLOR, O_ASCII, O_TIMEOUT, O_TLS_CA,
	O_TLS_CERT, O_TLS_KEY, O_TLS_SERVER_NAME, O_HELP, O_VERSION, O_COUNT
} opt_id;

#define OPT_BIT(id) (1ull << (id))
#define SEARCH_OPTS                                                       \
	(OPT_BIT(O_SERVICE) | OPT_BIT(O_OPERATION) | OPT_BIT(O_ATTR) |    \
	    OPT_BIT(O_MIN_DUR) | OPT_BIT(O_MAX_DUR) | OPT_BIT(O_SINCE) |   \
	    OPT_BIT(O_FROM) | OPT_BIT(O_TO) | OPT_BIT(O_ERRORS) |          \
	    OPT_BIT(O_LIMIT) | OPT_BIT(O_LONGEST) | OPT_BIT(O_SORT))
#define WINDOW_OPTS                                                       \
	(OPT_BIT(O_SERVICE) | OPT_BIT(O_OPERATION) | OPT_BIT(O_SINCE) |   \
	    OPT_BIT(O_FROM) | OPT_BIT(O_TO))

typedef struct cmd_entry cmd_entry;

/* The parsed command line. */
typedef struct cli_args {
	const cmd_entry *cmd;
	char **pos;              /* positional words; pos[0] is the command */
	char **args;             /* the command's arguments */
	int nargs;
	client_opts co;
	const char *ingest_url;
	bool json, no_color, plain, ascii, histogram, stats, baseline;
	bool no_mouse;
	long frames;             /* -n; -1 = unlimited */
	search_spec search;
	const char *search_text[SF_COUNT]; /* flag texts, to pre-fill forms */
	uint32_t top;
	int width;               /* text width */
	san_mode san;
} cli_args;

/* One command (tmux's cmd_entry): the table gives parsing, dispatch and
 * every --help text. */
struct cmd_entry {
	const char *name;
	const char *args;        /* positional arguments, for usage */
	const char *summary;     /* one line */
	const char *more;        /* extra help paragraph, or NULL */
	int min_args, max_args;
	uint64_t opts;           /* OPT_BIT()s beyond the common flags */
	int (*exec)(const cli_args *c);
};

extern const cmd_entry cmd_table[];
extern const size_t cmd_count;

/* cli_parse fills c from argv (c holds the defaults); exits 2 with one
 * line and "Try 'tracecli CMD --help'" on a usage error, 0 after --help
 * or --version. */
void cli_parse(cli_args *c, int argc, char **argv);
const cmd_entry *cli_find_command(const char *name);
void cli_help(FILE *f, const cmd_entry *cmd);
NORETURN void cli_usage_error(const cmd_entry *cmd, const char *fmt, ...)
    PRINTFLIKE(2, 3);
/* cli_fail prints "tracecli: cause" and returns rv (cause is freed). */
int cli_fail(int rv, char *cause);
/* cli_query runs req; a failure is reported and its status returned. */
int cli_query(const cli_args *c, const pb_request *req, pb_response **resp);
/* cli_finish flushes stdout: a write error turns rv into 1. */
int cli_finish(int rv);
plain_opts cli_plain_opts(const cli_args *c);
/* cli_interactive: stdout and stdin are terminals and TERM can draw. */
bool cli_interactive(const cli_args *c);

/* ---------------------------------------------------------------- cmd_*.c */

int cmd_services(const cli_args *c);
int cmd_operations(const cli_args *c);
int cmd_search(const cli_args *c);
int cmd_show(const cli_args *c);
int cmd_slow(const cli_args *c);
int cmd_stats(const cli_args *c);
int cmd_tui(const cli_args *c);
int cmd_export(const cli_args *c);
int cmd_import(const cli_args *c);
int cmd_diff(const cli_args *c);
int cmd_deps(const cli_args *c);
int cmd_tail(const cli_args *c);

/* ---------------------------------------------------------------- tui.c */

/* tui_run browses the collector: search form -> list -> waterfall. The
 * form starts from texts[SF_*] and spec's attributes and errors flag. */
int tui_run(const client_opts *co, san_mode san, const search_spec *spec,
    const char *const *texts);

#endif /* TRACECLI_TRACECLI_H */
