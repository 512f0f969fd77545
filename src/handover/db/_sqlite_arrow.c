/*
 * A SQLite file's rows as Arrow buffers (db/sqlite_arrow.py wraps them in pyarrow arrays).
 *
 * ADBC's SQLite driver appends every value through nanoarrow and takes the connection's
 * mutex for every call into its bundled SQLite: about 1.35 µs a row of the loan book,
 * where SQLite steps through the same rows in 0.08 µs. This module steps the statement
 * itself (the system's libsqlite3, the one Python's sqlite3 module links, opened without
 * the per-connection mutex: a connection is used by one thread at a time) and writes
 * each value once into per-column buffers, with the interpreter lock released.
 *
 * Each batch's columns are typed by their values, as ADBC types a result: only INTEGER
 * (or NULL) an int64 column, INTEGER and REAL a double column, TEXT (with INTEGERs as
 * their decimal text) a string column, BLOB a binary column, only NULL a null column.
 * Anything else (a REAL among TEXT, a BLOB among other classes, more than 2 GiB of text
 * in one batch) is the kind MIXED (HUGE for the text): the caller refuses the batch and
 * reads with sqlite3.
 * No value is converted in any other way, so what comes out is what sqlite3 gives.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { K_NULL = 0, K_INT = 1, K_REAL = 2, K_TEXT = 3, K_BLOB = 4, K_MIXED = 5, K_HUGE = 6 };

static PyObject *Error; /* _sqlite_arrow.Error */

/* ---- one column's values of a batch being read ------------------------------------ */

typedef struct {
    uint8_t *tags;   /* per row: SQLITE_INTEGER … SQLITE_NULL */
    int64_t *num;    /* per row: the integer, the double's bits, the text's or blob's
                      * length in data (the values one after the other), or 0 (NULL) */
    char *data;
    size_t dlen, dcap;
    unsigned seen;   /* bit per storage class met */
} Col;

static int col_reserve(Col *c, Py_ssize_t rows) {
    uint8_t *t = realloc(c->tags, (size_t)rows);
    if (t == NULL) return -1;
    c->tags = t;
    int64_t *n = realloc(c->num, (size_t)rows * sizeof(int64_t));
    if (n == NULL) return -1;
    c->num = n;
    return 0;
}

static int col_append(Col *c, const void *p, size_t n) {
    if (c->dlen + n > c->dcap) {
        size_t cap = c->dcap ? c->dcap : 1 << 16;
        while (cap < c->dlen + n) cap *= 2;
        char *d = realloc(c->data, cap);
        if (d == NULL) return -1;
        c->data = d;
        c->dcap = cap;
    }
    if (n) memcpy(c->data + c->dlen, p, n);
    c->dlen += n;
    return 0;
}

static void col_free(Col *c) {
    free(c->tags);
    free(c->num);
    free(c->data);
    memset(c, 0, sizeof *c);
}

/* ---- Connection --------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    sqlite3 *db;
    /* a statement of it is stepping (the interpreter lock released): opened without
     * SQLite's mutex, the connection takes no other call meanwhile */
    int busy;
} Connection;

static void conn_dealloc(Connection *self) {
    if (self->db) sqlite3_close_v2(self->db);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *conn_close(Connection *self, PyObject *Py_UNUSED(ignored)) {
    if (self->busy) {
        PyErr_SetString(Error, "connection in use");
        return NULL;
    }
    if (self->db) {
        sqlite3_close_v2(self->db); /* statements still open keep it until finalized */
        self->db = NULL;
    }
    Py_RETURN_NONE;
}

/* ---- Statement ---------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    Connection *conn;
    sqlite3_stmt *stmt;
    int ncols;
    int done;
    int failed;  /* SQLite's error ended it: fetching again would restart the query */
    int started; /* stepped at least once (its columns checked against the prepared ones) */
    int busy;
    Col *cols;
    Py_ssize_t cap;
    PyObject *names;
} Statement;

static PyTypeObject StatementType;

static void stmt_release(Statement *self) {
    if (self->stmt) {
        sqlite3_finalize(self->stmt);
        self->stmt = NULL;
    }
    if (self->cols) {
        for (int i = 0; i < self->ncols; i++) col_free(&self->cols[i]);
        free(self->cols);
        self->cols = NULL;
    }
    self->cap = 0;
}

static void stmt_dealloc(Statement *self) {
    stmt_release(self);
    Py_XDECREF(self->names);
    Py_XDECREF(self->conn);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *stmt_close(Statement *self, PyObject *Py_UNUSED(ignored)) {
    if (self->busy || (self->conn != NULL && self->conn->busy)) {
        PyErr_SetString(Error, self->busy ? "statement in use" : "connection in use");
        return NULL;
    }
    stmt_release(self);
    self->done = 1;
    Py_RETURN_NONE;
}

static int bind(sqlite3_stmt *stmt, int i, PyObject *v) {
    if (v == Py_None) return sqlite3_bind_null(stmt, i);
    if (PyLong_Check(v)) {
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow || (x == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            PyErr_Format(Error, "parameter %d: integer out of range", i);
            return -2;
        }
        return sqlite3_bind_int64(stmt, i, x);
    }
    if (PyFloat_Check(v)) return sqlite3_bind_double(stmt, i, PyFloat_AS_DOUBLE(v));
    if (PyUnicode_Check(v)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(v, &n);
        if (s == NULL) {
            PyErr_Clear();
            PyErr_Format(Error, "parameter %d: text that cannot be UTF-8", i);
            return -2;
        }
        return sqlite3_bind_text64(stmt, i, s, (sqlite3_uint64)n, SQLITE_TRANSIENT, SQLITE_UTF8);
    }
    if (PyBytes_Check(v)) {
        return sqlite3_bind_blob64(stmt, i, PyBytes_AS_STRING(v),
                                   (sqlite3_uint64)PyBytes_GET_SIZE(v), SQLITE_TRANSIENT);
    }
    if (PyObject_CheckBuffer(v)) { /* bytearray, memoryview: bytes as sqlite3 binds them */
        Py_buffer b;
        if (PyObject_GetBuffer(v, &b, PyBUF_SIMPLE) < 0) {
            PyErr_Clear();
            PyErr_Format(Error, "parameter %d: unreadable buffer", i);
            return -2;
        }
        int rc = sqlite3_bind_blob64(stmt, i, b.buf, (sqlite3_uint64)b.len, SQLITE_TRANSIENT);
        PyBuffer_Release(&b);
        return rc;
    }
    PyErr_Format(Error, "parameter %d: unsupported type %s", i, Py_TYPE(v)->tp_name);
    return -2;
}

/* Connection.execute(sql, params) -> Statement */
static PyObject *conn_execute(Connection *self, PyObject *args) {
    const char *sql;
    Py_ssize_t sql_len;
    PyObject *params = Py_None;
    if (!PyArg_ParseTuple(args, "s#|O", &sql, &sql_len, &params)) return NULL;
    if (self->db == NULL) {
        PyErr_SetString(Error, "connection closed");
        return NULL;
    }
    if (self->busy) {
        PyErr_SetString(Error, "connection in use");
        return NULL;
    }
    if (strlen(sql) != (size_t)sql_len) {
        PyErr_SetString(Error, "the query contains a null character");
        return NULL;
    }
    if (params != Py_None && !PyTuple_Check(params)) {
        PyErr_SetString(PyExc_TypeError, "params must be a tuple or None");
        return NULL;
    }
    sqlite3_stmt *stmt = NULL;
    const char *tail = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = sqlite3_prepare_v2(self->db, sql, (int)sql_len, &stmt, &tail);
    Py_END_ALLOW_THREADS
    if (rc != SQLITE_OK) {
        PyErr_SetString(Error, sqlite3_errmsg(self->db));
        sqlite3_finalize(stmt);
        return NULL;
    }
    if (stmt == NULL) {
        PyErr_SetString(Error, "no statement");
        return NULL;
    }
    for (const char *p = tail; p && *p; p++) {
        if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r' && *p != ';') {
            sqlite3_finalize(stmt);
            PyErr_SetString(Error, "more than one statement");
            return NULL;
        }
    }
    Py_ssize_t nparams = params == Py_None ? 0 : PyTuple_GET_SIZE(params);
    if (nparams != sqlite3_bind_parameter_count(stmt)) {
        sqlite3_finalize(stmt);
        PyErr_Format(Error, "%d parameters expected, %zd given",
                     sqlite3_bind_parameter_count(stmt), nparams);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nparams; i++) {
        rc = bind(stmt, (int)i + 1, PyTuple_GET_ITEM(params, i));
        if (rc != SQLITE_OK) {
            if (rc != -2) PyErr_SetString(Error, sqlite3_errmsg(self->db));
            sqlite3_finalize(stmt);
            return NULL;
        }
    }
    int ncols = sqlite3_column_count(stmt);
    PyObject *names = PyList_New(ncols);
    if (names == NULL) {
        sqlite3_finalize(stmt);
        return NULL;
    }
    for (int i = 0; i < ncols; i++) {
        const char *name = sqlite3_column_name(stmt, i);
        PyObject *s = PyUnicode_FromString(name ? name : "");
        if (s == NULL) {
            Py_DECREF(names);
            sqlite3_finalize(stmt);
            return NULL;
        }
        PyList_SET_ITEM(names, i, s);
    }
    Statement *st = PyObject_New(Statement, &StatementType);
    if (st == NULL) {
        Py_DECREF(names);
        sqlite3_finalize(stmt);
        return NULL;
    }
    st->stmt = stmt;
    st->ncols = ncols;
    st->done = 0;
    st->failed = 0;
    st->started = 0;
    st->busy = 0;
    st->cap = 0;
    st->names = names;
    st->cols = calloc(ncols ? (size_t)ncols : 1, sizeof(Col));
    Py_INCREF(self);
    st->conn = self;
    if (st->cols == NULL) {
        Py_DECREF(st);
        return PyErr_NoMemory();
    }
    return (PyObject *)st;
}

/* The validity bitmap of a column (bit i set: row i holds a value), or None with no NULL. */
static PyObject *validity(const Col *c, Py_ssize_t n) {
    if (!(c->seen & (1u << SQLITE_NULL))) Py_RETURN_NONE;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (n + 7) / 8);
    if (out == NULL) return NULL;
    uint8_t *b = (uint8_t *)PyBytes_AS_STRING(out);
    memset(b, 0, (size_t)(n + 7) / 8);
    for (Py_ssize_t i = 0; i < n; i++)
        if (c->tags[i] != SQLITE_NULL) b[i >> 3] |= (uint8_t)(1u << (i & 7));
    return out;
}

/* int32 offsets and the data of a text or blob column; integers among text become their
 * decimal text. 1 (the kind HUGE) when the data do not fit int32 offsets. */
static int varwidth(const Col *c, Py_ssize_t n, PyObject **offs_out, PyObject **data_out) {
    int ints = (c->seen & (1u << SQLITE_INTEGER)) != 0;
    size_t total = c->dlen;
    char digits[32];
    if (ints) {
        for (Py_ssize_t i = 0; i < n; i++)
            if (c->tags[i] == SQLITE_INTEGER)
                total += (size_t)snprintf(digits, sizeof digits, "%lld", (long long)c->num[i]);
    }
    if (total > INT32_MAX) return 1;
    PyObject *offs = PyBytes_FromStringAndSize(NULL, (n + 1) * (Py_ssize_t)sizeof(int32_t));
    PyObject *data = offs ? PyBytes_FromStringAndSize(NULL, (Py_ssize_t)total) : NULL;
    if (data == NULL) {
        Py_XDECREF(offs);
        return -1;
    }
    int32_t *o = (int32_t *)PyBytes_AS_STRING(offs);
    char *d = PyBytes_AS_STRING(data);
    size_t at = 0;
    o[0] = 0;
    if (!ints) { /* the values are already one after the other */
        if (total) memcpy(d, c->data, total);
        for (Py_ssize_t i = 0; i < n; i++) {
            if (c->tags[i] == SQLITE_TEXT || c->tags[i] == SQLITE_BLOB) at += (size_t)c->num[i];
            o[i + 1] = (int32_t)at;
        }
    } else {
        size_t from = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (c->tags[i] == SQLITE_INTEGER) {
                int k = snprintf(digits, sizeof digits, "%lld", (long long)c->num[i]);
                memcpy(d + at, digits, (size_t)k);
                at += (size_t)k;
            } else if (c->tags[i] == SQLITE_TEXT) {
                size_t len = (size_t)c->num[i];
                if (len) memcpy(d + at, c->data + from, len);
                at += len;
                from += len;
            }
            o[i + 1] = (int32_t)at;
        }
    }
    *offs_out = offs;
    *data_out = data;
    return 0;
}

/* One column of a batch as (kind, validity, offsets, data). */
static PyObject *column(const Col *c, Py_ssize_t n) {
    const unsigned I = 1u << SQLITE_INTEGER, R = 1u << SQLITE_FLOAT, T = 1u << SQLITE_TEXT,
                   B = 1u << SQLITE_BLOB;
    unsigned v = c->seen & (I | R | T | B);
    int kind;
    if (v == 0) kind = K_NULL;
    else if (v == I) kind = K_INT;
    else if (v == R || v == (I | R)) kind = K_REAL;
    else if (v == T || v == (I | T)) kind = K_TEXT;
    else if (v == B) kind = K_BLOB;
    else kind = K_MIXED;
    if (kind == K_NULL || kind == K_MIXED) return Py_BuildValue("(iOOO)", kind, Py_None, Py_None, Py_None);
    PyObject *valid = validity(c, n);
    if (valid == NULL) return NULL;
    PyObject *offs = Py_None, *data = NULL;
    Py_INCREF(offs);
    if (kind == K_INT || kind == K_REAL) {
        data = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int64_t));
        if (data != NULL) {
            char *d = PyBytes_AS_STRING(data);
            if (kind == K_INT) {
                memcpy(d, c->num, (size_t)n * sizeof(int64_t));
            } else {
                for (Py_ssize_t i = 0; i < n; i++) {
                    double x;
                    if (c->tags[i] == SQLITE_INTEGER) x = (double)c->num[i];
                    else memcpy(&x, &c->num[i], sizeof x);
                    memcpy(d + i * (Py_ssize_t)sizeof x, &x, sizeof x);
                }
            }
        }
    } else {
        Py_DECREF(offs);
        offs = NULL;
        int r = varwidth(c, n, &offs, &data);
        if (r == 1) {
            Py_DECREF(valid);
            return Py_BuildValue("(iOOO)", K_HUGE, Py_None, Py_None, Py_None);
        }
        if (r < 0) data = NULL;
    }
    if (data == NULL) {
        Py_DECREF(valid);
        Py_XDECREF(offs);
        return NULL;
    }
    PyObject *out = Py_BuildValue("(iNNN)", kind, valid, offs, data);
    return out;
}

/* The columns of a statement with no rows left: as many, each all NULL. */
static PyObject *no_rows(int ncols) {
    PyObject *cols = PyList_New(ncols);
    if (cols == NULL) return NULL;
    for (int i = 0; i < ncols; i++) {
        PyObject *col = Py_BuildValue("(iOOO)", K_NULL, Py_None, Py_None, Py_None);
        if (col == NULL) {
            Py_DECREF(cols);
            return NULL;
        }
        PyList_SET_ITEM(cols, i, col);
    }
    return Py_BuildValue("(niN)", (Py_ssize_t)0, 1, cols);
}

/* Whether the statement's columns (count, names) differ from those execute() read. */
static int changed(Statement *self) {
    if (sqlite3_column_count(self->stmt) != self->ncols) return 1;
    for (int i = 0; i < self->ncols; i++) {
        const char *name = sqlite3_column_name(self->stmt, i);
        const char *was = PyUnicode_AsUTF8(PyList_GET_ITEM(self->names, i));
        if (was == NULL) {
            PyErr_Clear();
            return 1;
        }
        if (strcmp(name ? name : "", was) != 0) return 1;
    }
    return 0;
}

/* Statement.fetch(max_rows) -> (rows, done, [(kind, validity, offsets, data), …]) */
static PyObject *stmt_fetch(Statement *self, PyObject *args) {
    Py_ssize_t max_rows;
    if (!PyArg_ParseTuple(args, "n", &max_rows)) return NULL;
    if (max_rows < 1) {
        PyErr_SetString(PyExc_ValueError, "max_rows must be positive");
        return NULL;
    }
    if (self->busy || self->conn->busy) {
        PyErr_SetString(Error, self->busy ? "statement in use" : "connection in use");
        return NULL;
    }
    if (self->failed) {
        PyErr_SetString(Error, "the statement failed");
        return NULL;
    }
    if (self->done || self->stmt == NULL) return no_rows(self->ncols);
    if (self->cap < max_rows) {
        for (int i = 0; i < self->ncols; i++)
            if (col_reserve(&self->cols[i], max_rows) < 0) return PyErr_NoMemory();
        self->cap = max_rows;
    }
    for (int i = 0; i < self->ncols; i++) {
        Col *c = &self->cols[i];
        c->dlen = 0;
        c->seen = 0;
    }
    sqlite3_stmt *stmt = self->stmt;
    int ncols = self->ncols, rc = SQLITE_ROW, oom = 0;
    Py_ssize_t n = 0;
    self->busy = self->conn->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    while (n < max_rows) {
        rc = sqlite3_step(stmt);
        if (rc != SQLITE_ROW) break;
        for (int i = 0; i < ncols; i++) {
            Col *c = &self->cols[i];
            /* one call into the statement per value, the value's own accessors after it
             * (an unprotected value: safe here, where one thread at a time uses the
             * connection: Connection.busy refuses any other call meanwhile) */
            sqlite3_value *v = sqlite3_column_value(stmt, i);
            int t = sqlite3_value_type(v);
            c->tags[n] = (uint8_t)t;
            c->seen |= 1u << t;
            if (t == SQLITE_NULL) {
                c->num[n] = 0;
            } else if (t == SQLITE_INTEGER) {
                c->num[n] = sqlite3_value_int64(v);
            } else if (t == SQLITE_FLOAT) {
                double x = sqlite3_value_double(v);
                memcpy(&c->num[n], &x, sizeof x);
            } else if (t == SQLITE_TEXT || t == SQLITE_BLOB) {
                const void *p = t == SQLITE_TEXT ? (const void *)sqlite3_value_text(v)
                                                 : sqlite3_value_blob(v);
                int len = sqlite3_value_bytes(v);
                if ((p == NULL && len) || col_append(c, p, (size_t)len) < 0) {
                    oom = 1;
                    break;
                }
                c->num[n] = len;
            }
        }
        if (oom) break;
        n++;
    }
    Py_END_ALLOW_THREADS
    self->busy = self->conn->busy = 0;
    if (oom) {
        self->failed = 1;
        return PyErr_NoMemory();
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        self->failed = 1;
        PyErr_SetString(Error, sqlite3_errmsg(sqlite3_db_handle(stmt)));
        return NULL;
    }
    if (!self->started) {
        /* SQLite prepares the statement again at its first step when the schema changed
         * since execute(): its columns must still be the ones named then */
        self->started = 1;
        if (changed(self)) {
            self->failed = 1;
            PyErr_SetString(Error, "the result's columns changed while it was read");
            return NULL;
        }
    }
    if (rc == SQLITE_DONE) self->done = 1;
    PyObject *cols = PyList_New(ncols);
    if (cols == NULL) return NULL;
    for (int i = 0; i < ncols; i++) {
        PyObject *col = column(&self->cols[i], n);
        if (col == NULL) {
            Py_DECREF(cols);
            return NULL;
        }
        PyList_SET_ITEM(cols, i, col);
    }
    return Py_BuildValue("(niN)", n, self->done, cols);
}

static PyObject *stmt_names(Statement *self, void *Py_UNUSED(closure)) {
    Py_INCREF(self->names);
    return self->names;
}

static PyMethodDef stmt_methods[] = {
    {"fetch", (PyCFunction)stmt_fetch, METH_VARARGS,
     "fetch(max_rows) -> (rows, done, columns): up to max_rows rows as column buffers."},
    {"close", (PyCFunction)stmt_close, METH_NOARGS, "Finalize the statement."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef stmt_getset[] = {
    {"names", (getter)stmt_names, NULL, "the result's column names", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject StatementType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "handover.db._sqlite_arrow.Statement",
    .tp_basicsize = sizeof(Statement),
    .tp_dealloc = (destructor)stmt_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A prepared statement whose rows are fetched as column buffers.",
    .tp_methods = stmt_methods,
    .tp_getset = stmt_getset,
};

static PyMethodDef conn_methods[] = {
    {"execute", (PyCFunction)conn_execute, METH_VARARGS,
     "execute(sql, params=None) -> Statement (one statement; params a tuple)."},
    {"close", (PyCFunction)conn_close, METH_NOARGS, "Close the connection."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ConnectionType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "handover.db._sqlite_arrow.Connection",
    .tp_basicsize = sizeof(Connection),
    .tp_dealloc = (destructor)conn_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A read-only connection to one SQLite file.",
    .tp_methods = conn_methods,
};

/* connect(uri, busy_ms) -> Connection: read-only, URI filenames, no connection mutex */
static PyObject *connect(PyObject *self, PyObject *args) {
    const char *uri;
    int busy_ms;
    if (!PyArg_ParseTuple(args, "si", &uri, &busy_ms)) return NULL;
    sqlite3 *db = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                         NULL);
    Py_END_ALLOW_THREADS
    if (rc != SQLITE_OK) {
        PyErr_SetString(Error, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close_v2(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, busy_ms);
    Connection *c = PyObject_New(Connection, &ConnectionType);
    if (c == NULL) {
        sqlite3_close_v2(db);
        return NULL;
    }
    c->db = db;
    c->busy = 0;
    return (PyObject *)c;
}

static PyObject *version(PyObject *self, PyObject *Py_UNUSED(ignored)) {
    return PyUnicode_FromString(sqlite3_libversion());
}

static PyMethodDef methods[] = {
    {"connect", connect, METH_VARARGS, "connect(uri, busy_ms) -> Connection (read-only)."},
    {"sqlite_version", version, METH_NOARGS, "The linked SQLite's version."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_sqlite_arrow",
    "A SQLite file's rows as Arrow buffers, one pass in C (db/sqlite_arrow.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__sqlite_arrow(void) {
    if (PyType_Ready(&ConnectionType) < 0 || PyType_Ready(&StatementType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Error = PyErr_NewException("handover.db._sqlite_arrow.Error", NULL, NULL);
    if (Error == NULL || PyModule_AddObjectRef(m, "Error", Error) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    PyModule_AddIntConstant(m, "NULL", K_NULL);
    PyModule_AddIntConstant(m, "INT", K_INT);
    PyModule_AddIntConstant(m, "REAL", K_REAL);
    PyModule_AddIntConstant(m, "TEXT", K_TEXT);
    PyModule_AddIntConstant(m, "BLOB", K_BLOB);
    PyModule_AddIntConstant(m, "MIXED", K_MIXED);
    PyModule_AddIntConstant(m, "HUGE", K_HUGE);
    return m;
}
