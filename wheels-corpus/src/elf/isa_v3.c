/* Built with -march=x86-64-v3 and linked with -z x86-64-v3, which records
 * GNU_PROPERTY_X86_ISA_1_NEEDED = x86-64-v3 in .note.gnu.property. glibc
 * refuses to load it on a CPU without AVX2/BMI2/FMA/MOVBE; auditwheel's ISA
 * check flags it (unsupported_isa) unless run with --disable-isa-ext-check. */
int tw_case(int n) {
    volatile float x = (float)n, y = 2.0f, z = 1.0f;
    return (int)(x * y + z) == 2 * n + 1 ? n : -1; /* may compile to FMA */
}
