/*
 * client.c - one request, one reply over NNG REQ/REP: queries to the
 * collector's query socket, ingest batches (tracecli import) to its ingest
 * socket.
 *
 * An unreachable collector must fail within a few seconds, never hang:
 * the dial has a deadline, the send a send timeout and the reply a receive
 * timeout. Replies are untrusted input: their
 * size is capped (NNG_OPT_RECVMAXSZ) and their nesting depth is checked
 * before protobuf-c unpacks them recursively.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include "tracecli.h"

/* Deepest message nesting accepted from the wire; OTLP itself needs ~10. */
#define WIRE_MAX_DEPTH 64

static bool
varint(const uint8_t *p, size_t len, size_t *i, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (*i >= len)
			return false;
		uint8_t b = p[(*i)++];
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/*
 * Nesting depth of p[0..len) read as a message: -1 when it is not a
 * well-formed message, else the depth of the deepest length-delimited
 * field that itself parses as a message, capped at budget + 1. Whether a
 * length-delimited field is a string or a message is unknown without the
 * schema, so every one that parses counts: a false positive only makes
 * the check stricter. Recursion is bounded by budget.
 */
static int
msg_depth(const uint8_t *p, size_t len, int budget)
{
	size_t i = 0;
	int maxd = 0;

	while (i < len) {
		uint64_t key, v;
		if (!varint(p, len, &i, &key) || (key >> 3) == 0)
			return -1;
		switch (key & 7) {
		case 0:
			if (!varint(p, len, &i, &v))
				return -1;
			break;
		case 1:
			if (len - i < 8)
				return -1;
			i += 8;
			break;
		case 5:
			if (len - i < 4)
				return -1;
			i += 4;
			break;
		case 2:
			if (!varint(p, len, &i, &v) || v > len - i)
				return -1;
			if (v > 0) {
				int d = msg_depth(p + i, (size_t)v,
				    budget > 0 ? budget - 1 : -1);
				if (d >= 0 && d + 1 > maxd)
					maxd = d + 1;
				if (maxd > budget + 1)
					maxd = budget + 1;
			}
			i += (size_t)v;
			break;
		default:
			return -1;
		}
		if (budget < 0 && maxd > 0)
			return maxd;
	}
	return maxd;
}

bool
wire_depth_ok(const uint8_t *buf, size_t len, int max_depth)
{
	int d = msg_depth(buf, len, max_depth);

	return d <= max_depth;
}

/*
 * A blocking nng_dial fails at once when nothing listens (refused, no such
 * ipc path) and says why, but it has no deadline of its own. It runs on a
 * helper thread and the caller waits at most dial_ms; past that the
 * collector counts as unreachable and the thread is left behind (the
 * program is about to exit). A trial connection that hangs up without the
 * SP handshake is not an option: it can wedge an NNG 1.5 REP listener.
 */
typedef struct dial_job {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	nng_socket sock;
	char *url;
	nng_tls_config *tls;	/* a reference of the job's own, or NULL */
	int rv;
	bool done, abandoned;
} dial_job;

static void
dial_job_free(dial_job *j)
{
	if (j->tls != NULL)
		nng_tls_config_free(j->tls);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	free(j->url);
	free(j);
}

static void *
dial_thread(void *arg)
{
	dial_job *j = arg;
	int rv = tls_dial(j->sock, j->url, j->tls, 0);

	pthread_mutex_lock(&j->mu);
	j->rv = rv;
	j->done = true;
	bool abandoned = j->abandoned;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
	if (abandoned)
		dial_job_free(j);
	return NULL;
}

/* Dials s to url (with TLS configuration tls, may be NULL) within
 * dial_ms; returns 0 or an NNG error. */
static int
dial_deadline(nng_socket s, const char *url, nng_tls_config *tls,
    int dial_ms)
{
	dial_job *j = xcalloc(1, sizeof *j);
	struct timespec ts;
	pthread_t t;
	int rv;

	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	j->sock = s;
	j->url = xstrdup(url);
	if ((j->tls = tls) != NULL)
		nng_tls_config_hold(tls);
	if (pthread_create(&t, NULL, dial_thread, j) != 0) {
		dial_job_free(j);
		return tls_dial(s, url, tls, NNG_FLAG_NONBLOCK);
	}
	pthread_detach(t);
	ts = deadline_after_ms((uint64_t)dial_ms);
	pthread_mutex_lock(&j->mu);
	while (!j->done)
		if (pthread_cond_timedwait(&j->cv, &j->mu, &ts) != 0)
			break;
	if (!j->done) {
		j->abandoned = true;
		pthread_mutex_unlock(&j->mu);
		return NNG_ETIMEDOUT;
	}
	rv = j->rv;
	pthread_mutex_unlock(&j->mu);
	dial_job_free(j);
	return rv;
}

struct client {
	nng_socket sock;
	client_opts o;
};

int
client_open(client **out, const client_opts *o, char **cause)
{
	nng_tls_config *tls = NULL;
	client *c;
	int rv;

	*out = NULL;
	if (tls_url_is_tls(o->url)) {
		char *why = NULL;

		if (tls_config_new(&tls, false, &o->tls, o->url, &why) != 0) {
			xasprintf(cause, "%s: %s", o->url, why);
			free(why);
			return CLIENT_BADURL;
		}
	}
	c = xcalloc(1, sizeof *c);
	c->o = *o;
	if ((rv = nng_req0_open(&c->sock)) != 0) {
		xasprintf(cause, "cannot open socket: %s", nng_strerror(rv));
		if (tls != NULL)
			nng_tls_config_free(tls);
		free(c);
		return CLIENT_UNREACHABLE;
	}
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, o->max_reply_bytes);
	nng_socket_set_ms(c->sock, NNG_OPT_SENDTIMEO, o->dial_ms);
	nng_socket_set_ms(c->sock, NNG_OPT_RECVTIMEO, o->timeout_ms);
	/* One attempt: a resend could run a query (or an import) twice. */
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, o->timeout_ms + 1000);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 500);
	bool use_tls = tls != NULL;

	rv = dial_deadline(c->sock, o->url, tls, o->dial_ms);
	if (tls != NULL)
		nng_tls_config_free(tls);	/* the dialer holds its own */
	if (rv != 0) {
		bool bad = rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP ||
		    rv == NNG_EINVAL;
		bool tlsfail = rv == NNG_ECRYPTO || rv == NNG_EPEERAUTH;
		/* A server that wants a client certificate just hangs up. */
		bool shut = use_tls && (rv == NNG_ECONNSHUT ||
		    rv == NNG_ECLOSED || rv == NNG_ECONNRESET);
		xasprintf(cause, bad ? "bad collector address %s: %s%s%s" :
					"cannot reach collector at %s: %s%s%s",
		    o->url, tlsfail ? "TLS handshake failed: " : "",
		    rv == NNG_ETIMEDOUT ?
		    "no connection within the dial timeout" : nng_strerror(rv),
		    shut ? " (TLS: does the collector require a client "
		    "certificate? see --tls-cert)" : "");
		if (rv != NNG_ETIMEDOUT)	/* else the dial thread has it */
			client_close(c);
		return bad ? CLIENT_BADURL : CLIENT_UNREACHABLE;
	}
	*out = c;
	return CLIENT_OK;
}

/* Schemes tracecli can dial; tcp-like ones need a host and a port. */
static const struct {
	const char *scheme;
	bool needs_port;
} schemes[] = {
	{"tcp", true}, {"tcp4", true}, {"tcp6", true}, {"tls+tcp", true},
	{"tls+tcp4", true}, {"tls+tcp6", true}, {"ws", true}, {"wss", true},
	{"ipc", false}, {"abstract", false}, {"inproc", false},
};

/* The scheme entry url starts with ("tcp://..."), or -1. */
static int
url_scheme(const char *url)
{
	for (size_t i = 0; i < ARRAY_LEN(schemes); i++) {
		size_t n = strlen(schemes[i].scheme);
		if (strncmp(url, schemes[i].scheme, n) == 0 &&
		    strncmp(url + n, "://", 3) == 0)
			return (int)i;
	}
	return -1;
}

/* A host:port address. NNG 1.5.2's nng_url_parse reads past the end of
 * "tcp://@" and "tcp://x@" (found by fuzz_tracecli_args), and userinfo
 * means nothing to NNG's transports: an '@' is refused before it parses. */
static int
check_host_port(const char *url, char **cause)
{
	nng_url *u = NULL;

	if (strchr(url, '@') != NULL || nng_url_parse(&u, url) != 0) {
		xasprintf(cause, "bad collector address '%s' (want e.g. "
		    "tcp://127.0.0.1:7071)", url);
		return CLIENT_BADURL;
	}
	bool port = u->u_port != NULL && *u->u_port != '\0' &&
	    strcmp(u->u_port, "0") != 0;
	nng_url_free(u);
	if (port)
		return CLIENT_OK;
	xasprintf(cause, "bad collector address '%s': no port", url);
	return CLIENT_BADURL;
}

int
client_url_check(const char *url, char **cause)
{
	int k = url != NULL ? url_scheme(url) : -1;

	if (k < 0) {
		xasprintf(cause, "bad collector address '%s' (want e.g. "
		    "tcp://127.0.0.1:7071 or ipc:///path; schemes: tcp, "
		    "tls+tcp, ipc, ws)", url ? url : "");
		return CLIENT_BADURL;
	}
	if (schemes[k].needs_port)
		return check_host_port(url, cause);
	if (url[strlen(schemes[k].scheme) + 3] == '\0') {
		xasprintf(cause, "bad collector address '%s': no path", url);
		return CLIENT_BADURL;
	}
	return CLIENT_OK;
}

void
client_close(client *c)
{
	if (c == NULL)
		return;
	nng_close(c->sock);
	free(c);
}

int
client_call(client *c, const void *buf, size_t len, void **out,
    size_t *out_len, char **cause)
{
	int rv;

	if ((rv = nng_send(c->sock, (void *)(uintptr_t)buf, len, 0)) != 0) {
		xasprintf(cause, "cannot reach collector at %s: %s", c->o.url,
		    rv == NNG_ETIMEDOUT ? "no connection within the dial timeout" :
					   nng_strerror(rv));
		return CLIENT_UNREACHABLE;
	}
	if ((rv = nng_recv(c->sock, out, out_len, NNG_FLAG_ALLOC)) != 0) {
		xasprintf(cause, "no reply from collector at %s: %s", c->o.url,
		    rv == NNG_ETIMEDOUT ? "timed out" : nng_strerror(rv));
		return CLIENT_UNREACHABLE;
	}
	return CLIENT_OK;
}

/* Opens, calls once, closes. */
static int
rpc(const client_opts *o, const void *buf, size_t len, void **out,
    size_t *out_len, char **cause)
{
	client *c;
	int ret;

	if ((ret = client_open(&c, o, cause)) != CLIENT_OK)
		return ret;
	ret = client_call(c, buf, len, out, out_len, cause);
	client_close(c);
	return ret;
}

int
client_query(const client_opts *o, const pb_request *req, pb_response **resp,
    char **cause)
{
	size_t len = tracequery__v1__request__get_packed_size(req);
	uint8_t *buf = xmalloc(len);
	void *rep = NULL;
	size_t rep_len = 0;
	int ret;

	tracequery__v1__request__pack(req, buf);
	ret = rpc(o, buf, len, &rep, &rep_len, cause);
	free(buf);
	if (ret != CLIENT_OK)
		return ret;
	if (!wire_depth_ok(rep, rep_len, WIRE_MAX_DEPTH)) {
		xasprintf(cause, "reply from collector nests too deep");
		nng_free(rep, rep_len);
		return CLIENT_BADREPLY;
	}
	*resp = tracequery__v1__response__unpack(NULL, rep_len, rep);
	nng_free(rep, rep_len);
	if (*resp == NULL) {
		xasprintf(cause, "cannot decode the reply from the collector");
		return CLIENT_BADREPLY;
	}
	return CLIENT_OK;
}

int
client_ingest(client *c, const uint8_t *pb, size_t len,
    Tracequery__V1__IngestReply **reply, char **cause)
{
	void *rep = NULL;
	size_t rep_len = 0;
	int ret = client_call(c, pb, len, &rep, &rep_len, cause);

	if (ret != CLIENT_OK)
		return ret;
	*reply = tracequery__v1__ingest_reply__unpack(NULL, rep_len, rep);
	nng_free(rep, rep_len);
	if (*reply == NULL) {
		xasprintf(cause, "cannot decode the ingest reply");
		return CLIENT_BADREPLY;
	}
	return CLIENT_OK;
}
