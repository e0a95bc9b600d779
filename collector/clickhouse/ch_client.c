/* ch_client.c - ClickHouse HTTP client over libcurl (ch_client.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common.h"
#include "clickhouse/ch_client.h"
#include "clickhouse/rowbinary.h"

#define POOL_MAX 16
#define CONNECT_TIMEOUT_MS 1000
#define REPLY_MAX_BYTES (512u << 20)

struct ch_client {
	char *hosts[CH_SPEC_MAX_HOSTS];
	size_t n_hosts;
	char *database;
	char *user, *password, *ca_file;
	bool secure;
	atomic_size_t preferred; /* the host that answered last */
	pthread_mutex_t mu;      /* guards pool */
	CURL *pool[POOL_MAX];
	size_t n_pool;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_global(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
ch_client_new(ch_client **out, const ch_spec *spec, char **cause)
{
	ch_client *c;

	pthread_once(&curl_once, curl_global);
	c = xcalloc(1, sizeof *c);
	for (size_t i = 0; i < spec->n_hosts; i++)
		c->hosts[i] = xstrdup(spec->hosts[i]);
	c->n_hosts = spec->n_hosts;
	c->database = xstrdup(spec->database);
	c->user = spec->user ? xstrdup(spec->user) : NULL;
	c->password = spec->password ? xstrdup(spec->password) : NULL;
	c->ca_file = spec->ca_file ? xstrdup(spec->ca_file) : NULL;
	c->secure = spec->secure;
	pthread_mutex_init(&c->mu, NULL);
	if (c->n_hosts == 0) {
		xasprintf(cause, "clickhouse: no host");
		ch_client_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void
ch_client_free(ch_client *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_pool; i++)
		curl_easy_cleanup(c->pool[i]);
	for (size_t i = 0; i < c->n_hosts; i++)
		free(c->hosts[i]);
	free(c->database);
	free(c->user);
	if (c->password != NULL)
		memset(c->password, 0, strlen(c->password));
	free(c->password);
	free(c->ca_file);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

size_t
ch_client_host_count(const ch_client *c)
{
	return c->n_hosts;
}

/* Takes a handle from the pool (its connections stay open: keep-alive). */
static CURL *
handle_get(ch_client *c)
{
	CURL *h = NULL;

	pthread_mutex_lock(&c->mu);
	if (c->n_pool > 0)
		h = c->pool[--c->n_pool];
	pthread_mutex_unlock(&c->mu);
	return h != NULL ? h : curl_easy_init();
}

static void
handle_put(ch_client *c, CURL *h)
{
	pthread_mutex_lock(&c->mu);
	if (c->n_pool < POOL_MAX) {
		c->pool[c->n_pool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	if (h != NULL)
		curl_easy_cleanup(h);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	rowbinary_buf *w = arg;

	if (w->len + size * n > REPLY_MAX_BYTES)
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	rowbinary_put_bytes(w, p, size * n);
	return size * n;
}

/* Builds the request URL: database, settings and, for an insert, the
 * statement itself. */
static char *
make_url(ch_client *c, CURL *h, size_t host, const char *sql, bool in_url,
    const char *params)
{
	char *url, *esc = NULL;

	if (in_url)
		esc = curl_easy_escape(h, sql, 0);
	/* params may name another database (CREATE DATABASE runs in
	 * "default", before ours exists). */
	/* params may name the database itself: CREATE DATABASE runs in
	 * "default", before ours exists. */
	bool own_db = params == NULL || strstr(params, "database=") == NULL;

	xasprintf(&url, "%s://%s/?%s%s%s%s%s%s",
	    c->secure ? "https" : "http", c->hosts[host],
	    own_db ? "database=" : "", own_db ? c->database : "",
	    esc ? (own_db ? "&query=" : "query=") : "", esc ? esc : "",
	    params ? (own_db || esc ? "&" : "") : "", params ? params : "");
	curl_free(esc);
	return url;
}

static void
set_options(ch_client *c, CURL *h, const char *url, const void *body,
    size_t len, uint32_t timeout_ms, rowbinary_buf *w)
{
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->user != NULL) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
	}
	/* libcurl's defaults, set anyway: verification is never off. */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
}

/* Says what a failed TLS session means for the operator. */
static const char *
tls_hint(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		return " (TLS: the server's certificate is not trusted by "
		    "the CA in use, or does not name this host; "
		    "set ca=FILE)";
	case CURLE_SSL_CACERT_BADFILE:
		return " (TLS: the CA file does not load)";
	case CURLE_SSL_CONNECT_ERROR:
		return " (TLS handshake failed: is this ClickHouse's "
		    "https_port?)";
	default:
		return NULL;
	}
}

/* The server's error code from "Code: N, e.displayText() = ...". */
static int
error_code(const uint8_t *p, size_t len)
{
	const char *s = p ? strstr((const char *)p, "Code: ") : NULL;

	(void)len;
	return s ? atoi(s + 6) : 0;
}

/* Errors after which another host may do better: that server lost
 * ZooKeeper (999, 225, 242 read-only table), its peers (209, 210, 279),
 * or is shutting down. */
static bool
server_unwell(int code)
{
	return code == 999 || code == 225 || code == 242 || code == 209 ||
	    code == 210 || code == 279 || code == 394;
}

/* One attempt on one host. Returns 0, 1 (try another host) or -1. */
static int
attempt(ch_client *c, size_t host, const char *sql, const void *body,
    size_t body_len, const char *params, uint32_t timeout_ms, ch_reply *rep,
    char **cause)
{
	CURL *h = handle_get(c);
	rowbinary_buf w = { 0 };
	char *url;
	CURLcode rc;
	int rv;

	url = make_url(c, h, host, sql, body != NULL, params);
	set_options(c, h, url, body ? body : sql, body ? body_len : strlen(sql),
	    timeout_ms, &w);
	rc = curl_easy_perform(h);
	rowbinary_put_u8(&w, 0); /* NUL-terminate for the caller */
	w.len--;
	rep->data = w.b;
	rep->len = w.len;
	rep->host = c->hosts[host];
	rep->http_status = 0;
	if (rc != CURLE_OK) {
		const char *hint = c->secure ? tls_hint(rc) : NULL;

		free(*cause);
		xasprintf(cause, "clickhouse %s: %s%s", c->hosts[host],
		    curl_easy_strerror(rc), hint ? hint : "");
		rep->tls_failed = hint != NULL;
		rv = 1;
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rep->http_status);
		rep->ch_code = error_code(rep->data, rep->len);
		if (rep->http_status == 200) {
			rep->ch_code = 0;
			rv = 0;
		} else {
			free(*cause);
			xasprintf(cause, "clickhouse %s: HTTP %ld: %.300s",
			    c->hosts[host], rep->http_status,
			    (const char *)rep->data);
			rv = server_unwell(rep->ch_code) ? 1 : -1;
		}
	}
	free(url);
	handle_put(c, h);
	return rv;
}

int
ch_client_exec_on(ch_client *c, size_t host, const char *sql,
    const void *body, size_t body_len, const char *params,
    uint32_t timeout_ms, ch_reply *rep, char **cause)
{
	int rv;

	memset(rep, 0, sizeof *rep);
	*cause = NULL;
	rv = attempt(c, host, sql, body, body_len, params, timeout_ms, rep,
	    cause);
	if (rv == 0)
		return 0;
	return -1;
}

int
ch_client_exec(ch_client *c, const char *sql, const void *body,
    size_t body_len, const char *params, uint32_t timeout_ms, ch_reply *rep,
    char **cause)
{
	size_t first = atomic_load(&c->preferred) % c->n_hosts;

	*cause = NULL;
	for (size_t i = 0; i < c->n_hosts; i++) {
		size_t host = (first + i) % c->n_hosts;
		int rv;

		memset(rep, 0, sizeof *rep);
		rv = attempt(c, host, sql, body, body_len, params, timeout_ms,
		    rep, cause);
		if (rv == 0) {
			atomic_store(&c->preferred, host);
			free(*cause);
			*cause = NULL;
			return 0;
		}
		if (rv < 0 || i + 1 == c->n_hosts)
			return -1;
		ch_reply_fini(rep);
	}
	return -1;
}

void
ch_reply_fini(ch_reply *rep)
{
	free(rep->data);
	memset(rep, 0, sizeof *rep);
}
