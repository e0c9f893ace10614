/* kvcache.c: derive an incremental entry point (a KV cache) from a graph
 * exported with a fixed window of T tokens.
 *
 * The exported graph computes all T rows at once and has no cache inputs.
 * This pass proves, node by node, which rows every tensor's rows depend on,
 * and builds a second program, the step graph, that computes one row (the
 * position `pos`) from the token at pos and the cached keys and values of
 * the rows before it.  The step nodes are appended to the graph after the
 * full-window nodes; lower, plan and emit turn them into NAME_step.
 *
 * The analysis, forward from the token input [T] (axis 0 = positions):
 *
 *   q axis   of a tensor: its rows are query positions (0..T-1).  A node is
 *            row-local when output row q reads only row q of its inputs:
 *            elementwise ops, normalisations and reductions over other axes,
 *            contractions with weights (Linear, MoE), TopK, gathers, views.
 *   k axis   appears at a mixing contraction, scores = Q . K: operand 0
 *            keeps its q axis, operand 1's positions become the key axis of
 *            the output and operand 1 is cached.  Then the key axis must be
 *            masked causally (a constant adding <= -1e30 where key > query,
 *            or a Where selecting such a value) before a Softmax over it;
 *            after it, those probabilities are exactly 0, and P . V (V's
 *            positions summed against the key axis) reads only rows <= q:
 *            V is cached too.
 *
 * In the step graph every q axis has length 1, key axes keep length T and
 * read the cache.  Constants with a q axis of length T (rotary tables, mask
 * rows) are read at row pos (rt_kv_row).  Shape constants of Reshape and
 * Expand get 1 on their q axis.  Every step node's shape is re-inferred and
 * checked against the full-window shapes.
 *
 * Cache rows after pos are zero (NAME_step clears the state at pos 0) or
 * hold older positions: both are finite, masked scores ignore them, and
 * 0 * finite = 0 in P . V, so row pos of the step equals row pos of the
 * full window.  When anything cannot be proved the pass says which node and
 * why, and the model gets only the full-window entry point.
 */
#include "gptossc.h"

typedef struct Seq {
	int q, k;     /* axis of query positions, of key positions (-1: none) */
	int64_t koff; /* the keys occupy [koff, koff + T) of axis k */
	int masked;   /* entries with key > query are <= -1e30 */
	int probs;    /* entries with key > query are exactly 0 */
	Value *step;  /* the twin in the step graph */
	Value *cache; /* the state tensor, when this tensor is cached */
} Seq;

typedef struct Kv {
	Graph *g;
	int64_t T;
	const Node *bad; /* where the proof failed, and why */
	char *why;
	Node **nodes; /* the step graph */
	int nnodes, cap;
	Value *pos;
	Value **rows; /* positional constants: the constant, its axis, its twin */
	int *rowaxis;
	Value **rowtwin;
	int nrows;
	Value **state, **src;
	int nstate;
	int ntwin;
} Kv;

#define SEQ(v) ((Seq *)(v)->kv)

static int no(Kv *kv, const Node *n, const char *f, ...) __attribute__((format(printf, 3, 4)));
static int no(Kv *kv, const Node *n, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	if (vasprintf(&kv->why, f, ap) < 0)
		kv->why = "out of memory";
	va_end(ap);
	kv->bad = n;
	return 0;
}

static Seq *seq_new(Value *v, int q, int k)
{
	Seq *s = xcalloc(1, sizeof *s);
	s->q = q;
	s->k = k;
	v->kv = s;
	return s;
}

static void push(Kv *kv, Node *n)
{
	if (kv->nnodes == kv->cap) {
		kv->cap = kv->cap ? 2 * kv->cap : 256;
		kv->nodes = xrealloc(kv->nodes, kv->cap * sizeof *kv->nodes);
	}
	kv->nodes[kv->nnodes++] = n;
}

/* A new value of the step graph shaped like v with its q axis 1. */
static Value *twin_value(Kv *kv, const Value *v, int q)
{
	Value *t = value_new(kv->g, fmt("%s.step", v->name));
	t->cname = fmt("step_%d", kv->ntwin++);
	set_shape(t, v->dtype, v->rank, v->dims);
	if (q >= 0)
		t->dims[q] = 1;
	return t;
}

static Node *internal_node(Kv *kv, const Node *like, const char *op, const OpDef *def, int nin)
{
	Node *n = xcalloc(1, sizeof *n);
	n->name = like->name;
	n->op = (char *)op;
	n->domain = "gptossc";
	n->def = def;
	n->nin = nin;
	n->nout = 1;
	n->in = xcalloc(nin, sizeof(Value *));
	n->out = xcalloc(1, sizeof(Value *));
	n->in_names = xcalloc(nin, sizeof(char *));
	n->out_names = xcalloc(1, sizeof(char *));
	push(kv, n);
	return n;
}

/* [outer, T, inner bytes] around axis a of v */
static void around(const Value *v, int a, int64_t *p)
{
	int64_t outer = 1, inner = (int64_t)rt_dtype_size(v->dtype);
	for (int i = 0; i < a; i++)
		outer *= v->dims[i];
	for (int i = a + 1; i < v->rank; i++)
		inner *= v->dims[i];
	p[0] = outer;
	p[1] = v->dims[a];
	p[2] = inner;
}

/* KVRow reads row pos of its input, KVWrite writes row pos of its output:
 * either way the kernel gets {x, pos, y} and the [outer, T, inner] of the
 * side with all T rows. */
static void lower_kv(Graph *g, Node *n, const char *kernel, const Value *full)
{
	int64_t p[3];
	around(full, (int)n->aux[0], p);
	Call *c = call_new(g, n, kernel);
	call_in(c, n->in[0]);
	call_in(c, n->in[1]);
	call_out(c, n->out[0]);
	call_pv(c, p, 3);
}

static void lower_kv_row(Graph *g, Node *n)
{
	lower_kv(g, n, "rt_kv_row", n->in[0]);
}

static void lower_kv_write(Graph *g, Node *n)
{
	lower_kv(g, n, "rt_kv_write", n->out[0]);
}

static const OpDef kv_row_def = { "KVRow", 2, 2, 1, 1, NULL, lower_kv_row };
static const OpDef kv_write_def = { "KVWrite", 2, 2, 1, 1, NULL, lower_kv_write };

/* The row pos of constant c along axis a (memoised). */
static Value *row_of(Kv *kv, const Node *user, Value *c, int a)
{
	for (int i = 0; i < kv->nrows; i++)
		if (kv->rows[i] == c && kv->rowaxis[i] == a)
			return kv->rowtwin[i];
	Node *n = internal_node(kv, user, "KVRow", &kv_row_def, 2);
	n->in[0] = c;
	n->in[1] = kv->pos;
	n->out[0] = twin_value(kv, c, a);
	n->out[0]->producer = n;
	n->aux = fmt("%c", a);
	kv->rows = xrealloc(kv->rows, (kv->nrows + 1) * sizeof(Value *));
	kv->rowaxis = xrealloc(kv->rowaxis, (kv->nrows + 1) * sizeof(int));
	kv->rowtwin = xrealloc(kv->rowtwin, (kv->nrows + 1) * sizeof(Value *));
	kv->rows[kv->nrows] = c;
	kv->rowaxis[kv->nrows] = a;
	kv->rowtwin[kv->nrows++] = n->out[0];
	return n->out[0];
}

/* The cache of v (a tensor with a q axis read across rows): its twin
 * written at row pos of a state tensor shaped like v. */
static Value *cache_of(Kv *kv, const Node *user, Value *v)
{
	Seq *s = SEQ(v);
	if (s->cache)
		return s->cache;
	Node *n = internal_node(kv, user, "KVWrite", &kv_write_def, 2);
	n->in[0] = s->step;
	n->in[1] = kv->pos;
	Value *c = value_new(kv->g, fmt("%s.cache", v->name));
	c->cname = fmt("cache_%d", kv->nstate);
	set_shape(c, v->dtype, v->rank, v->dims);
	c->producer = n;
	n->out[0] = c;
	n->aux = fmt("%c", s->q);
	kv->state = xrealloc(kv->state, (kv->nstate + 1) * sizeof(Value *));
	kv->src = xrealloc(kv->src, (kv->nstate + 1) * sizeof(Value *));
	kv->src[kv->nstate] = v;
	kv->state[kv->nstate++] = c;
	s->cache = c;
	return c;
}

/* The axis of out that carries axis a of in, when a view (Reshape,
 * Squeeze, Flatten...) keeps it whole: same product of dims before it. */
static int view_axis(const Value *in, const Value *out, int a)
{
	int64_t pre = 1, p = 1;
	for (int i = 0; i < a; i++)
		pre *= in->dims[i];
	for (int b = 0; b < out->rank; b++) {
		if (p == pre && out->dims[b] == in->dims[a])
			return b;
		p *= out->dims[b];
		if (p > pre)
			break;
	}
	return -1;
}

/* ---- causality of a mask constant ---- */

/* Is every entry of constant m (broadcast to out, axes q and k of out)
 * with key > query "minus infinity"?  how: 0, an added mask (<= -1e30);
 * 1, a Where condition choosing the scores (== 0 there); 2, a Where
 * condition choosing the fill (!= 0 there).  m's dims at q and k must be
 * full. */
static int causal_const(Graph *g, Value *m, const Value *out, int q, int k, int64_t koff, int64_t T, int how)
{
	int sh = out->rank - m->rank, mq = q - sh, mk = k - sh;
	if (mq < 0 || mk < 0 || m->dims[mq] != T || m->dims[mk] != out->dims[k])
		return 0;
	int64_t n = numel(m), idx[RT_MAXDIM] = { 0 };
	for (int64_t i = 0; i < n; i++) {
		int64_t key = idx[mk] - koff, query = idx[mq];
		if (key > query && key < T) {
			if (how == 0 ? !(const_float(g, m, i) <= -1e30) : (const_int(g, m, i) != 0) != (how == 2))
				return 0;
		}
		for (int d = m->rank - 1; d >= 0; d--) {
			if (++idx[d] < m->dims[d])
				break;
			idx[d] = 0;
		}
	}
	return 1;
}

/* ---- the rules, one per kind of node ----
 * Each sets the Seq of the outputs and the step twin's inputs (tw[]),
 * or returns 0 through no(). */

static const char *ELEMENTWISE =
	" Abs Neg Exp Log Sqrt Reciprocal Floor Ceil Round Sign Sigmoid Tanh Relu Erf Sin Cos Tan"
	" Softplus Softsign Not IsNaN IsInf HardSigmoid LeakyRelu Elu Selu Celu HardSwish Mish Gelu"
	" Add Sub Mul Div Pow Mod Equal Less Greater LessOrEqual GreaterOrEqual And Or Xor PRelu"
	" Max Min Sum Mean Where Cast CastLike Clip Identity Dropout BitwiseNot BitwiseAnd BitwiseOr"
	" BitwiseXor BitShift ";

static int is_op(const Node *n, const char *list)
{
	char *w = fmt(" %s ", n->op);
	int r = strstr(list, w) != NULL && !strcmp(n->domain, "");
	free(w);
	return r;
}

/* Twin inputs of a broadcasting node whose output has axes q (and k):
 * constants with a full q axis are read at row pos. */
static int broadcast_inputs(Kv *kv, Node *n, Value **tw, int q, int k, int nin)
{
	Value *out = n->out[0];
	for (int i = 0; i < nin; i++) {
		Value *v = n->in[i];
		if (!v)
			continue;
		int sh = out->rank - v->rank;
		if (v->kv) {
			Seq *s = SEQ(v);
			if (s->q + sh != q)
				return no(kv, n, "input %d '%s' has its positions on axis %d, the other inputs on axis %d",
					  i, v->name, s->q + sh, q - sh);
			if (s->k >= 0 && s->k + sh != k)
				return no(kv, n, "input %d '%s' has its keys on another axis", i, v->name);
			if (s->k < 0 && k >= 0 && k - sh >= 0 && v->dims[k - sh] != 1)
				return no(kv, n, "input %d '%s' has an axis of %lld where the others have keys", i,
					  v->name, (long long)v->dims[k - sh]);
			tw[i] = s->step;
			continue;
		}
		if (!v->is_const)
			return no(kv, n, "input %d '%s' is neither constant nor computed from the tokens", i, v->name);
		tw[i] = v;
		if (q - sh >= 0 && v->dims[q - sh] != 1) {
			if (v->dims[q - sh] != kv->T)
				return no(kv, n, "constant input %d '%s' has %lld rows where the positions are %lld", i,
					  v->name, (long long)v->dims[q - sh], (long long)kv->T);
			tw[i] = row_of(kv, n, v, q - sh);
		}
	}
	return 1;
}

static int rule_elementwise(Kv *kv, Node *n, Value **tw)
{
	Value *out = n->out[0];
	int q = -1, k = -1;
	Seq *keyed = NULL;
	for (int i = 0; i < n->nin; i++) {
		Value *v = n->in[i];
		if (v && v->kv) {
			int sh = out->rank - v->rank;
			if (q < 0)
				q = SEQ(v)->q + sh;
			if (SEQ(v)->k >= 0) {
				k = SEQ(v)->k + sh;
				keyed = SEQ(v);
			}
		}
	}
	if (!broadcast_inputs(kv, n, tw, q, k, n->nin))
		return 0;
	for (int i = 0; i < n->nout; i++) {
		Seq *s = seq_new(n->out[i], q, k);
		if (!keyed)
			continue;
		s->koff = keyed->koff;
		/* the causal mask: scores + M, or Where(C, scores, -inf) */
		if (!strcmp(n->op, "Add")) {
			Value *m = n->in[0]->kv ? n->in[1] : n->in[0];
			if (!m->kv && causal_const(kv->g, m, out, q, k, s->koff, kv->T, 0))
				s->masked = 1;
		} else if (!strcmp(n->op, "Where") && n->in[0]->is_const && !n->in[0]->kv) {
			/* Where(C, scores, fill) or Where(C, fill, scores) (masked_fill) */
			int fill = n->in[1]->kv ? 2 : 1;
			Value *y = n->in[fill];
			int all = y->is_const && !y->kv;
			for (int64_t j = 0; all && j < numel(y); j++)
				all = const_float(kv->g, y, j) <= -1e30;
			if (all && causal_const(kv->g, n->in[0], out, q, k, s->koff, kv->T, fill == 2 ? 1 : 2))
				s->masked = 1;
		}
	}
	return 1;
}

static int rule_view(Kv *kv, Node *n, Value **tw)
{
	Value *x = n->in[0], *y = n->out[0];
	Seq *s = SEQ(x);
	if (!s)
		return no(kv, n, "input 0 '%s' is not computed from the tokens", x->name);
	int q = view_axis(x, y, s->q), k = s->k >= 0 ? view_axis(x, y, s->k) : -1;
	if (q < 0 || (s->k >= 0 && k < 0))
		return no(kv, n, "merges or splits the axis of positions (%s to %s)", shape_str(x), shape_str(y));
	tw[0] = s->step;
	Seq *o = seq_new(y, q, k);
	o->koff = s->koff;
	o->masked = s->masked;
	o->probs = s->probs;
	/* Reshape's shape: 1 on the q axis (copies and -1 stay) */
	Value *sh = node_in(n, 1);
	if (!strcmp(n->op, "Reshape") && sh) {
		if (!sh->is_const || sh->rank != 1 || sh->dims[0] != y->rank)
			return no(kv, n, "the shape is not a constant of rank %d", y->rank);
		Value *c = temp_value(kv->g, sh->dtype, 1, sh->dims);
		c->is_const = 1;
		c->data = xcalloc(nbytes(sh) + 8, 1);
		for (int i = 0; i < y->rank; i++) {
			int64_t d = const_int(kv->g, sh, i);
			rt_setf(c->data, c->dtype, i, i == q && d == kv->T ? 1 : (double)d);
		}
		tw[1] = c;
	}
	return 1;
}

static int rule_expand(Kv *kv, Node *n, Value **tw)
{
	Value *x = n->in[0], *sh = n->in[1], *y = n->out[0];
	Seq *s = SEQ(x);
	if (!s || s->k >= 0 || !sh->is_const)
		return no(kv, n, "expands something other than a tensor of positions by a constant shape");
	int q = s->q + y->rank - x->rank;
	tw[0] = s->step;
	Value *c = temp_value(kv->g, sh->dtype, 1, sh->dims);
	c->is_const = 1;
	c->data = xcalloc(nbytes(sh) + 8, 1);
	int j = q - (y->rank - (int)numel(sh));
	for (int i = 0; i < numel(sh); i++) {
		int64_t d = const_int(kv->g, sh, i);
		rt_setf(c->data, c->dtype, i, i == j && d == kv->T ? 1 : (double)d);
	}
	tw[1] = c;
	seq_new(y, q, -1);
	return 1;
}

static int rule_transpose(Kv *kv, Node *n, Value **tw)
{
	Value *x = n->in[0], *y = n->out[0];
	Seq *s = SEQ(x);
	int64_t perm[RT_MAXDIM];
	int np = attr_ints(n, "perm", perm, RT_MAXDIM);
	if (np < 0)
		for (np = 0; np < x->rank; np++)
			perm[np] = x->rank - 1 - np;
	int q = -1, k = -1;
	for (int j = 0; j < np; j++) {
		if (perm[j] == s->q)
			q = j;
		if (s->k >= 0 && perm[j] == s->k)
			k = j;
	}
	tw[0] = s->step;
	Seq *o = seq_new(y, q, k);
	o->koff = s->koff;
	o->masked = s->masked;
	o->probs = s->probs;
	return 1;
}

/* Slice: the q axis whole; on the key axis the keys whole. */
static int rule_slice(Kv *kv, Node *n, Value **tw)
{
	Value *x = n->in[0], *y = n->out[0];
	Seq *s = SEQ(x);
	int64_t koff = s->koff;
	for (int i = 1; i < n->nin; i++)
		if (n->in[i] && !n->in[i]->is_const)
			return no(kv, n, "input %d is not constant", i);
	if (n->nin < 3)
		return no(kv, n, "a Slice of opset < 10 (attributes) on positions is not supported");
	Value *st = n->in[1], *en = n->in[2], *ax = node_in(n, 3), *sp = node_in(n, 4);
	for (int i = 0; i < numel(st); i++) {
		int a = ax ? (int)const_int(kv->g, ax, i) : i;
		if (a < 0)
			a += x->rank;
		int64_t d = x->dims[a], b = const_int(kv->g, st, i), e = const_int(kv->g, en, i);
		int64_t step = sp ? const_int(kv->g, sp, i) : 1;
		b = b < 0 ? b + d : b;
		e = e < 0 ? e + d : e;
		b = b < 0 ? 0 : b > d ? d : b;
		e = e < 0 ? 0 : e > d ? d : e;
		if (a == s->q && (b != 0 || e != d || step != 1))
			return no(kv, n, "slices the axis of positions");
		if (a == s->k) {
			if (step != 1 || b > koff || e < koff + kv->T)
				return no(kv, n, "cuts into the keys");
			koff -= b;
		}
	}
	for (int i = 0; i < n->nin; i++)
		tw[i] = n->in[i];
	tw[0] = s->step;
	Seq *o = seq_new(y, s->q, s->k);
	o->koff = koff;
	o->masked = s->masked;
	o->probs = s->probs;
	return 1;
}

static int rule_concat(Kv *kv, Node *n, Value **tw)
{
	Value *y = n->out[0];
	int axis = (int)norm_axis(n, attr_i(n, "axis", 0), y->rank);
	int q = -1, k = -1, nkeyed = 0;
	int64_t koff = 0, at = 0;
	Seq *keyed = NULL;
	for (int i = 0; i < n->nin; i++) {
		Value *v = n->in[i];
		if (v->kv) {
			q = SEQ(v)->q;
			if (SEQ(v)->k >= 0) {
				k = SEQ(v)->k;
				keyed = SEQ(v);
				nkeyed++;
				koff = at + keyed->koff;
			}
		}
		at += v->dims[axis];
	}
	if (axis == q)
		return no(kv, n, "concatenates along the axis of positions");
	if (k >= 0 && (axis != k || nkeyed != 1) && axis == k)
		return no(kv, n, "concatenates several tensors of keys");
	if (!broadcast_inputs(kv, n, tw, q, k, n->nin))
		return 0;
	Seq *o = seq_new(y, q, k);
	if (keyed) {
		o->koff = axis == k ? koff : keyed->koff;
		o->masked = keyed->masked;
		o->probs = keyed->probs && axis != k;
	}
	return 1;
}

static int rule_split(Kv *kv, Node *n, Value **tw)
{
	Value *x = n->in[0];
	Seq *s = SEQ(x);
	int axis = (int)norm_axis(n, attr_i(n, "axis", 0), x->rank);
	if (axis == s->q || axis == s->k || s->k >= 0)
		return no(kv, n, "splits the axis of positions or a tensor of keys");
	for (int i = 0; i < n->nin; i++)
		tw[i] = n->in[i];
	tw[0] = s->step;
	for (int i = 0; i < n->nout; i++)
		seq_new(n->out[i], s->q, -1);
	return 1;
}

static int rule_gather(Kv *kv, Node *n, Value **tw)
{
	Value *d = n->in[0], *ix = n->in[1], *y = n->out[0];
	int axis = !strcmp(n->op, "Embed") ? 0 : (int)norm_axis(n, attr_i(n, "axis", 0), d->rank);
	tw[0] = d;
	tw[1] = ix;
	if (d->kv && !ix->kv && ix->is_const && SEQ(d)->k < 0) {
		int q = SEQ(d)->q;
		if (axis == q)
			return no(kv, n, "gathers along the axis of positions");
		tw[0] = SEQ(d)->step;
		seq_new(y, q < axis ? q : q + ix->rank - 1, -1);
		return 1;
	}
	if (ix->kv && !d->kv && d->is_const && SEQ(ix)->k < 0) {
		tw[1] = SEQ(ix)->step;
		seq_new(y, axis + SEQ(ix)->q, -1);
		return 1;
	}
	return no(kv, n, "gathers with both data and indices depending on the tokens");
}

/* Linear and Gemm: rows of positions times constant weights. */
static int rule_linear(Kv *kv, Node *n, Value **tw)
{
	Value *x = n->in[0];
	Seq *s = SEQ(x);
	if (!s || s->k >= 0 || s->q == x->rank - 1)
		return no(kv, n, "its input '%s' is not a tensor of rows of positions", x->name);
	for (int i = 0; i < n->nin; i++) {
		Value *v = n->in[i];
		tw[i] = v;
		if (v && v->kv) {
			if (SEQ(v)->k >= 0)
				return no(kv, n, "input %d '%s' holds keys", i, v->name);
			tw[i] = SEQ(v)->step;
		} else if (v && !v->is_const) {
			return no(kv, n, "input %d '%s' is neither constant nor computed from the tokens", i, v->name);
		}
	}
	seq_new(n->out[0], s->q, -1);
	return 1;
}

/* Softmax and friends, TopK, ArgMax, normalisations, reductions: the
 * reduced axes must not hold positions; over keys only after a mask. */
static int rule_reduce(Kv *kv, Node *n, Value **tw)
{
	Value *x = n->in[0];
	Seq *s = SEQ(x);
	if (!s)
		return no(kv, n, "input 0 is not computed from the tokens");
	int mask[RT_MAXDIM] = { 0 }, keep = 1;
	int soft = !strcmp(n->op, "Softmax") || !strcmp(n->op, "LogSoftmax");
	if (soft || !strcmp(n->op, "TopK") || !strcmp(n->op, "ArgMax") || !strcmp(n->op, "ArgMin")) {
		int def = soft ? (n->opset >= 13 ? -1 : 1) : !strcmp(n->op, "TopK") ? -1 : 0;
		int a = (int)norm_axis(n, attr_i(n, "axis", def), x->rank);
		mask[a] = 1;
		if (soft && n->opset < 13)
			for (int i = a; i < x->rank; i++)
				mask[i] = x->dims[i] != 1;
		keep = strcmp(n->op, "ArgMax") && strcmp(n->op, "ArgMin") ? 1 : (int)attr_i(n, "keepdims", 1);
	} else if (!strcmp(n->op, "LayerNormalization") || !strcmp(n->op, "RMSNormalization")) {
		int a = (int)norm_axis(n, attr_i(n, "axis", -1), x->rank);
		for (int i = a; i < x->rank; i++)
			mask[i] = 1;
	} else {
		if (!reduce_mask(kv->g, n, mask))
			memset(mask, 0, sizeof mask);
		keep = (int)attr_i(n, "keepdims", 1);
	}
	if (mask[s->q] && x->dims[s->q] != 1)
		return no(kv, n, "reduces over the axis of positions");
	int overkeys = s->k >= 0 && mask[s->k];
	if (overkeys) {
		for (int i = 0; i < x->rank; i++)
			if (mask[i] && i != s->k && x->dims[i] != 1)
				return no(kv, n, "reduces over keys and another axis together");
		if (strcmp(n->op, "Softmax"))
			return no(kv, n, "%s over the keys (only Softmax is understood there)", n->op);
		if (!s->masked)
			return no(kv, n, "Softmax over keys that no causal mask hides (each query would see later "
					 "positions)");
	}
	/* the other inputs (scales, biases, axes, K) stay constant */
	tw[0] = s->step;
	for (int i = 1; i < n->nin; i++) {
		tw[i] = n->in[i];
		if (n->in[i] && !n->in[i]->is_const)
			return no(kv, n, "input %d is not a constant", i);
	}
	int q = s->q, k = s->k;
	if (!keep) {
		int dq = 0, dk = 0;
		for (int i = 0; i < x->rank; i++) {
			dq += mask[i] && i < s->q;
			dk += mask[i] && i < s->k;
		}
		q -= dq;
		k = k >= 0 && !mask[k] ? k - dk : -1;
	}
	for (int i = 0; i < n->nout; i++) {
		Seq *o = seq_new(n->out[i], q, overkeys ? k : k);
		o->koff = s->koff;
		o->probs = overkeys;
	}
	return 1;
}

/* The letters of an Einsum equation's terms; 0 if it has dots. */
static int ein_terms(const char *eq, char terms[3][RT_MAXDIM + 1])
{
	int t = 0, len = 0;
	memset(terms, 0, 3 * (RT_MAXDIM + 1));
	for (const char *p = eq; *p; p++) {
		if (*p == ' ')
			continue;
		if (*p == ',' || (*p == '-' && p[1] == '>')) {
			if (++t > 2)
				return 0;
			len = 0;
			p += *p == '-';
			continue;
		}
		if (*p == '.' || len == RT_MAXDIM)
			return 0;
		terms[t][len++] = *p;
	}
	return t == 2;
}

/* Contractions of two tensors of positions: Q.K (mixing: keys appear),
 * P.V (keys summed), or row-local (the same positions on both). */
static int rule_contract(Kv *kv, Node *n, Value **tw, int qa, int ka, int qb, int kb, int qy, int ky,
			 int sumkeys)
{
	Value *a = n->in[0], *b = n->in[1];
	Seq *sa = SEQ(a), *sb = SEQ(b);
	tw[0] = sa->step;
	tw[1] = sb->step;
	if (sa->k < 0 && sb->k < 0 && sa->q == qa && sb->q == qb && qy >= 0 && ky < 0) {
		seq_new(n->out[0], qy, -1); /* same positions: row-local */
		return 1;
	}
	if (sa->k < 0 && sb->k < 0 && sa->q == qa && sb->q == kb && qy >= 0 && ky >= 0) {
		tw[1] = cache_of(kv, n, b); /* scores[q, k] = Q[q] . K[k] */
		seq_new(n->out[0], qy, ky);
		return 1;
	}
	if (sa->k >= 0 && sa->q == qa && sa->k == ka && sb->k < 0 && sb->q == kb && sumkeys && qy >= 0) {
		if (!sa->probs)
			return no(kv, n, "sums over keys that are not causally masked probabilities");
		if (sa->koff != 0)
			return no(kv, n, "the keys are not at the start of their axis");
		tw[1] = cache_of(kv, n, b); /* out[q] = sum_k P[q, k] V[k] */
		seq_new(n->out[0], qy, -1);
		return 1;
	}
	return no(kv, n, "mixes positions in a way that is not attention (Q.K or P.V)");
}

static int rule_einsum(Kv *kv, Node *n, Value **tw)
{
	char t[3][RT_MAXDIM + 1];
	if (n->nin != 2 || !ein_terms(attr_s(n, "equation", ""), t))
		return no(kv, n, "only two-operand Einsum equations without '...' are understood");
	Value *a = n->in[0], *b = n->in[1];
	if (!a->kv || !b->kv) { /* one operand constant: row-local */
		Value *x = a->kv ? a : b;
		char *tx = t[a->kv ? 0 : 1];
		Seq *s = SEQ(x);
		if (s->k >= 0)
			return no(kv, n, "contracts keys with a constant");
		char *at = strchr(t[2], tx[s->q]);
		if (!at)
			return no(kv, n, "sums over the axis of positions");
		tw[0] = a->kv ? s->step : a;
		tw[1] = b->kv ? s->step : b;
		seq_new(n->out[0], (int)(at - t[2]), -1);
		return 1;
	}
	Seq *sa = SEQ(a), *sb = SEQ(b);
	char lq = t[0][sa->q], lk = sa->k >= 0 ? t[0][sa->k] : 0, lb = t[1][sb->q];
	char *pq = strchr(t[2], lq), *pk = strchr(t[2], lb);
	int qy = pq ? (int)(pq - t[2]) : -1;
	if (lb == lq) /* the same positions in both */
		return rule_contract(kv, n, tw, sa->q, -1, sb->q, -1, qy, -1, 0);
	if (!lk) /* Q.K: b's positions become the keys */
		return rule_contract(kv, n, tw, sa->q, -1, -1, sb->q, qy, pk ? (int)(pk - t[2]) : -1, 0);
	/* P.V: V's positions are P's keys, summed away */
	return rule_contract(kv, n, tw, sa->q, sa->k, -1, lb == lk ? sb->q : -2, qy, -1, !pk);
}

static int rule_matmul(Kv *kv, Node *n, Value **tw)
{
	Value *a = n->in[0], *b = n->in[1], *y = n->out[0];
	if (!b->kv || (b->is_const && !b->kv)) {
		if (!a->kv)
			return no(kv, n, "input 0 is not computed from the tokens");
		Seq *s = SEQ(a);
		if (s->k >= 0 || s->q == a->rank - 1)
			return no(kv, n, "multiplies the axis of positions with a constant");
		tw[0] = s->step;
		tw[1] = b;
		seq_new(y, s->q + y->rank - a->rank, -1);
		return 1;
	}
	if (!a->kv)
		return no(kv, n, "a constant times a tensor of positions");
	int ra = a->rank, rb = b->rank, r = y->rank;
	Seq *sa = SEQ(a), *sb = SEQ(b);
	if (sa->k < 0 && sa->q == ra - 2 && sb->q == rb - 1) /* Q . K^T */
		return rule_contract(kv, n, tw, ra - 2, -1, -1, rb - 1, r - 2, r - 1, 0);
	if (sa->k == ra - 1 && sa->q == ra - 2 && sb->q == rb - 2) /* P . V */
		return rule_contract(kv, n, tw, ra - 2, ra - 1, -1, rb - 2, r - 2, -1, 1);
	if (sa->k < 0 && sb->k < 0 && sa->q < ra - 2 && sa->q - ra == sb->q - rb)
		return rule_contract(kv, n, tw, sa->q, -1, sb->q, -1, sa->q + r - ra, -1, 0);
	return no(kv, n, "mixes positions in a way that is not attention (Q.K or P.V)");
}

static int rule(Kv *kv, Node *n, Value **tw)
{
	int any = 0;
	for (int i = 0; i < n->nin; i++)
		any |= n->in[i] && n->in[i]->kv;
	if (!any)
		return no(kv, n, "computes something at run time that does not depend on the tokens");
	const char *op = n->op;
	if (is_op(n, ELEMENTWISE))
		return rule_elementwise(kv, n, tw);
	if (!strcmp(op, "Reshape") || !strcmp(op, "Squeeze") || !strcmp(op, "Unsqueeze") || !strcmp(op, "Flatten")) {
		for (int i = 1; i < n->nin; i++)
			if (n->in[i] && !n->in[i]->is_const)
				return no(kv, n, "input %d is not constant", i);
		for (int i = 1; i < n->nin; i++)
			tw[i] = n->in[i];
		return rule_view(kv, n, tw);
	}
	if (!strcmp(op, "Expand"))
		return rule_expand(kv, n, tw);
	if (!strcmp(op, "Transpose"))
		return rule_transpose(kv, n, tw);
	if (!strcmp(op, "Slice"))
		return rule_slice(kv, n, tw);
	if (!strcmp(op, "Concat"))
		return rule_concat(kv, n, tw);
	if (!strcmp(op, "Split"))
		return rule_split(kv, n, tw);
	if (!strcmp(op, "Gather") || !strcmp(op, "Embed"))
		return rule_gather(kv, n, tw);
	if (!strcmp(op, "Einsum"))
		return rule_einsum(kv, n, tw);
	if (!strcmp(op, "MatMul"))
		return rule_matmul(kv, n, tw);
	if (!strcmp(op, "Linear") || !strcmp(op, "Gemm"))
		return rule_linear(kv, n, tw);
	if (!strcmp(op, "MoEGemv")) {
		Value *ix = n->in[1], *x = n->in[2];
		if (!ix->kv || !x->kv || SEQ(ix)->q != 0 || SEQ(x)->q != 0)
			return no(kv, n, "expert indices and activations must both be rows of positions");
		tw[0] = n->in[0];
		tw[1] = SEQ(ix)->step;
		tw[2] = SEQ(x)->step;
		seq_new(n->out[0], 0, -1);
		return 1;
	}
	if (!strcmp(op, "Softmax") || !strcmp(op, "LogSoftmax") || !strcmp(op, "TopK") || !strcmp(op, "ArgMax") ||
	    !strcmp(op, "ArgMin") || !strcmp(op, "LayerNormalization") || !strcmp(op, "RMSNormalization") ||
	    (!strncmp(op, "Reduce", 6) && !strcmp(n->domain, "")))
		return rule_reduce(kv, n, tw);
	return no(kv, n, "%s is not known to keep rows apart", op);
}

/* The step twin of n: inputs tw[], outputs new values; shapes inferred
 * and checked against the full window's. */
static int make_twin(Kv *kv, Node *n, Value **tw)
{
	Node *s = xcalloc(1, sizeof *s);
	*s = *n;
	s->in = tw;
	s->out = xcalloc(n->nout, sizeof(Value *));
	s->alias = 0;
	s->dead = 0;
	for (int i = 0; i < n->nout; i++) {
		Value *o = n->out[i];
		Seq *so = SEQ(o);
		s->out[i] = twin_value(kv, o, so ? so->q : -1);
		s->out[i]->producer = s;
		if (so)
			so->step = s->out[i];
	}
	if (n->def->infer) {
		for (int i = 0; i < n->nout; i++)
			s->out[i]->rank = -1;
		infer_node(kv->g, s);
	}
	for (int i = 0; i < n->nout; i++) {
		Value *o = n->out[i], *t = s->out[i];
		int q = SEQ(o) ? SEQ(o)->q : -1, ok = t->rank == o->rank && t->dtype == o->dtype;
		for (int d = 0; ok && d < o->rank; d++)
			ok = t->dims[d] == (d == q ? 1 : o->dims[d]);
		if (!ok)
			return no(kv, n, "one position gives output %s, not the expected row of %s", shape_str(t),
				  shape_str(o));
	}
	push(kv, s);
	return 1;
}

static int derive(Kv *kv)
{
	Graph *g = kv->g;
	Value *tok = g->inputs[0];
	int q = tok->rank == 1 ? 0 : 1;
	kv->T = tok->dims[q];
	seq_new(tok, q, -1)->step = twin_value(kv, tok, q);
	int64_t one = 1;
	kv->pos = value_new(g, "pos");
	kv->pos->cname = "pos";
	set_shape(kv->pos, RT_I64, 1, &one);
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		Value **tw = xcalloc(n->nin + 1, sizeof(Value *));
		if (!rule(kv, n, tw) || !make_twin(kv, n, tw))
			return 0;
	}
	for (int i = 0; i < g->noutputs; i++) {
		Value *o = g->outputs[i];
		if (!o->kv || SEQ(o)->k >= 0)
			return no(kv, o->producer, "output '%s' is not a tensor of rows of positions",
				  g->output_names[i]);
	}
	return 1;
}

/* Does the graph look like a language model: one integer input of token
 * ids [T] or [1, T], the first output float with the positions first? */
static int lm_shaped(Graph *g)
{
	if (g->ninputs != 1 || g->noutputs < 1)
		return 0;
	Value *t = g->inputs[0], *y = g->outputs[0];
	if (t->dtype != RT_I32 && t->dtype != RT_I64)
		return 0;
	if (!(t->rank == 1 || (t->rank == 2 && t->dims[0] == 1)))
		return 0;
	int64_t T = t->dims[t->rank - 1];
	return T > 1 && y->dtype == RT_F32 && y->rank >= 2 && (y->dims[0] == T || (y->dims[0] == 1 && y->dims[1] == T));
}

int g_kv_mode = KV_AUTO;

void kvcache(Graph *g)
{
	g->kv_note = NULL;
	if (g_kv_mode == KV_OFF)
		return;
	if (!lm_shaped(g)) {
		if (g_kv_mode == KV_REQUIRE)
			fatal("--kv-cache: the graph is not a language model (one integer input of token ids [T] or [1, T], "
			      "float logits with the positions first)");
		return;
	}
	Kv kv = { .g = g };
	/* shape inference of a step node may fail: that is a failed proof */
	jmp_buf jb, *saved = g_fatal_jmp;
	int quiet = g_quiet, ok = 0;
	g_fatal_jmp = &jb;
	g_quiet = 1;
	if (!setjmp(jb))
		ok = derive(&kv);
	else if (!kv.why)
		kv.why = "shape inference of the one-position program failed";
	g_fatal_jmp = saved;
	g_quiet = quiet;
	Value *tok_twin = ok ? SEQ(g->inputs[0])->step : NULL;
	Value **outs = xcalloc(g->noutputs + 1, sizeof(Value *));
	for (int i = 0; ok && i < g->noutputs; i++)
		outs[i] = SEQ(g->outputs[i])->step;
	for (int i = 0; i < g->nvalues; i++) {
		free(g->values[i]->kv);
		g->values[i]->kv = NULL;
	}
	if (!ok) {
		const Node *n = kv.bad;
		g->kv_note = n ? fmt("node '%s' (%s): %s", n->name, n->op, kv.why) : fmt("%s", kv.why);
		if (g_kv_mode == KV_REQUIRE)
			fatal("--kv-cache: no incremental entry point: %s", g->kv_note);
		return;
	}
	if (!kv.nstate) {
		g->kv_note = "no tensor is read across positions: nothing to cache";
		if (g_kv_mode == KV_REQUIRE)
			fatal("--kv-cache: %s", g->kv_note);
		return;
	}
	/* the step nodes go after the full window's; lower() notes where */
	g->step_first_node = g->nnodes;
	for (int i = 0; i < kv.nnodes; i++)
		node_push(g, kv.nodes[i]);
	g->has_step = 1;
	g->window = kv.T;
	g->step_in[0] = tok_twin;
	g->step_in[1] = kv.pos;
	g->hash = fnv1a(g->hash, "kvcache", 7); /* a blob of the other mode is refused */
	g->statevals = kv.state;
	g->statesrc = kv.src;
	g->nstate = kv.nstate;
	g->step_out = outs;
}
