"""The event sink kernels emit through: the ledger implements it, flows hand it down.

A kernel that changes durable state (a key created or destroyed, a store overwritten)
reports each change through an :class:`EventSink` it was given, so it never imports the
ledger or knows who is acting; :class:`handover.ledger.Recorder` is the implementation.
"""

from __future__ import annotations

from typing import Any, Protocol


class EventSink(Protocol):
    """Records one event (``action`` like ``key.create``) about ``subject`` for ``purpose``."""

    def __call__(
        self, action: str, subject: str, purpose: str, details: dict[str, Any] | None = None
    ) -> object: ...
