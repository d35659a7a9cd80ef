/* Needs GLIBC_2.34 via dlopen (libdl was merged into libc in 2.34; older
 * builds get dlopen@GLIBC_2.2.5 from libdl.so.2). Expected: manylinux_2_34. */
#include <dlfcn.h>
__asm__(".symver dlopen, dlopen@GLIBC_2.34");

int tw_case(int n) {
    void *h = dlopen(0, RTLD_LAZY);
    return h ? n : -1;
}
