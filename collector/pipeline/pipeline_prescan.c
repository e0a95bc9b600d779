/*
 * pipeline_prescan.c - checks the protobuf wire format of an
 * ExportTraceServiceRequest before protobuf-c sees it, without recursion:
 * protobuf-c 1.4.1 unpacks nested messages recursively and a deeply
 * nested AnyValue would overflow the stack.
 */
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "pipeline/pipeline.h"
#include "varint.h"

/* Message types of the OTLP schema that can contain other messages, and
 * M_LEAF: one that holds none (Status, EntityRef). Its tags are checked
 * too: protobuf-c reads a tag of field 0 written in two bytes (80 00) as
 * an unknown field and packs it back in one (00), which it then refuses,
 * so an origin stored from such a resource would not read back. */
enum msg { M_NONE, M_REQ, M_RS, M_RES, M_SS, M_SCOPE, M_SPAN, M_EVENT,
	M_LINK, M_KV, M_ANY, M_ARR, M_KVL, M_LEAF };

/* The message type of field `field` (wire type 2) inside `m`. */
static enum msg
child(enum msg m, uint64_t field)
{
	switch (m) {
	case M_REQ: return field == 1 ? M_RS : M_NONE;
	case M_RS: return field == 1 ? M_RES : field == 2 ? M_SS : M_NONE;
	case M_RES: return field == 1 ? M_KV : field == 3 ? M_LEAF : M_NONE;
	case M_SS: return field == 1 ? M_SCOPE : field == 2 ? M_SPAN : M_NONE;
	case M_SCOPE: return field == 3 ? M_KV : M_NONE;
	case M_SPAN:
		switch (field) {
		case 9: return M_KV;
		case 11: return M_EVENT;
		case 13: return M_LINK;
		case 15: return M_LEAF;
		default: return M_NONE;
		}
	case M_EVENT: return field == 3 ? M_KV : M_NONE;
	case M_LINK: return field == 4 ? M_KV : M_NONE;
	case M_KV: return field == 2 ? M_ANY : M_NONE;
	case M_ANY: return field == 5 ? M_ARR : field == 6 ? M_KVL : M_NONE;
	case M_ARR: return field == 1 ? M_ANY : M_NONE;
	case M_KVL: return field == 1 ? M_KV : M_NONE;
	default: return M_NONE;
	}
}

/* Reads a varint at *pos, before end, as protobuf-c does; -1 when
 * malformed. */
static int
varint(const uint8_t *buf, size_t end, size_t *pos, uint64_t *v)
{
	const uint8_t *p = buf + *pos;

	if (!varint_get_lax(&p, buf + end, v))
		return -1;
	*pos = (size_t)(p - buf);
	return 0;
}

int
pipeline_prescan(const uint8_t *buf, size_t len, size_t max_depth)
{
	struct { enum msg m; size_t end; } stack[128];
	size_t depth = 0, pos = 0;
	uint64_t tag, v;

	if (max_depth >= ARRAY_LEN(stack))
		max_depth = ARRAY_LEN(stack) - 1;
	stack[0].m = M_REQ;
	stack[0].end = len;
	for (;;) {
		while (pos == stack[depth].end) {
			if (depth == 0)
				return 0;
			depth--;
		}
		if (varint(buf, stack[depth].end, &pos, &tag) != 0 ||
		    (tag >> 3) == 0)
			return -2;
		switch (tag & 7) {
		case 0:
			if (varint(buf, stack[depth].end, &pos, &v) != 0)
				return -2;
			break;
		case 1:
			if (stack[depth].end - pos < 8)
				return -2;
			pos += 8;
			break;
		case 5:
			if (stack[depth].end - pos < 4)
				return -2;
			pos += 4;
			break;
		case 2: {
			enum msg c = child(stack[depth].m, tag >> 3);

			if (varint(buf, stack[depth].end, &pos, &v) != 0 ||
			    v > stack[depth].end - pos)
				return -2;
			if (c == M_NONE) {
				pos += v;
				break;
			}
			if (depth + 1 > max_depth)
				return -1;
			depth++;
			stack[depth].m = c;
			stack[depth].end = pos + v;
			break;
		}
		default:
			return -2;
		}
	}
}
