/* plan.c: where every tensor lives at run time.
 *
 * - Graph inputs and outputs live in the caller's buffers.
 * - Constants read by kernels go to the weight blob, 64-byte aligned, in
 *   order of first use (deterministic).
 * - Every other tensor lives in one arena.  Offsets come from liveness over
 *   the call sequence: a tensor is allocated (best fit among free blocks)
 *   at the call that first writes it and released after the call that last
 *   reads it, as ggml-alloc does.  Views (Reshape and kin) share their
 *   source's storage and extend its lifetime.
 * - With a step program (kvcache.c), its calls follow the full window's and
 *   share the arena: the two never run together.  The caches live in the
 *   caller's state region after a header, the token and pos in the step's
 *   arguments.
 */
#include "gptossc.h"

#define ALIGN 64

static int64_t align_up(int64_t x)
{
	return (x + ALIGN - 1) & ~(int64_t)(ALIGN - 1);
}

Value *root(Value *v)
{
	while (v->alias)
		v = v->alias;
	return v;
}

typedef struct Block {
	int64_t off, size;
} Block;

typedef struct Arena {
	Block *free;
	int nfree, cap;
	int64_t top;
} Arena;

static int64_t arena_alloc(Arena *a, int64_t size)
{
	size = align_up(size ? size : 1);
	int best = -1;
	for (int i = 0; i < a->nfree; i++)
		if (a->free[i].size >= size && (best < 0 || a->free[i].size < a->free[best].size))
			best = i;
	if (best < 0) {
		/* grow: a free block at the top can be extended */
		if (a->nfree && a->free[a->nfree - 1].off + a->free[a->nfree - 1].size == a->top) {
			int64_t off = a->free[a->nfree - 1].off;
			a->top = off + size;
			a->nfree--;
			return off;
		}
		int64_t off = a->top;
		a->top += size;
		return off;
	}
	int64_t off = a->free[best].off;
	a->free[best].off += size;
	a->free[best].size -= size;
	if (!a->free[best].size) {
		memmove(&a->free[best], &a->free[best + 1], (a->nfree - best - 1) * sizeof(Block));
		a->nfree--;
	}
	return off;
}

static void arena_release(Arena *a, int64_t off, int64_t size)
{
	size = align_up(size ? size : 1);
	if (a->nfree == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 64;
		a->free = xrealloc(a->free, a->cap * sizeof(Block));
	}
	int i = 0;
	while (i < a->nfree && a->free[i].off < off)
		i++;
	memmove(&a->free[i + 1], &a->free[i], (a->nfree - i) * sizeof(Block));
	a->free[i] = (Block){ off, size };
	a->nfree++;
	/* merge with neighbours */
	if (i + 1 < a->nfree && a->free[i].off + a->free[i].size == a->free[i + 1].off) {
		a->free[i].size += a->free[i + 1].size;
		memmove(&a->free[i + 1], &a->free[i + 2], (a->nfree - i - 2) * sizeof(Block));
		a->nfree--;
	}
	if (i > 0 && a->free[i - 1].off + a->free[i - 1].size == a->free[i].off) {
		a->free[i - 1].size += a->free[i].size;
		memmove(&a->free[i], &a->free[i + 1], (a->nfree - i - 1) * sizeof(Block));
		a->nfree--;
	}
}

/* With a step program: which calls of [from, to) the caches need: backward from the calls that
 * write them (rt_kv_write in the step program; in the full window, the
 * calls that write a tensor the state keeps), a call is needed when a
 * needed call reads what it writes.  The rest run only for outputs. */
static int writes_state(Graph *g, const Call *c, int full)
{
	if (!full)
		return !strcmp(c->kernel, "rt_kv_write");
	for (int k = c->nin; k < c->nt; k++)
		for (int i = 0; c->t[k] && i < g->nstate; i++)
			if (root(c->t[k]) == root(g->statesrc[i]))
				return 1;
	return 0;
}

static void state_needs(Graph *g, int from, int to, int full)
{
	static char live; /* the mark, in Value.kv (unused after kvcache.c) */
	for (int c = to - 1; c >= from; c--) {
		Call *cl = &g->calls[c];
		int needed = writes_state(g, cl, full);
		for (int k = cl->nin; k < cl->nt; k++)
			needed |= cl->t[k] && root(cl->t[k])->kv == &live;
		if (!needed)
			continue;
		g->calls[c].for_state = 1;
		for (int k = 0; k < cl->nin; k++)
			if (cl->t[k])
				root(cl->t[k])->kv = &live;
	}
	/* the parts of a parallel group (a run of calls) go together */
	for (int c = from, e; c < to; c = e) {
		int any = 0;
		for (e = c; e < to && (e == c || (g->calls[c].par && g->calls[e].par == g->calls[c].par)); e++)
			any |= g->calls[e].for_state;
		for (int d = c; d < e; d++)
			g->calls[d].for_state = any;
	}
	for (int i = 0; i < g->nvalues; i++)
		g->values[i]->kv = NULL;
}

void plan(Graph *g)
{
	for (int i = 0; i < g->nvalues; i++) {
		Value *v = g->values[i];
		v->loc = LOC_NONE;
		v->first_def = v->last_use = -1;
	}
	for (int i = 0; i < g->ninputs; i++) {
		g->inputs[i]->loc = LOC_INPUT;
		g->inputs[i]->off = i;
	}
	int full_end = g->has_step ? g->step_first_call : g->ncalls;
	for (int c = 0; c < g->ncalls; c++)
		g->calls[c].for_state = 0;
	if (g->has_step) {
		state_needs(g, 0, full_end, 1);
		state_needs(g, full_end, g->ncalls, 0);
	}
	for (int i = 0; i < g->noutputs; i++) {
		Value *v = g->outputs[i];
		if (v->output_index == i && !v->is_const && v->input_index < 0 && !v->alias) {
			/* NAME_prefill runs the caches' calls without outputs: what
			 * those write stays in the arena, copied out when wanted */
			int cache = 0;
			for (int c = 0; c < full_end; c++)
				for (int k = g->calls[c].nin; k < g->calls[c].nt && g->calls[c].for_state; k++)
					cache |= g->calls[c].t[k] && root(g->calls[c].t[k]) == v;
			if (cache)
				continue;
			v->loc = LOC_OUTPUT;
			v->off = i;
		}
	}
	g->state_bytes = 0;
	if (g->has_step) {
		for (int k = 0; k < 2; k++) {
			g->step_in[k]->loc = LOC_STEP_IN;
			g->step_in[k]->off = k;
		}
		int64_t off = STATE_HEADER;
		for (int i = 0; i < g->nstate; i++) {
			g->statevals[i]->loc = LOC_STATE;
			g->statevals[i]->off = off;
			off = align_up(off + nbytes(g->statevals[i]));
		}
		g->state_bytes = off;
	}
	/* liveness of roots */
	for (int c = 0; c < g->ncalls; c++)
		for (int k = 0; k < g->calls[c].nt; k++) {
			Value *v = g->calls[c].t[k];
			if (!v)
				continue;
			v = root(v);
			if (v->first_def < 0)
				v->first_def = c;
			v->last_use = c;
		}
	/* graph outputs that are views or constants are copied at the end of
	 * their program; the step's outputs are all copied (when wanted) */
	for (int i = 0; i < g->noutputs; i++) {
		Value *r = root(g->outputs[i]);
		if (r->last_use >= 0 && r->last_use < full_end)
			r->last_use = full_end;
		if (g->has_step && root(g->step_out[i])->last_use >= 0)
			root(g->step_out[i])->last_use = g->ncalls;
	}
	/* blob: constants in order of first use, then constant graph outputs */
	g->nblob = 0;
	g->blobvals = xcalloc(g->nvalues + 1, sizeof(Value *));
	for (int c = 0; c <= g->ncalls; c++) {
		int nt = c < g->ncalls ? g->calls[c].nt : g->noutputs;
		for (int k = 0; k < nt; k++) {
			Value *v = c < g->ncalls ? g->calls[c].t[k] : g->outputs[k];
			if (!v)
				continue;
			v = root(v);
			if (!v->is_const || v->loc != LOC_NONE)
				continue;
			v->loc = LOC_BLOB;
			g->blobvals[g->nblob++] = v;
		}
	}
	int64_t boff = align_up(BLOB_HEADER + (int64_t)g->nblob * BLOB_ENTRY);
	for (int i = 0; i < g->nblob; i++) {
		g->blobvals[i]->off = boff;
		boff = align_up(boff + stored_bytes(g->blobvals[i]));
	}
	g->blob_bytes = boff;

	/* arena */
	Arena a = { 0 };
	g->tensor_bytes_sum = 0;
	for (int c = 0; c < g->ncalls; c++) {
		Call *call = &g->calls[c];
		for (int k = 0; k < call->nt; k++) {
			Value *v = call->t[k] ? root(call->t[k]) : NULL;
			if (!v || v->loc != LOC_NONE)
				continue;
			v->loc = LOC_ARENA;
			v->off = arena_alloc(&a, nbytes(v));
			g->tensor_bytes_sum += align_up(nbytes(v));
		}
		for (int k = 0; k < call->nt; k++) {
			Value *v = call->t[k] ? root(call->t[k]) : NULL;
			if (!v || v->loc != LOC_ARENA || v->last_use != c)
				continue;
			int dup = 0;
			for (int j = 0; j < k; j++)
				dup |= call->t[j] && root(call->t[j]) == v;
			if (!dup)
				arena_release(&a, v->off, nbytes(v));
		}
	}
	g->arena_bytes = a.top;
	free(a.free);
}
