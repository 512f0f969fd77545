/*
 * The per-value part of a resumed migration's change detector (fingerprint.py): for each
 * value of an Arrow binary array, its length times COL plus the sum of its bytes times
 * P^(position in the value), modulo 2^64 (unsigned wrap-around). No security measure,
 * the same numbers as fingerprint._bytes_hash's numpy passes, in one pass over the bytes
 * with the interpreter lock released. Built when a C compiler is present; without it
 * fingerprint.py computes the same with numpy.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* hashes(offsets, data, count, col, p) -> bytes: count little-endian uint64 */
static PyObject *hashes(PyObject *self, PyObject *args) {
    Py_buffer offs, data;
    Py_ssize_t count;
    unsigned long long col, p;
    if (!PyArg_ParseTuple(args, "y*y*nKK", &offs, &data, &count, &col, &p)) return NULL;
    PyObject *out = NULL;
    const char *problem = NULL;
    const int64_t *o = (const int64_t *)offs.buf;
    const unsigned char *d = (const unsigned char *)data.buf;
    if (count < 0 || count > offs.len / (Py_ssize_t)sizeof(int64_t) - 1) {
        problem = "too few offsets";
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if (o[i] < 0 || o[i + 1] < o[i] || o[i + 1] > data.len) {
            problem = "offsets outside the data";
            goto done;
        }
    }
    out = PyBytes_FromStringAndSize(NULL, count * (Py_ssize_t)sizeof(uint64_t));
    if (out == NULL) goto done;
    uint64_t *w = (uint64_t *)PyBytes_AS_STRING(out);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        uint64_t h = (uint64_t)(o[i + 1] - o[i]) * (uint64_t)col, weight = 1;
        for (int64_t j = o[i]; j < o[i + 1]; j++) {
            h += (uint64_t)d[j] * weight;
            weight *= (uint64_t)p;
        }
        uint64_t le = h; /* little-endian out, as numpy's "<u8" reads it */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        le = __builtin_bswap64(h);
#endif
        memcpy(&w[i], &le, sizeof le);
    }
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&offs);
    PyBuffer_Release(&data);
    if (problem != NULL) {
        Py_CLEAR(out);
        PyErr_SetString(PyExc_ValueError, problem);
    }
    return out;
}

static PyMethodDef METHODS[] = {
    {"hashes", hashes, METH_VARARGS, "hashes(offsets, data, count, col, p) -> bytes"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_polyhash", "The fingerprint's per-value polynomial hash.", -1,
    METHODS,
};

PyMODINIT_FUNC PyInit__polyhash(void) { return PyModule_Create(&MODULE); }
