/* elementwise.c: unary and binary maps, Where, Cast, Clip, copies.
 *
 * Broadcasting is resolved by the compiler into per-operand strides over
 * the output's dims (0 along broadcast axes), with adjacent dims merged, so
 * the kernels walk a flat index space.  float32 has typed fast paths; every
 * other dtype goes through double (floats) or int64 (integers).
 */
#include "rt.h"
#include "elementwise.h"

static double rt_unary1(int64_t op, double x, double a, double b)
{
	switch (op) {
	case RT_ABS: return fabs(x);
	case RT_NEG: return -x;
	case RT_EXP: return exp(x);
	case RT_LOG: return log(x);
	case RT_SQRT: return sqrt(x);
	case RT_RECIP: return 1.0 / x;
	case RT_FLOOR: return floor(x);
	case RT_CEIL: return ceil(x);
	case RT_ROUND: return nearbyint(x);
	case RT_SIGN: return x > 0 ? 1 : x < 0 ? -1 : 0;
	case RT_SIGMOID: return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
	case RT_TANH: return tanh(x);
	case RT_RELU: return x > 0 ? x : 0;
	case RT_ERF: return erf(x);
	case RT_SIN: return sin(x);
	case RT_COS: return cos(x);
	case RT_TAN: return tan(x);
	case RT_ASIN: return asin(x);
	case RT_ACOS: return acos(x);
	case RT_ATAN: return atan(x);
	case RT_SINH: return sinh(x);
	case RT_COSH: return cosh(x);
	case RT_ASINH: return asinh(x);
	case RT_ACOSH: return acosh(x);
	case RT_ATANH: return atanh(x);
	case RT_SOFTPLUS: return x > 30 ? x : log1p(exp(x));
	case RT_SOFTSIGN: return x / (1.0 + fabs(x));
	case RT_NOT: return x == 0;
	case RT_ISNAN: return x != x;
	case RT_ISINF: return isinf(x) != 0;
	case RT_ISPOSINF: return isinf(x) && x > 0;
	case RT_ISNEGINF: return isinf(x) && x < 0;
	case RT_HARDSIGMOID: { double y = a * x + b; return y < 0 ? 0 : y > 1 ? 1 : y; }
	case RT_LEAKYRELU: return x >= 0 ? x : a * x;
	case RT_ELU: return x >= 0 ? x : a * (exp(x) - 1);
	case RT_SELU: return x > 0 ? b * x : b * (a * exp(x) - a);
	case RT_CELU: return (x > 0 ? x : 0) + fmin(0.0, a * (exp(x / a) - 1));
	case RT_THRESHRELU: return x > a ? x : 0;
	case RT_HARDSWISH: { double y = x / 6 + 0.5; return x * (y < 0 ? 0 : y > 1 ? 1 : y); }
	case RT_MISH: return x * tanh(x > 30 ? x : log1p(exp(x)));
	case RT_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
	case RT_GELU_TANH: return 0.5 * x * (1 + tanh(sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
	}
	return 0;
}

/* SwiGLU's sigmoid, in float: e^-|x| never overflows */
RT_INLINE float rt_sigmoidf(float x)
{
	float e = rt_exp_neg(-fabsf(x));
	return x >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

/* t = {x, y}; p = {op, dtype_in, dtype_out, n, a_bits, b_bits} */
RT_API void rt_unary(void *const *t, const int64_t *p)
{
	int64_t op = p[0], di = p[1], dout = p[2], n = p[3], i;
	double a = rt_bits_f64(p[4]), b = rt_bits_f64(p[5]);
	if (op == RT_BITNOT || (!rt_is_float(di) && (op == RT_ABS || op == RT_NEG || op == RT_SIGN || op == RT_RELU))) {
		for (i = 0; i < n; i++) {
			int64_t x = rt_geti(t[0], di, i);
			int64_t y = op == RT_BITNOT ? ~x : op == RT_ABS ? (x < 0 ? -x : x)
				: op == RT_NEG ? -x : op == RT_SIGN ? (x > 0) - (x < 0) : (x > 0 ? x : 0);
			rt_seti(t[1], dout, i, y);
		}
		return;
	}
	if (di == RT_F32 && dout == RT_F32) {
		const float *x = (const float *)t[0];
		float *y = (float *)t[1];
		switch (op) {
		case RT_NEG: for (i = 0; i < n; i++) y[i] = -x[i]; return;
		case RT_RELU: for (i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0; return;
		case RT_SQRT: for (i = 0; i < n; i++) y[i] = sqrtf(x[i]); return;
		case RT_RECIP: for (i = 0; i < n; i++) y[i] = 1.0f / x[i]; return;
		case RT_SIGMOID: for (i = 0; i < n; i++) y[i] = rt_sigmoidf(x[i]); return;
		default: break;
		}
		for (i = 0; i < n; i++)
			y[i] = (float)rt_unary1(op, x[i], a, b);
		return;
	}
	for (i = 0; i < n; i++)
		rt_setf(t[1], dout, i, rt_unary1(op, rt_getf(t[0], di, i), a, b));
}

static double rt_binf(int64_t op, double x, double y)
{
	switch (op) {
	case RT_ADD: return x + y;
	case RT_SUB: return x - y;
	case RT_MUL: return x * y;
	case RT_DIV: return x / y;
	case RT_POW: return pow(x, y);
	case RT_MOD: { double r = fmod(x, y); return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r; }
	case RT_FMOD: return fmod(x, y);
	case RT_MAX: return x != x || y != y ? x + y : x > y ? x : y;
	case RT_MIN: return x != x || y != y ? x + y : x < y ? x : y;
	case RT_EQ: return x == y;
	case RT_LT: return x < y;
	case RT_GT: return x > y;
	case RT_LE: return x <= y;
	case RT_GE: return x >= y;
	case RT_AND: return (x != 0) && (y != 0);
	case RT_OR: return (x != 0) || (y != 0);
	case RT_XOR: return (x != 0) != (y != 0);
	case RT_PRELU: return x < 0 ? x * y : x;
	}
	return 0;
}

static int64_t rt_bini(int64_t op, int64_t x, int64_t y, int64_t dt)
{
	int bits = rt_dtype_size(dt) * 8;
	switch (op) {
	case RT_ADD: return (int64_t)((uint64_t)x + (uint64_t)y);
	case RT_SUB: return (int64_t)((uint64_t)x - (uint64_t)y);
	case RT_MUL: return (int64_t)((uint64_t)x * (uint64_t)y);
	case RT_DIV:
		if (!y) return 0;
		if (dt == RT_U64) return (int64_t)((uint64_t)x / (uint64_t)y);
		return x / y;
	case RT_POW: { int64_t r = 1; while (y-- > 0) r *= x; return r; }
	case RT_MOD: {
		int64_t r;
		if (!y) return 0;
		if (dt == RT_U64) return (int64_t)((uint64_t)x % (uint64_t)y);
		r = x % y;
		return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
	}
	case RT_FMOD: return y ? x % y : 0;
	case RT_MAX: return dt == RT_U64 ? ((uint64_t)x > (uint64_t)y ? x : y) : x > y ? x : y;
	case RT_MIN: return dt == RT_U64 ? ((uint64_t)x < (uint64_t)y ? x : y) : x < y ? x : y;
	case RT_EQ: return x == y;
	case RT_LT: return dt == RT_U64 ? (uint64_t)x < (uint64_t)y : x < y;
	case RT_GT: return dt == RT_U64 ? (uint64_t)x > (uint64_t)y : x > y;
	case RT_LE: return dt == RT_U64 ? (uint64_t)x <= (uint64_t)y : x <= y;
	case RT_GE: return dt == RT_U64 ? (uint64_t)x >= (uint64_t)y : x >= y;
	case RT_AND: return x && y;
	case RT_OR: return x || y;
	case RT_XOR: return !x != !y;
	case RT_SHL: return y >= bits ? 0 : (int64_t)((uint64_t)x << y);
	case RT_SHR: return y >= bits ? 0 : (int64_t)((uint64_t)x >> y);
	case RT_BITAND: return x & y;
	case RT_BITOR: return x | y;
	case RT_BITXOR: return x ^ y;
	case RT_PRELU: return x < 0 ? x * y : x;
	}
	return 0;
}

static void rt_binary_f32(int64_t op, float *y, const float *a, const float *b, int64_t n, int64_t sa, int64_t sb)
{
	int64_t i = 0;
#ifdef RT_AVX2
	/* the four arithmetic ops on contiguous or broadcast operands, 8 at
	 * a time (the same IEEE operations, so the same bits) */
	if ((sa | sb) <= 1 && sa >= 0 && sb >= 0 && op >= RT_ADD && op <= RT_DIV) {
		__m256 ca = _mm256_set1_ps(a[0]), cb = _mm256_set1_ps(b[0]);
		for (; i + 8 <= n; i += 8) {
			__m256 u = sa ? _mm256_loadu_ps(a + i) : ca, v = sb ? _mm256_loadu_ps(b + i) : cb;
			_mm256_storeu_ps(y + i, op == RT_ADD ? _mm256_add_ps(u, v) : op == RT_SUB ? _mm256_sub_ps(u, v)
					      : op == RT_MUL ? _mm256_mul_ps(u, v) : _mm256_div_ps(u, v));
		}
		if (i == n)
			return;
		y += i, a += i * sa, b += i * sb, n -= i, i = 0;
	}
#endif
#define RT_LOOP(expr) for (i = 0; i < n; i++) { float x0 = a[i * sa], x1 = b[i * sb]; y[i] = (expr); } return
	if (sa == 1 && sb == 1) {
		switch (op) {
		case RT_ADD: for (i = 0; i < n; i++) y[i] = a[i] + b[i]; return;
		case RT_SUB: for (i = 0; i < n; i++) y[i] = a[i] - b[i]; return;
		case RT_MUL: for (i = 0; i < n; i++) y[i] = a[i] * b[i]; return;
		case RT_DIV: for (i = 0; i < n; i++) y[i] = a[i] / b[i]; return;
		}
	}
	if (op == RT_POW && sb == 0 && b[0] == 2.0f) {
		for (i = 0; i < n; i++)
			y[i] = a[i * sa] * a[i * sa];
		return;
	}
	switch (op) {
	case RT_ADD: RT_LOOP(x0 + x1);
	case RT_SUB: RT_LOOP(x0 - x1);
	case RT_MUL: RT_LOOP(x0 * x1);
	case RT_DIV: RT_LOOP(x0 / x1);
	default: RT_LOOP((float)rt_binf(op, x0, x1));
	}
#undef RT_LOOP
}

/* t = {a, b, y}; p = {op, dtype_a, dtype_b, dtype_out, nd, dims[nd], sa[nd], sb[nd]}
 * Strides in elements; the innermost dim is walked by a flat loop. */
RT_API void rt_binary(void *const *t, const int64_t *p)
{
	int64_t op = p[0], da = p[1], db = p[2], dout = p[3], nd = p[4];
	const int64_t *dims = p + 5, *sa = dims + nd, *sb = sa + nd;
	int64_t idx[RT_MAXDIM] = { 0 }, oa = 0, ob = 0, oy = 0, total = 1, inner, k, i;
	int isf = rt_is_float(da) || rt_is_float(db);
	for (k = 0; k < nd; k++)
		total *= dims[k];
	if (!total)
		return;
	inner = nd ? dims[nd - 1] : 1;
	for (oy = 0; oy < total; oy += inner) {
		int64_t ia = nd ? sa[nd - 1] : 0, ib = nd ? sb[nd - 1] : 0;
		if (da == RT_F32 && db == RT_F32 && dout == RT_F32) {
			rt_binary_f32(op, (float *)t[2] + oy, (const float *)t[0] + oa, (const float *)t[1] + ob, inner, ia, ib);
		} else if (isf) {
			for (i = 0; i < inner; i++)
				rt_setf(t[2], dout, oy + i, rt_binf(op, rt_getf(t[0], da, oa + i * ia), rt_getf(t[1], db, ob + i * ib)));
		} else {
			for (i = 0; i < inner; i++)
				rt_seti(t[2], dout, oy + i, rt_bini(op, rt_geti(t[0], da, oa + i * ia), rt_geti(t[1], db, ob + i * ib), da));
		}
		if (nd > 1) {
			idx[nd - 1] = inner - 1;
			oa += (inner - 1) * ia;
			ob += (inner - 1) * ib;
			rt_next(nd, dims, idx, &oa, sa, &ob, sb, 0, 0);
		}
	}
}

/* t = {cond, x, y, out}; p = {dtype, nd, dims[nd], sc[nd], sx[nd], sy[nd]} */
RT_API void rt_where(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], nd = p[1], es = rt_dtype_size(dt);
	const int64_t *dims = p + 2, *sc = dims + nd, *sx = sc + nd, *sy = sx + nd;
	int64_t idx[RT_MAXDIM] = { 0 }, total = 1, k, i, oc = 0, ox = 0, oy = 0;
	const uint8_t *c = (const uint8_t *)t[0];
	const char *x = (const char *)t[1], *y = (const char *)t[2];
	char *o = (char *)t[3];
	for (k = 0; k < nd; k++)
		total *= dims[k];
	for (i = 0; i < total; i++) {
		memcpy(o + i * es, c[oc] ? x + ox * es : y + oy * es, es);
		rt_next(nd, dims, idx, &oc, sc, &ox, sx, &oy, sy);
	}
}

/* t = {x, y}; p = {dtype_in, dtype_out, n} */
RT_API void rt_cast(void *const *t, const int64_t *p)
{
	int64_t di = p[0], dout = p[1], n = p[2], i;
	if (di == dout) {
		memcpy(t[1], t[0], n * rt_dtype_size(di));
		return;
	}
	if (di == RT_BF16 && dout == RT_F32) {
		const uint16_t *x = (const uint16_t *)t[0];
		float *y = (float *)t[1];
		for (i = 0; i < n; i++)
			y[i] = rt_bf16_f32(x[i]);
		return;
	}
	if (rt_is_float(di) && dout != RT_BOOL && !rt_is_float(dout)) {
		for (i = 0; i < n; i++)
			rt_seti(t[1], dout, i, rt_geti(t[0], di, i));
	} else if (rt_is_float(di) || rt_is_float(dout) || dout == RT_BOOL) {
		for (i = 0; i < n; i++) {
			double v = rt_getf(t[0], di, i);
			if (dout == RT_F16 || dout == RT_BF16) {
				/* double -> f16/bf16 directly would round twice through f32 for f64 inputs */
				rt_setf(t[1], dout, i, v);
			} else {
				rt_setf(t[1], dout, i, v);
			}
		}
	} else {
		for (i = 0; i < n; i++)
			rt_seti(t[1], dout, i, rt_geti(t[0], di, i));
	}
}

/* t = {x, min or 0, max or 0, y}; p = {dtype, n} */
RT_API void rt_clip(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], n = p[1], i;
	if (dt == RT_F32) {
		const float *x = (const float *)t[0];
		float *y = (float *)t[3];
		float lo = t[1] ? *(const float *)t[1] : -INFINITY, hi = t[2] ? *(const float *)t[2] : INFINITY;
		for (i = 0; i < n; i++) {
			float v = x[i];
			v = v < lo ? lo : v;
			y[i] = v > hi ? hi : v;
		}
		return;
	}
	if (rt_is_float(dt)) {
		double lo = t[1] ? rt_getf(t[1], dt, 0) : -INFINITY, hi = t[2] ? rt_getf(t[2], dt, 0) : INFINITY;
		for (i = 0; i < n; i++) {
			double v = rt_getf(t[0], dt, i);
			v = v < lo ? lo : v;
			rt_setf(t[3], dt, i, v > hi ? hi : v);
		}
	} else {
		int64_t lo = t[1] ? rt_geti(t[1], dt, 0) : INT64_MIN, hi = t[2] ? rt_geti(t[2], dt, 0) : INT64_MAX;
		for (i = 0; i < n; i++) {
			int64_t v = rt_geti(t[0], dt, i);
			v = v < lo ? lo : v;
			rt_seti(t[3], dt, i, v > hi ? hi : v);
		}
	}
}

/* t = {x, y}; p = {bytes} */
RT_API void rt_copy(void *const *t, const int64_t *p)
{
	if (t[1] != t[0])
		memmove(t[1], t[0], (size_t)p[0]);
}

/* rt_ew_chain: a chain of float32 elementwise ops (compiler/chain.c) over
 * the output's R rows of L values, RT_EW_BLOCK values at a time in
 * registers on the stack (RT_EW_REGS blocks: 1 KB); rows shorter than a
 * block go several to a block.
 * t = {leaf 0, ..., leaf nl-1, y}
 * p = {nl, ni, R, L, per leaf {off, is, os, div, mod}, per op {op, a, b, c0, c1}}
 * Leaf l's value at (r, j) is element off + ((r / div) % mod) * os + j * is
 * of t[l] (broadcasts, and views such as SwiGLU's de-interleave, read in
 * place).  Op k writes register nl + k from registers a and b: a unary
 * code (c0, c1 the bits of its alpha and beta), a binary one, or
 * RT_EW_CLIP (c0, c1 the bits of the bounds); the last op's register is y.
 * Each op is the float32 operation of the unfused kernel: the same bits. */
/* a leaf's block: n values at step is (odd: s is an odd element, for the
 * de-interleave), lanes from n on left as they are; fixed trip counts
 * where the compiler can vectorise */
RT_INLINE void rt_ew_load(float *RT_RESTRICT d, const float *RT_RESTRICT s, int64_t is, int64_t n, int odd)
{
	int64_t i;
	(void)odd;
	if (n == RT_EW_BLOCK && is == 1) {
		for (i = 0; i < RT_EW_BLOCK; i++)
			d[i] = s[i];
	} else if (is == 0) {
		for (i = 0; i < RT_EW_BLOCK; i++)
			d[i] = s[0];
#ifdef RT_AVX2
	} else if (n == RT_EW_BLOCK && is == 2) { /* a de-interleave: 32 values from the even one at or before s */
		const float *e = s - odd;
		__m256 v0 = _mm256_loadu_ps(e), v1 = _mm256_loadu_ps(e + 8);
		__m256 v2 = _mm256_loadu_ps(e + 16), v3 = _mm256_loadu_ps(e + 24);
		__m256 a = odd ? _mm256_shuffle_ps(v0, v1, 0xdd) : _mm256_shuffle_ps(v0, v1, 0x88);
		__m256 b = odd ? _mm256_shuffle_ps(v2, v3, 0xdd) : _mm256_shuffle_ps(v2, v3, 0x88);
		_mm256_storeu_ps(d, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(a), 0xd8)));
		_mm256_storeu_ps(d + 8, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(b), 0xd8)));
#endif
	} else { /* lanes from n on keep earlier values (the block starts zeroed) */
		for (i = 0; i < n; i++)
			d[i] = s[i * is];
	}
}

/* one op of rt_ew_chain over a block (o = {op, a, b, c0, c1}); inlined at
 * both of rt_ew_chain's loops (a call per op and block costs more than a
 * short block) */
#if defined(__GNUC__) && !defined(__TINYC__)
__attribute__((always_inline))
#endif
RT_INLINE void rt_ew_op(const int64_t *o, int64_t n, float *RT_RESTRICT d, const float *RT_RESTRICT a,
			const float *RT_RESTRICT b)
{
	int64_t i;
	switch (o[0]) {
	case RT_ADD: case RT_SUB: case RT_MUL: case RT_DIV: rt_ew_binop(o[0], d, a, b); break;
	case RT_NEG: for (i = 0; i < RT_EW_BLOCK; i++) d[i] = -a[i]; break;
	case RT_RELU: for (i = 0; i < RT_EW_BLOCK; i++) d[i] = a[i] > 0 ? a[i] : 0; break;
	case RT_SQRT: for (i = 0; i < RT_EW_BLOCK; i++) d[i] = sqrtf(a[i]); break;
	case RT_RECIP: for (i = 0; i < RT_EW_BLOCK; i++) d[i] = 1.0f / a[i]; break;
	case RT_SIGMOID: for (i = 0; i < RT_EW_BLOCK; i++) d[i] = rt_sigmoidf(a[i]); break; /* vectorised */
	case RT_EW_CLIP: {
		float lo = (float)rt_bits_f64(o[3]), hi = (float)rt_bits_f64(o[4]);
		for (i = 0; i < RT_EW_BLOCK; i++) {
			float v = a[i] < lo ? lo : a[i];
			d[i] = v > hi ? hi : v;
		}
		break;
	}
	default: {
		double ua = rt_bits_f64(o[3]), ub = rt_bits_f64(o[4]);
		for (i = 0; i < n; i++)
			d[i] = (float)rt_unary1(o[0], a[i], ua, ub);
	}
	}
}

/* rt_ew_chain's leaves after a row: cnt[k] = r % div, idx[k] = (r / div)
 * % mod of leaf k, kept without dividing */
RT_INLINE void rt_ew_next_row(int64_t nl, const int64_t *lf, int64_t *cnt, int64_t *idx)
{
	int64_t k;
	for (k = 0; k < nl; k++)
		if (++cnt[k] == lf[5 * k + 3]) {
			cnt[k] = 0;
			if (++idx[k] == lf[5 * k + 4])
				idx[k] = 0;
		}
}

RT_API void rt_ew_chain(void *const *t, const int64_t *p)
{
	int64_t nl = p[0], ni = p[1], R = p[2], L = p[3], r, j0, k;
	const int64_t *lf = p + 4, *ops = lf + 5 * nl;
	float reg[RT_EW_REGS][RT_EW_BLOCK];
	int64_t cnt[RT_EW_REGS], idx[RT_EW_REGS]; /* r % div and (r / div) % mod, kept without dividing */
	float *y = (float *)t[nl];
	for (k = 0; k < nl; k++)
		cnt[k] = idx[k] = 0;
	memset(reg, 0, sizeof reg);
	if (L < RT_EW_BLOCK) { /* short rows (RoPE's halves): several rows a block */
		int64_t m = RT_EW_BLOCK / L;
		for (r = 0; r < R; r += m) {
			int64_t mr = R - r < m ? R - r : m, i, j;
			for (i = 0; i < mr; i++) {
				for (k = 0; k < nl; k++) {
					const int64_t *q = lf + 5 * k;
					const float *s = (const float *)t[k] + q[0] + idx[k] * q[2];
					float *d = reg[k] + i * L;
					if (q[1] == 0 && q[2] == 0) { /* a scalar: loaded once */
						if (!r && !i)
							rt_ew_load(reg[k], s, 0, RT_EW_BLOCK, 0);
					} else if (q[1] == 1) {
						for (j = 0; j < L; j++)
							d[j] = s[j];
					} else {
						for (j = 0; j < L; j++)
							d[j] = s[j * q[1]];
					}
				}
				rt_ew_next_row(nl, lf, cnt, idx);
			}
			for (k = 0; k < ni; k++) {
				const int64_t *o = ops + 5 * k;
				rt_ew_op(o, mr * L, reg[nl + k], reg[o[1]], reg[o[2]]);
			}
			memcpy(y + r * L, reg[nl + ni - 1], 4 * mr * L);
		}
		return;
	}
	for (r = 0; r < R; r++) {
		for (j0 = 0; j0 < L; j0 += RT_EW_BLOCK) {
			int64_t n = L - j0 < RT_EW_BLOCK ? L - j0 : RT_EW_BLOCK;
			for (k = 0; k < nl; k++) {
				const int64_t *q = lf + 5 * k;
				const float *s = (const float *)t[k] + q[0] + idx[k] * q[2] + j0 * q[1];
				float *d = reg[k];
				if (q[1] == 0 && q[2] == 0 && (r || j0))
					continue; /* a scalar or the same row for all: already there */
				rt_ew_load(d, s, q[1], n, (int)(q[0] & 1));
			}
			for (k = 0; k < ni; k++) {
				const int64_t *o = ops + 5 * k;
				rt_ew_op(o, n, reg[nl + k], reg[o[1]], reg[o[2]]);
			}
			memcpy(y + r * L + j0, reg[nl + ni - 1], 4 * n);
		}
		rt_ew_next_row(nl, lf, cnt, idx);
	}
}
