/* attn.c: attention as one kernel call.
 *
 * Runs after chain.c, over the full window's nodes and the step program's
 * alike.  The chain
 *
 *   X = Einsum(Q, K)      the scores: one contracted label d; X's last two
 *                         axes the rows t (in Q only) and the keys s (in K only)
 *   Y = EwChain(X, ...)   the scale and mask: + - * / of X and read-only leaves
 *                         (or nothing)
 *   P = SinkSoftmax(Y, z) or Softmax(Y) over the last axis
 *   O = Einsum(P, V)      contracted over s, the other labels kept
 *
 * becomes one AttnChain node, lowered to rt_attn_chain (runtime/matmul.c):
 * a block of RT_AT_ROWS rows of one head at a time, so the [.., T, S]
 * scores and probabilities are never stored whole (a scratch of RT_AT_ROWS
 * rows instead).
 *
 * The outputs keep their bits (tests/kvcache compares with --no-chains): the
 * kernel calls rt_matmul_f32, rt_ew_chain's ops and rt_softmax's rows, and
 * only shapes where rt_matmul_f32 computes every element the same way
 * whatever rows it is given are fused: Q.K with Q and K contiguous along d
 * and d >= 8 (the dot path, as rt_bgemm takes it for any M), P.V with P
 * first and V contiguous along its output label e (one FMA chain over the
 * keys per element, whatever the path).  Anything else stays as it is.
 */
#include "gptossc.h"
#include "../runtime/elementwise.h"
#include "../runtime/matmul.h"

#define NLAB 64 /* > the label codes of op_matmul.c */

/* An Einsum operand or output seen through its labels: the stride of each
 * label (0 for a dim of 1, as rt_bgemm's lowering has it), -1 if absent. */
typedef struct {
	int64_t st[NLAB];
} Lab;

/* labels lab[0..k) of a contiguous tensor of dims; 0 if a label repeats */
static int lab_strides(const int *lab, int k, const int64_t *dims, Lab *w)
{
	int64_t s = 1;
	for (int l = 0; l < NLAB; l++)
		w->st[l] = -1;
	for (int d = k - 1; d >= 0; d--) {
		if (lab[d] < 0 || lab[d] >= NLAB || w->st[lab[d]] != -1)
			return 0;
		w->st[lab[d]] = dims[d] == 1 ? 0 : s;
		s *= dims[d];
	}
	return 1;
}

static int64_t st0(const Lab *w, int l)
{
	return w->st[l] < 0 ? 0 : w->st[l];
}

static int is_f32(const Value *v)
{
	return v && v->dtype == RT_F32;
}

static void attn_infer(Graph *g, Node *n)
{
	(void)g;
	(void)n; /* the output keeps the P.V Einsum's shape */
}

static void attn_lower(Graph *g, Node *n)
{
	int64_t S = n->prog[RT_AT_S], rb = n->prog[RT_AT_RB], w = rb * S;
	Value *scratch = temp_value(g, RT_F32, 1, &w);
	Call *c = call_new(g, n, "rt_attn_chain");
	for (int i = 0; i < n->nin; i++)
		call_in(c, n->in[i]);
	call_out(c, n->out[0]);
	call_out(c, scratch);
	call_pv(c, n->prog, n->nprog);
}

static const OpDef attn_def = { "AttnChain", 4, 4 + 16, 1, 1, attn_infer, attn_lower };

/* O = pv's output: fused when the chain above matches */
static void fuse_one(Graph *g, Node *pv)
{
	int nlab[3], lab[3][RT_MAXDIM], qlab[3], ql[3][RT_MAXDIM];
	if (pv->dead || !einsum_labels(pv, nlab, lab) || !is_f32(pv->out[0]))
		return;
	/* the softmax */
	Value *P = pv->in[0], *V = pv->in[1], *O = pv->out[0], *z = NULL;
	Node *sm = P->producer;
	if (!sm || sm->dead || P->nuses != 1 || is_protected(g, P) || !is_f32(P) || !is_f32(V) || P->rank < 2)
		return;
	int k = P->rank;
	if (!strcmp(sm->op, "SinkSoftmax")) {
		z = sm->in[1];
	} else if (strcmp(sm->op, "Softmax") || *sm->domain ||
		   norm_axis(sm, attr_i(sm, "axis", sm->opset >= 13 ? -1 : 1), k) != k - 1) {
		return;
	}
	/* the scale and mask program, or none */
	Value *Y = sm->in[0], *X = Y;
	Node *mid = Y->producer;
	if (!mid || mid->dead || Y->nuses != 1 || is_protected(g, Y) || !is_f32(Y) || Y->rank != k ||
	    Y->dims[k - 1] < 2)
		return;
	int xl = 0;
	int64_t lone[4 + 5 * 3] = { 0 }; /* a lone binary node's program */
	const int64_t *mp = NULL;       /* mid's program (rt_ew_chain's p) */
	int nmp = 0;
	if (!strcmp(mid->op, "EwChain")) {
		const int64_t *pr = mid->prog, *ops = pr + 4 + 5 * pr[0];
		int nl = (int)pr[0], ni = (int)pr[1], found = 0;
		for (int i = 0; i < ni; i++)
			if (ops[5 * i] < RT_ADD || ops[5 * i] > RT_DIV)
				return;
		for (int l = 0; l < nl; l++) {
			Node *p = mid->in[l]->producer;
			if (p && !p->dead && !strcmp(p->op, "Einsum"))
				found++, xl = l, X = mid->in[l];
		}
		/* the scores, read as they are: element r L + j */
		const int64_t *q = pr + 4 + 5 * xl;
		if (found != 1 || X == Y || q[0] != 0 || q[1] != 1 ||
		    (pr[2] > 1 && (q[2] != pr[3] || q[3] != 1 || q[4] != pr[2])))
			return;
		mp = mid->prog, nmp = mid->nprog;
	} else if (strcmp(mid->op, "Add") && strcmp(mid->op, "Sub") && strcmp(mid->op, "Mul") && strcmp(mid->op, "Div")) {
		mid = NULL; /* no program: X = Y */
	} else { /* a lone binary node (chain.c makes no chain of one): its one op */
		static const char *const names[] = { "Add", "Sub", "Mul", "Div" };
		int code = RT_ADD;
		while (strcmp(mid->op, names[code - RT_ADD]))
			code++;
		if (*mid->domain || mid->nin != 2 || !mid->in[0] || !mid->in[1] || mid->in[0] == mid->in[1])
			return;
		xl = -1;
		for (int l = 0; l < 2; l++) {
			Node *p = mid->in[l]->producer;
			if (p && !p->dead && !strcmp(p->op, "Einsum"))
				xl = xl < 0 ? l : 2;
		}
		if (xl < 0 || xl > 1 || !is_f32(mid->in[1 - xl]))
			return;
		X = mid->in[xl];
		lone[0] = 2, lone[1] = 1, lone[2] = numel(Y) / Y->dims[k - 1], lone[3] = Y->dims[k - 1];
		lone[4 + 5 * xl + 2] = lone[3], lone[4 + 5 * xl + 1] = 1;
		lone[4 + 5 * xl + 3] = 1, lone[4 + 5 * xl + 4] = lone[2];
		if (!chain_leaf(g, Y, mid->in[1 - xl], lone + 4 + 5 * (1 - xl)))
			return;
		lone[4 + 10] = code, lone[4 + 11] = 0, lone[4 + 12] = 1;
		mp = lone, nmp = 4 + 5 * 3;
	}
	Node *qk = X->producer;
	if (!qk || qk->dead || X->nuses != 1 || is_protected(g, X) || !einsum_labels(qk, qlab, ql) || X->rank != k ||
	    memcmp(X->dims, P->dims, k * sizeof *X->dims) || memcmp(Y->dims, P->dims, k * sizeof *X->dims))
		return;
	int64_t T = X->dims[k - 2], S = X->dims[k - 1], R = numel(X) / (S ? S : 1);
	if (S < 2 || T < 1 || (z && numel(z) != R) || !is_f32(X) || (mp && mp[3] != S))
		return;

	/* Q.K: rows t (Q only), keys s (K only), one contracted d in both,
	 * contiguous in both; every other label an output batch label.  Q is
	 * the operand with t, first or second: each score is a dot product of
	 * the two rows either way. */
	int qi = 0;
	Lab wq, wk, wx;
	if (!lab_strides(ql[2], qlab[2], X->dims, &wx))
		return;
	int lt = ql[2][k - 2], ls = ql[2][k - 1], ld = -1;
	for (int d = 0; d < qlab[1]; d++)
		qi |= ql[1][d] == lt;
	Value *Q = qk->in[qi], *K = qk->in[1 - qi];
	if (!is_f32(Q) || !is_f32(K) || !lab_strides(ql[qi], qlab[qi], Q->dims, &wq) ||
	    !lab_strides(ql[1 - qi], qlab[1 - qi], K->dims, &wk))
		return;
	if (wq.st[lt] < 0 || wk.st[lt] >= 0 || wk.st[ls] < 0 || wq.st[ls] >= 0)
		return;
	for (int i = 0; i < 2; i++)
		for (int d = 0; d < qlab[i]; d++) {
			int l = ql[i][d];
			if (wx.st[l] >= 0)
				continue;
			if (ld >= 0 && ld != l)
				return;
			ld = l;
		}
	if (ld < 0 || wq.st[ld] != 1 || wk.st[ld] != 1)
		return;
	int64_t D = 0;
	for (int d = 0; d < qlab[qi]; d++)
		if (ql[qi][d] == ld)
			D = Q->dims[d];
	for (int d = 0; d < qlab[1 - qi]; d++)
		if (ql[1 - qi][d] == ls && K->dims[d] != S)
			return;
	if (D < 8)
		return;

	/* P.V: P's labels are the scores' axes (batch, t, s); V has s, one
	 * label e of its own, contiguous, and batch labels; O has exactly the
	 * batch labels, t and e */
	Lab wp, wv, wo;
	if (nlab[0] != k || !lab_strides(lab[0], k, P->dims, &wp) || !lab_strides(lab[1], nlab[1], V->dims, &wv) ||
	    !lab_strides(lab[2], nlab[2], O->dims, &wo) || nlab[2] != k)
		return;
	int pt = lab[0][k - 2], ps = lab[0][k - 1], le = -1;
	if (wv.st[pt] >= 0 || wv.st[ps] < 0 || wo.st[ps] >= 0 || wo.st[pt] < 0)
		return;
	int64_t E = 0;
	for (int d = 0; d < nlab[1]; d++) {
		int l = lab[1][d];
		if (l == ps && V->dims[d] != S)
			return;
		if (wp.st[l] >= 0)
			continue;
		if (le >= 0)
			return;
		le = l, E = V->dims[d];
	}
	for (int d = 0; d < k - 2; d++)
		if (wo.st[lab[0][d]] < 0)
			return;
	if (le < 0 || wo.st[le] < 0 || E < 2 || wv.st[le] != 1)
		return;

	/* the parameters (runtime/matmul.h) */
	int nb = k - 2, nl = mp ? (int)mp[0] : 1, ni = mp ? (int)mp[1] : 0;
	int64_t *p = xcalloc(RT_AT_HDR + 5 * nb + 4 + 5 * (nl + ni), sizeof(int64_t)), *b = p + RT_AT_HDR;
	p[RT_AT_NB] = nb, p[RT_AT_T] = T, p[RT_AT_S] = S, p[RT_AT_D] = D, p[RT_AT_E] = E;
	p[RT_AT_RB] = T < RT_AT_ROWS ? T : RT_AT_ROWS;
	p[RT_AT_QT] = st0(&wq, lt), p[RT_AT_KS] = st0(&wk, ls), p[RT_AT_VS] = st0(&wv, ps);
	p[RT_AT_OT] = st0(&wo, pt), p[RT_AT_OE] = st0(&wo, le), p[RT_AT_XL] = xl;
	for (int d = 0; d < nb; d++) {
		int lx = ql[2][d], lp = lab[0][d];
		b[d] = X->dims[d];
		b[nb + d] = st0(&wq, lx), b[2 * nb + d] = st0(&wk, lx);
		b[3 * nb + d] = st0(&wv, lp), b[4 * nb + d] = st0(&wo, lp);
	}
	int64_t *pr = b + 5 * nb;
	if (mp) {
		memcpy(pr, mp, nmp * sizeof(int64_t));
	} else { /* no program: the scores as they are */
		pr[0] = 1, pr[1] = 0, pr[2] = R, pr[3] = S;
		pr[4 + 3] = 1, pr[4 + 4] = 1;
	}
	Value **in = xcalloc(4 + nl, sizeof(Value *));
	in[0] = Q, in[1] = K, in[2] = V, in[3] = z;
	for (int l = 0; l < nl; l++)
		in[4 + l] = l == xl ? NULL : mid->in[l];
	pv->op = "AttnChain";
	pv->domain = "";
	pv->def = &attn_def;
	pv->in = in;
	pv->nin = 4 + nl;
	pv->nattr = 0;
	pv->prog = p;
	pv->nprog = (int)(RT_AT_HDR + 5 * nb + 4 + 5 * (nl + ni));
	qk->dead = sm->dead = 1;
	if (mid)
		mid->dead = 1;
	count_uses(g);
}

void fuse_attention(Graph *g)
{
	if (g_no_chains)
		return;
	count_uses(g);
	for (int i = 0; i < g->nnodes; i++)
		fuse_one(g, g->nodes[i]);
}

/* an AttnChain as an expression of its inputs (for --dump): Q, K, V are
 * in0, in1, in2, the sink in3, the program's leaves in4 on */
char *attn_expr(const Node *n)
{
	const int64_t *p = n->prog, *pr = p + RT_AT_HDR + 5 * p[RT_AT_NB];
	int nl = (int)pr[0], ni = (int)pr[1];
	char **leaf = xcalloc(nl + 1, sizeof(char *));
	for (int l = 0; l < nl; l++)
		leaf[l] = l == p[RT_AT_XL] ? xstrdup("in0.in1") : fmt("in%d", 4 + l);
	/* no program: the scores as they are */
	char *x = ni ? chain_prog_expr(pr, leaf) : leaf[0];
	int64_t heads = 1;
	for (int d = 0; d < p[RT_AT_NB]; d++)
		heads *= p[RT_AT_HDR + d];
	char *r = fmt("softmax%s(%s%s) . in2  (%lld heads x %lld rows, %lld keys, d %lld, e %lld)",
		      n->in[3] ? "_sink" : "", x, n->in[3] ? ", in3" : "", (long long)heads,
		      (long long)p[RT_AT_T], (long long)p[RT_AT_S], (long long)p[RT_AT_D], (long long)p[RT_AT_E]);
	free(x);
	free(leaf);
	return r;
}
