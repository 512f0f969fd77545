/*
 * HMAC (RFC 2104) or the plain digest of many short messages in one call, in hex.
 *
 * handover.crypto.suites.Hmac computes one HMAC per Python call: about 1 us a message,
 * most of it the interpreter. This module runs the same construction over a whole Arrow
 * binary array in C, with OpenSSL's EVP digests (SHA-256, SM3): the inner and outer
 * pads are hashed once, and per message the two hash states are copied, updated and
 * finished -- no digest is implemented here. The interpreter lock is released while it
 * runs. Built by setuptools when a C compiler and OpenSSL's headers are present; without
 * it suites.Hmac.hex_many answers None and the callers compute the tokens in Python
 * (the same tokens: tests/test_crypto_kat.py checks both against RFC 4231).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <openssl/evp.h>

static const char HEX[] = "0123456789abcdef";

/*
 * The first hex_chars hex characters of each message's HMAC under block_key (keyed) or
 * of its plain digest (not keyed: block_key is ignored). digest: "sha256" or "sm3";
 * block_key: the key as HMAC pads it (hashed when longer than a block, then zero-filled
 * to exactly one block); offsets: count + 1 int64 (an Arrow large_binary array's offsets
 * from its first value on); data: its data buffer. Returns count * hex_chars ASCII
 * characters; None when this OpenSSL has no such digest (the caller computes them
 * another way). Releases the buffers.
 */
static PyObject *hex_of(int keyed, const char *name, Py_buffer key, Py_buffer offs,
                        Py_buffer data, Py_ssize_t count, Py_ssize_t hex_chars) {
    PyObject *out = NULL;
    const char *problem = NULL;
    EVP_MD *md = NULL;
    EVP_MD_CTX *inner = NULL, *outer = NULL, *work = NULL;
    const int64_t *o = (const int64_t *)offs.buf;
    const unsigned char *d = (const unsigned char *)data.buf;
    unsigned char pad[EVP_MAX_MD_SIZE * 4];

    md = EVP_MD_fetch(NULL, name, NULL);
    if (md == NULL) { /* e.g. SM3 in an OpenSSL without it (a FIPS provider) */
        Py_CLEAR(out);
        PyBuffer_Release(&key);
        PyBuffer_Release(&offs);
        PyBuffer_Release(&data);
        Py_RETURN_NONE;
    }
    int block = EVP_MD_get_block_size(md), size = EVP_MD_get_size(md);
    if (block <= 0 || block > (int)sizeof pad || (keyed && key.len != block)) {
        problem = "the key must be exactly one block";
        goto done;
    }
    if (count < 0 || hex_chars < 1 || hex_chars > 2 * size) {
        problem = "bad count or token length";
        goto done;
    }
    if (count > offs.len / (Py_ssize_t)sizeof(int64_t) - 1) { /* no overflow */
        problem = "too few offsets";
        goto done;
    }
    if (count > PY_SSIZE_T_MAX / hex_chars) {
        problem = "too many values";
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if (o[i] < 0 || o[i + 1] < o[i] || o[i + 1] > data.len) {
            problem = "offsets outside the data";
            goto done;
        }
    }
    inner = EVP_MD_CTX_new();
    outer = EVP_MD_CTX_new();
    work = EVP_MD_CTX_new();
    if (inner == NULL || outer == NULL || work == NULL) {
        problem = "out of memory";
        goto done;
    }
    const unsigned char *k = (const unsigned char *)key.buf;
    int ok = EVP_DigestInit_ex(inner, md, NULL) && EVP_DigestInit_ex(outer, md, NULL);
    if (keyed) {
        for (int i = 0; i < block; i++) pad[i] = k[i] ^ 0x36;
        ok = ok && EVP_DigestUpdate(inner, pad, block);
        for (int i = 0; i < block; i++) pad[i] = k[i] ^ 0x5c;
        ok = ok && EVP_DigestUpdate(outer, pad, block);
        OPENSSL_cleanse(pad, sizeof pad);
    }
    if (!ok) {
        problem = "OpenSSL refused the digest";
        goto done;
    }
    out = PyBytes_FromStringAndSize(NULL, count * hex_chars);
    if (out == NULL) goto done;
    char *w = PyBytes_AS_STRING(out);
    Py_BEGIN_ALLOW_THREADS
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len;
    for (Py_ssize_t i = 0; ok && i < count; i++) {
        ok = EVP_MD_CTX_copy_ex(work, inner) && EVP_DigestUpdate(work, d + o[i], o[i + 1] - o[i])
             && EVP_DigestFinal_ex(work, mac, &len);
        if (keyed)
            ok = ok && EVP_MD_CTX_copy_ex(work, outer) && EVP_DigestUpdate(work, mac, len)
                 && EVP_DigestFinal_ex(work, mac, &len);
        for (Py_ssize_t j = 0; j < hex_chars; j++) {
            unsigned char c = mac[j >> 1];
            *w++ = HEX[(j & 1) ? (c & 15) : (c >> 4)];
        }
    }
    OPENSSL_cleanse(mac, sizeof mac);
    Py_END_ALLOW_THREADS
    if (!ok) {
        Py_CLEAR(out);
        problem = "OpenSSL failed a digest";
    }
done:
    EVP_MD_CTX_free(work);
    EVP_MD_CTX_free(outer);
    EVP_MD_CTX_free(inner);
    EVP_MD_free(md);
    PyBuffer_Release(&key);
    PyBuffer_Release(&offs);
    PyBuffer_Release(&data);
    if (problem != NULL) {
        Py_CLEAR(out);
        PyErr_SetString(PyExc_ValueError, problem);
    }
    return out;
}

/* hex_many(digest, block_key, offsets, data, count, hex_chars) -> bytes: HMACs */
static PyObject *hex_many(PyObject *self, PyObject *args) {
    const char *name;
    Py_buffer key, offs, data;
    Py_ssize_t count, hex_chars;
    if (!PyArg_ParseTuple(args, "sy*y*y*nn", &name, &key, &offs, &data, &count, &hex_chars))
        return NULL;
    return hex_of(1, name, key, offs, data, count, hex_chars);
}

/* hex_digests(digest, offsets, data, count, hex_chars) -> bytes: plain digests */
static PyObject *hex_digests(PyObject *self, PyObject *args) {
    const char *name;
    Py_buffer offs, data;
    Py_ssize_t count, hex_chars;
    if (!PyArg_ParseTuple(args, "sy*y*nn", &name, &offs, &data, &count, &hex_chars))
        return NULL;
    Py_buffer none = {0};
    return hex_of(0, name, none, offs, data, count, hex_chars);
}

static PyMethodDef METHODS[] = {
    {"hex_many", hex_many, METH_VARARGS,
     "hex_many(digest, block_key, offsets, data, count, hex_chars) -> bytes"},
    {"hex_digests", hex_digests, METH_VARARGS,
     "hex_digests(digest, offsets, data, count, hex_chars) -> bytes"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_hmac_many", "HMAC of many messages with OpenSSL's digests.", -1,
    METHODS,
};

PyMODINIT_FUNC PyInit__hmac_many(void) { return PyModule_Create(&MODULE); }
