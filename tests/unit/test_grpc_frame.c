/* Unit tests for collector/net/grpc_frame.c: the gRPC wire rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "base64.h"
#include "common.h"
#include "google/protobuf/any.pb-c.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "net/grpc_frame.h"

/* Frames payload with flag into a malloc'd body of *len bytes. */
static uint8_t *
frame(uint8_t flag, const uint8_t *payload, size_t n, size_t *len)
{
	uint8_t *b = xmalloc(n + GRPC_PREFIX_LEN);

	grpc_frame_prefix(b, (uint32_t)n);
	b[0] = flag;
	memcpy(b + GRPC_PREFIX_LEN, payload, n);
	*len = n + GRPC_PREFIX_LEN;
	return b;
}

/* Gzips n bytes into a malloc'd buffer. */
static uint8_t *
gzip_bytes(const uint8_t *in, size_t n, size_t *len)
{
	z_stream zs;
	uint8_t *out = xmalloc(n + 1024);

	memset(&zs, 0, sizeof zs);
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)(n + 1024);
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static void
test_identity_message(void **state)
{
	const uint8_t msg[] = "spans";
	grpc_message m;
	const char *why = NULL;
	size_t len;
	uint8_t *b = frame(0, msg, 5, &len);

	(void)state;
	assert_int_equal(grpc_frame_unary(b, len, GRPC_ENC_IDENTITY, 5, &m,
	    &why), GRPC_OK);
	assert_int_equal(m.len, 5);
	assert_memory_equal(m.data, "spans", 5);
	assert_null(m.owned);
	/* One byte over the limit. */
	assert_int_equal(grpc_frame_unary(b, len, GRPC_ENC_IDENTITY, 4, &m,
	    &why), GRPC_RESOURCE_EXHAUSTED);
	free(b);
}

static void
test_bad_framing(void **state)
{
	const uint8_t msg[] = "spans";
	grpc_message m;
	const char *why = NULL;
	size_t len;
	uint8_t *b = frame(0, msg, 5, &len), two[20];

	(void)state;
	assert_int_equal(grpc_frame_unary(b, 0, GRPC_ENC_IDENTITY, 99, &m,
	    &why), GRPC_INTERNAL);
	assert_string_equal(why, "request has no message");
	assert_int_equal(grpc_frame_unary(b, 3, GRPC_ENC_IDENTITY, 99, &m,
	    &why), GRPC_INTERNAL);
	assert_int_equal(grpc_frame_unary(b, len - 1, GRPC_ENC_IDENTITY, 99,
	    &m, &why), GRPC_INTERNAL);
	assert_string_equal(why,
	    "request ends before the message its prefix announces");
	memcpy(two, b, len);
	memcpy(two + len, b, len);
	assert_int_equal(grpc_frame_unary(two, 2 * len, GRPC_ENC_IDENTITY, 99,
	    &m, &why), GRPC_INTERNAL);
	assert_string_equal(why, "more than one message in a unary request");
	b[0] = 2;
	assert_int_equal(grpc_frame_unary(b, len, GRPC_ENC_IDENTITY, 99, &m,
	    &why), GRPC_INTERNAL);
	free(b);
}

static void
test_gzip_message(void **state)
{
	uint8_t plain[4096], *gz, *b;
	size_t gz_len, len;
	grpc_message m;
	const char *why = NULL;

	(void)state;
	memset(plain, 'a', sizeof plain);
	gz = gzip_bytes(plain, sizeof plain, &gz_len);
	b = frame(1, gz, gz_len, &len);
	assert_int_equal(grpc_frame_unary(b, len, GRPC_ENC_GZIP, 4096, &m,
	    &why), GRPC_OK);
	assert_int_equal(m.len, sizeof plain);
	assert_memory_equal(m.data, plain, sizeof plain);
	free(m.owned);
	/* The bound applies to the inflated size: a bomb stops there. */
	assert_int_equal(grpc_frame_unary(b, len, GRPC_ENC_GZIP, 4095, &m,
	    &why), GRPC_RESOURCE_EXHAUSTED);
	assert_null(m.owned);
	/* Compressed without grpc-encoding: gzip. */
	assert_int_equal(grpc_frame_unary(b, len, GRPC_ENC_IDENTITY, 4096, &m,
	    &why), GRPC_INTERNAL);
	/* Corrupt gzip. */
	b[GRPC_PREFIX_LEN + 12] ^= 0xff;
	assert_int_equal(grpc_frame_unary(b, len, GRPC_ENC_GZIP, 4096, &m,
	    &why), GRPC_INTERNAL);
	free(b);
	free(gz);
}

static void
test_timeout(void **state)
{
	uint64_t ns = 0;

	(void)state;
	assert_int_equal(grpc_frame_timeout((const uint8_t *)"1S", 2, &ns), 0);
	assert_int_equal(ns, 1000000000ULL);
	assert_int_equal(grpc_frame_timeout((const uint8_t *)"250m", 4, &ns),
	    0);
	assert_int_equal(ns, 250000000ULL);
	assert_int_equal(grpc_frame_timeout((const uint8_t *)"7n", 2, &ns), 0);
	assert_int_equal(ns, 7);
	assert_int_equal(grpc_frame_timeout((const uint8_t *)"2H", 2, &ns), 0);
	assert_int_equal(ns, 7200000000000ULL);
	assert_int_equal(grpc_frame_timeout((const uint8_t *)"S", 1, &ns), -1);
	assert_int_equal(grpc_frame_timeout((const uint8_t *)"1s", 2, &ns), -1);
	assert_int_equal(grpc_frame_timeout((const uint8_t *)"123456789S", 10,
	    &ns), -1);
	assert_int_equal(grpc_frame_timeout((const uint8_t *)"-1S", 3, &ns), -1);
}

static void
test_encoding_and_message(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(grpc_frame_encoding((const uint8_t *)"gzip", 4),
	    GRPC_ENC_GZIP);
	assert_int_equal(grpc_frame_encoding((const uint8_t *)"identity", 8),
	    GRPC_ENC_IDENTITY);
	assert_int_equal(grpc_frame_encoding((const uint8_t *)"snappy", 6),
	    GRPC_ENC_UNSUPPORTED);
	grpc_frame_message("50% \xc3\xa9\n", out, sizeof out);
	assert_string_equal(out, "50%25 %C3%A9%0A");
	grpc_frame_message("abcdefghijklmnopqrstuvwxyz", out, sizeof out);
	assert_string_equal(out, "abcdefghijklmno");
}

/* The details decode back to Status{14, message, [RetryInfo{delay}]}. */
static void
test_retry_details(void **state)
{
	char *b64 = grpc_frame_retry_details("store busy", 1500);
	uint8_t buf[256];
	long n;
	Google__Rpc__Status *st;
	Google__Rpc__RetryInfo *ri;

	(void)state;
	n = base64_decode(b64, strlen(b64), buf);
	assert_true(n > 0);
	st = google__rpc__status__unpack(NULL, (size_t)n, buf);
	assert_non_null(st);
	assert_int_equal(st->code, GRPC_UNAVAILABLE);
	assert_string_equal(st->message, "store busy");
	assert_int_equal(st->n_details, 1);
	assert_string_equal(st->details[0]->type_url,
	    "type.googleapis.com/google.rpc.RetryInfo");
	ri = google__rpc__retry_info__unpack(NULL, st->details[0]->value.len,
	    st->details[0]->value.data);
	assert_non_null(ri);
	assert_int_equal(ri->retry_delay->seconds, 1);
	assert_int_equal(ri->retry_delay->nanos, 500000000);
	google__rpc__retry_info__free_unpacked(ri, NULL);
	google__rpc__status__free_unpacked(st, NULL);
	free(b64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_message),
		cmocka_unit_test(test_bad_framing),
		cmocka_unit_test(test_gzip_message),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_encoding_and_message),
		cmocka_unit_test(test_retry_details),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
