"""Crypto recipes versus the raw primitives they wrap, and HMAC tokenisation rate.

* seal: ``handover.crypto.seal`` (header + random nonce + AEAD, AAD binding) against a
  bare ``AESGCM.encrypt`` / SM4-GCM ``Cipher`` over the same bytes with a fixed nonce —
  the ceiling, since the recipe adds only a header, a nonce draw and a concatenation.
* open: the same for decryption.
* tokenise: ``tokenize_with`` (dictionary-encode, the HMACs in one C call, take; and its
  Python loop where the C module is not built) against a Python loop of ``hmac.digest``
  per value (what one writes without the recipe), over resident-ID-like strings, all
  distinct and with realistic repetition.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable

import numpy as np
import pyarrow as pa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from handover.crypto import DataKey, seal, tokenize_with
from handover.crypto import open as open_token


def _pair(a: Callable[[], object], b: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best times of ``a`` and ``b``, run alternately so load on the machine hits both alike."""
    best_a = best_b = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        a()
        t1 = time.perf_counter()
        b()
        t2 = time.perf_counter()
        best_a, best_b = min(best_a, t1 - t0), min(best_b, t2 - t1)
    return best_a, best_b


def _sm4_gcm_encrypt(key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad)
    return enc.update(data) + enc.finalize() + enc.tag


def _sm4_gcm_decrypt(key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, data[-16:])).decryptor()
    dec.authenticate_additional_data(aad)
    return dec.update(data[:-16]) + dec.finalize()


def _seal_rows(quick: bool) -> list[tuple[str, str, float, float, float]]:
    """(suite, size label, handover MB/s, raw MB/s, ratio) for seal and open."""
    rows = []
    sizes = [
        (64, "64 B", 20_000 if quick else 50_000),
        (64 << 10, "64 KiB", 500 if quick else 2_000),
        (1 << 20, "1 MiB", 20 if quick else 100),
    ]
    aad = b"loans#part-0001"
    nonce = os.urandom(12)
    for suite, key in (("AES-256-GCM", os.urandom(32)), ("SM4-GCM", os.urandom(16))):
        for size, label, n in sizes:
            data = os.urandom(size)
            total_mb = size * n / 1e6
            if suite == "AES-256-GCM":
                aes = AESGCM(key)

                def raw_enc(a: AESGCM = aes, d: bytes = data, m: int = n) -> None:
                    for _ in range(m):
                        a.encrypt(nonce, d, aad)

                raw_ct = aes.encrypt(nonce, data, aad)

                def raw_dec(a: AESGCM = aes, c: bytes = raw_ct, m: int = n) -> None:
                    for _ in range(m):
                        a.decrypt(nonce, c, aad)
            else:

                def raw_enc(k: bytes = key, d: bytes = data, m: int = n) -> None:
                    for _ in range(m):
                        _sm4_gcm_encrypt(k, nonce, d, aad)

                raw_ct = _sm4_gcm_encrypt(key, nonce, data, aad)

                def raw_dec(k: bytes = key, c: bytes = raw_ct, m: int = n) -> None:
                    for _ in range(m):
                        _sm4_gcm_decrypt(k, nonce, c, aad)

            # The envelope recipe's usual form: a DataKey sealing many messages.
            dk = DataKey("bench", 1, "aes" if suite == "AES-256-GCM" else "sm", key, b"")

            def ho_enc(k: DataKey = dk, d: bytes = data, m: int = n) -> None:
                for _ in range(m):
                    seal(d, aad, k)

            token = seal(data, aad, dk)

            def ho_dec(k: DataKey = dk, tk: bytes = token, m: int = n) -> None:
                for _ in range(m):
                    open_token(tk, aad, k)

            for op, ho, raw in (("seal", ho_enc, raw_enc), ("open", ho_dec, raw_dec)):
                t_ho, t_raw = _pair(ho, raw, 5)
                rows.append(
                    (f"{op} {suite}", label, total_mb / t_ho, total_mb / t_raw, t_ho / t_raw)
                )
    return rows


def _token_rows(quick: bool) -> list[tuple[str, float, float, float, float]]:
    """(label, handover values/s, the same without the C module, peer values/s, speed-up)."""
    from handover.crypto import suites

    n = 200_000 if quick else 1_000_000
    rng = np.random.default_rng(2026)
    secret = os.urandom(32)
    distinct = pa.array([f"{x:018d}" for x in rng.integers(10**17, 10**18, n)])
    # a loan book repeats customers: ~5 loans per customer on average
    repeated = distinct.take(pa.array(rng.integers(0, n // 5, n)))
    built = suites._hmac_many
    rows = []
    for label, values in (("distinct IDs", distinct), ("repeated IDs (n/5 distinct)", repeated)):
        as_bytes = [v.encode() for v in values.to_pylist()]

        def ho(v: pa.Array = values) -> None:
            tokenize_with(secret, v)

        def ho_python(v: pa.Array = values) -> None:
            suites._hmac_many = None  # type: ignore[assignment]
            try:
                tokenize_with(secret, v)
            finally:
                suites._hmac_many = built  # type: ignore[assignment]

        def peer(b: list[bytes] = as_bytes) -> None:
            pa.array([hmac.digest(secret, x, "sha256").hex()[:32] for x in b], pa.string())

        t_ho, t_peer = _pair(ho, peer, 3)
        t_py, _ = _pair(ho_python, lambda: None, 3)
        rows.append((label, n / t_ho, n / t_py, n / t_peer, t_peer / t_ho))
    return rows


def run(quick: bool) -> str:
    """Markdown section: seal/open throughput vs raw primitives, tokenisation rate vs a loop."""
    from handover.crypto import suites

    built = suites.hmac_many_built()
    seal_rows = _seal_rows(quick)
    token_rows = _token_rows(quick)
    out = [
        "## crypto — seal/open recipes against raw primitives; HMAC tokenisation",
        "",
        "`.venv/bin/python -m bench --only crypto`"
        + (" --quick" if quick else "")
        + " — best of 5 alternating runs, one core; the raw peer reuses one nonce and skips the token header.",
        "",
        "| operation | message | handover MB/s | raw cryptography MB/s | handover time / raw |",
        "|---|---:|---:|---:|---:|",
    ]
    for op, label, ho, raw, ratio in seal_rows:
        out.append(f"| {op} | {label} | {ho:,.1f} | {raw:,.1f} | {ratio:.2f}× |")
    out += [
        "",
        "| tokenise (HMAC-SHA256, 32 hex) | handover values/s"
        + ("" if built else " (C module NOT built)")
        + " | handover's Python loop values/s | peer: hmac.digest loop values/s | speed-up |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, ho, py, peer, speedup in token_rows:
        out.append(f"| {label} | {ho:,.0f} | {py:,.0f} | {peer:,.0f} | {speedup:.2f}× |")
    out += [
        "",
        "Notes: handover seals with a DataKey (its cipher object is built once). The",
        "recipe's fixed cost (header, nonce draw, checks) shows on 64-byte messages. For",
        "1 MiB messages the token is one extra buffer: glibc serves buffers above its mmap",
        "threshold from fresh pages and trims them on free, so the",
        "page faults, not the cipher, set the seal ratio (with MALLOC_MMAP_THRESHOLD_ and",
        "MALLOC_TRIM_THRESHOLD_ raised, seal runs at the raw speed). Bulk data is encrypted",
        "by Parquet modular encryption inside pyarrow, not by this recipe. Tokens are",
        "computed for distinct values only (dictionary-encode, take); their HMACs are one",
        "call of the C module `_hmac_many` (OpenSSL's digests), or, where it was not built,",
        "a Python loop over pre-hashed HMAC pads (the third column).",
    ]
    return "\n".join(out) + "\n"
