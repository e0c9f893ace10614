/* semihost.c: minimal ARM semihosting (bkpt 0xab, Thumb) without libc.
 * Only the test's own output goes through here; the model needs no I/O. */
#include "semihost.h"

#define SYS_WRITE0 0x04
#define SYS_EXIT 0x18
#define ADP_Stopped_ApplicationExit 0x20026
#define ADP_Stopped_RunTimeErrorUnknown 0x20023

static int semihost_call(int op, const void *arg)
{
	register int r0 __asm__("r0") = op;
	register const void *r1 __asm__("r1") = arg;
	__asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
	return r0;
}

void semihost_puts(const char *s)
{
	semihost_call(SYS_WRITE0, s);
}

void semihost_putu(uint64_t v)
{
	char buf[24], *p = buf + sizeof buf;
	*--p = 0;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	semihost_puts(p);
}

/* On AArch32 SYS_EXIT takes the reason code itself in r1: qemu exits with
 * status 0 for ApplicationExit and 1 for anything else. */
void semihost_exit(int status)
{
	semihost_call(SYS_EXIT, (const void *)(uintptr_t)(status == 0 ? ADP_Stopped_ApplicationExit
								   : ADP_Stopped_RunTimeErrorUnknown));
	for (;;)
		;
}
