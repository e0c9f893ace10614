/* test_moe.c: rt_moe_gemv_q (runtime/fused.c), the MoE expert
 * contraction reading bf16 or MXFP4 expert rows in place, against a
 * double-precision reference.
 *
 * Built by tests/unit/run.sh scalar (-DRT_NO_SIMD), with the machine's
 * SIMD flags, and with tcc.  Expert rows in bf16, MXFP4 or Q8 (--weights
 * q8: an f32 scale and 32 int8 per block).  Random shapes (E experts, R rows of C
 * values, positions [T,k] routed by an index tensor with negative and
 * out-of-range entries, int32 and int64), rows split in thread-sized
 * ranges:
 *   - every output within TOL_REL of sum |w*x| of the decoded weights;
 *   - rows of out-of-range experts are 0;
 *   - each position computed alone (a decoding step: the one-position
 *     path that dots straight from the MXFP4 codes, four rows at a time)
 *     bit-identical to the same position of the batched call, where each
 *     expert row is decoded once for all its positions (and with more than
 *     32 positions per expert, in groups).
 * Prints "N passed, N failed" and exits non-zero on failure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../runtime/fused.c"

#define TOL_REL 1e-5

static int npass, nfail;
#define RNG_SEED 0x2545F4914F6CDD1Dull
#include "rng.h"

static void check(int ok, const char *what, int64_t E, int64_t R, int64_t C, int64_t npos, int64_t fmt)
{
	if (ok) {
		npass++;
	} else {
		nfail++;
		printf("FAIL %s (E %lld R %lld C %lld positions %lld fmt %lld)\n", what, (long long)E, (long long)R,
		       (long long)C, (long long)npos, (long long)fmt);
	}
}

/* rt_moe_gemv_q over rows [0, R) in `parts` ranges, as the threads do */
static void run(const void *w, const void *idx, const float *x, float *y, int64_t E, int64_t R, int64_t C,
		int64_t idt, int64_t nd, const int64_t *dims, const int64_t *xs, int64_t fmt, int64_t parts)
{
	int64_t step = (R + parts - 1) / parts, b, i;
	for (b = 0; b < R; b += step) {
		int64_t p[5 + 2 * 2 + 3];
		void *t[4] = { (void *)w, (void *)idx, (void *)x, y };
		p[0] = E, p[1] = R, p[2] = C, p[3] = idt, p[4] = nd;
		for (i = 0; i < nd; i++)
			p[5 + i] = dims[i], p[5 + nd + i] = xs[i];
		p[5 + 2 * nd] = fmt, p[6 + 2 * nd] = b, p[7 + 2 * nd] = b + step < R ? b + step : R;
		rt_moe_gemv_q(t, p);
	}
}

static void one_case(int64_t E, int64_t R, int64_t C, int64_t T, int64_t K, int64_t fmt, int64_t idt)
{
	int64_t rb = fmt == RT_BF16 ? 2 * C : fmt == RT_FMT_Q8 ? C / 32 * 36 : C / 32 * 17, npos = T * K, i, e, o, c, pos;
	unsigned char *w = malloc(E * R * rb);
	double *wd = malloc(sizeof(double) * E * R * C);
	float *x = malloc(sizeof(float) * T * C), *y = malloc(sizeof(float) * npos * R), *y1 = malloc(sizeof(float) * R);
	int64_t *ix = malloc(sizeof(int64_t) * npos), dims[2] = { T, K }, xs[2] = { C, 0 }, one = 1, zero = 0;
	int32_t *ix32 = malloc(sizeof(int32_t) * npos);
	const void *idx = idt == RT_I32 ? (const void *)ix32 : (const void *)ix;
	int ok, okz;
	static const double e2m1[16] = { 0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6 };
	for (i = 0; i < T * C; i++)
		x[i] = rndf();
	for (e = 0; e < E; e++)
		for (o = 0; o < R; o++) {
			unsigned char *r = w + (e * R + o) * rb;
			double *rd = wd + (e * R + o) * C;
			if (fmt == RT_BF16) {
				for (c = 0; c < C; c++) {
					float v = rndf();
					uint32_t u;
					uint16_t h;
					memcpy(&u, &v, 4);
					h = (uint16_t)(u >> 16); /* truncated: exactly bf16 */
					memcpy(r + 2 * c, &h, 2);
					rd[c] = rt_bf16_f32(h);
				}
			} else if (fmt == RT_FMT_Q8) {
				for (c = 0; c < C; c += 32) {
					unsigned char *b = r + c / 32 * 36;
					float d = (float)ldexp(1.0 + rndf() * 0.5, (int)rndi(-12, -4));
					int j;
					memcpy(b, &d, 4);
					for (j = 0; j < 32; j++) {
						b[4 + j] = (unsigned char)(signed char)rndi(-127, 127);
						rd[c + j] = (double)(d * (float)(signed char)b[4 + j]);
					}
				}
			} else {
				for (c = 0; c < C; c += 32) {
					unsigned char *b = r + c / 32 * 17;
					int j;
					b[0] = (unsigned char)rndi(120, 130); /* scale 2^(b-127) */
					for (j = 0; j < 16; j++) {
						b[1 + j] = (unsigned char)rnd();
						/* byte j: values lo and lo + 4 (runtime/fused.c, RT_MXFP4_LO) */
						int lo = 16 * (j / 8) + 8 * (j % 2) + j % 8 / 2;
						rd[c + lo] = ldexp(e2m1[b[1 + j] & 15], b[0] - 127);
						rd[c + lo + 4] = ldexp(e2m1[b[1 + j] >> 4], b[0] - 127);
					}
				}
			}
		}
	for (i = 0; i < npos; i++) { /* mostly valid experts, some negative, a few out of range */
		int64_t v = rnd() % 8 == 0 ? rndi(-E, -1) : rndi(0, E - 1);
		if (rnd() % 16 == 0)
			v = rnd() % 2 ? E + rndi(0, 3) : -E - 1 - rndi(0, 3);
		ix[i] = v;
		ix32[i] = (int32_t)v;
	}
	run(w, idx, x, y, E, R, C, idt, 2, dims, xs, fmt, rndi(1, 3));
	ok = okz = 1;
	for (pos = 0; pos < npos; pos++) {
		int64_t ee = ix[pos] < 0 ? ix[pos] + E : ix[pos];
		for (o = 0; o < R; o++) {
			double ref = 0, mag = 1e-30;
			if (ee < 0 || ee >= E) {
				okz &= y[pos * R + o] == 0;
				continue;
			}
			for (c = 0; c < C; c++) {
				ref += wd[(ee * R + o) * C + c] * x[pos / K * C + c];
				mag += fabs(wd[(ee * R + o) * C + c] * x[pos / K * C + c]);
			}
			ok &= fabs(y[pos * R + o] - ref) <= TOL_REL * mag;
		}
	}
	check(ok, "against the reference", E, R, C, npos, fmt);
	check(okz, "rows of out-of-range experts are 0", E, R, C, npos, fmt);
	ok = 1;
	for (pos = 0; pos < npos && ok; pos++) {
		const void *ip = idt == RT_I32 ? (const void *)(ix32 + pos) : (const void *)(ix + pos);
		run(w, ip, x + pos / K * C, y1, E, R, C, idt, 1, &one, &zero, fmt, rndi(1, 3));
		ok = !memcmp(y1, y + pos * R, sizeof(float) * R);
	}
	check(ok, "a position alone (a step) bit-identical to the batched call", E, R, C, npos, fmt);
	free(w), free(wd), free(x), free(y), free(y1), free(ix), free(ix32);
}

int main(int argc, char **argv)
{
	int count = argc > 1 && !strcmp(argv[1], "--quick") ? 30 : 120, c;
	one_case(4, 8, 32, 1, 1, RT_FMT_MXFP4, RT_I64);
	one_case(2, 13, 2880, 3, 2, RT_FMT_MXFP4, RT_I32); /* gpt-oss width: chunks of 256 and a tail of 64 */
	one_case(2, 7, 300, 4, 4, RT_BF16, RT_I64);
	one_case(1, 6, 64, 20, 2, RT_FMT_MXFP4, RT_I64); /* 40 positions on one expert: two groups */
	one_case(3, 9, 2880, 5, 2, RT_FMT_Q8, RT_I64);
	for (c = 0; c < count; c++) {
		int f = (int)(rnd() % 3); /* bf16, MXFP4, Q8 */
		one_case(rndi(1, 9), rndi(1, 40), f || rnd() % 2 ? 32 * rndi(1, 20) : rndi(1, 600), rndi(1, 20), rndi(1, 4),
			 f == 0 ? RT_BF16 : f == 1 ? RT_FMT_MXFP4 : RT_FMT_Q8, rnd() % 2 ? RT_I32 : RT_I64);
	}
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail != 0;
}
