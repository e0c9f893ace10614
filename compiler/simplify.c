/* simplify.c: dead code, pass-through ops, duplicate constants.
 *
 * - Dead code: walking backwards, a node none of whose outputs is used by
 *   a live node or the graph's outputs is dead.
 * - Identity and Dropout (inference mode) are views (infer marks them
 *   alias), so they cost nothing at run time.
 * - Constants with identical dtype, shape and bytes that live nodes read
 *   are merged, so the blob holds each once.
 */
#include "gptossc.h"

void count_uses(Graph *g)
{
	for (int i = 0; i < g->nvalues; i++)
		g->values[i]->nuses = 0;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		for (int k = 0; k < n->nin; k++)
			if (n->in[k])
				n->in[k]->nuses++;
	}
	for (int i = 0; i < g->noutputs; i++)
		g->outputs[i]->nuses++;
}

static void dead_code(Graph *g)
{
	count_uses(g);
	for (int i = g->nnodes - 1; i >= 0; i--) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		int used = 0;
		for (int k = 0; k < n->nout; k++)
			used |= n->out[k]->nuses > 0;
		if (used)
			continue;
		n->dead = 1;
		for (int k = 0; k < n->nin; k++)
			if (n->in[k])
				n->in[k]->nuses--;
	}
}

static uint64_t const_hash(Graph *g, Value *v)
{
	uint64_t h = fnv1a(0, &v->dtype, sizeof v->dtype);
	h = fnv1a(h, &v->rank, sizeof v->rank);
	h = fnv1a(h, v->dims, v->rank * sizeof v->dims[0]);
	if (nbytes(v) <= (1 << 20) || v->data)
		h = fnv1a(h, value_data(g, v), nbytes(v));
	else /* large external tensors: identical only if the same bytes of the same file */
		h = fnv1a(fnv1a(h, v->ext_path, strlen(v->ext_path)), &v->ext_off, sizeof v->ext_off);
	return h;
}

static int same_const(Graph *g, Value *a, Value *b)
{
	if (a->dtype != b->dtype || a->rank != b->rank ||
	    memcmp(a->dims, b->dims, a->rank * sizeof a->dims[0]))
		return 0;
	if (a->ext_path && b->ext_path && !a->data && !b->data && nbytes(a) > (1 << 20))
		return !strcmp(a->ext_path, b->ext_path) && a->ext_off == b->ext_off;
	return !memcmp(value_data(g, a), value_data(g, b), nbytes(a));
}

static void dedupe_constants(Graph *g)
{
	Map seen = { 0 };
	Map repl = { 0 };
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		for (int k = 0; k < n->nin; k++) {
			Value *v = n->in[k];
			if (!v || !v->is_const || v->output_index >= 0)
				continue;
			Value *r = map_get(&repl, v->name);
			if (r) {
				n->in[k] = r;
				continue;
			}
			char key[40];
			snprintf(key, sizeof key, "%016llx", (unsigned long long)const_hash(g, v));
			Value *first = map_get(&seen, key);
			if (first && first != v && same_const(g, first, v)) {
				map_put(&repl, v->name, first);
				n->in[k] = first;
			} else if (!first) {
				map_put(&seen, key, v);
			}
		}
	}
}

void simplify(Graph *g)
{
	dead_code(g);
	/* Dropout whose mask nobody reads: a view */
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (!n->dead && !strcmp(n->op, "Dropout") && n->nout == 2 && !n->out[1]->nuses &&
		    n->out[1]->output_index < 0) {
			n->nout = 1;
			n->alias = 1;
		}
	}
	dedupe_constants(g);
	count_uses(g);
}
