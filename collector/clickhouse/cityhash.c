/* cityhash.c - CityHash64 v1.0.2 for 9 to 16 bytes (cityhash.h), as
 * ClickHouse's cityHash64 computes it (contrib/cityhash102). */
#include <string.h>

#include "clickhouse/cityhash.h"

#define K_MUL 0x9ddfea08eb382d69ULL

static uint64_t
fetch64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8); /* little-endian, as x86 and ClickHouse read it */
	return v;
}

static uint64_t
rotate(uint64_t v, int shift)
{
	return (v >> shift) | (v << (64 - shift));
}

/* Hash128to64 of (low u, high v). */
static uint64_t
hash_len16(uint64_t u, uint64_t v)
{
	uint64_t a = (u ^ v) * K_MUL, b;

	a ^= a >> 47;
	b = (v ^ a) * K_MUL;
	b ^= b >> 47;
	return b * K_MUL;
}

uint64_t
cityhash64_short(const uint8_t *p, size_t len)
{
	uint64_t a = fetch64(p), b = fetch64(p + len - 8);

	return hash_len16(a, rotate(b + len, (int)len)) ^ b;
}
