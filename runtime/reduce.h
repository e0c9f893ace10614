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
#endif
