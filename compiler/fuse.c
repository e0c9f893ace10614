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
 *
 * Linear layers.  Gemm(x, W) or MatMul(x, W) with a constant W, and the
 * bias Add that exporters write as a separate node (Gemm with beta=0, then
 * Add(b)), become one rt_linear call.
 *
 * Weight formats (--weights).  A weight read only by these fused kernels
 * may be stored compressed in the blob and decoded in registers:
 *   auto  the smallest exactly lossless format: MXFP4 (blocks of 32 along
 *         the reduction axis: e2m1 codes and a power-of-two scale) when
 *         every block is exactly representable (MoE experts), else bf16
 *         when every value is, else f32;
 *   bf16  bf16 for every such weight (lossy where values are not bf16);
 *   f32   as in the model.
 */
#include "gptossc.h"
#include <math.h>

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

int g_weights_mode = WEIGHTS_AUTO;

/* ---- weight formats ---- */

/* 2^e, exactly (e in [-149, 127]): from its bits when normal */
static float pow2f(int e)
{
	if (e < -126)
		return ldexpf(1.0f, e);
	uint32_t u = (uint32_t)(e + 127) << 23;
	float f;
	memcpy(&f, &u, 4);
	return f;
}

/* every x[j] * p (exact: p a power of two) an e2m1 value: |v| in {0, .5,
 * 1, 1.5, 2, 3, 4, 6}.  Read off the bits: |v| = 1.h * 2^(E-127) with
 * nothing below the first mantissa bit h; 0.5 (E = 126) has h = 0, 1..6
 * have E 127..129.  No branches, so that the compiler can vectorise it. */
static int e2m1_block(const float *x, float p)
{
	uint32_t bad = 0;
	for (int j = 0; j < 32; j++) {
		float y = x[j] * p;
		uint32_t u;
		memcpy(&u, &y, 4);
		uint32_t a = u & 0x7fffffffu, i = (a >> 23) - 126, h = (a >> 22) & 1;
		bad |= (a != 0) & (((a & 0x3fffffu) != 0) | (i > 3) | ((i == 0) & h));
	}
	return !bad;
}

/* the block's scale exponent (2^k), or INT32_MIN if not exactly
 * representable (also for NaN and inf).  Run on every block of every
 * weight at compile time, so no libm calls for normal values: x * 2^-k
 * is ldexpf(x, -k) (both the exact product, rounded once). */
static int mxfp4_exponent(const float *x)
{
	/* the largest |x| by its bits (ordered as the values are; NaNs above inf) */
	uint32_t m = 0;
	for (int j = 0; j < 32; j++) {
		uint32_t u;
		memcpy(&u, &x[j], 4);
		u &= 0x7fffffffu;
		m = u > m ? u : m;
	}
	if (m == 0)
		return 0;
	if (m >= 0x7f800000u)
		return INT32_MIN;
	int k;
	if (m >= 0x00800000u) {
		/* a normal max keeps its mantissa when scaled to 4 or 6 (by 2^-k)
		 * or 2 or 3 (2^-(k+1)): one mantissa bit at most (which is what
		 * rejects most non-MXFP4 weights at once), and k = E - 129 is
		 * ceil(log2(amax / 6)) */
		if (m & 0x3fffffu)
			return INT32_MIN;
		k = (int)(m >> 23) - 129;
	} else {
		float amax;
		memcpy(&amax, &m, 4);
		k = (int)ceil(log2(amax / 6.0));
	}
	for (int kk = k; kk <= k + 1; kk++) {
		if (kk < -127 || kk > 127)
			continue;
		if (e2m1_block(x, pow2f(-kk)))
			return kk;
	}
	return INT32_MIN;
}

/* Q8: d = max|x| / 127 per block of 32, q = x / d rounded to nearest */
static void encode_q8(const float *src, unsigned char *dst)
{
	float amax = 0, d;
	for (int j = 0; j < 32; j++)
		amax = fmaxf(amax, fabsf(src[j]));
	d = amax / 127;
	memcpy(dst, &d, 4);
	for (int j = 0; j < 32; j++) {
		long q = d > 0 ? lrintf(src[j] / d) : 0;
		dst[4 + j] = (unsigned char)(signed char)(q > 127 ? 127 : q < -127 ? -127 : q);
	}
}

/* rt_f32_bf16 without its branch (round to nearest even, NaN kept quiet) */
static inline void encode_bf16(const float *src, int n, unsigned char *dst)
{
	uint16_t h[64];
	for (int i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &src[i], 4);
		uint32_t r = (u + 0x7fffu + ((u >> 16) & 1)) >> 16, q = (u >> 16) | 0x40;
		h[i] = (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? q : r);
	}
	memcpy(dst, h, 2 * n);
}

void encode_chunk(int wfmt, const float *src, int64_t n, unsigned char *dst)
{
	if (wfmt == FMT_Q8) {
		for (int64_t b = 0; b < n / 32; b++)
			encode_q8(src + 32 * b, dst + 36 * b);
		return;
	}
	if (wfmt == RT_BF16) {
		/* 64 values at a time (vectorised), then the rest */
		int64_t i = 0;
		for (; i + 64 <= n; i += 64)
			encode_bf16(src + i, 64, dst + 2 * i);
		encode_bf16(src + i, n - i, dst + 2 * i);
		return;
	}
	/* MXFP4: the scale, then in byte j the codes of values RT_MXFP4_LO(j)
	 * and RT_MXFP4_LO(j) + 4 (the order the runtime's SIMD decoders
	 * produce, runtime/rt.h); every
	 * x * 2^-k is an e2m1 value (choose_format checked): its code is
	 * 2 (E - 126) + h but 1 for 0.5, 0 for 0, the sign in bit 3 */
	for (int64_t b = 0; b < n / 32; b++, src += 32, dst += 17) {
		int k = mxfp4_exponent(src);
		float p = pow2f(-k);
		unsigned char c[32];
		for (int j = 0; j < 32; j++) {
			float y = src[j] * p;
			uint32_t u;
			memcpy(&u, &y, 4);
			uint32_t a = u & 0x7fffffffu, e = a >> 22; /* 2 E + h */
			e = e > 253 ? e : 253;
			c[j] = (unsigned char)((a ? e - 252 : 0) | ((u >> 28) & 8));
		}
		dst[0] = (unsigned char)(k + 127);
		for (int j = 0; j < 16; j++)
			dst[1 + j] = (unsigned char)(c[RT_MXFP4_LO(j)] | c[RT_MXFP4_LO(j) + 4] << 4);
	}
}

static int scan_bf16(void *ctx, const void *data, int64_t off, int64_t len)
{
	(void)ctx;
	(void)off;
	/* bf16 keeps a value (NaNs aside) when its low 16 bits are zero;
	 * tested 64 at a time without branches, so that it vectorises */
	const uint32_t *u = data;
	int64_t n = len / 4, i = 0;
	for (; i + 64 <= n; i += 64) {
		uint32_t bad = 0;
		for (int j = 0; j < 64; j++)
			bad |= ((u[i + j] & 0xffffu) != 0) & ((u[i + j] & 0x7fffffffu) <= 0x7f800000u);
		if (bad)
			return 1;
	}
	for (; i < n; i++)
		if ((u[i] & 0xffffu) && (u[i] & 0x7fffffffu) <= 0x7f800000u)
			return 1;
	return 0;
}

static int scan_mxfp4(void *ctx, const void *data, int64_t off, int64_t len)
{
	(void)ctx;
	(void)off;
	for (int64_t b = 0; b < len / 128; b++)
		if (mxfp4_exponent((const float *)data + 32 * b) == INT32_MIN)
			return 1;
	return 0;
}

static int scan_finite(void *ctx, const void *data, int64_t off, int64_t len)
{
	(void)ctx;
	(void)off;
	const float *f = data;
	for (int64_t i = 0; i < len / 4; i++)
		if (!isfinite(f[i]))
			return 1;
	return 0;
}

/* Format of weight W whose rows of `row` values are the reduction axis
 * (row = 0: no format that needs blocks along rows). */
static int choose_format(Graph *g, Value *w, int64_t row)
{
	if (w->dtype != RT_F32 || g_weights_mode == WEIGHTS_F32)
		return RT_F32;
	if (g_weights_mode == WEIGHTS_BF16)
		return RT_BF16;
	if (row && row % 32 == 0 && !const_scan(g, w, scan_mxfp4, NULL))
		return FMT_MXFP4; /* exact, and smaller than q8 */
	if (g_weights_mode == WEIGHTS_Q8 && row && row % 32 == 0 && !const_scan(g, w, scan_finite, NULL))
		return FMT_Q8; /* else as auto */
	if (!const_scan(g, w, scan_bf16, NULL))
		return RT_BF16;
	return RT_F32;
}

/* A weight may change format only if the fused kernels are its only readers. */
static int only_fused_readers(Graph *g, Value *w)
{
	if (w->output_index >= 0)
		return 0;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		for (int k = 0; k < n->nin; k++)
			if (n->in[k] == w && strcmp(n->op, "MoEGemv") && strcmp(n->op, "Linear") && strcmp(n->op, "Embed"))
				return 0;
	}
	return 1;
}

/* ---- threads ----
 * With --threads N, a heavy call whose parameters end in a [begin, end)
 * range of independent outputs is split into N calls over parts of the
 * range (multiples of `align`), marked as one parallel group: the generated
 * code runs a group's calls on the thread pool. */
int g_threads = 1;

static void split_call(Graph *g, Call *c, int at, int64_t total, int64_t align, int64_t work)
{
	int parts = g_threads;
	if (parts <= 1 || work < (1 << 17) || total < 2 * align)
		return;
	if (total / align < parts)
		parts = (int)(total / align);
	static int group;
	group++;
	int first = (int)(c - g->calls);
	Call proto = *c;
	int64_t step = (total / parts + align - 1) / align * align;
	for (int k = 0; k < parts; k++) {
		int64_t b = k * step, e = k == parts - 1 ? total : (k + 1) * step;
		if (b >= total)
			break;
		Call *d = k ? call_new(g, proto.node, proto.kernel) : &g->calls[first];
		if (k) {
			*d = proto;
			d->p = xcalloc(proto.np, sizeof(int64_t));
			memcpy(d->p, proto.p, proto.np * sizeof(int64_t));
			d->capp = proto.np;
		}
		d->p[at] = b;
		d->p[at + 1] = e;
		d->par = group;
	}
}

/* ---- MoE ---- */

static void lower_moe_gemv(Graph *g, Node *n)
{
	Value *w = n->in[0], *idx = n->in[1], *x = n->in[2], *y = n->out[0];
	int fmt = w->wfmt ? w->wfmt : RT_F32;
	/* aux is "<idx letters>,<x letters>" (set by fuse_moe) */
	const char *I = n->aux, *J = strchr(n->aux, ',') + 1;
	int nd = (int)(J - 1 - I);
	Call *c = call_new(g, n, fmt == RT_F32 ? "rt_moe_gemv" : "rt_moe_gemv_q");
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
	if (fmt == RT_F32)
		return;
	call_p(c, fmt);
	call_p(c, 0);
	call_p(c, w->dims[1]);
	split_call(g, c, c->np - 2, w->dims[1], 1, numel(idx) * w->dims[1] * w->dims[2]);
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

/* ---- embedding ----
 * Gather(table, idx, axis=0) of a constant float table by computed
 * indices: the table may be stored as bf16, rows decoded on the fly. */

static void lower_embed(Graph *g, Node *n)
{
	Value *tab = n->in[0], *idx = n->in[1];
	Call *c = call_new(g, n, "rt_embed_gather");
	call_in(c, tab);
	call_in(c, idx);
	call_out(c, n->out[0]);
	call_p(c, tab->dims[0]);
	call_p(c, tab->dims[1]);
	call_p(c, idx->dtype);
	call_p(c, numel(idx));
	call_p(c, tab->wfmt ? tab->wfmt : RT_F32);
}

static const OpDef embed_def = { "Embed", 2, 2, 1, 1, NULL, lower_embed };

static void fuse_embed(Graph *g, Node *n)
{
	Value *tab = n->in[0], *idx = n->in[1];
	(void)g;
	if (!tab->is_const || tab->rank != 2 || tab->dtype != RT_F32 || idx->is_const || attr_i(n, "axis", 0) != 0 ||
	    (idx->dtype != RT_I32 && idx->dtype != RT_I64))
		return;
	n->op = "Embed";
	n->domain = "gptossc";
	n->def = &embed_def;
	n->aux = "";
}

/* ---- linear layers ---- */

static void lower_linear(Graph *g, Node *n)
{
	Value *x = n->in[0], *w = n->in[1], *b = n->in[2], *y = n->out[0];
	int layout = (int)n->aux[0] - '0';
	int64_t K = x->dims[x->rank - 1], M = numel(x) / (K ? K : 1);
	int64_t N = y->dims[y->rank - 1];
	Call *c = call_new(g, n, "rt_linear");
	call_in(c, x);
	call_in(c, w);
	call_in(c, b);
	call_out(c, y);
	call_p(c, M);
	call_p(c, K);
	call_p(c, N);
	call_p(c, layout);
	call_p(c, w->wfmt ? w->wfmt : RT_F32);
	call_pf(c, atof(n->aux + 2));
	call_p(c, 0);
	call_p(c, N);
	split_call(g, c, c->np - 2, N, layout == 0 ? 32 : layout == 2 ? RT_LINEAR_BAND : 1, M * N * K);
}

static const OpDef linear_def = { "Linear", 2, 3, 1, 1, NULL, lower_linear };

/* the only live reader of v, or NULL */
static Node *sole_reader(Graph *g, Value *v)
{
	Node *r = NULL;
	if (v->nuses != 1 || v->output_index >= 0)
		return NULL;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		for (int k = 0; !n->dead && k < n->nin; k++)
			if (n->in[k] == v)
				r = n;
	}
	return r;
}

static void fuse_linear(Graph *g, Node *n)
{
	int gemm = !strcmp(n->op, "Gemm");
	Value *x = n->in[0], *w = n->in[1], *y = n->out[0];
	if (!w->is_const || w->rank != 2 || x->dtype != RT_F32 || w->dtype != RT_F32 || x->rank < 1)
		return;
	double alpha = 1;
	int layout = 0;
	if (gemm) {
		Value *c = node_in(n, 2);
		if (attr_i(n, "transA", 0) || x->rank != 2)
			return;
		layout = attr_i(n, "transB", 0) ? 1 : 0;
		alpha = attr_f(n, "alpha", 1.0);
		if (c && attr_f(n, "beta", 1.0) != 0) {
			/* a constant zero C is no bias either */
			if (!c->is_const || numel(c) != 1 || const_float(g, c, 0) != 0)
				return;
		}
	} else if (x->rank < 2) {
		return;
	}
	int64_t N = y->dims[y->rank - 1];
	Value *bias = NULL, *out = y;
	Node *add = sole_reader(g, y);
	if (add && !strcmp(add->op, "Add")) {
		Value *other = add->in[0] == y ? add->in[1] : add->in[0];
		if (other->is_const && other->dtype == RT_F32 && numel(other) == N &&
		    other->dims[other->rank - 1] == N && add->out[0]->rank == y->rank) {
			bias = other;
			out = add->out[0];
			add->dead = 1;
		}
	}
	Value **in = xcalloc(4, sizeof(Value *));
	in[0] = x;
	in[1] = w;
	in[2] = bias;
	n->in = in;
	n->nin = 3;
	n->out[0] = out;
	out->producer = n;
	n->op = "Linear";
	n->domain = "gptossc";
	n->def = &linear_def;
	n->aux = fmt("%d %.17g", layout, alpha);
}

/* ---- RMSNorm ----
 * The decomposed chain the exporters write,
 *     y = x * (1 / Sqrt(ReduceMean(x^2, last axis) + eps)) * w
 * (x^2 as Pow(x, 2) or Mul(x, x); the reciprocal as Div(1, .) or
 * Reciprocal, or Div(x, Sqrt(.)); either operand order of the Muls and
 * the Add), becomes one RMSNormalization(x, w): one pass per row instead
 * of six elementwise calls and a reduction. */

/* the producer of v if it is a live op node whose output only `user` reads */
static Node *chain_node(Value *v, const char *op)
{
	Node *p = v->producer;
	if (!p || p->dead || strcmp(p->op, op) || v->nuses != 1 || v->output_index >= 0 || v->is_const)
		return NULL;
	return p;
}

static int is_scalar_const(Graph *g, Value *v, double want, double *got)
{
	if (!v->is_const || v->dtype != RT_F32 || numel(v) != 1)
		return 0;
	double c = const_float(g, v, 0);
	if (got)
		*got = c;
	return !got ? c == want : 1;
}

/* x if v = Sqrt(ReduceMean(x^2 over the last axis) + eps), with the chain's nodes in dead[] */
static Value *rms_denominator(Graph *g, Value *v, double *eps, Node **dead)
{
	Node *sq = chain_node(v, "Sqrt"), *add, *mean, *p;
	if (!sq || !(add = chain_node(sq->in[0], "Add")))
		return NULL;
	int e = is_scalar_const(g, add->in[1], 0, eps) ? 1 : is_scalar_const(g, add->in[0], 0, eps) ? 0 : -1;
	if (e < 0 || !(mean = chain_node(add->in[1 - e], "ReduceMean")) || attr_i(mean, "keepdims", 1) != 1)
		return NULL;
	Value *m = mean->out[0], *sqv = mean->in[0];
	if (!(p = chain_node(sqv, "Pow")) && !(p = chain_node(sqv, "Mul")))
		return NULL;
	Value *x = p->in[0];
	if (!strcmp(p->op, "Pow") ? !is_scalar_const(g, p->in[1], 2, NULL) : p->in[1] != x)
		return NULL;
	/* the mean runs over the last axis only: [..., H] -> [..., 1] */
	if (x->dtype != RT_F32 || x->rank < 1 || m->rank != x->rank || x->dims[x->rank - 1] < 2 ||
	    m->dims[m->rank - 1] != 1 || memcmp(m->dims, x->dims, (x->rank - 1) * sizeof *x->dims))
		return NULL;
	dead[0] = sq, dead[1] = add, dead[2] = mean, dead[3] = p;
	return x;
}

static void fuse_rmsnorm(Graph *g, Node *n)
{
	Node *dead[6] = { 0 };
	Value *x = NULL, *w = NULL;
	double eps = 0;
	for (int o = 0; o < 2 && !x; o++) {
		Value *a = n->in[o], *r;
		Node *m1 = NULL, *rec;
		w = n->in[1 - o];
		if (!w->is_const || w->dtype != RT_F32 || w->rank != 1 || n->out[0]->rank < 1 ||
		    w->dims[0] != n->out[0]->dims[n->out[0]->rank - 1])
			continue;
		if ((m1 = chain_node(a, "Div"))) { /* x / Sqrt(...) */
			x = rms_denominator(g, m1->in[1], &eps, dead);
			x = x == m1->in[0] ? x : NULL;
		} else if ((m1 = chain_node(a, "Mul"))) { /* x * (1 / Sqrt(...)) */
			for (int q = 0; q < 2 && !x; q++) {
				r = m1->in[q];
				if ((rec = chain_node(r, "Div")) && is_scalar_const(g, rec->in[0], 1, NULL))
					x = rms_denominator(g, rec->in[1], &eps, dead);
				else if ((rec = chain_node(r, "Reciprocal")))
					x = rms_denominator(g, rec->in[0], &eps, dead);
				if (x && x != m1->in[1 - q])
					x = NULL;
				if (x)
					dead[4] = rec;
			}
		}
		if (x)
			dead[5] = m1;
	}
	if (!x)
		return;
	/* n becomes RMSNormalization(x, w, axis=-1, epsilon) */
	Value **in = xcalloc(2, sizeof(Value *));
	in[0] = x;
	in[1] = w;
	n->in = in;
	n->nin = 2;
	n->op = "RMSNormalization";
	n->domain = "";
	n->def = op_find("", "RMSNormalization");
	n->attr = xcalloc(2, sizeof *n->attr);
	n->nattr = 2;
	for (int i = 0; i < 2; i++) {
		Onnx__AttributeProto *at = xcalloc(1, sizeof *at);
		onnx__attribute_proto__init(at);
		at->name = i ? "epsilon" : "axis";
		at->type = i ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT : ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
		at->has_type = 1;
		at->i = -1;
		at->f = (float)eps;
		n->attr[i] = at;
	}
	x->nuses++;
	for (int i = 0; i < 6; i++)
		if (dead[i]) {
			dead[i]->dead = 1;
			for (int k = 0; k < dead[i]->nin; k++)
				if (dead[i]->in[k])
					dead[i]->in[k]->nuses--;
		}
}

/* w (not an output) is read only as the [K,N] weight of Linear nodes of
 * layout 0 (or already 2), so its storage may change */
static int linear_only(Graph *g, Value *w)
{
	int ok = w->output_index < 0;
	for (int j = 0; ok && j < g->nnodes; j++) {
		Node *r = g->nodes[j];
		for (int k = 0; ok && !r->dead && k < r->nin; k++)
			if (r->in[k] == w)
				ok = !strcmp(r->op, "Linear") && k == 1 && (r->aux[0] == '0' || r->aux[0] == '2');
	}
	return ok;
}

/* store [K,N] weight w as N rows of K (emit.c), read by layout 1 */
static void transpose_linear(Graph *g, Value *w)
{
	w->transposed = 1;
	for (int j = 0; j < g->nnodes; j++)
		if (!g->nodes[j]->dead && !strcmp(g->nodes[j]->op, "Linear") && g->nodes[j]->in[1] == w)
			g->nodes[j]->aux = fmt("1%s", g->nodes[j]->aux + 1);
}

void fuse(Graph *g)
{
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		if (!strcmp(n->op, "Einsum"))
			fuse_moe(g, n);
		else if (!strcmp(n->op, "Gemm") || !strcmp(n->op, "MatMul"))
			fuse_linear(g, n);
		else if (!strcmp(n->op, "Gather"))
			fuse_embed(g, n);
		else if (!strcmp(n->op, "Mul"))
			fuse_rmsnorm(g, n);
	}
	/* weight formats, once the fused kernels are known */
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead || (strcmp(n->op, "MoEGemv") && strcmp(n->op, "Linear") && strcmp(n->op, "Embed")))
			continue;
		Value *w = n->in[n->op[0] == 'L' ? 1 : 0];
		if (n->op[0] == 'E') { /* embedding rows: bf16 when exact (q8 if asked) */
			if (!w->wfmt && only_fused_readers(g, w))
				w->wfmt = choose_format(g, w, g_weights_mode == WEIGHTS_Q8 ? w->dims[1] : 0);
			continue;
		}
		if (w->wfmt || !only_fused_readers(g, w))
			continue;
		if (g_weights_mode == WEIGHTS_Q8 && n->aux[0] == '0' && w->dims[0] % 32 == 0 && linear_only(g, w))
			transpose_linear(g, w); /* q8 blocks run along K: rows of K (layout 1) */
		int rows = n->op[0] == 'M' || n->aux[0] == '1';
		int64_t row = rows ? w->dims[w->rank - 1] : 0;
		if (w->transposed)
			row = w->dims[0];
		w->wfmt = choose_format(g, w, row);
		/* row-major [K,N] linears read bf16 or f32 only */
		if (!rows && w->wfmt == FMT_MXFP4)
			w->wfmt = RT_BF16;
	}
	/* [K,N] weights read only by Linear nodes of layout 0 are stored in
	 * bands of RT_LINEAR_BAND columns, each band K rows contiguous: the
	 * kernel then streams a band from memory instead of jumping a whole
	 * row of W per k (layout 2 for those nodes) */
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead || strcmp(n->op, "Linear") || n->aux[0] != '0' || n->in[1]->banded)
			continue;
		Value *w = n->in[1];
		if (!linear_only(g, w))
			continue;
		w->banded = RT_LINEAR_BAND;
		for (int j = 0; j < g->nnodes; j++)
			if (!g->nodes[j]->dead && !strcmp(g->nodes[j]->op, "Linear") && g->nodes[j]->in[1] == w)
				g->nodes[j]->aux = fmt("2%s", g->nodes[j]->aux + 1);
	}
	if (g_weights_mode != WEIGHTS_AUTO) /* a blob of other formats is refused */
		g->hash = fnv1a(g->hash, &g_weights_mode, sizeof g_weights_mode);
}
