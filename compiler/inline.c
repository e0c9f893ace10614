/* inline.c: expand calls of local functions (ModelProto.functions).
 *
 * A node whose (domain, op_type) names a FunctionProto is replaced by the
 * function's body, recursively.  Per call site:
 *   - formal inputs and outputs are renamed to the call's actual names
 *     (an omitted optional input becomes "");
 *   - every other value of the body gets the prefix "<site>/", unique per
 *     call site, so internal names that repeat across functions (every
 *     RMSNorm body has the same ones) never meet;
 *   - an attribute with ref_attr_name takes the call site's attribute of
 *     that name, or is dropped when the caller does not set it (the spec:
 *     "the attribute is not defined in the node if not supplied").
 * Callers may be listed before callees: lookup is by name, not by order.
 */
#include "gptossc.h"

static Onnx__FunctionProto *find_function(Graph *g, const char *domain, const char *op)
{
	Onnx__ModelProto *m = g->model;
	for (size_t i = 0; i < m->n_functions; i++) {
		Onnx__FunctionProto *f = m->functions[i];
		const char *d = f->domain ? f->domain : "";
		if (f->name && op && !strcmp(f->name, op) && !strcmp(d, domain)) /* a function may lack a name */
			return f;
	}
	return NULL;
}

static int site_counter;

static char *rename_value(Map *formal, const char *prefix, const char *name)
{
	if (!*name)
		return xstrdup("");
	char *actual = map_get(formal, name);
	return actual ? xstrdup(actual) : fmt("%s%s", prefix, name);
}

/* The functions being expanded, outermost first, and the call that
 * started it all (named in messages). */
static Onnx__FunctionProto *active[64];
static Node *root_call;

/* Append the expansion of call node `call` to g->nodes. */
static void expand(Graph *g, Node *call, Onnx__FunctionProto *f, int depth)
{
	if (depth == 0)
		root_call = call;
	for (int i = 0; i < depth; i++)
		if (active[i] == f) {
			char chain[512] = "";
			for (int k = i; k < depth && strlen(chain) < 400; k++)
				snprintf(chain + strlen(chain), sizeof chain - strlen(chain), "%s -> ", active[k]->name);
			node_fatal(root_call, "function '%s' calls itself (%s%s): recursion is not allowed", f->name, chain,
				   f->name);
		}
	if (depth >= 64)
		node_fatal(root_call, "local functions nest deeper than 64 calls");
	active[depth] = f;
	if ((size_t)call->nin > f->n_input)
		node_fatal(call, "calls function '%s' with %d inputs, it takes %zu", f->name, call->nin, f->n_input);
	if ((size_t)call->nout > f->n_output)
		node_fatal(call, "calls function '%s' with %d outputs, it has %zu", f->name, call->nout, f->n_output);
	Map formal = { 0 };
	for (size_t i = 0; i < f->n_input; i++)
		map_put(&formal, f->input[i], xstrdup((int)i < call->nin ? call->in_names[i] : ""));
	for (size_t i = 0; i < f->n_output; i++)
		map_put(&formal, f->output[i], xstrdup((int)i < call->nout ? call->out_names[i] : ""));
	char *prefix = fmt("%s#%d/", *call->name ? call->name : f->name, site_counter++);

	for (size_t i = 0; i < f->n_node; i++) {
		Onnx__NodeProto *p = f->node[i];
		Onnx__OperatorSetIdProto **ops = f->n_opset_import ? f->opset_import : g->model->opset_import;
		size_t nops = f->n_opset_import ? f->n_opset_import : g->model->n_opset_import;
		Node *n = node_from_proto(g, p, ops, nops);
		n->name = fmt("%s%s", prefix, p->name && *p->name ? p->name : p->op_type);
		for (int k = 0; k < n->nin; k++)
			n->in_names[k] = rename_value(&formal, prefix, p->input[k]);
		for (int k = 0; k < n->nout; k++)
			n->out_names[k] = rename_value(&formal, prefix, p->output[k]);
		int na = 0;
		for (int k = 0; k < n->nattr; k++) {
			Onnx__AttributeProto *a = n->attr[k];
			if (a->ref_attr_name && *a->ref_attr_name) {
				Onnx__AttributeProto *src = attr_get(call, a->ref_attr_name);
				if (!src && !strcmp(n->op, "Constant"))
					node_fatal(call, "does not set attribute '%s', which function '%s' needs for its Constant '%s'",
						   a->ref_attr_name, f->name, n->name);
				if (!src)
					continue;
				Onnx__AttributeProto *c = xcalloc(1, sizeof *c);
				*c = *src;
				c->name = a->name;
				c->ref_attr_name = NULL;
				a = c;
			}
			n->attr[na++] = a;
		}
		n->nattr = na;
		Onnx__FunctionProto *inner = find_function(g, n->domain, n->op);
		if (inner)
			expand(g, n, inner, depth + 1);
		else
			node_push(g, n);
	}
}

void inline_functions(Graph *g)
{
	if (!g->model->n_functions)
		return;
	Node **old = g->nodes;
	int nold = g->nnodes;
	g->nodes = NULL;
	g->nnodes = g->capnodes = 0;
	for (int i = 0; i < nold; i++) {
		Onnx__FunctionProto *f = find_function(g, old[i]->domain, old[i]->op);
		if (f)
			expand(g, old[i], f, 0);
		else
			node_push(g, old[i]);
	}
}
