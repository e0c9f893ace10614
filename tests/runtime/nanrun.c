/* tests/runtime/nanrun.c: runs one tests/runtime/nan_cases.py case.
 *
 * Built by tests/runtime/run.sh against a case compiled with `-n m`:
 *
 *   cc -I CASEDIR -I BUILDDIR nanrun.c CASEDIR/m.c -lm
 *
 * CASEDIR holds m.c, m.h, m.bin and io.h (nan_cases.py gen: the input
 * x_data); outs.h (written by run.sh from m.h) lists the outputs in graph
 * order as "{ M_OUT_NAME_NUMEL, M_OUT_NAME_DTYPE },".
 *
 *   nanrun m.bin      prints "rc N", then per output "out I DTYPE NUMEL"
 *                     and one value a line: float32 as C99 %a (exact; NaN
 *                     and infinities as nan/inf), integers in decimal
 *
 * Exit status 0 when it could run at all (the run's own code is printed,
 * nan_cases.py check judges it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m.h"
#include "io.h"

static const struct {
	size_t numel;
	int dtype;
} outs[] = {
#include "outs.h"
};
#define NOUTS (sizeof outs / sizeof outs[0])

typedef char check_inputs[M_NUM_INPUTS == 1 ? 1 : -1];
typedef char check_outputs[M_NUM_OUTPUTS == NOUTS ? 1 : -1];
typedef char check_x[sizeof x_data / sizeof x_data[0] == M_IN_X_NUMEL && M_IN_X_DTYPE == 1 ? 1 : -1];

static size_t dsize(int dt)
{
	switch (dt) {
	case 1: case 6: case 12: return 4; /* float, int32, uint32 */
	case 7: case 13: case 11: return 8; /* int64, uint64, double */
	case 9: case 2: case 3: return 1;   /* bool, uint8, int8 */
	default: return 0;
	}
}

int main(int argc, char **argv)
{
	static unsigned char blob[M_BLOB_BYTES + 64] __attribute__((aligned(64)));
	static unsigned char arena[M_ARENA_BYTES + 64] __attribute__((aligned(64)));
	static float x[sizeof x_data / sizeof x_data[0]];
	const void *in[1];
	void *out[NOUTS];
	m_ctx c;
	FILE *f;
	size_t k, i;
	int e;
	if (argc != 2) {
		fprintf(stderr, "usage: nanrun m.bin\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f || fread(blob, 1, M_BLOB_BYTES, f) != M_BLOB_BYTES) {
		fprintf(stderr, "nanrun: cannot read %s\n", argv[1]);
		return 2;
	}
	fclose(f);
	memcpy(x, x_data, sizeof x);
	in[0] = x;
	for (k = 0; k < NOUTS; k++) {
		if (!dsize(outs[k].dtype)) {
			fprintf(stderr, "nanrun: output %zu: dtype %d not handled\n", k, outs[k].dtype);
			return 2;
		}
		out[k] = calloc(outs[k].numel ? outs[k].numel : 1, dsize(outs[k].dtype));
		if (!out[k])
			return 2;
	}
	e = m_init(&c, blob, M_BLOB_BYTES, arena, M_ARENA_BYTES);
	if (!e)
		e = m_run_v(&c, in, out);
	m_release(&c);
	printf("rc %d\n", e);
	for (k = 0; k < NOUTS; k++) {
		printf("out %zu %d %zu\n", k, outs[k].dtype, outs[k].numel);
		for (i = 0; i < outs[k].numel; i++) {
			switch (outs[k].dtype) {
			case 1: printf("%a\n", (double)((float *)out[k])[i]); break;
			case 11: printf("%a\n", ((double *)out[k])[i]); break;
			case 6: printf("%ld\n", (long)((int32_t *)out[k])[i]); break;
			case 12: printf("%lu\n", (unsigned long)((uint32_t *)out[k])[i]); break;
			case 7: printf("%lld\n", (long long)((int64_t *)out[k])[i]); break;
			case 13: printf("%llu\n", (unsigned long long)((uint64_t *)out[k])[i]); break;
			case 2: case 9: printf("%u\n", ((uint8_t *)out[k])[i]); break;
			case 3: printf("%d\n", ((int8_t *)out[k])[i]); break;
			}
		}
		free(out[k]);
	}
	return 0;
}
