/* tw_newglibc._core: calls fcntl64(), which exists only as fcntl64@GLIBC_2.28,
 * so the module is manylinux_2_28 at best and NOT manylinux2014 (2_17). */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <fcntl.h>

static PyObject *fd_flags(PyObject *self, PyObject *args) {
    int fd;
    if (!PyArg_ParseTuple(args, "i", &fd))
        return NULL;
    int flags = fcntl64(fd, F_GETFL);
    if (flags < 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    return PyLong_FromLong(flags);
}

static PyMethodDef methods[] = {
    {"fd_flags", fd_flags, METH_VARARGS, "fd_flags(fd) -> int: fcntl64(fd, F_GETFL)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_core", "tw_newglibc test extension", -1, methods,
};

PyMODINIT_FUNC PyInit__core(void) { return PyModule_Create(&module); }
