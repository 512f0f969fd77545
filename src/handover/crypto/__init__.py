"""handover.crypto — the one safe layer over cryptographic primitives.

Only this package imports ``cryptography``, ``pkcs11`` and pyarrow's Parquet encryption.
Everything else calls these recipes:

* :func:`seal` / :func:`open` — authenticated encryption of bytes (AES-256-GCM or SM4-GCM);
  every failure is the one opaque :class:`DecryptionFailed`.
* :class:`Keys` — key lifecycle (create, rotate, destroy = cryptographic erase) over a
  backend (workspace keyring or PKCS#11 HSM), envelope encryption with :class:`DataKey`.
* :func:`sign` / :func:`signature` / :func:`verify` — Ed25519 with the workspace signing key.
* :func:`tokenize` — keyed HMAC tokens over Arrow arrays for de-identification.
* :func:`sha256` / :func:`sha256_file` / :func:`sm3_file` / :func:`digest` — the one hasher
  (and :func:`md5_fingerprint`, a non-security fingerprint matching databases' ``md5()``).
* :mod:`handover.crypto.parquet` — Parquet Modular Encryption through the same keys
  (imported on demand: it pulls in pyarrow).
"""

from __future__ import annotations

from handover.crypto.digest import (
    digest,
    digest_hex,
    file_digest,
    md5_fingerprint,
    new_hash,
    sha256,
    sha256_file,
    sha256_hex,
    sm3_file,
)
from handover.crypto.errors import DecryptionFailed, KeyDestroyed, KeyNotFound, KeyringRefused
from handover.crypto.keys import KeyInfo, Keys, KeyVersion
from handover.crypto.recipes import DataKey, open, seal
from handover.crypto.signing import (
    PublicKey,
    Signature,
    init_keys,
    public_key,
    public_keys,
    sign,
    signature,
    verify,
)
from handover.crypto.suites import SUITES, Suite
from handover.crypto.tokenize import tokenize, tokenize_with

__all__ = [
    "SUITES",
    "DataKey",
    "DecryptionFailed",
    "KeyDestroyed",
    "KeyInfo",
    "KeyNotFound",
    "KeyVersion",
    "KeyringRefused",
    "Keys",
    "PublicKey",
    "Signature",
    "Suite",
    "digest",
    "digest_hex",
    "file_digest",
    "init_keys",
    "md5_fingerprint",
    "new_hash",
    "open",
    "public_key",
    "public_keys",
    "seal",
    "sha256",
    "sha256_file",
    "sha256_hex",
    "sign",
    "signature",
    "sm3_file",
    "tokenize",
    "tokenize_with",
    "verify",
]
