/* shape.c: data movement: transpose, concat, slice, gather and kin.
 *
 * Most data movement is one strided copy (rt_transpose): the compiler
 * describes Transpose, Slice, Expand, Tile and DepthToSpace as output dims
 * plus the input's stride along each of them (0 to broadcast, negative to
 * reverse), with adjacent dims merged.  Elements are moved as bytes of the
 * element size, so every dtype takes the same path.
 */
#include "rt.h"
#include "shape.h"

/* An index tensor element (int32/int64 fast, anything else generic). */
static int64_t rt_shape_index(const void *b, int64_t dt, int64_t i)
{
	if (dt == RT_I64)
		return ((const int64_t *)b)[i];
	if (dt == RT_I32)
		return ((const int32_t *)b)[i];
	return rt_geti(b, dt, i);
}

/* y[0..n) = x[0, s, 2s, ...], elements of es bytes */
static void rt_shape_gather_row(char *y, const char *x, int64_t n, int64_t s, int64_t es)
{
	int64_t i;
	if (s == 1) {
		memcpy(y, x, (size_t)(n * es));
		return;
	}
	switch (es) {
	case 1:
		for (i = 0; i < n; i++)
			((uint8_t *)y)[i] = ((const uint8_t *)x)[i * s];
		return;
	case 2:
		for (i = 0; i < n; i++)
			((uint16_t *)y)[i] = ((const uint16_t *)x)[i * s];
		return;
	case 4:
		for (i = 0; i < n; i++)
			((uint32_t *)y)[i] = ((const uint32_t *)x)[i * s];
		return;
	case 8:
		for (i = 0; i < n; i++)
			((uint64_t *)y)[i] = ((const uint64_t *)x)[i * s];
		return;
	default:
		for (i = 0; i < n; i++)
			memcpy(y + i * es, x + i * s * es, (size_t)es);
	}
}

/* y[i*C + j] = x[i + j*cs] (i < R, j < C) in tiles of 64 contiguous reads
 * by 8 strided ones: at power-of-two strides the 8 strided lines share one
 * L1 set and still fit its ways. */
#ifndef RT_SHAPE_TI
#define RT_SHAPE_TI 64
#define RT_SHAPE_TJ 8
#endif
#define RT_SHAPE_TILE(T)                                                          \
	{                                                                         \
		T *yy = (T *)y;                                                   \
		const T *xx = (const T *)x;                                       \
		for (i0 = 0; i0 < R; i0 += RT_SHAPE_TI)                           \
			for (j0 = 0; j0 < C; j0 += RT_SHAPE_TJ) {                 \
				int64_t i1 = i0 + RT_SHAPE_TI < R ? i0 + RT_SHAPE_TI : R; \
				int64_t j1 = j0 + RT_SHAPE_TJ < C ? j0 + RT_SHAPE_TJ : C; \
				for (i = i0; i < i1; i++)                         \
					for (j = j0; j < j1; j++)                 \
						yy[i * C + j] = xx[i + j * cs];   \
			}                                                         \
	}

static void rt_shape_transpose2(char *y, const char *x, int64_t R, int64_t C, int64_t cs, int64_t es)
{
	int64_t i0, j0, i, j;
	switch (es) {
	case 1: RT_SHAPE_TILE(uint8_t) return;
	case 2: RT_SHAPE_TILE(uint16_t) return;
	case 4: RT_SHAPE_TILE(uint32_t) return;
	case 8: RT_SHAPE_TILE(uint64_t) return;
	default:
		for (i = 0; i < R; i++)
			for (j = 0; j < C; j++)
				memcpy(y + (i * C + j) * es, x + (i + j * cs) * es, (size_t)es);
	}
}

/* Strided copy (Transpose, Slice, Expand, Tile, DepthToSpace...).
 * t = {x, y}; p = {elem_size, offset, nd, out_dims[nd], in_strides[nd]}
 * y (contiguous, out_dims) [i...] = x[offset + sum i_k * in_strides[k]];
 * strides in elements, may be 0 or negative; nd <= RT_SHAPE_MAXND. */
RT_API void rt_transpose(void *const *t, const int64_t *p)
{
	int64_t es = p[0], nd = p[2], total = 1, k, ox = 0, n, s;
	const int64_t *dims = p + 3, *sx = dims + nd;
	int64_t idx[RT_SHAPE_MAXND] = { 0 };
	const char *x = (const char *)t[0] + p[1] * es;
	char *y = (char *)t[1];
	if (nd == 0) {
		memcpy(y, x, (size_t)es);
		return;
	}
	for (k = 0; k < nd; k++)
		total *= dims[k];
	if (total == 0)
		return;
	if (nd >= 2 && sx[nd - 2] == 1 && sx[nd - 1] != 1 && dims[nd - 2] > 1) {
		/* the last two dims are a 2-D transpose of a contiguous block:
		 * blocked copy per outer index */
		int64_t R = dims[nd - 2], C = dims[nd - 1], outer = total / (R * C), o;
		for (o = 0; o < outer; o++) {
			rt_shape_transpose2(y + o * R * C * es, x + ox * es, R, C, sx[nd - 1], es);
			rt_next(nd - 2, dims, idx, &ox, sx, 0, 0, 0, 0);
		}
		return;
	}
	n = dims[nd - 1];
	s = sx[nd - 1];
	for (k = 0; k < total; k += n) {
		rt_shape_gather_row(y + k * es, x + ox * es, n, s, es);
		rt_next(nd - 1, dims, idx, &ox, sx, 0, 0, 0, 0);
	}
}

/* Rows of bytes between two strided layouts (Concat writes each input into
 * its column band of y, Split reads each output's band of x).
 * t = {x, y}; p = {rows, row_bytes, x_stride, x_off, y_stride, y_off} (bytes) */
RT_API void rt_copy_rows(void *const *t, const int64_t *p)
{
	int64_t rows = p[0], len = p[1], r;
	const char *x = (const char *)t[0] + p[3];
	char *y = (char *)t[1] + p[5];
	if (len == 0)
		return;
	if (rows == 1 || (p[2] == len && p[4] == len)) {
		memcpy(y, x, (size_t)(rows * len));
		return;
	}
	for (r = 0; r < rows; r++)
		memcpy(y + r * p[4], x + r * p[2], (size_t)len);
}

/* Gather: y[o, j, :] = data[o, idx[j], :]; negative indices count from
 * the end; out-of-range indices give zeros.
 * t = {data, indices, y}; p = {elem_size, idx_dtype, outer, axis_dim,
 * inner_bytes, nidx} */
RT_API void rt_gather(void *const *t, const int64_t *p)
{
	int64_t idt = p[1], outer = p[2], ad = p[3], ib = p[4], ni = p[5], o, j;
	const char *x = (const char *)t[0];
	const void *ix = t[1];
	char *y = (char *)t[2];
	(void)p[0];
	/* one element per index (Gather on the last axis: de-interleaving) */
#define RT_SHAPE_GATHER1(T)                                                   \
	{                                                                     \
		const T *xs = (const T *)x;                                   \
		T *ys = (T *)y;                                               \
		for (o = 0; o < outer; o++)                                   \
			for (j = 0; j < ni; j++) {                            \
				int64_t k = rt_shape_index(ix, idt, j);       \
				if (k < 0)                                    \
					k += ad;                              \
				ys[o * ni + j] = k >= 0 && k < ad ? xs[o * ad + k] : 0; \
			}                                                     \
		return;                                                       \
	}
	if (ib == 4)
		RT_SHAPE_GATHER1(uint32_t)
	if (ib == 2)
		RT_SHAPE_GATHER1(uint16_t)
	if (ib == 8)
		RT_SHAPE_GATHER1(uint64_t)
	for (o = 0; o < outer; o++)
		for (j = 0; j < ni; j++) {
			int64_t k = rt_shape_index(ix, idt, j);
			char *dst = y + (o * ni + j) * ib;
			if (k < 0)
				k += ad;
			if (k >= 0 && k < ad)
				memcpy(dst, x + (o * ad + k) * ib, (size_t)ib);
			else
				memset(dst, 0, (size_t)ib);
		}
}

/* GatherElements: y[i] = data[i with i_axis replaced by idx[i]].
 * t = {data, indices, y}; p = {elem_size, idx_dtype, rank, axis, axis_dim,
 * idx_dims[rank], data_strides[rank]} */
RT_API void rt_gather_elements(void *const *t, const int64_t *p)
{
	int64_t es = p[0], idt = p[1], r = p[2], axis = p[3], ad = p[4], total = 1, i, ox = 0;
	const int64_t *dims = p + 5, *ds = dims + r;
	int64_t st[RT_MAXDIM], idx[RT_MAXDIM] = { 0 };
	const char *x = (const char *)t[0];
	char *y = (char *)t[2];
	for (i = 0; i < r; i++) {
		total *= dims[i];
		st[i] = i == axis ? 0 : ds[i];
	}
	for (i = 0; i < total; i++) {
		int64_t k = rt_shape_index(t[1], idt, i);
		if (k < 0)
			k += ad;
		if (k >= 0 && k < ad)
			memcpy(y + i * es, x + (ox + k * ds[axis]) * es, (size_t)es);
		else
			memset(y + i * es, 0, (size_t)es);
		rt_next(r, dims, idx, &ox, st, 0, 0, 0, 0);
	}
}

/* GatherND: y[b, n, :] = data[b, idx[b, n, 0..k), :].
 * t = {data, indices, y}; p = {elem_size, idx_dtype, batches, n_per_batch,
 * k, slice_elems, batch_stride, dims[k], strides[k]} (strides in elements) */
RT_API void rt_gather_nd(void *const *t, const int64_t *p)
{
	int64_t es = p[0], idt = p[1], B = p[2], N = p[3], K = p[4], S = p[5], bs = p[6], b, n, j;
	const int64_t *dims = p + 7, *st = dims + K;
	const char *x = (const char *)t[0];
	char *y = (char *)t[2];
	for (b = 0; b < B; b++)
		for (n = 0; n < N; n++) {
			int64_t off = b * bs, ok = 1;
			char *dst = y + (b * N + n) * S * es;
			for (j = 0; j < K; j++) {
				int64_t k = rt_shape_index(t[1], idt, (b * N + n) * K + j);
				if (k < 0)
					k += dims[j];
				ok &= k >= 0 && k < dims[j];
				off += k * st[j];
			}
			if (ok)
				memcpy(dst, x + off * es, (size_t)(S * es));
			else
				memset(dst, 0, (size_t)(S * es));
		}
}

/* y[yi] = y[yi] (reduction) u[ui] */
static void rt_shape_apply(void *y, int64_t yi, const void *u, int64_t ui, int64_t dt, int64_t red)
{
	int64_t es = rt_dtype_size(dt);
	if (red == RT_SHAPE_RED_NONE) {
		memcpy((char *)y + yi * es, (const char *)u + ui * es, (size_t)es);
		return;
	}
	if (dt == RT_F32) {
		float *a = (float *)y + yi, b = ((const float *)u)[ui];
		switch (red) {
		case RT_SHAPE_RED_ADD: *a += b; return;
		case RT_SHAPE_RED_MUL: *a *= b; return;
		case RT_SHAPE_RED_MAX: if (b > *a) *a = b; return;
		default: if (b < *a) *a = b; return;
		}
	}
	if (rt_is_float(dt)) {
		double a = rt_getf(y, dt, yi), b = rt_getf(u, dt, ui);
		a = red == RT_SHAPE_RED_ADD ? a + b : red == RT_SHAPE_RED_MUL ? a * b
			: red == RT_SHAPE_RED_MAX ? (b > a ? b : a) : (b < a ? b : a);
		rt_setf(y, dt, yi, a);
	} else {
		int64_t a = rt_geti(y, dt, yi), b = rt_geti(u, dt, ui);
		a = red == RT_SHAPE_RED_ADD ? (int64_t)((uint64_t)a + (uint64_t)b)
			: red == RT_SHAPE_RED_MUL ? (int64_t)((uint64_t)a * (uint64_t)b)
			: red == RT_SHAPE_RED_MAX ? (b > a ? b : a) : (b < a ? b : a);
		rt_seti(y, dt, yi, a);
	}
}

/* ScatterElements, in place on y (already a copy of data).
 * t = {indices, updates, y}; p = {dtype, idx_dtype, reduction, rank, axis,
 * axis_dim, upd_dims[rank], y_strides[rank]} */
RT_API void rt_scatter_elements(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], idt = p[1], red = p[2], r = p[3], axis = p[4], ad = p[5], total = 1, i, oy = 0;
	const int64_t *dims = p + 6, *ys = dims + r;
	int64_t st[RT_MAXDIM], idx[RT_MAXDIM] = { 0 };
	for (i = 0; i < r; i++) {
		total *= dims[i];
		st[i] = i == axis ? 0 : ys[i];
	}
	for (i = 0; i < total; i++) {
		int64_t k = rt_shape_index(t[0], idt, i);
		if (k < 0)
			k += ad;
		if (k >= 0 && k < ad)
			rt_shape_apply(t[2], oy + k * ys[axis], t[1], i, dt, red);
		rt_next(r, dims, idx, &oy, st, 0, 0, 0, 0);
	}
}

/* ScatterND, in place on y (already a copy of data).
 * t = {indices, updates, y}; p = {dtype, idx_dtype, reduction, n, k,
 * slice_elems, dims[k], strides[k]} */
RT_API void rt_scatter_nd(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], idt = p[1], red = p[2], N = p[3], K = p[4], S = p[5], n, j, e;
	const int64_t *dims = p + 6, *st = dims + K;
	int64_t es = rt_dtype_size(dt);
	for (n = 0; n < N; n++) {
		int64_t off = 0, ok = 1;
		for (j = 0; j < K; j++) {
			int64_t k = rt_shape_index(t[0], idt, n * K + j);
			if (k < 0)
				k += dims[j];
			ok &= k >= 0 && k < dims[j];
			off += k * st[j];
		}
		if (!ok)
			continue;
		if (red == RT_SHAPE_RED_NONE)
			memcpy((char *)t[2] + off * es, (const char *)t[1] + n * S * es, (size_t)(S * es));
		else
			for (e = 0; e < S; e++)
				rt_shape_apply(t[2], off + e, t[1], n * S + e, dt, red);
	}
}

/* y[0..n) = value (one element of es bytes).  t = {value, y}; p = {es, n} */
RT_API void rt_fill(void *const *t, const int64_t *p)
{
	int64_t es = p[0], n = p[1], i;
	char *y = (char *)t[1];
	const char *v = (const char *)t[0];
	int zero = 1;
	for (i = 0; i < es; i++)
		zero &= v[i] == 0;
	if (zero) {
		memset(y, 0, (size_t)(n * es));
		return;
	}
	if (es == 4) {
		uint32_t u;
		memcpy(&u, v, 4);
		for (i = 0; i < n; i++)
			((uint32_t *)y)[i] = u;
		return;
	}
	for (i = 0; i < n; i++)
		memcpy(y + i * es, v, (size_t)es);
}

/* Pad.  t = {x, value or NULL, y}; p = {es, mode, rank, in_dims[rank],
 * pad_begin[rank], out_dims[rank]}; pads may be negative (cropping). */
RT_API void rt_pad(void *const *t, const int64_t *p)
{
	int64_t es = p[0], mode = p[1], r = p[2], total = 1, i, k;
	const int64_t *id = p + 3, *pb = id + r, *od = pb + r;
	int64_t idx[RT_MAXDIM] = { 0 }, xs[RT_MAXDIM];
	const char *x = (const char *)t[0];
	char *y = (char *)t[2];
	char zero[16] = { 0 };
	const char *val = t[1] ? (const char *)t[1] : zero;
	int64_t s = 1;
	for (k = r - 1; k >= 0; k--) {
		xs[k] = s;
		s *= id[k];
		total *= od[k];
	}
	for (i = 0; i < total; i++) {
		int64_t off = 0, in = 1;
		for (k = 0; k < r; k++) {
			int64_t c = idx[k] - pb[k], d = id[k];
			if (c < 0 || c >= d) {
				if (mode == RT_SHAPE_PAD_CONSTANT || d == 0) {
					in = 0;
					break;
				}
				if (mode == RT_SHAPE_PAD_EDGE) {
					c = c < 0 ? 0 : d - 1;
				} else if (mode == RT_SHAPE_PAD_WRAP) {
					c %= d;
					if (c < 0)
						c += d;
				} else if (d == 1) {
					c = 0;
				} else { /* reflect, period 2(d-1) */
					int64_t per = 2 * (d - 1);
					c %= per;
					if (c < 0)
						c += per;
					if (c >= d)
						c = per - c;
				}
			}
			off += c * xs[k];
		}
		memcpy(y + i * es, in ? x + off * es : val, (size_t)es);
		for (k = r - 1; k >= 0; k--) {
			if (++idx[k] < od[k])
				break;
			idx[k] = 0;
		}
	}
}

/* Trilu over the last two dims.  t = {x, k or NULL, y};
 * p = {es, upper, batch, rows, cols, k (when no k tensor), k_dtype} */
RT_API void rt_trilu(void *const *t, const int64_t *p)
{
	int64_t es = p[0], upper = p[1], B = p[2], R = p[3], C = p[4], kk = p[5], b, i;
	const char *x = (const char *)t[0];
	char *y = (char *)t[2];
	if (t[1])
		kk = rt_shape_index(t[1], p[6], 0);
	for (b = 0; b < B; b++)
		for (i = 0; i < R; i++) {
			const char *xr = x + (b * R + i) * C * es;
			char *yr = y + (b * R + i) * C * es;
			/* keep j - i >= k (upper) or j - i <= k (lower) */
			int64_t lo = upper ? i + kk : 0, hi = upper ? C : i + kk + 1;
			lo = lo < 0 ? 0 : lo > C ? C : lo;
			hi = hi < 0 ? 0 : hi > C ? C : hi;
			if (hi < lo)
				hi = lo;
			memset(yr, 0, (size_t)(lo * es));
			memcpy(yr + lo * es, xr + lo * es, (size_t)((hi - lo) * es));
			memset(yr + hi * es, 0, (size_t)((C - hi) * es));
		}
}

/* Range: y[i] = start + i * delta.  t = {start, delta, y}; p = {dtype, n} */
RT_API void rt_range(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], n = p[1], i;
	if (dt == RT_F32) {
		float s = *(const float *)t[0], d = *(const float *)t[1];
		for (i = 0; i < n; i++)
			((float *)t[2])[i] = s + (float)i * d;
	} else if (rt_is_float(dt)) {
		double s = rt_getf(t[0], dt, 0), d = rt_getf(t[1], dt, 0);
		for (i = 0; i < n; i++)
			rt_setf(t[2], dt, i, s + (double)i * d);
	} else {
		int64_t s = rt_geti(t[0], dt, 0), d = rt_geti(t[1], dt, 0);
		for (i = 0; i < n; i++)
			rt_seti(t[2], dt, i, s + i * d);
	}
}

/* EyeLike: ones on diagonal k.  t = {y}; p = {dtype, rows, cols, k} */
RT_API void rt_eyelike(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], R = p[1], C = p[2], k = p[3], i;
	memset(t[0], 0, (size_t)(R * C * rt_dtype_size(dt)));
	for (i = 0; i < R; i++)
		if (i + k >= 0 && i + k < C)
			rt_setf(t[0], dt, i * C + i + k, 1.0);
}

/* OneHot: y[o, d, i] = idx[o, i] == d ? on : off (negative indices count
 * from the end).  t = {indices, values, y}; p = {idx_dtype, es, outer,
 * depth, inner} */
RT_API void rt_onehot(void *const *t, const int64_t *p)
{
	int64_t idt = p[0], es = p[1], outer = p[2], depth = p[3], inner = p[4], o, d, i;
	const char *off = (const char *)t[1], *on = off + es;
	char *y = (char *)t[2];
	for (o = 0; o < outer; o++)
		for (i = 0; i < inner; i++) {
			int64_t k = rt_geti(t[0], idt, o * inner + i);
			if (k < 0)
				k += depth;
			for (d = 0; d < depth; d++)
				memcpy(y + ((o * depth + d) * inner + i) * es, d == k ? on : off, (size_t)es);
		}
}

/* ReverseSequence.  t = {x, lens, y}; p = {es, lens_dtype, rank, dims[rank],
 * batch_axis, time_axis} */
RT_API void rt_reverse_sequence(void *const *t, const int64_t *p)
{
	int64_t es = p[0], ldt = p[1], r = p[2], total = 1, i, k;
	const int64_t *dims = p + 3;
	int64_t ba = p[3 + r], ta = p[4 + r], st[RT_MAXDIM], idx[RT_MAXDIM] = { 0 }, s = 1;
	const char *x = (const char *)t[0];
	char *y = (char *)t[2];
	for (k = r - 1; k >= 0; k--) {
		st[k] = s;
		s *= dims[k];
	}
	total = s;
	for (i = 0; i < total; i++) {
		int64_t L = rt_geti(t[1], ldt, idx[ba]), tt = idx[ta], src = i;
		if (L > dims[ta])
			L = dims[ta];
		if (tt < L)
			src += (L - 1 - 2 * tt) * st[ta];
		memcpy(y + i * es, x + src * es, (size_t)es);
		for (k = r - 1; k >= 0; k--) {
			if (++idx[k] < dims[k])
				break;
			idx[k] = 0;
		}
	}
}
