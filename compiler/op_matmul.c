/* op_matmul.c: MatMul, MatMulInteger, Gemm, Einsum.
 *
 * Every contraction lowers to rt_bgemm, a strided batched GEMM: each
 * operand has one stride per batch dim and per M/N/K group, so transposed
 * operands, broadcast batch dims, Einsum layouts and diagonals need no
 * copies.  Einsum of two operands is classified index by index (batch: in
 * both inputs and the output; M: A and output; N: B and output; K: both
 * inputs, not the output); indices of one input only are summed first, and
 * a K group that no single stride describes is made contiguous by a
 * transposing copy.  Einsum of 1 or 3+ operands runs the generic loop nest
 * rt_einsum.
 */
#include "gptossc.h"
#include "../runtime/matmul.h"

/* ------------------------------------------------------------ rt_bgemm */

/* Slots of rt_bgemm's operands, in tensor order. */
enum { S_A, S_B, S_C, S_ZA, S_ZB, S_Y };

typedef struct {
	int64_t M, N, K;
	int64_t asm_, ask, bsk, bsn, ysm, ysn, csm, csn, zsm, zsn;
	int nb;
	int64_t dims[2 * RT_MAXDIM + 4];
	int64_t st[RT_BG_SLOTS][2 * RT_MAXDIM + 4];
} Mm;

/* Batch dim i of q folded into M (B and zb do not move along it, and the
 * rest move along it as along M's outer extension). */
static int fold_m(Mm *q, int i)
{
	int64_t d = q->dims[i];
	if (q->st[S_B][i] || q->st[S_ZB][i])
		return 0;
	if (q->M == 1) {
		q->asm_ = q->st[S_A][i], q->csm = q->st[S_C][i];
		q->zsm = q->st[S_ZA][i], q->ysm = q->st[S_Y][i];
	} else if (q->st[S_A][i] != q->M * q->asm_ || q->st[S_C][i] != q->M * q->csm ||
		   q->st[S_ZA][i] != q->M * q->zsm || q->st[S_Y][i] != q->M * q->ysm) {
		return 0;
	}
	q->M *= d;
	return 1;
}

static int fold_n(Mm *q, int i)
{
	int64_t d = q->dims[i];
	if (q->st[S_A][i] || q->st[S_ZA][i])
		return 0;
	if (q->N == 1) {
		q->bsn = q->st[S_B][i], q->csn = q->st[S_C][i];
		q->zsn = q->st[S_ZB][i], q->ysn = q->st[S_Y][i];
	} else if (q->st[S_B][i] != q->N * q->bsn || q->st[S_C][i] != q->N * q->csn ||
		   q->st[S_ZB][i] != q->N * q->zsn || q->st[S_Y][i] != q->N * q->ysn) {
		return 0;
	}
	q->N *= d;
	return 1;
}

static void drop_batch(Mm *q, int i)
{
	for (int j = i; j + 1 < q->nb; j++) {
		q->dims[j] = q->dims[j + 1];
		for (int s = 0; s < RT_BG_SLOTS; s++)
			q->st[s][j] = q->st[s][j + 1];
	}
	q->nb--;
}

/* Size-1 dims dropped, adjacent batch dims merged, the innermost batch
 * dims folded into M or N where the strides allow. */
static void mm_simplify(Mm *q)
{
	if (q->M == 1)
		q->asm_ = q->ysm = q->csm = q->zsm = 0;
	if (q->N == 1)
		q->bsn = q->ysn = q->csn = q->zsn = 0;
	for (int i = 0; i < q->nb;)
		if (q->dims[i] == 1)
			drop_batch(q, i);
		else
			i++;
	for (int i = 0; i + 1 < q->nb;) {
		int ok = 1;
		for (int s = 0; s < RT_BG_SLOTS; s++)
			ok &= q->st[s][i] == q->st[s][i + 1] * q->dims[i + 1];
		if (ok) {
			q->dims[i] *= q->dims[i + 1];
			for (int s = 0; s < RT_BG_SLOTS; s++)
				q->st[s][i] = q->st[s][i + 1];
			drop_batch(q, i + 1);
		} else {
			i++;
		}
	}
	while (q->nb > 0 && (fold_m(q, q->nb - 1) || fold_n(q, q->nb - 1)))
		q->nb--;
}

/* Emit Y = alpha * (A - za)(B - zb) + beta * C as one rt_bgemm call. */
static void mm_emit(Graph *g, Node *n, Value *A, Value *B, Value *C, Value *za, Value *zb,
		    Value *Y, Mm *q, double alpha, double beta)
{
	if (!numel(Y))
		return;
	if (C && beta == 0)
		C = NULL;
	mm_simplify(q);
	if (q->nb > RT_MM_MAXB)
		node_fatal(n, "internal error: %d batch dims for rt_bgemm", q->nb);
	Value *ws = NULL;
	int64_t big = q->M > q->N ? q->M : q->N;
	if (A->dtype == RT_F32 && B->dtype == RT_F32 && !za && !zb && q->M > 1 && q->N > 1 &&
	    (double)q->M * q->N * q->K >= 32768) {
		int64_t w = RT_MM_WS(q->K, big);
		ws = temp_value(g, RT_F32, 1, &w);
	}
	Call *c = call_new(g, n, "rt_bgemm");
	call_in(c, A);
	call_in(c, B);
	call_in(c, C);
	call_in(c, za);
	call_in(c, zb);
	call_out(c, Y);
	call_out(c, ws);
	call_p(c, A->dtype);
	call_p(c, B->dtype);
	call_p(c, Y->dtype);
	call_p(c, q->M);
	call_p(c, q->N);
	call_p(c, q->K);
	call_p(c, q->asm_);
	call_p(c, q->ask);
	call_p(c, q->bsk);
	call_p(c, q->bsn);
	call_p(c, q->ysm);
	call_p(c, q->ysn);
	call_p(c, q->csm);
	call_p(c, q->csn);
	call_p(c, q->zsm);
	call_p(c, q->zsn);
	call_pf(c, alpha);
	call_pf(c, beta);
	call_p(c, ws ? numel(ws) : 0);
	call_p(c, q->nb);
	call_pv(c, q->dims, q->nb);
	for (int s = 0; s < RT_BG_SLOTS; s++)
		call_pv(c, q->st[s], q->nb);
}

/* ------------------------------------------------------------ MatMul */

static int mm_int_type(int dt)
{
	return dt == RT_U8 || dt == RT_I8;
}

static void infer_matmul(Graph *g, Node *n)
{
	(void)g;
	Value *a = n->in[0], *b = n->in[1];
	int integer = !strcmp(n->op, "MatMulInteger");
	if (a->rank < 1 || b->rank < 1)
		node_fatal(n, "inputs must have rank >= 1 (got %s x %s)", shape_str(a), shape_str(b));
	if (integer) {
		if (!mm_int_type(a->dtype) || !mm_int_type(b->dtype))
			node_fatal(n, "inputs must be uint8 or int8 (got %s, %s)", dtype_name(a->dtype),
				   dtype_name(b->dtype));
		for (int i = 2; i < n->nin; i++) {
			Value *z = n->in[i];
			if (z && z->dtype != n->in[i - 2]->dtype)
				node_fatal(n, "zero point '%s' must have the type of input %d", z->name, i - 2);
		}
	} else {
		if (a->dtype != b->dtype)
			node_fatal(n, "inputs differ in type (%s, %s)", dtype_name(a->dtype), dtype_name(b->dtype));
		if (!rt_dtype_size(a->dtype) || a->dtype == RT_BOOL)
			node_fatal(n, "type %s is not supported", dtype_name(a->dtype));
	}
	int64_t K = a->dims[a->rank - 1];
	int64_t Kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
	if (K != Kb)
		node_fatal(n, "inner dims differ: %s x %s", shape_str(a), shape_str(b));
	int64_t out[RT_MAXDIM];
	int ra = a->rank > 2 ? a->rank - 2 : 0, rb = b->rank > 2 ? b->rank - 2 : 0;
	int r = broadcast_shapes(ra, a->dims, rb, b->dims, out);
	if (r < 0)
		node_fatal(n, "batch dims do not broadcast: %s x %s", shape_str(a), shape_str(b));
	if (a->rank > 1)
		out[r++] = a->dims[a->rank - 2];
	if (b->rank > 1)
		out[r++] = b->dims[b->rank - 1];
	if (integer) {
		int64_t M = a->rank > 1 ? a->dims[a->rank - 2] : 1, N = b->rank > 1 ? b->dims[b->rank - 1] : 1;
		Value *za = node_in(n, 2), *zb = node_in(n, 3);
		if (za && numel(za) != 1 && !(za->rank == 1 && za->dims[0] == M) &&
		    !(za->rank == a->rank && za->dims[za->rank - 1] == 1))
			node_fatal(n, "a_zero_point %s must be a scalar, [M] or A's shape with last dim 1",
				   shape_str(za));
		if (zb && numel(zb) != 1 && !(zb->rank == 1 && zb->dims[0] == N) &&
		    !(zb->rank == b->rank && b->rank > 1 && zb->dims[zb->rank - 2] == 1))
			node_fatal(n, "b_zero_point %s must be a scalar, [N] or B's shape with dim -2 of 1",
				   shape_str(zb));
	}
	set_shape(n->out[0], integer ? RT_I32 : a->dtype, r, out);
}

/* Batch strides of a tensor whose first vr dims are batch dims (item
 * elements per batch index), right-aligned to the nbo output batch dims. */
static void batch_st(const int64_t *vd, int vr, int64_t item, int nbo, const int64_t *od, int64_t *st)
{
	int64_t s = item;
	for (int i = nbo - 1; i >= 0; i--) {
		int j = i - (nbo - vr);
		if (j < 0) {
			st[i] = 0;
			continue;
		}
		st[i] = vd[j] == 1 || od[i] == 1 ? 0 : s;
		s *= vd[j];
	}
}

static void lower_matmul(Graph *g, Node *n)
{
	Value *a = n->in[0], *b = n->in[1], *y = n->out[0];
	Value *za = node_in(n, 2), *zb = node_in(n, 3);
	Mm q;
	memset(&q, 0, sizeof q);
	q.M = a->rank > 1 ? a->dims[a->rank - 2] : 1;
	q.K = a->dims[a->rank - 1];
	q.N = b->rank > 1 ? b->dims[b->rank - 1] : 1;
	q.asm_ = q.K, q.ask = 1, q.bsk = q.N, q.bsn = 1, q.ysm = q.N, q.ysn = 1;
	int nbo = y->rank - (a->rank > 1) - (b->rank > 1);
	q.nb = nbo;
	memcpy(q.dims, y->dims, nbo * sizeof(int64_t));
	batch_st(a->dims, a->rank > 2 ? a->rank - 2 : 0, q.M * q.K, nbo, y->dims, q.st[S_A]);
	batch_st(b->dims, b->rank > 2 ? b->rank - 2 : 0, q.K * q.N, nbo, y->dims, q.st[S_B]);
	batch_st(y->dims, nbo, q.M * q.N, nbo, y->dims, q.st[S_Y]);
	if (za && numel(za) > 1) {
		if (za->rank == 1) {
			q.zsm = 1;
		} else {
			q.zsm = za->dims[za->rank - 2] > 1 ? 1 : 0;
			batch_st(za->dims, za->rank - 2, za->dims[za->rank - 2], nbo, y->dims, q.st[S_ZA]);
		}
	}
	if (zb && numel(zb) > 1) {
		if (zb->rank == 1) {
			q.zsn = 1;
		} else {
			q.zsn = zb->dims[zb->rank - 1] > 1 ? 1 : 0;
			batch_st(zb->dims, zb->rank - 2, zb->dims[zb->rank - 1], nbo, y->dims, q.st[S_ZB]);
		}
	}
	mm_emit(g, n, a, b, NULL, za, zb, y, &q, 1, 0);
}

/* ------------------------------------------------------------ Gemm */

static void infer_gemm(Graph *g, Node *n)
{
	(void)g;
	Value *a = n->in[0], *b = n->in[1], *c = node_in(n, 2);
	need_rank(n, 0, 2, 2);
	need_rank(n, 1, 2, 2);
	if (a->dtype != b->dtype)
		node_fatal(n, "inputs A and B differ in type (%s, %s)", dtype_name(a->dtype), dtype_name(b->dtype));
	if (!rt_dtype_size(a->dtype) || a->dtype == RT_BOOL)
		node_fatal(n, "type %s is not supported", dtype_name(a->dtype));
	int ta = attr_i(n, "transA", 0) != 0, tb = attr_i(n, "transB", 0) != 0;
	int64_t M = a->dims[ta], K = a->dims[!ta], Kb = b->dims[tb], N = b->dims[!tb];
	if (K != Kb)
		node_fatal(n, "inner dims differ: A %s%s x B %s%s", shape_str(a), ta ? " (transposed)" : "",
			   shape_str(b), tb ? " (transposed)" : "");
	int64_t dims[2] = { M, N };
	if (c) {
		if (c->dtype != a->dtype)
			node_fatal(n, "input C is %s, A is %s", dtype_name(c->dtype), dtype_name(a->dtype));
		int64_t out[RT_MAXDIM];
		if (c->rank > 2 || broadcast_shapes(2, dims, c->rank, c->dims, out) != 2 || out[0] != M ||
		    out[1] != N)
			node_fatal(n, "input C %s does not broadcast to [%lld,%lld]", shape_str(c), (long long)M,
				   (long long)N);
	}
	set_shape(n->out[0], a->dtype, 2, dims);
}

static void lower_gemm(Graph *g, Node *n)
{
	Value *a = n->in[0], *b = n->in[1], *c = node_in(n, 2), *y = n->out[0];
	int ta = attr_i(n, "transA", 0) != 0, tb = attr_i(n, "transB", 0) != 0;
	Mm q;
	memset(&q, 0, sizeof q);
	q.M = y->dims[0], q.N = y->dims[1], q.K = a->dims[!ta];
	q.asm_ = ta ? 1 : q.K, q.ask = ta ? q.M : 1;
	q.bsk = tb ? 1 : q.N, q.bsn = tb ? q.K : 1;
	q.ysm = q.N, q.ysn = 1;
	if (c) {
		int64_t st[2];
		bcast_strides(c, 2, y->dims, st);
		q.csm = st[0], q.csn = st[1];
	}
	mm_emit(g, n, a, b, c, NULL, NULL, y, &q, attr_f(n, "alpha", 1.0), c ? attr_f(n, "beta", 1.0) : 0);
}

/* ------------------------------------------------------------ Einsum */

/* Index labels: ellipsis dims 0..7, then 'A'..'Z', then 'a'..'z', so that
 * label order is the implicit output's order (ellipsis first, then ASCII). */
#define EL 60
#define EL_ELL 8

typedef struct {
	int nop;
	int nlab[MAXT];        /* labels in the term (ellipsis expanded) */
	int lab[MAXT][RT_MAXDIM];
	int nout, out[RT_MAXDIM];
	int64_t size[EL];
	int inout[EL];
} Ein;

/* A tensor seen through its labels: per-label stride (diagonals summed,
 * broadcast size-1 dims 0). */
typedef struct {
	Value *v;
	int has[EL];
	int64_t st[EL];
} View;

static int label_of(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return EL_ELL + ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return EL_ELL + 26 + ch - 'a';
	return -1;
}

static char *label_name(int l)
{
	if (l < EL_ELL)
		return fmt("...[%d]", l);
	return fmt("%c", l < EL_ELL + 26 ? 'A' + l - EL_ELL : 'a' + l - EL_ELL - 26);
}

/* Parse one term into labels; ell receives the position of "..." or -1. */
static int parse_term(Node *n, const char *eq, const char *s, int len, int *labs, int *ell)
{
	int k = 0;
	*ell = -1;
	for (int i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (*ell >= 0 || i + 2 >= len || s[i + 1] != '.' || s[i + 2] != '.')
				node_fatal(n, "equation '%s': a term may contain one '...' and no other dots", eq);
			*ell = k;
			i += 2;
			continue;
		}
		int l = label_of(s[i]);
		if (l < 0)
			node_fatal(n, "equation '%s': invalid character '%c' (indices are letters)", eq, s[i]);
		if (k == RT_MAXDIM)
			node_fatal(n, "equation '%s': a term has more than %d indices", eq, RT_MAXDIM);
		labs[k++] = l;
	}
	return k;
}

static void ein_parse(Node *n, Ein *e)
{
	const char *eq0 = attr_s(n, "equation", NULL);
	if (!eq0)
		node_fatal(n, "attribute 'equation' is required");
	char *eq = xstrdup(eq0);
	int j = 0;
	for (int i = 0; eq0[i]; i++)
		if (eq0[i] != ' ')
			eq[j++] = eq0[i];
	eq[j] = 0;
	memset(e, 0, sizeof *e);
	const char *arrow = strstr(eq, "->");
	int lhs_len = arrow ? (int)(arrow - eq) : (int)strlen(eq);
	if (arrow && (strstr(arrow + 2, "-") || strstr(arrow + 2, ">")))
		node_fatal(n, "equation '%s' has more than one '->'", eq0);
	for (int i = 0; i < lhs_len; i++)
		if (eq[i] == '-' || eq[i] == '>')
			node_fatal(n, "equation '%s': stray '%c'", eq0, eq[i]);

	int nin = 0;
	for (int i = 0; i < n->nin; i++)
		if (n->in[i])
			nin++;
	if (nin != n->nin || nin < 1)
		node_fatal(n, "every input is required");
	int nterms = 1;
	for (int i = 0; i < lhs_len; i++)
		nterms += eq[i] == ',';
	if (nterms != n->nin)
		node_fatal(n, "equation '%s' has %d operand term%s but the node has %d input%s", eq0, nterms,
			   nterms > 1 ? "s" : "", n->nin, n->nin > 1 ? "s" : "");
	if (n->nin > MAXT - 1)
		node_fatal(n, "more than %d operands", MAXT - 1);
	e->nop = n->nin;

	/* terms: letters and ellipsis, ellipsis dims right-aligned */
	int letters[MAXT][RT_MAXDIM], nlet[MAXT], ell[MAXT], E = 0, ne[MAXT];
	const char *s = eq;
	for (int i = 0; i < e->nop; i++) {
		const char *end = s;
		while (end < eq + lhs_len && *end != ',')
			end++;
		Value *v = n->in[i];
		nlet[i] = parse_term(n, eq0, s, (int)(end - s), letters[i], &ell[i]);
		ne[i] = v->rank - nlet[i];
		if (ne[i] < 0 || (ell[i] < 0 && ne[i] != 0))
			node_fatal(n, "equation '%s': term %d '%.*s' has %d ind%s but input %d '%s' has rank %d", eq0,
				   i, (int)(end - s), s, nlet[i], nlet[i] == 1 ? "ex" : "ices", i, v->name, v->rank);
		if (ne[i] > E)
			E = ne[i];
		s = end + 1;
	}
	for (int l = 0; l < EL; l++)
		e->size[l] = -1;
	for (int i = 0; i < e->nop; i++) {
		Value *v = n->in[i];
		int k = 0;
		for (int d = 0; d < nlet[i]; d++) {
			if (d == ell[i])
				for (int x = 0; x < ne[i]; x++)
					e->lab[i][k++] = E - ne[i] + x;
			e->lab[i][k++] = letters[i][d];
		}
		if (ell[i] == nlet[i])
			for (int x = 0; x < ne[i]; x++)
				e->lab[i][k++] = E - ne[i] + x;
		e->nlab[i] = k;
		for (int d = 0; d < k; d++) {
			int l = e->lab[i][d];
			int64_t sz = v->dims[d];
			for (int d2 = 0; d2 < d; d2++)
				if (e->lab[i][d2] == l && v->dims[d2] != sz)
					node_fatal(n, "equation '%s': repeated index '%s' of input %d has sizes %lld and %lld",
						   eq0, label_name(l), i, (long long)v->dims[d2], (long long)sz);
			if (e->size[l] < 0 || e->size[l] == 1)
				e->size[l] = sz;
			else if (sz != 1 && sz != e->size[l])
				node_fatal(n, "equation '%s': index '%s' is %lld in input %d '%s' %s but %lld elsewhere",
					   eq0, label_name(l), (long long)sz, i, v->name, shape_str(v),
					   (long long)e->size[l]);
		}
	}

	/* output */
	if (arrow) {
		const char *r = arrow + 2;
		int labs[RT_MAXDIM], oell;
		int k = parse_term(n, eq0, r, (int)strlen(r), labs, &oell);
		if (E > 0 && oell < 0)
			node_fatal(n, "equation '%s': the inputs have '...' dims, the output has no '...'", eq0);
		for (int d = 0; d <= k; d++) {
			if (d == oell)
				for (int x = 0; x < E; x++) {
					if (e->nout == RT_MAXDIM)
						node_fatal(n, "equation '%s': output rank above %d", eq0, RT_MAXDIM);
					e->out[e->nout++] = x;
				}
			if (d == k)
				break;
			int l = labs[d];
			if (e->size[l] < 0)
				node_fatal(n, "equation '%s': output index '%s' is in no input", eq0, label_name(l));
			if (e->inout[l])
				node_fatal(n, "equation '%s': output index '%s' is repeated", eq0, label_name(l));
			e->inout[l] = 1;
			e->out[e->nout++] = l;
		}
		for (int x = 0; x < E; x++)
			e->inout[x] = 1;
	} else {
		int count[EL] = { 0 };
		for (int i = 0; i < e->nop; i++)
			for (int d = 0; d < e->nlab[i]; d++)
				count[e->lab[i][d]]++;
		for (int l = 0; l < EL; l++)
			if ((l < E) || (l >= EL_ELL && count[l] == 1)) {
				if (e->nout == RT_MAXDIM)
					node_fatal(n, "equation '%s': output rank above %d", eq0, RT_MAXDIM);
				e->inout[l] = 1;
				e->out[e->nout++] = l;
			}
	}
	free(eq);
}

static void infer_einsum(Graph *g, Node *n)
{
	(void)g;
	Ein e;
	for (int i = 1; i < n->nin; i++)
		if (n->in[i] && n->in[i]->dtype != n->in[0]->dtype)
			node_fatal(n, "input %d '%s' is %s, input 0 is %s", i, n->in[i]->name,
				   dtype_name(n->in[i]->dtype), dtype_name(n->in[0]->dtype));
	if (!rt_dtype_size(n->in[0]->dtype) || n->in[0]->dtype == RT_BOOL)
		node_fatal(n, "type %s is not supported", dtype_name(n->in[0]->dtype));
	ein_parse(n, &e);
	int64_t dims[RT_MAXDIM];
	for (int d = 0; d < e.nout; d++)
		dims[d] = e.size[e.out[d]];
	set_shape(n->out[0], n->in[0]->dtype, e.nout, dims);
}

/* View of input i through its term's labels. */
static void view_of(const Ein *e, int i, Value *v, View *w)
{
	int64_t st[RT_MAXDIM];
	memset(w, 0, sizeof *w);
	w->v = v;
	contig_strides(v->rank, v->dims, st);
	for (int d = 0; d < e->nlab[i]; d++) {
		int l = e->lab[i][d];
		w->has[l] = 1;
		if (v->dims[d] != 1)
			w->st[l] += st[d];
	}
}

/* View of a contiguous tensor whose dims are the labels labs[0..k). */
static void view_contig(const Ein *e, Value *v, const int *labs, int k, View *w)
{
	memset(w, 0, sizeof *w);
	w->v = v;
	int64_t s = 1;
	for (int d = k - 1; d >= 0; d--) {
		w->has[labs[d]] = 1;
		w->st[labs[d]] = e->size[labs[d]] == 1 ? 0 : s;
		s *= e->size[labs[d]];
	}
}

/* Y (contiguous over the labels outl[0..nout)) = sum over every other label
 * of the views of the product of the views: one rt_einsum call. */
static void ein_generic(Graph *g, Node *n, const Ein *e, const View *w, int nop, const int *outl,
			int nout, Value *Y)
{
	int labs[EL], nl = 0, isout[EL] = { 0 };
	if (!numel(Y))
		return;
	for (int d = 0; d < nout; d++) {
		isout[outl[d]] = 1;
		if (e->size[outl[d]] != 1)
			labs[nl++] = outl[d];
	}
	int nso = nl;
	for (int l = 0; l < EL; l++) {
		int used = 0;
		for (int i = 0; i < nop; i++)
			used |= w[i].has[l];
		if (used && !isout[l] && e->size[l] != 1)
			labs[nl++] = l;
	}
	if (nl > RT_EIN_MAXIDX)
		node_fatal(n, "Einsum with %d distinct indices (at most %d)", nl, RT_EIN_MAXIDX);
	Call *c = call_new(g, n, "rt_einsum");
	for (int i = 0; i < nop; i++)
		call_in(c, w[i].v);
	call_out(c, Y);
	call_p(c, Y->dtype);
	call_p(c, nop);
	call_p(c, nso);
	call_p(c, nl - nso);
	for (int d = 0; d < nl; d++)
		call_p(c, e->size[labs[d]]);
	for (int i = 0; i < nop; i++)
		for (int d = 0; d < nl; d++)
			call_p(c, w[i].st[labs[d]]);
}

/* Copy the view into a contiguous temporary with dims labs[0..k). */
static void ein_copy(Graph *g, Node *n, const Ein *e, View *w, const int *labs, int k)
{
	int64_t dims[RT_MAXDIM] = { 0 };
	for (int d = 0; d < k; d++)
		dims[d] = e->size[labs[d]];
	Value *t = temp_value(g, w->v->dtype, k, dims);
	ein_generic(g, n, e, w, 1, labs, k, t);
	view_contig(e, t, labs, k, w);
}

/* Labels of a view (size > 1) in descending stride order. */
static int view_labels(const Ein *e, const View *w, int *labs)
{
	int k = 0;
	for (int l = 0; l < EL; l++)
		if (w->has[l] && e->size[l] != 1)
			labs[k++] = l;
	for (int i = 1; i < k; i++)
		for (int j = i; j > 0 && w->st[labs[j]] > w->st[labs[j - 1]]; j--) {
			int x = labs[j];
			labs[j] = labs[j - 1];
			labs[j - 1] = x;
		}
	return k;
}

/* Whether the labels ls[0..k) of w form one stride (outer to inner). */
static int mergeable(const Ein *e, const View *w, const int *ls, int k)
{
	for (int d = 0; d + 1 < k; d++)
		if (w->st[ls[d]] != w->st[ls[d + 1]] * e->size[ls[d + 1]])
			return 0;
	return 1;
}

/* Copy w so that the labels ls[0..k) come last, contiguous, in that order. */
static void ein_copy_last(Graph *g, Node *n, const Ein *e, View *w, const int *ls, int k)
{
	int labs[EL], nl = 0, all[EL];
	int na = view_labels(e, w, all);
	for (int d = 0; d < na; d++) {
		int in = 0;
		for (int x = 0; x < k; x++)
			in |= ls[x] == all[d];
		if (!in)
			labs[nl++] = all[d];
	}
	for (int x = 0; x < k; x++)
		labs[nl++] = ls[x];
	ein_copy(g, n, e, w, labs, nl);
}

/* A group of labels (M or N): merged runs in the given order; the largest
 * run stays the GEMM dim, the other runs become batch dims.  st0/st1: the
 * two views that move along the group (A or B, and Y). */
static void ein_group(const Ein *e, const View *x, const View *y, const int *ls, int k, int64_t *size,
		      int64_t *sx, int64_t *sy, Mm *q, int sx_slot)
{
	int64_t rs[RT_MAXDIM * 2], rx[RT_MAXDIM * 2], ry[RT_MAXDIM * 2];
	int nr = 0;
	for (int d = 0; d < k; d++) {
		int l = ls[d];
		if (nr > 0 && rx[nr - 1] == x->st[l] * e->size[l] && ry[nr - 1] == y->st[l] * e->size[l]) {
			rs[nr - 1] *= e->size[l];
			rx[nr - 1] = x->st[l];
			ry[nr - 1] = y->st[l];
			continue;
		}
		rs[nr] = e->size[l], rx[nr] = x->st[l], ry[nr] = y->st[l];
		nr++;
	}
	*size = 1, *sx = 0, *sy = 0;
	int best = -1;
	for (int r = 0; r < nr; r++)
		if (best < 0 || rs[r] > rs[best])
			best = r;
	for (int r = 0; r < nr; r++) {
		if (r == best) {
			*size = rs[r], *sx = rx[r], *sy = ry[r];
			continue;
		}
		int b = q->nb++;
		q->dims[b] = rs[r];
		for (int s = 0; s < RT_BG_SLOTS; s++)
			q->st[s][b] = 0;
		q->st[sx_slot][b] = rx[r];
		q->st[S_Y][b] = ry[r];
	}
}

static void lower_einsum(Graph *g, Node *n)
{
	Ein e;
	Value *Y = n->out[0];
	ein_parse(n, &e);
	if (!numel(Y))
		return;
	View w[MAXT], wy;
	for (int i = 0; i < e.nop; i++)
		view_of(&e, i, n->in[i], &w[i]);
	view_contig(&e, Y, e.out, e.nout, &wy);
	if (e.nop != 2) {
		ein_generic(g, n, &e, w, e.nop, e.out, e.nout, Y);
		return;
	}

	/* indices of one input only, not in the output: summed first */
	for (int i = 0; i < 2; i++) {
		int keep[EL], nk = 0, drop = 0;
		for (int d = 0; d < e.nlab[i]; d++) {
			int l = e.lab[i][d], seen = 0;
			if (e.size[l] == 1)
				continue;
			for (int x = 0; x < nk; x++)
				seen |= keep[x] == l;
			if (seen)
				continue;
			if (e.inout[l] || w[1 - i].has[l])
				keep[nk++] = l;
			else
				drop = 1;
		}
		if (drop)
			ein_copy(g, n, &e, &w[i], keep, nk);
	}

	/* classify */
	int bl[EL], ml[EL], nl[EL], kl[EL], nbl = 0, nml = 0, nnl = 0, nkl = 0;
	for (int d = 0; d < e.nout; d++) {
		int l = e.out[d];
		if (e.size[l] == 1)
			continue;
		if (w[0].has[l] && w[1].has[l])
			bl[nbl++] = l;
		else if (w[0].has[l])
			ml[nml++] = l;
		else
			nl[nnl++] = l;
	}
	{
		int all[EL], na = view_labels(&e, &w[0], all);
		for (int d = 0; d < na; d++)
			if (!e.inout[all[d]] && w[1].has[all[d]])
				kl[nkl++] = all[d];
	}
	if (!mergeable(&e, &w[0], kl, nkl))
		ein_copy_last(g, n, &e, &w[0], kl, nkl);
	if (!mergeable(&e, &w[1], kl, nkl)) {
		/* B: K labels first (rows), the rest after */
		int labs[EL], k = 0, all[EL], na = view_labels(&e, &w[1], all);
		for (int x = 0; x < nkl; x++)
			labs[k++] = kl[x];
		for (int d = 0; d < na; d++) {
			int in = 0;
			for (int x = 0; x < nkl; x++)
				in |= kl[x] == all[d];
			if (!in)
				labs[k++] = all[d];
		}
		ein_copy(g, n, &e, &w[1], labs, k);
	}

	Mm q;
	memset(&q, 0, sizeof q);
	q.K = 1;
	for (int x = 0; x < nkl; x++)
		q.K *= e.size[kl[x]];
	q.ask = nkl ? w[0].st[kl[nkl - 1]] : 0;
	q.bsk = nkl ? w[1].st[kl[nkl - 1]] : 0;
	for (int x = 0; x < nbl; x++) {
		int b = q.nb++, l = bl[x];
		q.dims[b] = e.size[l];
		q.st[S_A][b] = w[0].st[l];
		q.st[S_B][b] = w[1].st[l];
		q.st[S_Y][b] = wy.st[l];
	}
	ein_group(&e, &w[0], &wy, ml, nml, &q.M, &q.asm_, &q.ysm, &q, S_A);
	ein_group(&e, &w[1], &wy, nl, nnl, &q.N, &q.bsn, &q.ysn, &q, S_B);
	/* mm_simplify merges batch dims only when adjacent in this order; with
	 * more than RT_MM_MAXB left, fall back to the loop nest */
	Mm t = q;
	mm_simplify(&t);
	if (t.nb > RT_MM_MAXB) {
		ein_generic(g, n, &e, w, 2, e.out, e.nout, Y);
		return;
	}
	mm_emit(g, n, w[0].v, w[1].v, NULL, NULL, NULL, Y, &q, 1, 0);
}

/* The labels of a valid two-operand Einsum's terms (ellipsis dims as
 * labels 0..7), for attn.c: lab[0], lab[1] the inputs', lab[2] the
 * output's, nlab[] their ranks; 0 if n is not such an Einsum. */
int einsum_labels(Node *n, int *nlab, int (*lab)[RT_MAXDIM])
{
	Ein e;
	if (strcmp(n->op, "Einsum") || *n->domain || n->nin != 2 || !n->in[0] || !n->in[1])
		return 0;
	ein_parse(n, &e);
	for (int i = 0; i < 2; i++) {
		nlab[i] = e.nlab[i];
		memcpy(lab[i], e.lab[i], e.nlab[i] * sizeof(int));
	}
	nlab[2] = e.nout;
	memcpy(lab[2], e.out, e.nout * sizeof(int));
	return 1;
}

const OpDef ops_matmul[] = {
	{ "MatMul", 2, 2, 1, 1, infer_matmul, lower_matmul },
	{ "MatMulInteger", 2, 4, 1, 1, infer_matmul, lower_matmul },
	{ "Gemm", 2, 3, 1, 1, infer_gemm, lower_gemm },
	{ "Einsum", 1, MAXT - 1, 1, 1, infer_einsum, lower_einsum },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};
