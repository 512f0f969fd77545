"""Source databases as ``handover shred`` sees them: SQLite files and server URLs.

SQLite goes through the standard ``sqlite3`` module because the method needs direct
control of pragmas, journal mode and checkpoints; PostgreSQL and MariaDB/MySQL go
through SQLAlchemy. Identifiers are checked against the catalogue and quoted; the only
SQL text taken from the operator is a retention rule's row filter (see retention.py).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import struct
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.db import dialects
from handover.errors import BadInput

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from handover.db.dialects.base import Dialect

SQLITE_SIDE_FILES = ("-wal", "-journal", "-shm")
CHUNK_ROWS = 5_000


@dataclass
class Destroyed:
    """What the method did to the database, step by step, with row counts."""

    dropped: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bytes_before: int | None = None
    bytes_after: int | None = None
    #: whether what was overwritten read back as written (the whole-file method)
    readback_ok: bool = True


class Database(ABC):
    """One source database: catalogue, sampling, reading, and the destruction method."""

    dialect: str
    display: str
    version: str

    @abstractmethod
    def tables(self) -> list[str]:
        """Every user table, in catalogue order."""
        ...

    @abstractmethod
    def columns(self, table: str) -> list[str]:
        """Column names of ``table``."""
        ...

    @property
    def sql(self) -> Dialect:
        """The engine's dialect: its sanitization SQL."""
        return dialects.get(self.dialect)

    def quote(self, name: str) -> str:
        """``name`` quoted as an identifier of this dialect."""
        return self.sql.quote(name)

    def _where(self, cond: str | None, negate: bool) -> str:
        if cond is None:
            return ""
        # Rows the rule keeps match ``cond``; rows whose ``cond`` is NULL are not kept.
        return f" WHERE NOT COALESCE(({cond}), 0 = 1)" if negate else f" WHERE ({cond})"

    def count(self, table: str, keep: str | None = None, *, kept: bool = False) -> int:
        """Rows of ``table``; with ``keep``, the rows it keeps (``kept``) or the others."""
        sql = f"SELECT COUNT(*) FROM {self.quote(table)}"
        if keep is not None:
            sql += self._where(keep, negate=not kept)
        return int(self._scalar(sql))

    def sample(
        self, table: str, column: str, keep: str | None, limit: int
    ) -> list[tuple[Any, str]]:
        """Up to ``limit`` non-null ``(value, storage class)`` of a column in rows to destroy."""
        q = self.quote(column)
        where = self._where(keep, negate=True)
        where = (where + f" AND {q} IS NOT NULL") if where else f" WHERE {q} IS NOT NULL"
        kind = self.sql.storage_class(q)
        sql = f"SELECT {q}, {kind} FROM {self.quote(table)}{where} LIMIT {int(limit)}"
        return [(r[0], str(r[1])) for r in self._rows(sql)]

    def text_chunks(self, table: str, keep: str | None = None) -> Iterator[str]:
        """The table's cells as text, a chunk of rows at a time (``keep``: only rows it keeps)."""
        sql = f"SELECT * FROM {self.quote(table)}"
        if keep is not None:
            sql += self._where(keep, negate=False)
        yield from self._text_chunks(sql)

    @abstractmethod
    def _scalar(self, sql: str) -> Any: ...

    @abstractmethod
    def _rows(self, sql: str) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def _text_chunks(self, sql: str) -> Iterator[str]: ...

    @abstractmethod
    def destroy(self, drop: list[str], delete: dict[str, str]) -> Destroyed:
        """Drop ``drop`` and delete the rows of ``delete`` (table → keep filter) for good."""
        ...

    def destroy_whole(self, drop: list[str]) -> Destroyed:
        """Destroy a database every table of which goes (``drop``: all of them), by the
        dialect's whole-database method; where it has none, its table method."""
        return self.destroy(drop, {})

    def freeze(self, tables: list[str]) -> list[str]:
        """Withdraw general access to retained tables where the dialect allows; notes."""
        return []

    def residual_files(self) -> list[Path]:
        """Files whose raw bytes the verification searches (SQLite only)."""
        return []

    @abstractmethod
    def close(self) -> None:
        """Release connections."""


def _cell(v: Any) -> str:
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v).decode("utf-8", "replace")
    return str(v)


def _cells_text(rows: list[tuple[Any, ...]]) -> str:
    return "\x1f".join(_cell(v) for r in rows for v in r if v is not None)


class SQLiteDatabase(Database):
    """A SQLite file, opened read-write with the standard sqlite3 module."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise BadInput.msg("erase.no_sqlite", path=path)
        with path.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise BadInput.msg("erase.not_sqlite", path=path)
        self.path = path
        self.display = str(path)
        self.version = f"SQLite {sqlite3.sqlite_version}"
        self.con = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        self.encoding = str(self.con.execute("PRAGMA encoding").fetchone()[0])

    def tables(self) -> list[str]:
        from handover.db.reflect import sqlite_tables

        return sqlite_tables(self.con)

    def columns(self, table: str) -> list[str]:
        from handover.db.reflect import sqlite_columns

        return [c.name for c in sqlite_columns(self.con, table)]

    def _refused(self, exc: sqlite3.Error) -> BadInput:
        """The file's refusal as one line naming it (SQLite's messages hold no value)."""
        return BadInput.msg(
            "erase.db_error", db=self.display, error=type(exc).__name__, detail=_first(exc)
        )

    def _scalar(self, sql: str) -> Any:
        try:
            return self.con.execute(sql).fetchone()[0]
        except sqlite3.Error as exc:
            raise self._refused(exc) from None

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return [tuple(r) for r in self.con.execute(sql).fetchall()]
        except sqlite3.Error as exc:
            raise self._refused(exc) from None

    def _text_chunks(self, sql: str) -> Iterator[str]:
        cur = self.con.execute(sql)
        while rows := cur.fetchmany(CHUNK_ROWS):
            yield _cells_text([tuple(r) for r in rows])

    def needles(self, value: Any, storage: str) -> list[bytes]:
        """The byte forms ``value`` takes inside this file (text in its encoding, or integer)."""
        text = str(value)
        enc = {"UTF-8": "utf-8", "UTF-16le": "utf-16-le", "UTF-16be": "utf-16-be"}.get(
            self.encoding, "utf-8"
        )
        out = [text.encode(enc)]
        if storage == "integer":
            out.append(sqlite_int_bytes(int(value)))
        return out

    def residual_files(self) -> list[Path]:
        side = [Path(str(self.path) + s) for s in SQLITE_SIDE_FILES]
        return [self.path, *[p for p in side if p.exists()]]

    def destroy(self, drop: list[str], delete: dict[str, str]) -> Destroyed:
        out = Destroyed(bytes_before=_size(self.residual_files()))
        con = self.con

        def run(sql: str) -> Any:
            out.steps.append(sql)
            return con.execute(sql)

        from handover.db.dialects.sqlite import DIALECT as sql

        begin, end = sql.change_guard
        mode = ""
        try:  # before anything is destroyed: a refusal here changes nothing
            mode = str(con.execute("PRAGMA journal_mode").fetchone()[0]).lower()
            for stmt in sql.secure_delete_sql(mode):
                run(stmt)
            for table in drop:
                out.dropped[table] = int(
                    con.execute(f"SELECT COUNT(*) FROM {self.quote(table)}").fetchone()[0]
                )
            for stmt in begin:  # BEGIN IMMEDIATE: another writer's lock refuses it here
                run(stmt)
        except sqlite3.Error as exc:
            if mode:
                with contextlib.suppress(sqlite3.Error):  # the journal mode it had
                    for stmt in sql.restore_journal_sql(mode):
                        con.execute(stmt)
            raise self._refused(exc) from None
        try:
            for stmt in sql.drop_sql([self.quote(t) for t in drop]):
                run(stmt)
            for table, keep in delete.items():
                cur = run(f"DELETE FROM {self.quote(table)}{self._where(keep, negate=True)}")
                out.deleted[table] = int(cur.rowcount)
            for stmt in end:
                run(stmt)
        except sqlite3.Error as exc:
            con.execute("ROLLBACK")
            raise self._refused(exc) from None
        # Destroyed and committed. Reclaiming the freed pages and the journal can be
        # refused (another program holds the file): that is a note of the certificate,
        # and the verification that follows searches the files as they are.
        for stmt in [*sql.reclaim_sql([]), *sql.restore_journal_sql(mode)]:
            try:
                cur = run(stmt)
            except sqlite3.Error as exc:
                out.notes.append(f"not done: {stmt} ({type(exc).__name__}: {_first(exc)})")
                continue
            if stmt.startswith("PRAGMA wal_checkpoint") and (cur.fetchone() or (0,))[0]:
                out.notes.append(f"not done: {stmt} (busy: another connection reads the file)")
        out.bytes_after = _size(self.residual_files())
        return out

    def destroy_whole(self, drop: list[str]) -> Destroyed:
        """Every table of the file goes (``sqlite.overwrite``): under an exclusive lock the
        whole file is overwritten with zeros, read back and truncated (:func:`zero_fill`),
        then written again as an empty database with the header settings it had. One
        write of each page, where dropping table by table writes each freed page twice
        (a WAL frame, then the checkpoint), and free pages the file already had are
        overwritten too. Refused with nothing changed while another connection has the
        file open (it blocks the switch out of WAL mode or the exclusive lock)."""
        from handover.crypto.files import zero_fill

        out = Destroyed(bytes_before=_size(self.residual_files()))
        con = self.con

        def run(sql: str) -> Any:
            out.steps.append(sql)
            return con.execute(sql)

        mode = ""
        try:  # before anything is destroyed: a refusal here changes nothing
            mode = str(con.execute("PRAGMA journal_mode").fetchone()[0]).lower()
            header = {p: con.execute(f"PRAGMA {p}").fetchone()[0] for p in _HEADER_PRAGMAS}
            for table in drop:
                out.dropped[table] = int(
                    con.execute(f"SELECT COUNT(*) FROM {self.quote(table)}").fetchone()[0]
                )
            if mode == "wal":  # SQLite copies the WAL into the file and removes it
                got = str(run("PRAGMA journal_mode=DELETE").fetchone()[0]).lower()
                if got != "delete":
                    raise sqlite3.OperationalError("database is locked")
            run("PRAGMA locking_mode=EXCLUSIVE")
            run("BEGIN EXCLUSIVE")  # held until the connection closes
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                if con.in_transaction:
                    con.execute("ROLLBACK")
                con.execute("PRAGMA locking_mode=NORMAL")
                if mode == "wal":
                    con.execute("PRAGMA journal_mode=WAL")
            raise self._refused(exc) from None
        fds: list[int] = []
        try:
            for path in [self.path, Path(str(self.path) + "-journal")]:
                if path.is_file():
                    fds.append(os.open(path, os.O_RDWR))
                    size, same = zero_fill(fds[-1])
                    out.steps.append(f"zero {path.name}: {size} bytes, fsync, read back, truncate")
                    out.readback_ok = out.readback_ok and same
        except OSError as exc:
            raise BadInput.msg(
                "erase.db_error",
                db=self.display,
                error=type(exc).__name__,
                detail=exc.strerror or "",
            ) from None
        finally:
            con.close()  # first: closing any descriptor of the file ends SQLite's lock
            for fd in fds:
                os.close(fd)
        self.con = con = sqlite3.connect(str(self.path), isolation_level=None, timeout=30)
        for name, value in header.items():  # page 1 is written by the last of them
            run(f"PRAGMA {name}={_pragma_value(value)}")
        if mode == "wal":  # the one journal mode a file keeps
            run("PRAGMA journal_mode=WAL")
        out.bytes_after = _size(self.residual_files())
        return out

    def close(self) -> None:
        self.con.close()


#: header settings an emptied file keeps, in the order they must be set (page size and
#: encoding only before page 1 exists; the last one writes it)
_HEADER_PRAGMAS = ("page_size", "encoding", "auto_vacuum", "application_id", "user_version")


def _pragma_value(value: Any) -> str:
    """A header setting as a pragma's argument (the encoding is a quoted name)."""
    return str(int(value)) if isinstance(value, int) else "'" + str(value).replace("'", "") + "'"


def _first(exc: BaseException) -> str:
    """The first line of a driver's message (SQLite's hold no value: "database is locked")."""
    return (str(exc).splitlines() or [""])[0][:200]


def sqlite_int_bytes(value: int) -> bytes:
    """The big-endian two's-complement form SQLite's record format stores ``value`` in."""
    for size in (1, 2, 3, 4, 6, 8):
        lo, hi = -(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1
        if lo <= value <= hi:
            return (value & ((1 << (8 * size)) - 1)).to_bytes(size, "big")
    return struct.pack(">q", value)


def _size(paths: list[Path]) -> int:
    return sum(p.stat().st_size for p in paths if p.exists())


class ServerDatabase(Database):
    """A PostgreSQL or MariaDB/MySQL database reached by URL (SQLAlchemy)."""

    def __init__(self, url: str) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from handover.db.connect import Wording, connect, failure
        from handover.db.url import backend, mask

        self.url = url
        self.display = mask(url)
        if backend(url) not in ("postgresql", "mysql"):
            raise BadInput.msg("erase.db_unsupported", db=self.display)
        words = Wording("erase.connect", "erase.connect")
        self.engine: Engine = connect(url, wording=words)
        try:
            with self.engine.connect() as conn:
                self.dialect = self.engine.dialect.name
                version, schema = self.sql.identity_sql
                self.version = str(conn.exec_driver_sql(version).scalar())
                self.schema = str(conn.exec_driver_sql(schema).scalar())
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise failure(exc, url, words) from None
        if "mariadb" in self.version.lower():
            self.dialect = "mariadb"
        self.version = self.version.split(" on ")[0][:120]

    def tables(self) -> list[str]:
        from handover.db.reflect import Catalog

        return sorted(Catalog(self.engine).table_names(schema=self.schema))

    def columns(self, table: str) -> list[str]:
        from handover.db.reflect import Catalog

        return Catalog(self.engine).column_names(table, schema=self.schema)

    def _exec(self, conn: Connection, sql: str) -> Any:
        import sqlalchemy as sa
        from sqlalchemy.exc import SQLAlchemyError

        try:
            return conn.execute(sa.text(sql))
        except SQLAlchemyError as exc:
            reason = _first(getattr(exc, "orig", None) or exc)
            raise BadInput.msg("erase.db_said", db=self.display, detail=reason) from None

    def _scalar(self, sql: str) -> Any:
        with self.engine.connect() as conn:
            return self._exec(conn, sql).scalar()

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in self._exec(conn, sql).all()]

    def _text_chunks(self, sql: str) -> Iterator[str]:
        with self.engine.connect() as conn:
            res = self._exec(conn, sql)
            while rows := res.fetchmany(CHUNK_ROWS):
                yield _cells_text([tuple(r) for r in rows])

    def destroy(self, drop: list[str], delete: dict[str, str]) -> Destroyed:
        out = Destroyed()
        sql = self.sql

        with self.engine.begin() as conn:

            def run(stmt: str) -> Any:
                out.steps.append(stmt)
                return self._exec(conn, stmt)

            for table in drop:
                out.dropped[table] = int(
                    self._exec(conn, f"SELECT COUNT(*) FROM {self.quote(table)}").scalar() or 0
                )
            begin, end = sql.change_guard
            for stmt in [*begin, *sql.drop_sql([self.quote(t) for t in drop])]:
                run(stmt)
            # Deletes after the drops: dropped tables no longer hold references to these rows.
            for table, keep in delete.items():
                out.deleted[table] = int(
                    run(f"DELETE FROM {self.quote(table)}{self._where(keep, negate=True)}").rowcount
                )
            for stmt in end:
                run(stmt)
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # Rewrite the tables so deleted tuples/rows leave their data files.
            for stmt in sql.reclaim_sql([self.quote(t) for t in delete]):
                out.steps.append(stmt)
                res = self._exec(conn, stmt)
                if res.returns_rows:
                    res.all()
            if sql.flush_sql is not None:
                out.steps.append(sql.flush_sql)
                try:
                    self._exec(conn, sql.flush_sql)
                except BadInput:
                    out.notes.append("checkpoint_denied")
        return out

    def freeze(self, tables: list[str]) -> list[str]:
        statements = [s for s in (self.sql.freeze_sql(self.quote(t)) for t in tables) if s]
        if not statements:
            return []
        notes: list[str] = []
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for sql in statements:
                try:
                    self._exec(conn, sql)
                    notes.append(sql)
                except BadInput:
                    notes.append(f"-- not permitted: {sql}")
        return notes

    def close(self) -> None:
        self.engine.dispose()


def open_database(spec: str) -> Database:
    """The source named by ``spec``: a SQLite file or a PostgreSQL/MariaDB URL."""
    from handover.db.url import sqlite_path

    path = sqlite_path(spec)
    return SQLiteDatabase(path) if path is not None else ServerDatabase(spec)
