/* Uses crc32_z@ZLIB_1.2.9 from the system libz.so.1 (a whitelisted library).
 * auditwheel allows ZLIB_1.2.9 from manylinux_2_27 on. Expected: manylinux_2_27. */
#include <zlib.h>

int tw_case(int n) {
    static const unsigned char data[] = "123456789";
    return crc32_z(0L, data, 9) == 0xCBF43926UL ? n : -1;
}
