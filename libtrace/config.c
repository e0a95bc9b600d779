/*
 * config.c - trace_config: defaults, the OpenTelemetry environment
 * variables, setters.
 *
 * Parsing follows the OTel SDK rules: an empty variable is unset, a boolean
 * is true only for "true" (any case), enums are case-insensitive, and an
 * invalid value is ignored with a warning (kept here, logged by trace_init
 * once the logger is installed).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "propagation.h"
#include "trace_impl.h"

static const struct {
	const char *name;
	enum trace__sampler kind;
} samplers[] = {
	{"always_on", TRACE__ALWAYS_ON},
	{"always_off", TRACE__ALWAYS_OFF},
	{"traceidratio", TRACE__RATIO},
	{"parentbased_always_on", TRACE__PB_ALWAYS_ON},
	{"parentbased_always_off", TRACE__PB_ALWAYS_OFF},
	{"parentbased_traceidratio", TRACE__PB_RATIO},
};

static void warn(struct trace_config *, const char *, ...)
    TRACE_PRINTFLIKE(2, 3);

static void
warn(struct trace_config *cfg, const char *fmt, ...)
{
	va_list ap;

	if (cfg->nwarn >= TRACE__WARN_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(cfg->warn[cfg->nwarn++], TRACE__WARN_LEN, fmt, ap);
	va_end(ap);
}

/* Returns the variable's value, or NULL when unset or empty. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

int
trace__parse_sampler(const char *name)
{
	for (size_t i = 0; i < TRACE_ARRAY_LEN(samplers); i++)
		if (strcasecmp(name, samplers[i].name) == 0)
			return (int)samplers[i].kind;
	return -1;
}

/* Parses a non-negative integer up to max into *out. */
static int
parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static void
env_uint(struct trace_config *cfg, const char *name, uint64_t min,
    uint64_t max, uint64_t *out)
{
	const char *v = env(name);
	uint64_t n;

	if (v == NULL)
		return;
	if (parse_uint(v, max, &n) != 0 || n < min) {
		warn(cfg, "ignoring %s=%.40s: not an integer in [%llu, %llu]",
		    name, v, (unsigned long long)min, (unsigned long long)max);
		return;
	}
	*out = n;
}

/* Reads a limit: the span-specific variable wins over the general one. */
static void
env_limit(struct trace_config *cfg, const char *specific,
    const char *general, uint32_t *out)
{
	uint64_t v = *out;

	if (general != NULL)
		env_uint(cfg, general, 0, UINT32_MAX - 1, &v);
	env_uint(cfg, specific, 0, UINT32_MAX - 1, &v);
	*out = (uint32_t)v;
}

/* Percent-decodes and trims s[0..len) into a new string. */
static char *
decode_part(const char *s, size_t len)
{
	char *out, *o;

	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	o = out;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len &&
		    trace__hexdigit(s[i + 1]) >= 0 && trace__hexdigit(s[i + 2]) >= 0) {
			*o++ = (char)(trace__hexdigit(s[i + 1]) << 4 | trace__hexdigit(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static void
kv_free(struct trace__kv *kv)
{
	while (kv != NULL) {
		struct trace__kv *next = kv->next;

		free(kv->key);
		free(kv->value);
		free(kv);
		kv = next;
	}
}

/* Sets key in *list (replacing an existing key). Takes key and value. */
static int
kv_put(struct trace__kv **list, char *key, char *value)
{
	struct trace__kv *kv, **tail = list;

	for (kv = *list; kv != NULL; kv = kv->next) {
		if (strcmp(kv->key, key) == 0) {
			free(key);
			free(kv->value);
			kv->value = value;
			return TRACE_OK;
		}
		tail = &kv->next;
	}
	if ((kv = calloc(1, sizeof *kv)) == NULL) {
		free(key);
		free(value);
		return TRACE_ENOMEM;
	}
	kv->key = key;
	kv->value = value;
	*tail = kv;
	return TRACE_OK;
}

/* Parses OTEL_RESOURCE_ATTRIBUTES ("k1=v1,k2=v2", percent-encoded). */
static void
env_resource(struct trace_config *cfg)
{
	const char *v = env("OTEL_RESOURCE_ATTRIBUTES"), *p, *comma, *eq;

	for (p = v; p != NULL && *p != '\0'; p = comma ? comma + 1 : NULL) {
		char *key, *val;

		comma = strchr(p, ',');
		eq = memchr(p, '=', comma ? (size_t)(comma - p) : strlen(p));
		if (eq == NULL) {
			if (strspn(p, " \t") < (comma ? (size_t)(comma - p) :
			    strlen(p)))
				warn(cfg, "OTEL_RESOURCE_ATTRIBUTES: ignoring "
				    "an entry without '='");
			continue;
		}
		key = decode_part(p, (size_t)(eq - p));
		val = decode_part(eq + 1, comma ? (size_t)(comma - eq - 1) :
		    strlen(eq + 1));
		if (key == NULL || val == NULL || *key == '\0') {
			free(key);
			free(val);
			continue;
		}
		kv_put(&cfg->env_attrs, key, val);
	}
}

static void
env_sampler(struct trace_config *cfg)
{
	const char *name = env("OTEL_TRACES_SAMPLER"), *arg;
	char *end;
	double r;
	int k;

	if (name == NULL)
		return;
	if ((k = trace__parse_sampler(name)) < 0) {
		warn(cfg, "ignoring OTEL_TRACES_SAMPLER=%.40s: unknown", name);
		return;
	}
	cfg->sampler = (enum trace__sampler)k;
	if ((arg = env("OTEL_TRACES_SAMPLER_ARG")) == NULL)
		return;
	if (k != TRACE__RATIO && k != TRACE__PB_RATIO)
		return;
	r = strtod(arg, &end);
	if (*end != '\0' || !(r >= 0.0 && r <= 1.0))
		warn(cfg, "ignoring OTEL_TRACES_SAMPLER_ARG=%.40s: not in "
		    "[0, 1]", arg);
	else
		cfg->ratio = r;
}

static void
config_defaults(struct trace_config *cfg)
{
	cfg->sampler = TRACE__PB_ALWAYS_ON;
	cfg->ratio = 1.0;
	cfg->queue_size = TRACE_DEFAULT_QUEUE;
	cfg->batch_size = TRACE_DEFAULT_BATCH;
	cfg->span_bytes = TRACE_DEFAULT_SPAN_BYTES;
	cfg->delay_ms = TRACE_DEFAULT_DELAY_MS;
	cfg->export_timeout_ms = TRACE_DEFAULT_EXPORT_TIMEOUT_MS;
	cfg->exit_flush_ms = TRACE_DEFAULT_EXIT_FLUSH_MS;
	cfg->limits.attr_count = TRACE_DEFAULT_COUNT_LIMIT;
	cfg->limits.attr_value_len = TRACE_NO_LIMIT;
	cfg->limits.event_count = TRACE_DEFAULT_COUNT_LIMIT;
	cfg->limits.link_count = TRACE_DEFAULT_COUNT_LIMIT;
	cfg->limits.event_attr_count = TRACE_DEFAULT_COUNT_LIMIT;
	cfg->limits.link_attr_count = TRACE_DEFAULT_COUNT_LIMIT;
}

static int
config_env(struct trace_config *cfg)
{
	const char *v;
	uint64_t n;

	if ((v = env("OTEL_SDK_DISABLED")) != NULL)
		cfg->disabled = strcasecmp(v, "true") == 0;
	if ((v = env("OTEL_SERVICE_NAME")) != NULL &&
	    (cfg->service_name = strdup(v)) == NULL)
		return TRACE_ENOMEM;
	if ((v = env("TRACE_ENDPOINT")) != NULL &&
	    (cfg->endpoint = strdup(v)) == NULL)
		return TRACE_ENOMEM;
	if ((v = env("OTEL_PROPAGATORS")) != NULL &&
	    (cfg->propagators = strdup(v)) == NULL)
		return TRACE_ENOMEM;
	if (((v = env("TRACE_TLS_CA_FILE")) != NULL &&
	    (cfg->tls_ca_file = strdup(v)) == NULL) ||
	    ((v = env("TRACE_TLS_CERT_FILE")) != NULL &&
	    (cfg->tls_cert_file = strdup(v)) == NULL) ||
	    ((v = env("TRACE_TLS_KEY_FILE")) != NULL &&
	    (cfg->tls_key_file = strdup(v)) == NULL) ||
	    ((v = env("TRACE_TLS_SERVER_NAME")) != NULL &&
	    (cfg->tls_server_name = strdup(v)) == NULL))
		return TRACE_ENOMEM;
	env_resource(cfg);
	env_sampler(cfg);
	n = cfg->delay_ms;
	env_uint(cfg, "OTEL_BSP_SCHEDULE_DELAY", 1, 3600000, &n);
	cfg->delay_ms = (uint32_t)n;
	n = cfg->export_timeout_ms;
	env_uint(cfg, "OTEL_BSP_EXPORT_TIMEOUT", 0, 3600000, &n);
	cfg->export_timeout_ms = (uint32_t)n;
	n = cfg->queue_size;
	env_uint(cfg, "OTEL_BSP_MAX_QUEUE_SIZE", 1, TRACE_MAX_QUEUE, &n);
	cfg->queue_size = n;
	n = cfg->batch_size;
	env_uint(cfg, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 1, TRACE_MAX_QUEUE, &n);
	cfg->batch_size = n;
	n = cfg->span_bytes;
	env_uint(cfg, "TRACE_SPAN_BUFFER_BYTES", TRACE_MIN_SPAN_BYTES,
	    TRACE_MAX_SPAN_BYTES, &n);
	cfg->span_bytes = n;
	n = cfg->exit_flush_ms;
	env_uint(cfg, "TRACE_EXIT_FLUSH_MS", 0, 3600000, &n);
	cfg->exit_flush_ms = (uint32_t)n;
	env_limit(cfg, "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
	    "OTEL_ATTRIBUTE_COUNT_LIMIT", &cfg->limits.attr_count);
	env_limit(cfg, "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
	    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", &cfg->limits.attr_value_len);
	env_limit(cfg, "OTEL_SPAN_EVENT_COUNT_LIMIT", NULL,
	    &cfg->limits.event_count);
	env_limit(cfg, "OTEL_SPAN_LINK_COUNT_LIMIT", NULL,
	    &cfg->limits.link_count);
	env_limit(cfg, "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
	    "OTEL_ATTRIBUTE_COUNT_LIMIT", &cfg->limits.event_attr_count);
	env_limit(cfg, "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
	    "OTEL_ATTRIBUTE_COUNT_LIMIT", &cfg->limits.link_attr_count);
	return TRACE_OK;
}

int
trace_config_new(trace_config **out)
{
	struct trace_config *cfg;

	if (out == NULL)
		return TRACE_EINVAL;
	*out = NULL;
	if ((cfg = calloc(1, sizeof *cfg)) == NULL)
		return TRACE_ENOMEM;
	config_defaults(cfg);
	if (config_env(cfg) != TRACE_OK) {
		trace_config_free(cfg);
		return TRACE_ENOMEM;
	}
	*out = cfg;
	return TRACE_OK;
}

void
trace_config_free(trace_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->service_name);
	free(cfg->endpoint);
	free(cfg->propagators);
	free(cfg->tls_ca_file);
	free(cfg->tls_cert_file);
	free(cfg->tls_key_file);
	free(cfg->tls_server_name);
	kv_free(cfg->env_attrs);
	kv_free(cfg->code_attrs);
	free(cfg);
}

/* Replaces *slot with a copy of s. */
static int
set_str(char **slot, const char *s)
{
	char *copy;

	if (s == NULL || *s == '\0')
		return TRACE_EINVAL;
	if ((copy = strdup(s)) == NULL)
		return TRACE_ENOMEM;
	free(*slot);
	*slot = copy;
	return TRACE_OK;
}

static int
kv_copy(struct trace__kv **dst, const struct trace__kv *src)
{
	for (; src != NULL; src = src->next) {
		char *k = strdup(src->key), *v = strdup(src->value);

		if (k == NULL || v == NULL) {
			free(k);
			free(v);
			return TRACE_ENOMEM;
		}
		if (kv_put(dst, k, v) != TRACE_OK)
			return TRACE_ENOMEM;
	}
	return TRACE_OK;
}

/* Sets *slot to a copy of s (NULL stays NULL). */
static int
dup_opt(char **slot, const char *s)
{
	if (s != NULL && (*slot = strdup(s)) == NULL)
		return TRACE_ENOMEM;
	return TRACE_OK;
}

struct trace_config *
trace__config_copy(const struct trace_config *src)
{
	struct trace_config *c;

	if ((c = malloc(sizeof *c)) == NULL)
		return NULL;
	*c = *src;
	c->service_name = c->endpoint = c->propagators = NULL;
	c->tls_ca_file = c->tls_cert_file = c->tls_key_file = NULL;
	c->tls_server_name = NULL;
	c->env_attrs = c->code_attrs = NULL;
	if (dup_opt(&c->tls_ca_file, src->tls_ca_file) != TRACE_OK ||
	    dup_opt(&c->tls_cert_file, src->tls_cert_file) != TRACE_OK ||
	    dup_opt(&c->tls_key_file, src->tls_key_file) != TRACE_OK ||
	    dup_opt(&c->tls_server_name, src->tls_server_name) != TRACE_OK ||
	    (src->service_name != NULL &&
	    (c->service_name = strdup(src->service_name)) == NULL) ||
	    (src->endpoint != NULL &&
	    (c->endpoint = strdup(src->endpoint)) == NULL) ||
	    (src->propagators != NULL &&
	    (c->propagators = strdup(src->propagators)) == NULL) ||
	    kv_copy(&c->env_attrs, src->env_attrs) != TRACE_OK ||
	    kv_copy(&c->code_attrs, src->code_attrs) != TRACE_OK) {
		trace_config_free(c);
		return NULL;
	}
	return c;
}

int
trace_config_set_service_name(trace_config *cfg, const char *name)
{
	return cfg == NULL ? TRACE_EINVAL : set_str(&cfg->service_name, name);
}

int
trace_config_set_endpoint(trace_config *cfg, const char *endpoint)
{
	return cfg == NULL ? TRACE_EINVAL : set_str(&cfg->endpoint, endpoint);
}

/* Replaces *slot with a copy of s, or clears it when s is NULL. */
static int
set_opt(char **slot, const char *s)
{
	if (s == NULL) {
		free(*slot);
		*slot = NULL;
		return TRACE_OK;
	}
	return set_str(slot, s);
}

int
trace_config_set_tls_ca_file(trace_config *cfg, const char *path)
{
	return cfg == NULL ? TRACE_EINVAL : set_opt(&cfg->tls_ca_file, path);
}

int
trace_config_set_tls_cert_file(trace_config *cfg, const char *path)
{
	return cfg == NULL ? TRACE_EINVAL : set_opt(&cfg->tls_cert_file, path);
}

int
trace_config_set_tls_key_file(trace_config *cfg, const char *path)
{
	return cfg == NULL ? TRACE_EINVAL : set_opt(&cfg->tls_key_file, path);
}

int
trace_config_set_tls_server_name(trace_config *cfg, const char *name)
{
	return cfg == NULL ? TRACE_EINVAL :
	    set_opt(&cfg->tls_server_name, name);
}

int
trace_config_set_sampler(trace_config *cfg, const char *sampler, double ratio)
{
	int k;

	if (cfg == NULL || sampler == NULL ||
	    (k = trace__parse_sampler(sampler)) < 0 ||
	    !(ratio >= 0.0 && ratio <= 1.0))
		return TRACE_EINVAL;
	cfg->sampler = (enum trace__sampler)k;
	cfg->ratio = ratio;
	return TRACE_OK;
}

int
trace_config_set_resource_attr(trace_config *cfg, const char *key,
    const char *value)
{
	char *k, *v;

	if (cfg == NULL || key == NULL || *key == '\0' || value == NULL)
		return TRACE_EINVAL;
	k = strdup(key);
	v = strdup(value);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		return TRACE_ENOMEM;
	}
	return kv_put(&cfg->code_attrs, k, v);
}

int
trace_config_set_queue_size(trace_config *cfg, size_t spans)
{
	if (cfg == NULL || spans == 0 || spans > TRACE_MAX_QUEUE)
		return TRACE_EINVAL;
	cfg->queue_size = spans;
	return TRACE_OK;
}

int
trace_config_set_batch_size(trace_config *cfg, size_t spans)
{
	if (cfg == NULL || spans == 0 || spans > TRACE_MAX_QUEUE)
		return TRACE_EINVAL;
	cfg->batch_size = spans;
	return TRACE_OK;
}

int
trace_config_set_schedule_delay_ms(trace_config *cfg, uint32_t ms)
{
	if (cfg == NULL || ms == 0)
		return TRACE_EINVAL;
	cfg->delay_ms = ms;
	return TRACE_OK;
}

int
trace_config_set_export_timeout_ms(trace_config *cfg, uint32_t ms)
{
	if (cfg == NULL)
		return TRACE_EINVAL;
	cfg->export_timeout_ms = ms;
	return TRACE_OK;
}

int
trace_config_set_span_buffer_bytes(trace_config *cfg, size_t bytes)
{
	if (cfg == NULL || bytes < TRACE_MIN_SPAN_BYTES ||
	    bytes > TRACE_MAX_SPAN_BYTES)
		return TRACE_EINVAL;
	cfg->span_bytes = bytes;
	return TRACE_OK;
}

int
trace_config_set_limit(trace_config *cfg, trace_limit which, uint32_t value)
{
	uint32_t *slot;

	if (cfg == NULL)
		return TRACE_EINVAL;
	switch (which) {
	case TRACE_LIMIT_ATTR_COUNT:
		slot = &cfg->limits.attr_count;
		break;
	case TRACE_LIMIT_ATTR_VALUE_LEN:
		slot = &cfg->limits.attr_value_len;
		break;
	case TRACE_LIMIT_EVENT_COUNT:
		slot = &cfg->limits.event_count;
		break;
	case TRACE_LIMIT_LINK_COUNT:
		slot = &cfg->limits.link_count;
		break;
	case TRACE_LIMIT_EVENT_ATTR_COUNT:
		slot = &cfg->limits.event_attr_count;
		break;
	case TRACE_LIMIT_LINK_ATTR_COUNT:
		slot = &cfg->limits.link_attr_count;
		break;
	default:
		return TRACE_EINVAL;
	}
	*slot = value;
	return TRACE_OK;
}

int
trace_config_set_disabled(trace_config *cfg, bool disabled)
{
	if (cfg == NULL)
		return TRACE_EINVAL;
	cfg->disabled = disabled;
	return TRACE_OK;
}

int
trace_config_set_logger(trace_config *cfg, trace_log_fn fn, void *arg)
{
	if (cfg == NULL)
		return TRACE_EINVAL;
	cfg->log_fn = fn;
	cfg->log_arg = arg;
	return TRACE_OK;
}
