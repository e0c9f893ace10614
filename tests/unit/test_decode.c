/* test_decode.c: the block formats of runtime/fused.c (MXFP4: an E8M0
 * scale byte and 16 bytes of e2m1 codes; Q8: an f32 scale and 32 int8),
 * their decode and the dots straight from the codes.
 *
 * Built by tests/unit/run.sh scalar (-DRT_NO_SIMD), with the machine's
 * SIMD flags (AVX2/FMA; NEON on aarch64, under qemu-aarch64 in
 * tests/cross/run.sh) and with tcc:
 *   - rt_fused_decode of MXFP4 blocks with every scale byte (0..255) and
 *     every code in both nibbles equals the scalar formula scale * e2m1
 *     bit for bit (NaN for NaN, -0 for the -0 code); of Q8 blocks, d * q
 *     bit for bit;
 *   - rt_q_rows (SIMD builds: a decoding step's rows read once, four at a
 *     time, and the odd ones) bit-identical to the decoding path's y = 0,
 *     y += rt_fused_dot(decoded chunk of 256, x) chunk by chunk, both
 *     within TOL_REL of the reference; rt_q_rows4 (four rows decoded once
 *     for several x) bit-identical to the same.
 * (rt_moe_gemv_q: test_moe.c; rt_linear layout 1: test_linear.c.)
 * Prints "N passed, N failed" and exits non-zero on failure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../runtime/fused.c"

#define TOL_REL 1e-5

static int npass, nfail;
#define RNG_SEED 0x6A09E667F3BCC909ull
#include "rng.h"

static void check(int ok, const char *what, int64_t R, int64_t C, int fmt)
{
	if (ok) {
		npass++;
	} else {
		nfail++;
		printf("FAIL %s (R %lld C %lld fmt %d)\n", what, (long long)R, (long long)C, fmt);
	}
}

static const float e2m1[16] = { 0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6 };

/* value j of a row in block format fmt, as the scalar decode computes it:
 * MXFP4 2^(e-127) (e = 0: 2^-127) times the e2m1 value, Q8 d * q */
static float value_at(int fmt, const uint8_t *b, int64_t j)
{
	float s;
	if (fmt == RT_FMT_Q8) {
		b += j / 32 * 36;
		memcpy(&s, b, 4);
		return s * (float)(int8_t)b[4 + j % 32];
	}
	b += j / 32 * 17;
	{
		uint32_t u = b[0] ? (uint32_t)b[0] << 23 : 0x00400000u;
		/* value v of a block: byte 8 (v / 16) + 2 (v % 4) + (v % 16) / 8, the
		 * high nibble when v % 8 >= 4 (runtime/fused.c, RT_MXFP4_LO) */
		int v = j % 32, c = b[1 + 8 * (v / 16) + 2 * (v % 4) + v % 16 / 8];
		memcpy(&s, &u, 4);
		return s * e2m1[v % 8 < 4 ? c & 15 : c >> 4];
	}
}

/* the same bits, or both NaN */
static int same_value(float a, float b)
{
	if (a != a || b != b)
		return a != a && b != b;
	return !memcmp(&a, &b, 4);
}

/* a row of n values (a multiple of 32) of random codes; MXFP4 scale bytes
 * in [elo, ehi], Q8 scales 2^[elo-127, ehi-127] times [1, 1.5) */
static void random_row(int fmt, uint8_t *b, int64_t n, int elo, int ehi)
{
	int64_t i, bs = fmt == RT_FMT_Q8 ? 36 : 17;
	for (i = 0; i < n / 32 * bs; i++)
		b[i] = (uint8_t)rnd();
	for (i = 0; i < n / 32; i++)
		if (fmt == RT_FMT_Q8) {
			float d = (float)ldexp(1.25 + rndf() * 0.25, (int)rndi(elo, ehi) - 127);
			memcpy(b + i * bs, &d, 4);
		} else {
			b[i * bs] = (uint8_t)rndi(elo, ehi);
		}
}

static void decode_all(void)
{
	uint8_t b[17 * 8], q[36 * 8];
	float out[256];
	int e, rep, j, ok = 1;
	for (e = 0; e < 256; e++)
		for (rep = 0; rep < 4; rep++) {
			for (j = 0; j < 16; j++) /* every code in both nibbles, in varying places */
				b[1 + j] = (uint8_t)(((j + 5 * rep) & 15) | ((j * 7 + rep) & 15) << 4);
			b[0] = (uint8_t)e;
			random_row(RT_FMT_MXFP4, b + 17, 7 * 32, 0, 255);
			rt_fused_decode(b, RT_FMT_MXFP4, 256, out);
			for (j = 0; j < 256; j++)
				ok &= same_value(out[j], value_at(RT_FMT_MXFP4, b, j));
		}
	check(ok, "MXFP4 decode equals scale * e2m1 for every scale byte and code", 1, 256, RT_FMT_MXFP4);
	ok = 1;
	for (rep = 0; rep < 64; rep++) {
		random_row(RT_FMT_Q8, q, 256, 1, 254);
		for (j = 0; j < 32; j++) /* every int8 somewhere */
			q[4 + 36 * (rep % 8) + j] = (uint8_t)(rep * 32 + j);
		rt_fused_decode(q, RT_FMT_Q8, 256, out);
		for (j = 0; j < 256; j++)
			ok &= !memcmp(&out[j], &(float){ value_at(RT_FMT_Q8, q, j) }, 4);
	}
	check(ok, "Q8 decode equals d * q", 1, 256, RT_FMT_Q8);
}

/* nr rows of C values in fmt: the decoding path against the reference;
 * rt_q_rows and rt_q_rows4 (SIMD builds) bit-identical to it */
static void rows_case(int fmt, int64_t nr, int64_t C)
{
	int64_t rb = rt_fused_row_bytes(fmt, C), o, c0, c;
	uint8_t *w = malloc(rb * nr);
	float *x = malloc(sizeof(float) * C), *y = malloc(sizeof(float) * nr), *yd = malloc(sizeof(float) * nr), row[256];
	int ok = 1;
	random_row(fmt, w, C * nr, 100, 150);
	for (c = 0; c < C; c++)
		x[c] = rndf();
	for (o = 0; o < nr; o++) {
		double ref = 0, mag = 1e-30;
		yd[o] = 0;
		for (c0 = 0; c0 < C; c0 += 256) {
			int64_t cn = C - c0 < 256 ? C - c0 : 256;
			rt_fused_decode(w + o * rb + rt_fused_row_bytes(fmt, c0), fmt, cn, row);
			yd[o] += rt_fused_dot(row, x + c0, cn);
		}
		for (c = 0; c < C; c++) {
			ref += (double)value_at(fmt, w + o * rb, c) * x[c];
			mag += fabs((double)value_at(fmt, w + o * rb, c) * x[c]);
		}
		ok &= fabs(yd[o] - ref) <= TOL_REL * mag;
	}
	check(ok, "decode and rt_fused_dot against the reference", nr, C, fmt);
#if defined(RT_AVX2) || defined(RT_NEON)
	rt_q_rows(fmt, w, rb, x, C, nr, y);
	check(!memcmp(y, yd, sizeof(float) * nr), "rt_q_rows bit-identical to decode + rt_fused_dot", nr, C, fmt);
	ok = 1;
	for (o = 0; o + 4 <= nr; o += 4) {
		const float *xp[2] = { x, x };
		float y2[4], *yp[2] = { y, y2 };
		rt_q_rows4(fmt, w + o * rb, rb, C, 2, xp, yp, 0);
		ok &= !memcmp(y, yd + o, sizeof(float) * 4) && !memcmp(y2, yd + o, sizeof(float) * 4);
	}
	check(ok, "rt_q_rows4 bit-identical to decode + rt_fused_dot", nr, C, fmt);
#else
	(void)y;
#endif
	free(w), free(x), free(y), free(yd);
}

int main(int argc, char **argv)
{
	int count = argc > 1 && !strcmp(argv[1], "--quick") ? 10 : 40, c;
	decode_all();
	rows_case(RT_FMT_MXFP4, 4, 2880); /* gpt-oss width: chunks of 256 and a tail of 64 */
	rows_case(RT_FMT_Q8, 5, 2880);
	for (c = 0; c < count; c++)
		rows_case(rnd() % 2 ? RT_FMT_Q8 : RT_FMT_MXFP4, rndi(1, 9), 32 * rndi(1, 40));
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail != 0;
}
