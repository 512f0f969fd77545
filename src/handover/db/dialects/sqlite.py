"""SQLite: what handover does differently on SQLite files."""

from __future__ import annotations

from typing import ClassVar

from handover.db.dialects.base import Dialect


class SQLite(Dialect):
    """SQLite through the standard ``sqlite3`` module."""

    name: ClassVar[str] = "sqlite"
    backends: ClassVar[tuple[str, ...]] = ("sqlite",)
    placeholder: ClassVar[str] = "?"
    sessions: ClassVar[dict[str, tuple[str, ...]]] = {
        # the platform store: concurrent readers, waits instead of "database is locked",
        # enforced foreign keys, and a commit that survives a power cut
        "store": (
            "PRAGMA journal_mode=WAL",
            "PRAGMA busy_timeout=30000",
            "PRAGMA foreign_keys=ON",
            "PRAGMA synchronous=FULL",
        ),
    }


DIALECT = SQLite()
