/*
 * A batch of ledger events made ready in one call: the appends' per-event Python work
 * (handover.ledger.ledger._prepare and body_text) for the common event, in C.
 *
 * prepare(events, actions, keys) takes the events of one batch and answers, for each,
 * either the prepared tuple (actor, action, subject, purpose, details, details_text,
 * masked) that handover.ledger.ledger._prepare would make, or None: the event then takes
 * the Python path, which alone decides everything this module does not. An event is taken
 * here only when it is plain, the case in which _prepare's guard returns the event as it
 * is:
 *
 * - its action is one of `actions` (a set the caller fills with actions it has checked);
 * - actor, subject and purpose are str within 200, 500 and 2,000 characters;
 * - details are None or a dict whose keys are in `keys` (a set the caller fills with keys
 *   it has checked: text, naming no secret, every character below U+D800, so code point
 *   order is RFC 8785's UTF-16 order) and whose values are str, bool, None or an int
 *   between -10**10 and 10**10 (exclusive);
 * - no text has a UTF-8 form missing (a lone surrogate), and none may hold what the guard
 *   masks: no eleven characters in a row that start and end with a decimal digit and hold
 *   only decimal digits, spaces and hyphens, and no "-----BEGIN" (the guard's pre-scan,
 *   handover.ledger.guard.MAYBE; "decimal digit" as Python's re reads \d, any Unicode
 *   decimal digit). maybe_sensitive(text) is that test alone.
 *
 * details_text is the RFC 8785 text of the details (bytes, UTF-8): members in key order,
 * strings escaped as JSON requires and no more (json.encoder.encode_basestring's escapes:
 * '"', '\\', \b \f \n \r \t, other characters below U+0020 as lower-case \u00xx).
 *
 * bodies(prepared, first, ts, version) lays out each prepared event's canonical body
 * (handover.ledger.ledger.body_text, details_text given as str or bytes) and answers the
 * bodies as str and as UTF-8 bytes. A text with no UTF-8 form raises UnicodeEncodeError;
 * the caller then takes the Python path, which tells the user.
 *
 * tests/test_ledger_events.py checks both against the Python path on a corpus and on
 * random events. Built by setuptools when a C compiler is present; without it every event
 * takes the Python path.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static PyObject *S_action, *S_actor, *S_subject, *S_purpose, *S_details, *S_BEGIN, *ZERO;

/* --- a growing byte buffer ------------------------------------------------------------- */

typedef struct {
    char *p;
    Py_ssize_t n, cap;
} Buf;

static int buf_grow(Buf *b, Py_ssize_t more) {
    if (b->n + more <= b->cap) return 0;
    Py_ssize_t cap = b->cap ? b->cap : 1024;
    while (cap < b->n + more) cap *= 2;
    char *p = PyMem_Realloc(b->p, (size_t)cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buf_add(Buf *b, const char *s, Py_ssize_t len) {
    if (buf_grow(b, len) < 0) return -1;
    memcpy(b->p + b->n, s, (size_t)len);
    b->n += len;
    return 0;
}

#define BUF_LIT(b, s) buf_add((b), (s), (Py_ssize_t)(sizeof(s) - 1))

/* A JSON string token of UTF-8 text `s` (RFC 8785: only the required escapes). */
static int buf_json_string(Buf *b, const char *s, Py_ssize_t len) {
    /* each byte becomes at most 6 ("\u00xx"), plus the two quotes */
    if (buf_grow(b, 6 * len + 2) < 0) return -1;
    char *o = b->p + b->n;
    static const char hex[] = "0123456789abcdef";
    *o++ = '"';
    for (Py_ssize_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o++ = '"';
    b->n = o - b->p;
    return 0;
}

/* UTF-8 of a str, or NULL with the error set (a lone surrogate). */
static const char *utf8_of(PyObject *s, Py_ssize_t *len) { return PyUnicode_AsUTF8AndSize(s, len); }

/* --- the guard's pre-scan ---------------------------------------------------------------- */

/* 1: the text may hold what the guard masks (handover.ledger.guard.MAYBE matches), 0: it
 * cannot, -1: error. */
static int maybe(PyObject *s) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (n < 10) return 0; /* "-----BEGIN" is 10 characters, a digit run 11 */
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    uint32_t hist = 0; /* bit k: the character k places back is a decimal digit, inside
                          the current run of digits, spaces and hyphens */
    int dash = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        int digit = (c >= '0' && c <= '9') || (c > 127 && Py_UNICODE_ISDECIMAL(c));
        if (digit || c == ' ' || c == '-') {
            hist = ((hist << 1) | (uint32_t)digit) & 0x7FF;
            if ((hist & 0x401) == 0x401) return 1;
        } else {
            hist = 0;
        }
        dash |= c == '-';
    }
    if (!dash) return 0;
    Py_ssize_t at = PyUnicode_Find(s, S_BEGIN, 0, n, 1);
    if (at == -2) return -1;
    return at >= 0;
}

static PyObject *maybe_sensitive(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "text must be str");
        return NULL;
    }
    int m = maybe(arg);
    if (m < 0) return NULL;
    return PyBool_FromLong(m);
}

/* --- prepare ----------------------------------------------------------------------------- */

/* 1: a plain text within `limit` characters whose UTF-8 form exists; 0: not; -1: error. */
static int plain_text(PyObject *v, Py_ssize_t limit) {
    if (!PyUnicode_CheckExact(v) || PyUnicode_GET_LENGTH(v) > limit) return 0;
    Py_ssize_t len;
    if (utf8_of(v, &len) == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return -1;
        PyErr_Clear();
        return 0;
    }
    int m = maybe(v);
    return m < 0 ? -1 : !m;
}

static int compare_keys(const void *a, const void *b) {
    /* keys are str whose characters are all below U+D800 (checked by the caller's set) */
    return PyUnicode_Compare(*(PyObject *const *)a, *(PyObject *const *)b);
}

/* The canonical text of plain details into b; 1 when plain, 0 when not, -1 on error. */
static int details_text(PyObject *details, PyObject *keys, Buf *b) {
    Py_ssize_t n = PyDict_GET_SIZE(details);
    if (BUF_LIT(b, "{") < 0) return -1;
    if (n == 0) return BUF_LIT(b, "}") < 0 ? -1 : 1;
    PyObject *stack_keys[16];
    PyObject **sorted = n <= 16 ? stack_keys : PyMem_Malloc(sizeof(PyObject *) * (size_t)n);
    if (sorted == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int ok = 1;
    Py_ssize_t pos = 0, i = 0;
    PyObject *k, *v;
    while (PyDict_Next(details, &pos, &k, &v)) {
        if (!PyUnicode_CheckExact(k)) {
            ok = 0;
            break;
        }
        int known = PySet_Contains(keys, k);
        if (known <= 0) {
            ok = known;
            break;
        }
        sorted[i++] = k;
    }
    if (ok == 1 && n > 1) {
        qsort(sorted, (size_t)n, sizeof(PyObject *), compare_keys);
        if (PyErr_Occurred()) ok = -1;
    }
    for (i = 0; ok == 1 && i < n; i++) {
        k = sorted[i];
        v = PyDict_GetItemWithError(details, k);
        if (v == NULL) {
            ok = PyErr_Occurred() ? -1 : 0; /* changed under us: the Python path */
            break;
        }
        Py_ssize_t klen;
        const char *ks = utf8_of(k, &klen);
        if (ks == NULL) {
            ok = -1;
            break;
        }
        if ((i && BUF_LIT(b, ",") < 0) || buf_json_string(b, ks, klen) < 0 ||
            BUF_LIT(b, ":") < 0) {
            ok = -1;
            break;
        }
        if (PyUnicode_CheckExact(v)) {
            Py_ssize_t vlen;
            const char *vs = utf8_of(v, &vlen);
            if (vs == NULL) {
                if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
                    ok = -1;
                    break;
                }
                PyErr_Clear();
                ok = 0;
                break;
            }
            int m = maybe(v);
            if (m != 0) {
                ok = m < 0 ? -1 : 0;
                break;
            }
            if (buf_json_string(b, vs, vlen) < 0) ok = -1;
        } else if (v == Py_True) {
            if (BUF_LIT(b, "true") < 0) ok = -1;
        } else if (v == Py_False) {
            if (BUF_LIT(b, "false") < 0) ok = -1;
        } else if (v == Py_None) {
            if (BUF_LIT(b, "null") < 0) ok = -1;
        } else if (PyLong_CheckExact(v)) {
            int overflow;
            long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
            if (x == -1 && PyErr_Occurred()) {
                ok = -1;
                break;
            }
            if (overflow || x <= -10000000000LL || x >= 10000000000LL) {
                ok = 0;
                break;
            }
            char num[24]; /* |x| < 10**10: at most 11 characters */
            int len = snprintf(num, sizeof num, "%lld", x);
            if (len < 0 || len >= (int)sizeof num || buf_add(b, num, len) < 0) ok = -1;
        } else {
            ok = 0;
        }
    }
    if (sorted != stack_keys) PyMem_Free(sorted);
    if (ok == 1 && BUF_LIT(b, "}") < 0) ok = -1;
    return ok;
}

/* The prepared tuple of one event, Py_None when it takes the Python path, NULL on error. */
static PyObject *prepare_one(PyObject *ev, PyObject *actions, PyObject *keys, Buf *b) {
    PyObject *got[5] = {NULL, NULL, NULL, NULL, NULL};
    PyObject *names[5] = {S_actor, S_action, S_subject, S_purpose, S_details};
    static const Py_ssize_t limits[4] = {200, 100, 500, 2000};
    PyObject *out = NULL, *copy = NULL, *text = NULL;
    int ok = 1;
    for (int i = 0; i < 5; i++) {
        got[i] = PyObject_GetAttr(ev, names[i]);
        if (got[i] == NULL) goto done;
    }
    if (!PyUnicode_CheckExact(got[1])) {
        ok = 0;
    } else {
        ok = PySet_Contains(actions, got[1]);
        if (ok < 0) goto done;
    }
    for (int i = 0; ok == 1 && i < 4; i++) {
        ok = i == 1 ? 1 : plain_text(got[i], limits[i]);
        if (ok < 0) goto done;
    }
    if (ok == 1) {
        PyObject *details = got[4];
        if (details == Py_None) {
            copy = PyDict_New();
        } else if (PyDict_CheckExact(details)) {
            b->n = 0;
            ok = details_text(details, keys, b);
            if (ok < 0) goto done;
            if (ok == 1) copy = PyDict_Copy(details);
        } else {
            ok = 0;
        }
        if (ok == 1 && copy == NULL) goto done;
    }
    if (ok != 1) {
        out = Py_NewRef(Py_None);
        goto done;
    }
    if (got[4] == Py_None)
        text = PyBytes_FromStringAndSize("{}", 2);
    else
        text = PyBytes_FromStringAndSize(b->p, b->n);
    if (text == NULL) goto done;
    out = PyTuple_Pack(7, got[0], got[1], got[2], got[3], copy, text, ZERO);
done:
    for (int i = 0; i < 5; i++) Py_XDECREF(got[i]);
    Py_XDECREF(copy);
    Py_XDECREF(text);
    return out;
}

static PyObject *prepare(PyObject *self, PyObject *args) {
    PyObject *events, *actions, *keys;
    if (!PyArg_ParseTuple(args, "OO!O!", &events, &PySet_Type, &actions, &PySet_Type, &keys))
        return NULL;
    /* a tuple of its own: reading an event's attributes may run code that changes the
       caller's list, whose items would then be borrowed from a list that lets them go */
    PyObject *seq = PySequence_Tuple(events);
    if (seq == NULL) return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(seq);
    PyObject *out = PyList_New(n);
    Buf b = {NULL, 0, 0};
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        PyObject *p = prepare_one(PyTuple_GET_ITEM(seq, i), actions, keys, &b);
        if (p == NULL)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, i, p);
    }
    PyMem_Free(b.p);
    Py_DECREF(seq);
    return out;
}

/* --- bodies ------------------------------------------------------------------------------ */

static int add_string(Buf *b, PyObject *s) {
    Py_ssize_t len;
    const char *u = utf8_of(s, &len);
    return u == NULL ? -1 : buf_json_string(b, u, len);
}

static PyObject *bodies(PyObject *self, PyObject *args) {
    PyObject *prepared, *ts;
    long long first, version;
    if (!PyArg_ParseTuple(args, "OLUL", &prepared, &first, &ts, &version)) return NULL;
    PyObject *seq = PySequence_Fast(prepared, "prepared must be a sequence");
    if (seq == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    const long long max_safe = 9007199254740991LL; /* 2**53 - 1 */
    if (first < 0 || (n > 0 && first > max_safe - (n - 1))) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_OverflowError, "seq beyond 2**53 - 1");
        return NULL;
    }
    PyObject *texts = PyList_New(n), *raw = PyList_New(n), *result = NULL;
    Buf b = {NULL, 0, 0}, ts_token = {NULL, 0, 0};
    char tail[64];
    int tail_len = 0;
    if (texts == NULL || raw == NULL || add_string(&ts_token, ts) < 0) goto done;
    tail_len = snprintf(tail, sizeof tail, ",\"v\":%lld}", version);
    if (tail_len < 0 || tail_len >= (int)sizeof tail) {
        PyErr_SetString(PyExc_OverflowError, "version too long");
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *p = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyTuple_Check(p) || PyTuple_GET_SIZE(p) < 6) {
            PyErr_SetString(PyExc_TypeError, "a prepared event must be a tuple of 6 or more");
            goto done;
        }
        PyObject *d = PyTuple_GET_ITEM(p, 5);
        const char *ds;
        Py_ssize_t dlen;
        if (PyBytes_Check(d)) {
            ds = PyBytes_AS_STRING(d);
            dlen = PyBytes_GET_SIZE(d);
        } else if (PyUnicode_Check(d)) {
            ds = utf8_of(d, &dlen);
            if (ds == NULL) goto done;
        } else {
            PyErr_SetString(PyExc_TypeError, "details_text must be str or bytes");
            goto done;
        }
        char num[64]; /* 18 characters and at most 16 digits (2**53 - 1) */
        int num_len = snprintf(num, sizeof num, ",\"seq\":%lld,\"subject\":", first + i);
        if (num_len < 0 || num_len >= (int)sizeof num) {
            PyErr_SetString(PyExc_OverflowError, "seq too long");
            goto done;
        }
        b.n = 0;
        if (BUF_LIT(&b, "{\"action\":") < 0 || add_string(&b, PyTuple_GET_ITEM(p, 1)) < 0 ||
            BUF_LIT(&b, ",\"actor\":") < 0 || add_string(&b, PyTuple_GET_ITEM(p, 0)) < 0 ||
            BUF_LIT(&b, ",\"details\":") < 0 || buf_add(&b, ds, dlen) < 0 ||
            BUF_LIT(&b, ",\"purpose\":") < 0 || add_string(&b, PyTuple_GET_ITEM(p, 3)) < 0 ||
            buf_add(&b, num, num_len) < 0 || add_string(&b, PyTuple_GET_ITEM(p, 2)) < 0 ||
            BUF_LIT(&b, ",\"ts\":") < 0 || buf_add(&b, ts_token.p, ts_token.n) < 0 ||
            buf_add(&b, tail, tail_len) < 0)
            goto done;
        PyObject *t = PyUnicode_DecodeUTF8(b.p, b.n, "strict");
        if (t == NULL) goto done;
        PyList_SET_ITEM(texts, i, t);
        PyObject *r = PyBytes_FromStringAndSize(b.p, b.n);
        if (r == NULL) goto done;
        PyList_SET_ITEM(raw, i, r);
    }
    result = PyTuple_Pack(2, texts, raw);
done:
    PyMem_Free(b.p);
    PyMem_Free(ts_token.p);
    Py_XDECREF(texts);
    Py_XDECREF(raw);
    Py_DECREF(seq);
    return result;
}

static PyMethodDef methods[] = {
    {"prepare", prepare, METH_VARARGS,
     "prepare(events, actions, keys) -> list of prepared tuples, None where the Python "
     "path decides"},
    {"bodies", bodies, METH_VARARGS,
     "bodies(prepared, first, ts, version) -> (texts, bodies): canonical bodies"},
    {"maybe_sensitive", maybe_sensitive, METH_O,
     "maybe_sensitive(text) -> whether the guard's pre-scan would look at text"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_events", NULL, -1, methods};

PyMODINIT_FUNC PyInit__events(void) {
    const char *names[] = {"action", "actor", "subject", "purpose", "details", "-----BEGIN"};
    PyObject **slots[] = {&S_action, &S_actor, &S_subject, &S_purpose, &S_details, &S_BEGIN};
    for (int i = 0; i < 6; i++) {
        if (*slots[i] == NULL) {
            *slots[i] = PyUnicode_InternFromString(names[i]);
            if (*slots[i] == NULL) return NULL;
        }
    }
    if (ZERO == NULL && (ZERO = PyLong_FromLong(0)) == NULL) return NULL;
    return PyModule_Create(&module);
}
