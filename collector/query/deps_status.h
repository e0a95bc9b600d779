/*
 * deps_status.h - whether a stored span's status is ERROR, read from its
 * packed protobuf bytes without unpacking the span (deps.c reads up to a
 * million spans an answer).
 */
#ifndef COLLECTOR_QUERY_DEPS_STATUS_H
#define COLLECTOR_QUERY_DEPS_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* deps_span_is_error returns true when the Span message in packed holds a
 * Status whose code is STATUS_CODE_ERROR; false for anything else,
 * malformed bytes included. */
bool deps_span_is_error(const uint8_t *packed, size_t len);

#endif /* COLLECTOR_QUERY_DEPS_STATUS_H */
