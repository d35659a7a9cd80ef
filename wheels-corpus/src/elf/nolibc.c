/* Built with -nostdlib: no DT_NEEDED, no versioned symbols at all.
 * Expected: manylinux_2_5 (nothing constrains it). */
int tw_case(int n) { return n; }
