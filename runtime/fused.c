/* fused.c: kernels for patterns the compiler's fuse pass finds.
 *
 * rt_moe_gemv: a Gather of expert weights followed by a contraction,
 *     Einsum("tkoh,th->tko", Gather(W[E,R,C], idx[t,k]), x[t,h])
 * computed by reading the selected expert's rows in place, instead of
 * materialising the gathered [T,k,R,C] tensor (265 MB per token at
 * gpt-oss-20b widths).
 */
#include "rt.h"

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
	{
		__m256 a = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
		__m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
		h = _mm_add_ps(h, _mm_movehl_ps(h, h));
		h = _mm_add_ss(h, _mm_movehdup_ps(h));
		s = _mm_cvtss_f32(h);
	}
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
