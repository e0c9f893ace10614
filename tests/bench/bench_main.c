/* tests/bench/bench_main.c: time one generated gptossc model.
 *
 * Built together with a generated model by tests/bench/run.sh:
 *     cc -O2 -march=native -I DIR tests/bench/bench_main.c DIR/m.c -lm -o DIR/bench
 * where DIR/bench_model.h (written by run.sh, see gen_wrapper there) includes the
 * generated m.h and maps its prefix onto the BM_* names used here:
 *     BM_CTX BM_INIT BM_RUN_V BM_ARENA_BYTES BM_BLOB_BYTES BM_NUM_INPUTS
 *     BM_NUM_OUTPUTS BM_IN_NUMELS BM_IN_DTYPES BM_OUT_NUMELS BM_OUT_DTYPES
 * (the last four are brace lists in graph order).
 *
 *   usage: bench BLOB [--tokens 1,2,3] [--reps R] [--warmup W] [--mmap]
 *                     [--flops F] [--bytes B]
 *
 * The first int32/int64 input gets the tokens, right-padded with 0 to its
 * element count (as tests/ort/ort_bench.js does); other inputs are zero.
 * Prints one JSON line: median_ms, min_ms, runs, peak_rss_kb (VmHWM),
 * init_ms, load_ms, blob_bytes, arena_bytes, bytes_per_run (default
 * BM_BLOB_BYTES: an upper bound of the weight bytes one run reads), gbps
 * (bytes_per_run / median), flops_per_run and gflops (when --flops is given),
 * checksum (sum of output 0 when it is float32, to spot garbage).
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* madvise */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_model.h" /* generated beside the model by tests/bench/run.sh (gen_wrapper) */

#define MAX_REPS 100000

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

/* bytes of one element of an ONNX dtype code, 0 if unknown */
static size_t dtype_size(int dt)
{
	switch (dt) {
	case 1: case 6: case 12: return 4;  /* float, int32, uint32 */
	case 2: case 3: case 9: return 1;   /* uint8, int8, bool */
	case 4: case 5: case 10: case 16: return 2; /* (u)int16, f16, bf16 */
	case 7: case 11: case 13: return 8; /* int64, double, uint64 */
	default: return 0;
	}
}

static long peak_rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	if (f) {
		while (fgets(line, sizeof line, f))
			if (!strncmp(line, "VmHWM:", 6)) {
				kb = strtol(line + 6, NULL, 10);
				break;
			}
		fclose(f);
	}
	if (kb < 0) {
		struct rusage ru;
		if (!getrusage(RUSAGE_SELF, &ru))
			kb = ru.ru_maxrss; /* kB on Linux */
	}
	return kb;
}

static void *xalloc64(size_t n)
{
	void *p = aligned_alloc(64, (n + 63) / 64 * 64 + 64);
	if (!p) {
		fprintf(stderr, "bench: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return p;
}

static void *load_blob(const char *path, size_t *len, int use_mmap)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	unsigned char *buf;
	size_t n, got = 0;
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "bench: cannot open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	n = (size_t)st.st_size;
	*len = n;
	if (use_mmap) {
		void *p = mmap(NULL, n ? n : 1, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "bench: cannot map %s: %s\n", path, strerror(errno));
			exit(1);
		}
		close(fd);
		return p;
	}
	buf = NULL;
#ifdef MADV_HUGEPAGE
	/* 2 MB pages where Linux offers them, as the --main driver asks (fewer
	 * TLB misses while the weights stream; advice only) */
	if (n >= (128u << 20)) {
		size_t r = (n + (2u << 20) - 1) / (2u << 20) * (2u << 20);
		if (!posix_memalign((void **)&buf, 2u << 20, r))
			madvise(buf, r, MADV_HUGEPAGE);
		else
			buf = NULL;
	}
#endif
	if (!buf)
		buf = xalloc64(n);
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got > (1u << 30) ? (1u << 30) : n - got);
		if (r <= 0) {
			fprintf(stderr, "bench: cannot read %s\n", path);
			exit(1);
		}
		got += (size_t)r;
	}
	close(fd);
	return buf;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const long long in_numel[] = BM_IN_NUMELS, out_numel[] = BM_OUT_NUMELS;
	static const int in_dt[] = BM_IN_DTYPES, out_dt[] = BM_OUT_DTYPES;
	const char *blob_path = NULL, *tokens = "1,2,3";
	int reps = 10, warmup = 2, use_mmap = 0, tok_in = -1, i, err;
	double flops = 0, bytes = (double)BM_BLOB_BYTES;
	const void *ins[BM_NUM_INPUTS];
	void *outs[BM_NUM_OUTPUTS];
	BM_CTX ctx;
	size_t blob_len;
	void *blob, *arena;
	double t0, t_load, t_init, *runs, med, checksum = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--tokens") && i + 1 < argc)
			tokens = argv[++i];
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
			warmup = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--flops") && i + 1 < argc)
			flops = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--bytes") && i + 1 < argc)
			bytes = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--mmap"))
			use_mmap = 1;
		else if (argv[i][0] != '-' && !blob_path)
			blob_path = argv[i];
		else {
			fprintf(stderr, "usage: %s BLOB [--tokens 1,2,3] [--reps R] [--warmup W] [--mmap] "
				"[--flops F] [--bytes B]\n", argv[0]);
			return 2;
		}
	}
	if (!blob_path || reps < 1 || reps > MAX_REPS || warmup < 0) {
		fprintf(stderr, "bench: need a blob path, 1 <= reps <= %d, warmup >= 0\n", MAX_REPS);
		return 2;
	}

	/* inputs: tokens into the first integer input, zeros elsewhere */
	for (i = 0; i < BM_NUM_INPUTS; i++) {
		size_t es = dtype_size(in_dt[i]);
		if (!es) {
			fprintf(stderr, "bench: input %d has unsupported dtype %d\n", i, in_dt[i]);
			return 1;
		}
		ins[i] = memset(xalloc64((size_t)in_numel[i] * es), 0, (size_t)in_numel[i] * es);
		if (tok_in < 0 && (in_dt[i] == 6 || in_dt[i] == 7))
			tok_in = i;
	}
	if (tok_in < 0) {
		fprintf(stderr, "bench: the model has no int32/int64 input for the tokens\n");
		return 1;
	}
	{
		const char *p = tokens;
		long long k = 0;
		while (*p) {
			char *end;
			long v = strtol(p, &end, 10);
			if (end == p) {
				fprintf(stderr, "bench: bad token list '%s'\n", tokens);
				return 2;
			}
			if (k < in_numel[tok_in]) {
				if (in_dt[tok_in] == 6)
					((int32_t *)ins[tok_in])[k] = (int32_t)v;
				else
					((int64_t *)ins[tok_in])[k] = (int64_t)v;
			}
			k++;
			p = *end == ',' ? end + 1 : end;
		}
		if (k > in_numel[tok_in])
			fprintf(stderr, "bench: %lld tokens, input holds %lld: extra ones ignored\n", k,
				in_numel[tok_in]);
	}
	for (i = 0; i < BM_NUM_OUTPUTS; i++) {
		size_t es = dtype_size(out_dt[i]);
		if (!es)
			es = 8;
		outs[i] = xalloc64((size_t)out_numel[i] * es);
	}

	t0 = now_ms();
	blob = load_blob(blob_path, &blob_len, use_mmap);
	t_load = now_ms() - t0;
	arena = xalloc64((size_t)BM_ARENA_BYTES);
	t0 = now_ms();
	err = BM_INIT(&ctx, blob, blob_len, arena, (size_t)BM_ARENA_BYTES);
	t_init = now_ms() - t0;
	if (err) {
		fprintf(stderr, "bench: %s: init failed with code %d\n", blob_path, err);
		return 1;
	}
	for (i = 0; i < warmup; i++)
		if ((err = BM_RUN_V(&ctx, ins, outs))) {
			fprintf(stderr, "bench: run failed with code %d\n", err);
			return 1;
		}
	runs = malloc(sizeof *runs * (size_t)reps * 2);
	for (i = 0; i < reps; i++) {
		t0 = now_ms();
		err = BM_RUN_V(&ctx, ins, outs);
		runs[i] = now_ms() - t0;
		if (err) {
			fprintf(stderr, "bench: run failed with code %d\n", err);
			return 1;
		}
	}
	memcpy(runs + reps, runs, sizeof *runs * (size_t)reps);
	qsort(runs + reps, (size_t)reps, sizeof *runs, cmp_double);
	med = reps % 2 ? runs[reps + reps / 2] : (runs[reps + reps / 2 - 1] + runs[reps + reps / 2]) / 2;
	if (out_dt[0] == 1)
		for (long long k = 0; k < out_numel[0]; k++)
			checksum += ((const float *)outs[0])[k];

	printf("{\"median_ms\": %.4f, \"min_ms\": %.4f, \"runs\": [", med, runs[reps]);
	for (i = 0; i < reps; i++)
		printf("%s%.4f", i ? ", " : "", runs[i]);
	printf("], \"peak_rss_kb\": %ld, \"load_ms\": %.3f, \"init_ms\": %.3f, \"mmap\": %d, "
	       "\"blob_bytes\": %.0f, \"arena_bytes\": %.0f, \"bytes_per_run\": %.0f, \"gbps\": %.4f, "
	       "\"flops_per_run\": %.0f, \"gflops\": %.4f, \"T\": %lld, \"checksum\": %.6g}\n",
	       peak_rss_kb(), t_load, t_init, use_mmap, (double)BM_BLOB_BYTES, (double)BM_ARENA_BYTES, bytes,
	       bytes / (med * 1e-3) / 1e9, flops, flops > 0 ? flops / (med * 1e-3) / 1e9 : 0.0,
	       in_numel[tok_in], checksum);
	return 0;
}
