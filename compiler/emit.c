/* emit.c: write model.c, model.h and model.bin.
 *
 * model.c is templates/model.c.in with the runtime kernels this model
 * calls pasted in (each source file once) and the model function written
 * as a straight line of kernel calls, one block per call:
 *
 *     // Add 'block_0/add' : x f32[16,64] = a f32[16,64], b f32[64]
 *     { static const int64_t p[] = {...}; void *t[] = {W + 0x40, ...};
 *       rt_binary(t, p); }
 *
 * Offsets into the arena (A) and the blob (W) come from plan.c; the blob
 * writer below uses the same offsets.  Outputs go to temporary files
 * renamed into place at the end, so a failed compile leaves nothing behind.
 */
#include "gptossc.h"
#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct Buf {
	char *s;
	size_t len, cap;
} Buf;

static void bput(Buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

static void bprintf(Buf *b, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(Buf *b, const char *f, ...)
{
	va_list ap;
	char *s;
	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		fatal("out of memory");
	va_end(ap);
	bput(b, s, strlen(s));
	free(s);
}

/* Replace every @KEY@ of tmpl by the value given for KEY. */
static char *subst(const char *tmpl, const char **kv)
{
	Buf b = { 0 };
	for (const char *p = tmpl; *p;) {
		const char *q = strchr(p, '@');
		if (!q) {
			bput(&b, p, strlen(p));
			break;
		}
		bput(&b, p, q - p);
		const char *e = strchr(q + 1, '@');
		int found = 0;
		for (int i = 0; e && kv[i]; i += 2)
			if ((size_t)(e - q - 1) == strlen(kv[i]) && !strncmp(q + 1, kv[i], e - q - 1)) {
				bput(&b, kv[i + 1], strlen(kv[i + 1]));
				found = 1;
				break;
			}
		if (found) {
			p = e + 1;
		} else {
			bput(&b, "@", 1);
			p = q + 1;
		}
	}
	return b.s ? b.s : xstrdup("");
}

static const char *ctype(int dt)
{
	switch (dt) {
	case RT_F32: return "float";
	case RT_F64: return "double";
	case RT_I8: return "int8_t";
	case RT_U8: case RT_BOOL: return "uint8_t";
	case RT_I16: return "int16_t";
	case RT_U16: case RT_F16: case RT_BF16: return "uint16_t";
	case RT_I32: return "int32_t";
	case RT_U32: return "uint32_t";
	case RT_I64: return "int64_t";
	case RT_U64: return "uint64_t";
	}
	return "void";
}

static char *upper(const char *s)
{
	char *u = xstrdup(s);
	for (char *p = u; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p -= 32;
	return u;
}

/* A C expression for the storage of v. */
static char *where(Value *v)
{
	if (!v)
		return xstrdup("0");
	v = root(v);
	switch (v->loc) {
	case LOC_ARENA: return fmt("A + 0x%llx", (long long)v->off);
	case LOC_BLOB: return fmt("(void *)(W + 0x%llx)", (long long)v->off);
	case LOC_INPUT: return fmt("(void *)in[%lld]", (long long)v->off);
	case LOC_OUTPUT: return fmt("out[%lld]", (long long)v->off);
	case LOC_STATE: return fmt("S + 0x%llx", (long long)v->off);
	case LOC_STEP_IN: return fmt("(void *)sin[%lld]", (long long)v->off);
	}
	fatal("internal error: value '%s' has no storage", v->name);
}

static void emit_call(Buf *b, Call *c, const char *prefix)
{
	(void)prefix;
	Node *n = c->node;
	bprintf(b, "\t/* %s '%s':", n->op, n->name);
	for (int k = c->nin; k < c->nt; k++)
		if (c->t[k])
			bprintf(b, "%s %s %s", k > c->nin ? "," : "", c->t[k]->name, shape_str(c->t[k]));
	bprintf(b, " <-");
	for (int k = 0; k < c->nin; k++)
		bprintf(b, "%s %s", k ? "," : "", c->t[k] ? fmt("%s %s", c->t[k]->name, shape_str(c->t[k])) : "-");
	bprintf(b, " */\n\t{\n");
	if (c->np) {
		bprintf(b, "\t\tstatic const int64_t p[] = {");
		for (int i = 0; i < c->np; i++)
			bprintf(b, "%s%s%lld", i ? "," : "", i % 16 == 15 ? "\n\t\t\t" : "", (long long)c->p[i]);
		bprintf(b, "};\n");
	}
	bprintf(b, "\t\tvoid *const t[] = {");
	for (int k = 0; k < c->nt; k++)
		bprintf(b, "%s%s", k ? ", " : "", where(c->t[k]));
	if (!c->nt)
		bprintf(b, "0");
	bprintf(b, "};\n\t\t%s(t, %s);\n\t}\n", c->kernel, c->np ? "p" : "0");
}

/* A parallel group: the same kernel and tensors, parameter sets that
 * split the work; the pool runs them (templates/pool.c.in). */
static void emit_parallel(Buf *b, Call *c, int n, const char *prefix)
{
	Node *nd = c->node;
	bprintf(b, "\t/* %s '%s': %s, %d parallel parts */\n\t{\n", nd->op, nd->name,
		c->t[c->nin] ? fmt("%s %s", c->t[c->nin]->name, shape_str(c->t[c->nin])) : "", n);
	for (int k = 0; k < n; k++) {
		bprintf(b, "\t\tstatic const int64_t p%d[] = {", k);
		for (int i = 0; i < c[k].np; i++)
			bprintf(b, "%s%lld", i ? "," : "", (long long)c[k].p[i]);
		bprintf(b, "};\n");
	}
	bprintf(b, "\t\tstatic const int64_t *const ps[] = {");
	for (int k = 0; k < n; k++)
		bprintf(b, "%sp%d", k ? ", " : "", k);
	bprintf(b, "};\n\t\tvoid *const t[] = {");
	for (int k = 0; k < c->nt; k++)
		bprintf(b, "%s%s", k ? ", " : "", where(c->t[k]));
	bprintf(b, "};\n\t\t%s_parallel(c, %s, t, ps, %d);\n\t}\n", prefix, c->kernel, n);
}

/* Calls [from, to); with gate, those the caches do not need (plan.c) only
 * when an output is wanted. */
static void emit_calls(Graph *g, Buf *b, int from, int to, int gate, const char *prefix, int copy)
{
	/* copy: the full window with a step program; the caches are copied to
	 * the state S (when given) after the last call that writes them */
	int *last = NULL;
	if (copy) {
		last = xcalloc(g->nstate + 1, sizeof(int));
		for (int i = 0; i < g->nstate; i++) {
			last[i] = from - 1;
			for (int c = from; c < to; c++)
				for (int k = g->calls[c].nin; k < g->calls[c].nt; k++)
					if (g->calls[c].t[k] && root(g->calls[c].t[k]) == root(g->statesrc[i]))
						last[i] = c;
		}
	}
	for (int c = from - 1; c < to; c++) {
		int n = 1;
		if (c >= from) {
			while (g->calls[c].par && c + n < to && g->calls[c + n].par == g->calls[c].par)
				n++;
			if (gate && !g->calls[c].for_state)
				bprintf(b, "\tif (want)\n");
			if (n == 1)
				emit_call(b, &g->calls[c], prefix);
			else
				emit_parallel(b, &g->calls[c], n, prefix);
		}
		for (int i = 0; copy && i < g->nstate; i++)
			if (last[i] >= c && last[i] < c + n)
				bprintf(b, "\t/* cache '%s' %s */\n\tif (S)\n\t\tmemcpy(S + 0x%llx, %s, %lld);\n",
					g->statesrc[i]->name, shape_str(g->statesrc[i]), (long long)g->statevals[i]->off,
					where(g->statesrc[i]), (long long)nbytes(g->statesrc[i]));
		c += n - 1;
	}
	free(last);
}

/* NAME_step_v and friends (templates/step.c.in), and their declarations. */
static void emit_step(Graph *g, const EmitOpts *o, const char **kv, char **c_text, char **h_text)
{
	const char *P = upper(o->prefix), *p = o->prefix;
	Buf h = { 0 };
	if (!g->has_step) {
		bprintf(&h, "\n/* No incremental entry point (NAME_step): %s */\n#define %s_HAS_STEP 0\n",
			g->kv_note ? g->kv_note : "not a language model graph", P);
		*h_text = h.s;
		*c_text = xstrdup("");
		return;
	}
	Value *tok = g->inputs[0];
	const char *tokt = ctype(tok->dtype);
	Buf body = { 0 }, params = { 0 }, wrap = { 0 };
	emit_calls(g, &body, g->step_first_call, g->ncalls, 1, p, 0);
	bprintf(&wrap, "\tin[0] = token;\n");
	bprintf(&params, ", const %s *token", tokt);
	bprintf(&h, "\n/* The incremental entry point (KV cache), derived by gptossc from the\n"
		    " * full-window graph: NAME_step computes one position of every output.\n"
		    " * See the comment above %s_step_v in the .c file. */\n", p);
	bprintf(&h, "#define %s_HAS_STEP 1\n#define %s_WINDOW %lld /* positions 0..%lld */\n"
		    "#define %s_STATE_BYTES %lld /* the caches, the caller's, 64-byte aligned */\n",
		P, P, (long long)g->window, (long long)g->window - 1, P, (long long)g->state_bytes);
	for (int i = 0; i < g->noutputs; i++) {
		Value *v = g->outputs[i], *s = g->step_out[i];
		char *pname = v->input_index >= 0 || v->output_index != i ? fmt("%s_out%d", v->cname, i) : v->cname;
		char *u = upper(pname);
		bprintf(&h, "#define %s_STEP_OUT_%s_NUMEL %lld /* '%s' at one position: %s */\n", P, u,
			(long long)numel(s), g->output_names[i], shape_str(s));
		bprintf(&params, ", %s *%s", ctype(v->dtype), pname);
		bprintf(&wrap, "\tout[%d] = %s;\n", i, pname);
		if (nbytes(s))
			bprintf(&body, "\t/* output '%s' at pos */\n\tif (out && out[%d])\n\t\tmemcpy(out[%d], %s, %lld);\n",
				g->output_names[i], i, i, where(s), (long long)nbytes(s));
	}
	bprintf(&h, "int %s_step_v(%s_ctx *c, void *state, int64_t pos, const void *const *inputs, void *const *outputs);\n"
		    "int %s_step(%s_ctx *c, void *state, int64_t pos%s);\n"
		    "/* A prompt: tokens[0..n) of a window of %s_WINDOW; the outputs (may be NULL) at n-1 */\n"
		    "int %s_prefill(%s_ctx *c, void *state, const %s *tokens, int64_t n, void *const *outputs);\n"
		    "/* NAME_run_v that also fills the caches of positions 0..n-1 */\n"
		    "int %s_prefill_v(%s_ctx *c, void *state, int64_t n, const void *const *inputs, void *const *outputs);\n",
		p, p, p, p, params.s, P, p, p, tokt, p, p);
	const char *extra[] = { "STEPBODY", body.s, "STEPPARAMS", params.s, "STEPWRAP", wrap.s, "TOKT", tokt, NULL };
	int n = 0;
	while (kv[n])
		n += 2;
	const char **all = xcalloc(n + 9, sizeof(char *));
	memcpy(all, kv, n * sizeof(char *));
	memcpy(all + n, extra, sizeof extra);
	*c_text = subst(runtime_source("step.c.in"), all);
	*h_text = h.s;
	free(all);
}

/* Append a runtime file with its quoted #includes pasted in place, each
 * file once (rt.h and family headers). */
static void paste(Buf *b, const char *file, const char **done, int *ndone)
{
	for (int i = 0; i < *ndone; i++)
		if (!strcmp(done[i], file))
			return;
	done[(*ndone)++] = file;
	const char *src = runtime_source(file);
	bprintf(b, "/* runtime/%s */\n", file);
	for (const char *p = src; *p;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p + 1) : strlen(p);
		if (!strncmp(p, "#include \"", 10)) {
			const char *q = strchr(p + 10, '"');
			paste(b, fmt("%.*s", (int)(q - p - 10), p + 10), done, ndone);
		} else {
			bput(b, p, len);
		}
		p += len;
	}
}

/* The runtime source files the calls need, in alphabetical order. */
static char *runtime_text(Graph *g)
{
	Buf b = { 0 };
	const char *files[256], *done[512];
	int nfiles = 0, ndone = 0;
	for (int c = 0; c < g->ncalls; c++) {
		const char *f = kernel_file(g->calls[c].kernel);
		int seen = 0;
		for (int i = 0; i < nfiles; i++)
			seen |= !strcmp(files[i], f);
		if (!seen && nfiles < 256)
			files[nfiles++] = f;
	}
	for (int i = 0; i < nfiles; i++)
		for (int j = i + 1; j < nfiles; j++)
			if (strcmp(files[j], files[i]) < 0) {
				const char *t = files[i];
				files[i] = files[j];
				files[j] = t;
			}
	paste(&b, "rt.h", done, &ndone);
	for (int i = 0; i < nfiles; i++)
		paste(&b, files[i], done, &ndone);
	return b.s;
}

static const char *basename_of(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

char *emit_c(Graph *g, const EmitOpts *o, char **header)
{
	const char *P = upper(o->prefix), *p = o->prefix;
	Buf io = { 0 }, params = { 0 }, wrap = { 0 }, body = { 0 }, checks = { 0 };
	for (int i = 0; i < g->ninputs; i++) {
		Value *v = g->inputs[i];
		char *u = upper(v->cname);
		bprintf(&io, "/* input %d '%s' %s */\n#define %s_IN_%s_NUMEL %lld\n#define %s_IN_%s_DTYPE %d\n",
			i, v->name, shape_str(v), P, u, (long long)numel(v), P, u, v->dtype);
		bprintf(&params, ", const %s *%s", ctype(v->dtype), v->cname);
		bprintf(&wrap, "\tin[%d] = %s;\n", i, v->cname);
	}
	for (int i = 0; i < g->noutputs; i++) {
		Value *v = g->outputs[i];
		/* an output that is also an input, or listed twice, needs its own parameter */
		char *pname = v->input_index >= 0 || v->output_index != i ? fmt("%s_out%d", v->cname, i) : v->cname;
		char *u = upper(pname);
		char *nm = g->output_names[i];
		bprintf(&io, "/* output %d '%s' %s */\n#define %s_OUT_%s_NUMEL %lld\n#define %s_OUT_%s_DTYPE %d\n",
			i, nm, shape_str(v), P, u, (long long)numel(v), P, u, v->dtype);
		bprintf(&params, ", %s *%s", ctype(v->dtype), pname);
		bprintf(&wrap, "\tout[%d] = %s;\n", i, pname);
	}
	for (int i = 0; i < g->ninputs; i++)
		bprintf(&checks, "\tif (!in[%d])\n\t\treturn %s_ERR_NULL;\n", i, P);
	for (int i = 0; i < g->noutputs; i++)
		bprintf(&checks, "\tif (!out[%d])\n\t\treturn %s_ERR_NULL;\n", i, P);
	int full_end = g->has_step ? g->step_first_call : g->ncalls;
	emit_calls(g, &body, 0, full_end, g->has_step, p, g->has_step);
	/* outputs that are constants, inputs, views or repeated: copied */
	for (int i = 0; i < g->noutputs; i++) {
		Value *v = g->outputs[i];
		if (v->loc == LOC_OUTPUT && v->off == i && !v->alias)
			continue;
		if (nbytes(v))
			bprintf(&body, "\t/* output '%s' */\n%s\tmemcpy(out[%d], %s, %lld);\n", g->output_names[i],
				g->has_step ? "\tif (want)\n" : "", i, where(v), (long long)nbytes(v));
	}
	char hash[32], arena[32], blob[32], nin[16], nout[16], nin1[16], nout1[16], ncalls[16], be[16], bv[16];
	snprintf(hash, sizeof hash, "%016llx", (unsigned long long)g->hash);
	snprintf(arena, sizeof arena, "%lld", (long long)g->arena_bytes);
	snprintf(blob, sizeof blob, "%lld", (long long)g->blob_bytes);
	snprintf(nin, sizeof nin, "%d", g->ninputs);
	snprintf(nout, sizeof nout, "%d", g->noutputs);
	snprintf(nin1, sizeof nin1, "%d", g->ninputs ? g->ninputs : 1);
	snprintf(nout1, sizeof nout1, "%d", g->noutputs ? g->noutputs : 1);
	snprintf(ncalls, sizeof ncalls, "%d", g->ncalls);
	snprintf(be, sizeof be, "%d", BLOB_ENTRY);
	snprintf(bv, sizeof bv, "%d", BLOB_VERSION);
	char *guard = fmt("%s_H", P);
	char *inc = o->out_c ? fmt("#include \"%s.h\"", fmt("%.*s", (int)(strlen(basename_of(o->out_c)) - 2), basename_of(o->out_c)))
			     : xstrdup("/* (header above) */");
	char *binname = o->out_c ? fmt("%.*s.bin", (int)(strlen(basename_of(o->out_c)) - 2), basename_of(o->out_c)) : xstrdup("the .bin file");
	const char *kv[] = {
		"VERSION", GPTOSSC_VERSION, "SOURCE", basename_of(g->path), "SOURCE_BIN", binname,
		"P", P, "p", p, "GUARD", guard, "ARENA", arena, "BLOB", blob, "HASH", hash,
		"NIN", nin, "NOUT", nout, "NIN1", nin1, "NOUT1", nout1, "IOMACROS", io.s ? io.s : "",
		"RUNPARAMS", params.s ? params.s : "", "RUNWRAP", wrap.s ? wrap.s : "",
		"BODY", body.s ? body.s : "", "CHECKS", checks.s ? checks.s : "", "NCALLS", ncalls, "BLOBENTRY", be, "BLOBVERSION", bv,
		"INCLUDE", inc, "RUNTIME", "",
		"EXTERNS", fmt("%s%s", o->embed_weights ? fmt("/* --embed-weights: the blob, linked in (%s_blob.c) */\nextern const unsigned char %s_blob_data[%s_BLOB_BYTES];\n", p, p, P) : "",
			       o->static_arena ? fmt("/* --static-arena: a static arena in model.c (one context at a time) */\nextern unsigned char %s_arena_data[%s_ARENA_BYTES + 1];\n", p, P) : ""),
		"NTHREADS", fmt("%d", g_threads),
		"POOLHDR", g_threads > 1 ? fmt("#include <pthread.h>\nstruct %s_ctx;\ntypedef struct %s_job {\n\tstruct %s_ctx *c;\n\tint index;\n} %s_job;\n", p, p, p, p) : "",
		"POOLFIELDS", g_threads > 1 ? fmt("\t/* the thread pool (templates/pool.c.in) */\n\tpthread_mutex_t mu;\n\tpthread_cond_t go, done;\n"
						"\tint gen, pending, quit, nparts;\n\tvoid (*fn)(void *const *, const int64_t *);\n"
						"\tvoid *const *t;\n\tconst int64_t *const *ps;\n\tpthread_t threads[%d];\n\t%s_job jobs[%d];\n",
						g_threads, p, g_threads) : "",
		"POOL", "",
		"ARENADEF", o->static_arena ? fmt("RT_ALIGN64 unsigned char %s_arena_data[%s_ARENA_BYTES + 1];\n", p, P) : "",
		"STEP", "", "STEPAPI", "",
		NULL,
	};
	char *step_c, *step_h;
	emit_step(g, o, kv, &step_c, &step_h);
	for (int i = 0; kv[i]; i += 2) {
		if (!strcmp(kv[i], "STEP"))
			kv[i + 1] = step_c;
		if (!strcmp(kv[i], "STEPAPI"))
			kv[i + 1] = step_h;
	}
	*header = subst(runtime_source("model.h.in"), kv);
	char *pool = subst(runtime_source(g_threads > 1 ? "pool.c.in" : "nopool.c.in"), kv);
	for (int i = 0; kv[i]; i += 2)
		if (!strcmp(kv[i], "POOL"))
			kv[i + 1] = pool;
	char *c = subst(runtime_source("model.c.in"), kv);
	/* the runtime goes in last: its text may contain '@' */
	char *rt = runtime_text(g);
	char *mark = strstr(c, "/* ---- runtime kernels (from gptossc runtime/) ---- */\n");
	size_t head = mark - c + strlen("/* ---- runtime kernels (from gptossc runtime/) ---- */\n");
	return fmt("%.*s%s%s", (int)head, c, rt, c + head);
}

/* The generation driver of --main: the model must take token ids [T]
 * (int32 or int64) and give logits [T,V] first. */
static char *emit_main(Graph *g, const EmitOpts *o, const char *stem)
{
	Value *in = g->ninputs == 1 ? g->inputs[0] : NULL, *out = g->noutputs ? g->outputs[0] : NULL;
	if (!in || in->rank != 1 || (in->dtype != RT_I32 && in->dtype != RT_I64))
		fatal("--main needs a model with one input of token ids [T] (int32 or int64)");
	if (!out || out->rank != 2 || out->dtype != RT_F32 || out->dims[0] != in->dims[0])
		fatal("--main needs the first output to be float logits [T,V]");
	Buf alloc = { 0 };
	for (int i = 0; i < g->noutputs; i++)
		bprintf(&alloc, "\touts[%d] = malloc(%lld);\n", i, (long long)(nbytes(g->outputs[i]) + 64));
	char t[32], v[32], nout[16];
	snprintf(t, sizeof t, "%lld", (long long)in->dims[0]);
	snprintf(v, sizeof v, "%lld", (long long)out->dims[1]);
	snprintf(nout, sizeof nout, "%d", g->noutputs);
	const char *kv[] = {
		"VERSION", GPTOSSC_VERSION, "SOURCE", basename_of(g->path), "SOURCE_BIN", fmt("%s.bin", basename_of(stem)),
		"HEADER", fmt("%s.h", basename_of(stem)), "P", upper(o->prefix), "p", o->prefix, "T", t, "V", v,
		"NOUT", nout, "OUTALLOC", alloc.s, "TOKTYPE", in->dtype == RT_I32 ? "int32_t" : "int64_t", NULL,
	};
	return subst(runtime_source("main.c.in"), kv);
}

/* ---- the blob ---- */

/* --embed-weights: the blob as a const array in C (or, for big blobs, an
 * assembler file that .incbin's the .bin, which must then sit beside it). */
static void write_blob_c(Graph *g, const EmitOpts *o, const char *path, const char *binpath, int incbin)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		fatal("cannot create %s", path);
	if (incbin) {
		fprintf(f, "/* Generated by gptossc %s; do not edit. The weight blob of %s. */\n"
			"\t.section .rodata\n\t.global %s_blob_data\n\t.balign 64\n%s_blob_data:\n"
			"\t.incbin \"%s\"\n\t.section .note.GNU-stack,\"\",%%progbits\n",
			GPTOSSC_VERSION, o->prefix, o->prefix, o->prefix, basename_of(binpath));
	} else {
		size_t len;
		unsigned char *b = blob_to_memory(g, &len);
		fprintf(f, "/* Generated by gptossc %s; do not edit. The weight blob of %s. */\n"
			"#include <stddef.h>\n#if defined(__GNUC__) || defined(__TINYC__)\n"
			"__attribute__((aligned(64)))\n#endif\nconst unsigned char %s_blob_data[%zu] = {\n",
			GPTOSSC_VERSION, o->prefix, o->prefix, len);
		for (size_t i = 0; i < len; i++)
			fprintf(f, "%u,%s", b[i], i % 24 == 23 ? "\n" : "");
		fprintf(f, "\n};\n");
		free(b);
	}
	if (fflush(f) || ferror(f) || fclose(f))
		fatal("cannot write %s: %s", path, strerror(errno));
}

static void put64(unsigned char *b, uint64_t x)
{
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(x >> (8 * i));
}

static void put32(unsigned char *b, uint32_t x)
{
	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(x >> (8 * i));
}

static void xwrite(FILE *f, const void *p, size_t n, const char *path)
{
	if (n && fwrite(p, 1, n, f) != n)
		fatal("cannot write %s: %s", path, strerror(errno));
}

/* Streams tensors into the blob, converting to their weight format.  The
 * bytes go through two buffers of OUTBUF bytes: the main thread fills one
 * (reading and converting weights) while a second thread writes the other,
 * so that converting and writing overlap.  A trial compile (g_fatal_jmp,
 * the fuzzer) writes without the thread, since an error longjmps out. */
#define OUTBUF (8 << 20)

typedef struct BlobWriter {
	FILE *f;
	const char *path;
	int64_t pos, total;
	int tty;
	time_t start;
	int wfmt;
	unsigned char *buf[2];
	int cur;     /* the buffer being filled */
	size_t fill; /* bytes in it */
	/* the writer thread: it writes out[0..outlen) and sets outlen to 0 */
	int threaded, quit, err; /* err: errno of a failed write */
	unsigned char *out;
	size_t outlen;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} BlobWriter;

static void *writer_main(void *arg)
{
	BlobWriter *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->outlen && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->outlen)
			break;
		pthread_mutex_unlock(&w->mu);
		int err = 0;
		if (fwrite(w->out, 1, w->outlen, w->f) != w->outlen)
			err = errno ? errno : EIO;
		pthread_mutex_lock(&w->mu);
		if (!w->err)
			w->err = err;
		w->outlen = 0;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Wait until the writer has written what it was given. */
static void writer_wait(BlobWriter *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->outlen)
		pthread_cond_wait(&w->cv, &w->mu);
	int err = w->err;
	pthread_mutex_unlock(&w->mu);
	if (err)
		fatal("cannot write %s: %s", w->path, strerror(err));
}

/* Hand the filled buffer to the writer (or write it) and fill the other. */
static void flush_buf(BlobWriter *w)
{
	if (!w->threaded) {
		xwrite(w->f, w->buf[w->cur], w->fill, w->path);
		w->fill = 0;
		return;
	}
	writer_wait(w);
	pthread_mutex_lock(&w->mu);
	w->out = w->buf[w->cur];
	w->outlen = w->fill;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	w->cur ^= 1;
	w->fill = 0;
}

static void writer_start(BlobWriter *w, FILE *f, const char *path, int64_t total)
{
	memset(w, 0, sizeof *w);
	w->f = f;
	w->path = path;
	w->total = total;
	w->tty = isatty(2);
	w->start = time(NULL);
	w->buf[0] = xcalloc(OUTBUF, 1);
	w->buf[1] = xcalloc(OUTBUF, 1);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->threaded = !g_fatal_jmp && !pthread_create(&w->thread, NULL, writer_main, w);
}

static void writer_finish(BlobWriter *w)
{
	flush_buf(w);
	if (w->threaded) {
		writer_wait(w);
		pthread_mutex_lock(&w->mu);
		w->quit = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
	}
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w->buf[0]);
	free(w->buf[1]);
}

/* Room for n more bytes (at most OUTBUF) in the buffer being filled. */
static unsigned char *room(BlobWriter *w, size_t n)
{
	if (w->fill + n > OUTBUF)
		flush_buf(w);
	return w->buf[w->cur] + w->fill;
}

static void put_bytes(BlobWriter *w, const void *p, int64_t n)
{
	const unsigned char *s = p;
	while (n > 0) {
		if (w->fill == OUTBUF)
			flush_buf(w);
		size_t k = OUTBUF - w->fill < (size_t)n ? OUTBUF - w->fill : (size_t)n;
		memcpy(w->buf[w->cur] + w->fill, s, k);
		w->fill += k;
		w->pos += k;
		s += k;
		n -= k;
	}
}

static void pad_to(BlobWriter *w, int64_t off)
{
	static const unsigned char zero[64];
	while (w->pos < off)
		put_bytes(w, zero, off - w->pos < 64 ? off - w->pos : 64);
}

/* Bytes of n values in weight format wfmt (n a multiple of 32 for the block formats). */
static int64_t encoded_bytes(int wfmt, int64_t n)
{
	return wfmt == RT_BF16 ? 2 * n : wfmt == FMT_Q8 ? n / 32 * 36 : n / 32 * 17;
}

static int put_chunk(void *ctx, const void *data, int64_t off, int64_t len)
{
	BlobWriter *w = ctx;
	(void)off;
	if (!w->wfmt) {
		put_bytes(w, data, len);
	} else {
		/* converted straight into the buffer, 64K values at a time */
		const float *src = data;
		for (int64_t i = 0, n = len / 4; i < n; i += 65536) {
			int64_t m = n - i < 65536 ? n - i : 65536, out = encoded_bytes(w->wfmt, m);
			encode_chunk(w->wfmt, src + i, m, room(w, out));
			w->fill += out;
			w->pos += out;
		}
	}
	if (w->tty && time(NULL) - w->start >= 1)
		fprintf(stderr, "\rgptossc: writing %s: %lld of %lld MB", w->path, (long long)w->pos >> 20,
			(long long)w->total >> 20);
	return 0;
}

/* Weights are read from the source RT_READ_COLS columns of all K rows at
 * a time (6 MB of f32 for K = 2880), not one narrow band at a time. */
#define RT_READ_COLS 512

/* A banded weight (fuse.c): band after band of RT_LINEAR_BAND columns,
 * each band its K rows one after the other. */
static void put_banded(Graph *g, Value *v, BlobWriter *w)
{
	int64_t K = v->dims[0], N = v->dims[1], es = (int64_t)rt_dtype_size(v->dtype);
	unsigned char *buf = xcalloc(K * RT_READ_COLS * es + 1, 1), *out = xcalloc(K * RT_READ_COLS * es + 1, 1);
	ConstReader rd = const_reader(g, v);
	for (int64_t c0 = 0; c0 < N; c0 += RT_READ_COLS) {
		int64_t cn = N - c0 < RT_READ_COLS ? N - c0 : RT_READ_COLS;
		unsigned char *o = out;
		for (int64_t k = 0; k < K; k++)
			const_read(&rd, (k * N + c0) * es, cn * es, buf + k * cn * es);
		for (int64_t n0 = 0; n0 < cn; n0 += RT_LINEAR_BAND) {
			int64_t nn = cn - n0 < RT_LINEAR_BAND ? cn - n0 : RT_LINEAR_BAND;
			for (int64_t k = 0; k < K; k++, o += nn * es)
				memcpy(o, buf + (k * cn + n0) * es, nn * es);
		}
		put_chunk(w, out, 0, K * cn * es); /* bf16 or f32: converted value by value */
	}
	const_reader_close(&rd);
	free(buf);
	free(out);
}

/* A transposed weight (fuse.c): [K,N] stored as N rows of K, transposed
 * in memory a block of RT_READ_COLS columns at a time. */
static void put_transposed(Graph *g, Value *v, BlobWriter *w)
{
	int64_t K = v->dims[0], N = v->dims[1];
	float *buf = xcalloc(K * RT_READ_COLS + 1, 4), *row = xcalloc(K + 1, 4);
	ConstReader rd = const_reader(g, v);
	for (int64_t n0 = 0; n0 < N; n0 += RT_READ_COLS) {
		int64_t nn = N - n0 < RT_READ_COLS ? N - n0 : RT_READ_COLS;
		for (int64_t k = 0; k < K; k++)
			const_read(&rd, (k * N + n0) * 4, nn * 4, buf + k * nn);
		for (int64_t j = 0; j < nn; j++) {
			for (int64_t k = 0; k < K; k++)
				row[k] = buf[k * nn + j];
			put_chunk(w, row, 0, K * 4);
		}
	}
	const_reader_close(&rd);
	free(buf);
	free(row);
}

static void write_blob_to(Graph *g, FILE *f, const char *path)
{
	int64_t hlen = BLOB_HEADER + (int64_t)g->nblob * BLOB_ENTRY;
	unsigned char *h = xcalloc(hlen, 1);
	memcpy(h, "NGPTOSC", 8);
	put32(h + 8, BLOB_VERSION);
	put32(h + 12, (uint32_t)g->nblob);
	put64(h + 16, g->hash);
	put64(h + 24, g->blob_bytes);
	for (int i = 0; i < g->nblob; i++) {
		Value *v = g->blobvals[i];
		unsigned char *e = h + BLOB_HEADER + i * BLOB_ENTRY;
		strncpy((char *)e, v->name, 43);
		put32(e + 48, v->dtype);
		put32(e + 52, v->rank);
		put64(e + 56, v->off);
		put64(e + 64, stored_bytes(v));
		put32(e + 44, v->wfmt && v->wfmt != v->dtype ? v->wfmt : v->dtype); /* stored format */
		for (int d = 0; d < v->rank; d++)
			put64(e + 72 + 8 * d, v->dims[d]);
	}
	uint64_t sum = fnv1a(0, h, hlen);
	put64(h + 32, sum);
	BlobWriter w;
	writer_start(&w, f, path, g->blob_bytes);
	put_bytes(&w, h, hlen);
	for (int i = 0; i < g->nblob; i++) {
		Value *v = g->blobvals[i];
		pad_to(&w, v->off);
		w.wfmt = v->wfmt && v->wfmt != v->dtype ? v->wfmt : 0;
		if (v->banded)
			put_banded(g, v, &w);
		else if (v->transposed)
			put_transposed(g, v, &w);
		else
			const_chunks(g, v, put_chunk, &w);
	}
	pad_to(&w, g->blob_bytes);
	writer_finish(&w);
	if (w.tty && time(NULL) - w.start >= 1)
		fprintf(stderr, "\n");
	free(h);
}

void write_blob(Graph *g, const char *path)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		fatal("cannot create %s", path);
	write_blob_to(g, f, path);
	if (fflush(f) || ferror(f) || fclose(f))
		fatal("cannot write %s: %s", path, strerror(errno));
}

unsigned char *blob_to_memory(Graph *g, size_t *len)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	write_blob_to(g, f, "memory");
	fclose(f);
	*len = n;
	return (unsigned char *)s;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		fatal("cannot create %s", path);
	size_t n = strlen(text);
	if (fwrite(text, 1, n, f) != n || fflush(f) || fclose(f))
		fatal("cannot write %s: %s", path, strerror(errno));
}

/* model.c, model.h, model.bin: written as temporaries, renamed at the end. */
void write_outputs(Graph *g, const EmitOpts *o)
{
	size_t n = strlen(o->out_c);
	char *stem = fmt("%.*s", (int)(n - 2), o->out_c);
	int incbin = g->blob_bytes > (64 << 20);
	const char *final[5] = { o->out_c, fmt("%s.h", stem), fmt("%s.bin", stem), fmt("%s_main.c", stem),
				 fmt("%s_blob.%s", stem, incbin ? "S" : "c") };
	char *tmp[5];
	int nfiles = 5;
	for (int i = 0; i < nfiles; i++) {
		tmp[i] = fmt("%s.tmp%d", final[i], (int)getpid());
		cleanup_register(tmp[i]);
	}
	char *header;
	char *c = emit_c(g, o, &header);
	write_text(tmp[0], c);
	write_text(tmp[1], header);
	write_blob(g, tmp[2]);
	if (o->with_main)
		write_text(tmp[3], emit_main(g, o, stem));
	if (o->embed_weights)
		write_blob_c(g, o, tmp[4], final[2], incbin);
	for (int i = 0; i < nfiles; i++) {
		if ((i == 3 && !o->with_main) || (i == 4 && !o->embed_weights)) {
			cleanup_unregister(tmp[i]);
			continue;
		}
		if (rename(tmp[i], final[i]))
			fatal("cannot rename %s to %s", tmp[i], final[i]);
		cleanup_unregister(tmp[i]);
	}
}
