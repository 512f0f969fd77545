"""The writer side: bulk paths per target engine, one transaction per batch, bisection.

- PostgreSQL: ``COPY … FROM STDIN (FORMAT csv)`` fed by pyarrow's CSV writer (vectorised;
  BYTEA as ``\\x`` hex built with numpy).
- MariaDB/MySQL: ``executemany`` of one INSERT, which PyMySQL rewrites into multi-row
  INSERTs of up to ~1 MB each.
- SQLite: ``executemany`` inside an explicit ``BEGIN`` … ``COMMIT``.

The caller opens a transaction, inserts a batch, writes its checkpoint and commits: the
batch and the checkpoint land together or not at all. When a batch fails with a data
error the caller bisects it under savepoints to isolate the rows the target refuses.
"""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import sqlalchemy as sa

from handover.db.dialects import family
from handover.db.reflect import ColumnDef, TableDef
from handover.migrate import spelling

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)

# MySQL/MariaDB errors that say nothing about the row: retrying later can help.
_MYSQL_TRANSIENT = {1040, 1053, 1205, 1213, 1317, 2002, 2003, 2006, 2013, 2014, 2055}


def bytea_hex(arr: pa.Array) -> pa.Array:
    """Binary values as PostgreSQL ``\\x…`` hex text, built without a per-value loop."""
    arr = pc.cast(arr, pa.large_binary())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    valid = arr.is_valid()
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.empty(0, np.uint8)
    body = data[offsets[0] : offsets[-1]]
    hexed = np.empty(2 * len(body), dtype=np.uint8)
    hexed[0::2] = _HEX[body >> 4]
    hexed[1::2] = _HEX[body & 15]
    lengths = np.diff(offsets)
    out_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(2 * lengths + 2, out=out_offsets[1:])
    out = np.empty(int(out_offsets[-1]), dtype=np.uint8)
    prefix = out_offsets[:-1]
    keep = np.ones(len(out), dtype=bool)
    keep[prefix] = False
    keep[prefix + 1] = False
    out[prefix] = ord("\\")
    out[prefix + 1] = ord("x")
    out[keep] = hexed
    strings = pa.LargeStringArray.from_buffers(n, pa.py_buffer(out_offsets), pa.py_buffer(out))
    return pc.if_else(valid, strings, pa.scalar(None, pa.large_string()))


def _as_text_values(arr: pa.Array, col: ColumnDef, fam: str) -> list[Any]:
    """Python values a DB-API driver binds fast: text for decimals and temporals.

    Into SQLite a date/time is text: a SQLite source's stored text unchanged, a typed
    value in the column's spelling (the source's own, else the default). MariaDB's
    ``DATETIME(6)``/``TIME(6)`` get every fractional digit.
    """
    kind = col.kind
    if kind in spelling.TEMPORAL:
        if spelling.as_text(col, fam):
            return arr.to_pylist()  # type: ignore[no-any-return]
        if col.stored_text:  # SQLite text in one spelling, into a typed column
            arr = spelling.parse(arr, kind)[0]
        shape = col.spelling if fam == "sqlite" else _FULL[kind]
        return spelling.render(arr, kind, shape).to_pylist()  # type: ignore[no-any-return]
    if kind == "decimal" and not pa.types.is_string(arr.type):
        return pc.cast(arr, pa.string()).to_pylist()  # type: ignore[no-any-return]
    if kind == "bool" and fam == "sqlite":
        return pc.cast(arr, pa.int8()).to_pylist()  # type: ignore[no-any-return]
    return arr.to_pylist()  # type: ignore[no-any-return]


#: the spelling of MariaDB's DATETIME(6) / TIME(6) values: all six fractional digits
_FULL = {
    "date": "YYYY-MM-DD",
    "time": "HH:MM:SS.ffffff",
    "timestamp": "YYYY-MM-DD HH:MM:SS.ffffff",
    "timestamptz": "YYYY-MM-DD HH:MM:SS.ffffff",
}


#: significant digits a REAL keeps exactly; SQLite's NUMERIC affinity stores a decimal
#: that is not a 64-bit integer as a REAL
SQLITE_EXACT_DIGITS = 15
SQLITE_INEXACT = "SQLite would keep only 15 significant digits of this decimal (REAL)"
_INT64_MAX = str(2**63 - 1)
_INT64_MIN_ABS = str(2**63)
_INT53 = str(2**53)


def sqlite_inexact(table: TableDef, batch: pa.RecordBatch) -> dict[int, str]:
    """Rows (index → column) holding a decimal that SQLite would not store exactly.

    A decimal bound as text lands in a NUMERIC column as an INTEGER when it is an
    integer literal within 64 bits, or a literal with a point whose value is an integer
    a double holds exactly (|v| ≤ 2^53); otherwise as a REAL, which keeps 15
    significant digits. A row that would be rounded is refused instead.
    """
    out: dict[int, str] = {}
    for i, col in enumerate(table.columns):
        arr = batch.column(i)
        if col.kind != "decimal" or arr.null_count == len(arr):
            continue
        text = arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())
        parts = pc.extract_regex(text, r"^[-+]?(?P<i>\d*)(?P<p>\.?)(?P<f>\d*)$")
        whole, point, frac = (pc.struct_field(parts, n) for n in ("i", "p", "f"))
        digits = pc.utf8_rtrim(
            pc.utf8_ltrim(pc.binary_join_element_wise(whole, frac, ""), "0"), "0"
        )
        many = pc.greater(pc.utf8_length(digits), SQLITE_EXACT_DIGITS)
        if not pc.any(many).as_py():
            continue
        whole = pc.utf8_ltrim(whole, "0")
        size = pc.utf8_length(whole)
        limit = pc.if_else(pc.starts_with(text, "-"), _INT64_MIN_ABS, _INT64_MAX)
        int64 = pc.and_(
            pc.equal(point, ""),
            pc.or_(pc.less(size, 19), pc.and_(pc.equal(size, 19), pc.less_equal(whole, limit))),
        )
        int53 = pc.and_(
            pc.equal(pc.utf8_rtrim(frac, "0"), ""),
            pc.or_(pc.less(size, 16), pc.and_(pc.equal(size, 16), pc.less_equal(whole, _INT53))),
        )
        lossy = pc.fill_null(pc.and_(many, pc.invert(pc.or_(int64, int53))), False)
        for r in np.flatnonzero(lossy.to_numpy(zero_copy_only=False)):
            out.setdefault(int(r), col.name)
    return out


class TargetWriter:
    """A raw DB-API connection to the target with the bulk path of its engine."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.family = family(engine.dialect.name)
        self._raw = engine.raw_connection()
        self.dbapi: Any = self._raw.driver_connection
        assert self.dbapi is not None
        self._prep = engine.dialect.identifier_preparer
        self.ph = "?" if self.family == "sqlite" else "%s"
        if self.family == "sqlite":
            self.dbapi.isolation_level = None  # we issue BEGIN/COMMIT ourselves
            self.execute("PRAGMA foreign_keys=OFF")
        elif self.family == "postgresql":
            self.dbapi.autocommit = False
            # A server crash loses at most the last transactions, batch and checkpoint
            # together, so the state stays consistent; waiting for the WAL flush buys nothing.
            self.execute("SET synchronous_commit = off")
            self.commit()
        else:
            self.dbapi.autocommit(False)
            self.execute(
                "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
                "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO'"
            )
            self.execute("SET SESSION time_zone = '+00:00'")
            self.execute("SET SESSION foreign_key_checks = 0")
            self.commit()

    def q(self, name: str) -> str:
        """``name`` quoted for the target, as SQL run without parameters reads it (the
        preparer doubles a "%" for drivers with ``%s`` parameters: not wanted here)."""
        p = self._prep
        return f"{p.initial_quote}{name.replace(p.escape_quote, p.escape_to_quote)}{p.final_quote}"

    # --- transactions --------------------------------------------------------------------

    def begin(self) -> None:
        """Open a transaction (implicit on PostgreSQL and MariaDB)."""
        if self.family == "sqlite":
            self.execute("BEGIN")

    def commit(self) -> None:
        """Commit the open transaction."""
        if self.family == "sqlite":
            if self.dbapi.in_transaction:
                self.execute("COMMIT")
        else:
            self.dbapi.commit()

    def rollback(self) -> None:
        """Roll the open transaction back."""
        if self.family == "sqlite":
            if self.dbapi.in_transaction:
                self.execute("ROLLBACK")
        else:
            self.dbapi.rollback()

    def savepoint(self, name: str) -> None:
        """Set a savepoint inside the open transaction."""
        self.execute(f"SAVEPOINT {name}")

    def rollback_to(self, name: str) -> None:
        """Undo everything since savepoint ``name``; the transaction stays open."""
        self.execute(f"ROLLBACK TO SAVEPOINT {name}")

    def release(self, name: str) -> None:
        """Forget savepoint ``name`` (keeping its work)."""
        self.execute(f"RELEASE SAVEPOINT {name}")

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] | None = None) -> list[Any]:
        """Run one statement; the rows it returns (if any)."""
        cur = self.dbapi.cursor()
        try:
            if params is None:
                cur.execute(sql)
            else:
                cur.execute(sql, params)
            if cur.description is not None:
                return list(cur.fetchall())
            return []
        finally:
            cur.close()

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Run ``sql`` for every row, batched by the driver."""
        cur = self.dbapi.cursor()
        try:
            cur.executemany(sql, rows)
        finally:
            cur.close()

    # --- bulk insert -----------------------------------------------------------------------

    def insert(self, table: TableDef, batch: pa.RecordBatch) -> None:
        """Append ``batch`` to ``table`` inside the open transaction (raises on refusal)."""
        if batch.num_rows == 0:
            return
        cols = ", ".join(self.q(c) for c in table.column_names)
        if self.family == "postgresql":
            self._copy(table, batch, cols)
            return
        values = [
            _as_text_values(batch.column(i), c, self.family) for i, c in enumerate(table.columns)
        ]
        rows = list(zip(*values, strict=True))
        marks = ", ".join([self.ph] * len(table.columns))
        head = f"INSERT INTO {self.q(table.name)} ({cols})"
        if self.ph == "%s":  # with parameters, a literal "%" (in a name) is doubled
            head = head.replace("%", "%%")
        self.executemany(f"{head} VALUES ({marks})", rows)

    def _copy(self, table: TableDef, batch: pa.RecordBatch, cols: str) -> None:
        arrays = []
        for i, c in enumerate(table.columns):
            arr = batch.column(i)
            if c.kind == "binary":
                arr = bytea_hex(arr)
            arrays.append(arr)
        names = [f"c{i}" for i in range(len(arrays))]
        buf = io.BytesIO()
        pcsv.write_csv(
            pa.RecordBatch.from_arrays(arrays, names=names),
            buf,
            pcsv.WriteOptions(include_header=False, quoting_style="needed"),
        )
        cur = self.dbapi.cursor()
        try:
            with cur.copy(f"COPY {self.q(table.name)} ({cols}) FROM STDIN (FORMAT csv)") as cp:
                cp.write(buf.getbuffer())
        finally:
            cur.close()

    # --- errors ------------------------------------------------------------------------------

    def is_data_error(self, exc: BaseException) -> bool:
        """True if ``exc`` is the target refusing the rows (bisect), not a lost connection."""
        if self.family == "postgresql":
            import psycopg

            return isinstance(exc, psycopg.errors.DataError | psycopg.errors.IntegrityError)
        if self.family == "sqlite":
            import sqlite3

            return isinstance(exc, sqlite3.IntegrityError | sqlite3.DataError)
        import pymysql

        if not isinstance(exc, pymysql.err.MySQLError):
            return False
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        if code in _MYSQL_TRANSIENT or code >= 2000 or code == 0:
            return False
        return isinstance(
            exc,
            pymysql.err.DataError
            | pymysql.err.IntegrityError
            | pymysql.err.InternalError
            | pymysql.err.OperationalError,
        )

    def describe(self, exc: BaseException, table: TableDef) -> tuple[str, str]:
        """(column, reason) for a refused row, with every value masked out of the reason."""
        msg = str(exc)
        column = ""
        code = ""
        if self.family == "postgresql":
            diag = getattr(exc, "diag", None)
            code = str(getattr(exc, "sqlstate", "") or "")
            if diag is not None:
                column = diag.column_name or ""
                msg = diag.message_primary or msg
                ctx = diag.context or ""
                m = re.search(r"column ([^\s:,]+)", ctx)
                if not column and m:
                    column = m.group(1).strip('"')
        elif self.family == "mysql":
            if exc.args and isinstance(exc.args[0], int):
                code = str(exc.args[0])
                msg = str(exc.args[1]) if len(exc.args) > 1 else msg
            m = re.search(r"column [`']([^`']+)[`']", msg)
            column = m.group(1) if m else ""
        else:
            m = re.search(r"failed: [^.]+\.(\S+)", msg)
            column = m.group(1) if m else ""
        if column and column not in table.column_names:
            column = ""
        reason = sanitize(msg)
        return column, f"{reason} [{code}]" if code else reason

    def close(self) -> None:
        """Roll back anything open and close the connection."""
        try:
            self.rollback()
        except Exception:
            pass
        finally:
            self._raw.close()


def sanitize(message: str) -> str:
    """A database error message with every quoted or keyed value replaced by ``…``."""
    s = message.strip().splitlines()[0] if message.strip() else "refused"
    s = re.sub(r"=\(.*?\)( |$)", r"=(…)\1", s)
    s = re.sub(r"'(?:[^'\\]|\\.)*'", "'…'", s)
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '"…"', s)
    s = re.sub(r"\d{6,}", "#", s)
    return s[:200]
