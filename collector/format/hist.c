/* hist.c - log-linear histograms and their merge operator (see hist.h). */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "format/hist.h"
#include "varint.h"

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

size_t
hist_encode(const hist *h, char **out)
{
	size_t nz = 0, len = 0;
	uint8_t *p;
	int prev = 0;

	for (int i = 0; i < HIST_BUCKETS; i++)
		nz += h->n[i] != 0;
	p = xmalloc(20 + nz * 20);
	len += varint_put(p + len, h->count);
	len += varint_put(p + len, h->max);
	for (int i = 0; i < HIST_BUCKETS; i++) {
		if (h->n[i] == 0)
			continue;
		len += varint_put(p + len, (uint64_t)(i - prev));
		len += varint_put(p + len, h->n[i]);
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
	len += varint_put(p + len, n);
	len += varint_put(p + len, n ? v[n - 1] : 0);
	while (i < n) {
		int idx = hist_index(v[i]);
		uint64_t c = 0;

		while (i < n && hist_index(v[i]) == idx) {
			c++;
			i++;
		}
		len += varint_put(p + len, (uint64_t)(idx - prev));
		len += varint_put(p + len, c);
		prev = idx;
	}
	*out = (char *)p;
	return len;
}

/* Reads an encoded histogram: the header, then a bucket per call. */
typedef struct hreader {
	const uint8_t *p, *end;
	uint64_t idx;
} hreader;

static bool
hreader_open(hreader *r, const void *buf, size_t len, uint64_t *count,
    uint64_t *max)
{
	r->p = buf;
	r->end = r->p + len;
	r->idx = 0;
	return varint_get(&r->p, r->end, count) &&
	    varint_get(&r->p, r->end, max);
}

/* 1: a bucket in *idx and *n; 0: the end; -1: malformed. */
static int
hreader_next(hreader *r, uint64_t *idx, uint64_t *n)
{
	uint64_t d;

	if (r->p >= r->end)
		return 0;
	if (!varint_get(&r->p, r->end, &d) || !varint_get(&r->p, r->end, n))
		return -1;
	r->idx += d;
	if (r->idx >= HIST_BUCKETS)
		return -1;
	*idx = r->idx;
	return 1;
}

bool
hist_decode_add(hist *h, const void *buf, size_t len)
{
	hreader r;
	uint64_t count, max, idx, n;
	int got;

	if (!hreader_open(&r, buf, len, &count, &max))
		return false;
	h->count += count;
	if (max > h->max)
		h->max = max;
	while ((got = hreader_next(&r, &idx, &n)) == 1)
		h->n[idx] += n;
	return got == 0;
}

bool
hist_peek(const void *buf, size_t len, uint64_t *count, uint64_t *max)
{
	hreader r;

	return hreader_open(&r, buf, len, count, max);
}

uint64_t
hist_longest_at_most(const void *buf, size_t len, uint64_t cap)
{
	hreader r;
	uint64_t count, max, idx, n, best = 0;

	if (!hreader_open(&r, buf, len, &count, &max) || count == 0)
		return 0;
	if (max <= cap)
		return max;
	while (hreader_next(&r, &idx, &n) == 1) {
		uint64_t lower = idx == 0 ? 0 : hist_upper((int)idx - 1) + 1;

		if (lower > cap)
			break;
		best = hist_upper((int)idx) < cap ? hist_upper((int)idx) : cap;
	}
	return best;
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

/* One non-empty bucket, as the merge collects them. */
typedef struct hbucket {
	uint64_t idx;
	uint64_t n;
} hbucket;

static int
cmp_hbucket(const void *a, const void *b)
{
	const hbucket *x = a, *y = b;

	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Appends the buckets of one encoded histogram to v (room for len / 2
 * more) and adds its count and max into *count and *max.
 */
static bool
collect_buckets(const void *buf, size_t len, hbucket *v, size_t *nv,
    uint64_t *count, uint64_t *max)
{
	hreader r;
	uint64_t c, m, idx, n;
	int got;

	if (!hreader_open(&r, buf, len, &c, &m))
		return false;
	*count += c;
	if (m > *max)
		*max = m;
	while ((got = hreader_next(&r, &idx, &n)) == 1)
		v[(*nv)++] = (hbucket){ idx, n };
	return got == 0;
}

/*
 * Sums operands (and the existing value) into one encoded histogram.
 * Sparse: queries run it on every minute whose operands compaction has
 * not combined yet, and a minute of one operation fills a few dozen of
 * the 3,776 buckets, so sorting the non-empty ones beats a dense array.
 */
static char *
merge(const char *existing, size_t existing_len, const char *const *ops,
    const size_t *ops_len, int n_ops, unsigned char *success, size_t *new_len)
{
	size_t room = existing_len / 2 + 1, nv = 0, len = 0;
	uint64_t count = 0, max = 0;
	hbucket *v;
	uint8_t *out = NULL;
	uint64_t prev = 0;

	*success = 0;
	for (int i = 0; i < n_ops; i++)
		room += ops_len[i] / 2 + 1;
	if ((v = malloc(room * sizeof *v)) == NULL)
		return NULL;
	if (existing != NULL && !collect_buckets(existing, existing_len, v,
	    &nv, &count, &max))
		goto done;
	for (int i = 0; i < n_ops; i++)
		if (!collect_buckets(ops[i], ops_len[i], v, &nv, &count, &max))
			goto done;
	if (nv > 1)
		qsort(v, nv, sizeof *v, cmp_hbucket);
	if ((out = malloc(20 + nv * 20)) == NULL)
		goto done;
	len += varint_put(out + len, count);
	len += varint_put(out + len, max);
	for (size_t i = 0; i < nv;) {
		uint64_t idx = v[i].idx, n = 0;

		while (i < nv && v[i].idx == idx)
			n += v[i++].n;
		len += varint_put(out + len, idx - prev);
		len += varint_put(out + len, n);
		prev = idx;
	}
	*new_len = len;
	*success = 1;
done:
	free(v);
	return (char *)out;
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
