/* main.c: bare-metal greedy generation with a gptossc model (Cortex-M7).
 *
 * The model was compiled with
 *     gptossc model.onnx -o gen/model.c -n model --embed-weights --static-arena
 * so the weights are const data in flash (model_blob_data, gen/model_blob.c)
 * and the scratch arena is a static buffer in RAM (model_arena_data, in
 * gen/model.c).  No malloc, no file system: the model needs only mem* and libm.
 *
 * Same loop as the hosted driver gptossc --main writes: each step takes the
 * last T tokens, right-pads them with 0, runs the model and appends the
 * argmax of the logits at the last real position (lowest index on ties).
 * With the model's KV cache (MODEL_HAS_STEP, unless built with -DFW_FULL=1)
 * a new window (the prompt, or a slid window) runs once through
 * model_prefill, and every further token of it is one model_step: the
 * same tokens, a fraction of the work.
 * Output through semihosting:
 *     line 1: the generated token ids, comma-separated (as FILE_main.c prints)
 *     then "# ..." lines: per-token cycle counts and timer ticks
 */
#include <stdint.h>
#include "model.h"
#include "semihost.h"

/* Shape of a GPT-OSS graph: input in_0 = token ids [T], output v_0 = logits [T, V]. */
#ifndef FW_T
#define FW_T MODEL_IN_IN_0_NUMEL
#endif
#ifndef FW_V
#define FW_V (MODEL_OUT_V_0_NUMEL / FW_T)
#endif
#ifndef FW_PROMPT
#define FW_PROMPT 1, 2, 3, 4, 5
#endif
#ifndef FW_STEPS
#define FW_STEPS 8
#endif
#if MODEL_IN_IN_0_DTYPE == 7
typedef int64_t tok_t;
#else
typedef int32_t tok_t;
#endif

static const int32_t prompt[] = { FW_PROMPT };
#define NPROMPT ((int)(sizeof prompt / sizeof prompt[0]))

#ifndef FW_FULL
#define FW_FULL (!MODEL_HAS_STEP)
#endif

static int32_t seq[NPROMPT + FW_STEPS];
static tok_t window[FW_T];
static float logits[MODEL_OUT_V_0_NUMEL];
#if !FW_FULL
/* the caches: the caller's memory, like the arena */
static unsigned char state[MODEL_STATE_BYTES] __attribute__((aligned(64)));
#endif

/* Cycle counters.  DWT->CYCCNT counts core cycles on silicon (qemu reads it
 * as 0).  The CMSDK APB timer 0 of the MPS2 counts down at the 25 MHz system
 * clock on the board and in qemu follows the virtual clock, so under
 * `qemu -icount shift=0` (1 ns per instruction) one tick = 40 instructions. */
#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
#define DWT_LAR (*(volatile uint32_t *)0xE0001FB0u)
#define TIMER0_CTRL (*(volatile uint32_t *)0x40000000u)
#define TIMER0_VALUE (*(volatile uint32_t *)0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t *)0x40000008u)

static void counters_start(void)
{
	DEMCR |= 1u << 24;      /* TRCENA */
	DWT_LAR = 0xC5ACCE55u;  /* unlock (Cortex-M7) */
	DWT_CYCCNT = 0;
	DWT_CTRL |= 1u;         /* CYCCNTENA */
	TIMER0_CTRL = 0;
	TIMER0_RELOAD = 0xFFFFFFFFu;
	TIMER0_VALUE = 0xFFFFFFFFu;
	TIMER0_CTRL = 1;        /* enable, no interrupt */
}

/* Stack high-water mark: startup.c paints the stack with a pattern. */
extern uint32_t __stack_bottom, __stack_top;
static uint32_t stack_used(void)
{
	const volatile uint32_t *w = &__stack_bottom;
	while (w < &__stack_top && *w == 0x5aa5c33cu)
		w++;
	return (uint32_t)((const char *)&__stack_top - (const char *)w);
}

static void put_kv(const char *k, uint64_t v)
{
	semihost_puts(k);
	semihost_putu(v);
}

int main(void)
{
	model_ctx ctx;
	const void *ins[1];
	void *outs[1];
	uint32_t c0, c1, t0, t1;
	uint64_t cyc_total = 0, tick_total = 0, tick_first = 0;
	int i, k, n = NPROMPT, err, start = -1, filled = 0;

	(void)ins; /* the full-window loop's */
	(void)start; /* the KV-cache loop's */
	(void)filled;

	for (i = 0; i < NPROMPT; i++)
		seq[i] = prompt[i];
	ins[0] = window;
	outs[0] = logits;
	err = model_init(&ctx, model_blob_data, MODEL_BLOB_BYTES, model_arena_data, MODEL_ARENA_BYTES);
	if (err) {
		put_kv("model_init failed with code ", (uint64_t)err);
		semihost_puts("\n");
		return 1;
	}
	counters_start();
	for (i = 0; i < FW_STEPS; i++) {
		int first = n > FW_T ? n - FW_T : 0, len = n - first, best = 0;
		const float *row;
		for (k = 0; k < FW_T; k++)
			window[k] = (tok_t)(k < len ? seq[first + k] : 0);
		row = logits + (uint32_t)(len - 1) * FW_V;
		c0 = DWT_CYCCNT;
		t0 = TIMER0_VALUE;
#if FW_FULL
		err = model_run_v(&ctx, ins, outs);
#else
		row = logits;
		if (start != first) { /* a new window: its caches from one run */
			start = first;
			filled = len;
			err = model_prefill(&ctx, state, window, len, outs);
		} else { /* the next position: one step */
			const void *tin[1];
			tin[0] = &window[filled];
			err = model_step_v(&ctx, state, filled, tin, outs);
			filled++;
		}
#endif
		t1 = TIMER0_VALUE;
		c1 = DWT_CYCCNT;
		if (err) {
			put_kv("model_run failed with code ", (uint64_t)err);
			semihost_puts("\n");
			return 1;
		}
		cyc_total += c1 - c0;
		tick_total += t0 - t1; /* the timer counts down */
		if (i == 0)
			tick_first = t0 - t1;
		for (k = 1; k < FW_V; k++)
			if (row[k] > row[best])
				best = k;
		seq[n++] = best;
		if (i)
			semihost_puts(",");
		semihost_putu((uint64_t)best);
	}
	semihost_puts("\n");
	put_kv("# steps ", FW_STEPS);
	put_kv(" arena_bytes ", MODEL_ARENA_BYTES);
	put_kv(" blob_bytes ", MODEL_BLOB_BYTES);
	put_kv(" stack_used ", stack_used());
	put_kv(" stack_size ", (uint64_t)((char *)&__stack_top - (char *)&__stack_bottom));
	semihost_puts("\n");
	put_kv("# dwt_cycles_per_token ", cyc_total / FW_STEPS);
	put_kv(" timer_ticks_per_token ", tick_total / FW_STEPS);
	semihost_puts(" (25 MHz; x40 = instructions under qemu -icount shift=0)\n");
	put_kv(FW_FULL ? "# full window: first_token_ticks " : "# kv cache: first_token_ticks ", tick_first);
	put_kv(" later_token_ticks ", FW_STEPS > 1 ? (tick_total - tick_first) / (FW_STEPS - 1) : tick_first);
	put_kv(" state_bytes ", FW_FULL ? 0 : (uint64_t)MODEL_STATE_BYTES);
	semihost_puts("\n");
	return 0;
}
