/* Unit tests for collector/query/deps_status.c: a span's ERROR status read
 * from its packed bytes, as deps counts errors per call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"
#include "query/deps_status.h"

typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Trace__V1__Status pb_status;

/* Packs a span with an attribute-free body and the given status code
 * (-1: no status); *len gets the size. */
static uint8_t *
pack_span(int code, char *msg, size_t *len)
{
	static char name[] = "db.query";
	pb_span s;
	pb_status st;

	opentelemetry__proto__trace__v1__span__init(&s);
	opentelemetry__proto__trace__v1__status__init(&st);
	s.name = name;
	s.kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT;
	s.start_time_unix_nano = 5;
	s.end_time_unix_nano = 9;
	if (code >= 0) {
		st.code = (Opentelemetry__Proto__Trace__V1__Status__StatusCode)code;
		st.message = msg;
		s.status = &st;
	}
	*len = opentelemetry__proto__trace__v1__span__get_packed_size(&s);
	uint8_t *buf = malloc(*len + 1);
	opentelemetry__proto__trace__v1__span__pack(&s, buf);
	return buf;
}

static void
test_status_codes(void **state)
{
	static char declined[] = "card declined", empty[] = "";
	size_t len;
	uint8_t *b;

	(void)state;
	b = pack_span(2, declined, &len);
	assert_true(deps_span_is_error(b, len));
	/* Cut anywhere inside, the bytes are malformed: never an error. */
	for (size_t cut = 0; cut < len; cut++)
		(void)deps_span_is_error(b, cut);
	free(b);
	b = pack_span(1, empty, &len);
	assert_false(deps_span_is_error(b, len));
	free(b);
	b = pack_span(0, empty, &len);
	assert_false(deps_span_is_error(b, len));
	free(b);
	b = pack_span(-1, NULL, &len);
	assert_false(deps_span_is_error(b, len));
	free(b);
	assert_false(deps_span_is_error(NULL, 0));
	static const uint8_t junk[] = {0xff, 0xff, 0xff};
	assert_false(deps_span_is_error(junk, sizeof junk));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
