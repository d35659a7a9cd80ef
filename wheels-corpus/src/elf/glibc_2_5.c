/* Needs only the oldest x86_64 glibc versions (GLIBC_2.2.5). memcpy has a
 * newer default version (GLIBC_2.14); .symver binds the old one, the trick
 * manylinux builds use. Expected: manylinux_2_5. */
#include <stdlib.h>
#include <string.h>
__asm__(".symver memcpy, memcpy@GLIBC_2.2.5");

int tw_case(int n) {
    char *a = malloc((size_t)n + 1), *b = malloc((size_t)n + 1);
    memset(a, 'x', (size_t)n);
    memcpy(b, a, (size_t)n); /* runtime size: a real call, not inlined */
    b[n] = 0;
    int r = (int)strlen(b);
    free(a);
    free(b);
    return r;
}
