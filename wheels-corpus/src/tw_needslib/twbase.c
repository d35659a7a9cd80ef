/* libtwbase.so.0: a private library that libtwdemo.so.1 depends on, so that
 * repairing tw_needslib must graft a library AND its own dependency. */
int twbase_offset(void) { return 1000; }
