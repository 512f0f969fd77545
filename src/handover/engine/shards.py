"""Shards: a table cut into key ranges that workers read on their own.

A database table is cut by its paging key (migrate's keyset order: SQLite's rowid, else
the primary key, else a NOT NULL unique key) into ranges of ``rows`` rows: shard ``i``
holds the rows after boundary key ``i - 1`` up to ``rows`` of them (the last one: to the
end). The boundaries are read once, key columns only. A table without such a key, and a
file table, is one shard.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handover.db.reflect import TableDef
    from handover.migrate.reader import MigrationSource

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Shard:
    """Rows ``after`` (exclusive; None: from the start) in key order, ``limit`` of them
    (None: to the end of the table)."""

    table: str
    index: int
    after: Key | None = None
    limit: int | None = None


def boundaries(key_pages: Iterator[list[tuple[Any, ...]]], rows: int) -> list[Key]:
    """The key of every ``rows``-th row, read from pages of key tuples in key order."""
    out: list[Key] = []
    seen = 0
    for page in key_pages:
        n = len(page)
        # positions (1-based, in the whole table) of this page that end a shard
        first = (seen // rows + 1) * rows
        for pos in range(first, seen + n + 1, rows):
            out.append(tuple(page[pos - seen - 1]))
        seen += n
    if out and seen % rows == 0:
        out.pop()  # the last shard would be empty
    return out


def cut(table: str, cuts: Sequence[Key], rows: int) -> list[Shard]:
    """The shards of ``table`` given its boundary keys."""
    out = []
    prev: Key | None = None
    for i, k in enumerate(cuts):
        out.append(Shard(table, i, prev, rows))
        prev = k
    out.append(Shard(table, len(cuts), prev, None))
    return out


#: rows of key columns read per statement while cutting a table into shards
KEY_PAGE = 65_536


def cut_reader(reader: MigrationSource, d: TableDef, rows: int) -> list[Shard]:
    """The shards of table ``d`` of a migration reader: key ranges of ``rows`` rows for a
    database table with a paging key, else the whole table."""
    from handover.migrate.reader import DatabaseSource

    key = list(reader.resume_key(d))
    if not isinstance(reader, DatabaseSource) or not key:
        return [Shard(d.name, 0)]
    pages = reader.reader.rows(d.name, [], order_by=key, batch_size=min(rows, KEY_PAGE))
    return cut(d.name, boundaries(pages, rows), rows)
