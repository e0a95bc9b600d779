/* Unit tests for common/: hex IDs, durations, times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"

static void
test_hex_round_trip(void **state)
{
	uint8_t in[8] = {0xde, 0xad, 0, 1, 2, 3, 4, 5}, out[8];
	char hex[17];

	(void)state;
	hex_encode(in, sizeof in, hex);
	assert_string_equal(hex, "dead000102030405");
	assert_int_equal(hex_decode("DEAD000102030405", out, sizeof out), 0);
	assert_memory_equal(in, out, sizeof in);
}

static void
test_hex_rejects_bad_input(void **state)
{
	uint8_t out[8];

	(void)state;
	assert_int_equal(hex_decode("dead00010203040", out, 8), -1);   /* short */
	assert_int_equal(hex_decode("dead0001020304050", out, 8), -1); /* long */
	assert_int_equal(hex_decode("dead00010203040g", out, 8), -1);  /* non-hex */
	assert_true(is_all_zero((const uint8_t *)"\0\0\0", 3));
	assert_false(is_all_zero((const uint8_t *)"\0\1\0", 3));
}

static void
test_duration_parse(void **state)
{
	static const struct {
		const char *in;
		uint64_t ns;
	} ok[] = {
		{"250us", 250000}, {"100ms", 100000000}, {"1.5s", 1500000000},
		{"2m", 120000000000ull}, {"1h", 3600000000000ull}, {"42ns", 42},
		{"0s", 0}, {"3d", 259200000000000ull},
	};
	static const char *bad[] = {"", "ms", "10", "-1s", "1x", "1.5.5s",
		"1 s", "nan s", "inf", "99999999999d"};
	uint64_t ns;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		assert_int_equal(duration_parse(ok[i].in, &ns), 0);
		assert_int_equal(ns, ok[i].ns);
	}
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		assert_int_equal(duration_parse(bad[i], &ns), -1);
}

static void
test_duration_format(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(duration_format(999, buf, sizeof buf), "999ns");
	assert_string_equal(duration_format(250000, buf, sizeof buf), "250us");
	assert_string_equal(duration_format(1500000000, buf, sizeof buf), "1.5s");
	assert_string_equal(duration_format(185000000000ull, buf, sizeof buf), "3m05s");
}

static void
test_time_parse(void **state)
{
	uint64_t ns;
	char buf[64];

	(void)state;
	assert_int_equal(time_parse("1763800000", &ns), 0);
	assert_int_equal(ns, 1763800000000000000ull);
	assert_int_equal(time_parse("1763800000.25", &ns), 0);
	assert_int_equal(ns, 1763800000250000000ull);
	assert_int_equal(time_parse("2025-11-22T08:26:40Z", &ns), 0);
	assert_int_equal(ns, 1763800000000000000ull);
	assert_int_equal(time_parse("2025-11-22T10:26:40.5+02:00", &ns), 0);
	assert_int_equal(ns, 1763800000500000000ull);
	assert_string_equal(time_format(ns, buf, sizeof buf),
	    "2025-11-22T08:26:40.500000Z");
	assert_int_equal(time_parse("2025-13-22T08:26:40Z", &ns), -1);
	assert_int_equal(time_parse("2025-11-22T08:26:40", &ns), -1);
	assert_int_equal(time_parse("yesterday", &ns), -1);
	assert_int_equal(time_parse("", &ns), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_round_trip),
		cmocka_unit_test(test_hex_rejects_bad_input),
		cmocka_unit_test(test_duration_parse),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_time_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
