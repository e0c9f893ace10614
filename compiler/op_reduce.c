/* op_reduce.c: reductions, ArgMax/ArgMin, Softmax/LogSoftmax/Hardmax, TopK,
 * CumSum and the normalisations.
 *
 * Reductions are lowered to one rt_reduce call over two strided index
 * spaces: the kept dims (which give the output's layout) and the reduced
 * dims, adjacent dims merged where the strides allow.  Normalisations use
 * the same split (rt_norm): each kept position is one row normalised over
 * the reduced dims, with the scale and bias read through broadcast strides.
 * The axis ops (Softmax, ArgMax, TopK, CumSum) see the input as
 * [outer, n, inner].
 */
#include "gptossc.h"
#include "../runtime/reduce.h"

static void no_strings(Node *n, Value *v)
{
	if (v->dtype == RT_STR)
		node_fatal(n, "string tensors are not supported");
	if (!rt_dtype_size(v->dtype))
		node_fatal(n, "input '%s' has unsupported type %s", v->name, dtype_name(v->dtype));
}

/* Dims of `rank` whose mask equals `want`, size-1 dims dropped, adjacent
 * dims merged when every operand's strides allow it.  Returns the count. */
static int group_dims(int rank, const int64_t *dims, int nops, int64_t (*st)[RT_MAXDIM], const int *mask,
		      int want, int64_t *od, int64_t (*ost)[RT_MAXDIM])
{
	int nd = 0;
	for (int i = 0; i < rank; i++) {
		if (mask[i] != want || dims[i] == 1)
			continue;
		int merge = nd > 0 && dims[i] != 0 && od[nd - 1] != 0;
		for (int k = 0; merge && k < nops; k++)
			merge = ost[k][nd - 1] == st[k][i] * dims[i];
		if (merge) {
			od[nd - 1] *= dims[i];
			for (int k = 0; k < nops; k++)
				ost[k][nd - 1] = st[k][i];
			continue;
		}
		od[nd] = dims[i];
		for (int k = 0; k < nops; k++)
			ost[k][nd] = st[k][i];
		nd++;
	}
	return nd;
}

/* ---- Reduce* ---- */

static const struct {
	const char *name;
	int code;
	int axes_input_opset; /* axes moved from attribute to input */
} reduce_ops[] = {
	{ "ReduceSum", RT_RSUM, 13 }, { "ReduceMean", RT_RMEAN, 18 }, { "ReduceMax", RT_RMAX, 18 },
	{ "ReduceMin", RT_RMIN, 18 }, { "ReduceProd", RT_RPROD, 18 }, { "ReduceL1", RT_RL1, 18 },
	{ "ReduceL2", RT_RL2, 18 }, { "ReduceLogSum", RT_RLOGSUM, 18 },
	{ "ReduceLogSumExp", RT_RLSE, 18 }, { "ReduceSumSquare", RT_RSUMSQ, 18 },
	{ NULL, 0, 0 },
};

static int reduce_index(const char *op)
{
	for (int i = 0; reduce_ops[i].name; i++)
		if (!strcmp(reduce_ops[i].name, op))
			return i;
	return -1;
}

/* Reduced-axis mask of a Reduce* node; returns 0 when it is a no-op
 * (empty axes with noop_with_empty_axes). */
int reduce_mask(Graph *g, Node *n, int *mask)
{
	Value *x = n->in[0];
	int64_t axes[RT_MAXDIM * 2];
	int na = -1;
	Value *a = node_in(n, 1);
	if (a) {
		if (!value_is_const(a))
			node_fatal(n, "input 1 'axes' ('%s') must be constant after folding", a->name);
		if (a->dtype != RT_I64 && a->dtype != RT_I32)
			node_fatal(n, "input 1 'axes' ('%s') must be int64", a->name);
		if (numel(a) > RT_MAXDIM * 2)
			node_fatal(n, "input 1 'axes' has too many values");
		na = (int)numel(a);
		for (int i = 0; i < na; i++)
			axes[i] = const_int(g, a, i);
	} else {
		na = attr_ints(n, "axes", axes, RT_MAXDIM * 2);
	}
	for (int i = 0; i < x->rank; i++)
		mask[i] = 0;
	if (na <= 0) {
		if (na == 0 && attr_i(n, "noop_with_empty_axes", 0))
			return 0;
		for (int i = 0; i < x->rank; i++)
			mask[i] = 1;
		return 1;
	}
	for (int i = 0; i < na; i++)
		mask[norm_axis(n, axes[i], x->rank)] = 1;
	return 1;
}

static void infer_reduce(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int mask[RT_MAXDIM];
	no_strings(n, x);
	if (!reduce_mask(g, n, mask)) {
		set_shape(n->out[0], x->dtype, x->rank, x->dims);
		n->alias = 1;
		return;
	}
	int keep = (int)attr_i(n, "keepdims", 1), r = 0;
	int64_t dims[RT_MAXDIM];
	for (int i = 0; i < x->rank; i++) {
		if (!mask[i])
			dims[r++] = x->dims[i];
		else if (keep)
			dims[r++] = 1;
	}
	set_shape(n->out[0], x->dtype, r, dims);
}

static void reduce_call(Graph *g, Node *n, int code, Value *x, Value *y, const int *mask)
{
	int64_t st[1][RT_MAXDIM], od[RT_MAXDIM], os[1][RT_MAXDIM], rd[RT_MAXDIM], rs[1][RT_MAXDIM];
	contig_strides(x->rank, x->dims, st[0]);
	int no = group_dims(x->rank, x->dims, 1, st, mask, 0, od, os);
	int nr = group_dims(x->rank, x->dims, 1, st, mask, 1, rd, rs);
	Call *c = call_new(g, n, "rt_reduce");
	call_in(c, x);
	call_out(c, y);
	call_p(c, code);
	call_p(c, x->dtype);
	call_p(c, no);
	call_p(c, nr);
	call_pv(c, od, no);
	call_pv(c, os[0], no);
	call_pv(c, rd, nr);
	call_pv(c, rs[0], nr);
}

static void lower_reduce(Graph *g, Node *n)
{
	int mask[RT_MAXDIM];
	reduce_mask(g, n, mask);
	reduce_call(g, n, reduce_ops[reduce_index(n->op)].code, n->in[0], n->out[0], mask);
}

/* ---- ArgMax, ArgMin ---- */

static void axis_split(const Value *x, int axis, int64_t *outer, int64_t *len, int64_t *inner)
{
	*outer = 1;
	*inner = 1;
	for (int i = 0; i < axis; i++)
		*outer *= x->dims[i];
	for (int i = axis + 1; i < x->rank; i++)
		*inner *= x->dims[i];
	*len = x->rank ? x->dims[axis] : 1;
}

static void infer_arg(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0];
	no_strings(n, x);
	if (x->rank < 1)
		node_fatal(n, "input 0 '%s' must have rank >= 1", x->name);
	int axis = (int)norm_axis(n, attr_i(n, "axis", 0), x->rank);
	if (x->dims[axis] == 0)
		node_fatal(n, "input 0 '%s' is empty along axis %d", x->name, axis);
	int keep = (int)attr_i(n, "keepdims", 1), r = 0;
	int64_t dims[RT_MAXDIM];
	for (int i = 0; i < x->rank; i++) {
		if (i != axis)
			dims[r++] = x->dims[i];
		else if (keep)
			dims[r++] = 1;
	}
	set_shape(n->out[0], RT_I64, r, dims);
}

static void lower_arg(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int axis = (int)norm_axis(n, attr_i(n, "axis", 0), x->rank);
	int64_t outer, len, inner;
	axis_split(x, axis, &outer, &len, &inner);
	Call *c = call_new(g, n, "rt_argreduce");
	call_in(c, x);
	call_out(c, n->out[0]);
	call_p(c, !strcmp(n->op, "ArgMax") ? RT_RARGMAX : RT_RARGMIN);
	call_p(c, x->dtype);
	call_p(c, outer);
	call_p(c, len);
	call_p(c, inner);
	call_p(c, attr_i(n, "select_last_index", 0));
}

/* ---- Softmax, LogSoftmax, Hardmax ---- */

static void infer_softmax(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0];
	no_strings(n, x);
	if (!rt_is_float(x->dtype))
		node_fatal(n, "input 0 '%s' must be a float tensor, not %s", x->name, dtype_name(x->dtype));
	if (x->rank > 0)
		norm_axis(n, attr_i(n, "axis", n->opset >= 13 ? -1 : 1), x->rank);
	set_shape(n->out[0], x->dtype, x->rank, x->dims);
}

static void lower_softmax(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int64_t outer = 1, len = 1, inner = 1;
	if (x->rank > 0) {
		int axis = (int)norm_axis(n, attr_i(n, "axis", n->opset >= 13 ? -1 : 1), x->rank);
		axis_split(x, axis, &outer, &len, &inner);
		if (n->opset < 13) { /* coerced to 2-D [outer, rest] */
			len *= inner;
			inner = 1;
		}
	}
	int mode = !strcmp(n->op, "Softmax") ? RT_SM_SOFT : !strcmp(n->op, "LogSoftmax") ? RT_SM_LOG : RT_SM_HARD;
	Call *c = call_new(g, n, "rt_softmax");
	call_in(c, x);
	call_out(c, n->out[0]);
	call_p(c, mode);
	call_p(c, x->dtype);
	call_p(c, outer);
	call_p(c, len);
	call_p(c, inner);
}

/* ---- TopK ---- */

static int64_t topk_k(Graph *g, Node *n)
{
	if (n->opset < 10)
		return attr_i(n, "k", -1);
	Value *k = node_in(n, 1);
	if (!k)
		node_fatal(n, "input 1 'K' is required");
	if (!value_is_const(k))
		node_fatal(n, "input 1 'K' ('%s') must be constant after folding", k->name);
	if (numel(k) != 1 || (k->dtype != RT_I64 && k->dtype != RT_I32))
		node_fatal(n, "input 1 'K' ('%s') must be an int64 tensor of one value", k->name);
	return const_int(g, k, 0);
}

static void infer_topk(Graph *g, Node *n)
{
	Value *x = n->in[0];
	no_strings(n, x);
	if (x->rank < 1)
		node_fatal(n, "input 0 '%s' must have rank >= 1", x->name);
	int axis = (int)norm_axis(n, attr_i(n, "axis", -1), x->rank);
	int64_t k = topk_k(g, n);
	if (k < 0 || k > x->dims[axis])
		node_fatal(n, "K = %lld is out of range for axis %d of size %lld", (long long)k, axis,
			   (long long)x->dims[axis]);
	int64_t dims[RT_MAXDIM];
	memcpy(dims, x->dims, sizeof dims);
	dims[axis] = k;
	set_shape(n->out[0], x->dtype, x->rank, dims);
	set_shape(n->out[1], RT_I64, x->rank, dims);
}

static void lower_topk(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int axis = (int)norm_axis(n, attr_i(n, "axis", -1), x->rank);
	int64_t outer, len, inner, k = topk_k(g, n);
	axis_split(x, axis, &outer, &len, &inner);
	int64_t sd = len > 0 ? len : 1;
	Value *scratch = temp_value(g, RT_I64, 1, &sd);
	Call *c = call_new(g, n, "rt_topk");
	call_in(c, x);
	call_out(c, n->out[0]);
	call_out(c, n->out[1]);
	call_out(c, scratch);
	call_p(c, x->dtype);
	call_p(c, outer);
	call_p(c, len);
	call_p(c, inner);
	call_p(c, k);
	call_p(c, attr_i(n, "largest", 1));
}

/* ---- CumSum ---- */

static int cumsum_axis(Graph *g, Node *n)
{
	Value *a = n->in[1], *x = n->in[0];
	if (!value_is_const(a))
		node_fatal(n, "input 1 'axis' ('%s') must be constant after folding", a->name);
	if (numel(a) != 1 || (a->dtype != RT_I64 && a->dtype != RT_I32))
		node_fatal(n, "input 1 'axis' ('%s') must be an int32/int64 scalar", a->name);
	return (int)norm_axis(n, const_int(g, a, 0), x->rank);
}

static void infer_cumsum(Graph *g, Node *n)
{
	Value *x = n->in[0];
	no_strings(n, x);
	if (x->rank < 1)
		node_fatal(n, "input 0 '%s' must have rank >= 1", x->name);
	cumsum_axis(g, n);
	set_shape(n->out[0], x->dtype, x->rank, x->dims);
}

static void lower_cumsum(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int64_t outer, len, inner;
	axis_split(x, cumsum_axis(g, n), &outer, &len, &inner);
	Call *c = call_new(g, n, "rt_cumsum");
	call_in(c, x);
	call_out(c, n->out[0]);
	call_p(c, x->dtype);
	call_p(c, outer);
	call_p(c, len);
	call_p(c, inner);
	call_p(c, attr_i(n, "exclusive", 0));
	call_p(c, attr_i(n, "reverse", 0));
}

/* ---- normalisations ---- */

/* One rt_norm call over a view of x (rank, dims; contiguous) with scale
 * and bias read through the strides sst/bst (over the same view). */
static void norm_call(Graph *g, Node *n, int mode, double eps, int rank, const int64_t *dims,
		      const int *mask, Value *x, Value *scale, const int64_t *sst, Value *bias,
		      const int64_t *bst, Value *y, Value *mean, Value *inv, int stat_dtype)
{
	int64_t st[3][RT_MAXDIM], od[RT_MAXDIM], os[3][RT_MAXDIM], rd[RT_MAXDIM], rs[3][RT_MAXDIM];
	contig_strides(rank, dims, st[0]);
	for (int i = 0; i < rank; i++) {
		st[1][i] = scale ? sst[i] : 0;
		st[2][i] = bias ? bst[i] : 0;
	}
	int no = group_dims(rank, dims, 3, st, mask, 0, od, os);
	int nr = group_dims(rank, dims, 3, st, mask, 1, rd, rs);
	Call *c = call_new(g, n, "rt_norm");
	call_in(c, x);
	call_in(c, scale);
	call_in(c, bias);
	call_out(c, y);
	call_out(c, mean);
	call_out(c, inv);
	call_p(c, mode);
	call_p(c, x->dtype);
	call_p(c, stat_dtype);
	call_p(c, no);
	call_p(c, nr);
	call_pf(c, eps);
	call_pv(c, od, no);
	for (int k = 0; k < 3; k++)
		call_pv(c, os[k], no);
	call_pv(c, rd, nr);
	for (int k = 0; k < 3; k++)
		call_pv(c, rs[k], nr);
}

static void check_param(Node *n, int i, Value *x)
{
	Value *v = node_in(n, i);
	if (v && v->dtype != x->dtype)
		node_fatal(n, "input %d '%s' is %s, input 0 is %s", i, v->name, dtype_name(v->dtype),
			   dtype_name(x->dtype));
}

static int is_rms(Node *n)
{
	return !strcmp(n->op, "RMSNormalization");
}

/* LayerNormalization and RMSNormalization */
static void infer_layernorm(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0];
	no_strings(n, x);
	if (!rt_is_float(x->dtype))
		node_fatal(n, "input 0 '%s' must be a float tensor", x->name);
	if (x->rank < 1)
		node_fatal(n, "input 0 '%s' must have rank >= 1", x->name);
	int axis = (int)norm_axis(n, attr_i(n, "axis", -1), x->rank);
	int64_t tmp[RT_MAXDIM];
	for (int i = 1; i < n->nin; i++) {
		Value *v = node_in(n, i);
		if (!v)
			continue;
		check_param(n, i, x);
		if (broadcast_shapes(x->rank, x->dims, v->rank, v->dims, tmp) != x->rank ||
		    memcmp(tmp, x->dims, x->rank * sizeof *tmp))
			node_fatal(n, "input %d '%s' %s does not broadcast to the input's shape %s", i, v->name,
				   shape_str(v), shape_str(x));
	}
	set_shape(n->out[0], x->dtype, x->rank, x->dims);
	int64_t sd[RT_MAXDIM];
	for (int i = 0; i < x->rank; i++)
		sd[i] = i < axis ? x->dims[i] : 1;
	int sdt = attr_i(n, "stash_type", 1) == 1 ? RT_F32 : x->dtype;
	for (int i = 1; i < n->nout; i++)
		set_shape(n->out[i], sdt, x->rank, sd);
}

static void lower_layernorm(Graph *g, Node *n)
{
	Value *x = n->in[0], *s = node_in(n, 1), *b = is_rms(n) ? NULL : node_in(n, 2);
	int axis = (int)norm_axis(n, attr_i(n, "axis", -1), x->rank);
	int mask[RT_MAXDIM];
	int64_t sst[RT_MAXDIM] = { 0 }, bst[RT_MAXDIM] = { 0 };
	for (int i = 0; i < x->rank; i++)
		mask[i] = i >= axis;
	if (s)
		bcast_strides(s, x->rank, x->dims, sst);
	if (b)
		bcast_strides(b, x->rank, x->dims, bst);
	int sdt = attr_i(n, "stash_type", 1) == 1 ? RT_F32 : x->dtype;
	norm_call(g, n, is_rms(n) ? RT_NM_RMS : RT_NM_LAYER, attr_f(n, "epsilon", 1e-5), x->rank, x->dims, mask,
		  x, s, sst, b, bst, n->out[0], n->nout > 1 ? n->out[1] : NULL, n->nout > 2 ? n->out[2] : NULL, sdt);
}

/* InstanceNormalization and GroupNormalization: x viewed as
 * [N, G, C/G, spatial] (G = C for InstanceNormalization). */
static int64_t spatial(const Value *x)
{
	int64_t s = 1;
	for (int i = 2; i < x->rank; i++)
		s *= x->dims[i];
	return s;
}

static int64_t groups(Node *n)
{
	if (!strcmp(n->op, "InstanceNormalization"))
		return n->in[0]->dims[1];
	return attr_i(n, "num_groups", 0);
}

static void infer_groupnorm(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0];
	no_strings(n, x);
	if (!rt_is_float(x->dtype))
		node_fatal(n, "input 0 '%s' must be a float tensor", x->name);
	need_rank(n, 0, 2, RT_MAXDIM);
	int64_t c = x->dims[1], G = groups(n);
	if (G <= 0 || c % G)
		node_fatal(n, "num_groups %lld does not divide the %lld channels", (long long)G, (long long)c);
	int64_t want = !strcmp(n->op, "GroupNormalization") && n->opset < 21 ? G : c;
	for (int i = 1; i < 3; i++) {
		check_param(n, i, x);
		if (numel(n->in[i]) != want)
			node_fatal(n, "input %d '%s' %s must have %lld values", i, n->in[i]->name,
				   shape_str(n->in[i]), (long long)want);
	}
	set_shape(n->out[0], x->dtype, x->rank, x->dims);
}

static void lower_groupnorm(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int64_t c = x->dims[1], G = groups(n);
	int64_t dims[4] = { x->dims[0], G, c / G, spatial(x) };
	int mask[4] = { 0, 0, 1, 1 };
	int64_t st[4] = { 0, c / G, 1, 0 };
	if (!strcmp(n->op, "GroupNormalization") && n->opset < 21)
		st[1] = 1, st[2] = 0; /* one scale per group */
	norm_call(g, n, RT_NM_LAYER, attr_f(n, "epsilon", 1e-5), 4, dims, mask, x, n->in[1], st, n->in[2], st,
		  n->out[0], NULL, NULL, RT_F32);
}

static void infer_same(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0];
	no_strings(n, x);
	if (!rt_is_float(x->dtype))
		node_fatal(n, "input 0 '%s' must be a float tensor", x->name);
	set_shape(n->out[0], x->dtype, x->rank, x->dims);
}

static void lower_lpnorm(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int mask[RT_MAXDIM] = { 0 };
	int64_t pnorm = attr_i(n, "p", 2);
	if (pnorm != 1 && pnorm != 2)
		node_fatal(n, "p = %lld is not supported (1 or 2)", (long long)pnorm);
	if (x->rank > 0)
		mask[norm_axis(n, attr_i(n, "axis", -1), x->rank)] = 1;
	norm_call(g, n, pnorm == 1 ? RT_NM_LP1 : RT_NM_LP2, 0, x->rank, x->dims, mask, x, NULL, NULL, NULL,
		  NULL, n->out[0], NULL, NULL, RT_F32);
}

static void lower_mvn(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int mask[RT_MAXDIM] = { 0 };
	int64_t axes[RT_MAXDIM * 2] = { 0, 2, 3 };
	int na = attr_ints(n, "axes", axes, RT_MAXDIM * 2);
	if (na < 0)
		na = 3;
	for (int i = 0; i < na; i++)
		mask[norm_axis(n, axes[i], x->rank)] = 1;
	norm_call(g, n, RT_NM_MVN, 1e-9, x->rank, x->dims, mask, x, NULL, NULL, NULL, NULL, n->out[0], NULL,
		  NULL, RT_F32);
}

static void infer_batchnorm(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0];
	no_strings(n, x);
	if (!rt_is_float(x->dtype))
		node_fatal(n, "input 0 '%s' must be a float tensor", x->name);
	need_rank(n, 0, 2, RT_MAXDIM);
	int train = n->opset >= 14 && attr_i(n, "training_mode", 0);
	if (n->nout > 1 && (n->opset < 14 || !train))
		node_fatal(n, "only inference (one output) or training_mode=1 (three outputs) is supported");
	for (int i = 1; i < 5; i++) {
		check_param(n, i, x);
		if (numel(n->in[i]) != x->dims[1])
			node_fatal(n, "input %d '%s' %s must have %lld values (the channels)", i, n->in[i]->name,
				   shape_str(n->in[i]), (long long)x->dims[1]);
	}
	set_shape(n->out[0], x->dtype, x->rank, x->dims);
	for (int i = 1; i < n->nout; i++)
		set_shape(n->out[i], x->dtype, 1, &x->dims[1]);
}

static void lower_batchnorm(Graph *g, Node *n)
{
	Value *x = n->in[0];
	Call *c = call_new(g, n, "rt_batchnorm");
	for (int i = 0; i < 5; i++)
		call_in(c, n->in[i]);
	call_out(c, n->out[0]);
	call_out(c, n->nout > 1 ? n->out[1] : NULL);
	call_out(c, n->nout > 2 ? n->out[2] : NULL);
	call_p(c, x->dtype);
	call_p(c, x->dims[0]);
	call_p(c, x->dims[1]);
	call_p(c, spatial(x));
	call_pf(c, attr_f(n, "epsilon", 1e-5));
	call_p(c, n->opset >= 14 && attr_i(n, "training_mode", 0));
	call_pf(c, attr_f(n, "momentum", 0.9));
}

#define REDUCE(name) { name, 1, 2, 1, 1, infer_reduce, lower_reduce }

const OpDef ops_reduce[] = {
	REDUCE("ReduceSum"), REDUCE("ReduceMean"), REDUCE("ReduceMax"), REDUCE("ReduceMin"),
	REDUCE("ReduceProd"), REDUCE("ReduceL1"), REDUCE("ReduceL2"), REDUCE("ReduceLogSum"),
	REDUCE("ReduceLogSumExp"), REDUCE("ReduceSumSquare"),
	{ "ArgMax", 1, 1, 1, 1, infer_arg, lower_arg },
	{ "ArgMin", 1, 1, 1, 1, infer_arg, lower_arg },
	{ "Softmax", 1, 1, 1, 1, infer_softmax, lower_softmax },
	{ "LogSoftmax", 1, 1, 1, 1, infer_softmax, lower_softmax },
	{ "Hardmax", 1, 1, 1, 1, infer_softmax, lower_softmax },
	{ "TopK", 1, 2, 2, 2, infer_topk, lower_topk },
	{ "CumSum", 2, 2, 1, 1, infer_cumsum, lower_cumsum },
	{ "LayerNormalization", 2, 3, 1, 3, infer_layernorm, lower_layernorm },
	{ "RMSNormalization", 2, 2, 1, 1, infer_layernorm, lower_layernorm },
	{ "InstanceNormalization", 3, 3, 1, 1, infer_groupnorm, lower_groupnorm },
	{ "GroupNormalization", 3, 3, 1, 1, infer_groupnorm, lower_groupnorm },
	{ "LpNormalization", 1, 1, 1, 1, infer_same, lower_lpnorm },
	{ "MeanVarianceNormalization", 1, 1, 1, 1, infer_same, lower_mvn },
	{ "BatchNormalization", 5, 5, 1, 3, infer_batchnorm, lower_batchnorm },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};
