/*
 * rep_server.h - an NNG REP socket listening on several URLs, served by a
 * few worker threads, each with its own context, so one slow request holds
 * one context while the others keep receiving. Used by the ingest socket
 * and the query socket.
 */
#ifndef COLLECTOR_REP_SERVER_H
#define COLLECTOR_REP_SERVER_H

#include <stddef.h>

#include <nng/nng.h>

typedef struct rep_server rep_server;

/* rep_handler turns the request in msg into its reply, in place. Returns 0
 * to send msg, or -1 to drop the request (the server frees msg). Runs on a
 * worker thread, several at once. The listener guard's probes never reach
 * it: the server answers them itself. */
typedef int (*rep_handler)(void *arg, nng_msg *msg);

/* rep_server_start listens on every url with up to max_workers workers
 * calling fn(arg, msg) per request; NNG reads at most recv_max_bytes per
 * message. name labels errors ("ingest"). Returns 0, or -1 with a malloc'd
 * *cause. */
int rep_server_start(rep_server **out, const char *name,
    const char *const *urls, int n_urls, int workers, size_t recv_max_bytes,
    rep_handler fn, void *arg, char **cause);

/* rep_server_stop stops receiving, lets each worker finish the request it
 * holds, and frees rs; NULL is a no-op. */
void rep_server_stop(rep_server *rs);

#endif /* COLLECTOR_REP_SERVER_H */
