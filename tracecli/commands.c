/*
 * commands.c - the command table: each command's arguments, flags, help
 * and entry point (one cmd_X.c each). Parsing, dispatch and every --help
 * text come from here, so they cannot drift apart.
 */
#include "tracecli.h"

const cmd_entry cmd_table[] = {
	{"services", "", "list the services seen, alphabetically", NULL, 0, 0,
	    0, cmd_services},
	{"operations", "SERVICE", "list a service's operations, "
	    "alphabetically", NULL, 1, 1, 0, cmd_operations},
	{"search", "", "find traces in a window (default the last hour)",
	    "Duration filters are span-level: a trace matches when one of its "
	    "spans\nis in the range (as in Jaeger). The list says when the "
	    "limit cut it.",
	    0, 0, SEARCH_OPTS, cmd_search},
	{"show", "TRACE_ID", "one trace: interactive waterfall on a "
	    "terminal, text otherwise",
	    "--stats prints per service and operation: spans, total, average "
	    "and self\ntime, and the share of the trace's time. Keys in the "
	    "interactive view: ?",
	    1, 1, OPT_BIT(O_PLAIN) | OPT_BIT(O_STATS) | OPT_BIT(O_FRAMES) |
	    OPT_BIT(O_NO_MOUSE), cmd_show},
	{"diff", "TRACE_A [TRACE_B]", "compare two traces (or one with "
	    "--baseline)",
	    "Spans are matched by service, operation and path from the root. "
	    "Rows:\n+ only in B, - only in A, ~ in both (with the change in "
	    "duration).\n--baseline compares TRACE_A with the median trace of "
	    "its root operation\nin the window (--since, default 1h).",
	    1, 2, OPT_BIT(O_BASELINE) | OPT_BIT(O_SINCE), cmd_diff},
	{"deps", "", "service dependencies: who calls whom, calls, errors, "
	    "p50/p99",
	    "Counted by the collector over the spans of the window: a span "
	    "whose parent\nis in another service is one call. --service keeps "
	    "the calls to or from S.\nA table, then a graph.",
	    0, 0, OPT_BIT(O_SERVICE) | OPT_BIT(O_SINCE) | OPT_BIT(O_FROM) |
	    OPT_BIT(O_TO), cmd_deps},
	{"tail", "", "print traces as they arrive, until interrupted",
	    "From now on, each second, the traces the collector indexed "
	    "since the last\nanswer (its cursor), so spans that arrive late "
	    "still show. Each trace once.\n--json: one search-shaped array "
	    "per trace.",
	    0, 0, OPT_BIT(O_SERVICE) | OPT_BIT(O_OPERATION) | OPT_BIT(O_ATTR) |
	    OPT_BIT(O_ERRORS) | OPT_BIT(O_MIN_DUR) | OPT_BIT(O_MAX_DUR),
	    cmd_tail},
	{"slow", "", "slowest spans and per-operation percentiles (by p99)",
	    "Span-level: each row is one span, not a trace.",
	    0, 0, WINDOW_OPTS | OPT_BIT(O_TOP) | OPT_BIT(O_HISTOGRAM),
	    cmd_slow},
	{"stats", "", "the collector's own counters", NULL, 0, 0, 0,
	    cmd_stats},
	{"tui", "", "browse: search form, trace list, waterfall",
	    "The search flags pre-fill the form. Keys on every screen: ?",
	    0, 0, SEARCH_OPTS | OPT_BIT(O_FRAMES) | OPT_BIT(O_NO_MOUSE),
	    cmd_tui},
	{"export", "TRACE_ID...", "write traces as OTLP JSON (lossless)",
	    NULL, 1, 1000, 0, cmd_export},
	{"import", "FILE", "send OTLP JSON (or JSON Lines; - is stdin) to "
	    "the collector", NULL, 1, 1, OPT_BIT(O_INGEST),
	    cmd_import},
};

const size_t cmd_count = ARRAY_LEN(cmd_table);
