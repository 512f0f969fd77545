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
    (``Dialect.bulk_connection``: ADBC's into a SQLite file), which may keep the engine
    from connecting until :meth:`close` — a writer of the copy phase, not of DDL.
    """

    def __init__(self, engine: sa.Engine, *, bulk: bool = False) -> None:
        self.engine = engine
        self.sql = dialects.get(engine.dialect.name)
        self.family = family(engine.dialect.name)
        own = self.sql.bulk_connection(engine) if bulk else None
        self._raw: Any = None
        self._close_own: Callable[[], None] | None = None
        if own is not None:
            self.dbapi, self._close_own = own
        else:
            self._raw = engine.raw_connection()
            # the session settings below stay with this writer: its connection leaves the
            # pool (closed by close()), so the engine never hands them to another user —
            # MariaDB's foreign_key_checks = 0 once let a key be added unchecked
            self.dbapi = self._raw.driver_connection
            self._raw.detach()
        assert self.dbapi is not None
        #: a transaction this writer began is open (for drivers that do not say)
        self._open = False
        self.ph = self.sql.placeholder
        try:
            statements = self.sql.prepare_writes(self.dbapi)
            for stmt in statements:
                self.execute(stmt)
            if statements and not self.sql.explicit_transactions:
                self.commit()
        except BaseException:
            self.close()  # an own connection also gives the engine back its file
            raise

    def q(self, name: str) -> str:
        """``name`` quoted for the target, as SQL run without parameters reads it."""
        return self.sql.quote(name)

    # --- transactions --------------------------------------------------------------------

    def begin(self) -> None:
        """Open a transaction (implicit where the driver opens one itself)."""
        if self.sql.explicit_transactions:
            self.execute("BEGIN")
            self._open = True

    def _in_transaction(self) -> bool:
        return bool(getattr(self.dbapi, "in_transaction", self._open))

    def commit(self) -> None:
        """Commit the open transaction."""
        if self.sql.explicit_transactions:
            if self._in_transaction():
                self.execute("COMMIT")
            self._open = False
        else:
            self.dbapi.commit()

    def rollback(self) -> None:
        """Roll the open transaction back."""
        if self.sql.explicit_transactions:
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

        def bound(part: pa.RecordBatch) -> list[pa.Array]:
            return [
                bound_values(part.column(i), c, self.family) for i, c in enumerate(table.columns)
            ]

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
        """Roll back anything open and close the connection."""
        try:
            self.rollback()
        except Exception:
            pass
        finally:
            if self._close_own is not None:
                self._close_own()
            else:
                self._raw.close()


def sanitize(message: str) -> str:
    """A database error message with every quoted or keyed value replaced by ``…``."""
    s = message.strip().splitlines()[0] if message.strip() else "refused"
    s = re.sub(r"=\(.*?\)( |$)", r"=(…)\1", s)
    s = re.sub(r"'(?:[^'\\]|\\.)*'", "'…'", s)
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '"…"', s)
    s = re.sub(r"\d{6,}", "#", s)
    return s[:200]
