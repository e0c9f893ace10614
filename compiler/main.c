/* main.c: the command line and the pass pipeline.
 *
 *   gptossc [options] model.onnx -o model.c    writes model.c, model.h, model.bin
 *   gptossc run model.onnx -i NAME=FILE.pb ... -O DIR
 */
#include "gptossc.h"
#include <signal.h>

static const char usage[] =
	"usage: gptossc [options] model.onnx -o model.c\n"
	"       gptossc run [options] model.onnx -i [NAME=]FILE.pb ... -O DIR\n"
	"\n"
	"Compiles an ONNX graph to self-contained C: model.c (the kernels it uses and\n"
	"the model as a sequence of calls), model.h (the API) and model.bin (weights).\n"
	"\n"
	"options:\n"
	"  -o FILE.c           output file; FILE.h and FILE.bin are written beside it\n"
	"  -n NAME             prefix of every symbol (default: from the output name)\n"
	"  -d NAME=VALUE       pin the symbolic input dim NAME\n"
	"  --dump              print the processed graph\n"
	"  --dump-after=PASS   print the graph after PASS (load inline uniquify fold simplify fuse\n"
	"                      kvcache chains attention) and stop\n"
	"  --stats             print node counts, folded constants, weight and arena bytes\n"
	"  --no-fold           do not evaluate constant subgraphs\n"
	"  --no-chains         do not fuse elementwise chains (rt_ew_chain), the sink\n"
	"                      softmax (rt_sink_softmax) nor the attention (rt_attn_chain)\n"
	"  --weights=FMT       weight storage: auto (default: MXFP4 or bf16 where exactly\n"
	"                      lossless, else f32), f32, bf16 (lossy where not exact), or q8\n"
	"                      (lossy: 8-bit blocks of 32 along the reduction axis where it\n"
	"                      is a multiple of 32, auto's choice elsewhere)\n"
	"  --tap NAME          expose the intermediate value NAME as an extra output (repeatable)\n"
	"  --tap-all           expose every computed intermediate value\n"
	"  --threads N         a pthread pool of N threads in the generated code (default 1:\n"
	"                      no pthread dependency); NAME_set_threads changes it at run time\n"
	"  --main              also write FILE_main.c, a greedy generation driver\n"
	"  --kv-cache          require the incremental entry point NAME_step (a KV cache\n"
	"                      derived from the full-window graph); fail, naming the node,\n"
	"                      when it cannot be derived.  By default it is derived when\n"
	"                      possible, with a note on stderr when not\n"
	"  --no-kv-cache       only the full-window entry point NAME_run\n"
	"  --embed-weights     also write FILE_blob.c (or .S with .incbin for big blobs):\n"
	"                      the blob as const data, NAME_blob_data, for targets without files\n"
	"  --static-arena      define the arena as a static buffer NAME_arena_data in FILE.c\n"
	"  --help, --version\n"
	"\n"
	"run options:\n"
	"  -i [NAME=]FILE.pb   an input as an ONNX TensorProto (NAME defaults to the name inside)\n"
	"  -O DIR              write each output to DIR/<output name>.pb\n"
	"  --cc \"CMD\"          build with a system C compiler instead of libtcc\n"
	"\n"
	"exit status: 0 success, 1 bad input, 2 usage error\n";

static const char *g_taps[256];
static int g_ntaps, g_tap_all;

/* --tap NAME / --tap-all: intermediate values become extra graph outputs
 * (after the model's own), so they can be compared with another runtime. */
static void add_taps(Graph *g)
{
	Map byname = { 0 };
	for (int i = 0; i < g->nvalues; i++)
		map_put(&byname, g->values[i]->name, g->values[i]);
	Value **extra = xcalloc(g->nvalues + 1, sizeof(Value *));
	int n = 0;
	for (int t = 0; t < g_ntaps; t++) {
		Value *v = map_get(&byname, g_taps[t]);
		if (!v)
			fatal("--tap %s: no value of that name (see --dump for names)", g_taps[t]);
		extra[n++] = v;
	}
	for (int i = 0; g_tap_all && i < g->nnodes; i++) {
		Node *nd = g->nodes[i];
		for (int k = 0; !nd->dead && k < nd->nout; k++)
			if (!nd->out[k]->is_const)
				extra[n++] = nd->out[k];
	}
	g->outputs = xrealloc(g->outputs, (g->noutputs + n + 1) * sizeof(Value *));
	g->output_names = xrealloc(g->output_names, (g->noutputs + n + 1) * sizeof(char *));
	for (int i = 0; i < n; i++) {
		Value *v = extra[i];
		if (v->output_index >= 0)
			continue;
		v->output_index = g->noutputs;
		g->output_names[g->noutputs] = v->name;
		g->outputs[g->noutputs++] = v;
	}
}

typedef struct Opts {
	const char *input, *out_c, *prefix, *dump_after;
	int dump, stats, no_fold, with_main, embed_weights, static_arena;
	char *pin_names[64];
	int64_t pin_vals[64];
	int npins;
} Opts;

static char *default_prefix(const char *out_c)
{
	const char *b = strrchr(out_c, '/');
	b = b ? b + 1 : out_c;
	char *s = xstrdup(b);
	char *dot = strrchr(s, '.');
	if (dot)
		*dot = 0;
	for (char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			*p = '_';
	if (!*s || (*s >= '0' && *s <= '9'))
		s = fmt("m_%s", s);
	return s;
}

static int valid_prefix(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static void add_pin(Opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *end;
	if (!eq || eq == arg || o->npins == 64)
		usage_error("-d wants NAME=VALUE, got '%s'", arg);
	long long v = strtoll(eq + 1, &end, 10);
	if (*end || v < 0 || end == eq + 1)
		usage_error("-d %s: VALUE must be a non-negative integer", arg);
	o->pin_names[o->npins] = fmt("%.*s", (int)(eq - arg), arg);
	o->pin_vals[o->npins++] = v;
}

/* The pipeline up to a lowered, planned graph. */
Graph *compile_graph(const char *path, char **pin_names, int64_t *pin_vals, int npins,
		     int no_fold, const char *dump_after)
{
	Graph *g = load_model(path, pin_names, pin_vals, npins);
#define STAGE(name)                                          \
	if (dump_after && !strcmp(dump_after, name)) {       \
		dump_graph(g, stdout);                       \
		exit(0);                                     \
	}
	STAGE("load");
	inline_functions(g);
	STAGE("inline");
	check_ops(g);
	uniquify(g);
	STAGE("uniquify");
	infer_and_fold(g, !no_fold);
	if (g_ntaps || g_tap_all)
		add_taps(g);
	STAGE("fold");
	STAGE("infer");
	simplify(g);
	STAGE("simplify");
	fuse(g);
	STAGE("fuse");
	kvcache(g);
	STAGE("kvcache");
	fuse_chains(g);
	STAGE("chains");
	fuse_attention(g);
	STAGE("attention");
	lower(g);
	plan(g);
	if (dump_after)
		usage_error("--dump-after: unknown pass '%s'", dump_after);
	return g;
}

/* --weights=FMT or --weights FMT at argv[*i] (shared with `gptossc run`) */
int parse_weights_option(int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v;
	if (strncmp(a, "--weights=", 10) && strcmp(a, "--weights"))
		return 0;
	v = a[9] == '=' ? a + 10 : (*i + 1 < argc ? argv[++*i] : "");
	if (!strcmp(v, "auto"))
		g_weights_mode = WEIGHTS_AUTO;
	else if (!strcmp(v, "f32"))
		g_weights_mode = WEIGHTS_F32;
	else if (!strcmp(v, "bf16"))
		g_weights_mode = WEIGHTS_BF16;
	else if (!strcmp(v, "q8"))
		g_weights_mode = WEIGHTS_Q8;
	else
		usage_error("--weights takes auto, f32, bf16 or q8, not '%s'", v);
	return 1;
}

int parse_tap_option(int argc, char **argv, int *i)
{
	if (!strcmp(argv[*i], "--tap") && *i + 1 < argc && g_ntaps < 256) {
		g_taps[g_ntaps++] = argv[++*i];
		return 1;
	}
	if (!strcmp(argv[*i], "--tap-all")) {
		g_tap_all = 1;
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	Opts o = { 0 };
#ifdef SIGXFSZ
	/* over a file size limit (ulimit -f) a write fails with EFBIG and the
	 * temporaries are removed, as on a full disk, instead of a kill */
	signal(SIGXFSZ, SIG_IGN);
#endif
	if (argc > 1 && !strcmp(argv[1], "run"))
		return run_main(argc - 1, argv + 1);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage, stdout);
			return 0;
		} else if (!strcmp(a, "--version")) {
			printf("gptossc %s\n", GPTOSSC_VERSION);
			return 0;
		} else if (!strcmp(a, "-o") || !strcmp(a, "-n") || !strcmp(a, "-d")) {
			if (i + 1 >= argc)
				usage_error("%s needs an argument", a);
			const char *v = argv[++i];
			if (a[1] == 'o')
				o.out_c = v;
			else if (a[1] == 'n')
				o.prefix = v;
			else
				add_pin(&o, v);
		} else if (!strcmp(a, "--dump")) {
			o.dump = 1;
		} else if (!strncmp(a, "--dump-after=", 13)) {
			o.dump_after = a + 13;
		} else if (!strcmp(a, "--stats")) {
			o.stats = 1;
		} else if (parse_weights_option(argc, argv, &i)) {
		} else if (!strcmp(a, "--threads")) {
			if (i + 1 >= argc || atoi(argv[i + 1]) < 1 || atoi(argv[i + 1]) > 64)
				usage_error("--threads wants a number from 1 to 64");
			g_threads = atoi(argv[++i]);
		} else if (!strcmp(a, "--embed-weights")) {
			o.embed_weights = 1;
		} else if (!strcmp(a, "--static-arena")) {
			o.static_arena = 1;
		} else if (!strcmp(a, "--tap")) {
			if (i + 1 >= argc || g_ntaps == 256)
				usage_error("--tap needs a value name");
			g_taps[g_ntaps++] = argv[++i];
		} else if (!strcmp(a, "--tap-all")) {
			g_tap_all = 1;
		} else if (!strcmp(a, "--main")) {
			o.with_main = 1;
		} else if (!strcmp(a, "--kv-cache")) {
			g_kv_mode = KV_REQUIRE;
		} else if (!strcmp(a, "--no-kv-cache")) {
			g_kv_mode = KV_OFF;
		} else if (!strcmp(a, "--no-fold")) {
			o.no_fold = 1;
		} else if (!strcmp(a, "--no-chains")) {
			g_no_chains = 1;
		} else if (a[0] == '-' && a[1]) {
			usage_error("unknown option '%s'", a);
		} else if (o.input) {
			usage_error("more than one model given ('%s' and '%s')", o.input, a);
		} else {
			o.input = a;
		}
	}
	if (!o.input)
		usage_error("no model given");
	if (!o.out_c && !o.dump && !o.stats && !o.dump_after)
		usage_error("no output given (-o model.c), and neither --dump nor --stats");
	if (o.out_c) {
		size_t n = strlen(o.out_c);
		if (n < 3 || strcmp(o.out_c + n - 2, ".c"))
			usage_error("-o wants a file name ending in .c, got '%s'", o.out_c);
		/* never write over the model (or its external data) */
		char *stem = fmt("%.*s", (int)(n - 2), o.out_c);
		const char *outs[] = { o.out_c, fmt("%s.h", stem), fmt("%s.bin", stem), fmt("%s_main.c", stem),
				       fmt("%s_blob.c", stem), fmt("%s_blob.S", stem), NULL };
		char *in_real = realpath(o.input, NULL);
		for (int k = 0; in_real && outs[k]; k++) {
			char *r = realpath(outs[k], NULL);
			if (r && !strcmp(r, in_real))
				usage_error("output %s would overwrite the model %s", outs[k], o.input);
		}
	}
	if (o.prefix && !valid_prefix(o.prefix))
		usage_error("-n '%s' is not a C identifier", o.prefix);
	Graph *g = compile_graph(o.input, o.pin_names, o.pin_vals, o.npins, o.no_fold, o.dump_after);
	if (g->kv_note && !o.dump_after)
		fprintf(stderr, "gptossc: %s: note: no incremental entry point (NAME_step, --kv-cache): %s\n",
			o.input, g->kv_note);
	if (o.dump)
		dump_graph(g, stdout);
	if (o.stats)
		print_stats(g, stdout);
	if (o.out_c) {
		EmitOpts eo = { o.out_c, o.prefix ? o.prefix : default_prefix(o.out_c), o.with_main,
				o.embed_weights, o.static_arena };
		write_outputs(g, &eo);
	}
	return 0;
}
