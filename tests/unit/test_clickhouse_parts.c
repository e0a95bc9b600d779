/*
 * Unit tests for the ClickHouse backend's parts that need no server:
 * RowBinary writing and bounds-checked reading, the clickhouse:// spec and
 * its credentials (never from the URL), cityHash64 against values
 * ClickHouse 18.16 computed, the spool (append, seal, the bound, a torn
 * record cut at reopen, done marks) and a batch's rows.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clickhouse/ch_rows.h"
#include "clickhouse/ch_arrivals.h"
#include "clickhouse/ch_blocks.h"
#include "clickhouse/ch_spec.h"
#include "clickhouse/ch_sql.h"
#include "clickhouse/cityhash.h"
#include "clickhouse/rowbinary.h"
#include "clickhouse/spool.h"
#include "common.h"

static void
test_rowbinary_roundtrip(void **state)
{
	rowbinary_buf w = { 0 };
	rowbinary_reader r;
	uint8_t u8, id[4];
	uint16_t u16;
	uint32_t u32;
	uint64_t u64, vi;
	char *s;

	(void)state;
	rowbinary_put_u8(&w, 7);
	rowbinary_put_u16(&w, 0xbeef);
	rowbinary_put_u32(&w, 0xdeadbeef);
	rowbinary_put_u64(&w, 0x0102030405060708ULL);
	rowbinary_put_varint(&w, 300);
	rowbinary_put_cstr(&w, "héllo");
	rowbinary_put_bytes(&w, "\x00\xff\x01\x02", 4);
	/* Little-endian, varint 300 = ac 02. */
	assert_int_equal(w.b[1], 0xef);
	assert_int_equal(w.b[15], 0xac);
	assert_int_equal(w.b[16], 0x02);
	rowbinary_reader_init(&r, w.b, w.len);
	assert_true(rowbinary_get_u8(&r, &u8));
	assert_true(rowbinary_get_u16(&r, &u16));
	assert_true(rowbinary_get_u32(&r, &u32));
	assert_true(rowbinary_get_u64(&r, &u64));
	assert_true(rowbinary_get_varint(&r, &vi));
	assert_true(rowbinary_get_cstr(&r, &s));
	assert_true(rowbinary_get_fixed(&r, id, 4));
	assert_true(rowbinary_at_end(&r));
	assert_int_equal(u8, 7);
	assert_int_equal(u16, 0xbeef);
	assert_int_equal(u32, 0xdeadbeef);
	assert_true(u64 == 0x0102030405060708ULL);
	assert_int_equal(vi, 300);
	assert_string_equal(s, "héllo");
	assert_memory_equal(id, "\x00\xff\x01\x02", 4);
	free(s);
	rowbinary_buf_free(&w);
}

/* Every cut of a valid reply fails cleanly, and stays failed. */
static void
test_rowbinary_truncated(void **state)
{
	rowbinary_buf w = { 0 };

	(void)state;
	rowbinary_put_cstr(&w, "service-name");
	rowbinary_put_u64(&w, 42);
	for (size_t cut = 0; cut < w.len; cut++) {
		rowbinary_reader r;
		const uint8_t *p;
		size_t n;
		uint64_t v;

		rowbinary_reader_init(&r, w.b, cut);
		if (rowbinary_get_string(&r, &p, &n))
			assert_false(rowbinary_get_u64(&r, &v));
		assert_false(r.ok);
		assert_false(rowbinary_get_u64(&r, &v));
	}
	rowbinary_buf_free(&w);
}

/* A String longer than what is left, and an endless varint, fail. */
static void
test_rowbinary_malformed(void **state)
{
	static const uint8_t big[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 'a' };
	static const uint8_t endless[11] = { 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	rowbinary_reader r;
	const uint8_t *p;
	size_t n;
	uint64_t v;

	(void)state;
	rowbinary_reader_init(&r, big, sizeof big);
	assert_false(rowbinary_get_string(&r, &p, &n));
	rowbinary_reader_init(&r, endless, sizeof endless);
	assert_false(rowbinary_get_varint(&r, &v));
}

static void
test_spec_parse(void **state)
{
	ch_spec s;
	char *cause = NULL;

	(void)state;
	unsetenv("TRACE_CLICKHOUSE_CREDENTIALS");
	unsetenv("TRACE_CLICKHOUSE_USER");
	assert_int_equal(ch_spec_parse(&s, "clickhouse://127.0.0.1:8123,"
	    "localhost:8124/traces?cluster=traces&quorum=2&spool=/tmp/x",
	    &cause), 0);
	assert_int_equal(s.n_hosts, 2);
	assert_string_equal(s.hosts[1], "localhost:8124");
	assert_string_equal(s.database, "traces");
	assert_string_equal(s.cluster, "traces");
	assert_int_equal(s.quorum, 2);
	assert_string_equal(s.spool_dir, "/tmp/x");
	assert_null(s.user);
	assert_int_equal(s.flush_ms, 500);
	ch_spec_fini(&s);
	/* Without the scheme (backend.c strips it), one host, defaults. */
	assert_int_equal(ch_spec_parse(&s, "h:1/db", &cause), 0);
	assert_null(s.cluster);
	assert_string_equal(s.spool_dir, "trace-spool");
	ch_spec_fini(&s);
}

static void
test_spec_refused(void **state)
{
	static const char *bad[] = {
		"clickhouse://127.0.0.1/db",           /* no port */
		"clickhouse://127.0.0.1:99999/db",     /* port out of range */
		"clickhouse://127.0.0.1:8123",         /* no database */
		"clickhouse://127.0.0.1:8123/d-b",     /* not an identifier */
		"clickhouse://u:pw@127.0.0.1:8123/db", /* credentials in the URL */
		"clickhouse://127.0.0.1:8123/db?cluster=a;DROP",
		"clickhouse://127.0.0.1:8123/db?what=1",
		"clickhouse://h'x:1/db",
	};
	ch_spec s;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char *cause = NULL;

		assert_int_equal(ch_spec_parse(&s, bad[i], &cause), -1);
		assert_non_null(cause);
		free(cause);
	}
}

static void
test_spec_credentials(void **state)
{
	char path[] = "/tmp/ch-cred-XXXXXX";
	int fd = mkstemp(path);
	ch_spec s;
	char *cause = NULL;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "alice\ns3cret\n", 13), 13);
	close(fd);
	setenv("TRACE_CLICKHOUSE_CREDENTIALS", path, 1);
	assert_int_equal(ch_spec_parse(&s, "h:1/db", &cause), 0);
	assert_string_equal(s.user, "alice");
	assert_string_equal(s.password, "s3cret");
	ch_spec_fini(&s);
	unsetenv("TRACE_CLICKHOUSE_CREDENTIALS");
	setenv("TRACE_CLICKHOUSE_USER", "bob", 1);
	setenv("TRACE_CLICKHOUSE_PASSWORD", "pw", 1);
	assert_int_equal(ch_spec_parse(&s, "h:1/db", &cause), 0);
	assert_string_equal(s.user, "bob");
	assert_string_equal(s.password, "pw");
	ch_spec_fini(&s);
	unsetenv("TRACE_CLICKHOUSE_USER");
	unsetenv("TRACE_CLICKHOUSE_PASSWORD");
	unlink(path);
}

static void
test_spec_tls(void **state)
{
	ch_spec s;
	char *cause = NULL;

	(void)state;
	unsetenv("TRACE_CLICKHOUSE_CA");
	assert_int_equal(ch_spec_parse(&s, "clickhouses://h:1/db?ca=/etc/hosts",
	    &cause), 0);
	assert_true(s.secure);
	assert_string_equal(s.ca_file, "/etc/hosts");
	ch_spec_fini(&s);
	assert_int_equal(ch_spec_parse(&s, "h:1/db?tls=1", &cause), 0);
	assert_true(s.secure);
	assert_null(s.ca_file);
	ch_spec_fini(&s);
	assert_int_equal(ch_spec_parse(&s, "h:1/db", &cause), 0);
	assert_false(s.secure);
	ch_spec_fini(&s);
	/* A CA without TLS, an unreadable CA, a bad tls value. */
	assert_int_equal(ch_spec_parse(&s, "h:1/db?ca=/etc/hosts", &cause), -1);
	assert_non_null(strstr(cause, "without TLS"));
	free(cause);
	assert_int_equal(ch_spec_parse(&s, "clickhouses://h:1/db?ca=/nonexistent",
	    &cause), -1);
	assert_non_null(strstr(cause, "cannot read"));
	free(cause);
	assert_int_equal(ch_spec_parse(&s, "h:1/db?tls=yes", &cause), -1);
	free(cause);
}

/* Tail's list: flushes in order, a trace once per flush at its earliest
 * start, the budget ends an answer at a flush's end, old flushes go. */
static void
test_arrivals(void **state)
{
	ch_arrivals *a = ch_arrivals_new(100, 8);
	rowbinary_buf rows = { 0 };
	ch_arrivals_read rd;

	(void)state;
	ch_arrivals_get(a, 0, 10, &rd);
	assert_int_equal(rd.n, 0);
	assert_int_equal(rd.next, 100);
	free(rd.v);
	for (int f = 0; f < 3; f++) {
		rows.len = 0;
		for (uint8_t t = 0; t < 3; t++) {
			uint8_t id[16] = { (uint8_t)(f * 10 + t / 2) };

			rowbinary_put_u16(&rows, 1);
			rowbinary_put_bytes(&rows, id, 16);
			rowbinary_put_u64(&rows, 50u - t);
			rowbinary_put_u64(&rows, 60);
		}
		ch_arrivals_add(a, rows.b, rows.len);
	}
	/* Flushes 100..102, two traces each (rows 1 and 2 are one trace). */
	ch_arrivals_get(a, 100, 3, &rd);
	assert_int_equal(rd.n, 4);
	assert_true(rd.more);
	assert_int_equal(rd.next, 102);
	assert_int_equal(rd.v[1].start, 48);
	assert_int_equal(rd.v[3].flush, 101);
	free(rd.v);
	ch_arrivals_get(a, 102, 3, &rd);
	assert_int_equal(rd.n, 2);
	assert_false(rd.more);
	assert_int_equal(rd.next, 103);
	free(rd.v);
	/* Past 8 IDs, the oldest flushes go; an old cursor starts at the
	 * oldest kept. */
	for (int f = 0; f < 3; f++)
		ch_arrivals_add(a, rows.b, rows.len);
	ch_arrivals_get(a, 1, 100, &rd);
	assert_true(rd.n <= 8);
	assert_true(rd.v[0].flush > 100);
	assert_int_equal(rd.next, 106);
	free(rd.v);
	rowbinary_buf_free(&rows);
	ch_arrivals_free(a);
}

/* Values from ClickHouse 18.16: SELECT cityHash64(toFixedString(
 * unhex('...'), 16)). */
static void
test_cityhash(void **state)
{
	static const struct {
		const char *hex;
		uint64_t want;
	} v[] = {
		{ "00112233445566778899aabbccddeeff", 7641618503994178155ULL },
		{ "ffffffffffffffffffffffffffffffff", 11156510505809607899ULL },
		{ "0102030405060708090a0b0c0d0e0f10", 13180995203736293795ULL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		uint8_t id[16];

		assert_int_equal(hex_decode(v[i].hex, id, 16), 0);
		assert_true(cityhash64_short(id, 16) == v[i].want);
	}
}

static void
test_sql_quote(void **state)
{
	rowbinary_buf q = { 0 };
	uint8_t id[2] = { 0xab, 0x01 };

	(void)state;
	ch_sql_add(&q, "x = ");
	ch_sql_quote(&q, "it's a \\ test");
	ch_sql_add(&q, " AND ");
	ch_sql_id(&q, id, 2);
	assert_string_equal(ch_sql_text(&q),
	    "x = 'it\\'s a \\\\ test' AND toFixedString(unhex('ab01'), 2)");
	rowbinary_buf_free(&q);
}

static char *
temp_dir(void)
{
	char tmpl[] = "/tmp/ch-spool-XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static void
remove_dir(const char *dir)
{
	char *cmd;

	xasprintf(&cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* Appends, seals, reads the oldest segment back and removes it. */
static void
test_spool_cycle(void **state)
{
	char *dir = temp_dir(), *cause = NULL;
	spool *sp, *sp2;
	spool_state st;
	uint64_t seq;
	uint8_t *data, done;
	size_t len, off = 0, rlen;
	const uint8_t *rec;

	(void)state;
	assert_int_equal(spool_open(&sp, dir, 1 << 20, false, &cause), 0);
	/* A second opener (another collector) is refused. */
	assert_int_equal(spool_open(&sp2, dir, 1 << 20, false, &cause), -1);
	assert_non_null(strstr(cause, "another collector"));
	free(cause);
	cause = NULL;
	assert_int_equal(spool_oldest(sp, &seq, &data, &len, &done, &cause), 0);
	assert_int_equal(spool_append(sp, "one", 3, 1, &cause), 0);
	assert_int_equal(spool_append(sp, "two!", 4, 2, &cause), 0);
	spool_get_state(sp, &st);
	assert_int_equal(st.open_spans, 3);
	spool_seal(sp);
	assert_int_equal(spool_append(sp, "three", 5, 3, &cause), 0);
	assert_int_equal(spool_oldest(sp, &seq, &data, &len, &done, &cause), 1);
	assert_int_equal(done, 0);
	assert_true(spool_next_record(data, len, &off, &rec, &rlen));
	assert_memory_equal(rec, "one", 3);
	assert_true(spool_next_record(data, len, &off, &rec, &rlen));
	assert_memory_equal(rec, "two!", 4);
	assert_false(spool_next_record(data, len, &off, &rec, &rlen));
	free(data);
	assert_int_equal(spool_set_done(sp, seq, 5, &cause), 0);
	assert_int_equal(spool_oldest(sp, &seq, &data, &len, &done, &cause), 1);
	assert_int_equal(done, 5);
	free(data);
	spool_remove(sp, seq, 3);
	spool_get_state(sp, &st);
	assert_int_equal(st.sealed, 0);
	assert_int_equal(st.total_spans, 3);
	spool_close(sp);
	remove_dir(dir);
	free(dir);
}

/* Beyond its bound the spool refuses (retry later), and takes again once
 * a segment is gone. */
static void
test_spool_bound(void **state)
{
	char *dir = temp_dir(), *cause = NULL, rec[100] = { 0 };
	spool *sp;
	uint64_t seq;
	uint8_t *data, done;
	size_t len;
	int rv = 0, n = 0;

	(void)state;
	assert_int_equal(spool_open(&sp, dir, 1000, false, &cause), 0);
	while ((rv = spool_append(sp, rec, sizeof rec, 1, &cause)) == 0)
		n++;
	assert_int_equal(rv, 1);
	assert_int_equal(n, 9); /* 9 x 108 bytes fit in 1000 */
	spool_seal(sp);
	assert_int_equal(spool_oldest(sp, &seq, &data, &len, &done, &cause), 1);
	free(data);
	spool_remove(sp, seq, (uint64_t)n);
	assert_int_equal(spool_append(sp, rec, sizeof rec, 1, &cause), 0);
	spool_close(sp);
	remove_dir(dir);
	free(dir);
}

/* A crash mid-append leaves a torn record: the next open keeps the good
 * records before it and seals the segment. A record starts with its span
 * count (ch_rows.h), which the reopened spool counts. */
static void
test_spool_torn(void **state)
{
	char *dir = temp_dir(), *cause = NULL, *path;
	spool *sp;
	spool_state st;
	uint64_t seq;
	uint8_t *data, done;
	size_t len, off = 0, rlen;
	const uint8_t *rec;
	FILE *f;

	(void)state;
	assert_int_equal(spool_open(&sp, dir, 1 << 20, false, &cause), 0);
	assert_int_equal(spool_append(sp, "\x04\x00\x00\x00kept", 8, 4,
	    &cause), 0);
	spool_close(sp); /* as a kill -9: the segment stays .open */
	xasprintf(&path, "%s/%020d.open", dir, 1);
	assert_non_null(f = fopen(path, "ab"));
	fwrite("\x40\x00\x00\x00garbage", 1, 11, f);
	fclose(f);
	assert_int_equal(spool_open(&sp, dir, 1 << 20, false, &cause), 0);
	spool_get_state(sp, &st);
	assert_int_equal(st.sealed, 1);
	assert_int_equal(st.total_spans, 4);
	assert_int_equal(spool_oldest(sp, &seq, &data, &len, &done, &cause), 1);
	assert_int_equal(seq, 1);
	assert_true(spool_next_record(data, len, &off, &rec, &rlen));
	assert_memory_equal(rec + 4, "kept", 4);
	assert_false(spool_next_record(data, len, &off, &rec, &rlen));
	assert_int_equal(off, len); /* the torn bytes were cut off */
	free(data);
	/* New appends go to a new segment after the adopted one. */
	assert_int_equal(spool_append(sp, "next", 4, 1, &cause), 0);
	spool_get_state(sp, &st);
	assert_int_equal(st.open_seq, 2);
	spool_close(sp);
	free(path);
	remove_dir(dir);
	free(dir);
}

/* A batch of two spans of one trace (ID starting with tid0), step_ns
 * apart from 2025-01-01, under one resource and scope of service svc. */
typedef struct two_spans {
	Resource res;
	ResourceSpans rs;
	ScopeSpans ss;
	Span sp[2];
	uint8_t tid[16], sid[2][8];
	backend_span bs[2];
	backend_batch b;
} two_spans;

static void
two_spans_init(two_spans *t, uint8_t tid0, char *name, uint64_t step_ns)
{
	memset(t, 0, sizeof *t);
	opentelemetry__proto__resource__v1__resource__init(&t->res);
	opentelemetry__proto__trace__v1__resource_spans__init(&t->rs);
	opentelemetry__proto__trace__v1__scope_spans__init(&t->ss);
	t->rs.resource = &t->res;
	t->tid[0] = tid0;
	for (int i = 0; i < 2; i++) {
		Span *sp = &t->sp[i];

		opentelemetry__proto__trace__v1__span__init(sp);
		t->sid[i][0] = (uint8_t)(i + 1);
		sp->trace_id.data = t->tid;
		sp->trace_id.len = 16;
		sp->span_id.data = t->sid[i];
		sp->span_id.len = 8;
		sp->name = name;
		sp->start_time_unix_nano = 1735689600000000000ULL +
		    (uint64_t)i * step_ns;
		sp->end_time_unix_nano = sp->start_time_unix_nano + 1000;
		t->bs[i] = (backend_span){ "svc", &t->rs, &t->ss, sp, NULL, 0,
		    0 };
	}
	t->b.spans = t->bs;
	t->b.n_spans = 2;
}

/* Spools one record of len bytes in dir and splits the sealed segment
 * into units (*data: the segment, freed by the caller). */
static void
units_of_record(const uint8_t *rec, size_t len, const char *dir,
    uint8_t **data, ch_units *us)
{
	char *cause = NULL;
	spool *spl;
	uint64_t seq;
	size_t seg_len;
	uint8_t done;

	assert_int_equal(spool_open(&spl, dir, 1 << 20, false, &cause), 0);
	assert_int_equal(spool_append(spl, rec, len, 2, &cause), 0);
	spool_seal(spl);
	assert_int_equal(spool_oldest(spl, &seq, data, &seg_len, &done,
	    &cause), 1);
	ch_units_build(us, *data, seg_len);
	spool_close(spl);
}

/* A batch of two spans of one trace: its record parses back into the
 * four tables' rows, one trace row, one catalog row. */
static void
test_rows_record(void **state)
{
	two_spans t;
	rowbinary_buf out = { 0 };
	ch_rows_view v;
	rowbinary_reader r;
	uint16_t day;
	uint8_t id[16];
	uint64_t lo, hi;
	char name[] = "GET /";

	(void)state;
	two_spans_init(&t, 1, name, 1);
	ch_rows_encode(&t.b, &out);
	assert_true(ch_rows_parse(out.b, out.len, &v));
	assert_int_equal(v.n_spans, 2);
	rowbinary_reader_init(&r, v.rows[2], v.len[2]);
	assert_true(rowbinary_get_u16(&r, &day));
	assert_int_equal(day, 20089); /* 2025-01-01 */
	assert_true(rowbinary_get_fixed(&r, id, 16));
	assert_memory_equal(id, t.tid, 16);
	assert_true(rowbinary_get_u64(&r, &lo));
	assert_true(rowbinary_get_u64(&r, &hi));
	assert_true(hi - lo == 1);
	assert_true(rowbinary_at_end(&r));
	/* Catalog: one (day, service, name, kind) row. */
	assert_int_equal(v.len[3], 2 + 4 + 6 + 1);
	assert_false(ch_rows_parse(out.b, out.len - 1, &v));
	rowbinary_buf_free(&out);
}

/* A segment's rows split per table and day: two spans of one trace a
 * day apart give two units of every table but trace_index, which has one
 * (partitioned by the trace's first day); the row walker finds each
 * row's IDs. */
static void
test_units_by_day(void **state)
{
	char *dir = temp_dir();
	two_spans t;
	rowbinary_buf rec = { 0 };
	uint8_t *data;
	size_t per_table[CH_ROWS_TABLES] = { 0 };
	size_t bytes[CH_ROWS_TABLES] = { 0 };
	ch_rows_view view;
	ch_units us;
	char name[] = "op";

	(void)state;
	two_spans_init(&t, 7, name, CH_NS_PER_DAY);
	ch_rows_encode(&t.b, &rec);
	units_of_record(rec.b, rec.len, dir, &data, &us);
	assert_int_equal(us.n_spans, 2);
	for (size_t i = 0; i < us.n; i++) {
		rowbinary_reader r;
		ch_row row;
		size_t n = 0;

		per_table[us.v[i].table]++;
		bytes[us.v[i].table] += us.v[i].rows.len;
		if (i > 0)
			assert_true(us.v[i].table >= us.v[i - 1].table);
		rowbinary_reader_init(&r, us.v[i].rows.b, us.v[i].rows.len);
		while (ch_row_next(us.v[i].table, &r, &row)) {
			assert_int_equal(row.day, us.v[i].day);
			if (us.v[i].table != 3 && us.v[i].table != 6)
				assert_memory_equal(row.trace_id, t.tid, 16);
			n++;
		}
		assert_true(r.ok && r.left == 0 && n == 1);
	}
	assert_int_equal(per_table[0], 2);
	assert_int_equal(per_table[1], 2);
	assert_int_equal(per_table[2], 1);
	assert_int_equal(per_table[3], 2);
	assert_int_equal(per_table[4], 2);
	assert_int_equal(per_table[5], 2);
	assert_int_equal(per_table[6], 2); /* op_minutes: one row a day */
	/* The walker reads every table's rows whole: a column added to
	 * ch_rows.c without it shows here. */
	assert_true(ch_rows_parse(rec.b, rec.len, &view));
	for (int tb = 0; tb < CH_ROWS_TABLES; tb++)
		if (tb != CH_ROWS_ATTR) /* derived, no section */
			assert_int_equal(bytes[tb], view.len[tb]);
	assert_int_equal(per_table[CH_ROWS_ATTR], 0); /* no attributes */
	ch_units_free(&us);
	free(data);
	rowbinary_buf_free(&rec);
	remove_dir(dir);
	free(dir);
}

static KeyValue *
str_kv(KeyValue *kv, AnyValue *v, char *key, char *value)
{
	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(v);
	v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	v->string_value = value;
	kv->key = key;
	kv->value = v;
	return kv;
}

/* attr_index's rows come from span_index's when a segment is built, so
 * a record spooled by a v1 collector (four sections) fills it too: two
 * spans of one trace and minute, each with its user.id, under one
 * resource's host.name, give three rows (the resource's once). */
static void
test_attr_rows_of_v1_record(void **state)
{
	char *dir = temp_dir();
	two_spans t;
	KeyValue kv[3], *res_kv[1], *span_kv[2][1];
	AnyValue av[3];
	char host_key[] = "host.name", host[] = "h1", user_key[] = "user.id";
	char users[2][3] = { "u1", "u2" }, name[] = "op";
	uint8_t *data;
	rowbinary_buf rec = { 0 };
	size_t off = 4, rows = 0;
	ch_rows_view view;
	ch_units us;

	(void)state;
	two_spans_init(&t, 9, name, 1);
	res_kv[0] = str_kv(&kv[0], &av[0], host_key, host);
	t.res.attributes = res_kv;
	t.res.n_attributes = 1;
	for (int i = 0; i < 2; i++) {
		span_kv[i][0] = str_kv(&kv[1 + i], &av[1 + i], user_key,
		    users[i]);
		t.sp[i].attributes = span_kv[i];
		t.sp[i].n_attributes = 1;
	}
	ch_rows_encode(&t.b, &rec);
	/* Cut after the fourth section, as a v1 collector wrote it. */
	for (int sec = 0; sec < 4; sec++)
		off += 4 + (size_t)(rec.b[off] | rec.b[off + 1] << 8 |
		    rec.b[off + 2] << 16 | (uint32_t)rec.b[off + 3] << 24);
	assert_true(ch_rows_parse(rec.b, off, &view));
	units_of_record(rec.b, off, dir, &data, &us);
	for (size_t i = 0; i < us.n; i++) {
		rowbinary_reader r;
		ch_row row;

		if (us.v[i].table != CH_ROWS_ATTR)
			continue;
		assert_int_equal(ch_unit_step(us.v[i].table), CH_ROWS_INDEX);
		rowbinary_reader_init(&r, us.v[i].rows.b, us.v[i].rows.len);
		while (ch_row_next(us.v[i].table, &r, &row)) {
			assert_memory_equal(row.trace_id, t.tid, 16);
			rows++;
		}
		assert_true(r.ok && r.left == 0);
	}
	assert_int_equal(rows, 3);
	ch_units_free(&us);
	free(data);
	rowbinary_buf_free(&rec);
	remove_dir(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rowbinary_roundtrip),
		cmocka_unit_test(test_rowbinary_truncated),
		cmocka_unit_test(test_rowbinary_malformed),
		cmocka_unit_test(test_spec_parse),
		cmocka_unit_test(test_spec_refused),
		cmocka_unit_test(test_spec_credentials),
		cmocka_unit_test(test_spec_tls),
		cmocka_unit_test(test_arrivals),
		cmocka_unit_test(test_cityhash),
		cmocka_unit_test(test_sql_quote),
		cmocka_unit_test(test_spool_cycle),
		cmocka_unit_test(test_spool_bound),
		cmocka_unit_test(test_spool_torn),
		cmocka_unit_test(test_rows_record),
		cmocka_unit_test(test_units_by_day),
		cmocka_unit_test(test_attr_rows_of_v1_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
