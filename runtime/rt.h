/* rt.h: the common base of every gptossc runtime kernel.
 *
 * Every kernel has one signature:
 *
 *     void rt_NAME(void *const *t, const int64_t *p);
 *
 * t lists the tensors the kernel touches (inputs first, then outputs), p its
 * integer parameters (dtypes, dims, strides, attributes as the lowering in
 * compiler/op_*.c lays them out; floats travel as their bit patterns through
 * rt_f64_bits).  The compiler calls the same functions to fold constants,
 * and copies their source into the generated model.c, so a folded table is
 * computed by the exact code that would have computed it at run time.
 *
 * No malloc, no stdio: kernels only read t and p and write outputs.
 * Dtype codes are ONNX's TensorProto.DataType numbers.
 */
#ifndef RT_H
#define RT_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#if defined(__AVX2__) && defined(__FMA__) && !defined(RT_NO_SIMD)
#define RT_AVX2 1
#include <immintrin.h>
#endif
#if defined(__ARM_NEON) && defined(__aarch64__) && !defined(RT_NO_SIMD)
#define RT_NEON 1
#include <arm_neon.h>
#endif

#define RT_MAXDIM 8
/* Columns per band of a banded [K,N] linear weight (rt_linear layout 2).
 * 64 columns are a decoding step's registers, so a step streams each
 * band's K rows as one contiguous run (2.7x the bandwidth of 512-column
 * bands for the 20b unembedding, measured); the window's tiles are as fast. */
#define RT_LINEAR_BAND 64

/* MXFP4 blocks (runtime/fused.c): byte j of a block's 16 code bytes holds
 * value RT_MXFP4_LO(j) in its low nibble and RT_MXFP4_LO(j) + 4 in its
 * high one, the order the SIMD decoders produce; the compiler's encoder
 * (compiler/fuse.c) writes it */
#define RT_MXFP4_LO(j) (16 * ((j) / 8) + 8 * ((j) % 2) + (j) % 8 / 2)

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L
#define RT_RESTRICT restrict
#else
#define RT_RESTRICT
#endif

#ifndef RT_API
#define RT_API /* the generated code defines it as static */
#endif

#if defined(__GNUC__) || defined(__TINYC__)
#define RT_INLINE static inline __attribute__((unused))
#else
#define RT_INLINE static inline
#endif

/* Generic element accessors are called, not inlined: inlined into every
 * typed loop their switches make compile time explode. */
#if defined(__GNUC__) || defined(__TINYC__)
#define RT_SLOW static __attribute__((unused, noinline))
#else
#define RT_SLOW static
#endif

enum {
	RT_F32 = 1, RT_U8 = 2, RT_I8 = 3, RT_U16 = 4, RT_I16 = 5, RT_I32 = 6,
	RT_I64 = 7, RT_STR = 8, RT_BOOL = 9, RT_F16 = 10, RT_F64 = 11,
	RT_U32 = 12, RT_U64 = 13, RT_BF16 = 16
};

typedef void (*rt_kernel)(void *const *t, const int64_t *p);

RT_INLINE int rt_dtype_size(int64_t dt)
{
	switch (dt) {
	case RT_U8: case RT_I8: case RT_BOOL: return 1;
	case RT_U16: case RT_I16: case RT_F16: case RT_BF16: return 2;
	case RT_F32: case RT_I32: case RT_U32: return 4;
	case RT_I64: case RT_U64: case RT_F64: return 8;
	default: return 0;
	}
}

RT_INLINE int rt_is_float(int64_t dt)
{
	return dt == RT_F32 || dt == RT_F64 || dt == RT_F16 || dt == RT_BF16;
}

/* float <-> bit patterns, for floats passed in p[] */
RT_INLINE double rt_bits_f64(int64_t b)
{
	double d;
	memcpy(&d, &b, sizeof d);
	return d;
}

RT_INLINE int64_t rt_f64_bits(double d)
{
	int64_t b;
	memcpy(&b, &d, sizeof b);
	return b;
}

RT_INLINE float rt_bf16_f32(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;
	memcpy(&f, &u, 4);
	return f;
}

/* round to nearest even, NaN kept quiet */
RT_INLINE uint16_t rt_f32_bf16(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	if ((u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((u >> 16) | 0x40);
	u += 0x7fffu + ((u >> 16) & 1);
	return (uint16_t)(u >> 16);
}

RT_INLINE float rt_f16_f32(uint16_t h)
{
	uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, m = h & 0x3ff, u;
	float f;
	if (e == 0) {
		f = ldexpf((float)m, -24);
		return s ? -f : f;
	}
	if (e == 31)
		u = s | 0x7f800000u | (m << 13);
	else
		u = s | ((e + 112) << 23) | (m << 13);
	memcpy(&f, &u, 4);
	return f;
}

RT_INLINE uint16_t rt_f32_f16(float f)
{
	uint32_t u, s, m;
	int e;
	memcpy(&u, &f, 4);
	s = (u >> 16) & 0x8000;
	e = (int)((u >> 23) & 0xff) - 127 + 15;
	m = u & 0x7fffff;
	if (((u >> 23) & 0xff) == 0xff)
		return (uint16_t)(s | 0x7c00 | (m ? 0x200 : 0));
	if (e >= 31)
		return (uint16_t)(s | 0x7c00);
	if (e <= 0) {
		uint32_t mm, r, half;
		int shift;
		if (e < -10)
			return (uint16_t)s;
		mm = m | 0x800000;
		shift = 14 - e;
		r = mm >> shift;
		half = 1u << (shift - 1);
		if ((mm & ((half << 1) - 1)) > half || ((mm & ((half << 1) - 1)) == half && (r & 1)))
			r++;
		return (uint16_t)(s | r);
	}
	{
		uint32_t r = ((uint32_t)e << 10) | (m >> 13);
		uint32_t rest = m & 0x1fff;
		if (rest > 0x1000 || (rest == 0x1000 && (r & 1)))
			r++;
		return (uint16_t)(s | r);
	}
}

/* Generic element access: floats as double, integers as int64.
 * The slow path for rare dtypes; hot kernels have typed loops. */
RT_SLOW double rt_getf(const void *b, int64_t dt, int64_t i)
{
	switch (dt) {
	case RT_F32: return ((const float *)b)[i];
	case RT_F64: return ((const double *)b)[i];
	case RT_F16: return rt_f16_f32(((const uint16_t *)b)[i]);
	case RT_BF16: return rt_bf16_f32(((const uint16_t *)b)[i]);
	case RT_U8: case RT_BOOL: return ((const uint8_t *)b)[i];
	case RT_I8: return ((const int8_t *)b)[i];
	case RT_U16: return ((const uint16_t *)b)[i];
	case RT_I16: return ((const int16_t *)b)[i];
	case RT_I32: return ((const int32_t *)b)[i];
	case RT_U32: return ((const uint32_t *)b)[i];
	case RT_I64: return (double)((const int64_t *)b)[i];
	case RT_U64: return (double)((const uint64_t *)b)[i];
	}
	return 0;
}

RT_SLOW int64_t rt_geti(const void *b, int64_t dt, int64_t i)
{
	switch (dt) {
	case RT_U8: case RT_BOOL: return ((const uint8_t *)b)[i];
	case RT_I8: return ((const int8_t *)b)[i];
	case RT_U16: return ((const uint16_t *)b)[i];
	case RT_I16: return ((const int16_t *)b)[i];
	case RT_I32: return ((const int32_t *)b)[i];
	case RT_U32: return ((const uint32_t *)b)[i];
	case RT_I64: return ((const int64_t *)b)[i];
	case RT_U64: return (int64_t)((const uint64_t *)b)[i];
	default: {
		double d = rt_getf(b, dt, i);
		if (d != d)
			return 0;
		if (d >= 9.2233720368547758e18)
			return INT64_MAX;
		if (d <= -9.2233720368547758e18)
			return INT64_MIN;
		return (int64_t)d;
	}
	}
}

RT_SLOW void rt_setf(void *b, int64_t dt, int64_t i, double v)
{
	switch (dt) {
	case RT_F32: ((float *)b)[i] = (float)v; return;
	case RT_F64: ((double *)b)[i] = v; return;
	case RT_F16: ((uint16_t *)b)[i] = rt_f32_f16((float)v); return;
	case RT_BF16: ((uint16_t *)b)[i] = rt_f32_bf16((float)v); return;
	case RT_BOOL: ((uint8_t *)b)[i] = v != 0; return;
	default:
		if (v != v)
			v = 0;
		if (dt == RT_U64 || dt == RT_U32 || dt == RT_U16 || dt == RT_U8) {
			uint64_t u = v <= 0 ? (uint64_t)(int64_t)v
				: v >= 1.8446744073709552e19 ? UINT64_MAX : (uint64_t)v;
			switch (dt) {
			case RT_U8: ((uint8_t *)b)[i] = (uint8_t)u; return;
			case RT_U16: ((uint16_t *)b)[i] = (uint16_t)u; return;
			case RT_U32: ((uint32_t *)b)[i] = (uint32_t)u; return;
			default: ((uint64_t *)b)[i] = u; return;
			}
		}
		{
			int64_t x = v >= 9.2233720368547758e18 ? INT64_MAX
				: v <= -9.2233720368547758e18 ? INT64_MIN : (int64_t)v;
			switch (dt) {
			case RT_I8: ((int8_t *)b)[i] = (int8_t)x; return;
			case RT_I16: ((int16_t *)b)[i] = (int16_t)x; return;
			case RT_I32: ((int32_t *)b)[i] = (int32_t)x; return;
			default: ((int64_t *)b)[i] = x; return;
			}
		}
	}
}

RT_SLOW void rt_seti(void *b, int64_t dt, int64_t i, int64_t v)
{
	switch (dt) {
	case RT_U8: ((uint8_t *)b)[i] = (uint8_t)v; return;
	case RT_BOOL: ((uint8_t *)b)[i] = v != 0; return;
	case RT_I8: ((int8_t *)b)[i] = (int8_t)v; return;
	case RT_U16: ((uint16_t *)b)[i] = (uint16_t)v; return;
	case RT_I16: ((int16_t *)b)[i] = (int16_t)v; return;
	case RT_I32: ((int32_t *)b)[i] = (int32_t)v; return;
	case RT_U32: ((uint32_t *)b)[i] = (uint32_t)v; return;
	case RT_I64: ((int64_t *)b)[i] = v; return;
	case RT_U64: ((uint64_t *)b)[i] = (uint64_t)v; return;
	default: rt_setf(b, dt, i, dt == RT_U64 ? (double)(uint64_t)v : (double)v); return;
	}
}

/* e^x for x <= 0 (and NaN), for rt_sigmoidf and the softmaxes: within an
 * ulp of the exact value for every float (checked against exp() over all
 * of [-110, 0]: 0.98 ulp, 1.01 where the compiler contracts to FMAs), in
 * plain float arithmetic, which gcc vectorises (a vector
 * loop gives a scalar call's bits) and which gives the same bits whatever
 * the libm.  x = n ln 2 + r (ln 2 in two parts), e^r by Cephes' expf
 * polynomial, then times 2^(n + 100) and 2^-100: exact scalings but for
 * one rounding into the subnormals. */
RT_INLINE float rt_exp_neg(float x)
{
	float xc = x > -104.0f ? x : -104.0f; /* e^-104 rounds to 0; NaN is returned below */
	float n = (xc * 1.44269504f + 12582912.0f) - 12582912.0f; /* round(xc / ln 2) */
	float r = (xc - n * 0.693359375f) - n * -2.12194440e-4f, p, s1, s2;
	uint32_t u = (uint32_t)((int32_t)n + 100 + 127) << 23, v = (uint32_t)(127 - 100) << 23;
	p = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r
	     + 1.6666665459e-1f) * r + 5.0000001201e-1f;
	p = p * (r * r) + r + 1.0f;
	memcpy(&s1, &u, 4);
	memcpy(&s2, &v, 4);
	p = (p * s1) * s2;
	return x == x ? p : x;
}

/* Walk an N-d index space: advance idx (row-major) and return the offsets of
 * up to three operands with their strides.  Used by the general loops. */
RT_INLINE void rt_next(int64_t nd, const int64_t *dims, int64_t *idx,
			   int64_t *o0, const int64_t *s0,
			   int64_t *o1, const int64_t *s1,
			   int64_t *o2, const int64_t *s2)
{
	int64_t d;
	for (d = nd - 1; d >= 0; d--) {
		idx[d]++;
		if (o0) *o0 += s0[d];
		if (o1) *o1 += s1[d];
		if (o2) *o2 += s2[d];
		if (idx[d] < dims[d])
			return;
		if (o0) *o0 -= s0[d] * dims[d];
		if (o1) *o1 -= s1[d] * dims[d];
		if (o2) *o2 -= s2[d] * dims[d];
		idx[d] = 0;
	}
}

#endif
