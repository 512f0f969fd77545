"""handover.crypto — the one safe layer over cryptographic primitives.

Only this package imports ``cryptography``, ``pkcs11`` and pyarrow's Parquet encryption.
Everything else calls these recipes:

* :func:`seal` / :func:`open` — authenticated encryption of bytes (AES-256-GCM or SM4-GCM);
  every failure is the one opaque :class:`DecryptionFailed`.
* :class:`Keys` — key lifecycle (create, rotate, destroy = cryptographic erase) over a
  backend (workspace keyring or PKCS#11 HSM), envelope encryption with :class:`DataKey`.
* :func:`sign` / :func:`verify` — Ed25519 with the workspace signing key.
* :func:`tokenize` — keyed HMAC tokens over Arrow arrays for de-identification.
* :func:`sha256_file` / :func:`sm3_file` / :func:`digest` — the one hasher.
* :mod:`handover.crypto.parquet` — Parquet Modular Encryption through the same keys
  (imported on demand: it pulls in pyarrow).
"""

from __future__ import annotations

from handover.crypto.digest import digest, digest_hex, file_digest, new_hash, sha256_file, sm3_file
from handover.crypto.errors import DecryptionFailed, KeyDestroyed, KeyNotFound, KeyringRefused
from handover.crypto.keys import KeyInfo, Keys, KeyVersion
from handover.crypto.recipes import DataKey, open, seal
from handover.crypto.signing import PublicKey, init_keys, public_key, public_keys, sign, verify
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
    "Suite",
    "digest",
    "digest_hex",
    "file_digest",
    "init_keys",
    "new_hash",
    "open",
    "public_key",
    "public_keys",
    "seal",
    "sha256_file",
    "sign",
    "sm3_file",
    "tokenize",
    "tokenize_with",
    "verify",
]
