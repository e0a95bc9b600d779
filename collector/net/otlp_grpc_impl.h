/*
 * otlp_grpc_impl.h - the OTLP/gRPC receiver's private header, shared by
 * its three files: otlp_grpc.c (listener, event loop, workers, start and
 * stop), grpc_conn.c (a connection: socket or TLS I/O, the nghttp2 session
 * fed from it, timers) and grpc_call.c (a call: nghttp2's callbacks for
 * its headers and body, and its answer).
 *
 * Threads: one event-loop thread owns the listening socket, every
 * connection and every nghttp2 session (nghttp2 sessions are not
 * thread-safe). It reads bytes into nghttp2, which calls back with headers
 * and body chunks; a call whose request is complete becomes a job for a
 * small pool of worker threads, because the pipeline blocks until the
 * write is durable. A worker takes the message apart (grpc_frame.c),
 * submits it and fills in the answer (grpc_answer.c); the loop then hands
 * the answer to nghttp2 (response headers, the response message,
 * trailers) itself, under the connection's lock, so an answer costs no
 * second wake-up of the loop. Nothing is acknowledged before it is
 * written, and the loop never blocks on the store.
 *
 * Locks: a connection's mu guards its session, socket and calls; the loop
 * holds it while it serves the connection, a worker while it answers.
 * g->mu guards the job queue, each call's in_worker and c, and each
 * connection's refs and closing. Order: a connection's mu, then g->mu.
 *
 * Ownership: a call belongs to its connection, except while in_worker,
 * when only the worker touches its request and answer. A call whose stream
 * or connection goes away meanwhile is orphaned (c = NULL, under g->mu)
 * and freed by the worker. A connection is freed only when no worker
 * holds a reference (refs); closing then keeps new ones away.
 */
#ifndef COLLECTOR_NET_OTLP_GRPC_IMPL_H
#define COLLECTOR_NET_OTLP_GRPC_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

#include "net/grpc_answer.h"
#include "net/grpc_frame.h"
#include "net/grpc_tls.h"
#include "net/otlp_grpc.h"

#define EXPORT_PATH \
	"/opentelemetry.proto.collector.trace.v1.TraceService/Export"
#define MAX_WORKERS 64
#define MAX_HEADER_BYTES 16384     /* advertised and enforced per call */
#define STREAM_WINDOW (1u << 20)   /* per call, before WINDOW_UPDATEs */
#define CONN_WINDOW (16u << 20)    /* per connection */
#define STALL_NS 30000000000ULL    /* a half-sent call waits this long */
#define POLL_MS 250                /* deadline and idle checks */
#define BUSY_RETRY_MS 1000
#define OUT_GATHER 65536           /* bytes of frames per send() */
#define LINGER_NS 2000000000ULL    /* after a GOAWAY, until the peer reads it */
#define NOT_HTTP2_REPLY                                                    \
	"HTTP/1.1 505 HTTP Version Not Supported\r\n"                      \
	"Content-Type: text/plain\r\nConnection: close\r\n"                \
	"Content-Length: 52\r\n\r\n"                                       \
	"this port speaks OTLP/gRPC over HTTP/2 only (h2c)\r\n"

struct conn;

/* One gRPC call: an HTTP/2 stream. */
struct call {
	struct call *next, *prev; /* the connection's calls */
	struct call *qnext;       /* the job or done queue */
	struct conn *c;           /* NULL: orphaned */
	int32_t id;

	/* The request, from the headers. */
	bool post, path_ok, grpc_type, any_type, headers_too_big;
	size_t header_bytes;
	enum grpc_encoding enc;
	uint64_t deadline_ns; /* monotonic; 0: none */

	uint8_t *body;
	size_t len, cap;
	bool remote_closed; /* END_STREAM received */
	bool rst_after;     /* reset once our END_STREAM is out */
	bool answered;      /* a response is submitted: drop further data */
	bool pending;       /* loop's view: dispatched, answer not yet back */
	bool in_worker;     /* under g->mu: a worker holds it */

	grpc_answer a;      /* filled by a worker, or at once on errors */
	size_t resp_off;    /* how much of a.resp nghttp2 has taken */
};

struct conn {
	struct conn *next, *prev;
	otlp_grpc *g;
	pthread_mutex_t mu;       /* see "Locks" above */
	unsigned refs;            /* under g->mu: workers about to answer */
	bool closing;             /* under g->mu: being freed, no new refs */
	int fd;
	grpc_tls_session *tls;    /* NULL: h2c */
	bool handshaking;         /* TLS handshake not finished */
	nghttp2_session *s;
	struct call *calls;
	uint8_t *out;       /* frames gathered for one send(), malloc'd */
	size_t out_off, out_len, out_cap;
	uint64_t last_recv_ns, last_call_ns;
	unsigned resets, answers; /* calls the peer reset, calls answered */
	uint64_t linger_ns;       /* our side shut: discard until EOF */
	size_t received;          /* bytes so far, up to the preface's 24 */
	bool peer_done;           /* EOF read: flush what is queued, close */
	bool dead;
};

struct otlp_grpc {
	pipeline *p;
	otlp_grpc_options o;
	int listen_fd, wake_fd, port;
	grpc_tls *tls;                 /* https:// listener; NULL: h2c */
	char addr[300];                /* HOST:PORT as bound */
	size_t budget;                 /* bytes of bodies held at once */
	_Atomic size_t buffered;
	struct conn *conns;
	unsigned n_conns;
	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt;
	pthread_t loop;
	bool loop_started;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct call *jobs, *jobs_tail;
	bool stopping;
	unsigned n_workers;
	pthread_t workers[MAX_WORKERS];
};

/* grpc_call.c: calls. */
void grpc_call_free(otlp_grpc *g, struct call *k);
/* grpc_call_release detaches k from its connection: freed now, or by
 * whoever holds it (a worker, the done queue). */
void grpc_call_release(otlp_grpc *g, struct call *k);
/* grpc_call_answer hands k's answer to its session. */
void grpc_call_answer(struct conn *c, struct call *k);
/* grpc_call_refuse answers k at once with a gRPC error status. */
void grpc_call_refuse(struct conn *c, struct call *k, enum grpc_code code,
    const char *msg);
/* grpc_call_callbacks_new sets g->cbs and g->opt for every session. */
int grpc_call_callbacks_new(otlp_grpc *g);

/* grpc_conn.c: connections. */
void grpc_conn_accept(otlp_grpc *g);
void grpc_conn_free(otlp_grpc *g, struct conn *c);
/* grpc_conn_events: the poll events c waits for. */
short grpc_conn_events(struct conn *c);
/* grpc_conn_serve does c's I/O after poll said revents, and its timers. */
void grpc_conn_serve(otlp_grpc *g, struct conn *c, short revents);
/* grpc_conn_reap frees finished connections (all of them when stopping)
 * and shuts idle ones. */
void grpc_conn_reap(otlp_grpc *g, bool stopping);
/* grpc_conn_answer hands k's answer to c and writes what it can (a
 * worker, holding c->mu). Returns whether the loop must look at c. */
bool grpc_conn_answer(struct conn *c, struct call *k);

/* otlp_grpc.c: otlp_grpc_dispatch queues k, whose request is complete,
 * for a worker. */
void otlp_grpc_dispatch(otlp_grpc *g, struct call *k);

#endif /* COLLECTOR_NET_OTLP_GRPC_IMPL_H */
