/* run.c: `gptossc run`: compile a model and run it now.
 *
 * The generated C (header and body in one string) is compiled in memory
 * with libtcc (no system compiler needed), or with --cc "CMD" into a shared
 * object that is dlopen'ed (the SIMD paths).  Inputs and outputs are ONNX
 * TensorProto files, the format of the ONNX node tests.
 */
#include "gptossc.h"
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_LIBTCC
#include <libtcc.h>
#endif

char **g_bind_names;
Onnx__TensorProto **g_bind_tensors;
int g_nbind;

typedef int (*init_fn)(void *ctx, const void *blob, size_t blob_len, void *arena, size_t arena_len);
typedef int (*run_fn)(void *ctx, const void *const *in, void *const *out);

static void tcc_error_cb(void *opaque, const char *msg)
{
	(void)opaque;
	fprintf(stderr, "gptossc: libtcc: %s\n", msg);
}

static void *compile_tcc(const char *code, init_fn *init, run_fn *run)
{
#ifdef HAVE_LIBTCC
	TCCState *s = tcc_new();
	if (!s)
		fatal("libtcc: cannot create a compiler state");
	tcc_set_error_func(s, NULL, tcc_error_cb);
	tcc_set_output_type(s, TCC_OUTPUT_MEMORY);
	if (tcc_compile_string(s, code) < 0)
		fatal("libtcc could not compile the generated code (an internal error)");
	tcc_add_library(s, "m");
	if (tcc_relocate(s, TCC_RELOCATE_AUTO) < 0)
		fatal("libtcc: relocation failed");
	*init = (init_fn)tcc_get_symbol(s, "m_init");
	*run = (run_fn)tcc_get_symbol(s, "m_run_v");
	if (!*init || !*run)
		fatal("libtcc: generated entry points not found");
	return s;
#else
	(void)code;
	(void)init;
	(void)run;
	fatal("this gptossc was built without libtcc: use --cc \"cc -O2\"");
#endif
}

static void *compile_cc(const char *cc, const char *code, init_fn *init, run_fn *run)
{
	char dir[] = "/tmp/gptossc-run-XXXXXX";
	if (!mkdtemp(dir))
		fatal("cannot create a temporary folder");
	char *src = fmt("%s/m.c", dir), *so = fmt("%s/m.so", dir);
	cleanup_register(src);
	cleanup_register(so);
	FILE *f = fopen(src, "w");
	if (!f || fputs(code, f) < 0 || fclose(f))
		fatal("cannot write %s", src);
	char *cmd = fmt("%s -shared -fPIC -o %s %s -lm", cc, so, src);
	if (system(cmd))
		fatal("the C compiler failed: %s", cmd);
	void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		fatal("cannot load %s: %s", so, dlerror());
	*init = (init_fn)dlsym(h, "m_init");
	*run = (run_fn)dlsym(h, "m_run_v");
	unlink(src);
	unlink(so);
	rmdir(dir);
	cleanup_unregister(src);
	cleanup_unregister(so);
	if (!*init || !*run)
		fatal("generated entry points not found in %s", so);
	return h;
}

static void write_tensor_pb(const char *path, const char *name, Value *v, void *data)
{
	Onnx__TensorProto t = ONNX__TENSOR_PROTO__INIT;
	int64_t dims[RT_MAXDIM];
	for (int i = 0; i < v->rank; i++)
		dims[i] = v->dims[i];
	t.n_dims = v->rank;
	t.dims = dims;
	t.has_data_type = 1;
	t.data_type = v->dtype;
	t.name = (char *)name;
	t.has_raw_data = 1;
	t.raw_data.len = nbytes(v);
	t.raw_data.data = data;
	size_t n = onnx__tensor_proto__get_packed_size(&t);
	unsigned char *buf = xcalloc(n + 1, 1);
	onnx__tensor_proto__pack(&t, buf);
	char *tmp = fmt("%s.tmp", path);
	cleanup_register(tmp);
	FILE *f = fopen(tmp, "wb");
	if (!f || fwrite(buf, 1, n, f) != n || fclose(f))
		fatal("cannot write %s", path);
	if (rename(tmp, path))
		fatal("cannot rename %s", tmp);
	cleanup_unregister(tmp);
}

/* Compile, or return NULL (quietly) if the graph does not compile. */
static Graph *trial_compile(const char *model, char **pin_names, int64_t *pin_vals, int npins)
{
	jmp_buf jb;
	Graph *volatile g = NULL;
	g_fatal_jmp = &jb;
	g_quiet = 1;
	if (!setjmp(jb))
		g = compile_graph(model, pin_names, pin_vals, npins, 0, NULL);
	g_fatal_jmp = NULL;
	g_quiet = 0;
	return g;
}

int run_main(int argc, char **argv)
{
	const char *model = NULL, *outdir = NULL, *cc = NULL;
	int by_index = 0;
	const char *in_names[64], *in_files[64];
	int nin = 0;
	char *pin_names[64];
	int64_t pin_vals[64];
	int npins = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((!strcmp(a, "-i") || !strcmp(a, "-O") || !strcmp(a, "--cc") || !strcmp(a, "-d")) && i + 1 >= argc)
			usage_error("%s needs an argument", a);
		if (parse_tap_option(argc, argv, &i) || parse_weights_option(argc, argv, &i))
			continue;
		if (!strcmp(a, "-i")) {
			const char *v = argv[++i], *eq = strchr(v, '=');
			if (nin == 64)
				usage_error("too many inputs");
			in_names[nin] = eq ? fmt("%.*s", (int)(eq - v), v) : NULL;
			in_files[nin++] = eq ? eq + 1 : v;
		} else if (!strcmp(a, "--threads")) {
			if (i + 1 >= argc || atoi(argv[i + 1]) < 1 || atoi(argv[i + 1]) > 64)
				usage_error("--threads wants a number from 1 to 64");
			g_threads = atoi(argv[++i]);
		} else if (!strcmp(a, "--no-chains")) {
			g_no_chains = 1;
		} else if (!strcmp(a, "-O")) {
			outdir = argv[++i];
		} else if (!strcmp(a, "--by-index")) {
			by_index = 1;
		} else if (!strcmp(a, "--cc")) {
			cc = argv[++i];
		} else if (!strcmp(a, "-d")) {
			const char *v = argv[++i], *eq = strchr(v, '=');
			if (!eq || npins == 64)
				usage_error("-d wants NAME=VALUE");
			pin_names[npins] = fmt("%.*s", (int)(eq - v), v);
			pin_vals[npins++] = atoll(eq + 1);
		} else if (!strcmp(a, "--help")) {
			printf("usage: gptossc run model.onnx -i [NAME=]FILE.pb ... -O DIR [--by-index] [--cc \"CMD\"] [-d NAME=VALUE]\n"
			       "                   [--weights=FMT] [--threads N] [--tap NAME] [--no-chains]\n"
			       "  --by-index   name output files output_<i>.pb (the node tests' layout)\n");
			return 0;
		} else if (a[0] == '-') {
			usage_error("run: unknown option '%s'", a);
		} else if (model) {
			usage_error("run: more than one model given");
		} else {
			model = a;
		}
	}
	if (!model)
		usage_error("run: no model given");
	if (!outdir)
		usage_error("run: no output folder given (-O DIR)");

	Onnx__TensorProto *tps[64];
	for (int k = 0; k < nin; k++)
		tps[k] = read_tensor_pb(in_files[k], NULL);

	/* Shapes must be static: an input that sets a shape (Reshape's shape,
	 * TopK's K, reduction axes) has to be constant.  If the graph does not
	 * compile as is, the small inputs given (64 elements or fewer) are bound as constants
	 * (the graph is specialised to them) and it is compiled again. */
	Graph *g = trial_compile(model, pin_names, pin_vals, npins);
	if (!g) {
		g_bind_names = xcalloc(nin + 1, sizeof(char *));
		g_bind_tensors = xcalloc(nin + 1, sizeof(*g_bind_tensors));
		for (int k = 0; k < nin; k++) {
			Onnx__TensorProto *t = tps[k];
			const char *nm = in_names[k] ? in_names[k] : t->name;
			int64_t n = 1;
			for (size_t d = 0; d < t->n_dims; d++)
				n *= t->dims[d];
			if (nm && *nm && n <= 64) {
				g_bind_names[g_nbind] = (char *)nm;
				g_bind_tensors[g_nbind++] = t;
			}
		}
	}
	if (!g)
		g = compile_graph(model, pin_names, pin_vals, npins, 0, NULL);

	/* inputs, matched by name (given, or stored in the file), else by position */
	void **inputs = xcalloc(g->ninputs + 1, sizeof(void *));
	for (int k = 0; k < nin; k++) {
		Onnx__TensorProto *t = tps[k];
		const char *nm = in_names[k] ? in_names[k] : (t->name && *t->name ? t->name : NULL);
		int bound = 0;
		for (int b = 0; nm && b < g_nbind; b++)
			bound |= !strcmp(g_bind_names[b], nm);
		if (bound)
			continue;
		int idx = -1;
		for (int i = 0; i < g->ninputs; i++)
			if (nm && !strcmp(g->inputs[i]->name, nm))
				idx = i;
		if (idx < 0 && !in_names[k] && !g_nbind && k < g->ninputs)
			idx = k;
		if (idx < 0)
			fatal("%s: the model has no input named '%s'", in_files[k], nm ? nm : "");
		Value *gv = g->inputs[idx];
		Value tmp = { 0 };
		tensor_proto_to_value(g, &tmp, t, in_files[k]);
		if (tmp.dtype != gv->dtype)
			fatal("%s: input '%s' is %s, the model wants %s", in_files[k], gv->name,
			      dtype_name(tmp.dtype), dtype_name(gv->dtype));
		if (numel(&tmp) != numel(gv))
			fatal("%s: input '%s' has shape %s, the model wants %s", in_files[k], gv->name,
			      shape_str(&tmp), shape_str(gv));
		inputs[idx] = numel(&tmp) ? value_data(g, &tmp) : xcalloc(1, 64);
	}
	for (int i = 0; i < g->ninputs; i++)
		if (!inputs[i])
			fatal("no value given for input '%s' %s (use -i %s=FILE.pb)", g->inputs[i]->name,
			      shape_str(g->inputs[i]), g->inputs[i]->name);

	EmitOpts eo = { .out_c = NULL, .prefix = "m" };
	char *header;
	char *body = emit_c(g, &eo, &header);
	char *code = fmt("%s\n%s", header, body);
	init_fn init;
	run_fn run;
	if (cc)
		compile_cc(cc, code, &init, &run);
	else
		compile_tcc(code, &init, &run);

	size_t blob_len;
	unsigned char *blob_mem = blob_to_memory(g, &blob_len);
	unsigned char *blob = aligned_alloc(64, (blob_len + 63) & ~(size_t)63);
	memcpy(blob, blob_mem, blob_len);
	size_t alen = (g->arena_bytes + 63) & ~(size_t)63;
	void *arena = aligned_alloc(64, alen ? alen : 64);
	void **outputs = xcalloc(g->noutputs + 1, sizeof(void *));
	for (int i = 0; i < g->noutputs; i++)
		outputs[i] = xcalloc(nbytes(g->outputs[i]) + 64, 1);
	void *ctx = xcalloc(1, 1 << 16); /* larger than any m_ctx, thread pool included */
	int err = init(ctx, blob, blob_len, arena, g->arena_bytes);
	if (err)
		fatal("generated init failed with code %d", err);
	err = run(ctx, (const void *const *)inputs, outputs);
	if (err)
		fatal("generated run failed with code %d", err);

	mkdir(outdir, 0777);
	for (int i = 0; i < g->noutputs; i++) {
		char *fn = xstrdup(g->output_names[i]);
		for (char *p = fn; *p; p++)
			if (*p == '/')
				*p = '_';
		if (by_index)
			fn = fmt("output_%d", i);
		write_tensor_pb(fmt("%s/%s.pb", outdir, fn), g->output_names[i], g->outputs[i], outputs[i]);
	}
	return 0;
}
