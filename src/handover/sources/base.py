"""What every source promises: its tables, their schema, and a stream of Arrow batches."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from handover.i18n import Msg

DEFAULT_BATCH = 65_536


@dataclass(frozen=True)
class ColumnInfo:
    """One column: its name, its type as the source declares it, and its Arrow type."""

    name: str
    db_type: str
    arrow_type: pa.DataType
    nullable: bool = True


@dataclass
class TableInfo:
    """One table of a source. ``rows`` is exact for databases and Parquet, counted for files."""

    name: str
    columns: list[ColumnInfo]
    primary_key: list[str] = field(default_factory=list)
    rows: int = 0
    #: problems met reading it, as catalogue messages (plain text from older versions)
    notes: list[Msg | str] = field(default_factory=list)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnInfo:
        """The column called ``name`` (KeyError if none)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema every batch of this table has."""
        return pa.schema([pa.field(c.name, c.arrow_type, c.nullable) for c in self.columns])


class Source(abc.ABC):
    """A readable source of tables. Use as a context manager or call :meth:`close`."""

    #: the source spec with any password masked (safe for logs, reports, the ledger)
    display: str = ""
    #: "sqlite", "postgresql", "mysql", "csv", "xlsx", "parquet"
    kind: str = ""
    #: unreadable rows (ragged, truncated, an unclosed quote) a file table may lose
    #: before reading it fails; each one lost is listed by :meth:`skipped`
    allow_bad_rows: int = 0

    @abc.abstractmethod
    def tables(self) -> list[TableInfo]:
        """Every table with its columns, primary key and row count."""

    def table_names(self) -> list[str]:
        """The names of every table (sources that can list them without describing each
        one say so more cheaply than :meth:`tables`)."""
        return [t.name for t in self.tables()]

    def table(self, name: str) -> TableInfo:
        """The table called ``name``; :class:`BadInput` naming it if there is none."""
        from handover.errors import BadInput

        for info in self.tables():
            if info.name == name:
                return info
        raise BadInput.msg("sources.no_table", source=self.display, table=name)

    def primary_key(self, name: str) -> list[str]:
        """The primary key's columns of the table ``name`` (as :meth:`table` gives them;
        sources that read a key without describing the table say so more cheaply)."""
        return self.table(name).primary_key

    @abc.abstractmethod
    def batches(
        self, table: str, columns: list[str] | None = None, batch_size: int = DEFAULT_BATCH
    ) -> Iterator[pa.RecordBatch]:
        """Stream every row of ``table`` (only ``columns`` if given) as RecordBatches."""

    def row_groups(self, table: str) -> list[int] | None:
        """Rows of each row group of ``table`` when it is stored in row groups a reader
        can take on its own (Parquet); None otherwise."""
        return None

    def group_batches(
        self,
        table: str,
        groups: tuple[int, int],
        columns: list[str] | None = None,
        batch_size: int = DEFAULT_BATCH,
    ) -> Iterator[pa.RecordBatch]:
        """The rows of row groups ``groups[0]`` up to (not including) ``groups[1]``."""
        from handover.errors import BadInput

        raise BadInput.msg("sources.no_row_groups", kind=self.kind, table=table)

    def skipped(self) -> dict[str, list[int]]:
        """The rows (line numbers) each table lost as allowed by :attr:`allow_bad_rows`;
        empty for sources that cannot lose a row (databases, Parquet)."""
        return {}

    def sample(self, table: str, n: int, seed: int, columns: list[str] | None = None) -> pa.Table:
        """About ``n`` rows of ``table`` chosen pseudo-randomly from ``seed`` (all if fewer).

        The default reads the table once and keeps a seeded uniform choice of rows;
        database sources override it to filter on the server.
        """
        info = self.table(table)
        chosen = _chosen_rows(info.rows, n, seed)
        parts: list[pa.RecordBatch] = []
        start = 0
        for batch in self.batches(table, columns):
            stop = start + batch.num_rows
            if chosen is None:
                parts.append(batch)
            else:
                lo, hi = np.searchsorted(chosen, [start, stop])
                if hi > lo:
                    parts.append(batch.take(pa.array(chosen[lo:hi] - start)))
            start = stop
        schema = _projected(info.schema, columns)
        return pa.Table.from_batches(parts, schema=schema) if parts else schema.empty_table()

    def close(self) -> None:  # noqa: B027 - most sources hold nothing to release
        """Release connections and file handles."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _chosen_rows(total: int, n: int, seed: int) -> np.ndarray[Any, np.dtype[np.int64]] | None:
    if total <= n:
        return None
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(total, size=n, replace=False)).astype(np.int64)


def _projected(schema: pa.Schema, columns: list[str] | None) -> pa.Schema:
    if columns is None:
        return schema
    return pa.schema([schema.field(c) for c in columns])
