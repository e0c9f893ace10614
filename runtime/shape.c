/* shape.c: data movement: transpose, concat, slice, gather and kin. */
#include "rt.h"

/* t = {x, y}; p = {elem_size, nd, out_dims[nd], in_strides[nd]} (strides in
 * elements of x for each output axis: a general strided copy) */
RT_API void rt_transpose(void *const *t, const int64_t *p)
{
	int64_t es = p[0], nd = p[1], total = 1, k, i, ox = 0;
	const int64_t *dims = p + 2, *sx = dims + nd;
	int64_t idx[RT_MAXDIM] = { 0 };
	const char *x = (const char *)t[0];
	char *y = (char *)t[1];
	for (k = 0; k < nd; k++)
		total *= dims[k];
	for (i = 0; i < total; i++) {
		memcpy(y + i * es, x + ox * es, es);
		rt_next(nd, dims, idx, &ox, sx, 0, 0, 0, 0);
	}
}
