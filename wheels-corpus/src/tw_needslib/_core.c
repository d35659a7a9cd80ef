/* tw_needslib._core: linked against the private libtwdemo.so.1 (which needs
 * libtwbase.so.0). Importable only with LD_LIBRARY_PATH pointing at the libs
 * directory, or after a repair grafted both libraries into the wheel. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

int twdemo_mul(int a, int b);

static PyObject *mul(PyObject *self, PyObject *args) {
    int a, b;
    if (!PyArg_ParseTuple(args, "ii", &a, &b))
        return NULL;
    return PyLong_FromLong(twdemo_mul(a, b));
}

static PyMethodDef methods[] = {
    {"mul", mul, METH_VARARGS, "mul(a, b) -> int: a * b + 1000, computed in libtwdemo/libtwbase"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_core", "tw_needslib test extension", -1, methods,
};

PyMODINIT_FUNC PyInit__core(void) { return PyModule_Create(&module); }
