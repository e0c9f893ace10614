/* op_loss.c: NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss, and a few
 * leftovers: Compress (constant condition), QuantizeLinear,
 * DequantizeLinear, DynamicQuantizeLinear, Resize (constant scales/sizes).
 * Kernels in runtime/loss.c.
 */
#include "gptossc.h"
#include <math.h>

static int is_loss_float(int dt)
{
	return dt == RT_F32 || dt == RT_F64 || dt == RT_F16 || dt == RT_BF16;
}

static int reduction_code(Node *n)
{
	const char *r = attr_s(n, "reduction", "mean");
	if (!strcmp(r, "none"))
		return 0;
	if (!strcmp(r, "sum"))
		return 1;
	if (!strcmp(r, "mean"))
		return 2;
	node_fatal(n, "reduction '%s' is not one of none, sum, mean", r);
}

/* ---- NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss ---- */

static void infer_loss(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0], *tg = n->in[1], *w = node_in(n, 2);
	if (!is_loss_float(x->dtype))
		node_fatal(n, "input 0 '%s' must be a float tensor, not %s", x->name, dtype_name(x->dtype));
	need_rank(n, 0, 2, RT_MAXDIM);
	if (tg->dtype != RT_I32 && tg->dtype != RT_I64)
		node_fatal(n, "input 1 '%s' (target) must be int32 or int64, not %s", tg->name, dtype_name(tg->dtype));
	if (tg->rank != x->rank - 1 || tg->dims[0] != x->dims[0])
		node_fatal(n, "input 1 '%s' %s does not match input 0 %s (expected [N, d1, ...])", tg->name,
			   shape_str(tg), shape_str(x));
	for (int i = 1; i < tg->rank; i++)
		if (tg->dims[i] != x->dims[i + 1])
			node_fatal(n, "input 1 '%s' %s does not match input 0 %s", tg->name, shape_str(tg),
				   shape_str(x));
	if (w && (w->rank != 1 || w->dims[0] != x->dims[1] || w->dtype != x->dtype))
		node_fatal(n, "input 2 '%s' (weight) must be [%lld] of %s", w->name, (long long)x->dims[1],
			   dtype_name(x->dtype));
	if (reduction_code(n) == 0)
		set_shape(n->out[0], x->dtype, tg->rank, tg->dims);
	else
		set_shape(n->out[0], x->dtype, 0, NULL);
	if (n->nout > 1)
		set_shape(n->out[1], x->dtype, x->rank, x->dims);
}

static void lower_loss(Graph *g, Node *n)
{
	Value *x = n->in[0], *lp = x;
	int64_t N = x->dims[0], C = x->dims[1], D = 1;
	for (int i = 2; i < x->rank; i++)
		D *= x->dims[i];
	if (!strcmp(n->op, "SoftmaxCrossEntropyLoss")) {
		lp = n->nout > 1 ? n->out[1] : temp_value(g, x->dtype, x->rank, x->dims);
		Call *c = call_new(g, n, "rt_logsoftmax_mid");
		call_in(c, x);
		call_out(c, lp);
		call_p(c, x->dtype);
		call_p(c, N);
		call_p(c, C);
		call_p(c, D);
	}
	Onnx__AttributeProto *ii = attr_get(n, "ignore_index");
	Call *c = call_new(g, n, "rt_nllloss");
	call_in(c, lp);
	call_in(c, n->in[1]);
	call_in(c, node_in(n, 2));
	call_out(c, n->out[0]);
	call_p(c, x->dtype);
	call_p(c, n->in[1]->dtype);
	call_p(c, N);
	call_p(c, C);
	call_p(c, D);
	call_p(c, reduction_code(n));
	call_p(c, ii ? attr_i(n, "ignore_index", 0) : 0);
	call_p(c, ii != NULL);
}

/* ---- Compress ---- */

static void infer_compress(Graph *g, Node *n)
{
	Value *x = n->in[0], *cond = n->in[1];
	if (cond->dtype != RT_BOOL || cond->rank != 1)
		node_fatal(n, "input 1 '%s' (condition) must be a 1-D bool tensor", cond->name);
	if (!value_is_const(cond))
		node_fatal(n, "input 1 '%s' (condition) must be constant after folding (it sets the output shape)",
			   cond->name);
	if (!rt_dtype_size(x->dtype))
		node_fatal(n, "input 0 '%s': %s is not supported", x->name, dtype_name(x->dtype));
	Onnx__AttributeProto *ax = attr_get(n, "axis");
	int64_t len = ax ? x->dims[norm_axis(n, attr_i(n, "axis", 0), x->rank)] : numel(x);
	int64_t cnt = 0;
	for (int64_t i = 0; i < cond->dims[0] && i < len; i++)
		cnt += const_int(g, cond, i) != 0;
	if (!ax) {
		set_shape(n->out[0], x->dtype, 1, &cnt);
		return;
	}
	int64_t dims[RT_MAXDIM];
	memcpy(dims, x->dims, sizeof dims);
	dims[norm_axis(n, attr_i(n, "axis", 0), x->rank)] = cnt;
	set_shape(n->out[0], x->dtype, x->rank, dims);
}

static void lower_compress(Graph *g, Node *n)
{
	Value *x = n->in[0];
	int64_t outer = 1, A = numel(x), inner = 1;
	if (attr_get(n, "axis")) {
		int64_t a = norm_axis(n, attr_i(n, "axis", 0), x->rank);
		outer = 1;
		for (int i = 0; i < a; i++)
			outer *= x->dims[i];
		A = x->dims[a];
		for (int i = a + 1; i < x->rank; i++)
			inner *= x->dims[i];
	}
	Call *c = call_new(g, n, "rt_compress");
	call_in(c, x);
	call_in(c, n->in[1]);
	call_out(c, n->out[0]);
	call_p(c, rt_dtype_size(x->dtype));
	call_p(c, outer);
	call_p(c, A);
	call_p(c, inner);
	call_p(c, n->in[1]->dims[0]);
}

/* ---- QuantizeLinear / DequantizeLinear ---- */

static int quant_int_type(int dt)
{
	return dt == RT_U8 || dt == RT_I8 || dt == RT_U16 || dt == RT_I16;
}

static int quant_out_type(Node *n)
{
	Value *zp = node_in(n, 2);
	int dt = zp ? zp->dtype : (int)attr_i(n, "output_dtype", 0);
	if (!dt)
		dt = RT_U8;
	if (!quant_int_type(dt))
		node_fatal(n, "quantized type %s is not supported (int8, uint8, int16, uint16 only)",
			   dtype_name(dt));
	return dt;
}

/* The scale's layout: per tensor, per axis, or blocked. */
typedef struct {
	int64_t outer, A, inner, blk, so, sa, si;
} QPlan;

static QPlan quant_plan(Node *n, Value *x, Value *scale)
{
	QPlan q = { 1, numel(x), 1, 1, 0, 0, 0 };
	int64_t bs = attr_i(n, "block_size", 0);
	Value *zp = node_in(n, 2);
	if (zp && (zp->rank != scale->rank || numel(zp) != numel(scale)))
		node_fatal(n, "input 2 '%s' (zero point) %s must have the shape of the scale %s", zp->name,
			   shape_str(zp), shape_str(scale));
	if (scale->rank == 0 || (bs <= 0 && numel(scale) == 1 && scale->rank <= 1))
		return q;
	int64_t a = norm_axis(n, attr_i(n, "axis", 1), x->rank);
	q.outer = 1;
	for (int i = 0; i < a; i++)
		q.outer *= x->dims[i];
	q.A = x->dims[a];
	q.inner = 1;
	for (int i = a + 1; i < x->rank; i++)
		q.inner *= x->dims[i];
	if (bs <= 0) {
		if (scale->rank != 1 || scale->dims[0] != q.A)
			node_fatal(n, "input 1 '%s' (scale) %s must be a scalar or [%lld] for axis %lld", scale->name,
				   shape_str(scale), (long long)q.A, (long long)a);
		q.sa = 1;
		return q;
	}
	if (scale->rank != x->rank)
		node_fatal(n, "input 1 '%s' (scale) %s must have the rank of input 0 for block_size %lld",
			   scale->name, shape_str(scale), (long long)bs);
	for (int i = 0; i < x->rank; i++) {
		int64_t want = i == a ? x->dims[i] / bs + (x->dims[i] % bs != 0) : x->dims[i]; /* no overflow */
		if (scale->dims[i] != want)
			node_fatal(n, "input 1 '%s' (scale) %s does not match input 0 %s with block_size %lld",
				   scale->name, shape_str(scale), shape_str(x), (long long)bs);
	}
	q.blk = bs;
	q.so = scale->dims[a] * q.inner;
	q.sa = q.inner;
	q.si = 1;
	return q;
}

static void infer_quantize(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0], *s = n->in[1];
	if (!is_loss_float(x->dtype) && x->dtype != RT_I32)
		node_fatal(n, "input 0 '%s' must be float or int32, not %s", x->name, dtype_name(x->dtype));
	if (!is_loss_float(s->dtype))
		node_fatal(n, "input 1 '%s' (scale) must be float, not %s", s->name, dtype_name(s->dtype));
	quant_plan(n, x, s);
	set_shape(n->out[0], quant_out_type(n), x->rank, x->dims);
}

static void infer_dequantize(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0], *s = n->in[1], *zp = node_in(n, 2);
	if (!quant_int_type(x->dtype) && x->dtype != RT_I32)
		node_fatal(n, "input 0 '%s': quantized type %s is not supported (int8, uint8, int16, uint16, int32)",
			   x->name, dtype_name(x->dtype));
	if (!is_loss_float(s->dtype))
		node_fatal(n, "input 1 '%s' (scale) must be float, not %s", s->name, dtype_name(s->dtype));
	if (zp && zp->dtype != x->dtype)
		node_fatal(n, "input 2 '%s' (zero point) is %s, input 0 is %s", zp->name, dtype_name(zp->dtype),
			   dtype_name(x->dtype));
	quant_plan(n, x, s);
	int dt = (int)attr_i(n, "output_dtype", 0);
	set_shape(n->out[0], dt ? dt : s->dtype, x->rank, x->dims);
}

static void lower_quant(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0], *s = n->in[1], *zp = node_in(n, 2);
	QPlan q = quant_plan(n, x, s);
	Call *c = call_new(g, n, !strcmp(n->op, "QuantizeLinear") ? "rt_quantize" : "rt_dequantize");
	call_in(c, x);
	call_in(c, s);
	call_in(c, zp);
	call_out(c, n->out[0]);
	call_p(c, x->dtype);
	call_p(c, s->dtype);
	call_p(c, zp ? zp->dtype : 0);
	call_p(c, n->out[0]->dtype);
	call_p(c, q.outer);
	call_p(c, q.A);
	call_p(c, q.inner);
	call_p(c, q.blk);
	call_p(c, q.so);
	call_p(c, q.sa);
	call_p(c, q.si);
}

static void infer_dynquant(Graph *g, Node *n)
{
	(void)g;
	Value *x = n->in[0];
	if (x->dtype != RT_F32)
		node_fatal(n, "input 0 '%s' must be float32, not %s", x->name, dtype_name(x->dtype));
	set_shape(n->out[0], RT_U8, x->rank, x->dims);
	set_shape(n->out[1], RT_F32, 0, NULL);
	set_shape(n->out[2], RT_U8, 0, NULL);
}

static void lower_dynquant(Graph *g, Node *n)
{
	Call *c = call_new(g, n, "rt_dynamic_quantize");
	call_in(c, n->in[0]);
	call_out(c, n->out[0]);
	call_out(c, n->out[1]);
	call_out(c, n->out[2]);
	call_p(c, numel(n->in[0]));
}

/* ---- Resize ---- */

enum { RS_NEAREST, RS_LINEAR, RS_CUBIC };
enum { RS_HALF_PIXEL, RS_HALF_PIXEL_SYM, RS_PYTORCH_HALF_PIXEL, RS_ALIGN_CORNERS, RS_ASYMMETRIC, RS_TF_CROP,
       RS_TF_HALF_PIXEL_NN };

static int name_index(Node *n, const char *attr, const char *def, const char *const *names)
{
	const char *s = attr_s(n, attr, def);
	for (int i = 0; names[i]; i++)
		if (!strcmp(names[i], s))
			return i;
	node_fatal(n, "%s '%s' is not supported", attr, s);
}

typedef struct {
	int mode, coord, nmode, antialias, exclude;
	double scale[RT_MAXDIM];
	int64_t out[RT_MAXDIM], K[RT_MAXDIM], roi_at[RT_MAXDIM];
	int na;
	Value *roi, *scales, *sizes;
} RPlan;

static void resize_taps(Node *n, RPlan *pp, Value *x, const int *used);

static RPlan resize_plan(Graph *g, Node *n)
{
	static const char *const modes[] = { "nearest", "linear", "cubic", NULL };
	static const char *const coords[] = { "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
					      "align_corners", "asymmetric", "tf_crop_and_resize",
					      "tf_half_pixel_for_nn", NULL };
	static const char *const nmodes[] = { "round_prefer_floor", "round_prefer_ceil", "floor", "ceil", NULL };
	Value *x = n->in[0];
	int r = x->rank;
	RPlan p;
	memset(&p, 0, sizeof p);
	p.mode = name_index(n, "mode", "nearest", modes);
	if (n->opset < 11) { /* Resize-10 and Upsample: X, scales */
		p.coord = RS_ASYMMETRIC;
		p.scales = node_in(n, 1);
		if (p.mode == RS_CUBIC)
			node_fatal(n, "mode 'cubic' needs opset 11");
		p.nmode = 2; /* floor: Upsample repeats elements */
	} else {
		p.coord = name_index(n, "coordinate_transformation_mode", "half_pixel", coords);
		p.nmode = name_index(n, "nearest_mode", "round_prefer_floor", nmodes);
		p.roi = node_in(n, 1);
		p.scales = node_in(n, 2);
		p.sizes = node_in(n, 3);
	}
	p.antialias = (int)attr_i(n, "antialias", 0) && p.mode != RS_NEAREST;
	p.exclude = (int)attr_i(n, "exclude_outside", 0);
	Onnx__AttributeProto *sattr = n->opset < 9 ? attr_get(n, "scales") : NULL; /* Upsample-7 */
	if (sattr) {
		if ((int)sattr->n_floats != r)
			node_fatal(n, "attribute scales has %d values, the input has rank %d", (int)sattr->n_floats, r);
		for (int d = 0; d < r; d++) {
			p.scale[d] = sattr->floats[d];
			p.out[d] = (int64_t)floor(p.scale[d] * (double)x->dims[d]);
		}
		int all[RT_MAXDIM];
		for (int d = 0; d < r; d++) {
			all[d] = 1;
			p.roi_at[d] = -1;
		}
		p.na = r;
		resize_taps(n, &p, x, all);
		return p;
	}
	if (p.scales && numel(p.scales) == 0)
		p.scales = NULL;
	if (p.sizes && numel(p.sizes) == 0)
		p.sizes = NULL;
	if (!p.scales == !p.sizes)
		node_fatal(n, "exactly one of scales and sizes must be given");
	if (p.coord != RS_TF_CROP)
		p.roi = NULL;
	else if (!p.roi)
		node_fatal(n, "coordinate_transformation_mode tf_crop_and_resize needs input 1 (roi)");
	Value *sv = p.scales ? p.scales : p.sizes;
	if (!value_is_const(sv))
		node_fatal(n, "input '%s' (%s) must be constant after folding (it sets the output shape)", sv->name,
			   p.scales ? "scales" : "sizes");
	int64_t axes[RT_MAXDIM];
	int na = attr_ints(n, "axes", axes, RT_MAXDIM);
	if (na < 0) {
		na = r;
		for (int i = 0; i < r; i++)
			axes[i] = i;
	}
	int used[RT_MAXDIM] = { 0 };
	for (int i = 0; i < na; i++) {
		axes[i] = norm_axis(n, axes[i], r);
		if (used[axes[i]]++)
			node_fatal(n, "axis %lld repeats in axes", (long long)axes[i]);
	}
	if (numel(sv) != na || sv->rank != 1)
		node_fatal(n, "input '%s' has %lld values, expected %d (one per axis)", sv->name,
			   (long long)numel(sv), na);
	if (p.roi && numel(p.roi) != 2 * na)
		node_fatal(n, "input 1 '%s' (roi) has %lld values, expected %d", p.roi->name,
			   (long long)numel(p.roi), 2 * na);
	for (int d = 0; d < r; d++) {
		p.scale[d] = 1;
		p.out[d] = x->dims[d];
	}
	if (p.scales) {
		for (int i = 0; i < na; i++) {
			double s = const_float(g, p.scales, i);
			if (!(s > 0))
				node_fatal(n, "scale %g must be positive", s);
			p.scale[axes[i]] = s;
			p.out[axes[i]] = (int64_t)floor(s * (double)x->dims[axes[i]]);
		}
	} else {
		const char *pol = attr_s(n, "keep_aspect_ratio_policy", "stretch");
		for (int i = 0; i < na; i++) {
			int64_t sz = const_int(g, p.sizes, i);
			if (sz < 0)
				node_fatal(n, "size %lld must not be negative", (long long)sz);
			p.out[axes[i]] = sz;
			p.scale[axes[i]] = (double)sz / (double)x->dims[axes[i]];
		}
		if (strcmp(pol, "stretch")) {
			int larger = !strcmp(pol, "not_smaller");
			if (!larger && strcmp(pol, "not_larger"))
				node_fatal(n, "keep_aspect_ratio_policy '%s' is not supported", pol);
			double s = p.scale[axes[0]];
			for (int i = 1; i < na; i++)
				s = larger ? fmax(s, p.scale[axes[i]]) : fmin(s, p.scale[axes[i]]);
			for (int i = 0; i < na; i++) {
				p.scale[axes[i]] = s;
				p.out[axes[i]] = (int64_t)(s * (double)x->dims[axes[i]] + 0.5);
			}
		}
	}
	resize_taps(n, &p, x, used);
	/* where each axis's roi start is (its end is na further), -1: [0, 1] */
	for (int d = 0; d < r; d++)
		p.roi_at[d] = -1;
	for (int i = 0; i < na; i++)
		p.roi_at[axes[i]] = i;
	p.na = na;
	return p;
}

static void resize_taps(Node *n, RPlan *pp, Value *x, const int *used)
{
	RPlan p = *pp;
	int r = x->rank;
	for (int d = 0; d < r; d++) {
		if (!used[d] || (p.scale[d] == 1 && p.out[d] == x->dims[d] && p.coord != RS_TF_CROP)) {
			p.K[d] = 0; /* copied */
			continue;
		}
		if (x->dims[d] == 0 || p.out[d] == 0) {
			p.K[d] = 0;
			continue;
		}
		if (p.mode == RS_NEAREST) {
			p.K[d] = 1;
		} else if (!p.antialias) {
			p.K[d] = p.mode == RS_LINEAR ? 2 : 4;
		} else {
			double s = p.scale[d] < 1 ? p.scale[d] : 1;
			int64_t i0 = (int64_t)floor((p.mode == RS_CUBIC ? -2 : -1) / s) + 1;
			p.K[d] = 2 - 2 * i0;
			if (p.K[d] > 64)
				node_fatal(n, "antialias downscale by %g is too strong (at most 64 taps)", p.scale[d]);
		}
	}
	*pp = p;
}

static void infer_resize(Graph *g, Node *n)
{
	Value *x = n->in[0];
	if (!rt_dtype_size(x->dtype))
		node_fatal(n, "input 0 '%s': %s is not supported", x->name, dtype_name(x->dtype));
	RPlan p = resize_plan(g, n);
	if (p.roi && !is_loss_float(p.roi->dtype))
		node_fatal(n, "input 1 '%s' (roi) must be float", p.roi->name);
	set_shape(n->out[0], x->dtype, x->rank, p.out);
}

static void lower_resize(Graph *g, Node *n)
{
	Value *x = n->in[0];
	RPlan p = resize_plan(g, n);
	int r = x->rank;
	int64_t tab = 0;
	for (int d = 0; d < r; d++)
		tab += p.out[d] * (1 + 2 * p.K[d]);
	Value *roi = p.roi;
	Value *t = temp_value(g, RT_F64, 1, &(int64_t){ tab ? tab : 1 });
	Call *c = call_new(g, n, "rt_resize");
	call_in(c, x);
	call_in(c, roi);
	call_out(c, t);
	call_out(c, n->out[0]);
	call_p(c, x->dtype);
	call_p(c, roi ? roi->dtype : 0);
	call_p(c, r);
	call_p(c, p.na);
	call_p(c, p.mode);
	call_p(c, p.coord);
	call_p(c, p.nmode);
	call_p(c, p.antialias);
	call_p(c, p.exclude);
	call_pf(c, attr_f(n, "cubic_coeff_a", -0.75));
	call_pf(c, attr_f(n, "extrapolation_value", 0.0));
	call_pv(c, x->dims, r);
	call_pv(c, p.out, r);
	for (int d = 0; d < r; d++)
		call_pf(c, p.scale[d]);
	call_pv(c, p.K, r);
	call_pv(c, p.roi_at, r);
}

const OpDef ops_loss[] = {
	{ "NegativeLogLikelihoodLoss", 2, 3, 1, 1, infer_loss, lower_loss },
	{ "SoftmaxCrossEntropyLoss", 2, 3, 1, 2, infer_loss, lower_loss },
	{ "Compress", 2, 2, 1, 1, infer_compress, lower_compress },
	{ "QuantizeLinear", 2, 3, 1, 1, infer_quantize, lower_quant },
	{ "DequantizeLinear", 2, 3, 1, 1, infer_dequantize, lower_quant },
	{ "DynamicQuantizeLinear", 1, 1, 3, 3, infer_dynquant, lower_dynquant },
	{ "Resize", 1, 4, 1, 1, infer_resize, lower_resize },
	{ "Upsample", 1, 2, 1, 1, infer_resize, lower_resize },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};
