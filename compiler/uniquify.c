/* uniquify.c: resolve value names to Values, then give each a C name.
 *
 * ONNX requires every value to be defined once; real exports break this
 * (the seed's add_out_5 is defined once per block, 24 times).  Nodes are in
 * topological order, so we walk them in order and let "the latest preceding
 * definition wins": each consumer reads the definition that comes before it.
 * A redefinition gets a new Value named "<name>__<k>".  Graph outputs read
 * the last definition.
 *
 * C names: the ONNX name with every character outside [A-Za-z0-9_] mapped
 * to '_', a leading digit prefixed, C keywords and libc names avoided, and
 * a counter appended on collision ("conv.1" and "conv_1" do not clash).
 */
#include "gptossc.h"

static const char *reserved[] = {
	"auto", "break", "case", "char", "const", "continue", "default", "do", "double",
	"else", "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long",
	"register", "restrict", "return", "short", "signed", "sizeof", "static", "struct",
	"switch", "typedef", "union", "unsigned", "void", "volatile", "while", "_Bool",
	"_Complex", "_Imaginary", "bool", "true", "false", "NULL", "main", "errno",
	"abs", "exp", "log", "sqrt", "pow", "tanh", "erf", "floor", "ceil", "round",
	"memcpy", "memset", "memmove", "malloc", "free", "printf", "exit", "fabs",
	"fmax", "fmin", "sin", "cos", "tan", "signal", "time", "index", "div",
	"A", "W", "t", "p", "c", "in", "out", "i", "o", "k", "n", "inputs", "outputs", "ctx",
	"arena", "blob", NULL,
};

static char *c_ident(Map *taken, const char *name)
{
	size_t n = strlen(name);
	char *s = xcalloc(n + 4, 1);
	char *q = s;
	if (!n || (name[0] >= '0' && name[0] <= '9'))
		*q++ = 'v', *q++ = '_';
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
		*q++ = ok ? ch : '_';
	}
	for (const char **r = reserved; *r; r++)
		if (!strcmp(s, *r)) {
			s = fmt("v_%s", s);
			break;
		}
	/* identifiers starting with '_' and an uppercase letter or '__' are reserved */
	if (s[0] == '_')
		s = fmt("v%s", s);
	/* unique also once upper-cased: the header's macros use that form */
	char *base = s;
	for (int k = 2;; k++) {
		char *up = xstrdup(s);
		for (char *q = up; *q; q++)
			if (*q >= 'a' && *q <= 'z')
				*q -= 32;
		if (!map_get(taken, up)) {
			map_put(taken, up, s);
			return s;
		}
		s = fmt("%s_%d", base, k);
	}
}

void uniquify(Graph *g)
{
	Map defs = { 0 }, names = { 0 }, later = { 0 };
	for (int i = 0; i < g->nvalues; i++) {
		map_put(&defs, g->values[i]->name, g->values[i]);
		map_put(&names, g->values[i]->name, g->values[i]);
	}
	for (int i = 0; i < g->nnodes; i++)
		for (int k = 0; k < g->nodes[i]->nout; k++)
			map_put(&later, g->nodes[i]->out_names[k], g->nodes[i]);

	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		n->in = xcalloc(n->nin + 1, sizeof(Value *));
		n->out = xcalloc(n->nout + 1, sizeof(Value *));
		for (int k = 0; k < n->nin; k++) {
			const char *nm = n->in_names[k];
			if (!*nm)
				continue;
			n->in[k] = map_get(&defs, nm);
			if (!n->in[k])
				node_fatal(n, "input %d '%s' is %s", k, nm,
					   map_get(&later, nm) ? "only defined by a later node (a cycle, or nodes out of topological order)"
							       : "used but never defined");
			n->in[k]->nuses++;
		}
		for (int k = 0; k < n->nout; k++) {
			const char *nm = n->out_names[k];
			Value *v;
			if (!*nm) {
				v = value_new(g, fmt("%s_unused%d", n->name, k));
			} else if (map_get(&names, nm)) {
				char *u = NULL;
				for (int j = 2; !u || map_get(&names, u); j++)
					u = fmt("%s__%d", nm, j);
				v = value_new(g, u);
			} else {
				v = value_new(g, nm);
			}
			map_put(&names, v->name, v);
			if (*nm)
				map_put(&defs, nm, v);
			v->producer = n;
			n->out[k] = v;
		}
	}
	g->outputs = xcalloc(g->noutputs + 1, sizeof(Value *));
	for (int i = 0; i < g->noutputs; i++) {
		Value *v = map_get(&defs, g->output_names[i]);
		if (!v)
			fatal("graph output '%s' is never defined", g->output_names[i]);
		g->outputs[i] = v;
		if (v->output_index < 0)
			v->output_index = i;
		v->nuses++;
	}
	Map taken = { 0 };
	for (int i = 0; i < g->nvalues; i++)
		g->values[i]->cname = c_ident(&taken, g->values[i]->name);
}
