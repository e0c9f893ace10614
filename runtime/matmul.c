/* matmul.c: MatMul, Gemm and batched contractions (Einsum). */
#include "rt.h"

/* y[b,m,n] = sum_k a[b,m,k] b[b,k,n]
 * t = {a, b, y}; p = {dtype, batch, M, N, K, a_batch_stride, b_batch_stride}
 * (batch strides in elements; 0 broadcasts) */
RT_API void rt_matmul(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], nb = p[1], M = p[2], N = p[3], K = p[4], sa = p[5], sb = p[6];
	int64_t b, m, n, k;
	if (dt == RT_F32) {
		for (b = 0; b < nb; b++) {
			const float *A = (const float *)t[0] + b * sa, *B = (const float *)t[1] + b * sb;
			float *Y = (float *)t[2] + b * M * N;
			for (m = 0; m < M; m++) {
				float *y = Y + m * N;
				for (n = 0; n < N; n++)
					y[n] = 0;
				for (k = 0; k < K; k++) {
					float a = A[m * K + k];
					const float *br = B + k * N;
					for (n = 0; n < N; n++)
						y[n] += a * br[n];
				}
			}
		}
		return;
	}
	for (b = 0; b < nb; b++)
		for (m = 0; m < M; m++)
			for (n = 0; n < N; n++) {
				double s = 0;
				int64_t si = 0;
				for (k = 0; k < K; k++) {
					if (rt_is_float(dt))
						s += rt_getf(t[0], dt, b * sa + m * K + k) * rt_getf(t[1], dt, b * sb + k * N + n);
					else
						si += rt_geti(t[0], dt, b * sa + m * K + k) * rt_geti(t[1], dt, b * sb + k * N + n);
				}
				if (rt_is_float(dt))
					rt_setf(t[2], dt, b * M * N + m * N + n, s);
				else
					rt_seti(t[2], dt, b * M * N + m * N + n, si);
			}
}
