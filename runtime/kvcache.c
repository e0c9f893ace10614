/* kvcache.c: the two kernels of the incremental entry point (compiler/
 * kvcache.c derives it).  Both see a tensor as [outer, T, inner] around
 * its axis of sequence positions; pos is the position being computed, an
 * int64 the generated NAME_step checked to lie in [0, T).
 */
#include "rt.h"

/* rt_kv_row: y[o, 0, :] = x[o, pos, :], one position of a constant that
 * depends on it (rotary tables, the rows of a causal mask).
 * t = {x [outer, T, inner], pos, y [outer, 1, inner]}; p = {outer, T, inner bytes} */
RT_API void rt_kv_row(void *const *t, const int64_t *p)
{
	int64_t outer = p[0], T = p[1], row = p[2], pos = *(const int64_t *)t[1], o;
	const unsigned char *x = (const unsigned char *)t[0];
	unsigned char *y = (unsigned char *)t[2];
	for (o = 0; o < outer; o++)
		memcpy(y + o * row, x + (o * T + pos) * row, (size_t)row);
}

/* rt_kv_write: cache[o, pos, :] = x[o, 0, :], the new position's keys or
 * values appended to the cache (a tensor of the caller's state region).
 * t = {x [outer, 1, inner], pos, cache [outer, T, inner]}; p = {outer, T, inner bytes} */
RT_API void rt_kv_write(void *const *t, const int64_t *p)
{
	int64_t outer = p[0], T = p[1], row = p[2], pos = *(const int64_t *)t[1], o;
	const unsigned char *x = (const unsigned char *)t[0];
	unsigned char *c = (unsigned char *)t[2];
	for (o = 0; o < outer; o++)
		memcpy(c + (o * T + pos) * row, x + o * row, (size_t)row);
}
