"""Shards: a table cut into key ranges that workers read on their own.

A database table is cut by its paging key (migrate's keyset order: SQLite's rowid, else
the primary key, else a NOT NULL unique key) into ranges of ``rows`` rows: shard ``i``
holds the rows after boundary key ``i - 1`` up to ``rows`` of them (the last one: to the
end). The boundaries are found by the database, one short statement each
(:meth:`handover.sources.sql.SqlSource.every`). A Parquet file is cut into runs of its
row groups; a table without such a key, and a CSV/XLSX table, is one shard.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handover.db.reflect import TableDef
    from handover.migrate.reader import MigrationSource, SourceBatch

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Shard:
    """Rows ``after`` (exclusive; None: from the start) in key order, ``limit`` of them
    (None: to the end of the table); or, in a Parquet file, the row groups ``groups``
    (first, end)."""

    table: str
    index: int
    after: Key | None = None
    limit: int | None = None
    groups: tuple[int, int] | None = None


def shard_json(sh: Shard) -> dict[str, Any]:
    """``sh`` as JSON for a run's record (its key typed, see ``encode_key``)."""
    from handover.migrate.reader import encode_key

    return {
        "after": encode_key(sh.after),
        "limit": sh.limit,
        "groups": None if sh.groups is None else list(sh.groups),
    }


def shard_of(table: str, index: int, j: dict[str, Any]) -> Shard:
    """The shard recorded as ``j`` by :func:`shard_json`."""
    from handover.migrate.reader import decode_key

    groups = j.get("groups")
    return Shard(
        table,
        index,
        decode_key(j["after"]),
        j["limit"],
        None if groups is None else (int(groups[0]), int(groups[1])),
    )


def cut(table: str, cuts: Sequence[Key], rows: int) -> list[Shard]:
    """The shards of ``table`` given its boundary keys."""
    out = []
    prev: Key | None = None
    for i, k in enumerate(cuts):
        out.append(Shard(table, i, prev, rows))
        prev = k
    out.append(Shard(table, len(cuts), prev, None))
    return out


def cut_reader(reader: MigrationSource, d: TableDef, rows: int) -> list[Shard]:
    """The shards of table ``d`` of a migration reader: key ranges of ``rows`` rows for a
    database table with a paging key, else the whole table."""
    from handover.migrate.reader import DatabaseSource
    from handover.package.files import FileReader

    if isinstance(reader, FileReader):
        return by_groups(d.name, reader.row_groups(d), rows)
    key = list(reader.resume_key(d))
    if not isinstance(reader, DatabaseSource) or not key:
        return [Shard(d.name, 0)]
    return cut(d.name, reader.reader.every(d.name, key, rows), rows)


def by_groups(table: str, sizes: list[int] | None, rows: int) -> list[Shard]:
    """The shards of a file table: runs of consecutive Parquet row groups holding at least
    ``rows`` rows each (the last: what is left); the whole table when it has no row groups."""
    if not sizes or len(sizes) < 2:
        return [Shard(table, 0)]
    out: list[Shard] = []
    start = held = 0
    for i, n in enumerate(sizes):
        held += n
        if held >= rows:
            out.append(Shard(table, len(out), groups=(start, i + 1)))
            start, held = i + 1, 0
    if start < len(sizes):
        out.append(Shard(table, len(out), groups=(start, len(sizes))))
    return out


def shard_pages(
    reader: MigrationSource, d: TableDef, shard: Shard, batch_size: int
) -> Iterator[SourceBatch]:
    """The source batches of one shard of table ``d``."""
    from handover.migrate.reader import read_range
    from handover.package.files import FileReader

    if shard.groups is not None:
        assert isinstance(reader, FileReader)
        return reader.read(d, after=None, batch_size=batch_size, groups=shard.groups)
    return read_range(reader, d, after=shard.after, limit=shard.limit, batch_size=batch_size)
