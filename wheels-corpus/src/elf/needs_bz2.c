/* Linked against the system libbz2.so.1.0, which is on no manylinux or
 * musllinux whitelist. Expected: linux_x86_64 (repair must graft libbz2). */
#include <bzlib.h>

int tw_case(int n) { return BZ2_bzlibVersion()[0] ? n : -1; }
