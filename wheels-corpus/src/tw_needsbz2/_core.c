/* tw_needsbz2._core: linked against the system libbz2.so.1.0, which is on no
 * manylinux whitelist: `auditwheel repair` must graft it into the wheel. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <bzlib.h>

static PyObject *version(PyObject *self, PyObject *noargs) {
    return PyUnicode_FromString(BZ2_bzlibVersion());
}

static PyMethodDef methods[] = {
    {"version", version, METH_NOARGS, "version() -> str: BZ2_bzlibVersion()"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_core", "tw_needsbz2 test extension", -1, methods,
};

PyMODINIT_FUNC PyInit__core(void) { return PyModule_Create(&module); }
