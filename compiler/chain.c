/* chain.c: chains of float32 elementwise nodes become one kernel call.
 *
 * Runs after fuse and kvcache, over the full window's nodes and the step
 * program's alike.  A group of elementwise nodes (Add, Sub, Mul, Div, Clip
 * with constant bounds, Sigmoid, Neg, Relu, ...) with the root's output
 * shape, whose intermediate values nothing outside the group reads,
 * becomes one EwChain node: rt_ew_chain evaluates the ops in registers,
 * 16 values at a time, and writes only the root's output.  SwiGLU's
 * clamps, sigmoid and products are one such group, as are the rotary
 * products and the score scale plus mask.
 *
 * The group's inputs (leaves) are read in place with strides: the same
 * shape; a broadcast whose kept axes are one run of the output's (a
 * scalar, a bias row, a [T,1,D] table against [T,H,D], a [1,1,T,T] mask
 * against [B,H,T,T]); or through a view along the last axis, whose node
 * then goes away when nothing else reads it: a Gather of an arithmetic
 * progression of constant indices (SwiGLU's de-interleave) or a Split.
 *
 * Also here, the attention's sink softmax: Slice(Softmax(Concat(x, z)))
 * with z one column becomes one rt_sink_softmax call.
 *
 * Every op is the unfused kernel's float32 operation, so the outputs keep
 * their bits (tests/kvcache compares with --no-chains).
 */
#include "gptossc.h"
#include "../runtime/elementwise.h"

int g_no_chains;

#define MAXREG 16 /* = RT_EW_REGS of runtime/elementwise.c */

static const struct {
	const char *name;
	int code;
} unary[] = {
	{ "Neg", RT_NEG }, { "Relu", RT_RELU }, { "Sqrt", RT_SQRT }, { "Reciprocal", RT_RECIP },
	{ "Sigmoid", RT_SIGMOID }, { "Exp", RT_EXP }, { "Tanh", RT_TANH }, { "Abs", RT_ABS },
	{ "Log", RT_LOG }, { "Erf", RT_ERF }, { NULL, 0 },
};

/* the rt_ew_chain op code of n, or -1 if n cannot be part of a chain */
static int chain_code(Node *n)
{
	if (n->dead || *n->domain || n->nout != 1 || n->out[0]->dtype != RT_F32)
		return -1;
	for (int i = 0; i < n->nin; i++)
		if (n->in[i] && n->in[i]->dtype != RT_F32)
			return -1;
	if (n->nin == 2 && n->in[0] && n->in[1]) {
		if (!strcmp(n->op, "Add"))
			return RT_ADD;
		if (!strcmp(n->op, "Sub"))
			return RT_SUB;
		if (!strcmp(n->op, "Mul"))
			return RT_MUL;
		if (!strcmp(n->op, "Div"))
			return RT_DIV;
	}
	if (!strcmp(n->op, "Clip")) { /* bounds: constant scalars or absent (opset 11+) */
		if (n->opset < 11 || !n->in[0])
			return -1;
		for (int i = 1; i < n->nin; i++)
			if (n->in[i] && (!n->in[i]->is_const || numel(n->in[i]) != 1))
				return -1;
		return RT_EW_CLIP;
	}
	if (n->nin == 1 && n->in[0] && n->nattr == 0)
		for (int i = 0; unary[i].name; i++)
			if (!strcmp(n->op, unary[i].name))
				return unary[i].code;
	return -1;
}

typedef struct {
	Value *v; /* the storage read */
	int64_t off, is, os, div, mod;
	Node *view; /* read through this node's output, or NULL */
} Leaf;

typedef struct {
	Graph *g;
	Value *out;
	int64_t R, L;
	Node **nodes; /* the group, in graph order */
	int nn;
	Leaf leaf[MAXREG];
	int nl;
} Group;

static int same_dims(const Value *a, const Value *b)
{
	return a->rank == b->rank && !memcmp(a->dims, b->dims, a->rank * sizeof *a->dims);
}

/* a value the graph's interface or the caches need: kept whole */
int is_protected(Graph *g, Value *v)
{
	if (v->output_index >= 0 || v->input_index >= 0 || v->is_const)
		return 1;
	for (int i = 0; g->has_step && i < g->noutputs; i++)
		if (g->step_out[i] == v)
			return 1;
	for (int i = 0; i < g->nstate; i++)
		if (g->statesrc[i] == v || g->statevals[i] == v)
			return 1;
	return 0;
}

/* u read at the output's (r, j) as a leaf, through a view when its
 * producer is one; 0 if the strides cannot say it */
static int leaf_of(Group *b, Value *u, Leaf *lf)
{
	const Value *o = b->out;
	int k = o->rank;
	Node *p = u->producer;
	memset(lf, 0, sizeof *lf);
	lf->v = u, lf->div = 1, lf->mod = b->R;
	if (k >= 1 && p && !p->dead && same_dims(u, o) && !is_protected(b->g, u) && p->in[0] &&
	    p->in[0]->rank == k && !memcmp(p->in[0]->dims, o->dims, (k - 1) * sizeof *o->dims) &&
	    p->in[0]->dtype == RT_F32 && !*p->domain) {
		Value *src = p->in[0];
		int64_t M = src->dims[k - 1];
		if (!strcmp(p->op, "Gather") && norm_axis(p, attr_i(p, "axis", 0), k) == k - 1 && p->in[1]->is_const &&
		    p->in[1]->rank == 1 && p->in[1]->dims[0] == b->L) {
			int64_t first = const_int(b->g, p->in[1], 0), step = 0, ok = 1;
			first += first < 0 ? M : 0;
			if (b->L > 1) {
				int64_t second = const_int(b->g, p->in[1], 1);
				step = (second < 0 ? second + M : second) - first;
			}
			for (int64_t j = 0; j < b->L && ok; j++) {
				int64_t ix = const_int(b->g, p->in[1], j);
				ix += ix < 0 ? M : 0;
				ok = ix == first + j * step && ix >= 0 && ix < M;
			}
			if (ok && step >= 0) {
				lf->v = src, lf->off = first, lf->is = step, lf->os = M, lf->view = p;
				return 1;
			}
		}
		if (!strcmp(p->op, "Split") && norm_axis(p, attr_i(p, "axis", 0), k) == k - 1) {
			int64_t off = 0;
			for (int i = 0; i < p->nout && p->out[i] != u; i++)
				off += p->out[i]->dims[k - 1];
			lf->v = src, lf->off = off, lf->is = 1, lf->os = M, lf->view = p;
			return 1;
		}
	}
	/* a stored value, broadcast against the output (dims aligned right) */
	int ru = u->rank;
	if (ru > k)
		return 0;
	int64_t ud[RT_MAXDIM];
	for (int d = 0; d < k; d++)
		ud[d] = d < k - ru ? 1 : u->dims[d - (k - ru)];
	if (k == 0)
		return lf->is = 0, lf->os = 0, 1;
	if (ud[k - 1] == b->L)
		lf->is = 1;
	else if (ud[k - 1] == 1)
		lf->is = 0;
	else
		return 0;
	/* the outer axes u keeps (ud[d] == dims[d] > 1) must be one run [a, e),
	 * axes of length 1 aside */
	int a = -1, e = -1, gap = 0;
	for (int d = 0; d < k - 1; d++) {
		if (ud[d] != o->dims[d] && ud[d] != 1)
			return 0;
		if (o->dims[d] == 1)
			continue;
		if (ud[d] == o->dims[d]) {
			if (gap)
				return 0;
			if (a < 0)
				a = d;
			e = d + 1;
		} else if (a >= 0) {
			gap = 1;
		}
	}
	if (a < 0) {
		lf->os = 0;
		return 1;
	}
	lf->div = 1, lf->mod = 1;
	for (int d = e; d < k - 1; d++)
		lf->div *= o->dims[d];
	for (int d = a; d < e; d++)
		lf->mod *= o->dims[d];
	lf->os = ud[k - 1];
	return 1;
}

/* u read at out's (r, j) as a leaf q = {off, is, os, div, mod} of
 * rt_ew_chain, in place (no view), for attn.c; 0 if the strides cannot
 * say it */
int chain_leaf(Graph *g, Value *out, Value *u, int64_t *q)
{
	int64_t L = out->rank ? out->dims[out->rank - 1] : 1;
	Group b = { g, out, L ? numel(out) / L : 0, L, NULL, 0, { { 0 } }, 0 };
	Leaf lf;
	if (!L || !leaf_of(&b, u, &lf) || lf.view)
		return 0;
	q[0] = lf.off, q[1] = lf.is, q[2] = lf.os, q[3] = lf.div, q[4] = lf.mod;
	return 1;
}

static int in_group(Group *b, Node *n)
{
	for (int i = 0; i < b->nn; i++)
		if (b->nodes[i] == n)
			return 1;
	return 0;
}

/* readers of v among the group's nodes */
static int group_reads(Group *b, Value *v)
{
	int r = 0;
	for (int i = 0; i < b->nn; i++)
		for (int k = 0; k < b->nodes[i]->nin; k++)
			r += b->nodes[i]->in[k] == v;
	return r;
}

static void drop(Group *b, int i)
{
	memmove(b->nodes + i, b->nodes + i + 1, (b->nn - i - 1) * sizeof *b->nodes);
	b->nn--;
}

/* a leaf index for u (shared when equal), or -1 */
static int add_leaf(Group *b, Value *u)
{
	Leaf lf;
	if (!leaf_of(b, u, &lf))
		return -1;
	for (int i = 0; i < b->nl; i++)
		if (b->leaf[i].v == lf.v && b->leaf[i].off == lf.off && b->leaf[i].is == lf.is &&
		    b->leaf[i].os == lf.os && b->leaf[i].div == lf.div && b->leaf[i].mod == lf.mod)
			return i;
	if (b->nl == MAXREG)
		return -1;
	b->leaf[b->nl] = lf;
	return b->nl++;
}

static void chain_infer(Graph *g, Node *n)
{
	(void)g;
	(void)n; /* the root's output keeps its shape */
}

static void chain_lower(Graph *g, Node *n)
{
	Call *c = call_new(g, n, "rt_ew_chain");
	for (int i = 0; i < n->nin; i++)
		call_in(c, n->in[i]);
	call_out(c, n->out[0]);
	call_pv(c, n->prog, n->nprog);
}

static const OpDef chain_def = { "EwChain", 1, MAXREG, 1, 1, chain_infer, chain_lower };

static int node_index(Graph *g, Node *n)
{
	for (int i = 0; i < g->nnodes; i++)
		if (g->nodes[i] == n)
			return i;
	return -1;
}

/* the group rooted at n, its nodes among g->nodes[lo, hi) */
static void build(Group *b, Node *n, int lo, int hi)
{
	Graph *g = b->g;
	/* every chain node reachable backwards through values of the root's shape */
	b->nodes[b->nn++] = n;
	for (int i = 0; i < b->nn; i++)
		for (int k = 0; k < b->nodes[i]->nin; k++) {
			Value *v = b->nodes[i]->in[k];
			Node *p = v ? v->producer : NULL;
			if (!p || p->dead || in_group(b, p) || chain_code(p) < 0 || !same_dims(v, b->out) ||
			    is_protected(g, v))
				continue;
			int at = node_index(g, p);
			if (at >= lo && at < hi)
				b->nodes[b->nn++] = p;
		}
	/* drop nodes read from outside the group, or with inputs no leaf can
	 * say, until none is left (the root stays) */
	for (int changed = 1; changed;) {
		changed = 0;
		for (int i = 1; i < b->nn; i++) {
			Node *p = b->nodes[i];
			int ok = group_reads(b, p->out[0]) == p->out[0]->nuses;
			for (int k = 0; ok && k < p->nin; k++) {
				Value *v = p->in[k];
				Leaf lf;
				if (v && !(v->producer && in_group(b, v->producer)) && !(k > 0 && !strcmp(p->op, "Clip")))
					ok = leaf_of(b, v, &lf);
			}
			if (!ok) {
				drop(b, i);
				changed = 1;
				break;
			}
		}
		/* nodes no longer feeding the root */
		for (int i = 1; i < b->nn && !changed; i++)
			if (group_reads(b, b->nodes[i]->out[0]) == 0) {
				drop(b, i);
				changed = 1;
			}
	}
}

static Graph *sort_graph; /* for by_index */

static int by_index(const void *a, const void *b)
{
	return node_index(sort_graph, *(Node *const *)a) - node_index(sort_graph, *(Node *const *)b);
}

/* ---- the sink softmax ----
 * Slice(Softmax(Concat(x, z), last axis), first n) with z one column (the
 * attention sinks) becomes SinkSoftmax(x, z): rt_sink_softmax, the same
 * operations, without the [.., n + 1] tensors. */
static void sink_lower(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int64_t cols = x->dims[x->rank - 1];
	Call *c = call_new(g, n, "rt_sink_softmax");
	call_in(c, x);
	call_in(c, n->in[1]);
	call_out(c, n->out[0]);
	call_p(c, numel(x) / cols);
	call_p(c, cols);
}

static const OpDef sink_def = { "SinkSoftmax", 2, 2, 1, 1, chain_infer, sink_lower };

static void fuse_sink_softmax(Graph *g, Node *sl)
{
	if (sl->dead || strcmp(sl->op, "Slice") || *sl->domain || sl->opset < 10 || sl->nin < 3)
		return;
	Value *pv = sl->in[0], *y = sl->out[0];
	Node *sm = pv->producer;
	if (!sm || sm->dead || strcmp(sm->op, "Softmax") || pv->nuses != 1 || is_protected(g, pv))
		return;
	int k = pv->rank;
	if (k < 1 || pv->dtype != RT_F32 || norm_axis(sm, attr_i(sm, "axis", sm->opset >= 13 ? -1 : 1), k) != k - 1)
		return;
	Value *cv = sm->in[0];
	Node *cc = cv->producer;
	if (!cc || cc->dead || strcmp(cc->op, "Concat") || cc->nin != 2 || cv->nuses != 1 || is_protected(g, cv) ||
	    norm_axis(cc, attr_i(cc, "axis", 0), k) != k - 1)
		return;
	Value *x = cc->in[0], *z = cc->in[1];
	if (!x || !z || x->dtype != RT_F32 || z->dtype != RT_F32 || x->rank != k || z->rank != k ||
	    z->dims[k - 1] != 1 || !same_dims(x, y) || memcmp(x->dims, z->dims, (k - 1) * sizeof *x->dims))
		return;
	/* the slice keeps [0, n) of the last axis: starts 0, steps 1 */
	Value *st = sl->in[1], *ax = sl->nin > 3 ? sl->in[3] : NULL, *sp = sl->nin > 4 ? sl->in[4] : NULL;
	if (!st->is_const || numel(st) != 1 || const_int(g, st, 0) != 0)
		return;
	if (ax && (!ax->is_const || numel(ax) != 1 || (const_int(g, ax, 0) != k - 1 && const_int(g, ax, 0) != -1)))
		return;
	if (!ax && k != 1)
		return;
	if (sp && (!sp->is_const || numel(sp) != 1 || const_int(g, sp, 0) != 1))
		return;
	Value **in = xcalloc(2, sizeof(Value *));
	in[0] = x, in[1] = z;
	sl->op = "SinkSoftmax";
	sl->domain = "";
	sl->def = &sink_def;
	sl->in = in;
	sl->nin = 2;
	sl->nattr = 0;
	sm->dead = cc->dead = 1;
	count_uses(g);
}

void fuse_chains(Graph *g)
{
	if (g_no_chains)
		return;
	count_uses(g);
	for (int i = 0; i < g->nnodes; i++)
		fuse_sink_softmax(g, g->nodes[i]);
	sort_graph = g;
	Node **views = xcalloc(g->nnodes + 1, sizeof(Node *));
	int nviews = 0;
	for (int i = g->nnodes - 1; i >= 0; i--) {
		Node *n = g->nodes[i];
		if (chain_code(n) < 0 || n->out[0]->rank < 1 || numel(n->out[0]) < 2)
			continue;
		/* the window's nodes and the step program's are grouped apart */
		int lo = g->has_step && i >= g->step_first_node ? g->step_first_node : 0;
		int hi = g->has_step && i < g->step_first_node ? g->step_first_node : g->nnodes;
		Group b = { g, n->out[0], numel(n->out[0]) / n->out[0]->dims[n->out[0]->rank - 1],
			    n->out[0]->dims[n->out[0]->rank - 1], xcalloc(g->nnodes + 1, sizeof(Node *)), 0, { { 0 } }, 0 };
		build(&b, n, lo, hi);
		qsort(b.nodes, b.nn, sizeof *b.nodes, by_index);
		/* the program: op k writes register nl + k; operands are coded
		 * while leaves are still being numbered, then renumbered */
		int64_t *ops = xcalloc(5 * b.nn + 1, sizeof(int64_t));
		int ok = 1, nview = 0;
		for (int i2 = 0; i2 < b.nn && ok; i2++) {
			Node *p = b.nodes[i2];
			int64_t *o = ops + 5 * i2;
			o[0] = chain_code(p);
			int nops = o[0] == RT_EW_CLIP || o[0] < RT_ADD ? 1 : 2;
			for (int k = 0; k < nops && ok; k++) {
				Value *v = p->in[k];
				int at = -1;
				for (int j = 0; j < i2; j++)
					if (b.nodes[j]->out[0] == v)
						at = j;
				if (at >= 0) {
					o[1 + k] = 1000 + at; /* op result */
				} else {
					int l = add_leaf(&b, v);
					ok = l >= 0;
					o[1 + k] = l;
					nview += ok && b.leaf[l].view;
				}
			}
			if (o[0] == RT_EW_CLIP) {
				Value *lo_v = p->nin > 1 ? p->in[1] : NULL, *hi_v = p->nin > 2 ? p->in[2] : NULL;
				o[3] = rt_f64_bits(lo_v ? (double)(float)const_float(g, lo_v, 0) : -INFINITY);
				o[4] = rt_f64_bits(hi_v ? (double)(float)const_float(g, hi_v, 0) : INFINITY);
			}
		}
		if (!ok || b.nl + b.nn > MAXREG || (b.nn < 2 && !nview)) {
			free(ops);
			free(b.nodes);
			continue;
		}
		for (int i2 = 0; i2 < b.nn; i2++)
			for (int k = 1; k <= 2; k++)
				if (ops[5 * i2 + k] >= 1000)
					ops[5 * i2 + k] = b.nl + ops[5 * i2 + k] - 1000;
		/* the root becomes EwChain(leaves); the rest of the group dies */
		int64_t *prog = xcalloc(4 + 5 * (b.nl + b.nn), sizeof(int64_t));
		prog[0] = b.nl, prog[1] = b.nn, prog[2] = b.R, prog[3] = b.L;
		Value **in = xcalloc(b.nl, sizeof(Value *));
		for (int l = 0; l < b.nl; l++) {
			int64_t *q = prog + 4 + 5 * l;
			q[0] = b.leaf[l].off, q[1] = b.leaf[l].is, q[2] = b.leaf[l].os, q[3] = b.leaf[l].div;
			q[4] = b.leaf[l].mod;
			in[l] = b.leaf[l].v;
			if (b.leaf[l].view)
				views[nviews++] = b.leaf[l].view;
		}
		memcpy(prog + 4 + 5 * b.nl, ops, 5 * b.nn * sizeof(int64_t));
		for (int i2 = 0; i2 < b.nn; i2++)
			if (b.nodes[i2] != n)
				b.nodes[i2]->dead = 1;
		n->op = "EwChain";
		n->domain = "";
		n->def = &chain_def;
		n->in = in;
		n->nin = b.nl;
		n->nattr = 0;
		n->prog = prog;
		n->nprog = 4 + 5 * (b.nl + b.nn);
		free(ops);
		free(b.nodes);
		count_uses(g);
	}
	/* views read through by every reader */
	for (int v = 0; v < nviews; v++) {
		Node *p = views[v];
		int used = 0;
		for (int k = 0; k < p->nout; k++)
			used |= p->out[k]->nuses > 0 || is_protected(g, p->out[k]);
		if (!used && !p->dead) {
			p->dead = 1;
			count_uses(g);
		}
	}
	free(views);
}

/* A chain program (nl = prog[0] leaves, ni = prog[1] ops, the ops after
 * the leaves' 5 words each) as one expression, given its leaves' names
 * (leaf[0..nl), taken over and freed): for --dump, of an EwChain here and
 * of an AttnChain's scale and mask in attn.c */
char *chain_prog_expr(const int64_t *prog, char **leaf)
{
	const int64_t *ops = prog + 4 + 5 * prog[0];
	int nl = (int)prog[0], ni = (int)prog[1];
	char **e = xcalloc(nl + ni, sizeof(char *));
	memcpy(e, leaf, nl * sizeof(char *));
	for (int k = 0; k < ni; k++) {
		const int64_t *o = ops + 5 * k;
		const char *a = e[o[1]], *b = e[o[2]], *name = NULL;
		static const char sym[] = "+-*/";
		if (o[0] >= RT_ADD && o[0] <= RT_DIV)
			e[nl + k] = fmt("(%s %c %s)", a, sym[o[0] - RT_ADD], b);
		else if (o[0] == RT_EW_CLIP)
			e[nl + k] = fmt("clip(%s, %g, %g)", a, rt_bits_f64(o[3]), rt_bits_f64(o[4]));
		else {
			for (int i = 0; unary[i].name; i++)
				if (unary[i].code == o[0])
					name = unary[i].name;
			e[nl + k] = fmt("%s(%s)", name ? name : "?", a);
		}
	}
	char *r = e[nl + ni - 1];
	for (int i = 0; i < nl + ni - 1; i++)
		free(e[i]);
	free(e);
	return r;
}

/* an EwChain's program as an expression of its leaves l0, l1, ... (for
 * --dump): leaf l reads element off + ((r / div) % mod) * os + j * is */
char *chain_expr(const Node *n)
{
	const int64_t *p = n->prog, *lf = p + 4;
	int nl = (int)p[0];
	char **leaf = xcalloc(nl + 1, sizeof(char *));
	for (int l = 0; l < nl; l++) {
		const int64_t *q = lf + 5 * l;
		leaf[l] = q[0] || q[1] > 1 ? fmt("l%d[%lld::%lld]", l, (long long)q[0], (long long)q[1]) : fmt("l%d", l);
	}
	char *r = chain_prog_expr(p, leaf);
	free(leaf);
	return r;
}
