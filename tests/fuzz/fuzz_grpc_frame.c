/*
 * fuzz_grpc_frame.c - libFuzzer target for the OTLP/gRPC receiver's
 * socket-free rules (collector/net/grpc_frame.c): the unary message
 * framing with gzip inflation under a bound, grpc-timeout and grpc-message.
 *
 * Input: byte 0 picks the grpc-encoding (low 2 bits: identity, gzip,
 * unsupported) and the size limit (high bits: 64 bytes << 0..15), the rest
 * is a request body (a 5-byte prefix and a message). The same rest is
 * also read as a grpc-timeout value and as a grpc-message text.
 *
 * Invariants: a message taken apart is at most the limit; an uncompressed
 * one is the body less its prefix, byte for byte; only GRPC_OK,
 * INTERNAL and RESOURCE_EXHAUSTED come back, each non-OK one with a reason;
 * re-framing an accepted uncompressed message gives the same body; the
 * encoded grpc-message is printable ASCII with no lone '%'.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "net/grpc_frame.h"

static void
grpc_frame_fuzz_message(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size), out[96];

	grpc_frame_message(text, out, sizeof out);
	FUZZ_CHECK(strlen(out) < sizeof out);
	for (size_t i = 0; out[i] != '\0'; i++) {
		FUZZ_CHECK(out[i] >= 0x20 && out[i] <= 0x7e);
		if (out[i] == '%')
			FUZZ_CHECK(out[i + 1] != '\0' && out[i + 2] != '\0');
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum grpc_encoding enc;
	enum grpc_code code;
	grpc_message m;
	const char *why = NULL;
	size_t max;
	uint64_t ns;

	if (size < 1)
		return 0;
	enc = (enum grpc_encoding)((data[0] & 3) % 3);
	max = (size_t)64 << (data[0] >> 4);
	data++;
	size--;
	code = grpc_frame_unary(data, size, enc, max, &m, &why);
	if (code == GRPC_OK) {
		FUZZ_CHECK(m.len <= max);
		if (m.owned == NULL) {
			uint8_t prefix[GRPC_PREFIX_LEN];

			FUZZ_CHECK(m.len + GRPC_PREFIX_LEN == size);
			FUZZ_CHECK(m.data == data + GRPC_PREFIX_LEN);
			grpc_frame_prefix(prefix, (uint32_t)m.len);
			FUZZ_CHECK(memcmp(prefix, data, GRPC_PREFIX_LEN) == 0);
		}
		free(m.owned);
	} else {
		FUZZ_CHECK(code == GRPC_INTERNAL ||
		    code == GRPC_RESOURCE_EXHAUSTED);
		FUZZ_CHECK(why != NULL && *why != '\0');
		FUZZ_CHECK(m.owned == NULL);
	}
	if (grpc_frame_timeout(data, size, &ns) == 0)
		FUZZ_CHECK(size >= 2 && size <= 9);
	grpc_frame_fuzz_message(data, size);
	return 0;
}
