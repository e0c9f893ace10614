/* attention.c: transformer ops of recent opsets: Attention (23/24),
 * RotaryEmbedding (23), Swish/SwiGLU, Shrink, CumProd.
 *
 * Attention follows the ONNX function body step by step: Q and K are each
 * scaled by sqrt(scale), Q K^T, softcap, + bias (attn_mask, causal mask,
 * key padding), softmax (rows whose bias is all -inf give zeros), P V.
 * Intermediates are rounded to the input type where the function body
 * casts to it, so float16 results match the reference closely.
 */
#include "rt.h"

/* x rounded to dtype dt (float16/bfloat16 are stored narrower) */
static float rt_attention_round(int64_t dt, float x)
{
	if (dt == RT_F16)
		return rt_f16_f32(rt_f32_f16(x));
	if (dt == RT_BF16)
		return rt_bf16_f32(rt_f32_bf16(x));
	return x;
}

static float rt_attention_ld(const void *b, int64_t dt, int64_t i)
{
	if (dt == RT_F32)
		return ((const float *)b)[i];
	return (float)rt_getf(b, dt, i);
}

static void rt_attention_st(void *b, int64_t dt, int64_t i, float x)
{
	if (dt == RT_F32)
		((float *)b)[i] = x;
	else
		rt_setf(b, dt, i, x);
}

/* t: Q K V mask past_key past_value nonpad_kv_seqlen | Y present_key
 * present_value qk_out scratch(f32: Dk + 2 T + Dv) */
RT_API void rt_attention(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], B = p[1], Hq = p[2], Hkv = p[3], Sq = p[4], Skv = p[5], Sp = p[6];
	int64_t Dk = p[7], Dv = p[8];
	const int64_t *qs = p + 9, *ks = p + 12, *vs = p + 15, *ys = p + 18;
	int64_t mdt = p[21];
	const int64_t *ms = p + 22;
	int64_t Tm = p[26], causal = p[27];
	float scale = (float)rt_bits_f64(p[28]), softcap = (float)rt_bits_f64(p[29]);
	int64_t mode = p[30], T = Sp + Skv, group = Hq / Hkv;
	const void *Q = t[0], *K = t[1], *V = t[2], *M = t[3], *PK = t[4], *PV = t[5];
	const int64_t *nonpad = (const int64_t *)t[6];
	void *Y = t[7], *OK = t[8], *OV = t[9], *QK = t[10];
	float *qrow = (float *)t[11], *s = qrow + Dk, *bias = s + T, *yacc = bias + T;
	float sqs = rt_attention_round(dt, sqrtf(scale));
	float ninf = -INFINITY;
	int64_t b, h, i, j, d;

	/* present_key / present_value: past ++ new */
	for (b = 0; b < B; b++)
		for (h = 0; h < Hkv; h++)
			for (j = 0; j < T; j++) {
				if (OK)
					for (d = 0; d < Dk; d++) {
						float x = j < Sp ? rt_attention_ld(PK, dt, ((b * Hkv + h) * Sp + j) * Dk + d)
							: rt_attention_ld(K, dt, b * ks[0] + h * ks[1] + (j - Sp) * ks[2] + d);
						rt_attention_st(OK, dt, ((b * Hkv + h) * T + j) * Dk + d, x);
					}
				if (OV)
					for (d = 0; d < Dv; d++) {
						float x = j < Sp ? rt_attention_ld(PV, dt, ((b * Hkv + h) * Sp + j) * Dv + d)
							: rt_attention_ld(V, dt, b * vs[0] + h * vs[1] + (j - Sp) * vs[2] + d);
						rt_attention_st(OV, dt, ((b * Hkv + h) * T + j) * Dv + d, x);
					}
			}

	for (b = 0; b < B; b++) {
		int64_t off = nonpad ? nonpad[b] - Sq : Sp;
		int64_t valid = nonpad ? nonpad[b] : T;
		for (h = 0; h < Hq; h++) {
			int64_t kh = h / group;
			for (i = 0; i < Sq; i++) {
				int64_t qo = b * qs[0] + h * qs[1] + i * qs[2];
				int64_t qko = ((b * Hq + h) * Sq + i) * T;
				float bmax = ninf, m = ninf, sum = 0;
				int allmasked, bnan = 0;
				if (dt == RT_F32)
					for (d = 0; d < Dk; d++)
						qrow[d] = ((const float *)Q)[qo + d] * sqs;
				else
					for (d = 0; d < Dk; d++)
						qrow[d] = rt_attention_round(dt, rt_attention_ld(Q, dt, qo + d) * sqs);
				/* scores */
				for (j = 0; j < T; j++) {
					const void *kb;
					int64_t ko;
					float acc = 0;
					if (j < Sp) {
						kb = PK;
						ko = ((b * Hkv + kh) * Sp + j) * Dk;
					} else {
						kb = K;
						ko = b * ks[0] + kh * ks[1] + (j - Sp) * ks[2];
					}
					if (dt == RT_F32) {
						const float *kp = (const float *)kb + ko;
						for (d = 0; d < Dk; d++)
							acc += qrow[d] * (kp[d] * sqs);
					} else {
						for (d = 0; d < Dk; d++)
							acc += qrow[d] * rt_attention_round(dt, rt_attention_ld(kb, dt, ko + d) * sqs);
					}
					s[j] = rt_attention_round(dt, acc);
				}
				if (mode == 0 && QK)
					for (j = 0; j < T; j++)
						rt_attention_st(QK, dt, qko + j, s[j]);
				if (softcap > 0)
					for (j = 0; j < T; j++) {
						float x = rt_attention_round(dt, s[j] / softcap);
						x = rt_attention_round(dt, tanhf(x));
						s[j] = rt_attention_round(dt, x * softcap);
					}
				if (mode == 1 && QK)
					for (j = 0; j < T; j++)
						rt_attention_st(QK, dt, qko + j, s[j]);
				/* bias */
				for (j = 0; j < T; j++) {
					float x = 0;
					if (mdt) {
						if (j >= Tm)
							x = ninf;
						else {
							int64_t mo = b * ms[0] + h * ms[1] + i * ms[2] + j * ms[3];
							if (mdt == RT_BOOL)
								x = ((const uint8_t *)M)[mo] ? 0.0f : ninf;
							else
								x = rt_attention_ld(M, mdt, mo);
						}
					}
					if (causal && j > i + off)
						x += ninf;
					if (nonpad && j >= valid)
						x += ninf;
					x = rt_attention_round(dt, x);
					bias[j] = x;
					if (x != x)
						bnan = 1;
					else if (x > bmax)
						bmax = x;
					s[j] = rt_attention_round(dt, s[j] + x);
				}
				allmasked = !bnan && bmax == ninf;
				if (mode == 2 && QK)
					for (j = 0; j < T; j++)
						rt_attention_st(QK, dt, qko + j, s[j]);
				/* softmax */
				for (j = 0; j < T; j++)
					if (s[j] > m)
						m = s[j];
				for (j = 0; j < T; j++) {
					s[j] = expf(s[j] - m);
					sum += s[j];
				}
				for (j = 0; j < T; j++)
					s[j] = allmasked ? 0.0f : rt_attention_round(dt, s[j] / sum);
				if (mode == 3 && QK)
					for (j = 0; j < T; j++)
						rt_attention_st(QK, dt, qko + j, s[j]);
				/* Y = P V */
				for (d = 0; d < Dv; d++)
					yacc[d] = 0;
				for (j = 0; j < T; j++) {
					const void *vb;
					int64_t vo;
					float pj = s[j];
					if (j < Sp) {
						vb = PV;
						vo = ((b * Hkv + kh) * Sp + j) * Dv;
					} else {
						vb = V;
						vo = b * vs[0] + kh * vs[1] + (j - Sp) * vs[2];
					}
					if (dt == RT_F32) {
						const float *vp = (const float *)vb + vo;
						for (d = 0; d < Dv; d++)
							yacc[d] += pj * vp[d];
					} else {
						for (d = 0; d < Dv; d++)
							yacc[d] += pj * rt_attention_ld(vb, dt, vo + d);
					}
				}
				{
					int64_t yo = b * ys[0] + h * ys[1] + i * ys[2];
					for (d = 0; d < Dv; d++)
						rt_attention_st(Y, dt, yo + d, yacc[d]);
				}
			}
		}
	}
}

/* t: X cos sin position_ids(or NULL) | Y.  X and Y share the layout given
 * by strides (b, h, s) with d contiguous. */
RT_API void rt_rotary(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], B = p[1], H = p[2], S = p[3], D = p[4], sb = p[5], sh = p[6], ss = p[7];
	int64_t R = p[8], inter = p[9], W = p[10], posb = p[11], pdt = p[12];
	const void *X = t[0], *C = t[1], *Sn = t[2], *P = t[3];
	void *Y = t[4];
	int64_t half = R / 2, b, h, s, i;
	for (b = 0; b < B; b++)
		for (s = 0; s < S; s++) {
			int64_t co = P ? rt_geti(P, pdt, b * posb + s) * W : (b * S + s) * W;
			for (h = 0; h < H; h++) {
				int64_t o = b * sb + h * sh + s * ss;
				for (i = 0; i < half; i++) {
					float c = rt_attention_ld(C, dt, co + i), sn = rt_attention_ld(Sn, dt, co + i);
					int64_t i1 = inter ? 2 * i : i, i2 = inter ? 2 * i + 1 : i + half;
					float x1 = rt_attention_ld(X, dt, o + i1), x2 = rt_attention_ld(X, dt, o + i2);
					float r = rt_attention_round(dt, rt_attention_round(dt, c * x1) - rt_attention_round(dt, sn * x2));
					float m = rt_attention_round(dt, rt_attention_round(dt, sn * x1) + rt_attention_round(dt, c * x2));
					rt_attention_st(Y, dt, o + i1, r);
					rt_attention_st(Y, dt, o + i2, m);
				}
				for (i = R; i < D; i++)
					rt_attention_st(Y, dt, o + i, rt_attention_ld(X, dt, o + i));
			}
		}
}

/* Swish (b NULL): y = a sigmoid(alpha a); SwiGLU: y = a sigmoid(alpha a) b */
RT_API void rt_swish(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], n = p[1], i;
	double alpha = rt_bits_f64(p[2]);
	const void *a = t[0], *b = t[1];
	void *y = t[2];
	if (dt == RT_F32) {
		const float *af = (const float *)a, *bf = (const float *)b;
		float *yf = (float *)y, al = (float)alpha;
		for (i = 0; i < n; i++) {
			float v = af[i] / (1.0f + expf(-al * af[i]));
			yf[i] = bf ? v * bf[i] : v;
		}
		return;
	}
	for (i = 0; i < n; i++) {
		double x = rt_getf(a, dt, i);
		double v = rt_attention_round(dt, (float)(x / (1.0 + exp(-alpha * x))));
		rt_setf(y, dt, i, b ? v * rt_getf(b, dt, i) : v);
	}
}

/* Shrink: x < -lambd ? x + bias : x > lambd ? x - bias : 0 */
RT_API void rt_shrink(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], n = p[1], i;
	double lambd = rt_bits_f64(p[2]), bias = rt_bits_f64(p[3]);
	if (dt == RT_F32) {
		const float *x = (const float *)t[0];
		float *y = (float *)t[1], l = (float)lambd, bs = (float)bias;
		for (i = 0; i < n; i++)
			y[i] = x[i] < -l ? x[i] + bs : x[i] > l ? x[i] - bs : 0.0f;
		return;
	}
	for (i = 0; i < n; i++) {
		double x = rt_getf(t[0], dt, i);
		rt_setf(t[1], dt, i, x < -lambd ? x + bias : x > lambd ? x - bias : 0.0);
	}
}

/* CumProd over the middle axis of (outer, n, inner) */
RT_API void rt_cumprod(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], outer = p[1], n = p[2], inner = p[3], excl = p[4], rev = p[5], o, i, j;
	int isf = rt_is_float(dt);
	for (o = 0; o < outer; o++)
		for (i = 0; i < inner; i++) {
			int64_t base = o * n * inner + i;
			double pf = 1;
			uint64_t pi = 1;
			for (j = 0; j < n; j++) {
				int64_t off = base + (rev ? n - 1 - j : j) * inner;
				if (dt == RT_F32) {
					float v = ((const float *)t[0])[off];
					if (excl) {
						((float *)t[1])[off] = (float)pf;
						pf *= v;
					} else {
						pf *= v;
						((float *)t[1])[off] = (float)pf;
					}
				} else if (isf) {
					double v = rt_getf(t[0], dt, off);
					if (excl) {
						rt_setf(t[1], dt, off, pf);
						pf *= v;
					} else {
						pf *= v;
						rt_setf(t[1], dt, off, pf);
					}
				} else {
					uint64_t v = (uint64_t)rt_geti(t[0], dt, off);
					if (excl) {
						rt_seti(t[1], dt, off, (int64_t)pi);
						pi *= v;
					} else {
						pi *= v;
						rt_seti(t[1], dt, off, (int64_t)pi);
					}
				}
			}
		}
}

/* LinearAttention (3-D q/k/v: (B, T, H*D)), one recurrent step per token:
 *   gated/gated_delta: S *= exp(decay) (per key row)
 *   delta/gated_delta: S += k (beta (v - S^T k))^T,  linear/gated: S += k v^T
 *   y = scale q^T S (q head h reads kv head h / (Hq/Hkv))
 * t: q k v past_state decay beta | y present_state scratch(f32: B Hkv Dk Dv + Dv) */
RT_API void rt_linear_attention(void *const *t, const int64_t *p)
{
	int64_t dt = p[0], B = p[1], T = p[2], Hq = p[3], Hkv = p[4], Dk = p[5], Dv = p[6], rule = p[7];
	float scale = (float)rt_bits_f64(p[8]);
	int64_t dstride = p[9], bheads = p[10], group = Hq / Hkv;
	const void *Q = t[0], *K = t[1], *V = t[2], *PS = t[3], *DC = t[4], *BT = t[5];
	void *Y = t[6], *OS = t[7];
	float *S = (float *)t[8], *tmp = S + B * Hkv * Dk * Dv;
	int64_t ns = B * Hkv * Dk * Dv, b, s, h, d, e, i;
	for (i = 0; i < ns; i++)
		S[i] = PS ? rt_attention_ld(PS, dt, i) : 0.0f;
	for (b = 0; b < B; b++)
		for (s = 0; s < T; s++) {
			int64_t row = b * T + s;
			for (h = 0; h < Hkv; h++) {
				float *Sh = S + (b * Hkv + h) * Dk * Dv;
				int64_t ko = row * Hkv * Dk + h * Dk, vo = row * Hkv * Dv + h * Dv;
				if (rule == 1 || rule == 3)
					for (d = 0; d < Dk; d++) {
						float g = expf(rt_attention_ld(DC, dt, dstride ? ko + d : row * Hkv + h));
						for (e = 0; e < Dv; e++)
							Sh[d * Dv + e] *= g;
					}
				if (rule >= 2) {
					float beta = rt_attention_ld(BT, dt, bheads ? row * Hkv + h : row);
					for (e = 0; e < Dv; e++) {
						float r = 0;
						for (d = 0; d < Dk; d++)
							r += Sh[d * Dv + e] * rt_attention_ld(K, dt, ko + d);
						tmp[e] = beta * (rt_attention_ld(V, dt, vo + e) - r);
					}
				} else {
					for (e = 0; e < Dv; e++)
						tmp[e] = rt_attention_ld(V, dt, vo + e);
				}
				for (d = 0; d < Dk; d++) {
					float kd = rt_attention_ld(K, dt, ko + d);
					for (e = 0; e < Dv; e++)
						Sh[d * Dv + e] += kd * tmp[e];
				}
			}
			for (h = 0; h < Hq; h++) {
				const float *Sh = S + (b * Hkv + h / group) * Dk * Dv;
				int64_t qo = row * Hq * Dk + h * Dk, yo = row * Hq * Dv + h * Dv;
				for (e = 0; e < Dv; e++)
					tmp[e] = 0;
				for (d = 0; d < Dk; d++) {
					float qd = rt_attention_ld(Q, dt, qo + d);
					for (e = 0; e < Dv; e++)
						tmp[e] += qd * Sh[d * Dv + e];
				}
				for (e = 0; e < Dv; e++)
					rt_attention_st(Y, dt, yo + e, scale * tmp[e]);
			}
		}
	if (OS)
		for (i = 0; i < ns; i++)
			rt_attention_st(OS, dt, i, S[i]);
}
