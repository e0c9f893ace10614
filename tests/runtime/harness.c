/* tests/runtime/harness.c: hostile run-time inputs for a gptossc model.
 *
 * Built by tests/runtime/run.sh against the tiny model compiled with
 * `-n tiny` (models/tiny/tiny.onnx: input in_0 int32[16], output f32[16,V]).
 *
 *   harness blob  TINY.bin OTHER.bin   blob validation of tiny_init/tiny_run
 *   harness ids   TINY.bin CASE|all    hostile token ids (under sanitizers)
 *   harness poison TINY.bin nan|inf|ninf|big
 *                                      every float32 weight replaced by a
 *                                      hostile value (the data part of the
 *                                      blob is not checksummed, by design)
 *
 * Prints one "PASS name" or "FAIL name: why" line per case; exit status 0
 * when every case passed.  No case may crash or raise a sanitizer report:
 * run.sh builds this with -fsanitize=address,undefined.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "m.h"

#define T TINY_IN_IN_0_NUMEL
#define NOUT TINY_OUT_V_0_NUMEL
#define V (NOUT / T)
#define OOB INT32_MIN /* no reference id: an out-of-range one */

static int nfail;

static void result(const char *name, int ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#include <stdarg.h>
static void result(const char *name, int ok, const char *fmt, ...)
{
	va_list ap;
	if (ok) {
		printf("PASS %s\n", name);
		return;
	}
	nfail++;
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static const char *ename(int e)
{
	static const char *n[] = { "OK", "ERR_NULL", "ERR_SIZE", "ERR_MAGIC", "ERR_VERSION", "ERR_GRAPH",
				   "ERR_CHECKSUM", "ERR_ALIGN", "ERR_ARENA", "ERR_INIT", "ERR_THREADS" };
	return e >= 0 && e <= 10 ? n[e] : "?";
}

static void expect(const char *name, int got, int want)
{
	result(name, got == want, "got %d (%s), want %d (%s)", got, ename(got), want, ename(want));
}

static unsigned char *load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b;
	long n;
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "harness: cannot read %s\n", path);
		exit(2);
	}
	b = aligned_alloc(64, ((size_t)n + 63) / 64 * 64 + 64);
	if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "harness: cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* a 64-aligned copy of b (at offset shift inside the allocation) */
static unsigned char *copy_at(const unsigned char *b, size_t len, size_t shift)
{
	unsigned char *m = aligned_alloc(64, (len + shift + 63) / 64 * 64 + 64);
	if (!m)
		abort();
	memcpy(m + shift, b, len);
	return m;
}

static uint64_t rd64(const unsigned char *b)
{
	uint64_t x = 0;
	int i;
	for (i = 7; i >= 0; i--)
		x = (x << 8) | b[i];
	return x;
}

static void wr64(unsigned char *b, uint64_t x)
{
	int i;
	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(x >> (8 * i));
}

static void wr32(unsigned char *b, uint32_t x)
{
	int i;
	for (i = 0; i < 4; i++)
		b[i] = (unsigned char)(x >> (8 * i));
}

#define ENTRY 136

/* the checksum: FNV-1a over header + tensor table, bytes 32..40 as zero */
static void fix_sum(unsigned char *b)
{
	uint64_t n = rd64(b + 8) >> 32, h = 0xcbf29ce484222325ull, i;
	for (i = 0; i < 64 + n * ENTRY; i++)
		h = (h ^ (i >= 32 && i < 40 ? 0 : b[i])) * 0x100000001b3ull;
	wr64(b + 32, h);
}

static unsigned char *arena;

static int init_with(tiny_ctx *c, const unsigned char *b, size_t len)
{
	memset(c, 0, sizeof *c);
	return tiny_init(c, b, len, arena, TINY_ARENA_BYTES);
}

/* init + run with ids 0..T-1; returns init's code, or run's if init passed */
static int init_run(const unsigned char *b, size_t len)
{
	tiny_ctx c;
	int32_t ids[T];
	static float out[NOUT];
	int e, i;
	for (i = 0; i < T; i++)
		ids[i] = i;
	e = init_with(&c, b, len);
	if (e)
		return e;
	e = tiny_run(&c, ids, out);
	tiny_release(&c);
	return e;
}

static void blob_cases(const char *tiny_path, const char *other_path)
{
	size_t len, olen;
	unsigned char *good = load(tiny_path, &len), *other = load(other_path, &olen), *b;
	tiny_ctx c;
	int32_t ids[T] = { 0 };
	static float out[NOUT], out2[NOUT];
	const void *in[1];
	void *outs[1];
	int e;

	/* control: the blob itself */
	expect("good_blob", init_run(good, len), TINY_OK);

	/* sizes: ERR_SIZE comes first */
	expect("truncated_minus_1", init_run(good, len - 1), TINY_ERR_SIZE);
	expect("truncated_half", init_run(good, len / 2), TINY_ERR_SIZE);
	expect("truncated_below_header", init_run(good, 10), TINY_ERR_SIZE);
	expect("zero_length", init_run(good, 0), TINY_ERR_SIZE);
	b = copy_at(good, len, 0);
	expect("longer_by_64", init_run(b, len + 64), TINY_ERR_SIZE);
	free(b);

	/* a blob of another model: same size (gen_gptoss --seed 7) -> its own
	 * valid checksum, another graph hash -> ERR_GRAPH; another size ->
	 * ERR_SIZE first */
	expect("other_model_blob", init_run(other, olen), olen == len ? TINY_ERR_GRAPH : TINY_ERR_SIZE);

	/* graph hash field changed, checksum fixed -> ERR_GRAPH */
	b = copy_at(good, len, 0);
	b[16] ^= 1;
	fix_sum(b);
	expect("hash_field_sum_fixed", init_run(b, len), TINY_ERR_GRAPH);
	/* ... checksum not fixed: the checksum covers the hash -> ERR_CHECKSUM */
	b[16] ^= 1;
	b[23] ^= 0x80;
	expect("hash_field_sum_stale", init_run(b, len), TINY_ERR_CHECKSUM);
	free(b);

	/* total-size field (24) changed, checksum fixed -> ERR_GRAPH */
	b = copy_at(good, len, 0);
	wr64(b + 24, rd64(b + 24) + 64);
	fix_sum(b);
	expect("total_size_field_sum_fixed", init_run(b, len), TINY_ERR_GRAPH);
	free(b);

	/* format version: checked before the checksum, so both give VERSION */
	b = copy_at(good, len, 0);
	wr32(b + 8, TINY_BLOB_VERSION + 1);
	fix_sum(b);
	expect("version_sum_fixed", init_run(b, len), TINY_ERR_VERSION);
	wr32(b + 8, 0);
	expect("version_zero_sum_stale", init_run(b, len), TINY_ERR_VERSION);
	wr32(b + 8, 0xffffffffu);
	expect("version_max_sum_stale", init_run(b, len), TINY_ERR_VERSION);
	free(b);

	/* the tensor table and the rest of the header are checksummed */
	b = copy_at(good, len, 0);
	b[64 + 3] ^= 0x20; /* a byte of the first entry's name */
	expect("table_name_byte", init_run(b, len), TINY_ERR_CHECKSUM);
	b[64 + 3] ^= 0x20;
	b[64 + 56] ^= 0x40; /* the first entry's data offset */
	expect("table_offset_byte", init_run(b, len), TINY_ERR_CHECKSUM);
	b[64 + 56] ^= 0x40;
	b[48] = 0x5a; /* a reserved header byte */
	expect("header_reserved_byte", init_run(b, len), TINY_ERR_CHECKSUM);
	b[48] = good[48];
	b[33] ^= 1; /* the checksum itself */
	expect("checksum_field", init_run(b, len), TINY_ERR_CHECKSUM);
	b[33] ^= 1;
	wr32(b + 12, 0xffffffffu); /* tensor count: the table would pass the end */
	expect("tensor_count_huge", init_run(b, len), TINY_ERR_CHECKSUM);
	wr32(b + 12, (uint32_t)(rd64(good + 8) >> 32) + 1);
	expect("tensor_count_plus_1", init_run(b, len), TINY_ERR_CHECKSUM);
	wr32(b + 12, 0);
	expect("tensor_count_zero", init_run(b, len), TINY_ERR_CHECKSUM);
	free(b);

	/* the weights themselves are not checksummed (documented: only the
	 * header and table are): a flipped data byte still inits */
	b = copy_at(good, len, 0);
	b[len - 1] ^= 0xff;
	expect("data_byte_not_checked", init_run(b, len), TINY_OK);
	free(b);

	/* magic: checked first after the size */
	b = copy_at(good, len, 0);
	b[0] = 'X';
	expect("magic_byte", init_run(b, len), TINY_ERR_MAGIC);
	wr32(b + 8, 77);
	expect("magic_before_version", init_run(b, len), TINY_ERR_MAGIC);
	memset(b, 0, len);
	expect("all_zero_blob", init_run(b, len), TINY_ERR_MAGIC);
	memset(b, 0xff, len);
	expect("all_ff_blob", init_run(b, len), TINY_ERR_MAGIC);
	free(b);

	/* alignment of blob and arena */
	b = copy_at(good, len, 1);
	expect("blob_misaligned_1", init_run(b + 1, len), TINY_ERR_ALIGN);
	free(b);
	b = copy_at(good, len, 32);
	expect("blob_misaligned_32", init_run(b + 32, len), TINY_ERR_ALIGN);
	free(b);
	{
		unsigned char *a2 = aligned_alloc(64, TINY_ARENA_BYTES + 128);
		memset(&c, 0, sizeof c);
		expect("arena_misaligned_8", tiny_init(&c, good, len, a2 + 8, TINY_ARENA_BYTES), TINY_ERR_ALIGN);
		free(a2);
	}

	/* arena size */
	memset(&c, 0, sizeof c);
	expect("arena_one_short", tiny_init(&c, good, len, arena, TINY_ARENA_BYTES - 1), TINY_ERR_ARENA);
	memset(&c, 0, sizeof c);
	expect("arena_len_zero", tiny_init(&c, good, len, arena, 0), TINY_ERR_ARENA);
	memset(&c, 0, sizeof c);
	expect("arena_len_size_max", tiny_init(&c, good, len, arena, (size_t)-1), TINY_OK);

	/* NULL pointers */
	expect("null_ctx", tiny_init(NULL, good, len, arena, TINY_ARENA_BYTES), TINY_ERR_NULL);
	memset(&c, 0, sizeof c);
	expect("null_blob", tiny_init(&c, NULL, len, arena, TINY_ARENA_BYTES), TINY_ERR_NULL);
	memset(&c, 0, sizeof c);
	expect("null_arena", tiny_init(&c, good, len, NULL, TINY_ARENA_BYTES), TINY_ERR_NULL);

	/* run on contexts init did not accept */
	memset(&c, 0, sizeof c);
	expect("run_zeroed_ctx", tiny_run(&c, ids, out), TINY_ERR_INIT);
	memset(&c, 0xff, sizeof c);
	expect("run_garbage_ctx", tiny_run(&c, ids, out), TINY_ERR_INIT);
	memset(&c, 0, sizeof c);
	e = tiny_init(&c, good, len - 1, arena, TINY_ARENA_BYTES);
	expect("run_after_size_error", e ? tiny_run(&c, ids, out) : -1, TINY_ERR_INIT);
	/* a context that was valid, then re-initialised with a bad blob */
	e = init_with(&c, good, len);
	b = copy_at(good, len, 0);
	b[0] = 'X';
	e = e ? -1 : tiny_init(&c, b, len, arena, TINY_ARENA_BYTES);
	expect("run_after_failed_reinit", e == TINY_ERR_MAGIC ? tiny_run(&c, ids, out) : -1, TINY_ERR_INIT);
	free(b);
	e = init_with(&c, good, len);
	e = e ? -1 : tiny_init(&c, NULL, len, arena, TINY_ARENA_BYTES);
	expect("run_after_null_reinit", e == TINY_ERR_NULL ? tiny_run(&c, ids, out) : -1, TINY_ERR_INIT);
	e = init_with(&c, good, len);
	e = e ? -1 : tiny_init(&c, good, len, arena, TINY_ARENA_BYTES - 1);
	expect("run_after_arena_reinit", e == TINY_ERR_ARENA ? tiny_run(&c, ids, out) : -1, TINY_ERR_INIT);
	memset(&c, 0, sizeof c);
	expect("set_threads_before_init", tiny_set_threads(&c, 1), TINY_ERR_INIT);
	expect("set_threads_null", tiny_set_threads(NULL, 1), TINY_ERR_INIT);
	tiny_release(NULL); /* must not crash */
	tiny_release(&c);   /* on a context init never accepted */

	/* NULL tensors and NULL arrays at run */
	e = init_with(&c, good, len);
	expect("run_null_ctx", tiny_run(NULL, ids, out), TINY_ERR_NULL);
	expect("run_null_input", e ? -1 : tiny_run(&c, NULL, out), TINY_ERR_NULL);
	expect("run_null_output", e ? -1 : tiny_run(&c, ids, NULL), TINY_ERR_NULL);
	expect("run_v_null_arrays", e ? -1 : tiny_run_v(&c, NULL, NULL), TINY_ERR_NULL);
	in[0] = NULL;
	outs[0] = out;
	expect("run_v_null_entry", e ? -1 : tiny_run_v(&c, in, outs), TINY_ERR_NULL);
	expect("set_threads_zero", e ? -1 : tiny_set_threads(&c, 0), TINY_ERR_THREADS);
	expect("set_threads_too_many", e ? -1 : tiny_set_threads(&c, TINY_MAX_THREADS + 1), TINY_ERR_THREADS);
	expect("set_threads_negative", e ? -1 : tiny_set_threads(&c, -1), TINY_ERR_THREADS);
	tiny_release(&c);

	/* the blob in read-only memory: init and run must not write to it */
	{
		unsigned char *ro = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ro == MAP_FAILED) {
			result("blob_read_only", 0, "mmap failed");
		} else {
			memcpy(ro, good, len);
			mprotect(ro, len, PROT_READ);
			expect("blob_read_only", init_run(ro, len), TINY_OK);
			munmap(ro, len);
		}
	}

	/* two contexts on separate arenas give the same bytes */
	{
		tiny_ctx c1, c2;
		unsigned char *a2 = aligned_alloc(64, TINY_ARENA_BYTES + 64);
		int i, e1, e2;
		for (i = 0; i < T; i++)
			ids[i] = (int32_t)(i * 37 % V);
		e1 = tiny_init(&c1, good, len, arena, TINY_ARENA_BYTES);
		e2 = tiny_init(&c2, good, len, a2, TINY_ARENA_BYTES);
		if (!e1)
			e1 = tiny_run(&c1, ids, out);
		memset(a2, 0xa5, TINY_ARENA_BYTES); /* dirty the second arena */
		if (!e2)
			e2 = tiny_run(&c2, ids, out2);
		result("two_contexts_same_output", !e1 && !e2 && !memcmp(out, out2, sizeof out), "codes %d %d or outputs differ", e1,
		       e2);
		tiny_release(&c1);
		tiny_release(&c2);
		free(a2);
	}
	free(good);
	free(other);
}

/* ---- hostile token ids ---- */

static int finite_all(const float *y, int n)
{
	int i;
	for (i = 0; i < n; i++)
		if (!isfinite(y[i]))
			return 0;
	return 1;
}

static int run_ids(const unsigned char *blob, size_t len, const int32_t *ids, float *out)
{
	tiny_ctx c;
	int e = tiny_init(&c, blob, len, arena, TINY_ARENA_BYTES);
	if (!e)
		e = tiny_run(&c, ids, out);
	tiny_release(&c);
	return e;
}

static void fill(int32_t *ids, int32_t v)
{
	int i;
	for (i = 0; i < T; i++)
		ids[i] = v;
}

static void ids_cases(const char *path, const char *which)
{
	size_t len;
	unsigned char *blob = load(path, &len);
	int32_t ids[T];
	static float out[NOUT], zero_row[NOUT], ref[NOUT];
	int e, i, all = !strcmp(which, "all");
	/* Out-of-range ids: the embedding gives a zero row for each of them,
	 * so all of them must give the same (finite) logits.  Ids in [-2V, -V)
	 * are not out of range: the graph's Less/Add/Where maps them to
	 * [-V, 0), and Gather (ONNX semantics, negative indices count from the
	 * end) wraps them once more: -V-5 is id V-5. */
	struct {
		const char *name;
		int32_t v, ref; /* ref: the id with the same logits, or OOB */
	} cs[] = { { "id_V", V, OOB },
		   { "id_V_plus_5", V + 5, OOB },
		   { "id_int32_max", INT32_MAX, OOB },
		   { "id_int32_min", INT32_MIN, OOB },
		   { "id_int32_min_plus_1", INT32_MIN + 1, OOB },
		   { "id_int32_max_minus_V", INT32_MAX - V, OOB },
		   { "id_minus_2V_minus_1", -2 * V - 1, OOB },
		   { "id_minus_V_minus_5", -V - 5, V - 5 },
		   { "id_minus_V_minus_1", -V - 1, V - 1 },
		   { "id_minus_2V", -2 * V, 0 },
		   { "id_minus_V", -V, 0 },
		   { "id_minus_1", -1, V - 1 } };
	int have_zero = 0;
	for (i = 0; i < (int)(sizeof cs / sizeof cs[0]); i++) {
		if (!all && strcmp(which, cs[i].name))
			continue;
		fill(ids, cs[i].v);
		e = run_ids(blob, len, ids, out);
		if (e || !finite_all(out, NOUT)) {
			result(cs[i].name, 0, "run returned %d (%s), finite %d", e, ename(e), finite_all(out, NOUT));
			continue;
		}
		if (cs[i].ref != OOB) {
			fill(ids, cs[i].ref);
			e = run_ids(blob, len, ids, ref);
			result(cs[i].name, !e && !memcmp(ref, out, sizeof out), "code %d or logits differ from those of id %d", e,
			       (int)cs[i].ref);
		} else if (!have_zero) {
			/* the first out-of-range case: compare with a
			 * second, different out-of-range id */
			memcpy(zero_row, out, sizeof out);
			have_zero = 1;
			fill(ids, cs[i].v == INT32_MAX ? INT32_MIN : INT32_MAX);
			e = run_ids(blob, len, ids, ref);
			result(cs[i].name, !e && !memcmp(ref, out, sizeof out),
			       "code %d or logits differ from those of another out-of-range id", e);
		} else {
			result(cs[i].name, !memcmp(zero_row, out, sizeof out),
			       "logits differ from those of the other out-of-range ids");
		}
	}
	/* a mix of valid and hostile ids */
	if (all || !strcmp(which, "id_mixed")) {
		int32_t mix[] = { 0, INT32_MAX, 5, INT32_MIN, V, -V - 5, V - 1, -1, V + 5, 17, -V, INT32_MIN + 1, 3, -2, INT32_MAX - 1, 1 };
		for (i = 0; i < T; i++)
			ids[i] = mix[i % (int)(sizeof mix / sizeof mix[0])];
		e = run_ids(blob, len, ids, out);
		result("id_mixed", !e && finite_all(out, NOUT), "run returned %d, finite %d", e, finite_all(out, NOUT));
	}
	free(blob);
}

/* ---- hostile weights: every float32 tensor of the blob set to x ---- */

static void poison_case(const char *path, const char *which)
{
	size_t len;
	unsigned char *blob = load(path, &len);
	uint64_t n = rd64(blob + 8) >> 32, i;
	float x = !strcmp(which, "nan") ? NAN : !strcmp(which, "inf") ? INFINITY : !strcmp(which, "ninf") ? -INFINITY : 3e38f;
	int32_t ids[T];
	static float out[NOUT];
	char name[64];
	int e, k, nt = 0;
	for (i = 0; i < n; i++) {
		unsigned char *ent = blob + 64 + i * ENTRY;
		uint64_t off = rd64(ent + 56), bytes = rd64(ent + 64);
		uint32_t dt = (uint32_t)rd64(ent + 48), fmt = (uint32_t)rd64(ent + 44);
		if (dt != 1 || fmt != 1 || off + bytes > len)
			continue;
		for (k = 0; k + 4 <= (int)bytes; k += 4)
			memcpy(blob + off + k, &x, 4);
		nt++;
	}
	for (k = 0; k < T; k++)
		ids[k] = k;
	e = run_ids(blob, len, ids, out);
	snprintf(name, sizeof name, "weights_%s", which);
	/* any float result is acceptable (documented: no NaN checks at run
	 * time); what matters is no crash, no out-of-bounds expert/row read
	 * (the MoE router's TopK sees NaN/Inf) and OK from run */
	result(name, nt > 0 && e == TINY_OK, "%d tensors poisoned, run returned %d (%s)", nt, e, ename(e));
	free(blob);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0); /* the lines before a sanitizer abort */
	arena = aligned_alloc(64, TINY_ARENA_BYTES + 64);
	if (!arena)
		return 2;
	if (argc == 4 && !strcmp(argv[1], "blob"))
		blob_cases(argv[2], argv[3]);
	else if (argc == 4 && !strcmp(argv[1], "ids"))
		ids_cases(argv[2], argv[3]);
	else if (argc == 4 && !strcmp(argv[1], "poison"))
		poison_case(argv[2], argv[3]);
	else {
		fprintf(stderr, "usage: harness blob TINY.bin OTHER.bin | ids TINY.bin CASE|all | poison TINY.bin nan|inf|ninf|big\n");
		return 2;
	}
	free(arena);
	return nfail ? 1 : 0;
}
