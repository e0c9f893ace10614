/* matmul.c: MatMul, Gemm, MatMulInteger and Einsum contractions.
 *
 * rt_bgemm is one strided batched GEMM: every operand comes with a stride
 * per batch dim and per M/N/K group, so transposes, broadcast batch dims,
 * Einsum layouts and diagonals are all just strides.  float32 has a
 * blocked kernel (register tiles of RT_MM_MR x RT_MM_NR with AVX2/FMA or
 * NEON, a packed right operand when its rows are not contiguous), plus
 * dot-product and row paths for matrix-vector shapes; the scalar code
 * (RT_NO_SIMD, tcc) is the reference.  float32 accumulates in float,
 * float64 in double, other floats in double, integers exactly in int64.
 *
 * rt_einsum is the generic loop nest for Einsum of 1 or 3+ operands, the
 * sums over indices of one operand only, and transposing copies.
 *
 * rt_attn_chain is attention (Q.K, scale and mask, softmax, P.V) as one
 * call, a block of rows at a time, with the arithmetic of the unfused
 * calls (rt_bgemm, rt_ew_chain, rt_softmax / rt_sink_softmax).
 */
#include "rt.h"
#include "matmul.h"
#include "elementwise.h"
#include "reduce.h"

#define RT_MM_MC 96 /* rows of A per block (a multiple of RT_MM_MR) */

/* ---------------------------------------------------------------- f32 */

/* Loop orders: R = rows (inner loop over n, B rows and Y rows contiguous),
 * D = dot products (inner loop over k), C = R of the transposed product. */
enum { RT_MM_R, RT_MM_C, RT_MM_D };

static int rt_matmul_order(int64_t M, int64_t N, int64_t asm_, int64_t ask, int64_t bsk,
			   int64_t bsn, int64_t ysm, int64_t ysn)
{
	int r = bsn == 1 && ysn == 1, c = asm_ == 1 && ysm == 1, d = ask == 1 && bsk == 1;
	if (r && N >= 8)
		return RT_MM_R;
	if (c && M >= 8)
		return RT_MM_C;
	if (d)
		return RT_MM_D;
	return r ? RT_MM_R : c ? RT_MM_C : RT_MM_D;
}

/* Y = A B, scalar float accumulation.  The reference for the SIMD paths. */
static void rt_matmul_f32_ref(const float *A, const float *B, float *Y, int64_t M, int64_t N,
			      int64_t K, int64_t asm_, int64_t ask, int64_t bsk, int64_t bsn,
			      int64_t ysm, int64_t ysn)
{
	int64_t m, n, k;
	int o = rt_matmul_order(M, N, asm_, ask, bsk, bsn, ysm, ysn);
	if (o == RT_MM_C) { /* Y^T = B^T A^T */
		const float *T = A;
		int64_t x;
		A = B, B = T;
		x = M, M = N, N = x;
		x = asm_, asm_ = bsn, bsn = x;
		x = ask, ask = bsk, bsk = x;
		x = ysm, ysm = ysn, ysn = x;
		o = RT_MM_R;
	}
	if (o == RT_MM_R && bsn == 1 && ysn == 1) {
		for (m = 0; m < M; m++) {
			float *y = Y + m * ysm;
			for (n = 0; n < N; n++)
				y[n] = 0;
			for (k = 0; k < K; k++) {
				float a = A[m * asm_ + k * ask];
				const float *b = B + k * bsk;
				for (n = 0; n < N; n++)
					y[n] += a * b[n];
			}
		}
		return;
	}
	for (m = 0; m < M; m++)
		for (n = 0; n < N; n++) {
			const float *a = A + m * asm_, *b = B + n * bsn;
			float s = 0;
			if (ask == 1 && bsk == 1)
				for (k = 0; k < K; k++)
					s += a[k] * b[k];
			else
				for (k = 0; k < K; k++)
					s += a[k * ask] * b[k * bsk];
			Y[m * ysm + n * ysn] = s;
		}
}

#if defined(RT_AVX2) || defined(RT_NEON)

/* Copy B[0..kc, 0..nc) into panels of RT_MM_NR columns, each kc rows of
 * RT_MM_NR floats, zero padded past nc. */
static void rt_matmul_pack(const float *B, int64_t bsk, int64_t bsn, int64_t kc, int64_t nc,
			   float *ws)
{
	int64_t j0, j, k;
	for (j0 = 0; j0 < nc; j0 += RT_MM_NR) {
		int64_t nr = nc - j0 < RT_MM_NR ? nc - j0 : RT_MM_NR;
		float *d = ws + j0 * kc;
		if (bsn == 1 && nr == RT_MM_NR) {
			for (k = 0; k < kc; k++)
				memcpy(d + k * RT_MM_NR, B + k * bsk + j0, RT_MM_NR * sizeof(float));
		} else if (bsk == 1 && nr == RT_MM_NR) { /* 16 rows read in step */
			const float *s = B + j0 * bsn;
			for (k = 0; k < kc; k++)
				for (j = 0; j < RT_MM_NR; j++)
					d[k * RT_MM_NR + j] = s[j * bsn + k];
		} else {
			for (k = 0; k < kc; k++)
				for (j = 0; j < RT_MM_NR; j++)
					d[k * RT_MM_NR + j] = j < nr ? B[k * bsk + (j0 + j) * bsn] : 0;
		}
	}
}

/* tmp (an MR x 16 tile, row stride 16) = Y's rows < mr, cols < nr, 0
 * elsewhere: the kernels continue the sums already in Y (acc) rather than
 * adding a fresh partial sum, so every element is one FMA chain over all
 * of k whatever the blocking, as in the one-row kernel (a KV-cache step
 * computes the window's bits). */
static void rt_matmul_load(float *tmp, int mr, int nr, const float *Y, int64_t ysm, int64_t ysn)
{
	int i, j;
	for (i = 0; i < RT_MM_MR; i++)
		for (j = 0; j < RT_MM_NR; j++)
			tmp[i * RT_MM_NR + j] = i < mr && j < nr ? Y[i * ysm + j * ysn] : 0;
}

/* Store an MR x 16 tile held in tmp (row stride 16): rows < mr, cols < nr. */
static void rt_matmul_store(const float *tmp, int mr, int nr, float *Y, int64_t ysm,
			    int64_t ysn, int acc)
{
	int i, j;
	for (i = 0; i < mr; i++)
		for (j = 0; j < nr; j++) {
			float *y = Y + i * ysm + j * ysn;
			*y = acc ? *y + tmp[i * RT_MM_NR + j] : tmp[i * RT_MM_NR + j];
		}
}
#endif

#ifdef RT_AVX2
/* 6 x 16 register tile: Y[0..mr, 0..nr) (+)= A[0..mr, 0..kc) B[0..kc, 0..16).
 * Rows past mr read row 0 (computed, not stored); B holds 16 readable
 * floats per k (a panel, or a full-width slice of B). */
static void rt_matmul_k6(int64_t kc, const float *A, int64_t asm_, int64_t ask, int mr,
			 const float *B, int64_t bs, int nr, float *Y, int64_t ysm, int64_t ysn,
			 int acc)
{
	int64_t o1 = mr > 1 ? asm_ : 0, o2 = mr > 2 ? 2 * asm_ : 0, o3 = mr > 3 ? 3 * asm_ : 0;
	int64_t o4 = mr > 4 ? 4 * asm_ : 0, o5 = mr > 5 ? 5 * asm_ : 0, k;
	__m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
	__m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
	const float *a = A;
	if (acc) {
		float t[RT_MM_MR * RT_MM_NR];
		rt_matmul_load(t, mr, nr, Y, ysm, ysn);
		c00 = _mm256_loadu_ps(t), c01 = _mm256_loadu_ps(t + 8), c10 = _mm256_loadu_ps(t + 16);
		c11 = _mm256_loadu_ps(t + 24), c20 = _mm256_loadu_ps(t + 32), c21 = _mm256_loadu_ps(t + 40);
		c30 = _mm256_loadu_ps(t + 48), c31 = _mm256_loadu_ps(t + 56), c40 = _mm256_loadu_ps(t + 64);
		c41 = _mm256_loadu_ps(t + 72), c50 = _mm256_loadu_ps(t + 80), c51 = _mm256_loadu_ps(t + 88);
	}
	for (k = 0; k < kc; k++) {
		__m256 b0 = _mm256_loadu_ps(B), b1 = _mm256_loadu_ps(B + 8), x;
		x = _mm256_broadcast_ss(a);
		c00 = _mm256_fmadd_ps(x, b0, c00);
		c01 = _mm256_fmadd_ps(x, b1, c01);
		x = _mm256_broadcast_ss(a + o1);
		c10 = _mm256_fmadd_ps(x, b0, c10);
		c11 = _mm256_fmadd_ps(x, b1, c11);
		x = _mm256_broadcast_ss(a + o2);
		c20 = _mm256_fmadd_ps(x, b0, c20);
		c21 = _mm256_fmadd_ps(x, b1, c21);
		x = _mm256_broadcast_ss(a + o3);
		c30 = _mm256_fmadd_ps(x, b0, c30);
		c31 = _mm256_fmadd_ps(x, b1, c31);
		x = _mm256_broadcast_ss(a + o4);
		c40 = _mm256_fmadd_ps(x, b0, c40);
		c41 = _mm256_fmadd_ps(x, b1, c41);
		x = _mm256_broadcast_ss(a + o5);
		c50 = _mm256_fmadd_ps(x, b0, c50);
		c51 = _mm256_fmadd_ps(x, b1, c51);
		a += ask;
		B += bs;
	}
	if (nr == RT_MM_NR && ysn == 1) {
#define RT_MM_ROW(i, u, v)                                                                 \
	if (i < mr) {                                                                      \
		float *y = Y + i * ysm;                                                    \
		_mm256_storeu_ps(y, u);                                                    \
		_mm256_storeu_ps(y + 8, v);                                                \
	}
		RT_MM_ROW(0, c00, c01)
		RT_MM_ROW(1, c10, c11)
		RT_MM_ROW(2, c20, c21)
		RT_MM_ROW(3, c30, c31)
		RT_MM_ROW(4, c40, c41)
		RT_MM_ROW(5, c50, c51)
#undef RT_MM_ROW
	} else {
		float tmp[RT_MM_MR * RT_MM_NR];
		_mm256_storeu_ps(tmp, c00);
		_mm256_storeu_ps(tmp + 8, c01);
		_mm256_storeu_ps(tmp + 16, c10);
		_mm256_storeu_ps(tmp + 24, c11);
		_mm256_storeu_ps(tmp + 32, c20);
		_mm256_storeu_ps(tmp + 40, c21);
		_mm256_storeu_ps(tmp + 48, c30);
		_mm256_storeu_ps(tmp + 56, c31);
		_mm256_storeu_ps(tmp + 64, c40);
		_mm256_storeu_ps(tmp + 72, c41);
		_mm256_storeu_ps(tmp + 80, c50);
		_mm256_storeu_ps(tmp + 88, c51);
		rt_matmul_store(tmp, mr, nr, Y, ysm, ysn, 0);
	}
}

/* 1 x 16 tile, k unrolled by two. */
static void rt_matmul_k1(int64_t kc, const float *A, int64_t ask, const float *B, int64_t bs,
			 int nr, float *Y, int64_t ysn, int acc)
{
	__m256 c0 = _mm256_setzero_ps(), c1 = c0;
	float tmp[RT_MM_MR * RT_MM_NR];
	int64_t k;
	if (acc) {
		rt_matmul_load(tmp, 1, nr, Y, 0, ysn);
		c0 = _mm256_loadu_ps(tmp), c1 = _mm256_loadu_ps(tmp + 8);
	}
	for (k = 0; k < kc; k++) {
		__m256 x = _mm256_broadcast_ss(A);
		c0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(B), c0);
		c1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(B + 8), c1);
		A += ask;
		B += bs;
	}
	if (nr == RT_MM_NR && ysn == 1) {
		_mm256_storeu_ps(Y, c0);
		_mm256_storeu_ps(Y + 8, c1);
	} else {
		_mm256_storeu_ps(tmp, c0);
		_mm256_storeu_ps(tmp + 8, c1);
		rt_matmul_store(tmp, 1, nr, Y, 0, ysn, 0);
	}
}

static float rt_matmul_hsum(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
	return _mm_cvtss_f32(s);
}

/* out[i] = dot(x_i, v) for four contiguous vectors of length K. */
static void rt_matmul_dot4(const float *x0, const float *x1, const float *x2, const float *x3,
			   const float *v, int64_t K, float *out)
{
	__m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
	float t0, t1, t2, t3;
	int64_t k;
	for (k = 0; k + 8 <= K; k += 8) {
		__m256 w = _mm256_loadu_ps(v + k);
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x0 + k), w, s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x1 + k), w, s1);
		s2 = _mm256_fmadd_ps(_mm256_loadu_ps(x2 + k), w, s2);
		s3 = _mm256_fmadd_ps(_mm256_loadu_ps(x3 + k), w, s3);
	}
	t0 = rt_matmul_hsum(s0), t1 = rt_matmul_hsum(s1), t2 = rt_matmul_hsum(s2), t3 = rt_matmul_hsum(s3);
	for (; k < K; k++) {
		t0 += x0[k] * v[k];
		t1 += x1[k] * v[k];
		t2 += x2[k] * v[k];
		t3 += x3[k] * v[k];
	}
	out[0] = t0, out[1] = t1, out[2] = t2, out[3] = t3;
}
#endif /* RT_AVX2 */

#ifdef RT_NEON
#define RT_MM_NFMA(c, b, x) c = vfmaq_f32(c, b, x)
/* 6 x 16 register tile (see the AVX2 version). */
static void rt_matmul_k6(int64_t kc, const float *A, int64_t asm_, int64_t ask, int mr,
			 const float *B, int64_t bs, int nr, float *Y, int64_t ysm, int64_t ysn,
			 int acc)
{
	int64_t o[RT_MM_MR], k;
	float32x4_t c[RT_MM_MR][4];
	const float *a = A;
	int i, j;
	float tmp[RT_MM_MR * RT_MM_NR];
	if (acc)
		rt_matmul_load(tmp, mr, nr, Y, ysm, ysn);
	for (i = 0; i < RT_MM_MR; i++) {
		o[i] = i < mr ? i * asm_ : 0;
		for (j = 0; j < 4; j++)
			c[i][j] = acc ? vld1q_f32(tmp + i * RT_MM_NR + 4 * j) : vdupq_n_f32(0);
	}
	for (k = 0; k < kc; k++) {
		float32x4_t b0 = vld1q_f32(B), b1 = vld1q_f32(B + 4), b2 = vld1q_f32(B + 8);
		float32x4_t b3 = vld1q_f32(B + 12);
		for (i = 0; i < RT_MM_MR; i++) {
			float32x4_t x = vdupq_n_f32(a[o[i]]);
			RT_MM_NFMA(c[i][0], b0, x);
			RT_MM_NFMA(c[i][1], b1, x);
			RT_MM_NFMA(c[i][2], b2, x);
			RT_MM_NFMA(c[i][3], b3, x);
		}
		a += ask;
		B += bs;
	}
	if (nr == RT_MM_NR && ysn == 1) {
		for (i = 0; i < mr; i++) {
			float *y = Y + i * ysm;
			for (j = 0; j < 4; j++)
				vst1q_f32(y + 4 * j, c[i][j]);
		}
	} else {
		for (i = 0; i < RT_MM_MR; i++)
			for (j = 0; j < 4; j++)
				vst1q_f32(tmp + i * RT_MM_NR + 4 * j, c[i][j]);
		rt_matmul_store(tmp, mr, nr, Y, ysm, ysn, 0);
	}
}

static void rt_matmul_k1(int64_t kc, const float *A, int64_t ask, const float *B, int64_t bs,
			 int nr, float *Y, int64_t ysn, int acc)
{
	float32x4_t c0 = vdupq_n_f32(0), c1 = c0, c2 = c0, c3 = c0;
	float tmp[RT_MM_MR * RT_MM_NR];
	int64_t k;
	if (acc) {
		rt_matmul_load(tmp, 1, nr, Y, 0, ysn);
		c0 = vld1q_f32(tmp), c1 = vld1q_f32(tmp + 4), c2 = vld1q_f32(tmp + 8), c3 = vld1q_f32(tmp + 12);
	}
	for (k = 0; k < kc; k++) {
		float32x4_t x = vdupq_n_f32(*A);
		RT_MM_NFMA(c0, vld1q_f32(B), x);
		RT_MM_NFMA(c1, vld1q_f32(B + 4), x);
		RT_MM_NFMA(c2, vld1q_f32(B + 8), x);
		RT_MM_NFMA(c3, vld1q_f32(B + 12), x);
		A += ask;
		B += bs;
	}
	vst1q_f32(tmp, c0);
	vst1q_f32(tmp + 4, c1);
	vst1q_f32(tmp + 8, c2);
	vst1q_f32(tmp + 12, c3);
	rt_matmul_store(tmp, 1, nr, Y, 0, ysn, 0);
}

static void rt_matmul_dot4(const float *x0, const float *x1, const float *x2, const float *x3,
			   const float *v, int64_t K, float *out)
{
	float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;
	float t0, t1, t2, t3;
	int64_t k;
	for (k = 0; k + 4 <= K; k += 4) {
		float32x4_t w = vld1q_f32(v + k);
		RT_MM_NFMA(s0, vld1q_f32(x0 + k), w);
		RT_MM_NFMA(s1, vld1q_f32(x1 + k), w);
		RT_MM_NFMA(s2, vld1q_f32(x2 + k), w);
		RT_MM_NFMA(s3, vld1q_f32(x3 + k), w);
	}
	t0 = vaddvq_f32(s0), t1 = vaddvq_f32(s1), t2 = vaddvq_f32(s2), t3 = vaddvq_f32(s3);
	for (; k < K; k++) {
		t0 += x0[k] * v[k];
		t1 += x1[k] * v[k];
		t2 += x2[k] * v[k];
		t3 += x3[k] * v[k];
	}
	out[0] = t0, out[1] = t1, out[2] = t2, out[3] = t3;
}
#undef RT_MM_NFMA
#endif /* RT_NEON */

#ifdef RT_AVX2
#define RT_MM_VW 8
#define RT_MM_V __m256
#define RT_MM_LD(p) _mm256_loadu_ps(p)
#define RT_MM_ST(p, v) _mm256_storeu_ps(p, v)
#define RT_MM_SET1(x) _mm256_set1_ps(x)
#define RT_MM_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#endif
#ifdef RT_NEON
#define RT_MM_VW 4
#define RT_MM_V float32x4_t
#define RT_MM_LD(p) vld1q_f32(p)
#define RT_MM_ST(p, v) vst1q_f32(p, v)
#define RT_MM_SET1(x) vdupq_n_f32(x)
#define RT_MM_FMA(a, b, c) vfmaq_f32(c, a, b)
#endif

#if defined(RT_AVX2) || defined(RT_NEON)
/* Row path for few rows of A and B, Y rows contiguous: Y rows accumulate
 * four rows of B at a time, streaming B in order (matrix-vector shapes). */
static void rt_matmul_f32_rows(const float *A, const float *B, float *Y, int64_t M, int64_t N,
			       int64_t K, int64_t asm_, int64_t ask, int64_t bsk, int64_t ysm)
{
	int64_t n0, m, k, n;
	for (n0 = 0; n0 < N; n0 += 1024) {
		int64_t nc = N - n0 < 1024 ? N - n0 : 1024;
		for (m = 0; m < M; m++)
			memset(Y + m * ysm + n0, 0, nc * sizeof(float));
		for (k = 0; k + 4 <= K; k += 4) {
			const float *b0 = B + k * bsk + n0, *b1 = b0 + bsk, *b2 = b1 + bsk, *b3 = b2 + bsk;
			for (m = 0; m < M; m++) {
				const float *a = A + m * asm_ + k * ask;
				float a0 = a[0], a1 = a[ask], a2 = a[2 * ask], a3 = a[3 * ask];
				RT_MM_V x0 = RT_MM_SET1(a0), x1 = RT_MM_SET1(a1), x2 = RT_MM_SET1(a2);
				RT_MM_V x3 = RT_MM_SET1(a3);
				float *y = Y + m * ysm + n0;
				for (n = 0; n + RT_MM_VW <= nc; n += RT_MM_VW) {
					RT_MM_V v = RT_MM_LD(y + n);
					v = RT_MM_FMA(x0, RT_MM_LD(b0 + n), v);
					v = RT_MM_FMA(x1, RT_MM_LD(b1 + n), v);
					v = RT_MM_FMA(x2, RT_MM_LD(b2 + n), v);
					v = RT_MM_FMA(x3, RT_MM_LD(b3 + n), v);
					RT_MM_ST(y + n, v);
				}
				for (; n < nc; n++) /* the vector lanes' chain, one by one */
					y[n] = fmaf(a3, b3[n], fmaf(a2, b2[n], fmaf(a1, b1[n], fmaf(a0, b0[n], y[n]))));
			}
		}
		for (; k < K; k++) {
			const float *b0 = B + k * bsk + n0;
			for (m = 0; m < M; m++) {
				float a0 = A[m * asm_ + k * ask];
				RT_MM_V x0 = RT_MM_SET1(a0);
				float *y = Y + m * ysm + n0;
				for (n = 0; n + RT_MM_VW <= nc; n += RT_MM_VW)
					RT_MM_ST(y + n, RT_MM_FMA(x0, RT_MM_LD(b0 + n), RT_MM_LD(y + n)));
				for (; n < nc; n++)
					y[n] = fmaf(a0, b0[n], y[n]);
			}
		}
	}
}
#endif

#if defined(RT_AVX2) || defined(RT_NEON)
/* Dot-product path for A rows and B columns contiguous along k with a small
 * M or N: groups of four along the larger side. */
static void rt_matmul_f32_dot(const float *A, const float *B, float *Y, int64_t M, int64_t N,
			      int64_t K, int64_t asm_, int64_t bsn, int64_t ysm, int64_t ysn)
{
	int64_t p, q, P, Q, xs, vs, yp, yq, i;
	const float *X, *V;
	if (M >= N)
		X = A, V = B, P = M, Q = N, xs = asm_, vs = bsn, yp = ysm, yq = ysn;
	else
		X = B, V = A, P = N, Q = M, xs = bsn, vs = asm_, yp = ysn, yq = ysm;
	for (p = 0; p < P; p += 4) /* four vectors of X stay in cache over q */
		for (q = 0; q < Q; q++) {
			float out[4];
			int64_t n = P - p < 4 ? P - p : 4;
			const float *x0 = X + p * xs;
			rt_matmul_dot4(x0, n > 1 ? x0 + xs : x0, n > 2 ? x0 + 2 * xs : x0,
				       n > 3 ? x0 + 3 * xs : x0, V + q * vs, K, out);
			for (i = 0; i < n; i++)
				Y[(p + i) * yp + q * yq] = out[i];
		}
}

/* Blocked GEMM: B read in place when its rows are contiguous, else packed
 * into ws (RT_MM_WS(K, N) floats). */
static void rt_matmul_f32_blocked(const float *A, const float *B, float *Y, int64_t M, int64_t N,
				  int64_t K, int64_t asm_, int64_t ask, int64_t bsk, int64_t bsn,
				  int64_t ysm, int64_t ysn, float *ws, int pack)
{
	float tail[RT_MM_KC * RT_MM_NR];
	int64_t k0, n0, m0, j0, i0;
	for (k0 = 0; k0 < K; k0 += RT_MM_KC) {
		int64_t kc = K - k0 < RT_MM_KC ? K - k0 : RT_MM_KC;
		int acc = k0 > 0;
		for (n0 = 0; n0 < N; n0 += RT_MM_NC) {
			int64_t nc = N - n0 < RT_MM_NC ? N - n0 : RT_MM_NC;
			if (pack)
				rt_matmul_pack(B + k0 * bsk + n0 * bsn, bsk, bsn, kc, nc, ws);
			for (m0 = 0; m0 < M; m0 += RT_MM_MC) {
				int64_t mc = M - m0 < RT_MM_MC ? M - m0 : RT_MM_MC;
				for (j0 = 0; j0 < nc; j0 += RT_MM_NR) {
					int nr = (int)(nc - j0 < RT_MM_NR ? nc - j0 : RT_MM_NR);
					const float *bp;
					int64_t bs;
					if (pack) {
						bp = ws + j0 * kc, bs = RT_MM_NR;
					} else if (nr == RT_MM_NR) {
						bp = B + k0 * bsk + n0 + j0, bs = bsk;
					} else {
						if (m0 == 0)
							rt_matmul_pack(B + k0 * bsk + n0 + j0, bsk, 1, kc, nr, tail);
						bp = tail, bs = RT_MM_NR;
					}
					for (i0 = 0; i0 < mc; i0 += RT_MM_MR) {
						int mr = (int)(mc - i0 < RT_MM_MR ? mc - i0 : RT_MM_MR);
						const float *a = A + (m0 + i0) * asm_ + k0 * ask;
						float *y = Y + (m0 + i0) * ysm + (n0 + j0) * ysn;
						if (mr == 1)
							rt_matmul_k1(kc, a, ask, bp, bs, nr, y, ysn, acc);
						else
							rt_matmul_k6(kc, a, asm_, ask, mr, bp, bs, nr, y, ysm, ysn, acc);
					}
				}
			}
		}
	}
}
#endif

/* Y = A B in float32 (strides in elements, ws: packing space or NULL). */
static void rt_matmul_f32(const float *A, const float *B, float *Y, int64_t M, int64_t N,
			  int64_t K, int64_t asm_, int64_t ask, int64_t bsk, int64_t bsn,
			  int64_t ysm, int64_t ysn, float *ws, int64_t wsn)
{
	int64_t m, n;
	if (M == 1)
		asm_ = 0, ysm = 0;
	if (N == 1)
		bsn = 0, ysn = 0;
	if (K == 1)
		ask = 0, bsk = 0;
	if (K == 0) {
		for (m = 0; m < M; m++)
			for (n = 0; n < N; n++)
				Y[m * ysm + n * ysn] = 0;
		return;
	}
#if defined(RT_AVX2) || defined(RT_NEON)
	{
		int o = rt_matmul_order(M, N, asm_, ask, bsk, bsn, ysm, ysn);
		/* both operands contiguous along k: dot products, whatever M and
		 * N (a kernel chosen by M would give a one-row step other bits) */
		if (ask == 1 && bsk == 1 && K >= 8) {
			rt_matmul_f32_dot(A, B, Y, M, N, K, asm_, bsn, ysm, ysn);
			return;
		}
		if (o == RT_MM_C) { /* Y^T = B^T A^T */
			const float *T = A;
			int64_t x;
			A = B, B = T;
			x = M, M = N, N = x;
			x = asm_, asm_ = bsn, bsn = x;
			x = ask, ask = bsk, bsk = x;
			x = ysm, ysm = ysn, ysn = x;
		}
		if (bsn == 1 && ysn == 1 && M < RT_MM_MR) {
			rt_matmul_f32_rows(A, B, Y, M, N, K, asm_, ask, bsk, ysm);
			return;
		}
		if (ws && wsn >= RT_MM_WS(K, N) && (bsn != 1 || M >= 16) && M > 1) {
			rt_matmul_f32_blocked(A, B, Y, M, N, K, asm_, ask, bsk, bsn, ysm, ysn, ws, 1);
			return;
		}
		if (bsn == 1 || N == 1) {
			rt_matmul_f32_blocked(A, B, Y, M, N, K, asm_, ask, bsk, 1, ysm, ysn, ws, 0);
			return;
		}
	}
#else
	(void)ws, (void)wsn;
#endif
	rt_matmul_f32_ref(A, B, Y, M, N, K, asm_, ask, bsk, bsn, ysm, ysn);
}

/* ---------------------------------------------------------------- bgemm */

/* One batch item, any dtype.  o[] are the element offsets of the six slots. */
static void rt_bgemm_one(void *const *t, const int64_t *p, const int64_t *o)
{
	int64_t dt = p[RT_BG_DT], dtb = p[RT_BG_DTB], dty = p[RT_BG_DTY];
	int64_t M = p[RT_BG_M], N = p[RT_BG_N], K = p[RT_BG_K];
	int64_t asm_ = p[RT_BG_ASM], ask = p[RT_BG_ASK], bsk = p[RT_BG_BSK], bsn = p[RT_BG_BSN];
	int64_t ysm = p[RT_BG_YSM], ysn = p[RT_BG_YSN], csm = p[RT_BG_CSM], csn = p[RT_BG_CSN];
	int64_t zsm = p[RT_BG_ZASM], zsn = p[RT_BG_ZBSN];
	double alpha = rt_bits_f64(p[RT_BG_ALPHA]), beta = rt_bits_f64(p[RT_BG_BETA]);
	const void *C = t[2];
	void *Yv = t[5];
	int64_t m, n, k;
	int zp = t[3] || t[4];
	if (!C)
		beta = 0;
	if (dt == RT_F32 && dtb == RT_F32 && dty == RT_F32 && !zp) {
		const float *A = (const float *)t[0] + o[0], *B = (const float *)t[1] + o[1];
		float *Y = (float *)Yv + o[5];
		rt_matmul_f32(A, B, Y, M, N, K, asm_, ask, bsk, bsn, ysm, ysn, (float *)t[6],
			      p[RT_BG_WS]);
		if (alpha != 1 || beta != 0) {
			const float *Cf = C ? (const float *)C + o[2] : 0;
			float fa = (float)alpha, fb = (float)beta;
			for (m = 0; m < M; m++)
				for (n = 0; n < N; n++) {
					float *y = Y + m * ysm + n * ysn;
					*y = fa * *y + (beta != 0 ? fb * Cf[m * csm + n * csn] : 0.0f);
				}
		}
		return;
	}
	if (dt == RT_F64 && dtb == RT_F64 && dty == RT_F64 && !zp) {
		const double *A = (const double *)t[0] + o[0], *B = (const double *)t[1] + o[1];
		const double *Cd = C ? (const double *)C + o[2] : 0;
		double *Y = (double *)Yv + o[5];
		for (m = 0; m < M; m++)
			for (n = 0; n < N; n++) {
				double s = 0;
				for (k = 0; k < K; k++)
					s += A[m * asm_ + k * ask] * B[k * bsk + n * bsn];
				s *= alpha;
				if (beta != 0)
					s += beta * Cd[m * csm + n * csn];
				Y[m * ysm + n * ysn] = s;
			}
		return;
	}
	if (rt_is_float(dt) || rt_is_float(dtb)) {
		for (m = 0; m < M; m++)
			for (n = 0; n < N; n++) {
				double s = 0;
				for (k = 0; k < K; k++)
					s += rt_getf(t[0], dt, o[0] + m * asm_ + k * ask) *
					     rt_getf(t[1], dtb, o[1] + k * bsk + n * bsn);
				s *= alpha;
				if (beta != 0)
					s += beta * rt_getf(C, dty, o[2] + m * csm + n * csn);
				rt_setf(Yv, dty, o[5] + m * ysm + n * ysn, s);
			}
		return;
	}
	/* integers: exact (wrapping) int64 arithmetic */
	for (m = 0; m < M; m++) {
		int64_t za = t[3] ? rt_geti(t[3], dt, o[3] + m * zsm) : 0;
		for (n = 0; n < N; n++) {
			int64_t zb = t[4] ? rt_geti(t[4], dtb, o[4] + n * zsn) : 0;
			uint64_t s = 0;
			for (k = 0; k < K; k++) {
				int64_t a = rt_geti(t[0], dt, o[0] + m * asm_ + k * ask) - za;
				int64_t b = rt_geti(t[1], dtb, o[1] + k * bsk + n * bsn) - zb;
				s += (uint64_t)a * (uint64_t)b;
			}
			if (alpha == 1 && (beta == 0 || beta == 1)) {
				if (beta != 0)
					s += (uint64_t)rt_geti(C, dty, o[2] + m * csm + n * csn);
				rt_seti(Yv, dty, o[5] + m * ysm + n * ysn, (int64_t)s);
			} else {
				double d = alpha * (double)(int64_t)s;
				if (beta != 0)
					d += beta * (double)rt_geti(C, dty, o[2] + m * csm + n * csn);
				rt_setf(Yv, dty, o[5] + m * ysm + n * ysn, d);
			}
		}
	}
}

/* Strided batched GEMM; the layout of t and p is in matmul.h. */
RT_API void rt_bgemm(void *const *t, const int64_t *p)
{
	int64_t nb = p[RT_BG_NB], idx[RT_MM_MAXB], o[RT_BG_SLOTS], total = 1, i, d, s;
	const int64_t *dims = p + RT_BG_HDR, *st = dims + nb;
	for (d = 0; d < nb; d++) {
		total *= dims[d];
		idx[d] = 0;
	}
	for (s = 0; s < RT_BG_SLOTS; s++)
		o[s] = 0;
	for (i = 0; i < total; i++) {
		rt_bgemm_one(t, p, o);
		for (d = nb - 1; d >= 0; d--) {
			idx[d]++;
			for (s = 0; s < RT_BG_SLOTS; s++)
				o[s] += st[s * nb + d];
			if (idx[d] < dims[d])
				break;
			for (s = 0; s < RT_BG_SLOTS; s++)
				o[s] -= st[s * nb + d] * dims[d];
			idx[d] = 0;
		}
	}
}

/* ---------------------------------------------------------------- attention */

/* Attention as one call; the layout of t and p is in matmul.h.  Every
 * element gets the bits of the unfused calls: the compiler fuses only
 * shapes where rt_matmul_f32 computes an element the same way whatever
 * the rows (Q.K: the dot path, Q and K contiguous along d, d >= 8; P.V: one
 * FMA chain over the keys, V contiguous along e), the program's ops are
 * rt_ew_chain's (rt_ew_binop), and the rows are rt_softmax's. */
RT_API void rt_attn_chain(void *const *t, const int64_t *p)
{
	int64_t nb = p[RT_AT_NB], T = p[RT_AT_T], S = p[RT_AT_S], D = p[RT_AT_D], E = p[RT_AT_E];
	int64_t rb = p[RT_AT_RB], qt = p[RT_AT_QT], ks = p[RT_AT_KS], vs = p[RT_AT_VS];
	int64_t ot = p[RT_AT_OT], oe = p[RT_AT_OE], xl = p[RT_AT_XL];
	const int64_t *dims = p + RT_AT_HDR, *st = dims + nb, *prog = st + 4 * nb;
	int64_t nl = prog[0], ni = prog[1];
	const int64_t *lf = prog + 4, *ops = lf + 5 * nl;
	const float *Q = (const float *)t[0], *K = (const float *)t[1], *V = (const float *)t[2];
	const float *z = (const float *)t[3];
	float *O = (float *)t[4 + nl], *X = (float *)t[5 + nl];
	float reg[RT_EW_REGS][RT_EW_BLOCK];
	int64_t idx[RT_MAXDIM], o[4] = { 0, 0, 0, 0 }, total = 1, b, d, s, t0, i, j0, j, k;
	for (d = 0; d < nb; d++) {
		total *= dims[d];
		idx[d] = 0;
	}
	memset(reg, 0, sizeof reg);
	for (b = 0; b < total; b++) {
		for (t0 = 0; t0 < T; t0 += rb) {
			int64_t nr = T - t0 < rb ? T - t0 : rb;
			rt_matmul_f32(Q + o[0] + t0 * qt, K + o[1], X, nr, S, D, qt, 1, 1, ks, S, 1, 0, 0);
			for (i = 0; i < nr; i++) {
				int64_t r = b * T + t0 + i;
				float *x = X + i * S;
				for (j0 = 0; ni && j0 < S; j0 += RT_EW_BLOCK) {
					int64_t n = S - j0 < RT_EW_BLOCK ? S - j0 : RT_EW_BLOCK;
					for (k = 0; k < nl; k++) {
						const int64_t *q = lf + 5 * k;
						const float *src = x + j0;
						int64_t is = 1;
						if (k != xl)
							src = (const float *)t[4 + k] + q[0] + ((r / q[3]) % q[4]) * q[2] + j0 * q[1],
							is = q[1];
						for (j = 0; j < n; j++)
							reg[k][j] = src[j * is];
					}
					for (k = 0; k < ni; k++) {
						const int64_t *op = ops + 5 * k;
						rt_ew_binop(op[0], reg[nl + k], reg[op[1]], reg[op[2]]);
					}
					memcpy(x + j0, reg[nl + ni - 1], 4 * n);
				}
				rt_reduce_softmax_f32(RT_SM_SOFT, x, x, S, 1, z ? z + r : 0);
			}
			rt_matmul_f32(X, V + o[2], O + o[3] + t0 * ot, nr, E, S, S, 1, vs, 1, ot, oe, 0, 0);
		}
		for (d = nb - 1; d >= 0; d--) { /* the next batch index */
			idx[d]++;
			for (s = 0; s < 4; s++)
				o[s] += st[s * nb + d];
			if (idx[d] < dims[d])
				break;
			for (s = 0; s < 4; s++)
				o[s] -= st[s * nb + d] * dims[d];
			idx[d] = 0;
		}
	}
}

/* ---------------------------------------------------------------- einsum */

/* Generic Einsum loop nest; the layout of t and p is in matmul.h. */
RT_API void rt_einsum(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], nop = p[1], nout = p[2], nsum = p[3], ni = nout + nsum;
	const int64_t *dims = p + 4, *st = dims + ni;
	int64_t idx[RT_EIN_MAXIDX], off[RT_EIN_MAXIDX], total = 1, inner = 1, y, j, d, i;
	void *Y = t[nop];
	int isf = rt_is_float(dt);
	for (d = 0; d < nout; d++)
		total *= dims[d];
	for (d = nout; d < ni; d++)
		inner *= dims[d];
	for (d = 0; d < ni; d++)
		idx[d] = 0;
	for (i = 0; i < nop; i++)
		off[i] = 0;
	for (y = 0; y < total; y++) {
		double sf = 0;
		uint64_t si = 0;
		for (j = 0; j < inner; j++) {
			if (dt == RT_F32) {
				double v = 1;
				for (i = 0; i < nop; i++)
					v *= ((const float *)t[i])[off[i]];
				sf += v;
			} else if (dt == RT_F64) {
				double v = 1;
				for (i = 0; i < nop; i++)
					v *= ((const double *)t[i])[off[i]];
				sf += v;
			} else if (isf) {
				double v = 1;
				for (i = 0; i < nop; i++)
					v *= rt_getf(t[i], dt, off[i]);
				sf += v;
			} else {
				uint64_t v = 1;
				for (i = 0; i < nop; i++)
					v *= (uint64_t)rt_geti(t[i], dt, off[i]);
				si += v;
			}
			/* next summed index (innermost last) */
			for (d = ni - 1; d >= nout; d--) {
				idx[d]++;
				for (i = 0; i < nop; i++)
					off[i] += st[i * ni + d];
				if (idx[d] < dims[d])
					break;
				for (i = 0; i < nop; i++)
					off[i] -= st[i * ni + d] * dims[d];
				idx[d] = 0;
			}
		}
		if (dt == RT_F32)
			((float *)Y)[y] = (float)sf;
		else if (dt == RT_F64)
			((double *)Y)[y] = sf;
		else if (isf)
			rt_setf(Y, dt, y, sf);
		else
			rt_seti(Y, dt, y, (int64_t)si);
		for (d = nout - 1; d >= 0; d--) {
			idx[d]++;
			for (i = 0; i < nop; i++)
				off[i] += st[i * ni + d];
			if (idx[d] < dims[d])
				break;
			for (i = 0; i < nop; i++)
				off[i] -= st[i * ni + d] * dims[d];
			idx[d] = 0;
		}
	}
}
