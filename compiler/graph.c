/* graph.c: building blocks of the IR shared by every pass: creating nodes
 * and values, reading attributes, reading constant data. */
#include "gptossc.h"
#include <fcntl.h>
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

/* Constant data in memory; external data is read on first use (pread,
 * so only the tensors a fold or a check needs are ever resident). */
void *value_data(Graph *g, Value *v)
{
	(void)g;
	if (v->data || !v->is_const)
		return v->data;
	if (v->ext_path) {
		int64_t len = nbytes(v);
		unsigned char *buf = xcalloc(len ? len : 1, 1);
		int fd = open(v->ext_path, O_RDONLY);
		if (fd < 0)
			fatal("external data of '%s': cannot open %s", v->name, v->ext_path);
		for (int64_t done = 0; done < len;) {
			ssize_t r = pread(fd, buf + done, len - done, v->ext_off + done);
			if (r <= 0)
				fatal("external data of '%s': %s is too short", v->name, v->ext_path);
			done += r;
		}
		close(fd);
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

/* Random access to a constant's bytes: in memory, or pread from its
 * external data file (opened once per reader, so that streaming a weight
 * in many small pieces does not reopen it). */
ConstReader const_reader(Graph *g, Value *v)
{
	ConstReader r = { g, v, -1 };
	if (!v->data && v->ext_path) {
		r.fd = open(v->ext_path, O_RDONLY);
		if (r.fd < 0)
			fatal("external data of '%s': cannot open %s", v->name, v->ext_path);
	}
	return r;
}

void const_read(ConstReader *r, int64_t off, int64_t len, void *dst)
{
	Value *v = r->v;
	if (r->fd < 0) {
		memcpy(dst, (const unsigned char *)value_data(r->g, v) + off, len);
		return;
	}
	for (int64_t done = 0; done < len;) {
		ssize_t k = pread(r->fd, (unsigned char *)dst + done, len - done, v->ext_off + off + done);
		if (k <= 0)
			fatal("external data of '%s': %s is too short", v->name, v->ext_path);
		done += k;
	}
}

void const_reader_close(ConstReader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

/* Visit a constant's bytes in chunks of at most 16 MiB (a multiple of 128
 * bytes), streaming external data with pread: scanning or converting a
 * weight never needs it all in memory. fn returns non-zero to stop. */
int const_chunks(Graph *g, Value *v, chunk_fn fn, void *ctx)
{
	int64_t len = nbytes(v);
	if (v->data || !v->ext_path)
		return fn(ctx, value_data(g, v), 0, len);
	ConstReader rd = const_reader(g, v);
	int64_t cap = len < (16 << 20) ? len : (16 << 20);
	unsigned char *buf = xcalloc(cap + 1, 1);
	int r = 0;
	for (int64_t off = 0; off < len && !r; off += cap) {
		int64_t want = len - off < cap ? len - off : cap;
		const_read(&rd, off, want, buf);
		r = fn(ctx, buf, off, want);
	}
	free(buf);
	const_reader_close(&rd);
	return r;
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
