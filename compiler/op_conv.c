/* op_conv.c: Conv, ConvInteger, ConvTranspose, DeformConv, MaxPool,
 * AveragePool, LpPool, GlobalAveragePool, GlobalMaxPool, GlobalLpPool.
 *
 * The shape rules resolve auto_pad, ceil_mode, output_shape and
 * output_padding into one geometry (input, output and kernel dims, strides,
 * dilations, begin and end pads per spatial axis); the lowering passes it to
 * one kernel call in runtime/conv.c, spatial ranks below 3 padded with
 * leading 1s.
 */
#include "gptossc.h"
#include "../runtime/conv.h"

typedef struct {
	int nsp;
	int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
} Geom;

enum { AP_NOTSET, AP_SAME_UPPER, AP_SAME_LOWER, AP_VALID };

static int auto_pad(Node *n)
{
	const char *s = attr_s(n, "auto_pad", "NOTSET");
	if (!strcmp(s, "NOTSET") || !*s)
		return AP_NOTSET;
	if (!strcmp(s, "SAME_UPPER"))
		return AP_SAME_UPPER;
	if (!strcmp(s, "SAME_LOWER"))
		return AP_SAME_LOWER;
	if (!strcmp(s, "VALID"))
		return AP_VALID;
	node_fatal(n, "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", s);
}

/* floor(t / 2) */
static int64_t half_floor(int64_t t)
{
	return t >= 0 ? t / 2 : -((-t + 1) / 2);
}

/* An ints attribute of exactly `cnt` values, or `def` everywhere when absent. */
static void ints_attr(Node *n, const char *name, int cnt, int64_t def, int64_t lo, int64_t *out)
{
	int64_t v[4 * RT_MAXDIM];
	int c = attr_ints(n, name, v, 4 * RT_MAXDIM);
	if (c < 0) {
		for (int i = 0; i < cnt; i++)
			out[i] = def;
		return;
	}
	if (c != cnt)
		node_fatal(n, "attribute '%s' has %d values, expected %d", name, c, cnt);
	for (int i = 0; i < cnt; i++) {
		if (v[i] < lo)
			node_fatal(n, "attribute '%s' value %lld is below %lld", name, (long long)v[i], (long long)lo);
		out[i] = v[i];
	}
}

/* Kernel dims (attribute, else kdims), strides, dilations and explicit pads. */
static void geom_attrs(Node *n, const Value *x, const int64_t *kdims, Geom *ge)
{
	memset(ge, 0, sizeof *ge);
	int nsp = x->rank - 2;
	if (nsp < 1 || nsp > 3)
		node_fatal(n, "input 0 '%s' has rank %d: 1 to 3 spatial dims are supported", x->name, x->rank);
	ge->nsp = nsp;
	int64_t k[3], pads[6];
	if (attr_get(n, "kernel_shape")) {
		ints_attr(n, "kernel_shape", nsp, 1, 1, k);
		for (int i = 0; kdims && i < nsp; i++)
			if (k[i] != kdims[i])
				node_fatal(n, "kernel_shape[%d] = %lld does not match the weights' %lld", i, (long long)k[i],
					   (long long)kdims[i]);
	} else if (kdims) {
		memcpy(k, kdims, nsp * sizeof *k);
	} else {
		node_fatal(n, "attribute 'kernel_shape' is required");
	}
	ints_attr(n, "strides", nsp, 1, 1, ge->s);
	ints_attr(n, "dilations", nsp, 1, 1, ge->d);
	ints_attr(n, "pads", 2 * nsp, 0, 0, pads);
	for (int i = 0; i < nsp; i++) {
		ge->in[i] = x->dims[2 + i];
		ge->k[i] = k[i];
		ge->pb[i] = pads[i];
		ge->pe[i] = pads[nsp + i];
	}
}

/* Output dims of a convolution or pool (auto_pad, ceil_mode). */
static void geom_forward(Node *n, Geom *ge, int ceil_mode)
{
	int ap = auto_pad(n);
	const int64_t big = (int64_t)1 << 31; /* keeps the arithmetic below from overflowing */
	for (int i = 0; i < ge->nsp; i++)
		if (ge->k[i] < 1 || ge->k[i] > big || ge->d[i] < 1 || ge->d[i] > big || ge->s[i] < 1 || ge->s[i] > big ||
		    ge->pb[i] < 0 || ge->pb[i] > big || ge->pe[i] < 0 || ge->pe[i] > big)
			node_fatal(n, "spatial axis %d: kernel %lld, stride %lld, dilation %lld, pads %lld,%lld: out of range", i,
				   (long long)ge->k[i], (long long)ge->s[i], (long long)ge->d[i], (long long)ge->pb[i],
				   (long long)ge->pe[i]);
	for (int i = 0; i < ge->nsp; i++) {
		int64_t ek = (ge->k[i] - 1) * ge->d[i] + 1, in = ge->in[i], s = ge->s[i], num;
		if (ap == AP_SAME_UPPER || ap == AP_SAME_LOWER) {
			ge->out[i] = (in + s - 1) / s;
			int64_t total = (ge->out[i] - 1) * s + ek - in;
			if (total < 0)
				total = 0;
			ge->pb[i] = ap == AP_SAME_UPPER ? total / 2 : total - total / 2;
			ge->pe[i] = total - ge->pb[i];
			continue;
		}
		if (ap == AP_VALID)
			ge->pb[i] = ge->pe[i] = 0;
		num = in + ge->pb[i] + ge->pe[i] - ek;
		if (num < 0)
			node_fatal(n, "spatial axis %d: the kernel (extent %lld) is larger than the padded input (%lld)", i,
				   (long long)ek, (long long)(in + ge->pb[i] + ge->pe[i]));
		ge->out[i] = (ceil_mode ? (num + s - 1) / s : num / s) + 1;
		if (ceil_mode && (ge->out[i] - 1) * s >= in + ge->pb[i]) /* last window would start in the end pad */
			ge->out[i]--;
	}
}

/* The geometry block of conv.h, spatial dims padded to 3 with leading 1s. */
static void geom_params(Call *c, const Geom *ge, int with_end)
{
	const int64_t *f[7] = { ge->in, ge->out, ge->k, ge->s, ge->d, ge->pb, ge->pe };
	int pad = RT_CONV_NSP - ge->nsp;
	for (int j = 0; j < (with_end ? 7 : 6); j++)
		for (int i = 0; i < RT_CONV_NSP; i++)
			call_p(c, i < pad ? (j == 5 || j == 6 ? 0 : 1) : f[j][i - pad]);
}

static void float_type(Node *n, int i, const Value *v)
{
	if (v->dtype != RT_F32 && v->dtype != RT_F16 && v->dtype != RT_F64 && v->dtype != RT_BF16)
		node_fatal(n, "input %d '%s' is %s, expected a float type", i, v->name, dtype_name(v->dtype));
}

static void same_type(Node *n, int i, const Value *v, const Value *x)
{
	if (v->dtype != x->dtype)
		node_fatal(n, "input %d '%s' is %s, input 0 is %s", i, v->name, dtype_name(v->dtype),
			   dtype_name(x->dtype));
}

/* ---- Conv, ConvInteger ---- */

static int64_t group_of(Node *n, int64_t C, int64_t M, int64_t wc, int transpose)
{
	int64_t G = attr_i(n, "group", 1);
	if (G < 1)
		node_fatal(n, "group %lld must be positive", (long long)G);
	if (!transpose && (C != wc * G || M % G))
		node_fatal(n, "input 0 has %lld channels, weights %lld per group x %lld groups for %lld outputs",
			   (long long)C, (long long)wc, (long long)G, (long long)M);
	if (transpose && C % G)
		node_fatal(n, "input 0 has %lld channels, not divisible by group %lld", (long long)C, (long long)G);
	return G;
}

static void conv_geom(Node *n, Geom *ge)
{
	Value *x = n->in[0], *w = n->in[1];
	need_rank(n, 0, 3, 5);
	if (w->rank != x->rank)
		node_fatal(n, "input 1 '%s' (weights) has rank %d, input 0 has rank %d", w->name, w->rank, x->rank);
	geom_attrs(n, x, w->dims + 2, ge);
	geom_forward(n, ge, 0);
}

static void infer_conv(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0], *w = n->in[1], *b = node_in(n, 2);
	int integer = !strcmp(n->op, "ConvInteger");
	Geom ge;
	conv_geom(n, &ge);
	int64_t M = w->dims[0];
	group_of(n, x->dims[1], M, w->dims[1], 0);
	if (integer) {
		for (int i = 0; i < 2; i++)
			if (n->in[i]->dtype != RT_U8 && n->in[i]->dtype != RT_I8)
				node_fatal(n, "input %d '%s' is %s, expected uint8 or int8", i, n->in[i]->name,
					   dtype_name(n->in[i]->dtype));
		Value *xz = node_in(n, 2), *wz = node_in(n, 3);
		if (xz && (numel(xz) != 1 || xz->dtype != x->dtype))
			node_fatal(n, "input 2 'x_zero_point' must be a scalar of input 0's type");
		if (wz && ((numel(wz) != 1 && numel(wz) != M) || wz->dtype != w->dtype))
			node_fatal(n, "input 3 'w_zero_point' must have 1 or %lld values of input 1's type", (long long)M);
	} else {
		float_type(n, 0, x);
		same_type(n, 1, w, x);
		if (b) {
			same_type(n, 2, b, x);
			if (b->rank != 1 || b->dims[0] != M)
				node_fatal(n, "input 2 '%s' (bias) is %s, expected [%lld]", b->name, shape_str(b), (long long)M);
		}
	}
	int64_t dims[RT_MAXDIM] = { x->dims[0], M };
	for (int i = 0; i < ge.nsp; i++)
		dims[2 + i] = ge.out[i];
	set_shape(n->out[0], integer ? RT_I32 : x->dtype, x->rank, dims);
}

static void conv_header(Call *c, Node *n, int dtx, int dtw, int dty, int64_t N, int64_t C, int64_t M, int64_t G,
			int64_t extra)
{
	(void)n;
	call_p(c, dtx);
	call_p(c, dtw);
	call_p(c, dty);
	call_p(c, N);
	call_p(c, C);
	call_p(c, M);
	call_p(c, G);
	call_p(c, extra);
}

static void lower_conv(Graph *g, Node *n)
{
	Value *x = n->in[0], *w = n->in[1], *y = n->out[0];
	int integer = !strcmp(n->op, "ConvInteger");
	Geom ge;
	conv_geom(n, &ge);
	Value *wz = integer ? node_in(n, 3) : NULL;
	Call *c = call_new(g, n, "rt_conv");
	call_in(c, x);
	call_in(c, w);
	call_in(c, integer ? NULL : node_in(n, 2));
	call_in(c, integer ? node_in(n, 2) : NULL);
	call_in(c, wz);
	call_out(c, y);
	conv_header(c, n, x->dtype, w->dtype, y->dtype, x->dims[0], x->dims[1], w->dims[0],
		    attr_i(n, "group", 1), wz ? numel(wz) : 0);
	geom_params(c, &ge, 0);
}

/* ---- ConvTranspose ---- */

static void convt_geom(Node *n, Geom *ge)
{
	Value *x = n->in[0], *w = n->in[1];
	need_rank(n, 0, 3, 5);
	if (w->rank != x->rank)
		node_fatal(n, "input 1 '%s' (weights) has rank %d, input 0 has rank %d", w->name, w->rank, x->rank);
	geom_attrs(n, x, w->dims + 2, ge);
	int nsp = ge->nsp, ap = auto_pad(n);
	int64_t opad[3], os[RT_MAXDIM + 2];
	ints_attr(n, "output_padding", nsp, 0, 0, opad);
	int nos = attr_ints(n, "output_shape", os, RT_MAXDIM + 2);
	if (nos >= 0 && nos != nsp && nos != nsp + 2)
		node_fatal(n, "attribute 'output_shape' has %d values, expected %d", nos, nsp);
	for (int i = 0; i < nsp; i++) {
		int64_t ek = (ge->k[i] - 1) * ge->d[i] + 1, full = ge->s[i] * (ge->in[i] - 1) + opad[i] + ek;
		if (nos >= 0 || ap == AP_SAME_UPPER || ap == AP_SAME_LOWER) {
			ge->out[i] = nos >= 0 ? os[nos - nsp + i] : ge->in[i] * ge->s[i];
			int64_t total = full - ge->out[i];
			ge->pb[i] = ap == AP_SAME_UPPER ? half_floor(total) : total - half_floor(total);
			ge->pe[i] = total - ge->pb[i];
		} else {
			if (ap == AP_VALID)
				ge->pb[i] = ge->pe[i] = 0;
			ge->out[i] = full - ge->pb[i] - ge->pe[i];
		}
		if (ge->out[i] < 0)
			node_fatal(n, "spatial axis %d: output size %lld is negative", i, (long long)ge->out[i]);
	}
}

static void infer_convt(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0], *w = n->in[1], *b = node_in(n, 2);
	Geom ge;
	convt_geom(n, &ge);
	float_type(n, 0, x);
	same_type(n, 1, w, x);
	int64_t G = group_of(n, x->dims[1], 0, 0, 1);
	if (w->dims[0] != x->dims[1])
		node_fatal(n, "input 1 '%s' (weights) %s: dim 0 must be input 0's %lld channels", w->name, shape_str(w),
			   (long long)x->dims[1]);
	int64_t M = w->dims[1] * G;
	if (b) {
		same_type(n, 2, b, x);
		if (b->rank != 1 || b->dims[0] != M)
			node_fatal(n, "input 2 '%s' (bias) is %s, expected [%lld]", b->name, shape_str(b), (long long)M);
	}
	int64_t dims[RT_MAXDIM] = { x->dims[0], M };
	for (int i = 0; i < ge.nsp; i++)
		dims[2 + i] = ge.out[i];
	set_shape(n->out[0], x->dtype, x->rank, dims);
}

static void lower_convt(Graph *g, Node *n)
{
	Value *x = n->in[0], *w = n->in[1], *y = n->out[0];
	Geom ge;
	convt_geom(n, &ge);
	Call *c = call_new(g, n, "rt_convt");
	call_in(c, x);
	call_in(c, w);
	call_in(c, node_in(n, 2));
	call_out(c, y);
	conv_header(c, n, x->dtype, x->dtype, x->dtype, x->dims[0], x->dims[1], y->dims[1], attr_i(n, "group", 1), 0);
	geom_params(c, &ge, 0);
}

/* ---- DeformConv: X, W, offset, B?, mask? ---- */

static void infer_deform(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0], *w = n->in[1], *off = n->in[2], *b = node_in(n, 3), *mask = node_in(n, 4);
	need_rank(n, 0, 4, 4);
	if (w->rank != 4)
		node_fatal(n, "input 1 '%s' (weights) must have rank 4", w->name);
	Geom ge;
	geom_attrs(n, x, w->dims + 2, &ge);
	geom_forward(n, &ge, 0);
	float_type(n, 0, x);
	int64_t M = w->dims[0], OG = attr_i(n, "offset_group", 1), KS = ge.k[0] * ge.k[1];
	group_of(n, x->dims[1], M, w->dims[1], 0);
	if (OG < 1 || x->dims[1] % OG)
		node_fatal(n, "offset_group %lld does not divide the %lld channels", (long long)OG, (long long)x->dims[1]);
	int64_t od[4] = { x->dims[0], OG * 2 * KS, ge.out[0], ge.out[1] };
	same_type(n, 1, w, x);
	same_type(n, 2, off, x);
	if (off->rank != 4 || memcmp(off->dims, od, sizeof od))
		node_fatal(n, "input 2 '%s' (offset) is %s, expected [%lld,%lld,%lld,%lld]", off->name, shape_str(off),
			   (long long)od[0], (long long)od[1], (long long)od[2], (long long)od[3]);
	if (b) {
		same_type(n, 3, b, x);
		if (numel(b) != M)
			node_fatal(n, "input 3 '%s' (bias) is %s, expected [%lld]", b->name, shape_str(b), (long long)M);
	}
	if (mask) {
		same_type(n, 4, mask, x);
		od[1] = OG * KS;
		if (mask->rank != 4 || memcmp(mask->dims, od, sizeof od))
			node_fatal(n, "input 4 '%s' (mask) is %s, expected [%lld,%lld,%lld,%lld]", mask->name,
				   shape_str(mask), (long long)od[0], (long long)od[1], (long long)od[2],
				   (long long)od[3]);
	}
	int64_t dims[4] = { x->dims[0], M, ge.out[0], ge.out[1] };
	set_shape(n->out[0], x->dtype, 4, dims);
}

static void lower_deform(Graph *g, Node *n)
{
	Value *x = n->in[0], *w = n->in[1];
	Geom ge;
	geom_attrs(n, x, w->dims + 2, &ge);
	geom_forward(n, &ge, 0);
	Call *c = call_new(g, n, "rt_deform");
	call_in(c, x);
	call_in(c, w);
	call_in(c, n->in[2]);
	call_in(c, node_in(n, 3));
	call_in(c, node_in(n, 4));
	call_out(c, n->out[0]);
	conv_header(c, n, x->dtype, attr_i(n, "offset_group", 1), 0, x->dims[0], x->dims[1], w->dims[0],
		    attr_i(n, "group", 1), 0);
	geom_params(c, &ge, 0);
}

/* ---- pools ---- */

static int is_global(const Node *n)
{
	return !strncmp(n->op, "Global", 6);
}

static int pool_op(const Node *n)
{
	const char *op = n->op + (is_global(n) ? 6 : 0);
	return !strcmp(op, "MaxPool") ? RT_CONV_POOL_MAX : !strcmp(op, "AveragePool") ? RT_CONV_POOL_AVG : RT_CONV_POOL_LP;
}

/* LpPool's p: an int since opset 2, a float before */
static double lp_norm(Node *n)
{
	Onnx__AttributeProto *a = attr_get(n, "p");
	double p = a && a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT ? attr_f(n, "p", 2) : (double)attr_i(n, "p", 2);
	if (!(p > 0))
		node_fatal(n, "attribute 'p' must be positive");
	return p;
}

static void pool_geom(Node *n, Geom *ge)
{
	Value *x = n->in[0];
	need_rank(n, 0, 3, 5);
	if (is_global(n)) {
		memset(ge, 0, sizeof *ge);
		ge->nsp = x->rank - 2;
		for (int i = 0; i < ge->nsp; i++) {
			ge->in[i] = ge->k[i] = x->dims[2 + i];
			ge->out[i] = ge->s[i] = ge->d[i] = 1;
		}
		return;
	}
	geom_attrs(n, x, NULL, ge);
	geom_forward(n, ge, (int)attr_i(n, "ceil_mode", 0));
}

static void infer_pool(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0];
	Geom ge;
	pool_geom(n, &ge);
	int op = pool_op(n);
	if (op == RT_CONV_POOL_MAX) {
		if (x->dtype != RT_U8 && x->dtype != RT_I8 && !rt_is_float(x->dtype))
			node_fatal(n, "input 0 '%s' is %s, expected a float type, uint8 or int8", x->name,
				   dtype_name(x->dtype));
	} else {
		float_type(n, 0, x);
	}
	int64_t dims[RT_MAXDIM] = { x->dims[0], x->dims[1] };
	for (int i = 0; i < ge.nsp; i++)
		dims[2 + i] = ge.out[i];
	set_shape(n->out[0], x->dtype, x->rank, dims);
	if (n->nout > 1)
		set_shape(n->out[1], RT_I64, x->rank, dims);
}

static void lower_pool(Graph *g, Node *n)
{
	Value *x = n->in[0];
	Geom ge;
	pool_geom(n, &ge);
	int op = pool_op(n);
	Call *c = call_new(g, n, "rt_pool");
	call_in(c, x);
	call_out(c, n->out[0]);
	call_out(c, n->nout > 1 ? n->out[1] : NULL);
	call_p(c, op);
	call_p(c, x->dtype);
	call_p(c, x->dims[0] * x->dims[1]);
	call_p(c, op == RT_CONV_POOL_AVG && !is_global(n) ? attr_i(n, "count_include_pad", 0) : 0);
	call_p(c, op == RT_CONV_POOL_MAX && !is_global(n) ? attr_i(n, "storage_order", 0) : 0);
	call_pf(c, op == RT_CONV_POOL_LP ? lp_norm(n) : 0);
	geom_params(c, &ge, 1);
}

/* ---- QLinearConv: x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B? ---- */

static void qconv_geom(Node *n, Geom *ge)
{
	Value *x = n->in[0], *w = n->in[3];
	need_rank(n, 0, 3, 5);
	if (w->rank != x->rank)
		node_fatal(n, "input 3 '%s' (weights) has rank %d, input 0 has rank %d", w->name, w->rank, x->rank);
	geom_attrs(n, x, w->dims + 2, ge);
	geom_forward(n, ge, 0);
}

static void infer_qconv(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0], *w = n->in[3], *yz = node_in(n, 7), *b = node_in(n, 8);
	Geom ge;
	qconv_geom(n, &ge);
	int64_t M = w->dims[0];
	group_of(n, x->dims[1], M, w->dims[1], 0);
	static const int qin[] = { 0, 3 };
	for (int i = 0; i < 2; i++)
		if (n->in[qin[i]]->dtype != RT_U8 && n->in[qin[i]]->dtype != RT_I8)
			node_fatal(n, "input %d '%s' is %s, expected uint8 or int8", qin[i], n->in[qin[i]]->name,
				   dtype_name(n->in[qin[i]]->dtype));
	static const int scales[] = { 1, 4, 6 };
	for (int i = 0; i < 3; i++) {
		Value *s = node_in(n, scales[i]);
		if (!s || s->dtype != RT_F32 || (numel(s) != 1 && !(scales[i] == 4 && numel(s) == M)))
			node_fatal(n, "input %d (scale) must be a float32 scalar%s", scales[i],
				   scales[i] == 4 ? " or have one value per output channel" : "");
	}
	Value *xz = node_in(n, 2), *wz = node_in(n, 5);
	if (xz && (numel(xz) != 1 || xz->dtype != x->dtype))
		node_fatal(n, "input 2 'x_zero_point' must be a scalar of input 0's type");
	if (wz && ((numel(wz) != 1 && numel(wz) != M) || wz->dtype != w->dtype))
		node_fatal(n, "input 5 'w_zero_point' must have 1 or %lld values of input 3's type", (long long)M);
	if (yz && (numel(yz) != 1 || (yz->dtype != RT_U8 && yz->dtype != RT_I8)))
		node_fatal(n, "input 7 'y_zero_point' must be a uint8 or int8 scalar");
	if (b && (b->dtype != RT_I32 || numel(b) != M))
		node_fatal(n, "input 8 '%s' (bias) must be int32 [%lld]", b->name, (long long)M);
	int64_t dims[RT_MAXDIM] = { x->dims[0], M };
	for (int i = 0; i < ge.nsp; i++)
		dims[2 + i] = ge.out[i];
	set_shape(n->out[0], yz ? yz->dtype : RT_U8, x->rank, dims);
}

static void lower_qconv(Graph *g, Node *n)
{
	Value *x = n->in[0], *w = n->in[3], *y = n->out[0], *wz = node_in(n, 5), *ws = n->in[4];
	Geom ge;
	qconv_geom(n, &ge);
	Value *acc = temp_value(g, RT_I32, y->rank, y->dims);
	Call *c = call_new(g, n, "rt_conv");
	call_in(c, x);
	call_in(c, w);
	call_in(c, NULL);
	call_in(c, node_in(n, 2));
	call_in(c, wz);
	call_out(c, acc);
	conv_header(c, n, x->dtype, w->dtype, RT_I32, x->dims[0], x->dims[1], w->dims[0], attr_i(n, "group", 1),
		    wz ? numel(wz) : 0);
	geom_params(c, &ge, 0);
	c = call_new(g, n, "rt_conv_requant");
	call_in(c, acc);
	call_in(c, node_in(n, 8));
	call_in(c, n->in[1]);
	call_in(c, ws);
	call_in(c, n->in[6]);
	call_in(c, node_in(n, 7));
	call_out(c, y);
	call_p(c, y->dims[0]);
	call_p(c, y->dims[1]);
	int64_t nm = y->dims[0] * y->dims[1];
	call_p(c, nm ? numel(y) / nm : 0);
	call_p(c, numel(ws));
	call_p(c, y->dtype);
}

/* ---- MaxUnpool: X, I, output_shape? ---- */

/* The unpooled shape implied by kernel_shape, strides and pads. */
static void maxunpool_default(Node *n, int64_t *dims)
{
	Value *x = n->in[0];
	Geom ge;
	geom_attrs(n, x, NULL, &ge);
	dims[0] = x->dims[0];
	dims[1] = x->dims[1];
	for (int i = 0; i < ge.nsp; i++)
		dims[2 + i] = (ge.in[i] - 1) * ge.s[i] + ge.k[i] - ge.pb[i] - ge.pe[i];
}

static void infer_maxunpool(Graph *g, Node *n)
{
	Value *x = n->in[0], *ind = n->in[1], *os = node_in(n, 2);
	need_rank(n, 0, 3, 2 + RT_CONV_NSP);
	if (ind->dtype != RT_I64 || ind->rank != x->rank || memcmp(ind->dims, x->dims, x->rank * sizeof *x->dims))
		node_fatal(n, "input 1 '%s' (indices) must be int64 of input 0's shape %s", ind->name, shape_str(x));
	if (!rt_dtype_size(x->dtype))
		node_fatal(n, "input 0 '%s' has unsupported type %s", x->name, dtype_name(x->dtype));
	int64_t dims[RT_MAXDIM];
	maxunpool_default(n, dims);
	if (os) {
		if (!value_is_const(os))
			node_fatal(n, "input 2 'output_shape' ('%s') must be constant after folding", os->name);
		if (numel(os) != x->rank)
			node_fatal(n, "input 2 'output_shape' has %lld values, expected %d", (long long)numel(os), x->rank);
		for (int i = 0; i < x->rank; i++)
			dims[i] = const_int(g, os, i);
	}
	set_shape(n->out[0], x->dtype, x->rank, dims);
}

static void lower_maxunpool(Graph *g, Node *n)
{
	Value *x = n->in[0], *y = n->out[0];
	int64_t sd[RT_MAXDIM];
	maxunpool_default(n, sd);
	Call *c = call_new(g, n, "rt_maxunpool");
	call_in(c, x);
	call_in(c, n->in[1]);
	call_out(c, y);
	call_p(c, rt_dtype_size(x->dtype));
	call_p(c, numel(x));
	call_p(c, x->rank);
	call_pv(c, sd, x->rank);
	call_pv(c, y->dims, x->rank);
}

/* ---- CausalConvWithState: input [N,C,L], weight [C,1,K], bias?, past_state? ---- */

static int causal_silu(Node *n)
{
	const char *a = attr_s(n, "activation", "none");
	if (!strcmp(a, "silu") || !strcmp(a, "swish"))
		return 1;
	if (!*a || !strcmp(a, "none") || !strcmp(a, "NONE"))
		return 0;
	node_fatal(n, "activation '%s' is not supported (none, silu, swish)", a);
}

static void infer_causal(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0], *w = n->in[1], *b = node_in(n, 2), *s = node_in(n, 3);
	need_rank(n, 0, 3, 3);
	float_type(n, 0, x);
	same_type(n, 1, w, x);
	int64_t C = x->dims[1];
	if (w->rank != 3 || w->dims[0] != C || w->dims[1] != 1 || w->dims[2] < 1)
		node_fatal(n, "input 1 '%s' (weight) is %s, expected [%lld,1,K]", w->name, shape_str(w), (long long)C);
	int64_t K = w->dims[2];
	int64_t sd[3] = { x->dims[0], C, K - 1 };
	if (b) {
		same_type(n, 2, b, x);
		if (numel(b) != C)
			node_fatal(n, "input 2 '%s' (bias) is %s, expected [%lld]", b->name, shape_str(b), (long long)C);
	}
	if (s) {
		same_type(n, 3, s, x);
		if (s->rank != 3 || memcmp(s->dims, sd, sizeof sd))
			node_fatal(n, "input 3 '%s' (past_state) is %s, expected [%lld,%lld,%lld]", s->name, shape_str(s),
				   (long long)sd[0], (long long)sd[1], (long long)sd[2]);
	}
	causal_silu(n);
	set_shape(n->out[0], x->dtype, 3, x->dims);
	if (n->nout > 1)
		set_shape(n->out[1], x->dtype, 3, sd);
}

static void lower_causal(Graph *g, Node *n)
{
	Value *x = n->in[0];
	Value *ps = n->nout > 1 ? n->out[1] : NULL;
	int64_t sd[3] = { x->dims[0], x->dims[1], n->in[1]->dims[2] - 1 };
	if (!ps)
		ps = temp_value(g, x->dtype, 3, sd);
	Call *c = call_new(g, n, "rt_causal_conv");
	call_in(c, x);
	call_in(c, n->in[1]);
	call_in(c, node_in(n, 2));
	call_in(c, node_in(n, 3));
	call_out(c, n->out[0]);
	call_out(c, ps);
	call_p(c, x->dtype);
	call_pv(c, x->dims, 3);
	call_p(c, n->in[1]->dims[2]);
	call_p(c, causal_silu(n));
}

#define POOL(name) { name, 1, 1, 1, 1, infer_pool, lower_pool }

const OpDef ops_conv[] = {
	{ "Conv", 2, 3, 1, 1, infer_conv, lower_conv },
	{ "ConvInteger", 2, 4, 1, 1, infer_conv, lower_conv },
	{ "ConvTranspose", 2, 3, 1, 1, infer_convt, lower_convt },
	{ "DeformConv", 3, 5, 1, 1, infer_deform, lower_deform },
	{ "MaxPool", 1, 1, 1, 2, infer_pool, lower_pool },
	POOL("AveragePool"),
	POOL("LpPool"),
	POOL("GlobalAveragePool"),
	POOL("GlobalMaxPool"),
	POOL("GlobalLpPool"),
	{ "QLinearConv", 8, 9, 1, 1, infer_qconv, lower_qconv },
	{ "MaxUnpool", 2, 3, 1, 1, infer_maxunpool, lower_maxunpool },
	{ "CausalConvWithState", 2, 4, 1, 2, infer_causal, lower_causal },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};
