"""Targets the loan book is written to: a SQLite file, PostgreSQL, MariaDB, or a folder
of CSV/XLSX exports. Each writer creates the tables, takes one block of columns at a
time, and on failure removes everything it created (``abort``).

The bulk paths: SQLite ``executemany`` in one transaction per block with journal and
sync off (a failed load deletes the file anyway); PostgreSQL ``COPY FROM STDIN`` with
the text-format rows built by numpy string operations; MariaDB multi-row ``INSERT``
statements whose literals are escaped the same vectorised way.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from handover.synth.generate import Columns
from handover.synth.schema import TABLES, Column, Table

CHUNK = 100_000  # rows converted to Python objects at a time: bounds peak memory
XLSX_MAX_ROWS = 1_048_575


class Writer(Protocol):
    """What ``synthesize`` drives."""

    def create(self) -> None: ...
    def write(self, table: Table, cols: Columns) -> None: ...
    def end_block(self) -> None: ...
    def finish(self) -> None: ...
    def abort(self) -> None: ...


def _chunks(table: Table, cols: Columns) -> Iterator[list[tuple[Any, ...]]]:
    n = len(cols[table.columns[0].name])
    for lo in range(0, n, CHUNK):
        parts = [cols[c.name][lo : lo + CHUNK].tolist() for c in table.columns]
        yield list(zip(*parts, strict=True))


# -- SQL DDL ---------------------------------------------------------------------------------

_TYPE_RE = re.compile(r"(\w+)(?:\((\d+)(?:,(\d+))?\))?")


def sql_type(col: Column, dialect: str) -> str:
    """The column's type in ``dialect`` (sqlite, postgresql, mysql)."""
    m = _TYPE_RE.fullmatch(col.type)
    assert m is not None, col.type
    base, a, b = m.group(1), m.group(2), m.group(3)
    if base == "decimal":
        return f"DECIMAL({a},{b})" if dialect != "postgresql" else f"NUMERIC({a},{b})"
    if base == "varchar":
        return f"VARCHAR({a})"
    if base == "timestamp":
        return "DATETIME" if dialect == "mysql" else "TIMESTAMP"
    return {
        "bigint": "BIGINT",
        "int": "INTEGER",
        "smallint": "SMALLINT",
        "text": "TEXT",
        "date": "DATE",
    }[base]


def quote(name: str, dialect: str) -> str:
    """An identifier quoted for ``dialect`` (names may be Chinese)."""
    return f"`{name}`" if dialect == "mysql" else f'"{name}"'


def create_sql(table: Table, dialect: str) -> str:
    """CREATE TABLE with primary key and foreign keys."""

    def q(name: str) -> str:
        return quote(name, dialect)

    lines = []
    single_int_pk = (
        dialect == "sqlite"
        and len(table.pk) == 1
        and next(c for c in table.columns if c.name == table.pk[0]).type in ("bigint", "int")
    )
    for c in table.columns:
        if single_int_pk and c.name == table.pk[0]:
            lines.append(f"{q(c.name)} INTEGER PRIMARY KEY")  # rowid alias: fast inserts
            continue
        null = "" if c.nullable else " NOT NULL"
        lines.append(f"{q(c.name)} {sql_type(c, dialect)}{null}")
    if not single_int_pk:
        lines.append(f"PRIMARY KEY ({', '.join(q(k) for k in table.pk)})")
    for i, (cols, ref, ref_cols) in enumerate(table.fks, start=1):
        name = q(f"fk_{table.name}_{i}")
        lines.append(
            f"CONSTRAINT {name} FOREIGN KEY ({', '.join(q(c) for c in cols)}) "
            f"REFERENCES {q(ref)} ({', '.join(q(c) for c in ref_cols)})"
        )
    tail = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" if dialect == "mysql" else ""
    comment = f" COMMENT='{table.title}'" if dialect == "mysql" else ""
    return f"CREATE TABLE {q(table.name)} (\n  " + ",\n  ".join(lines) + f"\n){tail}{comment}"


# -- SQLite ------------------------------------------------------------------------------------


class SQLiteWriter:
    """One SQLite file, written under a temporary name and renamed into place at the end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
        self.conn: sqlite3.Connection | None = None

    def create(self) -> None:
        self.conn = sqlite3.connect(self.tmp, isolation_level=None)
        for pragma in (
            "page_size=8192",
            "journal_mode=OFF",
            "synchronous=OFF",
            "locking_mode=EXCLUSIVE",
            "temp_store=MEMORY",
            "cache_size=-262144",
        ):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute("BEGIN")
        for t in TABLES:
            self.conn.execute(create_sql(t, "sqlite"))

    def write(self, table: Table, cols: Columns) -> None:
        assert self.conn is not None
        sql = f'INSERT INTO "{table.name}" VALUES ({",".join("?" * len(table.columns))})'
        for rows in _chunks(table, cols):
            self.conn.executemany(sql, rows)

    def end_block(self) -> None:
        assert self.conn is not None
        self.conn.execute("COMMIT")
        self.conn.execute("BEGIN")

    def finish(self) -> None:
        assert self.conn is not None
        self.conn.execute("COMMIT")
        self.conn.execute("PRAGMA journal_mode=DELETE")
        self.conn.close()
        self.conn = None
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self.conn.close()
            self.conn = None
        for p in (self.tmp, Path(f"{self.tmp}-journal")):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


# -- vectorised text rows for servers ----------------------------------------------------------


def _as_text(values: npt.NDArray[Any]) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.bool_]]:
    """Column values as strings plus a null mask (ints formatted, None marked)."""
    if values.dtype == object:
        null: npt.NDArray[np.bool_] = np.equal(values, np.array(None, dtype=object))
        filled = np.where(null, "", values).astype(np.str_)
        return filled, null
    if values.dtype.kind in "iu":
        from handover.synth.values import int_str

        neg = values < 0
        s = int_str(np.abs(values))
        return np.where(neg, np.strings.add("-", s), s), np.zeros(len(values), dtype=bool)
    return values.astype(np.str_), np.zeros(len(values), dtype=bool)


def copy_text(table: Table, cols: Columns, lo: int, hi: int) -> bytes:
    """Rows ``lo:hi`` in PostgreSQL COPY text format (tab-separated, \\N for NULL)."""
    line: npt.NDArray[np.str_] | None = None
    for c in table.columns:
        s, null = _as_text(cols[c.name][lo:hi])
        if c.type in ("text",) or c.type.startswith("varchar"):
            s = np.strings.replace(s, "\\", "\\\\")
            s = np.strings.replace(s, "\t", "\\t")
            s = np.strings.replace(s, "\n", "\\n")
            s = np.strings.replace(s, "\r", "\\r")
        s = np.where(null, "\\N", s)
        line = s if line is None else np.strings.add(np.strings.add(line, "\t"), s)
    assert line is not None
    return ("\n".join(line.tolist()) + "\n").encode("utf-8")


def insert_values(table: Table, cols: Columns, lo: int, hi: int) -> list[str]:
    """Rows ``lo:hi`` as MySQL ``(v1,v2,…)`` tuples with escaped literals."""
    line: npt.NDArray[np.str_] | None = None
    for c in table.columns:
        s, null = _as_text(cols[c.name][lo:hi])
        if c.type not in ("bigint", "int", "smallint"):
            s = np.strings.replace(s, "\\", "\\\\")
            s = np.strings.replace(s, "'", "\\'")
            s = np.strings.add(np.strings.add("'", s), "'")
        s = np.where(null, "NULL", s)
        line = s if line is None else np.strings.add(np.strings.add(line, ","), s)
    assert line is not None
    return np.strings.add(np.strings.add("(", line), ")").tolist()  # type: ignore[no-any-return]


class ServerWriter:
    """PostgreSQL (COPY) or MariaDB (multi-row INSERT) through one raw DBAPI connection."""

    def __init__(self, engine: Any, dialect: str) -> None:
        self.engine = engine
        self.dialect = dialect
        self.raw: Any = None
        self.created: list[str] = []

    def create(self) -> None:
        self.raw = self.engine.raw_connection()
        cur = self.raw.cursor()
        if self.dialect == "mysql":
            cur.execute("SET NAMES utf8mb4")
        for t in TABLES:
            cur.execute(create_sql(t, self.dialect))
            self.created.append(t.name)
            if self.dialect == "mysql":
                self.raw.commit()
        self.raw.commit()

    def write(self, table: Table, cols: Columns) -> None:
        n = len(cols[table.columns[0].name])
        names = ", ".join(quote(c.name, self.dialect) for c in table.columns)
        cur = self.raw.cursor()
        if self.dialect == "postgresql":
            with cur.copy(f"COPY {quote(table.name, self.dialect)} ({names}) FROM STDIN") as cp:
                for lo in range(0, n, CHUNK):
                    cp.write(copy_text(table, cols, lo, min(n, lo + CHUNK)))
            return
        head = f"INSERT INTO {quote(table.name, self.dialect)} ({names}) VALUES "
        for lo in range(0, n, CHUNK):
            rows = insert_values(table, cols, lo, min(n, lo + CHUNK))
            # Statements of ~2 MB stay well under MariaDB's default 16 MB packet limit.
            start, size = 0, 0
            for i, r in enumerate(rows):
                size += len(r) * 3 + 1
                if size > 2_000_000:
                    cur.execute(head + ",".join(rows[start : i + 1]))
                    start, size = i + 1, 0
            if start < len(rows):
                cur.execute(head + ",".join(rows[start:]))

    def end_block(self) -> None:
        self.raw.commit()

    def finish(self) -> None:
        self.raw.commit()
        self.raw.close()
        self.raw = None
        self.engine.dispose()

    def abort(self) -> None:
        """Roll back and drop every table this writer created (children first)."""
        try:
            if self.raw is None:
                self.raw = self.engine.raw_connection()
            with contextlib.suppress(Exception):
                self.raw.rollback()
            cur = self.raw.cursor()
            if self.dialect == "mysql":
                cur.execute("SET FOREIGN_KEY_CHECKS=0")
            for name in reversed(self.created):
                extra = " CASCADE" if self.dialect == "postgresql" else ""
                cur.execute(f"DROP TABLE IF EXISTS {quote(name, self.dialect)}{extra}")
            self.raw.commit()
        finally:
            with contextlib.suppress(Exception):
                self.raw.close()
            self.raw = None
            self.engine.dispose()


# -- folders of exports ------------------------------------------------------------------------


class CsvWriter:
    """One CSV per table, in the table's encoding (UTF-8, UTF-8 with BOM, GBK, GB18030)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.made_folder = False
        self.files: dict[str, Any] = {}
        self.writers: dict[str, Any] = {}
        self.paths: list[Path] = []

    def create(self) -> None:
        if not self.folder.exists():
            self.folder.mkdir()
            self.made_folder = True
        for t in TABLES:
            path = self.folder / f"{t.name}.csv"
            self.paths.append(path)
            f = open(path, "w", encoding=t.csv_encoding, newline="")  # noqa: SIM115
            self.files[t.name] = f
            self.writers[t.name] = csv.writer(f, lineterminator="\r\n")
            self.writers[t.name].writerow(t.column_names)

    def write(self, table: Table, cols: Columns) -> None:
        w = self.writers[table.name]
        for rows in _chunks(table, cols):
            w.writerows(rows)

    def end_block(self) -> None:
        pass

    def finish(self) -> None:
        for f in self.files.values():
            f.close()
        self.files.clear()

    def abort(self) -> None:
        for f in self.files.values():
            with contextlib.suppress(Exception):
                f.close()
        self.files.clear()
        remove_created(self.paths, self.folder, self.made_folder)


class XlsxWriter:
    """One workbook per table (openpyxl write-only), for modest sizes. A text that a
    spreadsheet reads a formula from (``+86 138…``, ``-``, ``=…``) is a text cell holding it
    exactly (:func:`handover.reports.tables.xlsx_row`): the book's mess stays data."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.made_folder = False
        self.books: dict[str, Any] = {}
        self.sheets: dict[str, Any] = {}
        self.paths: list[Path] = []
        self.rows: dict[str, int] = {}

    def create(self) -> None:
        from openpyxl import Workbook

        if not self.folder.exists():
            self.folder.mkdir()
            self.made_folder = True
        for t in TABLES:
            wb = Workbook(write_only=True)
            ws = wb.create_sheet(t.name[:31])
            ws.append(t.column_names)
            self.books[t.name] = wb
            self.sheets[t.name] = ws
            self.rows[t.name] = 0

    def write(self, table: Table, cols: Columns) -> None:
        from handover.errors import BadInput

        n = len(cols[table.columns[0].name])
        self.rows[table.name] += n
        if self.rows[table.name] > XLSX_MAX_ROWS:
            raise BadInput.msg("synth.xlsx_rows", folder=self.folder, table=table.name)
        from handover.reports.tables import xlsx_row

        ws = self.sheets[table.name]
        for rows in _chunks(table, cols):
            for r in rows:
                ws.append(xlsx_row(ws, r))

    def end_block(self) -> None:
        pass

    def finish(self) -> None:
        for name, wb in self.books.items():
            path = self.folder / f"{name}.xlsx"
            self.paths.append(path)
            wb.save(path)
        self.books.clear()

    def abort(self) -> None:
        self.books.clear()
        remove_created(self.paths, self.folder, self.made_folder)


def remove_created(paths: list[Path], folder: Path, made_folder: bool) -> None:
    """Remove files this run created, and the folder if this run made it."""
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    truth = folder / "truth.json"
    with contextlib.suppress(FileNotFoundError):
        truth.unlink()
    if made_folder:
        with contextlib.suppress(OSError):
            folder.rmdir()
