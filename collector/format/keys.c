/* keys.c - key and value encoding for the store (see keys.h, STORAGE.md). */
#include <string.h>

#include "format/keys.h"

void
key_reset(keybuf *k)
{
	k->len = 0;
	k->overflow = false;
}

void
key_reader_init(keyreader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = false;
}

const uint8_t *
key_get_bytes(keyreader *r, size_t n)
{
	const uint8_t *p;

	if (r->err || n > r->len - r->off) {
		r->err = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint8_t
key_get_u8(keyreader *r)
{
	const uint8_t *p = key_get_bytes(r, 1);

	return p ? p[0] : 0;
}

uint16_t
key_get_u16(keyreader *r)
{
	const uint8_t *p = key_get_bytes(r, 2);

	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t
key_get_u32(keyreader *r)
{
	const uint8_t *p = key_get_bytes(r, 4);

	if (p == NULL)
		return 0;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

uint64_t
key_get_u64(keyreader *r)
{
	const uint8_t *p = key_get_bytes(r, 8);

	return p ? key_be64(p) : 0;
}

const char *
key_get_str(keyreader *r, size_t *n)
{
	const uint8_t *p = key_get_bytes(r, 2);

	if (p == NULL) {
		*n = 0;
		return NULL;
	}
	*n = (size_t)p[0] << 8 | p[1];
	return (const char *)key_get_bytes(r, *n);
}

uint32_t
key_hour(uint64_t unix_ns)
{
	return (uint32_t)(unix_ns / KEY_HOUR_NS);
}

void
key_span(keybuf *k, uint32_t minute, const uint8_t *trace_id,
    const uint8_t *span_id)
{
	key_reset(k);
	key_put_u32(k, minute);
	key_put_bytes(k, trace_id, KEY_TRACE_ID_LEN);
	key_put_bytes(k, span_id, KEY_SPAN_ID_LEN);
}

void
key_trace(keybuf *k, const uint8_t *trace_id, uint32_t minute)
{
	key_reset(k);
	key_put_bytes(k, trace_id, KEY_TRACE_ID_LEN);
	key_put_u32(k, minute);
}

/* Index keys start with the hour bucket so that retention is one range. */
static void
idx_head(keybuf *k, uint64_t start_ns, int type)
{
	key_reset(k);
	key_put_u32(k, key_hour(start_ns));
	key_put_u8(k, (uint8_t)type);
}

void
key_idx_svc(keybuf *k, uint64_t start_ns, const char *svc, size_t svc_len,
    uint64_t batch)
{
	idx_head(k, start_ns, IDX_SVC);
	key_put_str(k, svc, svc_len);
	key_put_u64(k, ~start_ns);
	key_put_u64(k, batch);
}

void
key_idx_op(keybuf *k, uint64_t start_ns, const char *svc, size_t svc_len,
    const char *op, size_t op_len, uint64_t batch)
{
	idx_head(k, start_ns, IDX_OP);
	key_put_str(k, svc, svc_len);
	key_put_str(k, op, op_len);
	key_put_u64(k, ~start_ns);
	key_put_u64(k, batch);
}

void
key_idx_attr(keybuf *k, uint64_t start_ns, const char *key, size_t key_len,
    const char *val, size_t val_len, uint64_t batch)
{
	idx_head(k, start_ns, IDX_ATTR);
	key_put_str(k, key, key_len);
	key_put_str(k, val, val_len);
	key_put_u64(k, ~start_ns);
	key_put_u64(k, batch);
}

void
key_idx_val(keybuf *k, uint64_t start_ns, const char *key, size_t key_len,
    uint32_t bucket, uint64_t batch)
{
	idx_head(k, start_ns, IDX_VAL);
	key_put_str(k, key, key_len);
	key_put_u16(k, (uint16_t)bucket);
	key_put_u64(k, ~start_ns);
	key_put_u64(k, batch);
}

void
key_idx_dur(keybuf *k, uint64_t start_ns, uint64_t max_dur_ns,
    const char *svc, size_t svc_len, const char *op, size_t op_len,
    uint64_t batch)
{
	idx_head(k, start_ns, IDX_DUR);
	key_put_str(k, svc, svc_len);
	key_put_str(k, op, op_len);
	key_put_u8(k, (uint8_t)((start_ns % KEY_HOUR_NS) / KEY_MINUTE_NS));
	key_put_u64(k, ~max_dur_ns);
	key_put_u64(k, batch);
}

void
key_idx_dict(keybuf *k, uint32_t hour, uint64_t flush, uint32_t chunk)
{
	key_reset(k);
	key_put_u32(k, hour);
	key_put_u8(k, IDX_DICT);
	key_put_u64(k, flush);
	key_put_u32(k, chunk);
}

uint64_t
key_val_hash(const char *key, size_t key_len, const char *val,
    size_t val_len)
{
	return hash64(val, val_len, hash64(key, key_len, 7));
}

uint32_t
key_val_bucket(uint64_t val_hash)
{
	return (uint32_t)(val_hash >> 54) % KEY_VAL_BUCKETS;
}

int
key_idx_parse(const void *key, size_t len, idx_key *out)
{
	keyreader r;

	memset(out, 0, sizeof *out);
	key_reader_init(&r, key, len);
	out->hour = key_get_u32(&r);
	out->type = key_get_u8(&r);
	switch (out->type) {
	case IDX_SVC:
		out->s1 = key_get_str(&r, &out->s1_len);
		out->start_ns = ~key_get_u64(&r);
		break;
	case IDX_OP:
	case IDX_ATTR:
		out->s1 = key_get_str(&r, &out->s1_len);
		out->s2 = key_get_str(&r, &out->s2_len);
		out->start_ns = ~key_get_u64(&r);
		break;
	case IDX_VAL:
		out->s1 = key_get_str(&r, &out->s1_len);
		out->bucket = key_get_u16(&r);
		out->start_ns = ~key_get_u64(&r);
		break;
	case IDX_DUR:
	case IDX_DUR_TAIL:
		out->s1 = key_get_str(&r, &out->s1_len);
		out->s2 = key_get_str(&r, &out->s2_len);
		out->minute = key_get_u8(&r);
		out->dur_ns = ~key_get_u64(&r);
		out->start_ns = (uint64_t)out->hour * KEY_HOUR_NS +
		    (uint64_t)out->minute * KEY_MINUTE_NS;
		break;
	case IDX_DICT:
		out->start_ns = (uint64_t)out->hour * KEY_HOUR_NS;
		out->batch = key_get_u64(&r);
		out->bucket = key_get_u32(&r);
		return r.err || r.off != len ? -1 : 0;
	default:
		return -1;
	}
	out->batch = key_get_u64(&r);
	if (r.err || r.off != len)
		return -1;
	return 0;
}

void
key_hist(keybuf *k, uint64_t minute_ns, const char *svc, size_t svc_len,
    const char *op, size_t op_len)
{
	key_reset(k);
	key_put_u32(k, key_hour(minute_ns));
	key_put_str(k, svc, svc_len);
	key_put_str(k, op, op_len);
	key_put_u32(k, (uint32_t)(minute_ns / KEY_MINUTE_NS));
}

int
key_hist_parse(const void *key, size_t len, uint64_t *minute_start_ns)
{
	keyreader r;
	size_t n;

	key_reader_init(&r, key, len);
	(void)key_get_u32(&r);
	(void)key_get_str(&r, &n);
	(void)key_get_str(&r, &n);
	*minute_start_ns = (uint64_t)key_get_u32(&r) * KEY_MINUTE_NS;
	return r.err || r.off != len ? -1 : 0;
}

void
key_meta_origin(keybuf *k, uint64_t hash)
{
	key_reset(k);
	key_put_u8(k, META_ORIGIN);
	key_put_u64(k, hash);
}

void
key_meta_service(keybuf *k, const char *svc, size_t svc_len)
{
	key_reset(k);
	key_put_u8(k, META_SERVICE);
	key_put_str(k, svc, svc_len);
}

void
key_meta_op(keybuf *k, const char *svc, size_t svc_len, const char *op,
    size_t op_len)
{
	key_reset(k);
	key_put_u8(k, META_OP);
	key_put_str(k, svc, svc_len);
	key_put_str(k, op, op_len);
}

void
key_meta_flush(keybuf *k)
{
	key_reset(k);
	key_put_u8(k, META_FLUSH);
}

void
key_meta_format(keybuf *k)
{
	key_reset(k);
	key_put_u8(k, META_FORMAT);
}

void
key_meta_log(keybuf *k, uint64_t seq)
{
	key_reset(k);
	key_put_u8(k, META_LOG);
	key_put_u64(k, seq);
}

uint64_t
key_span_value_start(const void *v, size_t len)
{
	return len >= 8 ? key_be64(v) : 0;
}

/* Eight bytes at a time, each word mixed by a multiply; a final
 * avalanche (murmur3's) spreads every input bit. */
uint64_t
hash64(const void *p, size_t n, uint64_t seed)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed ^ (n * 0x9e3779b97f4a7c15ULL);
	uint64_t w;

	for (; n >= 8; n -= 8, b += 8) {
		memcpy(&w, b, 8);
		h = (h ^ (w * 0x87c37b91114253d5ULL)) * 0x4cf5ad432745937fULL;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, b, n);
	h = (h ^ (w * 0x87c37b91114253d5ULL)) * 0x4cf5ad432745937fULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

void
key_prefix_next(keybuf *k)
{
	for (size_t i = k->len; i > 0; i--) {
		if (k->b[i - 1] != 0xff) {
			k->b[i - 1]++;
			k->len = i;
			return;
		}
	}
	/* All 0xff: no upper bound beyond; append a byte instead. */
	key_put_u8(k, 0xff);
}
