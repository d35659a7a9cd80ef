/* Linked with -z pack-relative-relocs: relative relocations go into DT_RELR
 * and, as it links libc.so.6, the object needs the version GLIBC_ABI_DT_RELR
 * (glibc >= 2.36). Expected: manylinux_2_36. The table of pointers makes the
 * relative relocations; strlen keeps libc.so.6 a DT_NEEDED entry. */
#include <string.h>

static const char *table[] = {"a", "bb", "ccc", "dddd", "a", "bb", "ccc", "dddd"};

int tw_case(int n) {
    size_t s = 0;
    for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++)
        s += strlen(table[(i + (unsigned)n) % 8]);
    return s == 20 ? n : -1;
}
