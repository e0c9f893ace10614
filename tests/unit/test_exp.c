/* test_exp.c: rt_exp_neg (runtime/rt.h), the e^x of the sigmoid and the
 * softmaxes, and the kernels built on it, against double precision.
 *
 * Built by tests/unit/run.sh scalar (-DRT_NO_SIMD), with the machine's
 * SIMD flags and with tcc:
 *   - every 61st float of [-110, 0] and the subnormal results' range,
 *     plus 0, -0, -inf, NaN, -104 and the powers-of-two boundaries:
 *     rt_exp_neg within 1.5 ulp of exp() (an ulp of the correctly
 *     rounded float; subnormal results in subnormal steps; the full sweep
 *     of every float gives 0.98 ulp, 1.01 where gcc contracts to FMAs),
 *     0 from -104 down, NaN for NaN;
 *   - rt_sigmoidf within 3 ulp of 1 / (1 + e^-x) over [-100, 100] (an ulp
 *     from e^-|x|, one from 1 + e, a half from the division);
 *   - rt_ew_chain's sigmoid (a loop gcc vectorises) gives the bits of
 *     rt_sigmoidf called value by value, and rt_reduce_softmax_f32 rows
 *     sum to 1 within 1e-6 and equal e^(x - max) / sum within 2e-7.
 * Prints "N passed, N failed" and exits non-zero on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include "../../runtime/elementwise.c"
#include "../../runtime/reduce.h"

static int npass, nfail;
#define RNG_SEED 0x9E3779B97F4A7C15ull
#include "rng.h"

static void check(int ok, const char *what)
{
	if (ok) {
		npass++;
	} else {
		nfail++;
		printf("FAIL %s\n", what);
	}
}

/* |y - exact| in ulps of the float nearest exact */
static double ulps(float y, double exact)
{
	float r = (float)exact;
	double step = fabsf(r) < 1.17549435e-38f ? 1.40129846e-45 : (double)nextafterf(fabsf(r), INFINITY) - fabsf(r);
	return fabs((double)y - exact) / step;
}

static int noinline_dummy;
static float sigmoid_one(float x) /* one value at a time, not vectorised */
{
	return noinline_dummy ? 0 : rt_sigmoidf(x);
}

int main(void)
{
	char what[160];
	uint32_t u;
	double worst = 0;
	float at = 0;
	int64_t i, n = 0;
	/* every 61st float of [-110, 0]: -0x1.b8p6 is 0xc2dc0000 */
	for (u = 0x80000000u; u <= 0xc2dc0000u; u += 61) {
		float x, y;
		double e;
		memcpy(&x, &u, 4);
		y = rt_exp_neg(x);
		e = ulps(y, exp((double)x));
		if (e > worst)
			worst = e, at = x;
		n++;
	}
	snprintf(what, sizeof what, "rt_exp_neg over %lld floats of [-110, 0]: worst %.3f ulp at %.9g", (long long)n, worst, at);
	check(worst <= 1.5, what);
	{
		static const float sp[] = { 0.0f, -0.0f, -1e-30f, -0.5f, -0.6931472f, -1.0f, -87.33654f, -87.3366f,
					    -100.0f, -103.27893f, -103.97208f, -104.0f, -1000.0f };
		for (i = 0; i < (int64_t)(sizeof sp / sizeof sp[0]); i++) {
			float y = rt_exp_neg(sp[i]);
			double e = ulps(y, exp((double)sp[i]));
			snprintf(what, sizeof what, "rt_exp_neg(%.9g) = %.9g, exp %.9g (%.3f ulp)", sp[i], y,
				 exp((double)sp[i]), e);
			check(e <= 1.5 && (sp[i] > -104.0f || y == 0.0f), what);
		}
		check(rt_exp_neg(-INFINITY) == 0.0f, "rt_exp_neg(-inf) = 0");
		check(rt_exp_neg(NAN) != rt_exp_neg(NAN), "rt_exp_neg(NaN) is NaN");
	}
	/* the sigmoid */
	worst = 0;
	for (i = 0; i < 2000000; i++) {
		float x = (float)(200.0 * ((double)i / 2000000.0) - 100.0) + (float)rndf() * 1e-4f;
		double e = ulps(rt_sigmoidf(x), 1.0 / (1.0 + exp(-(double)x)));
		if (e > worst)
			worst = e, at = x;
	}
	snprintf(what, sizeof what, "rt_sigmoidf over [-100, 100]: worst %.3f ulp at %.9g", worst, at);
	check(worst <= 3.0, what);
	/* the chain's sigmoid op, a block at a time, against value by value */
	{
		float a[RT_EW_BLOCK], d[RT_EW_BLOCK];
		int64_t o[5] = { RT_SIGMOID, 0, 0, 0, 0};
		int same = 1, r, j;
		for (r = 0; r < 20000; r++) {
			for (j = 0; j < RT_EW_BLOCK; j++)
				a[j] = (float)rndf() * (r % 7 == 0 ? 120.0f : 12.0f);
			if (r == 1)
				a[3] = NAN, a[4] = -INFINITY, a[5] = INFINITY, a[6] = -0.0f;
			rt_ew_op(o, RT_EW_BLOCK, d, a, a);
			for (j = 0; j < RT_EW_BLOCK; j++) {
				float s = sigmoid_one(a[j]);
				same &= !memcmp(&s, &d[j], 4) || (s != s && d[j] != d[j]);
			}
		}
		check(same, "rt_ew_chain's sigmoid block = rt_sigmoidf value by value, bit for bit");
	}
	/* softmax rows */
	{
		float x[300], y[300];
		int ok = 1;
		for (i = 0; i < 2000 && ok; i++) {
			int64_t len = rndi(1, 300), j;
			double m = -INFINITY, s = 0, t = 0;
			for (j = 0; j < len; j++) {
				x[j] = (float)rndf() * (float)rndi(1, 60);
				m = x[j] > m ? x[j] : m;
			}
			for (j = 0; j < len; j++)
				s += exp((double)x[j] - m);
			rt_reduce_softmax_f32(RT_SM_SOFT, x, y, len, 1, 0);
			for (j = 0; j < len; j++) {
				t += y[j];
				ok &= fabs(y[j] - exp((double)x[j] - m) / s) <= 2e-7;
			}
			ok &= fabs(t - 1) <= 1e-6;
		}
		check(ok, "rt_reduce_softmax_f32: rows of 1..300 sum to 1 and match e^(x - max) / sum");
	}
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail != 0;
}
