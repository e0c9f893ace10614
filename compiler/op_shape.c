/* op_shape.c: ops that create or move data without arithmetic: Constant,
 * Reshape and kin (views), Transpose, Shape. */
#include "gptossc.h"

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

const OpDef ops_shape[] = {
	{ "Constant", 0, 0, 1, 1, infer_constant, lower_none },
	{ "Reshape", 2, 2, 1, 1, infer_reshape, lower_none },
	{ "Shape", 1, 1, 1, 1, infer_shape, lower_none },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};
