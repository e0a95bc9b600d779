/*
 * pipeline_impl.h - the pipeline room's private parts: span validation
 * (validate.c) and admission control (admission.c). pipeline.h is the
 * room's API.
 */
#ifndef COLLECTOR_PIPELINE_IMPL_H
#define COLLECTOR_PIPELINE_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp_types.h"
#include "pipeline/pipeline.h"

/* Why a span was rejected. */
typedef enum validate_reject {
	VALIDATE_OK,
	VALIDATE_BAD_ID,
	VALIDATE_BAD_TIME,
	VALIDATE_TOO_BIG,
	VALIDATE_BAD_UTF8,
} validate_reject;

/* validate_span checks sp against l at time now (unix ns). */
validate_reject validate_span(const pipeline_limits *l, const Span *sp,
    uint64_t now);
/* validate_origin: the resource and scope of ss can be stored. */
bool validate_origin(const pipeline_limits *l, const ResourceSpans *rs,
    const ScopeSpans *ss);
/* validate_reject_text is the message a client gets for r. */
const char *validate_reject_text(validate_reject r);

/* Admission control: the bytes of requests being processed stay under a
 * bound; a request over it is refused with RETRY_LATER before it costs
 * anything. Lock-free. */
typedef struct admission {
	size_t max_bytes;
	_Atomic int64_t bytes;
	_Atomic int64_t requests;
} admission;

void admission_init(admission *a, size_t max_bytes);
/* admission_enter admits a request of len bytes (true), or refuses it
 * when the backlog would pass the bound (false). */
bool admission_enter(admission *a, size_t len);
/* admission_leave: an admitted request of len bytes is done. */
void admission_leave(admission *a, size_t len);

#endif /* COLLECTOR_PIPELINE_IMPL_H */
