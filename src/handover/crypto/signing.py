"""Ed25519 signatures with the workspace signing key (RFC 8032).

The signing key is a key of purpose ``signing``: its 32-byte private seed is wrapped by
the key's own KEK version in the configured backend, so it is protected (and erased)
like every other key. Rotation makes a new key pair; earlier public keys stay listed so
old signatures still verify.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handover.crypto import suites
from handover.crypto.errors import KeyringRefused
from handover.crypto.keys import Keys

if TYPE_CHECKING:
    from handover.events import EventSink
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


def init_keys(ws: Workspace, events: EventSink) -> PublicKey | None:
    """Create the workspace signing key at ``init`` when the key backend is usable.

    A non-demo workspace without a keyring passphrase (or HSM settings) cannot hold keys
    yet; then nothing is created and the first key operation refuses with the reason.
    """
    with Keys(ws, events=events) as keys:
        try:
            keys.ensure_signing_key()
        except KeyringRefused:
            return None
        return _current_public(keys)


def _current_public(keys: Keys) -> PublicKey:
    info = keys.active(keys.ensure_signing_key().key_id)
    kv = info.current
    assert kv.public_key is not None
    return PublicKey(info.key_id, kv.version, bytes.fromhex(kv.public_key))


@dataclass(frozen=True)
class Signature:
    """A detached Ed25519 signature and the signing-key version that made it."""

    key_id: str
    version: int
    public_key: bytes
    value: bytes

    def to_json(self) -> dict[str, Any]:
        """The detached-signature record (``*.sig`` files): algorithm, key, base64 signature."""
        return {
            "algorithm": "Ed25519",
            "key_id": self.key_id,
            "key_version": self.version,
            "public_key": self.public_key.hex(),
            "signature": base64.b64encode(self.value).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: Any) -> Signature:
        """Parse a record written by :meth:`to_json`; ValueError if it is malformed.

        It says nothing about validity: check the signer's key is trusted, then
        :func:`verify` the signed bytes.
        """
        try:
            return cls(
                str(data.get("key_id", "")),
                int(data.get("key_version", 0)),
                bytes.fromhex(data["public_key"]),
                base64.b64decode(data["signature"], validate=True),
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            raise ValueError("malformed detached signature record") from None


def signature(ws: Workspace, data: bytes, *, events: EventSink | None = None) -> Signature:
    """Sign ``data`` with the workspace's current signing key (created on first use, the
    creation reported to ``events``); the result names the exact key version that signed."""
    with Keys(ws, events=events) as keys:
        info = keys.ensure_signing_key()
        kv, seed = keys.secret(info.key_id)
        assert kv.public_key is not None
        return Signature(
            info.key_id, kv.version, bytes.fromhex(kv.public_key), suites.ed25519_sign(seed, data)
        )


def sign(ws: Workspace, data: bytes, *, events: EventSink | None = None) -> bytes:
    """The 64-byte Ed25519 signature of ``data`` by the workspace's current signing key."""
    return signature(ws, data, events=events).value


def sign_raw(private_key: bytes, data: bytes) -> bytes:
    """Ed25519 signature of ``data`` by a raw 32-byte private key (RFC 8032 seed).

    For keys that are not the workspace's, e.g. the fixed keys of known-answer vectors.
    """
    return suites.ed25519_sign(private_key, data)


def raw_public_key(private_key: bytes) -> bytes:
    """The raw 32-byte Ed25519 public key of a raw 32-byte private key."""
    return suites.ed25519_public(private_key)


def public_key_from_pem(pem: str | bytes) -> bytes:
    """The raw 32 bytes of an Ed25519 public key given as PEM; ValueError for anything else."""
    return suites.ed25519_public_from_pem(pem)


def verify(public_key: bytes, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is a valid Ed25519 signature of ``data`` by ``public_key`` (raw 32 bytes)."""
    return suites.ed25519_verify(public_key, data, signature)


def public_key(ws: Workspace, *, events: EventSink | None = None) -> PublicKey:
    """The current public key of the workspace signing key (created if missing, reported
    to ``events``)."""
    with Keys(ws, events=events) as keys:
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
