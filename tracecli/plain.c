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

/* Prints raw (sanitised here) fitted into w columns, left or right. */
static void
cell(FILE *f, const char *raw, int w, bool right, const plain_opts *o)
{
	san_mode san = o->ascii ? SAN_ASCII : SAN_UTF8;
	char safe[CELL_MAX], fit[CELL_MAX];

	sanitize_buf(raw ? raw : "", raw ? strlen(raw) : 0, san, safe,
	    sizeof safe);
	int n = utf8_fit(safe, w, false, san, fit, sizeof fit);
	if (right)
		fprintf(f, "%*s%s", w - n, "", fit);
	else
		fprintf(f, "%s%*s", fit, w - n, "");
}

/* The last column of a row: fitted into w columns, never padded. */
static void
cell_last(FILE *f, const char *raw, int w, const plain_opts *o)
{
	san_mode san = o->ascii ? SAN_ASCII : SAN_UTF8;
	char safe[CELL_MAX], fit[CELL_MAX];

	sanitize_buf(raw ? raw : "", raw ? strlen(raw) : 0, san, safe,
	    sizeof safe);
	utf8_fit(safe, w, false, san, fit, sizeof fit);
	fputs(fit, f);
}

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

/* Tree prefix of span i ("│  ├─ ") into out; more[d] says whether the
 * ancestor at depth d has siblings below it. */
static void
tree_prefix(const model_trace *m, int i, const bool *more, int max_cols,
    bool ascii, char *out, size_t len)
{
	const mspan *s = &m->spans[i];
	const char *bar = ascii ? "|  " : "\xe2\x94\x82  ";
	const char *tee = ascii ? "|- " : "\xe2\x94\x9c\xe2\x94\x80 ";
	const char *ell = ascii ? "`- " : "\xe2\x94\x94\xe2\x94\x80 ";
	size_t o = 0;
	int d = s->depth, from = 1;

	out[0] = '\0';
	if (d == 0)
		return;
	/* Deep trees: show the depth as a number instead of the far left. */
	if (d * 3 > max_cols) {
		from = d - (max_cols / 3 - 2);
		if (from < 1)
			from = 1;
		o += (size_t)snprintf(out, len, "%d:", d);
	}
	for (int k = from; k < d && o + 8 < len; k++) {
		const char *p = more[k] ? bar : "   ";
		size_t n = strlen(p);
		memcpy(out + o, p, n);
		o += n;
	}
	const char *p = s->next_sibling >= 0 ? tee : ell;
	size_t n = strlen(p);
	if (o + n < len) {
		memcpy(out + o, p, n);
		o += n;
	}
	out[o] = '\0';
}

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
	bool *more = xcalloc((size_t)m->max_depth + 2, sizeof *more);
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
		tree_prefix(m, i, more, name_w / 2, o->ascii, prefix,
		    sizeof prefix);
		if (s->depth <= m->max_depth)
			more[s->depth] = s->next_sibling >= 0;
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
	free(more);
	free(pre);
}

/* ---------------------------------------------------------------- tables */

void
plain_search(FILE *f, const Tracequery__V1__SearchResult *r,
    const plain_opts *o)
{
	char when[48], dur[32], num[32];
	int rest = o->width - 32 - 20 - 9 - 6 - 7 - 6;
	int root_w = clampi(rest * 6 / 10, 12, 60);
	int svc_w = clampi(rest - root_w, 8, 80);

	fprintf(f, "%-32s %-19s %8s %5s %6s %-*s %s\n", "TRACE ID", "START",
	    "DURATION", "SPANS", "ERRORS", root_w, "ROOT", "SERVICES");
	for (size_t i = 0; i < r->n_traces; i++) {
		const Tracequery__V1__TraceSummary *t = r->traces[i];
		char hex[33] = "?";
		if (t->trace_id.len == 16)
			hex_encode(t->trace_id.data, 16, hex);
		time_format(t->start_unix_nano, when, sizeof when);
		when[19] = '\0';	/* to the second */
		duration_format(t->duration_ns, dur, sizeof dur);
		fprintf(f, "%-32s %-19s %8s %5u %6u ", hex, when, dur,
		    t->span_count, t->error_count);
		char root[CELL_MAX];
		snprintf(root, sizeof root, "%s: %s",
		    t->root_service ? t->root_service : "",
		    t->root_name ? t->root_name : "");
		cell(f, root, root_w, false, o);
		fputc(' ', f);
		char svcs[CELL_MAX] = "";
		size_t so = 0;
		for (size_t k = 0; k < t->n_services && so + 2 < sizeof svcs; k++) {
			int w = snprintf(svcs + so, sizeof svcs - so, "%s%s",
			    k ? "," : "", t->services[k] ? t->services[k] : "");
			if (w < 0)
				break;
			so += (size_t)w;
			if (so >= sizeof svcs)
				so = sizeof svcs - 1;
		}
		/* The last column is not cut: nothing follows it. */
		cell_last(f, svcs, utf8_width(svcs) > svc_w ? 300 : svc_w, o);
		fputc('\n', f);
	}
	snprintf(num, sizeof num, "%zu", r->n_traces);
	fprintf(f, "%s trace%s\n", num, r->n_traces == 1 ? "" : "s");
}

/* Width of the widest raw string (sanitised), within [lo, hi]. */
static int
col_width(const char *const *v, size_t stride, size_t n, int lo, int hi,
    san_mode san)
{
	char safe[CELL_MAX];
	int w = lo;

	for (size_t i = 0; i < n; i++) {
		const char *s = *(const char *const *)((const char *)v + i * stride);
		sanitize_buf(s ? s : "", s ? strlen(s) : 0, san, safe, sizeof safe);
		int sw = utf8_width(safe);
		w = sw > w ? sw : w;
	}
	return clampi(w, lo, hi);
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

void
plain_slow(FILE *f, const Tracequery__V1__SlowResult *r,
    const plain_opts *o, bool histogram)
{
	san_mode san = o->ascii ? SAN_ASCII : SAN_UTF8;
	char dur[32], when[48], hex[33], sid[17];
	int svc_w, op_w;

	fprintf(f, "Slowest spans (span-level: each row is one span, not a "
		   "trace)\n");
	svc_w = 7;
	op_w = 9;
	for (size_t i = 0; i < r->n_spans; i++) {
		const char *sv = r->spans[i]->service, *nm = r->spans[i]->name;
		svc_w = col_width(&sv, 0, 1, svc_w, 20, san);
		op_w = col_width(&nm, 0, 1, op_w, 40, san);
	}
	fprintf(f, "%8s %-*s %-*s %-19s %-32s %s\n", "DURATION", svc_w,
	    "SERVICE", op_w, "OPERATION", "START", "TRACE ID", "SPAN ID");
	for (size_t i = 0; i < r->n_spans; i++) {
		const Tracequery__V1__SlowSpan *s = r->spans[i];
		duration_format(s->duration_ns, dur, sizeof dur);
		fprintf(f, "%8s ", dur);
		cell(f, s->service, svc_w, false, o);
		fputc(' ', f);
		cell(f, s->name, op_w, false, o);
		time_format(s->start_unix_nano, when, sizeof when);
		when[19] = '\0';
		strcpy(hex, "?");
		strcpy(sid, "?");
		if (s->trace_id.len == 16)
			hex_encode(s->trace_id.data, 16, hex);
		if (s->span_id.len == 8)
			hex_encode(s->span_id.data, 8, sid);
		fprintf(f, " %-19s %-32s %s\n", when, hex, sid);
	}
	if (r->n_spans == 0)
		fprintf(f, "(no spans)\n");

	fprintf(f, "\nPercentiles per operation\n");
	svc_w = 7;
	op_w = 9;
	for (size_t i = 0; i < r->n_percentiles; i++) {
		const char *sv = r->percentiles[i]->service,
			   *nm = r->percentiles[i]->operation;
		svc_w = col_width(&sv, 0, 1, svc_w, 20, san);
		op_w = col_width(&nm, 0, 1, op_w, 40, san);
	}
	fprintf(f, "%-*s %-*s %8s %8s %8s %8s %8s\n", svc_w, "SERVICE", op_w,
	    "OPERATION", "COUNT", "P50", "P90", "P99", "MAX");
	for (size_t i = 0; i < r->n_percentiles; i++) {
		const Tracequery__V1__OperationPercentiles *p = r->percentiles[i];
		char p50[32], p90[32], p99[32], mx[32];
		cell(f, p->service, svc_w, false, o);
		fputc(' ', f);
		cell(f, p->operation, op_w, false, o);
		fprintf(f, " %8" PRIu64 " %8s %8s %8s %8s\n", p->count,
		    duration_format(p->p50_ns, p50, sizeof p50),
		    duration_format(p->p90_ns, p90, sizeof p90),
		    duration_format(p->p99_ns, p99, sizeof p99),
		    duration_format(p->max_ns, mx, sizeof mx));
	}
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
		sanitize_buf(s, strlen(s), o->ascii ? SAN_ASCII : SAN_UTF8, safe,
		    sizeof safe);
		fprintf(f, "%s\n", safe);
	}
}

void
plain_operations(FILE *f, const Tracequery__V1__OperationsResult *r,
    const plain_opts *o)
{
	san_mode san = o->ascii ? SAN_ASCII : SAN_UTF8;
	int w = 9;

	for (size_t i = 0; i < r->n_operations; i++) {
		const char *nm = r->operations[i]->name;
		w = col_width(&nm, 0, 1, w, o->width - 12, san);
	}
	fprintf(f, "%-*s %s\n", w, "OPERATION", "KIND");
	for (size_t i = 0; i < r->n_operations; i++) {
		cell(f, r->operations[i]->name, w, false, o);
		fprintf(f, " %s\n", kind_name((int)r->operations[i]->kind));
	}
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

void
plain_stats(FILE *f, const Tracequery__V1__StatsResult *r,
    const plain_opts *o)
{
	san_mode san = o->ascii ? SAN_ASCII : SAN_UTF8;
	char val[64];
	int w = 4;

	for (size_t i = 0; i < r->n_stats; i++) {
		const char *nm = r->stats[i]->name;
		w = col_width(&nm, 0, 1, w, 48, san);
	}
	fprintf(f, "%-*s %s\n", w, "STAT", "VALUE");
	for (size_t i = 0; i < r->n_stats; i++) {
		cell(f, r->stats[i]->name, w, false, o);
		stat_value(r->stats[i], val, sizeof val);
		fputc(' ', f);
		cell_last(f, val, 40, o);
		fputc('\n', f);
	}
}
