/* gptossc.h: the one internal header of the compiler.
 *
 * The pipeline (main.c) runs these passes over one Graph, one file each:
 *
 *   load.c      ONNX protobuf -> Graph (node inputs/outputs still as names)
 *   inline.c    local functions expanded per call site
 *   uniquify.c  names resolved to Values (latest preceding definition wins),
 *               C identifiers assigned
 *   infer.c     dtype and static shape of every value (ops in op_*.c)
 *   fold.c      nodes whose inputs are all constant are executed now
 *   simplify.c  dead code, Identity/Dropout, duplicate constants
 *   fuse.c      MoE expert contractions, Linear and Embed as fused kernels
 *   kvcache.c   the one-position program behind NAME_step (a KV cache)
 *   chain.c     chains of float32 elementwise nodes as one kernel call
 *   attn.c      attention (Q.K, scale/mask, softmax, P.V) as one kernel call
 *   lower.c     every remaining node becomes kernel calls (Call)
 *   plan.c      arena offsets from liveness, blob layout of weights
 *   emit.c      model.c, model.h, model.bin
 *   run.c       `gptossc run`: emit to memory, compile with libtcc or cc, run
 *
 * The banners below double as the module map.
 */
#ifndef GPTOSSC_H
#define GPTOSSC_H
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "onnx.pb-c.h"
#include "../runtime/rt.h"

#define GPTOSSC_VERSION "0.1.0"
#define MAXT 24 /* tensors per kernel call */

typedef struct Graph Graph;
typedef struct Node Node;
typedef struct Value Value;
typedef struct OpDef OpDef;
typedef struct Call Call;

/* Where a value lives at run time (set by plan.c). */
enum { LOC_NONE, LOC_ARENA, LOC_BLOB, LOC_INPUT, LOC_OUTPUT, LOC_STATE, LOC_STEP_IN };

struct Value {
	char *name;  /* ONNX name; unique once uniquify ran */
	char *cname; /* C identifier */
	int dtype;   /* RT_* code; 0 while unknown */
	int rank;    /* -1 while unknown */
	int64_t dims[RT_MAXDIM];
	Node *producer;
	int input_index;  /* >= 0 for graph inputs */
	int output_index; /* >= 0 for graph outputs */
	int nuses;

	/* constants: data in memory, or still in an external file */
	int is_const;
	void *data;
	char *ext_path;
	int64_t ext_off;
	int folded; /* computed by fold.c */
	int wfmt;   /* weights: format in the blob (RT_F32, RT_BF16, FMT_MXFP4, FMT_Q8); 0 = dtype */
	int banded; /* a [K,N] weight stored as bands of RT_LINEAR_BAND columns (fuse.c) */
	int transposed; /* a [K,N] weight stored as [N,K] rows, for a row-block format (fuse.c) */

	/* plan.c */
	int loc;
	int64_t off;
	Value *alias; /* shares the storage of this value (Reshape and kin) */
	int first_def, last_use;

	void *kv; /* kvcache.c, while it runs */
};

struct Node {
	char *name, *op, *domain;
	int nin, nout;
	char **in_names, **out_names;
	Value **in, **out; /* after uniquify; NULL for an omitted optional input */
	int nattr;
	Onnx__AttributeProto **attr;
	int opset; /* of the node's domain */
	const OpDef *def;
	int dead;
	int alias; /* output 0 may share input 0's storage (set by infer) */
	char *aux; /* fused nodes: what the pattern matched (fuse.c) */
	int64_t *prog; /* EwChain: rt_ew_chain's parameters (chain.c) */
	int nprog;
};

struct Graph {
	const char *path; /* model file */
	char *dir;        /* its folder, for external data */
	Onnx__ModelProto *model;
	unsigned char *file_buf;
	size_t file_len;
	int opset; /* default domain */

	Node **nodes;
	int nnodes, capnodes;
	Value **values;
	int nvalues, capvalues;
	Value **inputs, **outputs;
	int ninputs, noutputs;
	char **output_names; /* before uniquify */

	/* dims pinned with -d NAME=VALUE */
	char **pin_names;
	int64_t *pin_vals;
	int npins;
	/* symbolic dims seen on inputs, for error messages */

	/* statistics */
	int nfolded;
	int64_t folded_bytes;

	/* lowered program */
	Call *calls;
	int ncalls, capcalls;
	int64_t arena_bytes, blob_bytes, tensor_bytes_sum;
	Value **blobvals; /* constants in the blob, in blob order */
	int nblob;
	uint64_t hash;

	/* kvcache.c: the one-position program (NAME_step), after the full
	 * window's nodes and calls */
	int has_step;
	int step_first_node, step_first_call;
	Value *step_in[2];  /* the token at pos [1] or [1,1], pos int64[1] */
	Value **step_out;   /* per graph output: its row at pos */
	Value **statevals;  /* the caches (LOC_STATE) */
	Value **statesrc;   /* the full window's value each cache holds */
	int nstate;
	int64_t state_bytes, window;
	char *kv_note; /* why there is no step program, when there is none */
};

/* util.c */
extern const char *g_file; /* model path, for messages */
extern jmp_buf *g_fatal_jmp;
extern int g_quiet;
/* run.c: graph inputs given as constants (gptossc run binds small integer inputs) */
extern char **g_bind_names;
extern Onnx__TensorProto **g_bind_tensors;
extern int g_nbind;
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal(const char *f, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void node_fatal(const Node *n, const char *f, ...) __attribute__((format(printf, 2, 3)));
void usage_error(const char *f, ...) __attribute__((format(printf, 1, 2)));
void cleanup_register(const char *tmp_path);
void cleanup_unregister(const char *tmp_path);
uint64_t fnv1a(uint64_t h, const void *p, size_t n);
const char *dtype_name(int dt);
int64_t numel(const Value *v);
int64_t nbytes(const Value *v);
char *shape_str(const Value *v);

/* Hash map from string to pointer. */
typedef struct Map {
	char **keys;
	void **vals;
	int cap, len;
} Map;
void *map_get(Map *m, const char *k);
void map_put(Map *m, const char *k, void *v);

/* graph.c */
Node *node_new(Graph *g);
void node_push(Graph *g, Node *n);
Value *value_new(Graph *g, const char *name);
Value *temp_value(Graph *g, int dtype, int rank, const int64_t *dims);
Onnx__AttributeProto *attr_get(const Node *n, const char *name);
int64_t attr_i(const Node *n, const char *name, int64_t def);
double attr_f(const Node *n, const char *name, double def);
const char *attr_s(const Node *n, const char *name, const char *def);
int attr_ints(const Node *n, const char *name, int64_t *out, int max); /* -1 if absent */
Value *node_in(const Node *n, int i); /* NULL when absent or omitted */
void *value_data(Graph *g, Value *v); /* loads constant data lazily */
int64_t const_int(Graph *g, Value *v, int64_t i);
double const_float(Graph *g, Value *v, int64_t i);
int value_is_const(const Value *v);
typedef int (*chunk_fn)(void *ctx, const void *data, int64_t off, int64_t len);
int const_chunks(Graph *g, Value *v, chunk_fn fn, void *ctx);
int const_scan(Graph *g, Value *v, chunk_fn fn, void *ctx); /* fn fails on some chunk (two threads) */
typedef struct ConstReader {
	Value *v;
	const unsigned char *data; /* the constant's bytes, in memory or mapped */
	unsigned char *map;        /* the mapping of external data, or NULL */
	size_t maplen;
	int fd;                    /* the external data file (const_read), or -1 */
} ConstReader;
ConstReader const_reader(Graph *g, Value *v);
void const_read(ConstReader *r, int64_t off, int64_t len, void *dst); /* copied, never mapped */
void const_reader_close(ConstReader *r);
#define FMT_MXFP4 100 /* = RT_FMT_MXFP4 of runtime/fused.c */
#define FMT_Q8 101    /* = RT_FMT_Q8: blocks of 32 along a row, f32 scale + 32 int8 (lossy) */
int64_t stored_bytes(const Value *v);
void set_shape(Value *v, int dtype, int rank, const int64_t *dims);

/* load.c */
Graph *load_model(const char *path, char **pin_names, int64_t *pin_vals, int npins);
Graph *load_model_buffer(const char *path, unsigned char *buf, size_t len, char **pin_names, int64_t *pin_vals,
			 int npins);
Node *node_from_proto(Graph *g, Onnx__NodeProto *p, Onnx__OperatorSetIdProto **ops, size_t nops);
int tensor_proto_to_value(Graph *g, Value *v, Onnx__TensorProto *t, const char *what);
Onnx__TensorProto *read_tensor_pb(const char *path, unsigned char **buf);

/* inline.c */
void inline_functions(Graph *g);

/* uniquify.c */
void uniquify(Graph *g);

/* infer.c and fold.c: one walk, node by node */
void infer_and_fold(Graph *g, int fold);
void infer_node(Graph *g, Node *n);
int fold_node(Graph *g, Node *n);

/* simplify.c */
void simplify(Graph *g);

/* fuse.c */
enum { WEIGHTS_AUTO, WEIGHTS_F32, WEIGHTS_BF16, WEIGHTS_Q8 };
extern int g_weights_mode;
extern int g_threads;
void fuse(Graph *g);
void encode_chunk(int wfmt, const float *src, int64_t n, unsigned char *dst);

/* kvcache.c */
enum { KV_AUTO, KV_OFF, KV_REQUIRE };
extern int g_no_chains;
void fuse_chains(Graph *g);
char *chain_expr(const Node *n);
char *chain_prog_expr(const int64_t *prog, char **leaf);
int is_protected(Graph *g, Value *v);
int chain_leaf(Graph *g, Value *out, Value *u, int64_t *q);
/* attn.c */
void fuse_attention(Graph *g);
char *attn_expr(const Node *n);
void count_uses(Graph *g);
extern int g_kv_mode;
void kvcache(Graph *g);

/* lower.c */
struct Call {
	const char *kernel;
	Node *node;
	int nt;
	Value *t[MAXT];
	int nin; /* t[0..nin) are read, the rest written */
	int par; /* != 0: runs in parallel with the neighbouring calls of the same group */
	int for_state; /* plan.c: the caches of the step program need it */
	int np, capp;
	int64_t *p;
};
Call *call_new(Graph *g, Node *n, const char *kernel);
void call_in(Call *c, Value *v);
void call_out(Call *c, Value *v);
void call_p(Call *c, int64_t x);
void call_pf(Call *c, double x);
void call_pv(Call *c, const int64_t *x, int n);
void lower(Graph *g);
void lower_node(Graph *g, Node *n);

/* kernels.c: the runtime kernels linked into the compiler */
rt_kernel kernel_fn(const char *name);
const char *kernel_file(const char *name);
const char *runtime_source(const char *file);

/* op_matmul.c */
int einsum_labels(Node *n, int *nlab, int (*lab)[RT_MAXDIM]);

/* op_reduce.c */
int reduce_mask(Graph *g, Node *n, int *mask);

/* plan.c */
#define STATE_HEADER 64 /* NAME_step's state: a header, then the caches */
#define BLOB_HEADER 64
#define BLOB_ENTRY 136
#define BLOB_VERSION 2 /* 2: banded linear weights */
void plan(Graph *g);
Value *root(Value *v);

/* emit.c */
typedef struct EmitOpts {
	const char *out_c;  /* model.c */
	const char *prefix; /* -n NAME */
	int with_main;
	int embed_weights, static_arena;
} EmitOpts;
char *emit_c(Graph *g, const EmitOpts *o, char **header);
void write_outputs(Graph *g, const EmitOpts *o);
void write_blob(Graph *g, const char *path);
unsigned char *blob_to_memory(Graph *g, size_t *len);

/* dump.c */
void dump_graph(Graph *g, FILE *f);
void print_stats(Graph *g, FILE *f);

/* run.c */
int run_main(int argc, char **argv);

/* main.c */
int parse_tap_option(int argc, char **argv, int *i);
int parse_weights_option(int argc, char **argv, int *i);
Graph *compile_graph(const char *path, char **pin_names, int64_t *pin_vals, int npins,
		     int no_fold, const char *dump_after);

/* ops.c: the op table */
typedef void (*infer_fn)(Graph *g, Node *n);
typedef void (*lower_fn)(Graph *g, Node *n);
struct OpDef {
	const char *name;
	int min_in, max_in, min_out, max_out;
	infer_fn infer;
	lower_fn lower;
};
const OpDef *op_find(const char *domain, const char *name);
void check_ops(Graph *g);

/* Shape helpers for op files */
int broadcast_shapes(int ra, const int64_t *da, int rb, const int64_t *db, int64_t *out);
void need_rank(Node *n, int i, int lo, int hi);
int64_t norm_axis(Node *n, int64_t axis, int rank);
void bcast_strides(const Value *v, int rank, const int64_t *dims, int64_t *strides);
void contig_strides(int rank, const int64_t *dims, int64_t *strides);
int bcast_plan(const Value *out, Value *const *vs, int nv, int64_t *dims, int64_t (*st)[RT_MAXDIM]);
Value *const_scalar(Graph *g, int dtype, double x);

#endif
