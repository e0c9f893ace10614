/* tests/bench/bandwidth.c: streaming read bandwidth of main memory.
 *
 *   cc -O2 -march=native -pthread tests/bench/bandwidth.c -o bandwidth
 *   bandwidth [--mb 512] [--passes 5] [--threads 1]
 *
 * Reads a buffer much larger than the caches (default 512 MB) from start to
 * end, with AVX2 256-bit loads when the compiler targets AVX2 (8 independent
 * accumulators) and 64-bit loads otherwise; each thread reads its own slice.
 * The best of the passes is printed as one JSON line:
 *   {"gbps": 12.3, "mb": 512, "passes": 5, "threads": 1, "simd": "avx2", "sink": ...}
 * This is the roof a memory-bound inference run cannot beat: a model whose
 * weights are W bytes needs at least W / gbps seconds per forward pass.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __AVX2__
#include <immintrin.h>
#define SIMD "avx2"
#else
#define SIMD "scalar"
#endif

typedef struct {
	const unsigned char *p;
	size_t n; /* bytes, a multiple of 256 */
	uint64_t sink;
} Slice;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *read_slice(void *arg)
{
	Slice *s = arg;
#ifdef __AVX2__
	const __m256i *p = (const __m256i *)s->p, *e = (const __m256i *)(s->p + s->n);
	__m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
	uint64_t out[4];
	for (; p < e; p += 8) {
		a0 = _mm256_add_epi64(a0, _mm256_load_si256(p + 0));
		a1 = _mm256_add_epi64(a1, _mm256_load_si256(p + 1));
		a2 = _mm256_add_epi64(a2, _mm256_load_si256(p + 2));
		a3 = _mm256_add_epi64(a3, _mm256_load_si256(p + 3));
		a4 = _mm256_add_epi64(a4, _mm256_load_si256(p + 4));
		a5 = _mm256_add_epi64(a5, _mm256_load_si256(p + 5));
		a6 = _mm256_add_epi64(a6, _mm256_load_si256(p + 6));
		a7 = _mm256_add_epi64(a7, _mm256_load_si256(p + 7));
	}
	a0 = _mm256_add_epi64(_mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)),
			      _mm256_add_epi64(_mm256_add_epi64(a4, a5), _mm256_add_epi64(a6, a7)));
	_mm256_storeu_si256((__m256i *)out, a0);
	s->sink = out[0] + out[1] + out[2] + out[3];
#else
	const uint64_t *p = (const uint64_t *)s->p, *e = (const uint64_t *)(s->p + s->n);
	uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
	for (; p < e; p += 8) {
		a0 += p[0];
		a1 += p[1];
		a2 += p[2];
		a3 += p[3];
		a4 += p[4];
		a5 += p[5];
		a6 += p[6];
		a7 += p[7];
	}
	s->sink = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
#endif
	return NULL;
}

int main(int argc, char **argv)
{
	size_t mb = 512, n;
	int passes = 5, threads = 1, i, t;
	unsigned char *buf;
	double best = 0;
	uint64_t sink = 0;
	Slice sl[64];
	pthread_t th[64];

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mb") && i + 1 < argc)
			mb = (size_t)atol(argv[++i]);
		else if (!strcmp(argv[i], "--passes") && i + 1 < argc)
			passes = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: %s [--mb 512] [--passes 5] [--threads 1]\n", argv[0]);
			return 2;
		}
	}
	if (mb < 1 || passes < 1 || threads < 1 || threads > 64) {
		fprintf(stderr, "bandwidth: need --mb >= 1, --passes >= 1, 1 <= --threads <= 64\n");
		return 2;
	}
	n = mb << 20;
	buf = aligned_alloc(64, n);
	if (!buf) {
		fprintf(stderr, "bandwidth: cannot allocate %zu MB\n", mb);
		return 1;
	}
	for (size_t k = 0; k < n; k += 8) /* touch every page, non-zero data */
		*(uint64_t *)(buf + k) = k * 0x9e3779b97f4a7c15ull;
	for (t = 0; t < threads; t++) {
		size_t lo = n / (size_t)threads * (size_t)t / 256 * 256;
		size_t hi = t == threads - 1 ? n : n / (size_t)threads * (size_t)(t + 1) / 256 * 256;
		sl[t].p = buf + lo;
		sl[t].n = hi - lo;
	}
	for (i = 0; i < passes; i++) {
		double t0 = now_s(), dt;
		if (threads == 1)
			read_slice(&sl[0]);
		else {
			for (t = 0; t < threads; t++)
				if (pthread_create(&th[t], NULL, read_slice, &sl[t])) {
					fprintf(stderr, "bandwidth: pthread_create failed\n");
					return 1;
				}
			for (t = 0; t < threads; t++)
				pthread_join(th[t], NULL);
		}
		dt = now_s() - t0;
		for (t = 0; t < threads; t++)
			sink += sl[t].sink;
		if (n / dt / 1e9 > best)
			best = n / dt / 1e9;
	}
	printf("{\"gbps\": %.3f, \"mb\": %zu, \"passes\": %d, \"threads\": %d, \"simd\": \"%s\", \"sink\": %llu}\n",
	       best, mb, passes, threads, SIMD, (unsigned long long)sink);
	free(buf);
	return 0;
}
