"""Sources: one interface over databases and files, streaming Arrow RecordBatches.

``open_source(spec)`` accepts a SQLAlchemy URL (SQLite, PostgreSQL, MySQL/MariaDB), a
path to a SQLite file, a CSV/XLSX/Parquet file, or a folder of them. Every stage that
reads customer data (scan, seal, migrate, verify) goes through it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.errors import BadInput

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from handover.sources.base import DEFAULT_BATCH, ColumnInfo, Source, TableInfo

#: names that load pyarrow and numpy on first use, so that commands needing only the URL
#: helpers (verify, erase) start faster
_ARROW_NAMES = frozenset({"DEFAULT_BATCH", "ColumnInfo", "Source", "TableInfo"})


def __getattr__(name: str) -> Any:
    if name in _ARROW_NAMES:
        from handover.sources import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".db3")


def mask_spec(spec: str | Path) -> str:
    """The spec with any password hidden (safe for reports, logs and the ledger)."""
    s = str(spec)
    if "://" in s:
        from handover.store.store import mask_url

        return mask_url(s)
    return s


def database_url(url: str) -> URL:
    """``url`` parsed, with handover's driver filled in where it names none (psycopg for
    PostgreSQL, PyMySQL for MySQL/MariaDB); BadInput (password masked) if it is no URL."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise BadInput.msg("sources.not_url", spec=mask_spec(url)) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend in ("mysql", "mariadb") and "+" not in parsed.drivername:
        parsed = parsed.set(drivername=f"{backend}+pymysql")
    return parsed


def open_source(spec: str | Path) -> Source:
    """Open the source named by ``spec``; :class:`BadInput` (one line) if it cannot be read."""
    s = str(spec)
    if "://" in s:
        url = database_url(s)
        if url.get_backend_name() == "sqlite":
            if not url.database:
                raise BadInput.msg("sources.memory_sqlite", spec=mask_spec(s))
            from handover.sources.sql import SqliteSource

            return SqliteSource(Path(url.database), display=mask_spec(s))
        from handover.sources.sql import SqlAlchemySource

        return SqlAlchemySource(s)
    path = Path(s)
    if not path.exists():
        raise BadInput.msg("sources.no_path", path=path)
    if path.is_dir():
        from handover.sources.files import FolderSource

        return FolderSource(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        from handover.sources.files import CsvSource

        return CsvSource(path)
    if suffix in (".xlsx", ".xlsm"):
        from handover.sources.files import XlsxSource

        return XlsxSource(path)
    if suffix in (".parquet", ".pq"):
        from handover.sources.files import ParquetSource

        return ParquetSource(path)
    with path.open("rb") as fh:
        magic = fh.read(16)
    if suffix in SQLITE_SUFFIXES or magic == b"SQLite format 3\x00":
        from handover.sources.sql import SqliteSource

        return SqliteSource(path)
    raise BadInput.msg("sources.unknown_kind", path=path)


__all__ = [
    "DEFAULT_BATCH",
    "ColumnInfo",
    "Source",
    "TableInfo",
    "database_url",
    "mask_spec",
    "open_source",
]
