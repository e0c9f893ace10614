/* lower.c: turn every live node into kernel calls.
 *
 * A Call names a runtime kernel, the tensors it reads and writes, and its
 * integer parameters.  fold.c executes calls at compile time; emit.c prints
 * them as C.  The per-op lowerings live in op_*.c beside their shape rules.
 */
#include "gptossc.h"

Call *call_new(Graph *g, Node *n, const char *kernel)
{
	if (!kernel_fn(kernel))
		node_fatal(n, "internal error: no kernel '%s'", kernel);
	if (g->ncalls == g->capcalls) {
		g->capcalls = g->capcalls ? 2 * g->capcalls : 256;
		g->calls = xrealloc(g->calls, g->capcalls * sizeof *g->calls);
	}
	Call *c = &g->calls[g->ncalls++];
	memset(c, 0, sizeof *c);
	c->kernel = kernel;
	c->node = n;
	return c;
}

static void call_t(Call *c, Value *v)
{
	if (c->nt == MAXT)
		node_fatal(c->node, "internal error: too many tensors for kernel %s", c->kernel);
	c->t[c->nt++] = v;
}

void call_in(Call *c, Value *v)
{
	call_t(c, v);
	c->nin = c->nt;
}

void call_out(Call *c, Value *v)
{
	call_t(c, v);
}

void call_p(Call *c, int64_t x)
{
	if (c->np == c->capp) {
		c->capp = c->capp ? 2 * c->capp : 16;
		c->p = xrealloc(c->p, c->capp * sizeof *c->p);
	}
	c->p[c->np++] = x;
}

void call_pf(Call *c, double x)
{
	call_p(c, rt_f64_bits(x));
}

void call_pv(Call *c, const int64_t *x, int n)
{
	for (int i = 0; i < n; i++)
		call_p(c, x[i]);
}

void lower_node(Graph *g, Node *n)
{
	if (n->alias) {
		Value *in = n->in[0], *out = n->out[0];
		if (out->output_index < 0) {
			out->alias = in;
			return;
		}
		Call *c = call_new(g, n, "rt_copy");
		call_in(c, in);
		call_out(c, out);
		call_p(c, nbytes(out));
		return;
	}
	n->def->lower(g, n);
}

void lower(Graph *g)
{
	g->ncalls = 0;
	for (int i = 0; i < g->nnodes; i++) {
		if (g->has_step && i == g->step_first_node)
			g->step_first_call = g->ncalls; /* NAME_step's calls start here */
		if (!g->nodes[i]->dead)
			lower_node(g, g->nodes[i]);
	}
}
