/* tw_needsz._core: linked against the system libz.so.1, using only its
 * unversioned (Base) API: compress2/uncompress/crc32. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <zlib.h>

static PyObject *roundtrip(PyObject *self, PyObject *args) {
    Py_buffer in;
    if (!PyArg_ParseTuple(args, "y*", &in))
        return NULL;
    uLongf clen = compressBound(in.len);
    Bytef *cbuf = PyMem_Malloc(clen ? clen : 1);
    Bytef *dbuf = PyMem_Malloc(in.len ? in.len : 1);
    PyObject *res = NULL;
    uLongf dlen = in.len;
    if (!cbuf || !dbuf) {
        PyErr_NoMemory();
    } else if (compress2(cbuf, &clen, in.buf, in.len, 9) != Z_OK ||
               uncompress(dbuf, &dlen, cbuf, clen) != Z_OK) {
        PyErr_SetString(PyExc_RuntimeError, "zlib failed");
    } else {
        res = PyBytes_FromStringAndSize((const char *)dbuf, dlen);
    }
    PyMem_Free(cbuf);
    PyMem_Free(dbuf);
    PyBuffer_Release(&in);
    return res;
}

static PyObject *crc(PyObject *self, PyObject *args) {
    Py_buffer in;
    if (!PyArg_ParseTuple(args, "y*", &in))
        return NULL;
    uLong c = crc32(0L, in.buf, in.len);
    PyBuffer_Release(&in);
    return PyLong_FromUnsignedLong(c);
}

static PyMethodDef methods[] = {
    {"roundtrip", roundtrip, METH_VARARGS, "roundtrip(data) -> bytes: compress then uncompress"},
    {"crc32", crc, METH_VARARGS, "crc32(data) -> int"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_core", "tw_needsz test extension", -1, methods,
};

PyMODINIT_FUNC PyInit__core(void) { return PyModule_Create(&module); }
