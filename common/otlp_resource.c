/* otlp_resource.c - see otlp_resource.h. */
#include <string.h>

#include "otlp_resource.h"

const char *
otlp_resource_service_name(const Resource *res)
{
	if (res == NULL)
		return "unknown_service";
	for (size_t i = 0; i < res->n_attributes; i++) {
		const KeyValue *kv = res->attributes[i];

		if (kv->key != NULL && strcmp(kv->key, "service.name") == 0 &&
		    kv->value != NULL && kv->value->value_case ==
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE &&
		    kv->value->string_value[0] != '\0')
			return kv->value->string_value;
	}
	return "unknown_service";
}
