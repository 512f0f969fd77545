"""Sources: one interface over databases and files, streaming Arrow RecordBatches.

``open_source(spec)`` accepts a SQLAlchemy URL (SQLite, PostgreSQL, MySQL/MariaDB), a
path to a SQLite file, a CSV/XLSX/Parquet file, or a folder of them. Every stage that
reads customer data (scan, seal, migrate, verify) goes through it.
"""

from __future__ import annotations

from dataclasses import dataclass
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
CSV_SUFFIXES = (".csv", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
#: how a MySQL export with backslash escapes may be laid out (:attr:`FileReading.escapes`):
#: its values enclosed in quotes or not, its lines ended by LF (MySQL's default) or CRLF
MYSQL_LAYOUTS = ("unenclosed", "enclosed", "unenclosed-crlf", "enclosed-crlf")
#: the suffix of the files ``mysqldump --tab`` writes, read as CSV with MySQL's escapes
MYSQL_DUMP_SUFFIX = ".txt"


def csv_suffixes(escapes: str = "") -> tuple[str, ...]:
    """The suffixes of the files read as CSV: with MySQL's ``escapes``, the ``.txt`` files
    of ``mysqldump --tab`` too."""
    return (*CSV_SUFFIXES, MYSQL_DUMP_SUFFIX) if escapes else CSV_SUFFIXES


@dataclass(frozen=True, slots=True)
class FileReading:
    """How the tables of a file source are read: choices a person makes on the command
    line, never guessed; carried whole from the CLI to every worker that opens the file.

    ``allow_bad_rows``: how many unreadable rows (ragged, truncated, an unclosed quote)
    a CSV/XLSX table may lose, each reported with its row number; with more, reading
    the table fails (:class:`BadInput`) before any row is delivered.

    ``header``: the first row of a CSV file is its header; False says the CSV files have
    no header row (columns column_1 …, the first row read as data).

    ``escapes``: the CSV files use MySQL's backslash escapes, as ``SELECT … INTO OUTFILE``
    and ``mysqldump --tab`` write them (``\\N`` is NULL, ``\\\\`` a backslash, a backslash
    before a delimiter, quote or line break keeps it in the value, ``\\t`` ``\\n`` ``\\r``
    ``\\0`` ``\\b`` ``\\Z`` as ``LOAD DATA`` reads them; an empty field is then an empty
    text, not NULL; ``.txt`` files, as ``mysqldump --tab`` names them, are CSV files too):
    ``"unenclosed"`` as MySQL writes by default (a quote is a character like any other),
    ``"enclosed"`` when the export said ``[OPTIONALLY] ENCLOSED BY '"'`` (a quote opens and
    closes a value, and one inside it is escaped), each with ``-crlf`` when it said ``LINES
    TERMINATED BY '\\r\\n'``; ``""`` none.
    """

    allow_bad_rows: int = 0
    header: bool = True
    escapes: str = ""

    def __post_init__(self) -> None:
        if self.escapes and self.escapes not in MYSQL_LAYOUTS:
            raise BadInput.msg(
                "sources.bad_escapes", value=self.escapes, allowed=" | ".join(MYSQL_LAYOUTS)
            )

    def to_options(self) -> dict[str, Any]:
        """What a run records to be resumed the same way (``header`` and ``escapes`` only
        when not the default, so that runs recorded before them resume as they were)."""
        return {
            "allow_bad_rows": self.allow_bad_rows,
            **({} if self.header else {"header": False}),
            **({"escapes": self.escapes} if self.escapes else {}),
        }

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> FileReading:
        """The reading a run recorded with :meth:`to_options`."""
        return cls(
            int(options.get("allow_bad_rows") or 0),
            bool(options.get("header", True)),
            str(options.get("escapes") or ""),
        )

    def alike(self, other: FileReading) -> bool:
        """Whether ``other`` reads a file's rows into the same columns and values (the
        allowance of bad rows aside): an inventory or a run taken one way serves only a
        command reading the same way."""
        return (self.header, self.escapes) == (other.header, other.escapes)


#: how a file is read when nobody says otherwise: a header row, no row may be lost
PLAIN = FileReading()


def open_source(
    spec: str | Path, *, wording: Wording | None = None, reading: FileReading = PLAIN
) -> Source:
    """Open the source named by ``spec``; :class:`BadInput` (one line) if it cannot be read
    (``wording``: how a database server that does not answer is told; ``reading``: how
    its file tables are read, see :class:`FileReading`). A source without CSV files is
    refused when ``reading`` says the CSV files have no header: nothing would honour it.
    """
    check_reading(spec, reading)
    s = str(spec)
    allow_bad_rows, header, escapes = reading.allow_bad_rows, reading.header, reading.escapes
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

        return FolderSource(path, allow_bad_rows=allow_bad_rows, header=header, escapes=escapes)
    suffix = path.suffix.lower()
    if suffix in csv_suffixes(escapes):
        from handover.sources.files import CsvSource

        return CsvSource(path, allow_bad_rows=allow_bad_rows, header=header, escapes=escapes)
    if suffix in XLSX_SUFFIXES:
        from handover.sources.files import XlsxSource

        return XlsxSource(path, allow_bad_rows=allow_bad_rows)
    if suffix in PARQUET_SUFFIXES:
        from handover.sources.files import ParquetSource

        return ParquetSource(path)
    with path.open("rb") as fh:
        magic = fh.read(16)
    if suffix in SQLITE_SUFFIXES or magic == b"SQLite format 3\x00":
        from handover.sources.sqlite import SqliteSource

        return SqliteSource(path)
    raise BadInput.msg("sources.unknown_kind", path=path)


def check_reading(spec: str | Path, reading: FileReading) -> None:
    """BadInput, before ``spec`` is opened, for a negative allowance, or for "no header
    row" or "MySQL escapes" on a source that holds no CSV file: a database, an XLSX or
    Parquet file (a folder without one is refused when it is listed), where nothing would
    honour it."""
    if reading.allow_bad_rows < 0:
        raise BadInput.msg("sources.bad_allowance", n=reading.allow_bad_rows)
    s = str(spec)
    if (reading.header and not reading.escapes) or (
        not is_url(s) and _may_hold_csv(Path(s), reading)
    ):
        return
    raise BadInput.msg(
        "sources.no_header_not_csv" if not reading.header else "sources.escapes_not_csv",
        source=mask(s),
    )


def _may_hold_csv(path: Path, reading: FileReading) -> bool:
    """Whether ``path`` may be a CSV file (one that does not exist is told so when opened;
    with MySQL's escapes a ``.txt`` of ``mysqldump --tab`` is one), or is a folder."""
    return (
        path.is_dir() or path.suffix.lower() in csv_suffixes(reading.escapes) or not path.exists()
    )


__all__ = [
    "CSV_SUFFIXES",
    "DEFAULT_BATCH",
    "PARQUET_SUFFIXES",
    "PLAIN",
    "XLSX_SUFFIXES",
    "ColumnInfo",
    "FileReading",
    "Source",
    "TableInfo",
    "check_reading",
    "csv_suffixes",
    "open_source",
]
