"""The functions verify adds to a SQLite connection: SQLite has no hash function.

The digest SQL of every engine is in its dialect module (:mod:`handover.db.dialects`);
on SQLite it calls ``ho_h32`` and the ``ho_sum60`` aggregate, registered here on each
connection by :func:`register_sqlite`: deterministic, computing the same MD5 prefixes as
the other engines' SQL and :mod:`handover.verify.normalize`.
"""

from __future__ import annotations

from typing import Any

from handover.verify.normalize import key_hash32, row_hash60


class _Sum60:
    """SQLite aggregate: exact sum of the 60-bit MD5 prefixes, returned as decimal text."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, text: str | None) -> None:
        if text is not None:
            self.total += row_hash60(text)

    def finalize(self) -> str:
        return str(self.total)


def _h32(text: str | None) -> int | None:
    return None if text is None else key_hash32(text)


def register_sqlite(dbapi_conn: Any, _record: Any = None) -> None:
    """Add ``ho_h32`` and ``ho_sum60`` to a sqlite3 connection (deterministic)."""
    dbapi_conn.create_function("ho_h32", 1, _h32, deterministic=True)
    dbapi_conn.create_aggregate("ho_sum60", 1, _Sum60)
