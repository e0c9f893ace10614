/* elementwise.h: op codes shared by compiler/op_elementwise.c and the
 * kernels in elementwise.c. */
#ifndef RT_ELEMENTWISE_H
#define RT_ELEMENTWISE_H
enum {
	/* unary */
	RT_ABS, RT_NEG, RT_EXP, RT_LOG, RT_SQRT, RT_RECIP, RT_FLOOR, RT_CEIL, RT_ROUND,
	RT_SIGN, RT_SIGMOID, RT_TANH, RT_RELU, RT_ERF, RT_SIN, RT_COS, RT_TAN, RT_ASIN,
	RT_ACOS, RT_ATAN, RT_SINH, RT_COSH, RT_ASINH, RT_ACOSH, RT_ATANH, RT_SOFTPLUS,
	RT_SOFTSIGN, RT_NOT, RT_ISNAN, RT_ISINF, RT_HARDSIGMOID, RT_LEAKYRELU, RT_ELU,
	RT_SELU, RT_CELU, RT_THRESHRELU, RT_HARDSWISH, RT_MISH, RT_GELU, RT_GELU_TANH,
	RT_BITNOT, RT_ISPOSINF, RT_ISNEGINF,
	/* binary */
	RT_ADD = 64, RT_SUB, RT_MUL, RT_DIV, RT_POW, RT_MOD, RT_FMOD, RT_MAX, RT_MIN,
	RT_EQ, RT_LT, RT_GT, RT_LE, RT_GE, RT_AND, RT_OR, RT_XOR, RT_SHL, RT_SHR,
	RT_BITAND, RT_BITOR, RT_BITXOR, RT_PRELU,
	/* rt_ew_chain only */
	RT_EW_CLIP = 128
};

/* rt_ew_chain's registers: RT_EW_REGS blocks of RT_EW_BLOCK floats */
#define RT_EW_REGS 16
#define RT_EW_BLOCK 16

/* d = a op b over a block, one float32 operation per element: rt_ew_chain's
 * arithmetic, shared with rt_attn_chain (matmul.c) so its scores get the
 * same bits */
RT_INLINE void rt_ew_binop(int64_t op, float *RT_RESTRICT d, const float *RT_RESTRICT a, const float *RT_RESTRICT b)
{
	int64_t i;
	switch (op) {
	case RT_ADD: for (i = 0; i < RT_EW_BLOCK; i++) d[i] = a[i] + b[i]; break;
	case RT_SUB: for (i = 0; i < RT_EW_BLOCK; i++) d[i] = a[i] - b[i]; break;
	case RT_MUL: for (i = 0; i < RT_EW_BLOCK; i++) d[i] = a[i] * b[i]; break;
	case RT_DIV: for (i = 0; i < RT_EW_BLOCK; i++) d[i] = a[i] / b[i]; break;
	}
}
#endif
