/* load.c: read an ONNX file into a Graph.
 *
 * The .onnx file is read whole and unpacked with protobuf-c; the message
 * tree stays alive for the whole compilation, so raw_data of inline
 * tensors is used in place.  External data (`location`, `offset`,
 * `length`, relative to the model's folder) is only checked here (the file
 * exists, the range fits, the length matches the dims) and read later, a
 * tensor at a time, when a pass or the blob writer needs it: the
 * compiler's memory does not grow with the size of the .data file.
 */
#include "gptossc.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		fatal("cannot open %s", path);
	if (!S_ISREG(st.st_mode))
		fatal("%s is not a regular file", path);
	unsigned char *buf = xcalloc(st.st_size + 1, 1);
	size_t done = 0;
	while (done < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + done, st.st_size - done);
		if (r <= 0)
			fatal("cannot read %s", path);
		done += r;
	}
	close(fd);
	*len = done;
	return buf;
}

/* Elements and bytes of a tensor's dims, refusing negative dims and
 * overflow. */
static int64_t checked_numel(const int64_t *dims, size_t n, const char *what)
{
	int64_t e = 1;
	if (n > RT_MAXDIM)
		fatal("%s: rank %zu is above the supported %d", what, n, RT_MAXDIM);
	for (size_t i = 0; i < n; i++) {
		if (dims[i] < 0)
			fatal("%s: negative dim %lld", what, (long long)dims[i]);
		if (dims[i] && e > INT64_MAX / 16 / dims[i])
			fatal("%s: dims overflow", what);
		e *= dims[i];
	}
	return e;
}

static char *ext_entry(Onnx__TensorProto *t, const char *key)
{
	for (size_t i = 0; i < t->n_external_data; i++)
		if (t->external_data[i]->key && !strcmp(t->external_data[i]->key, key))
			return t->external_data[i]->value;
	return NULL;
}

static int64_t parse_int(const char *s, const char *what, const char *key)
{
	char *end;
	long long x;
	if (!s || !*s)
		return -1;
	x = strtoll(s, &end, 10);
	if (*end || x < 0)
		fatal("%s: external data %s '%s' is not a non-negative integer", what, key, s);
	return x;
}

/* A `location` must name a file inside the model's folder. */
static void check_location(const char *loc, const char *what)
{
	if (!*loc || loc[0] == '/')
		fatal("%s: external data location '%s' must be relative to the model's folder", what, loc);
	for (const char *p = loc; *p;) {
		const char *q = strchr(p, '/');
		size_t len = q ? (size_t)(q - p) : strlen(p);
		if (len == 2 && p[0] == '.' && p[1] == '.')
			fatal("%s: external data location '%s' escapes the model's folder", what, loc);
		p = q ? q + 1 : p + len;
	}
}

/* Fill a constant Value from a TensorProto. */
int tensor_proto_to_value(Graph *g, Value *v, Onnx__TensorProto *t, const char *what)
{
	int dt = t->data_type;
	int es = rt_dtype_size(dt);
	if (dt == RT_STR)
		fatal("%s: string tensors are not supported", what);
	if (!es)
		fatal("%s: unknown data type %d", what, dt);
	int64_t n = checked_numel(t->dims, t->n_dims, what);
	int64_t len = n * es;
	v->dtype = dt;
	v->rank = (int)t->n_dims;
	for (size_t i = 0; i < t->n_dims; i++)
		v->dims[i] = t->dims[i];
	v->is_const = 1;

	if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
		const char *loc = ext_entry(t, "location");
		if (!loc)
			fatal("%s: external data without a location", what);
		check_location(loc, what);
		int64_t off = parse_int(ext_entry(t, "offset"), what, "offset");
		int64_t l = parse_int(ext_entry(t, "length"), what, "length");
		if (off < 0)
			off = 0;
		char *path = fmt("%s/%s", g->dir, loc);
		struct stat st;
		if (stat(path, &st) < 0)
			fatal("%s: external data file %s is missing", what, path);
		if (l >= 0 && l != len)
			fatal("%s: external data length %lld does not match dims x dtype (%lld bytes)",
			      what, (long long)l, (long long)len);
		if (off > st.st_size || len > st.st_size - off)
			fatal("%s: external data range [%lld, %lld) is past the end of %s (%lld bytes)",
			      what, (long long)off, (long long)(off + len), path, (long long)st.st_size);
		v->ext_path = path;
		v->ext_off = off;
		return 0;
	}
	if (t->has_raw_data) {
		if ((int64_t)t->raw_data.len != len)
			fatal("%s: raw_data has %zu bytes, dims x dtype need %lld", what,
			      t->raw_data.len, (long long)len);
		v->data = t->raw_data.data;
		return 0;
	}
	/* typed fields */
	void *b = xcalloc(len ? len : 1, 1);
	size_t have;
	switch (dt) {
	case RT_F32:
		have = t->n_float_data;
		if ((int64_t)have == n && n)
			memcpy(b, t->float_data, len);
		break;
	case RT_F64:
		have = t->n_double_data;
		if ((int64_t)have == n && n)
			memcpy(b, t->double_data, len);
		break;
	case RT_I64:
		have = t->n_int64_data;
		if ((int64_t)have == n && n)
			memcpy(b, t->int64_data, len);
		break;
	case RT_U64: case RT_U32:
		have = t->n_uint64_data;
		if ((int64_t)have == n)
			for (int64_t i = 0; i < n; i++)
				rt_seti(b, dt, i, (int64_t)t->uint64_data[i]);
		break;
	default: /* int32_data carries every narrower type, f16 and bf16 as bits */
		have = t->n_int32_data;
		if ((int64_t)have == n)
			for (int64_t i = 0; i < n; i++) {
				if (es == 2)
					((uint16_t *)b)[i] = (uint16_t)t->int32_data[i];
				else
					rt_seti(b, dt, i, t->int32_data[i]);
			}
		break;
	}
	if ((int64_t)have != n)
		fatal("%s: has %zu values, dims need %lld", what, have, (long long)n);
	v->data = b;
	return 0;
}

Onnx__TensorProto *read_tensor_pb(const char *path, unsigned char **bufp)
{
	size_t len;
	unsigned char *buf = read_file(path, &len);
	Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, len, buf);
	if (!t)
		fatal("%s: not a TensorProto file", path);
	if (bufp)
		*bufp = buf;
	return t;
}

static int domain_opset(Onnx__OperatorSetIdProto **ops, size_t n, const char *domain)
{
	for (size_t i = 0; i < n; i++) {
		const char *d = ops[i]->domain ? ops[i]->domain : "";
		if (!strcmp(d, "ai.onnx"))
			d = "";
		if (!strcmp(d, domain))
			return (int)ops[i]->version;
	}
	return -1;
}

static char **dup_names(char **names, size_t n)
{
	char **r = xcalloc(n + 1, sizeof *r);
	for (size_t i = 0; i < n; i++)
		r[i] = xstrdup(names[i]);
	return r;
}

/* A NodeProto as a Node with names (uniquify links them); not yet in g. */
Node *node_from_proto(Graph *g, Onnx__NodeProto *p, Onnx__OperatorSetIdProto **ops, size_t nops)
{
	Node *n = xcalloc(1, sizeof *n);
	n->name = xstrdup(p->name);
	if (!p->op_type || !*p->op_type)
		fatal("node '%s' has no op_type", p->name ? p->name : "");
	n->op = xstrdup(p->op_type);
	n->domain = xstrdup(p->domain && strcmp(p->domain, "ai.onnx") ? p->domain : "");
	n->nin = (int)p->n_input;
	n->nout = (int)p->n_output;
	n->in_names = dup_names(p->input, p->n_input);
	n->out_names = dup_names(p->output, p->n_output);
	n->nattr = (int)p->n_attribute;
	n->attr = xcalloc(n->nattr + 1, sizeof *n->attr);
	for (int i = 0; i < n->nattr; i++) {
		n->attr[i] = p->attribute[i];
		if (!n->attr[i]->name || !*n->attr[i]->name)
			fatal("node '%s' (%s): attribute %d has no name", p->name ? p->name : "", p->op_type ? p->op_type : "?", i);
	}
	n->opset = domain_opset(ops, nops, n->domain);
	if (n->opset < 0 && !*n->domain)
		n->opset = g->opset;
	return n;
}

Graph *load_model(const char *path, char **pin_names, int64_t *pin_vals, int npins)
{
	size_t len;
	g_file = path;
	unsigned char *buf = read_file(path, &len);
	return load_model_buffer(path, buf, len, pin_names, pin_vals, npins);
}

/* The model's bytes already in memory (path names its folder, for
 * external data, and the file in messages). */
Graph *load_model_buffer(const char *path, unsigned char *buf, size_t len, char **pin_names, int64_t *pin_vals,
			 int npins)
{
	Graph *g = xcalloc(1, sizeof *g);
	g->pin_names = pin_names;
	g->pin_vals = pin_vals;
	g->npins = npins;
	g->path = path;
	g_file = path;
	const char *slash = strrchr(path, '/');
	g->dir = slash ? fmt("%.*s", (int)(slash - path), path) : xstrdup(".");
	g->file_buf = buf;
	g->file_len = len;
	if (!len)
		fatal("the file is empty (not an ONNX model)");
	g->model = onnx__model_proto__unpack(NULL, g->file_len, g->file_buf);
	if (!g->model)
		fatal("not an ONNX model (protobuf parse failed; truncated or another format?)");
	Onnx__ModelProto *m = g->model;
	Onnx__GraphProto *gp = m->graph;
	if (!gp)
		fatal("the model has no graph");
	g->opset = domain_opset(m->opset_import, m->n_opset_import, "");
	if (g->opset < 0)
		g->opset = 1;
	g->hash = fnv1a(0, g->file_buf, g->file_len);

	/* initializers: constant values, names must be unique */
	Map inits = { 0 };
	for (size_t i = 0; i < gp->n_initializer; i++) {
		Onnx__TensorProto *t = gp->initializer[i];
		if (!t->name || !*t->name)
			fatal("initializer %zu has no name", i);
		if (map_get(&inits, t->name))
			fatal("duplicate initializer name '%s'", t->name);
		Value *v = value_new(g, t->name);
		map_put(&inits, t->name, v);
		tensor_proto_to_value(g, v, t, fmt("initializer '%s'", t->name));
	}

	/* inputs bound to values (gptossc run): constants like initializers */
	for (size_t i = 0; i < gp->n_input; i++)
		for (int k = 0; k < g_nbind; k++)
			if (!strcmp(gp->input[i]->name, g_bind_names[k]) && !map_get(&inits, g_bind_names[k])) {
				Value *v = value_new(g, g_bind_names[k]);
				map_put(&inits, g_bind_names[k], v);
				tensor_proto_to_value(g, v, g_bind_tensors[k], fmt("input '%s'", g_bind_names[k]));
			}

	/* graph inputs that are not initializers */
	g->inputs = xcalloc(gp->n_input + 1, sizeof *g->inputs);
	for (size_t i = 0; i < gp->n_input; i++) {
		Onnx__ValueInfoProto *vi = gp->input[i];
		if (map_get(&inits, vi->name))
			continue;
		Value *v = value_new(g, vi->name);
		v->input_index = g->ninputs;
		g->inputs[g->ninputs++] = v;
		Onnx__TypeProto *tp = vi->type;
		if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
			fatal("input '%s': only tensor inputs are supported", vi->name);
		Onnx__TypeProto__Tensor *tt = tp->tensor_type;
		v->dtype = tt->elem_type;
		if (!rt_dtype_size(v->dtype))
			fatal("input '%s': unsupported data type %d", vi->name, v->dtype);
		if (!tt->shape)
			fatal("input '%s' has no shape: static shapes are needed", vi->name);
		if (tt->shape->n_dim > RT_MAXDIM)
			fatal("input '%s': rank %zu above %d", vi->name, tt->shape->n_dim, RT_MAXDIM);
		v->rank = (int)tt->shape->n_dim;
		for (size_t d = 0; d < tt->shape->n_dim; d++) {
			Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
			if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
				if (dim->dim_value < 0)
					fatal("input '%s': negative dim %lld", vi->name, (long long)dim->dim_value);
				v->dims[d] = dim->dim_value;
				continue;
			}
			const char *sym = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
				? dim->dim_param : NULL;
			int found = 0;
			for (int k = 0; sym && k < g->npins; k++)
				if (!strcmp(g->pin_names[k], sym)) {
					v->dims[d] = g->pin_vals[k];
					found = 1;
				}
			if (!found)
				fatal("input '%s': dim %zu is %s%s%s; pin it with -d %s=VALUE", vi->name, d,
				      sym ? "symbolic ('" : "unknown", sym ? sym : "", sym ? "')" : "",
				      sym ? sym : "NAME");
		}
	}
	for (int i = 0; i < g->ninputs; i++)
		checked_numel(g->inputs[i]->dims, g->inputs[i]->rank, fmt("input '%s'", g->inputs[i]->name));
	g->output_names = xcalloc(gp->n_output + 1, sizeof(char *));
	g->noutputs = (int)gp->n_output;
	for (size_t i = 0; i < gp->n_output; i++)
		g->output_names[i] = xstrdup(gp->output[i]->name);

	for (size_t i = 0; i < gp->n_node; i++)
		node_push(g, node_from_proto(g, gp->node[i], m->opset_import, m->n_opset_import));
	return g;
}
