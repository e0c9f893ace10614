/* startup.c: minimal Cortex-M7 startup for the gptossc firmware example.
 *
 * The vector table sits at address 0 (section .vectors, see mps2-an500.ld):
 * word 0 is the initial stack pointer, word 1 the reset handler.  The reset
 * handler enables the FPU first (the model is compiled with
 * -mfloat-abi=hard, so any float instruction before CPACR is set faults),
 * copies .data from its load address in flash to RAM, zeroes .bss and calls
 * main.  Nothing here needs libc.
 */
#include <stdint.h>

extern uint32_t __stack_top;              /* linker script symbols */
extern uint32_t __data_load, __data_start, __data_end;
extern uint32_t __bss_start, __bss_end;

int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void semihost_exit(int status);

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)

/* Cortex-M7 system exceptions.  Faults end the run with a failure status so a
 * test under qemu does not hang. */
void NMI_Handler(void) __attribute__((weak, alias("Default_Handler")));
void HardFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void MemManage_Handler(void) __attribute__((weak, alias("Default_Handler")));
void BusFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void UsageFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
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

	semihost_exit(main());
	for (;;)
		;
}

void Default_Handler(void)
{
	semihost_exit(0x7f); /* a fault: fail loudly */
	for (;;)
		;
}
