/* test_matmul.c: the contraction kernels (runtime/matmul.c) against a naive
 * double-precision reference.
 *
 * tests/unit/run.sh builds this file twice: with -DRT_NO_SIMD (the scalar
 * reference kernels) and with the machine's SIMD flags (AVX2/FMA or NEON),
 * so both paths are held to the same reference.  Shapes are random with
 * odd sizes and tails (M, N, K in 1..70) over every stride layout
 * (transposed operands and outputs, broadcast and strided batch dims,
 * alpha/beta/C, with and without packing workspace), plus a few large
 * ones.  float32 results must be within TOL_REL of the sum of |a*b| of
 * each output element; integers must be exact.
 * Prints "N passed, N failed" and exits non-zero on failure.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "../../runtime/matmul.c"

#define TOL_REL 1e-5 /* of sum |a*b| per output element, float32 */

static int npass, nfail;
static double kernel_sec; /* time of the last rt_bgemm call */
static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int64_t rndi(int64_t lo, int64_t hi) /* inclusive */
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static double rndf(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0 * 2 - 1;
}

static void fill(void *b, int dt, int64_t n)
{
	int64_t i;
	for (i = 0; i < n; i++) {
		if (rt_is_float(dt))
			rt_setf(b, dt, i, rndf());
		else if (dt == RT_U8)
			rt_seti(b, dt, i, rndi(0, 255));
		else if (dt == RT_I8)
			rt_seti(b, dt, i, rndi(-128, 127));
		else
			rt_seti(b, dt, i, rndi(-1000, 1000));
	}
}

static void check(int ok, const char *what)
{
	if (ok) {
		npass++;
	} else {
		nfail++;
		if (nfail <= 20)
			printf("FAIL %s\n", what);
	}
}

/* ------------------------------------------------------------ rt_bgemm */

typedef struct {
	int dta, dtb, dty;
	int64_t M, N, K;
	int ta, tb, ty; /* transposed layouts */
	int nb;
	int64_t bd[3];
	int bcast_a, bcast_b; /* batch dims broadcast (stride 0) */
	int withc, cshape; /* 0 scalar, 1 [N], 2 [M,1], 3 [M,N] */
	double alpha, beta;
	int ws;
	int zp; /* zero points (integers) */
} Case;

static void bgemm_case(const Case *c, const char *name)
{
	int64_t M = c->M, N = c->N, K = c->K, nbt = 1, i, d, m, n, k;
	int64_t p[RT_BG_HDR + RT_MM_MAXB * 7];
	int64_t asz, bsz, ysz, csz = 1, wsn = RT_MM_WS(K, (M > N ? M : N));
	void *A, *B, *Y, *C = NULL, *za = NULL, *zb = NULL;
	float *ws = NULL;
	void *t[7];
	int64_t *dims, *st;
	int ok = 1;
	char msg[256];
	for (d = 0; d < c->nb; d++)
		nbt *= c->bd[d];
	asz = (c->bcast_a ? 1 : nbt) * M * K;
	bsz = (c->bcast_b ? 1 : nbt) * K * N;
	ysz = nbt * M * N;
	A = malloc(asz * 8 + 8);
	B = malloc(bsz * 8 + 8);
	Y = malloc(ysz * 8 + 8);
	fill(A, c->dta, asz);
	fill(B, c->dtb, bsz);
	memset(p, 0, sizeof p);
	p[RT_BG_DT] = c->dta, p[RT_BG_DTB] = c->dtb, p[RT_BG_DTY] = c->dty;
	p[RT_BG_M] = M, p[RT_BG_N] = N, p[RT_BG_K] = K;
	p[RT_BG_ASM] = c->ta ? 1 : K, p[RT_BG_ASK] = c->ta ? M : 1;
	p[RT_BG_BSK] = c->tb ? 1 : N, p[RT_BG_BSN] = c->tb ? K : 1;
	p[RT_BG_YSM] = c->ty ? 1 : N, p[RT_BG_YSN] = c->ty ? M : 1;
	p[RT_BG_ALPHA] = rt_f64_bits(c->alpha), p[RT_BG_BETA] = rt_f64_bits(c->beta);
	if (c->withc) {
		csz = c->cshape == 0 ? 1 : c->cshape == 1 ? N : c->cshape == 2 ? M : M * N;
		C = malloc(csz * 8);
		fill(C, c->dty, csz);
		p[RT_BG_CSM] = c->cshape == 2 ? 1 : c->cshape == 3 ? N : 0;
		p[RT_BG_CSN] = c->cshape == 1 || c->cshape == 3 ? 1 : 0;
	}
	if (c->zp) {
		za = malloc(M * 8);
		zb = malloc(N * 8);
		fill(za, c->dta, M);
		fill(zb, c->dtb, N);
		p[RT_BG_ZASM] = 1, p[RT_BG_ZBSN] = 1;
	}
	if (c->ws) {
		ws = malloc(wsn * sizeof(float));
		p[RT_BG_WS] = wsn;
	}
	p[RT_BG_NB] = c->nb;
	dims = p + RT_BG_HDR;
	st = dims + c->nb;
	for (d = c->nb - 1, i = 1; d >= 0; d--) {
		dims[d] = c->bd[d];
		st[0 * c->nb + d] = c->bcast_a ? 0 : i * M * K;
		st[1 * c->nb + d] = c->bcast_b ? 0 : i * K * N;
		st[5 * c->nb + d] = i * M * N;
		i *= c->bd[d];
	}
	t[0] = A, t[1] = B, t[2] = C, t[3] = za, t[4] = zb, t[5] = Y, t[6] = ws;
	{
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rt_bgemm(t, p);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		kernel_sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
	}
	for (i = 0; i < nbt && ok; i++) {
		int64_t oa = c->bcast_a ? 0 : i * M * K, ob = c->bcast_b ? 0 : i * K * N;
		for (m = 0; m < M && ok; m++)
			for (n = 0; n < N && ok; n++) {
				double s = 0, mag = 0, got, want;
				int64_t si = 0;
				for (k = 0; k < K; k++) {
					int64_t ia = oa + m * p[RT_BG_ASM] + k * p[RT_BG_ASK];
					int64_t ib = ob + k * p[RT_BG_BSK] + n * p[RT_BG_BSN];
					if (rt_is_float(c->dta)) {
						double x = rt_getf(A, c->dta, ia) * rt_getf(B, c->dtb, ib);
						s += x;
						mag += fabs(x);
					} else {
						si += (rt_geti(A, c->dta, ia) - (za ? rt_geti(za, c->dta, m) : 0)) *
						      (rt_geti(B, c->dtb, ib) - (zb ? rt_geti(zb, c->dtb, n) : 0));
					}
				}
				if (!rt_is_float(c->dta) && c->alpha == 1 && (c->beta == 0 || !C)) {
					int64_t g = rt_geti(Y, c->dty, i * M * N + m * p[RT_BG_YSM] + n * p[RT_BG_YSN]);
					int64_t w = c->dty == RT_I32 ? (int64_t)(int32_t)si : si;
					if (g != w) {
						snprintf(msg, sizeof msg, "%s: [%lld,%lld,%lld] got %lld want %lld", name,
							 (long long)i, (long long)m, (long long)n, (long long)g, (long long)w);
						ok = 0;
					}
					continue;
				}
				if (!rt_is_float(c->dta))
					s = (double)si, mag = fabs(s);
				want = c->alpha * s;
				mag *= fabs(c->alpha);
				if (C && c->beta != 0) {
					double cv = rt_getf(C, c->dty, m * p[RT_BG_CSM] + n * p[RT_BG_CSN]);
					want += c->beta * cv;
					mag += fabs(c->beta * cv);
				}
				got = rt_getf(Y, c->dty, i * M * N + m * p[RT_BG_YSM] + n * p[RT_BG_YSN]);
				{
					double tol = c->dty == RT_F64 ? 1e-12 * mag + 1e-300
						     : c->dty == RT_F32 ? TOL_REL * mag + 1e-30
						     : c->dty == RT_F16 ? 2e-3 * (mag + fabs(want)) + 1e-4
						     : c->dty == RT_BF16 ? 1e-2 * (mag + fabs(want)) + 1e-3 : 0.5;
					if (!(fabs(got - want) <= tol)) {
						snprintf(msg, sizeof msg, "%s: [%lld,%lld,%lld] got %.9g want %.9g (tol %.3g)",
							 name, (long long)i, (long long)m, (long long)n, got, want, tol);
						ok = 0;
					}
				}
			}
	}
	check(ok, ok ? name : msg);
	free(A), free(B), free(Y), free(C), free(za), free(zb), free(ws);
}

static void random_f32_cases(int count)
{
	int i;
	char name[256];
	for (i = 0; i < count; i++) {
		Case c;
		memset(&c, 0, sizeof c);
		c.dta = c.dtb = c.dty = RT_F32;
		c.M = rndi(1, 70), c.N = rndi(1, 70), c.K = rndi(1, 70);
		if (rnd() % 8 == 0)
			c.M = 1;
		if (rnd() % 8 == 0)
			c.N = 1;
		if (rnd() % 16 == 0)
			c.K = rndi(250, 600); /* crosses RT_MM_KC */
		c.ta = rnd() % 3 == 0, c.tb = rnd() % 3 == 0, c.ty = rnd() % 5 == 0;
		c.nb = (int)rndi(0, 2);
		c.bd[0] = rndi(1, 3), c.bd[1] = rndi(1, 3);
		c.bcast_a = rnd() % 4 == 0, c.bcast_b = rnd() % 4 == 0;
		c.withc = rnd() % 3 == 0, c.cshape = (int)rndi(0, 3);
		c.alpha = rnd() % 3 ? 1 : rndf() * 2;
		c.beta = c.withc ? (rnd() % 2 ? 1 : rndf()) : 0;
		c.ws = rnd() % 4 != 0;
		snprintf(name, sizeof name, "f32 M=%lld N=%lld K=%lld ta=%d tb=%d ty=%d nb=%d bc=%d%d C=%d/%d ws=%d",
			 (long long)c.M, (long long)c.N, (long long)c.K, c.ta, c.tb, c.ty, c.nb, c.bcast_a,
			 c.bcast_b, c.withc, c.cshape, c.ws);
		bgemm_case(&c, name);
	}
}

static void big_case(int64_t M, int64_t N, int64_t K, int ta, int tb, int ws)
{
	Case c;
	char name[128];
	memset(&c, 0, sizeof c);
	c.dta = c.dtb = c.dty = RT_F32;
	c.M = M, c.N = N, c.K = K, c.ta = ta, c.tb = tb, c.ws = ws, c.alpha = 1;
	snprintf(name, sizeof name, "f32 big %lldx%lldx%lld ta=%d tb=%d ws=%d", (long long)M,
		 (long long)N, (long long)K, ta, tb, ws);
	bgemm_case(&c, name);
	printf("  %-40s %8.2f ms %6.1f GFLOP/s\n", name, kernel_sec * 1e3,
	       2e-9 * (double)M * (double)N * (double)K / kernel_sec);
}

static void other_dtype_cases(void)
{
	static const int dts[] = { RT_F64, RT_F16, RT_BF16, RT_I64, RT_I32, RT_U8, RT_I8 };
	int i, j;
	char name[128];
	for (j = 0; j < (int)(sizeof dts / sizeof dts[0]); j++)
		for (i = 0; i < 12; i++) {
			Case c;
			memset(&c, 0, sizeof c);
			c.dta = c.dtb = c.dty = dts[j];
			if (dts[j] == RT_U8 || dts[j] == RT_I8) { /* MatMulInteger */
				c.dtb = rnd() % 2 ? RT_U8 : RT_I8;
				c.dty = RT_I32;
				c.zp = rnd() % 2;
			}
			c.M = rndi(1, 20), c.N = rndi(1, 20), c.K = rndi(1, 20);
			c.ta = rnd() % 2, c.tb = rnd() % 2;
			c.nb = (int)rndi(0, 1), c.bd[0] = rndi(1, 3);
			c.bcast_b = rnd() % 2;
			c.alpha = 1;
			if (rt_is_float(c.dta) && rnd() % 2)
				c.withc = 1, c.cshape = (int)rndi(0, 3), c.beta = rndf(), c.alpha = rndf();
			snprintf(name, sizeof name, "dtype %d/%d M=%lld N=%lld K=%lld zp=%d", c.dta, c.dtb,
				 (long long)c.M, (long long)c.N, (long long)c.K, c.zp);
			bgemm_case(&c, name);
		}
}

/* ------------------------------------------------------------ rt_einsum */

/* 2-D transpose, trace, and a 3-operand contraction, checked by hand. */
static void einsum_cases(void)
{
	float x[6] = { 1, 2, 3, 4, 5, 6 }, y[6], s;
	float a[2] = { 1, 2 }, b[3] = { 1, 10, 100 }, c3[2] = { 3, 5 }, out[1];
	void *t[4];
	int64_t pt[] = { RT_F32, 1, 2, 0, 3, 2, 1, 3 }; /* "ij->ji": out j (3), i (2) */
	int64_t ptr[] = { RT_F32, 1, 0, 1, 2, 4 };      /* "ii->" on [[1,2],[4,5]] (row stride 3) */
	/* "i,j,i->": sum_i sum_j a_i b_j c_i */
	int64_t p3[] = { RT_F32, 3, 0, 2, 2, 3, 1, 0, 0, 1, 1, 0 };
	int ok;
	t[0] = x, t[1] = y;
	rt_einsum(t, pt);
	ok = y[0] == 1 && y[1] == 4 && y[2] == 2 && y[3] == 5 && y[4] == 3 && y[5] == 6;
	check(ok, "einsum ij->ji");
	t[0] = x, t[1] = &s;
	rt_einsum(t, ptr);
	check(s == 1 + 5, "einsum ii->");
	t[0] = a, t[1] = b, t[2] = c3, t[3] = out;
	rt_einsum(t, p3);
	check(out[0] == (1 * 3 + 2 * 5) * 111, "einsum i,j,i->");
}

int main(int argc, char **argv)
{
	int big = !(argc > 1 && !strcmp(argv[1], "--quick"));
#if defined(RT_AVX2)
	printf("test_matmul: AVX2/FMA kernels\n");
#elif defined(RT_NEON)
	printf("test_matmul: NEON kernels\n");
#else
	printf("test_matmul: scalar reference kernels\n");
#endif
	random_f32_cases(1500);
	other_dtype_cases();
	einsum_cases();
	/* GPT-OSS shapes: x W (W [2880, 5120] and transposed), decode GEMV, and
	 * a wide unembedding-like product */
	big_case(16, 5120, 2880, 0, 0, 1);
	if (big) {
		big_case(16, 5120, 2880, 0, 1, 1);
		big_case(1, 5120, 2880, 0, 0, 1);
		big_case(1, 5120, 2880, 0, 1, 1);
		big_case(3, 40000, 512, 0, 0, 0);
		big_case(130, 77, 300, 1, 1, 1);
	}
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail != 0;
}
