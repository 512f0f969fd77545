"""Errors of the crypto layer.

Every failed decryption, whatever the cause (wrong key, altered ciphertext, altered
associated data, truncated token), raises the one opaque :class:`DecryptionFailed`
so that no caller can be turned into an oracle. Messages name the object, never
key material.
"""

from __future__ import annotations

from handover.errors import BadInput, CheckFailed, Refused


class DecryptionFailed(CheckFailed):
    """Decryption or authentication failed; the cause is deliberately not said (exit 1)."""


class KeyDestroyed(Refused):
    """The key was cryptographically erased; its tombstone says when (exit 3)."""


class KeyNotFound(BadInput):
    """No key with that id exists in this workspace (exit 2)."""


class KeyringRefused(Refused):
    """The keyring configuration is insecure or incomplete for this workspace (exit 3)."""
