/*
 * tls.c - dialing the collector, with TLS for tls+tcp:// endpoints.
 *
 * libtrace's own small version of common/tls.c (libtrace does not link
 * common/). Each TLS endpoint gets its own client configuration so that
 * the server name defaults to that endpoint's host. NNG wants a
 * certificate and its key in one file (nng_tls_config_cert_key_file), so
 * separate files are read here and handed over with
 * nng_tls_config_own_cert. Errors are logged, never fatal: the endpoint
 * is skipped and its spans counted as dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_impl.h"

#include <nng/supplemental/tls/tls.h>

#define TLS_FILE_MAX (1u << 20)

/* Reads a PEM file into a NUL-terminated string (NULL: logged). */
static char *
read_pem(struct trace__tracer *tr, const char *what, const char *path)
{
	FILE *f;
	char *buf = NULL;
	size_t n = 0;
	int err = 0;

	if ((f = fopen(path, "rb")) == NULL) {
		trace__log(tr, 3, "TLS %s %s: %s", what, path,
		    strerror(errno));
		return NULL;
	}
	if ((buf = malloc(TLS_FILE_MAX + 1)) != NULL) {
		n = fread(buf, 1, TLS_FILE_MAX + 1, f);
		err = ferror(f) ? errno : 0;
	}
	fclose(f);
	if (buf == NULL || err != 0 || n == 0 || n > TLS_FILE_MAX) {
		trace__log(tr, 3, "TLS %s %s: %s", what, path,
		    buf == NULL ? "out of memory" : err ? strerror(err) :
		    n == 0 ? "empty file" : "too large");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (strstr(buf, "-----BEGIN ") == NULL) {
		trace__log(tr, 3, "TLS %s %s: not a PEM file", what, path);
		free(buf);
		return NULL;
	}
	return buf;
}

/* Builds the client configuration for url; NULL when unusable (logged). */
static nng_tls_config *
client_config(struct trace__tracer *tr, const struct trace_config *cfg,
    const char *url)
{
	nng_tls_config *tc = NULL;
	char *ca = NULL, *cert = NULL, *key = NULL;
	const char *name = cfg->tls_server_name;
	nng_url *u = NULL;
	int rv;

	if (cfg->tls_ca_file == NULL) {
		trace__log(tr, 3, "endpoint %s: TLS needs TRACE_TLS_CA_FILE "
		    "(the CA that signed the collector's certificate)", url);
		return NULL;
	}
	if ((cfg->tls_cert_file == NULL) != (cfg->tls_key_file == NULL)) {
		trace__log(tr, 3, "endpoint %s: TRACE_TLS_CERT_FILE and "
		    "TRACE_TLS_KEY_FILE go together", url);
		return NULL;
	}
	if ((ca = read_pem(tr, "CA file", cfg->tls_ca_file)) == NULL)
		goto fail;
	if (cfg->tls_cert_file != NULL &&
	    ((cert = read_pem(tr, "certificate",
	    cfg->tls_cert_file)) == NULL ||
	    (key = read_pem(tr, "key", cfg->tls_key_file)) == NULL))
		goto fail;
	if ((rv = nng_tls_config_alloc(&tc, NNG_TLS_MODE_CLIENT)) != 0) {
		trace__log(tr, 3, "endpoint %s: TLS: %s", url,
		    nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_tls_config_ca_chain(tc, ca, NULL)) != 0) {
		trace__log(tr, 3, "TLS CA file %s: no usable certificate (%s)",
		    cfg->tls_ca_file, nng_strerror(rv));
		goto fail;
	}
	if (cert != NULL &&
	    (rv = nng_tls_config_own_cert(tc, cert, key, NULL)) != 0) {
		trace__log(tr, 3, "TLS certificate %s with key %s: %s",
		    cfg->tls_cert_file, cfg->tls_key_file, nng_strerror(rv));
		goto fail;
	}
	if (name == NULL && nng_url_parse(&u, url) == 0)
		name = u->u_hostname;
	rv = nng_tls_config_auth_mode(tc, NNG_TLS_AUTH_MODE_REQUIRED);
	if (rv == 0 && name != NULL && *name != '\0')
		rv = nng_tls_config_server_name(tc, name);
	if (rv != 0) {
		trace__log(tr, 3, "endpoint %s: TLS: %s", url,
		    nng_strerror(rv));
		goto fail;
	}
	nng_url_free(u);
	free(ca);
	free(cert);
	free(key);
	return tc;
fail:
	nng_url_free(u);
	if (tc != NULL)
		nng_tls_config_free(tc);
	free(ca);
	free(cert);
	free(key);
	return NULL;
}

int
trace__tls_dial(struct trace__tracer *tr, const struct trace_config *cfg,
    nng_socket sock, const char *url)
{
	nng_tls_config *tc;
	nng_dialer d;
	int rv;

	if (strncmp(url, "tls+", 4) != 0)
		return nng_dial(sock, url, NULL, NNG_FLAG_NONBLOCK);
	if ((rv = nng_dialer_create(&d, sock, url)) != 0)
		return rv;
	if ((tc = client_config(tr, cfg, url)) == NULL) {
		nng_dialer_close(d);
		return -1;
	}
	/* The dialer holds its own reference to tc. */
	rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tc);
	nng_tls_config_free(tc);
	if (rv == 0)
		rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
	if (rv != 0)
		nng_dialer_close(d);
	return rv;
}
