/* logits.c: host-side harness for tests/cross/run.sh.
 * Built against a model compiled with `gptossc -n m` (m.h, m.c): runs it once
 * on the given tokens (right-padded with 0 to T) and prints the logits row at
 * the last real position, one value per line, with %.9g (round-trips float).
 *   usage: logits m.bin 1,2,3,4,5
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "m.h"

#define T M_IN_IN_0_NUMEL
#define V (M_OUT_V_0_NUMEL / T)
#if M_IN_IN_0_DTYPE == 7
typedef int64_t tok_t;
#else
typedef int32_t tok_t;
#endif

int main(int argc, char **argv)
{
	static tok_t win[T];
	static float out[M_OUT_V_0_NUMEL];
	const void *ins[1];
	void *outs[1];
	m_ctx ctx;
	void *blob, *arena;
	long n;
	int len = 0, k, err;
	const char *p;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: %s m.bin TOKENS\n", argv[0]);
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "cannot read %s\n", argv[1]);
		return 1;
	}
	blob = aligned_alloc(64, ((size_t)n + 63) / 64 * 64);
	arena = aligned_alloc(64, (M_ARENA_BYTES + 63) / 64 * 64 + 64);
	if (!blob || !arena || fread(blob, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "cannot read %s\n", argv[1]);
		return 1;
	}
	fclose(f);
	for (p = argv[2]; *p && len < T;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		win[len++] = (tok_t)v;
		p = *end == ',' ? end + 1 : end;
	}
	if (!len)
		return 2;
	ins[0] = win;
	outs[0] = out;
	err = m_init(&ctx, blob, (size_t)n, arena, M_ARENA_BYTES);
	if (!err)
		err = m_run_v(&ctx, ins, outs);
	if (err) {
		fprintf(stderr, "error %d\n", err);
		return 1;
	}
	for (k = 0; k < V; k++)
		printf("%.9g\n", out[(size_t)(len - 1) * V + k]);
	return 0;
}
