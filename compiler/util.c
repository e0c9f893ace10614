/* util.c: allocation, messages, temporary-file cleanup, a string map.
 *
 * The compiler allocates freely and frees nothing: a compilation is one
 * process, and exit releases everything at once.  Errors are fatal: they
 * print one located message, remove every temporary file and exit 1.
 */
#include "gptossc.h"
#include <unistd.h>

const char *g_file = "";
jmp_buf *g_fatal_jmp; /* set by the fuzzer: errors return there instead of exiting */
int g_quiet;          /* with g_fatal_jmp: a trial compile, errors not printed */

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		fatal("out of memory (%zu bytes)", n * size);
	return p;
}

void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p)
		fatal("out of memory (%zu bytes)", size);
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s ? s : "");
	char *r = xcalloc(n + 1, 1);
	memcpy(r, s ? s : "", n);
	return r;
}

char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;
	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		fatal("out of memory");
	va_end(ap);
	return s;
}

/* Temporary output files: removed on any fatal error. */
static char *tmp_paths[16];

void cleanup_register(const char *p)
{
	for (int i = 0; i < 16; i++)
		if (!tmp_paths[i]) {
			tmp_paths[i] = xstrdup(p);
			return;
		}
}

void cleanup_unregister(const char *p)
{
	for (int i = 0; i < 16; i++)
		if (tmp_paths[i] && !strcmp(tmp_paths[i], p))
			tmp_paths[i] = NULL;
}

static void cleanup(void)
{
	for (int i = 0; i < 16; i++)
		if (tmp_paths[i])
			unlink(tmp_paths[i]);
}

_Noreturn void fatal(const char *f, ...)
{
	va_list ap;
	if (g_quiet && g_fatal_jmp)
		longjmp(*g_fatal_jmp, 1);
	fprintf(stderr, "gptossc: %s%s", g_file, *g_file ? ": " : "");
	va_start(ap, f);
	vfprintf(stderr, f, ap);
	va_end(ap);
	fputc('\n', stderr);
	cleanup();
	if (g_fatal_jmp)
		longjmp(*g_fatal_jmp, 1);
	exit(1);
}

_Noreturn void node_fatal(const Node *n, const char *f, ...)
{
	va_list ap;
	if (g_quiet && g_fatal_jmp)
		longjmp(*g_fatal_jmp, 1);
	fprintf(stderr, "gptossc: %s: node '%s' (%s): ", g_file, n->name ? n->name : "", n->op);
	va_start(ap, f);
	vfprintf(stderr, f, ap);
	va_end(ap);
	fputc('\n', stderr);
	cleanup();
	if (g_fatal_jmp)
		longjmp(*g_fatal_jmp, 1);
	exit(1);
}

void usage_error(const char *f, ...)
{
	va_list ap;
	fprintf(stderr, "gptossc: ");
	va_start(ap, f);
	vfprintf(stderr, f, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'gptossc --help'.\n");
	cleanup();
	exit(2);
}

uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	if (!h)
		h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ull;
	return h;
}

const char *dtype_name(int dt)
{
	switch (dt) {
	case RT_F32: return "f32";
	case RT_U8: return "u8";
	case RT_I8: return "i8";
	case RT_U16: return "u16";
	case RT_I16: return "i16";
	case RT_I32: return "i32";
	case RT_I64: return "i64";
	case RT_STR: return "string";
	case RT_BOOL: return "bool";
	case RT_F16: return "f16";
	case RT_F64: return "f64";
	case RT_U32: return "u32";
	case RT_U64: return "u64";
	case RT_BF16: return "bf16";
	}
	return "?";
}

int64_t numel(const Value *v)
{
	int64_t n = 1;
	for (int i = 0; i < v->rank; i++)
		n *= v->dims[i];
	return n;
}

int64_t nbytes(const Value *v)
{
	return numel(v) * rt_dtype_size(v->dtype);
}

char *shape_str(const Value *v)
{
	char buf[256];
	int k = snprintf(buf, sizeof buf, "%s[", dtype_name(v->dtype));
	for (int i = 0; i < v->rank && k < 200; i++)
		k += snprintf(buf + k, sizeof buf - k, "%s%lld", i ? "," : "", (long long)v->dims[i]);
	snprintf(buf + k, sizeof buf - k, "]");
	return xstrdup(buf);
}

/* Open addressing, FNV hash, grows at 50% load. */
static uint64_t strhash(const char *k)
{
	return fnv1a(0, k, strlen(k));
}

void *map_get(Map *m, const char *k)
{
	if (!m->cap)
		return NULL;
	for (uint64_t i = strhash(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->keys[i])
			return NULL;
		if (!strcmp(m->keys[i], k))
			return m->vals[i];
	}
}

void map_put(Map *m, const char *k, void *v)
{
	if (2 * (m->len + 1) > m->cap) {
		Map n = { xcalloc(m->cap ? 2 * m->cap : 64, sizeof(char *)),
			  xcalloc(m->cap ? 2 * m->cap : 64, sizeof(void *)),
			  m->cap ? 2 * m->cap : 64, 0 };
		for (int i = 0; i < m->cap; i++)
			if (m->keys[i])
				map_put(&n, m->keys[i], m->vals[i]);
		free(m->keys);
		free(m->vals);
		*m = n;
	}
	for (uint64_t i = strhash(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->keys[i]) {
			m->keys[i] = xstrdup(k);
			m->vals[i] = v;
			m->len++;
			return;
		}
		if (!strcmp(m->keys[i], k)) {
			m->vals[i] = v;
			return;
		}
	}
}
