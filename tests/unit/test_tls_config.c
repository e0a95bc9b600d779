/*
 * Unit tests for the TLS settings: common/tls.c (loopback check, option
 * errors that need no certificate) and libtrace's TLS setters and
 * TRACE_TLS_* variables. Handshakes are tested with real certificates in
 * tests/e2e/test_tls.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "trace_impl.h"

static void
test_loopback(void **state)
{
	(void)state;
	assert_true(tls_url_is_loopback("tcp://127.0.0.1:7070"));
	assert_true(tls_url_is_loopback("tls+tcp://127.1.2.3:7070"));
	assert_true(tls_url_is_loopback("tcp://localhost:7070"));
	assert_true(tls_url_is_loopback("tcp://[::1]:7070"));
	assert_true(tls_url_is_loopback("ipc:///tmp/x.sock"));
	assert_true(tls_url_is_loopback("127.0.0.1:4318"));
	assert_false(tls_url_is_loopback("tcp://0.0.0.0:7070"));
	assert_false(tls_url_is_loopback("tcp://:7070"));
	assert_false(tls_url_is_loopback("tcp://*:7070"));
	assert_false(tls_url_is_loopback("tcp://[::]:7070"));
	assert_false(tls_url_is_loopback("tcp://10.1.2.3:7070"));
	assert_false(tls_url_is_loopback("tcp://collector.example:7070"));
	assert_false(tls_url_is_loopback("0.0.0.0:4318"));
	assert_true(tls_url_is_tls("tls+tcp://127.0.0.1:1"));
	assert_false(tls_url_is_tls("tcp://127.0.0.1:1"));
}

/* Asserts that o fails with a cause containing want. */
static void
expect_cause(bool server, const tls_opts *o, const char *want)
{
	struct nng_tls_config *cfg = (struct nng_tls_config *)&cfg;
	char *cause = NULL;

	assert_int_equal(tls_config_new(&cfg, server, o,
	    "tls+tcp://127.0.0.1:1", &cause), -1);
	assert_null(cfg);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("cause '%s' lacks '%s'", cause, want);
	free(cause);
}

static void
test_config_errors(void **state)
{
	tls_opts o;

	(void)state;
	memset(&o, 0, sizeof o);
	expect_cause(false, &o, "CA file");
	expect_cause(true, &o, "--tls-cert");
	o.ca_file = "/nonexistent/ca.crt";
	expect_cause(false, &o, "/nonexistent/ca.crt: No such file");
	o.cert_file = "/nonexistent/c.crt";
	expect_cause(false, &o, "--tls-key");
	o.key_file = "/nonexistent/c.key";
	o.ca_file = NULL;
	o.verify_peer = true;
	expect_cause(true, &o, "--tls-ca");
	o.verify_peer = false;
	expect_cause(true, &o, "/nonexistent/c.crt: No such file");
}

static void
test_libtrace_settings(void **state)
{
	trace_config *cfg, *copy;

	(void)state;
	setenv("TRACE_TLS_CA_FILE", "/etc/ca.pem", 1);
	setenv("TRACE_TLS_CERT_FILE", "", 1);	/* empty means unset */
	setenv("TRACE_TLS_SERVER_NAME", "collector.internal", 1);
	assert_int_equal(trace_config_new(&cfg), TRACE_OK);
	unsetenv("TRACE_TLS_CA_FILE");
	unsetenv("TRACE_TLS_CERT_FILE");
	unsetenv("TRACE_TLS_SERVER_NAME");
	assert_string_equal(cfg->tls_ca_file, "/etc/ca.pem");
	assert_null(cfg->tls_cert_file);
	assert_string_equal(cfg->tls_server_name, "collector.internal");
	assert_int_equal(trace_config_set_tls_cert_file(cfg, "c.pem"),
	    TRACE_OK);
	assert_int_equal(trace_config_set_tls_key_file(cfg, "k.pem"),
	    TRACE_OK);
	assert_int_equal(trace_config_set_tls_server_name(cfg, NULL),
	    TRACE_OK);
	assert_null(cfg->tls_server_name);
	assert_int_equal(trace_config_set_tls_ca_file(cfg, ""), TRACE_EINVAL);
	assert_string_equal(cfg->tls_ca_file, "/etc/ca.pem");
	assert_int_equal(trace_config_set_tls_ca_file(NULL, "x"),
	    TRACE_EINVAL);
	copy = trace__config_copy(cfg);
	assert_non_null(copy);
	assert_string_equal(copy->tls_cert_file, "c.pem");
	assert_string_equal(copy->tls_key_file, "k.pem");
	assert_ptr_not_equal(copy->tls_ca_file, cfg->tls_ca_file);
	trace_config_free(copy);
	trace_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_libtrace_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
