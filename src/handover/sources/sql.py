"""Database sources: SQLite (sqlite3 fast path), PostgreSQL (COPY TO), MySQL/MariaDB.

Each streams Arrow RecordBatches whose schema follows the declared column types. Rows
are turned into Arrow column by column (``zip(*rows)`` then ``pa.array``), never cell by
cell in Python; PostgreSQL streams ``COPY … TO STDOUT (FORMAT csv)`` straight into
pyarrow's CSV reader.
"""

from __future__ import annotations

import io
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from handover.errors import BadInput
from handover.sources.base import DEFAULT_BATCH, ColumnInfo, Source, TableInfo


def _sample_fraction(rows: int, n: int) -> float:
    return 1.0 if rows <= n else min(1.0, 1.3 * n / rows + 0.001)


def _rows_to_batch(rows: list[tuple[Any, ...]], schema: pa.Schema, where: str) -> pa.RecordBatch:
    """Transpose DB-API rows into one RecordBatch of ``schema`` (column-wise conversion)."""
    if not rows:
        return schema.empty_table().to_batches()[0] if schema else pa.record_batch([])
    cols = list(zip(*rows, strict=True))
    arrays = []
    for field, values in zip(schema, cols, strict=True):
        try:
            arrays.append(pa.array(values, type=field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
            arrays.append(_coerce(values, field, where))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _coerce(values: tuple[Any, ...], field: pa.Field, where: str) -> pa.Array:
    # Slow path, only for a batch whose values do not fit the declared type.
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
        raise BadInput(
            f"{where}: column {field.name!r} holds values that do not fit its type {field.type}"
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
        # COPY's CSV writes bytea as \\x-hex text: PostgreSQL streams it as that text.
        return pa.string() if dialect == "postgresql" else pa.binary()
    return pa.string()


class SqliteSource(Source):
    """A SQLite file read through the ``sqlite3`` module (fetchmany → Arrow arrays)."""

    kind = "sqlite"

    def __init__(self, path: Path, display: str | None = None) -> None:
        if not path.is_file():
            raise BadInput(f"{path}: no such SQLite file")
        self.path = path
        self.display = display or str(path)
        try:
            self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BadInput(f"{path}: not a readable SQLite database ({exc})") from None
        self._tables: list[TableInfo] | None = None
        self._select: dict[str, list[str]] = {}

    @staticmethod
    def _q(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def tables(self) -> list[TableInfo]:
        """Every user table with declared types, primary key and exact row count."""
        if self._tables is not None:
            return self._tables
        names = [
            r[0]
            for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        out = []
        for name in names:
            q = self._q(name)
            info = self.conn.execute(f"PRAGMA table_info({q})").fetchall()
            cols: list[ColumnInfo] = []
            select: list[str] = []
            pk = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
            notes: list[str] = []
            for _cid, cname, ctype, notnull, _dflt, _pk in info:
                decl = (ctype or "").upper()
                atype = self._affinity(decl)
                qc = self._q(cname)
                if atype in (pa.int64(), pa.float64()):
                    want = ("integer",) if atype == pa.int64() else ("integer", "real")
                    placeholders = ",".join(f"'{w}'" for w in (*want, "null"))
                    bad = self.conn.execute(
                        f"SELECT count(*) FROM {q} WHERE typeof({qc}) NOT IN ({placeholders})"
                    ).fetchone()[0]
                    if bad:
                        notes.append(f"column {cname!r}: {bad} values are not {decl or 'numeric'}")
                        atype = pa.string()
                expr = f"CAST({qc} AS TEXT)" if atype == pa.string() else qc
                select.append(expr)
                cols.append(ColumnInfo(cname, ctype or "", atype, not notnull))
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
            raise BadInput(
                f"{self.display}: table {table!r} has no column {exc.args[0]!r}"
            ) from None
        schema = pa.schema([info.schema.field(c) for c in wanted])
        return f"SELECT {sel} FROM {self._q(table)}{tail}", schema

    def _stream(
        self, sql: str, schema: pa.Schema, table: str, batch_size: int
    ) -> Iterator[pa.RecordBatch]:
        cur = self.conn.cursor()
        try:
            cur.execute(sql)
            start = 0
            while True:
                try:
                    rows = cur.fetchmany(batch_size)
                except sqlite3.OperationalError as exc:
                    # The message of a decode error quotes the cell: never pass it on.
                    what = (
                        "text that is not valid UTF-8"
                        if "decode" in str(exc)
                        else "an unreadable row"
                    )
                    raise BadInput(
                        f"{self.display}: table {table!r} near row {start + 1}: {what}"
                    ) from None
                if not rows:
                    break
                yield _rows_to_batch(
                    rows, schema, f"{self.display}: table {table!r} rows {start + 1}-"
                )
                start += len(rows)
        finally:
            cur.close()

    def batches(
        self, table: str, columns: list[str] | None = None, batch_size: int = DEFAULT_BATCH
    ) -> Iterator[pa.RecordBatch]:
        """Every row of ``table`` in ``batch_size`` batches."""
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
        self.conn.close()


class SqlAlchemySource(Source):
    """A PostgreSQL or MySQL/MariaDB database named by a SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine, inspect
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import SQLAlchemyError

        from handover.store.store import mask_url

        self.display = mask_url(url)
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        if backend == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
            self.kind = "postgresql"
        elif backend in ("mysql", "mariadb"):
            parsed = parsed.set(drivername=f"{backend}+pymysql")
            self.kind = "mysql"
        else:
            raise BadInput(
                f"{self.display}: unsupported database (use SQLite, PostgreSQL, MySQL/MariaDB)"
            )
        try:
            self.engine = create_engine(parsed)
            with self.engine.connect():
                pass
            self._inspector = inspect(self.engine)
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None)
            reason = str(orig or exc).splitlines()[0][:200]
            raise BadInput(
                f"{self.display}: database unreachable: {reason}", transient=True
            ) from None
        self._tables: list[TableInfo] | None = None
        self._schema_name: str | None = None

    def _q(self, name: str) -> str:
        return str(self.engine.dialect.identifier_preparer.quote(name))

    def tables(self) -> list[TableInfo]:
        """Every table of the default schema with types, primary key and exact row count."""
        if self._tables is not None:
            return self._tables
        from sqlalchemy import text

        insp = self._inspector
        out = []
        with self.engine.connect() as conn:
            for name in sorted(insp.get_table_names()):
                cols = [
                    ColumnInfo(
                        c["name"],
                        str(c["type"].compile(dialect=self.engine.dialect)),
                        _arrow_type_of(c["type"], self.kind),
                        bool(c.get("nullable", True)),
                    )
                    for c in insp.get_columns(name)
                ]
                pk = list(insp.get_pk_constraint(name).get("constrained_columns") or [])
                rows = conn.execute(text(f"SELECT count(*) FROM {self._q(name)}")).scalar_one()
                out.append(TableInfo(name, cols, pk, int(rows)))
        self._tables = out
        return out

    def _select(self, table: str, columns: list[str] | None) -> tuple[str, pa.Schema]:
        info = self.table(table)
        wanted = columns or info.column_names
        exprs = []
        for c in wanted:
            try:
                f = info.schema.field(c)
            except KeyError:
                raise BadInput(f"{self.display}: table {table!r} has no column {c!r}") from None
            qc = self._q(c)
            if self.kind == "postgresql" and pa.types.is_timestamp(f.type) and f.type.tz:
                qc = f"({qc} AT TIME ZONE 'UTC')"
            exprs.append(qc)
        schema = pa.schema([info.schema.field(c) for c in wanted])
        return f"SELECT {', '.join(exprs)} FROM {self._q(table)}", schema

    def batches(
        self, table: str, columns: list[str] | None = None, batch_size: int = DEFAULT_BATCH
    ) -> Iterator[pa.RecordBatch]:
        """Every row of ``table``: COPY TO on PostgreSQL, an unbuffered cursor on MySQL."""
        sql, schema = self._select(table, columns)
        yield from self._run(sql, schema, table, batch_size)

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
        import pymysql.cursors

        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor(pymysql.cursors.SSCursor)
            cur.execute(sql)
            start = 0
            while rows := cur.fetchmany(batch_size):
                yield _rows_to_batch(
                    list(rows), schema, f"{self.display}: table {table!r} rows {start + 1}-"
                )
                start += len(rows)
            cur.close()
        finally:
            raw.close()

    def _copy(
        self, sql: str, schema: pa.Schema, table: str, batch_size: int
    ) -> Iterator[pa.RecordBatch]:
        import pyarrow.csv as pcsv

        read_types = {f.name: _copy_read_type(f.type) for f in schema}
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
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
                        col.cast(f.type) if col.type != f.type else col
                        for col, f in zip(batch.columns, schema, strict=True)
                    ]
                    b = pa.RecordBatch.from_arrays(arrays, schema=schema)
                    for off in range(0, b.num_rows, batch_size):
                        yield b.slice(off, batch_size)
            cur.close()
        except pa.ArrowInvalid as exc:
            # pyarrow's message may quote the value: name the column only.
            m = re.search(r"column #(\d+)", str(exc))
            col = f" column {schema.field(int(m.group(1))).name!r}" if m else ""
            raise BadInput(
                f"{self.display}: table {table!r}{col}: a value does not convert to its type"
            ) from None
        finally:
            raw.close()

    def close(self) -> None:
        """Dispose of the engine's connections."""
        self.engine.dispose()


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
