/* graph.c: building blocks of the IR shared by every pass: creating nodes
 * and values, reading attributes, reading constant data. */
#include "gptossc.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

Node *node_new(Graph *g)
{
	Node *n = xcalloc(1, sizeof *n);
	node_push(g, n);
	return n;
}

void node_push(Graph *g, Node *n)
{
	if (g->nnodes == g->capnodes) {
		g->capnodes = g->capnodes ? 2 * g->capnodes : 256;
		g->nodes = xrealloc(g->nodes, g->capnodes * sizeof *g->nodes);
	}
	g->nodes[g->nnodes++] = n;
}

Value *value_new(Graph *g, const char *name)
{
	Value *v = xcalloc(1, sizeof *v);
	v->name = xstrdup(name);
	v->rank = -1;
	v->input_index = v->output_index = -1;
	if (g->nvalues == g->capvalues) {
		g->capvalues = g->capvalues ? 2 * g->capvalues : 256;
		g->values = xrealloc(g->values, g->capvalues * sizeof *g->values);
	}
	g->values[g->nvalues++] = v;
	return v;
}

/* A scratch tensor a lowering needs between two kernel calls. */
Value *temp_value(Graph *g, int dtype, int rank, const int64_t *dims)
{
	static int ntemp;
	Value *v = value_new(g, fmt("tmp_%d", ntemp++));
	v->cname = v->name;
	set_shape(v, dtype, rank, dims);
	return v;
}

void set_shape(Value *v, int dtype, int rank, const int64_t *dims)
{
	v->dtype = dtype;
	v->rank = rank;
	for (int i = 0; i < rank; i++)
		v->dims[i] = dims[i];
}

Onnx__AttributeProto *attr_get(const Node *n, const char *name)
{
	for (int i = 0; i < n->nattr; i++)
		if (!strcmp(n->attr[i]->name, name))
			return n->attr[i];
	return NULL;
}

int64_t attr_i(const Node *n, const char *name, int64_t def)
{
	Onnx__AttributeProto *a = attr_get(n, name);
	if (!a)
		return def;
	if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)
		node_fatal(n, "attribute '%s' must be an int", name);
	return a->i;
}

double attr_f(const Node *n, const char *name, double def)
{
	Onnx__AttributeProto *a = attr_get(n, name);
	if (!a)
		return def;
	if (a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)
		return (double)a->i;
	if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT)
		node_fatal(n, "attribute '%s' must be a float", name);
	return a->f;
}

const char *attr_s(const Node *n, const char *name, const char *def)
{
	Onnx__AttributeProto *a = attr_get(n, name);
	if (!a)
		return def;
	if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING)
		node_fatal(n, "attribute '%s' must be a string", name);
	char *s = xcalloc(a->s.len + 1, 1);
	if (a->s.len)
		memcpy(s, a->s.data, a->s.len);
	return s;
}

int attr_ints(const Node *n, const char *name, int64_t *out, int max)
{
	Onnx__AttributeProto *a = attr_get(n, name);
	if (!a)
		return -1;
	if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS)
		node_fatal(n, "attribute '%s' must be a list of ints", name);
	if ((int)a->n_ints > max)
		node_fatal(n, "attribute '%s' has %zu values, at most %d supported", name, a->n_ints, max);
	for (size_t i = 0; i < a->n_ints; i++)
		out[i] = a->ints[i];
	return (int)a->n_ints;
}

Value *node_in(const Node *n, int i)
{
	return i < n->nin ? n->in[i] : NULL;
}

int value_is_const(const Value *v)
{
	return v && v->is_const;
}

/* Constant data in memory; external data is read on first use (so only
 * the tensors a fold or a check needs are ever resident). */
void *value_data(Graph *g, Value *v)
{
	if (v->data || !v->is_const)
		return v->data;
	if (v->ext_path) {
		int64_t len = nbytes(v);
		unsigned char *buf = xcalloc(len ? len : 1, 1);
		ConstReader rd = const_reader(g, v);
		const_read(&rd, 0, len, buf);
		const_reader_close(&rd);
		v->data = buf;
	}
	return v->data;
}

int64_t const_int(Graph *g, Value *v, int64_t i)
{
	return rt_geti(value_data(g, v), v->dtype, i);
}

double const_float(Graph *g, Value *v, int64_t i)
{
	return rt_getf(value_data(g, v), v->dtype, i);
}

/* A new scalar constant (used by lowerings that need one). */
Value *const_scalar(Graph *g, int dtype, double x)
{
	Value *v = temp_value(g, dtype, 0, NULL);
	v->is_const = 1;
	v->data = xcalloc(16, 1);
	rt_setf(v->data, dtype, 0, x);
	return v;
}

/* Random access to a constant's bytes: in memory, or its external data
 * file mapped read-only, so that reading a weight copies nothing through
 * the kernel (const_chunks), or through pread (const_read).  Mapped pages
 * count in the resident set until dropped (drop_pages; they stay in the
 * page cache), which is how streaming an 11 GB data file keeps the
 * compiler small. */
ConstReader const_reader(Graph *g, Value *v)
{
	ConstReader r = { v, NULL, NULL, 0, -1 };
	if (v->data || !v->ext_path) {
		r.data = value_data(g, v);
		return r;
	}
	int64_t len = nbytes(v), page = sysconf(_SC_PAGESIZE);
	int fd = open(v->ext_path, O_RDONLY);
	struct stat st;
	if (fd < 0)
		fatal("external data of '%s': cannot open %s", v->name, v->ext_path);
	/* mapped bytes past the end of the file would fault (SIGBUS) */
	if (fstat(fd, &st) || v->ext_off > st.st_size || len > st.st_size - v->ext_off)
		fatal("external data of '%s': %s is too short", v->name, v->ext_path);
	int64_t lead = v->ext_off % page; /* mappings start on a page */
	r.maplen = lead + len;
	if (len) {
		r.map = mmap(NULL, r.maplen, PROT_READ, MAP_PRIVATE, fd, v->ext_off - lead);
		if (r.map == MAP_FAILED)
			fatal("external data of '%s': cannot map %s: %s", v->name, v->ext_path, strerror(errno));
	}
	r.fd = fd;
	r.data = r.map ? r.map + lead : (const unsigned char *)"";
	return r;
}

/* Bytes [off, off + len) of the constant, copied with pread for external
 * data: the strided readers (a block of columns, a piece of every row)
 * would otherwise map a page-cache folio around each piece, which with
 * large folios is the whole file (seen: 2.4 GB resident for a 2.4 GB
 * weight on Linux 6.18). */
void const_read(ConstReader *r, int64_t off, int64_t len, void *dst)
{
	if (r->fd < 0) {
		memcpy(dst, r->data + off, len);
		return;
	}
	for (int64_t done = 0; done < len;) {
		ssize_t k = pread(r->fd, (unsigned char *)dst + done, len - done, r->v->ext_off + off + done);
		if (k <= 0)
			fatal("external data of '%s': %s is too short", r->v->name, r->v->ext_path);
		done += k;
	}
}

/* Drop the mapped pages of bytes [off, off + len) of the constant (the
 * pages wholly inside: a neighbour may still be read). */
static void drop_pages(ConstReader *r, int64_t off, int64_t len)
{
	if (!r->map)
		return;
	uintptr_t page = sysconf(_SC_PAGESIZE), a = (uintptr_t)(r->data + off), b = a + len;
	a = (a + page - 1) / page * page;
	b = b / page * page;
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

/* Map the pages of bytes [off, off + len) in one call rather than fault by
 * fault (where the kernel can: Linux 5.14 on; else the reads fault them). */
static void populate_pages(ConstReader *r, int64_t off, int64_t len)
{
#ifdef MADV_POPULATE_READ
	uintptr_t page = sysconf(_SC_PAGESIZE), a = (uintptr_t)(r->data + off), b = a + len;
	a = a / page * page;
	madvise((void *)a, b - a, MADV_POPULATE_READ);
#else
	(void)r, (void)off, (void)len;
#endif
}

void const_reader_close(ConstReader *r)
{
	if (r->map)
		munmap(r->map, r->maplen);
	if (r->fd >= 0)
		close(r->fd);
	r->map = NULL;
	r->fd = -1;
}

/* Mapped constants are visited in chunks of CHUNK bytes (a multiple of 128
 * bytes), each dropped from the mapping once visited: scanning or
 * converting a weight never needs it all in memory. */
#define CHUNK (4 << 20)

/* Chunk i of a mapped constant: fn's result.  Values are read as floats,
 * so an unaligned mapping goes through buf (CHUNK bytes). */
static int visit_chunk(ConstReader *rd, int64_t i, unsigned char *buf, chunk_fn fn, void *ctx)
{
	int64_t off = i * CHUNK, len = nbytes(rd->v), want = len - off < CHUNK ? len - off : CHUNK;
	const unsigned char *p = rd->data + off;
	populate_pages(rd, off, want);
	if ((uintptr_t)p % 4)
		p = memcpy(buf, p, want);
	int r = fn(ctx, p, off, want);
	drop_pages(rd, off, want);
	return r;
}

/* Visit a constant's bytes in chunks (all at once when in memory); fn
 * returns non-zero to stop. */
int const_chunks(Graph *g, Value *v, chunk_fn fn, void *ctx)
{
	int64_t len = nbytes(v);
	if (v->data || !v->ext_path)
		return fn(ctx, value_data(g, v), 0, len);
	ConstReader rd = const_reader(g, v);
	unsigned char *buf = (uintptr_t)rd.data % 4 ? xcalloc(CHUNK, 1) : NULL;
	int r = 0;
	for (int64_t i = 0; i * CHUNK < len && !r; i++)
		r = visit_chunk(&rd, i, buf, fn, ctx);
	free(buf);
	const_reader_close(&rd);
	return r;
}

/* const_scan's shared state: the next chunk to visit, and whether a chunk
 * has failed the check. */
typedef struct Scan {
	ConstReader *rd;
	chunk_fn fn;
	void *ctx;
	int64_t next, nchunks;
	int failed;
	pthread_mutex_t mu;
} Scan;

static void scan_chunks(Scan *s, unsigned char *buf)
{
	for (;;) {
		pthread_mutex_lock(&s->mu);
		int64_t i = s->failed ? s->nchunks : s->next++;
		pthread_mutex_unlock(&s->mu);
		if (i >= s->nchunks)
			return;
		if (visit_chunk(s->rd, i, buf, s->fn, s->ctx)) {
			pthread_mutex_lock(&s->mu);
			s->failed = 1;
			pthread_mutex_unlock(&s->mu);
		}
	}
}

static void *scan_thread(void *arg)
{
	Scan *s = arg;
	scan_chunks(s, (unsigned char *)(s + 1)); /* its buffer follows the state */
	return NULL;
}

/* Whether fn, a check of values without side effects, fails on some chunk
 * of v: const_chunks's answer, but a big external weight's chunks are
 * shared between two threads, whichever is free taking the next. */
int const_scan(Graph *g, Value *v, chunk_fn fn, void *ctx)
{
	int64_t len = nbytes(v);
	if (v->data || !v->ext_path || len < 16 * CHUNK || g_fatal_jmp)
		return const_chunks(g, v, fn, ctx) != 0;
	ConstReader rd = const_reader(g, v);
	Scan *s = xcalloc(1, sizeof *s + 2 * CHUNK); /* the state, then a buffer per thread */
	s->rd = &rd;
	s->fn = fn;
	s->ctx = ctx;
	s->nchunks = (len + CHUNK - 1) / CHUNK;
	pthread_mutex_init(&s->mu, NULL);
	pthread_t t;
	int threaded = !pthread_create(&t, NULL, scan_thread, s);
	scan_chunks(s, (unsigned char *)(s + 1) + CHUNK);
	if (threaded)
		pthread_join(t, NULL);
	int failed = s->failed;
	pthread_mutex_destroy(&s->mu);
	free(s);
	const_reader_close(&rd);
	return failed;
}

/* Bytes of a constant as stored in the blob (its weight format). */
int64_t stored_bytes(const Value *v)
{
	if (v->wfmt == RT_BF16 && v->dtype == RT_F32)
		return numel(v) * 2;
	if (v->wfmt == FMT_MXFP4)
		return numel(v) / 32 * 17;
	if (v->wfmt == FMT_Q8)
		return numel(v) / 32 * 36;
	return nbytes(v);
}
