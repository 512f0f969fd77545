"""Password hashing (Argon2id, PHC strings) and session tokens for governance logins.

Hashes are PHC strings (``$argon2id$v=19$m=...,t=...,p=...$salt$hash``) so the
parameters travel with each hash and can be raised later without breaking old ones.
The default parameters are OWASP's Argon2id minimum (m=19 MiB, t=2, p=1): a login costs
about 50 ms, which keeps online guessing slow without making the CLI sluggish.
Session tokens are 256-bit random values; the store keeps only their SHA-256, so a copy
of the store cannot be replayed as a login.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets

ARGON2_MEMORY_KIB = 19_456
ARGON2_ITERATIONS = 2
ARGON2_LANES = 1
SALT_BYTES = 16
HASH_BYTES = 32
TOKEN_BYTES = 32
MAX_PASSWORD_BYTES = 1024

# A hash of a random password, verified against when the login name is unknown so an
# unknown name costs the same time as a wrong password (no name enumeration by timing).
_DUMMY: list[str] = []


def hash_password(password: str) -> str:
    """Argon2id PHC string of ``password`` with a fresh random salt."""
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    data = _encode(password)
    kdf = Argon2id(
        salt=secrets.token_bytes(SALT_BYTES),
        length=HASH_BYTES,
        iterations=ARGON2_ITERATIONS,
        lanes=ARGON2_LANES,
        memory_cost=ARGON2_MEMORY_KIB,
    )
    return kdf.derive_phc_encoded(data)


def verify_password(password: str, phc: str | None) -> bool:
    """Whether ``password`` matches the PHC hash ``phc`` (constant time; None never matches)."""
    from cryptography.exceptions import InvalidKey
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    try:
        data = _encode(password)
    except ValueError:
        return False
    if phc is None:
        if not _DUMMY:
            _DUMMY.append(hash_password(secrets.token_urlsafe(16)))
        phc, data = _DUMMY[0], b"\x00" + data
        with contextlib.suppress(InvalidKey, ValueError):
            Argon2id.verify_phc_encoded(data, phc)
        return False
    try:
        Argon2id.verify_phc_encoded(data, phc)
    except (InvalidKey, ValueError):
        return False
    return True


def new_session_token() -> str:
    """A fresh 256-bit session token, URL-safe text."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """SHA-256 (hex) of a session token: what the store keeps instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_digest(a: str, b: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a.encode("ascii", "replace"), b.encode("ascii", "replace"))


def _encode(password: str) -> bytes:
    data = password.encode("utf-8")
    if not data:
        raise ValueError("empty password")
    if len(data) > MAX_PASSWORD_BYTES:
        raise ValueError("password longer than 1024 bytes")
    return data
