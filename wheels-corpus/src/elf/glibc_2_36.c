/* Needs GLIBC_2.36 via arc4random (new in glibc 2.36, the glibc of Debian 12).
 * Expected: manylinux_2_36 when audited on a glibc >= 2.36 host. */
#include <stdlib.h>
#include <stdint.h>
__asm__(".symver arc4random, arc4random@GLIBC_2.36");
uint32_t arc4random(void);

int tw_case(int n) { return (int)(arc4random() & 0) + n; }
