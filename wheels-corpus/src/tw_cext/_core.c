/* tw_cext._core: a minimal CPython extension that needs only libc and libm
 * with old symbol versions, so auditwheel rates it manylinux_2_17 or older. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

static PyObject *add(PyObject *self, PyObject *args) {
    double a, b;
    if (!PyArg_ParseTuple(args, "dd", &a, &b))
        return NULL;
    return PyFloat_FromDouble(a + b);
}

/* floor() from libm keeps a real libm dependency (DT_NEEDED libm.so.6). */
static PyObject *floor_add(PyObject *self, PyObject *args) {
    double a, b;
    if (!PyArg_ParseTuple(args, "dd", &a, &b))
        return NULL;
    volatile double s = a + b; /* volatile: keep the call to libm */
    return PyFloat_FromDouble(floor(s));
}

static PyMethodDef methods[] = {
    {"add", add, METH_VARARGS, "add(a, b) -> float: a + b"},
    {"floor_add", floor_add, METH_VARARGS, "floor_add(a, b) -> float: floor(a + b) via libm"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_core", "tw_cext test extension", -1, methods,
};

PyMODINIT_FUNC PyInit__core(void) { return PyModule_Create(&module); }
