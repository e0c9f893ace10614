/* fold.c: evaluate at compile time every node whose inputs are constant.
 *
 * The node is lowered to kernel calls exactly as it would be for the
 * generated code, and the calls run here on the same runtime kernels
 * (linked into gptossc), so a folded rotary table or mask is bit-for-bit
 * what run time would compute.  Results become constant values; the node
 * is marked dead.  Nodes whose result would be much larger than their
 * inputs (an Expand of a weight to a huge tensor) are left to run time.
 */
#include "gptossc.h"

#define FOLD_LIMIT (64ll << 20)

static int all_const(Node *n)
{
	for (int i = 0; i < n->nin; i++)
		if (n->in[i] && !n->in[i]->is_const)
			return 0;
	return 1;
}

int fold_node(Graph *g, Node *n)
{
	if (n->dead)
		return 1;
	if (!all_const(n))
		return 0;
	int64_t in_bytes = 0, out_bytes = 0;
	for (int i = 0; i < n->nin; i++)
		if (n->in[i])
			in_bytes += nbytes(n->in[i]);
	for (int i = 0; i < n->nout; i++)
		out_bytes += nbytes(n->out[i]);
	if (out_bytes > FOLD_LIMIT && out_bytes > 2 * in_bytes)
		return 0;

	if (n->alias) { /* a new view of the same bytes: no copy, no read */
		Value *a = n->in[0], *o = n->out[0];
		o->is_const = 1;
		o->data = a->data;
		o->ext_path = a->ext_path;
		o->ext_off = a->ext_off;
	} else {
		int first = g->ncalls;
		lower_node(g, n);
		for (int c = first; c < g->ncalls; c++) {
			Call *call = &g->calls[c];
			void *t[MAXT];
			for (int k = 0; k < call->nt; k++) {
				Value *v = call->t[k];
				if (!v) {
					t[k] = NULL;
					continue;
				}
				if (!v->data && !v->ext_path)
					v->data = xcalloc(nbytes(v) + 16, 1);
				t[k] = value_data(g, v);
			}
			kernel_fn(call->kernel)(t, call->p);
		}
		g->ncalls = first;
		for (int i = 0; i < n->nout; i++)
			n->out[i]->is_const = 1;
	}
	for (int i = 0; i < n->nout; i++)
		n->out[i]->folded = 1;
	n->dead = 1;
	g->nfolded++;
	g->folded_bytes += out_bytes;
	return 1;
}
