/* dump.c: --dump (the processed graph, one node per line) and --stats. */
#include "gptossc.h"

static void value_line(FILE *f, Value *v)
{
	fprintf(f, "%s %s%s", v->name, shape_str(v), v->is_const ? " const" : "");
}

void dump_graph(Graph *g, FILE *f)
{
	fprintf(f, "graph %s\n", g->path);
	for (int i = 0; i < g->ninputs; i++) {
		fprintf(f, "input ");
		value_line(f, g->inputs[i]);
		fputc('\n', f);
	}
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		fprintf(f, "%s '%s':", n->op, n->name);
		for (int k = 0; k < n->nout; k++) {
			fputc(' ', f);
			if (n->out)
				value_line(f, n->out[k]);
			else
				fprintf(f, "%s", n->out_names[k]);
		}
		fprintf(f, " <-");
		for (int k = 0; k < n->nin; k++) {
			fputc(' ', f);
			if (!n->in)
				fprintf(f, "%s", *n->in_names[k] ? n->in_names[k] : "-");
			else if (n->in[k])
				value_line(f, n->in[k]);
			else
				fprintf(f, "-");
		}
		if (n->prog) {
			char *e = !strcmp(n->op, "AttnChain") ? attn_expr(n) : chain_expr(n);
			fprintf(f, "\n    = %s", e);
			free(e);
		}
		fputc('\n', f);
	}
	for (int i = 0; i < g->noutputs; i++) {
		fprintf(f, "output ");
		if (g->outputs)
			value_line(f, g->outputs[i]);
		else
			fprintf(f, "%s", g->output_names[i]);
		fputc('\n', f);
	}
}

void print_stats(Graph *g, FILE *f)
{
	Map counts = { 0 };
	const char *ops[512];
	int nops = 0, live = 0;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		live++;
		intptr_t c = (intptr_t)map_get(&counts, n->op);
		if (!c && nops < 512)
			ops[nops++] = n->op;
		map_put(&counts, n->op, (void *)(c + 1));
	}
	fprintf(f, "nodes: %d live, %d folded (%lld bytes of constants computed)\n", live, g->nfolded,
		(long long)g->folded_bytes);
	for (int i = 0; i < nops; i++)
		fprintf(f, "  %-20s %ld\n", ops[i], (long)(intptr_t)map_get(&counts, ops[i]));
	int64_t by[32] = { 0 }, mx = 0, q8 = 0, model_bytes = 0;
	for (int i = 0; i < g->nblob; i++) {
		Value *v = g->blobvals[i];
		model_bytes += nbytes(v);
		if (v->wfmt == FMT_MXFP4)
			mx += stored_bytes(v);
		else if (v->wfmt == FMT_Q8)
			q8 += stored_bytes(v);
		else
			by[(v->wfmt ? v->wfmt : v->dtype) & 31] += stored_bytes(v);
	}
	fprintf(f, "weights: %d tensors, blob %lld bytes (%lld as in the model)\n", g->nblob,
		(long long)g->blob_bytes, (long long)model_bytes);
	if (mx)
		fprintf(f, "  %-6s %lld bytes\n", "mxfp4", (long long)mx);
	if (q8)
		fprintf(f, "  %-6s %lld bytes\n", "q8", (long long)q8);
	for (int d = 0; d < 32; d++)
		if (by[d])
			fprintf(f, "  %-6s %lld bytes\n", dtype_name(d), (long long)by[d]);
	fprintf(f, "arena: %lld bytes (the tensors it holds total %lld bytes)\n", (long long)g->arena_bytes,
		(long long)g->tensor_bytes_sum);
	if (g->has_step) {
		fprintf(f, "kernel calls: %d (full window %d, one-position step %d)\n", g->ncalls, g->step_first_call,
			g->ncalls - g->step_first_call);
		fprintf(f, "KV cache: %d cached tensors, state %lld bytes, window %lld\n", g->nstate,
			(long long)g->state_bytes, (long long)g->window);
	} else {
		fprintf(f, "kernel calls: %d\n", g->ncalls);
		if (g->kv_note)
			fprintf(f, "KV cache: none (%s)\n", g->kv_note);
	}
}
