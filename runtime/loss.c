/* loss.c: NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss (log-softmax
 * along axis 1), Compress, QuantizeLinear / DequantizeLinear /
 * DynamicQuantizeLinear and Resize.
 *
 * Losses see the input as [N, C, D] (D the product of the trailing dims)
 * and accumulate in double.  Quantization sees the input as
 * [outer, A, inner] around the quantized axis; the scale (and zero point)
 * are read at offset o*so + (a/block)*sa + i*si, which covers per-tensor
 * (all strides 0), per-axis and blocked layouts.
 */
#include "rt.h"

/* t = {x [N,C,D], target [N,D], weight [C] or NULL, y ([N,D] or scalar)}
 * p = {dtype, target dtype, N, C, D, reduction (0 none, 1 sum, 2 mean),
 *      ignore_index, has_ignore} */
RT_API void rt_nllloss(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], tdt = p[1], N = p[2], C = p[3], D = p[4], red = p[5], ii = p[6], hasii = p[7];
	int64_t n, d;
	double sum = 0, wsum = 0;
	for (n = 0; n < N; n++) {
		for (d = 0; d < D; d++) {
			int64_t k = n * D + d, c = rt_geti(t[1], tdt, k);
			double w, l;
			if ((hasii && c == ii) || c < 0 || c >= C) {
				w = 0;
				l = 0;
			} else {
				w = t[2] ? rt_getf(t[2], dt, c) : 1.0;
				l = -rt_getf(t[0], dt, (n * C + c) * D + d) * w;
			}
			if (red == 0)
				rt_setf(t[3], dt, k, l);
			sum += l;
			wsum += w;
		}
	}
	if (red == 1)
		rt_setf(t[3], dt, 0, sum);
	else if (red == 2)
		rt_setf(t[3], dt, 0, sum / wsum);
}

/* log-softmax along the middle axis of [outer, C, inner].
 * t = {x, y}; p = {dtype, outer, C, inner} */
RT_API void rt_logsoftmax_mid(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], outer = p[1], C = p[2], inner = p[3], o, i, c;
	for (o = 0; o < outer; o++) {
		for (i = 0; i < inner; i++) {
			int64_t base = o * C * inner + i;
			double mx = -INFINITY, s = 0, lse;
			for (c = 0; c < C; c++) {
				double v = rt_getf(t[0], dt, base + c * inner);
				if (v > mx)
					mx = v;
			}
			for (c = 0; c < C; c++)
				s += exp(rt_getf(t[0], dt, base + c * inner) - mx);
			lse = mx + log(s);
			for (c = 0; c < C; c++)
				rt_setf(t[1], dt, base + c * inner, rt_getf(t[0], dt, base + c * inner) - lse);
		}
	}
}

/* Compress: keep the slices of [outer, A, inner] whose condition is true.
 * t = {x, cond (bool, ncond), y}; p = {element size, outer, A, inner, ncond} */
RT_API void rt_compress(void *const *t, const int64_t *p)
{
	int64_t es = p[0], outer = p[1], A = p[2], inner = p[3], nc = p[4], o, a;
	const unsigned char *x = (const unsigned char *)t[0], *cond = (const unsigned char *)t[1];
	unsigned char *y = (unsigned char *)t[2];
	int64_t row = inner * es;
	for (o = 0; o < outer; o++)
		for (a = 0; a < A && a < nc; a++)
			if (cond[a]) {
				memcpy(y, x + (o * A + a) * row, (size_t)row);
				y += row;
			}
}

static void rt_loss_qrange(int64_t dt, double *lo, double *hi)
{
	switch (dt) {
	case RT_U8: *lo = 0; *hi = 255; return;
	case RT_I8: *lo = -128; *hi = 127; return;
	case RT_U16: *lo = 0; *hi = 65535; return;
	case RT_I16: *lo = -32768; *hi = 32767; return;
	case RT_I32: *lo = -2147483648.0; *hi = 2147483647.0; return;
	default: *lo = 0; *hi = 255; return;
	}
}

/* t = {x, scale, zero_point or NULL, y}
 * p = {x dtype, scale dtype, zp dtype, y dtype, outer, A, inner, block, so, sa, si} */
RT_API void rt_quantize(void *const *t, const int64_t *p)
{
	int64_t dx = p[0], ds = p[1], dz = p[2], dy = p[3], outer = p[4], A = p[5], inner = p[6];
	int64_t blk = p[7], so = p[8], sa = p[9], si = p[10], o, a, i, k = 0;
	double lo, hi;
	rt_loss_qrange(dy, &lo, &hi);
	for (o = 0; o < outer; o++)
		for (a = 0; a < A; a++)
			for (i = 0; i < inner; i++, k++) {
				int64_t s = o * so + (a / blk) * sa + i * si;
				double q, zp = t[2] ? (double)rt_geti(t[2], dz, s) : 0;
				if (dx == RT_F32 && ds == RT_F32)
					q = nearbyintf(((const float *)t[0])[k] / ((const float *)t[1])[s]);
				else
					q = nearbyint(rt_getf(t[0], dx, k) / rt_getf(t[1], ds, s));
				q += zp;
				if (q != q)
					q = 0;
				q = q < lo ? lo : q > hi ? hi : q;
				rt_seti(t[3], dy, k, (int64_t)q);
			}
}

/* t = {x, scale, zero_point or NULL, y}
 * p = {x dtype, scale dtype, zp dtype, y dtype, outer, A, inner, block, so, sa, si} */
RT_API void rt_dequantize(void *const *t, const int64_t *p)
{
	int64_t dx = p[0], ds = p[1], dz = p[2], dy = p[3], outer = p[4], A = p[5], inner = p[6];
	int64_t blk = p[7], so = p[8], sa = p[9], si = p[10], o, a, i, k = 0;
	for (o = 0; o < outer; o++)
		for (a = 0; a < A; a++)
			for (i = 0; i < inner; i++, k++) {
				int64_t s = o * so + (a / blk) * sa + i * si;
				int64_t zp = t[2] ? rt_geti(t[2], dz, s) : 0;
				double v = (double)(rt_geti(t[0], dx, k) - zp);
				if (ds == RT_F32)
					v = (double)((float)v * ((const float *)t[1])[s]);
				else
					v *= rt_getf(t[1], ds, s);
				rt_setf(t[3], dy, k, v);
			}
}

/* DynamicQuantizeLinear to uint8.  t = {x (f32), y (u8), scale (f32), zp (u8)}; p = {n} */
RT_API void rt_dynamic_quantize(void *const *t, const int64_t *p)
{
	int64_t n = p[0], i;
	const float *x = (const float *)t[0];
	uint8_t *y = (uint8_t *)t[1];
	float mn = 0, mx = 0, scale, zpf;
	for (i = 0; i < n; i++) {
		if (x[i] < mn)
			mn = x[i];
		if (x[i] > mx)
			mx = x[i];
	}
	scale = (mx - mn) / 255.0f;
	zpf = scale != 0 ? 0.0f - mn / scale : 0.0f;
	zpf = zpf < 0 ? 0 : zpf > 255 ? 255 : zpf;
	zpf = nearbyintf(zpf);
	*(float *)t[2] = scale;
	*(uint8_t *)t[3] = (uint8_t)zpf;
	for (i = 0; i < n; i++) {
		float q = scale != 0 ? nearbyintf(x[i] / scale) + zpf : zpf;
		q = q < 0 ? 0 : q > 255 ? 255 : q;
		y[i] = (uint8_t)q;
	}
}

/* ---- Resize ----
 * Every axis gets a table of taps: for each output index one row
 * {outside, idx[K], w[K]} (doubles), computed from the coordinate
 * transformation exactly as the ONNX reference does; the output element is
 * the tensor product of its axes' taps. */
enum { RT_RS_NEAREST, RT_RS_LINEAR, RT_RS_CUBIC };
enum {
	RT_RS_HALF_PIXEL, RT_RS_HALF_PIXEL_SYM, RT_RS_PYTORCH_HALF_PIXEL, RT_RS_ALIGN_CORNERS,
	RT_RS_ASYMMETRIC, RT_RS_TF_CROP, RT_RS_TF_HALF_PIXEL_NN
};
enum { RT_RS_PREFER_FLOOR, RT_RS_PREFER_CEIL, RT_RS_FLOOR, RT_RS_CEIL };

static double rt_loss_cubic(double x, double A)
{
	x = fabs(x);
	if (x <= 1)
		return ((A + 2) * x - (A + 3)) * x * x + 1;
	if (x < 2)
		return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
	return 0;
}

/* one axis: rows of 1 + 2K doubles for each of lout outputs */
static void rt_loss_resize_axis(double *tab, int64_t K, int64_t lin, int64_t lout, double scale, int64_t mode,
				int64_t coord, int64_t nmode, int64_t antialias, int64_t exclude, double A,
				double r0, double r1)
{
	int64_t o, k;
	double outw = scale * (double)lin;
	double c[64];
	for (o = 0; o < lout; o++) {
		double *row = tab + o * (1 + 2 * K), x = (double)o, xo, ratio, xf, sum;
		int64_t n, left, start, pad;
		switch (coord) {
		case RT_RS_ALIGN_CORNERS: xo = outw == 1 ? 0 : x * (double)(lin - 1) / (outw - 1); break;
		case RT_RS_ASYMMETRIC: xo = x / scale; break;
		case RT_RS_TF_CROP:
			xo = outw == 1 ? (r1 - r0) * (double)(lin - 1) / 2
				: x * (r1 - r0) * (double)(lin - 1) / (outw - 1);
			xo += r0 * (double)(lin - 1);
			break;
		case RT_RS_PYTORCH_HALF_PIXEL: xo = outw == 1 ? -0.5 : (x + 0.5) / scale - 0.5; break;
		case RT_RS_HALF_PIXEL_SYM: {
			double adj = (double)lout / outw, center = (double)lin / 2;
			xo = center * (1 - adj) + (x + 0.5) / scale - 0.5;
			break;
		}
		case RT_RS_TF_HALF_PIXEL_NN: xo = (x + 0.5) / scale; break;
		default: xo = (x + 0.5) / scale - 0.5; break;
		}
		for (k = 0; k < 1 + 2 * K; k++)
			row[k] = 0;
		if (coord == RT_RS_TF_CROP && (xo < 0 || xo > (double)(lin - 1))) {
			row[0] = 1;
			continue;
		}
		xf = floor(xo);
		ratio = xo == xf ? 1 : xo - xf;
		left = xo == xf ? (int64_t)xf - 1 : (int64_t)xf;
		if (mode == RT_RS_NEAREST) {
			n = 2;
			switch (nmode) {
			case RT_RS_PREFER_CEIL: c[0] = ratio < 0.5; c[1] = ratio >= 0.5; break;
			case RT_RS_FLOOR: c[0] = 1; c[1] = 0; break;
			case RT_RS_CEIL: c[0] = 0; c[1] = 1; break;
			default: c[0] = ratio <= 0.5; c[1] = ratio > 0.5; break;
			}
			if (ratio == 1) {
				c[0] = 0;
				c[1] = 1;
			}
		} else if (mode == RT_RS_LINEAR && !antialias) {
			n = 2;
			c[0] = 1 - ratio;
			c[1] = ratio;
		} else if (mode == RT_RS_CUBIC && !antialias) {
			n = 4;
			c[0] = rt_loss_cubic(ratio + 1, A);
			c[1] = rt_loss_cubic(ratio, A);
			c[2] = rt_loss_cubic(1 - ratio, A);
			c[3] = rt_loss_cubic(2 - ratio, A);
		} else {
			double s = scale < 1 ? scale : 1;
			int64_t i0 = (int64_t)floor((mode == RT_RS_CUBIC ? -2 : -1) / s) + 1;
			n = 2 - 2 * i0;
			if (n > 64)
				n = 64;
			sum = 0;
			for (k = 0; k < n; k++) {
				double a = s * ((double)(i0 + k) - ratio);
				if (mode == RT_RS_CUBIC) {
					c[k] = rt_loss_cubic(a, A);
				} else {
					a = 1 - fabs(a);
					c[k] = a < 0 ? 0 : a > 1 ? 1 : a;
				}
				sum += c[k];
			}
			for (k = 0; k < n; k++)
				c[k] /= sum;
		}
		/* the n nearest indexes in the edge-padded axis */
		pad = (n + 1) / 2;
		start = left - n / 2 + 1;
		if (start < -pad)
			start = -pad;
		if (start + n - 1 > lin - 1 + pad)
			start = lin - 1 + pad - n + 1;
		if (exclude) {
			sum = 0;
			for (k = 0; k < n; k++) {
				if (start + k < 0 || start + k >= lin)
					c[k] = 0;
				sum += c[k];
			}
			for (k = 0; k < n; k++)
				c[k] /= sum;
		}
		if (mode == RT_RS_NEAREST) {
			int64_t idx = c[0] != 0 ? start : start + 1;
			row[1] = (double)(idx < 0 ? 0 : idx >= lin ? lin - 1 : idx);
			row[2] = 1;
			continue;
		}
		for (k = 0; k < n && k < K; k++) {
			int64_t idx = start + k;
			row[1 + k] = (double)(idx < 0 ? 0 : idx >= lin ? lin - 1 : idx);
			row[1 + K + k] = c[k];
		}
	}
}

/* t = {x, roi (f32/f64, 2*rank) or NULL, table (f64 scratch), y}
 * p = {dtype, roi dtype, rank, naxes, mode, coord, nearest mode, antialias, exclude_outside, A bits,
 *      extrapolation bits, in dims[rank], out dims[rank], scale bits[rank], K[rank], roi_at[rank]}
 * K[d] == 0: the axis is copied as is.  roi_at[d]: index of the axis's roi
 * start (its end is naxes further), -1 for [0, 1]. */
RT_API void rt_resize(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], rdt = p[1], rank = p[2], na = p[3], mode = p[4], coord = p[5], nmode = p[6];
	int64_t aa = p[7], excl = p[8];
	double A = rt_bits_f64(p[9]), extrap = rt_bits_f64(p[10]);
	const int64_t *din = p + 11, *dout = din + rank, *sbits = dout + rank, *K = sbits + rank;
	const int64_t *roi_at = K + rank;
	double *tab = (double *)t[2];
	const double *row[RT_MAXDIM];
	int64_t off[RT_MAXDIM], kk[RT_MAXDIM], ist[RT_MAXDIM], idx[RT_MAXDIM], tap[RT_MAXDIM];
	int64_t d, total = 1, o, pos = 0;
	for (d = rank - 1; d >= 0; d--) {
		ist[d] = d == rank - 1 ? 1 : ist[d + 1] * din[d + 1];
		total *= dout[d];
	}
	for (d = 0; d < rank; d++) {
		double r0 = 0, r1 = 1;
		kk[d] = K[d] ? K[d] : 1;
		off[d] = pos;
		if (t[1] && roi_at[d] >= 0) {
			r0 = rt_getf(t[1], rdt, roi_at[d]);
			r1 = rt_getf(t[1], rdt, na + roi_at[d]);
		}
		if (K[d]) {
			rt_loss_resize_axis(tab + pos, K[d], din[d], dout[d], rt_bits_f64(sbits[d]), mode, coord, nmode,
					    aa, excl, A, r0, r1);
			pos += dout[d] * (1 + 2 * K[d]);
		}
		idx[d] = 0;
	}
	for (o = 0; o < total; o++) {
		int outside = 0;
		double acc = 0;
		for (d = 0; d < rank; d++) {
			if (K[d]) {
				row[d] = tab + off[d] + idx[d] * (1 + 2 * K[d]);
				outside |= row[d][0] != 0;
			}
			tap[d] = 0;
		}
		if (outside) {
			rt_setf(t[3], dt, o, extrap);
		} else {
			for (;;) {
				double w = 1;
				int64_t xo = 0;
				for (d = 0; d < rank; d++) {
					if (K[d]) {
						w *= row[d][1 + K[d] + tap[d]];
						xo += (int64_t)row[d][1 + tap[d]] * ist[d];
					} else {
						xo += idx[d] * ist[d];
					}
				}
				if (w != 0)
					acc += w * (dt == RT_F32 ? (double)((const float *)t[0])[xo] : rt_getf(t[0], dt, xo));
				for (d = rank - 1; d >= 0; d--) {
					if (++tap[d] < kk[d])
						break;
					tap[d] = 0;
				}
				if (d < 0)
					break;
			}
			if (dt == RT_F32)
				((float *)t[3])[o] = (float)acc;
			else
				rt_setf(t[3], dt, o, acc);
		}
		for (d = rank - 1; d >= 0; d--) {
			if (++idx[d] < dout[d])
				break;
			idx[d] = 0;
		}
	}
}
