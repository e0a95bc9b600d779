/*
 * catalog.c - ListServices and ListOperations from the meta family's
 * catalog records.
 */
#include <stdlib.h>
#include <string.h>

#include "query/query_impl.h"

/* Lists catalog names under prefix (type + optional service). */
static size_t
catalog_list(qctx *q, const keybuf *prefix, char ***names, uint8_t **kinds)
{
	keybuf hi = *prefix;
	store_iter *it;
	size_t n = 0;

	*names = NULL;
	if (kinds)
		*kinds = NULL;
	key_prefix_next(&hi);
	it = store_iter_new(q->st, STORE_CF_META, prefix->b, prefix->len,
	    hi.b, hi.len, false);
	for (; store_iter_valid(it); store_iter_next(it)) {
		size_t klen, vlen, slen;
		const uint8_t *k = store_iter_key(it, &klen);
		const uint8_t *v = store_iter_value(it, &vlen);
		keyreader r;
		const char *s;

		key_reader_init(&r, k + prefix->len, klen - prefix->len);
		s = key_get_str(&r, &slen);
		if (r.err)
			continue;
		PUSH(*names, n, xstrndup(s, slen));
		if (kinds) {
			*kinds = xrealloc(*kinds, n);
			(*kinds)[n - 1] = vlen > 0 ? v[0] : 0;
		}
	}
	store_iter_free(it);
	return n;
}

size_t
catalog_list_services(qctx *q, char ***names)
{
	keybuf k;

	key_reset(&k);
	key_put_u8(&k, META_SERVICE);
	return catalog_list(q, &k, names, NULL);
}

size_t
catalog_list_ops(qctx *q, const char *svc, char ***names, uint8_t **kinds)
{
	keybuf k;

	key_reset(&k);
	key_put_u8(&k, META_OP);
	key_put_str(&k, svc, strlen(svc));
	return catalog_list(q, &k, names, kinds);
}

void
catalog_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

response *
catalog_services(qctx *q)
{
	response *r = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__OK, "");
	Tracequery__V1__ServicesResult *s = xmalloc(sizeof *s);

	tracequery__v1__services_result__init(s);
	s->n_services = catalog_list_services(q, &s->services);
	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_SERVICES;
	r->services = s;
	return r;
}

response *
catalog_operations(qctx *q, const Tracequery__V1__ListOperations *lo)
{
	response *r;
	Tracequery__V1__OperationsResult *o;
	char **names;
	uint8_t *kinds;
	size_t n = catalog_list_ops(q, lo->service, &names, &kinds);

	if (n == 0) {
		free(names);
		free(kinds);
		return backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__NOT_FOUND,
		    "no such service");
	}
	r = backend_response_new(TRACEQUERY__V1__RESPONSE__CODE__OK, "");
	o = xmalloc(sizeof *o);
	tracequery__v1__operations_result__init(o);
	o->operations = xcalloc(n, sizeof *o->operations);
	for (size_t i = 0; i < n; i++) {
		Tracequery__V1__Operation *op = xmalloc(sizeof *op);

		tracequery__v1__operation__init(op);
		op->name = names[i];
		op->kind = kinds[i];
		o->operations[i] = op;
	}
	o->n_operations = n;
	free(names);
	free(kinds);
	r->result_case = TRACEQUERY__V1__RESPONSE__RESULT_OPERATIONS;
	r->operations = o;
	return r;
}
