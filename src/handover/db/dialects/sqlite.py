"""SQLite: what handover does differently on SQLite files."""

from __future__ import annotations

from typing import ClassVar

from handover.db.dialects.base import Dialect


class SQLite(Dialect):
    """SQLite through the standard ``sqlite3`` module."""

    name: ClassVar[str] = "sqlite"
    backends: ClassVar[tuple[str, ...]] = ("sqlite",)
    placeholder: ClassVar[str] = "?"


DIALECT = SQLite()
