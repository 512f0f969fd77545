"""The writer side: the target's bulk path, one transaction per batch, bisection.

The bulk path is the target dialect's (:mod:`handover.db.dialects`): ``COPY … FROM
STDIN`` on PostgreSQL, ``executemany`` of one INSERT elsewhere (PyMySQL rewrites it into
multi-row INSERTs; SQLite runs it inside an explicit ``BEGIN`` … ``COMMIT``). Here: the
values as the driver binds them fast, the transactions and savepoints, and refusals
described without the values.

The caller opens a transaction, inserts a batch, writes its checkpoint and commits: the
batch and the checkpoint land together or not at all. When a batch fails with a data
error the caller bisects it under savepoints to isolate the rows the target refuses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from handover.db import dialects
from handover.db.dialects import family
from handover.db.reflect import ColumnDef, TableDef
from handover.migrate import spelling


def bound_values(arr: pa.Array, col: ColumnDef, fam: str) -> pa.Array:
    """The values as a DB-API driver binds them fast (Arrow; the driver gets them as
    Python values, a bulk loader as text): text for decimals and temporals.

    Into SQLite a date/time is text: a SQLite source's stored text unchanged, a typed
    value in the column's spelling (the source's own, else the default). MariaDB's
    ``DATETIME(6)``/``TIME(6)`` get every fractional digit.
    """
    kind = col.kind
    if kind in spelling.TEMPORAL:
        if spelling.as_text(col, fam):
            return arr
        if col.stored_text:  # SQLite text in one spelling, into a typed column
            arr = spelling.parse(arr, kind)[0]
        shape = col.spelling if fam == "sqlite" else _FULL[kind]
        return spelling.render(arr, kind, shape)
    if kind == "decimal" and not pa.types.is_string(arr.type):
        return pc.cast(arr, pa.string())
    if kind == "bool" and fam == "sqlite":
        return pc.cast(arr, pa.int8())
    return arr


def typed_values(arr: pa.Array, col: ColumnDef, fam: str) -> pa.Array:
    """The values as a binary bulk path takes them (``Dialect.binds_typed``): as read,
    but a SQLite source's date/time text parsed into its kind (where the target column
    is typed: see :func:`bound_values`)."""
    if col.kind in spelling.TEMPORAL and col.stored_text and not spelling.as_text(col, fam):
        return spelling.parse(arr, col.kind)[0]
    return arr


#: the spelling of MariaDB's DATETIME(6) / TIME(6) values: all six fractional digits
_FULL = {
    "date": "YYYY-MM-DD",
    "time": "HH:MM:SS.ffffff",
    "timestamp": "YYYY-MM-DD HH:MM:SS.ffffff",
    "timestamptz": "YYYY-MM-DD HH:MM:SS.ffffff",
}


class TargetWriter:
    """A raw DB-API connection to the target with the bulk path of its engine.

    ``bulk``: the dialect's own bulk connection where it has one
    (``Dialect.bulk_connection``: ADBC's into a PostgreSQL server, and into a SQLite file
    when the run has its process to itself, ``own_process``), which may keep the engine
    from connecting until :meth:`close` — a writer of the copy phase, not of DDL. A table
    that connection cannot write (``Dialect.bulk_ok``) is written through the engine's
    own driver: :meth:`use` picks the connection before each table.
    """

    def __init__(self, engine: sa.Engine, *, bulk: bool = False, own_process: bool = False) -> None:
        self.engine = engine
        self.sql = dialects.get(engine.dialect.name)
        self.family = family(engine.dialect.name)
        self.ph = self.sql.placeholder
        #: the connections: the bulk one (and its closing), the engine's (pool-detached)
        self._own: tuple[Any, Callable[[], None]] | None = None
        self._raw: Any = None
        self._driver: Any = None
        self.dbapi: Any = None
        #: a transaction this writer began is open (for drivers that do not say)
        self._open = False
        try:
            self._own = self.sql.bulk_connection(engine, own_process=own_process) if bulk else None
            self._activate(self._own[0] if self._own else self._engine_connection(), new=True)
        except BaseException:
            self.close()  # an own connection also gives the engine back its file
            raise

    def _engine_connection(self) -> Any:
        self._raw = self.engine.raw_connection()
        self._driver = self._raw.driver_connection
        # the session settings stay with this writer: its connection leaves the pool
        # (closed by close()), so the engine never hands them to another user —
        # MariaDB's foreign_key_checks = 0 once let a key be added unchecked
        self._raw.detach()
        return self._driver

    def _activate(self, dbapi: Any, *, new: bool) -> None:
        """Write through ``dbapi`` from now on (``new``: just opened, set up for writing)."""
        self.dbapi = dbapi
        #: BEGIN/COMMIT are statements (SQLite; a bulk connection is in autocommit mode)
        self.explicit = self.sql.explicit_transactions or (
            self._own is not None and dbapi is self._own[0]
        )
        if not new:
            return
        statements = self.sql.prepare_writes(dbapi)
        for stmt in statements:
            self.execute(stmt)
        if statements and not self.explicit:
            self.commit()

    def use(self, table: TableDef) -> None:
        """Write ``table`` through the bulk connection if it can (``Dialect.bulk_ok``),
        else through the engine's own; between transactions only."""
        if self._own is None:
            return
        want = self._own[0] if self.sql.bulk_ok(table) else self._driver
        if want is not None and want is self.dbapi:
            return
        assert not self._open, "a writer changes connections between transactions only"
        if want is None:
            self._activate(self._engine_connection(), new=True)
        else:
            self._activate(want, new=False)

    def q(self, name: str) -> str:
        """``name`` quoted for the target, as SQL run without parameters reads it."""
        return self.sql.quote(name)

    # --- transactions --------------------------------------------------------------------

    def begin(self) -> None:
        """Open a transaction (implicit where the driver opens one itself)."""
        if self.explicit:
            self.execute("BEGIN")
            self._open = True

    def _in_transaction(self) -> bool:
        return bool(getattr(self.dbapi, "in_transaction", self._open))

    def commit(self) -> None:
        """Commit the open transaction."""
        if self.explicit:
            if self._in_transaction():
                self.execute("COMMIT")
            self._open = False
        else:
            self.dbapi.commit()

    def rollback(self) -> None:
        """Roll the open transaction back."""
        if self.explicit:
            if self._in_transaction():
                self._open = False
                try:
                    self.execute("ROLLBACK")
                except Exception as exc:
                    # SQLite may have rolled back by itself (a full disk, an I/O error);
                    # a driver that does not say so then refuses the statement
                    if "no transaction is active" not in str(exc):
                        raise
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
        """Run one statement (``ph`` marks its parameters); the rows it returns (if any)."""
        cur = self.dbapi.cursor()
        try:
            if params is None:
                cur.execute(sql)
            else:
                cur.execute(self.sql.params_sql(self.dbapi, sql), params)
            if cur.description is not None:
                return list(cur.fetchall())
            return []
        finally:
            cur.close()

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Run ``sql`` for every row, batched by the driver."""
        cur = self.dbapi.cursor()
        try:
            cur.executemany(self.sql.params_sql(self.dbapi, sql), rows)
        finally:
            cur.close()

    # --- bulk insert -----------------------------------------------------------------------

    def insert(self, table: TableDef, batch: pa.RecordBatch) -> None:
        """Append ``batch`` to ``table`` inside the open transaction (raises on refusal)."""
        if batch.num_rows == 0:
            return

        convert = typed_values if self.sql.binds_typed(self.dbapi) else bound_values

        def bound(part: pa.RecordBatch) -> list[pa.Array]:
            return [convert(part.column(i), c, self.family) for i, c in enumerate(table.columns)]

        self.sql.bulk_insert(
            self.dbapi,
            table.name,
            list(table.column_names),
            batch,
            [c.kind for c in table.columns],
            bound,
        )

    # --- errors ------------------------------------------------------------------------------

    def is_data_error(self, exc: BaseException) -> bool:
        """True if ``exc`` is the target refusing the rows (bisect), not a lost connection."""
        return self.sql.is_data_error(exc)

    def describe(self, exc: BaseException, table: TableDef) -> tuple[str, str]:
        """(column, reason) for a refused row, with every value masked out of the reason."""
        column, msg, code = self.sql.describe_error(exc)
        if column and column not in table.column_names:
            column = ""
        reason = sanitize(msg)
        return column, f"{reason} [{code}]" if code else reason

    def close(self) -> None:
        """Roll back anything open and close the connections."""
        try:
            if self.dbapi is not None:
                self.rollback()
        except Exception:
            pass
        finally:
            try:
                if self._raw is not None:
                    self._raw.close()
            finally:
                if self._own is not None:
                    self._own[1]()


def sanitize(message: str) -> str:
    """A database error message with every quoted or keyed value replaced by ``…``."""
    s = message.strip().splitlines()[0] if message.strip() else "refused"
    s = re.sub(r"=\(.*?\)( |$)", r"=(…)\1", s)
    # a character the target's encoding lacks, or bytes that are no character, are told
    # by their bytes: part of the value
    s = re.sub(r"\b0x[0-9a-fA-F]{2}(?: 0x[0-9a-fA-F]{2})*", "…", s)
    s = re.sub(r"'(?:[^'\\]|\\.)*'", "'…'", s)
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '"…"', s)
    s = re.sub(r"\d{6,}", "#", s)
    return s[:200]
