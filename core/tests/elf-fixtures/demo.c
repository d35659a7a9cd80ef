/* A small shared library for the ELF reader's fixtures: it imports versioned symbols
   from libc and libm, defines two versions of one symbol, and a thread-local. */
#include <math.h>
#include <string.h>
#include <stdio.h>

__thread int demo_tls;
int demo_data = 42;

double demo_cos(double x) { return cos(x) + demo_tls; }

void demo_copy(char *d, const char *s, size_t n) { memcpy(d, s, n); }

int demo_print(const char *s) { return puts(s); }

int demo_old(void) { return 1; }
int demo_new(void) { return 2; }
__asm__(".symver demo_old, demo_api@DEMO_1.0");
__asm__(".symver demo_new, demo_api@@DEMO_2.0");
