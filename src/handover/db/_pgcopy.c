/*
 * PostgreSQL's binary COPY rows, built from Arrow arrays in one pass over their buffers
 * (handover.db.pgcopy). Each row is a 16-bit field count, each field a 32-bit length
 * (-1: NULL) and the value in the type's own binary form, as the server's *_recv
 * functions read it (PostgreSQL documentation, "COPY", "Binary Format"; src/backend/
 * utils/adt/{int,float,bool,varlena,date,timestamp,numeric}.c): integers and floats in
 * network byte order, a date as days since 2000-01-01, a timestamp or time as
 * microseconds (since 2000-01-01 00:00 for a timestamp), a numeric as base-10000 digits
 * with its weight, sign and display scale, text and bytea as their bytes. The server
 * checks every value it reads (range, digits, UTF-8), so a value this module spelt wrong
 * is refused, never stored.
 *
 * rows(columns, n) -> bytes, where columns is a sequence of one tuple per column:
 *   (code, scale, validity, offset, values, data)
 *   code: 'b' boolean (bit-packed), 'h' int16, 'i' int32, 'q' int64, 'f' float32,
 *         'd' float64, 's' string/binary (int32 offsets), 'S' large string/binary
 *         (int64 offsets), 'D' date32, 'T' timestamp[us] (with or without zone),
 *         't' time64[us], 'N' decimal128 of ``scale`` (0 to 38)
 *   validity: the validity bitmap, or None (no NULL)
 *   offset: the array's offset (in values and in validity bits)
 *   values: the values buffer (for 's'/'S' the offsets buffer)
 *   data: for 's'/'S' the bytes buffer, else None
 * The interpreter lock is released while the rows are built. A buffer too short for n
 * rows, an offset out of its data, a value too long for a field or a date or timestamp
 * beyond PostgreSQL's epoch arithmetic raises ValueError naming the column's position
 * and never a value. Built when a C compiler is present; without it PostgreSQL's writes
 * go through ADBC's driver (or a CSV COPY).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_COLUMNS 1600 /* PostgreSQL's own limit of a table's columns */
#define NUMERIC_MAX 32   /* 8 bytes of header + at most 12 base-10000 digits */

/* microseconds and days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01 */
static const int64_t EPOCH_US = INT64_C(946684800000000);
static const int32_t EPOCH_DAYS = 10957;

typedef struct {
    char code;
    int scale;
    Py_buffer validity, values, data;
    int has_validity, has_values, has_data;
    Py_ssize_t offset;
} Column;

static void put16(unsigned char *p, uint16_t v) {
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void put64(unsigned char *p, uint64_t v) {
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static int is_valid(const Column *c, Py_ssize_t i) {
    if (!c->has_validity) return 1;
    Py_ssize_t bit = c->offset + i;
    return (((const unsigned char *)c->validity.buf)[bit >> 3] >> (bit & 7)) & 1;
}

/* The numeric of the decimal128 ``lo, hi`` (two's complement, little-endian halves) with
 * ``scale`` digits after the point, written at ``out``: its length. Base-10000 digits with
 * no leading or trailing zero digit, as numeric_send writes them (make_result strips
 * both); zero has no digit. */
static int numeric(unsigned char *out, uint64_t lo, uint64_t hi, int scale) {
    int negative = (int64_t)hi < 0;
    unsigned __int128 u = ((unsigned __int128)hi << 64) | lo;
    if (negative) u = ~u + 1; /* the magnitude; the most negative value fits unsigned */
    uint16_t groups[12];       /* least significant first */
    int n = 0;
    int r = scale % 4;
    if (r) { /* the last fractional digit group holds r digits, then zeros */
        static const unsigned pow10[4] = {1, 10, 100, 1000};
        unsigned part;
        if (u >> 64) {
            part = (unsigned)(u % pow10[r]);
            u /= pow10[r];
        } else { /* 64-bit division where the value fits (every loan amount) */
            uint64_t small = (uint64_t)u;
            part = (unsigned)(small % pow10[r]);
            u = small / pow10[r];
        }
        groups[n++] = (uint16_t)(part * pow10[4 - r]);
    }
    while (u >> 64) {
        groups[n++] = (uint16_t)(u % 10000);
        u /= 10000;
    }
    uint64_t v = (uint64_t)u;
    while (v) {
        groups[n++] = (uint16_t)(v % 10000);
        v /= 10000;
    }
    int fraction = (scale + 3) / 4;
    while (n > 0 && groups[n - 1] == 0) n--; /* leading zeros (only when r made a group) */
    int low = 0;
    while (low < n && groups[low] == 0) low++; /* trailing zeros */
    int ndigits = n - low;
    int weight = ndigits ? n - fraction - 1 : 0;
    put16(out, (uint16_t)ndigits);
    put16(out + 2, (uint16_t)(int16_t)weight);
    put16(out + 4, ndigits && negative ? 0x4000 : 0x0000);
    put16(out + 6, (uint16_t)scale);
    for (int k = 0; k < ndigits; k++) put16(out + 8 + 2 * k, groups[n - 1 - k]);
    return 8 + 2 * ndigits;
}

/* bytes a value of ``c`` takes at most (fixed-width kinds exactly) */
static Py_ssize_t width(char code) {
    switch (code) {
    case 'b': return 1;
    case 'h': return 2;
    case 'i': case 'f': case 'D': return 4;
    case 'q': case 'd': case 'T': case 't': return 8;
    case 'N': return NUMERIC_MAX;
    default: return 0;
    }
}

static Py_ssize_t item(char code) { /* bytes per value in the values buffer */
    switch (code) {
    case 'b': return 0; /* bits */
    case 'h': return 2;
    case 'i': case 'f': case 'D': case 's': return 4;
    case 'q': case 'd': case 'T': case 't': case 'S': return 8;
    case 'N': return 16;
    default: return -1;
    }
}

static int64_t offset_at(const Column *c, Py_ssize_t i) {
    if (c->code == 's') return ((const int32_t *)c->values.buf)[c->offset + i];
    return ((const int64_t *)c->values.buf)[c->offset + i];
}

static void release(Column *cols, Py_ssize_t ncols) {
    for (Py_ssize_t k = 0; k < ncols; k++) {
        if (cols[k].has_validity) PyBuffer_Release(&cols[k].validity);
        if (cols[k].has_values) PyBuffer_Release(&cols[k].values);
        if (cols[k].has_data) PyBuffer_Release(&cols[k].data);
    }
}

static PyObject *rows(PyObject *self, PyObject *args) {
    PyObject *spec;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "On", &spec, &n)) return NULL;
    PyObject *seq = PySequence_Fast(spec, "columns must be a sequence");
    if (seq == NULL) return NULL;
    Py_ssize_t ncols = PySequence_Fast_GET_SIZE(seq);
    if (ncols < 1 || ncols > MAX_COLUMNS || n < 0) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "between 1 and 1600 columns, and rows >= 0");
        return NULL;
    }
    Column *cols = PyMem_Calloc((size_t)ncols, sizeof(Column));
    if (cols == NULL) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    PyObject *out = NULL;
    Py_ssize_t bad = -1; /* the column a problem is of */
    const char *problem = NULL;
    for (Py_ssize_t k = 0; k < ncols; k++) {
        Column *c = &cols[k];
        PyObject *validity, *values, *data;
        int code;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, k), "CiOnOO;a column is (code, "
                              "scale, validity, offset, values, data)", &code, &c->scale,
                              &validity, &c->offset, &values, &data))
            goto done;
        c->code = (char)code;
        if (item(c->code) < 0 || c->offset < 0 || (c->code == 'N' && (c->scale < 0 || c->scale > 38))) {
            bad = k, problem = "an unknown kind, a negative offset or a scale beyond 0-38";
            goto done;
        }
        if (validity != Py_None) {
            if (PyObject_GetBuffer(validity, &c->validity, PyBUF_SIMPLE) < 0) goto done;
            c->has_validity = 1;
            if (c->validity.len * 8 < c->offset + n) {
                bad = k, problem = "a validity bitmap shorter than its rows";
                goto done;
            }
        }
        if (PyObject_GetBuffer(values, &c->values, PyBUF_SIMPLE) < 0) goto done;
        c->has_values = 1;
        Py_ssize_t need = c->code == 'b' ? (c->offset + n + 7) / 8
                        : (c->offset + n + (c->code == 's' || c->code == 'S')) * item(c->code);
        if (c->values.len < need) {
            bad = k, problem = "a values buffer shorter than its rows";
            goto done;
        }
        if (c->code == 's' || c->code == 'S') {
            if (data == Py_None) {
                bad = k, problem = "text without its data buffer";
                goto done;
            }
            if (PyObject_GetBuffer(data, &c->data, PyBUF_SIMPLE) < 0) goto done;
            c->has_data = 1;
        }
    }

    /* the size: exact for every kind but numeric (its most) */
    Py_ssize_t size = 0;
    for (Py_ssize_t k = 0; k < ncols && problem == NULL; k++) {
        const Column *c = &cols[k];
        Py_ssize_t total = 4 * n;
        if (c->code == 's' || c->code == 'S') {
            for (Py_ssize_t i = 0; i < n; i++) {
                int64_t a = offset_at(c, i), b = offset_at(c, i + 1);
                if (a < 0 || b < a || b > c->data.len) {
                    bad = k, problem = "text offsets outside their data";
                    break;
                }
                if (b - a > INT32_MAX) {
                    bad = k, problem = "a value longer than a field holds";
                    break;
                }
                if (is_valid(c, i)) total += (Py_ssize_t)(b - a);
            }
        } else {
            total += width(c->code) * n;
        }
        if (total > PY_SSIZE_T_MAX - size) {
            bad = k, problem = "rows larger than memory";
            break;
        }
        size += total;
    }
    if (problem != NULL) goto done;
    size += 2 * n;
    out = PyBytes_FromStringAndSize(NULL, size);
    if (out == NULL) goto done;
    unsigned char *w = (unsigned char *)PyBytes_AS_STRING(out);
    unsigned char *start = w;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n && problem == NULL; i++) {
        put16(w, (uint16_t)ncols);
        w += 2;
        for (Py_ssize_t k = 0; k < ncols; k++) {
            const Column *c = &cols[k];
            if (!is_valid(c, i)) {
                put32(w, 0xFFFFFFFFu);
                w += 4;
                continue;
            }
            Py_ssize_t at = c->offset + i;
            const unsigned char *v = (const unsigned char *)c->values.buf;
            switch (c->code) {
            case 'b':
                put32(w, 1);
                w[4] = (v[at >> 3] >> (at & 7)) & 1;
                w += 5;
                break;
            case 'h': {
                uint16_t x;
                memcpy(&x, v + 2 * at, 2);
                put32(w, 2);
                put16(w + 4, x);
                w += 6;
                break;
            }
            case 'i': case 'f': {
                uint32_t x;
                memcpy(&x, v + 4 * at, 4);
                put32(w, 4);
                put32(w + 4, x);
                w += 8;
                break;
            }
            case 'D': {
                int32_t x;
                memcpy(&x, v + 4 * at, 4);
                if (x < INT32_MIN + EPOCH_DAYS) {
                    bad = k, problem = "a date before PostgreSQL's epoch arithmetic";
                    break;
                }
                put32(w, 4);
                put32(w + 4, (uint32_t)(x - EPOCH_DAYS));
                w += 8;
                break;
            }
            case 'q': case 'd': case 't': {
                uint64_t x;
                memcpy(&x, v + 8 * at, 8);
                put32(w, 8);
                put64(w + 4, x);
                w += 12;
                break;
            }
            case 'T': {
                int64_t x;
                memcpy(&x, v + 8 * at, 8);
                if (x < INT64_MIN + EPOCH_US) {
                    bad = k, problem = "a timestamp before PostgreSQL's epoch arithmetic";
                    break;
                }
                put32(w, 8);
                put64(w + 4, (uint64_t)(x - EPOCH_US));
                w += 12;
                break;
            }
            case 'N': {
                uint64_t lo, hi;
                memcpy(&lo, v + 16 * at, 8);
                memcpy(&hi, v + 16 * at + 8, 8);
                int len = numeric(w + 4, lo, hi, c->scale);
                put32(w, (uint32_t)len);
                w += 4 + len;
                break;
            }
            default: { /* 's', 'S' */
                int64_t a = offset_at(c, i), b = offset_at(c, i + 1);
                put32(w, (uint32_t)(b - a));
                memcpy(w + 4, (const char *)c->data.buf + a, (size_t)(b - a));
                w += 4 + (b - a);
                break;
            }
            }
            if (problem != NULL) break;
        }
    }
    Py_END_ALLOW_THREADS
    if (problem == NULL) _PyBytes_Resize(&out, (Py_ssize_t)(w - start));
done:
    release(cols, ncols);
    PyMem_Free(cols);
    Py_DECREF(seq);
    if (problem != NULL) {
        Py_CLEAR(out);
        PyErr_Format(PyExc_ValueError, "column %zd: %s", bad + 1, problem);
    }
    return out;
}

static PyMethodDef methods[] = {
    {"rows", rows, METH_VARARGS,
     "rows(columns, n) -> bytes: n rows of PostgreSQL's binary COPY from Arrow buffers."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_pgcopy",
    "PostgreSQL's binary COPY rows from Arrow arrays (handover.db.pgcopy).", -1, methods,
};

PyMODINIT_FUNC PyInit__pgcopy(void) { return PyModule_Create(&module); }
