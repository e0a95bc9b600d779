/*
 * Tests for configuration (config.c, resource.c): defaults, setters,
 * environment parsing with warnings, service.name precedence, and the
 * hook the propagators read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "trace/trace.h"
#include "trace_impl.h"
#include "libtrace_fixture.h"

static struct fake fx;
static char logged[8][200];
static int nlogged;

static void
logger(int level, const char *msg, void *arg)
{
	(void)arg;
	if (level <= 4 && nlogged < 8)
		snprintf(logged[nlogged++], sizeof logged[0], "%s", msg);
}

static void
test_defaults(void **state)
{
	trace_config *cfg;

	(void)state;
	assert_int_equal(trace_config_new(NULL), TRACE_EINVAL);
	assert_int_equal(trace_config_new(&cfg), TRACE_OK);
	assert_int_equal(cfg->queue_size, 2048);
	assert_int_equal(cfg->batch_size, 512);
	assert_true(cfg->delay_ms <= 1000);
	assert_int_equal(cfg->export_timeout_ms, 30000);
	assert_int_equal(cfg->sampler, TRACE__PB_ALWAYS_ON);
	assert_int_equal(cfg->limits.attr_count, 128);
	assert_int_equal(cfg->limits.event_count, 128);
	assert_int_equal(cfg->limits.link_count, 128);
	assert_int_equal(cfg->limits.attr_value_len, TRACE_LIMIT_NONE);
	assert_false(cfg->disabled);
	assert_null(cfg->endpoint);
	trace_config_free(cfg);
	trace_config_free(NULL);
}

static void
test_setters_validate(void **state)
{
	trace_config *cfg;

	(void)state;
	assert_int_equal(trace_config_new(&cfg), TRACE_OK);
	assert_int_equal(trace_config_set_service_name(NULL, "x"), TRACE_EINVAL);
	assert_int_equal(trace_config_set_service_name(cfg, ""), TRACE_EINVAL);
	assert_int_equal(trace_config_set_service_name(cfg, NULL), TRACE_EINVAL);
	assert_int_equal(trace_config_set_endpoint(cfg, NULL), TRACE_EINVAL);
	assert_int_equal(trace_config_set_sampler(cfg, "bogus", 1), TRACE_EINVAL);
	assert_int_equal(trace_config_set_sampler(cfg, "traceidratio", 1.5),
	    TRACE_EINVAL);
	assert_int_equal(trace_config_set_sampler(cfg, "traceidratio", -0.1),
	    TRACE_EINVAL);
	assert_int_equal(trace_config_set_queue_size(cfg, 0), TRACE_EINVAL);
	assert_int_equal(trace_config_set_batch_size(cfg, 0), TRACE_EINVAL);
	assert_int_equal(trace_config_set_schedule_delay_ms(cfg, 0), TRACE_EINVAL);
	assert_int_equal(trace_config_set_resource_attr(cfg, "", "v"), TRACE_EINVAL);
	assert_int_equal(trace_config_set_resource_attr(cfg, "k", NULL),
	    TRACE_EINVAL);
	assert_int_equal(trace_config_set_limit(cfg, (trace_limit)99, 1),
	    TRACE_EINVAL);
	assert_int_equal(trace_config_set_limit(cfg, TRACE_LIMIT_LINK_COUNT, 3),
	    TRACE_OK);
	assert_int_equal(cfg->limits.link_count, 3);
	assert_int_equal(trace_config_set_logger(NULL, logger, NULL),
	    TRACE_EINVAL);
	/* Nothing invalid changed the config. */
	assert_int_equal(cfg->queue_size, 2048);
	assert_int_equal(cfg->sampler, TRACE__PB_ALWAYS_ON);
	trace_config_free(cfg);
}

static void
test_env_parsing(void **state)
{
	trace_config *cfg;

	(void)state;
	setenv("OTEL_BSP_MAX_QUEUE_SIZE", "100", 1);
	setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "abc", 1);
	setenv("OTEL_BSP_SCHEDULE_DELAY", "-5", 1);
	setenv("OTEL_BSP_EXPORT_TIMEOUT", "250", 1);
	setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "64", 1);
	setenv("OTEL_SDK_DISABLED", "yes", 1);    /* only "true" is true */
	setenv("OTEL_SERVICE_NAME", "", 1);        /* empty means unset */
	setenv("OTEL_PROPAGATORS", "b3,tracecontext", 1);
	assert_int_equal(trace_config_new(&cfg), TRACE_OK);
	assert_int_equal(cfg->queue_size, 100);
	assert_int_equal(cfg->batch_size, 512);   /* invalid: ignored */
	assert_int_equal(cfg->delay_ms, TRACE_DEFAULT_DELAY_MS);
	assert_int_equal(cfg->export_timeout_ms, 250);
	assert_int_equal(cfg->limits.attr_value_len, 64);
	assert_false(cfg->disabled);
	assert_null(cfg->service_name);
	assert_string_equal(cfg->propagators, "b3,tracecontext");
	assert_int_equal(cfg->nwarn, 2);
	unsetenv("OTEL_BSP_MAX_QUEUE_SIZE");
	unsetenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE");
	unsetenv("OTEL_BSP_SCHEDULE_DELAY");
	unsetenv("OTEL_BSP_EXPORT_TIMEOUT");
	unsetenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT");
	unsetenv("OTEL_SDK_DISABLED");
	unsetenv("OTEL_SERVICE_NAME");

	/* The warnings reach the logger at init; the tracer uses the
	 * configured propagators; batch is capped at the queue size. */
	memset(&fx, 0, sizeof fx);
	fx_url(fx.url, sizeof fx.url);
	trace_config_set_endpoint(cfg, fx.url);
	trace_config_set_logger(cfg, logger, NULL);
	assert_int_equal(trace_init(cfg), TRACE_OK);
	trace_config_free(cfg);
	assert_int_equal(nlogged, 2);
	assert_non_null(strstr(logged[0], "OTEL_BSP_SCHEDULE_DELAY"));
	assert_non_null(strstr(logged[1], "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"));
	assert_string_equal(trace__propagators(), "b3,tracecontext");
	assert_int_equal(atomic_load(&trace__g_tracer)->batch_size, 100);
	trace_shutdown(0);
	assert_string_equal(trace__propagators(), "b3,tracecontext");
	unsetenv("OTEL_PROPAGATORS");
	assert_string_equal(trace__propagators(), "tracecontext,baggage");
}

static const char *
exported_service_name(void)
{
	Opentelemetry__Proto__Resource__V1__Resource *res;
	const fx_kv *kv;

	assert_true(fx.nreq > 0);
	res = fx.reqs[fx.nreq - 1]->resource_spans[0]->resource;
	kv = fx_find_kv(res->attributes, res->n_attributes, "service.name");
	assert_non_null(kv);
	return kv->value->string_value;
}

static void
run_with(trace_config *cfg)
{
	trace_config_set_endpoint(cfg, fx.url);
	assert_int_equal(trace_init(cfg), TRACE_OK);
	trace_config_free(cfg);
	trace_span_end(trace_span_start("svc"));
	assert_int_equal(trace_shutdown(5000), TRACE_OK);
}

static void
test_service_name_precedence(void **state)
{
	trace_config *cfg;

	(void)state;
	memset(&fx, 0, sizeof fx);
	fx_url(fx.url, sizeof fx.url);
	assert_int_equal(fx_start(&fx), 0);

	trace_config_new(&cfg);
	run_with(cfg);
	assert_string_equal(exported_service_name(),
	    "unknown_service:test_libtrace_config");

	setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs", 1);
	trace_config_new(&cfg);
	run_with(cfg);
	assert_string_equal(exported_service_name(), "from-attrs");

	setenv("OTEL_SERVICE_NAME", "from-env", 1);
	trace_config_new(&cfg);
	run_with(cfg);
	assert_string_equal(exported_service_name(), "from-env");

	trace_config_new(&cfg);
	trace_config_set_service_name(cfg, "from-code");
	run_with(cfg);
	assert_string_equal(exported_service_name(), "from-code");
	unsetenv("OTEL_SERVICE_NAME");
	unsetenv("OTEL_RESOURCE_ATTRIBUTES");
	fx_free(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_setters_validate),
		cmocka_unit_test(test_env_parsing),
		cmocka_unit_test(test_service_name_precedence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
