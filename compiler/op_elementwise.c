/* op_elementwise.c: unary and binary maps, variadic Sum/Max/Min/Mean,
 * Where, Cast, CastLike, Clip, Identity and Dropout.
 *
 * Binary ops follow numpy broadcasting ("multidirectional broadcasting" in
 * the ONNX spec); the lowering turns it into strides (infer.c bcast_plan).
 */
#include "gptossc.h"
#include "../runtime/elementwise.h"

static const struct {
	const char *name;
	int code;
	double a, b; /* default attributes (alpha, beta/gamma) */
	int logical; /* output bool */
} unary_ops[] = {
	{ "Abs", RT_ABS, 0, 0, 0 }, { "Neg", RT_NEG, 0, 0, 0 }, { "Exp", RT_EXP, 0, 0, 0 },
	{ "Log", RT_LOG, 0, 0, 0 }, { "Sqrt", RT_SQRT, 0, 0, 0 }, { "Reciprocal", RT_RECIP, 0, 0, 0 },
	{ "Floor", RT_FLOOR, 0, 0, 0 }, { "Ceil", RT_CEIL, 0, 0, 0 }, { "Round", RT_ROUND, 0, 0, 0 },
	{ "Sign", RT_SIGN, 0, 0, 0 }, { "Sigmoid", RT_SIGMOID, 0, 0, 0 }, { "Tanh", RT_TANH, 0, 0, 0 },
	{ "Relu", RT_RELU, 0, 0, 0 }, { "Erf", RT_ERF, 0, 0, 0 }, { "Sin", RT_SIN, 0, 0, 0 },
	{ "Cos", RT_COS, 0, 0, 0 }, { "Tan", RT_TAN, 0, 0, 0 }, { "Asin", RT_ASIN, 0, 0, 0 },
	{ "Acos", RT_ACOS, 0, 0, 0 }, { "Atan", RT_ATAN, 0, 0, 0 }, { "Sinh", RT_SINH, 0, 0, 0 },
	{ "Cosh", RT_COSH, 0, 0, 0 }, { "Asinh", RT_ASINH, 0, 0, 0 }, { "Acosh", RT_ACOSH, 0, 0, 0 },
	{ "Atanh", RT_ATANH, 0, 0, 0 }, { "Softplus", RT_SOFTPLUS, 0, 0, 0 },
	{ "Softsign", RT_SOFTSIGN, 0, 0, 0 }, { "Not", RT_NOT, 0, 0, 1 }, { "IsNaN", RT_ISNAN, 0, 0, 1 },
	{ "IsInf", RT_ISINF, 0, 0, 1 }, { "HardSigmoid", RT_HARDSIGMOID, 0.2, 0.5, 0 },
	{ "LeakyRelu", RT_LEAKYRELU, 0.01, 0, 0 }, { "Elu", RT_ELU, 1.0, 0, 0 },
	{ "Selu", RT_SELU, 1.67326319217681884765625, 1.05070102214813232421875, 0 },
	{ "Celu", RT_CELU, 1.0, 0, 0 }, { "ThresholdedRelu", RT_THRESHRELU, 1.0, 0, 0 },
	{ "HardSwish", RT_HARDSWISH, 0, 0, 0 }, { "Mish", RT_MISH, 0, 0, 0 }, { "Gelu", RT_GELU, 0, 0, 0 },
	{ "BitwiseNot", RT_BITNOT, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};

static const struct {
	const char *name;
	int code;
	int logical;
} binary_ops[] = {
	{ "Add", RT_ADD, 0 }, { "Sub", RT_SUB, 0 }, { "Mul", RT_MUL, 0 }, { "Div", RT_DIV, 0 },
	{ "Pow", RT_POW, 0 }, { "Mod", RT_MOD, 0 }, { "Equal", RT_EQ, 1 }, { "Less", RT_LT, 1 },
	{ "Greater", RT_GT, 1 }, { "LessOrEqual", RT_LE, 1 }, { "GreaterOrEqual", RT_GE, 1 },
	{ "And", RT_AND, 1 }, { "Or", RT_OR, 1 }, { "Xor", RT_XOR, 1 }, { "BitShift", RT_SHL, 0 },
	{ "BitwiseAnd", RT_BITAND, 0 }, { "BitwiseOr", RT_BITOR, 0 }, { "BitwiseXor", RT_BITXOR, 0 },
	{ "PRelu", RT_PRELU, 0 }, { "Max", RT_MAX, 0 }, { "Min", RT_MIN, 0 }, { "Sum", RT_ADD, 0 },
	{ "Mean", RT_ADD, 0 },
	{ NULL, 0, 0 },
};

static int unary_index(const char *op)
{
	for (int i = 0; unary_ops[i].name; i++)
		if (!strcmp(unary_ops[i].name, op))
			return i;
	return -1;
}

static int binary_index(const char *op)
{
	for (int i = 0; binary_ops[i].name; i++)
		if (!strcmp(binary_ops[i].name, op))
			return i;
	return -1;
}

static void binary_call(Graph *g, Node *n, int code, Value *a, Value *b, Value *y);

static void infer_unary(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0];
	int u = unary_index(n->op);
	if (x->dtype == RT_STR)
		node_fatal(n, "string tensors are not supported");
	set_shape(n->out[0], unary_ops[u].logical ? RT_BOOL : x->dtype, x->rank, x->dims);
}

static void lower_unary(Graph *g, Node *n)
{
	int u = unary_index(n->op);
	int code = unary_ops[u].code;
	double a = attr_f(n, "alpha", unary_ops[u].a);
	double b = attr_f(n, !strcmp(n->op, "Selu") ? "gamma" : "beta", unary_ops[u].b);
	if (code == RT_GELU && !strcmp(attr_s(n, "approximate", "none"), "tanh"))
		code = RT_GELU_TANH;
	if (code == RT_ISINF) {
		int pos = (int)attr_i(n, "detect_positive", 1), neg = (int)attr_i(n, "detect_negative", 1);
		code = pos && neg ? RT_ISINF : pos ? RT_ISPOSINF : neg ? RT_ISNEGINF : RT_ISNAN;
		if (!pos && !neg) { /* detects nothing: all false */
			Value *no = const_scalar(g, RT_BOOL, 0);
			binary_call(g, n, RT_AND, no, no, n->out[0]);
			return;
		}
	}
	Call *c = call_new(g, n, "rt_unary");
	call_in(c, n->in[0]);
	call_out(c, n->out[0]);
	call_p(c, code);
	call_p(c, n->in[0]->dtype);
	call_p(c, n->out[0]->dtype);
	call_p(c, numel(n->out[0]));
	call_pf(c, a);
	call_pf(c, b);
}

static void infer_binary(Graph *g, Node *n)
{
	(void)g;
	int b = binary_index(n->op);
	int64_t dims[RT_MAXDIM];
	int rank = n->in[0]->rank;
	memcpy(dims, n->in[0]->dims, sizeof dims);
	for (int i = 1; i < n->nin; i++) {
		Value *v = n->in[i];
		if (!v)
			continue;
		if (v->dtype != n->in[0]->dtype && strcmp(n->op, "Pow") && strcmp(n->op, "BitShift"))
			node_fatal(n, "input %d '%s' is %s, input 0 is %s", i, v->name, dtype_name(v->dtype),
				   dtype_name(n->in[0]->dtype));
		int64_t out[RT_MAXDIM];
		int r = broadcast_shapes(rank, dims, v->rank, v->dims, out);
		if (r < 0)
			node_fatal(n, "input %d '%s' %s does not broadcast with %s", i, v->name, shape_str(v),
				   shape_str(n->in[0]));
		rank = r;
		memcpy(dims, out, sizeof dims);
	}
	if (n->in[0]->dtype == RT_STR)
		node_fatal(n, "string tensors are not supported");
	set_shape(n->out[0], binary_ops[b].logical ? RT_BOOL : n->in[0]->dtype, rank, dims);
}

/* One rt_binary call: y = a op b, broadcast to y's shape. */
static void binary_call(Graph *g, Node *n, int code, Value *a, Value *b, Value *y)
{
	Value *vs[2] = { a, b };
	int64_t dims[RT_MAXDIM], st[2][RT_MAXDIM];
	int nd = bcast_plan(y, vs, 2, dims, st);
	Call *c = call_new(g, n, "rt_binary");
	call_in(c, a);
	call_in(c, b);
	call_out(c, y);
	call_p(c, code);
	call_p(c, a->dtype);
	call_p(c, b->dtype);
	call_p(c, y->dtype);
	call_p(c, nd);
	call_pv(c, dims, nd);
	call_pv(c, st[0], nd);
	call_pv(c, st[1], nd);
}

static void lower_binary(Graph *g, Node *n)
{
	int code = binary_ops[binary_index(n->op)].code;
	Value *y = n->out[0];
	if (!strcmp(n->op, "BitShift"))
		code = !strcmp(attr_s(n, "direction", ""), "LEFT") ? RT_SHL : RT_SHR;
	if (code == RT_MOD && (attr_i(n, "fmod", 0) || rt_is_float(y->dtype)))
		code = RT_FMOD;
	Value *ins[64] = { 0 };
	int k = 0;
	for (int i = 0; i < n->nin && k < 64; i++)
		if (n->in[i])
			ins[k++] = n->in[i];
	if (k == 1) { /* Sum/Max/Min/Mean of one input */
		Value *z = ins[0];
		binary_call(g, n, RT_MAX, z, z, y);
		return;
	}
	/* variadic ops fold left, partial results broadcast to their own shapes */
	Value *acc = ins[0];
	for (int i = 1; i < k; i++) {
		Value *dst = y;
		if (i < k - 1 || !strcmp(n->op, "Mean")) {
			int64_t dims[RT_MAXDIM];
			int r = broadcast_shapes(acc->rank, acc->dims, ins[i]->rank, ins[i]->dims, dims);
			dst = temp_value(g, y->dtype, r, dims);
		}
		binary_call(g, n, code, acc, ins[i], dst);
		acc = dst;
	}
	if (!strcmp(n->op, "Mean"))
		binary_call(g, n, RT_DIV, acc, const_scalar(g, y->dtype, k), y);
}

static void infer_where(Graph *g, Node *n)
{
	(void)g;
	int64_t d1[RT_MAXDIM], d2[RT_MAXDIM];
	if (n->in[0]->dtype != RT_BOOL)
		node_fatal(n, "input 0 '%s' must be bool", n->in[0]->name);
	if (n->in[1]->dtype != n->in[2]->dtype)
		node_fatal(n, "inputs 1 and 2 differ in type (%s, %s)", dtype_name(n->in[1]->dtype),
			   dtype_name(n->in[2]->dtype));
	int r = broadcast_shapes(n->in[0]->rank, n->in[0]->dims, n->in[1]->rank, n->in[1]->dims, d1);
	if (r >= 0)
		r = broadcast_shapes(r, d1, n->in[2]->rank, n->in[2]->dims, d2);
	if (r < 0)
		node_fatal(n, "inputs do not broadcast");
	set_shape(n->out[0], n->in[1]->dtype, r, d2);
}

static void lower_where(Graph *g, Node *n)
{
	int64_t dims[RT_MAXDIM], st[3][RT_MAXDIM];
	int nd = bcast_plan(n->out[0], n->in, 3, dims, st);
	Call *c = call_new(g, n, "rt_where");
	for (int i = 0; i < 3; i++)
		call_in(c, n->in[i]);
	call_out(c, n->out[0]);
	call_p(c, n->out[0]->dtype);
	call_p(c, nd);
	call_pv(c, dims, nd);
	for (int i = 0; i < 3; i++)
		call_pv(c, st[i], nd);
}

static void infer_cast(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0];
	int to = !strcmp(n->op, "CastLike") ? n->in[1]->dtype : (int)attr_i(n, "to", 0);
	if (!rt_dtype_size(to) || !rt_dtype_size(x->dtype))
		node_fatal(n, "cast from %s to type %d is not supported", dtype_name(x->dtype), to);
	set_shape(n->out[0], to, x->rank, x->dims);
}

static void lower_cast(Graph *g, Node *n)
{
	Call *c = call_new(g, n, "rt_cast");
	call_in(c, n->in[0]);
	call_out(c, n->out[0]);
	call_p(c, n->in[0]->dtype);
	call_p(c, n->out[0]->dtype);
	call_p(c, numel(n->out[0]));
}

static void infer_clip(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0];
	for (int i = 1; i < n->nin; i++)
		if (n->in[i] && (numel(n->in[i]) != 1 || n->in[i]->dtype != x->dtype))
			node_fatal(n, "input %d '%s' must be a scalar of the input's type", i, n->in[i]->name);
	set_shape(n->out[0], x->dtype, x->rank, x->dims);
}

static void lower_clip(Graph *g, Node *n)
{
	Value *lo = node_in(n, 1), *hi = node_in(n, 2);
	if (n->opset < 11) { /* min and max were attributes */
		if (attr_get(n, "min"))
			lo = const_scalar(g, n->in[0]->dtype, attr_f(n, "min", 0));
		if (attr_get(n, "max"))
			hi = const_scalar(g, n->in[0]->dtype, attr_f(n, "max", 0));
	}
	Call *c = call_new(g, n, "rt_clip");
	call_in(c, n->in[0]);
	call_in(c, lo);
	call_in(c, hi);
	call_out(c, n->out[0]);
	call_p(c, n->out[0]->dtype);
	call_p(c, numel(n->out[0]));
}

/* Identity and Dropout (inference: the identity) are views of input 0. */
static void infer_identity(Graph *g, Node *n)
{
	(void)g;
	set_shape(n->out[0], n->in[0]->dtype, n->in[0]->rank, n->in[0]->dims);
	if (n->nout > 1) /* Dropout's mask: all true */
		set_shape(n->out[1], RT_BOOL, n->in[0]->rank, n->in[0]->dims);
	n->alias = n->nout == 1;
}

static void lower_identity(Graph *g, Node *n)
{
	Call *c = call_new(g, n, "rt_copy");
	call_in(c, n->in[0]);
	call_out(c, n->out[0]);
	call_p(c, nbytes(n->out[0]));
	if (n->nout > 1) {
		Value *one = const_scalar(g, RT_BOOL, 1);
		binary_call(g, n, RT_AND, one, one, n->out[1]);
	}
}

#define UNARY(name) { name, 1, 1, 1, 1, infer_unary, lower_unary }
#define BINARY(name) { name, 2, 2, 1, 1, infer_binary, lower_binary }
#define VARIADIC(name) { name, 1, 64, 1, 1, infer_binary, lower_binary }

const OpDef ops_elementwise[] = {
	UNARY("Abs"), UNARY("Neg"), UNARY("Exp"), UNARY("Log"), UNARY("Sqrt"), UNARY("Reciprocal"),
	UNARY("Floor"), UNARY("Ceil"), UNARY("Round"), UNARY("Sign"), UNARY("Sigmoid"), UNARY("Tanh"),
	UNARY("Relu"), UNARY("Erf"), UNARY("Sin"), UNARY("Cos"), UNARY("Tan"), UNARY("Asin"),
	UNARY("Acos"), UNARY("Atan"), UNARY("Sinh"), UNARY("Cosh"), UNARY("Asinh"), UNARY("Acosh"),
	UNARY("Atanh"), UNARY("Softplus"), UNARY("Softsign"), UNARY("Not"), UNARY("IsNaN"),
	UNARY("IsInf"), UNARY("HardSigmoid"), UNARY("LeakyRelu"), UNARY("Elu"), UNARY("Selu"),
	UNARY("Celu"), UNARY("ThresholdedRelu"), UNARY("HardSwish"), UNARY("Mish"), UNARY("Gelu"),
	UNARY("BitwiseNot"),
	BINARY("Add"), BINARY("Sub"), BINARY("Mul"), BINARY("Div"), BINARY("Pow"), BINARY("Mod"),
	BINARY("Equal"), BINARY("Less"), BINARY("Greater"), BINARY("LessOrEqual"),
	BINARY("GreaterOrEqual"), BINARY("And"), BINARY("Or"), BINARY("Xor"), BINARY("BitShift"),
	BINARY("BitwiseAnd"), BINARY("BitwiseOr"), BINARY("BitwiseXor"), BINARY("PRelu"),
	VARIADIC("Max"), VARIADIC("Min"), VARIADIC("Sum"), VARIADIC("Mean"),
	{ "Where", 3, 3, 1, 1, infer_where, lower_where },
	{ "Cast", 1, 1, 1, 1, infer_cast, lower_cast },
	{ "CastLike", 2, 2, 1, 1, infer_cast, lower_cast },
	{ "Clip", 1, 3, 1, 1, infer_clip, lower_clip },
	{ "Identity", 1, 1, 1, 1, infer_identity, lower_identity },
	{ "Dropout", 1, 3, 1, 2, infer_identity, lower_identity },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};
