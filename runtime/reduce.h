/* reduce.h: op codes shared by compiler/op_reduce.c and the kernels in
 * reduce.c. */
#ifndef RT_REDUCE_H
#define RT_REDUCE_H
enum {
	/* rt_reduce */
	RT_RSUM, RT_RMEAN, RT_RMAX, RT_RMIN, RT_RPROD, RT_RL1, RT_RL2, RT_RLOGSUM,
	RT_RLSE, RT_RSUMSQ,
	/* rt_argreduce */
	RT_RARGMAX = 32, RT_RARGMIN,
	/* rt_softmax */
	RT_SM_SOFT = 48, RT_SM_LOG, RT_SM_HARD,
	/* rt_norm */
	RT_NM_LAYER = 64, RT_NM_RMS, RT_NM_LP1, RT_NM_LP2, RT_NM_MVN
};

/* One float32 row of n values at stride st.  sink (RT_SM_SOFT only, or
 * NULL): one more value after the row, counted in the softmax but not
 * written (rt_sink_softmax).  Here, not in reduce.c, for rt_attn_chain
 * (matmul.c), whose rows must get the same bits. */
RT_INLINE void rt_reduce_softmax_f32(int64_t mode, const float *x, float *y, int64_t n, int64_t st, const float *sink)
{
	int64_t j, arg = 0;
	float m = x[0];
	double s = 0;
	for (j = 1; j < n; j++)
		if (x[j * st] > m) {
			m = x[j * st];
			arg = j;
		}
	if (sink && *sink > m)
		m = *sink;
	if (m != m) /* as ONNX Runtime: a leading NaN gives an all-zero Hardmax row */
		arg = -1;
	if (mode == RT_SM_HARD) {
		for (j = 0; j < n; j++)
			y[j * st] = j == arg ? 1.0f : 0.0f;
		return;
	}
	if (mode == RT_SM_LOG) {
		float ls;
		for (j = 0; j < n; j++)
			s += rt_exp_neg(x[j * st] - m);
		ls = (float)log(s);
		for (j = 0; j < n; j++)
			y[j * st] = x[j * st] - m - ls;
		return;
	}
	for (j = 0; j < n; j++) /* no chain between the exps: they overlap */
		y[j * st] = rt_exp_neg(x[j * st] - m);
	for (j = 0; j < n; j++)
		s += y[j * st];
	if (sink)
		s += rt_exp_neg(*sink - m);
	{
		float inv = (float)(1.0 / s);
		for (j = 0; j < n; j++)
			y[j * st] *= inv;
	}
}
#endif
