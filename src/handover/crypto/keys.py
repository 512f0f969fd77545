"""Key lifecycle: create, use, rotate, destroy — with tombstones, each change reported
through the event sink the key manager was given (the ledger, handed down by a flow).

The registry ``keys_dir/registry.json`` holds non-secret facts about every key: id,
purpose, tier, backend, suite, versions, and after destruction a tombstone (when, why).
Material lives only in the backend (keyring files or the HSM). Keys whose material is
used in software (the Ed25519 signing key, HMAC tokenisation keys) keep that secret
*wrapped by the key's own KEK version* in the registry, so destroying the KEK erases it
too.

Wrapped blobs name their key and version: ``b"HK" | 1 | len(id) | id | version (u32) |
backend blob``. The header is authenticated as AAD, so a blob cannot be moved to another
key or version.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import struct
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from handover.crypto import suites
from handover.crypto.backends import KeyBackend, open_backend
from handover.crypto.errors import DecryptionFailed, KeyDestroyed, KeyNotFound, KeyringRefused
from handover.crypto.files import atomic_write, locked
from handover.crypto.recipes import DataKey
from handover.errors import BadInput
from handover.events import EventSink

if TYPE_CHECKING:
    from types import TracebackType

    from handover.workspace import Workspace


REGISTRY = "registry.json"
BLOB_MAGIC = b"HK"
BLOB_VERSION = 1
TIERS = ("C1", "C2", "C3")
SIGNING = "signing"
TOKENIZE = "tokenize"
# Purposes whose key also carries a software secret, and its size in bytes.
SECRET_PURPOSES = {SIGNING: 32, TOKENIZE: 32}
_PURPOSE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class KeyVersion:
    """One version of a key: its backend object and, for software keys, the wrapped secret."""

    version: int
    ref: str
    created_at: str
    public_key: str | None = None
    wrapped_secret: str | None = field(default=None, repr=False)


@dataclass
class KeyInfo:
    """Non-secret facts about a key; after destruction, its tombstone."""

    key_id: str
    purpose: str
    tier: str | None
    backend: str
    suite: str
    algorithm: str
    created_at: str
    state: str = "active"
    destroyed_at: str | None = None
    destroy_reason: str | None = None
    versions: list[KeyVersion] = field(default_factory=list)

    @property
    def current(self) -> KeyVersion:
        """The newest version: the one new data is wrapped or signed with."""
        return self.versions[-1]

    def to_json(self) -> dict[str, Any]:
        """Machine form for ``--json`` and ledger details (no secret, wrapped or clear)."""
        return {
            "key_id": self.key_id,
            "purpose": self.purpose,
            "tier": self.tier,
            "backend": self.backend,
            "suite": self.suite,
            "algorithm": self.algorithm,
            "state": self.state,
            "created_at": self.created_at,
            "destroyed_at": self.destroyed_at,
            "destroy_reason": self.destroy_reason,
            "current_version": self.versions[-1].version if self.versions else None,
            "versions": [
                {
                    "version": v.version,
                    "created_at": v.created_at,
                    **({"public_key": v.public_key} if v.public_key else {}),
                }
                for v in self.versions
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KeyInfo:
        """Rebuild from the registry's JSON form."""
        versions = [KeyVersion(**v) for v in data.get("versions", [])]
        return cls(**{**data, "versions": versions})


def _blob_header(key_id: str, version: int) -> bytes:
    raw = key_id.encode("utf-8")
    return BLOB_MAGIC + bytes((BLOB_VERSION, len(raw))) + raw + struct.pack(">I", version)


def parse_blob(blob: bytes) -> tuple[str, int, bytes, bytes]:
    """Split a wrapped blob into (key id, version, header, backend part); BadInput if malformed."""
    if len(blob) < 8 or blob[:2] != BLOB_MAGIC or blob[2] != BLOB_VERSION:
        raise BadInput.msg("crypto.blob_invalid")
    n = blob[3]
    end = 4 + n + 4
    if len(blob) < end:
        raise BadInput.msg("crypto.blob_truncated")
    try:
        key_id = blob[4 : 4 + n].decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput.msg("crypto.blob_invalid") from None
    (version,) = struct.unpack(">I", blob[4 + n : end])
    return key_id, version, blob[:end], blob[end:]


def _report(sink: EventSink, action: str, info: KeyInfo, **extra: Any) -> None:
    # Details carry ids, backend and algorithm only — never key material.
    details = {
        "key_id": info.key_id,
        "backend": info.backend,
        "algorithm": info.algorithm,
        "tier": info.tier,
        **extra,
    }
    sink(action, info.key_id, info.purpose, details)


class Keys:
    """The key manager of one workspace. Use as a context manager to release the backend."""

    def __init__(
        self,
        ws: Workspace,
        *,
        events: EventSink | None = None,
        clock: Clock = _utcnow,
        backend: KeyBackend | None = None,
    ) -> None:
        """``events`` records every key change; without one the manager is read-only (a
        change raises before touching the backend)."""
        self.ws = ws
        self.events = events
        self.settings = ws.settings
        self.dir = ws.settings.keys_dir
        self.clock = clock
        self._backend = backend

    def __enter__(self) -> Keys:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the backend (HSM session, cached master key reference)."""
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    @property
    def backend(self) -> KeyBackend:
        """The configured backend, opened on first use (may ask for the passphrase/PIN)."""
        if self._backend is None:
            self._backend = open_backend(self.settings)
        return self._backend

    # -- registry ------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        path = self.dir / REGISTRY
        if not path.exists():
            return {"format": "handover-keys", "version": 1, "signing_key": None, "keys": {}}
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BadInput.msg(
                "crypto.registry_unreadable", path=path, reason=type(exc).__name__
            ) from None
        return data

    def _save(self, registry: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = json.dumps(registry, ensure_ascii=False, indent=2).encode("utf-8")
        atomic_write(self.dir / REGISTRY, data)

    def list(self) -> list[KeyInfo]:
        """Every key of the workspace, destroyed ones (tombstones) included, oldest first."""
        keys = [KeyInfo.from_dict(d) for d in self._load()["keys"].values()]
        return sorted(keys, key=lambda k: (k.created_at, k.key_id))

    def get(self, key_id: str) -> KeyInfo:
        """The key ``key_id`` (active or tombstone); KeyNotFound if there is none."""
        data = self._load()["keys"].get(key_id)
        if data is None:
            raise KeyNotFound.msg("crypto.key_not_found", key_id=key_id, path=self.ws.path)
        return KeyInfo.from_dict(data)

    def active(self, key_id: str) -> KeyInfo:
        """The key ``key_id`` if it may be used; KeyDestroyed names when it was erased."""
        info = self.get(key_id)
        if info.state == "destroyed":
            raise KeyDestroyed.msg("crypto.key_destroyed", key_id=key_id, when=info.destroyed_at)
        return info

    def describe(self, key_id: str) -> dict[str, Any]:
        """The key's facts plus what the backend says about each version still held."""
        info = self.get(key_id)
        out = info.to_json()
        if info.state == "active":
            out["backend_objects"] = [self.backend.describe(v.ref) for v in info.versions]
        return out

    # -- lifecycle -----------------------------------------------------------------------

    def create(self, purpose: str, tier: str | None = None) -> KeyInfo:
        """Create a key for ``purpose`` (and JR/T 0171 ``tier``) in the configured backend.

        Not authorised here: a step of an authorised flow (seal, dd-extract, init, a
        person's own ``handover keys create`` in :mod:`handover.flows.keys`).
        """
        tier = check_key_args(purpose, tier)
        sink = self._sink()
        suite = suites.suite(self.settings.crypto_suite)
        with locked(self.dir):
            registry = self._load()
            key_id = _new_id(purpose, tier, registry["keys"])
            info = KeyInfo(
                key_id=key_id,
                purpose=purpose,
                tier=tier,
                backend=self.settings.key_backend,
                suite=suite.name,
                algorithm=suite.aead,
                created_at=self.clock().isoformat(),
            )
            self._add_version(info)
            registry["keys"][key_id] = asdict(info)
            if purpose == SIGNING and not registry.get("signing_key"):
                registry["signing_key"] = key_id
            self._commit(registry, info, "key.create", sink, created=info.current)
        return info

    def rotate(self, key_id: str) -> KeyInfo:
        """Add a new version; new data uses it, older versions still open old data."""
        sink = self._sink()
        with locked(self.dir):
            registry = self._load()
            info = self.active(key_id)
            self._add_version(info)
            registry["keys"][key_id] = asdict(info)
            self._commit(registry, info, "key.rotate", sink, created=info.current)
        return info

    def destroy(self, key_id: str, reason: str) -> KeyInfo:
        """Cryptographic erase: destroy every version's material in the backend, keep a tombstone."""
        if not reason.strip():
            raise BadInput.msg("crypto.destroy_needs_reason")
        sink = self._sink()
        with locked(self.dir):
            registry = self._load()
            info = self.active(key_id)
            for v in info.versions:
                self.backend.destroy(v.ref)
                v.wrapped_secret = None
            info.state = "destroyed"
            info.destroyed_at = self.clock().isoformat()
            info.destroy_reason = reason.strip()
            registry["keys"][key_id] = asdict(info)
            self._save(registry)
            _report(sink, "key.destroy", info, reason=info.destroy_reason)
        return info

    def _sink(self) -> EventSink:
        if self.events is None:  # a programming error: every flow that changes keys passes one
            raise RuntimeError("this key manager was opened read-only (no event sink)")
        return self.events

    def _add_version(self, info: KeyInfo) -> None:
        version = (info.versions[-1].version + 1) if info.versions else 1
        ref = f"{info.key_id}.v{version}"
        self.backend.create_key(ref, info.suite)
        kv = KeyVersion(version=version, ref=ref, created_at=self.clock().isoformat())
        info.versions.append(kv)
        size = SECRET_PURPOSES.get(info.purpose)
        if size is not None:
            try:
                secret = os.urandom(size)
                if info.purpose == SIGNING:
                    kv.public_key = suites.ed25519_public(secret).hex()
                kv.wrapped_secret = self._wrap_version(info, kv, secret, b"secret").hex()
            except BaseException:
                self.backend.destroy(ref)
                raise

    def _commit(
        self,
        registry: dict[str, Any],
        info: KeyInfo,
        action: str,
        sink: EventSink,
        *,
        created: KeyVersion,
    ) -> None:
        # The backend object exists; if the registry or the ledger cannot record it,
        # erase it again so no unrecorded key material is left behind.
        try:
            self._save(registry)
            _report(sink, action, info, version=created.version)
        except BaseException:
            self.backend.destroy(created.ref)
            if action == "key.create":
                registry["keys"].pop(info.key_id, None)
                if registry.get("signing_key") == info.key_id:
                    registry["signing_key"] = None
            else:
                info.versions.pop()
                registry["keys"][info.key_id] = asdict(info)
            self._save(registry)
            raise

    # -- use -----------------------------------------------------------------------------

    def _wrap_version(self, info: KeyInfo, kv: KeyVersion, secret: bytes, context: bytes) -> bytes:
        header = _blob_header(info.key_id, kv.version)
        return header + self.backend.wrap(kv.ref, secret, header + context)

    def wrap(self, key_id: str, secret: bytes, context: bytes = b"") -> bytes:
        """Wrap ``secret`` (a data key) under the current version of ``key_id``, bound to ``context``."""
        info = self.active(key_id)
        return self._wrap_version(info, info.current, secret, context)

    def unwrap(self, blob: bytes, context: bytes = b"", *, key_id: str | None = None) -> DataKey:
        """Unwrap a blob from :meth:`wrap`; the opaque DecryptionFailed on any fault.

        ``key_id``, when given, must be the key the blob names.
        """
        try:
            named, version, header, body = parse_blob(blob)
        except BadInput:
            raise DecryptionFailed.msg(
                "crypto.decryption_failed", what="wrapped data key"
            ) from None
        if key_id is not None and named != key_id:
            raise DecryptionFailed.msg("crypto.decryption_failed", what=f"data key for {key_id}")
        try:
            info = self.active(named)
        except KeyNotFound:
            # Not holding the key is one more way decryption fails: keep it opaque.
            raise DecryptionFailed.msg(
                "crypto.decryption_failed", what=f"data key under {named}"
            ) from None
        kv = next((v for v in info.versions if v.version == version), None)
        if kv is None:
            raise DecryptionFailed.msg(
                "crypto.decryption_failed", what=f"data key under {named} v{version}"
            )
        material = self.backend.unwrap(kv.ref, body, header + context)
        return DataKey(named, version, info.suite, material, blob)

    def new_data_key(self, key_id: str, context: bytes = b"") -> DataKey:
        """A fresh random data key for the key's suite, wrapped under its current version."""
        info = self.active(key_id)
        material = os.urandom(suites.suite(info.suite).key_bytes)
        wrapped = self._wrap_version(info, info.current, material, context)
        return DataKey(key_id, info.current.version, info.suite, material, wrapped)

    def rewrap(self, blob: bytes, context: bytes = b"") -> bytes:
        """Re-wrap an old blob under the key's current version (after a rotation)."""
        dk = self.unwrap(blob, context)
        return self.wrap(dk.key_id, dk.material, context)

    def secret(self, key_id: str, version: int | None = None) -> tuple[KeyVersion, bytes]:
        """The software secret of a signing/tokenize key version (current by default)."""
        info = self.active(key_id)
        kv = (
            info.current
            if version is None
            else next((v for v in info.versions if v.version == version), None)
        )
        if kv is None or kv.wrapped_secret is None:
            raise BadInput.msg("crypto.no_secret", key_id=key_id, version=version)
        return kv, self.unwrap(bytes.fromhex(kv.wrapped_secret), b"secret", key_id=key_id).material

    def signing_key_id(self) -> str | None:
        """The workspace signing key's id, if it was created."""
        value = self._load().get("signing_key")
        return str(value) if value else None

    def ensure_signing_key(self) -> KeyInfo:
        """The workspace signing key, created (with its event) if it does not exist."""
        key_id = self.signing_key_id()
        if key_id is not None:
            return self.get(key_id)
        if self.events is None:
            raise KeyringRefused.msg("crypto.no_signing_key", path=self.ws.path)
        return self.create(SIGNING)

    def newest_or_create(self, purpose: str) -> str:
        """The id of the newest active key of ``purpose``, else of one created now (with
        its event). Under the key store's lock: two runs starting at once (the console's
        jobs) share one key instead of making one each."""
        with locked(self.dir):
            active = [k for k in self.list() if k.purpose == purpose and k.state == "active"]
            return active[-1].key_id if active else self.create(purpose).key_id


def check_key_args(purpose: str, tier: str | None) -> str | None:
    """Validate a key's purpose and tier (BadInput); the tier upper-cased."""
    if not _PURPOSE.match(purpose):
        raise BadInput.msg("crypto.bad_purpose", purpose=purpose)
    if tier is not None:
        tier = tier.upper()
        if tier not in TIERS:
            raise BadInput.msg("crypto.bad_tier", tier=tier)
    return tier


def _new_id(purpose: str, tier: str | None, existing: dict[str, Any]) -> str:
    prefix = purpose.replace("_", "-") + (f"-{tier.lower()}" if tier else "")
    while True:
        key_id = f"{prefix}-{secrets.token_hex(4)}"
        if key_id not in existing:
            return key_id
