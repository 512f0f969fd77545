"""PKCS#11 HSM backend (python-pkcs11): KEKs are non-extractable AES-256 keys in a token.

Wrapping is ``C_Encrypt`` with ``CKM_AES_GCM`` inside the token (96-bit nonce from the
token's RNG, the caller's AAD, 128-bit tag); the KEK never leaves the HSM
(``CKA_SENSITIVE`` true, ``CKA_EXTRACTABLE`` false). Destroying a key is
``C_DestroyObject`` on every object carrying its label, checked afterwards.

Tested against SoftHSM2; a hardware 密码机 works the same through its vendor's
PKCS#11 library (docs/crypto.md).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11.exceptions import (
    NoSuchKey,
    NoSuchToken,
    PinIncorrect,
    PinLenRange,
    PKCS11Error,
)
from pkcs11.mechanisms import GCMParams

from handover.crypto.errors import DecryptionFailed
from handover.errors import BadInput

if TYPE_CHECKING:
    from handover.settings import Settings


NONCE_BITS = 96
ALGORITHM = "AES-256-GCM (in HSM)"


class Pkcs11Backend:
    """KEKs held in a PKCS#11 token; wrap/unwrap run inside the token."""

    name = "pkcs11"

    def __init__(
        self,
        module: Path,
        pin: str,
        *,
        token_label: str | None = None,
        slot: int | None = None,
    ) -> None:
        if token_label is None and slot is None:
            raise BadInput.msg("crypto.pkcs11_no_token")
        self.module = module
        self.token_label = token_label
        self.slot = slot
        self._pin = pin
        self._session: Any = None
        # A PKCS#11 session runs one operation at a time (C_DecryptInit … C_Decrypt keep
        # state in it): pyarrow asks for column keys from several threads at once, which
        # crashed SoftHSM (a segfault in C_Decrypt, seen once in make test)
        self._lock = threading.RLock()
        self._where = f"pkcs11 token {token_label!r}" if token_label else f"pkcs11 slot {slot}"

    @classmethod
    def from_settings(cls, settings: Settings) -> Pkcs11Backend:
        """Build the backend from the ``pkcs11_*`` settings (module, token or slot, PIN)."""
        if settings.pkcs11_module is None:
            raise BadInput.msg("crypto.pkcs11_needs_module")
        if settings.pkcs11_pin is None:
            raise BadInput.msg("crypto.pkcs11_needs_pin")
        return cls(
            settings.pkcs11_module,
            settings.pkcs11_pin.get_secret_value(),
            token_label=settings.pkcs11_token_label,
            slot=settings.pkcs11_slot,
        )

    # -- session -------------------------------------------------------------------------

    def _find_token(self, lib: Any) -> Any:
        if self.token_label is not None:
            return lib.get_token(token_label=self.token_label)
        for slot in lib.get_slots(token_present=True):
            if slot.slot_id == self.slot:
                return slot.get_token()
        raise NoSuchToken()

    def session(self) -> Any:
        """The open, logged-in read/write session (opened on first use)."""
        with self._lock:
            return self._open_session()

    def _open_session(self) -> Any:
        if self._session is not None:
            return self._session
        if not self.module.is_file():
            raise BadInput.msg("crypto.pkcs11_module_missing", module=self.module)
        try:
            lib = pkcs11.lib(str(self.module))
        except (OSError, RuntimeError) as exc:
            raise BadInput.msg(
                "crypto.pkcs11_module_load", module=self.module, reason=type(exc).__name__
            ) from None
        try:
            token = self._find_token(lib)
        except NoSuchToken:
            # Slot lists are read at C_Initialize; a token initialised since then (a newly
            # provisioned HSM partition) only appears after re-initialising the library.
            lib.reinitialize()
            try:
                token = self._find_token(lib)
            except NoSuchToken:
                raise BadInput.msg(
                    "crypto.pkcs11_token_missing", where=self._where, module=self.module
                ) from None
        try:
            self._session = token.open(rw=True, user_pin=self._pin)
        except (PinIncorrect, PinLenRange):
            raise BadInput.msg("crypto.pkcs11_pin_incorrect", where=self._where) from None
        except PKCS11Error as exc:
            raise BadInput.msg(
                "crypto.pkcs11_login", where=self._where, reason=type(exc).__name__
            ) from None
        return self._session

    def close(self) -> None:
        """Log out and close the session."""
        if self._session is not None:
            try:
                self._session.close()
            finally:
                self._session = None

    def _key(self, ref: str) -> Any:
        try:
            return self.session().get_key(object_class=ObjectClass.SECRET_KEY, label=ref)
        except NoSuchKey:
            raise DecryptionFailed.msg(
                "crypto.decryption_failed", what=f"key {ref} (not in {self._where})"
            ) from None

    # -- KeyBackend ----------------------------------------------------------------------

    def create_key(self, ref: str, suite: str) -> dict[str, Any]:
        """Generate a non-extractable AES-256 KEK in the token, labelled ``ref``."""
        session = self.session()
        if list(session.get_objects({Attribute.LABEL: ref})):
            raise BadInput.msg("crypto.pkcs11_label_exists", where=self._where, ref=ref)
        session.generate_key(
            KeyType.AES,
            256,
            label=ref,
            id=ref.encode("utf-8"),
            store=True,
            capabilities=MechanismFlag.ENCRYPT | MechanismFlag.DECRYPT,
            template={
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.WRAP: False,
                Attribute.UNWRAP: False,
            },
        )
        return self.describe(ref)

    def wrap(self, ref: str, data_key: bytes, aad: bytes) -> bytes:
        """AES-GCM-encrypt ``data_key`` inside the token: ``nonce (12) | ciphertext | tag``."""
        with self._lock:
            key = self._key(ref)
            nonce = self.session().generate_random(NONCE_BITS)
            ct = key.encrypt(
                data_key, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, aad, 128)
            )
        return bytes(nonce) + bytes(ct)

    def unwrap(self, ref: str, blob: bytes, aad: bytes) -> bytes:
        """Decrypt a wrapped data key inside the token; any fault is DecryptionFailed."""
        nonce, ct = blob[: NONCE_BITS // 8], blob[NONCE_BITS // 8 :]
        try:
            with self._lock:
                key = self._key(ref)
                clear = key.decrypt(
                    ct, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, aad, 128)
                )
        except PKCS11Error:
            raise DecryptionFailed.msg(
                "crypto.decryption_failed", what=f"data key under {ref}"
            ) from None
        return bytes(clear)

    def destroy(self, ref: str) -> None:
        """C_DestroyObject every object labelled ``ref``; verify none is left."""
        session = self.session()
        for obj in list(session.get_objects({Attribute.LABEL: ref})):
            obj.destroy()
        if list(session.get_objects({Attribute.LABEL: ref})):
            raise BadInput.msg("crypto.pkcs11_not_destroyed", where=self._where, ref=ref)

    def list(self) -> list[str]:
        """Labels of the secret keys in the token."""
        objs = self.session().get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})
        return sorted(str(o[Attribute.LABEL]) for o in objs)

    def describe(self, ref: str) -> dict[str, Any]:
        """Token, label and the key's protection attributes (never its value)."""
        info: dict[str, Any] = {"backend": self.name, "ref": ref, "location": self._where}
        try:
            key = self.session().get_key(object_class=ObjectClass.SECRET_KEY, label=ref)
        except NoSuchKey:
            info["present"] = False
            return info
        info.update(
            present=True,
            algorithm=ALGORITHM,
            key_bits=int(key.key_length),
            sensitive=bool(key[Attribute.SENSITIVE]),
            extractable=bool(key[Attribute.EXTRACTABLE]),
            never_extractable=bool(key[Attribute.NEVER_EXTRACTABLE]),
            generated_in_token=bool(key[Attribute.LOCAL]),
        )
        return info
