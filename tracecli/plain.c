/*
 * plain.c - text output: the waterfall fitted to a width, and the tables of
 * search, slow, services, operations and stats. Used when stdout is not a
 * terminal, with --plain, and for TERM=dumb. Every string from the wire is
 * sanitised here (table cells) or in model.c (waterfall).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

#define CELL_MAX 1024

/* Prints an already-safe string padded to w columns. */
static void
safe_cell(FILE *f, const char *safe, int w, const plain_opts *o)
{
	char fit[CELL_MAX];

	utf8_fit(safe, w, true, o->ascii ? SAN_ASCII : SAN_UTF8, fit,
	    sizeof fit);
	fputs(fit, f);
}

static int
clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* ---------------------------------------------------------------- waterfall */

static void
span_flags(const mspan *s, char out[5])
{
	int k = 0;

	if (s->flags & MSPAN_ERROR)
		out[k++] = 'E';
	if (s->flags & MSPAN_SKEW)
		out[k++] = 'K';
	if (s->flags & MSPAN_ORPHAN)
		out[k++] = 'M';
	if (s->flags & MSPAN_CRIT)
		out[k++] = '*';
	out[k] = '\0';
}

void
plain_waterfall(FILE *f, const model_trace *m, const plain_opts *o)
{
	int width = o->width > 40 ? o->width : 40;
	san_mode san = o->ascii ? SAN_ASCII : SAN_UTF8;
	int *pre = xmalloc((size_t)m->nspans * sizeof *pre);
	char when[48], dur[32], self[32], prefix[512], label[1024], fl[5];
	char *ticks, *bar;
	int n, name_w = 0, svc_w = 7;

	model_preorder(m, pre);
	n = m->nrows > 0 ? m->nspans : 0;
	/* Column widths: the tree+name column takes what it needs, up to
	 * 35% of the width; services up to 16; the bar gets the rest. */
	for (int k = 0; k < m->nspans; k++) {
		const mspan *s = &m->spans[pre[k]];
		int w = s->depth * 3 + utf8_width(s->name);
		name_w = w > name_w ? w : name_w;
		int sw = utf8_width(s->service);
		svc_w = sw > svc_w ? sw : svc_w;
	}
	name_w = clampi(name_w, 12, width * 35 / 100);
	svc_w = clampi(svc_w, 7, 16);
	int bar_w = width - name_w - svc_w - 8 - 8 - 4 - 5;
	if (bar_w < 10)
		bar_w = 10;
	axis a = {0, m->end_ns - m->start_ns, bar_w};
	if (a.t1 == 0)
		a.t1 = 1;

	time_format(m->start_ns, when, sizeof when);
	duration_format(m->end_ns - m->start_ns, dur, sizeof dur);
	fprintf(f, "Trace %s  %s  %s  %d span%s  %d service%s  %d error%s\n",
	    m->trace_hex, when, dur, m->nspans, m->nspans == 1 ? "" : "s",
	    m->nservices, m->nservices == 1 ? "" : "s", m->nerrors,
	    m->nerrors == 1 ? "" : "s");

	ticks = xmalloc((size_t)bar_w + 1);
	axis_ticks(&a, ticks, (size_t)bar_w + 1);
	for (int k = bar_w - 1; k >= 0 && ticks[k] == ' '; k--)
		ticks[k] = '\0';
	fprintf(f, "%-*s %-*s %8s %8s %-4s %s\n", name_w, "SPAN", svc_w,
	    "SERVICE", "DURATION", "SELF", "FLAG", ticks);
	free(ticks);

	const char *full = o->ascii ? "#" : "\xe2\x96\x88";
	const char *errc = o->ascii ? "x" : "\xe2\x96\x93";
	bar = xmalloc((size_t)bar_w * 3 + 1);
	for (int k = 0; k < n; k++) {
		int i = pre[k];
		const mspan *s = &m->spans[i];
		tree_prefix(m, i, name_w * 2 / 3, o->ascii, prefix,
		    sizeof prefix);
		snprintf(label, sizeof label, "%s%s", prefix, s->name);
		safe_cell(f, label, name_w, o);
		fputc(' ', f);
		safe_cell(f, s->service, svc_w, o);
		duration_format(s->dur_ns, dur, sizeof dur);
		duration_format(s->self_ns, self, sizeof self);
		span_flags(s, fl);
		fprintf(f, " %8s %8s %-4s ", dur, self, fl);

		int c0, c1;
		size_t bo = 0;
		axis_cells(&a, s->start_ns - m->start_ns, s->end_ns - m->start_ns,
		    &c0, &c1);
		const char *ch = (s->flags & MSPAN_ERROR) ? errc : full;
		for (int c = 0; c < c1; c++) {
			const char *p = c < c0 ? " " : ch;
			size_t pl = strlen(p);
			memcpy(bar + bo, p, pl);
			bo += pl;
		}
		bar[bo] = '\0';
		fprintf(f, "%s\n", bar);
	}
	free(bar);
	if (m->nerrors || m->nskew || m->norphans)
		fprintf(f, "flags: E error, K clock skew (outside its parent), "
			   "M parent missing, * critical path\n");
	else
		fprintf(f, "flags: * critical path\n");
	(void)san;
	free(pre);
}

/* ---------------------------------------------------------------- tables */

static san_mode
san_of(const plain_opts *o)
{
	return o->ascii ? SAN_ASCII : SAN_UTF8;
}

static void
id_hex(const ProtobufCBinaryData *b, size_t want, char *out)
{
	if (b->len == want)
		hex_encode(b->data, want, out);
	else
		strcpy(out, "?");
}

/* The cells of search row i; b holds their text. */
static void
search_cells(const void *arg, size_t i, table_buf *b, const char **cells)
{
	const Tracequery__V1__TraceSummary *t =
	    ((const Tracequery__V1__SearchResult *)arg)->traces[i];
	size_t so = 0;

	id_hex(&t->trace_id, 16, b->s[0]);
	time_format(t->start_unix_nano, b->s[1], TABLE_CELL);
	b->s[1][19] = '\0';	/* to the second */
	duration_format(t->duration_ns, b->s[2], TABLE_CELL);
	snprintf(b->s[3], TABLE_CELL, "%u", t->span_count);
	snprintf(b->s[4], TABLE_CELL, "%u", t->error_count);
	snprintf(b->s[5], TABLE_CELL, "%s: %s",
	    t->root_service ? t->root_service : "",
	    t->root_name ? t->root_name : "");
	b->s[6][0] = '\0';
	for (size_t k = 0; k < t->n_services && so + 2 < TABLE_CELL; k++) {
		int w = snprintf(b->s[6] + so, TABLE_CELL - so, "%s%s",
		    k ? "," : "", t->services[k] ? t->services[k] : "");
		so = w < 0 ? so : so + (size_t)w;
	}
	for (int k = 0; k < 7; k++)
		cells[k] = b->s[k];
}

void
plain_search(FILE *f, const Tracequery__V1__SearchResult *r, uint32_t limit,
    const plain_opts *o)
{
	/* ROOT gives way last; SERVICES first, then START goes. */
	table_col c[] = {
		{"TRACE ID", 32, 0, 0, false, 0, 0, false},
		{"START", 19, 0, 2, false, 0, 0, false},
		{"DURATION", 8, 0, 0, true, 0, 0, false},
		{"SPANS", 5, 0, 0, true, 0, 0, false},
		{"ERRORS", 6, 0, 3, true, 0, 0, false},
		{"ROOT", 16, 2, 0, false, 0, 0, false},
		{"SERVICES", 8, 1, 1, false, 0, 0, false},
	};
	char count[96];

	table_print(f, c, 7, r->n_traces, search_cells, r, o->width, san_of(o));
	if (search_total_text(r, limit, count, sizeof count))
		fprintf(f, "%s (--limit N, at most %d)\n", count,
		    SEARCH_MAX_LIMIT);
	else
		fprintf(f, "%s\n", count);
}

void
plain_histogram(FILE *f, Tracequery__V1__HistogramBucket *const *b, size_t n,
    const plain_opts *o)
{
	uint64_t max = 0, total = 0, lower = 0;
	char lo[32], hi[32];
	int bar_w = o->width - 30 - 10;

	if (bar_w < 10)
		bar_w = 10;
	for (size_t i = 0; i < n; i++) {
		max = b[i]->count > max ? b[i]->count : max;
		total += b[i]->count;
	}
	fprintf(f, "Duration histogram (%" PRIu64 " spans)\n", total);
	for (size_t i = 0; i < n; i++) {
		int len = max ? (int)((double)b[i]->count / (double)max * bar_w +
					 0.5) : 0;
		if (len == 0 && b[i]->count > 0)
			len = 1;
		duration_format(lower, lo, sizeof lo);
		duration_format(b[i]->upper_ns, hi, sizeof hi);
		fprintf(f, "%9s - %-9s %9" PRIu64 " ", i == 0 ? "0" : lo, hi,
		    b[i]->count);
		for (int k = 0; k < len; k++)
			fputs(o->ascii ? "#" : "\xe2\x96\x88", f);
		fputc('\n', f);
		lower = b[i]->upper_ns;
	}
}

static void
slow_cells(const void *arg, size_t i, table_buf *b, const char **cells)
{
	const Tracequery__V1__SlowSpan *s =
	    ((const Tracequery__V1__SlowResult *)arg)->spans[i];

	duration_format(s->duration_ns, b->s[0], TABLE_CELL);
	time_format(s->start_unix_nano, b->s[3], TABLE_CELL);
	b->s[3][19] = '\0';
	id_hex(&s->trace_id, 16, b->s[4]);
	id_hex(&s->span_id, 8, b->s[5]);
	for (int k = 0; k < 6; k++)
		cells[k] = b->s[k];
	cells[1] = s->service;
	cells[2] = s->name;
}

static void
slow_spans(FILE *f, const Tracequery__V1__SlowResult *r, uint32_t top,
    const plain_opts *o)
{
	table_col c[] = {
		{"DURATION", 8, 0, 0, true, 0, 0, false},
		{"SERVICE", 8, 2, 0, false, 0, 0, false},
		{"OPERATION", 12, 3, 0, false, 0, 0, false},
		{"START", 19, 0, 2, false, 0, 0, false},
		{"TRACE ID", 32, 0, 0, false, 0, 0, false},
		{"SPAN ID", 16, 0, 1, false, 0, 0, false},
	};

	fprintf(f, "Slowest spans (span-level: each row is one span, not a "
		   "trace)\n");
	table_print(f, c, 6, r->n_spans, slow_cells, r, o->width, san_of(o));
	if (r->n_spans >= top)
		fprintf(f, "%zu spans: the limit (--top N, at most %d)\n",
		    r->n_spans, SEARCH_MAX_LIMIT);
}

static void
pct_cells(const void *arg, size_t i, table_buf *b, const char **cells)
{
	const Tracequery__V1__OperationPercentiles *p =
	    ((const Tracequery__V1__SlowResult *)arg)->percentiles[i];

	snprintf(b->s[2], TABLE_CELL, "%llu", (unsigned long long)p->count);
	duration_format(p->p50_ns, b->s[3], TABLE_CELL);
	duration_format(p->p90_ns, b->s[4], TABLE_CELL);
	duration_format(p->p99_ns, b->s[5], TABLE_CELL);
	duration_format(p->max_ns, b->s[6], TABLE_CELL);
	for (int k = 2; k < 7; k++)
		cells[k] = b->s[k];
	cells[0] = p->service;
	cells[1] = p->operation;
}

static void
slow_percentiles(FILE *f, const Tracequery__V1__SlowResult *r,
    size_t nops_all, const plain_opts *o)
{
	table_col c[] = {
		{"SERVICE", 8, 1, 0, false, 0, 0, false},
		{"OPERATION", 12, 2, 0, false, 0, 0, false},
		{"COUNT", 5, 0, 0, true, 0, 0, false},
		{"P50", 8, 0, 0, true, 0, 0, false},
		{"P90", 8, 0, 1, true, 0, 0, false},
		{"P99", 8, 0, 0, true, 0, 0, false},
		{"MAX", 8, 0, 2, true, 0, 0, false},
	};

	fprintf(f, "\nPercentiles per operation, worst p99 first\n");
	table_print(f, c, 7, r->n_percentiles, pct_cells, r, o->width,
	    san_of(o));
	if (r->n_percentiles < nops_all)
		fprintf(f, "%zu of %zu operations (--top)\n", r->n_percentiles,
		    nops_all);
}

void
plain_slow(FILE *f, const Tracequery__V1__SlowResult *r, uint32_t top,
    size_t nops_all, const plain_opts *o, bool histogram)
{
	slow_spans(f, r, top, o);
	slow_percentiles(f, r, nops_all, o);
	if (histogram) {
		fputc('\n', f);
		plain_histogram(f, r->histogram, r->n_histogram, o);
	}
}

void
plain_services(FILE *f, const Tracequery__V1__ServicesResult *r,
    const plain_opts *o)
{
	char safe[CELL_MAX];

	for (size_t i = 0; i < r->n_services; i++) {
		const char *s = r->services[i] ? r->services[i] : "";
		sanitize_buf(s, strlen(s), san_of(o), safe, sizeof safe);
		fprintf(f, "%s\n", safe);
	}
}

static void
op_cells(const void *arg, size_t i, table_buf *b, const char **cells)
{
	const Tracequery__V1__Operation *op =
	    ((const Tracequery__V1__OperationsResult *)arg)->operations[i];

	(void)b;
	cells[0] = op->name;
	cells[1] = kind_name((int)op->kind);
}

void
plain_operations(FILE *f, const Tracequery__V1__OperationsResult *r,
    const plain_opts *o)
{
	table_col c[] = {
		{"OPERATION", 12, 1, 0, false, 0, 0, false},
		{"KIND", 11, 0, 0, false, 0, 0, false},
	};

	table_print(f, c, 2, r->n_operations, op_cells, r, o->width, san_of(o));
}

/* Formats a statistic by its unit. */
static void
stat_value(const Tracequery__V1__Stat *s, char *buf, size_t len)
{
	const char *u = s->unit ? s->unit : "";

	if (strcmp(u, "ns") == 0 && s->value >= 0) {
		duration_format((uint64_t)s->value, buf, len);
	} else if (strcmp(u, "bytes") == 0 && s->value >= 1024) {
		static const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
		double v = s->value / 1024;
		size_t k = 0;
		while (v >= 1024 && k + 1 < ARRAY_LEN(units)) {
			v /= 1024;
			k++;
		}
		snprintf(buf, len, "%.1f %s", v, units[k]);
	} else {
		snprintf(buf, len, "%.15g%s%s", s->value, *u ? " " : "", u);
	}
}

static void
stat_cells(const void *arg, size_t i, table_buf *b, const char **cells)
{
	const Tracequery__V1__Stat *st =
	    ((const Tracequery__V1__StatsResult *)arg)->stats[i];

	stat_value(st, b->s[1], TABLE_CELL);
	cells[0] = st->name;
	cells[1] = b->s[1];
}

void
plain_stats(FILE *f, const Tracequery__V1__StatsResult *r,
    const plain_opts *o)
{
	table_col c[] = {
		{"STAT", 16, 1, 0, false, 0, 0, false},
		{"VALUE", 12, 0, 0, false, 0, 0, false},
	};

	table_print(f, c, 2, r->n_stats, stat_cells, r, o->width, san_of(o));
}
