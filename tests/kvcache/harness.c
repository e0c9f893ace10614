/* harness.c: NAME_step against NAME_run for one model compiled with -n P
 * (tests/kvcache/run.sh builds it with spec.h from spec.py and TOK, the
 * token type).
 *
 *   harness M.bin     prints "ok ..." / "FAIL ..." lines, exit 1 on a failure
 *
 * For every window length L = 1..T of a random token sequence, row L-1 of
 * every output of the full window must equal the step's output at pos L-1:
 * f32 within 1e-5 (absolute, relative above 1), other types exactly.  The
 * caches are reached in five ways: one step per position with outputs,
 * steps whose outputs are skipped (NULL: cache updates only) until the
 * last, NAME_prefill_v of a prefix then steps, NAME_prefill (the caches'
 * work of a window, then its last position as a step) then steps, and a
 * rewind.  A state built
 * from other tokens must give other logits (the cache is really read), and
 * every misuse returns its error code.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "m.h"
#include "spec.h"

enum { T = P_WINDOW };
static int fails;
static double worst;

static size_t esize(int dt)
{
	return dt == 7 || dt == 11 ? 8 : dt == 4 || dt == 5 || dt == 10 ? 2 : dt == 2 || dt == 3 || dt == 9 ? 1 : 4;
}

static void *xalloc(size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, 64, n + 64)) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	memset(p, 0, n + 64);
	return p;
}

static void check(int cond, const char *what, long a)
{
	if (!cond) {
		printf("FAIL %s (%ld)\n", what, a);
		fails++;
	}
}

static void *full[NOUT], *row[NOUT], *rows[T + 1][NOUT]; /* rows[L]: row L-1 of the window of length L */
static P_ctx ctx;
static TOK toks[T], other[T];

/* the full window of length L; keeps row L-1 of every output */
static void run_full(int L)
{
	TOK win[T];
	const void *in[1] = { win };
	for (int i = 0; i < T; i++)
		win[i] = i < L ? toks[i] : 0;
	int e = P_run_v(&ctx, in, full);
	check(e == 0, "run_v", e);
	for (int k = 0; k < NOUT; k++) {
		size_t inner = (size_t)out_inner[k] * esize(out_dtype[k]);
		rows[L][k] = xalloc((size_t)out_outer[k] * inner);
		for (long o = 0; o < out_outer[k]; o++)
			memcpy((char *)rows[L][k] + o * inner, (char *)full[k] + (o * T + (L - 1)) * inner, inner);
	}
}

/* compare the step's outputs with row L-1 of the window of length L */
static int same(int L, const char *how)
{
	int ok = 1;
	for (int k = 0; k < NOUT; k++) {
		long n = out_outer[k] * out_inner[k];
		for (long i = 0; i < n; i++) {
			double d;
			if (out_dtype[k] == 1) {
				float a = ((float *)rows[L][k])[i], b = ((float *)row[k])[i];
				d = fabs((double)a - b) / (fabs(a) > 1 ? fabs(a) : 1);
				if (!(d <= 1e-5) && !(isnan(a) && isnan(b)))
					ok = 0;
				if (d > worst)
					worst = d;
			} else {
				size_t s = esize(out_dtype[k]);
				if (memcmp((char *)rows[L][k] + i * s, (char *)row[k] + i * s, s))
					ok = 0;
			}
		}
		if (!ok) {
			printf("FAIL %s: output %d at pos %d differs from the full window\n", how, k, L - 1);
			fails++;
			return 0;
		}
	}
	return 1;
}

static int step(void *state, int pos, const TOK *t, int want)
{
	const void *in[1] = { t };
	return P_step_v(&ctx, state, pos, in, want ? row : NULL);
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
	if (!f) {
		fprintf(stderr, "usage: harness M.bin\n");
		return 2;
	}
	fseek(f, 0, SEEK_END);
	size_t blen = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	void *blob = xalloc(blen), *arena = xalloc(P_ARENA_BYTES), *state = xalloc(P_STATE_BYTES),
	     *state2 = xalloc(P_STATE_BYTES + 64);
	if (fread(blob, 1, blen, f) != blen)
		return 2;
	fclose(f);
	/* before init: the context is refused */
	memset(&ctx, 0, sizeof ctx);
	check(step(state, 0, toks, 1) == P_ERR_INIT, "step on a context init did not accept", 0);
	int e = P_init(&ctx, blob, blen, arena, P_ARENA_BYTES);
	if (e) {
		printf("FAIL init %d\n", e);
		return 1;
	}
	long V = out_inner[0];
	srand(12345);
	for (int i = 0; i < T; i++) {
		toks[i] = (TOK)(rand() % V);
		other[i] = (TOK)((toks[i] + 1 + rand() % (V - 1)) % V);
	}
	for (int k = 0; k < NOUT; k++) {
		full[k] = xalloc((size_t)out_outer[k] * T * out_inner[k] * esize(out_dtype[k]));
		row[k] = xalloc((size_t)out_outer[k] * out_inner[k] * esize(out_dtype[k]));
	}
	for (int L = 1; L <= T; L++)
		run_full(L);

	/* 1. one step per position, outputs every time */
	int good = 1;
	for (int p = 0; p < T; p++) {
		e = step(state, p, &toks[p], 1);
		check(e == 0, "step", e);
		good &= same(p + 1, "steps");
	}
	if (good)
		printf("ok   steps 0..%d equal the full window's rows\n", T - 1);
	/* 2. outputs skipped (cache updates only) until pos L-1 */
	good = 1;
	for (int L = 1; L <= T; L++) {
		for (int p = 0; p < L; p++)
			check(step(state, p, &toks[p], p == L - 1) == 0, "step", p);
		good &= same(L, "steps without outputs, then one with");
	}
	if (good)
		printf("ok   steps with outputs skipped update the caches\n");
	/* 3. prefill_v of a prefix, then steps */
	good = 1;
	for (int n = 1; n <= T; n += n < 4 ? 1 : T / 4) {
		TOK win[T];
		const void *in[1] = { win };
		for (int i = 0; i < T; i++)
			win[i] = i < n ? toks[i] : 0;
		e = P_prefill_v(&ctx, state, n, in, full);
		check(e == 0, "prefill_v", e);
		for (int p = n; p < T; p++) {
			check(step(state, p, &toks[p], 1) == 0, "step after prefill", p);
			good &= same(p + 1, "prefill_v then steps");
		}
	}
	if (good)
		printf("ok   prefill_v then steps equal the full window's rows\n");
	/* 3b. prefill (a window run of the caches' work only, then pos n-1 as a
	 * step), the window's positions from n on holding other tokens */
	good = 1;
	for (int n = 1; n <= T; n++) {
		TOK win[T];
		for (int i = 0; i < T; i++)
			win[i] = i < n ? toks[i] : other[i];
		e = P_prefill(&ctx, state, win, n, row);
		check(e == 0, "prefill", e);
		good &= same(n, "prefill");
		if (n == 2 || n == T / 2)
			for (int p = n; p < T; p++) {
				check(step(state, p, &toks[p], 1) == 0, "step after prefill", p);
				good &= same(p + 1, "prefill then steps");
			}
	}
	if (good)
		printf("ok   prefill (outputs only at n-1) then steps equal the full window's rows\n");
	/* 4. rewind: pos 3 again after T positions */
	if (T > 4) {
		check(step(state, 3, &toks[3], 1) == 0, "rewind", 3);
		if (same(4, "rewind to pos 3"))
			printf("ok   rewinding to an earlier position\n");
	}
	/* 5. the cache is read: a state of other tokens gives other logits */
	if (T > 2) {
		for (int p = 0; p < T - 1; p++)
			step(state2, p, &other[p], 0);
		step(state2, T - 1, &toks[T - 1], 1);
		double d = 0;
		for (long i = 0; i < out_inner[0]; i++)
			d = fmax(d, fabs(((float *)row[0])[i] - ((float *)rows[T][0])[i]));
		check(d > 1e-4, "a state of other tokens gives the same logits: the cache is not read", 0);
		if (d > 1e-4)
			printf("ok   the cache is read (logits move by %.3g with other earlier tokens)\n", d);
	}
	/* 6. misuse */
	int n0 = fails;
	check(step(state, T, toks, 1) == P_ERR_POS, "pos == T", T);
	check(step(state, -1, toks, 1) == P_ERR_POS, "pos < 0", -1);
	check(step(state, 0, toks, 1) == 0, "pos 0", 0);
	check(step(state, 2, toks, 1) == P_ERR_POS, "pos past the positions computed", 2);
	memset(state2, 0xa5, P_STATE_BYTES);
	check(step(state2, 1, toks, 1) == P_ERR_POS, "a state never started", 1);
	check(step(NULL, 0, toks, 1) == P_ERR_NULL, "NULL state", 0);
	check(step((char *)state2 + 8, 0, toks, 1) == P_ERR_ALIGN, "misaligned state", 0);
	check(P_step_v(&ctx, state, 0, NULL, row) == P_ERR_NULL, "NULL inputs", 0);
	{
		const void *in[1] = { toks };
		check(P_prefill_v(&ctx, state, 0, in, full) == P_ERR_POS, "prefill of 0 positions", 0);
		check(P_prefill_v(&ctx, state, T + 1, in, full) == P_ERR_POS, "prefill_v past the window", T + 1);
		check(P_prefill(&ctx, state, toks, 0, row) == P_ERR_POS, "prefill of 0 positions", 0);
		check(P_prefill(&ctx, state, NULL, 1, row) == P_ERR_NULL, "prefill of NULL tokens", 0);
	}
	if (fails == n0)
		printf("ok   misuse returns P_ERR_POS, P_ERR_NULL, P_ERR_ALIGN, P_ERR_INIT\n");
	/* a digest of every window's rows, to compare builds (threads) bit for bit */
	uint64_t h = 1469598103934665603ull;
	for (int L = 1; L <= T; L++)
		for (int k = 0; k < NOUT; k++) {
			const unsigned char *b = rows[L][k];
			size_t n = (size_t)out_outer[k] * out_inner[k] * esize(out_dtype[k]);
			for (size_t i = 0; i < n; i++)
				h = (h ^ b[i]) * 1099511628211ull;
		}
	printf("# worst relative difference %.3g, state %ld bytes, digest %016llx\n", worst, (long)P_STATE_BYTES,
	       (unsigned long long)h);
	return fails != 0;
}
