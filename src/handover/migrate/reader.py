"""The reader side of a migration: an interface, and its implementation over databases.

A :class:`MigrationSource` describes its tables (:class:`TableDef`, FK dependency order),
counts rows, and streams each table as Arrow RecordBatches in key order starting *after*
a given key, so that a resumed run continues exactly after the last committed batch.
A sealed package plugs in by implementing the same protocol (its batches are already
typed; it filters ``key > after``).

:class:`DatabaseSource` reads SQLite, PostgreSQL and MySQL/MariaDB through
``handover.sources`` (:meth:`handover.sources.sql.SqlSource.rows`: keyset pagination,
``WHERE key > :last ORDER BY key LIMIT n``, the driver's own values) and converts the rows
itself. Values that do not fit the declared type (SQLite's dynamic typing: text in an
INTEGER column, an invalid date) are not coerced: their rows become rejects, reported
with the key and column, never silently changed.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from handover.db import dialects
from handover.db.adbc import EXACT_INT
from handover.db.connect import Wording
from handover.db.dialects import family
from handover.db.reflect import ColumnDef, TableDef, reflect
from handover.db.url import is_url, mask, to_url
from handover.errors import BadInput
from handover.i18n import Msg
from handover.migrate import spelling
from handover.sources.sql import ArrowRows, Page, page_key

if TYPE_CHECKING:
    from handover.db.dialects.base import Dialect
    from handover.sources.sql import SqlSource

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Reject:
    """A row the migration could not carry: where it is and why (never its values)."""

    table: str
    key: str
    column: str
    reason: str
    stage: str  # "read" (does not fit its declared type) or "write" (the target refused it)

    def to_json(self) -> dict[str, str]:
        """One line of the reject file."""
        return {
            "table": self.table,
            "key": self.key,
            "column": self.column,
            "reason": self.reason,
            "stage": self.stage,
        }


@dataclass
class SourceBatch:
    """Rows of one table in key order: typed data, their keys, and rows rejected on read."""

    data: pa.RecordBatch
    keys: list[list[Any]]
    last_key: Key | None
    rows_read: int
    rejects: list[Reject] = field(default_factory=list)


class MigrationSource(Protocol):
    """What ``migrate`` reads from: a database today, a sealed package later."""

    display: str
    is_package: bool

    def schema(self) -> list[TableDef]:
        """Every table to copy, referenced tables before their referrers."""
        ...

    def count(self, table: TableDef) -> int:
        """The exact number of rows in ``table``."""
        ...

    def resume_key(self, table: TableDef) -> tuple[str, ...]:
        """Columns that order ``table`` uniquely; ``()`` if it can only be copied whole."""
        ...

    def read(self, table: TableDef, *, after: Key | None, batch_size: int) -> Iterator[SourceBatch]:
        """Batches of ``table`` in key order, starting after ``after`` (None: from the start)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def read_range(
    reader: MigrationSource,
    table: TableDef,
    *,
    after: Key | None,
    limit: int | None,
    batch_size: int,
) -> Iterator[SourceBatch]:
    """Batches of ``table`` in key order after ``after``, ``limit`` rows in all (None: to
    the end): one key range of a table cut into shards. Not one page past the range is
    read; the batch that crosses its end is cut."""
    left = limit
    size = batch_size if limit is None else max(1, min(batch_size, limit))
    for sb in reader.read(table, after=after, batch_size=size):
        if left is not None and sb.data.num_rows >= left:
            n = left
            keys = [k[:n] for k in sb.keys]
            last = tuple(k[n - 1] for k in keys) if keys and n else sb.last_key
            yield SourceBatch(sb.data.slice(0, n), keys, last, n, sb.rejects)
            return
        if left is not None:
            left -= sb.data.num_rows
        yield sb


def mask_key(values: list[Any] | tuple[Any, ...]) -> str:
    """A key safe for the reject file: integers and dates as is, text masked (may be PII)."""
    parts = []
    for v in values:
        if v is None:
            parts.append("NULL")
        elif isinstance(v, bool | int | float | dt.date | dt.datetime | decimal.Decimal):
            parts.append(str(v))
        else:
            s = v.hex() if isinstance(v, bytes | bytearray | memoryview) else str(v)
            parts.append(s[:2] + "*" * (len(s) - 4) + s[-2:] if len(s) > 6 else "*" * len(s))
    return ",".join(parts)


def encode_key(key: Key | None) -> str | None:
    """JSON text of a key, preserving Python types, for the checkpoint tables."""
    if key is None:
        return None
    out: list[Any] = []
    for v in key:
        if isinstance(v, bool) or v is None or isinstance(v, int | float | str):
            out.append(v)
        elif isinstance(v, decimal.Decimal):
            out.append({"decimal": str(v)})
        elif isinstance(v, dt.datetime):
            out.append({"datetime": v.isoformat()})
        elif isinstance(v, dt.date):
            out.append({"date": v.isoformat()})
        elif isinstance(v, bytes | bytearray | memoryview):
            out.append({"bytes": bytes(v).hex()})
        else:
            out.append({"text": str(v)})
    return json.dumps(out, ensure_ascii=False)


def decode_key(text: str | None) -> Key | None:
    """The inverse of :func:`encode_key`."""
    if text is None:
        return None
    out: list[Any] = []
    for v in json.loads(text):
        if isinstance(v, dict):
            ((tag, raw),) = v.items()
            if tag == "decimal":
                out.append(decimal.Decimal(raw))
            elif tag == "datetime":
                out.append(dt.datetime.fromisoformat(raw))
            elif tag == "date":
                out.append(dt.date.fromisoformat(raw))
            elif tag == "bytes":
                out.append(bytes.fromhex(raw))
            else:
                out.append(raw)
        else:
            out.append(v)
    return tuple(out)


#: how a migration's target that does not answer is told (source: same, ``role.source``)
TARGET = Wording("migrate.bad_url", "migrate.unreachable", {"role": Msg("migrate.role.target")})
SOURCE = Wording("migrate.bad_url", "migrate.unreachable", {"role": Msg("migrate.role.source")})


class DatabaseSource:
    """A SQLite, PostgreSQL or MySQL/MariaDB database: reflected with SQLAlchemy, read in
    key order through ``handover.sources``, converted to the declared types here."""

    is_package = False

    def __init__(
        self, spec: str | Path, tables: list[str] | None = None, *, spellings: bool = True
    ) -> None:
        from handover.sources import open_source
        from handover.sources.sql import SqlSource

        s = str(spec)
        if not is_url(s) and not Path(s).is_file():
            raise BadInput.msg("migrate.no_source_file", path=s)
        self.url = to_url(spec)
        self.display = mask(self.url)
        self._only = tables
        self._spellings = spellings
        self._schema: list[TableDef] | None = None
        reader = open_source(self.url, wording=SOURCE)
        if not isinstance(reader, SqlSource):  # open_source maps every database URL to one
            reader.close()
            raise BadInput.msg("migrate.not_database", source=self.display)
        self.reader: SqlSource = reader
        #: the reader's engine: the database is opened once
        self.engine = reader.engine
        self.family = family(self.engine.dialect.name)

    def schema(self) -> list[TableDef]:
        """Reflected tables (SQLAlchemy Inspector), in FK dependency order."""
        if self._schema is None:
            self._schema = reflect(self.engine, self._only, spellings=self._spellings)
        return self._schema

    def count(self, table: TableDef) -> int:
        """``SELECT count(*)`` of ``table``."""
        return self.reader.count(table.name)

    def resume_key(self, table: TableDef) -> tuple[str, ...]:
        """The paging key: SQLite's rowid where there is one (a sequential scan, even for
        composite keys), else the primary key, else a NOT NULL unique key, else ``()``."""
        pk = table.primary_key
        row_id = self.reader.sql.row_id
        if row_id is not None and row_id not in table.column_names:
            if len(pk) == 1 and table.column(pk[0]).autoincrement:
                return pk  # INTEGER PRIMARY KEY is the rowid itself
            if self._has_rowid(table):
                return (row_id,)
        if pk:
            return pk
        for u in table.uniques:
            if all(not table.column(c).nullable for c in u.columns):
                return u.columns
        return ()

    def _has_rowid(self, table: TableDef) -> bool:
        from handover.sources.sqlite import SqliteSource

        return isinstance(self.reader, SqliteSource) and self.reader.has_rowid(table.name)

    def _as_text(self, col: ColumnDef) -> bool:
        """Columns the database hands over as text (then parsed by Arrow, or kept as text)."""
        return self.reader.sql.asks_text(col)

    def read(self, table: TableDef, *, after: Key | None, batch_size: int) -> Iterator[SourceBatch]:
        """Batches in key order after ``after`` (one keyset page each); the whole table in
        storage order if it has no key."""
        key = self.resume_key(table)
        names = table.column_names
        # rows() appends the key columns that are not table columns (SQLite's rowid).
        extra = [k for k in key if k not in names]
        key_idx = [names.index(k) if k in names else len(names) + extra.index(k) for k in key]
        # Rejects are reported by primary key when there is one, else by the paging key.
        report_idx = [names.index(k) for k in table.primary_key] or key_idx
        if self.reader.sql.builds_text_pages:
            # Each row arrives as one CSV line rendered by the server, parsed by Arrow.
            from handover.sources.server import SqlAlchemySource

            assert isinstance(self.reader, SqlAlchemySource)
            for page, last in self.reader.text_pages(
                table.name, names, order_by=key, after=after, batch_size=batch_size
            ):
                yield convert_text(page, table, report_idx, last)
            return
        pages = self.reader.rows(
            table.name,
            names,
            as_text=[c.name for c in table.columns if self._as_text(c)],
            order_by=key,
            after=after,
            batch_size=batch_size,
        )
        reals = self.reader.reals(table.name, names)
        for rows in pages:
            last = page_key(rows, -1, key_idx) if key else None
            yield convert_rows(rows, table, self.family, report_idx, last, reals)

    def close(self) -> None:
        """Close the reader's connections."""
        self.reader.close()


# --- rows → Arrow ---------------------------------------------------------------------

_ARROW_ERRORS = (
    pa.ArrowInvalid,
    pa.ArrowTypeError,
    pa.ArrowNotImplementedError,
    OverflowError,
    TypeError,
    ValueError,
)


def convert_rows(
    rows: Page,
    table: TableDef,
    fam: str,
    key_idx: list[int],
    last_key: Key | None,
    reals: list[bool] | None = None,
) -> SourceBatch:
    """DB-API rows (or the driver's Arrow columns) → one typed RecordBatch, column by
    column; misfits become rejects.

    ``key_idx`` are the positions of the key reported for each row (rejects); ``reals``
    says per column whether it may hold a REAL (:meth:`SqlSource.reals`).
    """
    n = len(rows)
    d = dialects.get(fam)
    if isinstance(rows, ArrowRows):
        fast = _from_arrow(rows, table, d, key_idx, reals)
        if fast is not None:
            return _assemble(fast[0], table, fast[1], n, last_key)
        rows = rows.rows()  # a column's type leaves doubt: its values as the driver gives them
    cols = list(zip(*rows, strict=True)) if n else [() for _ in range(len(table.columns))]
    converted = [_column(cols[i], col, d) for i, col in enumerate(table.columns)]
    keys = [list(cols[i]) for i in key_idx]
    return _assemble(converted, table, keys, n, last_key)


def _from_arrow(
    rows: ArrowRows, table: TableDef, d: Dialect, key_idx: list[int], reals: list[bool] | None
) -> tuple[list[tuple[pa.Array, dict[int, str]]], list[list[Any]]] | None:
    """The columns and keys :func:`convert_rows` makes of the same values, straight from
    Arrow; None where a column's Arrow type does not pin its values down (the driver
    widens an INTEGER among REALs to a double) or its conversion has misfits to name."""
    converted = []
    for i, col in enumerate(table.columns):
        arr = rows.exact(i, reals=reals[i] if reals is not None else True)
        got = None if arr is None else _arrow_column(arr, col, d)
        if got is None:
            return None
        converted.append(got)
    keys = []
    for i in key_idx:
        arr = rows.column(i)
        if not pa.types.is_integer(arr.type):
            return None  # 1.0 or "1" may have been the integer 1: reported as stored
        keys.append(arr.to_pylist())
    return converted, keys


def _arrow_column(
    arr: pa.Array, col: ColumnDef, d: Dialect
) -> tuple[pa.Array, dict[int, str]] | None:
    """What :func:`_column` gives for the values of ``arr`` (faithful to them:
    :meth:`ArrowRows.exact`), where its type settles the conversion: text, integers,
    doubles. None otherwise (time of day, a double where integers are declared, any
    cast that fails: the values then go through :func:`_column`)."""
    typ = col.arrow_type
    k = col.kind
    t = arr.type
    try:
        if arr.null_count == len(arr):
            return _column((None,) * len(arr), col, d)
        if k == "time" or t not in (pa.string(), pa.int64(), pa.float64()):
            return None
        text = k in d.text_kinds or d.asks_text(col) or k in ("json", "uuid")
        if (col.stored_text or text or pa.types.is_string(typ)) and t == pa.int64():
            arr, t = pc.cast(arr, pa.string()), pa.string()  # str() of each, as _array does
        if col.stored_text:
            return _spelt(arr, col) if t == pa.string() else None
        if k == "bool":
            fits = pc.or_(pc.is_null(arr), pc.is_in(arr, value_set=pa.array([0, 1])))
            if t != pa.int64() or not pc.all(fits).as_py():
                return None
            return pc.cast(arr, pa.bool_()), {}
        if not d.typed and k == "decimal" and col.precision is not None:
            if t == pa.string():
                return pc.cast(arr, typ), {}
            if t == pa.int64():  # as sqlite3's ints go: through doubles, exact below 2**53
                if pc.max(pc.abs_checked(arr)).as_py() >= EXACT_INT:
                    return None
                arr = pc.cast(arr, pa.float64())
            if arr.type != pa.float64():
                return None
            scale = int(col.scale or 0)
            if not pc.all(pc.equal(pc.round(arr, scale), arr)).as_py():
                return None  # more places than declared: the rejects are named one by one
            return pc.cast(arr, typ), {}
        if text:
            if t != pa.string():
                return None
            return (arr, {}) if pa.types.is_string(typ) else _cast(arr, typ, {}, col)
        if t == typ:
            return arr, {}
        if t == pa.int64() and pa.types.is_integer(typ):
            return pc.cast(arr, typ), {}  # safe: one that does not fit raises
    except _ARROW_ERRORS:
        return None
    return None


def convert_text(
    page: pa.Table, table: TableDef, key_idx: list[int], last_key: Key | None
) -> SourceBatch:
    """A page of server text (:meth:`SqlAlchemySource.text_pages`) → one typed RecordBatch;
    values that do not parse as their declared type become rejects, as in convert_rows."""
    n = page.num_rows
    raw = [_combined(page.column(i)) for i in range(len(table.columns))]
    converted = [_text_column(raw[i], col) for i, col in enumerate(table.columns)]
    keys = []
    for i in key_idx:
        typed = converted[i][0]
        vals = typed.to_pylist()
        if typed.null_count:  # a key that did not parse is reported as the server wrote it
            vals = [
                t if t is not None else r for t, r in zip(vals, raw[i].to_pylist(), strict=True)
            ]
        keys.append(vals)
    return _assemble(converted, table, keys, n, last_key)


def _assemble(
    converted: list[tuple[pa.Array, dict[int, str]]],
    table: TableDef,
    keys: list[list[Any]],
    n: int,
    last_key: Key | None,
) -> SourceBatch:
    """Typed columns → a SourceBatch without the rows any column rejected."""
    bad: dict[int, str] = {}  # row index → first bad column name
    reasons: dict[int, str] = {}
    arrays: list[pa.Array] = []
    for (arr, bad_rows), col in zip(converted, table.columns, strict=True):
        for r, why in bad_rows.items():
            if r not in bad:
                bad[r] = col.name
                reasons[r] = why
        arrays.append(arr)
    rejects: list[Reject] = []
    if bad:
        keep = [r not in bad for r in range(n)]
        mask = pa.array(keep)
        arrays = [a.filter(mask) for a in arrays]
        for r in sorted(bad):
            rejects.append(
                Reject(table.name, mask_key([k[r] for k in keys]), bad[r], reasons[r], "read")
            )
        keys = [[v for v, ok in zip(k, keep, strict=True) if ok] for k in keys]
    data = pa.RecordBatch.from_arrays(arrays, schema=table.arrow_schema)
    return SourceBatch(data, keys, last_key, n, rejects)


def _column(values: tuple[Any, ...], col: ColumnDef, d: Dialect) -> tuple[pa.Array, dict[int, str]]:
    typ = col.arrow_type
    k = col.kind
    if col.stored_text:
        return _stored_text(values, col)
    if k == "time":
        return _time_column(values)
    if k == "bool":
        return _bool_column(values)
    if not d.typed and k == "decimal" and col.precision is not None:
        return _sqlite_decimal(values, col)
    text_first = k in d.text_kinds or d.asks_text(col) or k in ("json", "uuid")
    if text_first:
        strings, bad = _array(values, pa.string(), col)
        if pa.types.is_string(typ):
            return strings, bad
        return _cast(strings, typ, bad, col)
    return _array(values, typ, col)


def _stored_text(values: tuple[Any, ...], col: ColumnDef) -> tuple[pa.Array, dict[int, str]]:
    """A SQLite date/time column: its stored text, unchanged; a value that is no valid
    date/time (or not text: SQLite's dynamic typing) makes its row a reject."""
    strings, bad = _array(values, pa.string(), col)
    return _spelt(strings, col, bad)


def _spelt(
    strings: pa.Array, col: ColumnDef, bad: dict[int, str] | None = None
) -> tuple[pa.Array, dict[int, str]]:
    """``strings`` with each that is no valid date/time of ``col`` a reject."""
    bad = {} if bad is None else bad
    for i in spelling.parse(strings, col.kind)[1]:
        bad.setdefault(i, f"not a valid {col.declared or col.kind} (date/time)")
    return strings, bad


def _combined(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _text_column(arr: pa.Array, col: ColumnDef) -> tuple[pa.Array, dict[int, str]]:
    """One column of server text (blobs already bytes) → its declared type."""
    typ = col.arrow_type
    k = col.kind
    if pa.types.is_binary(arr.type):
        return (arr if arr.type == typ else pc.cast(arr, typ)), {}
    if k == "time":
        return _time_column(tuple(arr.to_pylist()))
    if k == "bool":
        ints, bad = _cast(arr, pa.int64(), {}, col)
        fits = pc.or_(pc.is_null(ints), pc.is_in(ints, value_set=pa.array([0, 1], pa.int64())))
        if not pc.all(fits).as_py():
            for i in np.flatnonzero(~fits.to_numpy(zero_copy_only=False)):
                bad.setdefault(int(i), "not a boolean (only 0/1/true/false)")
            ints = pc.if_else(fits, ints, pa.scalar(None, pa.int64()))
        return pc.cast(ints, pa.bool_()), bad
    if pa.types.is_string(typ):
        return arr, {}
    if k == "float32":  # as the driver did: the text as a double, then rounded to float32
        doubles, bad = _cast(arr, pa.float64(), {}, col)
        return pc.cast(doubles, typ), bad
    return _cast(arr, typ, {}, col)


def _array(
    values: tuple[Any, ...], typ: pa.DataType, col: ColumnDef
) -> tuple[pa.Array, dict[int, str]]:
    try:
        return pa.array(values, type=typ), {}
    except _ARROW_ERRORS:
        pass
    # Slow path, only for a batch holding misfits: find them one by one.
    fixed: list[Any] = []
    bad: dict[int, str] = {}
    for i, v in enumerate(values):
        if pa.types.is_string(typ) and isinstance(v, int | float) and not isinstance(v, bool):
            v = str(v)  # SQLite numeric affinity: the text form is the value
        try:
            pa.array([v], type=typ)
            fixed.append(v)
        except _ARROW_ERRORS:
            fixed.append(None)
            if isinstance(v, str) and col.kind in ("date", "timestamp", "timestamptz"):
                # PostgreSQL's infinity, BC and after-9999 values (loaded as their text)
                bad[i] = f"{col.declared or col.kind} outside the years 1-9999 (infinity, BC…)"
            else:
                bad[i] = f"value does not fit {col.declared or col.kind} ({type(v).__name__})"
    return pa.array(fixed, type=typ), bad


def _cast(
    arr: pa.Array, typ: pa.DataType, bad: dict[int, str], col: ColumnDef
) -> tuple[pa.Array, dict[int, str]]:
    target = pa.timestamp("us") if col.kind == "timestamptz" else typ
    try:
        out = pc.cast(arr, target)
    except _ARROW_ERRORS:
        vals = arr.to_pylist()
        fixed: list[Any] = []
        for i, v in enumerate(vals):
            try:
                fixed.append(pc.cast(pa.array([v], pa.string()), target)[0].as_py())
            except _ARROW_ERRORS:
                fixed.append(None)
                what = (
                    "decimal places or digits"
                    if col.kind == "decimal"
                    else "date/time"
                    if col.kind in ("date", "timestamp", "timestamptz")
                    else "number"
                )
                bad[i] = f"not a valid {col.declared or col.kind} ({what})"
        out = pa.array(fixed, type=target)
    if col.kind == "timestamptz":
        out = pc.cast(out, typ)  # SQLite stores UTC text without a zone
    return out, bad


def _sqlite_decimal(values: tuple[Any, ...], col: ColumnDef) -> tuple[pa.Array, dict[int, str]]:
    """SQLite keeps DECIMAL(p,s) as TEXT, INTEGER or REAL: convert without rounding.

    A REAL is accepted when rounding it to ``s`` places gives the same double (it was
    written with at most ``s`` places); one with more places becomes a reject.
    """
    typ = col.arrow_type
    scale = int(col.scale or 0)
    try:
        return pc.cast(pa.array(values, type=pa.string()), typ), {}
    except _ARROW_ERRORS:
        pass
    try:
        floats = pa.array(values, type=pa.float64())
        exact = pc.equal(pc.round(floats, scale), floats)
        if pc.all(pc.or_kleene(exact, pc.is_null(floats))).as_py():
            return pc.cast(floats, typ), {}
    except _ARROW_ERRORS:
        pass
    # Mixed storage classes in one batch: one value at a time, only here.
    texts: list[str | None] = []
    for v in values:
        if v is None or isinstance(v, str):
            texts.append(v)
        elif isinstance(v, bool | int):
            texts.append(str(v))
        elif isinstance(v, float):
            texts.append(f"{v:.{scale}f}" if round(v, scale) == v else repr(v))
        else:
            texts.append("not a number")
    return _cast(pa.array(texts, type=pa.string()), typ, {}, col)


def _bool_column(values: tuple[Any, ...]) -> tuple[pa.Array, dict[int, str]]:
    try:
        return pa.array(values, type=pa.bool_()), {}
    except _ARROW_ERRORS:
        pass
    bad: dict[int, str] = {}
    fixed: list[Any] = []
    for i, v in enumerate(values):
        if v is None or (v in (0, 1) and not isinstance(v, float | str)):
            fixed.append(None if v is None else bool(v))
        else:
            fixed.append(None)
            bad[i] = "not a boolean (only 0/1/true/false)"
    return pa.array(fixed, type=pa.bool_()), bad


_TIME = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$")


def _time_column(values: tuple[Any, ...]) -> tuple[pa.Array, dict[int, str]]:
    # TIME is rare in loan books; drivers disagree (time, timedelta, text), so one loop.
    micros: list[int | None] = []
    bad: dict[int, str] = {}
    for i, v in enumerate(values):
        if v is None:
            micros.append(None)
        elif isinstance(v, dt.time):
            micros.append(((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond)
        elif isinstance(v, dt.timedelta) and dt.timedelta(0) <= v < dt.timedelta(days=1):
            micros.append(v.days * 86_400_000_000 + v.seconds * 1_000_000 + v.microseconds)
        elif isinstance(v, str) and (m := _TIME.match(v)) and int(m[1]) < 24:
            frac = int((m[4] or "0").ljust(6, "0"))
            micros.append(((int(m[1]) * 60 + int(m[2])) * 60 + int(m[3])) * 1_000_000 + frac)
        else:
            micros.append(None)
            bad[i] = "not a valid time of day"
    return pa.array(micros, type=pa.int64()).cast(pa.time64("us")), bad
