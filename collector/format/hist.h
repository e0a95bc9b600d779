/*
 * hist.h - log-linear latency histograms (64 sub-buckets per power of two,
 * at most 1.6% relative error), stored per service, operation and minute in
 * the histogram family and summed by a RocksDB merge operator.
 * Encoding: varint count, varint max, then (varint index delta, varint n)
 * pairs for the non-empty buckets in increasing order.
 */
#ifndef COLLECTOR_HIST_H
#define COLLECTOR_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HIST_BUCKETS 3776

typedef struct hist {
	uint64_t count;
	uint64_t max;
	uint64_t n[HIST_BUCKETS];
} hist;

int hist_index(uint64_t v);
uint64_t hist_upper(int idx);
void hist_add(hist *h, uint64_t v);
/* hist_encode writes h into a malloc'd buffer; returns its length. */
size_t hist_encode(const hist *h, char **out);
/* hist_encode_values encodes n raw values (sorted in place) without a
 * dense histogram; returns the malloc'd length in *out. */
size_t hist_encode_values(uint64_t *v, size_t n, char **out);
/* hist_decode_add adds an encoded histogram into h; false if malformed. */
bool hist_decode_add(hist *h, const void *p, size_t len);
/* hist_peek reads an encoded histogram's count and max without its
 * buckets; false if malformed. */
bool hist_peek(const void *p, size_t len, uint64_t *count, uint64_t *max);
/* hist_longest_at_most returns a bound on the longest value at most cap
 * that an encoded histogram holds (its max when that is at most cap; else
 * cap or the top of the highest bucket that starts at or below cap), or 0
 * when it holds none. */
uint64_t hist_longest_at_most(const void *p, size_t len, uint64_t cap);
/* hist_quantile returns the upper bound of the bucket holding quantile q
 * (0 < q <= 1), clamped to max; 0 when empty. */
uint64_t hist_quantile(const hist *h, double q);

/* Merge operator callbacks for store.c (RocksDB C API shapes). */
char *hist_full_merge(void *state, const char *key, size_t key_len,
    const char *existing, size_t existing_len, const char *const *ops,
    const size_t *ops_len, int n_ops, unsigned char *success,
    size_t *new_len);
char *hist_partial_merge(void *state, const char *key, size_t key_len,
    const char *const *ops, const size_t *ops_len, int n_ops,
    unsigned char *success, size_t *new_len);

#endif /* COLLECTOR_HIST_H */
