/*
 * trace_dict.h - each index flush's trace dictionary (docs/STORAGE.md).
 *
 * A flush numbers the traces it indexes, per hour of their spans' starts,
 * 0, 1, 2, ... in order of arrival, and writes each trace's ID and start
 * (its earliest span of that hour in the flush) once, in records of
 * TRACE_DICT_CHUNK entries of TRACE_DICT_ENTRY bytes keyed (hour, 'T',
 * flush, chunk). Its postings then name a trace by that ordinal and give
 * their start as an offset from the trace's: a few bytes instead of 16
 * random ones that no compression can shrink, and 8 more.
 *
 * The builder belongs to one thread. The reader (dict_reader) belongs to
 * one query and keeps the records it has read.
 */
#ifndef COLLECTOR_TRACE_DICT_H
#define COLLECTOR_TRACE_DICT_H

#include <stdbool.h>
#include <stdint.h>

#include "format/keys.h"
#include "store/store.h"

#define TRACE_DICT_CHUNK 256
#define TRACE_DICT_ENTRY (KEY_TRACE_ID_LEN + 8)

typedef struct trace_dict trace_dict;

trace_dict *trace_dict_new(void);
void trace_dict_free(trace_dict *d);
void trace_dict_reset(trace_dict *d);
/* trace_dict_ord returns the ordinal of trace_id among the traces of the
 * hour of start_ns, numbering it when new; the trace's start is the
 * earliest start_ns given. */
uint32_t trace_dict_ord(trace_dict *d, const uint8_t *trace_id,
    uint64_t start_ns);
/* trace_dict_starts returns the starts of the hour's traces by ordinal
 * (NULL when it has none), valid until the next trace_dict_ord. */
const uint64_t *trace_dict_starts(const trace_dict *d, uint32_t hour);
/* trace_dict_merge numbers every trace of src in dst (keeping the
 * earlier start) and fills *map (grown as needed, *cap its room) so that
 * map[trace_dict_slot(src, hour, ord)] is the trace's ordinal in dst. */
void trace_dict_merge(trace_dict *dst, const trace_dict *src, uint32_t **map,
    size_t *cap);
/* trace_dict_slot: where (hour, ord) of d sits in a merge map; the hour
 * must be one of d's. */
size_t trace_dict_slot(const trace_dict *d, uint32_t hour, uint32_t ord);
/* trace_dict_write adds the dictionary's records for flush to b. */
void trace_dict_write(const trace_dict *d, store_batch *b, uint64_t flush);

typedef struct dict_reader dict_reader;

dict_reader *dict_reader_new(store *st);
void dict_reader_free(dict_reader *r);
/* dict_reader_trace copies the ID of trace ord of (hour, flush) into out
 * (unless NULL) and sets *start_ns to its start; false when the
 * dictionary has no such trace (a record lost to a crash between an index
 * flush's parts, which recovery indexes again). */
bool dict_reader_trace(dict_reader *r, uint32_t hour, uint64_t flush,
    uint32_t ord, uint8_t *out, uint64_t *start_ns);

#endif /* COLLECTOR_TRACE_DICT_H */
