/*
 * Whether each value of an Arrow string array starts with its row's value of a second
 * array and ends with its row's value of a third, in one pass over the buffers.
 *
 * The ledger's verifier proves a SQLite store's entries over Arrow batches
 * (handover.ledger.verify_native): every body must open with the text its row's action
 * and actor columns make, and close with the text its seq, subject and ts columns make.
 * No Arrow kernel compares a prefix or a suffix that differs row by row; splitting every
 * body to compare its ends cost about 1 s a million entries, this about 0.02 s. It reads
 * three arrays' int32 offsets and data buffers and answers the first row that does not
 * match, so nothing here decides what a body should hold.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    Py_buffer offs, data;
    const int32_t *o;
    Py_ssize_t count;
} Text;

static int text_check(Text *t, const char *name) {
    t->o = t->offs.buf;
    if (t->offs.len % (Py_ssize_t)sizeof(int32_t) || t->offs.len < (Py_ssize_t)sizeof(int32_t)) {
        PyErr_Format(PyExc_ValueError, "%s: the offsets are not whole int32 values", name);
        return -1;
    }
    t->count = t->offs.len / (Py_ssize_t)sizeof(int32_t) - 1;
    for (Py_ssize_t i = 0; i < t->count; i++) {
        if (t->o[i] < 0 || t->o[i + 1] < t->o[i] || t->o[i + 1] > t->data.len) {
            PyErr_Format(PyExc_ValueError, "%s: offsets outside the data", name);
            return -1;
        }
    }
    return 0;
}

/* first_unframed(values, prefixes, suffixes) -> int: each argument an (offsets, data)
 * pair; the first row whose value does not start with its prefix and end with its suffix
 * (the two not overlapping), or -1 when every row does */
static PyObject *first_unframed(PyObject *self, PyObject *args) {
    Text t[3] = {0};
    if (!PyArg_ParseTuple(args, "(y*y*)(y*y*)(y*y*)", &t[0].offs, &t[0].data, &t[1].offs,
                          &t[1].data, &t[2].offs, &t[2].data))
        return NULL;
    PyObject *out = NULL;
    if (text_check(&t[0], "values") < 0 || text_check(&t[1], "prefixes") < 0
        || text_check(&t[2], "suffixes") < 0)
        goto done;
    if (t[1].count != t[0].count || t[2].count != t[0].count) {
        PyErr_SetString(PyExc_ValueError, "the arrays differ in length");
        goto done;
    }
    Py_ssize_t bad = -1;
    const char *v = t[0].data.buf, *p = t[1].data.buf, *s = t[2].data.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < t[0].count; i++) {
        int32_t vl = t[0].o[i + 1] - t[0].o[i], pl = t[1].o[i + 1] - t[1].o[i],
                sl = t[2].o[i + 1] - t[2].o[i];
        const char *value = v + t[0].o[i];
        if ((int64_t)pl + sl > vl || memcmp(value, p + t[1].o[i], (size_t)pl) != 0
            || memcmp(value + vl - sl, s + t[2].o[i], (size_t)sl) != 0) {
            bad = i;
            break;
        }
    }
    Py_END_ALLOW_THREADS
    out = PyLong_FromSsize_t(bad);
done:
    for (int k = 0; k < 3; k++) {
        PyBuffer_Release(&t[k].offs);
        PyBuffer_Release(&t[k].data);
    }
    return out;
}

static PyMethodDef METHODS[] = {
    {"first_unframed", first_unframed, METH_VARARGS,
     "first_unframed((offsets, data), (offsets, data), (offsets, data)) -> int"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_frames", "Per-row prefix and suffix checks over Arrow buffers.", -1,
    METHODS,
};

PyMODINIT_FUNC PyInit__frames(void) { return PyModule_Create(&MODULE); }
