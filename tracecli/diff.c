/*
 * diff.c - compare two traces as Jaeger's Compare does: spans are matched
 * by their path from the root (service and operation at every level), so
 * a node of the merged tree stands for every span on that path in either
 * trace, with its count and total duration on each side. Nodes only in B
 * are added, only in A missing; in both, slower or faster when the
 * duration moved by 10% and at least 100us. The merged tree is itself a
 * model_trace, so the one tree-prefix function draws it. No curses.
 */
#include <stdlib.h>
#include <string.h>

#include "tracecli.h"

#define DIFF_MIN_NS 100000ull   /* smaller changes are noise */

typedef struct key_map {
	uint64_t *keys;
	int *node;
	size_t cap;
} key_map;

static uint64_t
mix_str(uint64_t h, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return (h ^ 0xff) * 1099511628211ull;	/* ends the field */
}

/* The path key of a span under a parent path. */
static uint64_t
path_key(uint64_t parent, const char *service, const char *name)
{
	uint64_t h = parent ? parent : 14695981039346656037ull;

	return mix_str(mix_str(h, service), name) | 1;	/* never 0 */
}

static int *
map_slot(key_map *km, uint64_t key)
{
	size_t i = (size_t)(key * 0x9e3779b97f4a7c15ull >> 20) & (km->cap - 1);

	while (km->keys[i] != 0 && km->keys[i] != key)
		i = (i + 1) & (km->cap - 1);
	km->keys[i] = key;
	return &km->node[i];
}

static void
map_init(key_map *km, int n)
{
	km->cap = 16;
	while (km->cap < (size_t)n * 2)
		km->cap *= 2;
	km->keys = xcalloc(km->cap, sizeof *km->keys);
	km->node = xmalloc(km->cap * sizeof *km->node);
	for (size_t i = 0; i < km->cap; i++)
		km->node[i] = -1;
}

static int
service_of(model_trace *t, const char *svc)
{
	for (int k = 0; k < t->nservices; k++)
		if (strcmp(t->services[k], svc) == 0)
			return k;
	t->services = xrealloc(t->services,
	    ((size_t)t->nservices + 1) * sizeof *t->services);
	t->services[t->nservices] = xstrdup(svc);
	return t->nservices++;
}

/* Appends a node for span s under parent node p (-1: a root). */
static int
add_node(trace_diff *d, const mspan *s, int p, int *last_child)
{
	model_trace *t = &d->tree;
	int i = t->nspans++;
	mspan *n = &t->spans[i];

	memset(n, 0, sizeof *n);
	n->name = xstrdup(s->name);
	n->service_idx = service_of(t, s->service);
	n->color = s->color;
	n->parent = p;
	n->first_child = n->next_sibling = -1;
	n->depth = p >= 0 ? t->spans[p].depth + 1 : 0;
	t->max_depth = n->depth > t->max_depth ? n->depth : t->max_depth;
	if (p < 0) {
		t->roots[t->nroots++] = i;
	} else if (last_child[p] < 0) {
		t->spans[p].first_child = i;
		t->spans[p].nchildren++;
	} else {
		t->spans[last_child[p]].next_sibling = i;
		t->spans[p].nchildren++;
	}
	if (p >= 0)
		last_child[p] = i;
	last_child[i] = -1;
	return i;
}

/* Adds every span of side `side` (0 = A, 1 = B) to the merged tree. */
static void
merge_side(trace_diff *d, const model_trace *m, int side, key_map *km,
    int *last_child)
{
	int *pre = xmalloc(((size_t)m->nspans + 1) * sizeof *pre);
	uint64_t *key = xmalloc(((size_t)m->nspans + 1) * sizeof *key);
	int *node_of = xmalloc(((size_t)m->nspans + 1) * sizeof *node_of);

	model_preorder(m, pre);
	for (int k = 0; k < m->nspans; k++) {
		int i = pre[k];
		const mspan *s = &m->spans[i];
		int p = s->parent;
		key[i] = path_key(p >= 0 ? key[p] : 0, s->service, s->name);
		int *slot = map_slot(km, key[i]);
		if (*slot < 0)
			*slot = add_node(d, s, p >= 0 ? node_of[p] : -1, last_child);
		node_of[i] = *slot;
		d->rows[*slot].count[side]++;
		d->rows[*slot].dur_ns[side] += s->dur_ns;
	}
	free(node_of);
	free(key);
	free(pre);
}

static diff_change
classify(const diff_row *r)
{
	if (r->count[0] == 0)
		return DIFF_ADDED;
	if (r->count[1] == 0)
		return DIFF_MISSING;
	uint64_t a = r->dur_ns[0], b = r->dur_ns[1];
	uint64_t delta = a > b ? a - b : b - a;
	if (delta < DIFF_MIN_NS || delta * 10 < a)
		return DIFF_SAME;
	return b > a ? DIFF_SLOWER : DIFF_FASTER;
}

static void
finish(trace_diff *d)
{
	model_trace *t = &d->tree;

	for (int i = 0; i < t->nspans; i++) {
		mspan *n = &t->spans[i];
		n->service = t->services[n->service_idx];
		diff_row *r = &d->rows[i];
		r->change = classify(r);
		d->count[r->change]++;
		n->dur_ns = r->dur_ns[r->count[1] ? 1 : 0];
	}
	t->rows = xmalloc(((size_t)t->nspans + 1) * sizeof *t->rows);
	model_layout(t);
}

void
diff_build(trace_diff *d, const model_trace *a, const model_trace *b)
{
	int cap = a->nspans + b->nspans;
	key_map km;
	int *last_child = xmalloc(((size_t)cap + 1) * sizeof *last_child);

	memset(d, 0, sizeof *d);
	d->a = a;
	d->b = b;
	d->tree.spans = xcalloc((size_t)cap + 1, sizeof *d->tree.spans);
	d->tree.roots = xmalloc(((size_t)cap + 1) * sizeof *d->tree.roots);
	d->tree.san = a->san;
	d->rows = xcalloc((size_t)cap + 1, sizeof *d->rows);
	map_init(&km, cap);
	merge_side(d, a, 0, &km, last_child);
	merge_side(d, b, 1, &km, last_child);
	finish(d);
	free(km.keys);
	free(km.node);
	free(last_child);
}

const char *
diff_change_name(diff_change c)
{
	static const char *names[DIFF_NCHANGES] = {"same", "added", "missing",
		"slower", "faster"};

	return c < DIFF_NCHANGES ? names[c] : "?";
}

void
diff_free(trace_diff *d)
{
	model_free(&d->tree);
	free(d->rows);
	memset(d, 0, sizeof *d);
}
