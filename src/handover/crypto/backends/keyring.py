"""The workspace keyring: KEKs in files under ``keys_dir``, sealed by a master key.

Layout (all files 0600, the folder 0700)::

    keys/master.json        protection, suite, KDF parameters, the wrapped master key
    keys/master.key         the raw master key, only with key_protection = "file"
    keys/keyring/<ref>.kek  one KEK version, sealed under the master key (AAD = its ref)

The master key is protected by a passphrase through Argon2id (RFC 9106's second
recommended setting: t=3, m=64 MiB, p=4; scrypt N=2^17 when Argon2id is missing), or,
for unattended hosts, by a 0600 file — refused outside a demo workspace unless
``key_protection = "file"`` is chosen explicitly (STYLE.md, habit 8).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.crypto import suites
from handover.crypto.errors import DecryptionFailed, KeyringRefused
from handover.crypto.files import atomic_write, locked, overwrite_file
from handover.crypto.recipes import open as open_token
from handover.crypto.recipes import seal
from handover.errors import BadInput

if TYPE_CHECKING:
    from handover.settings import Settings


MASTER_JSON = "master.json"
MASTER_KEY = "master.key"
ENTRIES = "keyring"
MASTER_AAD = b"handover-keyring-master:v1"
ARGON2 = {"iterations": 3, "memory_kib": 64 * 1024, "lanes": 4}
SCRYPT = {"n": 2**17, "r": 8, "p": 1}

# Unlocking costs a deliberate ~0.2 s of KDF; a process keeps the unlocked master key
# for the same keyring file and passphrase so a command touching many keys pays it once.
_UNLOCKED: dict[tuple[str, str], bytes] = {}


def _entry_aad(ref: str) -> bytes:
    return b"handover-kek:" + ref.encode("utf-8")


class LocalKeyring:
    """KEKs kept as files in the workspace, sealed under a protected master key."""

    name = "keyring"

    def __init__(self, keys_dir: Path, master: bytes, suite: str) -> None:
        self.keys_dir = keys_dir
        self._master = master
        self.suite = suite

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalKeyring:
        """Open the workspace keyring, creating it on first use; refuse insecure set-ups."""
        passphrase = (
            settings.keyring_passphrase.get_secret_value().encode("utf-8")
            if settings.keyring_passphrase is not None
            else None
        )
        return cls.open(
            settings.keys_dir,
            passphrase=passphrase,
            protection=settings.key_protection,
            demo=settings.demo,
            suite=settings.crypto_suite,
        )

    @classmethod
    def open(
        cls,
        keys_dir: Path,
        *,
        passphrase: bytes | None,
        protection: str | None,
        demo: bool,
        suite: str = "aes",
    ) -> LocalKeyring:
        """Open (or create) the keyring in ``keys_dir`` with the given protection."""
        meta_path = keys_dir / MASTER_JSON
        if not meta_path.exists():
            chosen = protection or ("passphrase" if passphrase else ("file" if demo else None))
            _check_protection(keys_dir, chosen, passphrase, protection, demo)
            keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            with locked(keys_dir):
                if not meta_path.exists():
                    _create(keys_dir, chosen or "file", passphrase, suite)
        meta = _read_meta(meta_path)
        kind = str(meta.get("protection"))
        if protection is not None and protection != kind:
            raise BadInput.msg(
                "crypto.keyring_protection_mismatch",
                path=meta_path,
                kind=kind,
                protection=protection,
            )
        _check_protection(keys_dir, kind, passphrase, protection, demo)
        master = _unlock(keys_dir, meta, passphrase)
        return cls(keys_dir, master, str(meta.get("suite", "aes")))

    # -- KeyBackend ----------------------------------------------------------------------

    def _entry(self, ref: str) -> Path:
        if not ref or "/" in ref or ref.startswith("."):
            raise BadInput.msg("crypto.bad_key_ref", ref=ref)
        return self.keys_dir / ENTRIES / f"{ref}.kek"

    def create_key(self, ref: str, suite: str) -> dict[str, Any]:
        """Generate a KEK for ``suite`` and store it sealed under the master key."""
        s = suites.suite(suite)
        path = self._entry(ref)
        if path.exists():
            raise BadInput.msg("crypto.key_exists", path=path, ref=ref)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        material = os.urandom(s.key_bytes)
        token = seal(suite.encode("ascii") + b":" + material, _entry_aad(ref), self._master)
        atomic_write(path, token)
        return {"backend": self.name, "algorithm": s.aead, "location": str(path)}

    def _material(self, ref: str) -> tuple[suites.Suite, bytes]:
        path = self._entry(ref)
        try:
            token = path.read_bytes()
        except FileNotFoundError:
            raise DecryptionFailed.msg(
                "crypto.decryption_failed", what=f"key {ref} (not in {path.parent})"
            ) from None
        clear = open_token(token, _entry_aad(ref), self._master, what=f"keyring entry {path}")
        name, _, material = clear.partition(b":")
        return suites.suite(name.decode("ascii")), material

    def wrap(self, ref: str, data_key: bytes, aad: bytes) -> bytes:
        """Seal ``data_key`` under KEK ``ref`` with the KEK's suite."""
        s, kek = self._material(ref)
        return seal(data_key, aad, kek, suite=s.name)

    def unwrap(self, ref: str, blob: bytes, aad: bytes) -> bytes:
        """Open a wrapped data key; any fault is the opaque DecryptionFailed."""
        _, kek = self._material(ref)
        return open_token(blob, aad, kek, what=f"data key under {ref}")

    def destroy(self, ref: str) -> None:
        """Overwrite the entry with random bytes, fsync, unlink, fsync the folder.

        On copy-on-write or flash storage old blocks may survive the overwrite (see
        docs/crypto.md); the entry is sealed under the master key, so a surviving copy is
        only readable together with it. A missing entry is already gone.
        """
        with contextlib.suppress(FileNotFoundError):
            overwrite_file(self._entry(ref))

    def list(self) -> list[str]:
        """Refs of the KEK entries present in the keyring folder."""
        folder = self.keys_dir / ENTRIES
        if not folder.is_dir():
            return []
        return sorted(p.name[: -len(".kek")] for p in folder.glob("*.kek"))

    def describe(self, ref: str) -> dict[str, Any]:
        """Where the entry lives and which suite it serves (reads no material)."""
        path = self._entry(ref)
        present = path.exists()
        info: dict[str, Any] = {"backend": self.name, "ref": ref, "present": present}
        if present:
            s, _ = self._material(ref)
            info.update(algorithm=s.aead, location=str(path), bytes=path.stat().st_size)
        return info

    def close(self) -> None:
        """Drop this object's reference to the master key."""
        self._master = b""


def _check_protection(
    keys_dir: Path,
    kind: str | None,
    passphrase: bytes | None,
    chosen: str | None,
    demo: bool,
) -> None:
    if kind is None or (kind == "file" and not demo and chosen != "file"):
        raise KeyringRefused.msg("crypto.keyring_unprotected", path=keys_dir)
    if kind == "passphrase" and not passphrase:
        raise KeyringRefused.msg("crypto.keyring_needs_passphrase", path=keys_dir)


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput.msg(
            "crypto.keyring_meta_unreadable", path=path, reason=type(exc).__name__
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != "handover-keyring":
        raise BadInput.msg("crypto.not_a_keyring", path=path)
    return meta


def _kdf(passphrase: bytes, params: dict[str, Any], length: int) -> bytes:
    salt = bytes.fromhex(params["salt"])
    if params["name"] == "argon2id":
        return suites.argon2id(
            passphrase,
            salt,
            iterations=int(params["iterations"]),
            memory_kib=int(params["memory_kib"]),
            lanes=int(params["lanes"]),
            length=length,
        )
    if params["name"] == "scrypt":
        return suites.scrypt(
            passphrase,
            salt,
            n=int(params["n"]),
            r=int(params["r"]),
            p=int(params["p"]),
            length=length,
        )
    raise BadInput.msg("crypto.unknown_kdf", name=params["name"])


def _create(keys_dir: Path, kind: str, passphrase: bytes | None, suite: str) -> None:
    s = suites.suite(suite)
    master = os.urandom(s.key_bytes)
    meta: dict[str, Any] = {
        "format": "handover-keyring",
        "version": 1,
        "protection": kind,
        "suite": s.name,
    }
    if kind == "passphrase":
        assert passphrase is not None
        params: dict[str, Any] = (
            {"name": "argon2id", **ARGON2}
            if suites.has_argon2id()
            else {"name": "scrypt", **SCRYPT}
        )
        params["salt"] = os.urandom(16).hex()
        kek = _kdf(passphrase, params, s.key_bytes)
        meta["kdf"] = params
        meta["wrapped_master"] = seal(master, MASTER_AAD, kek).hex()
    else:
        atomic_write(keys_dir / MASTER_KEY, master)
    atomic_write(keys_dir / MASTER_JSON, json.dumps(meta, indent=2).encode("utf-8"))


def _unlock(keys_dir: Path, meta: dict[str, Any], passphrase: bytes | None) -> bytes:
    meta_path = keys_dir / MASTER_JSON
    if meta["protection"] == "file":
        path = keys_dir / MASTER_KEY
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                raise KeyringRefused.msg("crypto.keyring_file_mode", path=path, mode=oct(mode))
            return path.read_bytes()
        except FileNotFoundError:
            raise BadInput.msg("crypto.master_key_missing", path=path) from None
    assert passphrase is not None
    cache_key = (
        str(meta_path.resolve()),
        hashlib.sha256(meta_path.read_bytes() + b"\0" + passphrase).hexdigest(),
    )
    if cache_key in _UNLOCKED:
        return _UNLOCKED[cache_key]
    suite = suites.suite(str(meta.get("suite", "aes")))
    kek = _kdf(passphrase, meta["kdf"], suite.key_bytes)
    try:
        master = open_token(bytes.fromhex(meta["wrapped_master"]), MASTER_AAD, kek)
    except DecryptionFailed:
        raise DecryptionFailed.msg("crypto.keyring_wrong_passphrase", path=meta_path) from None
    _UNLOCKED[cache_key] = master
    return master
