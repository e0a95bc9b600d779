/*
 * json_read.cpp - json_read.h on simdjson's DOM parser (Debian's
 * libsimdjson-dev). The only C++ in the project: it turns simdjson's
 * classes into the small C interface the OTLP JSON decoder needs, and its
 * error codes into sentences (never simdjson's own names).
 *
 * simdjson's values and iterators are a document pointer and a tape index,
 * trivially copyable; they are stored in the C structs' opaque words.
 */
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

#include <simdjson.h>

extern "C" {
#include "common.h"
#include "json_read.h"
}

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

static_assert(JSON_READ_MAX_DEPTH == simdjson::DEFAULT_MAX_DEPTH,
    "the parsers are made with simdjson's default depth");
static_assert(sizeof(element) <= sizeof(json_read_value), "element size");
static_assert(std::is_trivially_copyable<element>::value, "element copy");
static_assert(sizeof(object::iterator) <= 2 * sizeof(uint64_t),
    "object iterator size");
static_assert(sizeof(array::iterator) <= 2 * sizeof(uint64_t),
    "array iterator size");
static_assert(std::is_trivially_copyable<object::iterator>::value &&
                  std::is_trivially_copyable<array::iterator>::value,
    "iterator copy");

/* Documents up to this size reuse one parser per thread (no allocation in
 * steady state); bigger ones get their own, freed with the document, so a
 * thread does not keep a 16 MiB document's buffers forever. */
static const size_t CACHED_MAX = 1u << 20;

struct json_read_doc {
	simdjson::dom::parser *parser;
	bool cached;
};

/* Freed when its thread ends (NNG and libmicrohttpd threads come and go). */
static thread_local std::unique_ptr<simdjson::dom::parser> thread_parser;
static thread_local bool thread_parser_busy;

template <typename T>
static T
from_opaque(const void *p)
{
	T t;
	std::memcpy(static_cast<void *>(&t), p, sizeof t);
	return t;
}

template <typename T>
static void
to_opaque(void *p, const T &t)
{
	std::memcpy(p, static_cast<const void *>(&t), sizeof t);
}

static const char *
why(simdjson::error_code e)
{
	switch (e) {
	case simdjson::CAPACITY:
		return "document too large";
	case simdjson::MEMALLOC:
		return "out of memory";
	case simdjson::DEPTH_ERROR:
		return "nested deeper than 1024 levels";
	case simdjson::STRING_ERROR:
		return "a string holds an invalid escape or an unpaired "
		       "surrogate";
	case simdjson::T_ATOM_ERROR:
	case simdjson::F_ATOM_ERROR:
	case simdjson::N_ATOM_ERROR:
		return "a word that is not true, false or null";
	case simdjson::NUMBER_ERROR:
	case simdjson::NUMBER_OUT_OF_RANGE:
		return "a malformed number, or an integer beyond 64 bits";
	case simdjson::UTF8_ERROR:
		return "the text is not valid UTF-8";
	case simdjson::EMPTY:
		return "the document is empty";
	case simdjson::UNESCAPED_CHARS:
		return "a control character inside a string is not escaped";
	case simdjson::UNCLOSED_STRING:
		return "a string is not closed";
	case simdjson::TRAILING_CONTENT:
		return "text follows the document";
	case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
		return "the document ends inside an array or object";
	default:
		return "misplaced or missing brackets, commas, colons or "
		       "quotes";
	}
}

static simdjson::dom::parser *
parser_for(size_t len, bool *cached)
{
	*cached = len <= CACHED_MAX && !thread_parser_busy;
	if (!*cached)
		return new (std::nothrow) simdjson::dom::parser();
	if (thread_parser == nullptr)
		thread_parser.reset(new (std::nothrow) simdjson::dom::parser());
	thread_parser_busy = thread_parser != nullptr;
	return thread_parser.get();
}

/* The type is read once, when the value is handed out. */
static json_read_type
type_of(const element &e)
{
	switch (e.type()) {
	case simdjson::dom::element_type::ARRAY:
		return JSON_READ_ARRAY;
	case simdjson::dom::element_type::OBJECT:
		return JSON_READ_OBJECT;
	case simdjson::dom::element_type::INT64:
		return JSON_READ_INT64;
	case simdjson::dom::element_type::UINT64:
		return JSON_READ_UINT64;
	case simdjson::dom::element_type::DOUBLE:
		return JSON_READ_DOUBLE;
	case simdjson::dom::element_type::STRING:
		return JSON_READ_STRING;
	case simdjson::dom::element_type::BOOL:
		return JSON_READ_BOOL;
	default:
		return JSON_READ_NULL;
	}
}

/* Fills *v from e, reading a scalar's value out (e is known to hold
 * the type asked for, so the gets cannot fail). */
static void
set_value(json_read_value *v, const element &e)
{
	std::string_view sv;

	to_opaque(v->opaque, e);
	v->type = type_of(e);
	switch (v->type) {
	case JSON_READ_BOOL:
		v->as.b = e.get_bool().value_unsafe();
		break;
	case JSON_READ_INT64:
		v->as.i = e.get_int64().value_unsafe();
		break;
	case JSON_READ_UINT64:
		v->as.u = e.get_uint64().value_unsafe();
		break;
	case JSON_READ_DOUBLE:
		v->as.d = e.get_double().value_unsafe();
		break;
	case JSON_READ_STRING:
		sv = e.get_string().value_unsafe();
		v->as.s.p = sv.data();
		v->as.s.len = sv.size();
		break;
	default:
		break;
	}
}

extern "C" int
json_read_parse(json_read_doc **doc, const char *text, size_t len,
    json_read_value *root, char **cause)
{
	json_read_doc *d;
	element e;
	simdjson::error_code err;

	*doc = nullptr;
	d = static_cast<json_read_doc *>(xmalloc(sizeof *d));
	if ((d->parser = parser_for(len, &d->cached)) == nullptr) {
		free(d);
		xasprintf(cause, "invalid JSON: out of memory");
		return -1;
	}
	err = d->parser->parse(text, len, true).get(e);
	if (err != simdjson::SUCCESS) {
		json_read_free(d);
		xasprintf(cause, "invalid JSON: %s", why(err));
		return -1;
	}
	set_value(root, e);
	*doc = d;
	return 0;
}

extern "C" void
json_read_free(json_read_doc *d)
{
	if (d == nullptr)
		return;
	if (d->cached)
		thread_parser_busy = false;
	else
		delete d->parser;
	free(d);
}

extern "C" void
json_read_members(const json_read_value *obj, json_read_iter *it)
{
	object o;

	it->opaque[4] = from_opaque<element>(obj->opaque).get_object().get(o) ==
	                simdjson::SUCCESS;
	if (!it->opaque[4])
		return;
	to_opaque(it->opaque, o.begin());
	to_opaque(it->opaque + 2, o.end());
}

extern "C" bool
json_read_next_member(json_read_iter *it, const char **key, size_t *key_len,
    json_read_value *v)
{
	auto cur = from_opaque<object::iterator>(it->opaque);
	auto end = from_opaque<object::iterator>(it->opaque + 2);
	std::string_view k;

	if (!it->opaque[4] || !(cur != end))
		return false;
	k = cur.key();
	*key = k.data();
	*key_len = k.size();
	set_value(v, cur.value());
	++cur;
	to_opaque(it->opaque, cur);
	return true;
}

extern "C" void
json_read_elements(const json_read_value *arr, json_read_iter *it)
{
	array a;

	it->opaque[4] = from_opaque<element>(arr->opaque).get_array().get(a) ==
	                simdjson::SUCCESS;
	if (!it->opaque[4])
		return;
	to_opaque(it->opaque, a.begin());
	to_opaque(it->opaque + 2, a.end());
}

extern "C" bool
json_read_next_element(json_read_iter *it, json_read_value *v)
{
	auto cur = from_opaque<array::iterator>(it->opaque);
	auto end = from_opaque<array::iterator>(it->opaque + 2);

	if (!it->opaque[4] || !(cur != end))
		return false;
	set_value(v, *cur);
	++cur;
	to_opaque(it->opaque, cur);
	return true;
}

extern "C" size_t
json_read_array_size(const json_read_value *arr)
{
	array a;

	if (from_opaque<element>(arr->opaque).get_array().get(a) !=
	    simdjson::SUCCESS)
		return 0;
	return a.size();
}

/* Keys of objects up to this size are compared pairwise, with no
 * allocation (spans, endpoints and tags are small); a bigger object's keys
 * are sorted. */
static const size_t PAIRWISE_MAX = 16;

static bool
found(std::string_view k, const char **key, size_t *key_len)
{
	*key = k.data();
	*key_len = k.size();
	return true;
}

extern "C" bool
json_read_duplicate_key(const json_read_value *obj, const char **key,
    size_t *key_len)
{
	std::unique_ptr<std::string_view[]> keys;
	size_t n = 0;
	object o;

	if (from_opaque<element>(obj->opaque).get_object().get(o) !=
	    simdjson::SUCCESS)
		return false;
	if (o.size() <= PAIRWISE_MAX) {
		std::string_view seen[PAIRWISE_MAX];

		for (auto m : o) {
			for (size_t j = 0; j < n; j++)
				if (seen[j] == m.key)
					return found(m.key, key, key_len);
			seen[n++] = m.key;
		}
		return false;
	}
	/* new[] ends the process when memory runs out, as xmalloc does. */
	keys.reset(new std::string_view[o.size()]);
	for (auto m : o)
		keys[n++] = m.key;
	std::sort(keys.get(), keys.get() + n);
	auto d = std::adjacent_find(keys.get(), keys.get() + n);
	return d != keys.get() + n && found(*d, key, key_len);
}
