/* Needs GLIBC_2.28 via fcntl64. Expected: manylinux_2_28 (not manylinux2014). */
#define _GNU_SOURCE
#include <fcntl.h>
__asm__(".symver fcntl64, fcntl64@GLIBC_2.28");

int tw_case(int n) { return fcntl64(0, F_GETFD) >= -1 ? n : -1; }
