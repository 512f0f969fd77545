/*
 * The digest texts of verify's row merge (handover/verify/arrow.py), built in one pass over
 * Arrow's buffers with the interpreter lock released:
 *
 *   g15   a REAL's text, the decimal of at most 15 significant digits whose nearest double
 *         it is (arrow._g15's numpy passes, the same arithmetic in the same order);
 *   rows  each row's digest text from its values' texts (arrow.digest_texts' kernels):
 *         "<text>," for a compact column (NULL: ","), "<length>:<text>" otherwise (NULL:
 *         ":"), the length in code points, and the row marked with a leading NUL where a
 *         checked compact value holds a comma or is empty.
 *
 * Built when a C compiler is present; without it arrow.py builds the same texts with Arrow
 * kernels. tests/test_rowtext.py compares the two value class by value class.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* the powers of ten a scale may need (10^18 < 2^63; every one exact as a double) */
static const double P10F[19] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};
static const int64_t P10I[19] = {1LL,
                                 10LL,
                                 100LL,
                                 1000LL,
                                 10000LL,
                                 100000LL,
                                 1000000LL,
                                 10000000LL,
                                 100000000LL,
                                 1000000000LL,
                                 10000000000LL,
                                 100000000000LL,
                                 1000000000000LL,
                                 10000000000000LL,
                                 100000000000000LL,
                                 1000000000000000LL,
                                 10000000000000000LL,
                                 100000000000000000LL,
                                 1000000000000000000LL};
/* the scales tried, in arrow._g15's order: cents first (most amounts), then upwards */
static const int ORDER[20] = {2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
/* the largest pad g15 takes (arrow._PAD_MAX: 10^15 * 10^3 < 2^63) */
#define PAD_MAX 3
/* a value's text at most: sign, 15 + PAD_MAX digits, point, 18 + PAD_MAX decimals */
#define G15_MAX 48

/* the decimal digits of v >= 0, written at p; their count */
static int digits(char *p, uint64_t v) {
    if (v < 10) { /* most lengths: one or two digits */
        p[0] = (char)('0' + v);
        return 1;
    }
    if (v < 100) {
        p[0] = (char)('0' + v / 10);
        p[1] = (char)('0' + v % 10);
        return 2;
    }
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++) p[i] = tmp[n - 1 - i];
    return n;
}

/* one valid double's text at p (its length), or -1 where arrow._g15 leaves it to SQLite */
static int g15_one(double x, int pad, char *p) {
    double a = fabs(x);
    int64_t k = 0;
    int scale = 0;
    if (a != 0.0) {
        if (!(a >= 1e-4 && a <= 1e14)) return -1; /* NaN fails both */
        int found = 0;
        for (int j = 0; j < 20 && !found; j++) {
            int s = ORDER[j];
            double cand = rint(a * P10F[s]);
            if (cand < 1e15 && cand / P10F[s] == a) {
                scale = s;
                k = (int64_t)cand;
                found = 1;
            }
        }
        if (!found) return -1;
        /* the smallest scale: a decimal that ends in 0 is the same number one scale down
           (only the cents' pass can leave one or two such zeros) */
        for (int t = 0; t < 2; t++) {
            if (scale > 0 && k % 10 == 0) {
                k /= 10;
                scale--;
            }
        }
    }
    if (pad >= 0 && pad > scale) {
        k *= P10I[pad - scale];
        scale = pad;
    }
    int n = 0;
    if (x < 0) p[n++] = '-';
    int64_t unit = P10I[scale];
    n += digits(p + n, (uint64_t)(k / unit));
    if (scale > 0) {
        p[n++] = '.';
        int64_t frac = k % unit;
        for (int i = scale - 1; i >= 0; i--) {
            p[n + i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        n += scale;
    }
    return n;
}

/* g15(values, valid, count, pad) -> (offsets, data) | None: offsets count + 1 int32 */
static PyObject *g15(PyObject *self, PyObject *args) {
    Py_buffer vals, valid;
    Py_ssize_t count;
    int pad;
    if (!PyArg_ParseTuple(args, "y*y*ni", &vals, &valid, &count, &pad)) return NULL;
    PyObject *result = NULL;
    const char *problem = NULL;
    char *text = NULL;
    int32_t *offs = NULL;
    int refused = 0;
    if (count < 0 || count > vals.len / (Py_ssize_t)sizeof(double) || valid.len < count) {
        problem = "buffers shorter than the count";
        goto done;
    }
    if (pad < -1 || pad > PAD_MAX) {
        problem = "pad outside -1..3";
        goto done;
    }
    if (count > INT32_MAX / G15_MAX) {
        result = Py_None; /* more text than an Arrow string array holds: not rendered here */
        Py_INCREF(result);
        goto done;
    }
    text = malloc((size_t)count * G15_MAX + 1);
    offs = malloc(((size_t)count + 1) * sizeof(int32_t));
    if (text == NULL || offs == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    const unsigned char *ok = (const unsigned char *)valid.buf;
    int32_t at = 0;
    Py_BEGIN_ALLOW_THREADS
    offs[0] = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (ok[i]) {
            double x;
            memcpy(&x, (const char *)vals.buf + i * sizeof(double), sizeof x);
            int n = g15_one(x, pad, text + at);
            if (n < 0) {
                refused = 1;
                break;
            }
            at += n;
        }
        offs[i + 1] = at;
    }
    Py_END_ALLOW_THREADS
    if (refused) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    result = Py_BuildValue("(y#y#)", (const char *)offs,
                           (Py_ssize_t)(((size_t)count + 1) * sizeof(int32_t)), text,
                           (Py_ssize_t)at);
done:
    free(text);
    free(offs);
    PyBuffer_Release(&vals);
    PyBuffer_Release(&valid);
    if (problem != NULL) PyErr_SetString(PyExc_ValueError, problem);
    return result;
}

/* the i-th int32 of a buffer that may not be aligned */
static int32_t ld32(const void *base, Py_ssize_t i) {
    int32_t v;
    memcpy(&v, (const char *)base + i * (Py_ssize_t)sizeof(int32_t), sizeof v);
    return v;
}

/* one column of rows(): an Arrow string array's buffers */
typedef struct {
    Py_buffer valid, offs, data;
    int has_valid;
    Py_ssize_t offset;
    int compact, check;
} Column;

static int bit(const Column *c, Py_ssize_t i) {
    if (!c->has_valid) return 1;
    Py_ssize_t j = c->offset + i;
    return (((const unsigned char *)c->valid.buf)[j >> 3] >> (j & 7)) & 1;
}

static void release(Column *cols, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        if (cols[i].has_valid) PyBuffer_Release(&cols[i].valid);
        PyBuffer_Release(&cols[i].offs);
        PyBuffer_Release(&cols[i].data);
    }
}

/* the column's tuple (validity | None, offsets, data, offset, compact, check), checked
   against count rows; 0, or -1 with an exception set (nothing held) */
static int column_of(PyObject *item, Py_ssize_t count, Column *c) {
    PyObject *validity;
    memset(c, 0, sizeof *c);
    if (!PyArg_ParseTuple(item, "Oy*y*npp", &validity, &c->offs, &c->data, &c->offset,
                          &c->compact, &c->check))
        return -1;
    const char *problem = NULL;
    if (validity != Py_None) {
        if (PyObject_GetBuffer(validity, &c->valid, PyBUF_SIMPLE) < 0) {
            PyBuffer_Release(&c->offs);
            PyBuffer_Release(&c->data);
            return -1;
        }
        c->has_valid = 1;
    }
    if (c->offset < 0 || c->offset > PY_SSIZE_T_MAX / 8 - count - 1)
        problem = "offset out of range";
    else if (c->offs.len < (c->offset + count + 1) * (Py_ssize_t)sizeof(int32_t))
        problem = "too few offsets";
    else if (c->has_valid && c->valid.len * 8 < c->offset + count)
        problem = "validity shorter than the count";
    else {
        for (Py_ssize_t i = 0; i < count && problem == NULL; i++) {
            int32_t a = ld32(c->offs.buf, c->offset + i), b = ld32(c->offs.buf, c->offset + i + 1);
            if (a < 0 || b < a || b > c->data.len) problem = "offsets outside the data";
        }
        int32_t first = ld32(c->offs.buf, c->offset);
        if (count == 0 && (first < 0 || first > c->data.len)) problem = "offsets outside the data";
    }
    if (problem != NULL) {
        release(c, 1);
        PyErr_SetString(PyExc_ValueError, problem);
        return -1;
    }
    return 0;
}

/* rows(columns, count) -> (offsets, data) | None: offsets count + 1 int32; None where the
   rows' text would not fit one Arrow string array */
static PyObject *rows(PyObject *self, PyObject *args) {
    PyObject *list;
    Py_ssize_t count;
    if (!PyArg_ParseTuple(args, "O!n", &PyList_Type, &list, &count)) return NULL;
    if (count < 0) {
        PyErr_SetString(PyExc_ValueError, "negative count");
        return NULL;
    }
    /* a tuple of the items: the checks below run Python code (__bool__, __index__) that
       could change the list itself */
    PyObject *items = PySequence_Tuple(list);
    if (items == NULL) return NULL;
    Py_ssize_t ncols = PyTuple_GET_SIZE(items);
    Column *cols = PyMem_Calloc(ncols ? (size_t)ncols : 1, sizeof(Column));
    if (cols == NULL) {
        Py_DECREF(items);
        return PyErr_NoMemory();
    }
    Py_ssize_t held = 0;
    PyObject *result = NULL, *out_text = NULL, *out_offs = NULL;
    char *text;
    int32_t *offs;
    for (; held < ncols; held++) {
        if (column_of(PyTuple_GET_ITEM(items, held), count, &cols[held]) < 0) goto done;
    }
    /* an upper bound of the text: every byte, a separator and a length of at most 20
       digits a value, and the mark a row */
    uint64_t bound = (uint64_t)count;
    for (Py_ssize_t c = 0; c < ncols; c++) {
        int32_t first = ld32(cols[c].offs.buf, cols[c].offset);
        int32_t last = ld32(cols[c].offs.buf, cols[c].offset + count);
        bound += (uint64_t)(last - first) + (uint64_t)count * (cols[c].compact ? 1 : 21);
    }
    if (bound > INT32_MAX) {
        result = Py_None; /* more text than an Arrow string array holds: not built here */
        Py_INCREF(result);
        goto done;
    }
    out_text = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)bound);
    out_offs = PyBytes_FromStringAndSize(NULL, (count + 1) * (Py_ssize_t)sizeof(int32_t));
    if (out_text == NULL || out_offs == NULL) goto done;
    text = PyBytes_AS_STRING(out_text);
    offs = (int32_t *)PyBytes_AS_STRING(out_offs);
    uint64_t at = 0;
    int changed = 0; /* a buffer changed under the loop (another thread wrote it) */
    Py_BEGIN_ALLOW_THREADS
    offs[0] = 0;
    for (Py_ssize_t i = 0; i < count && !changed; i++) {
        /* the mark first: a checked compact value with a comma, or empty */
        for (Py_ssize_t c = 0; c < ncols; c++) {
            const Column *col = &cols[c];
            if (!col->compact || !col->check || !bit(col, i)) continue;
            int32_t a = ld32(col->offs.buf, col->offset + i);
            int32_t b = ld32(col->offs.buf, col->offset + i + 1);
            if (a < 0 || b < a || b > col->data.len) {
                changed = 1;
                break;
            }
            if (a == b || memchr((const char *)col->data.buf + a, ',', (size_t)(b - a))) {
                if (at + 1 > bound) changed = 1;
                else text[at++] = '\0';
                break;
            }
        }
        for (Py_ssize_t c = 0; c < ncols && !changed; c++) {
            const Column *col = &cols[c];
            int present = bit(col, i);
            int32_t a = ld32(col->offs.buf, col->offset + i);
            int32_t b = ld32(col->offs.buf, col->offset + i + 1);
            if (a < 0 || b < a || b > col->data.len) {
                changed = 1;
                break;
            }
            const unsigned char *v = (const unsigned char *)col->data.buf + a;
            uint64_t len = present ? (uint64_t)(b - a) : 0;
            /* its room in the bound: the value and ',', or its length (20 digits at
               most), ':' and the value; checked, for a buffer another thread rewrote */
            uint64_t need = col->compact ? len + 1 : (present ? len + 21 : 1);
            if (at + need > bound) {
                changed = 1;
                break;
            }
            if (col->compact) {
                memcpy(text + at, v, (size_t)len);
                at += len;
                text[at++] = ',';
            } else if (!present) {
                text[at++] = ':';
            } else {
                uint64_t points = 0;
                for (uint64_t j = 0; j < len; j++) points += (v[j] & 0xC0) != 0x80;
                at += (uint64_t)digits(text + at, points);
                text[at++] = ':';
                memcpy(text + at, v, (size_t)len);
                at += len;
            }
        }
        offs[i + 1] = (int32_t)at;
    }
    Py_END_ALLOW_THREADS
    if (changed) {
        PyErr_SetString(PyExc_ValueError, "a buffer changed while the rows were built");
        goto done;
    }
    if (_PyBytes_Resize(&out_text, (Py_ssize_t)at) < 0) goto done; /* out_text NULL now */
    result = PyTuple_Pack(2, out_offs, out_text);
done:
    Py_XDECREF(out_text);
    Py_XDECREF(out_offs);
    release(cols, held);
    PyMem_Free(cols);
    Py_DECREF(items);
    return result;
}

static PyMethodDef METHODS[] = {
    {"g15", g15, METH_VARARGS, "g15(values, valid, count, pad) -> (offsets, data) | None"},
    {"rows", rows, METH_VARARGS, "rows(columns, count) -> (offsets, data) | None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_rowtext", "verify's digest texts over Arrow buffers.", -1, METHODS,
};

PyMODINIT_FUNC PyInit__rowtext(void) { return PyModule_Create(&MODULE); }
