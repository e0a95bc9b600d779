/* gzip.c - bounded gzip inflation for request bodies (OTLP/HTTP, gRPC). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "common.h"

/*
 * The size limit applies to the output, so a small bomb is stopped after
 * max bytes; concatenated members are inflated one after another (RFC 1952
 * allows them, and some clients send them).
 */
int
gzip_inflate(
    const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *out_len)
{
	z_stream zs;
	size_t cap = len * 4 + 4096, used = 0;
	uint8_t *buf;
	int rv;

	memset(&zs, 0, sizeof zs);
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return -1;
	if (cap > max + 1)
		cap = max + 1;
	buf = xmalloc(cap);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	for (;;) {
		if (used == cap) {
			if (cap > max) {
				rv = -2;
				goto fail;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			buf = xrealloc(buf, cap);
		}
		zs.next_out = buf + used;
		zs.avail_out = (uInt)(cap - used);
		rv = inflate(&zs, Z_NO_FLUSH);
		used = cap - zs.avail_out;
		if (rv == Z_STREAM_END) {
			if (zs.avail_in == 0)
				break;
			if (inflateReset(&zs) != Z_OK) {
				rv = -1;
				goto fail;
			}
			continue;
		}
		if (rv == Z_OK || (rv == Z_BUF_ERROR && zs.avail_out == 0))
			continue;
		rv = -1; /* corrupt, or truncated (Z_BUF_ERROR, no input) */
		goto fail;
	}
	inflateEnd(&zs);
	if (used > max) {
		free(buf);
		return -2;
	}
	*out = buf;
	*out_len = used;
	return 0;
fail:
	inflateEnd(&zs);
	free(buf);
	return rv;
}
