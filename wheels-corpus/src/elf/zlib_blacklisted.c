/* Uses uncompress2 from libz.so.1: a real symbol (ZLIB_1.2.9) that is on
 * auditwheel's libz blacklist for manylinux_2_5..2_31 (and musllinux).
 * Expected: manylinux_2_34 — the first policy whose blacklist omits it. */
#include <zlib.h>

int tw_case(int n) {
    Bytef src[64] = "abcabcabcabc", comp[128], out[64];
    uLongf clen = sizeof comp, olen = sizeof out;
    uLong slen = 12;
    if (compress(comp, &clen, src, 12) != Z_OK)
        return -1;
    return uncompress2(out, &olen, comp, &clen) == Z_OK && olen == slen ? n : -1;
}
