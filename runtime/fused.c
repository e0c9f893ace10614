/* fused.c: kernels for patterns the compiler's fuse pass finds.
 *
 * rt_moe_gemv: a Gather of expert weights followed by a contraction,
 *     Einsum("tkoh,th->tko", Gather(W[E,R,C], idx[t,k]), x[t,h])
 * computed by reading the selected expert's rows in place, instead of
 * materialising the gathered [T,k,R,C] tensor (265 MB per token at
 * gpt-oss-20b widths).
 */
#include "rt.h"

#ifdef RT_AVX2
/* the kernels' building blocks: inlined even when gcc judges them big,
 * since a call per block of 32 weights costs more than the block */
#define RT_KERNEL_INLINE static inline __attribute__((always_inline, unused))

/* v stays in a register for its uses after this: gcc otherwise folds a
 * load into each FMA that uses it, a load per use */
#define RT_IN_REG(v) __asm__("" : "+v"(v))

/* 8 bf16 values widened to floats (exact) */
RT_KERNEL_INLINE __m256 rt_bf16x8(const uint16_t *h)
{
	return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)h)), 16));
}

/* the sum of the 8 lanes, pairwise */
RT_INLINE float rt_hsum8(__m256 a)
{
	__m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
	h = _mm_add_ps(h, _mm_movehl_ps(h, h));
	h = _mm_add_ss(h, _mm_movehdup_ps(h));
	return _mm_cvtss_f32(h);
}
#endif
#ifdef RT_NEON
/* as for AVX2; gcc's aarch64 inliner also leaves the larger kernels below
 * out of line, with their format tests in the inner loops */
#define RT_KERNEL_INLINE static inline __attribute__((always_inline, unused))

/* 4 bf16 values widened to floats (exact) */
RT_INLINE float32x4_t rt_bf16x4(const uint16_t *h)
{
	return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(h), 16));
}
#endif

static float rt_fused_dot(const float *w, const float *x, int64_t n)
{
	int64_t i = 0;
	float s = 0;
#ifdef RT_AVX2
	__m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
	for (; i + 32 <= n; i += 32) {
		a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
		a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
		a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 16), _mm256_loadu_ps(x + i + 16), a2);
		a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 24), _mm256_loadu_ps(x + i + 24), a3);
	}
	for (; i + 8 <= n; i += 8)
		a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
	s = rt_hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
#elif defined(RT_NEON)
	float32x4_t a0 = vdupq_n_f32(0), a1 = vdupq_n_f32(0);
	for (; i + 8 <= n; i += 8) {
		a0 = vfmaq_f32(a0, vld1q_f32(w + i), vld1q_f32(x + i));
		a1 = vfmaq_f32(a1, vld1q_f32(w + i + 4), vld1q_f32(x + i + 4));
	}
	s = vaddvq_f32(vaddq_f32(a0, a1));
#else
	float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	for (; i + 4 <= n; i += 4) {
		s0 += w[i] * x[i];
		s1 += w[i + 1] * x[i + 1];
		s2 += w[i + 2] * x[i + 2];
		s3 += w[i + 3] * x[i + 3];
	}
	s = (s0 + s1) + (s2 + s3);
#endif
	for (; i < n; i++)
		s += w[i] * x[i];
	return s;
}

/* t = {W[E,R,C] f32, idx (i32/i64) [positions], x f32, y f32 [positions,R]}
 * p = {E, R, C, idx_dtype, nd, dims[nd], xstride[nd]}
 * positions = prod(dims); x for a position starts at sum(index_d * xstride_d)
 * and has C contiguous elements. */
RT_API void rt_moe_gemv(void *const *t, const int64_t *p)
{
	int64_t E = p[0], R = p[1], C = p[2], idt = p[3], nd = p[4];
	const int64_t *dims = p + 5, *xs = dims + nd;
	int64_t idx[RT_MAXDIM] = { 0 }, npos = 1, pos, ox = 0, d, o;
	const float *W = (const float *)t[0], *X = (const float *)t[2];
	float *Y = (float *)t[3];
	for (d = 0; d < nd; d++)
		npos *= dims[d];
	for (pos = 0; pos < npos; pos++) {
		int64_t e = idt == RT_I32 ? ((const int32_t *)t[1])[pos] : ((const int64_t *)t[1])[pos];
		float *y = Y + pos * R;
		if (e < 0)
			e += E;
		if (e < 0 || e >= E) {
			for (o = 0; o < R; o++)
				y[o] = 0;
		} else {
			const float *w = W + e * R * C, *x = X + ox;
			for (o = 0; o < R; o++)
				y[o] = rt_fused_dot(w + o * C, x, C);
		}
		rt_next(nd, dims, idx, &ox, xs, 0, 0, 0, 0);
	}
}

/* ---- weights in compressed formats ----
 * RT_BF16: the upper half of the f32 bits.
 * MXFP4 (RT_FMT_MXFP4): blocks of 32 values along a row: one E8M0 scale
 * byte (2^(e-127)) then 16 bytes of e2m1 codes.  Byte j holds value
 * RT_MXFP4_LO(j) = 16 (j / 8) + 8 (j % 2) + (j % 8) / 2 (rt.h) in its low
 * nibble and value RT_MXFP4_LO(j) + 4 in its high nibble: the order in
 * which the SIMD decoders below produce them without widening shuffles
 * (ggml's order, values j and j + 16 in byte j, costs four vpmovsxbd a
 * block).
 * Q8 (RT_FMT_Q8, --weights q8, lossy): blocks of 32 values along a row:
 * an f32 scale d then 32 int8 q, the values d * q. */
#define RT_FMT_MXFP4 100
#define RT_FMT_Q8 101

/* bytes of one row of n values in format fmt */
static int64_t rt_fused_row_bytes(int64_t fmt, int64_t n)
{
	return fmt == RT_F32 ? 4 * n : fmt == RT_BF16 ? 2 * n : fmt == RT_FMT_Q8 ? n / 32 * 36 : n / 32 * 17;
}

#if !defined(RT_AVX2) && !defined(RT_NEON)
static const float rt_fused_e2m1[16] = {
	0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
	-0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f,
};

static float rt_fused_e8m0(uint8_t e)
{
	uint32_t u = e ? (uint32_t)e << 23 : 0x00400000u; /* e = 0: 2^-127 */
	float f;
	memcpy(&f, &u, 4);
	return f;
}
#endif

#if defined(RT_AVX2) || defined(RT_NEON)
/* The bits of 0.5 * rt_fused_e8m0(e) = 2^(e-128), exactly (the SIMD
 * lookups below yield doubled e2m1 values), by scale byte: one load per
 * block instead of a dozen integer operations.  0.5 * inf for e = 255. */
#define RT_HS(e) ((e) > 1 ? (uint32_t)((e) - 1) << 23 : 0x00200000u << ((e) & 1)) /* (& 1: e is 0 or 1 there) */
#define RT_HS4(e) RT_HS(e), RT_HS(e + 1), RT_HS(e + 2), RT_HS(e + 3)
#define RT_HS16(e) RT_HS4(e), RT_HS4(e + 4), RT_HS4(e + 8), RT_HS4(e + 12)
#define RT_HS64(e) RT_HS16(e), RT_HS16(e + 16), RT_HS16(e + 32), RT_HS16(e + 48)
static const uint32_t rt_mxfp4_half_scales[256] = { RT_HS64(0), RT_HS64(64), RT_HS64(128), RT_HS16(192),
						    RT_HS16(208), RT_HS16(224), RT_HS4(240), RT_HS4(244),
						    RT_HS4(248), RT_HS(252), RT_HS(253), RT_HS(254), 0x7f800000u };
#undef RT_HS64
#undef RT_HS16
#undef RT_HS4
#undef RT_HS
#endif

#ifdef RT_AVX2
/* One MXFP4 block (a scale byte, then 16 bytes of nibble pairs) as its 32
 * floats, exactly.  Doubled e2m1 values (0, 1, 2, 3, 4, 6, 8, 12 and their
 * negatives, -0 included) are bf16 numbers, so two byte lookups (pshufb)
 * give the two bytes of their bf16 patterns; the low nibbles in the low
 * 128-bit lane and the high ones in the upper lane, the bytes interleaved
 * to 16-bit patterns, and each 32-bit lane's two patterns become two
 * floats by a shift and a mask.  The nibble order of RT_MXFP4_LO makes
 * those v[0..3] = values 0-7, 8-15, 16-23, 24-31.  Times 0.5 * scale: the
 * products of the same exact values as the scalar s * e2m1. */
RT_KERNEL_INLINE void rt_mxfp4_block(const uint8_t *b, __m256 *v)
{
	const __m256i tlo = _mm256_set1_epi64x(0x4000c08040008000ll);
	const __m256i thi = _mm256_setr_epi64x(0x4141404040403f00ll, (long long)0xc1c1c0c0c0c0bf80ull,
					       0x4141404040403f00ll, (long long)0xc1c1c0c0c0c0bf80ull);
	const __m256i hi16 = _mm256_set1_epi32((int)0xffff0000u);
	__m256i q = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(b + 1)));
	__m256i c = _mm256_and_si256(_mm256_srlv_epi32(q, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)), _mm256_set1_epi8(15));
	__m256i l = _mm256_shuffle_epi8(tlo, c), h = _mm256_shuffle_epi8(thi, c);
	__m256i w0 = _mm256_unpacklo_epi8(l, h), w1 = _mm256_unpackhi_epi8(l, h);
	__m256 sc = _mm256_castsi256_ps(_mm256_set1_epi32((int)rt_mxfp4_half_scales[b[0]]));
	v[0] = _mm256_mul_ps(sc, _mm256_castsi256_ps(_mm256_slli_epi32(w0, 16)));
	v[1] = _mm256_mul_ps(sc, _mm256_castsi256_ps(_mm256_and_si256(w0, hi16)));
	v[2] = _mm256_mul_ps(sc, _mm256_castsi256_ps(_mm256_slli_epi32(w1, 16)));
	v[3] = _mm256_mul_ps(sc, _mm256_castsi256_ps(_mm256_and_si256(w1, hi16)));
}

/* One Q8 block (an f32 scale d, then 32 int8 q) as its 32 floats d * q,
 * the scalar decode's products (q converted exactly), 8 at a time */
RT_KERNEL_INLINE void rt_q8_block(const uint8_t *b, __m256 *v)
{
	float d;
	__m256 sc;
	memcpy(&d, b, 4);
	sc = _mm256_set1_ps(d);
	/* written out: gcc keeps arrays of vectors indexed in a loop in memory */
	v[0] = _mm256_mul_ps(sc, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b + 4)))));
	v[1] = _mm256_mul_ps(sc, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b + 12)))));
	v[2] = _mm256_mul_ps(sc, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b + 20)))));
	v[3] = _mm256_mul_ps(sc, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b + 28)))));
}
#endif
#ifdef RT_NEON
/* One MXFP4 block as its 32 floats v[0..7] (values 0-3, 4-7, ...), bit
 * for bit the scalar decode's: doubled e2m1 values are bf16 numbers (0, 1,
 * 2, 3, 4, 6, 8, 12 and their negatives, -0 included), so two byte lookups
 * (vqtbl1q_u8) give the two bytes of their bf16 patterns, zipped to 16-bit
 * patterns; each 32-bit lane's two become two floats by a shift and a
 * mask, in the order RT_MXFP4_LO gives; times 0.5 * scale, the product of
 * the same exact values as the scalar s * e2m1. */
RT_KERNEL_INLINE void rt_mxfp4_block(const uint8_t *b, float32x4_t *v)
{
	const uint8x16_t tlo = vreinterpretq_u8_u64(vdupq_n_u64(0x4000c08040008000ull));
	const uint8x16_t thi = vcombine_u8(vcreate_u8(0x4141404040403f00ull), vcreate_u8(0xc1c1c0c0c0c0bf80ull));
	const uint32x4_t hi16 = vdupq_n_u32(0xffff0000u);
	uint8x16_t q = vld1q_u8(b + 1), lo = vandq_u8(q, vdupq_n_u8(15)), hi = vshrq_n_u8(q, 4);
	uint8x16_t llo = vqtbl1q_u8(tlo, lo), lhi = vqtbl1q_u8(thi, lo);
	uint8x16_t hlo = vqtbl1q_u8(tlo, hi), hhi = vqtbl1q_u8(thi, hi);
	uint32x4_t h0 = vreinterpretq_u32_u8(vzip1q_u8(llo, lhi)), h1 = vreinterpretq_u32_u8(vzip2q_u8(llo, lhi));
	uint32x4_t h2 = vreinterpretq_u32_u8(vzip1q_u8(hlo, hhi)), h3 = vreinterpretq_u32_u8(vzip2q_u8(hlo, hhi));
	float32x4_t sc = vreinterpretq_f32_u32(vld1q_dup_u32(&rt_mxfp4_half_scales[b[0]]));
	/* written out: gcc keeps arrays of vectors indexed in a loop in memory */
	v[0] = vmulq_f32(sc, vreinterpretq_f32_u32(vshlq_n_u32(h0, 16)));
	v[1] = vmulq_f32(sc, vreinterpretq_f32_u32(vshlq_n_u32(h2, 16)));
	v[2] = vmulq_f32(sc, vreinterpretq_f32_u32(vandq_u32(h0, hi16)));
	v[3] = vmulq_f32(sc, vreinterpretq_f32_u32(vandq_u32(h2, hi16)));
	v[4] = vmulq_f32(sc, vreinterpretq_f32_u32(vshlq_n_u32(h1, 16)));
	v[5] = vmulq_f32(sc, vreinterpretq_f32_u32(vshlq_n_u32(h3, 16)));
	v[6] = vmulq_f32(sc, vreinterpretq_f32_u32(vandq_u32(h1, hi16)));
	v[7] = vmulq_f32(sc, vreinterpretq_f32_u32(vandq_u32(h3, hi16)));
}

/* One Q8 block (an f32 scale d, then 32 int8 q) as its 32 floats d * q,
 * the scalar decode's products (q converted exactly) */
RT_KERNEL_INLINE void rt_q8_block(const uint8_t *b, float32x4_t *v)
{
	int8x16_t q0 = vld1q_s8((const int8_t *)(b + 4)), q1 = vld1q_s8((const int8_t *)(b + 20));
	int16x8_t h0 = vmovl_s8(vget_low_s8(q0)), h1 = vmovl_high_s8(q0), h2 = vmovl_s8(vget_low_s8(q1)), h3 = vmovl_high_s8(q1);
	float d;
	float32x4_t sc;
	memcpy(&d, b, 4);
	sc = vdupq_n_f32(d);
	v[0] = vmulq_f32(sc, vcvtq_f32_s32(vmovl_s16(vget_low_s16(h0))));
	v[1] = vmulq_f32(sc, vcvtq_f32_s32(vmovl_high_s16(h0)));
	v[2] = vmulq_f32(sc, vcvtq_f32_s32(vmovl_s16(vget_low_s16(h1))));
	v[3] = vmulq_f32(sc, vcvtq_f32_s32(vmovl_high_s16(h1)));
	v[4] = vmulq_f32(sc, vcvtq_f32_s32(vmovl_s16(vget_low_s16(h2))));
	v[5] = vmulq_f32(sc, vcvtq_f32_s32(vmovl_high_s16(h2)));
	v[6] = vmulq_f32(sc, vcvtq_f32_s32(vmovl_s16(vget_low_s16(h3))));
	v[7] = vmulq_f32(sc, vcvtq_f32_s32(vmovl_high_s16(h3)));
}

/* the 8 vectors of a block at out */
RT_KERNEL_INLINE void rt_store8(float *out, const float32x4_t *v)
{
	vst1q_f32(out, v[0]), vst1q_f32(out + 4, v[1]), vst1q_f32(out + 8, v[2]), vst1q_f32(out + 12, v[3]);
	vst1q_f32(out + 16, v[4]), vst1q_f32(out + 20, v[5]), vst1q_f32(out + 24, v[6]), vst1q_f32(out + 28, v[7]);
}
#endif

/* Decode a weight row of n values in format fmt to floats. */
static void rt_fused_decode(const void *w, int64_t fmt, int64_t n, float *out)
{
	int64_t i = 0;
	if (fmt == RT_F32) {
		memcpy(out, w, 4 * n);
		return;
	}
	if (fmt == RT_BF16) {
		const uint16_t *h = (const uint16_t *)w;
#ifdef RT_AVX2
		for (; i + 8 <= n; i += 8)
			_mm256_storeu_ps(out + i, rt_bf16x8(h + i));
#elif defined(RT_NEON)
		for (; i + 4 <= n; i += 4)
			vst1q_f32(out + i, rt_bf16x4(h + i));
#endif
		for (; i < n; i++)
			out[i] = rt_bf16_f32(h[i]);
		return;
	}
	if (fmt == RT_FMT_Q8) {
		const unsigned char *b = (const unsigned char *)w;
		for (; i + 32 <= n; i += 32, b += 36, out += 32) {
#ifdef RT_AVX2
			__m256 v[4];
			rt_q8_block(b, v);
			_mm256_storeu_ps(out, v[0]);
			_mm256_storeu_ps(out + 8, v[1]);
			_mm256_storeu_ps(out + 16, v[2]);
			_mm256_storeu_ps(out + 24, v[3]);
#elif defined(RT_NEON)
			float32x4_t v[8];
			rt_q8_block(b, v);
			rt_store8(out, v);
#else
			float d;
			int j;
			memcpy(&d, b, 4);
			for (j = 0; j < 32; j++)
				out[j] = d * (float)(signed char)b[4 + j];
#endif
		}
		return;
	}
	{
		const uint8_t *b = (const uint8_t *)w;
		for (; i + 32 <= n; i += 32, b += 17, out += 32) {
#ifdef RT_AVX2
			__m256 v[4];
			rt_mxfp4_block(b, v);
			_mm256_storeu_ps(out, v[0]);
			_mm256_storeu_ps(out + 8, v[1]);
			_mm256_storeu_ps(out + 16, v[2]);
			_mm256_storeu_ps(out + 24, v[3]);
#elif defined(RT_NEON)
			float32x4_t v[8];
			rt_mxfp4_block(b, v);
			rt_store8(out, v);
#else
			float s = rt_fused_e8m0(b[0]);
			int j;
			for (j = 0; j < 16; j++) {
				out[RT_MXFP4_LO(j)] = s * rt_fused_e2m1[b[1 + j] & 15];
				out[RT_MXFP4_LO(j) + 4] = s * rt_fused_e2m1[b[1 + j] >> 4];
			}
#endif
		}
	}
}

#ifdef RT_AVX2
/* rt_fused_dot(decoded MXFP4 row, x, n) without storing the row, up to
 * its final rt_hsum8: the same values (decoded exactly as rt_fused_decode
 * does) and the same order of FMAs and sums, so the result is
 * bit-identical.  n a multiple of 32. */
RT_KERNEL_INLINE __m256 rt_mxfp4_dot8(const uint8_t *b, const float *x, int64_t n)
{
	__m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
	int64_t i;
	for (i = 0; i < n; i += 32, b += 17) {
		__m256 v[4];
		rt_mxfp4_block(b, v);
		a0 = _mm256_fmadd_ps(v[0], _mm256_loadu_ps(x + i), a0);
		a1 = _mm256_fmadd_ps(v[1], _mm256_loadu_ps(x + i + 8), a1);
		a2 = _mm256_fmadd_ps(v[2], _mm256_loadu_ps(x + i + 16), a2);
		a3 = _mm256_fmadd_ps(v[3], _mm256_loadu_ps(x + i + 24), a3);
	}
	return _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
}

/* rt_hsum8 of four vectors at once, lane r the sum of v_r: the same
 * additions per vector ((h0 + h2) + (h1 + h3) of h = lo + hi), so the
 * same bits, with a third of the shuffles */
RT_INLINE __m128 rt_hsum8x4(__m256 v0, __m256 v1, __m256 v2, __m256 v3)
{
	__m128 h0 = _mm_add_ps(_mm256_castps256_ps128(v0), _mm256_extractf128_ps(v0, 1));
	__m128 h1 = _mm_add_ps(_mm256_castps256_ps128(v1), _mm256_extractf128_ps(v1, 1));
	__m128 h2 = _mm_add_ps(_mm256_castps256_ps128(v2), _mm256_extractf128_ps(v2, 1));
	__m128 h3 = _mm_add_ps(_mm256_castps256_ps128(v3), _mm256_extractf128_ps(v3, 1));
	/* u01 = {h0[0]+h0[2], h1[0]+h1[2], h0[1]+h0[3], h1[1]+h1[3]} */
	__m128 u01 = _mm_add_ps(_mm_unpacklo_ps(h0, h1), _mm_unpackhi_ps(h0, h1));
	__m128 u23 = _mm_add_ps(_mm_unpacklo_ps(h2, h3), _mm_unpackhi_ps(h2, h3));
	return _mm_add_ps(_mm_movelh_ps(u01, u23), _mm_movehl_ps(u23, u01));
}

/* *v0, *v1 = rt_fused_dot(row, x, n) up to its final rt_hsum8, for the two
 * rows at p and p + 256, x read once for both */
RT_KERNEL_INLINE void rt_fused_dots2(const float *p, const float *x, int64_t n, __m256 *v0, __m256 *v1)
{
	const float *q = p + 256;
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
	int64_t i;
	for (i = 0; i < n; i += 32) {
		__m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
		__m256 x2 = _mm256_loadu_ps(x + i + 16), x3 = _mm256_loadu_ps(x + i + 24);
		a0 = _mm256_fmadd_ps(_mm256_load_ps(p + i), x0, a0);
		a1 = _mm256_fmadd_ps(_mm256_load_ps(p + i + 8), x1, a1);
		a2 = _mm256_fmadd_ps(_mm256_load_ps(p + i + 16), x2, a2);
		a3 = _mm256_fmadd_ps(_mm256_load_ps(p + i + 24), x3, a3);
		b0 = _mm256_fmadd_ps(_mm256_load_ps(q + i), x0, b0);
		b1 = _mm256_fmadd_ps(_mm256_load_ps(q + i + 8), x1, b1);
		b2 = _mm256_fmadd_ps(_mm256_load_ps(q + i + 16), x2, b2);
		b3 = _mm256_fmadd_ps(_mm256_load_ps(q + i + 24), x3, b3);
	}
	*v0 = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
	*v1 = _mm256_add_ps(_mm256_add_ps(b0, b1), _mm256_add_ps(b2, b3));
}

/* y[0:4] += rt_fused_dot(r + 256 * i, x, n) for the four rows i at r:
 * the same FMAs and sums per row (x read once for two rows, one final
 * sum for four; the four vectors stay in registers), so the same bits.
 * n a multiple of 32. */
static void rt_fused_dots4(const float *r, const float *x, int64_t n, float *y)
{
	__m256 v0, v1, v2, v3;
	rt_fused_dots2(r, x, n, &v0, &v1);
	rt_fused_dots2(r + 512, x, n, &v2, &v3);
	_mm_storeu_ps(y, _mm_add_ps(_mm_loadu_ps(y), rt_hsum8x4(v0, v1, v2, v3)));
}

/* one step of rt_fused_dots2x2's tile: rows p, q (8 values each, aligned)
 * against x and z: *a += p x, *b += q x, *c += p z, *d += q z */
RT_KERNEL_INLINE void rt_fma2x2(const float *p, const float *q, const float *x, const float *z, __m256 *a,
				__m256 *b, __m256 *c, __m256 *d)
{
	__m256 w = _mm256_load_ps(p); /* one weight vector live at a time: 16 accumulators fit AVX2's registers */
	*a = _mm256_fmadd_ps(w, _mm256_loadu_ps(x), *a);
	*c = _mm256_fmadd_ps(w, _mm256_loadu_ps(z), *c);
	w = _mm256_load_ps(q);
	*b = _mm256_fmadd_ps(w, _mm256_loadu_ps(x), *b);
	*d = _mm256_fmadd_ps(w, _mm256_loadu_ps(z), *d);
}

/* rt_fused_dots2 for two x: rows p and p + 256 against x and z; each
 * (row, x) pair's FMAs and sums as rt_fused_dot's, so the same bits; a
 * 2 x 2 tile: one load per FMA, where rt_fused_dots4 takes one and a half */
RT_KERNEL_INLINE void rt_fused_dots2x2(const float *p, const float *x, const float *z, int64_t n, __m256 *v)
{
	const float *q = p + 256;
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
	__m256 c0 = a0, c1 = a0, c2 = a0, c3 = a0, d0 = a0, d1 = a0, d2 = a0, d3 = a0;
	int64_t i;
	for (i = 0; i < n; i += 32) {
		rt_fma2x2(p + i, q + i, x + i, z + i, &a0, &b0, &c0, &d0);
		rt_fma2x2(p + i + 8, q + i + 8, x + i + 8, z + i + 8, &a1, &b1, &c1, &d1);
		rt_fma2x2(p + i + 16, q + i + 16, x + i + 16, z + i + 16, &a2, &b2, &c2, &d2);
		rt_fma2x2(p + i + 24, q + i + 24, x + i + 24, z + i + 24, &a3, &b3, &c3, &d3);
	}
	v[0] = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
	v[1] = _mm256_add_ps(_mm256_add_ps(b0, b1), _mm256_add_ps(b2, b3));
	v[2] = _mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3));
	v[3] = _mm256_add_ps(_mm256_add_ps(d0, d1), _mm256_add_ps(d2, d3));
}

/* The four rows at r (256 apart) against x0, x1, x2 (n values, a
 * multiple of 32): v[4 * p + i] = rt_fused_dot's vector (before its final
 * sum) of row i and x_p.  rt_fused_dot's four accumulators (values 8s to
 * 8s + 7 of every 32) are four separate chains of FMAs, so this runs them
 * one s after another, each for the twelve (row, x) pairs at once: 4 + 3
 * loads per 12 FMAs (rt_fused_dots2x2: 4 per 4), and the same FMAs in the
 * same order per chain, then rt_fused_dot's (a0 + a1) + (a2 + a3): the
 * same bits. */
/* one step of rt_fused_dots4x3: the 8 values at w of the rows w, w + 256,
 * w + 512, w + 768 times u0, u1, u2, into a[0..3], a[4..7], a[8..11] */
RT_KERNEL_INLINE void rt_fma4x3(const float *w, __m256 u0, __m256 u1, __m256 u2, __m256 *a)
{
	__m256 v = _mm256_load_ps(w);
	RT_IN_REG(u0);
	RT_IN_REG(u1);
	RT_IN_REG(u2);
	RT_IN_REG(v);
	a[0] = _mm256_fmadd_ps(v, u0, a[0]), a[4] = _mm256_fmadd_ps(v, u1, a[4]), a[8] = _mm256_fmadd_ps(v, u2, a[8]);
	v = _mm256_load_ps(w + 256);
	RT_IN_REG(v);
	a[1] = _mm256_fmadd_ps(v, u0, a[1]), a[5] = _mm256_fmadd_ps(v, u1, a[5]), a[9] = _mm256_fmadd_ps(v, u2, a[9]);
	v = _mm256_load_ps(w + 512);
	RT_IN_REG(v);
	a[2] = _mm256_fmadd_ps(v, u0, a[2]), a[6] = _mm256_fmadd_ps(v, u1, a[6]), a[10] = _mm256_fmadd_ps(v, u2, a[10]);
	v = _mm256_load_ps(w + 768);
	RT_IN_REG(v);
	a[3] = _mm256_fmadd_ps(v, u0, a[3]), a[7] = _mm256_fmadd_ps(v, u1, a[7]), a[11] = _mm256_fmadd_ps(v, u2, a[11]);
}

/* one chain s of rt_fused_dots4x3: its twelve accumulators, from 0 */
RT_KERNEL_INLINE void rt_chain4x3(const float *r, const float *x0, const float *x1, const float *x2, int64_t n,
				  int s, __m256 *a)
{
	int64_t i;
	a[0] = a[1] = a[2] = a[3] = a[4] = a[5] = a[6] = a[7] = a[8] = a[9] = a[10] = a[11] = _mm256_setzero_ps();
	for (i = 8 * s; i < n; i += 32)
		rt_fma4x3(r + i, _mm256_loadu_ps(x0 + i), _mm256_loadu_ps(x1 + i), _mm256_loadu_ps(x2 + i), a);
}

RT_KERNEL_INLINE void rt_fused_dots4x3(const float *r, const float *x0, const float *x1, const float *x2, int64_t n,
				       __m256 *v)
{
	__m256 a[12], t[12];
	int j;
	rt_chain4x3(r, x0, x1, x2, n, 0, t);
	rt_chain4x3(r, x0, x1, x2, n, 1, a);
	for (j = 0; j < 12; j++)
		v[j] = _mm256_add_ps(t[j], a[j]); /* a0 + a1 */
	rt_chain4x3(r, x0, x1, x2, n, 2, t);
	rt_chain4x3(r, x0, x1, x2, n, 3, a);
	for (j = 0; j < 12; j++)
		v[j] = _mm256_add_ps(v[j], _mm256_add_ps(t[j], a[j])); /* + (a2 + a3) */
}

/* rt_mxfp4_dot8 for Q8 blocks (an f32 scale, then 32 int8) */
RT_KERNEL_INLINE __m256 rt_q8_dot8(const uint8_t *b, const float *x, int64_t n)
{
	__m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
	int64_t i;
	for (i = 0; i < n; i += 32, b += 36) {
		__m256 v[4];
		rt_q8_block(b, v);
		a0 = _mm256_fmadd_ps(v[0], _mm256_loadu_ps(x + i), a0);
		a1 = _mm256_fmadd_ps(v[1], _mm256_loadu_ps(x + i + 8), a1);
		a2 = _mm256_fmadd_ps(v[2], _mm256_loadu_ps(x + i + 16), a2);
		a3 = _mm256_fmadd_ps(v[3], _mm256_loadu_ps(x + i + 24), a3);
	}
	return _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
}

RT_KERNEL_INLINE __m256 rt_q_dot8(int64_t fmt, const uint8_t *b, const float *x, int64_t n)
{
	return fmt == RT_FMT_Q8 ? rt_q8_dot8(b, x, n) : rt_mxfp4_dot8(b, x, n);
}

/* Prefetch into L2 the nb bytes at p of the nr rows rb bytes apart: the
 * next rows of a MoE expert, which a single position reads once from
 * memory (the hardware prefetchers stop at each 4 KB page of the blob:
 * without this, one position's 20b expert rows went at half the speed
 * they have from cache). */
RT_KERNEL_INLINE void rt_prefetch_rows(const uint8_t *p, int64_t rb, int nr, int64_t nb)
{
	int r;
	int64_t i;
	for (r = 0; r < nr; r++, p += rb) {
		for (i = 0; i < nb; i += 64)
			_mm_prefetch((const char *)p + i, _MM_HINT_T1);
		_mm_prefetch((const char *)p + nb - 1, _MM_HINT_T1);
	}
}

/* y[o] = the chunked sum of rt_fused_dot(decoded row o, x) that the
 * decoding paths compute (chunks of 256 added in order), for the nr rows
 * of C values in format fmt (MXFP4 or Q8) at b, rb bytes apart: one
 * position's share of an expert, or one row of a linear layer, read once
 * and decoded in registers, four rows at a time.  C a multiple of 32. */
static void rt_q_rows(int64_t fmt, const uint8_t *b, int64_t rb, const float *x, int64_t C, int64_t nr, float *y)
{
	int64_t o = 0, c0;
	for (; o + 4 <= nr; o += 4, b += 4 * rb) {
		__m128 s = _mm_setzero_ps();
		for (c0 = 0; c0 < C; c0 += 256) {
			int64_t n = C - c0 < 256 ? C - c0 : 256;
			const uint8_t *bc = b + rt_fused_row_bytes(fmt, c0);
			if (o + 8 <= nr)
				rt_prefetch_rows(bc + 4 * rb, rb, 4, rt_fused_row_bytes(fmt, n));
			s = _mm_add_ps(s, rt_hsum8x4(rt_q_dot8(fmt, bc, x + c0, n), rt_q_dot8(fmt, bc + rb, x + c0, n),
						     rt_q_dot8(fmt, bc + 2 * rb, x + c0, n),
						     rt_q_dot8(fmt, bc + 3 * rb, x + c0, n)));
		}
		_mm_storeu_ps(y + o, s);
	}
	for (; o < nr; o++, b += rb) {
		float s = 0;
		for (c0 = 0; c0 < C; c0 += 256)
			s += rt_hsum8(rt_q_dot8(fmt, b + rt_fused_row_bytes(fmt, c0), x + c0, C - c0 < 256 ? C - c0 : 256));
		y[o] = s;
	}
}

/* rt_q_dot8 for two to four positions (np, a constant where it is called;
 * x2, x3 unused for fewer): each block decoded once for all of them, the
 * same FMAs per position as rt_q_dot8 (so the same bits), r[p] the
 * positions' vectors before their final sums.  n a multiple of 32.  For
 * three or four, sixteen accumulators and the block's four
 * vectors want more than AVX2's 16 registers (AVX-512 machines have 32,
 * which gcc uses with -march=native), yet decoding once beats decoding
 * twice with rt_q_dot8x2 (one 5760 x 2880 expert, -march=native: 3
 * positions 2.58 -> 1.87 ms, 4: 2.91 -> 2.44; -mavx2 -mfma: 3: 2.60 -> 2.11,
 * 4: the same) */
RT_KERNEL_INLINE void rt_q_dot8x4(int64_t fmt, int np, const uint8_t *b, const float *x0, const float *x1,
				  const float *x2, const float *x3, int64_t n, __m256 *r)
{
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
	__m256 d0 = a0, d1 = a0, d2 = a0, d3 = a0, e0 = a0, e1 = a0, e2 = a0, e3 = a0, v[4];
	int64_t i;
	for (i = 0; i < n; i += 32) {
		if (fmt == RT_FMT_Q8) {
			rt_q8_block(b, v);
			b += 36;
		} else {
			rt_mxfp4_block(b, v);
			b += 17;
		}
		a0 = _mm256_fmadd_ps(v[0], _mm256_loadu_ps(x0 + i), a0);
		a1 = _mm256_fmadd_ps(v[1], _mm256_loadu_ps(x0 + i + 8), a1);
		a2 = _mm256_fmadd_ps(v[2], _mm256_loadu_ps(x0 + i + 16), a2);
		a3 = _mm256_fmadd_ps(v[3], _mm256_loadu_ps(x0 + i + 24), a3);
		c0 = _mm256_fmadd_ps(v[0], _mm256_loadu_ps(x1 + i), c0);
		c1 = _mm256_fmadd_ps(v[1], _mm256_loadu_ps(x1 + i + 8), c1);
		c2 = _mm256_fmadd_ps(v[2], _mm256_loadu_ps(x1 + i + 16), c2);
		c3 = _mm256_fmadd_ps(v[3], _mm256_loadu_ps(x1 + i + 24), c3);
		if (np >= 3) {
			d0 = _mm256_fmadd_ps(v[0], _mm256_loadu_ps(x2 + i), d0);
			d1 = _mm256_fmadd_ps(v[1], _mm256_loadu_ps(x2 + i + 8), d1);
			d2 = _mm256_fmadd_ps(v[2], _mm256_loadu_ps(x2 + i + 16), d2);
			d3 = _mm256_fmadd_ps(v[3], _mm256_loadu_ps(x2 + i + 24), d3);
		}
		if (np == 4) {
			e0 = _mm256_fmadd_ps(v[0], _mm256_loadu_ps(x3 + i), e0);
			e1 = _mm256_fmadd_ps(v[1], _mm256_loadu_ps(x3 + i + 8), e1);
			e2 = _mm256_fmadd_ps(v[2], _mm256_loadu_ps(x3 + i + 16), e2);
			e3 = _mm256_fmadd_ps(v[3], _mm256_loadu_ps(x3 + i + 24), e3);
		}
	}
	r[0] = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
	r[1] = _mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3));
	r[2] = _mm256_add_ps(_mm256_add_ps(d0, d1), _mm256_add_ps(d2, d3));
	r[3] = _mm256_add_ps(_mm256_add_ps(e0, e1), _mm256_add_ps(e2, e3));
}

/* rt_q_dot8x4 for two positions: *r0, *r1 */
RT_KERNEL_INLINE void rt_q_dot8x2(int64_t fmt, const uint8_t *b, const float *x0, const float *x1, int64_t n,
				  __m256 *r0, __m256 *r1)
{
	__m256 r[4];
	rt_q_dot8x4(fmt, 2, b, x0, x1, 0, 0, n, r);
	*r0 = r[0], *r1 = r[1];
}

/* rt_q_rows for two positions (x0 -> y0, x1 -> y1): the same chunked
 * sums, each row read and decoded once for both, in registers (an expert
 * that two positions chose: the store and reload of rt_q_rows4's decoded
 * rows saved).  Two rows at a time. */
static void rt_q_rows2(int64_t fmt, const uint8_t *b, int64_t rb, const float *x0, const float *x1, int64_t C,
		       int64_t nr, float *y0, float *y1)
{
	int64_t o = 0, c0;
	__m256 u0, u1, u2, u3;
	for (; o + 2 <= nr; o += 2, b += 2 * rb) {
		__m128 s = _mm_setzero_ps();
		float l[4];
		for (c0 = 0; c0 < C; c0 += 256) {
			int64_t n = C - c0 < 256 ? C - c0 : 256;
			const uint8_t *bc = b + rt_fused_row_bytes(fmt, c0);
			if (o + 4 <= nr)
				rt_prefetch_rows(bc + 2 * rb, rb, 2, rt_fused_row_bytes(fmt, n));
			if (fmt == RT_FMT_Q8) { /* a loop per format */
				rt_q_dot8x2(RT_FMT_Q8, bc, x0 + c0, x1 + c0, n, &u0, &u1);
				rt_q_dot8x2(RT_FMT_Q8, bc + rb, x0 + c0, x1 + c0, n, &u2, &u3);
			} else {
				rt_q_dot8x2(RT_FMT_MXFP4, bc, x0 + c0, x1 + c0, n, &u0, &u1);
				rt_q_dot8x2(RT_FMT_MXFP4, bc + rb, x0 + c0, x1 + c0, n, &u2, &u3);
			}
			s = _mm_add_ps(s, rt_hsum8x4(u0, u1, u2, u3));
		}
		_mm_storeu_ps(l, s);
		y0[o] = l[0], y1[o] = l[1], y0[o + 1] = l[2], y1[o + 1] = l[3];
	}
	for (; o < nr; o++, b += rb) {
		float s0 = 0, s1 = 0;
		for (c0 = 0; c0 < C; c0 += 256) {
			int64_t n = C - c0 < 256 ? C - c0 : 256;
			rt_q_dot8x2(fmt, b + rt_fused_row_bytes(fmt, c0), x0 + c0, x1 + c0, n, &u0, &u1);
			s0 += rt_hsum8(u0), s1 += rt_hsum8(u1);
		}
		y0[o] = s0, y1[o] = s1;
	}
}

/* rt_q_rows for np = 3 or 4 positions (x[p] -> y[p]): the same chunked
 * sums, each row read and decoded once for all of them, one row at a
 * time (lane p of a chunk's rt_hsum8x4: position p). */
static void rt_q_rows34(int64_t fmt, int np, const uint8_t *b, int64_t rb, const float *const *x, int64_t C,
			int64_t nr, float *const *y)
{
	int64_t o, c0;
	for (o = 0; o < nr; o++, b += rb) {
		__m128 s = _mm_setzero_ps();
		float l[4];
		int p;
		for (c0 = 0; c0 < C; c0 += 256) {
			int64_t n = C - c0 < 256 ? C - c0 : 256;
			const uint8_t *bc = b + rt_fused_row_bytes(fmt, c0);
			__m256 u[4];
			if (o + 2 <= nr)
				rt_prefetch_rows(bc + rb, rb, 1, rt_fused_row_bytes(fmt, n));
			if (fmt == RT_FMT_Q8 && np == 4) /* a loop per format and count */
				rt_q_dot8x4(RT_FMT_Q8, 4, bc, x[0] + c0, x[1] + c0, x[2] + c0, x[3] + c0, n, u);
			else if (fmt == RT_FMT_Q8)
				rt_q_dot8x4(RT_FMT_Q8, 3, bc, x[0] + c0, x[1] + c0, x[2] + c0, 0, n, u);
			else if (np == 4)
				rt_q_dot8x4(RT_FMT_MXFP4, 4, bc, x[0] + c0, x[1] + c0, x[2] + c0, x[3] + c0, n, u);
			else
				rt_q_dot8x4(RT_FMT_MXFP4, 3, bc, x[0] + c0, x[1] + c0, x[2] + c0, 0, n, u);
			s = _mm_add_ps(s, rt_hsum8x4(u[0], u[1], u[2], u[3]));
		}
		_mm_storeu_ps(l, s);
		for (p = 0; p < np; p++)
			y[p][o] = l[p];
	}
}

#endif

#ifdef RT_NEON
/* rt_fused_dot(decoded row, x, n) for the MXFP4 (q8: Q8) blocks at b
 * without storing the row, up to its final vaddvq_f32: the same values
 * (decoded as rt_fused_decode does), rt_fused_dot's two accumulators (a0
 * the first 4 of every 8 values, a1 the next 4) and their sum.  n a
 * multiple of 32. */
RT_KERNEL_INLINE float32x4_t rt_blocks_dot4(int q8, const uint8_t *b, const float *x, int64_t n)
{
	float32x4_t a0 = vdupq_n_f32(0), a1 = vdupq_n_f32(0), v[8];
	int64_t i;
	for (i = 0; i < n; i += 32, b += q8 ? 36 : 17) {
		if (q8)
			rt_q8_block(b, v);
		else
			rt_mxfp4_block(b, v);
		a0 = vfmaq_f32(a0, v[0], vld1q_f32(x + i));
		a1 = vfmaq_f32(a1, v[1], vld1q_f32(x + i + 4));
		a0 = vfmaq_f32(a0, v[2], vld1q_f32(x + i + 8));
		a1 = vfmaq_f32(a1, v[3], vld1q_f32(x + i + 12));
		a0 = vfmaq_f32(a0, v[4], vld1q_f32(x + i + 16));
		a1 = vfmaq_f32(a1, v[5], vld1q_f32(x + i + 20));
		a0 = vfmaq_f32(a0, v[6], vld1q_f32(x + i + 24));
		a1 = vfmaq_f32(a1, v[7], vld1q_f32(x + i + 28));
	}
	return vaddq_f32(a0, a1);
}

/* one loop per format */
RT_KERNEL_INLINE float32x4_t rt_q_dot4(int64_t fmt, const uint8_t *b, const float *x, int64_t n)
{
	return fmt == RT_FMT_Q8 ? rt_blocks_dot4(1, b, x, n) : rt_blocks_dot4(0, b, x, n);
}

/* the lane sums of four vectors, lane r that of v_r, by the additions of
 * vaddvq_f32 (two faddp: (v0 + v1) + (v2 + v3)), so the same bits */
RT_KERNEL_INLINE float32x4_t rt_hsum4x4(float32x4_t v0, float32x4_t v1, float32x4_t v2, float32x4_t v3)
{
	return vpaddq_f32(vpaddq_f32(v0, v1), vpaddq_f32(v2, v3));
}

/* y[0:4] += rt_fused_dot(r + 256 * i, x, n) for the four rows i at r: the
 * same FMAs per row (x read once for the four), the same final sums.  n a
 * multiple of 32. */
static void rt_fused_dots4(const float *r, const float *x, int64_t n, float *y)
{
	float32x4_t a0 = vdupq_n_f32(0), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
	int64_t i;
	for (i = 0; i < n; i += 8) {
		float32x4_t x0 = vld1q_f32(x + i), x1 = vld1q_f32(x + i + 4);
		a0 = vfmaq_f32(a0, vld1q_f32(r + i), x0), a1 = vfmaq_f32(a1, vld1q_f32(r + i + 4), x1);
		b0 = vfmaq_f32(b0, vld1q_f32(r + 256 + i), x0), b1 = vfmaq_f32(b1, vld1q_f32(r + 260 + i), x1);
		c0 = vfmaq_f32(c0, vld1q_f32(r + 512 + i), x0), c1 = vfmaq_f32(c1, vld1q_f32(r + 516 + i), x1);
		d0 = vfmaq_f32(d0, vld1q_f32(r + 768 + i), x0), d1 = vfmaq_f32(d1, vld1q_f32(r + 772 + i), x1);
	}
	vst1q_f32(y, vaddq_f32(vld1q_f32(y), rt_hsum4x4(vaddq_f32(a0, a1), vaddq_f32(b0, b1), vaddq_f32(c0, c1),
							vaddq_f32(d0, d1))));
}

/* rt_q_rows for NEON, the AVX2 one's contract: the decoding paths'
 * chunked sums for nr MXFP4 or Q8 rows read once, four rows at a time */
static void rt_q_rows(int64_t fmt, const uint8_t *b, int64_t rb, const float *x, int64_t C, int64_t nr, float *y)
{
	int64_t o = 0, c0;
	for (; o + 4 <= nr; o += 4, b += 4 * rb) {
		float32x4_t s = vdupq_n_f32(0);
		for (c0 = 0; c0 < C; c0 += 256) {
			int64_t n = C - c0 < 256 ? C - c0 : 256;
			const uint8_t *bc = b + rt_fused_row_bytes(fmt, c0);
			s = vaddq_f32(s, rt_hsum4x4(rt_q_dot4(fmt, bc, x + c0, n), rt_q_dot4(fmt, bc + rb, x + c0, n),
						    rt_q_dot4(fmt, bc + 2 * rb, x + c0, n),
						    rt_q_dot4(fmt, bc + 3 * rb, x + c0, n)));
		}
		vst1q_f32(y + o, s);
	}
	for (; o < nr; o++, b += rb) {
		float s = 0;
		for (c0 = 0; c0 < C; c0 += 256)
			s += vaddvq_f32(rt_q_dot4(fmt, b + rt_fused_row_bytes(fmt, c0), x + c0, C - c0 < 256 ? C - c0 : 256));
		y[o] = s;
	}
}

/* rt_blocks_dot4 for two positions: each block decoded once, the same
 * FMAs per position, so the same bits */
RT_KERNEL_INLINE void rt_blocks_dot4x2(int q8, const uint8_t *b, const float *x0, const float *x1, int64_t n,
				       float32x4_t *r0, float32x4_t *r1)
{
	float32x4_t a0 = vdupq_n_f32(0), a1 = a0, c0 = a0, c1 = a0, v[8];
	int64_t i;
	int j;
	for (i = 0; i < n; i += 32, b += q8 ? 36 : 17) {
		if (q8)
			rt_q8_block(b, v);
		else
			rt_mxfp4_block(b, v);
		for (j = 0; j < 8; j += 2) { /* unrolled by gcc: v stays in registers */
			a0 = vfmaq_f32(a0, v[j], vld1q_f32(x0 + i + 4 * j));
			a1 = vfmaq_f32(a1, v[j + 1], vld1q_f32(x0 + i + 4 * j + 4));
			c0 = vfmaq_f32(c0, v[j], vld1q_f32(x1 + i + 4 * j));
			c1 = vfmaq_f32(c1, v[j + 1], vld1q_f32(x1 + i + 4 * j + 4));
		}
	}
	*r0 = vaddq_f32(a0, a1);
	*r1 = vaddq_f32(c0, c1);
}

/* rt_q_rows2 for NEON, the AVX2 one's contract */
static void rt_q_rows2(int64_t fmt, const uint8_t *b, int64_t rb, const float *x0, const float *x1, int64_t C,
		       int64_t nr, float *y0, float *y1)
{
	int64_t o = 0, c0;
	float32x4_t u0, u1, u2, u3;
	int q8 = fmt == RT_FMT_Q8;
	for (; o + 2 <= nr; o += 2, b += 2 * rb) {
		float32x4_t s = vdupq_n_f32(0);
		for (c0 = 0; c0 < C; c0 += 256) {
			int64_t n = C - c0 < 256 ? C - c0 : 256;
			const uint8_t *bc = b + rt_fused_row_bytes(fmt, c0);
			rt_blocks_dot4x2(q8, bc, x0 + c0, x1 + c0, n, &u0, &u1);
			rt_blocks_dot4x2(q8, bc + rb, x0 + c0, x1 + c0, n, &u2, &u3);
			s = vaddq_f32(s, rt_hsum4x4(u0, u1, u2, u3));
		}
		y0[o] = vgetq_lane_f32(s, 0), y1[o] = vgetq_lane_f32(s, 1);
		y0[o + 1] = vgetq_lane_f32(s, 2), y1[o + 1] = vgetq_lane_f32(s, 3);
	}
	for (; o < nr; o++, b += rb) {
		float s0 = 0, s1 = 0;
		for (c0 = 0; c0 < C; c0 += 256) {
			int64_t n = C - c0 < 256 ? C - c0 : 256;
			rt_blocks_dot4x2(q8, b + rt_fused_row_bytes(fmt, c0), x0 + c0, x1 + c0, n, &u0, &u1);
			s0 += vaddvq_f32(u0), s1 += vaddvq_f32(u1);
		}
		y0[o] = s0, y1[o] = s1;
	}
}

#endif

#if defined(RT_AVX2) || defined(RT_NEON)
/* yp[i][yo:yo+4] = the chunked sums of rows 0..3 of W (C values in
 * format fmt at w, rb bytes apart) dotted with xp[i], for the np vectors
 * i: each chunk of the four rows decoded once for all of them (the
 * batched MoE, layout-1 linears).  C a multiple of 32. */
static void rt_q_rows4(int64_t fmt, const uint8_t *w, int64_t rb, int64_t C, int64_t np, const float *const *xp,
		       float *const *yp, int64_t yo)
{
	float rows4[4 * 256] __attribute__((aligned(32)));
	int64_t c0, i, r;
	for (i = 0; i < np; i++)
		for (r = 0; r < 4; r++)
			yp[i][yo + r] = 0;
	for (c0 = 0; c0 < C; c0 += 256) {
		int64_t cn = C - c0 < 256 ? C - c0 : 256;
		for (r = 0; r < 4; r++)
			rt_fused_decode(w + r * rb + rt_fused_row_bytes(fmt, c0), fmt, cn, rows4 + r * 256);
		i = 0;
#ifdef RT_AVX2
		for (; cn == 256 && i + 3 <= np; i += 3) { /* three x at a time (shorter chunks: 2x2, below) */
			__m256 v[12];
			int64_t p;
			rt_fused_dots4x3(rows4, xp[i] + c0, xp[i + 1] + c0, xp[i + 2] + c0, cn, v);
			for (p = 0; p < 3; p++)
				_mm_storeu_ps(yp[i + p] + yo, _mm_add_ps(_mm_loadu_ps(yp[i + p] + yo),
									 rt_hsum8x4(v[4 * p], v[4 * p + 1], v[4 * p + 2], v[4 * p + 3])));
		}
		for (; i + 2 <= np; i += 2) { /* two x at a time */
			__m256 v[4], u[4];
			rt_fused_dots2x2(rows4, xp[i] + c0, xp[i + 1] + c0, cn, v);
			rt_fused_dots2x2(rows4 + 512, xp[i] + c0, xp[i + 1] + c0, cn, u);
			_mm_storeu_ps(yp[i] + yo, _mm_add_ps(_mm_loadu_ps(yp[i] + yo), rt_hsum8x4(v[0], v[1], u[0], u[1])));
			_mm_storeu_ps(yp[i + 1] + yo, _mm_add_ps(_mm_loadu_ps(yp[i + 1] + yo), rt_hsum8x4(v[2], v[3], u[2], u[3])));
		}
#endif
		for (; i < np; i++)
			rt_fused_dots4(rows4, xp[i] + c0, cn, yp[i] + yo);
	}
}
#endif

#ifdef RT_AVX2
/* The next group of the left positions on an expert, decoded in registers
 * once per group: 4, 3, 2 or 1 (7 = 4 + 3, 6 = 3 + 3, 5 = 3 + 2); rows of
 * fewer than 256 values (tiny's 64) in pairs, where a group's per-row sums
 * cost more than the decoding they save (tiny's forward: 0.1090 ms with
 * groups, 0.1085 with pairs). */
static int64_t rt_moe_group(int64_t left, int64_t C)
{
	if (C < 256)
		return left >= 2 ? 2 : 1;
	return left >= 7 ? 4 : left >= 5 ? 3 : left;
}
#endif

/* rt_moe_gemv_q: rt_moe_gemv with the expert weights in format p[5+2*nd]
 * (bf16, MXFP4 or Q8), computing rows [p[6+2*nd], p[7+2*nd]) of each expert.
 * Expert-major: each selected expert's row is decoded once and used for
 * every position routed to it. */
RT_API void rt_moe_gemv_q(void *const *t, const int64_t *p)
{
	int64_t E = p[0], R = p[1], C = p[2], idt = p[3], nd = p[4];
	const int64_t *dims = p + 5, *xs = dims + nd;
	int64_t fmt = xs[nd], rb = rt_fused_row_bytes(fmt, C), ob = xs[nd + 1], oe = xs[nd + 2];
	int64_t npos = 1, pos, d, o, e;
	const unsigned char *W = (const unsigned char *)t[0];
	const float *X = (const float *)t[2];
	float *Y = (float *)t[3];
	float row[256];
	for (d = 0; d < nd; d++)
		npos *= dims[d];
	for (pos = 0; pos < npos; pos++) { /* rows of unknown experts are 0 */
		int64_t ee = idt == RT_I32 ? ((const int32_t *)t[1])[pos] : ((const int64_t *)t[1])[pos];
		if (ee < -E || ee >= E)
			for (o = ob; o < oe; o++)
				Y[pos * R + o] = 0;
	}
	for (e = 0; e < E; e++) {
		/* the positions using expert e and the offsets of their x rows,
		 * found once, in groups of up to 32 (a fixed buffer, for small
		 * stacks; a group re-reads the expert's rows) */
		int64_t sel[32], selx[32], first = 0;
		for (;;) {
			int64_t nsel = 0, idx[RT_MAXDIM] = { 0 }, ox = 0, k;
			for (pos = 0; pos < npos; pos++) {
				int64_t ee = idt == RT_I32 ? ((const int32_t *)t[1])[pos] : ((const int64_t *)t[1])[pos];
				if ((ee == e || ee + E == e) && pos >= first && nsel < 32) {
					sel[nsel] = pos;
					selx[nsel++] = ox;
				}
				rt_next(nd, dims, idx, &ox, xs, 0, 0, 0, 0);
			}
			if (!nsel)
				break;
#if defined(RT_AVX2) || defined(RT_NEON)
			if (nsel == 1 && first == 0 && (fmt == RT_FMT_MXFP4 || fmt == RT_FMT_Q8) && C % 32 == 0) {
				/* read once (a decoding step): dots straight from the
				 * codes, chunk by chunk as below */
				rt_q_rows(fmt, W + (e * R + ob) * rb, rb, X + selx[0], C, oe - ob, Y + sel[0] * R + ob);
				break;
			}
#ifdef RT_AVX2
			if (nsel <= (C < 256 ? 4 : 7) && first == 0 && (fmt == RT_FMT_MXFP4 || fmt == RT_FMT_Q8) && C % 32 == 0) {
				/* up to seven positions (four for short rows): in the
				 * groups of rt_moe_group, each block decoded in
				 * registers once per group: decoding it again
				 * for the next group costs less than storing the decoded
				 * rows and reading them back, as rt_q_rows4 does for
				 * more (one 5760 x 2880 expert, -march=native: 5
				 * positions 3.17 -> 3.01 ms, 6: 3.63 -> 3.42, 7: 4.29 ->
				 * 4.07, 8: the same) */
				const uint8_t *we = W + (e * R + ob) * rb;
				int64_t k0, g;
				for (k0 = 0; k0 < nsel; k0 += g) {
					const float *xq[4];
					float *yq[4];
					g = rt_moe_group(nsel - k0, C);
					for (k = 0; k < g; k++)
						xq[k] = X + selx[k0 + k], yq[k] = Y + sel[k0 + k] * R + ob;
					if (g >= 3)
						rt_q_rows34(fmt, (int)g, we, rb, xq, C, oe - ob, yq);
					else if (g == 2)
						rt_q_rows2(fmt, we, rb, xq[0], xq[1], C, oe - ob, yq[0], yq[1]);
					else
						rt_q_rows(fmt, we, rb, xq[0], C, oe - ob, yq[0]);
				}
				break;
			}
#elif defined(RT_NEON)
			if (nsel <= 4 && first == 0 && (fmt == RT_FMT_MXFP4 || fmt == RT_FMT_Q8) && C % 32 == 0) {
				/* two to four positions: two at a time, decoded in
				 * registers for both (decoding a block again for the
				 * next two costs less than storing and reloading it,
				 * as rt_q_rows4 does for more) */
				const uint8_t *we = W + (e * R + ob) * rb;
				for (k = 0; k + 2 <= nsel; k += 2)
					rt_q_rows2(fmt, we, rb, X + selx[k], X + selx[k + 1], C, oe - ob,
						   Y + sel[k] * R + ob, Y + sel[k + 1] * R + ob);
				if (k < nsel)
					rt_q_rows(fmt, we, rb, X + selx[k], C, oe - ob, Y + sel[k] * R + ob);
				break;
			}
#endif
#endif
			o = ob;
#if defined(RT_AVX2) || defined(RT_NEON)
			if (C % 32 == 0) { /* four rows at a time, each position's four dots at once */
				const float *xp[32];
				float *yp[32];
				for (k = 0; k < nsel; k++)
					xp[k] = X + selx[k], yp[k] = Y + sel[k] * R;
				for (; o + 4 <= oe; o += 4)
					rt_q_rows4(fmt, W + (e * R + o) * rb, rb, C, nsel, xp, yp, o);
			}
#endif
			/* each row is decoded in chunks of 256 values (1 KB of stack,
			 * for small targets), partial dots accumulated into y */
			for (; o < oe; o++) {
				int64_t c0;
				for (k = 0; k < nsel; k++)
					Y[sel[k] * R + o] = 0;
				for (c0 = 0; c0 < C; c0 += 256) {
					int64_t cn = C - c0 < 256 ? C - c0 : 256;
					const unsigned char *wr = W + (e * R + o) * rb + rt_fused_row_bytes(fmt, c0);
					rt_fused_decode(wr, fmt, cn, row);
					for (k = 0; k < nsel; k++)
						Y[sel[k] * R + o] += rt_fused_dot(row, X + selx[k] + c0, cn);
				}
			}
			if (nsel < 32)
				break;
			first = sel[31] + 1;
		}
	}
}

#ifdef RT_AVX2
/* 8 weights of a row of W in format fmt (f32 or bf16) as floats */
RT_KERNEL_INLINE __m256 rt_w8(int64_t fmt, const char *p)
{
	return fmt == RT_BF16 ? rt_bf16x8((const uint16_t *)p) : _mm256_loadu_ps((const float *)p);
}

/* The 16 weights at p as two vectors: f32 in order (columns 0-7, 8-15);
 * bf16 as the even and the odd columns (one load: each 32-bit lane holds
 * two bf16, the low one shifted up, the high one masked), so a tile's
 * accumulators hold the columns of a 16-column group in that order
 * (rt_linear_band puts them back in order when it stores y). */
RT_KERNEL_INLINE void rt_w16(int64_t fmt, const char *p, __m256 *v0, __m256 *v1)
{
	if (fmt == RT_BF16) {
		__m256i r = _mm256_loadu_si256((const __m256i *)p);
		*v0 = _mm256_castsi256_ps(_mm256_slli_epi32(r, 16));
		*v1 = _mm256_castsi256_ps(_mm256_and_si256(r, _mm256_set1_epi32((int)0xffff0000u)));
	} else {
		*v0 = _mm256_loadu_ps((const float *)p);
		*v1 = _mm256_loadu_ps((const float *)p + 8);
	}
}

/* One row of x (a decoding step) against the kn rows of W at w (ld bytes
 * apart), columns [0, nn): acc[n] = fma(x[k], W[k][n], acc[n]) in k
 * order, 64 columns held in registers over the kn rows, then 8 at a
 * time.  Such a step is bound by memory: the rows RT_STEP_PF below are
 * prefetched as the block walks down, since the hardware prefetchers
 * alone leave a core at half the bandwidth (pf = 0 near the end of W).
 * fmt is a constant at each call, so each format gets its own loop. */
#define RT_STEP_KC 16 /* rows of W per pass over the accumulators */
#define RT_STEP_PF 64 /* rows of W prefetched ahead */
RT_INLINE void rt_linear_onerow(int64_t fmt, const float *x, int64_t kn, const char *w, int64_t ld, int64_t nn,
				   float *acc, int pf)
{
	int64_t j = 0, k, es = fmt == RT_BF16 ? 2 : 4;
	for (; j + 64 <= nn; j += 64) {
		const char *wk = w + j * es;
		__m256 a0 = _mm256_load_ps(acc + j), a1 = _mm256_load_ps(acc + j + 8);
		__m256 a2 = _mm256_load_ps(acc + j + 16), a3 = _mm256_load_ps(acc + j + 24);
		__m256 a4 = _mm256_load_ps(acc + j + 32), a5 = _mm256_load_ps(acc + j + 40);
		__m256 a6 = _mm256_load_ps(acc + j + 48), a7 = _mm256_load_ps(acc + j + 56);
		for (k = 0; k < kn; k++, wk += ld) {
			__m256 b = _mm256_broadcast_ss(x + k);
			if (pf) {
				int64_t l;
				for (l = 0; l < 64 * es; l += 64)
					_mm_prefetch(wk + RT_STEP_PF * ld + l, _MM_HINT_T0);
			}
			a0 = _mm256_fmadd_ps(b, rt_w8(fmt, wk), a0);
			a1 = _mm256_fmadd_ps(b, rt_w8(fmt, wk + 8 * es), a1);
			a2 = _mm256_fmadd_ps(b, rt_w8(fmt, wk + 16 * es), a2);
			a3 = _mm256_fmadd_ps(b, rt_w8(fmt, wk + 24 * es), a3);
			a4 = _mm256_fmadd_ps(b, rt_w8(fmt, wk + 32 * es), a4);
			a5 = _mm256_fmadd_ps(b, rt_w8(fmt, wk + 40 * es), a5);
			a6 = _mm256_fmadd_ps(b, rt_w8(fmt, wk + 48 * es), a6);
			a7 = _mm256_fmadd_ps(b, rt_w8(fmt, wk + 56 * es), a7);
		}
		_mm256_store_ps(acc + j, a0), _mm256_store_ps(acc + j + 8, a1);
		_mm256_store_ps(acc + j + 16, a2), _mm256_store_ps(acc + j + 24, a3);
		_mm256_store_ps(acc + j + 32, a4), _mm256_store_ps(acc + j + 40, a5);
		_mm256_store_ps(acc + j + 48, a6), _mm256_store_ps(acc + j + 56, a7);
	}
	for (; j < nn; j += 8) {
		const char *wk = w + j * es;
		__m256 a = _mm256_load_ps(acc + j);
		for (k = 0; k < kn; k++, wk += ld) {
			if (pf)
				_mm_prefetch(wk + RT_STEP_PF * ld, _MM_HINT_T0);
			a = _mm256_fmadd_ps(_mm256_broadcast_ss(x + k), rt_w8(fmt, wk), a);
		}
		_mm256_store_ps(acc + j, a);
	}
}

#define RT_BAND 2048 /* columns of one row's accumulators: 8 KB of L1 */
#define RT_BLK_M 16  /* rows of x per block */
#define RT_BLK_N 128 /* columns per block: 16 x 128 accumulators, 8 KB */
#define RT_BLK_K 32  /* rows of W per pass: 8 KB of bf16, in L1 for all the rows of x */
#define RT_BLK_PF 128 /* rows of W prefetched ahead, into L2: four passes */

/* one k step of row r of a tile: a<r>0, a<r>1 += x[r][k] * v0, v1 */
#define RT_TILE_ROW(r)                                                      \
	(b = _mm256_broadcast_ss(x + r * ldx + k), a##r##0 = _mm256_fmadd_ps(b, v0, a##r##0), \
	 a##r##1 = _mm256_fmadd_ps(b, v1, a##r##1))

/* Rows 0..R-1 of x (row stride ldx; R 4, 5 or 6, a constant where it is
 * called) against the kn rows of W at w (ld bytes apart), columns [0,
 * nn): acc (row stride RT_BLK_N) = fma(x[k], W[k][n], acc) in k order, in
 * tiles of R rows by 16 columns in registers (2R accumulators, the two
 * weight vectors widened once for all the rows, a broadcast: 2R + 3 of
 * AVX2's 16 registers), then by 8.  pf: prefetch the rows RT_BLK_PF below
 * into L2.  (Prefetching the next pass's rows into L1 instead, as this
 * did first, ran the 20b-2layer unembedding at 46 GMAC/s against 55 with
 * W in cache; four passes ahead into L2 gives 53.) */
RT_KERNEL_INLINE void rt_linear_tilen(int64_t fmt, const int R, const float *x, int64_t ldx, int64_t kn,
				      const char *w, int64_t ld, int64_t nn, float *acc, int pf)
{
	int64_t j = 0, k, es = fmt == RT_BF16 ? 2 : 4;
	float *c0 = acc, *c1 = acc + RT_BLK_N, *c2 = acc + 2 * RT_BLK_N, *c3 = acc + 3 * RT_BLK_N;
	float *c4 = acc + 4 * RT_BLK_N, *c5 = acc + 5 * RT_BLK_N;
	const __m256 z = _mm256_setzero_ps();
	for (; j + 16 <= nn; j += 16) {
		const char *wk = w + j * es;
		__m256 a00 = _mm256_load_ps(c0 + j), a01 = _mm256_load_ps(c0 + j + 8);
		__m256 a10 = _mm256_load_ps(c1 + j), a11 = _mm256_load_ps(c1 + j + 8);
		__m256 a20 = _mm256_load_ps(c2 + j), a21 = _mm256_load_ps(c2 + j + 8);
		__m256 a30 = _mm256_load_ps(c3 + j), a31 = _mm256_load_ps(c3 + j + 8);
		__m256 a40 = R > 4 ? _mm256_load_ps(c4 + j) : z, a41 = R > 4 ? _mm256_load_ps(c4 + j + 8) : z;
		__m256 a50 = R > 5 ? _mm256_load_ps(c5 + j) : z, a51 = R > 5 ? _mm256_load_ps(c5 + j + 8) : z;
		for (k = 0; k < kn; k++, wk += ld) {
			__m256 v0, v1, b;
			rt_w16(fmt, wk, &v0, &v1);
			if (pf)
				_mm_prefetch(wk + RT_BLK_PF * ld, _MM_HINT_T1);
			RT_TILE_ROW(0), RT_TILE_ROW(1), RT_TILE_ROW(2), RT_TILE_ROW(3);
			if (R > 4)
				RT_TILE_ROW(4);
			if (R > 5)
				RT_TILE_ROW(5);
		}
		_mm256_store_ps(c0 + j, a00), _mm256_store_ps(c0 + j + 8, a01);
		_mm256_store_ps(c1 + j, a10), _mm256_store_ps(c1 + j + 8, a11);
		_mm256_store_ps(c2 + j, a20), _mm256_store_ps(c2 + j + 8, a21);
		_mm256_store_ps(c3 + j, a30), _mm256_store_ps(c3 + j + 8, a31);
		if (R > 4)
			_mm256_store_ps(c4 + j, a40), _mm256_store_ps(c4 + j + 8, a41);
		if (R > 5)
			_mm256_store_ps(c5 + j, a50), _mm256_store_ps(c5 + j + 8, a51);
	}
	for (; j < nn; j += 8) {
		const char *wk = w + j * es;
		__m256 a0 = _mm256_load_ps(c0 + j), a1 = _mm256_load_ps(c1 + j), a2 = _mm256_load_ps(c2 + j);
		__m256 a3 = _mm256_load_ps(c3 + j), a4 = R > 4 ? _mm256_load_ps(c4 + j) : z;
		__m256 a5 = R > 5 ? _mm256_load_ps(c5 + j) : z;
		for (k = 0; k < kn; k++, wk += ld) {
			__m256 v = rt_w8(fmt, wk);
			a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(x + k), v, a0);
			a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(x + ldx + k), v, a1);
			a2 = _mm256_fmadd_ps(_mm256_broadcast_ss(x + 2 * ldx + k), v, a2);
			a3 = _mm256_fmadd_ps(_mm256_broadcast_ss(x + 3 * ldx + k), v, a3);
			if (R > 4)
				a4 = _mm256_fmadd_ps(_mm256_broadcast_ss(x + 4 * ldx + k), v, a4);
			if (R > 5)
				a5 = _mm256_fmadd_ps(_mm256_broadcast_ss(x + 5 * ldx + k), v, a5);
		}
		_mm256_store_ps(c0 + j, a0), _mm256_store_ps(c1 + j, a1), _mm256_store_ps(c2 + j, a2);
		_mm256_store_ps(c3 + j, a3);
		if (R > 4)
			_mm256_store_ps(c4 + j, a4);
		if (R > 5)
			_mm256_store_ps(c5 + j, a5);
	}
}

/* rt_linear_tilen for each R, left for gcc to inline or not: it keeps the
 * big ones out of line, which ran faster here than forcing them in (the
 * unembedding shape with W in cache: 55 GMAC/s against 46) */
RT_INLINE void rt_linear_tile4(int64_t fmt, const float *x, int64_t ldx, int64_t kn, const char *w, int64_t ld,
			       int64_t nn, float *acc, int pf)
{
	rt_linear_tilen(fmt, 4, x, ldx, kn, w, ld, nn, acc, pf);
}

RT_INLINE void rt_linear_tile5(int64_t fmt, const float *x, int64_t ldx, int64_t kn, const char *w, int64_t ld,
			       int64_t nn, float *acc, int pf)
{
	rt_linear_tilen(fmt, 5, x, ldx, kn, w, ld, nn, acc, pf);
}

RT_INLINE void rt_linear_tile6(int64_t fmt, const float *x, int64_t ldx, int64_t kn, const char *w, int64_t ld,
			       int64_t nn, float *acc, int pf)
{
	rt_linear_tilen(fmt, 6, x, ldx, kn, w, ld, nn, acc, pf);
}

/* rt_linear_tile4, 5 or 6 by rows (one call per format at the callers) */
RT_KERNEL_INLINE void rt_linear_tile(int64_t fmt, int rows, const float *x, int64_t ldx, int64_t kn, const char *w,
				     int64_t ld, int64_t nn, float *acc, int pf)
{
	if (rows == 6)
		rt_linear_tile6(fmt, x, ldx, kn, w, ld, nn, acc, pf);
	else if (rows == 5)
		rt_linear_tile5(fmt, x, ldx, kn, w, ld, nn, acc, pf);
	else
		rt_linear_tile4(fmt, x, ldx, kn, w, ld, nn, acc, pf);
}

/* The tiles for R rows (2 to RT_BLK_M): ts[0..n-1], n returned, the rows
 * as even as tiles of 4 to 6 rows allow (16 = 6 + 5 + 5: the 6 + 6 + 4 it
 * replaces ran some 6% slower, a tile of 4 being the least efficient;
 * 8 = 4 + 4, not 6 and two rows alone); rows the tiles leave (R = 2, 3,
 * 7) go one at a time. */
static int rt_tile_plan(int R, int *ts)
{
	int n = (R + 5) / 6, i;
	if (R < 4 * n) { /* 7 = 6 + 1 */
		n = R / 6;
		for (i = 0; i < n; i++)
			ts[i] = 6;
		return n;
	}
	for (i = 0; i < n; i++)
		ts[i] = R / n + (i < R % n);
	return n;
}

/* y[0:R, 0:nn] (row stride N) of rt_linear's layouts 0 and 2: W rows of
 * the nn columns at w + k * ldw elements (f32 or bf16), nn a multiple of 8
 * up to RT_BLK_N (RT_BAND for one row); one FMA chain over k per element,
 * so a row's bits do not depend on R or on the columns a thread takes.
 * One row (a decoding step) is bound by memory and streams W with 64
 * columns in registers; up to RT_BLK_M rows are bound by the FMAs and
 * pass over W once per RT_BLK_K rows, the accumulators in L1 between
 * passes, 6 or 4 rows by 16 columns at a time (the leftover rows one by
 * one). */
static void rt_linear_band(int R, const float *x, int64_t K, int64_t N, const void *w, int64_t ldw, int64_t nn,
			   int64_t fmt, float alpha, const float *bias, float *y)
{
	float acc[RT_BAND] __attribute__((aligned(32)));
	__m256 va = _mm256_set1_ps(alpha);
	int64_t k, j, es = fmt == RT_BF16 ? 2 : 4, ld = ldw * es, st = R == 1 ? 0 : RT_BLK_N;
	int i, ts[3], nt = rt_tile_plan(R, ts), tr = 0;
	for (i = 0; i < nt; i++)
		tr += ts[i];
	for (i = 0; i < R; i++)
		for (j = 0; j < nn; j += 8)
			_mm256_store_ps(acc + i * st + j, _mm256_setzero_ps());
	if (R == 1) { /* a decoding step */
		for (k = 0; k < K; k += RT_STEP_KC) {
			int64_t kn = K - k < RT_STEP_KC ? K - k : RT_STEP_KC;
			int pf = k + kn + RT_STEP_PF <= K;
			if (fmt == RT_BF16)
				rt_linear_onerow(RT_BF16, x + k, kn, (const char *)w + k * ld, ld, nn, acc, pf);
			else
				rt_linear_onerow(RT_F32, x + k, kn, (const char *)w + k * ld, ld, nn, acc, pf);
		}
	} else {
		for (k = 0; k < K; k += RT_BLK_K) {
			int64_t kn = K - k < RT_BLK_K ? K - k : RT_BLK_K;
			const char *wk = (const char *)w + k * ld;
			int pf = k + kn + RT_BLK_PF <= K, t;
			for (t = 0, i = 0; t < nt; i += ts[t++])
				if (fmt == RT_BF16)
					rt_linear_tile(RT_BF16, ts[t], x + i * K + k, K, kn, wk, ld, nn, acc + i * st, pf && !t);
				else
					rt_linear_tile(RT_F32, ts[t], x + i * K + k, K, kn, wk, ld, nn, acc + i * st, pf && !t);
			for (; i < R; i++)
				if (fmt == RT_BF16)
					rt_linear_onerow(RT_BF16, x + i * K + k, kn, wk, ld, nn, acc + i * st, 0);
				else
					rt_linear_onerow(RT_F32, x + i * K + k, kn, wk, ld, nn, acc + i * st, 0);
		}
	}
	if (fmt == RT_BF16 && R > 1) /* the tiles' rows: 16-column groups from even, odd order */
		for (i = 0; i < tr; i++)
			for (j = 0; j + 16 <= nn; j += 16) {
				__m256 e = _mm256_load_ps(acc + i * st + j), o = _mm256_load_ps(acc + i * st + j + 8);
				__m256 lo = _mm256_unpacklo_ps(e, o), hi = _mm256_unpackhi_ps(e, o);
				_mm256_store_ps(acc + i * st + j, _mm256_permute2f128_ps(lo, hi, 0x20));
				_mm256_store_ps(acc + i * st + j + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
			}
	for (i = 0; i < R; i++)
		for (j = 0; j < nn; j += 8) {
			__m256 r = _mm256_mul_ps(_mm256_load_ps(acc + i * st + j), va);
			if (bias)
				r = _mm256_add_ps(r, _mm256_loadu_ps(bias + j));
			_mm256_storeu_ps(y + i * N + j, r);
		}
}
#endif

#ifdef RT_NEON
/* rt_linear_band for NEON: the AVX2 block's design and constants with
 * 4-lane vectors (a step: 32 columns in 8 registers over RT_STEP_KC rows
 * of W, W prefetched RT_STEP_PF rows ahead; the window: tiles of 4 rows by
 * 16 columns over passes of RT_BLK_K rows).  Each element is the same FMA
 * chain over k, starting from 0, in every path, so a step (R = 1) equals
 * its window row bit for bit, whatever the columns a thread takes. */
#define RT_STEP_KC 16 /* rows of W per pass over the accumulators */
#define RT_STEP_PF 64 /* rows of W prefetched ahead */
#define RT_BAND 2048  /* columns of one row's accumulators: 8 KB of L1 */
#define RT_BLK_M 16   /* rows of x per block */
#define RT_BLK_N 128  /* columns per block: 16 x 128 accumulators, 8 KB */
#define RT_BLK_K 32   /* rows of W per pass */

/* the 8 weights at p (fmt: f32 or bf16, a constant at each call) as floats */
RT_KERNEL_INLINE void rt_w8x2(int64_t fmt, const char *p, float32x4_t *v0, float32x4_t *v1)
{
	if (fmt == RT_BF16) {
		uint16x8_t h = vld1q_u16((const uint16_t *)p);
		*v0 = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16));
		*v1 = vreinterpretq_f32_u32(vshll_high_n_u16(h, 16));
	} else {
		*v0 = vld1q_f32((const float *)p);
		*v1 = vld1q_f32((const float *)p + 4);
	}
}

/* a0, a1 = fma(b, the 8 weights at p, a0, a1) */
RT_KERNEL_INLINE void rt_fma8(int64_t fmt, float32x4_t b, const char *p, float32x4_t *a0, float32x4_t *a1)
{
	float32x4_t v0, v1;
	rt_w8x2(fmt, p, &v0, &v1);
	*a0 = vfmaq_f32(*a0, b, v0);
	*a1 = vfmaq_f32(*a1, b, v1);
}

/* One row of x (a decoding step) against the kn rows of W at w (ld bytes
 * apart), columns [0, nn): acc[n] = fma(x[k], W[k][n], acc[n]) in k
 * order, 32 columns in registers (8 FMA chains; with 64, gcc 12 spills
 * the weights), then 8 at a time; pf: prefetch the rows RT_STEP_PF
 * below. */
RT_KERNEL_INLINE void rt_linear_onerow(int64_t fmt, const float *x, int64_t kn, const char *w, int64_t ld,
					int64_t nn, float *acc, int pf)
{
	int64_t j = 0, k, es = fmt == RT_BF16 ? 2 : 4;
	for (; j + 32 <= nn; j += 32) {
		const char *wk = w + j * es;
		float *c = acc + j;
		float32x4_t a0 = vld1q_f32(c), a1 = vld1q_f32(c + 4), a2 = vld1q_f32(c + 8), a3 = vld1q_f32(c + 12);
		float32x4_t a4 = vld1q_f32(c + 16), a5 = vld1q_f32(c + 20), a6 = vld1q_f32(c + 24), a7 = vld1q_f32(c + 28);
		for (k = 0; k < kn; k++, wk += ld) {
			float32x4_t b = vdupq_n_f32(x[k]);
			if (pf) {
				int64_t l;
				for (l = 0; l < 32 * es; l += 64)
					__builtin_prefetch(wk + RT_STEP_PF * ld + l, 0, 3);
			}
			rt_fma8(fmt, b, wk, &a0, &a1);
			rt_fma8(fmt, b, wk + 8 * es, &a2, &a3);
			rt_fma8(fmt, b, wk + 16 * es, &a4, &a5);
			rt_fma8(fmt, b, wk + 24 * es, &a6, &a7);
		}
		vst1q_f32(c, a0), vst1q_f32(c + 4, a1), vst1q_f32(c + 8, a2), vst1q_f32(c + 12, a3);
		vst1q_f32(c + 16, a4), vst1q_f32(c + 20, a5), vst1q_f32(c + 24, a6), vst1q_f32(c + 28, a7);
	}
	for (; j < nn; j += 8) {
		const char *wk = w + j * es;
		float32x4_t a0 = vld1q_f32(acc + j), a1 = vld1q_f32(acc + j + 4);
		for (k = 0; k < kn; k++, wk += ld) {
			if (pf)
				__builtin_prefetch(wk + RT_STEP_PF * ld, 0, 3);
			rt_fma8(fmt, vdupq_n_f32(x[k]), wk, &a0, &a1);
		}
		vst1q_f32(acc + j, a0), vst1q_f32(acc + j + 4, a1);
	}
}

/* Rows 0..3 of x (row stride ldx) against the kn rows of W at w, columns
 * [0, nn): acc (row stride RT_BLK_N) = fma(x[k], W[k][n], acc) in k order,
 * tiles of 4 rows by 16 columns in registers, each weight vector widened
 * once for the four rows; pf: prefetch the rows RT_BLK_K below. */
RT_KERNEL_INLINE void rt_linear_tile4(int64_t fmt, const float *x, int64_t ldx, int64_t kn, const char *w,
				    int64_t ld, int64_t nn, float *acc, int pf)
{
	int64_t j = 0, k, es = fmt == RT_BF16 ? 2 : 4;
	float *c0 = acc, *c1 = acc + RT_BLK_N, *c2 = acc + 2 * RT_BLK_N, *c3 = acc + 3 * RT_BLK_N;
	for (; j + 16 <= nn; j += 16) {
		const char *wk = w + j * es;
		float32x4_t a00 = vld1q_f32(c0 + j), a01 = vld1q_f32(c0 + j + 4);
		float32x4_t a02 = vld1q_f32(c0 + j + 8), a03 = vld1q_f32(c0 + j + 12);
		float32x4_t a10 = vld1q_f32(c1 + j), a11 = vld1q_f32(c1 + j + 4);
		float32x4_t a12 = vld1q_f32(c1 + j + 8), a13 = vld1q_f32(c1 + j + 12);
		float32x4_t a20 = vld1q_f32(c2 + j), a21 = vld1q_f32(c2 + j + 4);
		float32x4_t a22 = vld1q_f32(c2 + j + 8), a23 = vld1q_f32(c2 + j + 12);
		float32x4_t a30 = vld1q_f32(c3 + j), a31 = vld1q_f32(c3 + j + 4);
		float32x4_t a32 = vld1q_f32(c3 + j + 8), a33 = vld1q_f32(c3 + j + 12);
		for (k = 0; k < kn; k++, wk += ld) {
			float32x4_t v0, v1, v2, v3, b;
			rt_w8x2(fmt, wk, &v0, &v1);
			rt_w8x2(fmt, wk + 8 * es, &v2, &v3);
			if (pf)
				__builtin_prefetch(wk + RT_BLK_K * ld, 0, 3);
			b = vdupq_n_f32(x[k]);
			a00 = vfmaq_f32(a00, b, v0), a01 = vfmaq_f32(a01, b, v1);
			a02 = vfmaq_f32(a02, b, v2), a03 = vfmaq_f32(a03, b, v3);
			b = vdupq_n_f32(x[ldx + k]);
			a10 = vfmaq_f32(a10, b, v0), a11 = vfmaq_f32(a11, b, v1);
			a12 = vfmaq_f32(a12, b, v2), a13 = vfmaq_f32(a13, b, v3);
			b = vdupq_n_f32(x[2 * ldx + k]);
			a20 = vfmaq_f32(a20, b, v0), a21 = vfmaq_f32(a21, b, v1);
			a22 = vfmaq_f32(a22, b, v2), a23 = vfmaq_f32(a23, b, v3);
			b = vdupq_n_f32(x[3 * ldx + k]);
			a30 = vfmaq_f32(a30, b, v0), a31 = vfmaq_f32(a31, b, v1);
			a32 = vfmaq_f32(a32, b, v2), a33 = vfmaq_f32(a33, b, v3);
		}
		vst1q_f32(c0 + j, a00), vst1q_f32(c0 + j + 4, a01), vst1q_f32(c0 + j + 8, a02), vst1q_f32(c0 + j + 12, a03);
		vst1q_f32(c1 + j, a10), vst1q_f32(c1 + j + 4, a11), vst1q_f32(c1 + j + 8, a12), vst1q_f32(c1 + j + 12, a13);
		vst1q_f32(c2 + j, a20), vst1q_f32(c2 + j + 4, a21), vst1q_f32(c2 + j + 8, a22), vst1q_f32(c2 + j + 12, a23);
		vst1q_f32(c3 + j, a30), vst1q_f32(c3 + j + 4, a31), vst1q_f32(c3 + j + 8, a32), vst1q_f32(c3 + j + 12, a33);
	}
	for (; j < nn; j += 8) {
		const char *wk = w + j * es;
		float32x4_t a00 = vld1q_f32(c0 + j), a01 = vld1q_f32(c0 + j + 4);
		float32x4_t a10 = vld1q_f32(c1 + j), a11 = vld1q_f32(c1 + j + 4);
		float32x4_t a20 = vld1q_f32(c2 + j), a21 = vld1q_f32(c2 + j + 4);
		float32x4_t a30 = vld1q_f32(c3 + j), a31 = vld1q_f32(c3 + j + 4);
		for (k = 0; k < kn; k++, wk += ld) {
			float32x4_t v0, v1, b;
			rt_w8x2(fmt, wk, &v0, &v1);
			b = vdupq_n_f32(x[k]);
			a00 = vfmaq_f32(a00, b, v0), a01 = vfmaq_f32(a01, b, v1);
			b = vdupq_n_f32(x[ldx + k]);
			a10 = vfmaq_f32(a10, b, v0), a11 = vfmaq_f32(a11, b, v1);
			b = vdupq_n_f32(x[2 * ldx + k]);
			a20 = vfmaq_f32(a20, b, v0), a21 = vfmaq_f32(a21, b, v1);
			b = vdupq_n_f32(x[3 * ldx + k]);
			a30 = vfmaq_f32(a30, b, v0), a31 = vfmaq_f32(a31, b, v1);
		}
		vst1q_f32(c0 + j, a00), vst1q_f32(c0 + j + 4, a01), vst1q_f32(c1 + j, a10), vst1q_f32(c1 + j + 4, a11);
		vst1q_f32(c2 + j, a20), vst1q_f32(c2 + j + 4, a21), vst1q_f32(c3 + j, a30), vst1q_f32(c3 + j + 4, a31);
	}
}

/* y[0:R, 0:nn] (row stride N): the AVX2 rt_linear_band's contract (nn a
 * multiple of 8 up to RT_BLK_N, RT_BAND for one row; R up to RT_BLK_M) */
static void rt_linear_band(int R, const float *x, int64_t K, int64_t N, const void *w, int64_t ldw, int64_t nn,
			   int64_t fmt, float alpha, const float *bias, float *y)
{
	float acc[RT_BAND] __attribute__((aligned(16)));
	float32x4_t va = vdupq_n_f32(alpha);
	int64_t k, j, es = fmt == RT_BF16 ? 2 : 4, ld = ldw * es, st = R == 1 ? 0 : RT_BLK_N;
	int i;
	for (i = 0; i < R; i++)
		for (j = 0; j < nn; j += 4)
			vst1q_f32(acc + i * st + j, vdupq_n_f32(0));
	if (R == 1) { /* a decoding step */
		for (k = 0; k < K; k += RT_STEP_KC) {
			int64_t kn = K - k < RT_STEP_KC ? K - k : RT_STEP_KC;
			int pf = k + kn + RT_STEP_PF <= K;
			if (fmt == RT_BF16)
				rt_linear_onerow(RT_BF16, x + k, kn, (const char *)w + k * ld, ld, nn, acc, pf);
			else
				rt_linear_onerow(RT_F32, x + k, kn, (const char *)w + k * ld, ld, nn, acc, pf);
		}
	} else {
		for (k = 0; k < K; k += RT_BLK_K) {
			int64_t kn = K - k < RT_BLK_K ? K - k : RT_BLK_K;
			const char *wk = (const char *)w + k * ld;
			int pf = k + kn + RT_BLK_K <= K;
			for (i = 0; i + 4 <= R; i += 4)
				if (fmt == RT_BF16)
					rt_linear_tile4(RT_BF16, x + i * K + k, K, kn, wk, ld, nn, acc + i * st, pf && !i);
				else
					rt_linear_tile4(RT_F32, x + i * K + k, K, kn, wk, ld, nn, acc + i * st, pf && !i);
			for (; i < R; i++)
				if (fmt == RT_BF16)
					rt_linear_onerow(RT_BF16, x + i * K + k, kn, wk, ld, nn, acc + i * st, 0);
				else
					rt_linear_onerow(RT_F32, x + i * K + k, kn, wk, ld, nn, acc + i * st, 0);
		}
	}
	for (i = 0; i < R; i++)
		for (j = 0; j < nn; j += 4) {
			float32x4_t r = vmulq_f32(vld1q_f32(acc + i * st + j), va);
			if (bias)
				r = vaddq_f32(r, vld1q_f32(bias + j));
			vst1q_f32(y + i * N + j, r);
		}
}
#endif

/* y[:, 0:nn] (row stride N) of rt_linear's layouts 0 and 2: the nn
 * columns whose W rows are at w + k * ldw elements.  Every y element is
 * the same chain of operations over k whatever M is, so one row (a
 * decoding step) gives the full window's bits. */
static void rt_linear_cols(int64_t M, const float *x, int64_t K, int64_t N, const void *w, int64_t ldw, int64_t nn,
			   int64_t fmt, float alpha, const float *bias, float *y)
{
	int64_t c0 = 0, m, n, k, es = fmt == RT_BF16 ? 2 : 4;
#if defined(RT_AVX2) || defined(RT_NEON)
	int64_t band = M == 1 ? RT_BAND : RT_BLK_N;
	for (; c0 + 8 <= nn; c0 += band) {
		int64_t cn = (nn - c0) / 8 * 8 < band ? (nn - c0) / 8 * 8 : band, m0;
		for (m0 = 0; m0 < M; m0 += RT_BLK_M)
			rt_linear_band(M - m0 < RT_BLK_M ? (int)(M - m0) : RT_BLK_M, x + m0 * K, K, N,
				       (const char *)w + c0 * es, ldw, cn, fmt, alpha, bias ? bias + c0 : 0, y + m0 * N + c0);
		if (cn < band) {
			c0 += cn;
			break;
		}
	}
#endif
	for (; c0 < nn; c0 += 64) {
		int64_t cn = nn - c0 < 64 ? nn - c0 : 64;
		for (m = 0; m < M; m++) {
			float acc[64];
			for (n = 0; n < cn; n++)
				acc[n] = 0;
			for (k = 0; k < K; k++) {
				float a = x[m * K + k];
				if (fmt == RT_BF16) {
					const uint16_t *h = (const uint16_t *)w + k * ldw + c0;
					for (n = 0; n < cn; n++)
						acc[n] += a * rt_bf16_f32(h[n]);
				} else {
					const float *f = (const float *)w + k * ldw + c0;
					for (n = 0; n < cn; n++)
						acc[n] += a * f[n];
				}
			}
			for (n = 0; n < cn; n++)
				y[m * N + c0 + n] = alpha * acc[n] + (bias ? bias[c0 + n] : 0);
		}
	}
	(void)es;
}

/* rt_linear: y[M,N] = alpha * x[M,K] @ W (+ bias[N]), W constant.
 * t = {x, W, bias or 0, y}; p = {M, K, N, layout, fmt, alpha_bits, n_begin, n_end}
 * computes the columns [n_begin, n_end) (the threads' share)
 * layout 0: W is [K,N] row-major (f32 or bf16); layout 1: W is [N,K] (rows
 * of K, in format fmt: f32, bf16, MXFP4 or Q8), read once for all M rows;
 * layout 2: W [K,N] stored in bands of RT_LINEAR_BAND columns, each band
 * [K, width] row-major, one after the other (compiler/fuse.c). */
RT_API void rt_linear(void *const *t, const int64_t *p)
{
	int64_t M = p[0], K = p[1], N = p[2], layout = p[3], fmt = p[4], m, n, k;
	int64_t nb = p[6], ne = p[7];
	float alpha = (float)rt_bits_f64(p[5]);
	const float *x = (const float *)t[0], *bias = (const float *)t[2];
	float *y = (float *)t[3];
	if (layout == 1) {
		int64_t rb = rt_fused_row_bytes(fmt, K);
		const unsigned char *W = (const unsigned char *)t[1];
		float row[256];
		n = nb;
#if defined(RT_AVX2) || defined(RT_NEON)
		if (fmt != RT_F32 && K % 32 == 0) { /* four rows of W at a time, the same sums */
			if (M == 1 && fmt != RT_BF16) { /* a decoding step: straight from the codes */
				rt_q_rows(fmt, W + nb * rb, rb, x, K, ne - nb, y + nb);
				n = ne;
			} else {
				const float *xp[32];
				float *yp[32];
				int64_t m0, mn;
				for (m0 = 0; m0 < M; m0 += 32) { /* 32 rows of x per pass over W */
					mn = M - m0 < 32 ? M - m0 : 32;
					for (m = 0; m < mn; m++)
						xp[m] = x + (m0 + m) * K, yp[m] = y + (m0 + m) * N;
					for (k = nb; k + 4 <= ne; k += 4)
						rt_q_rows4(fmt, W + k * rb, rb, K, mn, xp, yp, k);
				}
				n = nb + (ne - nb) / 4 * 4;
			}
			for (m = 0; m < M; m++)
				for (k = nb; k < n; k++)
					y[m * N + k] = alpha * y[m * N + k] + (bias ? bias[k] : 0);
		}
#endif
		for (; n < ne; n++) {
			float b = bias ? bias[n] : 0;
			if (fmt == RT_F32) {
				for (m = 0; m < M; m++)
					y[m * N + n] = alpha * rt_fused_dot((const float *)(W + n * rb), x + m * K, K) + b;
				continue;
			}
			for (m = 0; m < M; m++)
				y[m * N + n] = 0;
			for (k = 0; k < K; k += 256) { /* decoded 256 values at a time */
				int64_t kn = K - k < 256 ? K - k : 256;
				rt_fused_decode(W + n * rb + rt_fused_row_bytes(fmt, k), fmt, kn, row);
				for (m = 0; m < M; m++)
					y[m * N + n] += rt_fused_dot(row, x + m * K + k, kn);
			}
			for (m = 0; m < M; m++)
				y[m * N + n] = alpha * y[m * N + n] + b;
		}
		return;
	}
	{
		/* layout 0: W[K,N] row-major; layout 2: bands of RT_LINEAR_BAND
		 * columns, each band its K rows contiguous (the last band
		 * narrower); a thread's range starts on a band */
		const unsigned char *W = (const unsigned char *)t[1];
		int64_t es = fmt == RT_BF16 ? 2 : 4, n0 = nb;
		while (n0 < ne) {
			int64_t bs = layout == 2 ? n0 / RT_LINEAR_BAND * RT_LINEAR_BAND : 0;
			int64_t bw = layout == 2 ? (N - bs < RT_LINEAR_BAND ? N - bs : RT_LINEAR_BAND) : N;
			int64_t nn = (layout == 2 && bs + bw < ne ? bs + bw : ne) - n0;
			const unsigned char *w = layout == 2 ? W + (bs * K + n0 - bs) * es : W + n0 * es;
			rt_linear_cols(M, x, K, N, w, bw, nn, fmt, alpha, bias ? bias + n0 : 0, y + n0);
			n0 += nn;
		}
	}
}

/* rt_embed_gather: y[i,:] = table[idx[i],:] for a constant table stored in
 * format fmt (f32 or bf16), rows of H values; negative indices count from
 * the end, out-of-range ones give a zero row.
 * t = {table, idx, y}; p = {V, H, idx_dtype, n, fmt} */
RT_API void rt_embed_gather(void *const *t, const int64_t *p)
{
	int64_t V = p[0], H = p[1], idt = p[2], n = p[3], fmt = p[4], i, rb = rt_fused_row_bytes(fmt, H);
	const unsigned char *tab = (const unsigned char *)t[0];
	float *y = (float *)t[2];
	for (i = 0; i < n; i++) {
		int64_t e = idt == RT_I32 ? ((const int32_t *)t[1])[i] : ((const int64_t *)t[1])[i];
		if (e < 0)
			e += V;
		if (e < 0 || e >= V)
			memset(y + i * H, 0, 4 * H);
		else
			rt_fused_decode(tab + e * rb, fmt, H, y + i * H);
	}
}
