"""Key backends: the workspace keyring (default) and PKCS#11 HSMs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handover.crypto.backends.base import KeyBackend

if TYPE_CHECKING:
    from handover.settings import Settings


def open_backend(settings: Settings) -> KeyBackend:
    """The backend ``settings.key_backend`` names, opened (and unlocked) for use."""
    if settings.key_backend == "pkcs11":
        from handover.crypto.backends.pkcs11 import Pkcs11Backend

        return Pkcs11Backend.from_settings(settings)
    from handover.crypto.backends.keyring import LocalKeyring

    return LocalKeyring.from_settings(settings)


__all__ = ["KeyBackend", "open_backend"]
