/* hist.c - log-linear histograms and their merge operator (see hist.h). */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hist.h"

int
hist_index(uint64_t v)
{
	int e;

	if (v < 64)
		return (int)v;
	e = 63 - __builtin_clzll(v);
	return (e - 5) * 64 + (int)((v >> (e - 6)) & 63);
}

uint64_t
hist_upper(int idx)
{
	int e, sub;

	if (idx < 64)
		return (uint64_t)idx;
	e = idx / 64 + 5;
	sub = idx % 64;
	if (e == 63 && sub == 63)
		return UINT64_MAX;
	return (((uint64_t)(64 + sub) + 1) << (e - 6)) - 1;
}

void
hist_add(hist *h, uint64_t v)
{
	h->n[hist_index(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}

static size_t
put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static bool
get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			return false;
		uint8_t b = *(*p)++;
		r |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*v = r;
			return true;
		}
	}
	return false;
}

size_t
hist_encode(const hist *h, char **out)
{
	size_t nz = 0, len = 0;
	uint8_t *p;
	int prev = 0;

	for (int i = 0; i < HIST_BUCKETS; i++)
		nz += h->n[i] != 0;
	p = xmalloc(20 + nz * 20);
	len += put_varint(p + len, h->count);
	len += put_varint(p + len, h->max);
	for (int i = 0; i < HIST_BUCKETS; i++) {
		if (h->n[i] == 0)
			continue;
		len += put_varint(p + len, (uint64_t)(i - prev));
		len += put_varint(p + len, h->n[i]);
		prev = i;
	}
	*out = (char *)p;
	return len;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

size_t
hist_encode_values(uint64_t *v, size_t n, char **out)
{
	uint8_t *p = xmalloc(20 + n * 20);
	size_t len = 0, i = 0;
	int prev = 0;

	if (n > 1)
		qsort(v, n, sizeof *v, cmp_u64);
	len += put_varint(p + len, n);
	len += put_varint(p + len, n ? v[n - 1] : 0);
	while (i < n) {
		int idx = hist_index(v[i]);
		uint64_t c = 0;

		while (i < n && hist_index(v[i]) == idx) {
			c++;
			i++;
		}
		len += put_varint(p + len, (uint64_t)(idx - prev));
		len += put_varint(p + len, c);
		prev = idx;
	}
	*out = (char *)p;
	return len;
}

bool
hist_decode_add(hist *h, const void *buf, size_t len)
{
	const uint8_t *p = buf, *end = p + len;
	uint64_t count, max, d, n;
	uint64_t idx = 0;

	if (!get_varint(&p, end, &count) || !get_varint(&p, end, &max))
		return false;
	h->count += count;
	if (max > h->max)
		h->max = max;
	while (p < end) {
		if (!get_varint(&p, end, &d) || !get_varint(&p, end, &n))
			return false;
		idx += d;
		if (idx >= HIST_BUCKETS)
			return false;
		h->n[idx] += n;
	}
	return true;
}

uint64_t
hist_quantile(const hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->count == 0)
		return 0;
	rank = (uint64_t)(q * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	for (int i = 0; i < HIST_BUCKETS; i++) {
		seen += h->n[i];
		if (seen >= rank) {
			uint64_t u = hist_upper(i);
			return u < h->max ? u : h->max;
		}
	}
	return h->max;
}

/* Sums operands (and the existing value) into one encoded histogram. */
static char *
merge(const char *existing, size_t existing_len, const char *const *ops,
    const size_t *ops_len, int n_ops, unsigned char *success, size_t *new_len)
{
	hist *h = calloc(1, sizeof *h);
	char *out = NULL;

	*success = 0;
	if (h == NULL)
		return NULL;
	if (existing != NULL && !hist_decode_add(h, existing, existing_len))
		goto done;
	for (int i = 0; i < n_ops; i++)
		if (!hist_decode_add(h, ops[i], ops_len[i]))
			goto done;
	*new_len = hist_encode(h, &out);
	*success = 1;
done:
	free(h);
	return out;
}

char *
hist_full_merge(void *state, const char *key, size_t key_len,
    const char *existing, size_t existing_len, const char *const *ops,
    const size_t *ops_len, int n_ops, unsigned char *success, size_t *new_len)
{
	(void)state;
	(void)key;
	(void)key_len;
	return merge(existing, existing_len, ops, ops_len, n_ops, success,
	    new_len);
}

char *
hist_partial_merge(void *state, const char *key, size_t key_len,
    const char *const *ops, const size_t *ops_len, int n_ops,
    unsigned char *success, size_t *new_len)
{
	(void)state;
	(void)key;
	(void)key_len;
	return merge(NULL, 0, ops, ops_len, n_ops, success, new_len);
}
