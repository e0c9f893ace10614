/* infer.c: static dtype and shape of every value, and the walk that
 * interleaves inference with folding.
 *
 * Shapes often depend on constants computed by earlier nodes (a Reshape's
 * shape vector is a Concat of Constants), so the walk infers a node, folds
 * it at once when all its inputs are constant, and moves on: by the time a
 * Reshape is reached, its shape input is data.  The per-op rules live in
 * op_*.c; this file holds the walk and the helpers they share.
 */
#include "gptossc.h"

/* Multidirectional (numpy) broadcasting; -1 when incompatible. */
int broadcast_shapes(int ra, const int64_t *da, int rb, const int64_t *db, int64_t *out)
{
	int r = ra > rb ? ra : rb;
	for (int i = 0; i < r; i++) {
		int64_t a = i - (r - ra) >= 0 ? da[i - (r - ra)] : 1;
		int64_t b = i - (r - rb) >= 0 ? db[i - (r - rb)] : 1;
		if (a != b && a != 1 && b != 1)
			return -1;
		out[i] = a == 1 ? b : a;
	}
	return r;
}

/* Strides (in elements) to read v as if broadcast to dims[rank]. */
void bcast_strides(const Value *v, int rank, const int64_t *dims, int64_t *strides)
{
	int64_t s = 1;
	for (int i = rank - 1; i >= 0; i--) {
		int j = i - (rank - v->rank);
		if (j < 0 || v->dims[j] == 1 || dims[i] == 1) {
			strides[i] = 0;
		} else {
			strides[i] = s;
		}
		if (j >= 0)
			s *= v->dims[j];
	}
}

void contig_strides(int rank, const int64_t *dims, int64_t *strides)
{
	int64_t s = 1;
	for (int i = rank - 1; i >= 0; i--) {
		strides[i] = s;
		s *= dims[i];
	}
}

void need_rank(Node *n, int i, int lo, int hi)
{
	Value *v = node_in(n, i);
	if (!v)
		node_fatal(n, "input %d is required", i);
	if (v->rank < lo || v->rank > hi)
		node_fatal(n, "input %d '%s' has rank %d, expected %d..%d", i, v->name, v->rank, lo, hi);
}

int64_t norm_axis(Node *n, int64_t axis, int rank)
{
	if (axis < -rank || axis >= (rank ? rank : 1))
		node_fatal(n, "axis %lld is out of range for rank %d", (long long)axis, rank);
	return axis < 0 ? axis + rank : axis;
}

void infer_node(Graph *g, Node *n)
{
	const OpDef *d = n->def;
	int nin = n->nin;
	while (nin > 0 && !n->in[nin - 1])
		nin--;
	if (nin < d->min_in || n->nin > d->max_in)
		node_fatal(n, "has %d inputs, %s takes %d to %d", n->nin, n->op, d->min_in, d->max_in);
	if (n->nout < d->min_out || n->nout > d->max_out)
		node_fatal(n, "has %d outputs, %s gives %d to %d", n->nout, n->op, d->min_out, d->max_out);
	for (int i = 0; i < d->min_in; i++)
		if (!n->in[i])
			node_fatal(n, "input %d is required", i);
	for (int i = 0; i < n->nin; i++)
		if (n->in[i] && (n->in[i]->rank < 0 || !n->in[i]->dtype))
			node_fatal(n, "input %d '%s' has no known shape", i, n->in[i]->name);
	d->infer(g, n);
	for (int i = 0; i < n->nout; i++) {
		Value *v = n->out[i];
		if (v->rank < 0 || !v->dtype)
			node_fatal(n, "output %d '%s': shape inference gave no shape", i, v->name);
		for (int k = 0; k < v->rank; k++)
			if (v->dims[k] < 0)
				node_fatal(n, "output %d '%s': negative dim %lld", i, v->name, (long long)v->dims[k]);
	}
}

void infer_and_fold(Graph *g, int fold)
{
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		infer_node(g, n);
		if (fold)
			fold_node(g, n);
	}
}

/* Strides of each of `nv` operands broadcast to `out`'s dims, with size-1
 * dims dropped and adjacent dims merged where every operand allows it.
 * Returns the number of dims left (0 for a scalar loop of one element). */
int bcast_plan(const Value *out, Value *const *vs, int nv, int64_t *dims, int64_t (*st)[RT_MAXDIM])
{
	int64_t s[MAXT][RT_MAXDIM];
	int nd = 0;
	for (int k = 0; k < nv; k++)
		bcast_strides(vs[k], out->rank, out->dims, s[k]);
	for (int i = 0; i < out->rank; i++) {
		if (out->dims[i] == 1)
			continue;
		int merge = nd > 0;
		for (int k = 0; merge && k < nv; k++)
			merge = st[k][nd - 1] == s[k][i] * out->dims[i];
		if (merge) {
			dims[nd - 1] *= out->dims[i];
			for (int k = 0; k < nv; k++)
				st[k][nd - 1] = s[k][i];
			continue;
		}
		dims[nd] = out->dims[i];
		for (int k = 0; k < nv; k++)
			st[k][nd] = s[k][i];
		nd++;
	}
	return nd;
}
