"""Sources: one interface over databases and files, streaming Arrow RecordBatches.

``open_source(spec)`` accepts a SQLAlchemy URL (SQLite, PostgreSQL, MySQL/MariaDB), a
path to a SQLite file, a CSV/XLSX/Parquet file, or a folder of them. Every stage that
reads customer data (scan, seal, migrate, verify) goes through it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.db.url import backend, is_url, mask, sqlite_path
from handover.errors import BadInput

if TYPE_CHECKING:
    from handover.db.connect import Wording
    from handover.sources.base import DEFAULT_BATCH, ColumnInfo, Source, TableInfo

#: names that load pyarrow and numpy on first use, so that importing the package stays light
_ARROW_NAMES = frozenset({"DEFAULT_BATCH", "ColumnInfo", "Source", "TableInfo"})


def __getattr__(name: str) -> Any:
    if name in _ARROW_NAMES:
        from handover.sources import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".db3")


def open_source(
    spec: str | Path,
    *,
    wording: Wording | None = None,
    allow_bad_rows: int = 0,
    header: bool = True,
) -> Source:
    """Open the source named by ``spec``; :class:`BadInput` (one line) if it cannot be read
    (``wording``: how a database server that does not answer is told).

    ``allow_bad_rows``: how many unreadable rows (ragged, truncated, an unclosed quote)
    a CSV/XLSX table may lose, each reported with its row number; with more, reading
    the table fails (:class:`BadInput`) before any row is delivered.

    ``header``: the first row of a CSV file is its header; False says the CSV files have
    no header row (columns column_1 …). It is never guessed.
    """
    if allow_bad_rows < 0:
        raise BadInput.msg("sources.bad_allowance", n=allow_bad_rows)
    s = str(spec)
    if is_url(s):
        if backend(s) == "sqlite":
            path = sqlite_path(s)
            if path is None:
                raise BadInput.msg("sources.memory_sqlite", spec=mask(s))
            from handover.sources.sqlite import SqliteSource

            return SqliteSource(path, display=mask(s))
        from handover.sources.server import SqlAlchemySource

        return SqlAlchemySource(s, wording)
    path = Path(s)
    if not path.exists():
        raise BadInput.msg("sources.no_path", path=path)
    if path.is_dir():
        from handover.sources.files import FolderSource

        return FolderSource(path, allow_bad_rows=allow_bad_rows, header=header)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        from handover.sources.files import CsvSource

        return CsvSource(path, allow_bad_rows=allow_bad_rows, header=header)
    if suffix in (".xlsx", ".xlsm"):
        from handover.sources.files import XlsxSource

        return XlsxSource(path, allow_bad_rows=allow_bad_rows)
    if suffix in (".parquet", ".pq"):
        from handover.sources.files import ParquetSource

        return ParquetSource(path)
    with path.open("rb") as fh:
        magic = fh.read(16)
    if suffix in SQLITE_SUFFIXES or magic == b"SQLite format 3\x00":
        from handover.sources.sqlite import SqliteSource

        return SqliteSource(path)
    raise BadInput.msg("sources.unknown_kind", path=path)


__all__ = [
    "DEFAULT_BATCH",
    "ColumnInfo",
    "Source",
    "TableInfo",
    "open_source",
]
