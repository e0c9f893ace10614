/* op_shape.c: ops that create or move data without arithmetic: Constant,
 * Shape and Size (constants at once), Reshape, Flatten, Squeeze and
 * Unsqueeze (views), Transpose, Concat, Split, Slice, Gather and Scatter
 * kin, Expand, Tile, ConstantOfShape, Range, EyeLike, OneHot, Trilu, Pad,
 * DepthToSpace/SpaceToDepth, ReverseSequence.
 *
 * Transpose, Slice, Expand, Tile and DepthToSpace lower to one strided copy
 * (rt_transpose) with dims merged; when that copy is the identity on the
 * bytes the node becomes a view instead (n->alias).
 */
#include "gptossc.h"
#include "../runtime/shape.h"

/* Constant: the output is constant data now; the node is done. */
static void infer_constant(Graph *g, Node *n)
{
	Value *v = n->out[0];
	if (n->nattr != 1)
		node_fatal(n, "needs exactly one value attribute, has %d", n->nattr);
	Onnx__AttributeProto *a = n->attr[0];
	const char *an = a->name;
	if (!strcmp(an, "value")) {
		if (!a->t)
			node_fatal(n, "attribute 'value' must be a tensor");
		tensor_proto_to_value(g, v, a->t, fmt("node '%s' (Constant)", n->name));
	} else if (!strcmp(an, "value_float") || !strcmp(an, "value_int")) {
		int isf = an[6] == 'f';
		int64_t one = 1;
		(void)one;
		set_shape(v, isf ? RT_F32 : RT_I64, 0, NULL);
		v->data = xcalloc(8, 1);
		if (isf)
			*(float *)v->data = a->f;
		else
			*(int64_t *)v->data = a->i;
	} else if (!strcmp(an, "value_floats") || !strcmp(an, "value_ints")) {
		int isf = an[6] == 'f';
		int64_t cnt = isf ? (int64_t)a->n_floats : (int64_t)a->n_ints;
		set_shape(v, isf ? RT_F32 : RT_I64, 1, &cnt);
		v->data = xcalloc(cnt + 1, 8);
		if (isf)
			memcpy(v->data, a->floats, cnt * 4);
		else
			memcpy(v->data, a->ints, cnt * 8);
	} else {
		node_fatal(n, "attribute '%s' is not supported", an);
	}
	v->is_const = 1;
	v->folded = 1;
	n->dead = 1;
}

static void lower_none(Graph *g, Node *n)
{
	(void)g;
	node_fatal(n, "internal error: nothing to lower");
}

/* Reshape: shape input, 0 copies the input dim (unless allowzero), -1 infers. */
static void infer_reshape(Graph *g, Node *n)
{
	Value *x = n->in[0], *s = n->in[1];
	if (!s->is_const)
		node_fatal(n, "input 1 '%s' (the shape) must be constant after folding", s->name);
	int64_t r = numel(s), dims[RT_MAXDIM], known = 1, neg = -1;
	if (s->rank != 1 || r > RT_MAXDIM)
		node_fatal(n, "input 1 '%s' must be a 1-D shape of at most %d dims", s->name, RT_MAXDIM);
	int allowzero = (int)attr_i(n, "allowzero", 0);
	for (int i = 0; i < r; i++) {
		dims[i] = const_int(g, s, i);
		if (dims[i] == 0 && !allowzero) {
			if (i >= x->rank)
				node_fatal(n, "shape dim %d is 0 but the input has rank %d", i, x->rank);
			dims[i] = x->dims[i];
		}
		if (dims[i] == -1) {
			if (neg >= 0)
				node_fatal(n, "more than one -1 in the shape");
			neg = i;
			continue;
		}
		if (dims[i] < 0)
			node_fatal(n, "invalid shape dim %lld", (long long)dims[i]);
		known *= dims[i];
	}
	if (neg >= 0) {
		if (!known || numel(x) % known)
			node_fatal(n, "cannot reshape %s to the given shape", shape_str(x));
		dims[neg] = numel(x) / known;
		known *= dims[neg];
	}
	if (known != numel(x))
		node_fatal(n, "cannot reshape %s (%lld elements) to %lld elements", shape_str(x),
			   (long long)numel(x), (long long)known);
	set_shape(n->out[0], x->dtype, (int)r, dims);
	n->alias = 1;
}

static void infer_shape(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0], *v = n->out[0];
	int64_t r = x->rank;
	int64_t start = attr_i(n, "start", 0), end = attr_i(n, "end", r);
	if (start < 0)
		start += r;
	if (end < 0)
		end += r;
	start = start < 0 ? 0 : start > r ? r : start;
	end = end < 0 ? 0 : end > r ? r : end;
	int64_t len = end > start ? end - start : 0;
	set_shape(v, RT_I64, 1, &len);
	v->data = xcalloc(len + 1, 8);
	for (int64_t i = 0; i < len; i++)
		((int64_t *)v->data)[i] = x->dims[start + i];
	v->is_const = 1;
	v->folded = 1;
	n->dead = 1;
}

/* ---- helpers ---------------------------------------------------------- */

static int esize(Node *n, const Value *v)
{
	int s = rt_dtype_size(v->dtype);
	if (!s)
		node_fatal(n, "'%s': %s tensors are not supported", v->name, dtype_name(v->dtype));
	return s;
}

/* A constant 1-D (or scalar) integer input; -1 when omitted. */
static int const_ints_in(Graph *g, Node *n, int i, int64_t *out, int max, const char *what)
{
	Value *v = node_in(n, i);
	if (!v)
		return -1;
	if (!v->is_const)
		node_fatal(n, "input %d '%s' (%s) must be constant after folding", i, v->name, what);
	if (v->rank > 1)
		node_fatal(n, "input %d '%s' (%s) must be 1-D, is %s", i, v->name, what, shape_str(v));
	if (rt_is_float(v->dtype) || v->dtype == RT_BOOL)
		node_fatal(n, "input %d '%s' (%s) must be integers, is %s", i, v->name, what,
			   dtype_name(v->dtype));
	int64_t cnt = numel(v);
	if (cnt > max)
		node_fatal(n, "input %d '%s' (%s) has %lld values, at most %d supported", i, v->name, what,
			   (long long)cnt, max);
	for (int64_t k = 0; k < cnt; k++)
		out[k] = const_int(g, v, k);
	return (int)cnt;
}

static int64_t prod(const int64_t *d, int lo, int hi)
{
	int64_t p = 1;
	for (int i = lo; i < hi; i++)
		p *= d[i];
	return p;
}

static void check_index_type(Node *n, int i)
{
	Value *v = n->in[i];
	if (v->dtype != RT_I32 && v->dtype != RT_I64)
		node_fatal(n, "input %d '%s' (indices) must be int32 or int64, is %s", i, v->name,
			   dtype_name(v->dtype));
}

/* Drop size-1 dims and merge adjacent dims a strided read walks as one. */
static int coalesce(int nd, const int64_t *dims, const int64_t *st, int64_t *d, int64_t *s)
{
	int m = 0;
	for (int i = 0; i < nd; i++) {
		if (dims[i] == 0) { /* empty: one dim of 0 */
			d[0] = 0;
			s[0] = 1;
			return 1;
		}
	}
	for (int i = 0; i < nd; i++) {
		if (dims[i] == 1)
			continue;
		if (m > 0 && s[m - 1] == st[i] * dims[i]) {
			d[m - 1] *= dims[i];
			s[m - 1] = st[i];
			continue;
		}
		d[m] = dims[i];
		s[m] = st[i];
		m++;
	}
	return m;
}

/* The strided read is the identity on the bytes: output can be a view. */
static int plain_copy(int nd, const int64_t *dims, const int64_t *st, int64_t off)
{
	int64_t d[RT_SHAPE_MAXND], s[RT_SHAPE_MAXND];
	int m = coalesce(nd, dims, st, d, s);
	return off == 0 && (m == 0 || (m == 1 && s[0] == 1));
}

/* y (contiguous, dims) = x read at off + sum i_k * st[k] */
static void strided_copy(Graph *g, Node *n, Value *x, Value *y, int nd, const int64_t *dims,
			 const int64_t *st, int64_t off)
{
	int64_t d[RT_SHAPE_MAXND], s[RT_SHAPE_MAXND];
	int m = coalesce(nd, dims, st, d, s);
	Call *c = call_new(g, n, "rt_transpose");
	call_in(c, x);
	call_out(c, y);
	call_p(c, esize(n, x));
	call_p(c, off);
	call_p(c, m);
	call_pv(c, d, m);
	call_pv(c, s, m);
}

static void copy_call(Graph *g, Node *n, Value *x, Value *y)
{
	Call *c = call_new(g, n, "rt_copy");
	call_in(c, x);
	call_out(c, y);
	call_p(c, nbytes(y));
}

/* ---- views: Flatten, Squeeze, Unsqueeze ------------------------------- */

static void infer_flatten(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0];
	int r = x->rank;
	int64_t axis = attr_i(n, "axis", 1);
	if (axis < -r || axis > r)
		node_fatal(n, "axis %lld is out of range for rank %d", (long long)axis, r);
	if (axis < 0)
		axis += r;
	int64_t d[2] = { prod(x->dims, 0, (int)axis), prod(x->dims, (int)axis, r) };
	set_shape(n->out[0], x->dtype, 2, d);
	n->alias = 1;
}

static int axes_of(Graph *g, Node *n, int64_t *axes)
{
	if (n->opset >= 13)
		return const_ints_in(g, n, 1, axes, RT_MAXDIM, "axes");
	if (node_in(n, 1))
		node_fatal(n, "takes axes as an attribute before opset 13");
	return attr_ints(n, "axes", axes, RT_MAXDIM);
}

static void infer_squeeze(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int64_t axes[RT_MAXDIM], dims[RT_MAXDIM];
	int na = axes_of(g, n, axes), drop[RT_MAXDIM] = { 0 }, r = 0;
	for (int i = 0; i < na; i++) {
		int64_t a = norm_axis(n, axes[i], x->rank);
		if (x->dims[a] != 1)
			node_fatal(n, "cannot squeeze axis %lld of %s: not 1", (long long)axes[i], shape_str(x));
		drop[a] = 1;
	}
	for (int i = 0; i < x->rank; i++)
		if (!(na < 0 ? x->dims[i] == 1 : drop[i]))
			dims[r++] = x->dims[i];
	set_shape(n->out[0], x->dtype, r, dims);
	n->alias = 1;
}

static void infer_unsqueeze(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int64_t axes[RT_MAXDIM], dims[RT_MAXDIM];
	int na = axes_of(g, n, axes), ins[RT_MAXDIM] = { 0 };
	if (na < 0)
		node_fatal(n, "axes are required");
	int r = x->rank + na;
	if (r > RT_MAXDIM)
		node_fatal(n, "output rank %d exceeds %d", r, RT_MAXDIM);
	for (int i = 0; i < na; i++) {
		int64_t a = norm_axis(n, axes[i], r);
		if (ins[a])
			node_fatal(n, "axis %lld repeated", (long long)axes[i]);
		ins[a] = 1;
	}
	for (int i = 0, k = 0; i < r; i++)
		dims[i] = ins[i] ? 1 : x->dims[k++];
	set_shape(n->out[0], x->dtype, r, dims);
	n->alias = 1;
}

/* ---- Transpose -------------------------------------------------------- */

static void transpose_plan(Node *n, int64_t *dims, int64_t *st)
{
	Value *x = n->in[0];
	int r = x->rank, seen[RT_MAXDIM] = { 0 };
	int64_t perm[RT_MAXDIM], xs[RT_MAXDIM];
	int np = attr_ints(n, "perm", perm, RT_MAXDIM);
	if (np < 0) {
		np = r;
		for (int i = 0; i < r; i++)
			perm[i] = r - 1 - i;
	}
	if (np != r)
		node_fatal(n, "perm has %d entries, input '%s' has rank %d", np, x->name, r);
	contig_strides(r, x->dims, xs);
	for (int i = 0; i < r; i++) {
		int64_t a = norm_axis(n, perm[i], r);
		if (seen[a]++)
			node_fatal(n, "perm is not a permutation");
		dims[i] = x->dims[a];
		st[i] = xs[a];
	}
}

static void infer_transpose(Graph *g, Node *n)
{
	(void)g;
	int64_t dims[RT_MAXDIM], st[RT_MAXDIM];
	transpose_plan(n, dims, st);
	esize(n, n->in[0]);
	set_shape(n->out[0], n->in[0]->dtype, n->in[0]->rank, dims);
	n->alias = plain_copy(n->in[0]->rank, dims, st, 0);
}

static void lower_transpose(Graph *g, Node *n)
{
	int64_t dims[RT_MAXDIM], st[RT_MAXDIM];
	transpose_plan(n, dims, st);
	strided_copy(g, n, n->in[0], n->out[0], n->in[0]->rank, dims, st, 0);
}

/* ---- Concat and Split ------------------------------------------------- */

static void infer_concat(Graph *g, Node *n)
{
	(void)g;
	Value *x0 = n->in[0];
	int r = x0->rank;
	if (!attr_get(n, "axis"))
		node_fatal(n, "attribute 'axis' is required");
	int64_t axis = norm_axis(n, attr_i(n, "axis", 0), r), dims[RT_MAXDIM];
	memcpy(dims, x0->dims, sizeof dims);
	dims[axis] = 0;
	for (int i = 0; i < n->nin; i++) {
		Value *v = n->in[i];
		if (!v)
			node_fatal(n, "input %d is missing", i);
		if (v->dtype != x0->dtype)
			node_fatal(n, "input %d '%s' is %s, input 0 is %s", i, v->name, dtype_name(v->dtype),
				   dtype_name(x0->dtype));
		if (v->rank != r)
			node_fatal(n, "input %d '%s' %s has a different rank than %s", i, v->name, shape_str(v),
				   shape_str(x0));
		for (int k = 0; k < r; k++)
			if (k != axis && v->dims[k] != x0->dims[k])
				node_fatal(n, "input %d '%s' %s does not match %s outside axis %lld", i, v->name,
					   shape_str(v), shape_str(x0), (long long)axis);
		dims[axis] += v->dims[axis];
	}
	esize(n, x0);
	set_shape(n->out[0], x0->dtype, r, dims);
	n->alias = n->nin == 1;
}

static void lower_concat(Graph *g, Node *n)
{
	Value *y = n->out[0];
	int r = y->rank, es = esize(n, y);
	int64_t axis = norm_axis(n, attr_i(n, "axis", 0), r);
	int64_t outer = prod(y->dims, 0, (int)axis), inner = prod(y->dims, (int)axis + 1, r) * es;
	int64_t yrow = y->dims[axis] * inner, off = 0;
	for (int i = 0; i < n->nin; i++) {
		Value *x = n->in[i];
		int64_t len = x->dims[axis] * inner;
		if (!len)
			continue; /* empty input: nothing to copy */
		Call *c = call_new(g, n, "rt_copy_rows");
		call_in(c, x);
		call_out(c, y);
		call_p(c, outer);
		call_p(c, len);
		call_p(c, len);
		call_p(c, 0);
		call_p(c, yrow);
		call_p(c, off);
		off += len;
	}
	if (n->nin > 1 && !off) { /* all empty: still define y */
		Call *c = call_new(g, n, "rt_copy_rows");
		call_in(c, n->in[0]);
		call_out(c, y);
		call_pv(c, (int64_t[]){ 0, 0, 0, 0, 0, 0 }, 6);
	}
}

/* Concat and Split take one call per input / output */
#define MAXSPLIT 4096

/* split sizes along the axis; returns the axis */
static int64_t split_plan(Graph *g, Node *n, int64_t *sizes)
{
	Value *x = n->in[0];
	int64_t axis = norm_axis(n, attr_i(n, "axis", 0), x->rank), d = x->dims[axis];
	int k = n->nout, cnt;
	int64_t tmp[MAXSPLIT];
	cnt = const_ints_in(g, n, 1, tmp, MAXSPLIT, "split");
	if (cnt < 0)
		cnt = attr_ints(n, "split", tmp, MAXSPLIT);
	if (cnt >= 0) {
		if (cnt != k)
			node_fatal(n, "split has %d sizes for %d outputs", cnt, k);
		int64_t sum = 0;
		for (int i = 0; i < k; i++) {
			if (tmp[i] < 0)
				node_fatal(n, "negative split size %lld", (long long)tmp[i]);
			sizes[i] = tmp[i];
			sum += tmp[i];
		}
		if (sum != d)
			node_fatal(n, "split sizes add up to %lld, axis %lld of %s has %lld", (long long)sum,
				   (long long)axis, shape_str(x), (long long)d);
		return axis;
	}
	int64_t no = attr_i(n, "num_outputs", k);
	if (no != k)
		node_fatal(n, "num_outputs is %lld but the node has %d outputs", (long long)no, k);
	int64_t chunk = (d + k - 1) / k, left = d;
	for (int i = 0; i < k; i++) {
		sizes[i] = chunk < left ? chunk : left;
		left -= sizes[i];
	}
	return axis;
}

static void infer_split(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int64_t sizes[MAXSPLIT], dims[RT_MAXDIM];
	int64_t axis = split_plan(g, n, sizes);
	esize(n, x);
	for (int i = 0; i < n->nout; i++) {
		memcpy(dims, x->dims, sizeof dims);
		dims[axis] = sizes[i];
		set_shape(n->out[i], x->dtype, x->rank, dims);
	}
}

static void lower_split(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int64_t sizes[MAXSPLIT];
	int64_t axis = split_plan(g, n, sizes);
	int r = x->rank, es = esize(n, x);
	int64_t outer = prod(x->dims, 0, (int)axis), inner = prod(x->dims, (int)axis + 1, r) * es;
	int64_t xrow = x->dims[axis] * inner, off = 0;
	for (int i = 0; i < n->nout; i++) {
		int64_t len = sizes[i] * inner;
		Call *c = call_new(g, n, "rt_copy_rows");
		call_in(c, x);
		call_out(c, n->out[i]);
		call_p(c, outer);
		call_p(c, len);
		call_p(c, xrow);
		call_p(c, off);
		call_p(c, len);
		call_p(c, 0);
		off += len;
	}
}

/* ---- Slice ------------------------------------------------------------ */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* output dims, input strides per output dim, element offset */
static void slice_plan(Graph *g, Node *n, int64_t *dims, int64_t *st, int64_t *off)
{
	Value *x = n->in[0];
	int r = x->rank;
	int64_t starts[RT_MAXDIM], ends[RT_MAXDIM], axes[RT_MAXDIM], steps[RT_MAXDIM], xs[RT_MAXDIM];
	int ns, ne, na, nst = -1, seen[RT_MAXDIM] = { 0 };
	if (n->opset < 10) {
		ns = attr_ints(n, "starts", starts, RT_MAXDIM);
		ne = attr_ints(n, "ends", ends, RT_MAXDIM);
		na = attr_ints(n, "axes", axes, RT_MAXDIM);
	} else {
		ns = const_ints_in(g, n, 1, starts, RT_MAXDIM, "starts");
		ne = const_ints_in(g, n, 2, ends, RT_MAXDIM, "ends");
		na = const_ints_in(g, n, 3, axes, RT_MAXDIM, "axes");
		nst = const_ints_in(g, n, 4, steps, RT_MAXDIM, "steps");
	}
	if (ns < 0 || ne < 0)
		node_fatal(n, "starts and ends are required");
	if (ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
		node_fatal(n, "starts, ends, axes and steps differ in length");
	contig_strides(r, x->dims, xs);
	memcpy(dims, x->dims, sizeof(int64_t) * r);
	memcpy(st, xs, sizeof(int64_t) * r);
	*off = 0;
	for (int i = 0; i < ns; i++) {
		int64_t a = norm_axis(n, na >= 0 ? axes[i] : i, r), d = x->dims[a];
		int64_t step = nst >= 0 ? steps[i] : 1, s = starts[i], e = ends[i], len;
		if (seen[a]++)
			node_fatal(n, "axis %lld repeated", (long long)a);
		if (!step)
			node_fatal(n, "step 0 on axis %lld", (long long)a);
		if (s < 0)
			s += d;
		if (e < 0)
			e += d;
		if (step > 0) {
			s = clamp64(s, 0, d);
			e = clamp64(e, 0, d);
			len = e > s ? (e - s + step - 1) / step : 0;
		} else {
			s = clamp64(s, 0, d - 1);
			e = clamp64(e, -1, d - 1);
			len = s > e ? (s - e + (-step) - 1) / (-step) : 0;
		}
		dims[a] = len;
		st[a] = xs[a] * step;
		if (len)
			*off += s * xs[a];
	}
}

static void infer_slice(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int64_t dims[RT_MAXDIM], st[RT_MAXDIM], off;
	esize(n, x);
	slice_plan(g, n, dims, st, &off);
	set_shape(n->out[0], x->dtype, x->rank, dims);
	n->alias = plain_copy(x->rank, dims, st, off) && numel(n->out[0]) == numel(x);
}

static void lower_slice(Graph *g, Node *n)
{
	int64_t dims[RT_MAXDIM], st[RT_MAXDIM], off;
	slice_plan(g, n, dims, st, &off);
	strided_copy(g, n, n->in[0], n->out[0], n->in[0]->rank, dims, st, off);
}

/* ---- Gather family ---------------------------------------------------- */

static void infer_gather(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0], *ix = n->in[1];
	need_rank(n, 0, 1, RT_MAXDIM);
	check_index_type(n, 1);
	esize(n, x);
	int64_t axis = norm_axis(n, attr_i(n, "axis", 0), x->rank), dims[RT_MAXDIM];
	int r = x->rank - 1 + ix->rank, k = 0;
	if (r > RT_MAXDIM)
		node_fatal(n, "output rank %d exceeds %d", r, RT_MAXDIM);
	for (int i = 0; i < axis; i++)
		dims[k++] = x->dims[i];
	for (int i = 0; i < ix->rank; i++)
		dims[k++] = ix->dims[i];
	for (int i = (int)axis + 1; i < x->rank; i++)
		dims[k++] = x->dims[i];
	set_shape(n->out[0], x->dtype, r, dims);
}

static void lower_gather(Graph *g, Node *n)
{
	Value *x = n->in[0], *ix = n->in[1];
	int es = esize(n, x);
	int64_t axis = norm_axis(n, attr_i(n, "axis", 0), x->rank);
	Call *c = call_new(g, n, "rt_gather");
	call_in(c, x);
	call_in(c, ix);
	call_out(c, n->out[0]);
	call_p(c, es);
	call_p(c, ix->dtype);
	call_p(c, prod(x->dims, 0, (int)axis));
	call_p(c, x->dims[axis]);
	call_p(c, prod(x->dims, (int)axis + 1, x->rank) * es);
	call_p(c, numel(ix));
}

static void infer_gather_elements(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0], *ix = n->in[1];
	need_rank(n, 0, 1, RT_MAXDIM);
	check_index_type(n, 1);
	esize(n, x);
	norm_axis(n, attr_i(n, "axis", 0), x->rank);
	if (ix->rank != x->rank)
		node_fatal(n, "indices '%s' %s must have the rank of data %s", ix->name, shape_str(ix),
			   shape_str(x));
	set_shape(n->out[0], x->dtype, ix->rank, ix->dims);
}

static void lower_gather_elements(Graph *g, Node *n)
{
	Value *x = n->in[0], *ix = n->in[1];
	int64_t axis = norm_axis(n, attr_i(n, "axis", 0), x->rank), xs[RT_MAXDIM];
	contig_strides(x->rank, x->dims, xs);
	Call *c = call_new(g, n, "rt_gather_elements");
	call_in(c, x);
	call_in(c, ix);
	call_out(c, n->out[0]);
	call_p(c, esize(n, x));
	call_p(c, ix->dtype);
	call_p(c, x->rank);
	call_p(c, axis);
	call_p(c, x->dims[axis]);
	call_pv(c, ix->dims, ix->rank);
	call_pv(c, xs, x->rank);
}

static void infer_gather_nd(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0], *ix = n->in[1];
	need_rank(n, 0, 1, RT_MAXDIM);
	need_rank(n, 1, 1, RT_MAXDIM);
	check_index_type(n, 1);
	esize(n, x);
	int64_t b = attr_i(n, "batch_dims", 0), k = ix->dims[ix->rank - 1], dims[RT_MAXDIM];
	if (b < 0 || b >= ix->rank || b >= x->rank)
		node_fatal(n, "batch_dims %lld is out of range", (long long)b);
	if (k < 1 || b + k > x->rank)
		node_fatal(n, "indices '%s' %s: last dim must be 1..%lld", ix->name, shape_str(ix),
			   (long long)(x->rank - b));
	for (int i = 0; i < b; i++)
		if (ix->dims[i] != x->dims[i])
			node_fatal(n, "batch dim %d differs: data %s, indices %s", i, shape_str(x), shape_str(ix));
	int r = 0;
	for (int i = 0; i < ix->rank - 1; i++)
		dims[r++] = ix->dims[i];
	for (int i = (int)(b + k); i < x->rank; i++)
		dims[r++] = x->dims[i];
	if (r > RT_MAXDIM)
		node_fatal(n, "output rank %d exceeds %d", r, RT_MAXDIM);
	set_shape(n->out[0], x->dtype, r, dims);
}

static void lower_gather_nd(Graph *g, Node *n)
{
	Value *x = n->in[0], *ix = n->in[1];
	int b = (int)attr_i(n, "batch_dims", 0), k = (int)ix->dims[ix->rank - 1];
	int64_t xs[RT_MAXDIM];
	contig_strides(x->rank, x->dims, xs);
	Call *c = call_new(g, n, "rt_gather_nd");
	call_in(c, x);
	call_in(c, ix);
	call_out(c, n->out[0]);
	call_p(c, esize(n, x));
	call_p(c, ix->dtype);
	call_p(c, prod(ix->dims, 0, b));
	call_p(c, prod(ix->dims, b, ix->rank - 1));
	call_p(c, k);
	call_p(c, prod(x->dims, b + k, x->rank));
	call_p(c, prod(x->dims, b, x->rank));
	call_pv(c, x->dims + b, k);
	call_pv(c, xs + b, k);
}

/* ---- Scatter family --------------------------------------------------- */

static int reduction_code(Node *n)
{
	const char *r = attr_s(n, "reduction", "none");
	if (!strcmp(r, "none"))
		return RT_SHAPE_RED_NONE;
	if (!strcmp(r, "add"))
		return RT_SHAPE_RED_ADD;
	if (!strcmp(r, "mul"))
		return RT_SHAPE_RED_MUL;
	if (!strcmp(r, "max"))
		return RT_SHAPE_RED_MAX;
	if (!strcmp(r, "min"))
		return RT_SHAPE_RED_MIN;
	node_fatal(n, "reduction '%s' is not supported", r);
}

static void infer_scatter_elements(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0], *ix = n->in[1], *u = n->in[2];
	need_rank(n, 0, 1, RT_MAXDIM);
	check_index_type(n, 1);
	esize(n, x);
	reduction_code(n);
	norm_axis(n, attr_i(n, "axis", 0), x->rank);
	if (u->dtype != x->dtype)
		node_fatal(n, "updates '%s' are %s, data is %s", u->name, dtype_name(u->dtype), dtype_name(x->dtype));
	if (ix->rank != x->rank || u->rank != x->rank)
		node_fatal(n, "indices %s and updates %s must have the rank of data %s", shape_str(ix),
			   shape_str(u), shape_str(x));
	for (int i = 0; i < ix->rank; i++)
		if (ix->dims[i] != u->dims[i])
			node_fatal(n, "indices %s and updates %s differ in shape", shape_str(ix), shape_str(u));
	set_shape(n->out[0], x->dtype, x->rank, x->dims);
}

static void lower_scatter_elements(Graph *g, Node *n)
{
	Value *x = n->in[0], *ix = n->in[1], *u = n->in[2], *y = n->out[0];
	int64_t axis = norm_axis(n, attr_i(n, "axis", 0), x->rank), ys[RT_MAXDIM];
	contig_strides(y->rank, y->dims, ys);
	copy_call(g, n, x, y);
	Call *c = call_new(g, n, "rt_scatter_elements");
	call_in(c, ix);
	call_in(c, u);
	call_out(c, y);
	call_p(c, y->dtype);
	call_p(c, ix->dtype);
	call_p(c, reduction_code(n));
	call_p(c, y->rank);
	call_p(c, axis);
	call_p(c, y->dims[axis]);
	call_pv(c, u->dims, u->rank);
	call_pv(c, ys, y->rank);
}

static void infer_scatter_nd(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0], *ix = n->in[1], *u = n->in[2];
	need_rank(n, 0, 1, RT_MAXDIM);
	need_rank(n, 1, 1, RT_MAXDIM);
	check_index_type(n, 1);
	esize(n, x);
	reduction_code(n);
	int64_t k = ix->dims[ix->rank - 1];
	if (u->dtype != x->dtype)
		node_fatal(n, "updates '%s' are %s, data is %s", u->name, dtype_name(u->dtype), dtype_name(x->dtype));
	if (k < 1 || k > x->rank)
		node_fatal(n, "indices %s: last dim must be 1..%d", shape_str(ix), x->rank);
	int ok = u->rank == ix->rank - 1 + x->rank - k;
	for (int i = 0; ok && i < ix->rank - 1; i++)
		ok = u->dims[i] == ix->dims[i];
	for (int i = 0; ok && i < x->rank - k; i++)
		ok = u->dims[ix->rank - 1 + i] == x->dims[k + i];
	if (!ok)
		node_fatal(n, "updates %s do not match indices %s and data %s", shape_str(u), shape_str(ix),
			   shape_str(x));
	set_shape(n->out[0], x->dtype, x->rank, x->dims);
}

static void lower_scatter_nd(Graph *g, Node *n)
{
	Value *x = n->in[0], *ix = n->in[1], *u = n->in[2], *y = n->out[0];
	int k = (int)ix->dims[ix->rank - 1];
	int64_t xs[RT_MAXDIM];
	contig_strides(x->rank, x->dims, xs);
	copy_call(g, n, x, y);
	Call *c = call_new(g, n, "rt_scatter_nd");
	call_in(c, ix);
	call_in(c, u);
	call_out(c, y);
	call_p(c, y->dtype);
	call_p(c, ix->dtype);
	call_p(c, reduction_code(n));
	call_p(c, prod(ix->dims, 0, ix->rank - 1));
	call_p(c, k);
	call_p(c, prod(x->dims, k, x->rank));
	call_pv(c, x->dims, k);
	call_pv(c, xs, k);
}

/* ---- Expand, Tile ----------------------------------------------------- */

static int expand_plan(Graph *g, Node *n, int64_t *dims)
{
	Value *x = n->in[0];
	int64_t shp[RT_MAXDIM];
	int ns = const_ints_in(g, n, 1, shp, RT_MAXDIM, "shape");
	int r = broadcast_shapes(x->rank, x->dims, ns, shp, dims);
	if (r < 0)
		node_fatal(n, "input %s does not broadcast to the shape", shape_str(x));
	return r;
}

static void infer_expand(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int64_t dims[RT_MAXDIM], st[RT_MAXDIM];
	int r = expand_plan(g, n, dims);
	esize(n, x);
	set_shape(n->out[0], x->dtype, r, dims);
	bcast_strides(x, r, dims, st);
	n->alias = numel(n->out[0]) == numel(x);
}

static void lower_expand(Graph *g, Node *n)
{
	Value *x = n->in[0], *y = n->out[0];
	int64_t st[RT_MAXDIM];
	bcast_strides(x, y->rank, y->dims, st);
	strided_copy(g, n, x, y, y->rank, y->dims, st, 0);
}

static void tile_plan(Graph *g, Node *n, int64_t *reps)
{
	Value *x = n->in[0];
	int nr = const_ints_in(g, n, 1, reps, RT_MAXDIM, "repeats");
	if (nr != x->rank)
		node_fatal(n, "repeats has %d values, input '%s' has rank %d", nr, x->name, x->rank);
	for (int i = 0; i < nr; i++)
		if (reps[i] < 0)
			node_fatal(n, "negative repeat %lld", (long long)reps[i]);
}

static void infer_tile(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int64_t reps[RT_MAXDIM], dims[RT_MAXDIM];
	tile_plan(g, n, reps);
	esize(n, x);
	for (int i = 0; i < x->rank; i++)
		dims[i] = x->dims[i] * reps[i];
	set_shape(n->out[0], x->dtype, x->rank, dims);
	n->alias = numel(n->out[0]) == numel(x);
}

static void lower_tile(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int64_t reps[RT_MAXDIM], xs[RT_MAXDIM], dims[RT_SHAPE_MAXND], st[RT_SHAPE_MAXND];
	tile_plan(g, n, reps);
	contig_strides(x->rank, x->dims, xs);
	for (int i = 0; i < x->rank; i++) {
		dims[2 * i] = reps[i];
		st[2 * i] = 0;
		dims[2 * i + 1] = x->dims[i];
		st[2 * i + 1] = xs[i];
	}
	strided_copy(g, n, x, n->out[0], 2 * x->rank, dims, st, 0);
}

/* ---- Size, ConstantOfShape, Range, EyeLike, OneHot --------------------- */

static void infer_size(Graph *g, Node *n)
{
	(void)g;
	Value *v = n->out[0];
	set_shape(v, RT_I64, 0, NULL);
	v->data = xcalloc(1, 8);
	*(int64_t *)v->data = numel(n->in[0]);
	v->is_const = 1;
	v->folded = 1;
	n->dead = 1;
}

static Value *cos_value(Graph *g, Node *n)
{
	Onnx__AttributeProto *a = attr_get(n, "value");
	if (!a)
		return const_scalar(g, RT_F32, 0);
	if (!a->t)
		node_fatal(n, "attribute 'value' must be a tensor");
	Value *v = temp_value(g, RT_F32, 0, NULL);
	tensor_proto_to_value(g, v, a->t, fmt("node '%s' (ConstantOfShape) value", n->name));
	if (numel(v) != 1)
		node_fatal(n, "attribute 'value' must have one element, has %lld", (long long)numel(v));
	return v;
}

static void infer_constant_of_shape(Graph *g, Node *n)
{
	int64_t dims[RT_MAXDIM];
	int r = const_ints_in(g, n, 0, dims, RT_MAXDIM, "shape");
	for (int i = 0; i < r; i++)
		if (dims[i] < 0)
			node_fatal(n, "negative dim %lld", (long long)dims[i]);
	Onnx__AttributeProto *a = attr_get(n, "value");
	int dt = a && a->t ? a->t->data_type : RT_F32;
	if (!rt_dtype_size(dt))
		node_fatal(n, "value of type %s is not supported", dtype_name(dt));
	set_shape(n->out[0], dt, r, dims);
}

static void lower_constant_of_shape(Graph *g, Node *n)
{
	Value *y = n->out[0];
	Call *c = call_new(g, n, "rt_fill");
	call_in(c, cos_value(g, n));
	call_out(c, y);
	call_p(c, esize(n, y));
	call_p(c, numel(y));
}

static void infer_range(Graph *g, Node *n)
{
	Value *s = n->in[0], *l = n->in[1], *d = n->in[2];
	int64_t len;
	for (int i = 0; i < 3; i++) {
		if (!n->in[i]->is_const)
			node_fatal(n, "input %d '%s' must be constant after folding (the output length depends on it)",
				   i, n->in[i]->name);
		if (numel(n->in[i]) != 1 || n->in[i]->dtype != s->dtype)
			node_fatal(n, "input %d '%s' must be a scalar of the type of input 0", i, n->in[i]->name);
	}
	esize(n, s);
	if (rt_is_float(s->dtype)) {
		double a = const_float(g, s, 0), b = const_float(g, l, 0), c = const_float(g, d, 0);
		if (c == 0)
			node_fatal(n, "delta is 0");
		double q = ceil((b - a) / c);
		len = q > 0 ? (int64_t)q : 0;
	} else {
		int64_t a = const_int(g, s, 0), b = const_int(g, l, 0), c = const_int(g, d, 0);
		if (c == 0)
			node_fatal(n, "delta is 0");
		if (c > 0)
			len = b > a ? (b - a + c - 1) / c : 0;
		else
			len = a > b ? (a - b + (-c) - 1) / (-c) : 0;
	}
	set_shape(n->out[0], s->dtype, 1, &len);
}

static void lower_range(Graph *g, Node *n)
{
	Value *y = n->out[0];
	Call *c = call_new(g, n, "rt_range");
	call_in(c, n->in[0]);
	call_in(c, n->in[2]);
	call_out(c, y);
	call_p(c, y->dtype);
	call_p(c, y->dims[0]);
}

static void infer_eyelike(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0];
	need_rank(n, 0, 2, 2);
	int dt = (int)attr_i(n, "dtype", x->dtype);
	if (!rt_dtype_size(dt))
		node_fatal(n, "dtype %s is not supported", dtype_name(dt));
	set_shape(n->out[0], dt, 2, x->dims);
}

static void lower_eyelike(Graph *g, Node *n)
{
	Value *y = n->out[0];
	Call *c = call_new(g, n, "rt_eyelike");
	call_out(c, y);
	call_p(c, y->dtype);
	call_p(c, y->dims[0]);
	call_p(c, y->dims[1]);
	call_p(c, attr_i(n, "k", 0));
}

static int64_t onehot_depth(Graph *g, Node *n)
{
	Value *d = n->in[1];
	if (!d->is_const)
		node_fatal(n, "input 1 '%s' (depth) must be constant after folding", d->name);
	if (numel(d) != 1)
		node_fatal(n, "input 1 '%s' (depth) must have one element", d->name);
	int64_t depth = rt_is_float(d->dtype) ? (int64_t)const_float(g, d, 0) : const_int(g, d, 0);
	if (depth < 1)
		node_fatal(n, "depth %lld must be positive", (long long)depth);
	return depth;
}

static void infer_onehot(Graph *g, Node *n)
{
	Value *ix = n->in[0], *vals = n->in[2];
	int64_t depth = onehot_depth(g, n), dims[RT_MAXDIM];
	int r = ix->rank + 1;
	if (r > RT_MAXDIM)
		node_fatal(n, "output rank %d exceeds %d", r, RT_MAXDIM);
	if (numel(vals) != 2)
		node_fatal(n, "input 2 '%s' (values) must have two elements", vals->name);
	esize(n, vals);
	esize(n, ix);
	int64_t axis = norm_axis(n, attr_i(n, "axis", -1), r);
	for (int i = 0, k = 0; i < r; i++)
		dims[i] = i == axis ? depth : ix->dims[k++];
	set_shape(n->out[0], vals->dtype, r, dims);
}

static void lower_onehot(Graph *g, Node *n)
{
	Value *ix = n->in[0], *y = n->out[0];
	int64_t axis = norm_axis(n, attr_i(n, "axis", -1), y->rank);
	Call *c = call_new(g, n, "rt_onehot");
	call_in(c, ix);
	call_in(c, n->in[2]);
	call_out(c, y);
	call_p(c, ix->dtype);
	call_p(c, esize(n, y));
	call_p(c, prod(ix->dims, 0, (int)axis));
	call_p(c, onehot_depth(g, n));
	call_p(c, prod(ix->dims, (int)axis, ix->rank));
}

/* ---- Trilu, Pad ------------------------------------------------------- */

static void infer_trilu(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0], *k = node_in(n, 1);
	need_rank(n, 0, 2, RT_MAXDIM);
	esize(n, x);
	if (k && (numel(k) != 1 || rt_is_float(k->dtype)))
		node_fatal(n, "input 1 '%s' (k) must be an integer scalar", k->name);
	set_shape(n->out[0], x->dtype, x->rank, x->dims);
}

static void lower_trilu(Graph *g, Node *n)
{
	Value *x = n->in[0], *k = node_in(n, 1);
	int r = x->rank;
	Call *c = call_new(g, n, "rt_trilu");
	call_in(c, x);
	call_in(c, k && !k->is_const ? k : NULL);
	call_out(c, n->out[0]);
	call_p(c, esize(n, x));
	call_p(c, attr_i(n, "upper", 1));
	call_p(c, prod(x->dims, 0, r - 2));
	call_p(c, x->dims[r - 2]);
	call_p(c, x->dims[r - 1]);
	call_p(c, k && k->is_const ? const_int(g, k, 0) : 0);
	call_p(c, k ? k->dtype : RT_I64);
}

static int pad_mode(Node *n)
{
	const char *m = attr_s(n, "mode", "constant");
	if (!strcmp(m, "constant"))
		return RT_SHAPE_PAD_CONSTANT;
	if (!strcmp(m, "reflect"))
		return RT_SHAPE_PAD_REFLECT;
	if (!strcmp(m, "edge"))
		return RT_SHAPE_PAD_EDGE;
	if (!strcmp(m, "wrap"))
		return RT_SHAPE_PAD_WRAP;
	node_fatal(n, "mode '%s' is not supported", m);
}

/* pads at the beginning and end of each axis */
static void pad_plan(Graph *g, Node *n, int64_t *pb, int64_t *pe)
{
	Value *x = n->in[0];
	int r = x->rank, np, na = -1;
	int64_t pads[2 * RT_MAXDIM], axes[RT_MAXDIM];
	if (n->opset < 11) {
		np = attr_ints(n, n->opset < 2 ? "paddings" : "pads", pads, 2 * RT_MAXDIM);
	} else {
		np = const_ints_in(g, n, 1, pads, 2 * RT_MAXDIM, "pads");
		na = const_ints_in(g, n, 3, axes, RT_MAXDIM, "axes");
	}
	if (np < 0)
		node_fatal(n, "pads are required");
	if (na < 0) {
		na = r;
		for (int i = 0; i < r; i++)
			axes[i] = i;
	}
	if (np != 2 * na)
		node_fatal(n, "pads has %d values for %d axes", np, na);
	for (int i = 0; i < r; i++)
		pb[i] = pe[i] = 0;
	for (int i = 0; i < na; i++) {
		int64_t a = norm_axis(n, axes[i], r);
		pb[a] = pads[i];
		pe[a] = pads[na + i];
	}
}

static void infer_pad(Graph *g, Node *n)
{
	Value *x = n->in[0], *cv = node_in(n, 2);
	int64_t pb[RT_MAXDIM], pe[RT_MAXDIM], dims[RT_MAXDIM];
	esize(n, x);
	pad_mode(n);
	pad_plan(g, n, pb, pe);
	if (cv && (numel(cv) != 1 || cv->dtype != x->dtype))
		node_fatal(n, "input 2 '%s' (constant_value) must be a scalar of the input's type", cv->name);
	for (int i = 0; i < x->rank; i++) {
		dims[i] = x->dims[i] + pb[i] + pe[i];
		if (dims[i] < 0)
			node_fatal(n, "pads make axis %d negative", i);
	}
	set_shape(n->out[0], x->dtype, x->rank, dims);
}

static void lower_pad(Graph *g, Node *n)
{
	Value *x = n->in[0], *y = n->out[0], *cv = node_in(n, 2);
	int64_t pb[RT_MAXDIM], pe[RT_MAXDIM];
	int mode = pad_mode(n);
	pad_plan(g, n, pb, pe);
	if (n->opset < 11 && mode == RT_SHAPE_PAD_CONSTANT)
		cv = const_scalar(g, x->dtype, attr_f(n, "value", 0));
	if (mode != RT_SHAPE_PAD_CONSTANT)
		cv = NULL;
	for (int i = 0; i < x->rank; i++)
		if (!x->dims[i] && y->dims[i] && mode != RT_SHAPE_PAD_CONSTANT)
			node_fatal(n, "cannot %s-pad an empty axis %d", attr_s(n, "mode", ""), i);
	Call *c = call_new(g, n, "rt_pad");
	call_in(c, x);
	call_in(c, cv);
	call_out(c, y);
	call_p(c, esize(n, x));
	call_p(c, mode);
	call_p(c, x->rank);
	call_pv(c, x->dims, x->rank);
	call_pv(c, pb, x->rank);
	call_pv(c, y->dims, x->rank);
}

/* ---- DepthToSpace, SpaceToDepth, ReverseSequence ---------------------- */

/* y = x viewed as vd[6] (contiguous) transposed by perm */
static void permute6(Graph *g, Node *n, const int64_t *vd, const int *perm)
{
	int64_t vs[6], dims[6], st[6];
	contig_strides(6, vd, vs);
	for (int i = 0; i < 6; i++) {
		dims[i] = vd[perm[i]];
		st[i] = vs[perm[i]];
	}
	strided_copy(g, n, n->in[0], n->out[0], 6, dims, st, 0);
}

static void infer_d2s(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0];
	need_rank(n, 0, 4, 4);
	esize(n, x);
	int64_t b = attr_i(n, "blocksize", 0), d[4];
	if (b < 1)
		node_fatal(n, "blocksize must be positive");
	memcpy(d, x->dims, sizeof d);
	if (!strcmp(n->op, "DepthToSpace")) {
		if (d[1] % (b * b))
			node_fatal(n, "channels %lld are not a multiple of blocksize^2", (long long)d[1]);
		const char *m = attr_s(n, "mode", "DCR");
		if (strcmp(m, "DCR") && strcmp(m, "CRD"))
			node_fatal(n, "mode '%s' is not supported", m);
		d[1] /= b * b;
		d[2] *= b;
		d[3] *= b;
	} else {
		if (d[2] % b || d[3] % b)
			node_fatal(n, "spatial dims of %s are not multiples of blocksize", shape_str(x));
		d[1] *= b * b;
		d[2] /= b;
		d[3] /= b;
	}
	set_shape(n->out[0], x->dtype, 4, d);
}

static void lower_d2s(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int64_t b = attr_i(n, "blocksize", 0), N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
	if (!strcmp(n->op, "DepthToSpace")) {
		if (!strcmp(attr_s(n, "mode", "DCR"), "DCR")) {
			int64_t vd[6] = { N, b, b, C / (b * b), H, W };
			permute6(g, n, vd, (const int[]){ 0, 3, 4, 1, 5, 2 });
		} else {
			int64_t vd[6] = { N, C / (b * b), b, b, H, W };
			permute6(g, n, vd, (const int[]){ 0, 1, 4, 2, 5, 3 });
		}
	} else {
		int64_t vd[6] = { N, C, H / b, b, W / b, b };
		permute6(g, n, vd, (const int[]){ 0, 3, 5, 1, 2, 4 });
	}
}

static void infer_reverse_sequence(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0], *l = n->in[1];
	need_rank(n, 0, 2, RT_MAXDIM);
	esize(n, x);
	int64_t ba = norm_axis(n, attr_i(n, "batch_axis", 1), x->rank);
	int64_t ta = norm_axis(n, attr_i(n, "time_axis", 0), x->rank);
	if (ba == ta)
		node_fatal(n, "batch_axis and time_axis are the same");
	if (numel(l) != x->dims[ba] || rt_is_float(l->dtype))
		node_fatal(n, "input 1 '%s' (sequence_lens) must be %lld integers", l->name, (long long)x->dims[ba]);
	set_shape(n->out[0], x->dtype, x->rank, x->dims);
}

static void lower_reverse_sequence(Graph *g, Node *n)
{
	Value *x = n->in[0], *l = n->in[1];
	Call *c = call_new(g, n, "rt_reverse_sequence");
	call_in(c, x);
	call_in(c, l);
	call_out(c, n->out[0]);
	call_p(c, esize(n, x));
	call_p(c, l->dtype);
	call_p(c, x->rank);
	call_pv(c, x->dims, x->rank);
	call_p(c, norm_axis(n, attr_i(n, "batch_axis", 1), x->rank));
	call_p(c, norm_axis(n, attr_i(n, "time_axis", 0), x->rank));
}

const OpDef ops_shape[] = {
	{ "Constant", 0, 0, 1, 1, infer_constant, lower_none },
	{ "Reshape", 2, 2, 1, 1, infer_reshape, lower_none },
	{ "Shape", 1, 1, 1, 1, infer_shape, lower_none },
	{ "Size", 1, 1, 1, 1, infer_size, lower_none },
	{ "Flatten", 1, 1, 1, 1, infer_flatten, lower_none },
	{ "Squeeze", 1, 2, 1, 1, infer_squeeze, lower_none },
	{ "Unsqueeze", 1, 2, 1, 1, infer_unsqueeze, lower_none },
	{ "Transpose", 1, 1, 1, 1, infer_transpose, lower_transpose },
	{ "Concat", 1, MAXSPLIT, 1, 1, infer_concat, lower_concat },
	{ "Split", 1, 2, 1, MAXSPLIT, infer_split, lower_split },
	{ "Slice", 1, 5, 1, 1, infer_slice, lower_slice },
	{ "Gather", 2, 2, 1, 1, infer_gather, lower_gather },
	{ "GatherElements", 2, 2, 1, 1, infer_gather_elements, lower_gather_elements },
	{ "GatherND", 2, 2, 1, 1, infer_gather_nd, lower_gather_nd },
	{ "ScatterElements", 3, 3, 1, 1, infer_scatter_elements, lower_scatter_elements },
	{ "Scatter", 3, 3, 1, 1, infer_scatter_elements, lower_scatter_elements },
	{ "ScatterND", 3, 3, 1, 1, infer_scatter_nd, lower_scatter_nd },
	{ "Expand", 2, 2, 1, 1, infer_expand, lower_expand },
	{ "Tile", 2, 2, 1, 1, infer_tile, lower_tile },
	{ "ConstantOfShape", 1, 1, 1, 1, infer_constant_of_shape, lower_constant_of_shape },
	{ "Range", 3, 3, 1, 1, infer_range, lower_range },
	{ "EyeLike", 1, 1, 1, 1, infer_eyelike, lower_eyelike },
	{ "OneHot", 3, 3, 1, 1, infer_onehot, lower_onehot },
	{ "Trilu", 1, 2, 1, 1, infer_trilu, lower_trilu },
	{ "Pad", 1, 4, 1, 1, infer_pad, lower_pad },
	{ "DepthToSpace", 1, 1, 1, 1, infer_d2s, lower_d2s },
	{ "SpaceToDepth", 1, 1, 1, 1, infer_d2s, lower_d2s },
	{ "ReverseSequence", 2, 2, 1, 1, infer_reverse_sequence, lower_reverse_sequence },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};
