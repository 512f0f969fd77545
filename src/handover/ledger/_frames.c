/*
 * Whether each value of an Arrow string array opens and closes with the texts its row's
 * columns make, in one pass over the buffers: the ledger verifier's check that every body
 * holds its row's columns (handover.ledger.verify_native).
 *
 * An opening and a closing are each a sequence of parts: a literal (bytes, the same in
 * every row) or a column (an Arrow string array's int32 offsets and data: the row's
 * value, which must need no escape in a JSON string -- no '"', no '\\', no character
 * below U+0020 -- since RFC 8785 then writes it as its characters). A row matches when
 * its value starts with its opening and ends with its closing, the two not overlapping.
 * No Arrow kernel compares a prefix or suffix that differs row by row; joining the
 * columns into texts and splitting the bodies cost about 1 s a million entries, this
 * about 0.05 s. It answers the first row that does not match, so nothing here decides
 * what a body means.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    int column;           /* 1: a column; 0: a literal */
    Py_buffer offs, data; /* a literal's bytes in data */
    const int32_t *o;
} Part;

typedef struct {
    Part *p;
    Py_ssize_t n;
} Parts;

static int column_check(Part *c, Py_ssize_t rows, const char *name) {
    c->o = c->offs.buf;
    if (c->offs.len != (rows + 1) * (Py_ssize_t)sizeof(int32_t)) {
        PyErr_Format(PyExc_ValueError, "%s: not %zd int32 offsets", name, rows + 1);
        return -1;
    }
    for (Py_ssize_t i = 0; i < rows; i++) {
        if (c->o[i] < 0 || c->o[i + 1] < c->o[i] || c->o[i + 1] > c->data.len) {
            PyErr_Format(PyExc_ValueError, "%s: offsets outside the data", name);
            return -1;
        }
    }
    return 0;
}

static void parts_release(Parts *ps) {
    for (Py_ssize_t i = 0; i < ps->n; i++) {
        if (ps->p[i].column) PyBuffer_Release(&ps->p[i].offs);
        PyBuffer_Release(&ps->p[i].data);
    }
    PyMem_Free(ps->p);
    ps->p = NULL;
    ps->n = 0;
}

/* Read a tuple of parts: bytes (a literal) or (offsets, data) (a column of `rows`). */
static int parts_read(PyObject *tuple, Py_ssize_t rows, Parts *ps) {
    if (!PyTuple_Check(tuple)) {
        PyErr_SetString(PyExc_TypeError, "parts must be a tuple");
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(tuple);
    ps->p = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Part));
    ps->n = 0;
    if (ps->p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(tuple, i);
        Part *part = &ps->p[i];
        if (PyTuple_Check(item)) {
            if (!PyArg_ParseTuple(item, "y*y*", &part->offs, &part->data)) goto fail;
            part->column = 1;
            ps->n = i + 1;
            if (column_check(part, rows, "a column part") < 0) goto fail;
        } else {
            if (PyObject_GetBuffer(item, &part->data, PyBUF_SIMPLE) < 0) goto fail;
            ps->n = i + 1;
        }
    }
    return 0;
fail:
    parts_release(ps);
    return -1;
}

static inline int32_t part_len(const Part *p, Py_ssize_t row) {
    return p->column ? p->o[row + 1] - p->o[row] : (int32_t)p->data.len;
}

/* Whether text (len bytes) is exactly the parts of `row` one after the other. */
static int parts_match(const Parts *ps, Py_ssize_t row, const unsigned char *text) {
    for (Py_ssize_t k = 0; k < ps->n; k++) {
        const Part *p = &ps->p[k];
        int32_t len = part_len(p, row);
        const unsigned char *want =
            (const unsigned char *)p->data.buf + (p->column ? p->o[row] : 0);
        if (memcmp(text, want, (size_t)len) != 0) return 0;
        if (p->column)
            for (int32_t j = 0; j < len; j++)
                if (want[j] == '"' || want[j] == '\\' || want[j] < 0x20) return 0;
        text += len;
    }
    return 1;
}

/* first_unframed((offsets, data), opening_parts, closing_parts) -> int: the first row
 * whose value does not open with its opening and close with its closing, or -1 */
static PyObject *first_unframed(PyObject *self, PyObject *args) {
    Part values = {1};
    PyObject *opening, *closing;
    if (!PyArg_ParseTuple(args, "(y*y*)O!O!", &values.offs, &values.data, &PyTuple_Type,
                          &opening, &PyTuple_Type, &closing))
        return NULL;
    PyObject *out = NULL;
    Parts open = {0}, close = {0};
    Py_ssize_t rows = values.offs.len / (Py_ssize_t)sizeof(int32_t) - 1;
    if (rows < 0 || column_check(&values, rows, "values") < 0) goto done;
    if (parts_read(opening, rows, &open) < 0 || parts_read(closing, rows, &close) < 0) goto done;
    Py_ssize_t bad = -1;
    const unsigned char *v = values.data.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < rows; i++) {
        int64_t ol = 0, cl = 0, vl = values.o[i + 1] - values.o[i];
        for (Py_ssize_t k = 0; k < open.n; k++) ol += part_len(&open.p[k], i);
        for (Py_ssize_t k = 0; k < close.n; k++) cl += part_len(&close.p[k], i);
        const unsigned char *value = v + values.o[i];
        if (ol + cl > vl || !parts_match(&open, i, value)
            || !parts_match(&close, i, value + vl - cl)) {
            bad = i;
            break;
        }
    }
    Py_END_ALLOW_THREADS
    out = PyLong_FromSsize_t(bad);
done:
    parts_release(&open);
    parts_release(&close);
    PyBuffer_Release(&values.offs);
    PyBuffer_Release(&values.data);
    return out;
}

static PyMethodDef METHODS[] = {
    {"first_unframed", first_unframed, METH_VARARGS,
     "first_unframed((offsets, data), opening_parts, closing_parts) -> int"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_frames", "Per-row opening and closing checks over Arrow buffers.",
    -1, METHODS,
};

PyMODINIT_FUNC PyInit__frames(void) { return PyModule_Create(&MODULE); }
