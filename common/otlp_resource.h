/*
 * otlp_resource.h - what the collector reads from an OTLP Resource.
 */
#ifndef COMMON_OTLP_RESOURCE_H
#define COMMON_OTLP_RESOURCE_H

#include "otlp_types.h"

/* otlp_resource_service_name returns res's service.name (a non-empty
 * string value), or "unknown_service"; res may be NULL. */
const char *otlp_resource_service_name(const Resource *res);

#endif /* COMMON_OTLP_RESOURCE_H */
