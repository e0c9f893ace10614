/* semihost.h: the few ARM semihosting calls the firmware example uses
 * (qemu -semihosting, or a debugger such as OpenOCD with semihosting on). */
#ifndef SEMIHOST_H
#define SEMIHOST_H
#include <stdint.h>
void semihost_puts(const char *s);          /* SYS_WRITE0: a NUL-terminated string */
void semihost_putu(uint64_t v);             /* an unsigned decimal number */
void semihost_exit(int status);             /* SYS_EXIT: 0 = success */
#endif
