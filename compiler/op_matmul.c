/* op_matmul.c: MatMul, Gemm, Einsum. */
#include "gptossc.h"

/* MatMul: numpy matmul semantics (1-D operands promoted and the added
 * axis removed; batch dims broadcast). */
static void infer_matmul(Graph *g, Node *n)
{
	(void)g;
	Value *a = n->in[0], *b = n->in[1];
	if (a->rank < 1 || b->rank < 1)
		node_fatal(n, "inputs must have rank >= 1");
	if (a->dtype != b->dtype)
		node_fatal(n, "inputs differ in type");
	int64_t K = a->dims[a->rank - 1];
	int64_t Kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
	if (K != Kb)
		node_fatal(n, "inner dims differ: %s x %s", shape_str(a), shape_str(b));
	int64_t ba[RT_MAXDIM], bb[RT_MAXDIM], out[RT_MAXDIM];
	int ra = a->rank > 2 ? a->rank - 2 : 0, rb = b->rank > 2 ? b->rank - 2 : 0;
	memcpy(ba, a->dims, ra * 8);
	memcpy(bb, b->dims, rb * 8);
	int r = broadcast_shapes(ra, ba, rb, bb, out);
	if (r < 0)
		node_fatal(n, "batch dims do not broadcast: %s x %s", shape_str(a), shape_str(b));
	if (a->rank > 1)
		out[r++] = a->dims[a->rank - 2];
	if (b->rank > 1)
		out[r++] = b->dims[b->rank - 1];
	set_shape(n->out[0], a->dtype, r, out);
}

static void lower_matmul(Graph *g, Node *n)
{
	Value *a = n->in[0], *b = n->in[1], *y = n->out[0];
	int64_t M = a->rank > 1 ? a->dims[a->rank - 2] : 1, K = a->dims[a->rank - 1];
	int64_t N = b->rank > 1 ? b->dims[b->rank - 1] : 1;
	if (!M || !N)
		return;
	int64_t batch = numel(y) / (M * N);
	int64_t nba = K ? numel(a) / (M * K) : 1, nbb = K ? numel(b) / (K * N) : 1;
	int64_t sa = nba > 1 ? M * K : 0, sb = nbb > 1 ? K * N : 0;
	if (batch > 1 && ((nba != 1 && nba != batch) || (nbb != 1 && nbb != batch)))
		node_fatal(n, "partially broadcast batch dims are not supported yet");
	Call *c = call_new(g, n, "rt_matmul");
	call_in(c, a);
	call_in(c, b);
	call_out(c, y);
	call_p(c, y->dtype);
	call_p(c, batch);
	call_p(c, M);
	call_p(c, N);
	call_p(c, K);
	call_p(c, sa);
	call_p(c, sb);
}

const OpDef ops_matmul[] = {
	{ "MatMul", 2, 2, 1, 1, infer_matmul, lower_matmul },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};
