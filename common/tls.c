/*
 * tls.c - TLS for the NNG transports (tls+tcp://), shared by tracecollector
 * and tracecli: building an nng_tls_config from PEM files, and dialing or
 * listening with it. (libtrace cannot link common/; it has its own small
 * version in libtrace/tls.c.)
 *
 * Files are read here rather than by NNG so that errors name the file and
 * the reason ("No such file or directory", "not a PEM certificate").
 * NNG's nng_tls_config_cert_key_file wants the certificate and the key in
 * one file; separate files go through nng_tls_config_own_cert.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "common.h"

#define TLS_FILE_MAX (1u << 20) /* PEM files are a few KiB */

bool
tls_url_is_tls(const char *url)
{
	return url != NULL && strncmp(url, "tls+", 4) == 0;
}

bool
tls_url_is_loopback(const char *url)
{
	const char *host = url, *sep, *end;
	char buf[64];
	struct in_addr a4;
	struct in6_addr a6;
	size_t len;

	if ((sep = strstr(url, "://")) != NULL) {
		if (strncmp(url, "ipc:", 4) == 0 ||
		    strncmp(url, "inproc:", 7) == 0 ||
		    strncmp(url, "abstract:", 9) == 0)
			return true;
		host = sep + 3;
	}
	if (*host == '[') {		/* [v6]:port */
		host++;
		if ((end = strchr(host, ']')) == NULL)
			return false;
	} else if ((end = strrchr(host, ':')) == NULL) {
		end = host + strlen(host);
	}
	len = (size_t)(end - host);
	if (len == 0 || len >= sizeof buf)
		return false;		/* "tcp://:7070" binds every address */
	memcpy(buf, host, len);
	buf[len] = '\0';
	if (strcmp(buf, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, buf, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, buf, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;			/* a name, "*", ...: assume exposed */
}

char *
tls_read_pem(const char *what, const char *path, char **cause)
{
	FILE *f;
	char *buf;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL) {
		xasprintf(cause, "%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(TLS_FILE_MAX + 1);
	n = fread(buf, 1, TLS_FILE_MAX + 1, f);
	if (ferror(f) || n > TLS_FILE_MAX || n == 0) {
		xasprintf(cause, "%s %s: %s", what, path, ferror(f) ?
		    strerror(errno) : n == 0 ? "empty file" : "too large");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (strstr(buf, "-----BEGIN ") == NULL) {
		xasprintf(cause, "%s %s: not a PEM file", what, path);
		free(buf);
		return NULL;
	}
	return buf;
}

int
tls_config_new(struct nng_tls_config **out, bool server, const tls_opts *o,
    const char *url, char **cause)
{
	nng_tls_config *cfg = NULL;
	char *ca = NULL, *cert = NULL, *key = NULL;
	nng_url *u = NULL;
	int rv;

	*out = NULL;
	if (server && (o->cert_file == NULL || o->key_file == NULL)) {
		xasprintf(cause, "a tls+tcp:// listener needs a certificate "
		    "and a key (--tls-cert, --tls-key)");
		return -1;
	}
	if (!server && o->ca_file == NULL && !o->no_verify) {
		xasprintf(cause, "tls+tcp:// needs a CA file to verify the "
		    "server (--tls-ca)");
		return -1;
	}
	if (server && o->verify_peer && o->ca_file == NULL) {
		xasprintf(cause, "--tls-verify-clients needs --tls-ca");
		return -1;
	}
	if ((o->cert_file == NULL) != (o->key_file == NULL)) {
		xasprintf(cause, "a certificate needs its key and a key its "
		    "certificate (--tls-cert with --tls-key)");
		return -1;
	}
	if (o->ca_file != NULL &&
	    (ca = tls_read_pem("CA file", o->ca_file, cause)) == NULL)
		goto fail;
	if (o->cert_file != NULL &&
	    ((cert = tls_read_pem("certificate", o->cert_file, cause)) == NULL ||
	    (key = tls_read_pem("key", o->key_file, cause)) == NULL))
		goto fail;
	if ((rv = nng_tls_config_alloc(&cfg, server ? NNG_TLS_MODE_SERVER :
	    NNG_TLS_MODE_CLIENT)) != 0) {
		xasprintf(cause, "TLS: %s", nng_strerror(rv));
		goto fail;
	}
	if (ca != NULL && (rv = nng_tls_config_ca_chain(cfg, ca, NULL)) != 0) {
		xasprintf(cause, "CA file %s: no usable certificate (%s)",
		    o->ca_file, nng_strerror(rv));
		goto fail;
	}
	if (cert != NULL &&
	    (rv = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0) {
		xasprintf(cause, "certificate %s with key %s: %s (not a "
		    "matching certificate and unencrypted key?)",
		    o->cert_file, o->key_file, nng_strerror(rv));
		goto fail;
	}
	/* A server checks clients only when asked (mutual TLS); a client
	 * always checks the server, by the name it dialed unless told. */
	rv = nng_tls_config_auth_mode(cfg, server ? (o->verify_peer ?
	    NNG_TLS_AUTH_MODE_REQUIRED : NNG_TLS_AUTH_MODE_NONE) :
	    (o->no_verify ? NNG_TLS_AUTH_MODE_NONE :
	    NNG_TLS_AUTH_MODE_REQUIRED));
	if (rv == 0 && !server && !o->no_verify) {
		const char *name = o->server_name;

		if (name == NULL && url != NULL && nng_url_parse(&u, url) == 0)
			name = u->u_hostname;
		if (name != NULL && *name != '\0')
			rv = nng_tls_config_server_name(cfg, name);
	}
	if (rv != 0) {
		xasprintf(cause, "TLS: %s", nng_strerror(rv));
		goto fail;
	}
	nng_url_free(u);
	free(ca);
	free(cert);
	free(key);
	*out = cfg;
	return 0;
fail:
	nng_url_free(u);
	if (cfg != NULL)
		nng_tls_config_free(cfg);
	free(ca);
	free(cert);
	free(key);
	return -1;
}

int
tls_dial(nng_socket s, const char *url, struct nng_tls_config *cfg,
    int flags)
{
	nng_dialer d;
	int rv;

	if (cfg == NULL || !tls_url_is_tls(url))
		return nng_dial(s, url, NULL, flags);
	if ((rv = nng_dialer_create(&d, s, url)) != 0)
		return rv;
	if ((rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg)) != 0 ||
	    (rv = nng_dialer_start(d, flags)) != 0)
		nng_dialer_close(d);
	return rv;
}

int
tls_listen(nng_socket s, const char *url, struct nng_tls_config *cfg,
    nng_listener *lp)
{
	nng_listener l;
	int rv;

	if (cfg == NULL || !tls_url_is_tls(url))
		return nng_listen(s, url, lp, 0);
	if ((rv = nng_listener_create(&l, s, url)) != 0)
		return rv;
	if ((rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg)) != 0 ||
	    (rv = nng_listener_start(l, 0)) != 0) {
		nng_listener_close(l);
		return rv;
	}
	if (lp != NULL)
		*lp = l;
	return 0;
}
