/*
 * The rows of a MySQL/MariaDB text-protocol result set as Arrow column buffers.
 *
 * A result's rows arrive as packets (3-byte little-endian payload length, 1-byte sequence
 * number, payload); a row's payload is one length-encoded string per column (0xFB: NULL),
 * and the result ends with an EOF packet (0xFE, payload shorter than 9 bytes) or an error
 * packet (0xFF). A payload of 0xFFFFFF bytes continues in the next packet.
 *
 * rows() reads the complete packets of a buffer the caller fills from the connection, and
 * returns each column's values as the three buffers of an Arrow binary array (validity,
 * int32 offsets, data): one pass to check the framing and size the buffers, one to copy,
 * both with the interpreter lock released. It never reads past the buffer, checks every
 * length against the payload that holds it and every sequence number, and refuses (with
 * ValueError, naming no value) a packet that does not parse. Built when a C compiler is
 * present; without it MariaDB renders each page as CSV text (handover.db.dialects.mysql).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PAYLOAD 0xFFFFFFu
#define MAX_COLUMNS 4096

enum { MORE = 0, END = 1, FAILED = 2 };

typedef struct {
    const unsigned char *p; /* the row's payload */
    Py_ssize_t len;
    unsigned char *owned;   /* the joined payload of a row spread over several packets */
} Row;

/* A length-encoded integer at *pos of p[0..len): 0 and *out, 1 for NULL (0xFB), -1 when
 * it does not fit. */
static int lenenc(const unsigned char *p, Py_ssize_t len, Py_ssize_t *pos, uint64_t *out) {
    if (*pos >= len) return -1;
    unsigned char b = p[(*pos)++];
    if (b < 0xFB) {
        *out = b;
        return 0;
    }
    if (b == 0xFB) return 1;
    int n = b == 0xFC ? 2 : b == 0xFD ? 3 : b == 0xFE ? 8 : -1;
    if (n < 0 || len - *pos < n) return -1;
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v |= (uint64_t)p[*pos + i] << (8 * i);
    *pos += n;
    *out = v;
    return 0;
}

static uint32_t le24(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
}

/*
 * rows(buffer, start, seq, columns, max_rows, max_bytes)
 *   -> (end, seq, count, state, extra, [(validity | None, offsets, data, nulls), ...])
 *
 * Reads the packets of buffer[start:] until max_rows rows, max_bytes bytes of values, the
 * end of the complete packets, or the result's last packet. ``end`` is where the next
 * call starts and ``seq`` the sequence number it expects. ``state``: 0 more rows may
 * follow; 1 the result ended (``extra``: (warnings, server status)); 2 the server sent an
 * error (``extra``: the error packet's payload).
 */
static PyObject *rows(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t start, ncols, max_rows, max_bytes;
    int seq;
    if (!PyArg_ParseTuple(args, "y*ninnn", &view, &start, &seq, &ncols, &max_rows, &max_bytes))
        return NULL;
    const unsigned char *buf = (const unsigned char *)view.buf;
    const Py_ssize_t len = view.len;
    PyObject *result = NULL, *extra = NULL, *cols = NULL;
    Row *rowv = NULL;
    Py_ssize_t *sizes = NULL, *nulls = NULL, *these = NULL;
    PyObject **offv = NULL, **datav = NULL, **validv = NULL;
    Py_ssize_t n = 0, pos = start, err_at = -1, err_len = 0;
    int state = MORE, warnings = 0, status = 0;
    const char *problem = NULL;

    if (start < 0 || start > len || ncols < 1 || ncols > MAX_COLUMNS || max_rows < 1 ||
        max_bytes < 1 || max_bytes > (1 << 30) || seq < 0 || seq > 255) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "arguments out of range");
        return NULL;
    }
    /* a packet is at least 5 bytes: no more rows than that in the buffer */
    if (max_rows > (len - start) / 5 + 1) max_rows = (len - start) / 5 + 1;
    rowv = (Row *)calloc((size_t)max_rows, sizeof(Row));
    sizes = (Py_ssize_t *)calloc((size_t)ncols, sizeof(Py_ssize_t));
    nulls = (Py_ssize_t *)calloc((size_t)ncols, sizeof(Py_ssize_t));
    these = (Py_ssize_t *)calloc((size_t)ncols, sizeof(Py_ssize_t));
    if (!rowv || !sizes || !nulls || !these) {
        PyErr_NoMemory();
        goto done;
    }

    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t total = 0;
    while (n < max_rows && total < max_bytes) {
        if (len - pos < 4) break;
        uint32_t plen = le24(buf + pos);
        if (buf[pos + 3] != (unsigned char)seq) {
            problem = "a packet out of sequence";
            break;
        }
        if (len - pos - 4 < (Py_ssize_t)plen) break;
        const unsigned char *payload = buf + pos + 4;
        Py_ssize_t plen_all = plen, next = pos + 4 + plen;
        int next_seq = (seq + 1) & 0xFF;
        unsigned char *owned = NULL;
        if (plen == MAX_PAYLOAD) {
            /* the payload goes on in the packets after: are they all here? */
            Py_ssize_t q = next;
            int s = next_seq, complete = 0;
            for (;;) {
                if (len - q < 4) break;
                uint32_t c = le24(buf + q);
                if (buf[q + 3] != (unsigned char)s) {
                    problem = "a packet out of sequence";
                    break;
                }
                if (len - q - 4 < (Py_ssize_t)c) break;
                plen_all += c;
                q += 4 + c;
                s = (s + 1) & 0xFF;
                if (c < MAX_PAYLOAD) {
                    complete = 1;
                    break;
                }
            }
            if (problem != NULL || !complete) break;
            owned = (unsigned char *)malloc((size_t)plen_all);
            if (owned == NULL) {
                problem = "out of memory";
                break;
            }
            Py_ssize_t w = 0;
            for (Py_ssize_t r = pos; r < q;) {
                uint32_t c = le24(buf + r);
                memcpy(owned + w, buf + r + 4, c);
                w += c;
                r += 4 + c;
            }
            payload = owned;
            next = q;
            next_seq = s;
        }
        if (plen_all == 0) {
            free(owned);
            problem = "an empty packet";
            break;
        }
        if (payload[0] == 0xFF) { /* the server's error ends the result */
            free(owned);
            if (plen_all > plen) {
                problem = "an error packet over several packets";
                break;
            }
            err_at = pos + 4;
            err_len = plen_all;
            state = FAILED;
            pos = next;
            seq = next_seq;
            break;
        }
        if (payload[0] == 0xFE && plen_all < 9) { /* the last packet */
            free(owned);
            if (plen_all >= 5) {
                warnings = payload[1] | (payload[2] << 8);
                status = payload[3] | (payload[4] << 8);
            }
            state = END;
            pos = next;
            seq = next_seq;
            break;
        }
        Py_ssize_t q = 0;
        int bad = 0;
        for (Py_ssize_t c = 0; c < ncols; c++) {
            uint64_t v = 0;
            int r = lenenc(payload, plen_all, &q, &v);
            if (r < 0 || (r == 0 && v > (uint64_t)(plen_all - q))) {
                bad = 1;
                break;
            }
            if (r == 1) {
                these[c] = -1;
            } else {
                these[c] = (Py_ssize_t)v;
                q += (Py_ssize_t)v;
            }
        }
        if (bad || q != plen_all) {
            free(owned);
            problem = "a row that does not parse";
            break;
        }
        int full = 0;
        for (Py_ssize_t c = 0; c < ncols; c++)
            if (these[c] > 0 && sizes[c] + these[c] > INT32_MAX) full = 1;
        if (full) {
            free(owned);
            if (n == 0) problem = "a value too large";
            break;
        }
        for (Py_ssize_t c = 0; c < ncols; c++) {
            if (these[c] < 0)
                nulls[c]++;
            else
                sizes[c] += these[c];
        }
        rowv[n].p = payload;
        rowv[n].len = plen_all;
        rowv[n].owned = owned;
        n++;
        total += plen_all;
        pos = next;
        seq = next_seq;
    }
    Py_END_ALLOW_THREADS

    if (problem != NULL) {
        if (strcmp(problem, "out of memory") == 0)
            PyErr_NoMemory();
        else
            PyErr_Format(PyExc_ValueError, "MySQL result: %s after row %zd", problem, n);
        goto done;
    }
    offv = (PyObject **)calloc((size_t)ncols, sizeof(PyObject *));
    datav = (PyObject **)calloc((size_t)ncols, sizeof(PyObject *));
    validv = (PyObject **)calloc((size_t)ncols, sizeof(PyObject *));
    if (!offv || !datav || !validv) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t c = 0; c < ncols; c++) {
        offv[c] = PyBytes_FromStringAndSize(NULL, (n + 1) * (Py_ssize_t)sizeof(int32_t));
        datav[c] = PyBytes_FromStringAndSize(NULL, sizes[c]);
        if (offv[c] == NULL || datav[c] == NULL) goto done;
        if (nulls[c] > 0) {
            validv[c] = PyBytes_FromStringAndSize(NULL, (n + 7) / 8);
            if (validv[c] == NULL) goto done;
            memset(PyBytes_AS_STRING(validv[c]), 0, (size_t)((n + 7) / 8));
        }
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t c = 0; c < ncols; c++) {
        int32_t zero = 0;
        memcpy(PyBytes_AS_STRING(offv[c]), &zero, sizeof zero);
        these[c] = 0; /* bytes written so far */
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const unsigned char *p = rowv[i].p;
        Py_ssize_t q = 0;
        for (Py_ssize_t c = 0; c < ncols; c++) {
            uint64_t v = 0;
            int r = lenenc(p, rowv[i].len, &q, &v); /* checked in the first pass */
            if (r == 0) {
                memcpy(PyBytes_AS_STRING(datav[c]) + these[c], p + q, (size_t)v);
                these[c] += (Py_ssize_t)v;
                q += (Py_ssize_t)v;
            }
            if (r == 0 && validv[c] != NULL)
                ((unsigned char *)PyBytes_AS_STRING(validv[c]))[i >> 3] |=
                    (unsigned char)(1u << (i & 7));
            int32_t end = (int32_t)these[c];
            memcpy(PyBytes_AS_STRING(offv[c]) + (i + 1) * (Py_ssize_t)sizeof(int32_t), &end,
                   sizeof end);
        }
    }
    Py_END_ALLOW_THREADS

    cols = PyList_New(ncols);
    if (cols == NULL) goto done;
    for (Py_ssize_t c = 0; c < ncols; c++) {
        PyObject *validity = validv[c] != NULL ? validv[c] : Py_None;
        PyObject *t = Py_BuildValue("(OOOn)", validity, offv[c], datav[c], nulls[c]);
        if (t == NULL) goto done;
        PyList_SET_ITEM(cols, c, t);
    }
    if (state == END)
        extra = Py_BuildValue("(ii)", warnings, status);
    else if (state == FAILED)
        extra = PyBytes_FromStringAndSize((const char *)buf + err_at, err_len);
    else
        extra = Py_NewRef(Py_None);
    if (extra == NULL) goto done;
    result = Py_BuildValue("(niniOO)", pos, seq, n, state, extra, cols);

done:
    if (rowv != NULL) {
        for (Py_ssize_t i = 0; i < n; i++) free(rowv[i].owned);
        free(rowv);
    }
    if (offv != NULL)
        for (Py_ssize_t c = 0; c < ncols; c++) Py_XDECREF(offv[c]);
    if (datav != NULL)
        for (Py_ssize_t c = 0; c < ncols; c++) Py_XDECREF(datav[c]);
    if (validv != NULL)
        for (Py_ssize_t c = 0; c < ncols; c++) Py_XDECREF(validv[c]);
    free(offv);
    free(datav);
    free(validv);
    free(sizes);
    free(nulls);
    free(these);
    Py_XDECREF(extra);
    Py_XDECREF(cols);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"rows", rows, METH_VARARGS,
     "rows(buffer, start, seq, columns, max_rows, max_bytes) -> (end, seq, count, state, "
     "extra, columns): a text-protocol result's complete row packets as Arrow binary "
     "buffers (validity or None, int32 offsets, data, null count) per column"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_mysql_rows",
    "MySQL/MariaDB text-protocol rows as Arrow column buffers", -1, methods,
};

PyMODINIT_FUNC PyInit__mysql_rows(void) { return PyModule_Create(&module); }
