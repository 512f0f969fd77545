"""A SQLite file read through the ``sqlite3`` module (fetchmany → Arrow arrays).

Reads are read-only and stream with ``fetchmany``; a column whose declared type is
numeric but holds other storage classes (SQLite's dynamic typing) is read as text, with
a note. The SQL that is SQLite's own (affinity, storage-class checks, the seeded rowid
sample) is in :mod:`handover.db.dialects.sqlite`.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from handover.db.adbc import ArrowReader
from handover.db.connect import error_detail
from handover.db.dialects.sqlite import DIALECT as SQLITE
from handover.db.reflect import SqliteColumn, sqlite_columns, sqlite_reals, sqlite_tables
from handover.db.url import read_only_uri
from handover.errors import BadInput
from handover.i18n import Msg
from handover.sources.base import DEFAULT_BATCH, ColumnInfo, TableInfo
from handover.sources.sql import ArrowRows, Page, PageFetch, SqlSource, sample_fraction

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: the Arrow type of each SQLite affinity handover reads
_ARROW = {"integer": pa.int64(), "real": pa.float64(), "blob": pa.binary(), "text": pa.string()}


class SqliteSource(SqlSource):
    """A SQLite file read through the ``sqlite3`` module (fetchmany → Arrow arrays)."""

    kind = "sqlite"
    sql = SQLITE

    def __init__(self, path: Path, display: str | None = None) -> None:
        if not path.is_file():
            raise BadInput.msg("sources.no_sqlite", path=path)
        if path.stat().st_size == 0:
            # SQLite reads an empty file as an empty database: a mistyped path (or a file
            # some tool created empty) would pass for a source without tables.
            raise BadInput.msg("sources.empty_sqlite", path=display or path)
        self.path = path
        self.display = display or str(path)
        try:
            self.conn = sqlite3.connect(read_only_uri(path), uri=True, check_same_thread=False)
            self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BadInput.msg("sources.bad_sqlite", path=path, detail=str(exc)) from None
        self._tables: list[TableInfo] | None = None
        self._select: dict[str, list[str]] = {}
        self._infos: dict[str, TableInfo] = {}
        self._columns: dict[str, list[str]] = {}
        self._engine: Engine | None = None
        #: the same file through ADBC (None where the driver is not installed)
        self._arrow = ArrowReader.open(path)

    @property
    def engine(self) -> Engine:
        """An engine over this source's own read-only connection (for reflection): the
        file is opened once."""
        if self._engine is None:
            from handover.db.connect import over

            self._engine = over(self.conn)
        return self._engine

    def reals(self, table: str, columns: Sequence[str]) -> list[bool] | None:
        """:func:`handover.db.reflect.sqlite_reals` of this file."""
        return sqlite_reals(self.conn, table, columns)

    def _reads_as_text(self, t: pa.DataType) -> bool:
        return bool(t == pa.string())  # what tables() reads with CAST(… AS TEXT)

    def column_names(self, table: str) -> list[str]:
        """The columns of ``table`` (``PRAGMA table_info``); BadInput if there is no table."""
        if table not in self._columns:
            info = sqlite_columns(self.conn, table)
            if not info:
                raise BadInput.msg("sources.no_table", source=self.display, table=table)
            self._columns[table] = [c.name for c in info]
        return self._columns[table]

    def count(self, table: str) -> int:
        """``SELECT count(*)`` of ``table``."""
        self.column_names(table)
        try:
            return int(self.conn.execute(f"SELECT count(*) FROM {self._q(table)}").fetchone()[0])
        except sqlite3.Error as exc:  # damaged pages (a count decodes no value)
            raise BadInput.msg(
                "sources.table_unreadable",
                source=self.display,
                table=table,
                detail=error_detail(exc),
            ) from None

    def has_rowid(self, table: str) -> bool:
        """False for a ``WITHOUT ROWID`` table."""
        self.column_names(table)
        try:
            self.conn.execute(f"SELECT {self.sql.row_id} FROM {self._q(table)} LIMIT 1").fetchall()
        except sqlite3.OperationalError:
            return False
        return True

    def _read_error(self, exc: sqlite3.Error, table: str, near: Msg | str) -> BadInput:
        # The message of a decode error quotes the cell: never pass it on.
        what = Msg("sources.bad_utf8_text" if "decode" in str(exc) else "sources.bad_row")
        return BadInput.msg(
            "sources.read_error", source=self.display, table=table, near=near, what=what
        )

    def _rows_of(self, sql: str, params: Sequence[Any], table: str) -> list[tuple[Any, ...]]:
        """The rows of one statement through ``sqlite3`` (a page, or a page read again)."""
        try:
            return list(self.conn.execute(sql, tuple(params)).fetchall())
        except sqlite3.OperationalError as exc:
            raise self._read_error(exc, table, "") from None

    @contextmanager
    def _pages(self, table: str) -> Iterator[PageFetch]:
        def fetch(sql: str, params: Sequence[Any]) -> Page:
            page = self._arrow.page(sql, params) if self._arrow is not None else None
            if page is None:
                return self._rows_of(sql, params, table)
            return ArrowRows(page, functools.partial(self._rows_of, sql, params, table))

        yield fetch

    def tables(self) -> list[TableInfo]:
        """Every user table with declared types, primary key and exact row count."""
        if self._tables is None:
            names = sqlite_tables(self.conn)
            failed = self._census([n for n in names if n not in self._infos])
            for name in names:
                if name in failed:  # the first table in order that failed, as one by one
                    raise failed[name]
            self._tables = [self._info(name) for name in names]
        return self._tables

    def _census(self, names: list[str]) -> dict[str, BaseException]:
        """The :class:`TableInfo` of each of ``names`` (its misfit checks and count are
        full scans inside SQLite, which leave the interpreter lock) on two threads, each
        with a connection of its own; what failed, by table."""
        if len(names) < 2:
            return {}
        todo = iter(names)
        lock = threading.Lock()
        stop = threading.Event()
        failed: dict[str, BaseException] = {}

        def work(conn: sqlite3.Connection) -> None:
            while not stop.is_set():
                with lock:
                    name = next(todo, None)
                if name is None:
                    return
                try:
                    self._info(name, conn)
                except Exception as exc:  # raised by tables() in table order
                    failed[name] = exc
                    stop.set()  # the tables not taken yet come after it: none is needed

        try:
            other = sqlite3.connect(read_only_uri(self.path), uri=True, check_same_thread=False)
        except sqlite3.Error:
            return {}  # one by one on the source's own connection, which names the problem
        try:
            with ThreadPoolExecutor(2, thread_name_prefix="sqlite-census") as pool:
                runs = [pool.submit(work, self.conn), pool.submit(work, other)]
                try:
                    for run in runs:
                        run.result()
                except BaseException:  # Ctrl-C: the scans in SQLite end now, not at their end
                    stop.set()
                    self.conn.interrupt()
                    other.interrupt()
                    raise
        finally:
            other.close()
        return failed

    def table_names(self) -> list[str]:
        """The user tables by name (``sqlite_master``; nothing counted)."""
        return sqlite_tables(self.conn)

    def table(self, name: str) -> TableInfo:
        """The table called ``name`` (:class:`BadInput` naming it if there is none), its
        columns checked and rows counted on its own: reading one table never scans the
        others (a notice campaign reads one people table of a 20-table book)."""
        if name in self._infos:
            return self._infos[name]
        if self._tables is not None or name not in self.table_names():
            return super().table(name)
        return self._info(name)

    def primary_key(self, name: str) -> list[str]:
        """The key from the table's declaration alone: no column checked, no row counted
        (:meth:`table` scans the numeric columns and counts the rows)."""
        if name in self._infos or name not in self.table_names():
            return super().primary_key(name)
        try:
            info = sqlite_columns(self.conn, name)
        except sqlite3.Error as exc:
            raise self._unreadable(name, exc) from None
        return _declared_key(info)

    def _info(self, name: str, conn: sqlite3.Connection | None = None) -> TableInfo:
        """One table's :class:`TableInfo` (its misfit checks and count run once), read
        through ``conn`` (by default the source's own connection)."""
        if name in self._infos:
            return self._infos[name]
        try:
            return self._describe(name, conn or self.conn)
        except sqlite3.Error as exc:
            raise self._unreadable(name, exc) from None

    def _unreadable(self, name: str, exc: sqlite3.Error) -> BadInput:
        """A missing virtual-table module or collation, damaged pages: one line naming the
        table (SQLite's message names the schema's problem, never a cell: these statements
        return counts and declarations, no value is decoded)."""
        return BadInput.msg(
            "sources.table_unreadable", source=self.display, table=name, detail=error_detail(exc)
        )

    def _describe(self, name: str, conn: sqlite3.Connection) -> TableInfo:
        """:meth:`_info`'s reading (errors are SQLite's own)."""
        q = self._q(name)
        info = sqlite_columns(conn, name)
        cols: list[ColumnInfo] = []
        select: list[str] = []
        pk = _declared_key(info)
        notes: list[Msg | str] = []
        for _cid, cname, ctype, notnull, _dflt, _pk in info:
            decl = ctype.upper()
            affinity = self.sql.affinity(decl)
            atype = _ARROW[affinity]
            qc = self._q(cname)
            if affinity in ("integer", "real"):
                sql = self.sql.misfits_sql(q, qc, affinity)
                bad = conn.execute(sql).fetchone()[0]
                if bad:
                    notes.append(
                        Msg(
                            "sources.note.not_numeric",
                            column=cname,
                            n=bad,
                            type=decl or Msg("sources.numeric"),
                        )
                    )
                    atype = pa.string()
            expr = self._text_expr(qc) if atype == pa.string() else qc
            select.append(expr)
            cols.append(ColumnInfo(cname, ctype, atype, not notnull))
        rows = conn.execute(f"SELECT count(*) FROM {q}").fetchone()[0]
        self._select[name] = select
        found = self._infos[name] = TableInfo(name, cols, pk, int(rows), notes)
        return found

    def _query(
        self, table: str, columns: list[str] | None, tail: str = ""
    ) -> tuple[str, pa.Schema]:
        info = self.table(table)
        wanted = columns or info.column_names
        exprs = self._select[table]
        idx = {c.name: i for i, c in enumerate(info.columns)}
        try:
            sel = ", ".join(exprs[idx[c]] for c in wanted)
        except KeyError as exc:
            raise BadInput.msg(
                "sources.table_no_column",
                source=self.display,
                table=table,
                column=exc.args[0],
            ) from None
        schema = pa.schema([info.schema.field(c) for c in wanted])
        return f"SELECT {sel} FROM {self._q(table)}{tail}", schema

    def _stream_rows(self, sql: str, table: str, batch_size: int) -> Iterator[Page]:
        plain = _Plain(self, sql, table)
        try:
            done = 0
            if self._arrow is not None:
                # Arrow batches while the driver's types hold. From the first batch it
                # refuses (a column changed storage class), or that a reader sent back
                # for its exact values (ArrowRows.rows), sqlite3 reads on.
                stream = self._arrow.stream(sql, batch_size)
                pages = stream.pages()
                try:
                    for page in pages:
                        again = functools.partial(plain.take, done, page.num_rows)
                        yield ArrowRows(page, again, first=not done)
                        done += page.num_rows
                        if plain.started:
                            break
                finally:
                    pages.close()
                if not stream.refused and not plain.started:
                    return
            while rows := plain.take(done, batch_size):
                yield rows
                done += len(rows)
        finally:
            plain.close()

    def _batches(
        self, table: str, columns: list[str] | None, batch_size: int
    ) -> Iterator[pa.RecordBatch]:
        sql, schema = self._query(table, columns)
        yield from self._stream(sql, schema, table, batch_size)

    def sample(self, table: str, n: int, seed: int, columns: list[str] | None = None) -> pa.Table:
        """About ``n`` rows chosen by a seeded hash of the rowid, filtered inside SQLite."""
        info = self.table(table)
        if info.rows <= n:
            tail = ""
        else:
            tail = self.sql.sample_where(seed, sample_fraction(info.rows, n), n)
        sql, schema = self._query(table, columns, tail)
        try:
            parts = list(self._stream(sql, schema, table, DEFAULT_BATCH, sampled=bool(tail)))
        except sqlite3.OperationalError:  # WITHOUT ROWID table: sample by reading
            return super().sample(table, n, seed, columns)
        return pa.Table.from_batches(parts, schema=schema) if parts else schema.empty_table()

    def close(self) -> None:
        """Close the connection."""
        if self._engine is not None:
            self._engine.dispose()
        if self._arrow is not None:
            self._arrow.close()
        self.conn.close()


class _Plain:
    """One statement's rows through ``sqlite3`` from a given row on: where the Arrow reader
    of :meth:`SqliteSource._stream_rows` hands over (the statement is run again and the
    rows before skipped, in the same order: same statement, same file, no writer)."""

    def __init__(self, source: SqliteSource, sql: str, table: str) -> None:
        self.source, self.sql, self.table = source, sql, table
        self.cur: sqlite3.Cursor | None = None
        self.at = 0  # rows the cursor has passed

    @property
    def started(self) -> bool:
        return self.cur is not None

    def take(self, start: int, n: int) -> list[tuple[Any, ...]]:
        """Rows ``start`` to ``start + n`` (fewer at the end); ``start`` never goes back."""
        try:
            if self.cur is None:
                self.cur = self.source.conn.cursor()
                self.cur.execute(self.sql)
            while self.at < start:
                skipped = self.cur.fetchmany(min(DEFAULT_BATCH, start - self.at))
                if not skipped:
                    break
                self.at += len(skipped)
            rows = list(self.cur.fetchmany(n))
        except sqlite3.OperationalError as exc:
            near = Msg("sources.near_row", row=self.at + 1)
            raise self.source._read_error(exc, self.table, near) from None
        self.at += len(rows)
        return rows

    def close(self) -> None:
        if self.cur is not None:
            self.cur.close()


def _declared_key(info: list[SqliteColumn]) -> list[str]:
    """The primary key's columns in key order, from ``PRAGMA table_info``."""
    return [c.name for c in sorted((c for c in info if c.pk), key=lambda c: c.pk)]
