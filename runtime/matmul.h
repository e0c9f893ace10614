/* matmul.h: parameter layouts shared by compiler/op_matmul.c and the
 * kernels in matmul.c. */
#ifndef RT_MATMUL_H
#define RT_MATMUL_H

/* Cache blocking of the float32 GEMM: K in blocks of RT_MM_KC, N in blocks
 * of RT_MM_NC, register tiles of RT_MM_MR rows x RT_MM_NR columns. */
#define RT_MM_KC 256
#define RT_MM_NC 512
#define RT_MM_MR 6
#define RT_MM_NR 16
#define RT_MM_MAXB 8 /* batch dims of rt_bgemm */

/* floats of packing workspace rt_bgemm uses for a K x N right operand
 * (the kernel may swap operands, so the compiler sizes it for max(M, N)) */
#define RT_MM_WS(K, N)                                                                     \
	(((K) < RT_MM_KC ? (K) : RT_MM_KC) *                                               \
	 ((((N) < RT_MM_NC ? (N) : RT_MM_NC) + RT_MM_NR - 1) / RT_MM_NR * RT_MM_NR))

/* rt_bgemm: for every batch index,
 *   Y[m,n] = alpha * sum_k (A[m,k] - za[m]) * (B[k,n] - zb[n]) + beta * C[m,n]
 * t = {A, B, C or NULL, za or NULL, zb or NULL, Y, workspace (f32) or NULL}
 * p = {RT_BG_* header, dims[nb], then for each of the six slots
 *      A, B, C, za, zb, Y: its batch strides[nb]}   (strides in elements) */
enum {
	RT_BG_DT,    /* dtype of A (and za) */
	RT_BG_DTB,   /* dtype of B (and zb) */
	RT_BG_DTY,   /* dtype of Y and C */
	RT_BG_M, RT_BG_N, RT_BG_K,
	RT_BG_ASM, RT_BG_ASK, RT_BG_BSK, RT_BG_BSN,
	RT_BG_YSM, RT_BG_YSN, RT_BG_CSM, RT_BG_CSN,
	RT_BG_ZASM, RT_BG_ZBSN, /* zero point strides along m and n */
	RT_BG_ALPHA, RT_BG_BETA, /* double bit patterns */
	RT_BG_WS,    /* floats in the workspace */
	RT_BG_NB,    /* batch dims */
	RT_BG_HDR
};
#define RT_BG_SLOTS 6

/* rt_einsum: Y[out idx] = sum over the summed idx of prod_i X_i[...]
 * t = {X_0 .. X_{n-1}, Y};  p = {dtype, n, nout, nsum, dims[nout + nsum],
 * strides of X_0[nout + nsum], ..., strides of X_{n-1}[nout + nsum]}
 * Y is contiguous in the order of the out indices. */
#define RT_EIN_MAXIDX 32

/* rt_attn_chain: attention as one call (compiler/attn.c).  For every batch
 * index b (nb dims, the scores' leading axes) and row block [t0, t0 + rb):
 *   X = Q K^T            [rows, S] into the scratch, as rt_bgemm's dot path
 *   X = prog(X, leaves)  the scale/mask program of rt_ew_chain, row r = b T + t
 *   P = softmax(X)       rows, with the sink z[r] as an extra value if z
 *   O = P V
 * so the [.., T, S] scores never exist whole.
 * t = {Q, K, V, z or NULL, leaf 0 .. leaf nl-1 (the scores' leaf: NULL), O,
 *      scratch (f32, rb * S)}
 * p = {RT_AT_* header, dims[nb], batch strides[nb] of Q, K, V and O, then
 *      rt_ew_chain's p: {nl, ni, R, L, leaves, ops}} (strides in elements) */
enum {
	RT_AT_NB, RT_AT_T, RT_AT_S, RT_AT_D, RT_AT_E, RT_AT_RB,
	RT_AT_QT, /* Q along the rows (along d: 1) */
	RT_AT_KS, /* K along the keys (along d: 1) */
	RT_AT_VS, /* V along the keys (along e: 1) */
	RT_AT_OT, RT_AT_OE, /* O along the rows and along e */
	RT_AT_XL, /* the program's leaf that is the scores */
	RT_AT_HDR
};
#define RT_AT_ROWS 16 /* rows per block (the scratch) */
#endif
