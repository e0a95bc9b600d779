/*
 * base64.h - base64 for OTLP JSON's bytesValue (proto3 JSON's bytes).
 */
#ifndef COMMON_BASE64_H
#define COMMON_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* base64_encode returns len bytes as padded standard base64, in a malloc'd
 * NUL-terminated string. */
char *base64_encode(const uint8_t *in, size_t len);

/* base64_decoded_max is the room base64_decode needs for len characters. */
#define base64_decoded_max(len) ((len) * 3 / 4 + 3)

/* base64_decode decodes standard or URL-safe base64, padding optional,
 * into out (base64_decoded_max(len) bytes). Returns the byte count, or -1
 * when in is not base64. */
long base64_decode(const char *in, size_t len, uint8_t *out);

#endif /* COMMON_BASE64_H */
