/* grpc_frame.c - gRPC message framing and header values (grpc_frame.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "common.h"
#include "google/protobuf/any.pb-c.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "net/grpc_frame.h"

#define RETRY_INFO_TYPE "type.googleapis.com/google.rpc.RetryInfo"

/* Inflates a compressed message into out->owned. */
static enum grpc_code
inflate_message(const uint8_t *msg, size_t len, size_t max_bytes,
    grpc_message *out, const char **why)
{
	int rv = gzip_inflate(msg, len, max_bytes, &out->owned, &out->len);

	if (rv == -2) {
		*why = "message inflates to more than the size limit";
		return GRPC_RESOURCE_EXHAUSTED;
	}
	if (rv != 0) {
		*why = "message is not valid gzip";
		return GRPC_INTERNAL;
	}
	out->data = out->owned;
	return GRPC_OK;
}

enum grpc_code
grpc_frame_unary(const uint8_t *body, size_t len, enum grpc_encoding enc,
    size_t max_bytes, grpc_message *out, const char **why)
{
	uint32_t mlen;
	uint8_t flag;

	memset(out, 0, sizeof *out);
	if (len < GRPC_PREFIX_LEN) {
		*why = len == 0 ? "request has no message" :
		    "request ends inside the 5-byte message prefix";
		return GRPC_INTERNAL;
	}
	flag = body[0];
	mlen = (uint32_t)body[1] << 24 | (uint32_t)body[2] << 16 |
	    (uint32_t)body[3] << 8 | body[4];
	if (flag > 1) {
		*why = "message prefix has a flag other than 0 or 1";
		return GRPC_INTERNAL;
	}
	if (mlen > max_bytes) {
		*why = "message is larger than the size limit";
		return GRPC_RESOURCE_EXHAUSTED;
	}
	if (len - GRPC_PREFIX_LEN < mlen) {
		*why = "request ends before the message its prefix announces";
		return GRPC_INTERNAL;
	}
	if (len - GRPC_PREFIX_LEN > mlen) {
		*why = "more than one message in a unary request";
		return GRPC_INTERNAL;
	}
	if (flag == 0) {
		out->data = body + GRPC_PREFIX_LEN;
		out->len = mlen;
		return GRPC_OK;
	}
	if (enc != GRPC_ENC_GZIP) {
		*why = "compressed message without grpc-encoding: gzip";
		return GRPC_INTERNAL;
	}
	return inflate_message(body + GRPC_PREFIX_LEN, mlen, max_bytes, out,
	    why);
}

void
grpc_frame_prefix(uint8_t out[GRPC_PREFIX_LEN], uint32_t len)
{
	out[0] = 0;
	out[1] = (uint8_t)(len >> 24);
	out[2] = (uint8_t)(len >> 16);
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
}

enum grpc_encoding
grpc_frame_encoding(const uint8_t *v, size_t len)
{
	if (len == 8 && memcmp(v, "identity", 8) == 0)
		return GRPC_ENC_IDENTITY;
	if (len == 4 && memcmp(v, "gzip", 4) == 0)
		return GRPC_ENC_GZIP;
	return GRPC_ENC_UNSUPPORTED;
}

int
grpc_frame_timeout(const uint8_t *v, size_t len, uint64_t *ns)
{
	uint64_t n = 0, unit_ns;
	size_t i;

	if (len < 2 || len > 9)
		return -1;
	for (i = 0; i + 1 < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	switch (v[len - 1]) {
	case 'H': unit_ns = 3600000000000ULL; break;
	case 'M': unit_ns = 60000000000ULL; break;
	case 'S': unit_ns = 1000000000ULL; break;
	case 'm': unit_ns = 1000000ULL; break;
	case 'u': unit_ns = 1000ULL; break;
	case 'n': unit_ns = 1; break;
	default: return -1;
	}
	/* 99999999H is 11,000 years: clamp rather than overflow. */
	*ns = n > UINT64_MAX / unit_ns ? UINT64_MAX : n * unit_ns;
	return 0;
}

void
grpc_frame_message(const char *msg, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *msg != '\0'; msg++) {
		unsigned char c = (unsigned char)*msg;
		bool plain = c >= 0x20 && c <= 0x7e && c != '%';

		if (o + (plain ? 1 : 3) >= cap)
			break;
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

/* Packs any protobuf-c message into a malloc'd buffer. */
static uint8_t *
pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(m);
	buf = xmalloc(*len > 0 ? *len : 1);
	protobuf_c_message_pack(m, buf);
	return buf;
}

char *
grpc_frame_retry_details(const char *message, uint32_t retry_ms)
{
	Google__Protobuf__Duration delay;
	Google__Rpc__RetryInfo info;
	Google__Protobuf__Any any, *anys[1];
	Google__Rpc__Status st;
	uint8_t *info_buf, *st_buf;
	size_t info_len, st_len;
	char *b64, *msg = xstrdup(message), *type = xstrdup(RETRY_INFO_TYPE);

	google__protobuf__duration__init(&delay);
	google__rpc__retry_info__init(&info);
	google__protobuf__any__init(&any);
	google__rpc__status__init(&st);
	delay.seconds = retry_ms / 1000;
	delay.nanos = (int32_t)(retry_ms % 1000) * 1000000;
	info.retry_delay = &delay;
	info_buf = pack(&info.base, &info_len);
	any.type_url = type;
	any.value.data = info_buf;
	any.value.len = info_len;
	anys[0] = &any;
	st.code = GRPC_UNAVAILABLE;
	st.message = msg;
	st.n_details = 1;
	st.details = anys;
	st_buf = pack(&st.base, &st_len);
	b64 = base64_encode(st_buf, st_len);
	free(st_buf);
	free(info_buf);
	free(msg);
	free(type);
	return b64;
}
