/*
 * json_read.h - a read-only JSON document for C, on simdjson (C++).
 *
 * Why not jansson here: OTLP/HTTP JSON ingest spent most of its time in
 * jansson's parser (13 us per span against 0.3 us for simdjson's, measured
 * in docs/BENCHMARKS.md), and jansson refuses "\u0000" unless asked.
 * jansson still writes JSON (otlp_json_encode, tracecli --json).
 *
 * Strings are UTF-8 with a length (they may hold NUL bytes); numbers keep
 * the kind the text had (integer within int64, within uint64, or real).
 * Values and iterators are small copies into the document, valid until
 * json_read_free. Not thread-safe per document; any thread may parse.
 */
#ifndef COMMON_JSON_READ_H
#define COMMON_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct json_read_doc json_read_doc;

/* A walk over an object's members or an array's elements (opaque: two
 * positions and whether the value was of the walked type). */
typedef struct json_read_iter {
	uint64_t opaque[5];
} json_read_iter;

typedef enum json_read_type {
	JSON_READ_NULL,
	JSON_READ_BOOL,
	JSON_READ_INT64,  /* an integer that fits int64 */
	JSON_READ_UINT64, /* an integer above INT64_MAX that fits uint64 */
	JSON_READ_DOUBLE, /* a number with a fraction or an exponent */
	JSON_READ_STRING,
	JSON_READ_ARRAY,
	JSON_READ_OBJECT,
} json_read_type;

/* A value in a document: its type, a scalar's value read out when the
 * value is handed over (the decoder reads nearly every one), and (opaque)
 * a document pointer and a position. */
typedef struct json_read_value {
	uint64_t opaque[2];
	json_read_type type;
	union {
		bool b;
		int64_t i;
		uint64_t u;
		double d;
		struct {
			const char *p;
			size_t len;
		} s;
	} as;
} json_read_value;

/* JSON_READ_MAX_DEPTH bounds nesting; a deeper document is refused. */
#define JSON_READ_MAX_DEPTH 1024

/*
 * json_read_parse parses len bytes of text (need not be NUL-terminated)
 * into *doc and sets *root. Returns 0, or -1 with a malloc'd *cause in our
 * own words ("invalid JSON: ..."); *doc is then NULL.
 */
int json_read_parse(json_read_doc **doc, const char *text, size_t len,
    json_read_value *root, char **cause);
/* json_read_free releases the document; NULL is a no-op. */
void json_read_free(json_read_doc *doc);

static inline json_read_type
json_read_type_of(const json_read_value *v)
{
	return v->type;
}

/* The scalar getters expect a value of their type (zero otherwise). */
static inline bool
json_read_bool(const json_read_value *v)
{
	return v->type == JSON_READ_BOOL && v->as.b;
}

static inline int64_t
json_read_int64(const json_read_value *v)
{
	return v->type == JSON_READ_INT64 ? v->as.i : 0;
}

static inline uint64_t
json_read_uint64(const json_read_value *v)
{
	return v->type == JSON_READ_UINT64 ? v->as.u : 0;
}

/* json_read_double also converts integers. */
static inline double
json_read_double(const json_read_value *v)
{
	switch (v->type) {
	case JSON_READ_DOUBLE:
		return v->as.d;
	case JSON_READ_INT64:
		return (double)v->as.i;
	case JSON_READ_UINT64:
		return (double)v->as.u;
	default:
		return 0;
	}
}

/* json_read_string returns the bytes (not NUL-terminated) and *len. */
static inline const char *
json_read_string(const json_read_value *v, size_t *len)
{
	if (v->type != JSON_READ_STRING) {
		*len = 0;
		return "";
	}
	*len = v->as.s.len;
	return v->as.s.p;
}

/* json_read_members starts a walk over object obj's members, in order;
 * json_read_next_member gives the next key (not NUL-terminated) and
 * value, false at the end. A zeroed json_read_iter is an empty walk. */
void json_read_members(const json_read_value *obj, json_read_iter *it);
bool json_read_next_member(json_read_iter *it, const char **key,
    size_t *key_len, json_read_value *v);
/* json_read_elements / json_read_next_element: the same for an array. */
void json_read_elements(const json_read_value *arr, json_read_iter *it);
bool json_read_next_element(json_read_iter *it, json_read_value *v);
/* json_read_array_size counts an array's elements. */
size_t json_read_array_size(const json_read_value *arr);
/* json_read_duplicate_key is true when object obj holds a key twice, and
 * sets *key and *key_len to one such (the parser keeps duplicates; a
 * format that refuses them asks). */
bool json_read_duplicate_key(const json_read_value *obj, const char **key,
    size_t *key_len);

#ifdef __cplusplus
}
#endif

#endif /* COMMON_JSON_READ_H */
