/* grpc_tls.c - GnuTLS sessions for the OTLP/gRPC receiver (grpc_tls.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "common.h"
#include "net/grpc_tls.h"

struct grpc_tls {
	gnutls_certificate_credentials_t cred;
	bool verify_clients;
};

struct grpc_tls_session {
	gnutls_session_t s;
	bool verify_clients;
};

/* Loads one PEM file as a gnutls datum (freed by the caller). */
static int
load_pem(const char *what, const char *path, gnutls_datum_t *d, char **cause)
{
	char *pem = tls_read_pem(what, path, cause);

	if (pem == NULL)
		return -1;
	d->data = (unsigned char *)pem;
	d->size = (unsigned)strlen(pem);
	return 0;
}

static int
creds_load(grpc_tls *t, const tls_opts *o, char **cause)
{
	gnutls_datum_t cert = { 0 }, key = { 0 }, ca = { 0 };
	int rv = -1, g;

	if (load_pem("certificate", o->cert_file, &cert, cause) != 0 ||
	    load_pem("key", o->key_file, &key, cause) != 0 ||
	    (o->ca_file != NULL &&
	    load_pem("CA file", o->ca_file, &ca, cause) != 0))
		goto out;
	if ((g = gnutls_certificate_set_x509_key_mem(t->cred, &cert, &key,
	    GNUTLS_X509_FMT_PEM)) < 0) {
		xasprintf(cause, "otlp-grpc: certificate %s / key %s: %s",
		    o->cert_file, o->key_file, gnutls_strerror(g));
		goto out;
	}
	if (o->ca_file != NULL && (g = gnutls_certificate_set_x509_trust_mem(
	    t->cred, &ca, GNUTLS_X509_FMT_PEM)) <= 0) {
		xasprintf(cause, "otlp-grpc: CA file %s: %s", o->ca_file,
		    g < 0 ? gnutls_strerror(g) : "no certificate in it");
		goto out;
	}
	rv = 0;
out:
	free(cert.data);
	free(key.data);
	free(ca.data);
	return rv;
}

int
grpc_tls_new(grpc_tls **out, const tls_opts *o, char **cause)
{
	grpc_tls *t;

	if (o == NULL || o->cert_file == NULL || o->key_file == NULL) {
		xasprintf(cause, "otlp-grpc: an https:// listener needs a "
		    "certificate and a key (--tls-cert, --tls-key)");
		return -1;
	}
	if (o->verify_peer && o->ca_file == NULL) {
		xasprintf(cause, "--tls-verify-clients needs --tls-ca");
		return -1;
	}
	t = xcalloc(1, sizeof *t);
	t->verify_clients = o->verify_peer;
	if (gnutls_certificate_allocate_credentials(&t->cred) < 0) {
		xasprintf(cause, "otlp-grpc: cannot allocate TLS credentials");
		free(t);
		return -1;
	}
	if (creds_load(t, o, cause) != 0) {
		grpc_tls_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void
grpc_tls_free(grpc_tls *t)
{
	if (t == NULL)
		return;
	gnutls_certificate_free_credentials(t->cred);
	free(t);
}

grpc_tls_session *
grpc_tls_accept(const grpc_tls *t, int fd)
{
	grpc_tls_session *s = xcalloc(1, sizeof *s);
	gnutls_datum_t h2 = { (unsigned char *)(uintptr_t)"h2", 2 };

	if (gnutls_init(&s->s, GNUTLS_SERVER | GNUTLS_NONBLOCK) < 0) {
		free(s);
		return NULL;
	}
	s->verify_clients = t->verify_clients;
	if (gnutls_set_default_priority(s->s) < 0 ||
	    gnutls_credentials_set(s->s, GNUTLS_CRD_CERTIFICATE, t->cred) < 0 ||
	    gnutls_alpn_set_protocols(s->s, &h2, 1, GNUTLS_ALPN_MANDATORY) <
	    0) {
		grpc_tls_close(s);
		return NULL;
	}
	if (t->verify_clients)
		gnutls_certificate_server_set_request(s->s,
		    GNUTLS_CERT_REQUIRE);
	gnutls_transport_set_int(s->s, fd);
	gnutls_handshake_set_timeout(s->s, 0);
	return s;
}

int
grpc_tls_handshake(grpc_tls_session *s, const char **why)
{
	gnutls_datum_t proto;
	unsigned status = 0;
	int rv = gnutls_handshake(s->s);

	if (rv == GNUTLS_E_AGAIN || rv == GNUTLS_E_INTERRUPTED)
		return 1;
	if (rv < 0) {
		*why = gnutls_strerror(rv);
		return -1;
	}
	if (gnutls_alpn_get_selected_protocol(s->s, &proto) < 0 ||
	    proto.size != 2 || memcmp(proto.data, "h2", 2) != 0) {
		*why = "the client did not agree to ALPN h2";
		return -1;
	}
	if (s->verify_clients &&
	    (gnutls_certificate_verify_peers2(s->s, &status) < 0 ||
	    status != 0)) {
		*why = "client certificate not signed by --tls-ca";
		return -1;
	}
	return 0;
}

ssize_t
grpc_tls_recv(grpc_tls_session *s, void *buf, size_t len)
{
	ssize_t n = gnutls_record_recv(s->s, buf, len);

	if (n >= 0)
		return n;
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
		errno = EAGAIN;
		return -1;
	}
	/* A peer that closes without close_notify has still ended. */
	return n == GNUTLS_E_PREMATURE_TERMINATION ? 0 : -2;
}

ssize_t
grpc_tls_send(grpc_tls_session *s, const void *buf, size_t len)
{
	ssize_t n = gnutls_record_send(s->s, buf, len);

	if (n >= 0)
		return n;
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
		errno = EAGAIN;
		return -1;
	}
	return -2;
}

bool
grpc_tls_wants_write(const grpc_tls_session *s)
{
	return gnutls_record_get_direction(s->s) == 1;
}

void
grpc_tls_close(grpc_tls_session *s)
{
	if (s == NULL)
		return;
	gnutls_bye(s->s, GNUTLS_SHUT_WR);
	gnutls_deinit(s->s);
	free(s);
}
