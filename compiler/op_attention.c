/* op_attention.c: transformer ops of recent opsets.
 *
 *   Attention (23, 24)   3-D or 4-D Q/K/V, GQA, attn_mask (bool or additive),
 *                        is_causal, scale, softcap, past/present KV cache,
 *                        qk_matmul_output, nonpad_kv_seqlen (24)
 *   RotaryEmbedding (23) 3-D or 4-D input, position_ids, interleaved,
 *                        rotary_embedding_dim
 *   LinearAttention      linear, gated, delta, gated_delta recurrences
 *   Swish, SwiGLU, Shrink, CumProd, BitCast
 *
 * Kernels in runtime/attention.c.
 */
#include "gptossc.h"

static int is_float_type(int dt)
{
	return dt == RT_F32 || dt == RT_F16 || dt == RT_BF16 || dt == RT_F64;
}

static void need_float(Node *n, int i)
{
	Value *v = n->in[i];
	if (!is_float_type(v->dtype))
		node_fatal(n, "input %d '%s' is %s, expected a float type", i, v->name, dtype_name(v->dtype));
}

/* ---- Attention ---- */

typedef struct {
	int64_t B, Hq, Hkv, Sq, Skv, Sp, Dk, Dv, T;
	int q3, k3, v3;
} AttnShape;

static void attn_shape(Node *n, AttnShape *a)
{
	Value *q = n->in[0], *k = n->in[1], *v = n->in[2];
	Value *pk = node_in(n, 4), *pv = node_in(n, 5);
	int64_t hq = attr_i(n, "q_num_heads", 0), hkv = attr_i(n, "kv_num_heads", 0);
	memset(a, 0, sizeof *a);
	for (int i = 0; i < 3; i++) {
		need_rank(n, i, 3, 4);
		need_float(n, i);
		if (n->in[i]->dtype != q->dtype)
			node_fatal(n, "input %d '%s' is %s, Q is %s", i, n->in[i]->name, dtype_name(n->in[i]->dtype),
				   dtype_name(q->dtype));
	}
	a->q3 = q->rank == 3;
	a->k3 = k->rank == 3;
	a->v3 = v->rank == 3;
	a->B = q->dims[0];
	if (k->dims[0] != a->B || v->dims[0] != a->B)
		node_fatal(n, "Q, K and V differ in batch size (%s, %s, %s)", shape_str(q), shape_str(k), shape_str(v));
	if (a->q3) {
		if (hq <= 0 || q->dims[2] % hq)
			node_fatal(n, "3-D Q '%s' %s needs attribute q_num_heads dividing its hidden size", q->name,
				   shape_str(q));
		a->Hq = hq;
		a->Sq = q->dims[1];
		a->Dk = q->dims[2] / hq;
	} else {
		a->Hq = q->dims[1];
		a->Sq = q->dims[2];
		a->Dk = q->dims[3];
	}
	if (a->k3) {
		if (hkv <= 0 || k->dims[2] % hkv)
			node_fatal(n, "3-D K '%s' %s needs attribute kv_num_heads dividing its hidden size", k->name,
				   shape_str(k));
		a->Hkv = hkv;
		a->Skv = k->dims[1];
		if (k->dims[2] / hkv != a->Dk)
			node_fatal(n, "K '%s' %s: head size differs from Q's (%lld)", k->name, shape_str(k),
				   (long long)a->Dk);
	} else {
		a->Hkv = k->dims[1];
		a->Skv = k->dims[2];
		if (k->dims[3] != a->Dk)
			node_fatal(n, "K '%s' %s: head size differs from Q's (%lld)", k->name, shape_str(k),
				   (long long)a->Dk);
	}
	if (a->v3) {
		if (hkv <= 0 || v->dims[2] % hkv)
			node_fatal(n, "3-D V '%s' %s needs attribute kv_num_heads dividing its hidden size", v->name,
				   shape_str(v));
		if (v->dims[1] != a->Skv)
			node_fatal(n, "V '%s' %s: sequence length differs from K's", v->name, shape_str(v));
		a->Dv = v->dims[2] / hkv;
	} else {
		if (v->dims[1] != a->Hkv || v->dims[2] != a->Skv)
			node_fatal(n, "V '%s' %s does not match K '%s' %s", v->name, shape_str(v), k->name, shape_str(k));
		a->Dv = v->dims[3];
	}
	if (a->Hkv <= 0 || a->Hq % a->Hkv)
		node_fatal(n, "q_num_heads %lld is not a multiple of kv_num_heads %lld", (long long)a->Hq,
			   (long long)a->Hkv);
	if (!pk != !pv)
		node_fatal(n, "past_key and past_value must be given together");
	if (pk) {
		need_rank(n, 4, 4, 4);
		need_rank(n, 5, 4, 4);
		if (pk->dims[0] != a->B || pk->dims[1] != a->Hkv || pk->dims[3] != a->Dk)
			node_fatal(n, "past_key '%s' %s must be (%lld, %lld, past, %lld)", pk->name, shape_str(pk),
				   (long long)a->B, (long long)a->Hkv, (long long)a->Dk);
		if (pv->dims[0] != a->B || pv->dims[1] != a->Hkv || pv->dims[2] != pk->dims[2] || pv->dims[3] != a->Dv)
			node_fatal(n, "past_value '%s' %s must be (%lld, %lld, %lld, %lld)", pv->name, shape_str(pv),
				   (long long)a->B, (long long)a->Hkv, (long long)pk->dims[2], (long long)a->Dv);
		if (pk->dtype != q->dtype || pv->dtype != q->dtype)
			node_fatal(n, "past_key/past_value must have Q's type %s", dtype_name(q->dtype));
		a->Sp = pk->dims[2];
	}
	a->T = a->Sp + a->Skv;
}

static void infer_attention(Graph *g, Node *n)
{
	(void)g;
	AttnShape a;
	attn_shape(n, &a);
	int dt = n->in[0]->dtype;
	Value *m = node_in(n, 3), *np = node_in(n, 6);
	if (m) {
		if (m->rank < 1 || m->rank > 4)
			node_fatal(n, "attn_mask '%s' %s must have rank 1 to 4", m->name, shape_str(m));
		if (m->dtype != RT_BOOL && !is_float_type(m->dtype))
			node_fatal(n, "attn_mask '%s' is %s, expected bool or a float type", m->name,
				   dtype_name(m->dtype));
		int64_t want[4] = { a.B, a.Hq, a.Sq, a.T };
		for (int i = 0; i < m->rank; i++) {
			int64_t d = m->dims[m->rank - 1 - i], w = want[3 - i];
			if (i == 0 ? d > w : d != 1 && d != w)
				node_fatal(n, "attn_mask '%s' %s does not broadcast to (%lld, %lld, %lld, %lld)", m->name,
					   shape_str(m), (long long)a.B, (long long)a.Hq, (long long)a.Sq,
					   (long long)a.T);
		}
	}
	if (np && (np->rank != 1 || np->dims[0] != a.B || (np->dtype != RT_I64)))
		node_fatal(n, "nonpad_kv_seqlen '%s' must be int64 of shape (%lld)", np->name, (long long)a.B);
	if (a.q3) {
		int64_t d[3] = { a.B, a.Sq, a.Hq * a.Dv };
		set_shape(n->out[0], dt, 3, d);
	} else {
		int64_t d[4] = { a.B, a.Hq, a.Sq, a.Dv };
		set_shape(n->out[0], dt, 4, d);
	}
	if (n->nout > 1) {
		int64_t d[4] = { a.B, a.Hkv, a.T, a.Dk };
		set_shape(n->out[1], dt, 4, d);
	}
	if (n->nout > 2) {
		int64_t d[4] = { a.B, a.Hkv, a.T, a.Dv };
		set_shape(n->out[2], dt, 4, d);
	}
	if (n->nout > 3) {
		int64_t d[4] = { a.B, a.Hq, a.Sq, a.T };
		set_shape(n->out[3], dt, 4, d);
	}
	int64_t mode = attr_i(n, "qk_matmul_output_mode", 0);
	if (mode < 0 || mode > 3)
		node_fatal(n, "qk_matmul_output_mode %lld is not 0..3", (long long)mode);
}

/* strides (batch, head, seq) of a 3-D (B, S, H*D) or 4-D (B, H, S, D) tensor */
static void attn_strides(int is3, int64_t H, int64_t S, int64_t D, int64_t *st)
{
	if (is3) {
		st[0] = S * H * D;
		st[1] = D;
		st[2] = H * D;
	} else {
		st[0] = H * S * D;
		st[1] = S * D;
		st[2] = D;
	}
}

static void lower_attention(Graph *g, Node *n)
{
	AttnShape a;
	attn_shape(n, &a);
	int dt = n->in[0]->dtype;
	Value *m = node_in(n, 3);
	int64_t st[4][3], ms[4] = { 0, 0, 0, 0 }, Tm = a.T;
	attn_strides(a.q3, a.Hq, a.Sq, a.Dk, st[0]);
	attn_strides(a.k3, a.Hkv, a.Skv, a.Dk, st[1]);
	attn_strides(a.v3, a.Hkv, a.Skv, a.Dv, st[2]);
	attn_strides(a.q3, a.Hq, a.Sq, a.Dv, st[3]);
	if (m) {
		int64_t cs = 1;
		Tm = m->dims[m->rank - 1];
		for (int i = m->rank - 1; i >= 0; i--) {
			int k = 4 - m->rank + i;
			ms[k] = m->dims[i] == 1 ? 0 : cs;
			cs *= m->dims[i];
		}
		if (Tm == 1 && a.T > 1 && n->opset < 24) { /* numpy broadcast; opset 24 pads with -inf */
			ms[3] = 0;
			Tm = a.T;
		}
	}
	double scale = attr_f(n, "scale", 0);
	if (!attr_get(n, "scale"))
		scale = 1.0f / sqrtf((float)a.Dk);
	int64_t sdims[1] = { a.Dk + 2 * a.T + a.Dv };
	Value *scratch = temp_value(g, RT_F32, 1, sdims);
	Call *c = call_new(g, n, "rt_attention");
	for (int i = 0; i < 7; i++)
		call_in(c, node_in(n, i));
	for (int i = 0; i < 4; i++)
		call_out(c, i < n->nout ? n->out[i] : NULL);
	call_out(c, scratch);
	call_p(c, dt);
	call_p(c, a.B);
	call_p(c, a.Hq);
	call_p(c, a.Hkv);
	call_p(c, a.Sq);
	call_p(c, a.Skv);
	call_p(c, a.Sp);
	call_p(c, a.Dk);
	call_p(c, a.Dv);
	for (int i = 0; i < 4; i++)
		call_pv(c, st[i], 3);
	call_p(c, m ? m->dtype : 0);
	call_pv(c, ms, 4);
	call_p(c, Tm);
	call_p(c, attr_i(n, "is_causal", 0));
	call_pf(c, (float)scale);
	call_pf(c, attr_f(n, "softcap", 0));
	call_p(c, attr_i(n, "qk_matmul_output_mode", 0));
}

/* ---- RotaryEmbedding ---- */

typedef struct {
	int64_t B, H, S, D, R, W, st[3];
} RotShape;

static void rot_shape(Node *n, RotShape *r)
{
	Value *x = n->in[0], *cs = n->in[1], *sn = n->in[2], *pos = node_in(n, 3);
	need_rank(n, 0, 3, 4);
	need_float(n, 0);
	r->B = x->dims[0];
	if (x->rank == 3) {
		int64_t h = attr_i(n, "num_heads", 0);
		if (h <= 0 || x->dims[2] % h)
			node_fatal(n, "3-D input '%s' %s needs attribute num_heads dividing its hidden size", x->name,
				   shape_str(x));
		r->H = h;
		r->S = x->dims[1];
		r->D = x->dims[2] / h;
		attn_strides(1, r->H, r->S, r->D, r->st);
	} else {
		r->H = x->dims[1];
		r->S = x->dims[2];
		r->D = x->dims[3];
		attn_strides(0, r->H, r->S, r->D, r->st);
	}
	r->R = attr_i(n, "rotary_embedding_dim", 0);
	if (r->R == 0)
		r->R = r->D;
	if (r->R < 0 || r->R > r->D || r->R % 2)
		node_fatal(n, "rotary_embedding_dim %lld must be even and <= head size %lld", (long long)r->R,
			   (long long)r->D);
	if (cs->dtype != x->dtype || sn->dtype != x->dtype)
		node_fatal(n, "cos_cache and sin_cache must have the input's type %s", dtype_name(x->dtype));
	if (cs->rank != sn->rank || memcmp(cs->dims, sn->dims, cs->rank * sizeof(int64_t)))
		node_fatal(n, "cos_cache %s and sin_cache %s differ in shape", shape_str(cs), shape_str(sn));
	r->W = cs->rank ? cs->dims[cs->rank - 1] : 0;
	if (r->W < r->R / 2)
		node_fatal(n, "cos_cache '%s' %s: last dim must be >= rotary_embedding_dim/2 = %lld", cs->name,
			   shape_str(cs), (long long)(r->R / 2));
	if (pos) {
		if (cs->rank != 2)
			node_fatal(n, "cos_cache '%s' %s must be 2-D (max_position, dim/2) with position_ids", cs->name,
				   shape_str(cs));
		if (pos->rank != 2 || (pos->dims[0] != r->B && pos->dims[0] != 1) || pos->dims[1] != r->S ||
		    (pos->dtype != RT_I64 && pos->dtype != RT_I32))
			node_fatal(n, "position_ids '%s' %s must be int64 of shape (%lld, %lld)", pos->name,
				   shape_str(pos), (long long)r->B, (long long)r->S);
	} else if (cs->rank != 3 || cs->dims[0] != r->B || cs->dims[1] != r->S) {
		node_fatal(n, "cos_cache '%s' %s must be (%lld, %lld, dim/2) without position_ids", cs->name,
			   shape_str(cs), (long long)r->B, (long long)r->S);
	}
}

static void infer_rotary(Graph *g, Node *n)
{
	(void)g;
	RotShape r;
	rot_shape(n, &r);
	set_shape(n->out[0], n->in[0]->dtype, n->in[0]->rank, n->in[0]->dims);
}

static void lower_rotary(Graph *g, Node *n)
{
	(void)g;
	RotShape r;
	rot_shape(n, &r);
	Value *pos = node_in(n, 3);
	Call *c = call_new(g, n, "rt_rotary");
	for (int i = 0; i < 4; i++)
		call_in(c, node_in(n, i));
	call_out(c, n->out[0]);
	call_p(c, n->in[0]->dtype);
	call_p(c, r.B);
	call_p(c, r.H);
	call_p(c, r.S);
	call_p(c, r.D);
	call_pv(c, r.st, 3);
	call_p(c, r.R);
	call_p(c, attr_i(n, "interleaved", 0));
	call_p(c, r.W);
	call_p(c, pos && pos->dims[0] != 1 ? r.S : 0);
	call_p(c, pos ? pos->dtype : 0);
}

/* ---- Swish, SwiGLU ---- */

static void infer_swish(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0];
	need_float(n, 0);
	if (n->nin > 1 && n->in[1]) {
		Value *b = n->in[1];
		if (b->dtype != x->dtype || b->rank != x->rank || memcmp(b->dims, x->dims, x->rank * sizeof(int64_t)))
			node_fatal(n, "input 1 '%s' %s %s must match input 0 '%s' %s %s", b->name, dtype_name(b->dtype),
				   shape_str(b), x->name, dtype_name(x->dtype), shape_str(x));
	}
	set_shape(n->out[0], x->dtype, x->rank, x->dims);
}

static void lower_swish(Graph *g, Node *n)
{
	Call *c = call_new(g, n, "rt_swish");
	call_in(c, n->in[0]);
	call_in(c, node_in(n, 1));
	call_out(c, n->out[0]);
	call_p(c, n->in[0]->dtype);
	call_p(c, numel(n->out[0]));
	call_pf(c, attr_f(n, "alpha", 1.0));
}

/* ---- Shrink ---- */

static void infer_shrink(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0];
	if (!rt_dtype_size(x->dtype) || x->dtype == RT_BOOL)
		node_fatal(n, "input 0 '%s' is %s, expected a numeric type", x->name, dtype_name(x->dtype));
	set_shape(n->out[0], x->dtype, x->rank, x->dims);
}

static void lower_shrink(Graph *g, Node *n)
{
	Call *c = call_new(g, n, "rt_shrink");
	call_in(c, n->in[0]);
	call_out(c, n->out[0]);
	call_p(c, n->in[0]->dtype);
	call_p(c, numel(n->out[0]));
	call_pf(c, attr_f(n, "lambd", 0.5));
	call_pf(c, attr_f(n, "bias", 0.0));
}

/* ---- CumProd ---- */

static int cumprod_axis(Graph *g, Node *n)
{
	Value *a = n->in[1], *x = n->in[0];
	if (!value_is_const(a))
		node_fatal(n, "input 1 'axis' ('%s') must be constant after folding", a->name);
	if (numel(a) != 1 || (a->dtype != RT_I64 && a->dtype != RT_I32))
		node_fatal(n, "input 1 'axis' ('%s') must be an int32/int64 scalar", a->name);
	return (int)norm_axis(n, const_int(g, a, 0), x->rank);
}

static void infer_cumprod(Graph *g, Node *n)
{
	Value *x = n->in[0];
	if (!rt_dtype_size(x->dtype) || x->dtype == RT_BOOL)
		node_fatal(n, "input 0 '%s' is %s, expected a numeric type", x->name, dtype_name(x->dtype));
	if (x->rank < 1)
		node_fatal(n, "input 0 '%s' must have rank >= 1", x->name);
	cumprod_axis(g, n);
	set_shape(n->out[0], x->dtype, x->rank, x->dims);
}

static void lower_cumprod(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int axis = cumprod_axis(g, n);
	int64_t outer = 1, inner = 1;
	for (int i = 0; i < axis; i++)
		outer *= x->dims[i];
	for (int i = axis + 1; i < x->rank; i++)
		inner *= x->dims[i];
	Call *c = call_new(g, n, "rt_cumprod");
	call_in(c, x);
	call_out(c, n->out[0]);
	call_p(c, x->dtype);
	call_p(c, outer);
	call_p(c, x->dims[axis]);
	call_p(c, inner);
	call_p(c, attr_i(n, "exclusive", 0));
	call_p(c, attr_i(n, "reverse", 0));
}

/* ---- BitCast: same-size types only, a view of the input's bytes ---- */

static void infer_bitcast(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0];
	int to = (int)attr_i(n, "to", 0);
	int sx = rt_dtype_size(x->dtype), st = rt_dtype_size(to);
	if (!sx || !st)
		node_fatal(n, "bitcast from %s to type %d is not supported", dtype_name(x->dtype), to);
	if (sx != st)
		node_fatal(n, "bitcast between types of different sizes (%s, %s) is not supported",
			   dtype_name(x->dtype), dtype_name(to));
	set_shape(n->out[0], to, x->rank, x->dims);
	n->alias = 1;
}

static void lower_bitcast(Graph *g, Node *n)
{
	Call *c = call_new(g, n, "rt_copy");
	call_in(c, n->in[0]);
	call_out(c, n->out[0]);
	call_p(c, nbytes(n->out[0]));
}

/* ---- LinearAttention (3-D query/key/value) ---- */

typedef struct {
	int64_t B, T, Hq, Hkv, Dk, Dv;
	int rule, dstride, bheads;
} LinShape;

static void lin_shape(Node *n, LinShape *l)
{
	Value *q = n->in[0], *k = n->in[1], *v = n->in[2];
	Value *ps = node_in(n, 3), *dc = node_in(n, 4), *bt = node_in(n, 5);
	const char *rule = attr_s(n, "update_rule", "gated_delta");
	static const char *rules[] = { "linear", "gated", "delta", "gated_delta" };
	l->rule = -1;
	for (int i = 0; i < 4; i++)
		if (!strcmp(rule, rules[i]))
			l->rule = i;
	if (l->rule < 0)
		node_fatal(n, "update_rule '%s' is not linear, gated, delta or gated_delta", rule);
	for (int i = 0; i < 3; i++) {
		need_rank(n, i, 3, 3);
		need_float(n, i);
		if (n->in[i]->dtype != q->dtype)
			node_fatal(n, "input %d '%s' is %s, query is %s", i, n->in[i]->name,
				   dtype_name(n->in[i]->dtype), dtype_name(q->dtype));
	}
	l->B = q->dims[0];
	l->T = q->dims[1];
	l->Hq = attr_i(n, "q_num_heads", 0);
	l->Hkv = attr_i(n, "kv_num_heads", 0);
	if (l->Hq <= 0 || l->Hkv <= 0 || l->Hq % l->Hkv || q->dims[2] % l->Hq || k->dims[2] % l->Hkv ||
	    v->dims[2] % l->Hkv)
		node_fatal(n, "attributes q_num_heads %lld / kv_num_heads %lld do not fit query %s, key %s, value %s",
			   (long long)l->Hq, (long long)l->Hkv, shape_str(q), shape_str(k), shape_str(v));
	l->Dk = q->dims[2] / l->Hq;
	l->Dv = v->dims[2] / l->Hkv;
	if (k->dims[0] != l->B || k->dims[1] != l->T || v->dims[0] != l->B || v->dims[1] != l->T ||
	    k->dims[2] != l->Hkv * l->Dk)
		node_fatal(n, "key %s / value %s do not match query %s", shape_str(k), shape_str(v), shape_str(q));
	if (ps) {
		int64_t want[4] = { l->B, l->Hkv, l->Dk, l->Dv };
		if (ps->rank != 4 || memcmp(ps->dims, want, sizeof want) || ps->dtype != q->dtype)
			node_fatal(n, "past_state '%s' %s must be (%lld, %lld, %lld, %lld) of the query's type", ps->name,
				   shape_str(ps), (long long)l->B, (long long)l->Hkv, (long long)l->Dk, (long long)l->Dv);
	}
	if (l->rule == 1 || l->rule == 3) {
		if (!dc)
			node_fatal(n, "update_rule '%s' needs input 4 'decay'", rule);
		if (dc->rank != 3 || dc->dims[0] != l->B || dc->dims[1] != l->T || dc->dtype != q->dtype ||
		    (dc->dims[2] != l->Hkv * l->Dk && dc->dims[2] != l->Hkv))
			node_fatal(n, "decay '%s' %s must be (%lld, %lld, %lld or %lld)", dc->name, shape_str(dc),
				   (long long)l->B, (long long)l->T, (long long)(l->Hkv * l->Dk), (long long)l->Hkv);
		l->dstride = dc->dims[2] != l->Hkv || l->Dk == 1;
	}
	if (l->rule >= 2) {
		if (!bt)
			node_fatal(n, "update_rule '%s' needs input 5 'beta'", rule);
		if (bt->rank != 3 || bt->dims[0] != l->B || bt->dims[1] != l->T || bt->dtype != q->dtype ||
		    (bt->dims[2] != l->Hkv && bt->dims[2] != 1))
			node_fatal(n, "beta '%s' %s must be (%lld, %lld, %lld or 1)", bt->name, shape_str(bt),
				   (long long)l->B, (long long)l->T, (long long)l->Hkv);
		l->bheads = bt->dims[2] != 1 || l->Hkv == 1;
	}
}

static void infer_linear_attention(Graph *g, Node *n)
{
	(void)g;
	LinShape l;
	lin_shape(n, &l);
	int dt = n->in[0]->dtype;
	int64_t yd[3] = { l.B, l.T, l.Hq * l.Dv }, sd[4] = { l.B, l.Hkv, l.Dk, l.Dv };
	set_shape(n->out[0], dt, 3, yd);
	if (n->nout > 1)
		set_shape(n->out[1], dt, 4, sd);
}

static void lower_linear_attention(Graph *g, Node *n)
{
	LinShape l;
	lin_shape(n, &l);
	double scale = attr_get(n, "scale") ? attr_f(n, "scale", 0) : 1.0f / sqrtf((float)l.Dk);
	int64_t sd[1] = { l.B * l.Hkv * l.Dk * l.Dv + l.Dv };
	Value *scratch = temp_value(g, RT_F32, 1, sd);
	Call *c = call_new(g, n, "rt_linear_attention");
	for (int i = 0; i < 6; i++)
		call_in(c, node_in(n, i));
	call_out(c, n->out[0]);
	call_out(c, n->nout > 1 ? n->out[1] : NULL);
	call_out(c, scratch);
	call_p(c, n->in[0]->dtype);
	call_p(c, l.B);
	call_p(c, l.T);
	call_p(c, l.Hq);
	call_p(c, l.Hkv);
	call_p(c, l.Dk);
	call_p(c, l.Dv);
	call_p(c, l.rule);
	call_pf(c, (float)scale);
	call_p(c, l.dstride);
	call_p(c, l.bheads);
}

const OpDef ops_attention[] = {
	{ "Attention", 3, 7, 1, 4, infer_attention, lower_attention },
	{ "RotaryEmbedding", 3, 4, 1, 1, infer_rotary, lower_rotary },
	{ "Swish", 1, 1, 1, 1, infer_swish, lower_swish },
	{ "SwiGLU", 2, 2, 1, 1, infer_swish, lower_swish },
	{ "Shrink", 1, 1, 1, 1, infer_shrink, lower_shrink },
	{ "CumProd", 2, 2, 1, 1, infer_cumprod, lower_cumprod },
	{ "BitCast", 1, 1, 1, 1, infer_bitcast, lower_bitcast },
	{ "LinearAttention", 3, 6, 1, 2, infer_linear_attention, lower_linear_attention },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};
