/* shape.h: codes shared by compiler/op_shape.c and the kernels in shape.c. */
#ifndef RT_SHAPE_H
#define RT_SHAPE_H
/* ScatterElements / ScatterND reductions */
enum { RT_SHAPE_RED_NONE, RT_SHAPE_RED_ADD, RT_SHAPE_RED_MUL, RT_SHAPE_RED_MAX, RT_SHAPE_RED_MIN };
/* Pad modes */
enum { RT_SHAPE_PAD_CONSTANT, RT_SHAPE_PAD_REFLECT, RT_SHAPE_PAD_EDGE, RT_SHAPE_PAD_WRAP };
/* most dims a strided copy walks (Tile doubles the rank) */
#define RT_SHAPE_MAXND (2 * RT_MAXDIM)
#endif
