/*
 * resource.c - the OTLP Resource and InstrumentationScope that head every
 * batch, encoded once at trace_init.
 *
 * Precedence for each key (the first found wins): attributes set in code
 * (trace_config_set_resource_attr), then service.name from
 * trace_config_set_service_name or OTEL_SERVICE_NAME, then
 * OTEL_RESOURCE_ATTRIBUTES, then the defaults (host.name,
 * service.name = unknown_service:<program>). telemetry.sdk.* and
 * process.pid describe libtrace and the process and are always ours.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace_impl.h"

#define SDK_NAME "libtrace"
#define SDK_LANGUAGE "c"

struct seen {
	const char *keys[256];
	size_t n;
};

static bool
taken(struct seen *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->keys[i], key) == 0)
			return true;
	if (s->n < TRACE_ARRAY_LEN(s->keys))
		s->keys[s->n++] = key;
	return false;
}

static void
emit(struct trace__buf *b, struct seen *s, const char *key, const char *v)
{
	if (!taken(s, key))
		trace__pb_kv_str(b, 1, key, v);
}

static void
emit_list(struct trace__buf *b, struct seen *s, const struct trace__kv *kv)
{
	for (; kv != NULL; kv = kv->next)
		emit(b, s, kv->key, kv->value);
}

static int
encode_resource(struct trace__tracer *tr, const struct trace_config *cfg)
{
	struct trace__buf b = {0};
	struct seen s = {.n = 0};
	char host[256], unknown[300];

	taken(&s, "telemetry.sdk.name");
	taken(&s, "telemetry.sdk.language");
	taken(&s, "telemetry.sdk.version");
	taken(&s, "process.pid");
	trace__pb_kv_str(&b, 1, "telemetry.sdk.name", SDK_NAME);
	trace__pb_kv_str(&b, 1, "telemetry.sdk.language", SDK_LANGUAGE);
	trace__pb_kv_str(&b, 1, "telemetry.sdk.version", TRACE_VERSION_STRING);
	trace__pb_kv_int(&b, 1, "process.pid", (int64_t)getpid());
	emit_list(&b, &s, cfg->code_attrs);
	if (cfg->service_name != NULL)
		emit(&b, &s, "service.name", cfg->service_name);
	emit_list(&b, &s, cfg->env_attrs);
	snprintf(unknown, sizeof unknown, "unknown_service:%s",
	    program_invocation_short_name);
	emit(&b, &s, "service.name", unknown);
	if (gethostname(host, sizeof host) == 0) {
		host[sizeof host - 1] = '\0';
		emit(&b, &s, "host.name", host);
	}
	if (b.failed) {
		trace__buf_free(&b);
		return TRACE_ENOMEM;
	}
	tr->resource_pb = b.p;
	tr->resource_len = b.len;
	return TRACE_OK;
}

static int
encode_scope(struct trace__tracer *tr)
{
	struct trace__buf b = {0};

	trace__pb_bytes(&b, 1, SDK_NAME, strlen(SDK_NAME));
	trace__pb_bytes(&b, 2, TRACE_VERSION_STRING,
	    strlen(TRACE_VERSION_STRING));
	if (b.failed) {
		trace__buf_free(&b);
		return TRACE_ENOMEM;
	}
	tr->scope_pb = b.p;
	tr->scope_len = b.len;
	return TRACE_OK;
}

int
trace__resource_encode(struct trace__tracer *tr,
    const struct trace_config *cfg)
{
	const struct trace__kv *kv;
	const char *name = cfg->service_name;

	for (kv = cfg->code_attrs; name == NULL && kv != NULL; kv = kv->next)
		if (strcmp(kv->key, "service.name") == 0)
			name = kv->value;
	for (kv = cfg->env_attrs; name == NULL && kv != NULL; kv = kv->next)
		if (strcmp(kv->key, "service.name") == 0)
			name = kv->value;
	if (name != NULL && (tr->service_name = strdup(name)) == NULL)
		return TRACE_ENOMEM;
	if (encode_resource(tr, cfg) != TRACE_OK)
		return TRACE_ENOMEM;
	return encode_scope(tr);
}
