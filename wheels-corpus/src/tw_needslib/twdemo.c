/* libtwdemo.so.1: a private shared library, never shipped inside a wheel by
 * make-local; tw_needslib links against it and so needs `auditwheel repair`. */
int twbase_offset(void);

int twdemo_mul(int a, int b) { return a * b + twbase_offset(); }
