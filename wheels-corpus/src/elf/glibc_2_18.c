/* Needs GLIBC_2.18 via __cxa_thread_atexit_impl, one past manylinux2014. The
 * symbol is also on auditwheel's libc blacklist for manylinux_2_5..2_17.
 * auditwheel has no manylinux_2_18..2_23 policy, so expected: manylinux_2_24. */
__asm__(".symver __cxa_thread_atexit_impl, __cxa_thread_atexit_impl@GLIBC_2.18");
int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso);

extern void *__dso_handle;
static void noop(void *p) { (void)p; }

int tw_case(int n) {
    /* registers a no-op destructor for this thread */
    return __cxa_thread_atexit_impl(noop, 0, &__dso_handle) == 0 ? n : -1;
}
