/* fuse.c: rewrite op patterns into fused kernels.
 *
 * MoE expert contraction.  The exporter writes
 *     G = Gather(W[E,R,C], idx, axis=0)          -> [idx dims..., R, C]
 *     y = Einsum("<I>oh,<J>h-><I>o", G, x)       (J a subsequence of I)
 * which materialises every selected expert's weights (at gpt-oss-20b
 * widths, 265 MB per token).  When W is constant and G has no other
 * reader, the pair becomes one rt_moe_gemv call that reads the selected
 * rows of W in place: y[i,:] = W[idx[i]] @ x[j(i),:].
 * Both GPT-OSS equations fit: "tkoh,th->tko" and "tkhi,tki->tkh".
 */
#include "gptossc.h"

/* "ab,cd->e" without spaces or ellipsis, two operands; 0 if not that form */
static int split_equation(const char *eq, char *a, char *b, char *out)
{
	char buf[128];
	int k = 0;
	for (const char *p = eq; *p && k < 127; p++)
		if (*p != ' ')
			buf[k++] = *p;
	buf[k] = 0;
	if (strchr(buf, '.'))
		return 0;
	char *comma = strchr(buf, ','), *arrow = strstr(buf, "->");
	if (!comma || !arrow || comma > arrow || strchr(comma + 1, ','))
		return 0;
	snprintf(a, 32, "%.*s", (int)(comma - buf), buf);
	snprintf(b, 32, "%.*s", (int)(arrow - comma - 1), comma + 1);
	snprintf(out, 32, "%s", arrow + 2);
	return 1;
}

static void lower_moe_gemv(Graph *g, Node *n)
{
	Value *w = n->in[0], *idx = n->in[1], *x = n->in[2], *y = n->out[0];
	/* aux is "<idx letters>,<x letters>" (set by fuse_moe) */
	const char *I = n->aux, *J = strchr(n->aux, ',') + 1;
	int nd = (int)(J - 1 - I);
	Call *c = call_new(g, n, "rt_moe_gemv");
	call_in(c, w);
	call_in(c, idx);
	call_in(c, x);
	call_out(c, y);
	call_p(c, w->dims[0]);
	call_p(c, w->dims[1]);
	call_p(c, w->dims[2]);
	call_p(c, idx->dtype);
	call_p(c, nd);
	call_pv(c, idx->dims, nd);
	/* x strides per idx letter: x's letters are a subsequence of I plus h */
	int64_t xst[RT_MAXDIM];
	contig_strides(x->rank, x->dims, xst);
	for (int d = 0; d < nd; d++) {
		const char *q = strchr(J, I[d]);
		call_p(c, q ? xst[q - J] : 0);
	}
}

static const OpDef moe_def = { "MoEGemv", 3, 3, 1, 1, NULL, lower_moe_gemv };

static void fuse_moe(Graph *g, Node *n)
{
	char a[32], b[32], out[32];
	const char *eq = attr_s(n, "equation", "");
	if (n->nin != 2 || !split_equation(eq, a, b, out))
		return;
	Value *G = n->in[0], *x = n->in[1];
	Node *gn = G->producer;
	if (!gn || gn->dead || strcmp(gn->op, "Gather") || G->nuses != 1 || G->output_index >= 0)
		return;
	Value *W = gn->in[0], *idx = gn->in[1];
	if (!W->is_const || W->rank != 3 || W->dtype != RT_F32 || x->dtype != RT_F32 || attr_i(gn, "axis", 0) != 0)
		return;
	if (idx->dtype != RT_I32 && idx->dtype != RT_I64)
		return;
	int ni = idx->rank, la = (int)strlen(a), lb = (int)strlen(b);
	if (la != ni + 2 || (int)strlen(out) != ni + 1 || ni < 1)
		return;
	char o = a[ni], h = a[ni + 1];
	/* out = I o ; b = subsequence of I, then h; letters distinct */
	if (strncmp(out, a, ni) || out[ni] != o || lb < 1 || b[lb - 1] != h)
		return;
	for (int i = 0; i < la; i++)
		for (int j = i + 1; j < la; j++)
			if (a[i] == a[j])
				return;
	const char *s = a;
	for (int i = 0; i < lb - 1; i++) {
		s = strchr(s, b[i]);
		if (!s || s - a >= ni)
			return;
		s++;
	}
	if (x->rank != lb || x->dims[lb - 1] != W->dims[2])
		return;
	for (int i = 0; i < lb - 1; i++)
		if (x->dims[i] != idx->dims[strchr(a, b[i]) - a])
			return;
	/* rewrite: the Einsum node becomes MoEGemv(W, idx, x) */
	Value **in = xcalloc(4, sizeof(Value *));
	in[0] = W;
	in[1] = idx;
	in[2] = x;
	n->in = in;
	n->nin = 3;
	n->def = &moe_def;
	n->op = "MoEGemv";
	n->domain = "gptossc";
	n->aux = fmt("%.*s,%s", ni, a, b);
	W->nuses++;
	idx->nuses++;
	if (--G->nuses == 0)
		gn->dead = 1;
	W->nuses -= gn->dead;
	idx->nuses -= gn->dead;
}

void fuse(Graph *g)
{
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (!n->dead && !strcmp(n->op, "Einsum"))
			fuse_moe(g, n);
	}
}
