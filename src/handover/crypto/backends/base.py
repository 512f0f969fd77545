"""The one interface every key backend implements.

A backend holds key encryption keys (KEKs), one object per key *version*, named by a
``ref`` such as ``kek-c3-1a2b3c4d.v2``. It never hands KEK material out: callers give
it data keys to wrap and wrapped blobs to unwrap. Lifecycle bookkeeping (purposes,
versions, tombstones, ledger events) lives above it, in :mod:`handover.crypto.keys`.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class KeyBackend(Protocol):
    """Holds KEKs and wraps/unwraps data keys with them; material never leaves it."""

    name: str

    def create_key(self, ref: str, suite: str) -> dict[str, Any]:
        """Create a new KEK called ``ref`` for ``suite``; return non-secret facts about it."""
        ...

    def wrap(self, ref: str, data_key: bytes, aad: bytes) -> bytes:
        """Encrypt ``data_key`` under KEK ``ref``, authenticating ``aad``; return the blob."""
        ...

    def unwrap(self, ref: str, blob: bytes, aad: bytes) -> bytes:
        """Decrypt a blob from :meth:`wrap`; raise DecryptionFailed if it does not verify."""
        ...

    def destroy(self, ref: str) -> None:
        """Erase KEK ``ref`` wherever this backend kept it; afterwards it cannot be used."""
        ...

    def list(self) -> list[str]:
        """The refs of every KEK this backend still holds."""
        ...

    def describe(self, ref: str) -> dict[str, Any]:
        """Non-secret facts about KEK ``ref`` (algorithm, where it lives, attributes)."""
        ...

    def close(self) -> None:
        """Release sessions and cached secrets."""
        ...
