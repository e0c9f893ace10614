/* test_linear.c: rt_linear (runtime/fused.c), the fused linear layer, in
 * its three weight layouts against a double-precision reference.
 *
 * Built by tests/unit/run.sh twice: scalar (-DRT_NO_SIMD) and with the
 * machine's SIMD flags.  Random shapes (M 1..20, K 1..300, N 1..1300, so
 * layout 2 has several bands and a narrow last one), f32 and bf16 weights,
 * alpha, with and without bias, the columns split in thread-sized ranges:
 *   - every layout within TOL_REL of sum |a*b| per output element;
 *   - layout 2 (W in bands of RT_LINEAR_BAND columns) bit-identical to
 *     layout 0 (W row-major) on the same values;
 *   - each row computed alone (M = 1, a decoding step) bit-identical to
 *     the same row of the M-row call (the full window): the KV cache's
 *     steps rely on it;
 *   - layout 1 with MXFP4 and Q8 rows (--weights q8), the same two checks.
 * Prints "N passed, N failed" and exits non-zero on failure.
 */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../runtime/fused.c"

#define TOL_REL 1e-5

static int npass, nfail;
#define RNG_SEED 0x9E3779B97F4A7C15ull
#include "rng.h"

static void check(int ok, const char *what, int64_t M, int64_t K, int64_t N, int fmt)
{
	if (ok) {
		npass++;
	} else {
		nfail++;
		printf("FAIL %s (M %lld K %lld N %lld fmt %d)\n", what, (long long)M, (long long)K, (long long)N, fmt);
	}
}

/* call rt_linear over [0, N) in parts of `align` columns, as the threads do */
static void run(const float *x, const void *w, const float *bias, float *y, int64_t M, int64_t K, int64_t N,
		int layout, int fmt, double alpha, int64_t parts)
{
	int64_t align = layout == 2 ? RT_LINEAR_BAND : layout == 0 ? 32 : 1;
	int64_t step = ((N + parts - 1) / parts + align - 1) / align * align, b;
	for (b = 0; b < N; b += step) {
		int64_t p[8] = { M, K, N, layout, fmt, rt_f64_bits(alpha), b, b + step < N ? b + step : N };
		void *t[4] = { (void *)x, (void *)w, (void *)bias, y };
		rt_linear(t, p);
	}
}

static void one_case(int64_t M, int64_t K, int64_t N, int fmt, int with_bias)
{
	int64_t es = fmt == RT_BF16 ? 2 : 4, i, k, n, b;
	float *x = malloc(sizeof(float) * M * K), *wf = malloc(sizeof(float) * K * N), *bias = malloc(sizeof(float) * N);
	unsigned char *w0 = malloc(es * K * N), *w1 = malloc(es * K * N), *w2 = malloc(es * K * N);
	float *y0 = malloc(sizeof(float) * M * N), *y1 = malloc(sizeof(float) * M * N), *y2 = malloc(sizeof(float) * M * N);
	float *yr = malloc(sizeof(float) * N);
	double alpha = rnd() % 2 ? 1.0 : 0.5 + rndf() * 0.25;
	int ok;
	for (i = 0; i < M * K; i++)
		x[i] = rndf();
	for (i = 0; i < N; i++)
		bias[i] = rndf();
	for (k = 0; k < K; k++)
		for (n = 0; n < N; n++) {
			float v = rndf();
			if (fmt == RT_BF16) { /* exactly bf16 */
				uint32_t u;
				memcpy(&u, &v, 4);
				u &= 0xffff0000u;
				memcpy(&v, &u, 4);
			}
			wf[k * N + n] = v;
		}
	/* the three layouts of the same values */
	for (k = 0; k < K; k++)
		for (n = 0; n < N; n++) {
			int64_t o0 = k * N + n, o1 = n * K + k;
			int64_t bs = n / RT_LINEAR_BAND * RT_LINEAR_BAND, bw = N - bs < RT_LINEAR_BAND ? N - bs : RT_LINEAR_BAND;
			int64_t o2 = bs * K + k * bw + (n - bs);
			if (fmt == RT_BF16) {
				uint32_t u;
				memcpy(&u, &wf[o0], 4);
				((uint16_t *)w0)[o0] = ((uint16_t *)w1)[o1] = ((uint16_t *)w2)[o2] = (uint16_t)(u >> 16);
			} else {
				((float *)w0)[o0] = ((float *)w1)[o1] = ((float *)w2)[o2] = wf[o0];
			}
		}
	b = with_bias;
	run(x, w0, b ? bias : NULL, y0, M, K, N, 0, fmt, alpha, rndi(1, 3));
	run(x, w1, b ? bias : NULL, y1, M, K, N, 1, fmt, alpha, rndi(1, 3));
	run(x, w2, b ? bias : NULL, y2, M, K, N, 2, fmt, alpha, rndi(1, 3));
	ok = 1;
	for (i = 0; i < M && ok; i++)
		for (n = 0; n < N && ok; n++) {
			double ref = 0, mag = 0;
			for (k = 0; k < K; k++) {
				ref += (double)x[i * K + k] * wf[k * N + n];
				mag += fabs((double)x[i * K + k] * wf[k * N + n]);
			}
			ref = alpha * ref + (b ? bias[n] : 0);
			mag = alpha * mag + (b ? fabs(bias[n]) : 0) + 1e-30;
			ok = fabs(y0[i * N + n] - ref) <= TOL_REL * mag && fabs(y1[i * N + n] - ref) <= TOL_REL * mag &&
			     fabs(y2[i * N + n] - ref) <= TOL_REL * mag;
		}
	check(ok, "layouts 0, 1, 2 against the reference", M, K, N, fmt);
	check(!memcmp(y0, y2, sizeof(float) * M * N), "layout 2 bit-identical to layout 0", M, K, N, fmt);
	ok = 1;
	for (i = 0; i < M && ok; i++) {
		run(x + i * K, w2, b ? bias : NULL, yr, 1, K, N, 2, fmt, alpha, rndi(1, 3));
		ok = !memcmp(yr, y2 + i * N, sizeof(float) * N);
	}
	check(ok, "a row alone (a step) bit-identical to the M-row call", M, K, N, fmt);
	free(x), free(wf), free(bias), free(w0), free(w1), free(w2), free(y0), free(y1), free(y2), free(yr);
}

/* layout 1 with rows of K in a block format (MXFP4 or Q8, K a multiple of
 * 32): against the reference, and a row alone (the decoding step's path,
 * dots straight from the codes) bit-identical to the M-row call (rows
 * decoded once for all M) */
static void q_case(int64_t M, int64_t K, int64_t N, int fmt)
{
	static const double e2m1[16] = { 0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6 };
	int64_t rb = fmt == RT_FMT_Q8 ? K / 32 * 36 : K / 32 * 17, i, k, n, j;
	unsigned char *w = malloc(N * rb);
	double *wd = malloc(sizeof(double) * N * K), alpha = rnd() % 2 ? 1.0 : 0.75;
	float *x = malloc(sizeof(float) * M * K), *bias = malloc(sizeof(float) * N);
	float *y = malloc(sizeof(float) * M * N), *yr = malloc(sizeof(float) * N);
	int ok = 1, b = (int)(rnd() % 2);
	for (i = 0; i < M * K; i++)
		x[i] = rndf();
	for (n = 0; n < N; n++) {
		bias[n] = rndf();
		for (k = 0; k < K; k += 32) {
			unsigned char *blk = w + n * rb + rt_fused_row_bytes(fmt, k);
			if (fmt == RT_FMT_Q8) {
				float d = (float)ldexp(1.0 + rndf() * 0.5, (int)rndi(-10, -5));
				memcpy(blk, &d, 4);
				for (j = 0; j < 32; j++) {
					blk[4 + j] = (unsigned char)(signed char)rndi(-127, 127);
					wd[n * K + k + j] = (double)(d * (float)(signed char)blk[4 + j]);
				}
			} else {
				blk[0] = (unsigned char)rndi(120, 128);
				for (j = 0; j < 16; j++) {
					blk[1 + j] = (unsigned char)rnd();
					/* byte j: values lo and lo + 4 (runtime/fused.c, RT_MXFP4_LO) */
					int lo = 16 * (j / 8) + 8 * (j % 2) + j % 8 / 2;
					wd[n * K + k + lo] = ldexp(e2m1[blk[1 + j] & 15], blk[0] - 127);
					wd[n * K + k + lo + 4] = ldexp(e2m1[blk[1 + j] >> 4], blk[0] - 127);
				}
			}
		}
	}
	run(x, w, b ? bias : NULL, y, M, K, N, 1, fmt, alpha, rndi(1, 3));
	for (i = 0; i < M && ok; i++)
		for (n = 0; n < N && ok; n++) {
			double ref = 0, mag = 1e-30;
			for (k = 0; k < K; k++) {
				ref += (double)x[i * K + k] * wd[n * K + k];
				mag += fabs((double)x[i * K + k] * wd[n * K + k]);
			}
			ref = alpha * ref + (b ? bias[n] : 0);
			mag = alpha * mag + (b ? fabs(bias[n]) : 0);
			ok = fabs(y[i * N + n] - ref) <= TOL_REL * mag;
		}
	check(ok, "layout 1 (block format) against the reference", M, K, N, fmt);
	ok = 1;
	for (i = 0; i < M && ok; i++) {
		run(x + i * K, w, b ? bias : NULL, yr, 1, K, N, 1, fmt, alpha, rndi(1, 3));
		ok = !memcmp(yr, y + i * N, sizeof(float) * N);
	}
	check(ok, "layout 1 (block format): a row alone bit-identical to the M-row call", M, K, N, fmt);
	free(w), free(wd), free(x), free(bias), free(y), free(yr);
}

int main(int argc, char **argv)
{
	int count = argc > 1 && !strcmp(argv[1], "--quick") ? 40 : 150, c;
	one_case(1, 1, 1, RT_F32, 0);
	one_case(16, 64, RT_LINEAR_BAND * 2 + 8, RT_BF16, 1);
	{ /* the band kernel's edges: a step, tiles of 4 rows and leftover rows, a block of 16 rows and
	   * one more; K across the passes of 16 and 32 rows of W (and the prefetching); the step's 32-
	   * (NEON) or 64-column and the window's 16-column tiles, 8-column tails, odd N */
		static const int64_t ms[] = { 1, 2, 3, 4, 5, 7, 8, 16, 17 }, ks[] = { 1, 3, 16, 17, 33, 100 };
		static const int64_t ns[] = { 7, 9, 23, 72, 136, RT_LINEAR_BAND + 9 };
		int mi, ki, ni;
		for (mi = 0; mi < 9; mi++)
			for (ki = 0; ki < 6; ki++)
				for (ni = 0; ni < 6; ni++)
					one_case(ms[mi], ks[ki], ns[ni], (mi + ki + ni) % 2 ? RT_BF16 : RT_F32, ni % 2);
		one_case(1, 80, 2100, RT_BF16, 1); /* a step over more than RT_BAND columns */
		one_case(17, 40, 2100, RT_F32, 0);
	}
	for (c = 0; c < count; c++)
		one_case(rndi(1, 20), rndi(1, 300), rndi(1, 1300), rnd() % 2 ? RT_BF16 : RT_F32, (int)(rnd() % 2));
	q_case(3, 2880, 37, RT_FMT_Q8);
	q_case(70, 96, 9, RT_FMT_MXFP4); /* more than 32 rows of x: passes of 32 */
	for (c = 0; c < count / 3; c++) {
		q_case(rndi(1, 20), 32 * rndi(1, 12), rndi(1, 70), rnd() % 2 ? RT_FMT_Q8 : RT_FMT_MXFP4);
		one_case(rndi(1, 20), 32 * rndi(1, 10), rndi(1, 300), RT_BF16, (int)(rnd() % 2)); /* K % 32 == 0 */
	}
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail != 0;
}
