/*
 * RFC 6962 / RFC 9162 Merkle tree hashing over many leaves and nodes in one call.
 *
 * The Python loops of handover.crypto.tree hash one node per call: hashlib costs about
 * 0.4-0.7 us a call, most of it the interpreter, where OpenSSL's SHA-256 of the 65 bytes
 * of a node takes about 0.1 us. This module runs the same loops in C with OpenSSL's
 * SHA-256 (no digest is implemented here): a leaf hashes as SHA-256(0x00 || data), a node
 * as SHA-256(0x01 || left || right). leaf_hashes, leaf_hash_list, parent_level,
 * prefix_roots and extend are the exact counterparts of the Python functions of the same
 * names (tests/test_merkle_native.py checks both against RFC 6962's known answers and
 * against each other), including how a frontier list is changed in place and the
 * IndexError of a frontier too short to pop from; a frontier hash or level that is not
 * whole 32-byte hashes, which the Python loop would hash into a wrong tree, is refused.
 * leaf_hashes_offsets reads an Arrow array's buffers for the ledger verifier's Arrow path,
 * which without this module is not taken. Built by setuptools when a C compiler and
 * OpenSSL's headers are present; without it the Python loops run.
 */
#define PY_SSIZE_T_CLEAN
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init & co.: a third of EVP's cost per call */
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <openssl/sha.h>

#define HASH 32

static int leaf(const void *data, size_t len, unsigned char out[HASH]) {
    static const unsigned char zero = 0;
    SHA256_CTX c;
    return SHA256_Init(&c) && SHA256_Update(&c, &zero, 1) && SHA256_Update(&c, data, len)
           && SHA256_Final(out, &c);
}

static int node(const unsigned char *left, const unsigned char *right, unsigned char out[HASH]) {
    unsigned char in[1 + 2 * HASH];
    SHA256_CTX c;
    in[0] = 1;
    memcpy(in + 1, left, HASH);
    memcpy(in + 1 + HASH, right, HASH);
    return SHA256_Init(&c) && SHA256_Update(&c, in, sizeof in) && SHA256_Final(out, &c);
}

static PyObject *digest_failed(void) {
    PyErr_SetString(PyExc_RuntimeError, "OpenSSL failed a SHA-256");
    return NULL;
}

/* The leaf hashes of a sequence of bytes-like values, written one after the other. */
static int leaves_into(PyObject *seq, unsigned char *out) {
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = items[i];
        int ok;
        if (PyBytes_Check(v)) {
            ok = leaf(PyBytes_AS_STRING(v), (size_t)PyBytes_GET_SIZE(v), out + HASH * i);
        } else {
            Py_buffer b;
            if (PyObject_GetBuffer(v, &b, PyBUF_SIMPLE) < 0) return -1;
            ok = leaf(b.buf, (size_t)b.len, out + HASH * i);
            PyBuffer_Release(&b);
        }
        if (!ok) {
            digest_failed();
            return -1;
        }
    }
    return 0;
}

/* leaf_hashes(leaves) -> bytes: the leaf hashes concatenated, 32 bytes each */
static PyObject *leaf_hashes(PyObject *self, PyObject *arg) {
    PyObject *seq = PySequence_Fast(arg, "leaves must be a sequence");
    if (seq == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject *out = PyBytes_FromStringAndSize(NULL, n * HASH);
    if (out != NULL && leaves_into(seq, (unsigned char *)PyBytes_AS_STRING(out)) < 0)
        Py_CLEAR(out);
    Py_DECREF(seq);
    return out;
}

/* leaf_hashes_offsets(offsets, data) -> bytes: the leaf hashes of the values of an Arrow
 * string or binary array, given its count + 1 int32 offsets (from its first value on) and
 * its data buffer, concatenated, 32 bytes each */
static PyObject *leaf_hashes_offsets(PyObject *self, PyObject *args) {
    Py_buffer offs, data;
    if (!PyArg_ParseTuple(args, "y*y*", &offs, &data)) return NULL;
    PyObject *out = NULL;
    const int32_t *o = offs.buf;
    Py_ssize_t count = offs.len / (Py_ssize_t)sizeof(int32_t) - 1;
    if (count < 0 || offs.len % (Py_ssize_t)sizeof(int32_t)) {
        PyErr_SetString(PyExc_ValueError, "the offsets are not whole int32 values");
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if (o[i] < 0 || o[i + 1] < o[i] || o[i + 1] > data.len) {
            PyErr_SetString(PyExc_ValueError, "offsets outside the data");
            goto done;
        }
    }
    out = PyBytes_FromStringAndSize(NULL, count * HASH);
    if (out == NULL) goto done;
    const unsigned char *d = data.buf;
    unsigned char *w = (unsigned char *)PyBytes_AS_STRING(out);
    int ok = 1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; ok && i < count; i++)
        ok = leaf(d + o[i], (size_t)(o[i + 1] - o[i]), w + HASH * i);
    Py_END_ALLOW_THREADS
    if (!ok) {
        Py_CLEAR(out);
        digest_failed();
    }
done:
    PyBuffer_Release(&offs);
    PyBuffer_Release(&data);
    return out;
}

/* leaf_hash_list(leaves) -> list[bytes]: one 32-byte hash per leaf */
static PyObject *leaf_hash_list(PyObject *self, PyObject *arg) {
    PyObject *all = leaf_hashes(self, arg);
    if (all == NULL) return NULL;
    Py_ssize_t n = PyBytes_GET_SIZE(all) / HASH;
    const char *p = PyBytes_AS_STRING(all);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        PyObject *h = PyBytes_FromStringAndSize(p + HASH * i, HASH);
        if (h == NULL) Py_CLEAR(out);
        else PyList_SET_ITEM(out, i, h);
    }
    Py_DECREF(all);
    return out;
}

/* parent_level(level) -> bytes: the hashes of the complete pairs of a concatenated level
 * (an odd last node, or bytes short of a node, are dropped) */
static PyObject *parent_level(PyObject *self, PyObject *arg) {
    Py_buffer b;
    if (PyObject_GetBuffer(arg, &b, PyBUF_SIMPLE) < 0) return NULL;
    Py_ssize_t pairs = b.len / (2 * HASH);
    PyObject *out = PyBytes_FromStringAndSize(NULL, pairs * HASH);
    if (out != NULL) {
        const unsigned char *in = b.buf;
        unsigned char *w = (unsigned char *)PyBytes_AS_STRING(out);
        int ok = 1;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; ok && i < pairs; i++)
            ok = node(in + 2 * HASH * i, in + 2 * HASH * i + HASH, w + HASH * i);
        Py_END_ALLOW_THREADS
        if (!ok) {
            Py_CLEAR(out);
            digest_failed();
        }
    }
    PyBuffer_Release(&b);
    return out;
}

/* ---- a frontier: the perfect subtree roots of a tree, left to right --------------- */

typedef struct {
    unsigned char *h; /* len hashes of 32 bytes */
    Py_ssize_t len, cap;
} Frontier;

/* Copy a list of 32-byte bytes, with room for `more` pushes beyond its length. */
static int frontier_read(PyObject *list, Py_ssize_t more, Frontier *f) {
    if (!PyList_Check(list)) {
        PyErr_SetString(PyExc_TypeError, "the frontier must be a list of bytes");
        return -1;
    }
    f->len = PyList_GET_SIZE(list);
    f->cap = f->len + more;
    f->h = PyMem_Malloc((size_t)(f->cap ? f->cap : 1) * HASH);
    if (f->h == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < f->len; i++) {
        PyObject *v = PyList_GET_ITEM(list, i);
        if (!PyBytes_Check(v) || PyBytes_GET_SIZE(v) != HASH) {
            PyErr_SetString(PyExc_ValueError, "a frontier hash is not 32 bytes");
            PyMem_Free(f->h);
            f->h = NULL;
            return -1;
        }
        memcpy(f->h + HASH * i, PyBytes_AS_STRING(v), HASH);
    }
    return 0;
}

/* Put the frontier back into the caller's list (replaced in place). */
static int frontier_write(PyObject *list, const Frontier *f) {
    PyObject *items = PyList_New(f->len);
    if (items == NULL) return -1;
    for (Py_ssize_t i = 0; i < f->len; i++) {
        PyObject *h = PyBytes_FromStringAndSize((const char *)f->h + HASH * i, HASH);
        if (h == NULL) {
            Py_DECREF(items);
            return -1;
        }
        PyList_SET_ITEM(items, i, h);
    }
    int rc = PyList_SetSlice(list, 0, PyList_GET_SIZE(list), items);
    Py_DECREF(items);
    return rc;
}

/* The largest growth of a frontier over k leaves appended at `start`: each leaf pops its
 * index's trailing one bits and pushes one, so the length never exceeds the initial length
 * plus the 64 bits an index can have. */
#define GROWTH 65

enum { STEP_OK = 0, STEP_EMPTY = 1, STEP_DIGEST = 2 };

/*
 * Append one leaf hash at index idx: merge it with the frontier's last pieces while idx is
 * odd (each completed subtree reported through `done` when given), push it, and fold the
 * frontier into the root after it.
 */
static int step(Frontier *f, const unsigned char *leafh, uint64_t idx, unsigned char root[HASH],
                unsigned char *done, int *level_out) {
    unsigned char cur[HASH];
    int level = 0;
    memcpy(cur, leafh, HASH);
    while (idx & 1) {
        if (f->len == 0) return STEP_EMPTY;
        f->len--;
        if (!node(f->h + HASH * f->len, cur, cur)) return STEP_DIGEST;
        level++;
        idx >>= 1;
        if (done != NULL) memcpy(done + HASH * (level - 1), cur, HASH);
    }
    memcpy(f->h + HASH * f->len, cur, HASH);
    f->len++;
    if (level_out != NULL) *level_out = level;
    if (root == NULL) return STEP_OK; /* the frontier only */
    for (Py_ssize_t j = f->len - 2; j >= 0; j--)
        if (!node(f->h + HASH * j, cur, cur)) return STEP_DIGEST;
    memcpy(root, cur, HASH);
    return STEP_OK;
}

static PyObject *step_failed(int rc) {
    if (rc == STEP_EMPTY) PyErr_SetString(PyExc_IndexError, "pop from empty list");
    else digest_failed();
    return NULL;
}

/* prefix_roots(frontier, level0, start) -> bytes: the roots after each of the leaf hashes
 * concatenated in level0, the frontier extended in place */
static PyObject *prefix_roots(PyObject *self, PyObject *args) {
    PyObject *list;
    Py_buffer b;
    unsigned long long start;
    if (!PyArg_ParseTuple(args, "O!y*K", &PyList_Type, &list, &b, &start)) return NULL;
    PyObject *out = NULL;
    Frontier f = {0};
    if (b.len % HASH) {
        PyErr_SetString(PyExc_ValueError, "level0 is not a whole number of 32-byte hashes");
        goto done;
    }
    if (frontier_read(list, GROWTH, &f) < 0) goto done;
    Py_ssize_t k = b.len / HASH;
    out = PyBytes_FromStringAndSize(NULL, k * HASH);
    if (out == NULL) goto done;
    const unsigned char *in = b.buf;
    unsigned char *w = (unsigned char *)PyBytes_AS_STRING(out);
    int rc = STEP_OK;
    Py_ssize_t i = 0;
    Py_BEGIN_ALLOW_THREADS
    for (; rc == STEP_OK && i < k; i++)
        rc = step(&f, in + HASH * i, (uint64_t)start + (uint64_t)i, w + HASH * i, NULL, NULL);
    Py_END_ALLOW_THREADS
    if (rc != STEP_OK) {
        Py_CLEAR(out);
        step_failed(rc);
        goto done;
    }
    if (frontier_write(list, &f) < 0) Py_CLEAR(out);
done:
    PyMem_Free(f.h);
    PyBuffer_Release(&b);
    return out;
}

/* extend(frontier, leaves, start, lowest=1, with_roots=True) -> (roots, nodes): the root
 * after each leaf hash (a list of bytes; empty without with_roots, which saves the fold of
 * the frontier after each leaf) and every perfect subtree of level `lowest` or more
 * completed on the way as (level, index, hash), the frontier extended in place */
static PyObject *extend(PyObject *self, PyObject *args) {
    PyObject *list, *arg;
    unsigned long long start;
    int lowest = 1, with_roots = 1;
    if (!PyArg_ParseTuple(args, "O!OK|ip", &PyList_Type, &list, &arg, &start, &lowest,
                          &with_roots))
        return NULL;
    if (lowest < 1) lowest = 1;
    PyObject *seq = PySequence_Fast(arg, "leaves must be a sequence");
    if (seq == NULL) return NULL;
    PyObject *roots = NULL, *nodes = NULL, *result = NULL;
    Frontier f = {0};
    Py_ssize_t k = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    if (frontier_read(list, GROWTH, &f) < 0) goto done;
    roots = PyList_New(with_roots ? k : 0);
    nodes = PyList_New(0);
    if (roots == NULL || nodes == NULL) goto done;
    unsigned char root[HASH], done_h[64 * HASH];
    for (Py_ssize_t i = 0; i < k; i++) {
        PyObject *v = items[i];
        if (!PyBytes_Check(v) || PyBytes_GET_SIZE(v) != HASH) {
            PyErr_SetString(PyExc_ValueError, "a leaf hash is not 32 bytes");
            goto done;
        }
        uint64_t idx = (uint64_t)start + (uint64_t)i;
        int levels = 0;
        int rc = step(&f, (const unsigned char *)PyBytes_AS_STRING(v), idx,
                      with_roots ? root : NULL, done_h, &levels);
        if (rc != STEP_OK) {
            step_failed(rc);
            goto done;
        }
        for (int lv = lowest; lv <= levels; lv++) {
            PyObject *t = Py_BuildValue("(iKy#)", lv, (unsigned long long)(idx >> lv),
                                        (const char *)done_h + HASH * (lv - 1), (Py_ssize_t)HASH);
            if (t == NULL || PyList_Append(nodes, t) < 0) {
                Py_XDECREF(t);
                goto done;
            }
            Py_DECREF(t);
        }
        if (with_roots) {
            PyObject *r = PyBytes_FromStringAndSize((const char *)root, HASH);
            if (r == NULL) goto done;
            PyList_SET_ITEM(roots, i, r);
        }
    }
    if (frontier_write(list, &f) < 0) goto done;
    result = PyTuple_Pack(2, roots, nodes);
done:
    PyMem_Free(f.h);
    Py_XDECREF(roots);
    Py_XDECREF(nodes);
    Py_DECREF(seq);
    return result;
}

static PyMethodDef METHODS[] = {
    {"leaf_hashes", leaf_hashes, METH_O, "leaf_hashes(leaves) -> bytes"},
    {"leaf_hash_list", leaf_hash_list, METH_O, "leaf_hash_list(leaves) -> list[bytes]"},
    {"leaf_hashes_offsets", leaf_hashes_offsets, METH_VARARGS,
     "leaf_hashes_offsets(offsets, data) -> bytes"},
    {"parent_level", parent_level, METH_O, "parent_level(level) -> bytes"},
    {"prefix_roots", prefix_roots, METH_VARARGS, "prefix_roots(frontier, level0, start) -> bytes"},
    {"extend", extend, METH_VARARGS, "extend(frontier, leaves, start, lowest=1, with_roots=True) -> (roots, nodes)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_tree", "RFC 6962 Merkle hashing of many leaves and nodes.", -1,
    METHODS,
};

PyMODINIT_FUNC PyInit__tree(void) { return PyModule_Create(&MODULE); }
