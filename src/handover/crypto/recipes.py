"""Safe recipes over the primitives (pyca Fernet style): seal and open bytes.

A sealed token is ``b"HS" | version (1) | suite code (1) | nonce (12) | ciphertext | tag (16)``.
The 4-byte header is authenticated together with the caller's associated data, so a
token cannot be replayed under another suite or version. Nonces are random 96-bit
values: one key may seal up to 2**32 messages (NIST SP 800-38D, 8.3); data keys are
per object, far below that.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from handover.crypto.errors import DecryptionFailed
from handover.crypto.suites import (
    NONCE_BYTES,
    SUITES,
    SUITES_BY_CODE,
    TAG_BYTES,
    Aead,
    AuthenticationError,
)

MAGIC = b"HS"
VERSION = 1
HEADER_BYTES = 4
# Above this size seal encrypts into one preallocated buffer instead of joining parts.
LARGE = 1 << 16

Random = Callable[[int], bytes]


@dataclass(frozen=True)
class DataKey:
    """A data encryption key: its clear material (never printed) and its wrapped form.

    ``wrapped`` names the key encryption key and its version; store it beside the data.
    """

    key_id: str
    version: int
    suite: str
    material: bytes = field(repr=False)
    wrapped: bytes = field(repr=False)
    _aead: list[Aead] = field(default_factory=list, init=False, repr=False, compare=False)

    def __repr__(self) -> str:
        return f"DataKey(key_id={self.key_id!r}, version={self.version}, suite={self.suite!r})"

    def aead(self) -> Aead:
        """The suite's AEAD bound to this key, built once per DataKey."""
        if not self._aead:
            self._aead.append(SUITES[self.suite].bind(self.material))
        return self._aead[0]


def _aead_for(key: bytes | DataKey, suite: str | None) -> Aead:
    if isinstance(key, DataKey):
        return key.aead()
    if suite is not None:
        return SUITES[suite].bind(key)
    for s in SUITES.values():
        if len(key) == s.key_bytes:
            return s.bind(key)
    raise ValueError(f"a {len(key)}-byte key fits no suite (AES-256 needs 32, SM4 16)")


def seal(
    plaintext: bytes,
    aad: bytes,
    key: bytes | DataKey,
    *,
    suite: str | None = None,
    rng: Random = os.urandom,
) -> bytes:
    """Encrypt and authenticate ``plaintext`` bound to ``aad``; returns a self-describing token.

    The suite is the data key's, or ``suite``, or inferred from the key length.
    """
    aead = _aead_for(key, suite)
    header = MAGIC + bytes((VERSION, aead.suite.code))
    nonce = rng(NONCE_BYTES)
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"the nonce source gave {len(nonce)} bytes, not {NONCE_BYTES}")
    if len(plaintext) < LARGE:
        return b"".join((header, nonce, aead.encrypt(nonce, plaintext, header + aad)))
    # Large messages: one buffer, encrypted in place (see Aead.encrypt_into).
    start = HEADER_BYTES + NONCE_BYTES
    buf = bytearray(start + len(plaintext) + TAG_BYTES)
    buf[:HEADER_BYTES] = header
    buf[HEADER_BYTES:start] = nonce
    aead.encrypt_into(nonce, plaintext, header + aad, memoryview(buf)[start:])
    return bytes(buf)


# Named ``open`` as in STYLE.md (crypto.seal / crypto.open); this module does no file I/O.
def open(
    token: bytes,
    aad: bytes,
    key: bytes | DataKey,
    *,
    what: str = "data",
) -> bytes:
    """Verify and decrypt a token from :func:`seal`; raise :class:`DecryptionFailed` on any fault.

    ``what`` names the object in the error message (never the key).
    """
    try:
        if len(token) < HEADER_BYTES + NONCE_BYTES + TAG_BYTES or token[:2] != MAGIC:
            raise AuthenticationError("format")
        if token[2] != VERSION or token[3] not in SUITES_BY_CODE:
            raise AuthenticationError("version")
        s = SUITES_BY_CODE[token[3]]
        if isinstance(key, DataKey):
            if key.suite != s.name:
                raise AuthenticationError("suite")
            aead = key.aead()
        else:
            if len(key) != s.key_bytes:
                raise AuthenticationError("key size")
            aead = s.bind(key)
        header = token[:HEADER_BYTES]
        nonce = token[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES]
        # A memoryview slice: no copy of a large ciphertext before decrypting it.
        body = memoryview(token)[HEADER_BYTES + NONCE_BYTES :]
        return aead.decrypt(nonce, body, header + aad)
    except AuthenticationError:
        raise DecryptionFailed.msg("crypto.decryption_failed", what=what) from None


def token_suite(token: bytes) -> str | None:
    """The suite name recorded in a sealed token's header (None if it is not a token)."""
    if len(token) >= HEADER_BYTES and token[:2] == MAGIC and token[3] in SUITES_BY_CODE:
        return SUITES_BY_CODE[token[3]].name
    return None
