/* fuzz_frontend.c: libFuzzer harness over gptossc's whole front end.
 *
 * One input = the bytes of an ONNX model.  It goes through the same passes
 * as compile_graph() (main.c) and then emit_c() to C text in memory:
 *
 *   load_model_buffer, inline_functions, check_ops, uniquify,
 *   infer_and_fold (constant folding runs the runtime kernels),
 *   simplify, fuse, lower, plan, emit_c
 *
 * Every fatal error longjmps back here (g_fatal_jmp), so a rejected model is
 * an ordinary, uninteresting outcome; crashes, sanitizer reports, hangs and
 * unbounded memory are the findings.
 *
 * The compiler frees nothing (one compilation per process).  To keep a long
 * fuzzing run from growing without bound, the harness is linked with
 * -Wl,--wrap=malloc,calloc,realloc,free,vasprintf,open,onnx__model_proto__unpack
 * (see run.sh): every block, descriptor and unpacked model the compiler
 * objects obtain during one input is recorded and released afterwards.
 * The same wrappers bound the work: one allocation over FUZZ_MAX_ALLOC bytes
 * (64 MiB) fails, which the compiler reports as "out of memory" (a fatal
 * error, hence a clean rejection): folding a giant ConstantOfShape is not a
 * bug, only slow.
 *
 * The model "lives" at <tmp>/model.onnx where <tmp> is a temporary copy of
 * models/tiny, so the external data of models/tiny/tiny.onnx resolves (and
 * mutated external references hit real files).  GPTOSSC_TOP (environment)
 * or -DGPTOSSC_TOP=... names the source tree.
 *
 * Standalone use (no libFuzzer, e.g. to replay with gdb): build with
 * -DFUZZ_STANDALONE and pass files as arguments.
 */
#include "gptossc.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef GPTOSSC_TOP
#define GPTOSSC_TOP "."
#endif
#define FUZZ_MAX_ALLOC ((size_t)64 << 20)

/* ---- allocation and descriptor tracking (linker --wrap) ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
int __real_vasprintf(char **s, const char *f, va_list ap);
int __real_open(const char *path, int flags, ...);
Onnx__ModelProto *__real_onnx__model_proto__unpack(ProtobufCAllocator *a, size_t len, const uint8_t *data);

static int tracking; /* only while an input is processed */

/* open-addressing hash set of live blocks */
static void **live;
static size_t live_cap, live_len;

static size_t slot_of(void *p)
{
	uintptr_t h = (uintptr_t)p;
	h ^= h >> 17;
	h *= 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 20) & (live_cap - 1);
}

#define TOMB ((void *)1)

static void live_add(void *p);

static void live_grow(void)
{
	void **old = live;
	size_t oc = live_cap;
	live_cap = live_cap ? live_cap * 2 : 1 << 16;
	live = __real_calloc(live_cap, sizeof *live);
	if (!live)
		abort();
	live_len = 0;
	for (size_t i = 0; i < oc; i++)
		if (old[i] && old[i] != TOMB)
			live_add(old[i]);
	__real_free(old);
}

static void live_add(void *p)
{
	if (!p)
		return;
	if ((live_len + 1) * 2 > live_cap)
		live_grow();
	size_t i = slot_of(p);
	while (live[i] && live[i] != TOMB)
		i = (i + 1) & (live_cap - 1);
	live[i] = p;
	live_len++;
}

/* 1 if p was tracked (and is forgotten now) */
static int live_del(void *p)
{
	if (!p || !live_cap)
		return 0;
	size_t i = slot_of(p);
	while (live[i]) {
		if (live[i] == p) {
			live[i] = TOMB;
			live_len--; /* tombstones are cleared by live_release */
			return 1;
		}
		i = (i + 1) & (live_cap - 1);
	}
	return 0;
}

static void live_release(void)
{
	for (size_t i = 0; i < live_cap; i++) {
		if (live[i] && live[i] != TOMB)
			__real_free(live[i]);
		live[i] = NULL;
	}
	live_len = 0;
}

void *__wrap_malloc(size_t n)
{
	if (tracking && n > FUZZ_MAX_ALLOC)
		return NULL;
	void *p = __real_malloc(n);
	if (tracking)
		live_add(p);
	return p;
}

void *__wrap_calloc(size_t n, size_t s)
{
	if (tracking && s && n > FUZZ_MAX_ALLOC / s)
		return NULL;
	void *p = __real_calloc(n, s);
	if (tracking)
		live_add(p);
	return p;
}

void *__wrap_realloc(void *p, size_t n)
{
	if (tracking && n > FUZZ_MAX_ALLOC)
		return NULL;
	int had = tracking && live_del(p);
	void *q = __real_realloc(p, n);
	if (!q && had)
		live_add(p); /* realloc failed: p is still live */
	if (tracking && q)
		live_add(q);
	return q;
}

void __wrap_free(void *p)
{
	if (tracking)
		live_del(p);
	__real_free(p);
}

int __wrap_vasprintf(char **s, const char *f, va_list ap)
{
	int r = __real_vasprintf(s, f, ap);
	if (tracking && r >= 0)
		live_add(*s);
	return r;
}

static int fds[256], nfds;

int __wrap_open(const char *path, int flags, ...)
{
	int mode = 0;
	if (flags & O_CREAT) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, int);
		va_end(ap);
	}
	int fd = __real_open(path, flags, mode);
	if (tracking && fd >= 0 && nfds < 256)
		fds[nfds++] = fd;
	return fd;
}

static Onnx__ModelProto *models[8];
static int nmodels;

Onnx__ModelProto *__wrap_onnx__model_proto__unpack(ProtobufCAllocator *a, size_t len, const uint8_t *data)
{
	Onnx__ModelProto *m = __real_onnx__model_proto__unpack(a, len, data);
	if (tracking && m && nmodels < 8)
		models[nmodels++] = m;
	return m;
}

static void release_all(void)
{
	live_release();
	for (int i = 0; i < nmodels; i++)
		onnx__model_proto__free_unpacked(models[i], NULL);
	nmodels = 0;
	for (int i = 0; i < nfds; i++)
		close(fds[i]); /* value_data leaks its descriptor on a fatal error */
	nfds = 0;
}

/* ---- the model's folder: a copy of models/tiny ---- */

static char model_path[4096];
static int no_filter; /* FUZZ_NO_FILTER=1 */

static void copy_file(const char *from, const char *to)
{
	FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
	if (!a || !b) {
		fprintf(stderr, "fuzz_frontend: cannot copy %s to %s\n", from, to);
		exit(1);
	}
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, a)) > 0)
		fwrite(buf, 1, n, b);
	fclose(a);
	fclose(b);
}

static char tmpdir[4096];

static void remove_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	if (!d)
		return;
	struct dirent *e;
	char p[8192];
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(tmpdir);
}

static void setup(void)
{
	const char *top = getenv("GPTOSSC_TOP");
	if (!top)
		top = GPTOSSC_TOP;
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/gptossc-fuzz-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("fuzz_frontend: mkdtemp");
		exit(1);
	}
	atexit(remove_tmpdir);
	char src[8192], dst[8192];
	snprintf(src, sizeof src, "%s/models/tiny", top);
	DIR *d = opendir(src);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.') {
				snprintf(src, sizeof src, "%s/models/tiny/%s", top, e->d_name);
				snprintf(dst, sizeof dst, "%s/%s", tmpdir, e->d_name);
				copy_file(src, dst);
			}
		closedir(d);
	} else {
		fprintf(stderr, "fuzz_frontend: %s missing: external data will not resolve\n", src);
	}
	snprintf(model_path, sizeof model_path, "%s/model.onnx", tmpdir);
	no_filter = getenv("FUZZ_NO_FILTER") && *getenv("FUZZ_NO_FILTER") == '1';
	/* the compiler's messages are noise here: run.sh passes -close_fd_mask=2
	 * (libFuzzer and the sanitizers keep a private copy of stderr) */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setup();
	return 0;
}

/* Bounded work: graph inputs of more than FUZZ_MAX_INPUT elements are
 * skipped.  Huge declared input dims are a known bug (numel overflows, see
 * regressions/KNOWN) that would otherwise be hit over and over; replays
 * set FUZZ_NO_FILTER=1 so the reproducers still reach it. */
#define FUZZ_MAX_INPUT 100000000.0

static int inputs_too_big(Graph *g)
{
	for (int i = 0; i < g->ninputs; i++) {
		double n = 1;
		for (int d = 0; d < g->inputs[i]->rank; d++)
			n *= (double)g->inputs[i]->dims[d];
		if (n > FUZZ_MAX_INPUT)
			return 1;
	}
	return 0;
}

/* volatile: modified between setjmp and longjmp */
static volatile size_t emitted;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (4u << 20))
		return 0;
	jmp_buf jb;
	tracking = 1;
	g_fatal_jmp = &jb;
	if (!setjmp(jb)) {
		unsigned char *buf = malloc(size ? size : 1);
		memcpy(buf, data, size);
		Graph *g = load_model_buffer(model_path, buf, size, NULL, NULL, 0);
		if (!no_filter && inputs_too_big(g))
			goto done;
		inline_functions(g);
		check_ops(g);
		uniquify(g);
		infer_and_fold(g, 1);
		simplify(g);
		fuse(g);
		lower(g);
		plan(g);
		char *hdr = NULL;
		EmitOpts eo = { .out_c = NULL, .prefix = "m" };
		char *c = emit_c(g, &eo, &hdr);
		emitted += (c ? strlen(c) : 0) + (hdr ? strlen(hdr) : 0);
	}
done:
	g_fatal_jmp = NULL;
	tracking = 0;
	release_all();
	return 0;
}

/* ---- structure-aware mutation ----
 *
 * Half of the mutations unpack the model with protobuf-c, change it in
 * place and pack it again, so they stay valid protobuf and reach the
 * shape rules instead of dying in the parser.  Only scalars are rewritten,
 * counts shrunk or pointers swapped (each allocation stays owned once),
 * so free_unpacked still releases everything.  The rest are libFuzzer's
 * byte mutations (LLVMFuzzerMutate). */
#ifndef FUZZ_STANDALONE
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static uint64_t rng;
static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? rng % n : 0;
}

static int64_t edge_int(void)
{
	static const int64_t e[] = { 0, 1, -1, 2, -2, 3, 4, 7, 8, 16, 64, 1000, -1000, INT32_MAX, INT32_MIN,
				     (int64_t)1 << 40, INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1 };
	return e[rnd(sizeof e / sizeof *e)];
}

static void mutate_ints(int64_t *v, size_t *n)
{
	if (!*n)
		return;
	if (rnd(5) == 0)
		*n = rnd(*n); /* drop trailing values */
	else if (rnd(3) == 0)
		v[rnd(*n)] += rnd(2) ? 1 : -1;
	else
		v[rnd(*n)] = edge_int();
}

static void mutate_tensor(Onnx__TensorProto *t)
{
	if (!t)
		return;
	switch (rnd(5)) {
	case 0:
		mutate_ints(t->dims, &t->n_dims);
		break;
	case 1: {
		static const int32_t dts[] = { 1, 2, 3, 5, 6, 7, 9, 10, 11, 12, 13, 16, 0, 8, 17, 99 };
		t->data_type = dts[rnd(sizeof dts / sizeof *dts)];
		break;
	}
	default: /* the values: shape constants, axes, indices */
		if (t->n_int64_data)
			mutate_ints(t->int64_data, &t->n_int64_data);
		else if (t->n_int32_data)
			t->int32_data[rnd(t->n_int32_data)] = (int32_t)edge_int();
		else if (t->n_float_data)
			t->float_data[rnd(t->n_float_data)] = rnd(2) ? 0.0f / 0.0f : (float)edge_int();
		else if (t->has_raw_data && t->raw_data.len >= 8 && t->data_type == 7) {
			int64_t x = edge_int();
			memcpy(t->raw_data.data + 8 * rnd(t->raw_data.len / 8), &x, 8);
		} else if (t->has_raw_data && t->raw_data.len)
			t->raw_data.data[rnd(t->raw_data.len)] ^= (uint8_t)(1 + rnd(255));
		break;
	}
}

static void mutate_attr(Onnx__AttributeProto *a)
{
	switch (rnd(6)) {
	case 0:
		a->i = edge_int();
		break;
	case 1:
		mutate_ints(a->ints, &a->n_ints);
		break;
	case 2:
		a->f = rnd(2) ? 0.0f / 0.0f : (float)edge_int();
		break;
	case 3:
		mutate_tensor(a->t);
		break;
	case 4: { /* the wrong type for the attribute's name */
		static const int types[] = { 1, 2, 3, 4, 5, 6, 7, 8, 0, 13 };
		a->type = types[rnd(sizeof types / sizeof *types)];
		a->has_type = 1;
		break;
	}
	default:
		if (a->n_floats)
			a->floats[rnd(a->n_floats)] = (float)edge_int();
		else if (a->has_s && a->s.len)
			a->s.len = rnd(a->s.len);
		break;
	}
}

static void swap_ptr(void **a, void **b)
{
	void *t = *a;
	*a = *b;
	*b = t;
}

static void mutate_graph(Onnx__ModelProto *m, Onnx__GraphProto *gp)
{
	size_t nn = gp->n_node;
	Onnx__NodeProto *n = nn ? gp->node[rnd(nn)] : NULL, *o = nn ? gp->node[rnd(nn)] : NULL;
	switch (rnd(12)) {
	case 0:
	case 1:
	case 2:
		if (n && n->n_attribute)
			mutate_attr(n->attribute[rnd(n->n_attribute)]);
		break;
	case 3:
		if (gp->n_initializer)
			mutate_tensor(gp->initializer[rnd(gp->n_initializer)]);
		break;
	case 4: /* a declared input/output dim or dtype */
		if (gp->n_input + gp->n_output) {
			size_t k = rnd(gp->n_input + gp->n_output);
			Onnx__ValueInfoProto *vi = k < gp->n_input ? gp->input[k] : gp->output[k - gp->n_input];
			if (vi->type && vi->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
				Onnx__TypeProto__Tensor *tt = vi->type->tensor_type;
				if (rnd(3) == 0)
					tt->elem_type = (int32_t)rnd(18);
				else if (tt->shape && tt->shape->n_dim) {
					Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[rnd(tt->shape->n_dim)];
					if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
						d->dim_value = rnd(2) ? (int64_t)rnd(9) : edge_int();
					else if (rnd(2))
						tt->shape->n_dim = rnd(tt->shape->n_dim);
				}
			}
		}
		break;
	case 5: /* rewire: an input of one node from another node's list */
		if (n && o && n->n_input && o->n_input + o->n_output) {
			size_t k = rnd(o->n_input + o->n_output);
			char **src = k < o->n_input ? &o->input[k] : &o->output[k - o->n_input];
			swap_ptr((void **)&n->input[rnd(n->n_input)], (void **)src);
		}
		break;
	case 6:
		if (n && o)
			swap_ptr((void **)&n->op_type, (void **)&o->op_type);
		break;
	case 7: /* reorder nodes */
		if (nn > 1)
			swap_ptr((void **)&gp->node[rnd(nn)], (void **)&gp->node[rnd(nn)]);
		break;
	case 8: /* drop trailing inputs or outputs */
		if (n && rnd(2) && n->n_input)
			n->n_input = rnd(n->n_input);
		else if (n && n->n_output)
			n->n_output = rnd(n->n_output);
		break;
	case 9:
		if (m->n_opset_import)
			m->opset_import[rnd(m->n_opset_import)]->version = rnd(2) ? (int64_t)rnd(25) : edge_int();
		break;
	case 10: /* swap attributes between nodes */
		if (n && o && n->n_attribute && o->n_attribute)
			swap_ptr((void **)&n->attribute[rnd(n->n_attribute)], (void **)&o->attribute[rnd(o->n_attribute)]);
		break;
	default: /* graph outputs */
		if (gp->n_output > 1 && rnd(2))
			gp->n_output = rnd(gp->n_output);
		else if (gp->n_output && n && n->n_output) {
			/* a missing optional name is NULL; a repeated string may not be */
			char **a = &gp->output[rnd(gp->n_output)]->name, **b = &n->output[rnd(n->n_output)];
			if (*a && *b)
				swap_ptr((void **)a, (void **)b);
		}
		break;
	}
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	rng = seed * 0x9E3779B97F4A7C15ull + 1;
	if (rnd(2) == 0)
		return LLVMFuzzerMutate(data, size, max_size);
	Onnx__ModelProto *m = __real_onnx__model_proto__unpack(NULL, size, data);
	if (!m || !m->graph) {
		if (m)
			onnx__model_proto__free_unpacked(m, NULL);
		return LLVMFuzzerMutate(data, size, max_size);
	}
	int steps = 1 + (int)rnd(3);
	for (int i = 0; i < steps; i++) {
		Onnx__GraphProto *gp = m->graph;
		if (m->n_functions && rnd(4) == 0) {
			/* a local function body mutates like a graph's nodes */
			Onnx__FunctionProto *f = m->functions[rnd(m->n_functions)];
			Onnx__GraphProto tmp = ONNX__GRAPH_PROTO__INIT;
			tmp.n_node = f->n_node;
			tmp.node = f->node;
			mutate_graph(m, &tmp);
			f->n_node = tmp.n_node;
		} else {
			mutate_graph(m, gp);
		}
	}
	size_t n = onnx__model_proto__get_packed_size(m);
	size_t r = size;
	if (n <= max_size)
		r = onnx__model_proto__pack(m, data);
	onnx__model_proto__free_unpacked(m, NULL);
	return n <= max_size ? r : LLVMFuzzerMutate(data, size, max_size);
}
#endif

#ifdef FUZZ_STANDALONE
int main(int argc, char **argv)
{
	setup();
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 1;
		}
		size_t cap = 1 << 16, n = 0, k;
		unsigned char *b = __real_malloc(cap);
		while ((k = fread(b + n, 1, cap - n, f)) > 0)
			if ((n += k) == cap)
				b = __real_realloc(b, cap *= 2);
		fclose(f);
		LLVMFuzzerTestOneInput(b, n);
		__real_free(b);
		printf("ok %s\n", argv[i]);
	}
	return 0;
}
#endif
