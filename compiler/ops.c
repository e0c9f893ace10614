/* ops.c: the op table.
 *
 * Each op_*.c file exports one table of OpDef rows (name, arity, shape
 * rule, lowering); this file lists the tables.  Adding an op is one row in
 * its family's table, its infer and lower functions beside it, and a
 * kernel in runtime/.  Ops of the default domain only ("" or "ai.onnx").
 */
#include "gptossc.h"

extern const OpDef ops_elementwise[], ops_shape[], ops_reduce[], ops_matmul[], ops_attention[], ops_conv[],
	ops_loss[];
static const OpDef *tables[] = { ops_elementwise, ops_shape, ops_reduce, ops_matmul, ops_attention, ops_conv,
				 ops_loss, NULL };

const OpDef *op_find(const char *domain, const char *name)
{
	if (*domain)
		return NULL;
	for (int t = 0; tables[t]; t++)
		for (const OpDef *d = tables[t]; d->name; d++)
			if (!strcmp(d->name, name))
				return d;
	return NULL;
}

/* Every node gets its OpDef; all unsupported ops are listed at once. */
void check_ops(Graph *g)
{
	Map seen = { 0 };
	int missing = 0;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		n->def = op_find(n->domain, n->op);
		if (n->def)
			continue;
		char *key = fmt("%s::%s::%d", n->domain, n->op, n->opset);
		if (map_get(&seen, key))
			continue;
		map_put(&seen, key, n);
		if (!missing)
			fprintf(stderr, "gptossc: %s: unsupported operators:\n", g_file);
		fprintf(stderr, "  %s%s%s (opset %d), first at node '%s'\n", *n->domain ? n->domain : "",
			*n->domain ? "::" : "", n->op, n->opset, n->name);
		missing++;
	}
	if (missing)
		fatal("%d unsupported operator%s", missing, missing > 1 ? "s" : "");
}
