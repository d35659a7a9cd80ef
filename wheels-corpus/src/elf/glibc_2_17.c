/* Needs exactly GLIBC_2.17 (clock_gettime moved into libc in 2.17).
 * Expected: manylinux_2_17 — the newest glibc manylinux2014 allows. */
#include <time.h>
__asm__(".symver clock_gettime, clock_gettime@GLIBC_2.17");

int tw_case(int n) {
    struct timespec ts;
    return clock_gettime(CLOCK_MONOTONIC, &ts) == 0 ? n : -1;
}
