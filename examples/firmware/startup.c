/* startup.c: minimal Cortex-M7 startup for the gptossc firmware example.
 *
 * The vector table sits at address 0 (section .vectors, see mps2-an500.ld):
 * word 0 is the initial stack pointer, word 1 the reset handler.  The reset
 * handler enables the FPU first (the model is compiled with
 * -mfloat-abi=hard, so any float instruction before CPACR is set faults),
 * copies .data from its load address in flash to RAM, zeroes .bss, paints
 * the stack (to measure its high-water mark) and calls main.  Nothing here needs libc.
 */
#include <stdint.h>
#include "semihost.h"

extern uint32_t __stack_top;              /* linker script symbols */
extern uint32_t __data_load, __data_start, __data_end;
extern uint32_t __bss_start, __bss_end;
extern uint32_t __stack_bottom;

int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void Fault_Handler(void);

#define STACK_PAINT 0x5aa5c33cu
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_BFAR (*(volatile uint32_t *)0xE000ED38u)
#define SCB_MMFAR (*(volatile uint32_t *)0xE000ED34u)

/* Cortex-M7 system exceptions.  Faults end the run with a failure status so a
 * test under qemu does not hang. */
void NMI_Handler(void) __attribute__((weak, alias("Default_Handler")));
void HardFault_Handler(void) __attribute__((weak, alias("Fault_Handler")));
void MemManage_Handler(void) __attribute__((weak, alias("Fault_Handler")));
void BusFault_Handler(void) __attribute__((weak, alias("Fault_Handler")));
void UsageFault_Handler(void) __attribute__((weak, alias("Fault_Handler")));
void SVC_Handler(void) __attribute__((weak, alias("Default_Handler")));
void DebugMon_Handler(void) __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));

typedef void (*vector_fn)(void);

__attribute__((section(".vectors"), used))
const vector_fn vector_table[16] = {
	(vector_fn)(uintptr_t)&__stack_top,
	Reset_Handler,
	NMI_Handler,
	HardFault_Handler,
	MemManage_Handler,
	BusFault_Handler,
	UsageFault_Handler,
	0, 0, 0, 0,
	SVC_Handler,
	DebugMon_Handler,
	0,
	PendSV_Handler,
	SysTick_Handler,
};

/* Plain word loops through volatile pointers: gcc must not turn them into
 * memcpy/memset calls (which could run before .data is valid). */
__attribute__((noreturn, used))
void Reset_Handler(void)
{
	volatile uint32_t *src, *dst;

	/* 1. FPU: full access to CP10 and CP11, before any float instruction. */
	SCB_CPACR |= 0xFu << 20;
	__asm__ volatile("dsb\n\tisb" ::: "memory");
	SCB_VTOR = 0; /* the table is at address 0 */

	/* 2. .data: flash -> RAM */
	for (src = &__data_load, dst = &__data_start; dst < &__data_end;)
		*dst++ = *src++;
	/* 3. .bss (the static arena lives here, see the linker script) */
	for (dst = &__bss_start; dst < &__bss_end;)
		*dst++ = 0;
	/* 4. paint the stack below this frame, for stack_used() in main.c */
	for (dst = &__stack_bottom; dst < (volatile uint32_t *)__builtin_frame_address(0) - 64;)
		*dst++ = STACK_PAINT;

	semihost_exit(main());
	for (;;)
		;
}

static void put_hex(const char *name, uint32_t v)
{
	char b[12];
	int i;
	b[0] = ' ';
	for (i = 0; i < 8; i++)
		b[1 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
	b[9] = 0;
	semihost_puts(name);
	semihost_puts(b);
}

/* A fault: print where (the stacked PC and LR) and why, then exit(1). */
__attribute__((used)) static void fault_report(const uint32_t *frame)
{
	semihost_puts("fault:");
	put_hex(" pc", frame[6]);
	put_hex(" lr", frame[5]);
	put_hex(" cfsr", SCB_CFSR);
	put_hex(" hfsr", SCB_HFSR);
	put_hex(" bfar", SCB_BFAR);
	put_hex(" mmfar", SCB_MMFAR);
	semihost_puts("\n");
	semihost_exit(1);
}

__attribute__((naked)) void Fault_Handler(void)
{
	__asm__ volatile("tst lr, #4\n\t"
			 "ite eq\n\t"
			 "mrseq r0, msp\n\t"
			 "mrsne r0, psp\n\t"
			 "b fault_report\n");
}

void Default_Handler(void)
{
	semihost_exit(0x7f); /* a fault: fail loudly */
	for (;;)
		;
}
