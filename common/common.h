/*
 * common.h - helpers shared by tracecollector and tracecli (not installed):
 * hex IDs, durations and times, allocation that aborts on failure.
 * The generated protobuf-c code lives in $(BUILD)/gen and is linked into the
 * same library (libtracecommon.a).
 */
#ifndef COMMON_COMMON_H
#define COMMON_COMMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <nng/nng.h>

#if defined(__GNUC__)
#define PRINTFLIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN __attribute__((noreturn))
#else
#define PRINTFLIKE(f, a)
#define NORETURN
#endif

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* hex.c */
/* hex_encode writes 2*len lowercase hex digits and a NUL into out. */
void hex_encode(const uint8_t *bytes, size_t len, char *out);
/* hex_decode parses exactly 2*len hex digits (either case) of hex into
 * bytes. Returns 0, or -1 on a wrong length or a non-hex character. */
int hex_decode(const char *hex, uint8_t *bytes, size_t len);
/* is_all_zero returns true when every byte of bytes is 0. */
bool is_all_zero(const uint8_t *bytes, size_t len);

/* duration.c */
/* duration_parse reads "250us", "100ms", "1.5s", "2m", "1h", "3d" or "42ns"
 * into nanoseconds. Returns 0, or -1 when s is not such a duration. */
int duration_parse(const char *s, uint64_t *out_ns);
/* duration_format writes ns as a short human duration ("812us", "1.25s",
 * "3m05s") into buf (at least 16 bytes recommended); returns buf. */
char *duration_format(uint64_t ns, char *buf, size_t len);

/* timefmt.c */
/* time_parse reads RFC 3339 ("2026-11-22T10:00:00Z", fractions and offsets
 * allowed) or unix seconds ("1763800000", "1763800000.5") into ns since the
 * epoch. Returns 0, or -1 when s is neither. */
int time_parse(const char *s, uint64_t *out_unix_ns);
/* time_format writes unix_ns as RFC 3339 UTC with microseconds. */
char *time_format(uint64_t unix_ns, char *buf, size_t len);
/* now_unix_ns returns the wall clock. */
uint64_t now_unix_ns(void);
/* now_mono_ns returns the monotonic clock. */
uint64_t now_mono_ns(void);
/* deadline_after_ms: the wall clock ms from now, for
 * pthread_cond_timedwait and pthread_timedjoin_np. */
struct timespec deadline_after_ms(uint64_t ms);

/* thread_join.c: thread_join_within joins t, or detaches it and returns
 * false if it has not ended within ms (it may be stuck in a library). */
bool thread_join_within(pthread_t t, unsigned ms);
/* thread_join_abandoned: how many threads thread_join_within left. */
unsigned thread_join_abandoned(void);

/* gzip.c: gzip_inflate inflates gzip data (concatenated members allowed)
 * into a malloc'd *out of at most max bytes. Returns 0, -1 for corrupt or
 * truncated data, -2 when the output would pass max (a gzip bomb stops
 * there). */
int gzip_inflate(
    const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *out_len);

/* xmalloc.c: the programs' allocators; they abort on failure. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
int xasprintf(char **out, const char *fmt, ...) PRINTFLIKE(2, 3);
NORETURN void fatalx(const char *fmt, ...) PRINTFLIKE(1, 2);

/* tls.c: TLS for tls+tcp:// URLs (docs/RELIABILITY.md, "TLS"). */
typedef struct tls_opts {
	const char *ca_file;     /* PEM CA certificate(s); NULL: none */
	const char *cert_file;   /* PEM certificate (chain); NULL: none */
	const char *key_file;    /* PEM unencrypted private key */
	const char *server_name; /* client: name to verify; NULL: URL host */
	bool verify_peer;        /* server: require client certs (mTLS) */
	bool no_verify;          /* client: do not check the server (only
	                            for probing one's own listener) */
} tls_opts;
struct nng_tls_config;
/* tls_url_is_tls returns true for a tls+... URL. */
bool tls_url_is_tls(const char *url);
/* tls_url_is_loopback returns true when url (an NNG URL, or HOST:PORT)
 * can only be reached from this machine: ipc, inproc, 127.0.0.0/8, ::1,
 * localhost. An empty host, "*", 0.0.0.0 or any other name is false. */
bool tls_url_is_loopback(const char *url);
/* tls_config_new builds a server or client TLS configuration from o's
 * files (read now). A client always verifies the server against
 * o->ca_file, by o->server_name or else url's host. Returns 0 with *out
 * (release it with nng_tls_config_free), or -1 with a malloc'd *cause
 * naming the file and the problem. */
int tls_config_new(struct nng_tls_config **out, bool server,
    const tls_opts *o, const char *url, char **cause);
/* tls_read_pem reads a whole PEM file (what names it in errors: "CA
 * file") into a malloc'd NUL-terminated string, or returns NULL with a
 * malloc'd *cause naming the file and the problem. */
char *tls_read_pem(const char *what, const char *path, char **cause);
/* tls_dial is nng_dial, applying cfg (held by the dialer) when url is a
 * tls+ URL and cfg is not NULL. Returns 0 or an NNG error. */
int tls_dial(nng_socket s, const char *url, struct nng_tls_config *cfg,
    int flags);
/* tls_listen is nng_listen (flags 0), likewise applying cfg. */
int tls_listen(nng_socket s, const char *url, struct nng_tls_config *cfg,
    nng_listener *lp);

#endif /* COMMON_COMMON_H */
