/*
 * grpc_frame.h - the gRPC wire rules that need no socket: the 5-byte
 * length prefix of a message, grpc-encoding (identity, gzip with a bound),
 * grpc-timeout, and the google.rpc.Status details of an error
 * (grpc-status-details-bin). Pure functions, safe from any thread; the
 * OTLP/gRPC receiver (otlp_grpc.c) calls them on its worker threads.
 */
#ifndef COLLECTOR_GRPC_FRAME_H
#define COLLECTOR_GRPC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GRPC_PREFIX_LEN 5

/* The gRPC status codes the receiver sends (grpc/doc/statuscodes.md). */
enum grpc_code {
	GRPC_OK = 0,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
};

/* grpc-encoding values the receiver understands. */
enum grpc_encoding {
	GRPC_ENC_IDENTITY,
	GRPC_ENC_GZIP,
	GRPC_ENC_UNSUPPORTED,
};

/* The one message of a unary request body. */
typedef struct grpc_message {
	const uint8_t *data; /* into the body, or into owned */
	size_t len;
	uint8_t *owned;      /* the inflated copy when compressed, else NULL */
} grpc_message;

/* grpc_frame_unary takes body (a unary request: exactly one
 * length-prefixed message) apart. A compressed message is inflated when
 * enc is gzip; max_bytes bounds the message both as sent and inflated.
 * Returns GRPC_OK with *out set (free out->owned), or the status to answer
 * (INTERNAL for bad framing, as gRPC does; RESOURCE_EXHAUSTED over the
 * limit) with *why a static explanation. */
enum grpc_code grpc_frame_unary(const uint8_t *body, size_t len,
    enum grpc_encoding enc, size_t max_bytes, grpc_message *out,
    const char **why);

/* grpc_frame_prefix writes the prefix of an uncompressed message of len
 * bytes. */
void grpc_frame_prefix(uint8_t out[GRPC_PREFIX_LEN], uint32_t len);

/* grpc_frame_encoding maps a grpc-encoding header value (len bytes, not
 * NUL-terminated). */
enum grpc_encoding grpc_frame_encoding(const uint8_t *v, size_t len);

/* grpc_frame_timeout parses a grpc-timeout value ("1S", "250m": at most 8
 * digits and a unit of H, M, S, m, u, n) into *ns. Returns 0 or -1. */
int grpc_frame_timeout(const uint8_t *v, size_t len, uint64_t *ns);

/* grpc_frame_message writes msg as a grpc-message value into out (cap
 * bytes, NUL-terminated, cut if longer): bytes outside printable ASCII,
 * and '%', are percent-encoded as the gRPC spec requires. */
void grpc_frame_message(const char *msg, char *out, size_t cap);

/* grpc_frame_retry_details returns, base64-encoded and malloc'd, the
 * grpc-status-details-bin value of an UNAVAILABLE answer: a
 * google.rpc.Status {code, message, details: [google.rpc.RetryInfo
 * {retry_delay}]}. */
char *grpc_frame_retry_details(const char *message, uint32_t retry_ms);

#endif /* COLLECTOR_GRPC_FRAME_H */
