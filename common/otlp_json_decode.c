/*
 * otlp_json_decode.c - OTLP JSON -> ExportTraceServiceRequest protobuf.
 *
 * The rules are the proto3 JSON mapping with OTLP's changes
 * (docs/PROTOCOL.md §3): keys are lowerCamelCase and unknown keys
 * are ignored; null means the default; IDs are hex (either case) instead
 * of base64; enums are integers or their names; integers are numbers or
 * decimal strings; bytesValue is base64; doubles may be "NaN",
 * "Infinity", "-Infinity"; strings may hold any escape, "\u0000" included.
 *
 * The document is parsed by json_read (simdjson) and each message is
 * written straight to protobuf (pb_write), driven by protobuf-c's
 * descriptors: a JSON key names a field, the field's type says how to read
 * the value, and fields are written in field-number order, so the bytes are
 * those protobuf-c would pack. No intermediate structs, and strings keep
 * their NUL bytes. This file only rejects what cannot be represented (wrong
 * JSON types, bad hex, out-of-range numbers, AnyValue nesting beyond
 * OTLP_JSON_MAX_ANY_DEPTH); semantic checks are collector/pipeline's.
 *
 * A bad span is left out and counted; a bad resource or scope leaves out
 * the spans under it; a wrong envelope (resourceSpans, scopeSpans, spans
 * not arrays of objects) makes the document unusable.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "common.h"
#include "json_read.h"
#include "otlp_json.h"
#include "otlp_types.h"
#include "pb_write.h"

#define MAX_FIELDS 24 /* more than any OTLP trace message has */
#define MAX_PATH 96   /* frames kept for error paths (depth is bounded) */
#define TRACE_ID_LEN 16
#define SPAN_ID_LEN 8

/* One step of the error path: a key, and an index inside its array. */
struct frame {
	const char *key;
	size_t key_len;
	long index; /* -1: not an array element */
};

struct dec {
	pb_write out;
	struct frame path[MAX_PATH];
	int path_len;
	int any_depth; /* AnyValue nesting */
	char *err;     /* first error of the item being decoded */
	size_t rejected;
	char *first; /* the first rejection's reason */
};

/* ------------------------------------------------------------ errors */

static void
path_push(struct dec *d, const char *key, size_t key_len, long index)
{
	if (d->path_len < MAX_PATH)
		d->path[d->path_len] = (struct frame){key, key_len, index};
	d->path_len++;
}

static void
path_index(struct dec *d, long index)
{
	if (d->path_len > 0 && d->path_len <= MAX_PATH)
		d->path[d->path_len - 1].index = index;
}

static void
path_pop(struct dec *d)
{
	d->path_len--;
}

/* Formats "resourceSpans[0].scopeSpans[1].spans[2].spanId". */
static void
path_format(const struct dec *d, char *buf, size_t cap)
{
	size_t n = 0;
	int frames = d->path_len < MAX_PATH ? d->path_len : MAX_PATH;

	buf[0] = '\0';
	for (int i = 0; i < frames && n < cap; i++) {
		const struct frame *f = &d->path[i];
		n += (size_t)snprintf(buf + n, cap - n, "%s%.*s", i ? "." : "",
		    (int)f->key_len, f->key);
		if (f->index >= 0 && n < cap)
			n += (size_t)snprintf(
			    buf + n, cap - n, "[%ld]", f->index);
	}
}

/* Records the first error as "path: why" and returns -1. */
static int PRINTFLIKE(2, 3) fail(struct dec *d, const char *fmt, ...)
{
	char where[512], why[200];
	va_list ap;

	if (d->err != NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	path_format(d, where, sizeof where);
	xasprintf(&d->err, "%s%s%s", where, where[0] ? ": " : "", why);
	return -1;
}

/* Counts n spans as rejected, keeping the first reason. */
static void
reject(struct dec *d, size_t n)
{
	d->rejected += n;
	if (d->first == NULL)
		d->first = d->err;
	else
		free(d->err);
	d->err = NULL;
}

static const char *
type_name(const json_read_value *v)
{
	switch (json_read_type_of(v)) {
	case JSON_READ_OBJECT:
		return "an object";
	case JSON_READ_ARRAY:
		return "an array";
	case JSON_READ_STRING:
		return "a string";
	case JSON_READ_INT64:
	case JSON_READ_UINT64:
	case JSON_READ_DOUBLE:
		return "a number";
	case JSON_READ_BOOL:
		return "a boolean";
	default:
		return "null";
	}
}

static bool
is_a(const json_read_value *v, json_read_type t)
{
	return json_read_type_of(v) == t;
}

/* ------------------------------------------------------------ scalars */

/* An integer as read, before its field's range applies. */
struct whole {
	bool neg;
	uint64_t mag;
};

/* Reads a decimal string: optional '-', then digits only. */
static int
read_decimal(struct dec *d, const char *s, size_t len, struct whole *w)
{
	size_t i = 0;

	w->neg = len > 0 && s[0] == '-';
	i = w->neg;
	w->mag = 0;
	if (i == len)
		return fail(d, "\"%.*s\" is not a decimal integer", (int)len, s);
	for (; i < len; i++) {
		unsigned digit = (unsigned char)s[i] - '0';
		if (digit > 9)
			return fail(d, "\"%.32s\" is not a decimal integer",
			    s);
		if (w->mag > UINT64_MAX / 10 ||
		    (w->mag == UINT64_MAX / 10 && digit > UINT64_MAX % 10))
			return fail(d, "\"%.32s\" out of range", s);
		w->mag = w->mag * 10 + digit;
	}
	return 0;
}

/* Reads an integer given as a JSON integer, an integral number ("1e3",
 * "5.0") or a decimal string, as proto3 JSON allows for every integer. */
static int
read_whole(struct dec *d, const json_read_value *v, struct whole *w)
{
	const char *s;
	size_t len;
	double x;

	switch (json_read_type_of(v)) {
	case JSON_READ_INT64: {
		int64_t i = json_read_int64(v);
		w->neg = i < 0;
		w->mag = w->neg ? 0 - (uint64_t)i : (uint64_t)i;
		return 0;
	}
	case JSON_READ_UINT64:
		w->neg = false;
		w->mag = json_read_uint64(v);
		return 0;
	case JSON_READ_DOUBLE:
		x = json_read_double(v);
		if (!isfinite(x) || trunc(x) != x)
			return fail(d, "not an integer");
		if (fabs(x) >= 18446744073709551616.0)
			return fail(d, "out of range");
		w->neg = x < 0;
		w->mag = (uint64_t)fabs(x);
		return 0;
	case JSON_READ_STRING:
		s = json_read_string(v, &len);
		return read_decimal(d, s, len, w);
	default:
		return fail(d, "expected an integer, got %s", type_name(v));
	}
}

/* Reads an integer within [lo, hi]. */
static int
read_signed(struct dec *d, const json_read_value *v, int64_t lo, int64_t hi,
    int64_t *out)
{
	struct whole w;

	if (read_whole(d, v, &w) != 0)
		return -1;
	if (w.neg ? w.mag > (uint64_t)-(lo + 1) + 1 : w.mag > (uint64_t)hi)
		return fail(d, "%s%" PRIu64 " out of range", w.neg ? "-" : "",
		    w.mag);
	*out = w.neg ? (int64_t)(0 - w.mag) : (int64_t)w.mag;
	return 0;
}

static int
read_unsigned64(struct dec *d, const json_read_value *v, uint64_t *out)
{
	struct whole w;

	if (read_whole(d, v, &w) != 0)
		return -1;
	if (w.neg && w.mag != 0)
		return fail(d, "negative value -%" PRIu64, w.mag);
	*out = w.mag;
	return 0;
}

/* Enums: a JSON integer or the value's name ("SPAN_KIND_SERVER"). */
static int
read_enum(struct dec *d, const ProtobufCEnumDescriptor *e,
    const json_read_value *v, int64_t *out)
{
	const ProtobufCEnumValue *ev;
	char name[64];
	const char *s;
	size_t len;

	if (is_a(v, JSON_READ_INT64))
		return read_signed(d, v, INT32_MIN, INT32_MAX, out);
	if (!is_a(v, JSON_READ_STRING))
		return fail(d, "enum must be an integer or a name, got %s",
		    type_name(v));
	s = json_read_string(v, &len);
	if (len < sizeof name && memchr(s, '\0', len) == NULL) {
		memcpy(name, s, len);
		name[len] = '\0';
		if ((ev = protobuf_c_enum_descriptor_get_value_by_name(
		         e, name)) != NULL) {
			*out = ev->value;
			return 0;
		}
	}
	return fail(d, "\"%.32s\" is not a %s name", s, e->short_name);
}

static int
read_double(struct dec *d, const json_read_value *v, double *out)
{
	char buf[64], *end;
	const char *s;
	size_t len;

	if (is_a(v, JSON_READ_INT64) || is_a(v, JSON_READ_UINT64) ||
	    is_a(v, JSON_READ_DOUBLE)) {
		*out = json_read_double(v);
		return 0;
	}
	if (!is_a(v, JSON_READ_STRING))
		return fail(d, "expected a number, got %s", type_name(v));
	s = json_read_string(v, &len);
	if (len >= sizeof buf)
		return fail(d, "\"%.32s...\" is not a number", s);
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strcmp(buf, "NaN") == 0)
		*out = NAN;
	else if (strcmp(buf, "Infinity") == 0)
		*out = INFINITY;
	else if (strcmp(buf, "-Infinity") == 0)
		*out = -INFINITY;
	else if (len == 0 || strspn(buf, "0123456789+-.eE") != len)
		/* strtod alone would also take "inf", "nan", hex floats */
		return fail(d, "\"%s\" is not a number", buf);
	else {
		errno = 0;
		*out = strtod(buf, &end);
		if (*end != '\0' || errno != 0)
			return fail(d, "\"%s\" is not a number", buf);
	}
	return 0;
}

/* ------------------------------------------------------------ fields */

static int dec_message(struct dec *d, const json_read_value *obj,
    const ProtobufCMessageDescriptor *desc);

/* trace_id, span_id, parent_span_id: hex, not proto3's base64. */
static size_t
id_length(const ProtobufCFieldDescriptor *f)
{
	size_t n = strlen(f->name);

	if (n < 3 || strcmp(f->name + n - 3, "_id") != 0)
		return 0;
	return strcmp(f->name, "trace_id") == 0 ? TRACE_ID_LEN : SPAN_ID_LEN;
}

/* A hex ID of exactly id_len bytes; "" means absent. */
static int
write_id(struct dec *d, const ProtobufCFieldDescriptor *f, size_t id_len,
    const json_read_value *v)
{
	const char *s;
	size_t len;
	uint8_t *p;

	if (!is_a(v, JSON_READ_STRING))
		return fail(d, "expected a hex string, got %s", type_name(v));
	s = json_read_string(v, &len);
	if (len == 0)
		return 0;
	if (len != id_len * 2)
		return fail(d, "expected %zu hex digits, got %zu", id_len * 2,
		    len);
	p = pb_write_bytes_reserve(&d->out, f->id, id_len);
	if (hex_decode(s, p, id_len) != 0)
		return fail(d, "\"%.*s\" is not hex", (int)len, s);
	return 0;
}

static int
write_base64(struct dec *d, const ProtobufCFieldDescriptor *f,
    const json_read_value *v)
{
	const char *s;
	size_t len, n, bytes;

	if (!is_a(v, JSON_READ_STRING))
		return fail(d, "expected base64, got %s", type_name(v));
	s = json_read_string(v, &len);
	for (n = len; n > 0 && s[n - 1] == '=';)
		n--;
	if (n % 4 == 1)
		return fail(d, "invalid base64");
	bytes = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
	if (base64_decode(s, len, pb_write_bytes_reserve(&d->out, f->id,
	                              bytes)) != (long)bytes)
		return fail(d, "invalid base64");
	return 0;
}

static int
write_integer(struct dec *d, const ProtobufCFieldDescriptor *f,
    const json_read_value *v, bool always)
{
	int64_t i = 0;
	uint64_t u = 0;
	int rv;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
		rv = read_signed(d, v, INT32_MIN, INT32_MAX, &i);
		u = (uint64_t)i;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		rv = read_signed(d, v, 0, UINT32_MAX, &i);
		u = (uint64_t)i;
		break;
	case PROTOBUF_C_TYPE_INT64:
		rv = read_signed(d, v, INT64_MIN, INT64_MAX, &i);
		u = (uint64_t)i;
		break;
	case PROTOBUF_C_TYPE_ENUM:
		rv = read_enum(d, f->descriptor, v, &i);
		u = (uint64_t)i;
		break;
	default: /* UINT64, FIXED64 */
		rv = read_unsigned64(d, v, &u);
		break;
	}
	if (rv != 0 || (u == 0 && !always))
		return rv;
	if (f->type == PROTOBUF_C_TYPE_FIXED64)
		pb_write_fixed64_field(&d->out, f->id, u);
	else if (f->type == PROTOBUF_C_TYPE_FIXED32)
		pb_write_fixed32_field(&d->out, f->id, (uint32_t)u);
	else
		pb_write_varint_field(&d->out, f->id, u);
	return 0;
}

/* Writes one value of field f; always: even the default (oneof members and
 * repeated elements), as protobuf-c does. */
static int
write_value(struct dec *d, const ProtobufCFieldDescriptor *f,
    const json_read_value *v, bool always)
{
	const char *s;
	size_t len, id_len;
	double x = 0;
	uint64_t bits;
	pb_mark m;

	switch (f->type) {
	case PROTOBUF_C_TYPE_MESSAGE:
		if (!is_a(v, JSON_READ_OBJECT))
			return fail(
			    d, "expected an object, got %s", type_name(v));
		m = pb_write_begin(&d->out, f->id);
		if (dec_message(d, v, f->descriptor) != 0)
			return -1;
		pb_write_end(&d->out, m);
		return 0;
	case PROTOBUF_C_TYPE_STRING:
		if (!is_a(v, JSON_READ_STRING))
			return fail(
			    d, "expected a string, got %s", type_name(v));
		s = json_read_string(v, &len);
		if (len > 0 || always)
			pb_write_bytes_field(&d->out, f->id, s, len);
		return 0;
	case PROTOBUF_C_TYPE_BYTES:
		id_len = id_length(f);
		return id_len ? write_id(d, f, id_len, v)
		              : write_base64(d, f, v);
	case PROTOBUF_C_TYPE_BOOL:
		if (!is_a(v, JSON_READ_BOOL))
			return fail(
			    d, "expected a boolean, got %s", type_name(v));
		if (json_read_bool(v) || always)
			pb_write_varint_field(&d->out, f->id, json_read_bool(v));
		return 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		if (read_double(d, v, &x) != 0)
			return -1;
		memcpy(&bits, &x, sizeof bits);
		if (bits != 0 || always)
			pb_write_fixed64_field(&d->out, f->id, bits);
		return 0;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_ENUM:
		return write_integer(d, f, v, always);
	default:
		return fail(d, "field type %d is not supported", (int)f->type);
	}
}

/* A repeated field: a JSON array, each element written in order. */
static int
write_repeated(
    struct dec *d, const ProtobufCFieldDescriptor *f, const json_read_value *v)
{
	json_read_iter it;
	json_read_value e;
	long i = 0;

	if (!is_a(v, JSON_READ_ARRAY))
		return fail(d, "expected an array, got %s", type_name(v));
	json_read_elements(v, &it);
	for (; json_read_next_element(&it, &e); i++) {
		path_index(d, i);
		if (write_value(d, f, &e, true) != 0)
			return -1;
	}
	path_index(d, -1);
	return 0;
}

static int
write_field(struct dec *d, const ProtobufCFieldDescriptor *f, const char *key,
    size_t key_len, const json_read_value *v)
{
	int rv;

	path_push(d, key, key_len, -1);
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		rv = write_repeated(d, f, v);
	else
		rv = write_value(d, f, v,
		    (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0);
	path_pop(d);
	return rv;
}

/* ------------------------------------------------------------ keys */

/* The lowerCamelCase JSON names of one message type's fields ("span_id" is
 * "spanId"); OTLP JSON knows fields by those names only. */
struct json_names {
	const ProtobufCMessageDescriptor *desc;
	uint8_t len[MAX_FIELDS];
	char name[MAX_FIELDS][32];
};

#define MAX_TYPES 24 /* message types under ExportTraceServiceRequest */

static struct json_names names_of[MAX_TYPES];
static size_t n_types;
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void
camel_case(const char *snake, char *out, uint8_t *len)
{
	size_t n = 0;

	for (; *snake != '\0' && n + 1 < sizeof names_of[0].name[0]; snake++) {
		if (*snake == '_' && snake[1] >= 'a' && snake[1] <= 'z')
			out[n++] = (char)(*++snake - 'a' + 'A');
		else
			out[n++] = *snake;
	}
	out[n] = '\0';
	*len = (uint8_t)n;
}

/* Adds desc and, depth first, the message types of its fields. */
static void
names_add(const ProtobufCMessageDescriptor *desc)
{
	struct json_names *jn;

	for (size_t i = 0; i < n_types; i++)
		if (names_of[i].desc == desc)
			return;
	assert(n_types < MAX_TYPES && desc->n_fields <= MAX_FIELDS);
	jn = &names_of[n_types++];
	jn->desc = desc;
	for (size_t i = 0; i < desc->n_fields; i++)
		camel_case(desc->fields[i].name, jn->name[i], &jn->len[i]);
	for (size_t i = 0; i < desc->n_fields; i++)
		if (desc->fields[i].type == PROTOBUF_C_TYPE_MESSAGE)
			names_add(desc->fields[i].descriptor);
}

static void
names_init(void)
{
	names_add(&opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor);
}

static const struct json_names *
names_for(const ProtobufCMessageDescriptor *desc)
{
	pthread_once(&names_once, names_init);
	for (size_t i = 0; i < n_types; i++)
		if (names_of[i].desc == desc)
			return &names_of[i];
	return NULL; /* not an OTLP trace type: never asked */
}

/* The field key names, or NULL (unknown: snake_case keys too). Keys
 * usually come in field order, so the search starts after *hint, the
 * previous match. */
static const ProtobufCFieldDescriptor *
field_for_key(const struct json_names *jn, const char *key, size_t len,
    unsigned *hint)
{
	unsigned n = jn->desc->n_fields, i = *hint < n ? *hint : 0;

	for (unsigned k = 0; k < n; k++, i = i + 1 < n ? i + 1 : 0) {
		if (jn->len[i] == len && memcmp(jn->name[i], key, len) == 0) {
			*hint = i + 1;
			return &jn->desc->fields[i];
		}
	}
	return NULL;
}

/* Writes the fields of obj, a message of type desc, in field order. */
static int
dec_fields(struct dec *d, const json_read_value *obj,
    const ProtobufCMessageDescriptor *desc)
{
	json_read_value vals[MAX_FIELDS];
	const char *keys[MAX_FIELDS];
	size_t key_lens[MAX_FIELDS];
	bool set[MAX_FIELDS] = {false};
	unsigned oneofs = 0;
	json_read_iter it;
	json_read_value v;
	const char *key;
	size_t key_len;
	unsigned hint = 0;
	const struct json_names *jn = names_for(desc);

	json_read_members(obj, &it);
	while (json_read_next_member(&it, &key, &key_len, &v)) {
		const ProtobufCFieldDescriptor *f =
		    field_for_key(jn, key, key_len, &hint);
		size_t i;
		if (f == NULL || is_a(&v, JSON_READ_NULL))
			continue; /* unknown, or null: the default */
		i = (size_t)(f - desc->fields);
		if (!set[i] && (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			oneofs++;
		set[i] = true;
		vals[i] = v;
		keys[i] = key;
		key_lens[i] = key_len;
	}
	if (oneofs > 1)
		return fail(d, "%s has %u values, want one", desc->short_name,
		    oneofs);
	for (size_t i = 0; i < desc->n_fields; i++)
		if (set[i] && write_field(d, &desc->fields[i], keys[i],
		                  key_lens[i], &vals[i]) != 0)
			return -1;
	return 0;
}

static int
dec_message(struct dec *d, const json_read_value *obj,
    const ProtobufCMessageDescriptor *desc)
{
	bool any = desc == &opentelemetry__proto__common__v1__any_value__descriptor;
	int rv;

	if (any && d->any_depth >= OTLP_JSON_MAX_ANY_DEPTH)
		return fail(d, "AnyValue nested deeper than %d levels",
		    OTLP_JSON_MAX_ANY_DEPTH);
	d->any_depth += any;
	rv = dec_fields(d, obj, desc);
	d->any_depth -= any;
	return rv;
}

/* ------------------------------------------------------------ envelope */

/* The envelope's members: resource or scope, the list, schemaUrl. */
struct envelope {
	json_read_value head, list, schema_url;
	bool has_head, has_list, has_schema_url;
	const char *head_key;
};

static void
envelope_read(const json_read_value *obj, const char *head_key,
    const char *list_key, struct envelope *e)
{
	json_read_iter it;
	json_read_value v;
	const char *key;
	size_t len;

	memset(e, 0, sizeof *e);
	e->head_key = head_key;
	json_read_members(obj, &it);
	while (json_read_next_member(&it, &key, &len, &v)) {
		if (is_a(&v, JSON_READ_NULL))
			continue;
		if (len == strlen(head_key) && memcmp(key, head_key, len) == 0) {
			e->head = v;
			e->has_head = true;
		} else if (len == strlen(list_key) &&
		           memcmp(key, list_key, len) == 0) {
			e->list = v;
			e->has_list = true;
		} else if (len == 9 && memcmp(key, "schemaUrl", 9) == 0) {
			e->schema_url = v;
			e->has_schema_url = true;
		}
	}
}

/* Starts a walk over the envelope's list (empty when it has none). */
static void
list_walk(const struct envelope *e, json_read_iter *it)
{
	memset(it, 0, sizeof *it); /* a zeroed iterator is an empty walk */
	if (e->has_list)
		json_read_elements(&e->list, it);
}

static const ProtobufCFieldDescriptor *
field_named(const ProtobufCMessageDescriptor *desc, const char *name)
{
	return protobuf_c_message_descriptor_get_field_by_name(desc, name);
}

/* Checks that obj's list (key) is absent, null or an array of objects,
 * and reads the envelope into *e. */
static int
check_list(struct dec *d, const json_read_value *obj, const char *head,
    const char *key, struct envelope *e)
{
	/* A span that is not an object is only that span's error. */
	bool objects = strcmp(key, "spans") != 0;
	json_read_iter it;
	json_read_value v;
	long i = 0;

	envelope_read(obj, head, key, e);
	if (!e->has_list || (!objects && is_a(&e->list, JSON_READ_ARRAY)))
		return 0;
	path_push(d, key, strlen(key), -1);
	if (!is_a(&e->list, JSON_READ_ARRAY))
		return fail(d, "expected an array, got %s", type_name(&e->list));
	json_read_elements(&e->list, &it);
	for (; json_read_next_element(&it, &v); i++) {
		path_index(d, i);
		if (objects && !is_a(&v, JSON_READ_OBJECT))
			return fail(
			    d, "expected an object, got %s", type_name(&v));
	}
	path_pop(d);
	return 0;
}

/* The document is unusable unless resourceSpans, scopeSpans and spans are
 * (absent or) arrays of objects. (The path is left as it was on error.) */
static int
check_envelope(struct dec *d, const json_read_value *root)
{
	struct envelope top, res, scope;
	json_read_iter rit, sit;
	json_read_value rs, ss;
	long i = 0, j;

	if (check_list(d, root, "", "resourceSpans", &top) != 0)
		return -1;
	for (list_walk(&top, &rit); json_read_next_element(&rit, &rs); i++) {
		path_push(d, "resourceSpans", 13, i);
		if (check_list(d, &rs, "resource", "scopeSpans", &res) != 0)
			return -1;
		list_walk(&res, &sit);
		for (j = 0; json_read_next_element(&sit, &ss); j++) {
			path_push(d, "scopeSpans", 10, j);
			if (check_list(d, &ss, "scope", "spans", &scope) != 0)
				return -1;
			path_pop(d);
		}
		path_pop(d);
	}
	return 0;
}

/* One envelope level: ResourceSpans (resource, scopeSpans) or ScopeSpans
 * (scope, spans). */
struct level {
	const ProtobufCMessageDescriptor *desc;
	const char *head, *list; /* JSON keys */
	const char *list_field;  /* the list's protobuf field */
	const struct level *child; /* NULL: the list holds spans */
};

static const struct level scope_level = {
    &opentelemetry__proto__trace__v1__scope_spans__descriptor, "scope",
    "spans", "spans", NULL};
static const struct level resource_level = {
    &opentelemetry__proto__trace__v1__resource_spans__descriptor,
    "resource", "scopeSpans", "scope_spans", &scope_level};

/* Counts the spans under obj, an envelope of level lv. */
static size_t
spans_under(const json_read_value *obj, const struct level *lv)
{
	struct envelope e;
	json_read_iter it;
	json_read_value v;
	size_t n = 0;

	envelope_read(obj, lv->head, lv->list, &e);
	if (lv->child == NULL)
		return e.has_list ? json_read_array_size(&e.list) : 0;
	list_walk(&e, &it);
	while (json_read_next_element(&it, &v))
		n += spans_under(&v, lv->child);
	return n;
}

/* Writes the head (resource or scope) of an envelope, then checks its
 * schemaUrl; -1 when either is bad. */
static int
write_head(struct dec *d, const ProtobufCMessageDescriptor *desc,
    const struct envelope *e)
{
	if (e->has_head &&
	    write_field(d, field_named(desc, e->head_key), e->head_key,
	        strlen(e->head_key), &e->head) != 0)
		return -1;
	if (e->has_schema_url && !is_a(&e->schema_url, JSON_READ_STRING)) {
		path_push(d, "schemaUrl", 9, -1);
		fail(d, "expected a string, got %s", type_name(&e->schema_url));
		path_pop(d);
		return -1;
	}
	return 0;
}

static void
write_schema_url(struct dec *d, const ProtobufCMessageDescriptor *desc,
    const struct envelope *e)
{
	if (e->has_schema_url)
		write_field(d, field_named(desc, "schema_url"), "schemaUrl", 9,
		    &e->schema_url);
}

static void
dec_span(struct dec *d, const json_read_value *span, uint32_t field)
{
	pb_mark m = pb_write_begin(&d->out, field);

	if (!is_a(span, JSON_READ_OBJECT))
		fail(d, "expected an object, got %s", type_name(span));
	if (d->err != NULL ||
	    dec_message(d, span,
	        &opentelemetry__proto__trace__v1__span__descriptor) != 0) {
		pb_write_rollback(&d->out, m);
		reject(d, 1);
		return;
	}
	pb_write_end(&d->out, m);
}

/* Writes obj, an envelope of level lv, as protobuf field `field`: its head
 * and schemaUrl (a bad one leaves out every span under it), then its list,
 * each span on its own. */
static void
dec_level(struct dec *d, const json_read_value *obj, const struct level *lv,
    uint32_t field)
{
	pb_mark m = pb_write_begin(&d->out, field);
	uint32_t list_id = field_named(lv->desc, lv->list_field)->id;
	struct envelope e;
	json_read_iter it;
	json_read_value v;
	long i = 0;

	envelope_read(obj, lv->head, lv->list, &e);
	if (write_head(d, lv->desc, &e) != 0) {
		pb_write_rollback(&d->out, m);
		reject(d, spans_under(obj, lv));
		return;
	}
	path_push(d, lv->list, strlen(lv->list), -1);
	for (list_walk(&e, &it); json_read_next_element(&it, &v); i++) {
		path_index(d, i);
		if (lv->child != NULL)
			dec_level(d, &v, lv->child, list_id);
		else
			dec_span(d, &v, list_id);
	}
	path_pop(d);
	write_schema_url(d, lv->desc, &e);
	pb_write_end(&d->out, m);
}

/* Decodes the parsed document into d->out; -1 when it is unusable. */
static int
dec_document(struct dec *d, const json_read_value *root)
{
	const ProtobufCMessageDescriptor *desc =
	    &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor;
	struct envelope e;
	json_read_iter it;
	json_read_value rs;
	long i = 0;

	if (!is_a(root, JSON_READ_OBJECT))
		return fail(d, "expected a JSON object, got %s",
		    type_name(root));
	if (check_envelope(d, root) != 0)
		return -1;
	envelope_read(root, "", "resourceSpans", &e);
	path_push(d, "resourceSpans", 13, -1);
	for (list_walk(&e, &it); json_read_next_element(&it, &rs); i++) {
		path_index(d, i);
		dec_level(d, &rs, &resource_level,
		    field_named(desc, "resource_spans")->id);
	}
	path_pop(d);
	return 0;
}

int
otlp_json_decode(const char *json, size_t len, uint8_t **pb, size_t *pb_len,
    size_t *rejected_spans, char **cause)
{
	struct dec d;
	json_read_doc *doc;
	json_read_value root;

	*pb = NULL;
	*pb_len = 0;
	*rejected_spans = 0;
	*cause = NULL;
	if (json_read_parse(&doc, json, len, &root, cause) != 0)
		return -1;
	memset(&d, 0, sizeof d);
	/* Protobuf is about half the size of its JSON: grow once at most. */
	d.out.cap = len / 2 + 64;
	d.out.buf = xmalloc(d.out.cap);
	if (dec_document(&d, &root) != 0) {
		json_read_free(doc);
		free(d.out.buf);
		free(d.first);
		*cause = d.err;
		return -1;
	}
	json_read_free(doc);
	*pb = d.out.buf;
	*pb_len = d.out.len;
	*rejected_spans = d.rejected;
	*cause = d.first;
	return 0;
}
