/* reduce.c: reductions, ArgMax/ArgMin, Softmax/LogSoftmax/Hardmax, TopK,
 * CumSum and the normalisations (Layer, RMS, Lp, MVN, Instance, Group,
 * Batch).
 *
 * Reductions and normalisations walk two index spaces given by the
 * compiler: the kept ("outer") dims and the reduced ("row") dims, each with
 * its strides in elements, adjacent dims already merged.  The axis kernels
 * (Softmax, ArgMax, TopK, CumSum) see the input as [outer, n, inner].
 * float32 has typed paths; other dtypes go through double or int64.
 */
#include "rt.h"
#include "reduce.h"

static double rt_reduce_inf(void)
{
	return rt_bits_f64(0x7ff0000000000000LL);
}

/* Reduce one row of float values (generic dtypes, strided walk). */
static double rt_reduce_rowf(int64_t op, const void *x, int64_t dt, int64_t base, int64_t nr,
			     const int64_t *rd, const int64_t *rs, int64_t cnt)
{
	int64_t idx[RT_MAXDIM] = { 0 }, off = base, k;
	double s = 0, inf = rt_reduce_inf(), m;
	if (op == RT_RPROD)
		s = 1;
	else if (op == RT_RMAX)
		s = cnt ? rt_getf(x, dt, base) : -inf;
	else if (op == RT_RMIN)
		s = cnt ? rt_getf(x, dt, base) : inf;
	if (op == RT_RLSE) {
		m = -inf;
		for (k = 0; k < cnt; k++) {
			double v = rt_getf(x, dt, off);
			if (v > m || v != v)
				m = v;
			rt_next(nr, rd, idx, &off, rs, NULL, NULL, NULL, NULL);
		}
		if (m != m || m == inf || m == -inf)
			return m;
		off = base;
		memset(idx, 0, sizeof idx);
		for (k = 0; k < cnt; k++) {
			s += exp(rt_getf(x, dt, off) - m);
			rt_next(nr, rd, idx, &off, rs, NULL, NULL, NULL, NULL);
		}
		return m + log(s);
	}
	for (k = 0; k < cnt; k++) {
		double v = rt_getf(x, dt, off);
		switch (op) {
		case RT_RSUM: case RT_RMEAN: case RT_RLOGSUM: s += v; break;
		case RT_RSUMSQ: case RT_RL2: s += v * v; break;
		case RT_RL1: s += fabs(v); break;
		case RT_RPROD: s *= v; break;
		case RT_RMAX: if (v > s) s = v; break;
		case RT_RMIN: if (v < s) s = v; break;
		}
		rt_next(nr, rd, idx, &off, rs, NULL, NULL, NULL, NULL);
	}
	switch (op) {
	case RT_RMEAN: return s / (double)cnt;
	case RT_RL2: return sqrt(s);
	case RT_RLOGSUM: return log(s);
	}
	return s;
}

/* The same for integer dtypes (exact int64 arithmetic). */
static int64_t rt_reduce_rowi(int64_t op, const void *x, int64_t dt, int64_t base, int64_t nr,
			      const int64_t *rd, const int64_t *rs, int64_t cnt)
{
	int64_t idx[RT_MAXDIM] = { 0 }, off = base, k, s = 0;
	int uns = dt == RT_U64;
	if (op == RT_RPROD)
		s = 1;
	else if (op == RT_RMAX)
		s = uns ? 0 : INT64_MIN;
	else if (op == RT_RMIN)
		s = uns ? -1 : INT64_MAX;
	for (k = 0; k < cnt; k++) {
		int64_t v = rt_geti(x, dt, off);
		switch (op) {
		case RT_RSUM: case RT_RMEAN: s = (int64_t)((uint64_t)s + (uint64_t)v); break;
		case RT_RSUMSQ: s = (int64_t)((uint64_t)s + (uint64_t)v * (uint64_t)v); break;
		case RT_RL1: s += v < 0 ? -v : v; break;
		case RT_RPROD: s = (int64_t)((uint64_t)s * (uint64_t)v); break;
		case RT_RMAX: if (uns ? (uint64_t)v > (uint64_t)s : v > s) s = v; break;
		case RT_RMIN: if (uns ? (uint64_t)v < (uint64_t)s : v < s) s = v; break;
		}
		rt_next(nr, rd, idx, &off, rs, NULL, NULL, NULL, NULL);
	}
	if (op == RT_RMEAN)
		s = cnt ? (uns ? (int64_t)((uint64_t)s / (uint64_t)cnt) : s / cnt) : 0;
	return s;
}

/* float32 row with one strided reduced dim */
static float rt_reduce_rowf32(int64_t op, const float *x, int64_t n, int64_t st)
{
	int64_t k;
	double s = 0;
	float m;
	switch (op) {
	case RT_RSUM: case RT_RMEAN: case RT_RLOGSUM:
		if (st == 1) {
			float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
			for (k = 0; k + 4 <= n; k += 4) {
				a0 += x[k]; a1 += x[k + 1]; a2 += x[k + 2]; a3 += x[k + 3];
			}
			for (; k < n; k++)
				a0 += x[k];
			s = (double)(a0 + a1) + (double)(a2 + a3);
		} else {
			for (k = 0; k < n; k++)
				s += x[k * st];
		}
		if (op == RT_RMEAN)
			s /= (double)n;
		else if (op == RT_RLOGSUM)
			s = log(s);
		return (float)s;
	case RT_RSUMSQ: case RT_RL2:
		if (st == 1) {
			float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
			for (k = 0; k + 4 <= n; k += 4) {
				a0 += x[k] * x[k]; a1 += x[k + 1] * x[k + 1];
				a2 += x[k + 2] * x[k + 2]; a3 += x[k + 3] * x[k + 3];
			}
			for (; k < n; k++)
				a0 += x[k] * x[k];
			s = (double)(a0 + a1) + (double)(a2 + a3);
		} else {
			for (k = 0; k < n; k++)
				s += (double)x[k * st] * x[k * st];
		}
		return (float)(op == RT_RL2 ? sqrt(s) : s);
	case RT_RL1:
		for (k = 0; k < n; k++)
			s += fabsf(x[k * st]);
		return (float)s;
	case RT_RMAX: /* as ONNX Runtime: NaN only sticks when it comes first */
		m = n ? x[0] : (float)-rt_reduce_inf();
		for (k = 1; k < n; k++)
			if (x[k * st] > m)
				m = x[k * st];
		return m;
	case RT_RMIN:
		m = n ? x[0] : (float)rt_reduce_inf();
		for (k = 1; k < n; k++)
			if (x[k * st] < m)
				m = x[k * st];
		return m;
	}
	return (float)rt_reduce_rowf(op, x, RT_F32, 0, 1, &n, &st, n);
}

/* t = {x, y}; p = {op, dtype, no, nr, odims[no], ostr[no], rdims[nr], rstr[nr]}
 * y is written contiguously in the order of the outer walk. */
RT_API void rt_reduce(void *const *t, const int64_t *p)
{
	int64_t op = p[0], dt = p[1], no = p[2], nr = p[3];
	const int64_t *od = p + 4, *os = od + no, *rd = os + no, *rs = rd + nr;
	int64_t idx[RT_MAXDIM] = { 0 }, off = 0, nout = 1, cnt = 1, o, k;
	int isf = rt_is_float(dt);
	int intmath = !isf && op != RT_RL2 && op != RT_RLOGSUM && op != RT_RLSE;
	for (k = 0; k < no; k++)
		nout *= od[k];
	for (k = 0; k < nr; k++)
		cnt *= rd[k];
	for (o = 0; o < nout; o++) {
		if (dt == RT_F32 && nr <= 1)
			((float *)t[1])[o] = rt_reduce_rowf32(op, (const float *)t[0] + off, nr ? rd[0] : 1, nr ? rs[0] : 1);
		else if (intmath)
			rt_seti(t[1], dt, o, rt_reduce_rowi(op, t[0], dt, off, nr, rd, rs, cnt));
		else
			rt_setf(t[1], dt, o, rt_reduce_rowf(op, t[0], dt, off, nr, rd, rs, cnt));
		rt_next(no, od, idx, &off, os, NULL, NULL, NULL, NULL);
	}
}

/* t = {x, y(int64)}; p = {op, dtype, outer, n, inner, select_last} */
RT_API void rt_argreduce(void *const *t, const int64_t *p)
{
	int64_t op = p[0], dt = p[1], outer = p[2], n = p[3], inner = p[4], last = p[5];
	int64_t *y = (int64_t *)t[1], o, i, j;
	int isf = rt_is_float(dt), mx = op == RT_RARGMAX;
	for (o = 0; o < outer; o++)
		for (i = 0; i < inner; i++) {
			int64_t base = o * n * inner + i, best = 0;
			if (dt == RT_F32) {
				const float *x = (const float *)t[0] + base;
				float b = x[0];
				for (j = 1; j < n; j++) {
					float v = x[j * inner];
					if (mx ? (v > b || (last && v == b)) : (v < b || (last && v == b))) {
						b = v;
						best = j;
					}
				}
			} else if (isf) {
				double b = n ? rt_getf(t[0], dt, base) : 0;
				for (j = 1; j < n; j++) {
					double v = rt_getf(t[0], dt, base + j * inner);
					if (mx ? (v > b || (last && v == b)) : (v < b || (last && v == b))) {
						b = v;
						best = j;
					}
				}
			} else {
				int64_t b = n ? rt_geti(t[0], dt, base) : 0;
				int uns = dt == RT_U64;
				for (j = 1; j < n; j++) {
					int64_t v = rt_geti(t[0], dt, base + j * inner);
					int gt = uns ? (uint64_t)v > (uint64_t)b : v > b;
					int lt = uns ? (uint64_t)v < (uint64_t)b : v < b;
					if (mx ? (gt || (last && v == b)) : (lt || (last && v == b))) {
						b = v;
						best = j;
					}
				}
			}
			y[o * inner + i] = best;
		}
}

/* t = {x, y}; p = {mode, dtype, outer, n, inner}
 * Rows of all -inf give NaN (as ONNX Runtime does); -inf entries give 0. */
RT_API void rt_softmax(void *const *t, const int64_t *p)
{
	int64_t mode = p[0], dt = p[1], outer = p[2], n = p[3], inner = p[4], o, i, j;
	if (n <= 0)
		return;
	for (o = 0; o < outer; o++)
		for (i = 0; i < inner; i++) {
			int64_t base = o * n * inner + i, arg = 0;
			double m, s = 0;
			if (dt == RT_F32) {
				rt_reduce_softmax_f32(mode, (const float *)t[0] + base, (float *)t[1] + base, n, inner, 0);
				continue;
			}
			m = rt_getf(t[0], dt, base);
			for (j = 1; j < n; j++) {
				double v = rt_getf(t[0], dt, base + j * inner);
				if (v > m) {
					m = v;
					arg = j;
				}
			}
			if (m != m)
				arg = -1;
			if (mode == RT_SM_HARD) {
				for (j = 0; j < n; j++)
					rt_setf(t[1], dt, base + j * inner, j == arg);
				continue;
			}
			for (j = 0; j < n; j++)
				s += exp(rt_getf(t[0], dt, base + j * inner) - m);
			for (j = 0; j < n; j++) {
				double v = rt_getf(t[0], dt, base + j * inner) - m;
				rt_setf(t[1], dt, base + j * inner, mode == RT_SM_LOG ? v - log(s) : exp(v) / s);
			}
		}
}

/* rt_sink_softmax: rows of Softmax([x_0 .. x_{n-1}, z]) without the last
 * column, as GPT-OSS's attention writes it (Concat of a sink column,
 * Softmax over the last axis, Slice of the first n; compiler/chain.c):
 * rt_softmax's row with z as its n + 1-th value, so the same bits.
 * t = {x [rows, n], z [rows], y [rows, n]}; p = {rows, n} */
RT_API void rt_sink_softmax(void *const *t, const int64_t *p)
{
	int64_t rows = p[0], n = p[1], r;
	for (r = 0; r < rows; r++)
		rt_reduce_softmax_f32(RT_SM_SOFT, (const float *)t[0] + r * n, (float *)t[2] + r * n, n, 1,
				      (const float *)t[1] + r);
}

/* TopK order: is element a (index ia) placed before element b?  Ties go to
 * the lower index; NaN comes after every number (largest or smallest). */
static int rt_reduce_before(const void *x, int64_t dt, int64_t a, int64_t b, int64_t ia, int64_t ib, int64_t largest)
{
	int c; /* -1: a < b, 0: equal, 1: a > b */
	if (dt == RT_F32 || rt_is_float(dt)) {
		double va, vb;
		if (dt == RT_F32) {
			va = ((const float *)x)[a];
			vb = ((const float *)x)[b];
		} else {
			va = rt_getf(x, dt, a);
			vb = rt_getf(x, dt, b);
		}
		if (va != va || vb != vb)
			return vb != vb && (va == va || ia < ib);
		c = (va > vb) - (va < vb);
	} else if (dt == RT_U64) {
		uint64_t va = (uint64_t)rt_geti(x, dt, a), vb = (uint64_t)rt_geti(x, dt, b);
		c = (va > vb) - (va < vb);
	} else {
		int64_t va = rt_geti(x, dt, a), vb = rt_geti(x, dt, b);
		c = (va > vb) - (va < vb);
	}
	if (c == 0)
		return ia < ib;
	return largest ? c > 0 : c < 0;
}

/* sift down in a heap of axis indices whose root is the LAST in order */
static void rt_reduce_sift(int64_t *h, int64_t start, int64_t end, const void *x, int64_t dt, int64_t base,
			   int64_t inner, int64_t largest)
{
	int64_t r = start;
	while (2 * r + 1 < end) {
		int64_t c = 2 * r + 1, tmp;
		if (c + 1 < end && rt_reduce_before(x, dt, base + h[c] * inner, base + h[c + 1] * inner, h[c], h[c + 1], largest))
			c++;
		if (!rt_reduce_before(x, dt, base + h[r] * inner, base + h[c] * inner, h[r], h[c], largest))
			return;
		tmp = h[r];
		h[r] = h[c];
		h[c] = tmp;
		r = c;
	}
}

/* t = {x, values, indices(int64), scratch(int64[n])}; p = {dtype, outer, n, inner, k, largest} */
RT_API void rt_topk(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], outer = p[1], n = p[2], inner = p[3], k = p[4], largest = p[5], o, i, j;
	int64_t *h = (int64_t *)t[3], *yi = (int64_t *)t[2];
	int es = rt_dtype_size(dt);
	for (o = 0; o < outer; o++)
		for (i = 0; i < inner; i++) {
			int64_t base = o * n * inner + i, cnt = 0;
			if (k <= 16) { /* insertion into a sorted list of k */
				for (j = 0; j < n; j++) {
					int64_t pos;
					if (cnt == k && !rt_reduce_before(t[0], dt, base + j * inner, base + h[cnt - 1] * inner, j, h[cnt - 1], largest))
						continue;
					pos = cnt < k ? cnt++ : cnt - 1;
					while (pos > 0 && rt_reduce_before(t[0], dt, base + j * inner, base + h[pos - 1] * inner, j, h[pos - 1], largest)) {
						h[pos] = h[pos - 1];
						pos--;
					}
					h[pos] = j;
				}
			} else { /* heapsort of all n */
				for (j = 0; j < n; j++)
					h[j] = j;
				for (j = n / 2 - 1; j >= 0; j--)
					rt_reduce_sift(h, j, n, t[0], dt, base, inner, largest);
				for (j = n - 1; j > 0; j--) {
					int64_t tmp = h[0];
					h[0] = h[j];
					h[j] = tmp;
					rt_reduce_sift(h, 0, j, t[0], dt, base, inner, largest);
				}
			}
			for (j = 0; j < k; j++) {
				int64_t dst = (o * k + j) * inner + i;
				memcpy((char *)t[1] + dst * es, (const char *)t[0] + (base + h[j] * inner) * es, es);
				yi[dst] = h[j];
			}
		}
}

/* t = {x, y}; p = {dtype, outer, n, inner, exclusive, reverse} */
RT_API void rt_cumsum(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], outer = p[1], n = p[2], inner = p[3], excl = p[4], rev = p[5], o, i, j;
	int isf = rt_is_float(dt);
	for (o = 0; o < outer; o++)
		for (i = 0; i < inner; i++) {
			int64_t base = o * n * inner + i;
			double sf = 0;
			int64_t si = 0;
			for (j = 0; j < n; j++) {
				int64_t off = base + (rev ? n - 1 - j : j) * inner;
				if (dt == RT_F32) {
					float v = ((const float *)t[0])[off];
					if (excl) {
						((float *)t[1])[off] = (float)sf;
						sf += v;
					} else {
						sf += v;
						((float *)t[1])[off] = (float)sf;
					}
				} else if (isf) {
					double v = rt_getf(t[0], dt, off);
					if (excl) {
						rt_setf(t[1], dt, off, sf);
						sf += v;
					} else {
						sf += v;
						rt_setf(t[1], dt, off, sf);
					}
				} else {
					int64_t v = rt_geti(t[0], dt, off);
					if (excl) {
						rt_seti(t[1], dt, off, si);
						si = (int64_t)((uint64_t)si + (uint64_t)v);
					} else {
						si = (int64_t)((uint64_t)si + (uint64_t)v);
						rt_seti(t[1], dt, off, si);
					}
				}
			}
		}
}

/* the sum of x[0:n] (sq: of (x - m)^2) in double, in eight partial sums
 * ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)) that gcc turns into
 * vector lanes: a row's norm no longer waits on one chain of n adds */
static double rt_row_sum(const float *x, int64_t n, double m, int sq)
{
	double s[8] = { 0 };
	int64_t k = 0;
	int j;
	for (; k + 8 <= n; k += 8)
		for (j = 0; j < 8; j++) {
			double d = x[k + j] - m;
			s[j] += sq ? d * d : d;
		}
	for (; k < n; k++) {
		double d = x[k] - m;
		s[0] += sq ? d * d : d;
	}
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* t = {x, scale, bias, y, mean, invstd} (scale, bias, mean, invstd optional);
 * p = {mode, dtype, stat_dtype, no, nr, eps_bits,
 *      odims[no], ox[no], os[no], ob[no], rdims[nr], rx[nr], rs[nr], rb[nr]}
 * Each outer position is one row: y = (x - mean) * inv * scale + bias with
 * mean and inv computed over the row as the mode says.  y has x's strides;
 * mean and invstd are written in the order of the outer walk. */
RT_API void rt_norm(void *const *t, const int64_t *p)
{
	int64_t mode = p[0], dt = p[1], sdt = p[2], no = p[3], nr = p[4];
	double eps = rt_bits_f64(p[5]);
	const int64_t *od = p + 6, *ox = od + no, *os = ox + no, *ob = os + no;
	const int64_t *rd = ob + no, *rx = rd + nr, *rs = rx + nr, *rb = rs + nr;
	int64_t oidx[RT_MAXDIM] = { 0 }, nout = 1, cnt = 1, o, k;
	int64_t bx = 0, bs = 0, bb = 0;
	const void *sc = t[1], *bi = t[2];
	for (k = 0; k < no; k++)
		nout *= od[k];
	for (k = 0; k < nr; k++)
		cnt *= rd[k];
	for (o = 0; o < nout; o++) {
		double mean = 0, var = 0, inv;
		int64_t idx[RT_MAXDIM] = { 0 }, fx = bx, fs = bs, fb = bb;
		if (dt == RT_F32 && nr <= 1) {
			const float *x = (const float *)t[0] + bx;
			float *y = (float *)t[3] + bx;
			const float *s = sc ? (const float *)sc + bs : NULL, *b = bi ? (const float *)bi + bb : NULL;
			int64_t sx = nr ? rx[0] : 1, ss = nr ? rs[0] : 0, sb = nr ? rb[0] : 0;
			float fm, fi;
			if (sx == 1 && (mode == RT_NM_LAYER || mode == RT_NM_RMS)) {
				/* a contiguous row (the transformer's norms): sums
				 * in eight partial sums, which vectorise */
				if (mode == RT_NM_LAYER)
					mean = rt_row_sum(x, cnt, 0, 0) / (double)cnt;
				var = rt_row_sum(x, cnt, mean, 1) / (double)cnt;
			} else if (mode == RT_NM_LAYER || mode == RT_NM_MVN) {
				for (k = 0; k < cnt; k++)
					mean += x[k * sx];
				mean /= (double)cnt;
				for (k = 0; k < cnt; k++) {
					double d = x[k * sx] - mean;
					var += d * d;
				}
				var /= (double)cnt;
			} else {
				for (k = 0; k < cnt; k++) {
					double v = x[k * sx];
					var += mode == RT_NM_LP1 ? fabs(v) : v * v;
				}
				if (mode == RT_NM_RMS)
					var /= (double)cnt;
			}
			inv = mode == RT_NM_LAYER || mode == RT_NM_RMS ? 1.0 / sqrt(var + eps)
				: mode == RT_NM_MVN ? 1.0 / (sqrt(var) + eps)
				: var == 0 ? 0 /* a zero vector stays zero (ONNX reference) */
				: mode == RT_NM_LP1 ? 1.0 / var : 1.0 / sqrt(var);
			fm = (float)mean;
			fi = (float)inv;
			if (sx == 1 && (!s || ss == 1) && !b) { /* the same operations, in loops that vectorise */
				if (s)
					for (k = 0; k < cnt; k++)
						y[k] = ((x[k] - fm) * fi) * s[k];
				else
					for (k = 0; k < cnt; k++)
						y[k] = (x[k] - fm) * fi;
			} else {
				for (k = 0; k < cnt; k++) {
					float v = (x[k * sx] - fm) * fi;
					if (s)
						v *= s[k * ss];
					if (b)
						v += b[k * sb];
					y[k * sx] = v;
				}
			}
		} else {
			for (k = 0; k < cnt; k++) {
				mean += rt_getf(t[0], dt, fx);
				rt_next(nr, rd, idx, &fx, rx, NULL, NULL, NULL, NULL);
			}
			mean = cnt ? mean / (double)cnt : 0;
			if (mode != RT_NM_LAYER && mode != RT_NM_MVN)
				mean = 0;
			memset(idx, 0, sizeof idx);
			fx = bx;
			for (k = 0; k < cnt; k++) {
				double d = rt_getf(t[0], dt, fx) - mean;
				var += mode == RT_NM_LP1 ? fabs(d) : d * d;
				rt_next(nr, rd, idx, &fx, rx, NULL, NULL, NULL, NULL);
			}
			if (mode == RT_NM_LAYER || mode == RT_NM_MVN || mode == RT_NM_RMS)
				var /= (double)cnt;
			inv = mode == RT_NM_LAYER || mode == RT_NM_RMS ? 1.0 / sqrt(var + eps)
				: mode == RT_NM_MVN ? 1.0 / (sqrt(var) + eps)
				: var == 0 ? 0 /* a zero vector stays zero (ONNX reference) */
				: mode == RT_NM_LP1 ? 1.0 / var : 1.0 / sqrt(var);
			memset(idx, 0, sizeof idx);
			fx = bx;
			for (k = 0; k < cnt; k++) {
				double v = (rt_getf(t[0], dt, fx) - mean) * inv;
				if (sc)
					v *= rt_getf(sc, dt, fs);
				if (bi)
					v += rt_getf(bi, dt, fb);
				rt_setf(t[3], dt, fx, v);
				rt_next(nr, rd, idx, &fx, rx, &fs, rs, &fb, rb);
			}
		}
		if (t[4])
			rt_setf(t[4], sdt, o, mean);
		if (t[5])
			rt_setf(t[5], sdt, o, inv);
		rt_next(no, od, oidx, &bx, ox, &bs, os, &bb, ob);
	}
}

/* BatchNormalization: y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c].
 * Inference uses the given mean and var; training mode uses the batch's
 * (population variance over N and the spatial dims) and also writes
 * running_mean/var = input * momentum + batch * (1 - momentum).
 * t = {x, scale, bias, mean, var, y, running_mean, running_var};
 * p = {dtype, N, C, inner, eps_bits, training, momentum_bits} */
RT_API void rt_batchnorm(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], nb = p[1], nc = p[2], inner = p[3], train = p[5], b, c, i;
	double eps = rt_bits_f64(p[4]), mom = rt_bits_f64(p[6]);
	for (c = 0; c < nc; c++) {
		double mean = rt_getf(t[3], dt, c), var = rt_getf(t[4], dt, c), a, sh;
		if (train) {
			double s = 0, cnt = (double)(nb * inner);
			for (b = 0; b < nb; b++)
				for (i = 0; i < inner; i++)
					s += rt_getf(t[0], dt, (b * nc + c) * inner + i);
			s /= cnt;
			var = 0;
			for (b = 0; b < nb; b++)
				for (i = 0; i < inner; i++) {
					double d = rt_getf(t[0], dt, (b * nc + c) * inner + i) - s;
					var += d * d;
				}
			var /= cnt;
			if (t[6])
				rt_setf(t[6], dt, c, mean * mom + s * (1 - mom));
			if (t[7])
				rt_setf(t[7], dt, c, rt_getf(t[4], dt, c) * mom + var * (1 - mom));
			mean = s;
		}
		a = rt_getf(t[1], dt, c) / sqrt(var + eps);
		sh = rt_getf(t[2], dt, c) - mean * a;
		for (b = 0; b < nb; b++) {
			int64_t base = (b * nc + c) * inner;
			if (dt == RT_F32) {
				const float *x = (const float *)t[0] + base;
				float *y = (float *)t[5] + base, fa = (float)a, fs = (float)sh;
				for (i = 0; i < inner; i++)
					y[i] = x[i] * fa + fs;
			} else {
				for (i = 0; i < inner; i++)
					rt_setf(t[5], dt, base + i, rt_getf(t[0], dt, base + i) * a + sh);
			}
		}
	}
}
