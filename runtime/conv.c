/* conv.c: Conv, ConvInteger, ConvTranspose, DeformConv and the pools
 * (Max, Average, Lp and their Global forms).
 *
 * Every kernel sees 3 spatial dims (D, H, W): the compiler pads lower ranks
 * with leading 1s and passes the geometry block of conv.h (input, output
 * and kernel dims, strides, dilations, begin pads).  float32 has direct
 * loops (no im2col): each kernel tap adds a scaled input row to an output
 * row over the range of positions where the tap falls inside the input.
 * Other dtypes compute each output element in double (int64 for
 * ConvInteger) through the generic accessors.
 */
#include "rt.h"
#include "conv.h"

typedef struct {
	int64_t in[3], out[3], k[3], s[3], d[3], pb[3];
} rt_conv_geom;

static void rt_conv_geom_read(rt_conv_geom *g, const int64_t *p)
{
	int i;
	for (i = 0; i < 3; i++) {
		g->in[i] = p[i];
		g->out[i] = p[3 + i];
		g->k[i] = p[6 + i];
		g->s[i] = p[9 + i];
		g->d[i] = p[12 + i];
		g->pb[i] = p[15 + i];
	}
}

/* [*lo, *hi): the o in [0, n) with 0 <= o*s + off < lim (s > 0). */
static void rt_conv_range(int64_t n, int64_t lim, int64_t s, int64_t off, int64_t *lo, int64_t *hi)
{
	int64_t a = off >= 0 ? 0 : (-off + s - 1) / s;
	int64_t b = lim - 1 - off < 0 ? 0 : (lim - 1 - off) / s + 1;
	if (b > n)
		b = n;
	if (a > b)
		a = b;
	*lo = a;
	*hi = b;
}

/* y[i*ys] += a * x[i*xs], i < n */
static void rt_conv_axpy(float *y, int64_t ys, const float *x, int64_t xs, int64_t n, float a)
{
	int64_t i;
	if (ys == 1 && xs == 1) {
		for (i = 0; i < n; i++)
			y[i] += a * x[i];
	} else if (ys == 1) {
		for (i = 0; i < n; i++)
			y[i] += a * x[i * xs];
	} else {
		for (i = 0; i < n; i++)
			y[i * ys] += a * x[i * xs];
	}
}

/* Conv and ConvInteger.
 * t: X, W, B?, x_zero_point?, w_zero_point?, Y
 * p: dtx, dtw, dty, N, C, M, group, number of w zero points, geometry */
RT_API void rt_conv(void *const *t, const int64_t *p)
{
	const void *x = t[0], *w = t[1], *b = t[2], *xz = t[3], *wz = t[4];
	void *y = t[5];
	int64_t dtx = p[0], dtw = p[1], dty = p[2], N = p[3], C = p[4], M = p[5], G = p[6], nwz = p[7];
	int64_t Cg, Mg, IS, OS, KS, n, oc, c;
	rt_conv_geom g;
	rt_conv_geom_read(&g, p + RT_CONV_HDR);
	Cg = C / G;
	Mg = M / G;
	IS = g.in[0] * g.in[1] * g.in[2];
	OS = g.out[0] * g.out[1] * g.out[2];
	KS = g.k[0] * g.k[1] * g.k[2];
	if (dtx == RT_F32 && dtw == RT_F32 && dty == RT_F32 && !xz && !wz) {
		const float *xf = (const float *)x, *wf = (const float *)w, *bf = (const float *)b;
		for (n = 0; n < N; n++)
			for (oc = 0; oc < M; oc++) {
				float *yp = (float *)y + (n * M + oc) * OS, bv = bf ? bf[oc] : 0.0f;
				int64_t gi = oc / Mg, i;
				for (i = 0; i < OS; i++)
					yp[i] = bv;
				for (c = 0; c < Cg; c++) {
					const float *xp = xf + (n * C + gi * Cg + c) * IS;
					const float *wp = wf + (oc * Cg + c) * KS;
					int64_t kd, kh, kw;
					for (kd = 0; kd < g.k[0]; kd++)
						for (kh = 0; kh < g.k[1]; kh++)
							for (kw = 0; kw < g.k[2]; kw++) {
								float wv = wp[(kd * g.k[1] + kh) * g.k[2] + kw];
								int64_t offd = kd * g.d[0] - g.pb[0], offh = kh * g.d[1] - g.pb[1];
								int64_t offw = kw * g.d[2] - g.pb[2];
								int64_t d0, d1, h0, h1, w0, w1, od, oh;
								rt_conv_range(g.out[0], g.in[0], g.s[0], offd, &d0, &d1);
								rt_conv_range(g.out[1], g.in[1], g.s[1], offh, &h0, &h1);
								rt_conv_range(g.out[2], g.in[2], g.s[2], offw, &w0, &w1);
								if (w0 >= w1)
									continue;
								for (od = d0; od < d1; od++)
									for (oh = h0; oh < h1; oh++) {
										int64_t id = od * g.s[0] + offd, ih = oh * g.s[1] + offh;
										rt_conv_axpy(yp + (od * g.out[1] + oh) * g.out[2] + w0, 1,
											     xp + (id * g.in[1] + ih) * g.in[2] + w0 * g.s[2] + offw,
											     g.s[2], w1 - w0, wv);
									}
							}
				}
			}
		return;
	}
	{
		int isint = !rt_is_float(dty);
		int64_t xzp = xz ? rt_geti(xz, dtx, 0) : 0;
		for (n = 0; n < N; n++)
			for (oc = 0; oc < M; oc++) {
				int64_t gi = oc / Mg, wzp = wz ? rt_geti(wz, dtw, nwz > 1 ? oc : 0) : 0, od, oh, ow;
				int64_t ybase = (n * M + oc) * OS;
				for (od = 0; od < g.out[0]; od++)
					for (oh = 0; oh < g.out[1]; oh++)
						for (ow = 0; ow < g.out[2]; ow++) {
							double accf = b ? rt_getf(b, dty, oc) : 0;
							int64_t acci = 0, kd, kh, kw, yi = ybase + (od * g.out[1] + oh) * g.out[2] + ow;
							for (c = 0; c < Cg; c++) {
								int64_t xb = (n * C + gi * Cg + c) * IS, wb = (oc * Cg + c) * KS;
								for (kd = 0; kd < g.k[0]; kd++) {
									int64_t id = od * g.s[0] - g.pb[0] + kd * g.d[0];
									if (id < 0 || id >= g.in[0])
										continue;
									for (kh = 0; kh < g.k[1]; kh++) {
										int64_t ih = oh * g.s[1] - g.pb[1] + kh * g.d[1];
										if (ih < 0 || ih >= g.in[1])
											continue;
										for (kw = 0; kw < g.k[2]; kw++) {
											int64_t iw = ow * g.s[2] - g.pb[2] + kw * g.d[2];
											int64_t xi = xb + (id * g.in[1] + ih) * g.in[2] + iw;
											int64_t wi = wb + (kd * g.k[1] + kh) * g.k[2] + kw;
											if (iw < 0 || iw >= g.in[2])
												continue;
											if (isint)
												acci += (rt_geti(x, dtx, xi) - xzp) *
													(rt_geti(w, dtw, wi) - wzp);
											else
												accf += rt_getf(x, dtx, xi) * rt_getf(w, dtw, wi);
										}
									}
								}
							}
							if (isint)
								rt_seti(y, dty, yi, acci);
							else
								rt_setf(y, dty, yi, accf);
						}
			}
	}
}

/* ConvTranspose.  W is [C, M/group, k...].
 * t: X, W, B?, Y
 * p: dt, dt, dt, N, C, M, group, 0, geometry (output dims are Y's) */
RT_API void rt_convt(void *const *t, const int64_t *p)
{
	const void *x = t[0], *w = t[1], *b = t[2];
	void *y = t[3];
	int64_t dt = p[0], N = p[3], C = p[4], M = p[5], G = p[6];
	int64_t Cg, Mg, IS, OS, KS, n, oc, c, i;
	rt_conv_geom g;
	rt_conv_geom_read(&g, p + RT_CONV_HDR);
	Cg = C / G;
	Mg = M / G;
	IS = g.in[0] * g.in[1] * g.in[2];
	OS = g.out[0] * g.out[1] * g.out[2];
	KS = g.k[0] * g.k[1] * g.k[2];
	if (dt == RT_F32) {
		const float *xf = (const float *)x, *wf = (const float *)w, *bf = (const float *)b;
		for (n = 0; n < N; n++)
			for (oc = 0; oc < M; oc++) {
				float *yp = (float *)y + (n * M + oc) * OS, bv = bf ? bf[oc] : 0.0f;
				int64_t gi = oc / Mg, m = oc % Mg;
				for (i = 0; i < OS; i++)
					yp[i] = bv;
				for (c = 0; c < Cg; c++) {
					int64_t ic = gi * Cg + c, kd, kh, kw;
					const float *xp = xf + (n * C + ic) * IS, *wp = wf + (ic * Mg + m) * KS;
					for (kd = 0; kd < g.k[0]; kd++)
						for (kh = 0; kh < g.k[1]; kh++)
							for (kw = 0; kw < g.k[2]; kw++) {
								float wv = wp[(kd * g.k[1] + kh) * g.k[2] + kw];
								int64_t offd = kd * g.d[0] - g.pb[0], offh = kh * g.d[1] - g.pb[1];
								int64_t offw = kw * g.d[2] - g.pb[2];
								int64_t d0, d1, h0, h1, w0, w1, id, ih;
								rt_conv_range(g.in[0], g.out[0], g.s[0], offd, &d0, &d1);
								rt_conv_range(g.in[1], g.out[1], g.s[1], offh, &h0, &h1);
								rt_conv_range(g.in[2], g.out[2], g.s[2], offw, &w0, &w1);
								if (w0 >= w1)
									continue;
								for (id = d0; id < d1; id++)
									for (ih = h0; ih < h1; ih++) {
										int64_t od = id * g.s[0] + offd, oh = ih * g.s[1] + offh;
										rt_conv_axpy(yp + (od * g.out[1] + oh) * g.out[2] + w0 * g.s[2] + offw,
											     g.s[2], xp + (id * g.in[1] + ih) * g.in[2] + w0, 1,
											     w1 - w0, wv);
									}
							}
				}
			}
		return;
	}
	for (n = 0; n < N; n++)
		for (oc = 0; oc < M; oc++) {
			int64_t gi = oc / Mg, m = oc % Mg, od, oh, ow;
			for (od = 0; od < g.out[0]; od++)
				for (oh = 0; oh < g.out[1]; oh++)
					for (ow = 0; ow < g.out[2]; ow++) {
						double acc = b ? rt_getf(b, dt, oc) : 0;
						int64_t kd, kh, kw;
						for (c = 0; c < Cg; c++) {
							int64_t ic = gi * Cg + c, xb = (n * C + ic) * IS, wb = (ic * Mg + m) * KS;
							for (kd = 0; kd < g.k[0]; kd++) {
								int64_t td = od + g.pb[0] - kd * g.d[0];
								if (td < 0 || td % g.s[0] || td / g.s[0] >= g.in[0])
									continue;
								for (kh = 0; kh < g.k[1]; kh++) {
									int64_t th = oh + g.pb[1] - kh * g.d[1];
									if (th < 0 || th % g.s[1] || th / g.s[1] >= g.in[1])
										continue;
									for (kw = 0; kw < g.k[2]; kw++) {
										int64_t tw = ow + g.pb[2] - kw * g.d[2];
										if (tw < 0 || tw % g.s[2] || tw / g.s[2] >= g.in[2])
											continue;
										acc += rt_getf(x, dt, xb + ((td / g.s[0]) * g.in[1] + th / g.s[1]) * g.in[2] +
														  tw / g.s[2]) *
										       rt_getf(w, dt, wb + (kd * g.k[1] + kh) * g.k[2] + kw);
									}
								}
							}
						}
						rt_setf(y, dt, ((n * M + oc) * g.out[0] + od) * g.out[1] * g.out[2] + oh * g.out[2] + ow,
							acc);
					}
		}
}

/* One input element of a float plane: f32 typed, others generic. */
static double rt_conv_get(const void *x, int64_t dt, int64_t i)
{
	if (dt == RT_F32)
		return ((const float *)x)[i];
	return rt_getf(x, dt, i);
}

/* Bilinear sample of an H x W plane at (h, w), zero outside. */
static double rt_conv_bilinear(const void *x, int64_t dt, int64_t base, int64_t H, int64_t W, double h, double w)
{
	double lh, lw, v1 = 0, v2 = 0, v3 = 0, v4 = 0;
	int64_t h0, w0, h1, w1;
	if (h <= -1 || h >= (double)H || w <= -1 || w >= (double)W)
		return 0;
	h0 = (int64_t)floor(h);
	w0 = (int64_t)floor(w);
	h1 = h0 + 1;
	w1 = w0 + 1;
	lh = h - (double)h0;
	lw = w - (double)w0;
	if (h0 >= 0 && w0 >= 0)
		v1 = rt_conv_get(x, dt, base + h0 * W + w0);
	if (h0 >= 0 && w1 < W)
		v2 = rt_conv_get(x, dt, base + h0 * W + w1);
	if (h1 < H && w0 >= 0)
		v3 = rt_conv_get(x, dt, base + h1 * W + w0);
	if (h1 < H && w1 < W)
		v4 = rt_conv_get(x, dt, base + h1 * W + w1);
	return (1 - lh) * (1 - lw) * v1 + (1 - lh) * lw * v2 + lh * (1 - lw) * v3 + lh * lw * v4;
}

/* DeformConv (2-D: the geometry's depth is 1).
 * t: X, W, offset, B?, mask?, Y
 * p: dt, offset_group, 0, N, C, M, group, 0, geometry */
RT_API void rt_deform(void *const *t, const int64_t *p)
{
	const void *x = t[0], *w = t[1], *off = t[2], *b = t[3], *mask = t[4];
	void *y = t[5];
	int64_t dt = p[0], OG = p[1], N = p[3], C = p[4], M = p[5], G = p[6];
	int64_t Cg, Mg, Cog, IS, OS, KS, n, oc, c, oh, ow, i, j;
	rt_conv_geom g;
	rt_conv_geom_read(&g, p + RT_CONV_HDR);
	Cg = C / G;
	Mg = M / G;
	Cog = C / OG;
	IS = g.in[1] * g.in[2];
	OS = g.out[1] * g.out[2];
	KS = g.k[1] * g.k[2];
	for (n = 0; n < N; n++)
		for (oc = 0; oc < M; oc++)
			for (oh = 0; oh < g.out[1]; oh++)
				for (ow = 0; ow < g.out[2]; ow++) {
					double acc = b ? rt_conv_get(b, dt, oc) : 0;
					int64_t o = oh * g.out[2] + ow;
					for (c = 0; c < Cg; c++) {
						int64_t ic = (oc / Mg) * Cg + c, og = ic / Cog;
						for (i = 0; i < g.k[1]; i++)
							for (j = 0; j < g.k[2]; j++) {
								int64_t k = i * g.k[2] + j;
								int64_t ob = (n * OG * 2 * KS + og * 2 * KS + 2 * k) * OS + o;
								double dh = rt_conv_get(off, dt, ob), dw = rt_conv_get(off, dt, ob + OS);
								double mk = mask ? rt_conv_get(mask, dt, ((n * OG + og) * KS + k) * OS + o) : 1;
								double h = (double)(oh * g.s[1] - g.pb[1] + i * g.d[1]) + dh;
								double ww = (double)(ow * g.s[2] - g.pb[2] + j * g.d[2]) + dw;
								double v = rt_conv_bilinear(x, dt, (n * C + ic) * IS, g.in[1], g.in[2], h, ww);
								acc += rt_conv_get(w, dt, (oc * Cg + c) * KS + k) * mk * v;
							}
					}
					rt_setf(y, dt, (n * M + oc) * OS + o, acc);
				}
}

/* MaxPool (optional Indices), AveragePool, LpPool and the Global pools.
 * t: X, Y, Indices?
 * p: op, dt, N*C, count_include_pad, storage_order, p (double bits),
 *    geometry, end pads[3] */
RT_API void rt_pool(void *const *t, const int64_t *p)
{
	const void *x = t[0];
	void *y = t[1];
	int64_t *ind = (int64_t *)t[2];
	int64_t op = p[0], dt = p[1], NC = p[2], cip = p[3], colmaj = p[4];
	double lp = rt_bits_f64(p[5]), inf = rt_bits_f64(0x7ff0000000000000LL);
	const int64_t *pe = p + RT_CONV_POOL_HDR + RT_CONV_GEOM;
	int64_t IS, nc, od, oh, ow, yi = 0;
	rt_conv_geom g;
	rt_conv_geom_read(&g, p + RT_CONV_POOL_HDR);
	IS = g.in[0] * g.in[1] * g.in[2];
	for (nc = 0; nc < NC; nc++)
		for (od = 0; od < g.out[0]; od++)
			for (oh = 0; oh < g.out[1]; oh++)
				for (ow = 0; ow < g.out[2]; ow++, yi++) {
					int64_t st[3], cnt = 1, cnt_pad = 1, kd, kh, kw, bi = -1, a, k;
					double acc = 0, best = -inf;
					st[0] = od * g.s[0] - g.pb[0];
					st[1] = oh * g.s[1] - g.pb[1];
					st[2] = ow * g.s[2] - g.pb[2];
					for (a = 0; a < 3; a++) { /* window taps inside the input / the padded input */
						int64_t ci = 0, cp = 0;
						for (k = 0; k < g.k[a]; k++) {
							int64_t q = st[a] + k * g.d[a];
							ci += q >= 0 && q < g.in[a];
							cp += q >= -g.pb[a] && q < g.in[a] + pe[a];
						}
						cnt *= ci;
						cnt_pad *= cp;
					}
					for (kd = 0; kd < g.k[0]; kd++) {
						int64_t id = st[0] + kd * g.d[0];
						if (id < 0 || id >= g.in[0])
							continue;
						for (kh = 0; kh < g.k[1]; kh++) {
							int64_t ih = st[1] + kh * g.d[1];
							if (ih < 0 || ih >= g.in[1])
								continue;
							for (kw = 0; kw < g.k[2]; kw++) {
								int64_t iw = st[2] + kw * g.d[2], xi;
								double v;
								if (iw < 0 || iw >= g.in[2])
									continue;
								xi = nc * IS + (id * g.in[1] + ih) * g.in[2] + iw;
								v = rt_conv_get(x, dt, xi);
								if (op == RT_CONV_POOL_MAX) {
									if (bi < 0 || v > best) {
										best = v;
										bi = colmaj ? nc * IS + id + (ih + iw * g.in[1]) * g.in[0] : xi;
									}
								} else if (op == RT_CONV_POOL_AVG) {
									acc += v;
								} else {
									acc += lp == 2 ? v * v : lp == 1 ? fabs(v) : pow(fabs(v), lp);
								}
							}
						}
					}
					if (op == RT_CONV_POOL_MAX) {
						if (bi < 0 && !rt_is_float(dt))
							best = 0;
						if (dt == RT_F32)
							((float *)y)[yi] = (float)best;
						else
							rt_setf(y, dt, yi, best);
						if (ind)
							ind[yi] = bi < 0 ? 0 : bi;
						continue;
					}
					if (op == RT_CONV_POOL_AVG)
						acc = (cip ? cnt_pad : cnt) ? acc / (double)(cip ? cnt_pad : cnt) : 0;
					else
						acc = lp == 2 ? sqrt(acc) : lp == 1 ? acc : pow(acc, 1 / lp);
					if (dt == RT_F32)
						((float *)y)[yi] = (float)acc;
					else
						rt_setf(y, dt, yi, acc);
				}
}

/* QLinearConv's requantization of the int32 accumulator:
 * y = saturate(round((acc + B) * x_scale * w_scale / y_scale) + y_zero_point)
 * t: acc (int32), B?, x_scale, w_scale, y_scale, y_zero_point?, Y
 * p: N, M, spatial size, number of w scales, dtype of Y */
RT_API void rt_conv_requant(void *const *t, const int64_t *p)
{
	const int32_t *acc = (const int32_t *)t[0], *b = (const int32_t *)t[1];
	const float *xs = (const float *)t[2], *ws = (const float *)t[3], *ys = (const float *)t[4];
	const void *yz = t[5];
	void *y = t[6];
	int64_t N = p[0], M = p[1], OS = p[2], nws = p[3], dt = p[4], n, m, i;
	int64_t lo = dt == RT_U8 ? 0 : -128, hi = dt == RT_U8 ? 255 : 127;
	int64_t zp = yz ? rt_geti(yz, dt, 0) : 0;
	for (n = 0; n < N; n++)
		for (m = 0; m < M; m++) {
			double sc = (double)xs[0] * (double)ws[nws > 1 ? m : 0] / (double)ys[0];
			int64_t bias = b ? b[m] : 0;
			for (i = 0; i < OS; i++) {
				int64_t k = (n * M + m) * OS + i;
				double q = nearbyint((double)((int64_t)acc[k] + bias) * sc) + (double)zp;
				int64_t v = q < (double)lo ? lo : q > (double)hi ? hi : (int64_t)q;
				if (dt == RT_U8)
					((uint8_t *)y)[k] = (uint8_t)v;
				else
					((int8_t *)y)[k] = (int8_t)v;
			}
		}
}

/* MaxUnpool: Y = 0, then Y[I[j]] = X[j].  The indices address the
 * unpooled shape implied by kernel, strides and pads (src dims); each is
 * moved to the same coordinates in Y's dims (out of range ones skipped).
 * t: X, I, Y   p: element size, numel(X), rank, src dims[rank], Y dims[rank] */
RT_API void rt_maxunpool(void *const *t, const int64_t *p)
{
	const char *x = (const char *)t[0];
	const int64_t *ind = (const int64_t *)t[1];
	char *y = (char *)t[2];
	int64_t es = p[0], nx = p[1], r = p[2], ny = 1, ns = 1, j, a;
	const int64_t *sd = p + 3, *yd = p + 3 + r;
	for (a = 0; a < r; a++) {
		ny *= yd[a];
		ns *= sd[a];
	}
	memset(y, 0, (size_t)(ny * es));
	for (j = 0; j < nx; j++) {
		int64_t q = ind[j], o = 0, m = 1;
		if (q < 0 || q >= ns)
			continue;
		for (a = r - 1; a >= 0; a--) {
			int64_t c = q % sd[a];
			q /= sd[a];
			if (c >= yd[a])
				break;
			o += c * m;
			m *= yd[a];
		}
		if (a < 0)
			memcpy(y + o * es, x + j * es, (size_t)es);
	}
}

/* CausalConvWithState (1-D depthwise): padded = [past_state or zeros, X]
 * along time, Y[t] = act(B + sum_k W[k] * padded[t + k]), present_state =
 * the last K-1 steps of padded.
 * t: X [N,C,L], W [C,1,K], B?, past_state? [N,C,K-1], Y, present_state
 * p: dt, N, C, L, K, silu */
RT_API void rt_causal_conv(void *const *t, const int64_t *p)
{
	const void *x = t[0], *w = t[1], *b = t[2], *s = t[3];
	void *y = t[4], *ps = t[5];
	int64_t dt = p[0], N = p[1], C = p[2], L = p[3], K = p[4], silu = p[5], n, c, i, k;
	for (n = 0; n < N; n++)
		for (c = 0; c < C; c++) {
			int64_t xb = (n * C + c) * L, sb = (n * C + c) * (K - 1);
			for (i = 0; i < L; i++) {
				double acc = b ? rt_conv_get(b, dt, c) : 0;
				for (k = 0; k < K; k++) {
					int64_t q = i + k - (K - 1); /* position in X; < 0: in the state */
					double v = q >= 0 ? rt_conv_get(x, dt, xb + q) : s ? rt_conv_get(s, dt, sb + K - 1 + q) : 0;
					acc += rt_conv_get(w, dt, c * K + k) * v;
				}
				if (dt != RT_F64) /* the conv output is rounded to its type before the activation */
					acc = dt == RT_F32  ? (double)(float)acc
					      : dt == RT_F16 ? rt_f16_f32(rt_f32_f16((float)acc))
							     : rt_bf16_f32(rt_f32_bf16((float)acc));
				if (silu)
					acc = acc / (1 + exp(-acc));
				rt_setf(y, dt, xb + i, acc);
			}
			for (k = 0; k < K - 1; k++) { /* padded[L + k] */
				int64_t q = L + k - (K - 1);
				double v = q >= 0 ? rt_conv_get(x, dt, xb + q) : s ? rt_conv_get(s, dt, sb + K - 1 + q) : 0;
				rt_setf(ps, dt, sb + k, v);
			}
		}
}
