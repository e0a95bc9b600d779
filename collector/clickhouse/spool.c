/* spool.c - the write-ahead spool of the ClickHouse backend (spool.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "common.h"
#include "clickhouse/spool.h"

#define HDR 8

struct spool {
	char *dir;
	uint64_t max_bytes;
	bool sync;
	int lock_fd;        /* DIR/LOCK, flock'd: one collector per spool */
	pthread_mutex_t mu; /* guards everything below */
	int fd;             /* the open segment, -1 before its first record */
	uint64_t open_seq, open_spans, open_bytes, open_since_ns;
	uint64_t first_sealed; /* lowest sealed seq not yet removed */
	uint64_t sealed;       /* sealed segments in the directory */
	uint64_t total_bytes, total_spans;
};

static char *
path_of(const spool *s, uint64_t seq, const char *ext)
{
	char *p;

	xasprintf(&p, "%s/%020llu.%s", s->dir, (unsigned long long)seq, ext);
	return p;
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

bool
spool_next_record(const uint8_t *data, size_t len, size_t *off,
    const uint8_t **rec, size_t *rec_len)
{
	uint32_t n, crc;

	if (*off + HDR > len)
		return false;
	n = get_u32(data + *off);
	crc = get_u32(data + *off + 4);
	if (n > len - *off - HDR ||
	    crc32(0, data + *off + HDR, n) != crc)
		return false;
	*rec = data + *off + HDR;
	*rec_len = n;
	*off += HDR + n;
	return true;
}

static int
read_file(const char *path, uint8_t **data, size_t *len, char **cause)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t got = 0;

	*data = NULL;
	*len = 0;
	if (fd < 0 || fstat(fd, &st) != 0) {
		xasprintf(cause, "spool %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*data = xmalloc((size_t)st.st_size + 1);
	while ((size_t)got < (size_t)st.st_size) {
		ssize_t n = read(fd, *data + got, (size_t)st.st_size - (size_t)got);

		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	*len = (size_t)got;
	return 0;
}

/* Counts a segment's spans (each record starts with its span count) and
 * returns the length of its good records. */
static size_t
scan_segment(const uint8_t *data, size_t len, uint64_t *spans)
{
	size_t off = 0, rlen;
	const uint8_t *rec;

	*spans = 0;
	while (spool_next_record(data, len, &off, &rec, &rlen))
		if (rlen >= 4)
			*spans += get_u32(rec);
	return off;
}

/* Adopts one file found at open: seals a crashed .open segment (cut after
 * its last good record) and counts the segment. */
static int
adopt(spool *s, uint64_t seq, bool is_open, char **cause)
{
	char *p = path_of(s, seq, is_open ? "open" : "seg"), *q;
	uint8_t *data;
	size_t len, good;
	uint64_t spans;
	int rv = read_file(p, &data, &len, cause);

	if (rv == 0) {
		good = scan_segment(data, len, &spans);
		if (is_open) {
			q = path_of(s, seq, "seg");
			if (truncate(p, (off_t)good) != 0 || rename(p, q) != 0) {
				xasprintf(cause, "spool %s: %s", p, strerror(errno));
				rv = -1;
			}
			free(q);
		}
		s->sealed++;
		s->total_bytes += good;
		s->total_spans += spans;
		if (seq < s->first_sealed || s->first_sealed == 0)
			s->first_sealed = seq;
		if (seq >= s->open_seq)
			s->open_seq = seq + 1;
	}
	free(data);
	free(p);
	return rv;
}

static int
load_dir(spool *s, char **cause)
{
	DIR *d = opendir(s->dir);
	struct dirent *e;
	int rv = 0;

	if (d == NULL) {
		xasprintf(cause, "spool %s: %s", s->dir, strerror(errno));
		return -1;
	}
	while (rv == 0 && (e = readdir(d)) != NULL) {
		char *end;
		unsigned long long seq = strtoull(e->d_name, &end, 10);

		if (end == e->d_name)
			continue;
		if (strcmp(end, ".open") == 0 || strcmp(end, ".seg") == 0)
			rv = adopt(s, seq, strcmp(end, ".open") == 0, cause);
	}
	closedir(d);
	return rv;
}

/* Takes the spool's lock: two collectors appending to one spool would
 * interleave segments. */
static int
lock_dir(spool *s, char **cause)
{
	char *p;

	xasprintf(&p, "%s/LOCK", s->dir);
	s->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		xasprintf(cause, "spool %s: %s", s->dir, s->lock_fd < 0 ?
		    strerror(errno) : "in use by another collector (each "
		    "collector needs its own spool=DIR)");
		return -1;
	}
	return 0;
}

int
spool_open(spool **out, const char *dir, uint64_t max_bytes, bool sync,
    char **cause)
{
	spool *s = xcalloc(1, sizeof *s);

	s->dir = xstrdup(dir);
	s->max_bytes = max_bytes;
	s->sync = sync;
	s->fd = -1;
	s->lock_fd = -1;
	s->open_seq = 1;
	pthread_mutex_init(&s->mu, NULL);
	if ((mkdir(dir, 0700) != 0 && errno != EEXIST) ||
	    lock_dir(s, cause) != 0 || load_dir(s, cause) != 0) {
		if (*cause == NULL)
			xasprintf(cause, "spool %s: %s", dir, strerror(errno));
		spool_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void
spool_close(spool *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	pthread_mutex_destroy(&s->mu);
	free(s->dir);
	free(s);
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Opens the open segment's file at its first record. */
static int
open_segment(spool *s, char **cause)
{
	char *p = path_of(s, s->open_seq, "open");

	s->fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (s->fd < 0)
		xasprintf(cause, "spool %s: %s", p, strerror(errno));
	free(p);
	s->open_since_ns = now_mono_ns();
	return s->fd < 0 ? -1 : 0;
}

int
spool_append(spool *s, const void *rec, size_t len, uint32_t n_spans,
    char **cause)
{
	uint8_t *buf = xmalloc(HDR + len);
	uint32_t crc = (uint32_t)crc32(0, rec, (uInt)len);
	int rv = 0;

	for (int i = 0; i < 4; i++) {
		buf[i] = (uint8_t)(len >> (8 * i));
		buf[4 + i] = (uint8_t)(crc >> (8 * i));
	}
	memcpy(buf + HDR, rec, len);
	pthread_mutex_lock(&s->mu);
	if (s->total_bytes + HDR + len > s->max_bytes) {
		rv = 1;
	} else if ((s->fd < 0 && open_segment(s, cause) != 0) ||
	    write_all(s->fd, buf, HDR + len) != 0 ||
	    (s->sync && fdatasync(s->fd) != 0)) {
		if (*cause == NULL)
			xasprintf(cause, "spool write: %s", strerror(errno));
		/* A partial record is cut off at the next open; seal now so
		 * nothing follows it. */
		rv = -1;
	} else {
		s->open_spans += n_spans;
		s->open_bytes += HDR + len;
		s->total_bytes += HDR + len;
		s->total_spans += n_spans;
	}
	pthread_mutex_unlock(&s->mu);
	free(buf);
	return rv;
}

void
spool_get_state(spool *s, spool_state *st)
{
	pthread_mutex_lock(&s->mu);
	st->open_seq = s->open_seq;
	st->open_spans = s->open_spans;
	st->open_bytes = s->open_bytes;
	st->open_age_ms = s->fd >= 0 ?
	    (now_mono_ns() - s->open_since_ns) / 1000000 : 0;
	st->sealed = s->sealed;
	st->total_bytes = s->total_bytes;
	st->total_spans = s->total_spans;
	pthread_mutex_unlock(&s->mu);
}

void
spool_seal(spool *s)
{
	char *from, *to;

	pthread_mutex_lock(&s->mu);
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
		from = path_of(s, s->open_seq, "open");
		to = path_of(s, s->open_seq, "seg");
		/* A failed rename leaves the .open file; the next start seals
		 * it. Until then its spans are counted but not shipped. */
		if (rename(from, to) == 0) {
			if (s->sealed++ == 0 || s->open_seq < s->first_sealed)
				s->first_sealed = s->open_seq;
		}
		free(from);
		free(to);
		s->open_seq++;
		s->open_spans = s->open_bytes = 0;
	}
	pthread_mutex_unlock(&s->mu);
}

int
spool_oldest(spool *s, uint64_t *seq, uint8_t **data, size_t *len,
    uint8_t *done, char **cause)
{
	char *p;
	uint8_t *d;
	size_t dl;
	int rv;

	pthread_mutex_lock(&s->mu);
	*seq = s->first_sealed;
	rv = s->sealed > 0;
	pthread_mutex_unlock(&s->mu);
	if (rv == 0)
		return 0;
	p = path_of(s, *seq, "seg");
	rv = read_file(p, data, len, cause);
	free(p);
	if (rv != 0)
		return -1;
	*done = 0;
	p = path_of(s, *seq, "done");
	if (read_file(p, &d, &dl, cause) == 0 && dl == 1)
		*done = d[0];
	free(*cause); /* no done file: nothing inserted yet */
	*cause = NULL;
	free(d);
	free(p);
	return 1;
}

int
spool_set_done(spool *s, uint64_t seq, uint8_t done, char **cause)
{
	char *p = path_of(s, seq, "done");
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rv = fd >= 0 && write_all(fd, &done, 1) == 0 ? 0 : -1;

	if (rv != 0)
		xasprintf(cause, "spool %s: %s", p, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(p);
	return rv;
}

/* The lowest sealed segment's number in the directory (0: none). A
 * directory read per shipped segment costs little and needs no
 * assumption that numbers are consecutive. */
static uint64_t
lowest_sealed(const spool *s)
{
	DIR *d = opendir(s->dir);
	struct dirent *e;
	uint64_t low = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char *end;
		unsigned long long seq = strtoull(e->d_name, &end, 10);

		if (end != e->d_name && strcmp(end, ".seg") == 0 &&
		    (low == 0 || seq < low))
			low = seq;
	}
	if (d != NULL)
		closedir(d);
	return low;
}

void
spool_remove(spool *s, uint64_t seq, uint64_t n_spans)
{
	char *seg = path_of(s, seq, "seg"), *done = path_of(s, seq, "done");
	struct stat st;
	uint64_t bytes = stat(seg, &st) == 0 ? (uint64_t)st.st_size : 0;

	unlink(seg);
	unlink(done);
	free(seg);
	free(done);
	pthread_mutex_lock(&s->mu);
	s->sealed--;
	s->total_bytes -= bytes < s->total_bytes ? bytes : s->total_bytes;
	s->total_spans -= n_spans < s->total_spans ? n_spans : s->total_spans;
	s->first_sealed = s->sealed > 0 ? lowest_sealed(s) : 0;
	pthread_mutex_unlock(&s->mu);
}
