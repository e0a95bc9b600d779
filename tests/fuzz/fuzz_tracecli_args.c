/*
 * fuzz_tracecli_args.c - libFuzzer target for what tracecli parses from
 * its command line and the tui's search form: every search field
 * (search_spec_set: durations such as "1h30m", times, limits, orders,
 * KEY=VALUE), trace IDs (trace_id_parse) and collector addresses
 * (client_url_check).
 *
 * Input: byte 0 picks the parser, the rest is the text (cut at its first
 * NUL, as argv would be).
 *
 * Invariants: a parser accepts (0) or refuses with a cause; a duration
 * accepted as a search field parses the same alone; a trace ID is
 * accepted exactly when it is 32 hex digits, not all zero.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tracecli.h"

static bool
tracecli_args_is_id(const char *s)
{
	bool nonzero = false;

	if (strlen(s) != 32)
		return false;
	for (const char *p = s; *p; p++) {
		if (strchr("0123456789abcdefABCDEF", *p) == NULL)
			return false;
		nonzero |= *p != '0';
	}
	return nonzero;
}

static void
tracecli_args_field(search_field f, const char *text)
{
	search_spec s;
	char *cause = NULL;
	uint64_t ns;

	memset(&s, 0, sizeof s);
	int rv = search_spec_set(&s, f, text, &cause);
	FUZZ_CHECK(rv == 0 || rv == -1);
	FUZZ_CHECK((rv == 0) == (cause == NULL));
	if (rv == 0 && f == SF_MIN_DUR) {
		FUZZ_CHECK(duration_text_parse(text, &ns) == 0);
		FUZZ_CHECK(ns == s.min_dur);
	}
	if (rv == 0 && f == SF_LIMIT)
		FUZZ_CHECK(s.limit >= 1 && s.limit <= SEARCH_MAX_LIMIT);
	free(cause);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cause = NULL;
	uint8_t id[16];

	if (size < 1)
		return 0;
	char *text = strndup((const char *)data + 1, size - 1);
	int pick = data[0] % (SF_COUNT + 2);
	if (pick < SF_COUNT) {
		tracecli_args_field((search_field)pick, text);
	} else if (pick == SF_COUNT) {
		int rv = trace_id_parse(text, id, &cause);
		FUZZ_CHECK((rv == 0) == tracecli_args_is_id(text));
		FUZZ_CHECK((rv == 0) == (cause == NULL));
	} else {
		int rv = client_url_check(text, &cause);
		FUZZ_CHECK((rv == CLIENT_OK) == (cause == NULL));
	}
	free(cause);
	free(text);
	return 0;
}
