/*
 * otlp_types.h - short names for the protobuf-c OTLP types, so that code
 * walking OTLP messages stays readable. Include it instead of repeating the
 * typedefs.
 */
#ifndef COMMON_OTLP_TYPES_H
#define COMMON_OTLP_TYPES_H

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__ArrayValue ArrayValue;
typedef Opentelemetry__Proto__Common__V1__KeyValueList KeyValueList;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope Scope;
typedef Opentelemetry__Proto__Common__V1__EntityRef EntityRef;
typedef Opentelemetry__Proto__Resource__V1__Resource Resource;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Trace__V1__Span__Event Event;
typedef Opentelemetry__Proto__Trace__V1__Span__Link Link;
typedef Opentelemetry__Proto__Trace__V1__Status Status;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest
    ExportRequest;

/* The service of a resource without a service.name. */
#define OTLP_UNKNOWN_SERVICE "unknown_service"

/* otlp_service_name returns the string value of the resource's
 * service.name attribute, or NULL when it has none or it is empty. */
static inline const char *
otlp_service_name(const Resource *r)
{
	for (size_t i = 0; r != NULL && i < r->n_attributes; i++) {
		const KeyValue *kv = r->attributes[i];

		if (kv->key != NULL && kv->key[0] == 's' &&
		    __builtin_strcmp(kv->key, "service.name") == 0 &&
		    kv->value != NULL && kv->value->value_case ==
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE &&
		    kv->value->string_value[0] != '\0')
			return kv->value->string_value;
	}
	return NULL;
}

#endif /* COMMON_OTLP_TYPES_H */
