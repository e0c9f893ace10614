/* conv.h: codes shared by compiler/op_conv.c and the kernels in conv.c. */
#ifndef RT_CONV_H
#define RT_CONV_H
/* rt_pool operations */
enum { RT_CONV_POOL_MAX, RT_CONV_POOL_AVG, RT_CONV_POOL_LP };
/* Spatial geometry: every kernel sees 3 spatial dims (D, H, W), lower ranks
 * padded with leading 1s.  The block is 6 triples: input dims, output dims,
 * kernel dims, strides, dilations, pads at the beginning. */
#define RT_CONV_NSP 3
#define RT_CONV_GEOM 18
/* rt_conv / rt_convt / rt_deform: p[0..8) then the geometry */
#define RT_CONV_HDR 8
/* rt_pool: p[0..6) then the geometry, then the end pads */
#define RT_CONV_POOL_HDR 6
#endif
