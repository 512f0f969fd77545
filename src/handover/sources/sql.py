"""Database sources: SQLite (sqlite3 fast path), PostgreSQL (COPY TO), MySQL/MariaDB.

Each streams Arrow RecordBatches whose schema follows the declared column types. Rows
are turned into Arrow column by column (``zip(*rows)`` then ``pa.array``), never cell by
cell in Python; PostgreSQL streams ``COPY … TO STDOUT (FORMAT csv)`` straight into
pyarrow's CSV reader (``bytea`` travels as hex and is decoded back to bytes in bulk).

Every SQL source also reads in key order from a given key (keyset pagination:
``WHERE (k1, k2) > (:last) ORDER BY k1, k2 LIMIT n``, one short statement per page), as
Arrow batches (``batches(order_by=…, after=…)``) or as the driver's own values
(:meth:`SqlSource.rows`, which ``handover.migrate`` converts with its own type rules).
"""

from __future__ import annotations

import abc
import io
import re
import secrets
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from handover.db.connect import Wording
from handover.db.reflect import sqlite_columns, sqlite_tables
from handover.errors import BadInput
from handover.i18n import Msg
from handover.sources.base import DEFAULT_BATCH, ColumnInfo, Source, TableInfo

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: how a database source that does not answer is told
WORDING = Wording("sources.unreachable", "sources.unreachable")


def _sample_fraction(rows: int, n: int) -> float:
    return 1.0 if rows <= n else min(1.0, 1.3 * n / rows + 0.001)


#: fetches one page of rows: (SQL, parameters) → rows
Fetch = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


def keyset_sql(
    select: str, keys: Sequence[str], placeholder: str, *, after: bool, limit: int
) -> str:
    """``select`` ordered by the SQL expressions ``keys``, at most ``limit`` rows, and (when
    ``after``) only rows whose key is greater than one placeholder per key."""
    where = ""
    if after:
        marks = ", ".join([placeholder] * len(keys))
        where = (
            f" WHERE {keys[0]} > {marks}"
            if len(keys) == 1
            else f" WHERE ({', '.join(keys)}) > ({marks})"
        )
    return f"{select}{where} ORDER BY {', '.join(keys)} LIMIT {int(limit)}"


def _rows_to_batch(rows: list[tuple[Any, ...]], schema: pa.Schema, where: Msg) -> pa.RecordBatch:
    """Transpose DB-API rows into one RecordBatch of ``schema`` (column-wise conversion);
    values after the schema's columns (keys read for ordering) are left out."""
    if not rows:
        return schema.empty_table().to_batches()[0] if schema else pa.record_batch([])
    cols = list(zip(*rows, strict=True))[: len(schema)]
    arrays = []
    for field, values in zip(schema, cols, strict=True):
        try:
            arrays.append(pa.array(values, type=field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
            arrays.append(_coerce(values, field, where))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _coerce(values: tuple[Any, ...], field: pa.Field, where: Msg) -> pa.Array:
    # Slow path, only for a batch whose values do not fit the declared type.
    if pa.types.is_binary(field.type):
        # SQLite keeps numbers in BLOB columns too: their text form, as CAST(x AS BLOB) does.
        raw = [v if v is None or isinstance(v, bytes) else str(v).encode("utf-8") for v in values]
        return pa.array(raw, type=field.type)
    if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
        conv = [
            None
            if v is None
            else bytes(v).decode("utf-8", "replace")
            if isinstance(v, bytes | bytearray | memoryview)
            else str(v)
            for v in values
        ]
        return pa.array(conv, type=field.type)
    try:
        return pa.array(values).cast(field.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        raise BadInput.msg(
            "sources.bad_type", where=where, column=field.name, type=str(field.type)
        ) from None


def _arrow_type_of(sa_type: Any, dialect: str) -> pa.DataType:
    """The Arrow type a reflected SQLAlchemy column type streams as."""
    from sqlalchemy import types as st

    if isinstance(sa_type, st.Boolean):
        return pa.bool_()
    if isinstance(sa_type, st.Integer):
        return pa.int64()
    if isinstance(sa_type, st.Float):
        return pa.float64()
    if isinstance(sa_type, st.Numeric):
        p, s = sa_type.precision, sa_type.scale
        if p and 0 < p <= 38:
            return pa.decimal128(p, s or 0)
        return pa.string()
    if isinstance(sa_type, st.DateTime):
        return pa.timestamp("us", tz="UTC" if getattr(sa_type, "timezone", False) else None)
    if isinstance(sa_type, st.Date):
        return pa.date32()
    if isinstance(sa_type, st._Binary):
        return pa.binary()  # PostgreSQL: COPY sends hex, decoded back by _unhex
    return pa.string()


def _unhex(arr: pa.Array, where: Msg) -> pa.Array:
    """Hex text (PostgreSQL ``encode(bytea, 'hex')``) → the bytes, decoded with numpy."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.string())
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + n + 1]
    start, stop = int(offsets[0]), int(offsets[-1])
    data = arr.buffers()[2]
    chars = np.frombuffer(data, dtype=np.uint8)[start:stop] if data is not None else np.zeros(0)
    nibbles = _HEX[chars.astype(np.uint8)]
    rel = offsets - start
    if (rel % 2).any() or (nibbles > 15).any():
        raise BadInput.msg("sources.bad_hex", where=where)
    out = (nibbles[0::2] << 4) | nibbles[1::2]
    validity = _validity(arr) if arr.null_count else None
    return pa.Array.from_buffers(
        pa.binary(),
        n,
        [validity, pa.py_buffer((rel // 2).astype(np.int32)), pa.py_buffer(out.astype(np.uint8))],
        null_count=arr.null_count,
    )


def _validity(arr: pa.Array) -> pa.Buffer | None:
    # A fresh bitmap starting at bit 0, whatever the offset of ``arr``.
    import pyarrow.compute as pc

    return pc.is_valid(arr).buffers()[1]


_HEX = np.full(256, 255, dtype=np.uint8)
_HEX[np.frombuffer(b"0123456789", dtype=np.uint8)] = np.arange(10, dtype=np.uint8)
_HEX[np.frombuffer(b"abcdef", dtype=np.uint8)] = np.arange(10, 16, dtype=np.uint8)
_HEX[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16, dtype=np.uint8)


class SqlSource(Source):
    """What the SQLite, PostgreSQL and MySQL/MariaDB sources share: reads in key order from
    a given key, the driver's own row values, fresh row counts."""

    #: the DB-API parameter marker of the driver
    placeholder = "?"

    @property
    @abc.abstractmethod
    def engine(self) -> Engine:
        """A SQLAlchemy engine on this database (reflection goes through it)."""

    @abc.abstractmethod
    def _q(self, name: str) -> str:
        """``name`` quoted as an identifier."""

    @abc.abstractmethod
    def _text_expr(self, quoted: str) -> str:
        """SQL that reads the column ``quoted`` as text."""

    @abc.abstractmethod
    def column_names(self, table: str) -> list[str]:
        """The columns of ``table`` in order (cheap: no counting); BadInput if none."""

    @abc.abstractmethod
    def count(self, table: str) -> int:
        """``SELECT count(*)`` of ``table`` now (not the cached :attr:`TableInfo.rows`)."""

    @abc.abstractmethod
    def _pages(self, table: str) -> AbstractContextManager[Fetch]:
        """A connection for one paged read: yields a function running one page query."""

    @abc.abstractmethod
    def _stream_rows(
        self, sql: str, table: str, batch_size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Every row of one statement, ``batch_size`` at a time, without holding them all."""

    def _key_names(self, table: str, columns: Sequence[str], order_by: Sequence[str]) -> None:
        known = set(self.column_names(table))
        for c in (*columns, *order_by):
            if c not in known and not (self.kind == "sqlite" and c == "rowid" and c in order_by):
                raise BadInput.msg(
                    "sources.table_no_column", source=self.display, table=table, column=c
                )

    def rows(
        self,
        table: str,
        columns: Sequence[str],
        *,
        as_text: Sequence[str] = (),
        order_by: Sequence[str] = (),
        after: Sequence[Any] | None = None,
        batch_size: int = DEFAULT_BATCH,
    ) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of ``table`` as the driver returns them, at most ``batch_size`` per list.

        Each row holds ``columns`` (those in ``as_text`` converted to text by the
        database), then the ``order_by`` columns that are not among them. With
        ``order_by`` (a unique, NOT NULL key; SQLite also takes ``rowid``) rows come in
        key order, one short statement per page, and only after the key ``after``:
        resuming after the last key a caller kept continues exactly there.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if after is not None and not order_by:
            raise ValueError("after= needs order_by=")
        self._key_names(table, columns, order_by)
        text = set(as_text)
        exprs = [self._text_expr(self._q(c)) if c in text else self._q(c) for c in columns]
        key_idx: list[int] = []
        for k in order_by:
            if k in columns:
                key_idx.append(list(columns).index(k))
            else:
                exprs.append(self._q(k))
                key_idx.append(len(exprs) - 1)
        base = f"SELECT {', '.join(exprs)} FROM {self._q(table)}"
        if not order_by:
            yield from self._stream_rows(base, table, batch_size)
            return
        keys = [self._q(k) for k in order_by]
        yield from self._keyset(base, keys, key_idx, after, batch_size, table)

    def _keyset(
        self,
        base: str,
        keys: list[str],
        key_idx: list[int],
        after: Sequence[Any] | None,
        batch_size: int,
        table: str,
    ) -> Iterator[list[tuple[Any, ...]]]:
        # One statement per page: no read snapshot, lock or server-side result is held
        # while the caller works on a page (a migration writes it to its target).
        ph = self.placeholder
        first = keyset_sql(base, keys, ph, after=False, limit=batch_size)
        if ph == "%s":  # with parameters, a literal % (in a quoted name) must be doubled
            base, keys = base.replace("%", "%%"), [k.replace("%", "%%") for k in keys]
        nxt = keyset_sql(base, keys, ph, after=True, limit=batch_size)
        spread: Callable[[Sequence[Any]], tuple[Any, ...]] = tuple
        if self.kind == "mysql" and len(keys) > 1:
            # MariaDB scans the whole index for (k1, k2) > (…): spell it out (a range).
            cond, spread = _mysql_after(keys)
            nxt = f"{base} WHERE {cond} ORDER BY {', '.join(keys)} LIMIT {int(batch_size)}"
        last = None if after is None else tuple(after)
        with self._pages(table) as fetch:
            while True:
                rows = fetch(first, ()) if last is None else fetch(nxt, spread(last))
                if not rows:
                    return
                last = tuple(rows[-1][i] for i in key_idx)
                yield rows
                if len(rows) < batch_size:
                    return

    def batches(
        self,
        table: str,
        columns: list[str] | None = None,
        batch_size: int = DEFAULT_BATCH,
        *,
        order_by: Sequence[str] = (),
        after: Sequence[Any] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Every row of ``table`` (only ``columns`` if given) in ``batch_size`` batches; with
        ``order_by`` in key order and only after the key ``after`` (see :meth:`rows`)."""
        if not order_by:
            if after is not None:
                raise ValueError("after= needs order_by=")
            yield from self._batches(table, columns, batch_size)
            return
        yield from self._ordered_batches(table, columns, batch_size, list(order_by), after)

    @abc.abstractmethod
    def _batches(
        self, table: str, columns: list[str] | None, batch_size: int
    ) -> Iterator[pa.RecordBatch]:
        """Every row of ``table`` in storage order."""

    def _ordered_batches(
        self,
        table: str,
        columns: list[str] | None,
        batch_size: int,
        order_by: list[str],
        after: Sequence[Any] | None,
    ) -> Iterator[pa.RecordBatch]:
        info = self.table(table)
        wanted = list(columns or info.column_names)
        schema = self._schema_of(info, wanted)
        text = [c for c in wanted if self._reads_as_text(schema.field(c).type)]
        start = 0
        for rows in self.rows(
            table, wanted, as_text=text, order_by=order_by, after=after, batch_size=batch_size
        ):
            yield _rows_to_batch(
                rows,
                schema,
                Msg("sources.at_rows", source=self.display, table=table, start=start + 1),
            )
            start += len(rows)

    def _schema_of(self, info: TableInfo, wanted: list[str]) -> pa.Schema:
        try:
            return pa.schema([info.schema.field(c) for c in wanted])
        except KeyError as exc:
            raise BadInput.msg(
                "sources.table_no_column",
                source=self.display,
                table=info.name,
                column=exc.args[0],
            ) from None

    def _reads_as_text(self, t: pa.DataType) -> bool:
        """True where the column is read as text by the database (SQLite: CAST)."""
        return False


class SqliteSource(SqlSource):
    """A SQLite file read through the ``sqlite3`` module (fetchmany → Arrow arrays)."""

    kind = "sqlite"

    def __init__(self, path: Path, display: str | None = None) -> None:
        if not path.is_file():
            raise BadInput.msg("sources.no_sqlite", path=path)
        self.path = path
        self.display = display or str(path)
        try:
            self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BadInput.msg("sources.bad_sqlite", path=path, detail=str(exc)) from None
        self._tables: list[TableInfo] | None = None
        self._select: dict[str, list[str]] = {}
        self._columns: dict[str, list[str]] = {}
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        """An engine over this source's own read-only connection (for reflection): the
        file is opened once."""
        if self._engine is None:
            from handover.db.connect import over

            self._engine = over(self.conn)
        return self._engine

    def _q(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def _text_expr(self, quoted: str) -> str:
        return f"CAST({quoted} AS TEXT)"

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
        return int(self.conn.execute(f"SELECT count(*) FROM {self._q(table)}").fetchone()[0])

    def has_rowid(self, table: str) -> bool:
        """False for a ``WITHOUT ROWID`` table."""
        self.column_names(table)
        try:
            self.conn.execute(f"SELECT rowid FROM {self._q(table)} LIMIT 1").fetchall()
        except sqlite3.OperationalError:
            return False
        return True

    def _read_error(self, exc: sqlite3.Error, table: str, near: Msg | str) -> BadInput:
        # The message of a decode error quotes the cell: never pass it on.
        what = Msg("sources.bad_utf8_text" if "decode" in str(exc) else "sources.bad_row")
        return BadInput.msg(
            "sources.read_error", source=self.display, table=table, near=near, what=what
        )

    @contextmanager
    def _pages(self, table: str) -> Iterator[Fetch]:
        cur = self.conn.cursor()

        def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
            try:
                cur.execute(sql, tuple(params))
                return list(cur.fetchall())
            except sqlite3.OperationalError as exc:
                raise self._read_error(exc, table, "") from None

        try:
            yield fetch
        finally:
            cur.close()

    def tables(self) -> list[TableInfo]:
        """Every user table with declared types, primary key and exact row count."""
        if self._tables is not None:
            return self._tables
        out = []
        for name in sqlite_tables(self.conn):
            q = self._q(name)
            info = sqlite_columns(self.conn, name)
            cols: list[ColumnInfo] = []
            select: list[str] = []
            pk = [c.name for c in sorted((c for c in info if c.pk), key=lambda c: c.pk)]
            notes: list[Msg | str] = []
            for _cid, cname, ctype, notnull, _dflt, _pk in info:
                decl = ctype.upper()
                atype = self._affinity(decl)
                qc = self._q(cname)
                if atype in (pa.int64(), pa.float64()):
                    want = ("integer",) if atype == pa.int64() else ("integer", "real")
                    placeholders = ",".join(f"'{w}'" for w in (*want, "null"))
                    bad = self.conn.execute(
                        f"SELECT count(*) FROM {q} WHERE typeof({qc}) NOT IN ({placeholders})"
                    ).fetchone()[0]
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
                expr = f"CAST({qc} AS TEXT)" if atype == pa.string() else qc
                select.append(expr)
                cols.append(ColumnInfo(cname, ctype, atype, not notnull))
            rows = self.conn.execute(f"SELECT count(*) FROM {q}").fetchone()[0]
            self._select[name] = select
            out.append(TableInfo(name, cols, pk, int(rows), notes))
        self._tables = out
        return out

    @staticmethod
    def _affinity(decl: str) -> pa.DataType:
        # SQLite type affinity rules (section 3.1 of the SQLite datatype docs).
        if "INT" in decl:
            return pa.int64()
        if "BLOB" in decl or decl == "":
            return pa.binary() if "BLOB" in decl else pa.string()
        if any(k in decl for k in ("REAL", "FLOA", "DOUB")):
            return pa.float64()
        return pa.string()

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

    def _stream_rows(
        self, sql: str, table: str, batch_size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        cur = self.conn.cursor()
        try:
            cur.execute(sql)
            start = 0
            while True:
                try:
                    rows = cur.fetchmany(batch_size)
                except sqlite3.OperationalError as exc:
                    raise self._read_error(
                        exc, table, Msg("sources.near_row", row=start + 1)
                    ) from None
                if not rows:
                    break
                yield rows
                start += len(rows)
        finally:
            cur.close()

    def _stream(
        self, sql: str, schema: pa.Schema, table: str, batch_size: int
    ) -> Iterator[pa.RecordBatch]:
        start = 0
        for rows in self._stream_rows(sql, table, batch_size):
            yield _rows_to_batch(
                rows,
                schema,
                Msg("sources.at_rows", source=self.display, table=table, start=start + 1),
            )
            start += len(rows)

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
            frac = _sample_fraction(info.rows, n)
            thr = int(frac * 2_147_483_648)
            tail = (
                f" WHERE ((((rowid + {int(seed) % 1_000_003}) * 1103515245 + 12345) "
                f"% 2147483648) * 48271 % 2147483648) < {thr} LIMIT {int(n)}"
            )
        sql, schema = self._query(table, columns, tail)
        try:
            parts = list(self._stream(sql, schema, table, DEFAULT_BATCH))
        except sqlite3.OperationalError:  # WITHOUT ROWID table: sample by reading
            return super().sample(table, n, seed, columns)
        return pa.Table.from_batches(parts, schema=schema) if parts else schema.empty_table()

    def close(self) -> None:
        """Close the connection."""
        if self._engine is not None:
            self._engine.dispose()
        self.conn.close()


class SqlAlchemySource(SqlSource):
    """A PostgreSQL or MySQL/MariaDB database named by a SQLAlchemy URL."""

    placeholder = "%s"

    def __init__(self, url: str, wording: Wording | None = None) -> None:
        """Connect to ``url``; a database that does not answer is told with ``wording``
        (default: ``sources.unreachable``)."""
        from sqlalchemy.exc import SQLAlchemyError

        from handover.db.connect import connect, failure
        from handover.db.reflect import Catalog
        from handover.db.url import backend, mask

        self.display = mask(url)
        kind = backend(url)
        if kind not in ("postgresql", "mysql"):
            raise BadInput.msg("sources.unsupported_db", source=self.display)
        self.kind = kind
        words = wording or WORDING
        self._engine = connect(url, wording=words)
        try:
            self._catalog = Catalog(self.engine)
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise failure(exc, url, words) from None
        self._tables: list[TableInfo] | None = None
        self._schema_name: str | None = None
        self._columns: dict[str, list[str]] = {}

    @property
    def engine(self) -> Engine:
        """The engine this source reads through."""
        return self._engine

    def _q(self, name: str) -> str:
        # Quoted by hand: SQLAlchemy's preparer doubles "%" for its own parameter style,
        # which is wrong in SQL run without parameters (a "%" is doubled where one is bound).
        if self.kind == "mysql":
            return "`" + name.replace("`", "``") + "`"
        return '"' + name.replace('"', '""') + '"'

    def _text_expr(self, quoted: str) -> str:
        return f"({quoted})::text" if self.kind == "postgresql" else f"CAST({quoted} AS CHAR)"

    def column_names(self, table: str) -> list[str]:
        """The columns of ``table`` (reflected once); BadInput if there is no table."""
        from sqlalchemy.exc import NoSuchTableError

        if table not in self._columns:
            try:
                self._columns[table] = self._catalog.column_names(table)
            except NoSuchTableError:
                raise BadInput.msg("sources.no_table", source=self.display, table=table) from None
        return self._columns[table]

    def count(self, table: str) -> int:
        """``SELECT count(*)`` of ``table``."""
        from sqlalchemy import text

        self.column_names(table)
        with self.engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {self._q(table)}")).scalar_one())

    @contextmanager
    def _pages(self, table: str) -> Iterator[Fetch]:
        raw = self.engine.raw_connection()
        pg = self.kind == "postgresql"
        try:
            if pg:
                # A consistent snapshot per page is enough; no transaction is held open.
                raw.driver_connection.autocommit = True  # type: ignore[union-attr]
            cur = raw.cursor()

            def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
                if params:
                    cur.execute(sql, tuple(params))
                else:
                    cur.execute(sql)
                rows = list(cur.fetchall())
                if not pg:
                    raw.commit()  # end the read snapshot so the next page sees a fresh view
                return rows

            try:
                yield fetch
            finally:
                cur.close()
        finally:
            if pg:
                raw.driver_connection.autocommit = False  # type: ignore[union-attr]
            raw.close()

    def _stream_rows(
        self, sql: str, table: str, batch_size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        raw = self.engine.raw_connection()
        try:
            if self.kind == "postgresql":
                # A server-side cursor: rows arrive batch by batch, never all at once.
                cur: Any = raw.driver_connection.cursor(  # type: ignore[union-attr]
                    name=f"ho_read_{secrets.token_hex(4)}"
                )
                cur.itersize = batch_size
            else:
                import pymysql.cursors

                cur = raw.cursor(pymysql.cursors.SSCursor)
            cur.execute(sql)
            while rows := cur.fetchmany(batch_size):
                yield list(rows)
            cur.close()
        finally:
            raw.close()

    # --- MySQL/MariaDB: rows as CSV text built by the server ------------------------------

    def text_pages(
        self,
        table: str,
        columns: Sequence[str],
        *,
        order_by: Sequence[str] = (),
        after: Sequence[Any] | None = None,
        batch_size: int = DEFAULT_BATCH,
    ) -> Iterator[tuple[pa.Table, tuple[Any, ...] | None]]:
        """MySQL/MariaDB: :meth:`rows` as Arrow, each value as the server's own text.

        The server renders every row as one CSV line (``CONCAT``: numbers and
        temporals as its text protocol sends them, text quoted, blobs as hex) and joins
        the lines of up to a few MB of rows into one value (``GROUP_CONCAT`` in key
        order), so the driver unpacks one value per chunk instead of one per cell and
        pyarrow's CSV reader splits the columns. Yields ``(page, key)``: ``columns``
        (then the ``order_by`` columns that are not among them) as strings, binary
        columns as bytes, and the greatest key of the page (typed as the driver binds
        its own values: int, Decimal, datetime, bytes; the text if it does not parse),
        None without ``order_by``. Paging and ``after`` are those of :meth:`rows`; a table
        without ``order_by`` is streamed, one line per row.
        """
        if self.kind != "mysql":
            raise ValueError("text_pages reads MySQL/MariaDB only")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if after is not None and not order_by:
            raise ValueError("after= needs order_by=")
        self._key_names(table, columns, order_by)
        names = list(columns) + [k for k in order_by if k not in columns]
        types = {str(c["name"]): c["type"] for c in self._catalog.columns(table)}
        kinds = [_text_kind(types[n]) for n in names]
        charsets = self._charsets(table)
        fields = [
            pa.field(n, pa.binary() if k == "binary" else pa.string())
            for n, k in zip(names, kinds, strict=True)
        ]
        schema = pa.schema(fields)
        where = Msg("sources.at_table", source=self.display, table=table)
        qt = self._q(table)
        # CONCAT, not CONCAT_WS: a part too long for max_allowed_packet is NULL, and must
        # make the whole line NULL (CONCAT_WS would drop it and shift the columns).
        line = "CONVERT(CONCAT({}) USING binary)".format(
            ", ',', ".join(
                _line_expr(self._q(n), k, charsets.get(n))
                for n, k in zip(names, kinds, strict=True)
            )
        )
        if not order_by:
            for rows in self._stream_rows(f"SELECT {line} FROM {qt}", table, batch_size):
                if any(r[0] is None for r in rows):
                    raise BadInput.msg("sources.too_long", where=where)
                yield _csv_table([r[0] for r in rows], len(rows), schema, where), None
            return
        keys = [self._q(k) for k in order_by]
        aliases = [f"_ho_k{i}" for i in range(len(keys))]
        inner = "SELECT {} AS _ho_l, {} FROM {}".format(
            line, ", ".join(f"{k} AS {a}" for k, a in zip(keys, aliases, strict=True)), qt
        )
        # A literal newline as separator: '\n' would depend on NO_BACKSLASH_ESCAPES. With
        # one key column its MAX is the next page's start (in the key's own collation and
        # as the driver types it) and the lines need no order: a batch is a set of rows.
        # A composite key is taken from the last line, so the lines are sorted.
        single = len(keys) == 1
        chunk_head = (
            "SELECT COUNT(*), SUM(LENGTH(_ho_l)), "
            + ("MAX(_ho_k0), GROUP_CONCAT(_ho_l " if single else "NULL, GROUP_CONCAT(_ho_l ")
            + ("" if single else f"ORDER BY {', '.join(aliases)} ")
            + "SEPARATOR '\n') FROM ("
        )
        native = "SELECT {} FROM {}".format(
            ", ".join(
                f"CAST({self._q(n)} AS CHAR)" if k == "plain" else self._q(n)
                for n, k in zip(names, kinds, strict=True)
            ),
            qt,
        )

        # MariaDB scans a whole index for (k1, k2) > (…): spell the comparison out so a
        # page is a range read (otherwise every page rereads the table up to its start).
        # With parameters, a literal % (in a quoted name) must be doubled.
        esc = [k.replace("%", "%%") for k in keys]
        cond, spread = _mysql_after(esc)

        def page_sql(base: str, start: bool, limit: int) -> str:
            if start:
                return f"{base} ORDER BY {', '.join(keys)} LIMIT {int(limit)}"
            tail = f"ORDER BY {', '.join(esc)} LIMIT {int(limit)}"
            return f"{base.replace('%', '%%')} WHERE {cond} {tail}"

        key_idx = [names.index(k) for k in order_by]
        key_types = [types[k] for k in order_by]
        last = None if after is None else tuple(after)
        with self._pages(table) as fetch:
            ((packet,),) = fetch("SELECT @@max_allowed_packet", ())
            # One chunk stays well under the largest value the server may send.
            target = max(1 << 16, min(int(packet) // 2, CHUNK_BYTES))
            fetch(f"SET SESSION group_concat_max_len = {int(packet)}", ())
            size = min(batch_size, 1000)  # rows per chunk, adapted to the bytes per row
            while True:
                parts: list[pa.Table] = []
                got = 0
                done = False
                while got < batch_size:
                    want = min(size, batch_size - got)
                    params = () if last is None else spread(last)
                    sql = chunk_head + page_sql(inner, last is None, want) + ") AS _ho_chunk"
                    ((count, length, top, data),) = fetch(sql, params)
                    count = int(count)
                    if count == 0:
                        done = True
                        break
                    if data is None or length is None or len(data) != int(length) + count - 1:
                        # Longer than group_concat_max_len: fewer rows, down to one row,
                        # which is then read with the driver's own values.
                        if want > 1:
                            size = max(1, want // 4)
                            continue
                        part = _native_table(
                            fetch(page_sql(native, last is None, 1), params), schema
                        )
                    else:
                        part = _csv_table([bytes(data)], count, schema, where)
                        size = max(1, min(batch_size, int(target * count / max(len(data), 1))))
                    if part.num_rows == 0:
                        done = True
                        break
                    parts.append(part)
                    got += part.num_rows
                    n = part.num_rows
                    if single and top is not None:
                        last = (top,)
                    else:
                        last = tuple(
                            _key_value(part.column(i)[n - 1].as_py(), t)
                            for i, t in zip(key_idx, key_types, strict=True)
                        )
                    if n < want:
                        done = True
                        break
                if parts:
                    yield pa.concat_tables(parts), last
                if done or not parts:
                    return

    def _charsets(self, table: str) -> dict[str, str]:
        """The character set of each text column of ``table`` (MySQL/MariaDB)."""
        from sqlalchemy import text

        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS "
                    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t"
                ),
                {"t": table},
            ).all()
        return {str(r[0]): str(r[1]) for r in rows if r[1] is not None}

    def tables(self) -> list[TableInfo]:
        """Every table of the default schema with types, primary key and exact row count."""
        if self._tables is not None:
            return self._tables
        from sqlalchemy import text

        catalog = self._catalog
        out = []
        with self.engine.connect() as conn:
            for name in sorted(catalog.table_names()):
                cols = [
                    ColumnInfo(
                        c["name"],
                        str(c["type"].compile(dialect=self.engine.dialect)),
                        _arrow_type_of(c["type"], self.kind),
                        bool(c.get("nullable", True)),
                    )
                    for c in catalog.columns(name)
                ]
                pk = catalog.primary_key(name)
                rows = conn.execute(text(f"SELECT count(*) FROM {self._q(name)}")).scalar_one()
                out.append(TableInfo(name, cols, pk, int(rows)))
        self._tables = out
        return out

    def _expr(self, f: pa.Field, *, key: bool = False) -> str:
        qc = self._q(f.name)
        if self.kind == "postgresql":
            if pa.types.is_timestamp(f.type) and f.type.tz:
                return f"({qc} AT TIME ZONE 'UTC')"  # COPY then writes UTC without a zone
            if pa.types.is_binary(f.type) and not key:
                return f"encode({qc}, 'hex')"  # whatever the server's bytea_output
        return qc

    def _select(self, table: str, columns: list[str] | None) -> tuple[str, pa.Schema]:
        info = self.table(table)
        schema = self._schema_of(info, list(columns or info.column_names))
        exprs = [self._expr(f) for f in schema]
        return f"SELECT {', '.join(exprs)} FROM {self._q(table)}", schema

    def _batches(
        self, table: str, columns: list[str] | None, batch_size: int
    ) -> Iterator[pa.RecordBatch]:
        """Every row of ``table``: COPY TO on PostgreSQL, an unbuffered cursor on MySQL."""
        sql, schema = self._select(table, columns)
        yield from self._run(sql, schema, table, batch_size)

    def _ordered_batches(
        self,
        table: str,
        columns: list[str] | None,
        batch_size: int,
        order_by: list[str],
        after: Sequence[Any] | None,
    ) -> Iterator[pa.RecordBatch]:
        if self.kind != "postgresql":
            yield from super()._ordered_batches(table, columns, batch_size, order_by, after)
            return
        # PostgreSQL: one COPY per page, the next page's key taken from the last row.
        info = self.table(table)
        wanted = list(columns or info.column_names)
        self._key_names(table, wanted, order_by)
        read = wanted + [k for k in order_by if k not in wanted]
        sql, schema = self._select(table, read)
        keys = [self._expr(schema.field(k), key=True) for k in order_by]
        idx = [read.index(k) for k in order_by]
        first = keyset_sql(sql, keys, "%s", after=False, limit=batch_size)
        nxt = keyset_sql(
            sql.replace("%", "%%"),
            [k.replace("%", "%%") for k in keys],
            "%s",
            after=True,
            limit=batch_size,
        )
        last = None if after is None else tuple(after)
        while True:
            query, params = (first, ()) if last is None else (nxt, last)
            parts = [b for b in self._copy(query, schema, table, batch_size, params) if b.num_rows]
            if not parts:
                return
            tail = parts[-1]
            last = tuple(tail.column(i)[tail.num_rows - 1].as_py() for i in idx)
            for b in parts:
                yield b.select(list(range(len(wanted)))) if len(read) > len(wanted) else b
            if sum(b.num_rows for b in parts) < batch_size:
                return

    def sample(self, table: str, n: int, seed: int, columns: list[str] | None = None) -> pa.Table:
        """About ``n`` rows: ``TABLESAMPLE BERNOULLI … REPEATABLE`` / ``RAND(seed)``."""
        info = self.table(table)
        sql, schema = self._select(table, columns)
        if info.rows > n:
            pct = _sample_fraction(info.rows, n)
            if self.kind == "postgresql":
                sql += f" TABLESAMPLE BERNOULLI ({pct * 100:.6f}) REPEATABLE ({int(seed)})"
            else:
                sql += f" WHERE RAND({int(seed)}) < {pct:.8f}"
            sql += f" LIMIT {int(n)}"
        parts = list(self._run(sql, schema, table, DEFAULT_BATCH))
        return pa.Table.from_batches(parts, schema=schema) if parts else schema.empty_table()

    def _run(
        self, sql: str, schema: pa.Schema, table: str, batch_size: int
    ) -> Iterator[pa.RecordBatch]:
        if self.kind == "postgresql":
            yield from self._copy(sql, schema, table, batch_size)
            return
        start = 0
        for rows in self._stream_rows(sql, table, batch_size):
            yield _rows_to_batch(
                rows,
                schema,
                Msg("sources.at_rows", source=self.display, table=table, start=start + 1),
            )
            start += len(rows)

    def _copy(
        self,
        sql: str,
        schema: pa.Schema,
        table: str,
        batch_size: int,
        params: Sequence[Any] = (),
    ) -> Iterator[pa.RecordBatch]:
        import pyarrow.csv as pcsv

        read_types = {f.name: _copy_read_type(f.type) for f in schema}
        where = Msg("sources.at_table", source=self.display, table=table)
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            # COPY takes no server-side parameters: psycopg binds ``params`` client-side.
            statement = f"COPY ({sql}) TO STDOUT (FORMAT csv)"
            with cur.copy(statement, tuple(params) if params else None) as copy:
                stream = _IterReader(iter(copy))
                reader = pcsv.open_csv(
                    stream,
                    read_options=pcsv.ReadOptions(
                        column_names=[f"c{i}" for i in range(len(schema))],
                        block_size=max(1 << 20, batch_size * 64),
                    ),
                    parse_options=pcsv.ParseOptions(newlines_in_values=True),
                    convert_options=pcsv.ConvertOptions(
                        column_types={f"c{i}": read_types[f.name] for i, f in enumerate(schema)},
                        strings_can_be_null=True,
                        quoted_strings_can_be_null=False,
                        null_values=[""],
                        true_values=["t"],
                        false_values=["f"],
                    ),
                )
                for batch in reader:
                    arrays = [
                        _unhex(col, Msg("sources.at_column", where=where, column=f.name))
                        if pa.types.is_binary(f.type)
                        else col.cast(f.type)
                        if col.type != f.type
                        else col
                        for col, f in zip(batch.columns, schema, strict=True)
                    ]
                    b = pa.RecordBatch.from_arrays(arrays, schema=schema)
                    for off in range(0, b.num_rows, batch_size):
                        yield b.slice(off, batch_size)
            cur.close()
        except pa.ArrowInvalid as exc:
            # pyarrow's message may quote the value: name the column only.
            m = re.search(r"column #(\d+)", str(exc))
            col = Msg("sources.column_part", column=schema.field(int(m.group(1))).name) if m else ""
            raise BadInput.msg(
                "sources.no_convert", source=self.display, table=table, column=col
            ) from None
        finally:
            raw.close()

    def close(self) -> None:
        """Dispose of the engine's connections."""
        self.engine.dispose()


#: bytes of CSV text the server joins into one value (MySQL/MariaDB text_pages)
CHUNK_BYTES = 4 << 20


def _csv_table(blobs: list[bytes], rows: int, schema: pa.Schema, where: Msg) -> pa.Table:
    """CSV lines (NULL an empty field, text quoted, blobs as quoted hex) → ``schema``."""
    import pyarrow.csv as pcsv

    names = [f"c{i}" for i in range(len(schema))]
    data = b"\n".join(blobs) + b"\n"
    try:
        t = pcsv.read_csv(
            pa.BufferReader(data),
            # One block: a row must not straddle two (a chunk is a few MB at most).
            read_options=pcsv.ReadOptions(column_names=names, block_size=len(data) + 1),
            parse_options=pcsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                null_values=[""],
            ),
        )
    except pa.ArrowInvalid:
        raise BadInput.msg("sources.bad_server_csv", where=where) from None
    if t.num_rows != rows:
        raise BadInput.msg("sources.rows_parsed", where=where, rows=rows, parsed=t.num_rows)
    arrays = [
        _unhex(col, Msg("sources.at_column", where=where, column=f.name))
        if pa.types.is_binary(f.type)
        else col
        for col, f in zip(t.columns, schema, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _native_table(rows: list[tuple[Any, ...]], schema: pa.Schema) -> pa.Table:
    """Rows read with the driver's own values (text as str, blobs as bytes) → ``schema``."""
    if not rows:
        return schema.empty_table()
    cols = list(zip(*rows, strict=True))
    return pa.Table.from_arrays(
        [pa.array(v, type=f.type) for f, v in zip(schema, cols, strict=True)], schema=schema
    )


def _mysql_after(keys: list[str]) -> tuple[str, Callable[[Sequence[Any]], tuple[Any, ...]]]:
    """``keys > (…)`` as nested comparisons MySQL/MariaDB read as one index range, and the
    function that spreads a key's values over its placeholders."""
    n = len(keys)
    cond = f"{keys[-1]} > %s"
    for k in reversed(keys[:-1]):
        cond = f"({k} > %s OR ({k} = %s AND {cond}))"
    if n > 1:
        cond = f"{keys[0]} >= %s AND {cond}"

    def spread(values: Sequence[Any]) -> tuple[Any, ...]:
        out: list[Any] = [values[0]] if n > 1 else []
        for v in values[:-1]:
            out += [v, v]
        return (*out, values[-1])

    return cond, spread


def _text_kind(sa_type: Any) -> str:
    """How a MySQL column travels in a CSV line: ``plain`` (numbers and temporals, never a
    comma or quote), ``binary`` (hex) or ``text`` (quoted)."""
    from sqlalchemy import types as st
    from sqlalchemy.dialects import mysql

    if isinstance(sa_type, st._Binary):
        return "binary"
    if isinstance(sa_type, st.Integer | st.Numeric | st.Date | st.DateTime | st.Time | mysql.YEAR):
        return "plain"
    return "text"


def _line_expr(quoted: str, kind: str, charset: str | None) -> str:
    """One column of a CSV line: NULL is an empty field, an empty string ``""``."""
    if kind == "plain":
        return f"IFNULL({quoted}, '')"
    if kind == "binary":
        return f"IF({quoted} IS NULL, '', CONCAT('\"', HEX({quoted}), '\"'))"
    # One character set and collation for every text column, whatever each declares
    # (two collations in one CONCAT are an error); converted only when not utf8mb4.
    text = quoted if charset == "utf8mb4" else f"CONVERT({quoted} USING utf8mb4)"
    return (
        f"IF({quoted} IS NULL, '', "
        f"CONCAT('\"', REPLACE({text} COLLATE utf8mb4_bin, '\"', '\"\"'), '\"'))"
    )


def _key_value(value: Any, sa_type: Any) -> Any:
    """The text of a key value as the driver binds its own values (exact comparisons:
    an int or a Decimal, not a string the server would compare as a double)."""
    import datetime as dt
    from decimal import Decimal, InvalidOperation

    from sqlalchemy import types as st

    if not isinstance(value, str):
        return value
    try:
        if isinstance(sa_type, st.Integer):
            return int(value)
        if isinstance(sa_type, st.Float):
            return float(value)
        if isinstance(sa_type, st.Numeric):
            return Decimal(value)
        if isinstance(sa_type, st.DateTime):
            return dt.datetime.fromisoformat(value)
        if isinstance(sa_type, st.Date):
            return dt.date.fromisoformat(value)
    except (ValueError, InvalidOperation):
        pass
    return value  # a zero date, a TIME, a YEAR: the server converts the text itself


def _copy_read_type(t: pa.DataType) -> pa.DataType:
    # COPY writes timestamptz converted to UTC without a zone (see _select).
    if pa.types.is_timestamp(t) and t.tz:
        return pa.timestamp(t.unit)
    return pa.string() if pa.types.is_binary(t) else t


class _IterReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (for pyarrow's CSV reader)."""

    def __init__(self, chunks: Iterator[Any]) -> None:
        self._chunks = chunks
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            try:
                self._buf = bytes(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n
