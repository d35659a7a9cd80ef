/* Linked with a DT_RUNPATH of $ORIGIN/../tw_elfcase_runpath.libs (new dtags);
 * the sibling case "rpath" uses the same source with DT_RPATH (old dtags).
 * Fixtures for the ELF reader and for repair replacing an existing path.
 * Expected: manylinux_2_5 (a runpath alone changes no verdict). */
int tw_case(int n) { return n; }
