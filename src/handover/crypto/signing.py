"""Ed25519 signatures with the workspace signing key (RFC 8032).

The signing key is a key of purpose ``signing``: its 32-byte private seed is wrapped by
the key's own KEK version in the configured backend, so it is protected (and erased)
like every other key. Rotation makes a new key pair; earlier public keys stay listed so
old signatures still verify.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from handover.crypto import suites
from handover.crypto.errors import KeyringRefused
from handover.crypto.keys import Keys

if TYPE_CHECKING:
    from handover.workspace import Workspace


@dataclass(frozen=True)
class PublicKey:
    """One version of the workspace signing key's public half."""

    key_id: str
    version: int
    raw: bytes

    @property
    def pem(self) -> str:
        """SubjectPublicKeyInfo PEM, for openssl and other verifiers."""
        return suites.ed25519_public_pem(self.raw)


def init_keys(ws: Workspace, *, actor: str | None = None) -> PublicKey | None:
    """Create the workspace signing key at ``init`` when the key backend is usable.

    A non-demo workspace without a keyring passphrase (or HSM settings) cannot hold keys
    yet; then nothing is created and the first key operation refuses with the reason.
    """
    with Keys(ws) as keys:
        try:
            keys.ensure_signing_key(actor=actor)
        except KeyringRefused:
            return None
        return _current_public(keys)


def _current_public(keys: Keys) -> PublicKey:
    info = keys.active(keys.ensure_signing_key().key_id)
    kv = info.current
    assert kv.public_key is not None
    return PublicKey(info.key_id, kv.version, bytes.fromhex(kv.public_key))


def sign(ws: Workspace, data: bytes) -> bytes:
    """The 64-byte Ed25519 signature of ``data`` by the workspace's current signing key."""
    with Keys(ws) as keys:
        info = keys.ensure_signing_key()
        _, seed = keys.secret(info.key_id)
        return suites.ed25519_sign(seed, data)


def verify(public_key: bytes, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is a valid Ed25519 signature of ``data`` by ``public_key`` (raw 32 bytes)."""
    return suites.ed25519_verify(public_key, data, signature)


def public_key(ws: Workspace) -> PublicKey:
    """The current public key of the workspace signing key (created if missing)."""
    with Keys(ws) as keys:
        return _current_public(keys)


def public_keys(ws: Workspace) -> list[PublicKey]:
    """Every version's public key, oldest first, so signatures made before a rotation verify."""
    with Keys(ws) as keys:
        key_id = keys.signing_key_id()
        if key_id is None:
            return []
        info = keys.get(key_id)
        return [
            PublicKey(key_id, v.version, bytes.fromhex(v.public_key))
            for v in info.versions
            if v.public_key
        ]
